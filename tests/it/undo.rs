//! `git regraft log` and `git regraft undo` (issue 26, item 12) against real remotes
//! (bare repositories reached by `file://`): git's own `for-each-ref` on the server and in
//! the clone is the oracle of "put back as it was".

use std::path::Path;

use crate::replace::{World, land_commit, regraft, remote, replace_args, run, world};
use crate::{flat, git};

const BRANCH: &str = "refs/heads/stable/liberty";

/// Every ref of a repository with what it points at, as git lists them.
fn refs(dir: &Path) -> String {
    git(dir, &["for-each-ref", "--format=%(refname) %(objectname)"])
}

/// The refs of the developer clone that regraft's operations may touch: its branches and
/// tags (not regraft's own state refs, nor the remote-tracking ones a fetch updates).
fn local_refs(dir: &Path) -> String {
    git(dir, &["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/", "refs/tags/"])
}

fn log_json(dir: &Path) -> Vec<serde_json::Value> {
    let (code, out, err) = crate::run_apart(regraft(dir).args(["log", "--json"]));
    assert_eq!(code, Some(0), "{err}");
    serde_json::from_str(&out).expect("log --json is JSON")
}

fn execute(w: &World, args: &[&str]) -> String {
    let (code, out) = run(regraft(&w.clone).args(args).args(["--execute", "--yes"]));
    assert_eq!(code, Some(0), "{args:?}: {out}");
    out
}

/// Each strategy and the end of life, then `undo`: the dry run changes nothing, and the
/// undo leaves the server's and the clone's refs exactly as git listed them before.
#[test]
fn every_strategy_and_the_end_of_life_are_undone_to_the_refs_they_found() {
    let cases: [&[&str]; 5] = [
        &["--strategy", "merge"],
        &["--strategy", "megapatch"],
        &["--strategy", "recreate"],
        &["--strategy", "reset"],
        &[],
    ];
    for case in cases {
        let w = world(false);
        let (server_before, clone_before) = (refs(&w.server), local_refs(&w.clone));
        if case.is_empty() {
            execute(&w, &["eol", "stable/liberty"]);
        } else {
            let mut args = vec!["replace", "stable/liberty", "--from", "origin/stable/mitaka"];
            args.extend(case);
            execute(&w, &args);
        }
        let (server_after, clone_after) = (refs(&w.server), local_refs(&w.clone));
        assert_ne!(server_after, server_before, "{case:?} changed the server");
        let log = log_json(&w.clone);
        assert_eq!(log.len(), 1, "{case:?}: {log:?}");
        let changed = log[0]["remote_refs"].as_array().expect("remote_refs");
        assert!(changed.iter().any(|c| c["reference"] == BRANCH), "{case:?}: {log:?}");
        // The dry run shows the put-back and changes nothing.
        let (code, shown) = run(regraft(&w.clone).args(["undo"]));
        assert_eq!(code, Some(0), "{shown}");
        assert!(shown.contains("stable/liberty") && shown.contains("dry run"), "{shown}");
        assert_eq!(refs(&w.server), server_after, "{case:?}: a dry run changes nothing");
        assert_eq!(local_refs(&w.clone), clone_after);
        let out = execute(&w, &["undo"]);
        assert_eq!(refs(&w.server), server_before, "{case:?}: the server is as it was\n{out}");
        assert_eq!(local_refs(&w.clone), clone_before, "{case:?}: the clone is as it was");
        let log = log_json(&w.clone);
        assert_eq!(log.len(), 2, "{log:?}");
        assert_eq!(log[0]["undoes"], 1, "{log:?}");
        assert_eq!(log[1]["undone_by"], 2, "{log:?}");
        let (code, out) = run(regraft(&w.clone).args(["log"]));
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("#1 ") && out.contains("(undone by #2)"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
    }
}

/// A colleague's push after the replacement: the undo changes nothing and names the ref.
#[test]
fn a_colleague_s_push_since_makes_the_undo_change_nothing() {
    let w = world(false);
    execute(&w, &replace_args("merge").iter().map(String::as_str).collect::<Vec<_>>());
    let theirs = land_commit(&w, "colleague", "A colleague's fix");
    let (server, clone) = (refs(&w.server), local_refs(&w.clone));
    let (code, out) = run(regraft(&w.clone).args(["undo", "--execute", "--yes"]));
    assert_ne!(code, Some(0), "{out}");
    assert!(flat(&out).contains("refs/heads/stable/liberty is"), "{out}");
    assert!(flat(&out).contains(&theirs.short()), "names what it found: {out}");
    assert_eq!(refs(&w.server), server, "nothing changed on the server");
    assert_eq!(local_refs(&w.clone), clone, "nothing changed here");
    assert_eq!(remote(&w.server, BRANCH), Some(theirs));
    // Nothing is left in progress, and the operation is still there to undo.
    let (code, out) = run(regraft(&w.clone).args(["status"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Nothing in progress"), "{out}");
    assert_eq!(log_json(&w.clone).len(), 1);
}

/// `undo` again goes further back, never undoing an undo; `undo N` of an undo puts the
/// operation back.
#[test]
fn undo_of_an_undo_puts_the_operation_back_and_plain_undo_never_redoes() {
    let w = world(false);
    let before = refs(&w.server);
    execute(&w, &replace_args("recreate").iter().map(String::as_str).collect::<Vec<_>>());
    let replaced = refs(&w.server);
    execute(&w, &["undo"]);
    assert_eq!(refs(&w.server), before);
    let (code, out) = run(regraft(&w.clone).args(["undo"]));
    assert_eq!(code, Some(2), "nothing left to undo: {out}");
    let (code, out) = run(regraft(&w.clone).args(["undo", "1"]));
    assert_eq!(code, Some(2), "already undone: {out}");
    assert!(flat(&out).contains("already undone by #2"), "{out}");
    execute(&w, &["undo", "2"]);
    assert_eq!(refs(&w.server), replaced, "the replacement is back");
    let (code, out) = run(regraft(&w.clone).args(["undo", "9"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(flat(&out).contains("no operation #9"), "{out}");
}

/// A sync is undone as `sync --undo` does: the branch is back where the developer had it.
#[test]
fn a_sync_is_undone_with_its_branch_back_at_its_old_tip() {
    let w = world(false);
    let dev = w.server.parent().expect("parent").join("dev");
    let url = format!("file://{}", w.server.display());
    git(w.server.parent().expect("parent"), &["clone", "-q", &url, dev.to_str().expect("utf-8")]);
    git(&dev, &["checkout", "-q", "-b", "stable/liberty", "origin/stable/liberty"]);
    git(&dev, &["commit", "-q", "--allow-empty", "-m", "My unpushed work"]);
    let mine = git(&dev, &["rev-parse", "stable/liberty"]);
    execute(&w, &replace_args("recreate").iter().map(String::as_str).collect::<Vec<_>>());
    let (code, out) = run(regraft(&dev).args(["sync"]));
    assert_eq!(code, Some(0), "{out}");
    assert_ne!(git(&dev, &["rev-parse", "stable/liberty"]), mine, "synced");
    let log = log_json(&dev);
    assert_eq!(log[0]["kind"], "sync", "{log:?}");
    let (code, out) = run(regraft(&dev).args(["undo"]));
    assert_eq!(code, Some(0), "{out}");
    assert_ne!(git(&dev, &["rev-parse", "stable/liberty"]), mine, "a dry run: {out}");
    // Regression: `--json` printed the human plan before the JSON.
    let out = regraft(&dev).args(["undo", "--json"]).output().expect("regraft runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("only JSON on stdout");
    assert_eq!((shown["kind"].as_str(), shown["id"].as_u64()), (Some("sync"), Some(1)), "{shown}");
    let back = &shown["local_refs"][0];
    assert_eq!(
        (back["reference"].as_str(), back["old"].as_str()),
        (Some("refs/heads/stable/liberty"), Some(mine.as_str())),
        "{shown}"
    );
    let (code, out) = run(regraft(&dev).args(["undo", "--execute", "--yes"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(git(&dev, &["rev-parse", "stable/liberty"]), mine, "{out}");
    assert_eq!(git(&dev, &["status", "--porcelain"]), "", "the work tree follows");
    assert_eq!(log_json(&dev)[0]["undoes"], 1);
}

/// A torn line of the log (a kill during its write) keeps its number, is listed as
/// unreadable, is never undone, and the next operation is logged after it, whole.
#[test]
fn an_unreadable_line_is_listed_kept_and_never_undone() {
    let w = world(false);
    execute(&w, &replace_args("merge").iter().map(String::as_str).collect::<Vec<_>>());
    let path = w.clone.join(".git/regraft/operations.jsonl");
    let mut text = std::fs::read(&path).expect("the log exists");
    text.extend_from_slice(b"{\"id\":2,\"at\":");
    std::fs::write(&path, &text).expect("tear the log");
    execute(&w, &["undo", "1"]);
    let kept = std::fs::read(&path).expect("read");
    assert!(kept.starts_with(&text), "nothing written over");
    let log = log_json(&w.clone);
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[0]["id"], 3);
    assert_eq!(log[0]["undoes"], 1);
    assert_eq!(log[1]["unreadable"]["id"], 2, "{log:?}");
    let (code, out) = run(regraft(&w.clone).args(["log"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(flat(&out).contains("#2 (this line of"), "{out}");
    let (code, out) = run(regraft(&w.clone).args(["undo", "2", "--execute", "--yes"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(flat(&out).contains("#2 cannot be read"), "{out}");
}

/// An undo killed after each of its steps finishes with `undo --continue`, or is dropped
/// with `undo --abort` and can be planned again.
#[test]
fn an_undo_killed_at_every_step_finishes_with_continue() {
    for after in 1..=3 {
        let w = world(false);
        let before = refs(&w.server);
        execute(&w, &replace_args("recreate").iter().map(String::as_str).collect::<Vec<_>>());
        let (code, out) = run(regraft(&w.clone)
            .args(["undo", "--execute", "--yes"])
            .env("REGRAFT_FAULT_AFTER_STEPS", after.to_string()));
        assert_ne!(code, Some(0), "killed after {after} steps: {out}");
        let (code, out) = run(regraft(&w.clone).args(["status"]));
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("undo of #1"), "{out}");
        let (code, out) = run(regraft(&w.clone).args(["undo", "--continue"]));
        assert_eq!(code, Some(0), "{out}");
        assert_eq!(refs(&w.server), before, "after {after}: {out}");
        assert_eq!(log_json(&w.clone)[0]["undoes"], 1);
    }
}
