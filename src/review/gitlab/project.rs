//! Which GitLab, which project, and the token: checked before anything is sent.

use super::super::{ReviewError, Secret};
use crate::git::names::check_branch;

/// A GitLab instance's URL without userinfo (`https://gitlab.com`, or an instance under a
/// path such as `https://example.org/gitlab`); its REST API is under `/api/v4`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLabUrl {
    /// `scheme://host[:port][/path]`, no trailing slash.
    base: String,
}

impl GitLabUrl {
    /// Parses an `http` or `https` URL with a host and no userinfo, query or fragment; a
    /// URL ending in `/api/v4` names the same instance. A token in the URL is refused, and
    /// the error shows the URL without it.
    pub fn parse(text: &str) -> Result<GitLabUrl, ReviewError> {
        let bad = |reason: &str| ReviewError::BadName {
            what: "GitLab URL (give http(s)://host[:port][/path])",
            name: redact(text),
            reason: reason.to_string(),
        };
        let (scheme, _) = text.split_once("://").ok_or_else(|| bad("no scheme"))?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(bad("the scheme is not http or https"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("spaces or control characters in it"));
        }
        let url = url::Url::parse(text).map_err(|_| bad("it does not parse as a URL"))?;
        if url.host().is_none() {
            return Err(bad("no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "it holds credentials; give the token with GITLAB_TOKEN or a git credential helper instead",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("an instance URL has no query or fragment"));
        }
        let base = url.as_str().trim_end_matches('/');
        let base = base.strip_suffix("/api/v4").unwrap_or(base).to_string();
        Ok(GitLabUrl { base })
    }

    /// Returns the instance's URL, as messages show it.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Returns the REST API's root, `<instance>/api/v4`.
    pub fn api(&self) -> String {
        format!("{}/api/v4", self.base)
    }

    /// Returns the host (and port), as a git credential helper is asked for it.
    pub fn host(&self) -> &str {
        let rest = self.base.split_once("://").map_or(self.base.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
}

impl std::fmt::Display for GitLabUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)
    }
}

/// Returns `text` with whatever sits between `://` and an `@` before the path replaced.
fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else { return text.to_string() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://****@{}", &rest[at + 1..]),
        None => text.to_string(),
    }
}

/// A project's full path (`group/subgroup/name`) or its numeric id, checked: each part is
/// GitLab's path characters (letters, digits, `_`, `-`, `.`), none empty, `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project(String);

impl Project {
    /// Checks `path`.
    pub fn parse(path: &str) -> Result<Project, ReviewError> {
        let bad = |reason: &str| ReviewError::BadName {
            what: "GitLab project path (group/name)",
            name: path.escape_debug().to_string(),
            reason: reason.to_string(),
        };
        if path.is_empty() {
            return Err(bad("it is empty"));
        }
        for part in path.split('/') {
            if part.is_empty() {
                return Err(bad("it has an empty part (a `/` at an end, or `//`)"));
            }
            if part == "." || part == ".." {
                return Err(bad("`.` and `..` name no project"));
            }
            if !part.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
                return Err(bad("only letters, digits, `_`, `-` and `.` make a path"));
            }
        }
        Ok(Project(path.to_string()))
    }

    /// Returns the path as the user gave it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Project {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a branch name before it goes into a request.
pub(super) fn branch(name: &str) -> Result<&str, ReviewError> {
    check_branch(name).map_err(|e| ReviewError::BadName {
        what: "branch name",
        name: name.escape_debug().to_string(),
        reason: e.to_string(),
    })?;
    Ok(name)
}

/// A GitLab token (personal, project or group access token): sent as `PRIVATE-TOKEN` and
/// never shown (`Debug` prints stars).
#[derive(Clone)]
pub struct Token(pub(super) Secret);

impl Token {
    /// Wraps `token`.
    pub fn new(token: String) -> Token {
        Token(Secret::new(token))
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({:?})", self.0)
    }
}
