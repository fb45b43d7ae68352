//! Whether a backport is what it claims to be: every commit accounted for against its
//! original on SOURCE, no committed conflict markers, nothing changed that the originals
//! did not touch, and none of the originals meant left out.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::analysis::delta::{self, DeltaError, DeltaOptions, Entry, Equivalent, Evidence, Tip};
use crate::analysis::history::{self, HistoryError};
use crate::git::reads;
use crate::git::repo::{Repo, RepoError};
use crate::oid::ObjectId;

mod patch;

use patch::{Changed, CommitPatch, FilePatch, Hunk};

/// Errors from verifying a backport.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Delta(#[from] DeltaError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("`{range}` is not a range of commits: {why}")]
    Range { range: String, why: &'static str },
    #[error("the original `{original}` is not on `{source_name}`")]
    NotOnSource { original: String, source_name: String },
}

impl ErrorOrigin for VerifyError {
    fn is_user_input(&self) -> bool {
        match self {
            VerifyError::Delta(e) => e.is_user_input(),
            VerifyError::Repo(e) => e.is_user_input(),
            VerifyError::History(e) => e.is_user_input(),
            VerifyError::Range { .. } | VerifyError::NotOnSource { .. } => true,
        }
    }
}

/// How to verify a backport.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// How the delta between the backport and SOURCE is computed.
    pub delta: DeltaOptions,
    /// The originals the backport is meant to bring, as commits or `A..B` ranges on SOURCE
    /// (`--originals`): each must be accounted for. Empty: the backport's own claims only.
    pub originals: Vec<String>,
}

/// How one commit of the backport is accounted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Its original is on SOURCE and has the same stable patch-id.
    Present,
    /// Its original is on SOURCE but the patches differ: the range-diff shows how.
    Adapted,
    /// The commit is on SOURCE itself (the range reaches into SOURCE's history).
    OnSource,
    /// A merge: not checked.
    Merge,
    /// No evidence names an original on SOURCE (a finding).
    NoOriginal,
}

impl Status {
    /// Returns the name used in JSON and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Status::Present => "present",
            Status::Adapted => "adapted",
            Status::OnSource => "on-source",
            Status::Merge => "merge",
            Status::NoOriginal => "no-original",
        }
    }
}

/// One commit of the backport and its original.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    pub commit: ObjectId,
    pub summary: String,
    pub status: Status,
    /// The original on SOURCE the checks compare against.
    pub original: Option<ObjectId>,
    /// Every SOURCE commit some evidence says is this change, and the evidence.
    pub evidence: Vec<Equivalent>,
    /// For an adapted commit: what `git range-diff` prints for the original and the
    /// backport commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_diff: Option<String>,
    /// Provenance lines naming no commit on SOURCE, of a commit whose original was found
    /// otherwise: links of a chain (picked from the main line, then from a newer stable
    /// branch), not findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_references: Vec<Reference>,
}

/// A provenance line's commit, as written, and why it names no commit on SOURCE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub reference: String,
    pub why: Unnamed,
}

/// Why a provenance line of a backport commit names no original on SOURCE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unnamed {
    /// The repository has no such commit.
    Missing,
    /// The abbreviation stands for several commits.
    Ambiguous,
    /// The commit exists but SOURCE does not contain it.
    NotOnSource,
    /// The commit is on the backport's side: in the history it builds on, or the backport.
    OnTarget,
}

/// Something the backport must not contain or must not lack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Finding {
    /// A backport commit no evidence ties to a commit on SOURCE.
    NoOriginal { commit: ObjectId },
    /// A provenance line (`(cherry picked from commit X)` or another marker) of a commit
    /// with no original names no commit on SOURCE.
    UnknownOriginal { commit: ObjectId, reference: String, why: Unnamed },
    /// A line the commit adds is a conflict marker its original did not add.
    ConflictMarker { commit: ObjectId, path: String, line: u32, marker: String },
    /// The commit changes a file its original does not.
    OutsideFile { commit: ObjectId, original: ObjectId, path: String },
    /// A hunk of the commit changes no line its original changes in that file.
    OutsideHunk { commit: ObjectId, original: ObjectId, path: String, hunk: String },
    /// The original changes a file the commit leaves alone.
    MissingFile { commit: ObjectId, original: ObjectId, path: String },
    /// The commit changes nothing, its original does.
    Empty { commit: ObjectId, original: ObjectId },
    /// An original given with `--originals` that no commit on the backport brings.
    Dropped { original: ObjectId, summary: String },
    /// A commit whose original is not among those given with `--originals`.
    NotMeant { commit: ObjectId, original: ObjectId },
}

impl Finding {
    /// Returns the backport commit the finding is about (none for a dropped original).
    pub fn commit(&self) -> Option<ObjectId> {
        match self {
            Finding::NoOriginal { commit }
            | Finding::UnknownOriginal { commit, .. }
            | Finding::ConflictMarker { commit, .. }
            | Finding::OutsideFile { commit, .. }
            | Finding::OutsideHunk { commit, .. }
            | Finding::MissingFile { commit, .. }
            | Finding::Empty { commit, .. }
            | Finding::NotMeant { commit, .. } => Some(*commit),
            Finding::Dropped { .. } => None,
        }
    }
}

/// A backport checked against SOURCE: the schema of `git regraft verify --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Where the backport starts (the range's left side).
    pub base: Tip,
    /// The backport's last commit (the range's right side).
    pub tip: Tip,
    pub source: Tip,
    /// The commits of `base..tip`, oldest first in topological order.
    pub commits: Vec<Checked>,
    /// The originals given with `--originals`, resolved (empty when none were).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub originals: Vec<ObjectId>,
    /// Everything wrong, in the order of the commits; dropped originals last.
    pub findings: Vec<Finding>,
}

impl Verification {
    /// Tells whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Splits `BASE..TIP` into its two sides as git reads a range (an empty side is `HEAD`).
pub fn parse_range(range: &str) -> Result<(String, String), VerifyError> {
    let error = |why| VerifyError::Range { range: range.to_string(), why };
    if range.contains("...") {
        return Err(error("a symmetric difference (A...B) has no base; name BASE..TIP"));
    }
    let Some((base, tip)) = range.split_once("..") else {
        return Err(error("name the backport as BASE..TIP, e.g. origin/stable/2025.1..HEAD"));
    };
    if tip.contains("..") {
        return Err(error("it has more than one `..`"));
    }
    if base.starts_with('-') || tip.starts_with('-') {
        return Err(error("a side starts with `-`"));
    }
    let side = |s: &str| if s.is_empty() { "HEAD".to_string() } else { s.to_string() };
    Ok((side(base), side(tip)))
}

/// Verifies the backport `range` (`BASE..TIP`) against `source`, the branch its originals
/// are on.
pub fn verify(
    repo: &Repo,
    range: &str,
    source: &str,
    options: &VerifyOptions,
) -> Result<Verification, VerifyError> {
    let (base_name, tip_name) = parse_range(range)?;
    let tip_of = |name: String| -> Result<Tip, VerifyError> {
        let commit = repo.resolve_commit(&name)?;
        Ok(Tip { name, commit })
    };
    let base = tip_of(base_name)?;
    let tip = tip_of(tip_name)?;
    let source = tip_of(source.to_string())?;
    let meant = originals_meant(repo, &source, &options.originals)?;

    let commits = history::commits_between(repo.git(), base.commit, tip.commit)?;
    // The delta from SOURCE to the backport's tip holds each backport commit with its
    // equivalents on SOURCE, found by every kind of evidence delta knows.
    let delta = delta::delta(repo, &tip.commit.to_hex(), &source.commit.to_hex(), &options.delta)?;
    let on_tip: HashMap<ObjectId, &Entry> =
        delta.target_only.iter().map(|e| (e.commit, e)).collect();
    let on_source: HashMap<ObjectId, &Entry> =
        delta.source_only.iter().map(|e| (e.commit, e)).collect();
    let unresolved: HashMap<(ObjectId, &str), delta::Unresolved> = delta
        .unresolved_references
        .iter()
        .map(|u| ((u.commit, u.reference.as_str()), u.why))
        .collect();

    let mut checked = Vec::with_capacity(commits.len());
    let mut findings: Vec<Vec<Finding>> = Vec::with_capacity(commits.len());
    for record in &commits {
        let summary = crate::text::message::subject(&record.message);
        let mut found = Vec::new();
        let mut other_references = Vec::new();
        let (status, original, evidence) = match on_tip.get(&record.id) {
            _ if record.is_merge() => (Status::Merge, None, Vec::new()),
            None => (Status::OnSource, None, Vec::new()),
            Some(entry) => {
                let original = choose_original(&entry.equivalents, &meant);
                for reference in named_but_absent(entry) {
                    let why = match unresolved.get(&(entry.commit, reference)) {
                        Some(delta::Unresolved::Ambiguous) => Unnamed::Ambiguous,
                        Some(delta::Unresolved::Missing) => Unnamed::Missing,
                        None => match repo.find_commit_by_prefix(reference)? {
                            None => Unnamed::Missing,
                            Some(named) if repo.is_ancestor(named, tip.commit)? => {
                                Unnamed::OnTarget
                            }
                            Some(_) => Unnamed::NotOnSource,
                        },
                    };
                    let reference = reference.to_string();
                    if original.is_some() {
                        other_references.push(Reference { reference, why });
                    } else {
                        found.push(Finding::UnknownOriginal {
                            commit: entry.commit,
                            reference,
                            why,
                        });
                    }
                }
                let status = if original.is_some() { Status::Adapted } else { Status::NoOriginal };
                (status, original, entry.equivalents.clone())
            }
        };
        if status == Status::NoOriginal {
            found.push(Finding::NoOriginal { commit: record.id });
        }
        checked.push(Checked {
            commit: record.id,
            summary,
            status,
            original,
            evidence,
            range_diff: None,
            other_references,
        });
        findings.push(found);
    }

    // One `git diff-tree` for every patch the checks read.
    let mut wanted: Vec<ObjectId> = Vec::new();
    for c in &checked {
        if matches!(c.status, Status::Adapted | Status::NoOriginal) {
            wanted.push(c.commit);
            wanted.extend(c.original);
        }
    }
    wanted.sort();
    wanted.dedup();
    let patches = if wanted.is_empty() {
        HashMap::new()
    } else {
        let out = reads::patches_of(repo.git(), &wanted).map_err(HistoryError::Git)?;
        patch::read_patches(&out)
    };
    let empty = CommitPatch::default();
    let parents: HashMap<ObjectId, Option<ObjectId>> =
        commits.iter().map(|r| (r.id, r.parents.first().copied())).collect();

    for (c, found) in checked.iter_mut().zip(findings.iter_mut()) {
        if !matches!(c.status, Status::Adapted | Status::NoOriginal) {
            continue;
        }
        let ours = patches.get(&c.commit).unwrap_or(&empty);
        let Some(original) = c.original else {
            found.extend(conflict_markers(c.commit, ours, None));
            continue;
        };
        let theirs = patches.get(&original).unwrap_or(&empty);
        if ours.patch_id.is_some() && ours.patch_id == theirs.patch_id {
            c.status = Status::Present;
        } else {
            let original_parent = on_source.get(&original).and_then(|e| e.parents.first().copied());
            if let (Some(op), Some(Some(bp))) = (original_parent, parents.get(&c.commit)) {
                let out = reads::range_diff(repo.git(), op, original, *bp, c.commit)
                    .map_err(HistoryError::Git)?;
                c.range_diff = Some(String::from_utf8_lossy(&out).into_owned());
            }
        }
        found.extend(conflict_markers(c.commit, ours, Some(theirs)));
        found.extend(outside(c.commit, original, ours, theirs));
        if !meant.is_empty() && !meant.contains(&original) {
            found.push(Finding::NotMeant { commit: c.commit, original });
        }
    }

    let mut findings: Vec<Finding> = findings.into_iter().flatten().collect();
    for original in &meant {
        // An original the delta does not list is in the backport's history already.
        if let Some(entry) = on_source.get(original)
            && !entry.merge
            && !entry.is_present()
        {
            findings.push(Finding::Dropped { original: *original, summary: entry.summary.clone() });
        }
    }
    Ok(Verification { base, tip, source, commits: checked, originals: meant, findings })
}

/// Resolves `--originals`: commits, and the non-merge commits of `A..B` ranges, each on
/// SOURCE, in order without repeats.
fn originals_meant(
    repo: &Repo,
    source: &Tip,
    specs: &[String],
) -> Result<Vec<ObjectId>, VerifyError> {
    let mut meant = Vec::new();
    for spec in specs {
        let commits = if spec.contains("..") {
            let (from, to) = parse_range(spec)?;
            let (from, to) = (repo.resolve_commit(&from)?, repo.resolve_commit(&to)?);
            history::commits_between(repo.git(), from, to)?
                .into_iter()
                .filter(|r| !r.is_merge())
                .map(|r| r.id)
                .collect()
        } else {
            if spec.starts_with('-') {
                return Err(VerifyError::Range { range: spec.clone(), why: "it starts with `-`" });
            }
            vec![repo.resolve_commit(spec)?]
        };
        for commit in commits {
            if !repo.is_ancestor(commit, source.commit)? {
                return Err(VerifyError::NotOnSource {
                    original: if spec.contains("..") { commit.to_hex() } else { spec.clone() },
                    source_name: source.name.clone(),
                });
            }
            if !meant.contains(&commit) {
                meant.push(commit);
            }
        }
    }
    Ok(meant)
}

/// Returns the commits the entry's provenance lines name, as written, that no equivalent
/// on SOURCE answers to.
fn named_but_absent(entry: &Entry) -> Vec<&str> {
    let names = entry
        .cherry_picked_from
        .iter()
        .map(|n| (n.as_str(), Evidence::CherryPick))
        .chain(entry.markers.iter().map(|m| (m.commit.as_str(), Evidence::Marker)));
    let mut absent: Vec<&str> = names
        .filter(|(name, by)| {
            !entry.equivalents.iter().any(|e| e.by == *by && e.commit.starts_with_hex(name))
        })
        .map(|(name, _)| name)
        .collect();
    absent.dedup();
    absent
}

/// Chooses the original among the equivalents: one of the originals meant first, then by
/// the evidence the commit itself gives (its cherry-pick line, its marker, its Change-Id)
/// before a patch-id.
fn choose_original(equivalents: &[Equivalent], meant: &[ObjectId]) -> Option<ObjectId> {
    let rank = |by: Evidence| match by {
        Evidence::CherryPick => 0,
        Evidence::Marker => 1,
        Evidence::ChangeId => 2,
        Evidence::PatchId => 3,
    };
    equivalents
        .iter()
        .min_by_key(|e| (meant.is_empty() || !meant.contains(&e.commit), rank(e.by)))
        .map(|e| e.commit)
}

/// The conflict markers git writes (`merge.conflictStyle` merge, diff3 and zdiff3), at their
/// default size of seven.
const MARKERS: [&str; 4] = ["<<<<<<<", "|||||||", "=======", ">>>>>>>"];

/// Returns the marker a line starts with: seven of one marker character followed by a
/// space or the end of the line (a carriage return allowed).
pub fn conflict_marker(line: &str) -> Option<&'static str> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    MARKERS
        .into_iter()
        .find(|m| line.strip_prefix(m).is_some_and(|rest| rest.is_empty() || rest.starts_with(' ')))
}

/// Returns the conflict markers `ours` adds that the original does not add to the same
/// file itself (an RST heading of seven `=` copied from it is no finding).
fn conflict_markers(
    commit: ObjectId,
    ours: &CommitPatch,
    theirs: Option<&CommitPatch>,
) -> Vec<Finding> {
    let mut found = Vec::new();
    for file in &ours.files {
        let theirs_added: HashSet<&str> = theirs
            .into_iter()
            .flat_map(|t| &t.files)
            .filter(|f| f.same_file(file))
            .flat_map(|f| &f.hunks)
            .flat_map(|h| &h.lines)
            .filter_map(|l| match l {
                Changed::Added(text, _) => Some(text.as_str()),
                Changed::Removed(_) => None,
            })
            .collect();
        for line in file.hunks.iter().flat_map(|h| &h.lines) {
            let Changed::Added(text, number) = line else { continue };
            if let Some(marker) = conflict_marker(text)
                && !theirs_added.contains(text.as_str())
            {
                found.push(Finding::ConflictMarker {
                    commit,
                    path: file.path().to_string(),
                    line: *number,
                    marker: marker.to_string(),
                });
            }
        }
    }
    found
}

/// Returns what `ours` changes outside what the original changes, and what of the
/// original it leaves out entirely.
fn outside(
    commit: ObjectId,
    original: ObjectId,
    ours: &CommitPatch,
    theirs: &CommitPatch,
) -> Vec<Finding> {
    let mut found = Vec::new();
    if ours.files.is_empty() {
        if !theirs.files.is_empty() {
            found.push(Finding::Empty { commit, original });
        }
        return found;
    }
    let moved = moved_files(ours, theirs);
    for (n, file) in ours.files.iter().enumerate() {
        let paired = moved.iter().find(|(o, _)| *o == n).map(|(_, t)| &theirs.files[*t]);
        let Some(their_file) = theirs.files.iter().find(|f| f.same_file(file)).or(paired) else {
            found.push(Finding::OutsideFile { commit, original, path: file.path().to_string() });
            continue;
        };
        let their_lines: HashSet<&str> = changed_lines(their_file).collect();
        for hunk in &file.hunks {
            if !hunk_within(hunk, &their_lines) {
                found.push(Finding::OutsideHunk {
                    commit,
                    original,
                    path: file.path().to_string(),
                    hunk: hunk.header.clone(),
                });
            }
        }
    }
    for (n, their_file) in theirs.files.iter().enumerate() {
        let paired = moved.iter().any(|(_, t)| *t == n);
        if !paired && !ours.files.iter().any(|f| f.same_file(their_file)) {
            found.push(Finding::MissingFile {
                commit,
                original,
                path: their_file.path().to_string(),
            });
        }
    }
    found
}

/// Tells whether `hunk` changes a line of `lines` (a blank line proves nothing unless the
/// hunk has nothing else).
fn hunk_within(hunk: &Hunk, lines: &HashSet<&str>) -> bool {
    let all: Vec<&str> = hunk.lines.iter().map(|l| l.text().trim()).collect();
    let telling: Vec<&str> = all.iter().copied().filter(|l| !l.is_empty()).collect();
    let probe = if telling.is_empty() { &all } else { &telling };
    probe.iter().any(|l| lines.contains(l))
}

/// Pairs each file of `ours` that shares no path with a file of `theirs` to an unpaired file
/// of `theirs` carrying the same change: every hunk of each changes a line the other
/// changes. That is the original's change made where the target keeps the file under
/// another path (moved on the source since), as git's rename detection applies it when
/// picking; one to one, first fit. Files without hunks (a pure rename, a mode change) are
/// never paired.
///
/// Regression: such a backport was two findings, a file outside the original and a file
/// left out.
fn moved_files(ours: &CommitPatch, theirs: &CommitPatch) -> Vec<(usize, usize)> {
    let unpaired_ours = ours
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.hunks.is_empty() && !theirs.files.iter().any(|t| t.same_file(f)));
    let mut taken = Vec::new();
    for (o, file) in unpaired_ours {
        let our_lines: HashSet<&str> = changed_lines(file).collect();
        let found = theirs.files.iter().enumerate().find(|(t, their)| {
            !taken.iter().any(|(_, u)| u == t)
                && !their.hunks.is_empty()
                && !ours.files.iter().any(|f| f.same_file(their))
                && {
                    let their_lines: HashSet<&str> = changed_lines(their).collect();
                    file.hunks.iter().all(|h| hunk_within(h, &their_lines))
                        && their.hunks.iter().all(|h| hunk_within(h, &our_lines))
                }
        });
        if let Some((t, _)) = found {
            taken.push((o, t));
        }
    }
    taken
}

fn changed_lines(file: &FilePatch) -> impl Iterator<Item = &str> {
    file.hunks.iter().flat_map(|h| &h.lines).map(|l| l.text().trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_seven_characters_then_a_blank_or_the_end() {
        assert_eq!(conflict_marker("<<<<<<< HEAD"), Some("<<<<<<<"));
        assert_eq!(conflict_marker("||||||| parent of 1234567 (x)"), Some("|||||||"));
        assert_eq!(conflict_marker("======="), Some("======="));
        assert_eq!(conflict_marker("=======\r"), Some("======="));
        assert_eq!(conflict_marker(">>>>>>> 1234567 (x)"), Some(">>>>>>>"));
        assert_eq!(conflict_marker("========"), None);
        assert_eq!(conflict_marker("<<<<<<<x"), None);
        assert_eq!(conflict_marker(" <<<<<<< HEAD"), None);
        assert_eq!(conflict_marker("<<<<<< HEAD"), None);
    }

    #[test]
    fn ranges_need_two_dots() {
        assert_eq!(
            parse_range("stable..HEAD").expect("a range"),
            ("stable".to_string(), "HEAD".to_string())
        );
        assert_eq!(parse_range("stable..").expect("a range").1, "HEAD");
        assert!(parse_range("stable").is_err());
        assert!(parse_range("a...b").is_err());
        assert!(parse_range("--all..x").is_err());
        assert!(parse_range("a..b..c").is_err());
    }
}
