//! The symmetric backup against the real Synapse: every session alice has
//! (her own outbound ones and those bob shares with her) is on the server,
//! and each decrypts with the key through keepsake's crypto module into the
//! very session key alice's store holds.
use crate::common;

use crate::common::{backup_status as status, ok, ok_json};

use std::collections::BTreeSet;

use keepsake::crypto::{BackupKey, EncryptedData};
use matrix_sdk::ruma::api::client::backup::get_backup_keys;
use matrix_sdk_crypto::store::CryptoStore;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_session_is_backed_up_and_decrypts_to_the_stored_key() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "alice", &hs, &alice);
    common::login(data, "bob", &hs, &bob);
    // Secret storage and the backup in one step; the key is asked once.
    let setup = ok_json(data, "alice", &["recovery", "setup", "--json"], "");
    let key = setup["recovery_key"].as_str().unwrap().to_owned();
    let created = &setup["backup"];
    assert_eq!(created["created"], true, "{setup}");
    let version = created["version"].as_str().unwrap().to_owned();
    assert_eq!(created["algorithm"], "org.matrix.msc3270.v1.aes-hmac-sha2");
    let st = status(data, "alice");
    assert_eq!(st["version"], version.as_str(), "{st}");
    assert_eq!(st["key_present"], true, "{st}");
    assert_eq!(st["key_matches"], true, "{st}");
    assert_eq!(st["local_sessions"], 0, "{st}");
    ok(data, "bob", &["sync", "--once"], "");

    let mut rooms = vec![];
    for name in ["One", "Two"] {
        let r = ok_json(
            data,
            "alice",
            &["create-room", name, "--invite", &bob.user_id, "--json"],
            "",
        );
        let room = r["room_id"].as_str().unwrap().to_owned();
        ok(data, "bob", &["join", &room], "");
        rooms.push(room);
    }

    // alice's first message creates her outbound session; it is in the
    // backup before she sends anything else.
    ok(data, "alice", &["send", &rooms[0], "first from alice"], "");
    let st = status(data, "alice");
    assert_eq!(st["local_sessions"], 1, "{st}");
    assert_eq!(st["pending"], 0, "{st}");
    assert_eq!(st["server_count"], 1, "{st}");
    assert!(st["last_upload"].is_u64(), "{st}");
    assert_eq!(st["last_error"], Value::Null, "{st}");

    ok(data, "alice", &["send", &rooms[1], "hello two"], "");
    for room in &rooms {
        ok(data, "bob", &["send", room, "bob answers"], "");
    }
    // alice receives bob's sessions on her next sync and uploads them.
    let up = ok_json(data, "alice", &["backup", "upload", "--wait", "--json"], "");
    assert_eq!(up["pending"], 0, "{up}");
    let st = status(data, "alice");
    assert_eq!(st["local_sessions"], 4, "{st}");
    assert_eq!(st["server_count"], st["local_sessions"], "{st}");
    assert_eq!(st["backed_up"], 4, "{st}");
    assert_eq!(st["health"], "healthy", "{st}");
    assert_eq!(st["advice"], "Nothing to do.", "{st}");

    // A new device of alice's: the backup is there, its key is not.
    common::login(data, "alice2", &hs, &alice);
    let st = status(data, "alice2");
    assert_eq!(st["health"], "no_key", "{st}");
    assert!(
        st["advice"].as_str().unwrap().contains("recovery unlock"),
        "{st}"
    );
    ok(
        data,
        "alice2",
        &["recovery", "unlock", "--stdin"],
        &format!("{key}\n"),
    );
    ok(data, "alice2", &["backup", "upload", "--wait"], "");
    assert_eq!(status(data, "alice2")["health"], "healthy");

    // The sessions that decrypt alice's history are exactly those backed up.
    let mut history_sessions = BTreeSet::new();
    for room in &rooms {
        let h = ok_json(data, "alice", &["history", room, "--json"], "");
        for item in h.as_array().unwrap() {
            assert_eq!(item["decrypted"], true, "{item}");
            history_sessions.insert(item["session_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(history_sessions.len(), 4);

    let acc = common::open_account(data, "alice").await;
    let secret = keepsake::backup::local_key::load(&acc.crypto_store)
        .await
        .unwrap()
        .expect("alice holds the backup key");
    let backup_key = BackupKey::new(secret);
    let keys = acc
        .client
        .send(get_backup_keys::v3::Request::new(version.clone()))
        .await
        .expect("download the backup");
    let mut seen = BTreeSet::new();
    for (room_id, room) in keys.rooms {
        for (session_id, raw) in room.sessions {
            let v: Value = raw.deserialize_as_unchecked().unwrap();
            assert!(
                v["is_verified"].is_boolean() && v["forwarded_count"] == 0,
                "{v}"
            );
            let enc: EncryptedData = serde_json::from_value(v["session_data"].clone()).unwrap();
            let session = backup_key
                .decrypt_session_data(&session_id, &enc)
                .expect("decrypts and belongs to its session id");
            let stored = acc
                .crypto_store
                .get_inbound_group_session(&room_id, &session_id)
                .await
                .unwrap()
                .expect("in alice's store");
            let exported = stored.export().await;
            assert_eq!(
                session.session_key.expose(),
                exported.session_key.to_base64().as_str(),
                "session {session_id}"
            );
            assert_eq!(v["first_message_index"], stored.first_known_index());
            seen.insert(session_id);
        }
    }
    assert_eq!(seen, history_sessions);

    // The version's auth_data carries the key check and a signature by
    // alice's cross-signing master key over its canonical JSON.
    let info = acc
        .client
        .send(matrix_sdk::ruma::api::client::backup::get_backup_info::v3::Request::new(version))
        .await
        .unwrap();
    let algo: matrix_sdk::ruma::api::client::backup::BackupAlgorithm =
        info.algorithm.deserialize().unwrap();
    let auth = serde_json::Value::Object(algo.auth_data().into_owned());
    assert!(auth["iv"].is_string() && auth["mac"].is_string(), "{auth}");
    let me = acc.client.user_id().unwrap().to_owned();
    let identity = acc
        .client
        .encryption()
        .get_user_identity(&me)
        .await
        .unwrap()
        .expect("alice's identity");
    let master = identity.master_key().get_first_key().unwrap();
    let sig = auth["signatures"][me.as_str()][format!("ed25519:{}", master.to_base64())]
        .as_str()
        .unwrap_or_else(|| panic!("no master-key signature: {auth}"));
    let mut unsigned = auth.as_object().unwrap().clone();
    unsigned.remove("signatures");
    let canonical = matrix_sdk::ruma::CanonicalJsonValue::try_from(Value::Object(unsigned))
        .unwrap()
        .to_string();
    let sig = matrix_sdk_crypto::vodozemac::Ed25519Signature::from_base64(sig).unwrap();
    master
        .verify(canonical.as_bytes(), &sig)
        .expect("the signature verifies");
}

/// Sessions not yet backed up, read from the store in this process: a
/// `keepsake backup status` would upload while it runs.
async fn pending(data: &std::path::Path, profile: &str) -> usize {
    let acc = common::open_account(data, profile).await;
    let c = acc
        .crypto_store
        .inbound_group_session_counts(None)
        .await
        .unwrap();
    c.total - c.backed_up
}

/// kill -9 at ten random points while 10,000 new sessions are uploaded:
/// after a restart and `backup upload --wait`, the server holds exactly the
/// sessions the device holds (their ids, not a count).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_killed_at_ten_random_points_lose_no_session() {
    const N: usize = 10_000;
    let hs = common::homeserver();
    let user = hs.register("killed").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &user);
    let (_, version) = common::setup_backup(data, "a1");
    {
        // Straight into the store (no keepsake process runs), so all of
        // them are pending when the killed runs start.
        let acc = common::open_account(data, "a1").await;
        let room = matrix_sdk::ruma::RoomId::parse("!many:localhost").unwrap();
        common::synthetic::import(&acc.client, data, &room, N).await;
    }
    assert_eq!(pending(data, "a1").await, N);

    // A small xorshift, its seed printed so a failure can be replayed.
    let mut seed: u64 = std::env::var("KEEPSAKE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("KEEPSAKE_KILL_SEED={seed}");
    let mut pending_at_kill = vec![];
    // Where the upload starts depends on the machine's load (other tests
    // run beside this one): a kill that came before anything went up moves
    // the window later, so the ten kills land during the upload.
    let mut base = 200;
    for _ in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = std::time::Duration::from_millis(base + seed % 1000);
        let mut child = common::command(data, Some("a1"), &["backup", "upload", "--wait"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(after);
        // SIGKILL: no shutdown, no flush, mid-request or mid-write.
        child.kill().unwrap();
        child.wait().unwrap();
        let p = pending(data, "a1").await;
        if p == N {
            base += 500;
        }
        pending_at_kill.push(p);
    }
    println!("pending after each kill: {pending_at_kill:?}");
    assert!(
        pending_at_kill.iter().any(|&p| p > 0 && p < N),
        "no kill landed during the upload: {pending_at_kill:?}"
    );

    ok(data, "a1", &["backup", "upload", "--wait"], "");
    let acc = common::open_account(data, "a1").await;
    let local: BTreeSet<String> = acc
        .crypto_store
        .get_inbound_group_sessions()
        .await
        .unwrap()
        .iter()
        .map(|s| s.session_id().to_owned())
        .collect();
    let keys = acc
        .client
        .send(get_backup_keys::v3::Request::new(version))
        .await
        .expect("download the backup");
    let on_server: BTreeSet<String> = keys
        .rooms
        .into_values()
        .flat_map(|r| r.sessions.into_keys())
        .collect();
    assert_eq!(local.len(), N, "the synthetic sessions, none lost");
    assert!(
        local == on_server,
        "{} local, {} on the server",
        local.len(),
        on_server.len()
    );
}

/// `backup inspect`: per room, what this device holds, what the backup
/// holds, what was restored and how it is trusted, and what the backup
/// could fix; and the server's versions with whether our key opens them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_shows_rooms_and_versions_as_they_are() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, v1) = common::setup_backup(data, "a1");
    let room = ok_json(data, "a1", &["create-room", "Inspected", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "a1", &["send", &room, "one"], "");
    ok(data, "a1", &["send", &room, "two"], "");
    ok(data, "a1", &["backup", "upload", "--wait"], "");

    let find = |i: &Value| -> Value {
        i["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["room_id"] == room.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("the room is listed: {i}"))
    };
    let i = ok_json(data, "a1", &["backup", "inspect", "--json"], "");
    let r = find(&i);
    assert_eq!(
        (&r["name"], &r["held"], &r["in_backup"], &r["fixable"]),
        (&json!("Inspected"), &json!(1), &json!(1), &json!(0)),
        "{i}"
    );
    assert_eq!(i["versions"][0]["version"], v1.as_str(), "{i}");
    assert_eq!(i["versions"][0]["current"], true, "{i}");
    assert_eq!(i["versions"][0]["opens"], true, "{i}");

    // A new device before its restore: nothing held, two messages the
    // backup can fix; after it, the key is held and counted as trusted.
    common::login(data, "a2", &hs, &alice);
    ok(data, "a2", &["sync", "--once"], "");
    let r = find(&ok_json(data, "a2", &["backup", "inspect", "--json"], ""));
    assert_eq!((&r["held"], &r["in_backup"]), (&json!(0), &json!(1)), "{r}");
    assert_eq!(r["fixable"], 2, "{r}");
    ok(
        data,
        "a2",
        &["backup", "restore", "--stdin"],
        &format!("{key}\n"),
    );
    let r = find(&ok_json(data, "a2", &["backup", "inspect", "--json"], ""));
    assert_eq!(
        (&r["held"], &r["restored_trusted"], &r["restored_untrusted"]),
        (&json!(1), &json!(1), &json!(0)),
        "{r}"
    );

    // After a reset the old version is still listed; our key no longer
    // opens it.
    ok(
        data,
        "a1",
        &["backup", "reset", "--yes", "--stdin"],
        &format!("{key}\n"),
    );
    let i = ok_json(data, "a1", &["backup", "inspect", "--json"], "");
    let versions = i["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{i}");
    assert_eq!(versions[0]["opens"], true, "{i}");
    assert_eq!(versions[1]["version"], v1.as_str(), "{i}");
    assert_eq!(versions[1]["current"], false, "{i}");
    assert_eq!(versions[1]["opens"], false, "{i}");
    let text = ok(data, "a1", &["backup", "inspect"], "");
    assert!(text.contains("Inspected"), "{text}");
    assert!(text.contains("(current)"), "{text}");
}

/// A backup made under MSC3270's proposed name (keepsake's default before)
/// keeps working after the default changed; `backup reset` says it switches
/// names and makes the new version under the readable unstable one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_the_proposed_name_keeps_working_and_reset_switches() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let config = data.join("config.toml");
    std::fs::write(
        &config,
        "secrets = \"file\"\nbackup_algorithm = \"m.megolm_backup.v1.aes-hmac-sha2\"\n",
    )
    .unwrap();
    common::login(data, "a1", &hs, &alice);
    let (key, old) = common::setup_backup(data, "a1");
    assert_eq!(
        status(data, "a1")["server_algorithm"],
        "m.megolm_backup.v1.aes-hmac-sha2"
    );
    // The default again: the old backup is still read and written.
    common::use_file_secrets(data);
    let room = ok_json(data, "a1", &["create-room", "Old name", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "a1", &["send", &room, "still backed up"], "");
    let st = status(data, "a1");
    assert_eq!(st["health"], "healthy", "{st}");
    assert_eq!(st["version"], old.as_str(), "{st}");
    assert_eq!(st["server_count"], 1, "{st}");
    common::login(data, "a2", &hs, &alice);
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r["imported"], 1, "{r}");

    let r = common::keepsake(
        data,
        Some("a1"),
        &["backup", "reset", "--yes", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "The current version is m.megolm_backup.v1.aes-hmac-sha2; the new one is org.matrix.msc3270.v1.aes-hmac-sha2"
        ),
        "{}",
        r.stderr
    );
    // a2, the account's other device, runs keepsake: it reads the backup.
    assert!(
        r.stderr.contains("run keepsake and read the new backup"),
        "{}",
        r.stderr
    );
    let st = status(data, "a1");
    assert_eq!(
        st["server_algorithm"], "org.matrix.msc3270.v1.aes-hmac-sha2",
        "{st}"
    );
    assert_ne!(st["server_version"], old.as_str(), "{st}");
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    assert_eq!(status(data, "a1")["health"], "healthy");
}
