//! `compare` names what the whole-tree options undo: the target's own changes that the
//! source has no equivalent of, checked against git.

use regraft::analysis::compare::Comparison;
use regraft::analysis::simulation::Outcome;
use regraft_testkit::Fixture;
use tempfile::TempDir;

use crate::{git, regraft, run_apart};

/// A trunk and a stable branch cut from it. On stable: a backport of a trunk fix
/// (`cherry-pick -x`), a stable-only fix trunk lacks, a fix trunk made too in a commit of
/// its own that also changed more (so no patch-id pairs them, but trunk's tree has it),
/// and a stable-only change to a line trunk changed otherwise (it cannot apply there).
fn history(dir: &std::path::Path) -> Fixture {
    let f = Fixture::init(dir);
    f.write("a.txt", "a1\na2\na3\n");
    f.write("b.txt", "b1\nb2\nb3\n");
    f.write("c.txt", "c1\nc2\nc3\n");
    f.write("d.txt", "d1\nd2\nd3\n");
    f.commit("Base");
    f.branch("stable", "HEAD");
    let fix = f.commit_file("a.txt", "a1\nA2\na3\n", "Fix a2 on trunk");
    f.write("b.txt", "b1\nB2\nb3\n");
    f.write("e.txt", "new on trunk\n");
    f.commit("Fix b2, and add e on trunk");
    f.commit_file("d.txt", "d1\nd2-trunk\nd3\n", "Rework d2 on trunk");
    f.checkout("stable");
    f.cherry_pick_x(&fix.to_string());
    f.commit_file("c.txt", "c1\nC2-stable\nc3\n", "Stable-only fix of c2");
    f.commit_file("b.txt", "b1\nB2\nb3\n", "Fix b2 on stable");
    f.commit_file("d.txt", "d1\nd2-stable\nd3\n", "Stable-only change of d2");
    f
}

/// What git does picking each of `commits` in order onto `onto` in a scratch clone:
/// `git cherry-pick` itself, aborted on a conflict.
fn git_picks(dir: &std::path::Path, onto: &str, commits: &[String]) -> Vec<Outcome> {
    let scratch = dir.parent().expect("a parent").join("scratch");
    git(dir, &["clone", "-q", "--no-checkout", ".", scratch.to_str().expect("utf-8")]);
    git(&scratch, &["checkout", "-q", "--detach", &format!("origin/{onto}")]);
    commits
        .iter()
        .map(|c| {
            let before = git(&scratch, &["rev-parse", "HEAD^{tree}"]);
            let mut git_cmd = std::process::Command::new("git");
            regraft::git::isolate_environment(&mut git_cmd);
            let picked = git_cmd
                .current_dir(&scratch)
                .args([
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@e",
                    "cherry-pick",
                    "--keep-redundant-commits",
                ])
                .arg(c)
                .output()
                .expect("git runs");
            if !picked.status.success() {
                git(&scratch, &["cherry-pick", "--abort"]);
                return Outcome::Conflict;
            }
            if git(&scratch, &["rev-parse", "HEAD^{tree}"]) == before {
                Outcome::Empty
            } else {
                Outcome::Clean
            }
        })
        .collect()
}

#[test]
fn the_target_s_own_changes_are_named_with_what_git_does_picking_them_onto_the_source() {
    let tmp = TempDir::new().expect("temp dir");
    let f = history(&tmp.path().join("repo"));
    let (code, json, err) =
        run_apart(regraft(f.path()).args(["compare", "--json", "stable", "main"]));
    assert_eq!(code, Some(0), "{err}");
    let c: Comparison = serde_json::from_str(&json).expect("JSON");
    // git: the backport pairs by patch-id (git cherry's `-`); the other three do not.
    let cherry = git(f.path(), &["cherry", "main", "stable"]);
    let unpaired: Vec<String> =
        cherry.lines().filter_map(|l| l.strip_prefix("+ ")).map(str::to_string).collect();
    assert_eq!(unpaired.len(), 3, "{cherry}");
    let own: Vec<String> = c.own_changes.iter().map(|o| o.commit.to_string()).collect();
    assert_eq!(own, unpaired, "the own changes, oldest first");
    let outcomes: Vec<Outcome> = c.own_changes.iter().map(|o| o.onto_source).collect();
    let git_says = git_picks(f.path(), "main", &unpaired);
    assert_eq!(outcomes, git_says, "as git cherry-pick does them, in order");
    assert_eq!(
        git_says,
        [Outcome::Clean, Outcome::Empty, Outcome::Conflict],
        "the history's shape"
    );
    assert_eq!(c.own_changes[2].conflicts, ["d.txt"]);
    // Those undone are the ones whose change the source's tree lacks: the whole-tree diff
    // from stable to main takes out the stable-only lines, and keeps the shared fix.
    let diff = git(f.path(), &["diff", "stable", "main"]);
    assert!(diff.contains("-C2-stable") && diff.contains("-d2-stable"), "{diff}");
    assert!(!diff.contains("-B2"), "{diff}");
    for f in c.options.iter().filter(|o| o.strategy.name() != "backport") {
        assert!(
            f.verdict.contains("2 of the branch's own changes") || f.verdict.contains("2 changes among them that the source lacks are undone (1 more are in the source's tree already)"),
            "{}: {}",
            f.strategy,
            f.verdict
        );
    }

    let (code, table, err) = run_apart(regraft(f.path()).args(["compare", "stable", "main"]));
    assert_eq!(code, Some(0), "{err}");
    let flat = table.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("note: 3 of stable's commits have no equivalent on main; megapatch, merge, recreate and reset undo 2 of them (1 already in main's tree in another form): 1 applies on main as follow-ups (replace --followup), 1 conflicts."),
        "{table}"
    );
    let lists = f.path().join("lists.md");
    let (code, md, err) = run_apart(regraft(f.path()).args([
        "compare",
        "--format",
        "markdown",
        "--lists",
        lists.to_str().expect("utf-8"),
        "stable",
        "main",
    ]));
    assert_eq!(code, Some(0), "{err}");
    let flat = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat(&md).contains("listed in `lists.md`, attached"), "names its lists: {md}");
    let lists = std::fs::read_to_string(&lists).expect("the lists are written");
    let listed = flat(
        lists
            .split("### Own changes undone (2)")
            .nth(1)
            .unwrap_or_else(|| panic!("a list of the undone changes: {lists}")),
    );
    let short = |i: usize| c.own_changes[i].commit.short();
    assert!(
        listed.contains(&format!("- `{}` Stable-only fix of c2 (applies", short(0))),
        "{listed}"
    );
    assert!(
        listed.contains(&format!(
            "- `{}` Stable-only change of d2 (conflicts on the source in d.txt)",
            short(2)
        )),
        "{listed}"
    );
    assert!(!listed.contains("Fix b2"), "the one the source has is not listed: {listed}");
}

/// The text of every event of `kind` in the Markdown, as pulldown-cmark (CommonMark with
/// GFM's tables) reads it.
fn rendered(md: &str) -> Vec<pulldown_cmark::Event<'_>> {
    pulldown_cmark::Parser::new_ext(md, pulldown_cmark::Options::ENABLE_TABLES).collect()
}

#[test]
fn the_post_defines_its_figures_and_attaches_its_lists() {
    // Regression (issue 26, item 8): the post was 250 lines, its 12-column table ~108
    // characters, its lists inside <details> (raw HTML), its figures undefined.
    use pulldown_cmark::{Event, Tag, TagEnd};
    let w = crate::replace::world(false);
    let dir = w.clone.as_path();
    let (t, s) = ("origin/stable/liberty", "origin/stable/mitaka");
    let (_, json, _) = run_apart(regraft(dir).args(["compare", "--json", t, s]));
    let c: Comparison = serde_json::from_str(&json).expect("the comparison");
    assert!(!c.conflicts.is_empty() && c.undone().count() > 0, "the scenario has both lists");
    let count = |args: &[&str]| -> usize {
        crate::git(dir, &[&["rev-list", "--count"][..], args].concat()).parse().expect("a count")
    };
    // git's own counts of what the post defines.
    let commits = count(&[&format!("{t}..{s}")]);
    let merges = count(&["--merges", &format!("{t}..{s}")]);

    let lists = dir.join("lists.md");
    let (code, md, err) = run_apart(regraft(dir).args([
        "compare",
        "--format",
        "markdown",
        "--lists",
        lists.to_str().expect("utf-8"),
        t,
        s,
    ]));
    assert_eq!(code, Some(0), "{err}");
    assert!(md.lines().count() <= 60, "{} lines:\n{md}", md.lines().count());
    for line in md.lines() {
        let cap = if line.starts_with('|') { 80 } else { 72 };
        assert!(line.chars().count() <= cap, "{line:?} is wider than {cap}:\n{md}");
    }
    // One table, rendered as a table: a head of 7 cells and a row per option.
    let events = rendered(&md);
    assert_eq!(events.iter().filter(|e| matches!(e, Event::Start(Tag::Table(_)))).count(), 1);
    let rows = events.iter().filter(|e| matches!(e, Event::Start(Tag::TableRow))).count();
    assert_eq!(rows, c.options.len(), "{md}");
    let head = events
        .iter()
        .skip_while(|e| !matches!(e, Event::Start(Tag::TableHead)))
        .take_while(|e| !matches!(e, Event::End(TagEnd::TableHead)))
        .filter(|e| matches!(e, Event::Start(Tag::TableCell)))
        .count();
    assert_eq!(head, 7, "{md}");
    assert!(
        !events.iter().any(|e| matches!(e, Event::Html(_) | Event::InlineHtml(_))),
        "no raw HTML: {md}"
    );
    // Read as plain text: the rendered words, one line per figure, each figure defined.
    let flat = md.split_whitespace().collect::<Vec<_>>().join(" ");
    let backport = c.options.iter().find(|o| o.strategy.name() == "backport").expect("backport");
    for defined in [
        format!(
            "**{commits} commits** on `{s}`, not on `{t}`: {merges} merges and **{}** source commits",
            commits - merges
        ),
        format!("**{} picks**: the source commits `{t}` lacks", backport.commits),
        format!("**{} reviews**: one per clean pick", backport.reviews),
        format!("**{} conflicts**: each pick simulated", c.conflicts.len()),
        "Open reviews on `origin/stable/liberty`: not counted".to_string(),
    ] {
        assert!(flat.contains(&defined), "{defined:?} in:\n{md}");
    }
    assert!(
        flat.contains(
            "a pick that conflicts is skipped and the later picks are simulated without it"
        ),
        "{md}"
    );
    // The lists are in the attached file, each item there, none in the post.
    assert!(flat.contains("listed in `lists.md`, attached"), "{md}");
    let attached = std::fs::read_to_string(&lists).expect("the lists file");
    for conflict in &c.conflicts {
        let id = conflict.commit.short();
        assert!(attached.contains(&format!("- `{id}`")), "{id} in the lists:\n{attached}");
        assert!(!md.contains(&id.to_string()), "{id} is not in the post:\n{md}");
    }
    for own in c.undone() {
        assert!(attached.contains(&format!("- `{}`", own.commit.short())), "{attached}");
    }
    let items = rendered(&attached).iter().filter(|e| matches!(e, Event::Start(Tag::Item))).count();
    assert_eq!(items, c.conflicts.len() + c.undone().count(), "{attached}");

    // Without --lists, the post names the counts and the command that lists them.
    let (_, md, _) = run_apart(regraft(dir).args(["compare", "--format", "markdown", t, s]));
    assert!(md.contains("--lists"), "{md}");
    assert!(!md.contains(&c.conflicts[0].commit.short().to_string()), "{md}");

    // The plain-text post: 72 columns, the same definitions, a table without pipes.
    let (_, text, _) = run_apart(regraft(dir).args(["compare", "--format", "text", t, s]));
    assert!(text.lines().all(|l| l.chars().count() <= 72), "{text}");
    // The headings' underlines are the only lines more than in Markdown.
    assert!(text.lines().count() <= 62, "{text}");
    assert!(!text.contains("**") && !text.contains('|') && !text.contains('`'), "{text}");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!("{commits} commits on {s}, not on {t}")), "{text}");
}
