//! The text layer: pure parsing of what git prints and commits say (messages, patches,
//! patch-ids, positions in TOML files); no processes, no repository.

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

#[cfg(test)]
mod tests {
    #[test]
    fn a_typo_gets_the_nearest_name_and_a_stranger_none() {
        let phases = ["maintained", "unmaintained", "eol"];
        assert_eq!(super::did_you_mean("maintaned", phases), " (did you mean `maintained`?)");
        assert_eq!(super::did_you_mean("frozen", phases), "");
    }
}
