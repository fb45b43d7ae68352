//! `forecast` onto three branches against the same three dry runs one after another (issue
//! 28), in alternating rounds on each history:
//!
//! | side | what runs |
//! |---|---|
//! | forecast | `forecast --json --stdin --source SOURCE --branch B1 --branch B2 --branch B3` |
//! | three dry runs | `backport --dry-run --json --stdin Bi` for each branch, one after another |
//! | the same answers branch by branch | for each branch, `deps --json Bi SOURCE` (the delta's evidence and what needs what), then `backport --dry-run --json --stdin Bi` fed the very picks the forecast makes there |
//!
//! The second side does less than a forecast: it picks every candidate, already there or
//! not, and nothing a candidate needs first. The third does what a forecast does, one
//! command after another. Every side runs with the simulation cache off (`regraft.mergeCache=false`), so each round
//! does the merges again. The candidates are the non-merge commits of the range, oldest
//! first, fed to every side alike. The goal: the forecast at most 0.6x the three branches
//! done one after another (its branches run in parallel on the machine's cores). Afterwards one forecast alone is
//! run under `/usr/bin/time` for its peak resident memory.
//!
//! On scenario histories the three branches are stable/liberty, stable/mitaka and a
//! stable/newton the benchmark cuts at stable/mitaka's fork; the candidates are the trunk's
//! commits since that fork.
//!
//! `--work DIR` keeps the scenarios built there for the next run.
//!
//!   cargo bench --bench forecast -- --sizes 600,13500 --rounds 5 \
//!       --real kolla=../kolla:origin/stable/2025.1..origin/master:origin/stable/2025.1,origin/stable/2025.2,origin/stable/2026.1

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use regraft::scenario::{self, ScenarioSpec};
use support::{command, git_out, median, median_ratio, ms, no_cache, peak_rss_mib, time};

struct History {
    label: String,
    dir: PathBuf,
    /// `BASE..TIP`: the candidates.
    range: String,
    branches: Vec<String>,
}

fn fed(mut cmd: Command, list: &Path) -> Command {
    cmd.stdin(Stdio::from(std::fs::File::open(list).expect("the list opens")));
    cmd
}

fn measure(h: &History, rounds: usize) {
    let exe = env!("CARGO_BIN_EXE_git-regraft");
    let dir = &h.dir;
    let list = git_out(dir, &["rev-list", "--no-merges", "--reverse", "--topo-order", &h.range]);
    let count = list.lines().count();
    let list_file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(list_file.path(), &list).expect("the candidates are written");
    let source = h.range.split_once("..").map_or(h.range.as_str(), |(_, tip)| tip).to_string();

    let forecast_command = || {
        let mut args = vec!["forecast", "--json", "--stdin", "--source", source.as_str()];
        for b in &h.branches {
            args.extend(["--branch", b.as_str()]);
        }
        let mut cmd = command(exe, dir, &args);
        no_cache(&mut cmd);
        cmd
    };
    // What the forecast simulates on each branch: the candidates not there yet, and what
    // they need, in its own pick order. Read once, before the rounds.
    let out = fed(forecast_command(), list_file.path())
        .stdout(Stdio::piped())
        .output()
        .expect("forecast runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("forecast --json");
    let mut picked_count = 0;
    let picked: Vec<tempfile::NamedTempFile> = json["branches"]
        .as_array()
        .expect("branches")
        .iter()
        .map(|branch| {
            let ids = branch["picked"].as_array().expect("picked");
            picked_count += ids.len();
            let text: String =
                ids.iter().map(|id| format!("{}\n", id.as_str().expect("an id"))).collect();
            let file = tempfile::NamedTempFile::new().expect("a temporary file");
            std::fs::write(file.path(), text).expect("the picks are written");
            file
        })
        .collect();
    assert_eq!(picked.len(), h.branches.len(), "one forecast per branch");
    // A dry run onto `branch` of the commits listed in `list`.
    let dry_run = |branch: &str, list: &Path| {
        let mut cmd = command(exe, dir, &["backport", "--dry-run", "--json", "--stdin", branch]);
        no_cache(&mut cmd);
        time(&mut fed(cmd, list))
    };

    let mut forecast = || time(&mut fed(forecast_command(), list_file.path()));
    let mut dry_runs = || {
        let mut total = Duration::ZERO;
        for b in &h.branches {
            total += dry_run(b, list_file.path());
        }
        total
    };
    // The same answers one branch at a time, as a user would get them without forecast:
    // `deps` (which computes the delta: what is there, and what needs what), then a dry run
    // of the very picks the forecast makes there.
    let mut same_work = || {
        let mut total = Duration::ZERO;
        for (b, picks) in h.branches.iter().zip(&picked) {
            let mut deps = command(exe, dir, &["deps", "--json", b, &source]);
            no_cache(&mut deps);
            total += time(&mut deps);
            total += dry_run(b, picks.path());
        }
        total
    };
    let mut sides: [&mut dyn FnMut() -> Duration; 3] =
        [&mut forecast, &mut dry_runs, &mut same_work];
    let samples = support::alternate_sides(rounds, &mut sides);
    let peak = peak_rss_mib(&forecast_command(), Some(list_file.path()));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "\n### {} ({count} candidates onto {}, {rounds} rounds)\n",
        h.label,
        h.branches.join(", ")
    );
    println!("| side | median |\n|---|---|");
    println!("| forecast, three branches | {} |", ms(median(&samples[0])));
    println!(
        "| three dry runs of every candidate, one after another | {} |",
        ms(median(&samples[1]))
    );
    println!(
        "| the same answers branch by branch: deps, then a dry run of the forecast's picks | {} |",
        ms(median(&samples[2]))
    );
    println!();
    println!(
        "- forecast / three dry runs: **{:.2}** (goal at most 0.60; {cores} cores)",
        median_ratio(&samples[0], &samples[1]),
    );
    println!(
        "- forecast / the same answers branch by branch: **{:.2}** (goal at most 0.60; {cores} cores)",
        median_ratio(&samples[0], &samples[2]),
    );
    println!("- forecast's peak resident memory: {peak:.0} MiB");
    println!(
        "- picks simulated: forecast {picked_count} (candidates not there yet, and what they need), the dry runs {}",
        count * h.branches.len()
    );
}

fn main() {
    let mut sizes = vec![600, 3000];
    let mut real = Vec::new();
    let mut rounds = 5;
    let mut work: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--sizes" => sizes = support::sizes(&value()),
            "--real" => {
                let (label, dir, range, branches) =
                    support::real(&value(), "label=dir:BASE..TIP:B1,B2,B3");
                let branches = branches.split(',').map(String::from).collect();
                real.push(History { label, dir, range, branches });
            }
            "--rounds" => rounds = value().parse().expect("a number"),
            "--work" => work = Some(PathBuf::from(value())),
            _ => {}
        }
    }
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let work = work.unwrap_or_else(|| tmp.path().to_path_buf());
    let mut histories = Vec::new();
    for size in sizes {
        let dir = work.join(format!("scenario-{size}"));
        let fork = if dir.join(".git").is_dir() {
            git_out(&dir, &["rev-parse", "stable/newton"]).trim().to_string()
        } else {
            let built =
                scenario::build(&dir, &ScenarioSpec::with_trunk_changes(size)).expect("builds");
            let fork = built.mitaka_fork.to_hex();
            git_out(&dir, &["branch", "stable/newton", &fork]);
            fork
        };
        histories.push(History {
            label: format!("scenario of {size} trunk changes"),
            dir,
            range: format!("{fork}..{}", scenario::TRUNK),
            branches: vec![
                scenario::TARGET.into(),
                scenario::SOURCE.into(),
                "stable/newton".into(),
            ],
        });
    }
    histories.extend(real);
    for h in &histories {
        measure(h, rounds);
    }
}
