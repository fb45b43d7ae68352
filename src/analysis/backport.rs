//! Staged backports: what to pick (the whole delta, a closure from `deps`, or a list), the
//! prediction of every pick, and the stages a real run would apply.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::analysis::delta::{self, DeltaError, DeltaOptions};
use crate::analysis::deps::{self, DepsError, DepsOptions};
use crate::analysis::simulation::{self, Outcome, SimulationError, ToPick};
use crate::git::repo::{Repo, RepoError};
use crate::oid::ObjectId;
use crate::progress::Progress;

/// Errors from planning a backport.
#[derive(Debug, thiserror::Error)]
pub enum BackportError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Delta(#[from] DeltaError),
    #[error(transparent)]
    Deps(#[from] DepsError),
    #[error(transparent)]
    Simulation(#[from] SimulationError),
    #[error("{what} needs SOURCE")]
    NeedsSource { what: &'static str },
    #[error("nothing to pick: {why}")]
    Nothing { why: String },
    #[error(transparent)]
    Policy(crate::analysis::policy::PolicyError),
    #[error("`{spec}` ({commit}) is a merge; only single-parent commits can be cherry-picked")]
    Merge { spec: String, commit: String },
    #[error(
        "`{target_name}` and `{source_name}` have unrelated histories (no commit is on both): there is no \
         fork point to bring changes from"
    )]
    Unrelated { target_name: String, source_name: String },
}

impl ErrorOrigin for BackportError {
    fn is_user_input(&self) -> bool {
        match self {
            BackportError::Repo(e) => e.is_user_input(),
            BackportError::Delta(e) => e.is_user_input(),
            BackportError::Deps(e) => e.is_user_input(),
            BackportError::Simulation(e) => e.is_user_input(),
            BackportError::Policy(e) => e.is_user_input(),
            BackportError::NeedsSource { .. }
            | BackportError::Nothing { .. }
            | BackportError::Merge { .. }
            | BackportError::Unrelated { .. } => true,
        }
    }
}

/// Which commits to pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every non-merge commit only on SOURCE, in topological order.
    Delta,
    /// The named commits and what they need (`deps --for`), in pick order.
    Closure(Vec<String>),
    /// Exactly these commits, in this order.
    List(Vec<String>),
}

/// How to plan.
#[derive(Debug, Clone)]
pub struct BackportOptions {
    pub selection: Selection,
    /// Pick commits that are already on TARGET too.
    pub include_present: bool,
    /// At most this many picks per stage.
    pub stage_size: usize,
    pub deps: DepsOptions,
    /// Also measure the whole change the picks make (for `compare`).
    pub with_stat: bool,
    /// Mark the steps a stable-branch policy's phase would refuse.
    pub policy: Option<PolicyCheck>,
}

/// A policy and the phase to judge picks under.
#[derive(Debug, Clone)]
pub struct PolicyCheck {
    pub policy: std::sync::Arc<crate::analysis::policy::Policy>,
    pub phase: String,
}

/// What happens to one commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepOutcome {
    Clean,
    Empty,
    Conflict,
    /// Already on TARGET by some evidence; not picked.
    Present,
}

/// One commit of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub commit: ObjectId,
    pub summary: String,
    pub outcome: StepOutcome,
    pub conflicts: Vec<String>,
    /// The stage that applies it (clean picks only).
    pub stage: Option<usize>,
    /// With a policy: why its phase would refuse this commit (empty: allowed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub policy_refusals: Option<Vec<String>>,
    /// With `--for`: the conflicting picks this one needs through line edges; while they
    /// are skipped, it is not closed under its dependencies.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub needs_conflicting: Vec<ObjectId>,
    /// The change was on TARGET and reverted there since: picked again, with this note.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reverted_on_target: Option<delta::Revert>,
}

/// A stage: picks reviewed and tested together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub number: usize,
    pub commits: Vec<ObjectId>,
}

/// The predicted backport: the schema of `git regraft backport --dry-run --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackportPlan {
    pub onto: ObjectId,
    pub steps: Vec<Step>,
    pub final_tree: ObjectId,
    pub stages: Vec<Stage>,
    /// What the clean picks change in all (only when asked for).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stat: Option<crate::analysis::simulation::DiffStat>,
}

impl BackportPlan {
    /// Counts the steps a policy would refuse (0 when none was asked).
    pub fn refused_by_policy(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.policy_refusals.as_ref().is_some_and(|r| !r.is_empty()))
            .count()
    }

    /// Counts the steps by outcome.
    pub fn counts(&self) -> OutcomeCounts {
        let mut counts = OutcomeCounts::default();
        for step in &self.steps {
            *match step.outcome {
                StepOutcome::Clean => &mut counts.clean,
                StepOutcome::Empty => &mut counts.empty,
                StepOutcome::Conflict => &mut counts.conflict,
                StepOutcome::Present => &mut counts.present,
            } += 1;
        }
        counts
    }
}

/// How many steps of a plan have each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    pub clean: usize,
    pub empty: usize,
    pub conflict: usize,
    pub present: usize,
}

/// Plans a backport onto `target` and predicts every pick.
pub fn plan(
    repo: &Repo,
    target: &str,
    source: Option<&str>,
    options: &BackportOptions,
    progress: &dyn Progress,
) -> Result<BackportPlan, BackportError> {
    let onto = repo.resolve_commit(target)?;
    let mut chosen: Vec<Chosen> = Vec::new();
    match &options.selection {
        Selection::List(specs) => {
            let delta = match source {
                Some(source) => Some(delta::delta(repo, target, source, &DeltaOptions::default())?),
                None => None,
            };
            let present: HashMap<ObjectId, &delta::Entry> =
                delta.iter().flat_map(|d| d.source_only.iter().map(|e| (e.commit, e))).collect();
            for spec in specs {
                let commit = repo.resolve_commit(spec)?;
                let info = repo.commit_info(commit)?;
                if info.parents.len() > 1 {
                    return Err(BackportError::Merge {
                        spec: spec.clone(),
                        commit: commit.short(),
                    });
                }
                let known = present.get(&commit);
                chosen.push(Chosen {
                    commit,
                    summary: info.summary,
                    parent: info.parents.first().copied(),
                    present: known.is_some_and(|e| e.is_present()),
                    reverted_on_target: known.and_then(|e| e.reverted_on_target),
                });
            }
        }
        Selection::Delta => {
            let source = source
                .ok_or(BackportError::NeedsSource { what: "a backport of the whole delta" })?;
            let delta = delta::delta(repo, target, source, &options.deps.delta)?;
            check_related(&delta)?;
            for e in delta.source_only.iter().filter(|e| !e.merge) {
                chosen.push(Chosen::from_delta(e));
            }
        }
        Selection::Closure(specs) => {
            let source = source.ok_or(BackportError::NeedsSource { what: "--for" })?;
            if repo.merge_bases(onto, repo.resolve_commit(source)?)?.is_empty() {
                return Err(BackportError::Unrelated {
                    target_name: target.to_string(),
                    source_name: source.to_string(),
                });
            }
            let graph = deps::analyze(repo, target, source, &options.deps, progress)?;
            let wanted = deps::resolve_wanted(repo, &graph, specs)?;
            let closure = graph.closure(&wanted, options.deps.follow());
            for commit in &closure {
                let info = repo.commit_info(*commit)?;
                chosen.push(Chosen {
                    commit: *commit,
                    summary: info.summary,
                    parent: info.parents.first().copied(),
                    present: false,
                    reverted_on_target: None,
                });
            }
            let mut plan = predict(repo, onto, chosen, options, progress)?;
            let conflicting = plan
                .steps
                .iter()
                .filter(|s| s.outcome == StepOutcome::Conflict)
                .map(|s| s.commit)
                .collect();
            let needs = graph.needs_among(&closure, &conflicting);
            for step in &mut plan.steps {
                if let Some(set) = needs.get(&step.commit) {
                    step.needs_conflicting = set.iter().copied().collect();
                }
            }
            return Ok(plan);
        }
    }
    if chosen.is_empty() {
        return Err(BackportError::Nothing { why: format!("no commit to bring to {target}") });
    }
    predict(repo, onto, chosen, options, progress)
}

/// Plans a backport of a whole delta already computed (`options.selection` is ignored).
pub fn plan_for_delta(
    repo: &Repo,
    delta: &delta::Delta,
    options: &BackportOptions,
    progress: &dyn Progress,
) -> Result<BackportPlan, BackportError> {
    check_related(delta)?;
    let chosen: Vec<Chosen> =
        delta.source_only.iter().filter(|e| !e.merge).map(Chosen::from_delta).collect();
    if chosen.is_empty() {
        return Err(BackportError::Nothing {
            why: format!("{} has no commit that {} lacks", delta.source.name, delta.target.name),
        });
    }
    predict(repo, delta.target.commit, chosen, options, progress)
}

/// Refuses a delta between unrelated histories: every commit of its source would be picked,
/// down to a root commit, which has no parent to pick against.
// Regression: `compare` on unrelated histories exited 1 with "... is a root commit".
fn check_related(delta: &delta::Delta) -> Result<(), BackportError> {
    if delta.merge_bases.is_empty() {
        return Err(BackportError::Unrelated {
            target_name: delta.target.name.clone(),
            source_name: delta.source.name.clone(),
        });
    }
    Ok(())
}

/// A commit to bring.
struct Chosen {
    commit: ObjectId,
    summary: String,
    parent: Option<ObjectId>,
    /// Already on TARGET by some evidence.
    present: bool,
    reverted_on_target: Option<delta::Revert>,
}

impl Chosen {
    fn from_delta(e: &delta::Entry) -> Chosen {
        Chosen {
            commit: e.commit,
            summary: e.summary.clone(),
            parent: e.parents.first().copied(),
            present: e.is_present(),
            reverted_on_target: e.reverted_on_target,
        }
    }
}

/// Simulates the chosen picks and groups the clean ones into stages.
fn predict(
    repo: &Repo,
    onto: ObjectId,
    chosen: Vec<Chosen>,
    options: &BackportOptions,
    progress: &dyn Progress,
) -> Result<BackportPlan, BackportError> {
    let picks: Vec<ToPick> = chosen
        .iter()
        .filter(|c| options.include_present || !c.present)
        .map(|c| ToPick { commit: c.commit, parent: c.parent })
        .collect();
    let simulation =
        simulation::simulate_with_stat(repo, onto, &picks, options.with_stat, progress)?;
    let mut outcomes: HashMap<ObjectId, &simulation::Pick> =
        simulation.picks.iter().map(|p| (p.commit, p)).collect();
    let stage_size = options.stage_size.max(1);
    let (mut steps, mut stages) = (Vec::new(), Vec::<Stage>::new());
    for Chosen { commit, summary, present, reverted_on_target, .. } in chosen {
        let (outcome, conflicts) = match outcomes.remove(&commit) {
            None if present => (StepOutcome::Present, Vec::new()),
            None => (StepOutcome::Empty, Vec::new()),
            Some(pick) => match pick.outcome {
                Outcome::Clean => (StepOutcome::Clean, Vec::new()),
                Outcome::Empty => (StepOutcome::Empty, Vec::new()),
                Outcome::Conflict => (StepOutcome::Conflict, pick.conflicts.clone()),
            },
        };
        let stage = (outcome == StepOutcome::Clean).then(|| {
            if stages.last().is_none_or(|s| s.commits.len() >= stage_size) {
                stages.push(Stage { number: stages.len() + 1, commits: Vec::new() });
            }
            let last = stages.last_mut().expect("pushed above");
            last.commits.push(commit);
            last.number
        });
        steps.push(Step {
            commit,
            summary,
            outcome,
            conflicts,
            stage,
            policy_refusals: None,
            needs_conflicting: Vec::new(),
            reverted_on_target,
        });
    }
    if let Some(check) = &options.policy {
        let phase = check.policy.phase(&check.phase).map_err(BackportError::Policy)?;
        let commits: Vec<ObjectId> = steps.iter().map(|s| s.commit).collect();
        let verdicts =
            crate::analysis::policy::judge_commits(repo, &check.policy, phase, &commits, None)
                .map_err(BackportError::Policy)?;
        for (step, verdict) in steps.iter_mut().zip(verdicts) {
            step.policy_refusals = Some(verdict.reasons);
        }
    }
    Ok(BackportPlan {
        onto,
        steps,
        final_tree: simulation.final_tree,
        stages,
        stat: simulation.stat,
    })
}
