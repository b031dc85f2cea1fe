//! `backup create`: a fresh symmetric key, a new MSC3270 version on the
//! server whose `auth_data` lets any holder of the key check it, the key in
//! secret storage (`m.megolm_backup.v1`) and on this device.

use matrix_sdk::encryption::secret_storage::SecretStore;
use matrix_sdk::ruma::events::secret::request::SecretName;
use matrix_sdk::{Client, SqliteCryptoStore};
use matrix_sdk_crypto::store::CryptoStore;
use serde::Serialize;

use super::{local_key, server};
use crate::crypto::BackupKey;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Created {
    pub version: String,
    pub algorithm: String,
}

/// Creates the backup. Refuses when the account already has one (replacing
/// a backup is `backup reset`'s job, with its own confirmation).
pub async fn create(
    client: &Client,
    crypto: &SqliteCryptoStore,
    store: &SecretStore,
    algorithm: &str,
) -> Result<Created, String> {
    if let Some(v) = server::current(client).await? {
        return Err(format!(
            "this account already has a backup (version {}, {}); `keepsake backup reset` replaces it",
            v.version, v.algorithm
        ));
    }
    let key = BackupKey::generate().map_err(|e| e.to_string())?;
    let auth = serde_json::to_value(key.auth_data().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    // The key goes into secret storage first: a version whose key was lost
    // would be a backup nobody can read.
    store
        .put_secret(SecretName::RecoveryKey, &key.to_base64())
        .await
        .map_err(|e| format!("cannot store the backup key in secret storage: {e}"))?;
    local_key::save(crypto, key.secret())
        .await
        .map_err(|e| e.to_string())?;
    let version = server::create(client, algorithm, auth).await?;
    // Every session this device has is now pending for the new version.
    crypto
        .reset_backup_state()
        .await
        .map_err(|e| format!("cannot reset the local backup state: {e}"))?;
    Ok(Created {
        version,
        algorithm: algorithm.to_owned(),
    })
}
