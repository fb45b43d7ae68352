//! What separates two branches, and which of the commits on one side are already on the
//! other (by Change-Id, cherry-pick reference, provenance marker or patch-id).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::analysis::history::{
    self, ChangesCache, CommitRecord, HistoryError, Patch, PatchDetail, PatchFeed, PatchIdCache,
    PathSet, Touched, TouchedCache, WithPaths,
};
use crate::git::repo::{Repo, RepoError};
use crate::oid::ObjectId;
use crate::text::message;
use crate::text::provenance::{self, PatternError, Patterns};

mod evidence;

/// Errors from computing a delta.
#[derive(Debug, thiserror::Error)]
pub enum DeltaError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(
        "{git_dir} is a shallow clone and the history between `{target}` and `{source}` is cut \
         at {boundary}; run `git fetch --unshallow` first",
        target = .target_name,
        source = .source_name
    )]
    Shallow { git_dir: String, target_name: String, source_name: String, boundary: String },
    #[error(transparent)]
    Pattern(#[from] PatternError),
}

impl ErrorOrigin for DeltaError {
    fn is_user_input(&self) -> bool {
        match self {
            DeltaError::Repo(e) => e.is_user_input(),
            DeltaError::History(e) => e.is_user_input(),
            DeltaError::Shallow { .. } | DeltaError::Pattern(_) => true,
        }
    }
}

/// How to compute a delta.
#[derive(Debug, Clone)]
pub struct DeltaOptions {
    /// How many `git log -p` processes may compute patch-ids at once.
    pub jobs: usize,
}

impl Default for DeltaOptions {
    fn default() -> Self {
        let jobs = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        DeltaOptions { jobs }
    }
}

/// A branch tip as the user named it and the commit it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tip {
    pub name: String,
    pub commit: ObjectId,
}

/// The kinds of evidence that a commit on one side is already on the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// Both commits carry the same Gerrit `Change-Id`.
    ChangeId,
    /// One commit's `(cherry picked from commit X)` line names the other.
    CherryPick,
    /// Another provenance marker of one commit names the other: `commit X upstream.`,
    /// `[ Upstream commit X ]`, `Backport of X from main`, or a `regraft.provenance`
    /// pattern.
    Marker,
    /// Both commits have the same stable patch-id.
    PatchId,
}

impl Evidence {
    /// Every kind, in the order reports list them.
    pub const ALL: [Evidence; 4] =
        [Evidence::ChangeId, Evidence::CherryPick, Evidence::Marker, Evidence::PatchId];

    /// Returns the name used in JSON and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Evidence::ChangeId => "change-id",
            Evidence::CherryPick => "cherry-pick",
            Evidence::Marker => "marker",
            Evidence::PatchId => "patch-id",
        }
    }
}

/// A commit on the other side that is the same change, and why we think so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Equivalent {
    pub commit: ObjectId,
    pub by: Evidence,
    /// For `marker`: the line, as written, that names the other commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// The equivalent is a TARGET commit in history both sides share: made on TARGET since
    /// it forked from SOURCE's first-parent line and brought to SOURCE by a merge (a
    /// forward merge of a stable branch into the main line).
    #[serde(default, skip_serializing_if = "is_false")]
    pub shared: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A provenance marker other than a cherry-pick line: the commit it names, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marked {
    pub commit: String,
    pub line: String,
}

/// A SOURCE commit's equivalent on TARGET and the TARGET commit that reverted it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revert {
    pub equivalent: ObjectId,
    pub by: ObjectId,
}

/// One commit on one side of the delta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub commit: ObjectId,
    /// The commit's parents, first parent first.
    pub parents: Vec<ObjectId>,
    pub summary: String,
    pub merge: bool,
    pub patch_id: Option<ObjectId>,
    pub change_ids: Vec<String>,
    pub cherry_picked_from: Vec<String>,
    /// Other provenance markers (see [`Evidence::Marker`]), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marked>,
    /// The commits its `This reverts commit X` lines name, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reverts: Vec<String>,
    pub equivalents: Vec<Equivalent>,
    /// Present, but no equivalent has its patch-id: the change was adapted (a non-merge
    /// commit only).
    #[serde(default)]
    pub adapted: bool,
    /// The commit on its own side that reverted it (and was not reverted in turn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverted_by: Option<ObjectId>,
    /// For a SOURCE commit: every equivalent on TARGET was reverted there by a commit
    /// with no equivalent on SOURCE, so the change is not on TARGET after all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverted_on_target: Option<Revert>,
    /// For a SOURCE commit with no equivalent: TARGET commits with the same subject (less
    /// bracketed tags and pull-request numbers). A hint, never counted as evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub possibly_present: Vec<ObjectId>,
}

impl Entry {
    /// Tells whether some evidence says this change is already on the other side (and,
    /// for a SOURCE commit, was not reverted there since).
    pub fn is_present(&self) -> bool {
        !self.equivalents.is_empty() && self.reverted_on_target.is_none()
    }

    /// Tells whether the change is present but adapted: no equivalent has its patch-id.
    pub fn is_adapted(&self) -> bool {
        self.adapted
    }

    /// Tells whether one of the equivalents has this kind of evidence.
    pub fn has(&self, by: Evidence) -> bool {
        self.equivalents.iter().any(|e| e.by == by)
    }
}

/// A provenance line naming a commit the repository does not have, or an abbreviation
/// that stands for several (as `git rev-parse X^{commit}` says).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnresolvedReference {
    pub commit: ObjectId,
    pub reference: String,
    #[serde(default)]
    pub why: Unresolved,
}

/// Why a reference names no commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unresolved {
    /// The repository has no such commit.
    #[default]
    Missing,
    /// The abbreviation is ambiguous: git would not choose, nor does regraft.
    Ambiguous,
}

/// What separates TARGET from SOURCE: the schema of `git regraft delta --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    pub target: Tip,
    pub source: Tip,
    pub merge_bases: Vec<ObjectId>,
    /// Commits reachable from SOURCE but not TARGET, oldest first in topological order.
    pub source_only: Vec<Entry>,
    /// Commits reachable from TARGET but not SOURCE, oldest first in topological order.
    pub target_only: Vec<Entry>,
    /// Provenance lines naming commits the repository does not have, or ambiguously.
    pub unresolved_references: Vec<UnresolvedReference>,
    /// Where TARGET forked from SOURCE's first-parent line, when that is not the merge
    /// base: the history both sides share then holds TARGET commits made since (brought
    /// to SOURCE by forward merges), and they count as TARGET's evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_since: Option<ObjectId>,
    /// How many commits that shared history holds (0 without `shared_since`).
    #[serde(default)]
    pub shared_commits: usize,
}

/// Figures a release manager reads at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeltaSummary {
    pub source_changes: usize,
    pub source_merges: usize,
    pub target_changes: usize,
    pub target_merges: usize,
    /// Non-merge SOURCE commits with at least one equivalent on TARGET.
    pub present: usize,
    /// Present non-merge SOURCE commits with evidence of each kind, in [`Evidence::ALL`]
    /// order.
    pub present_by: [usize; 4],
    /// Present SOURCE commits no equivalent of which has their patch-id.
    pub adapted: usize,
    /// Non-merge SOURCE commits with no equivalent: what a backport would bring.
    pub to_bring: usize,
    /// Of those, the ones whose equivalents were reverted on TARGET.
    pub reverted_on_target: usize,
    /// Of those, the ones with a subject-only hint.
    pub possibly_present: usize,
    /// Non-merge TARGET commits with an equivalent on SOURCE.
    pub target_present: usize,
}

impl Delta {
    /// Tells whether nothing separates the two sides.
    pub fn is_empty(&self) -> bool {
        self.source_only.is_empty() && self.target_only.is_empty()
    }

    /// Counts the delta's commits by kind and evidence.
    pub fn summary(&self) -> DeltaSummary {
        let mut s = DeltaSummary::default();
        for entry in &self.source_only {
            if entry.merge {
                s.source_merges += 1;
                continue;
            }
            s.source_changes += 1;
            if entry.is_present() {
                s.present += 1;
                s.adapted += usize::from(entry.is_adapted());
                for (count, by) in s.present_by.iter_mut().zip(Evidence::ALL) {
                    *count += usize::from(entry.has(by));
                }
            } else {
                s.to_bring += 1;
                s.reverted_on_target += usize::from(entry.reverted_on_target.is_some());
                s.possibly_present += usize::from(!entry.possibly_present.is_empty());
            }
        }
        for entry in &self.target_only {
            if entry.merge {
                s.target_merges += 1;
            } else {
                s.target_changes += 1;
                s.target_present += usize::from(entry.is_present());
            }
        }
        s
    }
}

/// Computes the delta between `target` and `source`, both anything git accepts as a commit.
pub fn delta(
    repo: &Repo,
    target: &str,
    source: &str,
    options: &DeltaOptions,
) -> Result<Delta, DeltaError> {
    Ok(compute(repo, target, source, options, PatchDetail::IdOnly)?.0)
}

/// Computes the delta and, from the same reading of the patches, the blocks of lines each
/// non-merge commit of either side changes (for dependency analysis).
pub fn delta_with_changes(
    repo: &Repo,
    target: &str,
    source: &str,
    options: &DeltaOptions,
) -> Result<(Delta, HashMap<ObjectId, Patch>), DeltaError> {
    compute(repo, target, source, options, PatchDetail::WithChanges)
}

fn compute(
    repo: &Repo,
    target: &str,
    source: &str,
    options: &DeltaOptions,
    detail: PatchDetail,
) -> Result<(Delta, HashMap<ObjectId, Patch>), DeltaError> {
    let with_changes = detail == PatchDetail::WithChanges;
    let target_tip = Tip { name: target.to_string(), commit: repo.resolve_commit(target)? };
    let source_tip = Tip { name: source.to_string(), commit: repo.resolve_commit(source)? };
    if target_tip.commit == source_tip.commit {
        let delta = Delta {
            merge_bases: repo.merge_bases(target_tip.commit, source_tip.commit)?,
            target: target_tip,
            source: source_tip,
            source_only: Vec::new(),
            target_only: Vec::new(),
            unresolved_references: Vec::new(),
            shared_since: None,
            shared_commits: 0,
        };
        return Ok((delta, HashMap::new()));
    }
    // The two `git log` processes walk at once, and the patch processes diff each commit
    // as soon as a list names it (for patch-ids alone, as soon as its paths show that it
    // can pair).
    let git = repo.git();
    let cache = if with_changes {
        Cache::Changes(ChangesCache::open(&repo.state_dir()))
    } else {
        Cache::PatchIds(PatchIdCache::open(&repo.state_dir()))
    };
    let wanted = Mutex::new(Wanted::new(PatchFeed::new(git, options.jobs, with_changes), cache));
    // What each commit touches is kept: once the cache holds some, the lists are read
    // without diffs (most of their cost), and only the commits it lacks are diffed after.
    let touched = TouchedReads::new(repo, with_changes);
    // git's walk of a range is exact with generation numbers; by commit dates alone it can
    // list a shared commit when dates run backwards, and the merge base could not then be
    // read off the lists. Without a commit-graph `git merge-base` finds it meanwhile.
    let lists_exact = repo.has_commit_graph()?;
    // The provenance patterns are read beside the lists, which do not need them.
    let (source_side, target_side, merge_bases, provenance) = std::thread::scope(|scope| {
        let provenance = scope.spawn(|| git.config_get_all("regraft.provenance"));
        let (wanted, touched) = (&wanted, &touched);
        let side = move |index: usize, exclude: ObjectId, include: ObjectId| {
            move || {
                history::list_commits(git, exclude, include, touched.paths(), |commit, read| {
                    let Some(read) = touched.take(index, commit, read) else { return Ok(()) };
                    let mut wanted = wanted.lock().expect("no reader panics holding the lock");
                    wanted.add(index, commit, read)
                })
            }
        };
        let source_side = scope.spawn(side(0, target_tip.commit, source_tip.commit));
        let target_side = scope.spawn(side(1, source_tip.commit, target_tip.commit));
        let merge_bases =
            (!lists_exact).then(|| history::merge_bases(git, target_tip.commit, source_tip.commit));
        let join = "the history reader does not panic";
        let provenance = provenance.join().expect("a config read does not panic");
        (source_side.join().expect(join), target_side.join().expect(join), merge_bases, provenance)
    });
    let patterns =
        Patterns::new(&provenance.map_err(|e| DeltaError::History(HistoryError::Git(e)))?)?;
    let (source_side, target_side) = (source_side?, target_side?);
    touched.read_missing(git, &mut wanted.lock().expect("no reader panicked"))?;
    let merge_bases = match merge_bases {
        Some(found) => found?,
        None => merge_bases_off(git, &target_tip, &source_tip, &source_side, &target_side)?,
    };
    let mut wanted = wanted.into_inner().expect("no reader panicked");
    let fork = fork_off_first_parent(&source_tip, &source_side);
    let shared_since = fork.filter(|f| merge_bases.as_slice() != [*f] && !merge_bases.is_empty());
    let shared_side = match shared_since {
        Some(fork) => shared_history(git, fork, &merge_bases, &mut wanted)?,
        None => Vec::new(),
    };
    check_not_cut(
        repo,
        &target_tip,
        &source_tip,
        &merge_bases,
        [&source_side, &target_side, &shared_side],
    )?;
    let patches = wanted.finish()?;

    let mut source_only = entries(&source_side, &patches, &patterns);
    let mut target_only = entries(&target_side, &patches, &patterns);
    let shared = entries(&shared_side, &patches, &patterns);
    let unresolved_references = evidence::link(repo, &mut source_only, &mut target_only, &shared)?;
    let delta = Delta {
        target: target_tip,
        source: source_tip,
        merge_bases,
        source_only,
        target_only,
        unresolved_references,
        shared_since,
        shared_commits: shared.len(),
    };
    Ok((delta, patches))
}

/// What the two lists of a delta learn of what each commit touches, through the
/// [`TouchedCache`] (for patch-ids alone; `deps` reads every patch anyway).
struct TouchedReads {
    cache: Option<TouchedCache>,
    /// The cache holds records: the lists are read without their diffs.
    warm: bool,
    /// Commits the cache lacked, with their side, to diff after the lists.
    missing: Mutex<Vec<(usize, ObjectId)>>,
    /// What the lists' diffs showed, for the cache.
    fresh: Mutex<HashMap<ObjectId, Option<PathSet>>>,
}

impl TouchedReads {
    fn new(repo: &Repo, with_changes: bool) -> Self {
        let cache = (!with_changes).then(|| TouchedCache::open(&repo.state_dir()));
        let warm = cache.as_ref().is_some_and(|c| !c.is_empty());
        TouchedReads { cache, warm, missing: Mutex::default(), fresh: Mutex::default() }
    }

    /// Whether the lists must show each commit's diff.
    fn paths(&self) -> WithPaths {
        if self.cache.is_some() && !self.warm { WithPaths::Yes } else { WithPaths::No }
    }

    /// Returns what `commit` of side `index` touches, given what its list showed (`read`):
    /// the cache's record when the list showed no diff, `None` when that is yet unknown
    /// (the commit is then diffed in [`TouchedReads::read_missing`]).
    fn take(&self, index: usize, commit: &CommitRecord, read: Touched) -> Option<Touched> {
        let Some(cache) = &self.cache else { return Some(read) };
        if commit.is_merge() {
            return Some(read);
        }
        if !self.warm {
            self.fresh
                .lock()
                .expect("no reader panics holding the lock")
                .insert(commit.id, read.paths);
            return Some(read);
        }
        match cache.get(commit.id) {
            Some(paths) => Some(Touched { paths, entries: None }),
            None => {
                self.missing
                    .lock()
                    .expect("no reader panics holding the lock")
                    .push((index, commit.id));
                None
            }
        }
    }

    /// Diffs the commits the cache lacked, hands each to `wanted`, and keeps what was
    /// learnt in the cache.
    fn read_missing(
        &self,
        git: &crate::git::Git,
        wanted: &mut Wanted<'_>,
    ) -> Result<(), HistoryError> {
        let Some(cache) = &self.cache else { return Ok(()) };
        let missing = std::mem::take(&mut *self.missing.lock().expect("no reader panicked"));
        let mut fresh = std::mem::take(&mut *self.fresh.lock().expect("no reader panicked"));
        let ids: Vec<ObjectId> = missing.iter().map(|(_, id)| *id).collect();
        let mut sides = missing.iter();
        history::read_listed(git, &ids, |commit, read| {
            let (index, id) = sides.next().ok_or_else(|| HistoryError::Parse {
                argv: "git log --no-walk --stdin".into(),
                detail: "more commits than were asked".into(),
            })?;
            if *id != commit.id {
                return Err(HistoryError::Parse {
                    argv: "git log --no-walk --stdin".into(),
                    detail: format!("{} read where {} was asked", commit.id.short(), id.short()),
                });
            }
            fresh.insert(commit.id, read.paths);
            wanted.add(*index, commit, read)
        })?;
        cache.store(&fresh);
        Ok(())
    }
}

/// Returns the first commit on SOURCE's first-parent line that TARGET also has (the
/// merge base when TARGET forked from that line and was never merged into it), or `None`
/// when SOURCE adds nothing or its line ends at a root of its own.
fn fork_off_first_parent(source: &Tip, source_side: &[CommitRecord]) -> Option<ObjectId> {
    if source_side.is_empty() {
        return None;
    }
    let by_id: HashMap<ObjectId, &CommitRecord> = source_side.iter().map(|c| (c.id, c)).collect();
    let mut at = source.commit;
    while let Some(commit) = by_id.get(&at) {
        at = *commit.parents.first()?;
    }
    Some(at)
}

/// Reads the commits both sides share that came after `fork` (everything the merge bases
/// reach and `fork` does not): TARGET's own commits since it forked from SOURCE's
/// first-parent line, which forward merges brought into SOURCE. Their patches are wanted
/// as TARGET's side's.
fn shared_history(
    git: &crate::git::Git,
    fork: ObjectId,
    merge_bases: &[ObjectId],
    wanted: &mut Wanted<'_>,
) -> Result<Vec<CommitRecord>, HistoryError> {
    let mut seen = HashSet::new();
    let mut shared = Vec::new();
    for base in merge_bases.iter().filter(|b| **b != fork) {
        let mut fresh = HashSet::new();
        let listed = history::list_commits(git, fork, *base, WithPaths::Yes, |commit, touched| {
            if seen.insert(commit.id) {
                fresh.insert(commit.id);
                wanted.add(1, commit, touched)?;
            }
            Ok(())
        })?;
        shared.extend(listed.into_iter().filter(|c| fresh.contains(&c.id)));
    }
    Ok(shared)
}

/// The commits whose patches are wanted, found while the two sides are read: with changes
/// (for `deps`) every non-merge commit; for patch-ids alone, as `git cherry` does, only the
/// non-merge commits whose set of paths some non-merge commit of the other side also has,
/// since only those can pair. Those the cache knows are not diffed again, nor is a commit
/// whose diff entries (paths, modes, blobs) equal one already diffed: its patch is the same.
struct Wanted<'g> {
    feed: PatchFeed<'g>,
    cache: Cache,
    /// Per side, the commits seen with each set of paths.
    seen: [HashMap<PathSet, Vec<Seen>>; 2],
    /// For each set of diff entries wanted, the commit whose patch stands for it.
    stand_ins: HashMap<Vec<u8>, ObjectId>,
    /// Commits whose patch is their stand-in's.
    copies: Vec<(ObjectId, ObjectId)>,
    cached: HashMap<ObjectId, Patch>,
}

/// What was computed before: patch-ids alone for `delta`, whole patches for `deps`.
enum Cache {
    PatchIds(PatchIdCache),
    Changes(ChangesCache),
}

impl Cache {
    fn get(&self, commit: ObjectId) -> Option<Patch> {
        match self {
            Cache::PatchIds(cache) => cache.get(commit),
            Cache::Changes(cache) => cache.get(commit),
        }
    }

    fn store(&self, fresh: &HashMap<ObjectId, Patch>) {
        match self {
            Cache::PatchIds(cache) => cache.store(fresh),
            Cache::Changes(cache) => cache.store(fresh),
        }
    }
}

/// A commit seen on one side, and whether its patch is wanted yet.
struct Seen {
    commit: ObjectId,
    entries: Option<Vec<u8>>,
    wanted: bool,
}

impl<'g> Wanted<'g> {
    fn new(feed: PatchFeed<'g>, cache: Cache) -> Self {
        Wanted {
            feed,
            cache,
            seen: Default::default(),
            stand_ins: HashMap::new(),
            copies: Vec::new(),
            cached: HashMap::new(),
        }
    }

    /// Takes in a commit read on side `index` (0 or 1).
    fn add(
        &mut self,
        index: usize,
        commit: &CommitRecord,
        touched: Touched,
    ) -> Result<(), HistoryError> {
        if commit.is_merge() {
            return Ok(());
        }
        if let Cache::Changes(cache) = &self.cache {
            match cache.get(commit.id) {
                Some(patch) => {
                    self.cached.insert(commit.id, patch);
                }
                None => self.feed.send(commit.id)?,
            }
            return Ok(());
        }
        let Touched { paths, entries } = touched;
        let Some(paths) = paths else { return Ok(()) };
        let mut wanted = Vec::new();
        let pairs = match self.seen[1 - index].get_mut(&paths) {
            Some(others) => {
                for other in others.iter_mut().filter(|other| !other.wanted) {
                    other.wanted = true;
                    wanted.push((other.commit, std::mem::take(&mut other.entries)));
                }
                true
            }
            None => false,
        };
        let seen = if pairs {
            wanted.push((commit.id, entries));
            Seen { commit: commit.id, entries: None, wanted: true }
        } else {
            Seen { commit: commit.id, entries, wanted: false }
        };
        self.seen[index].entry(paths).or_default().push(seen);
        for (id, entries) in wanted {
            self.want(id, entries)?;
        }
        Ok(())
    }

    /// Wants `commit`'s patch; `entries` (when known) let a commit with the same ones
    /// stand in for it.
    fn want(&mut self, commit: ObjectId, entries: Option<Vec<u8>>) -> Result<(), HistoryError> {
        if let Some(patch) = self.cache.get(commit) {
            self.cached.insert(commit, patch);
            if let Some(entries) = entries {
                self.stand_ins.entry(entries).or_insert(commit);
            }
            return Ok(());
        }
        let Some(entries) = entries else { return self.feed.send(commit) };
        match self.stand_ins.get(&entries) {
            Some(stand_in) => self.copies.push((commit, *stand_in)),
            None => {
                self.stand_ins.insert(entries, commit);
                self.feed.send(commit)?;
            }
        }
        Ok(())
    }

    /// Waits for the patches, keeps the new patch-ids in the cache, and returns them all.
    fn finish(self) -> Result<HashMap<ObjectId, Patch>, HistoryError> {
        let mut patches = self.feed.finish()?;
        patches.extend(self.cached.iter().map(|(id, patch)| (*id, patch.clone())));
        for (commit, stand_in) in &self.copies {
            if let Some(patch) = patches.get(stand_in).cloned() {
                patches.insert(*commit, patch);
            }
        }
        self.cache.store(&patches);
        Ok(patches)
    }
}

/// Returns the merge bases of the two tips, read off the two sides where they show them;
/// the sides must be exact (see `lists_exact` in [`compute`]).
///
/// Every merge base is a common ancestor with a child on each side (or is a tip, when the
/// other tip descends from it), so it is a parent of both sides that neither side holds.
/// Those parents are all common ancestors; when there is just one, it is the merge base,
/// as it is when two branches split once. Otherwise `git merge-base` walks for them.
fn merge_bases_off(
    git: &crate::git::Git,
    target: &Tip,
    source: &Tip,
    source_side: &[CommitRecord],
    target_side: &[CommitRecord],
) -> Result<Vec<ObjectId>, HistoryError> {
    fn outside_parents(side: &[CommitRecord]) -> HashSet<ObjectId> {
        let inside: HashSet<ObjectId> = side.iter().map(|c| c.id).collect();
        side.iter().flat_map(|c| &c.parents).filter(|p| !inside.contains(p)).copied().collect()
    }
    match (source_side.is_empty(), target_side.is_empty()) {
        (true, false) => return Ok(vec![source.commit]),
        (false, true) => return Ok(vec![target.commit]),
        _ => {}
    }
    let (on_source, on_target) = (outside_parents(source_side), outside_parents(target_side));
    let mut shared = on_source.intersection(&on_target);
    match (shared.next(), shared.next()) {
        (Some(base), None) => Ok(vec![*base]),
        _ => history::merge_bases(git, target.commit, source.commit),
    }
}

/// Refuses a shallow clone whose cut falls inside the delta: its commits would be
/// incomplete and every figure wrong.
fn check_not_cut(
    repo: &Repo,
    target: &Tip,
    source: &Tip,
    merge_bases: &[ObjectId],
    sides: [&[CommitRecord]; 3],
) -> Result<(), DeltaError> {
    let boundary: HashSet<ObjectId> = repo.shallow_boundary()?.into_iter().collect();
    if boundary.is_empty() {
        return Ok(());
    }
    let cut = sides.iter().flat_map(|side| side.iter()).find(|c| boundary.contains(&c.id));
    if cut.is_none() && !merge_bases.is_empty() {
        return Ok(());
    }
    Err(DeltaError::Shallow {
        git_dir: repo.git_dir().display().to_string(),
        target_name: target.name.clone(),
        source_name: source.name.clone(),
        boundary: cut.map_or_else(|| "the merge base".to_string(), |c| c.id.short()),
    })
}

fn entries(
    side: &[CommitRecord],
    patches: &HashMap<ObjectId, Patch>,
    patterns: &Patterns,
) -> Vec<Entry> {
    side.iter()
        .map(|c| Entry {
            commit: c.id,
            parents: c.parents.clone(),
            summary: message::subject(&c.message),
            merge: c.is_merge(),
            patch_id: patches.get(&c.id).and_then(|p| p.patch_id),
            change_ids: message::change_ids(&c.message),
            cherry_picked_from: message::cherry_picked_from(&c.message),
            markers: provenance::markers(&c.message, patterns)
                .into_iter()
                .map(|m| Marked { commit: m.commit, line: m.line })
                .collect(),
            reverts: provenance::reverts(&c.message),
            equivalents: Vec::new(),
            adapted: false,
            reverted_by: None,
            reverted_on_target: None,
            possibly_present: Vec::new(),
        })
        .collect()
}
