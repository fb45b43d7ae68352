//! What was computed before and cannot change: each commit's patch-id (`delta`), each
//! commit's patch with the lines it changes, and the line diffs between blobs that carry
//! owners through merges (`deps`). A commit's patch is read under pinned diff settings and a
//! line diff is of two blobs, so `delta`, `deps`, `backport --for` and the guide need not
//! compute them a second time. Every record carries a check: a damaged one is dropped and
//! computed again, never believed.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha1::{Digest, Sha1};

use super::Patch;
use crate::git::repo::LineDiff;
use crate::oid::ObjectId;
use crate::text::changes::{Block, FileChange};

/// Cache files found damaged since the last [`take_damaged_caches`]: the command line says
/// so once, on stderr, when the command ends (the caches are opened deep inside `delta`,
/// `deps` and `compare`, which have no channel for a warning that changes no answer).
static DAMAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Returns the cache files found damaged (each once) since the last call, and forgets them.
/// Their bad records were dropped and computed again, and the files written afresh.
pub fn take_damaged_caches() -> Vec<PathBuf> {
    DAMAGED.lock().map(|mut damaged| std::mem::take(&mut *damaged)).unwrap_or_default()
}

fn report_damage(path: &Path) {
    if let Ok(mut damaged) = DAMAGED.lock()
        && !damaged.iter().any(|p| p == path)
    {
        damaged.push(path.to_path_buf());
    }
}

/// A file of records, each the length of its payload (4 bytes, little-endian), the payload
/// and the first 8 bytes of the SHA-1 of the file's name and the payload, so that a torn
/// or damaged record, or one of another cache, is noticed; reading stops at the first one,
/// and the next store writes the good ones afresh. Every number in a payload is a 4-byte
/// little-endian integer.
#[derive(Debug)]
struct RecordFile<K, V> {
    path: PathBuf,
    /// The file's name, which each record's check covers.
    name: &'static str,
    known: HashMap<K, V>,
    /// Every record of the file was read.
    whole: bool,
}

impl<K: std::hash::Hash + Eq + Copy, V> RecordFile<K, V> {
    /// Reads the file `name` in `dir`, and removes the files of its earlier versions
    /// (`older`), which are never read; a file that cannot be read is empty.
    fn open(
        dir: &Path,
        name: &'static str,
        older: &[&str],
        decode: impl Fn(&[u8]) -> Option<(K, V)>,
    ) -> Self {
        for old in older {
            let _ = std::fs::remove_file(dir.join(old));
        }
        let path = dir.join(name);
        let bytes = std::fs::read(&path).unwrap_or_default();
        let mut known = HashMap::new();
        let mut rest = bytes.as_slice();
        let whole = loop {
            if rest.is_empty() {
                break true;
            }
            match unframe(name, rest).and_then(|(payload, used)| Some((decode(payload)?, used))) {
                Some(((key, value), used)) => {
                    known.insert(key, value);
                    rest = &rest[used..];
                }
                None => break false,
            }
        };
        if !whole {
            report_damage(&path);
        }
        RecordFile { path, name, known, whole }
    }

    /// Adds the records of `fresh` the file lacks. A file that cannot be written is simply
    /// not kept.
    fn store<'v>(
        &self,
        fresh: impl Iterator<Item = (K, &'v V)>,
        encode: impl Fn(K, &V, &mut Vec<u8>),
    ) where
        V: 'v,
    {
        let mut records = Vec::new();
        let mut payload = Vec::new();
        for (key, value) in fresh.filter(|(key, _)| !self.known.contains_key(key)) {
            payload.clear();
            encode(key, value, &mut payload);
            frame(self.name, &payload, &mut records);
        }
        keep(&self.path, self.whole, &records, || {
            let mut all = Vec::new();
            for (key, value) in &self.known {
                payload.clear();
                encode(*key, value, &mut payload);
                frame(self.name, &payload, &mut all);
            }
            all
        });
    }
}

/// Adds `records` to the cache file at `path`: appended in one write when the file holds
/// whole records only (a reader then sees whole records, or a torn last one), else written
/// afresh after the readable ones, which `readable` encodes, even with nothing new, so that
/// damage is found (and said) once. A cache that cannot be written is simply not kept.
fn keep(path: &Path, whole: bool, records: &[u8], readable: impl FnOnce() -> Vec<u8>) {
    let Some(dir) = path.parent() else { return };
    if (whole && records.is_empty()) || std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if whole {
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = file.write_all(records);
        }
    } else {
        let mut all = readable();
        all.extend_from_slice(records);
        let _ = crate::state_file::write(path, &all);
    }
}

/// The check of a record of the file `name`: its name is hashed first, so that a record
/// copied from another cache (whose payload might decode) fails it.
fn check(name: &str, payload: &[u8]) -> [u8; 8] {
    let mut hasher = Sha1::new();
    hasher.update(name.as_bytes());
    hasher.update([0]);
    hasher.update(payload);
    let digest = hasher.finalize();
    let mut sum = [0; 8];
    sum.copy_from_slice(&digest[..8]);
    sum
}

fn frame(name: &str, payload: &[u8], out: &mut Vec<u8>) {
    put(out, payload.len());
    out.extend_from_slice(payload);
    out.extend_from_slice(&check(name, payload));
}

/// Returns the payload of the record at the start of `bytes` and the record's length;
/// `None` when it is torn or damaged.
fn unframe<'b>(name: &str, bytes: &'b [u8]) -> Option<(&'b [u8], usize)> {
    let mut at = Reader { bytes, at: 0 };
    let length = at.number()? as usize;
    let payload = at.take(length)?;
    let sum = at.take(8)?;
    (check(name, payload) == *sum).then_some((payload, at.at))
}

/// The patch-ids of commits computed before, in `patch-ids-v3` (the version changes with
/// the record or with how patch-ids are computed; v2: submodule settings and
/// `log.showRoot` no longer count; v3: records are checked). A payload is the commit (20
/// bytes) and its patch-id (20; zeros for an empty change). Binary patches are not kept
/// (their patch-id depends on the repository's abbreviation length).
#[derive(Debug)]
pub struct PatchIdCache(RecordFile<ObjectId, Option<ObjectId>>);

impl PatchIdCache {
    /// Reads the cache in `dir`.
    pub fn open(dir: &Path) -> Self {
        let older = ["patch-ids-v1", "patch-ids-v2"];
        PatchIdCache(RecordFile::open(dir, "patch-ids-v3", &older, decode_patch_id))
    }

    /// Returns the patch of `commit` as far as the cache knows it (its patch-id).
    pub fn get(&self, commit: ObjectId) -> Option<Patch> {
        self.0.known.get(&commit).map(|id| Patch { patch_id: *id, ..Patch::default() })
    }

    /// Keeps the patch-ids of `fresh` the cache lacks (the binary ones excepted).
    pub fn store(&self, fresh: &HashMap<ObjectId, Patch>) {
        let fresh = fresh.iter().filter(|(_, p)| !p.binary).map(|(c, p)| (*c, &p.patch_id));
        self.0.store(fresh, |commit, id, payload| {
            payload.extend_from_slice(commit.as_bytes());
            payload.extend_from_slice(id.map_or([0; 20], |p| *p.as_bytes()).as_slice());
        });
    }
}

fn decode_patch_id(payload: &[u8]) -> Option<(ObjectId, Option<ObjectId>)> {
    let (commit, id): (&[u8; 20], &[u8; 20]) =
        (payload.get(..20)?.try_into().ok()?, payload.get(20..)?.try_into().ok()?);
    let id = (*id != [0; 20]).then(|| ObjectId::from_bytes(*id));
    Some((ObjectId::from_bytes(*commit), id))
}

/// What each commit's diff touches, as `delta` reads it to tell which commits can pair
/// ([`super::PathSet`]), in `touched-v1`: a second delta lists its commits without asking
/// git to diff them all again. A payload is the commit (20 bytes), then 0 (its diff names
/// no path) or 1 and the digest of its set of paths (20).
#[derive(Debug)]
pub struct TouchedCache(RecordFile<ObjectId, Option<super::PathSet>>);

impl TouchedCache {
    /// Reads the cache in `dir`.
    pub fn open(dir: &Path) -> Self {
        TouchedCache(RecordFile::open(dir, "touched-v1", &[], decode_touched))
    }

    /// Tells whether the cache holds no record.
    pub fn is_empty(&self) -> bool {
        self.0.known.is_empty()
    }

    /// Returns what `commit`'s diff touches, when read before: `Some(None)` for no path.
    pub fn get(&self, commit: ObjectId) -> Option<Option<super::PathSet>> {
        self.0.known.get(&commit).copied()
    }

    /// Keeps the records of `fresh` the cache lacks.
    pub fn store(&self, fresh: &HashMap<ObjectId, Option<super::PathSet>>) {
        self.0.store(fresh.iter().map(|(c, p)| (*c, p)), |commit, paths, payload| {
            payload.extend_from_slice(commit.as_bytes());
            match paths {
                None => payload.push(0),
                Some(digest) => {
                    payload.push(1);
                    payload.extend_from_slice(digest);
                }
            }
        });
    }
}

fn decode_touched(payload: &[u8]) -> Option<(ObjectId, Option<super::PathSet>)> {
    let commit: [u8; 20] = payload.get(..20)?.try_into().ok()?;
    let paths = match (payload.get(20)?, payload.get(21..)?) {
        (0, []) => None,
        (1, digest) => Some(digest.try_into().ok()?),
        _ => return None,
    };
    Some((ObjectId::from_bytes(commit), paths))
}

/// Each commit's patch as `deps` read it, in `changes-v2` (the version changes with the
/// record or with how patches are read; v2: each record's check covers the file's name).
///
/// A payload is the commit (20 bytes), its patch-id (20; zeros for none), the number of
/// files, and for each: flags (1 old path, 2 new path), each path present as a length and
/// its bytes, the number of blocks and each block's four numbers. Patches with a binary
/// file are not kept, as for patch-ids.
#[derive(Debug)]
pub struct ChangesCache(RecordFile<ObjectId, Patch>);

impl ChangesCache {
    /// Reads the cache in `dir`.
    pub fn open(dir: &Path) -> Self {
        ChangesCache(RecordFile::open(dir, "changes-v2", &["changes-v1"], decode_patch))
    }

    /// Returns `commit`'s patch as it was read before.
    pub fn get(&self, commit: ObjectId) -> Option<Patch> {
        self.0.known.get(&commit).cloned()
    }

    /// Keeps the patches of `fresh` the cache lacks (binary ones excepted).
    pub fn store(&self, fresh: &HashMap<ObjectId, Patch>) {
        let fresh = fresh.iter().filter(|(_, p)| !p.binary).map(|(c, p)| (*c, p));
        self.0.store(fresh, encode_patch);
    }
}

/// Line diffs between blobs, in `line-diffs-v2` (v2: each record's check covers the file's
/// name): a payload is the two blobs (20 bytes each),
/// then 0 (a blob is binary: no diff) or 1, the new blob's line count, the number of
/// blocks and each block's four numbers.
#[derive(Debug)]
pub struct LineDiffCache(RecordFile<(ObjectId, ObjectId), Option<LineDiff>>);

impl LineDiffCache {
    /// Reads the cache in `dir`.
    pub fn open(dir: &Path) -> Self {
        LineDiffCache(RecordFile::open(dir, "line-diffs-v2", &["line-diffs-v1"], decode_line_diff))
    }

    /// Returns the line diff from `old` to `new` as it was computed before.
    pub fn get(&self, old: ObjectId, new: ObjectId) -> Option<Option<LineDiff>> {
        self.0.known.get(&(old, new)).cloned()
    }

    /// Keeps the diffs of `fresh` the cache lacks.
    pub fn store(&self, fresh: &HashMap<(ObjectId, ObjectId), Option<LineDiff>>) {
        self.0.store(fresh.iter().map(|(k, v)| (*k, v)), encode_line_diff);
    }
}

fn encode_line_diff(
    (old, new): (ObjectId, ObjectId),
    diff: &Option<LineDiff>,
    payload: &mut Vec<u8>,
) {
    payload.extend_from_slice(old.as_bytes());
    payload.extend_from_slice(new.as_bytes());
    match diff {
        None => payload.push(0),
        Some((blocks, lines)) => {
            payload.push(1);
            payload.extend_from_slice(&lines.to_le_bytes());
            put_blocks(payload, blocks);
        }
    }
}

fn decode_line_diff(payload: &[u8]) -> Option<((ObjectId, ObjectId), Option<LineDiff>)> {
    let mut at = Reader { bytes: payload, at: 0 };
    let old = ObjectId::from_bytes(at.take(20)?.try_into().ok()?);
    let new = ObjectId::from_bytes(at.take(20)?.try_into().ok()?);
    let diff = match *at.take(1)?.first()? {
        0 => None,
        1 => {
            let lines = at.number()?;
            Some((at.blocks()?, lines))
        }
        _ => return None,
    };
    (at.at == payload.len()).then_some(((old, new), diff))
}

fn put_blocks(payload: &mut Vec<u8>, blocks: &[Block]) {
    put(payload, blocks.len());
    for block in blocks {
        for n in [block.old_start, block.old_count, block.new_start, block.new_count] {
            payload.extend_from_slice(&n.to_le_bytes());
        }
    }
}

fn encode_patch(commit: ObjectId, patch: &Patch, payload: &mut Vec<u8>) {
    payload.extend_from_slice(commit.as_bytes());
    payload.extend_from_slice(patch.patch_id.map_or([0; 20], |p| *p.as_bytes()).as_slice());
    put(payload, patch.changes.len());
    for file in &patch.changes {
        let flags = u8::from(file.old_path.is_some()) | (u8::from(file.new_path.is_some()) << 1);
        payload.push(flags);
        for path in [&file.old_path, &file.new_path].into_iter().flatten() {
            put(payload, path.len());
            payload.extend_from_slice(path.as_bytes());
        }
        put_blocks(payload, &file.blocks);
    }
}

/// One merge a simulation asked `git merge-tree`: the inputs it ran under (the key of
/// [`crate::git::merge_inputs::MergeInputs::Known`]), the merge base, our tree and their
/// commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MergeKey {
    pub inputs: [u8; 20],
    pub base: ObjectId,
    pub ours: ObjectId,
    pub theirs: ObjectId,
}

/// What `git merge-tree` answered for a [`MergeKey`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeAnswer {
    pub clean: bool,
    pub tree: ObjectId,
    pub conflicts: Vec<String>,
}

/// The answers of merges run before, in `merges-v1`: a payload is the inputs' key, the
/// base, ours and theirs (20 bytes each), 1 for a clean merge or 0, the resulting tree (20)
/// and the conflicting paths, as a count and each path's length and bytes. The trees the
/// merges wrote are kept beside it, in the object directory [`MergeCache::objects`].
#[derive(Debug)]
pub struct MergeCache(RecordFile<MergeKey, MergeAnswer>);

impl MergeCache {
    /// The file's name.
    pub const FILE: &'static str = "merges-v1";

    /// Reads the cache in `dir`.
    pub fn open(dir: &Path) -> Self {
        MergeCache(RecordFile::open(dir, Self::FILE, &[], decode_merge))
    }

    /// Returns the object directory of the trees the cached merges wrote, in `dir`.
    pub fn objects(dir: &Path) -> PathBuf {
        dir.join("merge-objects")
    }

    /// Removes the cache in `dir`, its objects too (for a cache that grew too large, or
    /// whose objects are missing).
    pub fn remove(dir: &Path) {
        let _ = std::fs::remove_file(dir.join(Self::FILE));
        let _ = std::fs::remove_file(dir.join(StatCache::FILE));
        let objects = Self::objects(dir);
        // Moved aside first, so that no other process finds half of it.
        let aside = dir.join(format!("merge-objects.old-{}", std::process::id()));
        if std::fs::rename(&objects, &aside).is_ok() {
            let _ = std::fs::remove_dir_all(&aside);
        }
    }

    /// How many merges the cache knows.
    pub fn len(&self) -> usize {
        self.0.known.len()
    }

    /// Tells whether the cache knows no merge.
    pub fn is_empty(&self) -> bool {
        self.0.known.is_empty()
    }

    /// Returns the answer of the merge `key`, as it was given before.
    pub fn get(&self, key: &MergeKey) -> Option<&MergeAnswer> {
        self.0.known.get(key)
    }

    /// Keeps the answers of `fresh` the cache lacks.
    pub fn store(&self, fresh: &HashMap<MergeKey, MergeAnswer>) {
        self.0.store(fresh.iter().map(|(k, v)| (*k, v)), encode_merge);
    }
}

/// The size of the change between two trees or commits (files, insertions, deletions, as
/// `git diff --shortstat --find-renames` counts them), in `stats-v1`, under the merge
/// inputs' key (which covers the diff settings and attributes): a payload is the key, the
/// two ids (20 bytes each) and the three counts.
#[derive(Debug)]
pub struct StatCache(RecordFile<StatKey, [u32; 3]>);

/// The merge inputs' key and the two ids of a change.
type StatKey = ([u8; 20], ObjectId, ObjectId);

impl StatCache {
    /// The file's name.
    pub const FILE: &'static str = "stats-v1";

    /// Reads the cache in `dir`.
    pub fn open(dir: &Path) -> Self {
        StatCache(RecordFile::open(dir, Self::FILE, &[], decode_stat))
    }

    /// Returns the counts of the change from `from` to `to` under `inputs`.
    pub fn get(&self, inputs: [u8; 20], from: ObjectId, to: ObjectId) -> Option<[u32; 3]> {
        self.0.known.get(&(inputs, from, to)).copied()
    }

    /// Keeps the counts of one change.
    pub fn store(&self, inputs: [u8; 20], from: ObjectId, to: ObjectId, counts: [u32; 3]) {
        self.0.store(std::iter::once(((inputs, from, to), &counts)), |(k, f, t), c, payload| {
            payload.extend_from_slice(&k);
            payload.extend_from_slice(f.as_bytes());
            payload.extend_from_slice(t.as_bytes());
            for n in c {
                payload.extend_from_slice(&n.to_le_bytes());
            }
        });
    }
}

fn decode_stat(payload: &[u8]) -> Option<(StatKey, [u32; 3])> {
    let mut at = Reader { bytes: payload, at: 0 };
    let inputs: [u8; 20] = at.take(20)?.try_into().ok()?;
    let from = ObjectId::from_bytes(at.take(20)?.try_into().ok()?);
    let to = ObjectId::from_bytes(at.take(20)?.try_into().ok()?);
    let counts = [at.number()?, at.number()?, at.number()?];
    (at.at == payload.len()).then_some(((inputs, from, to), counts))
}

fn encode_merge(key: MergeKey, answer: &MergeAnswer, payload: &mut Vec<u8>) {
    payload.extend_from_slice(&key.inputs);
    for id in [key.base, key.ours, key.theirs] {
        payload.extend_from_slice(id.as_bytes());
    }
    payload.push(u8::from(answer.clean));
    payload.extend_from_slice(answer.tree.as_bytes());
    put(payload, answer.conflicts.len());
    for path in &answer.conflicts {
        put(payload, path.len());
        payload.extend_from_slice(path.as_bytes());
    }
}

fn decode_merge(payload: &[u8]) -> Option<(MergeKey, MergeAnswer)> {
    let mut at = Reader { bytes: payload, at: 0 };
    let inputs: [u8; 20] = at.take(20)?.try_into().ok()?;
    let mut id = || Some(ObjectId::from_bytes(at.take(20)?.try_into().ok()?));
    let (base, ours, theirs) = (id()?, id()?, id()?);
    let clean = match *at.take(1)?.first()? {
        0 => false,
        1 => true,
        _ => return None,
    };
    let tree = ObjectId::from_bytes(at.take(20)?.try_into().ok()?);
    let count = at.number()?;
    let mut conflicts = Vec::new();
    for _ in 0..count {
        let length = at.number()? as usize;
        conflicts.push(String::from_utf8(at.take(length)?.to_vec()).ok()?);
    }
    (at.at == payload.len()).then_some((
        MergeKey { inputs, base, ours, theirs },
        MergeAnswer { clean, tree, conflicts },
    ))
}

fn put(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn decode_patch(payload: &[u8]) -> Option<(ObjectId, Patch)> {
    let mut at = Reader { bytes: payload, at: 0 };
    let commit = ObjectId::from_bytes(at.take(20)?.try_into().ok()?);
    let id: [u8; 20] = at.take(20)?.try_into().ok()?;
    let patch_id = (id != [0; 20]).then(|| ObjectId::from_bytes(id));
    let files = at.number()?;
    let mut changes = Vec::new();
    for _ in 0..files {
        let flags = *at.take(1)?.first()?;
        let mut path = |present: bool| -> Option<Option<String>> {
            if !present {
                return Some(None);
            }
            let length = at.number()? as usize;
            Some(Some(String::from_utf8(at.take(length)?.to_vec()).ok()?))
        };
        let old_path = path(flags & 1 != 0)?;
        let new_path = path(flags & 2 != 0)?;
        let blocks = at.blocks()?;
        changes.push(FileChange { old_path, new_path, binary: false, blocks });
    }
    (at.at == payload.len()).then_some((commit, Patch { patch_id, changes, binary: false }))
}

struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let end = self.at.checked_add(n)?;
        let taken = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(taken)
    }

    fn number(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn blocks(&mut self) -> Option<Vec<Block>> {
        let count = self.number()?;
        let mut blocks = Vec::new();
        for _ in 0..count {
            blocks.push(Block {
                old_start: self.number()?,
                old_count: self.number()?,
                new_start: self.number()?,
                new_count: self.number()?,
            });
        }
        Some(blocks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(n: u32) -> Patch {
        let block = Block { old_start: n, old_count: 2, new_start: n + 1, new_count: 0 };
        Patch {
            patch_id: (n % 2 == 0).then(|| ObjectId::from_bytes([n as u8; 20])),
            changes: vec![
                FileChange {
                    old_path: Some(format!("dir/caf\u{e9} {n}.py")),
                    new_path: Some("dir/renamed.py".into()),
                    binary: false,
                    blocks: vec![block, block],
                },
                FileChange {
                    old_path: None,
                    new_path: Some("new".into()),
                    binary: false,
                    blocks: vec![],
                },
                FileChange {
                    old_path: Some("gone".into()),
                    new_path: None,
                    binary: false,
                    blocks: vec![block],
                },
            ],
            binary: false,
        }
    }

    fn commit(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 20])
    }

    #[test]
    fn patches_read_back_as_written_and_damage_loses_only_the_damaged_record() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let fresh: HashMap<ObjectId, Patch> =
            (1..=3).map(|n| (commit(n), patch(n.into()))).collect();
        ChangesCache::open(dir.path()).store(&fresh);
        let cache = ChangesCache::open(dir.path());
        assert!(cache.0.whole);
        for (c, p) in &fresh {
            assert_eq!(cache.get(*c).as_ref(), Some(p));
        }
        // A binary patch is not kept; nor is one already there written twice.
        let binary = Patch { binary: true, ..patch(4) };
        cache.store(&HashMap::from([(commit(4), binary), (commit(1), patch(1))]));
        let file = dir.path().join("changes-v2");
        let before = std::fs::read(&file).expect("the cache file");
        assert_eq!(ChangesCache::open(dir.path()).0.known.len(), 3);

        // Flip one byte of the last record: the first two still read, and the next store
        // rewrites the file whole.
        let mut damaged = before.clone();
        let last = damaged.len() - 12;
        damaged[last] ^= 0x40;
        std::fs::write(&file, &damaged).expect("write");
        let cache = ChangesCache::open(dir.path());
        assert_eq!(cache.0.known.len(), 2);
        assert!(!cache.0.whole);
        cache.store(&HashMap::from([(commit(5), patch(5))]));
        let cache = ChangesCache::open(dir.path());
        assert!(cache.0.whole);
        assert_eq!(cache.0.known.len(), 3);
        assert_eq!(cache.get(commit(5)), Some(patch(5)));

        // A torn append (the file cut inside a record) is noticed the same way.
        let bytes = std::fs::read(&file).expect("the cache file");
        std::fs::write(&file, &bytes[..bytes.len() - 3]).expect("write");
        let cache = ChangesCache::open(dir.path());
        assert!(!cache.0.whole);
        assert_eq!(cache.0.known.len(), 2);
        // Garbage is an empty cache.
        std::fs::write(&file, b"\xff\xff\xff\xffnot a cache").expect("write");
        assert!(ChangesCache::open(dir.path()).0.known.is_empty());
    }

    #[test]
    fn line_diffs_read_back_as_written() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let block = Block { old_start: 3, old_count: 0, new_start: 4, new_count: 7 };
        let fresh = HashMap::from([
            ((commit(1), commit(2)), Some((vec![block, block], 120))),
            ((commit(2), commit(3)), Some((vec![], 0))),
            ((commit(3), commit(4)), None),
        ]);
        LineDiffCache::open(dir.path()).store(&fresh);
        let cache = LineDiffCache::open(dir.path());
        assert!(cache.0.whole);
        for ((old, new), diff) in &fresh {
            assert_eq!(cache.get(*old, *new).as_ref(), Some(diff));
        }
        assert_eq!(cache.get(commit(4), commit(1)), None);
    }
}
