//! `git regraft undo`: an operation of the log taken back as a plan like any other, shown
//! whole in a dry run and carried out step by step with the journal, every push leased
//! against what the operation left and every local ref moved only while it still holds it.
//!
//! It is all or nothing: the plan's first step checks that every ref is still where the
//! operation left it, so a colleague's push since makes the undo refuse before it changes
//! anything. A sync is taken back by `sync --undo`'s own code (it puts the work tree back
//! too); reviews abandoned are restored; what no undo can take back (reviews restored, or
//! created by a push for review) is said in the plan's notes.

use crate::git::action::{GitAction, Push};
use crate::git::repo::Repo;
use crate::surgery::oplog::{Entry, Kind, Line, ReviewAction};
use crate::surgery::plan::{Action, Check, Plan, ReviewCall, ReviewStep, Step};
use crate::surgery::step_id::{StepId, StepKind};

/// Why an undo cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("reading the operation log {path}")]
    Log {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the operation log has no operation to undo{}", if *.logged == 0 { " (no regraft operation changed anything here yet)".to_string() } else { format!(": all {} are undone, or are undos", .logged) })]
    Nothing { logged: u64 },
    #[error("there is no operation #{id}: the log has {last}")]
    NoSuch { id: u64, last: u64 },
    #[error(
        "operation #{id} cannot be read ({problem}), so what it changed is unknown and it is not undone; the line stays in {path}"
    )]
    Unreadable { id: u64, problem: String, path: std::path::PathBuf },
    #[error("operation #{id} was already undone by #{by}")]
    AlreadyUndone { id: u64, by: u64 },
    #[error("operation #{id} ({what}) cannot be undone: {why}")]
    Cannot { id: u64, what: String, why: String },
    #[error(transparent)]
    Sync(#[from] crate::surgery::sync::SyncError),
}

impl crate::ErrorOrigin for UndoError {
    fn is_user_input(&self) -> bool {
        match self {
            UndoError::Log { .. } => false,
            UndoError::Sync(e) => e.is_user_input(),
            _ => true,
        }
    }
}

/// What undoing an operation takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// A plan, for [`crate::surgery::operation::execute`].
    Plan(Box<Plan>),
    /// `sync --undo` of the last sync, operation `id`.
    Sync { id: u64 },
}

/// Returns the operation to undo: `requested`, or the newest one that is neither undone nor
/// an undo itself (so `undo` run again goes further back).
pub fn target(repo: &Repo, requested: Option<u64>) -> Result<Entry, UndoError> {
    let path = crate::surgery::oplog::path(repo);
    let lines = crate::surgery::oplog::read(repo)
        .map_err(|source| UndoError::Log { path: path.clone(), source })?;
    let undone = crate::surgery::oplog::undone_by(&lines);
    let last = lines.len() as u64;
    let line = match requested {
        Some(id) => lines.iter().find(|l| l.id() == id).ok_or(UndoError::NoSuch { id, last })?,
        None => lines
            .iter()
            .rev()
            .find(|l| match l {
                Line::Entry(e) => e.kind != Kind::Undo && !undone.contains_key(&e.id),
                Line::Unreadable { .. } => true,
            })
            .ok_or(UndoError::Nothing { logged: last })?,
    };
    match line {
        Line::Unreadable { id, problem } => {
            Err(UndoError::Unreadable { id: *id, problem: problem.clone(), path })
        }
        Line::Entry(entry) => match undone.get(&entry.id) {
            Some(by) => Err(UndoError::AlreadyUndone { id: entry.id, by: *by }),
            None => Ok((**entry).clone()),
        },
    }
}

/// Plans the undo of `entry`.
pub fn plan(repo: &Repo, entry: &Entry) -> Result<Undo, UndoError> {
    let cannot = |why: String| UndoError::Cannot { id: entry.id, what: entry.what.clone(), why };
    if entry.kind == Kind::Sync {
        let last = crate::surgery::sync::last_run(repo)?;
        let path = crate::surgery::oplog::path(repo);
        let lines =
            crate::surgery::oplog::read(repo).map_err(|source| UndoError::Log { path, source })?;
        let last_logged =
            last.as_deref().and_then(|run| crate::surgery::sync::logged_sync(&lines, run));
        if last_logged != Some(entry.id) {
            return Err(cannot(
                "it is not the last sync still recorded: undo the later syncs first (`git regraft sync --undo` takes back the last one)".into(),
            ));
        }
        return Ok(Undo::Sync { id: entry.id });
    }
    let remote = entry.remote.clone().unwrap_or_else(|| "origin".to_string());
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    let mut next = 1;
    let mut id = || {
        let id = StepId::new(StepKind::Undo(next));
        next += 1;
        id
    };
    // Nothing moves unless everything is where the operation left it.
    let mut unchanged: Vec<Check> = entry
        .remote_refs
        .iter()
        .map(|c| Check::RemoteRef { reference: c.reference.clone(), expected: c.new })
        .collect();
    unchanged.extend(
        entry
            .local_refs
            .iter()
            .map(|c| Check::LocalRef { reference: c.reference.clone(), expected: c.new }),
    );
    unchanged.extend(
        entry
            .remote_refs
            .iter()
            .chain(&entry.local_refs)
            .filter_map(|c| c.old)
            .map(|id| Check::LocalObject { id }),
    );
    unchanged.dedup();
    if !unchanged.is_empty() {
        steps.push(Step {
            id: id(),
            description: format!("check that nothing changed since operation #{}", entry.id),
            action: Action::Check,
            precondition: unchanged,
            verification: Vec::new(),
        });
    }
    // Last changed first: a branch goes back before the tag that kept its old tip goes.
    for change in entry.remote_refs.iter().rev() {
        let describe = |v: Option<crate::ObjectId>| v.map_or("nothing".into(), |v| v.short());
        let what = match change.old {
            Some(old) => format!("put {remote} {} back at {}", change.reference, old.short()),
            None => format!("delete {remote} {}, which #{} made", change.reference, entry.id),
        };
        steps.push(Step {
            id: id(),
            description: format!("{what} (only if it is still {})", describe(change.new)),
            action: Action::Git(GitAction::Push(Push::leased(
                &remote,
                &change.reference,
                change.new,
                change.old,
            ))),
            precondition: vec![Check::RemoteRef {
                reference: change.reference.clone(),
                expected: change.new,
            }],
            verification: vec![Check::RemoteRef {
                reference: change.reference.clone(),
                expected: change.old,
            }],
        });
    }
    for change in entry.local_refs.iter().rev() {
        let what = match change.old {
            Some(old) => format!("put local {} back at {}", change.reference, old.short()),
            None => format!("delete local {}, which #{} made", change.reference, entry.id),
        };
        steps.push(Step {
            id: id(),
            description: what,
            action: Action::Git(GitAction::UpdateRef {
                reference: change.reference.clone(),
                new: change.old,
                old: change.new,
            }),
            precondition: vec![Check::LocalRef {
                reference: change.reference.clone(),
                expected: change.new,
            }],
            verification: vec![Check::LocalRef {
                reference: change.reference.clone(),
                expected: change.old,
            }],
        });
    }
    for review in &entry.reviews {
        let numbers: Vec<String> = review.numbers.iter().map(u64::to_string).collect();
        match (review.action, &review.server) {
            (ReviewAction::Abandoned, Some(server)) => {
                let call = ReviewCall::Restore {
                    message: format!(
                        "Restored by git regraft: the operation that abandoned it was undone ({}).",
                        entry.what
                    ),
                    of: Some(review.by.clone()),
                };
                let step = ReviewStep::new(server.clone(), &review.project, &review.branch, call)
                    .found_in(review.found_in.clone());
                steps.push(Step {
                    id: id(),
                    description: format!(
                        "restore reviews {} on {} of {} at {server}, which #{} abandoned",
                        numbers.join(", "),
                        review.branch,
                        review.project,
                        entry.id
                    ),
                    action: Action::Review(step),
                    precondition: Vec::new(),
                    verification: Vec::new(),
                });
            }
            (ReviewAction::Abandoned, None) => {}
            (ReviewAction::Restored, server) => notes.push(format!(
                "reviews {} on {} restored by #{} stay open: undo abandons nothing{}",
                numbers.join(", "),
                review.branch,
                entry.id,
                server.as_ref().map_or(String::new(), |s| format!(" (abandon them at {s})"))
            )),
            (ReviewAction::PushedForReview, _) => notes.push(format!(
                "what #{} pushed for review on {} stays on the review server: abandon it there",
                entry.id, review.branch
            )),
        }
    }
    // The pull and merge requests it closed, reopened once the branch is back.
    let path = crate::review::forge::RequestLog::path(&repo.state_dir());
    let requests = crate::review::forge::RequestLog::load(&repo.state_dir())
        .map_err(|source| UndoError::Log { path, source })?;
    for record in requests.records.iter().filter(|r| r.by == entry.what) {
        let closed: Vec<String> = record
            .requests
            .iter()
            .filter(|h| h.closed)
            .map(|h| record.host.kind.number(h.request.number))
            .collect();
        if closed.is_empty() {
            continue;
        }
        let mut step = crate::surgery::plan::ForgeStep::new(
            record.host.clone(),
            &record.repository,
            &record.branch,
            crate::review::forge::ForgeCall::Reopen {
                comment: format!(
                    "Reopened by git regraft: the operation that closed it was undone ({}).",
                    entry.what
                ),
                of: Some(record.by.clone()),
            },
        );
        step.found_in = record.found_in.clone();
        steps.push(Step {
            id: id(),
            description: format!(
                "reopen {} {} on {} of {} at {}, which #{} closed",
                record.host.kind.request_word(),
                closed.join(", "),
                record.branch,
                record.repository,
                record.host,
                entry.id
            ),
            action: Action::Forge(step),
            precondition: Vec::new(),
            verification: Vec::new(),
        });
    }
    if steps.is_empty() {
        return Err(cannot(
            "nothing it changed can be put back by regraft (see `git regraft log`)".into(),
        ));
    }
    Ok(Undo::Plan(Box::new(Plan {
        operation: format!("undo of #{} ({})", entry.id, entry.what),
        remote,
        steps,
        restore: None,
        notice: None,
        notes,
        undoes: Some(entry.id),
        access: Vec::new(),
    })))
}
