//! Carrying out a backport on a new branch: one commit per pick (or one per stage with
//! squashing), stopping at the first real conflict with the conflict left in the work tree
//! as `git cherry-pick` leaves it, and `--continue`, `--skip` and `--abort` from there.
//!
//! Progress is read back from the branch itself (each commit names its original in a
//! `(cherry picked from commit X)` line), so a run that was killed at any point resumes
//! where the branch is; the state file only records what the branch cannot say (the plan,
//! the skipped picks, where HEAD was).

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::analysis::backport::{self, BackportError, BackportOptions, BackportPlan, StepOutcome};
use crate::analysis::simulation::{Merger, SimulationError};
use crate::git::GitError;
use crate::git::repo::{Repo, RepoError};
use crate::git::rewrite::Authorship;
use crate::git::worktree::{Checkout, WorkTree};
use crate::oid::ObjectId;
use crate::progress::Progress;
use crate::surgery::lock::Lock;
use crate::text::message;

/// Environment variable (for fault tests) that makes a run abort the process after
/// creating this many commits.
pub const FAULT_VAR: &str = "REGRAFT_FAULT_AFTER_PICKS";

/// Errors from carrying out a backport.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Plan(#[from] BackportError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Simulation(#[from] SimulationError),
    #[error(transparent)]
    Name(Box<crate::git::names::NameError>),
    #[error("reading or writing {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the backport state {} cannot be read ({detail}): it records which picks of the \
         backport in progress were made, so that backport cannot be continued and no other can \
         start; `git regraft backport --abort` moves it aside (kept, not deleted)",
        .path.display()
    )]
    Unreadable { path: PathBuf, detail: String },
    #[error("a backport is already in progress on branch {branch} (state in {path})")]
    InProgress { branch: String, path: PathBuf },
    #[error(transparent)]
    Locked(#[from] crate::surgery::lock::LockError),
    #[error("no backport is in progress (no {path})")]
    NotInProgress { path: PathBuf },
    #[error("branch {branch} already exists")]
    BranchExists { branch: String },
    #[error("the work tree has uncommitted changes:\n{changes}")]
    Dirty { changes: String },
    #[error("{path} has unresolved conflicts; resolve them and `git add` them first")]
    Unresolved { path: String },
    #[error("branch {branch} moved to {found} outside this backport (expected {expected})")]
    Moved { branch: String, expected: String, found: String },
    #[error("the resolution of {commit} changes nothing; use --skip to leave it out")]
    EmptyResolution { commit: String },
    #[error(
        "the backport in progress runs in the worktree {} (its conflicts are shown there): \
         continue, skip or abort it from there",
        .worktree.display()
    )]
    OtherWorktree { worktree: PathBuf },
}

/// Errors from writing a commit again ([`recommit`]): through libgit2, or through git
/// where commits are signed.
#[derive(Debug, thiserror::Error)]
pub enum RecommitError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Git(#[from] GitError),
}

impl From<RecommitError> for ApplyError {
    fn from(error: RecommitError) -> Self {
        match error {
            RecommitError::Repo(e) => ApplyError::Repo(e),
            RecommitError::Git(e) => ApplyError::Git(e),
        }
    }
}

impl From<crate::git::names::NameError> for ApplyError {
    fn from(error: crate::git::names::NameError) -> Self {
        ApplyError::Name(Box::new(error))
    }
}

impl ErrorOrigin for ApplyError {
    fn is_user_input(&self) -> bool {
        match self {
            ApplyError::Plan(e) => e.is_user_input(),
            ApplyError::Repo(e) => e.is_user_input(),
            ApplyError::Name(e) => e.is_user_input(),
            ApplyError::Locked(e) => e.is_user_input(),
            ApplyError::Git(_) | ApplyError::Simulation(_) | ApplyError::Io { .. } => false,
            ApplyError::InProgress { .. }
            | ApplyError::NotInProgress { .. }
            | ApplyError::BranchExists { .. }
            | ApplyError::Dirty { .. }
            | ApplyError::Unresolved { .. }
            | ApplyError::Moved { .. }
            | ApplyError::EmptyResolution { .. }
            | ApplyError::Unreadable { .. }
            | ApplyError::OtherWorktree { .. } => true,
        }
    }
}

/// Where HEAD was before the backport, to go back there on `--abort`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "at")]
pub enum Head {
    Branch(String),
    Detached(ObjectId),
    None,
}

/// What the state file keeps between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub target: String,
    pub source: Option<String>,
    /// The full name of the branch being built (`refs/heads/...`).
    pub branch: String,
    pub onto: ObjectId,
    /// Every commit to pick, in order.
    pub picks: Vec<ObjectId>,
    /// Picks left out: empty, or skipped by the user.
    pub skipped: Vec<ObjectId>,
    /// The pick whose conflict waits for the user.
    pub conflicted: Option<ObjectId>,
    pub head: Head,
    /// Whether this backport checked the branch out (to show a conflict).
    pub checked_out: bool,
    pub stage_size: usize,
    pub squash: bool,
    /// The worktree the backport runs in (its work tree, or the git directory when bare):
    /// the state is shared by every worktree of the repository, its checkout is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worktree: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub branch: String,
    pub tip: ObjectId,
    /// Commits created on the branch in this run.
    pub created: usize,
    /// Picks left out as empty in this run.
    pub empty: usize,
    /// Picks already on TARGET and left out (first run only).
    pub present: usize,
    pub stopped: Option<Stopped>,
    pub finished: bool,
    /// When finished: the last commit of each stage, oldest first; review and test each
    /// on its own (one commit per stage with `--squash-stages`).
    pub stage_ends: Vec<ObjectId>,
}

/// Where a run stopped for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stopped {
    pub commit: ObjectId,
    pub summary: String,
    pub conflicts: Vec<String>,
    /// Whether the conflict is in the work tree (false in a bare repository).
    pub in_work_tree: bool,
}

/// What to do with a backport in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    Continue,
    Skip,
    Abort,
}

/// Returns the path of the state file of a backport in progress.
pub fn state_path(repo: &Repo) -> PathBuf {
    repo.state_dir().join("backport.json")
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ApplyError + '_ {
    move |source| ApplyError::Io { path: path.to_path_buf(), source }
}

fn save(repo: &Repo, state: &State) -> Result<(), ApplyError> {
    let path = state_path(repo);
    let text = serde_json::to_vec_pretty(state).expect("the state serializes");
    // Written whole, so a crash never leaves half a state file.
    crate::state_file::write(&path, &text).map_err(io_error(&path))
}

/// Reads the state of the backport in progress, without taking the lock (for `status`);
/// `None` when none is.
pub fn in_progress(repo: &Repo) -> Result<Option<State>, ApplyError> {
    match load(repo) {
        Ok(state) => Ok(Some(state)),
        Err(ApplyError::NotInProgress { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Returns the worktree a backport's conflicts are shown in when started from `repo`.
pub fn worktree(repo: &Repo) -> PathBuf {
    worktree_of(repo)
}

fn load(repo: &Repo) -> Result<State, ApplyError> {
    let path = state_path(repo);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApplyError::NotInProgress { path });
        }
        Err(e) => return Err(ApplyError::Io { path, source: e }),
    };
    serde_json::from_slice(&text)
        .map_err(|e| ApplyError::Unreadable { path, detail: e.to_string() })
}

/// Moves a backport state file that cannot be read aside, to
/// `backport.json.corrupt-<unix time>` (never over another file), and returns where it went;
/// `None` when there is none or it can be read (then `--abort` is [`resume`]'s). The branch
/// the backport was building and HEAD are left as they are: without the file, regraft cannot
/// tell what it made.
// Regression: an unreadable state file was overwritten by the next backport without a word.
pub fn set_aside_unreadable(repo: &Repo) -> Result<Option<PathBuf>, ApplyError> {
    let _lock = Lock::take(repo, "backport")?;
    let path = state_path(repo);
    match load(repo) {
        Err(ApplyError::Unreadable { .. }) => {}
        Ok(_) | Err(ApplyError::NotInProgress { .. }) => return Ok(None),
        Err(e) => return Err(e),
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for n in 0..100 {
        let suffix =
            if n == 0 { format!("corrupt-{stamp}") } else { format!("corrupt-{stamp}-{n}") };
        let aside = path.with_extension(format!("json.{suffix}"));
        // A link never replaces an existing file; the state file's own name goes after.
        match std::fs::hard_link(&path, &aside) {
            Ok(()) => {
                std::fs::remove_file(&path).map_err(io_error(&path))?;
                return Ok(Some(aside));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ApplyError::Io { path, source: e }),
        }
    }
    let source = std::io::Error::other("no free name to move the state file aside to");
    Err(ApplyError::Io { path, source })
}

/// What a backport run starts from: what to pick (as `backport --dry-run` plans it), the
/// branch to build and whether its stages are squashed.
#[derive(Debug, Clone, Copy)]
pub struct StartOptions<'a> {
    /// The branch the backport goes to (TARGET: the new branch starts at its tip).
    pub target: &'a str,
    /// Where the picks come from (`--from`), when the selection needs one.
    pub source: Option<&'a str>,
    /// The selection, stage size and policy, as the dry run takes them.
    pub plan: &'a BackportOptions,
    /// The short name of the branch to create.
    pub branch: &'a str,
    /// Replace each full stage's picks by one commit (`--squash-stages`).
    pub squash_stages: bool,
    /// The simulation of these picks the caller already made (`backport::plan` with this
    /// target, source and `plan`), taken as it is instead of simulating again: the branch
    /// starts at its `onto`. `backport --for-review` makes it once for the requests'
    /// bodies.
    pub planned: Option<&'a BackportPlan>,
}

/// Starts a backport: plans it, creates the branch at TARGET, and applies the picks.
pub fn start(
    repo: &Repo,
    start: &StartOptions<'_>,
    progress: &dyn Progress,
) -> Result<Report, ApplyError> {
    let StartOptions { target, source, plan: options, branch, squash_stages: squash, planned } =
        *start;
    crate::git::names::check_branch(branch)?;
    let _lock = Lock::take(repo, "backport")?;
    match load(repo) {
        Ok(state) => {
            return Err(ApplyError::InProgress { branch: state.branch, path: state_path(repo) });
        }
        Err(ApplyError::NotInProgress { .. }) => {}
        Err(e) => return Err(e),
    }
    let full = format!("refs/heads/{branch}");
    if repo.reference_target(&full)?.is_some() {
        return Err(ApplyError::BranchExists { branch: branch.to_string() });
    }
    if repo.work_tree().is_some() {
        require_clean(repo)?;
    }
    let simulated;
    let plan = match planned {
        Some(plan) => plan,
        None => {
            simulated = backport::plan(repo, target, source, options, progress)?;
            &simulated
        }
    };
    let present = plan.steps.iter().filter(|s| s.outcome == StepOutcome::Present).count();
    let picks: Vec<ObjectId> =
        plan.steps.iter().filter(|s| s.outcome != StepOutcome::Present).map(|s| s.commit).collect();
    let state = State {
        target: target.to_string(),
        source: source.map(str::to_string),
        branch: full.clone(),
        onto: plan.onto,
        picks,
        skipped: Vec::new(),
        conflicted: None,
        head: current_head(repo)?,
        checked_out: false,
        stage_size: options.stage_size.max(1),
        squash,
        worktree: Some(worktree_of(repo)),
    };
    repo.git().create_ref("regraft backport: start", &full, plan.onto)?;
    save(repo, &state)?;
    let mut report = advance(repo, state, progress)?;
    report.present = present;
    Ok(report)
}

/// Continues, skips the conflicting pick of, or aborts the backport in progress.
pub fn resume(repo: &Repo, action: Resume, progress: &dyn Progress) -> Result<Report, ApplyError> {
    let _lock = Lock::take(repo, "backport")?;
    let mut state = load(repo)?;
    if let Some(worktree) = state.worktree.as_ref().filter(|w| **w != worktree_of(repo)) {
        return Err(ApplyError::OtherWorktree { worktree: worktree.clone() });
    }
    let git = repo.git();
    match action {
        Resume::Abort => {
            if state.checked_out {
                if cherry_pick_in_progress(repo) {
                    git.cherry_pick_abort()?;
                }
                match &state.head {
                    Head::Branch(name) => {
                        let short = name.strip_prefix("refs/heads/").unwrap_or(name);
                        work_tree(repo)?.checkout_branch(short, Checkout::Force)?;
                    }
                    Head::Detached(id) => {
                        work_tree(repo)?.force_detach(*id)?;
                    }
                    Head::None => {}
                }
            }
            if let Some(tip) = repo.reference_target(&state.branch)? {
                git.delete_ref_leased("regraft backport: abort", &state.branch, tip)?;
            }
            remove_state(repo)?;
            return Ok(Report {
                branch: state.branch,
                tip: state.onto,
                created: 0,
                empty: 0,
                present: 0,
                stopped: None,
                finished: true,
                stage_ends: Vec::new(),
            });
        }
        Resume::Skip => {
            if let Some(commit) = state.conflicted.take() {
                if state.checked_out && cherry_pick_in_progress(repo) {
                    // Drops the conflicted pick and any attempt at resolving it.
                    let work_tree = work_tree(repo)?;
                    work_tree.reset_hard_head()?;
                    // Nothing is lost if git has already forgotten the pick.
                    let _ = work_tree.cherry_pick_quit();
                }
                state.skipped.push(commit);
            }
        }
        Resume::Continue => {
            if let Some(commit) = state.conflicted {
                if state.checked_out && cherry_pick_in_progress(repo) {
                    commit_resolution(repo, &state, commit)?;
                }
                state.conflicted = None;
            }
        }
    }
    save(repo, &state)?;
    advance(repo, state, progress)
}

/// Applies the remaining picks from the branch's tip until done or a conflict.
fn advance(repo: &Repo, mut state: State, progress: &dyn Progress) -> Result<Report, ApplyError> {
    let git = repo.git();
    let mut tip = branch_tip(repo, &state)?;
    // When the branch is checked out, the work tree shows this commit until synced.
    let shown = tip;
    let done = applied_since(repo, state.onto, tip)?;
    let skipped: HashSet<ObjectId> = state.skipped.iter().copied().collect();
    let todo: Vec<ObjectId> =
        state.picks.iter().copied().filter(|c| !done.contains(c) && !skipped.contains(c)).collect();
    let (mut created, mut empty) = (0usize, 0usize);
    let mut stopped = None;
    let env: [(&str, &OsStr); 0] = [];
    let mut merger = Merger::start(git, &env)?;
    progress.start("applying picks", todo.len());
    for commit in todo {
        let info = repo.commit_info(commit)?;
        let Some(parent) = info.parents.first().copied() else {
            state.skipped.push(commit);
            continue;
        };
        let answer = merger.merge(parent, repo.tree_of(tip)?, commit)?;
        if !answer.clean {
            state.conflicted = Some(commit);
            let in_work_tree = repo.work_tree().is_some();
            if in_work_tree {
                sync_work_tree(repo, &state, shown, tip)?;
                show_conflict(repo, &mut state, commit)?;
            }
            save(repo, &state)?;
            stopped = Some(Stopped {
                commit,
                summary: info.summary,
                conflicts: answer.conflicts,
                in_work_tree,
            });
            break;
        }
        if answer.tree == repo.tree_of(tip)? {
            state.skipped.push(commit);
            save(repo, &state)?;
            empty += 1;
            progress.advance(1);
            continue;
        }
        let new = create_commit(repo, commit, answer.tree, tip)?;
        move_branch(repo, &state.branch, tip, new)?;
        tip = new;
        created += 1;
        crate::fault::abort_when(FAULT_VAR, created);
        tip = squash_stage(repo, &state, tip, Stage::IfFull)?;
        progress.advance(1);
    }
    merger.finish()?;
    progress.finish();
    let finished = stopped.is_none();
    let mut stage_ends = Vec::new();
    if finished {
        tip = squash_stage(repo, &state, tip, Stage::Last)?;
        sync_work_tree(repo, &state, shown, tip)?;
        remove_state(repo)?;
        let mut commits = repo.commits_since(state.onto, tip)?;
        commits.reverse();
        let per_stage = if state.squash { 1 } else { state.stage_size };
        stage_ends = commits.chunks(per_stage).filter_map(|c| c.last().copied()).collect();
    }
    Ok(Report {
        branch: state.branch,
        tip,
        created,
        empty,
        present: 0,
        stopped,
        finished,
        stage_ends,
    })
}

/// Commits the user's resolution of `commit` with the backport's message and the
/// original author.
fn commit_resolution(repo: &Repo, state: &State, commit: ObjectId) -> Result<(), ApplyError> {
    let work_tree = work_tree(repo)?;
    if let Some(path) = work_tree.first_unmerged()? {
        return Err(ApplyError::Unresolved { path });
    }
    let tip = branch_tip(repo, state)?;
    let tree = work_tree.write_tree()?;
    if tree == repo.tree_of(tip)? {
        return Err(ApplyError::EmptyResolution { commit: commit.short() });
    }
    let new = create_commit(repo, commit, tree, tip)?;
    // The branch is checked out: move it and leave index and work tree as resolved.
    repo.git().update_ref_leased("regraft backport: resolved", &state.branch, new, tip)?;
    // Nothing is lost if git has already forgotten the pick.
    let _ = work_tree.cherry_pick_quit();
    Ok(())
}

/// Creates the backport commit of `original` with `tree` on `parent`.
fn create_commit(
    repo: &Repo,
    original: ObjectId,
    tree: ObjectId,
    parent: ObjectId,
) -> Result<ObjectId, ApplyError> {
    let origin = repo.commit_origin(original)?;
    let message = message::backport_message(&origin.message, &original.to_hex());
    Ok(recommit(repo, &origin, &message, tree, parent)?)
}

/// Writes a commit of `tree` on `parent` with `origin`'s author, author date and message
/// encoding, and `message` (the committer is the user, as git would make it).
///
/// The commit is the one `git commit-tree` would write, written through libgit2 so a run
/// starts no process per commit; where commits are signed (`commit.gpgSign`), git writes
/// each one, so signing works as the user set it up.
pub(crate) fn recommit(
    repo: &Repo,
    origin: &crate::git::repo::CommitOrigin,
    message: &[u8],
    tree: ObjectId,
    parent: ObjectId,
) -> Result<ObjectId, RecommitError> {
    if !repo.signs_commits()? {
        let committer = repo.committer_ident()?;
        let mut raw = format!(
            "tree {tree}\nparent {parent}\nauthor {} <{}> {}\ncommitter {committer}\n",
            origin.author_name, origin.author_email, origin.author_date
        )
        .into_bytes();
        // git writes the header only for an encoding other than UTF-8.
        if let Some(encoding) = origin
            .encoding
            .as_ref()
            .filter(|e| !e.eq_ignore_ascii_case("utf-8") && !e.eq_ignore_ascii_case("utf8"))
        {
            raw.extend_from_slice(format!("encoding {encoding}\n").as_bytes());
        }
        raw.push(b'\n');
        raw.extend_from_slice(message);
        return Ok(repo.write_commit(&raw)?);
    }
    let author = Authorship {
        name: &origin.author_name,
        email: &origin.author_email,
        date: &origin.author_date,
        encoding: origin.encoding.as_deref(),
    };
    Ok(repo.git().commit_tree(tree, parent, message, Some(&author))?)
}

/// Moves the branch from `old` to `new`, refusing if it moved meanwhile.
fn move_branch(repo: &Repo, branch: &str, old: ObjectId, new: ObjectId) -> Result<(), ApplyError> {
    // Through libgit2, compare-and-swap like `git update-ref NEW OLD`: no process per pick.
    if repo.move_ref(branch, new, old, "regraft backport")? {
        return Ok(());
    }
    Err(ApplyError::Moved {
        branch: branch.to_string(),
        expected: old.short(),
        found: repo.reference_target(branch)?.map_or("nothing".into(), |f| f.short()),
    })
}

/// Which stage [`squash_stage`] may squash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The stage in progress, once it has its full size.
    IfFull,
    /// The last one, whatever its size: the picks are done.
    Last,
}

/// With `--squash-stages`, replaces the picks of a full stage (or, at the end, of the last
/// one) by one commit whose message lists them all.
fn squash_stage(
    repo: &Repo,
    state: &State,
    tip: ObjectId,
    stage_now: Stage,
) -> Result<ObjectId, ApplyError> {
    let at_end = stage_now == Stage::Last;
    if !state.squash {
        return Ok(tip);
    }
    let commits = repo.commits_since(state.onto, tip)?;
    // Picks since the last squashed stage (newest first).
    let mut stage: Vec<ObjectId> = Vec::new();
    let mut stage_base = state.onto;
    let mut stages_done = 0;
    for c in &commits {
        let origin = repo.commit_origin(*c)?;
        if origin.message.starts_with(b"Backport stage ") {
            stage_base = *c;
            stages_done = commits
                .iter()
                .filter(|x| {
                    repo.commit_origin(**x).is_ok_and(|o| o.message.starts_with(b"Backport stage "))
                })
                .count();
            break;
        }
        stage.push(*c);
    }
    if stage.is_empty() || (!at_end && stage.len() < state.stage_size) {
        return Ok(tip);
    }
    stage.reverse();
    let mut message = format!(
        "Backport stage {} to {}{}: {} commits\n\n",
        stages_done + 1,
        state.target,
        state.source.as_deref().map(|s| format!(" from {s}")).unwrap_or_default(),
        stage.len()
    );
    for c in &stage {
        let origin = repo.commit_origin(*c)?;
        let text = String::from_utf8_lossy(&origin.message).into_owned();
        message.push_str(&format!("* {}\n", message::subject(text.as_bytes())));
        if let Some(footer) = text.trim_end().rsplit("\n\n").next() {
            for line in footer.lines() {
                message.push_str(&format!("  {line}\n"));
            }
        }
    }
    let tree = repo.tree_of(tip)?;
    // Picks reviewed on Gerrit carry Change-Ids, and a Gerrit refuses a commit without one:
    // the stage is a new change, so it gets its own, made as Gerrit's commit-msg hook makes
    // one (a SHA-1 of the commit's text), in the message's last paragraph.
    // Regression: squashed stages had only the picks' ids, indented, which Gerrit ignores.
    let mut with_ids = false;
    for c in &stage {
        with_ids |= !message::change_ids(&repo.commit_origin(*c)?.message).is_empty();
    }
    if with_ids {
        let text = format!("tree {tree}\nparent {stage_base}\n\n{message}");
        let digest = <sha1::Sha1 as sha1::Digest>::digest(text.as_bytes());
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&digest);
        message.push_str(&format!("\nChange-Id: I{}\n", ObjectId::from_bytes(bytes)));
    }
    let new = repo.git().commit_tree(tree, stage_base, message.as_bytes(), None)?;
    move_branch(repo, &state.branch, tip, new)?;
    Ok(new)
}

/// Returns the originals named by the commits on the branch since `onto`.
fn applied_since(
    repo: &Repo,
    onto: ObjectId,
    tip: ObjectId,
) -> Result<HashSet<ObjectId>, ApplyError> {
    let mut done = HashSet::new();
    for c in repo.commits_since(onto, tip)? {
        let origin = repo.commit_origin(c)?;
        for reference in message::cherry_picked_from(&origin.message) {
            if let Some(id) = ObjectId::from_hex(reference.as_bytes()) {
                done.insert(id);
            }
        }
    }
    Ok(done)
}

fn branch_tip(repo: &Repo, state: &State) -> Result<ObjectId, ApplyError> {
    repo.reference_target(&state.branch)?.ok_or_else(|| ApplyError::Moved {
        branch: state.branch.clone(),
        expected: "to exist".into(),
        found: "nothing".into(),
    })
}

fn current_head(repo: &Repo) -> Result<Head, ApplyError> {
    let git = repo.git();
    if let Some(name) = git.head_symbolic_ref()? {
        return Ok(Head::Branch(name));
    }
    Ok(git.head_commit()?.map_or(Head::None, Head::Detached))
}

fn require_clean(repo: &Repo) -> Result<(), ApplyError> {
    let changes = work_tree(repo)?.tracked_changes()?;
    if !changes.is_empty() {
        return Err(ApplyError::Dirty { changes: changes.trim_end().to_string() });
    }
    Ok(())
}

/// Checks the branch out and runs `git cherry-pick -x` of `commit` there, so the conflict
/// is in the work tree exactly as git leaves it.
fn show_conflict(repo: &Repo, state: &mut State, commit: ObjectId) -> Result<(), ApplyError> {
    if !state.checked_out {
        require_clean(repo)?;
        let short = state.branch.strip_prefix("refs/heads/").unwrap_or(&state.branch).to_string();
        work_tree(repo)?.checkout_branch(&short, Checkout::Keep)?;
        state.checked_out = true;
        save(repo, state)?;
    }
    // git exits 1 on a conflict; that is the point.
    work_tree(repo)?.cherry_pick_x(commit)?;
    Ok(())
}

/// Brings the index and work tree of a checked-out branch from `shown` to `tip`, which
/// commits made with `commit-tree` moved the branch to (a two-tree `read-tree`, which
/// refuses to overwrite local changes).
fn sync_work_tree(
    repo: &Repo,
    state: &State,
    shown: ObjectId,
    tip: ObjectId,
) -> Result<(), ApplyError> {
    if state.checked_out && shown != tip {
        work_tree(repo)?.read_tree_two_way(shown, tip)?;
    }
    Ok(())
}

/// Returns the worktree `repo` was opened in: its work tree, or its git directory when bare.
fn worktree_of(repo: &Repo) -> PathBuf {
    repo.work_tree().unwrap_or(repo.git_dir()).to_path_buf()
}

fn cherry_pick_in_progress(repo: &Repo) -> bool {
    repo.git_dir().join("CHERRY_PICK_HEAD").exists()
}

fn remove_state(repo: &Repo) -> Result<(), ApplyError> {
    let path = state_path(repo);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(ApplyError::Io { path, source: e })
        }
        _ => Ok(()),
    }
}

/// Returns the repository's work tree, or an error for a bare repository.
fn work_tree(repo: &Repo) -> Result<WorkTree<'_>, ApplyError> {
    let work_tree = repo.work_tree().ok_or_else(|| ApplyError::Io {
        path: repo.git_dir().to_path_buf(),
        source: std::io::Error::other("this needs a work tree"),
    })?;
    Ok(WorkTree::new(repo.git(), work_tree))
}
