//! `sync` after a fast-forward replacement (merge or megapatch), where the new upstream
//! tip contains the old one, and after an ordinary upstream advance: the local commits go
//! onto the new tip as `git pull --rebase` puts them (issue 26, item 6).

use std::path::{Path, PathBuf};

use regraft_testkit::Fixture;

use super::{at, heads, kept_commits, patch_ids_of_range};
use crate::replace::{World, replace_args};
use crate::{git, regraft, run};

/// A developer's clone of the replace world's server before the replacement:
/// `stable/liberty` (tracking) with one unpushed commit A, `topic` (no upstream) branched
/// from it adding C, `mirror` tracking stable/liberty with no local work, and `on-master`
/// tracking master.
struct Developer {
    world: World,
    dev: PathBuf,
    /// A and C as the developer wrote them.
    a: String,
    c: String,
}

fn developer() -> Developer {
    let world = crate::replace::world(true);
    let root = world.server.parent().expect("the server has a parent").to_path_buf();
    let dev = root.join("dev");
    let url = format!("file://{}", world.server.display());
    git(&root, &["clone", "-q", &url, dev.to_str().expect("utf-8")]);
    let d = Fixture::open(&dev);
    d.git(&["checkout", "-q", "-b", "stable/liberty", "--track", "origin/stable/liberty"]);
    let a = d.commit_file("dev-a.txt", "A\n", "A: unpushed on stable").to_hex();
    d.git(&["checkout", "-q", "--no-track", "-b", "topic", "stable/liberty"]);
    let c = d.commit_file("dev-c.txt", "C\n", "C: the topic's own").to_hex();
    d.git(&["branch", "--track", "mirror", "origin/stable/liberty"]);
    d.git(&["branch", "--track", "on-master", "origin/master"]);
    d.git(&["checkout", "-q", "stable/liberty"]);
    Developer { world, dev, a, c }
}

/// Replaces the server's stable/liberty by stable/mitaka with `strategy`, from the
/// release team's clone; returns the new tip.
fn replace(dev: &Developer, strategy: &str) -> String {
    let w = &dev.world;
    let (code, out) =
        run(regraft(&w.clone).args(replace_args(strategy)).args(["--execute", "--yes"]));
    assert_eq!(code, Some(0), "{strategy}: {out}");
    let new = at(&w.server, "stable/liberty");
    git(&w.server, &["merge-base", "--is-ancestor", &w.old.to_hex(), &new]);
    new
}

/// A copy of the developer's clone, where git itself does what sync should:
/// `git pull --rebase` on stable/liberty, then the topic rebased onto it from the old
/// stable tip, mirror fast-forwarded.
fn oracle(d: &Path) -> PathBuf {
    let copy = d.with_file_name("oracle");
    let status = std::process::Command::new("cp")
        .args(["-a", "--"])
        .arg(d)
        .arg(&copy)
        .status()
        .expect("cp runs");
    assert!(status.success());
    let old_stable = at(&copy, "stable/liberty");
    git(&copy, &["pull", "-q", "--rebase"]);
    git(&copy, &["rebase", "-q", "--onto", "stable/liberty", &old_stable, "topic"]);
    git(&copy, &["checkout", "-q", "mirror"]);
    git(&copy, &["merge", "-q", "--ff-only", "origin/stable/liberty"]);
    git(&copy, &["checkout", "-q", "stable/liberty"]);
    copy
}

/// Checks the developer's branches against the oracle's: the same patches in the same
/// order (`git patch-id --stable`) onto the same new tip, the same trees, the topic on
/// the very commits of stable/liberty, mirror at the new tip, on-master untouched, every
/// original commit kept.
fn assert_like_git(dev: &Developer, oracle: &Path, new: &str, how: &str) {
    let d = &dev.dev;
    for branch in ["stable/liberty", "topic"] {
        let range = format!("{new}..{branch}");
        let ours = patch_ids_of_range(d, &range);
        assert!(!ours.is_empty(), "{how}: {branch} has its commits on the new tip");
        assert_eq!(ours, patch_ids_of_range(oracle, &range), "{how}: {branch} as git rebases it");
        git(d, &["merge-base", "--is-ancestor", new, branch]);
        let tree = format!("{branch}^{{tree}}");
        assert_eq!(at(d, &tree), at(oracle, &tree), "{how}: {branch}'s tree");
    }
    assert_eq!(git(d, &["rev-list", "--count", "stable/liberty..topic"]), "1", "{how}");
    git(d, &["merge-base", "--is-ancestor", "stable/liberty", "topic"]);
    assert_eq!(at(d, "mirror"), new, "{how}: no local work: fast-forwarded");
    assert_eq!(at(d, "on-master"), at(d, "origin/master"), "{how}: on-master left alone");
    let kept = kept_commits(d);
    assert!(kept.contains(&dev.a) && kept.contains(&dev.c), "{how}: A and C kept");
    assert!(git(d, &["status", "--porcelain"]).is_empty(), "{how}: the work tree follows");
    assert!(d.join("dev-a.txt").exists(), "{how}: the checked-out branch's file is there");
}

fn backups(d: &Path) -> Vec<String> {
    git(d, &["for-each-ref", "--format=%(refname)", "refs/regraft/backup/"])
        .lines()
        .map(|l| l.rsplit_once('/').map_or(l, |(branch, _)| branch).to_string())
        .collect()
}

#[test]
fn after_a_merge_or_megapatch_replacement_sync_all_rebases_as_git_does_and_undo_restores() {
    // Regression: after a fast-forward replacement sync said "nothing to do" while the
    // branch was 1 ahead and many behind.
    for strategy in ["merge", "megapatch"] {
        let dev = developer();
        let d = &dev.dev;
        let new = replace(&dev, strategy);
        let before = heads(d);
        let oracle = oracle(d);
        let (code, out) = run(regraft(d).args(["sync", "--all", "--dry-run"]));
        assert_eq!(code, Some(0), "{strategy}: {out}");
        assert!(
            out.contains("refs/remotes/origin/stable/liberty moved on")
                && out.contains("stable/liberty: 1 local commit would be replayed")
                && out.contains("topic: 1 local commit would be replayed")
                && out.contains("mirror would be moved"),
            "{strategy}: {out}"
        );
        assert_eq!(heads(d), before, "{strategy}: a dry run moves no branch");
        let (code, out) = run(regraft(d).args(["sync", "--all"]));
        assert_eq!(code, Some(0), "{strategy}: {out}");
        assert_like_git(&dev, &oracle, &new, strategy);
        let mut kept = backups(d);
        kept.sort();
        let expected =
            ["mirror", "stable/liberty", "topic"].map(|b| format!("refs/regraft/backup/{b}"));
        assert_eq!(kept, expected, "{strategy}: a backup of each moved branch");
        let (code, out) = run(regraft(d).args(["sync", "--undo"]));
        assert_eq!(code, Some(0), "{strategy}: {out}");
        assert_eq!(heads(d), before, "{strategy}: undo restores refs/heads byte for byte");
        assert!(git(d, &["status", "--porcelain"]).is_empty(), "{strategy}: work tree too");
    }
}

#[test]
fn after_a_fast_forward_replacement_each_branch_synced_alone_stacks_and_reports_json() {
    let dev = developer();
    let d = &dev.dev;
    let new = replace(&dev, "megapatch");
    let oracle = oracle(d);
    // The current branch alone: it moves, the others are named.
    let (code, out) = run(regraft(d).args(["sync"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("stable/liberty: 1 local commit replayed"), "{out}");
    assert!(
        out.contains("also behind the new upstream")
            && out.contains("\n    topic\n")
            && out.contains("\n    mirror\n")
            && !out.contains("on-master"),
        "{out}"
    );
    // Then the topic, onto where stable/liberty went, and mirror, fast-forwarded.
    let (code, out) = run(regraft(d).args(["sync", "topic", "--json"]));
    assert_eq!(code, Some(0), "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["branches"][0]["outcome"], "replayed", "{out}");
    assert_eq!(report["branches"][0]["replayed"], 1, "only C again: {out}");
    assert_eq!(report["advanced"][0]["found_by"], "merge-base", "{out}");
    assert_eq!(report["advanced"][0]["new"], new.as_str(), "{out}");
    let (code, out) = run(regraft(d).args(["sync", "mirror"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("mirror moved to"), "{out}");
    assert_like_git(&dev, &oracle, &new, "one by one");
    // Synced: nothing more to do.
    let before = heads(d);
    let (code, out) = run(regraft(d).args(["sync", "--all"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(heads(d), before, "a second sync moves nothing: {out}");
}

#[test]
fn an_ordinary_upstream_advance_is_rebased_as_git_pull_rebase_does() {
    // Not a replacement: someone else lands a commit on stable/liberty. sync, an explicit
    // command, does for the branches it is asked to sync what `git pull --rebase` does.
    let dev = developer();
    let d = &dev.dev;
    crate::replace::land_commit(&dev.world, "colleague", "A colleague's fix");
    let new = git(&dev.world.server, &["rev-parse", "stable/liberty"]);
    let oracle = oracle(d);
    let (code, out) = run(regraft(d).args(["sync", "--all"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("was replaced"), "no rewrite is claimed: {out}");
    assert_like_git(&dev, &oracle, &new, "an ordinary advance");
}
