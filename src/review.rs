//! Review hosts: the open reviews on a branch, abandoned before the branch is deleted or
//! recreated and restored afterwards. Gerrit is the host built now, through its REST API;
//! another host (GitHub pull requests, GitLab merge requests) implements [`ReviewHost`].

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::git::Git;

/// Errors from a review host.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "no credentials for {url}: set REGRAFT_GERRIT_USER and REGRAFT_GERRIT_PASSWORD, or store them with a git credential helper (a password in a URL serves only the command it was given to; it is never stored)"
    )]
    NoCredentials { url: String },
    /// The URL is shown with its password replaced.
    #[error("`{url}` is not a Gerrit URL: {reason} (give http(s)://host[:port][/path])")]
    BadUrl { url: String, reason: &'static str },
    #[error("{method} {url}: the server refused the credentials of `{user}` (HTTP {status})")]
    Unauthorized { method: String, url: String, user: String, status: u16 },
    #[error("{method} {url}: HTTP {status}: {body}")]
    Status { method: String, url: String, status: u16, body: String },
    #[error("{method} {url}: {detail}")]
    Transport { method: String, url: String, detail: String },
    #[error("{url}: unexpected answer: {detail}")]
    Parse { url: String, detail: String },
}

impl ReviewError {
    /// Tells whether the error comes from what the user gave (a URL, credentials) rather
    /// than from the server or the network.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            ReviewError::NoCredentials { .. }
                | ReviewError::Unauthorized { .. }
                | ReviewError::BadUrl { .. }
        )
    }
}

/// A review on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The host's id for it (Gerrit: `project~number`).
    pub id: String,
    pub number: u64,
    pub subject: String,
    pub change_id: String,
    pub branch: String,
    pub status: String,
}

/// What an abandon or restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Outcome {
    Done,
    /// The review was already in the state asked for (Gerrit's 409): information, not failure.
    AlreadyThere(String),
}

/// What regraft needs from a review host.
pub trait ReviewHost {
    /// Returns every open review on `branch` of `project`, all pages collected.
    fn open_reviews(&self, project: &str, branch: &str) -> Result<Vec<Review>, ReviewError>;
    /// Abandons a review, with a message.
    fn abandon(&self, review: &Review, message: &str) -> Result<Outcome, ReviewError>;
    /// Restores an abandoned review, with a message.
    fn restore(&self, review: &Review, message: &str) -> Result<Outcome, ReviewError>;
}

/// A password that never shows: its `Debug` and `Display` print stars.
#[derive(Clone)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("****")
    }
}

/// A Gerrit server's URL without userinfo: the only form that is shown, stored in plans,
/// journals and records, and given to the HTTP client.
///
/// A `user:password@` in the URL the user gave is split off by [`GerritUrl::parse`] and
/// kept in memory only: it is never displayed and never serialized, so an operation resumed
/// from its journal finds credentials again (environment or credential helper).
#[derive(Clone)]
pub struct GerritUrl {
    /// `scheme://host[:port][/path]`, no trailing slash.
    base: String,
    /// The user, and the password if there was one, percent-decoded.
    userinfo: Option<(String, Option<Secret>)>,
}

impl GerritUrl {
    /// Parses an `http` or `https` URL with a host, splitting off and percent-decoding its
    /// userinfo (RFC 3986). The error shows the text with its password replaced.
    pub fn parse(text: &str) -> Result<GerritUrl, ReviewError> {
        let bad = |reason| ReviewError::BadUrl { url: redact(text), reason };
        let (scheme, rest) = text.split_once("://").ok_or_else(|| bad("no scheme"))?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(bad("the scheme is not http or https"));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if path.contains(['?', '#']) || authority.contains(['?', '#']) {
            return Err(bad("a server URL has no query or fragment"));
        }
        // The last `@` ends the userinfo: a password may hold an unencoded `@`.
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((info, host)) => (Some(info), host),
            None => (None, authority),
        };
        let (host, port, v6) = match host_port.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']').ok_or_else(|| bad("an unclosed ["))?;
                let port = if after.is_empty() { Some("") } else { after.strip_prefix(':') };
                (host, port.ok_or_else(|| bad("no valid port"))?, true)
            }
            None => {
                let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, ""));
                (host, port, false)
            }
        };
        let host_char = |c: char| {
            c.is_ascii_alphanumeric() || if v6 { ":.".contains(c) } else { "-._~%".contains(c) }
        };
        if host.is_empty() || !host.chars().all(host_char) {
            return Err(bad("no valid host"));
        }
        let port_ok = port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok();
        if !port.is_empty() && !port_ok {
            return Err(bad("no valid port"));
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("spaces or control characters in the path"));
        }
        let userinfo = match userinfo {
            None => None,
            Some(info) => {
                let (user, password) = match info.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (info, None),
                };
                let user = percent_decode(user).ok_or_else(|| bad("a bad %-escape in the user"))?;
                let password = password
                    .map(|p| percent_decode(p).ok_or_else(|| bad("a bad %-escape in the password")))
                    .transpose()?;
                Some((user, password.filter(|p| !p.is_empty()).map(Secret)))
            }
        };
        let base = format!("{}://{host_port}{}", scheme.to_ascii_lowercase(), path);
        Ok(GerritUrl { base: base.trim_end_matches('/').to_string(), userinfo })
    }

    /// Returns the URL without userinfo.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Returns the same URL without the credentials that came with it.
    pub fn without_credentials(self) -> GerritUrl {
        GerritUrl { userinfo: None, ..self }
    }
}

/// Returns `text` with the password of a URL's userinfo replaced by stars. Everything up to
/// the last `@` counts as userinfo, so a password with an unencoded `/`, `?` or `#` (a URL
/// that does not parse) is hidden too.
fn redact(text: &str) -> String {
    let start = text.find("://").map_or(0, |i| i + 3);
    match text[start..].rfind('@').map(|i| start + i) {
        Some(at) => match text[start..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:****{}", &text[..start], &text[at..]),
            None => text.to_string(),
        },
        None => text.to_string(),
    }
}

/// Decodes `%XX` escapes; none when an escape is malformed or the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl std::fmt::Display for GerritUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)
    }
}

impl std::fmt::Debug for GerritUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("GerritUrl").field(&self.base).finish()
    }
}

/// Two URLs are the same server whatever credentials came with them.
impl PartialEq for GerritUrl {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base
    }
}

impl Eq for GerritUrl {}

impl Serialize for GerritUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.base)
    }
}

/// Reads the URL a plan or record stored; a password a file might still hold (written by an
/// older regraft) is dropped, not used.
impl<'de> Deserialize<'de> for GerritUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        GerritUrl::parse(&text)
            .map(GerritUrl::without_credentials)
            .map_err(serde::de::Error::custom)
    }
}

/// A user and password for a host.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: String,
    password: Secret,
}

impl Credentials {
    /// Finds the credentials for `url`, first found wins: `REGRAFT_GERRIT_USER` and
    /// `REGRAFT_GERRIT_PASSWORD`; the user and password the URL was given with; `git
    /// credential fill` for the URL (with the URL's user, if it had only a user), so existing
    /// credential helpers work; git is told not to prompt. The environment comes first so
    /// that a run and its resumption (which never has the URL's password) use the same.
    pub fn find(git: &Git, url: &GerritUrl) -> Result<Credentials, ReviewError> {
        let env = |k| std::env::var(k).ok().filter(|v: &String| !v.is_empty());
        if let (Some(user), Some(password)) =
            (env("REGRAFT_GERRIT_USER"), env("REGRAFT_GERRIT_PASSWORD"))
        {
            return Ok(Credentials { user, password: Secret(password) });
        }
        let given_user = match &url.userinfo {
            Some((user, Some(password))) => {
                return Ok(Credentials { user: user.clone(), password: password.clone() });
            }
            Some((user, None)) => Some(user.as_str()).filter(|u| !u.is_empty()),
            None => None,
        };
        // Values with a newline would add lines to git's credential protocol.
        if given_user.is_some_and(|u| u.contains(['\n', '\0'])) {
            return Err(ReviewError::NoCredentials { url: url.to_string() });
        }
        let user_line = given_user.map(|u| format!("username={u}\n")).unwrap_or_default();
        let request = format!("url={url}\n{user_line}\n");
        let prompt_off: [(&str, &std::ffi::OsStr); 1] =
            [("GIT_TERMINAL_PROMPT", std::ffi::OsStr::new("0"))];
        let answer = git
            .output_with_input_env(&["credential", "fill"], &prompt_off, request.as_bytes())
            .map_err(|_| ReviewError::NoCredentials { url: url.to_string() })?;
        let text = String::from_utf8_lossy(&answer);
        let field = |name: &str| {
            text.lines().find_map(|l| l.strip_prefix(&format!("{name}=")).map(str::to_string))
        };
        match (field("username"), field("password")) {
            (Some(user), Some(password)) if !password.is_empty() => {
                Ok(Credentials { user, password: Secret(password) })
            }
            _ => Err(ReviewError::NoCredentials { url: url.to_string() }),
        }
    }

    /// Credentials given directly (tests, other callers).
    pub fn new(user: &str, password: &str) -> Self {
        Credentials { user: user.to_string(), password: Secret(password.to_string()) }
    }
}

/// A Gerrit server, through its REST API (authenticated `/a/` paths, HTTP Basic with the
/// account's HTTP password, `)]}'` before every JSON body).
pub struct Gerrit {
    base: String,
    credentials: Credentials,
    agent: ureq::Agent,
    /// How many times a transient failure (5xx, connection trouble) is tried again.
    retries: u32,
}

impl std::fmt::Debug for Gerrit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gerrit")
            .field("base", &self.base)
            .field("user", &self.credentials.user)
            .finish()
    }
}

/// Encodes a path segment (project and branch names hold slashes).
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
struct ChangeInfo {
    id: String,
    #[serde(rename = "_number")]
    number: u64,
    subject: String,
    change_id: String,
    branch: String,
    status: String,
    #[serde(rename = "_more_changes", default)]
    more: bool,
}

impl Gerrit {
    /// Returns a client for the server at `url` (e.g. `https://review.opendev.org`).
    pub fn new(url: &GerritUrl, credentials: Credentials) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Gerrit { base: url.as_str().to_string(), credentials, agent, retries: 3 }
    }

    /// Sends one request; retries transient failures with backoff, never a 4xx; returns the
    /// status and the body with Gerrit's `)]}'` prefix removed.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<(u16, String), ReviewError> {
        let url = format!("{}/a/{path}", self.base);
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.credentials.user, self.credentials.password.0));
        let auth = format!("Basic {token}");
        let mut attempt = 0;
        loop {
            let result = match (method, body) {
                ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
                ("DELETE", _) => self.agent.delete(&url).header("Authorization", &auth).call(),
                ("PUT", Some(b)) => self
                    .agent
                    .put(&url)
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .send(b),
                (_, b) => self
                    .agent
                    .post(&url)
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .send(b.unwrap_or("{}")),
            };
            let transient = match result {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let text = response.body_mut().read_to_string().unwrap_or_default();
                    if status < 500 {
                        let text =
                            text.strip_prefix(")]}'").unwrap_or(&text).trim_start().to_string();
                        if status == 401 || status == 403 {
                            return Err(ReviewError::Unauthorized {
                                method: method.into(),
                                url,
                                user: self.credentials.user.clone(),
                                status,
                            });
                        }
                        return Ok((status, text));
                    }
                    ReviewError::Status {
                        method: method.into(),
                        url: url.clone(),
                        status,
                        body: text.trim().to_string(),
                    }
                }
                Err(e) => ReviewError::Transport {
                    method: method.into(),
                    url: url.clone(),
                    detail: e.to_string(),
                },
            };
            if attempt >= self.retries {
                return Err(transient);
            }
            attempt += 1;
            std::thread::sleep(Duration::from_millis(100 << attempt));
        }
    }

    /// Sends a request that must succeed (2xx) and returns the body.
    fn expect_ok(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<String, ReviewError> {
        let (status, text) = self.call(method, path, body)?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        Err(ReviewError::Status {
            method: method.into(),
            url: format!("{}/a/{path}", self.base),
            status,
            body: text,
        })
    }

    fn act(&self, review: &Review, action: &str, message: &str) -> Result<Outcome, ReviewError> {
        let path = format!("changes/{}/{action}", encode(&review.id));
        let body = serde_json::json!({ "message": message, "notify": "OWNER" }).to_string();
        let (status, text) = self.call("POST", &path, Some(&body))?;
        match status {
            200..=299 => Ok(Outcome::Done),
            409 => Ok(Outcome::AlreadyThere(text.trim().to_string())),
            _ => Err(ReviewError::Status {
                method: "POST".into(),
                url: format!("{}/a/{path}", self.base),
                status,
                body: text,
            }),
        }
    }
}

impl Gerrit {
    /// Deletes a branch through the REST API (`DELETE /a/projects/{p}/branches/{b}`);
    /// Gerrit answers 409 while the branch has open changes.
    pub fn delete_branch(&self, project: &str, branch: &str) -> Result<(), ReviewError> {
        let path = format!("projects/{}/branches/{}", encode(project), encode(branch));
        self.expect_ok("DELETE", &path, None).map(drop)
    }

    /// Creates a branch at `revision` through the REST API (`PUT .../branches/{b}`).
    pub fn create_branch(
        &self,
        project: &str,
        branch: &str,
        revision: crate::oid::ObjectId,
    ) -> Result<(), ReviewError> {
        let path = format!("projects/{}/branches/{}", encode(project), encode(branch));
        let body = serde_json::json!({ "revision": revision.to_hex() }).to_string();
        self.expect_ok("PUT", &path, Some(&body)).map(drop)
    }

    /// Creates an annotated tag at `revision` through the REST API (`PUT .../tags/{t}`).
    pub fn create_tag(
        &self,
        project: &str,
        tag: &str,
        revision: crate::oid::ObjectId,
        message: &str,
    ) -> Result<(), ReviewError> {
        let path = format!("projects/{}/tags/{}", encode(project), encode(tag));
        let body =
            serde_json::json!({ "revision": revision.to_hex(), "message": message }).to_string();
        self.expect_ok("PUT", &path, Some(&body)).map(drop)
    }
}

impl ReviewHost for Gerrit {
    fn open_reviews(&self, project: &str, branch: &str) -> Result<Vec<Review>, ReviewError> {
        let mut reviews = Vec::new();
        // Collected whole before anything is changed: abandoning while paging shifts pages.
        for _ in 0..10_000 {
            let path = format!(
                "changes/?q=status:open+project:{}+branch:{}&n=100&S={}",
                encode(project),
                encode(branch),
                reviews.len()
            );
            let text = self.expect_ok("GET", &path, None)?;
            let page: Vec<ChangeInfo> = serde_json::from_str(&text).map_err(|e| {
                ReviewError::Parse { url: format!("{}/a/{path}", self.base), detail: e.to_string() }
            })?;
            let more = page.last().is_some_and(|c| c.more);
            let empty = page.is_empty();
            reviews.extend(page.into_iter().map(|c| Review {
                id: c.id,
                number: c.number,
                subject: c.subject,
                change_id: c.change_id,
                branch: c.branch,
                status: c.status,
            }));
            if !more || empty {
                break;
            }
        }
        Ok(reviews)
    }

    fn abandon(&self, review: &Review, message: &str) -> Result<Outcome, ReviewError> {
        self.act(review, "abandon", message)
    }

    fn restore(&self, review: &Review, message: &str) -> Result<Outcome, ReviewError> {
        self.act(review, "restore", message)
    }
}

/// Returns the project path of a remote URL: `https://review.opendev.org/openstack/kolla`
/// and `ssh://u@host:29418/openstack/kolla.git` give `openstack/kolla`.
pub fn project_of(remote_url: &str) -> String {
    let path = match remote_url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        // `user@host:path`, or a local path.
        None => remote_url.split_once(':').map_or(remote_url, |(_, p)| p),
    };
    path.trim_start_matches('/')
        .trim_start_matches("a/")
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .to_string()
}

/// What an abandon records, so `restore --from-journal` can bring the reviews back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AbandonRecord {
    pub gerrit: GerritUrl,
    pub project: String,
    pub branch: String,
    pub reviews: Vec<Review>,
}

impl AbandonRecord {
    /// Returns where the record lives in a repository's git directory.
    pub fn path(git_dir: &std::path::Path) -> std::path::PathBuf {
        git_dir.join("regraft").join("abandoned.json")
    }

    /// Writes the record (to a temporary file, then renamed).
    pub fn save(&self, git_dir: &std::path::Path) -> std::io::Result<()> {
        let path = Self::path(git_dir);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::state_file::write(
            &path,
            &serde_json::to_vec_pretty(self).expect("the record serializes"),
        )
    }
}

/// Abandons every open review on `branch` of `project`: all pages are collected first,
/// then each is abandoned, then the branch is asked again (a review may have been uploaded
/// meanwhile) until none is left, at most three rounds. With `dry_run`, only lists them.
pub fn abandon_all(
    host: &dyn ReviewHost,
    project: &str,
    branch: &str,
    message: &str,
    dry_run: bool,
) -> Result<Vec<(Review, Option<Outcome>)>, ReviewError> {
    let mut done: Vec<(Review, Option<Outcome>)> = Vec::new();
    for _ in 0..3 {
        let open: Vec<Review> = host
            .open_reviews(project, branch)?
            .into_iter()
            .filter(|r| !done.iter().any(|(d, _)| d.id == r.id))
            .collect();
        if open.is_empty() {
            break;
        }
        for review in open {
            let outcome = if dry_run { None } else { Some(host.abandon(&review, message)?) };
            done.push((review, outcome));
        }
        if dry_run {
            break;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show() {
        let c = Credentials::new("rel", "s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn urls_lose_their_userinfo_to_credentials() {
        let url = GerritUrl::parse("HTTPS://rel%40team:p%3Ass%2F%40w@review.example.org:8443/r/")
            .expect("parses");
        assert_eq!(url.to_string(), "https://review.example.org:8443/r");
        assert_eq!(format!("{url:?}"), r#"GerritUrl("https://review.example.org:8443/r")"#);
        let Some((user, Some(password))) = &url.userinfo else { panic!("{url:?}") };
        assert_eq!((user.as_str(), password.0.as_str()), ("rel@team", "p:ss/@w"));
        assert_eq!(
            serde_json::to_string(&url).expect("json"),
            r#""https://review.example.org:8443/r""#
        );
        let back: GerritUrl = serde_json::from_str(r#""http://rel:pw@[::1]:8080""#).expect("reads");
        assert_eq!((back.as_str(), back.userinfo.is_none()), ("http://[::1]:8080", true));
        let user_only = GerritUrl::parse("http://rel@host").expect("parses");
        assert!(matches!(&user_only.userinfo, Some((u, None)) if u == "rel"));
        for bad in [
            "ftp://rel:s3cret@host",
            "rel:s3cret@host",
            "http://rel:s3cret@",
            "http://rel:s3cret@/path",
            "http://rel:s3cret@host:port",
            "http://rel:s3cret@host/?q",
            "http://rel:%zz@host",
            "http://rel:s3cret@ho st",
            "http://rel:s3cret@host:99999999999",
            "http://rel:s3cret/s3cret@host",
            "http://rel:s3cret?s3cret@host",
        ] {
            let err = GerritUrl::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("not a Gerrit URL") && !err.contains("s3cret"), "{bad}: {err}");
        }
    }

    #[test]
    fn projects_from_urls() {
        assert_eq!(project_of("https://review.opendev.org/openstack/kolla"), "openstack/kolla");
        assert_eq!(
            project_of("ssh://rel@review.opendev.org:29418/openstack/kolla.git"),
            "openstack/kolla"
        );
        assert_eq!(project_of("git@example.org:team/tool.git"), "team/tool");
        assert_eq!(encode("stable/liberty"), "stable%2Fliberty");
    }
}
