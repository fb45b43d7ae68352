//! Configuration values read through the `git` executable (includes and `-c` seen).

use crate::git::{Git, GitError};

impl Git {
    /// Returns the value of `key`, `None` when unset (exit code 1) or empty (`config --get`).
    pub fn config_get(&self, key: &str) -> Result<Option<String>, GitError> {
        let (code, out) = self.output_with_env(&["config", "--get", key], &[], &[1])?;
        let value = String::from_utf8_lossy(&out).trim().to_string();
        Ok(Some(value).filter(|v| code == 0 && !v.is_empty()))
    }

    /// Returns every value of the multi-valued `key` in the order git reads them, none when
    /// unset (`config --get-all`).
    pub fn config_get_all(&self, key: &str) -> Result<Vec<String>, GitError> {
        let (code, out) = self.output_with_env(&["config", "--get-all", key], &[], &[1])?;
        if code != 0 {
            return Ok(Vec::new());
        }
        Ok(String::from_utf8_lossy(&out).lines().map(str::to_string).collect())
    }
}

/// Tells whether `value`, as a configuration boolean, is one of git's words for false
/// (`false`, `no`, `off`, `0`, any case).
pub(crate) fn says_false(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "false" | "no" | "off" | "0")
}
