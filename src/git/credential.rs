//! What git knows about an HTTP server: the credentials its helpers hold and the CA file
//! it trusts for the server's certificate.

use super::{Git, GitError, Run, spawn_and_wait};

/// What `git credential fill` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filled {
    /// The credential protocol's `key=value` lines git printed.
    Answer(String),
    /// No helper had a credential, and git was not allowed to ask.
    Nothing,
}

/// Asks git's credential helpers for the credential `request` describes (the credential
/// protocol's `key=value` lines, ended by an empty line), git told never to prompt.
///
/// "No credential" is an answer, not an error: git then ends with its "terminal prompts
/// disabled" line and nothing else. Anything else git or a helper printed when git failed
/// (a helper that crashed, a configuration git cannot read) is the error.
pub fn fill(git: &Git, request: &str) -> Result<Filled, GitError> {
    let args = ["credential", "fill"];
    let (command, argv) = git.command(&args);
    let prompt_off: [(&str, &std::ffi::OsStr); 1] =
        [("GIT_TERMINAL_PROMPT", std::ffi::OsStr::new("0"))];
    let how = Run { env: &prompt_off, input: Some(request.as_bytes()), ..Run::default() };
    let out = spawn_and_wait(command, &argv, &how)?;
    if out.status.success() {
        return Ok(Filled::Answer(String::from_utf8_lossy(&out.stdout).into_owned()));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut lines = stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    let only_no_prompt = lines.clone().count() == 1
        && lines.next().is_some_and(|l| l.contains("terminal prompts disabled"));
    if only_no_prompt {
        return Ok(Filled::Nothing);
    }
    Err(GitError::Failed { argv, status: out.status, stderr: stderr.trim().to_string() })
}

/// Returns the CA file git's `http.sslCAInfo` names for `url`: the value of the best
/// matching `http.<url>.sslCAInfo`, else `http.sslCAInfo` (git's own `--get-urlmatch`
/// rules), with `~` expanded as git expands paths.
pub fn ssl_ca_info(git: &Git, url: &str) -> Result<Option<std::path::PathBuf>, GitError> {
    // Exit 1: not set.
    let (code, out) = git.output_with_env(
        &["config", "--type=path", "--get-urlmatch", "http.sslCAInfo", url],
        &[],
        &[1],
    )?;
    let value = String::from_utf8_lossy(&out).trim_end_matches('\n').to_string();
    Ok((code == 0 && !value.is_empty()).then(|| std::path::PathBuf::from(value)))
}

/// Tells whether the user allowed credentials to go to `url` over plain HTTP: the best
/// matching `regraft.<url>.allowHttp` (git's `--get-urlmatch` rules, as for
/// `http.<url>.*`: the scheme, host and port match exactly, the path as a prefix), read as
/// a boolean. Unset is `false`; a value git cannot read as a boolean is an error.
pub fn allow_http(git: &Git, url: &str) -> Result<bool, GitError> {
    // Exit 1: not set.
    let (code, out) = git.output_with_env(
        &["config", "--type=bool", "--get-urlmatch", "regraft.allowHttp", url],
        &[],
        &[1],
    )?;
    Ok(code == 0 && String::from_utf8_lossy(&out).trim() == "true")
}
