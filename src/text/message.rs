//! What a commit message says about where the commit came from: Change-Ids and
//! cherry-pick references.

/// Returns the subject as `git log --format=%s` shows it: the first paragraph, its lines
/// joined with spaces. Bytes that are not UTF-8 are replaced.
pub fn subject(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    let mut lines = Vec::new();
    for line in text.lines().skip_while(|l| l.trim().is_empty()) {
        if line.trim().is_empty() {
            break;
        }
        lines.push(line.trim_end());
    }
    lines.join(" ")
}

/// Returns the Gerrit Change-Ids (`Change-Id: I` and 40 hex digits) in the message's last
/// paragraph, in order.
///
/// Unlike `git interpret-trailers`, this accepts a last paragraph that also holds lines
/// which are not trailers (`TrivialFix`, `DocImpact`), as Gerrit itself does.
pub fn change_ids(message: &[u8]) -> Vec<String> {
    last_paragraph(message)
        .iter()
        .filter_map(|line| {
            let rest = strip_prefix_ignore_case(line, b"change-id:")?.trim_ascii();
            let hex = rest.strip_prefix(b"I")?;
            (hex.len() == 40 && hex.iter().all(u8::is_ascii_hexdigit))
                .then(|| String::from_utf8_lossy(rest).into_owned())
        })
        .collect()
}

/// Returns the commit names in `(cherry picked from commit X)` lines, as written
/// (possibly abbreviated), anywhere in the message, in order.
pub fn cherry_picked_from(message: &[u8]) -> Vec<String> {
    message
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let rest = line.trim_ascii().strip_prefix(b"(cherry picked from commit ")?;
            let hex = rest.strip_suffix(b")")?.trim_ascii();
            (hex.len() >= 4 && hex.len() <= 40 && hex.iter().all(u8::is_ascii_hexdigit))
                .then(|| String::from_utf8_lossy(hex).to_ascii_lowercase())
        })
        .collect()
}

/// Returns the message of a backport of `original`: its text, then a footer where
/// `(cherry picked from commit <original>)` is added after the other trailers and the
/// Change-Ids stay the last lines, as Gerrit wants them.
pub fn backport_message(message: &[u8], original: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(message).into_owned();
    let body = text.trim_end();
    let (head, footer) = match body.rfind("\n\n") {
        Some(i) if is_footer(&body[i + 2..]) => (&body[..i], Some(&body[i + 2..])),
        _ => (body, None),
    };
    let mut lines: Vec<&str> = footer.map(|f| f.lines().collect()).unwrap_or_default();
    let change_ids: Vec<&str> = lines.iter().copied().filter(|l| is_change_id_line(l)).collect();
    lines.retain(|l| !is_change_id_line(l));
    let pick = format!("(cherry picked from commit {original})");
    let mut out = head.to_string();
    out.push_str("\n\n");
    for line in &lines {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&pick);
    out.push('\n');
    for line in change_ids {
        out.push_str(line);
        out.push('\n');
    }
    if !message.is_empty() && std::str::from_utf8(message).is_err() {
        // Keep bytes that are not UTF-8 as they were: rebuild from the original bytes.
        let mut raw = message.to_vec();
        while raw.last().is_some_and(|b| b.is_ascii_whitespace()) {
            raw.pop();
        }
        raw.extend_from_slice(format!("\n\n{pick}\n").as_bytes());
        return raw;
    }
    out.into_bytes()
}

/// Tells whether a paragraph is a footer: every line a `Key: value` trailer, a Change-Id,
/// a cherry-pick line, or one of the bare words OpenStack puts there (`TrivialFix`).
fn is_footer(paragraph: &str) -> bool {
    let trailer = |line: &str| {
        let line = line.trim_end();
        line.starts_with("(cherry picked from commit ")
            || line.split_once(':').is_some_and(|(key, _)| {
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            || (!line.is_empty()
                && !line.contains(' ')
                && line.chars().all(|c| c.is_ascii_alphanumeric()))
    };
    paragraph.lines().all(trailer)
        && paragraph.lines().any(|l| l.contains(':') || l.starts_with('('))
}

fn is_change_id_line(line: &str) -> bool {
    strip_prefix_ignore_case(line.as_bytes(), b"change-id:").is_some()
}

fn last_paragraph(message: &[u8]) -> Vec<&[u8]> {
    let lines: Vec<&[u8]> = message.split(|b| *b == b'\n').collect();
    let end = lines.iter().rposition(|l| !l.trim_ascii().is_empty()).map_or(0, |i| i + 1);
    let start = lines[..end].iter().rposition(|l| l.trim_ascii().is_empty()).map_or(0, |i| i + 1);
    // The subject alone is not a footer: a one-paragraph message has no trailers.
    if start == 0 {
        return Vec::new();
    }
    lines[start..end].to_vec()
}

fn strip_prefix_ignore_case<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &line[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "I0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn change_id_among_lines_git_does_not_call_trailers() {
        let msg = format!("Fix it\n\nBody.\n\nTrivialFix\nChange-Id: {ID}\n");
        assert_eq!(change_ids(msg.as_bytes()), vec![ID.to_string()]);
    }

    #[test]
    fn change_id_outside_the_last_paragraph_does_not_count() {
        let msg = format!("Fix it\n\nChange-Id: {ID}\n\nConflicts:\n\tfile.py\n");
        assert!(change_ids(msg.as_bytes()).is_empty());
        assert!(change_ids(format!("Change-Id: {ID}").as_bytes()).is_empty());
    }

    #[test]
    fn cherry_pick_references_keep_their_abbreviation() {
        let msg = b"Fix\n\nChange-Id: Iabc\n(cherry picked from commit 1234abcd)\n";
        assert_eq!(cherry_picked_from(msg), vec!["1234abcd".to_string()]);
        assert!(cherry_picked_from(b"(cherry picked from commit xyz)").is_empty());
    }

    #[test]
    fn backport_messages_keep_change_id_last() {
        let msg = format!("Fix it\n\nBody.\n\nCloses-Bug: #1\nChange-Id: {ID}\n");
        let out = String::from_utf8(backport_message(msg.as_bytes(), "abc123")).expect("utf-8");
        assert_eq!(
            out,
            format!(
                "Fix it\n\nBody.\n\nCloses-Bug: #1\n(cherry picked from commit abc123)\nChange-Id: {ID}\n"
            )
        );
        let plain =
            String::from_utf8(backport_message(b"Fix it\n\nJust a body.\n", "abc")).expect("utf-8");
        assert_eq!(plain, "Fix it\n\nJust a body.\n\n(cherry picked from commit abc)\n");
    }

    #[test]
    fn subject_joins_the_first_paragraph() {
        assert_eq!(subject(b"One\ntwo\n\nbody"), "One two");
        assert_eq!(subject(b"\n\nLate start\n"), "Late start");
    }
}
