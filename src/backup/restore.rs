//! Restore: download the backup room by room, check every MAC before
//! decrypting, skip (and count) whatever is damaged, and import the rest in
//! batches through matrix-sdk's key import so the timeline re-decrypts.
//!
//! Keys go into the store through the crypto machine's import, marked as
//! backed up for this version in the same write and under the uploader's
//! lock, so they are never uploaded back; decrypted keys never touch the
//! disk. (The public alternative, a key file fed from a memfd, was twice as
//! slow: it encrypts and decrypts an export and marks keys separately.)

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use matrix_sdk::Client;
use matrix_sdk::SqliteCryptoStore;
use matrix_sdk::event_cache::DecryptionRetryRequest;
use matrix_sdk::ruma::api::client::backup::{
    KeyBackupData, get_backup_keys_for_room, get_backup_keys_for_session,
};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedRoomId, RoomId};
use matrix_sdk_crypto::olm::{BackedUpRoomKey, ExportedRoomKey, InboundGroupSession};
use matrix_sdk_crypto::store::CryptoStore;
use matrix_sdk_crypto::store::types::BackupDecryptionKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::download::{Opened, Piece};
use super::server::VersionInfo;
use super::trust::{Source, TrustTable};
use crate::crypto::session::{BackedUpSession, SessionDataError};
use crate::crypto::{BackupKey, CryptoError, EncryptedData};

/// Above this many keys of one room, on-demand fetches the whole room.
const ROOM_FETCH_ABOVE: usize = 8;

/// Keys imported per batch: bounds memory on large backups.
const IMPORT_BATCH: usize = 5000;

/// Why a key from the backup was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The entry is not `KeyBackupData` with an MSC3270 `session_data`.
    Malformed,
    /// The MAC does not match: tampered, or encrypted with another key.
    BadMac,
    /// Decrypts, but the plaintext is not a backed-up megolm session.
    NotASession,
    /// A valid session stored under another session's id.
    Moved,
}

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
    /// Rooms an earlier, interrupted restore of this version had finished
    /// (their keys are not counted again).
    pub rooms_already_done: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreProgress {
    pub rooms_done: usize,
    pub rooms_total: usize,
    pub keys_done: usize,
    pub keys_total: usize,
}

#[derive(Deserialize)]
struct Entry {
    session_data: EncryptedData,
}

/// The standard asymmetric backup algorithm (Element, matrix-sdk).
pub const CURVE25519_ALGORITHM: &str = "m.megolm_backup.v1.curve25519-aes-sha2";

/// The curve25519 decryption key in `secret`, if it is the key of
/// `version` (its public key matches the version's `auth_data`).
pub fn curve25519_key(secret: &[u8; 32], version: &VersionInfo) -> Option<BackupDecryptionKey> {
    let info: matrix_sdk_crypto::types::RoomKeyBackupInfo = serde_json::from_value(
        serde_json::json!({ "algorithm": version.algorithm, "auth_data": version.auth_data }),
    )
    .ok()?;
    let dk = BackupDecryptionKey::from_bytes(secret);
    dk.backup_key_matches(&info).then_some(dk)
}

/// What opens the backup's entries.
#[derive(Clone)]
pub enum Opener {
    /// Our MSC3270 key: every entry authenticated by it.
    Symmetric(BackupKey),
    /// The standard curve25519 backup (Element, matrix-sdk): anyone who
    /// knows its public key could have written an entry, so nothing in it
    /// is trusted.
    Curve25519(BackupDecryptionKey),
}

impl Opener {
    fn source(&self) -> Source {
        match self {
            Opener::Symmetric(_) => Source::SymmetricBackup,
            Opener::Curve25519(_) => Source::AsymmetricBackup,
        }
    }
}

/// One key from the backup: decrypted and checked, or why not; with
/// whether the backup vouches for it.
pub(super) fn open_entry(
    opener: &Opener,
    room_id: &RoomId,
    session_id: &str,
    raw: &serde_json::value::RawValue,
) -> Result<(ExportedRoomKey, bool), SkipReason> {
    let plain: Zeroizing<Vec<u8>> = match opener {
        Opener::Symmetric(key) => {
            let entry: Entry =
                serde_json::from_str(raw.get()).map_err(|_| SkipReason::Malformed)?;
            key.decrypt_session(session_id, &entry.session_data)
                .map_err(|e| match e {
                    CryptoError::MacMismatch => SkipReason::BadMac,
                    _ => SkipReason::Malformed,
                })?
        }
        Opener::Curve25519(dk) => {
            let entry: KeyBackupData =
                serde_json::from_str(raw.get()).map_err(|_| SkipReason::Malformed)?;
            let key = dk
                .decrypt_session_data(entry.session_data)
                .map_err(|_| SkipReason::BadMac)?;
            Zeroizing::new(serde_json::to_vec(&key).map_err(|_| SkipReason::NotASession)?)
        }
    };
    let checked = BackedUpSession::from_json(&plain).map_err(|_| SkipReason::NotASession)?;
    checked.check_session_id(session_id).map_err(|e| match e {
        SessionDataError::SessionIdMismatch => SkipReason::Moved,
        _ => SkipReason::NotASession,
    })?;
    // The same plaintext, now known to be sound, as the SDK's type.
    let sdk: BackedUpRoomKey =
        serde_json::from_slice(&plain).map_err(|_| SkipReason::NotASession)?;
    let exported =
        ExportedRoomKey::from_backed_up_room_key(room_id.to_owned(), session_id.to_owned(), sdk);
    let trusted = matches!(opener, Opener::Symmetric(_)) && !checked.untrusted;
    Ok((exported, trusted))
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
    held: &mut HashMap<OwnedRoomId, HashSet<String>>,
    keys: Vec<ExportedRoomKey>,
    version: &str,
) -> Result<usize, String> {
    let store_err = |e: &dyn std::fmt::Display| format!("cannot import the keys: {e}");
    let mut fresh = Vec::with_capacity(keys.len());
    let mut merge = Vec::new();
    let mut retry: BTreeMap<OwnedRoomId, BTreeSet<String>> = BTreeMap::new();
    for key in keys {
        if !held.contains_key(&key.room_id) {
            let ids = to
                .crypto
                .get_inbound_group_sessions_by_room_id(&key.room_id)
                .await
                .map_err(|e| store_err(&e))?
                .iter()
                .map(|s| s.session_id().to_owned())
                .collect();
            held.insert(key.room_id.clone(), ids);
        }
        let ids = held.entry(key.room_id.clone()).or_default();
        if ids.contains(&key.session_id) {
            merge.push(key);
            continue;
        }
        // A key the SDK cannot turn into a session was already refused by
        // our own check; this is belt and braces.
        let Ok(session) = InboundGroupSession::from_export(&key) else {
            continue;
        };
        // The store writes the session's own flag (the version argument
        // must agree with it, or it logs and stores "not backed up").
        session.mark_as_backed_up();
        ids.insert(key.session_id.clone());
        if to.client.get_room(&key.room_id).is_some() {
            retry
                .entry(key.room_id.clone())
                .or_default()
                .insert(key.session_id.clone());
        }
        fresh.push(session);
    }
    let mut imported = fresh.len();
    to.crypto
        .save_inbound_group_sessions(fresh, Some(version))
        .await
        .map_err(|e| store_err(&e))?;
    if !merge.is_empty() {
        let machine = to.base.olm_machine().await;
        let machine = machine
            .as_ref()
            .ok_or("the encryption machine is not running (not logged in?)")?;
        let r = machine
            .store()
            .import_room_keys(merge, Some(version), |_, _| {})
            .await
            .map_err(|e| store_err(&e))?;
        imported += r.imported_count;
    }
    let cache = to.client.event_cache();
    for (room_id, sessions) in retry {
        cache.request_decryption(DecryptionRetryRequest {
            room_id,
            utd_session_ids: sessions,
            refresh_info_session_ids: BTreeSet::new(),
        });
    }
    Ok(imported)
}

/// Restores every key of `version` that `key` opens.
pub async fn restore(
    to: &Target<'_>,
    key: &Opener,
    version: &VersionInfo,
    progress: &(dyn Fn(RestoreProgress) + Send + Sync),
) -> Result<RestoreReport, String> {
    let (client, trust) = (to.client, to.trust);
    let started = std::time::Instant::now();
    let keys_total = usize::try_from(version.count).unwrap_or(usize::MAX);
    let mut imp = Importer::new(key, to, &version.version);
    // Rooms this device knows, one request each (a whole backup never sits
    // in memory); anything left over comes with one full download after.
    let known: Vec<OwnedRoomId> = client
        .rooms()
        .iter()
        .map(|r| r.room_id().to_owned())
        .collect();
    let mut rooms_total = known.len();
    let mut rooms_done = 0;
    let tell = |imp: &Importer, rooms_done, rooms_total| {
        progress(RestoreProgress {
            rooms_done,
            rooms_total,
            keys_done: imp.report.total + imp.keys_already_done,
            keys_total,
        })
    };
    for room_id in &known {
        rooms_done += 1;
        if imp.already_done(room_id)? {
            continue;
        }
        let req =
            get_backup_keys_for_room::v3::Request::new(version.version.clone(), room_id.clone());
        let sessions = match client.send(req).await {
            Ok(r) => r.sessions,
            Err(e)
                if e.client_api_error_kind()
                    == Some(&matrix_sdk::ruma::api::error::ErrorKind::NotFound) =>
            {
                BTreeMap::new()
            }
            Err(e) => return Err(format!("cannot download the backup of {room_id}: {e}")),
        };
        imp.add_room(room_id, sessions).await?;
        tell(&imp, rooms_done, rooms_total);
    }
    imp.flush().await?;
    if imp.report.total + imp.keys_already_done < keys_total {
        // Keys of rooms this device does not know (left long ago, say):
        // the whole backup, streamed, skipping what is done.
        let t = std::time::Instant::now();
        let known_set: BTreeSet<String> = known.iter().map(|r| r.to_string()).collect();
        let (trust2, v2) = (trust.clone(), version.version.clone());
        let skip = move |room: &str| {
            known_set.contains(room) || matches!(trust2.room_restored_keys(&v2, room), Ok(Some(_)))
        };
        let mut pieces =
            super::download::stream_all(client, &version.version, key.clone(), skip).await?;
        while let Some(piece) = pieces.recv().await {
            match piece? {
                Piece::Keys { room, keys } => imp.add_opened(&room, keys).await?,
                Piece::RoomEnd { room, total } => {
                    imp.end_room(&room, total)?;
                    rooms_done += 1;
                    // One more while the download lasts: the count is unknown.
                    rooms_total = rooms_done + 1;
                    tell(&imp, rooms_done, rooms_total);
                }
            }
        }
        rooms_total = rooms_done;
        imp.flush().await?;
        tracing::info!(
            ms = t.elapsed().as_millis() as u64,
            "restore: streamed the whole backup"
        );
    }
    tell(&imp, rooms_done, rooms_total);
    let report = imp.report;
    tracing::info!(
        total = report.total,
        imported = report.imported,
        ms = started.elapsed().as_millis() as u64,
        "restore finished"
    );
    Ok(report)
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
) -> Result<RestoreReport, String> {
    let client = to.client;
    let mut found = BTreeMap::new();
    if session_ids.len() > ROOM_FETCH_ABOVE {
        // Many keys of one room: one request for the room is cheaper.
        let req =
            get_backup_keys_for_room::v3::Request::new(version.to_owned(), room_id.to_owned());
        match client.send(req).await {
            Ok(r) => found = r.sessions,
            Err(e)
                if e.client_api_error_kind()
                    == Some(&matrix_sdk::ruma::api::error::ErrorKind::NotFound) => {}
            Err(e) => return Err(format!("cannot fetch keys from the backup: {e}")),
        }
        found.retain(|sid, _| session_ids.contains(sid));
    }
    let one_by_one: &[String] = if session_ids.len() > ROOM_FETCH_ABOVE {
        &[]
    } else {
        session_ids
    };
    for sid in one_by_one {
        let req = get_backup_keys_for_session::v3::Request::new(
            version.to_owned(),
            room_id.to_owned(),
            sid.clone(),
        );
        match client.send(req).await {
            Ok(r) => {
                found.insert(sid.clone(), r.key_data);
            }
            Err(e)
                if e.client_api_error_kind()
                    == Some(&matrix_sdk::ruma::api::error::ErrorKind::NotFound) => {}
            Err(e) => return Err(format!("cannot fetch a key from the backup: {e}")),
        }
    }
    let mut imp = Importer::new(key, to, version);
    imp.add_keys(room_id, found).await?;
    imp.flush().await?;
    Ok(imp.report)
}

/// Opens keys as they are downloaded and imports them in batches.
struct Importer<'a> {
    key: &'a Opener,
    to: &'a Target<'a>,
    version: &'a str,
    /// Per room seen, the sessions the store holds (see `import`).
    held: HashMap<OwnedRoomId, HashSet<String>>,
    batch: Vec<ExportedRoomKey>,
    /// (room, session, trusted) of each key in `batch`.
    ids: Vec<(OwnedRoomId, String, bool)>,
    /// Rooms whose every key is in `batch` or already imported, with the
    /// number of keys the backup holds for each.
    finished_rooms: Vec<(OwnedRoomId, usize)>,
    /// Keys of rooms an earlier restore finished.
    keys_already_done: usize,
    report: RestoreReport,
}

impl<'a> Importer<'a> {
    fn new(key: &'a Opener, to: &'a Target<'a>, version: &'a str) -> Self {
        Importer {
            key,
            to,
            version,
            held: HashMap::new(),
            batch: Vec::new(),
            ids: Vec::new(),
            finished_rooms: Vec::new(),
            keys_already_done: 0,
            report: RestoreReport {
                version: version.to_owned(),
                ..RestoreReport::default()
            },
        }
    }

    /// Whether an earlier, interrupted restore of this version finished the
    /// room (its keys are counted as skipped-as-done).
    fn already_done(&mut self, room_id: &RoomId) -> Result<bool, String> {
        let done = self
            .to
            .trust
            .room_restored_keys(self.version, room_id.as_str())
            .map_err(|e| e.to_string())?;
        if let Some(keys) = done {
            self.report.rooms_already_done += 1;
            self.keys_already_done += keys;
        }
        Ok(done.is_some())
    }

    /// All of a room's keys: once imported, the room counts as done.
    async fn add_room(
        &mut self,
        room_id: &RoomId,
        sessions: BTreeMap<String, Raw<KeyBackupData>>,
    ) -> Result<(), String> {
        let keys = sessions.len();
        self.add_keys(room_id, sessions).await?;
        self.end_room(room_id, keys)
    }

    async fn add_keys(
        &mut self,
        room_id: &RoomId,
        sessions: BTreeMap<String, Raw<KeyBackupData>>,
    ) -> Result<(), String> {
        let opened = sessions
            .into_iter()
            .map(|(sid, raw)| {
                let o = open_entry(self.key, room_id, &sid, raw.json());
                (sid, o)
            })
            .collect();
        self.add_opened(room_id, opened).await
    }

    /// Keys already opened (by the streaming download's parser).
    async fn add_opened(&mut self, room_id: &RoomId, keys: Vec<Opened>) -> Result<(), String> {
        for (session_id, opened) in keys {
            self.report.total += 1;
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
    fn end_room(&mut self, room_id: &RoomId, keys: usize) -> Result<(), String> {
        self.finished_rooms.push((room_id.to_owned(), keys));
        if self.batch.is_empty() {
            self.mark_done()?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return self.mark_done();
        }
        // The uploader waits while keys come in, so restored keys are never
        // uploaded back.
        let _guard = self.to.upload_lock.lock().await;
        let t = std::time::Instant::now();
        let n = self.batch.len();
        // Trust first: a crash between the two leaves a row for a key not
        // yet imported (harmless), never an imported key without its row.
        self.to
            .trust
            .record(
                self.key.source(),
                self.ids
                    .iter()
                    .map(|(r, s, t)| (r.as_str(), s.as_str(), *t)),
            )
            .map_err(|e| e.to_string())?;
        import(
            self.to,
            &mut self.held,
            std::mem::take(&mut self.batch),
            self.version,
        )
        .await?;
        tracing::info!(
            keys = n,
            ms = t.elapsed().as_millis() as u64,
            "restore: imported a batch"
        );
        let r = &mut self.report;
        r.imported += self.ids.len();
        r.trusted += self.ids.iter().filter(|(_, _, t)| *t).count();
        r.untrusted += self.ids.iter().filter(|(_, _, t)| !*t).count();
        self.ids.clear();
        self.mark_done()
    }

    /// Remembers the rooms whose keys are all imported, so a restore that
    /// is interrupted later resumes after them.
    fn mark_done(&mut self) -> Result<(), String> {
        for (room, keys) in self.finished_rooms.drain(..) {
            self.to
                .trust
                .room_restored(self.version, room.as_str(), keys)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
