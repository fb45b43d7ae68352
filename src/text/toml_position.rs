//! Where in a TOML file a malformed-file error points: the 1-based line and column that
//! playbook and policy errors name.

/// Returns the 1-based line and column of byte `offset` in `text`, or 1:1 when the error
/// points nowhere in particular.
pub fn line_column(text: &str, offset: Option<usize>) -> (usize, usize) {
    let Some(offset) = offset else { return (1, 1) };
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column =
        before.rfind('\n').map_or(before.chars().count(), |i| before[i + 1..].chars().count()) + 1;
    (line, column)
}
