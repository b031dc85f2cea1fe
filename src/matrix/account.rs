//! A profile's Matrix account: open the client on its stores, log in, restore
//! the saved session, ask the server who we are, log out.

use std::path::PathBuf;

use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::encryption::{BackupDownloadStrategy, EncryptionSettings};
use matrix_sdk::ruma::api::error::ErrorKind;
use matrix_sdk::store::StoreConfig;
use matrix_sdk::{
    Client, HttpError, SqliteCryptoStore, SqliteEventCacheStore, SqliteMediaStore,
    SqliteStateStore, SqliteStoreConfig,
};
use matrix_sdk_base::cross_process_lock::CrossProcessLockConfig;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::config::Settings;
use crate::crypto::{SecretKey, b64};
use crate::secrets::{SecretName, SecretStore, SecretsError};

/// One line for the user per failure; never a secret in it.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("login failed: wrong user name or password")]
    WrongPassword,
    #[error("cannot reach the homeserver at {0}")]
    Unreachable(String),
    #[error("the saved session is no longer valid (expired or logged out elsewhere)")]
    SessionExpired,
    #[error("profile `{0}` is not logged in")]
    NotLoggedIn(String),
    #[error(
        "profile `{profile}` is open in another keepsake (process {pid}); close it first, or use it there"
    )]
    InUse { profile: String, pid: String },
    /// Secrets gone but the store is still there: nothing is deleted.
    #[error(
        "profile `{profile}` lost its secrets: {where_} no longer holds them{why}. Its local store (device identity and keys) is kept in {}",
        store.display()
    )]
    SecretsLost {
        profile: String,
        where_: &'static str,
        why: &'static str,
        store: PathBuf,
    },
    #[error("profile `{0}` is already logged in as {1}")]
    AlreadyLoggedIn(String, String),
    #[error("no homeserver: pass --homeserver URL or set `homeserver` in the config")]
    NoHomeserver,
    #[error("no user: pass --user USER or set `user` in the config")]
    NoUser,
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("cannot open the local store in {0}: {1}")]
    Store(PathBuf, String),
    #[error("{0}")]
    Other(String),
}

impl AccountError {
    /// What the user can do about it (each front end names the steps).
    pub fn advice(&self) -> Option<crate::error::Advice> {
        use crate::error::{Advice, Step};
        Some(match self {
            AccountError::SessionExpired => Advice::new("log in again with {}", &[Step::Login]),
            AccountError::NotLoggedIn(_) => Advice::new("run {}", &[Step::Login]),
            AccountError::SecretsLost { .. } => Advice::new(
                "{} moves it aside (never deletes it) and starts a new device",
                &[Step::Login],
            ),
            AccountError::AlreadyLoggedIn(..) => Advice::new("run {} first", &[Step::Logout]),
            _ => return None,
        })
    }
}

/// What the secret store keeps as the `session` secret.
#[derive(Serialize, Deserialize)]
struct StoredSession {
    homeserver: String,
    session: MatrixSession,
}

/// A profile's open client, with the crypto store handle the backup backend
/// reads and marks sessions through.
pub struct Account {
    pub client: Client,
    pub crypto_store: SqliteCryptoStore,
    /// The client's base layer, kept for its `OlmMachine`: restore imports
    /// keys through it (marking them backed up in the same write), which the
    /// public API only offers through a key file. matrix-sdk marks
    /// `ClientBuilder::base_client` as public for tests; if it goes away,
    /// only `backup::restore::import` changes.
    pub base: matrix_sdk_base::BaseClient,
    /// Where each session's key came from (restored, imported, received).
    pub trust: crate::backup::trust::TrustTable,
    /// This process's hold on the profile: one crypto machine per store.
    pub lock: ProfileLock,
}

/// An exclusive lock on a profile for as long as it is held: two crypto
/// machines on one store (the TUI and a command, say) would each send and
/// save keys the other never sees. The kernel releases it when the
/// process dies, so a crash never leaves the profile locked.
#[derive(Debug)]
pub struct ProfileLock {
    _file: std::fs::File,
}

const LOCK_FILE: &str = "in-use.lock";

/// Takes the profile's lock, or says which process holds it.
pub fn lock_profile(settings: &Settings) -> Result<ProfileLock, AccountError> {
    use std::io::{Read, Seek, Write};
    let dir = &settings.profile_dir;
    let err = |e: &dyn std::fmt::Display| AccountError::Store(dir.clone(), e.to_string());
    std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    let mut open = std::fs::OpenOptions::new();
    open.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open.open(dir.join(LOCK_FILE)).map_err(|e| err(&e))?;
    match file.try_lock() {
        Ok(()) => {
            // Who holds it, for the message a second process prints.
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(file, "{}", std::process::id());
            Ok(ProfileLock { _file: file })
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            Err(AccountError::InUse {
                profile: settings.profile.clone(),
                pid: pid.trim().to_owned(),
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(err(&e)),
    }
}

/// Who the server says we are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhoAmI {
    pub user_id: String,
    pub device_id: Option<String>,
    pub homeserver: String,
    /// Where login moved a store it could not open (its passphrase was
    /// gone), so nothing of it is lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_moved_to: Option<PathBuf>,
}

fn classify(e: &HttpError, homeserver: &str) -> AccountError {
    match e.client_api_error_kind() {
        Some(ErrorKind::Forbidden) => AccountError::WrongPassword,
        Some(ErrorKind::UnknownToken { .. }) => AccountError::SessionExpired,
        _ => match e {
            HttpError::Reqwest(r) if r.is_connect() || r.is_timeout() => {
                AccountError::Unreachable(homeserver.to_owned())
            }
            other => AccountError::Other(format!("the homeserver refused: {other}")),
        },
    }
}

fn sdk_error(e: &matrix_sdk::Error, homeserver: &str) -> AccountError {
    match e {
        matrix_sdk::Error::Http(h) => classify(h, homeserver),
        other => AccountError::Other(other.to_string()),
    }
}

fn store_dir(settings: &Settings) -> PathBuf {
    settings.profile_dir.join("store")
}

/// Opens the four sqlite stores with `passphrase` and builds the client with
/// matrix-sdk's own backups off: keepsake's symmetric backup is the only one.
pub async fn open_client(
    settings: &Settings,
    lock: ProfileLock,
    homeserver: &str,
    passphrase: &str,
) -> Result<Account, AccountError> {
    let dir = store_dir(settings);
    let serr = |e: &dyn std::fmt::Display| AccountError::Store(dir.clone(), e.to_string());
    std::fs::create_dir_all(&dir).map_err(|e| serr(&e))?;
    let cfg = SqliteStoreConfig::new(&dir).passphrase(Some(passphrase));
    // Each store derives its key from the passphrase (PBKDF2, 200,000
    // rounds): opened on separate tasks, the four derivations share the
    // cores instead of queueing before the first room can be listed.
    macro_rules! open {
        ($store:ty) => {{
            let cfg = cfg.clone();
            tokio::spawn(async move { <$store>::open_with_config(&cfg).await })
        }};
    }
    let (crypto, state, events, media) = (
        open!(SqliteCryptoStore),
        open!(SqliteStateStore),
        open!(SqliteEventCacheStore),
        open!(SqliteMediaStore),
    );
    let task = |e: tokio::task::JoinError| serr(&e);
    let crypto = crypto.await.map_err(task)?.map_err(|e| serr(&e))?;
    let state = state.await.map_err(task)?.map_err(|e| serr(&e))?;
    let events = events.await.map_err(task)?.map_err(|e| serr(&e))?;
    let media = media.await.map_err(task)?.map_err(|e| serr(&e))?;
    let store_config = StoreConfig::new(CrossProcessLockConfig::SingleProcess)
        .state_store(state)
        .event_cache_store(events)
        .media_store(media)
        .crypto_store(crypto.clone());
    // Built as the builder would (same defaults), but kept.
    let base = matrix_sdk_base::BaseClient::new(
        store_config,
        // Threads are shown apart from the room (`t`): the event cache then
        // files live replies under their thread and keeps its summary.
        matrix_sdk_base::ThreadingSupport::Enabled {
            with_subscriptions: false,
        },
        matrix_sdk_base::DmRoomDefinition::MatrixSpec,
    );
    let client = Client::builder()
        .homeserver_url(homeserver)
        .base_client(base.clone())
        .with_encryption_settings(EncryptionSettings {
            auto_enable_cross_signing: false,
            backup_download_strategy: BackupDownloadStrategy::Manual,
            auto_enable_backups: false,
        })
        .build()
        .await
        .map_err(|e| AccountError::Other(format!("cannot set up the client: {e}")))?;
    let trust =
        crate::backup::trust::TrustTable::open(&dir.join("keepsake-trust.sqlite3"), passphrase)
            .map_err(|e| serr(&e))?;
    Ok(Account {
        client,
        crypto_store: crypto,
        base,
        trust,
        lock,
    })
}

/// Whether `dir` exists and holds anything.
fn has_files(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

/// Moves a store that cannot be opened out of the way, next to where it
/// was, under a name that says why and when; `None` when there was none.
fn move_aside(dir: &std::path::Path) -> Result<Option<PathBuf>, AccountError> {
    if !has_files(dir) {
        // An empty directory holds nothing to keep.
        let _ = std::fs::remove_dir(dir);
        return Ok(None);
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    let mut to = dir.with_file_name(format!("{name}.without-passphrase-{stamp}"));
    let mut n = 1;
    while to.exists() {
        to = dir.with_file_name(format!("{name}.without-passphrase-{stamp}-{n}"));
        n += 1;
    }
    std::fs::rename(dir, &to).map_err(|e| {
        AccountError::Store(dir.to_path_buf(), format!("cannot move it aside: {e}"))
    })?;
    tracing::warn!(from = %dir.display(), to = %to.display(), "moved a store without its passphrase aside");
    Ok(Some(to))
}

fn new_store_passphrase() -> Result<Zeroizing<String>, AccountError> {
    let key = SecretKey::generate().map_err(|e| AccountError::Other(e.to_string()))?;
    Ok(Zeroizing::new(b64::encode(key.as_bytes())))
}

/// Logs in with a password, creating this profile's device and stores.
pub async fn login(
    settings: &Settings,
    secrets: &SecretStore,
    homeserver: Option<&str>,
    user: Option<&str>,
    password: &str,
    device_name: Option<&str>,
) -> Result<WhoAmI, AccountError> {
    if let Some(raw) = secrets.get(SecretName::Session)? {
        let stored: StoredSession = serde_json::from_str(&raw)
            .map_err(|_| AccountError::Other("the saved session is unreadable".into()))?;
        return Err(AccountError::AlreadyLoggedIn(
            settings.profile.clone(),
            stored.session.meta.user_id.to_string(),
        ));
    }
    let homeserver = homeserver
        .map(str::to_owned)
        .or_else(|| settings.homeserver.as_ref().map(|u| u.to_string()))
        .ok_or(AccountError::NoHomeserver)?;
    let user = user
        .map(str::to_owned)
        .or_else(|| settings.user.clone())
        .ok_or(AccountError::NoUser)?;
    let lock = lock_profile(settings)?;
    // A store left without its passphrase (a failed login, or a keyring
    // that forgot) cannot be opened, but it is never deleted: it may hold
    // a device's only copy of keys. It is moved aside, and the user told.
    let mut store_moved_to = None;
    let passphrase = match secrets.get(SecretName::StorePassphrase)? {
        Some(p) => p,
        None => {
            store_moved_to = move_aside(&store_dir(settings))?;
            let p = new_store_passphrase()?;
            secrets.set(SecretName::StorePassphrase, &p)?;
            p
        }
    };
    let account = open_client(settings, lock, &homeserver, &passphrase).await?;
    account
        .client
        .matrix_auth()
        .login_username(&user, password)
        .initial_device_display_name(device_name.unwrap_or(&settings.device_name))
        .await
        .map_err(|e| sdk_error(&e, &homeserver))?;
    let session = account
        .client
        .matrix_auth()
        .session()
        .ok_or_else(|| AccountError::Other("the server returned no session".into()))?;
    let who = WhoAmI {
        user_id: session.meta.user_id.to_string(),
        device_id: Some(session.meta.device_id.to_string()),
        homeserver: homeserver.clone(),
        store_moved_to,
    };
    let stored = Zeroizing::new(
        serde_json::to_string(&StoredSession {
            homeserver,
            session,
        })
        .map_err(|e| AccountError::Other(e.to_string()))?,
    );
    secrets.set(SecretName::Session, &stored)?;
    Ok(who)
}

/// Opens the client and restores the saved session, without a server call.
pub async fn restore(settings: &Settings, secrets: &SecretStore) -> Result<Account, AccountError> {
    let store = store_dir(settings);
    let lost = || AccountError::SecretsLost {
        profile: settings.profile.clone(),
        where_: secrets.backend().describe(),
        why: if secrets.backend().volatile() {
            " (it forgets at reboot and after days unused)"
        } else {
            ""
        },
        store: store.clone(),
    };
    let not_in = || {
        if has_files(&store) {
            lost()
        } else {
            AccountError::NotLoggedIn(settings.profile.clone())
        }
    };
    let raw = secrets.get(SecretName::Session)?.ok_or_else(not_in)?;
    let passphrase = secrets.get(SecretName::StorePassphrase)?.ok_or_else(lost)?;
    let lock = lock_profile(settings)?;
    let stored: StoredSession = serde_json::from_str(&raw)
        .map_err(|_| AccountError::Other("the saved session is unreadable".into()))?;
    let account = open_client(settings, lock, &stored.homeserver, &passphrase).await?;
    account
        .client
        .restore_session(stored.session)
        .await
        .map_err(|e| sdk_error(&e, &stored.homeserver))?;
    // Subscribe the event cache before the first sync, so it keeps the
    // pagination token (otherwise the first back-pagination waits ~3 s).
    account
        .client
        .event_cache()
        .subscribe()
        .map_err(|e| AccountError::Other(format!("cannot start the event cache: {e}")))?;
    Ok(account)
}

/// Asks the server who the saved session belongs to (so an expired token is
/// found out here, not later).
pub async fn whoami(account: &Account) -> Result<WhoAmI, AccountError> {
    whoami_of(&account.client).await
}

/// [`whoami`] for a bare client (the worker holds only the client).
pub async fn whoami_of(client: &Client) -> Result<WhoAmI, AccountError> {
    let hs = client.homeserver().to_string();
    let r = client.whoami().await.map_err(|e| classify(&e, &hs))?;
    Ok(WhoAmI {
        user_id: r.user_id.to_string(),
        device_id: r.device_id.map(|d| d.to_string()),
        homeserver: hs,
        store_moved_to: None,
    })
}

/// Invalidates the token on the server, then removes this profile's secrets
/// and local store. A token the server already forgot still logs out locally.
pub async fn logout(settings: &Settings, secrets: &SecretStore) -> Result<(), AccountError> {
    let account = restore(settings, secrets).await?;
    let hs = account.client.homeserver().to_string();
    match account.client.matrix_auth().logout().await {
        Ok(_) => {}
        Err(e) => match classify(&e, &hs) {
            AccountError::SessionExpired => {}
            other => return Err(other),
        },
    }
    drop(account);
    secrets.delete(SecretName::Session)?;
    secrets.delete(SecretName::StorePassphrase)?;
    let dir = store_dir(settings);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| AccountError::Store(dir, e.to_string()))?;
    }
    Ok(())
}
