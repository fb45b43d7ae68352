//! A replacement and an end of life on GitHub and on GitLab killed after every step, then
//! continued or aborted: no pull/merge request is lost, no hold branch is left, and the
//! served branch (git is the oracle) is the new tip or the old one. Also a server failing
//! halfway through the hold: the journal stays, `status` names it, `--continue` finishes
//! once it answers and `--abort` puts everything back.

use std::path::Path;

use crate::{regraft, run};

/// A pull/merge request as a stand-in holds it, in host-neutral words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    number: u64,
    open: bool,
    base: String,
    /// What people (not the host itself) wrote on it, oldest first.
    comments: Vec<String>,
}

/// One forge's stand-in with a work repository whose `origin` it serves.
trait Forge: Sized {
    /// Builds the world with `requests` open requests on stable/liberty, two per page.
    fn with_requests(requests: usize) -> Self;
    fn work(&self) -> &Path;
    /// Returns `regraft` with the forge's token in the environment, naming the stand-in
    /// as the review host when `named`.
    fn regraft(&self, args: &[&str], named: bool) -> assert_cmd::Command;
    /// Returns the served branch's tip as git reads it in the bare repository.
    fn served(&self, branch: &str) -> Option<String>;
    fn requests(&self) -> Vec<Held>;
    /// The branch recreate takes stable/liberty from.
    fn source(&self) -> &'static str;
    /// The source's served tip.
    fn source_tip(&self) -> String;
    /// Answers `skip` requests as usual, then the next `count` with `status`.
    fn fail_after(&self, skip: usize, count: usize, status: u16);
}

struct GitHub(crate::github::World);

impl Forge for GitHub {
    fn with_requests(requests: usize) -> GitHub {
        let w = crate::github::world(requests);
        let bare = w.bare.display().to_string();
        w.work.git(&["remote", "add", "origin", &bare]);
        w.work.git(&["fetch", "-q", "origin"]);
        w.work.git(&["config", &format!("regraft.{}.allowHttp", w.server.url()), "true"]);
        w.server.max_per_page(2);
        for n in 1..=requests {
            w.server.add_request(&format!("feature-{n}"), "stable/liberty", &format!("Fix {n}"));
        }
        GitHub(w)
    }
    fn work(&self) -> &Path {
        self.0.work.path()
    }
    fn regraft(&self, args: &[&str], named: bool) -> assert_cmd::Command {
        let mut cmd = regraft(self.work());
        cmd.args(args).env("GH_TOKEN", crate::github::TOKEN);
        if named {
            let host = format!("github:{}", self.0.server.url());
            cmd.args(["--review-host", &host, "--project", crate::github::REPO]);
        }
        cmd
    }
    fn served(&self, branch: &str) -> Option<String> {
        self.0.served_tip(branch)
    }
    fn requests(&self) -> Vec<Held> {
        self.0
            .server
            .requests()
            .into_iter()
            .map(|p| Held {
                number: p.number,
                open: p.open,
                base: p.base,
                comments: self.0.server.comments(p.number).into_iter().map(|c| c.body).collect(),
            })
            .collect()
    }
    fn source(&self) -> &'static str {
        "origin/stable/mitaka"
    }
    fn source_tip(&self) -> String {
        self.served("stable/mitaka").expect("mitaka is served")
    }
    fn fail_after(&self, skip: usize, count: usize, status: u16) {
        self.0.server.fail_after(skip, count, status);
    }
}

struct GitLab(crate::gitlab::World);

impl Forge for GitLab {
    fn with_requests(requests: usize) -> GitLab {
        let w = crate::gitlab::World::new(requests);
        w.work.git(&["fetch", "-q", "origin"]);
        w.work.git(&["config", &format!("regraft.{}.allowHttp", w.server.url()), "true"]);
        w.server.cap_per_page(2);
        for n in 1..=requests {
            w.server.add_request(&format!("fix-{n}"), "stable/liberty", &format!("Fix {n}"));
        }
        GitLab(w)
    }
    fn work(&self) -> &Path {
        self.0.work.path()
    }
    fn regraft(&self, args: &[&str], named: bool) -> assert_cmd::Command {
        let mut cmd = regraft(self.work());
        cmd.args(args).env("GITLAB_TOKEN", crate::gitlab::TOKEN);
        if named {
            let host = format!("gitlab:{}", self.0.server.url());
            cmd.args(["--review-host", &host, "--project", crate::gitlab::PROJECT]);
        }
        cmd
    }
    fn served(&self, branch: &str) -> Option<String> {
        self.0.remote_tip(branch)
    }
    fn requests(&self) -> Vec<Held> {
        self.0
            .server
            .requests()
            .into_iter()
            .map(|r| Held {
                number: r.iid,
                open: r.state == "opened",
                base: r.target_branch,
                comments: r.notes.into_iter().filter(|n| !n.system).map(|n| n.body).collect(),
            })
            .collect()
    }
    fn source(&self) -> &'static str {
        "origin/main"
    }
    fn source_tip(&self) -> String {
        self.served("main").expect("main is served")
    }
    fn fail_after(&self, skip: usize, count: usize, status: u16) {
        self.0.server.fail_after(skip, count, status);
    }
}

const REQUESTS: usize = 3;
const HOLD: &str = "regraft-hold/stable/liberty";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surgery {
    Recreate,
    Eol,
}

impl Surgery {
    fn args<F: Forge>(self, w: &F) -> Vec<&'static str> {
        match self {
            Surgery::Recreate => {
                vec!["replace", "stable/liberty", "--from", w.source(), "--strategy", "recreate"]
            }
            Surgery::Eol => vec!["eol", "stable/liberty"],
        }
    }
    fn command(self) -> &'static str {
        match self {
            Surgery::Recreate => "replace",
            Surgery::Eol => "eol",
        }
    }
}

/// Returns the ids of the steps the dry run plans.
fn step_ids<F: Forge>(w: &F, surgery: Surgery) -> Vec<String> {
    let mut args = surgery.args(w);
    args.push("--json");
    let out = w.regraft(&args, true).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON plan");
    let ids: Vec<String> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["id"].as_str().expect("an id").to_string())
        .collect();
    for forge_step in match surgery {
        Surgery::Recreate => &["record-requests", "hold-requests", "return-requests"][..],
        Surgery::Eol => &["record-requests", "close-requests"][..],
    } {
        assert!(ids.iter().any(|id| id.starts_with(forge_step)), "{forge_step}: {ids:?}");
    }
    ids
}

/// Every request open on stable/liberty again, none closed, none left on the hold branch.
fn all_back<F: Forge>(w: &F, numbers: &[u64], what: &str) {
    let requests = w.requests();
    for n in numbers {
        let r = requests.iter().find(|r| r.number == *n).expect("the request is there");
        assert!(r.open && r.base == "stable/liberty", "{what}: {r:?}");
    }
    assert!(w.served(HOLD).is_none(), "{what}: no hold branch is left");
    assert!(!w.work().join(".git/regraft/journal.json").exists(), "{what}: no journal");
    assert!(!w.work().join(".git/regraft/requests.json").exists(), "{what}: nothing held");
}

/// Kills `surgery` after each of its steps in turn, then finishes it with `--continue`
/// or undoes it with `--abort`, each on a world of its own.
fn killed_at_every_step<F: Forge>(surgery: Surgery) {
    let probe = F::with_requests(REQUESTS);
    let count = step_ids(&probe, surgery).len();
    assert!(count <= 16, "a bounded loop: {count} steps");
    drop(probe);
    for k in 1..=count {
        for finish in ["--continue", "--abort"] {
            let what = format!("{surgery:?} killed after {k} of {count} steps, then {finish}");
            let w = F::with_requests(REQUESTS);
            let numbers: Vec<u64> = w.requests().iter().map(|r| r.number).collect();
            let (old, new) = (w.served("stable/liberty").expect("served"), w.source_tip());
            let mut args = surgery.args(&w);
            args.extend(["--execute", "--yes"]);
            let (code, out) =
                run(w.regraft(&args, true).env("REGRAFT_FAULT_AFTER_STEPS", k.to_string()));
            assert_eq!(code, None, "{what}: killed: {out}");
            // Killed or not, no request is closed by the host while a run is stopped
            // (recreate) and none is lost.
            let (code, out) = run(&mut w.regraft(&[surgery.command(), finish], false));
            assert_eq!(code, Some(0), "{what}: {out}");
            let tip = w.served("stable/liberty");
            match (surgery, finish) {
                (_, "--abort") => {
                    assert_eq!(tip.as_deref(), Some(old.as_str()), "{what}: the old tip");
                    all_back(&w, &numbers, &what);
                }
                (Surgery::Recreate, _) => {
                    assert_eq!(tip.as_deref(), Some(new.as_str()), "{what}: the new tip");
                    all_back(&w, &numbers, &what);
                    assert!(
                        w.requests().iter().all(|r| r.comments.is_empty()),
                        "{what}: a replacement says nothing: {:?}",
                        w.requests()
                    );
                }
                (Surgery::Eol, _) => {
                    assert_eq!(tip, None, "{what}: the branch is gone");
                    assert!(w.served(HOLD).is_none(), "{what}");
                    for r in w.requests() {
                        assert!(!r.open, "{what}: closed: {r:?}");
                        assert_eq!(r.comments.len(), 1, "{what}: one comment: {r:?}");
                        assert!(r.comments[0].contains("liberty-eol"), "{what}: {r:?}");
                    }
                    assert!(
                        w.work().join(".git/regraft/requests.json").exists(),
                        "{what}: kept for restore"
                    );
                }
            }
        }
    }
}

#[test]
fn github_recreate_killed_at_every_step_continues_or_aborts_losing_no_pull_request() {
    killed_at_every_step::<GitHub>(Surgery::Recreate);
}

#[test]
fn github_eol_killed_at_every_step_continues_or_aborts_losing_no_pull_request() {
    killed_at_every_step::<GitHub>(Surgery::Eol);
}

#[test]
fn gitlab_recreate_killed_at_every_step_continues_or_aborts_losing_no_merge_request() {
    killed_at_every_step::<GitLab>(Surgery::Recreate);
}

#[test]
fn gitlab_eol_killed_at_every_step_continues_or_aborts_losing_no_merge_request() {
    killed_at_every_step::<GitLab>(Surgery::Eol);
}

/// Kills a recreate just before its hold-requests step, so that the failure below falls in
/// that step; returns the world and the numbers of its requests.
fn stopped_before_the_hold<F: Forge>() -> (F, Vec<u64>) {
    let w = F::with_requests(REQUESTS);
    let ids = step_ids(&w, Surgery::Recreate);
    let before = ids.iter().position(|id| id.starts_with("hold-requests")).expect("planned");
    let numbers: Vec<u64> = w.requests().iter().map(|r| r.number).collect();
    let mut args = Surgery::Recreate.args(&w);
    args.extend(["--execute", "--yes"]);
    let (code, out) =
        run(w.regraft(&args, true).env("REGRAFT_FAULT_AFTER_STEPS", before.to_string()));
    assert_eq!(code, None, "killed: {out}");
    (w, numbers)
}

/// The server fails halfway through moving the requests to the hold branch: the first
/// request is moved (a read and a change), then every try of the next call is a 503.
fn a_failure_halfway_through_the_hold<F: Forge>() {
    for finish in ["--continue", "--abort"] {
        let (w, numbers) = stopped_before_the_hold::<F>();
        let (old, new) = (w.served("stable/liberty").expect("served"), w.source_tip());
        // Four tries: the first and its three retries.
        w.fail_after(2, 4, 503);
        let (code, out) = run(&mut w.regraft(&["replace", "--continue"], false));
        assert_ne!(code, Some(0), "{out}");
        assert!(out.contains("503"), "the server's answer is named: {out}");
        let requests = w.requests();
        let held = requests.iter().filter(|r| r.base == HOLD).count();
        assert_eq!(held, 1, "halfway: one moved, the others not: {requests:?}");
        assert!(requests.iter().all(|r| r.open), "{requests:?}");
        assert_eq!(w.served("stable/liberty").as_deref(), Some(old.as_str()), "not deleted");
        assert!(w.work().join(".git/regraft/journal.json").exists(), "the journal stays");
        let (code, status) = run(&mut w.regraft(&["status"], false));
        assert_eq!(code, Some(0), "{status}");
        let flat = crate::flat(&status);
        assert!(
            flat.contains("started 6. retarget the recorded") && flat.contains(HOLD),
            "status names the step that stopped: {flat}"
        );
        assert!(flat.contains(finish), "status offers {finish}: {flat}");
        // The server answers again.
        let (code, out) = run(&mut w.regraft(&["replace", finish], false));
        assert_eq!(code, Some(0), "{finish}: {out}");
        let tip = w.served("stable/liberty");
        let expected = if finish == "--abort" { &old } else { &new };
        assert_eq!(tip.as_deref(), Some(expected.as_str()), "{finish}");
        all_back(&w, &numbers, finish);
    }
}

#[test]
fn github_failing_halfway_through_the_hold_leaves_a_journal_that_continues_or_aborts() {
    a_failure_halfway_through_the_hold::<GitHub>();
}

#[test]
fn gitlab_failing_halfway_through_the_hold_leaves_a_journal_that_continues_or_aborts() {
    a_failure_halfway_through_the_hold::<GitLab>();
}

/// The numbers of the requests the request log holds as closed, for `restore`.
fn logged_closed(work: &Path) -> Vec<u64> {
    let text = std::fs::read(work.join(".git/regraft/requests.json")).expect("a request log");
    let log: serde_json::Value = serde_json::from_slice(&text).expect("JSON");
    let mut closed: Vec<u64> = log["records"]
        .as_array()
        .expect("records")
        .iter()
        .flat_map(|r| r["requests"].as_array().expect("requests").iter())
        .filter(|h| h["closed"] == true)
        .map(|h| h["request"]["number"].as_u64().expect("a number"))
        .collect();
    closed.sort_unstable();
    closed
}

/// Words only the end of life's close comment has.
const CLOSE_COMMENT: &str = "reached its end of life";

/// Kills an end of life right after the forge took each of its changes in turn (a comment,
/// a close), before the request log could say so, then `finish`es it. Continued, every
/// request is closed with the comment once and is in the log for `restore`; aborted, every
/// one is open again and none has the close comment as the last word.
fn killed_after_every_forge_change<F: Forge>(finish: &str) {
    // A comment and a close per request.
    for k in 1..=2 * REQUESTS {
        let what = format!("eol killed after forge change {k}, then {finish}");
        let w = F::with_requests(REQUESTS);
        let mut numbers: Vec<u64> = w.requests().iter().map(|r| r.number).collect();
        numbers.sort_unstable();
        let old = w.served("stable/liberty").expect("served");
        let mut args = Surgery::Eol.args(&w);
        args.extend(["--execute", "--yes"]);
        let (code, out) =
            run(w.regraft(&args, true).env("REGRAFT_FAULT_AFTER_FORGE_CHANGES", k.to_string()));
        assert_eq!(code, None, "{what}: killed: {out}");
        let (code, out) = run(&mut w.regraft(&["eol", finish], false));
        assert_eq!(code, Some(0), "{what}: {out}");
        let requests = w.requests();
        if finish == "--abort" {
            assert_eq!(w.served("stable/liberty").as_deref(), Some(old.as_str()), "{what}");
            all_back(&w, &numbers, &what);
            for r in &requests {
                let said = r.comments.iter().filter(|c| c.contains(CLOSE_COMMENT)).count();
                assert!(said <= 1, "{what}: the close comment once at most: {r:?}");
                assert!(
                    r.comments.last().is_none_or(|c| !c.contains(CLOSE_COMMENT)),
                    "{what}: an open request does not end on the close comment: {r:?}"
                );
            }
            continue;
        }
        assert_eq!(w.served("stable/liberty"), None, "{what}: the branch is gone");
        for r in &requests {
            assert!(!r.open, "{what}: closed: {r:?}");
            assert_eq!(r.comments.len(), 1, "{what}: the comment once: {r:?}");
            assert!(r.comments[0].contains(CLOSE_COMMENT), "{what}: {r:?}");
        }
        assert_eq!(logged_closed(w.work()), numbers, "{what}: all kept for restore");
    }
}

// A kill after the host took the close comment and before the log said so posted it twice on
// `--continue`; one after the close left the request out of what `restore` reopens.
#[test]
fn github_eol_killed_after_every_forge_change_continues_commenting_once_and_keeping_every_close() {
    killed_after_every_forge_change::<GitHub>("--continue");
}

#[test]
fn gitlab_eol_killed_after_every_forge_change_continues_commenting_once_and_keeping_every_close() {
    killed_after_every_forge_change::<GitLab>("--continue");
}

// An abort after such a kill left a request closed (taken by the host, not yet in the log)
// and one open under a comment saying it is closed.
#[test]
fn github_eol_killed_after_every_forge_change_aborts_with_every_pull_request_open() {
    killed_after_every_forge_change::<GitHub>("--abort");
}

#[test]
fn gitlab_eol_killed_after_every_forge_change_aborts_with_every_merge_request_open() {
    killed_after_every_forge_change::<GitLab>("--abort");
}

/// Ends stable/liberty's life and brings the branch back, then kills `restore` after each
/// change the forge takes in turn (a reopen, a comment) and runs it again: every request is
/// open, carrying the close comment and the reopen comment once each, and the log is done.
fn restore_killed_after_every_forge_change<F: Forge>() {
    // A reopen and a comment per request.
    for k in 1..=2 * REQUESTS {
        let what = format!("restore killed after forge change {k}");
        let w = F::with_requests(REQUESTS);
        let old = w.served("stable/liberty").expect("served");
        let mut args = Surgery::Eol.args(&w);
        args.extend(["--execute", "--yes"]);
        let (code, out) = run(&mut w.regraft(&args, true));
        assert_eq!(code, Some(0), "{what}: {out}");
        // A forge reopens no request whose base is gone.
        crate::git(
            w.work(),
            &["push", "-q", "origin", &format!("{old}:refs/heads/stable/liberty")],
        );
        let restore =
            ["restore", "--from-journal", "--branch", "stable/liberty", "--execute", "--yes"];
        let (code, out) =
            run(w.regraft(&restore, false).env("REGRAFT_FAULT_AFTER_FORGE_CHANGES", k.to_string()));
        assert_eq!(code, None, "{what}: killed: {out}");
        let (code, out) = run(&mut w.regraft(&restore, false));
        assert_eq!(code, Some(0), "{what}: {out}");
        for r in w.requests() {
            assert!(r.open && r.base == "stable/liberty", "{what}: {r:?}");
            assert_eq!(r.comments.len(), 2, "{what}: closed and reopened, each said once: {r:?}");
            assert!(r.comments[0].contains(CLOSE_COMMENT), "{what}: {r:?}");
            assert!(r.comments[1].starts_with("Reopened by git regraft"), "{what}: {r:?}");
        }
        assert!(!w.work().join(".git/regraft/requests.json").exists(), "{what}: nothing held");
    }
}

// A restore killed after the host reopened a request, before its comment, never posted it.
#[test]
fn github_restore_killed_after_every_forge_change_reopens_each_pull_request_saying_so_once() {
    restore_killed_after_every_forge_change::<GitHub>();
}

#[test]
fn gitlab_restore_killed_after_every_forge_change_reopens_each_merge_request_saying_so_once() {
    restore_killed_after_every_forge_change::<GitLab>();
}
