//! The demo's sample as a team sees it: served from a bare "review server" beside it, and
//! cloned by a developer who has work of their own. Errors are returned, not panicked on:
//! the shipped `demo` builds these.

use std::path::{Path, PathBuf};

use super::ScenarioError;
use super::environment::EPOCH;
use crate::git::GitError;
use crate::git::sample::SampleGit;

/// Returns the commands for the sample repository in `dir`, the clock a year after the
/// history's start.
fn sample_git(dir: &Path) -> SampleGit {
    SampleGit::new(dir, EPOCH + 86_400 * 365)
}

/// Returns a function that names `dir` in an error of git's.
fn in_dir(dir: &Path) -> impl Fn(GitError) -> ScenarioError + use<> {
    let dir = dir.to_path_buf();
    move |source| ScenarioError::Git { dir: dir.clone(), source }
}

/// Adds `line` to the sample's `.git/info/exclude`, so what lives inside its directory
/// stays out of `git status`.
fn exclude(dir: &Path, line: &str) -> Result<(), ScenarioError> {
    let path = dir.join(".git/info/exclude");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(line);
    text.push('\n');
    std::fs::write(&path, text).map_err(|source| ScenarioError::Io { dir: dir.into(), source })
}

/// Serves the sample in `dir` from `dir/server.git`, a bare repository that refuses
/// non-fast-forward pushes as review servers do, and makes it the sample's `origin`
/// (fetched), with the release manager's identity; returns the server's path.
pub fn serve(dir: &Path) -> Result<PathBuf, ScenarioError> {
    let server = dir.join("server.git");
    let (sample, failed) = (sample_git(dir), in_dir(dir));
    sample.clone_bare(dir, &server).map_err(&failed)?;
    let served = sample_git(&server);
    let served_failed = in_dir(&server);
    served.point_head_at("refs/heads/master").map_err(&served_failed)?;
    served.set_config("receive.denyNonFastForwards", "true").map_err(&served_failed)?;
    sample.add_remote("origin", &format!("file://{}", server.display())).map_err(&failed)?;
    sample.set_config("user.name", "Demo Release Manager").map_err(&failed)?;
    sample.set_config("user.email", "release@example.org").map_err(&failed)?;
    exclude(dir, "/server.git/")?;
    sample.fetch("origin").map_err(&failed)?;
    Ok(server)
}

/// Clones the server [`serve`] made into `dir/developer`, checks out `branch` tracking
/// `origin/<branch>` and commits one unpushed change on it; returns the clone's path.
pub fn developer_clone(dir: &Path, branch: &str) -> Result<PathBuf, ScenarioError> {
    let server = dir.join("server.git");
    let dev_dir = dir.join("developer");
    sample_git(dir)
        .clone_from(&format!("file://{}", server.display()), &dev_dir)
        .map_err(in_dir(dir))?;
    exclude(dir, "/developer/")?;
    let (dev, failed) = (sample_git(&dev_dir), in_dir(&dev_dir));
    dev.set_config("user.name", "Demo Developer").map_err(&failed)?;
    dev.set_config("user.email", "developer@example.org").map_err(&failed)?;
    dev.checkout_tracking(branch, &format!("origin/{branch}")).map_err(&failed)?;
    let fix = dev_dir.join("kolla/local_fix.py");
    let io = |source| ScenarioError::Io { dir: dev_dir.clone(), source };
    std::fs::create_dir_all(fix.parent().expect("the file is in a directory")).map_err(io)?;
    std::fs::write(&fix, "FIX = True\n").map_err(io)?;
    dev.commit_everything(b"My unpushed fix for liberty").map_err(&failed)?;
    Ok(dev_dir)
}
