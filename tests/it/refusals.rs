//! Inputs that used to get the wrong word: unrelated histories, a name that is both a tag
//! and a branch, an empty tag name. git says what each is; so does regraft.

use regraft::analysis::delta::Delta;
use regraft_testkit::Fixture;
use tempfile::TempDir;

/// `main` (A, B) and `other` (X, Y), sharing no commit.
fn unrelated() -> (TempDir, Fixture) {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    f.commit_file("a", "1\n", "A");
    f.commit_file("a", "2\n", "B");
    f.git(&["checkout", "-q", "--orphan", "other"]);
    f.git(&["rm", "-q", "-f", "a"]);
    f.commit_file("b", "x\n", "X");
    f.commit_file("b", "y\n", "Y");
    (tmp, f)
}

// Regression: `compare` on unrelated histories exited 1 with "... is a root commit".
#[test]
fn unrelated_histories_are_refused_as_such_with_exit_2() {
    let (_tmp, f) = unrelated();
    let bases = crate::git_at(f.path(), 0).finished(&["merge-base", "--all", "other", "main"], &[]);
    let bases = bases.expect("git merge-base runs");
    assert!(bases.stdout.is_empty() && !bases.status.success(), "git finds no merge base");
    for args in [
        &["compare", "other", "main"][..],
        &["backport", "--dry-run", "other", "main"],
        &["backport", "--dry-run", "other", "main", "--for", "main"],
        &["backport", "other", "main"],
        &["forecast", "--branch", "other", "main~1..main"],
    ] {
        let out = crate::regraft(f.path()).args(args).output().expect("regraft runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("unrelated histories"), "{args:?}: {stderr}");
        assert!(!stderr.contains("root commit"), "{args:?}: {stderr}");
    }
    assert_eq!(f.git(&["rev-parse", "--abbrev-ref", "HEAD"]), "other", "nothing was started");
    // `delta` and `deps` answer, as `git cherry` does: every commit is on one side only.
    let out = crate::regraft(f.path()).args(["delta", "--json", "other", "main"]).output();
    let out = out.expect("delta runs");
    assert!(out.status.success());
    let d: Delta = serde_json::from_slice(&out.stdout).expect("delta JSON");
    let cherry = f.git(&["cherry", "other", "main"]);
    assert_eq!(d.source_only.len(), cherry.lines().count());
    assert!(d.merge_bases.is_empty());
}

// Regression: with a tag and a branch both named `main`, `delta` used the tag without a
// word, where git warns "refname 'main' is ambiguous".
#[test]
fn a_name_both_tag_and_branch_is_resolved_as_git_does_and_said() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    f.commit_file("a", "1\n", "A");
    f.branch("stable", "main");
    f.commit_file("a", "2\n", "B");
    f.commit_file("a", "3\n", "C");
    f.tag_lightweight("main", "main~1");
    // git's own answer: the tag, with a warning.
    let git_rev = f.git_with_input(&["rev-parse", "main"], None);
    let git_rev = String::from_utf8_lossy(&git_rev).trim().to_string();
    assert_eq!(git_rev, f.rev("refs/tags/main").to_hex());
    for command in ["delta", "deps"] {
        let out = crate::regraft(f.path())
            .args([command, "--json", "stable", "main"])
            .output()
            .expect("regraft runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{command}: {stderr}");
        assert!(
            stderr.contains("`main` is ambiguous: using refs/tags/main")
                && stderr.contains("refs/heads/main"),
            "{command}: {stderr}"
        );
        if command == "delta" {
            let d: Delta = serde_json::from_slice(&out.stdout).expect("delta JSON");
            assert_eq!(d.source.commit.to_hex(), git_rev, "the tag, as git resolves it");
            assert_eq!(d.source_only.len(), 1);
        }
    }
    // verify reads the same names (a range's ends and --source) and says the same; an
    // unknown one gets delta's hint.
    let out = crate::regraft(f.path())
        .args(["verify", "--json", "stable..main", "--source", "refs/heads/main"])
        .output()
        .expect("regraft runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`main` is ambiguous: using refs/tags/main"), "verify: {stderr}");
    let out = crate::regraft(f.path())
        .args(["verify", "stable..main", "--source", "nonesuch"])
        .output()
        .expect("regraft runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "verify: {stderr}");
    assert!(stderr.contains("hint:") && stderr.contains("`git fetch`"), "verify: {stderr}");
    // A full name is not ambiguous and is not warned about.
    let out = crate::regraft(f.path())
        .args(["delta", "--json", "stable", "refs/heads/main"])
        .output()
        .expect("regraft runs");
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("ambiguous"));
    let d: Delta = serde_json::from_slice(&out.stdout).expect("delta JSON");
    assert_eq!(d.source_only.len(), 2);
}

// Regression: `eol --tag=` said "`` is not a valid tag name: it cannot begin or end with
// `/`" (the `/` of `refs/tags/`).
#[test]
fn an_empty_tag_name_is_called_empty() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(&tmp.path().join("work"));
    let remote = tmp.path().join("remote.git");
    Fixture::init_bare(&remote);
    f.commit_file("a", "1\n", "A");
    f.branch("stable/liberty", "main");
    f.git(&["remote", "add", "origin", &remote.display().to_string()]);
    f.git(&["push", "-q", "origin", "main", "stable/liberty"]);
    let out = crate::regraft(f.path())
        .args(["eol", "stable/liberty", "--tag="])
        .output()
        .expect("regraft runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the tag name is empty"), "{stderr}");
    assert!(!stderr.contains("cannot begin or end"), "{stderr}");
    assert_eq!(
        regraft::git::names::check_tag("").map_err(|e| e.to_string()),
        Err("the tag name is empty".to_string())
    );
    assert!(regraft::git::names::check_branch("").is_err());
}
