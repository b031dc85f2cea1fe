//! The integration tests, one binary so that matrix-sdk is linked once.
//!
//! Most of them run the real `keepsake` binary or the library against the
//! Synapse that `scripts/test` starts on 127.0.0.1. Two kinds live in their
//! own binaries because they change the whole process: `zeroize` (a global
//! allocator) and `secrets` (D-Bus and keyring environment variables).

// Test and benchmark code may stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod backup_faults;
mod bench_chart;
mod cli_account;
mod cli_backup;
mod cli_config;
mod cli_content;
mod cli_keys;
mod cli_password_prompt;
mod cli_recovery;
mod cli_restore;
mod cli_rooms;
mod cli_stress;
mod cli_verify;
mod compose;
mod config;
mod config_tui;
mod crypto_props;
mod crypto_vectors;
mod curve_migrate;
mod fuzz_corpora;
mod gossip_refusal;
mod homeserver_harness;
mod restore_resume;
mod screenshots;
mod tui_e2e;
mod worker;
mod worker_relations;
