//! Benchmark at scale: every analysis command against its git baseline, side by side in
//! one run, on scenario histories of several sizes and on real clones; prints a Markdown
//! table (medians, ratios, peak memory) and writes an SVG plot of time against delta size.
//!
//!   cargo bench --bench scale        # scenarios of 600, 3,000, 13,500 trunk changes: 1k, 5k, 20k commits
//!   cargo bench --bench scale -- --sizes 600,3000 \
//!       --real kolla=../kolla:liberty-early-demise:f10a625a7210c39e7435b77e2cb4d89f14a6b96f \
//!       --real nova=../nova:stein-eol:victoria-eol --rounds 3 --svg docs/scale.svg
//!
//! | work | regraft | git |
//! |---|---|---|
//! | delta | `delta --json`, patch-id cache removed first | `git cherry -v` |
//! | deps | `deps --json`, its caches removed first | `git log -p --no-merges TARGET..SOURCE` |
//! | deps-warm | `deps --json` from its caches | the same |
//! | compare | `compare --json` | `git log -p --no-merges TARGET..SOURCE` |
//! | backport | `backport --dry-run --json --stdin` | git's own cherry-pick loop |
//!
//! `--before <git-regraft>` measures an earlier build in the same rounds (before/after
//! columns); `--work <dir>` keeps the scenarios built for the next run; `--only
//! deps,backport` picks the works.
//!
//! git's pick loop takes minutes on large deltas: it runs `--loop-rounds` times (1 unless
//! given), and not at all past `--loop-limit` picks (4,000 unless given).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regraft::ObjectId;
use regraft::scenario::{self, ScenarioSpec};
use regraft_testkit::git_pick_loop;
use support::plot::{Panel, Point};
use support::{command, git_out, median, ms, peak_rss_mib, state_dir, time};

/// One history to measure.
struct History {
    label: String,
    dir: PathBuf,
    target: String,
    source: String,
}

struct Options {
    sizes: Vec<usize>,
    real: Vec<History>,
    rounds: usize,
    loop_rounds: usize,
    loop_limit: usize,
    svg: PathBuf,
    only: Vec<String>,
    /// Another regraft executable to measure in the same rounds (an earlier build).
    before: Option<String>,
    /// Where scenarios are built and kept for the next run (a temporary directory if not
    /// given).
    work: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        sizes: vec![600, 3000, 13500],
        real: Vec::new(),
        rounds: 3,
        loop_rounds: 1,
        loop_limit: 4000,
        svg: Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scale.svg"),
        only: Vec::new(),
        work: None,
        before: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--sizes" => o.sizes = support::sizes(&value()),
            "--real" => {
                let (label, dir, target, source) =
                    support::real(&value(), "label=dir:target:source");
                o.real.push(History { label, dir, target, source });
            }
            "--rounds" => o.rounds = value().parse().expect("--rounds takes a number"),
            "--loop-rounds" => o.loop_rounds = value().parse().expect("a number"),
            "--loop-limit" => o.loop_limit = value().parse().expect("a number"),
            "--svg" => o.svg = PathBuf::from(value()),
            "--only" => o.only = value().split(',').map(str::to_string).collect(),
            "--work" => o.work = Some(PathBuf::from(value())),
            "--before" => o.before = Some(value()),
            _ => {}
        }
    }
    o
}

/// Medians and peaks of one command against its git baseline on one history.
struct Row {
    work: &'static str,
    history: String,
    picks: usize,
    ours: Duration,
    /// The `--before` executable's median, when one was given.
    before: Option<Duration>,
    git: Option<Duration>,
    ours_rss: f64,
    git_rss: Option<f64>,
    rounds: (usize, usize),
}

impl Row {
    /// regraft's time against git's: a ratio, or for the pick loop the fraction of it.
    fn ratio(&self, ours: Duration) -> String {
        match self.git {
            Some(g) if self.work == "backport" => {
                format!("1/{:.1}", g.as_secs_f64() / ours.as_secs_f64())
            }
            Some(g) => format!("{:.2}", ours.as_secs_f64() / g.as_secs_f64()),
            None => "-".into(),
        }
    }

    fn markdown(&self, with_before: bool) -> String {
        let git = self.git.map_or("not run".into(), ms);
        let git_rss = self.git_rss.map_or("-".into(), |m| format!("{m:.0} MiB"));
        let before = match self.before {
            Some(b) if with_before => format!(" {} | {} |", ms(b), self.ratio(b)),
            _ if with_before => " - | - |".into(),
            _ => String::new(),
        };
        format!(
            "| {} | {} | {} |{before} {} | {} | **{}** | {:.0} MiB | {} | {}+{} |",
            self.work,
            self.history,
            self.picks,
            ms(self.ours),
            git,
            self.ratio(self.ours),
            self.ours_rss,
            git_rss,
            self.rounds.0,
            self.rounds.1
        )
    }
}

/// Runs the sides alternately (see [`support::alternate_sides`]); returns each side's
/// median.
fn alternate(rounds: usize, sides: &mut [&mut dyn FnMut() -> Duration]) -> Vec<Duration> {
    support::alternate_sides(rounds, sides).iter().map(|times| median(times)).collect()
}

fn measure(h: &History, o: &Options) -> Vec<Row> {
    let regraft = env!("CARGO_BIN_EXE_git-regraft");
    let exes: Vec<&str> = std::iter::once(regraft).chain(o.before.as_deref()).collect();
    let (t, s) = (h.target.as_str(), h.source.as_str());
    let range = format!("{t}..{s}");
    let list = git_out(&h.dir, &["rev-list", "--no-merges", "--reverse", "--topo-order", &range]);
    let commits: Vec<ObjectId> =
        list.lines().filter_map(|l| ObjectId::from_hex(l.as_bytes())).collect();
    let picks = commits.len();
    eprintln!("{}: {picks} commits to pick", h.label);
    let wanted = |work: &str| o.only.is_empty() || o.only.iter().any(|w| w == work);
    let mut rows = Vec::new();
    let dir = &h.dir;
    let r = o.rounds;
    // Each work: how regraft (the one built, then `--before`) runs, and git's side.
    // Both versions' patch-id caches, so that `--before` runs cold too.
    let state = state_dir(dir);
    let patch_ids = format!("'{state}/patch-ids-v1' '{state}/patch-ids-v2' '{state}/patch-ids-v3'");
    let deps_caches = format!(
        "'{state}/changes-v1' '{state}/line-diffs-v1' '{state}/changes-v2' '{state}/line-diffs-v2'"
    );
    let list_file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(list_file.path(), &list).expect("the pick list is written");
    let ours_cmd = |work: &str, exe: &str| -> Command {
        match work {
            // A `sh -c` wrapper only here, to remove the caches before each run.
            "delta" => {
                let cold = format!("rm -f {patch_ids} && exec '{exe}' delta --json '{t}' '{s}'");
                command("sh", dir, &["-c", &cold])
            }
            "deps" => {
                let cold = format!("rm -f {deps_caches} && exec '{exe}' deps --json '{t}' '{s}'");
                command("sh", dir, &["-c", &cold])
            }
            "deps-warm" => command(exe, dir, &["deps", "--json", t, s]),
            "backport" => {
                let input = std::fs::File::open(list_file.path()).expect("the pick list opens");
                let mut cmd = command(exe, dir, &["backport", "--dry-run", "--json", "--stdin", t]);
                cmd.stdin(Stdio::from(input));
                cmd
            }
            _ => command(exe, dir, &[work, "--json", t, s]),
        }
    };
    let git_cmd = |work: &str| -> Option<Command> {
        match work {
            "delta" => Some(command("git", dir, &["cherry", "-v", t, s])),
            "backport" => None,
            _ => Some(command("git", dir, &["log", "-p", "--no-merges", &range])),
        }
    };
    let stdin = |work: &str| (work == "backport").then(|| list_file.path());
    for work in ["delta", "deps", "deps-warm", "compare", "backport"] {
        if !wanted(work) {
            continue;
        }
        let mut sides: Vec<Box<dyn FnMut() -> Duration>> = exes
            .iter()
            .map(|exe| {
                let exe = exe.to_string();
                Box::new(move || time(&mut ours_cmd(work, &exe))) as Box<dyn FnMut() -> Duration>
            })
            .collect();
        if let Some(mut git) = git_cmd(work) {
            sides.push(Box::new(move || time(&mut git)));
        }
        let mut refs: Vec<&mut dyn FnMut() -> Duration> =
            sides.iter_mut().map(|b| &mut **b as &mut dyn FnMut() -> Duration).collect();
        let medians = alternate(r, &mut refs);
        // Peak memory from one more run of each side, alone.
        let ours_rss = peak_rss_mib(&ours_cmd(work, regraft), stdin(work));
        let run_loop = picks <= o.loop_limit && o.loop_rounds > 0;
        let (git, git_rss) = if work == "backport" {
            // git's loop runs alone after regraft's rounds: minutes where regraft takes seconds.
            let git = run_loop.then(|| {
                let loops: Vec<Duration> = (0..o.loop_rounds)
                    .map(|_| {
                        let start = Instant::now();
                        git_pick_loop(dir, t, &commits);
                        start.elapsed()
                    })
                    .collect();
                median(&loops)
            });
            (git, None)
        } else {
            let git_rss = git_cmd(work).map(|cmd| peak_rss_mib(&cmd, None));
            (Some(medians[exes.len()]), git_rss)
        };
        rows.push(Row {
            work,
            history: h.label.clone(),
            picks,
            ours: medians[0],
            before: (exes.len() > 1).then(|| medians[1]),
            git,
            ours_rss,
            git_rss,
            rounds: (
                r,
                if work == "backport" { if git.is_some() { o.loop_rounds } else { 0 } } else { r },
            ),
        });
    }
    rows
}

fn main() {
    let o = options();
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let mut histories: Vec<History> = Vec::new();
    let work = o.work.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    for size in &o.sizes {
        let start = Instant::now();
        let dir = work.join(format!("scenario-{size}"));
        if !dir.join(".git").exists() {
            scenario::build(&dir, &ScenarioSpec::with_trunk_changes(*size))
                .expect("the scenario builds");
        }
        let commits = git_out(&dir, &["rev-list", "--count", "--all"]);
        eprintln!(
            "a scenario of {size} trunk changes ({} commits) ready in {}",
            commits.trim(),
            ms(start.elapsed())
        );
        let commits: f64 = commits.trim().parse().expect("a count");
        histories.push(History {
            label: format!("scenario {:.0}k", commits / 1000.0),
            dir,
            target: scenario::TARGET.into(),
            source: scenario::SOURCE.into(),
        });
    }
    histories.extend(o.real.iter().map(|h| History {
        label: h.label.clone(),
        dir: h.dir.clone(),
        target: h.target.clone(),
        source: h.source.clone(),
    }));
    let with_before = o.before.is_some();
    let before_head = if with_before { " before | ratio before |" } else { "" };
    let before_line = if with_before { "---|---|" } else { "" };
    println!(
        "| work | history | picks |{before_head} regraft | git | ratio | regraft peak RSS | git peak RSS | rounds |"
    );
    println!("|---|---|---|{before_line}---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for h in &histories {
        for row in measure(h, &o) {
            println!("{}", row.markdown(with_before));
            rows.push(row);
        }
    }
    let panels = [
        ("delta", "delta --json (cold)", "git cherry -v"),
        ("deps", "deps --json (cold)", "git log -p"),
        ("compare", "compare --json", "git log -p"),
        ("backport", "backport --dry-run", "git's pick loop"),
    ];
    let panels: Vec<Panel> = panels
        .iter()
        .map(|(work, title, git_name)| Panel {
            title: title.to_string(),
            git_name: git_name.to_string(),
            points: rows
                .iter()
                .filter(|r| r.work == *work)
                .filter_map(|r| {
                    Some(Point {
                        label: r.history.clone(),
                        series: r.history.starts_with("scenario"),
                        size: r.picks as f64,
                        ours_ms: r.ours.as_secs_f64() * 1000.0,
                        git_ms: r.git?.as_secs_f64() * 1000.0,
                    })
                })
                .collect(),
        })
        .filter(|p| !p.points.is_empty())
        .collect();
    let caption = "Medians of alternating runs (benches/scale.rs), both axes logarithmic; filled points joined by lines: scenario histories; hollow: real clones.";
    std::fs::write(&o.svg, support::plot::svg(&panels, caption)).expect("the plot is written");
    eprintln!("wrote {}", o.svg.display());
}
