//! The key-backup HTTP API as keepsake uses it: read the current version,
//! create one. Requests carry raw JSON, since ruma's types only model the
//! curve25519 algorithm's `session_data`.

use matrix_sdk::Client;
use matrix_sdk::ruma::api::client::backup::{
    BackupAlgorithm, create_backup_version, get_backup_info, get_latest_backup_info,
};
use matrix_sdk::ruma::api::error::ErrorKind;
use matrix_sdk::ruma::serde::Raw;
use serde::Serialize;

/// The server's current backup version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    pub version: String,
    pub algorithm: String,
    pub auth_data: serde_json::Value,
    pub count: u64,
    pub etag: String,
}

fn http(e: impl std::fmt::Display) -> String {
    format!("the homeserver refused the key-backup request: {e}")
}

/// The request config of keepsake's backup calls. The SDK's default retries
/// 429 and 5xx for as long as 15 minutes, unseen, and backup calls are made
/// while the upload lock is held: here a fault shows within seconds and the
/// caller decides (the uploader backs off itself). `retries` is 0 for a call
/// that is not idempotent (creating a version twice makes two).
pub fn request_config(retries: usize) -> matrix_sdk::config::RequestConfig {
    matrix_sdk::config::RequestConfig::new()
        .retry_limit(retries)
        .max_retry_time(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(30))
}

/// The current version, or `None` when the account has no backup.
pub async fn current(client: &Client) -> Result<Option<VersionInfo>, String> {
    match client
        .send(get_latest_backup_info::v3::Request::new())
        .with_request_config(request_config(2))
        .await
    {
        Ok(r) => {
            let algo: BackupAlgorithm = r
                .algorithm
                .deserialize()
                .map_err(|e| format!("the server's backup version is malformed: {e}"))?;
            Ok(Some(VersionInfo {
                version: r.version,
                algorithm: algo.algorithm().to_owned(),
                auth_data: serde_json::Value::Object(algo.auth_data().into_owned()),
                count: r.count.into(),
                etag: r.etag,
            }))
        }
        Err(e) if e.client_api_error_kind() == Some(&ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(http(e)),
    }
}

/// Version `version`, or `None` when the server has no such version (an
/// older one, for `backup restore --version`).
pub async fn version(client: &Client, version: &str) -> Result<Option<VersionInfo>, String> {
    match client
        .send(get_backup_info::v3::Request::new(version.to_owned()))
        .with_request_config(request_config(2))
        .await
    {
        Ok(r) => {
            let algo: BackupAlgorithm = r
                .algorithm
                .deserialize()
                .map_err(|e| format!("the server's backup version is malformed: {e}"))?;
            Ok(Some(VersionInfo {
                version: r.version,
                algorithm: algo.algorithm().to_owned(),
                auth_data: serde_json::Value::Object(algo.auth_data().into_owned()),
                count: r.count.into(),
                etag: r.etag,
            }))
        }
        Err(e) if e.client_api_error_kind() == Some(&ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(http(e)),
    }
}

/// Creates a version; returns its name.
pub async fn create(
    client: &Client,
    algorithm: &str,
    auth_data: serde_json::Value,
) -> Result<String, String> {
    let body = serde_json::json!({ "algorithm": algorithm, "auth_data": auth_data });
    let raw: Raw<BackupAlgorithm> =
        Raw::from_json_string(body.to_string()).map_err(|e| e.to_string())?;
    let r = client
        .send(create_backup_version::v3::Request::new(raw))
        .with_request_config(request_config(0))
        .await
        .map_err(http)?;
    Ok(r.version)
}

/// How an upload failed, as far as what to do next is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadError {
    /// 429: wait this long (the server's `retry_after_ms`, if it gave one).
    RateLimited(Option<std::time::Duration>),
    /// `M_WRONG_ROOM_KEYS_VERSION` or the version is gone: never retry.
    VersionGone,
    /// 5xx, connection refused or reset, timeouts: retry with backoff.
    Transient(String),
    /// 401: the access token is no longer valid; retrying cannot help.
    LoggedOut,
}

/// The longest wait a server's `retry_after_ms` gets: a hostile or broken
/// server could ask for days.
pub const MAX_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(300);

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::RateLimited(Some(d)) => {
                write!(
                    f,
                    "rate limited by the server (retry after {} ms)",
                    d.as_millis()
                )
            }
            UploadError::RateLimited(None) => f.write_str("rate limited by the server"),
            UploadError::VersionGone => {
                f.write_str("the backup version was replaced or deleted on the server")
            }
            UploadError::Transient(e) => f.write_str(e),
            UploadError::LoggedOut => f.write_str(
                "the server no longer accepts this device's session (logged out elsewhere?); log in again",
            ),
        }
    }
}

fn classify(e: &matrix_sdk::HttpError) -> UploadError {
    use matrix_sdk::ruma::api::error::RetryAfter;
    match e.client_api_error_kind() {
        Some(ErrorKind::LimitExceeded(d)) => {
            let wait = match d.retry_after {
                Some(RetryAfter::Delay(d)) => Some(d),
                Some(RetryAfter::DateTime(t)) => {
                    t.duration_since(std::time::SystemTime::now()).ok()
                }
                None => None,
            };
            UploadError::RateLimited(wait.map(|w| w.min(MAX_RETRY_AFTER)))
        }
        Some(ErrorKind::UnknownToken(_)) | Some(ErrorKind::MissingToken) => UploadError::LoggedOut,
        Some(ErrorKind::WrongRoomKeysVersion(_)) | Some(ErrorKind::NotFound) => {
            UploadError::VersionGone
        }
        _ => match e.as_client_api_error() {
            Some(api) if api.status_code.is_server_error() => {
                UploadError::Transient(format!("the homeserver failed ({})", api.status_code))
            }
            _ => UploadError::Transient(format!("cannot reach the homeserver: {e}")),
        },
    }
}

/// One PUT of many sessions (`{room: {session: KeyBackupData}}`), without
/// the SDK's own retries: the uploader decides when to try again. Returns
/// the server's new `(etag, count)`.
pub async fn add_keys(
    client: &Client,
    version: &str,
    rooms: std::collections::BTreeMap<
        matrix_sdk::ruma::OwnedRoomId,
        matrix_sdk::ruma::api::client::backup::RoomKeyBackup,
    >,
) -> Result<(String, u64), UploadError> {
    use matrix_sdk::config::RequestConfig;
    use matrix_sdk::ruma::api::client::backup::add_backup_keys;
    let req = add_backup_keys::v3::Request::new(version.to_owned(), rooms);
    let config = RequestConfig::new()
        .disable_retry()
        .timeout(std::time::Duration::from_secs(120));
    client
        .send(req)
        .with_request_config(config)
        .await
        .map(|r| (r.etag, r.count.into()))
        .map_err(|e| classify(&e))
}

/// Deletes a version and every key in it.
pub async fn delete_version(client: &Client, version: &str) -> Result<(), String> {
    use matrix_sdk::ruma::api::client::backup::delete_backup_version;
    client
        .send(delete_backup_version::v3::Request::new(version.to_owned()))
        .with_request_config(request_config(2))
        .await
        .map(|_| ())
        .map_err(http)
}
