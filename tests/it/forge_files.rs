//! Protection read first for the plans that come from files (issue 27): a playbook run and
//! a saved plan (`--plan FILE`) read the forge's branch rules before the first step, as
//! `replace` and `eol` do, and a rule that refuses a step refuses the plan (exit 3, the
//! same message) with nothing changed. The forges are the stand-ins of `github/` and
//! `gitlab/` (written from their REST documentation); the served bare repository's refs,
//! as `git for-each-ref` lists them, are the oracle.

use std::path::{Path, PathBuf};

use crate::{flat, regraft, run};

/// Every ref of the served repository, as git lists them.
fn refs(bare: &Path) -> String {
    let out = regraft::git::Git::new(bare)
        .isolated()
        .output(&["for-each-ref", "--format=%(refname) %(objectname)"])
        .expect("for-each-ref");
    String::from_utf8_lossy(&out).into_owned()
}

/// Points `origin` of `work` at `bare` through a path whose last part reads as
/// `host:openstack/kolla.git`, so that the repository's name is read from the remote's
/// URL as it is for a clone of a real forge (git takes a path with a slash before its
/// colon as a local path); the forge is the stand-in at `host` (git config
/// regraft.reviewHost, named by the user).
fn served_as_kolla(work: &regraft_testkit::Fixture, bare: &Path, host: &str, url: &str) {
    let dir = bare.parent().expect("a parent").join("forge:openstack");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let link = dir.join("kolla.git");
    std::os::unix::fs::symlink(bare, &link).expect("symlink");
    let path = link.display().to_string();
    if work.git(&["remote"]).lines().any(|r| r == "origin") {
        work.git(&["remote", "set-url", "origin", &path]);
    } else {
        work.git(&["remote", "add", "origin", &path]);
    }
    work.git(&["fetch", "-q", "origin"]);
    work.git(&["config", &format!("regraft.{url}.allowHttp"), "true"]);
    work.git(&["config", "regraft.reviewHost", &format!("{host}:{url}")]);
}

/// Writes a playbook recreating stable/liberty from `from` in the repository `repo`.
fn playbook(repo: &Path, from: &str) -> PathBuf {
    let book = repo.parent().expect("parent").join("recreate.toml");
    std::fs::write(
        &book,
        format!(
            "name = \"recreate\"\ndescription = \"recreate stable/liberty\"\n\n[repositories]\npaths = [\"{}\"]\n\n[[steps]]\ndo = \"replace\"\nbranch = \"stable/liberty\"\nfrom = \"{from}\"\nstrategy = \"recreate\"\n",
            repo.display()
        ),
    )
    .expect("write the playbook");
    book
}

/// Runs regraft in `work` with `args` and the forge's token in `var`.
fn with_token(work: &Path, args: &[&str], var: &str, token: &str) -> (Option<i32>, String) {
    let (code, out) = run(regraft(work).args(args).env(var, token));
    (code, flat(&out))
}

/// Asserts that `out` is the planning refusal of a delete of stable/liberty.
fn refused(code: Option<i32>, out: &str) {
    assert_eq!(code, Some(3), "a finding, as a Gerrit's denied right: {out}");
    assert!(out.contains("would refuse this plan; nothing was changed"), "{out}");
    assert!(out.contains("deletes stable/liberty"), "{out}");
    assert!(out.contains("merge or megapatch"), "the hint: {out}");
}

#[test]
fn a_playbook_on_github_is_refused_at_planning_by_the_branch_s_protection() {
    use crate::github::{Rules, TOKEN, world};
    let w = world(1);
    served_as_kolla(&w.work, &w.bare, "github", w.server.url());
    let book = playbook(w.work.path(), "origin/stable/mitaka");
    w.server.protect("stable/liberty", Rules::default());
    let before = refs(&w.bare);
    let run_book = |more: &[&str]| {
        let args = [&["run", book.to_str().expect("utf-8")][..], more].concat();
        with_token(w.work.path(), &args, "GH_TOKEN", TOKEN)
    };
    for more in [&[][..], &["--execute", "--yes"]] {
        let (code, out) = run_book(more);
        refused(code, &out);
        assert!(out.contains("step 1-delete"), "the step as the plan names it: {out}");
        assert_eq!(refs(&w.bare), before, "{out}");
    }
    assert!(!w.work.path().join(".git/regraft/journal.json").exists());
    // Unprotected, the same playbook runs: the read is what refused it.
    w.server.protect("stable/liberty", Rules { allow_deletions: true, ..Rules::default() });
    let (code, out) = run_book(&["--execute", "--yes"]);
    assert_eq!(code, Some(0), "{out}");
    assert_ne!(refs(&w.bare), before, "{out}");
}

#[test]
fn a_saved_plan_on_github_is_refused_when_the_branch_was_protected_since() {
    use crate::github::{Rules, TOKEN, world};
    let w = world(1);
    served_as_kolla(&w.work, &w.bare, "github", w.server.url());
    let file = w.work.path().join("liberty.json");
    let args =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "recreate"];
    let plan_out = [&args[..], &["--plan-out", file.to_str().expect("utf-8")]].concat();
    let (code, out) = with_token(w.work.path(), &plan_out, "GH_TOKEN", TOKEN);
    assert_eq!(code, Some(0), "unprotected when it was written: {out}");
    w.server.protect("stable/liberty", Rules::default());
    let before = refs(&w.bare);
    for more in [&[][..], &["--execute", "--yes"]] {
        let saved = [&["replace", "--plan", file.to_str().expect("utf-8")][..], more].concat();
        let (code, out) = with_token(w.work.path(), &saved, "GH_TOKEN", TOKEN);
        refused(code, &out);
        assert_eq!(refs(&w.bare), before, "{out}");
    }
    assert!(!w.work.path().join(".git/regraft/journal.json").exists());
}

#[test]
fn a_playbook_and_a_saved_plan_on_gitlab_are_refused_by_a_protected_branch() {
    use crate::gitlab::{Rule, TOKEN, World};
    let w = World::new(1);
    served_as_kolla(&w.work, &w.bare, "gitlab", w.server.url());
    let file = w.work.path().join("liberty.json");
    let args = ["replace", "stable/liberty", "--from", "origin/main", "--strategy", "recreate"];
    let plan_out = [&args[..], &["--plan-out", file.to_str().expect("utf-8")]].concat();
    let (code, out) = with_token(w.work.path(), &plan_out, "GITLAB_TOKEN", TOKEN);
    assert_eq!(code, Some(0), "unprotected when it was written: {out}");
    w.server.protect(Rule::new("stable/*"));
    let before = refs(&w.bare);
    let book = playbook(w.work.path(), "origin/main");
    for more in [&[][..], &["--execute", "--yes"]] {
        let saved = [&["replace", "--plan", file.to_str().expect("utf-8")][..], more].concat();
        let (code, out) = with_token(w.work.path(), &saved, "GITLAB_TOKEN", TOKEN);
        refused(code, &out);
        assert!(out.contains("stable/*"), "the rule is named: {out}");
        let run_book = [&["run", book.to_str().expect("utf-8")][..], more].concat();
        let (code, out) = with_token(w.work.path(), &run_book, "GITLAB_TOKEN", TOKEN);
        refused(code, &out);
        assert_eq!(refs(&w.bare), before, "{out}");
    }
    assert!(!w.work.path().join(".git/regraft/journal.json").exists());
}
