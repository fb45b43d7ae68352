//! The one place that runs the `git` executable: an argv, never a shell, traced on request.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;

/// Environment variable that makes every `git` call print its argv on stderr.
pub const TRACE_VAR: &str = "REGRAFT_TRACE";

/// Environment variable naming the `git` executable to run (default: `git` on `PATH`).
pub const GIT_VAR: &str = "REGRAFT_GIT";

/// Errors from running the `git` executable.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not run `{argv}`")]
    Spawn {
        argv: String,
        #[source]
        source: io::Error,
    },
    #[error("`{argv}` failed ({status}): {stderr}")]
    Failed { argv: String, status: ExitStatus, stderr: String },
    #[error("reading the output of `{argv}`")]
    Read {
        argv: String,
        #[source]
        source: io::Error,
    },
}

/// Runs `git` against one repository, always with `--git-dir` so bare repositories work.
#[derive(Debug, Clone)]
pub struct Git {
    program: OsString,
    git_dir: PathBuf,
    trace: bool,
    isolated: bool,
}

impl Git {
    /// Returns a runner for the repository whose git directory is `git_dir`.
    pub fn new(git_dir: &Path) -> Self {
        let program = std::env::var_os(GIT_VAR).unwrap_or_else(|| OsString::from("git"));
        let trace = std::env::var_os(TRACE_VAR).is_some_and(|v| !v.is_empty() && v != "0");
        Git { program, git_dir: git_dir.to_path_buf(), trace, isolated: false }
    }

    /// Returns this runner set to ignore the user's and the system's git configuration,
    /// as tests and the demo need (the repository's own configuration still applies).
    pub fn isolated(mut self) -> Self {
        self.isolated = true;
        self
    }

    /// Returns the git directory this runner works on.
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    fn command(&self, args: &[&str]) -> (Command, String) {
        let mut command = Command::new(&self.program);
        command.arg("--git-dir").arg(&self.git_dir).args(args);
        // Output is parsed, so it must not depend on the user's language or pager.
        command.env("LC_ALL", "C").env("GIT_PAGER", "cat").env_remove("GIT_EXTERNAL_DIFF");
        if self.isolated {
            command.env("GIT_CONFIG_NOSYSTEM", "1").env("GIT_CONFIG_GLOBAL", "/dev/null");
        }
        let argv = render_argv(&self.program, &self.git_dir, args);
        if self.trace {
            eprintln!("regraft: + {argv}");
        }
        (command, argv)
    }

    /// Runs git to completion and returns its standard output; a non-zero exit is an error.
    pub fn output(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let (mut command, argv) = self.command(args);
        let out = command
            .stdin(Stdio::null())
            .output()
            .map_err(|source| GitError::Spawn { argv: argv.clone(), source })?;
        if !out.status.success() {
            return Err(failed(argv, out.status, &out.stderr));
        }
        Ok(out.stdout)
    }

    /// Starts git with `input` fed to its standard input from a thread, and returns it with
    /// its standard output ready to read as a stream.
    pub fn stream(&self, args: &[&str], input: Vec<u8>) -> Result<RunningGit, GitError> {
        let (mut command, argv) = self.command(args);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| GitError::Spawn { argv: argv.clone(), source })?;
        let mut stdin = child.stdin.take().expect("stdin was piped above");
        // A separate writer keeps git from blocking on a full stdin pipe while we read stdout.
        let feeder = std::thread::spawn(move || {
            let result = stdin.write_all(&input);
            drop(stdin);
            result
        });
        let stdout = child.stdout.take().expect("stdout was piped above");
        Ok(RunningGit { child, stdout: Some(stdout), feeder: Some(feeder), argv })
    }
}

/// A git process started by [`Git::stream`].
#[derive(Debug)]
pub struct RunningGit {
    child: Child,
    stdout: Option<ChildStdout>,
    feeder: Option<JoinHandle<io::Result<()>>>,
    argv: String,
}

impl RunningGit {
    /// Takes the process's standard output; callable once.
    pub fn take_stdout(&mut self) -> ChildStdout {
        self.stdout.take().expect("take_stdout is called once per process")
    }

    /// Returns the argv as the trace shows it, for error messages.
    pub fn argv(&self) -> &str {
        &self.argv
    }

    /// Waits for the process and turns a non-zero exit into an error with its stderr.
    pub fn finish(mut self) -> Result<(), GitError> {
        drop(self.stdout.take());
        let mut stderr = Vec::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_end(&mut stderr);
        }
        let status = self
            .child
            .wait()
            .map_err(|source| GitError::Read { argv: self.argv.clone(), source })?;
        if let Some(feeder) = self.feeder.take() {
            // A broken stdin pipe only matters if git itself failed, which is reported below.
            let _ = feeder.join();
        }
        if !status.success() {
            return Err(failed(self.argv, status, &stderr));
        }
        Ok(())
    }
}

fn failed(argv: String, status: ExitStatus, stderr: &[u8]) -> GitError {
    let stderr = String::from_utf8_lossy(stderr).trim().to_string();
    GitError::Failed { argv, status, stderr }
}

fn render_argv(program: &OsString, git_dir: &Path, args: &[&str]) -> String {
    let mut parts = vec![program.to_string_lossy().into_owned(), "--git-dir".to_string()];
    parts.push(git_dir.to_string_lossy().into_owned());
    parts.extend(args.iter().map(|a| (*a).to_string()));
    parts.iter().map(|p| quote(p)).collect::<Vec<_>>().join(" ")
}

/// Quotes one word the way a POSIX shell would need it, so a traced argv can be pasted.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,^~".contains(&b));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("log"), "log");
        assert_eq!(quote("--format=%H %P"), "'--format=%H %P'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
