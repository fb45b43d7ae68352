//! regraft's GitLab client against the stand-in: every page, the changes it makes seen by
//! the server and by git, protection as git enforces it, tokens and failures.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regraft::ObjectId;
use regraft::review::gitlab::{Project, Token, calls};
use regraft::review::http::Note;
use regraft::review::{GitLab, GitLabUrl, RequestState, ReviewError};

use super::{PROJECT, Rule, TOKEN, World};

fn client(w: &World, token: Option<&str>) -> GitLab {
    let url = GitLabUrl::parse(w.server.url()).expect("the stand-in's URL");
    let project = Project::parse(PROJECT).expect("a project path");
    GitLab::new(&url, project, token.map(|t| Token::new(t.to_string())))
        .with_timeout(Duration::from_secs(20))
}

fn project() -> Project {
    Project::parse(PROJECT).expect("a project path")
}

fn oid(hex: Option<String>) -> Option<ObjectId> {
    hex.and_then(|h| ObjectId::from_hex(h.as_bytes()))
}

#[test]
fn every_page_is_collected_and_only_the_open_requests_into_the_branch() {
    let w = World::new(7);
    for n in 1..=7 {
        w.server.add_request(&format!("fix-{n}"), "stable/liberty", &format!("Fix {n}"));
    }
    w.server.add_request("fix-1", "main", "Fix 1 for main");
    w.server.cap_per_page(3);
    let gitlab = client(&w, Some(TOKEN));
    let open = gitlab.open_requests("stable/liberty").expect("lists");
    assert_eq!(open.iter().map(|r| r.number).collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>());
    let third = &open[2];
    assert_eq!((third.head.as_str(), third.base.as_str()), ("fix-3", "stable/liberty"));
    assert_eq!(third.head_sha, oid(w.remote_tip("fix-3")), "git's tip of the source");
    assert_eq!((third.author.as_str(), third.state.clone()), ("ada", RequestState::Open));
    assert!(third.url.ends_with("/openstack/kolla/-/merge_requests/3"), "{}", third.url);
    let lists: Vec<_> =
        w.server.log().into_iter().filter(|l| l.target.contains("/merge_requests?")).collect();
    assert_eq!(lists.len(), 3, "three pages of three");
    assert!(lists.iter().all(|l| l.token.as_deref() == Some(TOKEN)));
    // The first page's call is the one `calls` shows.
    let shown = calls::list_open(&project(), "stable/liberty", 1).expect("a call");
    assert_eq!(lists[0].target, format!("/api/v4/{}", shown.path));
    // A server that repeats its first page while saying there is more is not believed.
    w.server.ignore_page();
    let err = gitlab.open_requests("stable/liberty").expect_err("no progress");
    assert!(matches!(err, ReviewError::Pages { .. }), "{err}");
    assert!(err.to_string().contains("brings none that is new"), "{err}");
}

#[test]
fn retarget_close_reopen_comment_and_create_are_sent_as_shown() {
    let w = World::new(2);
    let gitlab = client(&w, Some(TOKEN));
    let created =
        gitlab.create_request("fix-1", "stable/liberty", "Fix 1", "Picks a1b2c3").expect("opens");
    assert_eq!((created.number, created.state.clone()), (1, RequestState::Open));
    assert_eq!(created.head_sha, oid(w.remote_tip("fix-1")));
    let held = gitlab.retarget(1, "main").expect("retargets");
    assert_eq!(held.base, "main");
    assert_eq!(w.server.request(1).target_branch, "main", "the server holds it");
    let last = w.server.log().pop().expect("logged");
    let shown = calls::retarget(&project(), 1, "main").expect("a call");
    assert_eq!(
        (last.method.as_str(), last.target.clone(), Some(last.body.clone())),
        ("PUT", format!("/api/v4/{}", shown.path), shown.body),
        "sent exactly as a plan would show it"
    );
    gitlab.retarget(1, "stable/liberty").expect("and back");
    assert_eq!(gitlab.close(1).expect("closes").state, RequestState::Closed);
    assert_eq!(w.server.request(1).state, "closed");
    assert_eq!(gitlab.reopen(1).expect("reopens").state, RequestState::Open);
    assert_eq!(w.server.request(1).state, "opened");
    gitlab.comment(1, "Closed while stable/liberty is replaced").expect("comments");
    let notes = w.server.request(1).notes;
    assert!(notes.iter().any(|n| !n.system && n.body == "Closed while stable/liberty is replaced"));
    assert_eq!(gitlab.request(1).expect("reads").base, "stable/liberty");

    // GitLab's refusal comes through with its message.
    gitlab.close(1).expect("closes");
    w.push(&[":fix-1"]).expect("delete the source");
    let err = gitlab.reopen(1).expect_err("the source is gone");
    assert!(matches!(err, ReviewError::Status { status: 422, .. }), "{err}");
    assert!(err.to_string().contains("source or target branch no longer exists"), "{err}");
    // Bad names are never sent.
    let before = w.server.log().len();
    let err = gitlab.retarget(2, "stable/../x").expect_err("a bad branch");
    assert!(matches!(err, ReviewError::BadName { .. }), "{err}");
    assert!(gitlab.open_requests("-x").is_err());
    assert_eq!(w.server.log().len(), before, "nothing sent");
    for bad in ["", "openstack/../kolla", "openstack//kolla", "a b/c", "x/\n"] {
        assert!(Project::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn protection_is_read_from_exact_and_wildcard_rules_as_git_enforces_them() {
    let w = World::new(1);
    let gitlab = client(&w, Some(TOKEN));
    assert_eq!(gitlab.protection("stable/liberty").expect("reads"), None);
    w.server.protect(Rule::new("stable/*"));
    let p = gitlab.protection("stable/liberty").expect("reads").expect("protected");
    assert_eq!((p.allows_force_push, p.allows_deletion, p.push_restricted), (false, false, true));
    assert!(p.rule.contains("`stable/*`"), "{}", p.rule);
    assert!(p.fix.contains("force push"), "{}", p.fix);
    // Git agrees: the force push the answer says is refused, is.
    w.work.git(&["branch", "-f", "stable/liberty", "main"]);
    assert!(w.push(&["+stable/liberty"]).is_err(), "refused as the client said");
    assert!(w.push(&[":stable/liberty"]).is_err(), "no deletion by a push");
    w.server.protect(Rule {
        allow_force_push: true,
        push_access_level: 30,
        ..Rule::new("stable/liberty")
    });
    let p = gitlab.protection("stable/liberty").expect("reads").expect("protected");
    assert_eq!((p.allows_force_push, p.push_restricted), (true, false), "the most permissive");
    assert!(p.rule.contains("`stable/liberty`") && p.rule.contains("`stable/*`"), "{}", p.rule);
    w.push(&["+stable/liberty"]).expect("and git lets it through");
    assert_eq!(gitlab.protection("main").expect("reads"), None);
    assert_eq!(gitlab.default_branch().expect("reads"), "main");
    super::server::server_git(&w.bare)
        .output(&["symbolic-ref", "HEAD", "refs/heads/stable/liberty"])
        .expect("set HEAD");
    assert_eq!(gitlab.default_branch().expect("reads"), "stable/liberty");
}

#[test]
fn a_refused_or_missing_token_names_the_host_and_how_to_give_one() {
    let w = World::new(1);
    w.server.add_request("fix-1", "stable/liberty", "Fix 1");
    let host = w.server.url().trim_start_matches("http://").to_string();
    let wrong = client(&w, Some("glpat-WRONGtok3n"));
    let err = wrong.open_requests("stable/liberty").expect_err("refused");
    let text = err.to_string();
    assert!(matches!(err, ReviewError::Refused { status: 401, .. }), "{text}");
    for word in [host.as_str(), "GITLAB_TOKEN", "credential helper", "401 Unauthorized"] {
        assert!(text.contains(word), "{word}: {text}");
    }
    for shown in [text.clone(), format!("{err:?}"), format!("{wrong:?}")] {
        assert!(!shown.contains("WRONGtok3n"), "the token never shows: {shown}");
    }
    assert!(!format!("{:?}", client(&w, Some(TOKEN))).contains(TOKEN));
    assert_eq!(format!("{:?}", Token::new(TOKEN.to_string())), "Token(****)");
    let anonymous = client(&w, None);
    let err = anonymous.open_requests("stable/liberty").expect_err("a private project");
    let text = err.to_string();
    assert!(text.contains("private") && text.contains("GITLAB_TOKEN"), "{text}");
    assert!(w.server.log().iter().all(|l| l.token.as_deref() != Some(TOKEN)), "never sent");
    let err = GitLabUrl::parse("https://oauth2:glpat-INurl@gitlab.example.org").expect_err("no");
    assert!(!err.to_string().contains("INurl"), "{err}");
    let api = GitLabUrl::parse("https://gitlab.example.org/gitlab/api/v4/").expect("an API root");
    assert_eq!(
        (api.as_str(), api.host()),
        ("https://gitlab.example.org/gitlab", "gitlab.example.org")
    );
}

#[test]
fn rate_limits_are_waited_out_failures_retried_and_silence_given_up() {
    let w = World::new(1);
    w.server.add_request("fix-1", "stable/liberty", "Fix 1");
    let notes = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&notes);
    let gitlab = client(&w, Some(TOKEN))
        .observed(Arc::new(move |n: &Note| seen.lock().expect("notes").push(n.clone())));
    w.server.rate_limit_next(1, true);
    let start = Instant::now();
    assert_eq!(gitlab.open_requests("stable/liberty").expect("after the wait").len(), 1);
    assert!(start.elapsed() >= Duration::from_millis(900), "waited");
    // Only RateLimit-Reset says when.
    w.server.rate_limit_next(2, false);
    assert_eq!(gitlab.open_requests("stable/liberty").expect("after the wait").len(), 1);
    let waits = notes
        .lock()
        .expect("notes")
        .iter()
        .filter(|n| matches!(n, Note::RateLimited { .. }))
        .count();
    assert_eq!(waits, 2, "the observer was told");
    w.server.fail_next(2, 502);
    let before = w.server.log().len();
    assert_eq!(gitlab.request(1).expect("after two 502s").number, 1);
    assert_eq!(w.server.log().len(), before + 3);
    let brief = client(&w, Some(TOKEN)).with_timeout(Duration::from_secs(3));
    w.server.rate_limit_next(60, true);
    let err = brief.request(1).expect_err("a wait longer than the timeout");
    assert!(matches!(err, ReviewError::RateLimited { .. }), "{err}");
    w.server.stop_answering();
    let start = Instant::now();
    let err = brief.request(1).expect_err("no answer");
    assert!(matches!(err, ReviewError::NoAnswer { .. }), "{err}");
    assert!(start.elapsed() < Duration::from_secs(6), "given up at the timeout");
}
