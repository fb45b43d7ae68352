//! Requests to merge one branch into another on a forge: GitHub's pull requests and
//! GitLab's merge requests, in one shape the surgery can keep through a replacement.

use serde::{Deserialize, Serialize};

use crate::oid::ObjectId;

/// A pull request (GitHub) or merge request (GitLab).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest {
    /// GitHub's `number`, GitLab's `iid`: the number people write (`#12`, `!12`).
    pub number: u64,
    pub title: String,
    /// The branch it would merge (GitHub `head.ref`, GitLab `source_branch`).
    pub head: String,
    /// The head's commit, when the host said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_sha: Option<ObjectId>,
    /// The branch it targets (GitHub `base.ref`, GitLab `target_branch`).
    pub base: String,
    /// Its web page.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub author: String,
    pub state: RequestState,
}

/// A request's state, named as regraft names it (GitHub writes `open`/`closed` with
/// `merged_at`; GitLab `opened`/`closed`/`merged`/`locked`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestState {
    Open,
    Closed,
    Merged,
    /// A state a host adds later, kept as it came.
    Other(String),
}

impl std::fmt::Display for RequestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestState::Open => f.write_str("open"),
            RequestState::Closed => f.write_str("closed"),
            RequestState::Merged => f.write_str("merged"),
            RequestState::Other(other) => f.write_str(other),
        }
    }
}
