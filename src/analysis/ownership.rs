//! Who last changed each line of a file, carried forward commit by commit: the answer
//! `git blame` gives, kept as runs of lines instead of recomputed per question.

use crate::text::changes::Block;

/// The commit (an index into the analysed history) that last changed a line, or
/// [`Owner::BASE`] for lines older than the history being analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner(pub u32);

impl Owner {
    /// Lines that come from before the analysed history.
    pub const BASE: Owner = Owner(u32::MAX);

    /// Tells whether the line was changed inside the analysed history.
    pub fn is_commit(self) -> bool {
        self != Owner::BASE
    }
}

/// The owners of a file's lines, as runs `(length, owner)` from line 1.
///
/// A file that existed before the analysed history starts as one endless run of
/// [`Owner::BASE`] lines: its length need not be known, because every line a diff does not
/// touch is still a base line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineOwners {
    runs: Vec<(u32, Owner)>,
    /// Whether endless base lines follow the runs.
    base_tail: bool,
}

impl LineOwners {
    /// Returns the owners of a file that predates the analysed history.
    pub fn base() -> Self {
        LineOwners { runs: Vec::new(), base_tail: true }
    }

    /// Returns the owners of an empty file.
    pub fn empty() -> Self {
        LineOwners { runs: Vec::new(), base_tail: false }
    }

    /// Returns the owners of a file whose lines' owners are listed one by one.
    pub fn from_lines(owners: &[Owner]) -> Self {
        let mut out = LineOwners::empty();
        for owner in owners {
            out.push(1, *owner);
        }
        out
    }

    /// Returns the owner of 1-based line `line` (base past the known lines when the file
    /// predates the history; `None` past the end of a file of known length). Linear in the
    /// runs: walks that ask about many lines use a [`LineCursor`].
    pub fn owner(&self, line: u32) -> Option<Owner> {
        self.cursor().owner(line)
    }

    /// Calls `f(line, owner)` for every line from `from` to `to` (1-based, inclusive) that
    /// exists and was changed inside the analysed history.
    pub fn for_each_commit_line(&self, from: u32, to: u32, f: impl FnMut(u32, Owner)) {
        self.cursor().for_each_commit_line(from, to, f);
    }

    /// Returns a cursor at line 1, for questions about lines in increasing order.
    pub fn cursor(&self) -> LineCursor<'_> {
        LineCursor { owners: self, index: 0, first: 1 }
    }

    /// Returns the owners after a commit `by` replaced `blocks` (sorted, non-overlapping,
    /// old line numbers of this file). One pass over the runs, however many blocks.
    pub fn apply(&self, blocks: &[Block], by: Owner) -> Self {
        let mut out = LineOwners::empty();
        let mut at = self.cursor();
        let mut next_old = 1u32;
        for block in blocks {
            at.copy_range(next_old, block.old_start, &mut out);
            out.push(block.new_count, by);
            next_old = block.old_start + block.old_count;
        }
        at.copy_range(next_old, u32::MAX, &mut out);
        out.base_tail = self.base_tail;
        out
    }

    fn push(&mut self, len: u32, owner: Owner) {
        if len == 0 {
            return;
        }
        match self.runs.last_mut() {
            Some((n, last)) if *last == owner => *n += len,
            _ => self.runs.push((len, owner)),
        }
    }
}

/// A position in a file's runs of owners: questions about lines in increasing order cost,
/// all together, one walk over the runs (a question about an earlier line starts again from
/// line 1).
#[derive(Debug, Clone)]
pub struct LineCursor<'a> {
    owners: &'a LineOwners,
    /// The run the cursor is at, and the first line of that run.
    index: usize,
    first: u32,
}

impl LineCursor<'_> {
    /// Moves to the run holding `line` (or past the last run).
    fn seek(&mut self, line: u32) {
        if line < self.first {
            (self.index, self.first) = (0, 1);
        }
        let runs = &self.owners.runs;
        while let Some(&(len, _)) = runs.get(self.index) {
            if line < self.first + len {
                break;
            }
            self.first += len;
            self.index += 1;
        }
    }

    /// Returns the owner of line `line`, as [`LineOwners::owner`] does.
    pub fn owner(&mut self, line: u32) -> Option<Owner> {
        self.seek(line);
        match self.owners.runs.get(self.index) {
            Some(&(_, owner)) => Some(owner),
            None => self.owners.base_tail.then_some(Owner::BASE),
        }
    }

    /// Calls `f(line, owner)` for every line from `from` to `to` that exists and was
    /// changed inside the analysed history, as [`LineOwners::for_each_commit_line`] does;
    /// the cursor stays at `from`, so ranges that overlap (blocks with context) work too.
    pub fn for_each_commit_line(&mut self, from: u32, to: u32, mut f: impl FnMut(u32, Owner)) {
        self.seek(from);
        let mut first = self.first;
        for &(len, owner) in &self.owners.runs[self.index..] {
            let last = first + len - 1;
            if last >= from && first <= to && owner.is_commit() {
                for line in first.max(from)..=last.min(to) {
                    f(line, owner);
                }
            }
            if last >= to {
                return;
            }
            first += len;
        }
    }

    /// Appends lines `from..to` (1-based, `to` exclusive) to `out`; the next call must not
    /// start before `to`.
    fn copy_range(&mut self, from: u32, to: u32, out: &mut LineOwners) {
        if from >= to {
            return;
        }
        self.seek(from);
        let runs = &self.owners.runs;
        while let Some(&(len, owner)) = runs.get(self.index) {
            let end = self.first + len;
            let (a, b) = (self.first.max(from), end.min(to));
            if a < b {
                out.push(b - a, owner);
            }
            if end >= to {
                return;
            }
            self.first = end;
            self.index += 1;
        }
        // Lines past the runs of a file that predates the history are base lines; a caller
        // copying up to `u32::MAX` wants only the runs, the tail is kept separately.
        if self.owners.base_tail && to != u32::MAX && self.first < to {
            out.push(to - self.first.max(from), Owner::BASE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(old_start: u32, old_count: u32, new_count: u32) -> Block {
        Block { old_start, old_count, new_start: 0, new_count }
    }

    fn owners(file: &LineOwners, lines: u32) -> Vec<Option<u32>> {
        (1..=lines).map(|l| file.owner(l).map(|o| o.0)).collect()
    }

    #[test]
    fn edits_replace_and_shift_lines() {
        let base = LineOwners::base();
        let a = base.apply(&[block(2, 1, 2), block(5, 0, 1)], Owner(0));
        // Line 2 replaced by two lines of commit 0; a line inserted before old line 5.
        let b = u32::MAX;
        assert_eq!(
            owners(&a, 8),
            [Some(b), Some(0), Some(0), Some(b), Some(b), Some(0), Some(b), Some(b)]
        );
        let c = a.apply(&[block(3, 3, 0)], Owner(1));
        assert_eq!(owners(&c, 5), [Some(b), Some(0), Some(0), Some(b), Some(b)]);
        let mut seen = Vec::new();
        a.for_each_commit_line(1, 6, |line, owner| seen.push((line, owner.0)));
        assert_eq!(seen, [(2, 0), (3, 0), (6, 0)]);
    }

    /// The owners of `lines` lines one by one, the slow way.
    fn model_apply(model: &[Owner], blocks: &[Block], by: Owner) -> Vec<Owner> {
        let mut out = Vec::new();
        let mut next = 1u32;
        for b in blocks {
            out.extend_from_slice(&model[next as usize - 1..b.old_start as usize - 1]);
            out.extend(std::iter::repeat_n(by, b.new_count as usize));
            next = b.old_start + b.old_count;
        }
        out.extend_from_slice(&model[next as usize - 1..]);
        out
    }

    #[test]
    fn cursors_and_one_pass_edits_agree_with_a_line_by_line_model() {
        // A deterministic stream of pseudo-random numbers (a linear congruential generator).
        let mut seed = 12345u64;
        let mut next = |n: u32| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) % u64::from(n.max(1))) as u32
        };
        let mut model: Vec<Owner> = vec![Owner(0); 200];
        let mut file = LineOwners::from_lines(&model);
        for commit in 1..300u32 {
            let mut blocks = Vec::new();
            let mut line = 1 + next(5);
            while line <= model.len() as u32 && blocks.len() < 12 {
                let old_count = next(4).min(model.len() as u32 + 1 - line);
                blocks.push(block(line, old_count, next(4)));
                line += old_count + 1 + next(30);
            }
            model = model_apply(&model, &blocks, Owner(commit));
            file = file.apply(&blocks, Owner(commit));
            let lines = model.len() as u32;
            let mut at = file.cursor();
            for l in 1..=lines {
                assert_eq!(at.owner(l), Some(model[l as usize - 1]), "commit {commit} line {l}");
            }
            assert_eq!(file.owner(lines + 1), None);
            // Overlapping ranges in increasing order, as blocks with context ask.
            let mut at = file.cursor();
            let mut from = 1;
            while from <= lines {
                let to = from + next(20);
                let mut seen = Vec::new();
                at.for_each_commit_line(from, to, |l, o| seen.push((l, o)));
                let expected: Vec<(u32, Owner)> =
                    (from..=to.min(lines)).map(|l| (l, model[l as usize - 1])).collect();
                assert_eq!(seen, expected, "commit {commit} lines {from}-{to}");
                from += next(15);
                from += 1;
            }
        }
    }

    #[test]
    fn new_files_have_a_known_end() {
        let file = LineOwners::empty().apply(&[block(1, 0, 3)], Owner(7));
        assert_eq!(owners(&file, 4), [Some(7), Some(7), Some(7), None]);
        let cut = file.apply(&[block(1, 3, 0)], Owner(8));
        assert_eq!(cut.owner(1), None);
    }
}
