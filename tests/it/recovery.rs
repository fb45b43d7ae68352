//! Never stuck (issue 14): stale locks, state shared by worktrees, corrupt journals,
//! interrupted runs, Ctrl-C, and `status` explaining all of it.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime};

use regraft::scenario::{SOURCE, TARGET};

use crate::replace::{World, remote, world};
use crate::{git, regraft, regraft_process, run};

const BRANCH: &str = "refs/heads/stable/liberty";

fn lock_path(w: &World) -> PathBuf {
    w.clone.join(".git/regraft/lock")
}

/// Writes a lock file with `content`, dated `age` ago.
fn plant_lock(w: &World, content: &[u8], age: Duration) {
    let path = lock_path(w);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, content).expect("write the lock");
    let file = std::fs::File::options().write(true).open(&path).expect("open the lock");
    file.set_modified(SystemTime::now() - age).expect("date the lock");
}

/// A lock in regraft's format naming `pid`, with a start time no process of this boot has.
fn lock_naming(pid: u32) -> String {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!(
        "regraft-lock 1\npid {pid}\nstart 1\nboot {}\nhost {}\nwhat replace stable/liberty\n",
        boot.trim(),
        host.trim()
    )
}

/// Waits (at most 60 s) until `done` holds.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn locks_whose_holder_is_gone_are_taken_over() {
    // Issue 14, finding 1: an empty, garbage or recycled-pid lock blocked every command forever.
    let w = world(true);
    let mut sleeper = std::process::Command::new("sleep").arg("60").spawn().expect("sleep runs");
    let minute = Duration::from_secs(60);
    let cases: Vec<(&str, Vec<u8>, Duration)> = vec![
        ("empty, left by a kill before it was filled", Vec::new(), minute),
        ("garbage", b"\x00\xffnot a lock at all\n".to_vec(), minute),
        (
            "an older format naming this live test process",
            format!("pid {} backport", std::process::id()).into_bytes(),
            minute,
        ),
        (
            "the live test process, started at another time",
            lock_naming(std::process::id()).into_bytes(),
            Duration::ZERO,
        ),
        (
            "a live unrelated sleep, started at another time",
            lock_naming(sleeper.id()).into_bytes(),
            Duration::ZERO,
        ),
    ];
    for (what, content, age) in cases {
        plant_lock(&w, &content, age);
        let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
        assert_eq!(code, Some(2), "{what}: {out}");
        assert!(out.contains("no operation is in progress"), "{what}: the lock was taken: {out}");
        assert!(
            out.contains("took over the stale lock") && out.contains(".git/regraft/lock"),
            "{what}: {out}"
        );
        assert!(!lock_path(&w).exists(), "{what}: released again");
    }
    let _ = sleeper.kill();
    let _ = sleeper.wait();

    // A fresh unreadable lock may be one being written: refused, naming the file.
    plant_lock(&w, b"", Duration::ZERO);
    let (code, out) = run(regraft(&w.clone).args(["eol", "stable/liberty", "--execute", "--yes"]));
    assert_eq!(code, Some(2), "{out}");
    // Lines are wrapped to 80 columns: the words are what counts.
    let out = crate::flat(&out);
    assert!(out.contains(".git/regraft/lock") && out.contains("empty or unreadable"), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old));

    // Taken over, a stale lock lets a whole operation run.
    plant_lock(&w, b"", minute);
    let (code, out) = run(regraft(&w.clone).args(["eol", "stable/liberty", "--execute", "--yes"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, BRANCH), None);
}

/// A `REGRAFT_GIT` wrapper that, at regraft's first push, writes `started` and waits until
/// `release` exists: a regraft that is genuinely running and holds its lock.
fn held_at_push(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (wrapper, started, release) =
        (root.join("git-held"), root.join("held-started"), root.join("held-release"));
    let script = format!(
        r#"#!/bin/sh
for word in "$@"; do
  if [ "$word" = push ]; then
    : > '{started}'
    i=0
    while [ ! -e '{release}' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
    break
  fi
done
exec git "$@"
"#,
        started = started.display(),
        release = release.display(),
    );
    std::fs::write(&wrapper, script).expect("write the wrapper");
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    (wrapper, started, release)
}

/// Starts `regraft args` in `dir` held at its first push; returns it once it is there.
fn running_regraft(dir: &Path, root: &Path, args: &[&str]) -> (Child, PathBuf) {
    let (wrapper, started, release) = held_at_push(root);
    let child = regraft_process(dir)
        .env("REGRAFT_GIT", &wrapper)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("regraft starts");
    wait_for("the held regraft to push", || started.exists());
    (child, release)
}

#[test]
fn a_lock_held_by_a_running_regraft_refuses() {
    let w = world(true);
    let root = w.server.parent().expect("parent").to_path_buf();
    let (child, release) =
        running_regraft(&w.clone, &root, &["eol", "stable/liberty", "--execute", "--yes"]);
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(2), "{out}");
    // Lines are wrapped to 80 columns: the words are what counts.
    let out = crate::flat(&out);
    assert!(out.contains("another regraft is working") && out.contains("end of life"), "{out}");
    assert!(!out.contains("took over"), "{out}");
    std::fs::write(&release, "").expect("release");
    let done = child.wait_with_output().expect("the held regraft ends");
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert_eq!(remote(&w.server, BRANCH), None, "the held eol finished");
}

const REPLACE: [&str; 6] =
    ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "recreate"];

/// Adds a linked worktree of `repo` at `path`, detached at `origin/master`.
fn add_worktree(repo: &Path, path: &Path) {
    git(
        repo,
        &["worktree", "add", "-q", "--detach", path.to_str().expect("utf-8"), "origin/master"],
    );
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn worktrees_share_one_lock_one_journal_and_the_shallow_check() {
    // Issue 14, finding 2: state lived per worktree, so two worktrees ran two operations at once.
    let w = world(true);
    let root = w.server.parent().expect("parent").to_path_buf();
    let linked = root.join("linked");
    add_worktree(&w.clone, &linked);
    let (code, out) = run(regraft(&linked)
        .env("REGRAFT_FAULT_AFTER_STEPS", "3")
        .args(REPLACE)
        .args(["--execute", "--yes"]));
    assert_eq!(code, None, "killed: {out}");
    assert!(w.clone.join(".git/regraft/journal.json").exists(), "in the common directory");
    let merge =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "merge"];
    let (code, out) = run(regraft(&w.clone).args(merge).args(["--execute", "--yes"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("in progress: replace") && out.contains("--abort"), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old), "the second operation did not run");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("aborted: ") && out.contains("recreate"),
        "the linked one's journal: {out}"
    );
    let (code, out) = run(regraft(&linked).args(["replace", "--continue"]));
    assert_eq!(code, Some(2), "gone for both: {out}");
    assert!(out.contains("no operation is in progress"), "{out}");

    // One lock for both: a regraft running in the main worktree blocks the linked one.
    let mut args = REPLACE.to_vec();
    args.extend(["--execute", "--yes"]);
    let (child, release) = running_regraft(&w.clone, &root, &args);
    let (code, out) = run(regraft(&linked).args(["replace", "--abort"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("another regraft is working"), "{out}");
    std::fs::write(&release, "").expect("release");
    let done = child.wait_with_output().expect("the held regraft ends");
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));

    // A worktree of a shallow clone is as shallow as the clone.
    let shallow = root.join("shallow");
    let url = format!("file://{}", w.server.display());
    git(
        &root,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            &url,
            shallow.to_str().expect("utf-8"),
        ],
    );
    let shallow_linked = root.join("shallow-linked");
    add_worktree(&shallow, &shallow_linked);
    let (code, out) = run(regraft(&shallow_linked).args([
        "replace",
        "stable/mitaka",
        "--from",
        "origin/master",
        "--strategy",
        "megapatch",
    ]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("shallow"), "{out}");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn a_backport_is_seen_from_every_worktree_and_resumed_in_its_own() {
    // Issue 14, finding 2: a backport's state lived per worktree.
    let (tmp, s) = crate::small_scenario();
    let linked = tmp.path().join("linked");
    git(&s.dir, &["worktree", "add", "-q", "--detach", linked.to_str().expect("utf-8"), TARGET]);
    let fix = s.fix.to_hex();
    let args = ["backport", TARGET, SOURCE, "--for", fix.as_str(), "--branch", "fix"];
    let (code, out) = run(regraft(&linked).env("REGRAFT_FAULT_AFTER_PICKS", "1").args(args));
    assert_eq!(code, None, "killed: {out}");
    let (code, out) = run(regraft(&s.dir).args(["backport", TARGET, SOURCE, "--branch", "other"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("already in progress on branch refs/heads/fix"), "{out}");
    let (code, out) = run(regraft(&s.dir).args(["backport", "--continue"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("runs in the worktree") && out.contains("linked"), "{out}");
    let (code, out) = run(regraft(&linked).args(["backport", "--continue"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(!s.dir.join(".git/regraft/backport.json").exists(), "{out}");
}

/// Kills a recreate of stable/liberty after `steps` steps; returns the journal's path.
fn interrupted(w: &World, strategy: &str, steps: usize) -> PathBuf {
    let (code, out) = run(regraft(&w.clone)
        .env("REGRAFT_FAULT_AFTER_STEPS", steps.to_string())
        .args([
            "replace",
            "stable/liberty",
            "--from",
            "origin/stable/mitaka",
            "--strategy",
            strategy,
        ])
        .args(["--execute", "--yes"]));
    assert_eq!(code, None, "killed: {out}");
    let journal = w.clone.join(".git/regraft/journal.json");
    assert!(journal.exists());
    journal
}

/// Returns the files in the state directory whose names start with `prefix`.
fn state_files(w: &World, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(w.clone.join(".git/regraft"))
        .expect("the state directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
        .collect();
    found.sort();
    found
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn a_corrupt_journal_is_explained_and_abort_moves_it_aside() {
    // Issue 14, finding 3: a corrupted journal had no way out (a serde message, an unrelated hint).
    for case in ["empty", "truncated", "an array", "random bytes"] {
        let w = world(true);
        let journal = interrupted(&w, "merge", 5);
        let ours = remote(&w.server, BRANCH).expect("the merge was pushed");
        let text = std::fs::read(&journal).expect("read");
        let corrupt = match case {
            "empty" => Vec::new(),
            "truncated" => text[..text.len() / 2].to_vec(),
            "an array" => b"[]".to_vec(),
            _ => (0..200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect(),
        };
        std::fs::write(&journal, &corrupt).expect("corrupt the journal");

        for args in
            [vec!["replace", "--continue"], vec!["eol", "stable/mitaka", "--execute", "--yes"]]
        {
            let (code, out) = run(regraft(&w.clone).args(&args));
            assert_eq!(code, Some(2), "{case}, {args:?}: {out}");
            assert!(
                out.contains("journal") && out.contains(".git/regraft/journal.json"),
                "{case}, {args:?}: {out}"
            );
            // Lines are wrapped to 80 columns: the words are what counts.
            let out = crate::flat(&out);
            assert!(out.contains("cannot be read"), "{case}, {args:?}: {out}");
            assert!(
                out.contains("git regraft replace --abort"),
                "{case}, {args:?}: the way out: {out}"
            );
            assert!(
                out.contains(&format!("refs/heads/stable/liberty is at {}", ours.short()))
                    || case != "truncated",
                "{case}: what the remote holds now: {out}"
            );
            assert_eq!(remote(&w.server, BRANCH), Some(ours), "{case}, {args:?}: nothing changed");
            assert!(
                remote(&w.server, "refs/heads/stable/mitaka").is_some(),
                "{case}: eol did not run"
            );
            assert_eq!(
                std::fs::read(&journal).expect("kept"),
                corrupt,
                "{case}: the journal is kept as it was"
            );
        }

        let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
        assert_eq!(code, Some(0), "{case}: {out}");
        let aside = state_files(&w, "journal.json.corrupt-");
        assert_eq!(aside.len(), 1, "{case}: {out}");
        assert_eq!(std::fs::read(&aside[0]).expect("read"), corrupt, "{case}: moved, not changed");
        assert!(!journal.exists(), "{case}");
        assert!(out.contains(&aside[0].display().to_string()), "{case}: says where: {out}");
        assert!(out.contains("nothing on the remote was changed"), "{case}: {out}");
        if case == "truncated" {
            assert!(out.contains("tag liberty-early-demise keeps the old tip"), "{case}: {out}");
        } else {
            assert!(out.contains("git ls-remote --tags"), "{case}: {out}");
        }
        assert_eq!(remote(&w.server, BRANCH), Some(ours), "{case}: abort changed nothing");
        assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old), "{case}");
        // The way is clear again.
        let (code, out) =
            run(regraft(&w.clone).args(["eol", "stable/mitaka", "--execute", "--yes"]));
        assert_eq!(code, Some(0), "{case}: {out}");
    }
}

/// Returns the `regraft-*` entries of a scratch parent.
fn scratch_entries(parent: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(parent)
        .expect("the scratch parent")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("regraft-"))
        .collect();
    names.sort();
    names
}

#[test]
fn ctrl_c_in_a_dry_run_removes_its_scratch_objects() {
    // Issue 14, finding 4: Ctrl-C during compare or backport --dry-run left a /dev/shm/regraft-objects-* directory each time.
    let (tmp, s) = crate::small_scenario();
    let parent = tmp.path().join("scratch");
    std::fs::create_dir(&parent).expect("mkdir");
    // git merge-tree never answers: the dry run waits on it, as it does most of its time.
    let stalled = tmp.path().join("stalled-pid");
    let wrapper = tmp.path().join("git-stalling");
    let script = format!(
        "#!/bin/sh\nfor word in \"$@\"; do\n  if [ \"$word\" = merge-tree ]; then echo $$ > '{}'; exec sleep 60; fi\ndone\nexec git \"$@\"\n",
        stalled.display()
    );
    std::fs::write(&wrapper, script).expect("write the wrapper");
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    for args in [vec!["backport", "--dry-run", TARGET, SOURCE], vec!["compare", TARGET, SOURCE]] {
        let _ = std::fs::remove_file(&stalled);
        let child = regraft_process(&s.dir)
            .env("REGRAFT_SCRATCH_DIR", &parent)
            .env("REGRAFT_GIT", &wrapper)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("regraft starts");
        let mine = format!("regraft-objects-{}-", child.id());
        wait_for("the scratch directory", || {
            stalled.exists() && scratch_entries(&parent).iter().any(|n| n.starts_with(&mine))
        });
        let status = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let out = child.wait_with_output().expect("regraft ends");
        let sleeper = std::fs::read_to_string(&stalled).expect("the stalled pid");
        let _ = std::process::Command::new("kill").arg(sleeper.trim()).status();
        assert_eq!(
            out.status.code(),
            Some(130),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(scratch_entries(&parent), Vec::<String>::new(), "{args:?}: nothing left");
    }
}

#[test]
fn scratch_directories_of_dead_processes_are_removed_by_the_next_run() {
    // Issue 14, finding 4: each killed run's scratch directory stayed for good.
    let (tmp, s) = crate::small_scenario();
    let parent = tmp.path().join("scratch");
    std::fs::create_dir(&parent).expect("mkdir");
    let mut finished = std::process::Command::new("true").spawn().expect("true runs");
    let dead = finished.id();
    finished.wait().expect("true ends");
    let stale = parent.join(format!("regraft-objects-{dead}-aBc123"));
    std::fs::create_dir_all(stale.join("ab")).expect("mkdir");
    std::fs::write(stale.join("ab/cdef"), "an object").expect("write");
    // A live process's, and a link named like a dead one's: both stay, and what the link
    // points at is not touched.
    let alive = parent.join(format!("regraft-objects-{}-dEf456", std::process::id()));
    std::fs::create_dir(&alive).expect("mkdir");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    std::fs::write(elsewhere.join("keep"), "keep").expect("write");
    let link = parent.join(format!("regraft-objects-{dead}-link00"));
    std::os::unix::fs::symlink(&elsewhere, &link).expect("symlink");

    let (code, out) = run(regraft(&s.dir).env("REGRAFT_SCRATCH_DIR", &parent).args([
        "backport",
        "--dry-run",
        TARGET,
        SOURCE,
    ]));
    assert_eq!(code, Some(0), "{out}");
    assert!(!stale.exists(), "the dead process's directory is gone");
    assert!(alive.exists(), "a live process's stays");
    assert!(
        link.symlink_metadata().is_ok() && elsewhere.join("keep").exists(),
        "links are left alone"
    );
    let mut left = scratch_entries(&parent);
    left.retain(|n| !n.ends_with("dEf456") && !n.ends_with("link00"));
    assert_eq!(left, Vec::<String>::new(), "the run's own is gone too");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn after_an_aborted_replacement_sync_moves_no_branch_whose_upstream_did_not_change() {
    // Issue 14, finding 5: sync --all moved stable/mitaka onto old liberty after an aborted replacement.
    for fetch_first in [false, true] {
        let w = world(true);
        let root = w.server.parent().expect("parent");
        let dev = root.join("developer");
        let url = format!("file://{}", w.server.display());
        git(root, &["clone", "-q", &url, dev.to_str().expect("utf-8")]);
        git(&dev, &["checkout", "-q", "stable/mitaka"]);
        git(&dev, &["checkout", "-q", "stable/liberty"]);
        // A branch of the developer's own, without upstream, on mitaka.
        git(&dev, &["branch", "--no-track", "mine", "origin/stable/mitaka"]);

        // The release manager's recreate is killed with liberty pointing at mitaka...
        interrupted(&w, "recreate", 5);
        assert_eq!(remote(&w.server, BRANCH), Some(w.source), "liberty briefly is mitaka");
        // ...the developer fetches just then...
        git(&dev, &["fetch", "-q", "origin"]);
        // (and syncs liberty onto what it then is),
        let (code, out) = run(regraft(&dev).args(["sync", "stable/liberty", "--no-fetch"]));
        assert_eq!(code, Some(0), "{out}");
        assert_eq!(crate::id(&git(&dev, &["rev-parse", "stable/liberty"])), w.source);
        // ...and the release manager aborts.
        let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
        assert_eq!(code, Some(0), "{out}");
        assert_eq!(remote(&w.server, BRANCH), Some(w.old));
        if fetch_first {
            git(&dev, &["fetch", "-q", "origin"]);
        }

        let (code, out) = run(regraft(&dev).args(["sync", "--all"]));
        assert_eq!(code, Some(0), "{out}");
        let at = |branch: &str| crate::id(&git(&dev, &["rev-parse", branch]));
        assert_eq!(at("stable/mitaka"), w.source, "origin/stable/mitaka never changed: {out}");
        assert_eq!(at("mine"), w.source, "mitaka's commits were not replaced: {out}");
        assert_eq!(at("stable/liberty"), w.old, "liberty's own upstream changed back: {out}");
        assert!(!out.contains("stable/mitaka") && !out.contains("mine"), "{out}");
    }
}

/// Runs `git regraft status --json` and parses it.
fn status_json(dir: &Path) -> serde_json::Value {
    let (code, out) = run(regraft(dir).args(["status", "--json"]));
    assert_eq!(code, Some(0), "{out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Returns what `git ls-remote` of the server says `reference` is (peeled for tags).
fn ls_remote(server: &Path, reference: &str) -> Option<String> {
    let out =
        git(server.parent().expect("parent"), &["ls-remote", server.to_str().expect("utf-8")]);
    let find = |name: &str| {
        out.lines().find_map(|l| {
            l.split_once('\t').filter(|(_, n)| *n == name).map(|(id, _)| id.to_string())
        })
    };
    find(&format!("{reference}^{{}}")).or_else(|| find(reference))
}

#[test]
fn status_with_nothing_in_progress_says_so() {
    // Issue 14, finding 6: there was no `status`.
    let w = world(true);
    let (code, out) = run(regraft(&w.clone).arg("status"));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Nothing in progress."), "{out}");
    let json = status_json(&w.clone);
    assert!(
        json["operation"].is_null() && json["backport"].is_null() && json["next"].is_null(),
        "{json}"
    );
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn status_shows_an_interrupted_replace_its_step_and_the_remote_as_git_sees_it() {
    // Issue 14, finding 6: nothing said where an interrupted run stood.
    for (strategy, steps) in [("recreate", 3), ("merge", 5)] {
        let w = world(true);
        interrupted(&w, strategy, steps);
        let json = status_json(&w.clone);
        let op = &json["operation"];
        assert!(op["operation"].as_str().is_some_and(|o| o.contains(strategy)), "{json}");
        let states: Vec<&str> = op["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| s["state"].as_str().expect("state"))
            .collect();
        assert_eq!(states.iter().filter(|s| **s == "done").count(), steps, "{json}");
        assert!(
            states[..steps].iter().all(|s| *s == "done")
                && states[steps..].iter().all(|s| *s == "pending"),
            "{json}"
        );
        assert_eq!(json["next"], "git regraft replace --continue", "{json}");
        assert_eq!(json["or"], "git regraft replace --abort", "{json}");
        let now = op["remote_now"].as_array().expect("remote_now");
        for reference in [BRANCH, "refs/tags/liberty-early-demise"] {
            let shown = now
                .iter()
                .find(|v| v["reference"] == reference)
                .unwrap_or_else(|| panic!("{reference}: {json}"));
            assert_eq!(
                shown["value"].as_str().map(str::to_string),
                ls_remote(&w.server, reference),
                "{strategy} {reference}: {json}"
            );
        }
        if strategy == "merge" {
            assert_ne!(ls_remote(&w.server, BRANCH), Some(w.old.to_hex()), "the branch was pushed");
        }
        let (code, out) = run(regraft(&w.clone).arg("status"));
        assert_eq!(code, Some(0), "{out}");
        assert!(
            out.contains("in progress: replace stable/liberty")
                && out.contains("next: git regraft replace --continue"),
            "{out}"
        );
        let branch_now = ls_remote(&w.server, BRANCH).expect("the branch");
        assert!(out.contains(&branch_now[..10]), "{out}");
    }
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn status_shows_an_interrupted_backport_and_a_corrupt_journal() {
    // Issue 14, finding 6: nothing said a backport or an unreadable journal was in the way.
    let (_tmp, s) = crate::small_scenario();
    let fix = s.fix.to_hex();
    let (code, out) = run(regraft(&s.dir).env("REGRAFT_FAULT_AFTER_PICKS", "1").args([
        "backport",
        TARGET,
        SOURCE,
        "--for",
        fix.as_str(),
        "--branch",
        "fix",
    ]));
    assert_eq!(code, None, "killed: {out}");
    let json = status_json(&s.dir);
    assert_eq!(json["backport"]["branch"], "refs/heads/fix", "{json}");
    assert_eq!(json["next"], "git regraft backport --continue", "{json}");
    let (code, out) = run(regraft(&s.dir).arg("status"));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("backport in progress: refs/heads/fix")
            && out.contains("next: git regraft backport --continue"),
        "{out}"
    );

    let w = world(true);
    let journal = interrupted(&w, "merge", 5);
    std::fs::write(&journal, "{\"plan\": {\"operation\": \"replace stable/liberty")
        .expect("corrupt");
    let (code, out) = run(regraft(&w.clone).arg("status"));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("cannot be read") && out.contains("journal.json"), "{out}");
    assert!(out.contains("next: git regraft replace --abort"), "{out}");
    let json = status_json(&w.clone);
    assert_eq!(json["next"], "git regraft replace --abort", "{json}");
    assert!(
        json["unreadable_journal"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot be read")),
        "{json}"
    );
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn an_interrupted_abort_is_finished_by_another() {
    // Issue 14: the way out of a killed --abort, shown by status and taken by --abort.
    let w = world(true);
    interrupted(&w, "merge", 5);
    let ours = remote(&w.server, BRANCH).expect("the merge was pushed");
    // The abort is killed (SIGKILL: no handler runs) as it starts its push.
    let wrapper = w.server.parent().expect("parent").join("git-killing");
    let script = "#!/bin/sh\nfor word in \"$@\"; do\n  if [ \"$word\" = push ]; then kill -9 $PPID; sleep 1; exit 1; fi\ndone\nexec git \"$@\"\n";
    std::fs::write(&wrapper, script).expect("write the wrapper");
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let (code, out) =
        run(regraft(&w.clone).env("REGRAFT_GIT", &wrapper).args(["replace", "--abort"]));
    assert_eq!(code, None, "killed: {out}");
    assert_eq!(remote(&w.server, BRANCH), Some(ours));
    let json = status_json(&w.clone);
    assert_eq!(json["operation"]["aborting"], true, "{json}");
    assert_eq!(json["next"], "git regraft replace --abort", "{json}");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--continue"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--abort") && out.contains("was interrupted"), "{out}");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old), "{out}");
    assert_eq!(status_json(&w.clone)["next"], serde_json::Value::Null);
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn a_new_surgery_or_notice_says_first_what_is_in_progress() {
    // Regression: re-running an interrupted replace said only "remote `origin` has no
    // branch stable/liberty", and notice recommended running it again.
    let w = crate::replace::world(true);
    let args =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "recreate"];
    let (code, _) = crate::run(
        crate::regraft(&w.clone)
            .env("REGRAFT_FAULT_AFTER_STEPS", "4")
            .args(args)
            .args(["--execute", "--yes"]),
    );
    assert_eq!(code, None, "killed after the delete");
    for again in [&args[..], &["eol", "stable/mitaka"][..], &["notice"][..]] {
        let (code, out) = crate::run(crate::regraft(&w.clone).args(again));
        assert_eq!(code, Some(2), "{again:?}: {out}");
        assert!(
            out.contains("in progress: replace stable/liberty")
                && out.contains("4 of 6 steps done"),
            "{again:?}: {out}"
        );
        assert!(out.contains("refs/heads/stable/liberty is (none)"), "the remote now: {out}");
        assert!(out.contains("git regraft replace --continue"), "{again:?}: {out}");
        assert!(!out.contains("has no branch"), "{out}");
    }
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn a_killed_continue_is_finished_by_continue_or_abort() {
    for finish in ["--continue", "--abort"] {
        let w = crate::replace::world(true);
        let args = crate::replace::replace_args("recreate");
        let (code, _) = crate::run(
            crate::regraft(&w.clone)
                .env("REGRAFT_FAULT_AFTER_STEPS", "3")
                .args(&args)
                .args(["--execute", "--yes"]),
        );
        assert_eq!(code, None, "killed after the tag");
        // The resumed run is killed too, after the delete (step 4).
        let (code, out) = crate::run(
            crate::regraft(&w.clone)
                .env("REGRAFT_FAULT_AFTER_STEPS", "4")
                .args(["replace", "--continue"]),
        );
        assert_eq!(code, None, "killed in --continue: {out}");
        assert_eq!(remote(&w.server, BRANCH), None, "deleted, not yet created");
        let (code, out) = crate::run(crate::regraft(&w.clone).args(["replace", finish]));
        assert_eq!(code, Some(0), "{finish}: {out}");
        let expected = if finish == "--continue" { w.source } else { w.old };
        assert_eq!(remote(&w.server, BRANCH), Some(expected), "{finish}: {out}");
        assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old));
    }
}

#[test]
fn a_journal_written_with_the_step_ids_of_before_reads_back_and_resumes() {
    // Step ids became a typed StepId; journals and plan files keep the same strings.
    let w = world(true);
    let ids = ["fetch", "tag", "push-tag", "2-followup-1-push", "3-restore-reviews", "verify"];
    let steps: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| {
            serde_json::json!({
                "id": id, "description": format!("the {id} step"), "action": null,
                "precondition": [], "verification": []
            })
        })
        .collect();
    let journal = serde_json::json!({
        "plan": { "operation": "replace stable/liberty on origin by x (merge)", "remote": "origin",
                  "steps": steps, "restore": null },
        "done": ["fetch", "tag"],
        "started": "push-tag",
    });
    let path = w.clone.join(".git/regraft/journal.json");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, serde_json::to_vec_pretty(&journal).expect("json")).expect("write");

    let json = status_json(&w.clone);
    let shown: Vec<(&str, &str)> = json["operation"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["id"].as_str().expect("id"), s["state"].as_str().expect("state")))
        .collect();
    let states = ["done", "done", "started", "pending", "pending", "pending"];
    assert_eq!(shown, ids.into_iter().zip(states).collect::<Vec<_>>(), "{json}");

    // Steps that only check (nothing to check here) finish at once.
    let (code, out) = run(regraft(&w.clone).args(["replace", "--continue", "--yes"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(!path.exists(), "finished: {out}");
    let last: serde_json::Value = serde_json::from_slice(
        &std::fs::read(w.clone.join(".git/regraft/last-operation.json")).expect("kept"),
    )
    .expect("json");
    assert_eq!(last, journal["plan"], "written back with the same ids");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn an_abort_a_strict_server_refuses_says_so_and_keeps_the_journal() {
    // Regression (issue 24): on a server that denies non-fast-forward updates and deletes,
    // --abort said "aborted", exited 0 and dropped the journal with the branch still moved.
    let w = world(true);
    interrupted(&w, "merge", 5);
    let ours = remote(&w.server, BRANCH).expect("the merge was pushed");
    git(&w.server, &["config", "receive.denyDeletes", "true"]);
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("could not be put back") && out.contains(&ours.short()), "{out}");
    assert!(out.contains("liberty-early-demise"), "names the tag that keeps the old tip: {out}");
    assert!(!out.contains("aborted:"), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(ours), "nothing changed");
    assert!(w.clone.join(".git/regraft/journal.json").exists(), "the journal is kept");
    assert_eq!(status_json(&w.clone)["next"], "git regraft replace --abort");

    // An administrator lets it through; --abort then finishes.
    git(&w.server, &["config", "receive.denyDeletes", "false"]);
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old), "{out}");
    assert!(out.contains("tag liberty-early-demise stays"), "{out}");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn an_abort_before_the_tag_was_pushed_claims_no_tag() {
    // Regression (issue 24): abort said a tag "keeps the old tip" when it was never made.
    let w = world(true);
    interrupted(&w, "merge", 1);
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("keeps the old tip"), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old));
}

/// Ways an interrupted run's remote goes missing; returns how to bring it back.
fn lose_the_remote(w: &World, case: &str) -> Box<dyn Fn()> {
    let clone = w.clone.clone();
    let server = w.server.clone();
    match case {
        "removed" => {
            git(&clone, &["remote", "remove", "origin"]);
            Box::new(move || {
                git(&clone, &["remote", "add", "origin", server.to_str().expect("utf-8")]);
            })
        }
        "renamed" => {
            git(&clone, &["remote", "rename", "origin", "upstream"]);
            Box::new(move || {
                git(&clone, &["remote", "rename", "upstream", "origin"]);
            })
        }
        "moved away" => {
            let moved = server.with_extension("moved");
            std::fs::rename(&server, &moved).expect("move the server");
            Box::new(move || std::fs::rename(&moved, &server).expect("move it back"))
        }
        "damaged in the journal" => {
            let journal = clone.join(".git/regraft/journal.json");
            let text = std::fs::read_to_string(&journal).expect("the journal");
            let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
            assert_eq!(json["plan"]["remote"], "origin", "{text}");
            json["plan"]["remote"] = "origim".into();
            std::fs::write(&journal, json.to_string()).expect("write");
            Box::new(move || std::fs::write(&journal, &text).expect("write back"))
        }
        _ => unreachable!("{case}"),
    }
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn an_interrupted_run_whose_remote_is_gone_is_shown_kept_and_finished_once_it_is_back() {
    // Regression (issue 24): with the remote renamed, removed, moved away or named wrong in
    // the journal, `status` showed only git's error, --continue and --abort exited 1, and the
    // guide offered its fresh menu as if nothing were in progress.
    for case in ["removed", "renamed", "moved away"] {
        let w = world(true);
        let journal = interrupted(&w, "merge", 5);
        let ours = remote(&w.server, BRANCH).expect("the merge was pushed");
        assert_ne!(ours, w.old);
        let bring_back = lose_the_remote(&w, case);
        let name = "origin";

        let json = status_json(&w.clone);
        let op = &json["operation"];
        let problem = op["remote_unreachable"].as_str().unwrap_or_else(|| panic!("{case}: {json}"));
        assert!(!problem.is_empty(), "{case}: {json}");
        assert_eq!(op["remote"], name, "{case}: {json}");
        assert_eq!(json["next"], "git regraft replace --continue", "{case}: {json}");
        assert_eq!(
            op["steps"].as_array().expect("steps").iter().filter(|s| s["state"] == "done").count(),
            5,
            "{case}: {json}"
        );
        let (code, out) = run(regraft(&w.clone).arg("status"));
        assert_eq!(code, Some(0), "{case}: {out}");
        assert!(out.contains("in progress: replace stable/liberty"), "{case}: {out}");
        assert!(out.contains(&format!("{name} now: unreachable")), "{case}: {out}");

        for finish in ["--continue", "--abort"] {
            let (code, out) = run(regraft(&w.clone).args(["replace", finish]));
            assert_eq!(code, Some(2), "{case} {finish}: {out}");
            // Lines are wrapped to 80 columns: the words are what counts.
            let out = crate::flat(&out);
            assert!(
                out.contains(&format!("needs the remote {name}"))
                    && out.contains(&format!("git remote add {name}"))
                    && out.contains("the journal is kept"),
                "{case} {finish}: {out}"
            );
            if finish == "--abort" {
                // What remains on the remote is named: the value this operation pushed.
                assert!(out.contains(&ours.short()) && out.contains(&w.old.short()), "{out}");
            }
            assert!(journal.exists(), "{case} {finish}: the journal is kept");
        }

        let mut p = crate::guide::guide(&w.clone);
        crate::guide::answer(&mut p, "In progress here: replace stable/liberty", "");
        crate::guide::answer(&mut p, "cannot be reached", "");
        crate::guide::answer(&mut p, "What now?", "\x1b");
        let (code, out) = crate::guide::finish(&mut p);
        assert_eq!(code, Some(130), "{case}: {out}");
        assert!(journal.exists(), "{case}: the guide changed nothing");

        bring_back();
        assert_eq!(remote(&w.server, BRANCH), Some(ours), "{case}: nothing changed meanwhile");
        let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
        assert_eq!(code, Some(0), "{case}: {out}");
        assert_eq!(remote(&w.server, BRANCH), Some(w.old), "{case}: {out}");
        assert!(!journal.exists(), "{case}: finished");
    }
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn a_journal_whose_remote_field_is_damaged_is_shown_and_kept_until_written_back() {
    // Issue 24 (item 6): a damaged remote field; the journal check of item 5 already makes
    // it an unreadable journal with a way out, which this pins.
    let w = world(true);
    let journal = interrupted(&w, "merge", 5);
    let ours = remote(&w.server, BRANCH).expect("the merge was pushed");
    let write_back = lose_the_remote(&w, "damaged in the journal");

    let json = status_json(&w.clone);
    let message =
        json["unreadable_journal"]["message"].as_str().unwrap_or_else(|| panic!("{json}"));
    // It names both remotes and what the real one holds now (this operation's push).
    assert!(message.contains("origim") && message.contains("origin"), "{json}");
    assert!(message.contains(&ours.short()), "{json}");
    assert_eq!(json["next"], "git regraft replace --abort", "{json}");
    let (code, out) = run(regraft(&w.clone).arg("status"));
    assert_eq!(code, Some(0), "{out}");

    let (code, out) = run(regraft(&w.clone).args(["replace", "--continue"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("origim") && out.contains("replace --abort"), "{out}");
    assert!(journal.exists(), "{out}");

    let mut p = crate::guide::guide(&w.clone);
    crate::guide::answer(&mut p, "In progress here: an operation whose journal cannot be read", "");
    crate::guide::answer(&mut p, "Go on with the guide anyway", "\x1b");
    let (code, out) = crate::guide::finish(&mut p);
    assert_eq!(code, Some(130), "{out}");
    assert!(journal.exists(), "the guide changed nothing: {out}");

    // Written back as it was, the journal resumes: --abort puts the branch back.
    write_back();
    assert_eq!(remote(&w.server, BRANCH), Some(ours), "nothing changed meanwhile");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old), "{out}");
}
