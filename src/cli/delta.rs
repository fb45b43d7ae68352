//! `git regraft delta`: what separates two branches, and what of it is already there.

use std::io::Write;
use std::process::ExitCode;

use console::Style;
use regraft::analysis::delta::{
    self, Delta, DeltaError, DeltaOptions, Entry, Evidence, Unresolved,
};
use regraft::git::repo::{Repo, RepoError};
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft delta stable/liberty stable/mitaka
  git regraft delta --verbose origin/stable/liberty origin/stable/mitaka
  git regraft delta --json liberty-early-demise f10a625a > delta.json
  git config --add regraft.provenance '^Upstream-Id: ([0-9a-f]+)$'
  git regraft delta --verbose stable/5.1.x main";

/// Show what separates TARGET from SOURCE and what of SOURCE is already on TARGET
///
/// Lists the merge bases, the commits only on SOURCE (what a backport would bring) and
/// only on TARGET, and for each SOURCE commit whether it is already on TARGET and by which
/// evidence: the same Gerrit Change-Id, a `(cherry picked from commit X)` line naming the
/// other commit (either way), another provenance marker (`commit X upstream.`,
/// `[ Upstream commit X ]`, `Backport of X from main`, or a pattern of the multi-valued
/// `regraft.provenance` git config with one capture group for the commit), or the same
/// stable patch-id (as `git patch-id --stable`). Abbreviated ids resolve as
/// `git rev-parse X^{commit}` resolves them; an ambiguous one is reported, not guessed.
///
/// TARGET's commits in history both sides share count too (an LTS branch merged forward
/// into the main line). A change present on TARGET and then reverted there (by a commit
/// SOURCE lacks) is left to bring. A subject-only match is a hint, never evidence.
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
    #[command(flatten)]
    jobs: JobsArg,
}

/// `--jobs`, for every command that reads a delta.
#[derive(Debug, clap::Args)]
pub struct JobsArg {
    /// How many git processes compute patch-ids at once [default: number of cores, at most 8]
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

impl JobsArg {
    /// The delta's options, with `--jobs` applied (0 reads as 1).
    pub fn options(&self) -> DeltaOptions {
        let mut options = DeltaOptions::default();
        if let Some(jobs) = self.jobs {
            options.jobs = jobs.max(1);
        }
        options
    }
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    let options = args.jobs.options();
    warn_ambiguous(ui, &repo, [&args.target, &args.source])?;
    let delta = delta::delta(&repo, &args.target, &args.source, &options).map_err(delta_error)?;
    if args.json {
        super::write_json(ui, &delta)?;
    } else {
        render(&mut ui.human(), ui, &delta, super::Detail::verbose(args.verbose))?;
    }
    // Regression: with both sides one commit, delta suggested `deps X X` and `compare X X`.
    if !args.json && delta.target.commit != delta.source.commit {
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
    if s.adapted > 0 {
        writeln!(out, "    {:<15} {:>6}  (present, another patch)", "adapted", s.adapted)?;
    }
    let to_bring = format!("  left to bring: {:>6}", s.to_bring);
    writeln!(out, "{}", ui.paint(&bold, &to_bring))?;
    if s.reverted_on_target > 0 {
        writeln!(out, "    present, then reverted on {}: {}", target.name, s.reverted_on_target)?;
    }
    if s.possibly_present > 0 {
        writeln!(out, "    possibly present (same subject only): {}", s.possibly_present)?;
    }
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
    let ambiguous =
        delta.unresolved_references.iter().filter(|r| r.why == Unresolved::Ambiguous).count();
    let missing = delta.unresolved_references.len() - ambiguous;
    if missing > 0 {
        writeln!(
            out,
            "  {} naming a commit this repository does not have",
            count(missing, "provenance line")
        )?;
    }
    if ambiguous > 0 {
        writeln!(
            out,
            "  {} naming an abbreviated id that stands for several commits",
            count(ambiguous, "provenance line")
        )?;
    }
    if let Some(fork) = delta.shared_since {
        writeln!(
            out,
            "  {} of {}'s commits since {} are shared (forward merges)",
            delta.shared_commits,
            target.name,
            fork.short()
        )?;
    }
    if verbose {
        writeln!(out)?;
        writeln!(out, "only on {} (oldest first):", source.name)?;
        for entry in &delta.source_only {
            write_entry(out, ui, entry, &target.name)?;
        }
        writeln!(out)?;
        writeln!(out, "only on {} (oldest first):", target.name)?;
        for entry in &delta.target_only {
            write_entry(out, ui, entry, &target.name)?;
        }
        for r in &delta.unresolved_references {
            let why = match r.why {
                Unresolved::Missing => "which is not in this repository",
                Unresolved::Ambiguous => "which is ambiguous (git would not choose)",
            };
            writeln!(
                out,
                "unresolved: {} names {}, {why}",
                r.commit.short(),
                visible_line(&r.reference)
            )?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "+ only on this side   = also on the other side (evidence: commit)   M merge"
        )?;
        writeln!(out, "~ present (adapted): on the other side with another patch")?;
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

/// Returns `line` with every run of more than 12 hex digits cut to 10, as ids are shown.
fn short_ids(line: &str) -> String {
    let mut out = String::new();
    for word in line.split_inclusive(|c: char| !c.is_ascii_hexdigit()) {
        let hex = word.trim_end_matches(|c: char| !c.is_ascii_hexdigit());
        if hex.len() > 12 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            out.push_str(&hex[..10]);
            out.push_str(&word[hex.len()..]);
        } else {
            out.push_str(word);
        }
    }
    out
}

fn write_entry(out: &mut impl Write, ui: &Ui, entry: &Entry, target: &str) -> std::io::Result<()> {
    let (mark, style) = if entry.merge {
        ("M", Style::new().dim())
    } else if entry.is_adapted() {
        ("~", Style::new().green())
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
    if !entry.equivalents.is_empty() {
        let evidence: Vec<String> = entry
            .equivalents
            .iter()
            .map(|e| {
                let shared = if e.shared { ", shared" } else { "" };
                match &e.marker {
                    Some(marker) => format!(
                        "marker `{}`: {}{shared}",
                        visible_line(&short_ids(marker)),
                        e.commit.short()
                    ),
                    None => format!("{}: {}{shared}", e.by.name(), e.commit.short()),
                }
            })
            .collect();
        line.push_str(&format!("  ({})", evidence.join(", ")));
    }
    writeln!(out, "{line}")?;
    if let Some(revert) = entry.reverted_on_target {
        writeln!(
            out,
            "      present as {}, then reverted on {} by {}",
            revert.equivalent.short(),
            visible_line(target),
            revert.by.short()
        )?;
    }
    if let Some(by) = entry.reverted_by {
        writeln!(out, "      reverted on its own side by {}", by.short())?;
    }
    if !entry.possibly_present.is_empty() {
        let hints: Vec<String> = entry.possibly_present.iter().map(|c| c.short()).collect();
        writeln!(out, "      possibly present (same subject only): {}", hints.join(", "))?;
    }
    Ok(())
}
