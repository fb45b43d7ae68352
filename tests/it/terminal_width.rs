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
