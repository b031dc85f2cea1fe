//! What this device remembers about its backup, next to its keys in the
//! crypto store (custom value, encrypted with the store passphrase): the
//! version it uploads to, and the outcome of the last upload.

use crate::backup::error::BackupError;
use matrix_sdk::SqliteCryptoStore;
use matrix_sdk_crypto::store::CryptoStore;
use serde::{Deserialize, Serialize};

const NAME: &str = "keepsake.backup.state";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupState {
    /// The version we upload to; `None` until a backup is created or adopted.
    pub version: Option<String>,
    pub algorithm: Option<String>,
    /// Why uploading stopped for good (version replaced, key mismatch...);
    /// cleared only by `use-current`, `reset` or `create`.
    pub stale: Option<String>,
    /// Milliseconds since the epoch of the last acknowledged upload.
    pub last_upload: Option<u64>,
    pub last_error: Option<String>,
    pub etag: Option<String>,
    pub server_count: Option<u64>,
}

impl BackupState {
    /// A fresh state for uploading to `version`.
    pub fn uploading_to(version: &str, algorithm: &str) -> Self {
        BackupState {
            version: Some(version.to_owned()),
            algorithm: Some(algorithm.to_owned()),
            ..BackupState::default()
        }
    }
}

fn err(e: impl std::fmt::Display) -> BackupError {
    BackupError::Store(format!("the backup state: {e}"))
}

pub async fn load(store: &SqliteCryptoStore) -> Result<BackupState, BackupError> {
    match store.get_custom_value(NAME).await.map_err(err)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(err),
        None => Ok(BackupState::default()),
    }
}

pub async fn save(store: &SqliteCryptoStore, state: &BackupState) -> Result<(), BackupError> {
    let bytes = serde_json::to_vec(state).map_err(err)?;
    store.set_custom_value(NAME, bytes).await.map_err(err)
}

/// Milliseconds since the epoch, for `last_upload`.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
