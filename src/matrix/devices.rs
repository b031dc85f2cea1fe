//! A user's devices and whether each is verified, fresh from the server.

use super::verify::VerifyError;
use matrix_sdk::Client;
use matrix_sdk::ruma::OwnedUserId;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub user_id: String,
    pub device_id: String,
    pub name: Option<String>,
    /// Verified by cross-signing or marked trusted on this device.
    pub verified: bool,
    /// Signed by its owner's self-signing key.
    pub cross_signed: bool,
    pub this_device: bool,
}

/// Every device of `user` (default: ourselves), this device first.
pub async fn list(client: &Client, user: Option<&str>) -> Result<Vec<DeviceInfo>, VerifyError> {
    let me = client.user_id().ok_or(VerifyError::NotLoggedIn)?.to_owned();
    let user: OwnedUserId = match user {
        Some(u) => super::verify::parse_user(u)?,
        None => me.clone(),
    };
    let enc = client.encryption();
    // A keys query brings the device list and signatures up to date.
    enc.request_user_identity(&user)
        .await
        .map_err(|e| VerifyError::Failed(format!("cannot fetch {user}'s keys: {e}")))?;
    let own_device = client.device_id().map(|d| d.to_owned());
    let devices = enc
        .get_user_devices(&user)
        .await
        .map_err(|e| VerifyError::Failed(format!("cannot read {user}'s devices: {e}")))?;
    let mut out: Vec<DeviceInfo> = devices
        .devices()
        .map(|d| DeviceInfo {
            user_id: user.to_string(),
            device_id: d.device_id().to_string(),
            name: d.display_name().map(str::to_owned),
            verified: d.is_verified(),
            cross_signed: d.is_cross_signed_by_owner(),
            this_device: user == me && own_device.as_deref() == Some(d.device_id()),
        })
        .collect();
    out.sort_by(|a, b| {
        b.this_device
            .cmp(&a.this_device)
            .then(a.device_id.cmp(&b.device_id))
    });
    Ok(out)
}
