//! GitHub's names: the server (its web address and its API root), a repository
//! (`owner/name`), and the token, checked before anything is sent.

use crate::review::{ReviewError, Secret};

/// A GitHub server: the web address people use and the REST API's root.
///
/// - `https://github.com` (or `api.github.com`): the API is `https://api.github.com`.
/// - Any other host, a GitHub Enterprise Server: its REST API is under
///   `https://HOST[/path]/api/v3`.
/// - A loopback host (`127.0.0.1`, `localhost`, `[::1]`): taken as the API root itself, for
///   servers that stand in for GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubUrl {
    web: String,
    api: String,
    host: String,
    plain_http: bool,
    loopback: bool,
}

impl GitHubUrl {
    /// Parses a server's `http(s)` URL, without credentials, query or fragment.
    pub fn parse(text: &str) -> Result<GitHubUrl, ReviewError> {
        let bad = |reason| ReviewError::BadGitHubUrl { url: text.to_string(), reason };
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("spaces or control characters in it"));
        }
        let url = url::Url::parse(text).map_err(|_| bad("it does not parse as a URL"))?;
        let plain_http = match url.scheme() {
            "https" => false,
            "http" => true,
            _ => return Err(bad("the scheme is not http or https")),
        };
        if !url.username().is_empty() || url.password().is_some() {
            // Never echoed: the URL may hold a token.
            return Err(ReviewError::BadGitHubUrl {
                url: "(a URL with credentials in it)".into(),
                reason: "give the token with GH_TOKEN or GITHUB_TOKEN, not in the URL",
            });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a server URL has no query or fragment"));
        }
        let host_name = url.host_str().ok_or_else(|| bad("no valid host"))?.to_ascii_lowercase();
        let host = match url.port() {
            Some(port) => format!("{host_name}:{port}"),
            None => host_name.clone(),
        };
        let origin = format!("{}://{host}", url.scheme());
        let path = url.path().trim_end_matches('/').to_string();
        let loopback = matches!(host_name.as_str(), "127.0.0.1" | "localhost" | "[::1]");
        let (web, api) = if host_name == "github.com" || host_name == "api.github.com" {
            ("https://github.com".to_string(), "https://api.github.com".to_string())
        } else if loopback {
            (format!("{origin}{path}"), format!("{origin}{path}"))
        } else {
            let web = format!("{origin}{}", path.trim_end_matches("/api/v3"));
            (web.clone(), format!("{web}/api/v3"))
        };
        let host = if api == "https://api.github.com" { "github.com".to_string() } else { host };
        Ok(GitHubUrl { web, api, host, plain_http, loopback })
    }

    /// Returns the REST API's root, without a trailing slash.
    pub fn api(&self) -> &str {
        &self.api
    }

    /// Returns the web address (`https://github.com`): where a credential helper keeps a
    /// token for the host.
    pub fn web(&self) -> &str {
        &self.web
    }

    /// Returns the host as messages name it (`github.com`, `127.0.0.1:8080`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Tells whether a token would cross the network in the clear: plain HTTP to a host
    /// other than this machine.
    pub fn exposes_token(&self) -> bool {
        self.plain_http && !self.loopback
    }
}

impl std::fmt::Display for GitHubUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.web)
    }
}

/// A repository on GitHub: `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubRepo {
    owner: String,
    name: String,
}

impl GitHubRepo {
    /// Parses `owner/name` (a trailing `.git` is dropped). Owners are letters, digits and
    /// hyphens; names are letters, digits, `-`, `_` and `.`, never `.` or `..` alone.
    pub fn parse(text: &str) -> Result<GitHubRepo, ReviewError> {
        let bad = |reason| ReviewError::BadRepository { repo: visible(text), reason };
        let (owner, name) = text.split_once('/').ok_or_else(|| bad("it is not owner/name"))?;
        let name = name.strip_suffix(".git").unwrap_or(name);
        if owner.is_empty() || name.is_empty() {
            return Err(bad("the owner or the name is empty"));
        }
        if !owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(bad("an owner has only letters, digits and hyphens"));
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(bad("a name has only letters, digits, '-', '_' and '.'"));
        }
        if name == "." || name == ".." {
            return Err(bad("the name is . or .."));
        }
        Ok(GitHubRepo { owner: owner.into(), name: name.into() })
    }

    /// Returns the owner.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Returns the name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for GitHubRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Returns `text` with control characters escaped, for a message.
fn visible(text: &str) -> String {
    text.chars().flat_map(char::escape_debug).collect()
}

/// A GitHub token (personal access token, app token, `gh auth token`'s): sent as
/// `Authorization: Bearer`, never shown.
#[derive(Clone)]
pub struct Token(Secret);

impl Token {
    /// Wraps a token.
    pub fn new(token: String) -> Token {
        Token(Secret::new(token))
    }

    /// Returns the whole `Authorization` header value.
    pub(super) fn header(&self) -> Secret {
        Secret::new(format!("Bearer {}", self.0.reveal()))
    }

    /// Returns the token itself, to keep it out of a message.
    pub(super) fn reveal(&self) -> &str {
        self.0.reveal()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(****)")
    }
}
