//! Commits written by `git commit-tree`, for the commits libgit2 cannot write (signed ones,
//! a squashed stage).

use std::ffi::OsStr;

use crate::git::{Git, GitError};
use crate::oid::ObjectId;

/// Who wrote a commit that is written again, and in which encoding its message is.
#[derive(Debug, Clone, Copy)]
pub struct Authorship<'a> {
    pub name: &'a str,
    pub email: &'a str,
    /// `<seconds> <+hhmm>`.
    pub date: &'a str,
    /// The message's declared encoding (`-c i18n.commitEncoding=...`), if any.
    pub encoding: Option<&'a str>,
}

impl Git {
    /// Writes a commit of `tree` on `parent` and returns its id (`commit-tree -p PARENT -F -`).
    ///
    /// `author` keeps an original's author and encoding; without it git's identity is used.
    pub fn commit_tree(
        &self,
        tree: ObjectId,
        parent: ObjectId,
        message: &[u8],
        author: Option<&Authorship<'_>>,
    ) -> Result<ObjectId, GitError> {
        let encoding = author.and_then(|a| a.encoding).map(|e| format!("i18n.commitEncoding={e}"));
        let (tree, parent) = (tree.to_hex(), parent.to_hex());
        let mut args: Vec<&str> = Vec::new();
        if let Some(encoding) = &encoding {
            args.extend(["-c", encoding.as_str()]);
        }
        args.extend(["commit-tree", tree.as_str(), "-p", parent.as_str(), "-F", "-"]);
        let env: Vec<(&str, &OsStr)> = match author {
            Some(a) => vec![
                ("GIT_AUTHOR_NAME", OsStr::new(a.name)),
                ("GIT_AUTHOR_EMAIL", OsStr::new(a.email)),
                ("GIT_AUTHOR_DATE", OsStr::new(a.date)),
            ],
            None => Vec::new(),
        };
        self.output_id(&args, &env, message)
    }
}
