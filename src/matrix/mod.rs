//! Everything that talks to the homeserver through matrix-sdk.
//!
//! `account` opens a profile's client (its sqlite stores, opened with the
//! passphrase from the secret store, and a kept handle on the crypto store
//! for the backup backend) and handles login, session restore and logout.
//! `worker` owns the client; front ends speak to it in `protocol`, and
//! `handlers` holds what it does for each command, one module per domain.

pub mod account;
pub mod activity;
pub mod alerts;
pub mod attach;
pub mod backup_jobs;
pub mod content;
pub mod devices;
pub mod formatted;
pub mod gossip;
pub mod handlers;
pub mod history;
pub mod manage;
pub mod media;
pub mod outgoing;
pub mod protocol;
pub mod recovery;
pub mod room_order;
pub mod rooms;
pub mod search;
pub mod secret;
pub mod sender_devices;
pub mod trust_cache;
pub mod trust_mark;
pub mod utd;
pub mod verify;
pub mod worker;

/// Where a background job reports to (the worker turns each report into an
/// update); `false` once nobody listens any more.
pub type Report<T> = std::sync::Arc<dyn Fn(T) -> bool + Send + Sync>;
