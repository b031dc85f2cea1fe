//! When each room last saw activity: the room list's default order.
//!
//! matrix-sdk 0.18 keeps a room's latest event only for clients that run its
//! `LatestEvents` service per room; keepsake needs just a time per room, for
//! the headless commands as much as for the TUI. So every sync's timeline
//! events are read for it (`from_sync`, pure) and the newest times kept in
//! the state store as one small record.

use std::collections::BTreeMap;

use matrix_sdk::Client;
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk::sync::SyncResponse;

/// The state store's key of the record (room id -> ms since the epoch).
const KEY: &[u8] = b"keepsake.room_activity.v1";

pub type Activity = BTreeMap<OwnedRoomId, u64>;

/// Whether an event counts as activity: something people said or sent.
/// Reactions, redactions and state changes (joins, name changes) do not
/// lift a room to the top; a room without any such event yet is dated by
/// its newest event of any kind.
fn counts(ev: &TimelineEvent) -> bool {
    let raw = ev.raw();
    if raw
        .get_field::<serde::de::IgnoredAny>("state_key")
        .ok()
        .flatten()
        .is_some()
    {
        return false;
    }
    !matches!(
        raw.get_field::<String>("type").ok().flatten().as_deref(),
        Some("m.reaction" | "m.room.redaction") | None
    )
}

/// The newest activity each joined room shows in `events`, merged into
/// `known` (times only move forward); whether anything changed.
pub fn merge<'a>(
    known: &mut Activity,
    rooms: impl IntoIterator<Item = (&'a OwnedRoomId, &'a [TimelineEvent])>,
) -> bool {
    let mut changed = false;
    for (room, events) in rooms {
        let ts = |e: &TimelineEvent| e.timestamp().map(|t| u64::from(t.get()));
        let newest = events.iter().filter(|e| counts(e)).filter_map(ts).max();
        let newest = match newest {
            Some(t) => t,
            None if !known.contains_key(room) => match events.iter().filter_map(ts).max() {
                Some(t) => t,
                None => continue,
            },
            None => continue,
        };
        let slot = known.entry(room.clone()).or_insert(0);
        if newest > *slot {
            *slot = newest;
            changed = true;
        }
    }
    changed
}

/// The record as kept (empty if none, or unreadable: it only orders rooms).
pub async fn load(client: &Client) -> Activity {
    match client.state_store().get_custom_value(KEY).await {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_default(),
        _ => Activity::new(),
    }
}

/// Takes a sync's news into the record.
pub async fn record(client: &Client, response: &SyncResponse) {
    let rooms = response
        .rooms
        .joined
        .iter()
        .map(|(id, r)| (id, r.timeline.events.as_slice()));
    if response.rooms.joined.is_empty() {
        return;
    }
    let mut known = load(client).await;
    if !merge(&mut known, rooms) {
        return;
    }
    match serde_json::to_vec(&known) {
        Ok(bytes) => {
            if let Err(e) = client.state_store().set_custom_value(KEY, bytes).await {
                tracing::warn!(error = %e, "cannot save the rooms' activity");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot encode the rooms' activity"),
    }
}
