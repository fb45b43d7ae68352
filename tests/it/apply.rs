//! Real backports run by the executable: the branch they build, conflicts left in the work
//! tree, `--continue`/`--skip`/`--abort`, squashed stages, and runs killed part-way.

use std::path::Path;

use assert_cmd::Command;
use regraft::ObjectId;
use regraft::scenario::{SOURCE, TARGET};
use regraft::text::message;

use crate::{git, id, regraft, small_scenario};

fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out = cmd.output().expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn dry_run_tree(dir: &Path, extra: &[&str]) -> ObjectId {
    let mut args = vec!["backport", "--dry-run", "--json", TARGET, SOURCE];
    args.extend_from_slice(extra);
    let (code, out, err) = run(regraft(dir).args(&args));
    assert_eq!(code, Some(0), "{err}");
    let plan: regraft::analysis::backport::BackportPlan = serde_json::from_str(&out).expect("JSON");
    plan.final_tree
}

fn rev(dir: &Path, spec: &str) -> ObjectId {
    id(&git(dir, &["rev-parse", spec]))
}

#[test]
fn a_clean_backport_builds_the_predicted_branch_and_keeps_authors() {
    let (_tmp, s) = small_scenario();
    let fix = s.fix.to_hex();
    let predicted = dry_run_tree(&s.dir, &["--for", &fix]);
    let target_before = rev(&s.dir, TARGET);
    let (code, out, err) =
        run(regraft(&s.dir).args(["backport", TARGET, SOURCE, "--for", &fix, "--branch", "fix"]));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(&format!("    1  {}", rev(&s.dir, "fix").short())),
        "one stage, ending at the tip: {out}"
    );
    assert_eq!(rev(&s.dir, TARGET), target_before, "TARGET never moves");
    assert_eq!(rev(&s.dir, "fix^{tree}"), predicted, "the branch ends at the predicted tree");
    let commits: Vec<ObjectId> = git(&s.dir, &["rev-list", "--reverse", &format!("{TARGET}..fix")])
        .lines()
        .map(id)
        .collect();
    assert!(commits.len() > 2);
    for commit in &commits {
        let body = git(&s.dir, &["log", "-1", "--format=%B", &commit.to_hex()]);
        let originals = message::cherry_picked_from(body.as_bytes());
        assert_eq!(originals.len(), 1, "{body}");
        let original = &originals[0];
        let format = "--format=%an|%ae|%ad|%s";
        assert_eq!(
            git(&s.dir, &["log", "-1", format, &commit.to_hex()]),
            git(&s.dir, &["log", "-1", format, original]),
            "author and subject kept"
        );
        let last = body.trim_end().lines().last().unwrap_or_default();
        let ids =
            message::change_ids(git(&s.dir, &["log", "-1", "--format=%B", original]).as_bytes());
        assert_eq!(message::change_ids(body.as_bytes()), ids, "Change-Ids kept in the footer");
        if !ids.is_empty() {
            let pick = format!("(cherry picked from commit {original})");
            assert_eq!(last, pick, "the pick line ends the footer, as git's -x: {body}");
        }
        assert_eq!(git(&s.dir, &["log", "-1", "--format=%cn", &commit.to_hex()]), "Rel Manager");
    }
    assert!(!s.dir.join(".git/regraft/backport.json").exists(), "no state left");
    assert_eq!(
        git(&s.dir, &["symbolic-ref", "--short", "HEAD"]),
        TARGET,
        "HEAD not moved without a conflict"
    );
}

#[test]
fn conflicts_stop_in_the_work_tree_and_continue_skip_abort_work() {
    let (_tmp, s) = small_scenario();
    let d = &s.dir;
    let (code, out, _) = run(regraft(d).args(["backport", TARGET, SOURCE, "--branch", "all"]));
    assert_eq!(code, Some(3), "a conflict stops the run (a finding): {out}");
    assert!(out.contains("git regraft backport --continue"), "{out}");
    assert_eq!(git(d, &["symbolic-ref", "--short", "HEAD"]), "all");
    assert!(d.join(".git/CHERRY_PICK_HEAD").exists(), "the conflict is git's own");
    assert!(!git(d, &["diff", "--name-only", "--diff-filter=U"]).is_empty());

    let (code, _, err) = run(regraft(d).args(["backport", TARGET, SOURCE, "--branch", "other"]));
    assert_eq!(code, Some(2), "a second backport is refused");
    assert!(err.contains("already in progress"), "{err}");
    assert!(git(d, &["branch", "--list", "other"]).is_empty());

    let (code, _, err) = run(regraft(d).args(["backport", "--continue"]));
    assert_eq!(code, Some(2), "unresolved files are named: {err}");
    assert!(err.contains("unresolved conflicts"), "{err}");

    let (code, _, _) = run(regraft(d).args(["backport", "--skip"]));
    assert_eq!(code, Some(3), "the next conflict");
    let unresolved = git(d, &["diff", "--name-only", "--diff-filter=U"]);
    for path in unresolved.lines() {
        git(d, &["checkout", "--theirs", "--", path]);
        git(d, &["add", path]);
    }
    let conflicted = git(d, &["rev-parse", "CHERRY_PICK_HEAD"]);
    let (code, out, err) = run(regraft(d).args(["backport", "--continue"]));
    assert!(code == Some(0) || code == Some(3), "{out}{err}");
    let resolved = git(d, &["log", "--format=%H %B", "all"]);
    assert!(
        resolved.contains(&format!("(cherry picked from commit {conflicted})")),
        "the resolution is committed"
    );

    let (code, out, err) = run(regraft(d).args(["backport", "--abort"]));
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(git(d, &["symbolic-ref", "--short", "HEAD"]), TARGET);
    assert!(git(d, &["branch", "--list", "all"]).is_empty(), "branch deleted");
    assert!(git(d, &["status", "--porcelain"]).is_empty(), "clean work tree");
    assert!(!d.join(".git/CHERRY_PICK_HEAD").exists());
    assert!(!d.join(".git/regraft/backport.json").exists());
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn a_killed_run_continues_to_the_same_branch_or_aborts() {
    let (_tmp, s) = small_scenario();
    let fix = s.fix.to_hex();
    let predicted = dry_run_tree(&s.dir, &["--for", &fix]);
    let args = ["backport", TARGET, SOURCE, "--for", fix.as_str(), "--branch", "fix"];
    for after in [1, 3] {
        let (code, _, _) =
            run(regraft(&s.dir).env("REGRAFT_FAULT_AFTER_PICKS", after.to_string()).args(args));
        assert_eq!(code, None, "killed by a signal");
        let made = git(&s.dir, &["rev-list", "--count", &format!("{TARGET}..fix")]);
        assert_eq!(made, after.to_string());
        if after == 1 {
            let (code, out, err) = run(regraft(&s.dir).args(["backport", "--abort"]));
            assert_eq!(code, Some(0), "{out}{err}");
            assert!(git(&s.dir, &["branch", "--list", "fix"]).is_empty());
        } else {
            let (code, out, err) = run(regraft(&s.dir).args(["backport", "--continue"]));
            assert_eq!(code, Some(0), "{out}{err}");
            assert_eq!(rev(&s.dir, "fix^{tree}"), predicted);
            let picks = git(&s.dir, &["log", "--format=%B", &format!("{TARGET}..fix")]);
            let mut named = message::cherry_picked_from(picks.as_bytes());
            let n = named.len();
            named.sort();
            named.dedup();
            assert_eq!(named.len(), n, "no pick made twice");
        }
    }
}

#[test]
fn squashed_stages_and_bad_input() {
    let (_tmp, s) = small_scenario();
    let fix = s.fix.to_hex();
    let predicted = dry_run_tree(&s.dir, &["--for", &fix]);
    let (code, out, err) = run(regraft(&s.dir).args([
        "backport",
        TARGET,
        SOURCE,
        "--for",
        &fix,
        "--branch",
        "squashed",
        "--squash-stages",
        "--stage-size",
        "3",
    ]));
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(rev(&s.dir, "squashed^{tree}"), predicted);
    let closure = git(&s.dir, &["rev-list", "--count", &format!("{TARGET}..{}", "squashed")]);
    let picks = serde_json::from_str::<regraft::analysis::backport::BackportPlan>(
        &run(regraft(&s.dir).args([
            "backport",
            "--dry-run",
            "--json",
            TARGET,
            SOURCE,
            "--for",
            &fix,
        ]))
        .1,
    )
    .expect("JSON")
    .steps
    .len();
    assert_eq!(closure.parse::<usize>().expect("count"), picks.div_ceil(3), "one commit per stage");
    let all = git(&s.dir, &["log", "--format=%B", &format!("{TARGET}..squashed")]);
    assert_eq!(message::cherry_picked_from(all.as_bytes()).len(), picks, "every pick listed");
    assert!(all.contains("Backport stage 1 to stable/liberty from stable/mitaka"), "{all}");
    // The scenario's picks carry Change-Ids (reviewed on Gerrit): each stage is a new
    // change with its own, which git reads as the message's trailer.
    for stage in git(&s.dir, &["rev-list", &format!("{TARGET}..squashed")]).lines() {
        let trailers =
            git(&s.dir, &["log", "-1", "--format=%(trailers:key=Change-Id,valueonly)", stage]);
        let ids: Vec<&str> = trailers.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(ids.len(), 1, "{stage}: {trailers}");
        assert!(ids[0].starts_with('I') && ids[0].len() == 41, "{ids:?}");
        let picked = git(
            &s.dir,
            &[
                "log",
                "--format=%(trailers:key=Change-Id,valueonly)",
                &format!("{TARGET}..{SOURCE}"),
            ],
        );
        assert!(!picked.contains(ids[0]), "a new change, not a pick's: {}", ids[0]);
    }

    std::fs::write(s.dir.join("README.rst"), "local edit\n").expect("write");
    git(&s.dir, &["add", "README.rst"]);
    let (code, _, err) =
        run(regraft(&s.dir).args(["backport", TARGET, SOURCE, "--branch", "dirty"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("uncommitted changes"), "{err}");
    assert!(git(&s.dir, &["branch", "--list", "dirty"]).is_empty(), "nothing changed");
    git(&s.dir, &["reset", "-q", "--hard"]);
    let (code, _, err) =
        run(regraft(&s.dir).args(["backport", TARGET, SOURCE, "--branch", "squashed"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run(regraft(&s.dir).args(["backport", "--continue"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("no backport is in progress"), "{err}");
}

#[test]
fn a_bare_repository_reports_the_conflict_and_aborts() {
    let (tmp, s) = small_scenario();
    let bare = tmp.path().join("bare.git");
    git(
        tmp.path(),
        &["clone", "-q", "--bare", s.dir.to_str().expect("utf-8"), bare.to_str().expect("utf-8")],
    );
    let (code, out, _) = run(regraft(&bare).args(["backport", TARGET, SOURCE, "--branch", "all"]));
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("no work tree"), "{out}");
    assert!(!git(&bare, &["branch", "--list", "all"]).is_empty());
    let (code, _, err) = run(regraft(&bare).args(["backport", "--abort"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(git(&bare, &["branch", "--list", "all"]).is_empty());
}

/// Returns what `git commit-tree` writes for `commit`'s own tree, parent, author, committer,
/// encoding and message: the oracle for commits regraft writes itself.
fn as_git_writes_it(dir: &Path, commit: ObjectId) -> ObjectId {
    let raw =
        crate::Fixture::open(dir).git_with_input(&["cat-file", "commit", &commit.to_hex()], None);
    let split = raw.windows(2).position(|w| w == b"\n\n").expect("headers, then the message");
    let (headers, message) =
        (String::from_utf8_lossy(&raw[..split]).into_owned(), &raw[split + 2..]);
    let field = |name: &str| {
        headers.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).map(str::to_string)
    };
    let person = |line: String| {
        let (name, rest) = line.split_once(" <").expect("name <email> date");
        let (email, date) = rest.split_once("> ").expect("email> date");
        (name.to_string(), email.to_string(), date.to_string())
    };
    let (an, ae, ad) = person(field("author").expect("an author"));
    let (cn, ce, cd) = person(field("committer").expect("a committer"));
    let encoding = field("encoding").map(|e| format!("i18n.commitEncoding={e}"));
    let mut args: Vec<&str> = Vec::new();
    if let Some(encoding) = &encoding {
        args.extend(["-c", encoding]);
    }
    let tree = field("tree").expect("a tree");
    let parent = field("parent").expect("a parent");
    args.extend(["commit-tree", &tree, "-p", &parent, "-F", "-"]);
    let env: [(&str, &std::ffi::OsStr); 6] = [
        ("GIT_AUTHOR_NAME", an.as_ref()),
        ("GIT_AUTHOR_EMAIL", ae.as_ref()),
        ("GIT_AUTHOR_DATE", ad.as_ref()),
        ("GIT_COMMITTER_NAME", cn.as_ref()),
        ("GIT_COMMITTER_EMAIL", ce.as_ref()),
        ("GIT_COMMITTER_DATE", cd.as_ref()),
    ];
    crate::git_at(dir, 0).output_id(&args, &env, message).expect("git commit-tree writes it")
}

#[test]
fn the_commits_a_run_writes_are_the_ones_git_commit_tree_writes() {
    // The run writes its commits through libgit2 (no process per pick): each must be the
    // very object git commit-tree makes from the same parts, encodings included.
    let (_tmp, s) = small_scenario();
    let (mut code, out, err) =
        run(regraft(&s.dir).args(["backport", TARGET, SOURCE, "--branch", "all"]));
    // Every conflict skipped, so the run goes through the whole delta (bounded).
    for _ in 0..200 {
        if code != Some(3) {
            break;
        }
        code = run(regraft(&s.dir).args(["backport", "--skip"])).0;
    }
    assert_eq!(code, Some(0), "{out}{err}");
    let commits: Vec<ObjectId> =
        git(&s.dir, &["rev-list", &format!("{TARGET}..all")]).lines().map(id).collect();
    assert!(commits.len() > 5, "{out}");
    for commit in &commits {
        assert_eq!(as_git_writes_it(&s.dir, *commit), *commit, "{commit}");
    }

    // A Latin-1 commit keeps its encoding header, as git writes it.
    let tmp = tempfile::TempDir::new().expect("temp dir");
    let f = crate::Fixture::init(tmp.path());
    f.commit_file("a.txt", "a\n", "Base");
    f.branch("stable", "main");
    f.git(&["config", "i18n.commitEncoding", "ISO-8859-1"]);
    f.write("b.txt", "b\n");
    f.commit_bytes(b"Corrige la journalisation fran\xe7aise\n");
    f.git(&["config", "--unset", "i18n.commitEncoding"]);
    let (code, out, err) =
        run(regraft(f.path()).args(["backport", "stable", "main", "--branch", "bp"]));
    assert_eq!(code, Some(0), "{out}{err}");
    let picked = rev(f.path(), "bp");
    let raw = f.git_with_input(&["cat-file", "commit", &picked.to_hex()], None);
    assert!(String::from_utf8_lossy(&raw).contains("\nencoding ISO-8859-1\n"), "{raw:?}");
    assert_eq!(as_git_writes_it(f.path(), picked), picked);
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn killed_at_every_pick_a_backport_continues_or_aborts_and_loses_nothing() {
    // Issue 24 (item 11): the kill tests stopped a backport at two picks only.
    let (_tmp, s) = small_scenario();
    let fix = s.fix.to_hex();
    let predicted = dry_run_tree(&s.dir, &["--for", &fix]);
    let args = ["backport", TARGET, SOURCE, "--for", fix.as_str(), "--branch", "fix"];
    let target = rev(&s.dir, TARGET);
    let (code, out, err) = run(regraft(&s.dir).args(args));
    assert_eq!(code, Some(0), "{out}{err}");
    let picks: usize =
        git(&s.dir, &["rev-list", "--count", &format!("{TARGET}..fix")]).parse().expect("count");
    git(&s.dir, &["checkout", "-q", TARGET]);
    git(&s.dir, &["branch", "-q", "-D", "fix"]);
    assert!(picks >= 2, "{picks} picks");
    // Bounded: at most 8 kill points.
    for after in (1..picks).take(8) {
        for finish in ["--continue", "--abort"] {
            let (code, _, _) =
                run(regraft(&s.dir).env("REGRAFT_FAULT_AFTER_PICKS", after.to_string()).args(args));
            assert_eq!(code, None, "killed after pick {after}");
            let made = git(&s.dir, &["rev-list", "--count", &format!("{TARGET}..fix")]);
            assert_eq!(made, after.to_string(), "after pick {after}");
            let (code, out, err) = run(regraft(&s.dir).args(["backport", finish]));
            assert_eq!(code, Some(0), "{finish} after pick {after}: {out}{err}");
            assert_eq!(rev(&s.dir, TARGET), target, "{finish} after pick {after}: target kept");
            assert!(!s.dir.join(".git/regraft/backport.json").exists(), "{finish} {after}");
            assert!(git(&s.dir, &["status", "--porcelain"]).is_empty(), "{finish} {after}");
            if finish == "--continue" {
                assert_eq!(rev(&s.dir, "fix^{tree}"), predicted, "after pick {after}");
                let text = git(&s.dir, &["log", "--format=%B", &format!("{TARGET}..fix")]);
                let mut named = message::cherry_picked_from(text.as_bytes());
                let n = named.len();
                named.sort();
                named.dedup();
                assert_eq!((named.len(), n), (picks, picks), "each pick once, after {after}");
                git(&s.dir, &["checkout", "-q", TARGET]);
                git(&s.dir, &["branch", "-q", "-D", "fix"]);
            } else {
                assert!(git(&s.dir, &["branch", "--list", "fix"]).is_empty(), "after {after}");
            }
        }
    }
}
