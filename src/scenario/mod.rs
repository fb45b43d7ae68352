//! The sample history every test, benchmark and the demo stand on: a trunk, a stable
//! branch that forked from it long ago and received backports in every style Kolla's
//! `stable/liberty` did, and a newer stable branch carrying the fix the old one needs.
//!
//! The history is planned in memory and written by one `git fast-import` process, so a
//! benchmark can ask for thousands of commits. Commit ids are the same on every run.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout};

use crate::git::sample::SampleGit;
use crate::git::{GitError, SAMPLE_AUTHOR, SAMPLE_COMMITTER};
use crate::oid::ObjectId;

pub mod environment;
pub mod forward;
pub mod served;

use environment::{EPOCH, change_id};

/// The branch the scenario breaks (TARGET in every command).
pub const TARGET: &str = "stable/liberty";
/// The branch that holds the fix (SOURCE in every command).
pub const SOURCE: &str = "stable/mitaka";
/// The trunk both stable branches were cut from.
pub const TRUNK: &str = "master";

/// Errors from building a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("running git in {dir}")]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("building the sample in {dir}")]
    Git {
        dir: PathBuf,
        #[source]
        source: GitError,
    },
}

/// The sample is built in a directory of its own: its failures are never the user's.
impl crate::ErrorOrigin for ScenarioError {
    fn is_user_input(&self) -> bool {
        match self {
            ScenarioError::Io { .. } | ScenarioError::Git { .. } => false,
        }
    }
}

/// How big a scenario to build.
#[derive(Debug, Clone)]
pub struct ScenarioSpec {
    /// Changes landed on the trunk after the old stable branch forked.
    pub trunk_changes: usize,
    /// Seed of the generator; the same seed gives the same commit ids.
    pub seed: u64,
    /// Gives some trunk changes messages in the shapes trailer parsers misread
    /// (`Implements blueprint x` in the footer, CR LF, a Change-Id under the subject...).
    /// Off in [`ScenarioSpec::small`], whose commit ids plans kept by tests name.
    pub message_shapes: bool,
}

impl ScenarioSpec {
    /// The size used by tests and the demo: a few hundred commits, built in well under a
    /// second.
    pub fn small() -> Self {
        ScenarioSpec { trunk_changes: 80, seed: 2016, message_shapes: false }
    }

    /// The small scenario with every message shape the builder can make.
    pub fn with_message_shapes() -> Self {
        ScenarioSpec { message_shapes: true, ..Self::small() }
    }

    /// A scenario with `trunk_changes` trunk changes, for benchmarks.
    pub fn with_trunk_changes(trunk_changes: usize) -> Self {
        ScenarioSpec { trunk_changes, ..Self::small() }
    }
}

/// What the builder made, for commands and tests to start from.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The repository (with a work tree, `stable/liberty` checked out).
    pub dir: PathBuf,
    /// Where `stable/liberty` forked from the trunk (tag `1.0.0`).
    pub liberty_fork: ObjectId,
    /// Where `stable/mitaka` forked from the trunk (tag `2.0.0`).
    pub mitaka_fork: ObjectId,
    /// The commit on `stable/mitaka` that fixes the data-loss bug on `stable/liberty`.
    pub fix: ObjectId,
    /// Commits the builder made on each branch, in the order it made them.
    pub counts: ScenarioCounts,
}

/// How many commits of each kind the builder made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioCounts {
    pub trunk: usize,
    pub liberty: usize,
    pub mitaka: usize,
    pub merges: usize,
    /// Backports to `stable/liberty` of changes that are in `stable/mitaka`, by style.
    pub backports: BTreeMap<&'static str, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    mode: &'static str,
    data: Vec<u8>,
}

type Tree = BTreeMap<String, Entry>;

#[derive(Debug, Clone)]
enum Op {
    Edit { path: String, old: String, new: String },
    Insert { path: String, after: String, lines: Vec<String> },
    Put { path: String, entry: Entry },
    Delete { path: String },
    Rename { from: String, to: String },
}

impl Op {
    fn paths(&self) -> Vec<&str> {
        match self {
            Op::Edit { path, .. } | Op::Insert { path, .. } | Op::Put { path, .. } => vec![path],
            Op::Delete { path } => vec![path],
            Op::Rename { from, to } => vec![from, to],
        }
    }

    /// Applies the change where it still makes sense, as a clean cherry-pick would;
    /// returns false (tree unchanged) when the lines or files it needs are not there.
    fn apply(&self, tree: &mut Tree) -> bool {
        match self {
            Op::Edit { path, old, new } => edit_text(tree, path, |lines| {
                let i = lines.iter().position(|l| l == old)?;
                lines[i] = new.clone();
                Some(())
            }),
            Op::Insert { path, after, lines: new } => edit_text(tree, path, |lines| {
                let i = lines.iter().position(|l| l == after)?;
                lines.splice(i + 1..i + 1, new.iter().cloned());
                Some(())
            }),
            Op::Put { path, entry } => {
                tree.insert(path.clone(), entry.clone());
                true
            }
            Op::Delete { path } => tree.remove(path).is_some(),
            Op::Rename { from, to } => {
                if tree.contains_key(to) {
                    return false;
                }
                match tree.remove(from) {
                    Some(entry) => {
                        tree.insert(to.clone(), entry);
                        true
                    }
                    None => false,
                }
            }
        }
    }
}

fn edit_text(tree: &mut Tree, path: &str, f: impl FnOnce(&mut Vec<String>) -> Option<()>) -> bool {
    let Some(entry) = tree.get_mut(path) else { return false };
    if entry.mode != "100644" && entry.mode != "100755" {
        return false;
    }
    let text = String::from_utf8_lossy(&entry.data).into_owned();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if f(&mut lines).is_none() {
        return false;
    }
    entry.data = (lines.join("\n") + "\n").into_bytes();
    true
}

/// A change as the generator plans it: what it does and how its message reads.
#[derive(Debug, Clone)]
struct Change {
    ops: Vec<Op>,
    subject: String,
    body: String,
    footer: Vec<String>,
    change_id: String,
    encoding: Option<&'static str>,
    raw_subject: Option<Vec<u8>>,
    author_date: i64,
    layout: Layout,
}

/// How a change's message is laid out, beyond subject, body and footer paragraphs: the
/// shapes of real messages that trailer parsers get wrong.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Layout {
    /// The footer follows the subject in its paragraph (no blank line between).
    joined: bool,
    /// Text after the footer (blank lines, an old `Conflicts:` list).
    tail: &'static str,
    /// Lines end with CR LF.
    crlf: bool,
}

impl Change {
    fn message(&self, extra_footer: &[String]) -> Vec<u8> {
        let mut out = match &self.raw_subject {
            Some(raw) => raw.clone(),
            None => self.subject.clone().into_bytes(),
        };
        if self.layout != Layout::default() {
            return self.laid_out(out, extra_footer);
        }
        out.extend_from_slice(b"\n\n");
        out.extend_from_slice(self.body.as_bytes());
        out.extend_from_slice(b"\n\n");
        let mut footer = self.footer.clone();
        if !self.change_id.is_empty() {
            footer.push(format!("Change-Id: {}", self.change_id));
        }
        footer.extend_from_slice(extra_footer);
        out.extend_from_slice(footer.join("\n").as_bytes());
        out.push(b'\n');
        out
    }

    /// The message after `subject` as its [`Layout`] says: an empty body or footer is left
    /// out with its blank line.
    fn laid_out(&self, subject: Vec<u8>, extra_footer: &[String]) -> Vec<u8> {
        let mut out = subject;
        if !self.body.is_empty() {
            out.extend_from_slice(b"\n\n");
            out.extend_from_slice(self.body.as_bytes());
        }
        let mut footer = self.footer.clone();
        if !self.change_id.is_empty() {
            footer.push(format!("Change-Id: {}", self.change_id));
        }
        footer.extend_from_slice(extra_footer);
        if !footer.is_empty() {
            out.extend_from_slice(if self.layout.joined { b"\n" } else { b"\n\n" });
            out.extend_from_slice(footer.join("\n").as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(self.layout.tail.as_bytes());
        if self.layout.crlf {
            let mut crlf = Vec::with_capacity(out.len() + out.len() / 20);
            for b in out {
                if b == b'\n' {
                    crlf.push(b'\r');
                }
                crlf.push(b);
            }
            return crlf;
        }
        out
    }
}

/// A branch being written: its tip and the tree there.
#[derive(Debug, Clone)]
struct Branch {
    name: &'static str,
    tip: usize,
    tree: Tree,
    /// The tip's first parent and its tree, to base a change on when landing it as a merge.
    previous: Option<(usize, Tree)>,
}

/// Small, fast, deterministic generator (SplitMix64).
#[derive(Debug)]
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const TOPICS: &[&str] = &[
    "data containers",
    "ansible inventory",
    "docker module",
    "keystone bootstrap",
    "build retries",
    "diagnostics",
    "heka logging",
    "rabbitmq clustering",
    "mariadb recovery",
    "neutron agents",
];

/// Writes the whole history through `git fast-import`, asking it for commit ids when a
/// message must name one.
struct Writer {
    input: BufWriter<ChildStdin>,
    answers: BufReader<ChildStdout>,
    marks: usize,
    clock: i64,
    ids: BTreeMap<usize, ObjectId>,
}

impl Writer {
    fn commit(
        &mut self,
        branch: &mut Branch,
        message: &[u8],
        encoding: Option<&str>,
        author_date: i64,
        merge_from: Option<usize>,
        new_tree: Tree,
    ) -> std::io::Result<usize> {
        self.marks += 1;
        self.clock += 600;
        let mark = self.marks;
        let w = &mut self.input;
        writeln!(w, "commit refs/heads/{}", branch.name)?;
        writeln!(w, "mark :{mark}")?;
        let ((author, author_email), (committer, committer_email)) =
            (SAMPLE_AUTHOR, SAMPLE_COMMITTER);
        writeln!(w, "author {author} <{author_email}> {author_date} +0000")?;
        writeln!(w, "committer {committer} <{committer_email}> {} +0000", self.clock)?;
        if let Some(encoding) = encoding {
            writeln!(w, "encoding {encoding}")?;
        }
        writeln!(w, "data {}", message.len())?;
        w.write_all(message)?;
        writeln!(w)?;
        if branch.tip != 0 {
            writeln!(w, "from :{}", branch.tip)?;
        }
        if let Some(other) = merge_from {
            writeln!(w, "merge :{other}")?;
        }
        // fast-import starts from the first parent's tree: say only what differs.
        for path in branch.tree.keys().filter(|p| !new_tree.contains_key(*p)) {
            writeln!(w, "D {path}")?;
        }
        for (path, entry) in &new_tree {
            if branch.tree.get(path) != Some(entry) {
                writeln!(w, "M {} inline {path}", entry.mode)?;
                writeln!(w, "data {}", entry.data.len())?;
                w.write_all(&entry.data)?;
                writeln!(w)?;
            }
        }
        writeln!(w)?;
        branch.previous = Some((branch.tip, std::mem::take(&mut branch.tree)));
        branch.tip = mark;
        branch.tree = new_tree;
        Ok(mark)
    }

    fn id(&mut self, mark: usize) -> std::io::Result<ObjectId> {
        if let Some(id) = self.ids.get(&mark) {
            return Ok(*id);
        }
        writeln!(self.input, "get-mark :{mark}")?;
        self.input.flush()?;
        let mut line = String::new();
        self.answers.read_line(&mut line)?;
        let id = ObjectId::from_hex(line.trim().as_bytes()).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("get-mark said {line:?}"))
        })?;
        self.ids.insert(mark, id);
        Ok(id)
    }

    fn tag(&mut self, name: &str, mark: usize, message: &str) -> std::io::Result<()> {
        self.clock += 60;
        writeln!(self.input, "tag {name}")?;
        writeln!(self.input, "from :{mark}")?;
        writeln!(self.input, "tagger Rel Manager <release@example.org> {} +0000", self.clock)?;
        writeln!(self.input, "data {}", message.len() + 1)?;
        writeln!(self.input, "{message}")?;
        writeln!(self.input)
    }

    fn reset(&mut self, reference: &str, mark: usize) -> std::io::Result<()> {
        writeln!(self.input, "reset {reference}")?;
        writeln!(self.input, "from :{mark}")?;
        writeln!(self.input)
    }
}

/// Builds the scenario in `dir` (created if needed; it should be empty).
pub fn build(dir: &Path, spec: &ScenarioSpec) -> Result<Scenario, ScenarioError> {
    let (ids, counts) = import(dir, TRUNK, TARGET, |writer| Planner::new(spec).write(writer))?;
    Ok(Scenario {
        dir: dir.to_path_buf(),
        liberty_fork: ids[0],
        mitaka_fork: ids[1],
        fix: ids[2],
        counts,
    })
}

/// Makes a repository in `dir` on branch `trunk`, writes a history into it with `write`
/// through one `git fast-import`, and checks out `checkout`.
fn import<T>(
    dir: &Path,
    trunk: &str,
    checkout: &str,
    write: impl FnOnce(&mut Writer) -> std::io::Result<T>,
) -> Result<T, ScenarioError> {
    let io = |source| ScenarioError::Io { dir: dir.to_path_buf(), source };
    let git_error = |source| ScenarioError::Git { dir: dir.to_path_buf(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let sample = SampleGit::new(dir, EPOCH);
    sample.init(trunk).map_err(git_error)?;
    let mut import = sample.fast_import().map_err(git_error)?;
    let mut writer = Writer {
        input: BufWriter::new(import.take_stdin()),
        answers: BufReader::new(import.take_stdout()),
        marks: 0,
        clock: EPOCH,
        ids: BTreeMap::new(),
    };
    let plan = write(&mut writer);
    let finished = plan.and_then(|plan| {
        writeln!(writer.input, "done")?;
        writer.input.flush()?;
        Ok(plan)
    });
    drop(writer);
    // git's own complaint first: a stream cut short is only its consequence.
    import.finish().map_err(git_error)?;
    let written = finished.map_err(io)?;
    sample.force_checkout(checkout).map_err(git_error)?;
    Ok(written)
}

/// Plans the history while it is written.
struct Planner {
    dice: Dice,
    spec: ScenarioSpec,
    next_change: usize,
    counts: ScenarioCounts,
    modules: usize,
    /// Trunk changes given one of [`MESSAGE_SHAPES`] so far.
    shaped: usize,
}

/// A trunk change and the mark it landed as, kept for backports.
#[derive(Debug, Clone)]
struct Landed {
    change: Change,
    mark: usize,
    before_mitaka: bool,
}

impl Planner {
    fn new(spec: &ScenarioSpec) -> Self {
        let modules = (spec.trunk_changes / 8).clamp(8, 400);
        Planner {
            dice: Dice(spec.seed),
            spec: spec.clone(),
            next_change: 0,
            counts: ScenarioCounts::default(),
            modules,
            shaped: 0,
        }
    }

    fn initial_tree(&self) -> Tree {
        let mut tree = Tree::new();
        for m in 0..self.modules {
            let mut text = format!("\"\"\"Module {m} of the sample deployment tool.\"\"\"\n\n");
            for line in 0..30 {
                text.push_str(&format!("value_{m}_{line} = 'r0'\n"));
            }
            tree.insert(module_path(m), text_entry(text));
        }
        tree.insert("docker/config.json".into(), text_entry("{\"volumes\": \"data\"}\n".into()));
        tree.insert("images/logo.png".into(), Entry { mode: "100644", data: binary_blob(0) });
        tree.insert(
            "tools/run.sh".into(),
            text_entry("#!/bin/sh\nexec kolla-build \"$@\"\n".into()),
        );
        tree.insert("README.rst".into(), text_entry("Sample deployment tool\n".into()));
        tree
    }

    fn new_change(&mut self, tree: &Tree, at: i64) -> Change {
        self.next_change += 1;
        let n = self.next_change;
        let topic = TOPICS[self.dice.below(TOPICS.len())];
        let mut ops = Vec::new();
        let roll = self.dice.below(100);
        let module = self.pick_text_file(tree);
        if roll < 15 {
            if let Some(path) = &module {
                let after = self.pick_line(tree, path);
                let lines =
                    (0..1 + self.dice.below(3)).map(|j| format!("extra_{n}_{j} = True")).collect();
                ops.push(Op::Insert { path: path.clone(), after, lines });
            }
        } else if roll < 22 {
            let path = format!("kolla/plugins/plugin_{n}.py");
            ops.push(Op::Put { path, entry: text_entry(format!("PLUGIN = {n}\n")) });
        }
        if ops.is_empty() {
            if let Some(path) = module {
                let old = self.pick_line(tree, &path);
                let new = edit_value(&old, n);
                ops.push(Op::Edit { path, old, new });
            }
        }
        let footer = match self.dice.below(10) {
            0 => vec!["TrivialFix".to_string()],
            1 => vec!["DocImpact".to_string(), format!("Closes-Bug: #{}", 1_500_000 + n)],
            2..=4 => vec![format!("Closes-Bug: #{}", 1_500_000 + n)],
            5 => vec![format!("Partial-Bug: #{}", 1_500_000 + n)],
            _ => vec![],
        };
        Change {
            ops,
            subject: format!("Fix {topic} handling ({n})"),
            body: format!("The {topic} code path mishandled case {n}; this corrects it."),
            footer,
            change_id: change_id(&format!("change {n} seed {}", self.spec.seed)),
            encoding: None,
            raw_subject: None,
            author_date: at,
            layout: Layout::default(),
        }
    }

    fn pick_text_file(&mut self, tree: &Tree) -> Option<String> {
        let candidates: Vec<&String> =
            tree.keys().filter(|p| p.starts_with("kolla/") && p.ends_with(".py")).collect();
        (!candidates.is_empty()).then(|| candidates[self.dice.below(candidates.len())].clone())
    }

    fn pick_line(&mut self, tree: &Tree, path: &str) -> String {
        let text = String::from_utf8_lossy(&tree[path].data).into_owned();
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(" = ")).collect();
        lines[self.dice.below(lines.len())].to_string()
    }

    /// Writes the history; returns the fork points and fix, and the counts.
    fn write(mut self, w: &mut Writer) -> std::io::Result<([ObjectId; 3], ScenarioCounts)> {
        let mut trunk = Branch { name: TRUNK, tip: 0, tree: Tree::new(), previous: None };
        let root = Change {
            ops: self
                .initial_tree()
                .into_iter()
                .map(|(path, entry)| Op::Put { path, entry })
                .collect(),
            subject: "Initial import of the deployment tool".into(),
            body: "Start of history.".into(),
            footer: vec![],
            change_id: change_id("root"),
            encoding: None,
            raw_subject: None,
            author_date: EPOCH,
            layout: Layout::default(),
        };
        self.land(w, &mut trunk, &root, &[], false)?;
        for _ in 0..6 {
            let change = self.new_change(&trunk.tree, w.clock);
            self.land(w, &mut trunk, &change, &[], false)?;
        }
        let liberty_fork = trunk.tip;
        w.tag("1.0.0", liberty_fork, "Liberty release")?;
        let mut liberty = Branch { name: TARGET, ..trunk.clone() };
        w.reset(&format!("refs/heads/{TARGET}"), liberty_fork)?;

        let total = self.spec.trunk_changes.max(40);
        let mitaka_at = total * 7 / 10;
        let mut mitaka: Option<Branch> = None;
        let mut landed: Vec<Landed> = Vec::new();
        let mut pending_backports: Vec<usize> = Vec::new();
        let mut fix = None;
        for i in 0..total {
            if i == mitaka_at {
                w.tag("2.0.0", trunk.tip, "Mitaka release")?;
                w.reset(&format!("refs/heads/{SOURCE}"), trunk.tip)?;
                mitaka = Some(Branch { name: SOURCE, ..trunk.clone() });
            }
            let mut change = self.new_change(&trunk.tree, w.clock);
            self.special(i, total, &trunk.tree, &mut change);
            let as_merge = i % 7 == 3;
            let mark = self.land(w, &mut trunk, &change, &[], as_merge)?;
            self.counts.trunk += 1;
            landed.push(Landed { change, mark, before_mitaka: mitaka.is_none() });
            if self.dice.chance(30) {
                pending_backports.push(landed.len() - 1);
            }
            // Backports trail their originals by a few changes, as reviews take time.
            if pending_backports.len() > 2 || i + 1 == total {
                for index in std::mem::take(&mut pending_backports) {
                    self.backport(w, &mut liberty, &landed[index])?;
                }
            }
            if self.dice.chance(8) {
                let own = self.new_change(&liberty.tree, w.clock);
                let as_merge = self.dice.chance(30);
                self.land(w, &mut liberty, &own, &[], as_merge)?;
                self.counts.liberty += 1;
            }
            if let Some(mitaka) = mitaka.as_mut() {
                if self.dice.chance(25) {
                    let id = w.id(mark)?;
                    let trailer = [format!("(cherry picked from commit {id})")];
                    let picked = landed[landed.len() - 1].change.clone();
                    let as_merge = self.dice.chance(40);
                    if self.land(w, mitaka, &picked, &trailer, as_merge).is_ok() {
                        self.counts.mitaka += 1;
                    }
                }
                if fix.is_none() && i >= mitaka_at + (total - mitaka_at) / 2 {
                    let change = self.fix_change(&mitaka.tree, w.clock);
                    fix = Some(self.land(w, mitaka, &change, &[], false)?);
                    self.counts.mitaka += 1;
                }
            }
        }
        let mitaka = mitaka.expect("the loop forks stable/mitaka at 70%");
        let fix = match fix {
            Some(fix) => fix,
            None => {
                let mut mitaka = mitaka.clone();
                let change = self.fix_change(&mitaka.tree, w.clock);
                self.land(w, &mut mitaka, &change, &[], false)?
            }
        };
        self.missing_reference_backport(w, &mut liberty)?;
        w.tag(
            "liberty-last",
            liberty.tip,
            "Last liberty release before the data-loss bug was found",
        )?;
        let ids = [w.id(liberty_fork)?, w.id(mitaka_fork_mark(&landed, mitaka_at))?, w.id(fix)?];
        Ok((ids, self.counts))
    }

    /// Turns some trunk changes into the awkward cases real histories have.
    fn special(&mut self, i: usize, total: usize, tree: &Tree, change: &mut Change) {
        let at = |percent: usize| i == total * percent / 100;
        if at(10) {
            change.ops = vec![Op::Put {
                path: "images/logo.png".into(),
                entry: Entry { mode: "100644", data: binary_blob(1) },
            }];
            change.subject = "Refresh the logo".into();
        } else if at(15) {
            let mut entry = tree["tools/run.sh"].clone();
            entry.mode = "100755";
            change.ops = vec![Op::Put { path: "tools/run.sh".into(), entry }];
            change.subject = "Make tools/run.sh executable".into();
        } else if at(20) {
            change.ops = vec![Op::Put {
                path: "docker/config.json".into(),
                entry: Entry { mode: "120000", data: b"../etc/kolla/config.json".to_vec() },
            }];
            change.subject = "Replace docker/config.json with a link to etc/kolla".into();
        } else if at(25) {
            change.ops =
                vec![Op::Rename { from: module_path(1), to: "kolla/common/module_1.py".into() }];
            change.subject = "Move module 1 under kolla/common".into();
        } else if at(30) {
            change.subject = "Corrige la journalisation française".into();
            change.raw_subject = Some(b"Corrige la journalisation fran\xe7aise".to_vec());
            change.encoding = Some("ISO-8859-1");
        } else if at(35) {
            change.raw_subject = Some(b"Fix build of caf\xe9 images (no encoding header)".to_vec());
        } else if at(40) {
            change.ops = vec![Op::Delete { path: "README.rst".into() }];
            change.subject = "Remove the old README".into();
        } else if at(45) {
            change.ops = vec![Op::Put {
                path: "README.rst".into(),
                entry: text_entry("Sample deployment tool, again\n".into()),
            }];
            change.subject = "Bring the README back".into();
        } else if self.spec.message_shapes && i % 5 == 1 {
            let (name, shape) = MESSAGE_SHAPES[self.shaped % MESSAGE_SHAPES.len()];
            self.shaped += 1;
            shape(change);
            change.subject = format!("{} ({name})", change.subject);
        }
    }

    fn fix_change(&mut self, tree: &Tree, at: i64) -> Change {
        let mut change = self.new_change(tree, at);
        // The fix rewrites lines earlier changes touched, so it cannot be picked alone.
        let mut candidates: Vec<(String, String)> = tree
            .iter()
            .filter(|(path, e)| path.ends_with(".py") && e.mode == "100644")
            .flat_map(|(path, e)| {
                String::from_utf8_lossy(&e.data)
                    .lines()
                    .filter(|l| l.contains(" = 'r") && !l.ends_with("'r0'"))
                    .map(|l| (path.clone(), l.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut ops = Vec::new();
        for _ in 0..4 {
            if candidates.is_empty() {
                break;
            }
            let (path, old) = candidates.swap_remove(self.dice.below(candidates.len()));
            ops.push(Op::Edit { path, new: edit_value(&old, 9999), old });
        }
        change.ops = ops;
        change.subject = "Fix data containers losing data on upgrade".into();
        change.body =
            "Named volumes replace data containers, which lost data when recreated.".into();
        change.footer = vec!["Closes-Bug: #1567093".into()];
        change
    }

    /// Lands a change on a branch, directly or (Gerrit style) as a change based on the
    /// tip's parent merged with a merge commit; returns the branch's new tip.
    fn land(
        &mut self,
        w: &mut Writer,
        branch: &mut Branch,
        change: &Change,
        extra_footer: &[String],
        as_merge: bool,
    ) -> std::io::Result<usize> {
        let message = change.message(extra_footer);
        let mut tree = branch.tree.clone();
        if !change.ops.iter().all(|op| op.apply(&mut tree)) {
            return Err(std::io::Error::other("change does not apply"));
        }
        let base = branch.previous.clone().filter(|(mark, base_tree)| {
            *mark != 0 && touches_only_unchanged(&change.ops, base_tree, &branch.tree)
        });
        match base {
            Some((base_mark, base_tree)) if as_merge => {
                let mut side = Branch {
                    name: branch.name,
                    tip: base_mark,
                    tree: base_tree.clone(),
                    previous: None,
                };
                let mut side_tree = base_tree;
                if !change.ops.iter().all(|op| op.apply(&mut side_tree)) {
                    return Err(std::io::Error::other("change does not apply to the parent"));
                }
                let side_mark = w.commit(
                    &mut side,
                    &message,
                    change.encoding,
                    change.author_date,
                    None,
                    side_tree,
                )?;
                let merge_message = format!("Merge \"{}\" into {}\n", change.subject, branch.name);
                self.counts.merges += 1;
                w.commit(branch, merge_message.as_bytes(), None, w.clock, Some(side_mark), tree)?;
                // The branch ref was moved to the side commit by the side's commit command.
                Ok(branch.tip)
            }
            _ => w.commit(branch, &message, change.encoding, change.author_date, None, tree),
        }
    }

    /// Backports a trunk change to `stable/liberty` in one of the styles seen in Kolla.
    fn backport(
        &mut self,
        w: &mut Writer,
        liberty: &mut Branch,
        original: &Landed,
    ) -> std::io::Result<()> {
        let mut change = original.change.clone();
        let id = w.id(original.mark)?;
        let trailer = vec![format!("(cherry picked from commit {id})")];
        let style = match self.dice.below(20) {
            0..=7 => "cherry-pick -x",
            8..=10 => "edited, same Change-Id",
            11..=13 => "resubmitted without trailer",
            14..=15 => "new Change-Id, same patch",
            16..=17 => "trailer without Change-Id",
            _ => "abbreviated trailer",
        };
        let extra = match style {
            "cherry-pick -x" => trailer,
            "edited, same Change-Id" => {
                if let Some(path) = self.pick_text_file(&liberty.tree) {
                    let old = self.pick_line(&liberty.tree, &path);
                    change.ops.push(Op::Edit { path, new: format!("{old}  # liberty"), old });
                }
                trailer
            }
            "resubmitted without trailer" => vec![],
            "new Change-Id, same patch" => {
                change.change_id = change_id(&format!("resubmitted {}", change.change_id));
                vec![]
            }
            "trailer without Change-Id" => {
                change.change_id.clear();
                trailer
            }
            _ => vec![format!("(cherry picked from commit {})", &id.to_hex()[..12])],
        };
        change.subject = format!("{} [liberty]", change.subject);
        if change.raw_subject.is_some() {
            change.raw_subject = None;
            change.encoding = None;
        }
        let as_merge = self.dice.chance(30);
        if self.land(w, liberty, &change, &extra, as_merge).is_ok() {
            self.counts.liberty += 1;
            if original.before_mitaka {
                *self.counts.backports.entry(style).or_default() += 1;
            }
        }
        Ok(())
    }

    /// A backport whose trailer names a commit from a fork this repository never saw.
    fn missing_reference_backport(
        &mut self,
        w: &mut Writer,
        liberty: &mut Branch,
    ) -> std::io::Result<()> {
        let mut change = self.new_change(&liberty.tree, w.clock);
        change.subject = "Backport a fix from a downstream fork".into();
        let trailer =
            ["(cherry picked from commit 0badc0de0badc0de0badc0de0badc0de0badc0de)".to_string()];
        self.land(w, liberty, &change, &trailer, false)?;
        self.counts.liberty += 1;
        Ok(())
    }
}

/// Gives a change's message one shape.
type Reshape = fn(&mut Change);

/// Message shapes seen in OpenStack histories whose footers trailer parsers misread, each
/// with the name a trunk change carries in its subject.
const MESSAGE_SHAPES: [(&str, Reshape); 12] = [
    ("blueprint line", |c| c.footer = vec!["Implements blueprint sample-feature".into()]),
    ("spaced key", |c| {
        c.footer = vec!["Partially implements: blueprint sample".into(), "Closes-Bug: #1".into()]
    }),
    ("Trivial-Fix", |c| c.footer = vec!["Trivial-Fix".into()]),
    ("indented list", |c| {
        c.footer =
            vec!["This covers:".into(), "  - the first case".into(), "  - the second case".into()]
    }),
    ("long list", |c| {
        c.footer = std::iter::once("Related changes:".to_string())
            .chain((1..=7).map(|k| format!("  * follow-up {k}")))
            .collect()
    }),
    ("trailing blank lines", |c| {
        c.footer = vec!["Closes-Bug: #2".into()];
        c.layout.tail = "\n\n";
    }),
    ("CRLF", |c| {
        c.footer = vec!["TrivialFix".into()];
        c.layout.crlf = true;
    }),
    ("no body", |c| {
        c.body.clear();
        c.footer = vec!["Closes-Bug: #3".into()];
    }),
    ("subject only", |c| {
        c.body.clear();
        c.footer.clear();
        c.change_id.clear();
    }),
    ("Change-Id under the subject", |c| {
        c.body.clear();
        c.footer.clear();
        c.layout.joined = true;
    }),
    ("old Conflicts list", |c| {
        c.footer = vec!["Closes-Bug: #4".into()];
        c.layout.tail = "\nConflicts:\n\tkolla/common/config.py\n";
    }),
    ("sign-off among lines", |c| {
        c.footer = vec![
            "Implements blueprint sample-feature".into(),
            "Signed-off-by: Ada Author <ada@example.org>".into(),
        ]
    }),
];

fn mitaka_fork_mark(landed: &[Landed], mitaka_at: usize) -> usize {
    landed[mitaka_at - 1].mark
}

/// Tells whether the change's paths are the same in `base` and `tip`, so it can be based
/// on `base` and merged into `tip` without a conflict.
fn touches_only_unchanged(ops: &[Op], base: &Tree, tip: &Tree) -> bool {
    ops.iter().flat_map(Op::paths).all(|p| base.get(p) == tip.get(p))
}

fn module_path(m: usize) -> String {
    format!("kolla/module_{m}.py")
}

fn text_entry(text: String) -> Entry {
    Entry { mode: "100644", data: text.into_bytes() }
}

fn edit_value(line: &str, n: usize) -> String {
    match line.split_once(" = ") {
        Some((name, _)) => format!("{name} = 'r{n}'"),
        None => format!("{line} # r{n}"),
    }
}

fn binary_blob(version: u8) -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    data.extend((0..200u8).map(|b| b.wrapping_mul(31).wrapping_add(version)));
    data
}
