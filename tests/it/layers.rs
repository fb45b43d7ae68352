//! The engine's layering, checked on its source: no `crate::` path points to a higher or
//! sideways layer, and no terminal or CLI crate appears outside `src/cli/` and `src/main.rs`.

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
