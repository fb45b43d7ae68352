//! `git regraft abandon` and `git regraft restore`: open reviews on a branch, on Gerrit.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use regraft::git::repo::Repo;
use regraft::review::{
    self, AbandonLog, AbandonRecord, AbandonRecorder, Abandoning, Credentials, Gerrit, HostFactory,
    Named, Outcome, Review, Trust,
};
use regraft::text::visible::{visible, visible_line};

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft abandon stable/liberty --gerrit https://review.opendev.org
  git regraft abandon stable/liberty --gerrit https://review.opendev.org \\
      --execute
  git regraft restore --from-journal --execute";

/// Abandon the open reviews on a branch (Gerrit), as a branch is about to be deleted or recreated
///
/// Without --execute, lists them (anonymously when no credentials are found: a public
/// project's changes can be listed without an account) and changes nothing. With it,
/// abandons each (a review already closed is reported, not an error), asks again until none
/// is left (a review still open after the server said it abandoned it is an error), and
/// adds them to the record `git regraft restore --from-journal` reads. Credentials:
/// REGRAFT_GERRIT_USER and REGRAFT_GERRIT_PASSWORD (for the server you name only), else a
/// user:password@ in the URL (percent-encoded; used by this command only, never shown or
/// stored), else your git credential helper. Never sent over plain http:// unless you allow
/// it for that server: git config regraft.<url>.allowHttp true.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch (e.g. stable/liberty)
    branch: String,
    /// The Gerrit server [default: git config regraft.gerrit, else the one .gitreview on the branch names]
    #[arg(long, value_name = "URL")]
    gerrit: Option<String>,
    /// The Gerrit project [default: .gitreview's on the branch, else the path of the remote's URL]
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// The remote whose URL names the project
    #[arg(long, default_value = "origin")]
    remote: String,
    #[command(flatten)]
    call: CallArgs,
}

/// Restore the reviews that abandon, replace or eol abandoned
///
/// Reads the record of abandoned reviews (every abandon adds to it). Without --execute,
/// lists what it would restore and changes nothing; with it, restores each, goes on after a
/// failure, reports every review it could not restore and keeps those in the record.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  git regraft restore --from-journal\n  git regraft restore --from-journal --branch stable/liberty --execute"
)]
pub struct RestoreArgs {
    /// Restore what is recorded in .git/regraft/abandoned.json
    #[arg(long, required = true)]
    from_journal: bool,
    /// Only the reviews abandoned on this branch
    #[arg(long, value_name = "BRANCH")]
    branch: Option<String>,
    #[command(flatten)]
    call: CallArgs,
}

/// What `abandon` and `restore` both take: how they act on the server.
#[derive(Debug, clap::Args)]
pub struct CallArgs {
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
    #[command(flatten)]
    timeout: super::timeout::TimeoutArgs,
}

fn record_path(repo: &Repo) -> PathBuf {
    AbandonLog::path(&repo.state_dir())
}

/// Turns a review error into the command's error, with its hint.
fn review_error(error: review::ReviewError) -> CommandError {
    let hint = error.hint();
    let error = CommandError::from(error);
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    regraft::git::names::check_branch(&args.branch)?;
    // The same rule as replace's and eol's: --gerrit, git config regraft.gerrit, else the
    // server .gitreview on the branch names; the project by the engine's one rule.
    let given = regraft::surgery::review_host::Given {
        review_host: None,
        gerrit: args.gerrit,
        project: args.project,
    };
    let target =
        regraft::surgery::review_host::resolve_gerrit(&repo, &given, &args.remote, &args.branch)?
            .ok_or_else(|| {
            CommandError::user(anyhow::anyhow!(
                "which Gerrit? give --gerrit URL (or git config regraft.gerrit URL); {} has no .gitreview naming one",
                args.branch
            ))
        })?;
    if let Some(found_in) = &target.found_in {
        ui.status(&format!("{found_in} names {} (project {})", target.gerrit, target.project));
    }
    let (url, project, found_in) = (target.gerrit, target.project, target.found_in);
    let named = Named::from_found_in(found_in.as_deref());
    let timeout = args.call.timeout.duration();
    let credentials = Credentials::lookup(repo.git(), &url, named)?;
    let trust = Trust::find(repo.git(), &url)?;
    let message = args.call.message.unwrap_or_else(|| {
        format!(
            "Abandoned by git regraft: {} is being replaced or ended; the change can be restored.",
            args.branch
        )
    });
    if !args.call.execute {
        // Listing needs no account on a public project: anonymous when none is found.
        let gerrit = Gerrit::with(&url, credentials, timeout)
            .trusting(trust)
            .observed(args.call.timeout.observer(ui));
        ui.status(&format!(
            "asking {url} for the open reviews on {} of {project}{} (at most {}s per answer)",
            args.branch,
            if gerrit.authenticated() { "" } else { ", anonymously" },
            args.call.timeout.timeout
        ));
        let listed =
            review::abandon_all(&gerrit, &project, &args.branch, &message, Abandoning::ListOnly)
                .map_err(review_error)?;
        let reviews: Vec<Review> = listed.into_iter().map(|(r, _)| r).collect();
        if args.call.json {
            super::write_json(ui, &reviews)?;
        } else {
            let mut out = ui.human();
            writeln!(
                out,
                "{} open reviews on {} of {project} at {url}:",
                reviews.len(),
                args.branch
            )?;
            for r in &reviews {
                writeln!(out, "  {} {}", r.number, visible_line(&r.subject))?;
            }
            writeln!(
                out,
                "\nThis was a dry run: nothing changed. Run again with --execute to abandon them."
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let credentials = match credentials {
        Some(credentials) => credentials,
        None => Credentials::find(repo.git(), &url, named)?,
    };
    let gerrit = Gerrit::with(&url, Some(credentials), timeout)
        .trusting(trust)
        .observed(args.call.timeout.observer(ui));
    ui.status(&format!("asking {url} for the open reviews on {} of {project}", args.branch));
    let open =
        review::ReviewHost::open_reviews(&gerrit, &project, &args.branch).map_err(review_error)?;
    super::surgery::confirm(
        &format!("abandon {} reviews on {}", open.len(), args.branch),
        args.call.yes,
    )?;
    // Each review is recorded as the server confirms it, before the next request: a server
    // failing halfway leaves the abandoned ones restorable.
    let began = review::now();
    let mut recorder = AbandonRecorder::new(
        &repo.state_dir(),
        &url,
        &project,
        &args.branch,
        &format!("git regraft abandon {}", args.branch),
    )
    .found_in(found_in);
    let mut recorded = 0usize;
    let done = review::abandon_each(
        &gerrit,
        &project,
        &args.branch,
        &message,
        Abandoning::Execute,
        &mut |r, _| {
            recorder.add(r).map_err(CommandError::internal)?;
            recorded += 1;
            Ok::<(), CommandError>(())
        },
    );
    let by = format!("git regraft abandon {}", args.branch);
    let logged = regraft::surgery::oplog::abandoned_since(&repo, &by, began);
    let mut entry = regraft::surgery::oplog::Entry::new(
        regraft::surgery::oplog::Kind::Abandon,
        &format!("abandon the open reviews on {} of {project}", args.branch),
    );
    entry.reviews = logged;
    regraft::surgery::oplog::append(&repo, entry).map_err(CommandError::internal)?;
    let done = match done {
        Ok(done) => done,
        Err(e) if recorded > 0 => {
            return Err(e.with_hint(format!(
                "the server answered for {recorded} reviews before this; they are recorded in {}, so `git regraft restore --from-journal` can bring them back; run this again for the rest",
                record_path(&repo).display()
            )));
        }
        Err(e) => return Err(e),
    };
    let mut out = ui.human();
    for (r, outcome) in &done {
        match outcome {
            Some(Outcome::AlreadyThere(why)) => {
                writeln!(out, "  {} already closed ({})", r.number, visible_line(&why.to_string()))?
            }
            _ => writeln!(out, "  {} abandoned: {}", r.number, visible_line(&r.subject))?,
        }
    }
    writeln!(
        out,
        "{} reviews abandoned and verified closed; `git regraft restore --from-journal` brings them back.",
        done.len()
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: RestoreArgs, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let _ = args.from_journal;
    let repo = Repo::discover(&super::current_dir()?)?;
    let state = repo.state_dir();
    let log = AbandonLog::load(&state).map_err(CommandError::internal)?;
    let wanted = |r: &AbandonRecord| args.branch.as_deref().is_none_or(|b| b == r.branch);
    let (chosen, others): (Vec<AbandonRecord>, Vec<AbandonRecord>) =
        log.records.into_iter().partition(|r| wanted(r));
    let requests = regraft::surgery::forge_run::closed_records(&repo, args.branch.as_deref())?;
    if !requests.is_empty() {
        reopen_requests(ui, &repo, &args, &requests)?;
        if chosen.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
    }
    if chosen.is_empty() {
        return Err(CommandError::user(anyhow::anyhow!(
            "nothing to restore: {} records no abandoned review{}",
            record_path(&repo).display(),
            args.branch.as_deref().map(|b| format!(" on {b}")).unwrap_or_default()
        )));
    }
    let count: usize = chosen.iter().map(|r| r.reviews.len()).sum();
    if !args.call.execute {
        if args.call.json {
            super::write_json(ui, &chosen)?;
        } else {
            let mut out = ui.human();
            for record in &chosen {
                writeln!(
                    out,
                    "{} reviews on {} of {} at {} (abandoned by {}):",
                    record.reviews.len(),
                    record.branch,
                    record.project,
                    record.gerrit,
                    if record.by.is_empty() { "regraft" } else { &record.by }
                )?;
                for r in &record.reviews {
                    writeln!(out, "  {} {}", r.number, visible_line(&r.subject))?;
                }
            }
            writeln!(
                out,
                "\nThis was a dry run: nothing changed. Run again with --execute to restore them."
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    super::surgery::confirm(&format!("restore {count} reviews"), args.call.yes)?;
    let hosts = args.call.timeout.connector(ui);
    let mut kept = others;
    let mut failed = 0usize;
    let mut out = ui.human();
    let mut restored_entry = regraft::surgery::oplog::Entry::new(
        regraft::surgery::oplog::Kind::Restore,
        &format!("restore {count} reviews"),
    );
    for mut record in chosen {
        let gerrit = hosts.gerrit(repo.git(), &record.gerrit, record.named())?;
        ui.status(&format!(
            "asking {} to restore {} reviews on {} of {}",
            record.gerrit,
            record.reviews.len(),
            record.branch,
            record.project
        ));
        let message = args.call.message.clone().unwrap_or_else(|| {
            format!("Restored by git regraft after {} was replaced.", record.branch)
        });
        let mut left = Vec::new();
        for restored in review::restore_all(gerrit.as_ref(), &record.reviews, &message) {
            let r = &restored.review;
            match restored.outcome {
                Ok(Outcome::Done) => {
                    writeln!(out, "  {} restored: {}", r.number, visible_line(&r.subject))?
                }
                Ok(Outcome::AlreadyThere(why)) => writeln!(
                    out,
                    "  {} was not abandoned ({})",
                    r.number,
                    visible_line(&why.to_string())
                )?,
                Err(e) => {
                    writeln!(out, "  {} NOT restored: {}", r.number, visible(&format!("{e:#}")))?;
                    failed += 1;
                    left.push(restored.review);
                }
            }
        }
        let back: Vec<u64> =
            record.reviews.iter().filter(|r| !left.contains(r)).map(|r| r.number).collect();
        if !back.is_empty() {
            restored_entry.reviews.push(regraft::surgery::oplog::ReviewChange {
                server: Some(record.gerrit.clone()),
                project: record.project.clone(),
                branch: record.branch.clone(),
                action: regraft::surgery::oplog::ReviewAction::Restored,
                numbers: back,
                by: record.by.clone(),
                found_in: record.found_in.clone(),
            });
        }
        if !left.is_empty() {
            record.reviews = left;
            kept.push(record);
        }
    }
    AbandonLog { records: kept }.save(&state).map_err(CommandError::internal)?;
    regraft::surgery::oplog::append(&repo, restored_entry).map_err(CommandError::internal)?;
    if failed > 0 {
        return Err(CommandError::internal(anyhow::anyhow!(
            "{failed} of {count} reviews could not be restored; they stay in {}",
            record_path(&repo).display()
        ))
        .with_hint(
            "run `git regraft restore --from-journal --execute` again once the server allows it",
        ));
    }
    writeln!(out, "{count} reviews restored.")?;
    Ok(ExitCode::SUCCESS)
}

/// Lists (dry run) or reopens the pull and merge requests an end of life closed.
fn reopen_requests(
    ui: &Ui,
    repo: &Repo,
    args: &RestoreArgs,
    records: &[regraft::review::forge::RequestRecord],
) -> Result<(), CommandError> {
    let mut out = ui.human();
    for record in records {
        let word = record.host.kind.request_word();
        let closed: Vec<_> = record.requests.iter().filter(|h| h.closed).collect();
        writeln!(
            out,
            "{} {word}s on {} of {} at {} (closed by {}):",
            closed.len(),
            record.branch,
            record.repository,
            record.host,
            visible_line(&record.by)
        )?;
        for held in &closed {
            writeln!(
                out,
                "  {} {}",
                record.host.kind.number(held.request.number),
                visible_line(&held.request.title)
            )?;
        }
    }
    if !args.call.execute {
        writeln!(
            out,
            "\nThis was a dry run: nothing changed. Run again with --execute to reopen them (each branch must exist again: a forge reopens no request whose base branch is gone)."
        )?;
        return Ok(());
    }
    drop(out);
    let count: usize = records.iter().map(|r| r.requests.iter().filter(|h| h.closed).count()).sum();
    super::surgery::confirm(&format!("reopen {count} requests"), args.call.yes)?;
    let hosts = args.call.timeout.connector(ui);
    for record in records {
        ui.status(&visible_line(&format!(
            "asking {} to reopen the requests on {} of {}",
            record.host, record.branch, record.repository
        )));
        let comment = args
            .call
            .message
            .clone()
            .unwrap_or_else(|| format!("Reopened by git regraft: {} is back.", record.branch));
        regraft::surgery::forge_run::reopen_record(repo, &hosts, record, &comment)
            .map_err(super::surgery::operation_error)?;
    }
    writeln!(ui.human(), "{count} requests reopened.")?;
    Ok(())
}
