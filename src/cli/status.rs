//! `git regraft status`: what is in progress, at which step, what the remote holds now,
//! and the one command to continue or abort.

use std::io::Write;
use std::process::ExitCode;

use regraft::git::repo::Repo;
use regraft::surgery::status::{self, Status, StepState};
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft status
  git regraft status --json | jq -r .next";

/// Show what regraft operation is in progress and the command that finishes or undoes it
///
/// Reads the journal of a replace, eol or playbook run (the steps done, the one started and
/// not seen to finish), asks the remote once what it holds now for every ref the plan
/// touches, and reads a backport's state and the abandoned-review record. Changes nothing
/// and takes no lock. Exits 0 whether or not something is in progress.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Print the status as JSON (schema in docs/status.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    let status = status::status(&repo)?;
    if args.json {
        super::write_json(ui, &status)?;
    } else {
        render(&mut ui.human(), &status)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn short(value: Option<regraft::ObjectId>) -> String {
    value.map_or("(none)".to_string(), |v| v.short())
}

fn render(out: &mut impl Write, status: &Status) -> std::io::Result<()> {
    if status.is_idle() {
        writeln!(out, "Nothing in progress.")?;
    }
    if let Some(op) = &status.operation {
        let what = if op.aborting { "an --abort in progress of" } else { "in progress:" };
        writeln!(out, "{what} {}", visible_line(&op.operation))?;
        writeln!(out, "journal: {}", op.journal.display())?;
        for (n, step) in op.steps.iter().enumerate() {
            let note = match (step.state, &step.reason) {
                (StepState::Started, _) if step.error.is_some() => format!(
                    " (started; its call failed, so the host may or may not have done it)\n               failed: {}\n               --continue tries it again once the host answers; --abort undoes what the operation did",
                    visible_line(step.error.as_deref().unwrap_or_default())
                ),
                (StepState::Started, _) => {
                    " (started, not seen to finish: it may or may not have changed the remote)"
                        .to_string()
                }
                (StepState::Refused, reason) => format!(
                    "\n               refused by the server: {}; it changed nothing",
                    visible_line(reason.as_deref().unwrap_or("no reason given"))
                ),
                _ => String::new(),
            };
            writeln!(
                out,
                "  {:<8} {:>2}. {}{note}",
                step.state.name(),
                n + 1,
                visible_line(&step.description)
            )?;
        }
        match &op.remote_unreachable {
            Some(problem) => {
                writeln!(out, "{} now: unreachable ({problem})", op.remote)?;
                writeln!(
                    out,
                    "  --continue and --abort need it: bring it back (`git remote add {0} URL` or `git remote set-url {0} URL`) first",
                    op.remote
                )?;
            }
            None => writeln!(out, "{} now:", op.remote)?,
        }
        for value in &op.remote_now {
            writeln!(out, "  {:<40} {}", value.reference, short(value.value))?;
        }
        if let Some(restore) = &op.restores {
            writeln!(out, "old tip of {}: {}", restore.reference, short(restore.value))?;
        }
    }
    if let Some(bad) = &status.unreadable_journal {
        writeln!(out, "in progress, with a journal that cannot be read:")?;
        writeln!(out, "  {}", visible_line(&bad.message))?;
        writeln!(
            out,
            "  `git regraft replace --abort` moves it aside (keeping it) and changes nothing on the remote"
        )?;
    }
    if let Some(bp) = &status.backport {
        writeln!(out, "backport in progress: {} (onto {})", bp.branch, bp.target)?;
        writeln!(out, "state: {}", bp.state.display())?;
        writeln!(out, "  {} picks, {} left out", bp.picks, bp.skipped)?;
        if let Some(commit) = bp.conflicted {
            writeln!(
                out,
                "  stopped at a conflict in {}: resolve it and `git add` the files first",
                commit.short()
            )?;
        }
        if let Some(worktree) = &bp.worktree {
            writeln!(out, "  runs in the worktree {}", worktree.display())?;
        }
    }
    if let Some(bad) = &status.unreadable_backport {
        writeln!(out, "a backport state that cannot be read: {}", visible_line(&bad.to_string()))?;
    }
    if let Some(run) = &status.playbook_run {
        writeln!(out, "playbook run not finished: {} ({})", run.playbook, run.file.display())?;
        for (name, value) in &run.values {
            writeln!(out, "  {name} = {value}")?;
        }
        for part in &run.repositories {
            let step = part.step.as_ref().map_or(String::new(), |s| format!(": at {s}"));
            writeln!(out, "  {:<12} {}{step}", part.state.name(), part.repository)?;
        }
    }
    for ab in &status.abandoned {
        writeln!(
            out,
            "abandoned: {} reviews on {} of {} at {} (`git regraft restore --from-journal` brings them back)",
            ab.reviews,
            visible_line(&ab.branch),
            visible_line(&ab.project),
            visible_line(&ab.gerrit.to_string())
        )?;
    }
    if let Some(next) = &status.next {
        writeln!(out)?;
        let next = visible_line(next);
        let refused = status.operation.as_ref().is_some_and(|op| op.refused);
        match &status.or {
            Some(or) if refused => writeln!(
                out,
                "next: {next}   (or, once the server allows that step: {})",
                visible_line(or)
            )?,
            Some(or) => writeln!(out, "next: {next}   (or undo it: {})", visible_line(or))?,
            None => writeln!(out, "next: {next}")?,
        }
    }
    Ok(())
}

/// Refuses to start a new surgery (or to announce one) while a replace, eol or playbook
/// run is in progress, saying which, at which step, what the remote holds now, and the one
/// command that finishes it, instead of whatever the new plan would stumble on.
pub fn refuse_if_in_progress(repo: &Repo) -> Result<(), CommandError> {
    let Ok(status) = status::status(repo) else { return Ok(()) };
    let next = status.next.clone().unwrap_or_else(|| "git regraft status".into());
    let refused = status.operation.as_ref().is_some_and(|op| op.refused);
    let hint = match &status.or {
        Some(or) if refused => format!(
            "the server refused a step: `{next}` undoes what it did, `{or}` tries it again once \
             the server allows it; `git regraft status` shows it all"
        ),
        Some(or) => format!(
            "`{next}` finishes it, `{or}` undoes what it did; `git regraft status` shows it all"
        ),
        None => format!("`{next}`; `git regraft status` shows it all"),
    };
    if let Some(op) = &status.operation {
        let total = op.steps.len();
        let done = op.steps_done();
        let at = op
            .steps
            .iter()
            .find(|s| s.state != StepState::Done)
            .map(|s| format!(", at step {} of {total}: {}", done + 1, s.description))
            .unwrap_or_default();
        let now: Vec<String> = op
            .remote_now
            .iter()
            .filter(|r| r.reference.starts_with("refs/heads/"))
            .map(|r| format!("{} {} is {}", op.remote, r.reference, short(r.value)))
            .collect();
        let now = if now.is_empty() { String::new() } else { format!("; now {}", now.join(", ")) };
        let what = if op.aborting { "an --abort is in progress of" } else { "in progress:" };
        return Err(CommandError::user(anyhow::anyhow!(
            "{what} {} ({done} of {total} steps done{at}){now}",
            op.operation
        ))
        .with_hint(&hint));
    }
    if let Some(bad) = &status.unreadable_journal {
        return Err(CommandError::user(anyhow::anyhow!("{}", bad.message)).with_hint(&hint));
    }
    Ok(())
}
