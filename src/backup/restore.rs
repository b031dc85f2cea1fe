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
use super::entry::{Opener, SkipReason};
use super::held::{HeldSessions, Place};
use super::server::{self, VersionInfo};
use super::trust::{Source, TrustTable};

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

/// Imports keys, marked as backed up for `version` in the same write (so
/// the uploader never sees them pending), and returns how many were new or
/// better than the copy held.
///
/// A key whose session this device does not hold at all (every key, on a
/// fresh device) is written straight to the crypto store in one batch; a
/// key it does hold goes through matrix-sdk's import, whose merge rules keep
/// the better copy. matrix-sdk's import costs a store lookup and a
/// re-decryption attempt per key (two more queries on the event cache), each
/// a hop to a blocking thread; on a restore of 100,000 keys that was most of
/// the time. So the timeline is asked to re-decrypt once per room instead,
/// for the rooms this device is in (no other room has events to retry).
async fn import(
    to: &Target<'_>,
    keys: Vec<Restored>,
    trusted: &HashMap<(OwnedRoomId, String), bool>,
    source: Source,
    backed_up_to: Option<&str>,
) -> Result<Taken, BackupError> {
    let store_err = |e: &dyn std::fmt::Display| format!("cannot import the keys: {e}");
    let mut fresh = Vec::with_capacity(keys.len());
    let mut fresh_ids: Vec<(OwnedRoomId, String)> = Vec::with_capacity(keys.len());
    let mut merge = Vec::new();
    let mut retry: BTreeMap<OwnedRoomId, BTreeSet<String>> = BTreeMap::new();
    let mut conflicts = 0;
    for Restored { session } in keys {
        let (room_id, session_id) = (session.room_id(), session.session_id());
        match to.held.place(room_id, session_id) {
            Place::Here => {
                merge.push(session.export().await);
                continue;
            }
            // Held under another room: never replaced by this copy.
            Place::Elsewhere(other)
                if HeldSessions::confirm(to.crypto, &other, session_id).await? =>
            {
                tracing::warn!(
                    offered_under = %room_id,
                    held_under = %other,
                    "a held session offered under another room: skipped"
                );
                conflicts += 1;
                continue;
            }
            Place::Elsewhere(_) | Place::New => {}
        }
        // The store writes the session's own flag (the version argument
        // must agree with it, or it logs and stores "not backed up").
        if backed_up_to.is_some() {
            session.mark_as_backed_up();
        }
        // Noted before the save: a second copy in this batch merges, and a
        // failed save leaves the index ahead of the store, which the next
        // `sync` sees and rebuilds.
        to.held.note_one(room_id, session_id);
        if to.client.get_room(room_id).is_some() {
            retry
                .entry(room_id.to_owned())
                .or_default()
                .insert(session_id.to_owned());
        }
        fresh_ids.push((room_id.to_owned(), session_id.to_owned()));
        fresh.push(session);
    }
    let mut taken = Taken {
        conflicts,
        ..Taken::default()
    };
    // Trust rows only for what the store takes (a held copy keeps its own
    // row, so a held untrusted copy is never relabelled trusted), and each
    // before its key: a crash between the two leaves a row for a key not
    // yet imported, never an imported key without its row.
    let mut record = |ids: &[(OwnedRoomId, String)]| -> Result<(), BackupError> {
        let rows: Vec<(&str, &str, bool)> = ids
            .iter()
            .map(|(r, s)| {
                let t = trusted
                    .get(&(r.clone(), s.clone()))
                    .copied()
                    .unwrap_or(false);
                (r.as_str(), s.as_str(), t)
            })
            .collect();
        to.trust
            .record(source, rows.iter().copied())
            .map_err(|e| e.to_string())?;
        for (_, _, t) in rows {
            taken.count(t);
        }
        Ok(())
    };
    record(&fresh_ids)?;
    to.crypto
        .save_inbound_group_sessions(fresh, backed_up_to)
        .await
        .map_err(|e| store_err(&e))?;
    if !merge.is_empty() {
        let machine = to.base.olm_machine().await;
        let machine = machine
            .as_ref()
            .ok_or("the encryption machine is not running (not logged in?)")?;
        let r = machine
            .store()
            .import_room_keys(merge, backed_up_to, |_, _| {})
            .await
            .map_err(|e| store_err(&e))?;
        let better: Vec<(OwnedRoomId, String)> = r
            .keys
            .into_iter()
            .flat_map(|(room, by_sender)| {
                by_sender
                    .into_values()
                    .flatten()
                    .map(move |sid| (room.clone(), sid))
            })
            .collect();
        record(&better)?;
    }
    let cache = to.client.event_cache();
    for (room_id, sessions) in retry {
        cache.request_decryption(DecryptionRetryRequest {
            room_id,
            utd_session_ids: sessions,
            refresh_info_session_ids: BTreeSet::new(),
        });
    }
    Ok(taken)
}

/// What the store took of a batch.
#[derive(Debug, Default)]
struct Taken {
    trusted: usize,
    untrusted: usize,
    /// Keys of sessions held under another room, skipped.
    conflicts: usize,
}

impl Taken {
    fn count(&mut self, trusted: bool) {
        if trusted {
            self.trusted += 1;
        } else {
            self.untrusted += 1;
        }
    }
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
    imp.in_use = sessions_in_use(client).await;
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
        // What came is imported and its finished rooms recorded, so a
        // retry (or the next run) starts after them.
        imp.flush().await?;
        if let Ok(e) = earlier.lock() {
            imp.report.rooms_already_done = e.0;
        }
        match failed {
            None if !whole => {
                let seen = imp.report.total + earlier_keys();
                let now = super::server::version(client, &version.version)
                    .await?
                    .map(|v| usize::try_from(v.count).unwrap_or(usize::MAX));
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
    let report = imp.report;
    tracing::info!(
        total = report.total,
        imported = report.imported,
        ms = started.elapsed().as_millis() as u64,
        "restore finished"
    );
    Ok(report)
}

/// Which room each session this device has seen used belongs to: the
/// events in the rooms' caches carry their session id in the clear.
async fn sessions_in_use(client: &Client) -> HashMap<String, OwnedRoomId> {
    let mut used = HashMap::new();
    for room in client.joined_rooms() {
        let Ok((cache, _handles)) = room.event_cache().await else {
            continue;
        };
        let Ok(events) = cache.events().await else {
            continue;
        };
        for ev in events {
            if let Some(sid) = ev.kind.session_id() {
                used.entry(sid.to_owned())
                    .or_insert_with(|| room.room_id().to_owned());
            }
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
    Ok(imp.report)
}

/// Opens keys as they are downloaded and imports them in batches.
struct Importer<'a> {
    key: &'a Opener,
    to: &'a Target<'a>,
    version: &'a str,
    /// The version restored keys count as backed up to: ours only. Keys
    /// from any other backup (an Element curve25519 one, a version another
    /// device made) stay pending, so they reach the backup this device
    /// uploads to, should that version become the current one again.
    backed_up_to: Option<String>,
    batch: Vec<Restored>,
    /// (room, session, trusted) of each key in `batch`.
    ids: Vec<(OwnedRoomId, String, bool)>,
    /// Rooms whose every key is in `batch` or already imported, with the
    /// number of keys the backup holds for each.
    finished_rooms: Vec<(OwnedRoomId, usize)>,
    /// The room whose keys are coming in and the sessions seen of it: a
    /// duplicate entry, or a room sent again after a resumed download,
    /// counts once.
    open_room: Option<(OwnedRoomId, HashSet<String>)>,
    /// Rooms recorded as restored by this run.
    rooms_recorded: usize,
    /// The room each session this device has seen used belongs to.
    in_use: HashMap<String, OwnedRoomId>,
    /// The room each session was first offered under in this run, by a
    /// keyed hash of its id (a few bytes per key at 100,000 keys).
    first_room: HashMap<u64, OwnedRoomId>,
    hasher: std::collections::hash_map::RandomState,
    report: RestoreReport,
}

impl<'a> Importer<'a> {
    async fn new(
        key: &'a Opener,
        to: &'a Target<'a>,
        version: &'a str,
    ) -> Result<Self, BackupError> {
        let ours = super::state::load(to.crypto).await?;
        let backed_up_to = match (key, ours.version.as_deref()) {
            (Opener::Symmetric(_), Some(v)) if v == version => Some(version.to_owned()),
            // A device that uploads nowhere yet adopts the version it
            // restores from (`manage::adopt_if_unset`).
            (Opener::Symmetric(_), None) if to.current => Some(version.to_owned()),
            _ => None,
        };
        Ok(Importer {
            key,
            to,
            version,
            backed_up_to,
            batch: Vec::new(),
            ids: Vec::new(),
            finished_rooms: Vec::new(),
            open_room: None,
            rooms_recorded: 0,
            in_use: HashMap::new(),
            first_room: HashMap::new(),
            hasher: Default::default(),
            report: RestoreReport {
                version: version.to_owned(),
                ..RestoreReport::default()
            },
        })
    }

    async fn add_keys(
        &mut self,
        room_id: &RoomId,
        sessions: BTreeMap<String, Raw<KeyBackupData>>,
    ) -> Result<(), BackupError> {
        let opened = sessions
            .into_iter()
            .map(|(sid, raw)| {
                let o = open_restored(self.key, room_id, &sid, raw.json());
                (sid, o)
            })
            .collect();
        self.add_opened(room_id, opened).await
    }

    /// Keys already opened (by the streaming download's parser).
    /// Whether `session_id` belongs to another room than `room_id`: the
    /// room it is seen used in, else the room it was first offered under.
    fn room_conflict(&mut self, room_id: &RoomId, session_id: &str) -> bool {
        if let Some(r) = self.in_use.get(session_id) {
            return r != room_id;
        }
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(session_id);
        match self.first_room.get(&h) {
            Some(r) => r != room_id,
            None => {
                self.first_room.insert(h, room_id.to_owned());
                false
            }
        }
    }

    async fn add_opened(&mut self, room_id: &RoomId, keys: Vec<Opened>) -> Result<(), BackupError> {
        if self.open_room.as_ref().is_none_or(|(r, _)| r != room_id) {
            self.open_room = Some((room_id.to_owned(), HashSet::new()));
        }
        for (session_id, opened) in keys {
            if let Some((_, seen)) = &mut self.open_room
                && !seen.insert(session_id.clone())
            {
                continue;
            }
            self.report.total += 1;
            if self.room_conflict(room_id, &session_id) {
                self.report.room_conflicts += 1;
                continue;
            }
            match opened {
                Ok((k, trusted)) => {
                    self.batch.push(k);
                    self.ids.push((room_id.to_owned(), session_id, trusted));
                }
                Err(reason) => *self.report.skipped.entry(reason).or_default() += 1,
            }
            if self.batch.len() >= IMPORT_BATCH {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// A room whose keys all went through `add_opened`.
    fn end_room(&mut self, room_id: &RoomId, keys: usize) -> Result<(), BackupError> {
        let keys = match self.open_room.take() {
            Some((r, seen)) if r == room_id => seen.len(),
            _ => keys,
        };
        self.finished_rooms.push((room_id.to_owned(), keys));
        if self.batch.is_empty() {
            self.mark_done()?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), BackupError> {
        if self.batch.is_empty() {
            return self.mark_done();
        }
        // The uploader waits while keys come in, so restored keys are never
        // uploaded back.
        let _guard = self.to.upload_lock.lock().await;
        let t = std::time::Instant::now();
        let n = self.batch.len();
        let trusted: HashMap<(OwnedRoomId, String), bool> =
            self.ids.drain(..).map(|(r, s, t)| ((r, s), t)).collect();
        // Sessions that reached the store since (received keys) are known
        // before any key is placed.
        self.to.held.sync(self.to.crypto).await?;
        let taken = import(
            self.to,
            std::mem::take(&mut self.batch),
            &trusted,
            self.key.source(),
            self.backed_up_to.as_deref(),
        )
        .await?;
        tracing::info!(
            keys = n,
            ms = t.elapsed().as_millis() as u64,
            "restore: imported a batch"
        );
        let r = &mut self.report;
        // What the store took; a copy it already held as good or better
        // (or a duplicate entry) counts as already held.
        r.imported += taken.trusted + taken.untrusted;
        r.trusted += taken.trusted;
        r.untrusted += taken.untrusted;
        r.room_conflicts += taken.conflicts;
        r.already_held += n.saturating_sub(taken.trusted + taken.untrusted + taken.conflicts);
        self.mark_done()
    }

    /// Remembers the rooms whose keys are all imported, so a restore that
    /// is interrupted later resumes after them.
    fn mark_done(&mut self) -> Result<(), BackupError> {
        for (room, keys) in self.finished_rooms.drain(..) {
            self.to
                .trust
                .room_restored(self.version, room.as_str(), keys)
                .map_err(|e| e.to_string())?;
            self.rooms_recorded += 1;
        }
        Ok(())
    }
}
