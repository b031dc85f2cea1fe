//! Keys fetched from the backup one by one, when an event cannot be
//! decrypted: the user sees the message without waiting for (or running) a
//! full restore. The SDK re-decrypts the timeline when the key is imported.

use crate::backup::error::BackupError;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use matrix_sdk::Client;
use matrix_sdk::SqliteCryptoStore;
use matrix_sdk::ruma::RoomId;

use super::held::HeldSessions;
use super::restore::{self, RestoreReport};
use super::trust::TrustTable;
use super::{local_key, server, version};
use crate::crypto::backup::is_symmetric_algorithm;
use crate::crypto::{BackupKey, KeyCheck};

/// The handles a fetch needs; cheap to clone.
#[derive(Clone)]
pub struct OnDemand {
    pub client: Client,
    pub crypto: SqliteCryptoStore,
    pub base: matrix_sdk_base::BaseClient,
    pub trust: TrustTable,
    pub upload_lock: Arc<tokio::sync::Mutex<()>>,
    pub held: HeldSessions,
    /// (room, session) pairs already asked for, automatically: each is
    /// fetched once per run (the user can still ask again).
    tried: Arc<Mutex<HashSet<(String, String)>>>,
}

impl OnDemand {
    pub fn new(
        client: Client,
        crypto: SqliteCryptoStore,
        base: matrix_sdk_base::BaseClient,
        trust: TrustTable,
        upload_lock: Arc<tokio::sync::Mutex<()>>,
        held: HeldSessions,
    ) -> Self {
        OnDemand {
            client,
            crypto,
            base,
            trust,
            upload_lock,
            held,
            tried: Arc::default(),
        }
    }

    /// The sessions among `session_ids` not asked for yet; marks them asked.
    pub fn untried(&self, room_id: &str, session_ids: &[String]) -> Vec<String> {
        let mut tried = self.tried.lock().unwrap_or_else(|p| p.into_inner());
        session_ids
            .iter()
            .filter(|s| tried.insert((room_id.to_owned(), (*s).clone())))
            .cloned()
            .collect()
    }

    /// Fetches these sessions of `room_id` from the current backup and
    /// imports those it holds. Without a backup key, or with a backup this
    /// key does not open, there is nothing to fetch (`Ok` with nothing).
    pub async fn fetch(
        &self,
        room_id: &RoomId,
        session_ids: &[String],
    ) -> Result<RestoreReport, BackupError> {
        if session_ids.is_empty() {
            return Ok(RestoreReport::default());
        }
        let Some(secret) = local_key::load(&self.crypto)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(RestoreReport::default());
        };
        let key = BackupKey::new(secret);
        let Some(current) = server::current(&self.client).await? else {
            return Ok(RestoreReport::default());
        };
        if !is_symmetric_algorithm(&current.algorithm)
            || version::key_check(&key, &current) == Some(KeyCheck::Mismatch)
        {
            return Ok(RestoreReport::default());
        }
        let to = restore::Target {
            client: &self.client,
            base: &self.base,
            crypto: &self.crypto,
            trust: &self.trust,
            upload_lock: &self.upload_lock,
            held: &self.held,
            current: true,
        };
        let opener = super::entry::Opener::Symmetric(key);
        let report =
            restore::restore_sessions(&to, &opener, &current.version, room_id, session_ids).await?;
        tracing::info!(
            asked = session_ids.len(),
            imported = report.imported,
            "fetched keys from the backup on demand"
        );
        Ok(report)
    }
}
