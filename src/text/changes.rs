//! What a commit's patch changes, line by line: for each file, its old and new path and the
//! blocks of old lines it removes or replaces, read from git's own patch text.

/// A run of changed lines: `old_count` lines of the old file starting at `old_start` are
/// replaced by `new_count` lines starting at `new_start` in the new file. Line numbers are
/// 1-based; a pure insertion (`old_count == 0`) goes before old line `old_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub old_start: u32,
    pub old_count: u32,
    pub new_start: u32,
    pub new_count: u32,
}

/// One file section of a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The path before, or `None` for a new file.
    pub old_path: Option<String>,
    /// The path after, or `None` for a deleted file.
    pub new_path: Option<String>,
    /// Binary content: git shows no lines, so there are no blocks.
    pub binary: bool,
    /// The changed blocks, in order.
    pub blocks: Vec<Block>,
}

/// Reads file sections and their blocks from the lines of a `git diff`/`git log -p` patch.
#[derive(Debug, Default)]
pub struct ChangeReader {
    files: Vec<FileChange>,
    current: Option<Section>,
}

#[derive(Debug)]
struct Section {
    change: FileChange,
    header_path: Option<String>,
    new_file: bool,
    deleted_file: bool,
    in_hunk: bool,
    old_left: u32,
    new_left: u32,
    old_line: u32,
    new_line: u32,
    open: Option<Block>,
}

impl ChangeReader {
    /// Returns a reader for a new patch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line of the patch, including its newline.
    pub fn line(&mut self, line: &[u8]) {
        if let Some(rest) = line.strip_prefix(b"diff --git ") {
            self.finish_section();
            self.current = Some(Section::new(symmetric_path(trim_newline(rest))));
            return;
        }
        let Some(section) = self.current.as_mut() else { return };
        if section.in_hunk {
            if section.hunk_line(line) {
                return;
            }
            section.in_hunk = false;
        }
        let text = trim_newline(line);
        if let Some(header) = text.strip_prefix(b"@@ -") {
            section.start_hunk(header);
        } else if let Some(path) = text.strip_prefix(b"rename from ") {
            section.change.old_path = Some(unquote(path));
        } else if let Some(path) = text.strip_prefix(b"rename to ") {
            section.change.new_path = Some(unquote(path));
        } else if text.starts_with(b"new file mode ") {
            section.new_file = true;
        } else if text.starts_with(b"deleted file mode ") {
            section.deleted_file = true;
        } else if text.starts_with(b"Binary files ") || text == b"GIT binary patch" {
            section.change.binary = true;
        } else if let Some(path) = text.strip_prefix(b"--- a/") {
            section.change.old_path = Some(unquote_tab(path));
        } else if let Some(path) = text.strip_prefix(b"+++ b/") {
            section.change.new_path = Some(unquote_tab(path));
        } else if let Some(path) = quoted_side(text, b"--- ", "a/") {
            section.change.old_path = Some(path);
        } else if let Some(path) = quoted_side(text, b"+++ ", "b/") {
            section.change.new_path = Some(path);
        }
    }

    /// Returns the file changes read so far, finishing the last one.
    pub fn finish(mut self) -> Vec<FileChange> {
        self.finish_section();
        self.files
    }

    fn finish_section(&mut self) {
        if let Some(mut section) = self.current.take() {
            section.close_block();
            let mut change = section.change;
            if change.old_path.is_none() && !section.new_file {
                change.old_path.clone_from(&section.header_path);
            }
            if change.new_path.is_none() && !section.deleted_file {
                change.new_path.clone_from(&section.header_path);
            }
            if section.new_file {
                change.old_path = None;
            }
            if section.deleted_file {
                change.new_path = None;
            }
            self.files.push(change);
        }
    }
}

impl Section {
    fn new(header_path: Option<String>) -> Self {
        Section {
            change: FileChange {
                old_path: None,
                new_path: None,
                binary: false,
                blocks: Vec::new(),
            },
            header_path,
            new_file: false,
            deleted_file: false,
            in_hunk: false,
            old_left: 0,
            new_left: 0,
            old_line: 0,
            new_line: 0,
            open: None,
        }
    }

    fn start_hunk(&mut self, header: &[u8]) {
        let (old_start, old_count, rest) = hunk_range(header);
        let Some(rest) = rest.strip_prefix(b" +") else { return };
        let (new_start, new_count, _) = hunk_range(rest);
        // A side with no lines names the line before the hunk; count from the one after.
        self.old_line = if old_count == 0 { old_start + 1 } else { old_start };
        self.new_line = if new_count == 0 { new_start + 1 } else { new_start };
        self.old_left = old_count;
        self.new_left = new_count;
        self.in_hunk = old_count + new_count > 0;
    }

    /// Takes one line of a hunk's body; returns false when the line is not part of it.
    fn hunk_line(&mut self, line: &[u8]) -> bool {
        match line.first() {
            Some(b' ') if self.old_left > 0 && self.new_left > 0 => {
                self.close_block();
                self.old_line += 1;
                self.new_line += 1;
                self.old_left -= 1;
                self.new_left -= 1;
            }
            Some(b'-') if self.old_left > 0 => {
                self.open_block().old_count += 1;
                self.old_line += 1;
                self.old_left -= 1;
            }
            Some(b'+') if self.new_left > 0 => {
                self.open_block().new_count += 1;
                self.new_line += 1;
                self.new_left -= 1;
            }
            Some(b'\\') => {}
            _ => {
                self.close_block();
                return false;
            }
        }
        if self.old_left == 0 && self.new_left == 0 {
            self.close_block();
            self.in_hunk = false;
        }
        true
    }

    fn open_block(&mut self) -> &mut Block {
        let (old_start, new_start) = (self.old_line, self.new_line);
        self.open.get_or_insert(Block { old_start, old_count: 0, new_start, new_count: 0 })
    }

    fn close_block(&mut self) {
        if let Some(block) = self.open.take() {
            self.change.blocks.push(block);
        }
    }
}

/// Reads one side of a hunk header, `start[,count]`, and returns the start, the count (1
/// when absent, as in unified diffs) and what follows.
pub(crate) fn hunk_range(text: &[u8]) -> (u32, u32, &[u8]) {
    let digits = |t: &[u8]| t.iter().take_while(|b| b.is_ascii_digit()).count();
    let number = |t: &[u8]| {
        t.iter().fold(0u32, |n, d| n.saturating_mul(10).saturating_add(u32::from(d - b'0')))
    };
    let n = digits(text);
    let start = number(&text[..n]);
    let rest = &text[n..];
    match rest.strip_prefix(b",") {
        Some(count_text) => {
            let m = digits(count_text);
            (start, number(&count_text[..m]), &count_text[m..])
        }
        None => (start, 1, rest),
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// Reads the path from `a/P b/P` when both sides name the same path (git's header for
/// anything but a rename), or from quoted names.
fn symmetric_path(rest: &[u8]) -> Option<String> {
    if rest.first() == Some(&b'"') {
        let (first, len) = unquote_prefix(rest)?;
        let second = rest.get(len + 1..)?;
        let (second, _) = if second.first() == Some(&b'"') {
            unquote_prefix(second)?
        } else {
            (String::from_utf8_lossy(second).into_owned(), second.len())
        };
        let first = first.strip_prefix("a/")?;
        let second = second.strip_prefix("b/")?;
        return (first == second).then(|| first.to_string());
    }
    // Unquoted: `a/P b/P`, so the line is 2 * len(P) + 5 bytes long.
    if rest.len() < 5 || (rest.len() - 5) % 2 != 0 {
        return None;
    }
    let n = (rest.len() - 5) / 2;
    let (first, second) = (&rest[2..2 + n], &rest[n + 5..]);
    (rest.starts_with(b"a/") && rest[n + 2..n + 5] == *b" b/" && first == second)
        .then(|| String::from_utf8_lossy(first).into_owned())
}

fn quoted_side(text: &[u8], marker: &[u8], prefix: &str) -> Option<String> {
    let rest = text.strip_prefix(marker)?;
    if rest.first() != Some(&b'"') {
        return None;
    }
    let (path, _) = unquote_prefix(rest)?;
    path.strip_prefix(prefix).map(str::to_string)
}

/// Reads a path as git prints it after `--- a/`: plain, possibly followed by a tab.
fn unquote_tab(path: &[u8]) -> String {
    let end = path.iter().position(|b| *b == b'\t').unwrap_or(path.len());
    String::from_utf8_lossy(&path[..end]).into_owned()
}

/// Reads a path that git may have C-quoted (`"caf\303\251.txt"`).
fn unquote(path: &[u8]) -> String {
    if path.first() == Some(&b'"') {
        if let Some((text, _)) = unquote_prefix(path) {
            return text;
        }
    }
    String::from_utf8_lossy(path).into_owned()
}

/// Decodes a C-quoted string at the start of `text`; returns it and the bytes it used.
fn unquote_prefix(text: &[u8]) -> Option<(String, usize)> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < text.len() {
        match text[i] {
            b'"' => return Some((String::from_utf8_lossy(&out).into_owned(), i + 1)),
            b'\\' => {
                let c = *text.get(i + 1)?;
                i += 2;
                match c {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'a' => out.push(7),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'r' => out.push(b'\r'),
                    b'v' => out.push(11),
                    b'0'..=b'7' => {
                        let digits = text.get(i - 1..i + 2)?;
                        let value = digits.iter().try_fold(0u32, |n, d| {
                            (b'0'..=b'7').contains(d).then(|| n * 8 + u32::from(d - b'0'))
                        })?;
                        out.push(u8::try_from(value).ok()?);
                        i += 2;
                    }
                    other => out.push(other),
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(patch: &str) -> Vec<FileChange> {
        let mut reader = ChangeReader::new();
        for line in patch.split_inclusive('\n') {
            reader.line(line.as_bytes());
        }
        reader.finish()
    }

    #[test]
    fn blocks_come_out_of_context_hunks() {
        let patch = "diff --git a/f b/f\nindex 1..2 100644\n--- a/f\n+++ b/f\n\
                     @@ -1,7 +1,7 @@\n a\n-b\n+B\n c\n d\n e\n+new\n f\n-g\n";
        let files = read(patch);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].old_path.as_deref(), Some("f"));
        assert_eq!(
            files[0].blocks,
            vec![
                Block { old_start: 2, old_count: 1, new_start: 2, new_count: 1 },
                Block { old_start: 6, old_count: 0, new_start: 6, new_count: 1 },
                Block { old_start: 7, old_count: 1, new_start: 8, new_count: 0 },
            ]
        );
    }

    #[test]
    fn new_deleted_renamed_binary_and_quoted() {
        let patch = "diff --git a/new b/new\nnew file mode 100644\nindex 0..1\n--- /dev/null\n+++ b/new\n@@ -0,0 +1,2 @@\n+x\n+y\n\
                     diff --git a/gone b/gone\ndeleted file mode 100644\nindex 1..0\n--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n\
                     diff --git a/old name b/new name\nsimilarity index 90%\nrename from old name\nrename to new name\n\
                     diff --git a/img.png b/img.png\nindex 1..2 100644\nBinary files a/img.png and b/img.png differ\n\
                     diff --git \"a/caf\\303\\251\" \"b/caf\\303\\251\"\nindex 1..2 100644\n--- \"a/caf\\303\\251\"\n+++ \"b/caf\\303\\251\"\n@@ -1 +1 @@\n-a\n+b\n";
        let files = read(patch);
        let paths: Vec<_> = files
            .iter()
            .map(|f| (f.old_path.as_deref(), f.new_path.as_deref(), f.binary))
            .collect();
        assert_eq!(
            paths,
            vec![
                (None, Some("new"), false),
                (Some("gone"), None, false),
                (Some("old name"), Some("new name"), false),
                (Some("img.png"), Some("img.png"), true),
                (Some("café"), Some("café"), false),
            ]
        );
        assert_eq!(
            files[0].blocks,
            vec![Block { old_start: 1, old_count: 0, new_start: 1, new_count: 2 }]
        );
        assert_eq!(
            files[1].blocks,
            vec![Block { old_start: 1, old_count: 1, new_start: 1, new_count: 0 }]
        );
    }
}
