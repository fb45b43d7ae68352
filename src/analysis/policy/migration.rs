//! Whether a change to a file under a migrations tree changes the database schema: a new
//! or deleted revision, a changed `upgrade()` body or revision identifier, an SQL script.
//! Anything else there (a comment, an import, `env.py`, a repeated line deleted) does not.

use crate::text::changes::FileChange;

/// Tells whether `change` changes the schema, given the file's content before (`old`) and
/// after (`new`); `None` for a side that does not exist.
pub(super) fn changes_schema(change: &FileChange, old: Option<&[u8]>, new: Option<&[u8]>) -> bool {
    let path = change.new_path.as_deref().or(change.old_path.as_deref()).unwrap_or_default();
    if change.binary || path.ends_with(".sql") {
        return true;
    }
    if !path.ends_with(".py") {
        return false;
    }
    let (old, new) = (lines(old), lines(new));
    match (change.old_path.is_some(), change.new_path.is_some()) {
        // A revision added or removed.
        (false, _) => return !upgrade_bodies(&new).is_empty(),
        (_, false) => return !upgrade_bodies(&old).is_empty(),
        _ => {}
    }
    let (old_bodies, new_bodies) = (upgrade_bodies(&old), upgrade_bodies(&new));
    let kept: Vec<&str> = new_bodies
        .iter()
        .flat_map(|&(start, end)| new[start - 1..end].iter().map(|l| l.trim()))
        .collect();
    for block in &change.blocks {
        let removed = range(&old, block.old_start, block.old_count);
        let added = range(&new, block.new_start, block.new_count);
        let significant = |l: &str| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        };
        if removed.iter().chain(&added).any(|l| significant(l) && names_revision(l)) {
            return true;
        }
        let in_old = block.old_count > 0 && overlaps(&old_bodies, block.old_start, block.old_count);
        let in_new = block.new_count > 0 && overlaps(&new_bodies, block.new_start, block.new_count);
        if !in_old && !in_new {
            continue;
        }
        // A line deleted whose twin stays in the body changes nothing the database sees
        // twice; comments and blank lines change nothing at all.
        let only_duplicates = added.iter().all(|l| !significant(l))
            && removed.iter().all(|l| !significant(l) || kept.contains(&l.trim()));
        if !only_duplicates {
            return true;
        }
    }
    false
}

fn lines(content: Option<&[u8]>) -> Vec<String> {
    content
        .map(|c| String::from_utf8_lossy(c).lines().map(str::to_string).collect())
        .unwrap_or_default()
}

fn range(lines: &[String], start: u32, count: u32) -> Vec<&str> {
    let from = (start.max(1) - 1) as usize;
    lines.iter().skip(from).take(count as usize).map(String::as_str).collect()
}

/// Returns the line ranges (1-based, inclusive) of the `def upgrade...(` functions, their
/// `def` line included.
fn upgrade_bodies(lines: &[String]) -> Vec<(usize, usize)> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut bodies = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        if line.trim_start().starts_with("def upgrade") {
            let depth = indent(line);
            let mut end = i;
            for (j, next) in lines.iter().enumerate().skip(i + 1) {
                if next.trim().is_empty() {
                    continue;
                }
                if indent(next) <= depth {
                    break;
                }
                end = j;
            }
            bodies.push((i + 1, end + 1));
            i = end + 1;
        } else {
            i += 1;
        }
    }
    bodies
}

fn overlaps(bodies: &[(usize, usize)], start: u32, count: u32) -> bool {
    let (first, last) = (start as usize, (start + count - 1) as usize);
    bodies.iter().any(|&(s, e)| first <= e && s <= last)
}

/// Tells whether a line sets one of the identifiers that place a revision in the graph.
fn names_revision(line: &str) -> bool {
    let line = line.trim_start();
    ["revision", "down_revision", "branch_labels", "depends_on"].iter().any(|name| {
        line.strip_prefix(name).is_some_and(|rest| {
            let rest = rest.trim_start();
            rest.starts_with('=') || rest.starts_with(':')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::changes::Block;

    const REVISION: &str = "\"\"\"Add tags.\"\"\"\n\
        from alembic import op\n\
        \n\
        revision = 'b2'\n\
        down_revision = 'a1'\n\
        \n\
        \n\
        def upgrade():\n\
        \x20   op.create_table('tags')\n\
        \x20   op.create_index('ix_tags', 'tags')\n\
        \x20   op.create_index('ix_tags', 'tags')\n\
        \n\
        \n\
        def helper():\n\
        \x20   return 1\n";

    fn modified(blocks: Vec<Block>) -> FileChange {
        let path = Some("nova/db/main/migrations/versions/b2_tags.py".to_string());
        FileChange { old_path: path.clone(), new_path: path, binary: false, blocks }
    }

    fn block(old_start: u32, old_count: u32, new_start: u32, new_count: u32) -> Block {
        Block { old_start, old_count, new_start, new_count }
    }

    fn edit(old: &str, from: &str, to: &str, change: &FileChange) -> bool {
        let new = old.replacen(from, to, 1);
        changes_schema(change, Some(old.as_bytes()), Some(new.as_bytes()))
    }

    #[test]
    fn upgrade_bodies_revisions_and_duplicates() {
        let dup = "    op.create_index('ix_tags', 'tags')\n";
        assert!(
            !edit(REVISION, dup, "", &modified(vec![block(11, 1, 11, 0)])),
            "a repeated line deleted"
        );
        assert!(edit(
            REVISION,
            dup,
            "    op.create_index('ix_other', 'tags')\n",
            &modified(vec![block(11, 1, 11, 1)])
        ));
        assert!(edit(
            REVISION,
            "    op.create_table('tags')\n",
            "",
            &modified(vec![block(9, 1, 9, 0)])
        ));
        assert!(edit(REVISION, "'a1'", "'a0'", &modified(vec![block(5, 1, 5, 1)])), "the graph");
        assert!(!edit(REVISION, "return 1", "return 2", &modified(vec![block(15, 1, 15, 1)])));
        assert!(!edit(
            REVISION,
            "Add tags.",
            "Add the tags table.",
            &modified(vec![block(1, 1, 1, 1)])
        ));
        let added = FileChange { old_path: None, ..modified(vec![block(0, 0, 1, 15)]) };
        assert!(changes_schema(&added, None, Some(REVISION.as_bytes())), "a new revision");
        let env = FileChange {
            old_path: Some("nova/db/main/migrations/env.py".into()),
            new_path: Some("nova/db/main/migrations/env.py".into()),
            binary: false,
            blocks: vec![block(1, 1, 1, 1)],
        };
        assert!(!changes_schema(&env, Some(b"import a\n"), Some(b"import b\n")));
    }
}
