//! Talking to a remote: refs listed in one `git ls-remote`, tags fetched, and the refusals
//! of `git push --porcelain` read (the pushes themselves are [`crate::git::action::Push`]).

use std::collections::BTreeMap;

use crate::git::{Finished, Git, GitError};
use crate::oid::ObjectId;

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
    let mut args = vec!["ls-remote", "--end-of-options", remote];
    args.extend(references.iter().map(String::as_str));
    let out = git.output(&args)?;
    let text = String::from_utf8_lossy(&out);
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(_, name)| references.iter().any(|r| r == name))
        .filter_map(|(id, name)| Some((name.to_string(), ObjectId::from_hex(id.as_bytes())?)))
        .collect())
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
