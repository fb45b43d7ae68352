//! The GitHub stand-in itself, asked with raw HTTP requests and checked against what
//! GitHub's REST documentation says (and against git, for the branches it serves).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Limit, REPO, Rules, TOKEN, World, world};

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn message(&self) -> String {
        self.json()["message"].as_str().unwrap_or_default().to_string()
    }
}

/// Sends one request; `token` goes as `Authorization: Bearer`.
fn send(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> Reply {
    send_with(method, url, token, body, true)
}

fn send_with(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&str>,
    user_agent: bool,
) -> Reply {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)));
    if !user_agent {
        config = config.user_agent(ureq::config::AutoHeaderValue::None);
    }
    let agent = ureq::Agent::new_with_config(config.build());
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28");
    if let Some(token) = token {
        builder = builder.header("Authorization", format!("Bearer {token}"));
    }
    let response = match body {
        Some(body) => agent.run(
            builder
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .expect("a request"),
        ),
        None => agent.run(builder.body(()).expect("a request")),
    };
    let mut response = response.expect("the stand-in answers");
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Reply { status, headers, body }
}

fn api(w: &World, path: &str) -> String {
    format!("{}/repos/{REPO}{path}", w.server.url())
}

/// Returns the `rel` URLs of a `link` header.
fn links(reply: &Reply) -> Vec<(String, String)> {
    let Some(link) = reply.header("link") else { return Vec::new() };
    link.split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; rel=").expect("url; rel=");
            (rel.trim_matches('"').to_string(), url.trim_matches(['<', '>']).to_string())
        })
        .collect()
}

fn rel(reply: &Reply, name: &str) -> Option<String> {
    links(reply).into_iter().find(|(r, _)| r == name).map(|(_, u)| u)
}

fn numbers(reply: &Reply) -> Vec<u64> {
    reply
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["number"].as_u64().expect("n"))
        .collect()
}

#[test]
fn lists_pull_requests_in_pages_linked_as_documented() {
    let w = world(5);
    let liberty: Vec<u64> = (1..=5)
        .map(|n| w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix"))
        .collect();
    w.server.add_request("feature-1", "stable/mitaka", "Other base");

    // The default page here is 2; sort=created, direction=desc by default: newest first.
    let first = send("GET", &api(&w, "/pulls?base=stable%2Fliberty"), Some(TOKEN), None);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(numbers(&first), vec![5, 4]);
    assert!(rel(&first, "prev").is_none() && rel(&first, "first").is_none());
    assert!(rel(&first, "last").expect("last").ends_with("page=3"), "{:?}", links(&first));

    let mut seen = numbers(&first);
    let mut next = rel(&first, "next");
    let mut pages = 1;
    while let Some(url) = next {
        let page = send("GET", &url, Some(TOKEN), None);
        assert_eq!(page.status, 200);
        seen.extend(numbers(&page));
        next = rel(&page, "next");
        pages += 1;
        if next.is_none() {
            assert!(rel(&page, "prev").is_some() && rel(&page, "first").is_some());
            assert!(rel(&page, "last").is_none(), "no last link on the last page");
        }
        assert!(pages <= 3, "three pages of two hold five");
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, liberty, "every pull request on the base, once");

    // per_page up to the documented max: one page, and no link header at all.
    let all = send("GET", &api(&w, "/pulls?base=stable/liberty&per_page=100"), Some(TOKEN), None);
    assert_eq!(numbers(&all).len(), 5);
    assert!(all.header("link").is_none());
    let asc = send("GET", &api(&w, "/pulls?per_page=100&direction=asc"), Some(TOKEN), None);
    assert_eq!(numbers(&asc), vec![1, 2, 3, 4, 5, 6]);
    let head =
        send("GET", &api(&w, "/pulls?head=openstack:feature-1&state=all"), Some(TOKEN), None);
    assert_eq!(numbers(&head), vec![6, 1]);
    // A server may hold per_page lower than asked; the links still cover everything.
    w.server.max_per_page(4);
    let capped = send("GET", &api(&w, "/pulls?state=all&per_page=100"), Some(TOKEN), None);
    assert_eq!(numbers(&capped), vec![6, 5, 4, 3]);
    let rest = send("GET", &rel(&capped, "next").expect("next"), Some(TOKEN), None);
    assert_eq!(numbers(&rest), vec![2, 1]);
    assert_eq!(w.server.requests().len(), 6);
    let bad = send("GET", &api(&w, "/pulls?state=merged"), Some(TOKEN), None);
    assert_eq!((bad.status, bad.message().as_str()), (422, "Validation Failed"));
}

#[test]
fn credentials_are_enforced_as_documented() {
    let w = world(1);
    let n = w.server.add_request("feature-1", "stable/liberty", "Fix");
    // A private repository asked without a token does not exist.
    let anonymous = send("GET", &api(&w, ""), None, None);
    assert_eq!((anonymous.status, anonymous.message().as_str()), (404, "Not Found"));
    // A wrong token is 401 on every path, even a public repository's.
    w.server.public();
    let wrong = send("GET", &api(&w, ""), Some("ghp_wrong"), None);
    assert_eq!((wrong.status, wrong.message().as_str()), (401, "Bad credentials"));
    assert!(wrong.json()["documentation_url"].is_string());
    // Public: reading is open, writing needs the token.
    let read = send("GET", &api(&w, ""), None, None);
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["default_branch"], "main");
    let write =
        send("PATCH", &api(&w, &format!("/pulls/{n}")), None, Some(r#"{"state":"closed"}"#));
    assert_eq!((write.status, write.message().as_str()), (401, "Requires authentication"));
    assert!(w.server.pull(n).open);
    // No User-Agent: refused.
    let no_agent = send_with("GET", &api(&w, ""), Some(TOKEN), None, false);
    assert_eq!(no_agent.status, 403);
    // What came is logged, credentials included, for tests that look for a token.
    let log = w.server.log();
    assert_eq!(log.len(), 5);
    assert_eq!(log[2].authorization, None);
    assert_eq!(log[1].authorization.as_deref(), Some("Bearer ghp_wrong"));
    assert_eq!((log[3].method.as_str(), log[3].body.as_str()), ("PATCH", r#"{"state":"closed"}"#));
    assert_eq!(log[3].target, format!("/repos/{REPO}/pulls/{n}"));
    assert!(log[4].headers.iter().all(|(k, _)| !k.eq_ignore_ascii_case("user-agent")));
}

#[test]
fn a_push_deleting_the_base_branch_closes_its_pull_requests_until_it_is_back() {
    let w = world(2);
    let a = w.server.add_request("feature-1", "stable/liberty", "A");
    let b = w.server.add_request("feature-2", "stable/liberty", "B");
    let other = w.server.add_request("feature-1", "stable/mitaka", "C");
    let tip = w.served_tip("stable/liberty").expect("liberty is served");

    assert!(w.push(&[":refs/heads/stable/liberty"]), "git deletes the branch");
    assert_eq!(w.served_tip("stable/liberty"), None);
    let open = send("GET", &api(&w, "/pulls?base=stable/liberty"), Some(TOKEN), None);
    assert_eq!(numbers(&open), Vec::<u64>::new());
    for n in [a, b] {
        let pull = send("GET", &api(&w, &format!("/pulls/{n}")), Some(TOKEN), None).json();
        assert_eq!(pull["state"], "closed");
        assert!(pull["closed_at"].is_string());
    }
    assert!(w.server.pull(other).open, "a pull request on another base stays open");

    // Neither reopened nor retargeted while closed.
    let reopen =
        send("PATCH", &api(&w, &format!("/pulls/{a}")), Some(TOKEN), Some(r#"{"state":"open"}"#));
    assert_eq!(reopen.status, 422, "{}", reopen.body);
    assert_eq!(reopen.json()["errors"][0]["code"], "custom");
    let retarget = send(
        "PATCH",
        &api(&w, &format!("/pulls/{a}")),
        Some(TOKEN),
        Some(r#"{"base":"stable/mitaka"}"#),
    );
    assert_eq!(retarget.status, 422);
    assert!(retarget.body.contains("Cannot change the base branch of a closed pull request"));

    // The base pushed back, the head untouched: it can be reopened.
    assert!(w.push(&[&format!("{tip}:refs/heads/stable/liberty")]));
    let reopen =
        send("PATCH", &api(&w, &format!("/pulls/{a}")), Some(TOKEN), Some(r#"{"state":"open"}"#));
    assert_eq!(reopen.status, 200, "{}", reopen.body);
    assert_eq!(reopen.json()["state"], "open");
    assert!(w.server.pull(a).open);
}

#[test]
fn deleting_a_branch_through_the_api_closes_its_pull_requests_too() {
    let w = world(1);
    let a = w.server.add_request("feature-1", "stable/liberty", "A");
    let deleted = send("DELETE", &api(&w, "/git/refs/heads/stable/liberty"), Some(TOKEN), None);
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(w.served_tip("stable/liberty"), None, "git no longer has it");
    assert!(!w.server.pull(a).open);
    let again = send("DELETE", &api(&w, "/git/refs/heads/stable/liberty"), Some(TOKEN), None);
    assert_eq!((again.status, again.message().as_str()), (422, "Reference does not exist"));
    let default = send("DELETE", &api(&w, "/git/refs/heads/main"), Some(TOKEN), None);
    assert_eq!(default.status, 422);
    assert!(w.served_tip("main").is_some());
    // GET is on the singular `ref`; DELETE on `refs` only.
    let wrong_method = send("DELETE", &api(&w, "/git/ref/heads/main"), Some(TOKEN), None);
    assert_eq!(wrong_method.status, 404);
}

#[test]
fn a_closed_pull_request_whose_head_was_force_pushed_cannot_be_reopened() {
    let w = world(2);
    let forced = w.server.add_request("feature-1", "stable/liberty", "A");
    let advanced = w.server.add_request("feature-2", "stable/liberty", "B");
    for n in [forced, advanced] {
        let closed = send(
            "PATCH",
            &api(&w, &format!("/pulls/{n}")),
            Some(TOKEN),
            Some(r#"{"state":"closed"}"#),
        );
        assert_eq!(closed.json()["state"], "closed");
    }
    // feature-1 rewritten (not a descendant of what was closed); feature-2 moved forward.
    w.work.checkout("feature-1");
    w.work.git(&["commit", "-q", "--amend", "-m", "Fix 1, reworded"]);
    w.work.checkout("feature-2");
    w.work.commit_file("more.txt", "more\n", "More");
    assert!(w.push(&["+refs/heads/feature-1:refs/heads/feature-1", "refs/heads/feature-2"]));

    let refused = send(
        "PATCH",
        &api(&w, &format!("/pulls/{forced}")),
        Some(TOKEN),
        Some(r#"{"state":"open"}"#),
    );
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(!w.server.pull(forced).open);
    let reopened = send(
        "PATCH",
        &api(&w, &format!("/pulls/{advanced}")),
        Some(TOKEN),
        Some(r#"{"state":"open"}"#),
    );
    assert_eq!(reopened.status, 200, "{}", reopened.body);
    assert_eq!(
        reopened.json()["head"]["sha"].as_str(),
        w.served_tip("feature-2").as_deref(),
        "the reopened pull request has the head's new commits"
    );
}

#[test]
fn retargets_to_an_existing_branch_only() {
    let w = world(1);
    let n = w.server.add_request("feature-1", "stable/liberty", "A");
    let moved = send(
        "PATCH",
        &api(&w, &format!("/pulls/{n}")),
        Some(TOKEN),
        Some(r#"{"base":"stable/mitaka"}"#),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.json()["base"]["ref"], "stable/mitaka");
    assert_eq!(moved.json()["base"]["sha"].as_str(), w.served_tip("stable/mitaka").as_deref());
    let listed = send("GET", &api(&w, "/pulls?base=stable/mitaka"), Some(TOKEN), None);
    assert_eq!(numbers(&listed), vec![n]);
    let missing = send(
        "PATCH",
        &api(&w, &format!("/pulls/{n}")),
        Some(TOKEN),
        Some(r#"{"base":"stable/nope"}"#),
    );
    assert_eq!(missing.status, 422);
    assert_eq!(missing.json()["errors"][0]["field"], "base");
    let not_json = send("PATCH", &api(&w, &format!("/pulls/{n}")), Some(TOKEN), Some("{base"));
    assert_eq!((not_json.status, not_json.message().as_str()), (400, "Problems parsing JSON"));
    assert_eq!(w.server.pull(n).base, "stable/mitaka");
}

#[test]
fn branch_names_with_slashes_work_in_paths_encoded_or_not() {
    let w = world(0);
    w.server.protect(
        "stable/liberty",
        Rules { restrict_pushes_to: Some(vec!["release-bot".into()]), ..Rules::default() },
    );
    for path in ["/branches/stable/liberty/protection", "/branches/stable%2Fliberty/protection"] {
        let p = send("GET", &api(&w, path), Some(TOKEN), None);
        assert_eq!(p.status, 200, "{path}: {}", p.body);
        let p = p.json();
        assert_eq!(p["allow_force_pushes"]["enabled"], false);
        assert_eq!(p["allow_deletions"]["enabled"], false);
        assert_eq!(p["restrictions"]["users"][0]["login"], "release-bot");
    }
    let open = send("GET", &api(&w, "/branches/stable/mitaka/protection"), Some(TOKEN), None);
    assert_eq!((open.status, open.message().as_str()), (404, "Branch not protected"));
    let none = send("GET", &api(&w, "/branches/stable/nope/protection"), Some(TOKEN), None);
    assert_eq!((none.status, none.message().as_str()), (404, "Branch not found"));
    let reference = send("GET", &api(&w, "/git/ref/heads/stable/liberty"), Some(TOKEN), None);
    assert_eq!(reference.status, 200);
    assert_eq!(reference.json()["ref"], "refs/heads/stable/liberty");
    assert_eq!(
        reference.json()["object"]["sha"].as_str(),
        w.served_tip("stable/liberty").as_deref()
    );
    let gone = send("GET", &api(&w, "/git/ref/heads/stable/nope"), Some(TOKEN), None);
    assert_eq!(gone.status, 404);
}

#[test]
fn a_protected_branch_refuses_force_pushes_and_deletions() {
    let w = world(0);
    w.server.protect("stable/liberty", Rules::default());
    w.server.protect("stable/mitaka", Rules { allow_deletions: true, ..Rules::default() });
    let tip = w.served_tip("stable/liberty");
    assert!(!w.push(&["+refs/heads/main:refs/heads/stable/liberty"]), "no force push");
    assert!(!w.push(&[":refs/heads/stable/liberty"]), "no deletion");
    assert_eq!(w.served_tip("stable/liberty"), tip);
    let api_delete = send("DELETE", &api(&w, "/git/refs/heads/stable/liberty"), Some(TOKEN), None);
    assert_eq!(api_delete.status, 422);
    assert_eq!(w.served_tip("stable/liberty"), tip);
    assert!(w.push(&[":refs/heads/stable/mitaka"]), "this rule allows deletions");
    assert_eq!(w.served_tip("stable/mitaka"), None);
}

#[test]
fn comments_and_new_pull_requests_answer_as_documented() {
    let w = world(1);
    let created = send(
        "POST",
        &api(&w, "/pulls"),
        Some(TOKEN),
        Some(r#"{"title":"Fix 1","head":"feature-1","base":"stable/liberty","body":"Picks"}"#),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let number = created.json()["number"].as_u64().expect("number");
    assert_eq!(created.header("location"), Some(api(&w, &format!("/pulls/{number}")).as_str()));
    assert_eq!(created.json()["head"]["sha"].as_str(), w.served_tip("feature-1").as_deref());
    let twice = send(
        "POST",
        &api(&w, "/pulls"),
        Some(TOKEN),
        Some(r#"{"title":"Again","head":"feature-1","base":"stable/liberty"}"#),
    );
    assert_eq!(twice.status, 422);
    // main has no commit that stable/liberty lacks.
    let nothing = send(
        "POST",
        &api(&w, "/pulls"),
        Some(TOKEN),
        Some(r#"{"title":"Empty","head":"main","base":"stable/liberty"}"#),
    );
    assert_eq!(nothing.status, 422);
    assert!(nothing.body.contains("No commits between"), "{}", nothing.body);

    let comments = api(&w, &format!("/issues/{number}/comments"));
    for text in ["first", "second", "third"] {
        let c = send(
            "POST",
            &comments,
            Some(TOKEN),
            Some(&serde_json::json!({"body": text}).to_string()),
        );
        assert_eq!(c.status, 201);
        assert!(c.header("location").is_some());
    }
    let page = send("GET", &comments, Some(TOKEN), None);
    let bodies: Vec<String> = page
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["body"].as_str().unwrap_or_default().into())
        .collect();
    assert_eq!(bodies, ["first", "second"], "oldest first, two a page");
    assert!(rel(&page, "next").is_some());
    let empty = send("POST", &comments, Some(TOKEN), Some("{}"));
    assert_eq!(empty.status, 422);
    let unknown =
        send("POST", &api(&w, "/issues/99/comments"), Some(TOKEN), Some(r#"{"body":"x"}"#));
    assert_eq!(unknown.status, 404);
    assert_eq!(w.server.comments(number).len(), 3);
}

#[test]
fn every_answer_carries_the_rate_limit_and_a_limit_refuses_until_its_reset() {
    let w = world(0);
    let one = send("GET", &api(&w, ""), Some(TOKEN), None);
    let two = send("GET", &api(&w, ""), Some(TOKEN), None);
    let remaining =
        |r: &Reply| r.header("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
    assert_eq!(remaining(&two).expect("remaining") + 1, remaining(&one).expect("remaining"));
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("now").as_secs();
    let reset: u64 = one.header("x-ratelimit-reset").expect("reset").parse().expect("epoch");
    assert!(reset > now);
    assert_eq!(one.header("x-ratelimit-limit"), Some("5000"));

    w.server.rate_limit(Limit::Primary { status: 403 }, 2);
    let limited = send("GET", &api(&w, ""), Some(TOKEN), None);
    assert_eq!(limited.status, 403);
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    let reset: u64 = limited.header("x-ratelimit-reset").expect("reset").parse().expect("epoch");
    assert_eq!(send("GET", &api(&w, ""), Some(TOKEN), None).status, 403, "still limited");
    let started = Instant::now();
    while std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("now").as_secs()
        < reset
    {
        assert!(started.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(send("GET", &api(&w, ""), Some(TOKEN), None).status, 200, "after the reset");

    w.server.rate_limit(Limit::Secondary { status: 429 }, 1);
    let secondary = send("GET", &api(&w, ""), Some(TOKEN), None);
    assert_eq!(secondary.status, 429);
    assert!(secondary.message().contains("secondary rate limit"));
    let wait: u64 = secondary.header("retry-after").expect("retry-after").parse().expect("seconds");
    std::thread::sleep(Duration::from_secs(wait));
    assert_eq!(send("GET", &api(&w, ""), Some(TOKEN), None).status, 200);
}

#[test]
fn faults_and_unrouted_requests() {
    let w = world(1);
    let n = w.server.add_request("feature-1", "stable/liberty", "A");
    w.server.fail_next(1, 502);
    assert_eq!(send("GET", &api(&w, ""), Some(TOKEN), None).status, 502);
    assert_eq!(send("GET", &api(&w, ""), Some(TOKEN), None).status, 200);
    assert_eq!(send("DELETE", &api(&w, &format!("/pulls/{n}")), Some(TOKEN), None).status, 404);
    assert_eq!(send("GET", &api(&w, "/pulls/"), Some(TOKEN), None).status, 404, "trailing slash");
    assert_eq!(
        send("GET", &format!("{}/repos/other/repo", w.server.url()), Some(TOKEN), None).status,
        404
    );
    assert_eq!(send("GET", &api(&w, "/pulls/77"), Some(TOKEN), None).status, 404);
    // Owner and repository names are not case sensitive.
    let upper = format!("{}/repos/OpenStack/Kolla/pulls/{n}", w.server.url());
    assert_eq!(send("GET", &upper, Some(TOKEN), None).status, 200);

    w.server.stop_answering();
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_millis(500))).build(),
    );
    let started = Instant::now();
    assert!(agent.get(api(&w, "")).call().is_err(), "no answer comes");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn misbehaviours_for_the_client_s_guards() {
    let w = world(3);
    for n in 1..=3 {
        w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix");
    }
    w.server.ignore_page();
    let first = send("GET", &api(&w, "/pulls"), Some(TOKEN), None);
    let second = send("GET", &rel(&first, "next").expect("next"), Some(TOKEN), None);
    assert_eq!(numbers(&first), numbers(&second), "the same page again");
    assert!(rel(&second, "prev").is_some());
    w.server.link_origin("http://127.0.0.2:9");
    let elsewhere = send("GET", &api(&w, "/pulls"), Some(TOKEN), None);
    assert!(rel(&elsewhere, "next").expect("next").starts_with("http://127.0.0.2:9/repos/"));
}
