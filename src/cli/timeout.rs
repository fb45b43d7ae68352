//! `--timeout`, which every command that talks to a review host takes, and the connector
//! it hands the engine: every request of the command, the plan's included, is bounded by it.

use std::time::Duration;

use regraft::review::{Connector, DEFAULT_TIMEOUT, MAX_TIMEOUT_SECONDS, Observer};

use super::Ui;

/// The `--timeout` option.
#[derive(Debug, Clone, clap::Args)]
pub struct TimeoutArgs {
    /// Seconds each request to a review host may take, its retries and rate-limit waits
    /// included (1 to 3600)
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = DEFAULT_TIMEOUT.as_secs(),
        value_parser = seconds
    )]
    pub timeout: u64,
}

impl Default for TimeoutArgs {
    fn default() -> Self {
        TimeoutArgs { timeout: DEFAULT_TIMEOUT.as_secs() }
    }
}

impl TimeoutArgs {
    /// Returns the time each request may take.
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    /// Returns the connector of the command's review hosts: each request bounded by
    /// `--timeout`, and every rate-limit wait and retry said on stderr ([`Self::observer`]).
    pub fn connector(&self, ui: &Ui) -> Connector {
        Connector::new(self.duration()).observed(self.observer(ui))
    }

    /// Returns an observer that says each rate-limit wait and retry on stderr as it begins,
    /// for a client the command builds itself.
    pub fn observer(&self, ui: &Ui) -> Observer {
        let ui = ui.clone();
        std::sync::Arc::new(move |note| ui.status(&note.to_string()))
    }
}

/// Reads `--timeout`'s value: a whole number of seconds from 1 to an hour.
fn seconds(text: &str) -> Result<u64, String> {
    let wanted = || format!("give a whole number of seconds from 1 to {MAX_TIMEOUT_SECONDS}");
    let value: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds: {}", wanted()))?;
    if value == 0 || value > MAX_TIMEOUT_SECONDS {
        return Err(format!("{value} s is out of range: {}", wanted()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn a_timeout_is_a_whole_number_of_seconds_up_to_an_hour() {
        assert_eq!(seconds("2"), Ok(2));
        assert_eq!(seconds("3600"), Ok(3600));
        for bad in ["0", "3601", "-1", "1.5", "", "ten", "18446744073709551616"] {
            assert!(seconds(bad).is_err(), "{bad:?} is refused");
        }
    }
}
