//! One backup entry opened: its MAC checked before anything is decrypted,
//! then decrypted and parsed into a key, or the reason it was skipped.
//! Shared by the streamed download (which opens entries as they arrive)
//! and the restore (which imports them).

use matrix_sdk::ruma::RoomId;
use matrix_sdk::ruma::api::client::backup::KeyBackupData;
use matrix_sdk_crypto::olm::{BackedUpRoomKey, ExportedRoomKey};
use matrix_sdk_crypto::store::types::BackupDecryptionKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::server::VersionInfo;
use super::trust::Source;
use crate::crypto::session::{BackedUpSession, SessionDataError};
use crate::crypto::{BackupKey, CryptoError, EncryptedData};

/// The largest backup entry opened (a megolm session is about 1 KiB).
pub const MAX_ENTRY: usize = 64 * 1024;

/// Why a key from the backup was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The entry is not `KeyBackupData` with an MSC3270 `session_data`.
    Malformed,
    /// The MAC does not match: tampered, or encrypted with another key.
    BadMac,
    /// Decrypts, but the plaintext is not a backed-up megolm session.
    NotASession,
    /// A valid session stored under another session's id.
    Moved,
}

#[derive(Deserialize)]
struct Entry {
    session_data: EncryptedData,
}

/// The standard asymmetric backup algorithm (Element, matrix-sdk).
pub const CURVE25519_ALGORITHM: &str = "m.megolm_backup.v1.curve25519-aes-sha2";

/// The curve25519 decryption key in `secret`, if it is the key of
/// `version` (its public key matches the version's `auth_data`).
pub fn curve25519_key(secret: &[u8; 32], version: &VersionInfo) -> Option<BackupDecryptionKey> {
    let info: matrix_sdk_crypto::types::RoomKeyBackupInfo = serde_json::from_value(
        serde_json::json!({ "algorithm": version.algorithm, "auth_data": version.auth_data }),
    )
    .ok()?;
    let dk = BackupDecryptionKey::from_bytes(secret);
    dk.backup_key_matches(&info).then_some(dk)
}

/// What opens the backup's entries.
#[derive(Clone)]
pub enum Opener {
    /// Our MSC3270 key: every entry authenticated by it.
    Symmetric(BackupKey),
    /// The standard curve25519 backup (Element, matrix-sdk): anyone who
    /// knows its public key could have written an entry, so nothing in it
    /// is trusted.
    Curve25519(BackupDecryptionKey),
}

impl Opener {
    pub fn source(&self) -> Source {
        match self {
            Opener::Symmetric(_) => Source::SymmetricBackup,
            Opener::Curve25519(_) => Source::AsymmetricBackup,
        }
    }
}

/// One key from the backup: decrypted and checked, or why not; with
/// whether the backup vouches for it.
pub fn open_entry(
    opener: &Opener,
    room_id: &RoomId,
    session_id: &str,
    raw: &serde_json::value::RawValue,
) -> Result<(ExportedRoomKey, bool), SkipReason> {
    // A real entry is under 2 KiB; a huge one is refused before it is
    // parsed, decoded or decrypted (each would copy it again).
    if raw.get().len() > MAX_ENTRY {
        return Err(SkipReason::Malformed);
    }
    let plain: Zeroizing<Vec<u8>> = match opener {
        Opener::Symmetric(key) => {
            let entry: Entry =
                serde_json::from_str(raw.get()).map_err(|_| SkipReason::Malformed)?;
            key.decrypt_session(session_id, &entry.session_data)
                .map_err(|e| match e {
                    CryptoError::MacMismatch => SkipReason::BadMac,
                    _ => SkipReason::Malformed,
                })?
        }
        Opener::Curve25519(dk) => {
            let entry: KeyBackupData =
                serde_json::from_str(raw.get()).map_err(|_| SkipReason::Malformed)?;
            let key = dk
                .decrypt_session_data(entry.session_data)
                .map_err(|_| SkipReason::BadMac)?;
            Zeroizing::new(serde_json::to_vec(&key).map_err(|_| SkipReason::NotASession)?)
        }
    };
    let checked = BackedUpSession::from_json(&plain).map_err(|_| SkipReason::NotASession)?;
    checked.check_session_id(session_id).map_err(|e| match e {
        SessionDataError::SessionIdMismatch => SkipReason::Moved,
        _ => SkipReason::NotASession,
    })?;
    // The same plaintext, now known to be sound, as the SDK's type.
    let sdk: BackedUpRoomKey =
        serde_json::from_slice(&plain).map_err(|_| SkipReason::NotASession)?;
    let exported =
        ExportedRoomKey::from_backed_up_room_key(room_id.to_owned(), session_id.to_owned(), sdk);
    let trusted = matches!(opener, Opener::Symmetric(_)) && !checked.untrusted;
    Ok((exported, trusted))
}
