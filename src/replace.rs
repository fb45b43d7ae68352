//! Building the plans of branch surgery: replacing a stable branch by another commit (four
//! strategies) and ending a branch's life, always tagging the old tip first.

use serde::{Deserialize, Serialize};

use crate::git::GitError;
use crate::oid::ObjectId;
use crate::operation::{
    self, Check, Notice, OperationError, Plan, Restore, ReviewCall, ReviewStep, Step,
};
use crate::repo::{Repo, RepoError};

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
}

impl ReplaceError {
    /// Tells whether the error comes from the user's input.
    pub fn is_user_error(&self) -> bool {
        match self {
            ReplaceError::Repo(e) => !matches!(e, RepoError::Read { .. }),
            ReplaceError::Git(_) => false,
            ReplaceError::Operation(e) => e.is_user_error(),
            _ => true,
        }
    }
}

/// The ways to replace a branch (the backport strategy is `git regraft backport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// One commit on the old tip whose tree is SOURCE's.
    Megapatch,
    /// A merge: first parent the old tip, second SOURCE, tree SOURCE's.
    Merge,
    /// Delete the branch, create it again at SOURCE (two pushes).
    Recreate,
    /// Move the branch to SOURCE with one forced push.
    Reset,
    /// Push SOURCE, a branch built on the old tip by `git regraft backport`, for review.
    Backport,
}

impl Strategy {
    /// Returns the name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Megapatch => "megapatch",
            Strategy::Merge => "merge",
            Strategy::Recreate => "recreate",
            Strategy::Reset => "reset",
            Strategy::Backport => "backport",
        }
    }
}

/// What to replace by what.
#[derive(Debug, Clone)]
pub struct ReplaceRequest {
    /// The branch on the remote, e.g. `stable/liberty`.
    pub branch: String,
    /// Any commit, e.g. `origin/stable/mitaka`.
    pub source: String,
    pub strategy: Strategy,
    /// The old tip's tag (default `<series>-early-demise`).
    pub tag: Option<String>,
    pub remote: String,
    /// Small patches cherry-picked on top afterwards and pushed in the same plan.
    pub followups: Vec<String>,
    /// The review server whose open reviews on the branch are abandoned first.
    pub review: Option<ReviewTarget>,
    /// Where the `backport` strategy pushes for review (default `refs/for/<branch>`, Gerrit's).
    pub review_ref: Option<String>,
}

/// A Gerrit server and the branch's project on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewTarget {
    pub gerrit: String,
    pub project: String,
    /// Delete and create branches through Gerrit's REST API instead of pushes (for a team
    /// without push rights for deleting references).
    pub rest_branches: bool,
}

/// Replaces the local tag and its push by one REST call that creates the annotated tag on
/// the server, with the same verification (read with `git ls-remote`).
fn tag_through_rest(
    steps: &mut Vec<Step>,
    target: &ReviewTarget,
    branch: &str,
    old: &OldTip,
    why: &str,
) {
    steps.retain(|s| s.id != "tag" && s.id != "push-tag");
    steps.push(Step {
        id: "tag".into(),
        description: format!(
            "tag the old tip {} as {} on the server (through Gerrit's REST API)",
            old.commit.short(),
            old.tag
        ),
        action: None,
        input: None,
        review: Some(ReviewStep {
            gerrit: target.gerrit.clone(),
            project: target.project.clone(),
            branch: branch.to_string(),
            call: ReviewCall::CreateTag {
                tag: old.tag.clone(),
                revision: old.commit,
                message: why.to_string(),
            },
        }),
        precondition: vec![Check::RemoteRef {
            reference: format!("refs/tags/{}", old.tag),
            expected: None,
        }],
        verification: vec![Check::RemoteTag { tag: old.tag.clone(), commit: old.commit }],
    });
}

/// Turns a leased branch push (delete or create) into the same change through Gerrit's REST
/// API, keeping its precondition and verification (read with `git ls-remote`).
fn through_rest(
    mut step: Step,
    target: &ReviewTarget,
    branch: &str,
    create_at: Option<ObjectId>,
) -> Step {
    step.action = None;
    step.description = format!("{} (through Gerrit's REST API)", step.description);
    step.review = Some(ReviewStep {
        gerrit: target.gerrit.clone(),
        project: target.project.clone(),
        branch: branch.to_string(),
        call: match create_at {
            Some(revision) => ReviewCall::CreateBranch { revision },
            None => ReviewCall::DeleteBranch,
        },
    });
    step
}

/// The step that abandons the branch's open reviews before it is deleted or recreated
/// (Gerrit refuses to delete a branch with open changes, and a recreating push can close
/// them as merged).
fn abandon_step(target: &ReviewTarget, branch: &str, why: &str) -> Step {
    Step {
        id: "abandon-reviews".into(),
        description: format!(
            "abandon the open reviews on {branch} of {} at {} (recorded for `git regraft restore --from-journal`)",
            target.project, target.gerrit
        ),
        action: None,
        input: None,
        review: Some(ReviewStep {
            gerrit: target.gerrit.clone(),
            project: target.project.clone(),
            branch: branch.to_string(),
            call: ReviewCall::Abandon {
                message: format!("Abandoned by git regraft: {why}. It can be restored."),
            },
        }),
        precondition: vec![],
        verification: vec![Check::NoOpenReviews {
            gerrit: target.gerrit.clone(),
            project: target.project.clone(),
            branch: branch.to_string(),
        }],
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

fn old_tip(
    repo: &Repo,
    remote: &str,
    branch: &str,
    tag: Option<&str>,
    suffix: &str,
) -> Result<OldTip, ReplaceError> {
    let reference = format!("refs/heads/{branch}");
    let commit = operation::remote_ref(repo, remote, &reference)?.ok_or_else(|| {
        ReplaceError::NoBranch { remote: remote.to_string(), branch: branch.to_string() }
    })?;
    let tag = match tag {
        Some(tag) => tag.to_string(),
        None => format!(
            "{}-{suffix}",
            series(branch).ok_or_else(|| ReplaceError::NoSeries { branch: branch.to_string() })?
        ),
    };
    // A tag of that name elsewhere would not keep the old tip: refuse rather than move it.
    let local = repo.resolve_commit(&format!("refs/tags/{tag}")).ok();
    let remote_tag = operation::remote_ref(repo, remote, &format!("refs/tags/{tag}^{{}}"))?
        .or(operation::remote_ref(repo, remote, &format!("refs/tags/{tag}"))?);
    for found in [local, remote_tag].into_iter().flatten() {
        if found != commit {
            return Err(ReplaceError::TagClash { tag, found: found.short(), old: commit.short() });
        }
    }
    Ok(OldTip { commit, tag })
}

fn argv(words: &[&str]) -> Option<Vec<String>> {
    Some(words.iter().map(|w| (*w).to_string()).collect())
}

/// A compare-and-swap push of `reference` on `remote`: `to` is the new value (`None`
/// deletes), `from` the value the remote must still have (`None`: must not exist); `force`
/// allows a non-fast-forward move. Its precondition and verification say the same.
fn leased_push(
    id: &str,
    description: String,
    remote: &str,
    reference: &str,
    from: Option<ObjectId>,
    to: Option<ObjectId>,
    force: bool,
) -> Step {
    let lease =
        format!("--force-with-lease={reference}:{}", from.map(|f| f.to_hex()).unwrap_or_default());
    let refspec = match to {
        Some(to) if force => format!("+{to}:{reference}"),
        Some(to) => format!("{to}:{reference}"),
        None => format!(":{reference}"),
    };
    Step {
        id: id.to_string(),
        description,
        action: argv(&["push", "--porcelain", &lease, remote, &refspec]),
        input: None,
        review: None,
        precondition: vec![Check::RemoteRef { reference: reference.to_string(), expected: from }],
        verification: vec![Check::RemoteRef { reference: reference.to_string(), expected: to }],
    }
}

/// The first steps of every surgery: fetch the old tip, tag it, push the tag, verify it.
fn tag_steps(remote: &str, branch: &str, old: &OldTip, why: &str) -> Vec<Step> {
    let reference = format!("refs/heads/{branch}");
    let tag_ref = format!("refs/tags/{}", old.tag);
    vec![
        Step {
            id: "fetch".into(),
            description: format!(
                "fetch {branch} from {remote}, so its tip {} is here",
                old.commit.short()
            ),
            action: argv(&["fetch", "--no-tags", remote, &reference]),
            input: None,
            review: None,
            precondition: vec![],
            verification: vec![Check::LocalObject { id: old.commit }],
        },
        Step {
            id: "tag".into(),
            description: format!(
                "tag the old tip {} as {} (annotated)",
                old.commit.short(),
                old.tag
            ),
            action: argv(&["tag", "-a", "-F", "-", &old.tag, &old.commit.to_hex()]),
            input: Some(format!("{why}\n")),
            review: None,
            precondition: vec![Check::NoLocalTag { tag: old.tag.clone() }],
            verification: vec![Check::LocalTag { tag: old.tag.clone(), commit: old.commit }],
        },
        Step {
            id: "push-tag".into(),
            description: format!(
                "push tag {} to {remote} (only if {remote} has no such tag)",
                old.tag
            ),
            action: argv(&[
                "push",
                "--porcelain",
                &format!("--force-with-lease={tag_ref}:"),
                remote,
                &format!("{tag_ref}:{tag_ref}"),
            ]),
            input: None,
            review: None,
            precondition: vec![Check::RemoteRef { reference: tag_ref.clone(), expected: None }],
            verification: vec![Check::RemoteTag { tag: old.tag.clone(), commit: old.commit }],
        },
    ]
}

/// Builds the plan for replacing the branch; nothing is changed.
pub fn plan_replace(repo: &Repo, request: &ReplaceRequest) -> Result<Plan, ReplaceError> {
    let remote = request.remote.as_str();
    let branch = request.branch.as_str();
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
    let why = format!(
        "Old tip of {branch}, kept before the branch was replaced by {} ({}) with regraft's {} strategy.",
        request.source,
        source.short(),
        strategy.name()
    );
    let mut steps = tag_steps(remote, branch, &old, &why);
    if let Some(target) = request.review.as_ref().filter(|t| t.rest_branches) {
        tag_through_rest(&mut steps, target, branch, &old, &why);
    }
    let reference = format!("refs/heads/{branch}");
    let final_tip = match strategy {
        Strategy::Megapatch | Strategy::Merge => {
            let (commit, text) = new_commit(repo, request, old.commit, source)?;
            steps.push(Step {
                id: "commit".into(),
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
                action: argv(&["hash-object", "-t", "commit", "-w", "--stdin"]),
                input: Some(text),
                review: None,
                precondition: vec![],
                verification: vec![Check::LocalObject { id: commit }],
            });
            steps.push(leased_push(
                "push",
                format!(
                    "fast-forward {branch} on {remote} to {} (only if it is still {})",
                    commit.short(),
                    old.commit.short()
                ),
                remote,
                &reference,
                Some(old.commit),
                Some(commit),
                false,
            ));
            commit
        }
        Strategy::Recreate => {
            if let Some(target) = &request.review {
                steps.push(abandon_step(
                    target,
                    branch,
                    &format!("{branch} is recreated from {}", request.source),
                ));
            }
            let delete = leased_push(
                "delete",
                format!("delete {branch} on {remote} (only if it is still {})", old.commit.short()),
                remote,
                &reference,
                Some(old.commit),
                None,
                false,
            );
            let create = leased_push(
                "create",
                format!(
                    "create {branch} on {remote} at {} (only if it does not exist)",
                    source.short()
                ),
                remote,
                &reference,
                None,
                Some(source),
                false,
            );
            match request.review.as_ref().filter(|t| t.rest_branches) {
                Some(target) => {
                    steps.push(through_rest(delete, target, branch, None));
                    steps.push(through_rest(create, target, branch, Some(source)));
                }
                None => steps.extend([delete, create]),
            }
            source
        }
        Strategy::Reset => {
            if let Some(target) = &request.review {
                steps.push(abandon_step(
                    target,
                    branch,
                    &format!("{branch} is reset to {}", request.source),
                ));
            }
            steps.push(leased_push(
                "reset",
                format!(
                    "force {branch} on {remote} to {} (only if it is still {})",
                    source.short(),
                    old.commit.short()
                ),
                remote,
                &reference,
                Some(old.commit),
                Some(source),
                true,
            ));
            source
        }
        Strategy::Backport => {
            if !repo.is_ancestor(old.commit, source) {
                return Err(ReplaceError::NotBuiltOn {
                    source_name: request.source.clone(),
                    commit: source.short(),
                    branch: branch.to_string(),
                    old: old.commit.short(),
                });
            }
            if !request.followups.is_empty() {
                return Err(ReplaceError::FollowupWithBackport);
            }
            let review_ref =
                request.review_ref.clone().unwrap_or_else(|| format!("refs/for/{branch}"));
            // A push to Gerrit's refs/for/ leaves no ref to check; any other ref is checked.
            let verification = if review_ref.starts_with("refs/for/") {
                vec![]
            } else {
                vec![Check::RemoteRef { reference: review_ref.clone(), expected: Some(source) }]
            };
            steps.push(Step {
                id: "push-for-review".into(),
                description: format!(
                    "push the backport {} for review to {review_ref} (while {branch} is still {})",
                    source.short(),
                    old.commit.short()
                ),
                action: argv(&["push", "--porcelain", remote, &format!("{source}:{review_ref}")]),
                input: None,
                review: None,
                precondition: vec![Check::RemoteRef {
                    reference: reference.clone(),
                    expected: Some(old.commit),
                }],
                verification,
            });
            // The branch itself moves as the reviews merge.
            old.commit
        }
    };
    let tip_text = steps.iter().find(|s| s.id == "commit").and_then(|s| s.input.clone());
    let (final_tip, followup_steps) = followups(repo, request, final_tip, tip_text)?;
    steps.extend(followup_steps);
    steps.push(Step {
        id: "verify".into(),
        description: format!(
            "verify: {branch} is {}, tag {} is the old tip",
            final_tip.short(),
            old.tag
        ),
        action: None,
        input: None,
        review: None,
        precondition: vec![],
        verification: vec![
            Check::RemoteRef { reference: reference.clone(), expected: Some(final_tip) },
            Check::RemoteTag { tag: old.tag.clone(), commit: old.commit },
        ],
    });
    Ok(Plan {
        operation: format!(
            "replace {branch} on {remote} by {} ({})",
            request.source,
            strategy.name()
        ),
        remote: remote.to_string(),
        steps,
        notice: Some(Notice {
            branch: branch.to_string(),
            remote: remote.to_string(),
            strategy: strategy.name().to_string(),
            source: Some(request.source.clone()),
            old: old.commit,
            new: Some(final_tip),
            tag: old.tag.clone(),
        }),
        restore: Some(Restore { reference, old: old.commit, tag: old.tag }),
    })
}

/// Builds the plan for ending a branch's life: tag `<series>-eol` at the tip, push and
/// verify it, delete the branch.
pub fn plan_eol(
    repo: &Repo,
    remote: &str,
    branch: &str,
    tag: Option<&str>,
    review: Option<&ReviewTarget>,
) -> Result<Plan, ReplaceError> {
    let old = old_tip(repo, remote, branch, tag, "eol")?;
    let why = format!("End of life of {branch}: its last commit.");
    let mut steps = tag_steps(remote, branch, &old, &why);
    if let Some(target) = review {
        steps.push(abandon_step(target, branch, &format!("{branch} reached its end of life")));
    }
    let reference = format!("refs/heads/{branch}");
    let mut delete = leased_push(
        "delete",
        format!("delete {branch} on {remote} (only if it is still {})", old.commit.short()),
        remote,
        &reference,
        Some(old.commit),
        None,
        false,
    );
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
            strategy: "eol".into(),
            source: None,
            old: old.commit,
            new: None,
            tag: old.tag.clone(),
        }),
        restore: Some(Restore { reference, old: old.commit, tag: old.tag }),
    })
}

/// Returns the megapatch or merge commit (id and raw text), computed without writing it,
/// so the plan can name it exactly.
fn new_commit(
    repo: &Repo,
    request: &ReplaceRequest,
    old: ObjectId,
    source: ObjectId,
) -> Result<(ObjectId, String), ReplaceError> {
    let git = repo.git();
    let ident = |var: &str| -> Result<String, GitError> {
        Ok(String::from_utf8_lossy(&git.output(&["var", var])?).trim().to_string())
    };
    let (author, committer) = (ident("GIT_AUTHOR_IDENT")?, ident("GIT_COMMITTER_IDENT")?);
    let tree = repo.tree_of(source)?;
    // Counted when the old tip is already here (before the plan's fetch it may not be).
    let count = repo
        .commits_since(old, source)
        .map(|c| format!(", which has {} commits", c.len()))
        .unwrap_or_default();
    let (subject, parents) = match request.strategy {
        Strategy::Merge => (
            format!("Merge {} into {}, taking its tree", request.source, request.branch),
            vec![old, source],
        ),
        _ => (format!("Replace {} with the tree of {}", request.branch, request.source), vec![old]),
    };
    let mut text = format!("tree {tree}\n");
    for parent in &parents {
        text.push_str(&format!("parent {parent}\n"));
    }
    text.push_str(&format!(
        "author {author}\ncommitter {committer}\n\n{subject}\n\nThe tree is exactly {source_name}'s ({source}){count}\n\
         not on {branch} ({old}). The old tip is kept by a tag.\n",
        source_name = request.source,
        branch = request.branch,
    ));
    if request.review.is_some() {
        // A Gerrit needs a Change-Id to review it; made as Gerrit's commit-msg hook makes
        // one, from the commit's own text.
        let digest = <sha1::Sha1 as sha1::Digest>::digest(text.as_bytes());
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&digest);
        text.push_str(&format!("\nChange-Id: I{}\n", ObjectId::from_bytes(bytes)));
    }
    let out = git.output_with_input_env(
        &["hash-object", "-t", "commit", "--stdin"],
        &[],
        text.as_bytes(),
    )?;
    let id =
        ObjectId::from_hex(String::from_utf8_lossy(&out).trim().as_bytes()).ok_or_else(|| {
            RepoError::UnknownRevision { spec: "hash-object output".into(), suggestions: vec![] }
        })?;
    Ok((id, text))
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
    let at = operation::remote_ref(repo, remote, &format!("refs/heads/{from_branch}"))?
        .ok_or_else(|| ReplaceError::NoBranch {
            remote: remote.to_string(),
            branch: from_branch.to_string(),
        })?;
    let reference = format!("refs/heads/{branch}");
    let step = leased_push(
        "create",
        format!(
            "create {branch} on {remote} at {} (the tip of {from_branch}; only if {branch} does not exist)",
            at.short()
        ),
        remote,
        &reference,
        None,
        Some(at),
        false,
    );
    Ok(Plan {
        operation: format!("create {branch} on {remote}"),
        remote: remote.to_string(),
        steps: vec![step],
        restore: None,
        notice: None,
    })
}

/// Builds the plan for deleting `branch` on the remote, only while `kept_by` (a tag on the
/// remote) keeps its tip.
pub fn plan_delete_branch(
    repo: &Repo,
    remote: &str,
    branch: &str,
    kept_by: &str,
) -> Result<Plan, ReplaceError> {
    let reference = format!("refs/heads/{branch}");
    let tip = operation::remote_ref(repo, remote, &reference)?.ok_or_else(|| {
        ReplaceError::NoBranch { remote: remote.to_string(), branch: branch.to_string() }
    })?;
    let mut step = leased_push(
        "delete",
        format!(
            "delete {branch} on {remote} (only if it is still {} and tag {kept_by} keeps it)",
            tip.short()
        ),
        remote,
        &reference,
        Some(tip),
        None,
        false,
    );
    step.precondition.push(Check::RemoteTag { tag: kept_by.to_string(), commit: tip });
    Ok(Plan {
        operation: format!("delete {branch} on {remote}"),
        remote: remote.to_string(),
        steps: vec![step],
        restore: Some(Restore { reference, old: tip, tag: kept_by.to_string() }),
        notice: None,
    })
}

/// Plans the follow-ups: each is cherry-picked onto the tip so far (by `git merge-tree`, in
/// a scratch object directory at plan time so the plan names every id), committed with its
/// author kept, and pushed with the tip so far as the lease.
fn followups(
    repo: &Repo,
    request: &ReplaceRequest,
    tip: ObjectId,
    tip_text: Option<String>,
) -> Result<(ObjectId, Vec<Step>), ReplaceError> {
    if request.followups.is_empty() {
        return Ok((tip, Vec::new()));
    }
    let scratch = tempfile::Builder::new()
        .prefix("regraft-plan-")
        .tempdir_in(crate::simulation::scratch_parent())
        .map_err(|e| ReplaceError::Scratch(e.to_string()))?;
    let real = repo.objects_dir();
    let env: [(&str, &std::ffi::OsStr); 2] = [
        ("GIT_OBJECT_DIRECTORY", scratch.path().as_os_str()),
        ("GIT_ALTERNATE_OBJECT_DIRECTORIES", real.as_os_str()),
    ];
    let git = repo.git();
    // The megapatch or merge commit exists only in the plan so far: write it to the scratch.
    if let Some(text) = tip_text {
        git.output_with_input_env(
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            &env,
            text.as_bytes(),
        )?;
    }
    let committer =
        String::from_utf8_lossy(&git.output(&["var", "GIT_COMMITTER_IDENT"])?).trim().to_string();
    let reference = format!("refs/heads/{}", request.branch);
    let (remote, branch) = (request.remote.as_str(), request.branch.as_str());
    let mut steps = Vec::new();
    let mut tip = tip;
    for (n, spec) in request.followups.iter().enumerate() {
        let commit = repo.resolve_commit(spec)?;
        let info = repo.commit_info(commit)?;
        let parent = info.parents.first().copied().unwrap_or(commit);
        let base = format!("--merge-base={parent}");
        let merge = [
            "merge-tree",
            "--write-tree",
            "--name-only",
            "-z",
            &base,
            &tip.to_hex(),
            &commit.to_hex(),
        ];
        let (code, out) = git.output_with_env(&merge, &env, &[1])?;
        let fields: Vec<&[u8]> = out.split(|b| *b == 0).collect();
        let tree = fields
            .first()
            .and_then(|t| ObjectId::from_hex(t))
            .ok_or_else(|| ReplaceError::Scratch("merge-tree gave no tree".into()))?;
        if code == 1 {
            let files: Vec<String> = fields[1..]
                .iter()
                .take_while(|f| !f.is_empty())
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            return Err(ReplaceError::FollowupConflict {
                spec: spec.clone(),
                commit: commit.short(),
                files: files.join(", "),
            });
        }
        let origin = repo.commit_origin(commit)?;
        let message = crate::message::backport_message(&origin.message, &commit.to_hex());
        let mut text = format!(
            "tree {tree}\nparent {tip}\nauthor {} <{}> {}\ncommitter {committer}\n\n",
            origin.author_name, origin.author_email, origin.author_date
        )
        .into_bytes();
        text.extend_from_slice(&message);
        let text = String::from_utf8_lossy(&text).into_owned();
        let out = git.output_with_input_env(
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            &env,
            text.as_bytes(),
        )?;
        let new = ObjectId::from_hex(String::from_utf8_lossy(&out).trim().as_bytes())
            .ok_or_else(|| ReplaceError::Scratch("hash-object gave no id".into()))?;
        let k = n + 1;
        steps.push(Step {
            id: format!("followup-{k}-tree"),
            description: format!(
                "pick follow-up {} ({}) onto {}: merge to tree {}",
                commit.short(),
                info.summary,
                tip.short(),
                tree.short()
            ),
            action: Some(merge.iter().map(|w| (*w).to_string()).collect()),
            input: None,
            review: None,
            precondition: vec![Check::LocalObject { id: tip }],
            verification: vec![Check::LocalObject { id: tree }],
        });
        steps.push(Step {
            id: format!("followup-{k}-commit"),
            description: format!("write the follow-up commit {} (author kept)", new.short()),
            action: argv(&["hash-object", "-t", "commit", "-w", "--stdin"]),
            input: Some(text),
            review: None,
            precondition: vec![],
            verification: vec![Check::LocalObject { id: new }],
        });
        steps.push(leased_push(
            &format!("followup-{k}-push"),
            format!(
                "fast-forward {branch} on {remote} to {} (only if it is still {})",
                new.short(),
                tip.short()
            ),
            remote,
            &reference,
            Some(tip),
            Some(new),
            false,
        ));
        tip = new;
    }
    Ok((tip, steps))
}
