//! Creating, adopting, replacing and deleting the backup version.
//!
//! `create`/`reset`: a fresh random key; a new MSC3270 version on the server
//! whose `auth_data` {iv, mac} lets any holder of the key check it; the key
//! in secret storage (`m.megolm_backup.v1`) and on this device. The version
//! is made first and the key goes into secret storage only once it exists:
//! a failed create then leaves secret storage holding the key of the
//! version that is still current. Should storing the key fail, the new
//! (still empty) version is deleted again, so no version without its key
//! remains.

use crate::backup::error::BackupError;
use crate::error::{Advice, Step};
use matrix_sdk::encryption::secret_storage::SecretStore;
use matrix_sdk::ruma::events::secret::request::SecretName;
use matrix_sdk::{Client, SqliteCryptoStore};
use matrix_sdk_crypto::store::CryptoStore;
use serde::Serialize;

use super::state::{self, BackupState};
use super::version::{self, Fit};
use super::{local_key, server};
use crate::crypto::BackupKey;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Created {
    pub version: String,
    pub algorithm: String,
}

fn store_err(e: impl std::fmt::Display) -> BackupError {
    BackupError::store(e)
}

/// Creates the backup. Refuses when the account already has one (replacing
/// a backup is `reset`'s job).
pub async fn create(
    client: &Client,
    crypto: &SqliteCryptoStore,
    store: &SecretStore,
    algorithm: &str,
) -> Result<Created, BackupError> {
    if let Some(v) = server::current(client).await? {
        return Err(BackupError::Conflict(format!(
            "this account already has a backup (version {}, {})",
            v.version, v.algorithm
        ))
        .advised(Some(Advice::new("{} replaces it", &[Step::BackupReset]))));
    }
    new_version(client, crypto, store, algorithm).await
}

/// A new key and a new version that becomes the current one; every session
/// this device has is uploaded again. Older versions stay on the server
/// (they can be deleted with `delete`).
pub async fn reset(
    client: &Client,
    crypto: &SqliteCryptoStore,
    store: &SecretStore,
    algorithm: &str,
) -> Result<Created, BackupError> {
    new_version(client, crypto, store, algorithm).await
}

async fn new_version(
    client: &Client,
    crypto: &SqliteCryptoStore,
    store: &SecretStore,
    algorithm: &str,
) -> Result<Created, BackupError> {
    let key = BackupKey::generate().map_err(|e| e.to_string())?;
    let mut auth = serde_json::to_value(key.auth_data().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    // Signed by the master key where cross-signing exists, so other
    // clients can tell the version came from the account owner.
    if let (Some(user), Ok(Some(master))) = (
        client.user_id(),
        store.get_secret(SecretName::CrossSigningMasterKey).await,
    ) {
        let master = zeroize::Zeroizing::new(master);
        sign_auth_data(&mut auth, user.as_str(), &master)?;
    }
    let version = server::create(client, algorithm, auth).await?;
    if let Err(e) = store
        .put_secret(SecretName::RecoveryKey, &key.to_base64())
        .await
    {
        // Nothing was uploaded to it yet: take the version back rather than
        // leave a backup nobody can open.
        if let Err(d) = server::delete_version(client, &version).await {
            tracing::error!(%version, error = %d, "cannot delete a backup version whose key was not stored");
        }
        return Err(BackupError::Other(format!(
            "cannot store the backup key in secret storage: {e}; the new version {version} was withdrawn and the backup is unchanged"
        )));
    }
    local_key::save(crypto, key.secret())
        .await
        .map_err(|e| e.to_string())?;
    adopt_version(crypto, &version, algorithm).await?;
    Ok(Created {
        version,
        algorithm: algorithm.to_owned(),
    })
}

/// Adds a signature by the cross-signing master key (`seed_b64`, the
/// 32-byte ed25519 seed as secret storage keeps it) over the canonical JSON
/// of `auth_data` without `signatures`.
pub fn sign_auth_data(
    auth: &mut serde_json::Value,
    user_id: &str,
    seed_b64: &str,
) -> Result<(), BackupError> {
    use matrix_sdk::ruma::CanonicalJsonValue;
    use matrix_sdk_crypto::vodozemac::Ed25519SecretKey;
    let seed = zeroize::Zeroizing::new(
        crate::crypto::b64::decode(seed_b64.trim())
            .map_err(|_| "the master key in secret storage is not base64")?,
    );
    let seed: &[u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| "the master key in secret storage is not 32 bytes")?;
    let signing = Ed25519SecretKey::from_slice(seed);
    let obj = auth.as_object_mut().ok_or("auth_data is not an object")?;
    let mut unsigned = obj.clone();
    unsigned.remove("signatures");
    unsigned.remove("unsigned");
    let canonical = CanonicalJsonValue::try_from(serde_json::Value::Object(unsigned))
        .map_err(|e| format!("auth_data is not canonical JSON: {e}"))?
        .to_string();
    let signature = signing.sign(canonical.as_bytes());
    let key_id = format!("ed25519:{}", signing.public_key().to_base64());
    let sigs = obj
        .entry("signatures")
        .or_insert_with(|| serde_json::json!({}));
    let mine = sigs
        .as_object_mut()
        .ok_or("auth_data signatures are not an object")?
        .entry(user_id.to_owned())
        .or_insert_with(|| serde_json::json!({}));
    mine.as_object_mut()
        .ok_or("auth_data signatures are not an object")?
        .insert(key_id, serde_json::Value::String(signature.to_base64()));
    Ok(())
}

/// Makes `version` the one this device uploads to, with everything pending.
async fn adopt_version(
    crypto: &SqliteCryptoStore,
    version: &str,
    algorithm: &str,
) -> Result<(), BackupError> {
    // The store's backed-up flag is not per version: clear it first, so a
    // crash between the two steps errs on uploading again.
    crypto.reset_backup_state().await.map_err(store_err)?;
    state::save(crypto, &BackupState::uploading_to(version, algorithm)).await
}

/// Adopts the server's current version if the key this device holds is
/// its key (after another device replaced the backup, say).
pub async fn use_current(
    client: &Client,
    crypto: &SqliteCryptoStore,
) -> Result<Created, BackupError> {
    let key = local_key::load(crypto)
        .await
        .map_err(BackupError::from)?
        .map(BackupKey::new)
        .ok_or_else(|| {
            BackupError::KeyNeeded("this device does not hold the backup key".into())
                .advised(Some(Advice::new("run {} first", &[Step::RecoveryUnlock])))
        })?;
    let current = server::current(client).await?.ok_or_else(|| {
        BackupError::NoBackup("this account has no backup on the server".into())
            .advised(Some(Advice::new("{} makes one", &[Step::BackupCreate])))
    })?;
    match version::fit(&current.version, &key, Some(&current)) {
        Fit::Usable { .. } => {}
        Fit::Unusable(why) => {
            return Err(BackupError::WrongKey(format!(
                "cannot use the current backup: {why}"
            )));
        }
    }
    let st = state::load(crypto).await?;
    if st.version.as_deref() == Some(current.version.as_str()) && st.stale.is_none() {
        return Ok(Created {
            version: current.version,
            algorithm: current.algorithm,
        });
    }
    adopt_version(crypto, &current.version, &current.algorithm).await?;
    Ok(Created {
        version: current.version,
        algorithm: current.algorithm,
    })
}

/// Deletes `version` (which must be the one named, so a typo or a race with
/// another device cannot delete the wrong one) and forgets it locally.
pub async fn delete(
    client: &Client,
    crypto: &SqliteCryptoStore,
    version: &str,
) -> Result<(), BackupError> {
    server::delete_version(client, version).await?;
    let st = state::load(crypto).await?;
    if st.version.as_deref() == Some(version) {
        state::save(crypto, &BackupState::default()).await?;
        crypto.reset_backup_state().await.map_err(store_err)?;
    }
    Ok(())
}

/// After a restore: a device that uploads nowhere yet uploads to the
/// version it restored from (its new sessions belong there).
pub async fn adopt_if_unset(
    crypto: &SqliteCryptoStore,
    version: &str,
    algorithm: &str,
) -> Result<(), BackupError> {
    let st = state::load(crypto).await?;
    if st.version.is_some() {
        return Ok(());
    }
    state::save(crypto, &BackupState::uploading_to(version, algorithm)).await
}
