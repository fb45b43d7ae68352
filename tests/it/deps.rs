//! `deps` against a straightforward oracle: `git diff -U<context>` of each commit against
//! its first parent, and `git blame --porcelain` of every hunk's old lines at the parent.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use regraft::analysis::deps::{self, DependencyGraph, DepsOptions, EdgeKind, Follow};
use regraft::progress::Silent;
use regraft::scenario::{SOURCE, TARGET};
use regraft::{ErrorOrigin, ObjectId};
use regraft_testkit::Fixture;
use tempfile::TempDir;

use crate::{git, id, open, small_scenario};

/// Edges as (commit, depends_on) with, per path, the parent's line numbers involved.
type Edges = BTreeMap<(ObjectId, ObjectId), BTreeMap<String, BTreeSet<u32>>>;

fn analyze(dir: &Path, target: &str, source: &str, context: u32, files: bool) -> DependencyGraph {
    let options = DepsOptions { context, files, ..DepsOptions::default() };
    deps::analyze(&open(dir), target, source, &options, &Silent).expect("deps analyses")
}

fn line_edges(graph: &DependencyGraph) -> Edges {
    let mut out = Edges::new();
    for edge in graph.edges.iter().filter(|e| e.kind == EdgeKind::Lines) {
        let paths = out.entry((edge.commit, edge.depends_on)).or_default();
        for reason in &edge.reasons {
            let lines = paths.entry(reason.path.clone()).or_default();
            for part in reason.lines.split(',') {
                let (a, b) = part.split_once('-').unwrap_or((part, part));
                lines.extend(a.parse::<u32>().expect("number")..=b.parse::<u32>().expect("number"));
            }
        }
    }
    out
}

/// Computes the edges the slow, obvious way, with git doing all the work.
fn oracle(dir: &Path, target: &str, source: &str, context: u32) -> Edges {
    let range = format!("{target}..{source}");
    let changes: HashSet<ObjectId> =
        git(dir, &["rev-list", "--no-merges", &range]).lines().map(id).collect();
    let mut out = Edges::new();
    for commit in &changes {
        let hex = commit.to_hex();
        let parent = format!("{hex}^");
        let unified = format!("-U{context}");
        let diff = git(
            dir,
            &["diff", &unified, "--find-renames", "--no-color", "--no-ext-diff", &parent, &hex],
        );
        let mut old_path: Option<String> = None;
        for line in diff.lines() {
            if line.starts_with("diff --git ") {
                old_path = None;
            } else if let Some(p) = line.strip_prefix("--- a/") {
                old_path = Some(p.to_string());
            } else if line.starts_with("--- /dev/null") {
                old_path = None;
            } else if let Some(header) = line.strip_prefix("@@ -") {
                let Some(path) = &old_path else { continue };
                let old = header.split(' ').next().expect("old range");
                let (start, count) = old.split_once(',').unwrap_or((old, "1"));
                let (start, count): (u32, u32) =
                    (start.parse().expect("start"), count.parse().expect("count"));
                if count == 0 {
                    continue;
                }
                let range = format!("{start},+{count}");
                let blame = git(dir, &["blame", "--porcelain", "-L", &range, &parent, "--", path]);
                for header in blame.lines().filter(|l| l.len() > 41 && l.as_bytes()[40] == b' ') {
                    let mut words = header.split(' ');
                    let (Some(culprit), Some(_), Some(final_line)) =
                        (words.next(), words.next(), words.next())
                    else {
                        continue;
                    };
                    let Some(culprit) = ObjectId::from_hex(culprit.as_bytes()) else { continue };
                    if culprit != *commit && changes.contains(&culprit) {
                        let line: u32 = final_line.parse().expect("line number");
                        out.entry((*commit, culprit))
                            .or_default()
                            .entry(path.clone())
                            .or_default()
                            .insert(line);
                    }
                }
            }
        }
    }
    out
}

fn assert_same(dir: &Path, target: &str, source: &str, context: u32) -> usize {
    let ours = line_edges(&analyze(dir, target, source, context, false));
    let theirs = oracle(dir, target, source, context);
    let only_ours: Vec<_> = ours.iter().filter(|(k, v)| theirs.get(*k) != Some(*v)).collect();
    let only_theirs: Vec<_> = theirs.iter().filter(|(k, v)| ours.get(*k) != Some(*v)).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "context {context}: regraft only {only_ours:#?}\noracle only {only_theirs:#?}"
    );
    ours.len()
}

#[test]
fn scenario_edges_equal_git_blame() {
    let (_tmp, s) = small_scenario();
    for context in [0, 1, 3] {
        let n = assert_same(&s.dir, TARGET, SOURCE, context);
        assert!(n > 5, "context {context}: only {n} edges");
    }
}

/// A history where merges mix both parents' lines in one file, a merge adds a line of its
/// own, a file is renamed, deleted and re-added, and a file becomes a symlink.
pub(crate) fn tangled() -> (TempDir, Fixture) {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(&tmp.path().join("repo"));
    let text = |tag: &str| (0..40).map(|i| format!("line {i} {tag}\n")).collect::<String>();
    f.write("a.txt", text("base"));
    f.write("b.txt", text("b"));
    f.write("c.txt", text("c"));
    f.write("logo.bin", b"\0\x01\x02binary");
    f.commit("Base");
    f.branch("stable", "main");
    let edit = |f: &Fixture, path: &str, from: &str, to: &str, msg: &str| {
        let body = std::fs::read_to_string(f.path().join(path)).expect("read");
        f.commit_file(path, &body.replacen(from, to, 1), msg)
    };
    edit(&f, "a.txt", "line 5 base", "line 5 main", "main edits line 5");
    f.branch("topic", "main");
    edit(&f, "a.txt", "line 30 base", "line 30 main", "main edits line 30");
    edit(&f, "a.txt", "line 35 base", "line 35 both", "main makes line 35 'both'");
    f.checkout("topic");
    edit(&f, "a.txt", "line 10 base", "line 10 topic", "topic edits line 10");
    edit(&f, "a.txt", "line 35 base", "line 35 both", "topic makes line 35 'both' too");
    edit(&f, "b.txt", "line 3 b", "line 3 topic", "topic edits b");
    f.checkout("main");
    f.merge("topic", "Merge topic");
    // An evil merge: a line that neither parent had.
    f.branch("topic2", "main");
    edit(&f, "a.txt", "line 20 base", "line 20 main", "main edits line 20");
    f.checkout("topic2");
    edit(&f, "a.txt", "line 25 base", "line 25 topic2", "topic2 edits line 25");
    f.checkout("main");
    f.git(&["merge", "-q", "--no-ff", "--no-commit", "topic2"]);
    let body = std::fs::read_to_string(f.path().join("a.txt")).expect("read");
    f.write("a.txt", body.replacen("line 26 base", "line 26 merge", 1));
    f.commit("Merge topic2 with a fix-up");
    // Changes that sit on or next to the lines above.
    edit(&f, "a.txt", "line 6 base", "line 6 later", "touches the line after line 5");
    edit(&f, "a.txt", "line 10 topic", "line 10 later", "rewrites topic's line 10");
    edit(&f, "a.txt", "line 26 merge", "line 26 later", "rewrites the merge's line 26");
    edit(&f, "a.txt", "line 24 base", "line 24 later", "borders topic2's line 25");
    edit(&f, "a.txt", "line 35 both", "line 35 later", "rewrites the line both sides made");
    f.rename("b.txt", "docs/b.txt");
    edit(&f, "docs/b.txt", "line 3 topic", "line 3 renamed", "edits b after its rename");
    f.remove("c.txt");
    f.commit("Delete c");
    f.write("c.txt", text("c again"));
    f.commit("Bring c back");
    edit(&f, "c.txt", "line 1 c again", "line 1 c third", "edits the new c");
    f.symlink("a.txt", "docs/b.txt");
    f.commit("Replace a.txt with a symlink");
    f.symlink("a.txt", "c.txt");
    f.commit("Point the symlink elsewhere");
    f.write("logo.bin", b"\0\x01\x03binary");
    f.commit("Binary change");
    (tmp, f)
}

#[test]
fn merges_renames_deletions_symlinks_and_binaries_equal_git_blame() {
    let (_tmp, f) = tangled();
    for context in [0, 1, 2] {
        assert_same(f.path(), "stable", "main", context);
    }
    let graph = analyze(f.path(), "stable", "main", 1, false);
    let by_summary = |s: &str| graph.commits.iter().find(|c| c.summary == s).expect(s).commit;
    let edges = line_edges(&graph);
    // Hand-checked expectations, so the oracle itself is held to something.
    assert!(edges.contains_key(&(
        by_summary("touches the line after line 5"),
        by_summary("main edits line 5")
    )));
    assert!(edges.contains_key(&(
        by_summary("rewrites topic's line 10"),
        by_summary("topic edits line 10")
    )));
    assert!(edges.contains_key(&(
        by_summary("borders topic2's line 25"),
        by_summary("topic2 edits line 25")
    )));
    assert!(
        edges.contains_key(&(by_summary("edits b after its rename"), by_summary("topic edits b")))
    );
    // A line both parents of a merge have goes to the first parent's commit, as in blame.
    let both = by_summary("rewrites the line both sides made");
    assert!(edges.contains_key(&(both, by_summary("main makes line 35 'both'"))));
    assert!(!edges.contains_key(&(both, by_summary("topic makes line 35 'both' too"))));
    // The merge's own line is the merge's: no change to pick, so without context no edge.
    let rewrites_merge = by_summary("rewrites the merge's line 26");
    let exact = line_edges(&analyze(f.path(), "stable", "main", 0, false));
    assert!(!exact.keys().any(|(b, _)| *b == rewrites_merge), "{exact:#?}");
    assert!(
        edges.contains_key(&(rewrites_merge, by_summary("topic2 edits line 25"))),
        "the line above it"
    );
    // The re-added c.txt has no line history; with file edges it needs the deletion.
    let files = analyze(f.path(), "stable", "main", 1, true);
    assert!(files.edges.iter().any(|e| e.kind == EdgeKind::File
        && e.commit == by_summary("Bring c back")
        && e.depends_on == by_summary("Delete c")));
}

#[test]
fn closure_follows_edges_skips_what_is_on_target_and_keeps_order() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    f.commit_file("a", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "Base");
    f.branch("stable", "main");
    let a = f.commit_file("a", "1\nA\n3\n4\n5\n6\n7\n8\n9\n", "A");
    let b = f.commit_file("a", "1\nA\nB\n4\n5\n6\n7\n8\n9\n", "B needs A");
    let c = f.commit_file("a", "1\nA\nB\n4\n5\n6\n7\nC\n9\n", "C is independent");
    let d = f.commit_file("a", "1\nA\nB\nD\n5\n6\n7\nC\n9\n", "D needs B");
    let graph = analyze(f.path(), "stable", "main", 1, false);
    assert_eq!(graph.closure(&[d], Follow::Lines), vec![a, b, d]);
    assert_eq!(graph.closure(&[c], Follow::Lines), vec![c]);
    // Once A is on stable (as a cherry-pick), D needs only B.
    f.checkout("stable");
    f.cherry_pick_x(&a.to_hex());
    let graph = analyze(f.path(), "stable", "main", 1, false);
    assert!(graph.commits.iter().any(|g| g.commit == a && g.on_target));
    assert_eq!(graph.closure(&[d], Follow::Lines), vec![b, d]);
    let err =
        deps::resolve_wanted(&open(f.path()), &graph, &[a.to_hex()]).expect_err("A is on stable");
    assert!(err.is_user_input());
    assert!(err.to_string().contains("already on stable"), "{err}");
    let err = deps::resolve_wanted(&open(f.path()), &graph, &["stable".to_string()])
        .expect_err("not in delta");
    assert!(err.to_string().contains("not in stable..main"), "{err}");
}

#[test]
fn deps_for_predicts_the_closure_s_picks_as_git_would() {
    // Regression: `deps --for` said "pick these in this order" where a pick conflicts.
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    f.commit_file("app.py", "one\ntwo\nthree\nfour\nfive\n", "Base");
    f.branch("stable", "main");
    f.checkout("stable");
    f.commit_file("app.py", "one\nTWO on stable\nthree\nfour\nfive\n", "Stable's own change");
    f.checkout("main");
    let a = f.commit_file("app.py", "one\ntwo, reworked\nthree\nfour\nfive\n", "Rework two");
    let b = f.commit_file(
        "app.py",
        "one\ntwo, reworked again\nthree\nfour\nfive\n",
        "Rework two again",
    );
    let c = f.commit_file("other.py", "new\n", "Independent");
    let out = crate::regraft_process(f.path())
        .args(["deps", "stable", "main", "--for", &b.to_hex(), "--for", &c.to_hex(), "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let graph: DependencyGraph = serde_json::from_slice(&out.stdout).expect("json");
    let closure = graph.closure.clone().expect("a closure");
    assert_eq!(closure, vec![a, b, c], "b needs a by lines");
    let prediction = graph.prediction.expect("predicted");
    // git is the oracle: real cherry-picks of the closure, in order, onto stable.
    let git_says = regraft_testkit::git_pick_loop(f.path(), "stable", &closure);
    let conflicting: Vec<ObjectId> = closure
        .iter()
        .zip(&git_says)
        .filter(|(_, g)| matches!(g, regraft_testkit::GitPick::Conflict))
        .map(|(c, _)| *c)
        .collect();
    assert!(!conflicting.is_empty(), "the history has a conflict to find");
    assert_eq!(prediction.conflicts.iter().map(|c| c.commit).collect::<Vec<_>>(), conflicting);
    let clean = git_says.iter().filter(|g| matches!(g, regraft_testkit::GitPick::Clean(_))).count();
    assert_eq!(prediction.clean, clean);
    // b needs a by lines, and a conflicts (both do: b changes the line a wrote).
    assert_eq!(conflicting, vec![a, b], "{git_says:?}");
    assert_eq!(prediction.need_a_conflicting_pick, vec![b], "b needs a, which conflicts");
    let text = crate::regraft_process(f.path())
        .args(["deps", "stable", "main", "--for", &b.to_hex()])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("conflict") && text.contains("backport --dry-run"), "{text}");
    // The backport's stage report says which picks lose their closure.
    let out = crate::regraft_process(f.path())
        .args(["backport", "--dry-run", "stable", "main", "--for", &b.to_hex(), "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let needs: Vec<(String, usize)> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["commit"].as_str().unwrap_or_default().to_string(),
                s["needs_conflicting"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    assert!(needs.contains(&(b.to_hex(), 1)), "{needs:?}");
}

/// Twelve numbered lines, with `edits` (line number, new text) applied.
fn numbered(edits: &[(usize, &str)]) -> String {
    (1..=12)
        .map(|n| {
            edits
                .iter()
                .find(|(l, _)| *l == n)
                .map_or(format!("line {n}\n"), |(_, t)| format!("{t}\n"))
        })
        .collect()
}

/// Histories where a merge renames a file: the merge itself does `git mv`; one side renames
/// while the other edits (merged either way round). Each ends with a commit that edits the
/// renamed file where both sides had.
fn renames_through_merges(shape: &str) -> (TempDir, Fixture) {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    f.commit_file("a.py", &numbered(&[]), "Base");
    f.commit_file("other.py", "x\n", "Unrelated base change");
    f.branch("stable", "main");
    match shape {
        "merge-renames" => {
            f.commit_file("a.py", &numbered(&[(2, "two by X"), (3, "three by X")]), "X");
            f.branch("side", "main");
            f.checkout("side");
            f.commit_file(
                "a.py",
                &numbered(&[(2, "two by X"), (3, "three by X"), (8, "eight by Y")]),
                "Y",
            );
            f.checkout("main");
            f.commit_file(
                "a.py",
                &numbered(&[(2, "two by X"), (3, "three by X"), (11, "eleven by W")]),
                "W",
            );
            f.git(&["merge", "-q", "--no-ff", "--no-commit", "side"]);
            f.rename("a.py", "b.py");
            f.commit("Merge side, renaming a.py to b.py");
        }
        "side-renames" => {
            f.commit_file("a.py", &numbered(&[(2, "two by X")]), "X");
            f.branch("side", "stable");
            f.checkout("side");
            f.rename("a.py", "b.py");
            f.commit("Rename a.py to b.py");
            f.commit_file("b.py", &numbered(&[(9, "nine by W")]), "W");
            f.checkout("main");
            f.merge("side", "Merge the rename");
        }
        "main-renames" => {
            f.rename("a.py", "b.py");
            f.commit("Rename a.py to b.py");
            f.commit_file("b.py", &numbered(&[(2, "two by X")]), "X");
            f.branch("side", "stable");
            f.checkout("side");
            f.commit_file("a.py", &numbered(&[(9, "nine by E")]), "E");
            f.checkout("main");
            f.merge("side", "Merge edits to a.py");
        }
        _ => unreachable!("a shape of this test"),
    }
    let merged = std::fs::read_to_string(f.path().join("b.py")).expect("b.py");
    let touched: String = merged
        .lines()
        .map(|l| if l.contains(" by ") { format!("{l}, then Z\n") } else { format!("{l}\n") })
        .collect();
    f.commit_file("b.py", &touched, "Z");
    (tmp, f)
}

#[test]
fn line_owners_follow_renames_through_merges_as_git_blame_does() {
    // Regression: through a merge that renames a file, later commits on it depended on the
    // wrong commits, or on none.
    for shape in ["merge-renames", "side-renames", "main-renames"] {
        let (_tmp, f) = renames_through_merges(shape);
        for context in [0, 1, 3] {
            let n = assert_same(f.path(), "stable", "main", context);
            assert!(n >= 2, "{shape}, context {context}: Z needs both sides ({n} edges)");
        }
    }
}

/// deps keeps the patches it read and the line diffs it made through merges. From them the
/// graph is the same, and no patch is read again; from a torn, damaged or foreign cache, or
/// none, it is the same too. (The range stops before main's binary change, whose patch is
/// not kept and would be read every time.)
#[test]
fn deps_caches_give_the_same_graph_and_damage_to_them_is_harmless() {
    let (_tmp, f) = tangled();
    let run = |trace: bool| {
        let out = crate::regraft(f.path())
            .args(["deps", "--json", "stable", "main~1"])
            .env("REGRAFT_TRACE", if trace { "1" } else { "0" })
            .output()
            .expect("deps runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let diffed = String::from_utf8_lossy(&out.stderr).contains(" diff-tree ");
        (String::from_utf8(out.stdout).expect("UTF-8 JSON"), diffed)
    };
    let (first, diffed) = run(true);
    assert!(diffed, "the first run reads the patches");
    let default_context = DepsOptions::default().context;
    let from_library = analyze(f.path(), "stable", "main~1", default_context, false);
    assert_eq!(serde_json::from_str::<DependencyGraph>(&first).expect("JSON"), from_library);
    let (again, diffed) = run(true);
    assert_eq!(again, first);
    assert!(!diffed, "the second run reads every patch from the cache");

    let dir = f.path().join(".git/regraft");
    for name in ["changes-v2", "line-diffs-v2"] {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).expect(name);
        assert!(bytes.len() > 40, "{name} holds records");
        // Every record's last number (a block's line count, mostly) off by one: only the
        // records' checksums can tell.
        let mut damaged = bytes.clone();
        let mut at = 0;
        while at + 4 <= damaged.len() {
            let length = u32::from_le_bytes(damaged[at..at + 4].try_into().expect("4 bytes"));
            let end = at + 4 + length as usize;
            damaged[end - 4] ^= 0x01;
            at = end + 8;
        }
        assert_eq!(at, damaged.len(), "{name} is whole records");
        let versions: [(&str, &[u8]); 4] = [
            ("torn", &bytes[..bytes.len() - 5]),
            ("damaged", &damaged),
            ("foreign", b"\x10\x00\x00\x00not a record of ours"),
            ("empty", b""),
        ];
        for (what, contents) in versions {
            std::fs::write(&path, contents).expect("write the cache");
            assert_eq!(run(false).0, first, "{name} {what}");
        }
        std::fs::remove_file(&path).expect("remove");
        assert_eq!(run(false).0, first, "{name} removed");
    }
}

#[test]
fn deps_for_says_why_in_text_each_edge_with_its_file_and_lines() {
    let (_tmp, s) = small_scenario();
    let fix = s.fix.to_hex();
    let json = crate::regraft(&s.dir)
        .args(["deps", TARGET, SOURCE, "--for", &fix, "--json"])
        .output()
        .expect("runs");
    let graph: DependencyGraph = serde_json::from_slice(&json.stdout).expect("deps --json");
    let closure = graph.closure.clone().expect("a closure");
    let (code, text) =
        crate::run(crate::regraft(&s.dir).args(["deps", TARGET, SOURCE, "--for", &fix]));
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when piped: {text}");
    let flat = crate::flat(&text);
    let mut told = 0;
    for edge in graph.edges.iter().filter(|e| closure.contains(&e.commit)) {
        let pick = closure.iter().position(|c| *c == edge.depends_on).expect("in the closure") + 1;
        let reasons: Vec<String> =
            edge.reasons.iter().map(|r| format!("{}:{}", r.path, r.lines)).collect();
        let line =
            format!("needs {} (pick {pick}): {}", edge.depends_on.short(), reasons.join(" "));
        assert!(flat.contains(&line), "{line} in:\n{text}");
        told += 1;
    }
    assert!(told > 1, "the fix's closure has edges");
    // On demand (a terminal, or --color always), dependencies are coloured.
    let (_, coloured) = crate::run(
        crate::regraft(&s.dir).args(["--color", "always", "deps", TARGET, SOURCE, "--for", &fix]),
    );
    assert!(coloured.contains("\u{1b}[36mneeds "), "{coloured}");
}
