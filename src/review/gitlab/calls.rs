//! GitLab's REST calls as data (merge_requests.md, notes.md, protected_branches.md,
//! projects.md): each is the method, the path under `/api/v4` and the JSON body exactly as
//! sent, so a plan step shows and journals the call it makes. Branch names are checked
//! first: a bad one is an error, never a request.

use serde_json::json;

use super::project::{Project, branch};
use crate::review::ReviewError;
use crate::review::http::{HttpCall, Method, encode};

/// How many items a page asks for: GitLab's maximum (rest/index.md, "Offset-based
/// pagination").
pub const PER_PAGE: usize = 100;

fn project(project: &Project) -> String {
    // "Namespaced path encoding": `group/name` is one segment, `group%2Fname`.
    format!("projects/{}", encode(project.as_str()))
}

fn request_path(p: &Project, number: u64) -> String {
    format!("{}/merge_requests/{number}", project(p))
}

/// `GET /projects/:id/merge_requests`: page `page` (from 1) of the open merge requests
/// into `base`, oldest first so that pages do not shift while new ones are opened.
pub fn list_open(p: &Project, base: &str, page: u64) -> Result<HttpCall, ReviewError> {
    let base = encode(branch(base)?);
    let path = format!(
        "{}/merge_requests?state=opened&target_branch={base}&order_by=created_at&sort=asc&per_page={PER_PAGE}&page={page}",
        project(p)
    );
    Ok(HttpCall::new(Method::Get, path, None))
}

/// `GET /projects/:id/merge_requests/:merge_request_iid`.
pub fn request(p: &Project, number: u64) -> HttpCall {
    HttpCall::new(Method::Get, request_path(p, number), None)
}

/// `PUT /projects/:id/merge_requests/:merge_request_iid` with `target_branch`.
pub fn retarget(p: &Project, number: u64, base: &str) -> Result<HttpCall, ReviewError> {
    let body = json!({ "target_branch": branch(base)? });
    Ok(HttpCall::new(Method::Put, request_path(p, number), Some(body)))
}

/// `PUT /projects/:id/merge_requests/:merge_request_iid` with `state_event: close`.
pub fn close(p: &Project, number: u64) -> HttpCall {
    HttpCall::new(Method::Put, request_path(p, number), Some(json!({ "state_event": "close" })))
}

/// `PUT /projects/:id/merge_requests/:merge_request_iid` with `state_event: reopen`.
pub fn reopen(p: &Project, number: u64) -> HttpCall {
    HttpCall::new(Method::Put, request_path(p, number), Some(json!({ "state_event": "reopen" })))
}

/// `POST /projects/:id/merge_requests/:merge_request_iid/notes` with `body`.
pub fn comment(p: &Project, number: u64, body: &str) -> HttpCall {
    let path = format!("{}/notes", request_path(p, number));
    HttpCall::new(Method::Post, path, Some(json!({ "body": body })))
}

/// `GET /projects/:id/merge_requests/:merge_request_iid/notes`: page `page` (from 1) of
/// its notes, newest first (notes.md, "List all merge request notes").
pub fn notes(p: &Project, number: u64, page: u64) -> HttpCall {
    let path = format!(
        "{}/notes?sort=desc&order_by=created_at&per_page={PER_PAGE}&page={page}",
        request_path(p, number)
    );
    HttpCall::new(Method::Get, path, None)
}

/// `POST /projects/:id/merge_requests`: a merge request from `head` into `base`.
pub fn create(
    p: &Project,
    head: &str,
    base: &str,
    title: &str,
    body: &str,
) -> Result<HttpCall, ReviewError> {
    let body = json!({
        "source_branch": branch(head)?,
        "target_branch": branch(base)?,
        "title": title,
        "description": body,
    });
    Ok(HttpCall::new(Method::Post, format!("{}/merge_requests", project(p)), Some(body)))
}

/// `GET /projects/:id/protected_branches/:name`: the rule named exactly `branch` (a
/// wildcard rule that covers it is only in [`protection_rules`]).
pub fn protection(p: &Project, name: &str) -> Result<HttpCall, ReviewError> {
    let path = format!("{}/protected_branches/{}", project(p), encode(branch(name)?));
    Ok(HttpCall::new(Method::Get, path, None))
}

/// `GET /projects/:id/protected_branches`: page `page` of every rule, wildcards as written.
pub fn protection_rules(p: &Project, page: u64) -> HttpCall {
    let path = format!("{}/protected_branches?per_page={PER_PAGE}&page={page}", project(p));
    HttpCall::new(Method::Get, path, None)
}

/// `GET /projects/:id`: the project, with its `default_branch`.
pub fn repository(p: &Project) -> HttpCall {
    HttpCall::new(Method::Get, project(p), None)
}
