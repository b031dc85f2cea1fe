//! The one protocol between the worker and its front ends (the TUI and the
//! headless commands).
//!
//! A front end sends a [`Command`] and gets back [`Update::Done`] with the
//! [`Outcome`] of exactly that command: every command is a struct in its
//! domain's module (`backup::Status`, `rooms::Join`, ...) whose
//! [`Request::Output`] names what it yields, so nothing matches on "which
//! reply shape came back". Other updates (sync state, room lists, timelines,
//! progress, verifications) arrive unasked.
//!
//! Errors are [`Error`]: what happened, in words, and an [`ErrorKind`] a
//! front end can act on (the TUI asks for the account password on
//! [`ErrorKind::PasswordNeeded`]; `--json` prints the kind and the process
//! exits with the kind's code). Each front end phrases its own advice.

use std::path::PathBuf;
use std::time::Duration;

use super::devices::DeviceInfo;
use super::gossip::GossipEvent;
use super::history::HistoryItem;
use super::recovery::{RecoveryStatus, Unlocked};
use super::rooms::RoomSummary;
pub use super::secret::Secret;
use super::verify::{Flow, VerifyUpdate};
use crate::backup::inspect::Inspection;
use crate::backup::key_file::ImportReport;
use crate::backup::manage::Created;
use crate::backup::restore::{RestoreProgress, RestoreReport};
use crate::backup::status::BackupStatus;
use crate::backup::upload::Progress;
pub use crate::error::{Error, ErrorKind};

/// Identifies one command's run, so its outcome can be matched to it.
pub type OpId = u64;

/// A command: a struct of one domain, with what it yields.
pub trait Request: Into<Command> {
    type Output;
    /// This command's outcome, from the outcome the worker sent for it.
    fn output(o: Outcome) -> Result<Self::Output, Error>;
    /// Wraps this command's result as its outcome.
    fn done(r: Result<Self::Output, Error>) -> Outcome;
}

/// Declares a domain: its `Cmd` enum (one variant per command struct), its
/// `Done` enum (one result per command) and each command's [`Request`].
macro_rules! domain {
    ($variant:ident { $($cmd:ident => $out:ty),* $(,)? }) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Cmd { $($cmd($cmd)),* }

        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Done { $($cmd(Result<$out, Error>)),* }

        impl Done {
            /// The error, whatever the command was.
            pub fn error(&self) -> Option<&Error> {
                match self { $(Done::$cmd(r) => r.as_ref().err()),* }
            }
        }

        $(
            impl From<$cmd> for super::Command {
                fn from(c: $cmd) -> Self {
                    super::Command::$variant(Cmd::$cmd(c))
                }
            }
            impl super::Request for $cmd {
                type Output = $out;
                fn output(o: super::Outcome) -> Result<$out, Error> {
                    match o {
                        super::Outcome::$variant(Done::$cmd(r)) => r,
                        // The worker answers each command with its own
                        // outcome; this is a bug, said as one.
                        other => Err(Error::new(
                            super::ErrorKind::Other,
                            format!("internal error: {} answered with {other:?}", stringify!($cmd)),
                        )),
                    }
                }
                fn done(r: Result<$out, Error>) -> super::Outcome {
                    super::Outcome::$variant(Done::$cmd(r))
                }
            }
        )*
    };
}

/// The account and its sync.
pub mod account {
    use super::*;

    domain!(Account {
        SyncOnce => (),
        StartSync => (),
        StopSync => (),
        WhoAmI => crate::matrix::account::WhoAmI,
    });

    /// One sync that returns at once.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SyncOnce;

    /// Keep syncing in the background until [`StopSync`] (or the worker
    /// ends); room lists and sync state arrive as updates. `long_poll` is
    /// how long the server may hold each request open (30 s is usual; short
    /// polls make `StopSync` prompt).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct StartSync {
        pub long_poll: Duration,
    }

    /// Stops the background sync after the response in hand is fully
    /// processed (never in the middle of one), then answers.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct StopSync;

    /// Who this profile is logged in as.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct WhoAmI;
}

/// Rooms: the list, membership, sending.
pub mod rooms;

/// A room's messages: history, live timelines, replies, edits, reactions.
pub mod timeline;

/// Cross-signing and secret storage.
pub mod recovery {
    use super::*;

    domain!(Recovery {
        Status => RecoveryStatus,
        Setup => Secret,
        Unlock => Unlocked,
        Reset => Secret,
    });

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Status;

    /// Cross-signing and secret storage for the first time; yields the new
    /// recovery key, to be shown once.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Setup {
        /// Only needed when the server asks for it.
        pub password: Option<Secret>,
        pub passphrase: Option<Secret>,
    }

    /// Open secret storage with a recovery key or passphrase.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Unlock {
        pub key_or_passphrase: Secret,
    }

    /// A new secret storage key; yields the new recovery key.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Reset {
        pub passphrase: Option<Secret>,
    }
}

/// Devices of a user.
pub mod devices {
    use super::*;

    domain!(Devices { List => Vec<DeviceInfo> });

    /// The devices of `user` (default: ourselves).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct List {
        pub user: Option<String>,
    }
}

/// Interactive (SAS emoji) verification.
pub mod verify {
    use super::*;

    domain!(Verify {
        Request => Flow,
        Accept => (),
        Confirm => (),
        Mismatch => (),
        Cancel => (),
    });

    /// Ask `user` (default: ourselves) or one of their devices to verify.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Request {
        pub user: Option<String>,
        pub device: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Accept(pub Flow);

    /// The emoji match.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Confirm(pub Flow);

    /// The emoji do not match: cancels as a mismatch.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Mismatch(pub Flow);

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Cancel(pub Flow);
}

/// The key backup and key files.
pub mod backup;

/// What a front end asks of the worker, by domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Account(account::Cmd),
    Rooms(rooms::Cmd),
    Timeline(timeline::Cmd),
    Recovery(recovery::Cmd),
    Devices(devices::Cmd),
    Verify(verify::Cmd),
    Backup(backup::Cmd),
}

/// A finished command's result: the variant of its domain and command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Account(account::Done),
    Rooms(rooms::Done),
    Timeline(timeline::Done),
    Recovery(recovery::Done),
    Devices(devices::Done),
    Verify(verify::Done),
    Backup(backup::Done),
}

impl Outcome {
    /// The error, whatever the command was.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Outcome::Account(d) => d.error(),
            Outcome::Rooms(d) => d.error(),
            Outcome::Timeline(d) => d.error(),
            Outcome::Recovery(d) => d.error(),
            Outcome::Devices(d) => d.error(),
            Outcome::Verify(d) => d.error(),
            Outcome::Backup(d) => d.error(),
        }
    }
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
    /// The outcome of the command sent as `op`.
    Done {
        op: OpId,
        outcome: Outcome,
    },
    Sync(SyncState),
    /// The room list after a sync changed something.
    Rooms(Vec<RoomSummary>),
    /// The whole visible timeline of an open room (or of the thread
    /// followed in it), oldest first.
    Timeline {
        room: String,
        thread: Option<String>,
        items: Vec<HistoryItem>,
    },
    /// The account's push rules say to notify about an event.
    Alert(crate::matrix::alerts::Alert),
    /// Who is typing in an open room now (this account left out).
    Typing {
        room: String,
        users: Vec<String>,
    },
    /// A verification changed state (incoming requests included).
    Verification(VerifyUpdate),
    /// The backup key was served to, or received from, another device.
    Gossip(GossipEvent),
    /// The uploader's progress, after every batch and every failure.
    Backup(Progress),
    /// A restore's progress, after every room.
    Restore(RestoreProgress),
    /// A file being sent: bytes uploaded of its (encrypted) size.
    Upload(UploadProgress),
}

/// How far a file's upload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadProgress {
    pub room: String,
    pub name: String,
    pub sent: u64,
    pub total: u64,
}
