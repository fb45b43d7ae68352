//! What is in progress in a repository, at which step, what the remote holds now, and the
//! one command that continues or undoes it: the engine of `git regraft status`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::ErrorOrigin;
use crate::git::repo::Repo;
use crate::oid::ObjectId;
use crate::surgery::operation::{self, Check, OperationError, StepId};

/// Errors from reading the state.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error(transparent)]
    Operation(#[from] OperationError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

impl ErrorOrigin for StatusError {
    fn is_user_input(&self) -> bool {
        match self {
            StatusError::Operation(e) => e.is_user_input(),
            StatusError::Git(_) => false,
        }
    }
}

/// The schema of `git regraft status --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Where regraft keeps its state (shared by every worktree).
    pub state_dir: PathBuf,
    /// A replace, eol or playbook plan in progress.
    pub operation: Option<OperationStatus>,
    /// A journal that cannot be read.
    pub unreadable_journal: Option<UnreadableJournal>,
    /// A backport in progress.
    pub backport: Option<BackportStatus>,
    /// A backport state file that cannot be read: the message.
    pub unreadable_backport: Option<String>,
    /// The abandons recorded and not yet restored (for `git regraft restore --from-journal`).
    pub abandoned: Vec<AbandonedStatus>,
    /// A playbook run over several repositories that this one belongs to and that is not
    /// finished, read from each repository's record.
    pub playbook_run: Option<PlaybookRunStatus>,
    /// The one command to run next; `None` when nothing is in progress.
    pub next: Option<String>,
    /// Another way out, when there is one (`--abort`).
    pub or: Option<String>,
}

impl Status {
    /// Tells whether nothing is in progress.
    pub fn is_idle(&self) -> bool {
        self.operation.is_none()
            && self.unreadable_journal.is_none()
            && self.backport.is_none()
            && self.unreadable_backport.is_none()
            && self.playbook_run.is_none()
    }
}

/// A playbook run not finished, and how each of its repositories stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaybookRunStatus {
    /// This repository's record of it.
    pub record: PathBuf,
    pub playbook: String,
    pub file: PathBuf,
    pub values: BTreeMap<String, String>,
    /// Every repository of the run, in the playbook's order.
    pub repositories: Vec<RunPartStatus>,
}

/// One repository's part of a playbook run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunPartStatus {
    /// As the playbook names it.
    pub repository: String,
    pub state_dir: PathBuf,
    pub state: RunPartState,
    /// The first step not done, when its journal holds the part.
    pub step: Option<String>,
}

/// How far one repository's part of a playbook run got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunPartState {
    Done,
    InProgress,
    NotStarted,
}

impl RunPartState {
    /// Returns the name `--json` gives it.
    pub fn name(self) -> &'static str {
        match self {
            RunPartState::Done => "done",
            RunPartState::InProgress => "in-progress",
            RunPartState::NotStarted => "not-started",
        }
    }
}

/// A plan in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationStatus {
    pub journal: PathBuf,
    pub operation: String,
    pub remote: String,
    pub steps: Vec<StepStatus>,
    /// Whether an `--abort` began and did not finish.
    pub aborting: bool,
    /// Whether the server refused a step (its reason is on the step): `next` is then
    /// `--abort`, and `or` the `--continue` that works once the server allows it.
    pub refused: bool,
    /// The ref `--abort` puts back, and its old tip.
    pub restores: Option<RemoteValue>,
    /// What the remote holds now for every ref the plan touches (one `ls-remote`); empty
    /// when the remote cannot be reached.
    pub remote_now: Vec<RemoteValue>,
    /// Why the remote cannot be reached (renamed, removed, moved away, or named wrong in the
    /// journal); `None` when it answered.
    pub remote_unreachable: Option<String>,
}

impl OperationStatus {
    /// Returns how many of its steps are done.
    pub fn steps_done(&self) -> usize {
        self.steps.iter().filter(|s| s.state == StepState::Done).count()
    }
}

/// One step and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepStatus {
    pub id: StepId,
    pub description: String,
    pub state: StepState,
    /// For a refused step, the server's reason (e.g. `(deletion prohibited)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a forge step whose call failed (its state stays `started`: the host may or may
    /// not have done it), the error: the host's answer, or why it gave none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How far a step of the operation in progress got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    Done,
    /// Begun, not seen to finish: it may or may not have changed the remote.
    Started,
    /// Refused by the server: it changed nothing, and the same push would be refused again.
    Refused,
    Pending,
}

impl StepState {
    /// Returns the name `--json` gives it.
    pub fn name(self) -> &'static str {
        match self {
            StepState::Done => "done",
            StepState::Started => "started",
            StepState::Refused => "refused",
            StepState::Pending => "pending",
        }
    }
}

/// A ref and its value (`None`: it does not exist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteValue {
    pub reference: String,
    pub value: Option<ObjectId>,
}

/// A journal that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableJournal {
    pub journal: PathBuf,
    /// The whole explanation, with what the remote holds now where it could tell.
    pub message: String,
}

/// A backport in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackportStatus {
    pub state: PathBuf,
    pub branch: String,
    pub target: String,
    pub source: Option<String>,
    /// Commits to pick in all.
    pub picks: usize,
    /// Picks left out (empty, or skipped).
    pub skipped: usize,
    /// The pick whose conflict waits for the user.
    pub conflicted: Option<ObjectId>,
    /// The worktree it runs in, where it must be continued.
    pub worktree: Option<PathBuf>,
}

/// What the abandoned-review record holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AbandonedStatus {
    pub record: PathBuf,
    pub gerrit: String,
    pub project: String,
    pub branch: String,
    pub reviews: usize,
}

/// Reads what is in progress; asks the remote (one `ls-remote`) only when a plan is.
/// Takes no lock and changes nothing.
pub fn status(repo: &Repo) -> Result<Status, StatusError> {
    let mut status = Status {
        state_dir: repo.state_dir(),
        operation: None,
        unreadable_journal: None,
        backport: None,
        unreadable_backport: None,
        abandoned: abandoned(repo),
        playbook_run: None,
        next: None,
        or: None,
    };
    match operation::in_progress(repo) {
        Ok(Some(progress)) => {
            let (abort, resume) = match progress.plan.undoes {
                Some(_) => ("git regraft undo --abort", "git regraft undo --continue"),
                None => ("git regraft replace --abort", "git regraft replace --continue"),
            };
            // After a refusal, the same push would be refused again: undoing comes first.
            (status.next, status.or) = match (progress.aborting, progress.refused.is_some()) {
                (true, _) => (Some(abort.into()), None),
                (false, true) => (Some(abort.into()), Some(resume.into())),
                (false, false) => (Some(resume.into()), Some(abort.into())),
            };
            status.operation = Some(operation_status(repo, progress)?);
        }
        Ok(None) => {}
        Err(OperationError::CorruptJournal(corrupt)) => {
            status.next = Some("git regraft replace --abort".into());
            status.unreadable_journal = Some(UnreadableJournal {
                journal: corrupt.path.clone(),
                message: corrupt.to_string(),
            });
        }
        Err(e) => return Err(e.into()),
    }
    match crate::surgery::apply::in_progress(repo) {
        Ok(Some(state)) => {
            if status.next.is_none() {
                let elsewhere = state
                    .worktree
                    .as_ref()
                    .filter(|w| **w != crate::surgery::apply::worktree(repo));
                let cd = elsewhere.map_or(String::new(), |w| {
                    format!("cd {} && ", crate::git::quote(&w.to_string_lossy()))
                });
                status.next = Some(format!("{cd}git regraft backport --continue"));
                status.or = Some(format!("{cd}git regraft backport --abort"));
            }
            status.backport = Some(BackportStatus {
                state: crate::surgery::apply::state_path(repo),
                branch: state.branch,
                target: state.target,
                source: state.source,
                picks: state.picks.len(),
                skipped: state.skipped.len(),
                conflicted: state.conflicted,
                worktree: state.worktree,
            });
        }
        Ok(None) => {}
        Err(e) => status.unreadable_backport = Some(format!("{e:#}")),
    }
    if let Some(run) = playbook_run(repo) {
        // Running the playbook again finishes every repository's part, this one's too.
        status.next = Some(run_again(&run));
        status.playbook_run = Some(run);
    }
    Ok(status)
}

/// Reads this repository's record of a playbook run and, through it, every other one's;
/// `None` when there is none, it cannot be read, or every part is done.
fn playbook_run(repo: &Repo) -> Option<PlaybookRunStatus> {
    use crate::surgery::playbook_run::{self, PartState};
    let record = playbook_run::load(repo).ok().flatten()?;
    let repositories: Vec<RunPartStatus> = record
        .repositories
        .iter()
        .map(|(name, state_dir)| {
            let theirs = playbook_run::load_in(state_dir).ok().flatten();
            let part = theirs.filter(|r| r.run == record.run).map(|r| r.state);
            let progress = state_dir
                .parent()
                .and_then(|git_dir| Repo::discover(git_dir).ok())
                .and_then(|other| operation::in_progress(&other).ok().flatten());
            let (state, step) = match (part, progress) {
                (Some(PartState::Done), _) => (RunPartState::Done, None),
                (_, Some(progress)) => {
                    let step = progress
                        .plan
                        .steps
                        .iter()
                        .find(|s| !progress.done.contains(&s.id))
                        .map(|s| s.description.clone());
                    (RunPartState::InProgress, step)
                }
                _ => (RunPartState::NotStarted, None),
            };
            RunPartStatus { repository: name.clone(), state_dir: state_dir.clone(), state, step }
        })
        .collect();
    if repositories.iter().all(|r| r.state == RunPartState::Done) {
        return None;
    }
    Some(PlaybookRunStatus {
        record: playbook_run::record_path(repo),
        playbook: record.run.playbook,
        file: record.run.file,
        values: record.run.values,
        repositories,
    })
}

/// Returns the command that runs `run` again from the directory it was started in (the
/// playbook names its repositories relative to it).
fn run_again(run: &PlaybookRunStatus) -> String {
    let mut command = format!("git regraft run {}", crate::git::quote(&run.file.to_string_lossy()));
    for (name, value) in &run.values {
        command.push_str(&format!(" --var {}", crate::git::quote(&format!("{name}={value}"))));
    }
    command.push_str(" --execute");
    match run.repositories.first().and_then(|r| started_in(&r.repository, &r.state_dir)) {
        Some(dir) => format!("cd {} && {command}", crate::git::quote(&dir.to_string_lossy())),
        None => command,
    }
}

/// Returns the directory a repository named `name` in a playbook was found from: its work
/// tree (the parent of `.git`, where regraft's state lives) less the name's components.
fn started_in(name: &str, state_dir: &Path) -> Option<PathBuf> {
    let work_tree = state_dir.parent()?.parent()?;
    let name = Path::new(name);
    let parts = name.components().filter(|c| !matches!(c, std::path::Component::CurDir));
    let mut dir = work_tree.to_path_buf();
    for part in parts.collect::<Vec<_>>().into_iter().rev() {
        if dir.file_name() != Some(part.as_os_str()) {
            return None;
        }
        dir.pop();
    }
    Some(dir)
}

fn operation_status(
    repo: &Repo,
    progress: operation::Progress,
) -> Result<OperationStatus, StatusError> {
    let plan = &progress.plan;
    let mut touched: Vec<String> = Vec::new();
    let mut add = |name: String| {
        if !touched.contains(&name) {
            touched.push(name);
        }
    };
    if let Some(restore) = &plan.restore {
        add(restore.reference.clone());
    }
    for step in &plan.steps {
        for check in step.precondition.iter().chain(&step.verification) {
            match check {
                Check::RemoteRef { reference, .. } => add(reference.clone()),
                Check::RemoteTag { tag, .. } => add(format!("refs/tags/{tag}")),
                _ => {}
            }
        }
    }
    let mut wanted = touched.clone();
    wanted.extend(
        touched.iter().filter(|r| r.starts_with("refs/tags/")).map(|r| format!("{r}^{{}}")),
    );
    // The journal is local: a remote that cannot be reached is reported, not an error.
    let (remote_now, remote_unreachable) =
        match crate::git::remote::ls_remote(repo.git(), &plan.remote, &wanted) {
            Ok(now) => (
                touched
                    .iter()
                    .map(|reference| RemoteValue {
                        reference: reference.clone(),
                        // A tag is shown as the commit it peels to.
                        value: now
                            .get(&format!("{reference}^{{}}"))
                            .or_else(|| now.get(reference))
                            .copied(),
                    })
                    .collect(),
                None,
            ),
            Err(e) => (Vec::new(), Some(operation::remote_problem(repo, &plan.remote, &e))),
        };
    let steps = plan
        .steps
        .iter()
        .map(|step| {
            let refused = progress.refused.as_ref().filter(|r| r.step == step.id);
            let failed = progress.failed.as_ref().filter(|f| f.step == step.id);
            StepStatus {
                id: step.id,
                description: step.description.clone(),
                state: if progress.done.contains(&step.id) {
                    StepState::Done
                } else if progress.started == Some(step.id) {
                    StepState::Started
                } else if refused.is_some() {
                    StepState::Refused
                } else {
                    StepState::Pending
                },
                reason: refused.map(|r| r.reason.clone()),
                error: failed.map(|f| f.error.clone()),
            }
        })
        .collect();
    Ok(OperationStatus {
        journal: progress.journal.clone(),
        operation: plan.operation.clone(),
        remote: plan.remote.clone(),
        steps,
        aborting: progress.aborting,
        refused: progress.refused.is_some(),
        restores: plan
            .restore
            .as_ref()
            .map(|r| RemoteValue { reference: r.reference.clone(), value: Some(r.old) }),
        remote_now,
        remote_unreachable,
    })
}

/// Reads the record of abandoned reviews (empty when there is none or it cannot be read).
fn abandoned(repo: &Repo) -> Vec<AbandonedStatus> {
    let state = repo.state_dir();
    let record = crate::review::AbandonLog::path(&state);
    let Ok(log) = crate::review::AbandonLog::load(&state) else { return Vec::new() };
    log.records
        .into_iter()
        .map(|r| AbandonedStatus {
            record: record.clone(),
            gerrit: r.gerrit.to_string(),
            project: r.project,
            branch: r.branch,
            reviews: r.reviews.len(),
        })
        .collect()
}
