//! The cherry-pick dependency graph of a delta: commit B depends on commit A when B's
//! change removes, modifies or borders lines that A was the last to change.
//!
//! "Last to change" is `git blame`'s answer at B's first parent, following the real
//! history through merges but counting only commits of the delta (anything older is the
//! common base). Instead of running blame per hunk, line ownership is carried forward
//! through the delta once, in topological order, from the same patches `delta` reads.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::analysis::delta::{self, Delta, DeltaError, DeltaOptions, Tip};
use crate::analysis::history::{self, LineDiffCache, MergeChanges, Patch};
use crate::analysis::ownership::{LineOwners, Owner};
use crate::git::repo::{LineDiff, Repo, RepoError};
use crate::oid::ObjectId;
use crate::progress::Progress;
use crate::text::changes::FileChange;

/// Errors from dependency analysis.
#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    #[error(transparent)]
    Delta(#[from] DeltaError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("`{spec}` ({commit}) is not a change only on {source_name}: {why}")]
    NotInDelta { spec: String, commit: String, source_name: String, why: String },
}

impl ErrorOrigin for DepsError {
    fn is_user_input(&self) -> bool {
        match self {
            DepsError::Delta(e) => e.is_user_input(),
            DepsError::Repo(e) => e.is_user_input(),
            DepsError::NotInDelta { .. } => true,
        }
    }
}

/// How to analyse.
#[derive(Debug, Clone)]
pub struct DepsOptions {
    /// Lines of context around each change that also count (git-deps' default is 1).
    pub context: u32,
    /// Also record file-level edges: B touches a path A was the last to touch.
    pub files: bool,
    pub delta: DeltaOptions,
}

impl DepsOptions {
    /// Returns the edges a closure follows under these options.
    pub fn follow(&self) -> Follow {
        if self.files { Follow::LinesAndFiles } else { Follow::Lines }
    }
}

/// Which edges [`DependencyGraph::closure`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Line edges only: B changes lines A was the last to change.
    Lines,
    /// File edges too (`--files`): B touches a path A was the last to touch.
    LinesAndFiles,
}

impl Default for DepsOptions {
    fn default() -> Self {
        DepsOptions { context: 1, files: false, delta: DeltaOptions::default() }
    }
}

/// A commit of the graph: a non-merge commit only on SOURCE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphCommit {
    pub commit: ObjectId,
    pub summary: String,
    /// Already on TARGET by some evidence of `delta`.
    pub on_target: bool,
}

/// The kind of an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// B changes or borders lines A last changed.
    Lines,
    /// B touches a path A was the last to touch, and no line edge joins them.
    File,
}

/// Why an edge exists: a path and the lines (of B's parent) involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub path: String,
    /// Line numbers in B's first parent, as ranges (`"12-14,20"`); empty for file edges.
    pub lines: String,
}

/// `commit` depends on `depends_on`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub commit: ObjectId,
    pub depends_on: ObjectId,
    pub kind: EdgeKind,
    pub reasons: Vec<Reason>,
}

/// The dependency graph: the schema of `git regraft deps --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyGraph {
    pub target: Tip,
    pub source: Tip,
    pub merge_bases: Vec<ObjectId>,
    /// Non-merge commits only on SOURCE, oldest first in topological order.
    pub commits: Vec<GraphCommit>,
    /// Sorted by the dependent commit's position, then the dependency's.
    pub edges: Vec<Edge>,
    /// With `--for`: what to pick, in order (see [`DependencyGraph::closure`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub closure: Option<Vec<ObjectId>>,
    /// With `--for`: how picking the closure in that order would go, predicted as
    /// `backport --dry-run` predicts it (line dependencies do not make picks clean).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub prediction: Option<ClosurePrediction>,
}

/// How the picks of a closure would go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosurePrediction {
    pub clean: usize,
    pub empty: usize,
    /// The picks that conflict, with their conflicting paths, in pick order.
    pub conflicts: Vec<ConflictingPick>,
    /// Picks that need (through line edges, directly or not) a pick that conflicts: with
    /// that one skipped they are no longer closed under their dependencies.
    pub need_a_conflicting_pick: Vec<ObjectId>,
}

/// A pick that conflicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictingPick {
    pub commit: ObjectId,
    pub files: Vec<String>,
}

impl DependencyGraph {
    /// Returns, for each commit of `order` (a closure, in pick order), the commits of
    /// `conflicting` it needs through line edges, directly or through other picks.
    pub fn needs_among(
        &self,
        order: &[ObjectId],
        conflicting: &std::collections::HashSet<ObjectId>,
    ) -> HashMap<ObjectId, BTreeSet<ObjectId>> {
        let mut needs: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
        for edge in self.edges.iter().filter(|e| e.kind == EdgeKind::Lines) {
            needs.entry(edge.commit).or_default().push(edge.depends_on);
        }
        let mut affected: HashMap<ObjectId, BTreeSet<ObjectId>> = HashMap::new();
        for commit in order {
            let mut set = BTreeSet::new();
            for dep in needs.get(commit).into_iter().flatten() {
                if conflicting.contains(dep) {
                    set.insert(*dep);
                }
                if let Some(inherited) = affected.get(dep) {
                    set.extend(inherited.iter().copied());
                }
            }
            if !set.is_empty() {
                affected.insert(*commit, set);
            }
        }
        affected
    }

    /// Predicts picking `closure` in order onto the target, as `backport --dry-run` does.
    pub fn predict(
        &self,
        repo: &Repo,
        closure: &[ObjectId],
        progress: &dyn Progress,
    ) -> Result<ClosurePrediction, crate::analysis::simulation::SimulationError> {
        let mut picks = Vec::with_capacity(closure.len());
        for commit in closure {
            let parent = repo.commit_info(*commit)?.parents.first().copied();
            picks.push(crate::analysis::simulation::ToPick { commit: *commit, parent });
        }
        let simulation =
            crate::analysis::simulation::simulate(repo, self.target.commit, &picks, progress)?;
        let (mut clean, mut empty, mut conflicts) = (0, 0, Vec::new());
        for pick in &simulation.picks {
            match pick.outcome {
                crate::analysis::simulation::Outcome::Clean => clean += 1,
                crate::analysis::simulation::Outcome::Empty => empty += 1,
                crate::analysis::simulation::Outcome::Conflict => conflicts
                    .push(ConflictingPick { commit: pick.commit, files: pick.conflicts.clone() }),
            }
        }
        let conflicting = conflicts.iter().map(|c| c.commit).collect();
        let affected = self.needs_among(closure, &conflicting);
        let need_a_conflicting_pick =
            closure.iter().filter(|c| affected.contains_key(*c)).copied().collect();
        Ok(ClosurePrediction { clean, empty, conflicts, need_a_conflicting_pick })
    }
}

impl DependencyGraph {
    /// Returns the commits that must be picked for `wanted` to apply, `wanted` included,
    /// in an order that respects every edge (the delta's topological order). Commits
    /// already on TARGET are left out and not followed; file edges are followed only with
    /// [`Follow::LinesAndFiles`].
    pub fn closure(&self, wanted: &[ObjectId], follow: Follow) -> Vec<ObjectId> {
        self.closures(follow).of(wanted)
    }

    /// Returns the graph indexed for many [`DependencyGraph::closure`] questions: each
    /// answered without building the index again (a forecast asks one per candidate).
    pub fn closures(&self, follow: Follow) -> Closures<'_> {
        let follow_files = follow == Follow::LinesAndFiles;
        let position: HashMap<ObjectId, usize> =
            self.commits.iter().enumerate().map(|(i, c)| (c.commit, i)).collect();
        let mut needs: Vec<Vec<usize>> = vec![Vec::new(); self.commits.len()];
        for edge in &self.edges {
            if edge.kind == EdgeKind::Lines || follow_files {
                if let (Some(&from), Some(&to)) =
                    (position.get(&edge.commit), position.get(&edge.depends_on))
                {
                    needs[from].push(to);
                }
            }
        }
        Closures { graph: self, position, needs }
    }
}

/// A dependency graph indexed for closures (see [`DependencyGraph::closures`]).
#[derive(Debug)]
pub struct Closures<'a> {
    graph: &'a DependencyGraph,
    position: HashMap<ObjectId, usize>,
    /// For each commit (by its place in the graph), the commits it needs.
    needs: Vec<Vec<usize>>,
}

impl Closures<'_> {
    /// Returns what [`DependencyGraph::closure`] returns for `wanted`.
    pub fn of(&self, wanted: &[ObjectId]) -> Vec<ObjectId> {
        let commits = &self.graph.commits;
        let mut chosen = BTreeSet::new();
        let mut stack: Vec<usize> =
            wanted.iter().filter_map(|c| self.position.get(c).copied()).collect();
        while let Some(i) = stack.pop() {
            if commits[i].on_target || !chosen.insert(i) {
                continue;
            }
            stack.extend(self.needs[i].iter().copied());
        }
        chosen.into_iter().map(|i| commits[i].commit).collect()
    }
}

/// Resolves `--for` arguments to commits of the graph, refusing anything else.
pub fn resolve_wanted(
    repo: &Repo,
    graph: &DependencyGraph,
    specs: &[String],
) -> Result<Vec<ObjectId>, DepsError> {
    let mut out = Vec::new();
    for spec in specs {
        let commit = repo.resolve_commit(spec)?;
        let why = match graph.commits.iter().find(|c| c.commit == commit) {
            Some(c) if c.on_target => {
                Some(format!("it is already on {} (see `git regraft delta`)", graph.target.name))
            }
            Some(_) => None,
            None => Some(format!(
                "it is a merge, or not in {}..{}",
                graph.target.name, graph.source.name
            )),
        };
        if let Some(why) = why {
            return Err(DepsError::NotInDelta {
                spec: spec.clone(),
                commit: commit.short(),
                source_name: graph.source.name.clone(),
                why,
            });
        }
        out.push(commit);
    }
    Ok(out)
}

/// Computes the dependency graph of the non-merge commits only on `source`.
pub fn analyze(
    repo: &Repo,
    target: &str,
    source: &str,
    options: &DepsOptions,
    progress: &dyn Progress,
) -> Result<DependencyGraph, DepsError> {
    Ok(analyze_with_delta(repo, target, source, options, progress)?.0)
}

/// Computes the dependency graph as [`analyze`] does, and returns beside it the delta it
/// was computed from, for a caller that needs both (`forecast`): one reading of the
/// patches, not two.
pub fn analyze_with_delta(
    repo: &Repo,
    target: &str,
    source: &str,
    options: &DepsOptions,
    progress: &dyn Progress,
) -> Result<(DependencyGraph, Delta), DepsError> {
    progress.start("reading patches", 0);
    // What merges changed is read beside the patches: the cores the patch processes leave
    // idle while the lists are read, and at their end, are enough for it. (Bad names are
    // left to the delta to report.)
    let tips = repo.resolve_commit(target).and_then(|t| Ok((t, repo.resolve_commit(source)?)));
    let git = repo.git();
    let (delta, merges) = std::thread::scope(|scope| {
        let merges = tips.ok().map(|(t, s)| scope.spawn(move || history::merge_changes(git, t, s)));
        let delta = delta::delta_with_changes(repo, target, source, &options.delta);
        (delta, merges.map(|m| m.join().expect("the merge reader does not panic")))
    });
    let (delta, patches) = delta?;
    let merges = match merges {
        Some(merges) => merges,
        None => history::merge_changes(git, delta.target.commit, delta.source.commit),
    }
    .map_err(DeltaError::from)?;
    progress.finish();
    let diffs = merge_line_diffs(repo, &delta, &merges, options.delta.jobs)?;
    let edges = Walker::new(repo, &delta, &patches, &merges, diffs, options).run(progress)?;
    let commits = delta
        .source_only
        .iter()
        .filter(|e| !e.merge)
        .map(|e| GraphCommit {
            commit: e.commit,
            summary: e.summary.clone(),
            on_target: e.is_present(),
        })
        .collect();
    let graph = DependencyGraph {
        target: delta.target.clone(),
        source: delta.source.clone(),
        merge_bases: delta.merge_bases.clone(),
        commits,
        edges,
        closure: None,
        prediction: None,
    };
    Ok((graph, delta))
}

/// Computes, on every core, the line diffs the walk needs to carry owners through merges:
/// for each path a merge changed from every parent, from each parent's version to the
/// merge's. Most of the walk's time on a large history (nova: 2,087 merges changed files
/// of some 10,000 lines on both sides) is these diffs, and they depend on blobs alone.
/// The few the walk needs beyond them (across renames, octopus merges) it computes itself.
/// Those computed before are read from the repository's cache instead.
fn merge_line_diffs(
    repo: &Repo,
    delta: &Delta,
    merges: &HashMap<ObjectId, MergeChanges>,
    jobs: usize,
) -> Result<HashMap<(ObjectId, ObjectId), Option<LineDiff>>, DepsError> {
    let mut seen = HashSet::new();
    let mut pairs = Vec::new();
    for entry in delta.source_only.iter().filter(|e| e.merge) {
        let Some(changes) = merges.get(&entry.commit) else { continue };
        for (path, blob) in &changes.from_first_parent {
            let (Some(blob), Some(blobs)) = (blob, changes.from_every_parent.get(path)) else {
                continue;
            };
            for parent_blob in blobs.iter().flatten().filter(|b| *b != blob) {
                if seen.insert((*parent_blob, *blob)) {
                    pairs.push((*parent_blob, *blob));
                }
            }
        }
    }
    let cache = LineDiffCache::open(&repo.state_dir());
    let mut known = HashMap::with_capacity(pairs.len());
    pairs.retain(|&(old, new)| match cache.get(old, new) {
        Some(diff) => {
            known.insert((old, new), diff);
            false
        }
        None => true,
    });
    let fresh = repo.line_diffs(&pairs, jobs)?;
    cache.store(&fresh);
    known.extend(fresh);
    Ok(known)
}

/// What is known about one path at one commit.
#[derive(Debug, Clone)]
struct FileState {
    lines: LineOwners,
    /// The last commit of the delta to touch the path (for file edges).
    last_touch: Owner,
}

/// Paths are numbered once; states map numbers to shared file states.
type State = HashMap<u32, Rc<FileState>>;

struct Walker<'a> {
    repo: &'a Repo,
    delta: &'a Delta,
    patches: &'a HashMap<ObjectId, Patch>,
    merges: &'a HashMap<ObjectId, MergeChanges>,
    options: &'a DepsOptions,
    index: HashMap<ObjectId, u32>,
    paths: HashMap<String, u32>,
    path_names: Vec<String>,
    base: Rc<FileState>,
    /// Per (parent, merge): new path -> (old path, its blob in the parent), from git's
    /// rename detection, read only for merges that add a path some parent lacks.
    renames: HashMap<(ObjectId, ObjectId), HashMap<String, (String, ObjectId)>>,
    /// Line diffs computed beforehand (see [`merge_line_diffs`]).
    diffs: HashMap<(ObjectId, ObjectId), Option<LineDiff>>,
}

/// Line numbers involved in one edge, per path.
type Involved = BTreeMap<u32, BTreeSet<u32>>;

impl<'a> Walker<'a> {
    fn new(
        repo: &'a Repo,
        delta: &'a Delta,
        patches: &'a HashMap<ObjectId, Patch>,
        merges: &'a HashMap<ObjectId, MergeChanges>,
        diffs: HashMap<(ObjectId, ObjectId), Option<LineDiff>>,
        options: &'a DepsOptions,
    ) -> Self {
        let index = delta
            .source_only
            .iter()
            .enumerate()
            .map(|(i, e)| (e.commit, u32::try_from(i).expect("fewer than 4 billion commits")))
            .collect();
        let base = Rc::new(FileState { lines: LineOwners::base(), last_touch: Owner::BASE });
        Walker {
            repo,
            delta,
            patches,
            merges,
            options,
            index,
            paths: HashMap::new(),
            path_names: Vec::new(),
            base,
            renames: HashMap::new(),
            diffs,
        }
    }

    /// Returns the path `path` of `merge` came from in `parent` by git's rename detection
    /// (`git diff -M`, as git blame finds a file's origin in a parent that lacks it), with
    /// its blob there.
    fn rename_source(
        &mut self,
        parent: ObjectId,
        merge: ObjectId,
        path: &str,
    ) -> Result<Option<(String, ObjectId)>, DepsError> {
        if !self.renames.contains_key(&(parent, merge)) {
            let found =
                history::renames(self.repo.git(), parent, merge).map_err(DeltaError::from)?;
            self.renames.insert((parent, merge), found);
        }
        Ok(self.renames[&(parent, merge)].get(path).cloned())
    }

    fn path_id(&mut self, path: &str) -> u32 {
        if let Some(&id) = self.paths.get(path) {
            return id;
        }
        let id = u32::try_from(self.path_names.len()).expect("fewer than 4 billion paths");
        self.paths.insert(path.to_string(), id);
        self.path_names.push(path.to_string());
        id
    }

    fn is_change(&self, owner: Owner) -> bool {
        owner.is_commit() && !self.delta.source_only[owner.0 as usize].merge
    }

    fn run(mut self, progress: &dyn Progress) -> Result<Vec<Edge>, DepsError> {
        let entries = &self.delta.source_only;
        // How many children inside the delta still need each commit's state.
        let mut waiting = vec![0u32; entries.len()];
        for entry in entries {
            for parent in &entry.parents {
                if let Some(&p) = self.index.get(parent) {
                    waiting[p as usize] += 1;
                }
            }
        }
        let mut states: Vec<Option<State>> = vec![None; entries.len()];
        let mut found: BTreeMap<(u32, u32, EdgeKind), Involved> = BTreeMap::new();
        progress.start("following line ownership", entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let me = Owner(u32::try_from(i).expect("checked in new"));
            let parents: Vec<Option<u32>> =
                entry.parents.iter().map(|p| self.index.get(p).copied()).collect();
            let mut state = match parents.first().copied().flatten() {
                Some(p) if waiting[p as usize] == 1 => {
                    states[p as usize].take().unwrap_or_default()
                }
                Some(p) => states[p as usize].clone().unwrap_or_default(),
                None => State::new(),
            };
            if entry.merge {
                self.merge(entry.commit, &entry.parents, &parents, &states, &mut state, me)?;
            } else {
                let changes = self
                    .patches
                    .get(&entry.commit)
                    .map(|p| p.changes.as_slice())
                    .unwrap_or_default();
                self.change(changes, &mut state, me, &mut found);
            }
            for p in parents.iter().flatten() {
                waiting[*p as usize] -= 1;
                if waiting[*p as usize] == 0 {
                    states[*p as usize] = None;
                }
            }
            if waiting[i] > 0 {
                states[i] = Some(state);
            }
            progress.advance(1);
        }
        progress.finish();
        Ok(self.edges(found))
    }

    /// Records the edges of a non-merge commit and carries ownership past it.
    fn change(
        &mut self,
        changes: &[FileChange],
        state: &mut State,
        me: Owner,
        found: &mut BTreeMap<(u32, u32, EdgeKind), Involved>,
    ) {
        let context = self.options.context;
        let mut line_deps: BTreeSet<u32> = BTreeSet::new();
        let mut touched: Vec<(u32, Owner)> = Vec::new();
        // Reads first (the state is still the parent's), writes after.
        let mut vacated: Vec<u32> = Vec::new();
        let mut written: Vec<(u32, Rc<FileState>)> = Vec::new();
        for change in changes {
            let old_id = change.old_path.as_deref().map(|p| self.path_id(p));
            let new_id = change.new_path.as_deref().map(|p| self.path_id(p));
            let old_file = old_id.map(|id| state.get(&id).unwrap_or(&self.base));
            match (old_id, old_file) {
                (Some(id), Some(file)) => {
                    touched.push((id, file.last_touch));
                    if !change.binary {
                        // Blocks come in order: one walk over the file's runs for them all.
                        let mut at = file.lines.cursor();
                        for block in &change.blocks {
                            let from = block.old_start.saturating_sub(context).max(1);
                            let to =
                                (block.old_start + block.old_count + context).saturating_sub(1);
                            at.for_each_commit_line(from, to, |line, owner| {
                                if owner != me && self.is_change(owner) {
                                    line_deps.insert(owner.0);
                                    let involved =
                                        found.entry((me.0, owner.0, EdgeKind::Lines)).or_default();
                                    involved.entry(id).or_default().insert(line);
                                }
                            });
                        }
                    }
                }
                _ => {
                    // A file added where an earlier commit deleted one: same path touched.
                    if let Some(file) = new_id.and_then(|id| state.get(&id)) {
                        touched.push((new_id.expect("matched above"), file.last_touch));
                    }
                }
            }
            if let Some(id) = old_id.filter(|id| Some(*id) != new_id) {
                vacated.push(id);
            }
            if let Some(id) = new_id {
                let before = old_file.map_or_else(LineOwners::empty, |f| f.lines.clone());
                let lines = if change.binary {
                    LineOwners::empty()
                } else {
                    before.apply(&change.blocks, me)
                };
                written.push((id, Rc::new(FileState { lines, last_touch: me })));
            }
        }
        if self.options.files {
            for (id, owner) in touched {
                if owner != me && self.is_change(owner) && !line_deps.contains(&owner.0) {
                    found
                        .entry((me.0, owner.0, EdgeKind::File))
                        .or_default()
                        .entry(id)
                        .or_default();
                }
            }
        }
        // Vacated paths first, so a rename onto a path another rename vacates stays.
        let tombstone = Rc::new(FileState { lines: LineOwners::empty(), last_touch: me });
        for id in vacated {
            state.insert(id, Rc::clone(&tombstone));
        }
        state.extend(written);
    }

    /// Carries ownership past a merge as `git blame` does: a path whose content equals a
    /// parent's takes that parent's owners (first parent first); lines of other paths go
    /// to the first parent where they are unchanged, and the rest to the merge itself.
    fn merge(
        &mut self,
        commit: ObjectId,
        parent_ids: &[ObjectId],
        parents: &[Option<u32>],
        states: &[Option<State>],
        state: &mut State,
        me: Owner,
    ) -> Result<(), DepsError> {
        let empty = State::new();
        let parent_state =
            |k: usize| parents[k].and_then(|p| states[p as usize].as_ref()).unwrap_or(&empty);
        let Some(changes) = self.merges.get(&commit) else { return Ok(()) };
        // The first parent's owners as they were before this merge's paths are written.
        let first = state.clone();
        for (path, blob) in &changes.from_first_parent {
            let id = self.path_id(path);
            let Some(blob) = *blob else {
                state.insert(id, Rc::new(FileState { lines: LineOwners::empty(), last_touch: me }));
                continue;
            };
            let blobs: Vec<Option<ObjectId>> = match changes.from_every_parent.get(path) {
                Some(blobs) => blobs.clone(),
                // Unchanged from some other parent; with two parents, the second.
                None if parent_ids.len() == 2 => {
                    let file =
                        parent_state(1).get(&id).cloned().unwrap_or_else(|| Rc::clone(&self.base));
                    state.insert(id, file);
                    continue;
                }
                None => parent_ids
                    .iter()
                    .map(|p| Ok(self.repo.blobs_at(*p, &[path])?[0]))
                    .collect::<Result<_, RepoError>>()?,
            };
            // Each parent's version of the file: the same path, or where the parent lacks
            // it, the path git's rename detection says it came from there (git blame
            // follows a rename a merge makes, or one side made, the same way).
            let mut sources: Vec<Option<(ObjectId, u32)>> = Vec::with_capacity(blobs.len());
            for (k, parent_blob) in blobs.iter().enumerate() {
                sources.push(match parent_blob {
                    Some(b) => Some((*b, id)),
                    None => self
                        .rename_source(parent_ids[k], commit, path)?
                        .map(|(old_path, old_blob)| (old_blob, self.path_id(&old_path))),
                });
            }
            let owners_in = |k: usize, source: u32| {
                if k == 0 { first.get(&source) } else { parent_state(k).get(&source) }
            };
            if let Some(k) = (0..parent_ids.len()).find(|&k| {
                sources[k].is_some_and(|(b, source)| b == blob && (k > 0 || source != id))
            }) {
                let source = sources[k].map_or(id, |(_, s)| s);
                let file = owners_in(k, source).cloned().unwrap_or_else(|| Rc::clone(&self.base));
                state.insert(id, file);
                continue;
            }
            let mut owners: Vec<Option<Owner>> = Vec::new();
            let mut known = false;
            for (k, source) in sources.iter().enumerate() {
                let Some((parent_blob, source)) = *source else { continue };
                let diff = match self.diffs.get(&(parent_blob, blob)) {
                    Some(diff) => diff.clone(),
                    None => self.repo.line_diff(parent_blob, blob)?,
                };
                let Some((blocks, lines)) = diff else { continue };
                if !known {
                    owners = vec![None; lines as usize];
                    known = true;
                }
                let file = owners_in(k, source).unwrap_or(&self.base).clone();
                // Old lines are asked in increasing order: one walk over the runs.
                let mut at = file.lines.cursor();
                // Walk the unchanged stretches between blocks: new line n is old line m.
                let (mut old_line, mut new_line) = (1u32, 1u32);
                let mut assign = |upto_new: u32, old_line: &mut u32, new_line: &mut u32| {
                    while *new_line < upto_new {
                        if let Some(slot) = owners.get_mut(*new_line as usize - 1) {
                            if slot.is_none() {
                                *slot = Some(at.owner(*old_line).unwrap_or(Owner::BASE));
                            }
                        }
                        *old_line += 1;
                        *new_line += 1;
                    }
                };
                for block in &blocks {
                    assign(block.new_start, &mut old_line, &mut new_line);
                    old_line += block.old_count;
                    new_line += block.new_count;
                }
                assign(lines + 1, &mut old_line, &mut new_line);
            }
            let lines = if known {
                let owners: Vec<Owner> = owners.into_iter().map(|o| o.unwrap_or(me)).collect();
                LineOwners::from_lines(&owners)
            } else {
                LineOwners::empty()
            };
            state.insert(id, Rc::new(FileState { lines, last_touch: me }));
        }
        Ok(())
    }

    fn edges(&self, found: BTreeMap<(u32, u32, EdgeKind), Involved>) -> Vec<Edge> {
        let entries = &self.delta.source_only;
        let mut edges: Vec<Edge> = found
            .into_iter()
            .map(|((b, a, kind), involved)| Edge {
                commit: entries[b as usize].commit,
                depends_on: entries[a as usize].commit,
                kind,
                reasons: involved
                    .into_iter()
                    .map(|(path, lines)| Reason {
                        path: self.path_names[path as usize].clone(),
                        lines: ranges(&lines),
                    })
                    .collect(),
            })
            .collect();
        let position = |id: &ObjectId| self.index[id];
        edges.sort_by_key(|e| (position(&e.commit), position(&e.depends_on), e.kind));
        edges
    }
}

/// Writes sorted line numbers as ranges: `1-3,7`.
fn ranges(lines: &BTreeSet<u32>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut iter = lines.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        out.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn ranges_compress_runs() {
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10].into_iter().collect()), "1-3,7,9-10");
        assert_eq!(ranges(&Default::default()), "");
    }
}
