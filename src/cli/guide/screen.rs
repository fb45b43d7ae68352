//! The guide's screen: questions that report their answers, and text fitted to the
//! terminal's width (80 columns when it is not on one).

use std::io::Write;

use console::{Key, Term};
use dialoguer::theme::SimpleTheme;
use dialoguer::{Input, MultiSelect, Select};

use regraft::text::visible::{visible, visible_line};

use super::{Step, Stop};
use crate::cli::CommandError;

/// The guide's screen width (standard error's terminal, or 80): every line it writes fits.
pub(super) fn width() -> usize {
    crate::cli::ui::stderr_width()
}

/// Writes `text` to the terminal, wrapped to [`width`].
pub(super) fn say(text: &str) {
    let _ = write!(std::io::stderr(), "{}", wrap_to(text, width(), false));
}

/// Writes a command to copy, indented, wrapped to [`width`] with the shell's ` \`
/// continuations so that it still runs when pasted.
pub(super) fn say_command(command: &str) {
    let command = visible_line(command);
    let words: Vec<&str> = command.split(' ').collect();
    let lines = crate::cli::ui::shell_wrap("  ", &words, width(), "      ");
    let _ = writeln!(std::io::stderr(), "{lines}");
}

/// Records an answer on the screen as `prompt: answer`, wrapped to [`width`] (the prompts
/// do not report themselves: their own line could be wider).
pub(super) fn answered(prompt: &str, answer: &str) {
    say(&format!("{prompt}: {answer}"));
}

/// Returns how many columns `text` takes on a terminal.
fn columns(text: &str) -> usize {
    textwrap::core::display_width(text)
}

/// Cuts `text` to `width` columns, marking the cut with `…`.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Ctrl-C at a question (the terminal reports it as an interrupted read) stops like Esc.
fn asked(error: dialoguer::Error, prompt: &str) -> Stop {
    match error {
        dialoguer::Error::IO(e) => read_failed(e, prompt),
    }
}

/// Ctrl-C at a question read key by key stops like Esc; another failure is one.
fn read_failed(error: std::io::Error, prompt: &str) -> Stop {
    if error.kind() == std::io::ErrorKind::Interrupted {
        Stop::Cancelled(prompt.to_string())
    } else {
        Stop::Failed(CommandError::internal(error))
    }
}

/// What a question read key by key got.
enum Keyed {
    /// Enter: the answer is given.
    Enter,
    /// A key that changes the answer being typed.
    Key(Key),
}

/// Reads the next key of the question `prompt` on `term`: Enter ends the answer, Esc and
/// Ctrl-C stop the guide (the line is cleared first).
fn next_key(term: &Term, prompt: &str) -> Step<Keyed> {
    match term.read_key() {
        Ok(Key::Enter) => Ok(Keyed::Enter),
        Ok(Key::Escape) => {
            term.clear_line()?;
            Err(Stop::Cancelled(prompt.to_string()))
        }
        Ok(key) => Ok(Keyed::Key(key)),
        Err(e) => {
            let _ = term.clear_line();
            Err(read_failed(e, prompt))
        }
    }
}

/// Draws `line` as the question's line, in place of what it showed before; a line wider
/// than the screen shows its end, where the typing is.
fn redraw(term: &Term, line: &str) -> Step<()> {
    let room = width().saturating_sub(1).max(1);
    let chars: Vec<char> = line.chars().collect();
    let shown: String = if chars.len() > room {
        std::iter::once('…').chain(chars[chars.len() - room + 1..].iter().copied()).collect()
    } else {
        line.to_string()
    };
    term.clear_line()?;
    term.write_str(&shown)?;
    term.flush()?;
    Ok(())
}

/// How many choices a list shows at once (it scrolls past them), so it fits a 24-row
/// terminal with the lines above it.
const LIST_ROWS: usize = 12;

pub(super) fn select<T: ToString>(prompt: &str, items: &[T], default: usize) -> Step<usize> {
    // An item wider than the screen would wrap and spoil the list's redrawing.
    let items: Vec<String> = items
        .iter()
        .map(|i| cut(&visible_line(&i.to_string()), width().saturating_sub(4)))
        .collect();
    let chosen = Select::with_theme(&SimpleTheme)
        .with_prompt(visible_line(prompt))
        .items(&items)
        .default(default)
        .max_length(LIST_ROWS)
        .report(false)
        .interact_opt()
        .map_err(|e| asked(e, prompt))?
        .ok_or_else(|| Stop::Cancelled(prompt.to_string()))?;
    answered(prompt, &items[chosen]);
    Ok(chosen)
}

/// Asks a yes/no question. `y` or `n` only marks the answer, Backspace takes it back, and
/// Enter gives it (alone, the default): so the Enter a person types after `n` answers this
/// question, never the next one (issue 26, item 2). Esc or Ctrl-C stops.
pub(super) fn confirm(prompt: &str, default: bool) -> Step<bool> {
    let term = Term::stderr();
    let hint = if default { "[Y/n]" } else { "[y/N]" };
    let question = format!("{} {hint} ", visible_line(prompt));
    let mut marked: Option<bool> = None;
    redraw(&term, &question)?;
    let yes = loop {
        match next_key(&term, prompt)? {
            Keyed::Enter => break marked.unwrap_or(default),
            Keyed::Key(Key::Char('y' | 'Y')) => marked = Some(true),
            Keyed::Key(Key::Char('n' | 'N')) => marked = Some(false),
            Keyed::Key(Key::Backspace) => marked = None,
            Keyed::Key(_) => continue,
        }
        redraw(&term, &format!("{question}{}", marked.map_or("", yes_no)))?;
    };
    term.clear_line()?;
    answered(prompt, yes_no(yes));
    Ok(yes)
}

/// Asks for a review server's URL, Enter alone taking `default` (said before the question,
/// not shown in it). The password of a `user:password@` in it is shown as stars while it is
/// typed, and left out of the answer recorded on the screen: a secret is never echoed
/// (issue 26, item 4).
pub(super) fn input_url(prompt: &str, default: &str) -> Step<String> {
    let term = Term::stderr();
    let question = format!("{}: ", visible_line(prompt));
    let mut typed = String::new();
    redraw(&term, &question)?;
    loop {
        match next_key(&term, prompt)? {
            Keyed::Enter => break,
            Keyed::Key(Key::Char(c)) if !c.is_control() => typed.push(c),
            Keyed::Key(Key::Backspace) => {
                typed.pop();
            }
            Keyed::Key(_) => continue,
        }
        redraw(&term, &format!("{question}{}", visible_line(&starred_while_typed(&typed))))?;
    }
    term.clear_line()?;
    let answer = if typed.is_empty() { default.to_string() } else { typed };
    answered(prompt, &without_password(&answer));
    Ok(answer)
}

/// Where the userinfo of a URL typed so far could start: after `scheme://`, else at the
/// start (a URL typed without its scheme).
fn authority_start(text: &str) -> usize {
    text.find("://").map_or(0, |i| i + 3)
}

/// `text` as typed so far with every character that could be a password starred: after the
/// first `:` of the part past `scheme://`, up to its last `@` (none typed yet: to the end, as
/// the `@` may still come).
fn starred_while_typed(text: &str) -> String {
    // `http:` on its way to `http://`: its `:` is the scheme's.
    let lower = text.to_ascii_lowercase();
    if ["http://", "https://"].iter().any(|s| s.starts_with(&lower)) {
        return text.to_string();
    }
    let start = authority_start(text);
    let Some(colon) = text[start..].find(':').map(|i| start + i + 1) else {
        return text.to_string();
    };
    let end = text[colon..].rfind('@').map_or(text.len(), |i| colon + i);
    let stars = "*".repeat(text[colon..end].chars().count());
    format!("{}{stars}{}", &text[..colon], &text[end..])
}

/// `text` (a URL given) with the password of its `user:password@` replaced by `****`: the
/// part past `scheme://` up to its last `@`, after the first `:`. Without an `@`, what
/// follows a `:` is a port when it is digits only, else it is taken for a password.
pub(super) fn without_password(text: &str) -> String {
    let start = authority_start(text);
    let hide = |from: usize, to: usize| format!("{}****{}", &text[..from], &text[to..]);
    match text[start..].rfind('@').map(|i| start + i) {
        Some(at) => match text[start..at].find(':') {
            Some(colon) => hide(start + colon + 1, at),
            None => text.to_string(),
        },
        None => match text[start..].find(':').map(|i| start + i + 1) {
            Some(colon) => {
                let end = text[colon..].find('/').map_or(text.len(), |i| colon + i);
                let port = text[colon..end].chars().all(|c| c.is_ascii_digit());
                if port { text.to_string() } else { hide(colon, text.len()) }
            }
            None => text.to_string(),
        },
    }
}

pub(super) fn input(prompt: &str, default: &str) -> Step<String> {
    let text = Input::<String>::with_theme(&SimpleTheme)
        .with_prompt(visible_line(prompt))
        .default(default.to_string())
        .report(false)
        .interact_text()
        .map_err(|e| asked(e, prompt))?;
    answered(prompt, &text);
    Ok(text)
}

pub(super) fn multi(prompt: &str, items: &[String]) -> Step<Vec<usize>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<String> =
        items.iter().map(|i| cut(&visible_line(i), width().saturating_sub(8))).collect();
    let picked = MultiSelect::with_theme(&SimpleTheme)
        .with_prompt(format!("{} (Space picks, Enter ends)", visible_line(prompt)))
        .items(&items)
        .max_length(LIST_ROWS)
        .report(false)
        .interact_opt()
        .map_err(|e| asked(e, prompt))?
        .ok_or_else(|| Stop::Cancelled(prompt.to_string()))?;
    answered(prompt, &format!("{} of {}", picked.len(), items.len()));
    Ok(picked)
}

/// Fits `text` to `width` columns: 40- and 64-digit object ids are shortened to 12 digits,
/// and longer lines wrapped at spaces, continuing four columns further in.
pub(super) fn fit(text: &str, width: usize) -> String {
    wrap_to(text, width, true)
}

/// Wraps every line of `text` wider than `width` at spaces, continuing four columns further
/// in (a numbered line's continuation under its text); with `shorten`, object ids are
/// shortened first.
pub(super) fn wrap_to(text: &str, width: usize, shorten: bool) -> String {
    let mut out = String::new();
    for line in text.lines() {
        // What the guide shows holds subjects, names and server answers.
        let line = visible(line);
        let line = if shorten { shorten_ids(&line) } else { line.into_owned() };
        if columns(&line) <= width {
            out.push_str(&line);
            out.push('\n');
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        // ` 4. text`: the text's column; else four further in.
        let numbered = line
            .trim_start()
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        let under = numbered.map_or(indent + 4, |(n, _)| indent + n.len() + 2);
        let first = " ".repeat(indent);
        let more = " ".repeat(under.min(width / 2));
        let words = line.split_whitespace().collect::<Vec<_>>().join(" ");
        // A word wider than a whole line is cut where the line ends.
        let options = textwrap::Options::new(width.max(1))
            .initial_indent(&first)
            .subsequent_indent(&more)
            .break_words(true)
            .word_splitter(textwrap::WordSplitter::NoHyphenation);
        for wrapped in textwrap::wrap(&words, options) {
            out.push_str(&wrapped);
            out.push('\n');
        }
    }
    out
}

/// Replaces every whole 40- or 64-digit hexadecimal word part (an object id) by its first
/// 12 digits.
fn shorten_ids(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if hex(bytes[i]) && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let end = (i..bytes.len()).find(|&j| !hex(bytes[j])).unwrap_or(bytes.len());
            let bounded = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
            if bounded && (end - i == 40 || end - i == 64) {
                out.push_str(&line[i..i + 12]);
                i = end;
                continue;
            }
            out.push_str(&line[i..end]);
            i = end;
            continue;
        }
        let c = line[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The comparison in the screen's width: the figures that decide, and the recommendation wrapped
/// (`compare`'s full table goes into the playbook's comments).
pub(super) fn screen_table(c: &regraft::analysis::compare::Comparison) -> String {
    let mut out = format!(
        "{:<10} {:>7} {:>7} {:>6} {:>9} {:>4} {:>12} {:>7}\n",
        "option", "reviews", "commits", "files", "conflicts", "ff", "force-update", "history"
    );
    for f in &c.options {
        out.push_str(&format!(
            "{:<10} {:>7} {:>7} {:>6} {:>9} {:>4} {:>12} {:>7}\n",
            f.strategy,
            f.reviews,
            f.commits,
            f.files_changed,
            f.predicted_conflicts,
            yes_no(f.fast_forward),
            yes_no(f.force_update_needed),
            f.history_kept.name()
        ));
    }
    out.push_str(&format!(
        "\nrecommendation: {}\n",
        crate::cli::ui::wrap(&c.recommendation.to_string(), width(), 16, 16)
    ));
    out.push_str("(`git regraft compare` shows every figure and each option's verdict.)");
    out
}

pub(super) fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The first clause of a verdict (up to a `,` or `;` outside parentheses), to fit one line
/// of 80 columns.
pub(super) fn short_verdict(verdict: &str) -> String {
    let mut depth = 0i32;
    let end = verdict
        .char_indices()
        .find(|(_, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth == 0 && (*c == ',' || *c == ';')
        })
        .map_or(verdict.len(), |(i, _)| i);
    let first = verdict[..end].trim();
    let mut out: String = first.chars().take(60).collect();
    if first.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{fit, shorten_ids, starred_while_typed, without_password};

    #[test]
    fn a_password_typed_in_a_url_never_shows() {
        // While typed: the `@` may still come, so all after the first `:` is starred.
        assert_eq!(starred_while_typed("http://rel:s3c"), "http://rel:***");
        assert_eq!(starred_while_typed("http://rel:s3c@ho"), "http://rel:***@ho");
        assert_eq!(starred_while_typed("http://rel:p@ss@host:80"), "http://rel:****@host:80");
        assert_eq!(starred_while_typed("https://host"), "https://host");
        assert_eq!(starred_while_typed("http:/"), "http:/");
        assert_eq!(starred_while_typed("rel:s3c"), "rel:***");
        assert_eq!(starred_while_typed("rel:s3c@host"), "rel:***@host");
        // Recorded: `****` whatever its length; a port stays.
        assert_eq!(
            without_password("http://rel:s3cret@host:8080/r"),
            "http://rel:****@host:8080/r"
        );
        assert_eq!(without_password("http://rel:p/w@x@host"), "http://rel:****@host");
        assert_eq!(without_password("http://host:8080/r"), "http://host:8080/r");
        assert_eq!(without_password("http://rel:s3cret"), "http://rel:****");
        assert_eq!(without_password("http://rel@host"), "http://rel@host");
        assert_eq!(without_password("none"), "none");
    }

    #[test]
    fn ids_are_shortened_only_where_they_are_whole() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(shorten_ids(&format!("push {id}:refs/x")), "push 0123456789ab:refs/x");
        assert_eq!(shorten_ids(&format!("lease=ref:{id}")), "lease=ref:0123456789ab");
        // 39 or 41 digits, or digits glued to letters, are not an id.
        let near = &id[..39];
        assert_eq!(shorten_ids(near), near);
        assert_eq!(shorten_ids(&format!("{id}0")), format!("{id}0"));
        assert_eq!(shorten_ids(&format!("x{id}")), format!("x{id}"));
        assert_eq!(shorten_ids("café ünïcode"), "café ünïcode");
    }

    #[test]
    fn long_lines_wrap_within_the_width_and_keep_every_word() {
        let long = format!(
            "    $ git push --porcelain {} origin {}",
            "--force-with-lease=refs/heads/stable/liberty:0123456789ab ".repeat(3),
            "x".repeat(130)
        );
        let fitted = fit(&format!("short line\n{long}\n"), 80);
        for line in fitted.lines() {
            assert!(line.chars().count() <= 80, "{line:?}");
        }
        let lines: Vec<&str> = fitted.lines().collect();
        assert_eq!(lines[0], "short line");
        assert!(lines[1].starts_with("    $ git push"), "{fitted}");
        assert!(lines[2..].iter().all(|l| l.starts_with("        ")), "{fitted}");
        // The words come back in order; the 130-column word is cut, not lost.
        let words: String = long.split_whitespace().collect();
        let back: String = lines[1..].iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(back, words);
    }
}
