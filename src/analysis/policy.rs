//! Backports checked against a stable-branch policy: which kinds of change each support
//! phase of a branch accepts (a TOML file; OpenStack's ships in `playbooks/policies/`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;
use crate::analysis::delta::{self, DeltaError, DeltaOptions};
use crate::analysis::history::{self, HistoryError};
use crate::git::repo::{Repo, RepoError};
use crate::oid::ObjectId;
use crate::text::message;

mod message_classes;
mod migration;

/// OpenStack's policy, built in so an installed `git-regraft` has it.
pub const OPENSTACK: &str = include_str!("../../playbooks/policies/openstack.toml");

/// Errors from checking a range against a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Malformed { path: String, line: usize, column: usize, message: String },
    #[error("policy {policy} has no phase `{phase}`{near} (it has: {known})")]
    UnknownPhase { policy: String, phase: String, near: String, known: String },
    #[error("`{range}` is not a range: give BASE..TIP")]
    NotARange { range: String },
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Delta(#[from] DeltaError),
}

impl ErrorOrigin for PolicyError {
    fn is_user_input(&self) -> bool {
        match self {
            PolicyError::Repo(e) => e.is_user_input(),
            PolicyError::History(e) => e.is_user_input(),
            PolicyError::Delta(e) => e.is_user_input(),
            // The policy file is one the user named.
            PolicyError::Read { .. }
            | PolicyError::Malformed { .. }
            | PolicyError::UnknownPhase { .. }
            | PolicyError::NotARange { .. } => true,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    name: String,
    description: String,
    default_phase: String,
    #[serde(default)]
    critical_words: Vec<String>,
    /// Phrases in which a critical word does not count (`security group`).
    #[serde(default)]
    critical_stops: Vec<String>,
    #[serde(default)]
    classes: Vec<PathClass>,
    phases: BTreeMap<String, Phase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathClass {
    name: String,
    paths: Vec<String>,
}

/// What a phase accepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub description: String,
    /// Classes every commit must have.
    #[serde(default)]
    pub require: Vec<String>,
    /// Classes that make a commit refused.
    #[serde(default)]
    pub refuse: Vec<String>,
    /// When not empty, a commit must have one of these classes.
    #[serde(default)]
    pub allow_only: Vec<String>,
    /// Classes that exempt a commit from `require` and from being on upstream (changes
    /// that only make sense on the stable branch, such as gate fixes).
    #[serde(default)]
    pub exempt: Vec<String>,
    /// The branch takes nothing.
    #[serde(default)]
    pub closed: bool,
}

/// A policy, read and checked.
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    pub description: String,
    pub default_phase: String,
    critical_words: Vec<String>,
    critical_stops: Vec<String>,
    classes: Vec<(String, GlobSet)>,
    pub phases: BTreeMap<String, Phase>,
}

/// Reads a policy from TOML text; `origin` names it in errors (a path, or `built-in`).
pub fn parse(text: &str, origin: &str) -> Result<Policy, PolicyError> {
    let malformed = |offset: Option<usize>, message: String| {
        let (line, column) = crate::text::toml_position::line_column(text, offset);
        PolicyError::Malformed { path: origin.to_string(), line, column, message }
    };
    let file: PolicyFile = toml::from_str(text)
        .map_err(|e| malformed(e.span().map(|s| s.start), e.message().to_string()))?;
    let mut classes = Vec::new();
    for class in file.classes {
        let mut set = GlobSetBuilder::new();
        for pattern in &class.paths {
            let glob = Glob::new(pattern).map_err(|e| {
                malformed(text.find(pattern.as_str()), format!("bad path pattern `{pattern}`: {e}"))
            })?;
            set.add(glob);
        }
        let set = set.build().map_err(|e| malformed(None, e.to_string()))?;
        classes.push((class.name, set));
    }
    if !file.phases.contains_key(&file.default_phase) {
        return Err(malformed(
            text.find("default_phase"),
            format!("default_phase `{}` is not a phase", file.default_phase),
        ));
    }
    Ok(Policy {
        name: file.name,
        description: file.description,
        default_phase: file.default_phase,
        critical_words: file.critical_words.iter().map(|w| w.to_lowercase()).collect(),
        critical_stops: file.critical_stops.iter().map(|w| w.to_lowercase()).collect(),
        classes,
        phases: file.phases,
    })
}

/// Reads a policy file, or the built-in OpenStack policy when `path` is `None`.
pub fn load(path: Option<&Path>) -> Result<Policy, PolicyError> {
    match path {
        None => parse(OPENSTACK, "built-in openstack.toml"),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| PolicyError::Read { path: path.to_path_buf(), source })?;
            parse(&text, &path.display().to_string())
        }
    }
}

/// One commit's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub commit: ObjectId,
    pub summary: String,
    pub allowed: bool,
    pub classes: Vec<String>,
    pub reasons: Vec<String>,
}

/// The report: the schema of `policy check --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub policy: String,
    pub phase: String,
    pub commits: Vec<Verdict>,
}

impl Policy {
    /// Returns the classes of a commit from its paths and message (and whether an
    /// equivalent is on the upstream branch, when that was asked).
    pub fn classify(
        &self,
        paths: &[String],
        message: &[u8],
        on_upstream: Option<bool>,
    ) -> BTreeSet<String> {
        let mut classes = BTreeSet::new();
        let mut path_classes = BTreeSet::new();
        for path in paths {
            let class = self
                .classes
                .iter()
                .find(|(_, set)| set.is_match(path))
                .map_or("core", |(name, _)| name.as_str());
            path_classes.insert(class.to_string());
        }
        let only = |allowed: &[&str]| {
            !path_classes.is_empty() && path_classes.iter().all(|c| allowed.contains(&c.as_str()))
        };
        if only(&["tests"]) {
            classes.insert("tests-only".into());
        }
        if only(&["docs", "release-notes"]) {
            classes.insert("docs-only".into());
        }
        if only(&["gate"]) {
            classes.insert("gate-only".into());
        }
        // A driver fix: it touches a driver, and every other path is a test (in the driver
        // test tree or, in older layouts, beside the others) or a release note, as the
        // driverfixes phase describes it; anything else is core code.
        if path_classes.contains("driver") && only(&["driver", "tests", "release-notes"]) {
            classes.insert("driver-only".into());
        }
        classes.extend(path_classes);
        let from_message =
            message_classes::classes(message, &self.critical_words, &self.critical_stops);
        classes.extend(from_message.into_iter().map(str::to_string));
        if !message::cherry_picked_from(message).is_empty() {
            classes.insert("cherry-picked".into());
        }
        if !message::change_ids(message).is_empty() {
            classes.insert("change-id".into());
        }
        match on_upstream {
            Some(true) => {
                classes.insert("on-upstream".into());
            }
            Some(false) => {
                classes.insert("not-on-upstream".into());
            }
            None => {}
        }
        classes
    }

    /// Judges a commit's classes under `phase`: allowed or not, with every reason.
    pub fn judge(&self, phase: &Phase, classes: &BTreeSet<String>) -> (bool, Vec<String>) {
        let mut reasons = Vec::new();
        if phase.closed {
            reasons.push("the branch is closed: it takes nothing".to_string());
        }
        let exempt = phase.exempt.iter().any(|e| classes.contains(e));
        for required in phase.require.iter().filter(|_| !exempt) {
            // The cherry-pick line shows where a backport came from; an equivalent that
            // `--upstream` found (by Change-Id, cherry-pick line or patch-id) shows it too.
            let shown = classes.contains(required)
                || (required == "cherry-picked" && classes.contains("on-upstream"));
            if !shown {
                reasons.push(match required.as_str() {
                    "cherry-picked" => "no `(cherry picked from commit ...)` line: a backport must be a cherry-pick of a change merged upstream".into(),
                    "change-id" => "no Change-Id: a backport keeps the original change's Change-Id".into(),
                    other => format!("not {other}"),
                });
            }
        }
        for refused in &phase.refuse {
            if classes.contains(refused) {
                reasons.push(format!("{refused}: not accepted in this phase"));
            }
        }
        if !phase.allow_only.is_empty() && !phase.allow_only.iter().any(|a| classes.contains(a)) {
            reasons.push(format!("this phase takes only {}", phase.allow_only.join(", ")));
        }
        if classes.contains("not-on-upstream") && !exempt {
            reasons.push("no equivalent on the upstream branch: merge it there first".into());
        }
        (reasons.is_empty(), reasons)
    }
}

/// Checks the non-merge commits of `range` (`BASE..TIP`) under `phase` (default: the
/// policy's); with `upstream`, also whether each one's equivalent is there.
pub fn check(
    repo: &Repo,
    policy: &Policy,
    range: &str,
    phase: Option<&str>,
    upstream: Option<&str>,
) -> Result<Report, PolicyError> {
    let phase_name = phase.unwrap_or(&policy.default_phase).to_string();
    let phase = policy.phase(&phase_name)?;
    let (base, tip) = range
        .split_once("..")
        .filter(|(_, t)| !t.starts_with('.'))
        .ok_or_else(|| PolicyError::NotARange { range: range.to_string() })?;
    let (base, tip) = (repo.resolve_commit(base)?, repo.resolve_commit(tip)?);
    let commits: Vec<ObjectId> = history::commits_between(repo.git(), base, tip)?
        .into_iter()
        .filter(|c| !c.is_merge())
        .map(|c| c.id)
        .collect();
    let present: Option<HashMap<ObjectId, bool>> = match upstream {
        Some(upstream) => {
            let d = delta::delta(repo, upstream, &tip.to_hex(), &DeltaOptions::default())?;
            Some(d.source_only.iter().map(|e| (e.commit, e.is_present())).collect())
        }
        None => None,
    };
    let verdicts = judge_commits(repo, policy, phase, &commits, present.as_ref())?;
    Ok(Report { policy: policy.name.clone(), phase: phase_name, commits: verdicts })
}

impl Policy {
    /// Tells whether one of `changes` (the patch of `commit`) in the `migration` path class
    /// changes the schema ([`migration::changes_schema`]), reading the files before and
    /// after.
    fn changes_schema(
        &self,
        repo: &Repo,
        commit: ObjectId,
        changes: &[crate::text::changes::FileChange],
    ) -> Result<bool, PolicyError> {
        let class_of = |path: &str| {
            self.classes.iter().find(|(_, set)| set.is_match(path)).map(|(name, _)| name.as_str())
        };
        let parent = repo.commit_info(commit)?.parents.first().copied();
        for change in changes {
            let paths = change.old_path.iter().chain(&change.new_path);
            if !paths.clone().any(|p| class_of(p) == Some("migration")) {
                continue;
            }
            let old = match (&change.old_path, parent) {
                (Some(path), Some(parent)) => repo.file_at(parent, path)?,
                _ => None,
            };
            let new = match &change.new_path {
                Some(path) => repo.file_at(commit, path)?,
                None => None,
            };
            if migration::changes_schema(change, old.as_deref(), new.as_deref()) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Returns the phase called `name`, or an error listing the phases there are.
    pub fn phase(&self, name: &str) -> Result<&Phase, PolicyError> {
        self.phases.get(name).ok_or_else(|| PolicyError::UnknownPhase {
            policy: self.name.clone(),
            phase: name.to_string(),
            near: crate::text::did_you_mean(name, self.phases.keys().map(String::as_str)),
            known: self.phases.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }
}

/// Judges `commits` (any commits, in any order) under `phase`; `on_upstream` says, for the
/// commits it names, whether an equivalent is upstream (one it does not name is upstream
/// by ancestry).
pub fn judge_commits(
    repo: &Repo,
    policy: &Policy,
    phase: &Phase,
    commits: &[ObjectId],
    on_upstream: Option<&HashMap<ObjectId, bool>>,
) -> Result<Vec<Verdict>, PolicyError> {
    let patches = history::patches(
        repo.git(),
        commits,
        DeltaOptions::default().jobs,
        history::PatchDetail::WithChanges,
    )?;
    let mut verdicts = Vec::with_capacity(commits.len());
    for commit in commits {
        let mut paths: Vec<String> = Vec::new();
        for change in patches.get(commit).map(|p| p.changes.as_slice()).unwrap_or_default() {
            paths.extend(change.old_path.iter().chain(&change.new_path).cloned());
        }
        paths.sort();
        paths.dedup();
        let message = repo.commit_origin(*commit)?.message;
        let upstream = on_upstream.map(|p| p.get(commit).copied().unwrap_or(true));
        let mut classes = policy.classify(&paths, &message, upstream);
        let changes = patches.get(commit).map(|p| p.changes.as_slice()).unwrap_or_default();
        if classes.contains("migration") && !policy.changes_schema(repo, *commit, changes)? {
            // Under a migrations tree, but no schema change: a fix like any other.
            classes.remove("migration");
            classes.insert("migration-tree".into());
        }
        let (allowed, reasons) = policy.judge(phase, &classes);
        verdicts.push(Verdict {
            commit: *commit,
            summary: message::subject(&message),
            allowed,
            classes: classes.into_iter().collect(),
            reasons,
        });
    }
    Ok(verdicts)
}
