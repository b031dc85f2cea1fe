//! A restore killed half way (SIGKILL) and started again: it resumes after
//! the rooms it had finished, ends with every key, imports nothing twice and
//! uploads nothing back (the server's etag does not move). The fresh device
//! unlocks with the passphrase, not the recovery key.
use crate::common;

use crate::common::{backup_status, ok, ok_json};

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use matrix_sdk::ruma::OwnedRoomId;

const ROOMS: usize = 10;
const PER_ROOM: usize = 1500;
const PASSPHRASE: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_restore_resumes_without_duplicates_or_uploads() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let setup = ok_json(
        data,
        "a1",
        &[
            "recovery",
            "setup",
            "--passphrase-stdin",
            "--no-backup",
            "--json",
        ],
        &format!("{PASSPHRASE}\n"),
    );
    let key = setup["recovery_key"].as_str().unwrap().to_owned();
    ok(
        data,
        "a1",
        &["backup", "create", "--stdin"],
        &format!("{key}\n"),
    );
    let room = ok_json(data, "a1", &["create-room", "Talk", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..3 {
        ok(data, "a1", &["send", &room, &format!("message {i}")], "");
    }
    {
        // Rooms a1 has left long ago: a fresh device learns of them only
        // from the backup itself.
        let acc = common::open_account(data, "a1").await;
        for i in 0..ROOMS {
            let old: OwnedRoomId = format!("!old{i}:localhost").try_into().unwrap();
            common::synthetic::import(&acc.client, data, &old, PER_ROOM).await;
        }
    }
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    let before = backup_status(data, "a1");
    let total = ROOMS * PER_ROOM + 1;
    assert_eq!(before["server_count"], total, "{before}");

    common::login(data, "a2", &hs, &alice);
    let first = kill_half_way(data, "a2");
    assert!(first > 0 && first < ROOMS + 1, "killed after {first} rooms");

    let r = ok_json(data, "a2", &["backup", "restore", "--json"], "");
    let done = r["rooms_already_done"].as_u64().unwrap() as usize;
    assert!(done >= 1, "nothing resumed: {r}");
    // What the second run counted plus what the first one finished is
    // everything, once.
    let second = r["total"].as_u64().unwrap() as usize;
    assert!(second < total, "started over: {r}");
    assert_eq!(r["skipped"], serde_json::json!({}), "{r}");

    let st = backup_status(data, "a2");
    assert_eq!(st["local_sessions"], total, "{st}");
    assert_eq!(st["pending"], 0, "{st}");
    // Synapse ignores a re-upload that is no better, so the etag alone
    // would not show one: this device must never have uploaded at all.
    assert_eq!(st["last_upload"], serde_json::Value::Null, "{st}");
    let after = backup_status(data, "a1");
    assert_eq!(after["etag"], before["etag"], "the restore uploaded keys");
    assert_eq!(after["server_count"], before["server_count"]);

    let h = ok_json(data, "a2", &["history", &room, "--json"], "");
    let items = h.as_array().unwrap();
    assert_eq!(items.len(), 3, "{h}");
    for item in items {
        assert_eq!(item["trust"], "backup_trusted", "{item}");
    }
}

/// Starts `backup restore` (with the passphrase), reads its progress lines
/// and SIGKILLs it once some rooms are done but not all; returns how many
/// rooms it had reported.
fn kill_half_way(data: &std::path::Path, profile: &str) -> usize {
    let mut child = common::command(data, Some(profile), &["backup", "restore", "--stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{PASSPHRASE}").unwrap();
    }
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = vec![];
    for line in stderr.lines() {
        let line = line.unwrap();
        seen.push(line.clone());
        // "restoring: 4/11 rooms, 6000/15001 keys"
        let Some(rest) = line.strip_prefix("restoring: ") else {
            continue;
        };
        let (done, of) = rest
            .split_once(" rooms")
            .unwrap()
            .0
            .split_once('/')
            .unwrap();
        let (done, of): (usize, usize) = (done.parse().unwrap(), of.parse().unwrap());
        if done >= 4 && done < of {
            child.kill().unwrap();
            child.wait().unwrap();
            return done;
        }
    }
    let status = child.wait().unwrap();
    panic!("the restore ended ({status}) before it could be killed half way: {seen:?}");
}
