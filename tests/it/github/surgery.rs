//! Replacing and ending a branch on GitHub, end to end: the real executable against the
//! stand-in (written from GitHub's REST documentation, see `server`), whose branches live
//! in a bare repository that `git push` changes. GitHub closes every open pull request whose
//! base branch is deleted; the surgery must leave none closed by a replacement.

use super::{REPO, Rules, TOKEN, World, world};
use crate::{regraft, run};

const HOLD: &str = "regraft-hold/stable/liberty";

/// Points the work repository's `origin` at the served repository and fetches it.
fn with_origin(w: &World) {
    let bare = w.bare.display().to_string();
    w.work.git(&["remote", "add", "origin", &bare]);
    w.work.git(&["fetch", "-q", "origin"]);
    // A token may cross plain HTTP to this stand-in only because the test allows it.
    w.work.git(&["config", &format!("regraft.{}.allowHttp", w.server.url()), "true"]);
}

fn surgery(w: &World, args: &[&str]) -> (Option<i32>, String) {
    let host = format!("github:{}", w.server.url());
    run(regraft(w.work.path())
        .args(args)
        .args(["--review-host", &host, "--project", REPO])
        .env("GH_TOKEN", TOKEN)
        .env("REGRAFT_TRACE", "1"))
}

fn open_on(w: &World, base: &str) -> Vec<u64> {
    w.server.requests().iter().filter(|p| p.open && p.base == base).map(|p| p.number).collect()
}

#[test]
fn recreate_keeps_every_open_pull_request_open_and_targeting_the_new_branch() {
    let w = world(5);
    with_origin(&w);
    // More than one page of them.
    w.server.max_per_page(2);
    let numbers: Vec<u64> = (1..=5)
        .map(|n| {
            w.server.add_request(&format!("feature-{n}"), "stable/liberty", &format!("Fix {n}"))
        })
        .collect();
    let mitaka = w.served_tip("stable/mitaka").expect("mitaka is served");

    let args =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "recreate"];
    let (code, out) = surgery(&w, &args);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("record-requests") || out.contains("record the open pull requests"),
        "{out}"
    );
    assert!(
        out.contains("regraft-hold/stable/liberty"),
        "the dry run names the hold branch: {out}"
    );
    assert!(out.contains("PATCH"), "the dry run shows the retargeting calls: {out}");
    // The dry run changed nothing.
    assert_eq!(open_on(&w, "stable/liberty"), numbers);
    assert!(w.served_tip("regraft-hold/stable/liberty").is_none());

    let (code, out) = surgery(&w, &[&args[..], &["--execute", "--yes"]].concat());
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains(TOKEN), "the token never shows: {out}");
    // Git is the oracle for the branch; the stand-in for the pull requests.
    assert_eq!(w.served_tip("stable/liberty").as_deref(), Some(mitaka.as_str()));
    assert!(w.served_tip("regraft-hold/stable/liberty").is_none(), "the hold branch is gone");
    assert_eq!(open_on(&w, "stable/liberty"), numbers, "{:?}", w.server.requests());
    assert!(w.server.requests().iter().all(|p| p.closed_because.is_none()));
    // The token went only to the stand-in, and only as GitHub documents it.
    for logged in w.server.log() {
        if let Some(auth) = &logged.authorization {
            assert_eq!(auth, &format!("Bearer {TOKEN}"), "{logged:?}");
        }
    }
    assert!(!w.work.path().join(".git/regraft/requests.json").exists(), "nothing is left held");
}

#[test]
fn a_branch_whose_protection_forbids_the_delete_is_refused_at_planning() {
    let w = world(2);
    with_origin(&w);
    let numbers: Vec<u64> = (1..=2)
        .map(|n| w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix"))
        .collect();
    w.server.protect("stable/liberty", Rules::default());
    let liberty = w.served_tip("stable/liberty");
    let args =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "recreate"];
    for extra in [&[][..], &["--execute", "--yes"]] {
        let (code, out) = surgery(&w, &[&args[..], extra].concat());
        let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(code, Some(3), "a finding, as a Gerrit's denied right: {out}");
        assert!(out.contains("would refuse this plan"), "{out}");
        assert!(out.contains("deletes stable/liberty"), "{out}");
        assert!(out.contains("merge or megapatch"), "{out}");
    }
    // Nothing changed: the branch, its pull requests, no hold branch, no journal.
    assert_eq!(w.served_tip("stable/liberty"), liberty);
    assert_eq!(open_on(&w, "stable/liberty"), numbers);
    assert!(w.served_tip("regraft-hold/stable/liberty").is_none());
    assert!(!w.work.path().join(".git/regraft/journal.json").exists());
}

#[test]
fn eol_closes_the_pull_requests_naming_the_tag_and_restore_reopens_them() {
    let w = world(3);
    with_origin(&w);
    w.server.max_per_page(2);
    let numbers: Vec<u64> = (1..=3)
        .map(|n| w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix"))
        .collect();
    let liberty = w.served_tip("stable/liberty").expect("served");
    let (code, out) = surgery(&w, &["eol", "stable/liberty", "--execute", "--yes"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(w.served_tip("stable/liberty").is_none(), "the branch is deleted");
    for n in &numbers {
        let pull = w.server.pull(*n);
        assert!(!pull.open, "#{n} is closed");
        let comments = w.server.comments(*n);
        assert!(comments.iter().any(|c| c.body.contains("liberty-eol")), "#{n}: {comments:?}");
    }
    // Reopening needs the branch back (GitHub reopens no pull request whose base is gone).
    assert!(w.push(&[&format!("{liberty}:refs/heads/stable/liberty")]));
    let (code, out) = run(regraft(w.work.path())
        .args(["restore", "--from-journal", "--branch", "stable/liberty", "--execute", "--yes"])
        .env("GH_TOKEN", TOKEN));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(open_on(&w, "stable/liberty"), numbers, "{:?}", w.server.requests());
    assert!(!out.contains(TOKEN), "{out}");
}

#[test]
fn undo_of_an_end_of_life_puts_the_branch_back_and_reopens_its_pull_requests() {
    let w = world(2);
    with_origin(&w);
    let numbers: Vec<u64> = (1..=2)
        .map(|n| w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix"))
        .collect();
    let liberty = w.served_tip("stable/liberty");
    let (code, out) = surgery(&w, &["eol", "stable/liberty", "--execute", "--yes"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(open_on(&w, "stable/liberty").is_empty(), "closed by the end of life");
    let (code, out) = run(regraft(w.work.path()).args(["undo"]).env("GH_TOKEN", TOKEN));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("reopen pull request"), "the dry run says it: {out}");
    assert!(open_on(&w, "stable/liberty").is_empty(), "a dry run changes nothing");
    let (code, out) =
        run(regraft(w.work.path()).args(["undo", "--execute", "--yes"]).env("GH_TOKEN", TOKEN));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(w.served_tip("stable/liberty"), liberty, "the branch is back");
    assert_eq!(open_on(&w, "stable/liberty"), numbers, "{:?}", w.server.requests());
}

/// The danger the hold steps exist for, shown on the stand-in: without a review host, a
/// recreate deletes the base branch under its pull requests and GitHub closes every one.
#[test]
fn without_a_review_host_recreate_lets_github_close_every_pull_request() {
    let w = world(3);
    with_origin(&w);
    let numbers: Vec<u64> = (1..=3)
        .map(|n| w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix"))
        .collect();
    let (code, out) = run(regraft(w.work.path())
        .args(["replace", "stable/liberty", "--from", "origin/stable/mitaka"])
        .args(["--strategy", "recreate", "--review-host", "none", "--execute", "--yes"])
        .env("GH_TOKEN", TOKEN));
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("record-requests") && !out.contains(HOLD), "no forge steps: {out}");
    assert_eq!(w.served_tip("stable/liberty"), w.served_tip("stable/mitaka"));
    for n in numbers {
        let pull = w.server.pull(n);
        assert!(!pull.open, "#{n} was closed by the deleted base: {pull:?}");
        assert!(pull.closed_because.is_some(), "#{n}: {pull:?}");
    }
    assert!(w.server.log().is_empty(), "nothing asked the host: {:?}", w.server.log());
}

/// Returns the branch's tip on `origin` as `git ls-remote` reads it, if it is there.
fn remote_tip(w: &World, branch: &str) -> Option<String> {
    let reference = format!("refs/heads/{branch}");
    let out = regraft_testkit::git_at(w.work.path(), regraft_testkit::EPOCH)
        .output(&["ls-remote", "origin", &reference])
        .expect("git ls-remote runs");
    String::from_utf8_lossy(&out).split_whitespace().next().map(str::to_string)
}

/// `--timeout` reaches the executor. The stand-in accepts every connection and never
/// answers: reading the branch rules while planning gives two notes (2 s each), then the
/// first forge step of the run (recording the open pull requests, after the tag is pushed)
/// fails at 2 s. So the operation is started, not "nothing started": its journal holds the
/// failed step, `status` names it, and `--abort` undoes the run; the branch never moved.
#[test]
fn a_host_that_never_answers_fails_the_run_at_the_given_timeout_and_aborts_cleanly() {
    let w = world(1);
    with_origin(&w);
    w.server.add_request("feature-1", "stable/liberty", "Fix 1");
    let liberty = remote_tip(&w, "stable/liberty").expect("liberty is on the remote");
    w.server.stop_answering();
    let args = [
        "replace",
        "stable/liberty",
        "--from",
        "origin/stable/mitaka",
        "--strategy",
        "recreate",
        "--execute",
        "--yes",
        "--timeout",
        "2",
    ];
    let host = format!("github:{}", w.server.url());
    let started = std::time::Instant::now();
    let (code, _, stderr) = crate::run_apart(
        regraft(w.work.path())
            .args(args)
            .args(["--review-host", &host, "--project", REPO])
            .env("GH_TOKEN", TOKEN),
    );
    let took = started.elapsed();
    let flat = crate::flat(&stderr);
    assert_ne!(code, Some(0), "{flat}");
    // The run's error, not the planning's notes (on stdout), which say the same of the rules.
    let error = flat.split("error: ").nth(1).unwrap_or_default();
    assert!(error.contains("did not answer within 2 s"), "the no-answer error: {flat}");
    // Three requests of 2 s, and git; the default (30 s) would take a minute and a half.
    assert!(took < std::time::Duration::from_secs(20), "{took:?}: {flat}");
    assert_eq!(remote_tip(&w, "stable/liberty").as_deref(), Some(liberty.as_str()));

    let (code, status) = run(regraft(w.work.path()).arg("status"));
    assert_eq!(code, Some(0), "{status}");
    let status = crate::flat(&status);
    assert!(status.contains("its call failed"), "{status}");
    assert!(status.contains("did not answer within 2 s"), "{status}");
    assert!(status.contains("--abort"), "{status}");

    let (code, out) = run(regraft(w.work.path())
        .args(["replace", "--abort", "--timeout", "2"])
        .env("GH_TOKEN", TOKEN));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote_tip(&w, "stable/liberty").as_deref(), Some(liberty.as_str()));
    assert!(remote_tip(&w, HOLD).is_none(), "no hold branch");
    assert!(!w.work.path().join(".git/regraft/journal.json").exists(), "nothing in progress");
}

/// A bad `--timeout` is refused before anything is asked or changed.
#[test]
fn a_timeout_out_of_range_is_refused_and_nothing_changes() {
    let w = world(0);
    with_origin(&w);
    let liberty = remote_tip(&w, "stable/liberty");
    for bad in ["0", "3601", "soon"] {
        let args = [
            "replace",
            "stable/liberty",
            "--from",
            "origin/stable/mitaka",
            "--strategy",
            "recreate",
            "--execute",
            "--yes",
            "--timeout",
            bad,
        ];
        let (code, out) = surgery(&w, &args);
        assert_eq!(code, Some(2), "{bad}: {out}");
        assert!(out.contains("--timeout") && out.contains("from 1 to 3600"), "{bad}: {out}");
    }
    assert!(w.server.log().is_empty(), "nothing asked the host: {:?}", w.server.log());
    assert_eq!(remote_tip(&w, "stable/liberty"), liberty);
    assert!(!w.work.path().join(".git/regraft/journal.json").exists());
}

/// A rate limit met during a replacement is waited out, said on stderr with its length,
/// and the replacement completes.
#[test]
fn a_rate_limit_during_a_replacement_is_said_on_stderr_and_waited_out() {
    let w = world(1);
    with_origin(&w);
    let number = w.server.add_request("feature-1", "stable/liberty", "Fix 1");
    let mitaka = w.served_tip("stable/mitaka").expect("mitaka is served");
    w.server.rate_limit(super::Limit::Secondary { status: 429 }, 2);
    let host = format!("github:{}", w.server.url());
    let (code, _, stderr) = crate::run_apart(
        regraft(w.work.path())
            .args(["replace", "stable/liberty", "--from", "origin/stable/mitaka"])
            .args(["--strategy", "recreate", "--execute", "--yes"])
            .args(["--review-host", &host, "--project", REPO])
            .env("GH_TOKEN", TOKEN),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let said = crate::flat(&stderr);
    let wait = regex::Regex::new(r"asks to wait [0-9]+ s \(rate limit\); waiting").expect("re");
    assert!(wait.is_match(&said), "the wait and its length are said: {said}");
    assert_eq!(w.served_tip("stable/liberty").as_deref(), Some(mitaka.as_str()));
    assert_eq!(open_on(&w, "stable/liberty"), vec![number], "{:?}", w.server.requests());
}

/// A comment GitHub took whose answer was lost (a 502 after the work was done) is not sent
/// again by the transport: the step fails, and `--continue` finds the comment there and
/// posts none. Each pull request ends closed under exactly one comment naming the tag.
#[test]
fn a_comment_whose_answer_is_lost_is_not_posted_again() {
    let w = world(2);
    with_origin(&w);
    let numbers: Vec<u64> = (1..=2)
        .map(|n| w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix"))
        .collect();
    let ours = |n: u64| -> Vec<_> {
        w.server.comments(n).into_iter().filter(|c| c.body.contains("liberty-eol")).collect()
    };
    w.server.lose_answers_to_posts(1, 502);
    let (code, out) = surgery(&w, &["eol", "stable/liberty", "--execute", "--yes"]);
    for n in &numbers {
        assert!(ours(*n).len() <= 1, "#{n}: the comment was not sent twice: {:?}", ours(*n));
    }
    assert_ne!(code, Some(0), "the lost answer stops the run: {out}");
    assert!(out.contains("502"), "{out}");
    let (code, out) = surgery(&w, &["eol", "--continue"]);
    assert_eq!(code, Some(0), "{out}");
    for n in &numbers {
        assert!(!w.server.pull(*n).open, "#{n} is closed");
        assert_eq!(ours(*n).len(), 1, "#{n}: one close comment, not two: {:?}", ours(*n));
    }
}
