//! `git regraft deps`: which commits a change needs, and in what order to pick them.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::process::ExitCode;

use console::Style;
use regraft::analysis::deps::{self, DependencyGraph, DepsOptions, EdgeKind};
use regraft::git::repo::Repo;
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft deps stable/liberty stable/mitaka --for 1524f0dd1e
  git regraft deps stable/liberty stable/mitaka --json > graph.json
  git regraft deps stable/liberty stable/mitaka --for 1524f0dd1e --format dot \\
      | dot -Tsvg > fix.svg
  git regraft deps stable/liberty stable/mitaka --format html > deps.html
  git regraft deps stable/liberty stable/mitaka --for 1524f0dd1e --format html \\
      > fix.html";

/// Show which commits of SOURCE depend on which, and what a chosen commit needs
///
/// Within TARGET..SOURCE (non-merge commits), commit B depends on commit A when B's change,
/// diffed against its first parent with --context lines of context, removes, modifies or
/// borders lines that A was the last to change (as `git blame` says at B's parent, counting
/// only commits of the delta). With --for, prints the closure: the named commits and
/// everything they need that is not already on TARGET, in an order that respects every
/// edge.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch the commits would be picked onto (e.g. stable/liberty)
    target: String,
    /// The branch they come from (e.g. stable/mitaka)
    source: String,
    /// Print what these commits need, in pick order (repeatable)
    #[arg(long = "for", value_name = "REV")]
    wanted: Vec<String>,
    /// Lines of context around each change that also create dependencies
    #[arg(long, value_name = "N", default_value_t = 1)]
    context: u32,
    /// Also record file-level edges (same path touched), marked as such
    #[arg(long)]
    files: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// With text output, list every commit's dependencies
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A summary; with --for, the picks in order and what each needs, by file and lines
    Text,
    /// The graph, every edge with its reasons (the same as --json)
    Json,
    /// Graphviz, for `dot -Tsvg`
    Dot,
    /// One self-contained page to explore in a browser (nothing fetched)
    Html,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    let options =
        DepsOptions { context: args.context, files: args.files, ..DepsOptions::default() };
    super::delta::warn_ambiguous(ui, &repo, [&args.target, &args.source])?;
    let progress = super::progress::Bar::new();
    let mut graph = deps::analyze(&repo, &args.target, &args.source, &options, &progress)?;
    let wanted = deps::resolve_wanted(&repo, &graph, &args.wanted)?;
    if !wanted.is_empty() {
        let closure = graph.closure(&wanted, options.follow());
        let prediction = graph
            .predict(&repo, &closure, &progress)
            .map_err(|e| CommandError::internal(anyhow::Error::new(e)))?;
        graph.closure = Some(closure);
        graph.prediction = Some(prediction);
    }
    let format = if args.json { Format::Json } else { args.format };
    match format {
        Format::Json => super::write_json(ui, &graph)?,
        Format::Dot => super::dot::write(&mut ui.out(), &graph, &wanted)?,
        Format::Html => {
            let data = super::html::graph::data(&repo, &graph, &wanted, &progress)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 16, ui.out());
            super::html::graph::write(&mut out, &data)?;
            out.flush()?;
        }
        Format::Text => {
            render(&mut ui.human(), ui, &graph, &wanted, super::Detail::verbose(args.verbose))?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Analyses the sample's delta and adds the closure of `wanted` (for the demo).
pub fn closure_for(
    repo: &Repo,
    target: &str,
    source: &str,
    wanted: regraft::ObjectId,
) -> Result<DependencyGraph, CommandError> {
    let mut graph =
        deps::analyze(repo, target, source, &DepsOptions::default(), &regraft::progress::Silent)?;
    graph.closure = Some(graph.closure(&[wanted], deps::Follow::Lines));
    Ok(graph)
}

/// Writes the human summary, the closure when there is one (each pick with the picks it
/// needs and why: file and lines), or every edge with [`super::Detail::Every`].
/// Dependencies, conflicts and picks held up by a conflict are coloured when `ui` colours.
pub fn render(
    out: &mut impl Write,
    ui: &Ui,
    graph: &DependencyGraph,
    wanted: &[regraft::ObjectId],
    detail: super::Detail,
) -> std::io::Result<()> {
    let verbose = detail == super::Detail::Every;
    let by_id: HashMap<_, _> = graph.commits.iter().map(|c| (c.commit, c)).collect();
    let line_edges = graph.edges.iter().filter(|e| e.kind == EdgeKind::Lines).count();
    let file_edges = graph.edges.len() - line_edges;
    let on_target = graph.commits.iter().filter(|c| c.on_target).count();
    writeln!(
        out,
        "deps {} ({}) from {} ({}): {} changes, {} already on {}",
        graph.target.name,
        graph.target.commit.short(),
        graph.source.name,
        graph.source.commit.short(),
        graph.commits.len(),
        on_target,
        graph.target.name
    )?;
    let mut needs: BTreeMap<usize, Vec<&deps::Edge>> = BTreeMap::new();
    let position: HashMap<_, _> =
        graph.commits.iter().enumerate().map(|(i, c)| (c.commit, i)).collect();
    for edge in &graph.edges {
        needs.entry(position[&edge.commit]).or_default().push(edge);
    }
    write!(out, "{line_edges} line edges")?;
    if file_edges > 0 {
        write!(out, ", {file_edges} file edges")?;
    }
    writeln!(out, "; {} of the changes depend on others", needs.len())?;

    if let Some(closure) = &graph.closure {
        writeln!(out)?;
        let names: Vec<String> = wanted.iter().map(|w| w.short()).collect();
        writeln!(
            out,
            "To pick {} onto {}, line dependencies call for these {} commits, in this order:",
            names.join(", "),
            graph.target.name,
            closure.len()
        )?;
        let width = closure.len().to_string().len();
        for (n, commit) in closure.iter().enumerate() {
            let c = by_id[commit];
            let mark = if wanted.contains(commit) { "  (asked for)" } else { "" };
            writeln!(
                out,
                "  {:>width$}  {} {}{mark}",
                n + 1,
                commit.short(),
                visible_line(&c.summary)
            )?;
            let place: HashMap<_, _> =
                closure.iter().enumerate().map(|(k, c)| (*c, k + 1)).collect();
            for e in needs.get(&position[commit]).into_iter().flatten() {
                let at = match place.get(&e.depends_on) {
                    Some(k) => format!("pick {k}"),
                    None if by_id.get(&e.depends_on).is_some_and(|d| d.on_target) => {
                        format!("already on {}", graph.target.name)
                    }
                    // A file edge, not followed without --files.
                    None => "not picked".to_string(),
                };
                writeln!(
                    out,
                    "  {:>width$}      {} ({at}){}",
                    "",
                    ui.paint(&Style::new().cyan(), &format!("needs {}", e.depends_on.short())),
                    why(e)
                )?;
            }
        }
        let skipped: Vec<String> = graph
            .edges
            .iter()
            .filter(|e| {
                closure.contains(&e.commit) && by_id.get(&e.depends_on).is_some_and(|c| c.on_target)
            })
            .map(|e| e.depends_on.short())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !skipped.is_empty() {
            writeln!(
                out,
                "Needed but already on {} (not picked): {}",
                graph.target.name,
                skipped.join(", ")
            )?;
        }
        if let Some(p) = &graph.prediction {
            writeln!(out)?;
            writeln!(
                out,
                "Predicted as `backport --dry-run` predicts picks: {} apply cleanly, {} conflict, {} change nothing.",
                p.clean,
                p.conflicts.len(),
                p.empty
            )?;
            for c in &p.conflicts {
                let asked = if wanted.contains(&c.commit) { " (asked for)" } else { "" };
                let files: Vec<_> = c.files.iter().map(|f| visible_line(f)).collect();
                let conflict = ui.paint(&Style::new().red().bold(), "conflict:");
                writeln!(out, "  {conflict} {}{asked} in {}", c.commit.short(), files.join(", "))?;
            }
            if !p.need_a_conflicting_pick.is_empty() {
                let names: Vec<String> =
                    p.need_a_conflicting_pick.iter().map(|c| c.short()).collect();
                let (n, verb) = match names.len() {
                    1 => ("1 pick needs".to_string(), "is"),
                    n => (format!("{n} picks need"), "are"),
                };
                writeln!(
                    out,
                    "  {}",
                    ui.paint(
                        &Style::new().yellow(),
                        &format!(
                            "{n} a conflicting one and {verb} not closed under its dependencies while that is skipped: {}",
                            names.join(", ")
                        )
                    )
                )?;
            }
            if !p.conflicts.is_empty() {
                writeln!(
                    out,
                    "Line dependencies do not make picks clean: `git regraft backport --dry-run {} {} --for {}` shows each pick.",
                    graph.target.name,
                    graph.source.name,
                    names.join(" --for ")
                )?;
            }
        }
    } else if verbose {
        writeln!(out)?;
        for (i, edges) in &needs {
            let c = &graph.commits[*i];
            writeln!(out, "  {} {}", c.commit.short(), visible_line(&c.summary))?;
            for e in edges {
                let kind = if e.kind == EdgeKind::File { " (file)" } else { "" };
                let needs = format!("needs {}", e.depends_on.short());
                writeln!(out, "      {}{kind} {}", ui.paint(&Style::new().cyan(), &needs), why(e))?;
            }
        }
    } else {
        writeln!(out)?;
        writeln!(
            out,
            "Name a commit with --for to see what it needs; --verbose lists every edge."
        )?;
    }
    Ok(())
}

/// Returns why an edge exists: `path:lines` for each path (the lines of the dependent's
/// parent), and the path alone for a file edge.
fn why(edge: &deps::Edge) -> String {
    let reasons: Vec<String> = edge
        .reasons
        .iter()
        .map(|r| {
            if r.lines.is_empty() {
                format!(" {} (same file)", visible_line(&r.path))
            } else {
                format!(" {}:{}", visible_line(&r.path), r.lines)
            }
        })
        .collect();
    format!(":{}", reasons.concat())
}
