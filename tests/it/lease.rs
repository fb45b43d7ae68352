//! Compare-and-swap on every path: a colleague's push lands on the branch between regraft's
//! plan (and its precondition check) and regraft's own push, injected deterministically by a
//! `REGRAFT_GIT` wrapper; every strategy, eol, a playbook and `--abort` must leave the
//! colleague's commit where they pushed it.

use std::path::{Path, PathBuf};

use regraft::ObjectId;

use crate::replace::{World, remote, replace_args, world};
use crate::{git, id, regraft, run};

const BRANCH: &str = "refs/heads/stable/liberty";

/// A clone of the server that pushes one commit on top of whatever the branch is, and a
/// wrapper around git that makes it do so once, right before the first push regraft sends
/// to a ref ending in `stable/liberty` (the lease's value was read before that).
struct Colleague {
    wrapper: PathBuf,
    pushed: PathBuf,
}

fn colleague(w: &World) -> Colleague {
    let root = w.server.parent().expect("the server has a parent");
    let dir = root.join("colleague");
    git(
        root,
        &["clone", "-q", &format!("file://{}", w.server.display()), dir.to_str().expect("utf-8")],
    );
    let wrapper = root.join("git-with-colleague");
    let pushed = root.join("colleague-pushed");
    let marker = root.join("colleague-marker");
    let script = format!(
        r#"#!/bin/sh
# Before regraft's first push to the branch, a colleague lands a commit on it.
for word in "$@"; do
  case "$word" in
    *:refs/*stable/liberty)
      if [ ! -e '{marker}' ] && [ "$3" = push ]; then
        : > '{marker}'
        (
          cd '{dir}' &&
          git fetch -q origin &&
          {{ git checkout -q -B work origin/stable/liberty 2>/dev/null || git checkout -q -B work {old}; }} &&
          git commit -q --allow-empty -m "A colleague's fix" &&
          git push -q origin work:refs/heads/stable/liberty &&
          git rev-parse HEAD > '{pushed}'
        ) >&2 || exit 97
      fi
      ;;
  esac
done
exec git "$@"
"#,
        marker = marker.display(),
        dir = dir.display(),
        pushed = pushed.display(),
        old = w.old,
    );
    std::fs::write(&wrapper, script).expect("write the wrapper");
    let mut perms = std::fs::metadata(&wrapper).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&wrapper, perms).expect("chmod");
    Colleague { wrapper, pushed }
}

impl Colleague {
    /// Returns the commit the colleague pushed; panics if the wrapper never pushed one.
    fn commit(&self) -> ObjectId {
        id(&std::fs::read_to_string(&self.pushed).expect("the colleague pushed"))
    }
}

/// Asserts that the colleague's commit is still the branch's tip on the server.
fn kept(w: &World, c: &Colleague, what: &str, out: &str) {
    assert_eq!(remote(&w.server, BRANCH), Some(c.commit()), "{what}: the colleague's push: {out}");
}

#[test]
fn a_colleagues_push_before_ours_survives_every_strategy() {
    // Regression: reset pushed `+SRC:refs/heads/B`, whose `+` disabled the lease.
    for (strategy, refuse) in
        [("megapatch", true), ("merge", true), ("recreate", true), ("reset", false)]
    {
        let w = world(refuse);
        let c = colleague(&w);
        let (code, out) = run(regraft(&w.clone)
            .env("REGRAFT_GIT", &c.wrapper)
            .args(replace_args(strategy))
            .args(["--execute", "--yes"]));
        assert_eq!(code, Some(2), "{strategy}: {out}");
        // Lines are wrapped to 80 columns: the words are what counts.
        let out = crate::flat(&out);
        assert!(out.contains("moved since the plan was made"), "{strategy}: {out}");
        assert!(!out.contains("All steps done"), "{strategy}: {out}");
        kept(&w, &c, strategy, &out);
    }
}

#[test]
fn a_colleagues_push_survives_a_backport_pushed_for_review() {
    let w = world(true);
    let c = colleague(&w);
    // A backport branch built on the old tip, as `git regraft backport` makes one.
    git(&w.clone, &["checkout", "-q", "-b", "backport", &w.old.to_hex()]);
    git(&w.clone, &["commit", "-q", "--allow-empty", "-m", "Backported fix"]);
    let (code, out) = run(regraft(&w.clone)
        .env("REGRAFT_GIT", &c.wrapper)
        .args(["replace", "stable/liberty", "--from", "backport", "--strategy", "backport"])
        .args(["--execute", "--yes"]));
    assert_ne!(code, Some(0), "the branch moved under the plan: {out}");
    kept(&w, &c, "backport", &out);
    // Regression: a push with nothing to verify was taken as already done and never sent.
    let backport = id(&git(&w.clone, &["rev-parse", "backport"]));
    assert_eq!(remote(&w.server, "refs/for/stable/liberty"), Some(backport), "{out}");
}

#[test]
fn a_colleagues_push_survives_eol_and_a_playbook() {
    let w = world(true);
    let c = colleague(&w);
    let (code, out) = run(regraft(&w.clone).env("REGRAFT_GIT", &c.wrapper).args([
        "eol",
        "stable/liberty",
        "--execute",
        "--yes",
    ]));
    assert_eq!(code, Some(2), "eol: {out}");
    kept(&w, &c, "eol", &out);

    let w = world(false);
    let c = colleague(&w);
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks/replace-stable-branch.toml");
    let (code, out) = run(regraft(&w.clone)
        .env("REGRAFT_GIT", &c.wrapper)
        .arg("run")
        .arg(&book)
        .args(["--var", "branch=stable/liberty", "--var", "source=origin/stable/mitaka"])
        .args(["--var", "strategy=reset", "--execute", "--yes"]));
    assert_eq!(code, Some(2), "playbook: {out}");
    kept(&w, &c, "playbook reset", &out);
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn abort_leaves_alone_what_this_operation_did_not_push() {
    // Regression: --abort leased against the value it had just read, and used `+`.
    let interrupted = |w: &World, strategy: &str, steps: &str| {
        let (code, out) = run(regraft(&w.clone)
            .env("REGRAFT_FAULT_AFTER_STEPS", steps)
            .args(replace_args(strategy))
            .args(["--execute", "--yes"]));
        assert_eq!(code, None, "killed: {out}");
    };

    // Interrupted after the tag's push (the branch untouched): nothing to put back.
    let w = world(true);
    interrupted(&w, "recreate", "3");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(0), "nothing of this operation's to undo: {out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old));

    // The same, but a developer lands a fix before the abort.
    let w = world(true);
    interrupted(&w, "recreate", "3");
    let fix = crate::replace::land_commit(&w, "developer", "A developer's fix");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("did not push"), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(fix), "the developer's fix stays: {out}");
    assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old));
    assert!(!w.clone.join(".git/regraft/journal.json").exists(), "the operation is dropped");

    // Operator A interrupted; operator B finishes a replacement from another clone.
    let w = world(true);
    interrupted(&w, "recreate", "3");
    let b = w.server.parent().expect("parent").join("operator-b");
    git(
        w.server.parent().expect("parent"),
        &["clone", "-q", &format!("file://{}", w.server.display()), b.to_str().expect("utf-8")],
    );
    let (code, out) = run(regraft(&b).args(replace_args("recreate")).args(["--execute", "--yes"]));
    assert_eq!(code, Some(0), "B's replacement: {out}");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(2), "A's abort: {out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.source), "B's finished work stays: {out}");

    // The operation pushed its merge and was killed; a colleague pushes on top just before
    // the abort's own push: the abort's lease refuses.
    let w = world(true);
    interrupted(&w, "merge", "5");
    let ours = remote(&w.server, BRANCH).expect("the merge was pushed");
    assert_ne!(ours, w.old);
    let c = colleague(&w);
    let (code, out) =
        run(regraft(&w.clone).env("REGRAFT_GIT", &c.wrapper).args(["replace", "--abort"]));
    assert_ne!(code, Some(0), "{out}");
    kept(&w, &c, "abort", &out);
    // Asked again, the abort sees a value it did not push and leaves it.
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(2), "{out}");
    kept(&w, &c, "second abort", &out);

    // With nobody in the way, the abort still undoes what the operation did.
    let w = world(true);
    interrupted(&w, "merge", "5");
    let (code, out) = run(regraft(&w.clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old));
}
