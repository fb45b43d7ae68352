//! Reading commits from git in bulk: the commits of a range with their messages, and the
//! patch-ids of many commits, computed by several `git log -p` processes at once.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};

use sha1::{Digest, Sha1};

pub use crate::git::reads::WithPaths;
use crate::git::{Git, GitError, reads};
use crate::oid::ObjectId;

mod patches;
mod record_cache;
pub use patches::{Patch, PatchDetail, PatchFeed, patch_ids, patches, read_patches};
pub use record_cache::{
    ChangesCache, LineDiffCache, MergeAnswer, MergeCache, MergeKey, PatchIdCache, StatCache,
    TouchedCache, take_damaged_caches,
};

/// Errors from reading history.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("unexpected output from `{argv}`: {detail}")]
    Parse { argv: String, detail: String },
}

impl crate::ErrorOrigin for HistoryError {
    fn is_user_input(&self) -> bool {
        match self {
            HistoryError::Git(_) | HistoryError::Parse { .. } => false,
        }
    }
}

/// A commit as read from `git log`: its id, parents and raw message.
#[derive(Debug, Clone)]
pub struct CommitRecord {
    pub id: ObjectId,
    pub parents: Vec<ObjectId>,
    /// The message, re-encoded to UTF-8 by git when the commit declares another encoding;
    /// a message with no declared encoding is passed through as its bytes.
    pub message: Vec<u8>,
}

impl CommitRecord {
    /// Tells whether the commit has more than one parent.
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }
}

/// Returns the commits reachable from `include` but not from `exclude`, oldest first in
/// the order of `git rev-list --topo-order --reverse`.
pub fn commits_between(
    git: &Git,
    exclude: ObjectId,
    include: ObjectId,
) -> Result<Vec<CommitRecord>, HistoryError> {
    list_commits(git, exclude, include, WithPaths::No, |_, _| Ok(()))
}

/// What a commit's diff against its first parent touches, as [`list_commits`] reads it
/// (when asked for); a merge's is empty.
#[derive(Debug, Clone, Default)]
pub struct Touched {
    /// The set of paths the diff names, as a [`PathSet`]; `None` when it names none.
    pub paths: Option<PathSet>,
    /// The diff's entries as `git diff-tree --raw` gives them (modes, blobs, status and path
    /// of each), sorted: two commits with the same entries have the same patch. `None`
    /// when they were not read (the paths came from the cache).
    pub entries: Option<Vec<u8>>,
}

/// The SHA-1 of a diff's sorted set of paths, each followed by a NUL (no path holds one):
/// two commits can share a patch-id only if their sets are equal, so equal digests say
/// which commits are worth comparing. A collision would only compare two more patch-ids.
pub type PathSet = [u8; 20];

/// Returns the [`PathSet`] of `paths` (sorted, without repeats); `None` for no paths.
pub fn path_set(paths: &[Vec<u8>]) -> Option<PathSet> {
    if paths.is_empty() {
        return None;
    }
    let mut hasher = Sha1::new();
    for path in paths {
        hasher.update(path);
        hasher.update([0]);
    }
    Some(hasher.finalize().into())
}

/// Returns the commits of [`commits_between`], and calls `on_commit` with each and (with
/// [`WithPaths::Yes`]) what its diff touches, as soon as git has printed it, while git goes on.
///
/// Two commits with one patch-id name the same paths, so only commits whose paths a commit
/// of the other side also names can share one. The paths are read without rename
/// detection, which costs tree diffs only: a rename pairs a deleted path with an added
/// one, so the set of names is the same with or without it.
pub fn list_commits(
    git: &Git,
    exclude: ObjectId,
    include: ObjectId,
    paths: WithPaths,
    mut on_commit: impl FnMut(&CommitRecord, Touched) -> Result<(), HistoryError>,
) -> Result<Vec<CommitRecord>, HistoryError> {
    let range = format!("{exclude}..{include}");
    let with_paths = paths == WithPaths::Yes;
    let mut running = reads::log_commits(git, exclude, include, paths)?;
    let reader = BufReader::with_capacity(1 << 16, running.take_stdout());
    let parsed = parse_commits(reader, with_paths, &mut on_commit);
    let finished = running.finish();
    match parsed {
        Ok(commits) => finished.map(|()| commits).map_err(HistoryError::from),
        // The caller's own error comes first: git only saw its output closed early.
        Err(Parsing::Caller(error)) => Err(error),
        Err(Parsing::Bad(detail)) => {
            let ours = HistoryError::Parse { argv: format!("git log {range}"), detail };
            Err(explained(finished, ours))
        }
        Err(Parsing::Read(error)) => {
            let detail = format!("reading its output: {error}");
            Err(explained(
                finished,
                HistoryError::Parse { argv: format!("git log {range}"), detail },
            ))
        }
    }
}

/// Reads `commits` as [`list_commits`] reads a range, in the order given and with what
/// each touches (`git log --no-walk=unsorted --stdin --raw`), calling `on_commit` with each.
pub fn read_listed(
    git: &Git,
    commits: &[ObjectId],
    mut on_commit: impl FnMut(&CommitRecord, Touched) -> Result<(), HistoryError>,
) -> Result<Vec<CommitRecord>, HistoryError> {
    if commits.is_empty() {
        return Ok(Vec::new());
    }
    let argv = || format!("git log --no-walk --stdin ({} commits)", commits.len());
    let mut running = reads::log_listed_commits(git, commits)?;
    let reader = BufReader::with_capacity(1 << 16, running.take_stdout());
    let parsed = parse_commits(reader, true, &mut on_commit);
    let finished = running.finish();
    match parsed {
        Ok(read) => {
            finished?;
            if read.len() != commits.len() {
                let detail = format!("{} commits asked, {} read", commits.len(), read.len());
                return Err(HistoryError::Parse { argv: argv(), detail });
            }
            Ok(read)
        }
        Err(Parsing::Caller(error)) => Err(error),
        Err(Parsing::Bad(detail)) => {
            Err(explained(finished, HistoryError::Parse { argv: argv(), detail }))
        }
        Err(Parsing::Read(error)) => {
            let detail = format!("reading its output: {error}");
            Err(explained(finished, HistoryError::Parse { argv: argv(), detail }))
        }
    }
}

/// Returns the error that explains output read wrong: git's own failure (output it left
/// unfinished), unless git only died of the pipe the reader closed on finding `ours`.
pub(crate) fn explained(finished: Result<(), GitError>, ours: HistoryError) -> HistoryError {
    match finished {
        Err(git) if !git.is_broken_pipe() => HistoryError::Git(git),
        _ => ours,
    }
}

/// Why reading `git log` output stopped.
enum Parsing {
    Bad(String),
    Read(std::io::Error),
    Caller(HistoryError),
}

/// A commit being read, with its raw diff entries (path, then the entry's fields).
struct Reading {
    commit: CommitRecord,
    entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Reading {
    fn finish(mut self) -> (CommitRecord, Touched) {
        self.entries.sort();
        let mut paths: Vec<Vec<u8>> = Vec::with_capacity(self.entries.len());
        let mut entries = Vec::new();
        for (path, fields) in self.entries {
            entries.extend_from_slice(&fields);
            entries.push(0);
            entries.extend_from_slice(&path);
            entries.push(0);
            if paths.last() != Some(&path) {
                paths.push(path);
            }
        }
        (self.commit, Touched { paths: path_set(&paths), entries: Some(entries) })
    }
}

/// Parses `git log -z --format='%H %P%n%B' [--raw]` output (consumed, so that git sees its
/// pipe closed if this stops early). A raw entry starts with `:`, where a commit's header
/// starts with 40 hex digits, whatever the paths are called.
fn parse_commits(
    mut input: impl BufRead,
    with_paths: bool,
    on_commit: &mut impl FnMut(&CommitRecord, Touched) -> Result<(), HistoryError>,
) -> Result<Vec<CommitRecord>, Parsing> {
    let mut commits: Vec<CommitRecord> = Vec::new();
    let mut reading: Option<Reading> = None;
    let mut done = |reading: Option<Reading>| -> Result<(), Parsing> {
        if let Some(reading) = reading {
            let (commit, touched) = reading.finish();
            on_commit(&commit, touched).map_err(Parsing::Caller)?;
            commits.push(commit);
        }
        Ok(())
    };
    let mut token = Vec::with_capacity(1024);
    let mut next = |token: &mut Vec<u8>| -> Result<bool, Parsing> {
        token.clear();
        let read = input.read_until(0, token).map_err(Parsing::Read)?;
        if token.last() == Some(&0) {
            token.pop();
        }
        Ok(read > 0)
    };
    while next(&mut token)? {
        if token.is_empty() {
            continue;
        }
        let raw = token.strip_prefix(b"\n").unwrap_or(&token);
        if with_paths && raw.first() == Some(&b':') {
            let fields = raw.to_vec();
            if !next(&mut token)? {
                return Err(Parsing::Bad("a raw diff entry without its path".into()));
            }
            let current =
                reading.as_mut().ok_or_else(|| Parsing::Bad("a path before any commit".into()))?;
            current.entries.push((token.clone(), fields));
            continue;
        }
        done(reading.take())?;
        let (header, message) = match token.iter().position(|b| *b == b'\n') {
            Some(i) => (&token[..i], &token[i + 1..]),
            None => (&token[..], &token[token.len()..]),
        };
        let mut ids =
            header.split(|b| *b == b' ').filter(|w| !w.is_empty()).map(ObjectId::from_hex);
        let parse_error =
            || Parsing::Bad(format!("bad commit header {:?}", String::from_utf8_lossy(header)));
        let id = ids.next().flatten().ok_or_else(parse_error)?;
        let parents = ids.collect::<Option<Vec<_>>>().ok_or_else(parse_error)?;
        let commit = CommitRecord { id, parents, message: message.to_vec() };
        reading = Some(Reading { commit, entries: Vec::new() });
    }
    done(reading.take())?;
    Ok(commits)
}

/// Returns the merge bases of `a` and `b` as `git merge-base --all` prints them (none for
/// unrelated histories).
pub fn merge_bases(git: &Git, a: ObjectId, b: ObjectId) -> Result<Vec<ObjectId>, HistoryError> {
    let out = reads::merge_base_all(git, a, b)?;
    out.split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            ObjectId::from_hex(line).ok_or_else(|| HistoryError::Parse {
                argv: format!("git merge-base --all {a} {b}"),
                detail: format!("not an object id: {:?}", String::from_utf8_lossy(line)),
            })
        })
        .collect()
}

/// What a merge changed, as `git blame` needs it to pass blame through the merge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeChanges {
    /// Paths whose content differs from the first parent's, with the merge's blob there
    /// (`None` where the merge deleted the path).
    pub from_first_parent: Vec<(String, Option<ObjectId>)>,
    /// Paths whose content differs from every parent's, with each parent's blob (`None`
    /// where a parent lacks the path), first parent first.
    pub from_every_parent: HashMap<String, Vec<Option<ObjectId>>>,
}

/// Returns the renames from `from` to `to` as git's rename detection finds them (`git diff
/// -M`, the default similarity): new path -> (old path, the old blob).
pub fn renames(
    git: &Git,
    from: ObjectId,
    to: ObjectId,
) -> Result<HashMap<String, (String, ObjectId)>, HistoryError> {
    let out = reads::diff_renames(git, from, to)?;
    let bad = |detail: String| HistoryError::Parse {
        argv: format!("git diff --raw -z --no-abbrev -M --diff-filter=R {from} {to} --"),
        detail,
    };
    let mut renames = HashMap::new();
    let mut tokens = out.split(|b| *b == 0);
    while let Some(token) = tokens.next() {
        if token.is_empty() {
            continue;
        }
        // `:<mode> <mode> <old blob> <new blob> R<score>`, then the old and new paths.
        let fields: Vec<&[u8]> = token.split(|b| *b == b' ').collect();
        let old_blob = fields
            .get(2)
            .and_then(|hex| ObjectId::from_hex(hex))
            .ok_or_else(|| bad(format!("bad raw line {:?}", String::from_utf8_lossy(token))))?;
        let (Some(old), Some(new)) = (tokens.next(), tokens.next()) else {
            return Err(bad("a rename without its two paths".into()));
        };
        renames.insert(
            String::from_utf8_lossy(new).into_owned(),
            (String::from_utf8_lossy(old).into_owned(), old_blob),
        );
    }
    Ok(renames)
}

/// Returns what every merge reachable from `include` but not from `exclude` changed, read by
/// two `git log --raw` processes (no rename detection) running at once.
pub fn merge_changes(
    git: &Git,
    exclude: ObjectId,
    include: ObjectId,
) -> Result<HashMap<ObjectId, MergeChanges>, HistoryError> {
    let range = format!("{exclude}..{include}");
    let raw = |diff| move || reads::log_merges_raw(git, exclude, include, diff);
    let (first, every) = std::thread::scope(|scope| {
        let every = scope.spawn(raw(reads::MergeDiff::Combined));
        let first = raw(reads::MergeDiff::FirstParent)();
        (first, every.join().expect("a git log reader does not panic"))
    });
    let bad = |detail: String| HistoryError::Parse {
        argv: format!("git log --merges --raw {range}"),
        detail,
    };
    let mut merges: HashMap<ObjectId, MergeChanges> = HashMap::new();
    for (out, combined) in [(first?, false), (every?, true)] {
        let mut current: Option<ObjectId> = None;
        let mut tokens = out.split(|b| *b == 0).map(|t| t.strip_prefix(b"\n").unwrap_or(t));
        while let Some(token) = tokens.next() {
            if token.is_empty() {
                continue;
            }
            if token.first() == Some(&b':') {
                let path = tokens.next().ok_or_else(|| bad("a raw line without a path".into()))?;
                let path = String::from_utf8_lossy(path).into_owned();
                let parents = token.iter().take_while(|b| **b == b':').count();
                let fields: Vec<&[u8]> = token[parents..].split(|b| *b == b' ').collect();
                // Modes of each parent and the merge, then their blobs, then the status.
                let blobs: Vec<Option<ObjectId>> = fields
                    .get(parents + 1..2 * parents + 2)
                    .ok_or_else(|| {
                        bad(format!("bad raw line {:?}", String::from_utf8_lossy(token)))
                    })?
                    .iter()
                    .map(|hex| ObjectId::from_hex(hex).filter(|id| id.as_bytes() != &[0; 20]))
                    .collect();
                let merge = current.ok_or_else(|| bad("a raw line before any commit".into()))?;
                let entry = merges.entry(merge).or_default();
                if combined {
                    entry.from_every_parent.insert(path, blobs[..parents].to_vec());
                } else {
                    entry.from_first_parent.push((path, blobs[parents]));
                }
            } else {
                let id = ObjectId::from_hex(token).ok_or_else(|| {
                    bad(format!("bad commit {:?}", String::from_utf8_lossy(token)))
                })?;
                merges.entry(id).or_default();
                current = Some(id);
            }
        }
    }
    Ok(merges)
}
