//! regraft: measure, plan and carry out surgery on long-lived git branches.
//!
//! This crate is the engine behind the `git-regraft` command. It never talks to a terminal:
//! commands take values and return data that the command-line layer renders.

pub mod apply;
pub mod assess;
pub mod backport;
pub mod changes;
pub mod compare;
pub mod delta;
pub mod deps;
pub mod fault;
pub mod fixture;
pub mod git;
pub mod guide;
pub mod history;
pub mod lock;
pub mod message;
pub mod names;
pub mod oid;
pub mod operation;
pub mod ownership;
pub mod patch_id;
pub mod playbook;
pub mod policy;
pub mod progress;
pub mod remote;
pub mod replace;
pub mod repo;
pub mod review;
pub mod saved_plan;
pub mod scenario;
pub mod scratch;
pub mod simulation;
pub mod state_file;
pub mod status;
pub mod sync;
mod unreadable_journal;

pub use oid::ObjectId;
