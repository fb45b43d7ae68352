//! How candidate fixes would go onto every maintained branch at once: already there (and by
//! which evidence), clean, empty, conflicting, or needing other commits first, with the
//! verdict of each branch's policy phase. One simulation per branch; branches in parallel.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::analysis::backport::PolicyCheck;
use crate::analysis::delta::{self, DeltaError, DeltaOptions, Evidence};
use crate::analysis::deps::{self, DepsError, DepsOptions};
use crate::analysis::policy::PolicyError;
use crate::analysis::simulation::{self, SimulationError, ToPick};
use crate::git::merge_inputs::SharedInputs;
use crate::git::repo::{Repo, RepoError};
use crate::git::{Git, GitError, reads};
use crate::oid::ObjectId;
use crate::progress::Silent;

/// Errors from forecasting.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Delta(#[from] DeltaError),
    #[error(transparent)]
    Deps(#[from] DepsError),
    #[error(transparent)]
    Simulation(#[from] SimulationError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("`{range}` is not a range: give BASE..TIP (or use --since, or --stdin)")]
    NotARange { range: String },
    #[error("`{spec}` ({commit}) is a merge; only single-parent commits can be cherry-picked")]
    Merge { spec: String, commit: String },
    #[error("`{spec}` ({commit}) is a root commit: there is no parent to pick it against")]
    Root { spec: String, commit: String },
    #[error("no candidates: {why}")]
    NoCandidates { why: String },
    #[error(
        "`{branch}` and `{source_name}` have unrelated histories (no commit is on both): \
         nothing can be forecast there"
    )]
    Unrelated { branch: String, source_name: String },
    #[error("unexpected answer from git: {detail}")]
    Parse { detail: String },
    #[error("forecasting onto `{branch}`")]
    Branch {
        branch: String,
        #[source]
        source: Box<ForecastError>,
    },
}

impl ErrorOrigin for ForecastError {
    fn is_user_input(&self) -> bool {
        match self {
            ForecastError::Repo(e) => e.is_user_input(),
            ForecastError::Git(_) | ForecastError::Parse { .. } => false,
            ForecastError::Delta(e) => e.is_user_input(),
            ForecastError::Deps(e) => e.is_user_input(),
            ForecastError::Simulation(e) => e.is_user_input(),
            ForecastError::Policy(e) => e.is_user_input(),
            ForecastError::Branch { source, .. } => source.is_user_input(),
            ForecastError::NotARange { .. }
            | ForecastError::Merge { .. }
            | ForecastError::Root { .. }
            | ForecastError::NoCandidates { .. }
            | ForecastError::Unrelated { .. } => true,
        }
    }
}

/// A commit to forecast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub commit: ObjectId,
    pub summary: String,
    /// Its first parent (what a cherry-pick diffs it against).
    #[serde(skip)]
    pub parent: Option<ObjectId>,
}

/// A branch to forecast onto.
#[derive(Debug, Clone)]
pub struct Target {
    /// The name shown (`origin/stable/2025.2`).
    pub name: String,
    /// Its tip, resolved once: every branch is forecast from the tip it had then.
    pub commit: ObjectId,
    /// The policy and phase this branch's picks are judged under.
    pub policy: Option<PolicyCheck>,
}

/// What would happen to one candidate on one branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Already on the branch: an ancestor, or present by some evidence.
    There,
    /// Picks cleanly and changes something.
    Clean,
    /// Picks cleanly and changes nothing.
    Empty,
    /// Conflicts.
    Conflict,
    /// Needs commits that are neither on the branch nor candidates, picked first.
    Needs,
}

/// What a pick alone does (the simulation's answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pick {
    Clean,
    Empty,
    Conflict,
}

/// Why a candidate counts as already there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// `ancestor`, or a delta evidence name (`change-id`, `cherry-pick`, `marker`, `patch-id`).
    pub by: String,
    /// The branch's commit that is the same change (none for `ancestor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<ObjectId>,
}

/// A commit a candidate needs first, and how its own pick goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needed {
    pub commit: ObjectId,
    pub summary: String,
    pub outcome: Pick,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

/// A policy phase's verdict on a pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVerdict {
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// One candidate on one branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateOutcome {
    pub commit: ObjectId,
    pub outcome: Outcome,
    /// For `there`: why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Presence>,
    /// For `needs`: the candidate's own pick, once what it needs is picked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pick: Option<Pick>,
    /// The paths the candidate's own pick conflicts in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// For `needs`: what it needs first, in pick order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<Needed>,
    /// With a policy: the verdict of the branch's phase (none for `there`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyVerdict>,
}

/// The forecast for one branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchForecast {
    pub name: String,
    pub commit: ObjectId,
    /// The policy phase judged under, when a policy was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// One per candidate, in candidate order.
    pub outcomes: Vec<CandidateOutcome>,
    /// Every commit the branch's one simulation picked, in order (candidates and what they
    /// need): the sequence `git cherry-pick` would be given.
    pub picked: Vec<ObjectId>,
}

/// The forecast: the schema of `git regraft forecast --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forecast {
    pub source: delta::Tip,
    pub candidates: Vec<Candidate>,
    pub branches: Vec<BranchForecast>,
}

/// Returns the non-merge commits of `range` (`BASE..TIP`), oldest first in topological
/// order, and TIP as the user named it (the candidates' source).
pub fn candidates_in_range(
    repo: &Repo,
    range: &str,
) -> Result<(Vec<Candidate>, String), ForecastError> {
    let Some((base, tip)) = range.split_once("..") else {
        return Err(ForecastError::NotARange { range: range.to_string() });
    };
    if tip.starts_with('.') || base.is_empty() || tip.is_empty() {
        return Err(ForecastError::NotARange { range: range.to_string() });
    }
    let (base_id, tip_id) = (repo.resolve_commit(base)?, repo.resolve_commit(tip)?);
    let ids = rev_list(repo, tip_id, Some(base_id), None)?;
    let candidates = described(repo, &ids)?;
    if candidates.is_empty() {
        return Err(ForecastError::NoCandidates {
            why: format!("`{range}` has no non-merge commit"),
        });
    }
    Ok((candidates, tip.to_string()))
}

/// Returns the non-merge commits of `source` committed since `date` (git's `--since`),
/// root commits left out.
pub fn candidates_since(
    repo: &Repo,
    source: &str,
    date: &str,
) -> Result<Vec<Candidate>, ForecastError> {
    let tip = repo.resolve_commit(source)?;
    let ids = rev_list(repo, tip, None, Some(date))?;
    let candidates = described(repo, &ids)?;
    if candidates.is_empty() {
        return Err(ForecastError::NoCandidates {
            why: format!("no non-merge commit of `{source}` since {date}"),
        });
    }
    Ok(candidates)
}

/// Resolves the commits listed (any names git accepts), refusing merges and root commits.
pub fn candidates_listed(repo: &Repo, specs: &[String]) -> Result<Vec<Candidate>, ForecastError> {
    let mut out: Vec<Candidate> = Vec::new();
    for spec in specs {
        let commit = repo.resolve_commit(spec)?;
        let info = repo.commit_info(commit)?;
        if info.parents.len() > 1 {
            return Err(ForecastError::Merge { spec: spec.clone(), commit: commit.short() });
        }
        let Some(parent) = info.parents.first().copied() else {
            return Err(ForecastError::Root { spec: spec.clone(), commit: commit.short() });
        };
        if out.iter().all(|c| c.commit != commit) {
            out.push(Candidate { commit, summary: info.summary, parent: Some(parent) });
        }
    }
    if out.is_empty() {
        return Err(ForecastError::NoCandidates { why: "none was listed".into() });
    }
    Ok(out)
}

fn rev_list(
    repo: &Repo,
    include: ObjectId,
    exclude: Option<ObjectId>,
    since: Option<&str>,
) -> Result<Vec<ObjectId>, ForecastError> {
    let out = reads::rev_list_no_merges(repo.git(), include, exclude, since)?;
    String::from_utf8_lossy(&out)
        .lines()
        .map(|line| {
            ObjectId::from_hex(line.trim().as_bytes())
                .ok_or_else(|| ForecastError::Parse { detail: format!("rev-list line {line:?}") })
        })
        .collect()
}

fn described(repo: &Repo, ids: &[ObjectId]) -> Result<Vec<Candidate>, ForecastError> {
    let mut out = Vec::with_capacity(ids.len());
    for commit in ids {
        let info = repo.commit_info(*commit)?;
        // A root commit has no parent to pick against: a long `--since` reaches it.
        let Some(parent) = info.parents.first().copied() else { continue };
        out.push(Candidate { commit: *commit, summary: info.summary, parent: Some(parent) });
    }
    Ok(out)
}

/// A branch found by a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundBranch {
    /// `origin/stable/liberty` or `stable/liberty`.
    pub name: String,
    /// `refs/remotes/origin/stable/liberty` or `refs/heads/stable/liberty`.
    pub reference: String,
    pub commit: ObjectId,
}

/// Returns the remote-tracking branches of `remote` and the local branches whose short
/// names (`stable/liberty`, without `origin/`) match one of `patterns` (globs; `*` crosses
/// `/`), sorted by name. Where both exist, the remote-tracking branch stands for the name.
pub fn find_branches(
    repo: &Repo,
    remote: &str,
    patterns: &[String],
) -> Result<Vec<FoundBranch>, ForecastError> {
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::Glob::new(pattern).map_err(|e| ForecastError::NoCandidates {
            why: format!("the branch pattern `{pattern}` is not a glob: {e}"),
        })?;
        builder.add(glob);
    }
    let set = builder.build().map_err(|e| ForecastError::Parse { detail: e.to_string() })?;
    let prefix = format!("refs/remotes/{remote}/");
    let mut found: Vec<(String, FoundBranch)> = Vec::new();
    for (reference, commit) in repo.git().refs_under(&prefix)? {
        let short = reference[prefix.len()..].to_string();
        if short != "HEAD" && set.is_match(&short) {
            let name = format!("{remote}/{short}");
            found.push((short, FoundBranch { name, reference, commit }));
        }
    }
    for (reference, commit) in repo.git().refs_under("refs/heads/")? {
        let short = reference["refs/heads/".len()..].to_string();
        if set.is_match(&short) && found.iter().all(|(s, _)| *s != short) {
            found.push((short.clone(), FoundBranch { name: short, reference, commit }));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found.into_iter().map(|(_, f)| f).collect())
}

/// Forecasts `candidates` (from `source`) onto every target: each branch in its own
/// thread, at most `jobs` at once, each with a repository `open` returns (a [`Repo`] is
/// not shared between threads).
pub fn forecast<F>(
    open: F,
    source: &str,
    candidates: &[Candidate],
    targets: &[Target],
    jobs: usize,
) -> Result<Forecast, ForecastError>
where
    F: Fn() -> Result<Repo, RepoError> + Sync,
{
    let repo = open()?;
    let source_tip = delta::Tip { name: source.to_string(), commit: repo.resolve_commit(source)? };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<BranchForecast, ForecastError>>>> =
        Mutex::new(targets.iter().map(|_| None).collect());
    let workers = jobs.max(1).min(targets.len());
    // Each simulation and delta already runs git processes of its own; a branch per core
    // keeps the cores busy without piling processes up.
    let deps_options = DepsOptions {
        delta: DeltaOptions { jobs: (DeltaOptions::default().jobs / workers.max(1)).max(1) },
        ..DepsOptions::default()
    };
    let failed_open: Mutex<Option<RepoError>> = Mutex::new(None);
    // The merge inputs (six questions to git, when the simulation cache is on) are read
    // once, here, while the workers analyse their branches; each simulation waits for them.
    let inputs = Published::new();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let repo = match open() {
                    Ok(repo) => repo,
                    Err(e) => {
                        *failed_open.lock().expect("no worker panics holding the lock") = Some(e);
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(target) = targets.get(i) else { break };
                    let wait_inputs = || inputs.wait();
                    let result = forecast_branch(
                        &repo,
                        &source_tip,
                        candidates,
                        target,
                        &deps_options,
                        &wait_inputs,
                    )
                    .map_err(|e| ForecastError::Branch {
                        branch: target.name.clone(),
                        source: Box::new(e),
                    });
                    results.lock().expect("no worker panics holding the lock")[i] = Some(result);
                }
            });
        }
        // A worker waits for them: they are published even if reading them panics (the
        // workers then read their own).
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            simulation::shared_merge_inputs(&repo)
        }));
        match read {
            Ok(read) => inputs.publish(read),
            Err(panic) => {
                inputs.publish(SharedInputs::none());
                std::panic::resume_unwind(panic);
            }
        }
    });
    if let Some(e) = failed_open.into_inner().expect("no worker panicked") {
        return Err(e.into());
    }
    let mut branches = Vec::with_capacity(targets.len());
    for result in results.into_inner().expect("no worker panicked") {
        branches
            .push(result.expect("a worker that opened its repository takes every branch left")?);
    }
    Ok(Forecast { source: source_tip, candidates: candidates.to_vec(), branches })
}

/// Returns which of `commits` are `tip` or its ancestors, from one walk of git's: asked
/// commit by commit, the shared history is walked again for each (on Kolla, 240 candidates
/// onto three branches spent most of the forecast there).
fn ancestors_among(
    git: &Git,
    commits: &[ObjectId],
    tip: ObjectId,
) -> Result<HashSet<ObjectId>, ForecastError> {
    if commits.is_empty() {
        return Ok(HashSet::new());
    }
    let out = reads::rev_list_not_reachable(git, commits, tip)?;
    let mut outside = HashSet::new();
    for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let id = ObjectId::from_hex(line).ok_or_else(|| ForecastError::Parse {
            detail: format!("rev-list line {:?}", String::from_utf8_lossy(line)),
        })?;
        outside.insert(id);
    }
    Ok(commits.iter().copied().filter(|c| !outside.contains(c)).collect())
}

/// One thing the branch's simulation picks.
enum Scheduled {
    Candidate(usize),
    Needed(ObjectId),
}

/// A value one thread publishes once and others wait for.
struct Published<T> {
    value: Mutex<Option<T>>,
    ready: std::sync::Condvar,
}

impl<T: Clone> Published<T> {
    fn new() -> Self {
        Published { value: Mutex::new(None), ready: std::sync::Condvar::new() }
    }

    fn publish(&self, value: T) {
        *self.value.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(value);
        self.ready.notify_all();
    }

    fn wait(&self) -> T {
        let mut value = self.value.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if let Some(v) = &*value {
                return v.clone();
            }
            value = self.ready.wait(value).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// Forecasts the candidates onto one branch with one simulation, under the merge inputs
/// `inputs` returns (read once for every branch of a forecast).
fn forecast_branch(
    repo: &Repo,
    source: &delta::Tip,
    candidates: &[Candidate],
    target: &Target,
    deps_options: &DepsOptions,
    inputs: &dyn Fn() -> SharedInputs,
) -> Result<BranchForecast, ForecastError> {
    let onto = target.commit;
    let source_ref = source.commit.to_hex();
    let target_ref = onto.to_hex();
    let ids: Vec<ObjectId> = candidates.iter().map(|c| c.commit).collect();
    // Which candidates the branch has is one walk of git's, asked beside the analysis.
    let git = repo.git();
    let (analysis, on_branch) = std::thread::scope(|scope| {
        let on_branch = scope.spawn(|| ancestors_among(git, &ids, onto));
        // One reading of the patches gives both the delta's evidence and the dependencies.
        let analysis =
            deps::analyze_with_delta(repo, &target_ref, &source_ref, deps_options, &Silent);
        (analysis, on_branch.join().expect("the ancestry reader does not panic"))
    });
    let (graph, delta) = analysis?;
    // The merge bases are git's own answer (`git merge-base --all`), read by the delta.
    if delta.merge_bases.is_empty() {
        return Err(ForecastError::Unrelated {
            branch: target.name.clone(),
            source_name: source.name.clone(),
        });
    }
    let on_branch = on_branch?;
    let entries: HashMap<ObjectId, &delta::Entry> =
        delta.source_only.iter().map(|e| (e.commit, e)).collect();
    let candidate_set: HashSet<ObjectId> = candidates.iter().map(|c| c.commit).collect();
    let closures = graph.closures(deps_options.follow());

    let mut outcomes: Vec<CandidateOutcome> = Vec::with_capacity(candidates.len());
    let mut schedule: Vec<Scheduled> = Vec::new();
    let mut scheduled: HashSet<ObjectId> = HashSet::new();
    let mut needs_of: Vec<Vec<ObjectId>> = vec![Vec::new(); candidates.len()];
    for (i, candidate) in candidates.iter().enumerate() {
        let mut evidence = Vec::new();
        if on_branch.contains(&candidate.commit) {
            evidence.push(Presence { by: "ancestor".into(), commit: None });
        } else if let Some(entry) = entries.get(&candidate.commit).filter(|e| e.is_present()) {
            for by in Evidence::ALL {
                for equivalent in entry.equivalents.iter().filter(|e| e.by == by) {
                    evidence
                        .push(Presence { by: by.name().into(), commit: Some(equivalent.commit) });
                }
            }
        }
        let there = !evidence.is_empty();
        outcomes.push(CandidateOutcome {
            commit: candidate.commit,
            outcome: if there { Outcome::There } else { Outcome::Clean },
            evidence,
            pick: None,
            conflicts: Vec::new(),
            needs: Vec::new(),
            policy: None,
        });
        if there {
            continue;
        }
        for need in closures.of(&[candidate.commit]) {
            if need == candidate.commit || candidate_set.contains(&need) {
                continue;
            }
            needs_of[i].push(need);
            if scheduled.insert(need) {
                schedule.push(Scheduled::Needed(need));
            }
        }
        scheduled.insert(candidate.commit);
        schedule.push(Scheduled::Candidate(i));
    }

    let mut picks = Vec::with_capacity(schedule.len());
    let mut summaries: HashMap<ObjectId, String> = HashMap::new();
    for item in &schedule {
        picks.push(match item {
            Scheduled::Candidate(i) => {
                ToPick { commit: candidates[*i].commit, parent: candidates[*i].parent }
            }
            Scheduled::Needed(commit) => {
                let info = repo.commit_info(*commit)?;
                summaries.insert(*commit, info.summary);
                ToPick { commit: *commit, parent: info.parents.first().copied() }
            }
        });
    }
    let simulation = {
        let _inputs = inputs().remember_in(repo);
        simulation::simulate(repo, onto, &picks, &Silent)?
    };
    let answers: HashMap<ObjectId, &simulation::Pick> =
        simulation.picks.iter().map(|p| (p.commit, p)).collect();
    let pick_of = |commit: &ObjectId| -> Result<(Pick, Vec<String>), ForecastError> {
        let answer = answers.get(commit).ok_or_else(|| ForecastError::Parse {
            detail: format!("the simulation has no answer for {}", commit.short()),
        })?;
        let pick = match answer.outcome {
            simulation::Outcome::Clean => Pick::Clean,
            simulation::Outcome::Empty => Pick::Empty,
            simulation::Outcome::Conflict => Pick::Conflict,
        };
        Ok((pick, answer.conflicts.clone()))
    };
    for (i, outcome) in outcomes.iter_mut().enumerate() {
        if outcome.outcome == Outcome::There {
            continue;
        }
        let (pick, conflicts) = pick_of(&outcome.commit)?;
        outcome.conflicts = conflicts;
        if needs_of[i].is_empty() {
            outcome.outcome = match pick {
                Pick::Clean => Outcome::Clean,
                Pick::Empty => Outcome::Empty,
                Pick::Conflict => Outcome::Conflict,
            };
        } else {
            outcome.outcome = Outcome::Needs;
            outcome.pick = Some(pick);
            for need in &needs_of[i] {
                let (outcome_of_need, conflicts) = pick_of(need)?;
                outcome.needs.push(Needed {
                    commit: *need,
                    summary: summaries.get(need).cloned().unwrap_or_default(),
                    outcome: outcome_of_need,
                    conflicts,
                });
            }
        }
    }

    if let Some(check) = &target.policy {
        let phase = check.policy.phase(&check.phase)?;
        let judged: Vec<ObjectId> =
            outcomes.iter().filter(|o| o.outcome != Outcome::There).map(|o| o.commit).collect();
        let verdicts =
            crate::analysis::policy::judge_commits(repo, &check.policy, phase, &judged, None)?;
        let mut verdicts: HashMap<ObjectId, _> =
            verdicts.into_iter().map(|v| (v.commit, v)).collect();
        for outcome in &mut outcomes {
            if let Some(v) = verdicts.remove(&outcome.commit) {
                outcome.policy = Some(PolicyVerdict { allowed: v.allowed, reasons: v.reasons });
            }
        }
    }
    Ok(BranchForecast {
        name: target.name.clone(),
        commit: onto,
        phase: target.policy.as_ref().map(|p| p.phase.clone()),
        outcomes,
        picked: picks.iter().map(|p| p.commit).collect(),
    })
}
