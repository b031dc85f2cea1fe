//! Sync and who we are.

use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::Client;
use matrix_sdk::config::SyncSettings;
use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::JoinHandle;

use super::Handles;
use crate::matrix::protocol::account::{Cmd, StartSync, StopSync, SyncOnce, WhoAmI};
use crate::matrix::protocol::{OpId, SyncState, Update};
use crate::matrix::rooms::{self, RoomSummary};

/// The background sync: its task and the switch that stops it.
pub struct SyncTask {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl SyncTask {
    /// Asks the loop to stop between requests and waits up to `within`;
    /// a long poll still open after that is cut off.
    pub async fn stop_within(self, within: Duration) {
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        if tokio::time::timeout(within, self.task).await.is_err() {
            abort.abort();
        }
    }
}

pub fn handle(h: &Handles, op: OpId, cmd: Cmd) {
    let c = h.client.clone();
    match cmd {
        Cmd::SyncOnce(_) => h.job::<SyncOnce, _>(op, async move {
            rooms::sync_once(&c).await?;
            Ok(())
        }),
        Cmd::StartSync(StartSync { long_poll }) => {
            if let Ok(mut sync) = h.sync.lock()
                && sync.as_ref().is_none_or(|s| s.task.is_finished())
            {
                let (stop, stop_rx) = watch::channel(false);
                let task = tokio::spawn(sync_loop(c, h.updates.clone(), long_poll, stop_rx));
                *sync = Some(SyncTask { task, stop });
            }
            h.finish::<StartSync>(op, Ok(()));
        }
        Cmd::StopSync(_) => {
            let sync = h.sync.lock().ok().and_then(|mut s| s.take());
            let updates = h.updates.clone();
            h.job::<StopSync, _>(op, async move {
                if let Some(s) = sync {
                    let _ = s.stop.send(true);
                    let _ = s.task.await;
                    let _ = updates.send(Update::Sync(SyncState::Stopped));
                }
                Ok(())
            });
        }
        Cmd::WhoAmI(_) => h.job::<WhoAmI, _>(op, async move {
            Ok(crate::matrix::account::whoami_of(&c).await?)
        }),
    }
}

/// Long-polls the server until told to stop, which it checks between
/// requests: a response is always processed to the end (aborting in the
/// middle could drop what it queued, such as signature uploads). A failed
/// sync is reported and retried after a pause that grows to a minute.
async fn sync_loop(
    client: Client,
    updates: mpsc::UnboundedSender<Update>,
    long_poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let _ = updates.send(Update::Sync(SyncState::Running));
    let mut pause = Duration::from_secs(1);
    // Shared with the recount after each sync, which runs on its own.
    let last_rooms: Arc<Mutex<Option<Vec<RoomSummary>>>> = Arc::default();
    // The first request does not long-poll: with a saved sync token the
    // server would hold it for the whole timeout on an idle account, and the
    // status bar would say "connecting" all that while.
    let mut wait = Duration::ZERO;
    while !*stop.borrow() {
        let settings = SyncSettings::default().timeout(wait);
        wait = long_poll;
        match client.sync_once(settings).await {
            Ok(response) => {
                pause = Duration::from_secs(1);
                crate::matrix::activity::record(&client, &response).await;
                // What came while keepsake was not running is counted as
                // unread, not rung in all at once.
                if last_rooms.lock().await.is_some() {
                    for alert in crate::matrix::alerts::of(&client, &response).await {
                        let _ = updates.send(Update::Alert(alert));
                    }
                }
                let _ = updates.send(Update::Sync(SyncState::Synced));
                // The list at once, then again when matrix-sdk's event cache
                // has counted what came (unread, mentions), if that changed
                // it: on a task of its own, so the next sync never waits.
                if !publish_rooms(&client, &updates, &last_rooms).await {
                    return;
                }
                let news = response
                    .rooms
                    .joined
                    .values()
                    .any(|r| !r.timeline.events.is_empty());
                if news {
                    let (client, updates, last) =
                        (client.clone(), updates.clone(), last_rooms.clone());
                    tokio::spawn(async move {
                        rooms::counted(&client, &response, rooms::COUNTING_WAIT).await;
                        publish_rooms(&client, &updates, &last).await;
                    });
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "sync failed");
                if updates
                    .send(Update::Sync(SyncState::Failing(err.to_string())))
                    .is_err()
                {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => {}
                }
                pause = (pause * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// Sends the room list if it changed since `last`; false once nobody
/// listens any more.
async fn publish_rooms(
    client: &Client,
    updates: &mpsc::UnboundedSender<Update>,
    last: &Mutex<Option<Vec<RoomSummary>>>,
) -> bool {
    // Held while the list is read, so two lists go out in the order read.
    let mut last = last.lock().await;
    let now = rooms::summaries(client).await;
    if last.as_ref() == Some(&now) {
        return true;
    }
    *last = Some(now.clone());
    updates.send(Update::Rooms(now)).is_ok()
}
