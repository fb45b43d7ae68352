//! `.gitreview`, the file every OpenStack repository carries for the git-review tool: which
//! Gerrit, which project, which branch reviews go to.
//!
//! The format is git-review's: an INI file with a `[gerrit]` section holding `host`,
//! `port`, `project` (often ending in `.git`), `defaultbranch` and `scheme` (`ssh`, the
//! default, `http` or `https`; the port is the ssh port unless the scheme is a web one).

use super::GerritUrl;

/// What a `.gitreview` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitReview {
    pub host: Option<String>,
    pub port: Option<String>,
    pub scheme: Option<String>,
    pub project: Option<String>,
    pub defaultbranch: Option<String>,
}

impl GitReview {
    /// Parses the text of a `.gitreview`; `None` when it has no `[gerrit]` section.
    pub fn parse(text: &str) -> Option<GitReview> {
        let mut in_gerrit = false;
        let mut found = false;
        let mut review =
            GitReview { host: None, port: None, scheme: None, project: None, defaultbranch: None };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                in_gerrit = section.trim().eq_ignore_ascii_case("gerrit");
                found |= in_gerrit;
                continue;
            }
            if !in_gerrit {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else { continue };
            let value = value.trim().to_string();
            let value = Some(value).filter(|v| !v.is_empty());
            match key.trim().to_ascii_lowercase().as_str() {
                "host" => review.host = value,
                "port" => review.port = value,
                "scheme" => review.scheme = value,
                "project" => review.project = value,
                "defaultbranch" => review.defaultbranch = value,
                _ => {}
            }
        }
        found.then_some(review)
    }

    /// Returns the Gerrit's REST URL: HTTPS on the host, since with git-review's default
    /// scheme (ssh) the port is the ssh port; with `scheme=http` or `https`, that scheme and
    /// port.
    pub fn gerrit_url(&self) -> Option<GerritUrl> {
        let host = self.host.as_deref()?;
        let text = match self.scheme.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some(web @ ("http" | "https")) => match &self.port {
                Some(port) => format!("{web}://{host}:{port}"),
                None => format!("{web}://{host}"),
            },
            _ => format!("https://{host}"),
        };
        GerritUrl::parse(&text).ok()
    }

    /// Returns the project, without the `.git` git-review allows.
    pub fn project_name(&self) -> Option<String> {
        let project = self.project.as_deref()?.trim_matches('/');
        Some(project.strip_suffix(".git").unwrap_or(project).to_string()).filter(|p| !p.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_openstack_gitreview() {
        let text = "[gerrit]\nhost=review.opendev.org\nport=29418\nproject=openstack/kolla.git\ndefaultbranch=stable/liberty\n";
        let review = GitReview::parse(text).expect("a [gerrit] section");
        assert_eq!(
            review.gerrit_url().map(|u| u.to_string()).as_deref(),
            Some("https://review.opendev.org")
        );
        assert_eq!(review.project_name().as_deref(), Some("openstack/kolla"));
        assert_eq!(review.defaultbranch.as_deref(), Some("stable/liberty"));
        assert_eq!(GitReview::parse("[other]\nhost=x\n"), None);
        let web = GitReview::parse("[gerrit]\nhost=127.0.0.1\nport=8080\nscheme=http\n");
        assert_eq!(
            web.and_then(|r| r.gerrit_url()).map(|u| u.to_string()).as_deref(),
            Some("http://127.0.0.1:8080")
        );
    }
}
