//! An account whose backup was made by matrix-sdk's own recovery (the
//! standard curve25519 backup Element also makes): keepsake restores it with
//! the recovery key, marking those keys untrusted ("asymmetric backup"),
//! then migrates it into a symmetric backup; a fresh device restores
//! everything from that one, the old keys still untrusted.
use crate::common;

use crate::common::{backup_status, ok, ok_json};

use matrix_sdk::Client;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::api::client::room::create_room;
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;

const MESSAGES: usize = 3;

/// A plain matrix-sdk client (what Element X runs on), logged in and synced.
async fn plain_client(hs: &common::Homeserver, user: &common::TestUser) -> Client {
    let client = Client::builder()
        .homeserver_url(&hs.url)
        .build()
        .await
        .unwrap();
    client
        .matrix_auth()
        .login_username(&user.localpart, &user.password)
        .send()
        .await
        .unwrap();
    client.sync_once(SyncSettings::default()).await.unwrap();
    client
}

/// Carol's first device is plain matrix-sdk: an encrypted room, a few
/// messages, and `recovery().enable()`. Returns the room and recovery key.
async fn element_like_account(
    hs: &common::Homeserver,
    carol: &common::TestUser,
) -> (String, String) {
    let client = plain_client(hs, carol).await;
    let mut req = create_room::v3::Request::new();
    req.initial_state = vec![
        InitialStateEvent::with_empty_state_key(
            RoomEncryptionEventContent::with_recommended_defaults(),
        )
        .to_raw_any(),
    ];
    let room = client.create_room(req).await.unwrap();
    for i in 0..MESSAGES {
        room.send(RoomMessageEventContent::text_plain(format!("old {i}")))
            .await
            .unwrap();
    }
    // As Element does: cross-signing first (Synapse lets the first upload
    // through without a password), then recovery stores it too.
    client
        .encryption()
        .bootstrap_cross_signing(None)
        .await
        .unwrap();
    let key = client
        .encryption()
        .recovery()
        .enable()
        .wait_for_backups_to_upload()
        .await
        .unwrap();
    (room.room_id().to_string(), key)
}

fn trust_of(data: &std::path::Path, profile: &str, room: &str) -> Vec<(String, String)> {
    let h = ok_json(data, profile, &["history", room, "--json"], "");
    let items = h.as_array().unwrap();
    assert_eq!(items.len(), MESSAGES, "{h}");
    items
        .iter()
        .map(|i| {
            (
                i["trust"].as_str().unwrap_or("?").to_owned(),
                i["trust_reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curve25519_backup_is_restored_then_migrated() {
    let hs = common::homeserver();
    let carol = hs.register("carol").await;
    let (room, key) = element_like_account(&hs, &carol).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);

    common::login(data, "c2", &hs, &carol);
    let st = backup_status(data, "c2");
    assert_eq!(
        st["server_algorithm"], "m.megolm_backup.v1.curve25519-aes-sha2",
        "{st}"
    );
    let old_version = st["server_version"].as_str().unwrap().to_owned();
    // Another client's backup is the current one: keepsake says so, and
    // that nothing it receives is backed up until the user chooses.
    assert_eq!(st["health"], "replaced", "{st}");
    assert!(
        st["summary"].as_str().unwrap().contains(&format!(
            "another client made a curve25519 backup (version {old_version})"
        )),
        "{st}"
    );
    assert!(
        st["advice"].as_str().unwrap().contains("backup migrate"),
        "{st}"
    );
    let r = ok_json(
        data,
        "c2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r["imported"], 1, "one megolm session for the messages: {r}");
    assert_eq!(
        (r["trusted"].as_u64(), r["untrusted"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    for (trust, why) in trust_of(data, "c2", &room) {
        assert_eq!(
            (trust.as_str(), why.as_str()),
            ("backup_untrusted", "asymmetric backup")
        );
    }
    // keepsake never wrote to the curve25519 backup.
    let st = backup_status(data, "c2");
    assert_eq!(st["server_version"], old_version.as_str(), "{st}");
    assert_eq!(st["version"], serde_json::Value::Null, "{st}");
    assert_eq!(st["server_count"], 1, "nothing of ours went into it: {st}");
    assert_eq!(st["health"], "replaced", "{st}");

    let m = ok_json(
        data,
        "c2",
        &["backup", "migrate", "--stdin", "--yes", "--json"],
        &format!("{key}\n"),
    );
    let new_version = m["created"]["version"].as_str().unwrap().to_owned();
    assert_ne!(new_version, old_version, "{m}");
    let st = backup_status(data, "c2");
    assert_eq!(
        st["algorithm"], "org.matrix.msc3270.v1.aes-hmac-sha2",
        "{st}"
    );
    assert_eq!(st["server_version"], new_version.as_str(), "{st}");
    assert_eq!(st["pending"], 0, "{st}");
    assert_eq!(st["server_count"], 1, "{st}");
    assert_eq!(st["health"], "healthy", "taken over: {st}");

    // A fresh device, the same recovery key: the symmetric backup now.
    common::login(data, "c3", &hs, &carol);
    let r = ok_json(
        data,
        "c3",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r["version"], new_version.as_str(), "{r}");
    assert_eq!(
        (r["imported"].as_u64(), r["untrusted"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    for (trust, why) in trust_of(data, "c3", &room) {
        assert_eq!(trust, "backup_untrusted");
        assert!(why.contains("forwarded or imported"), "{why}");
    }
    ok(data, "c3", &["backup", "status"], "");
}

/// keepsake's own backup is current; then another client (here the plain
/// client-server API, as Element would) makes a curve25519 backup the
/// current one, with the key from secret storage. keepsake says `replaced`,
/// uploads nothing into it, and is healthy again after taking it over: the
/// other backup's keys restored (untrusted), then a new symmetric version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_replaced_by_another_client_gets_nothing_until_taken_over() {
    use matrix_sdk::ruma::api::client::backup::{create_backup_version, get_backup_info};
    let hs = common::homeserver();
    let dana = hs.register("dana").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "d1", &hs, &dana);
    let (key, ours) = common::setup_backup(data, "d1");
    let room = ok_json(data, "d1", &["create-room", "Notes", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "d1", &["send", &room, "before"], "");
    assert_eq!(backup_status(data, "d1")["health"], "healthy");

    // The other client's backup, under the key secret storage holds.
    let theirs = {
        let acc = common::open_account(data, "d1").await;
        let secret = keepsake::backup::local_key::load(&acc.crypto_store)
            .await
            .unwrap()
            .unwrap();
        let dk =
            matrix_sdk_crypto::store::types::BackupDecryptionKey::from_bytes(secret.as_bytes());
        let body = serde_json::json!({
            "algorithm": "m.megolm_backup.v1.curve25519-aes-sha2",
            "auth_data": { "public_key": dk.megolm_v1_public_key().to_base64() },
        });
        let raw = matrix_sdk::ruma::serde::Raw::from_json_string(body.to_string()).unwrap();
        acc.client
            .send(create_backup_version::v3::Request::new(raw))
            .await
            .unwrap()
            .version
    };
    assert_ne!(theirs, ours);

    // A new session: it goes nowhere, and keepsake says why.
    {
        let acc = common::open_account(data, "d1").await;
        acc.client
            .sync_once(SyncSettings::default().timeout(std::time::Duration::ZERO))
            .await
            .unwrap();
        let r = acc
            .client
            .get_room(&matrix_sdk::ruma::RoomId::parse(&room).unwrap())
            .unwrap();
        r.discard_room_key().await.unwrap();
    }
    ok(data, "d1", &["send", &room, "after"], "");
    let st = backup_status(data, "d1");
    assert_eq!(st["health"], "replaced", "{st}");
    assert_eq!(st["local_sessions"], 2, "{st}");
    assert_eq!(st["pending"], 1, "the new session waits: {st}");
    assert_eq!(st["server_version"], theirs.as_str(), "{st}");
    assert!(
        st["summary"]
            .as_str()
            .unwrap()
            .contains("another client made a curve25519 backup"),
        "{st}"
    );
    {
        let acc = common::open_account(data, "d1").await;
        let info = acc
            .client
            .send(get_backup_info::v3::Request::new(theirs.clone()))
            .await
            .unwrap();
        assert_eq!(u64::from(info.count), 0, "nothing of ours went into it");
    }

    // Taken over: a new symmetric version with every key, healthy again.
    let m = ok_json(
        data,
        "d1",
        &["backup", "migrate", "--stdin", "--yes", "--json"],
        &format!("{key}\n"),
    );
    let new = m["created"]["version"].as_str().unwrap().to_owned();
    assert_ne!(new, theirs);
    ok(data, "d1", &["backup", "upload", "--wait"], "");
    let st = backup_status(data, "d1");
    assert_eq!(st["health"], "healthy", "{st}");
    assert_eq!(st["server_version"], new.as_str(), "{st}");
    assert_eq!(st["server_count"], 2, "both sessions: {st}");
}

/// matrix-sdk's own `Recovery` (the engine of Element X) as the other
/// client on an account whose current backup is keepsake's. What it does,
/// recorded here: `enable()` refuses (a backup exists); `recover_and_fix_backup`
/// with the recovery key deletes keepsake's version and makes a curve25519
/// one. keepsake's reaction: `replaced`, nothing uploaded there, the advice
/// to take it over, and healthy again after `migrate`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_sdk_recovery_beside_keepsake() {
    let hs = common::homeserver();
    let erin = hs.register("erin").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "e1", &hs, &erin);
    let (key, ours) = common::setup_backup(data, "e1");
    let room = ok_json(data, "e1", &["create-room", "Both", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "e1", &["send", &room, "from keepsake"], "");
    assert_eq!(backup_status(data, "e1")["health"], "healthy");

    // The other client: plain matrix-sdk, the same account.
    let client = plain_client(&hs, &erin).await;
    let enabled = client
        .encryption()
        .recovery()
        .enable()
        .wait_for_backups_to_upload()
        .await;
    let state = client.encryption().backups().state();
    let their_version = client.encryption().backups().fetch_exists_on_server().await;
    eprintln!(
        "matrix-sdk recovery().enable(): {:?}; backups: {state:?}; exists: {their_version:?}",
        enabled.as_ref().map(|_| "a new recovery key")
    );

    // It refuses while a backup exists (keepsake's).
    assert!(
        matches!(
            enabled,
            Err(matrix_sdk::encryption::recovery::RecoveryError::BackupExistsOnServer)
        ),
        "{state:?} {their_version:?}"
    );
    assert_eq!(backup_status(data, "e1")["health"], "healthy");

    // Element X's way out, "fix backup" with the recovery key: it deletes
    // keepsake's version, makes a curve25519 one and writes its key into
    // secret storage.
    let fixed = client
        .encryption()
        .recovery()
        .recover_and_fix_backup(&key)
        .await;
    eprintln!("matrix-sdk recover_and_fix_backup(): {fixed:?}");
    let st = backup_status(data, "e1");
    eprintln!("keepsake after it: {st}");
    assert_eq!(
        st["server_algorithm"], "m.megolm_backup.v1.curve25519-aes-sha2",
        "{st}"
    );
    assert_ne!(st["server_version"], ours.as_str(), "{st}");
    assert_eq!(st["health"], "replaced", "{st}");
    assert!(
        st["advice"].as_str().unwrap().contains("backup migrate"),
        "{st}"
    );
    // keepsake's keys stay here, and none goes into the other backup.
    ok(data, "e1", &["send", &room, "after the other client"], "");
    let st = backup_status(data, "e1");
    assert_eq!(st["health"], "replaced", "{st}");
    assert_eq!(st["local_sessions"], 1, "{st}");
    // Taking it over brings keepsake's keys back into a backup.
    let m = common::keepsake(
        data,
        Some("e1"),
        &["backup", "migrate", "--stdin", "--yes", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(m.code, 0, "{}", m.stderr);
    // The other client's device is named as one that cannot read it.
    let other = client.device_id().unwrap().to_string();
    assert!(
        m.stderr.contains("cannot read a symmetric backup") && m.stderr.contains(&other),
        "{}",
        m.stderr
    );
    ok(data, "e1", &["backup", "upload", "--wait"], "");
    let st = backup_status(data, "e1");
    assert_eq!(st["health"], "healthy", "{st}");
    assert_eq!(st["server_count"], st["local_sessions"], "{st}");
}
