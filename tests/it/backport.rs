//! Simulated picks against real `git cherry-pick`, and backport plans.

use std::path::Path;

use regraft::analysis::backport::{self, BackportOptions, Selection, StepOutcome};
use regraft::analysis::deps::DepsOptions;
use regraft::analysis::simulation::{self, Outcome, ToPick};
use regraft::progress::Silent;
use regraft::scenario::{SOURCE, TARGET};
use regraft::{ErrorOrigin, ObjectId};
use regraft_testkit::{Fixture, GitPick, git_pick_loop};
use tempfile::TempDir;

use crate::{git, id, open, small_scenario};

fn to_picks(dir: &Path, commits: &[ObjectId]) -> Vec<ToPick> {
    commits
        .iter()
        .map(|c| ToPick {
            commit: *c,
            parent: Some(id(&git(dir, &["rev-parse", &format!("{c}^")]))),
        })
        .collect()
}

/// Simulates the picks and asserts that every outcome and tree equals git's; returns how
/// many were clean, empty and conflicting.
fn assert_like_git(dir: &Path, onto: &str, commits: &[ObjectId]) -> [usize; 3] {
    let repo = open(dir);
    let sim = simulation::simulate(
        &repo,
        id(&git(dir, &["rev-parse", &format!("{onto}^{{commit}}")])),
        &to_picks(dir, commits),
        &Silent,
    )
    .expect("simulates");
    let real = git_pick_loop(dir, onto, commits);
    assert_eq!(sim.picks.len(), commits.len());
    assert_eq!(real.len(), commits.len());
    let mut counts = [0; 3];
    let mut tree = id(&git(dir, &["rev-parse", &format!("{onto}^{{tree}}")]));
    for (pick, git_pick) in sim.picks.iter().zip(&real) {
        match git_pick {
            GitPick::Clean(t) => {
                assert_eq!((pick.outcome, pick.tree), (Outcome::Clean, *t), "{}", pick.commit);
                tree = *t;
                counts[0] += 1;
            }
            GitPick::Empty => {
                assert_eq!((pick.outcome, pick.tree), (Outcome::Empty, tree), "{}", pick.commit);
                counts[1] += 1;
            }
            GitPick::Conflict => {
                assert_eq!(pick.outcome, Outcome::Conflict, "{}", pick.commit);
                assert!(!pick.conflicts.is_empty(), "{}", pick.commit);
                counts[2] += 1;
            }
        }
    }
    assert_eq!(sim.final_tree, tree);
    counts
}

#[test]
fn scenario_picks_match_git_cherry_pick() {
    let (_tmp, s) = small_scenario();
    let order: Vec<ObjectId> = git(
        &s.dir,
        &["rev-list", "--no-merges", "--reverse", "--topo-order", &format!("{TARGET}..{SOURCE}")],
    )
    .lines()
    .map(id)
    .collect();
    let [clean, empty, conflict] = assert_like_git(&s.dir, TARGET, &order);
    assert!(
        clean > 0 && empty > 0 && conflict > 0,
        "clean {clean}, empty {empty}, conflict {conflict}"
    );
}

#[test]
fn edge_case_picks_match_git_cherry_pick() {
    let tmp = TempDir::new().expect("temp dir");
    let h = crate::edge_history::edge_history(tmp.path());
    // Onto each commit of the tip side, so every edge case meets the picks alone too.
    let mut totals = [0; 3];
    for tip in &h.tips {
        let counts = assert_like_git(h.fixture.path(), &tip.to_hex(), &h.picks);
        totals.iter_mut().zip(counts).for_each(|(t, c)| *t += c);
    }
    let [clean, empty, conflict] = totals;
    assert!(
        clean > 50 && empty > 5 && conflict > 20,
        "clean {clean}, empty {empty}, conflict {conflict}"
    );
}

/// Every pick of a real history against git's own pick loop (minutes on a large one):
/// `REGRAFT_REAL_REPO=<clone> REGRAFT_REAL_TARGET=<ref> REGRAFT_REAL_SOURCE=<ref>
/// cargo test --test it -- --ignored real_history`.
#[test]
#[ignore = "needs a real clone named by REGRAFT_REAL_REPO"]
fn real_history_picks_match_git_cherry_pick() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let dir = std::path::PathBuf::from(var("REGRAFT_REAL_REPO"));
    let (target, source) = (var("REGRAFT_REAL_TARGET"), var("REGRAFT_REAL_SOURCE"));
    let range = format!("{target}..{source}");
    let order: Vec<ObjectId> =
        git(&dir, &["rev-list", "--no-merges", "--reverse", "--topo-order", &range])
            .lines()
            .map(id)
            .collect();
    let [clean, empty, conflict] = assert_like_git(&dir, &target, &order);
    eprintln!("{} picks: clean {clean}, empty {empty}, conflict {conflict}", order.len());
}

#[test]
fn renames_deletions_and_binaries_match_git() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    let text: String = (0..30).map(|i| format!("line {i}\n")).collect();
    f.write("a.txt", &text);
    f.write("gone.txt", &text);
    f.write("logo.bin", b"\0\x01binary");
    f.commit("Base");
    f.branch("stable", "main");
    let e1 = f.commit_file("a.txt", &text.replace("line 3\n", "line three\n"), "Edit a");
    f.remove("gone.txt");
    f.write("logo.bin", b"\0\x02binary");
    let e2 = f.commit("Delete gone.txt, change the logo");
    let e3 = f.commit_file("gone.txt", "reborn\n", "Re-add gone.txt");
    let e4 = f.commit_file(
        "a.txt",
        &text.replace("line 3\n", "line three\n").replace("line 20\n", "line twenty\n"),
        "Edit a again",
    );
    f.checkout("stable");
    f.rename("a.txt", "renamed.txt");
    f.commit("Rename a.txt on stable");
    f.commit_file(
        "gone.txt",
        &text.replace("line 1\n", "stable line 1\n"),
        "Stable edits gone.txt",
    );
    f.write("logo.bin", b"\0\x03stable");
    f.commit("Stable logo");
    let [clean, _, conflict] = assert_like_git(f.path(), "stable", &[e1, e2, e3, e4, e1]);
    assert!(clean >= 2 && conflict >= 1, "clean {clean}, conflict {conflict}");
}

#[test]
fn a_dry_run_writes_nothing_even_in_a_bare_repository() {
    let (tmp, s) = small_scenario();
    let bare = tmp.path().join("bare.git");
    git(
        tmp.path(),
        &["clone", "-q", "--bare", s.dir.to_str().expect("utf-8"), bare.to_str().expect("utf-8")],
    );
    let objects = || {
        let mut files: Vec<_> = walk(&bare.join("objects"));
        files.sort();
        files
    };
    let before = objects();
    let options = BackportOptions {
        selection: Selection::Delta,
        include_present: false,
        stage_size: 5,
        deps: DepsOptions::default(),
        with_stat: false,
        policy: None,
    };
    let plan =
        backport::plan(&open(&bare), TARGET, Some(SOURCE), &options, &Silent).expect("plans");
    assert!(plan.counts().clean > 0);
    assert_eq!(objects(), before, "no object was written");
    // Stages: at most five clean picks each, in order, covering every clean pick.
    let clean: Vec<ObjectId> =
        plan.steps.iter().filter(|s| s.outcome == StepOutcome::Clean).map(|s| s.commit).collect();
    let staged: Vec<ObjectId> = plan.stages.iter().flat_map(|s| s.commits.clone()).collect();
    assert_eq!(staged, clean);
    assert!(plan.stages.iter().all(|s| !s.commits.is_empty() && s.commits.len() <= 5));
    let present = plan.steps.iter().filter(|s| s.outcome == StepOutcome::Present).count();
    let delta = regraft::analysis::delta::delta(&open(&bare), TARGET, SOURCE, &Default::default())
        .expect("delta");
    assert_eq!(present, delta.summary().present);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[test]
fn closure_and_list_selections() {
    let (_tmp, s) = small_scenario();
    let repo = open(&s.dir);
    let graph =
        regraft::analysis::deps::analyze(&repo, TARGET, SOURCE, &DepsOptions::default(), &Silent)
            .expect("deps");
    let closure = graph.closure(&[s.fix], regraft::analysis::deps::Follow::Lines);
    let options = |selection| BackportOptions {
        selection,
        include_present: false,
        stage_size: 25,
        deps: DepsOptions::default(),
        with_stat: false,
        policy: None,
    };
    let plan = backport::plan(
        &repo,
        TARGET,
        Some(SOURCE),
        &options(Selection::Closure(vec![s.fix.to_hex()])),
        &Silent,
    )
    .expect("plans");
    assert_eq!(plan.steps.iter().map(|s| s.commit).collect::<Vec<_>>(), closure);
    // A closure picks cleanly in order: that is what it is for.
    assert!(plan.steps.iter().all(|s| s.outcome == StepOutcome::Clean), "{:#?}", plan.steps);
    let reversed: Vec<String> = closure.iter().rev().map(|c| c.to_hex()).collect();
    let listed =
        backport::plan(&repo, TARGET, None, &options(Selection::List(reversed.clone())), &Silent)
            .expect("plans");
    assert_eq!(
        listed.steps.iter().map(|s| s.commit.to_hex()).collect::<Vec<_>>(),
        reversed,
        "no reordering"
    );
    let merge = git(&s.dir, &["rev-list", "--merges", "-1", SOURCE]);
    let err = backport::plan(&repo, TARGET, None, &options(Selection::List(vec![merge])), &Silent)
        .expect_err("a merge");
    assert!(err.is_user_input() && err.to_string().contains("is a merge"), "{err}");
}

// Regression: an unreadable backport state file was overwritten by the next backport
// without a word, and removed when it finished; `--abort` failed on it.
#[test]
fn an_unreadable_backport_state_is_refused_and_abort_moves_it_aside() {
    let tmp = tempfile::TempDir::new().expect("temp dir");
    let f = regraft_testkit::Fixture::init(tmp.path());
    f.commit_file("a", "1\n", "A");
    f.branch("stable", "main");
    f.commit_file("b", "1\n", "B");
    f.commit_file("c", "1\n", "C");
    let state = tmp.path().join(".git/regraft/backport.json");
    std::fs::create_dir_all(state.parent().expect("a parent")).expect("state dir");
    let damaged = b"{\"target\": \"stable\", \"branch\": \"refs/heads/backport/sta";
    std::fs::write(&state, damaged).expect("a damaged state file");
    let run = |args: &[&str]| {
        let out = crate::regraft(tmp.path()).args(args).output().expect("regraft runs");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned(), out.stdout)
    };
    for args in
        [&["backport", "stable", "main"][..], &["backport", "--continue"], &["backport", "--skip"]]
    {
        let (code, stderr, _) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        // Lines are wrapped to 80 columns: the words are what counts.
        let stderr = crate::flat(&stderr);
        assert!(
            stderr.contains("backport.json") && stderr.contains("cannot be read"),
            "{args:?} names the file: {stderr}"
        );
        assert!(stderr.contains("backport --abort"), "{args:?} names the way out: {stderr}");
        assert_eq!(std::fs::read(&state).expect("kept"), damaged, "{args:?} leaves it");
    }
    let branches = f.git(&["branch", "--list", "backport/*"]);
    assert!(branches.is_empty(), "no backport was started: {branches}");
    let (_, _, stdout) = run(&["status"]);
    let status = String::from_utf8_lossy(&stdout);
    assert!(
        status.contains("backport.json") && status.contains("backport --abort"),
        "status explains it: {status}"
    );
    let (code, stderr, _) = run(&["backport", "--abort"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("moved aside"), "{stderr}");
    assert!(!state.exists());
    let aside: Vec<_> = std::fs::read_dir(state.parent().expect("a parent"))
        .expect("state dir")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.to_string_lossy().contains("backport.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).expect("kept aside"), damaged);
    // Then a backport can start again.
    let (code, stderr, _) = run(&["backport", "stable", "main"]);
    assert_eq!(code, Some(0), "{stderr}");
}
