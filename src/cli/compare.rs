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
  git regraft compare stable/liberty stable/mitaka --format markdown > \\
      options.md
  git regraft compare stable/liberty stable/mitaka --format text --lists \\
      lists.txt > post.txt
  git regraft compare origin/stable/liberty origin/stable/mitaka --stage-size \\
      30 --json
  git regraft compare stable/liberty stable/mitaka --format html > compare.html";

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
    /// Output format: the table for a terminal, or a post for a mailing list or a wiki
    /// (Markdown, or plain text of 72 columns) that defines each figure and leaves the long
    /// lists to --lists
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// With --format markdown or text: write the long lists (the backport's conflicting
    /// picks, TARGET's own changes undone) to FILE, in the same format, to attach to the
    /// post; the post names the file
    #[arg(long, value_name = "FILE")]
    lists: Option<std::path::PathBuf>,
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
    #[command(flatten)]
    timeout: super::timeout::TimeoutArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// The table, wrapped to the terminal
    Table,
    /// A post in Markdown (CommonMark, a GFM table)
    Markdown,
    /// A post in plain text
    Text,
    Json,
    /// One self-contained, printable page: the options, a timeline, charts
    Html,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    // TARGET may be named as the remote-tracking branch; the review server knows the branch.
    let branch = args.target.strip_prefix(&format!("{}/", args.remote)).unwrap_or(&args.target);
    let given = regraft::surgery::review_host::Given {
        review_host: None,
        gerrit: args.gerrit,
        project: args.project,
    };
    let open_reviews = match regraft::surgery::review_host::resolve_gerrit(
        &repo,
        &given,
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
                    args.timeout.duration(),
                ),
            }
            .trusting(trust)
            .observed(args.timeout.observer(ui));
            ui.status(&regraft::surgery::review_host::asking(
                &target,
                branch,
                gerrit.authenticated(),
            ));
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
    let format = if args.json { Format::Json } else { args.format };
    let post_format = match format {
        Format::Markdown => Some(PostFormat::Markdown),
        Format::Text => Some(PostFormat::Text),
        Format::Table | Format::Json | Format::Html => None,
    };
    match (post_format, &args.lists) {
        (Some(format), lists) => {
            let post_options = PostOptions {
                counts: Some(Counts::read(&repo, &comparison)?),
                stage_size: args.stage_size,
                lists: lists.clone(),
            };
            if let Some(path) = lists {
                let mut text = Vec::new();
                self::lists(&mut text, &comparison, format)?;
                std::fs::write(path, text).map_err(|e| {
                    CommandError::user(
                        anyhow::Error::new(e).context(format!("cannot write {}", path.display())),
                    )
                })?;
            }
            post(&mut ui.out(), &comparison, format, &post_options)?;
            if let Some(path) = lists {
                ui.status(&format!("wrote the lists to {}: attach it to the post", path.display()));
            }
        }
        (None, Some(_)) => {
            return Err(CommandError::user(anyhow::anyhow!(
                "--lists goes with --format markdown or --format text"
            ))
            .with_hint("the table names the counts; --json holds every list"));
        }
        (None, None) if format == Format::Json => super::write_json(ui, &comparison)?,
        (None, None) if format == Format::Html => {
            let sides = super::html::report::Sides::read(
                &repo,
                comparison.target.commit,
                comparison.source.commit,
            )?;
            let mut out = std::io::BufWriter::new(ui.out());
            super::html::report::compare(&mut out, &comparison, &sides)?;
            out.flush()?;
        }
        (None, None) => table(&mut ui.human(), &comparison)?,
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

/// The widest line of a post (`--format markdown` and `--format text`): what a mail reader
/// shows without wrapping it again.
pub const POST_WIDTH: usize = 72;

/// The figures of the delta the post defines its counts by, read from the repository.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    /// Commits on SOURCE and not on TARGET, and the merges among them.
    pub source_commits: usize,
    pub merges: usize,
}

impl Counts {
    /// Counts the commits on `c.source` and not on `c.target`, and their merges.
    pub fn read(repo: &Repo, c: &Comparison) -> Result<Counts, CommandError> {
        let commits = repo.commits_since(c.target.commit, c.source.commit)?;
        let mut merges = 0;
        for commit in &commits {
            merges += usize::from(repo.commit_info(*commit)?.parents.len() > 1);
        }
        Ok(Counts { source_commits: commits.len(), merges })
    }
}

/// The table's columns, all but the option's name: (header, cell).
type Column = (&'static str, fn(&compare::Figures) -> String);

fn columns() -> [Column; 7] {
    [
        ("reviews", |f| f.reviews.to_string()),
        ("commits", |f| f.commits.to_string()),
        ("conflicts", |f| f.predicted_conflicts.to_string()),
        ("ff", |f| yes(f.fast_forward).to_string()),
        ("force", |f| yes(f.force_update_needed).to_string()),
        ("history", |f| f.history_kept.name().to_string()),
        ("blame", |f| yes(f.blame_kept).to_string()),
    ]
}

/// Writes `columns` of the options as a table of aligned columns (numbers to the right).
fn aligned(out: &mut impl Write, c: &Comparison, columns: &[Column]) -> std::io::Result<()> {
    let widths: Vec<usize> = columns.iter().map(|(name, _)| name.len().max(3)).collect();
    let mut header = format!("{:<10}", "option");
    for ((name, _), w) in columns.iter().zip(&widths) {
        header.push_str(&format!(" {name:>w$}"));
    }
    writeln!(out, "{}", header.trim_end())?;
    for f in &c.options {
        let mut row = format!("{:<10}", f.strategy.name());
        for ((_, cell), w) in columns.iter().zip(&widths) {
            row.push_str(&format!(" {:>w$}", cell(f)));
        }
        writeln!(out, "{row}")?;
    }
    Ok(())
}

/// Says how big each option's change is, options with the same size together:
/// `megapatch, merge, recreate and reset: 16 files (+51 -38); backport: 15 files (+35 -24)`.
fn sizes(c: &Comparison) -> String {
    // (files, insertions, deletions) and the options of that size.
    type Size = (usize, usize, usize);
    let mut groups: Vec<(Size, Vec<&str>)> = Vec::new();
    for f in &c.options {
        let size = (f.files_changed, f.insertions, f.deletions);
        match groups.iter_mut().find(|(s, _)| *s == size) {
            Some((_, names)) => names.push(f.strategy.name()),
            None => groups.push((size, vec![f.strategy.name()])),
        }
    }
    groups
        .iter()
        .map(|((files, ins, del), names)| {
            format!("{}: {files} files (+{ins} -{del})", and_list(names))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Writes the terminal table, then the sizes, the verdicts and the recommendation, wrapped
/// to the terminal's width (80 columns off a terminal). The table is 60 columns wide; on a
/// terminal narrower than that it is written as two tables of fewer columns.
pub fn table(out: &mut impl Write, c: &Comparison) -> std::io::Result<()> {
    let width = super::ui::width();
    let line = format!(
        "replacing {} ({}) by {} ({})",
        visible_line(&c.target.name),
        c.target.commit.short(),
        visible_line(&c.source.name),
        c.source.commit.short()
    );
    writeln!(out, "{}", super::ui::wrap(&line, width, 0, 2))?;
    writeln!(out)?;
    let all = columns();
    if width >= 60 {
        aligned(out, c, &all)?;
    } else {
        aligned(out, c, &all[..3])?;
        writeln!(out)?;
        aligned(out, c, &all[3..])?;
    }
    writeln!(out)?;
    writeln!(out, "size: {}", super::ui::wrap(&sizes(c), width, 6, 6))?;
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
    own_changes_said(c).map(|note| {
        format!("note: {note} `compare --format markdown --lists FILE` or --json lists them.")
    })
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

/// How a post is written: Markdown (CommonMark with GFM's tables) or plain text. Both keep
/// to [`POST_WIDTH`] columns but the table's rows, and read the same as plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostFormat {
    Markdown,
    Text,
}

/// What a post is written from, besides the comparison.
#[derive(Debug, Clone, Default)]
pub struct PostOptions {
    /// The delta's counts, when read (the post then defines the figures by them).
    pub counts: Option<Counts>,
    /// `--stage-size`: the backport's reviews are stages of this many picks.
    pub stage_size: Option<usize>,
    /// The file the long lists are written to (`--lists`): the post names it by its name.
    pub lists: Option<std::path::PathBuf>,
}

/// Writes a Markdown post for a mailing list or a wiki, without its lists (the guide's).
pub fn markdown(out: &mut impl Write, c: &Comparison) -> std::io::Result<()> {
    post(out, c, PostFormat::Markdown, &PostOptions::default())
}

/// The words of a post in one of its formats.
struct Words {
    format: PostFormat,
}

impl Words {
    /// Text from the repository (names, subjects) or our own prose, made safe to show.
    fn text(&self, text: &str) -> String {
        match self.format {
            PostFormat::Markdown => markdown_text(text),
            PostFormat::Text => visible_line(text).into_owned(),
        }
    }

    /// A name or a command, as code.
    fn code(&self, text: &str) -> String {
        match self.format {
            PostFormat::Markdown => markdown_code(text),
            PostFormat::Text => visible_line(text).into_owned(),
        }
    }

    /// A figure or a term, stressed.
    fn strong(&self, text: &str) -> String {
        match self.format {
            PostFormat::Markdown => format!("**{text}**"),
            PostFormat::Text => text.to_string(),
        }
    }

    fn heading(&self, out: &mut impl Write, level: usize, text: &str) -> std::io::Result<()> {
        match self.format {
            PostFormat::Markdown => writeln!(out, "{} {text}", "#".repeat(level)),
            // The title underlined; a section's heading a line of its own.
            PostFormat::Text if level <= 2 => {
                writeln!(out, "{text}")?;
                writeln!(out, "{}", "=".repeat(textwrap::core::display_width(text).min(POST_WIDTH)))
            }
            PostFormat::Text => writeln!(out, "{text}:"),
        }
    }

    /// A paragraph (already in this format), wrapped to the post's width.
    fn paragraph(&self, out: &mut impl Write, text: &str) -> std::io::Result<()> {
        write!(out, "{}", self.wrap(text, 0))
    }

    /// A list item (already in this format), its lines under its text.
    fn item(&self, out: &mut impl Write, text: &str) -> std::io::Result<()> {
        write!(out, "{}", self.wrap(&format!("- {text}"), 2))
    }

    /// Wraps at spaces to [`POST_WIDTH`], continuing `indent` columns in. In Markdown, a
    /// continuation that would start a block of its own (`- `, `+ `, `#`, `>`, `=`, `1.`)
    /// has its first character escaped.
    fn wrap(&self, text: &str, indent: usize) -> String {
        let wrapped = super::ui::wrap(text, POST_WIDTH, 0, indent);
        let mut out = String::new();
        for (n, line) in wrapped.lines().enumerate() {
            let body = line.trim_start();
            let lead = &line[..line.len() - body.len()];
            let first = body.split(' ').next().unwrap_or_default();
            let digits = first.trim_end_matches(['.', ')']);
            let starts_block = matches!(first, "-" | "+" | "*")
                || first.starts_with(['#', '>', '='])
                || (first.len() > digits.len()
                    && !digits.is_empty()
                    && digits.chars().all(|c| c.is_ascii_digit()));
            if n > 0 && self.format == PostFormat::Markdown && starts_block {
                let at = if digits.is_empty() || !first.starts_with(|c: char| c.is_ascii_digit()) {
                    0
                } else {
                    digits.len()
                };
                out.push_str(&format!("{lead}{}\\{}\n", &body[..at], &body[at..]));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// The options' table: a GFM table whose cells are padded to line up, so that it reads
    /// as the plain text table it is in the text format (under 80 columns either way).
    fn table(&self, out: &mut impl Write, c: &Comparison) -> std::io::Result<()> {
        let heads =
            ["option", "reviews", "commits", "conflicts", "fast-forward", "history", "blame"];
        let rows: Vec<[String; 7]> = c
            .options
            .iter()
            .map(|f| {
                [
                    f.strategy.name().to_string(),
                    f.reviews.to_string(),
                    f.commits.to_string(),
                    f.predicted_conflicts.to_string(),
                    yes(f.fast_forward).to_string(),
                    f.history_kept.name().to_string(),
                    yes(f.blame_kept).to_string(),
                ]
            })
            .collect();
        let numeric = [false, true, true, true, false, false, false];
        let mut widths = heads.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        let cell = |text: &str, i: usize| {
            let w = widths[i];
            if numeric[i] { format!("{text:>w$}") } else { format!("{text:<w$}") }
        };
        let line = |cells: Vec<String>| match self.format {
            PostFormat::Markdown => format!("| {} |", cells.join(" | ")),
            PostFormat::Text => cells.join("  ").trim_end().to_string(),
        };
        writeln!(out, "{}", line((0..7).map(|i| cell(heads[i], i)).collect()))?;
        match self.format {
            PostFormat::Markdown => {
                let rules: Vec<String> = (0..7)
                    .map(|i| {
                        let dashes = "-".repeat(widths[i].max(3) - usize::from(numeric[i]));
                        if numeric[i] { format!("{dashes}:") } else { dashes }
                    })
                    .collect();
                writeln!(out, "| {} |", rules.join(" | "))?;
            }
            PostFormat::Text => {
                let rules: Vec<String> = (0..7).map(|i| "-".repeat(widths[i])).collect();
                writeln!(out, "{}", rules.join("  "))?;
            }
        }
        for row in &rows {
            writeln!(out, "{}", line((0..7).map(|i| cell(&row[i], i)).collect()))?;
        }
        Ok(())
    }
}

/// Writes the post: the table, a line defining each figure, the options' verdicts, the
/// recommendation and, for the long lists (the backport's conflicts, TARGET's own changes
/// undone), their counts and where they are: in `options.lists`, written by
/// [`lists`], or the command that writes them.
pub fn post(
    out: &mut impl Write,
    c: &Comparison,
    format: PostFormat,
    options: &PostOptions,
) -> std::io::Result<()> {
    let w = Words { format };
    let (target, source) = (w.code(&c.target.name), w.code(&c.source.name));
    let (plain_target, plain_source) = (c.target.name.as_str(), c.source.name.as_str());
    let get = |s: compare::Strategy| c.options.iter().find(|f| f.strategy == s);
    let backport = get(compare::Strategy::Backport);
    let recreate = get(compare::Strategy::Recreate);
    w.heading(out, 2, &format!("Replacing {target} by {source}"))?;
    writeln!(out)?;
    w.paragraph(
        out,
        &format!(
            "Measured by {} at {} and {}:",
            w.code("git regraft compare"),
            c.target.commit.short(),
            c.source.commit.short()
        ),
    )?;
    writeln!(out)?;
    w.table(out, c)?;
    writeln!(out)?;

    w.heading(out, 3, "What the figures count")?;
    writeln!(out)?;
    w.item(out, &format!("{} {}.", w.strong("Size:"), w.text(&sizes(c))))?;
    let picks = backport.map_or(0, |b| b.commits);
    let conflicts = c.conflicts.len();
    if let Some(recreate) = recreate {
        let n = recreate.commits;
        let split = options.counts.filter(|k| k.source_commits == n);
        let more = match split {
            Some(k) => format!(
                ": {} merges and {} source commits",
                k.merges,
                w.strong(&(n - k.merges).to_string())
            ),
            None => ", merges included; the source commits are the others".into(),
        };
        w.item(
            out,
            &format!("{} on {source}, not on {target}{more}.", w.strong(&format!("{n} commits"))),
        )?;
        let had = split.map_or(String::new(), |k| {
            format!(" (it has the other {})", (n - k.merges).saturating_sub(picks))
        });
        w.item(
            out,
            &format!(
                "{}: the source commits {target} lacks{had}, by Change-Id, cherry-pick line and patch-id.",
                w.strong(&format!("{picks} picks"))
            ),
        )?;
    }
    if let Some(b) = backport {
        let reviews = match options.stage_size {
            Some(n) => format!("one per stage of up to {n} clean picks"),
            None => {
                let empty = b.commits.saturating_sub(b.reviews + b.predicted_conflicts);
                format!("one per clean pick ({empty} more change nothing)")
            }
        };
        w.item(
            out,
            &format!(
                "{}: {reviews}; megapatch and merge are one, recreate and reset none (an administrator acts).",
                w.strong(&format!("{} reviews", b.reviews))
            ),
        )?;
    }
    w.item(
        out,
        &format!(
            "{}: each pick simulated in order with git's merge; a pick that conflicts is skipped and the later picks are simulated without it.",
            w.strong(&format!("{conflicts} conflicts"))
        ),
    )?;
    match &c.open_reviews {
        Some(open) => w.item(
            out,
            &format!(
                "{} on {} of {} (counted on {}): recreate and reset abandon and restore them; after the others they stay open, to be rebased.",
                w.strong(&format!("{} open reviews", open.count)),
                w.text(&open.branch),
                w.text(&open.project),
                w.text(&open.server)
            ),
        )?,
        None => w.item(
            out,
            &format!("Open reviews on {target}: not counted (--gerrit URL)."),
        )?,
    }
    w.item(
        out,
        "Fast-forward: no clone force-updates. History: whose commits stay. Blame: git blame shows the source's authors.",
    )?;
    writeln!(out)?;

    for f in &c.options {
        w.item(out, &format!("{}: {}.", w.strong(f.strategy.name()), w.text(&f.verdict)))?;
    }
    writeln!(out)?;
    w.paragraph(
        out,
        &format!("{} {}.", w.strong("Recommendation:"), w.text(&c.recommendation.to_string())),
    )?;

    let undone = c.undone().count();
    if conflicts > 0 || undone > 0 {
        let mut lists = Vec::new();
        if conflicts > 0 {
            lists.push(format!(
                "the {conflicts} conflicting picks (most often in {})",
                w.text(&busiest(c, 3))
            ));
        }
        if undone > 0 {
            let carried = c.undone().filter(|o| o.onto_source == Outcome::Clean).count();
            lists.push(format!(
                "the {undone} changes of {target}'s own that all but the backport undo ({carried} can be carried as follow-ups)"
            ));
        }
        let lists = lists.join(" and ");
        let say = match &options.lists {
            Some(path) => {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                format!(
                    "{} With their files: {lists}, listed in {}, attached.",
                    w.strong("Lists."),
                    w.code(&name)
                )
            }
            None => {
                let (flag, ext) = match format {
                    PostFormat::Markdown => ("markdown", "md"),
                    PostFormat::Text => ("text", "txt"),
                };
                format!(
                    "{} {} lists {lists}, with their files.",
                    w.strong("Lists."),
                    w.code(&format!(
                        "git regraft compare {} {} --format {flag} --lists lists.{ext}",
                        regraft::git::quote(plain_target),
                        regraft::git::quote(plain_source),
                    ))
                )
            }
        };
        writeln!(out)?;
        w.paragraph(out, &say)?;
    }
    Ok(())
}

/// Names the `n` files the backport's conflicts are most often in, with their counts.
fn busiest(c: &Comparison, n: usize) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for conflict in &c.conflicts {
        for file in &conflict.files {
            *counts.entry(file.as_str()).or_default() += 1;
        }
    }
    let mut files: Vec<(&str, usize)> = counts.into_iter().collect();
    files.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let named: Vec<String> =
        files.iter().take(n).map(|(file, k)| format!("{file} ({k})")).collect();
    and_list(&named.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Writes the lists a post leaves out: the backport's conflicting picks with their files,
/// and TARGET's own changes that the whole-tree options undo.
pub fn lists(out: &mut impl Write, c: &Comparison, format: PostFormat) -> std::io::Result<()> {
    let w = Words { format };
    let (target, source) = (w.code(&c.target.name), w.code(&c.source.name));
    w.heading(out, 2, &format!("Replacing {target} by {source}: the lists"))?;
    writeln!(out)?;
    w.paragraph(
        out,
        &format!(
            "Measured with {} on {target} at {} and {source} at {}.",
            w.code("git regraft compare"),
            c.target.commit.short(),
            c.source.commit.short()
        ),
    )?;
    let undone: Vec<_> = c.undone().collect();
    if !c.conflicts.is_empty() {
        writeln!(out)?;
        w.heading(out, 3, &format!("Conflicting picks ({})", c.conflicts.len()))?;
        writeln!(out)?;
        w.paragraph(
            out,
            &format!(
                "The {} picks of the backport that would conflict, in the order they would be picked onto {target}; each is skipped and the later picks simulated without it. Each: the commit, its subject, the files it conflicts in.",
                c.conflicts.len()
            ),
        )?;
        writeln!(out)?;
        for conflict in &c.conflicts {
            w.item(
                out,
                &format!(
                    "{} {} ({})",
                    w.code(&conflict.commit.short()),
                    w.text(&conflict.summary),
                    w.text(&conflict.files.join(", "))
                ),
            )?;
        }
    }
    if !undone.is_empty() {
        writeln!(out)?;
        w.heading(out, 3, &format!("Own changes undone ({})", undone.len()))?;
        writeln!(out)?;
        w.paragraph(
            out,
            &format!(
                "The {} changes of {target}'s own that megapatch, merge, recreate and reset undo, and what each does picked onto {source}.",
                undone.len()
            ),
        )?;
        writeln!(out)?;
        for own in &undone {
            let onto = match own.onto_source {
                Outcome::Clean => "applies on the source as a follow-up".to_string(),
                _ => format!("conflicts on the source in {}", own.conflicts.join(", ")),
            };
            w.item(
                out,
                &format!(
                    "{} {} ({})",
                    w.code(&own.commit.short()),
                    w.text(&own.summary),
                    w.text(&onto)
                ),
            )?;
        }
    }
    Ok(())
}
