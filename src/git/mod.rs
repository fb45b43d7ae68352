//! The one place that runs the `git` executable: an argv, never a shell, traced on request.
//!
//! It heads the git layer: the repository (the only module with `git2` types), remotes, ref
//! names and scratch object directories.

pub mod action;
pub mod config;
pub mod credential;
pub mod merge_inputs;
pub mod names;
pub mod objects;
pub mod reads;
pub mod refs;
pub mod remote;
pub mod repo;
pub mod rewrite;
pub mod sample;
pub mod scratch;
pub mod worktree;

use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;

/// Environment variable that makes every `git` call print its argv on stderr.
pub const TRACE_VAR: &str = "REGRAFT_TRACE";

/// Environment variable that stops regraft from running git under `stdbuf` for
/// request-and-answer exchanges (it then starts one git process per request).
pub const NO_STDBUF_VAR: &str = "REGRAFT_NO_STDBUF";

/// Environment variable naming the `git` executable to run (default: `git` on `PATH`).
pub const GIT_VAR: &str = "REGRAFT_GIT";

/// Variables that would make git read or write another repository's files than the one
/// regraft names, or change what its output means; never passed on from the caller.
const INHERITED_LOCATION_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_QUARANTINE_PATH",
    "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE",
    "GIT_REPLACE_REF_BASE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_EXTERNAL_DIFF",
    "GIT_DIFF_OPTS",
    "GIT_PREFIX",
];

/// Variables outside `GIT_*` that change what git does: where its per-user files are
/// (`$XDG_CONFIG_HOME/git/{config,attributes,ignore}`) and the identity it falls back on.
const OTHER_BEHAVIOUR_VARS: &[&str] = &["XDG_CONFIG_HOME", "EMAIL"];

/// Which of the caller's environment a git process sees, and what is fixed for it.
///
/// The rule, by mode:
///
/// - [`Environment::Caller`], the product's normal mode: the user's environment passes on,
///   because a real user's git needs it: `HOME` and `XDG_CONFIG_HOME` (their configuration:
///   credential helpers, `url.*.insteadOf`, proxies, attributes), `GIT_SSH`,
///   `GIT_SSH_COMMAND`, `SSH_AUTH_SOCK`, `GIT_ASKPASS`, `SSH_ASKPASS`, `GIT_SSL_*`,
///   `GIT_HTTP_*`, the proxy variables, `GIT_AUTHOR_*`/`GIT_COMMITTER_*` (who they are),
///   `GIT_CONFIG_PARAMETERS`/`GIT_CONFIG_COUNT` (what `git -c` gave `git regraft`) and
///   `GIT_TRACE*`. Removed: the variables that point git at other files than the
///   repository regraft names (`GIT_DIR`, `GIT_INDEX_FILE`, `GIT_OBJECT_DIRECTORY`, ...,
///   left behind by a hook or `rebase --exec`). Fixed: `LC_ALL=C` and `GIT_PAGER=cat`,
///   because output is parsed.
/// - [`Environment::Isolated`], the engine in tests and the demo: every `GIT_*` variable
///   of the caller's is removed (`GIT_DEFAULT_HASH`, `GIT_CONFIG_COUNT`, `GIT_AUTHOR_*`,
///   `GIT_TEMPLATE_DIR`, ...), and so are `EMAIL` and the per-user files
///   (`XDG_CONFIG_HOME` points nowhere); no system or global configuration. The
///   repository's own configuration still applies, and so do variables a call sets itself
///   (a scratch object directory, a commit's author).
/// - [`Environment::Sample`], the builder of sample repositories (the scenario, the
///   demo's server and clone, the test kit): what `Isolated` does, then a fixed identity
///   and clock, `HOME` in the sample, `TZ=UTC`, no editor, so the same commands make the
///   same commit ids on every machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// The user's environment, less the variables that name other files.
    Caller,
    /// None of the caller's git variables, configuration or identity.
    Isolated,
    /// `Isolated`, with the fixed sample identity and `date` (seconds, UTC) as the clock.
    Sample { date: i64 },
}

/// The author every sample commit has, unless the command says otherwise.
pub const SAMPLE_AUTHOR: (&str, &str) = ("Ada Author", "ada@example.org");
/// The committer every sample commit has, unless the command says otherwise.
pub const SAMPLE_COMMITTER: (&str, &str) = ("Cy Committer", "cy@example.org");

/// Removes from `command` every variable of the caller's that changes what git does (all of
/// `GIT_*`, `XDG_CONFIG_HOME`, `EMAIL`) and turns off the system and global configuration:
/// [`Environment::Isolated`], for a process that starts git itself, such as the built
/// executable a test runs.
pub fn isolate_environment(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.as_encoded_bytes().starts_with(b"GIT_") {
            command.env_remove(&key);
        }
    }
    for var in OTHER_BEHAVIOUR_VARS {
        command.env_remove(var);
    }
    // `$HOME/.config/git/attributes` and `ignore` are read whatever GIT_CONFIG_GLOBAL says;
    // under a file they cannot be found.
    command
        .env("XDG_CONFIG_HOME", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
}

impl Environment {
    /// Sets `command`'s environment as this mode says; `dir` is where a sample lives.
    fn apply(self, command: &mut Command, dir: &Path) {
        match self {
            Environment::Caller => {
                for var in INHERITED_LOCATION_VARS {
                    command.env_remove(var);
                }
            }
            Environment::Isolated => isolate_environment(command),
            Environment::Sample { date } => {
                isolate_environment(command);
                let stamp = format!("{date} +0000");
                command
                    .env("HOME", dir)
                    .env("TZ", "UTC")
                    .env("GIT_EDITOR", ":")
                    .env("GIT_AUTHOR_NAME", SAMPLE_AUTHOR.0)
                    .env("GIT_AUTHOR_EMAIL", SAMPLE_AUTHOR.1)
                    .env("GIT_COMMITTER_NAME", SAMPLE_COMMITTER.0)
                    .env("GIT_COMMITTER_EMAIL", SAMPLE_COMMITTER.1)
                    .env("GIT_AUTHOR_DATE", &stamp)
                    .env("GIT_COMMITTER_DATE", &stamp);
            }
        }
        // Output is parsed, so it must not depend on the user's language or pager.
        command.env("LC_ALL", "C").env("GIT_PAGER", "cat");
    }
}

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
    #[error("`{argv}` printed no object id (it printed `{output}`)")]
    NoId { argv: String, output: String },
    #[error("reading the output of `{argv}`")]
    Read {
        argv: String,
        #[source]
        source: io::Error,
    },
}

impl GitError {
    /// Tells whether git was killed by a write to a closed pipe: the reader stopped first,
    /// and its own reason is the one to report.
    pub fn is_broken_pipe(&self) -> bool {
        use std::os::unix::process::ExitStatusExt as _;
        /// SIGPIPE on Linux and the BSDs.
        const SIGPIPE: i32 = 13;
        matches!(self, GitError::Failed { status, .. } if status.signal() == Some(SIGPIPE))
    }
}

/// git failing, or not running, is never the user's input: callers that pass the user's
/// words to git check them first and say so in their own errors.
impl crate::ErrorOrigin for GitError {
    fn is_user_input(&self) -> bool {
        match self {
            GitError::Spawn { .. }
            | GitError::Failed { .. }
            | GitError::NoId { .. }
            | GitError::Read { .. } => false,
        }
    }
}

/// Runs `git` against one repository, always with `--git-dir` so bare repositories work;
/// or, for a sample being built, in its directory. Every git process regraft starts goes
/// through here: the argv is traced on request and the environment is set as
/// [`Environment`] says.
#[derive(Debug, Clone)]
pub struct Git {
    program: OsString,
    place: Place,
    environment: Environment,
    trace: bool,
}

/// Where a runner's commands run.
#[derive(Debug, Clone)]
enum Place {
    /// `--git-dir <dir>`, in the caller's working directory.
    GitDir(PathBuf),
    /// In this directory, found by git as it would for a user there (a work tree, a bare
    /// repository, or a directory that is not one yet, for `init` and `clone`).
    WorkDir(PathBuf),
}

/// Returns the `git` executable to run: `REGRAFT_GIT`, or `git` on `PATH`.
pub fn program() -> OsString {
    std::env::var_os(GIT_VAR).unwrap_or_else(|| OsString::from("git"))
}

fn tracing() -> bool {
    std::env::var_os(TRACE_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

impl Git {
    /// Returns a runner for the repository whose git directory is `git_dir`, in the
    /// caller's environment ([`Environment::Caller`]).
    pub fn new(git_dir: &Path) -> Self {
        Git {
            program: program(),
            place: Place::GitDir(git_dir.to_path_buf()),
            environment: Environment::Caller,
            trace: tracing(),
        }
    }

    /// Returns a runner that runs git in `dir` in the fixed sample environment with `date`
    /// as the clock ([`Environment::Sample`]): for building sample repositories.
    pub fn sample(dir: &Path, date: i64) -> Self {
        Git {
            program: program(),
            place: Place::WorkDir(dir.to_path_buf()),
            environment: Environment::Sample { date },
            trace: tracing(),
        }
    }

    /// Returns this runner set to ignore the user's and the system's git configuration and
    /// the caller's git variables ([`Environment::Isolated`]), as tests and the demo need
    /// (the repository's own configuration still applies).
    pub fn isolated(mut self) -> Self {
        self.environment = Environment::Isolated;
        self
    }

    /// Returns the environment this runner's commands get.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Returns the git directory this runner works on (for a sample's runner, the
    /// directory its commands run in).
    pub fn git_dir(&self) -> &Path {
        match &self.place {
            Place::GitDir(dir) | Place::WorkDir(dir) => dir,
        }
    }

    fn command(&self, args: &[&str]) -> (Command, String) {
        self.command_via(None, &os_args(args))
    }

    /// Builds the command, run through `wrapper` (a program and its arguments) if given.
    fn command_via(&self, wrapper: Option<&[&str]>, args: &[&OsStr]) -> (Command, String) {
        let mut command = match wrapper {
            Some([program, rest @ ..]) => {
                let mut c = Command::new(program);
                c.args(rest).arg(&self.program);
                c
            }
            _ => Command::new(&self.program),
        };
        let mut words = vec![self.program.as_os_str()];
        match &self.place {
            Place::GitDir(dir) => {
                command.arg("--git-dir").arg(dir);
                words.extend([OsStr::new("--git-dir"), dir.as_os_str()]);
            }
            Place::WorkDir(dir) => {
                command.current_dir(dir);
            }
        }
        command.args(args);
        words.extend(args);
        // The repository is named by --git-dir or the directory alone: variables a caller
        // (a hook, a script run by `git rebase --exec`) left behind would point git at
        // other files.
        self.environment.apply(&mut command, self.git_dir());
        let mut argv = words.iter().map(|w| quote(&w.to_string_lossy())).collect::<Vec<_>>();
        if let Some(wrapper) = wrapper {
            argv.splice(0..0, wrapper.iter().map(|w| (*w).to_string()));
        }
        let argv = argv.join(" ");
        if self.trace {
            match &self.place {
                Place::GitDir(_) => eprintln!("regraft: + {argv}"),
                Place::WorkDir(dir) => {
                    eprintln!("regraft: + (in {}) {argv}", quote(&dir.to_string_lossy()))
                }
            }
        }
        (command, argv)
    }

    /// Runs git to completion and returns its standard output; a non-zero exit is an error.
    pub fn output(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        Ok(self.run(args, &Run::default())?.1)
    }

    /// Runs git to completion with its standard error on the caller's terminal, for the
    /// progress of a long fetch; a non-zero exit is an error (git has said why, above).
    pub fn with_progress(&self, args: &[&str]) -> Result<(), GitError> {
        let (mut command, argv) = self.command(args);
        let status = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .map_err(|source| GitError::Spawn { argv: argv.to_string(), source })?;
        if status.success() { Ok(()) } else { Err(failed(argv, status, b"(shown above)")) }
    }

    /// Runs git to completion with `input` on its standard input and returns how it ended,
    /// whatever its exit code: for commands whose refusals are read from their output, such
    /// as `git push --porcelain`.
    pub fn finished(&self, args: &[&str], input: &[u8]) -> Result<Finished, GitError> {
        self.finished_os(&os_args(args), input)
    }

    /// [`Git::finished`] for arguments that are paths, which need not be UTF-8.
    pub fn finished_os(&self, args: &[&OsStr], input: &[u8]) -> Result<Finished, GitError> {
        let (command, argv) = self.command_via(None, args);
        let out = spawn_and_wait(command, &argv, &Run { input: Some(input), ..Run::default() })?;
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Ok(Finished { argv, status: out.status, stdout: out.stdout, stderr })
    }

    /// Runs git to completion as `how` says; returns its exit code and standard output, and
    /// turns any exit code but 0 and `how.also_ok` into an error with git's stderr.
    fn run(&self, args: &[&str], how: &Run<'_>) -> Result<(i32, Vec<u8>), GitError> {
        let (command, argv) = self.command(args);
        let out = spawn_and_wait(command, &argv, how)?;
        match out.status.code() {
            Some(code) if code == 0 || how.also_ok.contains(&code) => Ok((code, out.stdout)),
            _ => Err(failed(argv, out.status, &out.stderr)),
        }
    }
}

/// How a git command ended (see [`Git::finished`]).
#[derive(Debug, Clone)]
pub struct Finished {
    /// The argv as the trace shows it.
    pub argv: String,
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// Standard error, trimmed.
    pub stderr: String,
}

impl Finished {
    /// Returns the standard output if git succeeded, else the error with its stderr.
    pub fn success(self) -> Result<Vec<u8>, GitError> {
        if self.status.success() {
            Ok(self.stdout)
        } else {
            Err(GitError::Failed { argv: self.argv, status: self.status, stderr: self.stderr })
        }
    }
}

/// Spawns `command` as `how` says, feeds its input and waits for it.
fn spawn_and_wait(
    mut command: Command,
    argv: &str,
    how: &Run<'_>,
) -> Result<std::process::Output, GitError> {
    for (key, value) in how.env {
        command.env(key, value);
    }
    if let Some(work_tree) = how.work_tree {
        command.current_dir(work_tree).env("GIT_WORK_TREE", work_tree);
    }
    let stdin = if how.input.is_some() { Stdio::piped() } else { Stdio::null() };
    let mut child = command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| GitError::Spawn { argv: argv.to_string(), source })?;
    // A separate writer keeps git from blocking on a full stdin pipe while we read stdout.
    let feeder = how.input.map(|input| {
        let mut stdin = child.stdin.take().expect("stdin was piped above");
        let input = input.to_vec();
        std::thread::spawn(move || stdin.write_all(&input))
    });
    let out = child
        .wait_with_output()
        .map_err(|source| GitError::Read { argv: argv.to_string(), source })?;
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    Ok(out)
}

impl Git {
    /// Starts git with `input` fed to its standard input from a thread, and returns it with
    /// its standard output ready to read as a stream.
    pub fn stream(&self, args: &[&str], input: Vec<u8>) -> Result<RunningGit, GitError> {
        let mut running = self.piped(args)?;
        let mut stdin = running.take_stdin();
        if input.is_empty() {
            return Ok(running);
        }
        // A separate writer keeps git from blocking on a full stdin pipe while we read stdout.
        running.feeder = Some(std::thread::spawn(move || {
            let result = stdin.write_all(&input);
            drop(stdin);
            result
        }));
        Ok(running)
    }

    /// Starts git with its standard input and output as pipes for the caller to write and
    /// read, for commands such as `git diff-tree --stdin` that answer each line as it comes
    /// while the caller is still finding the next ones. The caller must read the output
    /// while it writes, and close the input (drop it) before [`RunningGit::finish`].
    pub fn piped(&self, args: &[&str]) -> Result<RunningGit, GitError> {
        let (mut command, argv) = self.command(args);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| GitError::Spawn { argv: argv.clone(), source })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let mut stderr = child.stderr.take().expect("stderr was piped above");
        let errors = std::thread::spawn(move || {
            let mut tail = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                match stderr.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(read) => tail.extend_from_slice(&chunk[..read]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
                if tail.len() > 128 * 1024 {
                    tail.drain(..tail.len() - 64 * 1024);
                }
            }
            tail
        });
        Ok(RunningGit { child, stdin, stdout, feeder: None, errors, argv })
    }
}

impl Git {
    /// Starts git for a request-and-answer exchange: requests go to its standard input one
    /// at a time, and each answer must be readable before the next request is written.
    ///
    /// git's own output is block-buffered on a pipe, so when `stdbuf` (GNU coreutils) is on
    /// `PATH` git runs under `stdbuf -o0`; without it this returns `Ok(None)` and the caller
    /// falls back to one process per request. `env` adds environment variables.
    pub fn converse(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Result<Option<Conversation>, GitError> {
        self.converse_in(args, env, None)
    }

    /// Like [`Git::converse`], run in `work_tree` (git then reads the work tree's files,
    /// `.gitattributes` among them, as a command run at its top does).
    pub fn converse_in(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        work_tree: Option<&Path>,
    ) -> Result<Option<Conversation>, GitError> {
        let disabled = std::env::var_os(NO_STDBUF_VAR).is_some_and(|v| !v.is_empty() && v != "0");
        if disabled || !on_path("stdbuf") {
            return Ok(None);
        }
        let (mut command, argv) = self.command_via(Some(&["stdbuf", "-o0"]), &os_args(args));
        for (key, value) in env {
            command.env(key, value);
        }
        if let Some(work_tree) = work_tree {
            command.current_dir(work_tree).env("GIT_WORK_TREE", work_tree);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| GitError::Spawn { argv: argv.clone(), source })?;
        let stdin = child.stdin.take().expect("stdin was piped above");
        let stdout = child.stdout.take().expect("stdout was piped above");
        let mut stderr = child.stderr.take().expect("stderr was piped above");
        // Drain stderr so git never blocks on it; keep the end for error messages.
        let errors = std::thread::spawn(move || {
            let mut all = Vec::new();
            let _ = stderr.read_to_end(&mut all);
            let keep = all.len().saturating_sub(64 * 1024);
            all.split_off(keep)
        });
        Ok(Some(Conversation {
            child,
            input: Some(io::BufWriter::new(stdin)),
            output: io::BufReader::new(stdout),
            errors: Some(errors),
            argv,
        }))
    }

    /// Runs git with extra environment variables and returns its exit code and standard
    /// output; an exit code other than 0 or one of `also_ok` is an error.
    pub fn output_with_env(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        also_ok: &[i32],
    ) -> Result<(i32, Vec<u8>), GitError> {
        self.run(args, &Run { env, also_ok, ..Run::default() })
    }

    /// Like [`Git::output_with_env`], run in `work_tree` when there is one.
    pub fn output_with_env_in(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        also_ok: &[i32],
        work_tree: Option<&Path>,
    ) -> Result<(i32, Vec<u8>), GitError> {
        self.run(args, &Run { env, also_ok, work_tree, ..Run::default() })
    }
}

impl Git {
    /// Runs git with `input` on its standard input and extra environment variables, and
    /// returns its standard output; a non-zero exit is an error.
    pub fn output_with_input_env(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        input: &[u8],
    ) -> Result<Vec<u8>, GitError> {
        Ok(self.run(args, &Run { env, input: Some(input), ..Run::default() })?.1)
    }

    /// Runs git with `input` on its standard input and extra environment variables, and
    /// returns the one object id it prints (`hash-object`, `commit-tree`, `write-tree`).
    pub fn output_id(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        input: &[u8],
    ) -> Result<crate::oid::ObjectId, GitError> {
        let out = self.output_with_input_env(args, env, input)?;
        parse_id(args, &out)
    }

    /// Runs git in `work_tree` (for commands that need one) and returns its standard output;
    /// exit codes other than 0 and `also_ok` are errors.
    pub fn output_in_work_tree(
        &self,
        work_tree: &Path,
        args: &[&str],
        also_ok: &[i32],
    ) -> Result<Vec<u8>, GitError> {
        Ok(self.run(args, &Run { work_tree: Some(work_tree), also_ok, ..Run::default() })?.1)
    }
}

/// How [`Git::run`] runs one command to completion.
#[derive(Default)]
struct Run<'a> {
    env: &'a [(&'a str, &'a std::ffi::OsStr)],
    input: Option<&'a [u8]>,
    work_tree: Option<&'a Path>,
    also_ok: &'a [i32],
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// A git process answering requests one at a time; see [`Git::converse`].
#[derive(Debug)]
pub struct Conversation {
    child: Child,
    input: Option<io::BufWriter<std::process::ChildStdin>>,
    output: io::BufReader<ChildStdout>,
    errors: Option<JoinHandle<Vec<u8>>>,
    argv: String,
}

impl Conversation {
    /// Writes one request and flushes it.
    pub fn send(&mut self, request: &[u8]) -> Result<(), GitError> {
        let input = self.input.as_mut().expect("send is not called after finish");
        input
            .write_all(request)
            .and_then(|()| input.flush())
            .map_err(|source| GitError::Read { argv: self.argv.clone(), source })
    }

    /// Returns the reader of git's answers.
    pub fn answers(&mut self) -> &mut io::BufReader<ChildStdout> {
        &mut self.output
    }

    /// Returns the argv as the trace shows it, for error messages.
    pub fn argv(&self) -> &str {
        &self.argv
    }

    /// Closes git's input, waits for it, and reports a non-zero exit with its stderr.
    pub fn finish(mut self) -> Result<(), GitError> {
        drop(self.input.take());
        let status = self
            .child
            .wait()
            .map_err(|source| GitError::Read { argv: self.argv.clone(), source })?;
        let stderr = self.errors.take().and_then(|h| h.join().ok()).unwrap_or_default();
        if !status.success() {
            return Err(failed(self.argv, status, &stderr));
        }
        Ok(())
    }
}

/// A git process started by [`Git::stream`] or [`Git::piped`].
#[derive(Debug)]
pub struct RunningGit {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    feeder: Option<JoinHandle<io::Result<()>>>,
    /// Reads standard error as it comes, so that git never waits on a full pipe (a warning
    /// per commit would fill one); keeps the last 64 KiB for the error message.
    errors: JoinHandle<Vec<u8>>,
    argv: String,
}

impl RunningGit {
    /// Takes the process's standard input; callable once.
    pub fn take_stdin(&mut self) -> ChildStdin {
        self.stdin.take().expect("take_stdin is called once per process")
    }

    /// Takes the process's standard output; callable once.
    pub fn take_stdout(&mut self) -> ChildStdout {
        self.stdout.take().expect("take_stdout is called once per process")
    }

    /// Returns the argv as the trace shows it, for error messages.
    pub fn argv(&self) -> &str {
        &self.argv
    }

    /// Stops the process, when its work is no longer wanted, and waits for it.
    pub fn abandon(mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.errors.join();
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
    }

    /// Waits for the process and turns a non-zero exit into an error with its stderr.
    pub fn finish(mut self) -> Result<(), GitError> {
        drop(self.stdin.take());
        drop(self.stdout.take());
        let stderr = self.errors.join().unwrap_or_default();
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

/// Parses the one object id that git printed for `args` (a full hex id and a newline).
pub fn parse_id(args: &[&str], out: &[u8]) -> Result<crate::oid::ObjectId, GitError> {
    crate::oid::ObjectId::from_hex(out.trim_ascii()).ok_or_else(|| GitError::NoId {
        argv: format!("git {}", args.join(" ")),
        output: String::from_utf8_lossy(&out[..out.len().min(200)]).trim().to_string(),
    })
}

fn failed(argv: String, status: ExitStatus, stderr: &[u8]) -> GitError {
    let stderr = String::from_utf8_lossy(stderr).trim().to_string();
    GitError::Failed { argv, status, stderr }
}

fn os_args<'a>(args: &[&'a str]) -> Vec<&'a OsStr> {
    args.iter().map(|a| OsStr::new(*a)).collect()
}

/// Quotes one word the way a POSIX shell would need it, so a traced argv or a printed
/// command can be pasted: in single quotes unless every byte is one a shell reads as itself.
pub fn quote(word: &str) -> String {
    // A leading `~` is tilde expansion; a leading `=` is zsh's command-path expansion.
    let plain = !word.is_empty()
        && !word.starts_with(['~', '='])
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
        assert_eq!(quote("stable/liberty"), "stable/liberty");
        assert_eq!(quote("HEAD~1"), "HEAD~1");
        assert_eq!(quote("~rel"), "'~rel'");
        assert_eq!(quote("=ls"), "'=ls'");
        for special in ["$x", "`x`", "a;b", "a b", "a\nb", "*", "?", "!", "&", "|", "<", ">"] {
            assert_eq!(quote(special), format!("'{special}'"), "{special:?}");
        }
        for special in ["(", ")", "{a,b}", "[a]", "#", "\"", "\\", "\t"] {
            assert_eq!(quote(special), format!("'{special}'"), "{special:?}");
        }
    }
}
