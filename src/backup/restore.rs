//! Restore: download the backup room by room, check every MAC before
//! decrypting, skip (and count) whatever is damaged, and import the rest in
//! batches through matrix-sdk's key import so the timeline re-decrypts.
//!
//! Keys go into the store through the crypto machine's import, marked as
//! backed up for this version in the same write and under the uploader's
//! lock, so they are never uploaded back; decrypted keys never touch the
//! disk. (The public alternative, a key file fed from a memfd, was twice as
//! slow: it encrypts and decrypts an export and marks keys separately.)

use crate::backup::error::BackupError;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use matrix_sdk::Client;
use matrix_sdk::SqliteCryptoStore;
use matrix_sdk::event_cache::DecryptionRetryRequest;
use matrix_sdk::ruma::api::client::backup::KeyBackupData;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedRoomId, RoomId};
use matrix_sdk_crypto::store::CryptoStore;
use serde::Serialize;

use super::download::{Opened, Piece, Restored, open_restored};
use super::entry::{ClaimedKeys, Opener, SkipReason};
use super::held::{HeldSessions, Place};
use super::server::{self, VersionInfo};
use super::trust::{Source, TrustTable};

mod importer;
use importer::Importer;

/// Above this many keys of one room, on-demand fetches the whole room.
const ROOM_FETCH_ABOVE: usize = 8;

/// How often a failed download is resumed before the restore gives up
/// (the next run resumes too).
const DOWNLOAD_RETRIES: u32 = 3;

/// Keys imported per batch: bounds memory on large backups.
const IMPORT_BATCH: usize = 5000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    pub version: String,
    pub total: usize,
    pub imported: usize,
    pub skipped: BTreeMap<SkipReason, usize>,
    /// Keys without the `untrusted` flag (they came straight from their
    /// sender's device to whoever backed them up).
    pub trusted: usize,
    pub untrusted: usize,
    /// Keys whose session the store already held as good or better (its
    /// copy, and its trust, were kept), and duplicate entries.
    pub already_held: usize,
    /// Rooms an earlier, interrupted restore of this version had finished
    /// (their keys are not counted again).
    pub rooms_already_done: usize,
    /// Rooms whose entry in the backup could not be read: the rest were
    /// restored, these are tried again by the next restore.
    pub rooms_unreadable: Vec<String>,
    /// Keys offered under a room other than the one their session is used
    /// in (or was first offered under), skipped: MSC3270 binds a key to its
    /// session id only, and the store keeps one room per session, so a
    /// copy filed under another room would cost the real room its history.
    pub room_conflicts: usize,
    /// How long the restore took, in milliseconds, to the last key saved:
    /// from the first request for keys, or for `backup restore` from
    /// finding the version (unlocking secret storage included). Starting
    /// the program and opening its stores are not counted.
    pub ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreProgress {
    pub rooms_done: usize,
    pub rooms_total: usize,
    pub keys_done: usize,
    pub keys_total: usize,
}

/// Where restored keys go: the client and its stores.
pub struct Target<'a> {
    pub client: &'a Client,
    pub base: &'a matrix_sdk_base::BaseClient,
    /// The crypto store the machine uses (a shared handle).
    pub crypto: &'a SqliteCryptoStore,
    pub trust: &'a TrustTable,
    /// The uploader's lock: held while keys come in, so restored keys are
    /// never uploaded back.
    pub upload_lock: &'a tokio::sync::Mutex<()>,
    /// Where the store holds each session: a copy offered under another
    /// room never replaces a held session.
    pub held: &'a HeldSessions,
    /// The version restored is the server's current one (not an older
    /// version read by name): a device uploading nowhere yet adopts it, so
    /// its keys count as backed up there.
    pub current: bool,
}

/// Restores every key of `version` that `key` opens.
pub async fn restore(
    to: &Target<'_>,
    key: &Opener,
    version: &VersionInfo,
    progress: &(dyn Fn(RestoreProgress) + Send + Sync),
) -> Result<RestoreReport, BackupError> {
    let (client, trust) = (to.client, to.trust);
    let started = std::time::Instant::now();
    // The server's `count` is only for progress: a low one (a lie, or
    // another device uploading meanwhile) must never end the restore early,
    // so every room of the backup comes through one streamed download,
    // rooms finished by an earlier, interrupted restore skipped.
    let keys_total = usize::try_from(version.count).unwrap_or(usize::MAX);
    let mut imp = Importer::new(key, to, &version.version).await?;
    // Read while the first rooms download and open; needed from the
    // first key on.
    let mut in_use = Some(tokio::spawn(sessions_in_use(client.clone())));
    // Rooms whose keys all came; "done" in the progress counts only rooms
    // recorded as restored (their keys in the store), so a run killed after
    // it reported N rooms resumes after at least those N.
    let mut rooms_seen = 0;
    // Rooms an earlier run finished, counted once (on the first attempt).
    let earlier: std::sync::Arc<std::sync::Mutex<(usize, usize)>> = Default::default();
    let earlier_keys = || earlier.lock().map(|e| e.1).unwrap_or(0);
    let tell = |imp: &Importer, rooms_done, rooms_total| {
        progress(RestoreProgress {
            rooms_done,
            rooms_total,
            keys_done: imp.report.total + earlier_keys(),
            keys_total,
        })
    };
    // The rooms this device knows come first, a request each (the server
    // answers each at once, where the whole backup would keep it busy
    // seconds before its first byte); the whole backup is read only if the
    // server then holds keys of rooms this device does not know, counted
    // afresh (another device may have uploaded meanwhile).
    let known: Vec<OwnedRoomId> = client
        .rooms()
        .iter()
        .map(|r| r.room_id().to_owned())
        .collect();
    let mut whole = known.is_empty();
    let mut attempt = 0u32;
    let mut first = true;
    loop {
        let t = std::time::Instant::now();
        let (trust2, v2, earlier2) = (trust.clone(), version.version.clone(), earlier.clone());
        // Rooms done before this restore are counted by the first pass
        // only (later passes skip the ones done now as well).
        let counting = std::mem::replace(&mut first, false);
        let skip = move |room: &str| match trust2.room_restored_keys(&v2, room) {
            Ok(Some(keys)) => {
                if counting && let Ok(mut e) = earlier2.lock() {
                    e.0 += 1;
                    e.1 += keys;
                }
                true
            }
            _ => false,
        };
        let stream = if whole {
            super::download::stream_all(client, &version.version, key.clone(), skip).await
        } else {
            super::download::stream_rooms(
                client,
                &version.version,
                key.clone(),
                known.clone(),
                skip,
            )
            .await
        };
        if let Some(task) = in_use.take() {
            imp.in_use = task.await.unwrap_or_else(|e| {
                // Sessions are then placed by the room first offered.
                tracing::warn!(error = %e, "restore: cannot read which rooms use which sessions");
                HashMap::new()
            });
        }
        let failed = match stream {
            Err(e) => Some(e),
            Ok(mut pieces) => {
                let mut failed = None;
                // How long the importer waited for the download (the server,
                // the parser): the rest of the time it was saving.
                let mut waited = std::time::Duration::ZERO;
                loop {
                    let w = std::time::Instant::now();
                    let Some(piece) = pieces.recv().await else {
                        break;
                    };
                    waited += w.elapsed();
                    match piece {
                        Ok(Piece::Keys { room, keys }) => imp.add_opened(&room, keys).await?,
                        Ok(Piece::BadRoom { room }) => {
                            tracing::warn!(%room, "restore: the backup's entry for a room is malformed");
                            let room = room.to_string();
                            if !imp.report.rooms_unreadable.contains(&room) {
                                imp.report.rooms_unreadable.push(room);
                            }
                        }
                        Ok(Piece::RoomEnd { room, total }) => {
                            imp.end_room(&room, total)?;
                            rooms_seen += 1;
                            // One more while the download lasts: the count
                            // is unknown.
                            tell(&imp, imp.rooms_recorded, rooms_seen + 1);
                        }
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                tracing::info!(
                    waited_ms = waited.as_millis() as u64,
                    "restore: the importer waited for the download"
                );
                failed
            }
        };
        // The server's count once every known room came, asked while the
        // last batch is saved.
        let recount = (failed.is_none() && !whole).then(|| {
            let (client, v) = (client.clone(), version.version.clone());
            tokio::spawn(async move { super::server::version(&client, &v).await })
        });
        // What came is imported and its finished rooms recorded, so a
        // retry (or the next run) starts after them.
        imp.flush().await?;
        if let Ok(e) = earlier.lock() {
            imp.report.rooms_already_done = e.0;
        }
        match failed {
            None if !whole => {
                let seen = imp.report.total + earlier_keys();
                let counted = match recount {
                    Some(task) => task
                        .await
                        .map_err(|e| BackupError::Other(format!("cannot count the backup: {e}")))?,
                    None => super::server::version(client, &version.version).await,
                };
                let now = counted?.map(|v| usize::try_from(v.count).unwrap_or(usize::MAX));
                tracing::info!(
                    ms = t.elapsed().as_millis() as u64,
                    rooms = known.len(),
                    seen,
                    count = ?now,
                    "restore: read the known rooms one by one"
                );
                match now {
                    Some(count) if seen >= count => break,
                    // Keys of other rooms: the whole backup, the rooms
                    // done now skipped.
                    _ => whole = true,
                }
            }
            None => {
                tracing::info!(
                    ms = t.elapsed().as_millis() as u64,
                    "restore: streamed the whole backup"
                );
                break;
            }
            Some(e) if attempt < DOWNLOAD_RETRIES => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "restore: the download failed; resuming");
                tokio::time::sleep(std::time::Duration::from_secs(2u64.pow(attempt))).await;
            }
            Some(e) => return Err(e),
        }
    }
    tell(&imp, imp.rooms_recorded, rooms_seen.max(imp.rooms_recorded));
    let mut report = imp.report;
    report.ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        total = report.total,
        imported = report.imported,
        ms = report.ms,
        "restore finished"
    );
    Ok(report)
}

/// The event cache's store, locked (taking the lock can write to the
/// store, so callers take it once for many rooms).
async fn event_store(
    client: &Client,
) -> Option<matrix_sdk_base::event_cache::store::EventCacheStoreLockGuard> {
    use matrix_sdk_base::event_cache::store::EventCacheStoreLockState as Lock;
    match client.event_cache_store().lock().await {
        Ok(Lock::Clean(store) | Lock::Dirty(store)) => Some(store),
        Err(e) => {
            tracing::warn!(error = %e, "restore: cannot read the event cache");
            None
        }
    }
}

/// The sessions the undecryptable events `room_id` stored wait for (the
/// cache keeps an event it could not decrypt under its encrypted type, a
/// decrypted one under its real type): one query, of every stored event,
/// not just the ones loaded. `None` when the store cannot be read.
async fn waiting_sessions(
    store: &matrix_sdk_base::event_cache::store::EventCacheStoreLockGuard,
    room_id: &RoomId,
) -> Option<HashSet<String>> {
    let events = store
        .get_room_events(room_id, Some("m.room.encrypted"), None)
        .await
        .ok()?;
    Some(
        events
            .iter()
            .filter_map(|e| e.kind.session_id().map(ToOwned::to_owned))
            .collect(),
    )
}

/// Which room each session this device has seen used belongs to: the
/// undecryptable events the event cache's store keeps carry their session
/// id in the clear. (Sessions of decrypted events are held, and a copy of
/// a held session under another room is refused on its own.)
async fn sessions_in_use(client: Client) -> HashMap<String, OwnedRoomId> {
    let mut used = HashMap::new();
    let Some(store) = event_store(&client).await else {
        return used;
    };
    for room in client.joined_rooms() {
        for sid in waiting_sessions(&store, room.room_id())
            .await
            .unwrap_or_default()
        {
            used.entry(sid).or_insert_with(|| room.room_id().to_owned());
        }
    }
    used
}

/// Fetches and imports single sessions of one room (an undecryptable event
/// whose key the backup may hold), without a full restore. Sessions the
/// backup does not hold are simply not there; returns what was imported.
pub async fn restore_sessions(
    to: &Target<'_>,
    key: &Opener,
    version: &str,
    room_id: &RoomId,
    session_ids: &[String],
) -> Result<RestoreReport, BackupError> {
    let started = std::time::Instant::now();
    let client = to.client;
    let mut found = BTreeMap::new();
    if session_ids.len() > ROOM_FETCH_ABOVE {
        // Many keys of one room: one request for the room is cheaper.
        found = server::room_keys(client, version, room_id).await?;
        found.retain(|sid, _| session_ids.contains(sid));
    } else {
        for sid in session_ids {
            if let Some(k) = server::session_key(client, version, room_id, sid).await? {
                found.insert(sid.clone(), k);
            }
        }
    }
    let mut imp = Importer::new(key, to, version).await?;
    imp.add_keys(room_id, found).await?;
    imp.flush().await?;
    let mut report = imp.report;
    report.ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}
