//! Fault hooks for the kill tests: a process that aborts itself at a chosen point. They are
//! compiled into debug builds (which `cargo test` runs) and into builds with the
//! `fault-injection` feature, and are absent from release builds.

/// Aborts the process when the environment variable `var` holds `count`.
pub fn abort_when(var: &str, count: usize) {
    #[cfg(any(debug_assertions, feature = "fault-injection"))]
    if std::env::var(var).ok().and_then(|v| v.parse::<usize>().ok()) == Some(count) {
        std::process::abort();
    }
    #[cfg(not(any(debug_assertions, feature = "fault-injection")))]
    let _ = (var, count);
}
