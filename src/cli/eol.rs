//! `git regraft eol`: end a branch's life, keeping its last commit under a tag.

use std::process::ExitCode;

use regraft::replace;
use regraft::repo::Repo;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft eol stable/liberty
  git regraft eol stable/liberty --execute --yes";

/// End of life: tag `<series>-eol` at the branch's tip, push and verify it, delete the branch
///
/// Without --execute, prints every step and changes nothing. The deletion is a
/// compare-and-swap push: if the branch moved since the plan was made, nothing is deleted.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch on the remote (e.g. stable/liberty)
    #[arg(required_unless_present_any = ["resume", "abort"])]
    branch: Option<String>,
    /// The tag [default: <series>-eol]
    #[arg(long, value_name = "NAME")]
    tag: Option<String>,
    /// The remote
    #[arg(long, default_value = "origin")]
    remote: String,
    /// A Gerrit server whose open reviews on the branch are abandoned before the branch is deleted
    /// [default: git config regraft.gerrit]
    #[arg(long, value_name = "URL")]
    gerrit: Option<String>,
    /// The Gerrit project [default: the path of the remote's URL]
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// Do it (after confirmation on a terminal, or with --yes)
    #[arg(long)]
    execute: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    yes: bool,
    /// Print the plan as JSON
    #[arg(long)]
    json: bool,
    /// Resume an interrupted operation
    #[arg(long = "continue", conflicts_with = "abort")]
    resume: bool,
    /// Put the branch back and drop the operation (the tag stays)
    #[arg(long)]
    abort: bool,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?).map_err(CommandError::user)?;
    if args.resume || args.abort {
        return super::surgery::resume_or_abort(ui, &repo, args.abort);
    }
    let branch = args.branch.expect("clap requires BRANCH");
    let review = super::abandon::review_target(&repo, args.gerrit, args.project, &args.remote)?;
    let plan =
        replace::plan_eol(&repo, &args.remote, &branch, args.tag.as_deref(), review.as_ref())
            .map_err(super::replace::replace_error)?;
    super::surgery::dry_run_or_execute(ui, &repo, plan, args.execute, args.yes, args.json)
}
