//! The explorable dependency graph (`deps --format html`): the graph's data with a layout
//! computed here, embedded as JSON in a page whose script draws one cluster at a time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use regraft::ObjectId;
use regraft::analysis::deps::{DependencyGraph, EdgeKind};
use regraft::analysis::history::{self, WithPaths};
use regraft::analysis::simulation::{self, Outcome, ToPick};
use regraft::git::repo::Repo;
use serde::Serialize;

use crate::cli::CommandError;

/// The page's script, drawn by hand: no library, nothing fetched.
const SCRIPT: &str = include_str!("deps.js");

/// Rows of a layer before it wraps into another column.
const MAX_ROWS: usize = 24;

/// What the page's script reads: the schema is the script's, not a stable one.
#[derive(Debug, Serialize)]
pub struct PageData {
    pub target: String,
    pub source: String,
    pub nodes: Vec<Node>,
    pub files: Vec<String>,
    pub edges: Vec<PageEdge>,
    /// Indices of the commits asked for with `--for`.
    pub wanted: Vec<usize>,
    /// What the prediction covers: `closure` (with `--for`) or `delta` (every pick).
    pub predicted: &'static str,
    pub clean: usize,
    pub empty: usize,
    pub conflicts: usize,
    /// The closure's view (with `--for`) first, then the clusters by area, then by time.
    pub views: Vec<View>,
}

/// A commit of the delta.
#[derive(Debug, Serialize)]
pub struct Node {
    pub id: String,
    pub subject: String,
    pub author: String,
    pub date: String,
    /// Indices into [`PageData::files`].
    pub files: Vec<u32>,
    pub change_ids: Vec<String>,
    pub on_target: bool,
    /// Its place in the pick order (from 1), when it is picked.
    pub pick: Option<usize>,
    /// `clean`, `empty` or `conflict`, when predicted.
    pub outcome: Option<Outcome>,
    pub conflict_files: Vec<String>,
    /// The picks that need this conflicting one, directly or not (node indices).
    pub blocks: Vec<usize>,
    /// The commits that depend on this one directly (node indices).
    pub needed_by: Vec<usize>,
    pub area: String,
}

/// An edge: `commit` depends on `depends_on` because of `reasons`.
#[derive(Debug, Serialize)]
pub struct PageEdge {
    pub commit: usize,
    pub depends_on: usize,
    pub kind: EdgeKind,
    /// (file index, line ranges of the dependent's parent; empty for file edges).
    pub reasons: Vec<(u32, String)>,
}

/// One cluster as drawn: its members and where each sits (column, row).
#[derive(Debug, Serialize)]
pub struct View {
    /// `closure`, `area` or `time`.
    pub kind: &'static str,
    pub name: String,
    pub nodes: Vec<usize>,
    pub col: Vec<u32>,
    pub row: Vec<u32>,
    pub width: u32,
    pub height: u32,
    pub conflicts: usize,
}

/// Reads what the page shows beyond the graph (authors, dates, files, Change-Ids),
/// predicts the picks (the closure with `wanted`, else every pick of the delta) and lays
/// out the views.
pub fn data(
    repo: &Repo,
    graph: &DependencyGraph,
    wanted: &[ObjectId],
    progress: &dyn regraft::progress::Progress,
) -> Result<PageData, CommandError> {
    let index: HashMap<ObjectId, usize> =
        graph.commits.iter().enumerate().map(|(i, c)| (c.commit, i)).collect();
    let mut files: Vec<String> = Vec::new();
    let mut file_index: HashMap<String, u32> = HashMap::new();
    let mut intern = |path: &str| -> u32 {
        if let Some(&i) = file_index.get(path) {
            return i;
        }
        let i = u32::try_from(files.len()).expect("fewer than 4 billion paths");
        files.push(path.to_string());
        file_index.insert(path.to_string(), i);
        i
    };

    // One `git log` for every commit's paths, parents and message.
    let mut touched: HashMap<ObjectId, Vec<String>> = HashMap::new();
    let records = history::list_commits(
        repo.git(),
        graph.target.commit,
        graph.source.commit,
        WithPaths::Yes,
        |record, t| {
            if index.contains_key(&record.id) {
                let paths =
                    t.paths.iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect();
                touched.insert(record.id, paths);
            }
            Ok(())
        },
    )
    .map_err(|e| CommandError::internal(anyhow::Error::new(e)))?;
    let records: HashMap<ObjectId, history::CommitRecord> =
        records.into_iter().map(|r| (r.id, r)).collect();

    let mut nodes = Vec::with_capacity(graph.commits.len());
    for c in &graph.commits {
        let origin = repo.commit_origin(c.commit)?;
        let paths = touched.remove(&c.commit).unwrap_or_default();
        let change_ids = records
            .get(&c.commit)
            .map(|r| regraft::text::message::change_ids(&r.message))
            .unwrap_or_default();
        nodes.push(Node {
            id: c.commit.to_hex(),
            subject: c.summary.clone(),
            author: origin.author_name,
            date: super::date(super::raw_seconds(&origin.author_date)),
            area: main_area(&paths),
            files: paths.iter().map(|p| intern(p)).collect(),
            change_ids,
            on_target: c.on_target,
            pick: None,
            outcome: None,
            conflict_files: Vec::new(),
            blocks: Vec::new(),
            needed_by: Vec::new(),
        });
    }

    let mut edges = Vec::with_capacity(graph.edges.len());
    let mut deps_of: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for e in &graph.edges {
        let (Some(&b), Some(&a)) = (index.get(&e.commit), index.get(&e.depends_on)) else {
            continue;
        };
        deps_of[b].push(a);
        nodes[a].needed_by.push(b);
        edges.push(PageEdge {
            commit: b,
            depends_on: a,
            kind: e.kind,
            reasons: e.reasons.iter().map(|r| (intern(&r.path), r.lines.clone())).collect(),
        });
    }

    // The prediction: what `backport --dry-run` would say of these picks, in this order.
    let order: Vec<ObjectId> = match &graph.closure {
        Some(closure) => closure.clone(),
        None => graph.commits.iter().filter(|c| !c.on_target).map(|c| c.commit).collect(),
    };
    let picks: Vec<ToPick> = order
        .iter()
        .map(|c| ToPick {
            commit: *c,
            parent: records.get(c).and_then(|r| r.parents.first().copied()),
        })
        .collect();
    let simulation = simulation::simulate(repo, graph.target.commit, &picks, progress)
        .map_err(|e| CommandError::internal(anyhow::Error::new(e)))?;
    let (mut clean, mut empty, mut conflicting) = (0, 0, HashSet::new());
    for (n, pick) in simulation.picks.iter().enumerate() {
        let node = &mut nodes[index[&pick.commit]];
        node.pick = Some(n + 1);
        node.outcome = Some(pick.outcome);
        match pick.outcome {
            Outcome::Clean => clean += 1,
            Outcome::Empty => empty += 1,
            Outcome::Conflict => {
                conflicting.insert(pick.commit);
                node.conflict_files = pick.conflicts.clone();
            }
        }
    }
    for (commit, needed) in graph.needs_among(&order, &conflicting) {
        for c in needed {
            nodes[index[&c]].blocks.push(index[&commit]);
        }
    }
    for node in &mut nodes {
        node.blocks.sort_unstable();
    }

    let mut views = Vec::new();
    if let Some(closure) = &graph.closure {
        let mut members: Vec<usize> =
            closure.iter().filter_map(|c| index.get(c).copied()).collect();
        let inside: HashSet<usize> = members.iter().copied().collect();
        let present: HashSet<usize> = members
            .iter()
            .flat_map(|b| deps_of[*b].iter().copied())
            .filter(|a| !inside.contains(a) && nodes[*a].on_target)
            .collect();
        members.extend(present);
        members.sort_unstable();
        let names: Vec<String> = wanted.iter().map(|w| w.short()).collect();
        views.push(view(
            "closure",
            format!("what {} needs", names.join(", ")),
            members,
            &deps_of,
            &nodes,
        ));
    }
    let mut by_area: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut by_month: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, node) in nodes.iter().enumerate() {
        by_area.entry(&node.area).or_default().push(i);
        by_month.entry(node.date.get(..7).unwrap_or("")).or_default().push(i);
    }
    let mut areas: Vec<(&str, Vec<usize>)> = by_area.into_iter().collect();
    areas.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    let area_views: Vec<View> = areas
        .into_iter()
        .map(|(name, members)| view("area", name.to_string(), members, &deps_of, &nodes))
        .collect();
    let month_views: Vec<View> = by_month
        .into_iter()
        .map(|(name, members)| view("time", name.to_string(), members, &deps_of, &nodes))
        .collect();
    views.extend(area_views);
    views.extend(month_views);

    Ok(PageData {
        target: graph.target.name.clone(),
        source: graph.source.name.clone(),
        wanted: wanted.iter().filter_map(|w| index.get(w).copied()).collect(),
        predicted: if graph.closure.is_some() { "closure" } else { "delta" },
        clean,
        empty,
        conflicts: conflicting.len(),
        nodes,
        files,
        edges,
        views,
    })
}

/// Writes the page.
pub fn write(out: &mut impl Write, data: &PageData) -> io::Result<()> {
    let json = super::script_json(data).map_err(io::Error::other)?;
    let title = format!("deps {} from {}", data.target, data.source);
    let body = format!(
        "<header><h1>{}</h1><p id=\"summary\"></p>\
         <input id=\"search\" type=\"search\" placeholder=\"commit id, subject or Change-Id\" \
         autocomplete=\"off\" aria-label=\"search\"><ul id=\"results\"></ul></header>\n\
         <nav id=\"tabs\"></nav><section id=\"clusters\"></section>\n\
         <main><div id=\"graph\"></div><aside id=\"details\"><p class=\"hint\">Click a commit \
         to see what it needs and why.</p></aside></main>\n\
         <footer id=\"legend\"></footer>\n",
        super::escape(&title)
    );
    super::page(out, &title, &body, Some((&json, SCRIPT)))
}

/// Returns the area most of `paths` are in (the first by name among equals).
fn main_area(paths: &[String]) -> String {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for p in paths {
        *count.entry(super::area(p)).or_default() += 1;
    }
    let best = count.values().copied().max().unwrap_or(0);
    count
        .into_iter()
        .find(|(_, n)| *n == best)
        .map_or_else(|| "(no files)".to_string(), |(a, _)| a.to_string())
}

/// Lays out `members` (node indices, in the delta's order) in layers: a commit's column is
/// one past the deepest of its dependencies among the members, so every edge points left;
/// a layer taller than [`MAX_ROWS`] wraps into further columns.
fn view(
    kind: &'static str,
    name: String,
    members: Vec<usize>,
    deps_of: &[Vec<usize>],
    nodes: &[Node],
) -> View {
    let position: HashMap<usize, usize> =
        members.iter().enumerate().map(|(k, i)| (*i, k)).collect();
    let mut depth = vec![0usize; members.len()];
    for (k, i) in members.iter().enumerate() {
        // Dependencies come earlier in the delta's order, so theirs are known.
        depth[k] = deps_of[*i]
            .iter()
            .filter_map(|a| position.get(a))
            .map(|&p| depth[p] + 1)
            .max()
            .unwrap_or(0);
    }
    let layers = depth.iter().copied().max().map_or(0, |d| d + 1);
    let mut per_layer = vec![0usize; layers];
    for &d in &depth {
        per_layer[d] += 1;
    }
    // The first column of each layer.
    let mut first = vec![0usize; layers];
    let mut columns = 0;
    for (d, n) in per_layer.iter().enumerate() {
        first[d] = columns;
        columns += n.div_ceil(MAX_ROWS).max(1);
    }
    let mut filled = vec![0usize; layers];
    let (mut col, mut row) = (Vec::with_capacity(members.len()), Vec::with_capacity(members.len()));
    let mut height = 0;
    for &d in &depth {
        let k = filled[d];
        filled[d] += 1;
        let r = k % MAX_ROWS;
        height = height.max(r + 1);
        col.push(u32::try_from(first[d] + k / MAX_ROWS).expect("a column"));
        row.push(u32::try_from(r).expect("a row"));
    }
    let conflicts =
        members.iter().filter(|i| nodes[**i].outcome == Some(Outcome::Conflict)).count();
    View {
        kind,
        name,
        nodes: members,
        col,
        row,
        width: u32::try_from(columns).expect("columns"),
        height: u32::try_from(height).expect("rows"),
        conflicts,
    }
}
