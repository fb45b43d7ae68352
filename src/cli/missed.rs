//! `git regraft missed`: fixes on SOURCE of commits TARGET has, that TARGET lacks.

use std::io::Write;
use std::process::ExitCode;

use regraft::analysis::delta::{DeltaOptions, Unresolved};
use regraft::analysis::missed::{self, BugStrength, Missed, Reason, ReasonKind};
use regraft::analysis::simulation::Outcome;
use regraft::git::repo::Repo;
use regraft::text::visible::{markdown_code, markdown_text, visible_line};

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft missed stable/liberty master
  git regraft missed origin/stable/2025.2 origin/master --format markdown
  git regraft missed stable/5.1.x main --json > missed.json
  git config --add regraft.bugPattern 'JIRA-([0-9]+)'
  git regraft missed stable/5.1.x main";

/// Show fixes on SOURCE of commits TARGET has that TARGET lacks
///
/// Among SOURCE's commits not on TARGET by any evidence (as `git regraft delta` finds
/// it), lists those that repair or revert a commit TARGET has: a `Fixes: <id>` trailer
/// (kernel style, in the message's last paragraph), a `This reverts commit X.` line, or a
/// bug id shared with one of TARGET's commits since the merge base or a SOURCE commit
/// present on TARGET: `Closes-Bug: #N`, `Partial-Bug: #N`, `Related-Bug: #N` (reported as
/// related, the weaker tie), `Fixes #N`, `Closes #N`, `Resolves #N`, `Fixes owner/repo#N`
/// anywhere in the message, or a pattern of the multi-valued `regraft.bugPattern` git
/// config (a regex with one capture group, the bug id).
///
/// TARGET has a commit when it is reachable from TARGET, or it is a SOURCE commit present
/// on TARGET by evidence (the TARGET commit that carries it is named). Abbreviated ids
/// resolve as `git rev-parse X^{commit}` resolves them; an ambiguous or unknown one is
/// reported as unresolved, never guessed.
///
/// Each missed fix gets its forecast: picking them all onto TARGET in SOURCE's order, as
/// one simulation (nothing is written): clean, empty, or conflict with the files.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch that may lack fixes (e.g. stable/liberty)
    target: String,
    /// The branch the fixes are on (e.g. master)
    source: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Print the answer as JSON (schema in docs/missed.md); same as --format json
    #[arg(long, conflicts_with = "format")]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Markdown,
    Json,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    super::delta::warn_ambiguous(ui, &repo, [&args.target, &args.source])?;
    let progress = super::progress::Bar::new();
    let answer =
        missed::missed(&repo, &args.target, &args.source, &DeltaOptions::default(), &progress)
            .map_err(|e| match e {
                missed::MissedError::Delta(e) => super::delta::delta_error(e),
                e => CommandError::from(e),
            })?;
    let format = if args.json { Format::Json } else { args.format };
    match format {
        Format::Json => super::write_json(ui, &answer)?,
        Format::Markdown => markdown(&mut ui.out(), &answer)?,
        Format::Table => table(&mut ui.human(), &answer)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn outcome(fix: &missed::MissedFix) -> String {
    match fix.outcome {
        Outcome::Clean => "clean".to_string(),
        Outcome::Empty => "empty".to_string(),
        Outcome::Conflict => format!("conflict: {}", fix.conflicts.join(", ")),
    }
}

fn reason(r: &Reason) -> String {
    let at = r.target_commit.short();
    match r.kind {
        ReasonKind::Fixes => {
            format!("fixes {} (on target as {at})", r.id.as_deref().unwrap_or_default())
        }
        ReasonKind::Reverts => {
            format!("reverts {} (on target as {at})", r.id.as_deref().unwrap_or_default())
        }
        ReasonKind::Bug => {
            let related = if r.strength == Some(BugStrength::Related) { ", related" } else { "" };
            format!("bug {} shared with {at}{related}", r.bug.as_deref().unwrap_or_default())
        }
    }
}

fn why(w: Unresolved) -> &'static str {
    match w {
        Unresolved::Missing => "no such commit",
        Unresolved::Ambiguous => "ambiguous",
    }
}

fn kind(k: ReasonKind) -> &'static str {
    match k {
        ReasonKind::Fixes => "Fixes:",
        ReasonKind::Reverts => "reverts",
        ReasonKind::Bug => "bug",
    }
}

/// The human table: one line a fix (id, outcome, subject), its evidence indented below.
pub fn table(out: &mut impl Write, m: &Missed) -> std::io::Result<()> {
    writeln!(
        out,
        "missed {} ({}) from {} ({}): {} of {} commits not on the target are fixes it lacks",
        visible_line(&m.target.name),
        m.target.commit.short(),
        visible_line(&m.source.name),
        m.source.commit.short(),
        m.missed.len(),
        m.candidates
    )?;
    if !m.missed.is_empty() {
        writeln!(out)?;
        writeln!(out, "{:<10}  {:<8}  subject", "commit", "outcome")?;
    }
    for fix in &m.missed {
        let word = match fix.outcome {
            Outcome::Clean => "clean",
            Outcome::Empty => "empty",
            Outcome::Conflict => "conflict",
        };
        let subject: String = visible_line(&fix.summary).chars().take(56).collect();
        writeln!(out, "{:<10}  {:<8}  {subject}", fix.commit.short(), word)?;
        for r in &fix.reasons {
            writeln!(out, "            - {}", reason(r))?;
        }
        if fix.outcome == Outcome::Conflict {
            writeln!(out, "            - conflicts: {}", visible_line(&fix.conflicts.join(", ")))?;
        }
    }
    if !m.unresolved.is_empty() {
        writeln!(out)?;
        writeln!(out, "Unresolved references (not guessed):")?;
        for u in &m.unresolved {
            writeln!(
                out,
                "- {} {} {}: {}",
                u.commit.short(),
                kind(u.kind),
                visible_line(&u.reference),
                why(u.why)
            )?;
        }
    }
    Ok(())
}

/// The Markdown list: a table of the fixes, then the unresolved references.
pub fn markdown(out: &mut impl Write, m: &Missed) -> std::io::Result<()> {
    writeln!(
        out,
        "## Missed fixes: {} from {}\n",
        markdown_code(&m.target.name),
        markdown_code(&m.source.name)
    )?;
    if m.missed.is_empty() {
        writeln!(out, "None of the {} commits not on the target is a fix it lacks.", m.candidates)?;
    } else {
        writeln!(out, "| Commit | Subject | Evidence | Forecast |")?;
        writeln!(out, "|---|---|---|---|")?;
        for fix in &m.missed {
            let evidence: Vec<String> = fix.reasons.iter().map(reason).collect();
            writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                fix.commit.short(),
                markdown_text(&fix.summary),
                markdown_text(&evidence.join("; ")),
                markdown_text(&outcome(fix))
            )?;
        }
    }
    if !m.unresolved.is_empty() {
        writeln!(out, "\nUnresolved references (not guessed):\n")?;
        for u in &m.unresolved {
            writeln!(
                out,
                "- `{}` {} {}: {}",
                u.commit.short(),
                kind(u.kind),
                markdown_code(&u.reference),
                why(u.why)
            )?;
        }
    }
    Ok(())
}
