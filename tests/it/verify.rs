//! `verify` against backports made with real `git cherry-pick` and damaged by hand: a
//! committed conflict in each marker style, an unrelated hunk and file, a dropped commit, a
//! left-out file, commits with no original; and on the sample scenario, checked against
//! git's own cherry-pick lines and patch-ids.

use std::collections::BTreeSet;
use std::path::Path;

use regraft::ObjectId;
use regraft::scenario::{SOURCE, TARGET};
use regraft_testkit::{EPOCH, Fixture, git_at};
use serde_json::Value;
use tempfile::TempDir;

use crate::{git, git_patch_id, id, regraft, run_apart, small_scenario};

/// Lines 1..=20 of `f`, one number a line.
fn numbers() -> String {
    (1..=20).map(|n| format!("{n}\n")).collect()
}

/// Returns `text` with line `line` (1-based) replaced by `new`.
fn replace_line(text: &str, line: usize, new: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == line { format!("{new}\n") } else { format!("{l}\n") })
        .collect()
}

/// The originals on `master`, in order.
struct Originals {
    /// Changes line 2 of `f`, which `stable` changed otherwise: it conflicts there.
    two: ObjectId,
    /// Changes line 12 of `f`.
    twelve: ObjectId,
    /// Adds `doc.rst`, whose heading is underlined with seven `=`.
    doc: ObjectId,
    /// Changes line 16 of `f` and adds a line to `g`.
    sixteen: ObjectId,
}

/// A `master` with four fixes and a `stable` forked before them that changed line 2 of
/// `f` its own way; `bp` is a branch at `stable` to make backports on.
fn world() -> (TempDir, Fixture, Originals) {
    let tmp = TempDir::new().expect("a temporary directory");
    let f = Fixture::init(tmp.path());
    f.write("f", numbers());
    f.write("g", "g\n");
    f.commit("Base");
    f.branch("stable", "main");
    f.write("f", replace_line(&numbers(), 2, "two"));
    let two = f.commit("Fix two");
    let now = std::fs::read_to_string(f.path().join("f")).expect("f");
    f.write("f", replace_line(&now, 12, "twelve"));
    let twelve = f.commit("Fix twelve");
    f.write("doc.rst", "Notes\n=======\n\nSee f.\n");
    let doc = f.commit("Document f");
    let now = std::fs::read_to_string(f.path().join("f")).expect("f");
    f.write("f", replace_line(&now, 16, "sixteen"));
    f.write("g", "g\nsixteen\n");
    let sixteen = f.commit("Fix sixteen");
    f.checkout("stable");
    f.write("f", replace_line(&numbers(), 2, "TWO"));
    f.commit("Stable's own two");
    f.branch("bp", "stable");
    f.checkout("bp");
    (tmp, f, Originals { two, twelve, doc, sixteen })
}

/// Runs `git regraft verify --json` with `args` and returns its exit code and answer.
fn verify_json(dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let (code, out, err) = run_apart(regraft(dir).arg("verify").args(args).arg("--json"));
    let value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("JSON ({e}): {out}{err}"));
    (code, value)
}

fn commits(v: &Value) -> &Vec<Value> {
    v["commits"].as_array().expect("a list of commits")
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("a list of findings")
}

fn kinds(v: &Value) -> Vec<&str> {
    findings(v).iter().map(|f| f["kind"].as_str().expect("a kind")).collect()
}

#[test]
fn a_clean_cherry_pick_x_backport_is_accounted_for_by_its_markers() {
    let (_tmp, f, o) = world();
    let picked = [
        (f.cherry_pick_x(&o.twelve.to_hex()), o.twelve),
        (f.cherry_pick_x(&o.doc.to_hex()), o.doc),
    ];
    let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "main"]);
    assert_eq!(code, Some(0), "{v:#}");
    assert!(findings(&v).is_empty(), "{v:#}");
    let listed = commits(&v);
    assert_eq!(listed.len(), picked.len());
    for (c, (commit, original)) in listed.iter().zip(picked) {
        assert_eq!(c["commit"], commit.to_hex());
        assert_eq!(c["original"], original.to_hex());
        // git's own patch-ids say the pick is the same change.
        assert_eq!(git_patch_id(f.path(), commit), git_patch_id(f.path(), original));
        assert_eq!(c["status"], "present", "{c:#}");
        let by: Vec<&str> = c["evidence"]
            .as_array()
            .expect("evidence")
            .iter()
            .filter_map(|e| e["by"].as_str())
            .collect();
        assert!(by.contains(&"cherry-pick") && by.contains(&"patch-id"), "{by:?}");
    }
    // The RST heading of seven `=` came with the original: no conflict marker.
    let (code, out, _) =
        run_apart(regraft(f.path()).args(["verify", "stable..bp", "--source", "main"]));
    assert_eq!(code, Some(0));
    assert!(out.contains("clean"), "{out}");
}

/// Cherry-picks `original` with `-x` under `merge.conflictStyle=style`, which must
/// conflict, and commits the conflict as it stands.
fn commit_conflict(f: &Fixture, original: ObjectId, style: &str) -> ObjectId {
    let style = format!("merge.conflictStyle={style}");
    let picked = git_at(f.path(), EPOCH)
        .finished(&["-c", &style, "cherry-pick", "-x", &original.to_hex()], b"")
        .expect("git runs");
    assert!(!picked.status.success(), "the pick conflicts: {}", picked.stderr);
    f.git(&["add", "-A"]);
    f.git(&["commit", "-q", "--no-edit"]);
    f.rev("HEAD")
}

/// Returns the conflict markers git wrote into `path` at `commit`: line number and marker.
fn markers_in(f: &Fixture, commit: ObjectId, path: &str) -> BTreeSet<(u64, String)> {
    let text = f.git(&["show", &format!("{commit}:{path}")]);
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let marker = ["<<<<<<<", "|||||||", "=======", ">>>>>>>"].into_iter().find(|m| {
                line.strip_prefix(m).is_some_and(|r| r.is_empty() || r.starts_with(' '))
            })?;
            Some((i as u64 + 1, marker.to_string()))
        })
        .collect()
}

#[test]
fn a_committed_conflict_is_found_in_each_marker_style() {
    for style in ["merge", "diff3", "zdiff3"] {
        let (_tmp, f, o) = world();
        let commit = commit_conflict(&f, o.two, style);
        let expected = markers_in(&f, commit, "f");
        let styles: BTreeSet<&str> = expected.iter().map(|(_, m)| m.as_str()).collect();
        let with_base = if style == "merge" { 3 } else { 4 };
        assert_eq!(styles.len(), with_base, "{style}: git wrote {expected:?}");

        let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "main"]);
        assert_eq!(code, Some(3), "{style}: {v:#}");
        let found: BTreeSet<(u64, String)> = findings(&v)
            .iter()
            .filter(|x| x["kind"] == "conflict-marker")
            .map(|x| {
                assert_eq!(x["commit"], commit.to_hex());
                assert_eq!(x["path"], "f");
                (
                    x["line"].as_u64().expect("a line"),
                    x["marker"].as_str().expect("a marker").to_string(),
                )
            })
            .collect();
        assert_eq!(found, expected, "{style}");
        assert!(kinds(&v).iter().all(|k| *k == "conflict-marker"), "{style}: {v:#}");
        let c = &commits(&v)[0];
        assert_eq!(c["status"], "adapted", "{style}");
        assert_eq!(c["original"], o.two.to_hex());
        // The difference shown is git's own range-diff of the two.
        let oracle = f.git(&[
            "range-diff",
            "--no-color",
            "--no-notes",
            "--creation-factor=999",
            &format!("{}^..{}", o.two, o.two),
            &format!("{commit}^..{commit}"),
        ]);
        assert_eq!(c["range_diff"].as_str().map(str::trim_end), Some(oracle.as_str()), "{style}");
    }
}

#[test]
fn an_unrelated_hunk_and_file_amended_into_a_pick_are_named() {
    let (_tmp, f, o) = world();
    f.cherry_pick_x(&o.twelve.to_hex());
    let now = std::fs::read_to_string(f.path().join("f")).expect("f");
    f.write("f", replace_line(&now, 20, "twenty, slipped in"));
    f.write("h", "unrelated\n");
    f.git(&["add", "-A"]);
    f.git(&["commit", "-q", "--amend", "--no-edit"]);
    let commit = f.rev("HEAD");
    // The header git prints for the hunk that adds the slipped-in line.
    let show = f.git(&["show", "--format=", "--", "f"]);
    let lines: Vec<&str> = show.lines().collect();
    let at = lines.iter().position(|l| *l == "+twenty, slipped in").expect("git shows the line");
    let header = lines[..at].iter().rev().find(|l| l.starts_with("@@ ")).expect("a hunk header");
    let header = format!("@@{}@@", header.split("@@").nth(1).expect("a header"));

    let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "main"]);
    assert_eq!(code, Some(3), "{v:#}");
    assert_eq!(kinds(&v), ["outside-hunk", "outside-file"], "{v:#}");
    let hunk = &findings(&v)[0];
    assert_eq!(
        (&hunk["commit"], &hunk["original"]),
        (&commit.to_hex().into(), &o.twelve.to_hex().into())
    );
    assert_eq!((hunk["path"].as_str(), hunk["hunk"].as_str()), (Some("f"), Some(header.as_str())));
    assert_eq!(findings(&v)[1]["path"], "h");
    assert_eq!(commits(&v)[0]["status"], "adapted");
}

#[test]
fn a_dropped_commit_is_found_when_the_originals_are_named() {
    let (_tmp, f, o) = world();
    f.cherry_pick_x(&o.twelve.to_hex());
    f.cherry_pick_x(&o.sixteen.to_hex());
    // Without being told which originals were meant, the two picks are what they claim.
    let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "main"]);
    assert_eq!(code, Some(0), "{v:#}");
    // The series twelve, doc, sixteen was meant: doc was dropped.
    let series = format!("{}..{}", o.two, o.sixteen);
    let (code, v) =
        verify_json(f.path(), &["stable..bp", "--source", "main", "--originals", &series]);
    assert_eq!(code, Some(3), "{v:#}");
    assert_eq!(kinds(&v), ["dropped"], "{v:#}");
    assert_eq!(findings(&v)[0]["original"], o.doc.to_hex());
    assert_eq!(findings(&v)[0]["summary"], "Document f");
    let meant: Vec<&str> =
        v["originals"].as_array().expect("originals").iter().filter_map(Value::as_str).collect();
    assert_eq!(meant, [o.twelve.to_hex(), o.doc.to_hex(), o.sixteen.to_hex()]);
    // Named one by one, the two picked ones are all that was meant.
    let (code, v) = verify_json(
        f.path(),
        &[
            "stable..bp",
            "--source",
            "main",
            "--originals",
            &o.twelve.to_hex(),
            "--originals",
            &o.sixteen.to_hex(),
        ],
    );
    assert_eq!(code, Some(0), "{v:#}");
    // Only twelve was meant: the pick of sixteen is not.
    let (code, v) = verify_json(
        f.path(),
        &["stable..bp", "--source", "main", "--originals", &o.twelve.to_hex()],
    );
    assert_eq!(code, Some(3), "{v:#}");
    assert_eq!(kinds(&v), ["not-meant"], "{v:#}");
}

#[test]
fn a_pick_that_leaves_out_a_file_or_everything_is_found() {
    let (_tmp, f, o) = world();
    // sixteen changes f and g; the backport keeps f only.
    f.git(&["cherry-pick", "-n", &o.sixteen.to_hex()]);
    f.git(&["checkout", "HEAD", "--", "g"]);
    f.commit(&format!("Fix sixteen\n\n(cherry picked from commit {})\n", o.sixteen));
    let left_out: Vec<String> = {
        let theirs = f.git(&["show", "--format=", "--name-only", &o.sixteen.to_hex()]);
        let ours = f.git(&["show", "--format=", "--name-only", "HEAD"]);
        theirs.lines().filter(|p| !ours.lines().any(|q| q == *p)).map(str::to_string).collect()
    };
    assert_eq!(left_out, ["g"]);
    // A pick of twelve that kept nothing of it.
    f.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        &format!("Fix twelve\n\n(cherry picked from commit {})", o.twelve),
    ]);
    let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "main"]);
    assert_eq!(code, Some(3), "{v:#}");
    assert_eq!(kinds(&v), ["missing-file", "empty"], "{v:#}");
    assert_eq!(findings(&v)[0]["path"], left_out[0]);
    assert_eq!(findings(&v)[1]["original"], o.twelve.to_hex());
}

#[test]
fn commits_with_no_original_or_a_false_one_are_found() {
    let (_tmp, f, _o) = world();
    let own = f.commit_file("k", "stable only\n", "Stable-only change");
    let stable_commit = f.rev("stable");
    f.write("k", "stable only\nmore\n");
    let names_stable = f.commit(&format!("More\n\n(cherry picked from commit {stable_commit})\n"));
    f.write("k", "stable only\nmore\nagain\n");
    let names_nothing = f.commit("Again\n\n(cherry picked from commit deadbeefdeadbeef)\n");
    let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "main"]);
    assert_eq!(code, Some(3), "{v:#}");
    let got: Vec<(String, String, String)> = findings(&v)
        .iter()
        .map(|x| {
            let s = |k: &str| x[k].as_str().unwrap_or_default().to_string();
            (s("commit"), s("kind"), s("why"))
        })
        .collect();
    let want = |c: ObjectId, kind: &str, why: &str| (c.to_hex(), kind.to_string(), why.to_string());
    assert_eq!(
        got,
        [
            want(own, "no-original", ""),
            want(names_stable, "unknown-original", "on-target"),
            want(names_stable, "no-original", ""),
            want(names_nothing, "unknown-original", "missing"),
            want(names_nothing, "no-original", ""),
        ]
    );
}

#[test]
fn bad_input_exits_2_before_any_check() {
    let (_tmp, f, o) = world();
    f.cherry_pick_x(&o.twelve.to_hex());
    let stable = f.rev("stable").to_hex();
    for args in [
        vec!["verify", "bp", "--source", "main"],
        vec!["verify", "stable...bp", "--source", "main"],
        vec!["verify", "stable..bp", "--source", "no-such-branch"],
        vec!["verify", "--end-of-options..bp", "--source", "main"],
        vec!["verify", "stable..bp", "--source", "main", "--originals", &stable],
    ] {
        let (code, out, err) = run_apart(regraft(f.path()).args(&args));
        assert_eq!(code, Some(2), "{args:?}: {out}{err}");
        assert!(out.is_empty(), "{args:?}: nothing on stdout: {out}");
    }
}

#[test]
fn merges_in_the_range_are_listed_and_not_checked() {
    let (_tmp, f, o) = world();
    f.git(&["checkout", "-q", "-b", "topic"]);
    f.cherry_pick_x(&o.twelve.to_hex());
    f.checkout("bp");
    f.commit_file("k", "k\n", "Stable's k");
    f.merge("topic", "Merge topic");
    let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "main"]);
    let statuses: Vec<&str> = commits(&v).iter().filter_map(|c| c["status"].as_str()).collect();
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["merge", "no-original", "present"], "{v:#}");
    assert_eq!(statuses.last(), Some(&"merge"), "oldest first: the merge is last");
    assert_eq!(code, Some(3));
    assert_eq!(kinds(&v), ["no-original"]);
}

/// On the sample scenario, every stable/liberty commit since its fork whose cherry-pick
/// line names a stable/mitaka commit has that commit as its original, present exactly when
/// git's patch-ids agree; no commit added a conflict marker there, so none is reported.
#[test]
fn on_the_scenario_originals_and_patch_ids_agree_with_git() {
    let (_tmp, s) = small_scenario();
    let fork = s.liberty_fork.to_hex();
    let range = format!("{fork}..{TARGET}");
    let (code, v) = verify_json(&s.dir, &[&range, "--source", SOURCE]);
    assert!(matches!(code, Some(0 | 3)), "{v:#}");
    let listed = commits(&v);
    let log = git(&s.dir, &["rev-list", "--topo-order", "--reverse", &range]);
    let order: Vec<String> =
        listed.iter().map(|c| c["commit"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(order, log.lines().collect::<Vec<_>>(), "git's topological order");
    let mut checked = 0;
    for c in listed {
        let commit = id(c["commit"].as_str().expect("an id"));
        let message = git(&s.dir, &["log", "-1", "--format=%B", &commit.to_hex()]);
        let named = message.lines().find_map(|l| {
            l.trim()
                .strip_prefix("(cherry picked from commit ")?
                .strip_suffix(')')
                .map(str::to_string)
        });
        let Some(named) = named else { continue };
        let Some(full) = git_at(&s.dir, EPOCH)
            .finished(&["rev-parse", "--verify", "--quiet", &format!("{named}^{{commit}}")], b"")
            .ok()
            .filter(|r| r.status.success())
            .map(|r| id(&String::from_utf8_lossy(&r.stdout)))
        else {
            continue;
        };
        let on = |rev: &str| {
            git_at(&s.dir, EPOCH)
                .finished(&["merge-base", "--is-ancestor", &full.to_hex(), rev], b"")
                .expect("git runs")
                .status
                .success()
        };
        if !on(SOURCE) || on(TARGET) {
            continue;
        }
        checked += 1;
        assert_eq!(c["original"], full.to_hex(), "{c:#}");
        let same = git_patch_id(&s.dir, commit).is_some()
            && git_patch_id(&s.dir, commit) == git_patch_id(&s.dir, full);
        assert_eq!(c["status"], if same { "present" } else { "adapted" }, "{c:#}");
        assert_eq!(c["range_diff"].is_string(), !same, "{c:#}");
    }
    assert!(checked > 0, "the scenario has cherry-picks of stable/mitaka commits");
    let added_markers = git(&s.dir, &["log", "-p", "--no-merges", "--format=", &range])
        .lines()
        .filter(|l| {
            ["+<<<<<<<", "+|||||||", "+=======", "+>>>>>>>"]
                .iter()
                .any(|m| l.strip_prefix(m).is_some_and(|r| r.is_empty() || r.starts_with(' ')))
        })
        .count();
    let reported = kinds(&v).iter().filter(|k| **k == "conflict-marker").count();
    assert_eq!(reported, added_markers);
}

// The commonest OpenStack chain: picked from master, then from the newer stable branch;
// the line naming master's commit is a link of the chain, not a finding.
#[test]
fn a_chain_of_cherry_pick_lines_needs_one_link_on_source() {
    let (_tmp, f, o) = world();
    f.git(&["checkout", "-q", "-b", "newer", "stable"]);
    let on_newer = f.cherry_pick_x(&o.twelve.to_hex());
    f.checkout("bp");
    f.git(&["cherry-pick", "-x", &on_newer.to_hex()]);
    let message = f.git(&["log", "-1", "--format=%B"]);
    assert!(message.contains(&o.twelve.to_hex()) && message.contains(&on_newer.to_hex()));
    let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "newer"]);
    assert_eq!(code, Some(0), "{v:#}");
    let c = &commits(&v)[0];
    assert_eq!(
        (c["status"].as_str(), &c["original"]),
        (Some("present"), &on_newer.to_hex().into())
    );
    let other = &c["other_references"][0];
    assert_eq!(
        (other["reference"].as_str(), other["why"].as_str()),
        (Some(o.twelve.to_hex().as_str()), Some("not-on-source"))
    );
}

/// A fix made on the source after it moved `f` to `src/f`, picked by git onto a stable
/// branch that still has `f`: git's rename detection applies it to `f`, and that is the
/// fix, not a file outside the original plus a file left out. An unrelated file amended
/// into the pick is still named, and a pick that changed `f` its own way is not paired.
#[test]
fn a_fix_picked_onto_the_file_s_old_path_is_the_same_file() {
    let tmp = TempDir::new().expect("a temporary directory");
    let f = Fixture::init(tmp.path());
    f.write("f", numbers());
    f.commit("Base");
    f.branch("stable", "main");
    f.git(&["mv", "f", "moved.txt"]);
    f.commit("Move f");
    let now = std::fs::read_to_string(f.path().join("moved.txt")).expect("moved.txt");
    f.write("moved.txt", replace_line(&now, 12, "twelve"));
    let fix = f.commit("Fix twelve");
    f.branch("bp", "stable");
    f.checkout("bp");
    f.cherry_pick_x(&fix.to_hex());
    // git put the change in `f`, where stable keeps the file.
    let touched = f.git(&["show", "--format=", "--name-only", "HEAD"]);
    assert_eq!(touched.trim(), "f");
    let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "main"]);
    assert_eq!(code, Some(0), "{v:#}");
    assert!(findings(&v).is_empty(), "{v:#}");
    // Its patch names another path: git's patch-ids differ, so it is adapted, not present.
    assert_ne!(git_patch_id(f.path(), f.rev("HEAD")), git_patch_id(f.path(), fix));
    assert_eq!(commits(&v)[0]["status"], "adapted", "{v:#}");

    // The same pick with an unrelated file amended in: that file is named, `f` is not.
    f.write("h", "unrelated\n");
    f.git(&["add", "-A"]);
    f.git(&["commit", "-q", "--amend", "--no-edit"]);
    let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "main"]);
    assert_eq!(code, Some(3), "{v:#}");
    assert_eq!(kinds(&v), ["outside-file"], "{v:#}");
    assert_eq!(findings(&v)[0]["path"], "h");

    // A "pick" that changed another line of `f` carries none of the fix: both are named.
    f.git(&["reset", "-q", "--hard", "stable"]);
    f.write("f", replace_line(&numbers(), 5, "five"));
    f.commit(&format!("Fix twelve\n\n(cherry picked from commit {fix})\n"));
    let (code, v) = verify_json(f.path(), &["stable..bp", "--source", "main"]);
    assert_eq!(code, Some(3), "{v:#}");
    assert_eq!(kinds(&v), ["outside-file", "missing-file"], "{v:#}");
}
