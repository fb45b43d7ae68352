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
