//! The surgery layer: what changes refs, planned as steps and carried out with a journal
//! (replace, playbooks, saved plans, the backport run, sync, status, the lock).

pub mod access;
pub mod apply;
pub mod assess;
pub mod forge_run;
pub mod guide;
pub mod lock;
pub mod operation;
pub mod oplog;
pub mod plan;
pub mod playbook;
pub mod playbook_run;
pub mod replace;
pub mod review_host;
pub mod saved_plan;
pub mod stacked;
pub mod status;
pub mod step_id;
pub mod sync;
pub mod undo;
mod unreadable_journal;
