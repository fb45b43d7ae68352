//! `status` after a forge step's call failed: the journal on disk names the step, the
//! host's error (never the token) and the way on, in text and in `--json`; the error goes
//! once the step is tried again and passes.

use crate::github::{REPO, TOKEN, World, world};
use crate::{flat, regraft, run};

fn regraft_on(w: &World, args: &[&str], named: bool) -> assert_cmd::Command {
    let mut cmd = regraft(w.work.path());
    cmd.args(args).env("GH_TOKEN", TOKEN);
    if named {
        let host = format!("github:{}", w.server.url());
        cmd.args(["--review-host", &host, "--project", REPO]);
    }
    cmd
}

const RECREATE: [&str; 6] =
    ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "recreate"];

/// Three pull requests on stable/liberty, two a page; a recreate killed just before the
/// step that moves them to the hold branch, whose id is returned.
fn stopped_before_the_hold() -> (World, String) {
    let w = world(3);
    let bare = w.bare.display().to_string();
    w.work.git(&["remote", "add", "origin", &bare]);
    w.work.git(&["fetch", "-q", "origin"]);
    w.work.git(&["config", &format!("regraft.{}.allowHttp", w.server.url()), "true"]);
    w.server.max_per_page(2);
    for n in 1..=3 {
        w.server.add_request(&format!("feature-{n}"), "stable/liberty", &format!("Fix {n}"));
    }
    let mut dry: Vec<&str> = RECREATE.to_vec();
    dry.push("--json");
    let out = regraft_on(&w, &dry, true).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON plan");
    let ids: Vec<String> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["id"].as_str().expect("an id").to_string())
        .collect();
    let before = ids.iter().position(|id| id.starts_with("hold-requests")).expect("planned");
    let mut args: Vec<&str> = RECREATE.to_vec();
    args.extend(["--execute", "--yes"]);
    let (code, out) =
        run(regraft_on(&w, &args, true).env("REGRAFT_FAULT_AFTER_STEPS", before.to_string()));
    assert_eq!(code, None, "killed: {out}");
    (w, ids[before].clone())
}

#[test]
fn status_names_the_failed_forge_step_the_host_s_error_and_the_way_on() {
    let (w, hold) = stopped_before_the_hold();
    // The first request is moved (a read and a change), then every try of the next call
    // (the first and its three retries) is a 503.
    w.server.fail_after(2, 4, 503);
    let (code, out) = run(&mut regraft_on(&w, &["replace", "--continue"], false));
    assert_ne!(code, Some(0), "{out}");
    let journal = w.work.path().join(".git/regraft/journal.json");
    let on_disk = std::fs::read_to_string(&journal).expect("the journal stays");
    assert!(!on_disk.contains(TOKEN), "no credential is journalled");

    let (code, text) = run(&mut regraft_on(&w, &["status"], false));
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
    let text = flat(&text);
    assert!(text.contains("its call failed"), "the failure is shown: {text}");
    let error = text.split("failed: ").nth(1).unwrap_or_default();
    assert!(error.contains("503"), "the host's error: {text}");
    assert!(text.contains("git regraft replace --continue"), "{text}");
    assert!(text.contains("git regraft replace --abort"), "{text}");

    let out = regraft_on(&w, &["status", "--json"], false).output().expect("runs");
    assert!(out.status.success());
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(!json.contains(TOKEN), "{json}");
    let status: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let steps = status["operation"]["steps"].as_array().expect("steps");
    let with_error: Vec<&serde_json::Value> =
        steps.iter().filter(|s| s.get("error").is_some()).collect();
    assert_eq!(with_error.len(), 1, "one step failed: {json}");
    let step = with_error[0];
    assert_eq!(step["id"], hold.as_str(), "the hold step failed: {json}");
    assert_eq!(step["state"], "started", "it may or may not have been done: {json}");
    assert!(step["error"].as_str().unwrap_or_default().contains("503"), "{json}");
    assert_eq!(status["next"], "git regraft replace --continue");
    assert_eq!(status["or"], "git regraft replace --abort");

    // The host answers again: --continue finishes, and nothing is left to show.
    let (code, out) = run(&mut regraft_on(&w, &["replace", "--continue"], false));
    assert_eq!(code, Some(0), "{out}");
    assert!(!journal.exists(), "{out}");
    let (_, text) = run(&mut regraft_on(&w, &["status"], false));
    assert!(text.contains("Nothing in progress."), "{text}");
}

#[test]
fn a_failed_step_tried_again_loses_its_error_while_it_runs_once_more() {
    let (w, _) = stopped_before_the_hold();
    w.server.fail_after(2, 4, 503);
    let (code, out) = run(&mut regraft_on(&w, &["replace", "--continue"], false));
    assert_ne!(code, Some(0), "{out}");
    // Fails again, the same way: the error is the new one, and still one.
    w.server.fail_after(0, 8, 502);
    let (code, out) = run(&mut regraft_on(&w, &["replace", "--continue"], false));
    assert_ne!(code, Some(0), "{out}");
    let out = regraft_on(&w, &["status", "--json"], false).output().expect("runs");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let errors: Vec<String> = status["operation"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["error"].as_str().map(str::to_string))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("502") && !errors[0].contains("503"), "{errors:?}");
}
