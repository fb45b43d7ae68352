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
    /// predates the history; `None` past the end of a file of known length).
    pub fn owner(&self, line: u32) -> Option<Owner> {
        let mut first = 1u32;
        for &(len, owner) in &self.runs {
            if line < first + len {
                return Some(owner);
            }
            first += len;
        }
        self.base_tail.then_some(Owner::BASE)
    }

    /// Calls `f(line, owner)` for every line from `from` to `to` (1-based, inclusive) that
    /// exists and was changed inside the analysed history.
    pub fn for_each_commit_line(&self, from: u32, to: u32, mut f: impl FnMut(u32, Owner)) {
        let mut first = 1u32;
        for &(len, owner) in &self.runs {
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

    /// Returns the owners after a commit `by` replaced `blocks` (sorted, non-overlapping,
    /// old line numbers of this file).
    pub fn apply(&self, blocks: &[Block], by: Owner) -> Self {
        let mut out = LineOwners::empty();
        let mut next_old = 1u32;
        for block in blocks {
            self.copy_range(next_old, block.old_start, &mut out);
            out.push(block.new_count, by);
            next_old = block.old_start + block.old_count;
        }
        self.copy_range(next_old, u32::MAX, &mut out);
        out.base_tail = self.base_tail;
        out
    }

    /// Appends lines `from..to` (1-based, `to` exclusive) of `self` to `out`.
    fn copy_range(&self, from: u32, to: u32, out: &mut LineOwners) {
        if from >= to {
            return;
        }
        let mut first = 1u32;
        for &(len, owner) in &self.runs {
            let end = first + len;
            let (a, b) = (first.max(from), end.min(to));
            if a < b {
                out.push(b - a, owner);
            }
            if end >= to {
                return;
            }
            first = end;
        }
        // Lines past the runs of a file that predates the history are base lines; a caller
        // copying up to `u32::MAX` wants only the runs, the tail is kept separately.
        if self.base_tail && to != u32::MAX && first < to {
            out.push(to - first.max(from), Owner::BASE);
        }
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

    #[test]
    fn new_files_have_a_known_end() {
        let file = LineOwners::empty().apply(&[block(1, 0, 3)], Owner(7));
        assert_eq!(owners(&file, 4), [Some(7), Some(7), Some(7), None]);
        let cut = file.apply(&[block(1, 3, 0)], Owner(8));
        assert_eq!(cut.owner(1), None);
    }
}
