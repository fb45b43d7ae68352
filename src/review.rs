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
        "no credentials for {url}: set REGRAFT_GERRIT_USER and REGRAFT_GERRIT_PASSWORD, or store them with a git credential helper"
    )]
    NoCredentials { url: String },
    #[error("{method} {url}: the server refused the credentials of `{user}` (HTTP {status})")]
    Unauthorized { method: String, url: String, user: String, status: u16 },
    #[error("{method} {url}: HTTP {status}: {body}")]
    Status { method: String, url: String, status: u16, body: String },
    #[error("{method} {url}: {detail}")]
    Transport { method: String, url: String, detail: String },
    #[error("{url}: unexpected answer: {detail}")]
    Parse { url: String, detail: String },
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

/// A user and password for a host.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: String,
    password: Secret,
}

impl Credentials {
    /// Reads `REGRAFT_GERRIT_USER`/`REGRAFT_GERRIT_PASSWORD`, else asks `git credential
    /// fill` for `url` (so existing credential helpers work; git is told not to prompt).
    pub fn find(git: &Git, url: &str) -> Result<Credentials, ReviewError> {
        let env = |k| std::env::var(k).ok().filter(|v: &String| !v.is_empty());
        if let (Some(user), Some(password)) =
            (env("REGRAFT_GERRIT_USER"), env("REGRAFT_GERRIT_PASSWORD"))
        {
            return Ok(Credentials { user, password: Secret(password) });
        }
        let request = format!("url={url}\n\n");
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
    pub fn new(url: &str, credentials: Credentials) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Gerrit { base: url.trim_end_matches('/').to_string(), credentials, agent, retries: 3 }
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
    pub gerrit: String,
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
        let temp = path.with_extension("json.new");
        std::fs::write(&temp, serde_json::to_vec_pretty(self).expect("the record serializes"))?;
        std::fs::rename(temp, path)
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
