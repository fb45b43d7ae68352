//! `git regraft demo`: a tour on a sample repository built in a temporary directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use regraft::analysis::backport::OutcomeCounts;
use regraft::analysis::delta::{self, DeltaOptions};
use regraft::git::repo::Repo;
use regraft::review::forge::{ForgeHost, ForgeKind};
use regraft::scenario::{self, Scenario, ScenarioSpec};
use regraft::surgery::replace::{self, ForgeTarget, ReplaceRequest, Strategy};

use super::{CommandError, Ui};

/// Build a sample repository with a broken stable branch and tour the commands on it
///
/// The sample has a trunk (master), an old stable branch (stable/liberty) that received
/// backports in every style real projects use, and a newer stable branch (stable/mitaka)
/// holding the fix the old one needs. Nothing outside the new directory is touched, and
/// nothing is fetched or asked.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  git regraft demo\n  git regraft demo --dir /tmp/regraft-tour")]
pub struct Args {
    /// Build the sample here (must not exist yet) instead of a new temporary directory
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Trunk changes in the sample
    #[arg(long, value_name = "N", default_value_t = ScenarioSpec::small().trunk_changes)]
    size: usize,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let dir = sample_dir(args.dir)?;
    let spec = ScenarioSpec::with_trunk_changes(args.size);
    let sample = scenario::build(&dir, &spec).map_err(CommandError::internal)?;
    let mut repo = Repo::discover(&dir).map_err(CommandError::internal)?;
    repo.isolate_git_config();
    let out = &mut ui.human();
    introduce(out, &dir, &sample)?;
    what_separates(out, ui, &repo)?;
    what_the_fix_needs(out, ui, &repo, &sample)?;
    the_picks(out, &repo, &sample)?;
    the_check(out, ui, &repo)?;
    super::forecast::tour(out, &dir)?;
    say(
        out,
        "What it says: one row per fix, one column per maintained branch: `=` already there, \
         `+` clean, `x` conflict, `>` needs another commit first (the details name it). \
         Without --branch, forecast finds the branches by pattern (stable/*, or git config \
         regraft.maintained).",
    )?;
    writeln!(out)?;
    the_options(out, &repo)?;
    replacements(out, &dir)?;
    on_github(out, &dir)?;
    developer(out, &dir)?;
    try_next(out, &dir, &sample)?;
    Ok(ExitCode::SUCCESS)
}

/// Returns the directory for the sample: `--dir` when it does not exist yet, else a new
/// temporary directory that outlives the process.
fn sample_dir(given: Option<PathBuf>) -> Result<PathBuf, CommandError> {
    match given {
        Some(dir) if dir.exists() => {
            Err(CommandError::user(anyhow::anyhow!("{} already exists", dir.display()))
                .with_hint("name a directory that does not exist yet, or leave out --dir"))
        }
        Some(dir) => Ok(dir),
        None => Ok(tempfile::Builder::new()
            .prefix("regraft-demo-")
            .tempdir()
            .context("creating a temporary directory")
            .map_err(CommandError::internal)?
            .keep()),
    }
}

/// Says what the sample is.
fn introduce(out: &mut impl Write, dir: &Path, sample: &Scenario) -> Result<(), CommandError> {
    writeln!(out, "== regraft demo ==")?;
    writeln!(out)?;
    writeln!(out, "A sample repository is in {}", dir.display())?;
    say(
        out,
        &format!(
            "Its {} was cut from {} at tag 1.0.0 and got {} commits of its own, most of them \
         backports. The fix for its data-loss bug ({}) is on {}, which was cut later \
         (tag 2.0.0). This is Kolla's stable/liberty in April 2016, in miniature.",
            scenario::TARGET,
            scenario::TRUNK,
            sample.counts.liberty,
            sample.fix.short(),
            scenario::SOURCE
        ),
    )?;
    writeln!(out)?;
    Ok(())
}

/// `delta`: what separates the branches, and what of it is already there.
fn what_separates(out: &mut impl Write, ui: &Ui, repo: &Repo) -> Result<(), CommandError> {
    writeln!(out, "$ git regraft delta {} {}", scenario::TARGET, scenario::SOURCE)?;
    let delta = delta::delta(repo, scenario::TARGET, scenario::SOURCE, &DeltaOptions::default())
        .map_err(super::delta::delta_error)?;
    super::delta::render(out, ui, &delta, super::Detail::Summary)?;
    let s = delta.summary();
    writeln!(out)?;
    say(
        out,
        &format!(
            "What it says: {} of the {} changes only on {} are already on {}, \
         found by Change-Id, by cherry-pick line or by identical patch (one commit can have \
         several kinds of evidence, so the counts per kind overlap). A backport would bring \
         the other {}.",
            s.present,
            s.source_changes,
            scenario::SOURCE,
            scenario::TARGET,
            s.to_bring
        ),
    )?;
    writeln!(out)?;
    Ok(())
}

/// `deps --for`: what the fix needs.
fn what_the_fix_needs(
    out: &mut impl Write,
    ui: &Ui,
    repo: &Repo,
    sample: &Scenario,
) -> Result<(), CommandError> {
    writeln!(
        out,
        "$ git regraft deps {} {} --for {}",
        scenario::TARGET,
        scenario::SOURCE,
        sample.fix.short()
    )?;
    let graph = super::deps::closure_for(repo, scenario::TARGET, scenario::SOURCE, sample.fix)?;
    super::deps::render(out, ui, &graph, &[sample.fix], super::Detail::Summary)?;
    let closure = graph.closure.as_deref().unwrap_or_default();
    writeln!(out)?;
    say(
        out,
        &format!(
            "What it says: the fix cannot be cherry-picked alone. It needs {} other commits: the \
         ones that last changed the lines it changes, and what those need in turn. Picked in \
         this order, each applies onto the one before; what is already on {} is not \
         picked again.",
            closure.len().saturating_sub(1),
            scenario::TARGET
        ),
    )?;
    writeln!(out)?;
    Ok(())
}

/// `backport --dry-run`, of the whole delta and of the fix with what it needs.
fn the_picks(out: &mut impl Write, repo: &Repo, sample: &Scenario) -> Result<(), CommandError> {
    writeln!(out, "$ git regraft backport --dry-run {} {}", scenario::TARGET, scenario::SOURCE)?;
    let whole = super::backport::dry_run(repo, scenario::TARGET, scenario::SOURCE, None)?;
    super::backport::render(out, scenario::TARGET, &whole, super::Detail::Summary)?;
    writeln!(out)?;
    writeln!(
        out,
        "$ git regraft backport --dry-run {} {} --for {}",
        scenario::TARGET,
        scenario::SOURCE,
        sample.fix.short()
    )?;
    let for_fix =
        super::backport::dry_run(repo, scenario::TARGET, scenario::SOURCE, Some(sample.fix))?;
    super::backport::render(out, scenario::TARGET, &for_fix, super::Detail::Summary)?;
    let OutcomeCounts { clean, empty, conflict, present } = whole.counts();
    writeln!(out)?;
    say(
        out,
        &format!(
            "What it says: bringing the whole delta would mean {} picks, {conflict} of them conflicting \
         ({empty} would be empty, {present} are already there). Bringing the fix with what it needs \
         is {} clean picks. Every pick was merged in memory as git would, and nothing was \
         written; without --dry-run the picks land on a new branch, in reviewable stages.",
            clean + empty + conflict,
            for_fix.counts().clean
        ),
    )?;
    writeln!(out)?;
    Ok(())
}

/// `verify`: the last backports of the sample checked against their originals.
fn the_check(out: &mut impl Write, ui: &Ui, repo: &Repo) -> Result<(), CommandError> {
    let range = format!("{}~2..{}", scenario::TARGET, scenario::TARGET);
    writeln!(out, "$ git regraft verify {range} --source {}", scenario::SOURCE)?;
    let options = regraft::analysis::verify::VerifyOptions::default();
    let checked = regraft::analysis::verify::verify(repo, &range, scenario::SOURCE, &options)?;
    super::verify::render(out, ui, &checked, super::Detail::Summary)?;
    writeln!(out)?;
    say(
        out,
        "What it says: each backport accounted for against its original (by which evidence; \
         an adapted one shows its range-diff), and what is wrong: here a commit whose \
         cherry-pick line names a commit the repository does not have. The same check \
         finds committed conflict markers and hunks the originals never touched; in CI it \
         exits 3 on findings, and --json is for a bot.",
    )?;
    writeln!(out)?;
    Ok(())
}

/// `compare`: the five ways out, measured.
fn the_options(out: &mut impl Write, repo: &Repo) -> Result<(), CommandError> {
    writeln!(out, "$ git regraft compare {} {}", scenario::TARGET, scenario::SOURCE)?;
    let comparison = super::compare::for_demo(repo, scenario::TARGET, scenario::SOURCE)?;
    super::compare::table(out, &comparison)?;
    writeln!(out)?;
    say(
        out,
        "What it says: the five ways out, measured. `--format markdown` (or `--format text`) \
         writes them as a post for a mailing list, each figure defined.",
    )?;
    writeln!(out)?;
    Ok(())
}

/// The commands to try on the sample afterwards.
fn try_next(out: &mut impl Write, dir: &Path, sample: &Scenario) -> Result<(), CommandError> {
    writeln!(out)?;
    if installed() {
        writeln!(out, "Try next:")?;
    } else {
        writeln!(out, "Try next (these say `git regraft`, which works once it is installed:")?;
        writeln!(
            out,
            "`cargo install --locked --path .`; until then run {} instead):",
            invoked_as()
        )?;
    }
    writeln!(out, "  cd {}", dir.display())?;
    writeln!(
        out,
        "  git regraft guide           (walked through it by questions: replace, sync, compare)"
    )?;
    writeln!(out, "  git regraft delta --verbose {} {}", scenario::TARGET, scenario::SOURCE)?;
    writeln!(out, "  git regraft delta --json {} {}", scenario::TARGET, scenario::SOURCE)?;
    writeln!(out, "  git regraft missed {} {}", scenario::TARGET, scenario::SOURCE)?;
    writeln!(
        out,
        "  git regraft verify 1.0.0..{} --source {}",
        scenario::TARGET,
        scenario::SOURCE
    )?;
    writeln!(
        out,
        "  git regraft compare --format markdown {} {}",
        scenario::TARGET,
        scenario::SOURCE
    )?;
    writeln!(
        out,
        "  git regraft deps {} {} --for {} --format dot | dot -Tsvg > fix.svg",
        scenario::TARGET,
        scenario::SOURCE,
        sample.fix.short()
    )?;
    writeln!(
        out,
        "  git regraft backport {} {} --for {} --branch fix-data-loss",
        scenario::TARGET,
        scenario::SOURCE,
        sample.fix.short()
    )?;
    writeln!(
        out,
        "  git regraft notice          (the announcement for the replacement the tour made)"
    )?;
    writeln!(out, "  cd developer && git regraft sync --undo")?;
    writeln!(out)?;
    writeln!(out, "Remove the sample when done: rm -rf {}", dir.display())?;
    Ok(())
}

/// Writes a paragraph wrapped to the terminal's width (80 columns off a terminal).
fn say(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    writeln!(out, "{}", super::ui::wrap(text, super::ui::width(), 0, 0))
}

/// Returns how this very executable can be run from anywhere: its full path.
/// Tells whether `git regraft` runs this very program: a `git-regraft` on `PATH` that is
/// this executable (an installed copy), not a build run from the source tree.
fn installed() -> bool {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else { return false };
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter_map(|dir| std::fs::canonicalize(dir.join("git-regraft")).ok())
        .any(|found| found == me)
}

fn invoked_as() -> String {
    std::env::current_exe()
        .map(|p| regraft::git::quote(&p.display().to_string()))
        .unwrap_or_else(|_| "git-regraft".to_string())
}

/// Serves the sample from a bare "review server" next to it and shows the dry run of each
/// replacement strategy against it.
fn replacements(out: &mut impl Write, dir: &Path) -> Result<(), CommandError> {
    scenario::served::serve(dir).map_err(CommandError::internal)?;
    let mut repo = Repo::discover(dir).map_err(CommandError::internal)?;
    repo.isolate_git_config();
    say(
        out,
        "Now the release team's side. The sample is also served from ./server.git, a bare \
         repository that refuses non-fast-forward pushes as review servers do. Each replacement \
         strategy is first a plan; without --execute nothing happens:",
    )?;
    for strategy in [Strategy::Merge, Strategy::Megapatch, Strategy::Recreate, Strategy::Reset] {
        let request = ReplaceRequest {
            branch: scenario::TARGET.to_string(),
            source: format!("origin/{}", scenario::SOURCE),
            source_name: None,
            strategy,
            tag: None,
            remote: "origin".into(),
            followups: Vec::new(),
            review: None,
            forge: None,
            review_ref: None,
            for_review: false,
        };
        let plan = replace::plan_replace(&repo, &regraft::review::Connector::default(), &request)?;
        writeln!(out)?;
        writeln!(
            out,
            "$ git regraft replace {} --from origin/{} --strategy {}",
            scenario::TARGET,
            scenario::SOURCE,
            strategy.name()
        )?;
        if strategy == Strategy::Merge {
            super::surgery::render(out, &plan)?;
        } else {
            writeln!(out, " 1-3. fetch, tag the old tip, push the tag: as above")?;
            for (n, step) in plan.steps.iter().enumerate().skip(3) {
                writeln!(out, "{:>4}. {}", n + 1, step.description)?;
                if let Some(action) = step.git() {
                    writeln!(out, "      $ git {}", action.argv().join(" "))?;
                }
            }
        }
    }
    writeln!(out)?;
    say(
        out,
        "What it says: every plan starts by keeping the old tip under a tag on the server, and \
         every push names the value it expects (--force-with-lease), so if the server moved \
         since the plan was made, nothing changes. reset would be refused by this server.",
    )?;
    Ok(())
}

/// The recreate plan as it would be on GitHub, built by the engine and shown by the
/// replace dry run's renderer; no host is asked (a real run reads the protection first).
fn on_github(out: &mut impl Write, dir: &Path) -> Result<(), CommandError> {
    let mut repo = Repo::discover(dir).map_err(CommandError::internal)?;
    repo.isolate_git_config();
    let repository = "example/sample";
    let request = ReplaceRequest {
        branch: scenario::TARGET.to_string(),
        source: format!("origin/{}", scenario::SOURCE),
        source_name: None,
        strategy: Strategy::Recreate,
        tag: None,
        remote: "origin".into(),
        followups: Vec::new(),
        review: None,
        forge: Some(ForgeTarget {
            host: ForgeHost::public(ForgeKind::GitHub),
            repository: repository.into(),
            found_in: None,
        }),
        review_ref: None,
        for_review: false,
    };
    let plan = replace::plan_replace(&repo, &regraft::review::Connector::default(), &request)?;
    writeln!(out)?;
    say(
        out,
        &format!(
            "On GitHub, deleting a branch closes every pull request that targets it, and a \
             closed pull request whose head moved since can never be reopened. Had the sample \
             lived on github.com as {repository}, recreate would keep its open pull requests: \
             they wait on a hold branch at the old tip while the branch is deleted and \
             created, then come back. Every call to GitHub is a step of the plan, shown as \
             it will be sent:"
        ),
    )?;
    writeln!(out)?;
    // Wrapped as the shell would continue it, by the writer that fits every line.
    writeln!(
        out,
        "$ git regraft replace {} --from origin/{} --strategy recreate --review-host github --project {repository}",
        scenario::TARGET,
        scenario::SOURCE
    )?;
    super::surgery::render(out, &plan)?;
    writeln!(out)?;
    say(
        out,
        "What it says: no pull request is closed, and the request log \
         (.git/regraft/requests.json) keeps each one until it is back, so --continue after a \
         kill and --abort find them all. The command itself (its dry run too) first reads \
         the branch protection and the default branch on GitHub, and refuses the plan when \
         a rule would refuse one of its pushes; the demo asks no server, so that read is \
         left out here.",
    )?;
    Ok(())
}

/// A developer's clone with unpushed work; the release team recreates stable/liberty from
/// stable/mitaka on the served sample; `sync` brings the developer's work across.
fn developer(out: &mut impl Write, dir: &Path) -> Result<(), CommandError> {
    let dev_dir =
        scenario::served::developer_clone(dir, scenario::TARGET).map_err(CommandError::internal)?;
    let mut repo = Repo::discover(dir).map_err(CommandError::internal)?;
    repo.isolate_git_config();
    let request = ReplaceRequest {
        branch: scenario::TARGET.to_string(),
        source: format!("origin/{}", scenario::SOURCE),
        source_name: None,
        strategy: Strategy::Recreate,
        tag: None,
        remote: "origin".into(),
        followups: Vec::new(),
        review: None,
        forge: None,
        review_ref: None,
        for_review: false,
    };
    let hosts = regraft::review::Connector::default();
    let plan = replace::plan_replace(&repo, &hosts, &request)?;
    regraft::surgery::operation::execute(&repo, &hosts, plan, &mut |_, _| {})
        .map_err(super::surgery::operation_error)?;
    writeln!(out)?;
    say(
        out,
        "Then the release team executed the recreate plan on ./server.git. A developer clone \
         (./developer) has an unpushed commit on its stable/liberty, now built on history \
         that is gone from the server:",
    )?;
    writeln!(out)?;
    writeln!(out, "$ cd developer && git regraft sync")?;
    let mut dev_repo = Repo::discover(&dev_dir).map_err(CommandError::internal)?;
    dev_repo.isolate_git_config();
    let options = regraft::surgery::sync::SyncOptions {
        remote: "origin".into(),
        fetch: true,
        ..Default::default()
    };
    let report = regraft::surgery::sync::sync(&dev_repo, &options)?;
    super::sync::render(out, &report)?;
    writeln!(out)?;
    say(
        out,
        "What it says: the developer's fix now sits on the new stable/liberty, nothing was \
         lost, and `git regraft sync --undo` would put the branch back.",
    )?;
    Ok(())
}
