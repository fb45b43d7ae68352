//! Review hosts: the open reviews on a branch, abandoned before the branch is deleted or
//! recreated and restored afterwards, and the branch and tag calls of a host's API. A
//! Gerrit, through its REST API (`gerrit`), is a [`ReviewHost`]; GitHub and GitLab, whose
//! pull and merge requests are retargeted, closed and reopened, are each a
//! [`forge::RequestHost`]. The executor reaches both through a [`HostFactory`].

use serde::{Deserialize, Serialize};

use crate::ErrorOrigin;

pub mod factory;
pub mod forge;
mod gerrit;
pub mod github;
pub mod gitlab;
mod gitreview;
pub mod http;
mod request;
mod trust;
mod url;

pub use factory::{Connector, HostFactory, MAX_TIMEOUT_SECONDS};
pub use gerrit::{Access, AccessCheckInfo, Account, Gerrit};
pub use github::{GitHub, GitHubRepo, GitHubUrl};
pub use gitlab::{GitLab, GitLabUrl};
pub use gitreview::{GitReview, with_defaultbranch};
pub use http::{DEFAULT_TIMEOUT, HttpCall, Method, Note, Observer};
pub use request::{OpenRequest, RequestState};
pub use trust::Trust;
pub use url::{Credentials, GerritUrl, Named, PASSWORD_VAR, Secret, USER_VAR};

/// Errors from a review host.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "no credentials for {url}: {}",
        withheld.clone().unwrap_or_else(|| "set REGRAFT_GERRIT_USER and REGRAFT_GERRIT_PASSWORD, or store them with a git credential helper (a password in a URL serves only the command it was given to; it is never stored)".to_string())
    )]
    NoCredentials { url: String, withheld: Option<String> },
    #[error(
        "not sending the credentials from {from} to {url}: it is plain HTTP, so anyone on the way could read them. Use https, or if you mean it: git config regraft.{url}.allowHttp true"
    )]
    PlainHttp { url: String, from: &'static str },
    /// The URL is shown with its password replaced.
    #[error("`{url}` is not a Gerrit URL: {reason} (give http(s)://host[:port][/path])")]
    BadUrl { url: String, reason: &'static str },
    #[error("`{name}` is not a {what} name: {reason}")]
    Name { what: &'static str, name: String, reason: &'static str },
    /// The URL is shown with any userinfo replaced.
    #[error("`{url}` is not a {kind} server's URL: {reason} (give https://host[:port])")]
    BadForgeUrl { kind: &'static str, url: String, reason: &'static str },
    #[error("{method} {url}: the server refused the credentials of `{user}` (HTTP {status})")]
    Unauthorized { method: Method, url: String, server: String, user: String, status: u16 },
    #[error(
        "{method} {url}: {server} limits how fast it may be asked, and {}; nothing more was asked of it. Try again later{}",
        match seconds { Some(s) => format!("asks to wait {s} s, more than the {left} s left of the call"), None => "does not say for how long".to_string() },
        if *left > 0 { " (or give more time with --timeout where the command has it)" } else { "" }
    )]
    RateLimited { method: Method, url: String, server: String, seconds: Option<u64>, left: u64 },
    #[error("{method} {url}: HTTP {status}: {body}")]
    Status { method: Method, url: String, status: u16, body: String },
    #[error("{method} {url}: {detail}")]
    Transport { method: Method, url: String, detail: String },
    #[error(
        "{method} {url}: {server} did not answer within {seconds:.0} s, retries included; nothing more was asked of it (--timeout sets the wait where a command has it)"
    )]
    NoAnswer { method: Method, url: String, server: String, seconds: f64 },
    #[error(
        "{method} {url}: the server's certificate is not trusted ({detail}); checked against {trusted}. Name the CA that signed it with `git config http.sslCAInfo <file.pem>` (or http.<url>.sslCAInfo), GIT_SSL_CAINFO or SSL_CERT_FILE"
    )]
    Certificate { method: Method, url: String, detail: String, trusted: String },
    #[error("the CA file {file} cannot be used: {detail}")]
    CaFile { file: String, detail: String },
    #[error("reading git's http settings for {url}: {detail}")]
    GitConfig { url: String, detail: String },
    #[error("asking git's credential helpers for {url}: {detail}")]
    CredentialHelper { url: String, detail: String },
    #[error("{url}: unexpected answer: {detail}")]
    Parse { url: String, detail: String },
    #[error(
        "{url}: more than {count} open changes, or a server that never ends its pages; stopped"
    )]
    TooMany { url: String, count: usize },
    #[error(
        "{url}: the server says there are more changes but sends none that is new (after {count}); it seems to ignore the `S` parameter, so the listing stopped"
    )]
    Paging { url: String, count: usize },
    #[error(
        "{host} answered that it abandoned {numbers} on {branch} of {project}, but they are still open"
    )]
    StillOpen { host: String, project: String, branch: String, numbers: String },
    #[error(
        "reviews keep being uploaded to {branch} of {project} while they are abandoned ({count} in the last round); stopped"
    )]
    StillUploading { project: String, branch: String, count: usize },
    #[error(
        "`{url}` is not a GitHub server URL: {reason} (give https://github.com, or https://HOST of a GitHub Enterprise Server)"
    )]
    BadGitHubUrl { url: String, reason: &'static str },
    #[error("`{repo}` is not a GitHub repository: {reason} (give owner/name)")]
    BadRepository { repo: String, reason: &'static str },
    #[error(
        "{method} {url}: {host} {} (HTTP 401: {message}); {} with GH_TOKEN or GITHUB_TOKEN, or store one for {web} with a git credential helper (`git credential approve`)",
        if *token_given { "refused the token" } else { "needs a token for this" },
        if *token_given { "give a valid one" } else { "give one" }
    )]
    GitHubAuth {
        method: Method,
        url: String,
        host: String,
        web: String,
        message: String,
        token_given: bool,
    },
    #[error(
        "{method} {url}: HTTP {status}: {message}{}",
        match (*status, *token_given) {
            (404, false) => " (GitHub answers 404 for a private repository asked without a token: give one with GH_TOKEN or GITHUB_TOKEN, or a git credential helper)",
            (403 | 404, true) => " (the token may lack the permission this needs, or the repository is not visible to it)",
            _ => "",
        }
    )]
    GitHub { method: Method, url: String, status: u16, message: String, token_given: bool },
    #[error("{url}: {detail}; the listing stopped")]
    BadPage { url: String, detail: String },
    /// A project path, branch or host URL that is not sent (checked before any request).
    #[error("`{name}` is not a valid {what}: {reason}; nothing was sent")]
    BadName { what: &'static str, name: String, reason: String },
    /// 401, 403, or a project hidden from a request without a token: what the host said,
    /// and how to give a token that it takes.
    #[error("{method} {url}: {server} refused the request (HTTP {status}: {message}); {remedy}")]
    Refused {
        method: Method,
        url: String,
        server: String,
        status: u16,
        message: String,
        remedy: String,
    },
    /// A listing whose pages do not end or do not advance.
    #[error("{url}: {detail}; the listing stopped, so nothing is planned on a partial list")]
    Pages { url: String, detail: String },
}

impl ReviewError {
    /// Returns what the user can do about the error, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            ReviewError::Unauthorized { server, user, .. } => Some(format!(
                "{server} refused the credentials of `{user}`: give others with REGRAFT_GERRIT_USER and REGRAFT_GERRIT_PASSWORD (or user:password@ in the URL), or replace the ones your git credential helper holds for {server} (`git credential reject`, then store the right ones)"
            )),
            _ => None,
        }
    }
}

/// What the user gave (a URL, credentials) is theirs; the server and the network are not.
impl ErrorOrigin for ReviewError {
    fn is_user_input(&self) -> bool {
        match self {
            ReviewError::NoCredentials { .. }
            | ReviewError::PlainHttp { .. }
            | ReviewError::Unauthorized { .. }
            | ReviewError::BadUrl { .. }
            | ReviewError::BadForgeUrl { .. }
            | ReviewError::Name { .. }
            | ReviewError::Certificate { .. }
            | ReviewError::CaFile { .. }
            | ReviewError::BadGitHubUrl { .. }
            | ReviewError::BadRepository { .. }
            | ReviewError::GitHubAuth { .. }
            | ReviewError::BadName { .. }
            | ReviewError::Refused { .. } => true,
            // A repository or pull request that is not there is what the user named.
            ReviewError::GitHub { status, .. } => *status == 404,
            ReviewError::Status { .. }
            | ReviewError::GitConfig { .. }
            | ReviewError::CredentialHelper { .. }
            | ReviewError::Transport { .. }
            | ReviewError::NoAnswer { .. }
            | ReviewError::RateLimited { .. }
            | ReviewError::Parse { .. }
            | ReviewError::TooMany { .. }
            | ReviewError::Paging { .. }
            | ReviewError::StillOpen { .. }
            | ReviewError::StillUploading { .. }
            | ReviewError::BadPage { .. }
            | ReviewError::Pages { .. } => false,
        }
    }
}

/// A review on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The host's id for it, as the host gave it (Gerrit: `openstack%2Fkolla~101`).
    pub id: String,
    /// The project it belongs to (Gerrit's `project`, not encoded).
    #[serde(default)]
    pub project: String,
    pub number: u64,
    pub subject: String,
    pub change_id: String,
    pub branch: String,
    pub status: ReviewStatus,
}

/// A review's state, as Gerrit's `ChangeInfo.status` writes it (rest-api-changes.html
/// "ChangeInfo": `NEW`, `MERGED`, `ABANDONED`; older servers also `DRAFT`). A state a
/// server adds later is kept as it came, so records still write it back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ReviewStatus {
    New,
    Merged,
    Abandoned,
    Draft,
    /// Anything else (or nothing: a server that left the field out).
    Other(String),
}

impl Default for ReviewStatus {
    fn default() -> Self {
        ReviewStatus::Other(String::new())
    }
}

impl ReviewStatus {
    /// Returns the state as the host writes it.
    pub fn as_str(&self) -> &str {
        match self {
            ReviewStatus::New => "NEW",
            ReviewStatus::Merged => "MERGED",
            ReviewStatus::Abandoned => "ABANDONED",
            ReviewStatus::Draft => "DRAFT",
            ReviewStatus::Other(other) => other,
        }
    }
}

impl From<String> for ReviewStatus {
    fn from(text: String) -> Self {
        match text.as_str() {
            "NEW" => ReviewStatus::New,
            "MERGED" => ReviewStatus::Merged,
            "ABANDONED" => ReviewStatus::Abandoned,
            "DRAFT" => ReviewStatus::Draft,
            _ => ReviewStatus::Other(text),
        }
    }
}

impl From<ReviewStatus> for String {
    fn from(status: ReviewStatus) -> Self {
        match status {
            ReviewStatus::Other(other) => other,
            known => known.as_str().to_string(),
        }
    }
}

impl std::fmt::Display for ReviewStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether [`abandon_all`] abandons what it finds or only lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abandoning {
    /// Only list the open reviews (a dry run).
    ListOnly,
    /// Abandon them, and verify.
    Execute,
}

/// What an abandon or restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Outcome {
    Done,
    /// The review was already in the state asked for (Gerrit's 409): information, not failure.
    AlreadyThere(String),
}

/// What regraft needs from a Gerrit (a forge's calls are [`forge::RequestHost`]'s).
pub trait ReviewHost {
    /// Names the host in messages (its URL, without credentials).
    fn name(&self) -> String;
    /// Returns every open review on `branch` of `project`, all pages collected.
    fn open_reviews(&self, project: &str, branch: &str) -> Result<Vec<Review>, ReviewError>;
    /// Abandons a review, with a message.
    fn abandon(&self, review: &Review, message: &str) -> Result<Outcome, ReviewError>;
    /// Restores an abandoned review, with a message.
    fn restore(&self, review: &Review, message: &str) -> Result<Outcome, ReviewError>;
    /// Deletes a branch.
    fn delete_branch(&self, project: &str, branch: &str) -> Result<(), ReviewError>;
    /// Creates a branch at `revision`.
    fn create_branch(
        &self,
        project: &str,
        branch: &str,
        revision: crate::oid::ObjectId,
    ) -> Result<(), ReviewError>;
    /// Creates an annotated tag at `revision`.
    fn create_tag(
        &self,
        project: &str,
        tag: &str,
        revision: crate::oid::ObjectId,
        message: &str,
    ) -> Result<(), ReviewError>;
    /// Returns the account the credentials belong to (none: [`ReviewError::NoCredentials`]).
    fn own_account(&self) -> Result<Account, ReviewError>;
    /// Asks Check Access whether `account` has the ref permission `perm` on `reference` of
    /// `project` (authenticated only).
    fn check_access(
        &self,
        project: &str,
        account: u64,
        reference: &str,
        perm: &str,
    ) -> Result<AccessCheckInfo, ReviewError>;
}

/// Returns the project path of a remote URL: `https://review.opendev.org/openstack/kolla`
/// and `ssh://u@host:29418/openstack/kolla.git` give `openstack/kolla`.
pub fn project_of(remote_url: &str) -> String {
    let path = match remote_url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        // `user@host:path`, or a local path.
        None => remote_url.split_once(':').map_or(remote_url, |(_, p)| p),
    };
    path.trim_start_matches('/')
        .trim_start_matches("a/")
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .to_string()
}

/// What one abandon did: the reviews it abandoned on a branch, so `restore` can bring them
/// back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbandonRecord {
    pub gerrit: GerritUrl,
    pub project: String,
    pub branch: String,
    /// What abandoned them (`abandon`, or the operation of a plan).
    #[serde(default)]
    pub by: String,
    /// When, in seconds since 1970.
    #[serde(default)]
    pub at: u64,
    pub reviews: Vec<Review>,
    /// The file that named the server when the user did not: restoring uses the same
    /// credentials rules as abandoning (see [`Named`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
}

impl AbandonRecord {
    /// Returns who named the record's server.
    pub fn named(&self) -> Named<'_> {
        Named::from_found_in(self.found_in.as_deref())
    }
}

/// Every abandon not yet restored, oldest first: a later abandon or surgery adds to it and
/// never overwrites what an earlier one recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbandonLog {
    pub records: Vec<AbandonRecord>,
}

impl AbandonLog {
    /// Returns where the log lives in regraft's state directory.
    pub fn path(state_dir: &std::path::Path) -> std::path::PathBuf {
        state_dir.join("abandoned.json")
    }

    /// Reads the log (empty when there is none); a file in the earlier one-record format
    /// is read as a log of that record.
    pub fn load(state_dir: &std::path::Path) -> std::io::Result<AbandonLog> {
        let path = Self::path(state_dir);
        let Some(text) = crate::state_file::read(&path)? else { return Ok(AbandonLog::default()) };
        let invalid = |e: serde_json::Error| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not a record of abandoned reviews: {e}", path.display()),
            )
        };
        match serde_json::from_slice::<AbandonLog>(&text) {
            Ok(log) => Ok(log),
            Err(e) => serde_json::from_slice::<AbandonRecord>(&text)
                .map(|record| AbandonLog { records: vec![record] })
                .map_err(|_| invalid(e)),
        }
    }

    /// Writes the log whole (see [`crate::state_file`]); an empty log removes the file.
    pub fn save(&self, state_dir: &std::path::Path) -> std::io::Result<()> {
        let text = (!self.records.is_empty())
            .then(|| serde_json::to_vec_pretty(self).expect("the log serializes"));
        crate::state_file::write_or_remove(&Self::path(state_dir), text.as_deref())
    }

    /// Adds a record (one that abandoned nothing is not kept) and writes the log.
    pub fn append(state_dir: &std::path::Path, record: AbandonRecord) -> std::io::Result<()> {
        if record.reviews.is_empty() {
            return Ok(());
        }
        let mut log = AbandonLog::load(state_dir)?;
        log.records.push(record);
        log.save(state_dir)
    }
}

/// Returns the seconds since 1970 now, for records.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// How one review's restore went.
#[derive(Debug)]
pub struct Restored {
    pub review: Review,
    pub outcome: Result<Outcome, ReviewError>,
}

/// Restores each review in turn, going on after a failure, and says how each went.
pub fn restore_all(host: &dyn ReviewHost, reviews: &[Review], message: &str) -> Vec<Restored> {
    reviews
        .iter()
        .map(|review| Restored { review: review.clone(), outcome: host.restore(review, message) })
        .collect()
}

/// How many times the branch is asked again for reviews uploaded while it was being cleared.
const ROUNDS: usize = 3;

/// Abandons every open review on `branch` of `project`: all pages are collected first,
/// then each is abandoned, then the branch is asked again, which both verifies the abandons
/// (a review the host said it abandoned but that is still open is an error) and finds
/// reviews uploaded meanwhile, until none is left (at most a few rounds). With
/// [`Abandoning::ListOnly`], only lists them.
pub fn abandon_all(
    host: &dyn ReviewHost,
    project: &str,
    branch: &str,
    message: &str,
    abandoning: Abandoning,
) -> Result<Vec<(Review, Option<Outcome>)>, ReviewError> {
    abandon_each(host, project, branch, message, abandoning, &mut |_, _| Ok::<(), ReviewError>(()))
}

/// As [`abandon_all`], calling `confirmed` with each review the host answered for (abandoned,
/// or already closed) before the next request, so a record written there survives a server
/// that fails halfway: an error from `confirmed` stops the abandoning.
pub fn abandon_each<E: From<ReviewError>>(
    host: &dyn ReviewHost,
    project: &str,
    branch: &str,
    message: &str,
    abandoning: Abandoning,
    confirmed: &mut dyn FnMut(&Review, &Outcome) -> Result<(), E>,
) -> Result<Vec<(Review, Option<Outcome>)>, E> {
    let mut done: Vec<(Review, Option<Outcome>)> = Vec::new();
    let dry_run = abandoning == Abandoning::ListOnly;
    let same = |a: &Review, b: &Review| a.number == b.number && a.project == b.project;
    for round in 0..=ROUNDS {
        let listed = host.open_reviews(project, branch)?;
        let still: Vec<String> = listed
            .iter()
            .filter(|r| done.iter().any(|(d, o)| same(d, r) && *o == Some(Outcome::Done)))
            .map(|r| r.number.to_string())
            .collect();
        if !still.is_empty() {
            return Err(ReviewError::StillOpen {
                host: host.name(),
                project: project.to_string(),
                branch: branch.to_string(),
                numbers: still.join(", "),
            }
            .into());
        }
        let open: Vec<Review> =
            listed.into_iter().filter(|r| !done.iter().any(|(d, _)| same(d, r))).collect();
        if open.is_empty() {
            break;
        }
        if round == ROUNDS {
            return Err(ReviewError::StillUploading {
                project: project.to_string(),
                branch: branch.to_string(),
                count: open.len(),
            }
            .into());
        }
        for review in open {
            let outcome = if dry_run {
                None
            } else {
                let outcome = host.abandon(&review, message)?;
                confirmed(&review, &outcome)?;
                Some(outcome)
            };
            done.push((review, outcome));
        }
        if dry_run {
            break;
        }
    }
    Ok(done)
}

/// Writes the reviews one abandon confirms to the log, each as the server confirms it: the
/// first starts the abandon's record, the later ones add to it, so what was abandoned
/// before a failure can be restored.
#[derive(Debug)]
pub struct AbandonRecorder {
    state_dir: std::path::PathBuf,
    record: AbandonRecord,
    /// Where the record is in the log, once written.
    index: Option<usize>,
}

impl AbandonRecorder {
    /// Starts a recorder for an abandon by `by` on `branch` of `project` at `gerrit`, now;
    /// nothing is written until a review is added.
    pub fn new(
        state_dir: &std::path::Path,
        gerrit: &GerritUrl,
        project: &str,
        branch: &str,
        by: &str,
    ) -> Self {
        AbandonRecorder {
            state_dir: state_dir.to_path_buf(),
            record: AbandonRecord {
                gerrit: gerrit.clone(),
                project: project.to_string(),
                branch: branch.to_string(),
                by: by.to_string(),
                at: now(),
                reviews: Vec::new(),
                found_in: None,
            },
            index: None,
        }
    }

    /// Returns the recorder noting the file that named the server, when the user did not.
    pub fn found_in(mut self, found_in: Option<String>) -> Self {
        self.record.found_in = found_in;
        self
    }

    /// Adds a review to the record and writes the log at once.
    pub fn add(&mut self, review: &Review) -> std::io::Result<()> {
        self.record.reviews.push(review.clone());
        let mut log = AbandonLog::load(&self.state_dir)?;
        let header = |r: &AbandonRecord| {
            r.gerrit == self.record.gerrit
                && r.project == self.record.project
                && r.branch == self.record.branch
                && r.by == self.record.by
                && r.at == self.record.at
        };
        match self.index.filter(|&i| log.records.get(i).is_some_and(header)) {
            Some(i) => log.records[i].reviews.push(review.clone()),
            None => {
                log.records.push(self.record.clone());
                self.index = Some(log.records.len() - 1);
            }
        }
        log.save(&self.state_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_from_urls() {
        assert_eq!(project_of("https://review.opendev.org/openstack/kolla"), "openstack/kolla");
        assert_eq!(
            project_of("ssh://rel@review.opendev.org:29418/openstack/kolla.git"),
            "openstack/kolla"
        );
        assert_eq!(project_of("git@example.org:team/tool.git"), "team/tool");
    }

    #[test]
    fn review_states_read_and_write_back_as_gerrit_writes_them() {
        for (text, status) in [
            ("NEW", ReviewStatus::New),
            ("MERGED", ReviewStatus::Merged),
            ("ABANDONED", ReviewStatus::Abandoned),
            ("DRAFT", ReviewStatus::Draft),
            ("PARKED", ReviewStatus::Other("PARKED".into())),
            ("", ReviewStatus::Other(String::new())),
        ] {
            let json = format!("\"{text}\"");
            let read: ReviewStatus = serde_json::from_str(&json).expect("any string reads");
            assert_eq!(read, status);
            assert_eq!(serde_json::to_string(&read).expect("writes"), json);
        }
        // A record written with the state as a string reads unchanged.
        let old = r#"{"id":"p%2Fq~1","project":"p/q","number":1,"subject":"s","change_id":"I1","branch":"b","status":"NEW"}"#;
        let review: Review = serde_json::from_str(old).expect("an old record reads");
        assert_eq!(review.status, ReviewStatus::New);
        assert_eq!(serde_json::to_string(&review).expect("writes"), old);
    }
}
