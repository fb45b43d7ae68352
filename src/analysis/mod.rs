//! The analysis layer: questions answered about branches without changing them (the delta,
//! dependencies, predicted picks, backport plans, the options compared, policy verdicts, a
//! backport verified against its originals).

pub mod backport;
pub mod compare;
pub mod delta;
pub mod deps;
pub mod forecast;
pub mod history;
pub mod missed;
pub mod ownership;
pub mod policy;
pub mod simulation;
pub mod strategy;
pub mod verify;
