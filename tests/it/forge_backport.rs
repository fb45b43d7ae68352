//! `backport --for-review` on the GitHub stand-in, as the user sees it: the picks are
//! simulated once (read from the argv trace, `REGRAFT_TRACE`), and the run does not tell
//! the user to push stages it has just pushed for review.

use crate::github::{REPO, TOKEN, World, world};
use crate::{regraft, run, run_apart};

fn with_origin_and_fixes(w: &World) {
    let bare = w.bare.display().to_string();
    w.work.git(&["remote", "add", "origin", &bare]);
    w.work.git(&["config", &format!("regraft.{}.allowHttp", w.server.url()), "true"]);
    w.work.checkout("stable/mitaka");
    w.work.commit_file("a.txt", "one\n", "Add a");
    w.work.commit_file("a.txt", "one\ntwo\n", "Extend a");
    w.work.commit_file("c.txt", "c\n", "Fix c (#41)");
    w.work.checkout("main");
    assert!(w.push(&["refs/heads/stable/mitaka:refs/heads/stable/mitaka"]));
    w.work.git(&["fetch", "-q", "origin"]);
}

const PICKS: [&str; 6] =
    ["stable/liberty", "origin/stable/mitaka", "--stage-size", "1", "--branch", "bp"];

/// The simulation's `git merge-tree` sessions in a traced run's standard error: the
/// simulation is the only caller that merges into scratch objects (`-c
/// core.looseCompression=0`); applying the picks merges into the repository itself.
fn simulations(stderr: &str) -> usize {
    stderr.lines().filter(|l| l.contains("core.looseCompression=0 merge-tree")).count()
}

#[test]
fn for_review_simulates_the_picks_once_as_a_dry_run_does() {
    let w = world(0);
    with_origin_and_fixes(&w);
    // Without the simulation cache, which would answer the second run's merges.
    w.work.git(&["config", "regraft.mergeCache", "false"]);
    let (code, _, dry) = run_apart(
        regraft(w.work.path())
            .args(["backport", "--dry-run"])
            .args(PICKS)
            .env("REGRAFT_TRACE", "1"),
    );
    assert_eq!(code, Some(0), "{dry}");
    let once = simulations(&dry);
    assert!(once > 0, "the trace shows the simulation: {dry}");
    let host = format!("github:{}", w.server.url());
    let (code, out, err) = run_apart(
        regraft(w.work.path())
            .arg("backport")
            .args(PICKS)
            .args(["--for-review", "--review-host", &host, "--project", REPO])
            .env("GH_TOKEN", TOKEN)
            .env("REGRAFT_TRACE", "1"),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(w.server.requests().len(), 3, "the stages went for review: {out}{err}");
    assert_eq!(simulations(&err), once, "simulated once, as the dry run: {err}");
}

#[test]
fn the_next_step_names_a_push_only_when_the_stages_were_not_pushed_for_review() {
    let hint = "next: push it for review";
    let w = world(0);
    with_origin_and_fixes(&w);
    let host = format!("github:{}", w.server.url());
    let (code, out) = run(regraft(w.work.path())
        .arg("backport")
        .args(PICKS)
        .args(["--for-review", "--review-host", &host, "--project", REPO])
        .env("GH_TOKEN", TOKEN));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(w.server.requests().len(), 3, "{out}");
    assert!(out.contains("their requests opened, stacked"), "{out}");
    assert!(!out.contains(hint), "the stages are already pushed: {out}");

    let w = world(0);
    with_origin_and_fixes(&w);
    let (code, out) = run(regraft(w.work.path()).arg("backport").args(PICKS));
    assert_eq!(code, Some(0), "{out}");
    // Wrapped at the terminal's width: read as one line again.
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(out.contains(hint), "a local branch still goes for review: {out}");
    assert!(out.contains("--from bp --strategy backport"), "{out}");
    assert!(w.server.requests().is_empty());
}
