//! The review-server steps of a surgery: abandoning open reviews, and branch and tag
//! changes through Gerrit's REST API.

use super::OldTip;
use crate::git::repo::{Repo, RepoError};
use crate::oid::ObjectId;
use crate::surgery::operation::{Action, Check, ReviewCall, ReviewStep, Step, StepKind};

/// A Gerrit server and the branch's project on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewTarget {
    pub gerrit: crate::review::GerritUrl,
    pub project: String,
    /// Delete and create branches through Gerrit's REST API instead of pushes (for a team
    /// without push rights for deleting references).
    pub rest_branches: bool,
    /// Where the server and project were found when the user named neither (e.g.
    /// `.gitreview on origin/stable/liberty`).
    pub found_in: Option<String>,
}

impl ReviewTarget {
    /// Returns the Gerrit and project that `.gitreview` names on `branch`: the file in its
    /// remote-tracking branch (else the local branch) as last fetched. The server is HTTPS
    /// on `.gitreview`'s host; the project is its `project` without `.git`, else the path of
    /// the remote's URL.
    pub fn from_gitreview(
        repo: &Repo,
        remote: &str,
        branch: &str,
    ) -> Result<Option<ReviewTarget>, RepoError> {
        let Some((name, review)) = gitreview_on(repo, remote, branch)? else { return Ok(None) };
        let Some(gerrit) = review.gerrit_url() else { return Ok(None) };
        let project = match review.project_name() {
            Some(project) => project,
            None => match repo.remote_url(remote)? {
                Some(url) => crate::review::project_of(&url),
                None => return Ok(None),
            },
        };
        Ok(Some(ReviewTarget {
            gerrit,
            project,
            rest_branches: false,
            found_in: Some(format!(".gitreview on {name}")),
        }))
    }
}

impl ReviewTarget {
    /// Returns the review step that makes `call` about `branch` on this server, marked with
    /// where the server was found when the user did not name it.
    fn step(&self, branch: &str, call: ReviewCall) -> ReviewStep {
        ReviewStep::new(self.gerrit.clone(), &self.project, branch, call)
            .found_in(self.found_in.clone())
    }
}

/// Returns `.gitreview` as `branch` has it (remote-tracking branch first), with the ref's
/// short name.
pub fn gitreview_on(
    repo: &Repo,
    remote: &str,
    branch: &str,
) -> Result<Option<(String, crate::review::GitReview)>, RepoError> {
    for reference in [format!("refs/remotes/{remote}/{branch}"), format!("refs/heads/{branch}")] {
        let Some(commit) = repo.reference_target(&reference)? else { continue };
        let Some(text) = repo.file_at(commit, ".gitreview")? else { continue };
        let Some(review) = crate::review::GitReview::parse(&String::from_utf8_lossy(&text)) else {
            continue;
        };
        let name = reference
            .strip_prefix("refs/remotes/")
            .or_else(|| reference.strip_prefix("refs/heads/"));
        return Ok(Some((name.unwrap_or(&reference).to_string(), review)));
    }
    Ok(None)
}

/// The step that abandons the branch's open reviews before it is deleted or recreated
/// (Gerrit refuses to delete a branch with open changes, and a recreating push can close
/// them as merged).
pub(super) fn abandon_step(target: &ReviewTarget, branch: &str, why: &str) -> Step {
    Step {
        id: StepKind::AbandonReviews.into(),
        description: format!(
            "abandon the open reviews on {branch} of {} at {}{} (recorded for `git regraft restore --from-journal`)",
            target.project,
            target.gerrit,
            target
                .found_in
                .as_ref()
                .map(|w| format!(", as {w} says; --gerrit none turns this off"))
                .unwrap_or_default()
        ),
        action: Action::Review(target.step(
            branch,
            ReviewCall::Abandon {
                message: format!("Abandoned by git regraft: {why}. It can be restored."),
            },
        )),
        precondition: vec![],
        verification: vec![Check::NoOpenReviews {
            gerrit: target.gerrit.clone(),
            project: target.project.clone(),
            branch: branch.to_string(),
            found_in: target.found_in.clone(),
        }],
    }
}

/// The step that restores the reviews this operation abandoned on the branch.
pub(super) fn restore_step(target: &ReviewTarget, branch: &str) -> Step {
    Step {
        id: StepKind::RestoreReviews.into(),
        description: format!(
            "restore the reviews this run abandoned on {branch} of {} at {}",
            target.project, target.gerrit
        ),
        action: Action::Review(target.step(
            branch,
            ReviewCall::Restore {
                message: format!("Restored by git regraft after {branch} was replaced."),
                of: None,
            },
        )),
        precondition: vec![],
        verification: vec![],
    }
}

/// Replaces the local tag and its push by one REST call that creates the annotated tag on
/// the server, with the same verification (read with `git ls-remote`).
pub(super) fn tag_through_rest(
    steps: &mut Vec<Step>,
    target: &ReviewTarget,
    branch: &str,
    old: &OldTip,
    why: &str,
) {
    steps.retain(|s| s.id != StepKind::Tag && s.id != StepKind::PushTag);
    steps.push(Step {
        id: StepKind::Tag.into(),
        description: format!(
            "tag the old tip {} as {} on the server (through Gerrit's REST API)",
            old.commit.short(),
            old.tag
        ),
        action: Action::Review(target.step(
            branch,
            ReviewCall::CreateTag {
                tag: old.tag.clone(),
                revision: old.commit,
                message: why.to_string(),
            },
        )),
        precondition: vec![Check::RemoteRef {
            reference: format!("refs/tags/{}", old.tag),
            expected: None,
        }],
        verification: vec![Check::RemoteTag { tag: old.tag.clone(), commit: old.commit }],
    });
}

/// Turns a leased branch push (delete or create) into the same change through Gerrit's REST
/// API, keeping its precondition and verification (read with `git ls-remote`).
pub(super) fn through_rest(
    mut step: Step,
    target: &ReviewTarget,
    branch: &str,
    create_at: Option<ObjectId>,
) -> Step {
    step.description = format!("{} (through Gerrit's REST API)", step.description);
    step.action = Action::Review(target.step(
        branch,
        match create_at {
            Some(revision) => ReviewCall::CreateBranch { revision },
            None => ReviewCall::DeleteBranch,
        },
    ));
    step
}
