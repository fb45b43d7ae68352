//! `git regraft run`: a playbook, through the same plans and journal as `replace`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use std::io::Write;

use regraft::git::repo::Repo;
use regraft::surgery::operation::{self, OperationError, Plan};
use regraft::surgery::playbook::{self, Playbook};

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft run playbooks/eol-branch.toml --var series=liberty
  git regraft run playbooks/eom-to-unmaintained.toml --var series=victoria --execute
  git regraft run playbooks/replace-stable-branch.toml --var branch=stable/liberty \\
      --var source=origin/stable/mitaka --var strategy=recreate";

/// Run a playbook: a declarative procedure over one or several repositories
///
/// A playbook (TOML; see docs/playbooks.md) names its variables, the repositories it
/// applies to and its steps (replace, eol, tag-tip, create-branch, delete-branch). Each
/// repository gets one plan, printed without --execute; with it, executed with a journal
/// in that repository (`git regraft replace --continue` or `--abort` there resumes or undoes
/// it). A malformed playbook is refused with file, line and column, and nothing changes.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The playbook file
    playbook: PathBuf,
    /// A variable's value (repeatable)
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Do it (after confirmation on a terminal, or with --yes)
    #[arg(long)]
    execute: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    yes: bool,
    /// Print the plans as JSON
    #[arg(long)]
    json: bool,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let values: BTreeMap<String, String> = args.vars.into_iter().collect();
    let book = playbook::load(&args.playbook, &values)?;
    let plans = plans_of(&book)?;
    if args.json {
        let all: Vec<_> = plans.iter().map(|(_, p)| p).collect();
        super::write_json(ui, &all)?;
        if !args.execute {
            return Ok(ExitCode::SUCCESS);
        }
    }
    ui.status(&format!("playbook {}: {}", book.name, book.description));
    for (repo, plan) in &plans {
        if args.execute {
            super::surgery::render(&mut ui.out(), plan)?;
        } else {
            let now = regraft::surgery::assess::assess(repo, plan).ok();
            super::surgery::render_now(&mut ui.out(), plan, now.as_deref())?;
        }
    }
    if !args.execute {
        writeln!(
            ui.out(),
            "\nThis was a dry run: nothing changed. Run again with --execute to do it."
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    super::surgery::confirm(
        &format!("run playbook {} on {} repositories", book.name, plans.len()),
        args.yes,
    )?;
    execute_plans(ui, &book, &plans, None)
}

/// Makes every repository's plan of `book`, before anything runs: bad input anywhere
/// changes nothing.
pub(super) fn plans_of(book: &Playbook) -> Result<Vec<(Repo, Plan)>, CommandError> {
    let start = super::current_dir()?;
    let mut plans = Vec::new();
    for repository in &book.repositories {
        let repo = Repo::discover(&start.join(repository))?;
        super::status::refuse_if_in_progress(&repo)?;
        let plan = book.plan(&repo, repository)?;
        plans.push((repo, plan));
    }
    Ok(plans)
}

/// Carries out `plans` (confirmed already), each with its journal; with `fitted` (the
/// guide), each step done is wrapped to that width.
pub(super) fn execute_plans(
    ui: &Ui,
    book: &Playbook,
    plans: &[(Repo, Plan)],
    fitted: Option<usize>,
) -> Result<ExitCode, CommandError> {
    // Repositories run one after another, or `parallel` at once when the playbook says so.
    for chunk in plans.chunks(book.parallel.max(1)) {
        let results: Vec<Result<(), OperationError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(repo, plan)| {
                    let (dir, plan) = (repo.git_dir().to_path_buf(), plan.clone());
                    scope.spawn(move || {
                        // Each worker opens its own handle: a repository handle is not shared
                        // between threads.
                        let repo = Repo::discover(&dir).map_err(|e| OperationError::Io {
                            path: dir.clone(),
                            source: std::io::Error::other(e.to_string()),
                        })?;
                        operation::execute(&repo, plan, &mut |step, _| {
                            let done = format!("done: {}", step.description);
                            match fitted {
                                Some(width) => eprintln!("{}", super::ui::wrap(&done, width, 0, 4)),
                                None => eprintln!("{done}"),
                            }
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a playbook worker does not panic"))
                .collect()
        });
        for result in results {
            result.map_err(super::surgery::operation_error)?;
        }
    }
    let n = plans.len();
    writeln!(
        ui.out(),
        "\nAll steps done and verified in {n} repositor{}.",
        if n == 1 { "y" } else { "ies" }
    )?;
    Ok(ExitCode::SUCCESS)
}
