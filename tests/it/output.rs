//! What people read, snapshotted: every command's `--help`, and the main human outputs on
//! the sample scenario. Ids, paths and times are normalised (`[id:N]` numbered by first
//! appearance, a short id taking its full id's number), so a snapshot changes only when the
//! words or the layout do; each test also checks some of the ids against git, since the
//! normalised ones cannot be.
//!
//! A snapshot was read by hand when it was written; `INSTA_UPDATE=always cargo test` writes
//! new ones, to be read again in the diff before they are committed.

use std::path::Path;

use regraft::scenario::{SOURCE, TARGET};

use crate::replace::{regraft as tool, world};
use crate::{git, regraft, run, small_scenario};

/// Replaces hex ids, temporary paths and times in `text` by placeholders.
fn normalise(text: &str, paths: &[&Path]) -> String {
    let mut text = text.to_string();
    for path in paths {
        text = text.replace(&path.display().to_string(), "[DIR]");
    }
    // Each id seen, in its longest form so far, with its number.
    let mut ids: Vec<(String, usize)> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(c) = rest.chars().next() {
        if !c.is_ascii_alphanumeric() {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        let (word, after) = rest.split_at(len);
        let zone = after.as_bytes();
        let is_time = len == 10
            && word.bytes().all(|b| b.is_ascii_digit())
            && zone.len() >= 6
            && zone[0] == b' '
            && matches!(zone[1], b'+' | b'-')
            && zone[2..6].iter().all(u8::is_ascii_digit);
        let known = ids.iter().position(|(id, _)| id.starts_with(word) || word.starts_with(id));
        let is_id = (7..=40).contains(&len)
            && word.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            // An id of digits alone is one when it is as long as regraft's short ids.
            && (word.bytes().any(|b| b.is_ascii_alphabetic()) || known.is_some() || len == 10);
        if is_time {
            out.push_str("[TIME]");
            rest = &after[6..];
            continue;
        }
        if is_id {
            let n = match known {
                Some(at) => {
                    if word.len() > ids[at].0.len() {
                        ids[at].0 = word.to_string();
                    }
                    ids[at].1
                }
                None => {
                    ids.push((word.to_string(), ids.len() + 1));
                    ids.len()
                }
            };
            out.push_str(&format!("[id:{n}]"));
        } else {
            out.push_str(word);
        }
        rest = after;
    }
    out
}

/// Returns the standard output of a command that must succeed (or end with `code`).
fn output_of(cmd: &mut assert_cmd::Command, code: i32) -> String {
    let out = cmd.output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Every subcommand `git regraft --help` lists, with `policy check` for `policy`.
fn commands() -> Vec<Vec<String>> {
    let top = output_of(regraft(Path::new(".")).arg("--help"), 0);
    let listed: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(listed.len() >= 17, "the commands: {listed:?}\n{top}");
    let mut out = vec![vec![]];
    for command in listed {
        if command == "policy" {
            out.push(vec!["policy".into(), "check".into()]);
        }
        out.push(vec![command]);
    }
    out
}

#[test]
fn every_command_s_help_reads_as_it_was_checked() {
    for command in commands() {
        let out = output_of(regraft(Path::new(".")).args(&command).arg("--help"), 0);
        let name = if command.is_empty() { "top".to_string() } else { command.join("-") };
        if !command.is_empty() && command != ["policy"] {
            assert!(out.contains("Example"), "{name} --help has an example:\n{out}");
        }
        insta::assert_snapshot!(format!("help-{name}"), out);
    }
}

#[test]
fn the_analysis_commands_read_as_they_were_checked() {
    let (tmp, s) = small_scenario();
    let dir = s.dir.as_path();
    let paths = [tmp.path()];
    let delta = output_of(regraft(dir).args(["delta", TARGET, SOURCE]), 0);
    let base = git(dir, &["merge-base", TARGET, SOURCE]);
    assert!(delta.contains(&format!("merge base: {}", &base[..10])), "git's merge base: {delta}");
    let count = git(dir, &["rev-list", "--count", &format!("{TARGET}..{SOURCE}")]);
    assert!(delta.contains(&format!("only on {SOURCE}: {count} commits")), "{delta}");
    insta::assert_snapshot!("delta", normalise(&delta, &paths));
    let verbose = output_of(regraft(dir).args(["delta", "--verbose", TARGET, SOURCE]), 0);
    insta::assert_snapshot!("delta-verbose", normalise(&verbose, &paths));

    let fix = s.fix.to_hex();
    let deps = output_of(regraft(dir).args(["deps", TARGET, SOURCE, "--for", &fix]), 0);
    assert!(deps.contains(&s.fix.short()), "names the fix: {deps}");
    insta::assert_snapshot!("deps-for", normalise(&deps, &paths));

    let backport = output_of(regraft(dir).args(["backport", "--dry-run", TARGET, SOURCE]), 0);
    insta::assert_snapshot!("backport-dry-run", normalise(&backport, &paths));

    let compare = output_of(regraft(dir).args(["compare", TARGET, SOURCE]), 0);
    insta::assert_snapshot!("compare", normalise(&compare, &paths));
    let markdown =
        output_of(regraft(dir).args(["compare", "--format", "markdown", TARGET, SOURCE]), 0);
    insta::assert_snapshot!("compare-markdown", normalise(&markdown, &paths));

    let range = format!("{base}..{TARGET}");
    let mut policy = regraft(dir);
    let out = policy.args(["policy", "check", &range]).output().expect("runs");
    insta::assert_snapshot!(
        "policy-check",
        normalise(&String::from_utf8_lossy(&out.stdout), &paths)
    );
}

#[test]
fn the_surgery_commands_read_as_they_were_checked() {
    let w = world(true);
    let root = w.clone.parent().expect("the world's directory").to_path_buf();
    let paths = [root.as_path()];
    let replace =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "merge"];
    let plan = output_of(tool(&w.clone).args(replace), 0);
    assert!(plan.contains(&w.old.short()), "names the old tip: {plan}");
    insta::assert_snapshot!("replace-merge-dry-run", normalise(&plan, &paths));
    let eol = output_of(tool(&w.clone).args(["eol", "stable/liberty"]), 0);
    insta::assert_snapshot!("eol-dry-run", normalise(&eol, &paths));
    let idle = output_of(tool(&w.clone).args(["status"]), 0);
    insta::assert_snapshot!("status-idle", normalise(&idle, &paths));

    let (code, out) = run(tool(&w.clone)
        .args(replace)
        .args(["--execute", "--yes"])
        .env("REGRAFT_FAULT_AFTER_STEPS", "3"));
    assert_ne!(code, Some(0), "killed after three steps: {out}");
    let stopped = output_of(tool(&w.clone).args(["status"]), 0);
    insta::assert_snapshot!("status-stopped", normalise(&stopped, &paths));
    let (code, out) = run(tool(&w.clone).args(["replace", "--continue"]));
    assert_eq!(code, Some(0), "{out}");
    let notice = output_of(tool(&w.clone).args(["notice"]), 0);
    let tip = git(&w.server, &["rev-parse", "refs/heads/stable/liberty"]);
    assert!(notice.contains(&tip[..10]), "names the new tip git has: {notice}");
    insta::assert_snapshot!("notice-after-merge", normalise(&notice, &paths));
}

#[test]
fn the_normaliser_numbers_ids_by_first_appearance() {
    let full = "0123456789abcdef0123456789abcdef01234567";
    let text =
        format!("0123456789ab {full} then 0123456789 and deadbeef12, 2015 and 1444867260 +0000 x");
    assert_eq!(
        normalise(&text, &[]),
        "[id:1] [id:1] then [id:1] and [id:2], 2015 and [TIME] x",
        "a short id takes its full id's number; years and words stay"
    );
}
