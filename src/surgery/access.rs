//! Gerrit's Check Access asked while planning: every right a plan needs (deleting and
//! creating its branch, pushing its tag, abandoning its reviews), so that a server that
//! would refuse one refuses the plan before the tag is pushed or a review abandoned.
//!
//! Gerrit answers `GET /a/projects/{project}/check.access?account=..&ref=..&perm=..`
//! (rest-api-projects.html "Check Access") for an account with the View Access capability.
//! A question that cannot be asked (no credentials, a caller without that capability, an
//! older Gerrit without the endpoint, a server that does not answer) never blocks the
//! plan: it gets a note saying which rights were not checked and why. Check Access has no
//! force flag, so a forced push is asked as a plain `push` and the note says so.

use serde::{Deserialize, Serialize};

use crate::git::action::{GitAction, Refspec};
use crate::git::repo::Repo;
use crate::review::{GerritUrl, HostFactory, ReviewError};
use crate::surgery::plan::{Action, BranchChange, Plan, ReviewCall};
use crate::surgery::step_id::{StepId, StepKind};

/// One right a plan needs on the review server, and what the server answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessCheck {
    pub gerrit: GerritUrl,
    pub project: String,
    /// The file that named the server when the user did not: credentials follow the same
    /// rules as for the plan's review steps (see [`crate::review::Named`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
    /// The ref, in full (`refs/heads/stable/liberty`).
    pub reference: String,
    /// Gerrit's name of the permission (`delete`, `create`, `createTag`, `push`, `abandon`).
    pub permission: String,
    /// The steps that need it.
    pub steps: Vec<StepId>,
    #[serde(flatten)]
    pub answer: AccessAnswer,
}

/// What the server said about one right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "answer")]
pub enum AccessAnswer {
    /// `AccessCheckInfo.status` 200.
    Allowed,
    /// `AccessCheckInfo.status` 403, with Gerrit's message.
    Denied { message: String },
    /// The question could not be asked, or got no answer that says (why).
    NotAsked { why: String },
}

/// The review server and project whose rights a plan needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub gerrit: GerritUrl,
    pub project: String,
    pub found_in: Option<String>,
}

impl From<&crate::surgery::replace::ReviewTarget> for Server {
    fn from(target: &crate::surgery::replace::ReviewTarget) -> Server {
        Server {
            gerrit: target.gerrit.clone(),
            project: target.project.clone(),
            found_in: target.found_in.clone(),
        }
    }
}

/// A right a plan needs: a permission on a ref, and the steps that need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub reference: String,
    pub permission: &'static str,
    pub steps: Vec<StepId>,
}

/// Returns the rights `plan` needs, each distinct (ref, permission) once in the order the
/// steps first need them, and the refs it force-pushes (with the step), which Check Access
/// cannot ask about.
///
/// The permissions are Gerrit's (access-control.html): a push deleting a ref needs
/// `delete`; one creating a branch `create`; an annotated tag pushed `createTag`; moving a
/// branch `push` (forced: `push` with force); a push for review `push` on
/// `refs/for/refs/heads/B`; abandoning or restoring reviews `abandon` on the branch;
/// Gerrit's REST branch calls the same as the pushes, and its Create Tag with a message
/// both `create` and `createTag` on the tag.
pub fn needed(plan: &Plan) -> (Vec<Need>, Vec<(String, StepId)>) {
    let mut needs: Vec<Need> = Vec::new();
    let mut forced = Vec::new();
    let mut need = |reference: String, permission: &'static str, step: StepId| match needs
        .iter_mut()
        .find(|n| n.reference == reference && n.permission == permission)
    {
        Some(n) if !n.steps.contains(&step) => n.steps.push(step),
        Some(_) => {}
        None => needs.push(Need { reference, permission, steps: vec![step] }),
    };
    for step in &plan.steps {
        match &step.action {
            Action::Git(GitAction::Push(push)) => match &push.refspec {
                Refspec::Delete { reference } => need(reference.clone(), "delete", step.id),
                Refspec::Tag { reference } => need(reference.clone(), "createTag", step.id),
                Refspec::Update { reference, .. } => {
                    if let Some(branch) = reference.strip_prefix("refs/for/") {
                        let target = if branch.starts_with("refs/") {
                            branch.to_string()
                        } else {
                            format!("refs/heads/{branch}")
                        };
                        need(format!("refs/for/{target}"), "push", step.id);
                    } else if push.lease.as_ref().is_some_and(|l| l.expected.is_none()) {
                        need(reference.clone(), "create", step.id);
                    } else {
                        need(reference.clone(), "push", step.id);
                        if matches!(step.id.kind, StepKind::Reset | StepKind::Undo(_)) {
                            forced.push((reference.clone(), step.id));
                        }
                    }
                }
            },
            Action::Review(review) => {
                let branch = format!("refs/heads/{}", review.branch);
                match &review.call {
                    ReviewCall::Abandon { .. } | ReviewCall::Restore { .. } => {
                        need(branch, "abandon", step.id)
                    }
                    ReviewCall::DeleteBranch => need(branch, "delete", step.id),
                    ReviewCall::CreateBranch { .. } => need(branch, "create", step.id),
                    ReviewCall::CreateTag { tag, .. } => {
                        need(format!("refs/tags/{tag}"), "create", step.id);
                        need(format!("refs/tags/{tag}"), "createTag", step.id);
                    }
                }
            }
            // A forge step asks a forge, not Gerrit.
            Action::Git(_) | Action::Forge(_) | Action::Check => {}
        }
    }
    (needs, forced)
}

/// Returns the name Gerrit's access screen gives `permission`, for the hint of what to ask
/// the project's owners for.
pub fn right_name(permission: &str) -> &str {
    match permission {
        "delete" => "Delete Reference",
        "create" => "Create Reference",
        "createTag" => "Create Annotated Tag",
        "createSignedTag" => "Create Signed Tag",
        "push" => "Push",
        "abandon" => "Abandon",
        other => other,
    }
}

/// Asks `server`, reached through `hosts` (its timeout, its credentials), about every right
/// `plan` needs and records the answers in `plan.access`;
/// what cannot be asked is recorded as not asked, with a note in `plan.notes`. Never
/// fails and changes nothing anywhere: a refusal is read with [`refusal`].
pub fn check(repo: &Repo, hosts: &dyn HostFactory, plan: &mut Plan, server: Option<Server>) {
    let Some(server) = server else { return };
    let (needs, forced) = needed(plan);
    if needs.is_empty() {
        return;
    }
    let answers = ask(repo, hosts, &server, &needs);
    let mut not_asked: Vec<String> = Vec::new();
    let mut why_not = None;
    for (need, answer) in needs.into_iter().zip(answers) {
        if let AccessAnswer::NotAsked { why } = &answer {
            not_asked.push(format!("{} on {}", need.permission, need.reference));
            why_not.get_or_insert_with(|| why.clone());
        }
        plan.access.push(AccessCheck {
            gerrit: server.gerrit.clone(),
            project: server.project.clone(),
            found_in: server.found_in.clone(),
            reference: need.reference,
            permission: need.permission.to_string(),
            steps: need.steps,
            answer,
        });
    }
    if let Some(why) = why_not {
        plan.notes.push(format!(
            "the rights the plan needs were not checked with {} before it runs ({}): {why}; the server says whether it allows them only when each step runs",
            server.gerrit,
            not_asked.join(", ")
        ));
    }
    for (reference, step) in forced {
        plan.notes.push(format!(
            "step {step} force-pushes {reference}: Gerrit's Check Access has no force flag, so only `push` on it was asked; whether {} allows the forced push is known when the step runs",
            server.gerrit
        ));
    }
}

/// Asks again, for a saved plan about to be shown or run, every right its file records
/// (the server's answer may have changed since it was written). A permission regraft does
/// not ask about is left not asked.
pub fn check_again(repo: &Repo, hosts: &dyn HostFactory, plan: &mut Plan) {
    let mut servers: Vec<Server> = Vec::new();
    for c in &plan.access {
        let server = Server {
            gerrit: c.gerrit.clone(),
            project: c.project.clone(),
            found_in: c.found_in.clone(),
        };
        if !servers.contains(&server) {
            servers.push(server);
        }
    }
    for server in servers {
        let mut asked = Vec::new();
        let mut needs = Vec::new();
        for (i, c) in plan.access.iter_mut().enumerate() {
            if (c.gerrit.clone(), &c.project, &c.found_in)
                != (server.gerrit.clone(), &server.project, &server.found_in)
            {
                continue;
            }
            match PERMISSIONS.into_iter().find(|p| *p == c.permission) {
                Some(permission) => {
                    asked.push(i);
                    needs.push(Need {
                        reference: c.reference.clone(),
                        permission,
                        steps: c.steps.clone(),
                    });
                }
                None => {
                    c.answer = AccessAnswer::NotAsked {
                        why: "not a permission regraft asks about".to_string(),
                    }
                }
            }
        }
        for (i, answer) in asked.into_iter().zip(ask(repo, hosts, &server, &needs)) {
            plan.access[i].answer = answer;
        }
    }
}

/// The permissions regraft asks about.
const PERMISSIONS: [&str; 5] = ["delete", "create", "createTag", "push", "abandon"];

/// Asks the server each need's question; returns one answer per need. Whatever keeps the
/// questions from being asked (credentials, the account, the endpoint) is every answer's
/// `NotAsked`.
fn ask(repo: &Repo, hosts: &dyn HostFactory, server: &Server, needs: &[Need]) -> Vec<AccessAnswer> {
    let not_asked = |why: String| vec![AccessAnswer::NotAsked { why }; needs.len()];
    let named = crate::review::Named::from_found_in(server.found_in.as_deref());
    // Through the factory, as the plan's steps: the same credentials, trust and timeout.
    let host = match hosts.gerrit(repo.git(), &server.gerrit, named) {
        Ok(host) => host,
        Err(ReviewError::NoCredentials { .. }) => {
            return not_asked("no credentials for it".to_string());
        }
        Err(e) => return not_asked(e.to_string()),
    };
    let account = match host.own_account() {
        Ok(account) => account.id,
        Err(e) => return not_asked(format!("its own account could not be read ({e})")),
    };
    let mut answers = Vec::with_capacity(needs.len());
    for (n, need) in needs.iter().enumerate() {
        let answer =
            match host.check_access(&server.project, account, &need.reference, need.permission) {
                Ok(info) => match info.status {
                    200 => AccessAnswer::Allowed,
                    403 => AccessAnswer::Denied {
                        message: info.message.unwrap_or_else(|| "denied".to_string()),
                    },
                    404 => AccessAnswer::NotAsked {
                        why: format!(
                            "it knows no project {}{}",
                            server.project,
                            info.message.map(|m| format!(" ({m})")).unwrap_or_default()
                        ),
                    },
                    other => AccessAnswer::NotAsked {
                        why: format!(
                            "Check Access answered status {other}{}",
                            info.message.map(|m| format!(": {m}")).unwrap_or_default()
                        ),
                    },
                },
                Err(e) => {
                    // The endpoint itself is out of reach: the other questions would fare
                    // no better.
                    let why = unanswered(&e);
                    answers.extend(vec![AccessAnswer::NotAsked { why }; needs.len() - n]);
                    return answers;
                }
            };
        answers.push(answer);
    }
    answers
}

/// Says why Check Access gave no answer.
fn unanswered(error: &ReviewError) -> String {
    match error {
        ReviewError::Unauthorized { status: 403, .. } => {
            "the account may not use Check Access (it needs Gerrit's View Access capability)"
                .to_string()
        }
        ReviewError::Status { status: 404, .. } => {
            "the server has no Check Access (a Gerrit older than 2.16?)".to_string()
        }
        other => format!("Check Access gave no answer ({other})"),
    }
}

/// A right the server denies, which refuses the plan before anything runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{gerrit} denies `{permission}` on {reference} of {project}, which step {step} needs ({description}): {message}; the plan was refused before anything changed"
)]
pub struct AccessDenied {
    pub gerrit: String,
    pub project: String,
    pub reference: String,
    pub permission: String,
    pub step: StepId,
    pub description: String,
    /// Gerrit's message.
    pub message: String,
    /// The branch the plan replaces and with what, when it replaces one (the strategies
    /// that need no delete are the way on).
    pub replacing: Option<(String, String)>,
}

/// A denial is what the server says of the user's rights.
impl crate::ErrorOrigin for AccessDenied {
    fn is_user_input(&self) -> bool {
        true
    }
}

/// Returns the first right `plan` needs that the server denies, if any.
pub fn refusal(plan: &Plan) -> Option<AccessDenied> {
    plan.access.iter().find_map(|c| {
        let AccessAnswer::Denied { message } = &c.answer else { return None };
        let step = *c.steps.first()?;
        let description = plan
            .steps
            .iter()
            .find(|s| s.id == step)
            .map(|s| s.description.clone())
            .unwrap_or_default();
        let replacing = plan.notice.as_ref().and_then(|n| match n.strategy {
            BranchChange::Replaced(_) => Some((n.branch.clone(), n.source.clone()?)),
            BranchChange::EndOfLife => None,
        });
        Some(AccessDenied {
            gerrit: c.gerrit.to_string(),
            project: c.project.clone(),
            reference: c.reference.clone(),
            permission: c.permission.clone(),
            step,
            description,
            message: message.clone(),
            replacing,
        })
    })
}

impl AccessCheck {
    /// Describes the check and its answer in words.
    pub fn describe(&self) -> String {
        let steps: Vec<String> = self.steps.iter().map(StepId::to_string).collect();
        let what =
            format!("`{}` on {} (step {})", self.permission, self.reference, steps.join(", "));
        match &self.answer {
            AccessAnswer::Allowed => format!("allowed: {what}"),
            AccessAnswer::Denied { message } => format!("DENIED: {what}: {message}"),
            AccessAnswer::NotAsked { why } => format!("not checked: {what}: {why}"),
        }
    }
}
