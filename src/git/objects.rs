//! Object verbs run through the `git` executable: commits and blobs written from their
//! bytes, trees listed and made, git's idea of an identity.

use std::ffi::OsStr;

use crate::git::{Git, GitError};
use crate::oid::ObjectId;

impl Git {
    /// Writes the commit whose raw text is `text` (`hash-object -t commit -w --stdin`), with
    /// `env` (a scratch object directory's variables) set; returns its id.
    pub fn write_commit_text(
        &self,
        env: &[(&str, &OsStr)],
        text: &[u8],
    ) -> Result<ObjectId, GitError> {
        self.output_id(&["hash-object", "-t", "commit", "-w", "--stdin"], env, text)
    }

    /// Returns the id a commit whose raw text is `text` has, writing nothing.
    pub fn commit_id_of(&self, text: &[u8]) -> Result<ObjectId, GitError> {
        self.output_id(&["hash-object", "-t", "commit", "--stdin"], &[], text)
    }

    /// Writes a blob of `bytes` (`hash-object -w --stdin`); returns its id.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<ObjectId, GitError> {
        self.output_id(&["hash-object", "-w", "--stdin"], &[], bytes)
    }

    /// Returns `tree`'s entries as `git ls-tree -z` prints them (NUL-ended
    /// `MODE TYPE ID\tNAME`).
    pub fn ls_tree_z(&self, tree: ObjectId) -> Result<Vec<u8>, GitError> {
        self.output(&["ls-tree", "-z", &tree.to_hex()])
    }

    /// Writes the tree of `entries` in `git ls-tree -z`'s format (`mktree -z`); returns its
    /// id.
    pub fn mktree_z(&self, entries: &[u8]) -> Result<ObjectId, GitError> {
        self.output_id(&["mktree", "-z"], &[], entries)
    }

    /// Returns a git variable such as `GIT_AUTHOR_IDENT` (`git var NAME`), trimmed.
    pub fn var(&self, name: &str) -> Result<String, GitError> {
        Ok(String::from_utf8_lossy(&self.output(&["var", name])?).trim().to_string())
    }
}
