//! The git commands that build sample repositories (the scenario, the demo's server and
//! developer clone, the test kit's fixtures), each named for what it does, run in the fixed
//! sample environment ([`Environment::Sample`](super::Environment::Sample)).

use std::cell::Cell;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::{Git, GitError, RunningGit};

/// The object format every sample is made in, whatever `GIT_DEFAULT_HASH` or
/// `init.defaultObjectFormat` say: regraft reads SHA-1 repositories.
const OBJECT_FORMAT: &str = "--object-format=sha1";

/// A sample repository's directory and its clock: each command runs a minute after the one
/// before, so the same commands make the same commit ids.
#[derive(Debug)]
pub struct SampleGit {
    dir: PathBuf,
    clock: Cell<i64>,
}

impl SampleGit {
    /// Returns the commands for the sample in `dir` (which need not exist as a repository
    /// yet), with the clock at `start`.
    pub fn new(dir: &Path, start: i64) -> SampleGit {
        SampleGit { dir: dir.to_path_buf(), clock: Cell::new(start) }
    }

    /// Returns the sample's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Returns the runner for the next command: in the sample's directory, the clock a
    /// minute on.
    pub fn next(&self) -> Git {
        self.clock.set(self.clock.get() + 60);
        Git::sample(&self.dir, self.clock.get())
    }

    fn run(&self, args: &[&OsStr], input: &[u8]) -> Result<Vec<u8>, GitError> {
        self.next().finished_os(args, input)?.success()
    }

    fn run_str(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        self.next().finished(args, b"")?.success()
    }

    /// Makes the directory a SHA-1 repository with a work tree, on `branch` (`git init`).
    pub fn init(&self, branch: &str) -> Result<(), GitError> {
        self.run_str(&["init", "-q", OBJECT_FORMAT, "-b", branch]).map(drop)
    }

    /// Makes the directory a bare SHA-1 repository whose HEAD names `branch`.
    pub fn init_bare(&self, branch: &str) -> Result<(), GitError> {
        self.run_str(&["init", "-q", "--bare", OBJECT_FORMAT, "-b", branch]).map(drop)
    }

    /// Starts `git fast-import` on the repository, reading a stream that ends with `done`;
    /// `get-mark` answers come on its standard output.
    pub fn fast_import(&self) -> Result<RunningGit, GitError> {
        self.next().piped(&["fast-import", "--quiet", "--done"])
    }

    /// Checks out `branch`, discarding whatever the work tree holds.
    pub fn force_checkout(&self, branch: &str) -> Result<(), GitError> {
        self.run_str(&["checkout", "-q", "-f", branch]).map(drop)
    }

    /// Makes `into` a bare clone of the repository at `from`.
    pub fn clone_bare(&self, from: &Path, into: &Path) -> Result<(), GitError> {
        let args = [OsStr::new("clone"), OsStr::new("-q"), OsStr::new("--bare")];
        self.run(&[&args[..], &[from.as_os_str(), into.as_os_str()]].concat(), b"").map(drop)
    }

    /// Makes `into` a clone (with a work tree) of the repository at `url`.
    pub fn clone_from(&self, url: &str, into: &Path) -> Result<(), GitError> {
        let args = [OsStr::new("clone"), OsStr::new("-q"), OsStr::new(url), into.as_os_str()];
        self.run(&args, b"").map(drop)
    }

    /// Points HEAD at `reference` (`git symbolic-ref HEAD`).
    pub fn point_head_at(&self, reference: &str) -> Result<(), GitError> {
        self.run_str(&["symbolic-ref", "HEAD", reference]).map(drop)
    }

    /// Sets `key` to `value` in the repository's own configuration.
    pub fn set_config(&self, key: &str, value: &str) -> Result<(), GitError> {
        self.run_str(&["config", key, value]).map(drop)
    }

    /// Adds the remote `name` at `url`.
    pub fn add_remote(&self, name: &str, url: &str) -> Result<(), GitError> {
        self.run_str(&["remote", "add", name, url]).map(drop)
    }

    /// Fetches everything from `remote`.
    pub fn fetch(&self, remote: &str) -> Result<(), GitError> {
        self.run_str(&["fetch", "-q", remote]).map(drop)
    }

    /// Creates `branch` tracking `upstream` and checks it out.
    pub fn checkout_tracking(&self, branch: &str, upstream: &str) -> Result<(), GitError> {
        self.run_str(&["checkout", "-q", "-b", branch, "--track", upstream]).map(drop)
    }

    /// Stages everything in the work tree and commits it with `message` as it is (any
    /// bytes, no cleanup; an empty change is committed too).
    pub fn commit_everything(&self, message: &[u8]) -> Result<(), GitError> {
        self.run_str(&["add", "-A"])?;
        let commit = ["commit", "-q", "--allow-empty", "--cleanup=verbatim", "-F", "-"];
        self.next().finished(&commit, message)?.success().map(drop)
    }
}
