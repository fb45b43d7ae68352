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

/// Returns the Gerrit Change-Ids (`Change-Id: I` and 40 hex digits) in the message's
/// footer ([`footer`]), in order.
///
/// Unlike `git interpret-trailers`, this accepts a footer that also holds lines which are
/// not trailers (`TrivialFix`, `Implements blueprint x`), as Gerrit itself does.
pub fn change_ids(message: &[u8]) -> Vec<String> {
    footer(message).iter().filter_map(|line| change_id_of(line)).collect()
}

/// Returns the lines of the message's footer as Gerrit reads it: its last paragraph, the
/// only place where Gerrit honours a `Change-Id`. The first line of the message is the
/// subject and never part of it, so a message of one line has no footer.
pub fn footer(message: &[u8]) -> Vec<&[u8]> {
    let lines: Vec<&[u8]> = message.split(|b| *b == b'\n').collect();
    let blank = |l: &&[u8]| l.trim_ascii().is_empty();
    let Some(last) = lines.iter().rposition(|l| !blank(l)) else { return Vec::new() };
    let subject = lines.iter().position(|l| !blank(l)).unwrap_or(0);
    let start = lines[..last].iter().rposition(blank).map_or(subject + 1, |i| i + 1);
    let first = start.max(subject + 1);
    if first > last {
        return Vec::new();
    }
    lines[first..=last].to_vec()
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

/// Returns the message of a backport of `original`: the message `git cherry-pick -x`
/// writes, except that the `(cherry picked from commit <original>)` line always joins a
/// footer that holds a Change-Id.
///
/// git cleans the message up as `git commit --cleanup=whitespace` does (trailing
/// whitespace, carriage returns included, and runs of blank lines go) and adds the line to
/// the last paragraph only when its own trailer parser takes that paragraph for trailers;
/// otherwise the line becomes a paragraph of its own, and a Change-Id in a footer with a
/// line such as `Implements blueprint x` or `Trivial-Fix` is then no longer in the last
/// paragraph, where Gerrit looks for it. So the line joins the last paragraph when git
/// would join it or when that paragraph holds a Change-Id (Gerrit's rule, [`footer`]).
pub fn backport_message(message: &[u8], original: &str) -> Vec<u8> {
    let mut out = strip_space(message);
    let joins = !out.is_empty() && (!change_ids(&out).is_empty() || git_finds_trailers(&out));
    if !joins && !out.is_empty() {
        out.push(b'\n');
    }
    out.extend_from_slice(format!("(cherry picked from commit {original})\n").as_bytes());
    out
}

/// Returns the message cleaned up as git's `stripspace` without comment removal does:
/// trailing whitespace (space, tab, CR) removed from every line, blank lines at the start
/// and the end dropped and runs of them made one, every line ended by a newline.
fn strip_space(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let mut blanks = 0usize;
    let mut lines: Vec<&[u8]> = message.split(|b| *b == b'\n').collect();
    if message.ends_with(b"\n") {
        lines.pop();
    }
    for line in lines {
        let end =
            line.iter().rposition(|b| !matches!(b, b' ' | b'\t' | b'\r')).map_or(0, |i| i + 1);
        let line = &line[..end];
        if line.is_empty() {
            blanks += 1;
            continue;
        }
        if blanks > 0 && !out.is_empty() {
            out.push(b'\n');
        }
        blanks = 0;
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

/// Tells whether git's trailer parser finds a trailer block at the end of `message` (as
/// `git cherry-pick -x` asks it): a last paragraph, not the first, whose lines are all
/// `Key: value` trailers (with indented continuation lines), or at least a quarter of them
/// when one is a line git generates (`Signed-off-by: `, `(cherry picked from commit `).
/// Trailing `#` comment lines and an old `Conflicts:` list are skipped, as git does.
fn git_finds_trailers(message: &[u8]) -> bool {
    let end = message.len() - ignored_tail(message);
    let lines: Vec<&[u8]> = message[..end].split(|b| *b == b'\n').collect();
    let blank = |l: &[u8]| l.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
    // The first paragraph is the title; with no blank line after it there is no block.
    let Some(title_end) = lines.iter().position(|l| !l.starts_with(b"#") && blank(l)) else {
        return false;
    };
    let (mut trailers, mut others, mut continuation) = (0usize, 0usize, 0usize);
    let (mut recognized, mut only_spaces) = (false, true);
    for line in lines[title_end..].iter().rev() {
        if line.starts_with(b"#") {
            others += std::mem::take(&mut continuation);
            continue;
        }
        if blank(line) {
            if only_spaces {
                continue;
            }
            others += continuation;
            return (recognized && trailers * 3 >= others) || (trailers > 0 && others == 0);
        }
        only_spaces = false;
        if line.starts_with(b"Signed-off-by: ") || line.starts_with(b"(cherry picked from commit ")
        {
            trailers += 1;
            continuation = 0;
            recognized = true;
        } else if has_separator(line) && !line[0].is_ascii_whitespace() {
            trailers += 1;
            continuation = 0;
        } else if line[0].is_ascii_whitespace() {
            continuation += 1;
        } else {
            others += 1 + std::mem::take(&mut continuation);
        }
    }
    false
}

/// Tells whether a line starts as a trailer does: a key of letters, digits and `-`, then
/// optional blanks, then `:`.
fn has_separator(line: &[u8]) -> bool {
    let mut blank_seen = false;
    for (i, b) in line.iter().enumerate() {
        match b {
            b':' => return i > 0,
            b if !blank_seen && (b.is_ascii_alphanumeric() || *b == b'-') => {}
            b' ' | b'\t' if i > 0 => blank_seen = true,
            _ => return false,
        }
    }
    false
}

/// Returns how many bytes at the end of `message` git's trailer parser ignores: a run of
/// blank and `#` comment lines, and the `Conflicts:` lists (tab-indented paths) old git
/// versions wrote, that reaches the end.
fn ignored_tail(message: &[u8]) -> usize {
    let (mut start_of_tail, mut in_conflicts, mut at) = (None, false, 0usize);
    while at < message.len() {
        let next =
            message[at..].iter().position(|b| *b == b'\n').map_or(message.len(), |i| at + i + 1);
        let line = &message[at..next];
        if line.starts_with(b"#") || line == b"\n" {
            start_of_tail.get_or_insert(at);
        } else if line == b"Conflicts:\n" {
            in_conflicts = true;
            start_of_tail.get_or_insert(at);
        } else if !(in_conflicts && line.starts_with(b"\t")) {
            start_of_tail = None;
            in_conflicts = false;
        }
        at = next;
    }
    start_of_tail.map_or(0, |s| message.len() - s)
}

fn change_id_of(line: &[u8]) -> Option<String> {
    let rest = strip_prefix_ignore_case(line, b"change-id:")?.trim_ascii();
    let hex = rest.strip_prefix(b"I")?;
    (hex.len() == 40 && hex.iter().all(u8::is_ascii_hexdigit))
        .then(|| String::from_utf8_lossy(rest).into_owned())
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
    fn backport_messages_add_the_pick_line_to_the_footer_as_git_does() {
        let msg = format!("Fix it\n\nBody.\n\nCloses-Bug: #1\nChange-Id: {ID}\n");
        let out = String::from_utf8(backport_message(msg.as_bytes(), "abc123")).expect("utf-8");
        assert_eq!(out, format!("{msg}(cherry picked from commit abc123)\n"));
        let plain =
            String::from_utf8(backport_message(b"Fix it\n\nJust a body.\n", "abc")).expect("utf-8");
        assert_eq!(plain, "Fix it\n\nJust a body.\n\n(cherry picked from commit abc)\n");
        assert_eq!(backport_message(b"", "abc"), b"(cherry picked from commit abc)\n");
        assert_eq!(backport_message(b"Fix", "abc"), b"Fix\n\n(cherry picked from commit abc)\n");
    }

    // Issue 25, item 4: git starts a new paragraph here, leaving the Change-Id behind.
    #[test]
    fn a_footer_with_lines_git_rejects_keeps_its_change_id_with_the_pick_line() {
        for odd in ["Implements blueprint x", "Partially implements: blueprint x", "Trivial-Fix"] {
            let msg = format!("Fix\n\nBody.\n\n{odd}\nChange-Id: {ID}\n");
            assert!(!git_finds_trailers(msg.as_bytes()), "{odd}");
            let out = backport_message(msg.as_bytes(), "abc");
            assert_eq!(out, format!("{msg}(cherry picked from commit abc)\n").into_bytes());
            assert_eq!(change_ids(&out), vec![ID.to_string()]);
        }
        // Trailing blank lines: git joins, then its clean-up makes the line a paragraph.
        let msg = format!("Fix\n\nChange-Id: {ID}\n\n\n");
        let out = String::from_utf8(backport_message(msg.as_bytes(), "abc")).expect("utf-8");
        assert_eq!(out, format!("Fix\n\nChange-Id: {ID}\n(cherry picked from commit abc)\n"));
    }

    #[test]
    fn git_trailer_rules() {
        let yes = |m: &str| git_finds_trailers(m.as_bytes());
        assert!(yes("S\n\nBody\n\nKey: v\n  continued\nOther-Key : w\n"));
        assert!(!yes("S\n\nKey: v\nnot a trailer\n"), "no git-generated line");
        assert!(yes("S\n\nKey: v\nnot a trailer\nSigned-off-by: A\n"), "a quarter or more");
        assert!(!yes("S\n\na\nb\nc\nd\ne\nf\ng\nK: v\nSigned-off-by: A\n"), "less than a quarter");
        assert!(!yes("Key: v\n"), "the title is never trailers");
        assert!(!yes("S\nKey: v\n"));
        assert!(yes("S\n\nKey: v\n\nConflicts:\n\tf.py\n# comment\n"), "ignored tail");
        assert!(!yes("S\n\nPartially implements: x\nKey: v\n"));
    }

    #[test]
    fn strip_space_is_gits_whitespace_clean_up() {
        assert_eq!(strip_space(b"\n\nS  \r\n\r\n\r\nBody\t\n\n"), b"S\n\nBody\n");
        assert_eq!(strip_space(b"S"), b"S\n");
        assert_eq!(strip_space(b" \n\t\n"), b"");
    }

    #[test]
    fn the_footer_is_the_last_paragraph_never_the_subject() {
        assert_eq!(change_ids(format!("Fix\nChange-Id: {ID}\n").as_bytes()), vec![ID.to_string()]);
        assert!(footer(b"Fix it\n\n").is_empty());
        assert!(footer(b"\n\n").is_empty());
        assert_eq!(footer(b"S\n\nA\n  \nB\nC\n\n"), vec![&b"B"[..], &b"C"[..]]);
    }

    #[test]
    fn subject_joins_the_first_paragraph() {
        assert_eq!(subject(b"One\ntwo\n\nbody"), "One two");
        assert_eq!(subject(b"\n\nLate start\n"), "Late start");
    }
}
