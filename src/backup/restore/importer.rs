//! The importer: opened keys in, batches of them into the crypto store
//! (new sessions written straight, held ones merged by the SDK's rules),
//! each key's trust row first, and the rooms whose keys are all in recorded
//! so an interrupted restore resumes after them.

use super::*;

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
    pub(super) report: RestoreReport,
}

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
            if self.batch.len() >= IMPORT_BATCH {
                self.flush().await?;
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
            self.mark_done()?;
        }
        Ok(())
    }

    pub(super) async fn flush(&mut self) -> Result<(), BackupError> {
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
