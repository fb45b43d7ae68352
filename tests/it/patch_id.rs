//! Stable patch-ids against `git show <commit> | git patch-id --stable`, on the kinds of
//! change where a hand-made diff most easily drifts from git's.

use regraft::ObjectId;
use regraft::analysis::history;
use regraft_testkit::Fixture;
use tempfile::TempDir;

use crate::{git_patch_id, open};

/// Builds one commit per awkward kind of change and returns them with their names.
fn awkward_commits(f: &Fixture) -> Vec<(&'static str, ObjectId)> {
    let mut commits = Vec::new();
    let long_text: String =
        (0..40).map(|i| format!("line {i} of a file long enough to rename\n")).collect();
    f.write("a.txt", "one\ntwo\nthree\n");
    f.write("src/app.py", &long_text);
    f.write("run.sh", "#!/bin/sh\necho hi\n");
    f.write("config.json", "{\"volumes\": 1}\n");
    f.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\x01\x02binary");
    commits.push(("root with text, binary and script", f.commit("Initial")));
    f.write("a.txt", "one\n2\nthree\n");
    commits.push(("plain edit", f.commit("Edit")));
    f.write("a.txt", "one\n2 \t\nthree\n");
    commits.push(("whitespace-only edit", f.commit("Whitespace")));
    f.write("a.txt", "one\n2 \t\nthree");
    commits.push(("no newline at end of file", f.commit("No newline")));
    f.rename("src/app.py", "lib/app.py");
    commits.push(("pure rename", f.commit("Rename")));
    f.rename("lib/app.py", "lib/application.py");
    f.write("lib/application.py", long_text.replace("line 7 ", "line seven "));
    commits.push(("rename with edit", f.commit("Rename and edit")));
    f.git(&["update-index", "--chmod=+x", "run.sh"]);
    f.git(&["commit", "-q", "-m", "Mode only"]);
    commits.push(("mode change only", f.rev("HEAD")));
    f.git(&["update-index", "--chmod=-x", "run.sh"]);
    f.write("b.txt", "after the mode change\n");
    f.git(&["add", "b.txt"]);
    f.git(&["commit", "-q", "-m", "Mode change and a new file"]);
    commits.push(("mode change then another file", f.rev("HEAD")));
    f.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\x03\x04other binary");
    commits.push(("binary modify", f.commit("Binary")));
    f.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\x03\x04other binary, again");
    f.write("a.txt", "one\n2\nthree\nfour\n");
    commits.push(("binary then text", f.commit("Binary and text")));
    f.symlink("config.json", "etc/config.json");
    commits.push(("symlink replaces file", f.commit("Symlink")));
    f.write("empty.txt", "");
    commits.push(("new empty file", f.commit("Empty file")));
    f.remove("b.txt");
    f.remove("logo.png");
    commits.push(("deletions, one binary", f.commit("Delete")));
    f.write("caf\u{e9}/men\u{fc}.txt", "non-ASCII path\n");
    commits.push(("non-ASCII path", f.commit("Unicode path")));
    commits.push(("empty commit", f.commit("Nothing")));
    // Last: the work tree has no checkout of the submodule for `commit` to add.
    let gitlink = |commit: &str| format!("160000,{commit},vendor/lib");
    f.git(&["update-index", "--add", "--cacheinfo", &gitlink(&"1".repeat(40))]);
    f.git(&["commit", "-q", "-m", "Add a submodule"]);
    commits.push(("submodule added", f.rev("HEAD")));
    f.git(&["update-index", "--cacheinfo", &gitlink(&"2".repeat(40))]);
    f.git(&["commit", "-q", "-m", "Move the submodule"]);
    commits.push(("submodule moved", f.rev("HEAD")));
    commits
}

#[test]
fn patch_ids_equal_git_patch_id_stable() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    let commits = awkward_commits(&f);
    let repo = open(f.path());
    let ids: Vec<ObjectId> = commits.iter().map(|(_, id)| *id).collect();
    for jobs in [1, 3] {
        let ours = history::patch_ids(repo.git(), &ids, jobs).expect("patch-ids");
        for (what, commit) in &commits {
            let expected = git_patch_id(f.path(), *commit);
            let got = ours[commit].map(|p| p.to_hex());
            assert_eq!(got, expected, "{what} ({commit}), jobs={jobs}");
        }
    }
    // git gives the empty commit no patch-id; so must we (checked above), and nothing else.
    let none: Vec<_> =
        commits.iter().filter(|(_, c)| git_patch_id(f.path(), *c).is_none()).collect();
    assert_eq!(none.len(), 1, "only the empty commit lacks a patch-id: {none:?}");
}

#[test]
fn user_diff_settings_do_not_change_patch_ids() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    let commits = awkward_commits(&f);
    let ids: Vec<ObjectId> = commits.iter().map(|(_, id)| *id).collect();
    let before = history::patch_ids(open(f.path()).git(), &ids, 2).expect("patch-ids");
    // Settings a developer might have that change what `git show` prints.
    for (key, value) in [
        ("diff.noprefix", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("diff.algorithm", "histogram"),
        ("diff.renames", "false"),
        ("diff.suppressBlankEmpty", "true"),
        ("diff.context", "1"),
        ("color.ui", "always"),
        ("core.quotePath", "false"),
        ("log.diffMerges", "first-parent"),
        ("diff.submodule", "log"),
        ("diff.ignoreSubmodules", "all"),
        ("log.showRoot", "false"),
    ] {
        f.git(&["config", key, value]);
    }
    let after = history::patch_ids(open(f.path()).git(), &ids, 2).expect("patch-ids");
    assert_eq!(before, after);
}

/// A commit git cannot read is an error that names it, not a patch quietly missing (`git
/// diff-tree --stdin` skips it and exits 0), and nothing hangs.
#[test]
fn a_missing_commit_is_an_error_not_a_hang() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    let commits = awkward_commits(&f);
    let repo = open(f.path());
    let missing = ObjectId::from_hex(b"0123456789abcdef0123456789abcdef01234567").expect("hex");
    // Followed by many readable ones, which still get their patches read.
    let mut ids = vec![missing];
    for _ in 0..200 {
        ids.extend(commits.iter().map(|(_, id)| *id));
    }
    let error = history::patch_ids(repo.git(), &ids, 1).expect_err("a missing commit fails");
    let text = error.to_string();
    assert!(text.contains("diff-tree"), "{text}");
    assert!(text.contains(&missing.to_hex()), "the error names the commit: {text}");
}
