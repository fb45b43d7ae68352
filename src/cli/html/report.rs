//! The printable pages (`compare --format html`, `forecast --format html`): tables and
//! inline SVG charts, no script.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use regraft::analysis::compare::Comparison;
use regraft::analysis::forecast::{Forecast, Outcome};
use regraft::git::repo::Repo;

use super::{escape, svg};
use crate::cli::CommandError;

/// The commit times of each side of a delta, for the timeline.
#[derive(Debug, Default)]
pub struct Sides {
    pub source: Vec<i64>,
    pub target: Vec<i64>,
}

impl Sides {
    /// Reads the author time of every commit only on SOURCE and only on TARGET.
    pub fn read(
        repo: &Repo,
        target: regraft::ObjectId,
        source: regraft::ObjectId,
    ) -> Result<Sides, CommandError> {
        let mut sides = Sides::default();
        for (from, to, times) in
            [(target, source, &mut sides.source), (source, target, &mut sides.target)]
        {
            for commit in repo.commits_since(from, to)? {
                times.push(super::raw_seconds(&repo.commit_origin(commit)?.author_date));
            }
        }
        Ok(sides)
    }
}

/// Returns conflicting files counted by area, the most first.
fn by_area<'a>(files: impl Iterator<Item = &'a String>) -> Vec<(String, usize)> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for f in files {
        *count.entry(super::area(f)).or_default() += 1;
    }
    let mut items: Vec<(String, usize)> =
        count.into_iter().map(|(a, n)| (a.to_string(), n)).collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    items
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Writes the comparison page: the recommendation and why, the options side by side, the
/// delta's timeline, the conflicts by area, the lists behind the counts.
pub fn compare(out: &mut impl Write, c: &Comparison, sides: &Sides) -> io::Result<()> {
    let title = format!("Replacing {} by {}: the options compared", c.target.name, c.source.name);
    let mut b = String::new();
    let _ = write!(
        b,
        "<div class=\"report\"><h1>{}</h1><p class=\"muted\">{} at <code>{}</code>, {} at \
         <code>{}</code>; measured by git-regraft compare.</p>",
        escape(&title),
        escape(&c.target.name),
        c.target.commit.short(),
        escape(&c.source.name),
        c.source.commit.short()
    );
    let _ = write!(
        b,
        "<h2>Recommendation</h2><div class=\"recommendation\" id=\"recommendation\" \
         data-strategy=\"{}\"><p><b>{}</b>: {}</p></div>",
        c.recommendation.strategy.name(),
        escape(c.recommendation.strategy.long_name()),
        escape(&c.recommendation.why)
    );
    b.push_str(
        "<h2>The options</h2><table id=\"options\"><thead><tr><th>option</th><th>reviews</th>\
         <th>commits</th><th>files</th><th>lines +/-</th><th>predicted conflicts</th>\
         <th>fast-forward</th><th>clones force-update</th><th>history kept</th><th>blame kept</th>\
         <th>open reviews affected</th></tr></thead><tbody>",
    );
    for f in &c.options {
        let recommended = f.strategy == c.recommendation.strategy;
        let _ = write!(
            b,
            "<tr data-strategy=\"{}\"{}><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">+{} -{}</td><td class=\"num\">{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            f.strategy.name(),
            if recommended { " class=\"recommended\"" } else { "" },
            escape(f.strategy.long_name()),
            f.reviews,
            f.commits,
            f.files_changed,
            f.insertions,
            f.deletions,
            f.predicted_conflicts,
            yes(f.fast_forward),
            yes(f.force_update_needed),
            f.history_kept.name(),
            yes(f.blame_kept),
            f.open_reviews_affected.map_or("-".to_string(), |n| n.to_string()),
        );
    }
    b.push_str("</tbody></table>");
    if let Some(open) = &c.open_reviews {
        let _ = write!(
            b,
            "<p>{} open reviews on {} ({} at {}).</p>",
            open.count,
            escape(&open.branch),
            escape(&open.project),
            escape(&open.server)
        );
    }
    if let Some(refused) = c.policy_refused {
        let _ = write!(b, "<p>The policy refuses {refused} of the backport's picks.</p>");
    }
    b.push_str("<div class=\"charts\">");
    let _ = write!(
        b,
        "<div class=\"chart\" id=\"timeline\"><h3>The delta, commits per week</h3>{}</div>",
        svg::weekly(&[
            (&format!("only on {}", c.source.name), "#2f6fb2", sides.source.clone()),
            (&format!("only on {}", c.target.name), "#d08a1e", sides.target.clone()),
        ])
    );
    let _ = write!(
        b,
        "<div class=\"chart\" id=\"conflict-areas\"><h3>The backport's conflicting files by area \
         ({} picks conflict)</h3>{}</div></div>",
        c.conflicts.len(),
        svg::bars(&by_area(c.conflicts.iter().flat_map(|p| &p.files)), "#c0392b")
    );
    b.push_str("<h2>Each option in words</h2><dl id=\"verdicts\">");
    for f in &c.options {
        let _ = write!(
            b,
            "<dt>{}</dt><dd>{}{}</dd>",
            escape(f.strategy.long_name()),
            escape(&f.verdict),
            if f.needs.is_empty() {
                String::new()
            } else {
                format!(" <span class=\"muted\">Needs: {}.</span>", escape(&f.needs.join("; ")))
            }
        );
    }
    b.push_str("</dl>");
    if !c.conflicts.is_empty() {
        b.push_str(
            "<h2>Predicted conflicts of the backport</h2><table id=\"conflicts\"><thead><tr>\
             <th>commit</th><th>subject</th><th>files</th></tr></thead><tbody>",
        );
        for p in &c.conflicts {
            let files: Vec<String> =
                p.files.iter().map(|f| format!("<code>{}</code>", escape(f))).collect();
            let _ = write!(
                b,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                p.commit.short(),
                escape(&p.summary),
                files.join(" ")
            );
        }
        b.push_str("</tbody></table>");
    }
    let undone: Vec<_> = c.undone().collect();
    if !undone.is_empty() {
        let _ = write!(
            b,
            "<h2>Changes only on {} that the whole-tree options undo ({})</h2><ul>",
            escape(&c.target.name),
            undone.len()
        );
        for u in undone {
            let _ = write!(b, "<li><code>{}</code> {}</li>", u.commit.short(), escape(&u.summary));
        }
        b.push_str("</ul>");
    }
    b.push_str("</div>");
    super::page(out, &title, &b, None)
}

/// Writes the forecast page: the matrix (each cell's words in its title and below), the
/// conflicts by area, and per branch what each candidate needs.
pub fn forecast(
    out: &mut impl Write,
    f: &Forecast,
    describe: impl Fn(&regraft::analysis::forecast::CandidateOutcome) -> String,
) -> io::Result<()> {
    let title = format!("Forecast: {} candidates from {}", f.candidates.len(), f.source.name);
    let mut b = String::new();
    let _ = write!(b, "<div class=\"report\"><h1>{}</h1>", escape(&title));
    b.push_str("<table id=\"matrix\"><thead><tr><th>commit</th><th>subject</th>");
    for branch in &f.branches {
        let phase = branch.phase.as_deref().map(|p| format!("<br><small>{}</small>", escape(p)));
        let _ = write!(b, "<th>{}{}</th>", escape(&branch.name), phase.unwrap_or_default());
    }
    b.push_str("</tr></thead><tbody>");
    for (row, candidate) in f.candidates.iter().enumerate() {
        let _ = write!(
            b,
            "<tr data-commit=\"{}\"><td><code>{}</code></td><td>{}</td>",
            candidate.commit,
            candidate.commit.short(),
            escape(&candidate.summary)
        );
        for branch in &f.branches {
            let o = &branch.outcomes[row];
            let (class, word) = match o.outcome {
                Outcome::There => ("o-present", "there"),
                Outcome::Clean => ("o-clean", "clean"),
                Outcome::Empty => ("o-present", "empty"),
                Outcome::Conflict => ("o-conflict", "conflict"),
                Outcome::Needs => ("o-needs", "needs others first"),
            };
            let refused = if o.policy.as_ref().is_some_and(|p| !p.allowed) {
                " <span class=\"bad\">refused</span>"
            } else {
                ""
            };
            let _ = write!(
                b,
                "<td class=\"{class}\" title=\"{}\">{word}{refused}</td>",
                escape(&describe(o))
            );
        }
        b.push_str("</tr>");
    }
    b.push_str("</tbody></table>");
    let conflict_files =
        f.branches.iter().flat_map(|br| br.outcomes.iter()).flat_map(|o| {
            o.conflicts.iter().chain(o.needs.iter().flat_map(|n| n.conflicts.iter()))
        });
    let _ = write!(
        b,
        "<div class=\"charts\"><div class=\"chart\" id=\"conflict-areas\"><h3>Conflicting files \
         by area, over every branch</h3>{}</div></div>",
        svg::bars(&by_area(conflict_files), "#c0392b")
    );
    for branch in &f.branches {
        let _ = write!(
            b,
            "<h2>{} <small><code>{}</code></small></h2><table class=\"details\"><tbody>",
            escape(&branch.name),
            branch.commit.short()
        );
        for (row, candidate) in f.candidates.iter().enumerate() {
            let _ = write!(
                b,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                candidate.commit.short(),
                escape(&candidate.summary),
                escape(&describe(&branch.outcomes[row]))
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("</div>");
    super::page(out, &title, &b, None)
}
