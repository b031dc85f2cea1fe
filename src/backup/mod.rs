//! The symmetric backup backend. So far: where this device keeps the
//! `m.megolm_backup.v1` secret once it has it (from secret storage, from a
//! verified device by gossip, or freshly made).

pub mod create;
pub mod local_key;
pub mod server;
