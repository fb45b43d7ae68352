//! `git regraft log`: every regraft operation in this repository, newest first.

use std::io::Write;
use std::process::ExitCode;

use regraft::git::repo::Repo;
use regraft::surgery::oplog::{self, Entry, Line, RefChange, ReviewAction};
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft log
  git regraft log -n 5
  git regraft log --json | jq '.[0].remote_refs'
  git regraft undo 4                 show what undoing #4 puts back";

/// List every regraft operation in this repository, newest first
///
/// Each operation (replace, eol, an --abort, sync, abandon, restore, undo) with its number,
/// when it ended, and what it changed: the refs on the remote, the local refs, and the
/// reviews on the review server. `git regraft undo N` takes operation N back. An operation
/// in progress is shown first; a line of the log that cannot be read is listed as such and
/// kept. Changes nothing.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Show only the N newest operations
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    max_count: Option<usize>,
    /// Print the operations as JSON, newest first (schema in docs/log.md)
    #[arg(long)]
    json: bool,
}

/// An operation as `--json` prints it.
#[derive(Debug, serde::Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    entry: Option<&'a Entry>,
    /// For a line that cannot be read: its number and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    unreadable: Option<Unreadable<'a>>,
    /// The undo that took it back, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    undone_by: Option<u64>,
}

#[derive(Debug, serde::Serialize)]
struct Unreadable<'a> {
    id: u64,
    problem: &'a str,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    let lines = oplog::read(&repo).map_err(|e| {
        CommandError::internal(
            anyhow::Error::new(e).context(format!("reading {}", oplog::path(&repo).display())),
        )
    })?;
    let undone = oplog::undone_by(&lines);
    let newest: Vec<&Line> =
        lines.iter().rev().take(args.max_count.unwrap_or(usize::MAX)).collect();
    if args.json {
        let shown: Vec<Shown> = newest
            .iter()
            .map(|line| match line {
                Line::Entry(e) => Shown {
                    entry: Some(e),
                    unreadable: None,
                    undone_by: undone.get(&e.id).copied(),
                },
                Line::Unreadable { id, problem } => Shown {
                    entry: None,
                    unreadable: Some(Unreadable { id: *id, problem }),
                    undone_by: None,
                },
            })
            .collect();
        super::write_json(ui, &shown)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = ui.human();
    let width = super::ui::width();
    if let Ok(Some(progress)) = regraft::surgery::operation::in_progress(&repo) {
        let line = format!(
            "in progress: {} (`git regraft status` says how to finish or undo it)",
            visible_line(&progress.plan.operation)
        );
        writeln!(out, "{}\n", super::ui::wrap(&line, width, 0, 4))?;
    }
    if lines.is_empty() {
        writeln!(out, "No regraft operation has changed anything in this repository yet.")?;
        return Ok(ExitCode::SUCCESS);
    }
    for line in newest {
        match line {
            Line::Unreadable { id, problem } => {
                let text = format!(
                    "#{id}  (this line of {} cannot be read: {}; it is kept as it is)",
                    oplog::path(&repo).display(),
                    visible_line(problem)
                );
                writeln!(out, "{}", super::ui::wrap(&text, width, 0, 4))?;
            }
            Line::Entry(entry) => render(&mut out, entry, undone.get(&entry.id).copied(), width)?,
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn short(value: Option<regraft::ObjectId>) -> String {
    value.map_or("nothing".to_string(), |v| v.short())
}

fn change(place: &str, c: &RefChange) -> String {
    let name = visible_line(c.reference.strip_prefix("refs/heads/").unwrap_or(&c.reference));
    match (c.old, c.new) {
        (None, Some(new)) => format!("{place} {name}: created at {}", new.short()),
        (Some(old), None) => format!("{place} {name}: deleted (was {})", old.short()),
        (old, new) => format!("{place} {name}: {} -> {}", short(old), short(new)),
    }
}

fn render(
    out: &mut impl Write,
    entry: &Entry,
    undone_by: Option<u64>,
    width: usize,
) -> std::io::Result<()> {
    let mut head =
        format!("#{}  {}  {}", entry.id, super::ui::date_time(entry.at), visible_line(&entry.what));
    if let Some(by) = undone_by {
        head.push_str(&format!(" (undone by #{by})"));
    }
    writeln!(out, "{}", super::ui::wrap(&head, width, 0, 4))?;
    let remote = entry.remote.as_deref().unwrap_or("remote");
    let mut lines: Vec<String> = entry.remote_refs.iter().map(|c| change(remote, c)).collect();
    lines.extend(entry.local_refs.iter().map(|c| change("local", c)));
    for review in &entry.reviews {
        let numbers: Vec<String> = review.numbers.iter().map(u64::to_string).collect();
        let server = review.server.as_ref().map_or(String::new(), |s| format!(" at {s}"));
        lines.push(match review.action {
            ReviewAction::Abandoned => format!(
                "reviews {} on {} of {}{server}: abandoned",
                numbers.join(", "),
                review.branch,
                review.project
            ),
            ReviewAction::Restored => format!(
                "reviews {} on {} of {}{server}: restored",
                numbers.join(", "),
                review.branch,
                review.project
            ),
            ReviewAction::PushedForReview => format!("pushed for review: {}", review.branch),
        });
    }
    for line in lines {
        writeln!(out, "    {}", super::ui::wrap(&visible_line(&line), width, 4, 8))?;
    }
    Ok(())
}
