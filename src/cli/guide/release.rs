//! The release team's path: from a broken branch to a playbook, its plan and, if asked,
//! the run.

use std::process::ExitCode;

use regraft::analysis::compare::{self, CompareOptions};
use regraft::analysis::simulation::Outcome;
use regraft::git::repo::Repo;
use regraft::review::{GerritUrl, Named, ReviewError};
use regraft::surgery::guide::{self, Ending, ReplaceDecision, ReviewChoice, ServerRules};
use regraft::surgery::replace::{ReviewTarget, Strategy, Tried, check_followups};

use super::screen::{
    confirm, input, input_url, multi, say, say_command, screen_table, select, short_verdict,
    without_password, yes_no,
};
use super::{
    Start, Step, Stop, carry_out, default_branch, fetch, remote_branches, stable_like, write_file,
};
use crate::cli::timeout::TimeoutArgs;
use crate::cli::{CommandError, Ui};

pub(super) fn release(repo: &Repo, args: &Start, ui: &Ui) -> Step<ExitCode> {
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
    let broken = candidates[select(
        "Which branch is broken?",
        &candidates,
        default_branch(repo, args, &candidates).map_err(CommandError::from)?,
    )?]
    .clone();
    let fix = match what_it_needs(&broken)? {
        Needs::Tree => None,
        Needs::Fix => Some(ask_fix(repo, remote)?),
        Needs::End(ending) => return end(repo, remote, &broken, ending, ui, &args.timeout),
    };
    let source_branch = which_source(repo, remote, &all, &broken, fix)?;
    let target = format!("{remote}/{broken}");
    let source_name = format!("{remote}/{source_branch}");
    let source = repo.resolve_commit(&source_name).map_err(CommandError::user)?;
    if let Some(fix) = fix {
        // What will be done is the fix's closure, picked: its figures, not the whole
        // branch's, and no option that would give the branch the whole source tree.
        say_what_the_fix_needs(repo, &target, &source_name, fix)?;
        say(&format!(
            "Only a staged backport brings the fix and what it needs, and nothing else: the other options give {broken} the whole tree of {source_branch}. It replaces nothing, so no tag is made."
        ));
        return staged_backport(repo, args, &broken, &target, &source_name, Some(fix), ui);
    }
    say(&format!("\nMeasuring the five options for {target} from {source_name}..."));
    let comparison = compare::compare(
        repo,
        &target,
        &source_name,
        &CompareOptions::default(),
        &crate::cli::progress::Bar::new(),
    )
    .map_err(CommandError::from)?;
    say(&screen_table(&comparison));
    say_own_changes(&comparison, &broken, &source_branch);
    let rules = ask_rules()?;
    let strategy = choose_strategy(&comparison, &rules)?;
    if strategy == Strategy::Backport {
        return staged_backport(repo, args, &broken, &target, &source_name, fix, ui);
    }
    let branches = Branches { broken: &broken, source_branch: &source_branch, source };
    let (own, followups) = choose_followups(repo, &branches, &comparison, strategy)?;
    let series = regraft::surgery::replace::series(&broken).unwrap_or("branch");
    let tag = input("Tag that keeps the old tip", &format!("{series}-early-demise"))?;
    regraft::git::names::check_tag(&tag).map_err(CommandError::user)?;
    // Only a branch deleted or moved backwards blocks or closes its open reviews; a
    // fast-forward leaves them open, to be rebased as usual.
    let asked = if matches!(strategy, Strategy::Recreate | Strategy::Reset) {
        ask_reviews(repo, remote, &broken, "Abandon them first and restore them at the end?")?
    } else {
        Reviews::none()
    };
    let Reviews { choice: reviews, note: reviews_note, checked } = asked;
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
        date: crate::cli::ui::today(),
    };
    let default_path = format!("regraft-{}-{}.toml", broken.replace('/', "-"), decision.date);
    let path =
        write_file("Write the playbook to", &default_path, guide::playbook(&decision).as_bytes())?;
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
    carry_out(repo, ui, &args.timeout, &path, &format!("{consequences}{reviews_note}"), &checked)
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

/// Most commits a search for the fix offers.
const FOUND_AT_MOST: usize = 12;

/// Asks for the fix: a commit id or revision, or words of its message searched on the
/// remote's branches (as `git log --grep`, ignoring case), the commits found offered.
fn ask_fix(repo: &Repo, remote: &str) -> Step<regraft::ObjectId> {
    loop {
        let text = input("The fix: a commit id, or words from its summary", "")?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        // A short run of hex digits ("add", "cafe") is a word to search, not an id prefix.
        let short_hex = text.len() < 7 && text.chars().all(|c| c.is_ascii_hexdigit());
        let revision = !short_hex && !text.contains(char::is_whitespace);
        if let Some(commit) = revision.then(|| repo.resolve_commit(text).ok()).flatten() {
            return Ok(commit);
        }
        let found = search_messages(repo, remote, text)?;
        if found.is_empty() {
            say(&format!("No commit on {remote}'s branches has \"{text}\" in its message."));
            continue;
        }
        let mut items: Vec<String> =
            found.iter().map(|(c, summary)| format!("{} {summary}", c.short())).collect();
        if found.len() == FOUND_AT_MOST {
            say(&format!("The {FOUND_AT_MOST} newest commits that match:"));
        }
        items.push("None of these: search again".to_string());
        let chosen = select("Which commit is the fix?", &items, 0)?;
        if let Some((commit, _)) = found.get(chosen) {
            return Ok(*commit);
        }
    }
}

/// The newest non-merge commits on `remote`'s branches whose message holds `text` (any
/// case), with their summaries.
fn search_messages(
    repo: &Repo,
    remote: &str,
    text: &str,
) -> Step<Vec<(regraft::ObjectId, String)>> {
    let out = repo.git().log_grep(remote, text, FOUND_AT_MOST).map_err(CommandError::from)?;
    Ok(out
        .lines()
        .filter_map(|l| {
            let (id, summary) = l.split_once(' ').unwrap_or((l, ""));
            Some((regraft::ObjectId::from_hex(id.as_bytes())?, summary.to_string()))
        })
        .collect())
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
    let mut sources: Vec<String> = Vec::new();
    for b in all.iter().filter(|b| *b != broken) {
        let holds = match fix {
            None => true,
            Some(f) => match repo
                .reference_target(&format!("refs/remotes/{remote}/{b}"))
                .map_err(CommandError::from)?
            {
                Some(t) => repo.is_ancestor(f, t).map_err(CommandError::from)?,
                None => false,
            },
        };
        if holds {
            sources.push(b.clone());
        }
    }
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

/// Says what the fix's staged backport will do, as `git regraft backport TARGET SOURCE --for
/// FIX --dry-run` plans it: the commits it needs by line dependencies (`deps --for`), one
/// pick and one review each, how many apply cleanly, are empty, or conflict (and where).
fn say_what_the_fix_needs(
    repo: &Repo,
    target: &str,
    source: &str,
    fix: regraft::ObjectId,
) -> Step<()> {
    use regraft::analysis::backport::StepOutcome;
    say(&format!("\nPlanning the backport of {} and what it needs...", fix.short()));
    let plan = crate::cli::backport::dry_run(repo, target, source, Some(fix))?;
    let counts = plan.counts();
    let mut files: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.outcome == StepOutcome::Conflict)
        .flat_map(|s| s.conflicts.iter().map(String::as_str))
        .collect();
    files.sort_unstable();
    files.dedup();
    let shown = files.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    let more = files.len().saturating_sub(5);
    let conflicts = match (counts.conflict, more) {
        (0, _) => "0 conflict".to_string(),
        (n, 0) => format!("{n} conflict (in {shown})"),
        (n, more) => format!("{n} conflict (in {shown} and {more} more files)"),
    };
    say(&format!(
        "The fix {} needs {} commits by line dependencies (deps --for): {} picks, one review each; {} apply cleanly, {} are empty, {conflicts}.",
        fix.short(),
        plan.steps.len(),
        plan.steps.len(),
        counts.clean,
        counts.empty,
    ));
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
            let f = comparison.options.iter().find(|f| f.strategy == *s);
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

/// Shows, before an option is chosen, the broken branch's own changes that the options
/// giving it the source's tree undo (compare's `own_changes`), each marked when it would not
/// apply on the source.
fn say_own_changes(comparison: &compare::Comparison, broken: &str, source_branch: &str) {
    let undone: Vec<&compare::OwnChange> = comparison.undone().collect();
    let already = comparison.own_changes.len() - undone.len();
    if undone.is_empty() {
        if already > 0 {
            say(&format!(
                "\n{broken}'s {already} changes of its own are in {source_branch}'s tree already: no option undoes them."
            ));
        }
        return;
    }
    say(&format!(
        "\n{broken} has {} changes of its own that {source_branch} lacks; merge, megapatch, recreate and reset undo them (the backport keeps them){}:",
        undone.len(),
        if already > 0 {
            format!("; {already} more are in {source_branch}'s tree already")
        } else {
            String::new()
        }
    ));
    for own in &undone {
        say(&format!("  {}", own_line(own)));
    }
    say("You can carry them on top as follow-ups after choosing.");
}

/// One own change as a line: its id, a mark when it would conflict on the source, its subject.
fn own_line(own: &compare::OwnChange) -> String {
    let mark = if own.onto_source == Outcome::Conflict { "[conflicts] " } else { "" };
    format!("{} {mark}{}", own.commit.short(), own.summary)
}

/// What a tree-replacing option drops (the broken branch's own changes the source lacks,
/// as `compare` found them), offered as follow-ups (the ones that conflict marked, and left
/// out if picked), then the `.gitreview` follow-up; returns how many own changes it drops,
/// and the follow-ups.
fn choose_followups(
    repo: &Repo,
    b: &Branches,
    comparison: &compare::Comparison,
    strategy: Strategy,
) -> Step<(usize, Vec<(regraft::ObjectId, String)>)> {
    let undone: Vec<&compare::OwnChange> = comparison.undone().collect();
    let dropped: Vec<(regraft::ObjectId, String)> =
        undone.iter().map(|o| (o.commit, o.summary.clone())).collect();
    let mut followups = Vec::new();
    if !dropped.is_empty() {
        say(&format!(
            "\n{} would drop {}'s {} changes of its own:",
            strategy.name(),
            b.broken,
            dropped.len()
        ));
        let items: Vec<String> = undone.iter().map(|o| own_line(o)).collect();
        let picked: Vec<(regraft::ObjectId, String)> =
            multi("Carry which of them on top as follow-ups?", &items)?
                .into_iter()
                .map(|i| dropped[i].clone())
                .collect();
        // A follow-up that does not apply on the source's tree would stop the plan: say so
        // now and leave it out.
        let commits: Vec<regraft::ObjectId> = picked.iter().map(|(c, _)| *c).collect();
        let checked = check_followups(repo, b.source, &commits, Tried::Chained)
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
    crate::cli::compare::table(&mut table, comparison)?;
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
    let Some(text) = repo.file_at(source, ".gitreview").map_err(CommandError::from)? else {
        return Ok(());
    };
    let Some(named) = regraft::review::GitReview::parse(&String::from_utf8_lossy(&text))
        .and_then(|r| r.defaultbranch)
        .filter(|b| b != broken)
    else {
        return Ok(());
    };
    let touches = |commit: regraft::ObjectId| -> Result<bool, regraft::git::repo::RepoError> {
        let parent = repo.commit_info(commit)?.parents.first().copied();
        let before = match parent {
            Some(p) => repo.file_at(p, ".gitreview")?,
            None => None,
        };
        Ok(before != repo.file_at(commit, ".gitreview")?)
    };
    for (c, _) in followups.iter() {
        if touches(*c).map_err(CommandError::from)? {
            return Ok(());
        }
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

/// The answer about a branch's open reviews.
pub(super) struct Reviews {
    /// The server and project the playbook abandons them on, if it does.
    pub choice: Option<ReviewChoice>,
    /// The words the point of no return adds (`; its 7 open reviews are abandoned first`).
    pub note: String,
    /// The server whose account was checked, with the credentials its URL was typed with.
    pub checked: Vec<GerritUrl>,
}

impl Reviews {
    fn none() -> Reviews {
        Reviews { choice: None, note: String::new(), checked: Vec::new() }
    }
}

/// When `.gitreview` on the branch names a Gerrit: says so with the open reviews counted,
/// and asks `question` (default yes) whether the playbook abandons them. When that Gerrit
/// does not answer (`.gitreview` on an old branch may name a host that has since moved), asks
/// which Gerrit to use instead. A server kept or typed here is one the user names: the
/// environment's credentials go to it. Before the playbook is written, the account there is
/// checked; when it does not work, the guide says how to give one and asks what to do.
fn ask_reviews(repo: &Repo, remote: &str, branch: &str, question: &str) -> Step<Reviews> {
    let Some(t) = ReviewTarget::from_gitreview(repo, remote, branch).map_err(CommandError::from)?
    else {
        return Ok(Reviews::none());
    };
    let mut gerrit = t.gerrit.clone();
    say(&format!(
        "{} names {} (project {}).",
        t.found_in.clone().unwrap_or_default(),
        t.gerrit,
        t.project,
    ));
    let mut counted = open_reviews(repo, &gerrit, &t.project, branch);
    loop {
        match &counted {
            Ok(n) => say(&format!("{n} open reviews on {branch}.")),
            // It answered: the project needs an account to be read.
            Err(ReviewError::Unauthorized { status, .. }) => say(&format!(
                "{gerrit} refused to list them anonymously (HTTP {status}): reading them needs an account, which is checked below."
            )),
            Err(why) => {
                let what = match why {
                    ReviewError::NoAnswer { .. } | ReviewError::Transport { .. } => {
                        "did not answer"
                    }
                    _ => "answered with an error",
                };
                say(&format!("{gerrit} {what} ({why})."));
                say(&format!(
                    "Give the Gerrit that holds them now (Enter keeps {gerrit}; `none` plans no review steps)."
                ));
                let Some(url) = ask_gerrit(&gerrit)? else { return Ok(Reviews::none()) };
                let same = url == gerrit;
                gerrit = url;
                if !same {
                    counted = open_reviews(repo, &gerrit, &t.project, branch);
                    continue;
                }
            }
        }
        break;
    }
    say(&format!(
        "The playbook would name {gerrit}: a server you name gets the account in {} and {}, else your git credential helper's.",
        regraft::review::USER_VAR,
        regraft::review::PASSWORD_VAR
    ));
    if !confirm(question, true)? {
        return Ok(Reviews::none());
    }
    let checked = loop {
        let why = match super::account::check(repo, &gerrit, Named::ByUser) {
            Ok(who) => {
                say(&format!("{gerrit} knows the account {who}."));
                break vec![gerrit.clone()];
            }
            Err(why) => why,
        };
        say(&why);
        let choices = [
            "Check again (once the credentials are stored)".to_string(),
            "Give the URL again, or another one".to_string(),
            "Plan the abandon anyway (carried out once the account works)".to_string(),
            "Plan no review steps".to_string(),
        ];
        match select("What about the account?", &choices, 0)? {
            0 => {}
            1 => {
                say(&format!(
                    "Enter keeps {gerrit}; a URL with USER:PASSWORD@ serves this guide's run only (never shown, never stored); `none` plans no review steps."
                ));
                let Some(url) = ask_gerrit(&gerrit)? else { return Ok(Reviews::none()) };
                if url != gerrit {
                    counted = open_reviews(repo, &url, &t.project, branch);
                    if let Ok(n) = &counted {
                        say(&format!("{n} open reviews on {branch} there."));
                    }
                }
                gerrit = url;
            }
            2 => break Vec::new(),
            _ => return Ok(Reviews::none()),
        }
    };
    let note = match counted {
        Ok(n) => format!("; its {n} open reviews are abandoned first"),
        Err(_) => "; its open reviews are abandoned first".to_string(),
    };
    let choice = ReviewChoice { gerrit: gerrit.to_string(), project: t.project.clone() };
    Ok(Reviews { choice: Some(choice), note, checked })
}

/// Asks which Gerrit holds the reviews (Enter keeps `current`), until the answer is a URL;
/// `none` is `None`. A password typed in the URL is never shown.
fn ask_gerrit(current: &GerritUrl) -> Step<Option<GerritUrl>> {
    loop {
        let answer = input_url("Which Gerrit holds the reviews?", "")?;
        let answer = answer.trim();
        if answer.is_empty() {
            return Ok(Some(current.clone()));
        }
        if answer == "none" {
            return Ok(None);
        }
        match GerritUrl::parse(answer) {
            Ok(url) => return Ok(Some(url)),
            Err(e) => say(&format!("`{}`: {e}", without_password(answer))),
        }
    }
}

/// Counts the branch's open reviews with one short anonymous try, said before it is made.
fn open_reviews(
    repo: &Repo,
    gerrit: &GerritUrl,
    project: &str,
    branch: &str,
) -> Result<usize, ReviewError> {
    let trust = regraft::review::Trust::find(repo.git(), gerrit)?;
    let host = regraft::review::Gerrit::brief(gerrit, None).trusting(trust);
    say(&format!("Asking {gerrit} anonymously for the open reviews on {branch}..."));
    regraft::review::ReviewHost::open_reviews(&host, project, branch).map(|open| open.len())
}

/// The staged backport: stage size and branch asked, built locally only if asked (nothing
/// is pushed), then the command that pushes it for review.
fn staged_backport(
    repo: &Repo,
    args: &Start,
    broken: &str,
    target: &str,
    source: &str,
    fix: Option<regraft::ObjectId>,
    ui: &Ui,
) -> Step<ExitCode> {
    let (remote, timeout) = (args.remote.as_str(), &args.timeout);
    let size = input("Picks per stage (each stage is reviewed and tested on its own)", "25")?;
    let stage_size: usize = size.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        Stop::Failed(CommandError::user(anyhow::anyhow!("`{size}` is not a number of picks")))
    })?;
    let branch = input("Build it on the new local branch", &format!("backport/{broken}"))?;
    regraft::git::names::check_branch(&branch).map_err(CommandError::user)?;
    let mut backport_args = vec![target.to_string(), source.to_string()];
    if let Some(f) = fix {
        backport_args.extend(["--for".to_string(), f.short()]);
    }
    backport_args.extend([
        "--stage-size".to_string(),
        stage_size.to_string(),
        "--branch".to_string(),
        branch.clone(),
    ]);
    let build = format!("git regraft backport {}", quoted(&backport_args));
    let push = format!(
        "git regraft replace {broken} --from {} --strategy backport",
        regraft::git::quote(&branch)
    );
    let verify =
        format!("git regraft verify {target}..{} --source {source}", regraft::git::quote(&branch));
    // On GitHub or GitLab the stages go for review as stacked requests, built and sent by
    // the backport itself, to the remote the guide works on.
    let given = regraft::surgery::review_host::Given::default();
    let forge = regraft::surgery::review_host::resolve(repo, &given, remote, target)
        .ok()
        .flatten()
        .and_then(|h| h.forge().cloned());
    if let Some(forge) = forge {
        return stacked_backport(repo, &backport_args, remote, &forge, ui, timeout);
    }
    if !confirm("Build the branch now (local only: nothing is pushed)?", false)? {
        say("Nothing was changed. To build it:");
        say_command(&build);
        say("Check it against its originals (a CI job can run the same):");
        say_command(&verify);
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
    let start = regraft::surgery::apply::StartOptions {
        target,
        source: Some(source),
        plan: &options,
        branch: &branch,
        squash_stages: false,
        planned: None,
    };
    let report = regraft::surgery::apply::start(repo, &start, &crate::cli::progress::Bar::new())
        .map_err(crate::cli::backport::apply_error)?;
    let code = crate::cli::backport::report_run(
        ui,
        &report,
        crate::cli::backport::RunEnd::Applied,
        false,
    )?;
    say("Check it against its originals (a CI job can run the same):");
    say_command(&verify);
    say("Then push it for review:");
    say_command(&push);
    Ok(code)
}

/// The words of a command, each quoted for a shell where it needs it.
fn quoted(words: &[String]) -> String {
    words.iter().map(|w| regraft::git::quote(w)).collect::<Vec<_>>().join(" ")
}

/// On GitHub or GitLab: offers to build the backport and open one request per stage,
/// stacked, as `backport --for-review` does (the command shown is the one run); without a
/// token for the host, or if declined, shows the command and changes nothing.
fn stacked_backport(
    repo: &Repo,
    build: &[String],
    remote: &str,
    forge: &regraft::surgery::replace::ForgeTarget,
    ui: &Ui,
    timeout: &TimeoutArgs,
) -> Step<ExitCode> {
    let word = forge.host.kind.request_word();
    let host = format!("{}:{}", forge.host.kind.name().to_ascii_lowercase(), forge.host.web());
    let mut review = vec![
        "--for-review".to_string(),
        "--review-host".to_string(),
        host,
        "--project".to_string(),
        forge.repository.clone(),
    ];
    if remote != "origin" {
        review.extend(["--remote".to_string(), remote.to_string()]);
    }
    if timeout.timeout != TimeoutArgs::default().timeout {
        review.extend(["--timeout".to_string(), timeout.timeout.to_string()]);
    }
    let command = format!("git regraft backport {} {}", quoted(build), quoted(&review));
    say(&format!(
        "{} is on {}: the backport can push each stage to {remote} as its own branch and open one {word} per stage, stacked in order (each lists its picks, where they come from and the predicted conflicts), once the last stage is applied.",
        forge.repository, forge.host
    ));
    // The command names the host, so a token from the environment may go to it.
    let token = regraft::review::forge::find_token(repo.git(), &forge.host, Named::ByUser);
    let missing = match &token {
        Ok(Some(_)) => None,
        Ok(None) => Some(regraft::review::forge::token_hint(&forge.host, Named::ByUser)),
        Err(e) => Some(e.to_string()),
    };
    if let Some(missing) = missing {
        say(&format!(
            "No token for {} was found ({missing}). Nothing was changed. Once there is one, run:",
            forge.host
        ));
        say_command(&command);
        return Ok(ExitCode::SUCCESS);
    }
    if !confirm(&format!("Build the branch and open the stacked {word}s now?"), false)? {
        say("Nothing was changed. To do it:");
        say_command(&command);
        return Ok(ExitCode::SUCCESS);
    }
    super::super::interrupt_note(
        "\nInterrupted: `git regraft status` tells where it stopped; `git regraft backport --continue` or `--abort` finishes it.",
    );
    say_command(&command);
    let args = crate::cli::backport::parse(build.iter().chain(&review)).map_err(Stop::Failed)?;
    let mut ui = ui.clone();
    Ok(crate::cli::backport::run(args, &mut ui)?)
}

/// The release team's end of life or of maintenance: the tag (and for maintenance, the
/// `unmaintained/` branch), the open reviews, a playbook, its plan, and only if asked twice,
/// the run.
fn end(
    repo: &Repo,
    remote: &str,
    branch: &str,
    ending: Ending,
    ui: &Ui,
    timeout: &TimeoutArgs,
) -> Step<ExitCode> {
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
    let Reviews { choice: reviews, note: reviews_note, checked } =
        ask_reviews(repo, remote, branch, "Abandon them before the branch is deleted?")?;
    let consequences = match &ending {
        Ending::Life => {
            format!("{branch} is deleted on {remote}, its last commit kept by tag {tag}")
        }
        Ending::Maintenance { unmaintained } => format!(
            "{branch} is deleted on {remote} and lives on as {unmaintained}, its last commit tagged {tag}"
        ),
    };
    let decision = guide::EndDecision {
        branch: branch.to_string(),
        remote: remote.to_string(),
        tag,
        ending,
        reviews,
        date: crate::cli::ui::today(),
    };
    let default_path =
        format!("regraft-{kind}-{}-{}.toml", branch.replace('/', "-"), decision.date);
    let path = write_file(
        "Write the playbook to",
        &default_path,
        guide::end_playbook(&decision).as_bytes(),
    )?;
    say(&format!("\nWrote {}: review it, post it.\n", path.display()));
    carry_out(repo, ui, timeout, &path, &format!("{consequences}{reviews_note}"), &checked)
}
