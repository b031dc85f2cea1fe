//! Everything that talks to the homeserver through matrix-sdk.
//!
//! `account` opens a profile's client (its sqlite stores, opened with the
//! passphrase from the secret store, and a kept handle on the crypto store
//! for the backup backend) and handles login, session restore and logout.

pub mod account;
pub mod backup_jobs;
pub mod devices;
pub mod gossip;
pub mod history;
pub mod recovery;
pub mod rooms;
pub mod utd;
pub mod verify;
pub mod worker;
