//! Verbs that need a work tree: checkouts, two-tree reads, status, cherry-picks shown to
//! the user, the index written as a tree.

use std::path::Path;

use crate::git::{Git, GitError, parse_id};
use crate::oid::ObjectId;

/// A work tree and the runner of its repository: every verb runs git in that directory.
#[derive(Debug, Clone, Copy)]
pub struct WorkTree<'a> {
    git: &'a Git,
    dir: &'a Path,
}

impl<'a> WorkTree<'a> {
    /// Returns the work tree `dir` of the repository `git` runs on.
    pub fn new(git: &'a Git, dir: &'a Path) -> Self {
        WorkTree { git, dir }
    }

    fn run(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        self.git.output_in_work_tree(self.dir, args, &[])
    }

    /// Returns one line per changed tracked file (`status --porcelain --untracked-files=no`).
    pub fn tracked_changes(&self) -> Result<String, GitError> {
        let out = self.run(&["status", "--porcelain", "--untracked-files=no"])?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Brings index and files from commit `from` to `to` (`read-tree -m -u FROM TO`).
    ///
    /// git refuses to overwrite local changes.
    pub fn read_tree_two_way(&self, from: ObjectId, to: ObjectId) -> Result<(), GitError> {
        self.run(&["read-tree", "-m", "-u", &from.to_hex(), &to.to_hex()])?;
        Ok(())
    }

    /// Checks out branch `short` (`checkout -q`, with [`Checkout::Force`] `checkout -q -f`).
    pub fn checkout_branch(&self, short: &str, how: Checkout) -> Result<(), GitError> {
        match how {
            Checkout::Keep => self.run(&["checkout", "-q", short])?,
            Checkout::Force => self.run(&["checkout", "-q", "-f", short])?,
        };
        Ok(())
    }

    /// Detaches HEAD at `commit`, throwing local changes away (`checkout -q -f --detach`).
    pub fn force_detach(&self, commit: ObjectId) -> Result<(), GitError> {
        self.run(&["checkout", "-q", "-f", "--detach", &commit.to_hex()])?;
        Ok(())
    }

    /// Throws away index and work-tree changes (`reset -q --hard HEAD`).
    pub fn reset_hard_head(&self) -> Result<(), GitError> {
        self.run(&["reset", "-q", "--hard", "HEAD"])?;
        Ok(())
    }

    /// Cherry-picks `commit` with a `(cherry picked from ...)` line (`cherry-pick -x`).
    ///
    /// A conflict is left in the work tree for the user: git's exit code 1 is no error.
    pub fn cherry_pick_x(&self, commit: ObjectId) -> Result<(), GitError> {
        self.git.output_in_work_tree(self.dir, &["cherry-pick", "-x", &commit.to_hex()], &[1])?;
        Ok(())
    }

    /// Forgets the cherry-pick in progress, keeping index and files (`cherry-pick --quit`).
    pub fn cherry_pick_quit(&self) -> Result<(), GitError> {
        self.run(&["cherry-pick", "--quit"])?;
        Ok(())
    }

    /// Returns the first unmerged path, if any (`diff --name-only --diff-filter=U`).
    pub fn first_unmerged(&self) -> Result<Option<String>, GitError> {
        let out = self.run(&["diff", "--name-only", "--diff-filter=U"])?;
        Ok(String::from_utf8_lossy(&out).lines().next().map(str::to_string))
    }

    /// Writes the index as a tree and returns its id (`write-tree`).
    pub fn write_tree(&self) -> Result<ObjectId, GitError> {
        let out = self.run(&["write-tree"])?;
        parse_id(&["write-tree"], &out)
    }
}

/// What a checkout does with local changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkout {
    /// Refuses to overwrite them, as `git checkout` does.
    Keep,
    /// Throws them away (`-f`).
    Force,
}

impl Git {
    /// Aborts the cherry-pick in progress (`cherry-pick --abort`).
    ///
    /// It runs where the caller runs, not in a given work tree, as `backport --abort`
    /// always has.
    pub fn cherry_pick_abort(&self) -> Result<(), GitError> {
        self.output(&["cherry-pick", "--abort"])?;
        Ok(())
    }
}
