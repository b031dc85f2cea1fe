//! The uploader: one task that backs up every megolm session this device
//! has, as soon as it exists.
//!
//! It wakes on new room keys (matrix-sdk's `room_keys_received_stream`), on
//! a kick from a command, and on its retry timer. Every pass reads what is
//! not yet backed up from the crypto store, so a lagged stream, a crash or a
//! failed request loses nothing: sessions are marked backed up only after
//! the server acknowledged them, and the next pass picks up the rest.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use matrix_sdk::{Client, SqliteCryptoStore};
use matrix_sdk_crypto::store::CryptoStore;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::held::HeldSessions;
use super::local_key;
use super::server::{self, UploadError};
use super::state::{self, BackupState};
use super::trust::TrustTable;
use super::upload_reader::{Batch, READY, Reader, read_batches};
use super::version::{self, Fit};
use crate::crypto::KeyCheck;
use crate::crypto::backup::{BackupKey, is_symmetric_algorithm};

/// Sessions per request: about 0.8 MiB, far below Synapse's 50 MiB limit.
pub const BATCH: usize = 1000;
/// Requests on the wire at once: the client encodes one while the server
/// stores the other.
pub const IN_FLIGHT: usize = 2;
const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    /// Everything known is backed up.
    Idle,
    Uploading,
    /// The last attempt failed; the next one is scheduled.
    Retrying,
    /// No backup version to upload to (none created or adopted yet).
    NoBackup,
    /// This device does not hold the backup key.
    NoKey,
    /// The version was replaced or deleted, or the key does not fit it:
    /// nothing is uploaded until the user decides (`use-current`, `reset`).
    Stale,
    /// The server no longer takes this device's access token: nothing is
    /// retried until the user logs in again.
    LoggedOut,
}

/// The uploader's news, after every batch and every failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub state: UploadState,
    pub version: Option<String>,
    pub local_sessions: usize,
    pub backed_up: usize,
    pub pending: usize,
    pub last_error: Option<String>,
}

impl Progress {
    /// Nothing more will happen without a new session or a user decision.
    pub fn settled(&self) -> bool {
        match self.state {
            UploadState::Idle => self.pending == 0,
            UploadState::NoBackup
            | UploadState::NoKey
            | UploadState::Stale
            | UploadState::LoggedOut => true,
            UploadState::Uploading | UploadState::Retrying => false,
        }
    }
}

/// A wake-up, optionally with someone waiting for the outcome of a pass
/// that starts after it.
type Kick = Option<tokio::sync::oneshot::Sender<Progress>>;

/// What the worker holds to poke the uploader.
#[derive(Clone)]
pub struct Uploader {
    kick: mpsc::UnboundedSender<Kick>,
    /// Tells the task to end after its pass.
    stop: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    task: std::sync::Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
    /// Held during every pass; a restore holds it while it imports and
    /// marks keys, so restored keys are never uploaded back.
    lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The sessions the store holds, by room: kept here because the
    /// uploader sees every new session (see `held`).
    held: HeldSessions,
}

impl Uploader {
    pub fn spawn(
        client: Client,
        crypto: SqliteCryptoStore,
        trust: TrustTable,
        report: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Uploader {
        let (kick, rx) = mpsc::unbounded_channel();
        let lock = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        let held = HeldSessions::default();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(run(
            Parts {
                client,
                crypto,
                trust,
                held: held.clone(),
            },
            rx,
            stopped,
            lock.clone(),
            report,
        ));
        Uploader {
            kick,
            stop: std::sync::Arc::new(stop),
            task: std::sync::Arc::new(std::sync::Mutex::new(Some(task))),
            lock,
            held,
        }
    }

    /// The index of the sessions the store holds (see `held`).
    pub fn held(&self) -> HeldSessions {
        self.held.clone()
    }

    /// Ends the task after the pass under way (so no answer is cut off
    /// between upload and marking); cut off if that takes over `within`.
    pub async fn stop(&self, within: Duration) {
        let _ = self.stop.send(true);
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let abort = task.abort_handle();
            if tokio::time::timeout(within, task).await.is_err() {
                abort.abort();
            }
        }
    }

    pub fn lock(&self) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        self.lock.clone()
    }

    /// Run a pass now (new backup, new key, or the user asked).
    pub fn kick(&self) {
        let _ = self.kick.send(None);
    }

    /// Runs a pass that starts after this call and returns its outcome
    /// (`None` if the uploader has stopped).
    pub async fn flush(&self) -> Option<Progress> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.kick.send(Some(tx)).ok()?;
        rx.await.ok()
    }
}

enum Outcome {
    Done,
    Blocked,
    Retry(Duration),
}

/// What the uploader's task works with.
struct Parts {
    client: Client,
    crypto: SqliteCryptoStore,
    trust: TrustTable,
    held: HeldSessions,
}

async fn run(
    parts: Parts,
    mut kicks: mpsc::UnboundedReceiver<Kick>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    report: impl Fn(Progress),
) {
    let Parts {
        client,
        crypto,
        trust,
        held,
    } = parts;
    let mut keys = client.encryption().room_keys_received_stream().await;
    let mut backoff = Duration::from_secs(1);
    // Flushes waiting for the end of the next pass.
    let mut waiting: Vec<tokio::sync::oneshot::Sender<Progress>> = vec![];
    // Every wake-up (start, kick, new keys, retry timer) runs one pass.
    loop {
        if *stop.borrow() {
            return;
        }
        let mut retry_at: Option<Instant> = None;
        let waiters = std::mem::take(&mut waiting);
        let last = std::sync::Mutex::new(None);
        let guard = lock.lock().await;
        let outcome = pass(&client, &crypto, &trust, &held, &|p: Progress| {
            if let Ok(mut l) = last.lock() {
                *l = Some(p.clone());
            }
            report(p);
        })
        .await;
        drop(guard);
        if let Some(p) = last.into_inner().ok().flatten() {
            for w in waiters {
                let _ = w.send(p.clone());
            }
        }
        match outcome {
            Outcome::Done | Outcome::Blocked => backoff = Duration::from_secs(1),
            Outcome::Retry(wait) => {
                // The server's retry_after wins; otherwise back off.
                let wait = if wait.is_zero() { backoff } else { wait };
                retry_at = Some(Instant::now() + wait);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        let retry = async {
            match retry_at {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        let next_keys = async {
            match keys.as_mut() {
                Some(s) => s.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            k = kicks.recv() => match k {
                Some(Some(w)) => waiting.push(w),
                Some(None) => {}
                None => return,
            },
            item = next_keys => match item {
                // New sessions, or a lagged stream (missed batches): either
                // way a pass uploads everything not yet backed up. A short
                // pause lets a burst of keys go in one request.
                Some(infos) => {
                    for i in infos.iter().flatten() {
                        held.note_one(&i.room_id, &i.session_id);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                None => {
                    keys = client.encryption().room_keys_received_stream().await;
                    if keys.is_none() {
                        // No crypto machine any more: only kicks and retries.
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            },
            () = retry => {}
            _ = stop.changed() => return,
        }
        // Kicks that piled up during the pass are served by the next one.
        while let Ok(k) = kicks.try_recv() {
            waiting.extend(k);
        }
    }
}

async fn counts(crypto: &SqliteCryptoStore, version: Option<&str>) -> (usize, usize) {
    match crypto.inbound_group_session_counts(version).await {
        Ok(c) => (c.total, c.backed_up),
        Err(_) => (0, 0),
    }
}

async fn progress(crypto: &SqliteCryptoStore, st: &BackupState, state: UploadState) -> Progress {
    let counted = counts(crypto, st.version.as_deref()).await;
    progress_of(st, state, counted)
}

/// [`progress`] with the store's counts at hand.
fn progress_of(
    st: &BackupState,
    state: UploadState,
    (total, backed_up): (usize, usize),
) -> Progress {
    Progress {
        state,
        version: st.version.clone(),
        local_sessions: total,
        backed_up,
        pending: total.saturating_sub(backed_up),
        last_error: st.stale.clone().or_else(|| st.last_error.clone()),
    }
}

async fn pass(
    client: &Client,
    crypto: &SqliteCryptoStore,
    trust: &TrustTable,
    held: &HeldSessions,
    report: &impl Fn(Progress),
) -> Outcome {
    let mut st = match state::load(crypto).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "backup state unreadable");
            return Outcome::Retry(Duration::ZERO);
        }
    };
    let key = match local_key::load(crypto).await {
        Ok(Some(k)) => BackupKey::new(k),
        Ok(None) => {
            report(progress(crypto, &st, UploadState::NoKey).await);
            return Outcome::Blocked;
        }
        Err(e) => {
            st.last_error = Some(e.to_string());
            report(progress(crypto, &st, UploadState::NoKey).await);
            return Outcome::Blocked;
        }
    };
    if st.stale.is_some() {
        report(progress(crypto, &st, UploadState::Stale).await);
        return Outcome::Blocked;
    }
    let current = match server::current(client).await {
        Ok(c) => c,
        Err(e) => return fail(crypto, &mut st, e.to_string(), report).await,
    };
    let version = match st.version.clone() {
        Some(v) => v,
        None => match adopt(crypto, &mut st, &key, current.as_ref()).await {
            Some(v) => v,
            None => {
                report(progress(crypto, &st, UploadState::NoBackup).await);
                return Outcome::Blocked;
            }
        },
    };
    if let Fit::Unusable(why) = version::fit(&version, &key, current.as_ref()) {
        return go_stale(crypto, &mut st, why, report).await;
    }
    if let Some(v) = &current {
        st.etag = Some(v.etag.clone());
        st.server_count = Some(v.count);
    }
    let own = client.encryption().curve25519_key().await;
    let mut failure: Option<UploadError> = None;
    let mut announced = false;
    let mut settled = 0usize;
    // The store's counts when nothing was pending (each count reads the
    // whole table: a pass that uploads nothing reports them as they are).
    let mut idle_counts = None;
    // Rounds: keys that arrive while one runs are taken by the next.
    loop {
        let sent_before = settled;
        let pending = match crypto.inbound_group_session_counts(Some(&version)).await {
            Ok(c) => {
                if c.total == c.backed_up && settled == 0 {
                    idle_counts = Some((c.total, c.backed_up));
                }
                c.total.saturating_sub(c.backed_up)
            }
            // The reads find out how many there are.
            Err(_) => usize::MAX,
        };
        if pending == 0 {
            break;
        }
        // A pipeline: the reader task reads and encodes batches while earlier
        // ones are on the wire, and each request's task marks its sessions when
        // the server took them, so the server, not this loop, sets the pace.
        let marked = std::sync::Arc::new(AtomicUsize::new(0));
        let (batches, mut ready) = mpsc::channel(READY);
        let reader = tokio::spawn(read_batches(
            Reader {
                crypto: crypto.clone(),
                version: version.clone(),
                key: key.clone(),
                own,
                trust: trust.clone(),
                held: held.clone(),
                marked: marked.clone(),
                pending,
            },
            batches,
        ));
        let mut wire: VecDeque<Put> = VecDeque::with_capacity(IN_FLIGHT);
        while let Some(next) = ready.recv().await {
            let batch = match next {
                Ok(b) => b,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            // Counting sessions scans the store: once when uploading starts,
            // then every few requests, while the next is on the wire.
            if !announced {
                announced = true;
                report(progress(crypto, &st, UploadState::Uploading).await);
            }
            if wire.len() >= IN_FLIGHT
                && let Some(put) = wire.pop_front()
            {
                if let Err(e) = settle(&mut st, put).await {
                    failure = Some(e);
                    break;
                }
                settled += 1;
                if settled.is_multiple_of(IN_FLIGHT) {
                    report(progress(crypto, &st, UploadState::Uploading).await);
                }
            }
            wire.push_back(send(client, crypto, &version, batch, &marked));
        }
        reader.abort();
        // After a failure, what is still on the wire is answered and marked, so
        // nothing the server took is sent again.
        while let Some(put) = wire.pop_front() {
            match settle(&mut st, put).await {
                Ok(()) => settled += 1,
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if failure.is_some() || settled == sent_before {
            break;
        }
        let _ = state::save(crypto, &st).await;
        let p = progress(crypto, &st, UploadState::Uploading).await;
        let more = p.pending > 0;
        report(p);
        if !more {
            break;
        }
    }
    let _ = state::save(crypto, &st).await;
    match failure {
        None => {}
        Some(UploadError::VersionGone) => {
            // Synapse's `current_version` in this error is unreliable:
            // ask again which version is current, for the message.
            let refused = format!("the server refused uploads to backup version {version}");
            let why = match server::current(client).await {
                Ok(cur) => match version::fit(&version, &key, cur.as_ref()) {
                    Fit::Unusable(why) => why,
                    Fit::Usable { .. } => refused,
                },
                Err(_) => refused,
            };
            return go_stale(crypto, &mut st, why, report).await;
        }
        Some(UploadError::RateLimited(wait)) => {
            st.last_error = Some(UploadError::RateLimited(wait).to_string());
            let _ = state::save(crypto, &st).await;
            report(progress(crypto, &st, UploadState::Retrying).await);
            return Outcome::Retry(wait.unwrap_or(Duration::ZERO));
        }
        Some(UploadError::Transient(e)) => return fail(crypto, &mut st, e, report).await,
        Some(UploadError::LoggedOut) => {
            // Retrying cannot help: say so and wait for the user.
            tracing::warn!("backup uploads stopped: the access token was refused");
            st.last_error = Some(UploadError::LoggedOut.to_string());
            let _ = state::save(crypto, &st).await;
            report(progress(crypto, &st, UploadState::LoggedOut).await);
            return Outcome::Blocked;
        }
    }
    let _ = state::save(crypto, &st).await;
    let p = match idle_counts {
        Some(counted) => progress_of(&st, UploadState::Idle, counted),
        None => progress(crypto, &st, UploadState::Idle).await,
    };
    report(p);
    Outcome::Done
}

/// A request on the wire: the server's answer, after its sessions were
/// marked backed up.
struct Put {
    task: tokio::task::JoinHandle<Result<(String, u64), UploadError>>,
}

/// Sends a batch and marks its sessions backed up when the server took
/// them. Uploaded but not marked (the store failed): the next pass uploads
/// them again, which the server ignores; nothing is lost.
fn send(
    client: &Client,
    crypto: &SqliteCryptoStore,
    version: &str,
    batch: Batch,
    marked: &std::sync::Arc<AtomicUsize>,
) -> Put {
    let (c, store, v, marked) = (
        client.clone(),
        crypto.clone(),
        version.to_owned(),
        marked.clone(),
    );
    let task = tokio::spawn(async move {
        let answer = server::add_keys(&c, &v, batch.body).await?;
        let refs: Vec<(&matrix_sdk::ruma::RoomId, &str)> = batch
            .ids
            .iter()
            .map(|(r, s)| (r.as_ref(), s.as_str()))
            .collect();
        store
            .mark_inbound_group_sessions_as_backed_up(&v, &refs)
            .await
            .map_err(|e| {
                UploadError::Transient(format!("cannot mark sessions as backed up: {e}"))
            })?;
        marked.fetch_add(batch.ids.len(), Ordering::Release);
        Ok(answer)
    });
    Put { task }
}

/// Waits for a request's answer (its sessions already marked) and keeps
/// the server's count.
async fn settle(st: &mut BackupState, put: Put) -> Result<(), UploadError> {
    let (etag, count) = put
        .task
        .await
        .unwrap_or_else(|e| Err(UploadError::Transient(format!("upload task failed: {e}"))))?;
    // Answers may come back in any order; the count only grows.
    if st.server_count.is_none_or(|c| c <= count) {
        st.etag = Some(etag);
        st.server_count = Some(count);
    }
    st.last_upload = Some(state::now_ms());
    st.last_error = None;
    Ok(())
}

/// A device that gets the key (unlock, gossip) and has never uploaded
/// adopts the server's current version when the key proves to be its key.
async fn adopt(
    crypto: &SqliteCryptoStore,
    st: &mut BackupState,
    key: &BackupKey,
    current: Option<&server::VersionInfo>,
) -> Option<String> {
    let v = current?;
    if !is_symmetric_algorithm(&v.algorithm) {
        return None;
    }
    if version::key_check(key, v) != Some(KeyCheck::Matches) {
        return None;
    }
    st.version = Some(v.version.clone());
    st.algorithm = Some(v.algorithm.clone());
    st.stale = None;
    if state::save(crypto, st).await.is_err() {
        return None;
    }
    tracing::info!(version = %v.version, "adopted the server's backup version");
    Some(v.version.clone())
}

async fn fail(
    crypto: &SqliteCryptoStore,
    st: &mut BackupState,
    error: String,
    report: &impl Fn(Progress),
) -> Outcome {
    tracing::warn!(error = %error, "backup upload failed; will retry");
    st.last_error = Some(error);
    let _ = state::save(crypto, st).await;
    report(progress(crypto, st, UploadState::Retrying).await);
    Outcome::Retry(Duration::ZERO)
}

async fn go_stale(
    crypto: &SqliteCryptoStore,
    st: &mut BackupState,
    why: String,
    report: &impl Fn(Progress),
) -> Outcome {
    tracing::warn!(reason = %why, "backup uploads stopped");
    st.stale = Some(why);
    let _ = state::save(crypto, st).await;
    report(progress(crypto, st, UploadState::Stale).await);
    Outcome::Blocked
}
