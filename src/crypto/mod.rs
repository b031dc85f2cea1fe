//! Pure, synchronous cryptography for keepsake: no I/O and no matrix-sdk types.
//!
//! - [`aes_hmac`]: the AES-256-CTR + HMAC-SHA-256 primitive (HKDF-SHA-256 keys)
//!   shared by SSSS secrets and MSC3270 backups, and its key check.
//! - [`backup`]: MSC3270 v1 `session_data` and `auth_data`.
//! - [`ssss`]: secret-storage keys and secrets.
//! - [`recovery_key`]: the base58 key representation ("recovery key").
//! - [`passphrase`]: PBKDF2-HMAC-SHA-512 passphrase to key.

pub mod aes_hmac;
pub mod b64;
pub mod backup;
mod error;
mod key;
pub mod passphrase;
pub mod recovery_key;
pub mod session;
pub mod ssss;

pub use aes_hmac::{EncryptedData, KeyCheck};
pub use backup::{BackupAuthData, BackupKey};
pub use error::CryptoError;
pub use key::SecretKey;
pub use recovery_key::RecoveryKeyError;
pub use ssss::SecretStorageKey;
