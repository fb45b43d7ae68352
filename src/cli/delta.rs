//! `git regraft delta`: what separates two branches, and what of it is already there.

use std::io::Write;
use std::process::ExitCode;

use console::Style;
use regraft::analysis::delta::{self, Delta, DeltaError, DeltaOptions, Entry, Evidence};
use regraft::git::repo::{Repo, RepoError};
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft delta stable/liberty stable/mitaka
  git regraft delta --verbose origin/stable/liberty origin/stable/mitaka
  git regraft delta --json liberty-early-demise f10a625a > delta.json";

/// Show what separates TARGET from SOURCE and what of SOURCE is already on TARGET
///
/// Lists the merge bases, the commits only on SOURCE (what a backport would bring) and
/// only on TARGET, and for each SOURCE commit whether it is already on TARGET and by which
/// evidence: the same Gerrit Change-Id, a `(cherry picked from commit X)` line naming the
/// other commit (either way), or the same stable patch-id (as `git patch-id --stable`).
///
/// TARGET and SOURCE are anything git accepts as a commit: branches, remote-tracking
/// branches, tags, full or abbreviated ids.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch to bring changes to (e.g. stable/liberty)
    target: String,
    /// The branch the changes come from (e.g. stable/mitaka)
    source: String,
    /// Print the whole delta as JSON (schema in docs/delta.md)
    #[arg(long)]
    json: bool,
    /// List every commit with its evidence
    #[arg(short, long)]
    verbose: bool,
    /// How many git processes compute patch-ids at once [default: number of cores, at most 8]
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    let mut options = DeltaOptions::default();
    if let Some(jobs) = args.jobs {
        options.jobs = jobs.max(1);
    }
    warn_ambiguous(ui, &repo, [&args.target, &args.source])?;
    let delta = delta::delta(&repo, &args.target, &args.source, &options).map_err(delta_error)?;
    if args.json {
        super::write_json(ui, &delta)?;
    } else {
        render(&mut ui.human(), ui, &delta, super::Detail::verbose(args.verbose))?;
        ui.status(&format!(
            "next: `git regraft deps {t} {s} --for REV` (what a fix needs), `git regraft compare {t} {s}` (the options, measured)",
            t = regraft::git::quote(&delta.target.name),
            s = regraft::git::quote(&delta.source.name)
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Says on stderr which reference a name that means several stands for, as git does
/// ("refname is ambiguous"), and how to name the other.
// Regression: with a tag and a branch both named `stable/liberty`, `delta` used the tag
// without a word.
pub(super) fn warn_ambiguous<'n>(
    ui: &Ui,
    repo: &Repo,
    names: impl IntoIterator<Item = &'n String>,
) -> Result<(), CommandError> {
    for name in names {
        if let [used, others @ ..] = repo.ambiguous_refname(name)?.as_slice() {
            ui.status(&format!(
                "warning: `{name}` is ambiguous: using {used}, as git does; name {} for the other",
                others.join(" or ")
            ));
        }
    }
    Ok(())
}

/// Maps an engine error to a user or internal error, with a hint where one helps.
pub fn delta_error(error: DeltaError) -> CommandError {
    let hint = match &error {
        DeltaError::Repo(RepoError::UnknownRevision { .. }) => Some(
            "a branch that lives on a remote is named like origin/stable/liberty; run `git fetch` if it is new",
        ),
        _ => None,
    };
    let error = CommandError::from(error);
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// Writes the human summary (and with [`Detail::Every`], every commit) to `out`, in `ui`'s
/// colors.
pub fn render(
    out: &mut impl Write,
    ui: &Ui,
    delta: &Delta,
    detail: super::Detail,
) -> std::io::Result<()> {
    let verbose = detail == super::Detail::Every;
    let bold = Style::new().bold();
    let (target, source) = (&delta.target, &delta.source);
    if target.commit == source.commit {
        writeln!(
            out,
            "{} and {} are the same commit ({}): nothing separates them.",
            target.name,
            source.name,
            target.commit.short()
        )?;
        return Ok(());
    }
    let s = delta.summary();
    writeln!(
        out,
        "{} {} ({}) from {} ({})",
        ui.paint(&bold, "delta"),
        target.name,
        target.commit.short(),
        source.name,
        source.commit.short()
    )?;
    let bases: Vec<String> = delta.merge_bases.iter().map(|b| b.short()).collect();
    match bases.as_slice() {
        [] => writeln!(out, "merge base: none (unrelated histories)")?,
        [one] => writeln!(out, "merge base: {one}")?,
        many => writeln!(out, "merge bases: {}", many.join(", "))?,
    }
    writeln!(out)?;
    writeln!(
        out,
        "only on {}: {} ({}, {})",
        source.name,
        count(s.source_changes + s.source_merges, "commit"),
        count(s.source_changes, "change"),
        count(s.source_merges, "merge")
    )?;
    writeln!(out, "  already on {}: {:>6}", target.name, s.present)?;
    for (by, count) in Evidence::ALL.iter().zip(s.present_by) {
        writeln!(out, "    by {:<12} {:>6}", by.name(), count)?;
    }
    let to_bring = format!("  left to bring: {:>6}", s.to_bring);
    writeln!(out, "{}", ui.paint(&bold, &to_bring))?;
    writeln!(
        out,
        "only on {}: {} ({}, {}), {} of the changes also on {}",
        target.name,
        count(s.target_changes + s.target_merges, "commit"),
        count(s.target_changes, "change"),
        count(s.target_merges, "merge"),
        s.target_present,
        source.name
    )?;
    if !delta.unresolved_references.is_empty() {
        writeln!(
            out,
            "  {} naming a commit this repository does not have",
            count(delta.unresolved_references.len(), "cherry-pick line")
        )?;
    }
    if verbose {
        writeln!(out)?;
        writeln!(out, "only on {} (oldest first):", source.name)?;
        for entry in &delta.source_only {
            write_entry(out, ui, entry)?;
        }
        writeln!(out)?;
        writeln!(out, "only on {} (oldest first):", target.name)?;
        for entry in &delta.target_only {
            write_entry(out, ui, entry)?;
        }
        for r in &delta.unresolved_references {
            writeln!(
                out,
                "unresolved: {} names {}, which is not in this repository",
                r.commit.short(),
                visible_line(&r.reference)
            )?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "+ only on this side   = also on the other side (evidence: commit)   M merge"
        )?;
    } else {
        writeln!(out)?;
        writeln!(out, "List every commit with --verbose; all data with --json.")?;
    }
    Ok(())
}

/// Returns `n thing` or `n things`.
fn count(n: usize, thing: &str) -> String {
    if n == 1 { format!("1 {thing}") } else { format!("{n} {thing}s") }
}

fn write_entry(out: &mut impl Write, ui: &Ui, entry: &Entry) -> std::io::Result<()> {
    let (mark, style) = if entry.merge {
        ("M", Style::new().dim())
    } else if entry.is_present() {
        ("=", Style::new().green())
    } else {
        ("+", Style::new().yellow())
    };
    let mut line = format!(
        "  {} {} {}",
        ui.paint(&style, mark),
        entry.commit.short(),
        visible_line(&entry.summary)
    );
    if entry.is_present() {
        let evidence: Vec<String> = entry
            .equivalents
            .iter()
            .map(|e| format!("{}: {}", e.by.name(), e.commit.short()))
            .collect();
        line.push_str(&format!("  ({})", evidence.join(", ")));
    }
    writeln!(out, "{line}")
}
