//! A history of cherry-pick edge cases for the simulation's tests: renames, a directory
//! renamed, files replacing directories and back, modes, symlinks, submodules, empty picks.

use std::path::Path;

use regraft::ObjectId;
use regraft_testkit::Fixture;

/// A sample gitlink target (submodule commits need not exist in the superproject).
const SUBMODULE_A: &str = "1111111111111111111111111111111111111111";
const SUBMODULE_B: &str = "2222222222222222222222222222222222222222";

fn text(tag: &str) -> String {
    (0..30).map(|i| format!("{tag} line {i}\n")).collect()
}

fn set_gitlink(f: &Fixture, path: &str, target: &str) {
    std::fs::create_dir_all(f.path().join(path)).expect("the submodule's empty directory");
    f.git(&["update-index", "--add", "--cacheinfo", &format!("160000,{target},{path}")]);
}

fn commit_index(f: &Fixture, message: &str) -> ObjectId {
    f.git(&["commit", "-q", "--allow-empty", "-m", message]);
    f.rev("HEAD")
}

/// A history of edge cases: `main` has the picks (one commit each, from the base),
/// `stable` the tip side's changes one commit at a time.
pub struct EdgeHistory {
    pub fixture: Fixture,
    /// The commits to pick, oldest first, each on top of the one before.
    pub picks: Vec<ObjectId>,
    /// The base and every commit of `stable`, oldest first.
    pub tips: Vec<ObjectId>,
}

/// Builds [`EdgeHistory`] in `dir`.
pub fn edge_history(dir: &Path) -> EdgeHistory {
    let f = Fixture::init(dir);
    for name in ["one", "two", "three"] {
        f.write(&format!("dir/{name}.txt"), text(name));
    }
    f.write("a/inner.txt", text("inner"));
    f.write("file.txt", text("file"));
    f.write("f", text("f"));
    f.write("script.sh", "#!/bin/sh\necho hi\n");
    f.symlink("link", "file.txt");
    f.write("keep/k.txt", text("keep"));
    f.write("other.txt", text("other"));
    f.write("deleteme.txt", text("deleteme"));
    f.write("both.txt", text("both"));
    // Sorts before `dir/` in a tree, after `dir` as a plain name.
    f.write("dir.txt", text("dir.txt"));
    f.git(&["add", "-A"]);
    set_gitlink(&f, "sub", SUBMODULE_A);
    let base = commit_index(&f, "Base");
    f.branch("stable", "main");

    // The picks, on main.
    let mut picks = Vec::new();
    let mut pick = |f: &Fixture, message: &str, edit: &dyn Fn(&Fixture)| {
        edit(f);
        f.git(&["add", "-A"]);
        picks.push(commit_index(f, message));
    };
    pick(&f, "Add to dir (renamed on stable)", &|f| f.write("dir/four.txt", text("four")));
    pick(&f, "Edit a file of dir", &|f| {
        f.write("dir/one.txt", text("one").replace("one line 5\n", "changed 5\n"))
    });
    pick(&f, "Add to a/ (a file on stable)", &|f| f.write("a/new.txt", text("new")));
    pick(&f, "Edit f (a directory on stable)", &|f| {
        f.write("f", text("f").replace("f line 9\n", "changed 9\n"))
    });
    pick(&f, "Edit other.txt (renamed on stable)", &|f| {
        f.write("other.txt", text("other").replace("other line 20\n", "changed 20\n"))
    });
    pick(&f, "Edit file.txt far from stable's edit", &|f| {
        f.write("file.txt", text("file").replace("file line 25\n", "changed 25\n"))
    });
    pick(&f, "Make script.sh executable", &|f| {
        f.git(&["update-index", "--chmod=+x", "script.sh"]);
    });
    pick(&f, "Point the link elsewhere", &|f| f.symlink("link", "other.txt"));
    pick(&f, "Move the submodule", &|f| set_gitlink(f, "sub", SUBMODULE_B));
    pick(&f, "Nothing at all", &|_| {});
    pick(&f, "Edit dir.txt", &|f| f.write("dir.txt", text("dir.txt").replace("line 7", "seven")));
    pick(&f, "Add to keep/ (deleted on stable)", &|f| f.write("keep/new.txt", text("kept")));
    pick(&f, "Add a top-level file", &|f| f.write("brand-new.txt", text("brand")));
    pick(&f, "Add a new directory", &|f| f.write("newdir/sub/file.txt", text("deep")));
    pick(&f, "Add to moved/ (new on stable)", &|f| f.write("moved/extra.txt", text("extra")));
    pick(&f, "Delete a file", &|f| f.remove("deleteme.txt"));
    pick(&f, "Replace script.sh by a symlink", &|f| f.symlink("script.sh", "file.txt"));
    pick(&f, "Edit both.txt as stable does", &|f| {
        f.write("both.txt", text("both").replace("both line 3\n", "same 3\n"))
    });
    pick(&f, "Replace file f by a directory", &|f| {
        f.remove("f");
        f.write("f/inside.txt", text("inside"));
    });
    pick(&f, "Replace directory a/ by a file", &|f| {
        f.git(&["rm", "-q", "-r", "a"]);
        f.write("a", text("a as a file"));
    });
    pick(&f, "Delete all of dir/", &|f| {
        f.git(&["rm", "-q", "-r", "dir"]);
    });
    pick(&f, "Rename keep/ to kept/", &|f| {
        f.rename("keep", "kept");
    });

    // The tip side, on stable.
    f.checkout("stable");
    let mut tips = vec![base];
    let mut tip = |f: &Fixture, message: &str, edit: &dyn Fn(&Fixture)| {
        edit(f);
        f.git(&["add", "-A"]);
        tips.push(commit_index(f, message));
    };
    tip(&f, "Rename dir/ to moved/", &|f| f.rename("dir", "moved"));
    tip(&f, "Replace directory a/ by a file", &|f| {
        f.git(&["rm", "-q", "-r", "a"]);
        f.write("a", text("stable's a"));
    });
    tip(&f, "Replace file f by a directory", &|f| {
        f.remove("f");
        f.write("f/x.txt", text("x"));
    });
    tip(&f, "Rename other.txt", &|f| f.rename("other.txt", "other-renamed.txt"));
    tip(&f, "Edit file.txt", &|f| {
        f.write("file.txt", text("file").replace("file line 1\n", "stable 1\n"))
    });
    tip(&f, "Delete keep/", &|f| {
        f.git(&["rm", "-q", "-r", "keep"]);
    });
    tip(&f, "Edit both.txt", &|f| {
        f.write("both.txt", text("both").replace("both line 3\n", "same 3\n"))
    });
    tip(&f, "Add a file where main adds a directory", &|f| {
        f.write("newdir", "a file, not a directory\n")
    });
    EdgeHistory { fixture: f, picks, tips }
}
