//! Whose an error is: the user's input (exit code 2) or a failure of git, the machine or
//! regraft (exit code 1). Every engine error says so, variant by variant.

/// Tells whether an error comes from what the user gave or the state they are in (an
/// unknown ref, a bad name, a remote that moved, an operation already in progress) rather
/// than from git, the disk, the network or a bug.
///
/// Every engine error implements it with a `match` that names each variant, so a new
/// variant is classified when it is added, not by a catch-all. The command line turns
/// any such error into its `CommandError` with one `From` impl.
pub trait ErrorOrigin {
    /// Returns `true` when the user can fix the error by changing what they asked for or
    /// the state of their repository or remote.
    fn is_user_input(&self) -> bool;
}

/// An I/O error that reaches the command line unwrapped (writing stdout, reading a file of
/// its own) is a failure of the machine; engine errors about a file the user named wrap it
/// in a variant of their own.
impl ErrorOrigin for std::io::Error {
    fn is_user_input(&self) -> bool {
        false
    }
}
