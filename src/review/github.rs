//! GitHub as a review host, through its REST API (version 2022-11-28): the open pull
//! requests on a branch (every page), retargeting, closing and reopening them, comments,
//! new pull requests, branch protection and the default branch. Every call is an
//! [`HttpCall`] ([`calls`]) sent as it is shown.

use std::time::Duration;

use serde_json::Value;

use super::http::{Http, Observer, Request, Response};
use super::{HttpCall, OpenRequest, RequestState, ReviewError, Trust};
use crate::oid::ObjectId;

pub mod calls;
mod names;

pub use names::{GitHubRepo, GitHubUrl, Token};

/// The most pages one listing reads (100 pull requests each) before it stops.
pub const MAX_PAGES: usize = 100;

pub use super::forge::Protection;

/// A client of one repository on one GitHub server.
pub struct GitHub {
    url: GitHubUrl,
    repo: GitHubRepo,
    token: Option<Token>,
    http: Http,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("url", &self.url)
            .field("repo", &self.repo)
            .field("token", &self.token)
            .finish()
    }
}

impl GitHub {
    /// Returns a client of `repo` on `url`, sending `token` when there is one; each call
    /// ends within `timeout`, retries and rate-limit waits included. A token is never sent
    /// over plain HTTP to another machine.
    pub fn new(
        url: GitHubUrl,
        repo: GitHubRepo,
        token: Option<Token>,
        timeout: Duration,
    ) -> Result<GitHub, ReviewError> {
        if token.is_some() && url.exposes_token() {
            return Err(ReviewError::PlainHttp { url: url.api().to_string(), from: "the token" });
        }
        // A comment or a pull request is created by a POST: never sent twice.
        let http = Http::new(url.host().to_string(), timeout, Trust::Platform).posting_once();
        Ok(GitHub { url, repo, token, http })
    }

    /// Returns this client checking certificates against `trust`.
    pub fn trusting(mut self, trust: Trust) -> GitHub {
        self.http = self.http.trusting(trust);
        self
    }

    /// Returns this client telling `observer` of rate-limit waits and retries.
    pub fn observed(mut self, observer: Observer) -> GitHub {
        self.http = self.http.observed(observer);
        self
    }

    /// Returns this client trying a 5xx or a connection failure again `retries` times.
    pub fn with_retries(mut self, retries: u32) -> GitHub {
        self.http = self.http.with_retries(retries);
        self
    }

    /// Returns the server.
    pub fn url(&self) -> &GitHubUrl {
        &self.url
    }

    /// Returns the repository.
    pub fn repo(&self) -> &GitHubRepo {
        &self.repo
    }

    /// Returns the absolute URL `call` goes to.
    pub fn url_of(&self, call: &HttpCall) -> String {
        format!("{}/{}", self.url.api(), call.path)
    }

    /// Sends `call` exactly as it is, and returns the 2xx answer; any other status is an
    /// error carrying GitHub's message.
    pub fn send(&self, call: &HttpCall) -> Result<Response, ReviewError> {
        let url = self.url_of(call);
        let auth = self.token.as_ref().map(Token::header);
        let headers = [
            ("Accept", "application/vnd.github+json"),
            ("X-GitHub-Api-Version", "2022-11-28"),
            ("User-Agent", concat!("regraft/", env!("CARGO_PKG_VERSION"))),
        ];
        let response = self.http.send(&Request {
            method: call.method,
            url: &url,
            body: call.body.as_deref(),
            auth: auth.as_ref().map(|a| ("Authorization", a)),
            headers: &headers,
        })?;
        if response.ok() {
            return Ok(response);
        }
        let message = self.hide_token(&error_message(&response.body));
        Err(match response.status {
            401 => ReviewError::GitHubAuth {
                method: call.method,
                url,
                host: self.url.host().to_string(),
                web: self.url.web().to_string(),
                message,
                token_given: self.token.is_some(),
            },
            status => ReviewError::GitHub {
                method: call.method,
                url,
                status,
                message,
                token_given: self.token.is_some(),
            },
        })
    }

    /// Returns `text` with the token, should a server echo it, starred out.
    fn hide_token(&self, text: &str) -> String {
        match &self.token {
            Some(token) if !token.reveal().is_empty() => text.replace(token.reveal(), "****"),
            _ => text.to_string(),
        }
    }

    fn json(&self, call: &HttpCall) -> Result<(Value, Response), ReviewError> {
        let response = self.send(call)?;
        let value = serde_json::from_str(&response.body).map_err(|e| ReviewError::Parse {
            url: self.url_of(call),
            detail: format!("not JSON ({e})"),
        })?;
        Ok((value, response))
    }

    fn pull(&self, call: &HttpCall) -> Result<OpenRequest, ReviewError> {
        let (value, _) = self.json(call)?;
        open_request(&value).ok_or_else(|| ReviewError::Parse {
            url: self.url_of(call),
            detail: "not a pull request".into(),
        })
    }

    /// Returns every open pull request into `base`: all pages, followed through the
    /// `link` header's `rel="next"`, which must stay on this API's root.
    pub fn open_requests(&self, base: &str) -> Result<Vec<OpenRequest>, ReviewError> {
        let mut call = calls::list_open(&self.repo, base, 1);
        let mut found: Vec<OpenRequest> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..MAX_PAGES {
            let (value, response) = self.json(&call)?;
            let page = value.as_array().ok_or_else(|| ReviewError::Parse {
                url: self.url_of(&call),
                detail: "not a list of pull requests".into(),
            })?;
            let mut new = 0;
            for item in page {
                let pull = open_request(item).ok_or_else(|| ReviewError::Parse {
                    url: self.url_of(&call),
                    detail: "a list item is not a pull request".into(),
                })?;
                if !seen.insert(pull.number) {
                    continue;
                }
                new += 1;
                // What the server should not have sent is left out.
                if pull.base == base && pull.state == RequestState::Open {
                    found.push(pull);
                }
            }
            let Some(next) = response.header("link").and_then(next_link) else {
                return Ok(found);
            };
            if new == 0 {
                return Err(ReviewError::BadPage {
                    url: self.url_of(&call),
                    detail: format!(
                        "the page links to a next one but brings no pull request not seen already (after {})",
                        seen.len()
                    ),
                });
            }
            call = self.next_call(&call, &next)?;
        }
        Err(ReviewError::BadPage {
            url: self.url_of(&calls::list_open(&self.repo, base, 1)),
            detail: format!("more than {MAX_PAGES} pages of pull requests"),
        })
    }

    /// Returns the call for a `link` URL, refused unless it is under this API's root (the
    /// token would go with it).
    fn next_call(&self, from: &HttpCall, link: &str) -> Result<HttpCall, ReviewError> {
        let root = format!("{}/", self.url.api());
        match link.strip_prefix(&root) {
            Some(path) if !path.contains("..") => {
                Ok(HttpCall { method: from.method, path: path.to_string(), body: None })
            }
            _ => Err(ReviewError::BadPage {
                url: self.url_of(from),
                detail: format!(
                    "the next page's link goes to {}, outside {}; not followed, so that the token stays with {}",
                    link.split('?').next().unwrap_or(link),
                    self.url.api(),
                    self.url.host()
                ),
            }),
        }
    }

    /// Returns pull request `number`.
    pub fn request(&self, number: u64) -> Result<OpenRequest, ReviewError> {
        self.pull(&calls::get(&self.repo, number))
    }

    /// Changes pull request `number`'s base to `base`, checking the answer says so.
    pub fn retarget(&self, number: u64, base: &str) -> Result<OpenRequest, ReviewError> {
        let call = calls::retarget(&self.repo, number, base);
        let pull = self.pull(&call)?;
        self.check(&call, pull.base == base, &pull, &format!("its base is still {}", pull.base))
    }

    /// Closes pull request `number`.
    pub fn close(&self, number: u64) -> Result<OpenRequest, ReviewError> {
        let call = calls::close(&self.repo, number);
        let pull = self.pull(&call)?;
        self.check(&call, pull.state != RequestState::Open, &pull, "it is still open")
    }

    /// Reopens pull request `number`.
    pub fn reopen(&self, number: u64) -> Result<OpenRequest, ReviewError> {
        let call = calls::reopen(&self.repo, number);
        let pull = self.pull(&call)?;
        self.check(&call, pull.state == RequestState::Open, &pull, "it is still not open")
    }

    fn check(
        &self,
        call: &HttpCall,
        done: bool,
        pull: &OpenRequest,
        still: &str,
    ) -> Result<OpenRequest, ReviewError> {
        if done {
            return Ok(pull.clone());
        }
        Err(ReviewError::Parse {
            url: self.url_of(call),
            detail: format!("GitHub answered success for #{}, but {still}", pull.number),
        })
    }

    /// Adds a comment to pull request `number`'s conversation.
    pub fn comment(&self, number: u64, body: &str) -> Result<(), ReviewError> {
        self.send(&calls::comment(&self.repo, number, body)).map(drop)
    }

    /// Returns the body of the newest comment in pull request `number`'s conversation
    /// (every page read: GitHub lists them oldest first), if it has any.
    pub fn last_comment(&self, number: u64) -> Result<Option<String>, ReviewError> {
        let first = calls::comments(&self.repo, number, 1);
        let mut call = first.clone();
        let mut last = None;
        for _ in 0..MAX_PAGES {
            let (value, response) = self.json(&call)?;
            let page = value.as_array().ok_or_else(|| ReviewError::Parse {
                url: self.url_of(&call),
                detail: "not a list of comments".into(),
            })?;
            if let Some(item) = page.last() {
                let body = item["body"].as_str().ok_or_else(|| ReviewError::Parse {
                    url: self.url_of(&call),
                    detail: "a comment without a body".into(),
                })?;
                last = Some(body.to_string());
            }
            let Some(next) = response.header("link").and_then(next_link) else {
                return Ok(last);
            };
            if page.is_empty() {
                return Err(ReviewError::BadPage {
                    url: self.url_of(&call),
                    detail: "the page links to a next one but brings no comment".into(),
                });
            }
            call = self.next_call(&call, &next)?;
        }
        Err(ReviewError::BadPage {
            url: self.url_of(&first),
            detail: format!("more than {MAX_PAGES} pages of comments"),
        })
    }

    /// Opens a pull request from `head` into `base`.
    pub fn create_request(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<OpenRequest, ReviewError> {
        self.pull(&calls::create(&self.repo, head, base, title, body))
    }

    /// Returns `branch`'s protection, or `None` when GitHub says it has none.
    pub fn protection(&self, branch: &str) -> Result<Option<Protection>, ReviewError> {
        let call = calls::protection(&self.repo, branch);
        let value = match self.json(&call) {
            Ok((value, _)) => value,
            // Only these two answers mean "no protection": a plain "Not Found" is a
            // repository the token cannot see, and says nothing about the branch.
            Err(ReviewError::GitHub { status: 404, message, .. })
                if message == "Branch not protected" || message == "Branch not found" =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let enabled = |key: &str| value[key]["enabled"].as_bool().unwrap_or(false);
        let push_restricted = value.get("restrictions").is_some_and(|r| !r.is_null());
        let (allows_force_push, allows_deletion) =
            (enabled("allow_force_pushes"), enabled("allow_deletions"));
        let mut refused = Vec::new();
        if !allows_force_push {
            refused.push("allow force pushes");
        }
        if !allows_deletion {
            refused.push("allow deletions");
        }
        if push_restricted {
            refused.push("let the pushing account push (Restrict who can push)");
        }
        let fix = if refused.is_empty() {
            format!("nothing in the branch protection of {branch} refuses a push")
        } else {
            format!(
                "in {}/{}/settings/branches, edit the rule for {branch}: {}",
                self.url.web(),
                self.repo,
                refused.join(", ")
            )
        };
        Ok(Some(Protection {
            branch: branch.to_string(),
            allows_force_push,
            allows_deletion,
            push_restricted,
            rule: format!("branch protection of {branch} on {}", self.url.host()),
            fix,
        }))
    }

    /// Returns the repository's default branch.
    pub fn default_branch(&self) -> Result<String, ReviewError> {
        let call = calls::repository(&self.repo);
        let (value, _) = self.json(&call)?;
        value["default_branch"].as_str().map(str::to_string).ok_or_else(|| ReviewError::Parse {
            url: self.url_of(&call),
            detail: "no default_branch".into(),
        })
    }
}

/// Returns GitHub's error message: `message`, and the `errors`' own messages or codes.
fn error_message(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return body.trim().chars().take(200).collect();
    };
    let mut text = value["message"].as_str().unwrap_or_default().to_string();
    let errors: Vec<String> = value["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| match (e["message"].as_str(), e["field"].as_str(), e["code"].as_str()) {
            (Some(message), _, _) => message.to_string(),
            (None, Some(field), Some(code)) => format!("{field} {code}"),
            (None, _, code) => code.unwrap_or("error").to_string(),
        })
        .collect();
    if !errors.is_empty() {
        text = format!("{text}: {}", errors.join("; "));
    }
    text
}

/// Returns the `rel="next"` URL of a `link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        let next = params.split(';').any(|p| {
            let p = p.trim();
            p == r#"rel="next""# || p == "rel=next"
        });
        next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// Reads a `pull-request` or `pull-request-simple` object.
fn open_request(v: &Value) -> Option<OpenRequest> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let state = match v["state"].as_str()? {
        "open" => RequestState::Open,
        "closed" if !v["merged_at"].is_null() => RequestState::Merged,
        "closed" => RequestState::Closed,
        other => RequestState::Other(other.to_string()),
    };
    Some(OpenRequest {
        number: v["number"].as_u64()?,
        title: text(&v["title"]).unwrap_or_default(),
        head: text(&v["head"]["ref"])?,
        head_sha: v["head"]["sha"].as_str().and_then(|s| ObjectId::from_hex(s.as_bytes())),
        base: text(&v["base"]["ref"])?,
        url: text(&v["html_url"]).unwrap_or_default(),
        author: text(&v["user"]["login"]).unwrap_or_default(),
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_next_link_among_the_others() {
        let link = r#"<https://api.github.com/repositories/1/pulls?page=1>; rel="prev", <https://api.github.com/repositories/1/pulls?page=3>; rel="next", <https://api.github.com/repositories/1/pulls?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/pulls?page=3")
        );
        assert_eq!(next_link(r#"<https://x/y?page=1>; rel="first""#), None);
    }

    #[test]
    fn names_the_server_s_errors_with_their_details() {
        let body = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","field":"base","code":"invalid"},{"code":"custom","message":"No commits between a and b"}]}"#;
        assert_eq!(
            error_message(body),
            "Validation Failed: base invalid; No commits between a and b"
        );
    }

    #[test]
    fn maps_github_com_and_enterprise_hosts_to_their_api_roots() {
        let com = GitHubUrl::parse("https://github.com/").expect("parses");
        assert_eq!((com.api(), com.host()), ("https://api.github.com", "github.com"));
        let ghe = GitHubUrl::parse("https://git.example.org").expect("parses");
        assert_eq!(ghe.api(), "https://git.example.org/api/v3");
        let local = GitHubUrl::parse("http://127.0.0.1:8080").expect("parses");
        assert_eq!((local.api(), local.exposes_token()), ("http://127.0.0.1:8080", false));
        assert!(GitHubUrl::parse("http://git.example.org").expect("parses").exposes_token());
        assert!(GitHubUrl::parse("https://me:ghp_x@github.com").is_err());
    }

    #[test]
    fn refuses_repository_names_github_would_not_have() {
        assert_eq!(
            GitHubRepo::parse("openstack/kolla.git").expect("ok").to_string(),
            "openstack/kolla"
        );
        for bad in ["kolla", "/kolla", "openstack/", "open/stack/kolla", "o/..", "o/a\nb", "o p/k"]
        {
            assert!(GitHubRepo::parse(bad).is_err(), "{bad:?}");
        }
    }
}
