//! The ways to replace a branch: the five options `compare` measures and `replace` (or
//! `backport`) carries out.

use serde::{Deserialize, Serialize};

/// A way to replace a branch (the backport strategy's picks are `git regraft backport`'s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// One commit on the old tip whose tree is SOURCE's.
    Megapatch,
    /// A merge: first parent the old tip, second SOURCE, tree SOURCE's.
    Merge,
    /// Delete the branch, create it again at SOURCE (two pushes).
    Recreate,
    /// Move the branch to SOURCE with one forced push.
    Reset,
    /// Push SOURCE, a branch built on the old tip by `git regraft backport`, for review.
    Backport,
}

impl Strategy {
    /// Every strategy, in the order the docs and the comparison list them.
    pub const ALL: [Strategy; 5] = [
        Strategy::Megapatch,
        Strategy::Merge,
        Strategy::Recreate,
        Strategy::Reset,
        Strategy::Backport,
    ];

    /// Reads a strategy's name as the command line, playbooks and the guide write it.
    pub fn from_name(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Returns the name used on the command line, in JSON and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Megapatch => "megapatch",
            Strategy::Merge => "merge",
            Strategy::Recreate => "recreate",
            Strategy::Reset => "reset",
            Strategy::Backport => "backport",
        }
    }

    /// Returns the name with what it is also called: `merge (theirs-merge)`.
    pub fn long_name(self) -> &'static str {
        match self {
            Strategy::Merge => "merge (theirs-merge)",
            other => other.name(),
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so a table's width and alignment apply.
        f.pad(self.name())
    }
}

/// The option to take and why; in JSON the one string `<strategy>: <why>` it always was
/// (`merge (theirs-merge): one fast-forward review ...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Recommendation {
    pub strategy: Strategy,
    pub why: String,
}

impl std::fmt::Display for Recommendation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.strategy.long_name(), self.why)
    }
}

impl From<Recommendation> for String {
    fn from(recommendation: Recommendation) -> String {
        recommendation.to_string()
    }
}

impl TryFrom<String> for Recommendation {
    type Error = String;

    fn try_from(text: String) -> Result<Recommendation, String> {
        Strategy::ALL
            .into_iter()
            .find_map(|strategy| {
                let why = [strategy.long_name(), strategy.name()]
                    .into_iter()
                    .find_map(|name| text.strip_prefix(name)?.strip_prefix(": "))?;
                Some(Recommendation { strategy, why: why.to_string() })
            })
            .ok_or_else(|| format!("`{text}` names no strategy"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recommendation_reads_back_from_the_string_json_holds() {
        for (text, strategy) in [
            ("merge (theirs-merge): one fast-forward review brings", Strategy::Merge),
            ("backport: 3 clean picks in ordinary reviews", Strategy::Backport),
        ] {
            let read = Recommendation::try_from(text.to_string()).expect("reads");
            assert_eq!(read.strategy, strategy);
            assert_eq!(read.to_string(), text);
        }
        assert!(Recommendation::try_from("merger: x".to_string()).is_err());
        assert!(Recommendation::try_from("merge: x".to_string()).is_ok(), "the short name too");
    }
}
