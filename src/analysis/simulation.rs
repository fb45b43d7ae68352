//! Cherry-picks predicted without touching the repository: each pick is the three-way merge
//! `git cherry-pick` performs (the commit against its first parent, onto the result so far),
//! done by `git merge-tree` so the answer is merge-ort's, bit for bit.
//!
//! New objects go to a temporary object directory that borrows the repository's objects as
//! an alternate; it is deleted afterwards, so a simulation writes nothing to the repository
//! (and works in bare repositories and with no work tree).

use std::ffi::OsStr;
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::git::reads::{self, MergeObjects};
use crate::git::repo::{Repo, RepoError};
use crate::git::{Conversation, Git, GitError};
use crate::oid::ObjectId;
use crate::progress::Progress;

mod cache;

/// Errors from simulating picks.
#[derive(Debug, thiserror::Error)]
pub enum SimulationError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("creating a temporary object directory")]
    Scratch(#[source] std::io::Error),
    #[error("unexpected answer from `{argv}`: {detail}")]
    Parse { argv: String, detail: String },
    #[error("{commit} is a root commit: there is no parent to pick it against")]
    Root { commit: String },
}

/// The simulation picks commits the analysis found, so none of its failures is the user's.
impl crate::ErrorOrigin for SimulationError {
    fn is_user_input(&self) -> bool {
        match self {
            SimulationError::Git(_)
            | SimulationError::Repo(_)
            | SimulationError::Scratch(_)
            | SimulationError::Parse { .. }
            | SimulationError::Root { .. } => false,
        }
    }
}

/// What a pick would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Applies cleanly and changes something.
    Clean,
    /// Applies cleanly and changes nothing (already there).
    Empty,
    /// Conflicts; the simulation goes on from the last good result.
    Conflict,
}

/// One predicted pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    pub commit: ObjectId,
    pub outcome: Outcome,
    /// Paths with conflicts, for a conflicting pick.
    pub conflicts: Vec<String>,
    /// The tree after this pick (unchanged after an empty or conflicting one).
    pub tree: ObjectId,
}

/// A simulated sequence of picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulation {
    pub onto: ObjectId,
    pub picks: Vec<Pick>,
    pub final_tree: ObjectId,
    /// What the picks change in all, from `onto`'s tree to the final tree (when asked for).
    pub stat: Option<DiffStat>,
    /// How many picks were answered from the simulation cache rather than by git.
    pub reused: usize,
}

/// The size of a change, as `git diff --shortstat` counts it (renames detected).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffStat {
    pub files: usize,
    pub insertions: usize,
    pub deletions: usize,
}

/// Returns `git diff --shortstat --find-renames from to` for two trees or commits; `env`
/// lets git see objects of a scratch object directory.
pub fn diff_stat(
    git: &Git,
    from: ObjectId,
    to: ObjectId,
    env: &[(&str, &OsStr)],
) -> Result<DiffStat, GitError> {
    let out = reads::diff_shortstat(git, from, to, env)?;
    let text = String::from_utf8_lossy(&out);
    let mut stat = DiffStat::default();
    // " 3 files changed, 10 insertions(+), 2 deletions(-)"; parts with zero are left out.
    for part in text.split(',') {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next(), words.next()) else { continue };
        let n: usize = n.parse().unwrap_or(0);
        if what.starts_with("file") {
            stat.files = n;
        } else if what.starts_with("insertion") {
            stat.insertions = n;
        } else if what.starts_with("deletion") {
            stat.deletions = n;
        }
    }
    Ok(stat)
}

impl DiffStat {
    fn counts(self) -> [u32; 3] {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        [n(self.files), n(self.insertions), n(self.deletions)]
    }

    fn from_counts([files, insertions, deletions]: [u32; 3]) -> DiffStat {
        DiffStat {
            files: files as usize,
            insertions: insertions as usize,
            deletions: deletions as usize,
        }
    }
}

/// Returns [`diff_stat`] of two commits of `repo` if the simulation cache knows it.
pub fn known_diff_stat(repo: &Repo, from: ObjectId, to: ObjectId) -> Option<DiffStat> {
    let cache = cache::Cache::open_stats(repo, &repo.state_dir())?;
    cache.stat(from, to).map(DiffStat::from_counts)
}

/// Keeps [`diff_stat`] of two commits of `repo` in the simulation cache.
pub fn keep_diff_stat(repo: &Repo, from: ObjectId, to: ObjectId, stat: DiffStat) {
    if let Some(cache) = cache::Cache::open_stats(repo, &repo.state_dir()) {
        cache.put_stat(from, to, stat.counts());
    }
}

/// A commit to pick and its first parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToPick {
    pub commit: ObjectId,
    pub parent: Option<ObjectId>,
}

/// Predicts picking `commits` in order onto commit `onto`, skipping those that conflict.
pub fn simulate(
    repo: &Repo,
    onto: ObjectId,
    commits: &[ToPick],
    progress: &dyn Progress,
) -> Result<Simulation, SimulationError> {
    simulate_with_stat(repo, onto, commits, false, progress)
}

/// Reads the inputs every simulation's merges depend on (see [`crate::git::merge_inputs`])
/// once, for threads that each open the repository and simulate: each has its handle use
/// them with [`crate::git::merge_inputs::SharedInputs::remember_in`].
pub fn shared_merge_inputs(repo: &Repo) -> crate::git::merge_inputs::SharedInputs {
    crate::git::merge_inputs::SharedInputs::read(
        repo,
        MergeObjects::Scratch.args(),
        repo.work_tree(),
    )
}

/// Like [`simulate`], and with `with_stat` also measures the whole change (before the
/// scratch objects it needs are gone).
///
/// Merges asked before under the same inputs are answered from the simulation cache
/// (`.git/regraft/merges-v1`, with the trees they wrote in `.git/regraft/merge-objects/`);
/// see [`crate::git::merge_inputs`] for what the inputs are. Where they cannot be known
/// exactly, or `regraft.mergeCache` is false, nothing is cached. A cached run that fails
/// (the cache's objects gone, say) is run again without the cache, which is removed.
pub fn simulate_with_stat(
    repo: &Repo,
    onto: ObjectId,
    commits: &[ToPick],
    with_stat: bool,
    progress: &dyn Progress,
) -> Result<Simulation, SimulationError> {
    let state = repo.state_dir();
    let Some(cache) = cache::Cache::open(repo, &state) else {
        return simulate_in(repo, onto, commits, with_stat, progress, None);
    };
    match simulate_in(repo, onto, commits, with_stat, progress, Some(&cache)) {
        Err(_) if cache.reused() > 0 => {
            cache::Cache::remove(&state);
            simulate_in(repo, onto, commits, with_stat, progress, None)
        }
        done => {
            cache.keep();
            done
        }
    }
}

fn simulate_in(
    repo: &Repo,
    onto: ObjectId,
    commits: &[ToPick],
    with_stat: bool,
    progress: &dyn Progress,
    cache: Option<&cache::Cache>,
) -> Result<Simulation, SimulationError> {
    // Merges write into a scratch directory (in memory where there is one); the trees a
    // cached run's merges wrote are packed into the cache's object directory afterwards,
    // one file rather than thousands, and read from there as an alternate.
    let scratch = crate::git::scratch::ScratchObjects::new(repo, "objects")
        .map_err(SimulationError::Scratch)?;
    let merge_objects = MergeObjects::Scratch;
    let mut alternates = repo.objects_dir().into_os_string();
    if let Some(cache) = cache {
        alternates.push(":");
        alternates.push(cache.objects());
    }
    let env: Vec<(&str, &OsStr)> = vec![
        ("GIT_OBJECT_DIRECTORY", scratch.path().as_os_str()),
        ("GIT_ALTERNATE_OBJECT_DIRECTORIES", alternates.as_os_str()),
    ];
    let git = repo.git();
    let mut tree = repo.tree_of(onto)?;
    let mut merger: Option<Merger<'_>> = None;
    let mut picks = Vec::with_capacity(commits.len());
    progress.start("simulating picks", commits.len());
    for pick in commits {
        let parent =
            pick.parent.ok_or_else(|| SimulationError::Root { commit: pick.commit.short() })?;
        let known = cache.and_then(|c| c.get(parent, tree, pick.commit));
        let answer = match known {
            Some(answer) => answer,
            None => {
                if merger.is_none() {
                    // Run at the top of the work tree, as `git cherry-pick` runs: git reads the
                    // work tree's `.gitattributes` files relative to where it runs.
                    merger = Some(Merger::start_with(git, &env, merge_objects, repo.work_tree())?);
                }
                let merger = merger.as_mut().expect("started above");
                let answer = merger.merge(parent, tree, pick.commit)?;
                if let Some(cache) = cache {
                    cache.put(parent, tree, pick.commit, &answer);
                }
                answer
            }
        };
        let outcome = match &answer {
            Answer { clean: false, .. } => Outcome::Conflict,
            Answer { tree: result, .. } if *result == tree => Outcome::Empty,
            Answer { .. } => Outcome::Clean,
        };
        if outcome == Outcome::Clean {
            tree = answer.tree;
        }
        picks.push(Pick { commit: pick.commit, outcome, conflicts: answer.conflicts, tree });
        progress.advance(1);
    }
    if let Some(merger) = merger {
        merger.finish()?;
    }
    progress.finish();
    let stat = if with_stat {
        let from = repo.tree_of(onto)?;
        Some(match cache.and_then(|c| c.stat(from, tree)) {
            Some(counts) => DiffStat::from_counts(counts),
            None => {
                let stat = diff_stat(git, from, tree, &env)?;
                if let Some(cache) = cache {
                    cache.put_stat(from, tree, stat.counts());
                }
                stat
            }
        })
    } else {
        None
    };
    if let Some(cache) = cache
        && reused_less_than(cache, commits.len())
    {
        cache.pack(git, scratch.path(), &repo.objects_dir())?;
    }
    let reused = cache.map_or(0, cache::Cache::reused);
    Ok(Simulation { onto, picks, final_tree: tree, stat, reused })
}

/// Tells whether some merge of the run was not answered from the cache.
fn reused_less_than(cache: &cache::Cache, merges: usize) -> bool {
    cache.reused() < merges
}

/// One merge's answer from `git merge-tree`.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub clean: bool,
    pub tree: ObjectId,
    pub conflicts: Vec<String>,
}

/// `git merge-tree --write-tree`, kept running when it can answer one merge at a time.
pub(crate) enum Merger<'a> {
    Session(Conversation),
    /// No way to read answers one by one: one process per merge (writing where these say).
    PerMerge(&'a Git, &'a [(&'a str, &'a OsStr)], MergeObjects, Option<&'a std::path::Path>),
}

impl<'a> Merger<'a> {
    /// Starts the merger; `env` may point git's object directory elsewhere.
    pub(crate) fn start(
        git: &'a Git,
        env: &'a [(&'a str, &'a OsStr)],
    ) -> Result<Self, SimulationError> {
        Self::start_with(git, env, MergeObjects::Kept, None)
    }

    /// Starts a merger that writes into the scratch object directory `env` names, whose
    /// objects are thrown away afterwards.
    pub(crate) fn start_in_scratch(
        git: &'a Git,
        env: &'a [(&'a str, &'a OsStr)],
    ) -> Result<Self, SimulationError> {
        Self::start_with(git, env, MergeObjects::Scratch, None)
    }

    pub(crate) fn start_with(
        git: &'a Git,
        env: &'a [(&'a str, &'a OsStr)],
        objects: MergeObjects,
        work_tree: Option<&'a std::path::Path>,
    ) -> Result<Self, SimulationError> {
        Ok(match reads::merge_tree_session(git, env, objects, work_tree)? {
            Some(session) => Merger::Session(session),
            None => Merger::PerMerge(git, env, objects, work_tree),
        })
    }

    /// Merges `theirs` into tree `ours` with `base` as the merge base: a cherry-pick of
    /// `theirs` when `base` is its parent.
    pub(crate) fn merge(
        &mut self,
        base: ObjectId,
        ours: ObjectId,
        theirs: ObjectId,
    ) -> Result<Answer, SimulationError> {
        match self {
            Merger::Session(session) => {
                session.send(format!("{base} -- {ours} {theirs}\n").as_bytes())?;
                let argv = session.argv().to_string();
                // With --stdin, each answer starts with 1 (clean) or 0 (conflicts).
                let status = read_token(session.answers(), &argv)?;
                let clean = match status.as_slice() {
                    b"1" => true,
                    b"0" => false,
                    other => {
                        return Err(parse_error(
                            &argv,
                            format!("status {:?}", String::from_utf8_lossy(other)),
                        ));
                    }
                };
                read_answer(session.answers(), &argv, clean)
            }
            Merger::PerMerge(git, env, objects, work_tree) => {
                let out =
                    reads::merge_tree_once(git, env, *objects, *work_tree, base, ours, theirs)?;
                read_answer(&mut std::io::Cursor::new(out.stdout), &out.argv, out.clean)
            }
        }
    }

    pub(crate) fn finish(self) -> Result<(), SimulationError> {
        match self {
            Merger::Session(session) => Ok(session.finish()?),
            Merger::PerMerge(..) => Ok(()),
        }
    }
}

fn parse_error(argv: &str, detail: String) -> SimulationError {
    SimulationError::Parse { argv: argv.to_string(), detail }
}

fn read_token(input: &mut impl BufRead, argv: &str) -> Result<Vec<u8>, SimulationError> {
    read_token_or_end(input, argv)?.ok_or_else(|| parse_error(argv, "git stopped answering".into()))
}

/// Reads one NUL-terminated token, or `None` at the end of the output.
fn read_token_or_end(
    input: &mut impl BufRead,
    argv: &str,
) -> Result<Option<Vec<u8>>, SimulationError> {
    let mut token = Vec::new();
    input.read_until(0, &mut token).map_err(|e| parse_error(argv, e.to_string()))?;
    if token.is_empty() {
        return Ok(None);
    }
    if token.pop() != Some(0) {
        return Err(parse_error(argv, "an answer cut short".into()));
    }
    Ok(Some(token))
}

/// Reads `<tree> NUL <conflicted path> NUL ... NUL`, the rest of one answer of
/// `git merge-tree --write-tree --name-only -z --no-messages`: with `--stdin` the conflicted
/// paths end with an empty field; for a single merge, the output ends.
fn read_answer(
    input: &mut impl BufRead,
    argv: &str,
    clean: bool,
) -> Result<Answer, SimulationError> {
    let tree_hex = read_token(input, argv)?;
    let tree = ObjectId::from_hex(&tree_hex).ok_or_else(|| {
        parse_error(argv, format!("tree {:?}", String::from_utf8_lossy(&tree_hex)))
    })?;
    let mut conflicts: Vec<String> = Vec::new();
    while let Some(path) = read_token_or_end(input, argv)? {
        if path.is_empty() {
            break;
        }
        let path = String::from_utf8_lossy(&path).into_owned();
        if conflicts.last() != Some(&path) {
            conflicts.push(path);
        }
    }
    conflicts.sort();
    conflicts.dedup();
    Ok(Answer { clean, tree, conflicts })
}
