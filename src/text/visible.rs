//! Control characters made visible, so text from a repository, a file or a server cannot
//! drive the terminal it is shown on (set its title, clear it, write the clipboard).
//!
//! The notation: a C0 control character is written in caret notation (`^[` for ESC, `^G`
//! for BEL, `^M` for a carriage return), DEL is `^?`, and a C1 control character
//! (U+0080 to U+009F, which some terminals read as ESC and a letter, U+009B as CSI) is
//! written as Rust writes it, `\u{9b}`. Newlines and tabs are kept by [`visible`], where a
//! line break is meant, and shown by [`visible_line`], where one line is.

use std::borrow::Cow;

/// Returns `text` with every control character but newline and tab made visible.
pub fn visible(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

/// Returns `text`, meant for one line (a subject, a name), with every control character
/// made visible, newline and tab too.
pub fn visible_line(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// Returns `text` for Markdown prose or a table cell: one line made visible, then each
/// character Markdown would read as code, HTML, a link, emphasis within a word or a cell's
/// end (`` ` `` `<` `>` `[` `]` `*` `|` and the backslash) escaped with a backslash, which
/// CommonMark allows before any ASCII punctuation. An underscore inside a word, as in
/// `module_2.py`, is left alone: it makes no emphasis there.
pub fn markdown_text(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in visible_line(text).chars() {
        if "\\`*[]<>|".contains(c) {
            shown.push('\\');
        }
        shown.push(c);
    }
    shown
}

/// Returns `text` as a Markdown code span, backticks included: one line made visible, the
/// fence one backtick longer than the longest run inside (backslashes do not escape in code),
/// padded with a space where the text starts or ends with a backtick.
pub fn markdown_code(text: &str) -> String {
    let text = visible_line(text);
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match u32::from(c) {
            _ if keep(c) => shown.push(c),
            code @ 0x00..=0x1f => {
                shown.push('^');
                // 0x00..=0x1f plus 0x40 is '@'..='_', all ASCII.
                shown.push(char::from(b'@' + code as u8));
            }
            0x7f => shown.push_str("^?"),
            code @ 0x80..=0x9f => shown.push_str(&format!("\\u{{{code:x}}}")),
            _ => shown.push(c),
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::{markdown_code, markdown_text, visible, visible_line};

    #[test]
    fn escape_sequences_become_caret_notation() {
        assert_eq!(visible("\x1b]0;pwned\x07 fix"), "^[]0;pwned^G fix");
        assert_eq!(visible("\x1b[2Jclear"), "^[[2Jclear");
        assert_eq!(visible("\x1b]52;c;aGk=\x07"), "^[]52;c;aGk=^G");
        assert_eq!(visible("nul\0 cr\r del\x7f"), "nul^@ cr^M del^?");
        assert_eq!(visible("\x1f"), "^_");
    }

    #[test]
    fn c1_controls_are_shown_as_code_points() {
        assert_eq!(visible("a\u{9b}2Jb"), "a\\u{9b}2Jb");
        assert_eq!(visible("\u{80}\u{9f}"), "\\u{80}\\u{9f}");
        // U+00A0 and beyond are text, not controls.
        assert_eq!(visible("\u{a0}é漢"), "\u{a0}é漢");
    }

    #[test]
    fn line_breaks_are_kept_where_meant_and_shown_in_a_line() {
        assert_eq!(visible("one\n\ttwo"), "one\n\ttwo");
        assert_eq!(visible_line("one\n\ttwo"), "one^J^Itwo");
    }

    #[test]
    fn markdown_syntax_is_escaped_in_text_and_fenced_in_code() {
        assert_eq!(markdown_text("a|b <img> `x` *y* [l](u)"), r"a\|b \<img\> \`x\` \*y\* \[l\](u)");
        assert_eq!(markdown_text("stable/2024.1\x1b[2J"), r"stable/2024.1^\[\[2J");
        assert_eq!(markdown_text("kolla/module_2.py"), "kolla/module_2.py");
        assert_eq!(markdown_code("stable/liberty"), "`stable/liberty`");
        assert_eq!(markdown_code("a`b``c"), "```a`b``c```");
        assert_eq!(markdown_code("`x"), "`` `x ``");
        assert_eq!(markdown_code("\x07"), "`^G`");
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(visible("plain ^ text"), std::borrow::Cow::Borrowed(_)));
        assert!(matches!(visible_line("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
