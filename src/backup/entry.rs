//! One backup entry opened: its MAC checked before anything is decrypted,
//! then decrypted and parsed into a key, or the reason it was skipped.
//! Shared by the streamed download (which opens entries as they arrive)
//! and the restore (which imports them).

use std::collections::HashMap;

use matrix_sdk::ruma::api::client::backup::KeyBackupData;
use matrix_sdk::ruma::{DeviceKeyAlgorithm, RoomId};
use matrix_sdk_crypto::olm::{BackedUpRoomKey, ExportedRoomKey};
use matrix_sdk_crypto::store::types::BackupDecryptionKey;
use matrix_sdk_crypto::types::{EventEncryptionAlgorithm, SigningKeys};
use matrix_sdk_crypto::vodozemac::Curve25519PublicKey;
use matrix_sdk_crypto::vodozemac::megolm::ExportedSessionKey;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use super::server::VersionInfo;
use super::trust::Source;
use crate::crypto::session::{MEGOLM_ALGORITHM, SessionDataError, SessionKey};
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

/// Parsed `sender_claimed_keys`, by their JSON text. A restore's keys come
/// from a few devices, and parsing an Ed25519 key decompresses a curve point:
/// a third of the CPU of opening an entry, spent again on the same key.
#[derive(Default)]
pub struct ClaimedKeys(HashMap<Box<str>, SigningKeys<DeviceKeyAlgorithm>>);

impl ClaimedKeys {
    /// Distinct senders remembered; past that the cache starts again, so a
    /// backup of many one-off devices costs what it did without it.
    const MAX: usize = 1024;

    fn parse(&mut self, raw: &RawValue) -> Result<SigningKeys<DeviceKeyAlgorithm>, SkipReason> {
        if let Some(keys) = self.0.get(raw.get()) {
            return Ok(keys.clone());
        }
        // The SDK's own parse, so a cached value is exactly what it makes.
        let keys: SigningKeys<DeviceKeyAlgorithm> =
            serde_json::from_str(raw.get()).map_err(|_| SkipReason::NotASession)?;
        if self.0.len() >= Self::MAX {
            self.0.clear();
        }
        self.0.insert(raw.get().into(), keys.clone());
        Ok(keys)
    }
}

/// A decrypted session read once: what `BackedUpSession` checks (algorithm,
/// `untrusted`, the key's own id) and the SDK's `BackedUpRoomKey` fields,
/// parsed as the SDK parses them.
#[derive(Deserialize)]
struct Plain<'a> {
    algorithm: String,
    #[serde(deserialize_with = "curve_key")]
    sender_key: Curve25519PublicKey,
    session_key: SessionKey,
    #[serde(borrow)]
    sender_claimed_keys: &'a RawValue,
    #[serde(default, deserialize_with = "curve_keys")]
    forwarding_curve25519_key_chain: Vec<Curve25519PublicKey>,
    /// MSC3270: the key did not come straight from its sender.
    #[serde(default)]
    untrusted: bool,
    #[serde(
        default,
        rename = "m.shared_history",
        alias = "org.matrix.msc3061.shared_history"
    )]
    shared_history: bool,
}

fn curve_key<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Curve25519PublicKey, D::Error> {
    let s = String::deserialize(d)?;
    Curve25519PublicKey::from_base64(&s).map_err(serde::de::Error::custom)
}

fn curve_keys<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<Curve25519PublicKey>, D::Error> {
    let keys = Vec::<String>::deserialize(d)?;
    keys.iter()
        .map(|k| Curve25519PublicKey::from_base64(k).map_err(serde::de::Error::custom))
        .collect()
}

/// One key from the backup: decrypted and checked, or why not; with
/// whether the backup vouches for it.
pub fn open_entry(
    opener: &Opener,
    room_id: &RoomId,
    session_id: &str,
    raw: &RawValue,
) -> Result<(ExportedRoomKey, bool), SkipReason> {
    open_entry_with(
        &mut ClaimedKeys::default(),
        opener,
        room_id,
        session_id,
        raw,
    )
}

/// [`open_entry`], with the sender keys parsed so far.
pub fn open_entry_with(
    claimed: &mut ClaimedKeys,
    opener: &Opener,
    room_id: &RoomId,
    session_id: &str,
    raw: &RawValue,
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
    let p: Plain = serde_json::from_slice(&plain).map_err(|_| SkipReason::NotASession)?;
    if p.algorithm != MEGOLM_ALGORITHM {
        return Err(SkipReason::NotASession);
    }
    p.session_key
        .check_session_id(session_id)
        .map_err(|e| match e {
            SessionDataError::SessionIdMismatch => SkipReason::Moved,
            _ => SkipReason::NotASession,
        })?;
    let session_key = ExportedSessionKey::from_base64(p.session_key.expose())
        .map_err(|_| SkipReason::NotASession)?;
    let sdk = BackedUpRoomKey {
        algorithm: EventEncryptionAlgorithm::MegolmV1AesSha2,
        sender_key: p.sender_key,
        session_key,
        sender_claimed_keys: claimed.parse(p.sender_claimed_keys)?,
        forwarding_curve25519_key_chain: p.forwarding_curve25519_key_chain,
        shared_history: p.shared_history,
    };
    let exported =
        ExportedRoomKey::from_backed_up_room_key(room_id.to_owned(), session_id.to_owned(), sdk);
    let trusted = matches!(opener, Opener::Symmetric(_)) && !p.untrusted;
    Ok((exported, trusted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::BackupKey;
    use matrix_sdk::ruma::room_id;
    use matrix_sdk_crypto::olm::{InboundGroupSession, SenderData};
    use matrix_sdk_crypto::vodozemac::megolm::{GroupSession, SessionConfig};
    use matrix_sdk_crypto::vodozemac::{Curve25519SecretKey, Ed25519SecretKey};
    use serde_json::{Value, json};

    /// A session's backup plaintext from a sender of its own.
    async fn plaintext() -> (String, Value) {
        let outbound = GroupSession::new(SessionConfig::version_1());
        let session = InboundGroupSession::new(
            Curve25519PublicKey::from(&Curve25519SecretKey::new()),
            Ed25519SecretKey::new().public_key(),
            room_id!("!r:localhost"),
            &outbound.session_key(),
            SenderData::unknown(),
            None,
            EventEncryptionAlgorithm::MegolmV1AesSha2,
            None,
            false,
        )
        .unwrap();
        let plain = serde_json::to_value(session.to_backup().await).unwrap();
        (session.session_id().to_owned(), plain)
    }

    fn entry(key: &BackupKey, session_id: &str, plain: &Value) -> Box<RawValue> {
        let data = key
            .encrypt_session(session_id, &serde_json::to_vec(plain).unwrap())
            .unwrap();
        RawValue::from_string(
            json!({"first_message_index": 0, "forwarded_count": 0,
                   "is_verified": false, "session_data": data})
            .to_string(),
        )
        .unwrap()
    }

    /// What the SDK's own parse of the plaintext gives.
    fn sdk_reading(session_id: &str, plain: &Value) -> Value {
        let key: BackedUpRoomKey = serde_json::from_value(plain.clone()).unwrap();
        let room = room_id!("!r:localhost").to_owned();
        let exported = ExportedRoomKey::from_backed_up_room_key(room, session_id.into(), key);
        serde_json::to_value(exported).unwrap()
    }

    #[tokio::test]
    async fn one_read_gives_what_the_sdks_parse_gives_and_senders_never_mix() {
        let key = BackupKey::generate().unwrap();
        let opener = Opener::Symmetric(key.clone());
        let room = room_id!("!r:localhost");
        let mut claimed = ClaimedKeys::default();
        let (id_a, mut a) = plaintext().await;
        let (id_b, mut b) = plaintext().await;
        // Every field the SDK reads, in the spellings it reads them.
        let chain = Curve25519PublicKey::from(&Curve25519SecretKey::new()).to_base64();
        a["forwarding_curve25519_key_chain"] = json!([chain]);
        a["m.shared_history"] = json!(true);
        if let Some(o) = b.as_object_mut() {
            o.remove("m.shared_history");
            o.insert("org.matrix.msc3061.shared_history".into(), json!(true));
        }
        b["untrusted"] = json!(true);
        // Each twice: the second time from the sender keys already parsed.
        for _ in 0..2 {
            for (id, plain, trusted) in [(&id_a, &a, true), (&id_b, &b, false)] {
                let (got, t) =
                    open_entry_with(&mut claimed, &opener, room, id, &entry(&key, id, plain))
                        .unwrap();
                assert_eq!(serde_json::to_value(got).unwrap(), sdk_reading(id, plain));
                assert_eq!(t, trusted);
            }
        }
        assert_eq!(claimed.0.len(), 2);
    }

    #[tokio::test]
    async fn a_session_under_another_id_or_algorithm_or_with_a_bad_sender_is_refused() {
        let key = BackupKey::generate().unwrap();
        let opener = Opener::Symmetric(key.clone());
        let room = room_id!("!r:localhost");
        let (id, plain) = plaintext().await;
        let (other, _) = plaintext().await;
        let open = |id: &str, plain: &Value| {
            open_entry(&opener, room, id, &entry(&key, id, plain)).map(|(_, t)| t)
        };
        assert_eq!(open(&other, &plain), Err(SkipReason::Moved));
        let mut wrong = plain.clone();
        wrong["algorithm"] = json!("m.megolm.v2.aes-sha2");
        assert_eq!(open(&id, &wrong), Err(SkipReason::NotASession));
        let mut wrong = plain.clone();
        wrong["sender_claimed_keys"] = json!({"ed25519": "not a key"});
        assert_eq!(open(&id, &wrong), Err(SkipReason::NotASession));
        let mut wrong = plain.clone();
        wrong["sender_key"] = json!("short");
        assert_eq!(open(&id, &wrong), Err(SkipReason::NotASession));
        assert_eq!(open(&id, &plain), Ok(true));
    }
}
