//! GitLab as a review host: a stand-in written from GitLab's REST documentation
//! (`server`), tested with raw requests (`standin`), and regraft's client against it
//! (`client`).

mod client;
mod server;
mod stacked;
mod standin;
pub mod surgery;

use std::path::PathBuf;

use regraft_testkit::{EPOCH, Fixture};
use tempfile::TempDir;

pub use server::{Rule, Server};

/// The project the stand-in serves.
pub const PROJECT: &str = "openstack/kolla";
/// A maintainer's token; tests look for the word to prove it never shows.
pub const TOKEN: &str = "glpat-SECRETtok3n";

/// A project on the stand-in: `main` (the default branch), `stable/liberty`, and `fix-N`
/// branches (N in 1..=fixes) on top of `stable/liberty`, pushed from a clone with git.
#[derive(Debug)]
pub struct World {
    _tmp: TempDir,
    pub bare: PathBuf,
    pub work: Fixture,
    pub server: Server,
}

impl World {
    /// Builds the project with `fixes` fix branches.
    pub fn new(fixes: usize) -> World {
        let tmp = TempDir::new().expect("a temporary directory");
        let bare = tmp.path().join("kolla.git");
        Fixture::init_bare(&bare);
        let server = Server::start(&bare, PROJECT, TOKEN);
        let work = Fixture::init(&tmp.path().join("work"));
        work.commit_file("README", "kolla\n", "Initial commit");
        work.branch("stable/liberty", "main");
        work.checkout("stable/liberty");
        work.commit_file("VERSION", "1.0\n", "Liberty 1.0");
        for n in 1..=fixes {
            work.branch(&format!("fix-{n}"), "stable/liberty");
            work.checkout(&format!("fix-{n}"));
            work.commit_file(&format!("fix-{n}"), "fixed\n", &format!("Fix {n}"));
        }
        work.checkout("main");
        work.git(&["remote", "add", "origin", &format!("file://{}", bare.display())]);
        work.git(&["push", "-q", "origin", "refs/heads/*:refs/heads/*"]);
        World { _tmp: tmp, bare, work, server }
    }

    /// Pushes with git from the clone; the error is git's standard error.
    pub fn push(&self, args: &[&str]) -> Result<(), String> {
        let mut argv = vec!["push", "-q", "origin"];
        argv.extend_from_slice(args);
        regraft_testkit::git_at(self.work.path(), EPOCH)
            .output(&argv)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Returns the commit `branch` names in the stand-in's repository, if it exists.
    pub fn remote_tip(&self, branch: &str) -> Option<String> {
        server::server_git(&self.bare)
            .output(&["rev-parse", "--verify", "-q", &format!("refs/heads/{branch}")])
            .ok()
            .map(|o| String::from_utf8_lossy(&o).trim().to_string())
    }

    /// Returns the API root, `http://127.0.0.1:PORT/api/v4`.
    pub fn api(&self) -> String {
        format!("{}/api/v4", self.server.url())
    }
}
