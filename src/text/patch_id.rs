//! Stable patch-ids computed from git's own patch text, bit for bit as
//! `git patch-id --stable` computes them.
//!
//! The algorithm (git's `builtin/patch-id.c`, described here in our words): each file's
//! diff is hashed with SHA-1 after deleting every whitespace byte, skipping `index` lines,
//! hunk headers and `\ No newline` markers; a binary file hashes the two abbreviated blob
//! names from its `index` line instead of its content. The per-file hashes are added as
//! 160-bit little-endian numbers, so the order of files does not matter. A commit whose
//! patch hashes no line at all has no patch-id.

use sha1::{Digest, Sha1};

use crate::oid::ObjectId;
use crate::text::changes::hunk_range;

/// Accumulates one commit's patch, a line at a time, into its stable patch-id.
#[derive(Debug)]
pub struct PatchIdHasher {
    ctx: Sha1,
    sum: [u8; 20],
    hashed_len: usize,
    before: i64,
    after: i64,
    binary: bool,
    /// Some file of the patch was binary (its id depends on abbreviated blob names).
    saw_binary: bool,
    ended: bool,
    pre_blob: Vec<u8>,
    post_blob: Vec<u8>,
    scratch: Vec<u8>,
}

impl Default for PatchIdHasher {
    fn default() -> Self {
        PatchIdHasher {
            ctx: Sha1::new(),
            sum: [0; 20],
            hashed_len: 0,
            before: -1,
            after: -1,
            binary: false,
            saw_binary: false,
            ended: false,
            pre_blob: Vec::new(),
            post_blob: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

impl PatchIdHasher {
    /// Returns a hasher for a new patch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line of `git diff` output, including its newline.
    pub fn line(&mut self, line: &[u8]) {
        if self.ended || (self.hashed_len == 0 && !line.starts_with(b"diff ")) {
            return;
        }
        if self.before == -1 {
            if line.starts_with(b"GIT binary patch") || line.starts_with(b"Binary files") {
                self.binary = true;
                self.saw_binary = true;
                self.before = 0;
                self.ctx.update(&self.pre_blob);
                self.ctx.update(&self.post_blob);
                self.flush_file();
                return;
            } else if let Some(rest) = line.strip_prefix(b"index ") {
                self.read_index_line(rest);
                return;
            } else if line.starts_with(b"--- ") {
                self.before = 1;
                self.after = 1;
            } else if !line.first().is_some_and(u8::is_ascii_alphabetic) {
                self.ended = true;
                return;
            }
        }
        if line.starts_with(b"\\ ") && line.len() > 12 {
            return;
        }
        if self.binary {
            if line.starts_with(b"diff ") {
                // git skips this header line too: it starts the next file but is not hashed.
                self.binary = false;
                self.before = -1;
            }
            return;
        }
        if self.before == 0 && self.after == 0 {
            if line.starts_with(b"@@ -") {
                self.read_hunk_header(&line[4..]);
                return;
            }
            if !line.starts_with(b"diff ") {
                self.ended = true;
                return;
            }
            self.flush_file();
            self.before = -1;
            self.after = -1;
        }
        match line.first() {
            Some(b'-') => self.before -= 1,
            Some(b'+') => self.after -= 1,
            Some(b' ') => {
                self.before -= 1;
                self.after -= 1;
            }
            _ => {}
        }
        self.scratch.clear();
        self.scratch.extend(line.iter().copied().filter(|b| !is_c_space(*b)));
        self.hashed_len += self.scratch.len();
        self.ctx.update(&self.scratch);
    }

    /// Tells whether a file of the patch was binary: such a patch-id hashes abbreviated blob
    /// names, whose length grows with the repository, so it must not be cached.
    pub fn saw_binary(&self) -> bool {
        self.saw_binary
    }

    /// Returns the patch-id, or `None` when the patch hashed nothing (an empty commit).
    pub fn finish(mut self) -> Option<ObjectId> {
        self.flush_file();
        (self.hashed_len > 0).then(|| ObjectId::from_bytes(self.sum))
    }

    fn flush_file(&mut self) {
        let digest = self.ctx.finalize_reset();
        let mut carry: u16 = 0;
        for (total, byte) in self.sum.iter_mut().zip(digest.iter()) {
            carry += u16::from(*total) + u16::from(*byte);
            *total = (carry & 0xff) as u8;
            carry >>= 8;
        }
    }

    /// Remembers the two blob names of `index <pre>..<post>[ <mode>]`; a binary file's
    /// patch-id is made of them.
    fn read_index_line(&mut self, rest: &[u8]) {
        let Some(dots) = find(rest, b"..") else {
            return;
        };
        let tail = &rest[dots + 2..];
        let end = find(tail, b" ").unwrap_or(tail.len().saturating_sub(1));
        self.pre_blob = rest[..dots].to_vec();
        self.post_blob = tail[..end].to_vec();
    }

    /// Reads `<old>[,<count>] +<new>[,<count>]` after `@@ -` for the number of lines each
    /// side of the hunk has; a missing count means one line, as in unified diffs.
    fn read_hunk_header(&mut self, text: &[u8]) {
        let (_, before, rest) = hunk_range(text);
        self.before = i64::from(before);
        if rest.first() != Some(&b' ') || rest.get(1) != Some(&b'+') {
            return;
        }
        let (_, after, _) = hunk_range(&rest[2..]);
        self.after = i64::from(after);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The bytes C's `isspace` accepts in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch_id(text: &str) -> Option<String> {
        let mut hasher = PatchIdHasher::new();
        for line in text.split_inclusive('\n') {
            hasher.line(line.as_bytes());
        }
        hasher.finish().map(|id| id.to_hex())
    }

    #[test]
    fn whitespace_and_hunk_positions_do_not_matter() {
        let a = "diff --git a/f b/f\nindex 1..2 100644\n--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n x\n-a b\n+c\n";
        let b = "diff --git a/f b/f\nindex 3..4 100644\n--- a/f\n+++ b/f\n@@ -9,2 +9,2 @@\n x\n-ab\n+ c\n";
        assert!(patch_id(a).is_some());
        assert_eq!(patch_id(a), patch_id(b));
    }

    #[test]
    fn an_empty_patch_has_no_id() {
        assert_eq!(patch_id(""), None);
        assert_eq!(patch_id("\n"), None);
    }

    #[test]
    fn hunk_counts_default_to_one() {
        let mut hasher = PatchIdHasher::new();
        hasher.read_hunk_header(b"3 +4,2 @@");
        assert_eq!((hasher.before, hasher.after), (1, 2));
    }
}
