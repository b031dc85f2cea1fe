//! A room's history through matrix-sdk-ui's Timeline on classic sync, with
//! each event's encryption state: the megolm session that decrypted it and
//! the SDK's verification state, or why it could not be decrypted.

use matrix_sdk::Client;
use matrix_sdk::deserialized_responses::VerificationState;
use matrix_sdk_ui::timeline::{EncryptedMessage, RoomExt};
use serde::Serialize;

use super::rooms::{self, RoomError};
use crate::backup::trust::{Record, Source, TrustTable};

/// One event as `history --json` prints it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HistoryItem {
    pub event_id: Option<String>,
    pub sender: String,
    /// Origin server time, milliseconds since the epoch.
    pub ts: u64,
    /// Message text; `null` for what is not a message (and for UTDs).
    pub body: Option<String>,
    /// The megolm session id; `null` when the event was not encrypted.
    pub session_id: Option<String>,
    pub encrypted: bool,
    pub decrypted: bool,
    /// Why it could not be decrypted; `null` when decrypted or plain.
    pub utd_reason: Option<String>,
    /// The SDK's view of the sender's device: "verified", "unverified: ..."
    /// or `null` when the event was not encrypted.
    pub verification: Option<String>,
    /// How far this message can be trusted, one word for the user.
    pub trust: Trust,
    /// Why, when the word alone does not say it (`null` otherwise).
    pub trust_reason: Option<String>,
    /// The event this message replies to.
    pub in_reply_to: Option<String>,
    /// The message was edited (the body is the latest version).
    pub edited: bool,
    /// Reactions, one per key, in the order they were first given.
    pub reactions: Vec<Reaction>,
    /// The message was redacted (its body is gone).
    pub redacted: bool,
    /// Sent by this account (so it can be edited or redacted).
    pub own: bool,
}

/// One reaction key on a message and how many gave it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Reaction {
    pub key: String,
    pub count: usize,
}

/// The trust mark of one event. Keys restored from a backup are judged by
/// where they came from (the trust table), which takes precedence over the
/// SDK's "authenticity can't be guaranteed" for every restored key.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Decrypted; the SDK verified the sender's device.
    Verified,
    /// Decrypted; the sender's device is not verified.
    Unverified,
    /// Decrypted with a key from our authenticated symmetric backup.
    BackupTrusted,
    /// Decrypted with a key from a backup or file that cannot vouch for it.
    BackupUntrusted,
    /// Not decryptable.
    Utd,
    /// Not encrypted.
    Plain,
}

fn verification(v: &VerificationState) -> String {
    match v {
        VerificationState::Verified => "verified".to_owned(),
        VerificationState::Unverified(level) => format!("unverified: {level}"),
    }
}

/// The last `limit` events of a room (messages and undecryptable events),
/// oldest first, paginating back as far as needed.
pub async fn history(
    client: &Client,
    trust: &TrustTable,
    room: &str,
    limit: usize,
) -> Result<Vec<HistoryItem>, RoomError> {
    let room = rooms::find(client, room).await?;
    // A one-shot process cannot be sure the persisted event cache saw every
    // earlier sync (its writer runs in the background and dies with the
    // process), and a gap there hides messages. Start the room's cache afresh
    // so history comes from the server.
    let (cache, _handles) = room
        .event_cache()
        .await
        .map_err(|e| RoomError::Server(e.to_string()))?;
    cache
        .clear()
        .await
        .map_err(|e| RoomError::Server(e.to_string()))?;
    let timeline = room
        .timeline()
        .await
        .map_err(|e| RoomError::Server(e.to_string()))?;
    loop {
        let have = collect(room.room_id().as_str(), trust, &timeline.items().await).len();
        if have >= limit {
            break;
        }
        let want = u16::try_from((limit - have).clamp(20, 200)).unwrap_or(200);
        let reached_start = timeline
            .paginate_backwards(want)
            .await
            .map_err(|e| RoomError::Server(e.to_string()))?;
        if reached_start {
            break;
        }
    }
    let mut items = collect(room.room_id().as_str(), trust, &timeline.items().await);
    let skip = items.len().saturating_sub(limit);
    Ok(items.split_off(skip))
}

/// The megolm sessions that undecryptable events among `items` need,
/// each once.
pub fn utd_sessions(items: &[HistoryItem]) -> Vec<String> {
    let mut out: Vec<String> = items
        .iter()
        .filter(|i| i.trust == Trust::Utd)
        .filter_map(|i| i.session_id.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The trust mark of one event: the SDK's verified sender first, then where
/// the key came from (the trust table), then the SDK's state.
pub fn mark(
    sdk: Option<&VerificationState>,
    utd: bool,
    record: Option<Record>,
) -> (Trust, Option<String>) {
    let Some(state) = sdk else {
        return (if utd { Trust::Utd } else { Trust::Plain }, None);
    };
    if utd {
        return (Trust::Utd, None);
    }
    if let VerificationState::Verified = state {
        return (Trust::Verified, None);
    }
    match record {
        Some(r) if r.source != Source::Device => {
            let reason = r.reason().map(str::to_owned);
            if r.trusted {
                (Trust::BackupTrusted, None)
            } else {
                (Trust::BackupUntrusted, reason)
            }
        }
        _ => match state {
            VerificationState::Verified => (Trust::Verified, None),
            VerificationState::Unverified(level) => (Trust::Unverified, Some(level.to_string())),
        },
    }
}

/// The messages and undecryptable events among timeline items of `room_id`,
/// oldest first, with each one's trust mark.
pub(crate) fn collect<'a>(
    room_id: &str,
    trust: &TrustTable,
    items: impl IntoIterator<Item = &'a std::sync::Arc<matrix_sdk_ui::timeline::TimelineItem>>,
) -> Vec<HistoryItem> {
    items
        .into_iter()
        .filter_map(|item| item.as_event())
        .filter_map(|ev| {
            let content = ev.content();
            let utd = content.as_unable_to_decrypt();
            if content.as_message().is_none() && utd.is_none() && !content.is_redacted() {
                return None;
            }
            let info = ev.encryption_info();
            let (session_id, utd_reason) = match utd {
                Some(EncryptedMessage::MegolmV1AesSha2 {
                    session_id, cause, ..
                }) => (Some(session_id.clone()), Some(format!("{cause:?}"))),
                Some(other) => (None, Some(format!("unsupported encryption: {other:?}"))),
                None => (info.and_then(|i| i.session_id()).map(str::to_owned), None),
            };
            let record = match (info, &session_id) {
                (Some(_), Some(sid)) => trust.get(room_id, sid).unwrap_or_else(|e| {
                    tracing::warn!("{e}");
                    None
                }),
                _ => None,
            };
            let (trust, trust_reason) =
                mark(info.map(|i| &i.verification_state), utd.is_some(), record);
            Some(HistoryItem {
                event_id: ev.event_id().map(|e| e.to_string()),
                sender: ev.sender().to_string(),
                ts: ev.timestamp().get().into(),
                body: content.as_message().map(|m| m.body().to_owned()),
                encrypted: info.is_some() || utd.is_some(),
                decrypted: info.is_some(),
                session_id,
                utd_reason,
                verification: info.map(|i| verification(&i.verification_state)),
                trust,
                trust_reason,
                in_reply_to: content.in_reply_to().map(|r| r.event_id.to_string()),
                edited: content.as_message().is_some_and(|m| m.is_edited()),
                reactions: content
                    .reactions()
                    .map(|r| {
                        r.iter()
                            .map(|(key, by)| Reaction {
                                key: key.clone(),
                                count: by.len(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                redacted: content.is_redacted(),
                own: ev.is_own(),
            })
        })
        .collect()
}
