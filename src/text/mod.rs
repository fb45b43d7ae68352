//! The text layer: pure parsing of what git prints and commits say (messages, patches,
//! patch-ids, positions in TOML files); no processes, no repository.

pub mod bugs;
pub mod changes;
pub mod message;
pub mod patch_id;
pub mod provenance;
pub mod toml_position;
pub mod visible;

/// Returns ` (did you mean `x`?)` for the candidate nearest `word` by edit distance, when
/// one is near enough to be a typo of it (at most a quarter of its letters, two at least);
/// empty otherwise.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let limit = (word.chars().count() / 4).max(2);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// Breaks `text` (one paragraph) into lines of at most `width` columns at spaces, as a
/// commit or tag message is written; a word longer than `width` stays whole on its line.
pub fn wrap_paragraph(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_paragraph_is_wrapped_at_spaces_and_a_long_word_kept_whole() {
        let text = "The tree is exactly origin/stable/mitaka's \
                    (5080f5c4d5e95f225604d46a559c20fb35ea8ba4), which has 77 commits";
        let wrapped = super::wrap_paragraph(text, 40);
        assert_eq!(
            wrapped,
            "The tree is exactly\norigin/stable/mitaka's\n(5080f5c4d5e95f225604d46a559c20fb35ea8ba4),\nwhich has 77 commits"
        );
        assert_eq!(
            wrapped.split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_typo_gets_the_nearest_name_and_a_stranger_none() {
        let phases = ["maintained", "unmaintained", "eol"];
        assert_eq!(super::did_you_mean("maintaned", phases), " (did you mean `maintained`?)");
        assert_eq!(super::did_you_mean("frozen", phases), "");
    }
}
