//! `backport --for-review` on GitLab, end to end: each stage pushed as its own branch and
//! one merge request per stage, stacked in order, on the stand-in written from GitLab's
//! REST documentation (see `server`). Git is the oracle for what each stage branch holds.

use super::{PROJECT, TOKEN, World};
use crate::{regraft, run};

#[test]
fn every_stage_becomes_a_merge_request_stacked_on_the_one_before() {
    let w = World::new(0);
    w.work.git(&["config", &format!("regraft.{}.allowHttp", w.server.url()), "true"]);
    w.work.branch("stable/mitaka", "main");
    w.work.checkout("stable/mitaka");
    let fixes = [
        w.work.commit_file("a.txt", "one\n", "Add a"),
        w.work.commit_file("b.txt", "b\n", "Add b"),
    ];
    w.work.checkout("main");
    w.push(&["refs/heads/stable/mitaka:refs/heads/stable/mitaka"]).expect("pushed");
    w.work.git(&["fetch", "-q", "origin"]);
    let host = format!("gitlab:{}", w.server.url());
    let (code, out) = run(regraft(w.work.path())
        .args(["backport", "stable/liberty", "origin/stable/mitaka", "--stage-size", "1"])
        .args(["--branch", "bp", "--for-review", "--review-host", &host, "--project", PROJECT])
        .env("GITLAB_TOKEN", TOKEN));
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains(TOKEN), "{out}");
    let requests = w.server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    for (n, fix) in fixes.iter().enumerate() {
        let head = format!("bp-stage-{}", n + 1);
        let base = if n == 0 { "stable/liberty".to_string() } else { format!("bp-stage-{n}") };
        let mr = requests.iter().find(|r| r.source_branch == head).expect("a request per stage");
        assert_eq!(mr.target_branch, base, "stacked in order");
        assert_eq!(mr.state, "opened");
        assert!(mr.description.contains(&fix.to_hex()[..12]), "{}", mr.description);
        let local = w.work.git(&["rev-parse", &format!("bp~{}", 1 - n)]);
        assert_eq!(w.remote_tip(&head).as_deref(), Some(local.trim()));
    }
}
