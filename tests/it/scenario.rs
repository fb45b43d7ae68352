//! The scenario builder makes what it promises, checked with git.

use regraft::scenario::{self, SOURCE, ScenarioSpec, TARGET, TRUNK};
use tempfile::TempDir;

use crate::{git, small_scenario};

#[test]
fn has_every_awkward_kind_of_change() {
    let (_tmp, s) = small_scenario();
    let d = &s.dir;
    let both_sides = format!("{TARGET}...{SOURCE}");
    let count = |args: &[&str]| git(d, args).lines().count();
    assert!(
        count(&["rev-list", "--merges", &format!("{TARGET}..{SOURCE}")]) > 0,
        "merges on SOURCE"
    );
    assert!(
        count(&["rev-list", "--merges", &format!("{SOURCE}..{TARGET}")]) > 0,
        "merges on TARGET"
    );
    let statuses = git(d, &["log", "--format=", "-M", "--name-status", &both_sides]);
    assert!(statuses.lines().any(|l| l.starts_with('R')), "a rename");
    assert!(
        statuses.lines().any(|l| l.starts_with("T\tdocker/config.json")),
        "symlink replaces a file"
    );
    let numstat = git(d, &["log", "--format=", "--numstat", &both_sides]);
    assert!(numstat.lines().any(|l| l.starts_with("-\t-\timages/logo.png")), "a binary change");
    let summaries = git(d, &["log", "--format=%H %s", "--summary", &both_sides]);
    assert!(summaries.contains("mode change 100644 => 100755 tools/run.sh"), "a mode change");
    let mut declared = 0;
    let mut invalid = 0;
    for hex in git(d, &["rev-list", &both_sides]).lines() {
        let raw = crate::Fixture::open(d).git_with_input(&["cat-file", "commit", hex], None);
        declared += usize::from(String::from_utf8_lossy(&raw).contains("\nencoding ISO-8859-1\n"));
        invalid += usize::from(std::str::from_utf8(&raw).is_err());
    }
    assert!(declared >= 1 && invalid >= 2, "declared {declared}, not UTF-8 {invalid}");
    for tag in ["1.0.0", "2.0.0", "liberty-last"] {
        assert_eq!(git(d, &["cat-file", "-t", tag]), "tag", "{tag} is annotated");
    }
    assert_eq!(crate::id(&git(d, &["rev-parse", "1.0.0^{commit}"])), s.liberty_fork);
    assert_eq!(crate::id(&git(d, &["rev-parse", "2.0.0^{commit}"])), s.mitaka_fork);
    assert_eq!(git(d, &["symbolic-ref", "--short", "HEAD"]), TARGET);
    assert!(git(d, &["status", "--porcelain"]).is_empty(), "clean work tree");
}

#[test]
fn backports_come_in_every_style() {
    let (_tmp, s) = small_scenario();
    let styles: Vec<&str> = s.counts.backports.keys().copied().collect();
    assert_eq!(
        styles,
        [
            "abbreviated trailer",
            "cherry-pick -x",
            "edited, same Change-Id",
            "new Change-Id, same patch",
            "resubmitted without trailer",
            "trailer without Change-Id",
        ]
    );
}

#[test]
fn the_same_seed_gives_the_same_commits() {
    let tips = |spec: &ScenarioSpec| {
        let tmp = TempDir::new().expect("temp dir");
        scenario::build(tmp.path(), spec).expect("builds");
        let refs = git(tmp.path(), &["for-each-ref", "--format=%(refname) %(objectname)"]);
        refs.lines().map(str::to_string).collect::<Vec<_>>()
    };
    let spec = ScenarioSpec::small();
    let first = tips(&spec);
    assert_eq!(first.len(), 6, "{first:?}");
    assert_eq!(first, tips(&spec));
    assert_ne!(first, tips(&ScenarioSpec { seed: 7, ..spec }));
}

#[test]
fn large_scenarios_scale() {
    let tmp = TempDir::new().expect("temp dir");
    let s = scenario::build(tmp.path(), &ScenarioSpec::with_trunk_changes(2000)).expect("builds");
    let n: usize = git(tmp.path(), &["rev-list", "--count", TRUNK]).parse().expect("a count");
    assert!(n > 2000, "{n} commits on {TRUNK}");
    assert!(s.counts.liberty > 300, "{} commits on {TARGET}", s.counts.liberty);
}
