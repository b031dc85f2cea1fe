//! History, live timelines and what acts on them (replies, edits,
//! reactions, redactions).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use matrix_sdk::room::edit::EditedContent;
use matrix_sdk::ruma::OwnedEventId;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContentWithoutRelation;
use matrix_sdk_ui::eyeball_im::{Vector, VectorDiff};
use matrix_sdk_ui::timeline::{Timeline, TimelineEventItemId, TimelineItem};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Handles;
use crate::matrix::history::{self, HistoryItem};
use crate::matrix::protocol::timeline::{
    Close, Cmd, Download, Edit, History, MarkRead, Open, PaginateBack, Preview, React, Redact,
    Reply,
};
use crate::matrix::protocol::{Error, ErrorKind, OpId, Request, Update};
use crate::matrix::rooms;
use crate::matrix::trust_cache::TrustCache;

/// An open timeline: ready once the SDK built it (commands sent meanwhile
/// wait for it), followed by a task that sends its snapshots.
pub struct Following {
    ready: watch::Receiver<Option<Result<Arc<Timeline>, Error>>>,
    task: Option<JoinHandle<()>>,
    /// Tells this opening from a later one of the same room.
    serial: u64,
    /// The thread followed, `None` for the room's main timeline.
    thread: Option<String>,
}

impl Following {
    pub async fn stop(self) {
        if let Some(t) = self.task {
            t.abort();
            let _ = t.await;
        }
    }
}

static SERIAL: AtomicU64 = AtomicU64::new(1);

pub fn handle(h: &Handles, op: OpId, cmd: Cmd) {
    match cmd {
        Cmd::History(History {
            room,
            limit,
            thread,
        }) => history(h, op, room, limit, thread),
        Cmd::Open(Open { room, thread }) => open(h, op, room, thread),
        Cmd::PaginateBack(PaginateBack { room, count }) => {
            with_timeline::<PaginateBack, _, _>(h, op, &room, move |t| async move {
                t.paginate_backwards(count).await.map_err(server)
            })
        }
        Cmd::Close(Close { room }) => {
            let following = h.timelines.lock().ok().and_then(|mut m| m.remove(&room));
            h.job::<Close, _>(op, async move {
                if let Some(f) = following {
                    f.stop().await;
                }
                Ok(())
            })
        }
        Cmd::Reply(Reply {
            room,
            in_reply_to,
            text,
        }) => with_timeline::<Reply, _, _>(h, op, &room, move |t| async move {
            let id = event_id(&in_reply_to)?;
            let content = RoomMessageEventContentWithoutRelation::text_markdown(text);
            t.send_reply(content, id).await.map_err(server)
        }),
        Cmd::Edit(Edit {
            room,
            event_id: target,
            text,
        }) => with_timeline::<Edit, _, _>(h, op, &room, move |t| async move {
            let id = TimelineEventItemId::EventId(event_id(&target)?);
            let content = RoomMessageEventContentWithoutRelation::text_markdown(text);
            t.edit(&id, EditedContent::RoomMessage(content))
                .await
                .map_err(server)
        }),
        Cmd::React(React {
            room,
            event_id: target,
            key,
        }) => with_timeline::<React, _, _>(h, op, &room, move |t| async move {
            let id = TimelineEventItemId::EventId(event_id(&target)?);
            t.toggle_reaction(&id, &key)
                .await
                .map(|_| ())
                .map_err(server)
        }),
        Cmd::Redact(Redact {
            room,
            event_id: target,
            reason,
        }) => with_timeline::<Redact, _, _>(h, op, &room, move |t| async move {
            let id = TimelineEventItemId::EventId(event_id(&target)?);
            t.redact(&id, reason.as_deref()).await.map_err(server)
        }),
        Cmd::MarkRead(MarkRead {
            room,
            event_id: target,
            public,
        }) => with_timeline::<MarkRead, _, _>(h, op, &room, move |t| async move {
            // Read up to here, and the marker of where reading stopped with
            // it (the SDK sends only what moves forward).
            let id = event_id(&target)?;
            let receipts = matrix_sdk::room::Receipts::new().fully_read_marker(id.clone());
            let receipts = if public {
                receipts.public_read_receipt(id)
            } else {
                receipts.private_read_receipt(id)
            };
            t.send_multiple_receipts(receipts).await.map_err(server)
        }),
        Cmd::Preview(Preview { room, event_id }) => {
            let c = h.client.clone();
            h.job::<Preview, _>(op, async move {
                Ok(crate::matrix::media::preview_bytes(&c, &room, &event_id).await?)
            })
        }
        Cmd::Download(Download {
            room,
            event_id,
            target,
            ..
        }) => {
            let c = h.client.clone();
            h.job::<Download, _>(op, async move {
                Ok(crate::matrix::media::download(&c, &room, &event_id, &target).await?)
            })
        }
    }
}

fn server(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Server, e.to_string())
}

fn event_id(s: &str) -> Result<OwnedEventId, Error> {
    OwnedEventId::try_from(s)
        .map_err(|_| Error::new(ErrorKind::Invalid, format!("`{s}` is not an event id")))
}

fn not_open(room: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("the timeline of {room} is not open"),
    )
}

/// The last messages of a room; undecryptable ones whose keys the backup
/// may hold are fetched and the history read again.
fn history(h: &Handles, op: OpId, room: String, limit: usize, thread: Option<String>) {
    let (c, trust, on_demand) = (h.client.clone(), h.trust.clone(), h.on_demand.clone());
    h.job::<History, _>(op, async move {
        let thread = thread.as_deref();
        let items = history::history(&c, &trust, &room, limit, thread).await?;
        let room_id = rooms::find(&c, &room).await?.room_id().to_owned();
        let wanted = on_demand.untried(room_id.as_str(), &history::utd_sessions(&items));
        match on_demand.fetch(&room_id, &wanted).await {
            Ok(r) if r.imported > 0 => {
                Ok(history::history(&c, &trust, &room, limit, thread).await?)
            }
            Ok(_) => Ok(items),
            Err(err) => {
                tracing::warn!(error = %err, "cannot fetch keys from the backup");
                Ok(items)
            }
        }
    })
}

/// Runs `f` on the open timeline of `room` as `R`'s job, once the timeline
/// is ready; an error when it is not open (replies, edits, reactions and
/// redactions find their target there).
fn with_timeline<R, F, Fut>(h: &Handles, op: OpId, room: &str, f: F)
where
    R: Request,
    F: FnOnce(Arc<Timeline>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<R::Output, Error>> + Send + 'static,
{
    let ready = h
        .timelines
        .lock()
        .ok()
        .and_then(|m| m.get(room).map(|f| f.ready.clone()));
    let room = room.to_owned();
    h.job::<R, _>(op, async move {
        let Some(mut ready) = ready else {
            return Err(not_open(&room));
        };
        let timeline = ready
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|v| v.clone());
        match timeline {
            Some(Ok(t)) => f(t).await,
            Some(Err(e)) => Err(e),
            None => Err(not_open(&room)),
        }
    })
}

/// Opens the timeline of `room` (or of one of its threads) and follows it;
/// a second open of what is already followed does nothing, another focus
/// in the same room replaces the one followed.
fn open(h: &Handles, op: OpId, room: String, thread: Option<String>) {
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = watch::channel(None);
    let (fresh, replaced) = match h.timelines.lock() {
        Ok(mut m) if m.get(&room).is_none_or(|f| f.thread != thread) => {
            let old = m.insert(
                room.clone(),
                Following {
                    ready: rx,
                    task: None,
                    serial,
                    thread: thread.clone(),
                },
            );
            (true, old)
        }
        _ => (false, None),
    };
    if !fresh {
        return h.finish::<Open>(op, Ok(()));
    }
    let h2 = h.clone();
    h.job::<Open, _>(op, async move {
        if let Some(old) = replaced {
            old.stop().await;
        }
        let started = follow(&h2, &room, thread).await;
        let mine = |f: &Following| f.serial == serial;
        match started {
            Ok((timeline, task)) => {
                let _ = tx.send(Some(Ok(timeline)));
                // Closed meanwhile: the follower stops at once.
                let task = match h2.timelines.lock() {
                    Ok(mut m) => match m.get_mut(&room).filter(|f| mine(f)) {
                        Some(f) => f.task.replace(task),
                        None => Some(task),
                    },
                    Err(_) => Some(task),
                };
                if let Some(t) = task {
                    t.abort();
                }
                Ok(())
            }
            Err(e) => {
                let _ = tx.send(Some(Err(e.clone())));
                if let Ok(mut m) = h2.timelines.lock()
                    && m.get(&room).is_some_and(mine)
                {
                    m.remove(&room);
                }
                Err(e)
            }
        }
    })
}

/// Builds the SDK's timeline of `room` and a task that sends a snapshot of
/// it after every change.
async fn follow(
    h: &Handles,
    room: &str,
    thread: Option<String>,
) -> Result<(Arc<Timeline>, JoinHandle<()>), Error> {
    let r = rooms::find(&h.client, room).await?;
    let timeline = Arc::new(history::build_timeline(&r, thread.as_deref()).await?);
    let (initial, mut stream) = timeline.subscribe().await;
    let updates = h.updates.clone();
    let name = room.to_owned();
    let room_id = r.room_id().to_string();
    let trust = h.trust.clone();
    let on_demand = h.on_demand.clone();
    // Keys for undecryptable events come from the backup as they show up;
    // the SDK re-decrypts and a new snapshot follows.
    let typing_of = r.clone();
    let fetch = move |items: &[HistoryItem]| {
        let wanted = on_demand.untried(r.room_id().as_str(), &history::utd_sessions(items));
        if !wanted.is_empty() {
            let (od, room_id) = (on_demand.clone(), r.room_id().to_owned());
            tokio::spawn(async move {
                if let Err(e) = od.fetch(&room_id, &wanted).await {
                    tracing::warn!(error = %e, "cannot fetch keys from the backup");
                }
            });
        }
    };
    let client = h.client.clone();
    let task = tokio::spawn(async move {
        // The SDK sends diffs; they are applied to a converted copy, so a
        // change converts only the items it brings (trust records come from
        // a per-room cache read off the async threads). A change to any
        // device or identity (a verification, a new device), or to the
        // trust table (a restore), converts every item again.
        let devices_changed = client.encryption().devices_stream().await.ok();
        let identities_changed = client.encryption().user_identities_stream().await.ok();
        let mut devices_changed = devices_changed.map(Box::pin);
        let mut identities_changed = identities_changed.map(Box::pin);
        let mut devices = history::Devices::default();
        let mut cache = TrustCache::new(&room_id);
        let mut sdk = initial;
        devices.load(&client, &sdk).await;
        cache.fill(&trust, history::sessions_of(&sdk)).await;
        let mut view: Vector<Option<history::Entry>> = sdk
            .iter()
            .map(|i| history::entry(&cache, &devices, i))
            .collect();
        // Who is typing in the room; the guard keeps the SDK's handler.
        let (_typing_guard, mut typing) = typing_of.subscribe_to_typing_notifications();
        let mut changed = true;
        loop {
            if std::mem::take(&mut changed) {
                let items: Vec<HistoryItem> = history::flatten(view.iter().flatten());
                fetch(&items);
                if updates
                    .send(Update::Timeline {
                        room: name.clone(),
                        thread: thread.clone(),
                        items,
                    })
                    .is_err()
                {
                    break;
                }
            }
            changed = true;
            tokio::select! {
                diffs = stream.next() => {
                    let Some(diffs) = diffs else { break };
                    let new: Vec<Arc<TimelineItem>> =
                        diffs.iter().flat_map(added).cloned().collect();
                    devices.load(&client, &new).await;
                    let stale = cache.fill(&trust, history::sessions_of(&new)).await;
                    for d in diffs {
                        d.clone().apply(&mut sdk);
                        if !stale {
                            d.map(|i| history::entry(&cache, &devices, &i)).apply(&mut view);
                        }
                    }
                    if stale {
                        cache.fill(&trust, history::sessions_of(&sdk)).await;
                        view = sdk.iter().map(|i| history::entry(&cache, &devices, i)).collect();
                    }
                }
                Some(_) = next_of(&mut devices_changed) => {
                    devices.clear();
                    devices.load(&client, &sdk).await;
                    view = sdk.iter().map(|i| history::entry(&cache, &devices, i)).collect();
                }
                Some(_) = next_of(&mut identities_changed) => {
                    devices.clear();
                    devices.load(&client, &sdk).await;
                    view = sdk.iter().map(|i| history::entry(&cache, &devices, i)).collect();
                }
                users = typing.recv() => {
                    changed = false;
                    match users {
                        Ok(users) => {
                            let users = users.iter().map(|u| u.to_string()).collect();
                            let sent = updates.send(Update::Typing { room: name.clone(), users });
                            if sent.is_err() {
                                break;
                            }
                        }
                        // Missed some: the next change says who types now.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                            typing = tokio::sync::broadcast::channel(1).1;
                        }
                    }
                }
            }
        }
    });
    Ok((timeline, task))
}

/// The items a diff brings into the timeline.
fn added<T>(d: &VectorDiff<T>) -> Vec<&T>
where
    T: Clone,
{
    match d {
        VectorDiff::Append { values } | VectorDiff::Reset { values } => values.iter().collect(),
        VectorDiff::PushFront { value }
        | VectorDiff::PushBack { value }
        | VectorDiff::Insert { value, .. }
        | VectorDiff::Set { value, .. } => vec![value],
        _ => vec![],
    }
}

/// The next item of an optional stream; pending for ever without one.
async fn next_of<S: futures_util::Stream + Unpin>(s: &mut Option<S>) -> Option<S::Item> {
    match s {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}
