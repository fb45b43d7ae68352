//! The stable ids of plan steps: what a step is (`tag`, `push`, `followup-2-commit`), and in
//! a playbook the number of the playbook step it belongs to (`3-push-tag`). Journals and
//! saved plans record them as those strings, so the strings never change.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a step does, as the plans of `replace`, `eol` and playbooks name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepKind {
    /// Fetch the old tip (`fetch`).
    Fetch,
    /// Tag the old tip, locally or through the review server (`tag`).
    Tag,
    /// Push the tag (`push-tag`).
    PushTag,
    /// Write the megapatch or merge commit (`commit`).
    Commit,
    /// Fast-forward the branch to the new commit (`push`).
    Push,
    /// Delete the branch (`delete`).
    Delete,
    /// Create the branch (`create`).
    Create,
    /// Force the branch to SOURCE (`reset`).
    Reset,
    /// Push the new tip for review (`push-for-review`).
    PushForReview,
    /// Abandon the branch's open reviews (`abandon-reviews`).
    AbandonReviews,
    /// Restore the reviews this operation abandoned (`restore-reviews`).
    RestoreReviews,
    /// Check the remote's branch and tag at the end (`verify`).
    Verify,
    /// Record the open pull or merge requests on the branch (`record-requests`).
    RecordRequests,
    /// Create the hold branch at the old tip (`hold-branch`).
    HoldBranch,
    /// Retarget the recorded requests to the hold branch (`hold-requests`).
    HoldRequests,
    /// Retarget them back to the branch (`return-requests`).
    ReturnRequests,
    /// Delete the hold branch (`drop-hold`).
    DropHold,
    /// Comment on and close the recorded requests (`close-requests`).
    CloseRequests,
    /// Reopen the requests the operation closed (`reopen-requests`).
    ReopenRequests,
    /// Merge the n-th follow-up (from 1) onto the tip so far (`followup-N-tree`).
    FollowupTree(usize),
    /// Write the n-th follow-up's commit (`followup-N-commit`).
    FollowupCommit(usize),
    /// Push the n-th follow-up (`followup-N-push`).
    FollowupPush(usize),
    /// The n-th step (from 1) of an undo (`undo-N`).
    Undo(usize),
    /// Push the n-th stage of a backport as its own branch (`stage-N-push`).
    StagePush(usize),
    /// Open the n-th stage's pull or merge request (`stage-N-request`).
    StageRequest(usize),
}

impl StepKind {
    /// The kinds named by a fixed word, with it.
    const WORDS: [(StepKind, &'static str); 19] = [
        (StepKind::Fetch, "fetch"),
        (StepKind::Tag, "tag"),
        (StepKind::PushTag, "push-tag"),
        (StepKind::Commit, "commit"),
        (StepKind::Push, "push"),
        (StepKind::Delete, "delete"),
        (StepKind::Create, "create"),
        (StepKind::Reset, "reset"),
        (StepKind::PushForReview, "push-for-review"),
        (StepKind::AbandonReviews, "abandon-reviews"),
        (StepKind::RestoreReviews, "restore-reviews"),
        (StepKind::Verify, "verify"),
        (StepKind::RecordRequests, "record-requests"),
        (StepKind::HoldBranch, "hold-branch"),
        (StepKind::HoldRequests, "hold-requests"),
        (StepKind::ReturnRequests, "return-requests"),
        (StepKind::DropHold, "drop-hold"),
        (StepKind::CloseRequests, "close-requests"),
        (StepKind::ReopenRequests, "reopen-requests"),
    ];
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepKind::FollowupTree(n) => write!(f, "followup-{n}-tree"),
            StepKind::FollowupCommit(n) => write!(f, "followup-{n}-commit"),
            StepKind::FollowupPush(n) => write!(f, "followup-{n}-push"),
            StepKind::Undo(n) => write!(f, "undo-{n}"),
            StepKind::StagePush(n) => write!(f, "stage-{n}-push"),
            StepKind::StageRequest(n) => write!(f, "stage-{n}-request"),
            fixed => {
                let (_, word) = StepKind::WORDS
                    .iter()
                    .find(|(kind, _)| kind == fixed)
                    .expect("every kind without a number has a word");
                f.write_str(word)
            }
        }
    }
}

impl FromStr for StepKind {
    type Err = String;

    fn from_str(text: &str) -> Result<StepKind, String> {
        if let Some((kind, _)) = StepKind::WORDS.iter().find(|(_, word)| *word == text) {
            return Ok(*kind);
        }
        if let Some(n) = text.strip_prefix("undo-").and_then(number) {
            return Ok(StepKind::Undo(n));
        }
        let stage = text.strip_prefix("stage-").and_then(|rest| rest.split_once('-'));
        match stage.and_then(|(n, what)| Some((number(n)?, what))) {
            Some((n, "push")) => return Ok(StepKind::StagePush(n)),
            Some((n, "request")) => return Ok(StepKind::StageRequest(n)),
            _ => {}
        }
        let followup = text.strip_prefix("followup-").and_then(|rest| rest.split_once('-'));
        let number = followup.and_then(|(n, what)| Some((number(n)?, what)));
        match number {
            Some((n, "tree")) => Ok(StepKind::FollowupTree(n)),
            Some((n, "commit")) => Ok(StepKind::FollowupCommit(n)),
            Some((n, "push")) => Ok(StepKind::FollowupPush(n)),
            _ => Err(format!("`{text}` is not a step regraft makes")),
        }
    }
}

/// Reads a number as regraft writes it (decimal digits, no sign, no leading zero).
fn number(text: &str) -> Option<usize> {
    let plain = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && !(text.len() > 1 && text.starts_with('0'));
    plain.then(|| text.parse().ok()).flatten()
}

/// A step's stable id, recorded by the journal and in saved plans as one string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct StepId {
    /// In a playbook's plan, the number (from 1) of the playbook step this step is part of.
    pub part: Option<usize>,
    pub kind: StepKind,
}

impl StepId {
    /// Returns the id of a step of `kind` outside any playbook.
    pub fn new(kind: StepKind) -> StepId {
        StepId { part: None, kind }
    }
}

impl From<StepKind> for StepId {
    fn from(kind: StepKind) -> StepId {
        StepId::new(kind)
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.part {
            Some(part) => write!(f, "{part}-{}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl FromStr for StepId {
    type Err = String;

    fn from_str(text: &str) -> Result<StepId, String> {
        // No kind starts with a digit, so a leading number is the playbook step's.
        let part = text.split_once('-').and_then(|(n, rest)| Some((number(n)?, rest)));
        match part {
            Some((part, rest)) => Ok(StepId { part: Some(part), kind: rest.parse()? }),
            None => Ok(StepId::new(text.parse()?)),
        }
    }
}

impl From<StepId> for String {
    fn from(id: StepId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for StepId {
    type Error = String;

    fn try_from(text: String) -> Result<StepId, String> {
        text.parse()
    }
}

impl PartialEq<StepKind> for StepId {
    fn eq(&self, kind: &StepKind) -> bool {
        self.kind == *kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id regraft has written to journals and plan files, as it wrote them.
    const WRITTEN: [&str; 20] = [
        "fetch",
        "tag",
        "push-tag",
        "commit",
        "push",
        "delete",
        "create",
        "reset",
        "push-for-review",
        "abandon-reviews",
        "restore-reviews",
        "verify",
        "followup-1-tree",
        "followup-1-commit",
        "followup-12-push",
        "1-fetch",
        "2-push-tag",
        "3-abandon-reviews",
        "10-followup-2-commit",
        "4-verify",
    ];

    #[test]
    fn the_ids_written_before_read_back_and_are_written_the_same() {
        for text in WRITTEN {
            let id: StepId = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(id.to_string(), text);
            let json = serde_json::to_string(&id).expect("serializes");
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<StepId>(&json).expect("reads"), id);
        }
        let id: StepId = "2-followup-3-push".parse().expect("reads");
        assert_eq!(id, StepId { part: Some(2), kind: StepKind::FollowupPush(3) });
    }

    #[test]
    fn an_id_regraft_does_not_make_is_refused() {
        for text in
            ["", "push-tags", "followup--tree", "followup-1-merge", "followup-01-tree", "1-", "x-1"]
        {
            assert!(text.parse::<StepId>().is_err(), "{text:?} was read");
        }
        assert!(serde_json::from_str::<StepId>("\"pull\"").is_err());
    }
}
