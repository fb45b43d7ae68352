//! Subjects, file names and arguments carrying terminal escape sequences (a window title,
//! a clear screen, an OSC 52 clipboard write, a C1 CSI) reach no terminal raw: every human
//! output shows them in caret notation, in a pipe and in a pseudo-terminal (with regraft's
//! own colours on), while `--json` keeps the exact subject.

use std::path::Path;

use regraft_testkit::Fixture;
use tempfile::TempDir;

/// Sets the window title.
const TITLE: &str = "Fix \x1b]0;pwned\x07 the title";
/// Clears the screen, then a C1 CSI (U+009B) colours the rest red.
const CLEAR: &str = "Clear \x1b[2J the screen \u{9b}31m red";
/// Writes "pwned" to the clipboard.
const CLIPBOARD: &str = "Copy \x1b]52;c;cHduZWQ=\x07 to the clipboard";
/// A file name with an escape sequence of its own.
const FILE: &str = "evil\x1b[5mname.txt";

/// A base, then on main three changes with those subjects (the second needs the first's
/// lines); stable/old changes the evil file's first line its own way, so picking the first
/// change there conflicts in it.
fn history() -> (TempDir, Fixture) {
    let tmp = TempDir::new().expect("temp dir");
    let f = Fixture::init(tmp.path());
    f.write(FILE, "one\ntwo\nthree\n");
    f.write("other.txt", "other\n");
    f.commit("Base");
    f.branch("stable/old", "main");
    f.write(FILE, "ONE\ntwo\nthree\n");
    f.commit(TITLE);
    f.write(FILE, "ONE!\ntwo\nthree\n");
    f.commit(CLEAR);
    f.write("other.txt", "other, copied\n");
    f.commit(CLIPBOARD);
    f.checkout("stable/old");
    f.write(FILE, "uno\ntwo\nthree\n");
    f.commit("Change the first line on stable");
    f.checkout("main");
    (tmp, f)
}

/// Fails unless every ESC in `text` starts an SGR colour sequence (`ESC [ digits ; m`) and
/// no other control character than newline, carriage return and tab is left.
fn assert_inert(text: &str, what: &str) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\x1b' {
            let mut j = i + 1;
            assert_eq!(chars.get(j), Some(&'['), "{what}: a bare ESC at {i}:\n{text:?}");
            j += 1;
            while chars.get(j).is_some_and(|c| c.is_ascii_digit() || *c == ';') {
                j += 1;
            }
            assert_eq!(
                chars.get(j),
                Some(&'m'),
                "{what}: an ESC that is no colour at {i}:\n{text:?}"
            );
            i = j + 1;
            continue;
        }
        assert!(
            !c.is_control() || matches!(c, '\n' | '\r' | '\t'),
            "{what}: control character {c:?} at {i}:\n{text:?}"
        );
        i += 1;
    }
}

/// Runs `git regraft ARGS` in `dir` in a pseudo-terminal and returns what it showed
/// (stdout and stderr both on the terminal).
fn on_terminal(dir: &Path, args: &[&str]) -> String {
    let mut cmd = crate::regraft_process(dir);
    cmd.args(args).env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).expect("starts in a pty");
    p.exp_eof().expect("ends")
}

/// Runs `git regraft ARGS` in a pipe and returns stdout and stderr together.
fn in_pipe(dir: &Path, args: &[&str]) -> String {
    crate::run(crate::regraft(dir).args(args)).1
}

#[test]
// Regression: subjects with OSC/CSI sequences reached the terminal raw (issue 24, item 4).
fn escape_sequences_from_the_repository_are_shown_not_obeyed() {
    let (_tmp, f) = history();
    let dir = f.path();
    let title_shown = "Fix ^[]0;pwned^G the title";
    let clear_shown = "Clear ^[[2J the screen \\u{9b}31m red";
    let clipboard_shown = "Copy ^[]52;c;cHduZWQ=^G to the clipboard";
    let file_shown = "evil^[[5mname.txt";
    let clear = f.rev("main~1").to_hex();
    let commands: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["delta", "--verbose", "stable/old", "main"],
            vec![title_shown, clear_shown, clipboard_shown],
        ),
        (vec!["deps", "stable/old", "main", "--for", &clear], vec![title_shown, clear_shown]),
        (vec!["deps", "--verbose", "stable/old", "main"], vec![clear_shown, file_shown]),
        (vec!["deps", "--format", "dot", "stable/old", "main"], vec!["Fix ^[]0;pwned^G"]),
        (
            vec!["backport", "--dry-run", "--verbose", "stable/old", "main"],
            vec![title_shown, clipboard_shown, file_shown],
        ),
        (vec!["policy", "check", "stable/old..main"], vec![title_shown, clipboard_shown]),
        (vec!["compare", "stable/old", "main"], vec![]),
        (
            // The subjects are in the lists, written here to standard output too.
            vec!["compare", "--format", "markdown", "--lists", "/dev/stdout", "stable/old", "main"],
            vec!["Fix ^\\[\\]0;pwned^G"],
        ),
        // A name given as an argument is echoed in the error.
        (vec!["delta", "stable/old", "no\x1b]0;such\x07branch"], vec!["no^[]0;such^Gbranch"]),
    ];
    for (args, shown) in &commands {
        let what = args.join(" ");
        let piped = in_pipe(dir, args);
        assert_inert(&piped, &format!("{what} (pipe)"));
        // On a terminal, with regraft's own colours on: they still come through.
        let mut colored = vec!["--color", "always"];
        colored.extend(args);
        let terminal = on_terminal(dir, &colored);
        assert_inert(&terminal, &format!("{what} (terminal)"));
        for text in shown {
            assert!(piped.contains(text), "{what} (pipe) shows {text:?}:\n{piped}");
            assert!(terminal.contains(text), "{what} (terminal) shows {text:?}:\n{terminal}");
        }
        if args[0] == "delta" && args[1] == "--verbose" {
            assert!(
                terminal.contains("\x1b["),
                "regraft's colours stay on a terminal:\n{terminal:?}"
            );
        }
    }

    // A real backport stops at the conflict in the evil file; status then tells of it.
    let (code, stopped) = crate::run(crate::regraft(dir).args(["backport", "stable/old", "main"]));
    assert_eq!(code, Some(3), "stops with findings: {stopped}");
    assert_inert(&stopped, "backport");
    assert!(stopped.contains(title_shown) && stopped.contains(file_shown), "{stopped}");
    for shown in [in_pipe(dir, &["status"]), on_terminal(dir, &["status"])] {
        assert_inert(&shown, "status");
        assert!(shown.contains("backport in progress"), "{shown}");
    }

    // JSON keeps the exact subjects (serde escapes their control characters).
    let json = crate::run(crate::regraft(dir).args(["delta", "--json", "stable/old", "main"])).1;
    let value: serde_json::Value = serde_json::from_str(&json).expect("delta --json is JSON");
    let subjects: Vec<String> = value["source_only"]
        .as_array()
        .expect("source_only is a list")
        .iter()
        .filter_map(|e| e["summary"].as_str().map(str::to_string))
        .collect();
    for subject in [TITLE, CLEAR, CLIPBOARD] {
        assert!(subjects.iter().any(|s| s == subject), "{subject:?} in {subjects:?}");
    }
    assert!(!json.contains('\x1b'), "JSON escapes ESC itself");
}
