//! Emoji verification driven on both sides through the real binary against
//! the real Synapse: alice's new device verifies itself with her first one
//! (to-device) and then holds the cross-signing keys and, by gossip, the
//! backup key; alice verifies bob (in a direct room).
use crate::common;

use crate::common::ok_json;

use std::path::PathBuf;
use std::thread::JoinHandle;

use serde_json::Value;

/// Runs `keepsake verify ARGS --yes --json` in the background.
fn verify(data: &std::path::Path, profile: &str, args: &[&str]) -> JoinHandle<common::Run> {
    let (data, profile): (PathBuf, String) = (data.to_owned(), profile.to_owned());
    let mut full = vec!["verify".to_owned()];
    full.extend(args.iter().map(|s| s.to_string()));
    full.extend(["--yes", "--json", "--timeout", "120"].map(String::from));
    std::thread::spawn(move || {
        let args: Vec<&str> = full.iter().map(String::as_str).collect();
        common::keepsake(&data, Some(&profile), &args, "")
    })
}

/// The JSON lines a verify run printed, after checking it succeeded.
fn steps(name: &str, h: JoinHandle<common::Run>) -> Vec<Value> {
    let r = h.join().unwrap();
    assert_eq!(
        r.code, 0,
        "{name} failed: {}\nstdout: {}",
        r.stderr, r.stdout
    );
    let mut steps: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}")))
        .collect();
    // What it said on stderr travels with the steps, for failure messages.
    steps.push(serde_json::json!({ "stderr": r.stderr }));
    steps
}

fn emoji(name: &str, steps: &[Value]) -> Value {
    let e = steps
        .iter()
        .find(|s| s["state"] == "emoji")
        .unwrap_or_else(|| panic!("{name} saw no emoji: {steps:?}"))["emoji"]
        .clone();
    assert_eq!(e.as_array().map(Vec::len), Some(7), "{name}: {e}");
    e
}

fn has(steps: &[Value], key: &str, value: &str) -> bool {
    steps.iter().any(|s| s[key] == value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_device_verifies_itself_and_receives_the_backup_key() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::login(data, "a1", &hs, &alice);
    let setup = ok_json(
        data,
        "a1",
        &["recovery", "setup", "--no-backup", "--json"],
        "",
    );
    let key = setup["recovery_key"].as_str().unwrap().to_owned();
    let created = ok_json(
        data,
        "a1",
        &["backup", "create", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert!(created["version"].is_string(), "{created}");

    common::login(data, "a2", &hs, &alice);
    let st = ok_json(data, "a2", &["recovery", "status", "--json"], "");
    assert_eq!(st["backup_key_present"], false, "{st}");
    assert_eq!(st["cross_signing_complete"], false, "{st}");

    // The request is already waiting when a1 starts: it arrives with a1's
    // very first sync and must not be missed.
    let new = verify(data, "a2", &[]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let old = verify(data, "a1", &["--accept"]);
    let (old, new) = (steps("a1", old), steps("a2", new));
    assert_eq!(
        emoji("a1", &old),
        emoji("a2", &new),
        "both sides must show the same emoji"
    );
    assert!(has(&old, "state", "done") && has(&new, "state", "done"));
    assert!(
        has(&old, "event", "served"),
        "a1 did not send the key: {old:?}"
    );
    assert!(
        has(&new, "event", "received"),
        "a2 did not get the key: {new:?}"
    );

    let st = ok_json(data, "a2", &["recovery", "status", "--json"], "");
    assert_eq!(st["backup_key_present"], true, "{st}");
    assert_eq!(st["cross_signing_complete"], true, "{st}");
    assert_eq!(st["device_verified"], true, "{st}");
    let a2 = ok_json(data, "a2", &["whoami", "--json"], "")["device_id"].clone();
    let devices = ok_json(data, "a1", &["devices", "--json"], "");
    let seen = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == a2)
        .unwrap_or_else(|| panic!("{devices}"));
    assert_eq!(seen["verified"], true, "{devices}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_verifies_bob_in_a_direct_room() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for (p, u) in [("alice", &alice), ("bob", &bob)] {
        common::login(data, p, &hs, u);
        ok_json(data, p, &["recovery", "setup", "--json"], "");
    }
    let before = ok_json(data, "alice", &["devices", &bob.user_id, "--json"], "");
    assert_eq!(before[0]["verified"], false, "{before}");

    let b = verify(data, "bob", &["--accept", &alice.user_id]);
    let a = verify(data, "alice", &[&bob.user_id]);
    let (a, b) = (steps("alice", a), steps("bob", b));
    assert_eq!(emoji("alice", &a), emoji("bob", &b));
    assert!(has(&a, "state", "done") && has(&b, "state", "done"));

    let after = ok_json(data, "alice", &["devices", &bob.user_id, "--json"], "");
    assert_eq!(after[0]["verified"], true, "{after}");
}

/// A device whose backup key went stale (another device reset the backup)
/// takes the current key from a verification with that device: the key
/// that opens the server's current version replaces the one that does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gossiped_backup_key_replaces_a_stale_one() {
    let hs = common::homeserver();
    let alice = hs.register("stale").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, v1) = common::setup_backup(data, "a1");
    common::login(data, "a2", &hs, &alice);
    common::ok(
        data,
        "a2",
        &["backup", "restore", "--stdin"],
        &format!("{key}\n"),
    );
    let r = ok_json(
        data,
        "a1",
        &["backup", "reset", "--yes", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_ne!(r["version"], v1.as_str(), "{r}");
    let st = common::backup_status(data, "a2");
    assert_eq!(st["key_matches"], false, "a2's key is stale: {st}");

    let new = verify(data, "a2", &[]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let old = verify(data, "a1", &["--accept"]);
    let (old, new) = (steps("a1", old), steps("a2", new));
    assert!(has(&old, "state", "done") && has(&new, "state", "done"));
    assert!(
        has(&new, "event", "received"),
        "a2 did not take the key: {new:?}\na1: {old:?}"
    );
    let st = common::backup_status(data, "a2");
    assert_eq!(st["key_matches"], true, "{st}");
}

/// A device without the backup key does not take a stale one: a1's key no
/// longer opens the current backup (a3 reset it), so a2 ignores it when a1
/// serves it after their verification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_backup_key_is_not_taken_by_gossip() {
    let hs = common::homeserver();
    let alice = hs.register("nostale").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, _) = common::setup_backup(data, "a1");
    common::login(data, "a3", &hs, &alice);
    ok_json(
        data,
        "a3",
        &["backup", "reset", "--yes", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(common::backup_status(data, "a1")["key_matches"], false);
    common::login(data, "a2", &hs, &alice);

    let new = verify(data, "a2", &[]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let old = verify(data, "a1", &["--accept"]);
    let (old, new) = (steps("a1", old), steps("a2", new));
    assert!(has(&old, "state", "done") && has(&new, "state", "done"));
    assert!(
        !has(&new, "event", "received"),
        "a2 took a stale key: {new:?}\na1: {old:?}"
    );
    let st = common::backup_status(data, "a2");
    assert_eq!(st["key_present"], false, "{st}");
}
