//! The pick prediction against git's own merge engine, and the simulation cache (issue 28),
//! in one run: for each history, alternating rounds of
//!
//! | side | what runs |
//! |---|---|
//! | merge-tree | `git merge-tree --write-tree --stdin` fed the very merges the dry run asks (each pick's parent, the tree so far, the pick), into a scratch object directory |
//! | merge-tree, one merge at a time | the same merges, each answer read before the next merge is written (as a chain of picks must be asked), under `stdbuf -o0` |
//! | merge-tree as a chain | the same picks, each merge's "ours" the previous answer, so git writes every tree it makes (into an empty scratch directory where regraft's go, `core.looseCompression=0` as regraft asks): git's share of a dry run |
//! | dry run, no cache | `backport --dry-run --json --stdin TARGET` with `regraft.mergeCache=false` |
//! | dry run, cold | the same with the cache on, its files removed first |
//! | dry run, warm | the same from the cache the cold run left |
//! | compare, no cache / cold / warm | `compare --json TARGET SOURCE`, off, with its files removed first, and from the cache the cold run left |
//!
//! and prints medians and the ratios the issue sets: no cache / merge-tree (at most 1.10),
//! warm / no cache for the dry run and compare (at most 0.10). git's own pick loop runs once
//! per history with `--loop` (at most 4,000 picks).
//!
//!   cargo bench --bench simulation -- --sizes 600,3000 \
//!       --real kolla=../kolla:liberty-early-demise:f10a625a7210c39e7435b77e2cb4d89f14a6b96f \
//!       --rounds 5 --loop
//!
//! `--work DIR` keeps the scenarios built there for the next run (the forecast bench's
//! scenarios in the same DIR serve too).

mod support;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regraft::ObjectId;
use regraft::analysis::simulation::{self, ToPick};
use regraft::progress::Silent;
use regraft::scenario::{self, ScenarioSpec};
use support::{command, git_out, median, median_ratio, ms, no_cache, state_dir, time};

/// Every merge-tree side runs as regraft runs it, without looking up each object id as a
/// ref name too (which git does only to warn when one is also a branch name).
const NO_WARN: [&str; 2] = ["-c", "core.warnAmbiguousRefs=false"];

/// One timed side of a round.
type Side<'a> = Box<dyn FnMut() -> Duration + 'a>;

struct History {
    label: String,
    dir: PathBuf,
    target: String,
    source: String,
}

fn measure(h: &History, rounds: usize, with_loop: bool) {
    let exe = env!("CARGO_BIN_EXE_git-regraft");
    let (dir, t, s) = (&h.dir, h.target.as_str(), h.source.as_str());
    let range = format!("{t}..{s}");
    let list = git_out(dir, &["rev-list", "--no-merges", "--reverse", "--topo-order", &range]);
    let commits: Vec<ObjectId> =
        list.lines().filter_map(|l| ObjectId::from_hex(l.as_bytes())).collect();
    let list_file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(list_file.path(), &list).expect("the pick list is written");

    // The merges the dry run asks, from one simulation: its trees are kept in the cache's
    // object directory, a copy of which the merge-tree side reads as an alternate.
    let state = PathBuf::from(state_dir(dir));
    let mut repo = regraft::git::repo::Repo::discover(dir).expect("a repository");
    repo.isolate_git_config();
    let picks: Vec<ToPick> = commits
        .iter()
        .map(|c| ToPick {
            commit: *c,
            parent: repo.commit_info(*c).ok().and_then(|i| i.parents.first().copied()),
        })
        .collect();
    let onto = repo.resolve_commit(t).expect("TARGET");
    let sim = simulation::simulate(&repo, onto, &picks, &Silent).expect("simulates");
    let mut ours = repo.tree_of(onto).expect("a tree");
    let mut lines = String::new();
    for (pick, result) in picks.iter().zip(&sim.picks) {
        let parent = pick.parent.expect("no root commit");
        lines.push_str(&format!("{parent} -- {ours} {}\n", pick.commit));
        ours = result.tree;
    }
    let objects = PathBuf::from(git_out(dir, &["rev-parse", "--git-path", "objects"]).trim());
    let objects = if objects.is_absolute() { objects } else { dir.join(objects) };
    // A copy of the trees the simulation made, for the merge-tree side alone: the cold
    // sides below remove the cache, and with it these trees.
    let trees = tempfile::TempDir::new().expect("a temporary directory");
    let copied = Command::new("cp")
        .arg("-R")
        .arg(state.join("merge-objects"))
        .arg(trees.path().join("objects"))
        .status()
        .expect("cp runs");
    assert!(copied.success(), "the simulation's trees are copied");
    let alternates = format!("{}:{}", objects.display(), trees.path().join("objects").display());
    let merge_tree = || {
        let scratch = tempfile::TempDir::new().expect("a scratch directory");
        let mut cmd =
            command("git", dir, &[NO_WARN[0], NO_WARN[1], "merge-tree", "--write-tree", "--stdin"]);
        cmd.env("GIT_OBJECT_DIRECTORY", scratch.path())
            .env("GIT_ALTERNATE_OBJECT_DIRECTORIES", &alternates)
            .stdin(Stdio::piped());
        let start = Instant::now();
        let mut child = cmd.spawn().expect("git merge-tree starts");
        child.stdin.take().expect("piped").write_all(lines.as_bytes()).expect("fed");
        let status = child.wait().expect("git merge-tree ends");
        let took = start.elapsed();
        // Exit 1: some merge conflicted.
        assert!(matches!(status.code(), Some(0 | 1)), "git merge-tree failed: {status}");
        took
    };
    // The same merges asked one at a time, each answer read before the next is written,
    // as a chain of picks must (pick k+1's "ours" is pick k's answer): the conversation's
    // own cost, on the same trees, under `stdbuf -o0` as regraft runs it.
    let requests: Vec<&str> = lines.lines().collect();
    let one_at_a_time = || {
        let scratch = tempfile::TempDir::new().expect("a scratch directory");
        let args = [
            NO_WARN[0],
            NO_WARN[1],
            "merge-tree",
            "--write-tree",
            "--name-only",
            "-z",
            "--no-messages",
        ];
        let mut next = requests.iter();
        let (took, _) = converse(dir, &args, scratch.path(), alternates.as_ref(), |_| {
            next.next().map(|line| line.to_string())
        });
        took
    };
    // The same picks driven as a chain, the way a dry run must: each merge's "ours" is the
    // previous answer, so git writes every tree and merged blob it makes, into an empty
    // scratch object directory in the same place regraft's go and with regraft's very
    // arguments. No regraft code runs on this side: it is git's cost of the dry run's merges.
    let onto_tree = repo.tree_of(onto).expect("a tree");
    let merges: Vec<(ObjectId, ObjectId)> =
        picks.iter().map(|p| (p.parent.expect("no root commit"), p.commit)).collect();
    let chain = || {
        let scratch = tempfile::TempDir::new_in(regraft::git::scratch::parent())
            .expect("a scratch directory");
        let args = regraft::git::reads::MergeObjects::Scratch.args();
        let mut ours = onto_tree;
        let mut next = merges.iter();
        let (took, last) = converse(dir, args, scratch.path(), objects.as_os_str(), |answer| {
            if let Some((true, tree)) = answer {
                ours = tree;
            }
            next.next().map(|(parent, commit)| format!("{parent} -- {ours} {commit}"))
        });
        assert_eq!(last, sim.final_tree, "the chain ends where the simulation did");
        took
    };
    let dry_run = |cached: bool, cold: bool| {
        let mut cmd = command(exe, dir, &["backport", "--dry-run", "--json", "--stdin", t]);
        cmd.stdin(Stdio::from(std::fs::File::open(list_file.path()).expect("the list opens")));
        if !cached {
            no_cache(&mut cmd);
        }
        if cold {
            regraft::analysis::history::MergeCache::remove(&state);
        }
        time(&mut cmd)
    };
    let compare = |cached: bool, cold: bool| {
        let mut cmd = command(exe, dir, &["compare", "--json", t, s]);
        if !cached {
            no_cache(&mut cmd);
        }
        if cold {
            regraft::analysis::history::MergeCache::remove(&state);
        }
        time(&mut cmd)
    };
    // Each warm side runs right after its cold side, in every round: the dry run's merges
    // are not all compare's (compare picks only what is not on the target yet, and
    // simulates more), so a compare after the dry run's cold run is not warm.
    let mut sides: [(&str, Side); 9] = [
        ("git merge-tree --stdin", Box::new(merge_tree)),
        ("git merge-tree --stdin, one merge at a time", Box::new(one_at_a_time)),
        ("git merge-tree --stdin, as a chain writing its trees", Box::new(chain)),
        ("dry run, no cache", Box::new(|| dry_run(false, false))),
        ("dry run, cold cache", Box::new(|| dry_run(true, true))),
        ("dry run, warm cache", Box::new(|| dry_run(true, false))),
        ("compare, no cache", Box::new(|| compare(false, false))),
        ("compare, cold cache", Box::new(|| compare(true, true))),
        ("compare, warm cache", Box::new(|| compare(true, false))),
    ];
    let mut refs: Vec<&mut dyn FnMut() -> Duration> =
        sides.iter_mut().map(|(_, f)| &mut **f as &mut dyn FnMut() -> Duration).collect();
    let samples = support::alternate_sides(rounds, &mut refs);
    println!("\n### {} ({} picks, {rounds} rounds)\n", h.label, commits.len());
    println!("| side | median |\n|---|---|");
    for ((name, _), times) in sides.iter().zip(&samples) {
        println!("| {name} | {} |", ms(median(times)));
    }
    let ratio = |a: usize, b: usize| median_ratio(&samples[a], &samples[b]);
    println!();
    println!(
        "- dry run without the cache / merge-tree: **{:.2}** (goal at most 1.10)",
        ratio(3, 0)
    );
    println!(
        "- dry run without the cache / merge-tree one merge at a time: **{:.2}**",
        ratio(3, 1)
    );
    println!(
        "- dry run without the cache / merge-tree as a chain writing its trees: **{:.2}**",
        ratio(3, 2)
    );
    println!("- merge-tree as a chain / merge-tree: **{:.2}**", ratio(2, 0));
    println!("- dry run with a cold cache / merge-tree: **{:.2}**", ratio(4, 0));
    println!("- dry run warm / without the cache: **{:.3}** (goal at most 0.10)", ratio(5, 3));
    println!("- compare warm / without the cache: **{:.3}** (goal at most 0.10)", ratio(8, 6));
    if with_loop && commits.len() <= 4000 {
        let start = Instant::now();
        regraft_testkit::git_pick_loop(dir, t, &commits);
        let git_loop = start.elapsed();
        let ours = median(&samples[3]);
        println!(
            "- git's pick loop: {}; the dry run without the cache is **1/{:.1}** of it (goal at most 1/10)",
            ms(git_loop),
            git_loop.as_secs_f64() / ours.as_secs_f64()
        );
    }
}

/// Runs `stdbuf -o0 git ARGS --stdin` in `dir` (ARGS asking for `-z --no-messages`), writing into `scratch` and
/// reading `alternates` too, and asks it one merge at a time: `next` is given the last
/// answer (clean, tree) and returns the next request, `None` to end. Returns how long the
/// conversation took and the tree the last clean answer gave.
fn converse(
    dir: &std::path::Path,
    args: &[&str],
    scratch: &std::path::Path,
    alternates: &std::ffi::OsStr,
    mut next: impl FnMut(Option<(bool, ObjectId)>) -> Option<String>,
) -> (Duration, ObjectId) {
    let mut cmd = command("stdbuf", dir, &["-o0", "git"]);
    cmd.args(args)
        .arg("--stdin")
        .env("GIT_OBJECT_DIRECTORY", scratch)
        .env("GIT_ALTERNATE_OBJECT_DIRECTORIES", alternates)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("git merge-tree starts");
    let mut input = child.stdin.take().expect("piped");
    let mut output = std::io::BufReader::new(child.stdout.take().expect("piped"));
    let mut field = Vec::new();
    let mut read_field = |field: &mut Vec<u8>| {
        field.clear();
        let n = std::io::BufRead::read_until(&mut output, 0, field).expect("an answer");
        assert!(n > 0, "git merge-tree ended early");
        field.pop();
    };
    let mut answer = None;
    let mut last = None;
    while let Some(request) = next(answer) {
        writeln!(input, "{request}").expect("fed");
        input.flush().expect("fed");
        // `CLEAN\0TREE\0`, the conflicted files' names, and an empty field.
        read_field(&mut field);
        let clean = field == b"1";
        read_field(&mut field);
        let tree = ObjectId::from_hex(&field).expect("a tree");
        loop {
            read_field(&mut field);
            if field.is_empty() {
                break;
            }
        }
        answer = Some((clean, tree));
        if clean {
            last = Some(tree);
        }
    }
    drop(input);
    let status = child.wait().expect("git merge-tree ends");
    let took = start.elapsed();
    // Exit 1 would mean a merge failed outright (conflicts do not change the status here).
    assert!(status.success(), "git merge-tree failed: {status}");
    (took, last.expect("some pick applies"))
}

fn main() {
    let mut sizes = vec![600, 3000];
    let mut real = Vec::new();
    let mut rounds = 5;
    let mut with_loop = false;
    let mut work: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--sizes" => sizes = support::sizes(&value()),
            "--real" => {
                let (label, dir, target, source) =
                    support::real(&value(), "label=dir:target:source");
                real.push(History { label, dir, target, source });
            }
            "--rounds" => rounds = value().parse().expect("a number"),
            "--loop" => with_loop = true,
            "--work" => work = Some(PathBuf::from(value())),
            _ => {}
        }
    }
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let work = work.unwrap_or_else(|| tmp.path().to_path_buf());
    let mut histories = Vec::new();
    for size in sizes {
        let dir = work.join(format!("scenario-{size}"));
        if !dir.join(".git").is_dir() {
            scenario::build(&dir, &ScenarioSpec::with_trunk_changes(size)).expect("builds");
        }
        histories.push(History {
            label: format!("scenario of {size} trunk changes"),
            dir,
            target: scenario::TARGET.into(),
            source: scenario::SOURCE.into(),
        });
    }
    histories.extend(real);
    for h in &histories {
        measure(h, rounds, with_loop);
    }
}
