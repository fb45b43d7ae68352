//! GitHub's REST calls as data (method, path after the API root, JSON body), exactly as
//! they are sent: what a plan step shows and journals. Each names its section of GitHub's
//! REST documentation (API version 2022-11-28).

use serde_json::json;

use super::GitHubRepo;
use crate::review::http::{HttpCall, Method, encode};

/// GitHub's largest page ("Using pagination in the REST API": `per_page`, max 100).
pub const PER_PAGE: u32 = 100;

fn repo_path(repo: &GitHubRepo) -> String {
    format!("repos/{}/{}", encode(repo.owner()), encode(repo.name()))
}

/// "List pull requests": the open ones into `base`, oldest first, page `page` (from 1).
/// Later pages are read from the answer's `link` header, as GitHub asks.
pub fn list_open(repo: &GitHubRepo, base: &str, page: u32) -> HttpCall {
    HttpCall::new(
        Method::Get,
        format!(
            "{}/pulls?state=open&base={}&sort=created&direction=asc&per_page={PER_PAGE}&page={page}",
            repo_path(repo),
            encode(base)
        ),
        None,
    )
}

/// "Get a pull request".
pub fn get(repo: &GitHubRepo, number: u64) -> HttpCall {
    HttpCall::new(Method::Get, format!("{}/pulls/{number}", repo_path(repo)), None)
}

fn update(repo: &GitHubRepo, number: u64, body: serde_json::Value) -> HttpCall {
    HttpCall::new(Method::Patch, format!("{}/pulls/{number}", repo_path(repo)), Some(body))
}

/// "Update a pull request": `base` set to another existing branch.
pub fn retarget(repo: &GitHubRepo, number: u64, base: &str) -> HttpCall {
    update(repo, number, json!({ "base": base }))
}

/// "Update a pull request": `state` closed.
pub fn close(repo: &GitHubRepo, number: u64) -> HttpCall {
    update(repo, number, json!({ "state": "closed" }))
}

/// "Update a pull request": `state` open.
pub fn reopen(repo: &GitHubRepo, number: u64) -> HttpCall {
    update(repo, number, json!({ "state": "open" }))
}

/// "Create an issue comment": a pull request's conversation is its issue's comments.
pub fn comment(repo: &GitHubRepo, number: u64, body: &str) -> HttpCall {
    HttpCall::new(
        Method::Post,
        format!("{}/issues/{number}/comments", repo_path(repo)),
        Some(json!({ "body": body })),
    )
}

/// "List issue comments": page `page` (from 1) of a pull request's conversation, oldest
/// first (ascending by id); later pages are read from the `link` header.
pub fn comments(repo: &GitHubRepo, number: u64, page: u32) -> HttpCall {
    HttpCall::new(
        Method::Get,
        format!("{}/issues/{number}/comments?per_page={PER_PAGE}&page={page}", repo_path(repo)),
        None,
    )
}

/// "Create a pull request" from `head` (a branch of the same repository) into `base`.
pub fn create(repo: &GitHubRepo, head: &str, base: &str, title: &str, body: &str) -> HttpCall {
    HttpCall::new(
        Method::Post,
        format!("{}/pulls", repo_path(repo)),
        Some(json!({ "title": title, "head": head, "base": base, "body": body })),
    )
}

/// "Get branch protection". The branch is one encoded segment (`stable%2Fliberty`), as
/// "Troubleshooting the REST API" asks of path parameters.
pub fn protection(repo: &GitHubRepo, branch: &str) -> HttpCall {
    HttpCall::new(
        Method::Get,
        format!("{}/branches/{}/protection", repo_path(repo), encode(branch)),
        None,
    )
}

/// "Get a repository" (its `default_branch`).
pub fn repository(repo: &GitHubRepo) -> HttpCall {
    HttpCall::new(Method::Get, repo_path(repo), None)
}
