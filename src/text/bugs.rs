//! What a commit message says it fixes: `Fixes: <commit>` trailers (kernel style) and bug
//! ids (Launchpad's `Closes-Bug:`/`Partial-Bug:`/`Related-Bug:` trailers, GitHub and
//! GitLab's `Fixes #N` keywords anywhere in the message, and patterns of the user's).

use std::sync::LazyLock;

use regex::Regex;

use super::message::footer;

/// How strongly a commit claims a bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// `Closes-Bug`, `Partial-Bug`, `Fixes #N`, a configured pattern.
    Fixes,
    /// `Related-Bug`: the commit only touches the bug.
    Related,
}

/// A bug id a message names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bug {
    /// Normalised: `#123`, `owner/repo#45`, or a configured pattern's capture.
    pub id: String,
    pub strength: Strength,
}

/// Patterns of `regraft.bugPattern`: regexes with exactly one capture group, the bug id.
#[derive(Debug, Clone, Default)]
pub struct BugPatterns(Vec<Regex>);

/// A `regraft.bugPattern` that is not a regex with one capture group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("regraft.bugPattern `{pattern}` is not usable: {why}")]
pub struct BugPatternError {
    pub pattern: String,
    pub why: String,
}

impl BugPatterns {
    /// Compiles the patterns, refusing one that does not compile or has not exactly one
    /// capture group.
    pub fn new(patterns: &[String]) -> Result<Self, BugPatternError> {
        let mut out = Vec::new();
        for pattern in patterns {
            let re = Regex::new(pattern)
                .map_err(|e| BugPatternError { pattern: pattern.clone(), why: e.to_string() })?;
            if re.captures_len() != 2 {
                return Err(BugPatternError {
                    pattern: pattern.clone(),
                    why: format!(
                        "it has {} capture groups; it needs exactly one, the bug id",
                        re.captures_len() - 1
                    ),
                });
            }
            out.push(re);
        }
        Ok(BugPatterns(out))
    }
}

static FIXES_COMMIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^fixes:[ \t]*([0-9a-f]{4,40})\b").expect("valid regex"));
static LAUNCHPAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(closes|partial|related)-bug:[ \t]*#?([0-9]+)\b").expect("valid regex")
});
static KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:fix(?:e[sd])?|close[sd]?|resolve[sd]?):?[ \t]+((?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?#[0-9]+)\b",
    )
    .expect("valid regex")
});

/// Returns the commit ids of the footer's `Fixes: <id> ("subject")` trailers, as written.
pub fn fixes_commits(message: &[u8]) -> Vec<String> {
    footer(message)
        .iter()
        .filter_map(|line| {
            let line = String::from_utf8_lossy(line);
            FIXES_COMMIT.captures(line.trim()).map(|c| c[1].to_ascii_lowercase())
        })
        .collect()
}

/// Returns the bug ids a message names, each once (the strongest claim kept), in order.
pub fn bugs(message: &[u8], patterns: &BugPatterns) -> Vec<Bug> {
    let mut found: Vec<Bug> = Vec::new();
    let mut add = |id: String, strength: Strength| match found.iter_mut().find(|b| b.id == id) {
        Some(b) => b.strength = b.strength.min(strength),
        None => found.push(Bug { id, strength }),
    };
    for line in footer(message) {
        let line = String::from_utf8_lossy(line);
        if let Some(c) = LAUNCHPAD.captures(line.trim()) {
            let strength = if c[1].eq_ignore_ascii_case("related") {
                Strength::Related
            } else {
                Strength::Fixes
            };
            add(format!("#{}", &c[2]), strength);
        }
    }
    let text = String::from_utf8_lossy(message);
    for c in KEYWORD.captures_iter(&text) {
        add(c[1].to_string(), Strength::Fixes);
    }
    for re in &patterns.0 {
        for c in re.captures_iter(&text) {
            if let Some(m) = c.get(1) {
                add(m.as_str().to_string(), Strength::Fixes);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_fixes_trailers_are_read_from_the_footer_only() {
        let m = b"net: fix\n\nFixes: deadbeef0 (\"x\") in the body\n\nFixes: 1234abcd (\"y\")\nfixes: ABCDEF12\n";
        assert_eq!(fixes_commits(m), vec!["1234abcd", "abcdef12"]);
    }

    #[test]
    fn bug_ids_of_every_style_are_found() {
        let m = b"subject\n\nThis fixes #45 and resolves acme/tool#7.\n\nCloses-Bug: #123\nRelated-Bug: 9\nFixes: #45\n";
        let p = BugPatterns::new(&[r"JIRA-([0-9]+)".to_string()]).expect("one group");
        let got = bugs(m, &p);
        let ids: Vec<_> = got.iter().map(|b| (b.id.as_str(), b.strength)).collect();
        assert_eq!(
            ids,
            vec![
                ("#123", Strength::Fixes),
                ("#9", Strength::Related),
                ("#45", Strength::Fixes),
                ("acme/tool#7", Strength::Fixes)
            ]
        );
    }

    #[test]
    fn a_pattern_without_one_group_is_refused() {
        assert!(BugPatterns::new(&["JIRA-[0-9]+".to_string()]).is_err());
        assert!(BugPatterns::new(&["(".to_string()]).is_err());
    }
}
