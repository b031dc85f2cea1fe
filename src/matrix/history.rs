//! A room's history through matrix-sdk-ui's Timeline on classic sync, with
//! each event's encryption state: the megolm session that decrypted it and
//! the SDK's verification state, or why it could not be decrypted.
//!
//! The trust mark of every message is decided in `trust_mark`; `convert`
//! gathers its inputs (the SDK's verdict, the trust record, the sender's
//! device) for one timeline item.

use std::sync::Arc;

use matrix_sdk::Client;
use matrix_sdk::deserialized_responses::VerificationState;
use matrix_sdk_ui::timeline::{EncryptedMessage, RoomExt, TimelineItem};
use serde::Serialize;

use super::content::{Attachment, Kind};
use super::formatted::RichLine;
use super::rooms::{self, RoomError};
pub use super::sender_devices::Devices;
use super::trust_cache::TrustCache;
pub use super::trust_mark::{SenderDevice, Trust, UNBOUND_REASON, mark};
use crate::backup::trust::TrustTable;

/// One event as `history --json` prints it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HistoryItem {
    pub event_id: Option<String>,
    pub sender: String,
    /// Origin server time, milliseconds since the epoch.
    pub ts: u64,
    /// What the event is (text, notice, emote, image, file, ...).
    pub kind: Kind,
    /// Message text; `null` for what is not a message (and for UTDs).
    pub body: Option<String>,
    /// The sender's formatting, as sanitized HTML; `null` when none.
    pub formatted: Option<String>,
    /// The formatting as lines to draw.
    #[serde(skip)]
    pub rich: Vec<RichLine>,
    /// The file an image, file, video, audio or sticker carries.
    pub attachment: Option<Attachment>,
    /// The thread this message is a reply in.
    pub thread_root: Option<String>,
    /// Replies in the thread this message starts (0 when none).
    pub thread_replies: u32,
    /// The account's push rules highlight it (a mention of this account).
    pub mentions_me: bool,
    /// The megolm session id; `null` when the event was not encrypted.
    pub session_id: Option<String>,
    pub encrypted: bool,
    pub decrypted: bool,
    /// Why it could not be decrypted, one of a documented snake_case set
    /// (see `utd::reason`); `null` when decrypted or plain.
    pub utd_reason: Option<String>,
    /// The same in a sentence, with what fixes it.
    pub utd_hint: Option<String>,
    /// The SDK's view of the sender's device: "verified", "unverified: ..."
    /// or `null` when the event was not encrypted.
    pub verification: Option<String>,
    /// How far this message can be trusted, one word for the user.
    pub trust: Trust,
    /// Why, when the word alone does not say it (`null` otherwise).
    pub trust_reason: Option<String>,
    /// What the sender's device list says of the device that made the
    /// session (`null` when not encrypted or not looked up).
    pub sender_device: Option<SenderDevice>,
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
    /// Who has read up to this message and no further (their latest read
    /// receipt is here), in the order the SDK knows them.
    pub read_by: Vec<String>,
    /// The account's read marker (where it stopped reading, on any device)
    /// stands just before this message.
    #[serde(skip)]
    pub read_marker: bool,
}

/// One reaction key on a message and how many gave it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Reaction {
    pub key: String,
    pub count: usize,
}

fn verification(v: &VerificationState) -> String {
    match v {
        VerificationState::Verified => "verified".to_owned(),
        VerificationState::Unverified(level) => format!("unverified: {level}"),
    }
}

/// The last `limit` events of a room (messages and undecryptable events),
/// oldest first, paginating back as far as needed. Replies in threads are
/// left out (their roots count them); with `thread`, that thread's root
/// and replies instead.
pub async fn history(
    client: &Client,
    trust: &TrustTable,
    room: &str,
    limit: usize,
    thread: Option<&str>,
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
    let timeline = build_timeline(&room, thread).await?;
    // A thread's pages reach its timeline through a background task after
    // the pagination returns: its changes are awaited until they stop.
    let (_, mut changes) = timeline.subscribe().await;
    let mut devices = Devices::default();
    let mut cache = TrustCache::new(room.room_id().as_str());
    loop {
        let items = timeline.items().await;
        devices.load(client, &items).await;
        cache.fill(trust, sessions_of(&items)).await;
        let have = collect(&cache, &devices, &items).len();
        if have >= limit {
            break;
        }
        let want = u16::try_from((limit - have).clamp(20, 200)).unwrap_or(200);
        let reached_start = timeline
            .paginate_backwards(want)
            .await
            .map_err(|e| RoomError::Server(e.to_string()))?;
        if thread.is_some() {
            settle(&mut changes).await;
        }
        if reached_start {
            break;
        }
    }
    let items = timeline.items().await;
    devices.load(client, &items).await;
    cache.fill(trust, sessions_of(&items)).await;
    let mut items = collect(&cache, &devices, &items);
    let skip = items.len().saturating_sub(limit);
    Ok(items.split_off(skip))
}

/// Waits until `changes` has been quiet for a moment (at most a few
/// seconds in all).
async fn settle<S: futures_util::Stream + Unpin>(changes: &mut S) {
    use futures_util::StreamExt;
    const QUIET: std::time::Duration = std::time::Duration::from_millis(200);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(QUIET, changes.next()).await {
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => break,
        }
    }
}

/// The SDK's timeline of a room without thread replies, or of one thread.
pub async fn build_timeline(
    room: &matrix_sdk::Room,
    thread: Option<&str>,
) -> Result<matrix_sdk_ui::Timeline, RoomError> {
    use matrix_sdk_ui::timeline::TimelineFocus;
    let focus = match thread {
        Some(root) => TimelineFocus::Thread {
            root_event_id: matrix_sdk::ruma::OwnedEventId::try_from(root)
                .map_err(|_| RoomError::BadEvent(root.to_owned()))?,
        },
        None => TimelineFocus::Live {
            hide_threaded_events: true,
        },
    };
    room.timeline_builder()
        .with_focus(focus)
        .track_read_marker_and_receipts(
            matrix_sdk_ui::timeline::TimelineReadReceiptTracking::MessageLikeEvents,
        )
        .build()
        .await
        .map_err(|e| RoomError::Server(e.to_string()))
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

/// The messages and undecryptable events among timeline items, oldest
/// first, with each one's trust mark. Pure: the records come from `trust`,
/// filled beforehand for [`sessions_of`] these items.
pub(crate) fn collect<'a>(
    trust: &TrustCache,
    devices: &Devices,
    items: impl IntoIterator<Item = &'a Arc<TimelineItem>>,
) -> Vec<HistoryItem> {
    flatten(
        items
            .into_iter()
            .filter_map(|item| entry(trust, devices, item))
            .collect::<Vec<_>>()
            .iter(),
    )
}

/// A timeline item as keepsake keeps it: a message, or the read marker.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    Item(Box<HistoryItem>),
    ReadMarker,
}

/// [`convert`], keeping the read marker.
pub(crate) fn entry(
    trust: &TrustCache,
    devices: &Devices,
    item: &Arc<TimelineItem>,
) -> Option<Entry> {
    if matches!(
        item.as_virtual(),
        Some(matrix_sdk_ui::timeline::VirtualTimelineItem::ReadMarker)
    ) {
        return Some(Entry::ReadMarker);
    }
    convert(trust, devices, item).map(|i| Entry::Item(Box::new(i)))
}

/// The messages of entries, the read marker set on the one after it.
pub(crate) fn flatten<'a>(entries: impl Iterator<Item = &'a Entry>) -> Vec<HistoryItem> {
    let mut out = vec![];
    let mut marker = false;
    for e in entries {
        match e {
            Entry::ReadMarker => marker = true,
            Entry::Item(i) => {
                let mut i = (**i).clone();
                i.read_marker = std::mem::take(&mut marker);
                out.push(i);
            }
        }
    }
    out
}

/// The megolm sessions whose trust records `items` need.
pub(crate) fn sessions_of<'a>(
    items: impl IntoIterator<Item = &'a Arc<TimelineItem>>,
) -> Vec<String> {
    items
        .into_iter()
        .filter_map(|item| item.as_event())
        .filter_map(|ev| match ev.content().as_unable_to_decrypt() {
            Some(EncryptedMessage::MegolmV1AesSha2 { session_id, .. }) => Some(session_id.clone()),
            Some(_) => None,
            None => ev
                .encryption_info()
                .and_then(|i| i.session_id())
                .map(str::to_owned),
        })
        .collect()
}

/// One timeline item as a history item: a message or an undecryptable
/// event, with its trust mark; `None` for anything else.
pub(crate) fn convert(
    trust: &TrustCache,
    devices: &Devices,
    item: &Arc<TimelineItem>,
) -> Option<HistoryItem> {
    item.as_event().and_then(|ev| {
        let content = ev.content();
        let utd = content.as_unable_to_decrypt();
        if content.as_message().is_none()
            && !content.is_sticker()
            && utd.is_none()
            && !content.is_redacted()
        {
            return None;
        }
        let what = super::content::describe(content);
        let info = ev.encryption_info();
        let (session_id, utd_reason, utd_hint) = match utd {
            Some(EncryptedMessage::MegolmV1AesSha2 {
                session_id, cause, ..
            }) => (
                Some(session_id.clone()),
                Some(super::utd::reason(*cause).to_owned()),
                Some(super::utd::hint(*cause).to_owned()),
            ),
            Some(_) => (
                None,
                Some("unsupported_encryption".to_owned()),
                Some("encrypted in a way keepsake cannot read".to_owned()),
            ),
            None => (
                info.and_then(|i| i.session_id()).map(str::to_owned),
                None,
                None,
            ),
        };
        let record = match (info, &session_id) {
            (Some(_), Some(sid)) => trust.get(sid),
            _ => None,
        };
        let sender_device = info.and_then(|i| devices.judge(i));
        let (trust, trust_reason) = mark(
            info.map(|i| &i.verification_state),
            utd.is_some(),
            record,
            sender_device,
        );
        Some(HistoryItem {
            event_id: ev.event_id().map(|e| e.to_string()),
            sender: ev.sender().to_string(),
            ts: ev.timestamp().get().into(),
            kind: what.kind,
            body: what.body,
            formatted: what.formatted,
            rich: what.rich,
            attachment: what.attachment,
            thread_root: content.thread_root().map(|r| r.to_string()),
            thread_replies: content.thread_summary().map_or(0, |t| t.num_replies),
            mentions_me: ev.is_highlighted(),
            encrypted: info.is_some() || utd.is_some(),
            decrypted: info.is_some(),
            session_id,
            utd_reason,
            utd_hint,
            verification: info.map(|i| verification(&i.verification_state)),
            trust,
            trust_reason,
            sender_device,
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
            read_by: ev.read_receipts().keys().map(|u| u.to_string()).collect(),
            read_marker: false,
        })
    })
}
