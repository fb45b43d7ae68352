//! `git regraft forecast`: how candidate fixes would go onto every maintained branch.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use regraft::analysis::backport::PolicyCheck;
use regraft::analysis::forecast::{
    self, BranchForecast, Candidate, CandidateOutcome, Forecast, Outcome, Pick, Target,
};
use regraft::git::repo::Repo;
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft forecast origin/stable/2025.2..origin/master
  git regraft forecast --since 2025-06-01 --source origin/master
  git regraft forecast stable/mitaka..master --branch stable/liberty \\
      --branch stable/mitaka --json
  git log --format=%H --grep=Closes-Bug origin/master | \\
      git regraft forecast --stdin --source origin/master
  git regraft forecast A..B --branches 'stable/*' --policy p.toml \\
      --phase 'unmaintained/*=unmaintained'
  git regraft forecast stable/mitaka..master --format html > forecast.html
  git config --add regraft.maintained 'release-*'   (the branches to look at)";

/// The patterns maintained branches are found by when none is given or configured.
pub const DEFAULT_PATTERNS: [&str; 3] = ["stable/*", "unmaintained/*", "*.x"];

/// Forecast candidate fixes onto every maintained branch at once
///
/// For each candidate and branch: already there (an ancestor, or present by `delta`'s
/// evidence: Change-Id, cherry-pick line, marker, patch-id), clean, empty, conflicting (the
/// files), or needing commits first that are neither on the branch nor candidates (found as
/// `deps` finds them: it changes lines they last changed), each with its own outcome. With
/// a policy, the verdict of each branch's phase. Each branch's picks run as one simulation
/// (the merges `git cherry-pick` would do, in memory), branches in parallel; nothing is
/// changed.
///
/// Candidates: the non-merge commits of RANGE (oldest first), of --source since --since,
/// or the commits listed on standard input. Branches: --branch, else the remote-tracking
/// branches of --remote and the local branches matching --branches, else `git config
/// regraft.maintained` (one pattern a value), else stable/*, unmaintained/* and *.x.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The candidates: BASE..TIP (TIP is their source)
    #[arg(required_unless_present_any = ["since", "stdin"], conflicts_with_all = ["since", "stdin"])]
    range: Option<String>,
    /// The candidates: the commits of --source made since DATE (as `git log --since`)
    #[arg(long, value_name = "DATE", conflicts_with = "stdin")]
    since: Option<String>,
    /// The candidates: the commits listed on standard input (the first word of each line)
    #[arg(long)]
    stdin: bool,
    /// Where the candidates come from, with --since or --stdin
    #[arg(long, value_name = "REF", default_value = "HEAD", conflicts_with = "range")]
    source: String,
    /// A branch to forecast onto (repeatable); no pattern is used then
    #[arg(long = "branch", value_name = "BRANCH")]
    branches_named: Vec<String>,
    /// Find the branches by this glob (repeatable; `*` crosses `/`)
    #[arg(long = "branches", value_name = "PATTERN", conflicts_with = "branches_named")]
    patterns: Vec<String>,
    /// The remote whose remote-tracking branches patterns are matched against
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
    /// Judge each pick by this stable-branch policy [default: OpenStack's, with --phase]
    #[arg(long, value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// The support phase: NAME for every branch, or PATTERN=NAME for the branches the glob
    /// matches (repeatable; the first match wins) [default: the policy's default_phase]
    #[arg(long, value_name = "[PATTERN=]NAME")]
    phase: Vec<String>,
    /// How to write the forecast for reading
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Print the forecast as JSON (schema in docs/forecast.md)
    #[arg(long, conflicts_with = "format")]
    json: bool,
}

/// The renderings for reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A matrix that fits the terminal, details below
    Table,
    /// A Markdown table and lists, for a tracker or a mail
    Markdown,
    /// One self-contained, printable page: the matrix, the details, a chart
    Html,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let dir = super::current_dir()?;
    let repo = Repo::discover(&dir)?;
    let (candidates, source) = if let Some(range) = &args.range {
        forecast::candidates_in_range(&repo, range)?
    } else if let Some(since) = &args.since {
        (forecast::candidates_since(&repo, &args.source, since)?, args.source.clone())
    } else {
        let mut specs = Vec::new();
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            if let Some(spec) = line.split_whitespace().next() {
                specs.push(spec.to_string());
            }
        }
        (forecast::candidates_listed(&repo, &specs)?, args.source.clone())
    };
    let mut targets = targets(ui, &repo, &args)?;
    if args.policy.is_some() || !args.phase.is_empty() {
        let policy = regraft::analysis::policy::load(args.policy.as_deref())?;
        let phase = policy.default_phase.clone();
        let check = PolicyCheck { policy: std::sync::Arc::new(policy), phase };
        for target in &mut targets {
            target.policy = Some(phase_for(&check, &args.phase, &target.name)?);
        }
    }
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    ui.status(&format!(
        "forecasting {} candidates onto {} branches ({} at once)",
        candidates.len(),
        targets.len(),
        jobs.min(targets.len())
    ));
    let result = forecast::forecast(|| Repo::discover(&dir), &source, &candidates, &targets, jobs)?;
    if args.json {
        super::write_json(ui, &result)?;
    } else if args.format == Format::Markdown {
        markdown(&mut ui.out(), &result)?;
    } else if args.format == Format::Html {
        let mut out = std::io::BufWriter::new(ui.out());
        super::html::report::forecast(&mut out, &result, |o| described(o, false))?;
        out.flush()?;
    } else {
        table(&mut ui.human(), &result, super::ui::width())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Returns the branches named, or found by the patterns.
fn targets(ui: &Ui, repo: &Repo, args: &Args) -> Result<Vec<Target>, CommandError> {
    if !args.branches_named.is_empty() {
        let mut out = Vec::new();
        for name in &args.branches_named {
            let commit = repo.resolve_commit(name).map_err(|e| {
                CommandError::from(e).with_hint(
                    "a branch that lives on a remote is named like origin/stable/liberty; run `git fetch` if it is new",
                )
            })?;
            out.push(Target { name: name.clone(), commit, policy: None });
        }
        return Ok(out);
    }
    let remote = match &args.remote {
        Some(remote) => {
            repo.check_remote(remote).map_err(CommandError::user)?;
            remote.clone()
        }
        None => "origin".to_string(),
    };
    let (patterns, from) = if !args.patterns.is_empty() {
        (args.patterns.clone(), "--branches")
    } else {
        let configured =
            repo.git().config_get_all("regraft.maintained").map_err(CommandError::internal)?;
        if configured.is_empty() {
            (DEFAULT_PATTERNS.iter().map(|p| p.to_string()).collect(), "the default patterns")
        } else {
            (configured, "git config regraft.maintained")
        }
    };
    let found = forecast::find_branches(repo, &remote, &patterns)?;
    let shown = patterns.join(", ");
    if found.is_empty() {
        return Err(CommandError::user(anyhow::anyhow!(
            "no branch of {remote} nor local branch matches {shown} ({from})"
        ))
        .with_hint(
            "name the branches with --branch, give --branches PATTERN, or set them once: `git config --add regraft.maintained 'stable/*'`",
        ));
    }
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    ui.status(&format!("{} branches match {shown} ({from}): {}", found.len(), names.join(", ")));
    Ok(found.into_iter().map(|f| Target { name: f.name, commit: f.commit, policy: None }).collect())
}

/// Returns the policy check for `branch`: the first `PATTERN=NAME` whose glob matches it
/// (with or without its remote's name), else a bare `NAME`, else the default phase.
fn phase_for(
    check: &PolicyCheck,
    phases: &[String],
    branch: &str,
) -> Result<PolicyCheck, CommandError> {
    let short = branch.split_once('/').map(|(_, rest)| rest);
    let mut chosen = None;
    for given in phases {
        match given.split_once('=') {
            Some((pattern, name)) => {
                let glob = globset::Glob::new(pattern)
                    .map_err(|e| CommandError::user(anyhow::anyhow!("--phase {given}: {e}")))?
                    .compile_matcher();
                if chosen.is_none()
                    && (glob.is_match(branch) || short.is_some_and(|s| glob.is_match(s)))
                {
                    chosen = Some(name.to_string());
                }
            }
            None => {
                if chosen.is_none() {
                    chosen = Some(given.clone());
                }
            }
        }
    }
    let phase = chosen.unwrap_or_else(|| check.policy.default_phase.clone());
    check.policy.phase(&phase)?;
    Ok(PolicyCheck { policy: check.policy.clone(), phase })
}

/// Returns the one glyph of an outcome in the matrix.
fn glyph(outcome: &CandidateOutcome) -> char {
    if outcome.policy.as_ref().is_some_and(|p| !p.allowed) {
        return '!';
    }
    match outcome.outcome {
        Outcome::There => '=',
        Outcome::Clean => '+',
        Outcome::Empty => '0',
        Outcome::Conflict => 'x',
        Outcome::Needs => '>',
    }
}

const LEGEND: &str =
    "= there  + clean  0 empty  x conflict  > needs others first  ! policy refuses";

fn pick_name(pick: Pick) -> &'static str {
    match pick {
        Pick::Clean => "clean",
        Pick::Empty => "empty",
        Pick::Conflict => "conflict",
    }
}

/// Returns `text` cut to at most `width` display columns (`~` marks a cut).
fn cut(text: &str, width: usize) -> String {
    let columns = textwrap::core::display_width;
    if columns(text) <= width {
        return format!("{text}{}", " ".repeat(width - columns(text)));
    }
    let mut out = String::new();
    for c in text.chars() {
        if columns(&out) + columns(c.encode_utf8(&mut [0; 4])) + 1 > width {
            break;
        }
        out.push(c);
    }
    out.push('~');
    let pad = width.saturating_sub(columns(&out));
    out.push_str(&" ".repeat(pad));
    out
}

/// Describes one outcome in words, for the details and Markdown.
fn described(outcome: &CandidateOutcome, code: bool) -> String {
    let quote = |s: &str| if code { format!("`{s}`") } else { s.to_string() };
    let mut text = match outcome.outcome {
        Outcome::There => {
            // One equivalent commit, by every kind of evidence that names it.
            let mut by: Vec<(Option<regraft::ObjectId>, Vec<&str>)> = Vec::new();
            for e in &outcome.evidence {
                match by.iter_mut().find(|(c, _)| *c == e.commit) {
                    Some((_, kinds)) => kinds.push(&e.by),
                    None => by.push((e.commit, vec![&e.by])),
                }
            }
            let by: Vec<String> = by
                .iter()
                .map(|(commit, kinds)| match commit {
                    Some(c) => format!("as {} by {}", quote(&c.short()), kinds.join(", ")),
                    None => "an ancestor".to_string(),
                })
                .collect();
            format!("there, {}", by.join("; "))
        }
        Outcome::Clean => "clean".into(),
        Outcome::Empty => "empty".into(),
        Outcome::Conflict => "conflict".into(),
        Outcome::Needs => {
            let needs: Vec<String> = outcome
                .needs
                .iter()
                .map(|n| format!("{} ({})", quote(&n.commit.short()), pick_name(n.outcome)))
                .collect();
            format!(
                "needs {} first, then {}",
                needs.join(", "),
                outcome.pick.map_or("?", pick_name)
            )
        }
    };
    if !outcome.conflicts.is_empty() {
        let files: Vec<String> =
            outcome.conflicts.iter().map(|f| quote(&visible_line(f))).collect();
        text.push_str(&format!(" in {}", files.join(", ")));
    }
    for need in outcome.needs.iter().filter(|n| !n.conflicts.is_empty()) {
        let files: Vec<String> = need.conflicts.iter().map(|f| quote(&visible_line(f))).collect();
        text.push_str(&format!(
            "; {} conflicts in {}",
            quote(&need.commit.short()),
            files.join(", ")
        ));
    }
    if let Some(policy) = outcome.policy.as_ref().filter(|p| !p.allowed) {
        text.push_str(&format!("; refused by policy: {}", policy.reasons.join("; ")));
    }
    text
}

/// Whether an outcome needs words beyond its glyph.
fn worth_details(outcome: &CandidateOutcome) -> bool {
    let plain_there =
        outcome.outcome == Outcome::There && outcome.evidence.iter().all(|e| e.by == "ancestor");
    let plain = matches!(outcome.outcome, Outcome::Clean | Outcome::Empty) || plain_there;
    !plain || outcome.policy.as_ref().is_some_and(|p| !p.allowed)
}

/// Writes the matrix: candidates down, branches across (numbered, named above), one glyph
/// each, then what the glyphs do not say.
fn table(out: &mut impl Write, result: &Forecast, width: usize) -> std::io::Result<()> {
    let n = result.branches.len();
    writeln!(
        out,
        "forecast of {} candidates from {} onto {n} branches:",
        result.candidates.len(),
        visible_line(&result.source.name)
    )?;
    let number_width = n.to_string().len();
    for (i, branch) in result.branches.iter().enumerate() {
        writeln!(out, "  {:>number_width$}  {}", i + 1, branch_line(branch))?;
    }
    writeln!(out, "{LEGEND}")?;
    writeln!(out)?;
    let cell = number_width + 1;
    let id_width = 10;
    let subject_width = width.saturating_sub(id_width + 1 + cell * n + 1).max(8);
    let mut header = format!("{:<id_width$} {}", "commit", cut("subject", subject_width));
    for i in 0..n {
        header.push_str(&format!(" {:>number_width$}", i + 1));
    }
    writeln!(out, "{}", header.trim_end())?;
    for (row, candidate) in result.candidates.iter().enumerate() {
        let mut line = format!(
            "{:<id_width$} {}",
            candidate.commit.short(),
            cut(&visible_line(&candidate.summary), subject_width)
        );
        for branch in &result.branches {
            line.push_str(&format!(" {:>number_width$}", glyph(&branch.outcomes[row])));
        }
        writeln!(out, "{line}")?;
    }
    let mut details = Vec::new();
    for (row, candidate) in result.candidates.iter().enumerate() {
        let lines: Vec<String> = result
            .branches
            .iter()
            .enumerate()
            .filter(|(_, b)| worth_details(&b.outcomes[row]))
            .map(|(i, b)| format!("    {}: {}", i + 1, described(&b.outcomes[row], false)))
            .collect();
        if !lines.is_empty() {
            details.push(format!(
                "  {} {}",
                candidate.commit.short(),
                visible_line(&candidate.summary)
            ));
            details.extend(lines);
        }
    }
    if !details.is_empty() {
        writeln!(out)?;
        writeln!(out, "details:")?;
        for line in details {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

fn branch_line(branch: &BranchForecast) -> String {
    let count = |o: Outcome| branch.outcomes.iter().filter(|x| x.outcome == o).count();
    let refused =
        branch.outcomes.iter().filter(|o| o.policy.as_ref().is_some_and(|p| !p.allowed)).count();
    let counts: Vec<String> = [
        (Outcome::There, "there"),
        (Outcome::Clean, "clean"),
        (Outcome::Empty, "empty"),
        (Outcome::Conflict, "conflict"),
        (Outcome::Needs, "need others"),
    ]
    .into_iter()
    .filter(|(o, _)| count(*o) > 0)
    .map(|(o, word)| format!("{} {word}", count(o)))
    .collect();
    let mut line = format!(
        "{} ({}): {}",
        visible_line(&branch.name),
        branch.commit.short(),
        counts.join(", ")
    );
    if let Some(phase) = &branch.phase {
        line.push_str(&format!("; phase {}: {refused} refused", visible_line(phase)));
    }
    line
}

/// Escapes what would end a Markdown table cell or start markup.
fn md(text: &str) -> String {
    visible_line(text).replace('\\', "\\\\").replace('|', "\\|").replace('`', "\\`")
}

/// Writes the forecast as Markdown: a table, then a list per branch of what needs words.
fn markdown(out: &mut impl Write, result: &Forecast) -> std::io::Result<()> {
    writeln!(
        out,
        "## Forecast: {} candidates from `{}`\n",
        result.candidates.len(),
        md(&result.source.name)
    )?;
    let mut header = String::from("| commit | subject |");
    let mut rule = String::from("|---|---|");
    for branch in &result.branches {
        header.push_str(&format!(" {} |", md(&branch.name)));
        rule.push_str("---|");
    }
    writeln!(out, "{header}\n{rule}")?;
    for (row, Candidate { commit, summary, .. }) in result.candidates.iter().enumerate() {
        let mut line = format!("| `{}` | {} |", commit.short(), md(summary));
        for branch in &result.branches {
            let o = &branch.outcomes[row];
            let word = match o.outcome {
                Outcome::There => "there",
                Outcome::Clean => "clean",
                Outcome::Empty => "empty",
                Outcome::Conflict => "**conflict**",
                Outcome::Needs => "needs first",
            };
            let refused =
                if o.policy.as_ref().is_some_and(|p| !p.allowed) { ", refused" } else { "" };
            line.push_str(&format!(" {word}{refused} |"));
        }
        writeln!(out, "{line}")?;
    }
    for branch in &result.branches {
        writeln!(out, "\n### `{}` ({})\n", md(&branch.name), branch.commit.short())?;
        writeln!(out, "{}\n", md(&branch_line(branch)))?;
        for (row, candidate) in result.candidates.iter().enumerate() {
            let o = &branch.outcomes[row];
            writeln!(
                out,
                "- `{}` {}: {}",
                candidate.commit.short(),
                md(&candidate.summary),
                described(o, true)
            )?;
        }
    }
    Ok(())
}

/// The demo's step: the last trunk commits forecast onto both stable branches of the
/// sample in `dir`.
pub fn tour(out: &mut impl Write, dir: &std::path::Path) -> Result<(), CommandError> {
    use regraft::scenario::{SOURCE, TARGET, TRUNK};
    let range = format!("{TRUNK}~6..{TRUNK}");
    writeln!(out, "$ git regraft forecast {range} --branch {TARGET} --branch {SOURCE}")?;
    let open = || {
        let mut repo = Repo::discover(dir)?;
        repo.isolate_git_config();
        Ok(repo)
    };
    let repo = open()?;
    let (candidates, source) = forecast::candidates_in_range(&repo, &range)?;
    let mut targets = Vec::new();
    for name in [TARGET, SOURCE] {
        let commit = repo.resolve_commit(name)?;
        targets.push(Target { name: name.into(), commit, policy: None });
    }
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let result = forecast::forecast(open, &source, &candidates, &targets, jobs)?;
    table(out, &result, super::ui::width())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn cutting_keeps_to_the_width() {
        assert_eq!(cut("abc", 5), "abc  ");
        assert_eq!(cut("abcdefgh", 5), "abcd~");
        assert_eq!(textwrap::core::display_width(&cut("日本語のテキスト", 7)), 7);
    }
}
