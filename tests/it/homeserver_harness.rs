//! Proves the test harness against the real Synapse: two users, matrix-sdk
//! login, sync, an encrypted room, a message sent by one and decrypted by the
//! other.
use crate::common;

use std::time::Duration;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::OwnedUserId;
use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoomRequest;
use matrix_sdk::ruma::events::AnySyncMessageLikeEvent;
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use matrix_sdk::{Client, Room};

async fn client_for(
    hs: &common::Homeserver,
    user: &common::TestUser,
    dir: &std::path::Path,
) -> Client {
    let client = Client::builder()
        .homeserver_url(&hs.url)
        .sqlite_store(dir, Some("test store passphrase"))
        .build()
        .await
        .expect("client");
    client
        .matrix_auth()
        .login_username(&user.localpart, &user.password)
        .initial_device_display_name("keepsake harness test")
        .await
        .expect("login");
    client
        .sync_once(SyncSettings::default().timeout(Duration::ZERO))
        .await
        .expect("first sync");
    client
}

async fn sync(client: &Client) {
    client
        .sync_once(SyncSettings::default().timeout(Duration::ZERO))
        .await
        .expect("sync");
}

/// Texts of the room's last messages, decrypted where possible, with whether
/// each one came encrypted.
async fn texts(room: &Room) -> Vec<(String, bool)> {
    let messages = room
        .messages(MessagesOptions::backward())
        .await
        .expect("messages");
    let mut out = vec![];
    for ev in messages.chunk {
        let encrypted = ev.encryption_info().is_some();
        if let Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(m))) =
            ev.raw().deserialize()
            && let Some(orig) = m.as_original()
        {
            out.push((orig.content.body().to_owned(), encrypted));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_sync_encrypted_room_round_trip() {
    let hs = common::homeserver();
    let alice_user = hs.register("alice").await;
    let bob_user = hs.register("bob").await;
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = client_for(&hs, &alice_user, dirs.0.path()).await;
    let bob = client_for(&hs, &bob_user, dirs.1.path()).await;
    assert_eq!(alice.user_id().unwrap().as_str(), alice_user.user_id);

    let bob_id: OwnedUserId = bob_user.user_id.parse().unwrap();
    let mut req = CreateRoomRequest::new();
    req.invite = vec![bob_id];
    let room = alice.create_room(req).await.expect("create room");
    room.enable_encryption().await.expect("enable encryption");
    let room_id = room.room_id().to_owned();

    sync(&bob).await;
    bob.join_room_by_id(&room_id).await.expect("bob joins");
    sync(&alice).await;
    assert!(room.latest_encryption_state().await.unwrap().is_encrypted());

    let text = format!("hello from the harness {}", common::unique("msg"));
    room.send(RoomMessageEventContent::text_plain(&text))
        .await
        .expect("send");

    // Alice reads her own message back, decrypted by her own session.
    let mine = texts(&room).await;
    assert!(mine.contains(&(text.clone(), true)), "alice sees {mine:?}");

    // Bob receives the room key over to-device and decrypts the same message.
    sync(&bob).await;
    let bob_room = bob.get_room(&room_id).expect("bob has the room");
    let theirs = texts(&bob_room).await;
    assert!(theirs.contains(&(text, true)), "bob sees {theirs:?}");
}
