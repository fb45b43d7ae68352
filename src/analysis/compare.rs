//! The five ways to fix a broken stable branch, measured side by side on the repository:
//! megapatch, theirs-merge, recreate, reset, staged backport.

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::analysis::backport::{
    self, BackportError, BackportOptions, BackportPlan, OutcomeCounts, Selection, StepOutcome,
};
use crate::analysis::delta::{DeltaOptions, Tip};
use crate::analysis::deps::DepsOptions;
use crate::analysis::simulation::{self, DiffStat, Outcome, ToPick};
pub use crate::analysis::strategy::{Recommendation, Strategy};
use crate::git::GitError;
use crate::oid::ObjectId;
use crate::progress::Progress;

/// Errors from comparing.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error(transparent)]
    Backport(#[from] BackportError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Delta(#[from] crate::analysis::delta::DeltaError),
    #[error(transparent)]
    Simulation(#[from] simulation::SimulationError),
}

impl ErrorOrigin for CompareError {
    fn is_user_input(&self) -> bool {
        match self {
            CompareError::Backport(e) => e.is_user_input(),
            CompareError::Delta(e) => e.is_user_input(),
            CompareError::Simulation(e) => e.is_user_input(),
            CompareError::Git(_) => false,
        }
    }
}

/// How to compare.
#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    /// Count the backport's reviews as stages of this many picks instead of one per pick.
    pub stage_size: Option<usize>,
    /// Open reviews on TARGET, when a review server was asked.
    pub open_reviews: Option<OpenReviews>,
    /// Mark the backport's picks a policy phase would refuse.
    pub policy: Option<backport::PolicyCheck>,
    pub delta: DeltaOptions,
}

/// Which histories are reachable from the branch after an option: in JSON `old`, `source`
/// or `both`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryKept {
    /// The branch's own history (megapatch, backport: the picks are new commits).
    Old,
    /// The source's history (recreate, reset).
    Source,
    /// Both (theirs-merge).
    Both,
}

impl HistoryKept {
    /// Returns the name used in JSON and tables.
    pub fn name(self) -> &'static str {
        match self {
            HistoryKept::Old => "old",
            HistoryKept::Source => "source",
            HistoryKept::Both => "both",
        }
    }
}

impl std::fmt::Display for HistoryKept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so a table's width and alignment apply.
        f.pad(self.name())
    }
}

/// One option, measured: the schema of each entry of `compare --json`'s `options`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub strategy: Strategy,
    /// Review units through the review system (0 where an administrator acts instead).
    pub reviews: usize,
    /// Commits that land on the branch.
    pub commits: usize,
    pub files_changed: usize,
    pub insertions: usize,
    pub deletions: usize,
    /// Picks that would conflict (backport only).
    pub predicted_conflicts: usize,
    pub fast_forward: bool,
    /// Whether every clone must force-update its copy of the branch.
    pub force_update_needed: bool,
    /// Which histories are reachable from the branch afterwards.
    pub history_kept: HistoryKept,
    /// Whether `git blame` on the branch shows the original authors of the source's lines.
    pub blame_kept: bool,
    /// Permissions the option needs on a review server.
    pub needs: Vec<String>,
    pub open_reviews_affected: Option<usize>,
    pub verdict: String,
}

/// A conflicting pick of the backport option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredictedConflict {
    pub commit: ObjectId,
    pub summary: String,
    pub files: Vec<String>,
}

/// One of TARGET's own changes: a non-merge commit only on TARGET with no equivalent on
/// SOURCE (by any of `delta`'s evidence). The options that give the branch SOURCE's tree
/// (megapatch, merge, recreate, reset) undo it, unless SOURCE's tree has it already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnChange {
    pub commit: ObjectId,
    pub summary: String,
    /// What picking it onto SOURCE does, after the own changes before it that apply, as
    /// `replace --followup` would: `clean` (SOURCE lacks it and it can be carried as a
    /// follow-up), `empty` (SOURCE's tree has it already, in another form: nothing is
    /// undone), `conflict` (SOURCE lacks it and it cannot be carried as it is).
    pub onto_source: Outcome,
    /// The files it conflicts in, for a conflict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

impl OwnChange {
    /// Tells whether the whole-tree options undo it.
    pub fn undone(&self) -> bool {
        self.onto_source != Outcome::Empty
    }
}

/// The open reviews counted on TARGET's branch, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenReviews {
    pub count: usize,
    /// The review server asked.
    pub server: String,
    pub project: String,
    pub branch: String,
}

/// The comparison: the schema of `compare --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub target: Tip,
    pub source: Tip,
    pub options: Vec<Figures>,
    pub recommendation: Recommendation,
    /// The backport's conflicting picks and their files.
    pub conflicts: Vec<PredictedConflict>,
    /// With `--policy`/`--phase`: how many of the backport's picks the phase refuses.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub policy_refused: Option<usize>,
    /// TARGET's own changes, oldest first: what the whole-tree options undo.
    #[serde(default)]
    pub own_changes: Vec<OwnChange>,
    /// The open reviews on TARGET, when a review server was asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_reviews: Option<OpenReviews>,
}

impl Comparison {
    /// Returns TARGET's own changes that the whole-tree options undo.
    pub fn undone(&self) -> impl Iterator<Item = &OwnChange> {
        self.own_changes.iter().filter(|c| c.undone())
    }
}

/// Measures the five options for replacing `target` by `source`.
pub fn compare(
    repo: &crate::git::repo::Repo,
    target: &str,
    source: &str,
    options: &CompareOptions,
    progress: &dyn Progress,
) -> Result<Comparison, CompareError> {
    // compare writes nothing its merges depend on, so its simulations (the backport's, the
    // own changes', the change count's) read the merge inputs once: on Kolla three reads
    // of about 130 ms each were half of a compare answered from the cache.
    let _inputs = repo.remember_merge_inputs();
    let delta = crate::analysis::delta::delta(repo, target, source, &options.delta)?;
    let (plan, whole) = simulate_and_diff(repo, &delta, options, progress)?;
    let own_changes = own_changes(repo, &delta, progress)?;
    let summary = delta.summary();
    let measured = Measured {
        source_changes: summary.source_changes,
        present: summary.present,
        source_commits: delta.source_only.len(),
        target_commits: delta.target_only.len(),
        whole,
        open: options.open_reviews.as_ref().map(|o| o.count),
        undone: own_changes.iter().filter(|c| c.undone()).count(),
        own: own_changes.len(),
    };
    let megapatch = measured.megapatch();
    let merge = measured.merge();
    let recreate = measured.recreate();
    let reset = reset(&recreate, &measured.undoes());
    let (staged, refused) = measured.backport(&plan, options);
    let carried = own_changes.iter().filter(|c| c.onto_source == Outcome::Clean).count();
    let recommendation = recommend(&staged, &merge, &megapatch, (measured.undone, carried));
    Ok(Comparison {
        target: delta.target,
        source: delta.source,
        options: vec![megapatch, merge, recreate, reset, staged],
        recommendation,
        conflicts: predicted_conflicts(&plan),
        policy_refused: refused,
        own_changes,
        open_reviews: options.open_reviews.clone(),
    })
}

/// Returns TARGET's own changes, each picked onto SOURCE in order to tell whether SOURCE's
/// tree has it already.
fn own_changes(
    repo: &crate::git::repo::Repo,
    delta: &crate::analysis::delta::Delta,
    progress: &dyn Progress,
) -> Result<Vec<OwnChange>, CompareError> {
    let own: Vec<&crate::analysis::delta::Entry> =
        delta.target_only.iter().filter(|e| !e.merge && !e.is_present()).collect();
    if own.is_empty() {
        return Ok(Vec::new());
    }
    let picks: Vec<ToPick> = own
        .iter()
        .map(|e| ToPick { commit: e.commit, parent: e.parents.first().copied() })
        .collect();
    let simulation = simulation::simulate(repo, delta.source.commit, &picks, progress)?;
    Ok(own
        .iter()
        .zip(simulation.picks)
        .map(|(entry, pick)| OwnChange {
            commit: entry.commit,
            summary: entry.summary.clone(),
            onto_source: pick.outcome,
            conflicts: pick.conflicts,
        })
        .collect())
}

/// Simulates the backport's picks while the tree-to-tree size is measured, in parallel.
fn simulate_and_diff(
    repo: &crate::git::repo::Repo,
    delta: &crate::analysis::delta::Delta,
    options: &CompareOptions,
    progress: &dyn Progress,
) -> Result<(BackportPlan, DiffStat), CompareError> {
    let backport_options = BackportOptions {
        selection: Selection::Delta,
        include_present: false,
        stage_size: options.stage_size.unwrap_or(25),
        deps: DepsOptions { delta: options.delta.clone(), ..DepsOptions::default() },
        with_stat: true,
        policy: options.policy.clone(),
    };
    let git = repo.git();
    let (from, to) = (delta.target.commit, delta.source.commit);
    if let Some(whole) = simulation::known_diff_stat(repo, from, to) {
        return Ok((backport::plan_for_delta(repo, delta, &backport_options, progress)?, whole));
    }
    let (plan, whole) = std::thread::scope(|scope| {
        let whole = scope.spawn(|| simulation::diff_stat(git, from, to, &[]));
        let plan = backport::plan_for_delta(repo, delta, &backport_options, progress);
        (plan, whole.join().expect("the diff reader does not panic"))
    });
    let whole = whole?;
    simulation::keep_diff_stat(repo, from, to, whole);
    Ok((plan?, whole))
}

/// What the options' figures are computed from.
struct Measured {
    /// Non-merge commits only on SOURCE, and how many of them TARGET already has.
    source_changes: usize,
    present: usize,
    /// Commits only on SOURCE and only on TARGET, merges included.
    source_commits: usize,
    target_commits: usize,
    /// TARGET's tree to SOURCE's.
    whole: DiffStat,
    open: Option<usize>,
    /// TARGET's own changes, and how many of them the whole-tree options undo.
    own: usize,
    undone: usize,
}

impl Measured {
    /// Returns the figures every option starts from: a fast-forward push that keeps the
    /// old history.
    fn figures(
        &self,
        strategy: Strategy,
        reviews: usize,
        commits: usize,
        stat: DiffStat,
    ) -> Figures {
        Figures {
            strategy,
            reviews,
            commits,
            files_changed: stat.files,
            insertions: stat.insertions,
            deletions: stat.deletions,
            predicted_conflicts: 0,
            fast_forward: true,
            force_update_needed: false,
            history_kept: HistoryKept::Old,
            blame_kept: false,
            needs: vec!["push".into()],
            open_reviews_affected: self.open,
            verdict: String::new(),
        }
    }

    /// Says what a whole-tree option undoes of TARGET's own changes, if any.
    fn undoes(&self) -> String {
        match self.undone {
            0 => String::new(),
            n => format!("; undoes {n} of the branch's own changes that the source lacks"),
        }
    }

    fn megapatch(&self) -> Figures {
        let mut megapatch = self.figures(Strategy::Megapatch, 1, 1, self.whole);
        // Counted as the one review Kolla's megapatch was: `replace --for-review` pushes it
        // to refs/for/<branch>; without it, replace pushes straight to the branch.
        megapatch.needs = vec!["push for review (replace --for-review) or direct push".into()];
        megapatch.verdict = format!(
            "one review (replace --for-review; a direct push skips it), fast-forward, {} files in one commit; the {} source commits and their authors are not on the branch{}",
            self.whole.files,
            self.source_changes,
            self.undoes()
        );
        megapatch
    }

    fn merge(&self) -> Figures {
        let mut merge = self.figures(Strategy::Merge, 1, self.source_commits + 1, self.whole);
        merge.history_kept = HistoryKept::Both;
        merge.blame_kept = true;
        merge.needs = vec![
            "push for review (replace --for-review) or direct push".into(),
            "push merge commit".into(),
        ];
        merge.verdict = format!(
            "one review (replace --for-review; a direct push skips it), fast-forward, keeps both histories and blame; the server must accept merge commits{}",
            self.undoes()
        );
        merge
    }

    fn recreate(&self) -> Figures {
        let mut recreate = self.figures(Strategy::Recreate, 0, self.source_commits, self.whole);
        recreate.fast_forward = false;
        recreate.force_update_needed = true;
        recreate.history_kept = HistoryKept::Source;
        recreate.blame_kept = true;
        recreate.needs = vec!["delete reference".into(), "create reference".into()];
        let own = match (self.undone, self.own - self.undone) {
            (0, _) => String::new(),
            (undone, 0) => {
                format!(", and {undone} changes among them that the source lacks are undone")
            }
            (undone, already) => format!(
                ", and {undone} changes among them that the source lacks are undone ({already} more are in the source's tree already)"
            ),
        };
        recreate.verdict = format!(
            "no review but an administrator; every clone must force-update; the old {} commits stay only in the tag{own}",
            self.target_commits
        );
        recreate
    }

    /// Returns the staged backport's figures, and with a policy how many picks it refuses.
    fn backport(&self, plan: &BackportPlan, options: &CompareOptions) -> (Figures, Option<usize>) {
        let OutcomeCounts { clean, empty, conflict, .. } = plan.counts();
        let reviews = if options.stage_size.is_some() { plan.stages.len() } else { clean };
        let stat = plan.stat.unwrap_or_default();
        let mut staged =
            self.figures(Strategy::Backport, reviews, self.source_changes - self.present, stat);
        staged.predicted_conflicts = conflict;
        staged.blame_kept = true;
        staged.verdict = format!(
            "{reviews} reviews{}, {conflict} of {} picks would conflict; authors kept, source history not",
            if options.stage_size.is_some() {
                format!(" ({clean} picks in stages)")
            } else {
                String::new()
            },
            clean + conflict + empty
        );
        let refused = options.policy.as_ref().map(|p| (p.phase.clone(), plan.refused_by_policy()));
        if let Some((phase, n)) = &refused {
            staged.verdict.push_str(&format!("; {n} of the picks refused by the {phase} phase"));
        }
        (staged, refused.map(|(_, n)| n))
    }
}

/// Reset is recreate's figures done as one forced push.
fn reset(recreate: &Figures, undoes: &str) -> Figures {
    let mut reset = recreate.clone();
    reset.strategy = Strategy::Reset;
    reset.needs = vec!["force push".into()];
    reset.verdict = format!(
        "one forced push, refused by servers that deny non-fast-forward updates; every clone must force-update{undoes}"
    );
    reset
}

/// Returns the backport's picks that would conflict, with their files.
fn predicted_conflicts(plan: &BackportPlan) -> Vec<PredictedConflict> {
    plan.steps
        .iter()
        .filter(|s| s.outcome == StepOutcome::Conflict)
        .map(|s| PredictedConflict {
            commit: s.commit,
            summary: s.summary.clone(),
            files: s.conflicts.clone(),
        })
        .collect()
}

/// Explains, from the figures, which option to take.
/// `own` is how many of TARGET's own changes the whole-tree options undo, and how many of
/// them apply on SOURCE as follow-ups.
fn recommend(
    backport: &Figures,
    merge: &Figures,
    megapatch: &Figures,
    own: (usize, usize),
) -> Recommendation {
    if backport.predicted_conflicts == 0 && backport.reviews <= 25 {
        let why = format!(
            "{} clean picks in ordinary reviews keep the branch's history, authors and \
             blame with no force-update; the bigger options are not needed",
            backport.reviews
        );
        return Recommendation { strategy: Strategy::Backport, why };
    }
    let mut why = format!(
        "one fast-forward review brings the source tree exactly ({} files, \
         +{} -{}) and keeps both histories and blame, where the backport needs {} reviews with {} \
         predicted conflicts. If the server refuses merge commits, megapatch gives the same tree \
         in one review ({} files) without the source's history; recreate and reset make every \
         clone force-update",
        merge.files_changed,
        merge.insertions,
        merge.deletions,
        backport.reviews,
        backport.predicted_conflicts,
        megapatch.files_changed
    );
    let (undone, carried) = own;
    if undone > 0 {
        why.push_str(&format!(
            ". Every option but the backport undoes {undone} of the branch's own changes that the source lacks; \
             {carried} of those can be carried on top as follow-ups (replace --followup)"
        ));
    }
    Recommendation { strategy: Strategy::Merge, why }
}
