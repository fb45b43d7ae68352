//! GitLab as a review host, through its REST API v4: a project's open merge requests
//! listed (every page), retargeted, closed, reopened, commented on and opened, its
//! protected branches and default branch read.
//!
//! What it follows in GitLab's documentation (doc/api/):
//! - rest/index.md: the token in `PRIVATE-TOKEN`; a missing or refused one is `401
//!   {"message":"401 Unauthorized"}`, and a private project asked without one is `404`;
//!   offset pagination with `page`/`per_page` (max 100) and `x-next-page` (empty on the
//!   last page); errors as `{"message": ...}` (a string, a list, or a map of fields) or
//!   `{"error": ...}`.
//! - merge_requests.md "List project merge requests", "Get single MR", "Create MR",
//!   "Update MR" (`target_branch`, `state_event`); notes.md "Create new merge request note";
//!   protected_branches.md (a rule may be a wildcard such as `stable/*`; the most
//!   permissive matching rule decides, repository/branches/protection_rules.md);
//!   projects.md "Get single project" (`default_branch`).

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;

use super::http::{DEFAULT_TIMEOUT, Http, HttpCall, Method, Observer, Request, Response};
use super::{OpenRequest, RequestState, ReviewError, Trust};
use crate::oid::ObjectId;

pub mod calls;
mod project;

pub use project::{GitLabUrl, Project, Token};

/// The most merge requests one listing collects before it stops as a runaway.
const MAX_REQUESTS: usize = 10_000;
/// The most pages of notes read while looking for the newest one a person wrote.
const MAX_NOTE_PAGES: u64 = 100;

pub use super::forge::Protection;

/// A GitLab project's REST client.
#[derive(Debug, Clone)]
pub struct GitLab {
    url: GitLabUrl,
    project: Project,
    token: Option<Token>,
    http: Http,
}

/// A merge request as GitLab writes it (merge_requests.md), the fields read here.
#[derive(Deserialize)]
struct MergeRequest {
    iid: u64,
    #[serde(default)]
    title: String,
    #[serde(default)]
    source_branch: String,
    #[serde(default)]
    target_branch: String,
    #[serde(default)]
    sha: Option<String>,
    #[serde(default)]
    web_url: String,
    #[serde(default)]
    author: Option<User>,
    #[serde(default)]
    state: String,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    username: String,
}

impl From<MergeRequest> for OpenRequest {
    fn from(mr: MergeRequest) -> OpenRequest {
        OpenRequest {
            number: mr.iid,
            title: mr.title,
            head: mr.source_branch,
            head_sha: mr.sha.and_then(|s| ObjectId::from_hex(s.as_bytes())),
            base: mr.target_branch,
            url: mr.web_url,
            author: mr.author.map(|a| a.username).unwrap_or_default(),
            state: match mr.state.as_str() {
                "opened" => RequestState::Open,
                "closed" => RequestState::Closed,
                "merged" => RequestState::Merged,
                other => RequestState::Other(other.to_string()),
            },
        }
    }
}

/// A protected-branch rule (protected_branches.md), the fields read here.
#[derive(Deserialize)]
struct Rule {
    name: String,
    #[serde(default)]
    allow_force_push: bool,
    #[serde(default)]
    push_access_levels: Vec<AccessLevel>,
}

#[derive(Deserialize)]
struct AccessLevel {
    #[serde(default)]
    access_level: Option<u32>,
}

/// GitLab's "Developer" access level: a rule that lets it push restricts little.
const DEVELOPER: u32 = 30;

impl Rule {
    /// Tells whether the rule covers `branch`: `*` matches any run of characters.
    fn covers(&self, branch: &str) -> bool {
        wildcard(&self.name, branch)
    }

    fn lets_developers_push(&self) -> bool {
        self.push_access_levels.iter().any(|l| l.access_level == Some(DEVELOPER))
    }
}

fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => text.strip_prefix(head).is_some_and(|text| {
            text.char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .any(|i| wildcard(rest, &text[i..]))
        }),
    }
}

impl GitLab {
    /// Returns a client for `project` on the instance at `url`, sending `token` (none:
    /// anonymous, which reads public projects only), with the default timeout and the
    /// platform's certificates.
    pub fn new(url: &GitLabUrl, project: Project, token: Option<Token>) -> GitLab {
        // A note or a merge request is created by a POST: never sent twice.
        let http = Http::new(url.to_string(), DEFAULT_TIMEOUT, Trust::Platform).posting_once();
        GitLab { url: url.clone(), project, token, http }
    }

    /// Returns this client bounding every call by `timeout` (retries and waits included).
    pub fn with_timeout(mut self, timeout: Duration) -> GitLab {
        let http = Http::new(self.url.to_string(), timeout, Trust::Platform).posting_once();
        self.http = http;
        self
    }

    /// Returns this client checking the server's certificate against `trust`.
    pub fn trusting(mut self, trust: Trust) -> GitLab {
        self.http = self.http.trusting(trust);
        self
    }

    /// Returns this client trying a transient failure again `retries` times (default 3).
    pub fn with_retries(mut self, retries: u32) -> GitLab {
        self.http = self.http.with_retries(retries);
        self
    }

    /// Returns this client telling `observer` of rate-limit waits and retries.
    pub fn observed(mut self, observer: Observer) -> GitLab {
        self.http = self.http.observed(observer);
        self
    }

    /// Returns the project.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// Returns the full URL `call` goes to.
    pub fn url_of(&self, call: &HttpCall) -> String {
        format!("{}/{}", self.url.api(), call.path)
    }

    /// Sends `call` exactly as it is (a plan step's call) and returns the body of a 2xx
    /// answer; any other status is an error carrying GitLab's message.
    pub fn send(&self, call: &HttpCall) -> Result<String, ReviewError> {
        Ok(self.exchange(call)?.body)
    }

    fn exchange(&self, call: &HttpCall) -> Result<Response, ReviewError> {
        let url = self.url_of(call);
        let body = match call.method {
            Method::Post | Method::Put | Method::Patch => {
                Some(call.body.as_deref().unwrap_or("{}"))
            }
            Method::Get | Method::Delete => None,
        };
        let response = self.http.send(&Request {
            method: call.method,
            url: &url,
            body,
            auth: self.token.as_ref().map(|t| ("PRIVATE-TOKEN", &t.0)),
            headers: &[("Accept", "application/json")],
        })?;
        if response.ok() {
            return Ok(response);
        }
        let message = message(&response.body);
        let status = response.status;
        let refused = |remedy: String| ReviewError::Refused {
            method: call.method,
            url: url.clone(),
            server: self.url.to_string(),
            status,
            message: message.clone(),
            remedy,
        };
        let host = self.url.host();
        let give = format!(
            "set GITLAB_TOKEN to a token of {host} with the `api` scope, or store one for {host} with a git credential helper (`git credential approve`)"
        );
        Err(match (status, &self.token) {
            (401, None) => refused(format!("it needs a token: {give}")),
            (401, Some(_)) => refused(format!(
                "the token was refused (expired, revoked, or of another instance): {give}, or replace the one your credential helper holds for {host} (`git credential reject`)"
            )),
            (403, _) => refused(format!(
                "the token may not do this on {}: it needs the `api` scope and at least the Developer role (Maintainer for protected branches)",
                self.project
            )),
            // A private project is hidden from a request without a token.
            (404, None) if message.contains("Project Not Found") => refused(format!(
                "{} is private or does not exist; if it is private, {give}",
                self.project
            )),
            _ => ReviewError::Status { method: call.method, url, status, body: message },
        })
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        call: &HttpCall,
        text: &str,
    ) -> Result<T, ReviewError> {
        serde_json::from_str(text)
            .map_err(|e| ReviewError::Parse { url: self.url_of(call), detail: e.to_string() })
    }

    fn merge_request(&self, call: &HttpCall) -> Result<OpenRequest, ReviewError> {
        let text = self.send(call)?;
        Ok(self.parse::<MergeRequest>(call, &text)?.into())
    }

    /// Returns the page after `page` that a listing's answer names in `x-next-page` (GitLab's
    /// offset pagination), `None` on the last page; a next page that is no number, or is
    /// not after this one, is an error rather than a loop.
    fn next_page(
        &self,
        call: &HttpCall,
        response: &Response,
        page: u64,
    ) -> Result<Option<u64>, ReviewError> {
        let next = response.header("x-next-page").map(str::trim).unwrap_or_default();
        if next.is_empty() {
            return Ok(None);
        }
        let pages = |detail: String| ReviewError::Pages { url: self.url_of(call), detail };
        let next: u64 = next
            .parse()
            .map_err(|_| pages(format!("x-next-page is `{next}`, not a page number")))?;
        if next <= page {
            return Err(pages(format!("page {page} says the next is page {next}")));
        }
        Ok(Some(next))
    }

    /// Returns every open merge request into `base`, all pages collected before anything
    /// is changed (changing them while paging would shift the pages).
    pub fn open_requests(&self, base: &str) -> Result<Vec<OpenRequest>, ReviewError> {
        let mut found: Vec<OpenRequest> = Vec::new();
        let mut seen = HashSet::new();
        let mut page = 1;
        loop {
            let call = calls::list_open(&self.project, base, page)?;
            let response = self.exchange(&call)?;
            let list: Vec<MergeRequest> = self.parse(&call, &response.body)?;
            let before = found.len();
            for mr in list {
                if seen.insert(mr.iid) {
                    found.push(mr.into());
                }
            }
            let Some(next) = self.next_page(&call, &response, page)? else { return Ok(found) };
            let pages = |detail: String| ReviewError::Pages { url: self.url_of(&call), detail };
            if found.len() == before {
                return Err(pages(format!(
                    "page {page} says there are more merge requests but brings none that is new (after {})",
                    found.len()
                )));
            }
            if found.len() > MAX_REQUESTS {
                return Err(pages(format!("more than {MAX_REQUESTS} open merge requests")));
            }
            page = next;
        }
    }

    /// Returns merge request `number` (its `iid`).
    pub fn request(&self, number: u64) -> Result<OpenRequest, ReviewError> {
        self.merge_request(&calls::request(&self.project, number))
    }

    /// Makes merge request `number` target `base`, and checks that it does.
    pub fn retarget(&self, number: u64, base: &str) -> Result<OpenRequest, ReviewError> {
        let call = calls::retarget(&self.project, number, base)?;
        let mr = self.merge_request(&call)?;
        if mr.base != base {
            return Err(ReviewError::Parse {
                url: self.url_of(&call),
                detail: format!("the answer says !{number} still targets {}, not {base}", mr.base),
            });
        }
        Ok(mr)
    }

    /// Closes merge request `number` (closing a closed one changes nothing).
    pub fn close(&self, number: u64) -> Result<OpenRequest, ReviewError> {
        let call = calls::close(&self.project, number);
        let mr = self.merge_request(&call)?;
        self.expect_state(&call, &mr, RequestState::Closed)?;
        Ok(mr)
    }

    /// Reopens merge request `number`; GitLab refuses when its source or target branch is
    /// gone, or another open one has the same branches.
    pub fn reopen(&self, number: u64) -> Result<OpenRequest, ReviewError> {
        let call = calls::reopen(&self.project, number);
        let mr = self.merge_request(&call)?;
        self.expect_state(&call, &mr, RequestState::Open)?;
        Ok(mr)
    }

    fn expect_state(
        &self,
        call: &HttpCall,
        mr: &OpenRequest,
        state: RequestState,
    ) -> Result<(), ReviewError> {
        if mr.state == state {
            return Ok(());
        }
        Err(ReviewError::Parse {
            url: self.url_of(call),
            detail: format!("the answer says !{} is {}, not {state}", mr.number, mr.state),
        })
    }

    /// Adds a comment (a note) to merge request `number`.
    pub fn comment(&self, number: u64, body: &str) -> Result<(), ReviewError> {
        self.send(&calls::comment(&self.project, number, body)).map(drop)
    }

    /// Returns the body of the newest note a person (not GitLab: its system notes record
    /// state changes) wrote on merge request `number`, if there is one.
    pub fn last_comment(&self, number: u64) -> Result<Option<String>, ReviewError> {
        #[derive(Deserialize)]
        struct Note {
            body: String,
            #[serde(default)]
            system: bool,
        }
        let mut page = 1;
        loop {
            let call = calls::notes(&self.project, number, page);
            let response = self.exchange(&call)?;
            let notes: Vec<Note> = self.parse(&call, &response.body)?;
            if let Some(note) = notes.into_iter().find(|n| !n.system) {
                return Ok(Some(note.body));
            }
            let Some(next) = self.next_page(&call, &response, page)? else { return Ok(None) };
            if next > MAX_NOTE_PAGES {
                let detail = format!("more than {MAX_NOTE_PAGES} pages of notes");
                return Err(ReviewError::Pages { url: self.url_of(&call), detail });
            }
            page = next;
        }
    }

    /// Opens a merge request from `head` into `base`.
    pub fn create_request(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<OpenRequest, ReviewError> {
        self.merge_request(&calls::create(&self.project, head, base, title, body)?)
    }

    /// Returns how `branch` is protected, `None` when no rule covers it: the rule named
    /// exactly so, and every wildcard rule that matches it, the most permissive deciding.
    pub fn protection(&self, branch: &str) -> Result<Option<Protection>, ReviewError> {
        let exact = calls::protection(&self.project, branch)?;
        let mut rules: Vec<Rule> = match self.send(&exact) {
            Ok(text) => vec![self.parse(&exact, &text)?],
            Err(ReviewError::Status { status: 404, .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut page = 1;
        loop {
            let call = calls::protection_rules(&self.project, page);
            let response = self.exchange(&call)?;
            let listed: Vec<Rule> = self.parse(&call, &response.body)?;
            let more = !listed.is_empty();
            for rule in listed {
                if rule.covers(branch) && !rules.iter().any(|r| r.name == rule.name) {
                    rules.push(rule);
                }
            }
            let next = response.header("x-next-page").and_then(|n| n.trim().parse::<u64>().ok());
            match next {
                Some(next) if more && next > page && page < 100 => page = next,
                _ => break,
            }
        }
        if rules.is_empty() {
            return Ok(None);
        }
        let names: Vec<String> = rules.iter().map(|r| format!("`{}`", r.name)).collect();
        let allows_force_push = rules.iter().any(|r| r.allow_force_push);
        Ok(Some(Protection {
            branch: branch.to_string(),
            allows_force_push,
            allows_deletion: false,
            push_restricted: !rules.iter().any(Rule::lets_developers_push),
            rule: format!(
                "GitLab's protected branch rule{} {} of {}",
                if names.len() > 1 { "s" } else { "" },
                names.join(", "),
                self.project
            ),
            fix: format!(
                "in {}/{}/-/settings/repository, Protected branches: turn on \"Allowed to force push\" for {}, or unprotect {branch} for the surgery (GitLab never lets a push delete a protected branch)",
                self.url,
                self.project,
                names.join(", ")
            ),
        }))
    }

    /// Returns the project's default branch.
    pub fn default_branch(&self) -> Result<String, ReviewError> {
        #[derive(Deserialize)]
        struct ProjectInfo {
            default_branch: Option<String>,
        }
        let call = calls::repository(&self.project);
        let text = self.send(&call)?;
        let info: ProjectInfo = self.parse(&call, &text)?;
        info.default_branch.ok_or_else(|| ReviewError::Parse {
            url: self.url_of(&call),
            detail: format!("{} has no default branch (an empty repository?)", self.project),
        })
    }
}

/// Returns GitLab's error message from a body: `message` (a string, a list, or a map of
/// fields to lists), or `error` with its `error_description`, else the text itself.
fn message(body: &str) -> String {
    let text = body.trim();
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return text.chars().take(300).collect();
    };
    let flat = |v: &serde_json::Value| -> String {
        match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or(i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join("; "),
            serde_json::Value::Object(fields) => fields
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k} {}",
                        v.as_array().map_or(v.to_string(), |a| a
                            .iter()
                            .map(|i| i.as_str().unwrap_or_default().to_string())
                            .collect::<Vec<_>>()
                            .join(", "))
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    };
    if let Some(m) = value.get("message") {
        return flat(m);
    }
    if let Some(e) = value.get("error") {
        return match value.get("error_description").and_then(|d| d.as_str()) {
            Some(d) => format!("{}: {d}", flat(e)),
            None => flat(e),
        };
    }
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_s_error_shapes_read_as_one_line() {
        assert_eq!(message(r#"{"message":"401 Unauthorized"}"#), "401 Unauthorized");
        assert_eq!(
            message(r#"{"message":["Another open merge request"]}"#),
            "Another open merge request"
        );
        assert_eq!(
            message(r#"{"message":{"title":["is too long","is bad"]}}"#),
            "title is too long, is bad"
        );
        assert_eq!(
            message(r#"{"error":"insufficient_scope","error_description":"needs api"}"#),
            "insufficient_scope: needs api"
        );
        assert_eq!(message("Retry later\n"), "Retry later");
    }

    #[test]
    fn wildcards_match_any_run_of_characters() {
        assert!(wildcard("stable/*", "stable/liberty"));
        assert!(wildcard("*-stable", "1-0-stable"));
        assert!(wildcard("*", "a/b"));
        assert!(!wildcard("stable/*", "unstable/liberty"));
        assert!(!wildcard("main", "main2"));
    }
}
