//! What the worker does for each command, one module per domain of the
//! [`protocol`](super::protocol). Every command runs as its own task, so a
//! slow one (history, a restore) never holds up another (sending), and
//! each reports exactly its own [`Outcome`](super::protocol::Outcome).

mod account;
mod backup;
mod recovery;
mod rooms;
mod timeline;
mod verify;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use matrix_sdk::{Client, SqliteCryptoStore};
use tokio::sync::mpsc;

use super::Report;
use super::protocol::{Command, Error, OpId, Request, Update};
use crate::backup::on_demand::OnDemand;
use crate::backup::trust::TrustTable;
use crate::backup::upload::Uploader;

pub use account::SyncTask;
pub use timeline::Following;

/// What every handler may use: cheap clones of the worker's parts, and the
/// two pieces of state jobs share (the background sync, the open
/// timelines), each behind a lock never held across an await.
#[derive(Clone)]
pub struct Handles {
    pub client: Client,
    pub crypto: SqliteCryptoStore,
    pub base: matrix_sdk_base::BaseClient,
    pub trust: TrustTable,
    pub uploader: Uploader,
    pub on_demand: OnDemand,
    pub updates: mpsc::UnboundedSender<Update>,
    pub sync: Arc<Mutex<Option<SyncTask>>>,
    pub timelines: Arc<Mutex<HashMap<String, Following>>>,
}

impl Handles {
    /// Sends the outcome of `op`, run as the command `R`.
    pub fn finish<R: Request>(&self, op: OpId, result: Result<R::Output, Error>) {
        let _ = self.updates.send(Update::Done {
            op,
            outcome: R::done(result),
        });
    }

    /// Runs `job` as its own task and reports its result as `R`'s outcome.
    pub fn job<R, F>(&self, op: OpId, job: F)
    where
        R: Request,
        F: Future<Output = Result<R::Output, Error>> + Send + 'static,
    {
        let h = self.clone();
        tokio::spawn(async move {
            let result = job.await;
            h.finish::<R>(op, result);
        });
    }

    /// A report that becomes the update `wrap` makes of it.
    pub fn report<T: 'static>(&self, wrap: fn(T) -> Update) -> Report<T> {
        let updates = self.updates.clone();
        Arc::new(move |t| updates.send(wrap(t)).is_ok())
    }

    /// The parts a backup job uses.
    pub fn parts(&self) -> super::backup_jobs::Parts {
        super::backup_jobs::Parts {
            client: self.client.clone(),
            crypto: self.crypto.clone(),
            base: self.base.clone(),
            trust: self.trust.clone(),
            uploader: self.uploader.clone(),
            progress: self.report(Update::Restore),
        }
    }
}

/// Starts the command's job; never waits for it.
pub fn dispatch(h: &Handles, op: OpId, cmd: Command) {
    match cmd {
        Command::Account(c) => account::handle(h, op, c),
        Command::Rooms(c) => rooms::handle(h, op, c),
        Command::Timeline(c) => timeline::handle(h, op, c),
        Command::Recovery(c) => recovery::handle(h, op, c),
        Command::Devices(c) => verify::devices(h, op, c),
        Command::Verify(c) => verify::handle(h, op, c),
        Command::Backup(c) => backup::handle(h, op, c),
    }
}

/// Stops the background sync and every timeline follower, in that order.
pub async fn stop_all(h: &Handles) {
    let sync = h.sync.lock().ok().and_then(|mut s| s.take());
    if let Some(s) = sync {
        s.stop_within(std::time::Duration::from_secs(2)).await;
    }
    let following: Vec<Following> = match h.timelines.lock() {
        Ok(mut t) => t.drain().map(|(_, f)| f).collect(),
        Err(_) => vec![],
    };
    for f in following {
        f.stop().await;
    }
}
