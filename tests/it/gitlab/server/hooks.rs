//! The stand-in's hooks in its bare repository: `post-receive` records every pushed ref
//! update for the server to apply; `pre-receive` refuses what GitLab's protected branches
//! refuse (user/project/protected_branches.md), with GitLab's messages.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::Rule;

/// Where `post-receive` appends `old new ref` lines.
pub fn events_file(bare: &Path) -> PathBuf {
    bare.join("gitlab-events")
}

/// Where the server writes its protected-branch rules for `pre-receive`:
/// `name<TAB>allow_force_push<TAB>push_access_level` per line.
fn rules_file(bare: &Path) -> PathBuf {
    bare.join("gitlab-protected")
}

const PRE_RECEIVE: &str = r#"#!/bin/sh
# GitLab's protected branches, for pushes (written by the GitLab stand-in). When several
# rules match a branch, the most permissive one decides (protection_rules.md).
rules=gitlab-protected
tab=$(printf '\t')
status=0
while read -r old new ref; do
    case "$ref" in refs/heads/*) ;; *) continue ;; esac
    branch=${ref#refs/heads/}
    matched=0 force=0 push=0
    if [ -f "$rules" ]; then
        while IFS=$tab read -r pattern allow level; do
            # `*` in a rule matches any characters, `/` too, as a case pattern does.
            # shellcheck disable=SC2254
            case "$branch" in $pattern) ;; *) continue ;; esac
            matched=1
            [ "$allow" = 1 ] && force=1
            [ "$level" != 0 ] && push=1
        done <"$rules"
    fi
    [ $matched = 1 ] || continue
    case "$new" in *[!0]*) ;; *)
        echo "GitLab: You can only delete protected branches using the web interface." >&2
        status=1
        continue
        ;;
    esac
    case "$old" in *[!0]*) created=0 ;; *) created=1 ;; esac
    if [ $push = 0 ]; then
        if [ $created = 1 ]; then
            echo "GitLab: You are not allowed to create protected branches on this project." >&2
        else
            echo "GitLab: You are not allowed to push code to protected branches on this project." >&2
        fi
        status=1
    elif [ $created = 0 ] && [ $force = 0 ] && ! git merge-base --is-ancestor "$old" "$new"; then
        echo "GitLab: You are not allowed to force push code to a protected branch on this project." >&2
        status=1
    fi
done
exit $status
"#;

const POST_RECEIVE: &str =
    "#!/bin/sh\n# Tells the GitLab stand-in what was pushed.\ncat >>gitlab-events\n";

/// Installs both hooks in `bare`.
pub fn install(bare: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let hooks = bare.join("hooks");
    std::fs::create_dir_all(&hooks).expect("the hooks directory");
    for (name, script) in [("pre-receive", PRE_RECEIVE), ("post-receive", POST_RECEIVE)] {
        let path = hooks.join(name);
        std::fs::write(&path, script).expect("write a hook");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("make the hook executable");
    }
}

/// Writes the rules for `pre-receive`.
pub fn write_rules(bare: &Path, rules: &[Rule]) {
    let text: String = rules
        .iter()
        .map(|r| format!("{}\t{}\t{}\n", r.name, u8::from(r.allow_force_push), r.push_access_level))
        .collect();
    std::fs::write(rules_file(bare), text).expect("write the protected branches");
}

/// Records a ref update made by the server itself (a branch deleted through the API).
pub fn record_event(bare: &Path, old: &str, new: &str, reference: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(events_file(bare))
        .expect("open the events file");
    writeln!(file, "{old} {new} {reference}").expect("record an event");
}
