//! Replacing and ending a branch on GitLab, end to end: the real executable against the
//! stand-in (written from GitLab's REST documentation, see `server`), whose branches live
//! in a bare repository that `git push` changes. GitLab leaves a merge request open when
//! its target branch is deleted, but then it targets nothing and can be neither merged nor
//! reopened; the surgery holds them on a hold branch all the same and brings them back.

use super::{PROJECT, Rule, TOKEN, World};
use crate::{flat, regraft, run};

/// Fetches the served branches and lets a token cross plain HTTP to this stand-in (only
/// because the test allows it).
pub fn with_origin(w: &World) {
    w.work.git(&["fetch", "-q", "origin"]);
    w.work.git(&["config", &format!("regraft.{}.allowHttp", w.server.url()), "true"]);
}

/// Runs a surgery with GitLab's token naming the stand-in as the review host.
pub fn surgery(w: &World, args: &[&str]) -> (Option<i32>, String) {
    let host = format!("gitlab:{}", w.server.url());
    run(regraft(w.work.path())
        .args(args)
        .args(["--review-host", &host, "--project", PROJECT])
        .env("GITLAB_TOKEN", TOKEN)
        .env("REGRAFT_TRACE", "1"))
}

/// The merge requests open on `target`, by iid.
pub fn open_on(w: &World, target: &str) -> Vec<u64> {
    w.server
        .requests()
        .iter()
        .filter(|r| r.state == "opened" && r.target_branch == target)
        .map(|r| r.iid)
        .collect()
}

const RECREATE: [&str; 6] =
    ["replace", "stable/liberty", "--from", "origin/main", "--strategy", "recreate"];

#[test]
fn recreate_keeps_every_open_merge_request_open_and_targeting_the_new_branch() {
    let w = World::new(5);
    with_origin(&w);
    // More than one page of them.
    w.server.cap_per_page(2);
    let iids: Vec<u64> = (1..=5)
        .map(|n| w.server.add_request(&format!("fix-{n}"), "stable/liberty", &format!("Fix {n}")))
        .collect();
    let main = w.remote_tip("main").expect("main is served");
    let old = w.remote_tip("stable/liberty").expect("liberty is served");

    let (code, out) = surgery(&w, &RECREATE);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("regraft-hold/stable/liberty"),
        "the dry run names the hold branch: {out}"
    );
    assert!(out.contains("PUT"), "the dry run shows the retargeting calls: {out}");
    assert_eq!(open_on(&w, "stable/liberty"), iids);
    assert!(w.remote_tip("regraft-hold/stable/liberty").is_none(), "the dry run changed nothing");

    let (code, out) = surgery(&w, &[&RECREATE[..], &["--execute", "--yes"]].concat());
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains(TOKEN), "the token never shows: {out}");
    assert_eq!(w.remote_tip("stable/liberty").as_deref(), Some(main.as_str()));
    assert_ne!(main, old);
    assert!(w.remote_tip("regraft-hold/stable/liberty").is_none(), "the hold branch is gone");
    assert_eq!(open_on(&w, "stable/liberty"), iids, "{:?}", w.server.requests());
    // They went through the hold branch: GitLab's system notes say so.
    for iid in &iids {
        let notes = w.server.request(*iid).notes;
        assert!(
            notes.iter().any(|n| n.system && n.body.contains("regraft-hold/stable/liberty")),
            "!{iid}: {notes:?}"
        );
    }
    for logged in w.server.log() {
        assert!(logged.token.as_deref().is_none_or(|t| t == TOKEN), "{logged:?}");
    }
    assert!(!w.work.path().join(".git/regraft/requests.json").exists(), "nothing is left held");
}

#[test]
fn a_protected_branch_is_refused_at_planning_since_gitlab_never_deletes_one_by_push() {
    let w = World::new(2);
    with_origin(&w);
    let iids: Vec<u64> = (1..=2)
        .map(|n| w.server.add_request(&format!("fix-{n}"), "stable/liberty", "Fix"))
        .collect();
    let mut rule = Rule::new("stable/*");
    // Even a rule that allows force pushes forbids deleting the branch by a push.
    rule.allow_force_push = true;
    w.server.protect(rule);
    let liberty = w.remote_tip("stable/liberty");
    for extra in [&[][..], &["--execute", "--yes"]] {
        let (code, out) = surgery(&w, &[&RECREATE[..], extra].concat());
        let out = flat(&out);
        assert_eq!(code, Some(3), "a finding, as a Gerrit's denied right: {out}");
        assert!(out.contains("would refuse this plan"), "{out}");
        assert!(out.contains("deletes stable/liberty"), "{out}");
        assert!(out.contains("stable/*"), "the rule is named: {out}");
    }
    assert_eq!(w.remote_tip("stable/liberty"), liberty);
    assert_eq!(open_on(&w, "stable/liberty"), iids);
    assert!(w.remote_tip("regraft-hold/stable/liberty").is_none());
    assert!(!w.work.path().join(".git/regraft/journal.json").exists());
    // Nothing but reads reached the server.
    assert!(w.server.log().iter().all(|l| l.method == "GET"), "{:?}", w.server.log());
}

#[test]
fn eol_closes_the_merge_requests_naming_the_tag_and_restore_reopens_them() {
    let w = World::new(3);
    with_origin(&w);
    w.server.cap_per_page(2);
    let iids: Vec<u64> = (1..=3)
        .map(|n| w.server.add_request(&format!("fix-{n}"), "stable/liberty", "Fix"))
        .collect();
    let liberty = w.remote_tip("stable/liberty").expect("served");
    let (code, out) = surgery(&w, &["eol", "stable/liberty", "--execute", "--yes"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(w.remote_tip("stable/liberty").is_none(), "the branch is deleted");
    for iid in &iids {
        let mr = w.server.request(*iid);
        assert_eq!(mr.state, "closed", "!{iid}");
        let said: Vec<_> = mr.notes.iter().filter(|n| !n.system).collect();
        assert_eq!(said.len(), 1, "!{iid}: {said:?}");
        assert!(said[0].body.contains("liberty-eol"), "!{iid}: {said:?}");
    }
    // GitLab reopens no merge request whose target is gone: the branch comes back first.
    w.push(&[&format!("{liberty}:refs/heads/stable/liberty")]).expect("pushed back");
    let (code, out) = run(regraft(w.work.path())
        .args(["restore", "--from-journal", "--branch", "stable/liberty", "--execute", "--yes"])
        .env("GITLAB_TOKEN", TOKEN));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(open_on(&w, "stable/liberty"), iids, "{:?}", w.server.requests());
    assert!(!out.contains(TOKEN), "{out}");
}

/// A note GitLab took whose answer was lost (a 502 after the work was done) is not sent
/// again by the transport: the step fails, and `--continue` finds the note there and posts
/// none. Each merge request ends closed under exactly one note naming the tag.
#[test]
fn a_note_whose_answer_is_lost_is_not_posted_again() {
    let w = World::new(2);
    with_origin(&w);
    let iids: Vec<u64> = (1..=2)
        .map(|n| w.server.add_request(&format!("fix-{n}"), "stable/liberty", "Fix"))
        .collect();
    let ours = |iid: u64| -> Vec<_> {
        let mr = w.server.request(iid);
        mr.notes.into_iter().filter(|n| !n.system && n.body.contains("liberty-eol")).collect()
    };
    w.server.lose_answers_to_posts(1, 502);
    let (code, out) = surgery(&w, &["eol", "stable/liberty", "--execute", "--yes"]);
    for iid in &iids {
        assert!(ours(*iid).len() <= 1, "!{iid}: the note was not sent twice: {:?}", ours(*iid));
    }
    assert_ne!(code, Some(0), "the lost answer stops the run: {out}");
    let (code, out) = surgery(&w, &["eol", "--continue"]);
    assert_eq!(code, Some(0), "{out}");
    for iid in &iids {
        assert_eq!(w.server.request(*iid).state, "closed", "!{iid}");
        assert_eq!(ours(*iid).len(), 1, "!{iid}: one note, not two: {:?}", ours(*iid));
    }
}
