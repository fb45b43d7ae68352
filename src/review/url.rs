//! Gerrit server URLs without their userinfo, and the credentials that go with them.

use serde::{Deserialize, Serialize};

use super::ReviewError;
use crate::git::Git;
use crate::git::credential::Filled;

/// A password that never shows: its `Debug` and `Display` print stars.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret (a password, a token, a whole `Authorization` value).
    pub fn new(secret: String) -> Secret {
        Secret(secret)
    }

    /// Returns the secret itself, for the one place that sends it.
    pub(crate) fn reveal(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("****")
    }
}

/// A Gerrit server's URL without userinfo: the only form that is shown, stored in plans,
/// journals and records, and given to the HTTP client.
///
/// A `user:password@` in the URL the user gave is split off by [`GerritUrl::parse`] and
/// kept in memory only: it is never displayed and never serialized, so an operation resumed
/// from its journal finds credentials again (environment or credential helper).
#[derive(Clone)]
pub struct GerritUrl {
    /// `scheme://host[:port][/path]`, no trailing slash.
    base: String,
    /// The user, and the password if there was one, percent-decoded.
    userinfo: Option<(String, Option<Secret>)>,
}

impl GerritUrl {
    /// Parses an `http` or `https` URL with a host (the `url` crate, WHATWG's rules), splitting
    /// off and percent-decoding its userinfo. The error shows the text with its password
    /// replaced.
    pub fn parse(text: &str) -> Result<GerritUrl, ReviewError> {
        let bad = |reason| ReviewError::BadUrl { url: redact(text), reason };
        // WHATWG would read `http:host` as `http://host`, and percent-encode a space.
        let (scheme, _) = text.split_once("://").ok_or_else(|| bad("no scheme"))?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(bad("the scheme is not http or https"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("spaces or control characters in it"));
        }
        let mut url = url::Url::parse(text).map_err(|e| {
            bad(match e {
                url::ParseError::EmptyHost => "no valid host",
                url::ParseError::InvalidPort => "no valid port",
                url::ParseError::InvalidIpv6Address | url::ParseError::InvalidIpv4Address => {
                    "no valid host"
                }
                _ => "it does not parse as a URL",
            })
        })?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a server URL has no query or fragment"));
        }
        if url.host().is_none() {
            return Err(bad("no valid host"));
        }
        let user = decode(url.username()).ok_or_else(|| bad("a bad %-escape in the user"))?;
        let password = url
            .password()
            .map(|p| decode(p).ok_or_else(|| bad("a bad %-escape in the password")))
            .transpose()?;
        let userinfo = (!user.is_empty() || password.is_some())
            .then(|| (user, password.filter(|p| !p.is_empty()).map(Secret)));
        // Only fails for URLs that cannot have userinfo, which http(s) ones always can.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let base = url.as_str().trim_end_matches('/').to_string();
        Ok(GerritUrl { base, userinfo })
    }

    /// Returns the URL without userinfo.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Tells whether requests to the server cross the network unencrypted (`http://`).
    pub fn is_plain_http(&self) -> bool {
        self.base.starts_with("http://")
    }

    /// Returns the same URL without the credentials that came with it.
    pub fn without_credentials(self) -> GerritUrl {
        GerritUrl { userinfo: None, ..self }
    }
}

/// Returns `text` with the password of a URL's userinfo replaced by stars. Everything up to
/// the last `@` counts as userinfo, so a password with an unencoded `/`, `?` or `#` (a URL
/// that does not parse) is hidden too.
fn redact(text: &str) -> String {
    let start = text.find("://").map_or(0, |i| i + 3);
    match text[start..].rfind('@').map(|i| start + i) {
        Some(at) => match text[start..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:****{}", &text[..start], &text[at..]),
            None => text.to_string(),
        },
        None => text.to_string(),
    }
}

/// Decodes `%XX` escapes; none when an escape is malformed or the result is not UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let malformed = bytes.iter().enumerate().any(|(i, &b)| {
        b == b'%' && !bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if malformed {
        return None;
    }
    percent_encoding::percent_decode_str(text).decode_utf8().ok().map(|s| s.into_owned())
}

impl std::fmt::Display for GerritUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)
    }
}

impl std::fmt::Debug for GerritUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("GerritUrl").field(&self.base).finish()
    }
}

/// Two URLs are the same server whatever credentials came with them.
impl PartialEq for GerritUrl {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base
    }
}

impl Eq for GerritUrl {}

impl Serialize for GerritUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.base)
    }
}

/// Reads the URL a plan or record stored; a password a file might still hold (written by an
/// older regraft) is dropped, not used.
impl<'de> Deserialize<'de> for GerritUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        GerritUrl::parse(&text)
            .map(GerritUrl::without_credentials)
            .map_err(serde::de::Error::custom)
    }
}

/// A user and password for a host.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: String,
    password: Secret,
}

/// Who named a server, which decides whether the environment's credentials go to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named<'a> {
    /// The user: `--gerrit`, `git config regraft.gerrit`, a playbook's `gerrit`, or a plan,
    /// journal or record regraft wrote from one of these.
    ByUser,
    /// A file in the repository the user did not write for regraft (e.g. `.gitreview on
    /// origin/stable/liberty`): only a credential helper, which is scoped to its host
    /// already, gives credentials for it.
    InFile(&'a str),
}

impl<'a> Named<'a> {
    /// Returns who named a server a step or record says was found in `found_in` (none: the
    /// user).
    pub fn from_found_in(found_in: Option<&'a str>) -> Named<'a> {
        found_in.map_or(Named::ByUser, Named::InFile)
    }
}

impl Credentials {
    /// Finds the credentials for `url`, as [`Credentials::lookup`] does; none found is an
    /// error that says where they can come from.
    pub fn find(git: &Git, url: &GerritUrl, named: Named) -> Result<Credentials, ReviewError> {
        Credentials::lookup(git, url, named)?.ok_or_else(|| ReviewError::NoCredentials {
            url: url.to_string(),
            withheld: withheld(url, named),
        })
    }

    /// Finds the credentials for `url`, first found wins:
    ///
    /// 1. `REGRAFT_GERRIT_USER` and `REGRAFT_GERRIT_PASSWORD`, only for a server the user
    ///    named ([`Named::ByUser`]): a `.gitreview` a branch carries never receives them;
    /// 2. the user and password the URL was given with;
    /// 3. `git credential fill` for the URL (with the URL's user, if it had only a user), so
    ///    existing credential helpers work; git is told not to prompt.
    ///
    /// The environment comes first so that a run and its resumption (which never has the
    /// URL's password) use the same. Credentials found for a plain `http://` URL are an
    /// error unless the user allowed it for that server (`git config
    /// regraft.<url>.allowHttp true`): they would cross the network readable. None found
    /// is `None`; a credential helper (or git) that fails is an error.
    pub fn lookup(
        git: &Git,
        url: &GerritUrl,
        named: Named,
    ) -> Result<Option<Credentials>, ReviewError> {
        let Some((credentials, from)) = Credentials::search(git, url, named)? else {
            return Ok(None);
        };
        if url.is_plain_http() {
            let allowed = crate::git::credential::allow_http(git, url.as_str()).map_err(|e| {
                ReviewError::GitConfig { url: url.to_string(), detail: e.to_string() }
            })?;
            if !allowed {
                return Err(ReviewError::PlainHttp { url: url.to_string(), from });
            }
        }
        Ok(Some(credentials))
    }

    /// Returns the first credentials found for `url`, and where they came from.
    fn search(
        git: &Git,
        url: &GerritUrl,
        named: Named,
    ) -> Result<Option<(Credentials, &'static str)>, ReviewError> {
        if let (Some(user), Some(password), Named::ByUser) =
            (env(USER_VAR), env(PASSWORD_VAR), named)
        {
            return Ok(Some((Credentials { user, password: Secret(password) }, ENVIRONMENT)));
        }
        let given_user = match &url.userinfo {
            Some((user, Some(password))) => {
                let credentials = Credentials { user: user.clone(), password: password.clone() };
                return Ok(Some((credentials, "the URL's user:password@")));
            }
            Some((user, None)) => Some(user.as_str()).filter(|u| !u.is_empty()),
            None => None,
        };
        // Values with a newline would add lines to git's credential protocol.
        if given_user.is_some_and(|u| u.contains(['\n', '\0'])) {
            return Ok(None);
        }
        let user_line = given_user.map(|u| format!("username={u}\n")).unwrap_or_default();
        let request = format!("url={url}\n{user_line}\n");
        let text = match crate::git::credential::fill(git, &request) {
            Ok(Filled::Answer(text)) => text,
            Ok(Filled::Nothing) => return Ok(None),
            Err(e) => {
                return Err(ReviewError::CredentialHelper {
                    url: url.to_string(),
                    detail: e.to_string(),
                });
            }
        };
        let field = |name: &str| {
            text.lines().find_map(|l| l.strip_prefix(&format!("{name}=")).map(str::to_string))
        };
        match (field("username"), field("password")) {
            (Some(user), Some(password)) if !password.is_empty() => Ok(Some((
                Credentials { user, password: Secret(password) },
                "a git credential helper",
            ))),
            _ => Ok(None),
        }
    }

    /// Returns the password.
    pub(crate) fn password(&self) -> &Secret {
        &self.password
    }

    /// Credentials given directly (tests, other callers).
    pub fn new(user: &str, password: &str) -> Self {
        Credentials { user: user.to_string(), password: Secret(password.to_string()) }
    }
}

/// The environment variables that hold credentials for the server the user names.
pub const USER_VAR: &str = "REGRAFT_GERRIT_USER";
pub const PASSWORD_VAR: &str = "REGRAFT_GERRIT_PASSWORD";
const ENVIRONMENT: &str = "REGRAFT_GERRIT_USER and REGRAFT_GERRIT_PASSWORD";

/// Returns an environment variable's value, when set and not empty.
fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// Says why the environment's credentials were not used for a server a file named, when
/// they are set.
fn withheld(url: &GerritUrl, named: Named) -> Option<String> {
    let Named::InFile(file) = named else { return None };
    (env(USER_VAR).is_some() && env(PASSWORD_VAR).is_some()).then(|| {
        format!(
            "{ENVIRONMENT} go only to a server you name, and {url} is named by {file}: give --gerrit {url} (or git config regraft.gerrit {url}) to use them for it"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show() {
        let c = Credentials::new("rel", "s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn urls_lose_their_userinfo_to_credentials() {
        let url = GerritUrl::parse("HTTPS://rel%40team:p%3Ass%2F%40w@review.example.org:8443/r/")
            .expect("parses");
        assert_eq!(url.to_string(), "https://review.example.org:8443/r");
        assert_eq!(format!("{url:?}"), r#"GerritUrl("https://review.example.org:8443/r")"#);
        let Some((user, Some(password))) = &url.userinfo else { panic!("{url:?}") };
        assert_eq!((user.as_str(), password.0.as_str()), ("rel@team", "p:ss/@w"));
        assert_eq!(
            serde_json::to_string(&url).expect("json"),
            r#""https://review.example.org:8443/r""#
        );
        let back: GerritUrl = serde_json::from_str(r#""http://rel:pw@[::1]:8080""#).expect("reads");
        assert_eq!((back.as_str(), back.userinfo.is_none()), ("http://[::1]:8080", true));
        let user_only = GerritUrl::parse("http://rel@host").expect("parses");
        assert!(matches!(&user_only.userinfo, Some((u, None)) if u == "rel"));
        let plain = GerritUrl::parse("https://Review.Example.org:443/gerrit/").expect("parses");
        assert_eq!(
            (plain.as_str(), plain.userinfo.is_none()),
            ("https://review.example.org/gerrit", true)
        );
        let puny = GerritUrl::parse("https://xn--gerrt-1sa.example.org").expect("parses");
        assert_eq!(puny.as_str(), "https://xn--gerrt-1sa.example.org");
        let raw_at = GerritUrl::parse("http://rel:p@ss@host:8080").expect("the last @ ends it");
        assert_eq!(raw_at.as_str(), "http://host:8080");
        assert!(matches!(&raw_at.userinfo, Some((u, Some(p))) if u == "rel" && p.0 == "p@ss"));
        for (bad, reason) in [
            ("http:host", "no scheme"),
            ("ftp://host", "not http or https"),
            ("http://host:port", "no valid port"),
            ("http://host/a b", "spaces"),
            ("http://host/#top", "no query or fragment"),
            ("http://", "no valid host"),
            // ASCII host names only, as before (Punycode is ASCII).
            ("https://gerrít.example.org", "does not parse"),
        ] {
            let err = GerritUrl::parse(bad).expect_err(bad).to_string();
            assert!(err.contains(reason), "{bad}: {err}");
        }
        for bad in [
            "ftp://rel:s3cret@host",
            "rel:s3cret@host",
            "http://rel:s3cret@",
            "http://rel:s3cret@/path",
            "http://rel:s3cret@host:port",
            "http://rel:s3cret@host/?q",
            "http://rel:%zz@host",
            "http://rel:s3cret@ho st",
            "http://rel:s3cret@host:99999999999",
            "http://rel:s3cret/s3cret@host",
            "http://rel:s3cret?s3cret@host",
        ] {
            let err = GerritUrl::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("not a Gerrit URL") && !err.contains("s3cret"), "{bad}: {err}");
        }
    }
}
