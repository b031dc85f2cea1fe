//! `:search` and `keepsake search`: the homeserver's full-text search of
//! one room. The server cannot read encrypted rooms; those are searched in
//! the loaded messages (`/` in the room), and asking says so.

use matrix_sdk::Client;
use matrix_sdk::ruma::api::client::filter::RoomEventFilter;
use matrix_sdk::ruma::api::client::search::search_events::v3::{Categories, Criteria, Request};
use matrix_sdk::ruma::events::{AnyMessageLikeEvent, AnyTimelineEvent, MessageLikeEvent};
use serde::Serialize;

use super::rooms::{self, RoomError};

/// One message the server found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Found {
    pub event_id: String,
    pub sender: String,
    /// Origin server time, milliseconds since the epoch.
    pub ts: u64,
    pub body: String,
}

/// At most `limit` messages of `room` holding `text`, newest first.
pub async fn search(
    client: &Client,
    room: &str,
    text: &str,
    limit: usize,
) -> Result<Vec<Found>, RoomError> {
    let r = rooms::find(client, room).await?;
    if r.encryption_state().is_encrypted() {
        return Err(RoomError::Invalid(format!(
            "{room} is encrypted: the server cannot read it, so it cannot search it; \
             in the TUI, / finds text in the room's loaded messages"
        )));
    }
    let mut filter = RoomEventFilter::default();
    filter.rooms = Some(vec![r.room_id().to_owned()]);
    filter.limit = Some(limit.min(100).try_into().unwrap_or_default());
    let mut criteria = Criteria::new(text.to_owned());
    criteria.filter = filter;
    let mut categories = Categories::new();
    categories.room_events = Some(criteria);
    let resp = client
        .send(Request::new(categories))
        .await
        .map_err(|e| RoomError::Server(format!("the server's search failed: {e}")))?;
    let mut out = vec![];
    for hit in resp.search_categories.room_events.results {
        let Some(raw) = hit.result else { continue };
        // Results the server should not have sent (other rooms, bad JSON)
        // are left out.
        let Ok(AnyTimelineEvent::MessageLike(AnyMessageLikeEvent::RoomMessage(
            MessageLikeEvent::Original(m),
        ))) = raw.deserialize()
        else {
            continue;
        };
        if m.room_id != r.room_id() {
            continue;
        }
        out.push(Found {
            event_id: m.event_id.to_string(),
            sender: m.sender.to_string(),
            ts: m.origin_server_ts.get().into(),
            body: m.content.body().to_owned(),
        });
        if out.len() >= limit {
            break;
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.ts));
    Ok(out)
}
