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
    fn subject_joins_the_first_paragraph() {
        assert_eq!(subject(b"One\ntwo\n\nbody"), "One two");
        assert_eq!(subject(b"\n\nLate start\n"), "Late start");
    }
}
