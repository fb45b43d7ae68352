//! The demo's sample as a team sees it: served from a bare "review server" beside it, and
//! cloned by a developer who has work of their own. Errors are returned, not panicked on:
//! the shipped `demo` builds these.

use std::cell::Cell;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::ScenarioError;
use super::environment::{EPOCH, git_command};

/// A repository of the sample's that git commands run in, with a clock a minute per call.
struct SampleRepo {
    dir: PathBuf,
    clock: Cell<i64>,
}

impl SampleRepo {
    fn open(dir: &Path) -> SampleRepo {
        SampleRepo { dir: dir.to_path_buf(), clock: Cell::new(EPOCH + 86_400 * 365) }
    }

    fn git<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<(), ScenarioError> {
        self.git_with_input(args, &[])
    }

    fn git_with_input<S: AsRef<OsStr>>(
        &self,
        args: &[S],
        input: &[u8],
    ) -> Result<(), ScenarioError> {
        self.clock.set(self.clock.get() + 60);
        let mut command = git_command(&self.dir, self.clock.get());
        command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        crate::git::trace(&command);
        let io = |source| ScenarioError::Io { dir: self.dir.clone(), source };
        let mut child = command.spawn().map_err(io)?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin.write_all(input).map_err(io)?;
        drop(stdin);
        let out = child.wait_with_output().map_err(io)?;
        if !out.status.success() {
            let argv: Vec<_> =
                args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
            return Err(ScenarioError::Git {
                what: argv.join(" "),
                dir: self.dir.clone(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(())
    }
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
    let sample = SampleRepo::open(dir);
    sample.git(&[
        OsStr::new("clone"),
        OsStr::new("-q"),
        OsStr::new("--bare"),
        dir.as_os_str(),
        server.as_os_str(),
    ])?;
    let served = SampleRepo::open(&server);
    served.git(&["symbolic-ref", "HEAD", "refs/heads/master"])?;
    served.git(&["config", "receive.denyNonFastForwards", "true"])?;
    sample.git(&["remote", "add", "origin", &format!("file://{}", server.display())])?;
    sample.git(&["config", "user.name", "Demo Release Manager"])?;
    sample.git(&["config", "user.email", "release@example.org"])?;
    exclude(dir, "/server.git/")?;
    sample.git(&["fetch", "-q", "origin"])?;
    Ok(server)
}

/// Clones the server [`serve`] made into `dir/developer`, checks out `branch` tracking
/// `origin/<branch>` and commits one unpushed change on it; returns the clone's path.
pub fn developer_clone(dir: &Path, branch: &str) -> Result<PathBuf, ScenarioError> {
    let server = dir.join("server.git");
    let dev_dir = dir.join("developer");
    let sample = SampleRepo::open(dir);
    sample.git(&[
        OsStr::new("clone"),
        OsStr::new("-q"),
        OsStr::new(&format!("file://{}", server.display())),
        dev_dir.as_os_str(),
    ])?;
    exclude(dir, "/developer/")?;
    let dev = SampleRepo::open(&dev_dir);
    dev.git(&["config", "user.name", "Demo Developer"])?;
    dev.git(&["config", "user.email", "developer@example.org"])?;
    dev.git(&["checkout", "-q", "-b", branch, "--track", &format!("origin/{branch}")])?;
    let fix = dev_dir.join("kolla/local_fix.py");
    let io = |source| ScenarioError::Io { dir: dev_dir.clone(), source };
    std::fs::create_dir_all(fix.parent().expect("the file is in a directory")).map_err(io)?;
    std::fs::write(&fix, "FIX = True\n").map_err(io)?;
    dev.git(&["add", "-A"])?;
    dev.git_with_input(
        &["commit", "-q", "--allow-empty", "--cleanup=verbatim", "-F", "-"],
        b"My unpushed fix for liberty",
    )?;
    Ok(dev_dir)
}
