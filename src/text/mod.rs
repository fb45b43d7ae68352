//! The text layer: pure parsing of what git prints and commits say (messages, patches,
//! patch-ids, positions in TOML files); no processes, no repository.

pub mod changes;
pub mod message;
pub mod patch_id;
pub mod provenance;
pub mod toml_position;
pub mod visible;
