//! Output meant for a terminal fits its width: a plan and `compare` in a real
//! pseudo-terminal (rexpect) set to 50 columns, against the same commands in a pipe.

use std::path::Path;

use crate::replace::world;

/// Runs `git regraft ARGS` in `dir` in a pseudo-terminal of `cols` columns and returns
/// what it showed.
fn on_terminal(dir: &Path, cols: u16, args: &str) -> String {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("stty cols {cols} rows 200 && exec \"$0\" {args}"))
        .arg(env!("CARGO_BIN_EXE_git-regraft"))
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("COLUMNS")
        .env_remove("REGRAFT_TRACE");
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).expect("starts in a pty");
    p.exp_eof().expect("ends").replace("\r\n", "\n")
}

fn width(line: &str) -> usize {
    line.chars().count()
}

#[test]
fn a_plan_and_compare_fit_a_narrow_terminal_and_stay_whole_in_a_pipe() {
    let w = world(false);
    let piped = crate::run(crate::regraft(&w.clone).args(["eol", "stable/liberty"])).1;
    let shown = on_terminal(&w.clone, 50, "eol stable/liberty");
    // Every word of the pipe's plan is on the terminal, in the same order, and nothing
    // else but the shell's continuations.
    let words = |text: &str| -> Vec<String> {
        text.split_whitespace().filter(|w| *w != "\\").map(str::to_string).collect()
    };
    assert_eq!(words(&shown), words(&piped), "{shown}");
    assert!(piped.lines().any(|l| width(l) > 50), "the pipe keeps long lines:\n{piped}");
    for line in shown.lines() {
        // A word wider than the terminal (a push's lease with a full id) stands alone; the
        // lines a command reads on its standard input (`| `) are shown as they are.
        let alone = line.trim_start().split(' ').filter(|w| *w != "\\").count() == 1;
        let input = line.starts_with("    | ");
        assert!(width(line) <= 50 || alone || input, "{line:?} is wider than 50 columns:\n{shown}");
    }
    assert!(shown.contains(" \\\n        "), "a command continues with ` \\`:\n{shown}");

    let piped = crate::run(crate::regraft(&w.clone).args([
        "compare",
        "origin/stable/liberty",
        "origin/stable/mitaka",
    ]))
    .1;
    let shown = on_terminal(&w.clone, 50, "compare origin/stable/liberty origin/stable/mitaka");
    // From the recommendation to the status line that follows it on stderr.
    let at = |text: &str| {
        let start = text.find("recommendation:")?;
        let end = text[start..].find("\nnext:").map_or(text.len(), |i| start + i);
        Some(text[start..end].to_string())
    };
    let (piped_rec, shown_rec) = (at(&piped).expect(&piped), at(&shown).expect(&shown));
    assert!(piped_rec.lines().all(|l| width(l) <= 80), "80 columns in a pipe:\n{piped_rec}");
    assert!(shown_rec.lines().count() > piped_rec.lines().count(), "{shown_rec}");
    for line in shown_rec.lines() {
        assert!(width(line) <= 50, "{line:?}:\n{shown_rec}");
    }
    assert_eq!(words(&shown_rec), words(&piped_rec));
}

/// Tells whether `line` may be wider than `cols`: only when it cannot be cut, a single
/// word (a push's lease with a full id, a path) with at most the shell's ` \` after it,
/// a line of what a command reads on its standard input (`    | `), or a REST request as
/// a plan sends it (`    PATCH URL`: a URL is never cut), shown as it is.
fn uncuttable(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().filter(|w| *w != "\\").collect();
    let request = words.len() == 2
        && ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&words[0])
        && words[1].starts_with("http");
    words.len() <= 1 || request || line.trim_start().starts_with("| ")
}

/// Fails on every line of `text` wider than `cols` columns that could have been cut.
fn assert_fits(what: &str, text: &str, cols: usize) {
    let wide: Vec<&str> = text.lines().filter(|l| width(l) > cols && !uncuttable(l)).collect();
    assert!(wide.is_empty(), "{what}: {} lines wider than {cols}: {wide:#?}\n{text}", wide.len());
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn every_command_keeps_to_80_columns_off_a_terminal() {
    // Regression (issue 26, item 1): compare's table was 86 columns, plans, the demo's
    // prose, `next:` lines and errors ran to 130; a pipe is laid out for 80 columns.
    let w = world(false);
    let dir = w.clone.as_path();
    let (t, s) = ("origin/stable/liberty", "origin/stable/mitaka");
    let base = crate::git(dir, &["merge-base", t, s]);
    let range = format!("{base}..{s}");
    let playbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks");
    let eol_book = playbooks.join("eol-branch.toml");
    let replace_book = playbooks.join("replace-stable-branch.toml");
    let long = format!("stable/{}", "very-long-branch-name-".repeat(5));
    let lists = dir.join("lists.txt");
    let commands: Vec<Vec<String>> = [
        vec!["delta", t, s],
        vec!["delta", "--verbose", t, s],
        vec!["deps", t, s],
        vec!["deps", "--verbose", t, s],
        vec!["missed", t, s],
        vec!["backport", "--dry-run", t, s],
        vec!["backport", "--dry-run", "--verbose", t, s],
        vec!["compare", t, s],
        vec!["compare", "--format", "text", t, s],
        vec!["compare", "--format", "text", "--lists", lists.to_str().expect("utf-8"), t, s],
        vec!["policy", "check", &range],
        vec!["forecast", &range],
        vec!["status"],
        vec!["replace", "stable/liberty", "--from", s, "--strategy", "merge"],
        vec!["replace", "stable/liberty", "--from", s, "--strategy", "recreate"],
        vec!["replace", "stable/liberty", "--from", s, "--strategy", "backport"],
        vec!["eol", "stable/liberty"],
        vec!["run", eol_book.to_str().expect("utf-8"), "--var", "series=liberty"],
        vec![
            "run",
            replace_book.to_str().expect("utf-8"),
            "--var",
            "branch=stable/liberty",
            "--var",
            &format!("source={s}"),
        ],
        vec!["sync", "--all", "--dry-run"],
        vec!["notice"],
        // Errors: a long name, a long path, a bad option.
        vec!["delta", &long, s],
        vec!["eol", &long],
        vec!["forecast", &range, "--branch", &long],
        vec!["run", &format!("/nonexistent/{}/book.toml", "deep-directory-name".repeat(4))],
        vec!["compare", "--lists", "x.md", t, s],
        vec!["--help"],
        vec!["replace", "--help"],
        vec!["compare", "--no-such-option"],
    ]
    .iter()
    .map(|args| args.iter().map(|a| (*a).to_string()).collect())
    .collect();
    let mut seen = 0;
    for args in &commands {
        let (_, out, err) = crate::run_apart(crate::regraft(dir).args(args));
        assert!(!(out.is_empty() && err.is_empty()), "{args:?} says something");
        assert_fits(&format!("{args:?} (stdout)"), &out, 80);
        assert_fits(&format!("{args:?} (stderr)"), &err, 80);
        seen += usize::from(out.lines().chain(err.lines()).any(|l| width(l) > 72));
    }
    assert!(seen > commands.len() / 2, "the commands use the width they have");
    assert_fits("the lists", &std::fs::read_to_string(&lists).expect("written"), 80);

    // Mid-operation: a replacement killed after three steps; status and the way on.
    let (code, out) = crate::run(
        crate::regraft(dir)
            .args(["replace", "stable/liberty", "--from", s, "--strategy", "merge"])
            .args(["--execute", "--yes"])
            .env("REGRAFT_FAULT_AFTER_STEPS", "3"),
    );
    assert_eq!(code, None, "killed: {out}");
    assert_fits("the killed run", &out, 80);
    let (_, status) = crate::run(crate::regraft(dir).args(["status"]));
    assert!(status.contains("--continue"), "{status}");
    assert_fits("status mid-operation", &status, 80);
    let (code, out) = crate::run(crate::regraft(dir).args(["replace", "--continue"]));
    assert_eq!(code, Some(0), "{out}");
    assert_fits("--continue", &out, 80);
    let (code, notice) = crate::run(crate::regraft(dir).args(["notice"]));
    assert_eq!(code, Some(0), "{notice}");
    assert_fits("notice", &notice, 80);

    // The demo, prose and all.
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let demo = tmp.path().join("demo");
    let (code, out) = crate::run(crate::regraft(tmp.path()).args([
        "demo",
        "--dir",
        demo.to_str().expect("utf-8"),
    ]));
    assert_eq!(code, Some(0), "{out}");
    assert_fits("demo", &out, 80);
}

#[test]
fn compare_and_a_plan_fit_an_80_column_terminal() {
    let w = world(false);
    for args in [
        "compare origin/stable/liberty origin/stable/mitaka",
        "replace stable/liberty --from origin/stable/mitaka --strategy merge",
        "delta --verbose origin/stable/liberty origin/stable/mitaka",
        "--help",
    ] {
        let shown = on_terminal(&w.clone, 80, args);
        assert_fits(args, &shown, 80);
        // The terminal is used: a table row or a line of prose reaches past 60 columns.
        assert!(shown.lines().any(|l| width(l) > 60), "{args}:\n{shown}");
    }
    // On a wide terminal the help is as wide as it needs (clap's width follows the terminal).
    let wide = on_terminal(&w.clone, 140, "compare --help");
    assert!(wide.lines().any(|l| width(l) > 80), "{wide}");
}

#[test]
fn a_forecast_fits_a_narrow_terminal() {
    let w = world(false);
    let range = "origin/stable/liberty..origin/stable/mitaka";
    let shown = on_terminal(&w.clone, 50, &format!("forecast {range}"));
    // The pseudo-terminal's reader makes a char of every byte: a subject's U+FFFD (for a
    // byte that is not UTF-8) would count three columns.
    let bytes: Option<Vec<u8>> = shown.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
    let shown = bytes.map_or(shown.clone(), |b| String::from_utf8_lossy(&b).into_owned());
    assert!(shown.contains("details:") || shown.contains("commit "), "{shown}");
    for line in shown.lines() {
        assert!(
            width(line) <= 50 || uncuttable(line),
            "{line:?} is wider than 50 columns:\n{shown}"
        );
    }
}
