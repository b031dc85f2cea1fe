//! Rooms and messages: list, create, invite, join, leave, send. Each takes a
//! client whose session is restored; results are plain data for the CLI and
//! the TUI.

use std::time::Duration;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoomRequest;
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId, RoomAliasId, RoomId, RoomOrAliasId};
use matrix_sdk::sync::SyncResponse;
use matrix_sdk::{Client, Room, RoomState};
use serde::Serialize;

/// A room as the room list shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RoomSummary {
    pub room_id: String,
    pub name: String,
    pub topic: Option<String>,
    /// Joined members, when the server said (Synapse counts them in its
    /// sync only for clients that lazy-load members; keepsake does not yet).
    pub members: Option<u64>,
    /// "joined" or "invited".
    pub membership: &'static str,
    pub encrypted: bool,
    /// Unread messages (counted here, so right in encrypted rooms too).
    pub unread: u64,
    /// Unread messages that mention us (push rules' highlights).
    pub highlights: u64,
    pub is_dm: bool,
    /// The other member of a DM (the first, if several).
    pub dm_with: Option<String>,
    /// Tagged `m.favourite` / `m.lowpriority` (listed first / last).
    pub favourite: bool,
    pub low_priority: bool,
    /// When the room last saw a message, ms since the epoch (`activity`).
    pub last_activity: Option<u64>,
    /// Who invited us (invitations only).
    pub inviter: Option<String>,
    /// A space (a room of rooms), not a room to chat in.
    pub is_space: bool,
    /// The joined spaces this room belongs to (by their `m.space.child`
    /// events, or its own `m.space.parent`), as room ids.
    pub spaces: Vec<String>,
    /// Its canonical alias (#name:server), if it has one.
    pub alias: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    #[error("unknown room {0}: not a room you are in or invited to")]
    UnknownRoom(String),
    #[error("`{0}` is not a room id (!id:server) or alias (#alias:server)")]
    BadRoom(String),
    #[error("`{0}` is not a user id (@user:server)")]
    BadUser(String),
    #[error("`{0}` is not an event id ($id)")]
    BadEvent(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Server(String),
}

fn server(e: impl std::fmt::Display) -> RoomError {
    RoomError::Server(e.to_string())
}

/// One incremental sync that returns at once (uploads our device keys and
/// brings the store up to date).
pub async fn sync_once(client: &Client) -> Result<(), RoomError> {
    let response = client
        .sync_once(SyncSettings::default().timeout(Duration::ZERO))
        .await
        .map_err(server)?;
    super::activity::record(client, &response).await;
    counted(client, &response, COUNTING_WAIT).await;
    Ok(())
}

/// The bound on [`counted`]'s wait. It takes milliseconds; the bound is for a
/// cache that never takes an event, which must not hang a command.
pub const COUNTING_WAIT: Duration = Duration::from_secs(3);

/// matrix-sdk counts unread messages and mentions in its event cache, on a
/// task of its own, after `sync_once` has returned; read at once, a room's
/// counts can miss what this sync brought (a mention not highlighted). Waits
/// until the cache holds the last event the response brought to each room,
/// as it takes a sync's events and counts them under one lock, or until
/// `within` has passed.
pub async fn counted(client: &Client, response: &SyncResponse, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    for (room_id, update) in &response.rooms.joined {
        let Some(last) = update
            .timeline
            .events
            .iter()
            .rev()
            .find_map(|e| e.event_id())
        else {
            continue;
        };
        let Some(room) = client.get_room(room_id) else {
            continue;
        };
        // No event cache (not subscribed): nothing counts, nothing to wait for.
        let Ok((cache, _handles)) = room.event_cache().await else {
            return;
        };
        while !matches!(cache.find_event(&last).await, Ok(Some(_))) {
            if tokio::time::Instant::now() >= deadline {
                tracing::debug!(%room_id, "the event cache has not counted this sync yet");
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Every room we are in or invited to, in the default order (latest
/// activity; see `room_order`).
pub async fn summaries(client: &Client) -> Vec<RoomSummary> {
    let activity = super::activity::load(client).await;
    let mut out = vec![];
    for room in client
        .joined_rooms()
        .into_iter()
        .chain(client.invited_rooms())
    {
        let mut s = summary(&room).await;
        s.last_activity = activity.get(room.room_id()).copied();
        out.push(s);
    }
    let links = space_links(client).await;
    for s in &mut out {
        let mut spaces: Vec<String> = links
            .iter()
            .filter(|(_, child)| child.as_str() == s.room_id)
            .map(|(space, _)| space.to_string())
            .collect();
        spaces.sort();
        spaces.dedup();
        s.spaces = spaces;
    }
    super::room_order::sort(&mut out, super::room_order::RoomSort::Activity);
    out
}

/// (space, room) for every room a joined space lists as its child, and
/// every space a room names as its parent (if we are in that space).
async fn space_links(client: &Client) -> Vec<(OwnedRoomId, OwnedRoomId)> {
    use matrix_sdk::deserialized_responses::SyncOrStrippedState;
    use matrix_sdk::ruma::events::SyncStateEvent;
    use matrix_sdk::ruma::events::space::child::SpaceChildEventContent;
    use matrix_sdk::ruma::events::space::parent::SpaceParentEventContent;
    let joined = client.joined_rooms();
    let mut out = vec![];
    for space in joined.iter().filter(|r| r.is_space()) {
        let Ok(children) = space
            .get_state_events_static::<SpaceChildEventContent>()
            .await
        else {
            continue;
        };
        for raw in children {
            // A child event without `via` was taken back.
            if let Ok(SyncOrStrippedState::Sync(SyncStateEvent::Original(ev))) = raw.deserialize()
                && !ev.content.via.is_empty()
            {
                out.push((space.room_id().to_owned(), ev.state_key));
            }
        }
    }
    for room in &joined {
        let Ok(parents) = room
            .get_state_events_static::<SpaceParentEventContent>()
            .await
        else {
            continue;
        };
        for raw in parents {
            if let Ok(SyncOrStrippedState::Sync(SyncStateEvent::Original(ev))) = raw.deserialize()
                && !ev.content.via.is_empty()
                && joined
                    .iter()
                    .any(|r| r.room_id() == ev.state_key && r.is_space())
            {
                out.push((ev.state_key, room.room_id().to_owned()));
            }
        }
    }
    out
}

async fn summary(room: &Room) -> RoomSummary {
    let is_dm = room.is_direct().await.unwrap_or(false);
    let server = room.unread_notification_counts();
    let name = match room.display_name().await {
        Ok(n) => n.to_string(),
        Err(_) => room.room_id().to_string(),
    };
    RoomSummary {
        room_id: room.room_id().to_string(),
        name,
        topic: room.topic().filter(|t| !t.trim().is_empty()),
        // A room we are in has at least one member: 0 means not known.
        members: Some(room.joined_members_count()).filter(|n| *n > 0),
        membership: if room.state() == RoomState::Invited {
            "invited"
        } else {
            "joined"
        },
        encrypted: room.encryption_state().is_encrypted(),
        // The larger of what this client counted (it sees mentions in
        // encrypted rooms) and what the server counted (it remembers across
        // runs, where the client's count restarts without a read receipt).
        unread: room.num_unread_messages().max(server.notification_count),
        highlights: room.num_unread_mentions().max(server.highlight_count),
        is_dm,
        dm_with: if is_dm {
            let mut with: Vec<String> = room
                .direct_targets()
                .iter()
                .map(|t| t.to_string())
                .collect();
            with.sort();
            with.into_iter().next()
        } else {
            None
        },
        favourite: room.is_favourite(),
        low_priority: room.is_low_priority(),
        last_activity: None,
        inviter: match room.state() {
            RoomState::Invited => room
                .invite_details()
                .await
                .ok()
                .map(|i| i.inviter_id.to_string()),
            _ => None,
        },
        is_space: room.is_space(),
        spaces: vec![],
        alias: room.canonical_alias().map(|a| a.to_string()),
    }
}

/// A room id or alias to a room id (aliases asked of the server).
pub async fn resolve(client: &Client, room: &str) -> Result<OwnedRoomId, RoomError> {
    if let Ok(id) = RoomId::parse(room) {
        return Ok(id);
    }
    let alias = RoomAliasId::parse(room).map_err(|_| RoomError::BadRoom(room.to_owned()))?;
    client
        .resolve_room_alias(&alias)
        .await
        .map(|r| r.room_id)
        .map_err(|_| RoomError::UnknownRoom(room.to_owned()))
}

/// A room we are in (or invited to), by id or alias.
pub async fn find(client: &Client, room: &str) -> Result<Room, RoomError> {
    let id = resolve(client, room).await?;
    client
        .get_room(&id)
        .filter(|r| matches!(r.state(), RoomState::Joined | RoomState::Invited))
        .ok_or_else(|| RoomError::UnknownRoom(room.to_owned()))
}

/// A user id, or the error naming what was given.
pub(super) fn user(s: &str) -> Result<OwnedUserId, RoomError> {
    s.parse().map_err(|_| RoomError::BadUser(s.to_owned()))
}

/// Creates a room, encrypted unless asked otherwise, inviting `invites`.
pub async fn create(
    client: &Client,
    name: &str,
    invites: &[String],
    alias: Option<&str>,
    encrypted: bool,
) -> Result<OwnedRoomId, RoomError> {
    let mut req = CreateRoomRequest::new();
    req.name = Some(name.to_owned());
    req.room_alias_name = alias.map(|a| a.trim_start_matches('#').to_owned());
    req.invite = invites.iter().map(|u| user(u)).collect::<Result<_, _>>()?;
    if encrypted {
        let content = RoomEncryptionEventContent::with_recommended_defaults();
        req.initial_state = vec![InitialStateEvent::with_empty_state_key(content).to_raw_any()];
    }
    let room = client.create_room(req).await.map_err(server)?;
    Ok(room.room_id().to_owned())
}

pub async fn invite(client: &Client, room: &str, who: &str) -> Result<(), RoomError> {
    let user = user(who)?;
    find(client, room)
        .await?
        .invite_user_by_id(&user)
        .await
        .map_err(server)
}

pub async fn join(client: &Client, room: &str) -> Result<OwnedRoomId, RoomError> {
    let target = RoomOrAliasId::parse(room).map_err(|_| RoomError::BadRoom(room.to_owned()))?;
    let joined = client
        .join_room_by_id_or_alias(&target, &[])
        .await
        .map_err(server)?;
    Ok(joined.room_id().to_owned())
}

pub async fn leave(client: &Client, room: &str) -> Result<(), RoomError> {
    find(client, room).await?.leave().await.map_err(server)
}

/// Sends a text message in its format with its mentions; returns the
/// event id.
pub async fn send_text(
    client: &Client,
    room: &str,
    text: &str,
    thread: Option<&str>,
    format: super::outgoing::TextFormat,
    mentions: &[super::outgoing::Mention],
) -> Result<String, RoomError> {
    let room = joined(client, room).await?;
    let mut content = super::outgoing::content(text, format, mentions);
    if let Some(root) = thread {
        content.relates_to = Some(matrix_sdk::ruma::events::room::message::Relation::Thread(
            matrix_sdk::ruma::events::relation::Thread::without_fallback(event_id(root)?),
        ));
    }
    let resp = room
        .send(content)
        .await
        .map_err(|e| super::manage::refused("send messages", e))?;
    Ok(resp.response.event_id.to_string())
}

/// Sends the file at `path` (encrypted in an encrypted room), reporting
/// the upload's progress; returns the event id.
pub async fn send_file(
    client: &Client,
    room: &str,
    path: &std::path::Path,
    thread: Option<&str>,
    progress: impl Fn(u64, u64) + Send + 'static,
) -> Result<String, RoomError> {
    use matrix_sdk::room::reply::{EnforceThread, Reply};
    use matrix_sdk::ruma::events::room::message::{AddMentions, ReplyWithinThread};
    let room = joined(client, room).await?;
    let file = {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || super::attach::read(&path))
            .await
            .map_err(server)??
    };
    let mut config = file.config;
    if let Some(root) = thread {
        config = config.reply(Some(Reply {
            event_id: event_id(root)?,
            enforce_thread: EnforceThread::Threaded(ReplyWithinThread::No),
            add_mentions: AddMentions::No,
        }));
    }
    let observable = eyeball::SharedObservable::new(Default::default());
    let mut updates = observable.subscribe();
    let watcher = tokio::spawn(async move {
        while let Some(p) = updates.next().await {
            let p: matrix_sdk::TransmissionProgress = p;
            progress(p.current as u64, p.total as u64);
        }
    });
    let sent = room
        .send_attachment(file.name, &file.mime, file.data, config)
        .with_send_progress_observable(observable)
        .await;
    watcher.abort();
    let resp = sent.map_err(|e| super::manage::refused("send files", e))?;
    Ok(resp.event_id.to_string())
}

async fn joined(client: &Client, room: &str) -> Result<Room, RoomError> {
    let room = find(client, room).await?;
    if room.state() != RoomState::Joined {
        return Err(RoomError::UnknownRoom(room.room_id().to_string()));
    }
    Ok(room)
}

fn event_id(s: &str) -> Result<matrix_sdk::ruma::OwnedEventId, RoomError> {
    matrix_sdk::ruma::OwnedEventId::try_from(s).map_err(|_| RoomError::BadEvent(s.to_owned()))
}
