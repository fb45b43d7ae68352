//! `git regraft policy check`: backports against a stable-branch policy.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use regraft::analysis::policy;
use regraft::git::repo::Repo;
use regraft::text::visible::visible_line;

use super::{CommandError, Ui};

const EXAMPLES: &str = "\
Examples:
  git regraft policy check origin/stable/2024.1..HEAD
  git regraft policy check origin/driverfixes/2023.1..HEAD --phase driverfixes
  git regraft policy check origin/stable/2024.1..HEAD --upstream origin/master \\
      --json
  # exit status 3: some commits are refused; 0: all allowed";

/// Stable-branch policies
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PolicyCommand {
    Check(CheckArgs),
}

/// Check the commits of RANGE against a stable-branch policy
///
/// Classifies each non-merge commit of RANGE (BASE..TIP) by the paths it touches (drivers,
/// tests, docs and release notes, gate configuration, schema migrations, policy-in-code,
/// API, core code) and by its message (Closes-Bug, Implements blueprint, a CVE or OSSA id,
/// DocImpact, UpgradeImpact, APIImpact, TrivialFix, a [stable-only], [2025.1 only] or
/// [unmaintained-only] tag opening the subject, the cherry-pick line, the Change-Id), then judges it under the phase.
/// A file under a migrations tree counts as a migration only when the commit adds or
/// deletes a revision or changes an upgrade() body; with --upstream, an equivalent found
/// there stands for a missing cherry-pick line.
///
/// Exit status: 0 when every commit is allowed, 3 when some are refused (a finding, for
/// CI to gate on), 2 for bad input, 1 for a failure. The default policy is OpenStack's
/// (playbooks/policies/openstack.toml, built in).
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
struct CheckArgs {
    /// The commits to check, as BASE..TIP
    range: String,
    /// A policy file (TOML; see docs/policy.md) [default: OpenStack's]
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The branch's support phase [default: the policy's default_phase]
    #[arg(long, value_name = "NAME")]
    phase: Option<String>,
    /// Also require each commit's equivalent (by `delta`'s evidence) on this branch
    #[arg(long, value_name = "REV")]
    upstream: Option<String>,
    /// Print the verdicts as JSON
    #[arg(long)]
    json: bool,
    /// Show every commit's classes
    #[arg(short, long)]
    verbose: bool,
}

pub fn run(args: Args, ui: &mut Ui) -> Result<ExitCode, CommandError> {
    let PolicyCommand::Check(args) = args.command;
    let repo = Repo::discover(&super::current_dir()?)?;
    let policy = policy::load(args.policy.as_deref())?;
    let report = policy::check(
        &repo,
        &policy,
        &args.range,
        args.phase.as_deref(),
        args.upstream.as_deref(),
    )?;
    let refused = report.commits.iter().filter(|v| !v.allowed).count();
    if args.json {
        super::write_json(ui, &report)?;
    } else {
        let mut out = ui.human();
        let phase = &policy.phases[&report.phase];
        // The policy file and the commits are not the terminal's to drive.
        writeln!(
            out,
            "policy {}, phase {}: {}",
            visible_line(&report.policy),
            visible_line(&report.phase),
            visible_line(&phase.description)
        )?;
        writeln!(out)?;
        for v in &report.commits {
            writeln!(
                out,
                "{} {} {}",
                if v.allowed { "ok " } else { "NO " },
                v.commit.short(),
                visible_line(&v.summary)
            )?;
            for reason in &v.reasons {
                writeln!(out, "      {}", visible_line(&reason.to_string()))?;
            }
            if args.verbose {
                writeln!(out, "      classes: {}", visible_line(&v.classes.join(", ")))?;
            }
        }
        writeln!(out)?;
        writeln!(out, "{} allowed, {refused} refused", report.commits.len() - refused)?;
    }
    Ok(if refused > 0 { ExitCode::from(super::FINDINGS) } else { ExitCode::SUCCESS })
}
