//! Gossip of the symmetric backup key (`m.megolm_backup.v1`) between our own
//! verified devices. matrix-sdk only knows its own curve25519 backup key, so
//! it neither serves ours nor keeps ours when it arrives; these handlers do.
//!
//! - Serving: a `m.secret.request` for `m.megolm_backup.v1` from one of our
//!   own devices that we have verified is answered, Olm-encrypted, with the
//!   key; a request from anyone else is refused (and reported).
//! - Receiving: after a self-verification the SDK itself requests the
//!   secret; the `m.secret.send` that answers it reaches our handler with
//!   the secret's `name` filled in by the SDK (it only does so when the
//!   answer matches one of its own outgoing requests). We keep it only if it came Olm-encrypted from one of
//!   our own verified devices, and never replace a key we already hold.

use matrix_sdk::Client;
use matrix_sdk::SqliteCryptoStore;
use matrix_sdk::deserialized_responses::EncryptionInfo;
use matrix_sdk::ruma::events::AnyToDeviceEventContent;
use matrix_sdk::ruma::events::secret::request::{
    RequestAction, SecretName, ToDeviceSecretRequestEvent,
};
use matrix_sdk::ruma::events::secret::send::ToDeviceSecretSendEvent;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk_base::crypto::CollectStrategy;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Report;
use crate::backup::local_key;
use crate::backup::upload::Uploader;
use crate::crypto::BackupKey;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum GossipEvent {
    /// We sent our backup key to one of our verified devices.
    Served { device: String },
    /// We refused a request for it, and why.
    Refused {
        user: String,
        device: String,
        reason: String,
    },
    /// We received the backup key from one of our verified devices.
    Received { device: String },
    /// A backup key arrived but was not kept, and why.
    Ignored { reason: String },
}

fn report(updates: &Report<GossipEvent>, e: GossipEvent) {
    tracing::info!(event = ?e, "backup key gossip");
    updates(e);
}

/// Registers both handlers on the client.
pub fn install(
    client: &Client,
    crypto: SqliteCryptoStore,
    updates: Report<GossipEvent>,
    uploader: Uploader,
) {
    let (c2, u2) = (crypto.clone(), updates.clone());
    client.add_event_handler(move |ev: ToDeviceSecretRequestEvent, client: Client| {
        let (crypto, updates) = (crypto.clone(), updates.clone());
        async move { serve(ev, client, crypto, updates).await }
    });
    client.add_event_handler(
        move |ev: Raw<ToDeviceSecretSendEvent>, info: Option<EncryptionInfo>, client: Client| {
            let (crypto, updates, uploader) = (c2.clone(), u2.clone(), uploader.clone());
            async move {
                if receive(ev, info, client, crypto, updates).await {
                    // With the key this device can join the backup.
                    uploader.kick();
                }
            }
        },
    );
}

async fn serve(
    ev: ToDeviceSecretRequestEvent,
    client: Client,
    crypto: SqliteCryptoStore,
    updates: Report<GossipEvent>,
) {
    let RequestAction::Request(action) = &ev.content.action else {
        return;
    };
    if action.name != SecretName::RecoveryKey {
        return;
    }
    let device_id = ev.content.requesting_device_id.clone();
    let refuse = |reason: &str| GossipEvent::Refused {
        user: ev.sender.to_string(),
        device: device_id.to_string(),
        reason: reason.to_owned(),
    };
    if client.user_id() != Some(&ev.sender) {
        return report(&updates, refuse("not one of our own devices"));
    }
    if client.device_id() == Some(&device_id) {
        return;
    }
    let device = match client.encryption().get_device(&ev.sender, &device_id).await {
        Ok(Some(d)) => d,
        _ => return report(&updates, refuse("unknown device")),
    };
    if !device.is_verified() {
        return report(&updates, refuse("device not verified"));
    }
    let key = match local_key::load(&crypto).await {
        Ok(Some(k)) => BackupKey::new(k),
        Ok(None) => return report(&updates, refuse("this device holds no backup key")),
        Err(e) => return report(&updates, refuse(&e.to_string())),
    };
    let b64 = key.to_base64();
    // Written straight into a wiped buffer: a `serde_json::Value` would
    // hold an unwiped copy of the secret.
    let request_id = serde_json::to_string(&ev.content.request_id).unwrap_or_default();
    let mut body = Zeroizing::new(String::with_capacity(request_id.len() + b64.len() + 32));
    body.push_str("{\"request_id\":");
    body.push_str(&request_id);
    body.push_str(",\"secret\":\"");
    body.push_str(&b64);
    body.push_str("\"}");
    let content: Raw<AnyToDeviceEventContent> = match Raw::from_json_string((*body).clone()) {
        Ok(c) => c,
        Err(e) => return report(&updates, refuse(&e.to_string())),
    };
    match client
        .encryption()
        .encrypt_and_send_raw_to_device(
            vec![&device],
            "m.secret.send",
            content,
            CollectStrategy::AllDevices,
        )
        .await
    {
        Ok(_) => report(
            &updates,
            GossipEvent::Served {
                device: device_id.to_string(),
            },
        ),
        Err(e) => report(&updates, refuse(&format!("cannot send: {e}"))),
    }
}

/// The parts of a decrypted `m.secret.send` we need, including the
/// `secret_name` the SDK adds when it matched one of its requests.
#[derive(Deserialize)]
struct SecretSend {
    content: SecretSendContent,
}

#[derive(Deserialize)]
struct SecretSendContent {
    secret: Zeroizing<String>,
    /// matrix-sdk-crypto serialises its `secret_name` as `name`.
    #[serde(default, rename = "name")]
    secret_name: Option<String>,
}

async fn receive(
    ev: Raw<ToDeviceSecretSendEvent>,
    info: Option<EncryptionInfo>,
    client: Client,
    crypto: SqliteCryptoStore,
    updates: Report<GossipEvent>,
) -> bool {
    let Ok(ev) = ev.deserialize_as_unchecked::<SecretSend>() else {
        return false;
    };
    if ev.content.secret_name.as_deref() != Some(SecretName::RecoveryKey.as_str()) {
        return false;
    }
    let ignore = |reason: &str| GossipEvent::Ignored {
        reason: reason.to_owned(),
    };
    let Some(info) = info else {
        return report_ignored(&updates, ignore("it was not encrypted"));
    };
    let Some(device_id) = info.sender_device.clone() else {
        return report_ignored(&updates, ignore("the sending device is unknown"));
    };
    if client.user_id() != Some(&info.sender) {
        return report_ignored(&updates, ignore("it came from another user"));
    }
    let verified = matches!(
        client.encryption().get_device(&info.sender, &device_id).await,
        Ok(Some(d)) if d.is_verified()
    );
    if !verified {
        return report_ignored(&updates, ignore("the sending device is not verified"));
    }
    let Ok(key) = BackupKey::from_base64(&ev.content.secret) else {
        return report_ignored(&updates, ignore("it is not 32 bytes of base64"));
    };
    match local_key::load(&crypto).await {
        Ok(Some(held)) if held.as_bytes() == key.secret().as_bytes() => {}
        Ok(Some(held)) => {
            // A different key replaces ours only when it opens the server's
            // current backup and ours does not (ours went stale when
            // another device reset the backup).
            use crate::crypto::KeyCheck;
            let current = crate::backup::server::current(&client).await.ok().flatten();
            let fits = |k: &BackupKey| {
                current
                    .as_ref()
                    .and_then(|v| crate::backup::version::key_check(k, v))
                    == Some(KeyCheck::Matches)
            };
            if !fits(&key) || fits(&BackupKey::new(held)) {
                return report_ignored(
                    &updates,
                    ignore("this device already holds a different backup key"),
                );
            }
            if let Err(e) = local_key::save(&crypto, key.secret()).await {
                return report_ignored(&updates, ignore(&e.to_string()));
            }
        }
        Ok(None) => {
            // A key that does not open the server's current backup (the
            // sender's went stale) would only stop uploads later: not kept.
            use crate::crypto::KeyCheck;
            let current = crate::backup::server::current(&client).await.ok().flatten();
            if current
                .as_ref()
                .and_then(|v| crate::backup::version::key_check(&key, v))
                == Some(KeyCheck::Mismatch)
            {
                return report_ignored(
                    &updates,
                    ignore("it does not open the server's current backup"),
                );
            }
            if let Err(e) = local_key::save(&crypto, key.secret()).await {
                return report_ignored(&updates, ignore(&e.to_string()));
            }
        }
        Err(e) => return report_ignored(&updates, ignore(&e.to_string())),
    }
    report(
        &updates,
        GossipEvent::Received {
            device: device_id.to_string(),
        },
    );
    true
}

fn report_ignored(updates: &Report<GossipEvent>, e: GossipEvent) -> bool {
    report(updates, e);
    false
}
