//! Evidence beyond Gerrit's, on the forward-merge sample: other projects' provenance
//! markers (abbreviations resolved by git's rules), backports in history both branches
//! share, reverts on either branch, subject-only hints; git is the oracle throughout.

use std::collections::{HashMap, HashSet};

use regraft::analysis::backport::{self, BackportOptions, Selection, StepOutcome};
use regraft::analysis::delta::{self, Delta, DeltaOptions, Entry, Evidence, Revert, Unresolved};
use regraft::analysis::deps::DepsOptions;
use regraft::progress::Silent;
use regraft::scenario::forward::{self, ForwardScenario, LTS, MAIN, PATTERN, Style};
use regraft::{ErrorOrigin, ObjectId};
use regraft_testkit::{Fixture, git_at};
use sha1::{Digest, Sha1};
use tempfile::TempDir;

use crate::{git, git_patch_id, id, open, regraft};

fn forward_scenario() -> (TempDir, ForwardScenario) {
    let tmp = TempDir::new().expect("a temporary directory");
    let s = forward::build(&tmp.path().join("repo")).expect("the sample builds");
    (tmp, s)
}

fn configure_pattern(s: &ForwardScenario) {
    git(&s.dir, &["config", "--add", "regraft.provenance", PATTERN]);
}

fn compute(s: &ForwardScenario) -> Delta {
    delta::delta(&open(&s.dir), LTS, MAIN, &DeltaOptions::default()).expect("delta computes")
}

fn entry(entries: &[Entry], commit: ObjectId) -> &Entry {
    entries.iter().find(|e| e.commit == commit).expect("the commit is in the delta")
}

fn plan(s: &ForwardScenario) -> backport::BackportPlan {
    let options = BackportOptions {
        selection: Selection::Delta,
        include_present: false,
        stage_size: 50,
        deps: DepsOptions::default(),
        with_stat: false,
        policy: None,
    };
    backport::plan(&open(&s.dir), LTS, Some(MAIN), &options, &Silent).expect("plans")
}

/// Returns `git patch-id --stable`'s id of every non-merge commit of `range`.
fn git_patch_ids(dir: &std::path::Path, range: &str) -> HashMap<ObjectId, String> {
    let f = Fixture::open(dir);
    let log = f.git_with_input(&["log", "-p", "--no-merges", range, "--"], None);
    let out = f.git_with_input(&["patch-id", "--stable"], Some(&log));
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(patch, commit)| (id(commit), patch.to_string()))
        .collect()
}

#[test]
fn kernel_django_and_configured_markers_are_evidence_and_adaptations_are_said() {
    // Before: no marker but git's cherry-pick line counted; these backports were "to bring".
    let (_tmp, s) = forward_scenario();
    let unconfigured = compute(&s);
    configure_pattern(&s);
    let d = compute(&s);
    let marked = [Style::Kernel, Style::KernelBracket, Style::Django, Style::Configured];
    let mut adapted_after_last_merge = 0;
    for b in s.backports.iter().filter(|b| marked.contains(&b.style)) {
        let e = entry(&d.source_only, b.original);
        let by_marker: Vec<_> = e.equivalents.iter().filter(|q| q.by == Evidence::Marker).collect();
        assert_eq!(by_marker.len(), 1, "{:?} {}", b.style, e.commit);
        assert_eq!(by_marker[0].commit, b.backport);
        assert_eq!(by_marker[0].shared, b.shared);
        // The marker is reported as written, and the id it names is the original's as git
        // resolves it.
        let line = by_marker[0].marker.as_deref().expect("the marker line");
        let message = git(&s.dir, &["log", "-1", "--format=%B", &b.backport.to_hex()]);
        assert!(message.lines().any(|l| l.trim() == line), "{line:?} in {message}");
        let named = line
            .split(|c: char| !c.is_ascii_hexdigit())
            .find(|w| w.len() >= 7)
            .expect("the marker names a commit");
        let resolved = git(&s.dir, &["rev-parse", "--verify", &format!("{named}^{{commit}}")]);
        assert_eq!(id(&resolved), b.original);
        // Adapted exactly when git says the patches differ.
        let differs = git_patch_id(&s.dir, b.original) != git_patch_id(&s.dir, b.backport);
        assert!(e.is_present());
        assert_eq!(e.is_adapted(), differs, "{:?} {}", b.style, e.commit);
        adapted_after_last_merge += usize::from(differs && !b.shared);
        // The project's own pattern counts only where it is configured.
        let before = entry(&unconfigured.source_only, b.original);
        assert_eq!(before.has(Evidence::Marker), b.style != Style::Configured);
    }
    assert!(adapted_after_last_merge >= 3, "the sample has adapted marked backports on LTS alone");
    let summary = d.summary();
    assert!(summary.adapted >= adapted_after_last_merge);
    assert!(summary.present_by[2] >= 4 * (forward_scenario_rounds()));
    // backport --dry-run does not propose them again.
    let plan = plan(&s);
    for b in s.backports.iter().filter(|b| marked.contains(&b.style)) {
        let step = plan.steps.iter().find(|st| st.commit == b.original).expect("a step");
        assert_eq!(step.outcome, StepOutcome::Present, "{:?}", b.style);
    }
}

fn forward_scenario_rounds() -> usize {
    // One backport of each style a round, four rounds.
    4
}

/// Writes a tag object of `target` whose id starts with `prefix` (found by trying tag
/// messages) and returns its id, as `git mktag` reports it.
fn tag_with_prefix(dir: &std::path::Path, target: ObjectId, prefix: &str) -> ObjectId {
    for n in 0u64.. {
        let body = format!(
            "object {target}\ntype commit\ntag collide\ntagger Rel <rel@example.org> 0 +0000\n\n{n}\n",
            target = target.to_hex()
        );
        let mut hasher = Sha1::new();
        hasher.update(format!("tag {}\0", body.len()).as_bytes());
        hasher.update(body.as_bytes());
        let hex: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        if hex.starts_with(prefix) {
            let out = Fixture::open(dir).git_with_input(&["mktag"], Some(body.as_bytes()));
            let written = id(&String::from_utf8_lossy(&out));
            assert_eq!(written.to_hex(), hex);
            return written;
        }
    }
    unreachable!("some tag message gives the prefix")
}

#[test]
fn an_ambiguous_abbreviation_is_said_not_guessed() {
    // Before: an abbreviation matching one delta commit was taken, whatever else it named.
    let (_tmp, s) = forward_scenario();
    let original = s.reverted_on_main.0;
    let prefix = &original.to_hex()[..4];
    tag_with_prefix(&s.dir, s.fork, prefix);
    // git itself will not choose between the commit and the tag of another commit.
    let asked = git_at(&s.dir, regraft::scenario::environment::EPOCH)
        .finished(&["rev-parse", "--verify", &format!("{prefix}^{{commit}}")], b"")
        .expect("git runs");
    assert!(!asked.status.success());
    assert!(asked.stderr.contains("ambiguous"), "{}", asked.stderr);
    let f = Fixture::open(&s.dir);
    f.write("ambiguous.txt", "x\n");
    let backport = f.commit(&format!("Backport a fix\n\nBackport of {prefix} from main.\n"));
    let d = compute(&s);
    assert!(!entry(&d.source_only, original).has(Evidence::Marker));
    let said: Vec<_> = d.unresolved_references.iter().filter(|r| r.commit == backport).collect();
    assert_eq!(said.len(), 1);
    assert_eq!((said[0].reference.as_str(), said[0].why), (prefix, Unresolved::Ambiguous));
    // With one more digit git resolves it, and so does delta.
    let longer = &original.to_hex()[..12];
    let resolved = git(&s.dir, &["rev-parse", "--verify", &format!("{longer}^{{commit}}")]);
    assert_eq!(id(&resolved), original);
    f.write("ambiguous.txt", "y\n");
    let again = f.commit(&format!("Backport it again\n\nBackport of {longer} from main.\n"));
    let d = compute(&s);
    let e = entry(&d.source_only, original);
    assert!(e.equivalents.iter().any(|q| q.commit == again && q.by == Evidence::Marker));
}

#[test]
fn backports_merged_forward_count_and_git_cherry_misses_them() {
    // Before: evidence came from SOURCE..TARGET only: every backport below the merge base
    // was "left to bring" and proposed again.
    let (_tmp, s) = forward_scenario();
    configure_pattern(&s);
    let d = compute(&s);
    // Where LTS forked from main's first-parent line, as git walks it.
    let first_parent = git(&s.dir, &["rev-list", "--first-parent", MAIN]);
    let fork = first_parent
        .lines()
        .map(id)
        .find(|c| {
            git_at(&s.dir, 0)
                .finished(&["merge-base", "--is-ancestor", &c.to_hex(), LTS], b"")
                .expect("git runs")
                .status
                .success()
        })
        .expect("LTS forked from main");
    assert_eq!(fork, s.fork);
    assert_eq!(d.shared_since, Some(fork));
    assert!(d.merge_bases.iter().all(|b| *b != fork), "forward merges moved the merge base");
    let own = git_patch_ids(&s.dir, &format!("{fork}..{LTS}"));
    let own_ids: HashSet<&String> = own.values().collect();
    let cherry: HashMap<ObjectId, char> = git(&s.dir, &["cherry", LTS, MAIN])
        .lines()
        .map(|l| (id(&l[2..]), l.chars().next().expect("a mark")))
        .collect();
    let on_source = git_patch_ids(&s.dir, &format!("{LTS}..{MAIN}"));
    let mut missed_by_git = 0;
    for e in d.source_only.iter().filter(|e| !e.merge) {
        // Patch-id evidence exactly where git's patch-ids of LTS's own commits say so.
        let same_patch = on_source.get(&e.commit).is_some_and(|p| own_ids.contains(p));
        assert_eq!(e.has(Evidence::PatchId), same_patch, "{} {}", e.commit, e.summary);
        if same_patch && cherry[&e.commit] == '+' {
            missed_by_git += 1;
        }
    }
    assert!(missed_by_git >= 3, "git cherry marks shared backports as missing");
    let mut same_patch_present = 0;
    for b in &s.backports {
        let e = entry(&d.source_only, b.original);
        if b.style == Style::SubjectOnly {
            // Same title, another number, another change: a hint, never counted.
            assert!(!e.is_present());
            assert_eq!(e.possibly_present, vec![b.backport]);
        } else {
            // Named by a marker, or (no marker) the same patch by git's patch-ids.
            let same_patch = git_patch_id(&s.dir, b.original) == git_patch_id(&s.dir, b.backport);
            let expected = b.style != Style::SamePatch || same_patch;
            assert_eq!(e.is_present(), expected, "{:?} {}", b.style, e.commit);
            assert!(e.equivalents.iter().all(|q| q.commit == b.backport && q.shared == b.shared));
            same_patch_present += usize::from(b.style == Style::SamePatch && expected);
        }
    }
    assert!(same_patch_present >= 2, "unmarked backports found by patch-id alone");
    let shared = s.backports.iter().filter(|b| b.shared && b.style == Style::CherryPick).count();
    assert!(shared >= 3);
    let summary = d.summary();
    assert_eq!(summary.present + summary.to_bring, summary.source_changes);
    assert!(summary.possibly_present >= forward_scenario_rounds());
    let plan = plan(&s);
    for b in s.backports.iter().filter(|b| b.style != Style::SubjectOnly) {
        let step = plan.steps.iter().find(|st| st.commit == b.original).expect("a step");
        let present = entry(&d.source_only, b.original).is_present();
        assert_eq!(step.outcome == StepOutcome::Present, present);
    }
}

#[test]
fn a_backport_reverted_on_the_target_is_brought_again_with_a_note() {
    // Before: the reverted backport still counted, and backport left the change out.
    let (_tmp, s) = forward_scenario();
    let (original, backport, revert) = s.reverted_on_lts;
    // git agrees that the revert undoes the backport: the tree is the one before it.
    git(&s.dir, &["diff", "--quiet", &format!("{backport}^"), &revert.to_hex()]);
    let message = git(&s.dir, &["log", "-1", "--format=%B", &revert.to_hex()]);
    assert!(message.contains(&format!("This reverts commit {backport}.")));
    let d = compute(&s);
    let e = entry(&d.source_only, original);
    assert!(e.equivalents.iter().any(|q| q.commit == backport));
    assert_eq!(e.reverted_on_target, Some(Revert { equivalent: backport, by: revert }));
    assert!(!e.is_present());
    assert_eq!(entry(&d.target_only, backport).reverted_by, Some(revert));
    assert_eq!(d.summary().reverted_on_target, 1);
    let plan = plan(&s);
    let step = plan.steps.iter().find(|st| st.commit == original).expect("a step");
    assert_ne!(step.outcome, StepOutcome::Present);
    assert_eq!(step.reverted_on_target, Some(Revert { equivalent: backport, by: revert }));
    // A commit reverted on the main line is named, and stays to bring.
    let (reverted, by) = s.reverted_on_main;
    assert_eq!(entry(&d.source_only, reverted).reverted_by, Some(by));
    // `git revert` of the revert brings the change back: present again.
    let f = Fixture::open(&s.dir);
    let reapplied = f.git(&["revert", "--no-edit", &revert.to_hex()]);
    assert!(!reapplied.is_empty());
    let d = compute(&s);
    let e = entry(&d.source_only, original);
    assert!(e.is_present() && e.reverted_on_target.is_none());
}

#[test]
fn a_bad_provenance_pattern_is_the_users_error() {
    let (_tmp, s) = forward_scenario();
    git(&s.dir, &["config", "--add", "regraft.provenance", "Upstream: [0-9a-f]+"]);
    let error = delta::delta(&open(&s.dir), LTS, MAIN, &DeltaOptions::default())
        .expect_err("a pattern without a group is refused");
    assert!(error.is_user_input());
    assert!(error.to_string().contains("Upstream: [0-9a-f]+"), "{error}");
}

#[test]
fn the_same_commit_twice_suggests_nothing_to_run() {
    // Before: delta suggested `deps X X` and `compare X X`.
    let (_tmp, s) = forward_scenario();
    let out = regraft(&s.dir).args(["delta", MAIN, MAIN]).assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(!stderr.contains("deps") && !stderr.contains("compare"), "{stderr}");
    let out = regraft(&s.dir).args(["delta", LTS, MAIN]).assert().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("git regraft deps"), "{stderr}");
}

#[test]
fn adapted_means_git_sees_another_patch_on_the_kolla_like_sample() {
    let (_tmp, s) = crate::small_scenario();
    let d = delta::delta(
        &open(&s.dir),
        regraft::scenario::TARGET,
        regraft::scenario::SOURCE,
        &DeltaOptions::default(),
    )
    .expect("delta computes");
    let mut adapted = 0;
    for e in d.source_only.iter().filter(|e| !e.merge && e.is_present()) {
        let ours = git_patch_id(&s.dir, e.commit);
        let same = e.equivalents.iter().any(|q| git_patch_id(&s.dir, q.commit) == ours);
        assert_eq!(e.is_adapted(), !same, "{} {}", e.commit, e.summary);
        adapted += usize::from(!same);
    }
    assert_eq!(d.summary().adapted, adapted);
    assert!(adapted > 0);
}

#[test]
fn policy_upstream_takes_the_same_evidence() {
    // Before: an adapted backport named only by a kernel or Django marker was
    // "not-on-upstream", and its policy refused it.
    let (_tmp, s) = forward_scenario();
    configure_pattern(&s);
    let policy = regraft::analysis::policy::load(None).expect("built-in policy");
    let last_merge = s.forward_merges.last().expect("forward merges").to_hex();
    let range = format!("{last_merge}..{LTS}");
    let report = regraft::analysis::policy::check(
        &open(&s.dir),
        &policy,
        &range,
        Some("unmaintained"),
        Some(MAIN),
    )
    .expect("checks");
    let d = compute(&s);
    let marked = [Style::Kernel, Style::KernelBracket, Style::Django, Style::Configured];
    let mut checked = 0;
    for b in s.backports.iter().filter(|b| !b.shared && marked.contains(&b.style)) {
        let verdict = report.commits.iter().find(|v| v.commit == b.backport).expect("judged");
        assert!(verdict.classes.contains(&"on-upstream".to_string()), "{verdict:?}");
        assert!(entry(&d.target_only, b.backport).is_present());
        checked += 1;
    }
    assert_eq!(checked, marked.len());
    // The backport reverted on LTS: its equivalent upstream was not reverted there, so it
    // is on upstream; the revert itself is not.
    let (_, backport, revert) = s.reverted_on_lts;
    let class = |commit: ObjectId| {
        report.commits.iter().find(|v| v.commit == commit).expect("judged").classes.clone()
    };
    assert!(class(backport).contains(&"on-upstream".to_string()));
    assert!(class(revert).contains(&"not-on-upstream".to_string()));
}

#[test]
fn a_revert_the_source_also_made_leaves_the_change_where_it_was() {
    // The revert on LTS has its equivalent on main: both branches undid the change, so the
    // original is not to bring again.
    let (_tmp, s) = forward_scenario();
    let (original, _, revert) = s.reverted_on_lts;
    let f = Fixture::open(&s.dir);
    f.checkout(MAIN);
    f.git(&["revert", "--no-edit", &original.to_hex()]);
    let main_revert = f.rev("HEAD");
    // git says the two reverts are the same patch.
    assert_eq!(git_patch_id(&s.dir, main_revert), git_patch_id(&s.dir, revert));
    let d = compute(&s);
    let e = entry(&d.source_only, original);
    assert_eq!(e.reverted_by, Some(main_revert));
    assert!(e.reverted_on_target.is_none());
    assert!(e.is_present());
    assert!(entry(&d.target_only, revert).is_present());
}
