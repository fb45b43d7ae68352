//! Benchmark: `git regraft delta --json` against `git cherry -v` on the same refs, run
//! alternately, printing medians and their ratio (and `git log -p` as the floor).
//!
//!   cargo bench --bench delta                      # the scenario builder's large repository
//!   cargo bench --bench delta -- --size 10000      # a larger one
//!   cargo bench --bench delta -- --repo ../kolla --target liberty-early-demise \
//!       --source f10a625a7210c39e7435b77e2cb4d89f14a6b96f --rounds 21

mod support;

use support::{Options, alternate, command, count, median, median_ratio, ms, state_dir};

fn main() {
    let o = Options::from_args();
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let dir = o.repository(tmp.path());
    let regraft = env!("CARGO_BIN_EXE_git-regraft");
    let (t, s) = (o.target.as_str(), o.source.as_str());
    let range = format!("{t}..{s}");
    println!(
        "delta benchmark: {} changes only on {s}, {} only on {t}; {} rounds, alternating",
        count(&dir, &["--no-merges", &range]),
        count(&dir, &["--no-merges", &format!("{s}..{t}")]),
        o.rounds
    );
    // Cold: the patch-id cache removed before every run (a `sh -c` wrapper only here, in
    // the benchmark, to chain the removal and the run).
    let cache = format!("{}/patch-ids-v3", state_dir(&dir));
    let cold = format!("rm -f '{cache}' && exec '{regraft}' delta --json '{t}' '{s}'");
    let samples = alternate(
        o.rounds,
        &mut [
            command("sh", &dir, &["-c", &cold]),
            command("git", &dir, &["cherry", "-v", t, s]),
            command("git", &dir, &["log", "-p", "--no-merges", &range]),
            command(regraft, &dir, &["delta", "--json", t, s]),
        ],
    );
    let (ours, cherry, log) = (median(&samples[0]), median(&samples[1]), median(&samples[2]));
    let warm = median(&samples[3]);
    println!("  git regraft delta --json   median {}  (cold: no patch-id cache)", ms(ours));
    println!("  git regraft delta --json   median {}  (warm: patch-ids cached)", ms(warm));
    println!("  git cherry -v              median {}", ms(cherry));
    println!(
        "  git log -p --no-merges     median {}  (SOURCE side only; the floor for reading patches)",
        ms(log)
    );
    println!(
        "  ratio delta / cherry: cold {:.2} (of medians), {:.2} (median of per-round ratios); warm {:.2}; target <= 2.00",
        ours.as_secs_f64() / cherry.as_secs_f64(),
        median_ratio(&samples[0], &samples[1]),
        warm.as_secs_f64() / cherry.as_secs_f64()
    );
}
