//! `git regraft completions`: shell completion scripts.

use std::process::ExitCode;

use super::{CommandError, Ui};

/// Print a shell completion script
///
/// Writes the script for SHELL to stdout. The bash script completes both `git-regraft` and
/// `git regraft` (through git's own completion), and revisions (--from, --for, TARGET,
/// SOURCE...) from the repository's refs.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  mkdir -p ~/.local/share/bash-completion/completions
  git regraft completions bash > ~/.local/share/bash-completion/completions/git-regraft
  mkdir -p ~/.zfunc && git regraft completions zsh > ~/.zfunc/_git-regraft")]
pub struct Args {
    /// The shell to write completions for
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn run(args: Args, ui: &mut Ui, command: clap::Command) -> Result<ExitCode, CommandError> {
    use std::io::Write as _;
    let mut command = command;
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "git-regraft", &mut script);
    if args.shell == clap_complete::Shell::Bash {
        // The bash generator sets `cmd` from the executable's name with `-` as `__`
        // (`git__regraft__subcmd__replace`) but names each subcommand's case from its
        // bin name, `git regraft replace`, with spaces as `__subcmd__`
        // (`git__subcmd__regraft__subcmd__replace`): no case matched, so only subcommand
        // names completed. The cases are named as `cmd` is set.
        let text = String::from_utf8_lossy(&script)
            .replace("git__subcmd__regraft__subcmd__", "git__regraft__subcmd__");
        script = text.into_bytes();
        script.extend_from_slice(BASH_EXTRA.as_bytes());
    }
    ui.out().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// Added to the bash script: revisions complete from the repository's refs where an
/// argument names a commit or a branch (the generator offers files there), and `git
/// regraft ...` completes through git's own completion, which calls `_git_regraft`.
const BASH_EXTRA: &str = r#"
# Added by git-regraft: revisions complete from this repository's refs.
_git_regraft_refs() {
    local refs
    refs="$(git for-each-ref --format='%(refname:short)' refs/heads refs/remotes refs/tags 2>/dev/null)"
    COMPREPLY=( $(compgen -W "HEAD ${refs}" -- "$1") )
}

_git_regraft_complete() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" sub="" i=1
    while (( i < COMP_CWORD )); do
        case "${COMP_WORDS[i]}" in
            -C|--color) (( i += 2 )); continue ;;
            -*) ;;
            *) sub="${COMP_WORDS[i]}"; break ;;
        esac
        (( i += 1 ))
    done
    case "${prev}" in
        --from|--for|--followup|--upstream|--old-tip|--onto)
            _git_regraft_refs "${cur}"
            return 0
            ;;
    esac
    if [[ -n "${sub}" && ${i} -lt ${COMP_CWORD} && "${cur}" != -* && "${prev}" != -* ]]; then
        case "${sub}" in
            delta|compare|backport|deps|replace|eol|abandon)
                _git_regraft_refs "${cur}"
                return 0
                ;;
        esac
    fi
    _git__regraft "git-regraft" "${cur}" "${prev}"
}

# `git regraft ...`: git's completion calls this with its own words.
_git_regraft() {
    local i=1
    while (( i < COMP_CWORD )) && [[ "${COMP_WORDS[i]}" != regraft ]]; do (( i += 1 )); done
    local -a words=( "git-regraft" "${COMP_WORDS[@]:i+1}" )
    local COMP_CWORD=$(( COMP_CWORD - i ))
    local -a COMP_WORDS=( "${words[@]}" )
    _git_regraft_complete
}

complete -F _git_regraft_complete -o bashdefault -o default git-regraft
"#;
