//! Scratch object directories: git writes the trees and commits a dry run or a plan needs
//! into a temporary directory that has the repository's objects as an alternate, so the
//! repository itself never gets an object from them. Each is named after the process that
//! made it, so one left by a killed process is removed by the next, and the live ones are
//! known to [`remove_live`], which the command line calls on Ctrl-C.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::git::repo::Repo;

/// Environment variable naming the directory scratch directories go in (default: `/dev/shm`
/// when writable, else the temporary directory).
pub const DIR_VAR: &str = "REGRAFT_SCRATCH_DIR";

/// The scratch directories this process has now, for [`remove_live`].
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary object directory, removed when dropped.
#[derive(Debug)]
pub struct ScratchObjects {
    dir: tempfile::TempDir,
    real: PathBuf,
}

impl ScratchObjects {
    /// Creates one for `repo`, named `regraft-<purpose>-<pid>-XXXX`, and removes the
    /// scratch directories in the same place that processes no longer running left.
    pub fn new(repo: &Repo, purpose: &str) -> std::io::Result<ScratchObjects> {
        let parent = parent();
        let dir = tempfile::Builder::new()
            .prefix(&format!("regraft-{purpose}-{}-", std::process::id()))
            .tempdir_in(&parent)?;
        live().push(dir.path().to_path_buf());
        remove_stale(&parent, dir.path());
        Ok(ScratchObjects { dir, real: repo.objects_dir() })
    }

    /// Returns where the objects go.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Returns the environment that points git's object writes here and its reads here and
    /// at the repository's objects.
    pub fn env(&self) -> [(&str, &OsStr); 2] {
        [
            ("GIT_OBJECT_DIRECTORY", self.dir.path().as_os_str()),
            ("GIT_ALTERNATE_OBJECT_DIRECTORIES", self.real.as_os_str()),
        ]
    }
}

impl Drop for ScratchObjects {
    fn drop(&mut self) {
        live().retain(|p| p != self.dir.path());
        // The TempDir removes the directory itself.
    }
}

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A panic while the list was held leaves it whole: keep using it.
    LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes every scratch directory this process has now: for a signal handler, which then
/// exits without running destructors.
pub fn remove_live() {
    for dir in live().drain(..) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Removes the scratch directories in `parent` whose process no longer runs: named
/// `regraft-<purpose>-<pid>-...`, real directories (a symbolic link is never followed nor
/// removed), owned by the same user as `ours`. Only Linux's `/proc` can tell a process
/// runs; elsewhere nothing is removed.
fn remove_stale(parent: &Path, ours: &Path) {
    use std::os::unix::fs::MetadataExt;
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(uid) = std::fs::symlink_metadata(ours).map(|m| m.uid()) else { return };
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(scratch_pid) else { continue };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let path = entry.path();
        // symlink_metadata: a link is seen as a link, not as what it points at.
        let owned_dir =
            std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir() && m.uid() == uid);
        if owned_dir {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Returns the pid in a scratch directory's name (`regraft-<purpose>-<pid>-<random>`).
fn scratch_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("regraft-")?;
    let mut parts = rest.rsplitn(3, '-');
    let (_random, pid, purpose) = (parts.next()?, parts.next()?, parts.next()?);
    if purpose.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Where scratch directories go: `REGRAFT_SCRATCH_DIR` when set, else memory-backed
/// `/dev/shm` when there is one (merges write thousands of small loose objects), else the
/// usual temporary directory.
pub fn parent() -> PathBuf {
    if let Some(dir) = std::env::var_os(DIR_VAR).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let shm = Path::new("/dev/shm");
    let writable = shm.is_dir()
        && std::fs::metadata(shm).is_ok_and(|m| !m.permissions().readonly())
        && tempfile::tempfile_in(shm).is_ok();
    if writable { shm.to_path_buf() } else { std::env::temp_dir() }
}

#[cfg(test)]
mod tests {
    use super::scratch_pid;

    #[test]
    fn the_pid_is_read_from_the_name() {
        assert_eq!(scratch_pid("regraft-objects-1234-aB3xYz"), Some(1234));
        assert_eq!(scratch_pid("regraft-objects-aB3xYz"), None, "the old names carry no pid");
        assert_eq!(scratch_pid("regraft--1234-x"), None);
        assert_eq!(scratch_pid("other-objects-1234-x"), None);
    }
}
