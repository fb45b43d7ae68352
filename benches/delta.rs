//! Benchmark: `git regraft delta --json` against `git cherry -v` on the same refs, run
//! alternately, printing medians and their ratio (and `git log -p` as the floor).
//!
//!   cargo bench --bench delta                      # the scenario builder's large repository
//!   cargo bench --bench delta -- --size 10000      # a larger one
//!   cargo bench --bench delta -- --repo ../kolla --target liberty-early-demise \
//!       --source f10a625a7210c39e7435b77e2cb4d89f14a6b96f --rounds 21

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regraft::scenario::{self, ScenarioSpec};

struct Options {
    repo: Option<PathBuf>,
    target: String,
    source: String,
    rounds: usize,
    size: usize,
}

fn options() -> Options {
    let mut o = Options {
        repo: None,
        target: scenario::TARGET.into(),
        source: scenario::SOURCE.into(),
        rounds: 15,
        size: 5000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--repo" => o.repo = Some(PathBuf::from(value())),
            "--target" => o.target = value(),
            "--source" => o.source = value(),
            "--rounds" => o.rounds = value().parse().expect("--rounds takes a number"),
            "--size" => o.size = value().parse().expect("--size takes a number"),
            _ => {} // cargo passes --bench; filters do not apply here.
        }
    }
    o
}

fn command(program: &str, dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PAGER", "cat")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

fn time(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let status = cmd.status().expect("the benchmarked command runs");
    assert!(status.success(), "{cmd:?} failed");
    start.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let o = options();
    let _keep;
    let dir = match &o.repo {
        Some(dir) => dir.clone(),
        None => {
            let tmp = tempfile::TempDir::new().expect("a temporary directory");
            let start = Instant::now();
            let s = scenario::build(
                &tmp.path().join("repo"),
                &ScenarioSpec::with_trunk_changes(o.size),
            )
            .expect("the scenario builds");
            eprintln!("built a scenario with {} trunk changes in {}", o.size, ms(start.elapsed()));
            _keep = tmp;
            s.dir
        }
    };
    let regraft = env!("CARGO_BIN_EXE_git-regraft");
    let range = format!("{}..{}", o.target, o.source);
    let count = Command::new("git")
        .current_dir(&dir)
        .args(["rev-list", "--count", "--no-merges", &range])
        .output()
        .expect("git rev-list runs");
    let back = format!("{}..{}", o.source, o.target);
    let count_back = Command::new("git")
        .current_dir(&dir)
        .args(["rev-list", "--count", "--no-merges", &back])
        .output()
        .expect("git rev-list runs");
    println!(
        "delta benchmark: {} changes only on {}, {} only on {}; {} rounds, alternating",
        String::from_utf8_lossy(&count.stdout).trim(),
        o.source,
        String::from_utf8_lossy(&count_back.stdout).trim(),
        o.target,
        o.rounds
    );
    let (mut ours, mut cherry, mut log, mut ratios) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // One warm-up of each so the first round does not pay for cold caches.
    time(&mut command(regraft, &dir, &["delta", "--json", &o.target, &o.source]));
    time(&mut command("git", &dir, &["cherry", "-v", &o.target, &o.source]));
    for _ in 0..o.rounds {
        let a = time(&mut command(regraft, &dir, &["delta", "--json", &o.target, &o.source]));
        let b = time(&mut command("git", &dir, &["cherry", "-v", &o.target, &o.source]));
        let c = time(&mut command("git", &dir, &["log", "-p", "--no-merges", &range]));
        ratios.push(a.as_secs_f64() / b.as_secs_f64());
        ours.push(a);
        cherry.push(b);
        log.push(c);
    }
    ratios.sort_by(f64::total_cmp);
    let (ours, cherry, log) = (median(ours), median(cherry), median(log));
    println!("  git regraft delta --json   median {}", ms(ours));
    println!("  git cherry -v              median {}", ms(cherry));
    println!(
        "  git log -p --no-merges     median {}  (one side only; the floor for reading patches)",
        ms(log)
    );
    println!(
        "  ratio delta / cherry: {:.2} (of medians), {:.2} (median of per-round ratios); target <= 2.00",
        ours.as_secs_f64() / cherry.as_secs_f64(),
        ratios[ratios.len() / 2]
    );
}
