//! For developers after a branch they track was replaced upstream: find the old upstream
//! tip, then move every affected local branch onto the new one, replaying local work,
//! dropping what is already there, keeping a backup ref of each old tip.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::analysis::delta::{self, DeltaError, DeltaOptions};
use crate::analysis::history::{self, HistoryError};
use crate::analysis::simulation::{Merger, SimulationError};
use crate::git::GitError;
use crate::git::remote::{FetchProgress, fetch_tags};
use crate::git::repo::{LocalBranch, Repo, RepoError};
use crate::git::worktree::WorkTree;
use crate::oid::ObjectId;
use crate::surgery::lock::{Lock, LockError};

/// Errors from syncing.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Delta(#[from] DeltaError),
    #[error(transparent)]
    Simulation(#[from] SimulationError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{what} is in progress; finish or abort it first")]
    Busy { what: String },
    #[error("reading or writing {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no sync to undo (no {path})")]
    NothingToUndo { path: PathBuf },
    #[error(transparent)]
    Name(Box<crate::git::names::NameError>),
    #[error("no remote `{remote}` in this repository{near} (it has: {known})")]
    UnknownRemote { remote: String, near: String, known: String },
    #[error("no local branch `{branch}`{}", did_you_mean(.near))]
    NoBranch { branch: String, near: Option<String> },
    #[error(
        "sync would make new commits for {branches} but git has no committer identity here; \
         nothing was moved. Set one with `git config user.name \"Your Name\"` and \
         `git config user.email you@example.com`, then run sync again"
    )]
    NoIdentity {
        branches: String,
        #[source]
        source: GitError,
    },
}

fn did_you_mean(near: &Option<String>) -> String {
    near.as_ref().map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default()
}

impl From<crate::surgery::apply::RecommitError> for SyncError {
    fn from(error: crate::surgery::apply::RecommitError) -> Self {
        match error {
            crate::surgery::apply::RecommitError::Repo(e) => SyncError::Repo(e),
            crate::surgery::apply::RecommitError::Git(e) => SyncError::Git(e),
        }
    }
}

impl From<crate::git::names::NameError> for SyncError {
    fn from(error: crate::git::names::NameError) -> Self {
        SyncError::Name(Box::new(error))
    }
}

impl ErrorOrigin for SyncError {
    fn is_user_input(&self) -> bool {
        match self {
            SyncError::Repo(e) => e.is_user_input(),
            SyncError::Delta(e) => e.is_user_input(),
            SyncError::Lock(e) => e.is_user_input(),
            SyncError::Name(e) => e.is_user_input(),
            SyncError::Busy { .. }
            | SyncError::NothingToUndo { .. }
            | SyncError::UnknownRemote { .. }
            | SyncError::NoBranch { .. }
            | SyncError::NoIdentity { .. } => true,
            SyncError::Git(_)
            | SyncError::History(_)
            | SyncError::Simulation(_)
            | SyncError::Io { .. } => false,
        }
    }
}

/// What to sync.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Local branches to sync; empty: the current branch (or all affected with `all`).
    pub branches: Vec<String>,
    pub all: bool,
    pub remote: String,
    /// Fetch first (with tags), remembering the remote-tracking refs' old values.
    pub fetch: bool,
    pub dry_run: bool,
    /// The replaced tip, when nothing else can tell it.
    pub old_tip: Option<String>,
}

/// A remote branch whose new tip does not contain its old one; or, `found_by` [`ADVANCE`],
/// one that moved on past where a local branch left it (`old`, their merge base).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rewrite {
    /// The remote-tracking ref, e.g. `refs/remotes/origin/stable/liberty`.
    pub reference: String,
    pub old: ObjectId,
    pub new: ObjectId,
    /// How the old tip was found: `before-fetch`, `reflog`, `tag <name>`, `--old-tip`, or
    /// [`ADVANCE`] for an upstream that moved on.
    pub found_by: String,
}

/// The `found_by` of an upstream that moved on (a fast-forward, as after a merge or
/// megapatch replacement, or any new commits): the old tip is the merge base of the local
/// branch and the new upstream, and the local commits go on top, as `git pull --rebase`
/// puts them.
pub const ADVANCE: &str = "merge-base";

/// What happened (or, in a dry run, would happen) to one local branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchSync {
    pub branch: String,
    pub outcome: SyncOutcome,
    pub old: ObjectId,
    pub new: Option<ObjectId>,
    /// Local commits replayed onto the new upstream.
    pub replayed: usize,
    /// Local commits left out because the new upstream already has them.
    pub dropped: Vec<ObjectId>,
    /// For a conflict: the commit and files; for a skip: why.
    pub detail: Option<String>,
    /// The ref that keeps the old tip.
    pub backup: Option<String>,
    /// For a branch built on other local branches' unpushed commits that are not synced
    /// yet: those branches, lowest first. Syncing it now would give it copies of their
    /// commits under other ids, so it is skipped until they are synced.
    #[serde(default)]
    pub sync_first: Vec<String>,
}

/// What became of a local branch; in JSON `moved`, `replayed`, `conflict`, `skipped`,
/// `up-to-date` or `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncOutcome {
    /// Moved onto the new upstream; it had no local work.
    Moved,
    /// Its local commits replayed onto the new upstream.
    Replayed,
    /// A replayed commit conflicts; the branch is left unchanged.
    Conflict,
    /// Not touched: the work tree is dirty, HEAD is detached...
    Skipped,
    /// Its upstream was not rewritten, or it does not contain the replaced tip.
    UpToDate,
    /// No upstream, and nothing tells what it was built on.
    Unknown,
}

/// What `sync` did: the schema of `sync --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub remote: String,
    pub dry_run: bool,
    pub rewrites: Vec<Rewrite>,
    /// The upstreams that moved on past where a synced branch left them (`found_by`
    /// `merge-base`, `old` the merge base), one per (upstream, merge base).
    #[serde(default)]
    pub advanced: Vec<Rewrite>,
    pub branches: Vec<BranchSync>,
    /// The other local branches that still hold a replaced tip, or are behind an upstream
    /// that moved on, and that this run was not asked to sync (empty with `--all`), so the
    /// developer knows to sync them too.
    #[serde(default)]
    pub also_affected: Vec<String>,
}

impl SyncReport {
    /// Tells whether some branch could not be synced (a conflict).
    pub fn has_conflicts(&self) -> bool {
        self.branches.iter().any(|b| b.outcome == SyncOutcome::Conflict)
    }

    /// Tells whether every branch is synced or provably needs nothing.
    pub fn all_synced(&self) -> bool {
        self.branches.iter().all(|b| {
            matches!(b.outcome, SyncOutcome::Moved | SyncOutcome::Replayed | SyncOutcome::UpToDate)
        })
    }
}

/// The record of the syncs not undone, oldest first: for each run, the branches it moved.
/// `--undo` takes back the last run; every sync reads all of them, so a branch built on
/// another one's unpushed commits follows where those went, whatever ran in between.
fn runs_path(repo: &Repo) -> PathBuf {
    repo.state_dir().join("sync-runs.json")
}

/// The record of earlier versions: the last run only.
fn legacy_path(repo: &Repo) -> PathBuf {
    repo.state_dir().join("sync-last.json")
}

/// Reads the record of the syncs not undone (none when there is no record).
fn read_runs(repo: &Repo) -> Result<Vec<Vec<BranchSync>>, SyncError> {
    let read = |path: PathBuf| -> Result<Option<Vec<u8>>, SyncError> {
        match std::fs::read(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SyncError::Io { path, source }),
        }
    };
    let invalid = |path: PathBuf, e: serde_json::Error| SyncError::Io {
        path,
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    };
    if let Some(text) = read(runs_path(repo))? {
        return serde_json::from_slice(&text).map_err(|e| invalid(runs_path(repo), e));
    }
    match read(legacy_path(repo))? {
        Some(text) => {
            let last: Vec<BranchSync> =
                serde_json::from_slice(&text).map_err(|e| invalid(legacy_path(repo), e))?;
            Ok(vec![last])
        }
        None => Ok(Vec::new()),
    }
}

/// Writes the record of the syncs not undone (removing it when there is none left).
fn write_runs(repo: &Repo, runs: &[Vec<BranchSync>]) -> Result<(), SyncError> {
    let path = runs_path(repo);
    let result = if runs.is_empty() {
        std::fs::remove_file(&path).or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        })
    } else {
        let text = serde_json::to_vec_pretty(runs).expect("the record serializes");
        crate::state_file::write(&path, &text)
    };
    result.map_err(|source| SyncError::Io { path, source })?;
    let legacy = legacy_path(repo);
    match std::fs::remove_file(&legacy) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(SyncError::Io { path: legacy, source: e })
        }
        _ => Ok(()),
    }
}

/// This run's part of the record: each branch is written down before it is moved, so a
/// sync killed at any point can be undone and what it moved is never forgotten.
struct Journal<'a> {
    repo: &'a Repo,
    runs: Vec<Vec<BranchSync>>,
    /// Whether the last of `runs` is this run's.
    started: bool,
}

impl Journal<'_> {
    fn record(&mut self, moved: &BranchSync) -> Result<(), SyncError> {
        if !self.started {
            self.runs.push(Vec::new());
            self.started = true;
        }
        self.runs.last_mut().expect("this run's entry was pushed").push(moved.clone());
        write_runs(self.repo, &self.runs)
    }
}

fn remote_tracking(repo: &Repo, remote: &str) -> Result<HashMap<String, ObjectId>, SyncError> {
    let prefix = format!("refs/remotes/{remote}/");
    Ok(repo.git().refs_under(&prefix)?.into_iter().collect())
}

fn busy(repo: &Repo) -> Option<&'static str> {
    let dir = repo.git_dir();
    let checks: [(&str, &str); 5] = [
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase"),
        ("MERGE_HEAD", "a merge"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
        ("REVERT_HEAD", "a revert"),
    ];
    let found = checks.iter().find(|(path, _)| dir.join(path).exists()).map(|(_, what)| *what);
    // A backport's state is shared by every worktree (it builds a branch of the repository).
    found.or_else(|| {
        crate::surgery::apply::state_path(repo).exists().then_some("a regraft backport")
    })
}

/// Finds the rewritten remote branches and syncs the chosen local branches onto them.
pub fn sync(repo: &Repo, options: &SyncOptions) -> Result<SyncReport, SyncError> {
    repo.check_remote(&options.remote)?;
    for branch in &options.branches {
        crate::git::names::check_branch(branch)?;
    }
    let _lock = Lock::take(repo, "sync")?;
    if let Some(what) = busy(repo) {
        return Err(SyncError::Busy { what: what.to_string() });
    }
    let remote = options.remote.as_str();
    check_configured(repo, remote)?;
    let branches = repo.local_branches()?;
    check_local(&branches, &options.branches)?;
    let before = remote_tracking(repo, remote)?;
    if options.fetch {
        fetch_tags(repo.git(), remote, FetchProgress::Quiet)?;
    }
    let after = remote_tracking(repo, remote)?;
    let explicit_old =
        options.old_tip.as_deref().map(|spec| repo.resolve_commit(spec)).transpose()?;
    let rewrites = rewrites(repo, &before, &after, explicit_old, &branches)?;

    let current = repo.head_branch()?;
    let wanted: Vec<String> = if !options.branches.is_empty() {
        options.branches.clone()
    } else if options.all {
        branches.iter().map(|b| b.name.clone()).collect()
    } else {
        current.iter().cloned().collect()
    };
    let objects = crate::git::scratch::ScratchObjects::new(repo, "sync")
        .map_err(|source| SyncError::Io { path: crate::git::scratch::parent(), source })?;
    let scratch = objects.env();
    let env: &[(&str, &OsStr)] = if options.dry_run { &scratch } else { &[] };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let run = SyncRun { repo, env, dry_run: options.dry_run, stamp };
    let mut results = Vec::new();
    // What each local branch is built on: a rewrite of its upstream, or an advance (its
    // upstream moved on past where the branch left it, as after a fast-forward replacement).
    let mut follows: Vec<Option<Rewrite>> = Vec::with_capacity(branches.len());
    for LocalBranch { tip, upstream, .. } in &branches {
        // A branch with an upstream follows only its upstream's rewrite: one whose
        // upstream did not change is never moved, even when it contains the old tip of
        // another (after an aborted replacement, liberty's "old" tip is mitaka's, and
        // mitaka's branches stay). One without an upstream follows a rewrite whose old tip
        // it contains and no remote-tracking branch still has.
        let mut found = None;
        for r in &rewrites {
            let follows = match upstream {
                Some(upstream) => *upstream == r.reference && repo.is_ancestor(r.old, *tip)?,
                None => {
                    repo.is_ancestor(r.old, *tip)? && !any_contains(repo, r.old, after.values())?
                }
            };
            if follows {
                found = Some(r.clone());
                break;
            }
        }
        if let (None, Some(upstream)) = (&found, upstream) {
            found = advance(repo, upstream, *tip, &after, &rewrites)?;
        }
        follows.push(found);
    }
    // A branch with no upstream built on the unpushed commits of one whose upstream
    // advanced (now, or before an earlier sync moved it) follows that advance: its commits
    // go on top of where those go.
    let runs = read_runs(repo)?;
    for i in 0..branches.len() {
        if follows[i].is_none() && branches[i].upstream.is_none() {
            let tip = branches[i].tip;
            follows[i] = match stacked_on_advance(repo, &branches, &follows, tip)? {
                Some(advance) => Some(advance),
                None => stacked_on_earlier_sync(repo, &branches, &runs, &after, tip)?,
            };
        }
    }
    // Every local branch a rewrite or an advance touches, wanted or not: the others are
    // named in the report, and a wanted one built on another one's unpushed commits waits
    // for it.
    let mut affected: Vec<(&String, ObjectId, Rewrite, usize)> = Vec::new();
    let mut to_sync: Vec<(&String, ObjectId, Rewrite, usize)> = Vec::new();
    let mut advanced: Vec<Rewrite> = Vec::new();
    for (LocalBranch { name, tip, upstream }, rewrite) in branches.iter().zip(follows) {
        let is_wanted = wanted.contains(name);
        let Some(rewrite) = rewrite else {
            // Named or current branches are accounted for: synced, needing nothing, or
            // not classifiable (said why, and how to tell regraft); --all lists only those
            // a rewrite touches.
            if is_wanted && (!options.branches.is_empty() || !options.all) {
                results.push(unsynced(name, *tip, upstream.as_deref(), remote, &rewrites));
            }
            continue;
        };
        if is_wanted && rewrite.found_by == ADVANCE && !advanced.contains(&rewrite) {
            advanced.push(rewrite.clone());
        }
        let local = repo.commits_since(rewrite.old, *tip)?.len();
        if is_wanted {
            to_sync.push((name, *tip, rewrite.clone(), local));
        }
        affected.push((name, *tip, rewrite, local));
    }
    let also_affected: Vec<String> = affected
        .iter()
        .filter(|(name, ..)| !to_sync.iter().any(|(n, ..)| n == name))
        .map(|(name, ..)| (*name).clone())
        .collect();
    // Branches built on others go after them, and onto where those went: a topic made on
    // the local stable branch's unpushed commits must not end up with a second copy of
    // them under other ids.
    to_sync.sort_by_key(|(name, _, _, local)| (*local, (*name).clone()));
    // Replaying makes commits, which need git's committer identity: asked before any branch
    // moves, so a missing one stops the run at the start instead of halfway.
    // Regression: without an identity, a sync moved the first branch and failed on the next.
    let replaying: Vec<String> = to_sync
        .iter()
        .filter(|(.., local)| *local > 0)
        .map(|(name, ..)| format!("`{name}`"))
        .collect();
    if !options.dry_run && !replaying.is_empty() {
        if let Err(source) = repo.committer_ident() {
            return Err(SyncError::NoIdentity { branches: replaying.join(", "), source });
        }
    }
    let mut journal = Journal { repo, runs, started: false };
    // (old tip, new tip) of the local branches already moved onto a new upstream: by this
    // run, or by an earlier sync not undone (its backup keeps the old tip).
    let mut synced: Vec<(ObjectId, ObjectId)> = earlier_syncs(repo, &journal.runs)?;
    // The old tips whose commits are synced (or, in a dry run, would be): a branch at one
    // of them needs nothing replayed.
    let mut covered: Vec<ObjectId> = synced.iter().map(|(old, _)| *old).collect();
    // In a dry run nothing is written: (old tip, tree it would get) of the branches this
    // run would replay, so a branch stacked on one is counted as it would be replayed.
    let mut would: Vec<(ObjectId, ObjectId)> = Vec::new();
    for (name, tip, rewrite, _) in to_sync {
        let rewrite = &rewrite;
        let mut below: Option<(&(ObjectId, ObjectId), usize)> = None;
        for pair @ (old, new) in &synced {
            if *old == rewrite.old
                || !repo.is_ancestor(*old, tip)?
                || !repo.is_ancestor(rewrite.old, *old)?
                || !repo.is_ancestor(rewrite.new, *new)?
            {
                continue;
            }
            let local = repo.commits_since(rewrite.old, *old)?.len();
            // The last of the deepest, as `max_by_key` picks.
            if below.is_none_or(|(_, most)| local >= most) {
                below = Some((pair, local));
            }
        }
        let below = below.map(|(pair, _)| pair);
        let first = to_sync_first(repo, name, tip, rewrite, &affected, &covered)?;
        if !first.is_empty() {
            results.push(waiting(name, tip, first));
            continue;
        }
        let mut start = None;
        let onto = match below {
            Some(&(old, new)) => Rewrite { old, new, ..rewrite.clone() },
            None => match deepest_below(repo, tip, rewrite, &would)? {
                Some((old, tree)) => {
                    start = Some(tree);
                    Rewrite { old, ..rewrite.clone() }
                }
                None => rewrite.clone(),
            },
        };
        let checked_out = current.as_deref() == Some(name.as_str());
        let (result, tree) = sync_branch(&run, &mut journal, name, tip, &onto, start, checked_out)?;
        if matches!(result.outcome, SyncOutcome::Moved | SyncOutcome::Replayed) {
            covered.push(tip);
            match (result.new, tree) {
                (Some(new), _) if !options.dry_run => synced.push((tip, new)),
                (_, Some(tree)) => would.push((tip, tree)),
                _ => {}
            }
        }
        results.push(result);
    }
    if !options.dry_run {
        log_sync(repo, remote, &results)?;
    }
    Ok(SyncReport {
        remote: remote.to_string(),
        dry_run: options.dry_run,
        rewrites,
        advanced,
        branches: results,
        also_affected,
    })
}

/// Adds a `sync --undo` (or `git regraft undo` of a sync) to the operation log, as the undo
/// of the logged sync it took back.
fn log_undo(repo: &Repo, moved: &[BranchSync], undone: &[Undone]) -> Result<(), SyncError> {
    use crate::surgery::oplog;
    let path = oplog::path(repo);
    let io = |source| SyncError::Io { path: path.clone(), source };
    let lines = oplog::read(repo).map_err(io)?;
    let mut entry = oplog::Entry::new(oplog::Kind::Undo, "sync --undo");
    entry.undoes = logged_sync(&lines, moved);
    if let Some(id) = entry.undoes {
        entry.what = format!("undo of #{id} (sync)");
    }
    entry.local_refs = undone
        .iter()
        .filter(|u| u.restored && u.found != Some(u.old))
        .map(|u| oplog::RefChange {
            reference: format!("refs/heads/{}", u.branch),
            old: Some(u.new),
            new: Some(u.old),
        })
        .collect();
    oplog::append(repo, entry).map_err(io)?;
    Ok(())
}

/// Adds the branches this sync moved to the operation log.
fn log_sync(repo: &Repo, remote: &str, results: &[BranchSync]) -> Result<(), SyncError> {
    use crate::surgery::oplog;
    let mut entry = oplog::Entry::new(oplog::Kind::Sync, &format!("sync onto {remote}"));
    entry.local_refs = moved_refs(results);
    let path = oplog::path(repo);
    oplog::append(repo, entry).map_err(|source| SyncError::Io { path, source })?;
    Ok(())
}

/// The local branches a sync moved, as the operation log holds them.
fn moved_refs(results: &[BranchSync]) -> Vec<crate::surgery::oplog::RefChange> {
    results
        .iter()
        .filter(|b| matches!(b.outcome, SyncOutcome::Moved | SyncOutcome::Replayed))
        .filter_map(|b| {
            Some(crate::surgery::oplog::RefChange {
                reference: format!("refs/heads/{}", b.branch),
                old: Some(b.old),
                new: Some(b.new?),
            })
        })
        .collect()
}

/// Returns the number of the logged sync that moved exactly `moved`, not undone yet.
pub fn logged_sync(lines: &[crate::surgery::oplog::Line], moved: &[BranchSync]) -> Option<u64> {
    use crate::surgery::oplog::{Kind, Line};
    let undone = crate::surgery::oplog::undone_by(lines);
    let refs = moved_refs(moved);
    lines.iter().rev().find_map(|line| match line {
        Line::Entry(e) if e.kind == Kind::Sync && !undone.contains_key(&e.id) => {
            (e.local_refs == refs).then_some(e.id)
        }
        _ => None,
    })
}

/// Returns the branches the last sync not undone moved, from sync's own record.
pub fn last_run(repo: &Repo) -> Result<Option<Vec<BranchSync>>, SyncError> {
    Ok(read_runs(repo)?.pop())
}

/// Refuses a remote that is not configured: sync reads the remote-tracking branches, so a
/// URL will not do.
fn check_configured(repo: &Repo, remote: &str) -> Result<(), SyncError> {
    let known = repo.remote_names()?;
    if !known.iter().any(|r| r == remote) {
        let near = crate::text::did_you_mean(remote, known.iter().map(String::as_str));
        let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
        return Err(SyncError::UnknownRemote { remote: remote.to_string(), near, known });
    }
    Ok(())
}

/// Refuses a named branch that is not a local branch, naming a close one if there is.
fn check_local(branches: &[LocalBranch], named: &[String]) -> Result<(), SyncError> {
    for branch in named {
        if !branches.iter().any(|b| b.name == *branch) {
            let near = branches
                .iter()
                .map(|b| &b.name)
                .min_by_key(|name| strsim::levenshtein(name, branch))
                .filter(|name| strsim::levenshtein(name, branch) <= 3)
                .cloned();
            return Err(SyncError::NoBranch { branch: branch.clone(), near });
        }
    }
    Ok(())
}

/// Returns the remote-tracking branches (`after` the fetch) that were rewritten, by ref.
fn rewrites(
    repo: &Repo,
    before: &HashMap<String, ObjectId>,
    after: &HashMap<String, ObjectId>,
    explicit_old: Option<ObjectId>,
    branches: &[LocalBranch],
) -> Result<Vec<Rewrite>, RepoError> {
    let mut rewrites = Vec::new();
    for (reference, &new) in after {
        if reference.ends_with("/HEAD") {
            continue;
        }
        if let Some(rewrite) = find_rewrite(
            repo,
            reference,
            new,
            before.get(reference).copied(),
            explicit_old,
            branches,
        )? {
            rewrites.push(rewrite);
        }
    }
    rewrites.sort_by(|a, b| a.reference.cmp(&b.reference));
    Ok(rewrites)
}

/// Returns the advance of `upstream` for a branch at `tip`: the upstream (not rewritten)
/// has commits the branch lacks, so the branch's own commits (those not on the upstream)
/// go onto its tip, and a branch with none is fast-forwarded. `None` when the branch
/// contains its upstream, or their histories are unrelated.
fn advance(
    repo: &Repo,
    upstream: &str,
    tip: ObjectId,
    after: &HashMap<String, ObjectId>,
    rewrites: &[Rewrite],
) -> Result<Option<Rewrite>, SyncError> {
    if rewrites.iter().any(|r| r.reference == upstream) {
        return Ok(None);
    }
    let Some(&new) = after.get(upstream) else { return Ok(None) };
    if repo.is_ancestor(new, tip)? {
        return Ok(None);
    }
    // With several merge bases (criss-cross merges) the branch's history since the one
    // taken has merges, and `sync_branch` leaves it as it is.
    let Some(&old) = repo.merge_bases(tip, new)?.first() else { return Ok(None) };
    Ok(Some(Rewrite { reference: upstream.to_string(), old, new, found_by: ADVANCE.into() }))
}

/// Returns the advance a branch with no upstream (at `tip`) follows: that of a local branch
/// whose unpushed commits it is built on, when it does not contain the new upstream yet.
fn stacked_on_advance(
    repo: &Repo,
    branches: &[LocalBranch],
    follows: &[Option<Rewrite>],
    tip: ObjectId,
) -> Result<Option<Rewrite>, SyncError> {
    for (below, follow) in branches.iter().zip(follows) {
        let Some(advance) = follow.as_ref().filter(|r| r.found_by == ADVANCE) else { continue };
        if below.upstream.is_none()
            || below.tip == tip
            || !repo.is_ancestor(advance.old, tip)?
            || repo.is_ancestor(advance.new, tip)?
        {
            continue;
        }
        let Some(&base) = repo.merge_bases(tip, below.tip)?.first() else { continue };
        if base != advance.old && repo.is_ancestor(advance.old, base)? {
            return Ok(Some(advance.clone()));
        }
    }
    Ok(None)
}

/// Returns the advance a branch with no upstream (at `tip`) follows when it is built on
/// the unpushed commits a sync not undone moved off a branch whose upstream has since
/// moved on: the same advance as that branch had, so its commits go onto where those went.
fn stacked_on_earlier_sync(
    repo: &Repo,
    branches: &[LocalBranch],
    runs: &[Vec<BranchSync>],
    after: &HashMap<String, ObjectId>,
    tip: ObjectId,
) -> Result<Option<Rewrite>, SyncError> {
    for moved in runs.iter().flatten().rev() {
        let Some(new_tip) = moved.new else { continue };
        let upstream =
            branches.iter().find(|b| b.name == moved.branch).and_then(|b| b.upstream.as_ref());
        let Some((upstream, &new)) = upstream.and_then(|u| after.get(u).map(|n| (u, n))) else {
            continue;
        };
        if moved.old == tip
            || !repo.has_object(moved.old)?
            || !repo.has_object(new_tip)?
            || !repo.is_ancestor(moved.old, tip)?
            || repo.is_ancestor(new_tip, tip)?
            || repo.is_ancestor(new, tip)?
        {
            continue;
        }
        let Some(&old) = repo.merge_bases(moved.old, new)?.first() else { continue };
        if old != moved.old {
            return Ok(Some(Rewrite {
                reference: upstream.clone(),
                old,
                new,
                found_by: ADVANCE.into(),
            }));
        }
    }
    Ok(None)
}

/// Tells whether any of `tips` contains `commit`.
fn any_contains<'a>(
    repo: &Repo,
    commit: ObjectId,
    tips: impl IntoIterator<Item = &'a ObjectId>,
) -> Result<bool, RepoError> {
    for tip in tips {
        if repo.is_ancestor(commit, *tip)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Returns (old tip, new tip) of the local branches the syncs not undone moved, whose new
/// tip is still in the repository (where the branch is now does not matter: a branch built
/// on the old tip belongs on the new one, and the branch itself, reset to its old tip, goes
/// back to the same new one).
fn earlier_syncs(
    repo: &Repo,
    runs: &[Vec<BranchSync>],
) -> Result<Vec<(ObjectId, ObjectId)>, SyncError> {
    let mut pairs = Vec::new();
    for moved in runs.iter().flatten() {
        if let Some(new) = moved.new {
            if repo.has_object(moved.old)? && repo.has_object(new)? {
                pairs.push((moved.old, new));
            }
        }
    }
    Ok(pairs)
}

/// Returns the deepest of `would` (old tip, tree) whose old tip is among `tip`'s own
/// commits since `rewrite`'s old tip.
fn deepest_below(
    repo: &Repo,
    tip: ObjectId,
    rewrite: &Rewrite,
    would: &[(ObjectId, ObjectId)],
) -> Result<Option<(ObjectId, ObjectId)>, SyncError> {
    let mut deepest: Option<((ObjectId, ObjectId), usize)> = None;
    for &(old, tree) in would {
        if old == rewrite.old || !repo.is_ancestor(old, tip)? {
            continue;
        }
        let local = repo.commits_since(rewrite.old, old)?.len();
        if deepest.is_none_or(|(_, most)| local >= most) {
            deepest = Some(((old, tree), local));
        }
    }
    Ok(deepest.map(|(found, _)| found))
}

/// Returns the other local branches following the same rewrite whose tips are among
/// `name`'s own commits (strictly between the old upstream tip and `tip`) and are not
/// synced yet, lowest first: `name` must wait for them.
fn to_sync_first(
    repo: &Repo,
    name: &str,
    tip: ObjectId,
    rewrite: &Rewrite,
    affected: &[(&String, ObjectId, Rewrite, usize)],
    covered: &[ObjectId],
) -> Result<Vec<String>, SyncError> {
    let mut first: Vec<(usize, String)> = Vec::new();
    for (other, other_tip, other_rewrite, local) in affected {
        let (other, other_tip, local) = (*other, *other_tip, *local);
        if other == name
            || other_tip == tip
            || other_tip == rewrite.old
            || other_rewrite.reference != rewrite.reference
            || covered.contains(&other_tip)
        {
            continue;
        }
        // A branch at a commit of the old upstream has no unpushed commits to wait for.
        if repo.is_ancestor(other_tip, rewrite.old)? {
            continue;
        }
        if repo.is_ancestor(other_tip, tip)? {
            first.push((local, other.clone()));
        }
    }
    first.sort();
    Ok(first.into_iter().map(|(_, name)| name).collect())
}

/// A branch left as it is until the branches it is built on are synced.
fn waiting(name: &str, tip: ObjectId, first: Vec<String>) -> BranchSync {
    let names = first.join(", ");
    BranchSync {
        branch: name.to_string(),
        outcome: SyncOutcome::Skipped,
        old: tip,
        new: None,
        replayed: 0,
        dropped: Vec::new(),
        detail: Some(format!(
            "it is built on unpushed commits of {names}, not synced yet; sync {names} first, so those commits are replayed once and it stacks on them"
        )),
        backup: None,
        sync_first: first,
    }
}

/// Says why a named or current branch is not synced: its upstream was not rewritten (it
/// needs nothing), or it has no upstream and contains no replaced tip regraft knows of.
fn unsynced(
    name: &str,
    tip: ObjectId,
    upstream: Option<&str>,
    remote: &str,
    rewrites: &[Rewrite],
) -> BranchSync {
    let (outcome, detail) = match upstream {
        Some(upstream) if !rewrites.iter().any(|r| r.reference == upstream) => (
            SyncOutcome::UpToDate,
            format!(
                "{} was not rewritten",
                upstream.strip_prefix("refs/remotes/").unwrap_or(upstream)
            ),
        ),
        Some(upstream) => (
            SyncOutcome::UpToDate,
            format!(
                "it does not contain the replaced tip of {}",
                upstream.strip_prefix("refs/remotes/").unwrap_or(upstream)
            ),
        ),
        None => (
            SyncOutcome::Unknown,
            format!(
                "it has no upstream and contains no replaced tip regraft can find; tell it the tip it was built on with --old-tip REV, or set its upstream with `git branch -u {remote}/<branch> {name}`"
            ),
        ),
    };
    BranchSync {
        branch: name.to_string(),
        outcome,
        old: tip,
        new: None,
        replayed: 0,
        dropped: Vec::new(),
        detail: Some(detail),
        backup: None,
        sync_first: Vec::new(),
    }
}

/// Finds the old tip of a remote branch that was rewritten: the value before the fetch,
/// else its reflog, else `--old-tip`, else a tag marking a replaced tip (`*-early-demise`,
/// `*-eol`, `*-eom`) that a local branch contains.
fn find_rewrite(
    repo: &Repo,
    reference: &str,
    new: ObjectId,
    before: Option<ObjectId>,
    explicit: Option<ObjectId>,
    branches: &[LocalBranch],
) -> Result<Option<Rewrite>, RepoError> {
    let rewritten = |old: ObjectId| -> Result<bool, RepoError> {
        Ok(old != new && !repo.is_ancestor(old, new)?)
    };
    let make = |old, found_by: &str| Rewrite {
        reference: reference.to_string(),
        old,
        new,
        found_by: found_by.to_string(),
    };
    if let Some(old) = before {
        if rewritten(old)? {
            return Ok(Some(make(old, "before-fetch")));
        }
    }
    for old in repo.reflog(reference)? {
        // A reflog may still name a commit that is gone (its objects pruned): no branch
        // here can contain it, so it is no old tip to sync from.
        if repo.has_object(old)? && rewritten(old)? {
            return Ok(Some(make(old, "reflog")));
        }
    }
    let tracked_by = |old: ObjectId| -> Result<bool, RepoError> {
        for b in branches {
            if b.upstream.as_deref() == Some(reference) && repo.is_ancestor(old, b.tip)? {
                return Ok(true);
            }
        }
        Ok(false)
    };
    if let Some(old) = explicit {
        if rewritten(old)? && tracked_by(old)? {
            return Ok(Some(make(old, "--old-tip")));
        }
    }
    let mut tags: Vec<(String, ObjectId)> = repo
        .tags()?
        .into_iter()
        .filter(|(name, _)| ["-early-demise", "-eol", "-eom"].iter().any(|s| name.ends_with(s)))
        .collect();
    tags.sort();
    for (name, old) in tags {
        if rewritten(old)? && tracked_by(old)? {
            return Ok(Some(make(old, &format!("tag {name}"))));
        }
    }
    Ok(None)
}

/// What every branch of one sync shares.
struct SyncRun<'a> {
    repo: &'a Repo,
    /// Where a dry run's merges write their objects (a scratch directory); empty for a
    /// real run.
    env: &'a [(&'a str, &'a OsStr)],
    dry_run: bool,
    /// The time in the backup refs' names.
    stamp: u64,
}

/// Brings one local branch (at `tip`) onto `rewrite`'s new tip: replays its commits since
/// the old tip, drops those already there, keeps a backup ref of the old tip. A dry run
/// replays onto `start` instead when it is given: the tree another branch below would get.
/// Returns the outcome and the tree the branch gets (`None` when it is not synced).
fn sync_branch(
    run: &SyncRun,
    journal: &mut Journal,
    name: &str,
    tip: ObjectId,
    rewrite: &Rewrite,
    start: Option<ObjectId>,
    checked_out: bool,
) -> Result<(BranchSync, Option<ObjectId>), SyncError> {
    let repo = run.repo;
    let mut result = BranchSync {
        branch: name.to_string(),
        outcome: SyncOutcome::Skipped,
        old: tip,
        new: None,
        replayed: 0,
        dropped: Vec::new(),
        detail: None,
        backup: None,
        sync_first: Vec::new(),
    };
    if checked_out && !run.dry_run && has_uncommitted_changes(repo)? {
        result.detail = Some(
            "the work tree has uncommitted changes; commit or stash them, then sync again".into(),
        );
        return Ok((result, None));
    }
    let local = history::commits_between(repo.git(), rewrite.old, tip)?;
    if local.iter().any(|c| c.is_merge()) {
        // A branch that took the old tip in through a merge (a master that merged the old
        // stable branch) must not be rebased: leaving it loses nothing.
        result.detail = Some(format!(
            "its history since the old tip has merges, so regraft does not rewrite it; leaving it as it is loses nothing, and `git merge {}` brings the new branch in",
            rewrite.new.short()
        ));
        return Ok((result, None));
    }
    let Some((new_tip, tree)) = replay(run, &local, tip, rewrite, start, &mut result)? else {
        return Ok((result, None));
    };
    result.outcome = if local.is_empty() { SyncOutcome::Moved } else { SyncOutcome::Replayed };
    if run.dry_run {
        result.new = (result.replayed == 0 && start.is_none()).then_some(rewrite.new);
        return Ok((result, Some(tree)));
    }
    result.new = Some(new_tip);
    move_branch(repo, journal, &mut result, checked_out, run.stamp)?;
    Ok((result, Some(tree)))
}

/// Tells whether the work tree has changes to tracked files.
fn has_uncommitted_changes(repo: &Repo) -> Result<bool, SyncError> {
    let work_tree = WorkTree::new(repo.git(), repo.work_tree().unwrap_or(repo.git_dir()));
    Ok(!work_tree.tracked_changes()?.is_empty())
}

/// Replays `local` (the branch's commits since the old tip, oldest first) onto the new tip,
/// dropping the commits already there and those that become empty, and counts them in
/// `result`. A dry run starts from `start` when it is given (a tree in its scratch
/// objects). Returns the new tip (written only in a real run) and its tree, or `None` at a
/// conflict, which `result` then names.
fn replay(
    run: &SyncRun,
    local: &[history::CommitRecord],
    tip: ObjectId,
    rewrite: &Rewrite,
    start: Option<ObjectId>,
    result: &mut BranchSync,
) -> Result<Option<(ObjectId, ObjectId)>, SyncError> {
    let repo = run.repo;
    let present: HashMap<ObjectId, bool> = if local.is_empty() {
        HashMap::new()
    } else {
        let d = delta::delta(repo, &rewrite.new.to_hex(), &tip.to_hex(), &DeltaOptions::default())?;
        d.source_only.iter().map(|e| (e.commit, e.is_present())).collect()
    };
    let mut new_tip = rewrite.new;
    let mut tree = match start {
        Some(tree) => tree,
        None => repo.tree_of(new_tip)?,
    };
    let mut merger = Merger::start(repo.git(), run.env)?;
    for commit in local {
        if present.get(&commit.id).copied().unwrap_or(false) {
            result.dropped.push(commit.id);
            continue;
        }
        let parent = commit.parents.first().copied().unwrap_or(rewrite.old);
        let answer = merger.merge(parent, tree, commit.id)?;
        if !answer.clean {
            merger.finish()?;
            result.outcome = SyncOutcome::Conflict;
            result.detail =
                Some(format!("{} conflicts in {}", commit.id.short(), answer.conflicts.join(", ")));
            return Ok(None);
        }
        if answer.tree == tree {
            result.dropped.push(commit.id);
            continue;
        }
        result.replayed += 1;
        tree = answer.tree;
        if !run.dry_run {
            let origin = repo.commit_origin(commit.id)?;
            new_tip =
                crate::surgery::apply::recommit(repo, &origin, &origin.message, tree, new_tip)?;
        }
    }
    merger.finish()?;
    Ok(Some((new_tip, tree)))
}

/// Moves the branch of `moved` from its old tip to its new one (and the work tree with it
/// when it is checked out), after keeping the old tip under a new backup ref, named in
/// `moved`, and writing the move down for `--undo` and later syncs.
fn move_branch(
    repo: &Repo,
    journal: &mut Journal,
    moved: &mut BranchSync,
    checked_out: bool,
    stamp: u64,
) -> Result<(), SyncError> {
    let (name, tip) = (moved.branch.as_str(), moved.old);
    let new_tip = moved.new.expect("a branch is moved to its new tip");
    // Two syncs of a branch within a second must not collide on the backup's name.
    let mut backup = format!("refs/regraft/backup/{name}/{stamp}");
    for n in 1.. {
        if repo.reference_target(&backup)?.is_none() {
            break;
        }
        backup = format!("refs/regraft/backup/{name}/{stamp}-{n}");
    }
    let git = repo.git();
    git.create_ref("regraft sync: backup", &backup, tip)?;
    moved.backup = Some(backup);
    journal.record(moved)?;
    let branch_ref = format!("refs/heads/{name}");
    if checked_out {
        WorkTree::new(git, repo.work_tree().unwrap_or(repo.git_dir()))
            .read_tree_two_way(tip, new_tip)?;
    }
    git.update_ref_leased("regraft sync", &branch_ref, new_tip, tip)?;
    Ok(())
}

/// What `--undo` did to one branch the last sync moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    pub branch: String,
    /// Where the sync found it, and where it is now when `restored`.
    pub old: ObjectId,
    /// Where the sync left it.
    pub new: ObjectId,
    /// Where it was when `--undo` ran; `None`: it no longer exists.
    pub found: Option<ObjectId>,
    /// Put back at `old` (or already there); `false`: it moved since the sync, so it is
    /// left as it is (its backup ref still keeps `old`).
    pub restored: bool,
}

/// Takes back the last sync not undone yet: puts each branch it moved back at its old tip
/// (those still where the sync left them), work tree included, and forgets that sync, so
/// the next `--undo` takes back the one before.
pub fn undo(repo: &Repo) -> Result<Vec<Undone>, SyncError> {
    let _lock = Lock::take(repo, "sync --undo")?;
    let mut runs = read_runs(repo)?;
    let Some(moved) = runs.pop() else {
        return Err(SyncError::NothingToUndo { path: runs_path(repo) });
    };
    let current = repo.head_branch()?;
    let git = repo.git();
    let mut undone = Vec::new();
    // Last moved first: each branch goes back past the moves made after it.
    for branch in moved.iter().rev() {
        let Some(new) = branch.new else { continue };
        let reference = format!("refs/heads/{}", branch.branch);
        let found = repo.reference_target(&reference)?;
        let restored = if found == Some(new) {
            if current.as_deref() == Some(branch.branch.as_str()) {
                WorkTree::new(git, repo.work_tree().unwrap_or(repo.git_dir()))
                    .read_tree_two_way(new, branch.old)?;
            }
            git.update_ref_leased("regraft sync --undo", &reference, branch.old, new)?;
            true
        } else {
            // Killed before it moved (still at the old tip), or moved by hand since.
            found == Some(branch.old)
        };
        undone.push(Undone {
            branch: branch.branch.clone(),
            old: branch.old,
            new,
            found,
            restored,
        });
    }
    undone.reverse();
    write_runs(repo, &runs)?;
    log_undo(repo, &moved, &undone)?;
    Ok(undone)
}
