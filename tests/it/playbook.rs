//! Playbooks: the shipped ones load, run through the same plans and journal against real
//! remotes, and a malformed one is refused with file, line and column.

use std::path::{Path, PathBuf};

use regraft::ObjectId;
use tempfile::TempDir;

use crate::{git, id, regraft, run, small_scenario};

fn playbook(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks").join(name)
}

/// Serves the scenario from `name.git` in `root` and clones it as `name`.
fn served(root: &Path, sample: &Path, name: &str) -> (PathBuf, PathBuf) {
    let server = root.join(format!("{name}.git"));
    let clone = root.join(name);
    git(
        root,
        &[
            "clone",
            "-q",
            "--bare",
            sample.to_str().expect("utf-8"),
            server.to_str().expect("utf-8"),
        ],
    );
    git(&server, &["symbolic-ref", "HEAD", "refs/heads/master"]);
    git(&server, &["config", "receive.denyNonFastForwards", "true"]);
    git(
        root,
        &["clone", "-q", &format!("file://{}", server.display()), clone.to_str().expect("utf-8")],
    );
    (server, clone)
}

fn at(server: &Path, reference: &str) -> Option<ObjectId> {
    let out = crate::git_at(server, 0)
        .finished(&["rev-parse", "--verify", "-q", reference], b"")
        .expect("git");
    ObjectId::from_hex(String::from_utf8_lossy(&out.stdout).trim().as_bytes())
}

#[test]
fn end_of_maintenance_over_two_repositories() {
    let (tmp, s) = small_scenario();
    let root = tmp.path();
    let (server_a, _) = served(root, &s.dir, "a");
    let (server_b, _) = served(root, &s.dir, "b");
    let book = root.join("eom-both.toml");
    let text =
        std::fs::read_to_string(playbook("eom-to-unmaintained.toml")).expect("shipped playbook");
    std::fs::write(
        &book,
        format!("{text}\n[repositories]\npaths = [\"a\", \"b\"]\nparallel = 2\n"),
    )
    .expect("write");
    let tip = id(&git(&server_a, &["rev-parse", "refs/heads/stable/liberty"]));
    let before = git(&server_a, &["for-each-ref"]);
    let (code, out) =
        run(regraft(root).args(["run", book.to_str().expect("utf-8"), "--var", "series=liberty"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("dry run"), "{out}");
    assert_eq!(git(&server_a, &["for-each-ref"]), before, "a dry run changes nothing");
    let (code, out) = run(regraft(root).args([
        "run",
        book.to_str().expect("utf-8"),
        "--var",
        "series=liberty",
        "--execute",
        "--yes",
    ]));
    assert_eq!(code, Some(0), "{out}");
    for server in [&server_a, &server_b] {
        assert_eq!(at(server, "liberty-eom^{commit}"), Some(tip));
        assert_eq!(at(server, "refs/heads/unmaintained/liberty"), Some(tip));
        assert_eq!(at(server, "refs/heads/stable/liberty"), None);
    }
}

#[test]
fn shipped_playbooks_plan_against_a_served_sample() {
    let (tmp, s) = small_scenario();
    let (_, clone) = served(tmp.path(), &s.dir, "served");
    for (name, vars) in [
        (
            "replace-stable-branch.toml",
            vec!["branch=stable/liberty", "source=origin/stable/mitaka"],
        ),
        ("eol-branch.toml", vec!["series=liberty"]),
        ("eom-to-unmaintained.toml", vec!["series=liberty"]),
    ] {
        let mut cmd = regraft(&clone);
        cmd.args(["run", playbook(name).to_str().expect("utf-8")]);
        for v in vars {
            cmd.args(["--var", v]);
        }
        let (code, out) = run(&mut cmd);
        assert_eq!(code, Some(0), "{name}: {out}");
        assert!(out.contains("$ git push"), "{name}: {out}");
    }
    // The Kolla playbook names a commit this sample does not have: a clear error.
    let (code, out) =
        run(regraft(&clone)
            .args(["run", playbook("kolla-liberty-2016.toml").to_str().expect("utf-8")]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("f10a625a7210c39e7435b77e2cb4d89f14a6b96f"), "{out}");
}

/// Issue 26, item 13: `run --help` named files that exist only in the source tree. The
/// shipped playbooks are built in: by name they plan exactly as their files do, from a
/// directory with no such file; `--print` gives the file's text; an unknown name lists them.
#[test]
fn shipped_playbooks_run_by_name_without_the_source_tree() {
    let (tmp, s) = small_scenario();
    let (_, clone) = served(tmp.path(), &s.dir, "served");
    for (name, vars) in [
        ("replace-stable-branch", vec!["branch=stable/liberty", "source=origin/stable/mitaka"]),
        ("eol-branch", vec!["series=liberty"]),
        ("eom-to-unmaintained", vec!["series=liberty"]),
    ] {
        let plan_of = |book: &str| {
            let mut cmd = regraft(&clone);
            // The plan writes its megapatch and follow-up commits at plan time: with the
            // clock's date the two plans differed when the runs straddled a second.
            cmd.args(["run", book, "--json"])
                .env("GIT_COMMITTER_DATE", "1462060800 +0000")
                .env("GIT_AUTHOR_DATE", "1462060800 +0000");
            for v in &vars {
                cmd.args(["--var", v]);
            }
            let (code, json, err) = crate::run_apart(&mut cmd);
            assert_eq!(code, Some(0), "{book}: {err}");
            json
        };
        let file = playbook(&format!("{name}.toml"));
        assert!(!clone.join(name).exists());
        assert_eq!(plan_of(name), plan_of(file.to_str().expect("utf-8")), "{name}");
        let (code, printed, err) = crate::run_apart(regraft(&clone).args(["run", name, "--print"]));
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(printed, std::fs::read_to_string(&file).expect("the file"), "{name}");
    }
    let (code, out) = run(regraft(&clone).args(["run", "no-such-book"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(
        crate::flat(&out).contains("nor a built-in playbook (eol-branch, eom-to-unmaintained"),
        "{out}"
    );
}

#[test]
fn malformed_playbooks_name_file_line_and_column_and_change_nothing() {
    let tmp = TempDir::new().expect("temp dir");
    let cases = [
        (
            "name = \"x\"\ndescription = \"y\"\n[[steps]]\ndo = \"replace\"\nbranch = \"b\"\nfrom = \"s\"\nstrategy = \"rebase\"\n",
            ":3:1: unknown strategy `rebase`",
        ),
        ("name = \"x\"\ndescription = \"y\"\n[[steps]]\ndo = \"explode\"\n", ":4:6:"),
        (
            "name = \"x\"\ndescription = \"y\"\n[[steps]]\ndo = \"eol\"\nbranch = \"stable/{series}\"\n",
            ":3:1: `{series}` is not a variable",
        ),
        ("name = \"x\"\ndescription = [\n", ":2:16: unclosed array"),
    ];
    for (n, (text, expected)) in cases.iter().enumerate() {
        let path = tmp.path().join(format!("bad{n}.toml"));
        std::fs::write(&path, text).expect("write");
        let (code, out) = run(regraft(tmp.path()).args(["run", path.to_str().expect("utf-8")]));
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains(&format!("bad{n}.toml{expected}")), "case {n}: {out}");
    }
    let (code, out) = run(
        regraft(tmp.path()).args(["run", playbook("eol-branch.toml").to_str().expect("utf-8")])
    );
    assert_eq!(code, Some(2));
    // Lines are wrapped to 80 columns: the words are what counts.
    let out = crate::flat(&out);
    assert!(out.contains("variable `series` needs a value"), "{out}");
    let (code, out) = run(regraft(tmp.path()).args([
        "run",
        playbook("eol-branch.toml").to_str().expect("utf-8"),
        "--var",
        "serie=x",
    ]));
    assert_eq!(code, Some(2));
    assert!(out.contains("no such variable"), "{out}");
}

/// Writes a `REGRAFT_GIT` wrapper into `root` that kills regraft (its parent) at the `n`th
/// `git push` it is asked to run, counting across the whole run.
fn killing_at_push(root: &Path, n: usize) -> PathBuf {
    let wrapper = root.join(format!("git-kill-at-push-{n}"));
    let counter = root.join(format!("pushes-{n}"));
    let script = format!(
        "#!/bin/sh\nfor word in \"$@\"; do\n  if [ \"$word\" = push ]; then\n    echo x >> '{}'\n    if [ \"$(wc -l < '{}')\" -ge {n} ]; then kill -9 $PPID; sleep 1; exit 1; fi\n  fi\ndone\nexec git \"$@\"\n",
        counter.display(),
        counter.display()
    );
    std::fs::write(&wrapper, script).expect("write the wrapper");
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    wrapper
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "kills a debug build's run")]
fn status_in_every_repository_of_a_killed_run_names_the_run_and_each_part() {
    // Regression (issue 24): the repository a killed run never reached said "Nothing in
    // progress", and none named the run or the command that finishes it.
    let (tmp, s) = small_scenario();
    let root = tmp.path().join("run");
    std::fs::create_dir_all(&root).expect("mkdir");
    let servers: Vec<PathBuf> =
        ["a", "b", "c"].iter().map(|name| served(&root, &s.dir, name).0).collect();
    let book = root.join("merge-all.toml");
    std::fs::write(
        &book,
        "name = \"merge-all\"\ndescription = \"merge everywhere\"\n\n[repositories]\npaths = [\"a\", \"b\", \"c\"]\n\n[[steps]]\ndo = \"replace\"\nbranch = \"stable/liberty\"\nfrom = \"origin/stable/mitaka\"\nstrategy = \"merge\"\n",
    )
    .expect("write the playbook");
    let args = ["run", book.to_str().expect("utf-8"), "--execute", "--yes"];
    // a pushes twice and is done; b is killed at its first push; c is never reached.
    let (code, out) = run(regraft(&root).env("REGRAFT_GIT", killing_at_push(&root, 3)).args(args));
    assert_eq!(code, None, "killed: {out}");
    let book_abs = std::fs::canonicalize(&book).expect("canonical");
    let root_abs = std::fs::canonicalize(&root).expect("canonical");
    let expected_next =
        format!("cd {} && git regraft run {} --execute", root_abs.display(), book_abs.display());
    for name in ["a", "b", "c"] {
        let (code, out) = run(regraft(&root.join(name)).args(["status", "--json"]));
        assert_eq!(code, Some(0), "{name}: {out}");
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        let runs = &json["playbook_run"];
        assert_eq!(runs["playbook"], "merge-all", "{name}: {json}");
        assert_eq!(runs["file"], book_abs.to_str().expect("utf-8"), "{name}: {json}");
        let parts: Vec<(String, String)> = runs["repositories"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {json}"))
            .iter()
            .map(|p| {
                (
                    p["repository"].as_str().expect("name").to_string(),
                    p["state"].as_str().expect("state").to_string(),
                )
            })
            .collect();
        let want = [("a", "done"), ("b", "in-progress"), ("c", "not-started")]
            .map(|(r, st)| (r.to_string(), st.to_string()));
        assert_eq!(parts, want, "{name}: {json}");
        assert!(runs["repositories"][1]["step"].is_string(), "{name}: {json}");
        assert_eq!(json["next"], expected_next.as_str(), "{name}: {json}");
        let (code, out) = run(regraft(&root.join(name)).arg("status"));
        assert_eq!(code, Some(0), "{name}: {out}");
        assert!(!out.contains("Nothing in progress"), "{name}: {out}");
        // Lines are wrapped to 80 columns: the words are what counts.
        let out = crate::flat(&out);
        assert!(
            out.contains("playbook run not finished: merge-all")
                && out.contains("not-started c")
                && out.contains(&format!("next: {expected_next}")),
            "{name}: {out}"
        );
    }
    // What `next` says finishes it, and then nothing is in progress anywhere.
    let (code, out) = run(regraft(&root_abs).args(args));
    assert_eq!(code, Some(0), "{out}");
    for (name, server) in ["a", "b", "c"].iter().zip(&servers) {
        assert!(at(server, "refs/heads/stable/liberty").is_some());
        let (code, out) = run(regraft(&root.join(name)).arg("status"));
        assert_eq!(code, Some(0), "{name}: {out}");
        assert!(out.contains("Nothing in progress"), "{name}: {out}");
    }
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "kills a debug build's run")]
fn a_killed_run_over_three_repositories_is_finished_by_running_it_again() {
    // Regression (issue 24): in 12 of 25 kills some repositories were done and others
    // never started, and running the playbook again was refused ("no branch ...").
    let (tmp, s) = small_scenario();
    let old = id(&git(&s.dir, &["rev-parse", "stable/liberty"]));
    let source = id(&git(&s.dir, &["rev-parse", "stable/mitaka"]));
    // Each repository's merge pushes twice (the tag, the branch): six pushes in all.
    for kill_at in 1..=6 {
        let root = tmp.path().join(format!("run-{kill_at}"));
        std::fs::create_dir_all(&root).expect("mkdir");
        let servers: Vec<PathBuf> =
            ["a", "b", "c"].iter().map(|name| served(&root, &s.dir, name).0).collect();
        let book = root.join("merge-all.toml");
        std::fs::write(
            &book,
            "name = \"merge-all\"\ndescription = \"merge stable/mitaka into stable/liberty everywhere\"\n\n[repositories]\npaths = [\"a\", \"b\", \"c\"]\n\n[[steps]]\ndo = \"replace\"\nbranch = \"stable/liberty\"\nfrom = \"origin/stable/mitaka\"\nstrategy = \"merge\"\n",
        )
        .expect("write the playbook");
        let args = ["run", book.to_str().expect("utf-8"), "--execute", "--yes"];
        let (code, out) =
            run(regraft(&root).env("REGRAFT_GIT", killing_at_push(&root, kill_at)).args(args));
        assert_eq!(code, None, "killed at push {kill_at}: {out}");

        let (code, out) = run(regraft(&root).args(["run", book.to_str().expect("utf-8")]));
        assert_eq!(code, Some(0), "after the kill at push {kill_at}, a dry run: {out}");
        let (code, out) = run(regraft(&root).args(args));
        assert_eq!(code, Some(0), "after the kill at push {kill_at}: {out}");
        for server in &servers {
            let tip = at(server, "refs/heads/stable/liberty").expect("the branch");
            let parents = git(server, &["rev-list", "--parents", "-n1", &tip.to_hex()]);
            assert_eq!(
                parents,
                format!("{tip} {old} {source}"),
                "kill at push {kill_at}: {} holds one merge of both tips",
                server.display()
            );
            assert_eq!(at(server, "liberty-early-demise^{commit}"), Some(old));
        }
        for name in ["a", "b", "c"] {
            let state = root.join(name).join(".git/regraft");
            assert!(!state.join("playbook-run.json").exists(), "{name}: the run is over");
            assert!(!state.join("journal.json").exists(), "{name}: nothing in progress");
        }
    }
}

#[test]
fn a_long_playbook_asks_the_remote_once_while_planning() {
    // Regression (issue 24): a dry run of a 60,000-step playbook took 4 minutes, one
    // `git ls-remote` a step; planning now lists each remote's branches and tags once.
    let (tmp, s) = small_scenario();
    let (_, clone) = served(tmp.path(), &s.dir, "served");
    let book = tmp.path().join("many.toml");
    let mut text = String::from("name = \"many\"\ndescription = \"many tags\"\n");
    for n in 0..200 {
        text.push_str(&format!(
            "\n[[steps]]\ndo = \"tag-tip\"\nbranch = \"stable/liberty\"\ntag = \"t{n}\"\n"
        ));
    }
    std::fs::write(&book, text).expect("write the playbook");
    let out = regraft(&clone)
        .env("REGRAFT_TRACE", "1")
        .args(["run", book.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let trace = String::from_utf8_lossy(&out.stderr);
    let asks = trace.lines().filter(|l| l.contains(" ls-remote ")).count();
    assert!(asks <= 2, "one listing to plan, one to show how each step stands: {asks}");
    let plan = String::from_utf8_lossy(&out.stdout);
    assert_eq!(plan.matches("push tag t").count(), 200, "every step planned");
    assert!(plan.contains("push tag t199 to origin"), "{plan}");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn aborting_an_end_of_maintenance_deletes_the_unmaintained_branch_it_created() {
    // Regression (issue 24): --abort put stable/<series> back and left, unmentioned, the
    // unmaintained/<series> branch the run had created.
    let (tmp, s) = small_scenario();
    let (server, clone) = served(tmp.path(), &s.dir, "served");
    let tip = id(&git(&server, &["rev-parse", "refs/heads/stable/liberty"]));
    let book = playbook("eom-to-unmaintained.toml");
    let args = ["run", book.to_str().expect("utf-8"), "--var", "series=liberty"];
    // Up to and including the create of unmaintained/liberty, before the delete.
    let mut killed = None;
    for steps in 1..=6 {
        let (code, out) = run(regraft(&clone)
            .args(args)
            .args(["--execute", "--yes"])
            .env("REGRAFT_FAULT_AFTER_STEPS", steps.to_string()));
        if at(&server, "refs/heads/unmaintained/liberty").is_some()
            && at(&server, "refs/heads/stable/liberty").is_some()
        {
            assert_ne!(code, Some(0), "{out}");
            killed = Some(steps);
            break;
        }
        // Not there yet: undo and try one step further.
        let (code, out) = run(regraft(&clone).args(["replace", "--abort"]));
        assert_eq!(code, Some(0), "{out}");
    }
    assert!(killed.is_some(), "a kill left the created branch and the old one");
    let (code, out) = run(regraft(&clone).args(["replace", "--abort"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("unmaintained/liberty"), "names it: {out}");
    assert_eq!(at(&server, "refs/heads/unmaintained/liberty"), None, "{out}");
    assert_eq!(at(&server, "refs/heads/stable/liberty"), Some(tip));
}
