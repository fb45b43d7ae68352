//! Gerrit's Check Access asked while planning (issue 26, item 3): a server that denies a
//! right the plan needs refuses the plan before the tag is pushed or a review abandoned;
//! one that cannot be asked leaves a note and the plan runs.
//!
//! The Gerrit is the stand-in of `gerrit.rs` (written from Gerrit's REST documentation); the
//! remote is a bare repository reached by `file://`, read with `git ls-remote` as the oracle.

use std::path::Path;

use assert_cmd::Command;

use crate::gerrit::{self, PASSWORD, Server, USER, allow_plain_http, statuses};
use crate::replace::{World, regraft, remote, replace_args, run, world};
use crate::{flat, git, run_apart};

const BRANCH: &str = "refs/heads/stable/liberty";

/// What the remote holds, as `git ls-remote` lists it.
fn ls_remote(w: &World) -> String {
    git(&w.clone, &["ls-remote", w.server.to_str().expect("utf-8")])
}

/// A recreate of stable/liberty by origin/stable/mitaka, with the stand-in named and its
/// credentials given.
fn recreate(w: &World, s: &Server, more: &[&str]) -> Command {
    let mut cmd = regraft(&w.clone);
    cmd.args(replace_args("recreate"))
        .args(["--gerrit", s.url.as_str(), "--project", "openstack/kolla"])
        .args(more)
        .env("REGRAFT_GERRIT_USER", USER)
        .env("REGRAFT_GERRIT_PASSWORD", PASSWORD);
    cmd
}

/// The Check Access requests the stand-in received.
fn access_requests(s: &Server) -> Vec<String> {
    let st = s.state.lock().expect("state");
    st.requests.iter().filter(|r| r.contains("/check.access")).cloned().collect()
}

/// Tells whether the stand-in was asked to abandon anything.
fn abandon_asked(s: &Server) -> bool {
    s.state.lock().expect("state").requests.iter().any(|r| r.contains("/abandon"))
}

/// The stand-in of the brief's Gerrit, denying deletes of stable/liberty, and a remote
/// refusing them too.
fn denying_deletes() -> (World, Server) {
    let s = gerrit::world();
    s.state.lock().expect("state").denied.push((BRANCH.into(), "delete".into()));
    let w = world(true);
    allow_plain_http(&w.clone, &s);
    git(&w.server, &["config", "receive.denyDeletes", "true"]);
    (w, s)
}

#[test]
fn a_denied_delete_refuses_recreate_before_the_tag_or_any_review() {
    let (w, s) = denying_deletes();
    let before = (ls_remote(&w), statuses(&s));
    let (code, out) = run(&mut recreate(&w, &s, &["--execute", "--yes"]));
    assert_eq!(code, Some(3), "a finding, as policy refusals: {out}");
    let said = flat(&out);
    assert!(said.contains("denies `delete` on refs/heads/stable/liberty"), "{out}");
    assert!(said.contains("lacks permission delete"), "Gerrit's message: {out}");
    assert!(said.contains("step delete"), "names the step: {out}");
    assert!(said.contains("--strategy merge") && said.contains("megapatch"), "{out}");
    assert!(said.contains("Delete Reference"), "or the right to ask for: {out}");
    assert_eq!((ls_remote(&w), statuses(&s)), before, "nothing changed: {out}");
    assert_eq!(remote(&w.server, "refs/tags/liberty-early-demise"), None, "not even the tag");
    assert!(!abandon_asked(&s), "no review was abandoned: {out}");
    assert!(!w.clone.join(".git/regraft/journal.json").exists(), "nothing started: {out}");
}

#[test]
fn the_dry_run_asks_too_and_shows_the_same_refusal() {
    let (w, s) = denying_deletes();
    let before = ls_remote(&w);
    let (code, out) = run(&mut recreate(&w, &s, &[]));
    assert_eq!(code, Some(3), "{out}");
    let said = flat(&out);
    assert!(said.contains("DENIED: `delete` on refs/heads/stable/liberty (step delete)"), "{out}");
    assert!(said.contains("allowed: `createTag` on refs/tags/liberty-early-demise"), "{out}");
    assert!(said.contains("denies `delete`") && said.contains("--strategy merge"), "{out}");
    let (code, json, err) = run_apart(&mut recreate(&w, &s, &["--json"]));
    assert_eq!(code, Some(3), "{err}");
    let plan: serde_json::Value = serde_json::from_str(&json).expect("the plan as JSON");
    let denied: Vec<_> = plan["access"]
        .as_array()
        .expect("access")
        .iter()
        .filter(|c| c["answer"] == "denied")
        .collect();
    assert_eq!(denied.len(), 1, "{json}");
    assert_eq!(
        (denied[0]["reference"].as_str(), denied[0]["permission"].as_str()),
        (Some(BRANCH), Some("delete")),
        "{json}"
    );
    assert!(denied[0]["message"].as_str().is_some_and(|m| m.contains("lacks")), "{json}");
    assert_eq!(ls_remote(&w), before, "a dry run changes nothing");
    assert!(!abandon_asked(&s));
}

#[test]
fn with_every_right_allowed_the_plan_runs_as_before_asking_each_right_once() {
    let s = gerrit::world();
    let w = world(true);
    allow_plain_http(&w.clone, &s);
    let (code, json, err) = run_apart(&mut recreate(&w, &s, &["--json"]));
    assert_eq!(code, Some(0), "{err}");
    // The recreate's rights: the tag, the abandon, the delete and the create, once each.
    let asked = access_requests(&s);
    let mut pairs: Vec<(String, String)> = asked
        .iter()
        .map(|r| {
            let query = r.split_once('?').expect("a query").1;
            let value = |key: &str| {
                query
                    .split(['&', ' '])
                    .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                    .unwrap_or_default()
                    .replace("%2F", "/")
            };
            assert_eq!(value("account"), "1000096", "{r}");
            (value("ref"), value("perm"))
        })
        .collect();
    pairs.sort();
    let expected = [
        (BRANCH, "abandon"),
        (BRANCH, "create"),
        (BRANCH, "delete"),
        ("refs/tags/liberty-early-demise", "createTag"),
    ];
    assert_eq!(pairs, expected.map(|(r, p)| (r.to_string(), p.to_string())).to_vec(), "{asked:?}");
    assert!(asked.iter().all(|r| r.starts_with("GET /a/projects/openstack%2Fkolla/")), "{asked:?}");
    let plan: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert!(
        plan["access"].as_array().expect("access").iter().all(|c| c["answer"] == "allowed"),
        "{json}"
    );
    let (code, out) = run(&mut recreate(&w, &s, &["--execute", "--yes"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.source), "{out}");
    assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old));
    let st = statuses(&s);
    assert!((1..=7).all(|n| st[&n] == "ABANDONED"), "{st:?}");
}

#[test]
fn a_check_access_that_cannot_be_asked_is_a_note_and_never_blocks() {
    for (status, why) in [(403, "View Access"), (404, "has no Check Access")] {
        let s = gerrit::world();
        s.state.lock().expect("state").check_access_status = Some(status);
        // Were the question answered, this would refuse the plan.
        s.state
            .lock()
            .expect("state")
            .denied
            .push(("refs/tags/liberty-early-demise".into(), "createTag".into()));
        let w = world(true);
        allow_plain_http(&w.clone, &s);
        let (code, out) = run(&mut recreate(&w, &s, &[]));
        assert_eq!(code, Some(0), "{status}: {out}");
        let said = flat(&out);
        assert!(
            said.contains("note: the rights the plan needs were not checked") && said.contains(why),
            "{status}: {out}"
        );
        assert!(said.contains("delete on refs/heads/stable/liberty"), "names them: {out}");
        let (code, out) = run(&mut recreate(&w, &s, &["--execute", "--yes"]));
        assert_eq!(code, Some(0), "{status}: {out}");
        assert_eq!(remote(&w.server, BRANCH), Some(w.source), "{status}: {out}");
    }
    // Without credentials nothing is asked, and the note says why.
    let s = gerrit::world();
    let w = world(true);
    let (code, out) = run(regraft(&w.clone).args(replace_args("recreate")).args([
        "--gerrit",
        s.url.as_str(),
        "--project",
        "openstack/kolla",
    ]));
    assert_eq!(code, Some(0), "{out}");
    assert!(flat(&out).contains("not checked") && flat(&out).contains("no credentials"), "{out}");
    assert!(access_requests(&s).is_empty(), "{out}");
}

#[test]
fn a_forced_push_is_asked_as_a_push_and_the_note_says_so() {
    let s = gerrit::world();
    let w = world(false);
    allow_plain_http(&w.clone, &s);
    let mut cmd = recreate(&w, &s, &[]);
    let mut reset = regraft(&w.clone);
    reset
        .args(replace_args("reset"))
        .args(["--gerrit", s.url.as_str(), "--project", "openstack/kolla"])
        .env("REGRAFT_GERRIT_USER", USER)
        .env("REGRAFT_GERRIT_PASSWORD", PASSWORD);
    let (code, out) = run(&mut reset);
    assert_eq!(code, Some(0), "{out}");
    let said = flat(&out);
    assert!(said.contains("step reset force-pushes refs/heads/stable/liberty"), "{out}");
    assert!(said.contains("no force flag"), "{out}");
    assert!(said.contains("allowed: `push` on refs/heads/stable/liberty (step reset)"), "{out}");
    // A recreate force-pushes nothing.
    let (code, out) = run(&mut cmd);
    assert_eq!(code, Some(0), "{out}");
    assert!(!flat(&out).contains("force flag"), "{out}");
}

#[test]
fn eol_with_abandon_denied_refuses_before_pushing_the_tag() {
    let s = gerrit::world();
    s.state.lock().expect("state").denied.push((BRANCH.into(), "abandon".into()));
    let w = world(true);
    let tip = gerrit::with_gitreview(&s, &w);
    let before = (ls_remote(&w), statuses(&s));
    let mut eol = regraft(&w.clone);
    gerrit::authenticated(&mut eol, &s).args(["eol", "stable/liberty", "--execute", "--yes"]);
    let (code, out) = run(&mut eol);
    assert_eq!(code, Some(3), "{out}");
    let said = flat(&out);
    assert!(said.contains("denies `abandon` on refs/heads/stable/liberty"), "{out}");
    assert!(said.contains("step abandon-reviews"), "{out}");
    assert!(said.contains("the right Abandon on refs/heads/stable/liberty"), "{out}");
    assert!(!said.contains("--strategy merge"), "an end of life replaces nothing: {out}");
    assert_eq!((ls_remote(&w), statuses(&s)), before, "{out}");
    assert_eq!(remote(&w.server, "refs/tags/liberty-eol"), None, "the tag was not pushed");
    assert_eq!(remote(&w.server, BRANCH), Some(tip));
    assert!(!abandon_asked(&s), "{out}");
}

/// Writes a playbook recreating stable/liberty in `repo`, reviews abandoned first.
fn playbook(repo: &Path) -> std::path::PathBuf {
    let book = repo.parent().expect("parent").join("recreate.toml");
    std::fs::write(
        &book,
        format!(
            "name = \"recreate\"\ndescription = \"recreate stable/liberty\"\n\n[repositories]\npaths = [\"{}\"]\n\n[review]\n\n[[steps]]\ndo = \"replace\"\nbranch = \"stable/liberty\"\nfrom = \"origin/stable/mitaka\"\nstrategy = \"recreate\"\n",
            repo.display()
        ),
    )
    .expect("write the playbook");
    book
}

#[test]
fn a_playbook_is_checked_too() {
    let (w, s) = denying_deletes();
    gerrit::with_gitreview(&s, &w);
    let book = playbook(&w.clone);
    let before = (ls_remote(&w), statuses(&s));
    let mut dry = regraft(&w.clone);
    gerrit::authenticated(&mut dry, &s).arg("run").arg(&book);
    let (code, out) = run(&mut dry);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        flat(&out).contains("DENIED: `delete` on refs/heads/stable/liberty (step 1-delete)"),
        "{out}"
    );
    let mut go = regraft(&w.clone);
    gerrit::authenticated(&mut go, &s).arg("run").arg(&book).args(["--execute", "--yes"]);
    let (code, out) = run(&mut go);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        flat(&out).contains("denies `delete`") && flat(&out).contains("--strategy merge"),
        "{out}"
    );
    assert_eq!((ls_remote(&w), statuses(&s)), before, "{out}");
    assert!(!abandon_asked(&s), "{out}");
    assert!(!w.clone.join(".git/regraft/journal.json").exists(), "{out}");
    // Allowed, the same playbook runs.
    s.state.lock().expect("state").denied.clear();
    let mut go = regraft(&w.clone);
    gerrit::authenticated(&mut go, &s).arg("run").arg(&book).args(["--execute", "--yes"]);
    git(&w.server, &["config", "receive.denyDeletes", "false"]);
    let (code, out) = run(&mut go);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.source), "{out}");
}

#[test]
fn a_saved_plan_is_asked_again_before_it_runs() {
    let s = gerrit::world();
    let w = world(true);
    allow_plain_http(&w.clone, &s);
    // The configured server: a saved plan's Gerrit gets the environment's credentials only
    // then (or named on the command line).
    git(&w.clone, &["config", "regraft.gerrit", s.url.as_str()]);
    let file = w.clone.join("liberty.json");
    let (code, out) = run(&mut recreate(&w, &s, &["--plan-out", file.to_str().expect("utf-8")]));
    assert_eq!(code, Some(0), "allowed when it was written: {out}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("JSON");
    assert!(saved["access"].as_array().is_some_and(|a| a.len() == 4), "{saved}");
    // The project's owners take the right away after the plan was reviewed.
    s.state.lock().expect("state").denied.push((BRANCH.into(), "delete".into()));
    let before = (ls_remote(&w), statuses(&s));
    let mut run_saved = regraft(&w.clone);
    run_saved
        .args(["replace", "--plan", file.to_str().expect("utf-8"), "--execute", "--yes"])
        .env("REGRAFT_GERRIT_USER", USER)
        .env("REGRAFT_GERRIT_PASSWORD", PASSWORD);
    let (code, out) = run(&mut run_saved);
    assert_eq!(code, Some(3), "{out}");
    assert!(flat(&out).contains("denies `delete` on refs/heads/stable/liberty"), "{out}");
    assert_eq!((ls_remote(&w), statuses(&s)), before, "{out}");
    assert!(!abandon_asked(&s), "{out}");
}

/// The requests the stand-in received that carried credentials.
fn credentialed(s: &Server) -> Vec<String> {
    let st = s.state.lock().expect("state");
    st.requests.iter().filter(|r| r.contains("Basic")).cloned().collect()
}

/// A clone whose configured Gerrit is `configured`, and a plan recreating stable/liberty
/// saved by someone who named `named` (with its credentials), the stand-in's log then
/// cleared.
fn saved_naming(configured: &Server, named: &Server) -> (World, std::path::PathBuf) {
    let w = world(true);
    allow_plain_http(&w.clone, named);
    git(&w.clone, &["config", "regraft.gerrit", configured.url.as_str()]);
    let file = w.clone.join("liberty.json");
    let mut write = regraft(&w.clone);
    write
        .args(replace_args("recreate"))
        .args(["--gerrit", named.url.as_str(), "--project", "openstack/kolla"])
        .args(["--plan-out", file.to_str().expect("utf-8")])
        .env("REGRAFT_GERRIT_USER", USER)
        .env("REGRAFT_GERRIT_PASSWORD", PASSWORD);
    let (code, out) = run(&mut write);
    assert_eq!(code, Some(0), "{out}");
    assert!(!credentialed(named).is_empty(), "asked, named by the user then: {out}");
    named.state.lock().expect("state").requests.clear();
    (w, file)
}

/// Runs the plan in `file` with the environment's credentials set.
fn run_saved(w: &World, file: &Path, more: &[&str]) -> (Option<i32>, String) {
    let mut cmd = regraft(&w.clone);
    cmd.args(["replace", "--plan", file.to_str().expect("utf-8")])
        .args(more)
        .env("REGRAFT_GERRIT_USER", USER)
        .env("REGRAFT_GERRIT_PASSWORD", PASSWORD);
    run(&mut cmd)
}

/// A saved plan is a file: a Gerrit it names gets `REGRAFT_GERRIT_*` only when the user
/// configured it or names it again on the command line (issue 27): not for its Check
/// Access, not for its abandon. Two stand-ins on 127.0.0.1: the configured one, and the
/// one the file names; their request logs say who received credentials.
#[test]
fn a_gerrit_a_saved_plan_names_never_gets_the_environment_s_credentials() {
    let (configured, named) = (gerrit::world(), gerrit::world());
    let (w, file) = saved_naming(&configured, &named);
    let before = (ls_remote(&w), statuses(&named));
    // The dry run asks Check Access again: not with the environment's credentials.
    let (code, out) = run_saved(&w, &file, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!flat(&out).contains("allowed: `delete`"), "not asked: {out}");
    assert_eq!(credentialed(&named), Vec::<String>::new(), "{out}");
    // Executing it: refused before anything changes, saying why and how to send them.
    let (code, out) = run_saved(&w, &file, &["--execute", "--yes"]);
    assert_eq!(code, Some(2), "{out}");
    let said = flat(&out);
    assert!(said.contains("go only to a server you name"), "{out}");
    assert!(said.contains(&format!("--gerrit {}", named.url)), "{out}");
    assert_eq!(credentialed(&named), Vec::<String>::new(), "{out}");
    assert_eq!(credentialed(&configured), Vec::<String>::new(), "nor to the other: {out}");
    assert!(!abandon_asked(&named), "{out}");
    assert_eq!((ls_remote(&w), statuses(&named)), before, "{out}");
    assert!(!w.clone.join(".git/regraft/journal.json").exists(), "{out}");
    // Named again on the command line, it gets them: the same plan runs.
    let (code, out) = run_saved(&w, &file, &["--gerrit", named.url.as_str(), "--execute", "--yes"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!credentialed(&named).is_empty(), "{out}");
    assert!(abandon_asked(&named), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.source), "{out}");
}

/// The open-reviews check of a saved plan (here a file without the abandon call) asks the
/// Gerrit the file names without the environment's credentials; the configured Gerrit,
/// named in a file, gets them.
#[test]
fn a_saved_plan_s_open_reviews_check_sends_no_credentials_to_the_file_s_gerrit() {
    let (configured, named) = (gerrit::world(), gerrit::world());
    let (w, file) = saved_naming(&configured, &named);
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("JSON");
    // The abandon step's call taken out, its verification (the open-reviews check) stays.
    let steps = plan["steps"].as_array_mut().expect("steps");
    let abandon =
        steps.iter_mut().find(|s| s.get("review").is_some()).expect("the plan abandons reviews");
    abandon.as_object_mut().expect("a step").remove("review");
    plan["access"] = serde_json::json!([]);
    assert!(plan.to_string().contains("no-open-reviews"), "a check remains: {plan}");
    let checks_only = w.clone.join("checks.json");
    std::fs::write(&checks_only, plan.to_string()).expect("write");
    let (code, out) = run_saved(&w, &checks_only, &["--execute", "--yes"]);
    assert_ne!(code, Some(0), "{out}");
    assert_eq!(credentialed(&named), Vec::<String>::new(), "{out}");
    assert_eq!(remote(&w.server, BRANCH), Some(w.old), "the branch stays: {out}");
    // The configured Gerrit, in the same file, gets them for its check.
    let (w, _) = saved_naming(&configured, &named);
    let text = plan.to_string().replace(named.url.as_str(), configured.url.as_str());
    std::fs::write(&checks_only, text).expect("write");
    allow_plain_http(&w.clone, &configured);
    let (code, out) = run_saved(&w, &checks_only, &["--execute", "--yes"]);
    assert_ne!(code, Some(0), "its reviews are open: {out}");
    assert!(
        credentialed(&configured).iter().any(|r| r.contains("/changes/")),
        "{out}: {:?}",
        configured.state.lock().expect("state").requests
    );
}
