//! The forge steps of a plan carried out: the open requests on a branch recorded, moved to
//! a hold branch and back, closed and reopened, each request's change written to the
//! request log as the forge confirms it, so a kill, a failure halfway or an abort loses
//! none of them.
//!
//! Every call is idempotent on resume: a request is read before it is changed, and one
//! already where the step puts it is left alone; one someone else closed, merged or moved
//! meanwhile is left alone too, and named.

use crate::git::repo::Repo;
use crate::review::forge::{ForgeCall, HeldRequest, RequestHost, RequestLog, RequestRecord};
use crate::review::{HostFactory, OpenRequest, RequestState};
use crate::surgery::operation::OperationError;
use crate::surgery::plan::{ForgeStep, Step};

/// Connects to the forge a step talks to through `hosts`, with the token its host may
/// receive (see [`crate::review::forge::find_token`]). Every forge step, check and abort
/// goes through here.
pub(crate) fn connect(
    repo: &Repo,
    hosts: &dyn HostFactory,
    step: &ForgeStep,
) -> Result<Box<dyn RequestHost>, OperationError> {
    Ok(hosts.forge(repo.git(), &step.host, &step.repository, step.named())?)
}

/// Connects to the step's forge and makes its call. A failure on a host a file named while
/// the environment holds a token for that forge (withheld: see
/// [`crate::review::forge::find_token`]) says so, and how to send it.
pub(crate) fn run_step(
    repo: &Repo,
    hosts: &dyn HostFactory,
    step: &ForgeStep,
    operation: &str,
) -> Result<(), OperationError> {
    let outcome =
        connect(repo, hosts, step).and_then(|host| call(repo, host.as_ref(), step, operation));
    let named = step.named();
    let Err(OperationError::Review(source)) = outcome else { return outcome };
    let withheld = match named {
        crate::review::Named::InFile(_) if !step.host.is_public() => step
            .host
            .kind
            .token_variables()
            .iter()
            .copied()
            .find(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty())),
        _ => None,
    };
    match withheld {
        Some(withheld) => Err(OperationError::TokenWithheld {
            error: Box::new(source),
            withheld,
            hint: crate::review::forge::token_hint(&step.host, named),
        }),
        None => Err(OperationError::Review(source)),
    }
}

fn io(repo: &Repo) -> impl Fn(std::io::Error) -> OperationError + '_ {
    move |source| OperationError::Io { path: RequestLog::path(&repo.state_dir()), source }
}

/// Makes a forge step's call on `host`.
pub(crate) fn call(
    repo: &Repo,
    host: &dyn RequestHost,
    step: &ForgeStep,
    operation: &str,
) -> Result<(), OperationError> {
    let state = repo.state_dir();
    let (forge, repository, branch) = (&step.host, step.repository.as_str(), step.branch.as_str());
    match &step.call {
        ForgeCall::Record => {
            // Collected whole before anything changes; a resumed step adds what is new.
            let open = host.open_requests(branch)?;
            let mut log = RequestLog::load(&state).map_err(io(repo))?;
            match log.find_mut(forge, repository, branch, operation) {
                Some(record) => {
                    for request in open {
                        if !record.requests.iter().any(|h| h.request.number == request.number) {
                            record.requests.push(held(request));
                        }
                    }
                }
                None if open.is_empty() => return Ok(()),
                None => log.records.push(RequestRecord {
                    host: forge.clone(),
                    repository: repository.to_string(),
                    branch: branch.to_string(),
                    by: operation.to_string(),
                    at: crate::review::now(),
                    requests: open.into_iter().map(held).collect(),
                    found_in: step.found_in.clone(),
                }),
            }
            log.save(&state).map_err(io(repo))?;
        }
        ForgeCall::Retarget { from, to } => {
            let numbers = recorded(repo, step, operation)?;
            for number in numbers {
                let now = host.request(number)?;
                if now.state == RequestState::Open && now.base == *from {
                    host.retarget(number, to)?;
                    changed();
                }
            }
            // Back on the branch: the record has done its work.
            if *to == step.branch {
                drop_record(repo, step, operation)?;
            }
        }
        ForgeCall::Close { comment } => {
            for number in recorded(repo, step, operation)? {
                let log = RequestLog::load(&state).map_err(io(repo))?;
                let Some(mine) = held_in(&log, step, operation, number) else { continue };
                if mine.closed {
                    continue;
                }
                let now = host.request(number)?;
                match now.state {
                    RequestState::Open => {}
                    // The comment goes first, so one with it that is closed now was closed
                    // here, by a run killed before the log said so: `restore` reopens it.
                    RequestState::Closed if mine.commented => {
                        update(repo, step, operation, number, |h| h.closed = true)?;
                        continue;
                    }
                    // Closed or merged by someone else meanwhile: not this operation's.
                    _ => continue,
                }
                if !mine.commented {
                    // A run killed (or an answer lost) after the comment was sent may have
                    // left it there: it is not said twice.
                    let said = mine.commenting
                        && host.last_comment(number)?.as_deref() == Some(comment.as_str());
                    if !said {
                        update(repo, step, operation, number, |h| h.commenting = true)?;
                        host.comment(number, comment)?;
                        changed();
                    }
                    update(repo, step, operation, number, |h| {
                        h.commenting = false;
                        h.commented = true;
                    })?;
                }
                host.close(number)?;
                changed();
                update(repo, step, operation, number, |h| h.closed = true)?;
            }
        }
        ForgeCall::Reopen { comment, of } => {
            let by = of.as_deref().unwrap_or(operation);
            reopen(repo, host, step, by, comment)?;
        }
        ForgeCall::Open { head, title, body } => {
            // Resumed after a kill between the create and the journal: the request is there.
            let open = host.open_requests(branch)?;
            if !open.iter().any(|r| r.head == *head) {
                host.create_request(head, branch, title, body)?;
            }
        }
    }
    Ok(())
}

/// The variable whose value `n` kills the process once a forge has taken the `n`th change
/// of the run (a comment, a close, a reopen, a retarget), before the request log says so:
/// the kill tests' window between the host's answer and the log.
pub const CHANGE_FAULT_VAR: &str = "REGRAFT_FAULT_AFTER_FORGE_CHANGES";

/// Counts a change a forge took, for [`CHANGE_FAULT_VAR`].
fn changed() {
    static CHANGES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let count = CHANGES.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    crate::fault::abort_when(CHANGE_FAULT_VAR, count);
}

fn held(request: OpenRequest) -> HeldRequest {
    HeldRequest { request, commenting: false, commented: false, closed: false, reopening: false }
}

/// Returns the numbers of the requests `operation` recorded on the step's branch.
fn recorded(repo: &Repo, step: &ForgeStep, operation: &str) -> Result<Vec<u64>, OperationError> {
    let log = RequestLog::load(&repo.state_dir()).map_err(io(repo))?;
    Ok(log
        .find(&step.host, &step.repository, &step.branch, operation)
        .map(|r| r.requests.iter().map(|h| h.request.number).collect())
        .unwrap_or_default())
}

fn mark(
    log: &mut RequestLog,
    step: &ForgeStep,
    operation: &str,
    number: u64,
    change: impl Fn(&mut HeldRequest),
) {
    if let Some(record) = log.find_mut(&step.host, &step.repository, &step.branch, operation) {
        record.requests.iter_mut().filter(|h| h.request.number == number).for_each(change);
    }
}

/// Returns what the log holds of request `number` in `operation`'s record of the branch.
fn held_in(
    log: &RequestLog,
    step: &ForgeStep,
    operation: &str,
    number: u64,
) -> Option<HeldRequest> {
    log.find(&step.host, &step.repository, &step.branch, operation)
        .and_then(|r| r.requests.iter().find(|h| h.request.number == number))
        .cloned()
}

/// Changes request `number` in `operation`'s record of the branch, and saves the log.
fn update(
    repo: &Repo,
    step: &ForgeStep,
    operation: &str,
    number: u64,
    change: impl Fn(&mut HeldRequest),
) -> Result<(), OperationError> {
    let mut log = RequestLog::load(&repo.state_dir()).map_err(io(repo))?;
    mark(&mut log, step, operation, number, change);
    log.save(&repo.state_dir()).map_err(io(repo))
}

fn drop_record(repo: &Repo, step: &ForgeStep, operation: &str) -> Result<(), OperationError> {
    let mut log = RequestLog::load(&repo.state_dir()).map_err(io(repo))?;
    log.records.retain(|r| !r.is(&step.host, &step.repository, &step.branch, operation));
    log.save(&repo.state_dir()).map_err(io(repo))
}

/// Reopens the requests `by` closed on the step's branch; each reopened one leaves the
/// record as the forge confirms it, and the record goes once none is left. A request the
/// forge will not reopen (its branch is gone, its head was force-pushed since) stays in the
/// record, named in the error.
fn reopen(
    repo: &Repo,
    host: &dyn RequestHost,
    step: &ForgeStep,
    by: &str,
    comment: &str,
) -> Result<(), OperationError> {
    let state = repo.state_dir();
    let log = RequestLog::load(&state).map_err(io(repo))?;
    let Some(record) = log.find(&step.host, &step.repository, &step.branch, by) else {
        return Ok(());
    };
    let closed: Vec<u64> =
        record.requests.iter().filter(|h| h.closed).map(|h| h.request.number).collect();
    let mut failed = Vec::new();
    for number in closed {
        match reopen_one(repo, host, step, by, number, comment) {
            Ok(()) => update(repo, step, by, number, |h| {
                h.closed = false;
                h.reopening = false;
            })?,
            Err(e @ OperationError::Io { .. }) => return Err(e),
            Err(e) => failed.push(format!("{} ({e})", step.host.kind.number(number))),
        }
    }
    if !failed.is_empty() {
        return Err(OperationError::NotReopened {
            requests: failed.join("; "),
            word: step.host.kind.request_word(),
            branch: step.branch.clone(),
        });
    }
    drop_record(repo, step, by)
}

/// Reopens request `number` if it is closed, then comments. The reopen is marked in the log
/// before it is sent, so a run killed after the host reopened it (or whose answer was lost)
/// still comments when resumed, and one killed after the comment does not say it twice. A
/// request someone else reopened meanwhile is left without a word.
fn reopen_one(
    repo: &Repo,
    host: &dyn RequestHost,
    step: &ForgeStep,
    by: &str,
    number: u64,
    comment: &str,
) -> Result<(), OperationError> {
    let log = RequestLog::load(&repo.state_dir()).map_err(io(repo))?;
    let reopening = held_in(&log, step, by, number).is_some_and(|h| h.reopening);
    match host.request(number)?.state {
        RequestState::Closed => {
            update(repo, step, by, number, |h| h.reopening = true)?;
            host.reopen(number)?;
            changed();
        }
        RequestState::Open if reopening => {
            if host.last_comment(number)?.as_deref() == Some(comment) {
                return Ok(());
            }
        }
        _ => return Ok(()),
    }
    host.comment(number, comment)?;
    changed();
    Ok(())
}

/// Settles the requests an aborted close step left between its comment and its close: one
/// the host closed before the log said so is marked closed, so that it is reopened next;
/// one still open under the close comment is told it stays open. Each is read first, so a
/// second abort says nothing twice.
fn settle_halfway(
    repo: &Repo,
    host: &dyn RequestHost,
    step: &ForgeStep,
    operation: &str,
    close_comment: &str,
) -> Result<(), OperationError> {
    let log = RequestLog::load(&repo.state_dir()).map_err(io(repo))?;
    let Some(record) = log.find(&step.host, &step.repository, &step.branch, operation) else {
        return Ok(());
    };
    let halfway: Vec<HeldRequest> = record
        .requests
        .iter()
        .filter(|h| !h.closed && (h.commented || h.commenting))
        .cloned()
        .collect();
    let note = format!(
        "Left open by git regraft: the operation that was to close it was aborted ({operation})."
    );
    for h in halfway {
        let number = h.request.number;
        match host.request(number)?.state {
            RequestState::Closed if h.commented => {
                update(repo, step, operation, number, |h| h.closed = true)?;
                continue;
            }
            RequestState::Open => {
                let last = host.last_comment(number)?;
                let said = h.commented || last.as_deref() == Some(close_comment);
                if said && last.as_deref() != Some(note.as_str()) {
                    host.comment(number, &note)?;
                    changed();
                }
            }
            _ => {}
        }
        update(repo, step, operation, number, |h| {
            h.commenting = false;
            h.commented = false;
        })?;
    }
    Ok(())
}

/// Puts back what the forge steps of an aborted operation did to requests: those moved to
/// the hold branch target the branch again, those it closed are reopened, and once all of a
/// branch's are back its record goes (one only recorded, before the kill or failure that
/// stopped the operation, too). Returns what could not be put back, in words with the
/// command that finishes it.
pub(crate) fn put_back(
    repo: &Repo,
    hosts: &dyn HostFactory,
    steps: &[&Step],
    operation: &str,
    restored: &mut Vec<String>,
) -> Vec<String> {
    let mut unfinished = Vec::new();
    let mut left: Vec<&ForgeStep> = Vec::new();
    let forge_steps: Vec<&ForgeStep> = steps.iter().filter_map(|s| s.forge()).collect();
    for step in forge_steps.iter().copied() {
        let outcome = match &step.call {
            ForgeCall::Retarget { from, to } if *from == step.branch => {
                let back = ForgeStep {
                    call: ForgeCall::Retarget { from: to.clone(), to: from.clone() },
                    ..step.clone()
                };
                connect(repo, hosts, &back)
                    .and_then(|host| call(repo, host.as_ref(), &back, operation))
            }
            ForgeCall::Close { comment } => {
                let back = ForgeStep {
                    call: ForgeCall::Reopen {
                        comment: format!(
                            "Reopened by git regraft: the operation that closed it was aborted ({operation})."
                        ),
                        of: None,
                    },
                    ..step.clone()
                };
                connect(repo, hosts, &back).and_then(|host| {
                    settle_halfway(repo, host.as_ref(), step, operation, comment)?;
                    call(repo, host.as_ref(), &back, operation)
                })
            }
            _ => continue,
        };
        let word = step.host.kind.request_word();
        match outcome {
            Ok(()) => restored.push(format!(
                "the {word}s on {} of {} at {} are back where they were",
                step.branch, step.repository, step.host
            )),
            Err(e) => {
                left.push(step);
                unfinished.push(format!(
                    "the {word}s on {} of {} at {} are not all back ({e}); they stay in {}",
                    step.branch,
                    step.repository,
                    step.host,
                    RequestLog::path(&repo.state_dir()).display()
                ));
            }
        }
    }
    // A record whose requests are all where they were has done its work; kept, it would
    // be taken for requests still held.
    let same = |a: &ForgeStep, b: &ForgeStep| {
        a.host == b.host && a.repository == b.repository && a.branch == b.branch
    };
    for step in forge_steps.iter().filter(|s| matches!(s.call, ForgeCall::Record)) {
        if left.iter().any(|l| same(l, step)) {
            continue;
        }
        if let Err(e) = drop_record(repo, step, operation) {
            unfinished.push(format!(
                "the record of the {}s on {} could not be removed ({e}); they are all back where they were, so it can go",
                step.host.kind.request_word(),
                step.branch
            ));
        }
    }
    unfinished
}

/// The records of requests closed and not reopened yet, on `branch` (any branch: none).
pub fn closed_records(
    repo: &Repo,
    branch: Option<&str>,
) -> Result<Vec<RequestRecord>, OperationError> {
    let log = RequestLog::load(&repo.state_dir()).map_err(io(repo))?;
    Ok(log
        .records
        .into_iter()
        .filter(|r| branch.is_none_or(|b| b == r.branch))
        .filter(|r| r.requests.iter().any(|h| h.closed))
        .collect())
}

/// Reopens the requests a record holds as closed (`restore`), through the same step an
/// operation's reopen runs.
pub fn reopen_record(
    repo: &Repo,
    hosts: &dyn HostFactory,
    record: &RequestRecord,
    comment: &str,
) -> Result<(), OperationError> {
    let step = ForgeStep {
        found_in: record.found_in.clone(),
        ..ForgeStep::new(
            record.host.clone(),
            &record.repository,
            &record.branch,
            ForgeCall::Reopen { comment: comment.to_string(), of: Some(record.by.clone()) },
        )
    };
    let host = connect(repo, hosts, &step)?;
    call(repo, host.as_ref(), &step, &record.by)
}
