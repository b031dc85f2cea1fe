//! The key backup and key files.

use super::*;

domain!(Backup {
    Create => Created,
    Reset => crate::matrix::backup_jobs::Reset,
    UseCurrent => Created,
    Delete => (),
    Status => BackupStatus,
    Inspect => Inspection,
    Restore => RestoreReport,
    Migrate => Migrated,
    Fetch => RestoreReport,
    Upload => (),
    Flush => Progress,
    KeysExport => usize,
    KeysImport => ImportReport,
});

/// A new symmetric backup; secret storage is opened with the input to
/// keep its key there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    pub key_or_passphrase: Secret,
    pub algorithm: String,
}

/// A new key and version replacing the current backup; everything is
/// uploaded again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reset {
    pub key_or_passphrase: Secret,
    pub algorithm: String,
}

/// Adopt the server's current version if our key is its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseCurrent;

/// Delete this version from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status;

/// The backup overview: per room and per version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspect;

/// Restore every key of the current backup; unlocks secret storage with
/// the input first when this device lacks the key. Progress arrives as
/// `Update::Restore`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restore {
    pub key_or_passphrase: Option<Secret>,
    /// An older version instead of the current one.
    pub version: Option<String>,
}

/// Restore the current curve25519 backup, then replace it with a new
/// symmetric one that every key is uploaded to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrate {
    pub key_or_passphrase: Secret,
    pub algorithm: String,
}

/// Fetch these sessions of a room from the backup now (the "fetch from
/// backup" action on an undecryptable message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub room: String,
    pub session_ids: Vec<String>,
}

/// Upload what is pending now; progress arrives as `Update::Backup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload;

/// Runs an upload pass that starts now and yields its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flush;

/// Write every key to a new key file encrypted with the passphrase;
/// yields how many keys were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysExport {
    pub path: PathBuf,
    pub passphrase: Secret,
}

/// Import a key file; its keys are trusted only if `trusted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysImport {
    pub path: PathBuf,
    pub passphrase: Secret,
    pub trusted: bool,
}

/// What a migration did: the keys brought from the curve25519 backup,
/// and the symmetric backup that replaced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    pub restored: RestoreReport,
    pub created: Created,
}
