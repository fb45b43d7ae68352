//! `git regraft guide` in a real pseudo-terminal (rexpect), driven key by key on built
//! repositories with a local bare remote: Enter everywhere writes a playbook and changes
//! nothing, and that playbook runs as written; Esc and Ctrl-C stop with nothing changed; a
//! developer is synced; a project lead gets Markdown; no terminal is exit 2.

use std::path::Path;

use rexpect::session::PtySession;

use crate::replace::{World, remote, world};
use crate::{git, regraft, run};

pub(crate) const ENTER: &str = "\r";
const DOWN: &str = "\x1b[B";

/// Starts the guide in `dir` in a pseudo-terminal, with the tests' fixed environment.
pub(crate) fn guide(dir: &Path) -> PtySession {
    guide_with(dir, &[], &[], 60_000)
}

/// Starts `git regraft guide ARGS` in `dir` with `envs` added, waiting up to `timeout_ms`
/// for each answer.
pub(crate) fn guide_with(
    dir: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
    timeout_ms: u64,
) -> PtySession {
    let mut cmd = crate::regraft_process(dir);
    cmd.arg("guide")
        .args(args)
        .envs(envs.iter().copied())
        .env("TERM", "xterm")
        .env("COLUMNS", "80");
    rexpect::session::spawn_command(cmd, Some(timeout_ms)).expect("the guide starts in a pty")
}

/// Waits for `question`, then sends `keys`; returns what the terminal showed up to and
/// with the question.
pub(crate) fn answer(p: &mut PtySession, question: &str, keys: &str) -> String {
    let shown = match p.exp_string(question) {
        Ok(shown) => shown,
        Err(e) => panic!("waiting for {question:?}: {e}"),
    };
    p.send(keys).expect("send");
    p.flush().expect("flush");
    format!("{shown}{question}")
}

/// The widest line a person saw in `transcript` (what the pseudo-terminal received): the
/// escape sequences that move the cursor or clear a line are dropped, and a carriage return
/// starts the line again.
pub(crate) fn widest_line(transcript: &str) -> (usize, String) {
    let mut plain = String::new();
    let mut chars = transcript.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters, then one final byte in @..~.
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        plain.push(c);
    }
    // The terminal's bytes arrive one char each: read them again as UTF-8.
    if plain.chars().all(|c| u32::from(c) < 256) {
        let bytes: Vec<u8> = plain.chars().map(|c| u32::from(c) as u8).collect();
        plain = String::from_utf8_lossy(&bytes).into_owned();
    }
    plain
        .split('\n')
        .flat_map(|l| l.split('\r'))
        .map(|l| (l.chars().count(), l.to_string()))
        .max()
        .unwrap_or_default()
}

/// Waits for the end and returns the exit code.
pub(crate) fn finish(p: &mut PtySession) -> (Option<i32>, String) {
    let rest = p.exp_eof().unwrap_or_default();
    // nix's WaitStatus, read through its Debug form (`Exited(Pid(12), 0)`) to keep nix out
    // of the tests' dependencies.
    let status = format!("{:?}", p.process_mut().wait());
    let code = status
        .strip_prefix("Ok(Exited(")
        .and_then(|s| s.rsplit_once(", "))
        .and_then(|(_, tail)| tail.trim_end_matches(')').parse().ok());
    (code, rest)
}

/// Runs `cmd` and returns its standard output, failing on a non-zero exit.
fn git_regraft_stdout(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The release path's questions before it asks whether the branch may be deleted and
/// created.
const RELEASE_QUESTIONS: [&str; 8] = [
    "What do you want to do?",
    "Fetch origin first",
    "Which branch is broken?",
    "What does it need?",
    "Which branch holds it?",
    "forced (non-fast-forward) pushes",
    "merge commits",
    "How do changes reach the branch?",
];

/// Answers the release path's questions up to the options with Enter, and `admin` to
/// whether the branch may be deleted and created; returns what the terminal showed.
pub(crate) fn release_to_options(p: &mut PtySession, admin: &str) -> String {
    let mut seen = String::new();
    let questions = RELEASE_QUESTIONS.iter().map(|q| (*q, ENTER));
    for (question, keys) in questions.chain([("delete and create the branch", admin)]) {
        seen += &answer(p, question, keys);
    }
    seen
}

/// The playbook the guide wrote in `dir`.
pub(crate) fn written_playbook(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .expect("read")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "toml"))
        .expect("a playbook")
}

fn refs(w: &World) -> String {
    git(&w.server, &["for-each-ref", "--format=%(refname) %(objectname)"])
}

/// Answers the release path's questions with Enter, up to the playbook and the plan;
/// returns what the terminal showed.
fn release_with_defaults(p: &mut PtySession) -> String {
    let mut seen = String::new();
    seen += &answer(p, "What do you want to do?", ENTER);
    seen += &answer(p, "Fetch origin first", ENTER);
    seen += &answer(p, "Which branch is broken?", ENTER);
    seen += &answer(p, "What does it need?", ENTER);
    seen += &answer(p, "Which branch holds it?", ENTER);
    // The figures fit 80 columns.
    let shown = p.exp_string("forced (non-fast-forward) pushes").expect("the rules question");
    let table: Vec<&str> =
        shown.lines().skip_while(|l| !l.trim_start().starts_with("option ")).collect();
    assert!(table.len() > 5, "the comparison is shown: {shown}");
    // What the whole-tree options undo is shown before an option is chosen.
    let flat = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("changes of its own that stable/mitaka lacks; merge, megapatch, recreate and reset undo them"),
        "{shown}"
    );
    for line in &table {
        let visible = line.trim_end_matches('\r');
        assert!(visible.chars().count() <= 80, "{} columns: {visible:?}", visible.chars().count());
    }
    seen += &shown;
    p.send(ENTER).expect("send");
    p.flush().expect("flush");
    seen += &answer(p, "merge commits", ENTER);
    seen += &answer(p, "How do changes reach the branch?", ENTER);
    seen += &answer(p, "delete and create the branch", ENTER);
    seen += &answer(p, "Which option?", ENTER);
    seen += &answer(p, "Carry which of them on top as follow-ups?", ENTER);
    seen += &answer(p, "Tag that keeps the old tip", ENTER);
    seen += &answer(p, "Write the playbook to", ENTER);
    seen
}

#[test]
fn enter_throughout_writes_a_playbook_that_runs_as_written_and_changes_nothing() {
    let w = world(true);
    let before = refs(&w);
    let tags = git(&w.clone, &["tag"]);
    let mut p = guide(&w.clone);
    let mut seen = release_with_defaults(&mut p);
    let shown = p.exp_string("Carry it out now?").expect("the plan, then the question");
    p.send(ENTER).expect("send");
    p.flush().expect("flush");
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    // Every line the person saw fits 80 columns: questions, answers, figures and plan.
    seen += &shown;
    seen += &out;
    let (width, line) = widest_line(&seen);
    assert!(width <= 80, "{width} columns: {line:?}");
    assert_eq!(refs(&w), before, "nothing changed on the remote");
    // The plan fits 80 columns and shows every step `run --json` plans.
    let plan: Vec<&str> = shown
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .skip_while(|l| !l.starts_with("plan: "))
        .take_while(|l| !l.starts_with("(A dry run"))
        .collect();
    assert!(!plan.is_empty(), "a plan is shown: {shown}");
    for line in &plan {
        assert!(line.chars().count() <= 80, "{} columns: {line:?}", line.chars().count());
    }
    let numbered = plan
        .iter()
        .filter(|l| {
            let t = l.trim_start();
            t.split_once(". ").is_some_and(|(n, _)| n.parse::<usize>().is_ok())
        })
        .count();
    assert_eq!(git(&w.clone, &["tag"]), tags, "no tag made");
    let books: Vec<_> = std::fs::read_dir(&w.clone)
        .expect("read")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    assert_eq!(books.len(), 1, "one playbook written");
    let text = std::fs::read_to_string(&books[0]).expect("the playbook");
    assert!(
        text.contains("# The figures that led to it:") && text.contains("Recommendation:"),
        "{text}"
    );
    assert!(text.contains(&format!("from = \"{}\"", w.source)), "the exact source: {text}");
    let json: serde_json::Value = serde_json::from_str(&git_regraft_stdout(
        regraft(&w.clone).arg("run").arg(&books[0]).arg("--json"),
    ))
    .expect("run --json");
    let steps: usize = json
        .as_array()
        .expect("one plan per repository")
        .iter()
        .map(|p| p["steps"].as_array().expect("steps").len())
        .sum();
    assert_eq!(numbered, steps, "every step shown: {shown}");
    assert!(plan.iter().any(|l| l.contains(&w.old.to_hex()[..12])), "ids shortened: {shown}");
    // As written: merge, pushed for review (the server takes reviews only, by default).
    let (code, out) = run(regraft(&w.clone).arg("run").arg(&books[0]).args(["--execute", "--yes"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old));
    let pushed = remote(&w.server, "refs/for/stable/liberty").expect("pushed for review");
    assert_eq!(
        git(&w.server, &["rev-parse", &format!("{pushed}^{{tree}}")]),
        git(&w.server, &["rev-parse", &format!("{}^{{tree}}", w.source)]),
        "the merge takes the source's tree"
    );
    assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), Some(w.old), "waits for review");
    // What lasts names the source as the user chose it, the id beside it (issue 26, item
    // 9): the merge commit, the tag's message, the notice.
    let merge = git(&w.server, &["log", "--merges", "-1", "--format=%s%n%b", &pushed.to_hex()]);
    assert!(
        merge.starts_with("Merge origin/stable/mitaka into stable/liberty")
            && merge.contains(&w.source.to_hex()),
        "{merge}"
    );
    let tag =
        git(&w.server, &["for-each-ref", "--format=%(contents)", "refs/tags/liberty-early-demise"]);
    assert!(crate::flat(&tag).contains("replaced by origin/stable/mitaka ("), "{tag}");
    let notice = git_regraft_stdout(regraft(&w.clone).arg("notice"));
    assert!(notice.contains("replaced by origin/stable/mitaka with"), "{notice}");
}

#[test]
fn choosing_recreate_and_carrying_it_out_ends_as_the_plan_said() {
    let w = world(true);
    let mut p = guide(&w.clone);
    answer(&mut p, "What do you want to do?", ENTER);
    answer(&mut p, "Fetch origin first", ENTER);
    answer(&mut p, "Which branch is broken?", ENTER);
    answer(&mut p, "What does it need?", ENTER);
    answer(&mut p, "Which branch holds it?", ENTER);
    answer(&mut p, "forced (non-fast-forward) pushes", ENTER);
    answer(&mut p, "merge commits", ENTER);
    answer(&mut p, "How do changes reach the branch?", ENTER);
    answer(&mut p, "delete and create the branch", "y\r");
    // Allowed: merge, megapatch, recreate; recreate is the third.
    answer(&mut p, "Which option?", &format!("{DOWN}{DOWN}{ENTER}"));
    answer(&mut p, "Carry which of them on top as follow-ups?", ENTER);
    answer(&mut p, "Tag that keeps the old tip", ENTER);
    answer(&mut p, "Write the playbook to", ENTER);
    answer(&mut p, "Carry it out now?", "y\r");
    answer(&mut p, "Point of no return", "y\r");
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), Some(w.source), "recreated");
    assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old), "old tip kept");
    // No review was abandoned, so no restore is suggested; the notice and sync are.
    assert!(!out.contains("restore --from-journal"), "{out}");
    assert!(out.contains("git regraft sync"), "{out}");
}

#[test]
fn esc_or_ctrl_c_at_a_question_changes_nothing() {
    for (at, key) in [
        ("Which branch is broken?", "\x1b"),
        ("Which option?", "\x03"),
        ("Tag that keeps the old tip", "\x03"),
    ] {
        let w = world(true);
        let before = refs(&w);
        let mut p = guide(&w.clone);
        // Every question up to `at`, which is answered with `key`.
        let later = [
            "delete and create the branch",
            "Which option?",
            "Carry which of them on top as follow-ups?",
            "Tag that keeps the old tip",
        ];
        for (question, keys) in RELEASE_QUESTIONS.iter().chain(&later).map(|q| (*q, ENTER)) {
            if question == at {
                answer(&mut p, question, key);
                break;
            }
            answer(&mut p, question, keys);
        }
        let (code, out) = finish(&mut p);
        assert_eq!(code, Some(130), "{at}: {out}");
        assert!(out.contains("nothing was changed"), "{at}: {out}");
        assert_eq!(refs(&w), before, "{at}");
        let written = std::fs::read_dir(&w.clone)
            .expect("read")
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "toml"));
        assert!(!written, "{at}: no playbook");
    }
}

#[test]
fn a_developer_is_synced_and_a_project_lead_gets_markdown() {
    let w = world(false);
    // The release team resets stable/liberty; the developer has a local branch on it.
    git(&w.clone, &["checkout", "-q", "-b", "stable/liberty", "--track", "origin/stable/liberty"]);
    crate::Fixture::open(&w.clone).commit_file("mine.txt", "unpushed\n", "My unpushed fix");
    git(&w.server, &["update-ref", "refs/heads/stable/liberty", &w.source.to_hex()]);
    git(&w.clone, &["fetch", "-q", "origin"]);
    let mut p = guide(&w.clone);
    // The replaced upstream preselects the developer's path.
    answer(&mut p, "What do you want to do?", ENTER);
    answer(&mut p, "Sync these branches now", ENTER);
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    git(&w.clone, &["merge-base", "--is-ancestor", &w.source.to_hex(), "stable/liberty"]);
    assert_eq!(git(&w.clone, &["log", "-1", "--format=%s", "stable/liberty"]), "My unpushed fix");

    let w = world(true);
    let mut p = guide(&w.clone);
    answer(&mut p, "What do you want to do?", &format!("{DOWN}{DOWN}{ENTER}"));
    answer(&mut p, "Which branch is the one to replace?", ENTER);
    answer(&mut p, "By which branch?", ENTER);
    answer(&mut p, "Write the Markdown to", ENTER);
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    let md = std::fs::read_to_string(w.clone.join("compare-stable-liberty-stable-mitaka.md"))
        .expect("the Markdown");
    assert!(md.contains("| option ") && md.contains("merge"), "{md}");
}

#[test]
fn without_a_terminal_the_guide_points_to_the_commands() {
    let w = world(true);
    let (code, out) = run(regraft(&w.clone).arg("guide"));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("needs a terminal") && out.contains("git regraft compare"), "{out}");
}

#[test]
#[cfg_attr(not(debug_assertions), ignore = "the fault hooks exist in debug builds only")]
fn after_an_interruption_the_guide_finishes_or_undoes_the_operation() {
    for (keys, undo) in [(ENTER.to_string(), false), (format!("{DOWN}{ENTER}"), true)] {
        let w = world(true);
        let (code, _) = run(regraft(&w.clone)
            .env("REGRAFT_FAULT_AFTER_STEPS", "4")
            .args(crate::replace::replace_args("recreate"))
            .args(["--execute", "--yes"]));
        assert_eq!(code, None, "killed after the delete");
        let mut p = guide(&w.clone);
        answer(&mut p, "In progress here: replace stable/liberty", "");
        answer(&mut p, "What now?", &keys);
        if undo {
            answer(&mut p, "Undo it", "y\r");
        }
        let (code, out) = finish(&mut p);
        assert_eq!(code, Some(0), "{out}");
        let expected = if undo { w.old } else { w.source };
        assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), Some(expected), "{out}");
        assert!(!w.clone.join(".git/regraft/journal.json").exists(), "finished: {out}");
    }
}

// Issue 26 (item 3): after a refused delete the guide preselected "Finish it", which the
// server refuses the same way.
#[test]
fn after_a_refusal_the_guide_preselects_undoing_it() {
    let w = world(true);
    git(&w.server, &["config", "receive.denyDeletes", "true"]);
    let (code, out) = run(regraft(&w.clone)
        .args(crate::replace::replace_args("recreate"))
        .args(["--execute", "--yes"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("(deletion prohibited)"), "{out}");
    let mut p = guide(&w.clone);
    answer(&mut p, "In progress here: replace stable/liberty", "");
    answer(&mut p, "What now?", ENTER);
    answer(&mut p, "Undo it", "y\r");
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), Some(w.old), "{out}");
    assert!(!w.clone.join(".git/regraft/journal.json").exists(), "undone: {out}");
}

#[test]
fn the_release_team_can_end_a_branch_s_life_through_the_guide() {
    let w = world(true);
    let before = refs(&w);
    let mut p = guide(&w.clone);
    answer(&mut p, "What do you want to do?", ENTER);
    answer(&mut p, "Fetch origin first", ENTER);
    answer(&mut p, "Which branch is broken?", ENTER);
    answer(&mut p, "What does it need?", &format!("{DOWN}{DOWN}{ENTER}"));
    answer(&mut p, "Tag that keeps its last commit", ENTER);
    answer(&mut p, "Write the playbook to", ENTER);
    answer(&mut p, "Carry it out now?", ENTER);
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(refs(&w), before, "Enter throughout changes nothing");
    let book = written_playbook(&w.clone);
    let (code, out) = run(regraft(&w.clone).arg("run").arg(&book).args(["--execute", "--yes"]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), None, "deleted");
    assert_eq!(remote(&w.server, "liberty-eol^{commit}"), Some(w.old), "kept by its tag");
}

#[test]
fn choosing_the_staged_backport_asks_stage_size_and_branch_and_pushes_nothing() {
    for build in [false, true] {
        let w = world(true);
        let before = refs(&w);
        let mut p = guide(&w.clone);
        for (question, keys) in [
            ("What do you want to do?", ENTER.to_string()),
            ("Fetch origin first", ENTER.to_string()),
            ("Which branch is broken?", ENTER.to_string()),
            ("What does it need?", ENTER.to_string()),
            ("Which branch holds it?", ENTER.to_string()),
            ("forced (non-fast-forward) pushes", ENTER.to_string()),
            ("merge commits", ENTER.to_string()),
            ("How do changes reach the branch?", ENTER.to_string()),
            ("delete and create the branch", ENTER.to_string()),
            // Allowed: merge, megapatch, backport.
            ("Which option?", format!("{DOWN}{DOWN}{ENTER}")),
            ("Picks per stage", ENTER.to_string()),
            ("Build it on the new local branch", ENTER.to_string()),
            ("Build the branch now", if build { "y\r".to_string() } else { ENTER.to_string() }),
        ] {
            answer(&mut p, question, &keys);
        }
        let (code, out) = finish(&mut p);
        // Commands wrapped with ` \` read as one line again.
        let out = out.replace(" \\\r\n", " ").split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(refs(&w), before, "nothing is pushed: {out}");
        assert!(out.contains("git regraft replace stable/liberty --from backport/stable/liberty --strategy backport"), "{out}");
        let made = !git(&w.clone, &["branch", "--list", "backport/stable/liberty"]).is_empty();
        assert_eq!(made, build, "{out}");
        if build {
            assert!(code == Some(0) || code == Some(3), "built, or stopped at a conflict: {out}");
        } else {
            assert_eq!(code, Some(0), "{out}");
        }
    }
}

#[test]
fn a_second_guide_goes_on_with_the_playbook_the_first_wrote_until_it_is_carried_out() {
    let w = world(true);
    let before = refs(&w);
    let mut p = guide(&w.clone);
    release_with_defaults(&mut p);
    answer(&mut p, "Carry it out now?", ENTER);
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(refs(&w), before);
    // The second guide offers it, shows its plan and carries it out when told to twice.
    let mut p = guide(&w.clone);
    answer(&mut p, "Go on with it?", ENTER);
    answer(&mut p, "Carry it out now?", "y\r");
    answer(&mut p, "Point of no return", "y\r");
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    assert!(remote(&w.server, "refs/for/stable/liberty").is_some(), "merge pushed: {out}");
    assert_eq!(remote(&w.server, "liberty-early-demise^{commit}"), Some(w.old), "{out}");
    // Carried out: a third guide starts afresh.
    let mut p = guide(&w.clone);
    let first = p.exp_string("What do you want to do?").expect("the first question");
    assert!(!first.contains("Go on with"), "{first}");
    p.send("\x1b").expect("send");
    p.flush().expect("flush");
    let (code, _) = finish(&mut p);
    assert_eq!(code, Some(130));
}

#[test]
fn the_release_team_can_end_a_branch_s_maintenance_through_the_guide() {
    let w = world(true);
    let before = refs(&w);
    let mut p = guide(&w.clone);
    let mut seen = String::new();
    for (question, keys) in [
        ("What do you want to do?", ENTER.to_string()),
        ("Fetch origin first", ENTER.to_string()),
        ("Which branch is broken?", ENTER.to_string()),
        ("What does it need?", format!("{DOWN}{DOWN}{DOWN}{ENTER}")),
        ("Tag that keeps its last commit", ENTER.to_string()),
        ("The branch it lives on as unmaintained", ENTER.to_string()),
        ("Write the playbook to", ENTER.to_string()),
        ("Carry it out now?", "y\r".to_string()),
    ] {
        seen += &answer(&mut p, question, &keys);
    }
    // Up to the last question nothing has changed.
    assert_eq!(refs(&w), before);
    seen += &answer(&mut p, "Point of no return", "y\r");
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    // This path, its plan and its run fit 80 columns too.
    let (width, line) = widest_line(&(seen + &out));
    assert!(width <= 80, "{width} columns: {line:?}");
    assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), None, "deleted: {out}");
    assert_eq!(remote(&w.server, "refs/heads/unmaintained/liberty"), Some(w.old), "moved: {out}");
    assert_eq!(remote(&w.server, "liberty-eom^{commit}"), Some(w.old), "tagged: {out}");
}

#[test]
fn a_source_gitreview_naming_its_own_branch_gets_a_follow_up_that_names_the_replaced_one() {
    let w = world(true);
    // The source carries a .gitreview for itself, in CRLF and with no final newline.
    let gitreview = "[gerrit]\r\nhost=review.example.org\r\nport=29418\r\nproject=demo.git\r\ndefaultbranch=stable/mitaka";
    git(&w.clone, &["checkout", "-q", "-B", "mitaka", "origin/stable/mitaka"]);
    std::fs::write(w.clone.join(".gitreview"), gitreview).expect("write");
    git(&w.clone, &["add", ".gitreview"]);
    git(&w.clone, &["commit", "-q", "-m", "Add .gitreview"]);
    git(&w.clone, &["push", "-q", "origin", "HEAD:refs/heads/stable/mitaka"]);
    let source = crate::id(&git(&w.clone, &["rev-parse", "HEAD"]));
    git(&w.clone, &["checkout", "-q", "--detach"]);
    let mut p = guide(&w.clone);
    release_to_options(&mut p, ENTER);
    for (question, keys) in [
        ("Which option?", ENTER),
        ("Carry which of them on top as follow-ups?", ENTER),
        ("says defaultbranch=stable/mitaka", ""),
        ("Add a follow-up that sets it to stable/liberty?", ENTER),
        ("Tag that keeps the old tip", ENTER),
        ("Write the playbook to", ENTER),
    ] {
        answer(&mut p, question, keys);
    }
    let shown = answer(&mut p, "Carry it out now?", "y\r");
    // A second later, so that a plan made again would get other commit ids.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    answer(&mut p, "Point of no return: go?", "y\r");
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    // The chain for review ends with the follow-up: the source's tree but for one line.
    let pushed = remote(&w.server, "refs/for/stable/liberty").expect("pushed for review");
    // What ran is what the dry run showed: the follow-up's id is in the plan.
    assert!(shown.contains(&pushed.to_hex()[..12]), "{} not in the plan: {shown}", pushed.short());
    let changed = git(&w.server, &["diff", "--name-only", &source.to_hex(), &pushed.to_hex()]);
    assert_eq!(changed, ".gitreview");
    let file = git(&w.server, &["cat-file", "blob", &format!("{pushed}:.gitreview")]);
    assert_eq!(
        file,
        gitreview.replace("defaultbranch=stable/mitaka", "defaultbranch=stable/liberty")
    );
    let message = git(&w.server, &["log", "-1", "--format=%B", &pushed.to_hex()]);
    assert!(message.contains("Change-Id: I"), "{message}");
}

#[test]
fn a_follow_up_that_conflicts_with_the_source_is_left_out_with_the_reason() {
    let w = world(true);
    // stable/liberty's own change and stable/mitaka both add `pins.txt`, differently.
    for (branch, text) in [("liberty", "pin liberty\n"), ("mitaka", "pin mitaka\n")] {
        git(&w.clone, &["checkout", "-q", "-B", branch, &format!("origin/stable/{branch}")]);
        std::fs::write(w.clone.join("pins.txt"), text).expect("write");
        git(&w.clone, &["add", "pins.txt"]);
        git(&w.clone, &["commit", "-q", "-m", &format!("Pin {branch}")]);
        git(&w.clone, &["push", "-q", "origin", &format!("HEAD:refs/heads/stable/{branch}")]);
    }
    git(&w.clone, &["checkout", "-q", "--detach"]);
    let mut p = guide(&w.clone);
    release_to_options(&mut p, ENTER);
    for (question, keys) in [
        ("Which option?", ENTER),
        // All of them.
        ("Carry which of them on top as follow-ups?", "a\r"),
    ] {
        answer(&mut p, question, keys);
    }
    let said = answer(&mut p, "Tag that keeps the old tip", ENTER);
    answer(&mut p, "Write the playbook to", ENTER);
    answer(&mut p, "Carry it out now?", ENTER);
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "the plan is made: {out}");
    let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(said.contains("[conflicts] Pin liberty"), "marked in the list: {said}");
    assert!(said.contains("\"Pin liberty\": it conflicts") && said.contains("pins.txt"), "{said}");
    let book = written_playbook(&w.clone);
    let text = std::fs::read_to_string(&book).expect("read");
    let pin = git(&w.clone, &["rev-parse", "origin/stable/liberty"]);
    assert!(!text.contains(&pin), "the conflicting one is not a follow-up: {text}");
    // What git itself says: picking it onto the source conflicts.
    git(&w.clone, &["checkout", "-q", "--detach", "origin/stable/mitaka"]);
    let picked =
        crate::git_at(&w.clone, 0).finished(&["cherry-pick", &pin], b"").expect("git runs");
    assert!(!picked.status.success(), "git agrees it conflicts");
}

#[test]
fn the_fix_can_be_found_by_words_of_its_summary() {
    let w = world(true);
    git(&w.clone, &["checkout", "-q", "-B", "mitaka", "origin/stable/mitaka"]);
    let fix = crate::Fixture::open(&w.clone).commit_file(
        "frob.txt",
        "fixed\n",
        "Fix the Frobnicator on upgrade",
    );
    git(&w.clone, &["push", "-q", "origin", "HEAD:refs/heads/stable/mitaka"]);
    git(&w.clone, &["checkout", "-q", "--detach"]);
    let mut p = guide(&w.clone);
    answer(&mut p, "What do you want to do?", ENTER);
    answer(&mut p, "Fetch origin first", ENTER);
    answer(&mut p, "Which branch is broken?", ENTER);
    answer(&mut p, "What does it need?", &format!("{DOWN}{ENTER}"));
    // No commit says this: asked again.
    answer(&mut p, "The fix: a commit id, or words from its summary", "no such words\r");
    answer(&mut p, "has \"no such words\" in its message", "");
    // Any case: git log --grep -i -F is the oracle for what matches.
    answer(&mut p, "The fix: a commit id, or words from its summary", "frobnicator ON\r");
    let list = answer(&mut p, "Which commit is the fix?", "");
    let mut rest = p.exp_string("None of these").expect("the list");
    rest += &list;
    assert!(rest.contains(&fix.to_hex()[..10]), "{rest}");
    p.send(ENTER).expect("send");
    p.flush().expect("flush");
    let said = answer(&mut p, "Which branch holds it?", ENTER);
    let said = answer(&mut p, "Picks per stage", "\x03") + &said;
    let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(said.contains(&format!("The fix {} needs", fix.short())), "{said}");
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(130), "{out}");
}

#[test]
fn with_several_remotes_the_guide_asks_which_one_origin_preselected() {
    let w = world(true);
    let url = format!("file://{}", w.server.display());
    git(&w.clone, &["remote", "add", "upstream", &url]);
    for (keys, chosen) in [(ENTER.to_string(), "origin"), (format!("{DOWN}{ENTER}"), "upstream")] {
        let mut p = guide(&w.clone);
        answer(&mut p, "Which remote?", &keys);
        answer(&mut p, "What do you want to do?", ENTER);
        answer(&mut p, &format!("Fetch {chosen} first"), "\x1b");
        let (code, out) = finish(&mut p);
        assert_eq!(code, Some(130), "{out}");
    }
}

#[test]
fn a_backport_stopped_at_a_conflict_is_skipped_or_aborted_from_the_guide() {
    for abort in [false, true] {
        let w = world(true);
        // Both branches add `pins.txt`: the pick of mitaka's conflicts on liberty.
        for (branch, text) in [("liberty", "pin liberty\n"), ("mitaka", "pin mitaka\n")] {
            git(&w.clone, &["checkout", "-q", "-B", branch, &format!("origin/stable/{branch}")]);
            std::fs::write(w.clone.join("pins.txt"), text).expect("write");
            git(&w.clone, &["add", "pins.txt"]);
            git(&w.clone, &["commit", "-q", "-m", &format!("Pin {branch}")]);
            git(&w.clone, &["push", "-q", "origin", &format!("HEAD:refs/heads/stable/{branch}")]);
        }
        let pin = git(&w.clone, &["rev-parse", "HEAD"]);
        git(&w.clone, &["checkout", "-q", "--detach"]);
        git(&w.clone, &["fetch", "-q", "origin"]);
        let (code, out) = run(regraft(&w.clone).args([
            "backport",
            "origin/stable/liberty",
            "origin/stable/mitaka",
            "--for",
            &pin,
            "--branch",
            "bp",
        ]));
        assert_eq!(code, Some(3), "stopped at the conflict: {out}");
        let mut p = guide(&w.clone);
        answer(&mut p, "stopped at a", "");
        let keys = if abort { format!("{DOWN}{DOWN}{ENTER}") } else { format!("{DOWN}{ENTER}") };
        answer(&mut p, "What now?", &keys);
        if abort {
            answer(&mut p, "Abort it and delete bp?", "y\r");
        }
        let (code, out) = finish(&mut p);
        assert_eq!(code, Some(0), "{out}");
        assert!(!w.clone.join(".git/regraft/backport.json").exists(), "finished: {out}");
        let branch = git(&w.clone, &["branch", "--list", "bp"]);
        if abort {
            assert!(branch.is_empty(), "deleted: {out}");
        } else {
            // Skipped: bp is liberty's tip, the pick left out.
            assert_eq!(
                git(&w.clone, &["rev-parse", "bp"]),
                git(&w.clone, &["rev-parse", "origin/stable/liberty"]),
                "{out}"
            );
        }
    }
}

#[test]
fn a_file_already_there_is_replaced_only_if_the_user_says_so() {
    let w = world(true);
    let mine = w.clone.join("compare-stable-liberty-stable-mitaka.md");
    std::fs::write(&mine, "my own notes\n").expect("write");
    let mut p = guide(&w.clone);
    answer(&mut p, "What do you want to do?", &format!("{DOWN}{DOWN}{ENTER}"));
    answer(&mut p, "Which branch is the one to replace?", ENTER);
    answer(&mut p, "By which branch?", ENTER);
    answer(&mut p, "Write the Markdown to", ENTER);
    // No (the default): asked again, and written elsewhere.
    answer(&mut p, "exists. Replace it?", ENTER);
    answer(&mut p, "Write the Markdown to", "post.md\r");
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(std::fs::read_to_string(&mine).expect("read"), "my own notes\n", "kept");
    let md = std::fs::read_to_string(w.clone.join("post.md")).expect("the Markdown");
    assert!(md.contains("| option "), "{md}");
}

/// Issue 26, item 2: a yes/no question took its answer on the key, so the Enter typed after
/// `n` answered the next question with its default ("Which branch is broken?: stable/mitaka"
/// chosen without the user choosing it). Every question now waits for its own Enter.
#[test]
fn n_then_enter_answers_only_that_question_and_the_next_one_waits() {
    let w = world(true);
    let mut p = guide(&w.clone);
    answer(&mut p, "What do you want to do?", ENTER);
    // `n`, a pause as a person makes, then Enter.
    answer(&mut p, "Fetch origin first", "n");
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.send(ENTER).expect("send");
    p.flush().expect("flush");
    let before = p.exp_string("Which branch is broken?").expect("the next question is shown");
    assert!(before.contains("so the figures are today's?: no"), "{before}");
    assert!(!before.contains("Fetching origin"), "{before}");
    // The next question waits: its default is not taken while no Enter comes.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    p.send("\x1b").expect("send");
    p.flush().expect("flush");
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(130), "{out}");
    assert!(out.contains("Stopped at \"Which branch is broken?\""), "{out}");
    assert!(!out.contains("Which branch is broken?: "), "no branch was chosen: {out}");
    // The same for a question after which a list comes: `y`, then Enter.
    let mut p = guide(&w.clone);
    release_to_options(&mut p, "y\r");
    let shown = p.exp_string("Which option?").expect("the options");
    assert!(shown.contains("an administrator's right)?: yes"), "{shown}");
    std::thread::sleep(std::time::Duration::from_millis(1000));
    p.send("\x1b").expect("send");
    p.flush().expect("flush");
    let (code, out) = finish(&mut p);
    assert_eq!(code, Some(130), "{out}");
    assert!(out.contains("Stopped at \"Which option?\""), "no option was chosen: {out}");
}

/// Issue 26, item 7: the "one fix commit" path showed the whole branch's figures and
/// offered its options, while the command it printed backports the fix's closure; and that
/// command's plan pushed a public `liberty-early-demise` tag though nothing is replaced.
#[test]
fn the_fix_path_shows_the_fix_s_own_figures_and_its_push_makes_no_tag() {
    let w = world(true);
    let fix = git(
        &w.clone,
        &["log", "-1", "--format=%H", "--grep=Fix data containers", "origin/stable/mitaka"],
    );
    let short = &fix[..10];
    // The oracles: the dry run of the command the guide prints, and the whole branch's.
    let range = ["origin/stable/liberty", "origin/stable/mitaka"];
    let dry: serde_json::Value = serde_json::from_str(&git_regraft_stdout(
        regraft(&w.clone).args(["backport", "--dry-run", "--json", "--for", &fix]).args(range),
    ))
    .expect("backport --json");
    let steps = dry["steps"].as_array().expect("steps");
    let conflicts = steps.iter().filter(|s| s["outcome"] == "conflict").count();
    let compared: serde_json::Value = serde_json::from_str(&git_regraft_stdout(
        regraft(&w.clone).args(["compare", "--json"]).args(range),
    ))
    .expect("compare --json");
    let whole = compared["options"]
        .as_array()
        .expect("options")
        .iter()
        .find(|o| o["strategy"] == "backport")
        .and_then(|o| o["reviews"].as_u64())
        .expect("the whole branch's backport");
    assert_ne!(whole, steps.len() as u64, "the scenario tells the two apart");
    let mut p = guide(&w.clone);
    let mut seen = String::new();
    for (question, keys) in [
        ("What do you want to do?", ENTER.to_string()),
        ("Fetch origin first", ENTER.to_string()),
        ("Which branch is broken?", ENTER.to_string()),
        ("What does it need?", format!("{DOWN}{ENTER}")),
        ("The fix: a commit id, or words from its summary", format!("{fix}{ENTER}")),
        ("Which branch holds it?", ENTER.to_string()),
        ("Picks per stage", ENTER.to_string()),
        ("Build it on the new local branch", ENTER.to_string()),
        ("Build the branch now", "y\r".to_string()),
    ] {
        seen += &answer(&mut p, question, &keys);
    }
    let (code, out) = finish(&mut p);
    seen += &out;
    assert_eq!(code, Some(0), "built: {seen}");
    let flat = seen.split_whitespace().collect::<Vec<_>>().join(" ");
    let n = steps.len();
    assert!(
        flat.contains(&format!("The fix {short} needs {n} commits by line dependencies"))
            && flat.contains(&format!("{n} picks, one review each"))
            && flat.contains(&format!("{conflicts} conflict")),
        "the fix's own figures: {flat}"
    );
    assert!(!flat.contains("Measuring the five options"), "not the whole branch's: {flat}");
    assert!(!flat.contains(&format!(" {whole} ")), "{whole} is the whole branch's: {flat}");
    assert!(!flat.contains("Which option?"), "{flat}");
    // The command it prints, carried out: the backport goes for review, and no tag is made.
    let push =
        "git regraft replace stable/liberty --from backport/stable/liberty --strategy backport";
    assert!(flat.replace(" \\ ", " ").contains(push), "{flat}");
    let before = git(&w.server, &["tag"]);
    let (code, out) = run(regraft(&w.clone)
        .args(["replace", "stable/liberty", "--from", "backport/stable/liberty"])
        .args(["--strategy", "backport", "--execute", "--yes"]));
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("tag"), "no tag in the plan: {out}");
    assert_eq!(git(&w.server, &["tag"]), before, "no tag pushed");
    let built = crate::id(&git(&w.clone, &["rev-parse", "backport/stable/liberty"]));
    assert_eq!(remote(&w.server, "refs/for/stable/liberty"), Some(built), "{out}");
    assert_eq!(remote(&w.server, "refs/heads/stable/liberty"), Some(w.old), "{out}");
}
