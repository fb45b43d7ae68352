//! The GitLab stand-in itself, asked with raw HTTP requests: what GitLab's documentation
//! says it answers, and git as the oracle for what a push did.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{PROJECT, Rule, TOKEN, World};

/// How a raw request authenticates.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Anonymous,
    Private(&'a str),
    Bearer(&'a str),
}

/// An answer, read whole.
struct Reply {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

fn try_call(
    method: &str,
    url: &str,
    auth: Auth,
    body: Option<Value>,
    timeout: Duration,
) -> Result<Reply, ureq::Error> {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    request = match auth {
        Auth::Anonymous => request,
        Auth::Private(token) => request.header("PRIVATE-TOKEN", token),
        Auth::Bearer(token) => request.header("Authorization", format!("Bearer {token}")),
    };
    let agent = agent(timeout);
    let mut response = match body {
        Some(body) => agent.run(
            request
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .expect("a request"),
        )?,
        None => agent.run(request.body(()).expect("a request"))?,
    };
    let body = response.body_mut().read_to_string()?;
    Ok(Reply { status: response.status().as_u16(), headers: response.headers().clone(), body })
}

fn call(method: &str, url: &str, auth: Auth, body: Option<Value>) -> Reply {
    try_call(method, url, auth, body, Duration::from_secs(20)).expect("the stand-in answers")
}

const ME: Auth = Auth::Private(TOKEN);

fn project_url(w: &World) -> String {
    format!("{}/projects/{}", w.api(), PROJECT.replace('/', "%2F"))
}

fn iids(reply: &Reply) -> Vec<u64> {
    reply
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["iid"].as_u64().expect("iid"))
        .collect()
}

fn next_link(reply: &Reply) -> Option<String> {
    let link = reply.header("link")?;
    link.split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .map(|l| l.trim_start_matches('<').split('>').next().expect("a URL in <>").to_string())
}

#[test]
fn pages_carry_gitlab_s_headers_and_the_links_reach_every_request_once() {
    let w = World::new(7);
    for n in 1..=7 {
        w.server.add_request(&format!("fix-{n}"), "stable/liberty", &format!("Fix {n}"));
    }
    w.server.add_request("fix-1", "main", "Fix 1 for main");
    let first = format!(
        "{}/merge_requests?state=opened&target_branch=stable%2Fliberty&per_page=3",
        project_url(&w)
    );
    let reply = call("GET", &first, ME, None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let headers =
        ["x-total", "x-total-pages", "x-page", "x-per-page", "x-next-page", "x-prev-page"]
            .map(|h| reply.header(h).unwrap_or("absent").to_string());
    assert_eq!(headers, ["7", "3", "1", "3", "2", ""]);
    let (mut seen, mut url, mut pages) = (Vec::new(), Some(first), 0);
    while let Some(next) = url {
        let reply = call("GET", &next, ME, None);
        seen.extend(iids(&reply));
        pages += 1;
        assert!(pages <= 3, "the links end");
        url = next_link(&reply);
        if url.is_none() {
            assert_eq!(reply.header("x-next-page"), Some(""), "the last page has no next");
            assert_eq!(reply.header("x-page"), Some("3"));
        }
    }
    assert_eq!(seen, vec![7, 6, 5, 4, 3, 2, 1], "newest first, each once, none for main");
    // Offset pagination's documented default and maximum.
    let reply = call("GET", &format!("{}/merge_requests", project_url(&w)), ME, None);
    assert_eq!((reply.header("x-per-page"), reply.header("x-total")), (Some("20"), Some("8")));
    let numeric =
        format!("{}/projects/{}/merge_requests?per_page=1000", w.api(), w.server.project_id());
    assert_eq!(call("GET", &numeric, ME, None).header("x-per-page"), Some("100"));
    w.server.cap_per_page(2);
    assert_eq!(call("GET", &numeric, ME, None).header("x-total-pages"), Some("4"), "a test's cap");
}

#[test]
fn tokens_and_routes_are_checked_as_gitlab_documents() {
    let w = World::new(1);
    let project = project_url(&w);
    let reply = call("GET", &project, Auth::Anonymous, None);
    assert_eq!((reply.status, reply.json()), (404, json!({"message": "404 Project Not Found"})));
    let reply = call("GET", &project, Auth::Private("glpat-wrong"), None);
    assert_eq!((reply.status, reply.json()), (401, json!({"message": "401 Unauthorized"})));
    let reply = call("GET", &project, Auth::Bearer(TOKEN), None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let p = reply.json();
    assert_eq!(
        (p["path_with_namespace"].as_str(), p["default_branch"].as_str()),
        (Some(PROJECT), Some("main"))
    );
    let reply = call("GET", &format!("{project}?private_token={TOKEN}"), Auth::Anonymous, None);
    assert_eq!(reply.status, 200, "the private_token parameter");
    let iid = w.server.add_request("fix-1", "stable/liberty", "Fix 1");
    let notes = format!("{project}/merge_requests/{iid}/notes");
    let reply = call("POST", &notes, Auth::Anonymous, Some(json!({"body": "hi"})));
    assert_eq!(reply.status, 401, "a write needs a token");
    w.server.make_public();
    assert_eq!(call("GET", &project, Auth::Anonymous, None).status, 200, "public now");
    let put = call(
        "PUT",
        &format!("{project}/merge_requests/{iid}"),
        Auth::Anonymous,
        Some(json!({"state_event": "close"})),
    );
    assert_eq!(put.status, 401, "still no anonymous writes");
    assert_eq!(w.server.request(iid).state, "opened");
    let log = w.server.log();
    let tokens: Vec<Option<&str>> = log.iter().map(|l| l.token.as_deref()).collect();
    assert_eq!(
        tokens,
        [None, Some("glpat-wrong"), Some(TOKEN), Some(TOKEN), None, None, None],
        "every credential is logged as it came"
    );
    let last = log.last().expect("logged");
    assert_eq!(
        (last.method.as_str(), last.target.as_str()),
        ("PUT", format!("/api/v4/projects/openstack%2Fkolla/merge_requests/{iid}").as_str())
    );
    assert_eq!(last.body, r#"{"state_event":"close"}"#);
    // The path must be encoded as one segment; encoded twice it names no project.
    let plain = call("GET", &format!("{}/projects/{PROJECT}", w.api()), ME, None);
    assert_eq!((plain.status, plain.json()), (404, json!({"error": "404 Not Found"})));
    let twice = call("GET", &format!("{}/projects/openstack%252Fkolla", w.api()), ME, None);
    assert_eq!(twice.status, 404);
    let wrong = call("DELETE", &format!("{project}/merge_requests"), ME, None);
    assert_eq!(wrong.status, 405);
}

#[test]
fn a_deleted_target_leaves_its_requests_open_and_a_deleted_source_closes_its_own() {
    let w = World::new(2);
    let one = w.server.add_request("fix-1", "stable/liberty", "Fix 1");
    let two = w.server.add_request("fix-2", "stable/liberty", "Fix 2");
    let url = |iid: u64| format!("{}/merge_requests/{iid}", project_url(&w));
    w.push(&[":stable/liberty"]).expect("an unprotected branch can be deleted");
    assert_eq!(w.remote_tip("stable/liberty"), None);
    let reply = call("GET", &url(one), ME, None).json();
    assert_eq!(
        (reply["state"].as_str(), reply["target_branch"].as_str(), reply["merge_status"].as_str()),
        (Some("opened"), Some("stable/liberty"), Some("cannot_be_merged")),
        "GitLab keeps it open without its target"
    );
    w.push(&[":fix-2"]).expect("delete a source branch");
    assert_eq!(call("GET", &url(two), ME, None).json()["state"], "closed");
    let reopen = call("PUT", &url(two), ME, Some(json!({"state_event": "reopen"})));
    assert_eq!(reopen.status, 422, "{}", reopen.body);
    assert!(reopen.body.contains("branch no longer exists"), "{}", reopen.body);
    assert_eq!(w.server.request(two).state, "closed");
    let gone = call("PUT", &url(one), ME, Some(json!({"target_branch": "stable/gone"})));
    assert_eq!(
        (gone.status, gone.json()),
        (422, json!({"message": ["Target branch \"stable/gone\" does not exist"]}))
    );
    let moved = call("PUT", &url(one), ME, Some(json!({"target_branch": "main"})));
    assert_eq!((moved.status, moved.json()["target_branch"].as_str()), (200, Some("main")));
    let notes = call("GET", &format!("{}/notes", url(one)), ME, None).json();
    assert_eq!(notes[0]["body"], "changed target branch from `stable/liberty` to `main`");
    assert_eq!(notes[0]["system"], true);
    // A push to the source moves the request's sha.
    w.work.checkout("fix-1");
    w.work.commit_file("more", "more\n", "More of fix 1");
    w.push(&["fix-1"]).expect("push the source");
    let sha = w.remote_tip("fix-1");
    assert_eq!(call("GET", &url(one), ME, None).json()["sha"].as_str(), sha.as_deref());
}

#[test]
fn requests_are_created_closed_reopened_and_commented_on() {
    let w = World::new(1);
    let list = format!("{}/merge_requests", project_url(&w));
    let create = json!({"source_branch": "fix-1", "target_branch": "stable/liberty",
        "title": "Fix 1", "description": "Picks a1b2c3"});
    let reply = call("POST", &list, ME, Some(create.clone()));
    assert_eq!(reply.status, 201, "{}", reply.body);
    let mr = reply.json();
    assert_eq!((mr["iid"].as_u64(), mr["state"].as_str()), (Some(1), Some("opened")));
    assert_eq!(mr["sha"].as_str(), w.remote_tip("fix-1").as_deref());
    assert!(
        mr["web_url"].as_str().is_some_and(|u| u.ends_with("/openstack/kolla/-/merge_requests/1"))
    );
    let again = call("POST", &list, ME, Some(create.clone()));
    assert_eq!(
        (again.status, again.json()),
        (
            409,
            json!({"message": ["Another open merge request already exists for this source branch: !1"]})
        )
    );
    let untitled =
        call("POST", &list, ME, Some(json!({"source_branch": "fix-1", "target_branch": "main"})));
    assert_eq!(untitled.json(), json!({"message": "400 (Bad request) \"title\" not given"}));
    let one = format!("{list}/1");
    assert_eq!(call("PUT", &one, ME, Some(json!({}))).status, 400, "at least one attribute");
    let closed = call("PUT", &one, ME, Some(json!({"state_event": "close"}))).json();
    assert_eq!(closed["state"], "closed");
    assert!(closed["closed_at"].is_string());
    assert!(iids(&call("GET", &format!("{list}?state=opened"), ME, None)).is_empty());
    assert_eq!(call("POST", &list, ME, Some(create)).status, 201, "a new one while 1 is closed");
    let blocked = call("PUT", &one, ME, Some(json!({"state_event": "reopen"})));
    assert_eq!(blocked.status, 409, "!2 is open for the same branches: {}", blocked.body);
    assert!(blocked.body.contains("!2"));
    call("PUT", &format!("{list}/2"), ME, Some(json!({"state_event": "close"})));
    let reopened = call("PUT", &one, ME, Some(json!({"state_event": "reopen"})));
    assert_eq!((reopened.status, reopened.json()["state"].as_str()), (200, Some("opened")));
    let note = call("POST", &format!("{one}/notes"), ME, Some(json!({"body": "Kept open"})));
    assert_eq!(note.status, 201);
    let note = note.json();
    assert_eq!(
        (note["body"].as_str(), note["noteable_iid"].as_u64(), note["system"].as_bool()),
        (Some("Kept open"), Some(1), Some(false))
    );
    assert_eq!(call("POST", &format!("{one}/notes"), ME, Some(json!({"body": ""}))).status, 400);
    let bodies: Vec<String> = call("GET", &format!("{one}/notes?sort=asc"), ME, None)
        .json()
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n["body"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(bodies, ["closed", "reopened", "Kept open"]);
}

#[test]
fn protected_branches_refuse_pushes_as_gitlab_does() {
    let w = World::new(1);
    let project = project_url(&w);
    w.server.protect(Rule::new("stable/*"));
    let rules = call("GET", &format!("{project}/protected_branches"), ME, None).json();
    assert_eq!(rules[0]["name"], "stable/*", "the wildcard, not the branches it matches");
    assert_eq!(
        (
            rules[0]["allow_force_push"].as_bool(),
            rules[0]["push_access_levels"][0]["access_level"].as_u64()
        ),
        (Some(false), Some(40))
    );
    assert_eq!(
        call("GET", &format!("{project}/protected_branches/stable%2F*"), ME, None).status,
        200
    );
    assert_eq!(
        call("GET", &format!("{project}/protected_branches/stable%2Fliberty"), ME, None).status,
        404
    );
    let branch =
        call("GET", &format!("{project}/repository/branches/stable%2Fliberty"), ME, None).json();
    assert_eq!(
        (branch["protected"].as_bool(), branch["default"].as_bool()),
        (Some(true), Some(false))
    );
    let old = w.remote_tip("stable/liberty");
    assert_eq!(branch["commit"]["id"].as_str(), old.as_deref());

    let refused =
        w.push(&[":stable/liberty"]).expect_err("a protected branch is not deleted by a push");
    assert!(
        refused.contains("GitLab: You can only delete protected branches using the web interface."),
        "{refused}"
    );
    w.work.git(&["branch", "-f", "stable/liberty", "main"]);
    let refused = w.push(&["+stable/liberty"]).expect_err("no force push");
    assert!(refused.contains("not allowed to force push code to a protected branch"), "{refused}");
    assert_eq!(w.remote_tip("stable/liberty"), old, "git says nothing moved");
    // The most permissive rule decides: an exact rule allowing force push lets it through.
    w.server.protect(Rule { allow_force_push: true, ..Rule::new("stable/liberty") });
    w.push(&["+stable/liberty"]).expect("force push allowed now");
    assert_eq!(w.remote_tip("stable/liberty"), w.remote_tip("main"));
    w.server.protect(Rule { push_access_level: 0, ..Rule::new("main") });
    w.work.commit_file("main-only", "x\n", "On main");
    let refused = w.push(&["main"]).expect_err("no one may push");
    assert!(refused.contains("not allowed to push code to protected branches"), "{refused}");

    // Through the API a maintainer may delete a protected branch, never the default one.
    let branches = format!("{project}/repository/branches");
    assert_eq!(call("DELETE", &format!("{branches}/stable%2Fliberty"), ME, None).status, 204);
    assert_eq!(w.remote_tip("stable/liberty"), None);
    let head = call("DELETE", &format!("{branches}/main"), ME, None);
    assert_eq!((head.status, head.json()), (405, json!({"message": "Cannot remove HEAD branch"})));
    let missing = call("DELETE", &format!("{branches}/stable%2Fliberty"), ME, None);
    assert_eq!((missing.status, missing.json()), (404, json!({"message": "404 Branch Not Found"})));
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[test]
fn faults_rate_limits_and_silence_are_served_on_request() {
    let w = World::new(1);
    let project = project_url(&w);
    w.server.fail_next(1, 503);
    let reply = call("GET", &project, ME, None);
    assert_eq!((reply.status, reply.json()), (503, json!({"message": "503 Service Unavailable"})));
    let reply = call("GET", &project, ME, None);
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("ratelimit-remaining")
            .and_then(|r| r.parse::<u64>().ok())
            .is_some_and(|r| r > 0)
    );
    assert!(reply.header("ratelimit-resettime").is_some_and(|t| t.ends_with(" GMT")));
    w.server.rate_limit_next(7, true);
    let reply = call("GET", &project, ME, None);
    assert_eq!((reply.status, reply.body.as_str()), (429, "Retry later\n"));
    assert_eq!(
        (reply.header("retry-after"), reply.header("ratelimit-remaining")),
        (Some("7"), Some("0"))
    );
    let reset: u64 =
        reply.header("ratelimit-reset").and_then(|r| r.parse().ok()).expect("a reset time");
    assert!((now() + 5..=now() + 8).contains(&reset), "reset in about 7 s: {reset}");
    w.server.rate_limit_next(3, false);
    let reply = call("GET", &project, ME, None);
    assert_eq!((reply.status, reply.header("retry-after")), (429, None));
    w.server.stop_answering();
    let start = Instant::now();
    let silent = try_call("GET", &project, ME, None, Duration::from_secs(1));
    assert!(silent.is_err(), "no answer");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(w.server.log().len(), 5, "the silent request was still received");
}
