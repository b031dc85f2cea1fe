//! Restore on a fresh device against the real Synapse: alice's history comes
//! back decrypted, and damaged entries in the backup are skipped and counted
//! by reason without costing anything else.
use crate::common;

use crate::common::{backup_status, ok, ok_json};

use std::collections::BTreeMap;

use keepsake::crypto::{BackupKey, EncryptedData};
use matrix_sdk::ruma::api::client::backup::{
    RoomKeyBackup, add_backup_keys, delete_backup_keys_for_session, get_backup_keys_for_room,
};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedRoomId, RoomId};
use serde_json::{Value, json};

/// A fake session id (43 base64 characters, like a real one).
fn fake_id(n: u8) -> String {
    let mut s = format!("FakeSession{n:02}");
    while s.len() < 43 {
        s.push('A');
    }
    s
}

/// Adds damaged entries next to the real ones, one per skip reason.
async fn tamper(acc: &keepsake::matrix::account::Account, version: &str, room: &RoomId) {
    let secret = keepsake::backup::local_key::load(&acc.crypto_store)
        .await
        .unwrap()
        .unwrap();
    let key = BackupKey::new(secret);
    let real = acc
        .client
        .send(get_backup_keys_for_room::v3::Request::new(
            version.to_owned(),
            room.to_owned(),
        ))
        .await
        .unwrap();
    let (_, good) = real.sessions.iter().next().expect("a real session");
    let good: Value = good.deserialize_as_unchecked().unwrap();
    let data = |v: Value| -> Raw<_> { Raw::new(&v).unwrap().cast_unchecked() };
    let mut entries = BTreeMap::new();
    // A real session's data moved under another session id: its MAC uses
    // the original id as HKDF info, so it fails there...
    entries.insert(fake_id(1), data(good.clone()));
    // ...flipped bytes in ciphertext and MAC fail it too, and so does a
    // truncated ciphertext.
    for (n, field) in [(2u8, "ciphertext"), (3, "mac")] {
        let mut v = good.clone();
        let s = v["session_data"][field].as_str().unwrap().to_owned();
        let first = if s.starts_with('A') { "B" } else { "A" };
        let flipped = format!("{first}{}", &s[1..]);
        v["session_data"][field] = json!(flipped);
        entries.insert(fake_id(n), data(v));
    }
    let mut v = good.clone();
    let ct = v["session_data"]["ciphertext"].as_str().unwrap().to_owned();
    // Cut on a 4-character boundary: still base64, so it is the MAC that
    // catches it.
    v["session_data"]["ciphertext"] = json!(&ct[..(ct.len() / 2) & !3]);
    entries.insert(fake_id(4), data(v));
    // Not MSC3270 session data at all.
    entries.insert(
        fake_id(5),
        data(json!({"first_message_index": 0, "forwarded_count": 0, "is_verified": false, "session_data": {"nothing": "here"}})),
    );
    // Correctly encrypted and authenticated, but not a session.
    let not_session = key
        .encrypt_session(&fake_id(6), br#"{"hello":"world"}"#)
        .unwrap();
    entries.insert(
        fake_id(6),
        data(json!({"first_message_index": 0, "forwarded_count": 0, "is_verified": false, "session_data": not_session})),
    );
    // A genuine session, encrypted under its own id, but stored under
    // another id: only keepsake's session-id check catches this one.
    let moved_session = common::synthetic::sessions(room, 1).await.remove(0);
    let plain = serde_json::to_vec(&json!({
        "algorithm": "m.megolm.v1.aes-sha2",
        "sender_key": moved_session.sender_key.to_base64(),
        "sender_claimed_keys": {},
        "forwarding_curve25519_key_chain": [],
        "session_key": moved_session.session_key.to_base64(),
    }))
    .unwrap();
    let enc: EncryptedData = key.encrypt_session(&fake_id(7), &plain).unwrap();
    entries.insert(
        fake_id(7),
        data(json!({"first_message_index": 0, "forwarded_count": 0, "is_verified": false, "session_data": enc})),
    );
    let rooms: BTreeMap<OwnedRoomId, RoomKeyBackup> =
        BTreeMap::from([(room.to_owned(), RoomKeyBackup::new(entries))]);
    acc.client
        .send(add_backup_keys::v3::Request::new(version.to_owned(), rooms))
        .await
        .unwrap();
}

/// Backs up `acc`'s own session in `room` as a backup would hold a key
/// that was forwarded to it: with `untrusted: true` in the plaintext.
async fn upload_untrusted(
    acc: &keepsake::matrix::account::Account,
    key: &BackupKey,
    version: &str,
    room: &RoomId,
) {
    use matrix_sdk_crypto::store::CryptoStore;
    let sessions = acc.crypto_store.get_inbound_group_sessions().await.unwrap();
    let session = sessions
        .iter()
        .find(|s| s.room_id() == room)
        .expect("a3's session in the room");
    let mut plain = serde_json::to_value(session.to_backup().await).unwrap();
    plain["untrusted"] = json!(true);
    let enc = key
        .encrypt_session(session.session_id(), &serde_json::to_vec(&plain).unwrap())
        .unwrap();
    let entry: Raw<_> = Raw::new(&json!({
        "first_message_index": session.first_known_index(),
        "forwarded_count": 1,
        "is_verified": false,
        "session_data": enc,
    }))
    .unwrap()
    .cast_unchecked();
    let entries = BTreeMap::from([(session.session_id().to_owned(), entry)]);
    let rooms = BTreeMap::from([(room.to_owned(), RoomKeyBackup::new(entries))]);
    acc.client
        .send(add_backup_keys::v3::Request::new(version.to_owned(), rooms))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_device_restores_everything_and_skips_damage() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    for (p, u) in [("a1", &alice), ("bob", &bob)] {
        common::login(data, p, &hs, u);
    }
    let (key, version) = common::setup_backup(data, "a1");
    ok(data, "bob", &["sync", "--once"], "");
    let mut rooms = vec![];
    for name in ["One", "Two"] {
        let r = ok_json(
            data,
            "a1",
            &["create-room", name, "--invite", &bob.user_id, "--json"],
            "",
        );
        let room = r["room_id"].as_str().unwrap().to_owned();
        ok(data, "bob", &["join", &room], "");
        for i in 0..3 {
            ok(
                data,
                "a1",
                &["send", &room, &format!("alice {name} {i}")],
                "",
            );
            ok(
                data,
                "bob",
                &["send", &room, &format!("bob {name} {i}")],
                "",
            );
        }
        rooms.push(room);
    }
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    let st = ok_json(data, "a1", &["backup", "status", "--json"], "");
    let real = st["server_count"].as_u64().unwrap();
    assert_eq!(real, 4, "alice's and bob's session in each room: {st}");
    {
        let acc = common::open_account(data, "a1").await;
        let room: OwnedRoomId = rooms[0].clone().try_into().unwrap();
        tamper(&acc, &version, &room).await;
    }

    // a3, a device without the backup key, sends one message; the test
    // backs its session up flagged `untrusted` (as if it had been forwarded)
    // and a1 never syncs again, so no trusted copy exists anywhere.
    common::login(data, "a3", &hs, &alice);
    ok(data, "a3", &["send", &rooms[0], "from a3"], "");
    {
        let a1 = common::open_account(data, "a1").await;
        let secret = keepsake::backup::local_key::load(&a1.crypto_store)
            .await
            .unwrap()
            .unwrap();
        let a3 = common::open_account(data, "a3").await;
        let room: OwnedRoomId = rooms[0].clone().try_into().unwrap();
        upload_untrusted(&a3, &BackupKey::new(secret), &version, &room).await;
    }

    common::login(data, "a2", &hs, &alice);
    let before = ok_json(data, "a2", &["history", &rooms[0], "--json"], "");
    assert!(
        before
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["decrypted"] == false),
        "nothing decrypts before the restore: {before}"
    );
    // Each says why in a documented word and a sentence, never the SDK's
    // enum name.
    const WORDS: [&str; 10] = [
        "missing_key",
        "sent_before_we_joined",
        "verification_violation",
        "unsigned_device",
        "unknown_device",
        "historical_no_backup",
        "withheld_unverified_device",
        "withheld_by_sender",
        "historical_device_unverified",
        "unsupported_encryption",
    ];
    for i in before.as_array().unwrap() {
        let word = i["utd_reason"].as_str().unwrap_or_default();
        assert!(WORDS.contains(&word), "{i}");
        let hint = i["utd_hint"].as_str().unwrap_or_default();
        assert!(
            hint.len() > 20 && !hint.contains("Historical") && !hint.contains("Megolm"),
            "{i}"
        );
    }
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r["version"], version.as_str(), "{r}");
    assert_eq!(r["total"], real + 1 + 7, "{r}");
    assert_eq!(r["imported"], real + 1, "{r}");
    assert_eq!(r["trusted"], real, "{r}");
    assert_eq!(r["untrusted"], 1, "{r}");
    // How long it took, for scripts (a real download takes some ms).
    assert!(r["ms"].as_u64().is_some_and(|ms| ms > 0), "{r}");
    assert_eq!(
        r["skipped"],
        // bad_mac: data moved under another id, flipped ciphertext, flipped
        // MAC, truncated ciphertext; malformed: no session data;
        // not_a_session; moved: caught by the session-id check.
        json!({"bad_mac": 4, "malformed": 1, "not_a_session": 1, "moved": 1}),
        "{r}"
    );
    for (i, room) in rooms.iter().enumerate() {
        let h = ok_json(data, "a2", &["history", room, "--json"], "");
        let items = h.as_array().unwrap();
        assert_eq!(items.len(), if i == 0 { 7 } else { 6 }, "{h}");
        for item in items {
            assert_eq!(item["decrypted"], true, "{item}");
            if item["body"] == "from a3" {
                assert_eq!(item["trust"], "backup_untrusted", "{item}");
                let why = item["trust_reason"].as_str().unwrap_or_default();
                assert!(why.contains("forwarded or imported"), "{item}");
            } else {
                assert_eq!(item["trust"], "backup_trusted", "{item}");
                assert_eq!(item["trust_reason"], Value::Null, "{item}");
            }
        }
    }
    // On demand: a4 only unlocks (it has the key, restores nothing); its
    // history of the second room decrypts from keys fetched one by one.
    common::login(data, "a4", &hs, &alice);
    ok(
        data,
        "a4",
        &["recovery", "unlock", "--stdin"],
        &format!("{key}\n"),
    );
    assert_eq!(backup_status(data, "a4")["local_sessions"], 0);
    let h = ok_json(data, "a4", &["history", &rooms[1], "--json"], "");
    let items = h.as_array().unwrap();
    assert_eq!(items.len(), 6, "{h}");
    for item in items {
        assert_eq!(item["trust"], "backup_trusted", "{item}");
    }
    assert_eq!(
        backup_status(data, "a4")["local_sessions"],
        2,
        "only the two sessions of that room were fetched"
    );

    // The restore uploaded nothing back, and a2 now backs up to this version.
    let st = ok_json(data, "a2", &["backup", "status", "--json"], "");
    assert_eq!(st["version"], version.as_str(), "{st}");
    assert_eq!(st["pending"], 0, "{st}");
    assert_eq!(st["server_count"], real + 1 + 7, "{st}");
}

/// A homeserver that rewrites the sender of an event whose key came back
/// from the backup gets no trusted mark: the key is tied to a device of
/// the event's sender, and the named sender owns no such device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_sender_never_gets_a_trusted_mark() {
    let hs = common::homeserver();
    // bob and eve: ids of the same length, so the server's rewrite keeps
    // every length in the answer.
    let tag = common::unique("").to_lowercase();
    let bob = hs.register_as(&format!("bob{tag}")).await;
    let eve = hs.register_as(&format!("eve{tag}")).await;
    let alice = hs.register("alice").await;
    let proxy = common::proxy::Proxy::start(&hs.url).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    common::login(data, "bob", &hs, &bob);
    let (key, _) = common::setup_backup(data, "a1");
    ok(data, "bob", &["sync", "--once"], "");
    let room = ok_json(
        data,
        "a1",
        &["create-room", "Spoof", "--invite", &bob.user_id, "--json"],
        "",
    )["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "bob", &["join", &room], "");
    ok(data, "a1", &["send", &room, "from alice"], "");
    ok(data, "bob", &["send", &room, "from bob"], "");
    ok(data, "a1", &["sync", "--once"], "");
    ok(data, "a1", &["backup", "upload", "--wait"], "");

    // Every answer the new device reads says eve where it said bob.
    proxy.always(
        "GET",
        "/_matrix/client/",
        common::proxy::Fault::Rewrite(
            bob.user_id.clone().into_bytes(),
            eve.user_id.clone().into_bytes(),
        ),
    );
    common::login_via(data, "a2", &proxy.url, &alice);
    ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    let items = ok_json(data, "a2", &["history", &room, "--json"], "");
    let items = items.as_array().unwrap();
    let spoofed = items
        .iter()
        .find(|i| i["body"] == "from bob")
        .unwrap_or_else(|| panic!("bob's message: {items:?}"));
    assert_eq!(spoofed["sender"], eve.user_id.as_str(), "{spoofed}");
    assert_ne!(spoofed["trust"], "backup_trusted", "{spoofed}");
    assert_ne!(spoofed["trust"], "verified", "{spoofed}");
    assert_eq!(spoofed["sender_device"], "unknown", "{spoofed}");
    // Alice's own message, not rewritten, keeps its mark.
    let own = items
        .iter()
        .find(|i| i["body"] == "from alice")
        .unwrap_or_else(|| panic!("alice's message: {items:?}"));
    assert!(
        own["trust"] == "backup_trusted" || own["trust"] == "verified",
        "{own}"
    );
}

/// Keys restored from a backup this device does not upload to are not in
/// its backup: they stay pending, so they reach its version should that
/// become the current one again (another device's reset being undone, an
/// Element backup deleted). Before, every restored key was marked backed
/// up whatever version it came from, and so never uploaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_restored_from_another_version_stay_pending_for_ours() {
    let hs = common::homeserver();
    let user = hs.register("mover").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &user);
    let (key, v1) = common::setup_backup(data, "a1");
    // a2 restores (nothing yet) and so uploads to v1.
    common::login(data, "a2", &hs, &user);
    ok(
        data,
        "a2",
        &["backup", "restore", "--stdin"],
        &format!("{key}\n"),
    );
    assert_eq!(backup_status(data, "a2")["version"], v1.as_str());
    // a1 replaces the backup and puts keys a2 never saw into the new one.
    let r = ok_json(
        data,
        "a1",
        &["backup", "reset", "--yes", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    let v2 = r["version"].as_str().unwrap_or_default().to_owned();
    assert!(!v2.is_empty() && v2 != v1, "{r}");
    let room = RoomId::parse("!elsewhere:localhost").unwrap();
    let keys = common::synthetic::sessions(&room, 5).await;
    let file = common::synthetic::key_file(data, "keys.txt", &keys);
    let f = file.to_str().unwrap();
    ok(
        data,
        "a1",
        &["keys", "import", f, "--passphrase-stdin"],
        "pass\n",
    );
    ok(data, "a1", &["backup", "upload"], "");
    assert_eq!(backup_status(data, "a1")["server_count"], 5);

    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(
        (r["version"].as_str(), r["imported"].as_u64()),
        (Some(v2.as_str()), Some(5)),
        "{r}"
    );
    let st = backup_status(data, "a2");
    assert_eq!(st["version"], v1.as_str(), "{st}");
    assert_eq!(st["pending"], 5, "restored keys counted as in {v1}: {st}");
}

/// A reset on a device that holds only some of the backup's keys: it
/// brings the rest here first, so the new version holds all of them; the
/// old version stays readable with `backup restore --version`, its key kept
/// in secret storage. Before, the keys this device lacked were stranded in
/// a version nothing could read any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_strands_no_key_and_the_old_version_stays_readable() {
    let hs = common::homeserver();
    let user = hs.register("resetter").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    let room = RoomId::parse("!history:localhost").unwrap();
    let keys = common::synthetic::sessions(&room, 6).await;
    let all = common::synthetic::key_file(data, "all.txt", &keys);
    let some = common::synthetic::key_file(data, "some.txt", &keys[..4]);

    common::login(data, "a1", &hs, &user);
    let (key, v1) = common::setup_backup(data, "a1");
    let f = all.to_str().unwrap();
    ok(
        data,
        "a1",
        &["keys", "import", f, "--passphrase-stdin"],
        "pass\n",
    );
    ok(data, "a1", &["backup", "upload"], "");
    assert_eq!(backup_status(data, "a1")["server_count"], 6);

    // a2 holds 4 of the 6 and resets.
    common::login(data, "a2", &hs, &user);
    let f = some.to_str().unwrap();
    ok(
        data,
        "a2",
        &["keys", "import", f, "--passphrase-stdin"],
        "pass\n",
    );
    let r = ok_json(
        data,
        "a2",
        &["backup", "reset", "--yes", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    let v2 = r["version"].as_str().unwrap_or_default().to_owned();
    assert!(!v2.is_empty() && v2 != v1, "{r}");
    let old = &r["replaced"];
    assert_eq!(old["version"], v1.as_str(), "{r}");
    assert_eq!(
        (
            old["restored"]["imported"].as_u64(),
            old["restored"]["already_held"].as_u64()
        ),
        (Some(2), Some(4)),
        "{r}"
    );
    ok(data, "a2", &["backup", "upload", "--wait"], "");
    let st = backup_status(data, "a2");
    assert_eq!(
        (st["server_version"].as_str(), st["server_count"].as_u64()),
        (Some(v2.as_str()), Some(6)),
        "{st}"
    );

    // A fresh device reads both: the new version, and the old one by name.
    common::login(data, "a3", &hs, &user);
    let r = ok_json(
        data,
        "a3",
        &["backup", "restore", "--version", &v1, "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(
        (r["version"].as_str(), r["imported"].as_u64()),
        (Some(v1.as_str()), Some(6)),
        "{r}"
    );
    // The old version is not the one a3 uploads to.
    assert_eq!(backup_status(data, "a3")["version"], Value::Null);
    let r = ok_json(
        data,
        "a3",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(
        (r["version"].as_str(), r["already_held"].as_u64()),
        (Some(v2.as_str()), Some(6)),
        "{r}"
    );
}

/// MSC3270 binds a key to its session id, not its room: a server can file
/// a copy of room C's session under other rooms. The copy never costs
/// room C its history: a session offered under two rooms is kept where the
/// device sees it used, and the other offers are reported as conflicts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_filed_under_other_rooms_never_costs_its_own_room() {
    let hs = common::homeserver();
    let alice = hs.register("rooms").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, version) = common::setup_backup(data, "a1");
    let room = |name: &str| {
        ok_json(data, "a1", &["create-room", name, "--json"], "")["room_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (c, b) = (room("Cee"), room("Bee"));
    ok(data, "a1", &["send", &c, "the real message"], "");
    ok(data, "a1", &["send", &b, "another room"], "");
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    {
        let acc = common::open_account(data, "a1").await;
        let c_id = RoomId::parse(&c).unwrap();
        let real = acc
            .client
            .send(get_backup_keys_for_room::v3::Request::new(
                version.clone(),
                c_id.clone(),
            ))
            .await
            .unwrap();
        let (sid, entry) = real.sessions.into_iter().next().expect("C's session");
        // Copies before and after C in any order, and under B.
        let mut rooms: BTreeMap<OwnedRoomId, RoomKeyBackup> = BTreeMap::new();
        for r in ["!0000000000:localhost", "!zzzzzzzzzz:localhost", b.as_str()] {
            rooms.insert(
                RoomId::parse(r).unwrap(),
                RoomKeyBackup::new(BTreeMap::from([(sid.clone(), entry.clone())])),
            );
        }
        acc.client
            .send(add_backup_keys::v3::Request::new(version.clone(), rooms))
            .await
            .unwrap();
    }

    common::login(data, "a2", &hs, &alice);
    // The device has seen the rooms (and which session C's message uses).
    ok(data, "a2", &["sync", "--once"], "");
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r["room_conflicts"], 3, "{r}");
    let h = ok_json(data, "a2", &["history", &c, "--json"], "");
    let item = h
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["body"] == "the real message")
        .unwrap_or_else(|| panic!("room C lost its message: {h}"));
    assert_eq!(item["trust"], "backup_trusted", "{item}");
}

/// The room a2's store files `sid` under, looked up as room `c`'s session.
async fn held_under(data: &std::path::Path, c: &RoomId, sid: &str) -> OwnedRoomId {
    use matrix_sdk_crypto::store::CryptoStore;
    let acc = common::open_account(data, "a2").await;
    acc.crypto_store
        .get_inbound_group_session(c, sid)
        .await
        .unwrap()
        .expect("the session is still held under its room")
        .room_id()
        .to_owned()
}

/// The crypto store files a session under one room and replaces a row by
/// session id alone: a copy of a held session offered under another room
/// (here only there, and no event of this device shows it used) must not
/// replace the held one, which stays filed and readable where it
/// came from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_session_is_never_replaced_by_a_copy_under_another_room() {
    use matrix_sdk::config::SyncSettings;
    use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
    use std::time::Duration;
    const PASS: &str = "correct horse battery staple";
    let hs = common::homeserver();
    let alice = hs.register("held").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, version) = common::setup_backup(data, "a1");
    let c = ok_json(data, "a1", &["create-room", "Cee", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "a1", &["send", &c, "the real message"], "");
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    let file = data.join("keys.txt");
    let f = file.to_str().unwrap();
    ok(
        data,
        "a1",
        &["keys", "export", f, "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    let c_id = RoomId::parse(&c).unwrap();
    let sid = {
        let acc = common::open_account(data, "a1").await;
        let real = acc
            .client
            .send(get_backup_keys_for_room::v3::Request::new(
                version.clone(),
                c_id.clone(),
            ))
            .await
            .unwrap();
        let (sid, entry) = real.sessions.into_iter().next().expect("C's session");
        let rooms = BTreeMap::from([(
            RoomId::parse("!0000000000:localhost").unwrap(),
            RoomKeyBackup::new(BTreeMap::from([(sid.clone(), entry)])),
        )]);
        acc.client
            .send(add_backup_keys::v3::Request::new(version.clone(), rooms))
            .await
            .unwrap();
        // And the server no longer offers it under C at all.
        acc.client
            .send(delete_backup_keys_for_session::v3::Request::new(
                version.clone(),
                c_id.clone(),
                sid.clone(),
            ))
            .await
            .unwrap();
        // Newer messages in a new session fill the first sync's timeline,
        // so no event a new device sees at first shows where it is used.
        acc.client
            .sync_once(SyncSettings::default().timeout(Duration::ZERO))
            .await
            .unwrap();
        let room = acc.client.get_room(&c_id).expect("room C");
        room.discard_room_key().await.unwrap();
        for i in 0..15 {
            room.send(RoomMessageEventContent::text_plain(format!("later {i}")))
                .await
                .unwrap();
        }
        sid
    };

    // A second device holds C's session (from the key file) and has seen
    // no event yet.
    common::login(data, "a2", &hs, &alice);
    ok(
        data,
        "a2",
        &["keys", "import", f, "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r["room_conflicts"], 1, "{r}");
    assert_eq!(r["imported"], 0, "{r}");
    assert_eq!(
        held_under(data, &c_id, &sid).await,
        c_id,
        "the held session was replaced"
    );
    // The same from a key file that files the session under another room.
    let mut keys = matrix_sdk_crypto::decrypt_room_key_export(
        std::io::Cursor::new(std::fs::read(&file).unwrap()),
        PASS,
    )
    .unwrap();
    for k in &mut keys {
        k.room_id = RoomId::parse("!0000000000:localhost").unwrap();
    }
    let moved = data.join("moved.txt");
    std::fs::write(
        &moved,
        matrix_sdk_crypto::encrypt_room_key_export(&keys, PASS, 1000).unwrap(),
    )
    .unwrap();
    let r = ok_json(
        data,
        "a2",
        &[
            "keys",
            "import",
            moved.to_str().unwrap(),
            "--passphrase-stdin",
            "--json",
        ],
        &format!("{PASS}\n"),
    );
    assert_eq!(r["room_conflicts"], 1, "{r}");
    assert_eq!(
        held_under(data, &c_id, &sid).await,
        c_id,
        "the key file replaced the session"
    );
    ok(data, "a2", &["sync", "--once"], "");
    let h = ok_json(data, "a2", &["history", &c, "--json"], "");
    assert!(
        h.as_array()
            .unwrap()
            .iter()
            .any(|i| i["body"] == "the real message"),
        "room C lost its message: {h}"
    );
}

/// The index of held sessions (which keeps a backup copy from replacing a
/// session the store holds) learns of every session the SDK writes as it is
/// written, without counting the store: a key that arrives after the index
/// is built is known at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_held_index_follows_what_the_sdk_writes() {
    use keepsake::backup::held::{HeldSessions, Place};
    let hs = common::homeserver();
    let alice = hs.register("held").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a", &hs, &alice);
    let acc = common::open_account(data, "a").await;
    let held = HeldSessions::default();
    held.watch(&acc.base).await;
    held.sync(&acc.crypto_store).await.unwrap();
    let room: OwnedRoomId = "!live:localhost".try_into().unwrap();
    let keys = common::synthetic::sessions(&room, 3).await;
    let ids: Vec<String> = keys.iter().map(|k| k.session_id.clone()).collect();
    for id in &ids {
        assert_eq!(held.place(&room, id), Place::New);
    }
    // Written by the SDK (as a received or forwarded key is).
    {
        let machine = acc.base.olm_machine().await;
        machine
            .as_ref()
            .unwrap()
            .store()
            .import_room_keys(keys, None, |_, _| {})
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ids.iter().any(|id| held.place(&room, id) != Place::Here) {
        assert!(
            std::time::Instant::now() < deadline,
            "the index never learnt of the sessions the SDK wrote"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
