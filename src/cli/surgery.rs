//! What `replace` and `eol` share: showing a plan, asking before executing, running it.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use regraft::git::repo::Repo;
use regraft::review::HostFactory;
use regraft::surgery::operation::{self, OperationError, Plan, ReviewCall, StepStatus};
use regraft::text::visible::{visible, visible_line};

use super::{CommandError, Ui};

/// The options every surgery command (`replace`, `eol`) takes.
#[derive(Debug, clap::Args)]
pub struct SurgeryArgs {
    /// The remote
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// A Gerrit server whose open reviews on the branch are abandoned before the branch is
    /// deleted or moved; `none` for no review server [default: git config regraft.gerrit,
    /// else the host that .gitreview on the branch names]
    #[arg(long, value_name = "URL")]
    pub gerrit: Option<String>,
    /// The review host: github, gitlab, github:URL, gitlab:URL, gerrit:URL or none. On
    /// GitHub and GitLab, the branch's open pull or merge requests are kept through a
    /// replacement (moved to a hold branch and back) and closed by an end of life
    /// [default: git config regraft.reviewHost, else the Gerrit of regraft.gerrit or
    /// .gitreview, else the remote's URL when it is on github.com or gitlab.com]
    #[arg(long, value_name = "KIND[:URL]", conflicts_with = "gerrit")]
    pub review_host: Option<String>,
    /// The Gerrit project, or the forge's OWNER/NAME [default: .gitreview's on the branch,
    /// else the path of the remote's URL]
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
    /// Do it (after confirmation on a terminal, or with --yes)
    #[arg(long)]
    pub execute: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
    /// Print the plan as JSON
    #[arg(long)]
    pub json: bool,
    /// Resume an interrupted operation at its first unfinished step (a step the server
    /// refused is tried again: it is refused again unless the server now allows it)
    #[arg(long = "continue", conflicts_with = "abort")]
    pub resume: bool,
    /// Put the branch back at its old tip, restore the reviews the operation abandoned,
    /// and drop the operation (the tag stays)
    #[arg(long)]
    pub abort: bool,
    /// Write the plan to FILE (the JSON of --json) for review; nothing runs
    #[arg(long, value_name = "FILE", conflicts_with_all = ["execute", "plan"])]
    pub plan_out: Option<std::path::PathBuf>,
    /// Show, or with --execute run, the plan saved in FILE exactly as written (refused if a
    /// step is not one regraft makes or the remote no longer holds what it expects)
    #[arg(long, value_name = "FILE")]
    pub plan: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub timeout: super::timeout::TimeoutArgs,
}

/// Shows or runs the plan saved in `path`.
pub fn saved(
    ui: &Ui,
    repo: &Repo,
    path: &std::path::Path,
    c: &SurgeryArgs,
) -> Result<ExitCode, CommandError> {
    let mut plan = regraft::surgery::saved_plan::read(repo, path)?;
    // A forge the user names again here is theirs, not only the file's.
    if let Some(given) = &c.review_host
        && let Some(host) = regraft::surgery::review_host::named_forge(given)?
    {
        regraft::surgery::saved_plan::confirm_forge_host(&mut plan, &host);
    }
    // So is a Gerrit named here (the environment's credentials then go to it).
    let given = regraft::surgery::review_host::Given {
        review_host: c.review_host.clone(),
        gerrit: c.gerrit.clone(),
        project: None,
    };
    if let Some(gerrit) = regraft::surgery::review_host::named_gerrit(&given)? {
        regraft::surgery::saved_plan::confirm_gerrit(&mut plan, &gerrit);
    }
    // The server's answers may have changed since the file was written.
    let hosts = c.timeout.connector(ui);
    regraft::surgery::access::check_again(repo, &hosts, &mut plan);
    // So may the forge's branch rules: a rule that refuses a step refuses the plan now.
    for target in regraft::surgery::saved_plan::forge_targets(&plan) {
        check_forge_rules(ui, repo, &hosts, &mut plan, Some(&target))?;
    }
    if c.execute {
        regraft::surgery::saved_plan::check_current(repo, &plan, path)?;
    }
    dry_run_or_execute(ui, repo, plan, c)
}

/// Writes the plan to `path` for review and says how to run it.
pub fn save(
    ui: &Ui,
    repo: &Repo,
    plan: &Plan,
    path: &std::path::Path,
    command: &str,
) -> Result<ExitCode, CommandError> {
    regraft::surgery::saved_plan::write(plan, path).map_err(CommandError::internal)?;
    render_dry_run(&mut ui.human(), repo, plan)?;
    writeln!(
        ui.human(),
        "\nThe plan is in {}: review it, then run exactly it with `git regraft {command} --plan {} --execute`.",
        path.display(),
        path.display()
    )?;
    refuse_if_denied(plan)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes every step of the plan: what it does, the exact git command, what must hold
/// before, and how it is verified.
pub fn render(out: &mut impl Write, plan: &Plan) -> std::io::Result<()> {
    render_now(out, plan, None)
}

/// Writes the plan like [`render`], with, under each step, how it stands if the plan ran
/// now (`now`, from [`regraft::surgery::assess::assess`]).
pub fn render_now(
    out: &mut impl Write,
    plan: &Plan,
    now: Option<&[regraft::surgery::assess::StepNow]>,
) -> std::io::Result<()> {
    // The prose fits the terminal's width (80 columns in a pipe or a file; scripts read
    // --json). Commands wrap only between words, with the shell's ` \`, so that they still
    // run when pasted; a request's URL is never cut.
    let width = Some(super::ui::width());
    writeln!(out, "plan: {}", visible_line(&plan.operation))?;
    for note in &plan.notes {
        prose(out, width, "note: ", note)?;
    }
    // What the review server said of the rights the plan needs (not asked: said in a note).
    let asked: Vec<_> = plan
        .access
        .iter()
        .filter(|c| !matches!(c.answer, regraft::surgery::access::AccessAnswer::NotAsked { .. }))
        .collect();
    if let Some(first) = asked.first() {
        prose(
            out,
            width,
            "access: ",
            &format!("{} was asked (Check Access) about each right the plan needs:", first.gerrit),
        )?;
        for check in asked {
            prose(out, width, "  ", &check.describe())?;
        }
    }
    for (n, step) in plan.steps.iter().enumerate() {
        writeln!(out)?;
        prose(out, width, &format!("{:>2}. ", n + 1), &step.description)?;
        if let Some(action) = step.git() {
            let words: Vec<String> =
                action.argv().iter().map(|w| regraft::git::quote(&visible_line(w))).collect();
            command(out, width, &words)?;
            if let Some(input) = action.input() {
                for line in input.lines() {
                    writeln!(out, "    | {}", visible_line(line))?;
                }
            }
        }
        if let Some(review) = step.review() {
            // The requests as the plan carries them: what the client sends, byte for byte.
            for request in &review.requests {
                writeln!(
                    out,
                    "    {} {}",
                    request.method,
                    request.url(&review.gerrit, regraft::review::Access::Authenticated)
                )?;
                if let Some(body) = &request.body {
                    writeln!(out, "      {}", visible_line(body))?;
                }
            }
            if matches!(review.call, ReviewCall::Restore { .. }) {
                writeln!(
                    out,
                    "    (for each review this run abandoned, {{number}} being its number)"
                )?;
            }
            if matches!(review.call, ReviewCall::Abandon { .. }) {
                writeln!(
                    out,
                    "    (every page of the listing; the abandon for each review listed, {{number}} being its number; then the listing again to verify)"
                )?;
            }
            writeln!(out, "    (HTTP Basic with your Gerrit HTTP password, which is never shown)")?;
        }
        if let Some(forge) = step.forge() {
            let api = forge.host.api();
            for request in &forge.requests {
                writeln!(out, "    {} {api}{}", request.method, visible_line(&request.path))?;
                if let Some(body) = &request.body {
                    writeln!(out, "      {}", visible_line(body))?;
                }
            }
            let word = forge.host.kind.request_word();
            match forge.call {
                regraft::review::forge::ForgeCall::Record => prose(
                    out,
                    width,
                    "    ",
                    &format!("(every page of the listing; each {word} is kept in the request log)"),
                )?,
                _ => prose(
                    out,
                    width,
                    "    ",
                    &format!(
                        "(for each recorded {word}, {{number}} being its number: read first, and left alone when it is there already or someone else moved or closed it)"
                    ),
                )?,
            }
            let vars = forge.host.kind.token_variables().join(" or ");
            prose(
                out,
                width,
                "    ",
                &format!(
                    "(with your {} token from {vars} or a git credential helper, never shown)",
                    forge.host.kind
                ),
            )?;
        }
        for check in &step.precondition {
            prose(out, width, "    before: ", &check.describe(&plan.remote))?;
        }
        for check in &step.verification {
            prose(out, width, "    after:  ", &check.describe(&plan.remote))?;
        }
        if let Some(now) = now {
            use regraft::surgery::assess::StepNow;
            let line = match now.get(n) {
                Some(StepNow::AlreadyDone) => "already done: running the plan skips it".to_string(),
                Some(StepNow::Ready) => "ready".to_string(),
                Some(StepNow::NotChecked) => {
                    "asks the review server (not asked in a dry run)".to_string()
                }
                Some(StepNow::Blocked { check, found }) => {
                    format!(
                        "BLOCKED: {check} does not hold (found {found}); the run would stop here"
                    )
                }
                None => "after a blocked step".to_string(),
            };
            prose(out, width, "    now:    ", &line)?;
        }
    }
    Ok(())
}

/// Writes `prefix` and `text`, the text wrapped under itself to `width` when there is one.
fn prose(
    out: &mut impl Write,
    width: Option<usize>,
    prefix: &str,
    text: &str,
) -> std::io::Result<()> {
    // Step descriptions and notes hold subjects and names from the repository.
    let text = &visible(text);
    match width {
        Some(width) => {
            let start = prefix.chars().count();
            writeln!(out, "{prefix}{}", super::ui::wrap(text, width, start, start))
        }
        None => writeln!(out, "{prefix}{text}"),
    }
}

/// Writes `$ git` and the quoted `words`; when wider than `width`, continued on further
/// lines with the shell's ` \` between words (a word is never cut).
fn command(out: &mut impl Write, width: Option<usize>, words: &[String]) -> std::io::Result<()> {
    let whole = format!("    $ git {}", words.join(" "));
    match width {
        Some(width) if whole.chars().count() > width => {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            writeln!(out, "{}", super::ui::shell_wrap("    $ git ", &words, width, "        "))
        }
        _ => writeln!(out, "{whole}"),
    }
}

/// Renders the plan for a dry run, with how each step stands now (when that can be read).
fn render_dry_run(out: &mut impl Write, repo: &Repo, plan: &Plan) -> std::io::Result<()> {
    let now = regraft::surgery::assess::assess(repo, plan).ok();
    render_now(out, plan, now.as_deref())
}

/// Shows the plan (dry run), or with `--execute` asks and runs it.
pub fn dry_run_or_execute(
    ui: &Ui,
    repo: &Repo,
    plan: Plan,
    c: &SurgeryArgs,
) -> Result<ExitCode, CommandError> {
    if !c.execute {
        if c.json {
            super::write_json(ui, &plan)?;
        } else {
            let mut out = ui.human();
            render_dry_run(&mut out, repo, &plan)?;
            writeln!(out)?;
            let last = if regraft::surgery::access::refusal(&plan).is_some() {
                "This was a dry run: nothing changed. The server's rights refuse the plan, as follows: --execute would change nothing either."
            } else {
                "This was a dry run: nothing changed. Run again with --execute to do it."
            };
            prose(&mut out, Some(super::ui::width()), "", last)?;
        }
        refuse_if_denied(&plan)?;
        return Ok(ExitCode::SUCCESS);
    }
    // Refused before it is shown for confirmation: nothing is asked of the user in vain.
    refuse_if_denied(&plan)?;
    render(&mut ui.human(), &plan)?;
    confirm(&plan.operation, c.yes)?;
    let mut report = |step: &operation::Step, status: StepStatus| report_step(ui, step, status);
    let announce = plan.notice.is_some();
    operation::execute(repo, &c.timeout.connector(ui), plan, &mut report)
        .map_err(operation_error)?;
    writeln!(ui.human(), "\nAll steps done and verified.")?;
    if announce {
        ui.status("next: `git regraft notice > notice.txt`, the announcement for developers");
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a plan the review server's rights refuse (exit 3, as other findings), with the
/// way on: the strategies that need no delete when a delete is denied, else the right to
/// ask the project's owners for.
pub fn refuse_if_denied(plan: &Plan) -> Result<(), CommandError> {
    let Some(denied) = regraft::surgery::access::refusal(plan) else { return Ok(()) };
    let right = regraft::surgery::access::right_name(&denied.permission);
    let ask = format!(
        "ask the owners of {} for the right {right} on {}",
        denied.project, denied.reference
    );
    let hint = match (&denied.replacing, denied.permission.as_str()) {
        (Some((branch, source)), "delete") => format!(
            "use a strategy that needs no delete, merge or megapatch (`git regraft replace {} --from {} --strategy merge`); or {ask} and plan again",
            regraft::git::quote(branch),
            regraft::git::quote(source)
        ),
        _ => format!("{ask}, then plan again"),
    };
    Err(CommandError::findings(denied).with_hint(visible_line(&hint).into_owned()))
}

/// Reports a step's progress on stderr.
fn report_step(ui: &Ui, step: &operation::Step, status: StepStatus) {
    ui.status(&step_line(step, status));
}

/// Says how a step goes, control characters made visible; a review step names its server
/// before it is asked.
pub fn step_line(step: &operation::Step, status: StepStatus) -> String {
    let line = match (status, step.review()) {
        (StepStatus::AlreadyDone, _) => format!("already done: {}", step.description),
        (StepStatus::Asking, Some(review)) => {
            format!("asking {}: {}", review.gerrit, step.description)
        }
        (StepStatus::Asking, None) => match step.forge() {
            Some(forge) => format!("asking {}: {}", forge.host, step.description),
            None => format!("starting: {}", step.description),
        },
        (StepStatus::Done, _) => format!("done: {}", step.description),
    };
    visible_line(&line).into_owned()
}

/// How to finish the operation in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// `--continue`: run its remaining steps.
    Continue,
    /// `--abort`: undo what it did.
    Abort,
}

impl SurgeryArgs {
    /// Returns what the command line says of the review host, for
    /// [`regraft::surgery::review_host::resolve`].
    pub fn given(&self) -> regraft::surgery::review_host::Given {
        regraft::surgery::review_host::Given {
            review_host: self.review_host.clone(),
            gerrit: self.gerrit.clone(),
            project: self.project.clone(),
        }
    }

    /// Returns what `--continue` or `--abort` asks, if either was given.
    pub fn finish(&self) -> Option<Finish> {
        match (self.resume, self.abort) {
            (_, true) => Some(Finish::Abort),
            (true, false) => Some(Finish::Continue),
            (false, false) => None,
        }
    }
}

/// Resumes or aborts the operation in progress, reaching its review hosts through `hosts`.
pub fn resume_or_abort(
    ui: &Ui,
    repo: &Repo,
    hosts: &dyn HostFactory,
    finish: Finish,
) -> Result<ExitCode, CommandError> {
    if finish == Finish::Abort {
        let report = operation::abort(repo, hosts).map_err(operation_error)?;
        let mut out = ui.human();
        writeln!(out, "aborted: {}", visible_line(&report.operation))?;
        for line in report.restored.iter().chain(&report.kept) {
            writeln!(out, "  {}", visible_line(line))?;
        }
        if !report.unfinished.is_empty() {
            for line in &report.unfinished {
                writeln!(out, "  {}", visible_line(line))?;
            }
            return Err(CommandError::user(anyhow::anyhow!(
                "--abort undid the rest, but reviews this operation abandoned are still \
                 abandoned, as said above"
            ))
            .with_hint("`git regraft restore --from-journal --execute` brings them back"));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut report = |step: &operation::Step, status: StepStatus| report_step(ui, step, status);
    let plan = operation::resume(repo, hosts, &mut report).map_err(operation_error)?;
    writeln!(ui.human(), "finished: {}", visible_line(&plan.operation))?;
    Ok(ExitCode::SUCCESS)
}

/// Asks on a terminal before changing anything; `yes` skips it; no terminal refuses.
pub fn confirm(operation: &str, yes: bool) -> Result<(), CommandError> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(CommandError::user(anyhow::anyhow!(
            "refusing to {operation} without confirmation"
        ))
        .with_hint("there is no terminal to ask on; add --yes to confirm"));
    }
    let go = dialoguer::Confirm::new()
        .with_prompt(format!("Execute: {}?", visible_line(operation)))
        .default(false)
        .interact()
        .map_err(CommandError::internal)?;
    if go {
        Ok(())
    } else {
        Err(CommandError::user(anyhow::anyhow!("not confirmed; nothing changed")))
    }
}

/// Says the way on after a push the server refused: the strategies that need no delete or
/// force push, or the right to ask for, and that `--abort` undoes what was done.
fn refusal_hint(what: operation::PushKind, replacing: Option<&(String, String)>) -> String {
    use operation::PushKind;
    let right = match what {
        PushKind::Delete => "to delete references (Gerrit: Delete Reference)",
        PushKind::Create => "to create references (Gerrit: Create Reference)",
        PushKind::Update => "to force-push (Gerrit: Push with Force)",
    };
    // An end of life replaces nothing: only the right helps there.
    let (instead, recreate) = match replacing {
        Some((branch, source)) => (
            format!(
                ", then use a strategy that needs no delete or force push, merge or megapatch \
                 (`git regraft replace {} --from {} --strategy merge`)",
                regraft::git::quote(branch),
                regraft::git::quote(source)
            ),
            match what {
                PushKind::Update => {
                    "; or, where the server allows deletes, plan again with --strategy recreate"
                }
                _ => "",
            },
        ),
        None => (String::new(), ""),
    };
    let hint = format!(
        "the server refused it, so --continue would be refused again: run `git regraft \
         replace --abort` to undo what was done (reviews this operation abandoned \
         included){instead}; or ask for the right {right} and run --continue{recreate}"
    );
    visible_line(&hint).into_owned()
}

pub fn operation_error(error: OperationError) -> CommandError {
    if let OperationError::PushRefused { what, replacing, step, .. } = &error
        && step != "abort"
    {
        let hint = refusal_hint(*what, replacing.as_deref());
        return CommandError::from(error).with_hint(hint);
    }
    if let OperationError::Review(review) = &error
        && let Some(hint) = review.hint()
    {
        return CommandError::from(error).with_hint(hint);
    }
    let hint = match &error {
        OperationError::Precondition { .. } => {
            Some("the remote moved since the plan was made; look, then --continue or --abort")
        }
        OperationError::InProgress { .. } => {
            Some("finish it with --continue or undo it with --abort")
        }
        OperationError::RemoteMoved { .. } => Some(
            "fetch and look at what is there now; --abort undoes only what this operation did and leaves that alone",
        ),
        OperationError::AbortInProgress { .. } => Some("run --abort again to finish it"),
        OperationError::Review(regraft::review::ReviewError::NoCredentials { .. }) => Some(
            "the plan abandons the branch's open reviews first; give credentials, or plan again with --gerrit none to use no review server",
        ),
        OperationError::CorruptJournal(_) => Some(
            "run `git regraft replace --abort`: it moves the journal aside (keeping it) and changes nothing on the remote; then look at the remote and plan again",
        ),
        _ => None,
    };
    let error = CommandError::from(error);
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// Reads the forge's branch rules for the plan before anything runs: a rule that refuses a
/// step refuses the plan, nothing changed (exit 3, as a Gerrit's denied right); what could
/// not be read becomes a note.
pub fn check_forge_rules(
    ui: &Ui,
    repo: &Repo,
    hosts: &dyn HostFactory,
    plan: &mut Plan,
    forge: Option<&regraft::surgery::replace::ForgeTarget>,
) -> Result<(), CommandError> {
    let Some(target) = forge else { return Ok(()) };
    ui.status(&visible_line(&format!(
        "asking {} for the rules of the branches the plan deletes or forces ({}{})",
        target.host,
        target.repository,
        target.found_in.as_ref().map(|f| format!(", as {f} says")).unwrap_or_default()
    )));
    regraft::surgery::review_host::refuse_protected(repo, hosts, plan, target).map_err(rules_error)
}

/// The exit code and hint of a plan a forge's rules refuse.
pub fn rules_error(error: regraft::surgery::review_host::RulesError) -> CommandError {
    use regraft::surgery::review_host::{PROTECTION_HINT, RulesError};
    match error {
        RulesError::Refused(refusal) => CommandError::findings(refusal).with_hint(PROTECTION_HINT),
        RulesError::Host(e) => CommandError::from(e),
    }
}
