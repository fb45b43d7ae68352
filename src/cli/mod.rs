//! The command-line layer: parses arguments, calls the engine, renders its answers, and
//! maps errors to exit codes.

mod abandon;
mod backport;
mod compare;
mod completions;
mod delta;
mod demo;
mod deps;
mod dot;
mod eol;
mod forecast;
mod guide;
mod html;
mod log;
mod man;
mod missed;
mod notice;
mod policy;
mod progress;
mod replace;
mod run;
mod status;
mod surgery;
mod sync;
mod timeout;
mod ui;
mod undo;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use regraft::ErrorOrigin;
use regraft::text::visible::visible;

pub use ui::Ui;

const ABOUT: &str = "Measure, plan and carry out surgery on long-lived git branches";

const LONG_ABOUT: &str = "\
regraft helps when a long-lived stable branch has to be replaced, ended or backported \
into: it shows what separates two branches and what of it is already there, which commits \
a fix needs, predicts every cherry-pick, measures the options side by side, carries them \
out on the remote without losing history, and brings developers' branches across.

Installed on PATH as `git-regraft`, it runs as `git regraft <command>`.";

const EXAMPLES: &str = "\
Examples:
  git regraft guide            walked through it by questions
  git regraft demo             a tour on a sample repository
  git regraft status           what is in progress, what next
  git regraft sync --all       after a branch was replaced

  What separates two branches, the options measured, one carried out:
  git regraft delta stable/liberty stable/mitaka
  git regraft compare stable/liberty stable/mitaka
  git regraft replace stable/liberty --from stable/mitaka --strategy merge";

/// How much a human rendering shows: its summary, or with `--verbose` every item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Summary,
    Every,
}

impl Detail {
    /// Returns the detail `--verbose` asks for.
    pub fn verbose(verbose: bool) -> Detail {
        if verbose { Detail::Every } else { Detail::Summary }
    }
}

/// Top-level arguments.
#[derive(Debug, Parser)]
#[command(name = "git-regraft", bin_name = "git regraft", version, about = ABOUT,
          long_about = LONG_ABOUT, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// Run as if started in PATH (like `git -C PATH`)
    #[arg(short = 'C', global = true, value_name = "PATH")]
    directory: Option<PathBuf>,

    /// When to color the output
    #[arg(long, global = true, value_enum, default_value_t = ui::ColorChoice::Auto)]
    color: ui::ColorChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Abandon(abandon::Args),
    Backport(backport::Args),
    Compare(compare::Args),
    Delta(delta::Args),
    Deps(deps::Args),
    Demo(demo::Args),
    Eol(eol::Args),
    Forecast(forecast::Args),
    Guide(guide::Args),
    Log(log::Args),
    Missed(missed::Args),
    Notice(notice::Args),
    Policy(policy::Args),
    Replace(replace::Args),
    Restore(abandon::RestoreArgs),
    Run(run::Args),
    Status(status::Args),
    Sync(sync::Args),
    Undo(undo::Args),
    Verify(verify::Args),
    Completions(completions::Args),
    Man(man::Args),
}

/// The exit code of a command that ran as asked and found what its caller must act on:
/// commits a policy refuses, a backport stopped at a conflict, branches a sync could not
/// bring across, a plan a review host refuses at planning (a forge's branch protection or
/// default branch, a Gerrit's denied right: the host would refuse it, nothing was done).
/// 1 stays for failures (git, the disk, a bug) and 2 for bad input.
pub const FINDINGS: u8 = 3;

/// Whether a failure is the user's to fix or ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: unknown ref, not a repository, shallow clone... Exit code 2.
    User,
    /// Git failed, the disk failed, or regraft has a bug. Exit code 1.
    Internal,
    /// The command ran as asked and found what its caller must act on (a plan a review
    /// host's rules or rights refuse). Exit code 3 ([`FINDINGS`]).
    Findings,
}

/// An error on its way to the user, with an optional hint.
#[derive(Debug)]
pub struct CommandError {
    kind: ErrorKind,
    error: anyhow::Error,
    hint: Option<String>,
}

impl CommandError {
    /// Wraps an error the user can fix by changing what they asked for.
    pub fn user(error: impl Into<anyhow::Error>) -> Self {
        CommandError { kind: ErrorKind::User, error: error.into(), hint: None }
    }

    /// Wraps an error from git, the machine, or a bug.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        CommandError { kind: ErrorKind::Internal, error: error.into(), hint: None }
    }

    /// Wraps a finding that refuses what was asked: exit code 3 ([`FINDINGS`]).
    pub fn findings(error: impl Into<anyhow::Error>) -> Self {
        CommandError { kind: ErrorKind::Findings, error: error.into(), hint: None }
    }

    /// Adds a line telling the user what to do next.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// The one rule for engine errors (and I/O errors, which are never the user's): the error
/// says whose it is ([`ErrorOrigin`]); `?` turns it into an exit code 2 or 1.
impl<E> From<E> for CommandError
where
    E: ErrorOrigin + std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        if error.is_user_input() {
            CommandError::user(error)
        } else {
            CommandError::internal(error)
        }
    }
}

/// What to tell the user if Ctrl-C ends the process now (empty: nothing).
static INTERRUPT_NOTE: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// Sets what Ctrl-C prints before the process ends (the guide: "nothing was changed").
pub fn interrupt_note(note: &str) {
    if let Ok(mut current) = INTERRUPT_NOTE.lock() {
        *current = note.to_string();
    }
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    // Ctrl-C, SIGTERM and SIGHUP still end the process at once, but first remove the scratch
    // object directories, which no destructor would. A journal or a lock left behind is
    // what `--continue`, `--abort` and the stale-lock takeover are for.
    let _ = ctrlc::set_handler(|| {
        regraft::git::scratch::remove_live();
        let note = INTERRUPT_NOTE.lock().map(|n| n.clone()).unwrap_or_default();
        let mut err = std::io::stderr();
        // A prompt may have hidden the cursor.
        if std::io::IsTerminal::is_terminal(&err) {
            let _ = std::io::Write::write_all(&mut err, b"\x1b[?25h");
        }
        if !note.is_empty() {
            let _ = std::io::Write::write_all(&mut err, format!("{note}\n").as_bytes());
        }
        std::process::exit(130);
    });
    // Help and usage errors wrap to the terminal's width, 80 columns off a terminal (clap's
    // own default would be 100).
    let matches = Cli::command().term_width(ui::width()).get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let mut ui = Ui::new(cli.color);
    let result = match &cli.directory {
        Some(dir) => std::env::set_current_dir(dir).map_err(|e| {
            CommandError::user(
                anyhow::Error::new(e).context(format!("cannot change to {}", dir.display())),
            )
        }),
        None => Ok(()),
    }
    .and_then(|()| run(cli.command, &mut ui));
    for cache in regraft::analysis::history::take_damaged_caches() {
        ui.status(&format!(
            "warning: the cache {} was damaged: its unreadable records were dropped, computed \
             again and the file written afresh",
            cache.display()
        ));
    }
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e.error) => ExitCode::SUCCESS,
        Err(e) => {
            // The chain may echo arguments, names and subjects: no control character of
            // theirs reaches the terminal.
            ui.error(&visible(&format!("{:#}", e.error)));
            if let Some(hint) = &e.hint {
                ui.hint(&visible(hint));
            }
            match e.kind {
                ErrorKind::User => ExitCode::from(2),
                ErrorKind::Internal => ExitCode::from(1),
                ErrorKind::Findings => ExitCode::from(FINDINGS),
            }
        }
    }
}

fn run(command: Command, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    match command {
        Command::Abandon(args) => abandon::run(args, ui),
        Command::Backport(args) => backport::run(args, ui),
        Command::Compare(args) => compare::run(args, ui),
        Command::Delta(args) => delta::run(args, ui),
        Command::Deps(args) => deps::run(args, ui),
        Command::Demo(args) => demo::run(args, ui),
        Command::Eol(args) => eol::run(args, ui),
        Command::Forecast(args) => forecast::run(args, ui),
        Command::Guide(args) => guide::run(args, ui),
        Command::Log(args) => log::run(args, ui),
        Command::Missed(args) => missed::run(args, ui),
        Command::Notice(args) => notice::run(args, ui),
        Command::Policy(args) => policy::run(args, ui),
        Command::Replace(args) => replace::run(args, ui),
        Command::Restore(args) => abandon::restore(args, ui),
        Command::Run(args) => run::run(args, ui),
        Command::Status(args) => status::run(args, ui),
        Command::Sync(args) => sync::run(args, ui),
        Command::Undo(args) => undo::run(args, ui),
        Command::Verify(args) => verify::run(args, ui),
        Command::Completions(args) => completions::run(args, ui, Cli::command()),
        Command::Man(args) => man::run(args, ui, Cli::command()),
    }
}

/// Tells whether the error is stdout closing under us (`git regraft delta | head`), which
/// is not a failure.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes `value` as pretty JSON and a newline to stdout: the one way commands emit data.
pub fn write_json(ui: &Ui, value: &impl serde::Serialize) -> Result<(), CommandError> {
    use std::io::Write;
    // Standard output is line-buffered: unbuffered here, a delta's 30,000 lines of JSON
    // were 30,000 writes.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, ui.out());
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| match e.io_error_kind() {
        // Keep the io::Error visible so a closed pipe is recognised as such.
        Some(kind) => CommandError::internal(std::io::Error::new(kind, e)),
        None => CommandError::internal(e),
    })?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Reads `--policy FILE`/`--phase NAME` into a policy check (none when neither is given;
/// OpenStack's policy and its default phase fill in the one missing).
pub fn policy_check(
    file: Option<&std::path::Path>,
    phase: Option<&str>,
) -> Result<Option<regraft::analysis::backport::PolicyCheck>, CommandError> {
    if file.is_none() && phase.is_none() {
        return Ok(None);
    }
    let policy = regraft::analysis::policy::load(file)?;
    let phase = phase.map_or_else(|| policy.default_phase.clone(), str::to_string);
    policy.phase(&phase)?;
    Ok(Some(regraft::analysis::backport::PolicyCheck {
        policy: std::sync::Arc::new(policy),
        phase,
    }))
}

/// Returns the directory commands work in.
pub fn current_dir() -> Result<PathBuf, CommandError> {
    std::env::current_dir().map_err(CommandError::internal)
}
