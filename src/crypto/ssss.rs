//! Secret storage (SSSS) with `m.secret_storage.v1.aes-hmac-sha2` keys:
//! secrets are encrypted under HKDF info = the secret's name; the key
//! description carries a key check `{iv, mac}` and optional passphrase info.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::aes_hmac::{self, EncryptedData, KeyCheck, Prk};
use super::passphrase::{self, PassphraseInfo};
use super::recovery_key::{self, RecoveryKeyError};
use super::{CryptoError, SecretKey};

pub const KEY_ALGORITHM: &str = "m.secret_storage.v1.aes-hmac-sha2";

/// The content of `m.secret_storage.key.<id>` account data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDescription {
    pub algorithm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<PassphraseInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// A secret-storage key (what users call the recovery key).
#[derive(Clone)]
pub struct SecretStorageKey {
    key: SecretKey,
    prk: Prk,
}

impl SecretStorageKey {
    pub fn new(key: SecretKey) -> Self {
        let prk = Prk::new(&key);
        Self { key, prk }
    }

    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self::new(SecretKey::generate()?))
    }

    pub fn from_recovery_key(input: &str) -> Result<Self, RecoveryKeyError> {
        recovery_key::decode(input).map(Self::new)
    }

    pub fn from_passphrase(passphrase: &str, info: &PassphraseInfo) -> Result<Self, CryptoError> {
        passphrase::derive(passphrase, info).map(Self::new)
    }

    /// The recovery key to show the user once, in groups of 4.
    pub fn to_recovery_key(&self) -> Zeroizing<String> {
        recovery_key::encode(&self.key)
    }

    pub fn secret(&self) -> &SecretKey {
        &self.key
    }

    /// A key description with a fresh key check.
    pub fn describe(
        &self,
        name: Option<String>,
        passphrase: Option<PassphraseInfo>,
    ) -> Result<KeyDescription, CryptoError> {
        let (iv, mac) = aes_hmac::key_check(&self.prk)?;
        Ok(KeyDescription {
            algorithm: KEY_ALGORITHM.to_owned(),
            name,
            passphrase,
            iv: Some(iv),
            mac: Some(mac),
        })
    }

    /// Checks this key against a key description's `{iv, mac}`.
    pub fn check(&self, desc: &KeyDescription) -> Result<KeyCheck, CryptoError> {
        aes_hmac::verify_key_check(&self.prk, desc.iv.as_deref(), desc.mac.as_deref())
    }

    pub fn encrypt_secret(
        &self,
        secret_name: &str,
        plaintext: &[u8],
    ) -> Result<EncryptedData, CryptoError> {
        aes_hmac::encrypt(&self.prk, secret_name, plaintext)
    }

    pub fn decrypt_secret(
        &self,
        secret_name: &str,
        data: &EncryptedData,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        aes_hmac::decrypt(&self.prk, secret_name, data)
    }
}

impl fmt::Debug for SecretStorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretStorageKey(<redacted>)")
    }
}
