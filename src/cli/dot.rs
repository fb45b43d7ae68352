//! Graphviz rendering of a dependency graph, pruned to stay readable.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};

use regraft::ObjectId;
use regraft::analysis::deps::{DependencyGraph, EdgeKind};

/// Writes the graph in DOT. With `wanted` (and a closure), only the closure is drawn, plus
/// the commits already on TARGET that it needs (greyed, dashed). Without, commits with no
/// edge are left out and line edges implied by a longer path are dropped (transitive
/// reduction), so a few hundred nodes stay legible.
pub fn write(out: &mut impl Write, graph: &DependencyGraph, wanted: &[ObjectId]) -> io::Result<()> {
    let index: HashMap<ObjectId, usize> =
        graph.commits.iter().enumerate().map(|(i, c)| (c.commit, i)).collect();
    let edges: Vec<(usize, usize, EdgeKind)> = graph
        .edges
        .iter()
        .filter_map(|e| Some((*index.get(&e.commit)?, *index.get(&e.depends_on)?, e.kind)))
        .collect();
    let shown: BTreeSet<usize> = match &graph.closure {
        Some(closure) => {
            let inside: BTreeSet<usize> =
                closure.iter().filter_map(|c| index.get(c).copied()).collect();
            let needed_present = edges
                .iter()
                .filter(|(b, a, _)| inside.contains(b) && graph.commits[*a].on_target)
                .map(|(_, a, _)| *a);
            inside.iter().copied().chain(needed_present).collect()
        }
        None => edges.iter().flat_map(|(b, a, _)| [*b, *a]).collect(),
    };
    let kept = reduce(graph.commits.len(), &edges);

    writeln!(out, "digraph deps {{")?;
    writeln!(out, "  rankdir=RL;")?;
    writeln!(out, "  node [shape=box, style=rounded, fontname=\"monospace\", fontsize=10];")?;
    writeln!(out, "  edge [color=\"#555555\"];")?;
    for &i in &shown {
        let c = &graph.commits[i];
        let mut summary: String = c.summary.chars().take(48).collect();
        if c.summary.chars().count() > 48 {
            summary.push('…');
        }
        let mut attrs = format!("label=\"{}\\n{}\"", c.commit.short(), escape(&summary));
        if c.on_target {
            attrs.push_str(
                ", style=\"rounded,dashed,filled\", fillcolor=\"#eeeeee\", fontcolor=\"#777777\"",
            );
        }
        if wanted.contains(&c.commit) {
            attrs.push_str(", penwidth=2, color=\"#c0392b\"");
        }
        writeln!(out, "  \"{}\" [{attrs}];", c.commit.short())?;
    }
    for (b, a, kind) in &kept {
        if !(shown.contains(b) && shown.contains(a)) {
            continue;
        }
        let style = if *kind == EdgeKind::File { " [style=dashed]" } else { "" };
        writeln!(
            out,
            "  \"{}\" -> \"{}\"{style};",
            graph.commits[*b].commit.short(),
            graph.commits[*a].commit.short()
        )?;
    }
    writeln!(out, "}}")
}

/// Drops each edge B -> A for which another dependency of B already reaches A. Commits
/// are in topological order (every edge points to a smaller index), so reachability is
/// built oldest first.
fn reduce(n: usize, edges: &[(usize, usize, EdgeKind)]) -> Vec<(usize, usize, EdgeKind)> {
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (b, a, _) in edges {
        deps[*b].push(*a);
    }
    let words = n.div_ceil(64);
    let mut reach: Vec<Vec<u64>> = vec![vec![0; words]; n];
    for b in 0..n {
        let mut r = vec![0u64; words];
        for &a in &deps[b] {
            r[a / 64] |= 1 << (a % 64);
            for (w, x) in r.iter_mut().zip(&reach[a]) {
                *w |= x;
            }
        }
        reach[b] = r;
    }
    edges
        .iter()
        .filter(|(b, a, _)| {
            !deps[*b]
                .iter()
                .any(|&other| other != *a && reach[other][a / 64] & (1 << (a % 64)) != 0)
        })
        .copied()
        .collect()
}

/// Returns `text` fit for a quoted DOT label: control characters made visible (a newline
/// too, which would break the line), then the backslash and the quote escaped.
fn escape(text: &str) -> String {
    regraft::text::visible::visible_line(text).replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_escape_quotes_backslashes_and_controls() {
        assert_eq!(
            super::escape("say \"hi\" \\ \x1b]0;x\x07\nnext"),
            "say \\\"hi\\\" \\\\ ^[]0;x^G^Jnext"
        );
    }
}
