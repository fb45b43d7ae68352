//! Bulk history reads through the `git` executable: commit lists, merge bases, renames,
//! merges' raw diffs, patches and predicted merges. The verbs start git and hand its
//! output back; what it means is parsed by the analysis layer.

use std::ffi::OsStr;

use crate::git::{Conversation, Git, GitError, RunningGit};
use crate::oid::ObjectId;

/// Whether a commit list also names what each commit's diff touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithPaths {
    No,
    /// Each commit's raw diff entries against its first parent, without rename detection.
    Yes,
}

/// Starts `git log -z --topo-order --reverse` of `exclude..include` for reading as it prints.
///
/// Each commit comes as `%H %P`, its raw message and (with [`WithPaths::Yes`]) its raw diff
/// entries.
pub fn log_commits(
    git: &Git,
    exclude: ObjectId,
    include: ObjectId,
    paths: WithPaths,
) -> Result<RunningGit, GitError> {
    let range = format!("{exclude}..{include}");
    let mut args = vec!["-c", "log.showRoot=true", "log", "-z", "--topo-order", "--reverse"];
    args.extend(LOG_FORMAT);
    if paths == WithPaths::Yes {
        args.extend(LOG_PATHS);
    }
    args.extend([range.as_str(), "--"]);
    git.stream(&args, Vec::new())
}

/// How [`log_commits`] prints each commit.
const LOG_FORMAT: &[&str] = &["--encoding=UTF-8", "--no-show-signature", "--format=%H %P%n%B"];

/// How [`log_commits`] prints what each commit touches. Submodules as the patch processes
/// see them (`diff.ignoreSubmodules` and a `.gitmodules` `ignore` would hide their changes
/// here and not there).
const LOG_PATHS: &[&str] = &[
    "--raw",
    "--no-abbrev",
    "--no-renames",
    "--diff-merges=off",
    "--no-relative",
    "--ignore-submodules=none",
];

/// Starts `git log --no-walk=unsorted --stdin` of `commits`, printing each as
/// [`log_commits`] does with [`WithPaths::Yes`], in the order given.
pub fn log_listed_commits(git: &Git, commits: &[ObjectId]) -> Result<RunningGit, GitError> {
    let mut args = vec!["-c", "log.showRoot=true", "log", "-z", "--no-walk=unsorted"];
    args.extend(LOG_FORMAT);
    args.extend(LOG_PATHS);
    args.extend(["--stdin", "--end-of-options", "--"]);
    let mut input = Vec::with_capacity(commits.len() * 41);
    for commit in commits {
        input.extend_from_slice(commit.to_hex().as_bytes());
        input.push(b'\n');
    }
    git.stream(&args, input)
}

/// Returns what `git merge-base --all A B` prints (nothing for unrelated histories).
pub fn merge_base_all(git: &Git, a: ObjectId, b: ObjectId) -> Result<Vec<u8>, GitError> {
    let (a, b) = (a.to_hex(), b.to_hex());
    let (_, out) = git.output_with_env(&["merge-base", "--all", &a, &b], &[], &[1])?;
    Ok(out)
}

/// Returns the renames git finds between two commits (`diff --raw -z -M --diff-filter=R`).
pub fn diff_renames(git: &Git, from: ObjectId, to: ObjectId) -> Result<Vec<u8>, GitError> {
    let (from, to) = (from.to_hex(), to.to_hex());
    git.output(&["diff", "--raw", "-z", "--no-abbrev", "-M", "--diff-filter=R", &from, &to, "--"])
}

/// Which diff of a merge `git log --merges --raw` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeDiff {
    /// Against the first parent (`--diff-merges=first-parent`).
    FirstParent,
    /// The paths that differ from every parent (`-c`).
    Combined,
}

/// Returns the raw diff of each merge of `exclude..include` (`log --merges --raw -z`).
///
/// `diff` says which diff of a merge; renames are not detected.
pub fn log_merges_raw(
    git: &Git,
    exclude: ObjectId,
    include: ObjectId,
    diff: MergeDiff,
) -> Result<Vec<u8>, GitError> {
    let range = format!("{exclude}..{include}");
    let mode = match diff {
        MergeDiff::FirstParent => "--diff-merges=first-parent",
        MergeDiff::Combined => "-c",
    };
    git.output(&[
        "log",
        "--merges",
        mode,
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "-z",
        "--format=%H",
        &range,
        "--",
    ])
}

/// Returns `git diff --shortstat --find-renames FROM TO` of two trees or commits.
///
/// `env` lets git see objects of a scratch object directory.
pub fn diff_shortstat(
    git: &Git,
    from: ObjectId,
    to: ObjectId,
    env: &[(&str, &OsStr)],
) -> Result<Vec<u8>, GitError> {
    let (from, to) = (from.to_hex(), to.to_hex());
    let args = [
        "diff",
        "--shortstat",
        "--find-renames",
        "--no-ext-diff",
        "--no-textconv",
        from.as_str(),
        to.as_str(),
    ];
    Ok(git.output_with_env(&args, env, &[])?.1)
}

/// The diff settings under which patch-ids are computed: git's defaults, pinned, so the
/// user's configuration (another diff algorithm, no prefixes, external diff drivers, the
/// submodule format, submodules ignored) cannot change a patch-id. With them `git diff-tree -p` prints for a
/// commit what `git show` prints by default (and `git log -p`: byte for byte the same on
/// every non-merge commit between Kolla's and nova's branches, 3,611 commits; `--always`
/// names an empty commit too).
const PATCH_ARGS: &[&str] = &[
    "-c",
    "core.quotePath=true",
    "-c",
    "diff.suppressBlankEmpty=false",
    "-c",
    "diff.interHunkContext=0",
    "-c",
    "diff.renameLimit=1000",
    "diff-tree",
    "--stdin",
    "--root",
    "--always",
    "-p",
    "--format=%x00%H",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--find-renames",
    "--diff-algorithm=myers",
    "--indent-heuristic",
    "-U3",
    "--inter-hunk-context=0",
    "--submodule=short",
    "--ignore-submodules=none",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--no-relative",
    "--no-show-signature",
];

/// Starts `git diff-tree --stdin -p` under the pinned patch settings.
///
/// Each commit id written to it is answered with a NUL, the id and its patch against its
/// first parent.
pub fn diff_tree_patches(git: &Git) -> Result<RunningGit, GitError> {
    git.piped(PATCH_ARGS)
}

/// Where `git merge-tree --write-tree` writes the trees of its merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeObjects {
    /// Into the object directory the environment names, compressed as usual.
    Kept,
    /// Into a scratch object directory whose objects are read back a few times and then
    /// deleted, so compressing them is wasted work (about 15% of a simulation's time on
    /// Kolla): `core.looseCompression=0`.
    Scratch,
}

impl MergeObjects {
    /// Returns the arguments of a `git merge-tree` run. The informational messages ("Auto-
    /// merging X", "CONFLICT (content): ...") are not asked for: nothing reads them (the
    /// status and the conflicted paths say it all), and under `stdbuf -o0` each is several
    /// writes to the pipe, the most of a conversation's own cost. Both kinds turn off
    /// `core.warnAmbiguousRefs`: git otherwise looks up every full object id of every request
    /// as a ref name too, only to warn when one is also a branch or tag name (six lookups
    /// an id, some 16,000 failed file lookups for 443 picks), and the id means the object
    /// either way. `cat-file --batch` and `rev-list --stdin` skip that lookup themselves.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            MergeObjects::Kept => &[
                "-c",
                "core.warnAmbiguousRefs=false",
                "merge-tree",
                "--write-tree",
                "--name-only",
                "-z",
                "--no-messages",
            ],
            MergeObjects::Scratch => &[
                "-c",
                "core.warnAmbiguousRefs=false",
                "-c",
                "core.looseCompression=0",
                "merge-tree",
                "--write-tree",
                "--name-only",
                "-z",
                "--no-messages",
            ],
        }
    }
}

/// Starts one `git merge-tree --stdin` that answers merge requests one at a time.
///
/// Requests are `BASE -- OURS THEIRS` lines; `None` where answers cannot be read one by one
/// (see [`Git::converse`]).
pub fn merge_tree_session(
    git: &Git,
    env: &[(&str, &OsStr)],
    objects: MergeObjects,
    work_tree: Option<&std::path::Path>,
) -> Result<Option<Conversation>, GitError> {
    let mut args = objects.args().to_vec();
    args.push("--stdin");
    git.converse_in(&args, env, work_tree)
}

/// How one `git merge-tree` ended: whether the merge was clean, its output, and its argv for
/// error messages.
#[derive(Debug, Clone)]
pub struct MergeTreeOutput {
    pub clean: bool,
    pub stdout: Vec<u8>,
    pub argv: String,
}

/// Runs one `git merge-tree --merge-base=BASE OURS THEIRS` (exit code 1: conflicts).
///
/// The answer is on stdout either way.
pub fn merge_tree_once(
    git: &Git,
    env: &[(&str, &OsStr)],
    objects: MergeObjects,
    work_tree: Option<&std::path::Path>,
    base: ObjectId,
    ours: ObjectId,
    theirs: ObjectId,
) -> Result<MergeTreeOutput, GitError> {
    let base_arg = format!("--merge-base={base}");
    let (ours, theirs) = (ours.to_hex(), theirs.to_hex());
    let mut args = objects.args().to_vec();
    args.extend([base_arg.as_str(), ours.as_str(), theirs.as_str()]);
    let (code, stdout) = git.output_with_env_in(&args, env, &[1], work_tree)?;
    Ok(MergeTreeOutput { clean: code == 0, stdout, argv: format!("git {}", args.join(" ")) })
}

/// Returns what `git cat-file --batch-check` prints for each `NAME^{commit}`, one line per
/// name in order: `<id> commit <size>`, `<name>^{commit} missing` or
/// `<name>^{commit} ambiguous`. With the `^{commit}` peel git counts only commits (and tags
/// of commits) among the objects an abbreviated name could mean, as `git rev-parse` does.
///
/// The caller passes hex digits only: nothing else may reach git's revision parser.
pub fn peel_to_commits(git: &Git, hex_names: &[&str]) -> Result<Vec<u8>, GitError> {
    let mut input = Vec::new();
    for name in hex_names {
        debug_assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
        input.extend_from_slice(name.as_bytes());
        input.extend_from_slice(b"^{commit}\n");
    }
    git.finished(&["cat-file", "--batch-check"], &input)?.success()
}

/// Returns what `git cat-file --batch-check` prints for each name as given (hex digits
/// only): `<id> <type> <size>`, `<name> missing` or `<name> ambiguous`.
pub fn check_objects(git: &Git, hex_names: &[&str]) -> Result<Vec<u8>, GitError> {
    let mut input = Vec::new();
    for name in hex_names {
        debug_assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
        input.extend_from_slice(name.as_bytes());
        input.push(b'\n');
    }
    git.finished(&["cat-file", "--batch-check"], &input)?.success()
}

/// Returns what `git rev-parse --disambiguate=PREFIX` prints: the full id of every object
/// whose name starts with `prefix` (hex digits only, at least four), one a line.
pub fn disambiguate(git: &Git, prefix: &str) -> Result<Vec<u8>, GitError> {
    debug_assert!(prefix.len() >= 4 && prefix.bytes().all(|b| b.is_ascii_hexdigit()));
    git.output(&["rev-parse", &format!("--disambiguate={prefix}")])
}

/// Packs the objects `ids` (full hex ids, read where `env` says) into `base-<hash>.pack` and
/// its index: `git pack-objects` without deltas, for objects read a few times later, and
/// uncompressed: compressing them costs time on every cold run (a few percent of one on
/// the 600 scenario, within the machine's noise) for a pack 1.6 times smaller, and the
/// cache's size limit already counts the trees uncompressed.
pub fn pack_objects(
    git: &Git,
    env: &[(&str, &OsStr)],
    base: &std::path::Path,
    ids: &[String],
) -> Result<(), GitError> {
    let mut input = Vec::new();
    for id in ids {
        debug_assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        input.extend_from_slice(id.as_bytes());
        input.push(b'\n');
    }
    let base = base.to_string_lossy();
    git.output_with_input_env(
        &[
            "pack-objects",
            "-q",
            "--window=0",
            "--depth=0",
            "--compression=0",
            "--end-of-options",
            &base,
        ],
        env,
        &input,
    )?;
    Ok(())
}

/// Returns the patch of each commit of `commits` against its first parent, under the pinned
/// patch settings of [`diff_tree_patches`], from one `git diff-tree --stdin`: each commit's
/// answer starts with a NUL, its id and a newline (an empty commit's is that line alone).
pub fn patches_of(git: &Git, commits: &[ObjectId]) -> Result<Vec<u8>, GitError> {
    let mut input = Vec::with_capacity(commits.len() * 41);
    for commit in commits {
        input.extend_from_slice(commit.to_hex().as_bytes());
        input.push(b'\n');
    }
    git.output_with_input_env(PATCH_ARGS, &[], &input)
}

/// Returns what `git range-diff --no-color --no-notes` prints comparing the commit
/// `old_tip` (on `old_base`) with the commit `new_tip` (on `new_base`): the difference of
/// their two patches, messages included. `--creation-factor=999` makes git pair the two
/// however different they are, so the answer is always one pair.
pub fn range_diff(
    git: &Git,
    old_base: ObjectId,
    old_tip: ObjectId,
    new_base: ObjectId,
    new_tip: ObjectId,
) -> Result<Vec<u8>, GitError> {
    let old = format!("{old_base}..{old_tip}");
    let new = format!("{new_base}..{new_tip}");
    git.output(&[
        "range-diff",
        "--no-color",
        "--no-notes",
        "--creation-factor=999",
        &old,
        &new,
        "--",
    ])
}

/// Returns what `git rev-list --no-merges --reverse --topo-order [--since=DATE] INCLUDE
/// [^EXCLUDE]` prints: the non-merge commits of the range, oldest first, one id a line.
/// Only ids reach git's revision parser; `since` is a date for git's `--since`, attached
/// to the option so it cannot be read as one.
pub fn rev_list_no_merges(
    git: &Git,
    include: ObjectId,
    exclude: Option<ObjectId>,
    since: Option<&str>,
) -> Result<Vec<u8>, GitError> {
    let since = since.map(|date| format!("--since={date}"));
    let exclude = exclude.map(|e| format!("^{e}"));
    let include = include.to_hex();
    let mut args = vec!["rev-list", "--no-merges", "--reverse", "--topo-order"];
    args.extend(since.as_deref());
    args.extend(["--end-of-options", include.as_str()]);
    args.extend(exclude.as_deref());
    args.push("--");
    git.output(&args)
}

/// Runs `git rev-list --stdin` over `commits` and `^tip`: every commit reachable from one of
/// `commits` but not from `tip`, one id a line, in no order that matters. A commit of
/// `commits` absent from the output is `tip` or one of its ancestors: one walk answers for
/// all of them, where asking commit by commit walks the shared history again each time.
/// Only ids reach git's revision parser, on its standard input.
pub fn rev_list_not_reachable(
    git: &Git,
    commits: &[ObjectId],
    tip: ObjectId,
) -> Result<Vec<u8>, GitError> {
    let mut input = String::with_capacity((commits.len() + 1) * 42);
    for commit in commits {
        input.push_str(&commit.to_hex());
        input.push('\n');
    }
    input.push('^');
    input.push_str(&tip.to_hex());
    input.push('\n');
    git.finished(&["rev-list", "--stdin", "--end-of-options", "--"], input.as_bytes())?.success()
}
