//! `policy check` on a generated history with a change of every class, under every phase
//! of the shipped OpenStack policy.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use regraft::ObjectId;
use regraft::analysis::policy::{self, Report};
use regraft_testkit::{Fixture, change_id};
use tempfile::TempDir;

use crate::{git, open};

/// An alembic revision, as OpenStack projects write them.
const REVISION: &str = "\"\"\"Add tags.\"\"\"\nfrom alembic import op\n\nrevision = 'b2'\n\
    down_revision = 'a1'\n\n\ndef upgrade():\n    op.create_table('tags')\n    \
    op.create_index('ix_tags', 'tags')\n    op.create_index('ix_tags', 'tags')\n";

/// A Cinder-like tree; master gets one change of each kind, stable/2024.1 gets backports
/// of some (with `-x`) and changes of its own.
fn history() -> (TempDir, Fixture, BTreeMap<&'static str, ObjectId>) {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    for path in [
        "cinder/volume/drivers/lvm.py",
        "cinder/tests/unit/volume/drivers/test_lvm.py",
        "cinder/api/v3/volumes.py",
        "cinder/db/migrations/versions/001_init.py",
        "cinder/tests/unit/test_volume.py",
        "cinder/volume/manager.py",
        "doc/source/index.rst",
        ".zuul.yaml",
    ] {
        f.write(path, format!("# {path}\n"));
    }
    f.commit("Base");
    f.branch("stable/2024.1", "main");
    let mut c = BTreeMap::new();
    let change = |f: &Fixture, files: &[&str], subject: &str, footer: &str| {
        for file in files {
            let old = std::fs::read_to_string(f.path().join(file)).unwrap_or_default();
            f.write(file, format!("{old}# {subject}\n"));
        }
        f.commit(&format!("{subject}\n\nBody.\n\n{footer}Change-Id: {}\n", change_id(subject)))
    };
    c.insert(
        "bugfix",
        change(&f, &["cinder/volume/manager.py"], "Fix volume manager race", "Closes-Bug: #1\n"),
    );
    c.insert(
        "driver",
        change(
            &f,
            &[
                "cinder/volume/drivers/lvm.py",
                "cinder/tests/unit/volume/drivers/test_lvm.py",
                "releasenotes/notes/lvm.yaml",
            ],
            "Fix LVM driver",
            "Closes-Bug: #2\n",
        ),
    );
    c.insert(
        "feature",
        change(
            &f,
            &["cinder/volume/manager.py"],
            "Add volume tags",
            "Implements: blueprint volume-tags\n",
        ),
    );
    // A new alembic revision: a schema change.
    f.write("cinder/db/migrations/versions/002_tags.py", REVISION);
    c.insert(
        "migration",
        change(
            &f,
            &["cinder/db/migrations/versions/002_tags.py"],
            "Add tags table",
            "Closes-Bug: #3\n",
        ),
    );
    c.insert(
        "api",
        change(
            &f,
            &["cinder/api/v3/volumes.py"],
            "Return tags in the API",
            "Closes-Bug: #4\nAPIImpact\n",
        ),
    );
    c.insert(
        "security",
        change(
            &f,
            &["cinder/volume/manager.py"],
            "Check volume owner (CVE-2024-0001)",
            "Closes-Bug: #5\n",
        ),
    );
    c.insert(
        "critical",
        change(&f, &["cinder/volume/manager.py"], "Avoid data loss on detach", "Closes-Bug: #6\n"),
    );
    f.checkout("stable/2024.1");
    for kind in ["bugfix", "driver", "feature", "migration", "api", "security", "critical"] {
        let picked = f.cherry_pick_x(&c[kind].to_hex());
        c.insert(
            match kind {
                "bugfix" => "pick:bugfix",
                "driver" => "pick:driver",
                "feature" => "pick:feature",
                "migration" => "pick:migration",
                "api" => "pick:api",
                "security" => "pick:security",
                _ => "pick:critical",
            },
            picked,
        );
    }
    c.insert(
        "stable-only",
        change(&f, &["cinder/volume/manager.py"], "Stable-only fix", "Closes-Bug: #7\n"),
    );
    c.insert("gate", change(&f, &[".zuul.yaml"], "Fix the stable gate", ""));
    (tmp, f, c)
}

fn verdicts(dir: &Path, phase: &str, upstream: Option<&str>) -> Report {
    let policy = policy::load(None).expect("built-in policy");
    policy::check(&open(dir), &policy, "main~7..stable/2024.1", Some(phase), upstream)
        .expect("checks")
}

fn allowed(report: &Report, commit: ObjectId) -> bool {
    report.commits.iter().find(|v| v.commit == commit).expect("checked").allowed
}

#[test]
fn every_phase_takes_what_its_rules_say() {
    let (_tmp, f, c) = history();
    let d = f.path();
    let m = verdicts(d, "maintained", Some("main"));
    let classes = |r: &Report, k: &str| {
        r.commits.iter().find(|v| v.commit == c[k]).expect("checked").classes.clone()
    };
    assert!(classes(&m, "pick:driver").contains(&"driver-only".to_string()));
    assert!(classes(&m, "pick:migration").contains(&"migration".to_string()));
    assert!(classes(&m, "pick:api").contains(&"api-impact".to_string()));
    assert!(classes(&m, "pick:security").contains(&"security".to_string()));
    assert!(classes(&m, "pick:bugfix").contains(&"on-upstream".to_string()));
    let expect = |r: &Report, yes: &[&str], no: &[&str]| {
        for k in yes {
            assert!(allowed(r, c[k]), "{} allows {k}: {:#?}", r.phase, r.commits);
        }
        for k in no {
            assert!(!allowed(r, c[k]), "{} refuses {k}", r.phase);
        }
    };
    expect(
        &m,
        &["pick:bugfix", "pick:driver", "pick:security", "pick:critical", "gate"],
        &["pick:feature", "pick:migration", "pick:api", "stable-only"],
    );
    let reasons =
        &m.commits.iter().find(|v| v.commit == c["stable-only"]).expect("checked").reasons;
    assert!(
        reasons.iter().any(|r| r.contains("cherry picked"))
            && reasons.iter().any(|r| r.contains("upstream")),
        "{reasons:?}"
    );
    expect(
        &verdicts(d, "extended", None),
        &["pick:security", "pick:critical", "gate"],
        &["pick:bugfix", "pick:driver"],
    );
    expect(
        &verdicts(d, "security", None),
        &["pick:security", "gate"],
        &["pick:critical", "pick:bugfix"],
    );
    expect(
        &verdicts(d, "unmaintained", None),
        &["pick:bugfix", "stable-only"],
        &["pick:feature", "pick:migration", "pick:api"],
    );
    expect(&verdicts(d, "driverfixes", None), &["pick:driver"], &["pick:bugfix", "pick:security"]);
    let eol = verdicts(d, "eol", None);
    assert!(eol.commits.iter().all(|v| !v.allowed));
}

#[test]
fn exit_codes_and_bad_input() {
    let (tmp, f, _) = history();
    let d = f.path();
    let regraft = |args: &[&str]| {
        let out = Command::cargo_bin("git-regraft")
            .expect("built")
            .current_dir(d)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(args)
            .output()
            .expect("runs");
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (code, out) = regraft(&["policy", "check", "main~7..stable/2024.1"]);
    assert_eq!(code, Some(3), "some refused (a finding, not a failure): {out}");
    let (code, out) = regraft(&["policy", "check", "stable/2024.1~9..stable/2024.1~8"]);
    assert_eq!(code, Some(0), "the bugfix pick alone is allowed: {out}");
    let (code, out) =
        regraft(&["policy", "check", "--json", "main~7..stable/2024.1", "--phase", "maintained"]);
    assert_eq!(code, Some(3));
    let report: Report = serde_json::from_str(&out).expect("JSON on stdout, nothing on stderr");
    assert_eq!((report.policy.as_str(), report.phase.as_str()), ("openstack", "maintained"));
    let (code, out) = regraft(&["policy", "check", "main~7..stable/2024.1", "--phase", "frozen"]);
    assert_eq!(code, Some(2));
    assert!(out.contains("no phase `frozen`") && out.contains("maintained"), "{out}");
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\ndescription = \"y\"\ndefault_phase = \"open\"\n[phases.open]\ndescription = \"z\"\nrequire = \"change-id\"\n").expect("write");
    let (code, out) = regraft(&[
        "policy",
        "check",
        "main~7..stable/2024.1",
        "--policy",
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, Some(2));
    assert!(out.contains("bad.toml:6:11:"), "line and column: {out}");
    let (code, out) = regraft(&["policy", "check", "stable/2024.1"]);
    assert_eq!(code, Some(2));
    assert!(out.contains("not a range"), "{out}");
}

#[test]
fn backport_and_compare_mark_what_a_phase_refuses() {
    let (_tmp, s) = crate::small_scenario();
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("git-regraft")
            .expect("built")
            .current_dir(&s.dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(args)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let (t, src) = (regraft::scenario::TARGET, regraft::scenario::SOURCE);
    let plan: regraft::analysis::backport::BackportPlan =
        serde_json::from_str(&run(&["backport", "--dry-run", "--json", t, src, "--phase", "eol"]))
            .expect("JSON");
    assert!(
        plan.steps.iter().all(|s| s.policy_refusals.as_ref().is_some_and(|r| !r.is_empty())),
        "eol refuses all"
    );
    let plain: regraft::analysis::backport::BackportPlan =
        serde_json::from_str(&run(&["backport", "--dry-run", "--json", t, src])).expect("JSON");
    assert!(plain.steps.iter().all(|s| s.policy_refusals.is_none()), "no policy, no marks");
    let c: regraft::analysis::compare::Comparison =
        serde_json::from_str(&run(&["compare", "--json", t, src, "--phase", "eol"])).expect("JSON");
    assert_eq!(c.policy_refused, Some(plan.steps.len()));
}

#[test]
fn driverfixes_takes_a_driver_fix_with_its_tests_in_either_layout_and_refuses_core_code() {
    // Regression: a driver fix carrying its unit tests outside the driver test tree (and a
    // release note) was refused, though the phase takes "fixes to drivers only, with their
    // tests and release notes".
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    for path in [
        "cinder/volume/drivers/lvm.py",
        "cinder/tests/unit/test_lvm.py",
        "cinder/volume/manager.py",
        "nova/virt/libvirt/driver.py",
        "nova/tests/functional/libvirt/test_reshape.py",
        "doc/source/index.rst",
    ] {
        f.write(path, format!("# {path}\n"));
    }
    f.commit("Base");
    let change = |files: &[&str], subject: &str| {
        for file in files {
            let old = std::fs::read_to_string(f.path().join(file)).unwrap_or_default();
            f.write(file, format!("{old}# {subject}\n"));
        }
        f.commit(&format!("{subject}\n\nCloses-Bug: #9\nChange-Id: {}\n", change_id(subject)))
    };
    let cases = [
        // (files, allowed) — by the phase's description.
        (
            &[
                "cinder/volume/drivers/lvm.py",
                "cinder/tests/unit/test_lvm.py",
                "releasenotes/notes/lvm-fix.yaml",
            ][..],
            true,
        ),
        (
            &["nova/virt/libvirt/driver.py", "nova/tests/functional/libvirt/test_reshape.py"][..],
            true,
        ),
        (&["cinder/volume/drivers/lvm.py"][..], true),
        (&["cinder/volume/drivers/lvm.py", "cinder/volume/manager.py"][..], false),
        (&["cinder/tests/unit/test_lvm.py", "releasenotes/notes/tests.yaml"][..], false),
        (&["cinder/volume/drivers/lvm.py", "doc/source/index.rst"][..], false),
    ];
    let commits: Vec<(ObjectId, bool, String)> = cases
        .iter()
        .enumerate()
        .map(|(n, (files, ok))| (change(files, &format!("Change {n}")), *ok, files.join(" ")))
        .collect();
    let policy = policy::load(None).expect("built-in policy");
    let report = policy::check(
        &open(f.path()),
        &policy,
        &format!("HEAD~{}..HEAD", cases.len()),
        Some("driverfixes"),
        None,
    )
    .expect("checks");
    for (commit, ok, files) in commits {
        assert_eq!(allowed(&report, commit), ok, "{files}: {:#?}", report.commits);
    }
}

/// A Nova-like history on a maintained branch, one commit for each verdict a stable
/// reviewer would not give (issue 25, item 6): master's fixes picked with `-x`, one
/// picked without it, and changes made on the branch only.
fn stable_reviewer_history() -> (TempDir, Fixture, BTreeMap<&'static str, ObjectId>) {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    let revision = "nova/db/main/migrations/versions/001_init.py";
    f.write(revision, REVISION);
    f.write("nova/db/main/migrations/env.py", "import logging\n");
    f.write("nova/policies/servers.py", "SHOW = 'rule:admin_or_owner'\n");
    f.write("nova/compute/manager.py", "# manager\n");
    f.write(".zuul.yaml", "- job: nova-tox\n");
    f.commit("Base");
    f.tag_lightweight("base", "HEAD");
    f.branch("stable/2025.1", "main");
    let change = |f: &Fixture, path: &str, text: &str, subject: &str, footer: &str| {
        f.write(path, text);
        f.commit(&format!("{subject}\n\nBody.\n\n{footer}Change-Id: {}\n", change_id(subject)))
    };
    let append = |f: &Fixture, path: &str, subject: &str| {
        let old = std::fs::read_to_string(f.path().join(path)).unwrap_or_default();
        format!("{old}# {subject}\n")
    };
    let bug = "Closes-Bug: #2001\n";
    let mut c = BTreeMap::new();
    let dup = REVISION.replacen("    op.create_index('ix_tags', 'tags')\n", "", 1);
    c.insert("duplicate line", change(&f, revision, &dup, "Remove a repeated index line", bug));
    let rev = REVISION.replace("'b2'", "'c3'").replace("'a1'", "'b2'");
    let new_revision = "nova/db/main/migrations/versions/002_tags.py";
    c.insert("new revision", change(&f, new_revision, &rev, "Add a tags table", bug));
    let body = dup.replace(
        "    op.create_table('tags')\n",
        "    op.create_table('tags')\n    op.add_column('tags', 'x')\n",
    );
    c.insert("upgrade body", change(&f, revision, &body, "Add a column in upgrade", bug));
    let env = "import logging\nimport sys\n";
    let env_path = "nova/db/main/migrations/env.py";
    c.insert("env.py", change(&f, env_path, env, "Log migrations to stderr", bug));
    let rbac = "SHOW = 'rule:project_reader_or_admin'\n";
    let rbac_path = "nova/policies/servers.py";
    c.insert("RBAC fix", change(&f, rbac_path, rbac, "Fix the server show RBAC default", bug));
    let core = "nova/compute/manager.py";
    for (key, subject, footer) in [
        ("security group", "Fix security group rule ordering", bug),
        ("time-critical", "Speed up the time-critical path", bug),
        ("critical", "Fix a critical crash on boot", bug),
        ("CVE", "Stop leaking tokens (CVE-2024-1234)", bug),
        ("OSSA", "Close the token leak, OSSA-2024-001", "Related-Bug: #2002\n"),
        ("OSSA-notes", "Update the OSSA-notes template", bug),
        ("blueprint line", "Add server tags", "Implements blueprint server-tags\n"),
        ("picked without -x", "Fix the resize race", bug),
    ] {
        // Each in a file of its own, so that every pick applies alone.
        let path = format!("nova/compute/{}.py", c.len());
        let text = append(&f, &path, subject);
        c.insert(key, change(&f, &path, &text, subject, footer));
    }
    f.checkout("stable/2025.1");
    let mut picks: Vec<&str> = c.keys().copied().filter(|k| *k != "picked without -x").collect();
    picks.sort_by_key(|k| git(f.path(), &["log", "-1", "--format=%ct", &c[k].to_hex()]));
    for key in picks {
        let picked = f.cherry_pick_x(&c[key].to_hex());
        c.insert(key, picked);
    }
    // A backport made with `git cherry-pick` but no `-x`: same Change-Id, same patch.
    f.git(&["cherry-pick", &c["picked without -x"].to_hex()]);
    c.insert("picked without -x", f.rev("HEAD"));
    let text = append(&f, core, "stable");
    c.insert("[stable-only]", change(&f, core, &text, "[stable-only] Pin the old client", bug));
    let text = append(&f, core, "unmaintained");
    let subject = "[unmaintained-only] Drop the removed client";
    c.insert("[unmaintained-only]", change(&f, core, &text, subject, bug));
    let text = "- job: nova-tox\n  branches: stable/2025.1\n";
    c.insert("CI only", change(&f, ".zuul.yaml", text, "Pin the stable gate jobs", ""));
    (tmp, f, c)
}

// Issue 25, item 6: 12 of 17 refusals a stable reviewer would not give, on a real project.
#[test]
fn verdicts_a_stable_reviewer_would_give() {
    let (_tmp, f, c) = stable_reviewer_history();
    let policy = policy::load(None).expect("built-in policy");
    let repo = open(f.path());
    let range = "base..stable/2025.1";
    let report = |phase: &str| {
        policy::check(&repo, &policy, range, Some(phase), Some("main")).expect("checks")
    };
    let (maintained, extended, security, unmaintained) =
        (report("maintained"), report("extended"), report("security"), report("unmaintained"));
    let cases: [(&Report, &str, bool); 20] = [
        // The database schema changes only with a new revision or a changed upgrade().
        (&maintained, "duplicate line", true),
        (&maintained, "env.py", true),
        (&maintained, "new revision", false),
        (&maintained, "upgrade body", false),
        // Policy-in-code defaults: an RBAC fix is a fix, not an API change.
        (&maintained, "RBAC fix", true),
        // Found upstream by Change-Id and patch-id: the `-x` line is not what proves it.
        (&maintained, "picked without -x", true),
        // Made for the branch, marked so: nothing to merge upstream first.
        (&maintained, "[stable-only]", true),
        (&maintained, "[unmaintained-only]", false),
        (&unmaintained, "[unmaintained-only]", true),
        (&unmaintained, "[stable-only]", true),
        // Only CI: the unmaintained branch's gate is its own.
        (&unmaintained, "CI only", true),
        (&maintained, "CI only", true),
        // "critical" and "security" as words, not inside "security group", "time-critical".
        (&extended, "security group", false),
        (&extended, "time-critical", false),
        (&extended, "critical", true),
        // Security: an advisory id, not the letters of one.
        (&security, "CVE", true),
        (&security, "OSSA", true),
        (&security, "OSSA-notes", false),
        // A blueprint is a feature however its line is spelled.
        (&maintained, "blueprint line", false),
        (&maintained, "security group", true),
    ];
    for (report, key, expected) in cases {
        let verdict = report.commits.iter().find(|v| v.commit == c[key]).expect("checked");
        assert_eq!(verdict.allowed, expected, "{} {key}: {verdict:#?}", report.phase);
    }
    let classes = |key: &str| {
        maintained.commits.iter().find(|v| v.commit == c[key]).expect("checked").classes.clone()
    };
    assert!(classes("blueprint line").contains(&"feature".to_string()));
    assert!(classes("duplicate line").contains(&"migration-tree".to_string()));
    assert!(classes("new revision").contains(&"migration".to_string()));
    assert!(classes("RBAC fix").contains(&"policy".to_string()));
}
