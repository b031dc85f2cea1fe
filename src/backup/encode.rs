//! One session as the backup stores it: the standard backed-up session JSON
//! (plus `untrusted: true` when the key did not come straight from its
//! sender's device), encrypted with the symmetric key (HKDF info = session
//! id), wrapped in `KeyBackupData` with truthful metadata.

use crate::backup::error::BackupError;
use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk::ruma::api::client::backup::KeyBackupData;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk_crypto::olm::{InboundGroupSession, SenderData};
use matrix_sdk_crypto::vodozemac::Curve25519PublicKey;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::crypto::{BackupKey, EncryptedData};

pub struct Entry {
    pub room_id: OwnedRoomId,
    pub session_id: String,
    pub data: Raw<KeyBackupData>,
}

/// The MSC3270 `session_data` and the unencrypted fields around it.
#[derive(Serialize)]
struct BackupData<'a> {
    first_message_index: u32,
    forwarded_count: usize,
    is_verified: bool,
    session_data: &'a EncryptedData,
}

/// Whether a session's key came to us other than straight from its sender:
/// forwarded, imported from a file, or restored. `trusted` is what our own
/// trust table knows (a key restored from our authenticated backup without
/// the flag stays trusted).
pub fn is_untrusted(session: &InboundGroupSession, trusted: Option<bool>) -> bool {
    session.has_been_imported() && trusted != Some(true)
}

pub async fn entry(
    session: &InboundGroupSession,
    key: &BackupKey,
    own_curve_key: Option<Curve25519PublicKey>,
    trusted: Option<bool>,
) -> Result<Entry, BackupError> {
    let backed_up = session.to_backup().await;
    let forwarded = backed_up.forwarding_curve25519_key_chain.len();
    let untrusted = is_untrusted(session, trusted);
    let mut json = serde_json::to_value(&backed_up).map_err(|e| e.to_string())?;
    drop(backed_up);
    if untrusted && let Some(obj) = json.as_object_mut() {
        obj.insert("untrusted".into(), serde_json::Value::Bool(true));
    }
    let plaintext = Zeroizing::new(serde_json::to_vec(&json).map_err(|e| e.to_string())?);
    // The Value held the session key too: wipe its string before dropping.
    if let Some(serde_json::Value::String(s)) =
        json.as_object_mut().and_then(|o| o.get_mut("session_key"))
    {
        zeroize::Zeroize::zeroize(s);
    }
    let session_id = session.session_id().to_owned();
    let encrypted = key
        .encrypt_session(&session_id, &plaintext)
        .map_err(|e| e.to_string())?;
    let own = own_curve_key.is_some_and(|k| k == session.sender_key());
    let is_verified = own || matches!(session.sender_data, SenderData::SenderVerified(_));
    let data = BackupData {
        first_message_index: session.first_known_index(),
        forwarded_count: forwarded.max(usize::from(session.has_been_imported())),
        is_verified,
        session_data: &encrypted,
    };
    let raw = Raw::new(&data).map_err(|e| e.to_string())?.cast_unchecked();
    Ok(Entry {
        room_id: session.room_id().to_owned(),
        session_id,
        data: raw,
    })
}
