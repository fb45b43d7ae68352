//! `replace` and `eol` against real remotes: bare repositories reached by `file://` and
//! served by `git daemon` on 127.0.0.1, one refusing non-fast-forward pushes as review
//! servers do; runs killed at every step boundary; a remote that moves under a plan.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use regraft::ObjectId;
use regraft::git::RunningGit;
use regraft_testkit::git_at;
use tempfile::TempDir;

use crate::{git, id, small_scenario};
pub(crate) use crate::{regraft, run};

/// A "server" (bare repository with the scenario's branches) and a developer clone of it.
pub(crate) struct World {
    _tmp: TempDir,
    pub server: PathBuf,
    pub clone: PathBuf,
    pub old: ObjectId,
    pub source: ObjectId,
}

pub(crate) fn world(refuse_non_fast_forward: bool) -> World {
    let (tmp, s) = small_scenario();
    let server = tmp.path().join("server.git");
    let clone = tmp.path().join("clone");
    git(
        tmp.path(),
        &["clone", "-q", "--bare", s.dir.to_str().expect("utf-8"), server.to_str().expect("utf-8")],
    );
    // A review server's HEAD is its trunk; git refuses to delete the branch HEAD names.
    git(&server, &["symbolic-ref", "HEAD", "refs/heads/master"]);
    if refuse_non_fast_forward {
        git(&server, &["config", "receive.denyNonFastForwards", "true"]);
    }
    let url = format!("file://{}", server.display());
    git(tmp.path(), &["clone", "-q", &url, clone.to_str().expect("utf-8")]);
    let old = id(&git(&server, &["rev-parse", "refs/heads/stable/liberty"]));
    let source = id(&git(&server, &["rev-parse", "refs/heads/stable/mitaka"]));
    std::mem::forget(s);
    World { _tmp: tmp, server, clone, old, source }
}

fn remote_refs(server: &Path) -> String {
    git(server, &["for-each-ref", "--format=%(refname) %(objectname)"])
}

pub(crate) fn remote(server: &Path, reference: &str) -> Option<ObjectId> {
    let out = git_at(server, 0)
        .finished(&["rev-parse", "--verify", "-q", reference], b"")
        .expect("git runs");
    ObjectId::from_hex(String::from_utf8_lossy(&out.stdout).trim().as_bytes())
}

const BRANCH: &str = "refs/heads/stable/liberty";

/// Someone else lands a commit on the server's stable/liberty from a clone of their own
/// (`name`, next to the server); returns the commit.
pub(crate) fn land_commit(w: &World, name: &str, subject: &str) -> ObjectId {
    let root = w.server.parent().expect("the server has a parent");
    let other = root.join(name);
    git(
        root,
        &["clone", "-q", &format!("file://{}", w.server.display()), other.to_str().expect("utf-8")],
    );
    git(&other, &["checkout", "-q", "stable/liberty"]);
    git(&other, &["commit", "-q", "--allow-empty", "-m", subject]);
    git(&other, &["push", "-q", "origin", "stable/liberty"]);
    id(&git(&other, &["rev-parse", "HEAD"]))
}

/// The argv of a replace of stable/liberty by origin/stable/mitaka with `strategy`.
pub(crate) fn replace_args(strategy: &str) -> Vec<String> {
    ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", strategy]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn every_strategy_ends_with_the_refs_it_promises_and_a_dry_run_changes_nothing() {
    for strategy in ["megapatch", "merge", "recreate", "reset"] {
        let refuse = strategy != "reset";
        let w = world(refuse);
        let args =
            ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", strategy];
        let before = remote_refs(&w.server);
        let local_tags = git(&w.clone, &["tag"]);
        let (code, out) = run(regraft(&w.clone).args(args));
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("$ git push") && out.contains("--force-with-lease="), "{out}");
        assert_eq!(remote_refs(&w.server), before, "{strategy}: the dry run changed the remote");
        assert_eq!(git(&w.clone, &["tag"]), local_tags, "{strategy}: the dry run made a tag");

        let (code, out) = run(regraft(&w.clone).args(args).args(["--execute", "--yes"]));
        assert_eq!(code, Some(0), "{strategy}: {out}");
        assert_eq!(
            remote(&w.server, "liberty-early-demise^{commit}"),
            Some(w.old),
            "{strategy}: tag keeps the old tip"
        );
        assert_eq!(git(&w.server, &["cat-file", "-t", "liberty-early-demise"]), "tag", "annotated");
        let tip = remote(&w.server, BRANCH).expect("branch exists");
        let source_tree = git(&w.server, &["rev-parse", &format!("{}^{{tree}}", w.source)]);
        assert_eq!(
            git(&w.server, &["rev-parse", &format!("{tip}^{{tree}}")]),
            source_tree,
            "{strategy}: SOURCE's tree"
        );
        let parents = git(&w.server, &["rev-list", "--parents", "-n1", &tip.to_hex()]);
        match strategy {
            "megapatch" => assert_eq!(parents, format!("{tip} {}", w.old)),
            "merge" => assert_eq!(parents, format!("{tip} {} {}", w.old, w.source)),
            _ => assert_eq!(tip, w.source),
        }
        assert!(!w.clone.join(".git/regraft/journal.json").exists());
    }
}

#[test]
fn reset_is_refused_plainly_by_a_server_that_denies_non_fast_forwards() {
    let w = world(true);
    let (code, out) = run(regraft(&w.clone).args([
        "replace",
        "stable/liberty",
        "--from",
        "origin/stable/mitaka",
        "--strategy",
        "reset",
        "--execute",
        "--yes",
    ]));
    assert_ne!(code, Some(0));
    assert!(out.contains("non-fast-forward") || out.contains("rejected"), "{out}");
    assert!(out.contains("--strategy recreate"), "suggests recreate: {out}");
    assert!(out.contains("replace --abort"), "after aborting this one: {out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old), "the branch did not move");
    assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old), "the tag is there");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn killed_at_every_step_a_run_continues_or_aborts_and_the_old_tip_stays_reachable() {
    // Steps: fetch, tag, push-tag, then the strategy's own, then verify.
    for (strategy, steps, refuse) in
        [("recreate", 6, true), ("merge", 6, true), ("megapatch", 6, true), ("reset", 5, false)]
    {
        for after in 1..steps {
            for finish in ["--continue", "--abort"] {
                let w = world(refuse);
                let args = [
                    "replace",
                    "stable/liberty",
                    "--from",
                    "origin/stable/mitaka",
                    "--strategy",
                    strategy,
                    "--execute",
                    "--yes",
                ];
                let (code, out) = run(regraft(&w.clone)
                    .env("REGRAFT_FAULT_AFTER_STEPS", after.to_string())
                    .args(args));
                assert_eq!(code, None, "{strategy} killed after step {after}: {out}");
                if after >= 3 {
                    assert_eq!(
                        remote(&w.server, "liberty-early-demise^{commit}"),
                        Some(w.old),
                        "{strategy} after step {after}"
                    );
                }
                let (code, out) = run(regraft(&w.clone).args(["replace", finish]));
                assert_eq!(code, Some(0), "{strategy} {finish} after step {after}: {out}");
                let tip = remote(&w.server, BRANCH);
                if finish == "--abort" {
                    assert_eq!(tip, Some(w.old), "{strategy} --abort after step {after}");
                } else {
                    let tree = git(
                        &w.server,
                        &["rev-parse", &format!("{}^{{tree}}", tip.expect("branch"))],
                    );
                    assert_eq!(
                        tree,
                        git(&w.server, &["rev-parse", &format!("{}^{{tree}}", w.source)]),
                        "{strategy} after step {after}"
                    );
                    assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old));
                }
            }
        }
    }
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn killed_at_every_step_on_a_strict_server_a_run_continues_or_its_abort_keeps_the_journal() {
    // Issue 24 (item 11): the kill loops never met a server that denies non-fast-forward
    // updates and deletes (the `git daemon` remote of the brief). The strategies that only
    // move the branch forward run there; an abort then restores, or exits non-zero keeping
    // the journal with the branch as this operation left it.
    let (mut restored, mut kept) = (0, 0);
    for strategy in ["merge", "megapatch"] {
        for after in 1..6 {
            for finish in ["--continue", "--abort"] {
                let w = world(true);
                git(&w.server, &["config", "receive.denyDeletes", "true"]);
                let (code, out) = run(regraft(&w.clone)
                    .env("REGRAFT_FAULT_AFTER_STEPS", after.to_string())
                    .args(replace_args(strategy))
                    .args(["--execute", "--yes"]));
                assert_eq!(code, None, "{strategy} killed after step {after}: {out}");
                let left = remote(&w.server, BRANCH);
                let (code, out) = run(regraft(&w.clone).args(["replace", finish]));
                let journal = w.clone.join(".git/regraft/journal.json");
                let tip = remote(&w.server, BRANCH);
                let at = format!("{strategy} {finish} after step {after}: {out}");
                if finish == "--continue" {
                    assert_eq!(code, Some(0), "{at}");
                    let tree =
                        |c: ObjectId| git(&w.server, &["rev-parse", &format!("{c}^{{tree}}")]);
                    assert_eq!(tree(tip.expect("branch")), tree(w.source), "{at}");
                    assert!(!journal.exists(), "{at}");
                } else if code == Some(0) {
                    assert_eq!(tip, Some(w.old), "{at}");
                    assert!(!journal.exists(), "{at}");
                    restored += 1;
                } else {
                    kept += 1;
                    assert_eq!(code, Some(2), "{at}");
                    assert!(out.contains("could not be put back"), "{at}");
                    assert_eq!(tip, left, "nothing changed: {at}");
                    assert_ne!(tip, Some(w.old), "{at}");
                    assert!(journal.exists(), "the journal is kept: {at}");
                }
                // Once its tag was pushed, the old tip stays reachable on the server.
                if finish == "--continue" || after >= 3 {
                    assert_eq!(
                        remote(&w.server, "liberty-early-demise^{commit}"),
                        Some(w.old),
                        "{at}"
                    );
                }
            }
        }
    }
    assert!(restored > 0 && kept > 0, "both ways out were met: {restored} {kept}");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn a_remote_that_moved_stops_the_run_with_nothing_changed() {
    let w = world(true);
    let args = [
        "replace",
        "stable/liberty",
        "--from",
        "origin/stable/mitaka",
        "--strategy",
        "recreate",
        "--execute",
        "--yes",
    ];
    let (code, _) = run(regraft(&w.clone).env("REGRAFT_FAULT_AFTER_STEPS", "3").args(args));
    assert_eq!(code, None);
    // Someone lands a change on the branch meanwhile.
    let other = w.clone.parent().expect("parent").join("other");
    git(
        w.clone.parent().expect("parent"),
        &["clone", "-q", &format!("file://{}", w.server.display()), other.to_str().expect("utf-8")],
    );
    git(&other, &["checkout", "-q", "stable/liberty"]);
    std::fs::write(other.join("late.txt"), "landed meanwhile\n").expect("write");
    git(&other, &["add", "late.txt"]);
    git(&other, &["commit", "-q", "-m", "Late change"]);
    git(&other, &["push", "-q", "origin", "stable/liberty"]);
    let moved = remote(&w.server, BRANCH).expect("branch");
    assert_ne!(moved, w.old);
    let (code, out) = run(regraft(&w.clone).args(["replace", "--continue"]));
    assert_eq!(code, Some(2), "{out}");
    // Lines are wrapped to 80 columns: the words are what counts.
    let out = crate::flat(&out);
    assert!(out.contains("does not hold") && out.contains("nothing was changed"), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(moved), "the late change is still there");
}

#[test]
fn bad_input_changes_nothing() {
    let w = world(true);
    let before = remote_refs(&w.server);
    let cases: [(&[&str], &str); 4] = [
        (
            &["replace", "stable/newton", "--from", "origin/stable/mitaka", "--strategy", "merge"],
            "has no branch stable/newton",
        ),
        (
            &["replace", "stable/liberty", "--from", "nowhere", "--strategy", "merge"],
            "unknown revision `nowhere`",
        ),
        (
            &[
                "replace",
                "feature/x",
                "--from",
                "origin/stable/mitaka",
                "--strategy",
                "merge",
                "--remote",
                "origin",
            ],
            "has no branch feature/x",
        ),
        (&["eol", "stable/liberty", "--tag", "1.0.0"], "tag 1.0.0 already exists"),
    ];
    for (args, message) in cases {
        let (code, out) = run(regraft(&w.clone).args(args).args(["--execute", "--yes"]));
        assert_eq!(code, Some(2), "{args:?}: {out}");
        assert!(out.contains(message), "{args:?}: {out}");
    }
    // A held lock: recovery::a_lock_held_by_a_running_regraft_refuses.
    assert_eq!(remote_refs(&w.server), before);
}

/// A `git daemon` serving a directory on 127.0.0.1, stopped when dropped.
struct Daemon {
    process: Option<RunningGit>,
    /// Where `git-daemon` writes its own pid: `git daemon` runs it as a child, which
    /// stopping `git` alone would leave running (and holding git's stderr open).
    pid_file: PathBuf,
    port: u16,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            let _ = std::process::Command::new("kill").arg(pid.trim()).status();
        }
        if let Some(process) = self.process.take() {
            process.abandon();
        }
    }
}

fn daemon(base: &Path) -> Daemon {
    let port =
        TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
    let pid_file = base.join("daemon.pid");
    let process = git_at(base, 0)
        .piped(&[
            "daemon",
            &format!("--pid-file={}", pid_file.display()),
            "--reuseaddr",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            "--export-all",
            "--enable=receive-pack",
            &format!("--base-path={}", base.display()),
        ])
        .expect("git daemon starts");
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Daemon { process: Some(process), pid_file, port }
}

#[test]
fn merge_and_eol_over_git_daemon() {
    let w = world(true);
    let base = w.server.parent().expect("parent").to_path_buf();
    let d = daemon(&base);
    let url = format!("git://127.0.0.1:{}/server.git", d.port);
    git(&w.clone, &["remote", "add", "review", &url]);
    git(&w.clone, &["fetch", "-q", "review"]);
    let (code, out) = run(regraft(&w.clone).args([
        "replace",
        "stable/liberty",
        "--from",
        "review/stable/mitaka",
        "--strategy",
        "merge",
        "--remote",
        "review",
        "--execute",
        "--yes",
    ]));
    assert_eq!(code, Some(0), "{out}");
    let tip = remote(&w.server, BRANCH).expect("branch");
    assert_eq!(
        git(&w.server, &["rev-list", "--parents", "-n1", &tip.to_hex()]),
        format!("{tip} {} {}", w.old, w.source)
    );
    let (code, out) = run(regraft(&w.clone).args([
        "eol",
        "stable/mitaka",
        "--remote",
        "review",
        "--execute",
        "--yes",
    ]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, "refs/heads/stable/mitaka"), None);
    assert_eq!(remote(&w.server, "mitaka-eol^{commit}"), Some(w.source));
}

#[test]
fn followups_are_picked_on_top_and_pushed_in_the_same_plan() {
    for strategy in ["recreate", "merge"] {
        let w = world(true);
        git(&w.clone, &["checkout", "-q", "-b", "pointers", "origin/stable/mitaka"]);
        std::fs::write(w.clone.join(".gitreview"), "[gerrit]\ndefaultbranch=stable/liberty\n")
            .expect("write");
        git(&w.clone, &["add", ".gitreview"]);
        git(
            &w.clone,
            &[
                "commit",
                "-q",
                "-m",
                "Point .gitreview at stable/liberty\n\nChange-Id: I1111111111111111111111111111111111111111",
            ],
        );
        let followup = id(&git(&w.clone, &["rev-parse", "HEAD"]));
        git(&w.clone, &["checkout", "-q", "master"]);
        let (code, out) = run(regraft(&w.clone).args([
            "replace",
            "stable/liberty",
            "--from",
            "origin/stable/mitaka",
            "--strategy",
            strategy,
            "--followup",
            "pointers",
            "--execute",
            "--yes",
        ]));
        assert_eq!(code, Some(0), "{strategy}: {out}");
        let tip = remote(&w.server, BRANCH).expect("branch");
        let body = git(&w.server, &["log", "-1", "--format=%B", &tip.to_hex()]);
        // The Change-Id stays in the footer, the pick line after it as git's -x puts it.
        assert!(
            body.trim_end().ends_with(&format!(
                "\nChange-Id: I1111111111111111111111111111111111111111\n\
                 (cherry picked from commit {followup})"
            )),
            "{body}"
        );
        assert_eq!(
            git(&w.server, &["show", &format!("{tip}:.gitreview")]),
            "[gerrit]\ndefaultbranch=stable/liberty"
        );
        // Below the follow-up, the strategy's own tip with SOURCE's tree.
        let below = git(&w.server, &["rev-parse", &format!("{tip}^^{{tree}}")]);
        assert_eq!(below, git(&w.server, &["rev-parse", &format!("{}^{{tree}}", w.source)]));
        assert_eq!(
            git(&w.server, &["log", "-1", "--format=%an", &tip.to_hex()]),
            "Ada Author",
            "author kept"
        );
    }
}

#[test]
fn the_notice_gives_commands_that_work() {
    let w = world(true);
    let (code, out) = run(regraft(&w.clone).args(["notice"]));
    assert_eq!(code, Some(2), "nothing to announce yet: {out}");
    // A developer with local work on the branch, cloned before the replacement.
    let dev = w.clone.parent().expect("parent").join("dev");
    git(
        w.clone.parent().expect("parent"),
        &["clone", "-q", &format!("file://{}", w.server.display()), dev.to_str().expect("utf-8")],
    );
    git(&dev, &["checkout", "-q", "-b", "work", "origin/stable/liberty"]);
    std::fs::write(dev.join("mine.txt"), "mine\n").expect("write");
    git(&dev, &["add", "mine.txt"]);
    git(&dev, &["commit", "-q", "-m", "My work"]);
    let (code, out) = run(regraft(&w.clone).args([
        "replace",
        "stable/liberty",
        "--from",
        "origin/stable/mitaka",
        "--strategy",
        "recreate",
        "--execute",
        "--yes",
    ]));
    assert_eq!(code, Some(0), "{out}");
    let (code, notice) =
        run(regraft(&w.clone).args(["notice", "--why", "data containers lost data"]));
    assert_eq!(code, Some(0), "{notice}");
    assert!(
        notice.contains("liberty-early-demise") && notice.contains("git regraft sync --all"),
        "{notice}"
    );
    assert!(notice.lines().all(|l| l.chars().count() <= 80), "fits a mail: {notice}");
    // Ordinary names stay unquoted, as a reader expects them.
    assert!(
        notice.contains("git rebase --onto origin/stable/liberty liberty-early-demise <branch>")
            && notice
                .contains("git checkout stable/liberty && git reset --hard origin/stable/liberty")
            && notice.contains("git log liberty-early-demise"),
        "{notice}"
    );
    // Run the plain git commands the notice gives, as a developer without regraft would.
    let commands: Vec<String> = notice
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("git fetch") || l.starts_with("git rebase"))
        .map(|l| l.replace("<branch>", "work"))
        .collect();
    assert_eq!(commands.len(), 2, "{notice}");
    for command in &commands {
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        git(&dev, &words);
    }
    let new = remote(&w.server, BRANCH).expect("branch");
    assert_eq!(git(&dev, &["rev-parse", "work^"]), new.to_hex(), "the work sits on the new branch");
    assert_eq!(git(&dev, &["log", "-1", "--format=%s", "work"]), "My work");
    let (_, md) = run(regraft(&w.clone).args(["notice", "--format", "markdown"]));
    assert!(md.starts_with("## stable/liberty was replaced") && md.contains("```sh"), "{md}");
}

/// Runs a notice's commands in `dir` as a developer pastes them, each line with `sh -c`,
/// with `git` the real one; returns what each printed.
fn paste_for_real(dir: &Path, notice: &str) -> Vec<(bool, String)> {
    notice_commands(notice)
        .into_iter()
        .filter(|c| !c.starts_with("git regraft") && !c.starts_with('#') && !c.contains('<'))
        .map(|command| {
            let mut sh = std::process::Command::new("sh");
            regraft::git::isolate_environment(&mut sh);
            let out = sh
                .args(["-c", &command])
                .current_dir(dir)
                .env("GIT_AUTHOR_NAME", "dev")
                .env("GIT_AUTHOR_EMAIL", "dev@example.org")
                .env("GIT_COMMITTER_NAME", "dev")
                .env("GIT_COMMITTER_EMAIL", "dev@example.org")
                .output()
                .expect("sh runs");
            let text = format!(
                "{command}\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        })
        .collect()
}

/// A developer clone with its own copy of stable/liberty, cloned before the surgery;
/// with `work`, a commit not yet pushed on it.
fn developer(w: &World, name: &str, work: bool) -> std::path::PathBuf {
    let dev = w.clone.parent().expect("parent").join(name);
    git(
        w.clone.parent().expect("parent"),
        &["clone", "-q", &format!("file://{}", w.server.display()), dev.to_str().expect("utf-8")],
    );
    git(&dev, &["checkout", "-q", "-b", "stable/liberty", "origin/stable/liberty"]);
    if work {
        std::fs::write(dev.join("mine.txt"), "mine\n").expect("write");
        git(&dev, &["add", "mine.txt"]);
        git(&dev, &["commit", "-q", "-m", "My unpushed work"]);
    }
    git(&dev, &["checkout", "-q", "--detach"]);
    dev
}

/// Issue 26, item 11: the end-of-life notice told everyone `git branch -D`, which deletes
/// a copy holding work not yet pushed. Its commands, run for real, delete a copy the tag
/// holds whole and leave one with unpushed work.
#[test]
fn the_end_of_life_notice_deletes_a_copy_only_when_it_holds_no_unpushed_work() {
    let w = world(true);
    let (idle, busy) = (developer(&w, "idle", false), developer(&w, "busy", true));
    let mine = git(&busy, &["rev-parse", "stable/liberty"]);
    let (code, out) = run(regraft(&w.clone).args(["eol", "stable/liberty", "--execute", "--yes"]));
    assert_eq!(code, Some(0), "{out}");
    let (code, notice) = run(regraft(&w.clone).args(["notice"]));
    assert_eq!(code, Some(0), "{notice}");
    assert!(notice.lines().all(|l| l.chars().count() <= 80), "fits a mail: {notice}");
    let ran = paste_for_real(&idle, &notice);
    assert!(ran.iter().all(|(ok, _)| *ok), "{ran:?}");
    assert_eq!(git(&idle, &["branch", "--list", "stable/liberty"]), "", "deleted: {ran:?}");
    paste_for_real(&busy, &notice);
    assert_eq!(git(&busy, &["rev-parse", "stable/liberty"]), mine, "the unpushed work is kept");
}

/// Issue 26, item 6 (the notice's part): after a fast-forward replacement the notice's
/// `git pull --ff-only` failed for anyone with local commits; its commands now carry them
/// onto the new tip.
#[test]
fn the_fast_forward_notice_carries_unpushed_commits_onto_the_new_tip() {
    let w = world(true);
    let busy = developer(&w, "busy", true);
    let args = ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy"];
    let (code, out) = run(regraft(&w.clone).args(args).args(["merge", "--execute", "--yes"]));
    assert_eq!(code, Some(0), "{out}");
    let (code, notice) = run(regraft(&w.clone).args(["notice"]));
    assert_eq!(code, Some(0), "{notice}");
    let ran = paste_for_real(&busy, &notice);
    assert!(ran.iter().all(|(ok, _)| *ok), "{ran:?}");
    let new = remote(&w.server, BRANCH).expect("branch");
    assert_eq!(git(&busy, &["rev-parse", "stable/liberty^"]), new.to_hex(), "{ran:?}");
    assert_eq!(git(&busy, &["log", "-1", "--format=%s", "stable/liberty"]), "My unpushed work");
}

#[test]
fn the_backport_strategy_pushes_a_backport_branch_for_review() {
    let w = world(true);
    let fix = git(
        &w.clone,
        &[
            "log",
            "-1",
            "--format=%H",
            "--grep=Fix data containers losing data",
            "origin/stable/mitaka",
        ],
    );
    let (code, out) = run(regraft(&w.clone).args([
        "backport",
        "origin/stable/liberty",
        "origin/stable/mitaka",
        "--for",
        &fix,
        "--branch",
        "bp",
    ]));
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(regraft(&w.clone).args([
        "replace",
        "stable/liberty",
        "--from",
        "bp",
        "--strategy",
        "backport",
    ]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(":refs/for/stable/liberty"), "Gerrit's review ref by default: {out}");
    let (code, out) = run(regraft(&w.clone).args([
        "replace",
        "stable/liberty",
        "--from",
        "bp",
        "--strategy",
        "backport",
        "--review-ref",
        "refs/heads/review/liberty",
        "--execute",
        "--yes",
    ]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        remote(&w.server, "refs/heads/review/liberty"),
        Some(id(&git(&w.clone, &["rev-parse", "bp"])))
    );
    assert_eq!(
        remote(&w.server, BRANCH),
        Some(w.old),
        "the branch moves as reviews merge, not now"
    );
    // Issue 26, item 7: nothing is replaced, so no tag is pushed.
    assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), None, "{out}");
    assert!(!out.contains("push tag"), "{out}");
    let (code, out) = run(regraft(&w.clone).args([
        "replace",
        "stable/liberty",
        "--from",
        "origin/stable/mitaka",
        "--strategy",
        "backport",
    ]));
    assert_eq!(code, Some(2), "{out}");
    // Lines are wrapped to 80 columns: the words are what counts.
    let out = crate::flat(&out);
    assert!(out.contains("is not built on the tip of stable/liberty"), "{out}");
}

/// Returns the shell command lines a notice prints: the indented code of the text format or
/// the ```sh blocks of Markdown, and the `git log` it names in its last line.
fn notice_commands(notice: &str) -> Vec<String> {
    let markdown = notice.starts_with("## ");
    let mut commands: Vec<String> = Vec::new();
    let mut in_block = false;
    for line in notice.lines() {
        if markdown && line.starts_with("```") {
            in_block = !in_block;
        } else if (markdown && in_block) || (!markdown && line.starts_with("    ")) {
            // A line ending in `&&` goes on on the next, as the shell reads it.
            match commands.last_mut() {
                Some(last) if last.ends_with("&&") => {
                    last.push(' ');
                    last.push_str(line.trim());
                }
                _ => commands.push(line.trim().to_string()),
            }
        } else if let Some((_, log)) = line.split_once(": git log ") {
            commands.push(format!("git log {log}"));
        }
    }
    commands
}

/// Runs each line with `sh -c` in a scratch directory where `git` is a stub that records its
/// arguments, and returns the argument lists it was called with.
fn pasted(notice: &str) -> Vec<Vec<String>> {
    let scratch = TempDir::new().expect("a temporary directory");
    let bin = scratch.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let log = scratch.path().join("argv.log");
    let stub = bin.join("git");
    std::fs::write(&stub, "#!/bin/sh\nfor a in \"$@\"; do printf '> %s\\n' \"$a\"; done >> \"$LOG\"\necho . >> \"$LOG\"\n")
        .expect("write the stub");
    std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let work = scratch.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let commands = notice_commands(notice);
    assert!(!commands.is_empty(), "{notice}");
    for command in commands {
        let command = command.replace("<branch>", "work");
        let mut sh = std::process::Command::new("sh");
        regraft::git::isolate_environment(&mut sh);
        let status = sh
            .args(["-c", &command])
            .current_dir(&work)
            .env("PATH", &path)
            .env("LOG", &log)
            .status()
            .expect("sh runs");
        assert!(status.success(), "{command}");
    }
    let entries: Vec<_> = std::fs::read_dir(&work).expect("read").flatten().collect();
    assert!(entries.is_empty(), "pasting the notice ran something: {entries:?}\n{notice}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let mut calls = Vec::new();
    let mut words = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("> ") {
            Some(word) => words.push(word.to_string()),
            None => calls.push(std::mem::take(&mut words)),
        }
    }
    calls
}

fn argvs(calls: &[&[&str]]) -> Vec<Vec<String>> {
    calls.iter().map(|c| c.iter().map(|w| (*w).to_string()).collect()).collect()
}

#[test]
fn the_notice_quotes_names_so_pasting_its_commands_runs_nothing_else() {
    // Issue 12, finding 5: a branch named `stable/$(touch${IFS}x)` ran `touch x` when pasted.
    let w = world(true);
    let (a, b) = ("stable/$(touch${IFS}x)", "stable/it's;touch${IFS}y&&`touch${IFS}z`|cat");
    for branch in [a, b] {
        git(
            &w.clone,
            &["push", "-q", "origin", &format!("origin/stable/liberty:refs/heads/{branch}")],
        );
    }
    git(&w.clone, &["fetch", "-q", "origin"]);
    let surgery = |args: &[&str]| {
        let (code, out) = run(regraft(&w.clone).args(args).args(["--execute", "--yes"]));
        assert_eq!(code, Some(0), "{args:?}: {out}");
    };
    let notices = || {
        ["text", "markdown"].map(|format| {
            let (code, notice) = run(regraft(&w.clone).args(["notice", "--format", format]));
            assert_eq!(code, Some(0), "{notice}");
            notice
        })
    };
    let tag_a = "$(touch${IFS}x)-early-demise";
    surgery(&["replace", b, "--from", "origin/stable/mitaka", "--strategy", "megapatch"]);
    for notice in notices() {
        assert_eq!(
            pasted(&notice),
            argvs(&[&["fetch", "--tags", "origin"], &["checkout", b], &["pull", "--rebase"]]),
            "{notice}"
        );
    }
    surgery(&["replace", a, "--from", "origin/stable/mitaka", "--strategy", "recreate"]);
    let tracking = format!("origin/{a}");
    for notice in notices() {
        assert_eq!(
            pasted(&notice),
            argvs(&[
                &["regraft", "sync", "--all"],
                &["fetch", "--tags", "origin"],
                &["rebase", "--onto", &tracking, tag_a, "work"],
                &["checkout", a],
                &["reset", "--hard", &tracking],
                &["log", tag_a],
            ]),
            "{notice}"
        );
    }
    surgery(&["eol", a, "--tag", "ended-$(touch${IFS}x)"]);
    for notice in notices() {
        assert_eq!(
            pasted(&notice),
            argvs(&[
                &["fetch", "--prune", "--tags", "origin"],
                &["merge-base", "--is-ancestor", a, "ended-$(touch${IFS}x)"],
                &["branch", "-D", a]
            ]),
            "{notice}"
        );
    }
}

#[test]
fn a_plan_notes_a_gitreview_that_would_point_at_the_source_branch() {
    // Kolla's new liberty needed "Update .gitreview for stable/liberty" as a follow-up.
    let w = world(true);
    git(&w.clone, &["checkout", "-q", "-b", "mitaka-gr", "origin/stable/mitaka"]);
    std::fs::write(
        w.clone.join(".gitreview"),
        "[gerrit]\nhost=review.example.org\ndefaultbranch=stable/mitaka\n",
    )
    .expect("write");
    git(&w.clone, &["add", ".gitreview"]);
    git(&w.clone, &["commit", "-q", "-m", "Add .gitreview"]);
    git(&w.clone, &["checkout", "-q", "-b", "pointer"]);
    std::fs::write(
        w.clone.join(".gitreview"),
        "[gerrit]\nhost=review.example.org\ndefaultbranch=stable/liberty\n",
    )
    .expect("write");
    git(&w.clone, &["commit", "-q", "-am", "Update .gitreview for stable/liberty"]);
    git(&w.clone, &["checkout", "-q", "master"]);
    let base = ["replace", "stable/liberty", "--from", "mitaka-gr", "--gerrit", "none"];
    for strategy in ["megapatch", "recreate"] {
        let (code, out) = run(regraft(&w.clone).args(base).args(["--strategy", strategy]));
        assert_eq!(code, Some(0), "{out}");
        assert!(
            out.contains("note: mitaka-gr's .gitreview says defaultbranch=stable/mitaka"),
            "{out}"
        );
        let (code, out) = run(regraft(&w.clone).args(base).args([
            "--strategy",
            strategy,
            "--followup",
            "pointer",
        ]));
        assert_eq!(code, Some(0), "{out}");
        assert!(!out.contains("defaultbranch=stable/mitaka"), "the follow-up mends it: {out}");
    }
}

#[test]
fn megapatch_and_merge_can_be_pushed_for_review_with_their_follow_ups() {
    // Kolla's own megapatch was a review; compare counts one review, so replace offers it.
    for strategy in ["megapatch", "merge"] {
        let w = world(true);
        git(&w.clone, &["checkout", "-q", "-b", "pointers", "origin/stable/mitaka"]);
        std::fs::write(w.clone.join("pointer.txt"), "liberty\n").expect("write");
        git(&w.clone, &["add", "pointer.txt"]);
        git(&w.clone, &["commit", "-q", "-m", "Pin the liberty repositories"]);
        git(&w.clone, &["checkout", "-q", "master"]);
        let args = [
            "replace",
            "stable/liberty",
            "--from",
            "origin/stable/mitaka",
            "--strategy",
            strategy,
            "--for-review",
            "--followup",
            "pointers",
        ];
        let (code, out) = run(regraft(&w.clone).args(args));
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("for review to refs/for/stable/liberty"), "{out}");
        let (code, out) = run(regraft(&w.clone).args(args).args(["--execute", "--yes"]));
        assert_eq!(code, Some(0), "{strategy}: {out}");
        assert_eq!(remote(&w.server, BRANCH), Some(w.old), "the branch waits for the review");
        let pushed = remote(&w.server, "refs/for/stable/liberty").expect("pushed for review");
        // The chain: the follow-up on the megapatch or merge, which has SOURCE's tree.
        let below = git(&w.server, &["rev-parse", &format!("{pushed}^")]);
        assert_eq!(
            git(&w.server, &["rev-parse", &format!("{below}^{{tree}}")]),
            git(&w.server, &["rev-parse", &format!("{}^{{tree}}", w.source)])
        );
        assert_eq!(git(&w.server, &["rev-parse", &format!("{below}^1")]), w.old.to_hex());
        let message = git(&w.server, &["log", "-1", "--format=%B", &below]);
        assert!(message.lines().any(|l| l.starts_with("Change-Id: I")), "{message}");
        assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old));
    }
    let w = world(true);
    let (code, out) = run(regraft(&w.clone).args([
        "replace",
        "stable/liberty",
        "--from",
        "origin/stable/mitaka",
        "--strategy",
        "recreate",
        "--for-review",
    ]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--for-review goes with megapatch and merge"), "{out}");
}

#[test]
fn a_saved_plan_runs_exactly_as_reviewed_and_is_refused_when_stale_or_tampered() {
    // Regression: the merge commit's id changed on every run, so the reviewed plan was not
    // the plan that ran.
    let w = world(true);
    let file = w.clone.parent().expect("parent").join("liberty.json");
    let args =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "merge"];
    let (code, out) = run(regraft(&w.clone).args(args).arg("--plan-out").arg(&file));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("--plan"), "says how to run it: {out}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("saved")).expect("json");
    let merge = saved["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == "commit")
        .and_then(|s| s["verification"][0]["id"].as_str())
        .map(id)
        .expect("the merge commit's id");
    let text = std::fs::read_to_string(&file).expect("saved");
    let tampered = |edit: &dyn Fn(&str) -> String, name: &str| {
        let path = w.clone.parent().expect("parent").join(name);
        std::fs::write(&path, edit(&text)).expect("write");
        path
    };
    let bad = [
        tampered(&|t| t.replace("\"hash-object\"", "\"config\""), "other-action.json"),
        tampered(
            &|t| t.replacen("Merge origin/stable/mitaka", "Merge something else", 1),
            "other-commit.json",
        ),
        tampered(&|t| t.replace("\"origin\",", "\"--upload-pack=touch PWNED\","), "option.json"),
        tampered(&|t| t.replacen('{', "{{", 1), "broken.json"),
    ];
    for path in &bad {
        let (code, out) =
            run(regraft(&w.clone).args(["replace", "--execute", "--yes", "--plan"]).arg(path));
        assert_eq!(code, Some(2), "{}: {out}", path.display());
        assert!(out.contains(&path.display().to_string()), "names the file: {out}");
    }
    assert!(!w.clone.parent().expect("parent").join("PWNED").exists());
    assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), None, "nothing ran");

    let (code, out) =
        run(regraft(&w.clone).args(["replace", "--execute", "--yes", "--plan"]).arg(&file));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(merge), "the merge commit the plan named");

    // A plan saved against a remote that moved since is refused with nothing run.
    let w = world(true);
    let file = w.clone.parent().expect("parent").join("eol.json");
    let (code, out) =
        run(regraft(&w.clone).args(["eol", "stable/liberty", "--plan-out"]).arg(&file));
    assert_eq!(code, Some(0), "{out}");
    land_commit(&w, "other", "Landed after the review");
    let (code, out) =
        run(regraft(&w.clone).args(["eol", "--execute", "--yes", "--plan"]).arg(&file));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("nothing was run"), "{out}");
    assert_eq!(remote(&w.server, "liberty-eol^{commit}"), None, "not even the tag");
    assert!(remote(&w.server, BRANCH).is_some());
}

/// Returns the lines of the dry run's step whose description starts with `prefix`.
fn step_block<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut lines = out.lines().skip_while(|l| {
        !l.trim_start()
            .split_once(". ")
            .is_some_and(|(n, d)| n.chars().all(|c| c.is_ascii_digit()) && d.starts_with(prefix))
    });
    let first = lines.next().into_iter();
    first.chain(lines.take_while(|l| l.starts_with("    "))).collect()
}

#[test]
fn a_dry_run_says_how_each_step_stands_in_this_repository() {
    // Regression: before-lines described a fresh clone ("no local tag" with the tag there).
    let w = world(true);
    git(&w.clone, &["tag", "-a", "-m", "kept by hand", "liberty-early-demise", &w.old.to_hex()]);
    let args =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "merge"];
    let (code, out) = run(regraft(&w.clone).args(args));
    assert_eq!(code, Some(0), "{out}");
    let tag = step_block(&out, "tag the old tip");
    assert!(tag.iter().any(|l| l.contains("now:    already done")), "{tag:?}\n{out}");
    let push = step_block(&out, "push tag");
    assert!(push.iter().any(|l| l.contains("now:    ready")), "{push:?}");

    // A saved plan whose branch moved since shows where it would stop.
    let file = w.clone.parent().expect("parent").join("plan.json");
    let (code, out) = run(regraft(&w.clone).args(args).arg("--plan-out").arg(&file));
    assert_eq!(code, Some(0), "{out}");
    land_commit(&w, "other", "Moved");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--plan"]).arg(&file));
    assert_eq!(code, Some(0), "{out}");
    let push = step_block(&out, "fast-forward stable/liberty");
    assert!(push.iter().any(|l| l.contains("now:    BLOCKED")), "{push:?}\n{out}");
}

/// A tag left by an earlier run (aborted after tagging) is kept as it is, so its message may
/// say another strategy or source than this run: the plan says so, quoting it.
#[test]
fn a_plan_says_when_the_old_tip_s_tag_is_kept_with_another_message() {
    let w = world(true);
    git(
        &w.clone,
        &[
            "tag",
            "-a",
            "-m",
            "Old tip, kept for the recreate strategy",
            "liberty-early-demise",
            "origin/stable/liberty",
        ],
    );
    let (code, out) = run(regraft(&w.clone).args(replace_args("merge")));
    assert_eq!(code, Some(0), "{out}");
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("the tag liberty-early-demise is here already (an earlier run made it) and is kept as it is; its message reads \"Old tip, kept for the recreate strategy\""),
        "{out}"
    );
    // Without such a tag, no note.
    git(&w.clone, &["tag", "-d", "liberty-early-demise"]);
    let (code, out) = run(regraft(&w.clone).args(replace_args("merge")));
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("is here already"), "{out}");
}

// Issue 26 (item 3): a refused step is tried again by --continue, which finishes once the
// server allows it.
#[test]
fn once_the_server_allows_a_refused_delete_continue_finishes() {
    let w = world(true);
    git(&w.server, &["config", "receive.denyDeletes", "true"]);
    let (code, out) =
        run(regraft(&w.clone).args(replace_args("recreate")).args(["--execute", "--yes"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("(deletion prohibited)"), "{out}");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--continue"]));
    assert_eq!(code, Some(2), "still refused: {out}");
    assert!(out.contains("(deletion prohibited)") && out.contains("--strategy merge"), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old), "{out}");
    git(&w.server, &["config", "receive.denyDeletes", "false"]);
    let (code, out) = run(regraft(&w.clone).args(["replace", "--continue"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.source), "{out}");
    assert!(!w.clone.join(".git/regraft/journal.json").exists(), "{out}");
}

#[test]
fn an_end_of_life_whose_delete_is_refused_hints_the_right_not_a_strategy() {
    let w = world(true);
    git(&w.server, &["config", "receive.denyDeletes", "true"]);
    let (code, out) = run(regraft(&w.clone).args(["eol", "stable/liberty", "--execute", "--yes"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("(deletion prohibited)") && out.contains("Delete Reference"), "{out}");
    assert!(!out.contains("--strategy merge"), "an end of life replaces nothing: {out}");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old), "{out}");
}
