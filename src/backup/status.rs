//! Everything `backup status` shows: the server's view, this device's view,
//! and the uploader's last outcome.

use crate::backup::error::BackupError;
use matrix_sdk::{Client, SqliteCryptoStore};
use matrix_sdk_crypto::store::CryptoStore;
use serde::Serialize;

use super::health::Health;
use super::{local_key, server, state, version};
use crate::crypto::{BackupKey, KeyCheck};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupStatus {
    /// The version this device uploads to.
    pub version: Option<String>,
    pub algorithm: Option<String>,
    /// The server's current version (differs from `version` when another
    /// device replaced the backup).
    pub server_version: Option<String>,
    pub server_algorithm: Option<String>,
    pub key_present: bool,
    /// Our key against the server's current version: `null` when unchecked.
    pub key_matches: Option<bool>,
    pub local_sessions: usize,
    pub backed_up: usize,
    pub pending: usize,
    pub server_count: Option<u64>,
    pub etag: Option<String>,
    /// Milliseconds since the epoch.
    pub last_upload: Option<u64>,
    pub last_error: Option<String>,
    /// Why uploads stopped, when they did.
    pub stale: Option<String>,
    /// Why the server's current version could not be read just now.
    pub server_error: Option<String>,
    /// The server did not answer at all (rather than answering an error).
    pub server_offline: bool,
}

impl BackupStatus {
    /// The one verdict on this status (see [`Health`]).
    pub fn health(&self, upload: Option<&super::upload::Progress>) -> Health {
        Health::of(self, upload)
    }
}

pub async fn status(
    client: &Client,
    crypto: &SqliteCryptoStore,
) -> Result<BackupStatus, BackupError> {
    let st = state::load(crypto).await?;
    let key = local_key::load(crypto)
        .await
        .map_err(BackupError::store)?
        .map(BackupKey::new);
    let counts = crypto
        .inbound_group_session_counts(st.version.as_deref())
        .await
        .map_err(BackupError::store)?;
    let (current, fault) = match server::current(client).await {
        Ok(c) => (c, None),
        Err(f) => (None, Some(f)),
    };
    let key_matches = match (&key, &current) {
        (Some(k), Some(v)) => match version::key_check(k, v) {
            Some(KeyCheck::Matches) => Some(true),
            Some(KeyCheck::Mismatch) => Some(false),
            Some(KeyCheck::Unchecked) | None => None,
        },
        _ => None,
    };
    Ok(BackupStatus {
        algorithm: st.algorithm.clone(),
        server_version: current.as_ref().map(|v| v.version.clone()),
        server_algorithm: current.as_ref().map(|v| v.algorithm.clone()),
        key_present: key.is_some(),
        key_matches,
        local_sessions: counts.total,
        backed_up: counts.backed_up,
        pending: counts.total.saturating_sub(counts.backed_up),
        server_count: current.as_ref().map(|v| v.count).or(st.server_count),
        etag: current.as_ref().map(|v| v.etag.clone()).or(st.etag.clone()),
        last_upload: st.last_upload,
        last_error: st.last_error.clone(),
        stale: st.stale.clone(),
        server_error: fault.as_ref().map(ToString::to_string),
        server_offline: matches!(fault, Some(BackupError::Unreachable(_))),
        version: st.version,
    })
}
