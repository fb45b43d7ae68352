//! The patches of many commits (stable patch-ids and, when asked for, the blocks of lines
//! they change), read from `git diff-tree --stdin -p` processes that diff each commit as
//! soon as it is named, so that the caller can name them while it is still finding them.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::thread::JoinHandle;

use super::HistoryError;
use crate::git::{Git, RunningGit};
use crate::oid::ObjectId;
use crate::text::changes::{ChangeReader, FileChange};
use crate::text::patch_id::PatchIdHasher;

/// What one commit's patch says: its stable patch-id and, when asked for, its changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    /// `None` for an empty change.
    pub patch_id: Option<ObjectId>,
    /// The files and line blocks the commit changes against its first parent (empty
    /// unless changes were asked for).
    pub changes: Vec<FileChange>,
    /// A file of the patch is binary (the patch-id then depends on the repository's
    /// abbreviation length and is not cached).
    pub binary: bool,
}

/// What [`patches`] reads of each commit's patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchDetail {
    /// Its patch-id only.
    IdOnly,
    /// Its patch-id and the blocks of lines it changes.
    WithChanges,
}

/// Returns each commit's patch: its stable patch-id (as
/// `git show <commit> | git patch-id --stable` gives it) and, with
/// [`PatchDetail::WithChanges`], the blocks of lines it changes. `jobs` processes diff at
/// once (see [`PatchFeed`]).
pub fn patches(
    git: &Git,
    commits: &[ObjectId],
    jobs: usize,
    detail: PatchDetail,
) -> Result<HashMap<ObjectId, Patch>, HistoryError> {
    let mut feed = PatchFeed::new(git, jobs, detail == PatchDetail::WithChanges);
    for commit in commits {
        feed.send(*commit)?;
    }
    feed.finish()
}

/// Returns the stable patch-id of each commit (`None` for an empty change); see [`patches`].
pub fn patch_ids(
    git: &Git,
    commits: &[ObjectId],
    jobs: usize,
) -> Result<HashMap<ObjectId, Option<ObjectId>>, HistoryError> {
    let patches = patches(git, commits, jobs, PatchDetail::IdOnly)?;
    Ok(patches.into_iter().map(|(id, patch)| (id, patch.patch_id)).collect())
}

/// How many consecutive commits one process is given before the next one is: fewer would
/// not pay for starting a process, and neighbours in history share most of their trees,
/// which a process then reads once (dealt one by one, the processes spent 60% more).
const RUN: usize = 32;

/// Patches of commits named one at a time, computed meanwhile by up to `jobs` `git
/// diff-tree --stdin` processes (diffing is most of the cost, and each process uses one
/// core). Commits are dealt in runs of [`RUN`], round-robin; a process starts when it is
/// given its first run.
pub struct PatchFeed<'g> {
    git: &'g Git,
    jobs: usize,
    with_changes: bool,
    workers: Vec<Worker>,
    sent: Vec<ObjectId>,
}

impl std::fmt::Debug for PatchFeed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatchFeed")
            .field("jobs", &self.jobs)
            .field("processes", &self.workers.len())
            .field("sent", &self.sent.len())
            .finish()
    }
}

/// Commit names written to a process at once: one write per name woke it for each.
const BATCH: usize = 8 * 41;

struct Worker {
    input: std::process::ChildStdin,
    /// Names not yet written.
    pending: Vec<u8>,
    reader: JoinHandle<std::io::Result<Vec<(ObjectId, Patch)>>>,
    running: RunningGit,
}

impl<'g> PatchFeed<'g> {
    pub fn new(git: &'g Git, jobs: usize, with_changes: bool) -> Self {
        PatchFeed { git, jobs: jobs.max(1), with_changes, workers: Vec::new(), sent: Vec::new() }
    }

    /// Has `commit`'s patch computed (by the time [`PatchFeed::finish`] returns).
    pub fn send(&mut self, commit: ObjectId) -> Result<(), HistoryError> {
        let index = (self.sent.len() / RUN) % self.jobs;
        self.sent.push(commit);
        if index == self.workers.len() {
            self.workers.push(self.start()?);
        }
        let worker = &mut self.workers[index];
        worker.pending.extend_from_slice(commit.to_hex().as_bytes());
        worker.pending.push(b'\n');
        if worker.pending.len() >= BATCH {
            worker.flush();
        }
        Ok(())
    }

    fn start(&self) -> Result<Worker, HistoryError> {
        let mut running = crate::git::reads::diff_tree_patches(self.git)?;
        let input = running.take_stdin();
        let stdout = running.take_stdout();
        let with_changes = self.with_changes;
        let reader = std::thread::spawn(move || {
            read_patches(BufReader::with_capacity(1 << 16, stdout), with_changes)
        });
        Ok(Worker { input, pending: Vec::with_capacity(BATCH), reader, running })
    }

    /// Waits for every process and returns the patches of all the commits sent.
    pub fn finish(mut self) -> Result<HashMap<ObjectId, Patch>, HistoryError> {
        // Every input is closed first, so that the processes finish together.
        let workers: Vec<_> = std::mem::take(&mut self.workers)
            .into_iter()
            .map(|mut worker| {
                worker.flush();
                drop(worker.input);
                (worker.reader, worker.running)
            })
            .collect();
        let mut patches = HashMap::with_capacity(self.sent.len());
        let mut failure = None;
        let argv = workers.first().map(|(_, running)| running.argv().to_string());
        for (reader, running) in workers {
            let parsed = reader.join().expect("a patch reader thread does not panic");
            let argv = running.argv().to_string();
            let finished = running.finish();
            let outcome = match parsed {
                Ok(read) => finished.map(|()| read).map_err(HistoryError::from),
                Err(e) => {
                    let ours = HistoryError::Parse { argv, detail: e.to_string() };
                    Err(super::explained(finished, ours))
                }
            };
            match outcome {
                Ok(read) => patches.extend(read),
                Err(error) => failure = failure.or(Some(error)),
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
        // `git diff-tree --stdin` skips a name it cannot read, and exits 0.
        match self.sent.iter().find(|commit| !patches.contains_key(commit)) {
            Some(commit) => Err(HistoryError::Parse {
                argv: argv.unwrap_or_default(),
                detail: format!("no patch for commit {commit}: it cannot be read"),
            }),
            None => Ok(patches),
        }
    }
}

impl Worker {
    fn flush(&mut self) {
        // A process that has stopped reading has failed, and `finish` reports why.
        let _ = self.input.write_all(&self.pending);
        self.pending.clear();
    }
}

/// A feed given up on (an error elsewhere) stops its processes and waits for them, rather
/// than leave them diffing for nobody.
impl Drop for PatchFeed<'_> {
    fn drop(&mut self) {
        for worker in self.workers.drain(..) {
            drop(worker.input);
            worker.running.abandon();
            let _ = worker.reader.join();
        }
    }
}

/// Reads `git diff-tree -p --format=%x00%H` (or `git log -p`) output into each commit's patch, in git's order.
pub fn read_patches(
    mut input: impl BufRead,
    with_changes: bool,
) -> std::io::Result<Vec<(ObjectId, Patch)>> {
    struct Current {
        id: ObjectId,
        hasher: PatchIdHasher,
        changes: Option<ChangeReader>,
    }
    fn done(current: Current) -> (ObjectId, Patch) {
        let changes = current.changes.map(ChangeReader::finish).unwrap_or_default();
        let binary = current.hasher.saw_binary();
        (current.id, Patch { patch_id: current.hasher.finish(), changes, binary })
    }
    let mut out = Vec::new();
    let mut current: Option<Current> = None;
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if let Some(rest) = line.strip_prefix(b"\0") {
            out.extend(current.take().map(done));
            let id = ObjectId::from_hex(rest.trim_ascii_end()).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "unexpected commit line in git log: {:?}",
                        String::from_utf8_lossy(rest)
                    ),
                )
            })?;
            let changes = with_changes.then(ChangeReader::new);
            current = Some(Current { id, hasher: PatchIdHasher::new(), changes });
        } else if let Some(current) = current.as_mut() {
            current.hasher.line(&line);
            if let Some(changes) = current.changes.as_mut() {
                changes.line(&line);
            }
        }
    }
    out.extend(current.take().map(done));
    Ok(out)
}
