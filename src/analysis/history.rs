//! Reading commits from git in bulk: the commits of a range with their messages, and the
//! patch-ids of many commits, computed by several `git log -p` processes at once.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};

use crate::git::{Git, GitError};
use crate::oid::ObjectId;
use crate::text::changes::{ChangeReader, FileChange};
use crate::text::patch_id::PatchIdHasher;

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
    let range = format!("{}..{}", exclude, include);
    let args = [
        "log",
        "-z",
        "--topo-order",
        "--reverse",
        "--encoding=UTF-8",
        "--no-show-signature",
        "--format=%H %P%n%B",
        range.as_str(),
        "--",
    ];
    let out = git.output(&args)?;
    let mut commits = Vec::new();
    for record in out.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let (header, message) = match record.iter().position(|b| *b == b'\n') {
            Some(i) => (&record[..i], &record[i + 1..]),
            None => (record, &record[record.len()..]),
        };
        let mut ids =
            header.split(|b| *b == b' ').filter(|w| !w.is_empty()).map(ObjectId::from_hex);
        let parse_error = || HistoryError::Parse {
            argv: format!("git log {range}"),
            detail: format!("bad commit header {:?}", String::from_utf8_lossy(header)),
        };
        let id = ids.next().flatten().ok_or_else(parse_error)?;
        let parents = ids.collect::<Option<Vec<_>>>().ok_or_else(parse_error)?;
        commits.push(CommitRecord { id, parents, message: message.to_vec() });
    }
    Ok(commits)
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
    let (from_hex, to_hex) = (from.to_hex(), to.to_hex());
    let args =
        ["diff", "--raw", "-z", "--no-abbrev", "-M", "--diff-filter=R", &from_hex, &to_hex, "--"];
    let out = git.output(&args)?;
    let bad =
        |detail: String| HistoryError::Parse { argv: format!("git {}", args.join(" ")), detail };
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
    let raw = |mode: &'static str| {
        let range = range.as_str();
        move || {
            let args = [
                "log",
                "--merges",
                mode,
                "--raw",
                "--no-abbrev",
                "--no-renames",
                "-z",
                "--format=%H",
                range,
                "--",
            ];
            git.output(&args)
        }
    };
    let (first, every) = std::thread::scope(|scope| {
        let every = scope.spawn(raw("-c"));
        let first = raw("--diff-merges=first-parent")();
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

/// Returns, for every non-merge commit on either side of `a...b`, the paths its diff names
/// (old and new names of a rename), sorted: two commits with the same patch-id name the
/// same paths, so only commits whose paths some commit of the other side also names can
/// share one. Read by one `git log --name-status` under the patch-id's diff settings
/// (renames found the same way), which costs tree diffs, not content diffs.
pub fn path_sets(
    git: &Git,
    a: ObjectId,
    b: ObjectId,
) -> Result<HashMap<ObjectId, Vec<Vec<u8>>>, HistoryError> {
    let range = format!("{a}...{b}");
    let args = [
        "-c",
        "core.quotePath=true",
        "-c",
        "diff.renameLimit=1000",
        "log",
        "--no-merges",
        "--name-status",
        "-z",
        "--format=%x01%H",
        "--find-renames",
        "--no-relative",
        "--no-show-signature",
        range.as_str(),
        "--",
    ];
    let out = git.output(&args)?;
    let bad = |detail: String| HistoryError::Parse {
        argv: format!("git log --name-status {range}"),
        detail,
    };
    let mut sets: HashMap<ObjectId, Vec<Vec<u8>>> = HashMap::new();
    for record in out.split(|b| *b == 1).filter(|r| !r.is_empty()) {
        let mut fields = record.split(|b| *b == 0);
        let id = fields
            .next()
            .and_then(|h| ObjectId::from_hex(h.trim_ascii()))
            .ok_or_else(|| bad(format!("no commit id in {:?}", String::from_utf8_lossy(record))))?;
        let mut paths = Vec::new();
        while let Some(status) = fields.next() {
            let status = status.trim_ascii();
            if status.is_empty() {
                continue;
            }
            // Renames and copies name two paths, everything else one.
            let count = if matches!(status.first(), Some(b'R' | b'C')) { 2 } else { 1 };
            for _ in 0..count {
                let path = fields.next().ok_or_else(|| bad("a status without its path".into()))?;
                paths.push(path.to_vec());
            }
        }
        paths.sort();
        paths.dedup();
        sets.insert(id, paths);
    }
    Ok(sets)
}

/// The diff settings under which patch-ids are computed: git's defaults, pinned, so the
/// user's configuration (another diff algorithm, no prefixes, external diff drivers) cannot
/// change a patch-id. With them `git log -p` prints what `git show` prints by default.
const PATCH_ARGS: &[&str] = &[
    "-c",
    "core.quotePath=true",
    "-c",
    "diff.suppressBlankEmpty=false",
    "-c",
    "diff.interHunkContext=0",
    "-c",
    "diff.renameLimit=1000",
    "log",
    "--no-walk=unsorted",
    "--stdin",
    "-p",
    "--format=%x00%H",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--diff-merges=off",
    "--find-renames",
    "--diff-algorithm=myers",
    "--indent-heuristic",
    "-U3",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--no-relative",
    "--no-show-signature",
];

/// What one commit's patch says: its stable patch-id and, when asked for, its changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    /// `None` for an empty change.
    pub patch_id: Option<ObjectId>,
    /// The files and line blocks the commit changes against its first parent (empty
    /// unless changes were asked for).
    pub changes: Vec<FileChange>,
    /// A file of the patch is binary (the patch-id then depends on the repository's
    /// abbreviation length and is not cached).
    pub binary: bool,
}

/// Returns each commit's patch: its stable patch-id (as
/// `git show <commit> | git patch-id --stable` gives it) and, with `with_changes`, the
/// blocks of lines it changes.
///
/// The commits are dealt round-robin to `jobs` `git log -p` processes that run at once;
/// diffing is most of the cost and each process uses one core.
pub fn patches(
    git: &Git,
    commits: &[ObjectId],
    jobs: usize,
    with_changes: bool,
) -> Result<HashMap<ObjectId, Patch>, HistoryError> {
    let jobs = jobs.clamp(1, commits.len().div_ceil(32).max(1));
    if commits.is_empty() {
        return Ok(HashMap::new());
    }
    let mut chunks: Vec<Vec<u8>> = vec![Vec::new(); jobs];
    for (i, id) in commits.iter().enumerate() {
        let chunk = &mut chunks[i % jobs];
        chunk.extend_from_slice(id.to_hex().as_bytes());
        chunk.push(b'\n');
    }
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|input| scope.spawn(move || patches_of_chunk(git, input, with_changes)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a patch reader thread does not panic"))
            .collect::<Vec<_>>()
    });
    let mut patches = HashMap::with_capacity(commits.len());
    for result in results {
        patches.extend(result?);
    }
    Ok(patches)
}

/// Version of the cache file's name: a change to how patch-ids are computed changes it.
const CACHE_FILE: &str = "patch-ids-v1";

/// Returns each commit's patch-id like [`patches`] without changes, reading and extending
/// a cache in `cache_dir` (a commit's patch-id never changes; binary patches are not
/// cached). A cache that cannot be read or written is simply not used.
pub fn cached_patch_ids(
    git: &Git,
    commits: &[ObjectId],
    jobs: usize,
    cache_dir: &std::path::Path,
) -> Result<HashMap<ObjectId, Patch>, HistoryError> {
    let path = cache_dir.join(CACHE_FILE);
    let (known, whole) = read_cache(&path);
    let mut out: HashMap<ObjectId, Patch> = HashMap::with_capacity(commits.len());
    let missing: Vec<ObjectId> = commits
        .iter()
        .copied()
        .filter(|c| match known.get(c) {
            Some(id) => {
                out.insert(*c, Patch { patch_id: *id, changes: Vec::new(), binary: false });
                false
            }
            None => true,
        })
        .collect();
    let fresh = patches(git, &missing, jobs, false)?;
    let mut records = Vec::with_capacity(fresh.len() * 40);
    for (commit, patch) in &fresh {
        if !patch.binary {
            records.extend_from_slice(commit.as_bytes());
            records.extend_from_slice(patch.patch_id.map_or([0; 20], |p| *p.as_bytes()).as_slice());
        }
    }
    if !records.is_empty() && std::fs::create_dir_all(cache_dir).is_ok() {
        use std::io::Write as _;
        if whole {
            // Whole 40-byte records appended at once.
            if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(&path)
            {
                let _ = file.write_all(&records);
            }
        } else {
            // A torn record (a crash mid-append) would misalign every record after it:
            // write the readable ones and the new ones afresh instead.
            let mut all = Vec::with_capacity(known.len() * 40 + records.len());
            for (commit, id) in &known {
                all.extend_from_slice(commit.as_bytes());
                all.extend_from_slice(id.map_or([0; 20], |p| *p.as_bytes()).as_slice());
            }
            all.extend_from_slice(&records);
            let _ = crate::state_file::write(&path, &all);
        }
    }
    out.extend(fresh);
    Ok(out)
}

/// Reads the cache's records, and tells whether the file holds whole records only.
fn read_cache(path: &std::path::Path) -> (HashMap<ObjectId, Option<ObjectId>>, bool) {
    let bytes = std::fs::read(path).unwrap_or_default();
    let records = bytes
        .chunks_exact(40)
        .map(|record| {
            let mut commit = [0u8; 20];
            let mut id = [0u8; 20];
            commit.copy_from_slice(&record[..20]);
            id.copy_from_slice(&record[20..]);
            let id = (id != [0; 20]).then(|| ObjectId::from_bytes(id));
            (ObjectId::from_bytes(commit), id)
        })
        .collect();
    (records, bytes.len() % 40 == 0)
}

/// Returns the stable patch-id of each commit (`None` for an empty change); see [`patches`].
pub fn patch_ids(
    git: &Git,
    commits: &[ObjectId],
    jobs: usize,
) -> Result<HashMap<ObjectId, Option<ObjectId>>, HistoryError> {
    let patches = patches(git, commits, jobs, false)?;
    Ok(patches.into_iter().map(|(id, patch)| (id, patch.patch_id)).collect())
}

fn patches_of_chunk(
    git: &Git,
    input: Vec<u8>,
    with_changes: bool,
) -> Result<Vec<(ObjectId, Patch)>, HistoryError> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let mut running = git.stream(PATCH_ARGS, input)?;
    let reader = BufReader::with_capacity(1 << 16, running.take_stdout());
    let parsed = read_patches(reader, with_changes);
    let argv = running.argv().to_string();
    running.finish()?;
    parsed.map_err(|e| HistoryError::Parse { argv, detail: e.to_string() })
}

/// Reads `git log -p --format=%x00%H` output into each commit's patch, in git's order.
pub fn read_patches(
    mut input: impl BufRead,
    with_changes: bool,
) -> std::io::Result<Vec<(ObjectId, Patch)>> {
    struct Current {
        id: ObjectId,
        hasher: PatchIdHasher,
        changes: Option<ChangeReader>,
    }
    fn done(current: Current) -> (ObjectId, Patch) {
        let changes = current.changes.map(ChangeReader::finish).unwrap_or_default();
        let binary = current.hasher.saw_binary();
        (current.id, Patch { patch_id: current.hasher.finish(), changes, binary })
    }
    let mut out = Vec::new();
    let mut current: Option<Current> = None;
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if let Some(rest) = line.strip_prefix(b"\0") {
            out.extend(current.take().map(done));
            let id = ObjectId::from_hex(rest.trim_ascii_end()).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "unexpected commit line in git log: {:?}",
                        String::from_utf8_lossy(rest)
                    ),
                )
            })?;
            let changes = with_changes.then(ChangeReader::new);
            current = Some(Current { id, hasher: PatchIdHasher::new(), changes });
        } else if let Some(current) = current.as_mut() {
            current.hasher.line(&line);
            if let Some(changes) = current.changes.as_mut() {
                changes.line(&line);
            }
        }
    }
    out.extend(current.take().map(done));
    Ok(out)
}
