//! The executor reaches a review host only through the `HostFactory` it is given: an end of
//! life on the GitHub stand-in, run and aborted by the engine with a factory of the test's
//! own, which builds its clients itself and can refuse a connection.

use std::sync::Mutex;
use std::time::Duration;

use regraft::git::Git;
use regraft::review::forge::{ForgeHost, ForgeKind, RequestHost};
use regraft::review::github::Token;
use regraft::review::{
    Credentials, GerritUrl, GitHub, GitHubRepo, GitHubUrl, HostFactory, Method, Named, ReviewError,
    ReviewHost,
};
use regraft::surgery::operation;
use regraft::surgery::replace::ForgeTarget;

use super::{REPO, TOKEN, World, world};

/// Connects to the stand-in with the test's token, noting every connection; the
/// connection numbered `refuse` (from 1) is refused as a host that did not answer.
struct Recording {
    url: String,
    refuse: Option<usize>,
    asked: Mutex<Vec<(String, String)>>,
}

impl HostFactory for Recording {
    fn timeout(&self) -> Duration {
        Duration::from_secs(10)
    }

    fn gerrit_credentials(
        &self,
        _git: &Git,
        url: &GerritUrl,
        _named: Named,
    ) -> Result<Credentials, ReviewError> {
        panic!("the plan has no Gerrit, yet {url} was asked for")
    }

    fn gerrit(
        &self,
        _git: &Git,
        url: &GerritUrl,
        _named: Named,
    ) -> Result<Box<dyn ReviewHost>, ReviewError> {
        panic!("the plan has no Gerrit, yet {url} was connected")
    }

    fn gerrit_anonymous(
        &self,
        _git: &Git,
        url: &GerritUrl,
    ) -> Result<Box<dyn ReviewHost>, ReviewError> {
        panic!("the plan has no Gerrit, yet {url} was connected anonymously")
    }

    fn forge(
        &self,
        _git: &Git,
        host: &ForgeHost,
        repository: &str,
        _named: Named,
    ) -> Result<Box<dyn RequestHost>, ReviewError> {
        let mut asked = self.asked.lock().expect("not poisoned");
        asked.push((host.web().to_string(), repository.to_string()));
        if Some(asked.len()) == self.refuse {
            return Err(ReviewError::NoAnswer {
                method: Method::Get,
                url: host.web().to_string(),
                server: host.to_string(),
                seconds: self.timeout().as_secs_f64(),
            });
        }
        let client = GitHub::new(
            GitHubUrl::parse(&self.url).expect("the stand-in's URL parses"),
            GitHubRepo::parse(repository).expect("owner/name"),
            Some(Token::new(TOKEN.to_string())),
            self.timeout(),
        )?;
        Ok(Box::new(client))
    }
}

/// A world with two open pull requests on stable/liberty and the plan of its end of life,
/// the stand-in named as the review host.
fn planned() -> (World, regraft::git::repo::Repo, operation::Plan) {
    let w = world(2);
    let bare = w.bare.display().to_string();
    w.work.git(&["remote", "add", "origin", &bare]);
    w.work.git(&["fetch", "-q", "origin"]);
    // The engine's git runs without the test's identity variables: the eol tag needs one.
    w.work.git(&["config", "user.name", "Release Team"]);
    w.work.git(&["config", "user.email", "release@example.org"]);
    for n in 1..=2 {
        w.server.add_request(&format!("feature-{n}"), "stable/liberty", "Fix");
    }
    let repo = crate::open(w.work.path());
    let target = ForgeTarget {
        host: ForgeHost::parse(ForgeKind::GitHub, w.server.url()).expect("a forge URL"),
        repository: REPO.to_string(),
        found_in: None,
    };
    // Planning asks no Gerrit (the factory would panic) and reads no forge.
    let plan = regraft::surgery::replace::plan_eol(
        &repo,
        &recording(&w, None),
        "origin",
        "stable/liberty",
        None,
        None,
        Some(&target),
    )
    .expect("planned");
    (w, repo, plan)
}

fn recording(w: &World, refuse: Option<usize>) -> Recording {
    Recording { url: w.server.url().to_string(), refuse, asked: Mutex::new(Vec::new()) }
}

#[test]
fn every_forge_step_of_a_run_connects_through_the_factory_it_is_given() {
    let (w, repo, plan) = planned();
    let forge_steps = plan.steps.iter().filter(|s| s.forge().is_some()).count();
    assert!(forge_steps >= 2, "record and close: {:?}", plan.steps);
    let hosts = recording(&w, None);
    operation::execute(&repo, &hosts, plan, &mut |_, _| {}).expect("the end of life runs");
    let asked = hosts.asked.into_inner().expect("not poisoned");
    assert_eq!(asked.len(), forge_steps, "one connection per forge step: {asked:?}");
    assert!(asked.iter().all(|(_, r)| r == REPO), "{asked:?}");
    // Git is the oracle for the branch, the stand-in for the pull requests.
    assert!(w.served_tip("stable/liberty").is_none(), "the branch is deleted");
    assert!(w.server.requests().iter().all(|p| !p.open), "{:?}", w.server.requests());
}

#[test]
fn a_connection_the_factory_refuses_stops_the_run_and_abort_puts_back_through_it() {
    let (w, repo, plan) = planned();
    let liberty = w.served_tip("stable/liberty").expect("served");
    let close = plan
        .steps
        .iter()
        .filter(|s| s.forge().is_some())
        .position(|s| s.id.to_string().starts_with("close-requests"))
        .expect("a close step");
    // The close step's connection is refused: its call never reached the stand-in.
    let hosts = recording(&w, Some(close + 1));
    let error = operation::execute(&repo, &hosts, plan, &mut |_, _| {}).expect_err("stopped");
    assert!(error.to_string().contains("did not answer"), "{error}");
    assert_eq!(w.served_tip("stable/liberty").as_deref(), Some(liberty.as_str()));
    assert!(w.server.requests().iter().all(|p| p.open), "{:?}", w.server.requests());
    assert!(operation::in_progress(&repo).expect("a journal").is_some(), "it stays");

    let again = recording(&w, None);
    let report = operation::abort(&repo, &again).expect("aborted");
    assert!(report.unfinished.is_empty(), "{report:?}");
    let asked = again.asked.into_inner().expect("not poisoned");
    assert!(!asked.is_empty(), "the abort asked the host through the factory");
    assert_eq!(w.served_tip("stable/liberty").as_deref(), Some(liberty.as_str()));
    assert!(w.server.requests().iter().all(|p| p.open), "{:?}", w.server.requests());
    assert!(operation::in_progress(&repo).expect("no journal").is_none());
}
