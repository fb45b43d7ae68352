//! regraft's test kit: real repositories built with the real `git` in a fixed environment,
//! for the tests and benchmarks (never the shipped binary): no user configuration, a fixed
//! clock, UTC.
//!
//! The helpers panic with git's own message when git fails: they build known states, and a
//! failure there is a broken fixture, not a condition to handle.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use regraft::ObjectId;
use regraft::git::Git;
use regraft::git::sample::SampleGit;
pub use regraft::scenario::environment::{EPOCH, change_id};

/// Returns a runner of git in `dir` with the fixed sample environment and `date` as the
/// clock, for the commands whose failure a test reads itself (exit status as the answer,
/// a server to stop later).
pub fn git_at(dir: &Path, date: i64) -> Git {
    Git::sample(dir, date)
}

/// Returns a command for the built executable `program` in `dir`, hermetic as the tests need
/// it: none of the developer's git variables, configuration or per-user git files
/// ([`regraft::git::isolate_environment`]), no colors, a fixed identity for the commits and
/// tags it makes, and none of regraft's trace, fault or credential variables unless a
/// test sets them.
pub fn regraft_command(program: impl AsRef<OsStr>, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    regraft::git::isolate_environment(&mut cmd);
    for (key, _) in std::env::vars_os() {
        if key.as_encoded_bytes().starts_with(b"REGRAFT_") {
            cmd.env_remove(&key);
        }
    }
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .env("GIT_AUTHOR_NAME", "Rel Manager")
        .env("GIT_AUTHOR_EMAIL", "release@example.org")
        .env("GIT_COMMITTER_NAME", "Rel Manager")
        .env("GIT_COMMITTER_EMAIL", "release@example.org");
    cmd
}

/// A repository under construction.
#[derive(Debug)]
pub struct Fixture {
    sample: SampleGit,
}

impl Fixture {
    /// Creates a SHA-1 repository with a work tree in `dir` (created if needed), on branch
    /// `main`.
    pub fn init(dir: &Path) -> Fixture {
        std::fs::create_dir_all(dir).expect("create the fixture directory");
        let fixture = Fixture { sample: SampleGit::new(dir, EPOCH) };
        fixture.sample.init("main").unwrap_or_else(|e| panic!("{}", fixture.failure(&e)));
        fixture
    }

    /// Creates a bare SHA-1 repository in `dir`.
    pub fn init_bare(dir: &Path) -> Fixture {
        std::fs::create_dir_all(dir).expect("create the fixture directory");
        let fixture = Fixture { sample: SampleGit::new(dir, EPOCH) };
        fixture.sample.init_bare("main").unwrap_or_else(|e| panic!("{}", fixture.failure(&e)));
        fixture
    }

    /// Returns a fixture for a repository that already exists in `dir`.
    pub fn open(dir: &Path) -> Fixture {
        Fixture { sample: SampleGit::new(dir, EPOCH + 86_400 * 365) }
    }

    /// Returns the repository's directory (the work tree, or the bare repository).
    pub fn path(&self) -> &Path {
        self.sample.dir()
    }

    fn failure(&self, error: &regraft::git::GitError) -> String {
        format!("in {}: {error}", self.path().display())
    }

    /// Runs git with `args` and returns its trimmed standard output.
    pub fn git<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        let out = self.git_with_input(args, None);
        String::from_utf8_lossy(&out).trim_end().to_string()
    }

    /// Runs git with `args`, feeding `input` to its standard input, and returns its output.
    pub fn git_with_input<S: AsRef<OsStr>>(&self, args: &[S], input: Option<&[u8]>) -> Vec<u8> {
        let args: Vec<&OsStr> = args.iter().map(AsRef::as_ref).collect();
        self.sample
            .next()
            .finished_os(&args, input.unwrap_or_default())
            .and_then(regraft::git::Finished::success)
            .unwrap_or_else(|e| panic!("{}", self.failure(&e)))
    }

    /// Resolves `spec` to a commit id with `git rev-parse`.
    pub fn rev(&self, spec: &str) -> ObjectId {
        let peeled =
            if spec.contains("^{") { spec.to_string() } else { format!("{spec}^{{commit}}") };
        let hex = self.git(&["rev-parse", "--verify", &peeled]);
        ObjectId::from_hex(hex.as_bytes()).expect("rev-parse prints a full id")
    }

    /// Writes `contents` to `path` in the work tree, creating directories.
    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) {
        let full = self.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create directories in the work tree");
        }
        if full.is_symlink() {
            std::fs::remove_file(&full).expect("replace a symlink");
        }
        std::fs::write(full, contents).expect("write a work-tree file");
    }

    /// Replaces `path` (if any) with a symbolic link to `target`.
    pub fn symlink(&self, path: &str, target: &str) {
        let full = self.path().join(path);
        if full.exists() || full.is_symlink() {
            std::fs::remove_file(&full).expect("remove the file a symlink replaces");
        }
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create directories in the work tree");
        }
        std::os::unix::fs::symlink(target, full).expect("create a symlink");
    }

    /// Deletes `path` from the work tree.
    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.path().join(path)).expect("remove a work-tree file");
    }

    /// Moves `from` to `to` in the index and work tree (`git mv`).
    pub fn rename(&self, from: &str, to: &str) {
        if let Some(parent) = self.path().join(to).parent() {
            std::fs::create_dir_all(parent).expect("create the rename's directory");
        }
        self.git(&["mv", from, to]);
    }

    /// Stages everything and commits it with `message`, returning the new commit.
    pub fn commit(&self, message: &str) -> ObjectId {
        self.commit_bytes(message.as_bytes())
    }

    /// Like [`Fixture::commit`], for a message that need not be UTF-8.
    pub fn commit_bytes(&self, message: &[u8]) -> ObjectId {
        self.sample.commit_everything(message).unwrap_or_else(|e| panic!("{}", self.failure(&e)));
        self.rev("HEAD")
    }

    /// Writes one file and commits it.
    pub fn commit_file(&self, path: &str, contents: &str, message: &str) -> ObjectId {
        self.write(path, contents);
        self.commit(message)
    }

    /// Creates branch `name` at `at`.
    pub fn branch(&self, name: &str, at: &str) {
        self.git(&["branch", name, at]);
    }

    /// Checks out `name` (a branch, or any commit for a detached HEAD).
    pub fn checkout(&self, name: &str) {
        self.git(&["checkout", "-q", name]);
    }

    /// Merges `other` into the current branch with a merge commit, returning it.
    pub fn merge(&self, other: &str, message: &str) -> ObjectId {
        self.git(&["merge", "-q", "--no-ff", "-m", message, other]);
        self.rev("HEAD")
    }

    /// Cherry-picks `commit` with `-x`, as a stable-branch backport is made.
    pub fn cherry_pick_x(&self, commit: &str) -> ObjectId {
        self.git(&["cherry-pick", "-x", commit]);
        self.rev("HEAD")
    }

    /// Creates an annotated tag.
    pub fn tag_annotated(&self, name: &str, at: &str, message: &str) {
        self.git(&["tag", "-a", "-m", message, name, at]);
    }

    /// Creates a lightweight tag.
    pub fn tag_lightweight(&self, name: &str, at: &str) {
        self.git(&["tag", name, at]);
    }
}

/// What `git cherry-pick` did with one commit in [`git_pick_loop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitPick {
    /// Picked; HEAD's tree afterwards.
    Clean(ObjectId),
    /// Nothing to pick: the result would be empty (skipped).
    Empty,
    /// Conflicts (aborted).
    Conflict,
}

/// Cherry-picks `commits` one by one with real `git cherry-pick` in a new detached worktree
/// of `repo_dir` at `onto`, skipping empty picks and aborting conflicting ones, and returns
/// what happened to each: the oracle for simulated picks, and the baseline they are
/// measured against. The worktree is removed afterwards.
pub fn git_pick_loop(repo_dir: &Path, onto: &str, commits: &[ObjectId]) -> Vec<GitPick> {
    let parent = tempfile::TempDir::new().expect("a temporary directory");
    let tree_dir = parent.path().join("picks");
    let repo = Fixture::open(repo_dir);
    repo.git(&[
        OsStr::new("worktree"),
        OsStr::new("add"),
        OsStr::new("-q"),
        OsStr::new("--detach"),
        tree_dir.as_os_str(),
        OsStr::new(onto),
    ]);
    let work = Fixture::open(&tree_dir);
    let mut out = Vec::with_capacity(commits.len());
    for commit in commits {
        let hex = commit.to_hex();
        let pick = ["cherry-pick", "--allow-empty-message", "--no-rerere-autoupdate", &hex];
        let picked = git_at(&tree_dir, EPOCH).finished(&pick, b"").expect("git cherry-pick runs");
        if picked.status.success() {
            out.push(GitPick::Clean(work.rev("HEAD^{tree}")));
            continue;
        }
        let unmerged = work.git(&["diff", "--name-only", "--diff-filter=U"]);
        if unmerged.is_empty() {
            work.git(&["cherry-pick", "--skip"]);
            out.push(GitPick::Empty);
        } else {
            work.git(&["cherry-pick", "--abort"]);
            out.push(GitPick::Conflict);
        }
    }
    repo.git(&[
        OsStr::new("worktree"),
        OsStr::new("remove"),
        OsStr::new("--force"),
        tree_dir.as_os_str(),
    ]);
    out
}
