//! `git regraft verify`: a backport checked against its originals, for CI.

use std::io::Write;
use std::process::ExitCode;

use console::Style;
use regraft::analysis::verify::{self, Finding, Status, Unnamed, Verification};
use regraft::git::repo::Repo;
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft verify origin/stable/2025.1..HEAD --source origin/master
  git regraft verify stable/5.1.x..my-fix --source main --json > verify.json
  git regraft verify stable/liberty..HEAD --source master \\
      --originals 1a2b3c4d5e --originals master~3..master
  # exit status 3: findings; 0: clean; 2: bad input";

/// Check that a backport is what it claims to be
///
/// Accounts for every commit of RANGE (BASE..TIP, the backport) against its original on
/// SOURCE, found by `delta`'s evidence: its `(cherry picked from commit X)` line, another
/// provenance marker, its Change-Id or its patch-id. A commit whose patch-id is the
/// original's is present; one whose patch differs is adapted, and `git range-diff` of the
/// two shows how. Merges are listed and not checked.
///
/// Findings: a commit with no original on SOURCE (and what its provenance lines name
/// instead); a line it adds that is a conflict marker (`<<<<<<<`, `|||||||`,
/// `=======`, `>>>>>>>` then a blank or the end of the line) its original did not add; a
/// file its original does not change, or a hunk that changes no line the original changes
/// in that file; a file of the original it leaves out, or no change at all. With
/// --originals, each original named must be brought by some commit (else it was dropped),
/// and each commit must bring one of them.
///
/// Exit status: 0 when clean, 3 with findings (for CI to gate on), 2 for bad input, 1 for
/// a failure. Schema of --json in docs/verify.md.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The backport's commits, as BASE..TIP (e.g. origin/stable/2025.1..HEAD)
    range: String,
    /// The branch the originals are on (e.g. origin/master)
    #[arg(long, value_name = "REV")]
    source: String,
    /// An original the backport is meant to bring, a commit or A..B on SOURCE (repeatable)
    #[arg(long, value_name = "REV")]
    originals: Vec<String>,
    /// Print the verification as JSON (schema in docs/verify.md)
    #[arg(long)]
    json: bool,
    /// Also list each commit's evidence and the provenance lines naming no SOURCE commit
    #[arg(short, long)]
    verbose: bool,
    #[command(flatten)]
    jobs: super::delta::JobsArg,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    // The same warnings and hints as `delta`, whose evidence verify reads.
    let ends: Vec<String> = match args.range.split_once("..") {
        Some((base, tip)) => [base, tip].iter().map(|end| end.to_string()).collect(),
        None => Vec::new(),
    };
    super::delta::warn_ambiguous(ui, &repo, ends.iter().chain([&args.source]))?;
    let options =
        verify::VerifyOptions { delta: args.jobs.options(), originals: args.originals.clone() };
    let verification = verify::verify(&repo, &args.range, &args.source, &options).map_err(
        |error| match error {
            verify::VerifyError::Delta(error) => super::delta::delta_error(error),
            verify::VerifyError::Repo(error) => super::delta::delta_error(error.into()),
            other => CommandError::from(other),
        },
    )?;
    if args.json {
        super::write_json(ui, &verification)?;
    } else {
        render(&mut ui.human(), ui, &verification, super::Detail::verbose(args.verbose))?;
    }
    Ok(if verification.is_clean() { ExitCode::SUCCESS } else { ExitCode::from(super::FINDINGS) })
}

/// Writes the verification for a person to `out`, in `ui`'s colors.
pub fn render(
    out: &mut impl Write,
    ui: &Ui,
    v: &Verification,
    detail: super::Detail,
) -> std::io::Result<()> {
    let bold = Style::new().bold();
    writeln!(
        out,
        "{} {}..{} ({} commits) against {} ({})",
        ui.paint(&bold, "verify"),
        visible_line(&v.base.name),
        visible_line(&v.tip.name),
        v.commits.len(),
        visible_line(&v.source.name),
        v.source.commit.short()
    )?;
    for c in &v.commits {
        let status = match c.status {
            Status::NoOriginal => "NO-ORIGINAL",
            other => other.name(),
        };
        writeln!(out, "{status:<11} {} {}", c.commit.short(), visible_line(&c.summary))?;
        if let (Some(original), Some(e)) =
            (c.original, c.evidence.iter().find(|e| Some(e.commit) == c.original))
        {
            writeln!(out, "{:12}<- {} by {}", "", original.short(), e.by.name())?;
        }
        if detail == super::Detail::Every {
            for e in &c.evidence {
                let marker = e.marker.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
                writeln!(
                    out,
                    "    evidence: {} {}{}",
                    e.by.name(),
                    e.commit.short(),
                    visible_line(&marker)
                )?;
            }
        }
        if detail == super::Detail::Every {
            for r in &c.other_references {
                writeln!(out, "    also names {}, {}", visible_line(&r.reference), unnamed(r.why))?;
            }
        }
        if let Some(range_diff) = &c.range_diff {
            for line in range_diff.lines() {
                writeln!(out, "    {}", visible_line(line))?;
            }
        }
    }
    writeln!(out)?;
    if v.is_clean() {
        writeln!(
            out,
            "clean: every commit accounted for, no conflict markers, nothing outside the originals"
        )?;
        return Ok(());
    }
    writeln!(out, "{} ({}):", ui.paint(&Style::new().red().bold(), "findings"), v.findings.len())?;
    for finding in &v.findings {
        writeln!(out, "  {}", visible_line(&describe(finding)))?;
    }
    Ok(())
}

/// Returns one line saying what a finding is.
pub fn describe(finding: &Finding) -> String {
    match finding {
        Finding::NoOriginal { commit } => {
            format!("{}: no original on SOURCE (no marker, Change-Id or patch-id)", commit.short())
        }
        Finding::UnknownOriginal { commit, reference, why } => {
            format!("{}: names {reference}, {}", commit.short(), unnamed(*why))
        }
        Finding::ConflictMarker { commit, path, line, marker } => {
            format!("{}: {path}:{line}: conflict marker {marker}", commit.short())
        }
        Finding::OutsideFile { commit, original, path } => {
            format!(
                "{}: {path}: changed, its original {} does not",
                commit.short(),
                original.short()
            )
        }
        Finding::OutsideHunk { commit, original, path, hunk } => format!(
            "{}: {path} {hunk}: changes no line its original {} changes there",
            commit.short(),
            original.short()
        ),
        Finding::MissingFile { commit, original, path } => format!(
            "{}: {path}: changed by its original {}, left out",
            commit.short(),
            original.short()
        ),
        Finding::Empty { commit, original } => {
            format!("{}: changes nothing, its original {} does", commit.short(), original.short())
        }
        Finding::Dropped { original, summary } => {
            format!(
                "{}: dropped: no commit of the backport brings it ({summary})",
                original.short()
            )
        }
        Finding::NotMeant { commit, original } => format!(
            "{}: brings {}, which is not among --originals",
            commit.short(),
            original.short()
        ),
    }
}

fn unnamed(why: Unnamed) -> &'static str {
    match why {
        Unnamed::Missing => "which the repository does not have",
        Unnamed::Ambiguous => "which is ambiguous",
        Unnamed::NotOnSource => "which is not on SOURCE",
        Unnamed::OnTarget => "which is on the backport's own side, not SOURCE's",
    }
}
