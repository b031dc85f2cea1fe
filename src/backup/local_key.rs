//! This device's copy of the `m.megolm_backup.v1` secret (32 bytes), kept in
//! the crypto store's custom values: they are encrypted with the store
//! passphrase, live and die with this device's keys, and never touch a
//! plaintext file.

use matrix_sdk::SqliteCryptoStore;
use matrix_sdk_crypto::store::CryptoStore;
use zeroize::Zeroizing;

use crate::crypto::SecretKey;

const NAME: &str = "keepsake.backup.key";

#[derive(Debug, thiserror::Error)]
pub enum LocalKeyError {
    #[error("cannot read or write the local store: {0}")]
    Store(String),
    #[error("the backup key held on this device is damaged (not 32 bytes)")]
    Damaged,
}

fn store_err(e: impl std::fmt::Display) -> LocalKeyError {
    LocalKeyError::Store(e.to_string())
}

/// The key this device holds, if any.
pub async fn load(store: &SqliteCryptoStore) -> Result<Option<SecretKey>, LocalKeyError> {
    let Some(bytes) = store.get_custom_value(NAME).await.map_err(store_err)? else {
        return Ok(None);
    };
    let bytes = Zeroizing::new(bytes);
    SecretKey::from_slice(&bytes)
        .map(Some)
        .ok_or(LocalKeyError::Damaged)
}

pub async fn save(store: &SqliteCryptoStore, key: &SecretKey) -> Result<(), LocalKeyError> {
    store
        .set_custom_value(NAME, key.as_bytes().to_vec())
        .await
        .map_err(store_err)
}

pub async fn forget(store: &SqliteCryptoStore) -> Result<(), LocalKeyError> {
    store.remove_custom_value(NAME).await.map_err(store_err)
}
