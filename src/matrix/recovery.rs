//! Secret storage (SSSS) and cross-signing: set up recovery on the first
//! device, unlock it on a new one, replace the recovery key, and report the
//! state. Only the SDK calls that leave a backup alone are used here
//! (never `Recovery::enable*`, `recover_and_fix_backup` or `reset_identity`:
//! they create or delete curve25519 backups).

use matrix_sdk::Client;
use matrix_sdk::encryption::secret_storage::{SecretStorageError, SecretStore};
use matrix_sdk::ruma::api::client::uiaa;
use matrix_sdk::ruma::events::secret::request::SecretName;
use matrix_sdk_crypto::secret_storage::DecodeError;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::backup::local_key;
use crate::crypto::{BackupKey, SecretKey, recovery_key};
use crate::error::{Advice, Step};

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("wrong recovery key or passphrase: it does not open this account's secret storage")]
    WrongKey,
    #[error("{0}")]
    BadRecoveryKey(String),
    #[error("this account has no secret storage")]
    NoSecretStorage,
    #[error("secret storage on this account does not hold the cross-signing keys")]
    MissingCrossSigning,
    #[error("this account already has secret storage")]
    AlreadySetUp,
    #[error("this account already has cross-signing keys made on another device")]
    IdentityElsewhere,
    #[error("wrong password: the server refused to authorise the cross-signing upload")]
    WrongPassword,
    #[error("the server wants the account password to upload the cross-signing keys")]
    PasswordNeeded,
    #[error("this device does not hold the cross-signing keys")]
    NotUnlocked,
    #[error(
        "this device does not hold the key of the account's backup: new secret storage would leave the backup without its key"
    )]
    NoBackupKey,
    #[error("{0}")]
    Other(String),
}

impl RecoveryError {
    /// What the user can do about it (each front end names the steps).
    pub fn advice(&self) -> Option<Advice> {
        use Step::*;
        Some(match self {
            RecoveryError::NoSecretStorage => {
                Advice::new("run {} on a device first", &[RecoverySetup])
            }
            RecoveryError::MissingCrossSigning => {
                Advice::new("verify this device by emoji with {} instead", &[Verify])
            }
            RecoveryError::AlreadySetUp => Advice::new(
                "run {} on this device, or {} to replace the key",
                &[RecoveryUnlock, RecoveryReset],
            ),
            RecoveryError::IdentityElsewhere => Advice::new(
                "verify this device with {} or unlock it with {}",
                &[Verify, RecoveryUnlock],
            ),
            RecoveryError::NotUnlocked => {
                Advice::new("run {} (or verify it by emoji) first", &[RecoveryUnlock])
            }
            RecoveryError::NoBackupKey => {
                Advice::new("run {} first so the key is carried over", &[RecoveryUnlock])
            }
            _ => return None,
        })
    }
}

fn other(e: impl std::fmt::Display) -> RecoveryError {
    RecoveryError::Other(e.to_string())
}

/// What a user (and the TUI) wants to know about recovery on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoveryStatus {
    /// The account has a cross-signing identity on the server.
    pub cross_signing_on_account: bool,
    /// This device holds all three private cross-signing keys.
    pub cross_signing_complete: bool,
    /// This device is signed by its owner's self-signing key.
    pub device_verified: bool,
    /// The account has a default secret-storage key.
    pub secret_storage: bool,
    /// This device holds the `m.megolm_backup.v1` secret.
    pub backup_key_present: bool,
}

/// What unlocking achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unlocked {
    pub device_verified: bool,
    /// Secret storage held a backup key and this device now keeps it.
    pub backup_key: bool,
}

/// Groups a recovery key in blocks of 4, as every client shows it.
pub fn group_key(key: &str) -> Zeroizing<String> {
    let compact = crate::crypto::recovery_key::without_whitespace(key);
    let mut out = Zeroizing::new(String::with_capacity(compact.len() * 5 / 4 + 1));
    for (i, c) in compact.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Does the input look like a recovery key rather than a passphrase?
/// (48 base58 characters once spaces are gone, starting with "Es".)
fn looks_like_recovery_key(input: &str) -> bool {
    let compact: String = input.split_whitespace().collect();
    compact.len() == 48
        && compact.starts_with("Es")
        && compact
            .chars()
            .all(|c| c.is_ascii_alphanumeric() && !"0OIl".contains(c))
}

/// This device holds all three private cross-signing keys.
async fn holds_cross_signing_keys(client: &Client) -> bool {
    client
        .encryption()
        .cross_signing_status()
        .await
        .is_some_and(|s| s.is_complete())
}

pub async fn status(
    client: &Client,
    crypto: &matrix_sdk::SqliteCryptoStore,
) -> Result<RecoveryStatus, RecoveryError> {
    let enc = client.encryption();
    let me = client
        .user_id()
        .ok_or_else(|| other("not logged in"))?
        .to_owned();
    let on_account = enc
        .request_user_identity(&me)
        .await
        .map_err(other)?
        .is_some();
    let complete = holds_cross_signing_keys(client).await;
    let device_verified = enc
        .get_own_device()
        .await
        .map_err(other)?
        .is_some_and(|d| d.is_cross_signed_by_owner());
    let secret_storage = enc.secret_storage().is_enabled().await.map_err(other)?;
    let backup_key_present = local_key::load(crypto).await.map_err(other)?.is_some();
    Ok(RecoveryStatus {
        cross_signing_on_account: on_account,
        cross_signing_complete: complete,
        device_verified,
        secret_storage,
        backup_key_present,
    })
}

/// Bootstraps cross-signing (authorised with the account password when the
/// server asks for it: Synapse does not for a first upload), creates
/// secret storage with a fresh key (also opened by `passphrase` if given),
/// stores the cross-signing keys and any backup key we hold in it, and
/// returns the recovery key. The caller shows it once; it is kept nowhere.
pub async fn setup(
    client: &Client,
    crypto: &matrix_sdk::SqliteCryptoStore,
    password: Option<&str>,
    passphrase: Option<&str>,
) -> Result<Zeroizing<String>, RecoveryError> {
    let enc = client.encryption();
    if enc.secret_storage().is_enabled().await.map_err(other)? {
        return Err(RecoveryError::AlreadySetUp);
    }
    let me = client
        .user_id()
        .ok_or_else(|| other("not logged in"))?
        .to_owned();
    let have_keys = holds_cross_signing_keys(client).await;
    if !have_keys {
        if enc
            .request_user_identity(&me)
            .await
            .map_err(other)?
            .is_some()
        {
            return Err(RecoveryError::IdentityElsewhere);
        }
        if let Err(e) = enc.bootstrap_cross_signing(None).await {
            let Some(info) = e.as_uiaa_response() else {
                return Err(other(format!("cannot set up cross-signing: {e}")));
            };
            let Some(password) = password else {
                return Err(RecoveryError::PasswordNeeded);
            };
            let mut pw = uiaa::Password::new(me.clone().into(), password.to_owned());
            pw.session = info.session.clone();
            if let Err(e) = enc
                .bootstrap_cross_signing(Some(uiaa::AuthData::Password(pw)))
                .await
            {
                return Err(if e.as_uiaa_response().is_some() {
                    RecoveryError::WrongPassword
                } else {
                    other(format!("cannot set up cross-signing: {e}"))
                });
            }
        }
    }
    let store = create_store(client, passphrase).await?;
    store_backup_key(&store, crypto).await?;
    Ok(Zeroizing::new(store.secret_storage_key()))
}

async fn create_store(
    client: &Client,
    passphrase: Option<&str>,
) -> Result<SecretStore, RecoveryError> {
    let ss = client.encryption().secret_storage();
    let create = ss.create_secret_store();
    let create = match passphrase {
        Some(p) => create.with_passphrase(p),
        None => create,
    };
    create
        .await
        .map_err(|e| other(format!("cannot create secret storage: {e}")))
}

/// Re-stores the backup key we hold under the (new) secret-storage key: the
/// SDK's own export only knows its curve25519 backup key.
async fn store_backup_key(
    store: &SecretStore,
    crypto: &matrix_sdk::SqliteCryptoStore,
) -> Result<(), RecoveryError> {
    if let Some(key) = local_key::load(crypto).await.map_err(other)? {
        let b64 = BackupKey::new(key).to_base64();
        store
            .put_secret(SecretName::RecoveryKey, &b64)
            .await
            .map_err(|e| {
                other(format!(
                    "cannot store the backup key in secret storage: {e}"
                ))
            })?;
    }
    Ok(())
}

fn open_error(input: &str, e: SecretStorageError) -> RecoveryError {
    match e {
        SecretStorageError::MissingKeyInfo { .. } => RecoveryError::NoSecretStorage,
        SecretStorageError::SecretStorageKey(d) => match d {
            DecodeError::UnsupportedAlgorithm(a) => other(format!(
                "secret storage uses an algorithm keepsake does not know: {a}"
            )),
            DecodeError::KdfIterationCount(n) => other(format!(
                "secret storage asks for {n} passphrase iterations, more than keepsake allows"
            )),
            // A typo in something shaped like a recovery key deserves its own
            // message; everything else is simply the wrong secret.
            _ if looks_like_recovery_key(input) => match recovery_key::decode(input) {
                Err(k) => RecoveryError::BadRecoveryKey(k.to_string()),
                Ok(_) => RecoveryError::WrongKey,
            },
            _ => RecoveryError::WrongKey,
        },
        other_err => other(format!("cannot open secret storage: {other_err}")),
    }
}

/// Opens secret storage with a recovery key or passphrase.
pub async fn open_store(client: &Client, input: &str) -> Result<SecretStore, RecoveryError> {
    let ss = client.encryption().secret_storage();
    if !ss.is_enabled().await.map_err(other)? {
        return Err(RecoveryError::NoSecretStorage);
    }
    ss.open_secret_store(input.trim())
        .await
        .map_err(|e| open_error(input, e))
}

/// Opens secret storage with a recovery key or passphrase, imports the
/// cross-signing keys (which signs this device) and keeps the backup key.
pub async fn unlock(
    client: &Client,
    crypto: &matrix_sdk::SqliteCryptoStore,
    base: &matrix_sdk_base::BaseClient,
    input: &str,
) -> Result<Unlocked, RecoveryError> {
    let store = open_store(client, input).await?;
    let master = store
        .get_secret(SecretName::CrossSigningMasterKey)
        .await
        .map_err(other)?;
    if master.is_none() {
        return Err(RecoveryError::MissingCrossSigning);
    }
    drop(master.map(Zeroizing::new));
    match store.import_secrets().await {
        // Expected with our symmetric key: the SDK tries it as its own
        // curve25519 backup key, finds it does not match, and leaves it be,
        // after the cross-signing keys were imported and the device signed.
        Ok(()) | Err(SecretStorageError::InconsistentBackupDecryptionKey) => {}
        Err(e) => return Err(other(format!("cannot import the cross-signing keys: {e}"))),
    }
    // On an account whose backup is a curve25519 one (Element's), the SDK
    // has just enabled its own backup machine with that key; it would
    // upload to that backup and set the backed-up flags our uploader reads.
    // Switched off locally (never through `Backups::disable`, which deletes
    // the backup on the server): keepsake reads that backup, never writes.
    // (Only when enabled: disabling also clears every backed-up flag.)
    if let Some(m) = base.olm_machine().await.as_ref()
        && m.backup_machine().enabled().await
        && let Err(e) = m.backup_machine().disable_backup().await
    {
        tracing::warn!(error = %e, "cannot switch matrix-sdk's own backup off");
    }
    let backup_key = take_stored_backup_key(&store, crypto).await?;
    let device_verified = client
        .encryption()
        .get_own_device()
        .await
        .map_err(other)?
        .is_some_and(|d| d.is_cross_signed_by_owner());
    Ok(Unlocked {
        device_verified,
        backup_key,
    })
}

/// Keeps the backup key (`m.megolm_backup.v1`) of open secret storage on
/// this device; whether there was one.
async fn take_stored_backup_key(
    store: &SecretStore,
    crypto: &matrix_sdk::SqliteCryptoStore,
) -> Result<bool, RecoveryError> {
    let backup = store
        .get_secret(SecretName::RecoveryKey)
        .await
        .map_err(other)?
        .map(Zeroizing::new);
    let Some(b64) = backup else {
        return Ok(false);
    };
    let key = BackupKey::from_base64(&b64)
        .map_err(|_| other("secret storage holds a backup key that is not 32 bytes of base64"))?;
    local_key::save(crypto, key.secret()).await.map_err(other)?;
    Ok(true)
}

/// Only the backup key from secret storage, for a restore on an account
/// whose secret storage holds no cross-signing keys (made by a client that
/// never set cross-signing up); whether there was one.
pub async fn take_backup_key(
    client: &Client,
    crypto: &matrix_sdk::SqliteCryptoStore,
    input: &str,
) -> Result<bool, RecoveryError> {
    let store = open_store(client, input).await?;
    take_stored_backup_key(&store, crypto).await
}

/// Replaces the recovery key: new secret storage holding every secret this
/// device has (cross-signing keys and the backup key).
pub async fn reset(
    client: &Client,
    crypto: &matrix_sdk::SqliteCryptoStore,
    passphrase: Option<&str>,
) -> Result<Zeroizing<String>, RecoveryError> {
    let complete = holds_cross_signing_keys(client).await;
    if !complete {
        return Err(RecoveryError::NotUnlocked);
    }
    // New secret storage holds only what this device carries over: without
    // the backup key, the backup would be left unreadable.
    let has_key = local_key::load(crypto).await.map_err(other)?.is_some();
    if !has_key
        && crate::backup::server::current(client)
            .await
            .map_err(other)?
            .is_some()
    {
        return Err(RecoveryError::NoBackupKey);
    }
    let store = create_store(client, passphrase).await?;
    store_backup_key(&store, crypto).await?;
    Ok(Zeroizing::new(store.secret_storage_key()))
}

/// Keeps a backup key on this device (from gossip or a new backup).
pub async fn keep_backup_key(
    crypto: &matrix_sdk::SqliteCryptoStore,
    key: &SecretKey,
) -> Result<(), RecoveryError> {
    local_key::save(crypto, key).await.map_err(other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_of_four() {
        assert_eq!(
            group_key("EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk qeeJ ZJV8 Q9fu gUMN UE4d").as_str(),
            "EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk qeeJ ZJV8 Q9fu gUMN UE4d"
        );
        assert_eq!(group_key("abcdefghij").as_str(), "abcd efgh ij");
    }

    #[test]
    fn tells_keys_from_passphrases() {
        assert!(looks_like_recovery_key(
            "EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk qeeJ ZJV8 Q9fu gUMN UE4d"
        ));
        assert!(!looks_like_recovery_key("correct horse battery staple"));
        assert!(!looks_like_recovery_key(""));
    }
}
