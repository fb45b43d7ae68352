//! Plan files and journals written before plan steps were typed (a6777d7's format: `action`
//! an argv, `input`, `review`) still load, write back byte for byte, and run.
//!
//! The files in `tests/it/data/before-typed-actions/` were written by the binary of commit
//! a6777d7 on the small scenario (whose ids are the same on every build): `--plan-out` of a
//! merge with a follow-up, a megapatch for review, a recreate and an end of life through
//! Gerrit's REST API, a plain merge; `run --json` of a playbook that recreates a branch and
//! restores its reviews; and the journal of a merge killed after three steps.

use std::path::{Path, PathBuf};

use regraft::surgery::operation::{Action, Plan};

use crate::replace::{regraft, remote, run, world};
use crate::{git, id};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/data/before-typed-actions").join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(data(name)).expect("the fixture is there")
}

const PLANS: [&str; 6] = [
    "run-playbook-recreate-restore.json",
    "plan-merge-followup.json",
    "plan-megapatch-for-review.json",
    "plan-recreate-gerrit-rest.json",
    "plan-eol-gerrit.json",
    "plan-merge.json",
];

#[test]
fn plans_of_the_old_format_read_and_write_back_byte_for_byte() {
    let mut kinds = std::collections::BTreeSet::new();
    for name in PLANS {
        let old = text(name);
        let plans: Vec<Plan> = if name.starts_with("run-") {
            serde_json::from_str(&old).unwrap_or_else(|e| panic!("{name}: {e}"))
        } else {
            vec![serde_json::from_str(&old).unwrap_or_else(|e| panic!("{name}: {e}"))]
        };
        let mut again = if name.starts_with("run-") {
            serde_json::to_string_pretty(&plans)
        } else {
            serde_json::to_string_pretty(&plans[0])
        }
        .expect("serializes");
        again.push('\n');
        assert_eq!(again, old, "{name} writes back as it was");
        for step in plans.iter().flat_map(|p| &p.steps) {
            kinds.insert(match &step.action {
                Action::Git(action) => action.argv()[0].clone(),
                Action::Review(review) => {
                    format!("{:?}", review.call).split(' ').next().unwrap_or_default().to_string()
                }
                Action::Forge(forge) => {
                    format!("{:?}", forge.call).split(' ').next().unwrap_or_default().to_string()
                }
                Action::Check => "check".to_string(),
            });
        }
    }
    // The fixtures hold every kind of action a plan can have.
    for kind in [
        "push",
        "fetch",
        "tag",
        "hash-object",
        "merge-tree",
        "check",
        "Abandon",
        "Restore",
        "DeleteBranch",
        "CreateBranch",
        "CreateTag",
    ] {
        assert!(kinds.iter().any(|k| k.starts_with(kind)), "{kind} missing from {kinds:?}");
    }
}

#[test]
fn a_journal_of_the_old_format_read_whole() {
    let journal: serde_json::Value =
        serde_json::from_str(&text("journal-merge-after-3.json")).expect("JSON");
    let plan: Plan = serde_json::from_value(journal["plan"].clone()).expect("the plan reads");
    assert_eq!(serde_json::to_value(&plan).expect("serializes"), journal["plan"]);
}

#[test]
fn an_old_saved_plan_runs_as_it_was_reviewed() {
    let w = world(true);
    let plan: Plan = serde_json::from_str(&text("plan-merge.json")).expect("reads");
    let named = plan
        .steps
        .iter()
        .find(|s| s.id.to_string() == "commit")
        .and_then(|s| match s.verification.first() {
            Some(regraft::surgery::operation::Check::LocalObject { id }) => Some(*id),
            _ => None,
        })
        .expect("the merge commit the plan names");
    let (code, out) = run(regraft(&w.clone)
        .args(["replace", "--execute", "--yes", "--plan"])
        .arg(data("plan-merge.json")));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), Some(named));
    let parents = git(&w.server, &["rev-list", "--parents", "-n1", &named.to_hex()]);
    assert_eq!(parents, format!("{named} {} {}", w.old, w.source), "the merge of both tips");
}

#[test]
fn an_old_journal_resumes_where_it_stopped() {
    // The first three steps done for real, then the journal swapped for the old one, which
    // says they are done and names a merge commit of its own.
    let w = world(true);
    let args =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "merge"];
    let (code, out) = run(regraft(&w.clone)
        .args(args)
        .args(["--execute", "--yes"])
        .env("REGRAFT_FAULT_AFTER_STEPS", "3"));
    assert_ne!(code, Some(0), "killed after three steps: {out}");
    let journal = w.clone.join(".git/regraft/journal.json");
    assert!(journal.exists(), "{out}");
    let old = text("journal-merge-after-3.json");
    std::fs::write(&journal, &old).expect("write");
    let named: serde_json::Value = serde_json::from_str(&old).expect("JSON");
    let named = named["plan"]["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == "commit"))
        .and_then(|s| s["verification"][0]["id"].as_str())
        .map(id)
        .expect("the commit the old journal names");

    let (code, out) = run(regraft(&w.clone).args(["status"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("commit") && out.contains("--continue"), "{out}");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--continue"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), Some(named));
    assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old));
    assert!(!journal.exists(), "finished");
}

#[test]
fn a_journal_step_regraft_would_not_make_is_refused_before_anything_runs() {
    let w = world(true);
    let args =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "merge"];
    let (code, out) = run(regraft(&w.clone)
        .args(args)
        .args(["--execute", "--yes"])
        .env("REGRAFT_FAULT_AFTER_STEPS", "3"));
    assert_ne!(code, Some(0), "{out}");
    let journal = w.clone.join(".git/regraft/journal.json");
    let pwned = w.clone.parent().expect("parent").join("PWNED");
    let edited = std::fs::read_to_string(&journal).expect("journal").replacen(
        "\"hash-object\",\n          \"-t\",\n          \"commit\",\n          \"-w\",\n          \"--stdin\"",
        &format!("\"fetch\", \"--upload-pack=touch {}\", \"origin\"", pwned.display()),
        1,
    );
    assert!(edited.contains("upload-pack"), "the edit took");
    std::fs::write(&journal, edited).expect("write");
    let before = remote(&w.server, "refs/heads/stable/liberty");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--continue"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("journal"), "names the journal: {out}");
    assert!(!pwned.exists(), "the edited step did not run");
    assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), before);
}

#[test]
fn a_journal_that_pushes_elsewhere_or_writes_another_commit_is_refused() {
    // Regression: `--continue` ran whatever the journal held; a saved plan was checked.
    for (what, from, to) in [
        ("another commit", "Merge origin/stable/mitaka", "Merge something else"),
        ("another remote", "\"origin\",\n          \"", "\"elsewhere\",\n          \""),
    ] {
        let w = world(true);
        let elsewhere = w.clone.parent().expect("parent").join("elsewhere.git");
        git(w.clone.parent().expect("parent"), &["init", "-q", "--bare", "elsewhere.git"]);
        git(&w.clone, &["remote", "add", "elsewhere", elsewhere.to_str().expect("utf-8")]);
        let args =
            ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "merge"];
        let (code, out) = run(regraft(&w.clone)
            .args(args)
            .args(["--execute", "--yes"])
            .env("REGRAFT_FAULT_AFTER_STEPS", "3"));
        assert_ne!(code, Some(0), "{out}");
        let journal = w.clone.join(".git/regraft/journal.json");
        let text = std::fs::read_to_string(&journal).expect("journal");
        let edited = text.replace(from, to);
        assert_ne!(edited, text, "{what}: the edit took");
        std::fs::write(&journal, edited).expect("write");
        let before = remote(&w.server, "refs/heads/stable/liberty");
        let (code, out) = run(regraft(&w.clone).args(["replace", "--continue"]));
        assert_eq!(code, Some(2), "{what}: {out}");
        assert!(out.contains("regraft makes no such step"), "{what}: {out}");
        assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), before, "{what}");
        assert_eq!(git(&elsewhere, &["for-each-ref"]), "", "{what}: nothing pushed elsewhere");
    }
}
