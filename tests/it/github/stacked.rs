//! `backport --for-review` on GitHub, end to end: each stage pushed as its own branch and
//! one pull request per stage, stacked in order, on the stand-in written from GitHub's REST
//! documentation (see `server`). Git is the oracle for what each stage branch holds.

use super::{REPO, TOKEN, World, world};
use crate::{regraft, run};

fn with_origin(w: &World) {
    let bare = w.bare.display().to_string();
    w.work.git(&["remote", "add", "origin", &bare]);
    w.work.git(&["fetch", "-q", "origin"]);
    w.work.git(&["config", &format!("regraft.{}.allowHttp", w.server.url()), "true"]);
}

fn backport(w: &World, args: &[&str]) -> (Option<i32>, String) {
    let host = format!("github:{}", w.server.url());
    run(regraft(w.work.path())
        .args(["backport"])
        .args(args)
        .args(["--for-review", "--review-host", &host, "--project", REPO])
        .env("GH_TOKEN", TOKEN))
}

/// Three fixes on stable/mitaka, the second changing what the first added, the third a
/// squash-merged pull request (`(#41)`).
fn with_fixes(w: &World) -> Vec<String> {
    w.work.checkout("stable/mitaka");
    let a = w.work.commit_file("a.txt", "one\n", "Add a");
    let b = w.work.commit_file("a.txt", "one\ntwo\n", "Extend a");
    let c = w.work.commit_file("c.txt", "c\n", "Fix c (#41)");
    w.work.checkout("main");
    assert!(w.push(&["refs/heads/stable/mitaka:refs/heads/stable/mitaka"]));
    w.work.git(&["fetch", "-q", "origin"]);
    [a, b, c].iter().map(|id| id.to_hex()).collect()
}

#[test]
fn every_stage_becomes_a_pull_request_stacked_on_the_one_before() {
    let w = world(0);
    with_origin(&w);
    let fixes = with_fixes(&w);
    let (code, out) = backport(
        &w,
        &["stable/liberty", "origin/stable/mitaka", "--stage-size", "1", "--branch", "bp"],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains(TOKEN), "{out}");
    let pulls = w.server.requests();
    assert_eq!(pulls.len(), 3, "{pulls:?}");
    for (n, fix) in fixes.iter().enumerate() {
        let head = format!("bp-stage-{}", n + 1);
        let base = if n == 0 { "stable/liberty".to_string() } else { format!("bp-stage-{n}") };
        let pull =
            pulls.iter().find(|p| p.head == head).unwrap_or_else(|| panic!("{head}: {pulls:?}"));
        assert_eq!(pull.base, base, "stacked in order");
        assert!(pull.open);
        let body = pull.body.clone().unwrap_or_default();
        assert!(body.contains(&fix[..12]), "the original commit is named: {body}");
        // The served stage branch is the local branch's n-th commit, as git reads them.
        let local = w.work.git(&["rev-parse", &format!("bp~{}", 2 - n)]);
        assert_eq!(w.served_tip(&head).as_deref(), Some(local.trim()));
        // Its only new commit over its base is its own pick.
        let own = w.work.git(&["rev-list", "--count", &format!("bp~{}..bp~{}", 3 - n, 2 - n)]);
        assert_eq!(own.trim(), "1");
    }
    let third = pulls.iter().find(|p| p.head == "bp-stage-3").expect("stage 3");
    assert!(
        third.body.clone().unwrap_or_default().contains("#41"),
        "the original pull request is named"
    );
    assert!(!w.work.path().join(".git/regraft/backport-review.json").exists());
}

#[test]
fn without_a_forge_for_review_is_refused_before_anything_is_built() {
    let w = world(0);
    with_origin(&w);
    with_fixes(&w);
    let (code, out) = run(regraft(w.work.path()).args([
        "backport",
        "stable/liberty",
        "origin/stable/mitaka",
        "--for-review",
        "--branch",
        "bp",
    ]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("GitHub or GitLab"), "{out}");
    // No branch was made, nothing waits.
    assert!(w.work.git(&["branch", "--list", "bp"]).trim().is_empty());
    assert!(!w.work.path().join(".git/regraft/backport-review.json").exists());
    assert!(w.server.requests().is_empty());
}

#[test]
fn after_a_conflict_continue_goes_on_and_then_opens_the_stacked_requests() {
    let w = world(0);
    with_origin(&w);
    w.work.checkout("stable/mitaka");
    w.work.commit_file("a.txt", "a\n", "Add a");
    // stable/liberty has liberty.txt already, with other content: a conflict.
    w.work.commit_file("liberty.txt", "mitaka's liberty\n", "Touch liberty.txt");
    w.work.commit_file("c.txt", "c\n", "Add c");
    w.work.checkout("main");
    assert!(w.push(&["refs/heads/stable/mitaka:refs/heads/stable/mitaka"]));
    w.work.git(&["fetch", "-q", "origin"]);
    let args = ["stable/liberty", "origin/stable/mitaka", "--stage-size", "1", "--branch", "bp"];
    let (code, out) = backport(&w, &args);
    assert_eq!(code, Some(3), "stopped at the conflict: {out}");
    assert!(w.server.requests().is_empty(), "nothing is sent before every stage is applied");
    w.work.write("liberty.txt", "resolved\n");
    w.work.git(&["add", "liberty.txt"]);
    let (code, out) =
        run(regraft(w.work.path()).args(["backport", "--continue"]).env("GH_TOKEN", TOKEN));
    assert_eq!(code, Some(0), "{out}");
    let pulls = w.server.requests();
    assert_eq!(pulls.len(), 3, "{pulls:?}");
    let second = pulls.iter().find(|p| p.head == "bp-stage-2").expect("stage 2");
    assert_eq!(second.base, "bp-stage-1");
    let body = second.body.clone().unwrap_or_default();
    assert!(body.contains("liberty.txt"), "the predicted conflict is named: {body}");
}

/// A repository whose remote `origin` is the stand-in's bare repository by a relative path
/// that reads as `openstack/kolla` (as a GitHub URL's path does), with `regraft.reviewHost`
/// naming the stand-in, and three fixes on stable/mitaka.
fn hosted_by_path() -> (tempfile::TempDir, regraft_testkit::Fixture, super::Server) {
    let tmp = tempfile::TempDir::new().expect("temp dir");
    let work = regraft_testkit::Fixture::init(&tmp.path().join("work"));
    work.commit_file("README", "kolla\n", "Initial commit");
    work.branch("stable/liberty", "main");
    work.checkout("stable/liberty");
    work.commit_file("liberty.txt", "liberty\n", "Liberty release");
    work.branch("stable/mitaka", "main");
    work.checkout("stable/mitaka");
    work.commit_file("a.txt", "one\n", "Add a");
    work.commit_file("a.txt", "one\ntwo\n", "Extend a");
    work.commit_file("c.txt", "c\n", "Fix c (#41)");
    work.checkout("main");
    let bare = work.path().join("openstack/kolla.git");
    regraft_testkit::Fixture::init_bare(&bare);
    std::fs::write(work.path().join(".git/info/exclude"), "/openstack/\n").expect("exclude");
    let server = super::Server::start(&bare, REPO, TOKEN);
    work.git(&["remote", "add", "origin", "openstack/kolla.git"]);
    work.git(&["push", "-q", "origin", "refs/heads/*:refs/heads/*"]);
    work.git(&["fetch", "-q", "origin"]);
    work.git(&["config", "regraft.reviewHost", &format!("github:{}", server.url())]);
    work.git(&["config", &format!("regraft.{}.allowHttp", server.url()), "true"]);
    (tmp, work, server)
}

/// The guide, on a GitHub-hosted repository, offers the staged backport as stacked pull
/// requests and, when the user says so, runs exactly the command it shows: one pull
/// request per stage, each on the one before, pushed to the guide's remote. Declined, or
/// without a token, nothing is built or pushed and the command is shown.
#[test]
fn the_guide_offers_and_opens_the_stacked_pull_requests() {
    use crate::guide::{ENTER, answer, finish, guide_with};
    for (token, yes) in [(true, true), (true, false), (false, false)] {
        let (_tmp, work, server) = hosted_by_path();
        let envs: &[(&str, &str)] = if token { &[("GH_TOKEN", TOKEN)] } else { &[] };
        let mut p = guide_with(work.path(), &[], envs, 20_000);
        let mut questions = vec![
            ("What do you want to do?", ENTER.to_string()),
            ("Fetch origin first", "n\r".to_string()),
            ("Which branch is broken?", ENTER.to_string()),
            ("What does it need?", ENTER.to_string()),
            ("Which branch holds it?", ENTER.to_string()),
            ("forced (non-fast-forward) pushes", ENTER.to_string()),
            ("merge commits", ENTER.to_string()),
            ("How do changes reach the branch?", ENTER.to_string()),
            ("delete and create the branch", ENTER.to_string()),
            // Recommended here, so preselected.
            ("Which option?", ENTER.to_string()),
            ("Picks per stage", "1\r".to_string()),
            ("Build it on the new local branch", "bp\r".to_string()),
        ];
        if token {
            let keys = if yes { "y\r" } else { ENTER };
            questions.push(("open the stacked pull requests now?", keys.to_string()));
        }
        let mut shown = String::new();
        for (question, keys) in questions {
            shown.push_str(&answer(&mut p, question, &keys));
        }
        let (code, rest) = finish(&mut p);
        let out = format!("{shown}{rest}").replace(" \\\r\n", " ");
        let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(code, Some(0), "{out}");
        assert!(!out.contains(TOKEN), "{out}");
        let pulls = server.requests();
        if !yes {
            assert!(pulls.is_empty(), "{pulls:?}");
            assert!(work.git(&["branch", "--list", "bp"]).trim().is_empty(), "nothing built");
            assert!(out.contains("--for-review --review-host github:"), "{out}");
            assert!(out.contains("--project openstack/kolla"), "{out}");
            if !token {
                assert!(out.contains("No token for"), "{out}");
            }
            continue;
        }
        assert_eq!(pulls.len(), 3, "one per stage: {pulls:?}\n{out}");
        for n in 1..=3 {
            let head = format!("bp-stage-{n}");
            let base =
                if n == 1 { "stable/liberty".to_string() } else { format!("bp-stage-{}", n - 1) };
            let pull = pulls.iter().find(|p| p.head == head).unwrap_or_else(|| panic!("{head}"));
            assert_eq!(pull.base, base, "stacked in order");
            // The served stage branch is the local branch's n-th commit, as git reads them.
            let local = work.git(&["rev-parse", &format!("bp~{}", 3 - n)]);
            let served = regraft_testkit::git_at(
                &work.path().join("openstack/kolla.git"),
                regraft_testkit::EPOCH,
            )
            .output(&["rev-parse", &format!("refs/heads/{head}")])
            .expect("the stage branch is served");
            assert_eq!(String::from_utf8_lossy(&served).trim(), local.trim());
        }
    }
}
