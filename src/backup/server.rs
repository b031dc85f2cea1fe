//! The key-backup HTTP API as keepsake uses it: read the current version,
//! create one. Requests carry raw JSON, since ruma's types only model the
//! curve25519 algorithm's `session_data`.

use matrix_sdk::Client;
use matrix_sdk::ruma::api::client::backup::{
    BackupAlgorithm, create_backup_version, get_latest_backup_info,
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

/// The current version, or `None` when the account has no backup.
pub async fn current(client: &Client) -> Result<Option<VersionInfo>, String> {
    match client
        .send(get_latest_backup_info::v3::Request::new())
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
        .await
        .map_err(http)?;
    Ok(r.version)
}
