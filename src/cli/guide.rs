//! `git regraft guide`: the guided tool. By questions on a terminal it walks the release
//! team from a broken branch to a reviewed playbook (and, if asked, a done replacement), a
//! developer through `sync`, and a project lead to a Markdown comparison.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use dialoguer::theme::SimpleTheme;
use dialoguer::{Confirm, Input, MultiSelect, Select};
use regraft::analysis::compare::{self, CompareOptions};
use regraft::analysis::delta::{self, DeltaOptions};
use regraft::git::repo::{LocalBranch, Repo};
use regraft::surgery::guide::{self, ReplaceDecision, ReviewChoice, ServerRules};
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
    let rewritten = upstream_rewritten(repo, &args.remote);
    let paths = [
        "Release team: replace a broken stable branch (or end it)",
        "Developer: the branch I track was replaced; bring my work across",
        "Project lead: compare the options for a mailing-list post",
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
                if !confirm(
                    "Undo it: the branch goes back to its old tip where this operation moved it?",
                    false,
                )? {
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

fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
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

fn select<T: ToString>(prompt: &str, items: &[T], default: usize) -> Step<usize> {
    let items: Vec<String> = items.iter().map(ToString::to_string).collect();
    Select::with_theme(&SimpleTheme)
        .with_prompt(format!("{prompt} (Enter: the marked one; Esc: stop)"))
        .items(&items)
        .default(default)
        .interact_opt()
        .map_err(|e| asked(e, prompt))?
        .ok_or_else(|| Stop::Cancelled(prompt.to_string()))
}

fn confirm(prompt: &str, default: bool) -> Step<bool> {
    Confirm::with_theme(&SimpleTheme)
        .with_prompt(prompt)
        .default(default)
        .interact_opt()
        .map_err(|e| asked(e, prompt))?
        .ok_or_else(|| Stop::Cancelled(prompt.to_string()))
}

fn input(prompt: &str, default: &str) -> Step<String> {
    Input::<String>::with_theme(&SimpleTheme)
        .with_prompt(prompt)
        .default(default.to_string())
        .interact_text()
        .map_err(|e| asked(e, prompt))
}

fn multi(prompt: &str, items: &[String]) -> Step<Vec<usize>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    MultiSelect::with_theme(&SimpleTheme)
        .with_prompt(format!("{prompt} (Space: pick; Enter: done; Esc: stop)"))
        .items(items)
        .interact_opt()
        .map_err(|e| asked(e, prompt))?
        .ok_or_else(|| Stop::Cancelled(prompt.to_string()))
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
    let needed = select(
        "What does it need?",
        &[
            "The whole newer branch (its tree)",
            "One fix commit, and what it needs",
            "Nothing more: end its life (tag <series>-eol, delete the branch)",
        ],
        0,
    )?;
    if needed == 2 {
        return end_of_life(repo, remote, &broken, ui);
    }
    let fix = if needed == 1 {
        let text = input("The fix commit (an id or any revision)", "")?;
        Some(repo.resolve_commit(&text).map_err(CommandError::user)?)
    } else {
        None
    };
    let sources: Vec<String> = all
        .iter()
        .filter(|b| **b != broken)
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
    let nearest = guide::nearest_newer(&broken, &sources)
        .and_then(|n| sources.iter().position(|s| *s == n))
        .unwrap_or(0);
    let source_branch = sources[select("Which branch holds it?", &sources, nearest)?].clone();
    let target = format!("{remote}/{broken}");
    let source_name = format!("{remote}/{source_branch}");
    let source = repo.resolve_commit(&source_name).map_err(CommandError::user)?;

    if let Some(fix) = fix {
        let graph = regraft::analysis::deps::analyze(
            repo,
            &target,
            &source_name,
            &regraft::analysis::deps::DepsOptions::default(),
            &regraft::progress::Silent,
        )
        .map_err(|e| CommandError::user(anyhow::Error::new(e)))?;
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
    }

    say(&format!("\nMeasuring the five options for {target} from {source_name}..."));
    let comparison = compare::compare(
        repo,
        &target,
        &source_name,
        &CompareOptions::default(),
        &super::progress::Bar::new(),
    )
    .map_err(|e| CommandError::user(anyhow::Error::new(e)))?;
    let mut table = Vec::new();
    super::compare::table(&mut table, &comparison)?;
    let table = String::from_utf8_lossy(&table).into_owned();
    say(&screen_table(&comparison));

    let rules = ServerRules {
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
    };
    let strategies = [
        Strategy::Merge,
        Strategy::Megapatch,
        Strategy::Recreate,
        Strategy::Reset,
        Strategy::Backport,
    ];
    let allowed: Vec<Strategy> = strategies.into_iter().filter(|s| rules.allow(*s)).collect();
    let best = guide::recommended(&comparison, &rules);
    let names: Vec<String> = allowed
        .iter()
        .map(|s| {
            let f = comparison.options.iter().find(|f| f.strategy == s.name());
            let mark = if *s == best { "  (recommended)" } else { "" };
            format!(
                "{}: {}{mark}",
                s.name(),
                f.map_or(String::new(), |f| short_verdict(&f.verdict))
            )
        })
        .collect();
    let strategy = allowed
        [select("Which option?", &names, allowed.iter().position(|s| *s == best).unwrap_or(0))?];
    if strategy == Strategy::Backport {
        return staged_backport(repo, &broken, &target, &source_name, fix, ui);
    }

    // What a tree-replacing option drops: the target's own changes the source lacks.
    let own = delta::delta(repo, &source_name, &target, &DeltaOptions::default())
        .map_err(|e| CommandError::user(anyhow::Error::new(e)))?;
    let dropped: Vec<(regraft::ObjectId, String)> = own
        .source_only
        .iter()
        .filter(|e| !e.merge && !e.is_present())
        .map(|e| (e.commit, e.summary.clone()))
        .collect();
    let mut followups = Vec::new();
    if !dropped.is_empty() {
        say(&format!(
            "\n{broken} has {} changes of its own that {source_branch} does not have; {} would drop them:",
            dropped.len(),
            strategy.name()
        ));
        let items: Vec<String> =
            dropped.iter().map(|(c, s)| format!("{} {}", c.short(), s)).collect();
        for i in multi("Carry which of them on top as follow-ups?", &items)? {
            followups.push(dropped[i].clone());
        }
    }
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
    let mut figures: Vec<String> = table.lines().map(str::to_string).collect();
    figures.push(String::new());
    figures.push(format!("Recommendation: {}", comparison.recommendation));
    figures.push(format!(
        "Server: forced pushes {}, merge commits {}, {}, delete/create {}",
        yes_no(rules.force_push),
        yes_no(rules.merge_commits),
        if rules.direct_push { "direct pushes" } else { "reviews only" },
        yes_no(rules.admin)
    ));
    figures.push(format!(
        "{} changes of {broken}'s own; {} carried as follow-ups",
        dropped.len(),
        followups.len()
    ));
    let decision = ReplaceDecision {
        branch: broken.clone(),
        remote: remote.to_string(),
        source_name: source_name.clone(),
        source,
        strategy,
        tag: tag.clone(),
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
    super::run::show(ui, &path)?;

    if !confirm("Carry it out now?", false)? {
        say(&format!(
            "Nothing was changed. When ready: git regraft run {} --execute",
            path.display()
        ));
        return Ok(ExitCode::SUCCESS);
    }
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
    if !confirm(&format!("Point of no return: {consequences}{reviews_note}. Go?"), false)? {
        say("Nothing was changed.");
        return Ok(ExitCode::SUCCESS);
    }
    super::interrupt_note(
        "\nInterrupted: `git regraft status` tells where it stopped; --continue or --abort finishes it.",
    );
    super::run::execute(ui, &path)?;
    if let Some(notice) = regraft::surgery::operation::last_finished(repo).and_then(|p| p.notice) {
        say("\nThe announcement for developers (git regraft notice prints it again):\n");
        let _ = write!(ui.out(), "{}", super::notice::compose(&notice, None, false));
    }
    say(
        "\nNext: post the notice; `git regraft restore --from-journal` if reviews were abandoned and not restored; `git regraft sync` in your own clone.",
    );
    Ok(ExitCode::SUCCESS)
}

/// When `.gitreview` on the branch names a Gerrit: says so with the open reviews counted,
/// and asks `question` (default yes) whether the playbook abandons them.
fn ask_reviews(
    repo: &Repo,
    remote: &str,
    branch: &str,
    question: &str,
) -> Step<Option<ReviewChoice>> {
    let Some(t) = ReviewTarget::from_gitreview(repo, remote, branch) else { return Ok(None) };
    say(&format!(
        "{} names {} (project {}): {}.",
        t.found_in.clone().unwrap_or_default(),
        t.gerrit,
        t.project,
        open_reviews(&t, branch)
    ));
    Ok(confirm(question, true)?
        .then(|| ReviewChoice { gerrit: t.gerrit.to_string(), project: t.project.clone() }))
}

/// Counts the branch's open reviews with one short anonymous try, in words.
fn open_reviews(target: &ReviewTarget, branch: &str) -> String {
    let gerrit = regraft::review::Gerrit::brief(&target.gerrit, None);
    match regraft::review::ReviewHost::open_reviews(&gerrit, &target.project, branch) {
        Ok(open) => format!("{} open reviews on {branch}", open.len()),
        Err(_) => "its open reviews could not be counted anonymously".to_string(),
    }
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
        say(&format!("Nothing was changed. To build it: {build}\nThen push it for review: {push}"));
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
    say(&format!("Then push it for review: {push}"));
    Ok(code)
}

/// The release team's end of life: the tag, the open reviews, a playbook, its plan, and
/// only if asked twice, the run.
fn end_of_life(repo: &Repo, remote: &str, branch: &str, ui: &Ui) -> Step<ExitCode> {
    let series = regraft::surgery::replace::series(branch).unwrap_or("branch");
    let tag = input("Tag that keeps its last commit", &format!("{series}-eol"))?;
    regraft::git::names::check_tag(&tag).map_err(CommandError::user)?;
    let reviews = ask_reviews(repo, remote, branch, "Abandon them before the branch is deleted?")?;
    let decision = guide::EolDecision {
        branch: branch.to_string(),
        remote: remote.to_string(),
        tag,
        reviews,
        date: today(),
    };
    let default_path = format!("regraft-eol-{}-{}.toml", branch.replace('/', "-"), decision.date);
    let path = PathBuf::from(input("Write the playbook to", &default_path)?);
    std::fs::write(&path, guide::eol_playbook(&decision))?;
    say(&format!("\nWrote {}: review it, post it.\n", path.display()));
    super::run::show(ui, &path)?;
    if !confirm("Carry it out now?", false)? {
        say(&format!(
            "Nothing was changed. When ready: git regraft run {} --execute",
            path.display()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    if !confirm(
        &format!(
            "Point of no return: {branch} is deleted on {remote}, its last commit kept by tag {}. Go?",
            decision.tag
        ),
        false,
    )? {
        say("Nothing was changed.");
        return Ok(ExitCode::SUCCESS);
    }
    super::interrupt_note(
        "\nInterrupted: `git regraft status` tells where it stopped; --continue or --abort finishes it.",
    );
    super::run::execute(ui, &path)?;
    say("\nNext: post the announcement (`git regraft notice`).");
    Ok(ExitCode::SUCCESS)
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
    if !confirm(
        "Sync these branches now (each keeps a backup; `git regraft sync --undo` puts them back)?",
        true,
    )? {
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
            .map_err(|e| CommandError::user(anyhow::Error::new(e)))?;
    let default_path =
        format!("compare-{}-{}.md", target.replace('/', "-"), source.replace('/', "-"));
    let path = PathBuf::from(input("Write the Markdown to", &default_path)?);
    let mut text = Vec::new();
    super::compare::markdown(&mut text, &comparison)?;
    std::fs::write(&path, text)?;
    say(&format!("Wrote {}: ready for the mailing list.", path.display()));
    Ok(ExitCode::SUCCESS)
}
