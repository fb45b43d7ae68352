//! `git regraft backport`: predict every pick, then apply them in stages.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use regraft::analysis::backport::{
    self, BackportOptions, BackportPlan, OutcomeCounts, Selection, StepOutcome,
};
use regraft::analysis::deps::DepsOptions;
use regraft::git::repo::Repo;
use regraft::surgery::apply::{self, ApplyError};
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft backport --dry-run stable/liberty stable/mitaka
  git regraft backport --dry-run stable/liberty stable/mitaka --for 1524f0dd1e \\
      --json
  git rev-list --reverse A..B | git regraft backport --dry-run --stdin stable/liberty
  git regraft backport stable/liberty stable/mitaka --for 1524f0dd1e --branch \\
      fix-data-loss
  git regraft backport --continue      (after resolving a conflict, `git add`)";

/// Predict, then carry out, a staged backport of SOURCE's commits onto TARGET
///
/// First simulates every cherry-pick in memory (the merge `git cherry-pick` would do, by
/// `git merge-tree`, writing nothing to the repository): clean, empty, or conflict with the
/// files. Commits already on TARGET (any evidence of `delta`) are left out and listed.
/// What to pick: the whole delta, the closure of --for commits (as `deps --for`), or exactly
/// the commits given on standard input with --stdin, in that order.
///
/// Without --dry-run, creates a new branch at TARGET (TARGET itself never moves) and
/// applies the picks with `(cherry picked from commit X)` lines and the original Change-Id
/// last, authors kept. At a conflict it stops with the conflict in the work tree, as
/// `git cherry-pick` leaves it; resolve, `git add`, then --continue (or --skip, --abort).
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch to backport onto (e.g. stable/liberty); never moved
    #[arg(required_unless_present_any = ["resume_continue", "skip", "abort"])]
    target: Option<String>,
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
    /// Mark the picks this stable-branch policy's phase would refuse [default: OpenStack's]
    #[arg(long, value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// The support phase to judge picks under (see `git regraft policy check`)
    #[arg(long, value_name = "NAME")]
    phase: Option<String>,
    /// Name of the new branch [default: backport/<TARGET>/<date>]
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
    /// One commit per stage, listing every commit it brings, instead of one per pick
    #[arg(long)]
    squash_stages: bool,
    /// Go on after resolving a conflict (and `git add`)
    #[arg(long = "continue", conflicts_with_all = ["skip", "abort", "dry_run"])]
    resume_continue: bool,
    /// Leave out the conflicting pick and go on
    #[arg(long, conflicts_with_all = ["abort", "dry_run"])]
    skip: bool,
    /// Stop and put everything back: delete the new branch, return to where HEAD was
    #[arg(long, conflicts_with = "dry_run")]
    abort: bool,
    /// On GitHub or GitLab: once every stage is applied, push each stage as its own branch
    /// and open one request per stage, stacked (stage k's base is stage k-1's branch, the
    /// first's is TARGET), each listing its picks, their original commits and requests, and
    /// the predicted conflicts
    #[arg(long, conflicts_with = "dry_run")]
    for_review: bool,
    /// The review host for --for-review: github, gitlab, github:URL or gitlab:URL
    /// [default: git config regraft.reviewHost, else the remote's URL]
    #[arg(long, value_name = "KIND[:URL]", requires = "for_review")]
    review_host: Option<String>,
    /// The forge repository (OWNER/NAME) for --for-review [default: the remote's URL's path]
    #[arg(long, value_name = "NAME", requires = "for_review")]
    project: Option<String>,
    /// The remote the stages are pushed to, with --for-review
    #[arg(long, default_value = "origin")]
    remote: String,
    // For --for-review's requests, and a --continue of a backport started with it.
    #[command(flatten)]
    timeout: super::timeout::TimeoutArgs,
}

/// Reads `backport`'s arguments from words, as the command line gives them (the guide runs
/// the command it shows).
pub fn parse<I, S>(words: I) -> Result<Args, CommandError>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    use clap::{Args as _, FromArgMatches as _};
    let command = Args::augment_args(clap::Command::new("backport").no_binary_name(true));
    let matches = command.try_get_matches_from(words).map_err(CommandError::internal)?;
    Args::from_arg_matches(&matches).map_err(CommandError::internal)
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    let resume = if args.resume_continue {
        Some(apply::Resume::Continue)
    } else if args.skip {
        Some(apply::Resume::Skip)
    } else if args.abort {
        Some(apply::Resume::Abort)
    } else {
        None
    };
    let progress = super::progress::Bar::new();
    if let Some(action) = resume {
        if action == apply::Resume::Abort
            && let Some(aside) = apply::set_aside_unreadable(&repo).map_err(apply_error)?
        {
            ui.status(&format!(
                "the backport state, which cannot be read, was moved aside to {} (kept, not \
                 deleted); the branch it was building and HEAD were left as they are: look at \
                 `git branch` and delete that branch yourself if it is not wanted",
                aside.display()
            ));
            return Ok(ExitCode::SUCCESS);
        }
        let report = apply::resume(&repo, action, &progress).map_err(apply_error)?;
        return after_resume(ui, &repo, &args.timeout.connector(ui), action, &report);
    }
    let target =
        args.target.clone().expect("clap requires TARGET without --continue/--skip/--abort");
    super::delta::warn_ambiguous(ui, &repo, std::iter::once(&target).chain(&args.source))?;
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
        with_stat: false,
        policy: super::policy_check(args.policy.as_deref(), args.phase.as_deref())?,
    };
    if !args.dry_run {
        let branch = args.branch.clone().unwrap_or_else(|| default_branch(&target));
        // A backport in progress keeps its own request: start refuses below.
        let saved = args.for_review && apply::in_progress(&repo).map_err(apply_error)?.is_none();
        // For review, the picks are simulated once: that plan gives the requests' bodies
        // their predicted conflicts and is the plan the backport applies.
        let planned = if saved {
            let (request, plan) =
                stack_request(ui, &repo, &args, &target, &branch, &options, &progress)?;
            regraft::surgery::stacked::save(&repo, &request).map_err(CommandError::internal)?;
            Some(plan)
        } else {
            None
        };
        let start = apply::StartOptions {
            target: &target,
            source: args.source.as_deref(),
            plan: &options,
            branch: &branch,
            squash_stages: args.squash_stages,
            planned: planned.as_ref(),
        };
        let report = match apply::start(&repo, &start, &progress) {
            Ok(report) => report,
            Err(e) => {
                // Nothing was started: nothing waits to be sent for review.
                if saved {
                    let _ = regraft::surgery::stacked::remove(&repo);
                }
                return Err(apply_error(e));
            }
        };
        let code = report_run(ui, &report, RunEnd::Applied, saved)?;
        return send_stages(ui, &repo, &args.timeout.connector(ui), &report, code);
    }
    let plan = backport::plan(&repo, &target, args.source.as_deref(), &options, &progress)?;
    if args.json {
        super::write_json(ui, &plan)?;
    } else {
        render(&mut ui.human(), &target, &plan, super::Detail::verbose(args.verbose))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves the forge for `--for-review`, simulates the picks and keeps what the simulation
/// predicts of each, for the requests' bodies; returns the plan too, for the backport to
/// apply without simulating again.
fn stack_request(
    ui: &Ui,
    repo: &Repo,
    args: &Args,
    target: &str,
    branch: &str,
    options: &BackportOptions,
    progress: &dyn regraft::progress::Progress,
) -> Result<(regraft::surgery::stacked::StackRequest, BackportPlan), CommandError> {
    let given = regraft::surgery::review_host::Given {
        review_host: args.review_host.clone(),
        gerrit: None,
        project: args.project.clone(),
    };
    let host = regraft::surgery::review_host::resolve(repo, &given, &args.remote, target)?;
    let Some(forge) = host.as_ref().and_then(|h| h.forge()) else {
        return Err(CommandError::user(anyhow::anyhow!(
            "--for-review needs a GitHub or GitLab host, and none is named: {}",
            match host {
                Some(_) => "the host found is a Gerrit",
                None => "give --review-host github:URL or gitlab:URL",
            }
        ))
        .with_hint(
            "on Gerrit, push the finished branch for review with `git regraft replace TARGET --from BRANCH --strategy backport`",
        ));
    };
    ui.status("simulating the picks (the plan, and the requests' predicted conflicts)");
    let plan = backport::plan(repo, target, args.source.as_deref(), options, progress)?;
    let predicted = plan
        .steps
        .iter()
        .map(|s| {
            let prediction = regraft::surgery::stacked::Prediction {
                conflicts: s.conflicts.clone(),
                needs_conflicting: s.needs_conflicting.clone(),
            };
            (s.commit, prediction)
        })
        .collect();
    let request = regraft::surgery::stacked::StackRequest {
        host: forge.host.clone(),
        repository: forge.repository.clone(),
        found_in: forge.found_in.clone(),
        remote: args.remote.clone(),
        target: regraft::surgery::stacked::branch_on_remote(repo, &args.remote, target)?,
        branch: branch.to_string(),
        onto: plan.onto,
        predicted,
    };
    Ok((request, plan))
}

/// Tells what a resumed backport did and, when it was started with `--for-review` and its
/// last stage is now applied, sends the stages for review (an abort forgets that request).
pub fn after_resume(
    ui: &Ui,
    repo: &Repo,
    hosts: &dyn regraft::review::HostFactory,
    action: apply::Resume,
    report: &apply::Report,
) -> Result<ExitCode, CommandError> {
    if action == apply::Resume::Abort {
        regraft::surgery::stacked::remove(repo).map_err(CommandError::internal)?;
    }
    let for_review =
        regraft::surgery::stacked::load(repo).map_err(CommandError::internal)?.is_some();
    let code = report_run(ui, report, RunEnd::after(action), for_review)?;
    send_stages(ui, repo, hosts, report, code)
}

/// Once the last stage is applied, pushes the stages and opens their stacked requests, when
/// `--for-review` asked for it: a plan of the executor, shown, then carried out (journalled:
/// a failure halfway is finished with `git regraft replace --continue` or undone with
/// `--abort`).
fn send_stages(
    ui: &Ui,
    repo: &Repo,
    hosts: &dyn regraft::review::HostFactory,
    report: &apply::Report,
    code: ExitCode,
) -> Result<ExitCode, CommandError> {
    if !report.finished || report.stopped.is_some() {
        return Ok(code);
    }
    let Some(request) = regraft::surgery::stacked::load(repo).map_err(CommandError::internal)?
    else {
        return Ok(code);
    };
    if report.stage_ends.is_empty() {
        regraft::surgery::stacked::remove(repo).map_err(CommandError::internal)?;
        ui.status("no stage to send for review: nothing was picked");
        return Ok(code);
    }
    super::status::refuse_if_in_progress(repo)?;
    let plan = regraft::surgery::stacked::plan(repo, &request, &report.stage_ends)?;
    super::surgery::render(&mut ui.human(), &plan)?;
    regraft::surgery::stacked::remove(repo).map_err(CommandError::internal)?;
    let mut report_step = |step: &regraft::surgery::operation::Step, status| {
        ui.status(&super::surgery::step_line(step, status))
    };
    regraft::surgery::operation::execute(repo, hosts, plan, &mut report_step)
        .map_err(super::surgery::operation_error)?;
    writeln!(ui.human(), "\nAll stages pushed and their requests opened, stacked.")?;
    Ok(code)
}

/// `backport/<target>/<YYYY-MM-DD>` in UTC.
fn default_branch(target: &str) -> String {
    format!("backport/{target}/{}", super::ui::today())
}

pub fn apply_error(error: ApplyError) -> CommandError {
    let hint = match &error {
        ApplyError::InProgress { .. } => {
            Some("finish it with --continue or --skip, or drop it with --abort")
        }
        ApplyError::Dirty { .. } => Some("commit or stash your changes first"),
        ApplyError::Unresolved { .. } => {
            Some("after resolving, `git add` the files and run --continue again")
        }
        ApplyError::EmptyResolution { .. } => Some("git regraft backport --skip"),
        _ => None,
    };
    let error = CommandError::from(error);
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// How a real run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// It applied picks (and may have stopped at a conflict).
    Applied,
    /// `--abort` undid it.
    Aborted,
}

impl RunEnd {
    /// Returns how a run resumed with `action` ended.
    pub fn after(action: apply::Resume) -> RunEnd {
        if action == apply::Resume::Abort { RunEnd::Aborted } else { RunEnd::Applied }
    }
}

/// Tells what a real run did, and what to do at a conflict (exit code 3 there: a finding).
/// With `for_review` (`backport --for-review`) the stages are sent for review next, by the
/// backport itself: no other way to push them is suggested.
pub fn report_run(
    ui: &Ui,
    report: &apply::Report,
    ended: RunEnd,
    for_review: bool,
) -> Result<ExitCode, CommandError> {
    let mut out = ui.human();
    let branch = report.branch.strip_prefix("refs/heads/").unwrap_or(&report.branch);
    if ended == RunEnd::Aborted {
        writeln!(out, "backport aborted: branch {branch} deleted, HEAD back where it was")?;
        return Ok(ExitCode::SUCCESS);
    }
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    writeln!(
        out,
        "branch {branch} at {}: {} created, {} left out{}",
        report.tip.short(),
        plural(report.created, "commit", "commits"),
        plural(report.empty, "empty pick", "empty picks"),
        if report.present > 0 {
            format!(", {} already on the target", report.present)
        } else {
            String::new()
        }
    )?;
    match &report.stopped {
        None => {
            if !report.stage_ends.is_empty() {
                writeln!(out, "stages (review and test each on its own; each ends at):")?;
                for (n, end) in report.stage_ends.iter().enumerate() {
                    writeln!(out, "  {:>3}  {}", n + 1, end.short())?;
                }
            }
            writeln!(out, "done.")?;
            drop(out);
            if for_review {
                return Ok(ExitCode::SUCCESS);
            }
            ui.status(&format!(
                "next: push it for review: `git regraft replace TARGET --from {} --strategy backport` (TARGET the branch it was built on)",
                regraft::git::quote(branch)
            ));
            Ok(ExitCode::SUCCESS)
        }
        Some(stop) => {
            writeln!(out)?;
            writeln!(
                out,
                "stopped at {} {}: conflicts in",
                stop.commit.short(),
                visible_line(&stop.summary)
            )?;
            for path in &stop.conflicts {
                writeln!(out, "  {}", visible_line(path))?;
            }
            if stop.in_work_tree {
                writeln!(
                    out,
                    "The conflict is in the work tree (branch {branch} is checked out). Resolve it, then:"
                )?;
                writeln!(out, "  git add <files> && git regraft backport --continue")?;
            } else {
                writeln!(
                    out,
                    "This repository has no work tree, so the conflict cannot be shown here."
                )?;
            }
            writeln!(out, "  git regraft backport --skip     leave this commit out and go on")?;
            writeln!(out, "  git regraft backport --abort    delete {branch} and put HEAD back")?;
            Ok(ExitCode::from(super::FINDINGS))
        }
    }
}

/// Plans a dry run of the whole delta, or of what `fix` needs (for the demo).
pub fn dry_run(
    repo: &Repo,
    target: &str,
    source: &str,
    fix: Option<regraft::ObjectId>,
) -> Result<BackportPlan, CommandError> {
    let selection = match fix {
        Some(fix) => Selection::Closure(vec![fix.to_hex()]),
        None => Selection::Delta,
    };
    let options = BackportOptions {
        selection,
        include_present: false,
        stage_size: 25,
        deps: DepsOptions::default(),
        with_stat: false,
        policy: None,
    };
    backport::plan(repo, target, Some(source), &options, &regraft::progress::Silent)
        .map_err(CommandError::from)
}

/// Writes the prediction: counts, stages, conflicts, and with [`super::Detail::Every`] every step.
pub fn render(
    out: &mut impl Write,
    target: &str,
    plan: &BackportPlan,
    detail: super::Detail,
) -> std::io::Result<()> {
    let verbose = detail == super::Detail::Every;
    let OutcomeCounts { clean, empty, conflict, present } = plan.counts();
    writeln!(
        out,
        "backport onto {target} ({}): {} commits; {clean} clean, {empty} empty, {conflict} conflict, {present} already there",
        plan.onto.short(),
        plan.steps.len()
    )?;
    let stages = plan.stages.len();
    writeln!(
        out,
        "{stages} stage{}; final tree {}",
        if stages == 1 { "" } else { "s" },
        plan.final_tree.short()
    )?;
    let reverted: Vec<_> = plan.steps.iter().filter_map(|s| s.reverted_on_target).collect();
    if !reverted.is_empty() {
        writeln!(
            out,
            "{} picked again: reverted on {target} since (--verbose names them)",
            reverted.len()
        )?;
    }
    if plan.steps.iter().any(|s| s.policy_refusals.is_some()) {
        let n = plan.refused_by_policy();
        writeln!(out, "{n} commits the policy's phase would refuse (--verbose says why)")?;
    }
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
                visible_line(&step.summary),
                visible_line(&step.conflicts.join(", "))
            )?;
        }
        if !verbose && conflicts.len() > 10 {
            writeln!(out, "  ... {} more (--verbose lists them all)", conflicts.len() - 10)?;
        }
        let open: Vec<_> = plan.steps.iter().filter(|s| !s.needs_conflicting.is_empty()).collect();
        if !open.is_empty() {
            let names: Vec<String> = open.iter().map(|s| s.commit.short()).collect();
            writeln!(
                out,
                "not closed under dependencies while the conflicts are skipped: {} ({}) need a conflicting pick; resolve it rather than skip it",
                names.len(),
                names.join(", ")
            )?;
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
            writeln!(
                out,
                "  {mark} {stage}{} {}",
                step.commit.short(),
                visible_line(&step.summary)
            )?;
            for reason in step.policy_refusals.iter().flatten() {
                writeln!(out, "        policy: {}", visible_line(&reason.to_string()))?;
            }
            if !step.needs_conflicting.is_empty() {
                let names: Vec<String> = step.needs_conflicting.iter().map(|c| c.short()).collect();
                writeln!(out, "        needs conflicting {}", names.join(", "))?;
            }
            if let Some(revert) = step.reverted_on_target {
                writeln!(
                    out,
                    "        present as {}, then reverted on {target} by {}",
                    revert.equivalent.short(),
                    revert.by.short()
                )?;
            }
        }
        writeln!(out)?;
        writeln!(out, "+ clean   0 empty   ! conflict   = already on {target}   [n] stage")?;
    }
    Ok(())
}
