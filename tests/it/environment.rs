//! No variable of the developer's own environment reaches a test's git, nor the demo's: the
//! scenario builder, the test kit and the engine's isolated runner set their own.

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use crate::{git, regraft_process};

/// Sets on `command` variables that each change what a git left to the caller's
/// environment does: another hash, another identity and clock, extra configuration, a
/// per-user attributes file that makes every file binary, other files for the repository.
fn hostile<'c>(command: &'c mut Command, scratch: &Path) -> &'c mut Command {
    let xdg = scratch.join("xdg");
    std::fs::create_dir_all(xdg.join("git")).expect("create the per-user git directory");
    std::fs::write(xdg.join("git/attributes"), "* -diff -merge\n").expect("write attributes");
    command
        .env("GIT_DEFAULT_HASH", "sha256")
        .env("GIT_AUTHOR_NAME", "Someone Else")
        .env("GIT_COMMITTER_DATE", "2001-01-01 00:00:00 +0500")
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", "core.abbrev")
        .env("GIT_CONFIG_VALUE_0", "12")
        .env("GIT_CONFIG_KEY_1", "diff.noprefix")
        .env("GIT_CONFIG_VALUE_1", "true")
        .env("GIT_TEMPLATE_DIR", "/nonexistent")
        .env("GIT_INDEX_FILE", "/nonexistent/index")
        .env("GIT_EDITOR", "false")
        .env("XDG_CONFIG_HOME", &xdg)
        .env("TZ", "Pacific/Kiritimati")
}

#[test]
fn the_demo_builds_a_sha1_sample_when_the_user_defaults_to_sha256() {
    // Regression: with GIT_DEFAULT_HASH=sha256 the demo's `git fast-import` failed ("stream
    // ends early"): the scenario builder's git took the user's default hash.
    let tmp = TempDir::new().expect("temp dir");
    let dir = tmp.path().join("tour");
    let mut demo = regraft_process(tmp.path());
    hostile(&mut demo, tmp.path()).args(["demo", "--dir"]).arg(&dir);
    let out = demo.output().expect("the demo runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("left to bring"));
    assert_eq!(git(&dir, &["rev-parse", "--show-object-format"]), "sha1");
    assert_eq!(git(&dir.join("server.git"), &["rev-parse", "--show-object-format"]), "sha1");
}

#[test]
fn fixtures_and_the_isolated_engine_ignore_the_callers_git_variables() {
    // Regression: 132 of 142 integration tests failed under GIT_DEFAULT_HASH=sha256; the
    // fixtures' git cleared fewer variables than the engine's runner.
    let tmp = TempDir::new().expect("temp dir");
    let tests = [
        "scenario::has_every_awkward_kind_of_change",
        "delta::scenario_patch_ids_and_patch_evidence_match_git",
        "apply::a_clean_backport_builds_the_predicted_branch_and_keeps_authors",
    ];
    let mut child = Command::new(std::env::current_exe().expect("the test binary"));
    hostile(&mut child, tmp.path()).args(tests).args(["--exact", "--test-threads=1"]);
    let out = child.output().expect("the test binary runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("{} passed; 0 failed", tests.len())), "{text}");
}
