//! The sample's clock and its deterministic Change-Ids. The rest of the fixed environment
//! samples are built in (no user configuration, a fixed identity, UTC, C locale) is the git
//! runner's [`Environment::Sample`](crate::git::Environment::Sample).

use sha1::{Digest, Sha1};

use crate::oid::ObjectId;

/// 2015-10-15 00:00:00 UTC, Kolla's liberty release month; sample clocks start here.
pub const EPOCH: i64 = 1_444_867_200;

/// Returns a deterministic Gerrit Change-Id (`I` and 40 hex digits) made from `seed`.
pub fn change_id(seed: &str) -> String {
    let digest = Sha1::digest(seed.as_bytes());
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(&digest);
    format!("I{}", ObjectId::from_bytes(bytes).to_hex())
}
