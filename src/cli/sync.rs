//! `git regraft sync`: bring local branches onto a branch that was replaced upstream.

use std::io::Write;
use std::process::ExitCode;

use regraft::git::repo::Repo;
use regraft::surgery::sync::{self, SyncOptions, SyncOutcome};
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft sync                     the current branch
  git regraft sync --all --dry-run     what would happen to each affected branch
  git regraft sync --undo              put the branches the last sync moved back
  git regraft sync stable/liberty      after a merge or megapatch replacement:
                                       its unpushed commits onto the new tip,
                                       as `git pull --rebase` would
  git regraft sync stable/liberty topic
                                       a topic on stable/liberty's unpushed
                                       commits: stable first, then the topic
                                       on its new commits";

/// After an upstream branch was replaced, move local branches onto the new one
///
/// Fetches (with tags), finds each remote branch whose new tip does not contain its old
/// one, and for every affected local branch (the named ones, the current one, or --all)
/// replays the local commits onto the new upstream, leaving out those it already has, and
/// keeps the old tip under refs/regraft/backup/<branch>/<time>. A branch with no local work
/// is simply moved. A branch whose upstream moved on (a merge or megapatch replacement, a
/// fast-forward, or new commits) gets what git pull --rebase does: its own commits onto
/// the new upstream tip, the same way (backup, --dry-run, --undo). A branch built on another local branch's unpushed commits is synced
/// after it, onto its new commits (so they are replayed once); named alone while that
/// branch is not synced, it is skipped, naming the branch to sync first. A plain sync names
/// the other local branches still behind the new upstream. A conflict or a dirty work tree
/// leaves that branch unchanged, and a branch regraft cannot place is said so; the exit
/// code is then 3 (0 only when every branch is synced or needs nothing). An unknown branch
/// or remote is exit 2. --undo takes back the last sync, each run of it one more.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Local branches to sync [default: the current branch]
    branches: Vec<String>,
    /// Every affected local branch
    #[arg(long, conflicts_with = "branches")]
    all: bool,
    /// The remote
    #[arg(long, default_value = "origin")]
    remote: String,
    /// Do not fetch (you did); the old tips come from reflogs or tags
    #[arg(long)]
    no_fetch: bool,
    /// The replaced tip, when neither the fetch, the reflog nor a tag can tell it
    #[arg(long, value_name = "REV")]
    old_tip: Option<String>,
    /// Show what would happen to each branch; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
    /// Put the branches the last sync moved back at their old tips (again: the sync before)
    #[arg(long, conflicts_with_all = ["all", "dry_run", "branches"])]
    undo: bool,
}

/// Takes back the last sync and says what became of each branch.
pub fn undo(ui: &Ui, repo: &Repo) -> Result<ExitCode, CommandError> {
    let undone = sync::undo(repo)?;
    let mut out = ui.human();
    for b in &undone {
        let name = visible_line(&b.branch);
        match b.found {
            _ if b.restored => writeln!(out, "{name} is back at {}", b.old.short())?,
            Some(now) => writeln!(
                out,
                "{name}: left at {}, it moved since the sync left it at {}",
                now.short(),
                b.new.short()
            )?,
            None => writeln!(out, "{name}: not put back, it no longer exists")?,
        }
    }
    let all = undone.iter().all(|b| b.restored);
    Ok(if all { ExitCode::SUCCESS } else { ExitCode::from(super::FINDINGS) })
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    if args.undo {
        return undo(ui, &repo);
    }
    let options = SyncOptions {
        branches: args.branches,
        all: args.all,
        remote: args.remote,
        fetch: !args.no_fetch,
        dry_run: args.dry_run,
        old_tip: args.old_tip,
    };
    let report = sync::sync(&repo, &options)?;
    if args.json {
        super::write_json(ui, &report)?;
    } else {
        render(&mut ui.human(), &report)?;
    }
    // 0 only when every branch is synced or provably needs nothing: a script's
    // `git regraft sync --all && ...` must not go on past a branch left behind.
    Ok(if report.all_synced() { ExitCode::SUCCESS } else { ExitCode::from(super::FINDINGS) })
}

/// Writes what a sync found and did (or would do) to each branch.
pub fn render(
    out: &mut impl Write,
    report: &regraft::surgery::sync::SyncReport,
) -> std::io::Result<()> {
    if report.rewrites.is_empty() && report.advanced.is_empty() {
        writeln!(out, "no branch of {} was rewritten: nothing to sync", report.remote)?;
    }
    for r in &report.rewrites {
        let line = format!(
            "{} was replaced: {} -> {} (old tip found by {})",
            r.reference,
            r.old.short(),
            r.new.short(),
            r.found_by
        );
        writeln!(out, "{}", visible_line(&line))?;
    }
    for r in &report.advanced {
        // A fast-forward (a merge or megapatch replacement, or new commits): the local
        // commits go on top, as `git pull --rebase` puts them.
        let line = format!("{} moved on: {} -> {}", r.reference, r.old.short(), r.new.short());
        writeln!(out, "{}", visible_line(&line))?;
    }
    for b in &report.branches {
        let verb = if report.dry_run { " would be" } else { "" };
        let commits = if b.replayed == 1 { "commit" } else { "commits" };
        let line = match b.outcome {
            SyncOutcome::Moved => format!(
                "{}{verb} moved to {} (no local work)",
                b.branch,
                b.new.map(|n| n.short()).unwrap_or_default()
            ),
            SyncOutcome::Replayed => {
                let dropped = match b.dropped.as_slice() {
                    [] => String::new(),
                    ids => format!(
                        "; dropped as already there: {}",
                        ids.iter().map(|c| c.short()).collect::<Vec<_>>().join(", ")
                    ),
                };
                format!("{}: {} local {commits}{verb} replayed{dropped}", b.branch, b.replayed)
            }
            SyncOutcome::UpToDate => {
                format!("{}: nothing to do, {}", b.branch, b.detail.clone().unwrap_or_default())
            }
            SyncOutcome::Unknown => {
                format!("{}: NOT synced: {}", b.branch, b.detail.clone().unwrap_or_default())
            }
            SyncOutcome::Conflict => {
                format!("{}: left unchanged, {}", b.branch, b.detail.clone().unwrap_or_default())
            }
            SyncOutcome::Skipped => {
                format!("{}: skipped, {}", b.branch, b.detail.clone().unwrap_or_default())
            }
        };
        let line = match b.sync_first.as_slice() {
            [] => line,
            first => format!(
                "{}: skipped, built on unpushed commits of {}, not synced yet",
                b.branch,
                first.join(", ")
            ),
        };
        // The details hold what git said, which may quote subjects and names.
        writeln!(out, "{}", visible_line(&line))?;
        if !b.sync_first.is_empty() {
            let first = b.sync_first.join(" ");
            let hint = format!(
                "    sync {} first: git regraft sync {first} {}",
                b.sync_first.join(", "),
                b.branch
            );
            writeln!(out, "{}", visible_line(&hint))?;
        }
        if let Some(backup) = &b.backup {
            writeln!(out, "    old tip kept as {}", visible_line(&backup.to_string()))?;
        }
    }
    if !report.also_affected.is_empty() {
        writeln!(out, "also behind the new upstream, not synced (sync them too, or --all):")?;
        for name in &report.also_affected {
            writeln!(out, "    {}", visible_line(name))?;
        }
    }
    Ok(())
}
