//! A room's history through matrix-sdk-ui's Timeline on classic sync, with
//! each event's encryption state: the megolm session that decrypted it and
//! the SDK's verification state, or why it could not be decrypted.
//!
//! The trust mark of every message is decided in [`mark`]; `convert`
//! gathers its inputs (the SDK's verdict, the trust record, the sender's
//! device) for one timeline item.

use std::collections::HashMap;

use matrix_sdk::Client;
use matrix_sdk::deserialized_responses::{AlgorithmInfo, EncryptionInfo, VerificationState};
use matrix_sdk::ruma::{DeviceKeyAlgorithm, OwnedUserId};
use matrix_sdk_ui::timeline::{EncryptedMessage, RoomExt};
use serde::Serialize;

use super::content::{Attachment, Kind};
use super::formatted::RichLine;
use super::rooms::{self, RoomError};
use std::sync::Arc;

use matrix_sdk_ui::timeline::TimelineItem;

use super::trust_cache::TrustCache;
use crate::backup::trust::{Record, Source, TrustTable};

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

/// The trust mark of one event. Two facts make it: where the key came from
/// (straight from its sender, our authenticated backup, an untrusted backup
/// or a key file) and what is known of the sender's device. The backup can
/// only lift the SDK's "origin unknown / not verified" verdicts; spoofing
/// and identity-change verdicts always win.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Decrypted; the SDK verified the sender's device.
    Verified,
    /// Decrypted; the sender's device is not verified.
    Unverified,
    /// Decrypted with a key from our authenticated symmetric backup, bound
    /// to a device of the event's sender.
    BackupTrusted,
    /// Decrypted with a key from a backup or file that cannot vouch for it.
    BackupUntrusted,
    /// Decrypted, but the SDK flags it: the sender does not own the key's
    /// device, or the sender's verified identity changed.
    Warning,
    /// Not decryptable.
    Utd,
    /// Not encrypted.
    Plain,
}

/// What the sender's device list says about the device that made a
/// message's session (found by its curve25519 key among the devices of the
/// user the event names as its sender).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SenderDevice {
    /// The sender owns that device and it is verified.
    Verified,
    /// The sender owns that device; it is not verified.
    Unverified,
    /// None of the sender's known devices made this session (the device was
    /// deleted, is not known yet, or the server changed the event's sender).
    Unknown,
}

/// Why a key from the backup is not taken as the sender's when the device
/// that made it cannot be tied to the event's sender.
pub const UNBOUND_REASON: &str =
    "none of the sender's devices made this key, so the backup cannot vouch that they sent it";

/// The trust mark of one event and its reason, from the SDK's verdict, the
/// event's undecryptability, the trust table's record and the sender's
/// device. Pure; the table test in this module covers every combination.
pub fn mark(
    sdk: Option<&VerificationState>,
    utd: bool,
    record: Option<Record>,
    device: Option<SenderDevice>,
) -> (Trust, Option<String>) {
    use matrix_sdk::deserialized_responses::VerificationLevel as L;
    let Some(state) = sdk else {
        return (if utd { Trust::Utd } else { Trust::Plain }, None);
    };
    if utd {
        return (Trust::Utd, None);
    }
    let level = match state {
        VerificationState::Verified => return (Trust::Verified, None),
        VerificationState::Unverified(level) => level,
    };
    // Spoofing and identity changes are never lifted by where the key came
    // from: a server can rewrite an event's sender on a key we backed up.
    if matches!(level, L::MismatchedSender | L::VerificationViolation) {
        return (Trust::Warning, Some(level.to_string()));
    }
    match record {
        Some(r) if r.source != Source::Device => {
            if !r.trusted {
                return (Trust::BackupUntrusted, r.reason().map(str::to_owned));
            }
            // A trusted key still names no sender: it counts only once tied
            // to a device of the user the event says sent it.
            let bound = matches!(
                device,
                Some(SenderDevice::Verified | SenderDevice::Unverified)
            );
            if bound {
                (Trust::BackupTrusted, None)
            } else {
                (Trust::BackupUntrusted, Some(UNBOUND_REASON.to_owned()))
            }
        }
        _ => (Trust::Unverified, Some(level.to_string())),
    }
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

/// One device of a sender: its keys and whether it is verified.
#[derive(Debug, Clone)]
struct KnownDevice {
    curve25519: Option<String>,
    ed25519: Option<String>,
    verified: bool,
}

/// The devices of the senders of timeline items, looked up in the crypto
/// store (and asked of the server once for a sender the store does not
/// know), so that a message's key can be tied to a device of its sender.
#[derive(Debug, Default)]
pub struct Devices {
    by_user: HashMap<String, Vec<KnownDevice>>,
    /// Senders asked of the server already (at most once each).
    asked: std::collections::HashSet<String>,
}

impl Devices {
    /// Looks up the senders of encrypted events among `items` that are not
    /// looked up yet. Errors leave a sender out (its messages are then not
    /// tied to a device, which never raises a mark).
    pub async fn load<'a>(
        &mut self,
        client: &Client,
        items: impl IntoIterator<Item = &'a std::sync::Arc<matrix_sdk_ui::timeline::TimelineItem>>,
    ) {
        let mut senders: Vec<OwnedUserId> = items
            .into_iter()
            .filter_map(|i| i.as_event())
            .filter(|e| e.encryption_info().is_some())
            .map(|e| e.sender().to_owned())
            .filter(|u| !self.by_user.contains_key(u.as_str()))
            .collect();
        senders.sort();
        senders.dedup();
        for user in senders {
            let mut devices = Self::store_devices(client, &user).await;
            if devices.as_ref().is_some_and(Vec::is_empty) && self.asked.insert(user.to_string()) {
                // Never queried (a fresh device, a one-shot process): ask
                // the server once, then read the store again.
                if let Err(e) = client.encryption().request_user_identity(&user).await {
                    tracing::warn!(error = %e, "cannot query the sender's devices");
                }
                devices = Self::store_devices(client, &user).await;
            }
            if let Some(d) = devices {
                self.by_user.insert(user.to_string(), d);
            }
        }
    }

    /// Forgets every sender, so the next `load` reads them again (after a
    /// device's verification changed).
    pub fn clear(&mut self) {
        self.by_user.clear();
    }

    async fn store_devices(client: &Client, user: &OwnedUserId) -> Option<Vec<KnownDevice>> {
        match client.encryption().get_user_devices(user).await {
            Ok(d) => Some(
                d.devices()
                    .map(|d| KnownDevice {
                        curve25519: d.curve25519_key().map(|k| k.to_base64()),
                        ed25519: d.ed25519_key().map(|k| k.to_base64()),
                        verified: d.is_verified(),
                    })
                    .collect(),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the sender's devices");
                None
            }
        }
    }

    /// Ties an event's session to a device of its sender by the session's
    /// curve25519 key (and its claimed ed25519 key, when it has one).
    /// `None` when the sender was not looked up.
    pub fn judge(&self, info: &EncryptionInfo) -> Option<SenderDevice> {
        let AlgorithmInfo::MegolmV1AesSha2 {
            curve25519_key,
            sender_claimed_keys,
            ..
        } = &info.algorithm_info
        else {
            return None;
        };
        let devices = self.by_user.get(info.sender.as_str())?;
        let ed = sender_claimed_keys.get(&DeviceKeyAlgorithm::Ed25519);
        let found = devices.iter().find(|d| {
            d.curve25519.as_deref() == Some(curve25519_key.as_str())
                && ed.is_none_or(|ed| d.ed25519.as_deref() == Some(ed.as_str()))
        });
        Some(match found {
            Some(d) if d.verified => SenderDevice::Verified,
            Some(_) => SenderDevice::Unverified,
            None => SenderDevice::Unknown,
        })
    }
}

#[cfg(test)]
mod tests {
    use matrix_sdk::deserialized_responses::{DeviceLinkProblem, VerificationLevel as L};

    use super::*;

    fn levels() -> Vec<L> {
        vec![
            L::UnverifiedIdentity,
            L::VerificationViolation,
            L::UnsignedDevice,
            L::None(DeviceLinkProblem::MissingDevice),
            L::None(DeviceLinkProblem::InsecureSource),
            L::MismatchedSender,
        ]
    }

    fn records() -> Vec<Option<Record>> {
        let mut out = vec![None];
        for source in [
            Source::Device,
            Source::SymmetricBackup,
            Source::AsymmetricBackup,
            Source::KeyFile,
        ] {
            for trusted in [true, false] {
                out.push(Some(Record { source, trusted }));
            }
        }
        out
    }

    fn devices() -> Vec<Option<SenderDevice>> {
        vec![
            None,
            Some(SenderDevice::Verified),
            Some(SenderDevice::Unverified),
            Some(SenderDevice::Unknown),
        ]
    }

    /// The rule, written out independently of `mark`'s code.
    fn expected(
        sdk: Option<&VerificationState>,
        utd: bool,
        record: Option<Record>,
        device: Option<SenderDevice>,
    ) -> Trust {
        match (sdk, utd) {
            (_, true) => Trust::Utd,
            (None, false) => Trust::Plain,
            (Some(VerificationState::Verified), _) => Trust::Verified,
            (Some(VerificationState::Unverified(L::MismatchedSender)), _)
            | (Some(VerificationState::Unverified(L::VerificationViolation)), _) => Trust::Warning,
            (Some(VerificationState::Unverified(_)), _) => match record {
                Some(r) if r.source == Source::Device => Trust::Unverified,
                None => Trust::Unverified,
                Some(r) => {
                    let bound = matches!(
                        device,
                        Some(SenderDevice::Verified | SenderDevice::Unverified)
                    );
                    if bound && r.trusted {
                        Trust::BackupTrusted
                    } else {
                        Trust::BackupUntrusted
                    }
                }
            },
        }
    }

    #[test]
    fn every_verdict_record_and_device() {
        let mut states: Vec<Option<VerificationState>> =
            vec![None, Some(VerificationState::Verified)];
        states.extend(
            levels()
                .into_iter()
                .map(|l| Some(VerificationState::Unverified(l))),
        );
        let mut checked = 0;
        for sdk in &states {
            for utd in [false, true] {
                for record in records() {
                    for device in devices() {
                        let (got, reason) = mark(sdk.as_ref(), utd, record, device);
                        let want = expected(sdk.as_ref(), utd, record, device);
                        assert_eq!(got, want, "{sdk:?} utd={utd} {record:?} {device:?}");
                        // Every doubt carries its reason.
                        let needs_reason = matches!(
                            got,
                            Trust::Unverified | Trust::BackupUntrusted | Trust::Warning
                        );
                        assert_eq!(reason.is_some(), needs_reason, "{got:?} {reason:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 8 * 2 * 9 * 4);
    }

    #[test]
    fn a_backup_record_never_hides_spoofing() {
        let trusted = Some(Record {
            source: Source::SymmetricBackup,
            trusted: true,
        });
        for level in [L::MismatchedSender, L::VerificationViolation] {
            let text = level.to_string();
            let (t, reason) = mark(
                Some(&VerificationState::Unverified(level)),
                false,
                trusted,
                Some(SenderDevice::Verified),
            );
            assert_eq!(t, Trust::Warning);
            assert_eq!(reason.as_deref(), Some(text.as_str()));
        }
    }

    #[test]
    fn a_backup_key_not_tied_to_the_sender_is_not_trusted() {
        let trusted = Some(Record {
            source: Source::SymmetricBackup,
            trusted: true,
        });
        let insecure = VerificationState::Unverified(L::None(DeviceLinkProblem::InsecureSource));
        for device in [None, Some(SenderDevice::Unknown)] {
            let (t, reason) = mark(Some(&insecure), false, trusted, device);
            assert_eq!(t, Trust::BackupUntrusted);
            assert_eq!(reason.as_deref(), Some(UNBOUND_REASON));
        }
        let (t, _) = mark(
            Some(&insecure),
            false,
            trusted,
            Some(SenderDevice::Unverified),
        );
        assert_eq!(t, Trust::BackupTrusted);
    }
}
