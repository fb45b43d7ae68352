//! Building the plans of branch surgery: replacing a stable branch (five strategies),
//! ending a branch's life, and the branch steps of playbooks, always tagging the old tip
//! first.

mod followup;
mod forge_steps;
mod review_steps;
mod strategy_steps;

use followup::followups;
pub use followup::{Tried, check_followups, write_gitreview_followup};
pub use forge_steps::{ForgeTarget, hold_branch, reopen_step};
pub use review_steps::{ReviewTarget, gitreview_on};
use review_steps::{abandon_step, tag_through_rest};
use strategy_steps::{
    backport_steps, new_commit_steps, recreate_steps, reset_steps, review_push, verify_step,
};

use crate::ErrorOrigin;
use crate::git::GitError;
use crate::git::action::{GitAction, Push};
use crate::git::repo::{Repo, RepoError};
use crate::oid::ObjectId;
use crate::review::HostFactory;
use crate::surgery::operation::{
    self, Action, BranchChange, Check, Notice, OperationError, Plan, Restore, Step, StepKind,
};

/// Errors from planning.
#[derive(Debug, thiserror::Error)]
pub enum ReplaceError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Operation(#[from] OperationError),
    #[error("remote `{remote}` has no branch {branch}")]
    NoBranch { remote: String, branch: String },
    #[error("tag {tag} already exists at {found}, not at the old tip {old}")]
    TagClash { tag: String, found: String, old: String },
    #[error(
        "cannot name the old tip's tag for `{branch}`: it has no series (stable/<series>); give --tag"
    )]
    NoSeries { branch: String },
    #[error(
        "follow-up {spec} ({commit}) does not apply cleanly on the new tip: conflicts in {files}"
    )]
    FollowupConflict { spec: String, commit: String, files: String },
    #[error("preparing follow-ups: {0}")]
    Scratch(String),
    #[error(
        "{source_name} ({commit}) is not built on the tip of {branch} ({old}): build it with `git regraft backport {branch} ...` first"
    )]
    NotBuiltOn { source_name: String, commit: String, branch: String, old: String },
    #[error(
        "--followup goes with megapatch, merge, recreate and reset; for a backport, pick the follow-ups onto the backport branch"
    )]
    FollowupWithBackport,
    #[error("{source_name} ({commit}) is already the tip of {branch}: nothing to replace")]
    SameTip { source_name: String, commit: String, branch: String },
    #[error(transparent)]
    Name(Box<crate::git::names::NameError>),
    #[error(transparent)]
    Simulation(#[from] crate::analysis::simulation::SimulationError),
    #[error(
        "--for-review goes with megapatch and merge (backport is always pushed for review); {strategy} moves the branch itself"
    )]
    ForReviewWith { strategy: &'static str },
    #[error(
        "{git_dir} is a shallow clone: the history the plan counts and the megapatch or merge \
         message describes is cut; run `git fetch --unshallow` first"
    )]
    Shallow { git_dir: String },
}

impl From<crate::git::names::NameError> for ReplaceError {
    fn from(error: crate::git::names::NameError) -> Self {
        ReplaceError::Name(Box::new(error))
    }
}

impl ErrorOrigin for ReplaceError {
    fn is_user_input(&self) -> bool {
        match self {
            ReplaceError::Repo(e) => e.is_user_input(),
            ReplaceError::Operation(e) => e.is_user_input(),
            ReplaceError::Name(e) => e.is_user_input(),
            ReplaceError::Simulation(e) => e.is_user_input(),
            // A scratch object directory that cannot be made is the machine's failure.
            ReplaceError::Git(_) | ReplaceError::Scratch(_) => false,
            ReplaceError::NoBranch { .. }
            | ReplaceError::TagClash { .. }
            | ReplaceError::NoSeries { .. }
            | ReplaceError::FollowupConflict { .. }
            | ReplaceError::NotBuiltOn { .. }
            | ReplaceError::FollowupWithBackport
            | ReplaceError::SameTip { .. }
            | ReplaceError::ForReviewWith { .. }
            | ReplaceError::Shallow { .. } => true,
        }
    }
}

pub use crate::analysis::strategy::Strategy;

/// What to replace by what.
#[derive(Debug, Clone)]
pub struct ReplaceRequest {
    /// The branch on the remote, e.g. `stable/liberty`.
    pub branch: String,
    /// Any commit, e.g. `origin/stable/mitaka`.
    pub source: String,
    /// How the user named the source, when `source` pins it by id (a playbook the guide
    /// wrote): lasting artifacts (the merge or megapatch commit, the tag, the notice) name
    /// the source by it, with the id beside it.
    pub source_name: Option<String>,
    pub strategy: Strategy,
    /// The old tip's tag (default `<series>-early-demise`).
    pub tag: Option<String>,
    pub remote: String,
    /// Small patches cherry-picked on top afterwards and pushed in the same plan.
    pub followups: Vec<String>,
    /// The review server whose open reviews on the branch are abandoned first.
    pub review: Option<ReviewTarget>,
    /// The forge whose open requests on the branch are kept through the replacement.
    pub forge: Option<ForgeTarget>,
    /// Where the `backport` strategy (and megapatch or merge `for_review`) pushes for review
    /// (default `refs/for/<branch>`, Gerrit's).
    pub review_ref: Option<String>,
    /// Megapatch and merge: push the commit (and its follow-ups) for review instead of
    /// straight to the branch, which then moves when the review merges.
    pub for_review: bool,
}

impl ReplaceRequest {
    /// Returns the source as the user named it, for what lasts: commit messages, the tag,
    /// the notice.
    pub fn source_label(&self) -> &str {
        self.source_name.as_deref().unwrap_or(&self.source)
    }
}

/// Returns the series of `stable/<series>` (or `unmaintained/<series>`).
pub fn series(branch: &str) -> Option<&str> {
    branch
        .strip_prefix("stable/")
        .or_else(|| branch.strip_prefix("unmaintained/"))
        .filter(|s| !s.is_empty())
}

/// The old tip of the branch on the remote, and the tag that will keep it.
struct OldTip {
    commit: ObjectId,
    tag: String,
}

/// Checks the remote and the branches a plan names before anything runs, so that a bad
/// name is refused with nothing spawned.
fn check_names(repo: &Repo, remote: &str, branches: &[&str]) -> Result<(), ReplaceError> {
    repo.check_remote(remote)?;
    for branch in branches {
        crate::git::names::check_branch(branch)?;
    }
    Ok(())
}

fn old_tip(
    repo: &Repo,
    remote: &str,
    branch: &str,
    tag: Option<&str>,
    suffix: &str,
) -> Result<OldTip, ReplaceError> {
    check_names(repo, remote, &[branch])?;
    let reference = format!("refs/heads/{branch}");
    let tag = match tag {
        Some(tag) => Ok(tag.to_string()),
        None => series(branch)
            .map(|series| format!("{series}-{suffix}"))
            .ok_or_else(|| ReplaceError::NoSeries { branch: branch.to_string() }),
    }
    // Checked also when made from the branch's series (`stable/-x` would give `-x-eol`).
    .and_then(|tag| crate::git::names::check_tag(&tag).map(|()| tag).map_err(ReplaceError::from));
    // One `ls-remote` for the branch and its tag (a valid tag's refs only); a missing
    // branch is said before a tag that could not be named.
    let mut wanted = vec![reference.clone()];
    if let Ok(tag) = &tag {
        wanted.extend([format!("refs/tags/{tag}^{{}}"), format!("refs/tags/{tag}")]);
    }
    let on_remote = crate::git::remote::ls_remote(repo.git(), remote, &wanted)?;
    let commit = on_remote.get(&reference).copied().ok_or_else(|| ReplaceError::NoBranch {
        remote: remote.to_string(),
        branch: branch.to_string(),
    })?;
    let tag = tag?;
    // A tag of that name elsewhere would not keep the old tip: refuse rather than move it.
    let local = repo.resolve_commit(&format!("refs/tags/{tag}")).ok();
    let remote_tag = on_remote
        .get(&format!("refs/tags/{tag}^{{}}"))
        .or_else(|| on_remote.get(&format!("refs/tags/{tag}")))
        .copied();
    for found in [local, remote_tag].into_iter().flatten() {
        if found != commit {
            return Err(ReplaceError::TagClash { tag, found: found.short(), old: commit.short() });
        }
    }
    Ok(OldTip { commit, tag })
}

/// A compare-and-swap push of `reference` on `remote`: `to` is the new value (`None`
/// deletes), `from` the value the remote must still have (`None`: must not exist). The
/// lease alone allows a non-fast-forward move (see [`Push::leased`]).
/// Its precondition and verification say the same.
pub(crate) fn leased_push(
    kind: StepKind,
    description: String,
    remote: &str,
    reference: &str,
    from: Option<ObjectId>,
    to: Option<ObjectId>,
) -> Step {
    Step {
        id: kind.into(),
        description,
        action: Action::Git(GitAction::Push(Push::leased(remote, reference, from, to))),
        precondition: vec![Check::RemoteRef { reference: reference.to_string(), expected: from }],
        verification: vec![Check::RemoteRef { reference: reference.to_string(), expected: to }],
    }
}

/// The step that deletes `branch` on `remote` only while it is still `tip`; `also` names,
/// in the description, a further condition the caller adds as a check.
pub(crate) fn leased_delete(remote: &str, branch: &str, tip: ObjectId, also: &str) -> Step {
    leased_push(
        StepKind::Delete,
        format!("delete {branch} on {remote} (only if it is still {}{also})", tip.short()),
        remote,
        &format!("refs/heads/{branch}"),
        Some(tip),
        None,
    )
}

/// Says so when the old tip's tag is here already (an earlier run made it, then was
/// aborted) with another message than this plan would write: it is kept as it is, so what
/// it says may no longer be what is done.
fn reused_tag_note(repo: &Repo, old: &OldTip, why: &str) -> Result<Option<String>, ReplaceError> {
    let reference = format!("refs/tags/{}", old.tag);
    if repo.reference_target(&reference)?.is_none() {
        return Ok(None);
    }
    let message = repo.git().for_each_ref("%(contents)", &reference)?;
    let message = message.trim_end();
    Ok((message != why).then(|| {
        format!(
            "the tag {} is here already (an earlier run made it) and is kept as it is; its message reads \"{}\"; give --tag NAME for a tag that says what this run does",
            old.tag,
            message.lines().next().unwrap_or_default()
        )
    }))
}

/// The first steps of every surgery: fetch the old tip, tag it, push the tag, verify it.
fn tag_steps(remote: &str, branch: &str, old: &OldTip, why: &str) -> Vec<Step> {
    let reference = format!("refs/heads/{branch}");
    let tag_ref = format!("refs/tags/{}", old.tag);
    vec![
        Step {
            id: StepKind::Fetch.into(),
            description: format!(
                "fetch {branch} from {remote}, so its tip {} is here",
                old.commit.short()
            ),
            action: Action::Git(GitAction::Fetch {
                remote: remote.to_string(),
                reference: reference.clone(),
            }),
            precondition: vec![],
            verification: vec![Check::LocalObject { id: old.commit }],
        },
        Step {
            id: StepKind::Tag.into(),
            description: format!(
                "tag the old tip {} as {} (annotated)",
                old.commit.short(),
                old.tag
            ),
            action: Action::Git(GitAction::Tag {
                tag: old.tag.clone(),
                commit: old.commit,
                message: format!("{why}\n"),
            }),
            precondition: vec![Check::NoLocalTag { tag: old.tag.clone() }],
            verification: vec![Check::LocalTag { tag: old.tag.clone(), commit: old.commit }],
        },
        Step {
            id: StepKind::PushTag.into(),
            description: format!(
                "push tag {} to {remote} (only if {remote} has no such tag)",
                old.tag
            ),
            action: Action::Git(GitAction::Push(Push::new_tag(remote, &old.tag))),
            precondition: vec![Check::RemoteRef { reference: tag_ref.clone(), expected: None }],
            verification: vec![Check::RemoteTag { tag: old.tag.clone(), commit: old.commit }],
        },
    ]
}

/// Builds the plan for replacing the branch, with what the review server says of the
/// rights it needs (see [`asked`]); nothing is changed.
pub fn plan_replace(
    repo: &Repo,
    hosts: &dyn HostFactory,
    request: &ReplaceRequest,
) -> Result<Plan, ReplaceError> {
    let plan = replace_steps(repo, request)?;
    Ok(asked(repo, hosts, plan, request.review.as_ref()))
}

/// Returns `plan` with the review server's answers about the rights it needs
/// ([`crate::surgery::access`]): the one place the plans of `replace`, `eol` and playbooks'
/// branch steps ask, read-only, before anything runs.
fn asked(
    repo: &Repo,
    hosts: &dyn HostFactory,
    mut plan: Plan,
    review: Option<&ReviewTarget>,
) -> Plan {
    crate::surgery::access::check(repo, hosts, &mut plan, review.map(Into::into));
    plan
}

/// Builds the steps of replacing the branch.
fn replace_steps(repo: &Repo, request: &ReplaceRequest) -> Result<Plan, ReplaceError> {
    let (remote, branch, strategy) =
        (request.remote.as_str(), request.branch.as_str(), request.strategy);
    if strategy == Strategy::Backport {
        return plan_backport(repo, request);
    }
    let (source, old) = check_request(repo, request)?;
    // Wrapped at 72 columns, as a tag's message is read.
    let why = crate::text::wrap_paragraph(
        &format!(
            "Old tip of {branch}, kept before the branch was replaced by {} ({}) with regraft's {} strategy.",
            request.source_label(),
            source.short(),
            strategy.name()
        ),
        72,
    );
    let reused = reused_tag_note(repo, &old, &why)?;
    let mut steps = tag_steps(remote, branch, &old, &why);
    if let Some(target) = request.review.as_ref().filter(|t| t.rest_branches) {
        tag_through_rest(&mut steps, target, branch, &old, &why);
    }
    let final_tip = match strategy {
        Strategy::Megapatch | Strategy::Merge => {
            new_commit_steps(repo, request, &old, source, &mut steps)?
        }
        Strategy::Recreate => recreate_steps(request, &old, source, &mut steps),
        Strategy::Reset => reset_steps(request, &old, source, &mut steps),
        // Planned apart, above: it tags nothing.
        Strategy::Backport => return plan_backport(repo, request),
    };
    let tip_text = steps
        .iter()
        .find(|s| s.id == StepKind::Commit)
        .and_then(|s| s.git()?.input().map(str::to_string));
    let (mut final_tip, followup_steps) = followups(repo, request, final_tip, tip_text)?;
    steps.extend(followup_steps);
    if request.for_review && matches!(strategy, Strategy::Megapatch | Strategy::Merge) {
        // One push of the last commit makes a review of each commit of the chain; the
        // branch stays at the old tip until they merge.
        steps.retain(|s| !matches!(s.id.kind, StepKind::FollowupPush(_)));
        steps.push(review_push(
            request,
            old.commit,
            final_tip,
            &format!("the {}", strategy.name()),
        ));
        final_tip = old.commit;
    }
    steps.push(verify_step(branch, &old, final_tip));
    let reference = format!("refs/heads/{branch}");
    Ok(Plan {
        operation: format!(
            "replace {branch} on {remote} by {} ({})",
            request.source_label(),
            strategy.name()
        ),
        remote: remote.to_string(),
        steps,
        notice: Some(Notice {
            branch: branch.to_string(),
            remote: remote.to_string(),
            strategy: BranchChange::Replaced(strategy),
            source: Some(request.source_label().to_string()),
            old: old.commit,
            new: Some(final_tip),
            tag: old.tag.clone(),
        }),
        notes: gitreview_note(repo, request, source)?.into_iter().chain(reused).collect(),
        restore: Some(Restore { reference, old: old.commit, tag: old.tag }),
        undoes: None,
        access: Vec::new(),
    })
}

/// Builds the plan of the `backport` strategy: the backport branch pushed for review, the
/// branch left where it is (it moves as the reviews merge). It replaces nothing, so it
/// tags nothing, has nothing to put back, and no notice for developers.
fn plan_backport(repo: &Repo, request: &ReplaceRequest) -> Result<Plan, ReplaceError> {
    let (remote, branch) = (request.remote.as_str(), request.branch.as_str());
    check_names(repo, remote, &[branch])?;
    if let Some(review_ref) = &request.review_ref {
        crate::git::names::check_full_ref(review_ref)?;
    }
    if let Some(tag) = &request.tag {
        crate::git::names::check_tag(tag)?;
    }
    if !repo.shallow_boundary()?.is_empty() {
        return Err(ReplaceError::Shallow { git_dir: repo.git_dir().display().to_string() });
    }
    let source = repo.resolve_commit(&request.source)?;
    let reference = format!("refs/heads/{branch}");
    let on_remote =
        crate::git::remote::ls_remote(repo.git(), remote, std::slice::from_ref(&reference))?;
    let old = on_remote.get(&reference).copied().ok_or_else(|| ReplaceError::NoBranch {
        remote: remote.to_string(),
        branch: branch.to_string(),
    })?;
    if old == source {
        return Err(ReplaceError::SameTip {
            source_name: request.source.clone(),
            commit: source.short(),
            branch: branch.into(),
        });
    }
    let steps = backport_steps(repo, request, old, source)?;
    let notes = request
        .tag
        .iter()
        .map(|tag| {
            format!("no tag {tag} is made: a backport replaces nothing, {branch} only moves forward as its reviews merge")
        })
        .collect();
    Ok(Plan {
        operation: format!("replace {branch} on {remote} by {} (backport)", request.source),
        remote: remote.to_string(),
        steps,
        notice: None,
        notes,
        restore: None,
        undoes: None,
        access: Vec::new(),
    })
}

/// Checks what the request names before anything is planned, and returns SOURCE's commit
/// and the branch's old tip with its tag.
fn check_request(
    repo: &Repo,
    request: &ReplaceRequest,
) -> Result<(ObjectId, OldTip), ReplaceError> {
    let (remote, branch) = (request.remote.as_str(), request.branch.as_str());
    check_names(repo, remote, &[branch])?;
    if let Some(review_ref) = &request.review_ref {
        crate::git::names::check_full_ref(review_ref)?;
    }
    if !repo.shallow_boundary()?.is_empty() {
        return Err(ReplaceError::Shallow { git_dir: repo.git_dir().display().to_string() });
    }
    let source = repo.resolve_commit(&request.source)?;
    let old = old_tip(repo, remote, branch, request.tag.as_deref(), "early-demise")?;
    if old.commit == source {
        return Err(ReplaceError::SameTip {
            source_name: request.source.clone(),
            commit: source.short(),
            branch: branch.into(),
        });
    }
    let strategy = request.strategy;
    if request.for_review && matches!(strategy, Strategy::Recreate | Strategy::Reset) {
        return Err(ReplaceError::ForReviewWith { strategy: strategy.name() });
    }
    Ok((source, old))
}

/// Returns a note when the branch, once it has SOURCE's tree, would keep a `.gitreview`
/// whose `defaultbranch` names another branch (Kolla needed the follow-up "Update
/// .gitreview for stable/liberty") and no follow-up changes that file.
fn gitreview_note(
    repo: &Repo,
    request: &ReplaceRequest,
    source: ObjectId,
) -> Result<Option<String>, ReplaceError> {
    if request.strategy == Strategy::Backport {
        return Ok(None);
    }
    let Some(text) = repo.file_at(source, ".gitreview")? else { return Ok(None) };
    let Some(review) = crate::review::GitReview::parse(&String::from_utf8_lossy(&text)) else {
        return Ok(None);
    };
    let Some(named) = review.defaultbranch.filter(|b| *b != request.branch) else {
        return Ok(None);
    };
    for spec in &request.followups {
        let commit = repo.resolve_commit(spec)?;
        let parent = repo.commit_info(commit)?.parents.first().copied();
        let before = match parent {
            Some(p) => repo.file_at(p, ".gitreview")?,
            None => None,
        };
        if repo.file_at(commit, ".gitreview")? != before {
            return Ok(None);
        }
    }
    Ok(Some(format!(
        "{}'s .gitreview says defaultbranch={named}: after the replacement, reviews sent with git-review from {branch} would go to {named}; add a follow-up commit that sets defaultbranch={branch} (--followup REV)",
        request.source,
        branch = request.branch
    )))
}

/// Builds the plan for ending a branch's life: tag `<series>-eol` at the tip, push and
/// verify it, delete the branch.
pub fn plan_eol(
    repo: &Repo,
    hosts: &dyn HostFactory,
    remote: &str,
    branch: &str,
    tag: Option<&str>,
    review: Option<&ReviewTarget>,
    forge: Option<&ForgeTarget>,
) -> Result<Plan, ReplaceError> {
    let plan = eol_steps(repo, remote, branch, tag, review, forge)?;
    Ok(asked(repo, hosts, plan, review))
}

/// Builds the steps of ending a branch's life.
fn eol_steps(
    repo: &Repo,
    remote: &str,
    branch: &str,
    tag: Option<&str>,
    review: Option<&ReviewTarget>,
    forge: Option<&ForgeTarget>,
) -> Result<Plan, ReplaceError> {
    let old = old_tip(repo, remote, branch, tag, "eol")?;
    let why = format!("End of life of {branch}: its last commit.");
    let mut steps = tag_steps(remote, branch, &old, &why);
    if let Some(target) = review {
        steps.push(abandon_step(target, branch, &format!("{branch} reached its end of life")));
    }
    if let Some(target) = forge {
        steps.extend(forge_steps::close_steps(target, branch, &old.tag));
    }
    let reference = format!("refs/heads/{branch}");
    let mut delete = leased_delete(remote, branch, old.commit, "");
    // Deleted only while the tag keeps its tip.
    delete.precondition.push(Check::RemoteTag { tag: old.tag.clone(), commit: old.commit });
    steps.push(delete);
    Ok(Plan {
        operation: format!("end of life of {branch} on {remote}"),
        remote: remote.to_string(),
        steps,
        notice: Some(Notice {
            branch: branch.to_string(),
            remote: remote.to_string(),
            strategy: BranchChange::EndOfLife,
            source: None,
            old: old.commit,
            new: None,
            tag: old.tag.clone(),
        }),
        notes: Vec::new(),
        restore: Some(Restore { reference, old: old.commit, tag: old.tag }),
        undoes: None,
        access: Vec::new(),
    })
}

/// Builds the plan for tagging a branch's tip on the remote (fetch, tag, push, verify).
pub fn plan_tag_tip(
    repo: &Repo,
    remote: &str,
    branch: &str,
    tag: &str,
) -> Result<Plan, ReplaceError> {
    let old = old_tip(repo, remote, branch, Some(tag), "")?;
    let why = format!("Tip of {branch}, tagged by a regraft playbook.");
    Ok(Plan {
        operation: format!("tag the tip of {branch} on {remote} as {tag}"),
        remote: remote.to_string(),
        steps: tag_steps(remote, branch, &old, &why),
        restore: None,
        notice: None,
        notes: Vec::new(),
        undoes: None,
        access: Vec::new(),
    })
}

/// Builds the plan for creating `branch` on the remote at the current tip of `from_branch`
/// there (only if `branch` does not exist).
pub fn plan_create_branch(
    repo: &Repo,
    remote: &str,
    branch: &str,
    from_branch: &str,
) -> Result<Plan, ReplaceError> {
    check_names(repo, remote, &[branch, from_branch])?;
    let at = operation::remote_ref(repo, remote, &format!("refs/heads/{from_branch}"))?
        .ok_or_else(|| ReplaceError::NoBranch {
            remote: remote.to_string(),
            branch: from_branch.to_string(),
        })?;
    let reference = format!("refs/heads/{branch}");
    let step = leased_push(
        StepKind::Create,
        format!(
            "create {branch} on {remote} at {} (the tip of {from_branch}; only if {branch} does not exist)",
            at.short()
        ),
        remote,
        &reference,
        None,
        Some(at),
    );
    Ok(Plan {
        operation: format!("create {branch} on {remote}"),
        remote: remote.to_string(),
        steps: vec![step],
        restore: None,
        notice: None,
        notes: Vec::new(),
        undoes: None,
        access: Vec::new(),
    })
}

/// Builds the plan for deleting `branch` on the remote, only while `kept_by` (a tag on the
/// remote) keeps its tip.
pub fn plan_delete_branch(
    repo: &Repo,
    hosts: &dyn HostFactory,
    remote: &str,
    branch: &str,
    kept_by: &str,
    review: Option<&ReviewTarget>,
) -> Result<Plan, ReplaceError> {
    check_names(repo, remote, &[branch])?;
    crate::git::names::check_tag(kept_by)?;
    let reference = format!("refs/heads/{branch}");
    let tip = operation::remote_ref(repo, remote, &reference)?.ok_or_else(|| {
        ReplaceError::NoBranch { remote: remote.to_string(), branch: branch.to_string() }
    })?;
    let mut step = leased_delete(remote, branch, tip, &format!(" and tag {kept_by} keeps it"));
    step.precondition.push(Check::RemoteTag { tag: kept_by.to_string(), commit: tip });
    let mut steps: Vec<Step> = review
        .map(|t| abandon_step(t, branch, &format!("{branch} is deleted (kept by tag {kept_by})")))
        .into_iter()
        .collect();
    steps.push(step);
    let plan = Plan {
        operation: format!("delete {branch} on {remote}"),
        remote: remote.to_string(),
        steps,
        restore: Some(Restore { reference, old: tip, tag: kept_by.to_string() }),
        notice: None,
        notes: Vec::new(),
        undoes: None,
        access: Vec::new(),
    };
    Ok(asked(repo, hosts, plan, review))
}

/// Builds the plan for restoring the reviews that this operation abandoned on `branch`
/// (a playbook's `restore-reviews` step).
pub fn plan_restore_reviews(
    repo: &Repo,
    hosts: &dyn HostFactory,
    remote: &str,
    branch: &str,
    review: &ReviewTarget,
) -> Result<Plan, ReplaceError> {
    check_names(repo, remote, &[branch])?;
    let plan = Plan {
        operation: format!("restore the reviews abandoned on {branch}"),
        remote: remote.to_string(),
        steps: vec![review_steps::restore_step(review, branch)],
        restore: None,
        notice: None,
        notes: Vec::new(),
        undoes: None,
        access: Vec::new(),
    };
    Ok(asked(repo, hosts, plan, Some(review)))
}
