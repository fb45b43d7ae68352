//! `git regraft completions`: shell completion scripts.

use std::process::ExitCode;

use super::{CommandError, Ui};

/// Print a shell completion script
///
/// Writes the script for SHELL to stdout. For bash, for instance:
///
///   git regraft completions bash > ~/.local/share/bash-completion/completions/git-regraft
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git regraft completions zsh > ~/.zfunc/_git-regraft")]
pub struct Args {
    /// The shell to write completions for
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn run(args: Args, ui: &mut Ui, mut command: clap::Command) -> Result<ExitCode, CommandError> {
    clap_complete::generate(args.shell, &mut command, "git-regraft", &mut ui.out());
    Ok(ExitCode::SUCCESS)
}
