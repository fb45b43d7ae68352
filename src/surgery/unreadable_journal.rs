//! A journal that cannot be read: what it and the remote still tell, and `--abort`'s move aside.

use std::path::PathBuf;

use crate::git::repo::Repo;
use crate::surgery::operation::{AbortReport, OperationError};

/// A journal that cannot be read, and what could still be told from it and the remote.
#[derive(Debug, thiserror::Error)]
#[error(
    "the journal {} cannot be read ({detail}): it records which steps of the operation in \
     progress{} ran, so that operation cannot be continued and no other can start{}",
    .path.display(),
    .operation.as_ref().map_or(String::new(), |o| format!(" (`{o}`)")),
    if .remote_now.is_empty() { String::new() } else { format!("; now {}", .remote_now.join(", ")) }
)]
pub struct CorruptJournal {
    pub path: PathBuf,
    /// Why it cannot be read.
    pub detail: String,
    /// What the operation was, when the file still says.
    pub operation: Option<String>,
    /// The tag that keeps the old tip, when the file still names it.
    pub tag: Option<String>,
    /// What the remote holds now for the refs the file still names, in words.
    pub remote_now: Vec<String>,
}
/// Tells what can still be told from an unreadable journal: the operation, the branch and
/// the tag it names (the first of each, read without parsing the whole), and what the
/// remote holds for them now (one `ls-remote`; nothing when the remote cannot be asked).
pub(crate) fn corrupt_journal(
    repo: &Repo,
    path: PathBuf,
    detail: String,
    text: &[u8],
) -> CorruptJournal {
    let strings = json_strings(&String::from_utf8_lossy(text));
    let value_of = |key: &str, accept: &dyn Fn(&str) -> bool| {
        strings.iter().find(|(k, v)| k.as_deref() == Some(key) && accept(v)).map(|(_, v)| v.clone())
    };
    let operation = value_of("operation", &|_| true);
    let tag = value_of("tag", &|v| crate::git::names::check_tag(v).is_ok());
    let remote = value_of("remote", &|_| true);
    // The branch: in a check, or else in the first step's fetch.
    let is_branch =
        |v: &str| v.starts_with("refs/heads/") && crate::git::names::check_full_ref(v).is_ok();
    let branch = value_of("reference", &is_branch)
        .or_else(|| strings.iter().find(|(_, v)| is_branch(v)).map(|(_, v)| v.clone()));
    let mut remote_now = Vec::new();
    if let Some(remote) = remote.filter(|r| repo.check_remote(r).is_ok()) {
        let mut wanted: Vec<String> = branch.iter().cloned().collect();
        if let Some(tag) = &tag {
            wanted.extend([format!("refs/tags/{tag}"), format!("refs/tags/{tag}^{{}}")]);
        }
        if let (false, Ok(refs)) =
            (wanted.is_empty(), crate::git::remote::ls_remote(repo.git(), &remote, &wanted))
        {
            if let Some(branch) = &branch {
                remote_now.push(match refs.get(branch) {
                    Some(id) => format!("{remote} {branch} is at {}", id.short()),
                    None => format!("{remote} has no {branch}"),
                });
            }
            if let Some(tag) = &tag {
                let peeled = refs
                    .get(&format!("refs/tags/{tag}^{{}}"))
                    .or_else(|| refs.get(&format!("refs/tags/{tag}")));
                remote_now.push(match peeled {
                    Some(id) => format!("tag {tag} on {remote} points at {}", id.short()),
                    None => format!("{remote} has no tag {tag}"),
                });
            }
        }
    }
    CorruptJournal { path, detail, operation, tag, remote_now }
}

/// Returns the complete string values in `text`, each with the key it is the value of
/// (`None` for an array's items), read without parsing the whole: the text may be cut short
/// or damaged.
fn json_strings(text: &str) -> Vec<(Option<String>, String)> {
    let mut found = Vec::new();
    let mut chars = text.chars().peekable();
    let mut key: Option<String> = None;
    while let Some(c) = chars.next() {
        if c != '"' {
            if !c.is_whitespace() && c != ':' {
                key = None;
            }
            continue;
        }
        let mut string = String::new();
        let complete = loop {
            match chars.next() {
                None => break false,
                Some('"') => break true,
                Some('\\') => match chars.next() {
                    Some('n') => string.push('\n'),
                    Some('t') => string.push('\t'),
                    Some(c) => string.push(c),
                    None => break false,
                },
                Some(c) => string.push(c),
            }
        };
        if !complete {
            break;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&':').is_some() {
            key = Some(string);
        } else {
            found.push((key.take(), string));
        }
    }
    found
}

/// Moves an unreadable journal aside to `journal.json.corrupt-<unix time>` (never over
/// another file) and returns where it went.
fn set_aside(path: &std::path::Path) -> Result<PathBuf, OperationError> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let io = |source| OperationError::Io { path: path.to_path_buf(), source };
    for n in 0..100 {
        let suffix =
            if n == 0 { format!("corrupt-{stamp}") } else { format!("corrupt-{stamp}-{n}") };
        let aside = path.with_extension(format!("json.{suffix}"));
        // A link never replaces an existing file; the journal's own name is removed after.
        match std::fs::hard_link(path, &aside) {
            Ok(()) => {
                std::fs::remove_file(path).map_err(io)?;
                return Ok(aside);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(e)),
        }
    }
    Err(io(std::io::Error::other("no free name to move the journal aside to")))
}

/// The abort of an operation whose journal cannot be read: see [`crate::surgery::operation::abort`].
pub(crate) fn abort_unreadable(corrupt: CorruptJournal) -> Result<AbortReport, OperationError> {
    let aside = set_aside(&corrupt.path)?;
    let mut kept = vec![
        format!(
            "the journal, which cannot be read, was moved aside to {} (kept, not deleted)",
            aside.display()
        ),
        "nothing on the remote was changed: without its journal, what this operation pushed \
         cannot be told apart from what others pushed"
            .to_string(),
    ];
    kept.extend(corrupt.remote_now.iter().map(|now| format!("now {now}")));
    kept.push(match &corrupt.tag {
        Some(tag) => format!("tag {tag} keeps the old tip"),
        None => "the old tip is kept by the tag the operation pushed first (its name is not \
                 readable in the journal): check with `git ls-remote --tags <remote>`"
            .to_string(),
    });
    kept.push("look at what the remote holds before planning again".to_string());
    let operation = corrupt
        .operation
        .unwrap_or_else(|| "the operation in progress (its journal cannot be read)".into());
    Ok(AbortReport { operation, restored: Vec::new(), kept, unfinished: Vec::new() })
}
