//! `missed` on a hand-built history: each rule (a `Fixes:` trailer of a picked commit and of
//! one made on the target, a revert, a Launchpad bug, a GitHub keyword) found, a fix
//! already backported and an unrelated commit left out, an ambiguous id reported; the
//! forecast checked against git's own cherry-pick loop.

use regraft::ObjectId;
use regraft::analysis::simulation::Outcome;
use regraft_testkit::{Fixture, GitPick, git_pick_loop};
use tempfile::TempDir;

use crate::regraft;

struct History {
    _tmp: TempDir,
    f: Fixture,
    /// The missed fixes in source order, with the target commit each should name.
    expected: Vec<(ObjectId, &'static str, ObjectId)>,
    backported: ObjectId,
    unrelated: ObjectId,
}

fn short(f: &Fixture, id: ObjectId) -> String {
    f.git(&["rev-parse", "--short=12", &id.to_hex()])
}

fn build() -> History {
    let tmp = TempDir::new().expect("temporary directory");
    let f = Fixture::init(&tmp.path().join("repo"));
    f.commit_file("base.txt", "base\n", "Base");
    f.branch("stable", "HEAD");
    let main = f.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    let p = f.commit_file("p.txt", "p one\np two\n", "Add feature p");
    let q = f.commit_file("q.txt", "q\n", "Add feature q");
    f.checkout("stable");
    let p_on_stable = f.cherry_pick_x(&p.to_hex());
    let q_on_stable = f.cherry_pick_x(&q.to_hex());
    let t = f.commit_file("t.txt", "t\n", "Fix t\n\nResolves #45.\n\nCloses-Bug: #123");
    f.checkout(&main);
    let backported = f.commit_file(
        "p.txt",
        "p one\np 2\n",
        &format!("Fix p's second line\n\nFixes: {} (\"Add feature p\")", short(&f, p)),
    );
    f.checkout("stable");
    f.cherry_pick_x(&backported.to_hex());
    f.checkout(&main);
    let fix_p = f.commit_file(
        "p.txt",
        "p 1\np 2\n",
        &format!("Fix p's first line\n\nfixes: {} (\"Add feature p\")", short(&f, p)),
    );
    let fix_t = f.commit_file(
        "t.txt",
        "t fixed\n",
        &format!("Fix t again\n\nFixes: {} (\"Fix t\")", short(&f, t)),
    );
    f.git(&["revert", "--no-edit", &q.to_hex()]);
    let revert_q = f.rev("HEAD");
    let bug = f.commit_file("b.txt", "b\n", "Handle the edge\n\nCloses-Bug: #123");
    let unrelated = f.commit_file("u.txt", "u\n", "Unrelated\n\nCloses-Bug: #999");
    let github = f.commit_file("g.txt", "g\n", "Tidy the crash path\n\nThis fixes #45 for good.");
    History {
        _tmp: tmp,
        expected: vec![
            (fix_p, "fixes", p_on_stable),
            (fix_t, "fixes", t),
            (revert_q, "reverts", q_on_stable),
            (bug, "bug", t),
            (github, "bug", t),
        ],
        f,
        backported,
        unrelated,
    }
}

fn json(f: &Fixture, args: &[&str]) -> serde_json::Value {
    let out = regraft(f.path()).args(args).output().expect("regraft runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn every_rule_is_found_and_the_forecast_matches_git() {
    let h = build();
    let main = h.f.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    let v = json(&h.f, &["missed", "stable", &main, "--json"]);
    let missed = v["missed"].as_array().expect("a list");
    let got: Vec<(String, String, String)> = missed
        .iter()
        .map(|m| {
            (
                m["commit"].as_str().unwrap_or_default().to_string(),
                m["reasons"][0]["kind"].as_str().unwrap_or_default().to_string(),
                m["reasons"][0]["target_commit"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> =
        h.expected.iter().map(|(c, k, t)| (c.to_hex(), k.to_string(), t.to_hex())).collect();
    assert_eq!(got, want);
    for left_out in [h.backported, h.unrelated] {
        assert!(!got.iter().any(|g| g.0 == left_out.to_hex()), "{left_out} is not missed");
    }
    // The forecast: git's own pick loop over the same commits, in the same order.
    let commits: Vec<ObjectId> = h.expected.iter().map(|e| e.0).collect();
    let git = git_pick_loop(h.f.path(), "stable", &commits);
    for (m, g) in missed.iter().zip(&git) {
        let outcome: Outcome = serde_json::from_value(m["outcome"].clone()).expect("an outcome");
        let want = match g {
            GitPick::Clean(_) => Outcome::Clean,
            GitPick::Empty => Outcome::Empty,
            GitPick::Conflict => Outcome::Conflict,
        };
        assert_eq!(outcome, want, "{}", m["commit"]);
    }
}

#[test]
fn a_bad_bug_pattern_and_an_unknown_branch_exit_2() {
    let h = build();
    let main = h.f.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    regraft(h.f.path()).args(["missed", "stable", "nonesuch"]).assert().code(2);
    h.f.git(&["config", "regraft.bugPattern", "JIRA-[0-9]+"]);
    regraft(h.f.path()).args(["missed", "stable", &main]).assert().code(2);
}

/// Returns a four-digit prefix two commits of the repository share (made by fast-import).
fn ambiguous_prefix(f: &Fixture) -> String {
    let mut stream = String::new();
    for i in 0..1500 {
        let msg = format!("filler {i}\n");
        stream.push_str(&format!(
            "commit refs/filler\ncommitter F <f@example.com> 1000000000 +0000\ndata {}\n{msg}\n",
            msg.len()
        ));
    }
    f.git_with_input(&["fast-import", "--quiet"], Some(stream.as_bytes()));
    let mut seen = std::collections::HashMap::new();
    for line in f.git(&["rev-list", "refs/filler"]).lines() {
        if let Some(other) = seen.insert(line[..4].to_string(), line.to_string()) {
            assert_ne!(other, line);
            return line[..4].to_string();
        }
    }
    panic!("no two of 1500 commits share four digits");
}

#[test]
fn an_ambiguous_id_is_reported_unresolved_not_guessed() {
    let h = build();
    let main = h.f.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    let prefix = ambiguous_prefix(&h.f);
    // git itself will not choose.
    let mut cmd = std::process::Command::new("git");
    regraft::git::isolate_environment(&mut cmd);
    let status = cmd
        .current_dir(h.f.path())
        .args(["rev-parse", "--verify", "-q", &format!("{prefix}^{{commit}}")])
        .output()
        .expect("git runs")
        .status;
    assert!(!status.success(), "{prefix} is ambiguous to git");
    let fix = h.f.commit_file("z.txt", "z\n", &format!("Fix z\n\nFixes: {prefix} (\"?\")"));
    let v = json(&h.f, &["missed", "stable", &main, "--json"]);
    let unresolved = v["unresolved"].as_array().expect("a list");
    assert_eq!(unresolved.len(), 1, "{v}");
    assert_eq!(unresolved[0]["commit"], fix.to_hex());
    assert_eq!(unresolved[0]["reference"], prefix);
    assert_eq!(unresolved[0]["why"], "ambiguous");
    assert!(!v["missed"].as_array().expect("a list").iter().any(|m| m["commit"] == fix.to_hex()));
}

/// A subject with Markdown's own characters stays one row of four cells and shows as
/// written: nothing in it becomes a link, HTML, emphasis or a new cell.
#[test]
fn markdown_rows_keep_a_subject_with_markdown_characters_as_text() {
    let h = build();
    let main = h.f.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    let subject = "Fix *all* <b>x</b> | [a](http://e) `q`";
    h.f.commit_file("m.txt", "m\n", &format!("{subject}\n\nCloses-Bug: #123"));
    let out = regraft(h.f.path())
        .args(["missed", "stable", &main, "--format", "markdown"])
        .output()
        .expect("regraft runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let row = text.lines().find(|l| l.contains("Fix \\*all")).unwrap_or_else(|| panic!("{text}"));
    // Cells end at pipes not escaped by a backslash.
    let mut cells = 0;
    let mut escaped = false;
    for c in row.chars() {
        if c == '|' && !escaped {
            cells += 1;
        }
        escaped = c == '\\' && !escaped;
    }
    assert_eq!(cells, 5, "four cells, five pipes: {row}");
    assert!(!row.contains("<b>") && !row.contains("[a]"), "{row}");
    assert!(row.contains(r"\<b\>x\</b\> \| \[a\](http://e) \`q\`"), "{row}");
}
