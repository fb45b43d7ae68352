//! Where the command line writes: data to stdout, status and errors to stderr, colors only
//! when asked for or on a terminal.

use std::io::{self, IsTerminal, Write};

use console::Style;

/// When to use colors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal only (and not when `NO_COLOR` is set)
    Auto,
    Always,
    Never,
}

/// The output handle every command writes through.
#[derive(Debug)]
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

    /// Returns standard output, locked, for data.
    pub fn out(&self) -> io::StdoutLock<'static> {
        io::stdout().lock()
    }

    /// Paints `text` with `style` when colors are on.
    pub fn paint(&self, style: &Style, text: &str) -> String {
        if self.color {
            style.apply_to(text).force_styling(true).to_string()
        } else {
            text.to_string()
        }
    }

    /// Writes a status line to stderr.
    pub fn status(&self, text: &str) {
        let _ = writeln!(io::stderr(), "{text}");
    }

    /// Writes an error to stderr.
    pub fn error(&self, text: &str) {
        let _ = writeln!(io::stderr(), "error: {text}");
    }

    /// Writes a hint to stderr.
    pub fn hint(&self, text: &str) {
        let _ = writeln!(io::stderr(), "hint: {text}");
    }
}

/// Wraps `text` at `width` columns, indenting continuation lines by `indent`.
pub fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("starts with one line");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join(&format!("\n{}", " ".repeat(indent)))
}
