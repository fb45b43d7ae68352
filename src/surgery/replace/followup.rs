//! Follow-up patches and the megapatch or merge commit, computed at plan time so the plan
//! names every id.

use super::{ReplaceError, ReplaceRequest, Strategy, leased_push};
use crate::git::action::GitAction;
use crate::git::repo::Repo;
use crate::oid::ObjectId;
use crate::surgery::operation::{Action, Check, Step, StepKind};

/// Plans the follow-ups: each is cherry-picked onto the tip so far (by `git merge-tree`, in
/// a scratch object directory at plan time so the plan names every id), committed with its
/// author kept, and pushed with the tip so far as the lease.
pub(super) fn followups(
    repo: &Repo,
    request: &ReplaceRequest,
    tip: ObjectId,
    tip_text: Option<String>,
) -> Result<(ObjectId, Vec<Step>), ReplaceError> {
    if request.followups.is_empty() {
        return Ok((tip, Vec::new()));
    }
    let scratch = crate::git::scratch::ScratchObjects::new(repo, "plan")
        .map_err(|e| ReplaceError::Scratch(e.to_string()))?;
    let env = scratch.env();
    let git = repo.git();
    // The megapatch or merge commit exists only in the plan so far: write it to the scratch.
    if let Some(text) = tip_text {
        git.write_commit_text(&env, text.as_bytes())?;
    }
    let committer = repo.committer_ident()?;
    let mut steps = Vec::new();
    let mut tip = tip;
    // Every strategy with follow-ups ends with SOURCE's tree (megapatch and merge take it,
    // recreate and reset move to SOURCE), so that is the tree the first one goes onto.
    let mut tip_tree = repo.tree_of(repo.resolve_commit(&request.source)?)?;
    let mut merger = crate::analysis::simulation::Merger::start_in_scratch(git, &env)?;
    for (n, spec) in request.followups.iter().enumerate() {
        let commit = repo.resolve_commit(spec)?;
        let info = repo.commit_info(commit)?;
        let parent = info.parents.first().copied().unwrap_or(commit);
        let answer = merger.merge(parent, tip_tree, commit)?;
        if !answer.clean {
            return Err(ReplaceError::FollowupConflict {
                spec: spec.clone(),
                commit: commit.short(),
                files: answer.conflicts.join(", "),
            });
        }
        let tree = answer.tree;
        let text = followup_text(repo, commit, tree, tip, &committer)?;
        let new = git.write_commit_text(&env, text.as_bytes())?;
        let planned = Followup { k: n + 1, commit, parent, summary: info.summary, tip, tree, new };
        steps.extend(planned.steps(request, text));
        tip = new;
        tip_tree = tree;
    }
    merger.finish()?;
    Ok((tip, steps))
}

/// Returns the text of the follow-up `commit` picked onto `tip` with the tree `tree`: its
/// author and message kept, with a cherry-pick line.
fn followup_text(
    repo: &Repo,
    commit: ObjectId,
    tree: ObjectId,
    tip: ObjectId,
    committer: &str,
) -> Result<String, ReplaceError> {
    let origin = repo.commit_origin(commit)?;
    let message = crate::text::message::backport_message(&origin.message, &commit.to_hex());
    let mut text = format!(
        "tree {tree}\nparent {tip}\nauthor {} <{}> {}\ncommitter {committer}\n\n",
        origin.author_name, origin.author_email, origin.author_date
    )
    .into_bytes();
    text.extend_from_slice(&message);
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// One follow-up as planned: the `k`-th (from 1), `commit` picked onto `tip` as `new`.
struct Followup {
    k: usize,
    commit: ObjectId,
    parent: ObjectId,
    summary: String,
    tip: ObjectId,
    tree: ObjectId,
    new: ObjectId,
}

impl Followup {
    /// Returns its three steps: merge to the tree, write the commit (`text`), push it with
    /// the tip so far as the lease.
    fn steps(self, request: &ReplaceRequest, text: String) -> [Step; 3] {
        let Followup { k, commit, parent, summary, tip, tree, new } = self;
        let (remote, branch) = (request.remote.as_str(), request.branch.as_str());
        let merge = Step {
            id: StepKind::FollowupTree(k).into(),
            description: format!(
                "pick follow-up {} ({}) onto {}: merge to tree {}",
                commit.short(),
                summary,
                tip.short(),
                tree.short()
            ),
            // Run again at execution, it writes the same tree into the repository.
            action: Action::Git(GitAction::MergeTree { base: parent, ours: tip, theirs: commit }),
            precondition: vec![Check::LocalObject { id: tip }],
            verification: vec![Check::LocalObject { id: tree }],
        };
        let write = Step {
            id: StepKind::FollowupCommit(k).into(),
            description: format!("write the follow-up commit {} (author kept)", new.short()),
            action: Action::Git(GitAction::WriteCommit { text }),
            precondition: vec![],
            verification: vec![Check::LocalObject { id: new }],
        };
        let push = leased_push(
            StepKind::FollowupPush(k),
            format!(
                "fast-forward {branch} on {remote} to {} (only if it is still {})",
                new.short(),
                tip.short()
            ),
            remote,
            &format!("refs/heads/{branch}"),
            Some(tip),
            Some(new),
        );
        [merge, write, push]
    }
}

/// Returns the megapatch or merge commit (id and raw text), computed without writing it,
/// so the plan can name it exactly.
pub(super) fn new_commit(
    repo: &Repo,
    request: &ReplaceRequest,
    old: ObjectId,
    source: ObjectId,
) -> Result<(ObjectId, String), ReplaceError> {
    let git = repo.git();
    let (author, committer) = (git.var("GIT_AUTHOR_IDENT")?, repo.committer_ident()?);
    let tree = repo.tree_of(source)?;
    // Counted when the old tip is already here (before the plan's fetch it may not be).
    let count = repo
        .commits_since(old, source)
        .map(|c| match c.len() {
            1 => ", which has 1 commit".to_string(),
            n => format!(", which has {n} commits"),
        })
        .unwrap_or_default();
    let (subject, parents) = match request.strategy {
        Strategy::Merge => (
            format!("Merge {} into {}, taking its tree", request.source_label(), request.branch),
            vec![old, source],
        ),
        _ => (
            format!("Replace {} with the tree of {}", request.branch, request.source_label()),
            vec![old],
        ),
    };
    let mut text = format!("tree {tree}\n");
    for parent in &parents {
        text.push_str(&format!("parent {parent}\n"));
    }
    // The body is wrapped at 72 columns, as commit messages are read.
    let body = crate::text::wrap_paragraph(
        &format!(
            "The tree is exactly {}'s ({source}){count} not on {} ({old}). The old tip is kept by a tag.",
            request.source_label(),
            request.branch,
        ),
        72,
    );
    text.push_str(&format!("author {author}\ncommitter {committer}\n\n{subject}\n\n{body}\n"));
    if request.review.is_some() || request.for_review {
        // A Gerrit needs a Change-Id to review it; made as Gerrit's commit-msg hook makes
        // one, from the commit's own text.
        let digest = <sha1::Sha1 as sha1::Digest>::digest(text.as_bytes());
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&digest);
        text.push_str(&format!("\nChange-Id: I{}\n", ObjectId::from_bytes(bytes)));
    }
    let id = git.commit_id_of(text.as_bytes())?;
    Ok((id, text))
}

/// Writes, in this repository, the follow-up a tree-replacing strategy needs when SOURCE's
/// `.gitreview` sends reviews to another branch: SOURCE with `defaultbranch` set to
/// `branch` (every other byte of the file kept), with a Change-Id. The commit is kept by
/// `refs/regraft/followups/<branch>` so that a playbook naming it still finds it later.
/// Returns it with its subject; `None` when SOURCE has no `.gitreview` or it names `branch`
/// already.
pub fn write_gitreview_followup(
    repo: &Repo,
    source: ObjectId,
    branch: &str,
) -> Result<Option<(ObjectId, String)>, ReplaceError> {
    crate::git::names::check_branch(branch)?;
    let Some(text) = repo.file_at(source, ".gitreview")? else { return Ok(None) };
    let text = String::from_utf8_lossy(&text).into_owned();
    let Some(named) = crate::review::GitReview::parse(&text).map(|r| r.defaultbranch) else {
        return Ok(None);
    };
    if named.as_deref() == Some(branch) {
        return Ok(None);
    }
    let git = repo.git();
    let updated = crate::review::with_defaultbranch(&text, branch);
    let blob = git.write_blob(updated.as_bytes())?;
    // The root tree with its `.gitreview` entry pointing at the new blob.
    let tree = repo.tree_of(source)?;
    let listing = git.ls_tree_z(tree)?;
    let mut entries = Vec::new();
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        match entry.strip_suffix(b"\t.gitreview") {
            // `MODE blob ID`: the mode is kept.
            Some(head) => {
                let mode = head.split(|b| *b == b' ').next().unwrap_or(b"100644");
                entries.extend_from_slice(mode);
                entries.extend_from_slice(format!(" blob {blob}\t.gitreview").as_bytes());
            }
            None => entries.extend_from_slice(entry),
        }
        entries.push(0);
    }
    let new_tree = git.mktree_z(&entries)?;
    let ident = repo.committer_ident()?;
    let subject = format!("Update .gitreview for {branch}");
    let mut raw = format!(
        "tree {new_tree}\nparent {source}\nauthor {ident}\ncommitter {ident}\n\n{subject}\n\n\
         The branch takes the tree of {}, whose .gitreview\n\
         sends reviews to {}; those of {branch} go to {branch}.\n",
        source.short(),
        named.as_deref().unwrap_or("the Gerrit's default branch")
    );
    // A Gerrit needs a Change-Id to review it; made as Gerrit's commit-msg hook makes one.
    let digest = <sha1::Sha1 as sha1::Digest>::digest(raw.as_bytes());
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(&digest);
    raw.push_str(&format!("\nChange-Id: I{}\n", ObjectId::from_bytes(bytes)));
    let commit = repo.write_commit(raw.as_bytes())?;
    git.set_ref(
        "regraft: the .gitreview follow-up",
        &format!("refs/regraft/followups/{branch}"),
        commit,
    )?;
    Ok(Some((commit, subject)))
}

/// How follow-ups are tried on SOURCE's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tried {
    /// Each on SOURCE's tree alone.
    Alone,
    /// In order, each on SOURCE's tree with the ones before it that apply, as planning a
    /// replacement with them does.
    Chained,
}

/// Tells, for each of `followups`, the files it conflicts in when picked onto SOURCE's tree
/// as `tried` says (empty: it applies cleanly); one `git merge-tree` for them all, in
/// scratch objects, so nothing is written here.
pub fn check_followups(
    repo: &Repo,
    source: ObjectId,
    followups: &[ObjectId],
    tried: Tried,
) -> Result<Vec<Vec<String>>, ReplaceError> {
    let scratch = crate::git::scratch::ScratchObjects::new(repo, "check")
        .map_err(|e| ReplaceError::Scratch(e.to_string()))?;
    let env = scratch.env();
    let mut tree = repo.tree_of(source)?;
    let mut merger = crate::analysis::simulation::Merger::start_in_scratch(repo.git(), &env)?;
    let mut found = Vec::new();
    for commit in followups {
        let parent = repo.commit_info(*commit)?.parents.first().copied().unwrap_or(*commit);
        let answer = merger.merge(parent, tree, *commit)?;
        if answer.clean {
            if tried == Tried::Chained {
                tree = answer.tree;
            }
            found.push(Vec::new());
        } else {
            found.push(answer.conflicts);
        }
    }
    merger.finish()?;
    Ok(found)
}
