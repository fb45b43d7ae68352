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

/// Returns `text` with `[gerrit]`'s `defaultbranch` set to `branch`: the value replaced
/// where the key is, else a line added after the section's last entry. Every other byte
/// is kept, the line ending style and a missing final newline included.
pub fn with_defaultbranch(text: &str, branch: &str) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let mut in_gerrit = false;
    let mut last_entry = None;
    let mut section_at = None;
    for (n, line) in lines.iter_mut().enumerate() {
        let trimmed = line.trim();
        if let Some(section) = trimmed.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_gerrit = section.trim().eq_ignore_ascii_case("gerrit");
            if in_gerrit {
                section_at = Some(n);
            }
            continue;
        }
        if !in_gerrit || trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';')
        {
            continue;
        }
        last_entry = Some(n);
        let Some((key, _)) = trimmed.split_once('=') else { continue };
        if key.trim().eq_ignore_ascii_case("defaultbranch") {
            let ending = &line[line.trim_end_matches(['\r', '\n']).len()..];
            let indent = &line[..line.len() - line.trim_start().len()];
            *line = format!("{indent}{}={branch}{ending}", key.trim());
            return lines.concat();
        }
    }
    let Some(after) = last_entry.or(section_at) else {
        return format!(
            "{text}{}[gerrit]{newline}defaultbranch={branch}{newline}",
            if text.is_empty() || text.ends_with('\n') { "" } else { newline }
        );
    };
    if !lines[after].ends_with('\n') {
        lines[after].push_str(newline);
        lines.insert(after + 1, format!("defaultbranch={branch}"));
    } else {
        lines.insert(after + 1, format!("defaultbranch={branch}{newline}"));
    }
    lines.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaultbranch_is_set_and_nothing_else_changes() {
        // Kolla's liberty: no newline at the end of the file.
        let kolla = "[gerrit]\nhost=review.openstack.org\nport=29418\nproject=openstack/kolla.git\ndefaultbranch=stable/mitaka";
        let set = with_defaultbranch(kolla, "stable/liberty");
        assert_eq!(set, kolla.replace("stable/mitaka", "stable/liberty"));
        // Absent: added after the section's last entry, before another section.
        let text = "[gerrit]\r\nhost=h\r\nproject=p.git\r\n\r\n[other]\r\nx=1\r\n";
        let set = with_defaultbranch(text, "stable/x");
        assert_eq!(
            set,
            "[gerrit]\r\nhost=h\r\nproject=p.git\r\ndefaultbranch=stable/x\r\n\r\n[other]\r\nx=1\r\n"
        );
        let no_newline = with_defaultbranch("[gerrit]\nhost=h", "b");
        assert_eq!(no_newline, "[gerrit]\nhost=h\ndefaultbranch=b");
        // Whatever the layout, the parse of the result names the branch and keeps the rest.
        for text in [kolla, text, "[gerrit]\n", " [Gerrit] \n  DefaultBranch = master \n", "x=1\n"]
        {
            let set = with_defaultbranch(text, "stable/y");
            let before = GitReview::parse(text);
            let after = GitReview::parse(&set).expect("a [gerrit] section");
            assert_eq!(after.defaultbranch.as_deref(), Some("stable/y"), "{set:?}");
            if let Some(before) = before {
                assert_eq!((after.host, after.project), (before.host, before.project), "{set:?}");
            }
        }
    }

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
