//! The devices of the senders of timeline items, so that a message's key
//! can be tied to a device of the user the event names as its sender.

use std::collections::HashMap;

use matrix_sdk::Client;
use matrix_sdk::deserialized_responses::{AlgorithmInfo, EncryptionInfo};
use matrix_sdk::ruma::{DeviceKeyAlgorithm, OwnedUserId};

use super::history::SenderDevice;

/// One device of a sender: its keys and whether it is verified.
#[derive(Debug, Clone)]
struct KnownDevice {
    curve25519: Option<String>,
    ed25519: Option<String>,
    verified: bool,
}

/// The devices of the senders of timeline items, looked up in the crypto
/// store (and asked of the server once for a sender the store does not
/// know), so that a message's key can be tied to a device of its sender.
#[derive(Debug, Default)]
pub struct Devices {
    by_user: HashMap<String, Vec<KnownDevice>>,
    /// Senders asked of the server already (at most once each).
    asked: std::collections::HashSet<String>,
}

impl Devices {
    /// Looks up the senders of encrypted events among `items` that are not
    /// looked up yet. Errors leave a sender out (its messages are then not
    /// tied to a device, which never raises a mark).
    pub async fn load<'a>(
        &mut self,
        client: &Client,
        items: impl IntoIterator<Item = &'a std::sync::Arc<matrix_sdk_ui::timeline::TimelineItem>>,
    ) {
        let mut senders: Vec<OwnedUserId> = items
            .into_iter()
            .filter_map(|i| i.as_event())
            .filter(|e| e.encryption_info().is_some())
            .map(|e| e.sender().to_owned())
            .filter(|u| !self.by_user.contains_key(u.as_str()))
            .collect();
        senders.sort();
        senders.dedup();
        for user in senders {
            let mut devices = Self::store_devices(client, &user).await;
            if devices.as_ref().is_some_and(Vec::is_empty) && self.asked.insert(user.to_string()) {
                // Never queried (a fresh device, a one-shot process): ask
                // the server once, then read the store again.
                if let Err(e) = client.encryption().request_user_identity(&user).await {
                    tracing::warn!(error = %e, "cannot query the sender's devices");
                }
                devices = Self::store_devices(client, &user).await;
            }
            if let Some(d) = devices {
                self.by_user.insert(user.to_string(), d);
            }
        }
    }

    /// Forgets every sender, so the next `load` reads them again (after a
    /// device's verification changed).
    pub fn clear(&mut self) {
        self.by_user.clear();
    }

    async fn store_devices(client: &Client, user: &OwnedUserId) -> Option<Vec<KnownDevice>> {
        match client.encryption().get_user_devices(user).await {
            Ok(d) => Some(
                d.devices()
                    .map(|d| KnownDevice {
                        curve25519: d.curve25519_key().map(|k| k.to_base64()),
                        ed25519: d.ed25519_key().map(|k| k.to_base64()),
                        verified: d.is_verified(),
                    })
                    .collect(),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the sender's devices");
                None
            }
        }
    }

    /// Ties an event's session to a device of its sender by the session's
    /// curve25519 key (and its claimed ed25519 key, when it has one).
    /// `None` when the sender was not looked up.
    pub fn judge(&self, info: &EncryptionInfo) -> Option<SenderDevice> {
        let AlgorithmInfo::MegolmV1AesSha2 {
            curve25519_key,
            sender_claimed_keys,
            ..
        } = &info.algorithm_info
        else {
            return None;
        };
        let devices = self.by_user.get(info.sender.as_str())?;
        let ed = sender_claimed_keys.get(&DeviceKeyAlgorithm::Ed25519);
        let found = devices.iter().find(|d| {
            d.curve25519.as_deref() == Some(curve25519_key.as_str())
                && ed.is_none_or(|ed| d.ed25519.as_deref() == Some(ed.as_str()))
        });
        Some(match found {
            Some(d) if d.verified => SenderDevice::Verified,
            Some(_) => SenderDevice::Unverified,
            None => SenderDevice::Unknown,
        })
    }
}
