//! Reading commits from git in bulk: the commits of a range with their messages, and the
//! patch-ids of many commits, computed by several `git log -p` processes at once.

use std::collections::HashMap;
use std::io::BufReader;

use crate::git::{Git, GitError};
use crate::oid::ObjectId;
use crate::patch_id;

/// Errors from reading history.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("unexpected output from `{argv}`: {detail}")]
    Parse { argv: String, detail: String },
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

/// Returns the stable patch-id of each commit (`None` for an empty change), as
/// `git show <commit> | git patch-id --stable` gives it.
///
/// The commits are dealt round-robin to `jobs` `git log -p` processes that run at once;
/// diffing is most of the cost and each process uses one core.
pub fn patch_ids(
    git: &Git,
    commits: &[ObjectId],
    jobs: usize,
) -> Result<HashMap<ObjectId, Option<ObjectId>>, HistoryError> {
    let jobs = jobs.clamp(1, commits.len().div_ceil(32).max(1));
    let mut chunks: Vec<Vec<u8>> = vec![Vec::new(); jobs];
    for (i, id) in commits.iter().enumerate() {
        let chunk = &mut chunks[i % jobs];
        chunk.extend_from_slice(id.to_hex().as_bytes());
        chunk.push(b'\n');
    }
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|input| scope.spawn(move || patch_ids_of_chunk(git, input)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a patch-id reader thread does not panic"))
            .collect::<Vec<_>>()
    });
    let mut ids = HashMap::with_capacity(commits.len());
    for result in results {
        ids.extend(result?);
    }
    Ok(ids)
}

fn patch_ids_of_chunk(
    git: &Git,
    input: Vec<u8>,
) -> Result<Vec<(ObjectId, Option<ObjectId>)>, HistoryError> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let mut running = git.stream(PATCH_ARGS, input)?;
    let reader = BufReader::with_capacity(1 << 16, running.take_stdout());
    let parsed = patch_id::read_log_patches(reader);
    let argv = running.argv().to_string();
    running.finish()?;
    parsed.map_err(|e| HistoryError::Parse { argv, detail: e.to_string() })
}
