//! The uploader loses nothing: killed mid-upload, throttled and failed by
//! the server, and overtaken by another device that replaced the backup.
//! Real Synapse; faults come from a proxy on loopback.

mod common;

use common::{backup_status as status, ok, ok_json};

use std::time::Duration;

use common::proxy::{Fault, Proxy};
use matrix_sdk::ruma::OwnedRoomId;
use serde_json::Value;

async fn import(data: &std::path::Path, profile: &str, n: usize) {
    let acc = common::open_account(data, profile).await;
    let room: OwnedRoomId = "!synthetic:localhost".try_into().unwrap();
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
    assert_eq!(status(data, "alice")["local_sessions"], 3000);

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
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&format!(
            "backup version {old} was replaced by version {new}"
        )),
        "{}",
        r.stderr
    );
    let st = status(data, "a1");
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
    assert_eq!(r.code, 1);
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
    assert_eq!(
        st["server_count"], 2,
        "both of a1's sessions are in the new backup: {st}"
    );

    // The old version can go; without a terminal, only with --yes.
    let r = common::keepsake(data, Some("a1"), &["backup", "delete", &old], "");
    assert_eq!(r.code, 1);
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
