//! The uploader's reader: reads the sessions not yet backed up from the
//! crypto store and encodes them into request bodies, while the uploader
//! (`upload`) keeps earlier ones on the wire.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use matrix_sdk::SqliteCryptoStore;
use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk_crypto::store::CryptoStore;
use tokio::sync::mpsc;

use super::encode;
use super::held::HeldSessions;
use super::server::UploadError;
use super::trust::TrustTable;
use super::upload::{BATCH, IN_FLIGHT};
use crate::crypto::backup::BackupKey;

/// Sessions of the first read: two requests' worth, so the wire is busy
/// at once while the next, larger read is unpickled.
const FIRST_READ: usize = IN_FLIGHT * BATCH;
/// Sessions per later read: few reads, as each one unpickles again every
/// session sent but not yet marked; bounded, as they are all in memory.
const READ: usize = 8 * BATCH;
/// Batches the reader may have ready ahead of the wire: a read's worth, so
/// it never waits for the wire.
pub const READY: usize = READ / BATCH;

/// What the reader task works with.
pub struct Reader {
    pub crypto: SqliteCryptoStore,
    pub version: String,
    pub key: BackupKey,
    pub own: Option<matrix_sdk_crypto::vodozemac::Curve25519PublicKey>,
    pub trust: TrustTable,
    pub held: HeldSessions,
    /// Sessions of this pass marked backed up so far.
    pub marked: std::sync::Arc<AtomicUsize>,
    /// Sessions pending when the round began: once that many are read, a
    /// further read would only find those still on the wire (new ones are
    /// the next round's).
    pub pending: usize,
}

/// One request's worth of sessions, encoded.
pub struct Batch {
    pub ids: Vec<(OwnedRoomId, String)>,
    pub body: encode::Body,
}

/// Reads the sessions not yet backed up and encodes them into batches,
/// until a read has taken the last of them.
///
/// The store lists a session as pending until its request is answered and
/// it is marked, and its read has no cursor: each read asks for as many
/// more as are still unmarked and skips those. Unpickling a session costs
/// two Ed25519 points decompressed (most of the uploader's time), so reads
/// are few and large, and made while earlier batches are on the wire.
pub async fn read_batches(r: Reader, out: mpsc::Sender<Result<Batch, UploadError>>) {
    let mut seen: HashSet<(OwnedRoomId, String)> = HashSet::new();
    let mut want = FIRST_READ;
    while seen.len() < r.pending {
        let unmarked = seen.len().saturating_sub(r.marked.load(Ordering::Acquire));
        let limit = want.min(r.pending - seen.len()) + unmarked;
        let read = match r
            .crypto
            .inbound_group_sessions_for_backup(&r.version, limit)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                let e = UploadError::Transient(format!("cannot read the local store: {e}"));
                let _ = out.send(Err(e)).await;
                return;
            }
        };
        let exhausted = read.len() < limit;
        // A session that cannot be encoded is seen too: it stays pending
        // (logged by `encode`) without being read again in this pass.
        let fresh: Vec<_> = read
            .into_iter()
            .filter(|s| seen.insert((s.room_id().to_owned(), s.session_id().to_owned())))
            .collect();
        r.held.note(&fresh);
        for chunk in fresh.chunks(BATCH) {
            let (ids, body) = encode::batch(chunk, &r.key, r.own, &r.trust).await;
            if ids.is_empty() {
                continue;
            }
            if out.send(Ok(Batch { ids, body })).await.is_err() {
                return;
            }
        }
        // Keys that arrive later are left to the next round (`pass`).
        if exhausted || fresh.is_empty() {
            return;
        }
        want = READ;
    }
}
