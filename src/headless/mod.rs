//! The headless commands: each opens the profile's worker, sends it typed
//! commands and prints the replies (one line of text, or JSON with `--json`).
//! The TUI drives the same worker; nothing here talks to matrix-sdk.

pub mod backup;
pub mod keys;
pub mod recovery;
pub mod rooms;
pub mod verify;

use std::collections::VecDeque;
use std::io::BufRead;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use zeroize::Zeroizing;

use crate::config::Settings;
use crate::error::Step;
use crate::matrix::account;
use crate::matrix::protocol::{self as p, Error, ErrorKind, Request, Update};
use crate::matrix::worker::Worker;
use crate::secrets::SecretStore;

/// A restored account's worker, synced once so the store is current.
pub struct Session {
    pub worker: Worker,
    updates: UnboundedReceiver<Update>,
    /// Updates that arrived while waiting for a reply: kept, not dropped
    /// (a verification request may come in during the first sync).
    held: VecDeque<Update>,
}

impl Session {
    pub async fn open(settings: &Settings, secrets: &SecretStore) -> Result<Session, Error> {
        let acc = account::restore(settings, secrets).await?;
        let (worker, updates) = Worker::spawn(acc);
        let mut s = Session {
            worker,
            updates,
            held: VecDeque::new(),
        };
        s.call(p::account::SyncOnce).await?;
        Ok(s)
    }

    /// Sends a command and waits for its reply, holding other updates for
    /// [`next_update`](Self::next_update).
    pub async fn call<R: Request>(&mut self, req: R) -> Result<R::Output, Error> {
        let held = &mut self.held;
        self.worker
            .call(&mut self.updates, req, |u| held.push_back(u))
            .await
    }

    /// [`call`](Self::call), showing each other update to `watch` as it
    /// arrives (progress, say) before holding it.
    pub async fn call_watching<R: Request>(
        &mut self,
        req: R,
        mut watch: impl FnMut(&Update),
    ) -> Result<R::Output, Error> {
        let held = &mut self.held;
        self.worker
            .call(&mut self.updates, req, |u| {
                watch(&u);
                held.push_back(u)
            })
            .await
    }

    /// The next update: held ones first, then new ones.
    pub async fn next_update(&mut self) -> Option<Update> {
        match self.held.pop_front() {
            Some(u) => Some(u),
            None => self.updates.recv().await,
        }
    }

    /// Uploads what this run added to the backup (the session of a message
    /// just sent, say) before the process exits; gives up after `within`
    /// and says what is left, which the next run uploads.
    pub async fn finish(mut self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let flushed = tokio::time::timeout_at(deadline, self.call(p::backup::Flush)).await;
            match flushed {
                Ok(Ok(p)) if p.settled() => return,
                Ok(Ok(p)) => {
                    if tokio::time::Instant::now() >= deadline {
                        return left(p.pending);
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Ok(Err(_)) => return,
                Err(_) => return left(0),
            }
        }
    }
}

fn left(pending: usize) {
    let what = if pending > 0 {
        format!("{pending} sessions are")
    } else {
        "some sessions may be".to_owned()
    };
    crate::errln!("keepsake: {what} not backed up yet; the next run of keepsake uploads them");
}

/// How the command line names a step the user can take next.
pub fn step_name(s: Step) -> String {
    let cmd = match s {
        Step::Login => "login",
        Step::Logout => "logout",
        Step::RecoverySetup => "recovery setup",
        Step::RecoveryUnlock => "recovery unlock",
        Step::RecoveryReset => "recovery reset",
        Step::Verify => "verify",
        Step::BackupCreate => "backup create",
        Step::BackupReset => "backup reset",
        Step::BackupUseCurrent => "backup use-current",
        Step::BackupMigrate => "backup migrate",
        Step::BackupRestore => "backup restore",
        Step::BackupUploadWait => "backup upload --wait",
    };
    format!("`keepsake {cmd}`")
}

/// How long a one-shot command waits for its new sessions to be backed up.
pub const FINISH_WITHIN: Duration = Duration::from_secs(10);

/// One JSON value on one line of stdout.
pub fn print_json(v: &impl serde::Serialize) -> Result<(), Error> {
    crate::outln!("{}", serde_json::to_string(v).map_err(|e| e.to_string())?);
    Ok(())
}

/// Prints `v` as JSON or `text` as a line.
pub fn out(json: bool, v: serde_json::Value, text: impl std::fmt::Display) {
    if json {
        crate::outln!("{v}");
    } else {
        crate::outln!("{text}");
    }
}

/// Reads the next line of standard input (without its line end) as a
/// secret; `what` names it in the error when the line is missing or empty.
pub fn stdin_secret(what: &str) -> Result<Zeroizing<String>, Error> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the {what} from standard input: {e}"))?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_owned());
    if trimmed.is_empty() {
        return Err(Error::new(
            ErrorKind::Invalid,
            format!("no {what} on standard input"),
        ));
    }
    Ok(trimmed)
}
