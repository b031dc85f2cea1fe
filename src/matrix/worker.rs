//! The worker: the one owner of a profile's matrix-sdk `Client`. Front ends
//! (the headless CLI, the TUI) send it the [`protocol`](super::protocol)'s
//! commands and read its updates; they never touch the SDK themselves, so
//! every job has one implementation (in [`handlers`](super::handlers)).
//!
//! Commands are never awaited by the sender: each gets an [`OpId`] and its
//! outcome comes back as [`Update::Done`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use matrix_sdk::Client;
use matrix_sdk::ruma::events::key::verification::request::ToDeviceKeyVerificationRequestEvent;
use matrix_sdk::ruma::events::room::message::{MessageType, OriginalSyncRoomMessageEvent};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Report;
use super::account::Account;
use super::gossip;
use super::handlers::{self, Handles};
use super::protocol::{Command, Error, OpId, Request, Update};
use super::verify::{self, VerifyUpdate};
use crate::backup::on_demand::OnDemand;
use crate::backup::upload::Uploader;

/// Every worker task started in this process, so the process can wait for
/// them to stop in order before its runtime goes (see [`stopped`]).
static RUNNING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

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

    /// Queues a command; its outcome arrives as `Update::Done { op, .. }`.
    pub fn send(&self, cmd: impl Into<Command>) -> OpId {
        let op = self.next.fetch_add(1, Ordering::Relaxed);
        // A closed channel means the worker has ended; the caller learns it
        // from its update stream closing.
        let _ = self.tx.send((op, cmd.into()));
        op
    }

    /// Sends a command and waits for its outcome, passing every other
    /// update to `other` (the headless commands' way of using the worker).
    pub async fn call<R: Request>(
        &self,
        updates: &mut mpsc::UnboundedReceiver<Update>,
        req: R,
        mut other: impl FnMut(Update),
    ) -> Result<R::Output, Error> {
        let want = self.send(req);
        while let Some(u) = updates.recv().await {
            match u {
                Update::Done { op, outcome } if op == want => return R::output(outcome),
                u => other(u),
            }
        }
        Err(Error::stopped())
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
    // Sessions the SDK writes reach the index as they are written, so the
    // restore never counts the whole store per batch.
    uploader.held().watch(&account.base).await;
    let h = Handles {
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
        sync: Arc::new(Mutex::new(None)),
        timelines: Arc::new(Mutex::new(HashMap::new())),
    };
    install_handlers(&h);
    // Our own device list, fresh before the first sync: a verification
    // request from a device we have not seen yet, waiting in the to-device
    // inbox, would otherwise arrive in the same sync as the news of that
    // device, and matrix-sdk drops requests from unknown devices.
    if let Some(me) = h.client.user_id().map(ToOwned::to_owned)
        && let Err(e) = h.client.encryption().request_user_identity(&me).await
    {
        tracing::warn!(error = %e, "cannot refresh our own device list");
    }
    while let Some((op, cmd)) = commands.recv().await {
        handlers::dispatch(&h, op, cmd);
    }
    // Stop in order: the sync loop between requests (or cut off if its
    // long poll lasts), the uploader after its pass, the timelines; then
    // the client goes.
    handlers::stop_all(&h).await;
    h.uploader.stop(Duration::from_secs(10)).await;
    drop(h);
    drop(account);
}

/// Incoming verification requests (to-device and in-room) and backup-key
/// gossip are reported from the moment the worker exists.
fn install_handlers(h: &Handles) {
    let report = h.report(Update::Verification);
    h.client.add_event_handler(
        move |ev: ToDeviceKeyVerificationRequestEvent, client: Client| {
            let report = report.clone();
            async move {
                let flow = ev.content.transaction_id.to_string();
                follow_incoming(&client, &ev.sender, &flow, report).await;
            }
        },
    );
    let report = h.report(Update::Verification);
    h.client
        .add_event_handler(move |ev: OriginalSyncRoomMessageEvent, client: Client| {
            let report = report.clone();
            async move {
                if let MessageType::VerificationRequest(_) = &ev.content.msgtype {
                    let flow = ev.event_id.to_string();
                    follow_incoming(&client, &ev.sender, &flow, report).await;
                }
            }
        });
    gossip::install(
        &h.client,
        h.crypto.clone(),
        h.report(Update::Gossip),
        h.uploader.clone(),
    );
}

async fn follow_incoming(
    client: &Client,
    sender: &matrix_sdk::ruma::UserId,
    flow: &str,
    report: Report<VerifyUpdate>,
) {
    if let Some(req) = client
        .encryption()
        .get_verification_request(sender, flow)
        .await
        && !req.we_started()
    {
        tokio::spawn(verify::follow(req, report));
    }
}
