//! The simulation cache (issue 28): a run answered from the cache gives what git's own pick
//! loop gives, on every scenario history; an input changed between runs (attributes in each
//! place git reads them, merge and rename settings, replacement refs, a merge driver) is
//! never answered from the old runs; a cache whose objects are gone is noticed and the
//! answer is still git's.

use std::path::Path;

use regraft::ObjectId;
use regraft::analysis::simulation::{self, Outcome, Simulation, ToPick};
use regraft::progress::Silent;
use regraft::scenario::{SOURCE, TARGET};
use regraft_testkit::{Fixture, GitPick, git_pick_loop};
use tempfile::TempDir;

use crate::{git, id, open, small_scenario};

/// The non-merge commits of `range`, oldest first, with their parents.
fn picks_of(dir: &Path, range: &str) -> Vec<ToPick> {
    git(dir, &["rev-list", "--no-merges", "--reverse", "--topo-order", range])
        .lines()
        .map(id)
        .map(|c| ToPick {
            commit: c,
            parent: Some(id(&git(dir, &["rev-parse", &format!("{c}^")]))),
        })
        .collect()
}

fn simulate(dir: &Path, onto: &str, picks: &[ToPick]) -> Simulation {
    let onto = id(&git(dir, &["rev-parse", &format!("{onto}^{{commit}}")]));
    simulation::simulate(&open(dir), onto, picks, &Silent).expect("simulates")
}

/// What the simulation says of each pick, in git's terms: the tree after a clean pick.
fn outcomes(sim: &Simulation) -> Vec<GitPick> {
    sim.picks
        .iter()
        .map(|p| match p.outcome {
            Outcome::Clean => GitPick::Clean(p.tree),
            Outcome::Empty => GitPick::Empty,
            Outcome::Conflict => GitPick::Conflict,
        })
        .collect()
}

fn commits(picks: &[ToPick]) -> Vec<ObjectId> {
    picks.iter().map(|p| p.commit).collect()
}

/// Simulates twice and checks both runs against git's pick loop: the first asks git for
/// every merge, the second takes every one from the cache.
fn twice_like_git(dir: &Path, onto: &str, picks: &[ToPick]) {
    let real = git_pick_loop(dir, onto, &commits(picks));
    let first = simulate(dir, onto, picks);
    let second = simulate(dir, onto, picks);
    assert_eq!(outcomes(&first), real, "the first run is git's");
    assert_eq!(outcomes(&second), real, "the cached run is git's");
    assert_eq!(first.final_tree, second.final_tree);
    assert_eq!(second.reused, picks.len(), "the second run took every merge from the cache");
}

#[test]
fn cached_runs_answer_as_git_on_every_scenario_history() {
    let (_tmp, s) = small_scenario();
    let picks = picks_of(&s.dir, &format!("{TARGET}..{SOURCE}"));
    let first = simulate(&s.dir, TARGET, &picks);
    assert_eq!(first.reused, 0, "a new repository has no cache");
    twice_like_git(&s.dir, TARGET, &picks);

    let shapes = TempDir::new().expect("temp dir");
    let s = regraft::scenario::build(
        &shapes.path().join("repo"),
        &regraft::scenario::ScenarioSpec::with_message_shapes(),
    )
    .expect("builds");
    twice_like_git(&s.dir, TARGET, &picks_of(&s.dir, &format!("{TARGET}..{SOURCE}")));

    let forward = TempDir::new().expect("temp dir");
    let f = regraft::scenario::forward::build(&forward.path().join("repo")).expect("builds");
    let range =
        format!("{}..{}", regraft::scenario::forward::LTS, regraft::scenario::forward::MAIN);
    twice_like_git(&f.dir, regraft::scenario::forward::LTS, &picks_of(&f.dir, &range));

    let edges = TempDir::new().expect("temp dir");
    let h = crate::edge_history::edge_history(edges.path());
    let dir = h.fixture.path();
    let picks: Vec<ToPick> = h
        .picks
        .iter()
        .map(|c| ToPick {
            commit: *c,
            parent: Some(id(&git(dir, &["rev-parse", &format!("{c}^")]))),
        })
        .collect();
    for tip in &h.tips {
        twice_like_git(dir, &tip.to_hex(), &picks);
    }
}

/// A history whose picks git answers differently as the inputs change: `a.txt` renamed on
/// stable and edited on main (clean), `notes.txt` edited on both sides (a conflict that
/// `merge=union` resolves), and a file added on main in a directory stable renamed (a
/// conflict, clean with `merge.directoryRenames=true`).
fn sensitive_history(dir: &Path) -> (Fixture, Vec<ToPick>) {
    let f = Fixture::init(dir);
    let text: String = (0..40).map(|i| format!("line {i}\n")).collect();
    f.write("a.txt", &text);
    f.write("notes.txt", "one\ntwo\nthree\n");
    f.write("d/one.txt", &text);
    f.write("d/two.txt", text.replace("line", "row"));
    f.commit("Base");
    f.branch("stable", "main");
    f.commit_file("a.txt", &text.replace("line 7\n", "line seven\n"), "Edit a.txt");
    f.commit_file("notes.txt", "one\ntwo on main\nthree\n", "Edit notes on main");
    f.commit_file("d/new.txt", "new\n", "Add d/new.txt");
    f.checkout("stable");
    f.rename("a.txt", "renamed.txt");
    f.rename("d", "e");
    f.commit("Rename a.txt and d/");
    f.commit_file("notes.txt", "one\ntwo on stable\nthree\n", "Edit notes on stable");
    let picks = picks_of(f.path(), "stable..main");
    (f, picks)
}

/// Turns the cache off for one uncached run, to compare with.
fn uncached(dir: &Path, onto: &str, picks: &[ToPick]) -> Simulation {
    git(dir, &["config", "regraft.mergeCache", "false"]);
    let sim = simulate(dir, onto, picks);
    git(dir, &["config", "--unset", "regraft.mergeCache"]);
    assert_eq!(sim.reused, 0, "regraft.mergeCache=false turns the cache off");
    sim
}

#[test]
fn a_changed_input_is_never_answered_from_the_cache() {
    let tmp = TempDir::new().expect("temp dir");
    let (f, picks) = sensitive_history(tmp.path());
    let dir = f.path();
    let baseline = simulate(dir, "stable", &picks);
    assert_eq!(outcomes(&baseline), git_pick_loop(dir, "stable", &commits(&picks)));
    let shape = |sim: &Simulation| sim.picks.iter().map(|p| p.outcome).collect::<Vec<_>>();
    assert_eq!(
        shape(&baseline),
        [Outcome::Clean, Outcome::Conflict, Outcome::Conflict],
        "the history as meant"
    );

    let info = dir.join(".git/info/attributes");
    let work = dir.join(".gitattributes");
    let global = tmp.path().join("attributes");
    // Each change, and whether git's pick loop (in a worktree of its own, which reads the
    // common git directory and configuration but not this work tree's files) sees it.
    type Change<'a> = (&'a str, Box<dyn Fn() + 'a>, Box<dyn Fn() + 'a>, bool);
    let changes: Vec<Change> = vec![
        (
            "info/attributes merge=union",
            Box::new(|| std::fs::write(&info, "notes.txt merge=union\n").expect("write")),
            Box::new(|| std::fs::remove_file(&info).expect("remove")),
            true,
        ),
        (
            "an untracked .gitattributes in the work tree",
            Box::new(|| std::fs::write(&work, "notes.txt merge=union\n").expect("write")),
            Box::new(|| std::fs::remove_file(&work).expect("remove")),
            false,
        ),
        (
            "merge.directoryRenames=true",
            Box::new(|| {
                git(dir, &["config", "merge.directoryRenames", "true"]);
            }),
            Box::new(|| {
                git(dir, &["config", "--unset", "merge.directoryRenames"]);
            }),
            true,
        ),
        (
            "core.attributesFile naming a file with merge=union",
            Box::new(|| {
                std::fs::write(&global, "notes.txt merge=union\n").expect("write");
                git(dir, &["config", "core.attributesFile", global.to_str().expect("utf-8")]);
            }),
            Box::new(|| {
                git(dir, &["config", "--unset", "core.attributesFile"]);
            }),
            true,
        ),
    ];
    for (what, apply, undo, git_sees_it) in &changes {
        apply();
        let changed = simulate(dir, "stable", &picks);
        let plain = uncached(dir, "stable", &picks);
        assert_eq!(outcomes(&changed), outcomes(&plain), "{what}: cached as uncached");
        assert_ne!(shape(&changed), shape(&baseline), "{what} changes git's answer");
        assert_eq!(changed.reused, 0, "{what}: no merge of the old inputs reused");
        if *git_sees_it {
            assert_eq!(
                outcomes(&changed),
                git_pick_loop(dir, "stable", &commits(&picks)),
                "{what}"
            );
        }
        undo();
        let back = simulate(dir, "stable", &picks);
        assert_eq!(outcomes(&back), outcomes(&baseline), "{what} undone");
        assert_eq!(back.reused, picks.len(), "{what} undone: the first run's merges reused");
    }
}

#[test]
fn settings_that_change_no_outcome_still_change_the_key() {
    let tmp = TempDir::new().expect("temp dir");
    let (f, picks) = sensitive_history(tmp.path());
    let dir = f.path();
    simulate(dir, "stable", &picks);
    // The conflict style changes the conflicted files' content, the rename limit which
    // renames are found, a replacement ref what a commit stands for.
    let settings: [&[&str]; 3] = [
        &["config", "merge.conflictStyle", "diff3"],
        &["config", "merge.renameLimit", "1"],
        &["replace", "--force", &picks[1].commit.to_hex(), &picks[0].commit.to_hex()],
    ];
    for args in settings {
        git(dir, args);
        let sim = simulate(dir, "stable", &picks);
        assert_eq!(sim.reused, 0, "{args:?}: a new key");
        let again = simulate(dir, "stable", &picks);
        assert_eq!(again.reused, picks.len(), "{args:?}: cached under the new key");
    }
    // The attribute file's content counts, not only the setting that names it.
    let global = tmp.path().join("attributes");
    std::fs::write(&global, "# nothing yet\n").expect("write");
    git(dir, &["config", "core.attributesFile", global.to_str().expect("utf-8")]);
    git(dir, &["replace", "-d", &picks[1].commit.to_hex()]);
    let before = simulate(dir, "stable", &picks);
    std::fs::write(&global, "notes.txt merge=union\n").expect("write");
    let after = simulate(dir, "stable", &picks);
    assert_eq!(after.reused, 0, "an edited attribute file is a new key");
    assert_eq!(outcomes(&after), git_pick_loop(dir, "stable", &commits(&picks)));
    assert_ne!(outcomes(&after), outcomes(&before), "the edit changes git's answer");
}

#[test]
fn an_outside_program_is_never_cached() {
    let tmp = TempDir::new().expect("temp dir");
    let (f, picks) = sensitive_history(tmp.path());
    let dir = f.path();
    // A merge driver is a program whose answer regraft cannot know: `true` resolves every
    // conflict it is given by taking ours.
    git(dir, &["config", "merge.ours-always.driver", "true"]);
    std::fs::write(dir.join(".git/info/attributes"), "notes.txt merge=ours-always\n")
        .expect("write");
    let first = simulate(dir, "stable", &picks);
    let second = simulate(dir, "stable", &picks);
    assert_eq!(second.reused, 0, "nothing cached with a merge driver configured");
    assert_eq!(outcomes(&first), git_pick_loop(dir, "stable", &commits(&picks)));
    assert_eq!(outcomes(&second), outcomes(&first));
}

#[test]
fn a_cache_whose_objects_are_gone_still_answers_as_git() {
    let (_tmp, s) = small_scenario();
    let picks = picks_of(&s.dir, &format!("{TARGET}..{SOURCE}"));
    let first = simulate(&s.dir, TARGET, &picks);
    let objects = s.dir.join(".git/regraft/merge-objects");
    assert!(objects.is_dir(), "the cached merges' trees are kept");
    std::fs::remove_dir_all(&objects).expect("remove");
    // Every merge of the same picks comes from the cache and needs none of the trees.
    let again = simulate(&s.dir, TARGET, &picks);
    assert_eq!(again.reused, picks.len());
    assert_eq!(outcomes(&again), outcomes(&first));
    // One more pick needs the tree the one before it made, which is gone: the run is made
    // again without the cache.
    let mut more = picks.clone();
    more.push(picks[0]);
    let with_more = simulate(&s.dir, TARGET, &more);
    let real_more = git_pick_loop(&s.dir, TARGET, &commits(&more));
    assert_eq!(outcomes(&with_more), real_more, "a missing tree is computed again");
}

/// One compare reads the merge inputs once for all its simulations (the trace shows each
/// read's `git var GIT_ATTR_GLOBAL`), cold and from the cache: without the scope, four
/// reads cold and three warm.
#[test]
fn a_compare_reads_the_merge_inputs_once_for_all_its_simulations() {
    let (_tmp, scenario) = small_scenario();
    let reads = |args: &[&str]| {
        let out = crate::regraft(&scenario.dir)
            .env(regraft::git::TRACE_VAR, "1")
            .args(args)
            .output()
            .expect("regraft runs");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).matches("GIT_ATTR_GLOBAL").count()
    };
    // Cold, then answered from the cache: the same one read each time.
    for round in ["cold", "warm"] {
        assert_eq!(reads(&["compare", "--json", TARGET, SOURCE]), 1, "compare, {round}");
    }
}

/// Inside a scope the inputs are read once; once it ends, an input changed is seen: the
/// next simulation reuses none of the merges made under the old inputs.
#[test]
fn remembered_merge_inputs_are_forgotten_when_the_scope_ends() {
    let tmp = TempDir::new().expect("temp dir");
    let (f, picks) = sensitive_history(tmp.path());
    let dir = f.path();
    let repo = open(dir);
    let onto = id(&git(dir, &["rev-parse", "stable^{commit}"]));
    let scope = repo.remember_merge_inputs();
    let first = simulation::simulate(&repo, onto, &picks, &Silent).expect("simulates");
    let again = simulation::simulate(&repo, onto, &picks, &Silent).expect("simulates");
    assert_eq!(again.reused, picks.len(), "the second run, same inputs, from the cache");
    drop(scope);
    std::fs::write(dir.join(".git/info/attributes"), "notes.txt merge=union\n").expect("write");
    let changed = simulation::simulate(&repo, onto, &picks, &Silent).expect("simulates");
    assert_eq!(changed.reused, 0, "no merge of the old inputs reused");
    assert_ne!(outcomes(&changed), outcomes(&first), "the attribute changes git's answer");
    assert_eq!(outcomes(&changed), git_pick_loop(dir, "stable", &commits(&picks)));
}

/// `regraft.mergeCache=false` given in the environment (`GIT_CONFIG_COUNT`, as `git -c`
/// passes it on) turns the cache off, and a later pair that sets it true again turns it
/// back on, as git reads them (the last value wins): neither regraft's shortcut that skips
/// reading the merge inputs when the cache is off, nor its reading of git's configuration,
/// may stop at the first value. (The second did: this test found it.)
#[test]
fn the_cache_set_off_in_the_environment_is_off_and_a_later_true_wins() {
    let tmp = TempDir::new().expect("temp dir");
    let (f, _) = sensitive_history(tmp.path());
    let dir = f.path();
    let cache = dir.join(".git/regraft/merges-v1");
    let dry_run = |pairs: &[(&str, &str)]| {
        let mut cmd = crate::regraft(dir);
        cmd.args(["backport", "--dry-run", "--json", "stable", "main"]);
        cmd.env("GIT_CONFIG_COUNT", pairs.len().to_string());
        for (i, (key, value)) in pairs.iter().enumerate() {
            cmd.env(format!("GIT_CONFIG_KEY_{i}"), key).env(format!("GIT_CONFIG_VALUE_{i}"), value);
        }
        cmd.assert().success();
    };
    dry_run(&[("regraft.mergeCache", "false")]);
    assert!(!cache.exists(), "off in the environment: nothing cached");
    dry_run(&[("regraft.mergecache", "off"), ("regraft.mergeCache", "true")]);
    assert!(cache.exists(), "the later pair turns it on again");
}

/// A forecast reads the merge inputs once for all its branches, though each branch runs in
/// a thread with its own handle of the repository (the trace shows each read's
/// `git var GIT_ATTR_GLOBAL`): before, once per branch. The inputs it shares are the ones
/// the cache is keyed by: the second forecast runs no merge at all, and it, the first and
/// a forecast with the cache off say the same.
#[test]
fn a_forecast_reads_the_merge_inputs_once_for_all_its_branches_and_keys_the_cache_by_them() {
    let (_tmp, scenario) = small_scenario();
    let range = format!("{}..{}", scenario.mitaka_fork, regraft::scenario::TRUNK);
    let args = ["forecast", "--json", "--branch", TARGET, "--branch", SOURCE, range.as_str()];
    let run = |off: bool| {
        let mut cmd = crate::regraft(&scenario.dir);
        cmd.env(regraft::git::TRACE_VAR, "1").args(args);
        if off {
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "regraft.mergeCache")
                .env("GIT_CONFIG_VALUE_0", "false");
        }
        let out = cmd.output().expect("regraft runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let trace = String::from_utf8_lossy(&out.stderr).into_owned();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        (json, trace)
    };
    let (cold, trace) = run(false);
    assert_eq!(trace.matches("GIT_ATTR_GLOBAL").count(), 1, "cold: {trace}");
    assert!(trace.contains("merge-tree"), "the first forecast merges");
    let (warm, trace) = run(false);
    assert_eq!(trace.matches("GIT_ATTR_GLOBAL").count(), 1, "warm: {trace}");
    assert!(!trace.contains("merge-tree"), "every merge of the second from the cache: {trace}");
    let (off, trace) = run(true);
    assert!(trace.contains("merge-tree"), "with the cache off, merged again");
    assert_eq!(warm, cold);
    assert_eq!(off, cold);
    let picked = cold["branches"].as_array().expect("branches").iter();
    assert!(picked.map(|b| b["picked"].as_array().map_or(0, Vec::len)).sum::<usize>() > 0);
}
