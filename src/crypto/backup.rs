//! MSC3270 v1 symmetric megolm backup (`m.megolm_backup.v1.aes-hmac-sha2`):
//! each session's backed-up JSON is encrypted with the `aes-hmac-sha2`
//! primitive under HKDF info = the session id; the backup version's
//! `auth_data` holds the key check `{iv, mac}` (name "").

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::aes_hmac::{self, EncryptedData, KeyCheck, Prk};
use super::session::{BackedUpSession, SessionDataError};
use super::{CryptoError, SecretKey, b64};

/// Why one backed-up session could not be restored.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SessionError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Data(#[from] SessionDataError),
}

/// The algorithm name MSC3270 gives, and the unstable one. Both are read.
pub const ALGORITHM: &str = "m.megolm_backup.v1.aes-hmac-sha2";
pub const ALGORITHM_UNSTABLE: &str = "org.matrix.msc3270.v1.aes-hmac-sha2";
/// What a new version is made with unless the config says otherwise.
/// MSC3270 was closed unmerged, so the `m.` name was never granted, and the
/// shipped implementations (matrix-js-sdk's legacy crypto, matrix-ios-sdk)
/// know only the unstable name.
pub const DEFAULT_ALGORITHM: &str = ALGORITHM_UNSTABLE;

/// Whether an algorithm name is one of ours.
pub fn is_symmetric_algorithm(name: &str) -> bool {
    name == ALGORITHM || name == ALGORITHM_UNSTABLE
}

/// The 32-byte symmetric backup key with its HKDF extract precomputed.
#[derive(Clone)]
pub struct BackupKey {
    key: SecretKey,
    prk: Prk,
}

impl BackupKey {
    pub fn new(key: SecretKey) -> Self {
        let prk = Prk::new(&key);
        Self { key, prk }
    }

    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self::new(SecretKey::generate()?))
    }

    /// From the base64 string secret storage keeps under `m.megolm_backup.v1`.
    pub fn from_base64(s: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(b64::decode_array::<32>(s.trim(), "m.megolm_backup.v1")?);
        Ok(Self::new(SecretKey::from_bytes(*bytes)))
    }

    /// The base64 form stored in secret storage. The caller owns the secret.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(b64::encode(self.key.as_bytes()))
    }

    pub fn secret(&self) -> &SecretKey {
        &self.key
    }

    /// Encrypts one session's backed-up JSON.
    pub fn encrypt_session(
        &self,
        session_id: &str,
        plaintext: &[u8],
    ) -> Result<EncryptedData, CryptoError> {
        aes_hmac::encrypt(&self.prk, session_id, plaintext)
    }

    /// As [`encrypt_session`](Self::encrypt_session) with a chosen IV; for
    /// known-answer tests only.
    pub fn encrypt_session_with_iv(
        &self,
        session_id: &str,
        plaintext: &[u8],
        iv: [u8; aes_hmac::IV_LEN],
    ) -> EncryptedData {
        aes_hmac::encrypt_with_iv(&self.prk, session_id, plaintext, iv)
    }

    /// Checks the MAC, then decrypts one session's data. The session id must
    /// be the one the data is stored under: data moved to another id fails.
    pub fn decrypt_session(
        &self,
        session_id: &str,
        data: &EncryptedData,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        aes_hmac::decrypt(&self.prk, session_id, data)
    }

    /// Decrypts and validates one session: MAC, JSON shape, algorithm, and
    /// that the session key belongs to `session_id`.
    pub fn decrypt_session_data(
        &self,
        session_id: &str,
        data: &EncryptedData,
    ) -> Result<BackedUpSession, SessionError> {
        let plain = self.decrypt_session(session_id, data)?;
        let session = BackedUpSession::from_json(&plain)?;
        session.check_session_id(session_id)?;
        Ok(session)
    }

    /// A fresh `auth_data` key check for a new backup version.
    pub fn auth_data(&self) -> Result<BackupAuthData, CryptoError> {
        let (iv, mac) = aes_hmac::key_check(&self.prk)?;
        Ok(BackupAuthData {
            iv: Some(iv),
            mac: Some(mac),
        })
    }

    /// Checks this key against a backup version's `auth_data`.
    pub fn check(&self, auth: &BackupAuthData) -> Result<KeyCheck, CryptoError> {
        aes_hmac::verify_key_check(&self.prk, auth.iv.as_deref(), auth.mac.as_deref())
    }
}

impl fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BackupKey(<redacted>)")
    }
}

/// The key-check part of an MSC3270 backup version's `auth_data`. Other
/// fields (`signatures`, passphrase info) are handled by the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupAuthData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}
