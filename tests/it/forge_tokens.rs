//! A forge's token goes only to its own host: GH_TOKEN never to a GitLab, GITLAB_TOKEN
//! never to a GitHub, and neither to a server that a saved plan file names (unless the
//! user names it again with --review-host). Each stand-in logs the credentials that came.

use crate::{regraft, run};
use regraft_testkit::Fixture;

const HOLD: &str = "regraft-hold/stable/liberty";

/// Makes a GitHub world whose `origin` is its bare repository, with `requests` pull
/// requests open on stable/liberty.
fn github(requests: usize) -> crate::github::World {
    let w = crate::github::world(requests);
    let bare = w.bare.display().to_string();
    w.work.git(&["remote", "add", "origin", &bare]);
    w.work.git(&["fetch", "-q", "origin"]);
    w.work.git(&["config", &format!("regraft.{}.allowHttp", w.server.url()), "true"]);
    for n in 1..=requests {
        w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix");
    }
    w
}

/// A second GitHub stand-in, public, accepting the same token, with its own repository and
/// pull requests on stable/liberty: what an edited plan file could point at.
fn another_github(w: &crate::github::World) -> (tempfile::TempDir, crate::github::Server) {
    let tmp = tempfile::TempDir::new().expect("temp dir");
    let bare = tmp.path().join("other.git");
    Fixture::init_bare(&bare);
    let server = crate::github::Server::start(&bare, crate::github::REPO, crate::github::TOKEN);
    server.public();
    let url = bare.display().to_string();
    w.work.git(&["push", "-q", &url, "refs/heads/*:refs/heads/*"]);
    server.add_request("feature-1", "stable/liberty", "Fix elsewhere");
    (tmp, server)
}

fn carried_github_token(log: &[crate::github::Logged]) -> bool {
    log.iter().any(|l| {
        l.authorization.as_deref().is_some_and(|a| a.contains(crate::github::TOKEN))
            || l.headers.iter().any(|(_, v)| v.contains(crate::github::TOKEN))
    })
}

const RECREATE: [&str; 6] =
    ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "recreate"];

#[test]
fn a_saved_plan_edited_to_name_another_server_never_sends_it_the_token() {
    let w = github(2);
    let (_tmp, other) = another_github(&w);
    let file = w.work.path().join("p.json");
    let host = format!("github:{}", w.server.url());
    let (code, out) = run(regraft(w.work.path())
        .args(RECREATE)
        .args(["--review-host", &host, "--project", crate::github::REPO])
        .args(["--plan-out", file.to_str().expect("utf-8")])
        .env("GH_TOKEN", crate::github::TOKEN));
    assert_eq!(code, Some(0), "{out}");
    let text = std::fs::read_to_string(&file).expect("the plan");
    assert!(text.contains(w.server.url()), "the plan names the forge: {text}");
    std::fs::write(&file, text.replace(w.server.url(), other.url())).expect("edited");
    let before = w.server.log().len();

    let (code, out) = run(regraft(w.work.path())
        .args(["replace", "--plan", file.to_str().expect("utf-8"), "--execute", "--yes"])
        .env("GH_TOKEN", crate::github::TOKEN));
    assert_ne!(code, Some(0), "a write without a token is refused: {out}");
    assert!(!out.contains(crate::github::TOKEN), "{out}");
    assert!(!other.log().is_empty(), "the other server was asked");
    assert!(!carried_github_token(&other.log()), "{:?}", other.log());
    let said = crate::flat(&out);
    assert!(said.contains("GH_TOKEN was not sent to it"), "says why: {out}");
    assert!(said.contains("p.json names GitHub") && said.contains("--review-host"), "{out}");
    assert_eq!(w.server.log().len(), before, "the planning server is not asked either");
    // The branch was not touched, and --abort leaves nothing behind.
    assert!(w.served_tip("stable/liberty").is_some());
    let (code, out) = run(regraft(w.work.path())
        .args(["replace", "--abort"])
        .env("GH_TOKEN", crate::github::TOKEN));
    assert_eq!(code, Some(0), "{out}");
    assert!(!carried_github_token(&other.log()), "{:?}", other.log());
    assert!(w.served_tip(HOLD).is_none());
}

#[test]
fn a_saved_plan_whose_server_the_user_names_again_gets_the_token() {
    let w = github(2);
    let numbers: Vec<u64> = w.server.requests().iter().map(|p| p.number).collect();
    let file = w.work.path().join("p.json");
    let host = format!("github:{}", w.server.url());
    let named = ["--review-host", host.as_str(), "--project", crate::github::REPO];
    let (code, out) = run(regraft(w.work.path())
        .args(RECREATE)
        .args(named)
        .args(["--plan-out", file.to_str().expect("utf-8")])
        .env("GH_TOKEN", crate::github::TOKEN));
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(regraft(w.work.path())
        .args(["replace", "--plan", file.to_str().expect("utf-8"), "--execute", "--yes"])
        .args(&named[..2])
        .env("GH_TOKEN", crate::github::TOKEN));
    assert_eq!(code, Some(0), "{out}");
    assert!(carried_github_token(&w.server.log()), "the token went to the named server");
    assert_eq!(w.served_tip("stable/liberty"), w.served_tip("stable/mitaka"));
    let open: Vec<u64> = w
        .server
        .requests()
        .iter()
        .filter(|p| p.open && p.base == "stable/liberty")
        .map(|p| p.number)
        .collect();
    assert_eq!(open, numbers, "{:?}", w.server.requests());
}

#[test]
fn each_forge_s_token_goes_to_its_own_forge_only() {
    // GitHub, with GITLAB_TOKEN set too.
    let w = github(2);
    let host = format!("github:{}", w.server.url());
    let (code, out) = run(regraft(w.work.path())
        .args(RECREATE)
        .args(["--review-host", &host, "--project", crate::github::REPO, "--execute", "--yes"])
        .env("GH_TOKEN", crate::github::TOKEN)
        .env("GITLAB_TOKEN", crate::gitlab::TOKEN));
    assert_eq!(code, Some(0), "{out}");
    let log = w.server.log();
    assert!(carried_github_token(&log));
    assert!(
        log.iter().all(|l| l.headers.iter().all(|(_, v)| !v.contains(crate::gitlab::TOKEN))),
        "{log:?}"
    );

    // GitLab, with GH_TOKEN set too.
    let w = crate::gitlab::World::new(2);
    crate::gitlab::surgery::with_origin(&w);
    for n in 1..=2 {
        w.server.add_request(&format!("fix-{n}"), "stable/liberty", "Fix");
    }
    let (code, out) = run(regraft(w.work.path())
        .args(["replace", "stable/liberty", "--from", "origin/main", "--strategy", "recreate"])
        .args(["--review-host", &format!("gitlab:{}", w.server.url())])
        .args(["--project", crate::gitlab::PROJECT, "--execute", "--yes"])
        .env("GH_TOKEN", crate::github::TOKEN)
        .env("GITHUB_TOKEN", crate::github::TOKEN)
        .env("GITLAB_TOKEN", crate::gitlab::TOKEN));
    assert_eq!(code, Some(0), "{out}");
    let log = w.server.log();
    assert!(log.iter().any(|l| l.token.as_deref() == Some(crate::gitlab::TOKEN)));
    assert!(
        log.iter().all(|l| l.token.as_deref().is_none_or(|t| t == crate::gitlab::TOKEN)),
        "{log:?}"
    );
    assert!(log.iter().all(|l| !l.target.contains(crate::github::TOKEN)), "{log:?}");
}
