//! The operation log: one line for every regraft operation that changed something in this
//! repository, on its remote or on its review server (what `git regraft log` lists and
//! `git regraft undo` takes back).
//!
//! It lives in regraft's state directory as JSON lines, appended and never rewritten: an
//! operation's number is its line, so numbers never change. A line that cannot be read (a
//! write torn by a kill, an edit) stays where it is and is listed as unreadable; nothing is
//! ever dropped or written over.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::git::action::{GitAction, Refspec};
use crate::git::repo::Repo;
use crate::oid::ObjectId;
use crate::review::GerritUrl;
use crate::surgery::plan::{Action, BranchChange, Check, Plan, ReviewCall};
use crate::surgery::step_id::StepId;

/// What kind of operation an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `replace` (or a playbook's replace step).
    Replace,
    /// `eol` (or a playbook's eol step).
    Eol,
    /// `--abort` of a replace or eol: what the operation left once aborted.
    Abort,
    /// `sync`: local branches moved onto a replaced upstream.
    Sync,
    /// `abandon`: reviews abandoned.
    Abandon,
    /// `restore`: reviews restored.
    Restore,
    /// `undo`: an earlier operation taken back.
    Undo,
}

impl Kind {
    /// Returns the command's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Replace => "replace",
            Kind::Eol => "eol",
            Kind::Abort => "abort",
            Kind::Sync => "sync",
            Kind::Abandon => "abandon",
            Kind::Restore => "restore",
            Kind::Undo => "undo",
        }
    }
}

/// A ref an operation changed: `old` what it found (`None`: there was none), `new` what it
/// left (`None`: deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefChange {
    pub reference: String,
    pub old: Option<ObjectId>,
    pub new: Option<ObjectId>,
}

/// What an operation did to reviews on a review server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewAction {
    Abandoned,
    Restored,
    /// Commits pushed for review (Gerrit's `refs/for/`): reviews created or updated.
    PushedForReview,
}

/// Reviews an operation abandoned, restored or pushed on one branch of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewChange {
    /// The server; for a push for review, none (it went through the remote).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<GerritUrl>,
    #[serde(default)]
    pub project: String,
    pub branch: String,
    pub action: ReviewAction,
    /// The reviews' numbers (none for a push for review: the server gives them).
    #[serde(default)]
    pub numbers: Vec<u64>,
    /// What abandoned them, as the record of abandoned reviews says (`restore` reads it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
    /// The file that named the server when the user did not (see [`crate::review::Named`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
}

/// One operation, as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its number: its line in the log, from 1.
    pub id: u64,
    /// When it ended, in seconds since 1970.
    pub at: u64,
    pub kind: Kind,
    /// What it was, in words.
    pub what: String,
    /// The remote its `remote_refs` are on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    #[serde(default)]
    pub remote_refs: Vec<RefChange>,
    #[serde(default)]
    pub local_refs: Vec<RefChange>,
    #[serde(default)]
    pub reviews: Vec<ReviewChange>,
    /// The operation it undid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<u64>,
}

impl Entry {
    /// Returns an entry of `kind` that changed nothing yet, to be filled in and appended.
    pub fn new(kind: Kind, what: &str) -> Entry {
        Entry {
            id: 0,
            at: crate::review::now(),
            kind,
            what: what.to_string(),
            remote: None,
            remote_refs: Vec::new(),
            local_refs: Vec::new(),
            reviews: Vec::new(),
            undoes: None,
        }
    }

    /// Tells whether it changed anything at all.
    pub fn changed_anything(&self) -> bool {
        !self.remote_refs.is_empty() || !self.local_refs.is_empty() || !self.reviews.is_empty()
    }
}

/// A line of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Entry(Box<Entry>),
    /// A line that cannot be read, kept as it is.
    Unreadable {
        id: u64,
        problem: String,
    },
}

impl Line {
    /// Returns its number.
    pub fn id(&self) -> u64 {
        match self {
            Line::Entry(entry) => entry.id,
            Line::Unreadable { id, .. } => *id,
        }
    }
}

/// Returns where the log lives.
pub fn path(repo: &Repo) -> PathBuf {
    repo.state_dir().join("operations.jsonl")
}

/// Reads every line of the log, oldest first (none when there is no log).
pub fn read(repo: &Repo) -> std::io::Result<Vec<Line>> {
    let text = match std::fs::read(path(repo)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(parse(&text))
}

fn parse(text: &[u8]) -> Vec<Line> {
    let mut lines = Vec::new();
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    if text.is_empty() {
        return lines;
    }
    for (n, line) in text.split(|b| *b == b'\n').enumerate() {
        let id = n as u64 + 1;
        let line = match serde_json::from_slice::<Entry>(line) {
            Ok(entry) if entry.id == id => Line::Entry(Box::new(entry)),
            Ok(entry) => Line::Unreadable {
                id,
                problem: format!("it says it is operation {}, on line {id}", entry.id),
            },
            Err(e) => Line::Unreadable { id, problem: e.to_string() },
        };
        lines.push(line);
    }
    lines
}

/// Appends `entry` as the next operation and returns its number; an entry that changed
/// nothing is not logged (`None`). A last line torn by a kill is ended first, so it stays
/// one unreadable line and the new one is whole.
pub fn append(repo: &Repo, mut entry: Entry) -> std::io::Result<Option<u64>> {
    if !entry.changed_anything() {
        return Ok(None);
    }
    let path = path(repo);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let existing = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let torn = !existing.is_empty() && !existing.ends_with(b"\n");
    let count = existing.iter().filter(|b| **b == b'\n').count() + usize::from(torn);
    entry.id = count as u64 + 1;
    let mut bytes = Vec::new();
    if torn {
        bytes.push(b'\n');
    }
    bytes.extend(serde_json::to_vec(&entry).expect("an entry serializes"));
    bytes.push(b'\n');
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    Ok(Some(entry.id))
}

/// Returns, for each operation undone, the undo that took it back and is not itself
/// undone (an undo of an undo puts the operation back).
pub fn undone_by(lines: &[Line]) -> std::collections::BTreeMap<u64, u64> {
    let mut undone = std::collections::BTreeMap::new();
    // Newest first: an undo counts only while no later undo took it back.
    for line in lines.iter().rev() {
        let Line::Entry(entry) = line else { continue };
        if let Some(target) = entry.undoes
            && !undone.contains_key(&entry.id)
        {
            undone.entry(target).or_insert(entry.id);
        }
    }
    undone
}

/// Adds to `changes` that `reference` went from `old` to `new`: a ref changed twice keeps
/// its first `old` and its last `new`.
fn note(
    changes: &mut Vec<RefChange>,
    reference: &str,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
) {
    match changes.iter_mut().find(|c| c.reference == reference) {
        Some(change) => change.new = new,
        None => changes.push(RefChange { reference: reference.to_string(), old, new }),
    }
}

/// Returns the entry of a plan whose steps `ran` were carried out (the steps found already
/// done are not among them: they changed nothing), with the reviews it abandoned as the
/// record of abandoned reviews holds them since `since`, and those it `restored`.
pub fn of_plan(
    repo: &Repo,
    plan: &Plan,
    ran: &[StepId],
    since: u64,
    restored: &[ReviewChange],
) -> Entry {
    let kind = match (&plan.undoes, plan.notice.as_ref().map(|n| n.strategy)) {
        (Some(_), _) => Kind::Undo,
        (None, Some(BranchChange::EndOfLife)) => Kind::Eol,
        _ => Kind::Replace,
    };
    let mut entry = Entry::new(kind, &plan.operation);
    entry.remote = Some(plan.remote.clone());
    entry.undoes = plan.undoes;
    for step in plan.steps.iter().filter(|s| ran.contains(&s.id)) {
        let before = |reference: &str| {
            step.precondition.iter().find_map(|c| match c {
                Check::RemoteRef { reference: r, expected } if r == reference => Some(*expected),
                _ => None,
            })
        };
        let after = |reference: &str| {
            step.verification.iter().find_map(|c| match c {
                Check::RemoteRef { reference: r, expected } if r == reference => Some(*expected),
                _ => None,
            })
        };
        match &step.action {
            Action::Git(GitAction::Push(push)) => {
                let reference = push.refspec.reference();
                match (&push.lease, &push.refspec) {
                    (None, Refspec::Update { commit, .. }) => {
                        let branch = reference.strip_prefix("refs/for/").unwrap_or(reference);
                        entry.reviews.push(ReviewChange {
                            server: None,
                            project: String::new(),
                            branch: format!("{branch} ({})", commit.short()),
                            action: ReviewAction::PushedForReview,
                            numbers: Vec::new(),
                            by: String::new(),
                            found_in: None,
                        });
                    }
                    (lease, refspec) => {
                        let old = lease.as_ref().and_then(|l| l.expected);
                        let new = match refspec {
                            Refspec::Update { commit, .. } => Some(*commit),
                            Refspec::Delete { .. } => None,
                            Refspec::Tag { reference } => {
                                repo.reference_target(reference).ok().flatten()
                            }
                        };
                        note(&mut entry.remote_refs, reference, old, new);
                    }
                }
            }
            Action::Git(GitAction::Tag { tag, .. }) => {
                let reference = format!("refs/tags/{tag}");
                let new = repo.reference_target(&reference).ok().flatten();
                note(&mut entry.local_refs, &reference, None, new);
            }
            Action::Git(GitAction::UpdateRef { reference, new, old }) => {
                note(&mut entry.local_refs, reference, *old, *new);
            }
            Action::Review(review) => {
                let reference = format!("refs/heads/{}", review.branch);
                if let ReviewCall::DeleteBranch | ReviewCall::CreateBranch { .. } = review.call
                    && let (Some(old), Some(new)) = (before(&reference), after(&reference))
                {
                    note(&mut entry.remote_refs, &reference, old, new);
                }
            }
            // What a forge step did to requests is in the request log, which `restore`
            // and an abort read.
            Action::Git(_) | Action::Forge(_) | Action::Check => {}
        }
    }
    entry.remote_refs.retain(|c| c.old != c.new);
    entry.local_refs.retain(|c| c.old != c.new);
    entry.reviews.extend(abandoned_since(repo, &plan.operation, since));
    entry.reviews.extend(restored.iter().cloned());
    entry
}

/// Returns the reviews the record of abandoned reviews says `by` abandoned since `since`
/// (an unreadable record gives none: the record itself stays for `restore`).
pub fn abandoned_since(repo: &Repo, by: &str, since: u64) -> Vec<ReviewChange> {
    let Ok(log) = crate::review::AbandonLog::load(&repo.state_dir()) else {
        return Vec::new();
    };
    log.records
        .iter()
        .filter(|r| r.by == by && r.at >= since)
        .map(|r| ReviewChange {
            server: Some(r.gerrit.clone()),
            project: r.project.clone(),
            branch: r.branch.clone(),
            action: ReviewAction::Abandoned,
            numbers: r.reviews.iter().map(|review| review.number).collect(),
            by: r.by.clone(),
            found_in: r.found_in.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, undoes: Option<u64>) -> Line {
        let mut e = Entry::new(Kind::Undo, "x");
        e.id = id;
        e.undoes = undoes;
        Line::Entry(Box::new(e))
    }

    #[test]
    fn an_undo_of_an_undo_puts_the_operation_back() {
        let lines = [entry(1, None), entry(2, Some(1)), entry(3, Some(2))];
        let undone = undone_by(&lines);
        assert_eq!(undone.get(&2), Some(&3));
        assert_eq!(undone.get(&1), None, "#3 undid the undo of #1");
        let lines = [entry(1, None), entry(2, Some(1))];
        assert_eq!(undone_by(&lines).get(&1), Some(&2));
    }

    #[test]
    fn a_torn_or_edited_line_keeps_its_number_and_the_rest_are_read() {
        let mut good = Entry::new(Kind::Sync, "sync");
        good.id = 3;
        let text = format!(
            "{{\"id\":1,\"at\":0,\"kind\":\"sync\",\"what\":\"a\"}}\n{{\"id\":1,\"torn\n{}\n",
            serde_json::to_string(&good).expect("json")
        );
        let lines = parse(text.as_bytes());
        assert_eq!(lines.len(), 3);
        assert!(matches!(&lines[0], Line::Entry(e) if e.id == 1));
        assert!(matches!(&lines[1], Line::Unreadable { id: 2, .. }));
        assert!(matches!(&lines[2], Line::Entry(e) if e.id == 3));
        let renumbered = text.replace("\"id\":3", "\"id\":7");
        assert!(matches!(&parse(renumbered.as_bytes())[2], Line::Unreadable { id: 3, .. }));
    }
}
