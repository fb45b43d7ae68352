//! `git regraft run`: a playbook, through the same plans and journal as `replace`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use std::io::Write;

use regraft::git::repo::Repo;
use regraft::review::HostFactory;
use regraft::surgery::operation::{self, Plan};
use regraft::surgery::playbook::{self, Playbook};
use regraft::surgery::playbook_run::{self, PartState};
use regraft::text::visible::visible;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft run eol-branch --var series=liberty
  git regraft run eom-to-unmaintained --var series=victoria --execute
  git regraft run replace-stable-branch --var branch=stable/liberty \\
      --var source=origin/stable/mitaka --var strategy=recreate
  git regraft run eol-branch --print > my-eol.toml   # to start your own

Built in: eol-branch, eom-to-unmaintained, replace-stable-branch,
kolla-liberty-2016.";

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
    /// The playbook: a file, or the name of a built-in one (see below)
    playbook: PathBuf,
    /// Print the playbook's text (a built-in one's, to start your own) and do nothing else
    #[arg(long, conflicts_with_all = ["execute", "json"])]
    print: bool,
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
    #[command(flatten)]
    timeout: super::timeout::TimeoutArgs,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let values: BTreeMap<String, String> = args.vars.into_iter().collect();
    // A file first; a name no file has is a built-in playbook's.
    let name = args.playbook.to_string_lossy().into_owned();
    let built_in = (!args.playbook.exists()).then(|| playbook::built_in(&name)).flatten();
    if args.print {
        let text = match built_in {
            Some((_, text)) => text.to_string(),
            None => std::fs::read_to_string(&args.playbook).map_err(|e| {
                CommandError::user(anyhow::anyhow!("{}: {e}", args.playbook.display()))
            })?,
        };
        ui.out().write_all(text.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let book = match built_in {
        // Named by its name, so a later `status` says `git regraft run NAME` to finish it.
        Some((name, text)) => playbook::parse(&PathBuf::from(name), text, &values)?,
        None if !args.playbook.exists() => {
            let known: Vec<&str> = playbook::BUILT_IN.iter().map(|(n, _)| *n).collect();
            return Err(CommandError::user(anyhow::anyhow!(
                "{}: no such file, nor a built-in playbook ({})",
                visible(&name),
                known.join(", ")
            )));
        }
        None => playbook::load(&args.playbook, &values)?,
    };
    let hosts = args.timeout.connector(ui);
    let parts = parts_of(&book, &hosts)?;
    if args.json {
        let all: Vec<_> = parts.iter().filter_map(|p| p.plan()).collect();
        super::write_json(ui, &all)?;
        if !args.execute {
            refuse_if_denied(&parts)?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    ui.status(&visible(&format!("playbook {}: {}", book.name, book.description)));
    for part in &parts {
        match &part.todo {
            Todo::Done => writeln!(
                ui.human(),
                "{}: done by an earlier run of this playbook; skipped",
                part.repository
            )?,
            Todo::Resume(plan) => {
                writeln!(
                    ui.human(),
                    "{}: half done by an earlier run of this playbook; it resumes:",
                    part.repository
                )?;
                render_part(ui, &part.repo, plan, args.execute)?;
            }
            Todo::Run(plan) => render_part(ui, &part.repo, plan, args.execute)?,
        }
    }
    if !args.execute {
        writeln!(
            ui.human(),
            "\nThis was a dry run: nothing changed. Run again with --execute to do it."
        )?;
        refuse_if_denied(&parts)?;
        return Ok(ExitCode::SUCCESS);
    }
    refuse_if_denied(&parts)?;
    super::surgery::confirm(
        &format!("run playbook {} on {} repositories", book.name, parts.len()),
        args.yes,
    )?;
    execute_parts(ui, &hosts, &book, &parts, None)
}

fn render_part(ui: &Ui, repo: &Repo, plan: &Plan, execute: bool) -> Result<(), CommandError> {
    if execute {
        super::surgery::render(&mut ui.human(), plan)?;
    } else {
        let now = regraft::surgery::assess::assess(repo, plan).ok();
        super::surgery::render_now(&mut ui.human(), plan, now.as_deref())?;
    }
    Ok(())
}

/// Refuses the run when a review server's rights refuse a repository's plan (exit 3),
/// before anything in any repository runs.
fn refuse_if_denied(parts: &[Part]) -> Result<(), CommandError> {
    for part in parts {
        if let Some(plan) = part.plan() {
            super::surgery::refuse_if_denied(plan)?;
        }
    }
    Ok(())
}

/// One repository's part of a playbook run.
#[derive(Debug)]
pub(super) struct Part {
    pub repo: Repo,
    /// The repository as the playbook names it.
    pub repository: String,
    pub todo: Todo,
}

/// What is left of a repository's part.
#[derive(Debug)]
pub(super) enum Todo {
    /// Every step was done by an earlier run of the same playbook.
    Done,
    /// An earlier run of the same playbook stopped in it: its journal's plan resumes.
    Resume(Plan),
    /// Its plan runs from the first step.
    Run(Plan),
}

impl Part {
    /// Returns the plan still to run, if any.
    pub fn plan(&self) -> Option<&Plan> {
        match &self.todo {
            Todo::Done => None,
            Todo::Resume(plan) | Todo::Run(plan) => Some(plan),
        }
    }

    /// Returns the plan still to run, if any, to change before it runs.
    pub fn plan_mut(&mut self) -> Option<&mut Plan> {
        match &mut self.todo {
            Todo::Done => None,
            Todo::Resume(plan) | Todo::Run(plan) => Some(plan),
        }
    }
}

/// Makes every repository's part of `book`, before anything runs: bad input anywhere
/// changes nothing. A repository an earlier run of the same playbook (same file and
/// values) finished is skipped; one it left half done resumes from its journal.
pub(super) fn parts_of(
    book: &Playbook,
    hosts: &dyn HostFactory,
) -> Result<Vec<Part>, CommandError> {
    let start = super::current_dir()?;
    let run = book.run_id();
    let mut parts = Vec::new();
    for repository in &book.repositories {
        let repo = Repo::discover(&start.join(repository))?;
        let earlier = playbook_run::state_in(&repo, &run)?;
        let journal = operation::in_progress(&repo).ok().flatten();
        let todo = match (earlier, journal) {
            (Some(PartState::Done), _) => Todo::Done,
            (Some(PartState::Pending), Some(progress))
                if progress.plan.operation == book.operation_in(repository)
                    && !progress.aborting =>
            {
                Todo::Resume(progress.plan)
            }
            _ => {
                super::status::refuse_if_in_progress(&repo)?;
                Todo::Run(book.plan(&repo, hosts, repository).map_err(plan_error)?)
            }
        };
        parts.push(Part { repo, repository: repository.clone(), todo });
    }
    Ok(parts)
}

/// A plan a forge's rules refuse is a finding (exit 3), as in `replace`; the rest as any
/// engine error.
fn plan_error(error: playbook::PlaybookError) -> CommandError {
    use regraft::surgery::review_host::{PROTECTION_HINT, RulesError};
    match error {
        playbook::PlaybookError::Rules { repository, source } => match *source {
            RulesError::Refused(refusal) => CommandError::findings(
                anyhow::Error::new(refusal).context(format!("in {repository}")),
            )
            .with_hint(PROTECTION_HINT),
            other => CommandError::from(playbook::PlaybookError::Rules {
                repository,
                source: Box::new(other),
            }),
        },
        other => CommandError::from(other),
    }
}

/// Carries out `parts` (confirmed already), each with its journal, recording in every
/// repository how its part stands so that a killed run is finished by running the playbook
/// again; with `fitted` (the guide), each step done is wrapped to that width.
pub(super) fn execute_parts(
    ui: &Ui,
    hosts: &dyn HostFactory,
    book: &Playbook,
    parts: &[Part],
    fitted: Option<usize>,
) -> Result<ExitCode, CommandError> {
    // The guide comes here too: a plan the server's rights refuse never starts.
    refuse_if_denied(parts)?;
    let run = book.run_id();
    let repositories: Vec<(String, PathBuf)> =
        parts.iter().map(|p| (p.repository.clone(), p.repo.state_dir())).collect();
    // Before anything runs, every repository says which run it belongs to.
    for part in parts.iter().filter(|p| p.plan().is_some()) {
        playbook_run::write(&part.repo, &run, &repositories, PartState::Pending)?;
    }
    let todo: Vec<&Part> = parts.iter().filter(|p| p.plan().is_some()).collect();
    // Repositories run one after another, or `parallel` at once when the playbook says so.
    for chunk in todo.chunks(book.parallel.max(1)) {
        let results: Vec<Result<(), CommandError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|part| {
                    let dir = part.repo.git_dir().to_path_buf();
                    let (run, repositories) = (&run, &repositories);
                    // The plan to run from its start; `None` resumes the journal's.
                    let fresh = match &part.todo {
                        Todo::Run(plan) => Some(plan.clone()),
                        Todo::Resume(_) | Todo::Done => None,
                    };
                    scope.spawn(move || {
                        // Each worker opens its own handle: a repository handle is not shared
                        // between threads.
                        let repo = Repo::discover(&dir)?;
                        let mut report = |step: &operation::Step, status| {
                            let done = super::surgery::step_line(step, status);
                            let width = fitted.unwrap_or_else(super::ui::stderr_width);
                            eprintln!("{}", super::ui::wrap(&done, width, 0, 4));
                        };
                        match fresh {
                            Some(plan) => operation::execute(&repo, hosts, plan, &mut report),
                            None => operation::resume(&repo, hosts, &mut report).map(drop),
                        }
                        .map_err(super::surgery::operation_error)?;
                        playbook_run::write(&repo, run, repositories, PartState::Done)?;
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a playbook worker does not panic"))
                .collect()
        });
        for result in results {
            result?;
        }
    }
    // The whole run is done: no repository needs its record any more.
    for part in parts {
        playbook_run::remove(&part.repo)?;
    }
    let n = parts.len();
    writeln!(
        ui.human(),
        "\nAll steps done and verified in {n} repositor{}.",
        if n == 1 { "y" } else { "ies" }
    )?;
    Ok(ExitCode::SUCCESS)
}
