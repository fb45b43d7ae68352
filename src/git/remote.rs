//! Talking to a remote: refs listed in one `git ls-remote`, tags fetched, and the refusals
//! of `git push --porcelain` read (the pushes themselves are [`crate::git::action::Push`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::git::{Finished, Git, GitError};
use crate::oid::ObjectId;

/// One listing of each remote's branches and tags, answering this thread's [`ls_remote`]
/// calls about them while a [`Snapshot`] guard lives.
#[derive(Debug)]
struct Listing {
    git_dir: PathBuf,
    /// Each remote's `refs/heads/` and `refs/tags/` (peeled tags as `^{}`), listed when
    /// first asked about.
    remotes: BTreeMap<String, BTreeMap<String, ObjectId>>,
}

thread_local! {
    static LISTING: RefCell<Option<Listing>> = const { RefCell::new(None) };
}

/// While it lives, this thread's [`ls_remote`] calls about branches and tags of the
/// repository's remotes are answered from one `git ls-remote --heads --tags` per remote:
/// for planning many steps against one moment of the remote (a playbook of thousands of
/// steps lists each remote once instead of once a step). Execution never holds one.
#[derive(Debug)]
pub struct Snapshot(());

impl Snapshot {
    /// Starts answering from listings of the remotes of the repository `git` runs in.
    pub fn begin(git: &Git) -> Snapshot {
        LISTING.with(|l| {
            *l.borrow_mut() =
                Some(Listing { git_dir: git.git_dir().to_path_buf(), remotes: BTreeMap::new() })
        });
        Snapshot(())
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        LISTING.with(|l| *l.borrow_mut() = None);
    }
}

/// Answers from the thread's snapshot when one is active for this repository and every
/// reference is a branch or a tag.
fn from_snapshot(
    git: &Git,
    remote: &str,
    references: &[String],
) -> Result<Option<BTreeMap<String, ObjectId>>, GitError> {
    let listed = |r: &String| r.starts_with("refs/heads/") || r.starts_with("refs/tags/");
    if !references.iter().all(listed) {
        return Ok(None);
    }
    LISTING.with(|l| {
        let mut l = l.borrow_mut();
        let Some(listing) = l.as_mut().filter(|l| l.git_dir == git.git_dir()) else {
            return Ok(None);
        };
        if !listing.remotes.contains_key(remote) {
            let out =
                git.output(&["ls-remote", "--heads", "--tags", "--end-of-options", remote])?;
            listing.remotes.insert(remote.to_string(), parse_listing(&out, |_| true));
        }
        let all = &listing.remotes[remote];
        Ok(Some(references.iter().filter_map(|r| Some((r.clone(), *all.get(r)?))).collect()))
    })
}

/// Reads `git ls-remote`'s `ID\tNAME` lines, keeping the names `keep` accepts.
fn parse_listing(out: &[u8], keep: impl Fn(&str) -> bool) -> BTreeMap<String, ObjectId> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(_, name)| keep(name))
        .filter_map(|(id, name)| Some((name.to_string(), ObjectId::from_hex(id.as_bytes())?)))
        .collect()
}

/// Returns what each of `references` points at on `remote`, in one `git ls-remote`; a
/// reference the remote does not have is absent from the map. A name may end in `^{}` to
/// ask for what an annotated tag peels to.
pub fn ls_remote(
    git: &Git,
    remote: &str,
    references: &[String],
) -> Result<BTreeMap<String, ObjectId>, GitError> {
    if references.is_empty() {
        return Ok(BTreeMap::new());
    }
    if let Some(answer) = from_snapshot(git, remote, references)? {
        return Ok(answer);
    }
    let mut args = vec!["ls-remote", "--end-of-options", remote];
    args.extend(references.iter().map(String::as_str));
    let out = git.output(&args)?;
    Ok(parse_listing(&out, |name| references.iter().any(|r| r == name)))
}

/// One ref of a `git push --porcelain` report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    /// The remote ref.
    pub reference: String,
    /// Whether the remote refused it (flag `!`).
    pub rejected: bool,
    /// git's summary, e.g. `[rejected] (stale info)`.
    pub summary: String,
}

impl PushedRef {
    /// Tells whether git refused the push because the lease no longer held.
    pub fn stale(&self) -> bool {
        self.rejected && self.summary.contains("stale info")
    }
}

/// Parses the ref lines of `git push --porcelain` (`<flag> \t <from>:<to> \t <summary>`).
pub fn parse_push_report(stdout: &[u8]) -> Vec<PushedRef> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, '\t');
            let flag = fields.next()?;
            let refspec = fields.next()?;
            let summary = fields.next().unwrap_or_default();
            if flag.chars().count() != 1 {
                return None;
            }
            let reference = refspec.rsplit_once(':').map_or(refspec, |(_, to)| to);
            Some(PushedRef {
                reference: reference.to_string(),
                rejected: flag == "!",
                summary: summary.trim().to_string(),
            })
        })
        .collect()
}

/// Returns the first refused ref of a push that ended with `finished`, if git said which.
pub fn first_refusal(finished: &Finished) -> Option<PushedRef> {
    parse_push_report(&finished.stdout).into_iter().find(|r| r.rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_refusals_are_read() {
        let out = b"To file:///srv/x.git\n!\tab12:refs/heads/stable/liberty\t[rejected] (stale info)\nDone\n";
        let refs = parse_push_report(out);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].reference, "refs/heads/stable/liberty");
        assert!(refs[0].stale());
    }
}

/// Whether a fetch shows git's progress on the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchProgress {
    /// `--quiet`, output read by nobody.
    Quiet,
    /// `--progress` on the caller's standard error.
    Shown,
}

/// Fetches `remote`'s branches and tags into the remote-tracking refs (`git fetch --tags`).
pub fn fetch_tags(git: &Git, remote: &str, progress: FetchProgress) -> Result<(), GitError> {
    match progress {
        FetchProgress::Quiet => {
            git.output(&["fetch", "--quiet", "--tags", "--end-of-options", remote])?;
            Ok(())
        }
        FetchProgress::Shown => {
            git.with_progress(&["fetch", "--progress", "--tags", "--end-of-options", remote])
        }
    }
}
