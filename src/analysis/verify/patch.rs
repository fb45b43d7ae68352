//! A commit's patch as `verify` reads it: each file's paths and hunks, with the text of
//! every line a hunk removes or adds and the new line number of each added one.

use std::collections::HashMap;

use crate::oid::ObjectId;
use crate::text::changes::{ChangeReader, hunk_range};
use crate::text::patch_id::PatchIdHasher;

/// One line a hunk changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Changed {
    Removed(String),
    /// An added line and its number in the new version of the file (1-based).
    Added(String, u32),
}

impl Changed {
    pub(super) fn text(&self) -> &str {
        match self {
            Changed::Removed(text) | Changed::Added(text, _) => text,
        }
    }
}

/// One hunk: its header as git prints it (`@@ -a,b +c,d @@`) and the lines it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hunk {
    pub header: String,
    pub lines: Vec<Changed>,
}

/// One file section of a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FilePatch {
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    pub hunks: Vec<Hunk>,
}

impl FilePatch {
    /// Returns the path the file is known by: its new path, or the old one if deleted.
    pub(super) fn path(&self) -> &str {
        self.new_path.as_deref().or(self.old_path.as_deref()).unwrap_or_default()
    }

    /// Tells whether `other` is a change of the same file: one of its paths is one of ours.
    pub(super) fn same_file(&self, other: &FilePatch) -> bool {
        let ours = [self.old_path.as_deref(), self.new_path.as_deref()];
        [other.old_path.as_deref(), other.new_path.as_deref()]
            .iter()
            .flatten()
            .any(|p| ours.contains(&Some(p)))
    }
}

/// A commit's patch: its files and its stable patch-id (none for an empty patch).
#[derive(Debug, Clone, Default)]
pub(super) struct CommitPatch {
    pub files: Vec<FilePatch>,
    pub patch_id: Option<ObjectId>,
}

/// Reads the answer of [`crate::git::reads::patches_of`]: each commit's patch by id.
pub(super) fn read_patches(out: &[u8]) -> HashMap<ObjectId, CommitPatch> {
    let mut patches = HashMap::new();
    for chunk in out.split(|b| *b == 0).filter(|c| !c.is_empty()) {
        let (id_line, body) = match chunk.iter().position(|b| *b == b'\n') {
            Some(at) => (&chunk[..at], &chunk[at + 1..]),
            None => (chunk, &[][..]),
        };
        let Some(id) = ObjectId::from_hex(id_line) else { continue };
        patches.insert(id, read_one(body));
    }
    patches
}

fn read_one(body: &[u8]) -> CommitPatch {
    let mut paths = ChangeReader::new();
    let mut hasher = PatchIdHasher::new();
    let mut files: Vec<Vec<Hunk>> = Vec::new();
    let mut open: Option<Open> = None;
    for line in body.split_inclusive(|b| *b == b'\n') {
        paths.line(line);
        hasher.line(line);
        if line.starts_with(b"diff --git ") {
            files.push(Vec::new());
            open = None;
            continue;
        }
        let Some(hunks) = files.last_mut() else { continue };
        if let Some(hunk) = open.as_mut()
            && hunk.take(line)
        {
            if hunk.done() {
                hunks.push(open.take().expect("a hunk is open").hunk);
            }
            continue;
        }
        if let Some(unfinished) = open.take() {
            hunks.push(unfinished.hunk);
        }
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        if let Some(header) = text.strip_prefix(b"@@ -") {
            open = Open::start(header);
        }
    }
    if let (Some(unfinished), Some(hunks)) = (open, files.last_mut()) {
        hunks.push(unfinished.hunk);
    }
    let files = paths
        .finish()
        .into_iter()
        .zip(files)
        .map(|(change, hunks)| FilePatch {
            old_path: change.old_path,
            new_path: change.new_path,
            hunks,
        })
        .collect();
    CommitPatch { files, patch_id: hasher.finish() }
}

/// A hunk being read: what is left of each side and the next new line number.
struct Open {
    hunk: Hunk,
    old_left: u32,
    new_left: u32,
    new_line: u32,
}

impl Open {
    fn start(header: &[u8]) -> Option<Open> {
        let (old_start, old_count, rest) = hunk_range(header);
        let rest = rest.strip_prefix(b" +")?;
        let (new_start, new_count, _) = hunk_range(rest);
        let header =
            format!("@@ -{} +{} @@", side(old_start, old_count), side(new_start, new_count));
        let new_line = if new_count == 0 { new_start + 1 } else { new_start };
        let hunk = Hunk { header, lines: Vec::new() };
        Some(Open { hunk, old_left: old_count, new_left: new_count, new_line })
    }

    /// Takes one line of the hunk's body; false when the line is not part of it.
    fn take(&mut self, line: &[u8]) -> bool {
        let text = |l: &[u8]| {
            let l = l.strip_suffix(b"\n").unwrap_or(l);
            String::from_utf8_lossy(&l[1..]).into_owned()
        };
        match line.first() {
            Some(b' ') if self.old_left > 0 && self.new_left > 0 => {
                self.old_left -= 1;
                self.new_left -= 1;
                self.new_line += 1;
            }
            Some(b'-') if self.old_left > 0 => {
                self.old_left -= 1;
                self.hunk.lines.push(Changed::Removed(text(line)));
            }
            Some(b'+') if self.new_left > 0 => {
                self.new_left -= 1;
                self.hunk.lines.push(Changed::Added(text(line), self.new_line));
                self.new_line += 1;
            }
            Some(b'\\') => {}
            _ => return false,
        }
        true
    }

    fn done(&self) -> bool {
        self.old_left == 0 && self.new_left == 0
    }
}

/// Writes one side of a hunk header as git does: `start` alone for one line.
fn side(start: u32, count: u32) -> String {
    if count == 1 { start.to_string() } else { format!("{start},{count}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_keep_their_lines_and_new_numbers() {
        let out = "\0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\ndiff --git a/f b/f\n\
                   index 1..2 100644\n--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n\
                   @@ -9 +10 @@\n-x\n+y\n\\ No newline at end of file\n\
                   diff --git a/g b/h\nsimilarity index 100%\nrename from g\nrename to h\n\
                   \0bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n";
        let patches = read_patches(out.as_bytes());
        let a = &patches[&ObjectId::from_hex(&[b'a'; 40]).expect("hex")];
        assert_eq!(a.files.len(), 2);
        let f = &a.files[0];
        assert_eq!(f.path(), "f");
        assert_eq!(f.hunks[0].header, "@@ -1,3 +1,4 @@");
        assert_eq!(
            f.hunks[0].lines,
            vec![
                Changed::Removed("b".into()),
                Changed::Added("B".into(), 2),
                Changed::Added("C".into(), 3)
            ]
        );
        assert_eq!(f.hunks[1].header, "@@ -9 +10 @@");
        assert_eq!(f.hunks[1].lines[1], Changed::Added("y".into(), 10));
        assert_eq!((a.files[1].old_path.as_deref(), a.files[1].path()), (Some("g"), "h"));
        assert!(a.files[1].hunks.is_empty());
        let b = &patches[&ObjectId::from_hex(&[b'b'; 40]).expect("hex")];
        assert!(b.files.is_empty() && b.patch_id.is_none());
    }
}
