//! The one answer to "which review host, which project, who named it" for a branch: every
//! command (replace, eol, compare, abandon, restore, playbooks) asks here.
//!
//! The order, first found wins:
//! 1. the command line: `--review-host KIND[:URL]` (or `none`), `--gerrit URL` (or `none`);
//! 2. git config: `regraft.reviewHost` (same forms), `regraft.gerrit`;
//! 3. `.gitreview` on the branch (a Gerrit, named by a file: see [`crate::review::Named`]);
//! 4. the remote's URL: github.com and gitlab.com are their forges.
//!
//! `KIND[:URL]` is `github`, `gitlab` (the public servers, or the remote's host when the
//! remote is on neither), `github:https://ghe.example.com`, `gitlab:https://git.example.org`,
//! or `gerrit:https://review.example.org`.

use crate::git::repo::{Repo, RepoError};
use crate::review::forge::{ForgeHost, ForgeKind};
use crate::review::{GerritUrl, ReviewError};
use crate::surgery::replace::{ForgeTarget, ReviewTarget};

/// A branch's review host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewHostChoice {
    Gerrit(ReviewTarget),
    Forge(ForgeTarget),
}

impl ReviewHostChoice {
    /// Returns the Gerrit, when the host is one.
    pub fn gerrit(&self) -> Option<&ReviewTarget> {
        match self {
            ReviewHostChoice::Gerrit(target) => Some(target),
            ReviewHostChoice::Forge(_) => None,
        }
    }

    /// Returns the forge, when the host is one.
    pub fn forge(&self) -> Option<&ForgeTarget> {
        match self {
            ReviewHostChoice::Forge(target) => Some(target),
            ReviewHostChoice::Gerrit(_) => None,
        }
    }
}

/// What the user gave on the command line.
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// `--review-host`.
    pub review_host: Option<String>,
    /// `--gerrit`.
    pub gerrit: Option<String>,
    /// `--project`.
    pub project: Option<String>,
}

/// Errors from finding a branch's review host.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error(
        "`{given}` ({from}) is not a review host: give github, gitlab, github:URL, gitlab:URL, gerrit:URL or none"
    )]
    Unknown { given: String, from: &'static str },
    #[error(
        "no repository name for {host}: remote `{remote}` has no URL to read it from; give --project OWNER/NAME"
    )]
    NoRepository { host: String, remote: String },
}

impl crate::ErrorOrigin for HostError {
    fn is_user_input(&self) -> bool {
        match self {
            HostError::Repo(e) => e.is_user_input(),
            HostError::Git(e) => e.is_user_input(),
            HostError::Review(e) => e.is_user_input(),
            HostError::Unknown { .. } | HostError::NoRepository { .. } => true,
        }
    }
}

/// A host named in one of the `KIND[:URL]` forms, before the project is known.
enum Named {
    None,
    Gerrit(GerritUrl),
    Forge(ForgeKind, Option<ForgeHost>),
}

fn parse(given: &str, from: &'static str) -> Result<Named, HostError> {
    let unknown =
        || HostError::Unknown { given: given.chars().filter(|c| !c.is_control()).collect(), from };
    let (kind, url) = match given.split_once(':') {
        // `https://...` alone is not a kind.
        Some((kind, url)) if !url.starts_with("//") => (kind, Some(url)),
        Some(_) => return Err(unknown()),
        None => (given, None),
    };
    match (kind.trim().to_ascii_lowercase().as_str(), url) {
        ("none", None) => Ok(Named::None),
        ("gerrit", Some(url)) => Ok(Named::Gerrit(GerritUrl::parse(url)?)),
        ("github", url) | ("gitlab", url) => {
            let kind = if kind.eq_ignore_ascii_case("github") {
                ForgeKind::GitHub
            } else {
                ForgeKind::GitLab
            };
            let host = url.map(|u| ForgeHost::parse(kind, u)).transpose()?;
            Ok(Named::Forge(kind, host))
        }
        _ => Err(unknown()),
    }
}

/// Returns the forge server a `--review-host` value names with its URL (`github:URL`,
/// `gitlab:URL`); none for every other form.
pub fn named_forge(given: &str) -> Result<Option<ForgeHost>, HostError> {
    Ok(match parse(given, "--review-host")? {
        Named::Forge(_, host) => host,
        Named::None | Named::Gerrit(_) => None,
    })
}

/// Returns the Gerrit the command line names (`--review-host gerrit:URL`, else `--gerrit
/// URL`); none for every other form (`none` included).
pub fn named_gerrit(given: &Given) -> Result<Option<GerritUrl>, HostError> {
    match (&given.review_host, &given.gerrit) {
        (Some(host), _) => Ok(match parse(host, "--review-host")? {
            Named::Gerrit(url) => Some(url),
            Named::None | Named::Forge(..) => None,
        }),
        (None, Some(gerrit)) if gerrit != "none" => Ok(Some(GerritUrl::parse(gerrit)?)),
        (None, _) => Ok(None),
    }
}

/// Returns the Gerrits the user configured: `git config regraft.reviewHost gerrit:URL` and
/// `regraft.gerrit`. A value that names no Gerrit (or cannot be read) names none here: the
/// commands that use it as the host say what is wrong with it.
pub fn configured_gerrits(repo: &Repo) -> Vec<GerritUrl> {
    let git = repo.git();
    let mut found = Vec::new();
    if let Ok(Some(host)) = git.config_get("regraft.reviewHost")
        && let Ok(Named::Gerrit(url)) = parse(&host, "git config regraft.reviewHost")
    {
        found.push(url);
    }
    if let Ok(Some(url)) = git.config_get("regraft.gerrit")
        && let Ok(url) = GerritUrl::parse(&url)
    {
        found.push(url);
    }
    found
}

/// Returns the forge server the user configured with its URL (`git config
/// regraft.reviewHost github:URL` or `gitlab:URL`), if any.
pub fn configured_forge(repo: &Repo) -> Option<ForgeHost> {
    let host = repo.git().config_get("regraft.reviewHost").ok()??;
    match parse(&host, "git config regraft.reviewHost") {
        Ok(Named::Forge(_, host)) => host,
        _ => None,
    }
}

/// Returns the review host of `branch` on `remote`, by the order in the module's doc; none
/// when nothing names one (or the user said `none`).
pub fn resolve(
    repo: &Repo,
    given: &Given,
    remote: &str,
    branch: &str,
) -> Result<Option<ReviewHostChoice>, HostError> {
    if given.gerrit.as_deref() == Some("none") {
        return Ok(None);
    }
    let git = repo.git();
    let named = match (&given.review_host, &given.gerrit) {
        (Some(host), _) => Some(parse(host, "--review-host")?),
        (None, Some(gerrit)) => Some(Named::Gerrit(GerritUrl::parse(gerrit)?)),
        (None, None) => {
            // Both keys are asked at once (each is a git process); `regraft.gerrit` counts
            // only where `regraft.reviewHost` is not set, its error too.
            let (host, gerrit) = std::thread::scope(|scope| {
                let gerrit = scope.spawn(|| git.config_get("regraft.gerrit"));
                let host = git.config_get("regraft.reviewHost");
                (host, gerrit.join().expect("a config read does not panic"))
            });
            match host? {
                Some(host) => Some(parse(&host, "git config regraft.reviewHost")?),
                None => gerrit?.map(|g| GerritUrl::parse(&g).map(Named::Gerrit)).transpose()?,
            }
        }
    };
    let remote_url = repo.remote_url(remote)?;
    match named {
        Some(Named::None) => Ok(None),
        Some(Named::Gerrit(gerrit)) => {
            let project = gerrit_project(repo, given, remote, branch, remote_url.as_deref())?;
            Ok(Some(ReviewHostChoice::Gerrit(ReviewTarget {
                gerrit,
                project,
                rest_branches: false,
                found_in: None,
            })))
        }
        Some(Named::Forge(kind, host)) => {
            let host = match host {
                Some(host) => host,
                // The remote's own host when it is not the public one (an enterprise
                // server the remote points at), else the public server.
                None => remote_url
                    .as_deref()
                    .and_then(crate::review::forge::remote_host)
                    .filter(|h| {
                        Some(h.as_str()) != kind.default_web().strip_prefix("https://")
                            && h.contains('.')
                    })
                    .and_then(|h| ForgeHost::parse(kind, &format!("https://{h}")).ok())
                    .unwrap_or_else(|| ForgeHost::public(kind)),
            };
            let repository = forge_repository(given, &host, remote, remote_url.as_deref())?;
            Ok(Some(ReviewHostChoice::Forge(ForgeTarget { host, repository, found_in: None })))
        }
        None => {
            if let Some(found) = ReviewTarget::from_gitreview(repo, remote, branch)? {
                let project = given.project.clone().unwrap_or(found.project.clone());
                return Ok(Some(ReviewHostChoice::Gerrit(ReviewTarget { project, ..found })));
            }
            let Some(host) = remote_url.as_deref().and_then(ForgeHost::of_remote) else {
                return Ok(None);
            };
            let repository = forge_repository(given, &host, remote, remote_url.as_deref())?;
            Ok(Some(ReviewHostChoice::Forge(ForgeTarget {
                host,
                repository,
                found_in: Some(format!("the URL of remote {remote}")),
            })))
        }
    }
}

/// Returns the Gerrit of `branch` by [`resolve`]; a forge found instead (GitHub, GitLab) is
/// none here: it has no reviews to abandon or count.
pub fn resolve_gerrit(
    repo: &Repo,
    given: &Given,
    remote: &str,
    branch: &str,
) -> Result<Option<ReviewTarget>, HostError> {
    Ok(resolve(repo, given, remote, branch)?.and_then(|h| h.gerrit().cloned()))
}

/// Says which server is about to be asked for a branch's open reviews, and who named it:
/// printed before every such request.
pub fn asking(target: &ReviewTarget, branch: &str, authenticated: bool) -> String {
    format!(
        "asking {} for the open reviews on {branch} of {}{}{}",
        target.gerrit,
        target.project,
        target.found_in.as_ref().map(|f| format!(" (named by {f})")).unwrap_or_default(),
        if authenticated { "" } else { ", anonymously" }
    )
}

/// Returns a warning for a plan that deletes or moves `branch` without a review server
/// although `.gitreview` names one: its open reviews will block the delete (Gerrit answers
/// 409) or be closed as merged. Counts them when they can be listed anonymously, through
/// `hosts` (its timeout); `status` hears which server is asked before it is.
pub fn gitreview_warning(
    repo: &Repo,
    hosts: &dyn crate::review::HostFactory,
    remote: &str,
    branch: &str,
    status: &mut dyn FnMut(&str),
) -> Result<Option<String>, HostError> {
    let Some(target) = ReviewTarget::from_gitreview(repo, remote, branch)? else {
        return Ok(None);
    };
    status(&asking(&target, branch, false));
    // This only warns: a host that cannot be reached (a CA file that cannot be read, no
    // answer within the timeout) leaves the count out.
    let open = hosts
        .gerrit_anonymous(repo.git(), &target.gerrit)
        .and_then(|gerrit| gerrit.open_reviews(&target.project, branch));
    let count = match open {
        Ok(open) => format!("{} open reviews", open.len()),
        Err(_) => "its open reviews (they could not be listed anonymously)".to_string(),
    };
    Ok(Some(format!(
        "{} names {} (project {}) and no review server is used (--gerrit none): {count} on {branch} will block the delete (Gerrit answers 409) or be closed as merged; abandon them first (`git regraft abandon {branch}`) or drop --gerrit none",
        target.found_in.unwrap_or_default(),
        target.gerrit,
        target.project
    )))
}

/// The Gerrit project by one rule for every command: `--project`, else `.gitreview`'s
/// project on the branch (as `git review` reads it), else the path of the remote's URL.
fn gerrit_project(
    repo: &Repo,
    given: &Given,
    remote: &str,
    branch: &str,
    remote_url: Option<&str>,
) -> Result<String, HostError> {
    if let Some(project) = &given.project {
        return Ok(project.clone());
    }
    let found = crate::surgery::replace::gitreview_on(repo, remote, branch)?;
    if let Some(project) = found.and_then(|(_, review)| review.project_name()) {
        return Ok(project);
    }
    remote_url.map(crate::review::project_of).ok_or_else(|| HostError::NoRepository {
        host: "the Gerrit".to_string(),
        remote: remote.to_string(),
    })
}

/// The forge repository: `--project`, else the path of the remote's URL; checked.
fn forge_repository(
    given: &Given,
    host: &ForgeHost,
    remote: &str,
    remote_url: Option<&str>,
) -> Result<String, HostError> {
    let repository = match (&given.project, remote_url) {
        (Some(project), _) => project.clone(),
        (None, Some(url)) => crate::review::project_of(url),
        (None, None) => {
            return Err(HostError::NoRepository {
                host: host.to_string(),
                remote: remote.to_string(),
            });
        }
    };
    crate::review::forge::check_repository(host.kind, &repository)?;
    Ok(repository)
}

/// A plan step a forge's branch rules will refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub step: String,
    pub branch: String,
    /// What the step does that the rule forbids (`deletes`, `force-pushes`).
    pub what: &'static str,
    pub rule: String,
    pub fix: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "step {} {} {}, which {} forbids ({})",
            self.step, self.what, self.branch, self.rule, self.fix
        )
    }
}

/// What the forge's branch rules say of a plan, read before anything runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulesRead {
    /// The steps a rule refuses: the plan must not start.
    pub refused: Vec<Refused>,
    /// What could not be read, or may still be refused (notes for the plan).
    pub notes: Vec<String>,
}

impl RulesRead {
    /// Returns the refusal of the plan by `host`'s rules, when a rule refuses a step.
    pub fn refusal(&self, host: &ForgeHost) -> Option<ProtectionRefusal> {
        (!self.refused.is_empty())
            .then(|| ProtectionRefusal { host: host.to_string(), refused: self.refused.clone() })
    }
}

/// A plan a forge's branch rules (or its default branch) refuse, read before anything ran.
/// Like a Gerrit's denied right ([`crate::surgery::access::AccessDenied`]) it is what the
/// host says of the plan, not a mistake in what was asked: the CLI gives both one exit
/// code (3, a finding).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} would refuse this plan; nothing was changed:\n{}", lines(.refused))]
pub struct ProtectionRefusal {
    pub host: String,
    pub refused: Vec<Refused>,
}

fn lines(refused: &[Refused]) -> String {
    refused.iter().map(|r| format!("- {r}")).collect::<Vec<_>>().join("\n")
}

/// A refusal is what the host says of the user's plan.
impl crate::ErrorOrigin for ProtectionRefusal {
    fn is_user_input(&self) -> bool {
        true
    }
}

/// What to do about a [`ProtectionRefusal`].
pub const PROTECTION_HINT: &str = "change the rule on the forge (as each line says), or choose a strategy that neither deletes nor force-pushes the branch: --strategy merge or megapatch";

/// Reads the rules of `target` for `plan` ([`read_rules`]): the notes go to the plan, a
/// step a rule refuses is the error.
pub fn refuse_protected(
    repo: &Repo,
    hosts: &dyn crate::review::HostFactory,
    plan: &mut crate::surgery::plan::Plan,
    target: &ForgeTarget,
) -> Result<(), RulesError> {
    let read = read_rules(repo, hosts, plan, target)?;
    plan.notes.extend(read.notes.iter().cloned());
    match read.refusal(&target.host) {
        Some(refusal) => Err(RulesError::Refused(refusal)),
        None => Ok(()),
    }
}

/// Why a plan's forge rules refuse it, or could not be asked at all.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error(transparent)]
    Refused(ProtectionRefusal),
    #[error(transparent)]
    Host(#[from] HostError),
}

impl crate::ErrorOrigin for RulesError {
    fn is_user_input(&self) -> bool {
        match self {
            RulesError::Refused(e) => e.is_user_input(),
            RulesError::Host(e) => e.is_user_input(),
        }
    }
}

/// Reads the protection of every branch the plan deletes or moves on `target` (GitHub's
/// branch protection, GitLab's protected branches) and says which step a rule refuses, and
/// whether the plan deletes the repository's default branch (never allowed). A rule that
/// cannot be read (a token without admin rights, a host that does not answer) is a note:
/// the push is then the judge, and the plan's journal makes a refusal halfway recoverable.
pub fn read_rules(
    repo: &Repo,
    hosts: &dyn crate::review::HostFactory,
    plan: &crate::surgery::plan::Plan,
    target: &ForgeTarget,
) -> Result<RulesRead, HostError> {
    use crate::git::action::{GitAction, Refspec};
    let host = hosts.forge(
        repo.git(),
        &target.host,
        &target.repository,
        crate::review::Named::from_found_in(target.found_in.as_deref()),
    )?;
    let mut read = RulesRead::default();
    let mut deleted_or_forced: Vec<(String, String, &'static str)> = Vec::new();
    for step in &plan.steps {
        let Some(GitAction::Push(push)) = step.git() else { continue };
        let Some(branch) = push.refspec.reference().strip_prefix("refs/heads/") else { continue };
        let what = match (&push.refspec, &push.lease) {
            (Refspec::Delete { .. }, _) => "deletes",
            (Refspec::Update { commit, .. }, Some(lease)) => match lease.expected {
                Some(old) if !repo.is_ancestor(old, *commit).unwrap_or(false) => "force-pushes",
                _ => continue,
            },
            _ => continue,
        };
        deleted_or_forced.push((step.id.to_string(), branch.to_string(), what));
    }
    if deleted_or_forced.is_empty() {
        return Ok(read);
    }
    match host.default_branch() {
        Ok(default) => {
            for (step, branch, what) in &deleted_or_forced {
                if *branch == default && *what == "deletes" {
                    read.refused.push(Refused {
                        step: step.clone(),
                        branch: branch.clone(),
                        what,
                        rule: format!("{} (it is the repository's default branch)", host.name()),
                        fix: "regraft never deletes a default branch; make another branch the default first".into(),
                    });
                }
            }
        }
        Err(e) => read
            .notes
            .push(format!("the default branch of {} could not be read ({e})", host.name())),
    }
    for (step, branch, what) in deleted_or_forced {
        match host.protection(&branch) {
            Ok(None) => {}
            Ok(Some(rule)) => {
                let allowed = match what {
                    "deletes" => rule.allows_deletion,
                    _ => rule.allows_force_push,
                };
                if !allowed {
                    read.refused.push(Refused { step, branch, what, rule: rule.rule, fix: rule.fix });
                } else if rule.push_restricted {
                    read.notes.push(format!(
                        "{} lets only some people push to {branch}: step {step} is refused unless you are one of them",
                        rule.rule
                    ));
                }
            }
            Err(e) => read.notes.push(format!(
                "the protection of {branch} on {} could not be read ({e}); a rule that refuses step {step} will stop the plan there, with --abort to undo",
                host.name()
            )),
        }
    }
    Ok(read)
}
