//! Saved plans: the plan a release team reviewed, written to a file (`--plan-out`) and
//! executed exactly as written (`--plan FILE --execute`), refused when the file holds a step
//! regraft would not have made or when the remote no longer holds what the plan expects.
//!
//! A plan file is input like any other: every step is checked against the shapes of the
//! steps regraft builds, every name against git's rules, every commit a step writes against
//! the id the plan names, and every review request against the call it stands for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::git::action::GitAction;
use crate::git::repo::Repo;
use crate::oid::ObjectId;
use crate::surgery::operation::{Action, Check, Plan, ReviewStep, Step};

/// Errors from reading or checking a saved plan.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not a regraft plan: {message}")]
    Malformed { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: step {step}: {problem}; regraft makes no such step, so the plan is refused")]
    Step { path: PathBuf, step: String, problem: String },
    #[error(
        "{path}: the plan expects {remote} {reference} to be {expected}, and it is {found} now; nothing was run (make and review a new plan)"
    )]
    Stale { path: PathBuf, remote: String, reference: String, expected: String, found: String },
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

/// A plan file is the user's input; asking the remote what it holds now is git's work.
impl crate::ErrorOrigin for SavedPlanError {
    fn is_user_input(&self) -> bool {
        match self {
            SavedPlanError::Read { .. }
            | SavedPlanError::Malformed { .. }
            | SavedPlanError::Step { .. }
            | SavedPlanError::Stale { .. } => true,
            SavedPlanError::Git(_) => false,
        }
    }
}

/// Writes `plan` to `path` as the JSON `--json` prints.
pub fn write(plan: &Plan, path: &Path) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(plan).expect("a plan serializes");
    text.push(b'\n');
    std::fs::write(path, text)
}

/// Reads the plan in `path` and checks every step (see the module's doc); nothing runs.
pub fn read(repo: &Repo, path: &Path) -> Result<Plan, SavedPlanError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| SavedPlanError::Read { path: path.to_path_buf(), source })?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| SavedPlanError::Malformed {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let refuse = |step: &str, problem: String| SavedPlanError::Step {
        path: path.to_path_buf(),
        step: step.to_string(),
        problem,
    };
    repo.check_remote(&plan.remote).map_err(|e| refuse("(plan)", e.to_string()))?;
    check_steps(repo, &plan).map_err(|(step, problem)| refuse(&step, problem))?;
    let mut plan = plan;
    named_by_file(repo, &mut plan, path);
    Ok(plan)
}

/// Marks every server a plan read from `path` talks to as named by that file, where the
/// plan says the user named it: whoever wrote the file chose the server. A forge's token
/// then goes to it only when it is the forge's public server or the one the user
/// configured (`git config regraft.reviewHost github:URL`; see
/// [`crate::review::forge::find_token`]); `REGRAFT_GERRIT_USER` and
/// `REGRAFT_GERRIT_PASSWORD` go to a Gerrit (its review steps, its open-reviews checks,
/// its Check Access) only when it is one the user configured (`git config regraft.gerrit`
/// or `regraft.reviewHost gerrit:URL`): a credential helper, which git scopes to its host,
/// serves the others. A server the user names again on the command line gets them
/// ([`confirm_forge_host`], [`confirm_gerrit`]).
fn named_by_file(repo: &Repo, plan: &mut Plan, path: &Path) {
    let file = format!("plan file {}", path.display());
    let configured = crate::surgery::review_host::configured_gerrits(repo);
    let configured_forge = crate::surgery::review_host::configured_forge(repo);
    let mark = |gerrit: &crate::review::GerritUrl, found_in: &mut Option<String>| {
        if found_in.is_none() && !configured.contains(gerrit) {
            *found_in = Some(file.clone());
        }
    };
    for step in &mut plan.steps {
        match &mut step.action {
            Action::Forge(forge)
                if forge.found_in.is_none() && configured_forge.as_ref() != Some(&forge.host) =>
            {
                forge.found_in = Some(file.clone());
            }
            Action::Review(review) => mark(&review.gerrit, &mut review.found_in),
            _ => {}
        }
        for check in step.precondition.iter_mut().chain(step.verification.iter_mut()) {
            if let Check::NoOpenReviews { gerrit, found_in, .. } = check {
                mark(gerrit, found_in);
            }
        }
    }
    for access in &mut plan.access {
        mark(&access.gerrit, &mut access.found_in);
    }
}

/// Takes every review step, open-reviews check and access check of `plan` on `gerrit` as
/// named by the user, who named it on the command line beside the plan file (`--gerrit
/// URL`, `--review-host gerrit:URL`).
pub fn confirm_gerrit(plan: &mut Plan, gerrit: &crate::review::GerritUrl) {
    for step in &mut plan.steps {
        if let Action::Review(review) = &mut step.action
            && review.gerrit == *gerrit
        {
            review.found_in = None;
        }
        for check in step.precondition.iter_mut().chain(step.verification.iter_mut()) {
            if let Check::NoOpenReviews { gerrit: named, found_in, .. } = check
                && named == gerrit
            {
                *found_in = None;
            }
        }
    }
    for access in &mut plan.access {
        if access.gerrit == *gerrit {
            access.found_in = None;
        }
    }
}

/// Takes the forge steps of `plan` on `host` as named by the user, who named it on the
/// command line beside the plan file (`--review-host github:URL`).
pub fn confirm_forge_host(plan: &mut Plan, host: &crate::review::forge::ForgeHost) {
    for step in &mut plan.steps {
        if let Action::Forge(forge) = &mut step.action
            && forge.host == *host
        {
            forge.found_in = None;
        }
    }
}

/// Returns the forges the plan's steps talk to (host, repository, who named it), each once:
/// their branch rules are read before the plan is shown or run, as for a plan made now
/// ([`crate::surgery::review_host::read_rules`]).
pub fn forge_targets(plan: &Plan) -> Vec<crate::surgery::replace::ForgeTarget> {
    let mut targets: Vec<crate::surgery::replace::ForgeTarget> = Vec::new();
    for forge in plan.steps.iter().filter_map(Step::forge) {
        let target = crate::surgery::replace::ForgeTarget {
            host: forge.host.clone(),
            repository: forge.repository.clone(),
            found_in: forge.found_in.clone(),
        };
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    targets
}

/// Checks every step of `plan` for what reading it could not (see [`check_step`]); returns
/// the first step that fails, by id, and why. Journals are checked the same way before
/// `--continue` or `--abort` trusts them.
pub fn check_steps(repo: &Repo, plan: &Plan) -> Result<(), (String, String)> {
    for step in &plan.steps {
        check_step(repo, plan, step).map_err(|problem| (step.id.to_string(), problem))?;
    }
    Ok(())
}

/// Refuses the plan when the remote no longer holds, for any ref the plan touches, the
/// value its first step on that ref expects (a plan reviewed yesterday must not run against
/// today's remote). Steps already done by a resumed run are not the saved plan's concern:
/// this is for a plan about to start.
pub fn check_current(repo: &Repo, plan: &Plan, path: &Path) -> Result<(), SavedPlanError> {
    let mut expected: BTreeMap<String, Option<ObjectId>> = BTreeMap::new();
    for step in &plan.steps {
        for check in &step.precondition {
            if let Check::RemoteRef { reference, expected: value } = check {
                expected.entry(reference.clone()).or_insert(*value);
            }
        }
    }
    let references: Vec<String> = expected.keys().cloned().collect();
    let now = crate::git::remote::ls_remote(repo.git(), &plan.remote, &references)?;
    let describe = |v: Option<ObjectId>| v.map_or("absent".to_string(), |id| id.short());
    for (reference, value) in expected {
        let found = now.get(&reference).copied();
        if found != value {
            return Err(SavedPlanError::Stale {
                path: path.to_path_buf(),
                remote: plan.remote.clone(),
                reference,
                expected: describe(value),
                found: describe(found),
            });
        }
    }
    Ok(())
}

/// Checks what reading the step could not: that it talks to the plan's remote, that a
/// commit it writes is the one the plan names, and that its review requests are its call's.
/// The step's shape and names were checked when it was read ([`GitAction::from_argv`]).
fn check_step(repo: &Repo, plan: &Plan, step: &Step) -> Result<(), String> {
    let action = match &step.action {
        Action::Review(review) => return check_review(review),
        Action::Forge(forge) => return check_forge(forge),
        Action::Check => return Ok(()),
        Action::Git(action) => action,
    };
    let remote = plan.remote.as_str();
    if let Some(r) = action.remote().filter(|r| *r != remote) {
        return Err(format!("talks to `{r}`, not the plan's remote `{remote}`"));
    }
    if let GitAction::WriteCommit { text } = action {
        let named = step.verification.iter().find_map(|c| match c {
            Check::LocalObject { id } => Some(*id),
            _ => None,
        });
        let id = repo.git().commit_id_of(text.as_bytes()).map_err(|e| e.to_string())?;
        if named != Some(id) {
            return Err(format!(
                "its commit text hashes to {}, not the {} the plan names",
                id.short(),
                named.map_or("nothing".into(), |n| n.short())
            ));
        }
    }
    Ok(())
}

/// A forge step's names must be valid and its requests exactly those its call sends.
fn check_forge(forge: &crate::surgery::plan::ForgeStep) -> Result<(), String> {
    crate::git::names::check_branch(&forge.branch).map_err(|e| e.to_string())?;
    crate::review::forge::check_repository(forge.host.kind, &forge.repository)
        .map_err(|e| e.to_string())?;
    match &forge.call {
        crate::review::forge::ForgeCall::Retarget { from, to } => {
            for name in [from, to] {
                crate::git::names::check_branch(name).map_err(|e| e.to_string())?;
            }
        }
        crate::review::forge::ForgeCall::Open { head, .. } => {
            crate::git::names::check_branch(head).map_err(|e| e.to_string())?;
        }
        _ => {}
    }
    let expected = crate::surgery::plan::ForgeStep::new(
        forge.host.clone(),
        &forge.repository,
        &forge.branch,
        forge.call.clone(),
    );
    if expected.requests != forge.requests {
        return Err("its HTTP requests are not the ones its call sends".into());
    }
    Ok(())
}

/// A review step's requests must be exactly those its call sends.
fn check_review(review: &ReviewStep) -> Result<(), String> {
    crate::git::names::check_branch(&review.branch).map_err(|e| e.to_string())?;
    let expected = ReviewStep::new(
        review.gerrit.clone(),
        &review.project,
        &review.branch,
        review.call.clone(),
    );
    if expected.requests != review.requests {
        return Err("its HTTP requests are not the ones its call sends".into());
    }
    Ok(())
}
