//! What a commit message tells a stable reviewer: bug and blueprint lines, security ids,
//! words that mark a fix critical, and the markers of changes made for one branch only.

/// Returns the classes a message gives, with `critical_words` and `critical_stops` (both
/// lowercase) deciding `critical`.
pub(super) fn classes(
    message: &[u8],
    critical_words: &[String],
    critical_stops: &[String],
) -> Vec<&'static str> {
    let text = String::from_utf8_lossy(message);
    let mut classes = Vec::new();
    for line in text.lines().map(str::trim) {
        let lower = line.to_lowercase();
        let key = lower.split(':').next().unwrap_or_default().trim();
        match key {
            "closes-bug" | "partial-bug" | "related-bug" => classes.push("bugfix"),
            "docimpact" => classes.push("doc-impact"),
            "upgradeimpact" => classes.push("upgrade-impact"),
            "apiimpact" => classes.push("api-impact"),
            "trivialfix" | "trivial-fix" => classes.push("trivial"),
            _ if is_blueprint_line(&lower) => classes.push("feature"),
            _ => {}
        }
    }
    if names_security_advisory(&text) {
        classes.push("security");
    }
    let lower = text.to_lowercase();
    if classes.contains(&"security")
        || critical_words.iter().any(|w| has_word(&lower, w, critical_stops))
    {
        classes.push("critical");
    }
    let subject = crate::text::message::subject(message).to_lowercase();
    classes.extend(branch_markers(&subject));
    classes
}

/// Returns the markers of a change made for stable or unmaintained branches only, from the
/// bracketed tags that open a (lowercase) subject, in the ways projects write them:
/// `[stable-only]`, `[unmaintained-only]`, `[stable]`, `[stable/2025.1]`,
/// `[stable-2025.1-only]`, `[2025.1 only]`, `[2025.1]`, `[2025.2 and older]`. Other tags
/// (`[doc]`, `[ovn]`) are not markers.
fn branch_markers(subject: &str) -> Vec<&'static str> {
    let mut markers = Vec::new();
    let mut rest = subject.trim_start();
    while let Some(tag) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        let (tag, after) = (tag.0.trim(), tag.1);
        rest = after.trim_start();
        let words: Vec<&str> = tag.split([' ', '-', '/', '_']).filter(|w| !w.is_empty()).collect();
        let series = |w: &&str| {
            w.split_once('.').is_some_and(|(year, n)| {
                year.len() == 4
                    && year.chars().all(|c| c.is_ascii_digit())
                    && !n.is_empty()
                    && n.chars().all(|c| c.is_ascii_digit())
            })
        };
        if words.contains(&"unmaintained") {
            markers.push("unmaintained-only");
        } else if words.first() == Some(&"stable")
            || words.first().is_some_and(series)
            || (words.contains(&"only") && words.len() <= 4)
        {
            markers.push("stable-only");
        }
    }
    markers
}

/// Tells whether a (lowercase) line says the change implements a blueprint, in any of the
/// ways OpenStack writes it: `Implements: blueprint x`, `Implements blueprint x`,
/// `Partially implements: blueprint x`, `Partially-Implements: bp x`, `Blueprint: x`.
fn is_blueprint_line(line: &str) -> bool {
    let rest =
        line.strip_prefix("partially").map(|r| r.trim_start_matches([' ', '-'])).unwrap_or(line);
    if let Some(rest) = rest.strip_prefix("implements") {
        let rest = rest.trim_start_matches(':').trim_start();
        return rest.starts_with("blueprint ") || rest.starts_with("bp ");
    }
    line.starts_with("blueprint:") || line.starts_with("blueprint ")
}

/// Tells whether the text names a vulnerability: a CVE id (`CVE-2024-1234`, four or more
/// digits after the year) or an OpenStack Security Advisory (`OSSA-2024-001`).
fn names_security_advisory(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    [("CVE-", 4), ("OSSA-", 3)].iter().any(|(prefix, min)| {
        upper.match_indices(prefix).any(|(at, _)| {
            let before = upper[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric()) {
                return false;
            }
            let rest = &upper[at + prefix.len()..];
            let year: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let Some(rest) = rest.get(year.len()..).and_then(|r| r.strip_prefix('-')) else {
                return false;
            };
            let serial = rest.chars().take_while(char::is_ascii_digit).count();
            year.len() == 4
                && serial >= *min
                && !rest[serial..].chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        })
    })
}

/// Tells whether `word` (a word or phrase) occurs in `text` as words of its own: not
/// inside a longer word (`time-critical`, `crashkernel`), though with an ending (`crashes`,
/// `critically`), and not as part of one of the `stops` phrases (`security group`).
pub(super) fn has_word(text: &str, word: &str, stops: &[String]) -> bool {
    let word_char = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(at, _)| {
        if text[..at].chars().next_back().is_some_and(word_char) {
            return false;
        }
        let rest = &text[at + word.len()..];
        let ending: String = rest.chars().take_while(|c| word_char(*c)).collect();
        if !["", "s", "es", "ed", "ing", "ly", "al"].contains(&ending.as_str()) {
            return false;
        }
        !stops.iter().any(|stop| {
            stop.contains(word)
                && text.match_indices(stop.as_str()).any(|(s, _)| s <= at && at < s + stop.len())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn critical_words_are_whole_words_outside_the_stop_list() {
        let stops = words(&["security group", "security groups"]);
        let yes = |t: &str, w: &str| has_word(t, w, &stops);
        assert!(yes("fix a critical bug", "critical"));
        assert!(yes("crashes on boot", "crash"));
        assert!(!yes("time-critical path", "critical"));
        assert!(!yes("non-critical warning", "critical"));
        assert!(!yes("criticality", "critical"));
        assert!(!yes("fix security group rules", "security"));
        assert!(!yes("fix security groups", "security"));
        assert!(yes("security groups leak; a security fix", "security"));
        assert!(yes("avoid data loss", "data loss"));
    }

    #[test]
    fn advisories_need_a_whole_id() {
        assert!(names_security_advisory("Fixes CVE-2024-1234."));
        assert!(names_security_advisory("OSSA-2024-001"));
        assert!(names_security_advisory("(cve-2023-45678)"));
        assert!(!names_security_advisory("the CVE-tracker template"));
        assert!(!names_security_advisory("OSSA-notes"));
        assert!(!names_security_advisory("XCVE-2024-1234"));
        assert!(!names_security_advisory("CVE-2024-12"));
    }

    #[test]
    fn branch_markers_as_projects_write_them() {
        for subject in [
            "[stable-only] pin it",
            "[stable] use versioned repos",
            "[stable/2025.1] pin it",
            "[stable-2025.1-only] pin it",
            "[2025.1 only] pin it",
            "[2025.1] constrain setuptools",
            "[2025.2 and older] create a directory",
        ] {
            assert_eq!(branch_markers(subject), vec!["stable-only"], "{subject}");
        }
        assert_eq!(branch_markers("[unmaintained-only] fix"), vec!["unmaintained-only"]);
        for subject in ["[doc] fix", "[ovn] fix", "fix [stable-only] later", "[wip] x", "fix"] {
            assert!(branch_markers(subject).is_empty(), "{subject}");
        }
    }

    #[test]
    fn blueprint_lines_in_every_spelling() {
        for line in [
            "implements: blueprint x",
            "implements blueprint x",
            "partially implements: blueprint x",
            "partially-implements: bp x",
            "blueprint: x",
        ] {
            assert!(is_blueprint_line(line), "{line}");
        }
        assert!(!is_blueprint_line("implements the fix"));
    }
}
