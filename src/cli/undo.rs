//! `git regraft undo`: take back an operation of `git regraft log`.

use std::io::Write;
use std::process::ExitCode;

use regraft::git::repo::Repo;
use regraft::surgery::undo::{self, Undo};
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft undo                   show what undoing the last operation does
  git regraft undo --execute         do it (asks first on a terminal)
  git regraft undo 4 --execute --yes
  git regraft undo --continue        after an interruption";

/// Take back an operation of `git regraft log`: the newest, or operation OP
///
/// Puts every ref the operation changed back where it found it (on the remote, each push
/// leased: only while the ref still holds what the operation left) and restores the
/// reviews it abandoned. It is all or nothing: when anything moved since (a colleague's
/// push, a new commit on a synced branch), nothing is changed and the ref is named.
/// Without --execute it shows every step and changes nothing. An undo is an operation too:
/// undoing it puts the operation back; `undo` run again goes one further back. A sync is
/// taken back as `sync --undo` does, work tree included. Reviews restored, and what was
/// pushed for review, are not taken back: the plan says so.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The operation's number in `git regraft log` [default: the newest not undone]
    #[arg(value_name = "OP", conflicts_with_all = ["resume", "abort"])]
    operation: Option<u64>,
    /// Do it (after confirmation on a terminal, or with --yes)
    #[arg(long)]
    execute: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    yes: bool,
    /// Print the plan as JSON (the schema of `replace --json`; for a sync, its entry in the
    /// operation log, as `log --json` prints it)
    #[arg(long)]
    json: bool,
    /// Finish an undo that was interrupted
    #[arg(long = "continue", conflicts_with = "abort")]
    resume: bool,
    /// Drop an undo that was interrupted: what it put back stays so, and `git regraft log`
    /// lists it as an abort (which `undo` can take back in turn)
    #[arg(long)]
    abort: bool,
    #[command(flatten)]
    timeout: super::timeout::TimeoutArgs,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    let c = super::surgery::SurgeryArgs {
        remote: "origin".into(),
        gerrit: None,
        review_host: None,
        project: None,
        execute: args.execute,
        yes: args.yes,
        json: args.json,
        resume: args.resume,
        abort: args.abort,
        plan_out: None,
        plan: None,
        timeout: args.timeout,
    };
    if let Some(finish) = c.finish() {
        return super::surgery::resume_or_abort(ui, &repo, &c.timeout.connector(ui), finish);
    }
    super::status::refuse_if_in_progress(&repo)?;
    let entry = undo::target(&repo, args.operation)?;
    match undo::plan(&repo, &entry)? {
        Undo::Plan(plan) => {
            super::surgery::dry_run_or_execute(ui, &repo, *plan, &c).map_err(|e| {
                // Refused before it changed anything, an undo leaves nothing to finish.
                match regraft::surgery::operation::in_progress(&repo) {
                    Ok(None) => e.with_hint(format!(
                        "nothing was changed and nothing is in progress; once the cause is \
                         gone, `git regraft undo {}` plans it again (`git regraft log` shows \
                         what #{} changed)",
                        entry.id, entry.id
                    )),
                    _ => e,
                }
            })
        }
        Undo::Sync { id } => {
            // Regression: `--json` printed the human plan, then the JSON, on stdout.
            if args.json && !args.execute {
                super::write_json(ui, &entry)?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut out = ui.human();
            writeln!(out, "plan: undo of #{id} (sync), as `git regraft sync --undo` does\n")?;
            for change in &entry.local_refs {
                let name =
                    change.reference.strip_prefix("refs/heads/").unwrap_or(&change.reference);
                let (old, new) = (change.old.map(|o| o.short()), change.new.map(|n| n.short()));
                writeln!(
                    out,
                    "  put {} back at {} (only if it is still {})",
                    visible_line(name),
                    old.unwrap_or_default(),
                    new.unwrap_or_default()
                )?;
            }
            if !args.execute {
                writeln!(
                    out,
                    "\nThis was a dry run: nothing changed. Run again with --execute to do it."
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            drop(out);
            super::surgery::confirm(&format!("undo #{id} (sync)"), args.yes)?;
            super::sync::undo(ui, &repo)
        }
    }
}
