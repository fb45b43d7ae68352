//! Benchmark: `git regraft backport --dry-run --json` against real git's own pick loop
//! (`git cherry-pick` per commit in a worktree, skipping empty picks and aborting
//! conflicting ones) on the same commits, run alternately, printing medians and the ratio.
//!
//!   cargo bench --bench backport
//!   cargo bench --bench backport -- --repo ../kolla --target liberty-early-demise \
//!       --source f10a625a7210c39e7435b77e2cb4d89f14a6b96f --rounds 3

mod support;

use std::io::Write;
use std::process::Stdio;
use std::time::Instant;

use regraft::ObjectId;
use regraft_testkit::git_pick_loop;
use support::{Options, command, median, median_ratio, ms};

fn main() {
    let o = Options::from_args_with(3, 1500);
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let dir = o.repository(tmp.path());
    let regraft = env!("CARGO_BIN_EXE_git-regraft");
    let (t, s) = (o.target.as_str(), o.source.as_str());
    let order = support::command("git", &dir, &[])
        .stdout(std::process::Stdio::piped())
        .args(["rev-list", "--no-merges", "--reverse", "--topo-order", &format!("{t}..{s}")])
        .output()
        .expect("git rev-list runs");
    let list = String::from_utf8_lossy(&order.stdout).into_owned();
    let commits: Vec<ObjectId> =
        list.lines().filter_map(|l| ObjectId::from_hex(l.as_bytes())).collect();
    println!(
        "backport benchmark: {} picks onto {t}; {} rounds, alternating",
        commits.len(),
        o.rounds
    );
    let run_ours = || {
        let start = Instant::now();
        let mut child = command(regraft, &dir, &["backport", "--dry-run", "--json", "--stdin", t])
            .stdin(Stdio::piped())
            .spawn()
            .expect("regraft runs");
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(list.as_bytes())
            .expect("regraft reads the list");
        assert!(child.wait().expect("regraft finishes").success());
        start.elapsed()
    };
    let run_git = || {
        let start = Instant::now();
        git_pick_loop(&dir, t, &commits);
        start.elapsed()
    };
    run_ours();
    let (mut ours, mut git) = (Vec::new(), Vec::new());
    for _ in 0..o.rounds {
        ours.push(run_ours());
        git.push(run_git());
    }
    let (a, b) = (median(&ours), median(&git));
    println!("  git regraft backport --dry-run   median {}", ms(a));
    println!("  git cherry-pick loop             median {}", ms(b));
    println!(
        "  ratio git loop / dry run: {:.1} (of medians), {:.1} (median of per-round ratios); target >= 10, aim 30",
        b.as_secs_f64() / a.as_secs_f64(),
        1.0 / median_ratio(&ours, &git)
    );
}
