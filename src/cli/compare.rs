//! `git regraft compare`: the five options side by side, with figures.

use std::io::Write;
use std::process::ExitCode;

use regraft::analysis::compare::{self, CompareOptions, Comparison};
use regraft::analysis::simulation::Outcome;
use regraft::git::repo::Repo;
use regraft::text::visible::{markdown_code, markdown_text, visible, visible_line};

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft compare stable/liberty stable/mitaka
  git regraft compare stable/liberty stable/mitaka --format markdown > options.md
  git regraft compare origin/stable/liberty origin/stable/mitaka --stage-size 30 --json";

/// Measure the ways to replace TARGET by SOURCE: megapatch, merge, recreate, reset, backport
///
/// Every figure is measured on the repository, not estimated: commits and files that move,
/// reviews needed, the backport's conflicts predicted pick by pick, fast-forward or not,
/// whether clones must force-update, which histories and whose blame survive, and the
/// permissions each option needs on a review server.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The broken branch (e.g. stable/liberty)
    target: String,
    /// The branch holding the fix (e.g. stable/mitaka)
    source: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Count the backport's reviews as stages of N picks
    #[arg(long, value_name = "N")]
    stage_size: Option<usize>,
    /// Count the backport's picks this stable-branch policy's phase would refuse
    #[arg(long, value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// The support phase to judge picks under
    #[arg(long, value_name = "NAME")]
    phase: Option<String>,
    /// A Gerrit server: count the open reviews on TARGET each option affects
    /// [default: git config regraft.gerrit]
    #[arg(long, value_name = "URL")]
    gerrit: Option<String>,
    /// The Gerrit project [default: .gitreview's on the branch, else the path of the remote's URL]
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// The remote whose URL names the project, and whose branch TARGET names
    #[arg(long, default_value = "origin")]
    remote: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Markdown,
    Json,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    // TARGET may be named as the remote-tracking branch; the review server knows the branch.
    let branch = args.target.strip_prefix(&format!("{}/", args.remote)).unwrap_or(&args.target);
    let open_reviews = match super::abandon::review_target(
        &repo,
        args.gerrit,
        args.project,
        &args.remote,
        branch,
    )? {
        None => None,
        Some(target) => {
            // Counting needs no account on a public project: anonymous without one.
            let named = regraft::review::Named::from_found_in(target.found_in.as_deref());
            let credentials =
                match regraft::review::Credentials::lookup(repo.git(), &target.gerrit, named) {
                    Ok(found) => found,
                    // A server the user did not name is asked anonymously rather than not.
                    Err(e) if target.found_in.is_some() => {
                        ui.status(&format!("warning: {e}; asking anonymously"));
                        None
                    }
                    Err(e) => return Err(e.into()),
                };
            let trust = regraft::review::Trust::find(repo.git(), &target.gerrit)?;
            // A server the user did not name (found in .gitreview) gets one short try.
            let gerrit = match target.found_in {
                Some(_) => regraft::review::Gerrit::brief(&target.gerrit, credentials),
                None => regraft::review::Gerrit::with(
                    &target.gerrit,
                    credentials,
                    regraft::review::DEFAULT_TIMEOUT,
                ),
            }
            .trusting(trust);
            ui.status(&super::abandon::asking(&target, branch, gerrit.authenticated()));
            let open = regraft::review::ReviewHost::open_reviews(&gerrit, &target.project, branch);
            match (open, &target.found_in) {
                (Ok(open), _) => Some(compare::OpenReviews {
                    count: open.len(),
                    server: target.gerrit.to_string(),
                    project: target.project.clone(),
                    branch: branch.to_string(),
                }),
                // A server the user did not name is asked only if it answers.
                (Err(e), Some(found_in)) => {
                    ui.status(&format!(
                        "warning: open reviews not counted: {found_in} names {}, which did not answer ({e})",
                        target.gerrit
                    ));
                    None
                }
                (Err(e), None) => return Err(CommandError::from(e)),
            }
        }
    };
    let options = CompareOptions {
        stage_size: args.stage_size,
        open_reviews,
        policy: super::policy_check(args.policy.as_deref(), args.phase.as_deref())?,
        ..CompareOptions::default()
    };
    let progress = super::progress::Bar::new();
    let comparison = compare::compare(&repo, &args.target, &args.source, &options, &progress)?;
    match if args.json { Format::Json } else { args.format } {
        Format::Json => super::write_json(ui, &comparison)?,
        Format::Table => table(&mut ui.out(), &comparison)?,
        Format::Markdown => markdown(&mut ui.out(), &comparison)?,
    }
    if !args.json && args.format == Format::Table {
        let strategy = comparison.recommendation.strategy;
        let branch = args.target.strip_prefix(&format!("{}/", args.remote)).unwrap_or(&args.target);
        ui.status(&format!(
            "next: `git regraft replace {} --from {} --strategy {}` (a dry run), or `git regraft guide`",
            regraft::git::quote(branch),
            regraft::git::quote(&args.source),
            strategy.name()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Compares for the demo.
pub fn for_demo(repo: &Repo, target: &str, source: &str) -> Result<Comparison, CommandError> {
    compare::compare(repo, target, source, &CompareOptions::default(), &regraft::progress::Silent)
        .map_err(CommandError::from)
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Writes the terminal table (under 100 columns), then the verdicts and the recommendation
/// wrapped to the terminal's width (80 columns off a terminal).
pub fn table(out: &mut impl Write, c: &Comparison) -> std::io::Result<()> {
    let width = super::ui::width();
    writeln!(
        out,
        "replacing {} ({}) by {} ({})",
        c.target.name,
        c.target.commit.short(),
        c.source.name,
        c.source.commit.short()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<10} {:>7} {:>7} {:>6} {:>8} {:>8} {:>9} {:>4} {:>5} {:>7} {:>5}",
        "option",
        "reviews",
        "commits",
        "files",
        "+lines",
        "-lines",
        "conflicts",
        "ff",
        "force",
        "history",
        "blame"
    )?;
    for f in &c.options {
        writeln!(
            out,
            "{:<10} {:>7} {:>7} {:>6} {:>8} {:>8} {:>9} {:>4} {:>5} {:>7} {:>5}",
            f.strategy,
            f.reviews,
            f.commits,
            f.files_changed,
            f.insertions,
            f.deletions,
            f.predicted_conflicts,
            yes(f.fast_forward),
            yes(f.force_update_needed),
            f.history_kept,
            yes(f.blame_kept)
        )?;
    }
    writeln!(out)?;
    for f in &c.options {
        writeln!(
            out,
            "{:<10} {}",
            f.strategy,
            super::ui::wrap(&visible(&f.verdict), width, 11, 11)
        )?;
        let needs = super::ui::wrap(&visible(&f.needs.join(", ")), width, 18, 18);
        writeln!(out, "{:<10} needs: {needs}", "")?;
    }
    for note in own_changes_note(c).into_iter().chain(open_reviews_note(c)) {
        writeln!(out)?;
        writeln!(out, "{}", super::ui::wrap(&visible(&note), width, 0, 2))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "recommendation: {}",
        super::ui::wrap(&visible(&c.recommendation.to_string()), width, 16, 16)
    )
}

/// Says how many reviews are open on TARGET's branch and what each kind of option does to
/// them; none when no review server was asked.
pub fn open_reviews_note(c: &Comparison) -> Option<String> {
    open_reviews_said(c).map(|said| format!("note: {said}"))
}

fn open_reviews_said(c: &Comparison) -> Option<String> {
    let o = c.open_reviews.as_ref()?;
    Some(format!(
        "{} open reviews on {} of {} (counted on {}): recreate and reset abandon them first (Gerrit refuses to delete a branch with open changes, and a moved branch closes them as merged), restorable with `git regraft restore --from-journal`; after merge, megapatch or the backport they stay open, to be rebased.",
        o.count, o.branch, o.project, o.server
    ))
}

/// Says how many of TARGET's own changes (no equivalent on SOURCE) the whole-tree options
/// undo, and how many could be carried; none when TARGET has none.
pub fn own_changes_note(c: &Comparison) -> Option<String> {
    own_changes_said(c).map(|note| format!("note: {note} --format markdown or --json lists them."))
}

/// What [`own_changes_note`] says, without where the list is.
fn own_changes_said(c: &Comparison) -> Option<String> {
    if c.own_changes.is_empty() {
        return None;
    }
    let own = c.own_changes.len();
    let count = |o: Outcome| c.own_changes.iter().filter(|x| x.onto_source == o).count();
    let (clean, empty, conflict) =
        (count(Outcome::Clean), count(Outcome::Empty), count(Outcome::Conflict));
    let undone = clean + conflict;
    let mut note = format!(
        "{own} of {}'s commits have no equivalent on {}; megapatch, merge, recreate and reset undo {undone} of them",
        c.target.name, c.source.name
    );
    if empty > 0 {
        note.push_str(&format!(" ({empty} already in {}'s tree in another form)", c.source.name));
    }
    if undone > 0 {
        note.push_str(&format!(
            ": {clean} {} on {} as follow-ups (replace --followup), {conflict} {}",
            if clean == 1 { "applies" } else { "apply" },
            c.source.name,
            if conflict == 1 { "conflicts" } else { "conflict" }
        ));
    }
    note.push('.');
    Some(note)
}

/// Writes a Markdown table and notes, ready for a mailing-list post or a wiki.
pub fn markdown(out: &mut impl Write, c: &Comparison) -> std::io::Result<()> {
    let (target, source) = (markdown_code(&c.target.name), markdown_code(&c.source.name));
    writeln!(out, "## Replacing {target} by {source}")?;
    writeln!(out)?;
    writeln!(
        out,
        "Measured with `git regraft compare` on {target} ({}) and {source} ({}).",
        c.target.commit.short(),
        c.source.commit.short()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| option | reviews | commits | files | +lines | -lines | conflicts | fast-forward | force-update | history kept | blame kept | needs |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|---|---|---|---|")?;
    for f in &c.options {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            f.strategy,
            f.reviews,
            f.commits,
            f.files_changed,
            f.insertions,
            f.deletions,
            f.predicted_conflicts,
            yes(f.fast_forward),
            yes(f.force_update_needed),
            f.history_kept,
            yes(f.blame_kept),
            markdown_text(&f.needs.join(", "))
        )?;
    }
    writeln!(out)?;
    for f in &c.options {
        writeln!(out, "- **{}**: {}.", f.strategy, visible_line(&f.verdict))?;
    }
    writeln!(out)?;
    writeln!(out, "**Recommendation**: {}.", visible_line(&c.recommendation.to_string()))?;
    let undone: Vec<_> = c.undone().collect();
    for said in own_changes_said(c).into_iter().chain(open_reviews_said(c)) {
        writeln!(out)?;
        writeln!(out, "{}", markdown_text(&said))?;
    }
    if !undone.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "<details><summary>{} changes of {target}'s own that megapatch, merge, recreate and reset undo</summary>",
            undone.len()
        )?;
        writeln!(out)?;
        for own in &undone {
            let onto = match own.onto_source {
                Outcome::Clean => "applies on the source as a follow-up".to_string(),
                _ => format!("conflicts on the source in {}", own.conflicts.join(", ")),
            };
            writeln!(
                out,
                "- `{}` {} ({})",
                own.commit.short(),
                markdown_text(&own.summary),
                markdown_text(&onto)
            )?;
        }
        writeln!(out)?;
        writeln!(out, "</details>")?;
    }
    if !c.conflicts.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "<details><summary>{} picks of the backport would conflict</summary>",
            c.conflicts.len()
        )?;
        writeln!(out)?;
        for conflict in &c.conflicts {
            writeln!(
                out,
                "- `{}` {} ({})",
                conflict.commit.short(),
                markdown_text(&conflict.summary),
                markdown_text(&conflict.files.join(", "))
            )?;
        }
        writeln!(out)?;
        writeln!(out, "</details>")?;
    }
    Ok(())
}
