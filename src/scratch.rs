//! Scratch object directories: git writes the trees and commits a dry run or a plan needs
//! into a temporary directory that has the repository's objects as an alternate, so the
//! repository itself never gets an object from them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::repo::Repo;

/// A temporary object directory, removed when dropped.
#[derive(Debug)]
pub struct ScratchObjects {
    dir: tempfile::TempDir,
    real: PathBuf,
}

impl ScratchObjects {
    /// Creates one for `repo`; `purpose` goes into its name (`regraft-<purpose>-...`).
    pub fn new(repo: &Repo, purpose: &str) -> std::io::Result<ScratchObjects> {
        let dir =
            tempfile::Builder::new().prefix(&format!("regraft-{purpose}-")).tempdir_in(parent())?;
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

/// Where scratch directories go: memory-backed `/dev/shm` when there is one (merges write
/// thousands of small loose objects), else the usual temporary directory.
pub fn parent() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let writable = shm.is_dir()
        && std::fs::metadata(shm).is_ok_and(|m| !m.permissions().readonly())
        && tempfile::tempfile_in(shm).is_ok();
    if writable { shm.to_path_buf() } else { std::env::temp_dir() }
}
