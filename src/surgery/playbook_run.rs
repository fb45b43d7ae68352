//! A playbook's run over several repositories, recorded in each of them: which run it is
//! (the playbook's file, name and values) and whether this repository's part is done. A run
//! that was killed with some repositories done, one half done and others not started is
//! finished by running the playbook again: done parts are skipped, a half-done one resumes
//! from its journal, the rest run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::git::repo::Repo;

/// Errors from reading or writing a run record.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookRunError {
    #[error("reading or writing {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} cannot be read ({detail}): it records a playbook run's part in this repository; \
         it is left as it is (move it aside once that run is no concern)"
    )]
    Unreadable { path: PathBuf, detail: String },
    #[error(
        "{path}: the playbook {other} (from {file}) has an unfinished run here; finish it by \
         running that playbook again, or move the file aside"
    )]
    OtherRun { path: PathBuf, other: String, file: PathBuf },
}

/// A record that cannot be read or belongs to another run is the user's to look at; the
/// disk failing is not.
impl ErrorOrigin for PlaybookRunError {
    fn is_user_input(&self) -> bool {
        match self {
            PlaybookRunError::Io { .. } => false,
            PlaybookRunError::Unreadable { .. } | PlaybookRunError::OtherRun { .. } => true,
        }
    }
}

/// Which run of which playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunId {
    /// The playbook's name.
    pub playbook: String,
    /// The playbook file, as an absolute path.
    pub file: PathBuf,
    /// The variables' values as filled in.
    pub values: BTreeMap<String, String>,
}

/// Where one repository's part of a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartState {
    /// Not finished: not started, or its journal holds it.
    Pending,
    /// Every step done and verified.
    Done,
}

/// The record in one repository (`playbook-run.json` in regraft's state directory): the
/// schema of that file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run: RunId,
    /// Every repository of the run, as the playbook names them, and each one's state
    /// directory (where its record is).
    pub repositories: Vec<(String, PathBuf)>,
    /// This repository's part.
    pub state: PartState,
}

const FILE: &str = "playbook-run.json";

/// Returns where a repository keeps its part of a playbook run.
pub fn record_path(repo: &Repo) -> PathBuf {
    repo.state_dir().join(FILE)
}

/// Reads the record of `repo`, if it has one; an unreadable one is an error, never dropped.
pub fn load(repo: &Repo) -> Result<Option<RunRecord>, PlaybookRunError> {
    load_at(&record_path(repo))
}

/// Reads the record in `state_dir` (another repository of a run, as a record names it).
pub fn load_in(state_dir: &Path) -> Result<Option<RunRecord>, PlaybookRunError> {
    load_at(&state_dir.join(FILE))
}

fn load_at(path: &Path) -> Result<Option<RunRecord>, PlaybookRunError> {
    match std::fs::read(path) {
        Ok(text) => serde_json::from_slice(&text).map(Some).map_err(|e| {
            PlaybookRunError::Unreadable { path: path.to_path_buf(), detail: e.to_string() }
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PlaybookRunError::Io { path: path.to_path_buf(), source }),
    }
}

/// Returns this repository's state in `run`: `None` when it has no record of that run.
/// A record of another, unfinished run is an error; one whose part is done is old news.
pub fn state_in(repo: &Repo, run: &RunId) -> Result<Option<PartState>, PlaybookRunError> {
    match load(repo)? {
        Some(record) if record.run == *run => Ok(Some(record.state)),
        Some(record) if record.state == PartState::Pending => Err(PlaybookRunError::OtherRun {
            path: record_path(repo),
            other: record.run.playbook,
            file: record.run.file,
        }),
        _ => Ok(None),
    }
}

/// Writes this repository's record of `run` with `state`.
pub fn write(
    repo: &Repo,
    run: &RunId,
    repositories: &[(String, PathBuf)],
    state: PartState,
) -> Result<(), PlaybookRunError> {
    let path = record_path(repo);
    let record = RunRecord { run: run.clone(), repositories: repositories.to_vec(), state };
    let text = serde_json::to_vec_pretty(&record).expect("a run record serializes");
    crate::state_file::write(&path, &text).map_err(|source| PlaybookRunError::Io { path, source })
}

/// Removes this repository's record (the whole run is done).
pub fn remove(repo: &Repo) -> Result<(), PlaybookRunError> {
    let path = record_path(repo);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(PlaybookRunError::Io { path, source: e })
        }
        _ => Ok(()),
    }
}
