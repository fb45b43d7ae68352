//! The engine's layering, checked on its source: no `crate::` path points to a higher or
//! sideways layer, no terminal or CLI crate appears outside `src/cli/` and `src/main.rs`,
//! and no git argv is written outside `src/git/` (the executable's files included).

use std::path::{Path, PathBuf};

/// Crates that belong to the command-line layer only.
const CLI_CRATES: [&str; 5] = ["clap", "console", "indicatif", "dialoguer", "anyhow"];

/// Returns the layer a module of the crate root belongs to (the first segment after
/// `crate::`, or a file's top-level folder or name), or `None` for one nobody classified.
fn layer(segment: &str) -> Option<&'static str> {
    Some(match segment {
        "oid" | "ObjectId" | "progress" | "fault" | "state_file" | "error_origin"
        | "ErrorOrigin" => "vocabulary",
        "text" => "text",
        "git" => "git",
        "analysis" => "analysis",
        "review" => "review",
        "surgery" => "surgery",
        "scenario" => "scenario",
        _ => return None,
    })
}

/// Returns the layers a module of `layer` may use (its own included).
fn may_use(layer: &str) -> &'static [&'static str] {
    match layer {
        "vocabulary" => &["vocabulary"],
        "text" => &["vocabulary", "text"],
        "git" => &["vocabulary", "text", "git"],
        "analysis" => &["vocabulary", "text", "git", "analysis"],
        "review" => &["vocabulary", "text", "git", "review"],
        "surgery" => &["vocabulary", "text", "git", "analysis", "review", "surgery"],
        "scenario" => &["vocabulary", "text", "git", "scenario"],
        _ => &[],
    }
}

/// Returns what is wrong with the source `text` of the engine file at `path` (relative to
/// `src/`): a path to a layer it may not use, an unclassified module, a CLI crate.
fn violations(path: &Path, text: &str) -> Vec<String> {
    let top = path.iter().next().and_then(|s| s.to_str()).unwrap_or_default();
    let top = top.strip_suffix(".rs").unwrap_or(top);
    let mut found = Vec::new();
    if top == "lib" {
        // lib.rs declares the layers; it uses none of them.
    } else if let Some(own) = layer(top) {
        let allowed = may_use(own);
        for (at, _) in text.match_indices("crate::") {
            let preceded = text[..at].chars().next_back();
            if preceded.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `regraft_crate::`, not the crate's own path
            }
            let rest = &text[at + "crate::".len()..];
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            let segment = &rest[..end];
            match layer(segment) {
                Some(target) if allowed.contains(&target) => {}
                Some(target) => found.push(format!(
                    "{}: the {own} layer uses crate::{segment} ({target})",
                    path.display()
                )),
                None => found.push(format!(
                    "{}: crate::{segment} belongs to no layer (classify it in tests/it/layers.rs)",
                    path.display()
                )),
            }
        }
    } else {
        found.push(format!("{}: the file belongs to no layer", path.display()));
    }
    for word in CLI_CRATES {
        for (at, _) in text.match_indices(word) {
            let before = text[..at].chars().next_back();
            let after = &text[at + word.len()..];
            let starts = !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            let used = after.starts_with("::") || text[..at].ends_with("use ");
            if starts && used {
                found.push(format!("{}: uses {word}, a command-line crate", path.display()));
            }
        }
    }
    found
}

/// Returns the engine's source files under `dir`, as paths relative to `src`.
fn engine_files(src: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("an entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let relative = path.strip_prefix(src).expect("under src/").to_path_buf();
        if relative == Path::new("cli") || relative == Path::new("main.rs") {
            continue;
        }
        if path.is_dir() {
            engine_files(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(relative);
        }
    }
}

#[test]
fn no_layer_uses_one_above_it_and_the_engine_uses_no_cli_crate() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    engine_files(&src, &src, &mut files);
    assert!(files.len() > 30, "the walk found the engine: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(src.join(file)).expect("a source file is readable");
        found.extend(violations(file, &text));
    }
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_an_upward_path_an_unknown_module_and_a_cli_crate() {
    let upward = violations(Path::new("git/repo.rs"), "use crate::surgery::lock::Lock;");
    assert_eq!(upward, ["git/repo.rs: the git layer uses crate::surgery (surgery)"]);
    let sideways = violations(Path::new("analysis/policy.rs"), "crate::review::Review");
    assert_eq!(sideways.len(), 1, "{sideways:?}");
    let unknown = violations(Path::new("text/message.rs"), "crate::helpers::x()");
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    let cli = violations(Path::new("surgery/sync.rs"), "use anyhow::Context;\nconsole::style(x)");
    assert_eq!(cli.len(), 2, "{cli:?}");
    let fine = violations(
        Path::new("surgery/sync.rs"),
        "use crate::analysis::delta;\n// a console, not the crate\nlet x = regraft_crate::y;",
    );
    assert!(fine.is_empty(), "{fine:?}");
    assert_eq!(violations(Path::new("helpers.rs"), "").len(), 1);
}

/// git's commands (`git help -a`, the guides left out): a list whose first string is one
/// of them is an argv for git.
const GIT_COMMANDS: &[&str] = &[
    "add",
    "am",
    "annotate",
    "apply",
    "archive",
    "bisect",
    "blame",
    "branch",
    "bundle",
    "cat-file",
    "check-attr",
    "check-ignore",
    "check-mailmap",
    "check-ref-format",
    "checkout",
    "checkout-index",
    "cherry",
    "cherry-pick",
    "clean",
    "clone",
    "column",
    "commit",
    "commit-graph",
    "commit-tree",
    "config",
    "count-objects",
    "credential",
    "describe",
    "diff",
    "diff-files",
    "diff-index",
    "diff-tree",
    "fast-export",
    "fast-import",
    "fetch",
    "fetch-pack",
    "filter-branch",
    "fmt-merge-msg",
    "for-each-ref",
    "for-each-repo",
    "format-patch",
    "fsck",
    "gc",
    "grep",
    "hash-object",
    "hook",
    "index-pack",
    "init",
    "interpret-trailers",
    "log",
    "ls-files",
    "ls-remote",
    "ls-tree",
    "mailinfo",
    "mailsplit",
    "maintenance",
    "merge",
    "merge-base",
    "merge-file",
    "merge-index",
    "merge-tree",
    "mktag",
    "mktree",
    "multi-pack-index",
    "mv",
    "name-rev",
    "notes",
    "pack-objects",
    "pack-refs",
    "patch-id",
    "prune",
    "pull",
    "push",
    "range-diff",
    "read-tree",
    "rebase",
    "reflog",
    "refs",
    "remote",
    "repack",
    "replace",
    "replay",
    "rerere",
    "reset",
    "restore",
    "rev-list",
    "rev-parse",
    "revert",
    "rm",
    "send-pack",
    "shortlog",
    "show",
    "show-branch",
    "show-ref",
    "sparse-checkout",
    "stash",
    "status",
    "stripspace",
    "submodule",
    "switch",
    "symbolic-ref",
    "tag",
    "unpack-objects",
    "update-index",
    "update-ref",
    "var",
    "verify-commit",
    "verify-pack",
    "verify-tag",
    "worktree",
    "write-tree",
];

/// Files outside `src/git/` that other branches of issue 23 are converting to the git
/// layer's verbs at the same time; the argv check skips them until those branches are
/// merged. Whoever merges the last of them empties this list.
const PENDING: &[&str] = &[];

/// Returns the string literals that open each list in `text` (an array, `vec![...]`, a
/// slice pattern, `.args([...])`) or are the argument of `.arg("...")`, with the line they
/// start on: the first literal element, or `None` when the list opens with something else
/// (a variable, a tuple, `"x".into()`), and the second. Comment lines are skipped, and
/// brackets inside strings and character literals are not lists.
fn list_openings(text: &str) -> Vec<(usize, Option<String>, Option<String>)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let line_start = i == 0 || bytes[i - 1] == b'\n';
        if line_start && text[i..].trim_start_matches([' ', '\t']).starts_with("//") {
            i += text[i..].find('\n').unwrap_or(text.len() - i);
            continue;
        }
        let ident_before = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if b == b'"'
            || (b == b'r' && !ident_before && matches!(bytes.get(i + 1), Some(b'"' | b'#')))
        {
            i = string_end(text, i);
            continue;
        }
        if b == b'\'' {
            // A character literal (`'"'`, `'\''`, `'…'`) is skipped; a lifetime is not one.
            let rest = &text[i + 1..];
            let char_len = if let Some(escaped) = rest.strip_prefix('\\') {
                // The escaped character, then up to the closing quote (`\u{..}` is longer).
                let first = escaped.chars().next().map_or(0, char::len_utf8);
                escaped[first..].find('\'').map(|end| 1 + first + end)
            } else {
                rest.chars().next().map(char::len_utf8).filter(|n| rest[*n..].starts_with('\''))
            };
            i += char_len.map_or(1, |n| n + 2);
            continue;
        }
        if b == b'[' || bytes[i..].starts_with(b".arg(") {
            let before = text[..i].trim_end().chars().next_back();
            // `value["key"]` indexes, `#[attr]` is an attribute: neither is a list.
            let index = before.is_some_and(|c| c.is_alphanumeric() || "_)]?\"'#".contains(c));
            if b == b'.' || !index {
                let start = if b == b'[' { i + 1 } else { i + ".arg(".len() };
                let (first, rest) = literal_element(&text[start..]);
                let second = rest.and_then(|r| literal_element(r).0);
                let line = 1 + bytes[..i].iter().filter(|c| **c == b'\n').count();
                found.push((line, first, second));
            }
        }
        i += 1;
    }
    found
}

/// Returns the index just past the string literal (plain or raw) that starts at `start`.
fn string_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    if bytes[start] == b'r' {
        let hashes = bytes[start + 1..].iter().take_while(|b| **b == b'#').count();
        let body = start + 1 + hashes + 1;
        let close = format!("\"{}", "#".repeat(hashes));
        return text[body..].find(&close).map_or(text.len(), |end| body + end + close.len());
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// Reads one list element at the start of `text`: the string literal when the element is
/// exactly one, and what follows its comma.
fn literal_element(text: &str) -> (Option<String>, Option<&str>) {
    let text = text.trim_start();
    let Some(body) = text.strip_prefix('"') else { return (None, None) };
    let Some(end) = body.find('"') else { return (None, None) };
    let after = body[end + 1..].trim_start();
    let literal = Some(body[..end].to_string());
    match after.chars().next() {
        Some(',') => (literal, Some(&after[1..])),
        Some(']' | ')') | None => (literal, None),
        _ => (None, None),
    }
}

/// Returns the git argv literals in `text`, the source of `path`: lists whose first string
/// (after `"-c", "key=value"`) is a git command. A list of names (its first two strings
/// both git commands, as step kinds are) is not an argv.
fn git_argvs(path: &Path, text: &str) -> Vec<String> {
    let command = |word: &str| GIT_COMMANDS.contains(&word);
    list_openings(text)
        .into_iter()
        .filter_map(|(line, first, second)| {
            let first = first?;
            if first == "-c" {
                // `-c key=value` comes first; the command is not on this line's list start.
                return Some(format!("{}:{line}: a git argv (`-c {}`)", path.display(), second?));
            }
            let names = second.as_deref().is_some_and(command);
            (command(&first) && !names)
                .then(|| format!("{}:{line}: a git argv (`{first}`)", path.display()))
        })
        .collect()
}

/// Returns every source file under `dir` but `src/git/`, as paths relative to `src`.
fn files_outside_git(src: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("an entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let relative = path.strip_prefix(src).expect("under src/").to_path_buf();
        if relative == Path::new("git") {
            continue;
        }
        if path.is_dir() {
            files_outside_git(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(relative);
        }
    }
}

#[test]
fn git_runs_only_through_the_git_layers_verbs() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    files_outside_git(&src, &src, &mut files);
    assert!(files.iter().any(|f| f.starts_with("cli")), "the walk covers src/cli: {files:?}");
    assert!(files.iter().any(|f| f == Path::new("main.rs")), "and main.rs: {files:?}");
    let mut found = Vec::new();
    let mut pending_clean = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(src.join(file)).expect("a source file is readable");
        let argvs = git_argvs(file, &text);
        let name = file.to_string_lossy().into_owned();
        if PENDING.contains(&name.as_str()) {
            if argvs.is_empty() {
                pending_clean.push(name);
            }
            continue;
        }
        found.extend(argvs);
    }
    assert!(
        found.is_empty(),
        "git argvs outside src/git/ (give src/git a verb for each):\n{}",
        found.join("\n")
    );
    assert!(pending_clean.is_empty(), "no longer pending, take out of PENDING: {pending_clean:?}");
}

#[test]
fn the_argv_check_sees_argvs_and_ignores_other_strings() {
    let argvs = r#"
        repo.git().output(&["config", "--get", key])?;
        let args = vec!["fetch", "--quiet", "--end-of-options", remote];
        command.args(["log", "-z"]).arg("status");
        const MERGE: &[&str] = &["-c", "core.looseCompression=0", "merge-tree"];
        git.output(&[
            "update-ref",
            "-m",
        ])?;
        ["push", "--porcelain", rest @ ..] => {}
        let quote = '"'; let q = '\''; let lifetime: &'a [&str] = &["fetch", remote];
    "#;
    let seen = git_argvs(Path::new("surgery/x.rs"), argvs);
    assert_eq!(seen.len(), 8, "{seen:#?}");
    assert!(seen[0].starts_with("surgery/x.rs:2: a git argv (`config`)"), "{seen:?}");
    let others = r#"
        const WRITTEN: [&str; 3] = ["fetch", "tag", "push-tag"];
        const KINDS: [(StepKind, &str); 2] = [(StepKind::Fetch, "fetch"), (StepKind::Push, "push")];
        needs: vec!["push".into()],
        let state = value["status"].as_str();
        if only(&["tests"]) {}
        // git.output(&["log", "-z"])
        let s = "a [\"log\"] in a string";
        let quote = '"'; let also = ['[', '\'']; let apostrophe = '\'';
        #[arg(long = "var")]
        let bytes: [u8; 20] = [0; 20];
    "#;
    let ignored = git_argvs(Path::new("surgery/step_id.rs"), others);
    assert!(ignored.is_empty(), "{ignored:#?}");
}
