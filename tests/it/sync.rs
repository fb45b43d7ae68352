//! `sync` for a developer whose upstream branch was replaced: local work replayed, what is
//! already upstream dropped, nothing lost (checked by patch-id), backups and undo.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regraft_testkit::Fixture;
use tempfile::TempDir;

use crate::{git, git_patch_id, id, regraft, run};

mod advance;

struct World {
    _tmp: TempDir,
    server: PathBuf,
    dev: PathBuf,
}

/// A server with master, stable/liberty and stable/mitaka; a developer clone with local
/// work; then the server replaces stable/liberty by stable/mitaka (old tip tagged).
fn world() -> World {
    let tmp = TempDir::new().expect("temp dir");
    let root = tmp.path();
    let seed = Fixture::init(&root.join("seed"));
    let text: String = (0..20).map(|i| format!("line {i}\n")).collect();
    seed.commit_file("app.txt", &text, "Base");
    seed.branch("stable/liberty", "main");
    seed.branch("stable/mitaka", "main");
    seed.checkout("stable/liberty");
    seed.commit_file("liberty.txt", "broken\n", "Liberty's own change");
    seed.checkout("stable/mitaka");
    seed.commit_file("mitaka.txt", "fixed\n", "Mitaka's fix");
    seed.checkout("main");
    let server = root.join("server.git");
    git(
        root,
        &[
            "clone",
            "-q",
            "--bare",
            seed.path().to_str().expect("utf-8"),
            server.to_str().expect("utf-8"),
        ],
    );
    let dev = root.join("dev");
    git(
        root,
        &["clone", "-q", &format!("file://{}", server.display()), dev.to_str().expect("utf-8")],
    );
    let d = Fixture::open(&dev);
    d.git(&["checkout", "-q", "-b", "stable/liberty", "--track", "origin/stable/liberty"]);
    d.commit_file("mine.txt", "unpushed work\n", "My unpushed fix");
    d.git(&["checkout", "-q", "-b", "topic", "stable/liberty"]);
    let body = text.replace("line 3\n", "line three\n");
    d.commit_file("app.txt", &body, "Topic: line three");
    d.commit_file("topic.txt", "topic\n", "Topic: its own file");
    d.git(&["branch", "mirror", "origin/stable/liberty"]);
    d.git(&["branch", "--set-upstream-to=origin/stable/liberty", "mirror"]);
    d.git(&["branch", "unrelated", "origin/main"]);
    d.git(&["checkout", "-q", "stable/liberty"]);
    // Upstream: the topic's first change lands on mitaka (as a cherry-pick), then liberty
    // is replaced by mitaka, its old tip kept by a tag.
    seed.checkout("stable/mitaka");
    seed.commit_file("app.txt", &body, "Topic: line three\n\n(merged upstream meanwhile)");
    git(seed.path(), &["push", "-q", server.to_str().expect("utf-8"), "stable/mitaka"]);
    let old = git(&server, &["rev-parse", "stable/liberty"]);
    git(&server, &["tag", "-a", "-m", "old tip", "liberty-early-demise", &old]);
    git(&server, &["update-ref", "refs/heads/stable/liberty", "refs/heads/stable/mitaka"]);
    World { _tmp: tmp, server, dev }
}

/// Patch-ids of the commits in `range`.
fn patches(dir: &Path, range: &str) -> BTreeSet<String> {
    git(dir, &["rev-list", "--no-merges", range])
        .lines()
        .filter_map(|c| git_patch_id(dir, id(c)))
        .collect()
}

fn at(dir: &Path, rev: &str) -> String {
    git(dir, &["rev-parse", rev])
}

#[test]
fn sync_all_replays_drops_and_moves_without_losing_a_commit() {
    let w = world();
    let d = &w.dev;
    let old = at(d, "origin/stable/liberty");
    let mine = patches(d, &format!("{old}..stable/liberty"));
    let topic = patches(d, &format!("{old}..topic"));
    let unrelated = at(d, "unrelated");
    let refs = git(d, &["for-each-ref", "refs/heads/"]);
    let (code, out) = run(regraft(d).args(["sync", "--all", "--dry-run"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("found by before-fetch") && out.contains("would be"), "{out}");
    assert_eq!(git(d, &["for-each-ref", "refs/heads/"]), refs, "a dry run moves no branch");
    let before_dry = at(d, "topic");
    let (code, out) = run(regraft(d).args(["sync", "--all"]));
    assert_eq!(code, Some(0), "{out}");
    assert_ne!(before_dry, at(d, "topic"));
    let new = at(&w.server, "stable/liberty");
    assert!(out.contains("found by reflog"), "the dry run fetched already: {out}");
    // Nothing lost, nothing duplicated: the same patches, now on the new upstream.
    assert_eq!(patches(d, &format!("{new}..stable/liberty")), mine);
    let upstream = patches(d, &format!("{old}..{new}"));
    let topic_now = patches(d, &format!("{new}..topic"));
    assert_eq!((topic.len(), topic_now.len()), (3, 2), "the change merged upstream is dropped");
    // Regression: the topic, built on the local branch's unpushed commit, got a second copy
    // of it under another id; it now stands on the synced local branch.
    assert_eq!(
        git(d, &["rev-list", "--count", "stable/liberty..topic"]),
        "1",
        "only the topic's own commit is above the synced stable/liberty"
    );
    git(d, &["merge-base", "--is-ancestor", "stable/liberty", "topic"]);
    assert!(topic_now.is_subset(&topic));
    assert!(
        topic.difference(&topic_now).all(|p| upstream.contains(p)),
        "what was dropped is upstream"
    );
    assert_eq!(at(d, "mirror"), new, "no local work: moved");
    assert_eq!(at(d, "unrelated"), unrelated, "unrelated branch left alone");
    assert_eq!(git(d, &["log", "-1", "--format=%an", "topic"]), "Ada Author", "authorship kept");
    assert!(
        git(d, &["status", "--porcelain"]).is_empty(),
        "the checked-out branch's work tree follows"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("mitaka.txt")).expect("new upstream's file"),
        "fixed\n"
    );
    let backups =
        git(d, &["for-each-ref", "--format=%(refname) %(objectname)", "refs/regraft/backup/"]);
    assert_eq!(backups.lines().count(), 3, "{backups}");
    // And back.
    let (code, out) = run(regraft(d).args(["sync", "--undo"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(patches(d, &format!("{old}..stable/liberty")), mine);
    assert_eq!(at(d, "topic"), before_dry);
}

#[test]
fn old_tips_are_found_after_a_manual_fetch_and_without_reflogs() {
    for expire in [false, true] {
        let w = world();
        let d = &w.dev;
        git(d, &["fetch", "-q", "--tags", "origin"]);
        if expire {
            git(d, &["reflog", "expire", "--expire=now", "--all"]);
        }
        let (code, out) = run(regraft(d).args(["sync", "--all", "--no-fetch"]));
        assert_eq!(code, Some(0), "{out}");
        let how = if expire { "found by tag liberty-early-demise" } else { "found by reflog" };
        assert!(out.contains(how), "{out}");
        assert_eq!(at(d, "mirror"), at(&w.server, "stable/liberty"));
    }
}

#[test]
fn dirty_trees_conflicts_and_detached_heads() {
    let w = world();
    let d = &w.dev;
    // A branch whose local change conflicts with the new upstream.
    git(d, &["branch", "clash", "origin/stable/liberty"]);
    git(d, &["branch", "--set-upstream-to=origin/stable/liberty", "clash"]);
    let f = Fixture::open(d);
    f.git(&["checkout", "-q", "clash"]);
    f.commit_file("mitaka.txt", "my own mitaka.txt\n", "Add a clashing file");
    f.git(&["checkout", "-q", "stable/liberty"]);
    std::fs::write(d.join("mine.txt"), "edited, not committed\n").expect("write");
    let before = at(d, "stable/liberty");
    let clash = at(d, "clash");
    let (code, out) = run(regraft(d).args(["sync", "--all"]));
    assert_eq!(code, Some(3), "a conflict is reported: {out}");
    assert!(out.contains("clash: left unchanged") && out.contains("mitaka.txt"), "{out}");
    assert_eq!(at(d, "clash"), clash);
    assert!(
        out.contains("stable/liberty: skipped") && out.contains("uncommitted changes"),
        "{out}"
    );
    assert_eq!(at(d, "stable/liberty"), before, "dirty: not rewritten");
    assert_eq!(at(d, "mirror"), at(&w.server, "stable/liberty"), "the others go on");
    // Detached HEAD: nothing to sync by default, and HEAD stays.
    git(d, &["checkout", "-q", "-f", "--detach", "stable/liberty"]);
    let head = at(d, "HEAD");
    let (code, out) = run(regraft(d).args(["sync", "--no-fetch"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(at(d, "HEAD"), head);
}

#[test]
fn sync_exits_0_only_when_every_branch_is_synced_or_needs_nothing() {
    // Regression: a dirty-tree skip, a typo, an unknown remote and a branch with no
    // upstream all exited 0 ("nothing to sync"), so `sync --all && ...` went on.
    let w = world();
    let d = &w.dev;
    // The commits dropped as already there are named, not only counted.
    let landed = git(d, &["log", "-1", "--format=%H", "--grep=Topic: line three", "topic"]);
    let (code, out) = run(regraft(d).args(["sync", "--all", "--dry-run"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("dropped as already there: {}", &landed[..10])), "{out}");
    let (code, out) = run(regraft(d).args(["sync", "stable/libety", "--no-fetch"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("no local branch `stable/libety`") && out.contains("stable/liberty"),
        "{out}"
    );
    let (code, out) = run(regraft(d).args(["sync", "--remote", "nosuch"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("`nosuch` is not a remote of this repository (origin)"), "{out}");

    // Dirty: skipped, and the exit says so.
    std::fs::write(d.join("mine.txt"), "edited, not committed\n").expect("write");
    let (code, out) = run(regraft(d).args(["sync", "stable/liberty"]));
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("skipped"), "{out}");
    git(d, &["checkout", "-q", "--", "mine.txt"]);

    // A branch with no upstream that contains no replaced tip: regraft cannot place it,
    // and says how to tell it.
    git(d, &["checkout", "-q", "--no-track", "-b", "local-only", "origin/main"]);
    Fixture::open(d).commit_file("local.txt", "mine\n", "Local only");
    let (code, out) = run(regraft(d).args(["sync"]));
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("local-only: NOT synced")
            && out.contains("--old-tip")
            && out.contains("git branch -u origin/<branch> local-only"),
        "{out}"
    );
    // A branch whose upstream was not rewritten provably needs nothing: exit 0.
    git(d, &["checkout", "-q", "-b", "on-main", "--track", "origin/main"]);
    let (code, out) = run(regraft(d).args(["sync", "--no-fetch"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("on-main: nothing to do, origin/main was not rewritten"), "{out}");
}

#[test]
fn a_topic_on_the_local_branch_s_unpushed_work_follows_it_without_a_second_copy() {
    // Regression: a topic built on the local stable branch's unpushed commit got its own
    // copy of that commit under another id (hidden when both were written in one second).
    let w = world();
    let d = &w.dev;
    let (code, out) = run(regraft(d)
        .args(["sync", "stable/liberty"])
        .env("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z"));
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(regraft(d)
        .args(["sync", "topic", "--no-fetch"])
        .env("GIT_COMMITTER_DATE", "2021-06-01T00:00:00Z"));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(git(d, &["rev-list", "--count", "stable/liberty..topic"]), "1", "{out}");
    git(d, &["merge-base", "--is-ancestor", "stable/liberty", "topic"]);
    assert_eq!(
        git(d, &["log", "--format=%s", "stable/liberty..topic"]),
        "Topic: its own file",
        "the line-three change is upstream now, the unpushed fix is the stable branch's"
    );
}

#[test]
fn sync_outcomes_keep_their_json_names() {
    use regraft::surgery::sync::SyncOutcome;
    let names: Vec<String> = [
        SyncOutcome::Moved,
        SyncOutcome::Replayed,
        SyncOutcome::Conflict,
        SyncOutcome::Skipped,
        SyncOutcome::UpToDate,
        SyncOutcome::Unknown,
    ]
    .iter()
    .map(|o| serde_json::to_value(o).expect("serializes").as_str().expect("a string").to_string())
    .collect();
    assert_eq!(names, ["moved", "replayed", "conflict", "skipped", "up-to-date", "unknown"]);
}

#[test]
fn is_ancestor_answers_as_git_and_fails_on_a_commit_the_repository_lacks() {
    let w = world();
    let d = &w.dev;
    let repo = crate::open(d);
    let (base, tip) = (id(&at(d, "origin/stable/liberty")), id(&at(d, "topic")));
    for (a, b) in [(base, tip), (tip, base), (tip, tip)] {
        let git_says = crate::git_at(d, 0)
            .finished(&["merge-base", "--is-ancestor", &a.to_hex(), &b.to_hex()], &[])
            .expect("git runs")
            .status
            .success();
        assert_eq!(repo.is_ancestor(a, b).expect("both are here"), git_says, "{a} in {b}");
    }
    // Regression: an id the repository lacks read as "not an ancestor".
    let missing = id("0123456789abcdef0123456789abcdef01234567");
    assert!(repo.is_ancestor(missing, tip).is_err());
    assert!(repo.is_ancestor(tip, missing).is_err());
}

#[test]
fn a_history_that_cannot_be_read_stops_sync_instead_of_deciding_the_branch_needs_nothing() {
    let w = world();
    let d = &w.dev;
    git(d, &["fetch", "-q", "--tags", "origin"]);
    let topic = at(d, "topic");
    // The developer's own commit under the topic, a loose object, goes missing.
    let mine = at(d, "stable/liberty");
    let object = d.join(".git/objects").join(&mine[..2]).join(&mine[2..]);
    std::fs::remove_file(&object).expect("the unpushed commit is a loose object");
    // Regression: is_ancestor's error read as "no", and sync called topic not built on the
    // replaced tip (exit 3, "contains no replaced tip") instead of saying it could not tell.
    let (code, out) = run(regraft(d).args(["sync", "--no-fetch", "topic"]));
    assert_eq!(code, Some(1), "{out}");
    // Sync reads every local branch (to name those it leaves and to stack one on another),
    // so the history it cannot read may be met on stable/liberty itself: the error names
    // the missing commit either way.
    assert!(out.contains("reading whether") && out.contains(&mine), "{out}");
    assert!(!out.contains("contains no replaced tip"), "{out}");
    assert_eq!(at(d, "topic"), topic, "the branch stays where it was");
}

/// A `REGRAFT_GIT` wrapper that counts git calls in `counter` and kills regraft at the
/// `n`th one, before it runs (`n` 0: never).
fn killing_at_call(dir: &Path, n: usize) -> PathBuf {
    let wrapper = dir.join(format!("git-kill-at-{n}"));
    let counter = dir.join(format!("calls-{n}"));
    let script = format!(
        "#!/bin/sh\necho x >> '{c}'\nif [ {n} -gt 0 ] && [ \"$(wc -l < '{c}')\" -ge {n} ]; then kill -9 $PPID; sleep 1; exit 1; fi\nexec git \"$@\"\n",
        c = counter.display()
    );
    std::fs::write(&wrapper, script).expect("write the wrapper");
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    wrapper
}

/// Every commit reachable from a local branch or a sync backup.
fn kept_commits(d: &Path) -> BTreeSet<String> {
    git(d, &["rev-list", "--branches", "--glob=refs/regraft/backup/*"])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn sync_killed_at_every_git_call_then_run_again_or_undone_loses_no_local_commit() {
    // Issue 24 (item 11): no kill test covered sync.
    let probe = world();
    let wrappers = TempDir::new().expect("temp dir");
    let (code, out) = run(regraft(&probe.dev)
        .env("REGRAFT_GIT", killing_at_call(wrappers.path(), 0))
        .args(["sync", "--all"]));
    assert_eq!(code, Some(0), "{out}");
    let calls = std::fs::read_to_string(wrappers.path().join("calls-0")).expect("counted");
    let calls = calls.lines().count();
    assert!(calls > 3, "{calls} git calls");
    // Bounded: at most about 12 kills, spread over the whole run.
    let stride = calls.div_ceil(12).max(1);
    for n in (1..=calls).step_by(stride) {
        for then in ["sync", "undo"] {
            let w = world();
            let d = &w.dev;
            let before: BTreeSet<String> =
                git(d, &["rev-list", "--branches"]).lines().map(str::to_string).collect();
            let (code, out) = run(regraft(d)
                .env("REGRAFT_GIT", killing_at_call(wrappers.path(), n))
                .args(["sync", "--all"]));
            let _ = std::fs::remove_file(wrappers.path().join(format!("calls-{n}")));
            assert_eq!(code, None, "killed at git call {n}: {out}");
            let kept = kept_commits(d);
            assert!(before.is_subset(&kept), "killed at call {n}: a commit is lost");
            let args: &[&str] =
                if then == "sync" { &["sync", "--all"] } else { &["sync", "--undo"] };
            let (code, out) = run(regraft(d).args(args));
            // A kill before sync recorded anything leaves nothing to undo: that is said.
            let nothing = then == "undo" && code == Some(2) && out.contains("no sync to undo");
            assert!(
                matches!(code, Some(0 | 3)) || nothing,
                "{then} after a kill at call {n}: {out}"
            );
            let kept = kept_commits(d);
            let lost: Vec<&String> = before.difference(&kept).collect();
            assert!(lost.is_empty(), "{then} after a kill at call {n}: lost {lost:?}: {out}");
        }
    }
}

// Issue 25, item 5: a topic branch built on the local stable branch's unpushed commits.

/// A developer's `stable/liberty` with two unpushed commits (A, B) on the old tip, and a
/// `topic` branched from it at B that adds C; then the server replaces stable/liberty by
/// stable/mitaka (old tip tagged).
struct Stacked {
    world: World,
    /// The old upstream tip.
    old: String,
    /// A, B and C as the developer wrote them.
    originals: [String; 3],
}

fn stacked() -> Stacked {
    let tmp = TempDir::new().expect("temp dir");
    let root = tmp.path();
    let seed = Fixture::init(&root.join("seed"));
    seed.commit_file("app.txt", "base\n", "Base");
    seed.branch("stable/liberty", "main");
    seed.branch("stable/mitaka", "main");
    seed.checkout("stable/liberty");
    seed.commit_file("liberty.txt", "broken\n", "Liberty's own change");
    seed.checkout("stable/mitaka");
    seed.commit_file("mitaka.txt", "fixed\n", "Mitaka's fix");
    seed.checkout("main");
    let server = root.join("server.git");
    let url = format!("file://{}", server.display());
    git(root, &["clone", "-q", "--bare", seed.path().to_str().expect("utf-8"), "server.git"]);
    let dev = root.join("dev");
    git(root, &["clone", "-q", &url, dev.to_str().expect("utf-8")]);
    let d = Fixture::open(&dev);
    d.git(&["checkout", "-q", "-b", "stable/liberty", "--track", "origin/stable/liberty"]);
    let a = d.commit_file("a.txt", "A\n", "A: unpushed on stable");
    let b = d.commit_file("b.txt", "B\n", "B: unpushed on stable");
    d.git(&["checkout", "-q", "-b", "topic", "stable/liberty"]);
    let c = d.commit_file("c.txt", "C\n", "C: the topic's own");
    d.git(&["checkout", "-q", "stable/liberty"]);
    let old = git(&server, &["rev-parse", "stable/liberty"]);
    git(&server, &["tag", "-a", "-m", "old tip", "liberty-early-demise", &old]);
    git(&server, &["update-ref", "refs/heads/stable/liberty", "refs/heads/stable/mitaka"]);
    Stacked {
        world: World { _tmp: tmp, server, dev },
        old,
        originals: [a, b, c].map(|c| c.to_hex()),
    }
}

/// Runs `git regraft ARGS` in the developer's clone with its own committer date, so copies
/// of a commit made by different runs get different ids.
fn sync_at(s: &Stacked, day: u32, args: &[&str]) -> (Option<i32>, String) {
    run(regraft(&s.world.dev)
        .args(args)
        .env("GIT_COMMITTER_DATE", format!("2021-01-{day:02}T00:00:00Z")))
}

/// `git log -p RANGE | git patch-id --stable`: one patch-id per commit of the range.
fn patch_ids_of_range(dir: &Path, range: &str) -> Vec<String> {
    let f = Fixture::open(dir);
    let log = f.git_with_input(&["log", "-p", "--no-merges", range], None);
    let out = f.git_with_input(&["patch-id", "--stable"], Some(&log));
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Checks, with git as the oracle, the state every order must end in: stable/liberty is
/// the new upstream plus A' and B', each once; topic is stable/liberty plus C', each of A,
/// B, C once, and its A', B' are stable/liberty's very commits; every original commit is
/// still reachable from a branch or a backup; the work tree is clean.
fn assert_stacked_synced(s: &Stacked, how: &str) {
    let d = &s.world.dev;
    let new = at(&s.world.server, "stable/liberty");
    let original: Vec<String> =
        s.originals.iter().map(|c| git_patch_id(d, id(c)).expect("a patch")).collect();
    let count = |ids: &[String], p: &String| ids.iter().filter(|q| *q == p).count();
    let stable = patch_ids_of_range(d, &format!("{new}..stable/liberty"));
    assert_eq!(stable.len(), 2, "{how}: stable/liberty is the new tip + A' + B'");
    for p in &original[..2] {
        assert_eq!(count(&stable, p), 1, "{how}: stable/liberty has A and B once each");
    }
    git(d, &["merge-base", "--is-ancestor", &new, "stable/liberty"]);
    let topic = patch_ids_of_range(d, &format!("{new}..topic"));
    assert_eq!(topic.len(), 3, "{how}: topic is A' B' C'");
    for p in &original {
        assert_eq!(count(&topic, p), 1, "{how}: topic has A, B and C once each");
    }
    let stacked = crate::git_at(d, 0)
        .finished(&["merge-base", "--is-ancestor", "stable/liberty", "topic"], &[])
        .expect("git runs")
        .status
        .success();
    assert!(stacked, "{how}: topic's A', B' are stable/liberty's own commits, not copies");
    assert_eq!(git(d, &["rev-list", "--count", "stable/liberty..topic"]), "1", "{how}");
    let kept = kept_commits(d);
    for c in s.originals.iter().chain([&s.old]) {
        assert!(kept.contains(c), "{how}: {c} is reachable from a branch or a backup");
    }
    assert!(git(d, &["status", "--porcelain"]).is_empty(), "{how}: the work tree follows");
}

fn heads(d: &Path) -> String {
    git(d, &["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/"])
}

#[test]
fn stacked_topic_first_is_refused_naming_stable_then_both_sync_in_either_order() {
    let s = stacked();
    let d = &s.world.dev;
    let before = heads(d);
    // Syncing the topic alone would give it its own copies of A and B: refused, naming
    // the branch to sync first, and nothing moves.
    let (code, out) = sync_at(&s, 1, &["sync", "topic"]);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("topic: skipped") && out.contains("sync stable/liberty first"), "{out}");
    assert_eq!(heads(d), before, "a refused sync moves nothing");
    let (code, json, _) =
        crate::run_apart(regraft(d).args(["sync", "topic", "--no-fetch", "--dry-run", "--json"]));
    assert_eq!(code, Some(3), "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(report["branches"][0]["sync_first"], serde_json::json!(["stable/liberty"]));
    // Then stable, then topic.
    let (code, out) = sync_at(&s, 2, &["sync", "stable/liberty", "--no-fetch"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = sync_at(&s, 3, &["sync", "topic", "--no-fetch"]);
    assert_eq!(code, Some(0), "{out}");
    assert_stacked_synced(&s, "topic refused, stable, topic");
    // Both named, the topic first: synced in the order that stacks them.
    let s = stacked();
    let (code, out) = sync_at(&s, 1, &["sync", "topic", "stable/liberty"]);
    assert_eq!(code, Some(0), "{out}");
    assert_stacked_synced(&s, "sync topic stable/liberty");
}

#[test]
fn stacked_plain_sync_names_the_other_branches_on_the_replaced_tip() {
    let s = stacked();
    let d = &s.world.dev;
    let (code, json, _) = crate::run_apart(regraft(d).args(["sync", "--dry-run", "--json"]));
    assert_eq!(code, Some(0), "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(report["also_affected"], serde_json::json!(["topic"]), "{json}");
    let (code, out) = sync_at(&s, 1, &["sync", "--no-fetch"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("also behind the new upstream") && out.contains("\n    topic\n"), "{out}");
    // Stable then topic.
    let (code, out) = sync_at(&s, 2, &["sync", "topic", "--no-fetch"]);
    assert_eq!(code, Some(0), "{out}");
    assert_stacked_synced(&s, "sync, then sync topic");
    // Stable then --all.
    let s = stacked();
    let (code, out) = sync_at(&s, 1, &["sync"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = sync_at(&s, 2, &["sync", "--all", "--no-fetch"]);
    assert_eq!(code, Some(0), "{out}");
    assert_stacked_synced(&s, "sync, then sync --all");
}

#[test]
fn stacked_all_syncs_stable_first_and_a_topic_waits_for_a_stable_it_could_not_sync() {
    let s = stacked();
    let (code, out) = sync_at(&s, 1, &["sync", "--all"]);
    assert_eq!(code, Some(0), "{out}");
    assert_stacked_synced(&s, "sync --all");
    // Stable is checked out with uncommitted changes: it is skipped, and so is the topic
    // on its unpushed commits (naming it) rather than given copies of them.
    let s = stacked();
    let d = &s.world.dev;
    std::fs::write(d.join("a.txt"), "edited, not committed\n").expect("write");
    let topic = at(d, "topic");
    let (code, out) = sync_at(&s, 1, &["sync", "--all"]);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("stable/liberty: skipped"), "{out}");
    assert!(out.contains("topic: skipped") && out.contains("sync stable/liberty first"), "{out}");
    assert_eq!(at(d, "topic"), topic);
    git(d, &["checkout", "-q", "--", "a.txt"]);
    let (code, out) = sync_at(&s, 2, &["sync", "--all", "--no-fetch"]);
    assert_eq!(code, Some(0), "{out}");
    assert_stacked_synced(&s, "sync --all on a dirty tree, then again");
}

#[test]
fn stacked_undo_puts_back_what_the_last_sync_moved_and_a_resync_stacks_again() {
    let s = stacked();
    let d = &s.world.dev;
    let original = heads(d);
    let (code, out) = sync_at(&s, 1, &["sync"]);
    assert_eq!(code, Some(0), "{out}");
    let after_first = heads(d);
    let (code, out) = sync_at(&s, 2, &["sync", "--all", "--no-fetch"]);
    assert_eq!(code, Some(0), "{out}");
    assert_stacked_synced(&s, "sync, sync --all");
    // --undo puts back exactly what the last sync moved (the topic), nothing else.
    let (code, out) = sync_at(&s, 3, &["sync", "--undo"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(heads(d), after_first, "{out}");
    // Regression: the undo forgot where stable/liberty had gone, and the next --all gave
    // the topic second copies of A and B.
    let (code, out) = sync_at(&s, 4, &["sync", "--all", "--no-fetch"]);
    assert_eq!(code, Some(0), "{out}");
    assert_stacked_synced(&s, "sync, sync --all, sync --undo, sync --all");
    // Each --undo takes back one more sync, down to the state before the first.
    for _ in 0..2 {
        let (code, out) = sync_at(&s, 5, &["sync", "--undo"]);
        assert_eq!(code, Some(0), "{out}");
    }
    assert_eq!(heads(d), original);
    assert!(git(d, &["status", "--porcelain"]).is_empty());
    let (code, out) = sync_at(&s, 5, &["sync", "--undo"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("no sync to undo"), "{out}");
}

#[test]
fn undo_leaves_a_branch_moved_since_and_says_so() {
    let s = stacked();
    let d = &s.world.dev;
    let stable = at(d, "stable/liberty");
    let (code, out) = sync_at(&s, 1, &["sync", "--all"]);
    assert_eq!(code, Some(0), "{out}");
    // The developer goes on working on the synced topic.
    let f = Fixture::open(d);
    f.git(&["checkout", "-q", "topic"]);
    f.commit_file("d.txt", "D\n", "D: after the sync");
    let topic = at(d, "topic");
    f.git(&["checkout", "-q", "stable/liberty"]);
    // Regression: the leased update of the moved topic failed and stopped the undo.
    let (code, out) = sync_at(&s, 2, &["sync", "--undo"]);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains(&format!("topic: left at {}", &topic[..10])), "{out}");
    assert_eq!(at(d, "topic"), topic, "new work is not undone");
    assert_eq!(at(d, "stable/liberty"), stable, "{out}");
    assert!(kept_commits(d).contains(&s.originals[2]), "the old topic's backup keeps C");
}

#[test]
fn stacked_dry_run_counts_what_the_real_run_replays() {
    let s = stacked();
    let d = &s.world.dev;
    let counts = |json: &str| -> Vec<(String, u64)> {
        let report: serde_json::Value = serde_json::from_str(json).expect("JSON");
        let branches = report["branches"].as_array().expect("branches").iter();
        branches
            .map(|b| {
                let name = b["branch"].as_str().expect("a name").to_string();
                (name, b["replayed"].as_u64().expect("a count"))
            })
            .collect()
    };
    let (code, dry, _) =
        crate::run_apart(regraft(d).args(["sync", "--all", "--dry-run", "--json"]));
    assert_eq!(code, Some(0), "{dry}");
    let (code, real, _) = crate::run_apart(regraft(d).args(["sync", "--all", "--json"]));
    assert_eq!(code, Some(0), "{real}");
    assert_stacked_synced(&s, "sync --all after a dry run");
    // Regression: the dry run counted the topic's A and B as replayed again (3, not 1).
    let new = at(&s.world.server, "stable/liberty");
    let count = |range: &str| git(d, &["rev-list", "--count", range]).parse::<u64>();
    let expected = vec![
        ("stable/liberty".to_string(), count(&format!("{new}..stable/liberty")).expect("n")),
        ("topic".to_string(), count("stable/liberty..topic").expect("n")),
    ];
    assert_eq!(counts(&dry), expected, "{dry}");
    assert_eq!(counts(&real), expected, "{real}");
}

#[test]
fn undo_reads_the_record_an_earlier_version_left() {
    // Earlier versions kept only the last run, as a list of branches, in sync-last.json.
    let s = stacked();
    let d = &s.world.dev;
    let before = heads(d);
    let (code, out) = sync_at(&s, 1, &["sync", "--all"]);
    assert_eq!(code, Some(0), "{out}");
    let state = d.join(".git/regraft");
    let runs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("sync-runs.json")).expect("record"))
            .expect("JSON");
    let mut last = runs[0].clone();
    for branch in last.as_array_mut().expect("a run is a list of branches") {
        branch.as_object_mut().expect("an object").remove("sync_first");
    }
    std::fs::write(state.join("sync-last.json"), last.to_string()).expect("write");
    std::fs::remove_file(state.join("sync-runs.json")).expect("remove");
    let (code, out) = sync_at(&s, 2, &["sync", "--undo"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(heads(d), before, "{out}");
    assert!(!state.join("sync-last.json").exists(), "the old record is taken back with it");
}

/// Without a committer identity, sync stops before moving any branch (it had moved the
/// first and failed on the next), says how to set one, and then syncs once one is set.
#[test]
fn sync_without_a_committer_identity_moves_nothing_and_says_how_to_set_one() {
    let w = world();
    let d = &w.dev;
    // git itself refuses to commit here: no identity in the environment or the config, and
    // none guessed from the system.
    git(d, &["config", "user.useConfigOnly", "true"]);
    let without_identity = |cmd: &mut assert_cmd::Command| {
        for var in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "EMAIL",
        ] {
            cmd.env_remove(var);
        }
    };
    let mut probe = std::process::Command::new("git");
    regraft::git::isolate_environment(&mut probe);
    for var in [
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ] {
        probe.env_remove(var);
    }
    let probe =
        probe.current_dir(d).args(["var", "GIT_COMMITTER_IDENT"]).output().expect("git runs");
    assert!(!probe.status.success(), "git has no identity here");
    let refs = git(d, &["for-each-ref", "refs/heads/"]);
    let mut cmd = regraft(d);
    cmd.args(["sync", "--all"]);
    without_identity(&mut cmd);
    let (code, out) = run(&mut cmd);
    assert_eq!(code, Some(2), "{out}");
    assert!(crate::flat(&out).contains("git config user.email"), "{out}");
    assert_eq!(git(d, &["for-each-ref", "refs/heads/"]), refs, "no branch moved");
    // With one, the same sync goes through.
    git(d, &["config", "user.name", "Dev Eloper"]);
    git(d, &["config", "user.email", "dev@example.com"]);
    let mut cmd = regraft(d);
    cmd.args(["sync", "--all"]);
    without_identity(&mut cmd);
    let (code, out) = run(&mut cmd);
    assert_eq!(code, Some(0), "{out}");
    assert_ne!(git(d, &["for-each-ref", "refs/heads/"]), refs);
}
