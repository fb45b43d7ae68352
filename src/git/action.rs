//! The git commands a plan step may run, as data: each renders its exact argv (the one a
//! dry run shows and the journal keeps) and is read back from such an argv, so a journal
//! or a saved plan can only ever hold the commands regraft itself makes.

use crate::git::names::{check_full_ref, check_tag};
use crate::oid::ObjectId;

/// A git command of a plan, with everything it needs (its standard input included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitAction {
    /// `git push --porcelain [--force-with-lease=REF:EXPECTED] --end-of-options REMOTE
    /// REFSPEC`: compare-and-swap when leased; a push for review (Gerrit's `refs/for/`)
    /// has no ref to lease.
    Push(Push),
    /// `git fetch --no-tags --end-of-options REMOTE REF`.
    Fetch { remote: String, reference: String },
    /// `git tag -a -F - --end-of-options TAG COMMIT`, the message on standard input.
    Tag { tag: String, commit: ObjectId, message: String },
    /// `git hash-object -t commit -w --stdin`: writes the commit whose text is given.
    WriteCommit { text: String },
    /// `git merge-tree --write-tree --name-only -z --merge-base=BASE OURS THEIRS`: a pick's
    /// tree, written into the repository.
    MergeTree { base: ObjectId, ours: ObjectId, theirs: ObjectId },
    /// `git update-ref -m "regraft undo" [-d] --end-of-options REF [NEW] OLD`: a local ref
    /// moved, created (`old` `None`: it must not exist) or deleted (`new` `None`), only while
    /// it still holds `old`. Only `undo` makes it.
    UpdateRef { reference: String, new: Option<ObjectId>, old: Option<ObjectId> },
}

/// The reflog message of the local ref updates a plan makes.
const UPDATE_REF_MESSAGE: &str = "regraft undo";

/// The value `git update-ref` reads as "the ref must not exist yet".
const NO_REF: &str = "0000000000000000000000000000000000000000";

/// A push of one ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub remote: String,
    pub refspec: Refspec,
    /// The value the remote ref must still have; `None` for a push with no lease.
    pub lease: Option<Lease>,
}

/// What a push sends. There is never a `+`: git-push(1) reads it as `--force` for that
/// ref, which would disable the lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refspec {
    /// `COMMIT:REF`: sets the remote ref to a commit.
    Update { commit: ObjectId, reference: String },
    /// `:REF`: deletes the remote ref.
    Delete { reference: String },
    /// `refs/tags/T:refs/tags/T`: sends a local tag under its own name.
    Tag { reference: String },
}

/// A `--force-with-lease=REF:EXPECTED` (`None`: the ref must not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub reference: String,
    pub expected: Option<ObjectId>,
}

impl Refspec {
    /// Returns the remote ref the push changes.
    pub fn reference(&self) -> &str {
        match self {
            Refspec::Update { reference, .. }
            | Refspec::Delete { reference }
            | Refspec::Tag { reference } => reference,
        }
    }

    fn render(&self) -> String {
        match self {
            Refspec::Update { commit, reference } => format!("{commit}:{reference}"),
            Refspec::Delete { reference } => format!(":{reference}"),
            Refspec::Tag { reference } => format!("{reference}:{reference}"),
        }
    }

    fn parse(word: &str) -> Result<Refspec, String> {
        let (src, dst) = word.split_once(':').ok_or("a refspec without `:`")?;
        check_full_ref(dst).map_err(|e| e.to_string())?;
        let reference = dst.to_string();
        if src.is_empty() {
            Ok(Refspec::Delete { reference })
        } else if let Some(commit) = full_id(src) {
            Ok(Refspec::Update { commit, reference })
        } else if src == dst && dst.starts_with("refs/tags/") {
            Ok(Refspec::Tag { reference })
        } else {
            Err(format!("pushes `{src}`, which is neither a commit id nor the tag itself"))
        }
    }
}

impl Push {
    /// Returns the compare-and-swap push of `reference` on `remote` from `from` (`None`:
    /// must not exist) to `to` (`None`: deleted). The lease alone allows a
    /// non-fast-forward update, and only while the remote still has `from`.
    pub fn leased(
        remote: &str,
        reference: &str,
        from: Option<ObjectId>,
        to: Option<ObjectId>,
    ) -> Push {
        let reference = reference.to_string();
        let refspec = match to {
            Some(commit) => Refspec::Update { commit, reference: reference.clone() },
            None => Refspec::Delete { reference: reference.clone() },
        };
        Push {
            remote: remote.to_string(),
            refspec,
            lease: Some(Lease { reference, expected: from }),
        }
    }

    /// Returns the push of the local tag `tag` to `remote`, only where the remote has no
    /// such tag.
    pub fn new_tag(remote: &str, tag: &str) -> Push {
        let reference = format!("refs/tags/{tag}");
        Push {
            remote: remote.to_string(),
            refspec: Refspec::Tag { reference: reference.clone() },
            lease: Some(Lease { reference, expected: None }),
        }
    }

    /// Returns the push of `commit` to `reference` with no lease: for Gerrit's
    /// `refs/for/<branch>`, which is no ref that exists.
    pub fn for_review(remote: &str, reference: &str, commit: ObjectId) -> Push {
        Push {
            remote: remote.to_string(),
            refspec: Refspec::Update { commit, reference: reference.to_string() },
            lease: None,
        }
    }

    /// Returns the argv after `git`.
    pub fn argv(&self) -> Vec<String> {
        let mut argv = vec!["push".to_string(), "--porcelain".to_string()];
        if let Some(Lease { reference, expected }) = &self.lease {
            let expected = expected.map(|e| e.to_hex()).unwrap_or_default();
            argv.push(format!("--force-with-lease={reference}:{expected}"));
        }
        argv.extend(["--end-of-options".to_string(), self.remote.clone(), self.refspec.render()]);
        argv
    }
}

fn full_id(word: &str) -> Option<ObjectId> {
    if word.len() == 40 { ObjectId::from_hex(word.as_bytes()) } else { None }
}

fn commit_id(word: &str, what: &str) -> Result<ObjectId, String> {
    full_id(word).ok_or_else(|| format!("{what} `{word}`, not a commit id"))
}

/// A remote's name comes after `--end-of-options`; one that reads as an option is refused
/// all the same, so no plan can hold one.
fn remote_name(word: &str) -> Result<String, String> {
    if word.is_empty() || word.starts_with('-') {
        Err(format!("names the remote `{word}`"))
    } else {
        Ok(word.to_string())
    }
}

impl GitAction {
    /// Returns the argv after `git`, exactly as it runs.
    pub fn argv(&self) -> Vec<String> {
        let words = |words: &[&str]| words.iter().map(|w| (*w).to_string()).collect();
        match self {
            GitAction::Push(push) => push.argv(),
            GitAction::Fetch { remote, reference } => {
                words(&["fetch", "--no-tags", "--end-of-options", remote, reference])
            }
            GitAction::Tag { tag, commit, .. } => {
                words(&["tag", "-a", "-F", "-", "--end-of-options", tag, &commit.to_hex()])
            }
            GitAction::WriteCommit { .. } => {
                words(&["hash-object", "-t", "commit", "-w", "--stdin"])
            }
            GitAction::MergeTree { base, ours, theirs } => words(&[
                "merge-tree",
                "--write-tree",
                "--name-only",
                "-z",
                &format!("--merge-base={base}"),
                &ours.to_hex(),
                &theirs.to_hex(),
            ]),
            GitAction::UpdateRef { reference, new, old } => {
                let mut argv = words(&["update-ref", "-m", UPDATE_REF_MESSAGE]);
                let old = old.map_or(NO_REF.to_string(), |o| o.to_hex());
                match new {
                    Some(new) => argv.extend([
                        "--end-of-options".to_string(),
                        reference.clone(),
                        new.to_hex(),
                        old,
                    ]),
                    None => argv.extend([
                        "-d".to_string(),
                        "--end-of-options".to_string(),
                        reference.clone(),
                        old,
                    ]),
                }
                argv
            }
        }
    }

    /// Returns what the command reads on standard input.
    pub fn input(&self) -> Option<&str> {
        match self {
            GitAction::Tag { message, .. } => Some(message),
            GitAction::WriteCommit { text } => Some(text),
            GitAction::Push(_)
            | GitAction::Fetch { .. }
            | GitAction::MergeTree { .. }
            | GitAction::UpdateRef { .. } => None,
        }
    }

    /// Returns the remote the command talks to, if it talks to one.
    pub fn remote(&self) -> Option<&str> {
        match self {
            GitAction::Push(Push { remote, .. }) | GitAction::Fetch { remote, .. } => Some(remote),
            GitAction::Tag { .. }
            | GitAction::WriteCommit { .. }
            | GitAction::MergeTree { .. }
            | GitAction::UpdateRef { .. } => None,
        }
    }

    /// Reads an action back from its argv and standard input, as journals and saved plans
    /// hold them; anything but the exact shapes [`GitAction::argv`] renders is refused,
    /// with the reason, and every name is checked against git's rules.
    pub fn from_argv(argv: &[String], input: Option<String>) -> Result<GitAction, String> {
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        let no_input = |action: GitAction| match input {
            Some(_) => Err("input for an action that reads none".to_string()),
            None => Ok(action),
        };
        let unexpected = || format!("an action regraft does not make: git {}", argv.join(" "));
        match words.as_slice() {
            ["push", "--porcelain", rest @ ..] => {
                let (lease, rest) = match rest {
                    [lease, rest @ ..] if lease.starts_with("--force-with-lease=") => {
                        (Some(&lease["--force-with-lease=".len()..]), rest)
                    }
                    _ => (None, rest),
                };
                let ["--end-of-options", remote, refspec] = rest else {
                    return Err(format!("an unexpected push: {argv:?}"));
                };
                let refspec = Refspec::parse(refspec)?;
                let lease = match lease {
                    None => None,
                    Some(value) => {
                        let (reference, expected) =
                            value.split_once(':').ok_or("a lease without `:`")?;
                        if reference != refspec.reference() {
                            return Err(format!(
                                "leases `{reference}` and pushes `{}`",
                                refspec.reference()
                            ));
                        }
                        let expected = match expected {
                            "" => None,
                            oid => Some(commit_id(oid, "a lease on")?),
                        };
                        Some(Lease { reference: reference.to_string(), expected })
                    }
                };
                no_input(GitAction::Push(Push { remote: remote_name(remote)?, refspec, lease }))
            }
            ["fetch", "--no-tags", "--end-of-options", remote, reference] => {
                check_full_ref(reference).map_err(|e| e.to_string())?;
                no_input(GitAction::Fetch {
                    remote: remote_name(remote)?,
                    reference: (*reference).to_string(),
                })
            }
            ["tag", "-a", "-F", "-", "--end-of-options", tag, commit] => {
                check_tag(tag).map_err(|e| e.to_string())?;
                let commit = commit_id(commit, "tags")?;
                let message = input.ok_or("a tag with no message")?;
                Ok(GitAction::Tag { tag: (*tag).to_string(), commit, message })
            }
            ["hash-object", "-t", "commit", "-w", "--stdin"] => {
                let text = input.ok_or("writes a commit with no text")?;
                Ok(GitAction::WriteCommit { text })
            }
            ["merge-tree", "--write-tree", "--name-only", "-z", base, ours, theirs] => {
                let base = base.strip_prefix("--merge-base=").ok_or_else(unexpected)?;
                no_input(GitAction::MergeTree {
                    base: commit_id(base, "merges from")?,
                    ours: commit_id(ours, "merges")?,
                    theirs: commit_id(theirs, "merges")?,
                })
            }
            ["update-ref", "-m", UPDATE_REF_MESSAGE, rest @ ..] => {
                let (new, reference, old) = match rest {
                    ["-d", "--end-of-options", reference, old] => (None, reference, old),
                    ["--end-of-options", reference, new, old] => {
                        (Some(commit_id(new, "sets a ref to")?), reference, old)
                    }
                    _ => return Err(unexpected()),
                };
                check_full_ref(reference).map_err(|e| e.to_string())?;
                let old = match *old {
                    NO_REF => None,
                    old => Some(commit_id(old, "expects a ref at")?),
                };
                if new.is_none() && old.is_none() {
                    return Err("deletes a ref that must not exist".into());
                }
                no_input(GitAction::UpdateRef { reference: (*reference).to_string(), new, old })
            }
            _ => Err(unexpected()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 20])
    }

    #[test]
    fn every_shape_reads_back_from_the_argv_it_renders() {
        let actions = [
            GitAction::Push(Push::leased("origin", "refs/heads/stable/liberty", Some(id(1)), None)),
            GitAction::Push(Push::leased("origin", "refs/heads/x", None, Some(id(2)))),
            GitAction::Push(Push::new_tag("origin", "liberty-eol")),
            GitAction::Push(Push::for_review("origin", "refs/for/stable/liberty", id(3))),
            GitAction::Fetch { remote: "origin".into(), reference: "refs/heads/main".into() },
            GitAction::Tag { tag: "liberty-eol".into(), commit: id(4), message: "m\n".into() },
            GitAction::WriteCommit { text: "tree x\n".into() },
            GitAction::MergeTree { base: id(5), ours: id(6), theirs: id(7) },
            GitAction::UpdateRef { reference: "refs/tags/t".into(), new: None, old: Some(id(8)) },
            GitAction::UpdateRef {
                reference: "refs/heads/b".into(),
                new: Some(id(9)),
                old: Some(id(8)),
            },
            GitAction::UpdateRef { reference: "refs/tags/t".into(), new: Some(id(9)), old: None },
        ];
        for action in actions {
            let argv = action.argv();
            assert!(argv.iter().all(|w| !w.starts_with('+')), "{argv:?}");
            let input = action.input().map(str::to_string);
            assert_eq!(GitAction::from_argv(&argv, input), Ok(action.clone()), "{argv:?}");
        }
    }

    #[test]
    fn the_lease_renders_as_git_push_reads_it() {
        let argv = Push::leased("origin", "refs/heads/a", Some(id(1)), Some(id(2))).argv();
        assert_eq!(
            argv,
            [
                "push",
                "--porcelain",
                &format!("--force-with-lease=refs/heads/a:{}", id(1)),
                "--end-of-options",
                "origin",
                &format!("{}:refs/heads/a", id(2)),
            ]
        );
    }

    #[test]
    fn other_commands_options_and_bad_names_are_refused() {
        let words = |w: &[&str]| w.iter().map(|w| (*w).to_string()).collect::<Vec<_>>();
        let refused = [
            (words(&["config", "core.sshCommand", "touch x"]), None),
            (words(&["fetch", "--no-tags", "--end-of-options", "--upload-pack=x", "refs/a"]), None),
            (words(&["fetch", "--no-tags", "--end-of-options", "origin", "refs/a..b"]), None),
            (words(&["push", "--porcelain", "--end-of-options", "origin", "+HEAD:refs/x"]), None),
            (
                words(&[
                    "push",
                    "--porcelain",
                    "--force-with-lease=refs/heads/b:",
                    "--end-of-options",
                    "origin",
                    ":refs/heads/a",
                ]),
                None,
            ),
            (words(&["hash-object", "-t", "commit", "-w", "--stdin"]), None),
            (words(&["fetch", "--no-tags", "--end-of-options", "o", "refs/a"]), Some("x".into())),
            (
                words(&["update-ref", "-m", "regraft undo", "--end-of-options", "HEAD", NO_REF]),
                None,
            ),
            (
                words(&["update-ref", "-m", "x", "-d", "--end-of-options", "refs/tags/t", NO_REF]),
                None,
            ),
            (
                words(&[
                    "update-ref",
                    "-m",
                    "regraft undo",
                    "-d",
                    "--end-of-options",
                    "refs/t",
                    NO_REF,
                ]),
                None,
            ),
            (words(&["update-ref", "-m", "regraft undo", "--stdin"]), None),
        ];
        for (argv, input) in refused {
            assert!(GitAction::from_argv(&argv, input).is_err(), "{argv:?}");
        }
    }
}
