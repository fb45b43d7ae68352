//! Ref verbs run through the `git` executable: leased updates, listings, HEAD's name.

use crate::git::{Git, GitError, parse_id};
use crate::oid::ObjectId;

/// The value `git update-ref` reads as "the ref must not exist yet".
const NO_REF: &str = "0000000000000000000000000000000000000000";

impl Git {
    /// Creates `reference` at `new`, refusing if it exists (`update-ref -m MESSAGE REF NEW 0{40}`).
    pub fn create_ref(
        &self,
        message: &str,
        reference: &str,
        new: ObjectId,
    ) -> Result<(), GitError> {
        self.output(&["update-ref", "-m", message, reference, &new.to_hex(), NO_REF])?;
        Ok(())
    }

    /// Points `reference` at `new`, whatever it was (`update-ref -m MESSAGE REF NEW`): for
    /// regraft's own refs, which keep what it made.
    pub fn set_ref(&self, message: &str, reference: &str, new: ObjectId) -> Result<(), GitError> {
        self.output(&["update-ref", "-m", message, reference, &new.to_hex()])?;
        Ok(())
    }

    /// Moves `reference` from `old` to `new`, refusing if it is no longer `old`.
    pub fn update_ref_leased(
        &self,
        message: &str,
        reference: &str,
        new: ObjectId,
        old: ObjectId,
    ) -> Result<(), GitError> {
        self.output(&["update-ref", "-m", message, reference, &new.to_hex(), &old.to_hex()])?;
        Ok(())
    }

    /// Deletes `reference`, refusing if it is no longer `old`.
    pub fn delete_ref_leased(
        &self,
        message: &str,
        reference: &str,
        old: ObjectId,
    ) -> Result<(), GitError> {
        self.output(&["update-ref", "-m", message, "-d", reference, &old.to_hex()])?;
        Ok(())
    }

    /// Returns `git for-each-ref --format=FORMAT PREFIX`'s output, one line per ref.
    pub fn for_each_ref(&self, format: &str, prefix: &str) -> Result<String, GitError> {
        let out = self.output(&["for-each-ref", &format!("--format={format}"), prefix])?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Returns the refs under `prefix` (`refs/remotes/origin/`) with the ids they point at.
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, ObjectId)>, GitError> {
        Ok(self
            .for_each_ref("%(refname) %(objectname)", prefix)?
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(name, id)| Some((name.to_string(), ObjectId::from_hex(id.as_bytes())?)))
            .collect())
    }

    /// Returns the full ref name HEAD points at, `None` when detached (`symbolic-ref -q HEAD`).
    ///
    /// git's exit code 1 says HEAD is not symbolic; any other failure is an error.
    pub fn head_symbolic_ref(&self) -> Result<Option<String>, GitError> {
        let (code, out) = self.output_with_env(&["symbolic-ref", "-q", "HEAD"], &[], &[1])?;
        Ok((code == 0).then(|| String::from_utf8_lossy(&out).trim().to_string()))
    }

    /// Returns the commit HEAD names, `None` on an unborn branch (`rev-parse --verify -q HEAD`).
    pub fn head_commit(&self) -> Result<Option<ObjectId>, GitError> {
        let args = ["rev-parse", "--verify", "-q", "HEAD"];
        let (code, out) = self.output_with_env(&args, &[], &[1])?;
        if code != 0 {
            return Ok(None);
        }
        Ok(Some(parse_id(&args, &out)?))
    }

    /// Returns `remote`'s newest non-merge commits whose message holds `text` (`log --grep`).
    ///
    /// The text is matched in any case and not as a pattern; at most `limit` commits, as
    /// `%H %s` lines.
    pub fn log_grep(&self, remote: &str, text: &str, limit: usize) -> Result<String, GitError> {
        let out = self.output(&[
            "log",
            &format!("--remotes={remote}"),
            "--no-merges",
            "--regexp-ignore-case",
            "--fixed-strings",
            &format!("--grep={text}"),
            &format!("--max-count={limit}"),
            "--format=%H %s",
        ])?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}
