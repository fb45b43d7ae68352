//! `git regraft notice`: the announcement for developers after a replacement or an end of
//! life, with the exact commands to run.

use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

use regraft::git::quote;
use regraft::git::repo::Repo;
use regraft::surgery::operation::{self, BranchChange, Notice};
use regraft::surgery::replace::Strategy;
use regraft::text::visible::{markdown_text, visible, visible_line};

use super::ui::wrap;
use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft notice > notice.txt
  git regraft notice --format markdown --why \"stable/liberty's data \\
      containers lost data\"";

/// Write the announcement for developers after the last replace or eol
///
/// Plain text fit for a mailing list (or Markdown): what was replaced by what, the tag that
/// keeps the old tip, and the exact commands to run: `git regraft sync` for those who have
/// it, and the plain git commands for those who do not.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// One sentence on why it was done
    #[arg(long, value_name = "TEXT")]
    why: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let repo = Repo::discover(&super::current_dir()?)?;
    // An announcement of a surgery that is half done would send developers astray.
    super::status::refuse_if_in_progress(&repo)?;
    let notice = operation::last_finished(&repo).and_then(|plan| plan.notice).ok_or_else(|| {
        CommandError::user(anyhow::anyhow!(
            "no finished replace or eol in this repository to announce"
        ))
        .with_hint("run it here with `git regraft replace ... --execute` (or `eol`) first")
    })?;
    let text = compose(&notice, args.why.as_deref(), args.format);
    ui.out().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the announcement. Names in its commands are quoted where a shell would read them
/// as more than a word (a branch may be called `stable/$(touch${IFS}x)`), so pasting a command
/// runs that command and nothing else.
pub fn compose(n: &Notice, why: Option<&str>, format: Format) -> String {
    let markdown = format == Format::Markdown;
    // The notice is read from a file: its names are shown with control characters made
    // visible, and in Markdown with its syntax escaped.
    let shown = |name: &str| {
        if markdown { markdown_text(name) } else { visible_line(name).into_owned() }
    };
    let (branch, remote, tag) = (shown(&n.branch), shown(&n.remote), shown(&n.tag));
    let (q_branch, q_remote, q_tag) = (
        quote(&visible_line(&n.branch)),
        quote(&visible_line(&n.remote)),
        quote(&visible_line(&n.tag)),
    );
    let q_tracking = quote(&visible_line(&format!("{}/{}", n.remote, n.branch)));
    // A comment ends at a newline; git forbids control characters in ref names, but the
    // notice is read from a file.
    let commented = |name: &str| name.replace(char::is_control, "?");
    let (branch_commented, source) = (commented(&n.branch), n.source.as_deref().map(shown));
    let code = |lines: &[String]| {
        if markdown {
            format!("```sh\n{}\n```\n", lines.join("\n"))
        } else {
            lines.iter().map(|l| format!("    {l}\n")).collect()
        }
    };
    let mut s = String::new();
    let title = match n.strategy {
        BranchChange::EndOfLife => format!("{branch} has reached its end of life"),
        _ => format!("{branch} was replaced: what to do with your clones"),
    };
    let _ = writeln!(s, "{}{title}\n", if markdown { "## " } else { "Subject: " });
    let new = n.new.map(|c| c.short()).unwrap_or_default();
    match (n.strategy, &source) {
        (BranchChange::EndOfLife, _) => {
            let text = format!(
                "{branch} on {remote} was deleted. Its last commit, {}, is kept by the tag {tag}.",
                n.old.short()
            );
            let _ = writeln!(s, "{}", wrap(&text, 76, 0, 0));
        }
        (BranchChange::Replaced(strategy), Some(source)) => {
            let text = format!(
                "{branch} on {remote} was replaced by {source} with the {strategy} strategy; it is now at {new}. \
                 Its old tip, {}, is kept by the tag {tag}: nothing was lost.",
                n.old.short()
            );
            let _ = writeln!(s, "{}", wrap(&text, 76, 0, 0));
        }
        _ => {}
    }
    if let Some(why) = why {
        let _ = writeln!(s, "\n{}", wrap(&format!("Why: {}", visible(why)), 76, 0, 0));
    }
    s.push('\n');
    match n.strategy {
        BranchChange::Replaced(Strategy::Megapatch | Strategy::Merge) => {
            let _ = writeln!(
                s,
                "{}",
                wrap(
                    "The branch moved forward (a fast-forward). A pull that rebases brings it, \
                     and carries commits of yours not yet pushed onto the new tip (where one \
                     conflicts, git stops and says how to go on, or `git rebase --abort`):",
                    76,
                    0,
                    0
                )
            );
            s.push_str(&code(&[
                format!("git fetch --tags {q_remote}"),
                format!("git checkout {q_branch} && git pull --rebase"),
            ]));
        }
        BranchChange::EndOfLife => {
            let _ = writeln!(
                s,
                "{}",
                wrap(
                    "Remove your copy of the branch; the tag keeps the commit. The second \
                     command deletes it only when the tag has every commit of it: a copy \
                     holding work of yours not yet pushed is left as it is, for you to bring \
                     that work to a maintained branch first.",
                    76,
                    0,
                    0
                )
            );
            // Two lines joined by the shell at `&&`, to fit the mail's width.
            s.push_str(&code(&[
                format!("git fetch --prune --tags {q_remote}"),
                format!("git merge-base --is-ancestor {q_branch} {q_tag} &&"),
                format!("  git branch -D {q_branch}"),
            ]));
        }
        BranchChange::Replaced(Strategy::Recreate | Strategy::Reset | Strategy::Backport) => {
            let _ = writeln!(
                s,
                "Every clone must move its copy of {branch} and the branches built on it."
            );
            let _ = writeln!(
                s,
                "\nWith git-regraft (keeps a backup of each branch it moves, and can undo):"
            );
            s.push_str(&code(&["git regraft sync --all".to_string()]));
            let _ = writeln!(s, "\nWith plain git:");
            s.push_str(&code(&[
                format!("git fetch --tags {q_remote}"),
                format!("# for each branch with local work built on the old {}:", branch_commented),
                format!("git rebase --onto {q_tracking} {q_tag} <branch>"),
                format!("# for your copy of {branch_commented} if it has no local work:"),
                format!("git checkout {q_branch} && git reset --hard {q_tracking}"),
            ]));
            let _ = writeln!(s, "\nThe old history stays readable: git log {q_tag}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use regraft::ObjectId;
    use regraft::surgery::operation::{BranchChange, Notice};
    use regraft::surgery::replace::Strategy;

    use super::{Format, compose};

    // Regression: branch names went raw into `notice --format markdown` (issue 24, item 4).
    #[test]
    fn names_from_the_notice_file_neither_drive_the_terminal_nor_make_markdown() {
        let notice = Notice {
            branch: "stable/<b>x|y</b>\x1b]0;pwned\x07".to_string(),
            remote: "origin".to_string(),
            strategy: BranchChange::Replaced(Strategy::Recreate),
            source: Some("origin/`main`".to_string()),
            old: ObjectId::from_hex(b"1111111111111111111111111111111111111111").expect("hex"),
            new: None,
            tag: "old-tip".to_string(),
        };
        let md = compose(&notice, Some("a \x1b[2J reason"), Format::Markdown);
        assert!(md.starts_with(r"## stable/\<b\>x\|y\</b\>^\[\]0;pwned^G was replaced"), "{md}");
        assert!(md.contains(r"origin/\`main\`"), "{md}");
        assert!(md.contains("a ^[[2J reason"), "{md}");
        let text = compose(&notice, None, Format::Text);
        assert!(text.starts_with("Subject: stable/<b>x|y</b>^[]0;pwned^G was replaced"), "{text}");
        for shown in [&md, &text] {
            assert!(!shown.contains(['\x1b', '\x07']), "{shown:?}");
        }
    }
}
