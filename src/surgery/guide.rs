//! The guide's decisions as data: which strategies a review server allows, which one to
//! recommend from the figures, the nearest newer branch, and the playbook a release team's
//! answers become (with comments recording the figures that led to it).

use crate::analysis::compare::Comparison;
use crate::oid::ObjectId;
use crate::surgery::replace::Strategy;

/// What the review server lets the release team do on a stable branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerRules {
    /// Non-fast-forward (forced) pushes.
    pub force_push: bool,
    /// Merge commits on the branch.
    pub merge_commits: bool,
    /// Pushes straight to the branch (else everything goes through review).
    pub direct_push: bool,
    /// Deleting and creating the branch (an administrator's right).
    pub admin: bool,
}

impl ServerRules {
    /// Tells whether `strategy` can be carried out under these rules.
    pub fn allow(&self, strategy: Strategy) -> bool {
        match strategy {
            Strategy::Merge => self.merge_commits,
            Strategy::Megapatch | Strategy::Backport => true,
            Strategy::Recreate => self.admin,
            Strategy::Reset => self.force_push && self.direct_push,
        }
    }

    /// Tells whether megapatch or merge must go through review (`--for-review`).
    pub fn reviews_only(&self) -> bool {
        !self.direct_push
    }
}

/// Returns the strategy to preselect: the comparison's recommendation when the server
/// allows it, else the first allowed of merge, megapatch, recreate, reset, backport.
pub fn recommended(comparison: &Comparison, rules: &ServerRules) -> Strategy {
    let named = comparison.recommendation.strategy;
    let order = [
        Strategy::Merge,
        Strategy::Megapatch,
        Strategy::Recreate,
        Strategy::Reset,
        Strategy::Backport,
    ];
    match named {
        s if rules.allow(s) => s,
        _ => order.into_iter().find(|s| rules.allow(*s)).unwrap_or(Strategy::Megapatch),
    }
}

/// Returns the branch of `branches` that is the next series after `target` among the
/// branches of its kind (`stable/liberty` -> `stable/mitaka`: OpenStack names its series in
/// alphabetical order, and numbered ones such as `2023.1` sort too).
pub fn nearest_newer(target: &str, branches: &[String]) -> Option<String> {
    let (prefix, series) = target.rsplit_once('/')?;
    let mut newer: Vec<&String> = branches
        .iter()
        .filter(|b| b.rsplit_once('/').is_some_and(|(p, s)| p == prefix && s > series))
        .collect();
    newer.sort();
    newer.first().map(|b| (*b).clone())
}

/// A review server's part in a playbook: abandon before, restore after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewChoice {
    pub gerrit: String,
    pub project: String,
}

/// What the release team decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaceDecision {
    pub branch: String,
    pub remote: String,
    /// The source as the user named it, and the exact commit the figures were made on.
    pub source_name: String,
    pub source: ObjectId,
    pub strategy: Strategy,
    pub tag: String,
    /// Follow-up commits, with their subjects.
    pub followups: Vec<(ObjectId, String)>,
    pub for_review: bool,
    pub reviews: Option<ReviewChoice>,
    /// Lines recording the figures (the comparison table, the recommendation, counts).
    pub figures: Vec<String>,
    /// The day it was decided (`YYYY-MM-DD`).
    pub date: String,
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Returns the playbook (TOML) that carries the decision out with `git regraft run`.
pub fn playbook(d: &ReplaceDecision) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Written by `git regraft guide` on {} for {} on {}.\n",
        d.date, d.branch, d.remote
    ));
    out.push_str(
        "# Review it, post it, then carry it out: git regraft run <this file> --execute\n#\n",
    );
    out.push_str("# The figures that led to it:\n");
    for line in &d.figures {
        out.push_str(&format!("#   {line}\n"));
    }
    out.push('\n');
    out.push_str(&format!(
        "name = {}\n",
        toml_string(&format!("replace-{}", d.branch.replace('/', "-")))
    ));
    out.push_str(&format!(
        "description = {}\n",
        toml_string(&format!(
            "Replace {} on {} by {} ({}) with {}{}",
            d.branch,
            d.remote,
            d.source_name,
            d.source.short(),
            d.strategy.name(),
            if d.for_review { ", pushed for review" } else { "" }
        ))
    ));
    if let Some(review) = &d.reviews {
        out.push_str(
            "\n# Open reviews on the branch are abandoned first and restored at the end.\n",
        );
        out.push_str("[review]\n");
        out.push_str(&format!("gerrit = {}\n", toml_string(&review.gerrit)));
        out.push_str(&format!("project = {}\n", toml_string(&review.project)));
    }
    out.push_str("\n[[steps]]\ndo = \"replace\"\n");
    out.push_str(&format!("branch = {}\n", toml_string(&d.branch)));
    out.push_str(&format!(
        "# {} at the time of the figures\nfrom = {}\nfrom-name = {}\n",
        d.source_name,
        toml_string(&d.source.to_hex()),
        toml_string(&d.source_name)
    ));
    out.push_str(&format!("strategy = {}\n", toml_string(d.strategy.name())));
    out.push_str(&format!("tag = {}\n", toml_string(&d.tag)));
    out.push_str(&format!("remote = {}\n", toml_string(&d.remote)));
    if !d.followups.is_empty() {
        out.push_str("followups = [\n");
        for (commit, summary) in &d.followups {
            out.push_str(&format!(
                "    {}, # {}\n",
                toml_string(&commit.to_hex()),
                summary.replace('\n', " ")
            ));
        }
        out.push_str("]\n");
    }
    if d.for_review {
        out.push_str("for-review = true\n");
    }
    if d.reviews.is_some() {
        out.push_str(&format!(
            "\n[[steps]]\ndo = \"restore-reviews\"\nbranch = {}\nremote = {}\n",
            toml_string(&d.branch),
            toml_string(&d.remote)
        ));
    }
    out
}

/// How a branch's support ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// End of life: tag the last commit, delete the branch.
    Life,
    /// End of maintenance: tag the last commit, create `unmaintained` at it, delete the
    /// branch.
    Maintenance { unmaintained: String },
}

/// What the release team decided for an end of life or of maintenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndDecision {
    pub branch: String,
    pub remote: String,
    pub tag: String,
    pub ending: Ending,
    pub reviews: Option<ReviewChoice>,
    pub date: String,
}

/// Returns the branch an end of maintenance moves `branch` to (`stable/victoria` ->
/// `unmaintained/victoria`), when it is named for a series.
pub fn unmaintained_name(branch: &str) -> Option<String> {
    let series = branch.strip_prefix("stable/").filter(|s| !s.is_empty())?;
    Some(format!("unmaintained/{series}"))
}

/// Returns the playbook (TOML) that ends the branch's life or maintenance with
/// `git regraft run`.
pub fn end_playbook(d: &EndDecision) -> String {
    let mut out = format!(
        "# Written by `git regraft guide` on {} for {} on {}.\n# Review it, post it, then carry it out: git regraft run <this file> --execute\n\n",
        d.date, d.branch, d.remote
    );
    let (name, description) = match &d.ending {
        Ending::Life => (
            format!("eol-{}", d.branch.replace('/', "-")),
            format!(
                "End of life of {} on {}: tag {}, delete the branch",
                d.branch, d.remote, d.tag
            ),
        ),
        Ending::Maintenance { unmaintained } => (
            format!("eom-{}", d.branch.replace('/', "-")),
            format!(
                "End of maintenance of {} on {}: tag {}, create {unmaintained} at it, delete {}",
                d.branch, d.remote, d.tag, d.branch
            ),
        ),
    };
    out.push_str(&format!("name = {}\n", toml_string(&name)));
    out.push_str(&format!("description = {}\n", toml_string(&description)));
    if let Some(review) = &d.reviews {
        out.push_str(
            "\n# Open reviews on the branch are abandoned before it is deleted.\n[review]\n",
        );
        out.push_str(&format!("gerrit = {}\n", toml_string(&review.gerrit)));
        out.push_str(&format!("project = {}\n", toml_string(&review.project)));
    }
    let (branch, tag, remote) =
        (toml_string(&d.branch), toml_string(&d.tag), toml_string(&d.remote));
    match &d.ending {
        Ending::Life => {
            out.push_str(&format!(
                "\n[[steps]]\ndo = \"eol\"\nbranch = {branch}\ntag = {tag}\nremote = {remote}\n"
            ));
        }
        Ending::Maintenance { unmaintained } => {
            let unmaintained = toml_string(unmaintained);
            out.push_str(&format!(
                "\n[[steps]]\ndo = \"tag-tip\"\nbranch = {branch}\ntag = {tag}\nremote = {remote}\n"
            ));
            out.push_str(&format!(
                "\n[[steps]]\ndo = \"create-branch\"\nbranch = {unmaintained}\nfrom-branch = {branch}\nremote = {remote}\n"
            ));
            out.push_str(&format!(
                "\n[[steps]]\ndo = \"delete-branch\"\nbranch = {branch}\nkept-by = {tag}\nremote = {remote}\n"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_newer_series_is_the_next_of_its_kind() {
        let branches: Vec<String> =
            ["stable/kilo", "stable/mitaka", "stable/newton", "master", "unmaintained/mitaka"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        assert_eq!(nearest_newer("stable/liberty", &branches).as_deref(), Some("stable/mitaka"));
        assert_eq!(nearest_newer("stable/newton", &branches), None);
        let numbered: Vec<String> = ["stable/2023.1", "stable/2023.2", "stable/2024.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(nearest_newer("stable/2023.1", &numbered).as_deref(), Some("stable/2023.2"));
    }

    #[test]
    fn rules_rule_out_strategies() {
        let strict = ServerRules {
            force_push: false,
            merge_commits: false,
            direct_push: false,
            admin: false,
        };
        assert!(!strict.allow(Strategy::Merge) && !strict.allow(Strategy::Reset));
        assert!(!strict.allow(Strategy::Recreate) && strict.allow(Strategy::Megapatch));
    }
}
