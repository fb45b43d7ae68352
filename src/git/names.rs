//! Names from the command line, a playbook or a server, checked against git's own rules
//! before anything is planned, so that none reaches git as an option or fails half-way.

/// Errors from checking a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("`{name}` is not a valid {kind} name: {rule}")]
    Invalid { kind: &'static str, name: String, rule: &'static str },
    #[error("the {kind} name is empty")]
    Empty { kind: &'static str },
    #[error(
        "`{name}` is not a remote of this repository{known} nor a URL (scheme://host/path, host:path or a path)"
    )]
    UnknownRemote { name: String, known: String },
    #[error("could not read {what} to check a name against: {detail}")]
    Unreadable { what: &'static str, detail: String },
}

/// Returns `error` and its sources as one line (`a: b: c`), for an error kept as text.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    text
}

impl crate::ErrorOrigin for NameError {
    fn is_user_input(&self) -> bool {
        match self {
            NameError::Invalid { .. }
            | NameError::Empty { .. }
            | NameError::UnknownRemote { .. } => true,
            NameError::Unreadable { .. } => false,
        }
    }
}

/// Returns the first of git's rules for a full reference name (git-check-ref-format(1))
/// that `refname` breaks, or `None` when git would accept it.
pub fn ref_format_violation(refname: &str) -> Option<&'static str> {
    if refname.is_empty() {
        return Some("it is empty");
    }
    if refname == "@" {
        return Some("it cannot be the single character `@`");
    }
    if refname.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Some("it cannot contain control characters");
    }
    for (c, rule) in [
        (' ', "it cannot contain a space"),
        ('~', "it cannot contain `~`"),
        ('^', "it cannot contain `^`"),
        (':', "it cannot contain `:`"),
        ('?', "it cannot contain `?`"),
        ('*', "it cannot contain `*`"),
        ('[', "it cannot contain `[`"),
        ('\\', "it cannot contain a backslash"),
    ] {
        if refname.contains(c) {
            return Some(rule);
        }
    }
    if refname.contains("..") {
        return Some("it cannot contain `..`");
    }
    if refname.contains("@{") {
        return Some("it cannot contain `@{`");
    }
    if refname.starts_with('/') || refname.ends_with('/') || refname.contains("//") {
        return Some("it cannot begin or end with `/` or contain `//`");
    }
    if refname.ends_with('.') {
        return Some("it cannot end with `.`");
    }
    for component in refname.split('/') {
        if component.starts_with('.') {
            return Some("no `/`-separated part can begin with `.`");
        }
        if component.ends_with(".lock") {
            return Some("no `/`-separated part can end with `.lock`");
        }
    }
    None
}

/// The rules a branch or tag name keeps beyond git's reference rules: what `git branch`
/// and `git tag` refuse, and what would read as an option or as `HEAD`.
fn short_name_violation(name: &str) -> Option<&'static str> {
    if name.starts_with('-') {
        return Some("it cannot begin with `-` (it would read as an option)");
    }
    if name == "HEAD" || name == "@" {
        return Some("it cannot be `HEAD` or `@`");
    }
    None
}

/// Checks a branch name as given to regraft (`stable/liberty`, not `refs/heads/...`).
pub fn check_branch(name: &str) -> Result<(), NameError> {
    check_short("branch", name, "refs/heads/")
}

/// Checks a tag name (`liberty-eol`, not `refs/tags/...`).
pub fn check_tag(name: &str) -> Result<(), NameError> {
    check_short("tag", name, "refs/tags/")
}

fn check_short(kind: &'static str, name: &str, prefix: &str) -> Result<(), NameError> {
    // Regression: `--tag=` was refused as "cannot begin or end with `/`" (of `refs/tags/`).
    if name.is_empty() {
        return Err(NameError::Empty { kind });
    }
    let rule =
        short_name_violation(name).or_else(|| ref_format_violation(&format!("{prefix}{name}")));
    match rule {
        Some(rule) => Err(NameError::Invalid { kind, name: name.to_string(), rule }),
        None => Ok(()),
    }
}

/// Checks a full reference name such as `refs/for/stable/liberty`.
pub fn check_full_ref(name: &str) -> Result<(), NameError> {
    let rule = if name.starts_with("refs/") {
        ref_format_violation(name)
    } else {
        Some("it must begin with `refs/`")
    };
    match rule {
        Some(rule) => Err(NameError::Invalid { kind: "reference", name: name.to_string(), rule }),
        None => Ok(()),
    }
}

/// Checks a remote: one of `configured` (the repository's remotes) or a URL, never anything
/// git could read as an option.
pub fn check_remote(name: &str, configured: &[String]) -> Result<(), NameError> {
    let invalid = |rule| NameError::Invalid { kind: "remote", name: name.to_string(), rule };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.starts_with('-') {
        return Err(invalid("it cannot begin with `-` (it would read as an option)"));
    }
    if name.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(invalid("it cannot contain control characters"));
    }
    if configured.iter().any(|c| c == name) || is_url(name) {
        return Ok(());
    }
    let known = if configured.is_empty() {
        " (it has none)".to_string()
    } else {
        format!(" ({})", configured.join(", "))
    };
    Err(NameError::UnknownRemote { name: name.to_string(), known })
}

/// Tells whether `text` is a URL git can push to: `scheme://...`, scp-like `host:path`, or
/// a path that begins with `/`, `./` or `../`.
fn is_url(text: &str) -> bool {
    if text.starts_with('/') || text.starts_with("./") || text.starts_with("../") {
        return true;
    }
    if let Some((scheme, rest)) = text.split_once("://") {
        let mut chars = scheme.chars();
        return chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
            && !rest.is_empty();
    }
    // git reads `host:path` as ssh when the part before the first `:` has no `/`.
    match text.split_once(':') {
        Some((host, path)) => !host.is_empty() && !host.contains('/') && !path.is_empty(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_that_read_as_options_or_head_are_refused() {
        assert!(check_branch("stable/liberty").is_ok());
        assert!(check_branch("-D").is_err());
        assert!(check_tag("--force").is_err());
        assert!(check_tag("HEAD").is_err());
        assert!(check_tag("@").is_err());
        assert!(check_tag("-x-early-demise").is_err());
        assert!(check_branch("stable/-x").is_ok(), "git accepts it; its tag is checked");
    }

    #[test]
    fn remotes_are_configured_names_or_urls() {
        let configured = vec!["origin".to_string()];
        assert!(check_remote("origin", &configured).is_ok());
        assert!(check_remote("file:///srv/kolla.git", &configured).is_ok());
        assert!(check_remote("git@example.org:openstack/kolla", &configured).is_ok());
        assert!(check_remote("--upload-pack=touch x", &configured).is_err());
        assert!(check_remote("upstream", &configured).is_err());
        assert!(check_remote("", &configured).is_err());
    }
}
