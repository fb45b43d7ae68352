//! `git regraft guide`: the guided tool. By questions on a terminal it walks the release
//! team from a broken branch to a reviewed playbook (and, if asked, a done replacement), a
//! developer through `sync`, and a project lead to a Markdown comparison.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dialoguer::theme::SimpleTheme;
use dialoguer::{Confirm, Input, MultiSelect, Select};
use regraft::analysis::compare::{self, CompareOptions};
use regraft::analysis::delta::{self, DeltaOptions};
use regraft::git::repo::{LocalBranch, Repo};
use regraft::surgery::guide::{self, Ending, ReplaceDecision, ReviewChoice, ServerRules};
use regraft::surgery::operation::ReviewCall;
use regraft::surgery::replace::{ReviewTarget, Strategy};
use regraft::surgery::sync::{self, SyncOptions, SyncOutcome};

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft guide
  git regraft guide stable/liberty";

/// Be walked through it by questions: replace a broken branch, sync after one, compare
///
/// For the release team: which branch, what it needs and from where, the five options
/// measured, what the server allows, what a tree-replacing option would drop (offered as
/// follow-ups), the tag and the open reviews; the decision is written as a playbook with the
/// figures in its comments, its plan shown, and carried out only if you say so. For a
/// developer: what `sync` would do to each branch, then do it. For a project lead: the
/// comparison as Markdown for a mailing list. Every question shows its default; Esc or
/// Ctrl-C at any question stops with nothing changed. Needs a terminal.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch the guide starts from [default: the current branch's upstream]
    branch: Option<String>,
    /// The remote
    #[arg(long, default_value = "origin")]
    remote: String,
}

/// Why the guide stopped early.
enum Stop {
    /// Esc at a question: nothing changed.
    Cancelled(String),
    Failed(CommandError),
}

impl From<CommandError> for Stop {
    fn from(e: CommandError) -> Self {
        Stop::Failed(e)
    }
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Stop::Failed(CommandError::internal(e))
    }
}

type Step<T> = Result<T, Stop>;

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(CommandError::user(anyhow::anyhow!(
            "the guide asks questions and needs a terminal"
        ))
        .with_hint(
            "without one: `git regraft compare TARGET SOURCE`, `git regraft replace BRANCH --from SOURCE --strategy S`, or `git regraft run PLAYBOOK`",
        ));
    }
    let repo = Repo::discover(&super::current_dir()?).map_err(CommandError::user)?;
    super::interrupt_note("\nStopped: nothing was changed.");
    let result = guided(&repo, &args, ui);
    super::interrupt_note("");
    match result {
        Ok(code) => Ok(code),
        Err(Stop::Cancelled(question)) => {
            ui.status(&format!("\nStopped at \"{question}\": nothing was changed."));
            Ok(ExitCode::from(130))
        }
        Err(Stop::Failed(e)) => Err(e),
    }
}

fn guided(repo: &Repo, args: &Args, ui: &Ui) -> Step<ExitCode> {
    let status = regraft::surgery::status::status(repo).ok();
    if let Some(status) = status.as_ref().filter(|s| s.next.is_some()) {
        if let Some(exit) = in_progress(repo, status, ui)? {
            return Ok(exit);
        }
    }
    say(
        "Enter takes the marked answer, or the one in [brackets]; Esc or Ctrl-C stops.\nNothing changes until you say so at the end.",
    );
    if let Some(exit) = earlier_playbook(repo, ui)? {
        return Ok(exit);
    }
    let rewritten = upstream_rewritten(repo, &args.remote);
    let paths = [
        "Release team: replace a broken stable branch, or end one",
        "Developer: the branch I track was replaced; bring my work",
        "Project lead: compare the options for a mailing list",
    ];
    let preselect = usize::from(rewritten);
    match select("What do you want to do?", &paths, preselect)? {
        0 => release(repo, args, ui),
        1 => developer(repo, args, ui),
        _ => lead(repo, args, ui),
    }
}

/// After an interruption: says what is in progress (as `status` does) and offers to finish
/// it or undo it here; `None` to go on with the guide.
fn in_progress(
    repo: &Repo,
    status: &regraft::surgery::status::Status,
    ui: &Ui,
) -> Step<Option<ExitCode>> {
    let next = status.next.clone().unwrap_or_default();
    let what = status
        .operation
        .as_ref()
        .map(|op| {
            let done = op.steps_done();
            format!("{} ({done} of {} steps done)", op.operation, op.steps.len())
        })
        .or_else(|| status.backport.as_ref().map(|b| format!("a backport onto {}", b.target)))
        .unwrap_or_else(|| "an operation whose journal cannot be read".to_string());
    say(&format!("In progress here: {what}. `git regraft status` tells it all."));
    // A replace, eol or playbook plan can be finished or undone from here.
    if status.operation.is_some() && status.unreadable_journal.is_none() {
        let choices = [
            format!("Finish it ({next})"),
            format!("Undo what it did ({})", status.or.clone().unwrap_or_default()),
            "Leave it and go on with the guide".to_string(),
        ];
        return match select("What now?", &choices, 0)? {
            0 => Ok(Some(super::surgery::resume_or_abort(ui, repo, false)?)),
            1 => {
                say("Undoing puts the branch back at its old tip where this operation moved it.");
                if !confirm("Undo it?", false)? {
                    return Ok(Some(ExitCode::SUCCESS));
                }
                Ok(Some(super::surgery::resume_or_abort(ui, repo, true)?))
            }
            _ => Ok(None),
        };
    }
    say(&format!("Next: {next}"));
    if !confirm("Go on with the guide anyway (it changes nothing without asking)?", false)? {
        return Ok(Some(ExitCode::SUCCESS));
    }
    Ok(None)
}

// ---- the questions -------------------------------------------------------------------

/// The guide's screen width: every line it writes fits.
const WIDTH: usize = 80;

/// Writes `text` to the terminal, wrapped to [`WIDTH`].
fn say(text: &str) {
    let _ = write!(std::io::stderr(), "{}", wrap_to(text, WIDTH, false));
}

/// Writes a command to copy, indented, wrapped to [`WIDTH`] with the shell's ` \`
/// continuations so that it still runs when pasted.
fn say_command(command: &str) {
    let mut lines = vec![String::from("  ")];
    for word in command.split(' ') {
        let line = lines.last_mut().expect("one line at least");
        if line.trim().is_empty() || line.chars().count() + 1 + word.chars().count() + 2 <= WIDTH {
            if !line.trim().is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        } else {
            line.push_str(" \\");
            lines.push(format!("      {word}"));
        }
    }
    let _ = writeln!(std::io::stderr(), "{}", lines.join("\n"));
}

/// Records an answer on the screen as `prompt: answer`, wrapped to [`WIDTH`] (the prompts
/// do not report themselves: their own line could be wider).
fn answered(prompt: &str, answer: &str) {
    say(&format!("{prompt}: {answer}"));
}

/// Cuts `text` to `width` columns, marking the cut with `…`.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Ctrl-C at a question (the terminal reports it as an interrupted read) stops like Esc.
fn asked(error: dialoguer::Error, prompt: &str) -> Stop {
    match error {
        dialoguer::Error::IO(e) if e.kind() == std::io::ErrorKind::Interrupted => {
            Stop::Cancelled(prompt.to_string())
        }
        e => Stop::Failed(CommandError::internal(e)),
    }
}

/// How many choices a list shows at once (it scrolls past them), so it fits a 24-row
/// terminal with the lines above it.
const LIST_ROWS: usize = 12;

fn select<T: ToString>(prompt: &str, items: &[T], default: usize) -> Step<usize> {
    // An item wider than the screen would wrap and spoil the list's redrawing.
    let items: Vec<String> = items.iter().map(|i| cut(&i.to_string(), WIDTH - 4)).collect();
    let chosen = Select::with_theme(&SimpleTheme)
        .with_prompt(prompt)
        .items(&items)
        .default(default)
        .max_length(LIST_ROWS)
        .report(false)
        .interact_opt()
        .map_err(|e| asked(e, prompt))?
        .ok_or_else(|| Stop::Cancelled(prompt.to_string()))?;
    answered(prompt, &items[chosen]);
    Ok(chosen)
}

fn confirm(prompt: &str, default: bool) -> Step<bool> {
    let yes = Confirm::with_theme(&SimpleTheme)
        .with_prompt(prompt)
        .default(default)
        .report(false)
        .interact_opt()
        .map_err(|e| asked(e, prompt))?
        .ok_or_else(|| Stop::Cancelled(prompt.to_string()))?;
    answered(prompt, yes_no(yes));
    Ok(yes)
}

fn input(prompt: &str, default: &str) -> Step<String> {
    let text = Input::<String>::with_theme(&SimpleTheme)
        .with_prompt(prompt)
        .default(default.to_string())
        .report(false)
        .interact_text()
        .map_err(|e| asked(e, prompt))?;
    answered(prompt, &text);
    Ok(text)
}

/// [`input`] without the default shown in the prompt (said before it), for long defaults
/// that leave no room to type.
fn input_quiet(prompt: &str, default: &str) -> Step<String> {
    let text = Input::<String>::with_theme(&SimpleTheme)
        .with_prompt(prompt)
        .default(default.to_string())
        .show_default(false)
        .report(false)
        .interact_text()
        .map_err(|e| asked(e, prompt))?;
    answered(prompt, &text);
    Ok(text)
}

fn multi(prompt: &str, items: &[String]) -> Step<Vec<usize>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<String> = items.iter().map(|i| cut(i, WIDTH - 8)).collect();
    let picked = MultiSelect::with_theme(&SimpleTheme)
        .with_prompt(format!("{prompt} (Space picks, Enter ends)"))
        .items(&items)
        .max_length(LIST_ROWS)
        .report(false)
        .interact_opt()
        .map_err(|e| asked(e, prompt))?
        .ok_or_else(|| Stop::Cancelled(prompt.to_string()))?;
    answered(prompt, &format!("{} of {}", picked.len(), items.len()));
    Ok(picked)
}

// ---- facts about the repository ------------------------------------------------------

/// The remote's branches as last fetched (`refs/remotes/<remote>/...`), short names.
fn remote_branches(repo: &Repo, remote: &str) -> Vec<String> {
    let prefix = format!("refs/remotes/{remote}/");
    let out =
        repo.git().output(&["for-each-ref", "--format=%(refname)", &prefix]).unwrap_or_default();
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter(|b| *b != "HEAD")
        .map(str::to_string)
        .collect()
}

/// Tells whether the current branch's upstream no longer contains the branch's base (a
/// replaced upstream), to preselect the developer's path.
fn upstream_rewritten(repo: &Repo, remote: &str) -> bool {
    let Some(current) = repo.head_branch() else { return false };
    let Some(LocalBranch { tip, upstream: Some(upstream), .. }) =
        repo.local_branches().into_iter().find(|b| b.name == current)
    else {
        return false;
    };
    let Some(now) = repo.reference_target(&upstream) else { return false };
    upstream.starts_with(&format!("refs/remotes/{remote}/"))
        && tip != now
        && !repo.is_ancestor(now, tip)
        && !repo.is_ancestor(tip, now)
        && repo.reflog(&upstream).iter().any(|old| repo.is_ancestor(*old, tip))
}

fn default_branch(repo: &Repo, args: &Args, branches: &[String]) -> usize {
    let wanted = args.branch.clone().or_else(|| {
        let current = repo.head_branch()?;
        let branch = repo.local_branches().into_iter().find(|b| b.name == current)?;
        branch.upstream?.strip_prefix(&format!("refs/remotes/{}/", args.remote)).map(str::to_string)
    });
    wanted.and_then(|w| branches.iter().position(|b| *b == w)).unwrap_or(0)
}

fn stable_like(branches: &[String]) -> Vec<String> {
    let mut found: Vec<String> = branches
        .iter()
        .filter(|b| ["stable/", "unmaintained/", "driverfixes/"].iter().any(|p| b.starts_with(p)))
        .cloned()
        .collect();
    if found.is_empty() {
        found = branches.to_vec();
    }
    found.sort();
    found
}

fn fetch(repo: &Repo, remote: &str) -> Step<()> {
    say(&format!("Fetching {remote}..."));
    repo.git()
        .output(&["fetch", "--quiet", "--tags", "--end-of-options", remote])
        .map_err(|e| Stop::Failed(CommandError::internal(e)))?;
    Ok(())
}

fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

// ---- the release team ----------------------------------------------------------------

fn release(repo: &Repo, args: &Args, ui: &Ui) -> Step<ExitCode> {
    let remote = args.remote.as_str();
    repo.check_remote(remote).map_err(CommandError::user)?;
    if confirm(&format!("Fetch {remote} first, so the figures are today's?"), true)? {
        fetch(repo, remote)?;
    }
    let all = remote_branches(repo, remote);
    let candidates = stable_like(&all);
    if candidates.is_empty() {
        return Err(Stop::Failed(CommandError::user(anyhow::anyhow!(
            "{remote} has no branches (fetch it first)"
        ))));
    }
    let broken = candidates
        [select("Which branch is broken?", &candidates, default_branch(repo, args, &candidates))?]
    .clone();
    let fix = match what_it_needs(&broken)? {
        Needs::Tree => None,
        Needs::Fix => {
            let text = input("The fix commit (an id or any revision)", "")?;
            Some(repo.resolve_commit(&text).map_err(CommandError::user)?)
        }
        Needs::End(ending) => return end(repo, remote, &broken, ending, ui),
    };
    let source_branch = which_source(repo, remote, &all, &broken, fix)?;
    let target = format!("{remote}/{broken}");
    let source_name = format!("{remote}/{source_branch}");
    let source = repo.resolve_commit(&source_name).map_err(CommandError::user)?;
    if let Some(fix) = fix {
        say_what_the_fix_needs(repo, &target, &source_name, fix)?;
    }
    say(&format!("\nMeasuring the five options for {target} from {source_name}..."));
    let comparison = compare::compare(
        repo,
        &target,
        &source_name,
        &CompareOptions::default(),
        &super::progress::Bar::new(),
    )
    .map_err(CommandError::from)?;
    say(&screen_table(&comparison));
    let rules = ask_rules()?;
    let strategy = choose_strategy(&comparison, &rules)?;
    if strategy == Strategy::Backport {
        return staged_backport(repo, &broken, &target, &source_name, fix, ui);
    }
    let branches = Branches { broken: &broken, source_branch: &source_branch, source };
    let (own, followups) = choose_followups(repo, &branches, &target, &source_name, strategy)?;
    let series = regraft::surgery::replace::series(&broken).unwrap_or("branch");
    let tag = input("Tag that keeps the old tip", &format!("{series}-early-demise"))?;
    regraft::git::names::check_tag(&tag).map_err(CommandError::user)?;
    // Only a branch deleted or moved backwards blocks or closes its open reviews; a
    // fast-forward leaves them open, to be rebased as usual.
    let reviews = if matches!(strategy, Strategy::Recreate | Strategy::Reset) {
        ask_reviews(repo, remote, &broken, "Abandon them first and restore them at the end?")?
    } else {
        None
    };
    let for_review =
        rules.reviews_only() && matches!(strategy, Strategy::Megapatch | Strategy::Merge);
    let figures = figures(&comparison, &rules, &broken, own, followups.len())?;
    let decision = ReplaceDecision {
        branch: broken.clone(),
        remote: remote.to_string(),
        source_name: source_name.clone(),
        source,
        strategy,
        tag,
        followups,
        for_review,
        reviews,
        figures,
        date: today(),
    };
    let default_path = format!("regraft-{}-{}.toml", broken.replace('/', "-"), decision.date);
    let path = PathBuf::from(input("Write the playbook to", &default_path)?);
    std::fs::write(&path, guide::playbook(&decision))?;
    say(&format!(
        "\nWrote {}: review it, post it; `git regraft run {}` shows its plan again.\n",
        path.display(),
        path.display()
    ));
    let consequences = match strategy {
        Strategy::Recreate | Strategy::Reset => format!(
            "{broken} will be rewritten on {remote}: every clone must force-update (git regraft sync)"
        ),
        _ if for_review => {
            format!("the {} commit goes to review; {broken} moves when it merges", strategy.name())
        }
        _ => format!("{broken} on {remote} moves forward to the new commit"),
    };
    let reviews_note =
        if decision.reviews.is_some() { "; its open reviews are abandoned first" } else { "" };
    carry_out(repo, ui, &path, &format!("{consequences}{reviews_note}"))
}

/// What the broken branch needs, as the release team answered.
enum Needs {
    /// The whole newer branch's tree.
    Tree,
    /// One fix commit and what it needs.
    Fix,
    /// Nothing more: its support ends.
    End(Ending),
}

fn what_it_needs(broken: &str) -> Step<Needs> {
    let mut needs = vec![
        "The whole newer branch (its tree)".to_string(),
        "One fix commit, and what it needs".to_string(),
        "Nothing more: end its life (tag <series>-eol, delete the branch)".to_string(),
    ];
    let unmaintained = guide::unmaintained_name(broken);
    if let Some(u) = &unmaintained {
        needs.push(format!("Nothing more: end its maintenance (tag <series>-eom, move it to {u})"));
    }
    Ok(match (select("What does it need?", &needs, 0)?, unmaintained) {
        (0, _) => Needs::Tree,
        (1, _) => Needs::Fix,
        (3, Some(unmaintained)) => Needs::End(Ending::Maintenance { unmaintained }),
        _ => Needs::End(Ending::Life),
    })
}

/// Asks which branch holds what `broken` needs (the ones holding `fix`, when one is given),
/// the nearest newer series preselected.
fn which_source(
    repo: &Repo,
    remote: &str,
    all: &[String],
    broken: &str,
    fix: Option<regraft::ObjectId>,
) -> Step<String> {
    let sources: Vec<String> = all
        .iter()
        .filter(|b| *b != broken)
        .filter(|b| {
            fix.is_none_or(|f| {
                repo.reference_target(&format!("refs/remotes/{remote}/{b}"))
                    .is_some_and(|t| t == f || repo.is_ancestor(f, t))
            })
        })
        .cloned()
        .collect();
    if sources.is_empty() {
        return Err(Stop::Failed(CommandError::user(anyhow::anyhow!(
            "no other branch of {remote} holds what {broken} needs"
        ))));
    }
    let nearest = guide::nearest_newer(broken, &sources)
        .and_then(|n| sources.iter().position(|s| *s == n))
        .unwrap_or(0);
    Ok(sources[select("Which branch holds it?", &sources, nearest)?].clone())
}

/// Says how many commits `fix` needs by line dependencies, and how many of them apply.
fn say_what_the_fix_needs(
    repo: &Repo,
    target: &str,
    source: &str,
    fix: regraft::ObjectId,
) -> Step<()> {
    let graph = regraft::analysis::deps::analyze(
        repo,
        target,
        source,
        &regraft::analysis::deps::DepsOptions::default(),
        &regraft::progress::Silent,
    )
    .map_err(CommandError::from)?;
    let closure = graph.closure(&[fix], false);
    if let Ok(p) = graph.predict(repo, &closure, &regraft::progress::Silent) {
        say(&format!(
            "The fix {} needs {} commits by line dependencies: {} apply cleanly, {} conflict.",
            fix.short(),
            closure.len(),
            p.clean,
            p.conflicts.len()
        ));
    }
    Ok(())
}

fn ask_rules() -> Step<ServerRules> {
    Ok(ServerRules {
        force_push: confirm(
            "Does the server accept forced (non-fast-forward) pushes to the branch?",
            false,
        )?,
        merge_commits: confirm("Does it accept merge commits on the branch?", true)?,
        direct_push: select(
            "How do changes reach the branch?",
            &["Only through review", "Direct pushes are allowed to me"],
            0,
        )? == 1,
        admin: confirm("Can you delete and create the branch (an administrator's right)?", false)?,
    })
}

/// Offers the options `rules` allow, each with its verdict's first clause, the
/// recommendation (recomputed for the rules) preselected.
fn choose_strategy(comparison: &compare::Comparison, rules: &ServerRules) -> Step<Strategy> {
    let strategies = [
        Strategy::Merge,
        Strategy::Megapatch,
        Strategy::Recreate,
        Strategy::Reset,
        Strategy::Backport,
    ];
    let allowed: Vec<Strategy> = strategies.into_iter().filter(|s| rules.allow(*s)).collect();
    let best = guide::recommended(comparison, rules);
    let names: Vec<String> = allowed
        .iter()
        .map(|s| {
            let f = comparison.options.iter().find(|f| f.strategy == s.name());
            let mark = if *s == best { " (recommended)" } else { "" };
            format!(
                "{}{mark}: {}",
                s.name(),
                f.map_or(String::new(), |f| short_verdict(&f.verdict))
            )
        })
        .collect();
    let default = allowed.iter().position(|s| *s == best).unwrap_or(0);
    Ok(allowed[select("Which option?", &names, default)?])
}

/// The broken branch, and the source branch with the commit the figures were made on.
struct Branches<'a> {
    broken: &'a str,
    source_branch: &'a str,
    source: regraft::ObjectId,
}

/// What a tree-replacing option drops (the broken branch's own changes the source lacks),
/// offered as follow-ups (the ones that conflict marked, and left out if picked), then the
/// `.gitreview` follow-up; returns how many own changes there were, and the follow-ups.
fn choose_followups(
    repo: &Repo,
    b: &Branches,
    target: &str,
    source_name: &str,
    strategy: Strategy,
) -> Step<(usize, Vec<(regraft::ObjectId, String)>)> {
    let own = delta::delta(repo, source_name, target, &DeltaOptions::default())
        .map_err(CommandError::from)?;
    let dropped: Vec<(regraft::ObjectId, String)> = own
        .source_only
        .iter()
        .filter(|e| !e.merge && !e.is_present())
        .map(|e| (e.commit, e.summary.clone()))
        .collect();
    let mut followups = Vec::new();
    if !dropped.is_empty() {
        say(&format!(
            "\n{} has {} changes of its own that {} does not have; {} would drop them:",
            b.broken,
            dropped.len(),
            b.source_branch,
            strategy.name()
        ));
        // Each alone onto the source's tree: the ones that cannot be carried are marked.
        let mut items = Vec::new();
        for (c, summary) in &dropped {
            let alone = regraft::surgery::replace::check_followups(repo, b.source, &[*c])
                .map_err(CommandError::from)?;
            let mark = if alone.iter().any(|f| !f.is_empty()) { "[conflicts] " } else { "" };
            items.push(format!("{} {mark}{summary}", c.short()));
        }
        let picked: Vec<(regraft::ObjectId, String)> =
            multi("Carry which of them on top as follow-ups?", &items)?
                .into_iter()
                .map(|i| dropped[i].clone())
                .collect();
        // A follow-up that does not apply on the source's tree would stop the plan: say so
        // now and leave it out.
        let commits: Vec<regraft::ObjectId> = picked.iter().map(|(c, _)| *c).collect();
        let checked = regraft::surgery::replace::check_followups(repo, b.source, &commits)
            .map_err(CommandError::from)?;
        for ((commit, summary), conflicts) in picked.into_iter().zip(checked) {
            if conflicts.is_empty() {
                followups.push((commit, summary));
            } else {
                say(&format!(
                    "Left out {} \"{summary}\": it conflicts with {}'s tree in {}. Bring it as a reviewed change after the replacement.",
                    commit.short(),
                    b.source_branch,
                    conflicts.join(", ")
                ));
            }
        }
    }
    gitreview_followup(repo, b.broken, b.source_branch, b.source, &mut followups)?;
    Ok((dropped.len(), followups))
}

/// The lines recording the figures that led to the decision, for the playbook's comments:
/// `compare`'s full table, the recommendation, the server's rules, the counts.
fn figures(
    comparison: &compare::Comparison,
    rules: &ServerRules,
    broken: &str,
    own: usize,
    carried: usize,
) -> Step<Vec<String>> {
    let mut table = Vec::new();
    super::compare::table(&mut table, comparison)?;
    let mut figures: Vec<String> =
        String::from_utf8_lossy(&table).lines().map(str::to_string).collect();
    figures.push(String::new());
    figures.push(format!("Recommendation: {}", comparison.recommendation));
    figures.push(format!(
        "Server: forced pushes {}, merge commits {}, {}, delete/create {}",
        yes_no(rules.force_push),
        yes_no(rules.merge_commits),
        if rules.direct_push { "direct pushes" } else { "reviews only" },
        yes_no(rules.admin)
    ));
    figures.push(format!("{own} changes of {broken}'s own; {carried} carried as follow-ups"));
    Ok(figures)
}

/// When SOURCE's `.gitreview` sends reviews to another branch and no follow-up chosen
/// changes that file: offers (default yes) a follow-up that sets `defaultbranch` to the
/// broken branch, written here and put first.
fn gitreview_followup(
    repo: &Repo,
    broken: &str,
    source_branch: &str,
    source: regraft::ObjectId,
    followups: &mut Vec<(regraft::ObjectId, String)>,
) -> Step<()> {
    let Some(text) = repo.file_at(source, ".gitreview") else { return Ok(()) };
    let Some(named) = regraft::review::GitReview::parse(&String::from_utf8_lossy(&text))
        .and_then(|r| r.defaultbranch)
        .filter(|b| b != broken)
    else {
        return Ok(());
    };
    let touches = |commit: regraft::ObjectId| {
        let parent = repo.commit_info(commit).ok().and_then(|i| i.parents.first().copied());
        parent.and_then(|p| repo.file_at(p, ".gitreview")) != repo.file_at(commit, ".gitreview")
    };
    if followups.iter().any(|(c, _)| touches(*c)) {
        return Ok(());
    }
    say(&format!(
        "{source_branch}'s .gitreview says defaultbranch={named}: with its tree, reviews sent from {broken} with git-review would go to {named}."
    ));
    if confirm(&format!("Add a follow-up that sets it to {broken}?"), true)? {
        let made = regraft::surgery::replace::write_gitreview_followup(repo, source, broken)
            .map_err(CommandError::from)?;
        if let Some((commit, subject)) = made {
            say(&format!(
                "Wrote it here as {} (kept by refs/regraft/followups/{broken}).",
                commit.short()
            ));
            followups.insert(0, (commit, subject));
        }
    }
    Ok(())
}

/// Shows the playbook's plan in 80 columns, asks "Carry it out now?" (default no) and, at
/// the point of no return, again with `consequences`; then runs it with its journal and
/// prints the announcement and the next commands.
fn carry_out(repo: &Repo, ui: &Ui, path: &Path, consequences: &str) -> Step<ExitCode> {
    show_fitted(path, ui)?;
    if !confirm("Carry it out now?", false)? {
        say(&format!(
            "Nothing was changed. When ready: git regraft run {} --execute",
            path.display()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    say(&format!("Point of no return: {consequences}."));
    if !confirm("Point of no return: go?", false)? {
        say("Nothing was changed.");
        return Ok(ExitCode::SUCCESS);
    }
    super::interrupt_note(
        "\nInterrupted: `git regraft status` tells where it stopped; --continue or --abort finishes it.",
    );
    super::run::execute(ui, path)?;
    let finished = regraft::surgery::operation::last_finished(repo);
    if let Some(notice) = finished.as_ref().and_then(|p| p.notice.clone()) {
        say("\nThe announcement for developers (git regraft notice prints it again):\n");
        let _ = write!(ui.out(), "{}", super::notice::compose(&notice, None, false));
    }
    // Reviews abandoned by a step, with no step of the plan restoring them.
    let calls = |abandon: bool| {
        finished.as_ref().is_some_and(|p| {
            p.steps.iter().filter_map(|s| s.review.as_ref()).any(|r| {
                matches!(r.call, ReviewCall::Abandon { .. }) == abandon
                    && matches!(r.call, ReviewCall::Abandon { .. } | ReviewCall::Restore { .. })
            })
        })
    };
    let restore = if calls(true) && !calls(false) {
        "; `git regraft restore --from-journal` if reviews were abandoned and not restored"
    } else {
        ""
    };
    say(&format!(
        "\nNext: post the announcement (`git regraft notice`){restore}; `git regraft sync` in each clone, yours too."
    ));
    Ok(ExitCode::SUCCESS)
}

/// Prints the plan of the playbook at `path` as a dry run, fitted to 80 columns (commit ids
/// shortened, long lines wrapped); `git regraft run FILE` shows it whole.
fn show_fitted(path: &Path, ui: &Ui) -> Step<()> {
    let book = regraft::surgery::playbook::load(path, &std::collections::BTreeMap::new())
        .map_err(CommandError::from)?;
    let start = super::current_dir()?;
    let mut text = Vec::new();
    for repository in &book.repositories {
        let repo = Repo::discover(&start.join(repository)).map_err(CommandError::user)?;
        let plan = book.plan(&repo, repository).map_err(CommandError::from)?;
        let now = regraft::surgery::assess::assess(&repo, &plan).ok();
        super::surgery::render_now(&mut text, &plan, now.as_deref())?;
    }
    let mut out = ui.out();
    write!(out, "{}", fit(&String::from_utf8_lossy(&text), WIDTH))?;
    let footer = format!(
        "\n(A dry run: nothing changed. Ids are shortened to fit; `git regraft run {}` shows every command whole.)",
        path.display()
    );
    write!(out, "{}", wrap_to(&footer, WIDTH, false))?;
    Ok(())
}

/// Fits `text` to `width` columns: 40- and 64-digit object ids are shortened to 12 digits,
/// and longer lines wrapped at spaces, continuing four columns further in.
fn fit(text: &str, width: usize) -> String {
    wrap_to(text, width, true)
}

/// Wraps every line of `text` wider than `width` at spaces, continuing four columns further
/// in (a numbered line's continuation under its text); with `shorten`, object ids are
/// shortened first.
fn wrap_to(text: &str, width: usize, shorten: bool) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = if shorten { shorten_ids(line) } else { line.to_string() };
        if line.chars().count() <= width {
            out.push_str(&line);
            out.push('\n');
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        // ` 4. text`: the text's column; else four further in.
        let numbered = line
            .trim_start()
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        let under = numbered.map_or(indent + 4, |(n, _)| indent + n.len() + 2);
        let more = " ".repeat(under.min(width / 2));
        let mut current = " ".repeat(indent);
        let mut fresh = true;
        for word in line.split_whitespace() {
            let mut word: String = word.to_string();
            loop {
                let used = current.chars().count();
                let len = word.chars().count();
                if fresh || used + 1 + len <= width {
                    let room = width.saturating_sub(used + usize::from(!fresh));
                    if len <= room || room == 0 {
                        if !fresh {
                            current.push(' ');
                        }
                        current.push_str(&word);
                        fresh = false;
                        break;
                    }
                    // A word wider than a whole line is cut where the line ends.
                    if !fresh {
                        current.push(' ');
                    }
                    current.extend(word.chars().take(room));
                    word = word.chars().skip(room).collect();
                }
                out.push_str(&current);
                out.push('\n');
                current = more.clone();
                fresh = true;
            }
        }
        out.push_str(&current);
        out.push('\n');
    }
    out
}

/// Replaces every whole 40- or 64-digit hexadecimal word part (an object id) by its first
/// 12 digits.
fn shorten_ids(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if hex(bytes[i]) && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let end = (i..bytes.len()).find(|&j| !hex(bytes[j])).unwrap_or(bytes.len());
            let bounded = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
            if bounded && (end - i == 40 || end - i == 64) {
                out.push_str(&line[i..i + 12]);
                i = end;
                continue;
            }
            out.push_str(&line[i..end]);
            i = end;
            continue;
        }
        let c = line[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Tells whether the playbook at `path`, written at `written`, is the operation that last
/// finished here (carried out since it was written).
fn carried_out(repo: &Repo, path: &Path, written: std::time::SystemTime) -> bool {
    let Some((plan, when)) = regraft::surgery::operation::last_finished_when(repo) else {
        return false;
    };
    let name = regraft::surgery::playbook::load(path, &std::collections::BTreeMap::new())
        .map(|b| b.name)
        .unwrap_or_default();
    when >= written && plan.operation.starts_with(&format!("playbook {name} in "))
}

/// Offers a playbook an earlier guide wrote in this directory (stopped before it was
/// carried out): show its plan again and carry it out, or start over. `None` to start over.
fn earlier_playbook(repo: &Repo, ui: &Ui) -> Step<Option<ExitCode>> {
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(super::current_dir()?)
        .map(|d| d.flatten().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("regraft-") && n.ends_with(".toml"))
        })
        .filter(|p| {
            std::fs::read_to_string(p)
                .is_ok_and(|t| t.starts_with("# Written by `git regraft guide`"))
        })
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .filter(|(written, p)| !carried_out(repo, p, *written))
        .collect();
    if found.is_empty() {
        return Ok(None);
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.truncate(3);
    let mut choices: Vec<String> =
        found.iter().map(|(_, p)| format!("Go on with {}", p.display())).collect();
    choices.push("Start over".to_string());
    say(
        "A playbook an earlier guide wrote is here, not carried out yet: going on with it\nshows its plan again, and carries it out only if you say so.",
    );
    let chosen = select("Go on with it?", &choices, 0)?;
    let Some((_, path)) = found.get(chosen) else { return Ok(None) };
    let description = std::fs::read_to_string(path)?
        .lines()
        .find_map(|l| l.strip_prefix("description = "))
        .and_then(|d| toml::from_str::<toml::Value>(&format!("d = {d}")).ok())
        .and_then(|v| v.get("d").and_then(|d| d.as_str()).map(str::to_string))
        .unwrap_or_else(|| "its steps change the remote".to_string());
    carry_out(repo, ui, path, &description).map(Some)
}

/// When `.gitreview` on the branch names a Gerrit: says so with the open reviews counted,
/// and asks `question` (default yes) whether the playbook abandons them. When that Gerrit
/// does not answer (`.gitreview` on an old branch may name a host that has since moved), asks
/// which Gerrit to use instead.
fn ask_reviews(
    repo: &Repo,
    remote: &str,
    branch: &str,
    question: &str,
) -> Step<Option<ReviewChoice>> {
    let Some(t) = ReviewTarget::from_gitreview(repo, remote, branch) else { return Ok(None) };
    let mut gerrit = t.gerrit.clone();
    let mut counted = open_reviews(&gerrit, &t.project, branch);
    say(&format!(
        "{} names {} (project {}).",
        t.found_in.clone().unwrap_or_default(),
        t.gerrit,
        t.project,
    ));
    while let Err(why) = &counted {
        say(&format!("{gerrit} did not answer ({why})."));
        say(&format!(
            "Give the Gerrit that holds them now (Enter keeps {gerrit}; `none` plans no review steps)."
        ));
        let answer = input_quiet("Which Gerrit holds the reviews?", &gerrit.to_string())?;
        let answer = answer.trim();
        if answer == "none" {
            return Ok(None);
        }
        if answer == gerrit.to_string() {
            break;
        }
        match regraft::review::GerritUrl::parse(answer) {
            Ok(url) => {
                gerrit = url;
                counted = open_reviews(&gerrit, &t.project, branch);
            }
            Err(e) => say(&format!("`{answer}`: {e}")),
        }
    }
    if let Ok(n) = counted {
        say(&format!("{n} open reviews on {branch}."));
    }
    Ok(confirm(question, true)?
        .then(|| ReviewChoice { gerrit: gerrit.to_string(), project: t.project.clone() }))
}

/// Counts the branch's open reviews with one short anonymous try.
fn open_reviews(
    gerrit: &regraft::review::GerritUrl,
    project: &str,
    branch: &str,
) -> Result<usize, String> {
    let host = regraft::review::Gerrit::brief(gerrit, None);
    regraft::review::ReviewHost::open_reviews(&host, project, branch)
        .map(|open| open.len())
        .map_err(|e| e.to_string())
}

/// The comparison in 80 columns: the figures that decide, and the recommendation wrapped
/// (`compare`'s full table goes into the playbook's comments).
fn screen_table(c: &regraft::analysis::compare::Comparison) -> String {
    let mut out = format!(
        "{:<10} {:>7} {:>7} {:>6} {:>9} {:>4} {:>12} {:>7}\n",
        "option", "reviews", "commits", "files", "conflicts", "ff", "force-update", "history"
    );
    for f in &c.options {
        out.push_str(&format!(
            "{:<10} {:>7} {:>7} {:>6} {:>9} {:>4} {:>12} {:>7}\n",
            f.strategy,
            f.reviews,
            f.commits,
            f.files_changed,
            f.predicted_conflicts,
            yes_no(f.fast_forward),
            yes_no(f.force_update_needed),
            f.history_kept.name()
        ));
    }
    out.push_str(&format!("\nrecommendation: {}\n", super::ui::wrap(&c.recommendation, 64, 16)));
    out.push_str("(`git regraft compare` shows every figure and each option's verdict.)");
    out
}

/// The staged backport: stage size and branch asked, built locally only if asked (nothing
/// is pushed), then the command that pushes it for review.
fn staged_backport(
    repo: &Repo,
    broken: &str,
    target: &str,
    source: &str,
    fix: Option<regraft::ObjectId>,
    ui: &Ui,
) -> Step<ExitCode> {
    let size = input("Picks per stage (each stage is reviewed and tested on its own)", "25")?;
    let stage_size: usize = size.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        Stop::Failed(CommandError::user(anyhow::anyhow!("`{size}` is not a number of picks")))
    })?;
    let branch = input("Build it on the new local branch", &format!("backport/{broken}"))?;
    regraft::git::names::check_branch(&branch).map_err(CommandError::user)?;
    let for_fix = fix.map(|f| format!(" --for {}", f.short())).unwrap_or_default();
    let build = format!(
        "git regraft backport {target} {source}{for_fix} --stage-size {stage_size} --branch {}",
        regraft::git::quote(&branch)
    );
    let push = format!(
        "git regraft replace {broken} --from {} --strategy backport",
        regraft::git::quote(&branch)
    );
    if !confirm("Build the branch now (local only: nothing is pushed)?", false)? {
        say("Nothing was changed. To build it:");
        say_command(&build);
        say("Then push it for review:");
        say_command(&push);
        return Ok(ExitCode::SUCCESS);
    }
    let selection = match fix {
        Some(f) => regraft::analysis::backport::Selection::Closure(vec![f.to_hex()]),
        None => regraft::analysis::backport::Selection::Delta,
    };
    let options = regraft::analysis::backport::BackportOptions {
        selection,
        include_present: false,
        stage_size,
        deps: regraft::analysis::deps::DepsOptions::default(),
        with_stat: false,
        policy: None,
    };
    let report = regraft::surgery::apply::start(
        repo,
        target,
        Some(source),
        &options,
        &branch,
        false,
        &super::progress::Bar::new(),
    )
    .map_err(super::backport::apply_error)?;
    let code = super::backport::report_run(ui, &report, false)?;
    say("Then push it for review:");
    say_command(&push);
    Ok(code)
}

/// The release team's end of life or of maintenance: the tag (and for maintenance, the
/// `unmaintained/` branch), the open reviews, a playbook, its plan, and only if asked twice,
/// the run.
fn end(repo: &Repo, remote: &str, branch: &str, ending: Ending, ui: &Ui) -> Step<ExitCode> {
    let series = regraft::surgery::replace::series(branch).unwrap_or("branch");
    let (suffix, kind) = match ending {
        Ending::Life => ("eol", "eol"),
        Ending::Maintenance { .. } => ("eom", "eom"),
    };
    let tag = input("Tag that keeps its last commit", &format!("{series}-{suffix}"))?;
    regraft::git::names::check_tag(&tag).map_err(CommandError::user)?;
    let ending = match ending {
        Ending::Maintenance { unmaintained } => {
            let to = input("The branch it lives on as unmaintained", &unmaintained)?;
            regraft::git::names::check_branch(&to).map_err(CommandError::user)?;
            Ending::Maintenance { unmaintained: to }
        }
        Ending::Life => Ending::Life,
    };
    let reviews = ask_reviews(repo, remote, branch, "Abandon them before the branch is deleted?")?;
    let consequences = match &ending {
        Ending::Life => {
            format!("{branch} is deleted on {remote}, its last commit kept by tag {tag}")
        }
        Ending::Maintenance { unmaintained } => format!(
            "{branch} is deleted on {remote} and lives on as {unmaintained}, its last commit tagged {tag}"
        ),
    };
    let reviews_note =
        if reviews.is_some() { "; its open reviews are abandoned first" } else { "" };
    let decision = guide::EndDecision {
        branch: branch.to_string(),
        remote: remote.to_string(),
        tag,
        ending,
        reviews,
        date: today(),
    };
    let default_path =
        format!("regraft-{kind}-{}-{}.toml", branch.replace('/', "-"), decision.date);
    let path = PathBuf::from(input("Write the playbook to", &default_path)?);
    std::fs::write(&path, guide::end_playbook(&decision))?;
    say(&format!("\nWrote {}: review it, post it.\n", path.display()));
    carry_out(repo, ui, &path, &format!("{consequences}{reviews_note}"))
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The first clause of a verdict (up to a `,` or `;` outside parentheses), to fit one line
/// of 80 columns.
fn short_verdict(verdict: &str) -> String {
    let mut depth = 0i32;
    let end = verdict
        .char_indices()
        .find(|(_, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth == 0 && (*c == ',' || *c == ';')
        })
        .map_or(verdict.len(), |(i, _)| i);
    let first = verdict[..end].trim();
    let mut out: String = first.chars().take(60).collect();
    if first.chars().count() > 60 {
        out.push('…');
    }
    out
}

// ---- the developer -------------------------------------------------------------------

fn developer(repo: &Repo, args: &Args, ui: &Ui) -> Step<ExitCode> {
    let options = SyncOptions {
        branches: Vec::new(),
        all: true,
        remote: args.remote.clone(),
        fetch: true,
        dry_run: true,
        old_tip: None,
    };
    say("Fetching and looking at what a sync would do...");
    let plan = sync::sync(repo, &options).map_err(CommandError::from)?;
    super::sync::render(&mut ui.out(), &plan)?;
    if plan.branches.iter().all(|b| b.outcome == SyncOutcome::UpToDate) || plan.branches.is_empty()
    {
        say("Nothing to do.");
        return Ok(ExitCode::SUCCESS);
    }
    say("Each branch synced keeps a backup; `git regraft sync --undo` puts them back.");
    if !confirm("Sync these branches now?", true)? {
        say("Nothing was changed.");
        return Ok(ExitCode::SUCCESS);
    }
    let done = sync::sync(repo, &SyncOptions { dry_run: false, fetch: false, ..options })
        .map_err(CommandError::from)?;
    super::sync::render(&mut ui.out(), &done)?;
    say("Undo with: git regraft sync --undo");
    Ok(if done.all_synced() { ExitCode::SUCCESS } else { ExitCode::from(super::FINDINGS) })
}

// ---- the project lead ----------------------------------------------------------------

fn lead(repo: &Repo, args: &Args, _ui: &Ui) -> Step<ExitCode> {
    let remote = args.remote.as_str();
    let all = remote_branches(repo, remote);
    let candidates = stable_like(&all);
    if candidates.is_empty() {
        return Err(Stop::Failed(CommandError::user(anyhow::anyhow!("{remote} has no branches"))));
    }
    let target = candidates[select(
        "Which branch is the one to replace?",
        &candidates,
        default_branch(repo, args, &candidates),
    )?]
    .clone();
    let others: Vec<String> = all.iter().filter(|b| **b != target).cloned().collect();
    let nearest = guide::nearest_newer(&target, &others)
        .and_then(|n| others.iter().position(|s| *s == n))
        .unwrap_or(0);
    let source = others[select("By which branch?", &others, nearest)?].clone();
    let (t, s) = (format!("{remote}/{target}"), format!("{remote}/{source}"));
    say(&format!("Measuring the five options for {t} from {s}..."));
    let comparison =
        compare::compare(repo, &t, &s, &CompareOptions::default(), &super::progress::Bar::new())
            .map_err(CommandError::from)?;
    let default_path =
        format!("compare-{}-{}.md", target.replace('/', "-"), source.replace('/', "-"));
    let path = PathBuf::from(input("Write the Markdown to", &default_path)?);
    let mut text = Vec::new();
    super::compare::markdown(&mut text, &comparison)?;
    std::fs::write(&path, text)?;
    say(&format!("Wrote {}: ready for the mailing list.", path.display()));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::{fit, shorten_ids};

    #[test]
    fn ids_are_shortened_only_where_they_are_whole() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(shorten_ids(&format!("push {id}:refs/x")), "push 0123456789ab:refs/x");
        assert_eq!(shorten_ids(&format!("lease=ref:{id}")), "lease=ref:0123456789ab");
        // 39 or 41 digits, or digits glued to letters, are not an id.
        let near = &id[..39];
        assert_eq!(shorten_ids(near), near);
        assert_eq!(shorten_ids(&format!("{id}0")), format!("{id}0"));
        assert_eq!(shorten_ids(&format!("x{id}")), format!("x{id}"));
        assert_eq!(shorten_ids("café ünïcode"), "café ünïcode");
    }

    #[test]
    fn long_lines_wrap_within_the_width_and_keep_every_word() {
        let long = format!(
            "    $ git push --porcelain {} origin {}",
            "--force-with-lease=refs/heads/stable/liberty:0123456789ab ".repeat(3),
            "x".repeat(130)
        );
        let fitted = fit(&format!("short line\n{long}\n"), 80);
        for line in fitted.lines() {
            assert!(line.chars().count() <= 80, "{line:?}");
        }
        let lines: Vec<&str> = fitted.lines().collect();
        assert_eq!(lines[0], "short line");
        assert!(lines[1].starts_with("    $ git push"), "{fitted}");
        assert!(lines[2..].iter().all(|l| l.starts_with("        ")), "{fitted}");
        // The words come back in order; the 130-column word is cut, not lost.
        let words: String = long.split_whitespace().collect();
        let back: String = lines[1..].iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(back, words);
    }
}
