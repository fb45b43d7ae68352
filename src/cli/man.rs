//! `git regraft man`: manual pages generated from the command-line definitions.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::{CommandError, Ui};

/// Print or write the manual pages
///
/// Without --out-dir, prints git-regraft(1) in roff to stdout (`git regraft man | man -l -`).
/// With --out-dir, writes git-regraft.1 and one page per command (git-regraft-delta.1 ...).
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  git regraft man --out-dir ~/.local/share/man/man1")]
pub struct Args {
    /// Write one page per command into this directory
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub fn run(args: Args, ui: &mut Ui, command: clap::Command) -> Result<ExitCode, CommandError> {
    let command = command.name("git-regraft");
    let Some(dir) = args.out_dir else {
        clap_mangen::Man::new(command).render(&mut ui.out())?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating {}", dir.display()))
        .map_err(CommandError::user)?;
    let mut pages = vec![("git-regraft".to_string(), command.clone())];
    for sub in command.get_subcommands() {
        let name = format!("git-regraft-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut file = std::fs::File::create(&path)
            .with_context(|| format!("creating {}", path.display()))
            .map_err(CommandError::internal)?;
        clap_mangen::Man::new(page).render(&mut file)?;
        ui.status(&format!("wrote {}", path.display()));
    }
    Ok(ExitCode::SUCCESS)
}
