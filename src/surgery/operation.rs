//! Plan, then execute: an operation that changes refs is an ordered list of steps, each
//! with its exact action (a `git` argv), its precondition and how it is verified; shown
//! whole in a dry run, then run step by step with a journal so an interrupted run resumes.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::git::GitError;
use crate::git::action::{GitAction, Lease, Push, Refspec};
use crate::git::repo::Repo;
use crate::oid::ObjectId;
use crate::review::HostFactory;
use crate::surgery::lock::{Lock, LockError};
pub use crate::surgery::plan::{
    Action, BranchChange, Check, Notice, Plan, Restore, ReviewCall, ReviewStep, Step,
};
pub use crate::surgery::step_id::{StepId, StepKind};
pub use crate::surgery::unreadable_journal::CorruptJournal;
use crate::surgery::unreadable_journal::{abort_unreadable, corrupt_journal};

/// Environment variable (for fault tests, see [`crate::fault`]) that aborts the process
/// after this many steps.
pub const FAULT_VAR: &str = "REGRAFT_FAULT_AFTER_STEPS";

/// Errors from executing a plan.
#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("reading or writing {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "step {step} not run: {check} does not hold (found {found}); nothing was changed by it"
    )]
    Precondition { step: String, check: String, found: String },
    #[error("step {step} ran but {check} does not hold afterwards (found {found})")]
    Verification { step: String, check: String, found: String },
    #[error("an operation is already in progress: {operation} (journal {path})")]
    InProgress { operation: String, path: PathBuf },
    #[error("no operation is in progress (no {path})")]
    NotInProgress { path: PathBuf },
    #[error(transparent)]
    Review(#[from] crate::review::ReviewError),
    /// A forge step failed on a host a file named, to which the environment's token was
    /// not sent (it would have been, had the user named the host).
    #[error("{error}; {withheld} was not sent to it: {hint}")]
    TokenWithheld {
        /// In the message itself: a source would repeat it in the chain.
        error: Box<crate::review::ReviewError>,
        withheld: &'static str,
        hint: String,
    },
    #[error(
        "step {step}: {remote} {reference} moved since the plan was made: it is {found}, the plan \
         expected {expected}; the push was refused as a whole, so nothing of that work is lost"
    )]
    RemoteMoved { step: String, remote: String, reference: String, expected: String, found: String },
    #[error(
        "step {step}: {remote} refused to {what} {reference}: {summary}; that ref was not changed"
    )]
    PushRefused {
        step: String,
        remote: String,
        reference: String,
        /// git's summary, e.g. `[remote rejected] (deletion prohibited)`.
        summary: String,
        what: PushKind,
        /// The branch a plan replaces and what it replaces it with, as the user named them,
        /// for the hint that names the strategies a strict server allows.
        replacing: Option<Box<(String, String)>>,
    },
    #[error(transparent)]
    NotOurs(Box<LeftAlone>),
    #[error("an --abort of `{operation}` was interrupted; finish it with --abort")]
    AbortInProgress { operation: String },
    #[error(
        "reviews {numbers} could not be restored; they stay in the record for `git regraft restore --from-journal --execute`"
    )]
    NotRestored { numbers: String },
    #[error(
        "{word}s {requests} on {branch} could not be reopened; they stay in the request log: put {branch} back (`git regraft undo`) and run `git regraft restore --from-journal --branch {branch} --execute` again"
    )]
    NotReopened { requests: String, word: &'static str, branch: String },
    #[error(transparent)]
    CorruptJournal(Box<CorruptJournal>),
    #[error(transparent)]
    NotPutBack(Box<NotPutBack>),
    #[error(transparent)]
    RemoteUnreachable(Box<RemoteUnreachable>),
}

/// What a refused push was doing to its ref.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushKind {
    Create,
    Update,
    Delete,
}

impl std::fmt::Display for PushKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PushKind::Create => "create",
            PushKind::Update => "update",
            PushKind::Delete => "delete",
        })
    }
}

/// A step the server refused definitely (git's porcelain `!` status): it changed nothing,
/// and the server said why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub step: StepId,
    /// The server's reason as git reports it, e.g. `(deletion prohibited)`.
    pub reason: String,
}

/// A forge step whose call failed (the host's error, a timeout): unlike a refusal, it may or
/// may not have changed something, so the step stays started; kept for `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub step: StepId,
    /// The error as the command reported it (the host's message; never a credential).
    pub error: String,
}

/// Returns the reason of git's summary of a refused ref: `[remote rejected] (deletion
/// prohibited)` gives `(deletion prohibited)`; a summary with nothing after its bracket is
/// kept whole.
fn refusal_reason(summary: &str) -> String {
    let rest = summary
        .strip_prefix('[')
        .and_then(|s| s.split_once(']'))
        .map(|(_, rest)| rest.trim())
        .filter(|rest| !rest.is_empty());
    rest.unwrap_or(summary).to_string()
}

/// The remote an operation in progress needs cannot be reached: renamed, removed, moved
/// away, or named wrong in the journal. Nothing was changed and the journal is kept.
#[derive(Debug, thiserror::Error)]
#[error(
    "{doing} needs the remote {remote}, which cannot be reached: {problem}. Nothing was \
     changed and the journal is kept. {remains}"
)]
pub struct RemoteUnreachable {
    /// `--continue` or `--abort`.
    pub doing: String,
    pub remote: String,
    /// Why, in words (no such remote, or git's own message).
    pub problem: String,
    /// What this operation may have left on the remote, from the journal.
    pub remains: String,
}

/// What `--abort` could not put back, because the remote refused it.
#[derive(Debug, thiserror::Error)]
#[error(
    "{remote} {reference} could not be put back at {old}: {why}. It is still at {found}; \
     the old tip is kept by tag {tag}. The journal is kept: once {remote} allows it (or an \
     administrator moves the branch back), run --abort again"
)]
pub struct NotPutBack {
    pub remote: String,
    pub reference: String,
    pub old: String,
    pub found: String,
    pub tag: String,
    pub why: String,
}

/// What `--abort` found on the remote that this operation did not push, and left alone.
#[derive(Debug, thiserror::Error)]
#[error(
    "{remote} {reference} is at {found}, which this operation did not push (it left {left}): \
     someone changed it since, so --abort leaves it alone; putting back {old} would drop \
     {found} and what it carries. The operation is dropped; tag {tag} keeps the old tip{reviews}"
)]
pub struct LeftAlone {
    pub remote: String,
    pub reference: String,
    pub found: String,
    pub left: String,
    pub old: String,
    pub tag: String,
    /// The reviews this operation abandoned, which stay abandoned and recorded, with the
    /// command that restores them; empty when it abandoned none.
    pub reviews: String,
}

/// The state of the world (a remote that moved, a check that does not hold, an operation
/// in progress) is the user's to look at, as is their input; git and the machine are not.
impl ErrorOrigin for OperationError {
    fn is_user_input(&self) -> bool {
        match self {
            OperationError::Git(_)
            | OperationError::Io { .. }
            | OperationError::NotRestored { .. }
            | OperationError::NotReopened { .. } => false,
            OperationError::Review(e) => e.is_user_input(),
            OperationError::TokenWithheld { error, .. } => error.is_user_input(),
            OperationError::Lock(e) => e.is_user_input(),
            OperationError::Precondition { .. }
            | OperationError::Verification { .. }
            | OperationError::InProgress { .. }
            | OperationError::NotInProgress { .. }
            | OperationError::RemoteMoved { .. }
            | OperationError::PushRefused { .. }
            | OperationError::NotOurs(_)
            | OperationError::AbortInProgress { .. }
            | OperationError::CorruptJournal(_)
            | OperationError::NotPutBack(_)
            | OperationError::RemoteUnreachable(_) => true,
        }
    }
}

/// Returns the plan of the last operation that finished in this repository.
pub fn last_finished(repo: &Repo) -> Option<Plan> {
    let text = std::fs::read(last_path(repo)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Returns the plan of the last operation that finished in this repository, with when it
/// finished.
pub fn last_finished_when(repo: &Repo) -> Option<(Plan, std::time::SystemTime)> {
    let when = std::fs::metadata(last_path(repo)).ok()?.modified().ok()?;
    Some((last_finished(repo)?, when))
}

fn last_path(repo: &Repo) -> PathBuf {
    repo.state_dir().join("last-operation.json")
}

/// The journal of a plan being executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Journal {
    plan: Plan,
    done: Vec<StepId>,
    /// The step whose action was started and has not been seen to finish: after a kill, it
    /// may or may not have changed the remote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    started: Option<StepId>,
    /// The step the server refused, with its reason: unlike a started one, it is known to
    /// have changed nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refused: Option<Refusal>,
    /// The forge step whose call failed last, with the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failed: Option<Failure>,
    /// The values `--abort` has set (or was setting) the restored ref to, once it began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    abort: Option<Vec<Option<ObjectId>>>,
    /// The steps found already done (their outcome held): they changed nothing, so the
    /// operation log does not count them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    found_done: Vec<StepId>,
    /// When the operation began, in seconds since 1970: the reviews it abandoned are the
    /// record's entries of its name since then.
    #[serde(default)]
    began: u64,
    /// The reviews its restore steps brought back, for the operation log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    restored: Vec<crate::surgery::oplog::ReviewChange>,
}

impl Journal {
    fn new(plan: Plan) -> Journal {
        Journal {
            plan,
            done: Vec::new(),
            started: None,
            refused: None,
            failed: None,
            abort: None,
            found_done: Vec::new(),
            began: crate::review::now(),
            restored: Vec::new(),
        }
    }

    /// Returns the steps this operation carried out itself.
    fn ran(&self) -> Vec<StepId> {
        self.done.iter().filter(|id| !self.found_done.contains(id)).copied().collect()
    }

    /// Returns the entry of the operation log for what it did.
    fn log_entry(&self, repo: &Repo) -> crate::surgery::oplog::Entry {
        crate::surgery::oplog::of_plan(repo, &self.plan, &self.ran(), self.began, &self.restored)
    }

    /// Returns the values of `reference` on the remote that this operation may have left:
    /// the value after its last finished step that sets it (the old value when none did),
    /// then the value of a step that was started but not seen to finish, then what an
    /// interrupted abort was setting.
    fn values_left(
        &self,
        reference: &str,
        old: ObjectId,
    ) -> (Option<ObjectId>, Vec<Option<ObjectId>>) {
        let sets = |step: &Step| {
            step.verification.iter().find_map(|check| match check {
                Check::RemoteRef { reference: r, expected } if r == reference => Some(*expected),
                _ => None,
            })
        };
        let mut left = Some(old);
        let mut maybe = Vec::new();
        for step in &self.plan.steps {
            if self.done.contains(&step.id) {
                if let Some(value) = sets(step) {
                    left = value;
                }
            } else if self.started == Some(step.id) {
                maybe.extend(sets(step));
            }
        }
        maybe.extend(self.abort.iter().flatten().copied());
        (left, maybe)
    }
}

/// Where the operation in progress stands, as its journal says (for `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub journal: PathBuf,
    pub plan: Plan,
    /// The ids of the finished steps.
    pub done: Vec<StepId>,
    /// The step that was started and not seen to finish.
    pub started: Option<StepId>,
    /// The step the server refused, and why.
    pub refused: Option<Refusal>,
    /// The forge step whose call failed, and the error.
    pub failed: Option<Failure>,
    /// Whether an `--abort` began and did not finish.
    pub aborting: bool,
}

/// Reads the journal of the operation in progress, without taking the lock or touching the
/// remote; `None` when nothing is in progress. An unreadable journal is
/// [`OperationError::CorruptJournal`].
pub fn in_progress(repo: &Repo) -> Result<Option<Progress>, OperationError> {
    Ok(load(repo)?.map(|journal| Progress {
        journal: journal_path(repo),
        plan: journal.plan,
        done: journal.done,
        started: journal.started,
        refused: journal.refused,
        failed: journal.failed,
        aborting: journal.abort.is_some(),
    }))
}

/// How a step went, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// Its outcome already held (a resumed run): nothing done.
    AlreadyDone,
    /// About to ask a review server (named in the step): reported before the request, so
    /// the user sees which server is asked before it is.
    Asking,
    Done,
}

fn journal_path(repo: &Repo) -> PathBuf {
    repo.state_dir().join("journal.json")
}

fn load(repo: &Repo) -> Result<Option<Journal>, OperationError> {
    let path = journal_path(repo);
    match std::fs::read(&path) {
        Ok(text) => match serde_json::from_slice::<Journal>(&text) {
            // A step regraft would not have made (an edited journal) is not run, nor
            // trusted to say what ran: the journal is as unreadable as a torn one.
            Ok(journal) => match crate::surgery::saved_plan::check_steps(repo, &journal.plan) {
                Ok(()) => Ok(Some(journal)),
                Err((step, problem)) => {
                    Err(OperationError::CorruptJournal(Box::new(corrupt_journal(
                        repo,
                        path,
                        format!("step {step}: {problem}; regraft makes no such step"),
                        &text,
                    ))))
                }
            },
            Err(e) => {
                let detail =
                    if text.is_empty() { "it is empty".to_string() } else { e.to_string() };
                Err(OperationError::CorruptJournal(Box::new(corrupt_journal(
                    repo, path, detail, &text,
                ))))
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(OperationError::Io { path, source: e }),
    }
}

fn save(repo: &Repo, journal: &Journal) -> Result<(), OperationError> {
    let path = journal_path(repo);
    let text = serde_json::to_vec_pretty(journal).expect("the journal serializes");
    // Written whole and synced: a crash never leaves half a journal.
    crate::state_file::write(&path, &text).map_err(|source| OperationError::Io { path, source })
}

fn remove(repo: &Repo) -> Result<(), OperationError> {
    let path = journal_path(repo);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(OperationError::Io { path, source: e })
        }
        _ => Ok(()),
    }
}

/// Executes `plan` from its first step, journaling each; refuses when another operation is
/// in progress. Every review host is reached through `hosts`.
pub fn execute(
    repo: &Repo,
    hosts: &dyn HostFactory,
    plan: Plan,
    report: &mut dyn FnMut(&Step, StepStatus),
) -> Result<(), OperationError> {
    let _lock = Lock::take(repo, &plan.operation)?;
    // Missing credentials for a review server are found before anything changes.
    check_credentials(repo, hosts, &plan)?;
    if let Some(journal) = load(repo)? {
        return Err(OperationError::InProgress {
            operation: journal.plan.operation,
            path: journal_path(repo),
        });
    }
    let journal = Journal::new(plan);
    save(repo, &journal)?;
    run(repo, hosts, journal, report)
}

/// Resumes the operation in progress at its first unfinished step, reaching every review
/// host through `hosts`.
pub fn resume(
    repo: &Repo,
    hosts: &dyn HostFactory,
    report: &mut dyn FnMut(&Step, StepStatus),
) -> Result<Plan, OperationError> {
    let _lock = Lock::take(repo, "resume")?;
    let journal =
        load(repo)?.ok_or_else(|| OperationError::NotInProgress { path: journal_path(repo) })?;
    if journal.abort.is_some() {
        return Err(OperationError::AbortInProgress { operation: journal.plan.operation });
    }
    reach(repo, &journal, "--continue")?;
    let plan = journal.plan.clone();
    run(repo, hosts, journal, report)?;
    Ok(plan)
}

/// What `--abort` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbortReport {
    /// The operation aborted, in words.
    pub operation: String,
    /// What was put back, in words.
    pub restored: Vec<String>,
    /// What could not be undone, in words.
    pub kept: Vec<String>,
    /// What is left for the user to undo, in words with the command that does it (reviews
    /// this operation abandoned that could not be restored); empty when all is undone.
    pub unfinished: Vec<String>,
}

/// Undoes what this operation did and nothing else: the remote ref goes back to its old
/// tip only while it holds a value this operation pushed (the journal says which), and
/// every push of the abort is leased against that value. Tags that keep the old tip stay.
///
/// An unreadable journal cannot say what this operation pushed, so nothing on the remote is
/// touched: the journal is moved aside (kept for a human to read) and the way is clear.
/// Every review host is reached through `hosts`.
pub fn abort(repo: &Repo, hosts: &dyn HostFactory) -> Result<AbortReport, OperationError> {
    let _lock = Lock::take(repo, "abort")?;
    let mut journal = match load(repo) {
        Err(OperationError::CorruptJournal(corrupt)) => return abort_unreadable(*corrupt),
        loaded => loaded?,
    }
    .ok_or_else(|| OperationError::NotInProgress { path: journal_path(repo) })?;
    // Nothing on a remote that cannot be read can be leased against: no guessing.
    reach(repo, &journal, "--abort")?;
    let plan = journal.plan.clone();
    let (mut restored, mut kept) = (Vec::new(), Vec::new());
    if let Some(restore) = &plan.restore {
        let (left, maybe) = journal.values_left(&restore.reference, restore.old);
        let current = remote_ref(repo, &plan.remote, &restore.reference)?;
        let describe = |value: Option<ObjectId>| value.map_or("nothing".to_string(), |v| v.short());
        if current == Some(restore.old) {
            restored.push(format!(
                "{} {} is at its old tip {}: nothing to put back",
                plan.remote,
                restore.reference,
                restore.old.short()
            ));
        } else if current != left && !maybe.contains(&current) {
            remove(repo)?;
            return Err(OperationError::NotOurs(Box::new(LeftAlone {
                remote: plan.remote.clone(),
                reference: restore.reference.clone(),
                found: describe(current),
                left: describe(left),
                old: restore.old.short(),
                tag: restore.tag.clone(),
                reviews: abandoned_note(repo, &journal),
            })));
        } else {
            match put_back(repo, &mut journal, restore, current) {
                Ok(()) => restored.push(format!(
                    "{} {} is back at {}",
                    plan.remote,
                    restore.reference,
                    restore.old.short()
                )),
                Err(e @ OperationError::RemoteMoved { .. }) => return Err(e),
                // The journal stays: the operation is not undone, and a later --abort
                // (once the server allows it) finishes the job.
                Err(e) => {
                    return Err(OperationError::NotPutBack(Box::new(NotPutBack {
                        remote: plan.remote.clone(),
                        reference: restore.reference.clone(),
                        old: restore.old.short(),
                        found: describe(current),
                        tag: restore.tag.clone(),
                        why: e.to_string(),
                    })));
                }
            }
        }
        // Only a tag that is there keeps anything: an abort before its push made none.
        let tag = [format!("refs/tags/{}^{{}}", restore.tag)];
        let peeled = crate::git::remote::ls_remote(repo.git(), &plan.remote, &tag)?;
        if peeled.get(&tag[0]) == Some(&restore.old) {
            kept.push(format!("tag {} stays: it keeps the old tip", restore.tag));
        }
    }
    // Requests go back to the branch before a hold branch they target is deleted: a forge
    // closes the requests whose base branch goes.
    let ran: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| journal.done.contains(&s.id) || journal.started == Some(s.id))
        .collect();
    let mut unfinished =
        crate::surgery::forge_run::put_back(repo, hosts, &ran, &plan.operation, &mut restored);
    undo_created_branches(repo, &journal, &mut restored, &mut kept)?;
    unfinished.extend(restore_abandoned(repo, hosts, &journal, &mut restored));
    log_abort(repo, &journal)?;
    remove(repo)?;
    Ok(AbortReport { operation: plan.operation, restored, kept, unfinished })
}

/// Logs what an aborted operation left: the refs its steps changed as the remote has them
/// now (what `--abort` put back changed nothing in the end), and the reviews it abandoned
/// that are still abandoned.
fn log_abort(repo: &Repo, journal: &Journal) -> Result<(), OperationError> {
    let mut ran = journal.ran();
    ran.extend(journal.started.filter(|s| !ran.contains(s)));
    let mut entry =
        crate::surgery::oplog::of_plan(repo, &journal.plan, &ran, journal.began, &journal.restored);
    entry.kind = crate::surgery::oplog::Kind::Abort;
    entry.what = format!("abort of {}", journal.plan.operation);
    let references: Vec<String> = entry.remote_refs.iter().map(|c| c.reference.clone()).collect();
    let now = crate::git::remote::ls_remote(repo.git(), &journal.plan.remote, &references)?;
    for change in &mut entry.remote_refs {
        change.new = now.get(&change.reference).copied();
    }
    entry.remote_refs.retain(|c| c.old != c.new);
    for change in &mut entry.local_refs {
        change.new = repo.reference_target(&change.reference).map_err(|e| OperationError::Io {
            path: repo.git_dir().to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    entry.local_refs.retain(|c| c.old != c.new);
    let log = crate::surgery::oplog::path(repo);
    crate::surgery::oplog::append(repo, entry)
        .map_err(|source| OperationError::Io { path: log, source })?;
    Ok(())
}

/// Says which reviews this operation abandoned stay abandoned, when `--abort` leaves the
/// branch to whoever moved it: they may belong on it still, so they are named, not restored.
fn abandoned_note(repo: &Repo, journal: &Journal) -> String {
    let plan = &journal.plan;
    let ran = |s: &&Step| journal.done.contains(&s.id) || journal.started == Some(s.id);
    let mut notes = Vec::new();
    for review in plan.steps.iter().filter(ran).filter_map(Step::review) {
        if !matches!(review.call, ReviewCall::Abandon { .. }) {
            continue;
        }
        let numbers = abandoned_by(repo, review, &plan.operation);
        if !numbers.is_empty() {
            notes.push(format!(
                ". Reviews {} on {} that it abandoned stay abandoned, in the record: `git \
                 regraft restore --from-journal --branch {} --execute` brings them back",
                numbers.join(", "),
                review.gerrit,
                crate::git::quote(&review.branch)
            ));
        }
    }
    notes.concat()
}

/// Returns the numbers of the reviews the abandon record holds for `review`'s branch as
/// abandoned by `operation`.
fn abandoned_by(repo: &Repo, review: &ReviewStep, operation: &str) -> Vec<String> {
    crate::review::AbandonLog::load(&repo.state_dir())
        .map(|log| log.records)
        .unwrap_or_default()
        .iter()
        .filter(|r| {
            r.gerrit == review.gerrit
                && r.project == review.project
                && r.branch == review.branch
                && r.by == operation
        })
        .flat_map(|r| r.reviews.iter().map(|r| r.number.to_string()))
        .collect()
}

/// Restores the reviews this operation abandoned (its abandon steps that ran, as the
/// abandon record holds them), with the credentials the abandon used. What cannot be
/// restored (no credentials, the server down or refusing) stays in the record and is
/// returned, named with the command that brings it back.
fn restore_abandoned(
    repo: &Repo,
    hosts: &dyn HostFactory,
    journal: &Journal,
    restored: &mut Vec<String>,
) -> Vec<String> {
    let plan = &journal.plan;
    let mut unfinished = Vec::new();
    let ran = |s: &&Step| journal.done.contains(&s.id) || journal.started == Some(s.id);
    for review in plan.steps.iter().filter(ran).filter_map(Step::review) {
        if !matches!(review.call, ReviewCall::Abandon { .. }) {
            continue;
        }
        let numbers = abandoned_by(repo, review, &plan.operation);
        if numbers.is_empty() {
            continue;
        }
        let mut restore = ReviewStep::new(
            review.gerrit.clone(),
            &review.project,
            &review.branch,
            ReviewCall::Restore {
                message: format!(
                    "Restored by git regraft: the operation that abandoned it was aborted ({}).",
                    plan.operation
                ),
                of: None,
            },
        );
        restore.found_in = review.found_in.clone();
        let outcome = hosts
            .gerrit(repo.git(), &review.gerrit, review.named())
            .map_err(OperationError::from)
            .and_then(|host| review_call(repo, host.as_ref(), &restore, &plan.operation));
        match outcome {
            Ok(_) => restored.push(format!(
                "reviews {} on {} that this operation abandoned are restored",
                numbers.join(", "),
                review.gerrit
            )),
            Err(e) => {
                let left = match &e {
                    OperationError::NotRestored { numbers } => numbers.clone(),
                    _ => numbers.join(", "),
                };
                unfinished.push(format!(
                    "reviews {left} on {} that this operation abandoned are still abandoned \
                     ({e}); they stay in the record: bring them back with `git regraft \
                     restore --from-journal --branch {} --execute`",
                    review.gerrit,
                    crate::git::quote(&review.branch)
                ));
            }
        }
    }
    unfinished
}

/// Deletes the branches this operation created (an end of maintenance's
/// `unmaintained/<series>`), each leased on the value it pushed; one that moved since, or
/// that the server will not delete, is left and named.
fn undo_created_branches(
    repo: &Repo,
    journal: &Journal,
    restored: &mut Vec<String>,
    kept: &mut Vec<String>,
) -> Result<(), OperationError> {
    let plan = &journal.plan;
    let restored_ref = plan.restore.as_ref().map(|r| r.reference.as_str());
    let created: Vec<(&str, ObjectId)> = plan
        .steps
        .iter()
        .filter(|s| journal.done.contains(&s.id) || journal.started == Some(s.id))
        .filter_map(|s| match s.git()? {
            GitAction::Push(Push {
                refspec: Refspec::Update { commit, reference },
                lease: Some(Lease { expected: None, .. }),
                ..
            }) if reference.starts_with("refs/heads/")
                && Some(reference.as_str()) != restored_ref =>
            {
                Some((reference.as_str(), *commit))
            }
            _ => None,
        })
        .collect();
    for (reference, pushed) in created {
        let now = remote_ref(repo, &plan.remote, reference)?;
        let remote = &plan.remote;
        match now {
            None => {}
            Some(value) if value != pushed => kept.push(format!(
                "{remote} {reference}, which this operation created at {}, is at {} now: \
                 someone moved it since, so it is left",
                pushed.short(),
                value.short()
            )),
            Some(_) => {
                match push_step(repo, "abort", &Push::leased(remote, reference, Some(pushed), None))
                {
                    Ok(()) => restored.push(format!(
                        "{remote} {reference}, which this operation created, is deleted"
                    )),
                    Err(e @ OperationError::RemoteMoved { .. }) => return Err(e),
                    Err(e) => kept.push(format!(
                        "{remote} {reference}, which this operation created at {}, could not be \
                     deleted ({e}); delete it by hand if it is not wanted",
                        pushed.short()
                    )),
                }
            }
        }
    }
    Ok(())
}

/// Asks the journal's remote for the ref the plan restores (or `HEAD`); a remote that
/// cannot be asked is [`OperationError::RemoteUnreachable`], naming what may remain on it.
fn reach(repo: &Repo, journal: &Journal, doing: &str) -> Result<(), OperationError> {
    let plan = &journal.plan;
    let reference = plan.restore.as_ref().map_or("HEAD".to_string(), |r| r.reference.clone());
    let Err(error) = crate::git::remote::ls_remote(repo.git(), &plan.remote, &[reference]) else {
        return Ok(());
    };
    let done: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| journal.done.contains(&s.id))
        .map(|s| format!("{} ({})", s.id, s.description))
        .collect();
    let mut remains = if done.is_empty() {
        "No step of it finished".to_string()
    } else {
        format!("Steps done: {}", done.join("; "))
    };
    if let Some(started) = plan.steps.iter().find(|s| journal.started == Some(s.id)) {
        remains.push_str(&format!(
            "; step {} ({}) was started and may or may not have changed the remote",
            started.id, started.description
        ));
    }
    if let Some(refused) = &journal.refused
        && let Some(step) = plan.steps.iter().find(|s| s.id == refused.step)
    {
        remains.push_str(&format!(
            "; step {} ({}) was refused by the server {} and changed nothing",
            step.id, step.description, refused.reason
        ));
    }
    if let Some(restore) = &plan.restore {
        let (left, maybe) = journal.values_left(&restore.reference, restore.old);
        let describe = |v: Option<ObjectId>| v.map_or("nothing".to_string(), |v| v.short());
        let mut values = vec![describe(left)];
        for value in maybe.into_iter().map(describe) {
            if !values.contains(&value) {
                values.push(value);
            }
        }
        remains.push_str(&format!(
            ". {} {} should hold {} (this operation's doing; its old tip is {}, which tag {} \
             keeps once that step ran)",
            plan.remote,
            restore.reference,
            values.join(" or "),
            restore.old.short(),
            restore.tag
        ));
    }
    remains.push_str(&format!(
        ". Bring the remote back (`git remote add {0} URL`, or `git remote set-url {0} URL`) \
         and run {doing} again",
        plan.remote
    ));
    Err(OperationError::RemoteUnreachable(Box::new(RemoteUnreachable {
        doing: doing.to_string(),
        remote: plan.remote.clone(),
        problem: remote_problem(repo, &plan.remote, &error),
        remains,
    })))
}

/// Says why `remote` cannot be asked: not configured here, or git's own message.
pub fn remote_problem(repo: &Repo, remote: &str, error: &GitError) -> String {
    match repo.remote_url(remote) {
        Ok(None) if !remote.contains(['/', ':']) => {
            format!("this repository has no remote named {remote}")
        }
        Ok(Some(url)) => format!("{remote} ({url}): {}", first_line(error)),
        _ => first_line(error),
    }
}

fn first_line(error: &GitError) -> String {
    let GitError::Failed { stderr, .. } = error else { return error.to_string() };
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    // git's "fatal: ..." line says why; the lines before it are often only context.
    lines
        .iter()
        .find(|l| l.starts_with("fatal:"))
        .or(lines.first())
        .map_or_else(|| error.to_string(), |l| l.to_string())
}

/// Moves the restored ref from `current` (a value this operation left) back to the old tip:
/// one leased push, or where the server refuses non-fast-forward updates, a leased delete
/// and a create. Each value is journaled before it is pushed, so an interrupted abort can
/// be finished by another.
fn put_back(
    repo: &Repo,
    journal: &mut Journal,
    restore: &Restore,
    current: Option<ObjectId>,
) -> Result<(), OperationError> {
    let remote = journal.plan.remote.clone();
    let mut push = |from: Option<ObjectId>, to: Option<ObjectId>| {
        journal.abort.get_or_insert_with(Vec::new).push(to);
        save(repo, journal)?;
        push_step(repo, "abort", &Push::leased(&remote, &restore.reference, from, to))
    };
    match push(current, Some(restore.old)) {
        Ok(()) => Ok(()),
        Err(OperationError::PushRefused { .. }) if current.is_some() => {
            push(current, None)?;
            push(None, Some(restore.old))
        }
        Err(e) => Err(e),
    }
}

/// Runs one push of a plan (or of an abort) and turns a refusal into an error that says
/// which ref and why: a lease that no longer holds names what the remote has now.
fn push_step(repo: &Repo, step: &str, push: &Push) -> Result<(), OperationError> {
    let argv = push.argv();
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    let finished = repo.git().finished(&args, &[])?;
    if finished.status.success() {
        return Ok(());
    }
    let Some(refused) = crate::git::remote::first_refusal(&finished) else {
        return Err(GitError::Failed {
            argv: finished.argv,
            status: finished.status,
            stderr: finished.stderr,
        }
        .into());
    };
    let remote = push.remote.as_str();
    if refused.stale() {
        let expected = push
            .lease
            .as_ref()
            .filter(|lease| lease.reference == refused.reference)
            .and_then(|lease| lease.expected);
        let found = remote_ref(repo, remote, &refused.reference)?;
        return Err(OperationError::RemoteMoved {
            step: step.to_string(),
            remote: remote.to_string(),
            reference: refused.reference,
            expected: expected.map_or_else(|| "no such ref".into(), |e| e.short()),
            found: found.map_or("gone".into(), |f| f.short()),
        });
    }
    let what = match &push.refspec {
        Refspec::Delete { .. } => PushKind::Delete,
        _ if push.lease.as_ref().is_some_and(|l| l.expected.is_none()) => PushKind::Create,
        _ => PushKind::Update,
    };
    Err(OperationError::PushRefused {
        step: step.to_string(),
        remote: remote.to_string(),
        reference: refused.reference,
        summary: refused.summary,
        what,
        replacing: None,
    })
}

fn run(
    repo: &Repo,
    hosts: &dyn HostFactory,
    mut journal: Journal,
    report: &mut dyn FnMut(&Step, StepStatus),
) -> Result<(), OperationError> {
    let remote = journal.plan.remote.clone();
    let steps = journal.plan.steps.clone();
    for step in &steps {
        if journal.done.contains(&step.id) {
            continue;
        }
        // A step with nothing to verify (a push to Gerrit's refs/for/) is never taken as
        // done by its effects: only the journal says so.
        let finished = step.git().is_some()
            && !step.verification.is_empty()
            && holds_all(repo, hosts, &remote, &step.verification)?.is_none();
        if finished {
            report(step, StepStatus::AlreadyDone);
            journal.found_done.push(step.id);
        } else {
            if let Some((check, found)) = holds_all(repo, hosts, &remote, &step.precondition)? {
                // An undo is all or nothing: refused before any step, it leaves nothing in
                // progress.
                let changed = journal.done.iter().any(|id| {
                    steps.iter().any(|s| s.id == *id && !matches!(s.action, Action::Check))
                });
                if journal.plan.undoes.is_some() && !changed {
                    remove(repo)?;
                }
                return Err(OperationError::Precondition {
                    step: step.id.to_string(),
                    check,
                    found,
                });
            }
            // From here until the step is journaled as done, a kill leaves it uncertain.
            journal.started = Some(step.id);
            journal.refused = None;
            journal.failed = None;
            save(repo, &journal)?;
            match &step.action {
                Action::Review(review) => {
                    report(step, StepStatus::Asking);
                    let host = hosts.gerrit(repo.git(), &review.gerrit, review.named())?;
                    let restored =
                        review_call(repo, host.as_ref(), review, &journal.plan.operation)?;
                    journal.restored.extend(restored);
                }
                Action::Forge(forge) => {
                    report(step, StepStatus::Asking);
                    let ran = crate::surgery::forge_run::run_step(
                        repo,
                        hosts,
                        forge,
                        &journal.plan.operation,
                    );
                    if let Err(error) = ran {
                        journal.failed = Some(Failure { step: step.id, error: error.to_string() });
                        save(repo, &journal)?;
                        return Err(error);
                    }
                }
                Action::Git(GitAction::Push(push)) => {
                    if let Err(error) = push_step(repo, &step.id.to_string(), push) {
                        return Err(refused(repo, &mut journal, step.id, error));
                    }
                }
                Action::Git(action) => {
                    let argv = action.argv();
                    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
                    let input = action.input().unwrap_or_default().as_bytes();
                    repo.git().output_with_input_env(&args, &[], input)?;
                }
                Action::Check => {}
            }
            if let Some((check, found)) = holds_all(repo, hosts, &remote, &step.verification)? {
                return Err(OperationError::Verification {
                    step: step.id.to_string(),
                    check,
                    found,
                });
            }
            report(step, StepStatus::Done);
        }
        journal.done.push(step.id);
        journal.started = None;
        save(repo, &journal)?;
        crate::fault::abort_when(FAULT_VAR, journal.done.len());
    }
    // The journal stays until the log has the operation: `--continue` logs it then.
    let log = crate::surgery::oplog::path(repo);
    crate::surgery::oplog::append(repo, journal.log_entry(repo))
        .map_err(|source| OperationError::Io { path: log, source })?;
    // Kept for `git regraft notice`; losing it loses nothing but the notice's facts.
    let _ = crate::state_file::write(
        &last_path(repo),
        &serde_json::to_vec_pretty(&journal.plan).expect("the plan serializes"),
    );
    remove(repo)
}

/// Journals a push the server refused definitely as refused, with its reason, and adds to
/// the error what the plan replaces (for the hint); any other error leaves the step
/// started, since it may or may not have changed the remote.
fn refused(
    repo: &Repo,
    journal: &mut Journal,
    step: StepId,
    error: OperationError,
) -> OperationError {
    let OperationError::PushRefused { step: s, remote, reference, summary, what, .. } = error
    else {
        return error;
    };
    journal.started = None;
    journal.refused = Some(Refusal { step, reason: refusal_reason(&summary) });
    // An undo refused before it changed anything leaves nothing in progress.
    let changed = journal.done.iter().any(|id| {
        journal.plan.steps.iter().any(|s| s.id == *id && !matches!(s.action, Action::Check))
    });
    let saved =
        if journal.plan.undoes.is_some() && !changed { remove(repo) } else { save(repo, journal) };
    if let Err(e) = saved {
        return e;
    }
    let replacing = journal.plan.notice.as_ref().and_then(|n| {
        matches!(n.strategy, crate::surgery::plan::BranchChange::Replaced(_))
            .then(|| Some(Box::new((n.branch.clone(), n.source.clone()?))))
            .flatten()
    });
    OperationError::PushRefused { step: s, remote, reference, summary, what, replacing }
}

/// Returns the first check that does not hold, described, with what was found. The remote
/// refs all the checks need are read in one `git ls-remote`.
fn holds_all(
    repo: &Repo,
    hosts: &dyn HostFactory,
    remote: &str,
    checks: &[Check],
) -> Result<Option<(String, String)>, OperationError> {
    let mut wanted = Vec::new();
    for check in checks {
        match check {
            Check::RemoteRef { reference, .. } => wanted.push(reference.clone()),
            Check::RemoteTag { tag, .. } => {
                wanted.push(format!("refs/tags/{tag}"));
                wanted.push(format!("refs/tags/{tag}^{{}}"));
            }
            _ => {}
        }
    }
    let on_remote = crate::git::remote::ls_remote(repo.git(), remote, &wanted)?;
    for check in checks {
        let found = match check {
            Check::RemoteRef { reference, expected } => {
                let now = on_remote.get(reference).copied();
                (now != *expected).then(|| now.map_or("nothing".to_string(), |id| id.short()))
            }
            Check::RemoteTag { tag, commit } => {
                let peeled = on_remote
                    .get(&format!("refs/tags/{tag}^{{}}"))
                    .or_else(|| on_remote.get(&format!("refs/tags/{tag}")))
                    .copied();
                (peeled != Some(*commit))
                    .then(|| peeled.map_or("no tag".to_string(), |id| id.short()))
            }
            Check::LocalTag { tag, commit } => {
                let peeled = repo.resolve_commit(&format!("refs/tags/{tag}")).ok();
                (peeled != Some(*commit))
                    .then(|| peeled.map_or("no tag".to_string(), |id| id.short()))
            }
            // A fact that cannot be read fails the check, with the reason.
            Check::NoLocalTag { tag } => match repo.reference_target(&format!("refs/tags/{tag}")) {
                Ok(found) => found.map(|id| format!("tag {tag} at {}", id.short())),
                Err(e) => Some(format!("could not be checked ({e})")),
            },
            Check::LocalObject { id } => match repo.has_object(*id) {
                Ok(has) => (!has).then(|| "no such object".to_string()),
                Err(e) => Some(format!("could not be checked ({e})")),
            },
            Check::LocalRef { reference, expected } => match repo.reference_target(reference) {
                Ok(now) => {
                    (now != *expected).then(|| now.map_or("nothing".into(), |id| id.short()))
                }
                Err(e) => Some(format!("could not be checked ({e})")),
            },
            Check::NoOpenReviews { gerrit, project, branch, found_in } => {
                let named = crate::review::Named::from_found_in(found_in.as_deref());
                let host = hosts.gerrit(repo.git(), gerrit, named)?;
                let open = host.open_reviews(project, branch)?;
                (!open.is_empty()).then(|| format!("{} open reviews", open.len()))
            }
        };
        if let Some(found) = found {
            return Ok(Some((check.describe(remote), found)));
        }
    }
    Ok(None)
}

/// Makes a review step's call on `host`; an abandon adds what it abandoned to the log that
/// `restore` reads.
fn review_call(
    repo: &Repo,
    host: &dyn crate::review::ReviewHost,
    review: &ReviewStep,
    operation: &str,
) -> Result<Vec<crate::surgery::oplog::ReviewChange>, OperationError> {
    let (project, branch) = (review.project.as_str(), review.branch.as_str());
    let mut restored = Vec::new();
    match &review.call {
        ReviewCall::Abandon { message } => {
            // Each review is recorded as the server confirms it, before the next request:
            // a server failing halfway leaves the abandoned ones restorable.
            let state = repo.state_dir();
            let mut recorder = crate::review::AbandonRecorder::new(
                &state,
                &review.gerrit,
                project,
                branch,
                operation,
            )
            .found_in(review.found_in.clone());
            crate::review::abandon_each(
                host,
                project,
                branch,
                message,
                crate::review::Abandoning::Execute,
                &mut |confirmed, _| {
                    recorder.add(confirmed).map_err(|source| OperationError::Io {
                        path: crate::review::AbandonLog::path(&state),
                        source,
                    })
                },
            )?;
        }
        ReviewCall::Restore { message, of } => {
            let operation = of.as_deref().unwrap_or(operation);
            let state = repo.state_dir();
            let io = |source| OperationError::Io {
                path: crate::review::AbandonLog::path(&state),
                source,
            };
            let mut log = crate::review::AbandonLog::load(&state).map_err(io)?;
            let ours = |r: &crate::review::AbandonRecord| {
                r.gerrit == review.gerrit
                    && r.project == project
                    && r.branch == branch
                    && r.by == operation
            };
            let (mine, mut kept): (Vec<_>, Vec<_>) = log.records.drain(..).partition(ours);
            let mut failed = Vec::new();
            for mut record in mine {
                let left: Vec<_> = crate::review::restore_all(host, &record.reviews, message)
                    .into_iter()
                    .filter(|r| r.outcome.is_err())
                    .map(|r| r.review)
                    .collect();
                failed.extend(left.iter().map(|r| r.number.to_string()));
                let back: Vec<u64> =
                    record.reviews.iter().filter(|r| !left.contains(r)).map(|r| r.number).collect();
                if !back.is_empty() {
                    restored.push(crate::surgery::oplog::ReviewChange {
                        server: Some(record.gerrit.clone()),
                        project: record.project.clone(),
                        branch: record.branch.clone(),
                        action: crate::surgery::oplog::ReviewAction::Restored,
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
            log.records = kept;
            log.save(&state).map_err(io)?;
            if !failed.is_empty() {
                return Err(OperationError::NotRestored { numbers: failed.join(", ") });
            }
        }
        ReviewCall::DeleteBranch => host.delete_branch(project, branch)?,
        ReviewCall::CreateBranch { revision } => host.create_branch(project, branch, *revision)?,
        ReviewCall::CreateTag { tag, revision, message } => {
            host.create_tag(project, tag, *revision, message)?
        }
    }
    Ok(restored)
}

/// Checks, before anything runs, that every review server the plan talks to has
/// credentials (as `hosts` finds them): missing ones are an error with nothing changed.
pub fn check_credentials(
    repo: &Repo,
    hosts: &dyn HostFactory,
    plan: &Plan,
) -> Result<(), OperationError> {
    for step in &plan.steps {
        if let Some(review) = step.review() {
            hosts.gerrit_credentials(repo.git(), &review.gerrit, review.named())?;
        }
    }
    Ok(())
}

/// Returns what `reference` points at on `remote` (`git ls-remote`), if it exists.
pub fn remote_ref(
    repo: &Repo,
    remote: &str,
    reference: &str,
) -> Result<Option<ObjectId>, OperationError> {
    let refs = crate::git::remote::ls_remote(repo.git(), remote, &[reference.to_string()])?;
    Ok(refs.get(reference).copied())
}

#[cfg(test)]
mod tests {
    use super::refusal_reason;

    #[test]
    fn a_refusal_s_reason_is_what_follows_git_s_bracket() {
        // The summaries of `git push --porcelain` (builtin/push.c, transport.c).
        assert_eq!(
            refusal_reason("[remote rejected] (deletion prohibited)"),
            "(deletion prohibited)"
        );
        assert_eq!(refusal_reason("[rejected] (non-fast-forward)"), "(non-fast-forward)");
        assert_eq!(refusal_reason("[remote rejected]"), "[remote rejected]");
        assert_eq!(refusal_reason("no bracket"), "no bracket");
    }
}
