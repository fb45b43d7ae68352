//! Where the command line writes: data to stdout, status and errors to stderr, colors only
//! when asked for or on a terminal.

use std::io::{self, IsTerminal, Write};

use console::Style;
use regraft::text::visible::visible;

/// When to use colors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal only (and not when `NO_COLOR` is set)
    Auto,
    Always,
    Never,
}

/// The output handle every command writes through.
#[derive(Debug, Clone)]
pub struct Ui {
    color: bool,
}

impl Ui {
    /// Returns a handle that colors stdout per `choice`.
    pub fn new(choice: ColorChoice) -> Self {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Ui { color }
    }

    /// Returns standard output, locked, for data (JSON, Markdown, DOT, a notice): written
    /// as it is.
    pub fn out(&self) -> io::StdoutLock<'static> {
        io::stdout().lock()
    }

    /// Returns standard output for text meant to be read: every line wider than the
    /// terminal (80 columns off a terminal) is wrapped at spaces by [`fit`].
    pub fn human(&self) -> Fitted<io::StdoutLock<'static>> {
        Fitted::new(io::stdout().lock(), width())
    }

    /// Paints `text` with `style` when colors are on.
    pub fn paint(&self, style: &Style, text: &str) -> String {
        if self.color {
            style.apply_to(text).force_styling(true).to_string()
        } else {
            text.to_string()
        }
    }

    /// Writes a status line to stderr. Status lines are never styled, and name branches,
    /// projects and servers that came from files: their control characters are made visible.
    /// They are wrapped to the width of the terminal stderr is on (80 columns off one).
    pub fn status(&self, text: &str) {
        let _ = write!(io::stderr(), "{}", fit(&visible(text), stderr_width()));
    }

    /// Writes an error to stderr, control characters made visible, wrapped like a status.
    pub fn error(&self, text: &str) {
        let _ =
            write!(io::stderr(), "{}", fit(&format!("error: {}", visible(text)), stderr_width()));
    }

    /// Writes a hint to stderr, control characters made visible, wrapped like a status.
    pub fn hint(&self, text: &str) {
        let _ =
            write!(io::stderr(), "{}", fit(&format!("hint: {}", visible(text)), stderr_width()));
    }
}

/// The width assumed for output that is not on a terminal (a pipe, a file, a test).
pub const DEFAULT_WIDTH: usize = 80;

/// Returns the width of the terminal standard output is on, in columns, or
/// [`DEFAULT_WIDTH`] when it is not on one.
pub fn width() -> usize {
    columns(&console::Term::stdout())
}

/// Returns the width of the terminal standard error is on (where the guide and status lines
/// go), or [`DEFAULT_WIDTH`].
pub fn stderr_width() -> usize {
    columns(&console::Term::stderr())
}

fn columns(term: &console::Term) -> usize {
    term.size_checked().map_or(DEFAULT_WIDTH, |(_, cols)| usize::from(cols))
}

/// Wraps `text` at spaces to lines of at most `width` display columns: the first line
/// starts at column `start` (after what the caller wrote on it), the next ones are indented
/// by `indent` spaces. Runs of whitespace count as one space; a word wider than a line
/// stays whole on its own line.
pub fn wrap(text: &str, width: usize, start: usize, indent: usize) -> String {
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = " ".repeat(start);
    let rest = " ".repeat(indent);
    let options = textwrap::Options::new(width.max(1))
        .initial_indent(&first)
        .subsequent_indent(&rest)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    let wrapped = textwrap::fill(&words, options);
    wrapped.get(start..).unwrap_or_default().to_string()
}

/// Wraps every line of `text` wider than `width` columns at spaces, each with a hanging
/// indent: a labelled line (`next: `, `error: `), a list item (`- `, `* `, `12. `) and a
/// field (`    before: `) continue under their text, a shell command (`$ `) continues after
/// the shell's ` \` four columns further in (so that it still runs when pasted), and any
/// other line two columns further in than it starts. Lines that fit are left as they are,
/// and so is a word wider than a whole line. Every line of the result ends with a newline.
pub fn fit(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.lines() {
        fit_line(&mut out, line, width);
    }
    out
}

fn fit_line(out: &mut String, line: &str, width: usize) {
    let columns = textwrap::core::display_width;
    if columns(line) <= width {
        out.push_str(line);
        out.push('\n');
        return;
    }
    let body = line.trim_start_matches(' ');
    let indent = line.len() - body.len();
    // What a command reads on its standard input (`| `, a tag's message) is shown as it is:
    // a line wrapped there would be another line of the input; so is a request as sent.
    let request =
        ["GET ", "POST ", "PUT ", "PATCH ", "DELETE "].iter().any(|m| body.starts_with(m));
    if body.starts_with("| ") || body == "|" || request {
        out.push_str(line);
        out.push('\n');
        return;
    }
    // The continuation of a shell command already wrapped (a word too wide for any line,
    // then ` \`) wraps again only between words, and goes on with its ` \`.
    if let Some(command) = body.strip_suffix(" \\") {
        let words: Vec<&str> = command.split(' ').filter(|w| !w.is_empty()).collect();
        let more = " ".repeat(indent);
        out.push_str(&shell_wrap(&more, &words, width, &more));
        out.push_str(" \\\n");
        return;
    }
    if let Some(command) = body.strip_prefix("$ ") {
        let words: Vec<&str> = command.split(' ').filter(|w| !w.is_empty()).collect();
        let prefix = format!("{}$ ", &line[..indent]);
        let more = " ".repeat(indent + 4);
        out.push_str(&shell_wrap(&prefix, &words, width, &more));
        out.push('\n');
        return;
    }
    let hang = indent + hanging(body);
    // Never more than half the line: a long label's text would be a narrow column.
    let hang = if hang > width / 2 { indent + 2 } else { hang };
    let first = &line[..indent];
    let words = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let rest = " ".repeat(hang);
    let options = textwrap::Options::new(width.max(1))
        .initial_indent(first)
        .subsequent_indent(&rest)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    for wrapped in textwrap::wrap(&words, options) {
        out.push_str(wrapped.trim_end());
        out.push('\n');
    }
}

/// Returns how far past its indent a line's continuation starts: under the text after a
/// list marker or a short label, else two columns in.
fn hanging(body: &str) -> usize {
    let first = body.split(' ').next().unwrap_or_default();
    let numbered = first.len() > 1
        && (first.ends_with('.') || first.ends_with(')'))
        && first[..first.len() - 1].chars().all(|c| c.is_ascii_digit());
    if first == "-" || first == "*" || numbered {
        return first.len() + 1;
    }
    // `label: text`, the label one word of letters (and `-`), the text after its spaces
    // (`after:  text` continues under `text`).
    if let Some(label) = first.strip_suffix(':') {
        if !label.is_empty() && label.chars().all(|c| c.is_alphabetic() || c == '-') {
            let after = &body[first.len()..];
            return first.len() + (after.len() - after.trim_start_matches(' ').len());
        }
    }
    2
}

/// A writer that passes whole lines through [`fit`] to `width` columns.
#[derive(Debug)]
pub struct Fitted<W: Write> {
    inner: W,
    width: usize,
    line: Vec<u8>,
}

impl<W: Write> Fitted<W> {
    /// Wraps what is written to `inner` to `width` columns.
    pub fn new(inner: W, width: usize) -> Self {
        Fitted { inner, width, line: Vec::new() }
    }

    fn write_lines(&mut self, upto: usize) -> io::Result<()> {
        let text = String::from_utf8_lossy(&self.line[..upto]).into_owned();
        self.line.drain(..upto);
        self.inner.write_all(fit(&text, self.width).as_bytes())
    }
}

impl<W: Write> Write for Fitted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(buf);
        if let Some(last) = self.line.iter().rposition(|&b| b == b'\n') {
            self.write_lines(last + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for Fitted<W> {
    fn drop(&mut self) {
        // A last line without its newline is written as it is.
        let _ = self.inner.write_all(&self.line);
        let _ = self.inner.flush();
    }
}

/// Writes a shell command to copy: `prefix` and the (quoted) `words`, continued on lines
/// that start with `more` after the shell's ` \` where the next word would leave no room
/// for one within `width`. Words are never cut, so the lines still run when pasted.
pub fn shell_wrap(prefix: &str, words: &[&str], width: usize, more: &str) -> String {
    let columns = textwrap::core::display_width;
    let mut lines = vec![prefix.to_string()];
    let mut fresh = true;
    for word in words {
        let line = lines.last_mut().expect("one line at least");
        if !fresh && columns(line) + 1 + columns(word) + 2 > width {
            line.push_str(" \\");
            lines.push(format!("{more}{word}"));
        } else {
            if !fresh {
                line.push(' ');
            }
            line.push_str(word);
        }
        fresh = false;
    }
    lines.join("\n")
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!("{y:04}-{m:02}-{d:02}")
}

/// A moment in seconds since 1970, `YYYY-MM-DD HH:MM` in UTC.
pub fn date_time(secs: u64) -> String {
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    let minutes = secs % 86_400 / 60;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", minutes / 60, minutes % 60)
}

/// Converts days since 1970-01-01 to a (year, month, day) date in the proleptic
/// Gregorian calendar (Howard Hinnant's days-to-civil algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::{civil_from_days, wrap};

    #[test]
    fn wrapping_counts_display_columns_and_leaves_long_words_whole() {
        // "é" is two bytes and one column: the line of 10 columns fits.
        assert_eq!(wrap("café  café", 10, 0, 2), "café café");
        assert_eq!(wrap("one two three", 9, 0, 2), "one two\n  three");
        // The first line starts after a 5-column prefix the caller wrote.
        assert_eq!(wrap("one two three", 11, 5, 5), "one\n     two\n     three");
        assert_eq!(wrap("one two three", 12, 5, 5), "one two\n     three");
        let long = "x".repeat(20);
        assert_eq!(wrap(&format!("a {long} b"), 10, 0, 0), format!("a\n{long}\nb"));
        // 漢 is two columns wide.
        assert_eq!(wrap("漢字漢字 ab", 10, 0, 0), "漢字漢字\nab");
        assert_eq!(
            super::shell_wrap("  ", &["git", "push", "origin", "x"], 14, "    "),
            "  git push \\\n    origin x"
        );
        // Words break at spaces only, never at a hyphen.
        assert_eq!(wrap("must force-update", 12, 0, 0), "must\nforce-update");
    }

    #[test]
    fn days_become_dates() {
        // Counted by hand: 1970 + 30 years with 7 leap days is 2000-01-01; 31 + 28 days on.
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(10_957), (2000, 1, 1));
        // `date -u -d @1764757500 '+%F %H:%M'`
        assert_eq!(super::date_time(1_764_757_500), "2025-12-03 10:25");
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
