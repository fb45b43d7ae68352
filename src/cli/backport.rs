//! `git regraft backport`: predict every pick, then apply them in stages.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use regraft::backport::{
    self, BackportError, BackportOptions, BackportPlan, Selection, StepOutcome,
};
use regraft::deps::DepsOptions;
use regraft::repo::Repo;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft backport --dry-run stable/liberty stable/mitaka
  git regraft backport --dry-run stable/liberty stable/mitaka --for 1524f0dd1e --json
  git rev-list --reverse A..B | git regraft backport --dry-run --stdin stable/liberty";

/// Predict a staged backport of SOURCE's commits onto TARGET
///
/// Simulates every cherry-pick in memory first (the merge `git cherry-pick` would do, by
/// `git merge-tree`, writing nothing to the repository): clean, empty, or conflict with the
/// files. Commits already on TARGET (any evidence of `delta`) are left out and listed.
/// What to pick: the whole delta, the closure of --for commits (as `deps --for`), or exactly
/// the commits given on standard input with --stdin, in that order.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch to backport onto (e.g. stable/liberty); never moved
    target: String,
    /// Where the commits come from (e.g. stable/mitaka)
    source: Option<String>,
    /// Pick these commits and what they need (repeatable)
    #[arg(long = "for", value_name = "REV", conflicts_with = "stdin")]
    wanted: Vec<String>,
    /// Pick exactly the commits listed on standard input, in that order
    #[arg(long)]
    stdin: bool,
    /// Simulate only; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Also pick commits already on TARGET
    #[arg(long)]
    include_present: bool,
    /// At most N picks per stage
    #[arg(long, value_name = "N", default_value_t = 25)]
    stage_size: usize,
    /// Print the plan as JSON (schema in docs/backport.md)
    #[arg(long)]
    json: bool,
    /// List every step
    #[arg(short, long)]
    verbose: bool,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?).map_err(CommandError::user)?;
    let selection = if args.stdin {
        let mut specs = Vec::new();
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            let spec = line.split_whitespace().next().unwrap_or_default();
            if !spec.is_empty() {
                specs.push(spec.to_string());
            }
        }
        Selection::List(specs)
    } else if !args.wanted.is_empty() {
        Selection::Closure(args.wanted.clone())
    } else {
        Selection::Delta
    };
    let options = BackportOptions {
        selection,
        include_present: args.include_present,
        stage_size: args.stage_size,
        deps: DepsOptions::default(),
    };
    if !args.dry_run {
        return Err(CommandError::user(anyhow::anyhow!(
            "applying a backport is not available yet; this version predicts it"
        ))
        .with_hint("add --dry-run to see every pick's outcome"));
    }
    let progress = super::progress::Bar::new();
    let plan = backport::plan(&repo, &args.target, args.source.as_deref(), &options, &progress)
        .map_err(backport_error)?;
    if args.json {
        super::write_json(ui, &plan)?;
    } else {
        render(ui, &args.target, &plan, args.verbose)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn backport_error(error: BackportError) -> CommandError {
    if error.is_user_error() { CommandError::user(error) } else { CommandError::internal(error) }
}

/// Writes the prediction: counts, stages, conflicts, and with `verbose` every step.
pub fn render(ui: &Ui, target: &str, plan: &BackportPlan, verbose: bool) -> std::io::Result<()> {
    let mut out = ui.out();
    let [clean, empty, conflict, present] = plan.counts();
    writeln!(
        out,
        "backport onto {target} ({}): {} commits; {clean} clean, {empty} empty, {conflict} conflict, {present} already there",
        plan.onto.short(),
        plan.steps.len()
    )?;
    writeln!(out, "{} stages; final tree {}", plan.stages.len(), plan.final_tree.short())?;
    let conflicts: Vec<_> =
        plan.steps.iter().filter(|s| s.outcome == StepOutcome::Conflict).collect();
    if !conflicts.is_empty() {
        writeln!(out)?;
        writeln!(out, "would conflict:")?;
        for step in conflicts.iter().take(if verbose { usize::MAX } else { 10 }) {
            writeln!(
                out,
                "  ! {} {}  ({})",
                step.commit.short(),
                step.summary,
                step.conflicts.join(", ")
            )?;
        }
        if !verbose && conflicts.len() > 10 {
            writeln!(out, "  ... {} more (--verbose lists them all)", conflicts.len() - 10)?;
        }
    }
    if verbose {
        writeln!(out)?;
        for step in &plan.steps {
            let mark = match step.outcome {
                StepOutcome::Clean => "+",
                StepOutcome::Empty => "0",
                StepOutcome::Conflict => "!",
                StepOutcome::Present => "=",
            };
            let stage = step.stage.map(|n| format!("[{n}] ")).unwrap_or_default();
            writeln!(out, "  {mark} {stage}{} {}", step.commit.short(), step.summary)?;
        }
        writeln!(out)?;
        writeln!(out, "+ clean   0 empty   ! conflict   = already on {target}   [n] stage")?;
    }
    Ok(())
}
