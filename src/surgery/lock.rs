//! One regraft at a time per repository: a lock file in regraft's state directory that
//! names its holder (pid, the process's start time, the machine's boot), taken over only
//! when that process is provably gone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::git::repo::Repo;

/// How old an empty or unreadable lock must be before it is taken as stale. Locks are
/// written whole (see [`Lock::take`]), so only an older regraft or a damaged disk leaves
/// one; the wait covers a writer that creates the file before filling it.
pub const UNREADABLE_STALE_AFTER: Duration = Duration::from_secs(5);

/// Errors from taking the lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another regraft is working on this repository ({holder}); lock file {path}")]
    Held { holder: String, path: PathBuf },
    #[error(
        "the lock file {path} is empty or unreadable and only {age} s old: a regraft may be \
         writing it; it is taken as stale once it is {} s old",
        UNREADABLE_STALE_AFTER.as_secs()
    )]
    Unreadable { path: PathBuf, age: u64 },
    #[error("creating the lock {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Another regraft at work is the user's state; so is a git directory the lock cannot be
/// made in (a repository they may not write to).
impl crate::ErrorOrigin for LockError {
    fn is_user_input(&self) -> bool {
        match self {
            LockError::Held { .. } | LockError::Unreadable { .. } | LockError::Io { .. } => true,
        }
    }
}

/// Holds the repository's lock for as long as it lives.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

/// Who holds a lock, as its file says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    pid: u32,
    /// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks since boot.
    start: Option<u64>,
    boot: Option<String>,
    host: Option<String>,
    what: String,
}

impl Holder {
    /// Returns the current process as a holder.
    fn me(what: &str) -> Holder {
        let pid = std::process::id();
        Holder {
            pid,
            start: start_time(pid),
            boot: boot_id(),
            host: host_name(),
            what: what.into(),
        }
    }

    fn render(&self) -> String {
        let mut text = format!("regraft-lock 1\npid {}\n", self.pid);
        if let Some(start) = self.start {
            text.push_str(&format!("start {start}\n"));
        }
        if let Some(boot) = &self.boot {
            text.push_str(&format!("boot {boot}\n"));
        }
        if let Some(host) = &self.host {
            text.push_str(&format!("host {host}\n"));
        }
        // One line: a name with a newline cannot forge the fields above.
        text.push_str(&format!("what {}\n", self.what.replace(['\n', '\r'], " ")));
        text
    }

    fn parse(text: &str) -> Option<Holder> {
        let mut lines = text.lines();
        if lines.next()? != "regraft-lock 1" {
            return None;
        }
        let (mut pid, mut start, mut boot, mut host, mut what) = (None, None, None, None, None);
        for line in lines {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "pid" => pid = Some(value.parse().ok()?),
                "start" => start = Some(value.parse().ok()?),
                "boot" => boot = Some(value.to_string()),
                "host" => host = Some(value.to_string()),
                "what" => what = Some(value.to_string()),
                _ => {}
            }
        }
        Some(Holder { pid: pid?, start, boot, host, what: what? })
    }

    fn describe(&self) -> String {
        match &self.host {
            Some(host) => format!("pid {} on {host}: {}", self.pid, self.what),
            None => format!("pid {}: {}", self.pid, self.what),
        }
    }

    /// Tells why this holder no longer runs, or `None` when it may still run (or this
    /// machine cannot tell).
    fn gone(&self) -> Option<String> {
        let me = Holder::me("");
        if self.host.is_some() && me.host.is_some() && self.host != me.host {
            // Another machine sharing the directory: its processes are not ours to judge.
            return None;
        }
        if self.boot.is_some() && me.boot.is_some() && self.boot != me.boot {
            return Some("it was taken before this machine last started".into());
        }
        if !Path::new("/proc/self/stat").exists() {
            return None;
        }
        match (start_time(self.pid), self.start) {
            (None, _) => Some(format!("process {} no longer runs", self.pid)),
            (Some(now), Some(then)) if now != then => {
                Some(format!("pid {} is now another process", self.pid))
            }
            _ => None,
        }
    }
}

impl Lock {
    /// Takes the lock, or says who holds it. A lock whose holder is gone (killed mid-run,
    /// a machine restart, a pid now used by another process) or that is empty or unreadable
    /// and older than [`UNREADABLE_STALE_AFTER`] is taken over, with a note on stderr.
    pub fn take(repo: &Repo, what: &str) -> Result<Lock, LockError> {
        let dir = repo.state_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|source| LockError::Io { path: dir.clone(), source })?;
        let path = dir.join("lock");
        // The content is written whole to a file of its own, then linked into place: the
        // link fails if the lock exists (exclusive like O_EXCL), and a kill at any moment
        // leaves either no lock or a complete one.
        let mut temp = tempfile::Builder::new()
            .prefix("lock.")
            .suffix(".new")
            .tempfile_in(&dir)
            .map_err(|source| LockError::Io { path: dir.clone(), source })?;
        let temp_path = temp.path().to_path_buf();
        let io = |source| LockError::Io { path: temp_path.clone(), source };
        temp.write_all(Holder::me(what).render().as_bytes()).map_err(io)?;
        temp.as_file().sync_all().map_err(io)?;
        for _ in 0..3 {
            match std::fs::hard_link(temp.path(), &path) {
                Ok(()) => return Ok(Lock { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    take_over_if_stale(&path)?;
                }
                Err(source) => return Err(LockError::Io { path, source }),
            }
        }
        // Three rounds lost against other regrafts taking the lock: one of them holds it.
        let holder = std::fs::read_to_string(&path).ok().and_then(|t| Holder::parse(&t));
        Err(LockError::Held { holder: holder.map_or("unknown".into(), |h| h.describe()), path })
    }
}

/// Removes the lock at `path` if its holder is gone; returns an error naming the holder
/// when it may still run. Only the very file judged stale is removed: it is renamed aside
/// first and checked to be the same file, so a lock another regraft took meanwhile stays.
fn take_over_if_stale(path: &Path) -> Result<(), LockError> {
    use std::os::unix::fs::MetadataExt;
    let io = |source| LockError::Io { path: path.to_path_buf(), source };
    let (text, meta) = match (std::fs::read(path), std::fs::symlink_metadata(path)) {
        (Ok(text), Ok(meta)) => (text, meta),
        // Released between the link and the read: try again.
        (Err(e), _) | (_, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        (Err(e), _) | (_, Err(e)) => return Err(io(e)),
    };
    let reason = match std::str::from_utf8(&text).ok().and_then(Holder::parse) {
        Some(holder) => match holder.gone() {
            Some(reason) => format!("{}; {reason}", holder.describe()),
            None => {
                return Err(LockError::Held { holder: holder.describe(), path: path.into() });
            }
        },
        None => {
            let age = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .unwrap_or_default();
            if age < UNREADABLE_STALE_AFTER {
                return Err(LockError::Unreadable { path: path.into(), age: age.as_secs() });
            }
            let what = if text.is_empty() { "empty" } else { "unreadable" };
            format!("it is {what} and {} s old", age.as_secs())
        }
    };
    let aside = path.with_file_name(format!("lock.stale-{}", std::process::id()));
    match std::fs::rename(path, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    }
    let same = std::fs::symlink_metadata(&aside)
        .is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev());
    if !same {
        // Another regraft replaced the stale lock with its own between our read and the
        // rename: give it back (unless a third one holds the lock by now) and stop.
        let _ = std::fs::hard_link(&aside, path);
        let _ = std::fs::remove_file(&aside);
        let holder = std::fs::read_to_string(path).ok().and_then(|t| Holder::parse(&t));
        return Err(LockError::Held {
            holder: holder.map_or("unknown".into(), |h| h.describe()),
            path: path.into(),
        });
    }
    let _ = std::fs::remove_file(&aside);
    // Wrapped to 80 columns, as the command line's own status lines are.
    let said = format!("regraft: took over the stale lock {} ({reason})", path.display());
    let options = textwrap::Options::new(80).subsequent_indent("  ").break_words(false);
    eprintln!("{}", textwrap::fill(&said, options));
    Ok(())
}

/// Returns when process `pid` started (field 22 of `/proc/<pid>/stat`), or `None` when it
/// does not run or this is not Linux.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    let (_, rest) = stat.rsplit_once(')')?;
    // `rest` starts at field 3.
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(id.trim().to_string()).filter(|id| !id.is_empty())
}

fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().to_string()).filter(|name| !name.is_empty())
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_reads_back_as_written() {
        let me = Holder::me("replace stable/liberty\nforged 1");
        let read = Holder::parse(&me.render()).expect("parses");
        assert_eq!(read.pid, me.pid);
        assert_eq!(read.what, "replace stable/liberty forged 1");
        assert!(read.gone().is_none(), "this process runs");
        assert!(Holder::parse("pid 12 backport").is_none());
        assert!(Holder::parse("").is_none());
    }
}
