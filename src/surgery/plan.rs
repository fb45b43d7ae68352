//! A plan as data: the ordered steps of an operation that changes refs, each with its
//! exact action (a `git` argv or the review server's HTTP requests), what must hold before
//! it and how it is verified. [`crate::surgery::operation`] carries plans out.

use serde::{Deserialize, Serialize};

use crate::analysis::strategy::Strategy;
use crate::git::action::GitAction;
use crate::oid::ObjectId;
use crate::surgery::step_id::StepId;

/// Something that must be true, checked against the remote or the local repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "check")]
pub enum Check {
    /// A ref on the plan's remote points at `expected` (`None`: does not exist).
    RemoteRef { reference: String, expected: Option<ObjectId> },
    /// A tag on the plan's remote exists and peels to `commit`.
    RemoteTag { tag: String, commit: ObjectId },
    /// A local tag exists and peels to `commit`.
    LocalTag { tag: String, commit: ObjectId },
    /// A local tag does not exist.
    NoLocalTag { tag: String },
    /// The local repository has the object.
    LocalObject { id: ObjectId },
    /// A local ref points at `expected` (`None`: does not exist).
    LocalRef { reference: String, expected: Option<ObjectId> },
    /// The review server has no open review on the branch.
    NoOpenReviews {
        gerrit: crate::review::GerritUrl,
        project: String,
        branch: String,
        /// The file that named the server, when the user did not (see [`ReviewStep`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        found_in: Option<String>,
    },
}

impl Check {
    /// Describes the check in words.
    pub fn describe(&self, remote: &str) -> String {
        match self {
            Check::RemoteRef { reference, expected: Some(id) } => {
                format!("{remote} {reference} is {}", id.short())
            }
            Check::RemoteRef { reference, expected: None } => {
                format!("{remote} has no {reference}")
            }
            Check::RemoteTag { tag, commit } => {
                format!("{remote} tag {tag} points at {}", commit.short())
            }
            Check::LocalTag { tag, commit } => {
                format!("local tag {tag} points at {}", commit.short())
            }
            Check::NoLocalTag { tag } => format!("no local tag {tag}"),
            Check::LocalObject { id } => format!("the repository has {}", id.short()),
            Check::LocalRef { reference, expected: Some(id) } => {
                format!("local {reference} is {}", id.short())
            }
            Check::LocalRef { reference, expected: None } => {
                format!("there is no local {reference}")
            }
            Check::NoOpenReviews { gerrit, project, branch, .. } => {
                format!("{gerrit} has no open review on {branch} of {project}")
            }
        }
    }
}

/// One step of a plan.
///
/// It is written as it always was (`action` an argv or `null`, `input`, `review`) and read
/// back only in the shapes regraft makes: [`GitAction::from_argv`] refuses any other argv.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StepRecord", into = "StepRecord")]
pub struct Step {
    /// A stable name, used by the journal.
    pub id: StepId,
    /// What the step does, in words.
    pub description: String,
    pub action: Action,
    pub precondition: Vec<Check>,
    pub verification: Vec<Check>,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Runs git.
    Git(GitAction),
    /// Calls the review server.
    Review(ReviewStep),
    /// Calls a forge (GitHub, GitLab) about the requests on a branch.
    Forge(ForgeStep),
    /// Nothing but its checks.
    Check,
}

impl Step {
    /// Returns the git command the step runs, if it runs one.
    pub fn git(&self) -> Option<&GitAction> {
        match &self.action {
            Action::Git(action) => Some(action),
            Action::Review(_) | Action::Forge(_) | Action::Check => None,
        }
    }

    /// Returns the forge call the step makes, if it makes one.
    pub fn forge(&self) -> Option<&ForgeStep> {
        match &self.action {
            Action::Forge(forge) => Some(forge),
            Action::Git(_) | Action::Review(_) | Action::Check => None,
        }
    }

    /// Returns the review-server call the step makes, if it makes one.
    pub fn review(&self) -> Option<&ReviewStep> {
        match &self.action {
            Action::Review(review) => Some(review),
            Action::Git(_) | Action::Forge(_) | Action::Check => None,
        }
    }
}

/// A step as journals and plan files hold it.
#[derive(Serialize, Deserialize)]
struct StepRecord {
    id: StepId,
    description: String,
    /// The exact `git` arguments (after `git`), or none for a step that runs no git.
    action: Option<Vec<String>>,
    /// What the action reads on standard input.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    input: Option<String>,
    precondition: Vec<Check>,
    verification: Vec<Check>,
    /// A review-server action instead of a git one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    review: Option<ReviewStep>,
    /// A forge action instead of a git one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    forge: Option<ForgeStep>,
}

impl From<Step> for StepRecord {
    fn from(step: Step) -> StepRecord {
        let Step { id, description, action, precondition, verification } = step;
        let (action, input, review, forge) = match action {
            Action::Git(git) => (Some(git.argv()), git.input().map(str::to_string), None, None),
            Action::Review(review) => (None, None, Some(review), None),
            Action::Forge(forge) => (None, None, None, Some(forge)),
            Action::Check => (None, None, None, None),
        };
        StepRecord { id, description, action, input, precondition, verification, review, forge }
    }
}

impl TryFrom<StepRecord> for Step {
    type Error = String;

    fn try_from(record: StepRecord) -> Result<Step, String> {
        let StepRecord {
            id,
            description,
            action,
            input,
            precondition,
            verification,
            review,
            forge,
        } = record;
        let refuse = |problem: String| format!("step {id}: {problem}");
        let action = match (action, review, forge) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                return Err(refuse(
                    "more than one of a git action, a review and a forge call".into(),
                ));
            }
            (Some(argv), None, None) => {
                Action::Git(GitAction::from_argv(&argv, input).map_err(refuse)?)
            }
            (None, ..) if input.is_some() => return Err(refuse("input without an action".into())),
            (None, Some(review), None) => Action::Review(review),
            (None, None, Some(forge)) => Action::Forge(forge),
            (None, None, None) => Action::Check,
        };
        Ok(Step { id, description, action, precondition, verification })
    }
}

/// A call to a Gerrit server about one branch of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewStep {
    pub gerrit: crate::review::GerritUrl,
    pub project: String,
    pub branch: String,
    pub call: ReviewCall,
    /// The HTTP requests the call sends, exactly (method, path after `/a/`, body); for
    /// an abandon, the first page of the listing and the abandon of one review, whose
    /// `{number}` is each listed review's.
    #[serde(default)]
    pub requests: Vec<crate::review::HttpCall>,
    /// The file that named the server when the user did not (`.gitreview on
    /// origin/stable/liberty`): the environment's credentials never go to it (see
    /// [`crate::review::Named`]). Absent in plans and journals where the user named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
}

impl ReviewStep {
    /// Returns the step for `call`, with the requests it sends.
    pub fn new(
        gerrit: crate::review::GerritUrl,
        project: &str,
        branch: &str,
        call: ReviewCall,
    ) -> ReviewStep {
        use crate::review::HttpCall;
        let requests = match &call {
            ReviewCall::Abandon { message } => vec![
                HttpCall::open_changes(project, branch, 0),
                HttpCall::abandon_any(project, message),
            ],
            ReviewCall::Restore { message, .. } => vec![HttpCall::restore_any(project, message)],
            ReviewCall::DeleteBranch => vec![HttpCall::delete_branch(project, branch)],
            ReviewCall::CreateBranch { revision } => {
                vec![HttpCall::create_branch(project, branch, *revision)]
            }
            ReviewCall::CreateTag { tag, revision, message } => {
                vec![HttpCall::create_tag(project, tag, *revision, message)]
            }
        };
        ReviewStep {
            gerrit,
            project: project.to_string(),
            branch: branch.to_string(),
            call,
            requests,
            found_in: None,
        }
    }

    /// Returns the step with the file that named its server, when the user did not.
    pub fn found_in(self, found_in: Option<String>) -> ReviewStep {
        ReviewStep { found_in, ..self }
    }

    /// Returns who named the step's server.
    pub fn named(&self) -> crate::review::Named<'_> {
        crate::review::Named::from_found_in(self.found_in.as_deref())
    }
}

/// A call to a forge (GitHub, GitLab) about the requests on one branch of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgeStep {
    pub host: crate::review::forge::ForgeHost,
    /// `owner/name` (GitHub), `group/sub/name` (GitLab).
    pub repository: String,
    pub branch: String,
    pub call: crate::review::forge::ForgeCall,
    /// The HTTP requests the call sends, exactly (method, path after the API's root,
    /// body); `{number}` stands for each request's number.
    #[serde(default)]
    pub requests: Vec<crate::review::HttpCall>,
    /// The file that named the host when the user did not: the environment's token never
    /// goes to it unless it is the forge's public server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
}

impl ForgeStep {
    /// Returns the step for `call`, with the requests it sends.
    pub fn new(
        host: crate::review::forge::ForgeHost,
        repository: &str,
        branch: &str,
        call: crate::review::forge::ForgeCall,
    ) -> ForgeStep {
        let requests = crate::review::forge::shown_calls(&host, repository, branch, &call);
        ForgeStep {
            host,
            repository: repository.to_string(),
            branch: branch.to_string(),
            call,
            requests,
            found_in: None,
        }
    }

    /// Returns who named the step's host.
    pub fn named(&self) -> crate::review::Named<'_> {
        crate::review::Named::from_found_in(self.found_in.as_deref())
    }
}

/// What the call does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "call")]
pub enum ReviewCall {
    /// Abandon every open review on the branch (recorded for restore).
    Abandon { message: String },
    /// Restore the reviews this operation abandoned on the branch (from the record).
    Restore {
        message: String,
        /// Restore those another operation abandoned, as the record names it (an undo's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        of: Option<String>,
    },
    /// `DELETE /a/projects/{project}/branches/{branch}`.
    DeleteBranch,
    /// `PUT /a/projects/{project}/branches/{branch}` at `revision`.
    CreateBranch { revision: ObjectId },
    /// `PUT /a/projects/{project}/tags/{tag}`: an annotated tag at `revision`.
    CreateTag { tag: String, revision: ObjectId, message: String },
}

/// What to put back on `--abort`: a ref on the remote and its old value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restore {
    pub reference: String,
    pub old: ObjectId,
    /// The tag that keeps the old tip, named when undoing is impossible.
    pub tag: String,
}

/// An operation as a plan: the schema of `--json` dry runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// What the operation is, in words.
    pub operation: String,
    pub remote: String,
    pub steps: Vec<Step>,
    pub restore: Option<Restore>,
    /// What developers must be told once it is done (`git regraft notice`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notice: Option<Notice>,
    /// What the user should know before executing it (warnings found while planning).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
    /// The operation of `git regraft log` this plan undoes (`git regraft undo`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub undoes: Option<u64>,
    /// What the review server answered, while planning, about each right the plan needs
    /// (Gerrit's Check Access; see [`crate::surgery::access`]). Absent in plans and
    /// journals written before it was asked.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub access: Vec<crate::surgery::access::AccessCheck>,
}

impl Plan {
    /// Returns the review servers the plan talks to (its review steps and checks), each once,
    /// with the file that named it when the user did not.
    pub fn review_servers(&self) -> Vec<(crate::review::GerritUrl, Option<String>)> {
        let mut servers: Vec<(crate::review::GerritUrl, Option<String>)> = Vec::new();
        for step in &self.steps {
            let checks = step.precondition.iter().chain(&step.verification);
            let from_checks = checks.filter_map(|c| match c {
                Check::NoOpenReviews { gerrit, found_in, .. } => Some((gerrit, found_in)),
                _ => None,
            });
            let from_step = step.review().map(|r| (&r.gerrit, &r.found_in));
            for (gerrit, found_in) in from_step.into_iter().chain(from_checks) {
                if !servers.iter().any(|(g, f)| g == gerrit && f == found_in) {
                    servers.push((gerrit.clone(), found_in.clone()));
                }
            }
        }
        servers
    }

    /// Gives every review step and check that talks to `server` the URL `server` with the
    /// credentials it came with (a `user:password@` typed in the guide), for this run only:
    /// a plan, journal or record written never holds them.
    ///
    /// The server was typed in the guide, so the user named it: steps a playbook named it
    /// for (the one the guide wrote) count as named by the user from then on.
    pub fn with_credentials_of(&mut self, server: &crate::review::GerritUrl) {
        let by_playbook = |found_in: &Option<String>| {
            found_in.as_deref().is_some_and(|f| f.starts_with("playbook "))
        };
        for step in &mut self.steps {
            if let Action::Review(review) = &mut step.action {
                if review.gerrit == *server {
                    review.gerrit = server.clone();
                    if by_playbook(&review.found_in) {
                        review.found_in = None;
                    }
                }
            }
            for check in step.precondition.iter_mut().chain(step.verification.iter_mut()) {
                if let Check::NoOpenReviews { gerrit, found_in, .. } = check {
                    if *gerrit == *server {
                        *gerrit = server.clone();
                        if by_playbook(found_in) {
                            *found_in = None;
                        }
                    }
                }
            }
        }
    }
}

/// The facts of a finished surgery that developers need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub branch: String,
    pub remote: String,
    /// In JSON `megapatch`, `merge`, `recreate`, `reset`, `backport` or `eol`.
    pub strategy: BranchChange,
    /// What replaced the branch, as the user named it (none for an end of life).
    pub source: Option<String>,
    pub old: ObjectId,
    pub new: Option<ObjectId>,
    pub tag: String,
}

/// What a finished surgery did to the branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum BranchChange {
    /// Replaced with a strategy.
    Replaced(Strategy),
    /// Deleted at its end of life, its tip kept by a tag.
    EndOfLife,
}

impl BranchChange {
    /// Returns the name journals and `notice`'s facts hold: the strategy's, or `eol`.
    pub fn name(self) -> &'static str {
        match self {
            BranchChange::Replaced(strategy) => strategy.name(),
            BranchChange::EndOfLife => "eol",
        }
    }
}

impl From<BranchChange> for String {
    fn from(change: BranchChange) -> String {
        change.name().to_string()
    }
}

impl TryFrom<String> for BranchChange {
    type Error = String;

    fn try_from(name: String) -> Result<BranchChange, String> {
        match name.as_str() {
            "eol" => Ok(BranchChange::EndOfLife),
            other => Strategy::from_name(other)
                .map(BranchChange::Replaced)
                .ok_or_else(|| format!("`{other}` is neither a strategy nor `eol`")),
        }
    }
}
