//! One session as the backup stores it: the standard backed-up session JSON
//! (plus `untrusted: true` when the key did not come straight from its
//! sender's device), encrypted with the symmetric key (HKDF info = session
//! id), wrapped in `KeyBackupData` with truthful metadata; and a batch of
//! them as one upload request body (`batch`).

use crate::backup::error::BackupError;
use std::collections::BTreeMap;

use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk::ruma::api::client::backup::KeyBackupData;
use matrix_sdk::ruma::api::client::backup::RoomKeyBackup;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk_crypto::olm::{InboundGroupSession, SenderData};
use matrix_sdk_crypto::vodozemac::Curve25519PublicKey;
use serde::Serialize;
use zeroize::Zeroizing;

use super::trust::{Source, TrustTable};
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

pub type Body = BTreeMap<OwnedRoomId, RoomKeyBackup>;

/// Encodes sessions into one request body; returns the ids it holds.
pub async fn batch(
    sessions: &[matrix_sdk_crypto::olm::InboundGroupSession],
    key: &BackupKey,
    own: Option<matrix_sdk_crypto::vodozemac::Curve25519PublicKey>,
    trust: &TrustTable,
) -> (Vec<(OwnedRoomId, String)>, Body) {
    let mut rooms: BTreeMap<OwnedRoomId, BTreeMap<String, _>> = BTreeMap::new();
    let mut ids = Vec::with_capacity(sessions.len());
    let pair = |s: &matrix_sdk_crypto::olm::InboundGroupSession| {
        (s.room_id().to_string(), s.session_id().to_owned())
    };
    let (received, imported): (Vec<_>, Vec<_>) =
        sessions.iter().partition(|s| !s.has_been_imported());
    let received: Vec<(String, String)> = received.into_iter().map(pair).collect();
    let imported: Vec<(String, String)> = imported.into_iter().map(pair).collect();
    // The trust table is SQLite behind a lock: one trip to a blocking
    // thread per batch, not a query per session on the async threads.
    // Keys received here are labelled as such, so a later restore never
    // relabels them; the table could only be wrong in what it shows, so a
    // failure is logged, not fatal.
    let t = trust.clone();
    let records = tokio::task::spawn_blocking(move || {
        let rows = received.iter().map(|(r, s)| (r.as_str(), s.as_str(), true));
        if let Err(e) = t.record(Source::Device, rows) {
            tracing::warn!("{e}");
        }
        t.get_pairs(&imported).unwrap_or_else(|e| {
            tracing::warn!("{e}");
            Default::default()
        })
    })
    .await
    .unwrap_or_default();
    for s in sessions {
        // An imported key keeps what its source vouched for: one restored
        // from our authenticated backup without the flag stays trusted.
        let trusted = if s.has_been_imported() {
            records
                .get(&pair(s))
                .filter(|r| r.source != Source::Device)
                .map(|r| r.trusted)
        } else {
            None
        };
        match entry(s, key, own, trusted).await {
            Ok(e) => {
                ids.push((e.room_id.clone(), e.session_id.clone()));
                rooms
                    .entry(e.room_id)
                    .or_default()
                    .insert(e.session_id, e.data);
            }
            // A session we cannot encode would block every pass; it is
            // logged and left pending rather than marked as done.
            Err(err) => {
                tracing::error!(session = %s.session_id(), error = %err, "cannot encode a session for backup")
            }
        }
    }
    let body = rooms
        .into_iter()
        .map(|(room, sessions)| (room, RoomKeyBackup::new(sessions)))
        .collect();
    (ids, body)
}
