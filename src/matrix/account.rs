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
    #[error(
        "the saved session is no longer valid (expired or logged out elsewhere); log in again with `keepsake login`"
    )]
    SessionExpired,
    #[error("profile `{0}` is not logged in; run `keepsake login`")]
    NotLoggedIn(String),
    #[error("profile `{0}` is already logged in as {1}; run `keepsake logout` first")]
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
}

/// Who the server says we are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhoAmI {
    pub user_id: String,
    pub device_id: Option<String>,
    pub homeserver: String,
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
    homeserver: &str,
    passphrase: &str,
) -> Result<Account, AccountError> {
    let dir = store_dir(settings);
    let serr = |e: &dyn std::fmt::Display| AccountError::Store(dir.clone(), e.to_string());
    std::fs::create_dir_all(&dir).map_err(|e| serr(&e))?;
    let cfg = SqliteStoreConfig::new(&dir).passphrase(Some(passphrase));
    let crypto = SqliteCryptoStore::open_with_config(&cfg)
        .await
        .map_err(|e| serr(&e))?;
    let state = SqliteStateStore::open_with_config(&cfg)
        .await
        .map_err(|e| serr(&e))?;
    let events = SqliteEventCacheStore::open_with_config(&cfg)
        .await
        .map_err(|e| serr(&e))?;
    let media = SqliteMediaStore::open_with_config(&cfg)
        .await
        .map_err(|e| serr(&e))?;
    let store_config = StoreConfig::new(CrossProcessLockConfig::SingleProcess)
        .state_store(state)
        .event_cache_store(events)
        .media_store(media)
        .crypto_store(crypto.clone());
    // Built as the builder would (same defaults), but kept.
    let base = matrix_sdk_base::BaseClient::new(
        store_config,
        matrix_sdk_base::ThreadingSupport::Disabled,
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
    })
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
    // A store left by an earlier, failed or logged-out login is useless
    // without its passphrase: start clean.
    let passphrase = match secrets.get(SecretName::StorePassphrase)? {
        Some(p) => p,
        None => {
            let _ = std::fs::remove_dir_all(store_dir(settings));
            let p = new_store_passphrase()?;
            secrets.set(SecretName::StorePassphrase, &p)?;
            p
        }
    };
    let account = open_client(settings, &homeserver, &passphrase).await?;
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
    let not_in = || AccountError::NotLoggedIn(settings.profile.clone());
    let raw = secrets.get(SecretName::Session)?.ok_or_else(not_in)?;
    let passphrase = secrets
        .get(SecretName::StorePassphrase)?
        .ok_or_else(not_in)?;
    let stored: StoredSession = serde_json::from_str(&raw)
        .map_err(|_| AccountError::Other("the saved session is unreadable".into()))?;
    let account = open_client(settings, &stored.homeserver, &passphrase).await?;
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
