//! What can go wrong with the backup, by what it means for the user.

use crate::error::{Advice, Error, ErrorKind};

/// A backup job's failure. Each variant holds the sentence that says what
/// happened; the variant says what kind of trouble it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// The homeserver could not be reached (refused, reset, timed out).
    #[error("{0}")]
    Unreachable(String),
    /// The homeserver answered with an error.
    #[error("{0}")]
    Server(String),
    /// The server no longer takes this device's access token.
    #[error("{0}")]
    LoggedOut(String),
    /// The account has no backup (or no current version to use).
    #[error("{0}")]
    NoBackup(String),
    /// No such backup version, room or file.
    #[error("{0}")]
    NotFound(String),
    /// The key or passphrase does not open it.
    #[error("{0}")]
    WrongKey(String),
    /// The backup key (or secret storage) is not on this device.
    #[error("{0}")]
    KeyNeeded(String),
    /// Another client changed the backup, or the target exists already.
    #[error("{0}")]
    Conflict(String),
    /// Damaged data: a malformed version, a broken key file.
    #[error("{0}")]
    Corrupt(String),
    /// Input that cannot be used (an unknown algorithm, a bad file name).
    #[error("{0}")]
    Invalid(String),
    /// The local crypto store failed.
    #[error("cannot use the local store: {0}")]
    Store(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
    /// One of the above, with what the user can do about it.
    #[error("{error}")]
    Advised {
        error: Box<BackupError>,
        advice: Advice,
    },
}

impl BackupError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            BackupError::Unreachable(_) => ErrorKind::Network,
            BackupError::Server(_) => ErrorKind::Server,
            BackupError::LoggedOut(_) => ErrorKind::LoggedOut,
            BackupError::NoBackup(_) => ErrorKind::NoBackup,
            BackupError::NotFound(_) => ErrorKind::NotFound,
            BackupError::WrongKey(_) => ErrorKind::WrongKey,
            BackupError::KeyNeeded(_) => ErrorKind::KeyNeeded,
            BackupError::Conflict(_) => ErrorKind::Conflict,
            BackupError::Corrupt(_) => ErrorKind::Corrupt,
            BackupError::Invalid(_) => ErrorKind::Invalid,
            BackupError::Store(_) | BackupError::Other(_) => ErrorKind::Other,
            BackupError::Advised { error, .. } => error.kind(),
        }
    }

    /// This error with advice (none: unchanged).
    pub fn advised(self, advice: Option<Advice>) -> BackupError {
        match advice {
            Some(advice) => BackupError::Advised {
                error: Box::new(self),
                advice,
            },
            None => self,
        }
    }

    pub fn advice(&self) -> Option<Advice> {
        match self {
            BackupError::Advised { advice, .. } => Some(*advice),
            _ => None,
        }
    }

    /// A failed request to the homeserver, by what the failure means:
    /// `what` says which request it was.
    pub fn http(what: &str, e: &matrix_sdk::HttpError) -> BackupError {
        use matrix_sdk::ruma::api::error::ErrorKind as Api;
        let text = format!("{what}: {e}");
        match e.client_api_error_kind() {
            Some(Api::UnknownToken(_)) | Some(Api::MissingToken) => BackupError::LoggedOut(text),
            Some(Api::NotFound) => BackupError::NotFound(text),
            Some(Api::WrongRoomKeysVersion(_)) => BackupError::Conflict(text),
            _ if matches!(e, matrix_sdk::HttpError::Reqwest(_)) => BackupError::Unreachable(text),
            _ => BackupError::Server(text),
        }
    }

    pub fn store(e: impl std::fmt::Display) -> BackupError {
        BackupError::Store(e.to_string())
    }
}

/// Sentences not yet given a kind.
impl From<String> for BackupError {
    fn from(s: String) -> Self {
        BackupError::Other(s)
    }
}

impl From<&str> for BackupError {
    fn from(s: &str) -> Self {
        BackupError::Other(s.to_owned())
    }
}

impl From<BackupError> for Error {
    fn from(e: BackupError) -> Self {
        Error::new(e.kind(), e.to_string()).with_advice(e.advice())
    }
}

/// Callers still speaking in words.
impl From<BackupError> for String {
    fn from(e: BackupError) -> Self {
        e.to_string()
    }
}

/// The key this device holds: a store failure, or a damaged key.
impl From<super::local_key::LocalKeyError> for BackupError {
    fn from(e: super::local_key::LocalKeyError) -> Self {
        match e {
            super::local_key::LocalKeyError::Store(s) => BackupError::Store(s),
            d @ super::local_key::LocalKeyError::Damaged => BackupError::Corrupt(d.to_string()),
        }
    }
}
