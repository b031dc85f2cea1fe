//! The worker's longer backup jobs: restoring a version (the current one or
//! an older one) and replacing the backup without stranding history.

use crate::backup::error::BackupError;
use matrix_sdk::encryption::secret_storage::SecretStore;
use matrix_sdk::ruma::events::secret::request::SecretName;
use matrix_sdk::{Client, SqliteCryptoStore};
use serde::Serialize;
use zeroize::Zeroizing;

use super::Report;
use super::recovery;
use super::secret::Secret;
use crate::backup::entry::{self, Opener};
use crate::backup::manage::{self, Created};
use crate::backup::restore::{self, RestoreProgress, RestoreReport};
use crate::backup::server::{self, VersionInfo};
use crate::backup::trust::TrustTable;
use crate::backup::upload::Uploader;
use crate::backup::{local_key, version};
use crate::crypto::backup::is_symmetric_algorithm;
use crate::crypto::{BackupKey, KeyCheck, SecretKey};

/// Where a reset keeps the key of the version it replaced, in secret
/// storage, so `backup restore --version N` can still read that version.
pub const OLD_KEY_PREFIX: &str = "org.keepsake.megolm_backup.v1.version.";

pub fn old_key_name(version: &str) -> SecretName {
    SecretName::from(format!("{OLD_KEY_PREFIX}{version}"))
}

/// The parts of the worker a backup job uses (handles: cheap clones).
pub struct Parts {
    pub client: Client,
    pub crypto: SqliteCryptoStore,
    pub base: matrix_sdk_base::BaseClient,
    pub trust: TrustTable,
    pub uploader: Uploader,
    /// Where a restore reports its progress.
    pub progress: Report<RestoreProgress>,
}

/// What opens `v` with `secret`, if anything does.
fn opener_for(secret: &SecretKey, v: &VersionInfo) -> Option<Opener> {
    if v.algorithm == entry::CURVE25519_ALGORITHM {
        return entry::curve25519_key(secret.as_bytes(), v).map(Opener::Curve25519);
    }
    if !is_symmetric_algorithm(&v.algorithm) {
        return None;
    }
    let key = BackupKey::new(secret.clone());
    (version::key_check(&key, v) != Some(KeyCheck::Mismatch)).then_some(Opener::Symmetric(key))
}

fn known_algorithm(v: &VersionInfo) -> Result<(), BackupError> {
    if is_symmetric_algorithm(&v.algorithm) || v.algorithm == entry::CURVE25519_ALGORITHM {
        Ok(())
    } else {
        Err(BackupError::Invalid(format!(
            "the backup (version {}) uses {}, an algorithm keepsake does not know",
            v.version, v.algorithm
        )))
    }
}

/// A backup key secret storage holds under `name`.
async fn stored_key(
    store: &SecretStore,
    name: SecretName,
) -> Result<Option<SecretKey>, BackupError> {
    let Some(b64) = store
        .get_secret(name)
        .await
        .map_err(|e| BackupError::Other(format!("cannot read secret storage: {e}")))?
        .map(Zeroizing::new)
    else {
        return Ok(None);
    };
    BackupKey::from_base64(&b64)
        .map(|k| Some(k.secret().clone()))
        .map_err(|_| {
            BackupError::Corrupt(
                "secret storage holds a backup key that is not 32 bytes of base64".to_owned(),
            )
        })
}

/// Restores every key of the current backup, or of `only` (an older
/// version). The key: this device's if it opens the version; otherwise the
/// one secret storage holds for it, unlocked with `input`.
pub async fn restore(
    p: &Parts,
    input: Option<Secret>,
    only: Option<&str>,
) -> Result<RestoreReport, BackupError> {
    let started = std::time::Instant::now();
    let c = &p.client;
    let target = match only {
        None => server::current(c)
            .await?
            .ok_or("this account has no backup on the server")?,
        Some(v) => server::version(c, v)
            .await?
            .ok_or_else(|| format!("the server has no backup version {v}"))?,
    };
    known_algorithm(&target)?;
    let held = local_key::load(&p.crypto)
        .await
        .map_err(BackupError::from)?;
    let mut opener = held.as_ref().and_then(|k| opener_for(k, &target));
    if opener.is_none() {
        let Some(input) = input else {
            return Err(match held {
                None => BackupError::KeyNeeded(
                    "this device does not hold the backup key: give the recovery key or passphrase"
                        .into(),
                ),
                Some(_) => BackupError::WrongKey(format!(
                    "the backup key on this device does not open version {}: give the recovery key or passphrase",
                    target.version
                )),
            });
        };
        opener = match only {
            None => Some(unlock_current(p, &input, &target).await?),
            Some(v) => {
                let store = recovery::open_store(c, input.expose())
                    .await
                    .map_err(BackupError::from)?;
                let kept = stored_key(&store, old_key_name(v)).await?;
                let current = stored_key(&store, SecretName::RecoveryKey).await?;
                kept.iter()
                    .chain(current.iter())
                    .find_map(|k| opener_for(k, &target))
            }
        };
    }
    let opener = opener.ok_or_else(|| {
        format!(
            "no backup key at hand opens version {} (neither this device's nor secret storage's)",
            target.version
        )
    })?;
    let lock = p.uploader.lock();
    let held = p.uploader.held();
    let to = restore::Target {
        client: c,
        base: &p.base,
        crypto: &p.crypto,
        trust: &p.trust,
        upload_lock: &lock,
        held: &held,
        current: only.is_none(),
    };
    let progress = p.progress.clone();
    let tell = move |pr| {
        progress(pr);
    };
    let mut report = restore::restore(&to, &opener, &target, &tell).await?;
    // The whole job: finding the version and unlocking count too.
    report.ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // A device that uploads nowhere yet uploads to the current symmetric
    // version it restored (an old version, or Element's curve25519 backup,
    // is never written to).
    if only.is_none() && matches!(opener, Opener::Symmetric(_)) {
        manage::adopt_if_unset(&p.crypto, &target.version, &target.algorithm).await?;
    }
    Ok(report)
}

/// Unlocks secret storage with `input` (keeping its keys on this device, as
/// `recovery unlock` does) and returns what opens the current version.
async fn unlock_current(
    p: &Parts,
    input: &Secret,
    target: &VersionInfo,
) -> Result<Opener, BackupError> {
    let t = std::time::Instant::now();
    match recovery::unlock(&p.client, &p.crypto, &p.base, input.expose()).await {
        Ok(_) => {}
        // The backup can still be read without cross-signing.
        Err(recovery::RecoveryError::MissingCrossSigning) => {
            recovery::take_backup_key(&p.client, &p.crypto, input.expose())
                .await
                .map_err(BackupError::from)?;
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(
        ms = t.elapsed().as_millis() as u64,
        "restore: unlocked secret storage"
    );
    let key = local_key::load(&p.crypto)
        .await
        .map_err(BackupError::from)?
        .ok_or_else(|| BackupError::KeyNeeded("secret storage holds no backup key".into()))?;
    opener_for(&key, target).ok_or_else(|| {
        BackupError::WrongKey(format!(
            "the backup key does not match this backup (version {})",
            target.version
        ))
    })
}

/// What a reset did with the version it replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replaced {
    pub version: String,
    /// Its keys brought onto this device first (and so into the new
    /// backup); `None` when nothing at hand could read it.
    pub restored: Option<RestoreReport>,
    /// Where its key stays in secret storage until the version is deleted.
    pub key_kept_as: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reset {
    #[serde(flatten)]
    pub created: Created,
    pub replaced: Option<Replaced>,
}

/// Replaces the backup without stranding history: every key of the current
/// version is first brought onto this device (a restore; should it fail,
/// nothing changes), its key is kept in secret storage under a versioned
/// name, and only then is the new version made, which everything on this
/// device is uploaded to.
pub async fn reset(p: &Parts, input: &Secret, algorithm: &str) -> Result<Reset, BackupError> {
    let c = &p.client;
    let store = recovery::open_store(c, input.expose())
        .await
        .map_err(BackupError::from)?;
    let mut replaced = None;
    if let Some(current) = server::current(c).await? {
        let candidates = [
            stored_key(&store, SecretName::RecoveryKey).await?,
            local_key::load(&p.crypto)
                .await
                .map_err(BackupError::from)?,
        ];
        let found = candidates
            .iter()
            .flatten()
            .find_map(|k| opener_for(k, &current).map(|o| (k.clone(), o)));
        let mut r = Replaced {
            version: current.version.clone(),
            restored: None,
            key_kept_as: None,
        };
        if let Some((secret, opener)) = found {
            let lock = p.uploader.lock();
            let held = p.uploader.held();
            let to = restore::Target {
                client: c,
                base: &p.base,
                crypto: &p.crypto,
                trust: &p.trust,
                upload_lock: &lock,
                held: &held,
                current: true,
            };
            let progress = p.progress.clone();
            let tell = move |pr| {
                progress(pr);
            };
            let report = restore::restore(&to, &opener, &current, &tell)
                .await
                .map_err(|e| {
                    format!(
                        "the backup was not reset: bringing the keys of version {} onto this device first failed ({e}); nothing changed",
                        current.version
                    )
                })?;
            if !report.rooms_unreadable.is_empty() {
                return Err(BackupError::Unreachable(format!(
                    "the backup was not reset: {} room(s) of version {} could not be read yet, and their keys would be stranded; nothing changed, try again later",
                    report.rooms_unreadable.len(),
                    current.version
                )));
            }
            let name = old_key_name(&current.version);
            let b64 = BackupKey::new(secret).to_base64();
            store
                .put_secret(name.clone(), &b64)
                .await
                .map_err(|e| {
                    format!(
                        "the backup was not reset: cannot keep the key of version {} in secret storage ({e}); nothing changed",
                        current.version
                    )
                })?;
            r.restored = Some(report);
            r.key_kept_as = Some(name.to_string());
        }
        replaced = Some(r);
    }
    // Never while an upload pass is under way: an answer for the old
    // version must not mark sessions or write the state back after the
    // switch.
    let lock = p.uploader.lock();
    let guard = lock.lock().await;
    let created = manage::reset(c, &p.crypto, &store, algorithm).await?;
    drop(guard);
    p.uploader.kick();
    Ok(Reset { created, replaced })
}

/// After `version` is deleted: its kept key goes from secret storage too
/// (account data cannot be removed, so it is emptied, as Element does).
pub async fn forget_old_key(client: &Client, version: &str) -> Result<(), BackupError> {
    use matrix_sdk::ruma::events::GlobalAccountDataEventType;
    let name = old_key_name(version).to_string();
    let empty = matrix_sdk::ruma::serde::Raw::from_json_string("{}".to_owned())
        .map_err(|e| e.to_string())?;
    client
        .account()
        .set_account_data_raw(GlobalAccountDataEventType::from(name.as_str()), empty)
        .await
        .map(|_| ())
        .map_err(|e| match e {
            matrix_sdk::Error::Http(h) => BackupError::http(
                &format!("cannot remove the kept key of version {version}"),
                &h,
            ),
            e => BackupError::Other(format!(
                "cannot remove the kept key of version {version}: {e}"
            )),
        })
}

/// Secret storage's failures, by what they mean for a backup job.
impl From<recovery::RecoveryError> for BackupError {
    fn from(e: recovery::RecoveryError) -> Self {
        use recovery::RecoveryError as E;
        let (text, advice) = (e.to_string(), e.advice());
        match e {
            E::WrongKey | E::BadRecoveryKey(_) => BackupError::WrongKey(text),
            E::NoSecretStorage => BackupError::NotFound(text),
            E::MissingCrossSigning | E::NotUnlocked | E::NoBackupKey => {
                BackupError::KeyNeeded(text)
            }
            _ => BackupError::Other(text),
        }
        .advised(advice)
    }
}
