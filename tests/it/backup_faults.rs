//! The uploader loses nothing: killed mid-upload, throttled and failed by
//! the server, and overtaken by another device that replaced the backup.
//! Real Synapse; faults come from a proxy on loopback.
use crate::common;

use crate::common::{backup_status as status, ok, ok_json};

use std::time::Duration;

use crate::common::proxy::{Fault, Proxy};
use matrix_sdk::ruma::OwnedRoomId;
use serde_json::Value;

async fn import(data: &std::path::Path, profile: &str, n: usize) {
    import_into(data, profile, "!synthetic:localhost", n).await;
}

async fn import_into(data: &std::path::Path, profile: &str, room: &str, n: usize) {
    let acc = common::open_account(data, profile).await;
    let room: OwnedRoomId = room.try_into().unwrap();
    common::synthetic::import(&acc.client, data, &room, n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_upload_resumes_and_loses_nothing() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "alice", &hs, &alice);
    common::setup_backup(data, "alice");
    import(data, "alice", 3000).await;
    // Counted in this process: a `backup status` run would upload them all
    // while it ran, and no upload below would then be cut off.
    {
        use matrix_sdk_crypto::store::CryptoStore;
        let acc = common::open_account(data, "alice").await;
        let c = acc
            .crypto_store
            .inbound_group_session_counts(None)
            .await
            .unwrap();
        assert_eq!((c.total, c.backed_up), (3000, 0));
    }

    let mut interrupted = 0;
    for delay_ms in [400, 900, 1600, 2500] {
        let mut child = common::command(data, Some("alice"), &["backup", "upload", "--wait"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start an upload");
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            interrupted += 1;
        }
        // SIGKILL: no chance to clean up.
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(interrupted > 0, "no upload was still running when killed");

    let up = ok_json(data, "alice", &["backup", "upload", "--wait", "--json"], "");
    assert_eq!(up["pending"], 0, "{up}");
    let st = status(data, "alice");
    assert_eq!(st["local_sessions"], 3000, "{st}");
    assert_eq!(st["backed_up"], 3000, "{st}");
    assert_eq!(st["server_count"], 3000, "{st}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_failing_and_unreachable_server_loses_nothing() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let proxy = Proxy::start(&hs.url).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login_via(data, "alice", &proxy.url, &alice);
    common::setup_backup(data, "alice");
    import(data, "alice", 1500).await;

    let limited =
        r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":300}"#;
    let failed = r#"{"errcode":"M_UNKNOWN","error":"Internal server error"}"#;
    proxy.inject(
        "PUT",
        "/_matrix/client/v3/room_keys/keys",
        vec![
            Fault::Status(429, limited.into()),
            Fault::Status(500, failed.into()),
            Fault::Drop,
            Fault::Status(429, limited.into()),
            Fault::Status(503, failed.into()),
        ],
    );
    let r = common::keepsake(
        data,
        Some("alice"),
        &["backup", "upload", "--wait", "--json"],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("retrying"),
        "failures are reported: {}",
        r.stderr
    );
    assert_eq!(proxy.served(), 5, "every fault was served");
    let st = status(data, "alice");
    assert_eq!(st["pending"], 0, "{st}");
    assert_eq!(st["server_count"], 1500, "{st}");
    assert_eq!(st["last_error"], Value::Null, "{st}");
}

/// A 401 on upload means this device's session is gone: uploads stop at
/// once (no retry would ever succeed) and the user is told to log in again;
/// nothing is marked backed up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_stops_uploads_at_once_and_says_to_log_in_again() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let proxy = Proxy::start(&hs.url).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login_via(data, "alice", &proxy.url, &alice);
    common::setup_backup(data, "alice");
    import(data, "alice", 50).await;
    let gone = r#"{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed.","soft_logout":false}"#;
    proxy.always(
        "PUT",
        "/_matrix/client/v3/room_keys/keys",
        Fault::Status(401, gone.into()),
    );
    let r = common::keepsake(data, Some("alice"), &["backup", "upload", "--wait"], "");
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("log in again"), "{}", r.stderr);
    // The pass at start and the one `upload` asked for, at most: never
    // retried with backoff as a 5xx would be.
    assert!(proxy.served() <= 2, "a 401 was retried: {}", proxy.served());
    let st = status(data, "alice");
    assert_eq!(st["pending"], 50, "{st}");
}

/// The SDK's default request config retries 429 and 5xx for up to 15
/// minutes, unseen; keepsake's backup calls try a couple of times and say
/// what is wrong. A 429 asking for a year is not honoured either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_backup_server_is_reported_not_retried_for_minutes() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let proxy = Proxy::start(&hs.url).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login_via(data, "alice", &proxy.url, &alice);
    common::setup_backup(data, "alice");
    let failed = r#"{"errcode":"M_UNKNOWN","error":"Internal server error"}"#;
    proxy.always(
        "GET",
        "/_matrix/client/v3/room_keys/version",
        Fault::Status(503, failed.into()),
    );
    let r = common::keepsake(data, Some("alice"), &["backup", "status", "--json"], "");
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(said.contains("503"), "the fault is named: {said}");
    let st: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    assert_eq!(st["health"], "error", "{said}");
    let served = proxy.served();
    // The uploader's pass at start and the status call, each tried at most
    // three times.
    assert!((1..=6).contains(&served), "{served} requests served");

    proxy.clear();
    let year = r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":31536000000}"#;
    proxy.always(
        "GET",
        "/_matrix/client/v3/room_keys/version",
        Fault::Status(429, year.into()),
    );
    let r = common::keepsake(data, Some("alice"), &["backup", "status", "--json"], "");
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(
        said.contains("429") || said.to_lowercase().contains("too many"),
        "the rate limit is named: {said}"
    );

    // No answer at all: offline, and the keys wait.
    proxy.clear();
    proxy.always("GET", "/_matrix/client/v3/room_keys/version", Fault::Drop);
    let r = common::keepsake(data, Some("alice"), &["backup", "status", "--json"], "");
    let st: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    assert_eq!(st["health"], "offline", "{} {}", r.stdout, r.stderr);
    assert!(
        st["advice"]
            .as_str()
            .unwrap_or_default()
            .contains("when the homeserver is back"),
        "{st}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_backup_gets_nothing_more_until_the_user_decides() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    for (p, u) in [("a1", &alice), ("a2", &alice), ("bob", &bob)] {
        common::login(data, p, &hs, u);
    }
    let (key, _) = common::setup_backup(data, "a1");
    let old = status(data, "a1")["version"].as_str().unwrap().to_owned();
    ok(
        data,
        "a2",
        &["recovery", "unlock", "--stdin"],
        &format!("{key}\n"),
    );
    ok(data, "bob", &["sync", "--once"], "");
    let room = ok_json(
        data,
        "a1",
        &["create-room", "R", "--invite", &bob.user_id, "--json"],
        "",
    )["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "a1", &["send", &room, "before the reset"], "");
    assert_eq!(status(data, "a1")["server_count"], 1);

    // a2 replaces the backup (new key, new version).
    let reset = ok_json(
        data,
        "a2",
        &["backup", "reset", "--yes", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    let new = reset["version"].as_str().unwrap().to_owned();
    assert_ne!(new, old);

    // a1 gets a new session (bob writes) and must not upload it anywhere.
    ok(data, "bob", &["join", &room], "");
    ok(data, "bob", &["send", &room, "after the reset"], "");
    let r = common::keepsake(data, Some("a1"), &["backup", "upload", "--wait"], "");
    assert_eq!(r.code, common::exit(keepsake::error::ErrorKind::Conflict));
    assert!(
        r.stderr.contains(&format!(
            "backup version {old} was replaced by version {new}"
        )),
        "{}",
        r.stderr
    );
    let st = status(data, "a1");
    assert_eq!(st["health"], "key_mismatch", "{st}");
    assert_eq!(st["version"], old.as_str(), "{st}");
    assert_eq!(st["server_version"], new.as_str(), "{st}");
    assert_eq!(st["key_matches"], false, "{st}");
    assert!(st["stale"].as_str().unwrap().contains("replaced"), "{st}");
    assert_eq!(st["pending"], 1, "bob's session waits: {st}");
    // Nothing reached the old version after the reset...
    let acc = common::open_account(data, "a1").await;
    let old_keys = acc
        .client
        .send(matrix_sdk::ruma::api::client::backup::get_backup_keys::v3::Request::new(old.clone()))
        .await
        .unwrap();
    let n: usize = old_keys.rooms.values().map(|r| r.sessions.len()).sum();
    assert_eq!(n, 1, "the stale version got nothing new");
    drop(acc);

    // ...and a1's old key cannot adopt the new version.
    let r = common::keepsake(data, Some("a1"), &["backup", "use-current"], "");
    assert_eq!(r.code, common::exit(keepsake::error::ErrorKind::WrongKey));
    assert!(r.stderr.contains("does not match"), "{}", r.stderr);
    // With the new key from secret storage, a1 joins the new backup.
    ok(
        data,
        "a1",
        &["recovery", "unlock", "--stdin"],
        &format!("{key}\n"),
    );
    ok(data, "a1", &["backup", "use-current"], "");
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    let st = status(data, "a1");
    assert_eq!(st["version"], new.as_str(), "{st}");
    assert_eq!(st["stale"], Value::Null, "{st}");
    assert_eq!(st["pending"], 0, "{st}");
    assert_eq!(st["health"], "healthy", "{st}");
    assert_eq!(
        st["server_count"], 2,
        "both of a1's sessions are in the new backup: {st}"
    );

    // The old version can go; without a terminal, only with --yes.
    let r = common::keepsake(data, Some("a1"), &["backup", "delete", &old], "");
    assert_eq!(r.code, common::exit(keepsake::error::ErrorKind::Invalid));
    assert_eq!(
        r.stderr,
        "keepsake: no terminal to confirm on; pass --yes\n"
    );
    ok(data, "a1", &["backup", "delete", &old, "--yes"], "");
    let acc = common::open_account(data, "a1").await;
    let gone = acc
        .client
        .send(matrix_sdk::ruma::api::client::backup::get_backup_info::v3::Request::new(old))
        .await;
    assert!(gone.is_err(), "the old version is deleted");
    drop(acc);
    let st = status(data, "a1");
    assert_eq!(
        st["version"],
        new.as_str(),
        "deleting another version changes nothing here: {st}"
    );
    assert_eq!(st["server_count"], 2, "{st}");
}

/// The server's session ids of `version` and this device's, to compare
/// sets, not counts.
async fn server_and_local_ids(
    data: &std::path::Path,
    profile: &str,
    version: &str,
) -> (
    std::collections::BTreeSet<String>,
    std::collections::BTreeSet<String>,
) {
    use matrix_sdk_crypto::store::CryptoStore;
    let acc = common::open_account(data, profile).await;
    let keys = acc
        .client
        .send(
            matrix_sdk::ruma::api::client::backup::get_backup_keys::v3::Request::new(
                version.to_owned(),
            ),
        )
        .await
        .unwrap();
    let server = keys
        .rooms
        .values()
        .flat_map(|r| r.sessions.keys().cloned())
        .collect();
    let local = acc
        .crypto_store
        .get_inbound_group_sessions()
        .await
        .unwrap()
        .iter()
        .map(|s| s.session_id().to_owned())
        .collect();
    (server, local)
}

/// A reset while uploads to the old version are in flight (their answers
/// held back) waits for them: nothing is marked backed up for the old
/// version after the switch, and the new version ends with every key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_during_an_upload_leaves_no_key_behind() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let proxy = Proxy::start(&hs.url).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login_via(data, "alice", &proxy.url, &alice);
    let (key, old) = common::setup_backup(data, "alice");
    import(data, "alice", 10_000).await;
    proxy.always(
        "PUT",
        "/_matrix/client/v3/room_keys/keys",
        Fault::Delay(Duration::from_millis(700)),
    );
    let reset = ok_json(
        data,
        "alice",
        &["backup", "reset", "--yes", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    let new = reset["version"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(proxy.served() > 0, "no upload was in flight");
    proxy.clear();
    ok(data, "alice", &["backup", "upload", "--wait"], "");
    let st = status(data, "alice");
    assert_eq!(st["version"], new.as_str(), "{st}");
    assert_eq!(st["stale"], Value::Null, "{st}");
    assert_eq!(st["pending"], 0, "{st}");
    assert_eq!(st["server_count"], st["local_sessions"], "{st}");
    let (server, local) = server_and_local_ids(data, "alice", &new).await;
    assert!(local.len() >= 10_000, "{}", local.len());
    assert_eq!(server, local);
}

/// A fresh device of `user` unlocks with `key` and restores: every key of
/// the backup comes back (the secret storage still fits the backup).
fn a_fresh_device_restores(
    data: &std::path::Path,
    profile: &str,
    hs: &common::Homeserver,
    user: &common::TestUser,
    key: &str,
) -> Value {
    common::login(data, profile, hs, user);
    ok_json(
        data,
        profile,
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    )
}

/// A create that fails on the server leaves secret storage holding the key
/// of the version that is still current.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_reset_leaves_the_backup_readable() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let proxy = Proxy::start(&hs.url).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login_via(data, "a1", &proxy.url, &alice);
    let (key, old) = common::setup_backup(data, "a1");
    let room = ok_json(data, "a1", &["create-room", "R", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "a1", &["send", &room, "kept safe"], "");
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    let failed = r#"{"errcode":"M_UNKNOWN","error":"Internal server error"}"#;
    proxy.always(
        "POST",
        "/_matrix/client/v3/room_keys/version",
        Fault::Status(500, failed.into()),
    );
    let r = common::keepsake(
        data,
        Some("a1"),
        &["backup", "reset", "--yes", "--stdin"],
        &format!("{key}\n"),
    );
    assert_ne!(r.code, 0, "{}", r.stdout);
    proxy.clear();
    let st = status(data, "a1");
    assert_eq!(st["version"], old.as_str(), "{st}");
    assert_eq!(st["key_matches"], true, "{st}");
    let restored = a_fresh_device_restores(data, "a2", &hs, &alice, &key);
    assert_eq!(restored["version"], old.as_str(), "{restored}");
    assert_eq!(restored["imported"], 1, "{restored}");
}

/// `recovery reset` on a device without the backup key would make secret
/// storage without it: refused, and the backup stays readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_reset_without_the_backup_key_is_refused() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    common::login(data, "a2", &hs, &alice);
    let key = ok_json(
        data,
        "a1",
        &["recovery", "setup", "--no-backup", "--json"],
        "",
    )["recovery_key"]
        .as_str()
        .unwrap()
        .to_owned();
    // a2 holds the cross-signing keys, then a1 makes the backup.
    ok(
        data,
        "a2",
        &["recovery", "unlock", "--stdin"],
        &format!("{key}\n"),
    );
    ok(
        data,
        "a1",
        &["backup", "create", "--stdin"],
        &format!("{key}\n"),
    );
    let room = ok_json(data, "a1", &["create-room", "R", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "a1", &["send", &room, "kept safe"], "");
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    assert_eq!(status(data, "a2")["key_present"], false);
    let r = common::keepsake(data, Some("a2"), &["recovery", "reset", "--json"], "");
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("does not hold the key of the account's backup"),
        "{}",
        r.stderr
    );
    let restored = a_fresh_device_restores(data, "a3", &hs, &alice, &key);
    assert_eq!(restored["imported"], 1, "{restored}");
}

/// Restore covers every room of the backup, whatever `count` the server
/// gives (a lie, or another device uploading meanwhile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_count_from_the_server_ends_no_restore_early() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let proxy = Proxy::start(&hs.url).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, _) = common::setup_backup(data, "a1");
    import_into(data, "a1", "!lowcount1:localhost", 30).await;
    import_into(data, "a1", "!lowcount2:localhost", 20).await;
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    assert_eq!(status(data, "a1")["server_count"], 50);
    // The server says the backup holds 5 keys.
    proxy.always(
        "GET",
        "/_matrix/client/v3/room_keys/version",
        Fault::Rewrite(b"\"count\":50".to_vec(), b"\"count\": 5".to_vec()),
    );
    common::login_via(data, "a2", &proxy.url, &alice);
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert!(proxy.served() > 0, "the count was not rewritten");
    assert_eq!(r["imported"], 50, "{r}");
    assert_eq!(r["total"], 50, "{r}");
}

/// A download slower than the SDK's 30 s limit for a whole request still
/// completes: backup downloads time out when idle, not in total.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_download_longer_than_30_s_completes() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let proxy = Proxy::start(&hs.url).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, _) = common::setup_backup(data, "a1");
    import_into(data, "a1", "!slowroom:localhost", 12_000).await;
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    // About 9 MB at 250 kB/s.
    proxy.always(
        "GET",
        "/_matrix/client/v3/room_keys/keys",
        Fault::Throttle(250_000),
    );
    common::login_via(data, "a2", &proxy.url, &alice);
    let started = std::time::Instant::now();
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    // The premise: the download outlasted the SDK's 30 s.
    assert!(
        started.elapsed() > Duration::from_secs(30),
        "the download was not slow enough to test anything: {:?}",
        started.elapsed()
    );
    assert_eq!(r["imported"], 12_000, "{r}");
}

/// One room whose entry is unreadable does not stop the restore: the others
/// are restored, the room is named, and the next restore gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unreadable_room_does_not_stop_the_restore() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let proxy = Proxy::start(&hs.url).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, _) = common::setup_backup(data, "a1");
    import_into(data, "a1", "!goodroom1:localhost", 10).await;
    import_into(data, "a1", "!badroom01:localhost", 7).await;
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    proxy.always(
        "GET",
        "/_matrix/client/v3/room_keys/keys",
        Fault::Rewrite(
            b"\"!badroom01:localhost\":{\"sessions\"".to_vec(),
            b"\"!badroom01:localhost\":{\"sessionz\"".to_vec(),
        ),
    );
    common::login_via(data, "a2", &proxy.url, &alice);
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r["imported"], 10, "{r}");
    assert_eq!(
        r["rooms_unreadable"],
        serde_json::json!(["!badroom01:localhost"]),
        "{r}"
    );
    proxy.clear();
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r["imported"], 7, "{r}");
    assert_eq!(r["rooms_already_done"], 1, "{r}");
    assert_eq!(r["rooms_unreadable"], serde_json::json!([]), "{r}");
}

/// A homeserver under a path prefix (behind a reverse proxy) restores like
/// any other, the streamed download included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_homeserver_under_a_path_prefix_restores_and_counts_what_was_taken() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let proxy = Proxy::start_under(&hs.url, "/matrix").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, _) = common::setup_backup(data, "a1");
    import_into(data, "a1", "!prefixed:localhost", 25).await;
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    common::login_via(data, "a2", &proxy.url, &alice);
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r["imported"], 25, "{r}");
}

/// Runs keepsake to the end and returns it with its peak resident memory
/// in MiB (the kernel's own count, from `wait4`).
// The child is reaped by `wait4`, which clippy does not see.
#[allow(clippy::zombie_processes)]
fn run_measured(
    data: &std::path::Path,
    profile: &str,
    args: &[&str],
    stdin: &str,
) -> (common::Run, u64) {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let mut child = common::command(data, Some(profile), args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut e = String::new();
        err.read_to_string(&mut e).unwrap();
        e
    });
    let mut stdout = String::new();
    out.read_to_string(&mut stdout).unwrap();
    let stderr = reader.join().unwrap();
    let mut status = 0;
    // SAFETY: plain libc call on our own child; rusage is written by it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (
        common::Run {
            code,
            stdout,
            stderr,
        },
        (usage.ru_maxrss as u64) / 1024,
    )
}

/// A 24 MiB entry on the server is skipped as malformed without being
/// parsed or decrypted; the rest is restored, in bounded memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_entry_is_skipped_in_bounded_memory() {
    use matrix_sdk::ruma::api::client::backup::{RoomKeyBackup, add_backup_keys};
    use matrix_sdk::ruma::serde::Raw;
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, version) = common::setup_backup(data, "a1");
    import_into(data, "a1", "!huge:localhost", 10).await;
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    {
        let acc = common::open_account(data, "a1").await;
        let huge = "A".repeat(24 * 1024 * 1024);
        let entry: Raw<_> = Raw::new(&serde_json::json!({
            "first_message_index": 0,
            "forwarded_count": 0,
            "is_verified": false,
            "session_data": {"ciphertext": huge, "iv": "AAAAAAAAAAAAAAAAAAAAAA", "mac": "AAAA"},
        }))
        .unwrap()
        .cast_unchecked();
        let room: OwnedRoomId = "!huge:localhost".try_into().unwrap();
        let entries = std::collections::BTreeMap::from([("hugeSession".to_owned(), entry)]);
        let rooms = std::collections::BTreeMap::from([(room, RoomKeyBackup::new(entries))]);
        acc.client
            .send(add_backup_keys::v3::Request::new(version.clone(), rooms))
            .await
            .unwrap();
    }
    common::login(data, "a2", &hs, &alice);
    let (r, peak_mib) = run_measured(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["imported"], 10, "{v}");
    assert_eq!(v["skipped"]["malformed"], 1, "{v}");
    assert!(peak_mib <= 200, "peak RSS {peak_mib} MiB");
}

/// A device that knows the account's rooms reads them one request each
/// (the server answers each at once); keys of rooms it does not know still
/// come, from the whole backup read after; a room's request that fails is
/// retried, and a room's answer cut short is never taken as all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_rooms_one_by_one_then_the_rest_and_their_faults() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let proxy = Proxy::start(&hs.url).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, _) = common::setup_backup(data, "a1");
    let known = common::create_room(data, "a1", "Known", &[]);
    import_into(data, "a1", &known, 40).await;
    import_into(data, "a1", "!unknown1:localhost", 30).await;
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    let failed = r#"{"errcode":"M_UNKNOWN","error":"Internal server error"}"#;
    // Only a room's own request ends in the room's id.
    let one_room = "/_matrix/client/v3/room_keys/keys/";
    proxy.inject(
        "GET",
        one_room,
        vec![Fault::Status(500, failed.into()), Fault::Truncate(40)],
    );
    common::login_via(data, "a2", &proxy.url, &alice);
    ok(data, "a2", &["sync", "--once"], "");
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(
        proxy.served(),
        2,
        "the known room was asked for on its own, twice failing"
    );
    // Every key: the known room's and the unknown room's; the room's
    // (messages sent by keepsake itself) included.
    assert!(r["imported"].as_u64().unwrap() >= 70, "{r}");
    assert_eq!(r["imported"], r["total"], "{r}");
    assert_eq!(r["rooms_unreadable"], serde_json::json!([]), "{r}");
    let held = common::backup_status(data, "a2");
    assert_eq!(held["local_sessions"], r["imported"], "{held}");
}
