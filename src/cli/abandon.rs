//! `git regraft abandon` and `git regraft restore`: open reviews on a branch, on Gerrit.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use regraft::repo::Repo;
use regraft::review::{
    self, AbandonRecord, Credentials, Gerrit, GerritUrl, Outcome, Review, ReviewError,
};

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft abandon stable/liberty --gerrit https://review.opendev.org
  git regraft abandon stable/liberty --gerrit https://review.opendev.org --execute
  git regraft restore --from-journal";

/// Abandon the open reviews on a branch (Gerrit), as a branch is about to be deleted or recreated
///
/// Without --execute, lists them and changes nothing. With it, abandons each (a review
/// already closed is reported, not an error), asks again until none is left, and records
/// them so `git regraft restore --from-journal` can bring them back. Credentials:
/// REGRAFT_GERRIT_USER and REGRAFT_GERRIT_PASSWORD, else a user:password@ in the URL
/// (percent-encoded; used by this command only, never shown or stored), else your git
/// credential helper.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch (e.g. stable/liberty)
    branch: String,
    /// The Gerrit server [default: git config regraft.gerrit]
    #[arg(long, value_name = "URL")]
    gerrit: Option<String>,
    /// The Gerrit project [default: the path of the remote's URL]
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// The remote whose URL names the project
    #[arg(long, default_value = "origin")]
    remote: String,
    /// The message left on each review
    #[arg(long, value_name = "TEXT")]
    message: Option<String>,
    /// Do it (after confirmation on a terminal, or with --yes)
    #[arg(long)]
    execute: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    yes: bool,
    /// Print the reviews as JSON
    #[arg(long)]
    json: bool,
}

/// Restore the reviews the last `abandon` abandoned
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git regraft restore --from-journal")]
pub struct RestoreArgs {
    /// Restore what the last `git regraft abandon --execute` recorded
    #[arg(long, required = true)]
    from_journal: bool,
    /// The message left on each review
    #[arg(long, value_name = "TEXT")]
    message: Option<String>,
}

fn record_path(repo: &Repo) -> PathBuf {
    AbandonRecord::path(repo.common_dir())
}

pub fn review_error(e: ReviewError) -> CommandError {
    let user = e.is_user_error();
    CommandError::engine(e, user, None)
}

/// Returns the Gerrit URL from `--gerrit` or `git config regraft.gerrit` (none when neither
/// is set), parsed at once: a `user:password@` in it becomes credentials for this command
/// only, and is shown or stored nowhere.
pub fn gerrit_url(repo: &Repo, given: Option<String>) -> Result<Option<GerritUrl>, CommandError> {
    given
        .or_else(|| config(repo, "regraft.gerrit"))
        .map(|text| GerritUrl::parse(&text).map_err(review_error))
        .transpose()
}

/// Returns the review server to talk to: `--gerrit URL` or `git config regraft.gerrit`
/// (none when neither is set), with the project from `--project` or the remote's URL.
pub fn review_target(
    repo: &Repo,
    gerrit: Option<String>,
    project: Option<String>,
    remote: &str,
) -> Result<Option<regraft::replace::ReviewTarget>, CommandError> {
    let Some(gerrit) = gerrit_url(repo, gerrit)? else { return Ok(None) };
    let project = match project {
        Some(p) => p,
        None => config(repo, &format!("remote.{remote}.url"))
            .map(|u| review::project_of(&u))
            .ok_or_else(|| {
                CommandError::user(anyhow::anyhow!(
                    "no remote `{remote}` to name the Gerrit project; give --project"
                ))
            })?,
    };
    Ok(Some(regraft::replace::ReviewTarget { gerrit, project, rest_branches: false }))
}

/// Returns a git configuration value, if set.
pub fn config(repo: &Repo, key: &str) -> Option<String> {
    let out = repo.git().output(&["config", "--get", key]).ok()?;
    Some(String::from_utf8_lossy(&out).trim().to_string()).filter(|s| !s.is_empty())
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?).map_err(CommandError::user)?;
    regraft::names::check_branch(&args.branch).map_err(CommandError::user)?;
    let url = gerrit_url(&repo, args.gerrit)?.ok_or_else(|| {
        CommandError::user(anyhow::anyhow!(
            "which Gerrit? give --gerrit URL (or git config regraft.gerrit URL)"
        ))
    })?;
    let project = match args.project {
        Some(p) => p,
        None => config(&repo, &format!("remote.{}.url", args.remote))
            .map(|u| review::project_of(&u))
            .ok_or_else(|| {
                CommandError::user(anyhow::anyhow!(
                    "no remote `{}` to name the project; give --project",
                    args.remote
                ))
            })?,
    };
    let credentials = Credentials::find(repo.git(), &url).map_err(review_error)?;
    let gerrit = Gerrit::new(&url, credentials);
    let message = args.message.unwrap_or_else(|| {
        format!(
            "Abandoned by git regraft: {} is being replaced or ended; the change can be restored.",
            args.branch
        )
    });
    let listed = review::abandon_all(&gerrit, &project, &args.branch, &message, true)
        .map_err(review_error)?;
    let reviews: Vec<Review> = listed.into_iter().map(|(r, _)| r).collect();
    if !args.execute {
        if args.json {
            super::write_json(ui, &reviews)?;
        } else {
            let mut out = ui.out();
            writeln!(
                out,
                "{} open reviews on {} of {project} at {url}:",
                reviews.len(),
                args.branch
            )?;
            for r in &reviews {
                writeln!(out, "  {} {}", r.number, r.subject)?;
            }
            writeln!(
                out,
                "\nThis was a dry run: nothing changed. Run again with --execute to abandon them."
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    super::surgery::confirm(
        &format!("abandon {} reviews on {}", reviews.len(), args.branch),
        args.yes,
    )?;
    let done = review::abandon_all(&gerrit, &project, &args.branch, &message, false)
        .map_err(review_error)?;
    let record = AbandonRecord {
        gerrit: url.clone(),
        project: project.clone(),
        branch: args.branch.clone(),
        reviews: done.iter().map(|(r, _)| r.clone()).collect(),
    };
    record.save(repo.common_dir()).map_err(CommandError::internal)?;
    let mut out = ui.out();
    for (r, outcome) in &done {
        match outcome {
            Some(Outcome::AlreadyThere(why)) => {
                writeln!(out, "  {} already closed ({why})", r.number)?
            }
            _ => writeln!(out, "  {} abandoned: {}", r.number, r.subject)?,
        }
    }
    writeln!(
        out,
        "{} reviews abandoned; `git regraft restore --from-journal` brings them back.",
        done.len()
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: RestoreArgs, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let _ = args.from_journal;
    let repo = Repo::discover(&super::current_dir()?).map_err(CommandError::user)?;
    let path = record_path(&repo);
    let text = std::fs::read(&path).map_err(|_| {
        CommandError::user(anyhow::anyhow!("nothing to restore: no {}", path.display()))
    })?;
    let record: AbandonRecord = serde_json::from_slice(&text).map_err(CommandError::internal)?;
    let credentials = Credentials::find(repo.git(), &record.gerrit).map_err(review_error)?;
    let gerrit = Gerrit::new(&record.gerrit, credentials);
    let message = args.message.unwrap_or_else(|| {
        format!("Restored by git regraft after {} was replaced.", record.branch)
    });
    let mut out = ui.out();
    for review in &record.reviews {
        match review::ReviewHost::restore(&gerrit, review, &message).map_err(review_error)? {
            Outcome::Done => writeln!(out, "  {} restored: {}", review.number, review.subject)?,
            Outcome::AlreadyThere(why) => {
                writeln!(out, "  {} was not abandoned ({why})", review.number)?
            }
        }
    }
    std::fs::remove_file(&path).map_err(CommandError::internal)?;
    Ok(ExitCode::SUCCESS)
}
