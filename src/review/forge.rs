//! Forges: review hosts where a change is a request to merge one branch into another
//! (GitHub's pull requests, GitLab's merge requests), as one interface the surgery keeps
//! through a replacement, and the record of the requests an operation moved or closed.

use serde::{Deserialize, Serialize};

use super::{OpenRequest, ReviewError, Secret};

/// Which forge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForgeKind {
    GitHub,
    GitLab,
}

impl ForgeKind {
    /// Returns the forge's name as people write it.
    pub fn name(self) -> &'static str {
        match self {
            ForgeKind::GitHub => "GitHub",
            ForgeKind::GitLab => "GitLab",
        }
    }

    /// Returns what the forge calls a request (`pull request`, `merge request`).
    pub fn request_word(self) -> &'static str {
        match self {
            ForgeKind::GitHub => "pull request",
            ForgeKind::GitLab => "merge request",
        }
    }

    /// Returns how a request's number is written (`#12`, `!12`).
    pub fn number(self, number: u64) -> String {
        match self {
            ForgeKind::GitHub => format!("#{number}"),
            ForgeKind::GitLab => format!("!{number}"),
        }
    }

    /// Returns the variables an environment token is read from, first found wins.
    pub fn token_variables(self) -> &'static [&'static str] {
        match self {
            ForgeKind::GitHub => &["GH_TOKEN", "GITHUB_TOKEN"],
            ForgeKind::GitLab => &["GITLAB_TOKEN"],
        }
    }

    /// Returns the host an environment token is meant for when nobody says otherwise.
    pub fn default_web(self) -> &'static str {
        match self {
            ForgeKind::GitHub => "https://github.com",
            ForgeKind::GitLab => "https://gitlab.com",
        }
    }
}

impl std::fmt::Display for ForgeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A forge's server: its kind and its web URL (`https://github.com`,
/// `https://ghe.example.com`, or a test server's `http://127.0.0.1:PORT`), checked, with no
/// credentials: the only form shown, journalled and recorded. The REST API's root is derived
/// from it ([`ForgeHost::api`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ForgeHost {
    pub kind: ForgeKind,
    /// `scheme://host[:port]`, no path, no trailing slash.
    web: String,
}

impl ForgeHost {
    /// Parses a forge's web URL: `http(s)://host[:port]` with no userinfo, query or path
    /// other than `/` (a token never travels in a URL).
    pub fn parse(kind: ForgeKind, text: &str) -> Result<ForgeHost, ReviewError> {
        let bad = |reason: &'static str| ReviewError::BadForgeUrl {
            kind: kind.name(),
            url: redacted(text),
            reason,
        };
        let url = url::Url::parse(text.trim()).map_err(|_| bad("not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("only http and https"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "a token or password is never given in the URL; use the environment or a git credential helper",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("no query or fragment"));
        }
        if !matches!(url.path(), "" | "/") {
            return Err(bad("give the server only, without a path"));
        }
        let host = url.host_str().ok_or_else(|| bad("no host"))?;
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        Ok(ForgeHost { kind, web: format!("{}://{host}{port}", url.scheme()) })
    }

    /// Returns the forge's public server (github.com, gitlab.com).
    pub fn public(kind: ForgeKind) -> ForgeHost {
        ForgeHost { kind, web: kind.default_web().to_string() }
    }

    /// Returns the web URL.
    pub fn web(&self) -> &str {
        &self.web
    }

    /// Returns the host name (with the port, when there is one).
    pub fn authority(&self) -> &str {
        self.web.split_once("://").map_or(self.web.as_str(), |(_, rest)| rest)
    }

    /// Tells whether this is the forge's public server, the one an environment token is
    /// meant for.
    pub fn is_public(&self) -> bool {
        self.web == self.kind.default_web()
    }

    /// Returns the REST API's root, ending in `/`: `https://api.github.com/` for github.com,
    /// `https://HOST/api/v3/` for GitHub Enterprise Server ("REST API endpoints",
    /// `http(s)://HOSTNAME/api/v3`), `https://HOST/api/v4/` for any GitLab ("REST API",
    /// `/api/v4`).
    pub fn api(&self) -> String {
        let client = match self.kind {
            ForgeKind::GitHub => super::GitHubUrl::parse(&self.web).map(|u| u.api().to_string()),
            ForgeKind::GitLab => super::GitLabUrl::parse(&self.web).map(|u| u.api()),
        };
        // The web URL was checked when it was parsed, so the clients take it too.
        let api = client.unwrap_or_else(|_| self.web.clone());
        format!("{}/", api.trim_end_matches('/'))
    }

    /// Returns the forge a remote URL points at when it is a public one (github.com,
    /// gitlab.com, in any of git's URL forms).
    pub fn of_remote(remote_url: &str) -> Option<ForgeHost> {
        let host = remote_host(remote_url)?;
        [ForgeKind::GitHub, ForgeKind::GitLab]
            .into_iter()
            .find(|kind| kind.default_web().strip_prefix("https://") == Some(host.as_str()))
            .map(ForgeHost::public)
    }
}

impl std::fmt::Display for ForgeHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.web)
    }
}

/// Returns `text` for a message: control characters dropped and any userinfo (a token
/// given by mistake) replaced by stars.
fn redacted(text: &str) -> String {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    match text.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://****@{}", &rest[at + 1..]),
                None => text.clone(),
            }
        }
        None => text,
    }
}

/// Returns the host name of a remote URL (`https://github.com/o/r.git`,
/// `ssh://git@github.com/o/r`, `git@github.com:o/r.git`), lower case, without user or port.
pub fn remote_host(remote_url: &str) -> Option<String> {
    let rest = match remote_url.split_once("://") {
        Some((_, rest)) => rest.split('/').next()?,
        // scp-like `user@host:path`, which git takes only when no slash comes before the colon.
        None => {
            let (host, _) = remote_url.split_once(':')?;
            if host.contains('/') {
                return None;
            }
            host
        }
    };
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Checks a repository's name on a forge before it goes into a URL: GitHub's `owner/name`,
/// GitLab's `group[/subgroup...]/name`; each part non-empty, of letters, digits, `-`, `_`
/// and `.` (not `.` or `..`).
pub fn check_repository(kind: ForgeKind, repository: &str) -> Result<(), ReviewError> {
    let bad = |reason: &'static str| ReviewError::Name {
        what: "repository",
        name: repository.chars().filter(|c| !c.is_control()).collect(),
        reason,
    };
    let parts: Vec<&str> = repository.split('/').collect();
    let count_ok = match kind {
        ForgeKind::GitHub => parts.len() == 2,
        ForgeKind::GitLab => parts.len() >= 2,
    };
    if !count_ok {
        return Err(bad(match kind {
            ForgeKind::GitHub => "give owner/name",
            ForgeKind::GitLab => "give group/name (or group/subgroup/name)",
        }));
    }
    for part in parts {
        if part.is_empty() || part == "." || part == ".." {
            return Err(bad("an empty, `.` or `..` part"));
        }
        if !part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(bad("only letters, digits, `-`, `_` and `.`"));
        }
    }
    Ok(())
}

/// A forge's token: never shown (its `Debug` prints stars), never stored.
#[derive(Clone)]
pub struct Token {
    secret: Secret,
    /// Where it came from, for messages (`GH_TOKEN`, `a git credential helper`).
    pub from: String,
}

impl Token {
    /// Wraps a token found in `from`.
    pub fn new(secret: String, from: impl Into<String>) -> Token {
        Token { secret: Secret::new(secret), from: from.into() }
    }

    /// Returns the secret, for the client that sends it.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(**** from {})", self.from)
    }
}

/// Finds the token for `host`, first found wins:
///
/// 1. the forge's variables (`GH_TOKEN`, `GITHUB_TOKEN`; `GITLAB_TOKEN`), only for the
///    host they are meant for: the forge's public server, or one the user named
///    ([`Named::ByUser`]: the command line, git config, or a journal made from one). A host
///    a playbook, a saved plan or another file names never receives them;
/// 2. `git credential fill` for `https://host` (git is told not to prompt): the password
///    it gives is the token, as GitHub's and GitLab's credential helpers store it.
///
/// A token for a plain `http://` host is refused unless `git config
/// regraft.<url>.allowHttp true` allows it. None found is `None`.
pub fn find_token(
    git: &crate::git::Git,
    host: &ForgeHost,
    named: super::Named,
) -> Result<Option<Token>, ReviewError> {
    let from_env = if host.is_public() || named == super::Named::ByUser {
        host.kind.token_variables().iter().find_map(|name| {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty()).map(|v| (v, *name))
        })
    } else {
        None
    };
    let (token, from) = match from_env {
        Some((value, name)) => (Token::new(value.trim().to_string(), name), name),
        None => {
            let request = format!("url={}\n\n", host.web);
            let text = match crate::git::credential::fill(git, &request) {
                Ok(crate::git::credential::Filled::Answer(text)) => text,
                Ok(crate::git::credential::Filled::Nothing) => return Ok(None),
                Err(e) => {
                    return Err(ReviewError::CredentialHelper {
                        url: host.web.clone(),
                        detail: e.to_string(),
                    });
                }
            };
            let password =
                text.lines().find_map(|l| l.strip_prefix("password=")).map(str::to_string);
            match password.filter(|p| !p.is_empty()) {
                Some(p) => (Token::new(p, "a git credential helper"), "a git credential helper"),
                None => return Ok(None),
            }
        }
    };
    if host.web.starts_with("http://") {
        let allowed = crate::git::credential::allow_http(git, &host.web)
            .map_err(|e| ReviewError::GitConfig { url: host.web.clone(), detail: e.to_string() })?;
        if !allowed {
            return Err(ReviewError::PlainHttp { url: host.web.clone(), from });
        }
    }
    Ok(Some(token))
}

/// Says how to give a token for `host`, for errors.
pub fn token_hint(host: &ForgeHost, named: super::Named) -> String {
    let vars = host.kind.token_variables().join(" or ");
    match named {
        super::Named::InFile(file) if !host.is_public() => format!(
            "{file} names {host}: only a git credential helper's token for {} goes to it (`git credential approve`), never {vars}; or name the host yourself with --review-host",
            host.web
        ),
        _ => format!(
            "set {vars}, or store a token for {} with a git credential helper (the token as its password)",
            host.web
        ),
    }
}

/// Connects to `repository` on `host` with the token it may receive ([`find_token`]): the
/// one way to a forge, for plans, checks, aborts and commands alike. A host with no token
/// is asked anonymously (enough to read a public repository; a change is then refused by
/// the host, with the hint of [`token_hint`]). `observer` hears of rate-limit waits and
/// retries.
pub fn connect(
    git: &crate::git::Git,
    host: &ForgeHost,
    repository: &str,
    named: super::Named,
    timeout: std::time::Duration,
    observer: Option<super::http::Observer>,
) -> Result<Box<dyn RequestHost>, ReviewError> {
    check_repository(host.kind, repository)?;
    let token = find_token(git, host, named)?;
    let trust = super::Trust::find_for(git, host.web())?;
    let secret = |t: Token| t.secret().reveal().to_string();
    Ok(match host.kind {
        ForgeKind::GitHub => {
            let url = super::GitHubUrl::parse(host.web())?;
            let repo = super::GitHubRepo::parse(repository)?;
            let token = token.map(|t| super::github::Token::new(secret(t)));
            let client = super::GitHub::new(url, repo, token, timeout)?.trusting(trust);
            Box::new(match observer {
                Some(observer) => client.observed(observer),
                None => client,
            })
        }
        ForgeKind::GitLab => {
            let url = super::GitLabUrl::parse(host.web())?;
            let project = super::gitlab::Project::parse(repository)?;
            let token = token.map(|t| super::gitlab::Token::new(secret(t)));
            let client =
                super::GitLab::new(&url, project, token).with_timeout(timeout).trusting(trust);
            Box::new(match observer {
                Some(observer) => client.observed(observer),
                None => client,
            })
        }
    })
}

/// The number that stands for `{number}` while a shown call is built.
const ANY: u64 = u64::MAX;

fn any_number(call: super::HttpCall) -> super::HttpCall {
    super::HttpCall { path: call.path.replace(&ANY.to_string(), "{number}"), ..call }
}

/// Implements [`RequestHost`] for a client whose inherent methods have the trait's names.
macro_rules! request_host {
    ($client:ty, $kind:expr, $name:expr) => {
        impl RequestHost for $client {
            fn name(&self) -> String {
                let name: fn(&$client) -> String = $name;
                name(self)
            }
            fn kind(&self) -> ForgeKind {
                $kind
            }
            fn open_requests(&self, base: &str) -> Result<Vec<OpenRequest>, ReviewError> {
                <$client>::open_requests(self, base)
            }
            fn request(&self, number: u64) -> Result<OpenRequest, ReviewError> {
                <$client>::request(self, number)
            }
            fn retarget(&self, number: u64, base: &str) -> Result<(), ReviewError> {
                <$client>::retarget(self, number, base).map(drop)
            }
            fn close(&self, number: u64) -> Result<(), ReviewError> {
                <$client>::close(self, number).map(drop)
            }
            fn reopen(&self, number: u64) -> Result<(), ReviewError> {
                <$client>::reopen(self, number).map(drop)
            }
            fn comment(&self, number: u64, body: &str) -> Result<(), ReviewError> {
                <$client>::comment(self, number, body)
            }
            fn last_comment(&self, number: u64) -> Result<Option<String>, ReviewError> {
                <$client>::last_comment(self, number)
            }
            fn create_request(
                &self,
                head: &str,
                base: &str,
                title: &str,
                body: &str,
            ) -> Result<OpenRequest, ReviewError> {
                <$client>::create_request(self, head, base, title, body)
            }
            fn protection(&self, branch: &str) -> Result<Option<Protection>, ReviewError> {
                <$client>::protection(self, branch)
            }
            fn default_branch(&self) -> Result<String, ReviewError> {
                <$client>::default_branch(self)
            }
        }
    };
}

request_host!(super::GitHub, ForgeKind::GitHub, |c| format!("{} {}", c.url(), c.repo()));
request_host!(super::GitLab, ForgeKind::GitLab, |c| c.project().as_str().to_string());

/// What a branch's protection allows, read before a plan starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protection {
    pub branch: String,
    /// The rule's name as the forge shows it (`branch protection of stable/liberty`,
    /// `protected branch stable/*`).
    pub rule: String,
    pub allows_force_push: bool,
    pub allows_deletion: bool,
    /// Only some people or apps may push at all.
    pub push_restricted: bool,
    /// What to change on the forge to allow what the plan does.
    pub fix: String,
}

/// What regraft needs from a forge, for one repository on it.
pub trait RequestHost {
    /// Names the host and repository in messages (no credentials).
    fn name(&self) -> String;
    /// Which forge it is.
    fn kind(&self) -> ForgeKind;
    /// Every open request targeting `base`, all pages collected.
    fn open_requests(&self, base: &str) -> Result<Vec<OpenRequest>, ReviewError>;
    /// One request as it is now.
    fn request(&self, number: u64) -> Result<OpenRequest, ReviewError>;
    /// Makes the request target `base`.
    fn retarget(&self, number: u64, base: &str) -> Result<(), ReviewError>;
    /// Closes the request (without merging it).
    fn close(&self, number: u64) -> Result<(), ReviewError>;
    /// Reopens a closed request.
    fn reopen(&self, number: u64) -> Result<(), ReviewError>;
    /// Adds a comment to the request.
    fn comment(&self, number: u64, body: &str) -> Result<(), ReviewError>;
    /// The body of the newest comment a person wrote on the request (the host's own notes
    /// of state changes left out), if any.
    fn last_comment(&self, number: u64) -> Result<Option<String>, ReviewError>;
    /// Opens a request to merge `head` into `base`.
    fn create_request(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<OpenRequest, ReviewError>;
    /// The protection of `branch`, if it has any.
    fn protection(&self, branch: &str) -> Result<Option<Protection>, ReviewError>;
    /// The repository's default branch.
    fn default_branch(&self) -> Result<String, ReviewError>;
}

/// What a forge step of a plan does to the open requests on its branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "call")]
pub enum ForgeCall {
    /// List every open request on the branch (all pages) and record them, before the
    /// branch is changed.
    Record,
    /// Make the recorded requests that target `from` target `to` (a hold branch at the old
    /// tip while the branch is replaced, and back).
    Retarget { from: String, to: String },
    /// Comment on each recorded request and close it.
    Close { comment: String },
    /// Reopen the requests the operation `of` (none: this one) closed on the branch.
    Reopen {
        comment: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        of: Option<String>,
    },
    /// Open a request to merge `head` into the step's branch (a backport's stage), unless
    /// one is open already.
    Open { head: String, title: String, body: String },
}

/// Returns the HTTP requests `call` sends on `host`, as a plan shows them (`{number}`
/// standing for each request's number).
pub fn shown_calls(
    host: &ForgeHost,
    repository: &str,
    branch: &str,
    call: &ForgeCall,
) -> Vec<super::HttpCall> {
    let any = |call: super::HttpCall| any_number(call);
    match host.kind {
        ForgeKind::GitHub => {
            use super::github::calls;
            let Ok(repo) = super::GitHubRepo::parse(repository) else { return Vec::new() };
            match call {
                ForgeCall::Record => vec![calls::list_open(&repo, branch, 1)],
                ForgeCall::Retarget { to, .. } => {
                    vec![any(calls::get(&repo, ANY)), any(calls::retarget(&repo, ANY, to))]
                }
                ForgeCall::Close { comment } => vec![
                    any(calls::get(&repo, ANY)),
                    any(calls::comment(&repo, ANY, comment)),
                    any(calls::close(&repo, ANY)),
                ],
                ForgeCall::Reopen { comment, .. } => vec![
                    any(calls::get(&repo, ANY)),
                    any(calls::reopen(&repo, ANY)),
                    any(calls::comment(&repo, ANY, comment)),
                ],
                ForgeCall::Open { head, title, body } => vec![
                    calls::list_open(&repo, branch, 1),
                    calls::create(&repo, head, branch, title, body),
                ],
            }
        }
        ForgeKind::GitLab => {
            use super::gitlab::calls;
            let Ok(project) = super::gitlab::Project::parse(repository) else {
                return Vec::new();
            };
            let calls: Vec<Option<super::HttpCall>> = match call {
                ForgeCall::Record => vec![calls::list_open(&project, branch, 1).ok()],
                ForgeCall::Retarget { to, .. } => vec![
                    Some(calls::request(&project, ANY)),
                    calls::retarget(&project, ANY, to).ok(),
                ],
                ForgeCall::Close { comment } => vec![
                    Some(calls::request(&project, ANY)),
                    Some(calls::comment(&project, ANY, comment)),
                    Some(calls::close(&project, ANY)),
                ],
                ForgeCall::Reopen { comment, .. } => vec![
                    Some(calls::request(&project, ANY)),
                    Some(calls::reopen(&project, ANY)),
                    Some(calls::comment(&project, ANY, comment)),
                ],
                ForgeCall::Open { head, title, body } => vec![
                    calls::list_open(&project, branch, 1).ok(),
                    calls::create(&project, head, branch, title, body).ok(),
                ],
            };
            calls.into_iter().flatten().map(any).collect()
        }
    }
}

/// One request an operation holds: as it was listed, and what the operation did to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRequest {
    pub request: OpenRequest,
    /// The operation's comment was sent, and the host's answer may not have been read: a
    /// kill or a lost answer after the host took it. Until `commented`, resuming reads the
    /// request's newest comment rather than posting it twice.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub commenting: bool,
    /// The operation's comment is on it.
    #[serde(default)]
    pub commented: bool,
    /// The operation closed it (and it is not reopened yet).
    #[serde(default)]
    pub closed: bool,
    /// Its reopen was sent and not confirmed yet: resuming comments on it (once) even
    /// though it is open already.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reopening: bool,
}

/// The open requests one operation found on a branch before changing it: kept until they
/// are back where they were (retargeted back, reopened), so an abort or a `restore` long
/// after knows exactly which to put back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub host: ForgeHost,
    pub repository: String,
    pub branch: String,
    /// The operation that recorded them.
    pub by: String,
    /// When, in seconds since 1970.
    pub at: u64,
    pub requests: Vec<HeldRequest>,
    /// The file that named the host when the user did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
}

impl RequestRecord {
    /// Tells whether the record is about `branch` of `repository` on `host`, by `by`.
    pub fn is(&self, host: &ForgeHost, repository: &str, branch: &str, by: &str) -> bool {
        self.host == *host
            && self.repository == repository
            && self.branch == branch
            && self.by == by
    }
}

/// Every record of held requests, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLog {
    pub records: Vec<RequestRecord>,
}

impl RequestLog {
    /// Returns where the log lives in regraft's state directory.
    pub fn path(state_dir: &std::path::Path) -> std::path::PathBuf {
        state_dir.join("requests.json")
    }

    /// Reads the log (empty when there is none). A log that cannot be read is an error,
    /// never taken for an empty one: it is what puts requests back.
    pub fn load(state_dir: &std::path::Path) -> std::io::Result<RequestLog> {
        let path = Self::path(state_dir);
        let Some(text) = crate::state_file::read(&path)? else { return Ok(RequestLog::default()) };
        serde_json::from_slice(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is not a record of held requests ({e}); it is left as it is: read it, and move it away once its requests are back where they belong",
                    path.display()
                ),
            )
        })
    }

    /// Writes the log whole; an empty log removes the file.
    pub fn save(&self, state_dir: &std::path::Path) -> std::io::Result<()> {
        let text = (!self.records.is_empty())
            .then(|| serde_json::to_vec_pretty(self).expect("the log serializes"));
        crate::state_file::write_or_remove(&Self::path(state_dir), text.as_deref())
    }

    /// Returns the record of `by` for the branch, if there is one.
    pub fn find(
        &self,
        host: &ForgeHost,
        repository: &str,
        branch: &str,
        by: &str,
    ) -> Option<&RequestRecord> {
        self.records.iter().find(|r| r.is(host, repository, branch, by))
    }

    /// Returns the record of `by` for the branch, if there is one, to change.
    pub fn find_mut(
        &mut self,
        host: &ForgeHost,
        repository: &str,
        branch: &str,
        by: &str,
    ) -> Option<&mut RequestRecord> {
        self.records.iter_mut().find(|r| r.is(host, repository, branch, by))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forge_urls_are_checked_and_never_carry_a_token() {
        let host = ForgeHost::parse(ForgeKind::GitHub, "https://github.com/").expect("valid");
        assert!(host.is_public());
        assert_eq!(host.api(), "https://api.github.com/");
        let ghe = ForgeHost::parse(ForgeKind::GitHub, "https://ghe.example.com").expect("valid");
        assert_eq!(ghe.api(), "https://ghe.example.com/api/v3/");
        let lab = ForgeHost::parse(ForgeKind::GitLab, "http://127.0.0.1:8080").expect("valid");
        assert_eq!(lab.api(), "http://127.0.0.1:8080/api/v4/");
        assert_eq!(lab.authority(), "127.0.0.1:8080");
        for bad in [
            "https://x:ghp_secret@github.com",
            "https://github.com/o/r",
            "ftp://github.com",
            "github.com",
            "https://github.com/?a=b",
        ] {
            let error = ForgeHost::parse(ForgeKind::GitHub, bad).expect_err(bad).to_string();
            assert!(!error.contains("ghp_secret"), "{error}");
            assert!(error.contains("github.com"), "{error}");
        }
    }

    #[test]
    fn remote_urls_name_their_forge_in_every_form_git_takes() {
        for url in [
            "https://github.com/rust-lang/cargo.git",
            "ssh://git@github.com/rust-lang/cargo",
            "git@github.com:rust-lang/cargo.git",
            "https://user@GitHub.com:443/rust-lang/cargo",
        ] {
            assert_eq!(
                ForgeHost::of_remote(url),
                Some(ForgeHost::public(ForgeKind::GitHub)),
                "{url}"
            );
        }
        assert_eq!(
            ForgeHost::of_remote("git@gitlab.com:group/sub/proj.git"),
            Some(ForgeHost::public(ForgeKind::GitLab))
        );
        for other in
            ["https://opendev.org/openstack/kolla", "/srv/git/x.git", "./a:b/c", "file:///tmp/x"]
        {
            assert_eq!(ForgeHost::of_remote(other), None, "{other}");
        }
    }

    #[test]
    fn tokens_never_show() {
        let token = Token::new("glpat-very-secret".into(), "GITLAB_TOKEN");
        let shown = format!("{token:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("GITLAB_TOKEN"));
    }
}
