//! The worker: the one owner of a profile's matrix-sdk `Client`. Front ends
//! (the headless CLI, the TUI) send it typed [`Command`]s and read typed
//! [`Update`]s; they never touch the SDK themselves, so every job has one
//! implementation.
//!
//! Commands are never awaited by the sender: each gets an [`OpId`] and its
//! result comes back as [`Update::Finished`]. Jobs run as their own tasks so
//! a slow one (history, a restore) never holds up another (sending).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use matrix_sdk::Client;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::room::edit::EditedContent;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContentWithoutRelation;
use matrix_sdk_ui::timeline::{RoomExt, Timeline, TimelineEventItemId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use matrix_sdk::SqliteCryptoStore;
use matrix_sdk::ruma::events::key::verification::request::ToDeviceKeyVerificationRequestEvent;
use matrix_sdk::ruma::events::room::message::{MessageType, OriginalSyncRoomMessageEvent};
use zeroize::Zeroizing;

use super::account::{self, Account, WhoAmI};
use super::devices::{self, DeviceInfo};
use super::gossip::{self, GossipEvent};
use super::history::{self, HistoryItem};
use super::recovery::{self, RecoveryStatus, Unlocked};
use super::rooms::{self, RoomSummary};
use super::verify::{self, Flow, VerifyUpdate};
use crate::backup::key_file;
use crate::backup::manage::{self as backup_manage, Created};
use crate::backup::on_demand::OnDemand;
use crate::backup::restore::{RestoreProgress, RestoreReport};
use crate::backup::status::{self as backup_status, BackupStatus};
use crate::backup::trust::TrustTable;
use crate::backup::upload::{Progress, Uploader};

/// A secret travelling in a command or reply (password, recovery key,
/// passphrase): zeroized on drop and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Zeroizing<String>);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(Zeroizing::new(s.into()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Identifies one command's run, so its result can be matched to it.
pub type OpId = u64;

/// What a front end asks of the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// One sync that returns at once.
    SyncOnce,
    /// Keep syncing in the background until `StopSync` (or the worker ends);
    /// room lists and sync state arrive as updates. `long_poll` is how long
    /// the server may hold each request open (30 s is usual; short polls
    /// make `StopSync` prompt).
    StartSync {
        long_poll: Duration,
    },
    /// Stops the background sync after the response in hand is fully
    /// processed (never in the middle of one), then answers.
    StopSync,
    Rooms,
    WhoAmI,
    CreateRoom {
        name: String,
        invites: Vec<String>,
        alias: Option<String>,
        encrypted: bool,
    },
    Invite {
        room: String,
        user: String,
    },
    Join {
        room: String,
    },
    Leave {
        room: String,
    },
    SendText {
        room: String,
        text: String,
    },
    /// The last `limit` messages of a room, fetched afresh from the server.
    History {
        room: String,
        limit: usize,
    },
    /// Follow a room's live timeline: `Update::Timeline` on every change.
    OpenTimeline {
        room: String,
    },
    /// Load `count` more events before the oldest one shown.
    PaginateBack {
        room: String,
        count: u16,
    },
    CloseTimeline {
        room: String,
    },
    RecoveryStatus,
    /// Cross-signing and secret storage for the first time.
    RecoverySetup {
        /// Only needed when the server asks for it.
        password: Option<Secret>,
        passphrase: Option<Secret>,
    },
    /// Open secret storage with a recovery key or passphrase.
    RecoveryUnlock {
        key_or_passphrase: Secret,
    },
    RecoveryReset {
        passphrase: Option<Secret>,
    },
    Devices {
        user: Option<String>,
    },
    /// Ask `user` (default: ourselves) or one of their devices to verify.
    VerifyRequest {
        user: Option<String>,
        device: Option<String>,
    },
    /// A new symmetric backup; secret storage is opened with the input to
    /// keep its key there.
    BackupCreate {
        key_or_passphrase: Secret,
        algorithm: String,
    },
    /// A new key and version replacing the current backup; everything is
    /// uploaded again.
    BackupReset {
        key_or_passphrase: Secret,
        algorithm: String,
    },
    /// Adopt the server's current version if our key is its key.
    BackupUseCurrent,
    /// Delete this version from the server.
    BackupDelete {
        version: String,
    },
    BackupStatus,
    /// The backup overview: per room and per version.
    BackupInspect,
    /// Restore every key of the current backup; unlocks secret storage with
    /// the input first when this device lacks the key. Progress arrives as
    /// `Update::Restore`.
    BackupRestore {
        key_or_passphrase: Option<Secret>,
        /// An older version instead of the current one.
        version: Option<String>,
    },
    /// Restore the current curve25519 backup, then replace it with a new
    /// symmetric one that every key is uploaded to; answers `Migrated`.
    BackupMigrate {
        key_or_passphrase: Secret,
        algorithm: String,
    },
    /// Fetch these sessions of a room from the backup now (the "fetch from
    /// backup" action on an undecryptable message); answers `Restored`.
    BackupFetch {
        room: String,
        session_ids: Vec<String>,
    },
    /// Write every key to a new key file encrypted with the passphrase.
    KeysExport {
        path: std::path::PathBuf,
        passphrase: Secret,
    },
    /// Import a key file; its keys are trusted only if `trusted`.
    KeysImport {
        path: std::path::PathBuf,
        passphrase: Secret,
        trusted: bool,
    },
    /// Upload what is pending now; progress arrives as `Update::Backup`.
    BackupUpload,
    /// Runs an upload pass that starts now and answers with its outcome.
    BackupFlush,
    VerifyAccept(Flow),
    VerifyConfirm(Flow),
    VerifyMismatch(Flow),
    VerifyCancel(Flow),
    /// Reply to `in_reply_to` (markdown), in a room whose timeline is open.
    SendReply {
        room: String,
        in_reply_to: String,
        text: String,
    },
    /// Replace the text of one of our messages (markdown); timeline open.
    Edit {
        room: String,
        event_id: String,
        text: String,
    },
    /// Add our reaction `key`, or take it back if we gave it; timeline open.
    React {
        room: String,
        event_id: String,
        key: String,
    },
    /// Redact a message; timeline open.
    Redact {
        room: String,
        event_id: String,
        reason: Option<String>,
    },
}

/// A finished command's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Done,
    Rooms(Vec<RoomSummary>),
    RoomId(String),
    EventId(String),
    History(Vec<HistoryItem>),
    Who(WhoAmI),
    /// Back-pagination: whether the start of the room was reached.
    ReachedStart(bool),
    /// A new recovery key, to be shown once.
    RecoveryKey(Secret),
    Unlocked(Unlocked),
    RecoveryStatus(RecoveryStatus),
    Devices(Vec<DeviceInfo>),
    Flow(Flow),
    BackupCreated(Created),
    /// A reset: the new version, and what became of the one it replaced.
    BackupReset(super::backup_jobs::Reset),
    BackupStatus(BackupStatus),
    Inspection(crate::backup::inspect::Inspection),
    Progress(Progress),
    Restored(RestoreReport),
    Migrated {
        restored: RestoreReport,
        created: crate::backup::manage::Created,
    },
    /// How many keys were written to the file.
    KeysExported(usize),
    KeysImported(crate::backup::key_file::ImportReport),
}

/// The background sync's state, for a status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    Running,
    /// A sync response was processed.
    Synced,
    /// The last sync failed; it is retried after a pause.
    Failing(String),
    Stopped,
}

/// What the worker tells its front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Finished {
        op: OpId,
        result: Result<Reply, String>,
    },
    Sync(SyncState),
    /// The room list after a sync changed something.
    Rooms(Vec<RoomSummary>),
    /// The whole visible timeline of an open room, oldest first.
    Timeline {
        room: String,
        items: Vec<HistoryItem>,
    },
    /// A verification changed state (incoming requests included).
    Verification(VerifyUpdate),
    /// The backup key was served to, or received from, another device.
    Gossip(GossipEvent),
    /// The uploader's progress, after every batch and every failure.
    Backup(Progress),
    /// A restore's progress, after every room.
    Restore(RestoreProgress),
}

/// Every worker task started in this process, so the process can wait for
/// them to stop in order before its runtime goes (see [`stopped`]).
static RUNNING: std::sync::Mutex<Vec<JoinHandle<()>>> = std::sync::Mutex::new(Vec::new());

/// Waits until every worker whose handle was dropped has stopped: its sync
/// loop, uploader and timelines ended and its client dropped. A runtime
/// shut down under a running worker cuts tasks off in the middle of store
/// writes (matrix-sdk's SQLite store then panics on the cancelled write).
/// Gives up after `within`; then the rest is left to the runtime.
pub async fn stopped(within: Duration) {
    let tasks: Vec<JoinHandle<()>> = match RUNNING.lock() {
        Ok(mut r) => r.drain(..).collect(),
        Err(_) => return,
    };
    let all = futures_util::future::join_all(tasks);
    if tokio::time::timeout(within, all).await.is_err() {
        tracing::warn!("a worker did not stop in time");
    }
    // What the client's own background tasks were doing when it was
    // dropped (a cache write, say) finishes before the runtime goes.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// The front end's handle on a running worker. Dropping it stops the worker.
pub struct Worker {
    tx: mpsc::UnboundedSender<(OpId, Command)>,
    next: AtomicU64,
}

impl Worker {
    /// Starts the worker task on the current tokio runtime.
    pub fn spawn(account: Account) -> (Worker, mpsc::UnboundedReceiver<Update>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (up_tx, up_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(account, rx, up_tx));
        if let Ok(mut running) = RUNNING.lock() {
            running.push(task);
        }
        (
            Worker {
                tx,
                next: AtomicU64::new(1),
            },
            up_rx,
        )
    }

    /// Queues a command; its result arrives as `Update::Finished { op, .. }`.
    pub fn send(&self, cmd: Command) -> OpId {
        let op = self.next.fetch_add(1, Ordering::Relaxed);
        // A closed channel means the worker has ended; the caller learns it
        // from its update stream closing.
        let _ = self.tx.send((op, cmd));
        op
    }

    /// Sends a command and waits for its result, passing every other update
    /// to `other` (the headless commands' way of using the worker).
    pub async fn call(
        &self,
        updates: &mut mpsc::UnboundedReceiver<Update>,
        cmd: Command,
        mut other: impl FnMut(Update),
    ) -> Result<Reply, String> {
        let want = self.send(cmd);
        while let Some(u) = updates.recv().await {
            match u {
                Update::Finished { op, result } if op == want => return result,
                u => other(u),
            }
        }
        Err("the worker stopped".into())
    }
}

struct State {
    client: Client,
    crypto: SqliteCryptoStore,
    base: matrix_sdk_base::BaseClient,
    trust: TrustTable,
    uploader: Uploader,
    on_demand: OnDemand,
    updates: mpsc::UnboundedSender<Update>,
    sync: Option<(JoinHandle<()>, tokio::sync::watch::Sender<bool>)>,
    timelines: HashMap<String, (Arc<Timeline>, JoinHandle<()>)>,
}

impl State {
    fn job_parts(&self) -> super::backup_jobs::Parts {
        super::backup_jobs::Parts {
            client: self.client.clone(),
            crypto: self.crypto.clone(),
            base: self.base.clone(),
            trust: self.trust.clone(),
            uploader: self.uploader.clone(),
            updates: self.updates.clone(),
        }
    }
}

async fn run(
    account: Account,
    mut commands: mpsc::UnboundedReceiver<(OpId, Command)>,
    updates: mpsc::UnboundedSender<Update>,
) {
    let u = updates.clone();
    let uploader = Uploader::spawn(
        account.client.clone(),
        account.crypto_store.clone(),
        account.trust.clone(),
        move |p| {
            let _ = u.send(Update::Backup(p));
        },
    );
    install_handlers(&account, &updates, &uploader);
    let mut st = State {
        client: account.client.clone(),
        crypto: account.crypto_store.clone(),
        base: account.base.clone(),
        trust: account.trust.clone(),
        on_demand: OnDemand::new(
            account.client.clone(),
            account.crypto_store.clone(),
            account.base.clone(),
            account.trust.clone(),
            uploader.lock(),
            uploader.held(),
        ),
        uploader,
        updates,
        sync: None,
        timelines: HashMap::new(),
    };
    // Our own device list, fresh before the first sync: a verification
    // request from a device we have not seen yet, waiting in the to-device
    // inbox, would otherwise arrive in the same sync as the news of that
    // device, and matrix-sdk drops requests from unknown devices.
    if let Some(me) = st.client.user_id().map(ToOwned::to_owned)
        && let Err(e) = st.client.encryption().request_user_identity(&me).await
    {
        tracing::warn!(error = %e, "cannot refresh our own device list");
    }
    while let Some((op, cmd)) = commands.recv().await {
        dispatch(&mut st, op, cmd).await;
    }
    // Stop in order: the sync loop between requests (or cut off if its
    // long poll lasts), the uploader after its pass, the timelines; then
    // the client goes.
    if let Some((h, stop)) = st.sync.take() {
        let _ = stop.send(true);
        let abort = h.abort_handle();
        if tokio::time::timeout(Duration::from_secs(2), h)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
    st.uploader.stop(Duration::from_secs(10)).await;
    for (_, (_, h)) in st.timelines.drain() {
        h.abort();
        let _ = h.await;
    }
    drop(st);
    drop(account);
}

/// Incoming verification requests (to-device and in-room) and backup-key
/// gossip are reported from the moment the worker exists.
fn install_handlers(
    account: &Account,
    updates: &mpsc::UnboundedSender<Update>,
    uploader: &Uploader,
) {
    let u = updates.clone();
    account.client.add_event_handler(
        move |ev: ToDeviceKeyVerificationRequestEvent, client: Client| {
            let u = u.clone();
            async move {
                let flow = ev.content.transaction_id.to_string();
                follow_incoming(&client, &ev.sender, &flow, u).await;
            }
        },
    );
    let u = updates.clone();
    account
        .client
        .add_event_handler(move |ev: OriginalSyncRoomMessageEvent, client: Client| {
            let u = u.clone();
            async move {
                if let MessageType::VerificationRequest(_) = &ev.content.msgtype {
                    let flow = ev.event_id.to_string();
                    follow_incoming(&client, &ev.sender, &flow, u).await;
                }
            }
        });
    gossip::install(
        &account.client,
        account.crypto_store.clone(),
        updates.clone(),
        uploader.clone(),
    );
}

async fn follow_incoming(
    client: &Client,
    sender: &matrix_sdk::ruma::UserId,
    flow: &str,
    updates: mpsc::UnboundedSender<Update>,
) {
    if let Some(req) = client
        .encryption()
        .get_verification_request(sender, flow)
        .await
        && !req.we_started()
    {
        tokio::spawn(verify::follow(req, updates));
    }
}

fn finish(updates: &mpsc::UnboundedSender<Update>, op: OpId, result: Result<Reply, String>) {
    let _ = updates.send(Update::Finished { op, result });
}

/// Runs `job` as its own task and reports its result under `op`.
fn job<F>(st: &State, op: OpId, job: F)
where
    F: Future<Output = Result<Reply, String>> + Send + 'static,
{
    let updates = st.updates.clone();
    tokio::spawn(async move {
        let result = job.await;
        finish(&updates, op, result);
    });
}

async fn dispatch(st: &mut State, op: OpId, cmd: Command) {
    let c = st.client.clone();
    let e = |e: rooms::RoomError| e.to_string();
    match cmd {
        Command::SyncOnce => job(st, op, async move {
            rooms::sync_once(&c).await.map_err(e)?;
            Ok(Reply::Done)
        }),
        Command::StartSync { long_poll } => {
            if st.sync.as_ref().is_none_or(|(h, _)| h.is_finished()) {
                let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
                let h = tokio::spawn(sync_loop(c, st.updates.clone(), long_poll, stop_rx));
                st.sync = Some((h, stop_tx));
            }
            finish(&st.updates, op, Ok(Reply::Done));
        }
        Command::StopSync => {
            let sync = st.sync.take();
            let updates = st.updates.clone();
            tokio::spawn(async move {
                if let Some((h, stop)) = sync {
                    let _ = stop.send(true);
                    let _ = h.await;
                    let _ = updates.send(Update::Sync(SyncState::Stopped));
                }
                finish(&updates, op, Ok(Reply::Done));
            });
        }
        Command::Rooms => job(st, op, async move {
            Ok(Reply::Rooms(rooms::summaries(&c).await))
        }),
        Command::WhoAmI => job(st, op, async move {
            account::whoami_of(&c)
                .await
                .map(Reply::Who)
                .map_err(|e| e.to_string())
        }),
        Command::CreateRoom {
            name,
            invites,
            alias,
            encrypted,
        } => job(st, op, async move {
            let id = rooms::create(&c, &name, &invites, alias.as_deref(), encrypted)
                .await
                .map_err(e)?;
            Ok(Reply::RoomId(id.to_string()))
        }),
        Command::Invite { room, user } => job(st, op, async move {
            rooms::invite(&c, &room, &user).await.map_err(e)?;
            Ok(Reply::Done)
        }),
        Command::Join { room } => job(st, op, async move {
            let id = rooms::join(&c, &room).await.map_err(e)?;
            Ok(Reply::RoomId(id.to_string()))
        }),
        Command::Leave { room } => job(st, op, async move {
            rooms::leave(&c, &room).await.map_err(e)?;
            Ok(Reply::Done)
        }),
        Command::SendText { room, text } => job(st, op, async move {
            let id = rooms::send_text(&c, &room, &text).await.map_err(e)?;
            Ok(Reply::EventId(id))
        }),
        Command::History { room, limit } => {
            let trust = st.trust.clone();
            let on_demand = st.on_demand.clone();
            job(st, op, async move {
                let items = history::history(&c, &trust, &room, limit)
                    .await
                    .map_err(e)?;
                // Undecryptable events whose keys the backup may hold: fetch
                // those keys and read the history again.
                let room_id = rooms::find(&c, &room)
                    .await
                    .map_err(e)?
                    .room_id()
                    .to_owned();
                let wanted = on_demand.untried(room_id.as_str(), &history::utd_sessions(&items));
                match on_demand.fetch(&room_id, &wanted).await {
                    Ok(r) if r.imported > 0 => {
                        let items = history::history(&c, &trust, &room, limit)
                            .await
                            .map_err(e)?;
                        Ok(Reply::History(items))
                    }
                    Ok(_) => Ok(Reply::History(items)),
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot fetch keys from the backup");
                        Ok(Reply::History(items))
                    }
                }
            })
        }
        Command::KeysExport { path, passphrase } => {
            let base = st.base.clone();
            job(st, op, async move {
                key_file::export(&base, &path, passphrase.expose())
                    .await
                    .map(Reply::KeysExported)
            })
        }
        Command::KeysImport {
            path,
            passphrase,
            trusted,
        } => {
            let (base, crypto, trust, uploader) = (
                st.base.clone(),
                st.crypto.clone(),
                st.trust.clone(),
                st.uploader.clone(),
            );
            job(st, op, async move {
                let (lock, held) = (uploader.lock(), uploader.held());
                let to = crate::backup::restore::Target {
                    client: &c,
                    base: &base,
                    crypto: &crypto,
                    trust: &trust,
                    upload_lock: &lock,
                    held: &held,
                    current: false,
                };
                let r = key_file::import(&to, &path, passphrase.expose(), trusted).await?;
                uploader.kick();
                Ok(Reply::KeysImported(r))
            })
        }
        Command::BackupFetch { room, session_ids } => {
            let on_demand = st.on_demand.clone();
            job(st, op, async move {
                let room_id = rooms::find(&c, &room)
                    .await
                    .map_err(e)?
                    .room_id()
                    .to_owned();
                on_demand
                    .fetch(&room_id, &session_ids)
                    .await
                    .map(Reply::Restored)
            })
        }
        Command::OpenTimeline { room } => {
            let result = open_timeline(st, &room).await;
            finish(&st.updates, op, result.map(|()| Reply::Done));
        }
        Command::PaginateBack { room, count } => {
            match st.timelines.get(&room) {
                Some((t, _)) => {
                    let t = t.clone();
                    job(st, op, async move {
                        t.paginate_backwards(count)
                            .await
                            .map(Reply::ReachedStart)
                            .map_err(|e| e.to_string())
                    });
                }
                None => finish(
                    &st.updates,
                    op,
                    Err(format!("the timeline of {room} is not open")),
                ),
            };
        }
        Command::CloseTimeline { room } => {
            if let Some((_, h)) = st.timelines.remove(&room) {
                h.abort();
            }
            finish(&st.updates, op, Ok(Reply::Done));
        }
        Command::RecoveryStatus => {
            let crypto = st.crypto.clone();
            job(st, op, async move {
                recovery::status(&c, &crypto)
                    .await
                    .map(Reply::RecoveryStatus)
                    .map_err(|e| e.to_string())
            })
        }
        Command::RecoverySetup {
            password,
            passphrase,
        } => {
            let crypto = st.crypto.clone();
            job(st, op, async move {
                let p = passphrase.as_ref().map(Secret::expose);
                let pw = password.as_ref().map(Secret::expose);
                recovery::setup(&c, &crypto, pw, p)
                    .await
                    .map(|k| Reply::RecoveryKey(Secret(k)))
                    .map_err(|e| e.to_string())
            })
        }
        Command::RecoveryUnlock { key_or_passphrase } => {
            let crypto = st.crypto.clone();
            let base = st.base.clone();
            let uploader = st.uploader.clone();
            job(st, op, async move {
                let unlocked = recovery::unlock(&c, &crypto, &base, key_or_passphrase.expose())
                    .await
                    .map_err(|e| e.to_string())?;
                // With the key this device can join the backup.
                uploader.kick();
                Ok(Reply::Unlocked(unlocked))
            })
        }
        Command::RecoveryReset { passphrase } => {
            let crypto = st.crypto.clone();
            job(st, op, async move {
                let p = passphrase.as_ref().map(Secret::expose);
                recovery::reset(&c, &crypto, p)
                    .await
                    .map(|k| Reply::RecoveryKey(Secret(k)))
                    .map_err(|e| e.to_string())
            })
        }
        Command::Devices { user } => job(st, op, async move {
            devices::list(&c, user.as_deref()).await.map(Reply::Devices)
        }),
        Command::VerifyRequest { user, device } => {
            let updates = st.updates.clone();
            job(st, op, async move {
                let req = verify::request(&c, user.as_deref(), device.as_deref()).await?;
                let flow = verify::flow_of(&req);
                tokio::spawn(verify::follow(req, updates));
                Ok(Reply::Flow(flow))
            })
        }
        Command::BackupCreate {
            key_or_passphrase,
            algorithm,
        } => {
            let crypto = st.crypto.clone();
            let uploader = st.uploader.clone();
            job(st, op, async move {
                let store = recovery::open_store(&c, key_or_passphrase.expose())
                    .await
                    .map_err(|e| e.to_string())?;
                let lock = uploader.lock();
                let guard = lock.lock().await;
                let created = backup_manage::create(&c, &crypto, &store, &algorithm).await?;
                drop(guard);
                uploader.kick();
                Ok(Reply::BackupCreated(created))
            })
        }
        Command::BackupReset {
            key_or_passphrase,
            algorithm,
        } => {
            let parts = st.job_parts();
            job(st, op, async move {
                let p = parts;
                let reset = super::backup_jobs::reset(&p, &key_or_passphrase, &algorithm).await?;
                Ok(Reply::BackupReset(reset))
            })
        }
        Command::BackupMigrate {
            key_or_passphrase,
            algorithm,
        } => {
            let parts = st.job_parts();
            job(st, op, async move {
                use crate::backup::{restore, server};
                let current = server::current(&c)
                    .await?
                    .ok_or("this account has no backup to migrate")?;
                if current.algorithm != restore::CURVE25519_ALGORITHM {
                    return Err(format!(
                        "the current backup (version {}) is {}, not a curve25519 backup: nothing to migrate",
                        current.version, current.algorithm
                    ));
                }
                // A reset brings every key of the old backup here first and
                // only then replaces it.
                let p = parts;
                let reset = super::backup_jobs::reset(&p, &key_or_passphrase, &algorithm).await?;
                let restored = reset
                    .replaced
                    .and_then(|r| r.restored)
                    .ok_or("the key in secret storage does not open the curve25519 backup")?;
                Ok(Reply::Migrated {
                    restored,
                    created: reset.created,
                })
            })
        }
        Command::BackupUseCurrent => {
            let crypto = st.crypto.clone();
            let uploader = st.uploader.clone();
            job(st, op, async move {
                let lock = uploader.lock();
                let guard = lock.lock().await;
                let adopted = backup_manage::use_current(&c, &crypto).await?;
                drop(guard);
                uploader.kick();
                Ok(Reply::BackupCreated(adopted))
            })
        }
        Command::BackupDelete { version } => {
            let crypto = st.crypto.clone();
            let uploader = st.uploader.clone();
            job(st, op, async move {
                let lock = uploader.lock();
                let guard = lock.lock().await;
                backup_manage::delete(&c, &crypto, &version).await?;
                drop(guard);
                // Only kept ever (a reset makes one): nothing to empty else.
                if c.account()
                    .fetch_account_data(
                        super::backup_jobs::old_key_name(&version)
                            .to_string()
                            .as_str()
                            .into(),
                    )
                    .await
                    .ok()
                    .flatten()
                    .is_some()
                {
                    super::backup_jobs::forget_old_key(&c, &version).await?;
                }
                uploader.kick();
                Ok(Reply::Done)
            })
        }
        Command::BackupInspect => {
            let (crypto, trust) = (st.crypto.clone(), st.trust.clone());
            job(st, op, async move {
                crate::backup::inspect::inspect(&c, &crypto, &trust)
                    .await
                    .map(Reply::Inspection)
            })
        }
        Command::BackupStatus => {
            let crypto = st.crypto.clone();
            job(st, op, async move {
                backup_status::status(&c, &crypto)
                    .await
                    .map(Reply::BackupStatus)
            })
        }
        Command::BackupRestore {
            key_or_passphrase,
            version,
        } => {
            let parts = st.job_parts();
            job(st, op, async move {
                let p = parts;
                let report =
                    super::backup_jobs::restore(&p, key_or_passphrase, version.as_deref()).await?;
                p.uploader.kick();
                Ok(Reply::Restored(report))
            })
        }
        Command::BackupUpload => {
            st.uploader.kick();
            finish(&st.updates, op, Ok(Reply::Done));
        }
        Command::BackupFlush => {
            let uploader = st.uploader.clone();
            job(st, op, async move {
                uploader
                    .flush()
                    .await
                    .map(Reply::Progress)
                    .ok_or_else(|| "the uploader stopped".to_owned())
            })
        }
        Command::VerifyAccept(flow) => job(st, op, async move {
            verify::accept(&c, &flow).await.map(|()| Reply::Done)
        }),
        Command::VerifyConfirm(flow) => job(st, op, async move {
            verify::confirm(&c, &flow).await.map(|()| Reply::Done)
        }),
        Command::VerifyMismatch(flow) => job(st, op, async move {
            verify::mismatch(&c, &flow).await.map(|()| Reply::Done)
        }),
        Command::VerifyCancel(flow) => job(st, op, async move {
            verify::cancel(&c, &flow).await.map(|()| Reply::Done)
        }),
        Command::SendReply {
            room,
            in_reply_to,
            text,
        } => with_timeline(st, op, &room, move |t| async move {
            let id = event_id(&in_reply_to)?;
            let content = RoomMessageEventContentWithoutRelation::text_markdown(text);
            t.send_reply(content, id).await.map_err(|e| e.to_string())?;
            Ok(Reply::Done)
        }),
        Command::Edit {
            room,
            event_id: target,
            text,
        } => with_timeline(st, op, &room, move |t| async move {
            let id = TimelineEventItemId::EventId(event_id(&target)?);
            let content = RoomMessageEventContentWithoutRelation::text_markdown(text);
            t.edit(&id, EditedContent::RoomMessage(content))
                .await
                .map_err(|e| e.to_string())?;
            Ok(Reply::Done)
        }),
        Command::React {
            room,
            event_id: target,
            key,
        } => with_timeline(st, op, &room, move |t| async move {
            let id = TimelineEventItemId::EventId(event_id(&target)?);
            t.toggle_reaction(&id, &key)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Reply::Done)
        }),
        Command::Redact {
            room,
            event_id: target,
            reason,
        } => with_timeline(st, op, &room, move |t| async move {
            let id = TimelineEventItemId::EventId(event_id(&target)?);
            t.redact(&id, reason.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            Ok(Reply::Done)
        }),
    }
}

fn event_id(s: &str) -> Result<matrix_sdk::ruma::OwnedEventId, String> {
    matrix_sdk::ruma::OwnedEventId::try_from(s).map_err(|_| format!("`{s}` is not an event id"))
}

/// Runs `f` on the open timeline of `room` as a job; an error when the
/// room's timeline is not open (replies, edits, reactions and redactions
/// find their target there).
fn with_timeline<F, Fut>(st: &State, op: OpId, room: &str, f: F)
where
    F: FnOnce(Arc<Timeline>) -> Fut,
    Fut: Future<Output = Result<Reply, String>> + Send + 'static,
{
    match st.timelines.get(room) {
        Some((t, _)) => job(st, op, f(t.clone())),
        None => finish(
            &st.updates,
            op,
            Err(format!("the timeline of {room} is not open")),
        ),
    }
}

async fn open_timeline(st: &mut State, room: &str) -> Result<(), String> {
    if st.timelines.contains_key(room) {
        return Ok(());
    }
    let r = rooms::find(&st.client, room)
        .await
        .map_err(|e| e.to_string())?;
    let timeline = Arc::new(r.timeline().await.map_err(|e| e.to_string())?);
    let (initial, mut stream) = timeline.subscribe().await;
    let updates = st.updates.clone();
    let name = room.to_owned();
    let room_id = r.room_id().to_string();
    let trust = st.trust.clone();
    let on_demand = st.on_demand.clone();
    // Keys for undecryptable events come from the backup as they show up;
    // the SDK re-decrypts and a new snapshot follows.
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
    let t = timeline.clone();
    let client = st.client.clone();
    let follow = tokio::spawn(async move {
        // Diffs are applied by the Timeline itself; we send a fresh snapshot
        // after each batch, which keeps the front end's state simple. A
        // change to any device or identity (a verification, a new device)
        // redraws the marks with the senders' devices read again.
        let devices_changed = client.encryption().devices_stream().await.ok();
        let identities_changed = client.encryption().user_identities_stream().await.ok();
        let mut devices_changed = devices_changed.map(Box::pin);
        let mut identities_changed = identities_changed.map(Box::pin);
        let mut devices = history::Devices::default();
        let mut now = initial;
        loop {
            devices.load(&client, &now).await;
            let items = history::collect(&room_id, &trust, &devices, &now);
            fetch(&items);
            if updates
                .send(Update::Timeline {
                    room: name.clone(),
                    items,
                })
                .is_err()
            {
                break;
            }
            tokio::select! {
                diff = stream.next() => {
                    if diff.is_none() {
                        break;
                    }
                }
                Some(_) = next_of(&mut devices_changed) => devices.clear(),
                Some(_) = next_of(&mut identities_changed) => devices.clear(),
            }
            now = t.items().await;
        }
    });
    st.timelines.insert(room.to_owned(), (timeline, follow));
    Ok(())
}

/// The next item of an optional stream; pending for ever without one.
async fn next_of<S: futures_util::Stream + Unpin>(s: &mut Option<S>) -> Option<S::Item> {
    match s {
        Some(s) => s.next().await,
        None => std::future::pending().await,
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
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let _ = updates.send(Update::Sync(SyncState::Running));
    let mut pause = Duration::from_secs(1);
    let mut last_rooms: Option<Vec<RoomSummary>> = None;
    // The first request does not long-poll: with a saved sync token the
    // server would hold it for the whole timeout on an idle account, and the
    // status bar would say "connecting" all that while.
    let mut wait = Duration::ZERO;
    while !*stop.borrow() {
        let settings = SyncSettings::default().timeout(wait);
        wait = long_poll;
        match client.sync_once(settings).await {
            Ok(_) => {
                pause = Duration::from_secs(1);
                let _ = updates.send(Update::Sync(SyncState::Synced));
                let now = rooms::summaries(&client).await;
                if last_rooms.as_ref() != Some(&now) {
                    last_rooms = Some(now.clone());
                    if updates.send(Update::Rooms(now)).is_err() {
                        return;
                    }
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
