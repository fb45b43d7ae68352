//! `git regraft eol`: end a branch's life, keeping its last commit under a tag.

use std::process::ExitCode;

use regraft::git::repo::Repo;
use regraft::surgery::replace;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft eol stable/liberty
  git regraft eol stable/liberty --execute --yes
  git regraft eol stable/liberty --review-host github --project example/sample
  git regraft eol stable/liberty --execute --timeout 120   # a slow review host
  git regraft eol stable/liberty --plan-out eol.json && git regraft eol --plan \\
      eol.json --execute";

/// End of life: tag `<series>-eol` at the branch's tip, push and verify it, delete the branch
///
/// Without --execute, prints every step and changes nothing. The deletion is a
/// compare-and-swap push: if the branch moved since the plan was made, nothing is deleted.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch on the remote (e.g. stable/liberty)
    #[arg(required_unless_present_any = ["resume", "abort", "plan"])]
    branch: Option<String>,
    /// The tag [default: <series>-eol]
    #[arg(long, value_name = "NAME")]
    tag: Option<String>,
    #[command(flatten)]
    common: super::surgery::SurgeryArgs,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    let c = args.common;
    if let Some(finish) = c.finish() {
        return super::surgery::resume_or_abort(ui, &repo, &c.timeout.connector(ui), finish);
    }
    super::status::refuse_if_in_progress(&repo)?;
    if let Some(path) = &c.plan {
        return super::surgery::saved(ui, &repo, path, &c);
    }
    let branch = args.branch.expect("clap requires BRANCH");
    let disabled = c.gerrit.as_deref() == Some("none");
    let host = regraft::surgery::review_host::resolve(&repo, &c.given(), &c.remote, &branch)?;
    let (review, forge) = (
        host.as_ref().and_then(|h| h.gerrit().cloned()),
        host.as_ref().and_then(|h| h.forge().cloned()),
    );
    let hosts = c.timeout.connector(ui);
    let mut plan = replace::plan_eol(
        &repo,
        &hosts,
        &c.remote,
        &branch,
        args.tag.as_deref(),
        review.as_ref(),
        forge.as_ref(),
    )?;
    super::surgery::check_forge_rules(ui, &repo, &hosts, &mut plan, forge.as_ref())?;
    if disabled {
        let mut status = |line: &str| ui.status(line);
        plan.notes.extend(regraft::surgery::review_host::gitreview_warning(
            &repo,
            &hosts,
            &c.remote,
            &branch,
            &mut status,
        )?);
    }
    if let Some(path) = &c.plan_out {
        return super::surgery::save(ui, &repo, &plan, path, "eol");
    }
    super::surgery::dry_run_or_execute(ui, &repo, plan, &c)
}
