//! A progress bar on stderr for long engine work: only on a terminal, only after a delay.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use regraft::progress::Progress;

/// How long work runs before a bar appears; quick commands never show one.
const DELAY: Duration = Duration::from_millis(400);

/// Draws engine progress with indicatif.
#[derive(Debug)]
pub struct Bar {
    enabled: bool,
    started: Instant,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    /// Returns a bar that draws only when stderr is a terminal.
    pub fn new() -> Self {
        Bar {
            enabled: std::io::stderr().is_terminal(),
            started: Instant::now(),
            bar: Mutex::new(None),
        }
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: usize) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden());
        let template = if total > 0 { "{msg} {wide_bar} {pos}/{len}" } else { "{spinner} {msg}" };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(what.to_string());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, n: usize) {
        let Ok(slot) = self.bar.lock() else { return };
        if let Some(bar) = slot.as_ref() {
            if bar.is_hidden() && self.started.elapsed() > DELAY {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
            bar.inc(n as u64);
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}
