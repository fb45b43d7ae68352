//! The caches in `.git/regraft/` under every kind of damage: the answer is the one without
//! a cache (git's, where git can give it), the damage is said once on stderr, and the file
//! is right again afterwards.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regraft::ObjectId;
use regraft::analysis::delta::{Delta, Evidence};
use regraft::scenario::{SOURCE, TARGET};

use crate::{git, git_patch_id, id, small_scenario};

/// Runs the command and returns its stdout and stderr; it must succeed.
fn run(dir: &Path, args: &[&str]) -> (String, String) {
    let out = crate::regraft(dir).args(args).output().expect("regraft runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    (String::from_utf8(out.stdout).expect("UTF-8 JSON"), stderr)
}

/// Returns the cache file whose name starts with `prefix` (`patch-ids-`): found by name, so
/// that the test reads whatever version the code writes.
fn cache_file(state: &Path, prefix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(state)
        .expect("the state directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
        .collect();
    assert_eq!(found.len(), 1, "one {prefix} cache: {found:?}");
    found.into_iter().next().expect("one")
}

/// The damaged versions of a cache file `good`; `foreign` is another cache's file.
fn damaged(good: &[u8], foreign: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    assert!(good.len() > 40, "the cache holds records ({} bytes)", good.len());
    let mut flipped = good.to_vec();
    flipped[good.len() / 2] ^= 0x40;
    // A byte in every 40 (every patch-id, in a file of bare 40-byte records).
    let mut flipped_all = good.to_vec();
    for at in (25..flipped_all.len()).step_by(40) {
        flipped_all[at] ^= 0x01;
    }
    let mut deleted = good.to_vec();
    deleted.remove(good.len() / 3);
    // Random bytes of the same length, the same on every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let random = (0..good.len())
        .map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (state >> 33) as u8
        })
        .collect();
    vec![
        ("one byte flipped", flipped),
        ("a byte in every 40 flipped", flipped_all),
        ("truncated", good[..good.len() - 5].to_vec()),
        ("one byte deleted", deleted),
        ("random bytes", random),
        ("another cache's file", foreign.to_vec()),
        ("a file of another shape", b"\x10\x00\x00\x00not a record of ours".to_vec()),
    ]
}

/// Damages `file` every way and checks that `args` answer `expected` each time, say the
/// damage once, and leave a file that is whole again.
fn check_damage(dir: &Path, args: &[&str], file: &Path, foreign: &[u8], expected: &str) {
    let good = std::fs::read(file).expect("the cache");
    let name = file.file_name().expect("a name").to_string_lossy().into_owned();
    for (what, contents) in damaged(&good, foreign) {
        std::fs::write(file, &contents).expect("damage the cache");
        let (answer, stderr) = run(dir, args);
        assert_eq!(answer, expected, "{name}, {what}: the answer of no cache");
        let said = stderr.matches("warning: the cache").count();
        assert_eq!(said, 1, "{name}, {what}: the damage is said once: {stderr}");
        assert!(stderr.contains(&name), "{name}, {what}: the file is named: {stderr}");
        let (again, stderr) = run(dir, args);
        assert_eq!(again, expected, "{name}, {what}: and on the next run");
        assert!(!stderr.contains("warning"), "{name}, {what}: said once only: {stderr}");
        std::fs::write(file, &good).expect("restore the cache");
    }
    // An empty or missing file is no damage, only no cache.
    std::fs::write(file, b"").expect("empty the cache");
    let (answer, stderr) = run(dir, args);
    assert_eq!((answer.as_str(), stderr.contains("warning")), (expected, false), "{name} empty");
    std::fs::remove_file(file).expect("remove the cache");
    assert_eq!(run(dir, args).0, expected, "{name} removed");
}

// Regression: a flipped byte in `patch-ids-v2` (bare records, no check) made `delta`
// report a commit absent, on every later run.
#[test]
fn every_cache_under_every_damage_gives_the_answer_of_no_cache() {
    let (_tmp, s) = small_scenario();
    let state = s.dir.join(".git/regraft");
    let delta_args = ["delta", "--json", TARGET, SOURCE];
    let (delta, _) = run(&s.dir, &delta_args);

    // Without a cache, git's answer: its patch-ids, and `git cherry`'s present commits.
    let d: Delta = serde_json::from_str(&delta).expect("delta JSON");
    let mut checked = 0;
    for e in d.source_only.iter().chain(&d.target_only).filter(|e| !e.merge) {
        if let Some(p) = e.patch_id {
            assert_eq!(Some(p.to_hex()), git_patch_id(&s.dir, e.commit), "{}", e.commit);
            checked += 1;
        }
    }
    assert!(checked > 10, "patch-ids were computed ({checked})");
    let cherry = git(&s.dir, &["cherry", TARGET, SOURCE]);
    let git_present: BTreeSet<ObjectId> =
        cherry.lines().filter_map(|l| l.strip_prefix("- ")).map(id).collect();
    let ours: BTreeSet<ObjectId> =
        d.source_only.iter().filter(|e| e.has(Evidence::PatchId)).map(|e| e.commit).collect();
    assert!(!git_present.is_empty());
    assert_eq!(ours, git_present);

    let patch_ids = cache_file(&state, "patch-ids-");
    // The deps caches, from a history whose merges mix both parents' lines (the range
    // stops before its binary change, whose patch is not kept).
    let (_tmp_deps, f) = crate::deps::tangled();
    let deps_args = ["deps", "--json", "stable", "main~1"];
    let (deps, _) = run(f.path(), &deps_args);
    let deps_state = f.path().join(".git/regraft");
    let changes = cache_file(&deps_state, "changes-");
    let line_diffs = cache_file(&deps_state, "line-diffs-");
    let read = |p: &Path| std::fs::read(p).expect("a cache");
    let (patch_id_bytes, change_bytes, line_diff_bytes) =
        (read(&patch_ids), read(&changes), read(&line_diffs));
    check_damage(&s.dir, &delta_args, &patch_ids, &change_bytes, &delta);
    check_damage(f.path(), &deps_args, &changes, &line_diff_bytes, &deps);
    check_damage(f.path(), &deps_args, &line_diffs, &patch_id_bytes, &deps);

    // The simulation cache: the dry run's first answer was computed without it (and is
    // checked against git's pick loop in tests/it/merge_cache.rs).
    let plan_args = ["backport", "--dry-run", "--json", TARGET, SOURCE];
    let (plan, _) = run(&s.dir, &plan_args);
    let merges = cache_file(&state, "merges-");
    check_damage(&s.dir, &plan_args, &merges, &patch_id_bytes, &plan);
}

// Regression: a cache of an earlier version must be ignored (here: every patch-id in it
// wrong), never misread, and it is removed.
#[test]
fn a_cache_of_an_earlier_version_is_never_read_and_is_removed() {
    let (_tmp, s) = small_scenario();
    let args = ["delta", "--json", TARGET, SOURCE];
    let (expected, _) = run(&s.dir, &args);
    let d: Delta = serde_json::from_str(&expected).expect("delta JSON");
    let state = s.dir.join(".git/regraft");
    for file in std::fs::read_dir(&state).expect("the state directory") {
        let path = file.expect("an entry").path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("patch-ids-")) {
            std::fs::remove_file(path).expect("remove the current cache");
        }
    }
    // Every commit in the bare 40-byte records of `patch-ids-v2`, with a wrong patch-id.
    let mut old = Vec::new();
    for e in d.source_only.iter().chain(&d.target_only) {
        old.extend_from_slice(e.commit.as_bytes());
        old.extend_from_slice(&[0xab; 20]);
    }
    for name in ["patch-ids-v1", "patch-ids-v2"] {
        std::fs::write(state.join(name), &old).expect("an old cache");
    }
    assert_eq!(run(&s.dir, &args).0, expected);
    for name in ["patch-ids-v1", "patch-ids-v2"] {
        assert!(!state.join(name).exists(), "{name} is removed");
    }
}
