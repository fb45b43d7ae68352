//! regraft's GitHub client against the stand-in: what it sends is what the calls show,
//! what it reads is what the server (and git, for the branches) holds.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regraft::review::github::Token;
use regraft::review::github::calls;
use regraft::review::http::Note;
use regraft::review::{GitHub, GitHubRepo, GitHubUrl, RequestState, ReviewError};

use super::{Limit, REPO, Rules, TOKEN, World, world};

fn client(w: &World, token: Option<&str>, seconds: u64) -> GitHub {
    GitHub::new(
        GitHubUrl::parse(w.server.url()).expect("the stand-in's URL parses"),
        GitHubRepo::parse(REPO).expect("owner/name"),
        token.map(|t| Token::new(t.to_string())),
        Duration::from_secs(seconds),
    )
    .expect("a loopback server may get the token")
}

fn repo() -> GitHubRepo {
    GitHubRepo::parse(REPO).expect("owner/name")
}

#[test]
fn lists_every_page_of_a_branch_s_open_pull_requests() {
    let w = world(5);
    let mut liberty: Vec<u64> = (1..=5)
        .map(|n| w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix"))
        .collect();
    w.server.add_request("feature-1", "stable/mitaka", "Elsewhere");
    let closed = w.server.add_request("feature-2", "stable/liberty", "Closed");
    client(&w, Some(TOKEN), 10).close(closed).expect("closes");
    liberty.sort_unstable();
    // The client asks 100 a page; this server gives 2, so three pages.
    w.server.max_per_page(2);

    let open = client(&w, Some(TOKEN), 10).open_requests("stable/liberty").expect("lists");
    let mut numbers: Vec<u64> = open.iter().map(|p| p.number).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, liberty);
    let lists = w.server.log().iter().filter(|l| l.target.contains("/pulls?")).count();
    assert_eq!(lists, 3, "one request a page");
    let first = open.iter().find(|p| p.head == "feature-1").expect("feature-1's");
    assert_eq!(first.state, RequestState::Open);
    assert_eq!(first.base, "stable/liberty");
    assert_eq!(
        first.head_sha.map(|id| id.to_hex()),
        w.served_tip("feature-1"),
        "the head's commit as git has it"
    );
    assert!(first.url.ends_with(&format!("/pull/{}", first.number)));
}

#[test]
fn retargets_closes_reopens_comments_and_creates_as_the_calls_show() {
    let w = world(2);
    let n = w.server.add_request("feature-1", "stable/liberty", "Fix 1");
    let gh = client(&w, Some(TOKEN), 10);

    let moved = gh.retarget(n, "stable/mitaka").expect("retargets");
    assert_eq!(moved.base, "stable/mitaka");
    assert_eq!(w.server.pull(n).base, "stable/mitaka");
    let sent = w.server.log().pop().expect("a request");
    let call = calls::retarget(&repo(), n, "stable/mitaka");
    assert_eq!(sent.method, "PATCH");
    assert_eq!(sent.target, format!("/{}", call.path), "sent exactly as the call shows");
    assert_eq!(Some(sent.body), call.body);
    assert_eq!(sent.authorization.as_deref(), Some(format!("Bearer {TOKEN}").as_str()));

    assert_eq!(gh.close(n).expect("closes").state, RequestState::Closed);
    assert!(!w.server.pull(n).open);
    assert_eq!(gh.reopen(n).expect("reopens").state, RequestState::Open);
    assert!(w.server.pull(n).open);
    gh.comment(n, "Kept open through the replacement of stable/liberty.").expect("comments");
    let comments = w.server.comments(n);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "Kept open through the replacement of stable/liberty.");

    let created =
        gh.create_request("feature-2", "stable/liberty", "Stage 1", "Picks: abc").expect("opens");
    let held = w.server.pull(created.number);
    assert_eq!((held.head.as_str(), held.base.as_str()), ("feature-2", "stable/liberty"));
    assert_eq!(held.body.as_deref(), Some("Picks: abc"));
    assert_eq!(gh.request(created.number).expect("reads").title, "Stage 1");

    // What GitHub refuses comes back with its message.
    let again = gh.create_request("feature-2", "stable/liberty", "Twice", "").expect_err("refused");
    assert!(matches!(again, ReviewError::GitHub { status: 422, .. }), "{again}");
    assert!(again.to_string().contains("A pull request already exists"), "{again}");
}

#[test]
fn reads_protection_and_the_default_branch() {
    let w = world(0);
    w.server.protect(
        "stable/liberty",
        Rules {
            allow_deletions: true,
            restrict_pushes_to: Some(vec!["release-bot".into()]),
            ..Rules::default()
        },
    );
    let gh = client(&w, Some(TOKEN), 10);
    let p = gh.protection("stable/liberty").expect("reads").expect("protected");
    assert!(!p.allows_force_push && p.allows_deletion && p.push_restricted);
    assert!(p.rule.contains("stable/liberty"));
    assert!(p.fix.contains("allow force pushes"), "{}", p.fix);
    assert!(!p.fix.contains("allow deletions"), "{}", p.fix);
    assert_eq!(gh.protection("stable/mitaka").expect("reads"), None);

    assert_eq!(gh.default_branch().expect("reads"), "main");
    regraft::git::Git::new(&w.bare)
        .isolated()
        .output(&["symbolic-ref", "HEAD", "refs/heads/stable/liberty"])
        .expect("git moves HEAD");
    assert_eq!(gh.default_branch().expect("reads"), "stable/liberty", "as git says");

    // A repository the client cannot see is an error, never "unprotected".
    let anonymous = client(&w, None, 10).protection("stable/liberty").expect_err("refused");
    assert!(matches!(anonymous, ReviewError::GitHub { status: 404, .. }), "{anonymous}");
    assert!(anonymous.to_string().contains("GH_TOKEN"), "{anonymous}");
}

#[test]
fn a_refused_token_names_the_host_and_how_to_give_one_and_never_shows_itself() {
    let w = world(1);
    let n = w.server.add_request("feature-1", "stable/liberty", "Fix");
    let wrong = format!("{TOKEN}-revoked");
    let gh = client(&w, Some(&wrong), 10);
    let err = gh.close(n).expect_err("refused");
    assert!(matches!(err, ReviewError::GitHubAuth { token_given: true, .. }), "{err}");
    let text = err.to_string();
    let host = w.server.url().trim_start_matches("http://");
    for needed in [host, "refused the token", "GH_TOKEN", "GITHUB_TOKEN", "credential helper"] {
        assert!(text.contains(needed), "{needed}: {text}");
    }
    for shown in [text, format!("{err:?}"), format!("{gh:?}")] {
        assert!(!shown.contains(TOKEN), "{shown}");
    }
    assert!(w.server.pull(n).open);

    w.server.public();
    let err = client(&w, None, 10).close(n).expect_err("refused");
    assert!(matches!(err, ReviewError::GitHubAuth { token_given: false, .. }), "{err}");
    assert!(err.to_string().contains("needs a token"), "{err}");
    assert_eq!(client(&w, None, 10).default_branch().expect("public reads"), "main");
    assert!(w.server.log().iter().filter(|l| l.authorization.is_none()).count() >= 2);
}

fn notes() -> (Arc<Mutex<Vec<Note>>>, regraft::review::http::Observer) {
    let notes = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&notes);
    (notes, Arc::new(move |note: &Note| kept.lock().expect("notes").push(note.clone())))
}

#[test]
fn a_rate_limit_is_waited_out_within_the_timeout_and_refused_beyond_it() {
    let w = world(0);
    for limit in [Limit::Secondary { status: 429 }, Limit::Primary { status: 403 }] {
        let (notes, observer) = notes();
        let gh = client(&w, Some(TOKEN), 15).observed(observer);
        w.server.rate_limit(limit, 2);
        let started = Instant::now();
        assert_eq!(gh.default_branch().expect("after the wait"), "main");
        assert!(started.elapsed() >= Duration::from_secs(1), "{limit:?}: it waited");
        let told = notes.lock().expect("notes").clone();
        assert!(
            told.iter().any(|n| matches!(n, Note::RateLimited { seconds, .. } if *seconds <= 2)),
            "{limit:?}: {told:?}"
        );
    }

    w.server.rate_limit(Limit::Primary { status: 403 }, 120);
    let started = Instant::now();
    let err = client(&w, Some(TOKEN), 3).default_branch().expect_err("refused");
    assert!(matches!(err, ReviewError::RateLimited { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "given up at once, not at the timeout");
}

#[test]
fn a_server_error_is_tried_again_and_a_silent_server_given_up_at_the_timeout() {
    let w = world(0);
    w.server.fail_next(2, 502);
    let before = w.server.log().len();
    assert_eq!(client(&w, Some(TOKEN), 10).default_branch().expect("third time"), "main");
    assert_eq!(w.server.log().len() - before, 3);

    w.server.fail_next(5, 503);
    let err = client(&w, Some(TOKEN), 10).with_retries(1).default_branch().expect_err("refused");
    assert!(matches!(err, ReviewError::Status { status: 503, .. }), "{err}");

    w.server.stop_answering();
    let started = Instant::now();
    let err = client(&w, Some(TOKEN), 1).default_branch().expect_err("refused");
    assert!(matches!(err, ReviewError::NoAnswer { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[test]
fn a_next_link_to_another_origin_is_not_followed() {
    let w = world(3);
    for n in 1..=3 {
        w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix");
    }
    w.server.max_per_page(2);
    // Another server, counting who comes.
    let other = TcpListener::bind("127.0.0.1:0").expect("a port");
    let other_url = format!("http://{}", other.local_addr().expect("addr"));
    let came = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&came);
    std::thread::spawn(move || {
        for _ in other.incoming().take(1) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    w.server.link_origin(&other_url);
    let err = client(&w, Some(TOKEN), 10).open_requests("stable/liberty").expect_err("refused");
    assert!(matches!(err, ReviewError::BadPage { .. }), "{err}");
    assert!(err.to_string().contains(&other_url), "{err}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(came.load(Ordering::SeqCst), 0, "nothing, the token least of all, went there");
}

#[test]
fn a_server_that_repeats_its_first_page_is_caught() {
    let w = world(5);
    for n in 1..=5 {
        w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix");
    }
    w.server.max_per_page(2);
    w.server.ignore_page();
    let err = client(&w, Some(TOKEN), 10).open_requests("stable/liberty").expect_err("refused");
    assert!(matches!(err, ReviewError::BadPage { .. }), "{err}");
    assert_eq!(w.server.log().len(), 2, "stopped at the first page seen twice");
}

#[test]
fn a_token_is_not_sent_in_the_clear_to_another_machine() {
    let url = GitHubUrl::parse("http://github.example.org").expect("parses");
    let err = GitHub::new(url, repo(), Some(Token::new(TOKEN.into())), Duration::from_secs(1))
        .expect_err("refused");
    assert!(matches!(err, ReviewError::PlainHttp { .. }), "{err}");
    assert!(!format!("{err} {err:?}").contains(TOKEN));
}
