//! Integration tests: real repositories built with the real `git`, and git as the oracle.

mod access;
mod apply;
mod backport;
mod cache_damage;
mod cli;
mod compare;
mod delta;
mod deps;
mod edge_history;
mod environment;
mod escapes;
mod evidence;
mod forecast;
mod forge_backport;
mod forge_faults;
mod forge_files;
mod forge_status;
mod forge_tokens;
mod gerrit;
mod github;
mod gitlab;
mod guide;
mod html;
mod https;
mod layers;
mod lease;
mod merge_cache;
mod messages;
mod missed;
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
mod terminal_width;
mod undo;
mod verify;

use std::path::Path;

use regraft::ObjectId;
use regraft::git::repo::Repo;
use regraft::scenario::{Scenario, ScenarioSpec};
pub use regraft_testkit::{Fixture, git_at};
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
    let fixture = Fixture::open(dir);
    let show = fixture.git_with_input(&["show", &commit.to_hex()], None);
    let out = fixture.git_with_input(&["patch-id", "--stable"], Some(&show));
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

/// Returns the built executable set to run in `dir`, hermetic
/// ([`regraft_testkit::regraft_command`]): none of the developer's git variables or
/// configuration, no colors, a fixed identity for the commits and tags it makes, and none
/// of regraft's own variables unless a test sets them.
pub fn regraft(dir: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(regraft_process(dir))
}

/// The same as [`regraft`], as a process to spawn and leave running (or to hand to a
/// pseudo-terminal).
pub fn regraft_process(dir: &Path) -> std::process::Command {
    regraft_testkit::regraft_command(env!("CARGO_BIN_EXE_git-regraft"), dir)
}

/// Runs the command and returns its exit code (none when killed) and its stdout and
/// stderr together.
pub fn run(cmd: &mut assert_cmd::Command) -> (Option<i32>, String) {
    let out = cmd.output().expect("runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// Runs the command and returns its exit code (none when killed), its stdout and its
/// stderr apart: for JSON on stdout with progress on stderr.
pub fn run_apart(cmd: &mut assert_cmd::Command) -> (Option<i32>, String, String) {
    let out = cmd.output().expect("runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Returns `text` with every run of whitespace made one space: what a wrapped line says,
/// wherever it was wrapped (output keeps to 80 columns).
pub fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses a full hex id printed by git.
pub fn id(hex: &str) -> ObjectId {
    ObjectId::from_hex(hex.trim().as_bytes()).expect("git printed a full id")
}
