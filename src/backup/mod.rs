//! The symmetric backup backend (MSC3270, `m.megolm_backup.v1.aes-hmac-sha2`).
//!
//! - `server`: the key-backup HTTP API; `version`: may we upload to the
//!   server's current version with our key?
//! - `local_key`, `state`: this device's copy of the key and what it knows
//!   about its backup, both in the crypto store.
//! - `encode`: one session as the backup stores it.
//! - `upload`: the task that backs up every session as soon as it exists.
//! - `manage`: create, reset, use-current, delete; `status`.
//! - `restore`: download, check, import; `on_demand`: single keys for
//!   undecryptable events; `trust`: where each key came from;
//!   `key_file`: Element's encrypted key export format.
//! - `entry`: one backup entry checked (MAC first) and opened, shared by
//!   the streamed `download` and `restore`; `held`: which room each held
//!   session is filed under; `error`: [`error::BackupError`] and its kinds.

pub mod download;
pub mod encode;
pub mod entry;
pub mod error;
pub mod health;
pub mod held;
pub mod inspect;
pub mod key_file;
pub mod local_key;
pub mod manage;
pub mod on_demand;
pub mod readers;
pub mod restore;
pub mod server;
pub mod state;
pub mod status;
pub mod trust;
pub mod upload;
pub mod upload_reader;
pub mod version;
