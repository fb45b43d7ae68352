//! A staged backport sent for review on a forge as stacked requests: each stage pushed as
//! its own branch and one pull (merge) request per stage, stage k's base being stage k-1's
//! branch and the first stage's the target, so each request shows only its own picks and
//! merges in dependency order. The pushes and requests are a plan of the executor: shown
//! in a dry run, journalled, resumable and undone by `--abort` as every other plan.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::git::repo::{Repo, RepoError};
use crate::oid::ObjectId;
use crate::review::forge::{ForgeCall, ForgeHost};
use crate::surgery::operation::{Action, Plan, Step, StepKind};
use crate::surgery::plan::ForgeStep;

/// What `backport --for-review` asked for, kept beside the backport's state until its last
/// stage is applied (a conflict and `--continue` come between).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackRequest {
    pub host: ForgeHost,
    pub repository: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
    pub remote: String,
    /// The branch the backport goes to (the first request's base).
    pub target: String,
    /// The backport branch's short name; stage k is pushed as `<branch>-stage-k`.
    pub branch: String,
    /// The target's tip the backport branch starts at.
    pub onto: ObjectId,
    /// What the simulation predicted of each pick, by original commit: its conflicting
    /// files and the conflicting picks it needs.
    #[serde(default)]
    pub predicted: BTreeMap<ObjectId, Prediction>,
}

/// What the simulation said of one pick.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prediction {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs_conflicting: Vec<ObjectId>,
}

/// The name on `remote` of the branch `target` names, the first request's base: a
/// remote-tracking branch of `remote` (`origin/stable/x`, `refs/remotes/origin/stable/x`)
/// is `stable/x` there; a local branch (`stable/x`, `refs/heads/stable/x`) keeps its name.
///
/// Regression: the guide names its target `origin/stable/x`, which GitHub refused as a base.
pub fn branch_on_remote(repo: &Repo, remote: &str, target: &str) -> Result<String, RepoError> {
    let tracking = target.strip_prefix("refs/remotes/").unwrap_or(target);
    if let Some(name) = tracking.strip_prefix(remote).and_then(|rest| rest.strip_prefix('/'))
        && repo.reference_target(&format!("refs/remotes/{remote}/{name}"))?.is_some()
    {
        return Ok(name.to_string());
    }
    Ok(target.strip_prefix("refs/heads/").unwrap_or(target).to_string())
}

/// Returns where the request is kept.
pub fn path(repo: &Repo) -> PathBuf {
    repo.state_dir().join("backport-review.json")
}

/// Keeps the request for the end of the backport.
pub fn save(repo: &Repo, request: &StackRequest) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(request).expect("the request serializes");
    crate::state_file::write_or_remove(&path(repo), Some(&text))
}

/// Reads the request, if a backport for review is in progress. One that cannot be read is
/// an error, never taken for none: the stages would stay local without a word.
pub fn load(repo: &Repo) -> std::io::Result<Option<StackRequest>> {
    let path = path(repo);
    let Some(text) = crate::state_file::read(&path)? else { return Ok(None) };
    serde_json::from_slice(&text).map(Some).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} cannot be read ({e}); it is left as it is", path.display()),
        )
    })
}

/// Forgets the request (the backport was aborted, or its plan is made).
pub fn remove(repo: &Repo) -> std::io::Result<()> {
    crate::state_file::write_or_remove(&path(repo), None)
}

/// Returns the branch stage `n` (from 1) is pushed as.
pub fn stage_branch(branch: &str, n: usize) -> String {
    format!("{branch}-stage-{n}")
}

/// Returns the number of a pull request a commit's subject names, as GitHub's squash
/// merges (`Fix it (#123)`) and merge commits (`Merge pull request #123 from ...`) write it,
/// or GitLab's merge commits (`See merge request group/name!123`).
fn request_named(message: &str) -> Option<String> {
    let subject = message.lines().next().unwrap_or_default().trim_end();
    if let Some(open) = subject.rfind("(#")
        && let Some(number) = subject[open + 2..].strip_suffix(')')
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(format!("#{number}"));
    }
    if let Some(rest) = subject.strip_prefix("Merge pull request #") {
        let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !number.is_empty() {
            return Some(format!("#{number}"));
        }
    }
    message.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("See merge request ")?;
        let (_, number) = rest.rsplit_once('!')?;
        number.bytes().all(|b| b.is_ascii_digit()).then(|| format!("!{number}"))
    })
}

/// Writes the body of stage `n`'s request: each pick with its original commit and request,
/// what it needs, the predicted conflicts.
fn body(
    repo: &Repo,
    request: &StackRequest,
    n: usize,
    stages: usize,
    commits: &[ObjectId],
) -> Result<String, RepoError> {
    let mut text = format!(
        "Stage {n} of {stages} of a backport to {} made with git regraft.\n\n",
        request.target
    );
    if n > 1 {
        text.push_str(&format!(
            "Stacked on stage {} ({}): review and merge that first; this request then shows only its own picks.\n\n",
            n - 1,
            stage_branch(&request.branch, n - 1)
        ));
    }
    text.push_str(
        "| pick | from | request | needs | predicted conflicts |\n|---|---|---|---|---|\n",
    );
    for commit in commits {
        let origin = repo.commit_origin(*commit)?;
        let message = String::from_utf8_lossy(&origin.message).into_owned();
        let subject = message.lines().next().unwrap_or_default().replace('|', "\\|");
        let from = crate::text::message::cherry_picked_from(&origin.message);
        let original = from.last().and_then(|hex| repo.find_commit_by_prefix(hex).ok().flatten());
        let named = match original {
            Some(id) => repo
                .commit_origin(id)
                .ok()
                .and_then(|o| request_named(&String::from_utf8_lossy(&o.message))),
            None => None,
        };
        let predicted =
            original.and_then(|id| request.predicted.get(&id)).cloned().unwrap_or_default();
        let needs: Vec<String> = predicted.needs_conflicting.iter().map(|c| c.short()).collect();
        text.push_str(&format!(
            "| {} {subject} | {} | {} | {} | {} |\n",
            commit.short(),
            from.last().map_or("-".to_string(), |h| h.chars().take(12).collect()),
            named.unwrap_or_else(|| "-".into()),
            if needs.is_empty() { "-".to_string() } else { needs.join(", ") },
            if predicted.conflicts.is_empty() {
                "none".to_string()
            } else {
                predicted.conflicts.join(", ").replace('|', "\\|")
            },
        ));
    }
    Ok(text)
}

/// Builds the plan that pushes each stage as its own branch (a leased create: never over a
/// branch that exists) and opens its request, stacked: `stage_ends` are the last commits of
/// the stages, oldest first, on `onto`.
pub fn plan(
    repo: &Repo,
    request: &StackRequest,
    stage_ends: &[ObjectId],
) -> Result<Plan, RepoError> {
    let mut steps = Vec::new();
    let mut base_commit = request.onto;
    let stages = stage_ends.len();
    for (i, end) in stage_ends.iter().enumerate() {
        let n = i + 1;
        let head = stage_branch(&request.branch, n);
        let base =
            if n == 1 { request.target.clone() } else { stage_branch(&request.branch, n - 1) };
        let mut commits = repo.commits_since(base_commit, *end)?;
        commits.reverse();
        let reference = format!("refs/heads/{head}");
        steps.push(crate::surgery::replace::leased_push(
            StepKind::StagePush(n),
            format!(
                "push stage {n} ({} picks, ending at {}) as {head} on {} (only if it does not exist)",
                commits.len(),
                end.short(),
                request.remote
            ),
            &request.remote,
            &reference,
            None,
            Some(*end),
        ));
        let title =
            format!("[{}] Backport stage {n}/{stages}: {} picks", request.target, commits.len());
        let mut forge = ForgeStep::new(
            request.host.clone(),
            &request.repository,
            &base,
            ForgeCall::Open {
                head: head.clone(),
                title,
                body: body(repo, request, n, stages, &commits)?,
            },
        );
        forge.found_in = request.found_in.clone();
        steps.push(Step {
            id: StepKind::StageRequest(n).into(),
            description: format!(
                "open the {} of stage {n}: {head} into {base}",
                request.host.kind.request_word()
            ),
            action: Action::Forge(forge),
            precondition: vec![],
            verification: vec![],
        });
        base_commit = *end;
    }
    Ok(Plan {
        operation: format!("open the stacked requests of backport {}", request.branch),
        remote: request.remote.clone(),
        steps,
        restore: None,
        notice: None,
        notes: Vec::new(),
        undoes: None,
        access: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_from_the_subjects_forges_write() {
        assert_eq!(request_named("Fix the thing (#123)").as_deref(), Some("#123"));
        assert_eq!(request_named("Merge pull request #45 from a/b\n\nFix").as_deref(), Some("#45"));
        assert_eq!(
            request_named("Merge branch 'x' into 'main'\n\nSee merge request g/p!7").as_deref(),
            Some("!7")
        );
        assert_eq!(request_named("Fix (#) and (#1a)"), None);
        assert_eq!(request_named("Plain subject"), None);
    }
}
