//! Plan, then execute: an operation that changes refs is an ordered list of steps, each
//! with its exact action (a `git` argv), its precondition and how it is verified; shown
//! whole in a dry run, then run step by step with a journal so an interrupted run resumes.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::git::GitError;
use crate::lock::{Lock, LockError};
use crate::oid::ObjectId;
use crate::repo::Repo;

/// Environment variable (for fault tests) that aborts the process after this many steps.
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
}

impl OperationError {
    /// Tells whether the error comes from the user's input or the state of the world
    /// (a remote that moved) rather than a failure of git or the machine.
    pub fn is_user_error(&self) -> bool {
        match self {
            OperationError::Git(_) | OperationError::Io { .. } => false,
            OperationError::Review(e) => matches!(
                e,
                crate::review::ReviewError::NoCredentials { .. }
                    | crate::review::ReviewError::Unauthorized { .. }
            ),
            _ => true,
        }
    }
}

/// Something that must be true, checked against the remote or the local repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "check")]
pub enum Check {
    /// A ref on the plan's remote points at `expected` (`None`: does not exist).
    RemoteRef { reference: String, expected: Option<ObjectId> },
    /// A tag on the plan's remote exists and peels to `commit`.
    RemoteTag { tag: String, commit: ObjectId },
    /// A local tag exists and peels to `commit`.
    LocalTag { tag: String, commit: ObjectId },
    /// A local tag does not exist.
    NoLocalTag { tag: String },
    /// The local repository has the object.
    LocalObject { id: ObjectId },
    /// The review server has no open review on the branch.
    NoOpenReviews { gerrit: crate::review::GerritUrl, project: String, branch: String },
}

impl Check {
    /// Describes the check in words.
    pub fn describe(&self, remote: &str) -> String {
        match self {
            Check::RemoteRef { reference, expected: Some(id) } => {
                format!("{remote} {reference} is {}", id.short())
            }
            Check::RemoteRef { reference, expected: None } => {
                format!("{remote} has no {reference}")
            }
            Check::RemoteTag { tag, commit } => {
                format!("{remote} tag {tag} points at {}", commit.short())
            }
            Check::LocalTag { tag, commit } => {
                format!("local tag {tag} points at {}", commit.short())
            }
            Check::NoLocalTag { tag } => format!("no local tag {tag}"),
            Check::LocalObject { id } => format!("the repository has {}", id.short()),
            Check::NoOpenReviews { gerrit, project, branch } => {
                format!("{gerrit} has no open review on {branch} of {project}")
            }
        }
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// A stable name, used by the journal.
    pub id: String,
    /// What the step does, in words.
    pub description: String,
    /// The exact `git` arguments (after `git`), or none for a step that only checks.
    pub action: Option<Vec<String>>,
    /// What the action reads on standard input.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub input: Option<String>,
    pub precondition: Vec<Check>,
    pub verification: Vec<Check>,
    /// A review-server action instead of a git one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub review: Option<ReviewStep>,
}

/// A call to a Gerrit server about one branch of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewStep {
    pub gerrit: crate::review::GerritUrl,
    pub project: String,
    pub branch: String,
    pub call: ReviewCall,
}

/// What the call does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "call")]
pub enum ReviewCall {
    /// Abandon every open review on the branch (recorded for restore).
    Abandon { message: String },
    /// `DELETE /a/projects/{project}/branches/{branch}`.
    DeleteBranch,
    /// `PUT /a/projects/{project}/branches/{branch}` at `revision`.
    CreateBranch { revision: ObjectId },
    /// `PUT /a/projects/{project}/tags/{tag}`: an annotated tag at `revision`.
    CreateTag { tag: String, revision: ObjectId, message: String },
}

/// What to put back on `--abort`: a ref on the remote and its old value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restore {
    pub reference: String,
    pub old: ObjectId,
    /// The tag that keeps the old tip, named when undoing is impossible.
    pub tag: String,
}

/// An operation as a plan: the schema of `--json` dry runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// What the operation is, in words.
    pub operation: String,
    pub remote: String,
    pub steps: Vec<Step>,
    pub restore: Option<Restore>,
    /// What developers must be told once it is done (`git regraft notice`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notice: Option<Notice>,
}

/// The facts of a finished surgery that developers need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub branch: String,
    pub remote: String,
    /// `megapatch`, `merge`, `recreate`, `reset` or `eol`.
    pub strategy: String,
    /// What replaced the branch, as the user named it (none for an end of life).
    pub source: Option<String>,
    pub old: ObjectId,
    pub new: Option<ObjectId>,
    pub tag: String,
}

/// Returns the plan of the last operation that finished in this repository.
pub fn last_finished(repo: &Repo) -> Option<Plan> {
    let text = std::fs::read(last_path(repo)).ok()?;
    serde_json::from_slice(&text).ok()
}

fn last_path(repo: &Repo) -> PathBuf {
    repo.state_dir().join("last-operation.json")
}

/// The journal of a plan being executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Journal {
    plan: Plan,
    done: Vec<String>,
}

/// How a step went, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// Its outcome already held (a resumed run): nothing done.
    AlreadyDone,
    Done,
}

fn journal_path(repo: &Repo) -> PathBuf {
    repo.state_dir().join("journal.json")
}

fn load(repo: &Repo) -> Result<Option<Journal>, OperationError> {
    let path = journal_path(repo);
    match std::fs::read(&path) {
        Ok(text) => serde_json::from_slice(&text).map(Some).map_err(|e| OperationError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(OperationError::Io { path, source: e }),
    }
}

fn save(repo: &Repo, journal: &Journal) -> Result<(), OperationError> {
    let path = journal_path(repo);
    let dir = path.parent().expect("the journal is in a directory").to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|source| OperationError::Io { path: dir, source })?;
    let temp = path.with_extension("json.new");
    let text = serde_json::to_vec_pretty(journal).expect("the journal serializes");
    // Written aside and renamed: a crash never leaves half a journal.
    std::fs::write(&temp, text)
        .map_err(|source| OperationError::Io { path: temp.clone(), source })?;
    std::fs::rename(&temp, &path).map_err(|source| OperationError::Io { path, source })
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
/// in progress.
pub fn execute(
    repo: &Repo,
    plan: Plan,
    report: &mut dyn FnMut(&Step, StepStatus),
) -> Result<(), OperationError> {
    let _lock = Lock::take(repo, &plan.operation)?;
    // Missing credentials for a review server are found before anything changes.
    check_credentials(repo, &plan)?;
    if let Some(journal) = load(repo)? {
        return Err(OperationError::InProgress {
            operation: journal.plan.operation,
            path: journal_path(repo),
        });
    }
    let journal = Journal { plan, done: Vec::new() };
    save(repo, &journal)?;
    run(repo, journal, report)
}

/// Resumes the operation in progress at its first unfinished step.
pub fn resume(
    repo: &Repo,
    report: &mut dyn FnMut(&Step, StepStatus),
) -> Result<Plan, OperationError> {
    let _lock = Lock::take(repo, "resume")?;
    let journal =
        load(repo)?.ok_or_else(|| OperationError::NotInProgress { path: journal_path(repo) })?;
    let plan = journal.plan.clone();
    run(repo, journal, report)?;
    Ok(plan)
}

/// What `--abort` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbortReport {
    pub plan: Plan,
    /// What was put back, in words.
    pub restored: Vec<String>,
    /// What could not be undone, in words.
    pub kept: Vec<String>,
}

/// Undoes what can be undone of the operation in progress: the remote ref goes back to its
/// old tip. Tags that keep the old tip stay (they lose nothing).
pub fn abort(repo: &Repo) -> Result<AbortReport, OperationError> {
    let _lock = Lock::take(repo, "abort")?;
    let journal =
        load(repo)?.ok_or_else(|| OperationError::NotInProgress { path: journal_path(repo) })?;
    let plan = journal.plan;
    let (mut restored, mut kept) = (Vec::new(), Vec::new());
    if let Some(restore) = &plan.restore {
        let current = remote_ref(repo, &plan.remote, &restore.reference)?;
        if current == Some(restore.old) {
            restored.push(format!("{} {} was never moved", plan.remote, restore.reference));
        } else {
            let lease = format!(
                "--force-with-lease={}:{}",
                restore.reference,
                current.map(|c| c.to_hex()).unwrap_or_default()
            );
            let refspec = format!("+{}:{}", restore.old.to_hex(), restore.reference);
            let git = repo.git();
            let forced = git.output(&["push", "--porcelain", &lease, &plan.remote, &refspec]);
            // A server that refuses non-fast-forward updates may still allow deleting and
            // creating, as `recreate` does; each push is compare-and-swap.
            let recreated = || -> Result<(), GitError> {
                if current.is_some() {
                    git.output(&[
                        "push",
                        "--porcelain",
                        &lease,
                        &plan.remote,
                        &format!(":{}", restore.reference),
                    ])?;
                }
                let create = format!("--force-with-lease={}:", restore.reference);
                git.output(&[
                    "push",
                    "--porcelain",
                    &create,
                    &plan.remote,
                    &format!("{}:{}", restore.old, restore.reference),
                ])?;
                Ok(())
            };
            match forced.or_else(|_| recreated().map(|()| Vec::new())) {
                Ok(_) => restored.push(format!(
                    "{} {} is back at {}",
                    plan.remote,
                    restore.reference,
                    restore.old.short()
                )),
                Err(e) => kept.push(format!(
                    "{} {} could not be put back ({e}); the old tip is kept by tag {}",
                    plan.remote, restore.reference, restore.tag
                )),
            }
        }
        kept.push(format!("tag {} stays: it keeps the old tip", restore.tag));
    }
    remove(repo)?;
    Ok(AbortReport { plan, restored, kept })
}

fn run(
    repo: &Repo,
    mut journal: Journal,
    report: &mut dyn FnMut(&Step, StepStatus),
) -> Result<(), OperationError> {
    let fault_after: Option<usize> = std::env::var(FAULT_VAR).ok().and_then(|v| v.parse().ok());
    let remote = journal.plan.remote.clone();
    let steps = journal.plan.steps.clone();
    for step in &steps {
        if journal.done.contains(&step.id) {
            continue;
        }
        let finished =
            step.action.is_some() && holds_all(repo, &remote, &step.verification)?.is_none();
        if finished {
            report(step, StepStatus::AlreadyDone);
        } else {
            if let Some((check, found)) = holds_all(repo, &remote, &step.precondition)? {
                return Err(OperationError::Precondition { step: step.id.clone(), check, found });
            }
            if let Some(review) = &step.review {
                let host = gerrit_client(repo, &review.gerrit)?;
                match &review.call {
                    ReviewCall::Abandon { message } => {
                        let done = crate::review::abandon_all(
                            &host,
                            &review.project,
                            &review.branch,
                            message,
                            false,
                        )?;
                        let record = crate::review::AbandonRecord {
                            gerrit: review.gerrit.clone(),
                            project: review.project.clone(),
                            branch: review.branch.clone(),
                            reviews: done.into_iter().map(|(r, _)| r).collect(),
                        };
                        record.save(repo.git_dir()).map_err(|source| OperationError::Io {
                            path: crate::review::AbandonRecord::path(repo.git_dir()),
                            source,
                        })?;
                    }
                    ReviewCall::DeleteBranch => {
                        host.delete_branch(&review.project, &review.branch)?
                    }
                    ReviewCall::CreateBranch { revision } => {
                        host.create_branch(&review.project, &review.branch, *revision)?;
                    }
                    ReviewCall::CreateTag { tag, revision, message } => {
                        host.create_tag(&review.project, tag, *revision, message)?;
                    }
                }
            }
            if let Some(argv) = &step.action {
                let args: Vec<&str> = argv.iter().map(String::as_str).collect();
                let input = step.input.as_deref().unwrap_or_default().as_bytes();
                repo.git().output_with_input_env(&args, &[], input)?;
            }
            if let Some((check, found)) = holds_all(repo, &remote, &step.verification)? {
                return Err(OperationError::Verification { step: step.id.clone(), check, found });
            }
            report(step, StepStatus::Done);
        }
        journal.done.push(step.id.clone());
        save(repo, &journal)?;
        if fault_after == Some(journal.done.len()) {
            std::process::abort();
        }
    }
    // Kept for `git regraft notice`; losing it loses nothing but the notice's facts.
    let _ = std::fs::write(
        last_path(repo),
        serde_json::to_vec_pretty(&journal.plan).expect("the plan serializes"),
    );
    remove(repo)
}

/// Returns the first check that does not hold, described, with what was found.
fn holds_all(
    repo: &Repo,
    remote: &str,
    checks: &[Check],
) -> Result<Option<(String, String)>, OperationError> {
    for check in checks {
        let found = match check {
            Check::RemoteRef { reference, expected } => {
                let now = remote_ref(repo, remote, reference)?;
                (now != *expected).then(|| now.map_or("nothing".to_string(), |id| id.short()))
            }
            Check::RemoteTag { tag, commit } => {
                let peeled = remote_ref(repo, remote, &format!("refs/tags/{tag}^{{}}"))?
                    .or(remote_ref(repo, remote, &format!("refs/tags/{tag}"))?);
                (peeled != Some(*commit))
                    .then(|| peeled.map_or("no tag".to_string(), |id| id.short()))
            }
            Check::LocalTag { tag, commit } => {
                let peeled = repo.resolve_commit(&format!("refs/tags/{tag}")).ok();
                (peeled != Some(*commit))
                    .then(|| peeled.map_or("no tag".to_string(), |id| id.short()))
            }
            Check::NoLocalTag { tag } => repo
                .reference_target(&format!("refs/tags/{tag}"))
                .map(|id| format!("tag {tag} at {}", id.short())),
            Check::LocalObject { id } => {
                let has = repo.git().output(&["cat-file", "-e", &id.to_hex()]).is_ok();
                (!has).then(|| "no such object".to_string())
            }
            Check::NoOpenReviews { gerrit, project, branch } => {
                let host = gerrit_client(repo, gerrit)?;
                let open = crate::review::ReviewHost::open_reviews(&host, project, branch)?;
                (!open.is_empty()).then(|| format!("{} open reviews", open.len()))
            }
        };
        if let Some(found) = found {
            return Ok(Some((check.describe(remote), found)));
        }
    }
    Ok(None)
}

fn gerrit_client(
    repo: &Repo,
    url: &crate::review::GerritUrl,
) -> Result<crate::review::Gerrit, OperationError> {
    let credentials = crate::review::Credentials::find(repo.git(), url)?;
    Ok(crate::review::Gerrit::new(url, credentials))
}

/// Checks, before anything runs, that every review server the plan talks to has
/// credentials: missing ones are an error with nothing changed.
pub fn check_credentials(repo: &Repo, plan: &Plan) -> Result<(), OperationError> {
    for step in &plan.steps {
        if let Some(review) = &step.review {
            crate::review::Credentials::find(repo.git(), &review.gerrit)?;
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
    let out = repo.git().output(&["ls-remote", remote, reference])?;
    let text = String::from_utf8_lossy(&out);
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(_, name)| *name == reference)
        .and_then(|(id, _)| ObjectId::from_hex(id.as_bytes())))
}
