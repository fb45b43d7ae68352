//! The steps each strategy of `replace` adds after the old tip is tagged: the megapatch or
//! merge commit and its push, recreate's delete and create, reset's forced push, the push
//! for review, and the last verification.

use super::followup::new_commit;
use super::review_steps::{abandon_step, through_rest};
use super::{OldTip, ReplaceError, ReplaceRequest, Strategy, leased_delete, leased_push};
use crate::git::action::{GitAction, Push};
use crate::git::repo::Repo;
use crate::oid::ObjectId;
use crate::surgery::operation::{Action, Check, Step, StepKind};

/// The push of `tip` for review (to `--review-ref`, default Gerrit's `refs/for/<branch>`)
/// while the branch is still the old tip. A push to `refs/for/` leaves no ref to check (and
/// a lease on it means nothing); any other ref is pushed only where none exists, and
/// checked.
pub(super) fn review_push(
    request: &ReplaceRequest,
    old: ObjectId,
    tip: ObjectId,
    what: &str,
) -> Step {
    let (remote, branch) = (request.remote.as_str(), request.branch.as_str());
    let review_ref = request.review_ref.clone().unwrap_or_else(|| format!("refs/for/{branch}"));
    let (push, verification) = if review_ref.starts_with("refs/for/") {
        (Push::for_review(remote, &review_ref, tip), vec![])
    } else {
        (
            Push::leased(remote, &review_ref, None, Some(tip)),
            vec![Check::RemoteRef { reference: review_ref.clone(), expected: Some(tip) }],
        )
    };
    Step {
        id: StepKind::PushForReview.into(),
        description: format!(
            "push {what} {} for review to {review_ref} (while {branch} is still {})",
            tip.short(),
            old.short()
        ),
        action: Action::Git(GitAction::Push(push)),
        precondition: vec![Check::RemoteRef {
            reference: format!("refs/heads/{branch}"),
            expected: Some(old),
        }],
        verification,
    }
}

/// Megapatch and merge: write the new commit on the old tip, and push it unless it goes
/// for review. Returns the new commit.
pub(super) fn new_commit_steps(
    repo: &Repo,
    request: &ReplaceRequest,
    old: &OldTip,
    source: ObjectId,
    steps: &mut Vec<Step>,
) -> Result<ObjectId, ReplaceError> {
    let (remote, branch, strategy) =
        (request.remote.as_str(), request.branch.as_str(), request.strategy);
    let (commit, text) = new_commit(repo, request, old.commit, source)?;
    steps.push(Step {
        id: StepKind::Commit.into(),
        description: format!(
            "write the {} commit {} (tree of {}, parent {}{})",
            strategy.name(),
            commit.short(),
            source.short(),
            old.commit.short(),
            if strategy == Strategy::Merge {
                format!(" and {}", source.short())
            } else {
                String::new()
            }
        ),
        action: Action::Git(GitAction::WriteCommit { text }),
        precondition: vec![],
        verification: vec![Check::LocalObject { id: commit }],
    });
    if !request.for_review {
        steps.push(leased_push(
            StepKind::Push,
            format!(
                "fast-forward {branch} on {remote} to {} (only if it is still {})",
                commit.short(),
                old.commit.short()
            ),
            remote,
            &format!("refs/heads/{branch}"),
            Some(old.commit),
            Some(commit),
        ));
    }
    Ok(commit)
}

/// Recreate: abandon the open reviews, delete the branch, create it at SOURCE (through
/// the review server's REST API when it manages branches). Returns SOURCE.
pub(super) fn recreate_steps(
    request: &ReplaceRequest,
    old: &OldTip,
    source: ObjectId,
    steps: &mut Vec<Step>,
) -> ObjectId {
    let (remote, branch) = (request.remote.as_str(), request.branch.as_str());
    let reference = format!("refs/heads/{branch}");
    if let Some(target) = &request.review {
        steps.push(abandon_step(
            target,
            branch,
            &format!("{branch} is recreated from {}", request.source_label()),
        ));
    }
    let delete = leased_delete(remote, branch, old.commit, "");
    let create = leased_push(
        StepKind::Create,
        format!("create {branch} on {remote} at {} (only if it does not exist)", source.short()),
        remote,
        &reference,
        None,
        Some(source),
    );
    if let Some(target) = &request.forge {
        steps.extend(super::forge_steps::hold_steps(target, remote, branch, old));
    }
    match request.review.as_ref().filter(|t| t.rest_branches) {
        Some(target) => {
            steps.push(through_rest(delete, target, branch, None));
            steps.push(through_rest(create, target, branch, Some(source)));
        }
        None => steps.extend([delete, create]),
    }
    if let Some(target) = &request.forge {
        steps.extend(super::forge_steps::return_steps(target, remote, branch, old.commit));
    }
    source
}

/// Reset: abandon the open reviews, force the branch to SOURCE. Returns SOURCE.
pub(super) fn reset_steps(
    request: &ReplaceRequest,
    old: &OldTip,
    source: ObjectId,
    steps: &mut Vec<Step>,
) -> ObjectId {
    let (remote, branch) = (request.remote.as_str(), request.branch.as_str());
    if let Some(target) = &request.review {
        steps.push(abandon_step(
            target,
            branch,
            &format!("{branch} is reset to {}", request.source_label()),
        ));
    }
    if let Some(target) = &request.forge {
        steps.extend(super::forge_steps::hold_steps(target, remote, branch, old));
    }
    steps.push(leased_push(
        StepKind::Reset,
        format!(
            "force {branch} on {remote} to {} (only if it is still {})",
            source.short(),
            old.commit.short()
        ),
        remote,
        &format!("refs/heads/{branch}"),
        Some(old.commit),
        Some(source),
    ));
    if let Some(target) = &request.forge {
        steps.extend(super::forge_steps::return_steps(target, remote, branch, old.commit));
    }
    source
}

/// Backport: push SOURCE, built on the branch's tip `old`, for review, then verify that
/// the branch is still `old`: it moves as the reviews merge. Nothing is replaced, so
/// nothing is tagged (issue 26, item 7).
pub(super) fn backport_steps(
    repo: &Repo,
    request: &ReplaceRequest,
    old: ObjectId,
    source: ObjectId,
) -> Result<Vec<Step>, ReplaceError> {
    if !repo.is_ancestor(old, source)? {
        return Err(ReplaceError::NotBuiltOn {
            source_name: request.source.clone(),
            commit: source.short(),
            branch: request.branch.clone(),
            old: old.short(),
        });
    }
    if !request.followups.is_empty() {
        return Err(ReplaceError::FollowupWithBackport);
    }
    let branch = &request.branch;
    let verify = Step {
        id: StepKind::Verify.into(),
        description: format!(
            "verify: {branch} is still {}; it moves as the reviews merge",
            old.short()
        ),
        action: Action::Check,
        precondition: vec![],
        verification: vec![Check::RemoteRef {
            reference: format!("refs/heads/{branch}"),
            expected: Some(old),
        }],
    };
    Ok(vec![review_push(request, old, source, "the backport"), verify])
}

/// The last step: the branch on the remote is `tip` and the tag keeps the old tip.
pub(super) fn verify_step(branch: &str, old: &OldTip, tip: ObjectId) -> Step {
    Step {
        id: StepKind::Verify.into(),
        description: format!("verify: {branch} is {}, tag {} is the old tip", tip.short(), old.tag),
        action: Action::Check,
        precondition: vec![],
        verification: vec![
            Check::RemoteRef { reference: format!("refs/heads/{branch}"), expected: Some(tip) },
            Check::RemoteTag { tag: old.tag.clone(), commit: old.commit },
        ],
    }
}
