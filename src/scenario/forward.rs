//! A second sample: a project without Gerrit whose long-term-support branch takes
//! backports in the styles other projects write (git's cherry-pick line, the Linux stable
//! trees' markers, Django's, a trailer of the project's own), some of them adapted, and is
//! merged forward into the main line, so that backports sit in history both branches share;
//! with a revert on each branch after the last forward merge.

use std::path::{Path, PathBuf};

use super::{Branch, Change, Op, Planner, ScenarioError, ScenarioSpec, Tree, Writer};
use crate::oid::ObjectId;

/// The main line (SOURCE of the sample's deltas).
pub const MAIN: &str = "main";
/// The long-term-support branch, merged forward into [`MAIN`] (TARGET).
pub const LTS: &str = "stable/4.2.x";
/// The project's own provenance trailer, as a `regraft.provenance` pattern; the builder
/// does not configure it: a test does.
pub const PATTERN: &str = r"^Upstream-Id: ([0-9a-f]{7,40})$";

/// How a backport names (or does not name) its original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `git cherry-pick -x`: `(cherry picked from commit X)`, same patch.
    CherryPick,
    /// The Linux stable trees: `commit X upstream.` opening the body, same patch.
    Kernel,
    /// The Linux stable trees: `[ Upstream commit X ]`, adapted.
    KernelBracket,
    /// Django: `[4.2.x]` subject tag and `Backport of X from main.` (10 digits), adapted.
    Django,
    /// The project's own `Upstream-Id: X` trailer (see [`PATTERN`]), adapted.
    Configured,
    /// No marker at all, the same patch.
    SamePatch,
    /// Not a backport: another change under the original's title with another pull
    /// request number.
    SubjectOnly,
}

impl Style {
    /// Every style, in the order each round backports them.
    pub const ALL: [Style; 7] = [
        Style::CherryPick,
        Style::Kernel,
        Style::KernelBracket,
        Style::Django,
        Style::Configured,
        Style::SamePatch,
        Style::SubjectOnly,
    ];

    /// Tells whether the builder changes the patch as it backports (or, for
    /// [`Style::SubjectOnly`], writes another change altogether).
    pub fn adapts(self) -> bool {
        matches!(
            self,
            Style::KernelBracket | Style::Django | Style::Configured | Style::SubjectOnly
        )
    }
}

/// A commit of [`MAIN`] and the [`LTS`] commit made from it (or, for
/// [`Style::SubjectOnly`], titled like it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backport {
    pub original: ObjectId,
    pub backport: ObjectId,
    pub style: Style,
    /// Made before a forward merge: in history both branches share.
    pub shared: bool,
}

/// What the builder made.
#[derive(Debug, Clone)]
pub struct ForwardScenario {
    /// The repository (with a work tree, [`LTS`] checked out).
    pub dir: PathBuf,
    /// Where [`LTS`] forked from [`MAIN`].
    pub fork: ObjectId,
    /// The merges of [`LTS`] into [`MAIN`], oldest first.
    pub forward_merges: Vec<ObjectId>,
    pub backports: Vec<Backport>,
    /// After the last forward merge: a cherry-pick of a [`MAIN`] commit onto [`LTS`],
    /// reverted there by `git revert`'s message: (original, backport, revert).
    pub reverted_on_lts: (ObjectId, ObjectId, ObjectId),
    /// A [`MAIN`] commit reverted on [`MAIN`]: (commit, revert).
    pub reverted_on_main: (ObjectId, ObjectId),
}

/// Rounds of main-line work, each followed by backports and (but the last) a forward merge.
const ROUNDS: usize = 4;

/// Builds the forward-merge sample in `dir` (created if needed; it should be empty).
pub fn build(dir: &Path) -> Result<ForwardScenario, ScenarioError> {
    let written = super::import(dir, MAIN, LTS, write)?;
    Ok(ForwardScenario { dir: dir.to_path_buf(), ..written })
}

fn write(w: &mut Writer) -> std::io::Result<ForwardScenario> {
    let mut planner =
        Planner::new(&ScenarioSpec { trunk_changes: 80, seed: 42, message_shapes: false });
    let mut main = Branch { name: MAIN, tip: 0, tree: Tree::new(), previous: None };
    let root = Change {
        ops: planner
            .initial_tree()
            .into_iter()
            .map(|(path, entry)| Op::Put { path, entry })
            .collect(),
        subject: "Initial import".into(),
        body: "Start of history.".into(),
        footer: vec![],
        change_id: String::new(),
        encoding: None,
        raw_subject: None,
        layout: Default::default(),
        author_date: super::EPOCH,
    };
    planner.land(w, &mut main, &root, &[], false)?;
    for _ in 0..6 {
        let change = pull_request(planner.new_change(&main.tree, w.clock));
        planner.land(w, &mut main, &change, &[], false)?;
    }
    let fork = main.tip;
    w.reset(&format!("refs/heads/{LTS}"), fork)?;
    let mut lts = Branch { name: LTS, ..main.clone() };

    let mut landed: Vec<(Change, usize)> = Vec::new();
    let mut used = 0;
    let mut merges = Vec::new();
    let mut backports = Vec::new();
    for round in 0..ROUNDS {
        for i in 0..10 {
            let change = pull_request(planner.new_change(&main.tree, w.clock));
            let merges_before = planner.counts.merges;
            let mark = planner.land(w, &mut main, &change, &[], i % 3 == 1)?;
            // Landed as a merge, the change itself is the merge's second parent.
            let change_mark = if planner.counts.merges > merges_before { mark - 1 } else { mark };
            landed.push((change, change_mark));
        }
        for style in Style::ALL {
            while used < landed.len() {
                let (original, mark) = landed[used].clone();
                used += 1;
                if let Some(made) = backport(w, &mut planner, &mut lts, &original, mark, style)? {
                    let shared = round + 1 < ROUNDS;
                    backports.push((mark, made, style, shared));
                    break;
                }
            }
        }
        let own = pull_request(planner.new_change(&lts.tree, w.clock));
        planner.land(w, &mut lts, &own, &[], false)?;
        if round + 1 < ROUNDS {
            // The merge keeps the main line's version of every backport (adapted ones
            // included) and takes the branch's own fix where it applies.
            let mut tree = main.tree.clone();
            for op in &own.ops {
                let mut trial = tree.clone();
                if op.apply(&mut trial) {
                    tree = trial;
                }
            }
            let message = format!("Merge branch '{LTS}' into {MAIN}\n");
            let merge =
                w.commit(&mut main, message.as_bytes(), None, w.clock, Some(lts.tip), tree)?;
            merges.push(merge);
        }
    }

    // A backport reverted on the branch, and a main-line change reverted there.
    let (lts_original, lts_backport, lts_revert) = loop {
        let Some((original, mark)) = landed.get(used).cloned() else {
            return Err(std::io::Error::other("no main-line change left to backport"));
        };
        used += 1;
        let before = lts.tree.clone();
        if let Some(made) = backport(w, &mut planner, &mut lts, &original, mark, Style::CherryPick)?
        {
            let revert = revert(w, &mut planner, &mut lts, &original, made, &before)?;
            break (mark, made, revert);
        }
    };
    let change = pull_request(planner.new_change(&main.tree, w.clock));
    let before = main.tree.clone();
    let reverted = planner.land(w, &mut main, &change, &[], false)?;
    let main_revert = revert(w, &mut planner, &mut main, &change, reverted, &before)?;

    let mut made = Vec::new();
    for (original, backport, style, shared) in backports {
        made.push(Backport { original: w.id(original)?, backport: w.id(backport)?, style, shared });
    }
    let mut forward_merges = Vec::new();
    for merge in merges {
        forward_merges.push(w.id(merge)?);
    }
    Ok(ForwardScenario {
        dir: PathBuf::new(),
        fork: w.id(fork)?,
        forward_merges,
        backports: made,
        reverted_on_lts: (w.id(lts_original)?, w.id(lts_backport)?, w.id(lts_revert)?),
        reverted_on_main: (w.id(reverted)?, w.id(main_revert)?),
    })
}

/// Gives a change the look of a merged pull request: a number in its subject, no Change-Id.
fn pull_request(mut change: Change) -> Change {
    let number = 1000 + change.author_date.rem_euclid(997);
    change.subject = format!("{} (#{number})", change.subject);
    change.change_id.clear();
    change
}

/// Lands a backport of `original` on `lts` in `style`; returns its mark, or `None` when
/// the change does not apply there.
fn backport(
    w: &mut Writer,
    planner: &mut Planner,
    lts: &mut Branch,
    original: &Change,
    mark: usize,
    style: Style,
) -> std::io::Result<Option<usize>> {
    let full = w.id(mark)?.to_hex();
    let mut change = original.clone();
    let mut extra = Vec::new();
    match style {
        Style::CherryPick => extra.push(format!("(cherry picked from commit {full})")),
        Style::Kernel => change.body = format!("commit {full} upstream.\n\n{}", change.body),
        Style::KernelBracket => {
            change.body = format!("[ Upstream commit {full} ]\n\n{}", change.body);
        }
        Style::Django => {
            change.subject = format!("[4.2.x] {}", change.subject);
            extra.push(format!("Backport of {} from main.", &full[..10]));
        }
        Style::Configured => extra.push(format!("Upstream-Id: {full}")),
        Style::SamePatch => {}
        Style::SubjectOnly => {
            let other = planner.new_change(&lts.tree, w.clock);
            change.ops = other.ops;
            let title = original.subject.rsplit_once(" (#").map_or(&*original.subject, |t| t.0);
            change.subject = format!("{title} (#{})", 5000 + planner.next_change);
        }
    }
    if style.adapts() && style != Style::SubjectOnly {
        let touched: Vec<String> =
            change.ops.iter().flat_map(|op| op.paths()).map(str::to_string).collect();
        let mut adaptation = None;
        for _ in 0..10 {
            let Some(path) = planner.pick_text_file(&lts.tree) else { break };
            if !touched.contains(&path) {
                let old = planner.pick_line(&lts.tree, &path);
                adaptation = Some(Op::Edit { new: format!("{old}  # 4.2.x"), path, old });
                break;
            }
        }
        match adaptation {
            Some(op) => change.ops.push(op),
            None => return Ok(None),
        }
    }
    let mut trial = lts.tree.clone();
    if !change.ops.iter().all(|op| op.apply(&mut trial)) {
        return Ok(None);
    }
    planner.land(w, lts, &change, &extra, false).map(Some)
}

/// Lands on `branch` the revert of `reverted` (the commit `change` landed as), whose
/// paths go back to what they were in `before`, with `git revert`'s message.
fn revert(
    w: &mut Writer,
    planner: &mut Planner,
    branch: &mut Branch,
    change: &Change,
    reverted: usize,
    before: &Tree,
) -> std::io::Result<usize> {
    let id = w.id(reverted)?;
    let mut ops = Vec::new();
    for path in change.ops.iter().flat_map(Op::paths) {
        match before.get(path) {
            Some(entry) => ops.push(Op::Put { path: path.to_string(), entry: entry.clone() }),
            None => ops.push(Op::Delete { path: path.to_string() }),
        }
    }
    let revert = Change {
        ops,
        subject: format!("Revert \"{}\"", change.subject),
        body: format!("This reverts commit {id}."),
        footer: vec![],
        change_id: String::new(),
        encoding: None,
        raw_subject: None,
        layout: Default::default(),
        author_date: w.clock,
    };
    planner.land(w, branch, &revert, &[], false)
}
