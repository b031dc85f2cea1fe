//! What deserves a notification, by the account's own push rules: the
//! SDK evaluates them on every event of a sync (after decryption) and says
//! which notify; this turns those into alerts the front end can show.

use matrix_sdk::Client;
use matrix_sdk::deserialized_responses::RawAnySyncOrStrippedTimelineEvent;
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
};
use matrix_sdk::sync::SyncResponse;
use serde::Serialize;

/// One event the push rules say to notify about.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Alert {
    pub room_id: String,
    pub room_name: String,
    pub sender: String,
    /// The sender's display name where known.
    pub sender_name: String,
    /// What it says (a message's text; what kind of event, otherwise).
    pub body: String,
    /// The push rules highlight it: a mention of this account.
    pub highlight: bool,
    pub is_dm: bool,
}

/// The alerts of one sync response, oldest first; this account's own
/// events left out.
pub async fn of(client: &Client, response: &SyncResponse) -> Vec<Alert> {
    let me = client.user_id().map(|u| u.to_owned());
    let mut out = vec![];
    for (room_id, notes) in &response.notifications {
        let Some(room) = client.get_room(room_id) else {
            continue;
        };
        let room_name = match room.display_name().await {
            Ok(n) => n.to_string(),
            Err(_) => room_id.to_string(),
        };
        let is_dm = room.is_direct().await.unwrap_or(false);
        for n in notes {
            let RawAnySyncOrStrippedTimelineEvent::Sync(raw) = &n.event else {
                continue;
            };
            let Ok(ev) = raw.deserialize() else { continue };
            if Some(ev.sender()) == me.as_deref() {
                continue;
            }
            let highlight = n.actions.iter().any(|a| a.is_highlight());
            let sender_name = match room.get_member_no_sync(ev.sender()).await {
                Ok(Some(m)) => m.name().to_owned(),
                _ => ev.sender().to_string(),
            };
            out.push(Alert {
                room_id: room_id.to_string(),
                room_name: room_name.clone(),
                sender: ev.sender().to_string(),
                sender_name,
                body: body(&ev),
                highlight,
                is_dm,
            });
        }
    }
    out
}

/// A message's text, cut to a notification's length.
fn body(ev: &AnySyncTimelineEvent) -> String {
    let text = match ev {
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
            SyncMessageLikeEvent::Original(m),
        )) => m.content.body().to_owned(),
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomEncrypted(_)) => {
            "an encrypted message".to_owned()
        }
        other => format!("({})", other.event_type()),
    };
    let mut cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}
