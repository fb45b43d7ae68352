//! What the benchmarks share: options, a repository to run on, alternating timed runs.

// Each benchmark is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regraft::scenario::{self, ScenarioSpec};

pub mod plot;

/// Command-line options every benchmark takes.
pub struct Options {
    pub repo: Option<PathBuf>,
    pub target: String,
    pub source: String,
    pub rounds: usize,
    pub size: usize,
}

impl Options {
    /// Reads `--repo --target --source --rounds --size` (15 rounds, 5,000 trunk changes
    /// unless given); ignores what cargo adds.
    pub fn from_args() -> Self {
        Self::from_args_with(15, 5000)
    }

    /// Like [`Options::from_args`], with this benchmark's own default rounds and size.
    pub fn from_args_with(rounds: usize, size: usize) -> Self {
        let mut o = Options {
            repo: None,
            target: scenario::TARGET.into(),
            source: scenario::SOURCE.into(),
            rounds,
            size,
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
                _ => {}
            }
        }
        o
    }

    /// Returns the repository to run on: `--repo`, or a scenario built in `tmp`.
    pub fn repository(&self, tmp: &Path) -> PathBuf {
        if let Some(dir) = &self.repo {
            return dir.clone();
        }
        let start = Instant::now();
        let s = scenario::build(&tmp.join("repo"), &ScenarioSpec::with_trunk_changes(self.size))
            .expect("the scenario builds");
        eprintln!("built a scenario with {} trunk changes in {}", self.size, ms(start.elapsed()));
        s.dir
    }
}

/// Returns a command for `program` in `dir`, blind to the user's git variables and
/// configuration (the tests' isolation), output dropped.
pub fn command(program: &str, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    regraft::git::isolate_environment(&mut cmd);
    cmd.current_dir(dir)
        .args(args)
        .env("GIT_PAGER", "cat")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

/// Runs git in `dir` and returns its standard output; a failure stops the benchmark.
pub fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = command("git", dir, args).stdout(Stdio::piped()).output().expect("git runs");
    assert!(out.status.success(), "git {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Turns the simulation cache off for one command, through git's own configuration
/// variables (which regraft's git calls see).
pub fn no_cache(cmd: &mut Command) -> &mut Command {
    cmd.env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "regraft.mergeCache")
        .env("GIT_CONFIG_VALUE_0", "false")
}

/// Runs `cmd` once and returns how long it took.
pub fn time(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let status = cmd.status().expect("the benchmarked command runs");
    assert!(status.success(), "{cmd:?} failed");
    start.elapsed()
}

/// Runs the commands alternately, `rounds` times after one warm-up each, and returns the
/// durations per command.
pub fn alternate(rounds: usize, commands: &mut [Command]) -> Vec<Vec<Duration>> {
    for cmd in commands.iter_mut() {
        time(cmd);
    }
    let mut samples = vec![Vec::new(); commands.len()];
    for _ in 0..rounds {
        for (cmd, out) in commands.iter_mut().zip(&mut samples) {
            out.push(time(cmd));
        }
    }
    samples
}

/// Runs the sides alternately `rounds` times after a warm-up of each, and returns every
/// side's samples.
pub fn alternate_sides(
    rounds: usize,
    sides: &mut [&mut dyn FnMut() -> Duration],
) -> Vec<Vec<Duration>> {
    for side in sides.iter_mut() {
        side();
    }
    let mut samples = vec![Vec::new(); sides.len()];
    for _ in 0..rounds {
        for (side, times) in sides.iter_mut().zip(&mut samples) {
            times.push(side());
        }
    }
    samples
}

/// Returns the median.
pub fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// Returns the median of the per-round ratios `a[i] / b[i]`.
pub fn median_ratio(a: &[Duration], b: &[Duration]) -> f64 {
    let mut ratios: Vec<f64> =
        a.iter().zip(b).map(|(x, y)| x.as_secs_f64() / y.as_secs_f64()).collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// Formats a duration in milliseconds.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Returns the directory where regraft keeps its state (and caches) for the repository in
/// `dir`: `regraft/` in its git directory.
pub fn state_dir(dir: &Path) -> String {
    let out = command("git", dir, &["rev-parse", "--absolute-git-dir"])
        .stdout(Stdio::piped())
        .output()
        .expect("git rev-parse runs");
    format!("{}/regraft", String::from_utf8_lossy(&out.stdout).trim())
}

/// Returns git's count of commits for `args` (`rev-list --count ...`).
pub fn count(dir: &Path, args: &[&str]) -> String {
    let out = command("git", dir, &[])
        .stdout(Stdio::piped())
        .arg("rev-list")
        .arg("--count")
        .args(args)
        .output()
        .expect("git rev-list runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Returns the peak resident memory, in MiB, of the largest process of one run of `cmd`
/// (fed `stdin` when given), as `/usr/bin/time -f %M` reports it.
///
/// Not the benchmark's own `wait4`: a child forked from the benchmark counts the
/// benchmark's pages it carried until `exec` in its peak, so every figure would be at least
/// the benchmark's size. `time` is small, and forks the measured program itself.
pub fn peak_rss_mib(cmd: &Command, stdin: Option<&Path>) -> f64 {
    let out = tempfile::NamedTempFile::new().expect("a temporary file");
    let mut timed = Command::new("/usr/bin/time");
    timed.args(["-f", "%M", "-o"]).arg(out.path()).arg(cmd.get_program()).args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    timed.stdout(Stdio::null()).stderr(Stdio::inherit());
    if let Some(path) = stdin {
        timed.stdin(std::fs::File::open(path).expect("the input opens"));
    }
    let status = timed.status().expect("/usr/bin/time runs");
    assert!(status.success(), "{timed:?} failed");
    let text = std::fs::read_to_string(out.path()).expect("time wrote its report");
    let kib: f64 =
        text.lines().last().and_then(|l| l.trim().parse().ok()).expect("a number of KiB");
    kib / 1024.0
}

/// Reads `--sizes 600,3000`: scenario sizes in trunk changes (an empty list is allowed).
pub fn sizes(value: &str) -> Vec<usize> {
    value.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().expect("a size")).collect()
}

/// Reads `--real LABEL=DIR:FIRST:SECOND` (a directory may hold `:`, the two fields after
/// it may not): the label, the directory and the two fields, as `shape` names them in the
/// message for a value without `=`.
pub fn real(value: &str, shape: &str) -> (String, PathBuf, String, String) {
    let (label, rest) = value.split_once('=').unwrap_or_else(|| panic!("--real {shape}"));
    let mut parts = rest.rsplitn(3, ':');
    let second = parts.next().unwrap_or_else(|| panic!("--real {shape}")).to_string();
    let first = parts.next().unwrap_or_else(|| panic!("--real {shape}")).to_string();
    let dir = PathBuf::from(parts.next().unwrap_or_else(|| panic!("--real {shape}")));
    (label.to_string(), dir, first, second)
}
