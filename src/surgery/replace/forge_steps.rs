//! The forge steps of a surgery: on GitHub and GitLab, deleting a branch closes every
//! request that targets it (and a closed pull request whose head moved since can never be
//! reopened), so before a branch is deleted or rewritten its open requests are recorded and
//! moved to a hold branch at the old tip, and moved back once the branch is there again;
//! before an end of life they are closed with a comment naming the tag.

use super::{OldTip, leased_push};
use crate::oid::ObjectId;
use crate::review::forge::{ForgeCall, ForgeHost};
use crate::surgery::operation::{Action, Step, StepKind};
use crate::surgery::plan::ForgeStep;

/// A forge and the branch's repository on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeTarget {
    pub host: ForgeHost,
    /// `owner/name` (GitHub), `group/sub/name` (GitLab).
    pub repository: String,
    /// Where the host was found when the user did not name it (e.g. `the URL of remote
    /// origin`); none when the user named it.
    pub found_in: Option<String>,
}

impl ForgeTarget {
    fn step(&self, branch: &str, call: ForgeCall) -> Action {
        let mut step = ForgeStep::new(self.host.clone(), &self.repository, branch, call);
        step.found_in = self.found_in.clone();
        Action::Forge(step)
    }

    /// Returns how the requests are called, plural (`pull requests`).
    fn requests(&self) -> String {
        format!("{}s", self.host.kind.request_word())
    }

    fn place(&self, branch: &str) -> String {
        format!("{branch} of {} on {}", self.repository, self.host)
    }
}

/// Returns the branch that holds a branch's requests while it is replaced.
pub fn hold_branch(branch: &str) -> String {
    format!("regraft-hold/{branch}")
}

fn record_step(target: &ForgeTarget, branch: &str, why: &str) -> Step {
    Step {
        id: StepKind::RecordRequests.into(),
        description: format!(
            "record the open {} on {} ({why}; all pages, kept in the request log)",
            target.requests(),
            target.place(branch)
        ),
        action: target.step(branch, ForgeCall::Record),
        precondition: vec![],
        verification: vec![],
    }
}

/// The steps before a branch is deleted or rewritten: record its open requests, create the
/// hold branch at the old tip, move the requests there.
pub(super) fn hold_steps(
    target: &ForgeTarget,
    remote: &str,
    branch: &str,
    old: &OldTip,
) -> Vec<Step> {
    let hold = hold_branch(branch);
    vec![
        record_step(target, branch, "so that none is closed when the branch goes"),
        leased_push(
            StepKind::HoldBranch,
            format!(
                "create {hold} on {remote} at the old tip {} (only if it does not exist), to hold the {}",
                old.commit.short(),
                target.requests()
            ),
            remote,
            &format!("refs/heads/{hold}"),
            None,
            Some(old.commit),
        ),
        Step {
            id: StepKind::HoldRequests.into(),
            description: format!(
                "retarget the recorded {} from {branch} to {hold}",
                target.requests()
            ),
            action: target
                .step(branch, ForgeCall::Retarget { from: branch.to_string(), to: hold.clone() }),
            precondition: vec![],
            verification: vec![],
        },
    ]
}

/// The steps once the branch is there again: move the requests back, delete the hold
/// branch (only while it is still at the old tip).
pub(super) fn return_steps(
    target: &ForgeTarget,
    remote: &str,
    branch: &str,
    old: ObjectId,
) -> Vec<Step> {
    let hold = hold_branch(branch);
    vec![
        Step {
            id: StepKind::ReturnRequests.into(),
            description: format!(
                "retarget the recorded {} from {hold} back to {branch}",
                target.requests()
            ),
            action: target
                .step(branch, ForgeCall::Retarget { from: hold.clone(), to: branch.to_string() }),
            precondition: vec![],
            verification: vec![],
        },
        leased_push(
            StepKind::DropHold,
            format!("delete {hold} on {remote} (only if it is still {})", old.short()),
            remote,
            &format!("refs/heads/{hold}"),
            Some(old),
            None,
        ),
    ]
}

/// The steps before an end of life deletes the branch: record its open requests, then
/// comment on each (naming the tag that keeps the branch) and close it; `restore` reopens
/// them.
pub(super) fn close_steps(target: &ForgeTarget, branch: &str, tag: &str) -> Vec<Step> {
    let comment = format!(
        "{branch} reached its end of life: its last commit is kept by the tag {tag}, and the branch is deleted. This request is closed by git regraft; it can be reopened (`git regraft restore --from-journal --branch {branch} --execute`, once the branch is back)."
    );
    vec![
        record_step(target, branch, "closed next, and reopened by `restore`"),
        Step {
            id: StepKind::CloseRequests.into(),
            description: format!(
                "comment on each recorded {} (naming the tag {tag}) and close it",
                target.host.kind.request_word()
            ),
            action: target.step(branch, ForgeCall::Close { comment }),
            precondition: vec![],
            verification: vec![],
        },
    ]
}

/// The step that reopens the requests the operation `of` closed on the branch.
pub fn reopen_step(target: &ForgeTarget, branch: &str, of: Option<String>) -> Step {
    Step {
        id: StepKind::ReopenRequests.into(),
        description: format!(
            "reopen the {} {} closed on {}",
            target.requests(),
            of.as_deref().map_or("this operation".to_string(), |o| format!("`{o}`")),
            target.place(branch)
        ),
        action: target.step(
            branch,
            ForgeCall::Reopen {
                comment: format!("Reopened by git regraft: {branch} is back."),
                of,
            },
        ),
        precondition: vec![],
        verification: vec![],
    }
}
