//! Where a commit says it came from beyond git's own cherry-pick line: the Linux stable
//! trees' `commit X upstream.` and `[ Upstream commit X ]`, Django's `Backport of X from
//! main`, a project's own patterns; what it says it reverts; subjects compared loosely.

/// A provenance marker found in a message: the commit it names, as written (lower case,
/// possibly abbreviated), and the line it was found on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub commit: String,
    pub line: String,
}

/// A project's own provenance patterns (`regraft.provenance`), each a regular expression
/// with exactly one capture group: the commit.
#[derive(Debug, Clone, Default)]
pub struct Patterns(Vec<regex::Regex>);

/// A configured pattern that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the provenance pattern `{pattern}` (git config regraft.provenance) {why}")]
pub struct PatternError {
    pub pattern: String,
    pub why: String,
}

impl Patterns {
    /// Compiles the patterns; each must have exactly one capture group.
    pub fn new(patterns: &[String]) -> Result<Self, PatternError> {
        let mut compiled = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            let error = |why: String| PatternError { pattern: pattern.clone(), why };
            let regex = regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| error(format!("is not a regular expression: {e}")))?;
            let groups = regex.captures_len() - 1;
            if groups != 1 {
                return Err(error(format!(
                    "has {groups} capture groups; it needs exactly one, around the commit"
                )));
            }
            compiled.push(regex);
        }
        Ok(Patterns(compiled))
    }

    /// Tells whether no pattern is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Returns the commits the message's provenance markers name, in order, other than
/// `(cherry picked from commit X)` lines (see [`super::message::cherry_picked_from`]).
///
/// Built in, each on a line of its own (leading and trailing blanks ignored):
/// `commit X upstream.` (the period optional), `[ Upstream commit X ]` (the inner blanks
/// optional), `Backport of X from BRANCH` (the period optional). Each pattern of
/// `patterns` is matched against every line; its capture group is the commit. A commit
/// is 4 to 40 hex digits; anything else is no marker.
pub fn markers(message: &[u8], patterns: &Patterns) -> Vec<Marker> {
    let text = String::from_utf8_lossy(message);
    let mut found = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(commit) = built_in(trimmed) {
            found.push(Marker { commit, line: trimmed.to_string() });
            continue;
        }
        for pattern in &patterns.0 {
            let commit = pattern
                .captures(line)
                .and_then(|c| c.get(1))
                .and_then(|m| hex_name(m.as_str().trim()));
            if let Some(commit) = commit {
                found.push(Marker { commit, line: trimmed.to_string() });
                break;
            }
        }
    }
    found
}

fn built_in(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("commit ") {
        let rest = rest.strip_suffix('.').unwrap_or(rest);
        let hex = rest.strip_suffix(" upstream")?;
        return hex_name(hex);
    }
    if let Some(rest) = line.strip_prefix('[') {
        let rest = rest.strip_suffix(']')?.trim();
        let hex = rest.strip_prefix("Upstream commit ")?;
        return hex_name(hex.trim());
    }
    if let Some(rest) = line.strip_prefix("Backport of ") {
        let (hex, branch) = rest.split_once(" from ")?;
        let branch = branch.strip_suffix('.').unwrap_or(branch);
        if branch.is_empty() || branch.contains(char::is_whitespace) {
            return None;
        }
        return hex_name(hex);
    }
    None
}

/// Returns the commits the message says it reverts: git's `This reverts commit X.` (and
/// the merge form `This reverts commit X, reversing changes made to Y.`), anywhere.
pub fn reverts(message: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(message);
    let mut found = Vec::new();
    let needle = "This reverts commit ";
    let mut rest: &str = &text;
    while let Some(at) = rest.find(needle) {
        rest = &rest[at + needle.len()..];
        let end = rest.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(rest.len());
        if let Some(commit) = hex_name(&rest[..end]) {
            found.push(commit);
        }
    }
    found
}

/// Returns the subject without what differs between a change and its backport on
/// projects that number their pull requests: leading and trailing bracketed tags
/// (`[5.1.x]`, `[liberty]`) and a trailing pull-request number (`(#1234)`).
pub fn comparable_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let before = s;
        if let Some(rest) = s.strip_prefix('[').and_then(|r| r.split_once(']')) {
            s = rest.1.trim_start();
        }
        if let Some(open) = s.rfind(" (#")
            && s.ends_with(')')
            && s[open + 3..s.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && s.len() > open + 4
        {
            s = s[..open].trim_end();
        }
        if s.ends_with(']')
            && let Some(open) = s.rfind(" [")
        {
            s = s[..open].trim_end();
        }
        if s == before {
            return s.to_string();
        }
    }
}

fn hex_name(hex: &str) -> Option<String> {
    ((4..=40).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "0123456789abcdef0123456789abcdef01234567";

    fn commits(message: &str, patterns: &Patterns) -> Vec<String> {
        markers(message.as_bytes(), patterns).into_iter().map(|m| m.commit).collect()
    }

    #[test]
    fn kernel_and_django_forms_are_read() {
        let none = Patterns::default();
        let kernel = format!("fix\n\ncommit {FULL} upstream.\n\nBody\n");
        assert_eq!(commits(&kernel, &none), vec![FULL]);
        let bracket = format!("fix\n\n[ Upstream commit {} ]\n", FULL.to_uppercase());
        assert_eq!(commits(&bracket, &none), vec![FULL]);
        assert_eq!(
            commits("[5.1.x] Fixed\n\nBackport of 1a2b3c4d5e from main.\n", &none),
            ["1a2b3c4d5e"]
        );
        // Prose that only looks alike is no marker.
        assert!(commits("commit deadbeef was upstream before\n", &none).is_empty());
        assert!(commits("Backport of the fix from main\n", &none).is_empty());
        assert!(commits("commit abc upstream.\n", &none).is_empty());
    }

    #[test]
    fn configured_patterns_need_one_group() {
        let p = Patterns::new(&["^Upstream-Id: ([0-9a-f]+)$".to_string()]).expect("valid");
        assert_eq!(commits("x\n\nUpstream-Id: abcdef12\n", &p), vec!["abcdef12"]);
        assert!(Patterns::new(&["no group".to_string()]).is_err());
        assert!(Patterns::new(&["(a)(b)".to_string()]).is_err());
        assert!(Patterns::new(&["(unclosed".to_string()]).is_err());
    }

    #[test]
    fn reverts_are_read_in_both_forms() {
        let msg = format!("Revert \"x\"\n\nThis reverts commit {FULL}.\n");
        assert_eq!(reverts(msg.as_bytes()), vec![FULL]);
        let merge = format!("Revert\n\nThis reverts commit {FULL}, reversing\nchanges.\n");
        assert_eq!(reverts(merge.as_bytes()), vec![FULL]);
    }

    #[test]
    fn subjects_compare_without_tags_and_numbers() {
        assert_eq!(comparable_subject("[5.1.x] Fixed #1 -- thing (#123)"), "Fixed #1 -- thing");
        assert_eq!(comparable_subject("Fix it [liberty]"), "Fix it");
        assert_eq!(comparable_subject("Fix (#)"), "Fix (#)");
    }
}
