//! One regraft at a time per repository: a lock file under the git directory that names its
//! holder, taken over only when the holder's process is gone.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::repo::Repo;

/// Errors from taking the lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another regraft is working on this repository ({holder}); lock file {path}")]
    Held { holder: String, path: PathBuf },
    #[error("creating the lock {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Holds the repository's lock for as long as it lives.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Takes the lock, or says who holds it.
    pub fn take(repo: &Repo, what: &str) -> Result<Lock, LockError> {
        let dir = repo.state_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|source| LockError::Io { path: dir.clone(), source })?;
        let path = dir.join("lock");
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                let _ = writeln!(file, "pid {} {what}", std::process::id());
                Ok(Lock { path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default().trim().to_string();
                if holder_is_gone(&holder) {
                    // Its process died (killed mid-run): the lock protects nothing now.
                    std::fs::remove_file(&path)
                        .map_err(|source| LockError::Io { path: path.clone(), source })?;
                    return Lock::take(repo, what);
                }
                Err(LockError::Held { holder, path })
            }
            Err(e) => Err(LockError::Io { path, source: e }),
        }
    }
}

/// Tells whether the process named in a lock file (`pid N ...`) no longer runs. Only Linux's
/// `/proc` can say; elsewhere a lock is never presumed stale.
fn holder_is_gone(holder: &str) -> bool {
    let pid = holder.strip_prefix("pid ").and_then(|rest| rest.split_whitespace().next());
    match pid.and_then(|p| p.parse::<u32>().ok()) {
        Some(pid) if Path::new("/proc/self").exists() => {
            pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
