//! Benchmark: `git regraft deps --json`, cold (its caches removed first) and warm, against
//! `git log -p --no-merges` (the floor: reading every patch of the delta once), run
//! alternately, printing medians, their ratio and the peak memory of a cold deps run (by
//! `/usr/bin/time`).
//!
//!   cargo bench --bench deps
//!   cargo bench --bench deps -- --repo ../kolla --target liberty-early-demise \
//!       --source f10a625a7210c39e7435b77e2cb4d89f14a6b96f --rounds 21

mod support;

use support::{
    Options, alternate, command, count, median, median_ratio, ms, peak_rss_mib, state_dir,
};

fn main() {
    let o = Options::from_args();
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let dir = o.repository(tmp.path());
    let regraft = env!("CARGO_BIN_EXE_git-regraft");
    let (t, s) = (o.target.as_str(), o.source.as_str());
    let range = format!("{t}..{s}");
    println!(
        "deps benchmark: {} commits only on {s} ({} changes); {} rounds, alternating",
        count(&dir, &[&range]),
        count(&dir, &["--no-merges", &range]),
        o.rounds
    );
    // Cold: deps' caches removed before every run (a `sh -c` wrapper only here, in the
    // benchmark, to chain the removal and the run); warm: from them.
    let state = state_dir(&dir);
    let cold = format!(
        "rm -f '{state}/changes-v1' '{state}/line-diffs-v1' '{state}/changes-v2' '{state}/line-diffs-v2' && exec '{regraft}' deps --json '{t}' '{s}'"
    );
    // First, alone, under /usr/bin/time: the largest of deps and the git processes it runs.
    let peak = peak_rss_mib(&command("sh", &dir, &["-c", &cold]), None);
    let samples = alternate(
        o.rounds,
        &mut [
            command("sh", &dir, &["-c", &cold]),
            command("git", &dir, &["log", "-p", "--no-merges", &range]),
            command(regraft, &dir, &["deps", "--json", t, s]),
        ],
    );
    let (ours, log, warm) = (median(&samples[0]), median(&samples[1]), median(&samples[2]));
    println!("  git regraft deps --json    median {} (cold)", ms(ours));
    println!("  git regraft deps --json    median {} (warm: from its caches)", ms(warm));
    println!("  git log -p --no-merges     median {}", ms(log));
    println!(
        "  ratio deps / git log -p: {:.2} cold (of medians), {:.2} (median of per-round ratios); {:.2} warm",
        ours.as_secs_f64() / log.as_secs_f64(),
        median_ratio(&samples[0], &samples[1]),
        warm.as_secs_f64() / log.as_secs_f64()
    );
    println!(
        "  peak RSS of deps and its git processes (largest one): {peak:.1} MiB; target < 200 MiB"
    );
}
