//! The backup key is only ever sent to our own verified devices: a request
//! from another user, or from an unverified device of ours, is refused.
//! alice's first device runs the worker in this process; the requests are
//! raw `m.secret.request` to-device messages, as any client could send.
use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use keepsake::matrix::gossip::GossipEvent;
use keepsake::matrix::protocol::{self as p, Update};
use keepsake::matrix::worker::Worker;
use matrix_sdk::Client;
use matrix_sdk::ruma::api::client::to_device::send_event_to_device;
use matrix_sdk::ruma::events::ToDeviceEventType;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::to_device::DeviceIdOrAllDevices;
use matrix_sdk::ruma::{OwnedDeviceId, OwnedUserId, TransactionId};

async fn request_backup_key(from: &Client, to_user: &OwnedUserId, to_device: &OwnedDeviceId) {
    let content = serde_json::json!({
        "action": "request",
        "name": "m.megolm_backup.v1",
        "requesting_device_id": from.device_id().unwrap(),
        "request_id": TransactionId::new(),
    });
    let raw = Raw::from_json_string(content.to_string()).unwrap();
    let messages = BTreeMap::from([(
        to_user.clone(),
        BTreeMap::from([(DeviceIdOrAllDevices::DeviceId(to_device.clone()), raw)]),
    )]);
    from.send(send_event_to_device::v3::Request::new_raw(
        ToDeviceEventType::SecretRequest,
        TransactionId::new(),
        messages,
    ))
    .await
    .expect("send the request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_key_requests_from_strangers_and_unverified_devices_are_refused() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    for (p, u) in [("a1", &alice), ("a2", &alice), ("bob", &bob)] {
        common::login(data, p, &hs, u);
    }
    common::setup_backup(data, "a1");

    let a1 = common::open_account(data, "a1").await;
    let (a1_user, a1_device) = (
        a1.client.user_id().unwrap().to_owned(),
        a1.client.device_id().unwrap().to_owned(),
    );
    let (worker, mut updates) = Worker::spawn(a1);
    worker.send(p::account::StartSync {
        long_poll: Duration::from_secs(2),
    });

    for (profile, reason) in [
        ("bob", "not one of our own devices"),
        ("a2", "device not verified"),
    ] {
        let other = common::open_account(data, profile).await;
        other
            .client
            .sync_once(Default::default())
            .await
            .expect("sync");
        request_backup_key(&other.client, &a1_user, &a1_device).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let u = tokio::time::timeout_at(deadline, updates.recv())
                .await
                .unwrap_or_else(|_| panic!("no answer to {profile}'s request"))
                .expect("worker running");
            match u {
                Update::Gossip(GossipEvent::Refused {
                    user, reason: why, ..
                }) => {
                    assert_eq!(user, other.client.user_id().unwrap().as_str());
                    assert_eq!(why, reason, "{profile}");
                    break;
                }
                Update::Gossip(g @ GossipEvent::Served { .. }) => {
                    panic!("the key was sent to {profile}: {g:?}")
                }
                _ => {}
            }
        }
    }
}
