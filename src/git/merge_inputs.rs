//! Everything besides the three commits that can change what `git merge-tree` answers for a
//! cherry-pick, read so that a merge's answer can be kept and used again (the simulation
//! cache in `analysis::simulation`).
//!
//! merge-ort's answer depends on the trees, and also on:
//! - git itself (its version);
//! - configuration: `merge.*` (conflict style, renames, rename limit, directory renames,
//!   renormalize, drivers), `diff.*` (renames, rename limit), `core.*` (autocrlf, eol,
//!   ignorecase, attributesFile...), `attr.tree`, `filter.*`;
//! - attributes (`merge`, `conflict-marker-size`, `text`, `eol`...), read from the system
//!   and global attribute files, `$GIT_DIR/info/attributes`, every `.gitattributes` of the
//!   work tree and of the index (the work tree's first), and in a bare repository the
//!   tree `attr.tree` names (or `HEAD`'s);
//! - replacement refs (`refs/replace/`), which change what a commit id stands for.
//!
//! When an input cannot be known exactly (a merge driver or a filter is an outside program,
//! `GIT_ATTR_SOURCE` is set, a file cannot be read, git cannot say where its attribute
//! files are), the inputs are [`MergeInputs::Unknown`] and nothing may be kept.

use std::path::Path;

use sha1::{Digest, Sha1};

use crate::git::repo::Repo;

/// Work trees with more entries than this are not searched for `.gitattributes` files:
/// the answer is then not kept, rather than the search costing more than the merges.
const MAX_WALKED: usize = 200_000;

/// The configuration sections that can change a merge's answer.
const SECTIONS: &[&str] =
    &["merge.", "diff.", "core.", "attr.", "filter.", "feature.", "extensions."];

/// What the merges of a simulation depend on besides their commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeInputs {
    /// Known: the SHA-1 of a text naming every input, and that text (for tests and traces;
    /// it holds no configuration value, only hashes of them).
    Known { key: [u8; 20], text: String },
    /// Not known exactly; why.
    Unknown(String),
}

/// Reads every input of `repo`'s merges, with `args` the merge-tree arguments the
/// simulation runs. `work_tree` is the directory git reads `.gitattributes` files from
/// (`None`: a bare repository).
///
/// Inside a [`crate::git::repo::MergeInputsScope`] they are read once for the same `args`
/// and `work_tree`.
pub fn read(repo: &Repo, args: &[&str], work_tree: Option<&Path>) -> MergeInputs {
    SharedInputs::read(repo, args, work_tree).inputs
}

/// Merge inputs read through one handle of a repository, for the other handles of the same
/// repository that threads open (a [`Repo`] is not shared between threads).
#[derive(Debug, Clone)]
pub struct SharedInputs {
    for_what: String,
    inputs: MergeInputs,
}

impl SharedInputs {
    /// Reads `repo`'s merge inputs for `args` and `work_tree`, as [`read`] does.
    pub fn read(repo: &Repo, args: &[&str], work_tree: Option<&Path>) -> SharedInputs {
        let for_what = format!("{args:?} {work_tree:?}");
        let inputs = repo.merge_inputs_with(&for_what, || read_now(repo, args, work_tree));
        SharedInputs { for_what, inputs }
    }

    /// Inputs that stand for nothing read: a handle given them reads its own.
    pub fn none() -> SharedInputs {
        SharedInputs { for_what: String::new(), inputs: MergeInputs::Unknown("not read".into()) }
    }

    /// Has `repo`, another handle of the repository they were read from, use these inputs
    /// while the returned scope lives, rather than read them again. Only while nothing
    /// they depend on changes (see [`Repo::remember_merge_inputs`]).
    pub fn remember_in<'a>(&self, repo: &'a Repo) -> crate::git::repo::MergeInputsScope<'a> {
        repo.remember_merge_inputs_as(&self.for_what, self.inputs.clone())
    }
}

fn read_now(repo: &Repo, args: &[&str], work_tree: Option<&Path>) -> MergeInputs {
    match collect(repo, args, work_tree) {
        Ok(text) => {
            let key: [u8; 20] = Sha1::digest(text.as_bytes()).into();
            MergeInputs::Known { key, text }
        }
        Err(why) => MergeInputs::Unknown(why),
    }
}

fn collect(repo: &Repo, args: &[&str], work_tree: Option<&Path>) -> Result<String, String> {
    let git = repo.git();
    if std::env::var_os("GIT_ATTR_SOURCE").is_some() {
        return Err("GIT_ATTR_SOURCE is set".into());
    }
    // Not worth six processes when the cache is off (git's reading below says so too).
    if repo.merge_cache_off() {
        return Err("regraft.mergeCache is false".into());
    }
    // The six questions to git do not depend on one another: asked all at once, they cost
    // about what the slowest does (each is mostly a process start), which is most of a warm
    // run's time.
    let ask = |argv: &'static [&'static str]| {
        let git = &git;
        move || git.output(argv).map_err(|e| e.to_string())
    };
    let [version, config, system, global, replaced, staged] = std::thread::scope(|scope| {
        let questions: [&'static [&'static str]; 6] = [
            &["version"],
            &["config", "-z", "--list"],
            &["var", "GIT_ATTR_SYSTEM"],
            &["var", "GIT_ATTR_GLOBAL"],
            &["for-each-ref", "--format=%(objectname) %(refname)", "refs/replace/"],
            &["ls-files", "-s", "-z", "--", ":(glob)**/.gitattributes"],
        ];
        let running = questions.map(|argv| scope.spawn(ask(argv)));
        running.map(|answer| answer.join().unwrap_or_else(|_| Err("a git run panicked".into())))
    });
    let mut text = String::from("regraft merge inputs 1\n");
    text.push_str(&format!("args {}\n", args.join(" ")));
    text.push_str(&format!("git {}", String::from_utf8_lossy(&version?)));

    // Configuration, every scope in the order git reads it (a later value wins).
    let config = config?;
    let mut renormalize = false;
    let mut cache_off = false;
    let mut filters = false;
    let mut attr_tree = None;
    for entry in config.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let (key, value) = entry.split_once('\n').unwrap_or((&entry, ""));
        let key = key.to_ascii_lowercase();
        if key == "regraft.mergecache" {
            // The last value wins, as git reads it.
            cache_off = crate::git::config::says_false(value);
        }
        if !SECTIONS.iter().any(|s| key.starts_with(s)) {
            continue;
        }
        if key.starts_with("merge.") && key.ends_with(".driver") {
            return Err(format!("a merge driver is configured ({key}): an outside program"));
        }
        if key.starts_with("filter.") {
            filters = true;
        }
        if key == "attr.tree" {
            attr_tree = Some(value.to_string()).filter(|v| !v.is_empty());
        }
        if key == "merge.renormalize" {
            renormalize =
                matches!(value.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1");
        }
        text.push_str(&format!("config {key} {}\n", hex(&Sha1::digest(value.as_bytes()))));
    }
    if cache_off {
        return Err("regraft.mergeCache is false".into());
    }
    if renormalize && filters {
        return Err("merge.renormalize runs the configured filters, outside programs".into());
    }

    // Attribute files outside the trees.
    for (var, path) in [("GIT_ATTR_SYSTEM", system), ("GIT_ATTR_GLOBAL", global)] {
        let path = path?;
        let path = String::from_utf8_lossy(&path).trim_end_matches('\n').to_string();
        text.push_str(&format!("{var} {}\n", file_hash(Path::new(&path))?));
    }
    let info = repo.common_dir().join("info").join("attributes");
    text.push_str(&format!("info/attributes {}\n", file_hash(&info)?));

    // Replacement refs change what the commits are.
    text.push_str(&format!("replace {}\n", hex(&Sha1::digest(&replaced?))));

    // `.gitattributes` of the index (staged entries: mode, blob, stage, path).
    match (staged, work_tree) {
        (Ok(staged), _) => text.push_str(&format!("index {}\n", hex(&Sha1::digest(&staged)))),
        // A bare repository may have no index.
        (Err(_), None) => text.push_str("index none\n"),
        (Err(e), Some(_)) => return Err(e),
    }
    match work_tree {
        Some(top) => {
            let mut found = Vec::new();
            let mut walked = 0;
            walk(top, top, &mut found, &mut walked)?;
            found.sort();
            for (path, hash) in found {
                text.push_str(&format!("worktree {hash} {path}\n"));
            }
        }
        None => {
            // A bare repository reads attributes from `attr.tree`, by default HEAD's tree.
            let source = attr_tree.unwrap_or_else(|| "HEAD".to_string());
            if source.starts_with('-') {
                return Err(format!("attr.tree {source:?} is no revision"));
            }
            let spec = format!("{source}^{{tree}}");
            let tree = git
                .output(&["rev-parse", "-q", "--verify", "--end-of-options", &spec])
                .map(|out| String::from_utf8_lossy(&out).trim().to_string())
                .unwrap_or_else(|_| "none".to_string());
            text.push_str(&format!("attr-tree {tree}\n"));
        }
    }
    Ok(text)
}

/// Finds every `.gitattributes` below `dir` (nested repositories and `.git` left out, as
/// git leaves them out), with the SHA-1 of its content.
fn walk(
    top: &Path,
    dir: &Path,
    found: &mut Vec<(String, String)>,
    walked: &mut usize,
) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        *walked += 1;
        if *walked > MAX_WALKED {
            return Err(format!("the work tree has over {MAX_WALKED} entries"));
        }
        let name = entry.file_name();
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        let path = entry.path();
        if kind.is_dir() {
            if name == ".git" || (dir != top && path.join(".git").exists()) {
                continue;
            }
            walk(top, &path, found, walked)?;
        } else if name == ".gitattributes" {
            let relative = path.strip_prefix(top).unwrap_or(&path).to_string_lossy().into_owned();
            found.push((relative, file_hash(&path)?));
        }
    }
    Ok(())
}

/// The SHA-1 of a file's content, `none` when there is no such file (or no path).
fn file_hash(path: &Path) -> Result<String, String> {
    if path.as_os_str().is_empty() {
        return Ok("none".into());
    }
    match std::fs::read(path) {
        Ok(bytes) => Ok(hex(&Sha1::digest(&bytes))),
        // As git does, a path through something that is no directory names no file.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok("none".into())
        }
        Err(e) => Err(format!("reading {}: {e}", path.display())),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
