//! The `git-regraft` executable end to end: exit codes, where output goes, and help.

use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use regraft::analysis::delta::Delta;
use regraft::scenario::{SOURCE, TARGET};
use regraft_testkit::Fixture;
use tempfile::TempDir;

use crate::{git, regraft, small_scenario};

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn json_is_the_engine_delta_and_summary_counts_agree_with_it() {
    let (_tmp, s) = small_scenario();
    let json = stdout_of(regraft(&s.dir).args(["delta", "--json", TARGET, SOURCE]));
    let parsed: Delta = serde_json::from_str(&json).expect("valid JSON in the documented schema");
    let engine =
        regraft::analysis::delta::delta(&crate::open(&s.dir), TARGET, SOURCE, &Default::default())
            .expect("delta");
    assert_eq!(parsed, engine);
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let entry = &value["source_only"][0];
    for field in [
        "commit",
        "summary",
        "merge",
        "patch_id",
        "change_ids",
        "cherry_picked_from",
        "equivalents",
    ] {
        assert!(entry.get(field).is_some(), "Entry has {field}");
    }
    let text = stdout_of(regraft(&s.dir).args(["delta", TARGET, SOURCE]));
    let sm = engine.summary();
    assert!(
        text.contains(&format!("({} changes, {} merges)", sm.source_changes, sm.source_merges)),
        "{text}"
    );
    assert!(text.contains(&format!("left to bring: {:>6}\n", sm.to_bring)), "{text}");
    let verbose = stdout_of(regraft(&s.dir).args(["delta", "-v", TARGET, SOURCE]));
    let listed = verbose
        .lines()
        .filter(|l| ["  + ", "  = ", "  ~ ", "  M "].iter().any(|mark| l.starts_with(mark)))
        .count();
    assert_eq!(listed, engine.source_only.len() + engine.target_only.len());
}

#[test]
fn tiny_delta_reads_as_expected() {
    // Checked by hand: one change to bring, one backported by -x (trailer and patch-id).
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    f.commit_file("a", "1\n2\n3\n", "Base");
    f.branch("stable", "main");
    f.commit_file("a", "1\ntwo\n3\n", "Fix two");
    let fix = f.rev("HEAD");
    f.commit_file("b", "new\n", "Add b");
    f.checkout("stable");
    f.cherry_pick_x(&fix.to_hex());
    let out = stdout_of(regraft(tmp.path()).args(["delta", "stable", "main"]));
    // The fixture's ids are fixed by its clock; the snapshot's must be git's.
    for (spec, what) in
        [("stable", "delta stable ("), ("main", "from main ("), ("main~2", "merge base: ")]
    {
        assert!(out.contains(&format!("{what}{}", f.rev(spec).short())), "{spec}: {out}");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn bad_input_exits_2_and_names_the_thing() {
    let (_tmp, s) = small_scenario();
    let out = regraft(&s.dir).args(["delta", "stable/libertyy", SOURCE]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: unknown revision `stable/libertyy` (did you mean `stable/liberty`?)"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");

    let elsewhere = TempDir::new().expect("temp dir");
    let out = regraft(elsewhere.path()).args(["delta", "a", "b"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not in a git repository"), "{err}");
    // Regression: libgit2's own words came along ("class=Repository (6); code=NotFound (-3)").
    assert!(!err.contains("class=") && !err.contains("code="), "{err}");

    // Regression: a SHA-256 repository was "not in a git repository".
    let sha256 = elsewhere.path().join("sha256");
    git(
        elsewhere.path(),
        &["init", "-q", "--object-format=sha256", sha256.to_str().expect("utf-8")],
    );
    let out = regraft(&sha256).args(["delta", "a", "b"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is a SHA-256 repository") && err.contains("SHA-1"), "{err}");

    let out = regraft(&s.dir).args(["delta", TARGET]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2), "usage error");
}

#[test]
fn nothing_between_the_same_commit_is_success() {
    let (_tmp, s) = small_scenario();
    let out = stdout_of(regraft(&s.dir).args(["delta", TARGET, "liberty-last"]));
    assert!(out.contains("are the same commit"), "{out}");
    // Lines are wrapped to 80 columns: the words are what counts.
    let out = crate::flat(&out);
    assert!(out.contains("nothing separates them"), "{out}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let (_tmp, s) = small_scenario();
    for format in ["--verbose", "--json"] {
        closed_pipe(&s.dir, format);
    }
}

fn closed_pipe(dir: &Path, format: &str) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("git-regraft"))
        .current_dir(dir)
        .args(["delta", format, TARGET, SOURCE])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("finishes");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn trace_shows_every_git_argv_on_stderr_only() {
    let (_tmp, s) = small_scenario();
    let out = regraft(&s.dir)
        .env("REGRAFT_TRACE", "1")
        .args(["delta", "--json", TARGET, SOURCE])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().any(|l| l.starts_with("regraft: + git --git-dir ") && l.contains(" log ")),
        "{err}"
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("stdout stays pure JSON");
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in
        ["backport", "compare", "delta", "deps", "demo", "eol", "replace", "completions", "man"]
    {
        let out = stdout_of(regraft(Path::new(".")).args([command, "--help"]));
        assert!(out.contains("Example"), "{command} --help has an example:\n{out}");
    }
    let check = stdout_of(regraft(Path::new(".")).args(["policy", "check", "--help"]));
    assert!(check.contains("Example"), "{check}");
    let top = stdout_of(regraft(Path::new(".")).arg("--help"));
    assert!(top.contains("git regraft demo"), "{top}");
}

#[test]
fn demo_builds_its_sample_and_shows_delta() {
    let tmp = TempDir::new().expect("temp dir");
    let dir = tmp.path().join("tour");
    let out = regraft(tmp.path())
        .args(["demo", "--dir"])
        .arg(&dir)
        .write_stdin("")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("$ git regraft delta {TARGET} {SOURCE}")), "{text}");
    assert!(text.contains("left to bring"), "{text}");
    for step in
        ["$ git regraft deps ", "$ git regraft backport --dry-run ", "$ git regraft compare "]
    {
        assert!(text.contains(step), "the tour shows {step}: {text}");
    }
    assert!(dir.join(".git").is_dir());
    // The GitHub part: the plan keeps the pull requests on a hold branch, each call shown
    // as GitHub's "List pull requests" and "Update a pull request" take it.
    for shown in [
        "--review-host github --project example/sample",
        "GET https://api.github.com/repos/example/sample/pulls?state=open&base=stable%2Fliberty",
        "PATCH https://api.github.com/repos/example/sample/pulls/{number}",
        r#"{"base":"regraft-hold/stable/liberty"}"#,
        r#"{"base":"stable/liberty"}"#,
    ] {
        assert!(text.contains(shown), "the tour shows {shown}: {text}");
    }
    // Only shown: no host was asked, and nothing was held on the served repository.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("asking"), "{stderr}");
    let held = crate::git(&dir.join("server.git"), &["for-each-ref", "refs/heads/regraft-hold/"]);
    assert!(held.is_empty(), "{held}");
    assert!(!dir.join(".git/regraft/requests.json").exists());
    assert!(text.contains("git regraft guide"), "the tour ends showing the guide: {text}");
    assert!(text.contains("until then run"), "and how to run it before installing: {text}");
    let again = regraft(tmp.path()).args(["demo", "--dir"]).arg(&dir).output().expect("runs");
    assert_eq!(again.status.code(), Some(2), "refuses an existing directory");
    // Installed (this executable is the `git-regraft` on PATH), it is not told to install
    // (issue 26, item 13).
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_git-regraft"), bin.join("git-regraft"))
        .expect("symlink");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = regraft(tmp.path())
        .args(["demo", "--dir"])
        .arg(tmp.path().join("tour2"))
        .env("PATH", path)
        .write_stdin("")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Try next:") && !text.contains("cargo install"), "{text}");
}

#[test]
fn completions_and_man_pages_are_generated() {
    let bash = stdout_of(regraft(Path::new(".")).args(["completions", "bash"]));
    assert!(bash.contains("git-regraft") && bash.contains("delta"));
    let man = stdout_of(regraft(Path::new(".")).arg("man"));
    assert!(man.starts_with(".ie") || man.contains(".TH"), "{man}");
    let tmp = TempDir::new().expect("temp dir");
    stdout_of(regraft(tmp.path()).args(["man", "--out-dir", "pages"]));
    assert!(tmp.path().join("pages/git-regraft-delta.1").is_file());
}

#[test]
fn deps_prints_the_closure_in_every_format() {
    let (_tmp, s) = small_scenario();
    let fix = s.fix.to_hex();
    let json = stdout_of(regraft(&s.dir).args(["deps", "--json", TARGET, SOURCE, "--for", &fix]));
    let graph: regraft::analysis::deps::DependencyGraph =
        serde_json::from_str(&json).expect("documented schema");
    let closure = graph.closure.clone().expect("closure with --for");
    assert_eq!(closure.last(), Some(&s.fix));
    assert!(closure.len() > 2, "the sample fix needs other commits: {closure:?}");
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    for field in ["target", "source", "merge_bases", "commits", "edges", "closure"] {
        assert!(value.get(field).is_some(), "{field}");
    }
    let without = stdout_of(regraft(&s.dir).args(["deps", "--json", TARGET, SOURCE]));
    assert!(!without.contains("\"closure\""), "closure only with --for");

    let text = stdout_of(regraft(&s.dir).args(["deps", TARGET, SOURCE, "--for", &fix]));
    for (n, commit) in closure.iter().enumerate() {
        assert!(text.contains(&format!("{}  {}", n + 1, commit.short())), "{text}");
    }
    let dot =
        stdout_of(regraft(&s.dir).args(["deps", "--format", "dot", TARGET, SOURCE, "--for", &fix]));
    assert!(dot.starts_with("digraph deps {") && dot.trim_end().ends_with('}'), "{dot}");
    for commit in &closure {
        assert!(dot.contains(&format!("\"{}\" [label=", commit.short())), "{dot}");
    }
    let whole = stdout_of(regraft(&s.dir).args(["deps", "--format", "dot", TARGET, SOURCE]));
    let drawn = whole.lines().filter(|l| l.contains(" -> ")).count();
    assert!(
        drawn > 0 && drawn <= graph.edges.len(),
        "reduced edges: {drawn} of {}",
        graph.edges.len()
    );
}

#[test]
fn deps_refuses_a_commit_outside_the_delta() {
    let (_tmp, s) = small_scenario();
    let out =
        regraft(&s.dir).args(["deps", TARGET, SOURCE, "--for", "1.0.0"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`1.0.0`") && err.contains("not a change only on stable/mitaka"), "{err}");
    let out = regraft(&s.dir)
        .args(["deps", TARGET, SOURCE, "--for", "no-such-thing"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn backport_dry_run_is_the_same_with_one_git_per_pick() {
    let (_tmp, s) = small_scenario();
    let args = ["backport", "--dry-run", "--json", TARGET, SOURCE];
    let session = stdout_of(regraft(&s.dir).args(args));
    let per_pick = stdout_of(regraft(&s.dir).env("REGRAFT_NO_STDBUF", "1").args(args));
    assert_eq!(session, per_pick);
    let plan: regraft::analysis::backport::BackportPlan =
        serde_json::from_str(&session).expect("documented schema");
    assert!(plan.counts().clean > 0);
}

#[test]
fn compare_figures_agree_with_git() {
    let (_tmp, s) = small_scenario();
    let d = &s.dir;
    let json = stdout_of(regraft(d).args(["compare", "--json", TARGET, SOURCE]));
    let c: regraft::analysis::compare::Comparison =
        serde_json::from_str(&json).expect("documented schema");
    let names: Vec<&str> = c.options.iter().map(|o| o.strategy.name()).collect();
    assert_eq!(names, ["megapatch", "merge", "recreate", "reset", "backport"]);
    let get = |name: &str| c.options.iter().find(|o| o.strategy.name() == name).expect("option");
    // The schema's strings, as docs/compare.md lists them.
    let raw: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let kept: Vec<&str> = raw["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| o["history_kept"].as_str().expect("a string"))
        .collect();
    assert_eq!(kept, ["old", "both", "source", "source", "old"]);
    let git = |args: &[&str]| crate::git(d, args);
    // Megapatch's tree is SOURCE's: its size is `git diff TARGET SOURCE`'s.
    let files = git(&["diff", "--name-only", TARGET, SOURCE]).lines().count();
    let (mut ins, mut del) = (0, 0);
    for line in git(&["diff", "--numstat", TARGET, SOURCE]).lines() {
        let mut parts = line.split('\t');
        ins += parts.next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
        del += parts.next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
    }
    for name in ["megapatch", "merge", "recreate", "reset"] {
        let o = get(name);
        assert_eq!((o.files_changed, o.insertions, o.deletions), (files, ins, del), "{name}");
    }
    let range = format!("{TARGET}..{SOURCE}");
    let all: usize = git(&["rev-list", "--count", &range]).parse().expect("count");
    let changes: usize =
        git(&["rev-list", "--count", "--no-merges", &range]).parse().expect("count");
    assert_eq!(get("merge").commits, all + 1);
    assert_eq!(get("recreate").commits, all);
    let delta =
        regraft::analysis::delta::delta(&crate::open(d), TARGET, SOURCE, &Default::default())
            .expect("delta");
    assert_eq!(get("backport").commits + delta.summary().present, changes);
    let plan: regraft::analysis::backport::BackportPlan =
        serde_json::from_str(&stdout_of(regraft(d).args([
            "backport",
            "--dry-run",
            "--json",
            TARGET,
            SOURCE,
        ])))
        .expect("plan");
    assert_eq!(get("backport").predicted_conflicts, plan.counts().conflict);
    assert_eq!(get("backport").reviews, plan.counts().clean);
    assert_eq!(c.conflicts.len(), plan.counts().conflict);
    assert!(get("megapatch").fast_forward && !get("reset").fast_forward);
    assert!(get("recreate").force_update_needed && !get("merge").force_update_needed);
    assert!(c.options.iter().all(|o| o.open_reviews_affected.is_none()), "no review server asked");

    let table = stdout_of(regraft(d).args(["compare", TARGET, SOURCE]));
    assert!(table.lines().all(|l| l.chars().count() <= 100), "fits 100 columns:\n{table}");
    assert!(table.contains("recommendation: "), "{table}");
    let md = stdout_of(regraft(d).args(["compare", "--format", "markdown", TARGET, SOURCE]));
    assert!(md.contains("| option    | reviews |") && md.contains("**Recommendation:**"), "{md}");
}

#[test]
fn the_trace_shows_every_git_command_the_demo_runs() {
    // Regression: the demo's sample and the scenario builder ran git without the trace.
    let tmp = TempDir::new().expect("temp dir");
    let log = tmp.path().join("spawned.log");
    // A wrapper that counts every git process regraft starts itself (git's own children
    // run the real git directly, as they would without the wrapper).
    let wrapper = tmp.path().join("git-counting");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\necho x >> '{}'\nexec git \"$@\"\n", log.display()),
    )
    .expect("write the wrapper");
    let mut perms = std::fs::metadata(&wrapper).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&wrapper, perms).expect("chmod");
    let out = regraft(tmp.path())
        .env("REGRAFT_TRACE", "1")
        .env("REGRAFT_GIT", &wrapper)
        .args(["demo", "--dir"])
        .arg(tmp.path().join("tour"))
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let traced = stderr.lines().filter(|l| l.starts_with("regraft: + ")).count();
    let spawned = std::fs::read_to_string(&log).expect("the wrapper ran").lines().count();
    assert!(spawned > 20, "the demo runs git: {spawned}");
    assert_eq!(traced, spawned, "every git process is traced:\n{stderr}");
    assert!(stderr.contains("fast-import"), "the scenario builder's import is traced");
}

#[test]
fn each_command_names_the_natural_next_one() {
    let (_tmp, s) = small_scenario();
    let out = regraft(&s.dir).args(["delta", TARGET, SOURCE]).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("next: `git regraft deps") && err.contains("git regraft compare"),
        "{err}"
    );
    let out = regraft(&s.dir).args(["compare", TARGET, SOURCE]).output().expect("runs");
    let (stdout, err) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let recommended = stdout
        .lines()
        .find_map(|l| l.strip_prefix("recommendation: "))
        .and_then(|r| r.split([' ', ':']).next())
        .expect("a recommendation")
        .to_string();
    // Lines are wrapped to 80 columns: the words are what counts.
    let err = crate::flat(&err);
    assert!(
        err.contains(&format!("--strategy {recommended}` (a dry run), or `git regraft guide`")),
        "the recommended strategy: {err}"
    );
    let out = regraft(&s.dir).args(["delta", "--json", TARGET, SOURCE]).output().expect("runs");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("next:"), "data stays data");
}

/// Completes `words` (the last one being completed) in a real bash with the script
/// `git regraft completions bash` writes sourced, through `function`; with git's own
/// completion sourced too when the machine has it. Returns the candidates, one a line.
fn complete_in_bash(repo: &Path, script: &Path, function: &str, words: &[&str]) -> String {
    let git_completion = "/usr/share/bash-completion/completions/git";
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "[ -r {git_completion} ] && . {git_completion}\n. '{}'\n\
         COMP_WORDS=({}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; COMPREPLY=()\n\
         {function} \"${{COMP_WORDS[0]}}\" \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" ")
    );
    let mut bash = std::process::Command::new("bash");
    regraft::git::isolate_environment(&mut bash);
    let out = bash
        .args(["--norc", "--noprofile", "-c", &program])
        .current_dir(repo)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Issue 26, item 10: the generated script set `cmd="git__regraft__subcmd__replace"` but
/// dispatched on `git__subcmd__regraft__subcmd__replace)`, so only subcommand names
/// completed, `--from` completed files, and `git regraft` completed nothing.
#[test]
fn bash_completes_subcommands_options_and_refs_for_git_regraft_and_git_dash_regraft() {
    let (_tmp, s) = small_scenario();
    let script = s.dir.join("..").join("git-regraft.bash");
    std::fs::write(&script, stdout_of(regraft(&s.dir).args(["completions", "bash"])))
        .expect("write the script");
    let registered = std::process::Command::new("bash")
        .args(["--norc", "-c", &format!(". '{}' && complete -p git-regraft", script.display())])
        .output()
        .expect("bash runs");
    let registered = String::from_utf8_lossy(&registered.stdout);
    assert!(registered.contains("-F _git_regraft_complete"), "{registered}");
    let lines = |text: String| -> Vec<String> { text.lines().map(str::to_string).collect() };
    let direct = "_git_regraft_complete";
    // Subcommands, then a subcommand's options.
    let got = lines(complete_in_bash(&s.dir, &script, direct, &["git-regraft", "rep"]));
    assert_eq!(got, ["replace"], "subcommands");
    let got =
        lines(complete_in_bash(&s.dir, &script, direct, &["git-regraft", "replace", "--str"]));
    assert_eq!(got, ["--strategy"], "a subcommand's options");
    // An option's values.
    let got = lines(complete_in_bash(
        &s.dir,
        &script,
        direct,
        &["git-regraft", "replace", "stable/liberty", "--strategy", "re"],
    ));
    assert_eq!(got, ["recreate", "reset"], "the strategies");
    // Revisions: what git for-each-ref lists, not files.
    let refs = git(&s.dir, &["for-each-ref", "--format=%(refname:short)", "refs/heads/stable/"]);
    let want: Vec<String> = refs.lines().map(str::to_string).collect();
    assert!(want.len() >= 2, "{refs}");
    let got = lines(complete_in_bash(
        &s.dir,
        &script,
        direct,
        &["git-regraft", "replace", "stable/liberty", "--from", "stable/"],
    ));
    assert_eq!(got, want, "--from completes refs");
    let got =
        lines(complete_in_bash(&s.dir, &script, direct, &["git-regraft", "delta", "stable/"]));
    assert_eq!(got, want, "delta's TARGET completes refs");
    // `git regraft`, through git's own completion where the machine has it.
    let through_git = if Path::new("/usr/share/bash-completion/completions/git").exists() {
        "__git_wrap__git_main"
    } else {
        "_git_regraft"
    };
    let got = lines(complete_in_bash(&s.dir, &script, through_git, &["git", "regraft", "comp"]));
    assert!(got.iter().any(|c| c.trim() == "compare"), "{through_git}: {got:?}");
    let got = lines(complete_in_bash(
        &s.dir,
        &script,
        through_git,
        &["git", "regraft", "replace", "stable/liberty", "--from", "stable/"],
    ));
    let trimmed: Vec<String> = got.iter().map(|c| c.trim().to_string()).collect();
    assert_eq!(trimmed, want, "{through_git}: --from completes refs");
}

/// Issue 26, item 13: a typo in a name regraft knows gets the nearest one, as clap does for
/// subcommands and values and as revisions do.
#[test]
fn typos_in_phases_and_variables_get_a_did_you_mean() {
    let (_tmp, s) = small_scenario();
    for (args, near) in [
        (vec!["compare", TARGET, SOURCE, "--phase", "maintaned"], "(did you mean `maintained`?)"),
        (vec!["run", "eol-branch", "--var", "seres=liberty"], "(did you mean `series`?)"),
    ] {
        let (code, out) = crate::run(regraft(&s.dir).args(&args));
        assert_eq!(code, Some(2), "{args:?}: {out}");
        assert!(out.contains(near), "{args:?}: {out}");
    }
}
