//! Name checks against git's own: `git check-ref-format` is the oracle for reference names.

use std::path::Path;

use regraft::git::names::{check_branch, check_tag, ref_format_violation};

use crate::{regraft, run};

/// Returns whether `git check-ref-format NAME` accepts the name.
fn git_accepts(dir: &std::path::Path, name: &str) -> bool {
    crate::git_at(dir, 0)
        .finished(&["check-ref-format", name], b"")
        .expect("git runs")
        .status
        .success()
}

#[test]
fn reference_rules_agree_with_git_check_ref_format() {
    let tmp = tempfile::TempDir::new().expect("a temporary directory");
    let mut names: Vec<String> = [
        "refs/heads/stable/liberty",
        "refs/heads/a b",
        "refs/heads/x.lock",
        "refs/heads/x.lock/y",
        "refs/heads/x.locked",
        "refs/heads/@",
        "@",
        "refs/tags/tag~1",
        "refs/heads/../../x",
        "refs/heads/.hidden",
        "refs/heads/a/.b",
        "refs/heads/a.",
        "refs/heads/a..b",
        "refs/heads/a//b",
        "refs/heads/a/",
        "/refs/heads/a",
        "refs/heads/a@{b",
        "refs/heads/a@b",
        "refs/heads/a^",
        "refs/heads/a:b",
        "refs/heads/a?",
        "refs/heads/a*",
        "refs/heads/a[b",
        "refs/heads/a]b",
        "refs/heads/a\\b",
        "refs/heads/a\tb",
        "refs/heads/a\u{7f}",
        "refs/heads/-x",
        "refs/heads/stable/$(touch${IFS}x)",
        "refs/heads/ünïcode",
        "refs/heads/a{b}",
        "refs/heads/a!b",
        "refs/tags/liberty-early-demise",
        "refs/heads/.",
        "refs/heads/a/..",
        "refs/heads/lock",
        "refs/heads/.lock",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // A bounded, deterministic walk over short names from the characters the rules treat
    // specially, so that rules interacting with each other are covered too.
    let alphabet = ['a', '.', '/', '@', '{', '-', 'l', 'o', 'c', 'k', ' ', '~'];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..400 {
        let mut name = String::from("refs/heads/");
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = 1 + (state % 7) as usize;
        let mut bits = state >> 3;
        for _ in 0..len {
            name.push(alphabet[(bits % alphabet.len() as u64) as usize]);
            bits /= alphabet.len() as u64;
        }
        names.push(name);
    }
    let mut disagreements = Vec::new();
    for name in &names {
        let ours = ref_format_violation(name).is_none();
        if ours != git_accepts(tmp.path(), name) {
            disagreements.push(format!("{name:?}: regraft accepts {ours}"));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn names_git_would_refuse_or_read_as_options_are_refused() {
    for bad in ["a b", "x.lock", "@", "tag~1", "../../x", "-D", "--force", "HEAD"] {
        assert!(check_branch(bad).is_err(), "branch {bad}");
        assert!(check_tag(bad).is_err(), "tag {bad}");
    }
    for good in ["stable/liberty", "liberty-eol", "driverfixes/newton", "unmaintained/2023.1"] {
        assert!(check_branch(good).is_ok(), "branch {good}");
        assert!(check_tag(good).is_ok(), "tag {good}");
    }
}

/// Returns the words of the git commands regraft traced (`REGRAFT_TRACE=1`), unquoted.
fn traced_words(output: &str) -> Vec<String> {
    output.lines().filter_map(|l| l.strip_prefix("regraft: + ")).flat_map(shell_words).collect()
}

/// Splits a line quoted as `regraft::git::quote` quotes words.
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

/// Tells whether a traced word carries `bad` as itself or as the name part of a ref.
fn carries(word: &str, bad: &str) -> bool {
    word == bad
        || word.ends_with(&format!("/{bad}"))
        || word.contains(&format!("/{bad}:"))
        || word.contains(&format!("={bad}"))
}

#[test]
fn option_like_or_invalid_names_are_refused_before_anything_is_spawned_with_them() {
    // Regression: a remote `--upload-pack=<cmd>` ran <cmd> during a dry run; `--tag=--force`
    // reached `git tag` as an option; names git refuses failed half-way with a journal.
    let w = crate::replace::world(true);
    let root = w.server.parent().expect("parent").to_path_buf();
    let pwned = root.join("PWNED");
    let payload = format!("--upload-pack=touch {}", pwned.display());
    let receive = format!("--receive-pack=touch {}", pwned.display());
    // A branch git accepts whose series would make an option-like tag.
    crate::git(&w.clone, &["push", "-q", "origin", "origin/stable/liberty:refs/heads/stable/-x"]);
    let evil = root.join("evil.toml");
    std::fs::write(
        &evil,
        format!(
            "name = \"evil\"\ndescription = \"a remote that is an option\"\n\n[[steps]]\ndo = \"eol\"\nbranch = \"stable/liberty\"\nremote = \"{payload}\"\n"
        ),
    )
    .expect("write the playbook");
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks/replace-stable-branch.toml");
    let book = book.to_str().expect("utf-8");
    let replace = ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy"];
    let mut cases: Vec<(Vec<String>, &str, &str)> = Vec::new();
    let strings = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    for execute in [false, true] {
        let tail: &[&str] = if execute { &["--execute", "--yes"] } else { &[] };
        let with = |words: &[&str]| {
            let mut v = strings(words);
            v.extend(strings(tail));
            v
        };
        let remote_arg = format!("--remote={payload}");
        cases.push((with(&[&replace[..], &["merge", &remote_arg]].concat()), &payload, "remote"));
        let remote_arg = format!("--remote={receive}");
        cases.push((with(&["eol", "stable/liberty", &remote_arg]), &receive, "remote"));
        cases.push((with(&["run", evil.to_str().expect("utf-8")]), &payload, "remote"));
        let var = format!("remote={payload}");
        cases.push((
            with(&[
                "run",
                book,
                "--var",
                "branch=stable/liberty",
                "--var",
                "source=origin/stable/mitaka",
                "--var",
                &var,
            ]),
            &payload,
            "remote",
        ));
        for tag in ["--force", "HEAD", "a b", "x.lock", "@", "tag~1", "../../x"] {
            let arg = format!("--tag={tag}");
            cases.push((with(&[&replace[..], &["recreate", &arg]].concat()), tag, "tag"));
            cases.push((with(&["eol", "stable/liberty", &arg]), tag, "tag"));
        }
        cases.push((
            with(&[&["replace", "stable/-x"], &replace[2..], &["reset"]].concat()),
            "-x-early-demise",
            "tag",
        ));
        for branch in ["a b", "x.lock", "@", "tag~1", "../../x", "HEAD"] {
            cases.push((with(&["eol", branch]), branch, "branch"));
        }
    }
    let remote_arg = format!("--remote={payload}");
    cases.push((strings(&["sync", &remote_arg]), &payload, "remote"));
    cases.push((strings(&["sync", "--", "a b"]), "a b", "branch"));
    cases.push((
        strings(&["backport", "--branch=-D", "stable/liberty", "origin/stable/mitaka"]),
        "-D",
        "branch",
    ));
    cases.push((
        strings(&["abandon", "--gerrit", "http://127.0.0.1:9", "--project", "p", "--", "a b"]),
        "a b",
        "branch",
    ));
    for (args, bad, kind) in &cases {
        let refs_before = crate::git(&w.server, &["for-each-ref"]);
        let (code, out) = run(regraft(&w.clone).env("REGRAFT_TRACE", "1").args(args));
        assert_eq!(code, Some(2), "{args:?}: {out}");
        assert!(out.contains(&format!("`{bad}`")), "{args:?} names the value: {out}");
        // Lines are wrapped to 80 columns: the words are what counts.
        let out = crate::flat(&out);
        assert!(
            out.contains(&format!("valid {kind} name")) || out.contains("not a remote"),
            "{args:?}: {out}"
        );
        let spawned: Vec<String> =
            traced_words(&out).into_iter().filter(|w| carries(w, bad)).collect();
        assert!(spawned.is_empty(), "{args:?}: git was run with {spawned:?}: {out}");
        assert!(!pwned.exists(), "{args:?} ran the payload: {out}");
        assert_eq!(crate::git(&w.server, &["for-each-ref"]), refs_before, "{args:?}");
        assert!(!w.clone.join(".git/regraft/journal.json").exists(), "{args:?} left a journal");
    }
}

#[test]
fn replace_refuses_a_shallow_clone_and_counts_commits_as_git_does() {
    // Regression: a megapatch planned in a shallow clone said "has 1 commits".
    let w = crate::replace::world(true);
    let root = w.server.parent().expect("parent");
    let shallow = root.join("shallow");
    crate::git(
        root,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            &format!("file://{}", w.server.display()),
            shallow.to_str().expect("utf-8"),
        ],
    );
    let args =
        ["replace", "stable/liberty", "--from", "origin/stable/mitaka", "--strategy", "megapatch"];
    let (code, out) = run(regraft(&shallow).args(args).args(["--execute", "--yes"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("shallow"), "{out}");
    let (code, out) = run(regraft(&shallow).args(args));
    assert_eq!(code, Some(2), "the dry run too: {out}");

    for (source, setup) in [("origin/stable/mitaka", false), ("one-more", true)] {
        if setup {
            crate::git(&w.clone, &["branch", "-f", "one-more", &w.old.to_hex()]);
            crate::git(&w.clone, &["checkout", "-q", "one-more"]);
            crate::git(&w.clone, &["commit", "-q", "--allow-empty", "-m", "One more"]);
        }
        let count: usize =
            crate::git(&w.clone, &["rev-list", "--count", &format!("{}..{source}", w.old)])
                .parse()
                .expect("a count");
        let (code, out) = run(regraft(&w.clone).args([
            "replace",
            "stable/liberty",
            "--from",
            source,
            "--strategy",
            "megapatch",
            "--json",
        ]));
        assert_eq!(code, Some(0), "{out}");
        // The message is wrapped at 72 columns: read with its line breaks as spaces.
        let said = if count == 1 {
            "which has 1 commit not on".to_string()
        } else {
            format!("which has {count} commits not on")
        };
        assert!(
            crate::flat(&out.replace("\\n", " ")).contains(&said),
            "{source}: {said:?} in {out}"
        );
    }
}
