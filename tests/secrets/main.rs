//! The secret stores against the real backends: a 0600 file, the kernel
//! keyring and a gnome-keyring Secret Service on a private D-Bus.
//!
//! Their own binary because these tests set and clear D-Bus and XDG
//! variables for the whole process; each holds [`ENV`] while it runs so that
//! no two of them see each other's environment.

// Test and benchmark code may stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Mutex, MutexGuard};

mod secrets_secret_service;
mod secrets_store;

static ENV: Mutex<()> = Mutex::new(());

/// Serialises the tests that read or change the process environment.
fn env_lock() -> MutexGuard<'static, ()> {
    // A failed test poisons the lock; the next one still runs.
    ENV.lock().unwrap_or_else(|e| e.into_inner())
}
