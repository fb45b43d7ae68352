//! Benchmark: `git regraft compare --json` (all five options, full simulation of the
//! backport) against `git log -p --no-merges` over the same range, run alternately.
//!
//!   cargo bench --bench compare
//!   cargo bench --bench compare -- --repo ../kolla --target liberty-early-demise \
//!       --source f10a625a7210c39e7435b77e2cb4d89f14a6b96f --rounds 9

mod support;

use support::{Options, alternate, command, count, median, median_ratio, ms};

fn main() {
    let o = Options::from_args_with(9, 1500);
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let dir = o.repository(tmp.path());
    let regraft = env!("CARGO_BIN_EXE_git-regraft");
    let (t, s) = (o.target.as_str(), o.source.as_str());
    let range = format!("{t}..{s}");
    println!(
        "compare benchmark: {} changes only on {s}; {} rounds, alternating",
        count(&dir, &["--no-merges", &range]),
        o.rounds
    );
    let samples = alternate(
        o.rounds,
        &mut [
            command(regraft, &dir, &["compare", "--json", t, s]),
            command("git", &dir, &["log", "-p", "--no-merges", &range]),
        ],
    );
    let (ours, log) = (median(&samples[0]), median(&samples[1]));
    println!("  git regraft compare --json   median {}", ms(ours));
    println!("  git log -p --no-merges       median {}", ms(log));
    println!(
        "  ratio compare / git log -p: {:.2} (of medians), {:.2} (median of per-round ratios); target <= 10",
        ours.as_secs_f64() / log.as_secs_f64(),
        median_ratio(&samples[0], &samples[1])
    );
}
