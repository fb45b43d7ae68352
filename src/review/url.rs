//! Gerrit server URLs without their userinfo, and the credentials that go with them.

use serde::{Deserialize, Serialize};

use super::ReviewError;
use crate::git::Git;
use crate::git::credential::Filled;

/// A password that never shows: its `Debug` and `Display` print stars.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
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
    /// Parses an `http` or `https` URL with a host, splitting off and percent-decoding its
    /// userinfo (RFC 3986). The error shows the text with its password replaced.
    pub fn parse(text: &str) -> Result<GerritUrl, ReviewError> {
        let bad = |reason| ReviewError::BadUrl { url: redact(text), reason };
        let (scheme, rest) = text.split_once("://").ok_or_else(|| bad("no scheme"))?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(bad("the scheme is not http or https"));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if path.contains(['?', '#']) || authority.contains(['?', '#']) {
            return Err(bad("a server URL has no query or fragment"));
        }
        // The last `@` ends the userinfo: a password may hold an unencoded `@`.
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((info, host)) => (Some(info), host),
            None => (None, authority),
        };
        let (host, port, v6) = match host_port.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']').ok_or_else(|| bad("an unclosed ["))?;
                let port = if after.is_empty() { Some("") } else { after.strip_prefix(':') };
                (host, port.ok_or_else(|| bad("no valid port"))?, true)
            }
            None => {
                let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, ""));
                (host, port, false)
            }
        };
        let host_char = |c: char| {
            c.is_ascii_alphanumeric() || if v6 { ":.".contains(c) } else { "-._~%".contains(c) }
        };
        if host.is_empty() || !host.chars().all(host_char) {
            return Err(bad("no valid host"));
        }
        let port_ok = port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok();
        if !port.is_empty() && !port_ok {
            return Err(bad("no valid port"));
        }
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("spaces or control characters in the path"));
        }
        let userinfo = match userinfo {
            None => None,
            Some(info) => {
                let (user, password) = match info.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (info, None),
                };
                let user = percent_decode(user).ok_or_else(|| bad("a bad %-escape in the user"))?;
                let password = password
                    .map(|p| percent_decode(p).ok_or_else(|| bad("a bad %-escape in the password")))
                    .transpose()?;
                Some((user, password.filter(|p| !p.is_empty()).map(Secret)))
            }
        };
        let base = format!("{}://{host_port}{}", scheme.to_ascii_lowercase(), path);
        Ok(GerritUrl { base: base.trim_end_matches('/').to_string(), userinfo })
    }

    /// Returns the URL without userinfo.
    pub fn as_str(&self) -> &str {
        &self.base
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
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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

impl Credentials {
    /// Finds the credentials for `url`, first found wins: `REGRAFT_GERRIT_USER` and
    /// `REGRAFT_GERRIT_PASSWORD`; the user and password the URL was given with; `git
    /// credential fill` for the URL (with the URL's user, if it had only a user), so existing
    /// credential helpers work; git is told not to prompt. The environment comes first so
    /// that a run and its resumption (which never has the URL's password) use the same.
    pub fn find(git: &Git, url: &GerritUrl) -> Result<Credentials, ReviewError> {
        Credentials::lookup(git, url)?
            .ok_or_else(|| ReviewError::NoCredentials { url: url.to_string() })
    }

    /// Finds the credentials for `url` as [`Credentials::find`] does; none found is `None`,
    /// and only a credential helper (or git) that fails is an error.
    pub fn lookup(git: &Git, url: &GerritUrl) -> Result<Option<Credentials>, ReviewError> {
        let env = |k| std::env::var(k).ok().filter(|v: &String| !v.is_empty());
        if let (Some(user), Some(password)) =
            (env("REGRAFT_GERRIT_USER"), env("REGRAFT_GERRIT_PASSWORD"))
        {
            return Ok(Some(Credentials { user, password: Secret(password) }));
        }
        let given_user = match &url.userinfo {
            Some((user, Some(password))) => {
                return Ok(Some(Credentials { user: user.clone(), password: password.clone() }));
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
            (Some(user), Some(password)) if !password.is_empty() => {
                Ok(Some(Credentials { user, password: Secret(password) }))
            }
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
