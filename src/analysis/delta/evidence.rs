//! Which commits of the two sides are the same change: Change-Ids, patch-ids and
//! provenance lines resolved as git resolves them; reverts that undo an equivalent; and
//! subject-only hints.

use std::collections::{HashMap, HashSet};

use super::{DeltaError, Entry, Equivalent, Evidence, Revert, Unresolved, UnresolvedReference};
use crate::analysis::history::HistoryError;
use crate::git::reads;
use crate::git::repo::Repo;
use crate::oid::ObjectId;
use crate::text::provenance::comparable_subject;

/// Where a commit is: on SOURCE only, or on TARGET's side (index into TARGET-only
/// commits followed by the shared ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Source(usize),
    Target(usize),
}

/// A pair found: source index, TARGET's side index, evidence and the marker line.
type Pair = (usize, usize, Evidence, Option<String>);

/// Fills in the equivalents of SOURCE's and TARGET's commits (TARGET's side also holding
/// `shared`: TARGET's commits in history both share), the reverts on each side, and the
/// subject hints; returns the provenance lines that name no commit.
pub(super) fn link(
    repo: &Repo,
    source: &mut [Entry],
    target: &mut [Entry],
    shared: &[Entry],
) -> Result<Vec<UnresolvedReference>, DeltaError> {
    let n_target = target.len();
    let target_side: Vec<&Entry> = target.iter().chain(shared).collect();
    let mut pairs: Vec<Pair> = Vec::new();

    let mut by_change_id: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_patch_id: HashMap<ObjectId, Vec<usize>> = HashMap::new();
    for (t, entry) in target_side.iter().enumerate() {
        for id in &entry.change_ids {
            by_change_id.entry(id.as_str()).or_default().push(t);
        }
        if let Some(patch_id) = entry.patch_id {
            by_patch_id.entry(patch_id).or_default().push(t);
        }
    }
    for (s, entry) in source.iter().enumerate() {
        for id in &entry.change_ids {
            for &t in by_change_id.get(id.as_str()).into_iter().flatten() {
                pairs.push((s, t, Evidence::ChangeId, None));
            }
        }
        for &t in entry.patch_id.and_then(|p| by_patch_id.get(&p)).into_iter().flatten() {
            pairs.push((s, t, Evidence::PatchId, None));
        }
    }

    let places: HashMap<ObjectId, Place> = source
        .iter()
        .enumerate()
        .map(|(i, e)| (e.commit, Place::Source(i)))
        .chain(target_side.iter().enumerate().map(|(i, e)| (e.commit, Place::Target(i))))
        .collect();
    let all = || {
        source
            .iter()
            .enumerate()
            .map(|(i, e)| (Place::Source(i), e))
            .chain(target_side.iter().enumerate().map(|(i, e)| (Place::Target(i), *e)))
    };
    let names = all().flat_map(|(_, e)| {
        e.cherry_picked_from.iter().chain(e.markers.iter().map(|m| &m.commit)).chain(&e.reverts)
    });
    let resolver = Resolver::new(repo, &places, names)?;

    let mut unresolved = Vec::new();
    let mut source_reverts: Vec<(usize, usize)> = Vec::new();
    let mut target_reverts: Vec<(usize, usize)> = Vec::new();
    for (place, entry) in all() {
        let references = entry
            .cherry_picked_from
            .iter()
            .map(|r| (r, Evidence::CherryPick, None))
            .chain(entry.markers.iter().map(|m| (&m.commit, Evidence::Marker, Some(&m.line))));
        for (reference, by, line) in references {
            let why = match resolver.get(reference) {
                Resolution::Commit(_) => None,
                Resolution::Missing => Some(Unresolved::Missing),
                Resolution::Ambiguous => Some(Unresolved::Ambiguous),
            };
            if let Some(why) = why {
                unresolved.push(UnresolvedReference {
                    commit: entry.commit,
                    reference: reference.clone(),
                    why,
                });
            }
            let other = match resolver.get(reference) {
                Resolution::Commit(id) => places.get(&id).copied(),
                Resolution::Missing | Resolution::Ambiguous => None,
            };
            match (place, other) {
                (Place::Source(s), Some(Place::Target(t)))
                | (Place::Target(t), Some(Place::Source(s))) => {
                    pairs.push((s, t, by, line.cloned()));
                }
                // Older than the fork, on another branch, or on the same side: no evidence.
                _ => {}
            }
        }
        for reference in &entry.reverts {
            let Resolution::Commit(id) = resolver.get(reference) else { continue };
            match (place, places.get(&id)) {
                (Place::Source(r), Some(Place::Source(s))) => source_reverts.push((*s, r)),
                (Place::Target(r), Some(Place::Target(t))) => target_reverts.push((*t, r)),
                _ => {}
            }
        }
    }

    let side_commits: Vec<ObjectId> = target_side.iter().map(|e| e.commit).collect();
    let subjects = subjects_on_target(&target_side);
    drop(target_side);
    let target_commit = |t: usize| side_commits[t];
    pairs.sort_by_key(|a| (a.0, a.1, a.2));
    pairs.dedup_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2));
    for (s, t, by, marker) in &pairs {
        source[*s].equivalents.push(Equivalent {
            commit: target_commit(*t),
            by: *by,
            marker: marker.clone(),
            shared: *t >= n_target,
        });
    }
    let mut on_source = vec![false; side_commits.len()];
    let mut for_target = pairs.clone();
    for_target.sort_by_key(|a| (a.1, a.0, a.2));
    for (s, t, by, marker) in for_target {
        on_source[t] = true;
        if t < n_target {
            target[t].equivalents.push(Equivalent {
                commit: source[s].commit,
                by,
                marker,
                shared: false,
            });
        }
    }

    let source_reverted = standing_reverts(source.len(), &source_reverts);
    let target_reverted = standing_reverts(side_commits.len(), &target_reverts);
    for (s, by) in source_reverted.iter().enumerate() {
        source[s].reverted_by = by.map(|r| source[r].commit);
    }
    for (t, by) in target_reverted.iter().enumerate().take(n_target) {
        target[t].reverted_by = by.map(&target_commit);
    }
    // The change is gone from TARGET when every equivalent there was reverted by a TARGET
    // commit SOURCE has no equivalent of (a revert SOURCE shares, it has too).
    let mut equivalents_of: Vec<Vec<usize>> = vec![Vec::new(); source.len()];
    for (s, t, _, _) in &pairs {
        if equivalents_of[*s].last() != Some(t) {
            equivalents_of[*s].push(*t);
        }
    }
    for (s, ts) in equivalents_of.iter().enumerate() {
        let undone = |t: &usize| {
            target_reverted[*t].filter(|r| *r < n_target && !on_source[*r]).map(|r| (*t, r))
        };
        let reverts: Vec<(usize, usize)> = ts.iter().filter_map(undone).collect();
        if !ts.is_empty() && reverts.len() == ts.len() {
            let (t, r) = reverts[0];
            source[s].reverted_on_target =
                Some(Revert { equivalent: target_commit(t), by: target_commit(r) });
        }
    }

    for entry in source.iter_mut().chain(target.iter_mut()) {
        entry.adapted = !entry.merge && entry.is_present() && !entry.has(Evidence::PatchId);
    }
    hint_by_subject(source, &subjects);
    Ok(unresolved)
}

/// Returns, for each of `n` commits, the commit that reverted it and was not itself
/// reverted (a revert of a revert brings the change back), from `(reverted, by)` pairs.
fn standing_reverts(n: usize, reverts: &[(usize, usize)]) -> Vec<Option<usize>> {
    let mut by: Vec<Option<usize>> = vec![None; n];
    for &(reverted, reverter) in reverts {
        by[reverted].get_or_insert(reverter);
    }
    fn stands(by: &[Option<usize>], commit: usize, depth: usize) -> bool {
        // A revert stands unless a standing revert undid it; messages name older commits,
        // so chains are short, but a forged cycle must not loop.
        match by[commit] {
            Some(reverter) if depth < 64 => !stands(by, reverter, depth + 1),
            _ => true,
        }
    }
    (0..n).map(|c| by[c].filter(|r| stands(&by, *r, 0))).collect()
}

/// Returns TARGET's side's non-merge commits by comparable subject.
fn subjects_on_target(target_side: &[&Entry]) -> HashMap<String, Vec<ObjectId>> {
    let mut on_target: HashMap<String, Vec<ObjectId>> = HashMap::new();
    for entry in target_side.iter().filter(|e| !e.merge) {
        on_target.entry(comparable_subject(&entry.summary)).or_default().push(entry.commit);
    }
    on_target
}

/// Names, for each SOURCE commit still to bring, the one TARGET commit with the same
/// comparable subject when that subject is the only one of its kind on both sides.
fn hint_by_subject(source: &mut [Entry], on_target: &HashMap<String, Vec<ObjectId>>) {
    let mut on_source: HashMap<String, usize> = HashMap::new();
    for entry in source.iter().filter(|e| !e.merge) {
        *on_source.entry(comparable_subject(&entry.summary)).or_default() += 1;
    }
    for entry in source.iter_mut().filter(|e| !e.merge && e.equivalents.is_empty()) {
        let subject = comparable_subject(&entry.summary);
        if subject.is_empty() || on_source.get(&subject) != Some(&1) {
            continue;
        }
        if let Some([one]) = on_target.get(&subject).map(Vec::as_slice) {
            entry.possibly_present = vec![*one];
        }
    }
}

/// Asks git about each of `names` at once (as `NAME^{commit}` when `peel`): a commit (for
/// a bare name, any object), none, or an ambiguous abbreviation.
fn batch(repo: &Repo, names: &[&str], peel: bool) -> Result<Vec<Resolution>, DeltaError> {
    let (out, argv) = if peel {
        (reads::peel_to_commits(repo.git(), names), "git cat-file --batch-check (NAME^{commit})")
    } else {
        (reads::check_objects(repo.git(), names), "git cat-file --batch-check")
    };
    let out = out.map_err(|e| DeltaError::History(HistoryError::Git(e)))?;
    let text = String::from_utf8_lossy(&out);
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() != names.len() {
        return Err(DeltaError::History(HistoryError::Parse {
            argv: argv.into(),
            detail: format!("{} answers to {} names", lines.len(), names.len()),
        }));
    }
    Ok(lines
        .iter()
        .map(|line| {
            if line.ends_with(" ambiguous") {
                return Resolution::Ambiguous;
            }
            match line.split_once(' ') {
                Some((id, rest)) if !peel || rest.starts_with("commit ") => {
                    ObjectId::from_hex(id.as_bytes())
                        .map_or(Resolution::Missing, Resolution::Commit)
                }
                _ => Resolution::Missing,
            }
        })
        .collect())
}

/// Counts the objects whose names start with `prefix` that are commits or tags of
/// commits: the candidates `git rev-parse PREFIX^{commit}` weighs.
fn committish_candidates(repo: &Repo, prefix: &str) -> Result<usize, DeltaError> {
    let out = reads::disambiguate(repo.git(), prefix)
        .map_err(|e| DeltaError::History(HistoryError::Git(e)))?;
    let text = String::from_utf8_lossy(&out);
    let candidates: Vec<&str> = text.split_whitespace().collect();
    if candidates.is_empty() {
        return Ok(0);
    }
    let peeled = batch(repo, &candidates, true)?;
    Ok(peeled.iter().filter(|r| matches!(r, Resolution::Commit(_))).count())
}

/// What a name in a message stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    Commit(ObjectId),
    Missing,
    Ambiguous,
}

/// Names in messages resolved as `git rev-parse NAME^{commit}` resolves them.
struct Resolver {
    known: HashMap<String, Resolution>,
}

impl Resolver {
    /// Resolves every name: a full id of a delta commit at once, another full id by
    /// looking it up, and abbreviations by asking git in one batch, so an ambiguous one
    /// is said to be so rather than guessed.
    fn new<'n>(
        repo: &Repo,
        places: &HashMap<ObjectId, Place>,
        names: impl Iterator<Item = &'n String>,
    ) -> Result<Self, DeltaError> {
        let mut known = HashMap::new();
        let mut abbreviated: Vec<&str> = Vec::new();
        let mut asked: HashSet<&str> = HashSet::new();
        for name in names {
            if known.contains_key(name) || asked.contains(name.as_str()) {
                continue;
            }
            match ObjectId::from_hex(name.as_bytes()).filter(|_| name.len() == 40) {
                Some(id) if places.contains_key(&id) => {
                    known.insert(name.clone(), Resolution::Commit(id));
                }
                Some(_) => {
                    let found = repo.find_commit_by_prefix(name)?;
                    known.insert(
                        name.clone(),
                        found.map_or(Resolution::Missing, Resolution::Commit),
                    );
                }
                None => {
                    asked.insert(name);
                    abbreviated.push(name);
                }
            }
        }
        if !abbreviated.is_empty() {
            let peeled = batch(repo, &abbreviated, true)?;
            // `X^{commit}` is "missing" both when no commit has the prefix and when several
            // do (git then says on stderr that X is ambiguous): tell the two apart.
            let unclear: Vec<&str> = abbreviated
                .iter()
                .zip(&peeled)
                .filter(|(_, r)| **r == Resolution::Missing)
                .map(|(name, _)| *name)
                .collect();
            for (name, resolution) in abbreviated.iter().zip(peeled) {
                known.insert(name.to_string(), resolution);
            }
            if !unclear.is_empty() {
                let bare = batch(repo, &unclear, false)?;
                for (name, _) in
                    unclear.iter().zip(bare).filter(|(_, r)| *r == Resolution::Ambiguous)
                {
                    if committish_candidates(repo, name)? > 1 {
                        known.insert(name.to_string(), Resolution::Ambiguous);
                    }
                }
            }
        }
        Ok(Resolver { known })
    }

    fn get(&self, name: &str) -> Resolution {
        self.known.get(name).copied().unwrap_or(Resolution::Missing)
    }
}
