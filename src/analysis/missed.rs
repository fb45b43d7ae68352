//! Missed fixes: commits of SOURCE, not on TARGET by any evidence, that repair or revert a
//! commit TARGET has (a `Fixes: <id>` trailer, "This reverts commit X."), or that share a
//! bug id with one; each with the outcome of picking them all onto TARGET in source order.
//!
//! TARGET has a commit X when X is reachable from TARGET, or X is a SOURCE commit present
//! on TARGET by the delta's evidence (then the TARGET commit that carries it is named).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::analysis::delta::{self, DeltaError, DeltaOptions, Tip, Unresolved};
use crate::analysis::simulation::{self, Outcome, SimulationError, ToPick};
use crate::git::GitError;
use crate::git::repo::{Repo, RepoError};
use crate::oid::ObjectId;
use crate::progress::Progress;
use crate::text::bugs::{self, BugPatternError, BugPatterns, Strength};
use crate::text::provenance;

/// Errors from finding missed fixes.
#[derive(Debug, thiserror::Error)]
pub enum MissedError {
    #[error(transparent)]
    Delta(#[from] DeltaError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Simulation(#[from] SimulationError),
    #[error("reading the configuration: {0}")]
    Config(#[source] GitError),
    #[error(transparent)]
    Pattern(#[from] BugPatternError),
}

impl crate::ErrorOrigin for MissedError {
    fn is_user_input(&self) -> bool {
        match self {
            MissedError::Delta(e) => e.is_user_input(),
            MissedError::Repo(e) => e.is_user_input(),
            MissedError::Simulation(e) => e.is_user_input(),
            MissedError::Config(_) => false,
            MissedError::Pattern(_) => true,
        }
    }
}

/// Which rule found a missed fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasonKind {
    /// A `Fixes: <id>` trailer names a commit TARGET has.
    Fixes,
    /// "This reverts commit X." names a commit TARGET has.
    Reverts,
    /// A bug id shared with a commit TARGET has.
    Bug,
}

/// How strongly a shared bug ties the fix to TARGET's commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BugStrength {
    /// Both commits claim to fix (close, partially fix) the bug.
    Fixes,
    /// One of them is only `Related-Bug`.
    Related,
}

/// One piece of evidence that a commit is a missed fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub kind: ReasonKind,
    /// The commit id as the message writes it (fixes, reverts).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    /// The shared bug id (bug).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bug: Option<String>,
    /// The commit the reference resolves to (fixes, reverts).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub named: Option<ObjectId>,
    /// The TARGET commit that has what is fixed, reverted or shares the bug.
    pub target_commit: ObjectId,
    /// For a bug: fixes, or related when either side is only `Related-Bug`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub strength: Option<BugStrength>,
}

/// A fix of SOURCE that TARGET lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissedFix {
    pub commit: ObjectId,
    pub summary: String,
    pub reasons: Vec<Reason>,
    /// Picking the missed fixes onto TARGET in this order, as one simulation.
    pub outcome: Outcome,
    pub conflicts: Vec<String>,
}

/// A `Fixes:` or revert reference of a candidate that names no single commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnresolvedFix {
    pub commit: ObjectId,
    pub summary: String,
    pub kind: ReasonKind,
    pub reference: String,
    pub why: Unresolved,
}

/// The answer of `git regraft missed --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missed {
    pub target: Tip,
    pub source: Tip,
    /// SOURCE's commits not on TARGET by any evidence that were examined.
    pub candidates: usize,
    pub missed: Vec<MissedFix>,
    pub unresolved: Vec<UnresolvedFix>,
}

/// Finds SOURCE's fixes of commits TARGET has that TARGET lacks, and forecasts them.
pub fn missed(
    repo: &Repo,
    target: &str,
    source: &str,
    options: &DeltaOptions,
    progress: &dyn Progress,
) -> Result<Missed, MissedError> {
    let patterns = BugPatterns::new(
        &repo.git().config_get_all("regraft.bugPattern").map_err(MissedError::Config)?,
    )?;
    let d = delta::delta(repo, target, source, options)?;
    let tip = d.target.commit;
    // SOURCE commits present on TARGET, and the TARGET commit carrying each.
    let carried: HashMap<ObjectId, ObjectId> = d
        .source_only
        .iter()
        .filter(|e| e.is_present())
        .filter_map(|e| e.equivalents.first().map(|q| (e.commit, q.commit)))
        .collect();

    // Bug ids of TARGET's commits since the merge base, and of SOURCE commits it carries.
    let mut target_bugs: HashMap<String, (ObjectId, Strength)> = HashMap::new();
    let mut note = |id: String, at: ObjectId, strength: Strength| {
        let slot = target_bugs.entry(id).or_insert((at, strength));
        if strength < slot.1 {
            *slot = (at, strength);
        }
    };
    for entry in d.target_only.iter().filter(|e| !e.merge) {
        let text = repo.commit_origin(entry.commit)?.message;
        for bug in bugs::bugs(&text, &patterns) {
            note(bug.id, entry.commit, bug.strength);
        }
    }
    for entry in d.source_only.iter().filter(|e| !e.merge) {
        if let Some(&at) = carried.get(&entry.commit) {
            let text = repo.commit_origin(entry.commit)?.message;
            for bug in bugs::bugs(&text, &patterns) {
                note(bug.id, at, bug.strength);
            }
        }
    }

    let has = |named: ObjectId| -> Result<Option<ObjectId>, RepoError> {
        if let Some(&at) = carried.get(&named) {
            return Ok(Some(at));
        }
        Ok(repo.is_ancestor(named, tip)?.then_some(named))
    };

    let mut candidates = 0;
    let mut found: Vec<(ObjectId, String, Option<ObjectId>, Vec<Reason>)> = Vec::new();
    let mut unresolved = Vec::new();
    // Source order: the delta lists commits oldest first, in topological order.
    for entry in d.source_only.iter().filter(|e| !e.merge && !e.is_present()) {
        candidates += 1;
        let text = repo.commit_origin(entry.commit)?.message;
        let mut reasons = Vec::new();
        let references = bugs::fixes_commits(&text)
            .into_iter()
            .map(|r| (ReasonKind::Fixes, r))
            .chain(provenance::reverts(&text).into_iter().map(|r| (ReasonKind::Reverts, r)));
        for (kind, reference) in references {
            match resolve(repo, &reference)? {
                Ok(named) => {
                    if let Some(at) = has(named)? {
                        reasons.push(Reason {
                            kind,
                            id: Some(reference),
                            bug: None,
                            named: Some(named),
                            target_commit: at,
                            strength: None,
                        });
                    }
                }
                Err(why) => unresolved.push(UnresolvedFix {
                    commit: entry.commit,
                    summary: entry.summary.clone(),
                    kind,
                    reference,
                    why,
                }),
            }
        }
        for bug in bugs::bugs(&text, &patterns) {
            if let Some(&(at, theirs)) = target_bugs.get(&bug.id) {
                let strength = if bug.strength == Strength::Related || theirs == Strength::Related {
                    BugStrength::Related
                } else {
                    BugStrength::Fixes
                };
                reasons.push(Reason {
                    kind: ReasonKind::Bug,
                    id: None,
                    bug: Some(bug.id),
                    named: None,
                    target_commit: at,
                    strength: Some(strength),
                });
            }
        }
        if !reasons.is_empty() {
            found.push((
                entry.commit,
                entry.summary.clone(),
                entry.parents.first().copied(),
                reasons,
            ));
        }
    }

    let picks: Vec<ToPick> = found
        .iter()
        .map(|(commit, _, parent, _)| ToPick { commit: *commit, parent: *parent })
        .collect();
    let simulated = if picks.is_empty() {
        Vec::new()
    } else {
        simulation::simulate(repo, tip, &picks, progress)?.picks
    };
    let missed = found
        .into_iter()
        .zip(simulated.into_iter().map(Some).chain(std::iter::repeat(None)))
        .map(|((commit, summary, _, reasons), pick)| {
            let (outcome, conflicts) =
                pick.map_or((Outcome::Conflict, Vec::new()), |p| (p.outcome, p.conflicts));
            MissedFix { commit, summary, reasons, outcome, conflicts }
        })
        .collect();
    Ok(Missed { target: d.target, source: d.source, candidates, missed, unresolved })
}

/// Resolves a commit named in a message as `git rev-parse X^{commit}` does: a hex
/// abbreviation of four to forty digits naming one commit; ambiguous or unknown otherwise.
fn resolve(repo: &Repo, reference: &str) -> Result<Result<ObjectId, Unresolved>, RepoError> {
    if !(4..=40).contains(&reference.len()) || !reference.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Err(Unresolved::Missing));
    }
    match repo.resolve_commit(&format!("{reference}^{{commit}}")) {
        Ok(id) => Ok(Ok(id)),
        Err(RepoError::Ambiguous { .. }) => Ok(Err(Unresolved::Ambiguous)),
        Err(RepoError::UnknownRevision { .. } | RepoError::NotACommit { .. }) => {
            Ok(Err(Unresolved::Missing))
        }
        Err(e) => Err(e),
    }
}
