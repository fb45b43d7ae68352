//! `forecast`: candidates onto several maintained branches at once, each branch's outcomes
//! checked against git's own pick loop over the same sequence.

use std::path::Path;

use regraft::analysis::forecast::{self, Outcome, Pick, Target};
use regraft::scenario::{SOURCE, TARGET, TRUNK};
use regraft::{ErrorOrigin, ObjectId};
use regraft_testkit::{Fixture, GitPick, git_pick_loop};
use tempfile::TempDir;

use crate::{git, open, regraft, run, run_apart, small_scenario};

/// The third maintained branch, cut from the trunk where stable/mitaka was.
const NEWTON: &str = "stable/newton";

/// A small scenario with, on the trunk after every fork: `feature` (a new file), `fix`
/// (changing a line `feature` added, so it needs it), `docs` (a file of its own); and
/// stable/newton at stable/mitaka's fork with `docs` cherry-picked onto it with `-x`.
struct World {
    _tmp: TempDir,
    dir: std::path::PathBuf,
    feature: ObjectId,
    fix: ObjectId,
    docs: ObjectId,
    docs_on_newton: ObjectId,
}

fn world() -> World {
    let (tmp, scenario) = small_scenario();
    let dir = scenario.dir.clone();
    let repo = Fixture::open(&dir);
    repo.checkout(TRUNK);
    let feature =
        repo.commit_file("forecast/feature.txt", "one\ntwo\nthree\nfour\n", "Add the feature");
    let fix =
        repo.commit_file("forecast/feature.txt", "one\nTWO\nthree\nfour\n", "Fix the feature");
    let docs = repo.commit_file("forecast/docs.txt", "how to\n", "Document it");
    repo.branch(NEWTON, &scenario.mitaka_fork.to_hex());
    repo.checkout(NEWTON);
    let docs_on_newton = repo.cherry_pick_x(&docs.to_hex());
    repo.checkout(TARGET);
    World { _tmp: tmp, dir, feature, fix, docs, docs_on_newton }
}

fn target(dir: &Path, name: &str) -> Target {
    let commit = crate::id(&git(dir, &["rev-parse", &format!("{name}^{{commit}}")]));
    Target { name: name.to_string(), commit, policy: None }
}

/// The candidates: every trunk commit since stable/mitaka's fork but `feature`.
fn candidates(w: &World) -> Vec<forecast::Candidate> {
    let repo = open(&w.dir);
    let listed: Vec<String> =
        git(&w.dir, &["rev-list", "--reverse", "--no-merges", "1.0.0..master"])
            .lines()
            .filter(|l| *l != w.feature.to_hex())
            .map(str::to_string)
            .collect();
    forecast::candidates_listed(&repo, &listed).expect("the trunk's commits are candidates")
}

#[test]
fn every_branch_s_outcomes_are_git_s_own_pick_loop_over_the_same_sequence() {
    let w = world();
    let candidates = candidates(&w);
    let targets: Vec<Target> = [TARGET, SOURCE, NEWTON].iter().map(|b| target(&w.dir, b)).collect();
    let result = forecast::forecast(|| Ok(open(&w.dir)), TRUNK, &candidates, &targets, 2)
        .expect("forecasts");
    assert_eq!(result.branches.len(), 3);
    let mut seen = [0usize; 5];
    // Candidates that git says are already on a branch by ancestry (trunk commits from
    // before stable/mitaka's fork): each must be told "there, by ancestry".
    let mut ancestors = 0;
    for branch in &result.branches {
        assert_eq!(branch.outcomes.len(), candidates.len(), "{}", branch.name);
        let real = git_pick_loop(&w.dir, &branch.name, &branch.picked);
        let git_said: std::collections::HashMap<ObjectId, Pick> = branch
            .picked
            .iter()
            .zip(&real)
            .map(|(c, r)| {
                let pick = match r {
                    GitPick::Clean(_) => Pick::Clean,
                    GitPick::Empty => Pick::Empty,
                    GitPick::Conflict => Pick::Conflict,
                };
                (*c, pick)
            })
            .collect();
        for (candidate, outcome) in candidates.iter().zip(&branch.outcomes) {
            assert_eq!(candidate.commit, outcome.commit);
            let what = format!("{} on {}", candidate.commit.short(), branch.name);
            let ancestor = is_ancestor(&w.dir, candidate.commit, &branch.name);
            ancestors += usize::from(ancestor);
            let own = |pick: Pick| {
                assert_eq!(Some(&pick), git_said.get(&candidate.commit), "{what}");
            };
            match outcome.outcome {
                Outcome::There => {
                    seen[0] += 1;
                    assert!(!branch.picked.contains(&candidate.commit), "{what} is not picked");
                    let by_ancestry = outcome.evidence.iter().any(|e| e.by == "ancestor");
                    assert_eq!(by_ancestry, ancestor, "{what}");
                }
                Outcome::Clean => own(Pick::Clean),
                Outcome::Empty => own(Pick::Empty),
                Outcome::Conflict => {
                    seen[3] += 1;
                    own(Pick::Conflict);
                    assert!(!outcome.conflicts.is_empty(), "{what}");
                }
                Outcome::Needs => {
                    seen[4] += 1;
                    own(outcome.pick.expect("a candidate that needs others has its own pick"));
                    let at = branch.picked.iter().position(|c| *c == candidate.commit);
                    for need in &outcome.needs {
                        assert_eq!(Some(&need.outcome), git_said.get(&need.commit), "{what}");
                        let need_at = branch.picked.iter().position(|c| *c == need.commit);
                        assert!(need_at < at, "{what}: what it needs is picked before it");
                    }
                }
            }
            if matches!(outcome.outcome, Outcome::Clean | Outcome::Empty) {
                seen[if outcome.outcome == Outcome::Clean { 1 } else { 2 }] += 1;
            }
        }
    }
    assert!(seen[0] > 0 && seen[1] > 0 && seen[3] > 0 && seen[4] > 0, "{seen:?}");
    assert!(ancestors > 0, "some candidate is on a branch by ancestry");

    // The fix needs the feature (not a candidate, on no branch) everywhere; the docs are on
    // stable/newton by its cherry-pick line.
    for branch in &result.branches {
        let row = candidates.iter().position(|c| c.commit == w.fix).expect("fix is a candidate");
        let fix = &branch.outcomes[row];
        assert_eq!(fix.outcome, Outcome::Needs, "{}", branch.name);
        let needed: Vec<ObjectId> = fix.needs.iter().map(|n| n.commit).collect();
        assert_eq!(needed, vec![w.feature], "{}", branch.name);
    }
    let newton = &result.branches[2];
    let row = candidates.iter().position(|c| c.commit == w.docs).expect("docs is a candidate");
    let docs = &newton.outcomes[row];
    assert_eq!(docs.outcome, Outcome::There);
    assert!(
        docs.evidence.iter().any(|e| e.by == "cherry-pick" && e.commit == Some(w.docs_on_newton)),
        "{docs:?}"
    );
}

fn is_ancestor(dir: &Path, commit: ObjectId, branch: &str) -> bool {
    let mut cmd = std::process::Command::new("git");
    regraft::git::isolate_environment(&mut cmd);
    cmd.current_dir(dir).args(["merge-base", "--is-ancestor", &commit.to_hex(), branch]);
    cmd.status().expect("git runs").success()
}

#[test]
fn the_json_names_every_candidate_and_branch_and_the_evidence() {
    let w = world();
    let (code, out, err) = run_apart(regraft(&w.dir).args([
        "forecast",
        "2.0.0..master",
        "--branch",
        TARGET,
        "--branch",
        NEWTON,
        "--json",
    ]));
    assert_eq!(code, Some(0), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let listed =
        git(&w.dir, &["rev-list", "--reverse", "--no-merges", "--topo-order", "2.0.0..master"]);
    let candidates: Vec<&str> = json["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| c["commit"].as_str().expect("id"))
        .collect();
    assert_eq!(candidates, listed.lines().collect::<Vec<_>>());
    let names: Vec<&str> = json["branches"]
        .as_array()
        .expect("branches")
        .iter()
        .map(|b| b["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, [TARGET, NEWTON]);
    let newton = &json["branches"][1];
    assert_eq!(newton["commit"].as_str(), Some(git(&w.dir, &["rev-parse", NEWTON]).as_str()));
    let docs = newton["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .find(|o| o["commit"].as_str() == Some(w.docs.to_hex().as_str()))
        .expect("docs is forecast");
    assert_eq!(docs["outcome"], "there");
    assert_eq!(docs["evidence"][0]["by"], "cherry-pick");
    assert_eq!(docs["evidence"][0]["commit"].as_str(), Some(w.docs_on_newton.to_hex().as_str()));
    // With the feature among the candidates, the fix needs nothing else.
    let fix = newton["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .find(|o| o["commit"].as_str() == Some(w.fix.to_hex().as_str()))
        .expect("fix is forecast");
    assert_eq!(fix["outcome"], "clean", "{fix}");
    assert!(fix.get("needs").is_none());
}

#[test]
fn the_table_fits_80_columns_and_a_fix_s_needs_are_told_below() {
    let w = world();
    let stdin = format!("{}\n{}\n", w.fix, w.docs);
    let (code, out, err) = run_apart(
        regraft(&w.dir)
            .args(["forecast", "--stdin", "--source", TRUNK, "--branch", TARGET])
            .args(["--branch", SOURCE, "--branch", NEWTON])
            .write_stdin(stdin.clone()),
    );
    assert_eq!(code, Some(0), "{err}");
    for line in out.lines() {
        assert!(line.chars().count() <= 80, "{line:?} is wider than 80 columns:\n{out}");
    }
    let row = |commit: ObjectId| {
        out.lines()
            .find(|l| l.starts_with(&commit.short()))
            .unwrap_or_else(|| panic!("a row for {commit}:\n{out}"))
            .to_string()
    };
    assert!(row(w.fix).ends_with("> > >"), "{out}");
    assert!(row(w.docs).ends_with("+ + ="), "{out}");
    let flat = crate::flat(&out);
    assert!(
        flat.contains(&format!("needs {} (clean) first, then clean", w.feature.short())),
        "{out}"
    );
    assert!(
        flat.contains(&format!("there, as {} by cherry-pick", w.docs_on_newton.short())),
        "{out}"
    );

    let (code, md, err) = run_apart(
        regraft(&w.dir)
            .args(["forecast", "--stdin", "--source", TRUNK, "--branch", TARGET, "--format"])
            .args(["markdown"])
            .write_stdin(stdin),
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(md.contains(&format!("| commit | subject | {TARGET} |")), "{md}");
    assert!(
        md.contains(&format!(
            "- `{}` Fix the feature: needs `{}` (clean) first",
            w.fix.short(),
            w.feature.short()
        )),
        "{md}"
    );
}

#[test]
fn branches_are_found_by_patterns_by_configuration_and_remote_tracking_first() {
    let w = world();
    let names = |args: &[&str]| -> Vec<String> {
        let (code, out, err) =
            run_apart(regraft(&w.dir).args(["forecast", "master~1..master", "--json"]).args(args));
        assert_eq!(code, Some(0), "{err}");
        let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        json["branches"]
            .as_array()
            .expect("branches")
            .iter()
            .map(|b| b["name"].as_str().expect("name").to_string())
            .collect()
    };
    // The default patterns.
    assert_eq!(names(&[]), [TARGET, SOURCE, NEWTON]);
    assert_eq!(names(&["--branches", "stable/[ln]*"]), [TARGET, NEWTON]);
    git(&w.dir, &["config", "--add", "regraft.maintained", "stable/n*"]);
    git(&w.dir, &["config", "--add", "regraft.maintained", "*.x"]);
    git(&w.dir, &["branch", "4.2.x", "master~3"]);
    assert_eq!(names(&[]), ["4.2.x", NEWTON]);
    // A remote-tracking branch stands for the name it shares with a local one.
    git(&w.dir, &["update-ref", "refs/remotes/origin/stable/newton", "stable/newton~1"]);
    assert_eq!(names(&[]), ["4.2.x", "origin/stable/newton"]);

    git(&w.dir, &["config", "--unset-all", "regraft.maintained"]);
    let (code, out) =
        run(regraft(&w.dir).args(["forecast", "master~1..master", "--branches", "nothing/*"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("no branch of origin nor local branch matches nothing/*"), "{out}");
}

#[test]
fn bad_input_exits_2_and_changes_nothing() {
    let w = world();
    let state = || {
        (
            git(&w.dir, &["for-each-ref"]),
            git(&w.dir, &["status", "--porcelain"]),
            git(&w.dir, &["count-objects", "-v"]),
        )
    };
    let before = state();
    for args in [
        &["forecast", "2.0.0..master", "--branch", "stable/nonesuch"][..],
        &["forecast", "nonesuch..master", "--branch", TARGET],
        &["forecast", "master", "--branch", TARGET],
        &["forecast", "master...2.0.0", "--branch", TARGET],
        &["forecast", "2.0.0..master", "--remote", "nonesuch"],
        &["forecast", "--since", "2.0.0", "--source", "nonesuch", "--branch", TARGET],
    ] {
        let (code, out) = run(regraft(&w.dir).args(args));
        assert_eq!(code, Some(2), "{args:?}: {out}");
        assert!(out.contains("error:"), "{args:?}: {out}");
    }
    // A merge on standard input is refused.
    let merge = git(&w.dir, &["rev-list", "--merges", "-1", "--all"]);
    if !merge.is_empty() {
        let (code, out) = run(regraft(&w.dir)
            .args(["forecast", "--stdin", "--source", TRUNK, "--branch", TARGET])
            .write_stdin(merge));
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains("is a merge"), "{out}");
    }
    assert_eq!(state(), before);
    let repo = open(&w.dir);
    let error = forecast::candidates_in_range(&repo, "master").expect_err("not a range");
    assert!(error.is_user_input());
}

#[test]
fn each_branch_is_judged_under_its_own_phase_as_policy_check_judges() {
    let w = world();
    let (code, out, err) = run_apart(regraft(&w.dir).args([
        "forecast",
        "2.0.0..master",
        "--branch",
        TARGET,
        "--branch",
        NEWTON,
        "--phase",
        "*/newton=security",
        "--phase",
        "maintained",
        "--json",
    ]));
    assert_eq!(code, Some(0), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    for (branch, phase) in
        [(&json["branches"][0], "maintained"), (&json["branches"][1], "security")]
    {
        assert_eq!(branch["phase"], phase);
        // The oracle: `policy check` of the same commits under the same phase.
        let (code, check, err) = run_apart(regraft(&w.dir).args([
            "policy",
            "check",
            "2.0.0..master",
            "--phase",
            phase,
            "--json",
        ]));
        assert!(matches!(code, Some(0 | 3)), "{err}");
        let check: serde_json::Value = serde_json::from_str(&check).expect("JSON");
        let allowed: std::collections::HashMap<&str, bool> = check["commits"]
            .as_array()
            .expect("commits")
            .iter()
            .map(|v| (v["commit"].as_str().expect("id"), v["allowed"].as_bool().expect("bool")))
            .collect();
        let mut judged = 0;
        for outcome in branch["outcomes"].as_array().expect("outcomes") {
            let commit = outcome["commit"].as_str().expect("id");
            if outcome["outcome"] == "there" {
                assert!(outcome.get("policy").is_none(), "{outcome}");
                continue;
            }
            judged += 1;
            assert_eq!(
                outcome["policy"]["allowed"].as_bool(),
                allowed.get(commit).copied(),
                "{commit}"
            );
        }
        assert!(judged > 0);
    }
    // Security takes only fixes naming a CVE: the table marks stable/newton's picks refused.
    let (code, table, err) = run_apart(regraft(&w.dir).args([
        "forecast",
        "master~1..master",
        "--branch",
        TARGET,
        "--phase",
        "security",
    ]));
    assert_eq!(code, Some(0), "{err}");
    let row = table.lines().find(|l| l.starts_with(&w.docs.short())).expect("a row");
    assert!(row.ends_with('!'), "{table}");
    assert!(table.contains("phase security: 1 refused"), "{table}");

    let (code, out) =
        run(regraft(&w.dir).args(["forecast", "master~1..master", "--phase", "nonesuch"]));
    assert_eq!(code, Some(2), "{out}");
}

#[test]
fn since_a_date_takes_the_source_s_commits_but_its_root() {
    let w = world();
    let (code, out, err) = run_apart(regraft(&w.dir).args([
        "forecast",
        "--since",
        "1970-01-02",
        "--source",
        TRUNK,
        "--branch",
        NEWTON,
        "--json",
    ]));
    assert_eq!(code, Some(0), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let expected = git(
        &w.dir,
        &["rev-list", "--reverse", "--topo-order", "--min-parents=1", "--max-parents=1", TRUNK],
    );
    let got: Vec<&str> = json["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| c["commit"].as_str().expect("id"))
        .collect();
    assert_eq!(got, expected.lines().collect::<Vec<_>>());
    assert_eq!(json["source"]["name"], TRUNK);
}
