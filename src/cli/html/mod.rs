//! Self-contained HTML pages (`--format html`): one file each, styles, scripts and data
//! inline, nothing fetched. The engine hands values; layout, escaping and drawing are here.

pub mod graph;
pub mod report;
pub mod svg;

use std::io::{self, Write};

/// The style every page shares, print rules included.
const CSS: &str = include_str!("page.css");

/// Returns `text` escaped for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (a subject can hold them) are shown as the text does.
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)))
            }
            c => out.push(c),
        }
    }
    out
}

/// Returns `value` as JSON fit for a `<script type="application/json">` element: every
/// `<`, `>` and `&` is written as a `\u` escape, so no string in it (a commit subject
/// holding `</script>` or `<!--`) can end the element or open a comment, and
/// `JSON.parse` reads the same value back.
pub fn script_json(value: &impl serde::Serialize) -> serde_json::Result<String> {
    let json = serde_json::to_string(value)?;
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            // JSON allows these two raw, older JavaScript string literals did not.
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Writes a whole page: `body` is HTML already escaped, `script` (with its data) optional.
pub fn page(
    out: &mut impl Write,
    title: &str,
    body: &str,
    script: Option<(&str, &str)>,
) -> io::Result<()> {
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, "<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
    // Nothing may be fetched: the page is a file to mail, archive and open offline.
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
    )?;
    writeln!(
        out,
        "<meta name=\"generator\" content=\"git-regraft {}\">",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(out, "<title>{}</title>", escape(title))?;
    writeln!(out, "<style>\n{CSS}</style>\n</head><body>")?;
    out.write_all(body.as_bytes())?;
    if let Some((json, js)) = script {
        writeln!(out, "<script type=\"application/json\" id=\"data\">{json}</script>")?;
        writeln!(out, "<script>\n{js}</script>")?;
    }
    writeln!(out, "</body></html>")
}

/// Returns the file area of a path: its top-level directory, or `(top level)`.
pub fn area(path: &str) -> &str {
    match path.split_once('/') {
        Some((dir, _)) => dir,
        None => "(top level)",
    }
}

/// Returns the civil date (year, month, day) of a Unix time in UTC.
pub fn civil(seconds: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-from-civil inverse.
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).expect("a day of the month");
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).expect("a month");
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Returns `YYYY-MM-DD` of a Unix time in UTC.
pub fn date(seconds: i64) -> String {
    let (y, m, d) = civil(seconds);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Returns the seconds of git's raw date (`<seconds> <+hhmm>`), 0 when unreadable.
pub fn raw_seconds(raw: &str) -> i64 {
    raw.split_whitespace().next().and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script_element() {
        let subject = "Fix </script><script>alert(1)</script> and <!-- & \u{2028}";
        let json = script_json(&serde_json::json!({ "s": subject })).expect("serialises");
        assert!(!json.contains('<') && !json.contains('>'), "{json}");
        assert!(!json.to_ascii_lowercase().contains("</script"));
        let back: serde_json::Value = serde_json::from_str(&json).expect("still JSON");
        assert_eq!(back["s"], subject);
    }

    #[test]
    fn escape_makes_markup_text() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_460_000_000), "2016-04-07");
        assert_eq!(date(-1), "1969-12-31");
    }

    #[test]
    fn areas_are_top_level_directories() {
        assert_eq!(area("docker/nova/Dockerfile.j2"), "docker");
        assert_eq!(area("setup.cfg"), "(top level)");
    }
}
