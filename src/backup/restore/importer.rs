//! The importer: opened keys in, batches of them into the crypto store
//! (new sessions written straight, held ones merged by the SDK's rules),
//! each key's trust row first, and the rooms whose keys are all in recorded
//! so an interrupted restore resumes after them.

use super::*;
use matrix_sdk_crypto::olm::{ExportedRoomKey, InboundGroupSession};

/// A batch placed: each key either new to the store (written straight, in
/// one batch) or held already (merged by matrix-sdk's import, whose rules
/// keep the better copy), with the trust rows of the new ones written.
///
/// matrix-sdk's import costs a store lookup and a re-decryption attempt per
/// key, each a hop to a blocking thread; on a restore of 100,000 keys that
/// was most of the time. So new keys go straight to the store and the event
/// cache is asked to retry only the sessions its undecryptable events wait
/// for.
struct Placed {
    fresh: Vec<InboundGroupSession>,
    merge: Vec<ExportedRoomKey>,
    /// New sessions of the rooms this device is in, by room.
    retry: BTreeMap<OwnedRoomId, BTreeSet<String>>,
    taken: Taken,
}

/// Places `keys` (see [`Placed`]) and writes the trust rows of the new ones
/// before any of them reaches the store: a crash between the two leaves a
/// row for a key not yet imported, never an imported key without its row.
/// Trust rows only for what the store takes: a held copy keeps its own row,
/// so a held untrusted copy is never relabelled trusted.
async fn place(
    to: &Target<'_>,
    keys: Vec<Restored>,
    trusted: &HashMap<(OwnedRoomId, String), bool>,
    source: Source,
    backed_up: bool,
) -> Result<Placed, BackupError> {
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
        if backed_up {
            session.mark_as_backed_up();
        }
        // Noted before the save: a second copy in this or a later batch
        // merges, and a failed save leaves the index ahead of the store,
        // which the next `sync` sees and rebuilds.
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
    let t = std::time::Instant::now();
    record(to, source, trusted, &fresh_ids, &mut taken)?;
    taken.record_ms = t.elapsed().as_millis() as u64;
    Ok(Placed {
        fresh,
        merge,
        retry,
        taken,
    })
}

/// Writes the trust rows of `ids` and counts them.
fn record(
    to: &Target<'_>,
    source: Source,
    trusted: &HashMap<(OwnedRoomId, String), bool>,
    ids: &[(OwnedRoomId, String)],
    taken: &mut Taken,
) -> Result<(), BackupError> {
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
}

/// Merges keys of sessions the store holds through matrix-sdk's import
/// (its rules keep the better copy) and writes the rows of those it took.
async fn merge(
    to: &Target<'_>,
    keys: Vec<ExportedRoomKey>,
    trusted: &HashMap<(OwnedRoomId, String), bool>,
    source: Source,
    backed_up_to: Option<&str>,
    taken: &mut Taken,
) -> Result<(), BackupError> {
    if keys.is_empty() {
        return Ok(());
    }
    let machine = to.base.olm_machine().await;
    let machine = machine
        .as_ref()
        .ok_or("the encryption machine is not running (not logged in?)")?;
    let r = machine
        .store()
        .import_room_keys(keys, backed_up_to, |_, _| {})
        .await
        .map_err(|e| format!("cannot import the keys: {e}"))?;
    let better = super::super::held::taken_by_import(&r);
    record(to, source, trusted, &better, taken)
}

/// Saves new sessions to the store (its own task: the next batch is placed
/// meanwhile), then asks the event cache to retry the events that waited
/// for them. Returns how long the save took.
async fn save(
    crypto: SqliteCryptoStore,
    client: Client,
    fresh: Vec<InboundGroupSession>,
    retry: BTreeMap<OwnedRoomId, BTreeSet<String>>,
    backed_up_to: Option<String>,
) -> Result<u64, BackupError> {
    let t = std::time::Instant::now();
    // Which undecryptable events wait for these keys, asked while the
    // store saves them: the event cache's retry costs a store query per
    // session asked about, and most restored sessions have no event
    // waiting on this device.
    let (saved, waiting) = tokio::join!(
        crypto.save_inbound_group_sessions(fresh, backed_up_to.as_deref()),
        awaited(&client, retry)
    );
    saved.map_err(|e| format!("cannot import the keys: {e}"))?;
    let ms = t.elapsed().as_millis() as u64;
    let cache = client.event_cache();
    for (room_id, sessions) in waiting {
        cache.request_decryption(DecryptionRetryRequest {
            room_id,
            utd_session_ids: sessions,
            refresh_info_session_ids: BTreeSet::new(),
        });
    }
    Ok(ms)
}

/// Of `fresh` (new sessions by room), those an undecryptable event in the
/// event cache's store waits for. A room whose events cannot be read keeps
/// all its sessions (the event cache then looks itself).
async fn awaited(
    client: &Client,
    fresh: BTreeMap<OwnedRoomId, BTreeSet<String>>,
) -> BTreeMap<OwnedRoomId, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    if fresh.is_empty() {
        return out;
    }
    let store = event_store(client).await;
    for (room_id, sessions) in fresh {
        let waiting = match &store {
            Some(store) => waiting_sessions(store, &room_id).await,
            None => None,
        };
        let sessions: BTreeSet<String> = match waiting {
            Some(waiting) => sessions
                .into_iter()
                .filter(|s| waiting.contains(s))
                .collect(),
            None => sessions,
        };
        if !sessions.is_empty() {
            out.insert(room_id, sessions);
        }
    }
    out
}

/// What the store took of a batch.
#[derive(Debug, Default)]
struct Taken {
    trusted: usize,
    untrusted: usize,
    /// Keys of sessions held under another room, skipped.
    conflicts: usize,
    /// How long the trust rows took (for the log).
    record_ms: u64,
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

/// Opens keys as they are downloaded and imports them in batches.
pub(super) struct Importer<'a> {
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
    pub(super) rooms_recorded: usize,
    /// The room each session this device has seen used belongs to.
    pub(super) in_use: HashMap<String, OwnedRoomId>,
    /// The room each session was first offered under in this run, by a
    /// keyed hash of its id (a few bytes per key at 100,000 keys).
    first_room: HashMap<u64, OwnedRoomId>,
    hasher: std::collections::hash_map::RandomState,
    /// The batch the store is saving while the next one is placed.
    saving: Option<Saving<'a>>,
    /// Batches handed to the store so far (the first is small, so the
    /// store starts at once).
    batches: usize,
    pub(super) report: RestoreReport,
}

/// A batch on its way into the store.
struct Saving<'a> {
    task: tokio::task::JoinHandle<Result<u64, BackupError>>,
    /// The uploader waits until the batch is in (restored keys are never
    /// uploaded back).
    uploads: tokio::sync::MutexGuard<'a, ()>,
    /// Rooms whose keys are all in once this batch is.
    rooms: Vec<(OwnedRoomId, usize)>,
    keys: usize,
    taken: Taken,
    started: std::time::Instant,
}

/// Keys of the first batch: the store starts saving while the parser opens
/// the rest.
const FIRST_BATCH: usize = 1000;

impl<'a> Importer<'a> {
    pub(super) async fn new(
        key: &'a Opener,
        to: &'a Target<'a>,
        version: &'a str,
    ) -> Result<Self, BackupError> {
        let ours = crate::backup::state::load(to.crypto).await?;
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
            saving: None,
            batches: 0,
            report: RestoreReport {
                version: version.to_owned(),
                ..RestoreReport::default()
            },
        })
    }

    pub(super) async fn add_keys(
        &mut self,
        room_id: &RoomId,
        sessions: BTreeMap<String, Raw<KeyBackupData>>,
    ) -> Result<(), BackupError> {
        let mut claimed = ClaimedKeys::default();
        let opened = sessions
            .into_iter()
            .map(|(sid, raw)| {
                let o = open_restored(&mut claimed, self.key, room_id, &sid, raw.json());
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

    pub(super) async fn add_opened(
        &mut self,
        room_id: &RoomId,
        keys: Vec<Opened>,
    ) -> Result<(), BackupError> {
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
            let size = if self.batches == 0 {
                FIRST_BATCH
            } else {
                IMPORT_BATCH
            };
            if self.batch.len() >= size {
                self.send_batch().await?;
            }
        }
        Ok(())
    }

    /// A room whose keys all went through `add_opened`.
    pub(super) fn end_room(&mut self, room_id: &RoomId, keys: usize) -> Result<(), BackupError> {
        let keys = match self.open_room.take() {
            Some((r, seen)) if r == room_id => seen.len(),
            _ => keys,
        };
        self.finished_rooms.push((room_id.to_owned(), keys));
        if self.batch.is_empty() {
            match &mut self.saving {
                // Its last keys may be in the batch being saved.
                Some(saving) => saving.rooms.append(&mut self.finished_rooms),
                None => self.mark_done()?,
            }
        }
        Ok(())
    }

    /// Everything opened so far into the store, and its rooms recorded.
    pub(super) async fn flush(&mut self) -> Result<(), BackupError> {
        self.send_batch().await?;
        self.settle().await?;
        self.mark_done()
    }

    /// Places the batch and writes its trust rows, waits for the batch
    /// before it to be saved, and hands this one to the store: the store,
    /// the slowest step, is never idle while the importer has keys.
    async fn send_batch(&mut self) -> Result<(), BackupError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let keys = self.batch.len();
        let trusted: HashMap<(OwnedRoomId, String), bool> =
            self.ids.drain(..).map(|(r, s, t)| ((r, s), t)).collect();
        // Sessions that reached the store since (received keys) are known
        // before any key is placed.
        self.to.held.sync(self.to.crypto).await?;
        let placed = place(
            self.to,
            std::mem::take(&mut self.batch),
            &trusted,
            self.key.source(),
            self.backed_up_to.is_some(),
        )
        .await?;
        let rooms = std::mem::take(&mut self.finished_rooms);
        self.settle().await?;
        // The uploader waits while keys come in, so restored keys are never
        // uploaded back.
        let uploads = self.to.upload_lock.lock().await;
        let mut taken = placed.taken;
        // Held sessions merge after the batch before is in (it may hold
        // their first copy).
        merge(
            self.to,
            placed.merge,
            &trusted,
            self.key.source(),
            self.backed_up_to.as_deref(),
            &mut taken,
        )
        .await?;
        let task = tokio::spawn(save(
            self.to.crypto.clone(),
            self.to.client.clone(),
            placed.fresh,
            placed.retry,
            self.backed_up_to.clone(),
        ));
        // The new task sits in this worker's LIFO slot, which the other
        // worker never steals: without a yield it would start only when
        // the importer next waits, 20-40 ms a batch later (measured at
        // 100,000 keys), with the store idle meanwhile.
        tokio::task::yield_now().await;
        self.batches += 1;
        self.saving = Some(Saving {
            task,
            uploads,
            rooms,
            keys,
            taken,
            started,
        });
        Ok(())
    }

    /// Waits for the batch being saved, counts it and records its rooms.
    async fn settle(&mut self) -> Result<(), BackupError> {
        let Some(saving) = self.saving.take() else {
            return Ok(());
        };
        let save_ms = saving
            .task
            .await
            .map_err(|e| BackupError::Other(format!("cannot import the keys: {e}")))??;
        drop(saving.uploads);
        let taken = saving.taken;
        tracing::info!(
            keys = saving.keys,
            ms = saving.started.elapsed().as_millis() as u64,
            trust_ms = taken.record_ms,
            save_ms,
            "restore: imported a batch"
        );
        let r = &mut self.report;
        // What the store took; a copy it already held as good or better
        // (or a duplicate entry) counts as already held.
        r.imported += taken.trusted + taken.untrusted;
        r.trusted += taken.trusted;
        r.untrusted += taken.untrusted;
        r.room_conflicts += taken.conflicts;
        r.already_held += saving
            .keys
            .saturating_sub(taken.trusted + taken.untrusted + taken.conflicts);
        self.record_rooms(saving.rooms)
    }

    /// Remembers the rooms whose keys are all imported, so a restore that
    /// is interrupted later resumes after them.
    fn mark_done(&mut self) -> Result<(), BackupError> {
        let rooms = std::mem::take(&mut self.finished_rooms);
        self.record_rooms(rooms)
    }

    fn record_rooms(&mut self, rooms: Vec<(OwnedRoomId, usize)>) -> Result<(), BackupError> {
        for (room, keys) in rooms {
            self.to
                .trust
                .room_restored(self.version, room.as_str(), keys)
                .map_err(|e| e.to_string())?;
            self.rooms_recorded += 1;
        }
        Ok(())
    }
}
