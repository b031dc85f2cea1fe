//! One verdict on the backup, worked out in one place: the status bar, the
//! backup screen and `backup status` all render from [`Health`]. Pure.

use crate::error::{Advice, Step};
use serde::Serialize;

use super::entry::CURVE25519_ALGORITHM;
use super::status::BackupStatus;
use super::upload::{Progress, UploadState};
use crate::crypto::backup::is_symmetric_algorithm;

/// The state of this device's backup, worst first where two apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Every key on this device is in the current backup, which is ours.
    Healthy,
    /// Keys are on their way to the backup.
    Uploading { pending: usize },
    /// The account has no backup.
    NoBackup,
    /// The account has a backup this device has no key for.
    NoKey,
    /// This device's key does not open the account's current backup.
    KeyMismatch { version: String },
    /// The account's current backup is not the one this device uploads to:
    /// another client made it. Nothing is uploaded into it until the user
    /// chooses (`opens`: our key opens it, so it can simply be used).
    Replaced {
        version: String,
        algorithm: String,
        opens: bool,
    },
    /// The current backup uses an algorithm keepsake neither reads nor writes.
    UnsupportedAlgorithm { version: String, algorithm: String },
    /// The homeserver cannot be reached.
    Offline { error: String },
    /// Uploads fail (or stopped) for another reason.
    Error { error: String },
}

impl Health {
    /// Works out the verdict from a status and, where the uploader has
    /// spoken since, its latest progress (fresher for counts and errors).
    pub fn of(s: &BackupStatus, upload: Option<&Progress>) -> Health {
        if s.server_offline {
            return Health::Offline {
                error: s
                    .server_error
                    .clone()
                    .unwrap_or_else(|| "the homeserver cannot be reached".into()),
            };
        }
        if let Some(e) = &s.server_error {
            return Health::Error { error: e.clone() };
        }
        if upload.is_some_and(|p| p.state == UploadState::LoggedOut) {
            return Health::Error {
                error: "the server no longer accepts this device's session; log in again".into(),
            };
        }
        let (Some(version), Some(algorithm)) = (&s.server_version, &s.server_algorithm) else {
            return Health::NoBackup;
        };
        if !is_symmetric_algorithm(algorithm) {
            // Element's curve25519 backup is one keepsake reads (and can
            // take over); anything else it cannot even read.
            return if algorithm == CURVE25519_ALGORITHM {
                Health::Replaced {
                    version: version.clone(),
                    algorithm: algorithm.clone(),
                    opens: false,
                }
            } else {
                Health::UnsupportedAlgorithm {
                    version: version.clone(),
                    algorithm: algorithm.clone(),
                }
            };
        }
        // The uploader, once it has spoken, knows best whether the key is
        // here (an unlock since the status was read).
        if upload.map_or(!s.key_present, |p| p.state == UploadState::NoKey) {
            return Health::NoKey;
        }
        if s.key_matches == Some(false) {
            return Health::KeyMismatch {
                version: version.clone(),
            };
        }
        let ours = s.version.as_ref().is_none_or(|v| v == version);
        let stale = s.stale.is_some() || upload.is_some_and(|p| p.state == UploadState::Stale);
        if !ours || stale {
            return Health::Replaced {
                version: version.clone(),
                algorithm: algorithm.clone(),
                opens: s.key_matches == Some(true),
            };
        }
        let pending = upload.map_or(s.pending, |p| p.pending);
        let error = upload
            .and_then(|p| p.last_error.clone())
            .or_else(|| s.last_error.clone());
        let retrying = upload.is_some_and(|p| p.state == UploadState::Retrying);
        match error {
            Some(error) if retrying || (pending > 0 && upload.is_none()) => Health::Error { error },
            _ if pending > 0 => Health::Uploading { pending },
            _ => Health::Healthy,
        }
    }

    /// The stable machine word (`backup status --json`'s `health`).
    pub fn word(&self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Uploading { .. } => "uploading",
            Health::NoBackup => "no_backup",
            Health::NoKey => "no_key",
            Health::KeyMismatch { .. } => "key_mismatch",
            Health::Replaced { .. } => "replaced",
            Health::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            Health::Offline { .. } => "offline",
            Health::Error { .. } => "error",
        }
    }

    /// Whether keys this device receives reach a backup.
    pub fn is_safe(&self) -> bool {
        matches!(self, Health::Healthy | Health::Uploading { .. })
    }

    /// What happened, in one plain sentence (no advice).
    pub fn describe(&self) -> String {
        match self {
            Health::Healthy => "every key on this device is in the backup".into(),
            Health::Uploading { pending } => format!("{pending} keys are being backed up"),
            Health::NoBackup => "this account has no key backup".into(),
            Health::NoKey => "this device does not have the backup key".into(),
            Health::KeyMismatch { version } => format!(
                "this device's backup key does not open the account's current backup (version {version})"
            ),
            Health::Replaced {
                version, algorithm, ..
            } if algorithm == CURVE25519_ALGORITHM => format!(
                "another client made a curve25519 backup (version {version}) the account's current one; keys keepsake receives are not backed up until you choose"
            ),
            Health::Replaced { version, .. } => format!(
                "another device made version {version} the account's current backup; keys keepsake receives are not backed up until you choose"
            ),
            Health::UnsupportedAlgorithm { version, algorithm } => format!(
                "the account's current backup (version {version}) uses {algorithm}, which keepsake cannot read or write; keys are not backed up"
            ),
            Health::Offline { error } => {
                format!("the homeserver cannot be reached ({error}); keys wait on this device")
            }
            Health::Error { error } => format!("backing up fails: {error}"),
        }
    }

    /// What to do now: one sentence, with the steps for each front end
    /// to name.
    pub fn advice(&self) -> Advice {
        use Step::*;
        match self {
            Health::Healthy => Advice::new("Nothing to do.", &[]),
            Health::Uploading { .. } => Advice::new(
                "Nothing to do; {} waits until they are up.",
                &[BackupUploadWait],
            ),
            Health::NoBackup => Advice::new(
                "Run {} (or {} if secret storage is set up) to back your keys up.",
                &[RecoverySetup, BackupCreate],
            ),
            Health::NoKey => Advice::new(
                "Run {} with your recovery key or passphrase (or {}), or verify this device from one that has the key.",
                &[RecoveryUnlock, BackupRestore],
            ),
            Health::KeyMismatch { .. } => Advice::new(
                "Run {} to fetch the current key from secret storage, or {} to start a new backup with a new key.",
                &[RecoveryUnlock, BackupReset],
            ),
            Health::Replaced { opens: true, .. } => Advice::new(
                "This device's key opens it: {} uploads there from now on.",
                &[BackupUseCurrent],
            ),
            Health::Replaced { algorithm, .. } if algorithm == CURVE25519_ALGORITHM => Advice::new(
                "Take it over with {} (its keys are restored here, then backed up to a new symmetric version, marked unverified), or leave it and keepsake backs up nothing.",
                &[BackupMigrate],
            ),
            Health::Replaced { .. } => Advice::new(
                "Run {} if secret storage holds its key, or {} to make a new backup of your own.",
                &[RecoveryUnlock, BackupReset],
            ),
            Health::UnsupportedAlgorithm { .. } => Advice::new(
                "Run {} to make a new symmetric backup (the other version stays on the server).",
                &[BackupReset],
            ),
            Health::Offline { .. } => Advice::new(
                "Nothing to do; keys go up when the homeserver is back.",
                &[],
            ),
            Health::Error { error } if error.contains("log in again") => {
                Advice::new("Log in again with {}.", &[Login])
            }
            Health::Error { .. } => Advice::new(
                "keepsake retries on its own; if it keeps failing, check the homeserver.",
                &[],
            ),
        }
    }
}

/// `backup status --json`'s `health` and `advice`, next to the status.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub health: &'static str,
    pub summary: String,
    pub advice: String,
}

impl Verdict {
    /// The verdict, with the advice's steps named by `name`.
    pub fn of(h: &Health, name: impl Fn(Step) -> String) -> Self {
        Verdict {
            health: h.word(),
            summary: h.describe(),
            advice: h.advice().phrase(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::backup::DEFAULT_ALGORITHM;

    fn healthy() -> BackupStatus {
        BackupStatus {
            version: Some("3".into()),
            algorithm: Some(DEFAULT_ALGORITHM.into()),
            server_version: Some("3".into()),
            server_algorithm: Some(DEFAULT_ALGORITHM.into()),
            key_present: true,
            key_matches: Some(true),
            local_sessions: 10,
            backed_up: 10,
            pending: 0,
            server_count: Some(10),
            etag: None,
            last_upload: None,
            last_error: None,
            stale: None,
            server_error: None,
            server_offline: false,
        }
    }

    fn upload(state: UploadState, pending: usize, error: Option<&str>) -> Progress {
        Progress {
            state,
            version: Some("3".into()),
            local_sessions: 10,
            backed_up: 10 - pending,
            pending,
            last_error: error.map(Into::into),
        }
    }

    #[test]
    fn each_state_has_one_word() {
        let h = |s: &BackupStatus| Health::of(s, None).word();
        assert_eq!(h(&healthy()), "healthy");
        let s = BackupStatus {
            pending: 4,
            ..healthy()
        };
        assert_eq!(Health::of(&s, None), Health::Uploading { pending: 4 });
        let s = BackupStatus {
            server_version: None,
            server_algorithm: None,
            ..healthy()
        };
        assert_eq!(h(&s), "no_backup");
        let s = BackupStatus {
            key_present: false,
            key_matches: None,
            version: None,
            ..healthy()
        };
        assert_eq!(h(&s), "no_key");
        let s = BackupStatus {
            key_matches: Some(false),
            ..healthy()
        };
        assert_eq!(h(&s), "key_mismatch");
        let s = BackupStatus {
            server_version: Some("4".into()),
            server_algorithm: Some(CURVE25519_ALGORITHM.into()),
            key_matches: None,
            ..healthy()
        };
        assert_eq!(
            Health::of(&s, None),
            Health::Replaced {
                version: "4".into(),
                algorithm: CURVE25519_ALGORITHM.into(),
                opens: false
            }
        );
        let s = BackupStatus {
            server_version: Some("4".into()),
            ..healthy()
        };
        assert!(matches!(
            Health::of(&s, None),
            Health::Replaced { opens: true, .. }
        ));
        let s = BackupStatus {
            server_algorithm: Some("org.example.rot13".into()),
            ..healthy()
        };
        assert_eq!(h(&s), "unsupported_algorithm");
        let s = BackupStatus {
            server_error: Some("cannot reach the homeserver".into()),
            server_offline: true,
            ..healthy()
        };
        assert_eq!(h(&s), "offline");
        let s = BackupStatus {
            server_error: Some("the homeserver failed (500)".into()),
            ..healthy()
        };
        assert_eq!(h(&s), "error");
    }

    #[test]
    fn the_uploaders_news_wins_over_an_older_status() {
        let s = healthy();
        let p = upload(UploadState::Uploading, 3, None);
        assert_eq!(Health::of(&s, Some(&p)), Health::Uploading { pending: 3 });
        let p = upload(
            UploadState::Retrying,
            3,
            Some("the homeserver failed (503)"),
        );
        assert_eq!(Health::of(&s, Some(&p)).word(), "error");
        let p = upload(UploadState::LoggedOut, 3, None);
        assert!(
            Health::of(&s, Some(&p))
                .advice()
                .steps
                .contains(&Step::Login)
        );
        let p = upload(UploadState::Stale, 3, None);
        assert_eq!(Health::of(&s, Some(&p)).word(), "replaced");
        let p = upload(UploadState::Idle, 0, None);
        assert_eq!(Health::of(&s, Some(&p)), Health::Healthy);
    }

    #[test]
    fn only_a_backup_that_takes_keys_is_safe() {
        assert!(Health::Healthy.is_safe());
        assert!(Health::Uploading { pending: 1 }.is_safe());
        assert!(!Health::NoKey.is_safe());
        assert!(
            !Health::Replaced {
                version: "2".into(),
                algorithm: CURVE25519_ALGORITHM.into(),
                opens: false
            }
            .is_safe()
        );
    }
}
