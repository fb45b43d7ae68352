//! GitHub as a review host: a stand-in written from GitHub's REST documentation
//! (`server`), tests of the stand-in itself (`standin`) and of regraft's client against
//! it (`client`).

mod client;
mod factory;
mod server;
mod stacked;
mod standin;
mod surgery;

use std::path::PathBuf;

use regraft_testkit::Fixture;
use tempfile::TempDir;

pub use server::{Limit, Logged, Rules, Server};

/// The token the stand-in accepts; tests look for it in output.
pub const TOKEN: &str = "ghp_SECRETtok3n0000000000000000000000";
/// The repository served.
pub const REPO: &str = "openstack/kolla";

/// A developer's repository, the bare repository the stand-in serves, and the stand-in.
pub struct World {
    /// Holds the directories for as long as the world lives.
    pub _tmp: TempDir,
    pub work: Fixture,
    pub bare: PathBuf,
    pub server: Server,
}

impl World {
    /// Pushes `refspecs` from the work repository to the served one with `git push`,
    /// returning whether git says it succeeded.
    pub fn push(&self, refspecs: &[&str]) -> bool {
        let bare = self.bare.display().to_string();
        let mut args = vec!["push", "-q", bare.as_str()];
        args.extend_from_slice(refspecs);
        regraft_testkit::git_at(self.work.path(), regraft_testkit::EPOCH).output(&args).is_ok()
    }

    /// Returns the served branch's tip as git reads it, if the branch exists.
    pub fn served_tip(&self, branch: &str) -> Option<String> {
        let reference = format!("refs/heads/{branch}");
        regraft::git::Git::new(&self.bare)
            .isolated()
            .output(&["rev-parse", "--verify", "-q", &reference])
            .ok()
            .map(|out| String::from_utf8_lossy(&out).trim().to_string())
    }
}

/// Builds `main`, `stable/liberty` and `stable/mitaka`, and `features` feature branches
/// `feature-1`... off `stable/liberty` with one commit each, all pushed to a bare
/// repository that a stand-in serves as `openstack/kolla`.
pub fn world(features: usize) -> World {
    let tmp = TempDir::new().expect("temp dir");
    let work = Fixture::init(&tmp.path().join("work"));
    work.commit_file("README", "kolla\n", "Initial commit");
    work.branch("stable/liberty", "main");
    work.branch("stable/mitaka", "main");
    work.checkout("stable/liberty");
    work.commit_file("liberty.txt", "liberty\n", "Liberty release");
    for n in 1..=features {
        work.branch(&format!("feature-{n}"), "stable/liberty");
        work.checkout(&format!("feature-{n}"));
        work.commit_file(&format!("f{n}.txt"), "fix\n", &format!("Fix {n}"));
    }
    work.checkout("main");
    let bare = tmp.path().join("served.git");
    Fixture::init_bare(&bare);
    let server = Server::start(&bare, REPO, TOKEN);
    let world = World { _tmp: tmp, work, bare, server };
    assert!(world.push(&["refs/heads/*:refs/heads/*"]), "the branches are pushed");
    world
}
