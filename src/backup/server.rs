//! The key-backup HTTP API as keepsake uses it: read the current version,
//! create one. Requests carry raw JSON, since ruma's types only model the
//! curve25519 algorithm's `session_data`.

use crate::backup::error::BackupError;
use matrix_sdk::Client;
use matrix_sdk::ruma::api::client::backup::{
    BackupAlgorithm, KeyBackupData, create_backup_version, get_backup_info, get_latest_backup_info,
};
use matrix_sdk::ruma::api::error::{ErrorKind, RetryAfter};
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

fn http(e: matrix_sdk::HttpError) -> BackupError {
    BackupError::http("the homeserver refused the key-backup request", &e)
}

/// The request config of keepsake's backup calls: the SDK does not retry
/// them. Its own retries run for up to 15 minutes, unseen, and wait out any
/// `retry_after` a server names (a year, if it says so), while backup calls
/// are made with the upload lock held. [`with_retries`] retries briefly
/// instead, and the caller decides after that (the uploader backs off).
pub fn request_config() -> matrix_sdk::config::RequestConfig {
    matrix_sdk::config::RequestConfig::new()
        .disable_retry()
        .timeout(std::time::Duration::from_secs(30))
}

/// The longest 429 wait [`with_retries`] sits out before trying again;
/// a longer one is reported to the caller.
const SHORT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs `call` and up to `retries` more times while it fails in a way worth
/// a quick second try: a 5xx or a lost connection (after 1 s, then 2 s), or
/// a 429 that asks for at most [`SHORT_WAIT`]. Only for idempotent calls.
pub async fn with_retries<T, F, Fut>(
    retries: usize,
    mut call: F,
) -> Result<T, matrix_sdk::HttpError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, matrix_sdk::HttpError>>,
{
    let mut backoff = std::time::Duration::from_secs(1);
    let mut left = retries;
    loop {
        let e = match call().await {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        let wait = match classify(&e) {
            UploadError::RateLimited(None) => backoff,
            UploadError::RateLimited(Some(w)) if w <= SHORT_WAIT => w,
            UploadError::Transient(_) => backoff,
            _ => return Err(e),
        };
        if left == 0 {
            return Err(e);
        }
        left -= 1;
        tracing::debug!(error = %e, wait_ms = wait.as_millis() as u64, "backup request failed; trying again");
        tokio::time::sleep(wait).await;
        backoff *= 2;
    }
}

/// A version's algorithm name and `auth_data`, read loosely: ruma's typed
/// form insists on fields (a curve25519 version's `signatures`, say) that a
/// version made by another client may lack, and keepsake must still see
/// that version to say what happened and never upload into it. Whether the
/// `auth_data` fits a key is checked where it is used.
fn algorithm_of(
    raw: &serde_json::value::RawValue,
) -> Result<(String, serde_json::Value), BackupError> {
    #[derive(serde::Deserialize)]
    struct Loose {
        algorithm: String,
        #[serde(default)]
        auth_data: serde_json::Value,
    }
    let l: Loose = serde_json::from_str(raw.get()).map_err(|e| {
        BackupError::Corrupt(format!("the server's backup version is malformed: {e}"))
    })?;
    let auth_data = match l.auth_data {
        serde_json::Value::Object(o) => serde_json::Value::Object(o),
        _ => serde_json::Value::Object(Default::default()),
    };
    Ok((l.algorithm, auth_data))
}

/// The current version, or `None` when the account has no backup.
/// A server that does not answer at all gives `BackupError::Unreachable`.
pub async fn current(client: &Client) -> Result<Option<VersionInfo>, BackupError> {
    let r = with_retries(2, || async {
        client
            .send(get_latest_backup_info::v3::Request::new())
            .with_request_config(request_config())
            .await
    })
    .await;
    match r {
        Ok(r) => {
            let (algorithm, auth_data) = algorithm_of(r.algorithm.json())?;
            Ok(Some(VersionInfo {
                version: r.version,
                algorithm,
                auth_data,
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
pub async fn version(client: &Client, version: &str) -> Result<Option<VersionInfo>, BackupError> {
    let r = with_retries(2, || async {
        client
            .send(get_backup_info::v3::Request::new(version.to_owned()))
            .with_request_config(request_config())
            .await
    })
    .await;
    match r {
        Ok(r) => {
            let (algorithm, auth_data) = algorithm_of(r.algorithm.json())?;
            Ok(Some(VersionInfo {
                version: r.version,
                algorithm,
                auth_data,
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
) -> Result<String, BackupError> {
    let body = serde_json::json!({ "algorithm": algorithm, "auth_data": auth_data });
    let raw: Raw<BackupAlgorithm> =
        Raw::from_json_string(body.to_string()).map_err(|e| e.to_string())?;
    let r = client
        .send(create_backup_version::v3::Request::new(raw))
        .with_request_config(request_config())
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

/// How long a 429 asks us to wait, never over [`MAX_RETRY_AFTER`].
fn rate_limit_wait(
    retry_after: Option<&RetryAfter>,
    now: std::time::SystemTime,
) -> Option<std::time::Duration> {
    let wait = match retry_after? {
        RetryAfter::Delay(d) => *d,
        RetryAfter::DateTime(t) => t.duration_since(now).unwrap_or_default(),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

fn classify(e: &matrix_sdk::HttpError) -> UploadError {
    match e.client_api_error_kind() {
        Some(ErrorKind::LimitExceeded(d)) => UploadError::RateLimited(rate_limit_wait(
            d.retry_after.as_ref(),
            std::time::SystemTime::now(),
        )),
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

/// The entries of one room in `version` (empty when the backup has none).
pub async fn room_keys(
    client: &Client,
    version: &str,
    room_id: &matrix_sdk::ruma::RoomId,
) -> Result<std::collections::BTreeMap<String, Raw<KeyBackupData>>, BackupError> {
    use matrix_sdk::ruma::api::client::backup::get_backup_keys_for_room;
    let req = get_backup_keys_for_room::v3::Request::new(version.to_owned(), room_id.to_owned());
    let r = with_retries(2, || async {
        client
            .send(req.clone())
            .with_request_config(request_config())
            .await
    })
    .await;
    match r {
        Ok(r) => Ok(r.sessions),
        Err(e) if e.client_api_error_kind() == Some(&ErrorKind::NotFound) => Ok(Default::default()),
        Err(e) => Err(BackupError::http(
            &format!("cannot read the backup of {room_id}"),
            &e,
        )),
    }
}

/// One session's entry in `version`, if the backup has it.
pub async fn session_key(
    client: &Client,
    version: &str,
    room_id: &matrix_sdk::ruma::RoomId,
    session_id: &str,
) -> Result<Option<Raw<KeyBackupData>>, BackupError> {
    use matrix_sdk::ruma::api::client::backup::get_backup_keys_for_session;
    let req = get_backup_keys_for_session::v3::Request::new(
        version.to_owned(),
        room_id.to_owned(),
        session_id.to_owned(),
    );
    let r = with_retries(2, || async {
        client
            .send(req.clone())
            .with_request_config(request_config())
            .await
    })
    .await;
    match r {
        Ok(r) => Ok(Some(r.key_data)),
        Err(e) if e.client_api_error_kind() == Some(&ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(BackupError::http("cannot fetch a key from the backup", &e)),
    }
}

/// Deletes a version and every key in it.
pub async fn delete_version(client: &Client, version: &str) -> Result<(), BackupError> {
    use matrix_sdk::ruma::api::client::backup::delete_backup_version;
    with_retries(2, || async {
        client
            .send(delete_backup_version::v3::Request::new(version.to_owned()))
            .with_request_config(request_config())
            .await
    })
    .await
    .map(|_| ())
    .map_err(http)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn a_servers_retry_after_is_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let wait = |r: RetryAfter| rate_limit_wait(Some(&r), now);
        assert_eq!(
            wait(RetryAfter::Delay(Duration::from_millis(300))),
            Some(Duration::from_millis(300))
        );
        // A hostile server asking for days (or years) gets five minutes.
        assert_eq!(
            wait(RetryAfter::Delay(Duration::from_secs(86_400 * 400))),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            wait(RetryAfter::DateTime(now + Duration::from_secs(86_400))),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            wait(RetryAfter::DateTime(now + Duration::from_secs(20))),
            Some(Duration::from_secs(20))
        );
        // A time in the past: try again now.
        assert_eq!(
            wait(RetryAfter::DateTime(now - Duration::from_secs(5))),
            Some(Duration::ZERO)
        );
        assert_eq!(rate_limit_wait(None, now), None);
    }
}
