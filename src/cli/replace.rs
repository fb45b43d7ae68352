//! `git regraft replace`: replace a stable branch on the remote, safely.

use std::process::ExitCode;

use regraft::git::repo::Repo;
use regraft::surgery::replace::{self, ReplaceRequest, Strategy};

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft replace stable/liberty --from origin/stable/mitaka --strategy \\
      merge
  git regraft replace stable/liberty --from f10a625a --strategy recreate \\
      --execute
  git regraft replace stable/liberty --from origin/stable/mitaka --strategy \\
      recreate --review-host github --project example/sample
  git regraft replace stable/liberty --from origin/stable/mitaka --strategy \\
      megapatch --for-review
  git regraft replace stable/liberty --from origin/stable/mitaka --strategy \\
      merge --plan-out liberty.json
  git regraft replace --plan liberty.json --execute
  git regraft replace --continue --timeout 120   # a slow review host";

/// Replace a branch on the remote by SOURCE: megapatch, merge, recreate or reset
///
/// Always first (but for backport, which replaces nothing and tags nothing): fetch the
/// branch's tip, tag it (default `<series>-early-demise`), push the tag and verify it on the
/// remote. Then the strategy's steps, each a compare-and-swap push
/// that changes nothing if the remote moved since the plan was made. Without --execute,
/// prints every step (the exact git command, what must hold before, how it is verified)
/// and changes nothing. For the staged backport, see `git regraft backport`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch on the remote (e.g. stable/liberty)
    #[arg(required_unless_present_any = ["resume", "abort", "plan"])]
    branch: Option<String>,
    /// The commit the branch becomes, or whose tree it takes (e.g. origin/stable/mitaka)
    #[arg(long = "from", value_name = "SOURCE", required_unless_present_any = ["resume", "abort", "plan"])]
    source: Option<String>,
    /// How to replace it
    #[arg(
        long,
        value_parser = strategy_parser(),
        required_unless_present_any = ["resume", "abort", "plan"]
    )]
    strategy: Option<Strategy>,
    /// The tag that keeps the old tip [default: <series>-early-demise]
    #[arg(long, value_name = "NAME")]
    tag: Option<String>,
    /// With megapatch or merge: push the commit (and follow-ups) for review instead of
    /// straight to the branch, which then moves when the review merges
    #[arg(long)]
    for_review: bool,
    /// With --strategy backport or --for-review: where to push for review
    /// [default: refs/for/<BRANCH>]
    #[arg(long, value_name = "REF")]
    review_ref: Option<String>,
    /// Delete and create the branch through Gerrit's REST API instead of pushes (for a team
    /// without push rights for deleting references; with --gerrit)
    #[arg(long, requires = "gerrit")]
    gerrit_rest: bool,
    /// A small patch to cherry-pick on top afterwards and push in the same plan (repeatable)
    #[arg(long = "followup", value_name = "REV")]
    followups: Vec<String>,
    #[command(flatten)]
    common: super::surgery::SurgeryArgs,
}

/// Reads `--strategy` as the engine's own `Strategy` (one enum for the command line,
/// playbooks and the engine); clap lists the names in `--help` and its errors.
fn strategy_parser() -> impl clap::builder::TypedValueParser<Value = Strategy> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Strategy::ALL.map(Strategy::name))
        .map(|name| Strategy::from_name(&name).expect("clap checked it is one of the names"))
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
    let strategy = args.strategy.expect("clap requires --strategy");
    let request = ReplaceRequest {
        branch: args.branch.expect("clap requires BRANCH"),
        source: args.source.expect("clap requires --from"),
        source_name: None,
        strategy,
        tag: args.tag,
        remote: c.remote.clone(),
        followups: args.followups,
        review: None,
        forge: None,
        review_ref: args.review_ref.clone(),
        for_review: args.for_review,
    };
    let disabled = c.gerrit.as_deref() == Some("none");
    let host =
        regraft::surgery::review_host::resolve(&repo, &c.given(), &c.remote, &request.branch)?;
    let review = host.as_ref().and_then(|h| h.gerrit().cloned());
    let request = ReplaceRequest {
        review: review.map(|t| regraft::surgery::replace::ReviewTarget {
            rest_branches: args.gerrit_rest,
            ..t
        }),
        forge: host.as_ref().and_then(|h| h.forge().cloned()),
        ..request
    };
    let hosts = c.timeout.connector(ui);
    let mut plan = replace::plan_replace(&repo, &hosts, &request)?;
    super::surgery::check_forge_rules(ui, &repo, &hosts, &mut plan, request.forge.as_ref())?;
    if disabled && matches!(strategy, Strategy::Recreate | Strategy::Reset) {
        let mut status = |line: &str| ui.status(line);
        plan.notes.extend(regraft::surgery::review_host::gitreview_warning(
            &repo,
            &hosts,
            &c.remote,
            &request.branch,
            &mut status,
        )?);
    }
    if let Some(path) = &c.plan_out {
        return super::surgery::save(ui, &repo, &plan, path, "replace");
    }
    let result = super::surgery::dry_run_or_execute(ui, &repo, plan, &c);
    result.map_err(|e| match (strategy, &e.hint) {
        (Strategy::Reset, None) => e.with_hint(
            "a server that refuses non-fast-forward pushes refuses reset: run `git regraft replace --abort`, then plan again with --strategy recreate",
        ),
        _ => e,
    })
}
