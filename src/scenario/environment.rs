//! The fixed environment sample repositories are built in: no user configuration, a fixed
//! identity and clock, UTC, C locale; and deterministic Change-Ids.

use std::path::Path;
use std::process::Command;

use sha1::{Digest, Sha1};

use crate::oid::ObjectId;

/// 2015-10-15 00:00:00 UTC, Kolla's liberty release month; sample clocks start here.
pub const EPOCH: i64 = 1_444_867_200;

/// Returns a `git` command with the fixed environment every sample uses: no system or
/// global configuration, a fixed identity and date, UTC, no editor, no pager, C locale.
pub fn git_command(dir: &Path, date: i64) -> Command {
    let mut command = Command::new(crate::git::program());
    let stamp = format!("{date} +0000");
    command
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env("GIT_EDITOR", ":")
        .env("GIT_PAGER", "cat")
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.org")
        .env("GIT_COMMITTER_NAME", "Cy Committer")
        .env("GIT_COMMITTER_EMAIL", "cy@example.org")
        .env("GIT_AUTHOR_DATE", &stamp)
        .env("GIT_COMMITTER_DATE", &stamp);
    command
}

/// Returns a deterministic Gerrit Change-Id (`I` and 40 hex digits) made from `seed`.
pub fn change_id(seed: &str) -> String {
    let digest = Sha1::digest(seed.as_bytes());
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(&digest);
    format!("I{}", ObjectId::from_bytes(bytes).to_hex())
}
