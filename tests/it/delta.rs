//! `delta` against git: order, merges, merge bases, patch-ids and `git cherry` on the
//! sample scenario; each kind of evidence and each bad input on small hand-built histories.

use std::collections::{BTreeSet, HashSet};

use regraft::analysis::delta::{self, Delta, DeltaError, DeltaOptions, Entry, Evidence};
use regraft::git::repo::RepoError;
use regraft::scenario::{SOURCE, TARGET};
use regraft::{ErrorOrigin, ObjectId};
use regraft_testkit::{Fixture, change_id};
use tempfile::TempDir;

use crate::{git, git_patch_id, id, open, small_scenario};

fn compute(dir: &std::path::Path, target: &str, source: &str) -> Delta {
    delta::delta(&open(dir), target, source, &DeltaOptions::default()).expect("delta computes")
}

fn ids(entries: &[Entry]) -> Vec<ObjectId> {
    entries.iter().map(|e| e.commit).collect()
}

fn rev_list(dir: &std::path::Path, args: &[&str]) -> Vec<ObjectId> {
    let mut argv = vec!["rev-list"];
    argv.extend_from_slice(args);
    git(dir, &argv).lines().map(id).collect()
}

fn evidence(entry: &Entry) -> BTreeSet<(ObjectId, &'static str)> {
    entry.equivalents.iter().map(|e| (e.commit, e.by.name())).collect()
}

#[test]
fn scenario_sides_order_and_merges_match_git() {
    let (_tmp, s) = small_scenario();
    let d = compute(&s.dir, TARGET, SOURCE);
    let range = format!("{TARGET}..{SOURCE}");
    let back = format!("{SOURCE}..{TARGET}");
    assert_eq!(ids(&d.source_only), rev_list(&s.dir, &["--reverse", "--topo-order", &range]));
    assert_eq!(ids(&d.target_only), rev_list(&s.dir, &["--reverse", "--topo-order", &back]));
    let merges: HashSet<ObjectId> =
        rev_list(&s.dir, &["--merges", &format!("{TARGET}...{SOURCE}")]).into_iter().collect();
    assert!(!merges.is_empty());
    for e in d.source_only.iter().chain(&d.target_only) {
        assert_eq!(e.merge, merges.contains(&e.commit), "{}", e.commit);
    }
    let bases: Vec<ObjectId> =
        git(&s.dir, &["merge-base", "--all", TARGET, SOURCE]).lines().map(id).collect();
    assert_eq!(d.merge_bases, bases);
    assert_eq!(d.merge_bases, vec![s.liberty_fork]);
    assert!(d.source_only.iter().any(|e| e.commit == s.fix));
}

#[test]
fn scenario_patch_ids_and_patch_evidence_match_git() {
    let (_tmp, s) = small_scenario();
    let d = compute(&s.dir, TARGET, SOURCE);
    let theirs = |side: &[regraft::analysis::delta::Entry]| -> BTreeSet<String> {
        side.iter().filter(|e| !e.merge).filter_map(|e| git_patch_id(&s.dir, e.commit)).collect()
    };
    let (on_source, on_target) = (theirs(&d.source_only), theirs(&d.target_only));
    let mut computed = 0;
    for (e, other) in d
        .source_only
        .iter()
        .map(|e| (e, &on_target))
        .chain(d.target_only.iter().map(|e| (e, &on_source)))
    {
        let expected = if e.merge { None } else { git_patch_id(&s.dir, e.commit) };
        match e.patch_id {
            // Where it is computed, it is git's.
            Some(p) => {
                assert_eq!(Some(p.to_hex()), expected, "{} {}", e.commit, e.summary);
                computed += 1;
            }
            // Left out (as git cherry leaves it out) only where it could pair with nothing.
            None => assert!(
                expected.as_ref().is_none_or(|p| !other.contains(p)),
                "{} {}: its patch-id pairs, yet it was not computed",
                e.commit,
                e.summary
            ),
        }
    }
    assert!(computed > 10, "the commits that could pair have patch-ids ({computed})");
    // `git cherry` marks with `-` the SOURCE commits whose patch is already on TARGET.
    let cherry = git(&s.dir, &["cherry", TARGET, SOURCE]);
    let git_present: BTreeSet<ObjectId> =
        cherry.lines().filter_map(|l| l.strip_prefix("- ")).map(id).collect();
    let ours: BTreeSet<ObjectId> =
        d.source_only.iter().filter(|e| e.has(Evidence::PatchId)).map(|e| e.commit).collect();
    assert!(!git_present.is_empty());
    assert_eq!(ours, git_present);
}

#[test]
fn scenario_change_ids_and_trailers_match_what_git_reads() {
    let (_tmp, s) = small_scenario();
    change_ids_and_trailers_match_what_git_reads(&s);
    // Issue 25, item 4: footers with lines git does not take for trailers.
    let tmp = TempDir::new().expect("temp dir");
    let spec = regraft::scenario::ScenarioSpec::with_message_shapes();
    let s = regraft::scenario::build(&tmp.path().join("repo"), &spec).expect("builds");
    change_ids_and_trailers_match_what_git_reads(&s);
}

fn change_ids_and_trailers_match_what_git_reads(s: &regraft::scenario::Scenario) {
    let d = compute(&s.dir, TARGET, SOURCE);
    let mut beyond_git = 0;
    for e in d.source_only.iter().chain(&d.target_only) {
        let hex = e.commit.to_hex();
        let trailers =
            git(&s.dir, &["log", "-1", "--format=%(trailers:key=Change-Id,valueonly)", &hex]);
        let git_ids: Vec<String> =
            trailers.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
        let body = git(&s.dir, &["log", "-1", "--format=%B", &hex]);
        if git_ids.is_empty() && !e.change_ids.is_empty() {
            // git's trailer parser gives up on footers with lines such as `TrivialFix`, and
            // never reads the subject's paragraph; Gerrit reads the Change-Id there.
            let lines = [
                "TrivialFix",
                "DocImpact",
                "Trivial-Fix",
                "Implements blueprint",
                "Partially implements:",
                "  - ",
                "  * ",
            ];
            let first_paragraph = !body.trim().contains("\n\n");
            assert!(lines.iter().any(|l| body.contains(l)) || first_paragraph, "{hex}: {body}");
            beyond_git += 1;
        } else {
            assert_eq!(e.change_ids, git_ids, "{hex}");
        }
        let subject =
            crate::Fixture::open(&s.dir).git_with_input(&["log", "-1", "--format=%s", &hex], None);
        assert_eq!(e.summary, String::from_utf8_lossy(&subject).trim_end_matches('\n'), "{hex}");
        let picks = body.lines().filter(|l| l.starts_with("(cherry picked from commit ")).count();
        assert_eq!(e.cherry_picked_from.len(), picks, "{hex}");
    }
    assert!(beyond_git > 0, "the scenario has footers git's parser rejects");
    assert_eq!(d.unresolved_references.len(), 1);
    assert_eq!(d.unresolved_references[0].reference, "0badc0de0badc0de0badc0de0badc0de0badc0de");
}

#[test]
fn scenario_evidence_is_symmetric_and_every_kind_occurs() {
    let (_tmp, s) = small_scenario();
    let d = compute(&s.dir, TARGET, SOURCE);
    for src in &d.source_only {
        for eq in &src.equivalents {
            let tgt = d
                .target_only
                .iter()
                .find(|t| t.commit == eq.commit)
                .expect("equivalent is on TARGET");
            assert!(
                tgt.equivalents
                    .iter()
                    .any(|back| back.commit == src.commit && back.by == eq.by && !back.shared)
            );
        }
    }
    let summary = d.summary();
    // Every kind but the markers of other projects, which the Kolla-like sample lacks.
    for (by, n) in Evidence::ALL.iter().zip(summary.present_by) {
        assert_eq!(n > 0, *by != Evidence::Marker, "{summary:?}");
    }
    assert_eq!(summary.present + summary.to_bring, summary.source_changes);
    assert_eq!(
        summary.source_changes,
        rev_list(&s.dir, &["--no-merges", &format!("{TARGET}..{SOURCE}")]).len()
    );
}

/// A small history with one backport of each kind, made with the real `git cherry-pick`.
struct Backports {
    _tmp: TempDir,
    f: Fixture,
    by_change_id: ObjectId,
    by_trailer: ObjectId,
    by_patch: ObjectId,
    forward_ported: ObjectId,
    outside_reference: ObjectId,
    missing_reference: ObjectId,
}

fn backports() -> Backports {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(&tmp.path().join("repo"));
    let base: String = (0..30).map(|i| format!("line {i}\n")).collect();
    f.commit_file("app.txt", &base, "Base");
    f.commit_file("old.txt", "before the fork\n", "Old change");
    let old = f.rev("HEAD");
    f.branch("stable", "main");
    let edit = |f: &Fixture, from: &str, to: &str, msg: &str| {
        let text = std::fs::read_to_string(f.path().join("app.txt")).expect("read app.txt");
        f.commit_file("app.txt", &text.replacen(from, to, 1), msg)
    };
    let cid = change_id("by change id");
    let a =
        edit(&f, "line 2\n", "line two\n", &format!("Change A\n\nTrivialFix\nChange-Id: {cid}\n"));
    let b = edit(&f, "line 10\n", "line ten\n", "Change B\n\nNo Change-Id here.\n");
    let c = edit(
        &f,
        "line 20\n",
        "line twenty\n",
        &format!("Change C\n\nChange-Id: {}\n", change_id("c")),
    );
    f.checkout("stable");
    // A: same Change-Id, different patch, no trailer.
    edit(
        &f,
        "line 2\n",
        "line 2 (liberty)\n",
        &format!("Change A for liberty\n\nTrivialFix\nChange-Id: {cid}\n"),
    );
    let by_change_id = f.rev("HEAD");
    // B: trailer (abbreviated) but a different patch and no Change-Id.
    edit(
        &f,
        "line 10\n",
        "line 10 (liberty)\n",
        &format!("Change B for liberty\n\n(cherry picked from commit {})\n", &b.to_hex()[..9]),
    );
    let by_trailer = f.rev("HEAD");
    // C: same patch, re-submitted with a new Change-Id and no trailer.
    edit(
        &f,
        "line 20\n",
        "line twenty\n",
        &format!("Change C again\n\nChange-Id: {}\n", change_id("c2")),
    );
    let by_patch = f.rev("HEAD");
    // D: made on stable first, then forward-ported to main with `git cherry-pick -x`.
    let d = edit(&f, "line 25\n", "line 25 fixed first on stable\n", "Change D\n");
    let outside_reference = edit(
        &f,
        "line 27\n",
        "line 27 again\n",
        &format!("Old one\n\n(cherry picked from commit {old})\n"),
    );
    let missing_reference = edit(
        &f,
        "line 28\n",
        "line 28 from a fork\n",
        "Forked\n\n(cherry picked from commit deadbeefdeadbeef)\n",
    );
    f.checkout("main");
    let forward_ported = f.cherry_pick_x(&d.to_hex());
    let _ = (a, c);
    Backports {
        _tmp: tmp,
        f,
        by_change_id,
        by_trailer,
        by_patch,
        forward_ported,
        outside_reference,
        missing_reference,
    }
}

fn entry(entries: &[Entry], commit: ObjectId) -> &Entry {
    entries.iter().find(|e| e.commit == commit).expect("commit is in the delta")
}

#[test]
fn each_kind_of_evidence_stands_alone() {
    let b = backports();
    let d = compute(b.f.path(), "stable", "main");
    let a = b.f.rev("main~3");
    let bb = b.f.rev("main~2");
    let c = b.f.rev("main~1");
    assert_eq!(evidence(entry(&d.source_only, a)), BTreeSet::from([(b.by_change_id, "change-id")]));
    assert_eq!(
        evidence(entry(&d.source_only, bb)),
        BTreeSet::from([(b.by_trailer, "cherry-pick")])
    );
    assert_eq!(evidence(entry(&d.source_only, c)), BTreeSet::from([(b.by_patch, "patch-id")]));
    // The trailer on main names the stable commit: evidence the other way round, plus
    // the identical patch.
    let d_on_stable = b.f.rev("stable~2");
    assert_eq!(
        evidence(entry(&d.source_only, b.forward_ported)),
        BTreeSet::from([(d_on_stable, "cherry-pick"), (d_on_stable, "patch-id")])
    );
    // A trailer naming a commit older than the fork is no evidence and no error; one
    // naming an object the repository lacks is reported.
    assert!(entry(&d.target_only, b.outside_reference).equivalents.is_empty());
    assert!(entry(&d.target_only, b.missing_reference).equivalents.is_empty());
    assert_eq!(d.unresolved_references.len(), 1);
    assert_eq!(d.unresolved_references[0].commit, b.missing_reference);
    assert_eq!(d.unresolved_references[0].reference, "deadbeefdeadbeef");
    let s = d.summary();
    assert_eq!((s.source_changes, s.present, s.to_bring), (4, 4, 0));
    assert_eq!(s.present_by, [1, 2, 0, 2]);
}

#[test]
fn tags_ids_remote_branches_and_bare_clones_name_the_same_delta() {
    let b = backports();
    let f = &b.f;
    let base = compute(f.path(), "stable", "main");
    f.tag_annotated("stable-tip", "stable", "annotated tag on stable");
    f.tag_lightweight("main-tip", "main");
    let main_hex = f.rev("main").to_hex();
    for (target, source) in
        [("stable-tip", "main-tip"), ("stable", &main_hex[..8]), ("stable^0", main_hex.as_str())]
    {
        let d = compute(f.path(), target, source);
        assert_eq!((d.target.name.as_str(), d.source.name.as_str()), (target, source));
        assert_eq!(
            (&d.source_only, &d.target_only),
            (&base.source_only, &base.target_only),
            "{target} {source}"
        );
    }
    let parent = f.path().parent().expect("repo has a parent");
    let bare = parent.join("bare.git");
    let clone = parent.join("clone");
    let url = format!("file://{}", f.path().display());
    git(parent, &["clone", "-q", "--bare", &url, bare.to_str().expect("utf-8 path")]);
    git(parent, &["clone", "-q", &url, clone.to_str().expect("utf-8 path")]);
    let from_bare = compute(&bare, "stable", "main");
    let from_remote = compute(&clone, "origin/stable", "origin/main");
    for d in [from_bare, from_remote] {
        assert_eq!(d.source_only, base.source_only);
        assert_eq!(d.target_only, base.target_only);
        assert_eq!(d.unresolved_references, base.unresolved_references);
    }
}

#[test]
fn non_utf8_messages_are_read() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    f.commit_file("a", "a\n", "Base");
    f.branch("stable", "main");
    f.git(&["config", "i18n.commitEncoding", "ISO-8859-1"]);
    f.write("a", "b\n");
    let latin1 = f.commit_bytes(b"Journalisation fran\xe7aise\n");
    // `git commit` would re-encode invalid UTF-8 as Latin-1, so write the raw object.
    let mut object = format!(
        "tree {}\nparent {}\nauthor A <a@example.org> 1444867200 +0000\ncommitter C <c@example.org> 1444867200 +0000\n\n",
        f.git(&["rev-parse", "HEAD^{tree}"]),
        latin1
    )
    .into_bytes();
    object.extend_from_slice(b"Caf\xe9 without a declared encoding\n");
    let out = f.git_with_input(&["hash-object", "-t", "commit", "-w", "--stdin"], Some(&object));
    let raw = id(&String::from_utf8_lossy(&out));
    f.git(&["update-ref", "refs/heads/main", &raw.to_hex()]);
    let d = compute(f.path(), "stable", "main");
    assert_eq!(entry(&d.source_only, latin1).summary, "Journalisation française");
    assert_eq!(entry(&d.source_only, raw).summary, "Caf\u{fffd} without a declared encoding");
    assert!(
        git(f.path(), &["cat-file", "commit", &latin1.to_hex()]).contains("encoding ISO-8859-1")
    );
}

#[test]
fn the_same_commit_twice_is_an_empty_delta() {
    let b = backports();
    let d = compute(b.f.path(), "main", "main^0");
    assert!(d.is_empty());
    assert_eq!(d.merge_bases, vec![b.f.rev("main")]);
}

#[test]
fn unknown_revision_is_named_with_suggestions() {
    let b = backports();
    let err = delta::delta(&open(b.f.path()), "stabel", "main", &DeltaOptions::default())
        .expect_err("stabel does not exist");
    assert!(err.is_user_input());
    match &err {
        DeltaError::Repo(RepoError::UnknownRevision { spec, suggestions }) => {
            assert_eq!(spec, "stabel");
            assert_eq!(suggestions, &["stable".to_string()]);
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(
        err.to_string().contains("unknown revision `stabel` (did you mean `stable`?)"),
        "{err}"
    );
}

#[test]
fn a_tree_is_not_a_commit() {
    let b = backports();
    let err = delta::delta(&open(b.f.path()), "main^{tree}", "stable", &DeltaOptions::default())
        .expect_err("a tree is not a commit");
    assert!(err.is_user_input());
    assert!(err.to_string().contains("`main^{tree}` names a tree, not a commit"), "{err}");
}

#[test]
fn a_shallow_clone_cut_inside_the_delta_is_refused() {
    let b = backports();
    let parent = b.f.path().parent().expect("parent");
    let shallow = parent.join("shallow");
    let url = format!("file://{}", b.f.path().display());
    git(
        parent,
        &[
            "clone",
            "-q",
            "--no-single-branch",
            "--depth",
            "2",
            &url,
            shallow.to_str().expect("utf-8"),
        ],
    );
    let err =
        delta::delta(&open(&shallow), "origin/stable", "origin/main", &DeltaOptions::default())
            .expect_err("history is cut");
    assert!(matches!(err, DeltaError::Shallow { .. }), "{err:?}");
    assert!(err.is_user_input());
    assert!(err.to_string().contains("git fetch --unshallow"), "{err}");
    // Deep enough to hold the whole delta and its merge base: no refusal.
    git(&shallow, &["fetch", "-q", "--deepen", "10"]);
    let d = compute(&shallow, "origin/stable", "origin/main");
    assert_eq!(d.source_only.len(), 4);
}

#[test]
fn patch_ids_are_cached_except_binary_ones_and_a_broken_cache_is_harmless() {
    let (_tmp, s) = small_scenario();
    let first = compute(&s.dir, TARGET, SOURCE);
    let cache = s.dir.join(".git/regraft/patch-ids-v3");
    // A record: the payload's length (4 bytes), the commit and its patch-id, the check (8).
    const RECORD: usize = 4 + 40 + 8;
    let bytes = std::fs::read(&cache).expect("the cache is written");
    let changes = first.source_only.iter().chain(&first.target_only).filter(|e| !e.merge).count();
    let binary: usize = first
        .source_only
        .iter()
        .chain(&first.target_only)
        .filter(|e| !e.merge)
        .filter(|e| {
            git(&s.dir, &["show", "--format=", "--numstat", &e.commit.to_hex()])
                .lines()
                .any(|l| l.starts_with("-\t-"))
        })
        .count();
    assert!(binary > 0, "the scenario has binary changes");
    let computed = first
        .source_only
        .iter()
        .chain(&first.target_only)
        .filter(|e| !e.merge && e.patch_id.is_some())
        .count();
    assert_eq!(bytes.len() % RECORD, 0, "whole records");
    assert!(
        bytes.len() <= RECORD * (changes - binary)
            && bytes.len() >= RECORD * computed.saturating_sub(binary),
        "one record per non-binary change whose patch-id was computed: {} bytes",
        bytes.len()
    );
    // From the cache, the same answer.
    assert_eq!(compute(&s.dir, TARGET, SOURCE), first);
    // A torn or foreign cache does not change the answer.
    std::fs::write(&cache, &bytes[..bytes.len() - 7]).expect("truncate");
    assert_eq!(compute(&s.dir, TARGET, SOURCE), first);
    assert_eq!(std::fs::read(&cache).expect("rewritten").len() % RECORD, 0, "realigned");
    assert_eq!(compute(&s.dir, TARGET, SOURCE), first, "and still right on the next run");
    // Regression: a corrupt cached patch-id was believed (see cache_damage.rs for more).
    let mut wrong = bytes.clone();
    wrong[4 + 25] ^= 0xff;
    std::fs::write(&cache, &wrong).expect("corrupt");
    assert_eq!(compute(&s.dir, TARGET, SOURCE), first, "a damaged record is not believed");
    std::fs::remove_file(&cache).expect("remove");
    assert_eq!(compute(&s.dir, TARGET, SOURCE), first);
}

/// Adds to `branch` a commit that writes `content` to `path`, without touching the work
/// tree (plumbing only), and returns it.
fn commit_file_on(f: &Fixture, branch: &str, path: &str, content: &str, message: &str) -> String {
    let blob = String::from_utf8(
        f.git_with_input(&["hash-object", "-w", "--stdin"], Some(content.as_bytes())),
    )
    .expect("hex");
    let tree_of = format!("{branch}^{{tree}}");
    let listing = f.git(&["ls-tree", &tree_of]);
    let mut entries: Vec<String> =
        listing.lines().filter(|l| !l.ends_with(&format!("\t{path}"))).map(String::from).collect();
    entries.push(format!("100644 blob {}\t{path}", blob.trim()));
    let tree = String::from_utf8(
        f.git_with_input(&["mktree"], Some(format!("{}\n", entries.join("\n")).as_bytes())),
    )
    .expect("hex");
    let commit = f.git(&["commit-tree", tree.trim(), "-p", branch, "-m", message]);
    f.git(&["update-ref", &format!("refs/heads/{branch}"), &commit]);
    commit
}

/// Issue 28: a second delta lists its commits without their diffs, taking what each
/// touches from `touched-v1`. Commits the cache lacks (made after it was written) are
/// diffed on their own; a pair among them is still found, and with every cache file of
/// the first run gone but this one the answer is the same; `git cherry` is the oracle.
#[test]
fn what_each_commit_touches_is_cached_and_a_warm_delta_agrees_with_git_cherry() {
    let (_tmp, s) = small_scenario();
    let first = compute(&s.dir, TARGET, SOURCE);
    let state = s.dir.join(".git/regraft");
    let touched = state.join("touched-v1");
    let bytes = std::fs::read(&touched).expect("what each commit touches is kept");
    // A record: length (4), commit (20), flag (1), digest (20 or none), check (8).
    let non_merges = first.source_only.iter().chain(&first.target_only).filter(|e| !e.merge);
    assert_eq!(bytes.len(), non_merges.count() * (4 + 20 + 1 + 20 + 8), "one per non-merge");
    assert_eq!(compute(&s.dir, TARGET, SOURCE), first, "from the cache, the same answer");

    // New commits the cache lacks: the same change made on both sides pairs by patch-id.
    let f = Fixture::open(&s.dir);
    let on_target = commit_file_on(&f, TARGET, "warm-cache.txt", "one\ntwo\n", "On target");
    let on_source = commit_file_on(&f, SOURCE, "warm-cache.txt", "one\ntwo\n", "On source");
    // Another whose paths no commit of the other side shares.
    commit_file_on(&f, SOURCE, "only-here.txt", "alone\n", "Only on source");
    for name in ["patch-ids-v3", "changes-v2"] {
        let _ = std::fs::remove_file(state.join(name));
    }
    let warm = compute(&s.dir, TARGET, SOURCE);
    let cherry = git(&s.dir, &["cherry", TARGET, SOURCE]);
    let git_present: BTreeSet<ObjectId> =
        cherry.lines().filter_map(|l| l.strip_prefix("- ")).map(id).collect();
    let ours: BTreeSet<ObjectId> =
        warm.source_only.iter().filter(|e| e.has(Evidence::PatchId)).map(|e| e.commit).collect();
    assert!(git_present.contains(&id(&on_source)), "git pairs the new commit");
    assert_eq!(ours, git_present);
    let entry = warm.source_only.iter().find(|e| e.commit == id(&on_source)).expect("listed");
    assert!(evidence(entry).contains(&(id(&on_target), "patch-id")), "{:?}", entry.equivalents);

    // Cold, with no cache at all: the same.
    std::fs::remove_dir_all(&state).expect("the caches go");
    assert_eq!(compute(&s.dir, TARGET, SOURCE), warm, "cold and warm agree");
    // A damaged record is not believed (its digest changed, its check then fails).
    let mut wrong = std::fs::read(&touched).expect("written again");
    wrong[4 + 21] ^= 0xff;
    std::fs::write(&touched, &wrong).expect("corrupt");
    assert_eq!(compute(&s.dir, TARGET, SOURCE), warm, "a damaged record is not believed");
}

/// Sorted, since with several merge bases git and libgit2 need not list them alike.
fn git_merge_bases(dir: &std::path::Path, a: &str, b: &str) -> Vec<ObjectId> {
    let out = Fixture::open(dir).git_with_input(&["merge-base", "--all", a, b], None);
    let mut bases: Vec<ObjectId> = String::from_utf8_lossy(&out).lines().map(id).collect();
    bases.sort();
    bases
}

/// `delta` reads the merge base off the two sides when they have one outside parent in
/// common, and asks libgit2 otherwise: every shape must give what `git merge-base --all`
/// gives.
#[test]
fn merge_bases_match_git_in_every_shape() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    f.commit_file("a", "0\n", "Root");
    let old = f.commit_file("old", "old\n", "An old common commit");
    f.commit_file("a", "1\n", "Fork point");
    f.branch("stable", "main");
    f.branch("lagging", "main");
    f.commit_file("m", "1\n", "Main one");
    f.commit_file("m", "2\n", "Main two");
    f.checkout("stable");
    f.commit_file("s", "1\n", "Stable one");
    // Both sides merge an ancestor of the fork point again (git itself would refuse such a
    // merge): a parent outside both sides that both share, and not a merge base.
    for branch in ["stable", "main"] {
        let tree = f.git(&["rev-parse", &format!("{branch}^{{tree}}")]);
        let args = ["commit-tree", &tree, "-p", branch, "-p", &old.to_hex(), "-m", "Merge old"];
        let merged = f.git(&args);
        f.git(&["update-ref", &format!("refs/heads/{branch}"), &merged]);
    }
    f.git(&["reset", "-q", "--hard", "stable"]);
    // Both sides merge one side branch started long ago: two merge bases.
    f.branch("from-old", &old.to_hex());
    f.checkout("from-old");
    f.commit_file("o", "1\n", "Work started long ago");
    f.checkout("stable");
    f.merge("from-old", "Merge old work into stable");
    f.checkout("main");
    f.merge("from-old", "Merge old work into main");
    // Criss-cross: two branches that merged each other have two merge bases.
    f.branch("x", "main");
    f.branch("y", "stable");
    f.checkout("x");
    f.commit_file("x", "1\n", "X");
    f.checkout("y");
    f.commit_file("y", "1\n", "Y");
    f.git(&["branch", "x-tip", "x"]);
    f.git(&["branch", "y-tip", "y"]);
    f.checkout("x");
    f.merge("y-tip", "X takes Y");
    f.checkout("y");
    f.merge("x-tip", "Y takes X");
    f.checkout("x");
    f.commit_file("x", "2\n", "X after");
    f.checkout("y");
    f.commit_file("y", "2\n", "Y after");
    assert_eq!(git_merge_bases(f.path(), "x", "y").len(), 2, "the criss-cross has two bases");

    let shapes = [
        ("stable~2", "main~2", "one split"),
        ("stable~1", "main~1", "one split, both sides merging an ancestor of it"),
        ("stable", "main", "both sides merging one side branch"),
        ("x", "y", "criss-cross"),
        ("lagging", "main", "the target behind the source"),
        ("main", "lagging", "the source behind the target"),
        ("from-old", "main", "a side branch merged into the source"),
    ];
    for (target, source, what) in shapes {
        let mut got = compute(f.path(), target, source).merge_bases;
        got.sort();
        assert_eq!(got, git_merge_bases(f.path(), target, source), "{what}: {target} {source}");
    }
    // Unrelated histories have none (`git merge-base` exits 1 and prints nothing).
    f.git(&["checkout", "-q", "--orphan", "lone"]);
    f.commit_file("lone", "1\n", "A history of its own");
    assert_eq!(compute(f.path(), "lone", "main").merge_bases, vec![], "unrelated histories");
}

/// Patch-ids of commits whose diffs name the same paths: a backport whose file is the same
/// on both sides (one diff stands for both), one whose file differs elsewhere (both are
/// diffed), and paths that look like the listing's own syntax.
#[test]
fn patch_ids_match_git_when_diffs_share_paths_or_whole_entries() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    let odd =
        ["\n:100644 100644 looks raw", ":colon", "0123456789abcdef0123456789abcdef01234567 x"];
    let long: String = (0..30).map(|i| format!("line {i}\n")).collect();
    for path in odd {
        f.write(path, "odd\n");
    }
    f.write("same.txt", "one\n");
    f.write("diverged.txt", &long);
    f.commit("Base");
    f.branch("stable", "main");
    f.write("diverged.txt", long.replace("line 29\n", "line 29 on main\n"));
    f.commit("Main's own change at the end");
    f.write("same.txt", "one\ntwo\n");
    for path in odd {
        f.write(path, "odd\nchanged\n");
    }
    let twin = f.commit("Change files both branches have alike");
    f.write(
        "diverged.txt",
        long.replace("line 29\n", "line 29 on main\n").replace("line 2\n", "2\n"),
    );
    let moved = f.commit("Change the start of a file the branches changed apart");
    f.checkout("stable");
    f.git(&["cherry-pick", &twin.to_hex()]);
    let twin_back = f.rev("HEAD");
    f.git(&["cherry-pick", &moved.to_hex()]);
    let moved_back = f.rev("HEAD");
    let tree = |c: ObjectId, path: &str| f.git(&["rev-parse", &format!("{c}:{path}")]);
    assert_eq!(tree(twin, "same.txt"), tree(twin_back, "same.txt"), "the same blobs");
    assert_ne!(tree(moved, "diverged.txt"), tree(moved_back, "diverged.txt"), "other blobs");

    let d = compute(f.path(), "stable", "main");
    for e in d.source_only.iter().chain(&d.target_only) {
        if let Some(patch_id) = e.patch_id {
            assert_eq!(Some(patch_id.to_hex()), git_patch_id(f.path(), e.commit), "{}", e.summary);
        }
    }
    for (picked, back) in [(twin, twin_back), (moved, moved_back)] {
        let e = entry(&d.source_only, picked);
        assert!(e.patch_id.is_some(), "{} has a patch-id", e.summary);
        assert!(evidence(e).contains(&(back, "patch-id")), "{}: {:?}", e.summary, e.equivalents);
        assert!(evidence(entry(&d.target_only, back)).contains(&(picked, "patch-id")));
    }
}

/// With `diff.ignoreSubmodules=all`, `git log` hides a submodule's change that the patch
/// shows: a commit that moves a submodule besides editing a file must not share the patch
/// of one that only makes the same edit.
#[test]
fn ignored_submodules_do_not_make_commits_look_alike() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    let gitlink = |commit: &str| format!("160000,{commit},sub");
    f.write("f", "one\n");
    f.git(&["add", "f"]);
    f.git(&["update-index", "--add", "--cacheinfo", &gitlink(&"1".repeat(40))]);
    f.git(&["commit", "-q", "-m", "Base"]);
    f.branch("stable", "main");
    f.write("f", "one\ntwo\n");
    f.git(&["add", "f"]);
    f.git(&["update-index", "--cacheinfo", &gitlink(&"2".repeat(40))]);
    f.git(&["commit", "-q", "-m", "Edit f and move the submodule"]);
    let both = f.rev("HEAD");
    f.checkout("stable");
    f.git(&["reset", "-q", "--hard"]);
    f.write("f", "one\ntwo\n");
    f.git(&["add", "f"]);
    f.git(&["commit", "-q", "-m", "Edit f alone"]);
    let alone = f.rev("HEAD");
    let theirs = (git_patch_id(f.path(), both), git_patch_id(f.path(), alone));
    assert_ne!(theirs.0, theirs.1, "git gives them different patch-ids");
    f.git(&["config", "diff.ignoreSubmodules", "all"]);
    // As a user's configuration: the repository is opened without isolating it.
    let repo = regraft::git::repo::Repo::discover(f.path()).expect("a repository");
    let d = delta::delta(&repo, "stable", "main", &DeltaOptions::default()).expect("delta");
    let pid = |side: &[Entry], c: ObjectId| entry(side, c).patch_id.map(|p| p.to_hex());
    assert!(!evidence(entry(&d.source_only, both)).contains(&(alone, "patch-id")));
    for (got, expected) in
        [(pid(&d.source_only, both), theirs.0), (pid(&d.target_only, alone), theirs.1)]
    {
        if got.is_some() {
            assert_eq!(got, expected);
        }
    }
}

/// Commit dates that run backwards (a branch committed with its clock ten years slow) make
/// git's date-ordered walk list a shared commit on one side, unless a commit-graph gives it
/// generation numbers. The merge base must still be `git merge-base --all`'s, and the sides
/// git's own, with the commit-graph and without.
#[test]
fn merge_bases_match_git_when_dates_run_backwards() {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    let tree = f.git(&["mktree"]);
    let commit = |date: i64, parents: &[&str], message: &str| {
        let mut args = vec!["commit-tree".to_string(), tree.clone(), "-m".into(), message.into()];
        for p in parents {
            args.extend(["-p".to_string(), (*p).to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = crate::git_at(f.path(), date).output(&args).expect("commit-tree");
        String::from_utf8(out).expect("hex").trim().to_string()
    };
    let year = 31_536_000;
    let now = 1_262_304_000;
    let root = commit(now, &[], "Root");
    let base = commit(now + 100, &[&root], "Fork point");
    let main = commit(now + 200, &[&base], "Main's change");
    let mut stable = base.clone();
    for i in 0..10 {
        stable = commit(now - 9 * year + i, &[&stable], &format!("Stable change {i}, clock slow"));
    }
    let stable = commit(now - 9 * year + 50, &[&stable, &root], "Merge the root again");
    f.git(&["update-ref", "refs/heads/main", &main]);
    f.git(&["update-ref", "refs/heads/stable", &stable]);
    let listed = git(f.path(), &["rev-list", "stable..main"]);
    assert!(listed.contains(&base), "git's date walk lists the fork point on main's side");

    for graph in [false, true] {
        if graph {
            f.git(&["commit-graph", "write", "--reachable"]);
        }
        let d = compute(f.path(), "stable", "main");
        let mut bases = d.merge_bases.clone();
        bases.sort();
        assert_eq!(bases, git_merge_bases(f.path(), "stable", "main"), "commit-graph: {graph}");
        assert_eq!(d.merge_bases, vec![id(&base)]);
        let topo = |range: &str| rev_list(f.path(), &["--reverse", "--topo-order", range]);
        assert_eq!(ids(&d.source_only), topo("stable..main"), "commit-graph: {graph}");
        assert_eq!(ids(&d.target_only), topo("main..stable"), "commit-graph: {graph}");
    }
}

/// When regraft cannot read what git prints, it says what was wrong with it, not that git
/// died of the pipe it closed on stopping: a `REGRAFT_GIT` wrapper prints garbage before a
/// list long enough to fill the pipe.
#[test]
fn unreadable_git_output_is_reported_as_such() {
    let tmp = TempDir::new().expect("temp dir");
    let spec = regraft::scenario::ScenarioSpec::with_trunk_changes(600);
    let s = regraft::scenario::build(&tmp.path().join("repo"), &spec).expect("the scenario");
    let wrapper = tmp.path().join("git-garbling");
    let script =
        "#!/bin/sh\ncase \"$*\" in *--topo-order*) printf 'garbage\\000';; esac\nexec git \"$@\"\n";
    std::fs::write(&wrapper, script).expect("write the wrapper");
    let mut perms = std::fs::metadata(&wrapper).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&wrapper, perms).expect("chmod");
    let out = crate::regraft(&s.dir)
        .env("REGRAFT_GIT", &wrapper)
        .args(["delta", "--json", TARGET, SOURCE])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad commit header \"garbage\""), "{stderr}");
    assert!(!stderr.contains("SIGPIPE"), "{stderr}");
}
