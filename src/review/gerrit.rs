//! Gerrit's REST API: the calls regraft makes, as data a plan can show, and the client
//! that sends exactly those.
//!
//! What each call follows in Gerrit's documentation (Documentation/rest-api*.html):
//! - rest-api.html "Authentication": `/a/` paths with HTTP Basic and the account's HTTP
//!   password; without `/a/` a request is anonymous (enough to list a public project's
//!   changes). "Output": JSON bodies start with the `)]}'` line.
//! - rest-api-changes.html "Query Changes" (`GET /changes/?q=...&n=...&S=...`): the last
//!   change of a page that was cut carries `_more_changes: true`; `S` skips.
//! - rest-api-changes.html "{change-id}": `<project>~<changeNumber>` with the project
//!   URL-encoded (`openstack%2Fkolla~101`). `ChangeInfo.id` is already in that form, so it is
//!   never encoded again: the identifier is built from `project` and `_number`.
//! - rest-api-changes.html "Abandon Change" and "Restore Change" (`POST .../abandon`,
//!   `.../restore` with an `AbandonInput`/`RestoreInput` body): 409 Conflict with a plain
//!   text message when the change is not in a state that allows it.
//! - rest-api-projects.html "Delete Branch", "Create Branch" (`BranchInput`), "Create Tag"
//!   (`TagInput`): project and branch names are URL-encoded path segments.
//! - rest-api-accounts.html "Get Account" (`GET /accounts/self`, the caller's own account,
//!   on the authenticated path): an `AccountInfo` (`_account_id`, and `name`, `email`,
//!   `username` when the server shows them); the one call that checks credentials and
//!   changes nothing.
//! - rest-api-projects.html "Check Access" (`GET /projects/{project}/check.access?account=
//!   {id}&ref={ref}&perm={perm}`; it needs the View Access global capability): an
//!   `AccessCheckInfo` ("AccessCheckInfo": `status` 200 allowed, 403 denied, 404 no such
//!   project; `message` when it is not 200).

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

use super::http::{Http, Request, encode};
use super::{
    Credentials, GerritUrl, HttpCall, Method, Outcome, Review, ReviewError, ReviewHost,
    ReviewStatus, Secret, Trust,
};
use crate::oid::ObjectId;

/// How many open changes on one branch regraft will page through before it stops with an
/// error (a server that never says it is done must not keep it asking).
const MAX_CHANGES: usize = 10_000;

/// How many changes a page asks for.
const PAGE: usize = 100;

/// Whether a call goes to Gerrit's authenticated `/a/` paths or is anonymous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Authenticated,
    Anonymous,
}

impl HttpCall {
    /// Returns the full URL of the call on `base`, authenticated (`/a/`) or anonymous.
    pub fn url(&self, base: &GerritUrl, access: Access) -> String {
        let prefix = match access {
            Access::Authenticated => "a/",
            Access::Anonymous => "",
        };
        format!("{base}/{prefix}{}", self.path)
    }

    /// One page of the open changes on `branch` of `project`, from the `start`th on.
    pub fn open_changes(project: &str, branch: &str, start: usize) -> HttpCall {
        let path = format!(
            "changes/?q=status:open+project:{}+branch:{}&n={PAGE}&S={start}",
            encode(project),
            encode(branch)
        );
        HttpCall::new(Method::Get, path, None)
    }

    /// Abandons a review, leaving `message` on it and notifying its owner.
    pub fn abandon(review: &Review, message: &str) -> HttpCall {
        let body = serde_json::json!({ "message": message, "notify": "OWNER" });
        HttpCall::new(Method::Post, format!("changes/{}/abandon", change_id(review)), Some(body))
    }

    /// The abandon of any listed review of `project`: the path holds `{number}` where each
    /// review's number goes (for plans, which are made before the listing).
    pub fn abandon_any(project: &str, message: &str) -> HttpCall {
        let body = serde_json::json!({ "message": message, "notify": "OWNER" });
        let path = format!("changes/{}~{{number}}/abandon", encode(project));
        HttpCall::new(Method::Post, path, Some(body))
    }

    /// The restore of any recorded review of `project`, `{number}` standing for its number.
    pub fn restore_any(project: &str, message: &str) -> HttpCall {
        let body = serde_json::json!({ "message": message, "notify": "OWNER" });
        let path = format!("changes/{}~{{number}}/restore", encode(project));
        HttpCall::new(Method::Post, path, Some(body))
    }

    /// Restores an abandoned review.
    pub fn restore(review: &Review, message: &str) -> HttpCall {
        let body = serde_json::json!({ "message": message, "notify": "OWNER" });
        HttpCall::new(Method::Post, format!("changes/{}/restore", change_id(review)), Some(body))
    }

    /// Deletes a branch; Gerrit answers 409 while the branch has open changes.
    pub fn delete_branch(project: &str, branch: &str) -> HttpCall {
        HttpCall::new(Method::Delete, branch_path(project, branch), None)
    }

    /// Creates a branch at `revision`.
    pub fn create_branch(project: &str, branch: &str, revision: ObjectId) -> HttpCall {
        let body = serde_json::json!({ "revision": revision.to_hex() });
        HttpCall::new(Method::Put, branch_path(project, branch), Some(body))
    }

    /// The caller's own account (`accounts/self`).
    pub fn own_account() -> HttpCall {
        HttpCall::new(Method::Get, "accounts/self".to_string(), None)
    }

    /// Asks whether `account` has the ref permission `perm` (Gerrit's name: `delete`,
    /// `create`, `createTag`, `push`, `abandon`...) on `reference` of `project`.
    pub fn check_access(project: &str, account: u64, reference: &str, perm: &str) -> HttpCall {
        let path = format!(
            "projects/{}/check.access?account={account}&ref={}&perm={}",
            encode(project),
            encode(reference),
            encode(perm)
        );
        HttpCall::new(Method::Get, path, None)
    }

    /// Creates an annotated tag at `revision`.
    pub fn create_tag(project: &str, tag: &str, revision: ObjectId, message: &str) -> HttpCall {
        let body = serde_json::json!({ "revision": revision.to_hex(), "message": message });
        HttpCall::new(
            Method::Put,
            format!("projects/{}/tags/{}", encode(project), encode(tag)),
            Some(body),
        )
    }
}

fn branch_path(project: &str, branch: &str) -> String {
    format!("projects/{}/branches/{}", encode(project), encode(branch))
}

/// Returns the change identifier `<project>~<number>`, the project encoded once. Records
/// written before the project was kept fall back to the bare number, which Gerrit accepts
/// too.
fn change_id(review: &Review) -> String {
    if review.project.is_empty() {
        review.number.to_string()
    } else {
        format!("{}~{}", encode(&review.project), review.number)
    }
}

/// The fields of a `ChangeInfo` regraft reads.
#[derive(Deserialize)]
struct ChangeInfo {
    #[serde(default)]
    id: String,
    #[serde(default)]
    project: String,
    #[serde(rename = "_number")]
    number: u64,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    change_id: String,
    #[serde(default)]
    branch: String,
    #[serde(default)]
    status: ReviewStatus,
    #[serde(rename = "_more_changes", default)]
    more: bool,
}

/// The fields of an `AccountInfo` regraft shows (rest-api-accounts.html "AccountInfo").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    #[serde(rename = "_account_id")]
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// An `AccessCheckInfo` (rest-api-projects.html "AccessCheckInfo"): the answer of Check
/// Access.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccessCheckInfo {
    /// 200 allowed, 403 denied, 404 no such project.
    pub status: u16,
    /// Why, when `status` is not 200.
    #[serde(default)]
    pub message: Option<String>,
}

/// A Gerrit server, through its REST API; anonymous when it has no credentials.
pub struct Gerrit {
    base: GerritUrl,
    credentials: Option<Credentials>,
    http: Http,
}

impl std::fmt::Debug for Gerrit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gerrit")
            .field("base", &self.base)
            .field("user", &self.credentials.as_ref().map(|c| c.user.as_str()))
            .field("http", &self.http)
            .finish()
    }
}

pub use super::http::DEFAULT_TIMEOUT;

impl Gerrit {
    /// Returns a client for the server at `url` (e.g. `https://review.opendev.org`).
    pub fn new(url: &GerritUrl, credentials: Credentials) -> Self {
        Gerrit::with(url, Some(credentials), DEFAULT_TIMEOUT)
    }

    /// Returns a client that sends anonymous requests (paths without `/a/`).
    pub fn anonymous(url: &GerritUrl) -> Self {
        Gerrit::with(url, None, DEFAULT_TIMEOUT)
    }

    /// Returns a client with the given credentials (none: anonymous) and timeout per request,
    /// trusting the platform's certificates (see [`Gerrit::trusting`]).
    pub fn with(url: &GerritUrl, credentials: Option<Credentials>, timeout: Duration) -> Self {
        let base = url.clone().without_credentials();
        let http = Http::new(base.to_string(), timeout, Trust::Platform);
        Gerrit { base, credentials, http }
    }

    /// Connects to the server at `url` as every plan step, check and record does: the
    /// credentials `named` allows ([`Credentials::find`]: none found is an error), the
    /// certificates git's configuration trusts for it ([`Trust::find`]).
    pub fn connect(
        git: &crate::git::Git,
        url: &GerritUrl,
        named: super::Named,
        timeout: Duration,
    ) -> Result<Gerrit, ReviewError> {
        let credentials = Credentials::find(git, url, named)?;
        let trust = Trust::find(git, url)?;
        Ok(Gerrit::with(url, Some(credentials), timeout).trusting(trust))
    }

    /// Returns this client checking the server's certificate against `trust` (what
    /// [`Trust::find`] finds for the repository).
    pub fn trusting(mut self, trust: Trust) -> Self {
        self.http = self.http.trusting(trust);
        self
    }

    /// Returns a client for a server the user did not name (found in `.gitreview`): one try
    /// of a few seconds, so a server out of reach costs little.
    pub fn brief(url: &GerritUrl, credentials: Option<Credentials>) -> Self {
        Gerrit::with(url, credentials, Duration::from_secs(5)).with_retries(0)
    }

    /// Returns this client set to try a transient failure again `retries` times (default 3).
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.http = self.http.with_retries(retries);
        self
    }

    /// Tells whether requests are authenticated.
    pub fn authenticated(&self) -> bool {
        self.credentials.is_some()
    }

    /// Returns whether calls go to the authenticated paths.
    pub fn access(&self) -> Access {
        if self.authenticated() { Access::Authenticated } else { Access::Anonymous }
    }

    /// Returns the full URL `call` is sent to.
    pub fn url_of(&self, call: &HttpCall) -> String {
        call.url(&self.base, self.access())
    }

    /// Returns this client telling `observer` of rate-limit waits and retries.
    pub fn observed(mut self, observer: super::http::Observer) -> Self {
        self.http = self.http.observed(observer);
        self
    }

    /// Sends one call (see [`Http::send`]: transient failures retried, rate limits waited
    /// out, the whole call bounded by the client's timeout) and returns the status and the
    /// body with Gerrit's `)]}'` prefix removed; 401 and 403 are
    /// [`ReviewError::Unauthorized`].
    pub fn send(&self, call: &HttpCall) -> Result<(u16, String), ReviewError> {
        let url = self.url_of(call);
        let auth = self.credentials.as_ref().map(|c| {
            let token = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                c.user,
                c.password().reveal()
            ));
            Secret::new(format!("Basic {token}"))
        });
        let body = match call.method {
            Method::Put | Method::Post | Method::Patch => {
                Some(call.body.as_deref().unwrap_or("{}"))
            }
            Method::Get | Method::Delete => None,
        };
        let response = self.http.send(&Request {
            method: call.method,
            url: &url,
            body,
            auth: auth.as_ref().map(|a| ("Authorization", a)),
            headers: &[],
        })?;
        let status = response.status;
        if status == 401 || status == 403 {
            return Err(ReviewError::Unauthorized {
                method: call.method,
                url,
                server: self.base.to_string(),
                user: self.credentials.as_ref().map_or("anonymous".to_string(), |c| c.user.clone()),
                status,
            });
        }
        let text = response.body;
        Ok((status, text.strip_prefix(")]}'").unwrap_or(&text).trim_start().to_string()))
    }

    /// Returns the account the credentials sign in as (`GET /a/accounts/self`): the check
    /// that the server takes them, made before anything depends on them. Without
    /// credentials there is no account to check: [`ReviewError::NoCredentials`].
    pub fn own_account(&self) -> Result<Account, ReviewError> {
        if !self.authenticated() {
            return Err(ReviewError::NoCredentials { url: self.base.to_string(), withheld: None });
        }
        let call = HttpCall::own_account();
        let text = self.expect_ok(&call)?;
        serde_json::from_str(&text)
            .map_err(|e| ReviewError::Parse { url: self.url_of(&call), detail: e.to_string() })
    }

    /// Asks Check Access whether `account` has `perm` on `reference` of `project`
    /// (authenticated only: the call needs an account with View Access).
    pub fn check_access(
        &self,
        project: &str,
        account: u64,
        reference: &str,
        perm: &str,
    ) -> Result<AccessCheckInfo, ReviewError> {
        if !self.authenticated() {
            return Err(ReviewError::NoCredentials { url: self.base.to_string(), withheld: None });
        }
        let call = HttpCall::check_access(project, account, reference, perm);
        let text = self.expect_ok(&call)?;
        serde_json::from_str(&text)
            .map_err(|e| ReviewError::Parse { url: self.url_of(&call), detail: e.to_string() })
    }

    /// Sends a call that must succeed (2xx) and returns the body.
    fn expect_ok(&self, call: &HttpCall) -> Result<String, ReviewError> {
        let (status, text) = self.send(call)?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        Err(ReviewError::Status { method: call.method, url: self.url_of(call), status, body: text })
    }

    fn act(&self, call: &HttpCall) -> Result<Outcome, ReviewError> {
        let (status, text) = self.send(call)?;
        match status {
            200..=299 => Ok(Outcome::Done),
            409 => Ok(Outcome::AlreadyThere(text.trim().to_string())),
            _ => Err(ReviewError::Status {
                method: call.method,
                url: self.url_of(call),
                status,
                body: text,
            }),
        }
    }
}

impl ReviewHost for Gerrit {
    fn name(&self) -> String {
        self.base.to_string()
    }

    fn open_reviews(&self, project: &str, branch: &str) -> Result<Vec<Review>, ReviewError> {
        let mut reviews: Vec<Review> = Vec::new();
        let mut seen = HashSet::new();
        // Collected whole before anything is changed: abandoning while paging shifts pages.
        loop {
            let call = HttpCall::open_changes(project, branch, reviews.len());
            let text = self.expect_ok(&call)?;
            let page: Vec<ChangeInfo> = serde_json::from_str(&text).map_err(|e| {
                ReviewError::Parse { url: self.url_of(&call), detail: e.to_string() }
            })?;
            let more = page.last().is_some_and(|c| c.more);
            let before = reviews.len();
            for c in page {
                if seen.insert((c.project.clone(), c.number)) {
                    reviews.push(Review {
                        id: c.id,
                        project: if c.project.is_empty() { project.to_string() } else { c.project },
                        number: c.number,
                        subject: c.subject,
                        change_id: c.change_id,
                        branch: c.branch,
                        status: c.status,
                    });
                }
            }
            if !more {
                break;
            }
            // A page that brings nothing new while the server says there are more: a server
            // or proxy that ignores `S` would be asked forever, and a listing cut short
            // must not pass for a complete one.
            if reviews.len() == before {
                return Err(ReviewError::Paging { url: self.url_of(&call), count: reviews.len() });
            }
            if reviews.len() >= MAX_CHANGES {
                return Err(ReviewError::TooMany { url: self.url_of(&call), count: reviews.len() });
            }
        }
        Ok(reviews)
    }

    fn abandon(&self, review: &Review, message: &str) -> Result<Outcome, ReviewError> {
        self.act(&HttpCall::abandon(review, message))
    }

    fn restore(&self, review: &Review, message: &str) -> Result<Outcome, ReviewError> {
        self.act(&HttpCall::restore(review, message))
    }

    fn delete_branch(&self, project: &str, branch: &str) -> Result<(), ReviewError> {
        self.expect_ok(&HttpCall::delete_branch(project, branch)).map(drop)
    }

    fn create_branch(
        &self,
        project: &str,
        branch: &str,
        revision: ObjectId,
    ) -> Result<(), ReviewError> {
        self.expect_ok(&HttpCall::create_branch(project, branch, revision)).map(drop)
    }

    fn create_tag(
        &self,
        project: &str,
        tag: &str,
        revision: ObjectId,
        message: &str,
    ) -> Result<(), ReviewError> {
        self.expect_ok(&HttpCall::create_tag(project, tag, revision, message)).map(drop)
    }

    fn own_account(&self) -> Result<Account, ReviewError> {
        Gerrit::own_account(self)
    }

    fn check_access(
        &self,
        project: &str,
        account: u64,
        reference: &str,
        perm: &str,
    ) -> Result<AccessCheckInfo, ReviewError> {
        Gerrit::check_access(self, project, account, reference, perm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_identifiers_encode_the_project_once() {
        // Regression: ChangeInfo.id (already encoded) was encoded again (%252F).
        let review = Review {
            id: "openstack%2Fkolla~101".into(),
            project: "openstack/kolla".into(),
            number: 101,
            subject: String::new(),
            change_id: String::new(),
            branch: "stable/liberty".into(),
            status: ReviewStatus::New,
        };
        assert_eq!(HttpCall::abandon(&review, "m").path, "changes/openstack%2Fkolla~101/abandon");
        let any = HttpCall::abandon_any("openstack/kolla", "m");
        assert_eq!(any.path.replace("{number}", "101"), HttpCall::abandon(&review, "m").path);
        assert_eq!(any.body, HttpCall::abandon(&review, "m").body);
        assert_eq!(encode("stable/liberty"), "stable%2Fliberty");
        assert_eq!(encode("openstack/kolla"), "openstack%2Fkolla");
        // Unreserved characters stay; everything else (UTF-8 bytes included) is escaped.
        assert_eq!(encode("a-b_c.d~e f+g:h@ü"), "a-b_c.d~e%20f%2Bg%3Ah%40%C3%BC");
        // Query values are encoded as path segments are: a ref's slashes and a `&` in a
        // name cannot split the query.
        assert_eq!(
            HttpCall::check_access("openstack/kolla", 1000096, "refs/heads/a&b", "delete").path,
            "projects/openstack%2Fkolla/check.access?account=1000096&ref=refs%2Fheads%2Fa%26b&perm=delete"
        );
    }

    #[test]
    fn calls_with_a_body_read_and_write_back_the_same() {
        // Journals and saved plans hold the method as HTTP writes it.
        let with_body = r#"{"method":"POST","path":"changes/p~{number}/abandon","body":"{\"message\":\"m\",\"notify\":\"OWNER\"}"}"#;
        let call: HttpCall = serde_json::from_str(with_body).expect("reads");
        assert_eq!(call, HttpCall::abandon_any("p", "m"));
        assert_eq!(serde_json::to_string(&call).expect("writes"), with_body);
    }
}
