//! Playbooks: declarative TOML procedures (replace a stable branch, end of life, end of
//! maintenance, several repositories at once) expanded into the same plans `replace` and
//! `eol` make, and run through the same journal.
//!
//! ```toml
//! name = "eol-branch"
//! description = "End of life: tag <series>-eol, delete stable/<series>"
//! [variables]
//! series = { description = "the release series", example = "liberty" }
//! [repositories]
//! paths = ["."]       # relative to the directory `run` starts in
//! parallel = 1        # how many repositories at once
//! [[steps]]
//! do = "eol"
//! branch = "stable/{series}"
//! tag = "{series}-eol"
//! ```
//!
//! With a `[review]` table (`gerrit = URL` and `project = NAME`, each by default what the
//! repository's `.gitreview` on the branch says), the steps that delete or move a branch
//! abandon its open reviews first, and a `do = "restore-reviews"` step restores what the
//! run abandoned on a branch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ErrorOrigin;
use crate::git::repo::Repo;
use crate::surgery::operation::{Plan, Step};
use crate::surgery::replace::{self, ReplaceError, ReplaceRequest, Strategy};

/// Errors from reading a playbook or expanding it.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Malformed { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: variable `{name}` needs a value: --var {name}=... ({description})")]
    MissingVariable { path: PathBuf, name: String, description: String },
    #[error("--var {name}: the playbook has no such variable{near} (it has: {known})")]
    UnknownVariable { name: String, near: String, known: String },
    #[error("in {repository}: {message}")]
    Review { repository: String, message: String },
    #[error("in {repository}")]
    Plan {
        repository: String,
        #[source]
        source: Box<ReplaceError>,
    },
    /// A forge's branch rules (or its default branch) refuse a step of the repository's
    /// plan, read before anything runs, as `replace` and `eol` read them.
    #[error("in {repository}")]
    Rules {
        repository: String,
        #[source]
        source: Box<crate::surgery::review_host::RulesError>,
    },
}

/// A playbook and its variables are the user's input; planning a step may fail either way.
impl ErrorOrigin for PlaybookError {
    fn is_user_input(&self) -> bool {
        match self {
            PlaybookError::Read { .. }
            | PlaybookError::Malformed { .. }
            | PlaybookError::MissingVariable { .. }
            | PlaybookError::UnknownVariable { .. }
            | PlaybookError::Review { .. } => true,
            PlaybookError::Plan { source, .. } => source.is_user_input(),
            PlaybookError::Rules { source, .. } => source.is_user_input(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: String,
    description: String,
    #[serde(default)]
    variables: BTreeMap<String, Variable>,
    #[serde(default)]
    repositories: Option<Repositories>,
    #[serde(default)]
    review: Option<ReviewSpec>,
    steps: Vec<toml::Spanned<StepSpec<String>>>,
}

/// The review server a playbook's steps talk to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewSpec {
    /// The Gerrit's URL [default: the host `.gitreview` names on the branch].
    #[serde(default)]
    gerrit: Option<String>,
    /// The project [default: `.gitreview`'s, else the path of the remote's URL].
    #[serde(default)]
    project: Option<String>,
}

/// A variable a playbook takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub description: String,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub example: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Repositories {
    paths: Vec<String>,
    #[serde(default = "one")]
    parallel: usize,
}

fn one() -> usize {
    1
}

fn origin() -> String {
    "origin".into()
}

/// One step as written, where strings may hold `{variable}`s and the strategy is a name
/// (`StepSpec<String>`); once filled in, the strategy is read (`StepSpec<Strategy>`).
#[derive(Debug, Clone, Deserialize)]
#[serde(
    tag = "do",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
enum StepSpec<S> {
    /// Replace a branch (see `git regraft replace`).
    Replace {
        branch: String,
        from: String,
        /// How to name `from` in what lasts (commit messages, the tag, the notice) when
        /// `from` pins it by id, e.g. `origin/stable/mitaka`.
        #[serde(default)]
        from_name: Option<String>,
        strategy: S,
        #[serde(default)]
        tag: Option<String>,
        #[serde(default = "origin")]
        remote: String,
        #[serde(default)]
        followups: Vec<String>,
        /// Megapatch and merge: push for review instead of to the branch.
        #[serde(default)]
        for_review: bool,
    },
    /// End of life (see `git regraft eol`).
    Eol {
        branch: String,
        #[serde(default)]
        tag: Option<String>,
        #[serde(default = "origin")]
        remote: String,
    },
    /// Tag a branch's tip, push and verify the tag.
    TagTip {
        branch: String,
        tag: String,
        #[serde(default = "origin")]
        remote: String,
    },
    /// Create a branch at another branch's tip.
    CreateBranch {
        branch: String,
        from_branch: String,
        #[serde(default = "origin")]
        remote: String,
    },
    /// Delete a branch whose tip a tag on the remote keeps.
    DeleteBranch {
        branch: String,
        kept_by: String,
        #[serde(default = "origin")]
        remote: String,
    },
    /// Restore the reviews this run abandoned on a branch (needs `[review]`).
    RestoreReviews {
        branch: String,
        #[serde(default = "origin")]
        remote: String,
    },
}

/// A playbook, read and checked, with its variables filled in.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub name: String,
    pub description: String,
    pub path: PathBuf,
    pub variables: BTreeMap<String, Variable>,
    /// Repository directories, relative to where `run` starts.
    pub repositories: Vec<String>,
    pub parallel: usize,
    steps: Vec<StepSpec<Strategy>>,
    review: Option<ReviewSpec>,
    values: BTreeMap<String, String>,
}

/// The playbooks that ship inside regraft, by name: `git regraft run NAME` finds them
/// without the source tree.
pub const BUILT_IN: [(&str, &str); 4] = [
    ("eol-branch", include_str!("../../playbooks/eol-branch.toml")),
    ("eom-to-unmaintained", include_str!("../../playbooks/eom-to-unmaintained.toml")),
    ("kolla-liberty-2016", include_str!("../../playbooks/kolla-liberty-2016.toml")),
    ("replace-stable-branch", include_str!("../../playbooks/replace-stable-branch.toml")),
];

/// Returns the built-in playbook `name` names (`eol-branch`, also as `eol-branch.toml` or
/// `playbooks/eol-branch.toml`), if one does.
pub fn built_in(name: &str) -> Option<(&'static str, &'static str)> {
    let name = name.strip_prefix("playbooks/").unwrap_or(name);
    let name = name.strip_suffix(".toml").unwrap_or(name);
    BUILT_IN.iter().copied().find(|(n, _)| *n == name)
}

/// Reads `path` and fills in `values` (`--var name=value`); a malformed playbook is an
/// error naming file, line and column.
pub fn load(path: &Path, values: &BTreeMap<String, String>) -> Result<Playbook, PlaybookError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| PlaybookError::Read { path: path.to_path_buf(), source })?;
    parse(path, &text, values)
}

/// Reads the playbook `text` (from `path`, as errors name it) and fills in `values`.
pub fn parse(
    path: &Path,
    text: &str,
    values: &BTreeMap<String, String>,
) -> Result<Playbook, PlaybookError> {
    let text = text.to_string();
    let malformed = |offset: Option<usize>, message: String| {
        let (line, column) = crate::text::toml_position::line_column(&text, offset);
        PlaybookError::Malformed { path: path.to_path_buf(), line, column, message }
    };
    let file: File = toml::from_str(&text)
        .map_err(|e| malformed(e.span().map(|s| s.start), e.message().to_string()))?;
    for name in values.keys() {
        if !file.variables.contains_key(name) {
            let near = crate::text::did_you_mean(name, file.variables.keys().map(String::as_str));
            let known = file.variables.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(PlaybookError::UnknownVariable { name: name.clone(), near, known });
        }
    }
    let mut filled = BTreeMap::new();
    for (name, variable) in &file.variables {
        let value =
            values.get(name).cloned().or_else(|| variable.default.clone()).ok_or_else(|| {
                PlaybookError::MissingVariable {
                    path: path.to_path_buf(),
                    name: name.clone(),
                    description: variable.description.clone(),
                }
            })?;
        filled.insert(name.clone(), value);
    }
    let mut steps = Vec::new();
    for spanned in &file.steps {
        let start = spanned.span().start;
        let step = expand(spanned.get_ref(), &filled).map_err(|unfilled| match unfilled {
            Unfilled::Variable(name) => {
                malformed(Some(start), format!("`{{{name}}}` is not a variable of this playbook"))
            }
            Unfilled::Strategy(name) => malformed(
                Some(start),
                format!(
                    "unknown strategy `{name}` (megapatch, merge, recreate, reset or backport)"
                ),
            ),
        })?;
        steps.push(step);
    }
    let review = match &file.review {
        None => None,
        Some(spec) => {
            let fo = |t: &Option<String>| {
                t.as_ref()
                    .map(|t| fill(t, &filled))
                    .transpose()
                    .map(|t| t.filter(|s| !s.is_empty()))
            };
            let bad = |name: String| {
                malformed(
                    None,
                    format!("[review]: `{{{name}}}` is not a variable of this playbook"),
                )
            };
            Some(ReviewSpec {
                gerrit: fo(&spec.gerrit).map_err(bad)?,
                project: fo(&spec.project).map_err(bad)?,
            })
        }
    };
    if review.is_none() && steps.iter().any(|s| matches!(s, StepSpec::RestoreReviews { .. })) {
        return Err(malformed(None, "`restore-reviews` needs a [review] table".into()));
    }
    let repositories = file.repositories.clone().map_or_else(|| vec![".".to_string()], |r| r.paths);
    let parallel = file.repositories.map_or(1, |r| r.parallel.max(1));
    Ok(Playbook {
        name: file.name,
        description: file.description,
        path: path.to_path_buf(),
        variables: file.variables,
        repositories,
        parallel,
        steps,
        review,
        values: filled,
    })
}

/// Fills `{name}`s; returns the first unknown name as the error.
fn fill(text: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| after.to_string())?;
        let name = &after[..close];
        out.push_str(values.get(name).ok_or_else(|| name.to_string())?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Why a step could not be filled in.
enum Unfilled {
    /// `{name}` names no variable.
    Variable(String),
    /// The filled-in strategy is none of regraft's.
    Strategy(String),
}

/// Fills in a step's variables and reads its strategy.
fn expand(
    step: &StepSpec<String>,
    v: &BTreeMap<String, String>,
) -> Result<StepSpec<Strategy>, Unfilled> {
    let f = |t: &String| fill(t, v).map_err(Unfilled::Variable);
    let fo = |t: &Option<String>| {
        t.as_ref()
            .map(|t| fill(t, v))
            .transpose()
            .map(|t| t.filter(|s| !s.is_empty()))
            .map_err(Unfilled::Variable)
    };
    let read_strategy = |t: &String| {
        let name = f(t)?;
        Strategy::from_name(&name).ok_or(Unfilled::Strategy(name))
    };
    Ok(match step {
        StepSpec::Replace {
            branch,
            from,
            from_name,
            strategy,
            tag,
            remote,
            followups,
            for_review,
        } => StepSpec::Replace {
            branch: f(branch)?,
            from: f(from)?,
            from_name: fo(from_name)?,
            strategy: read_strategy(strategy)?,
            tag: fo(tag)?,
            remote: f(remote)?,
            followups: followups.iter().map(f).collect::<Result<_, _>>()?,
            for_review: *for_review,
        },
        StepSpec::Eol { branch, tag, remote } => {
            StepSpec::Eol { branch: f(branch)?, tag: fo(tag)?, remote: f(remote)? }
        }
        StepSpec::TagTip { branch, tag, remote } => {
            StepSpec::TagTip { branch: f(branch)?, tag: f(tag)?, remote: f(remote)? }
        }
        StepSpec::CreateBranch { branch, from_branch, remote } => StepSpec::CreateBranch {
            branch: f(branch)?,
            from_branch: f(from_branch)?,
            remote: f(remote)?,
        },
        StepSpec::DeleteBranch { branch, kept_by, remote } => {
            StepSpec::DeleteBranch { branch: f(branch)?, kept_by: f(kept_by)?, remote: f(remote)? }
        }
        StepSpec::RestoreReviews { branch, remote } => {
            StepSpec::RestoreReviews { branch: f(branch)?, remote: f(remote)? }
        }
    })
}

impl Playbook {
    /// Returns the variables' values as filled in.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// Returns the name of the operation its plan for `repository` is (the journal's).
    pub fn operation_in(&self, repository: &str) -> String {
        format!("playbook {} in {repository}", self.name)
    }

    /// Returns which run of the playbook this is: its file, name and values.
    pub fn run_id(&self) -> crate::surgery::playbook_run::RunId {
        crate::surgery::playbook_run::RunId {
            playbook: self.name.clone(),
            file: std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone()),
            values: self.values.clone(),
        }
    }

    /// Builds the plan for one repository: every step's plan, in order, as one plan; a
    /// forge's branch rules are read through `hosts`.
    pub fn plan(
        &self,
        repo: &Repo,
        hosts: &dyn crate::review::HostFactory,
        repository: &str,
    ) -> Result<Plan, PlaybookError> {
        // Every step is planned against one listing of each remote's branches and tags.
        let _snapshot = crate::git::remote::Snapshot::begin(repo.git());
        let mut steps: Vec<Step> = Vec::new();
        let mut remote = "origin".to_string();
        let mut restore = None;
        let mut notice = None;
        let mut notes = Vec::new();
        let mut access = Vec::new();
        let wrap = |source| PlaybookError::Plan {
            repository: repository.to_string(),
            source: Box::new(source),
        };
        for (n, step) in self.steps.iter().enumerate() {
            // The forge whose branch rules the step's pushes meet, read once it is planned.
            let mut forge = None;
            let plan = match step {
                StepSpec::Replace {
                    branch,
                    from,
                    from_name,
                    strategy,
                    tag,
                    remote,
                    followups,
                    for_review,
                } => {
                    forge = self.forge_target(repo, repository, remote, branch)?;
                    let request = ReplaceRequest {
                        branch: branch.clone(),
                        source: from.clone(),
                        source_name: from_name.clone(),
                        strategy: *strategy,
                        tag: tag.clone(),
                        remote: remote.clone(),
                        followups: followups.clone(),
                        review: self.review_target(repo, repository, remote, branch)?,
                        forge: forge.clone(),
                        review_ref: None,
                        for_review: *for_review,
                    };
                    replace::plan_replace(repo, hosts, &request)
                }
                StepSpec::Eol { branch, tag, remote } => {
                    let review = self.review_target(repo, repository, remote, branch)?;
                    forge = self.forge_target(repo, repository, remote, branch)?;
                    replace::plan_eol(
                        repo,
                        hosts,
                        remote,
                        branch,
                        tag.as_deref(),
                        review.as_ref(),
                        forge.as_ref(),
                    )
                }
                StepSpec::RestoreReviews { branch, remote } => {
                    let review = self.review_target(repo, repository, remote, branch)?;
                    let review = review.expect("restore-reviews is refused without [review]");
                    replace::plan_restore_reviews(repo, hosts, remote, branch, &review)
                }
                StepSpec::TagTip { branch, tag, remote } => {
                    replace::plan_tag_tip(repo, remote, branch, tag)
                }
                StepSpec::CreateBranch { branch, from_branch, remote } => {
                    replace::plan_create_branch(repo, remote, branch, from_branch)
                }
                StepSpec::DeleteBranch { branch, kept_by, remote } => {
                    let review = self.review_target(repo, repository, remote, branch)?;
                    forge = self.forge_target(repo, repository, remote, branch)?;
                    replace::plan_delete_branch(
                        repo,
                        hosts,
                        remote,
                        branch,
                        kept_by,
                        review.as_ref(),
                    )
                }
            }
            .map_err(wrap)?;
            let mut plan = plan;
            for s in &mut plan.steps {
                s.id.part = Some(n + 1);
            }
            // Protection and the default branch, read before anything of any step runs: a
            // rule that refuses this step refuses the whole playbook here.
            if let Some(target) = &forge {
                crate::surgery::review_host::refuse_protected(repo, hosts, &mut plan, target)
                    .map_err(|source| PlaybookError::Rules {
                        repository: repository.to_string(),
                        source: Box::new(source),
                    })?;
            }
            remote = plan.remote.clone();
            if restore.is_none() {
                restore = plan.restore.clone();
            }
            if plan.notice.is_some() {
                notice = plan.notice.clone();
            }
            notes.extend(plan.notes.iter().cloned());
            for mut check in plan.access {
                for id in &mut check.steps {
                    id.part = Some(n + 1);
                }
                access.push(check);
            }
            steps.extend(plan.steps);
        }
        Ok(Plan {
            operation: self.operation_in(repository),
            remote,
            steps,
            restore,
            notice,
            notes,
            undoes: None,
            access,
        })
    }
}

impl Playbook {
    /// Returns the forge whose requests on `branch` are kept through the playbook's steps:
    /// the one git config or the remote's URL names (see
    /// [`crate::surgery::review_host::resolve`]), none with a `[review]` Gerrit. A playbook
    /// itself never names a forge, so no file sends a token anywhere.
    fn forge_target(
        &self,
        repo: &Repo,
        repository: &str,
        remote: &str,
        branch: &str,
    ) -> Result<Option<replace::ForgeTarget>, PlaybookError> {
        if self.review.is_some() {
            return Ok(None);
        }
        let given = crate::surgery::review_host::Given::default();
        let found =
            crate::surgery::review_host::resolve(repo, &given, remote, branch).map_err(|e| {
                PlaybookError::Review { repository: repository.to_string(), message: e.to_string() }
            })?;
        Ok(found.and_then(|choice| choice.forge().cloned()))
    }

    /// Returns the review server for `branch` of one repository: none without `[review]`;
    /// else its `gerrit` and `project`, each defaulting to what `.gitreview` on the branch
    /// says (the project last to the path of the remote's URL).
    fn review_target(
        &self,
        repo: &Repo,
        repository: &str,
        remote: &str,
        branch: &str,
    ) -> Result<Option<replace::ReviewTarget>, PlaybookError> {
        let Some(spec) = &self.review else { return Ok(None) };
        let err =
            |message: String| PlaybookError::Review { repository: repository.to_string(), message };
        let plan_error = |e: crate::git::repo::RepoError| PlaybookError::Plan {
            repository: repository.to_string(),
            source: Box::new(e.into()),
        };
        let found =
            replace::ReviewTarget::from_gitreview(repo, remote, branch).map_err(plan_error)?;
        let gerrit = match &spec.gerrit {
            Some(url) => crate::review::GerritUrl::parse(url).map_err(|e| err(e.to_string()))?,
            None => found.as_ref().map(|t| t.gerrit.clone()).ok_or_else(|| {
                err(format!(
                    "no .gitreview on {branch} names a Gerrit; give `gerrit` in the playbook's [review]"
                ))
            })?,
        };
        let project = spec
            .project
            .clone()
            .or_else(|| found.as_ref().map(|t| t.project.clone()))
            .map_or_else(
                || Ok(repo.remote_url(remote)?.map(|u| crate::review::project_of(&u))),
                |p| Ok(Some(p)),
            )
            .map_err(plan_error)?
            .ok_or_else(|| err(format!("no project for {branch}; give `project` in [review]")))?;
        // A Gerrit the playbook names is named by a file: the environment's credentials go
        // to it only when it is the one the user named (git config regraft.gerrit).
        let configured = repo
            .git()
            .config_get("regraft.gerrit")
            .ok()
            .flatten()
            .and_then(|u| crate::review::GerritUrl::parse(&u).ok());
        let found_in = match &spec.gerrit {
            None => found.and_then(|t| t.found_in),
            Some(_) if configured.as_ref() == Some(&gerrit) => None,
            Some(_) => Some(format!("playbook {}", self.path.display())),
        };
        Ok(Some(replace::ReviewTarget { gerrit, project, rest_branches: false, found_in }))
    }
}
