//! The `git-regraft` executable: everything happens in the command-line layer.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
