//! regraft: measure, plan and carry out surgery on long-lived git branches.
//!
//! This crate is the engine behind the `git-regraft` command. It never talks to a terminal:
//! commands take values and return data that the command-line layer renders.
//!
//! The engine is layered; a module uses only its own layer and the ones below it
//! (`docs/development.md` has the map, `tests/it/layers.rs` checks it):
//! the crate root's vocabulary (`oid`, `progress`, `fault`, `state_file`, `error_origin`)
//! < [`text`] < [`git`] < [`analysis`] and [`review`] (side by side, neither using the
//! other) < [`surgery`].

pub mod analysis;
pub mod error_origin;
pub mod fault;
pub mod git;
pub mod oid;
pub mod progress;
pub mod review;
pub mod scenario;
pub mod state_file;
pub mod surgery;
pub mod text;

pub use error_origin::ErrorOrigin;
pub use oid::ObjectId;
