//! Name checks against git's own: `git check-ref-format` is the oracle for reference names.

use regraft::names::{check_branch, check_tag, ref_format_violation};

/// Returns whether `git check-ref-format NAME` accepts the name.
fn git_accepts(dir: &std::path::Path, name: &str) -> bool {
    crate::git_command(dir, 0)
        .args(["check-ref-format", name])
        .output()
        .expect("git runs")
        .status
        .success()
}

#[test]
fn reference_rules_agree_with_git_check_ref_format() {
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let mut names: Vec<String> = [
        "refs/heads/stable/liberty",
        "refs/heads/a b",
        "refs/heads/x.lock",
        "refs/heads/x.lock/y",
        "refs/heads/x.locked",
        "refs/heads/@",
        "@",
        "refs/tags/tag~1",
        "refs/heads/../../x",
        "refs/heads/.hidden",
        "refs/heads/a/.b",
        "refs/heads/a.",
        "refs/heads/a..b",
        "refs/heads/a//b",
        "refs/heads/a/",
        "/refs/heads/a",
        "refs/heads/a@{b",
        "refs/heads/a@b",
        "refs/heads/a^",
        "refs/heads/a:b",
        "refs/heads/a?",
        "refs/heads/a*",
        "refs/heads/a[b",
        "refs/heads/a]b",
        "refs/heads/a\\b",
        "refs/heads/a\tb",
        "refs/heads/a\u{7f}",
        "refs/heads/-x",
        "refs/heads/stable/$(touch${IFS}x)",
        "refs/heads/ünïcode",
        "refs/heads/a{b}",
        "refs/heads/a!b",
        "refs/tags/liberty-early-demise",
        "refs/heads/.",
        "refs/heads/a/..",
        "refs/heads/lock",
        "refs/heads/.lock",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // A bounded, deterministic walk over short names from the characters the rules treat
    // specially, so that rules interacting with each other are covered too.
    let alphabet = ['a', '.', '/', '@', '{', '-', 'l', 'o', 'c', 'k', ' ', '~'];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..400 {
        let mut name = String::from("refs/heads/");
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = 1 + (state % 7) as usize;
        let mut bits = state >> 3;
        for _ in 0..len {
            name.push(alphabet[(bits % alphabet.len() as u64) as usize]);
            bits /= alphabet.len() as u64;
        }
        names.push(name);
    }
    let mut disagreements = Vec::new();
    for name in &names {
        let ours = ref_format_violation(name).is_none();
        if ours != git_accepts(tmp.path(), name) {
            disagreements.push(format!("{name:?}: regraft accepts {ours}"));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn names_git_would_refuse_or_read_as_options_are_refused() {
    for bad in ["a b", "x.lock", "@", "tag~1", "../../x", "-D", "--force", "HEAD"] {
        assert!(check_branch(bad).is_err(), "branch {bad}");
        assert!(check_tag(bad).is_err(), "tag {bad}");
    }
    for good in ["stable/liberty", "liberty-eol", "driverfixes/newton", "unmaintained/2023.1"] {
        assert!(check_branch(good).is_ok(), "branch {good}");
        assert!(check_tag(good).is_ok(), "tag {good}");
    }
}
