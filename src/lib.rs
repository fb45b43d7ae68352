//! regraft: measure, plan and carry out surgery on long-lived git branches.
//!
//! This crate is the engine behind the `git-regraft` command. It never talks to a terminal:
//! commands take values and return data that the command-line layer renders.

pub mod delta;
pub mod fixture;
pub mod git;
pub mod history;
pub mod message;
pub mod oid;
pub mod patch_id;
pub mod repo;
pub mod scenario;

pub use oid::ObjectId;
