//! The simulation cache: each merge's answer kept under the key of everything that can
//! change it (see [`crate::git::merge_inputs`]), and the trees the merges wrote, so that
//! `compare`, `backport --dry-run`, the guide and `forecast` run a merge once.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Answer;
use crate::analysis::history::{MergeAnswer, MergeCache, MergeKey, StatCache};
use crate::git::merge_inputs::{self, MergeInputs};
use crate::git::reads::MergeObjects;
use crate::git::repo::Repo;
use crate::oid::ObjectId;

/// A cache holding more merges than this is started afresh (with its objects).
const MAX_MERGES: usize = 50_000;

/// A cache whose objects take more bytes than this is started afresh: on Kolla's history
/// a merge leaves about 24 KB of (uncompressed) trees, so this holds about 20,000 merges.
const MAX_OBJECT_BYTES: u64 = 512 << 20;

/// The cache as one simulation uses it.
#[derive(Debug)]
pub(super) struct Cache {
    inputs: [u8; 20],
    objects: PathBuf,
    records: MergeCache,
    stats: StatCache,
    state: PathBuf,
    fresh: RefCell<HashMap<MergeKey, MergeAnswer>>,
    reused: Cell<usize>,
    /// The objects of this run's merges are in the cache.
    packed: Cell<bool>,
}

impl Cache {
    /// Opens the cache in `state`; `None` when merges cannot be cached here (the inputs
    /// cannot be known exactly, `regraft.mergeCache` is false, the directory cannot be
    /// written).
    pub(super) fn open(repo: &Repo, state: &Path) -> Option<Cache> {
        let inputs = match merge_inputs::read(repo, MergeObjects::Scratch.args(), repo.work_tree())
        {
            MergeInputs::Known { key, .. } => key,
            MergeInputs::Unknown(_) => return None,
        };
        let objects = MergeCache::objects(state);
        // The alternates variable separates directories with `:`.
        if objects.to_string_lossy().contains(':') {
            return None;
        }
        std::fs::create_dir_all(&objects).ok()?;
        let mut records = MergeCache::open(state);
        if records.len() > MAX_MERGES {
            MergeCache::remove(state);
            std::fs::create_dir_all(&objects).ok()?;
            records = MergeCache::open(state);
        }
        Some(Cache {
            inputs,
            objects,
            records,
            stats: StatCache::open(state),
            state: state.to_path_buf(),
            fresh: RefCell::new(HashMap::new()),
            reused: Cell::new(0),
            packed: Cell::new(false),
        })
    }

    /// Opens the cache in `state` for the change counts only (the merges' records are not
    /// read); `None` as for [`Cache::open`].
    pub(super) fn open_stats(repo: &Repo, state: &Path) -> Option<Stats> {
        let inputs = match merge_inputs::read(repo, MergeObjects::Scratch.args(), repo.work_tree())
        {
            MergeInputs::Known { key, .. } => key,
            MergeInputs::Unknown(_) => return None,
        };
        Some(Stats { inputs, stats: StatCache::open(state) })
    }

    /// Removes the cache in `state`.
    pub(super) fn remove(state: &Path) {
        MergeCache::remove(state);
    }

    /// The object directory the merges write into.
    pub(super) fn objects(&self) -> &Path {
        &self.objects
    }

    /// How many merges were answered from the cache.
    pub(super) fn reused(&self) -> usize {
        self.reused.get()
    }

    fn key(&self, base: ObjectId, ours: ObjectId, theirs: ObjectId) -> MergeKey {
        MergeKey { inputs: self.inputs, base, ours, theirs }
    }

    /// The answer of the merge of `theirs` into tree `ours` with base `base`, if known.
    pub(super) fn get(&self, base: ObjectId, ours: ObjectId, theirs: ObjectId) -> Option<Answer> {
        let key = self.key(base, ours, theirs);
        let known = self.records.get(&key)?;
        self.reused.set(self.reused.get() + 1);
        Some(Answer { clean: known.clean, tree: known.tree, conflicts: known.conflicts.clone() })
    }

    /// Keeps a merge's answer (written to the file by [`Cache::keep`]).
    pub(super) fn put(&self, base: ObjectId, ours: ObjectId, theirs: ObjectId, answer: &Answer) {
        let key = self.key(base, ours, theirs);
        let answer = MergeAnswer {
            clean: answer.clean,
            tree: answer.tree,
            conflicts: answer.conflicts.clone(),
        };
        self.fresh.borrow_mut().insert(key, answer);
    }

    /// The counts of the change from `from` to `to`, if known.
    pub(super) fn stat(&self, from: ObjectId, to: ObjectId) -> Option<[u32; 3]> {
        self.stats.get(self.inputs, from, to)
    }

    /// Keeps the counts of the change from `from` to `to`.
    pub(super) fn put_stat(&self, from: ObjectId, to: ObjectId, counts: [u32; 3]) {
        self.stats.store(self.inputs, from, to, counts);
    }

    /// Packs the objects the run's merges wrote in `scratch` into the cache's object
    /// directory. Without this pack the answers are not kept.
    pub(super) fn pack(
        &self,
        git: &crate::git::Git,
        scratch: &Path,
        repo_objects: &Path,
    ) -> Result<(), super::SimulationError> {
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(scratch).map_err(super::SimulationError::Scratch)? {
            let entry = entry.map_err(super::SimulationError::Scratch)?;
            let fan = entry.file_name().to_string_lossy().into_owned();
            if fan.len() != 2 || !entry.path().is_dir() {
                continue;
            }
            for object in
                std::fs::read_dir(entry.path()).map_err(super::SimulationError::Scratch)?
            {
                let name = object.map_err(super::SimulationError::Scratch)?.file_name();
                let name = name.to_string_lossy();
                if name.len() == 38 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                    ids.push(format!("{fan}{name}"));
                }
            }
        }
        self.packed.set(true);
        if ids.is_empty() {
            return Ok(());
        }
        let pack = self.objects.join("pack");
        std::fs::create_dir_all(&pack).map_err(super::SimulationError::Scratch)?;
        // pack-objects writes its temporary files in the object directory: the cache's, on
        // the same file system as the pack; the scratch objects are read as an alternate.
        let mut alternates = scratch.as_os_str().to_os_string();
        alternates.push(":");
        alternates.push(repo_objects);
        let env = [
            ("GIT_OBJECT_DIRECTORY", self.objects.as_os_str()),
            ("GIT_ALTERNATE_OBJECT_DIRECTORIES", alternates.as_os_str()),
        ];
        crate::git::reads::pack_objects(git, &env, &pack.join("merges"), &ids)?;
        Ok(())
    }

    /// Writes the answers put since the cache was opened; a cache whose objects have grown
    /// past [`MAX_OBJECT_BYTES`] is removed instead, to start afresh.
    pub(super) fn keep(&self) {
        let fresh = self.fresh.borrow();
        if fresh.is_empty() || !self.packed.get() {
            return;
        }
        if size(&self.objects) > MAX_OBJECT_BYTES {
            MergeCache::remove(&self.state);
            return;
        }
        self.records.store(&fresh);
    }
}

/// The bytes of the files below `dir`.
fn size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => total += size(&entry.path()),
            Ok(_) => total += entry.metadata().map_or(0, |m| m.len()),
            Err(_) => {}
        }
    }
    total
}

/// The change counts of the cache alone.
#[derive(Debug)]
pub(super) struct Stats {
    inputs: [u8; 20],
    stats: StatCache,
}

impl Stats {
    pub(super) fn stat(&self, from: ObjectId, to: ObjectId) -> Option<[u32; 3]> {
        self.stats.get(self.inputs, from, to)
    }

    pub(super) fn put_stat(&self, from: ObjectId, to: ObjectId, counts: [u32; 3]) {
        self.stats.store(self.inputs, from, to, counts);
    }
}
