//! The messages a backport writes, against `git cherry-pick -x` and Gerrit's footer rule:
//! the Change-Id stays in the last paragraph, the cherry-pick line beside it (issue 25,
//! item 4).

use std::path::Path;

use regraft::ObjectId;
use regraft::text::message::backport_message;
use regraft_testkit::{Fixture, change_id};
use tempfile::TempDir;

use crate::{git, id, regraft, run};

/// Tells whether the message's last paragraph (Gerrit's footer, the subject line never
/// part of it) holds a `Change-Id: I...` line. Written here apart from the engine's
/// reading, so the tests check one against the other.
fn gerrit_footer_has_change_id(message: &[u8]) -> bool {
    let text = String::from_utf8_lossy(message).replace('\r', "");
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let start = lines.iter().rposition(|l| l.trim().is_empty()).map_or(1, |i| i + 1);
    lines.iter().skip(start).any(|l| {
        l.strip_prefix("Change-Id: I")
            .is_some_and(|h| h.len() == 40 && h.chars().all(|c| c.is_ascii_hexdigit()))
    })
}

/// Tells whether the cherry-pick line of `original` is in the last paragraph.
fn pick_line_in_footer(message: &[u8], original: &str) -> bool {
    let text = String::from_utf8_lossy(message);
    let last = text.trim_end().rsplit("\n\n").next().unwrap_or_default().to_string();
    last.lines().any(|l| l == format!("(cherry picked from commit {original})"))
}

/// Returns the message of a commit, as its object holds it.
fn raw_message(dir: &Path, commit: &str) -> Vec<u8> {
    let raw = Fixture::open(dir).git_with_input(&["cat-file", "commit", commit], None);
    let at = raw.windows(2).position(|w| w == b"\n\n").expect("a header ends") + 2;
    raw[at..].to_vec()
}

/// Returns what `git cherry-pick -x` writes as the message of `commit` picked onto its own
/// parent (always clean), in the work tree `work`.
fn git_pick_message(work: &Path, commit: &str) -> Vec<u8> {
    let f = Fixture::open(work);
    f.git(&["checkout", "-q", "--detach", &format!("{commit}^")]);
    f.git(&["cherry-pick", "-x", "--allow-empty", commit]);
    raw_message(work, "HEAD")
}

/// Returns git's message with the cherry-pick line moved up into the paragraph before it:
/// what Gerrit's rule asks where git starts a new paragraph.
fn joined(git_message: &[u8], original: &str) -> Vec<u8> {
    let text = String::from_utf8(git_message.to_vec()).expect("UTF-8 in these shapes");
    let line = format!("\n\n(cherry picked from commit {original})\n");
    assert!(text.ends_with(&line), "git put the line in a paragraph of its own: {text}");
    format!("{}\n(cherry picked from commit {original})\n", &text[..text.len() - line.len()])
        .into_bytes()
}

/// Returns the Change-Ids `git interpret-trailers --parse` finds in a message.
fn git_trailer_change_ids(dir: &Path, message: &[u8]) -> Vec<String> {
    let out = Fixture::open(dir).git_with_input(&["interpret-trailers", "--parse"], Some(message));
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("Change-Id: ").map(str::to_string))
        .collect()
}

/// How one original's backport message compared with git's.
#[derive(Debug, Default)]
struct Tally {
    same_as_git: usize,
    /// git's message has the Change-Id outside the last paragraph; ours has it inside.
    better_than_git: Vec<String>,
    /// Ours keeps the Change-Id in the footer, but git's trailer parser cannot read it.
    beyond_git_parser: Vec<String>,
}

/// Checks the backport message of every commit in `commits` against git and Gerrit's
/// rule; `work` is a work tree of the repository to let git pick in.
fn check_messages(work: &Path, commits: &[String]) -> Tally {
    let mut tally = Tally::default();
    for commit in commits {
        let original = raw_message(work, commit);
        let ours = backport_message(&original, commit);
        let theirs = git_pick_message(work, commit);
        let subject = git(work, &["log", "-1", "--format=%s", commit]);
        if std::str::from_utf8(&original).is_err() {
            // git commit reads bytes that are not UTF-8 as Latin-1 and writes them as
            // UTF-8; a backport keeps the original's bytes.
            assert_eq!(
                gerrit_footer_has_change_id(&ours),
                gerrit_footer_has_change_id(&original),
                "{subject}"
            );
            continue;
        }
        if gerrit_footer_has_change_id(&original) {
            assert!(
                gerrit_footer_has_change_id(&ours) && pick_line_in_footer(&ours, commit),
                "{subject}: the Change-Id and the pick line share the footer:\n{}",
                String::from_utf8_lossy(&ours)
            );
            if !gerrit_footer_has_change_id(&theirs) {
                assert_eq!(
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&joined(&theirs, commit)),
                    "{subject}: git's message, the pick line joined to the footer"
                );
                tally.better_than_git.push(subject.clone());
            } else {
                assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
                tally.same_as_git += 1;
            }
            let ids = regraft::text::message::change_ids(&original);
            if git_trailer_change_ids(work, &ours) != ids {
                tally.beyond_git_parser.push(subject);
            }
        } else {
            assert_eq!(ours, theirs, "{subject}: as git writes it");
            tally.same_as_git += 1;
        }
    }
    tally
}

#[test]
fn every_message_shape_of_the_scenario_against_git_cherry_pick_x() {
    let tmp = TempDir::new().expect("temp dir");
    let spec = regraft::scenario::ScenarioSpec::with_message_shapes();
    let s = regraft::scenario::build(&tmp.path().join("repo"), &spec).expect("builds");
    let all = git(&s.dir, &["rev-list", "--no-merges", "--all", "--", "."]);
    // Commits with an `encoding` header: git re-encodes them to UTF-8, regraft keeps
    // the encoding the original declared.
    let commits: Vec<String> = all
        .lines()
        .filter(|c| git(&s.dir, &["log", "-1", "--format=%e", c]).is_empty())
        .filter(|c| !git(&s.dir, &["rev-parse", &format!("{c}^@")]).is_empty())
        .map(str::to_string)
        .collect();
    assert!(commits.len() > 100, "{}", commits.len());
    let tally = check_messages(&s.dir, &commits);
    let better = tally.better_than_git.join("\n");
    for shape in [
        "blueprint line",
        "spaced key",
        "Trivial-Fix",
        "indented list",
        "long list",
        "trailing blank lines",
        "CRLF",
        "Change-Id under the subject",
    ] {
        assert!(better.contains(&format!("({shape})")), "git loses the footer with {shape}");
    }
    // Shapes git gets right: its message and ours are the same.
    for shape in ["no body", "subject only", "old Conflicts list", "sign-off among lines"] {
        assert!(!better.contains(&format!("({shape})")), "{shape}: {better}");
    }
    // With the pick line in it, git's parser reads most of these footers again; a long
    // list (under a quarter trailers) and a footer under the subject it never reads.
    let unread = tally.beyond_git_parser.join("\n");
    assert!(unread.contains("(long list)") && unread.contains("(Change-Id under the subject)"));
    for subject in &tally.beyond_git_parser {
        assert!(
            subject.contains("(long list)") || subject.contains("(Change-Id under the subject)"),
            "git's parser reads the Change-Id of {subject}"
        );
    }
    assert!(tally.same_as_git > 50, "{tally:?}");
}

/// One commit per shape on `main`, each in its own file; `stable` at the base.
fn shapes_fixture() -> (TempDir, Fixture, Vec<ObjectId>) {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    f.commit_file("base.txt", "base\n", "Base");
    f.branch("stable", "main");
    let id = |seed: &str| change_id(seed);
    let shapes = [
        format!("Add a\n\nBody.\n\nImplements blueprint x\nChange-Id: {}\n", id("a")),
        format!("Add b\n\nBody.\n\nPartially implements: blueprint x\nChange-Id: {}\n", id("b")),
        format!("Add c\n\nTrivial-Fix\nChange-Id: {}\n", id("c")),
        format!("Add d\r\n\r\nBody.\r\n\r\nTrivialFix\r\nChange-Id: {}\r\n", id("d")),
        format!("Add e\n\nBody.\n\nCloses-Bug: #1\nChange-Id: {}\n\n\n", id("e")),
        format!("Add f\n\nBody.\n\nCloses-Bug: #2\nChange-Id: {}\n", id("f")),
        "Add g\n\nNo footer at all.\n".to_string(),
    ];
    let commits = shapes
        .iter()
        .enumerate()
        .map(|(k, m)| f.commit_file(&format!("f{k}.txt"), "x\n", m))
        .collect();
    (tmp, f, commits)
}

// Issue 25, item 4: a real backport put the Change-Id outside the footer.
#[test]
fn a_real_backport_keeps_every_change_id_in_the_footer() {
    let (_tmp, f, originals) = shapes_fixture();
    let (code, out) =
        run(regraft(f.path()).args(["backport", "stable", "main", "--branch", "picks"]));
    assert_eq!(code, Some(0), "{out}");
    let made: Vec<String> = git(f.path(), &["rev-list", "--reverse", "stable..picks"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(made.len(), originals.len());
    let mut better = 0;
    for (new, original) in made.iter().zip(&originals) {
        let hex = original.to_hex();
        let ours = raw_message(f.path(), new);
        let theirs = git_pick_message(f.path(), &hex);
        if gerrit_footer_has_change_id(&raw_message(f.path(), &hex)) {
            assert!(gerrit_footer_has_change_id(&ours) && pick_line_in_footer(&ours, &hex));
        }
        if gerrit_footer_has_change_id(&theirs) || !gerrit_footer_has_change_id(&ours) {
            assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
        } else {
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&joined(&theirs, &hex))
            );
            better += 1;
        }
    }
    assert_eq!(better, 5, "git loses the footer of a, b, c, d and e");
}

/// Every message of a real range (non-merge commits of TARGET..SOURCE), against git's
/// `cherry-pick -x` of each onto its parent, in a shared clone:
/// `REGRAFT_REAL_REPO=<clone> REGRAFT_REAL_TARGET=<ref> REGRAFT_REAL_SOURCE=<ref>
/// cargo test --test it -- --ignored real_history_messages`.
#[test]
#[ignore = "needs a real clone named by REGRAFT_REAL_REPO"]
fn real_history_messages_keep_change_ids_in_the_footer() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let repo = std::path::PathBuf::from(var("REGRAFT_REAL_REPO"));
    let range = format!("{}..{}", var("REGRAFT_REAL_TARGET"), var("REGRAFT_REAL_SOURCE"));
    let commits: Vec<String> = git(&repo, &["rev-list", "--no-merges", &range])
        .lines()
        .filter(|c| git(&repo, &["log", "-1", "--format=%e", c]).is_empty())
        .map(str::to_string)
        .collect();
    let tmp = TempDir::new().expect("temp dir");
    let work = tmp.path().join("work");
    let repo_arg = repo.to_string_lossy().into_owned();
    let work_arg = work.to_string_lossy().into_owned();
    git(tmp.path(), &["clone", "-q", "--shared", "--no-checkout", &repo_arg, &work_arg]);
    let first = id(&git(&repo, &["rev-parse", &commits[0]]));
    git(&work, &["checkout", "-q", "--detach", &first.to_hex()]);
    let tally = check_messages(&work, &commits);
    eprintln!(
        "{} messages: {} as git writes them, {} where git's -x line leaves the Change-Id \
         outside the footer, {} of ours git's parser cannot read",
        commits.len(),
        tally.same_as_git,
        tally.better_than_git.len(),
        tally.beyond_git_parser.len()
    );
    for subject in &tally.better_than_git {
        eprintln!("  {subject}");
    }
}
