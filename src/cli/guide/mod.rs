//! `git regraft guide`: the guided tool. By questions on a terminal it walks the release
//! team from a broken branch to a reviewed playbook (and, if asked, a done replacement), a
//! developer through `sync`, and a project lead to a Markdown comparison.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use regraft::analysis::compare::{self, CompareOptions};
use regraft::git::remote::FetchProgress;
use regraft::git::repo::{LocalBranch, Repo, RepoError};
use regraft::surgery::guide;
use regraft::surgery::operation::ReviewCall;
use regraft::surgery::sync::{self, SyncOptions, SyncOutcome};

use super::timeout::TimeoutArgs;
use super::{CommandError, Ui};

mod account;
mod release;
mod screen;

use screen::{confirm, fit, input, say, select, width, wrap_to};

const EXAMPLES: &str = "\
Examples:
  git regraft guide
  git regraft guide stable/liberty
  git regraft guide stable/victoria --remote upstream";

/// Be walked through it by questions: replace a broken branch, sync after one, compare
///
/// For the release team: which branch, what it needs (the newer branch, a fix found by id
/// or words, or an end of life or of maintenance) and from where, the five options
/// measured, what the server allows, what a tree-replacing option would drop (offered as
/// follow-ups, with a `.gitreview` one), the tag and the open reviews (the account on their
/// Gerrit checked, and how to give one said, before anything is written); the decision is
/// written as a playbook with the figures in its comments, its plan shown in the terminal's width,
/// and carried out only if you say so twice. A fix gets its own figures (`deps --for`) and
/// a staged backport of what it needs, which makes no tag. A playbook an earlier guide
/// wrote here and did not carry out is offered first. For a developer: what `sync` would
/// do to each branch, then do it. For a project lead: the comparison as Markdown for a
/// mailing list. Every question shows its default and takes its answer on Enter (`y` or
/// `n` then Enter); Esc or Ctrl-C at any question stops with nothing changed. Needs a
/// terminal.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// The branch the guide starts from [default: the current branch's upstream]
    branch: Option<String>,
    /// The remote [default: the only one, else asked with `origin` preselected]
    #[arg(long)]
    remote: Option<String>,
    #[command(flatten)]
    timeout: super::timeout::TimeoutArgs,
}

/// Where the guide starts: the branch given, and the remote given or chosen.
pub(super) struct Start {
    branch: Option<String>,
    remote: String,
    /// Bounds every request to a review host the guide's commands make.
    timeout: TimeoutArgs,
}

/// Returns the remote: the one given, the only one configured, else the one chosen
/// (`origin` preselected).
fn which_remote(repo: &Repo, given: Option<&str>) -> Step<String> {
    if let Some(remote) = given {
        return Ok(remote.to_string());
    }
    let mut remotes = repo.remote_names().map_err(CommandError::from)?;
    remotes.sort();
    match remotes.len() {
        0 => Err(Stop::Failed(CommandError::user(anyhow::anyhow!(
            "this repository has no remote: the guide works on a remote's branches"
        )))),
        1 => Ok(remotes.remove(0)),
        _ => {
            let origin = remotes.iter().position(|r| r == "origin").unwrap_or(0);
            Ok(remotes[select("Which remote?", &remotes, origin)?].clone())
        }
    }
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
        if let Some(exit) = in_progress(repo, status, ui, &args.timeout)? {
            return Ok(exit);
        }
    }
    say(
        "Enter takes the marked answer, or the one in [brackets]; Esc or Ctrl-C stops.\nNothing changes on the remote until you say so at the end.",
    );
    if let Some(exit) = earlier_playbook(repo, ui, &args.timeout)? {
        return Ok(exit);
    }
    let args = &Start {
        branch: args.branch.clone(),
        remote: which_remote(repo, args.remote.as_deref())?,
        timeout: args.timeout.clone(),
    };
    let rewritten = upstream_rewritten(repo, &args.remote).map_err(CommandError::from)?;
    let paths = [
        "Release team: replace a broken stable branch, or end one",
        "Developer: the branch I track was replaced; bring my work",
        "Project lead: compare the options for a mailing list",
    ];
    let preselect = usize::from(rewritten);
    match select("What do you want to do?", &paths, preselect)? {
        0 => release::release(repo, args, ui),
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
    timeout: &TimeoutArgs,
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
        .or_else(|| {
            status.playbook_run.as_ref().filter(|_| status.unreadable_journal.is_none()).map(|r| {
                let done = r
                    .repositories
                    .iter()
                    .filter(|p| p.state == regraft::surgery::status::RunPartState::Done)
                    .count();
                format!(
                    "the playbook run {} ({done} of {} repositories done)",
                    r.playbook,
                    r.repositories.len()
                )
            })
        })
        .unwrap_or_else(|| "an operation whose journal cannot be read".to_string());
    say(&format!("In progress here: {what}. `git regraft status` tells it all."));
    if let Some((op, problem)) =
        status.operation.as_ref().and_then(|op| Some((op, op.remote_unreachable.as_ref()?)))
    {
        // Finishing or undoing needs the remote: say which, and how to bring it back.
        say(&format!(
            "It needs the remote {0}, which cannot be reached: {problem}. Bring it back (`git remote add {0} URL` or `git remote set-url {0} URL`), then finish or undo it.",
            op.remote
        ));
    }
    // A replace, eol or playbook plan can be finished or undone from here.
    if status.operation.is_some() && status.unreadable_journal.is_none() {
        // After a refusal, finishing would be refused the same way: undoing is preselected
        // (`status` then names --abort first and --continue second).
        let refused = status.operation.as_ref().is_some_and(|op| op.refused);
        let (finish, undo) = match &status.or {
            Some(or) if refused => (or.clone(), next.clone()),
            or => (next.clone(), or.clone().unwrap_or_default()),
        };
        let choices = [
            format!("Finish it ({finish})"),
            format!("Undo what it did ({undo})"),
            "Leave it and go on with the guide".to_string(),
        ];
        return match select("What now?", &choices, usize::from(refused))? {
            0 => Ok(Some(super::surgery::resume_or_abort(
                ui,
                repo,
                &timeout.connector(ui),
                super::surgery::Finish::Continue,
            )?)),
            1 => {
                say("Undoing puts the branch back at its old tip where this operation moved it.");
                if !confirm("Undo it?", false)? {
                    return Ok(Some(ExitCode::SUCCESS));
                }
                Ok(Some(super::surgery::resume_or_abort(
                    ui,
                    repo,
                    &timeout.connector(ui),
                    super::surgery::Finish::Abort,
                )?))
            }
            _ => Ok(None),
        };
    }
    if let Some(backport) =
        status.backport.as_ref().filter(|_| status.unreadable_backport.is_none())
    {
        return backport_in_progress(repo, backport, ui, timeout);
    }
    say(&format!("Next: {next}"));
    if !confirm("Go on with the guide anyway (it changes nothing without asking)?", false)? {
        return Ok(Some(ExitCode::SUCCESS));
    }
    Ok(None)
}

/// A staged backport stopped at a conflict (or interrupted): continue it once the conflict
/// is resolved, skip the pick, abort it, or leave it.
fn backport_in_progress(
    repo: &Repo,
    backport: &regraft::surgery::status::BackportStatus,
    ui: &Ui,
    timeout: &TimeoutArgs,
) -> Step<Option<ExitCode>> {
    use regraft::surgery::apply::{self, Resume};
    let branch = backport.branch.strip_prefix("refs/heads/").unwrap_or(&backport.branch);
    let place =
        backport.worktree.as_ref().map_or(String::new(), |w| format!(" in {}", w.display()));
    match backport.conflicted {
        Some(pick) => say(&format!(
            "The backport onto {} (branch {}) stopped at a conflict picking {}{place}: resolve it there and `git add` the files, then continue.",
            backport.target,
            branch,
            pick.short()
        )),
        None => say(&format!(
            "The backport onto {} (branch {}) was interrupted{place}.",
            backport.target, branch
        )),
    }
    let choices = [
        "Continue it (git regraft backport --continue)".to_string(),
        "Skip the pick that stopped it (--skip)".to_string(),
        format!("Abort it: delete {branch} and put HEAD back (--abort)"),
        "Leave it and go on with the guide".to_string(),
    ];
    let action = match select("What now?", &choices, 0)? {
        0 => Resume::Continue,
        1 => Resume::Skip,
        2 => {
            if !confirm(&format!("Abort it and delete {branch}?"), false)? {
                return Ok(Some(ExitCode::SUCCESS));
            }
            Resume::Abort
        }
        _ => return Ok(None),
    };
    let report = apply::resume(repo, action, &crate::cli::progress::Bar::new())
        .map_err(crate::cli::backport::apply_error)?;
    // A backport started with --for-review sends its stages once the last is applied, as
    // `backport --continue` does.
    Ok(Some(crate::cli::backport::after_resume(ui, repo, &timeout.connector(ui), action, &report)?))
}

// ---- facts about the repository ------------------------------------------------------

/// The remote's branches as last fetched (`refs/remotes/<remote>/...`), short names.
fn remote_branches(repo: &Repo, remote: &str) -> Vec<String> {
    let prefix = format!("refs/remotes/{remote}/");
    // The guide offers what it can list; an unreadable listing offers nothing.
    let out = repo.git().for_each_ref("%(refname)", &prefix).unwrap_or_default();
    out.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter(|b| *b != "HEAD")
        .map(str::to_string)
        .collect()
}

/// Tells whether the current branch's upstream no longer contains the branch's base (a
/// replaced upstream), to preselect the developer's path.
fn upstream_rewritten(repo: &Repo, remote: &str) -> Result<bool, RepoError> {
    let Some(current) = repo.head_branch()? else { return Ok(false) };
    let Some(LocalBranch { tip, upstream: Some(upstream), .. }) =
        repo.local_branches()?.into_iter().find(|b| b.name == current)
    else {
        return Ok(false);
    };
    let Some(now) = repo.reference_target(&upstream)? else { return Ok(false) };
    if !upstream.starts_with(&format!("refs/remotes/{remote}/"))
        || tip == now
        || repo.is_ancestor(now, tip)?
        || repo.is_ancestor(tip, now)?
    {
        return Ok(false);
    }
    for old in repo.reflog(&upstream)? {
        // A pruned old value is no base the branch can have.
        if repo.has_object(old)? && repo.is_ancestor(old, tip)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn default_branch(repo: &Repo, args: &Start, branches: &[String]) -> Result<usize, RepoError> {
    let wanted = match args.branch.clone() {
        Some(branch) => Some(branch),
        None => match repo.head_branch()? {
            None => None,
            Some(current) => repo
                .local_branches()?
                .into_iter()
                .find(|b| b.name == current)
                .and_then(|b| b.upstream)
                .and_then(|u| {
                    u.strip_prefix(&format!("refs/remotes/{}/", args.remote)).map(str::to_string)
                }),
        },
    };
    Ok(wanted.and_then(|w| branches.iter().position(|b| *b == w)).unwrap_or(0))
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
    regraft::git::remote::fetch_tags(repo.git(), remote, FetchProgress::Shown)
        .map_err(|e| Stop::Failed(CommandError::internal(e)))?;
    Ok(())
}

/// Asks where to write `contents` (default `default`) and writes it there; a file that is
/// there already is replaced only if the user says so (default no), else the path is asked
/// again. Returns the path.
fn write_file(prompt: &str, default: &str, contents: &[u8]) -> Step<PathBuf> {
    loop {
        let path = PathBuf::from(input(prompt, default)?);
        if path.exists() && !confirm(&format!("{} exists. Replace it?", path.display()), false)? {
            continue;
        }
        std::fs::write(&path, contents)?;
        return Ok(path);
    }
}

/// Shows the playbook's plan in the terminal's width, asks "Carry it out now?" (default no) and, at
/// the point of no return, again with `consequences`; then runs it with its journal and
/// prints the announcement and the next commands.
///
/// Before either question, the account on every review server the plan talks to is checked
/// (an authenticated call): missing or refused credentials are said with how to give them,
/// and nothing is asked or carried out. `checked` are the servers whose accounts the guide
/// checked already, with the credentials their URLs were typed with: the run uses those.
fn carry_out(
    repo: &Repo,
    ui: &Ui,
    timeout: &TimeoutArgs,
    path: &Path,
    consequences: &str,
    checked: &[regraft::review::GerritUrl],
) -> Step<ExitCode> {
    let (book, mut plans) = show_fitted(path, ui, timeout)?;
    if !accounts_work(repo, &mut plans, checked) {
        say(&format!(
            "Nothing was changed. Once the account works: git regraft run {} --execute",
            path.display()
        ));
        return Ok(ExitCode::SUCCESS);
    }
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
    // Exactly the plans shown: made again, their plan-time commits would get new ids.
    say(&format!("playbook {}: {}", book.name, book.description));
    let hosts = timeout.connector(ui);
    super::run::execute_parts(ui, &hosts, &book, &plans, Some(width()))?;
    let finished = regraft::surgery::operation::last_finished(repo);
    if let Some(notice) = finished.as_ref().and_then(|p| p.notice.clone()) {
        say("\nThe announcement for developers (git regraft notice prints it again):\n");
        let _ = write!(
            ui.out(),
            "{}",
            super::notice::compose(&notice, None, super::notice::Format::Text)
        );
    }
    // Reviews abandoned by a step, with no step of the plan restoring them.
    let calls: Vec<&ReviewCall> = finished
        .iter()
        .flat_map(|p| &p.steps)
        .filter_map(|s| s.review().map(|r| &r.call))
        .collect();
    let abandons = calls.iter().any(|c| matches!(c, ReviewCall::Abandon { .. }));
    let restores = calls.iter().any(|c| matches!(c, ReviewCall::Restore { .. }));
    let restore = if abandons && !restores {
        "; `git regraft restore --from-journal` if reviews were abandoned and not restored"
    } else {
        ""
    };
    say(&format!(
        "\nNext: post the announcement (`git regraft notice`){restore}; `git regraft sync` in each clone, yours too."
    ));
    Ok(ExitCode::SUCCESS)
}

/// Checks the account on each review server of `plans` that is not in `checked`, and gives
/// the plans the credentials of those in `checked`; tells whether every account works.
fn accounts_work(
    repo: &Repo,
    plans: &mut [super::run::Part],
    checked: &[regraft::review::GerritUrl],
) -> bool {
    let servers: Vec<_> =
        plans.iter().filter_map(|p| p.plan()).flat_map(|p| p.review_servers()).collect();
    let mut done: Vec<&regraft::review::GerritUrl> = Vec::new();
    for (server, found_in) in &servers {
        if let Some(known) = checked.iter().find(|c| *c == server) {
            for plan in plans.iter_mut().filter_map(|p| p.plan_mut()) {
                plan.with_credentials_of(known);
            }
            continue;
        }
        if done.contains(&server) {
            continue;
        }
        let named = regraft::review::Named::from_found_in(found_in.as_deref());
        match account::check(repo, server, named) {
            Ok(who) => say(&format!("{server} knows the account {who}.")),
            Err(why) => {
                say(&why);
                return false;
            }
        }
        done.push(server);
    }
    true
}

/// Prints the plan of the playbook at `path` as a dry run, fitted to the terminal's width (commit ids
/// shortened, long lines wrapped; `git regraft run FILE` shows it whole), and returns the
/// plans, for the run to carry out exactly.
fn show_fitted(
    path: &Path,
    ui: &Ui,
    timeout: &TimeoutArgs,
) -> Step<(regraft::surgery::playbook::Playbook, Vec<super::run::Part>)> {
    let book = regraft::surgery::playbook::load(path, &std::collections::BTreeMap::new())
        .map_err(CommandError::from)?;
    let plans = super::run::parts_of(&book, &timeout.connector(ui))?;
    let mut text = Vec::new();
    for part in &plans {
        if let Some(plan) = part.plan() {
            let now = regraft::surgery::assess::assess(&part.repo, plan).ok();
            super::surgery::render_now(&mut text, plan, now.as_deref())?;
        }
    }
    let mut out = ui.out();
    write!(out, "{}", fit(&String::from_utf8_lossy(&text), super::ui::width()))?;
    let footer = format!(
        "\n(A dry run: nothing changed. Ids are shortened to fit; `git regraft run {}` shows every command whole.)",
        path.display()
    );
    write!(out, "{}", wrap_to(&footer, super::ui::width(), false))?;
    Ok((book, plans))
}

/// Offers a playbook an earlier guide wrote in this directory and did not carry out since
/// (the last operation finished here is not that playbook, finished after the file was
/// written): show its plan again and carry it out, or start over. `None` to start over.
fn earlier_playbook(repo: &Repo, ui: &Ui, timeout: &TimeoutArgs) -> Step<Option<ExitCode>> {
    let last = regraft::surgery::operation::last_finished_when(repo);
    let carried_out = |book: &regraft::surgery::playbook::Playbook, written| {
        last.as_ref().is_some_and(|(plan, when)| {
            *when >= written && plan.operation.starts_with(&format!("playbook {} in ", book.name))
        })
    };
    let mut found: Vec<(std::time::SystemTime, PathBuf, String)> = Vec::new();
    for entry in std::fs::read_dir(super::current_dir()?).into_iter().flatten().flatten() {
        let path = entry.path();
        let named = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("regraft-") && n.ends_with(".toml"));
        let by_guide = named
            && std::fs::read_to_string(&path)
                .is_ok_and(|t| t.starts_with("# Written by `git regraft guide`"));
        let Some(written) = by_guide.then(|| entry.metadata().ok()?.modified().ok()).flatten()
        else {
            continue;
        };
        let Ok(book) = regraft::surgery::playbook::load(&path, &std::collections::BTreeMap::new())
        else {
            continue;
        };
        if !carried_out(&book, written) {
            found.push((written, path, book.description));
        }
    }
    if found.is_empty() {
        return Ok(None);
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.truncate(3);
    let mut choices: Vec<String> =
        found.iter().map(|(_, p, _)| format!("Go on with {}", p.display())).collect();
    choices.push("Start over".to_string());
    say(
        "A playbook an earlier guide wrote is here, not carried out yet: going on with it\nshows its plan again, and carries it out only if you say so.",
    );
    let chosen = select("Go on with it?", &choices, 0)?;
    let Some((_, path, description)) = found.get(chosen) else { return Ok(None) };
    carry_out(repo, ui, timeout, path, description, &[]).map(Some)
}

// ---- the developer -------------------------------------------------------------------

fn developer(repo: &Repo, args: &Start, ui: &Ui) -> Step<ExitCode> {
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
    say("A backport of yours can be checked against its originals before review:");
    screen::say_command(&format!(
        "git regraft verify {}/STABLE-BRANCH..HEAD --source {}/MAIN-BRANCH",
        args.remote, args.remote
    ));
    Ok(if done.all_synced() { ExitCode::SUCCESS } else { ExitCode::from(super::FINDINGS) })
}

// ---- the project lead ----------------------------------------------------------------

fn lead(repo: &Repo, args: &Start, _ui: &Ui) -> Step<ExitCode> {
    let remote = args.remote.as_str();
    let all = remote_branches(repo, remote);
    let candidates = stable_like(&all);
    if candidates.is_empty() {
        return Err(Stop::Failed(CommandError::user(anyhow::anyhow!("{remote} has no branches"))));
    }
    let target = candidates[select(
        "Which branch is the one to replace?",
        &candidates,
        default_branch(repo, args, &candidates).map_err(CommandError::from)?,
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
    let mut text = Vec::new();
    super::compare::markdown(&mut text, &comparison)?;
    let path = write_file("Write the Markdown to", &default_path, &text)?;
    say(&format!("Wrote {}: ready for the mailing list.", path.display()));
    say(&format!(
        "The fixes {t} lacks of commits it has: git regraft missed {} {} --format markdown",
        regraft::git::quote(&t),
        regraft::git::quote(&s)
    ));
    say("Each backport onto it can be checked before it merges (in CI too):");
    screen::say_command(&format!("git regraft verify {t}..BACKPORT --source {s}"));
    say(&format!(
        "For the fixes still to bring, onto every maintained branch at once: `git regraft \
         forecast {t}..{remote}/HEAD` (see docs/forecast.md)."
    ));
    Ok(ExitCode::SUCCESS)
}
