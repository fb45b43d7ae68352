//! How long-running engine work reports progress without knowing about terminals.

/// Receives progress from the engine; the command-line layer draws it (or not).
pub trait Progress: Sync {
    /// A phase begins with `total` steps (0 when unknown).
    fn start(&self, _what: &str, _total: usize) {}
    /// `n` more steps are done.
    fn advance(&self, _n: usize) {}
    /// The phase is over.
    fn finish(&self) {}
}

/// Progress that goes nowhere: for tests, benchmarks and piped output.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
