//! Integration tests: real repositories built with the real `git`, and git as the oracle.

mod apply;
mod backport;
mod cache_damage;
mod cli;
mod delta;
mod deps;
mod edge_history;
mod gerrit;
mod guide;
mod layers;
mod lease;
mod names;
mod output;
mod patch_id;
mod plan_files;
mod playbook;
mod policy;
mod recovery;
mod refusals;
mod replace;
mod scenario;
mod sync;

use std::path::Path;

use regraft::ObjectId;
use regraft::git::repo::Repo;
use regraft::scenario::{Scenario, ScenarioSpec};
pub use regraft_testkit::{Fixture, git_command};
use tempfile::TempDir;

/// Opens a repository the way commands do, but blind to the developer's git configuration.
pub fn open(path: &Path) -> Repo {
    let mut repo = Repo::discover(path).expect("the fixture is a repository");
    repo.isolate_git_config();
    repo
}

/// Returns what `git show <commit> | git patch-id --stable` prints as the patch-id, or
/// `None` when it prints nothing.
pub fn git_patch_id(dir: &Path, commit: ObjectId) -> Option<String> {
    let show =
        git_command(dir, 0).args(["show", &commit.to_hex()]).output().expect("git show runs");
    assert!(show.status.success(), "git show {commit} failed");
    let fixture = Fixture::open(dir);
    let out = fixture.git_with_input(&["patch-id", "--stable"], Some(&show.stdout));
    String::from_utf8_lossy(&out).split_whitespace().next().map(str::to_string)
}

/// Runs git in `dir` with the fixed environment and returns its trimmed output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    Fixture::open(dir).git(args)
}

/// Builds the small sample scenario in a new temporary directory.
pub fn small_scenario() -> (TempDir, Scenario) {
    let tmp = TempDir::new().expect("a temporary directory");
    let scenario = regraft::scenario::build(&tmp.path().join("repo"), &ScenarioSpec::small())
        .expect("the scenario builds");
    (tmp, scenario)
}

/// Returns the built executable set to run in `dir`: blind to the developer's git
/// configuration, no colors, a fixed identity for the commits and tags it makes, and none
/// of regraft's trace, fault or credential variables unless a test sets them.
pub fn regraft(dir: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(regraft_process(dir))
}

/// The same as [`regraft`], as a process to spawn and leave running.
pub fn regraft_process(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_git-regraft"));
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .env("GIT_AUTHOR_NAME", "Rel Manager")
        .env("GIT_AUTHOR_EMAIL", "release@example.org")
        .env("GIT_COMMITTER_NAME", "Rel Manager")
        .env("GIT_COMMITTER_EMAIL", "release@example.org");
    for var in [
        "GIT_DIR",
        "REGRAFT_TRACE",
        "REGRAFT_FAULT_AFTER_STEPS",
        "REGRAFT_FAULT_AFTER_PICKS",
        "REGRAFT_GERRIT_USER",
        "REGRAFT_GERRIT_PASSWORD",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs the command and returns its exit code (none when killed) and its stdout and
/// stderr together.
pub fn run(cmd: &mut assert_cmd::Command) -> (Option<i32>, String) {
    let out = cmd.output().expect("runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// Parses a full hex id printed by git.
pub fn id(hex: &str) -> ObjectId {
    ObjectId::from_hex(hex.trim().as_bytes()).expect("git printed a full id")
}
