//! What went wrong, in words and as a kind a front end can act on.
//!
//! Each domain has its own typed error (`RoomError`, `RecoveryError`,
//! `AccountError`, `BackupError`, ...) saying what happened; at the seam to
//! the front ends each becomes an [`Error`] with an [`ErrorKind`]. The TUI
//! reacts to kinds (it asks for the account password on
//! [`ErrorKind::PasswordNeeded`]); the headless commands print the kind as
//! `error` with `--json` and exit with [`ErrorKind::exit_code`].

use serde::Serialize;

/// What kind of failure an [`Error`] is: what a front end may react to.
/// The names are stable: `--json` prints them as `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input is not valid (a malformed id, an unknown algorithm).
    Invalid,
    /// No such room, event, user, device, file or backup version.
    NotFound,
    /// The server refused: not allowed, or not permitted by power levels.
    Forbidden,
    /// The server wants the account password to go on.
    PasswordNeeded,
    /// The recovery key, passphrase or file passphrase does not open it.
    WrongKey,
    /// The account has no backup (or not one this device can use).
    NoBackup,
    /// Secret storage or the backup key is needed and not on this device.
    KeyNeeded,
    /// Another client changed what this job worked on; nothing was lost.
    Conflict,
    /// The homeserver could not be reached.
    Network,
    /// The homeserver answered with an error.
    Server,
    /// The access token is no longer valid: log in again.
    LoggedOut,
    /// The data (a backup entry, a key file) is damaged or not what it
    /// claims to be.
    Corrupt,
    /// The user said no, or cancelled a question.
    Cancelled,
    /// The worker stopped before answering.
    Stopped,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// The process exit code of a headless command failing with this kind
    /// (documented in the README; 1 is kept for anything else).
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Other | ErrorKind::Stopped => 1,
            ErrorKind::Invalid => 2,
            ErrorKind::NotFound => 3,
            ErrorKind::Forbidden => 4,
            ErrorKind::PasswordNeeded => 5,
            ErrorKind::WrongKey => 6,
            ErrorKind::NoBackup => 7,
            ErrorKind::KeyNeeded => 8,
            ErrorKind::Conflict => 9,
            ErrorKind::Network => 10,
            ErrorKind::Server => 11,
            ErrorKind::LoggedOut => 12,
            ErrorKind::Corrupt => 13,
            ErrorKind::Cancelled => 14,
        }
    }

    /// The stable name `--json` prints.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::PasswordNeeded => "password_needed",
            ErrorKind::WrongKey => "wrong_key",
            ErrorKind::NoBackup => "no_backup",
            ErrorKind::KeyNeeded => "key_needed",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Network => "network",
            ErrorKind::Server => "server",
            ErrorKind::LoggedOut => "logged_out",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Stopped => "stopped",
            ErrorKind::Other => "other",
        }
    }
}

/// Something the user can do next. The domains say which; each front end
/// names it its own way (the CLI `keepsake recovery unlock`, the TUI
/// `:recovery unlock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Login,
    Logout,
    RecoverySetup,
    RecoveryUnlock,
    RecoveryReset,
    Verify,
    BackupCreate,
    BackupReset,
    BackupUseCurrent,
    BackupMigrate,
    BackupRestore,
    BackupUploadWait,
}

/// What to do after an error: a sentence with `{}` where each step goes,
/// in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    pub text: &'static str,
    pub steps: &'static [Step],
}

impl Advice {
    pub const fn new(text: &'static str, steps: &'static [Step]) -> Self {
        Advice { text, steps }
    }

    /// The sentence, with each step named by `name`.
    pub fn phrase(&self, name: impl Fn(Step) -> String) -> String {
        let mut out = String::new();
        let mut steps = self.steps.iter();
        let mut parts = self.text.split("{}").peekable();
        while let Some(part) = parts.next() {
            out.push_str(part);
            if parts.peek().is_some()
                && let Some(s) = steps.next()
            {
                out.push_str(&name(*s));
            }
        }
        out
    }
}

/// A command's failure: what happened, its kind, and what the user can do
/// (worded by the front end: see [`Error::phrase`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub advice: Option<Advice>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            advice: None,
        }
    }

    pub fn with_advice(mut self, advice: Option<Advice>) -> Self {
        self.advice = advice;
        self
    }

    /// What happened and what to do, with the steps named by `name`.
    pub fn phrase(&self, name: impl Fn(Step) -> String) -> String {
        match &self.advice {
            Some(a) => format!("{}; {}", self.message, a.phrase(name)),
            None => self.message.clone(),
        }
    }

    pub fn stopped() -> Self {
        Error::new(ErrorKind::Stopped, "the worker stopped")
    }
}

/// Errors still phrased only in words are of kind `Other`.
impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::new(ErrorKind::Other, message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::new(ErrorKind::Other, message)
    }
}

impl From<crate::matrix::rooms::RoomError> for Error {
    fn from(e: crate::matrix::rooms::RoomError) -> Self {
        use crate::matrix::rooms::RoomError as E;
        let kind = match &e {
            E::UnknownRoom(_) | E::NotFound(_) => ErrorKind::NotFound,
            E::BadRoom(_) | E::BadUser(_) | E::BadEvent(_) | E::Invalid(_) => ErrorKind::Invalid,
            E::Server(_) => ErrorKind::Server,
        };
        Error::new(kind, e.to_string())
    }
}

impl From<crate::matrix::recovery::RecoveryError> for Error {
    fn from(e: crate::matrix::recovery::RecoveryError) -> Self {
        use crate::matrix::recovery::RecoveryError as E;
        let kind = match &e {
            E::WrongKey => ErrorKind::WrongKey,
            E::WrongPassword => ErrorKind::Forbidden,
            E::BadRecoveryKey(_) => ErrorKind::Invalid,
            E::NoSecretStorage => ErrorKind::NotFound,
            E::MissingCrossSigning | E::NotUnlocked | E::NoBackupKey => ErrorKind::KeyNeeded,
            E::AlreadySetUp | E::IdentityElsewhere => ErrorKind::Conflict,
            E::PasswordNeeded => ErrorKind::PasswordNeeded,
            E::Other(_) => ErrorKind::Other,
        };
        Error::new(kind, e.to_string()).with_advice(e.advice())
    }
}

impl From<crate::matrix::account::AccountError> for Error {
    fn from(e: crate::matrix::account::AccountError) -> Self {
        use crate::matrix::account::AccountError as E;
        let kind = match &e {
            E::WrongPassword => ErrorKind::Forbidden,
            E::Unreachable(_) => ErrorKind::Network,
            E::SessionExpired | E::NotLoggedIn(_) | E::SecretsLost { .. } => ErrorKind::LoggedOut,
            E::InUse { .. } | E::AlreadyLoggedIn(..) => ErrorKind::Conflict,
            E::NoHomeserver | E::NoUser => ErrorKind::Invalid,
            _ => ErrorKind::Other,
        };
        Error::new(kind, e.to_string()).with_advice(e.advice())
    }
}

/// Front ends still speaking in words (their own errors are strings).
impl From<Error> for String {
    fn from(e: Error) -> Self {
        e.message
    }
}

/// Input that does not parse, and why: a config value, a key, a colour, a
/// `:` command. The text names what is wrong and what would be right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl From<String> for Invalid {
    fn from(s: String) -> Self {
        Invalid(s)
    }
}

impl From<&str> for Invalid {
    fn from(s: &str) -> Self {
        Invalid(s.to_owned())
    }
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Error::new(ErrorKind::Invalid, e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_names_each_step_in_order() {
        let a = Advice::new("run {} or {} first", &[Step::RecoveryUnlock, Step::Verify]);
        let said = a.phrase(|s| format!("<{s:?}>"));
        assert_eq!(said, "run <RecoveryUnlock> or <Verify> first");
        assert_eq!(
            Advice::new("Nothing to do.", &[]).phrase(|_| "x".into()),
            "Nothing to do."
        );
        let e = Error::new(ErrorKind::KeyNeeded, "no key").with_advice(Some(a));
        assert_eq!(e.to_string(), "no key");
        assert_eq!(
            e.phrase(|s| format!("{s:?}")),
            "no key; run RecoveryUnlock or Verify first"
        );
    }

    #[test]
    fn every_kind_has_its_own_exit_code_and_name() {
        use ErrorKind::*;
        let all = [
            Invalid,
            NotFound,
            Forbidden,
            PasswordNeeded,
            WrongKey,
            NoBackup,
            KeyNeeded,
            Conflict,
            Network,
            Server,
            LoggedOut,
            Corrupt,
            Cancelled,
        ];
        let mut codes: Vec<u8> = all.iter().map(|k| k.exit_code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(!codes.contains(&0) && !codes.contains(&1));
        for k in all {
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
    }
}
