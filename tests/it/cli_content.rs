//! What messages hold, headless, against the real Synapse: formatting,
//! files, threads and mentions posted by another client over the plain
//! client-server API are listed with their fields, threads stay out of the
//! room's history, and files download byte for byte (also decrypted, from
//! an encrypted room where matrix-sdk sent one).
use crate::common::{self, RawClient};
use serde_json::{Value, json};

fn ok(data: &std::path::Path, profile: &str, args: &[&str]) -> String {
    common::ok(data, profile, args, "")
}

fn json(data: &std::path::Path, profile: &str, args: &[&str]) -> Value {
    common::ok_json(data, profile, args, "")
}

fn find<'a>(items: &'a Value, event_id: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["event_id"] == event_id)
        .unwrap_or_else(|| panic!("{event_id} not listed: {items:#}"))
}

/// Bytes no two test runs share, so a match is no accident.
fn file_bytes(n: usize) -> Vec<u8> {
    let seed = common::unique("bytes");
    (0..n)
        .map(|i| seed.as_bytes()[i % seed.len()].wrapping_add((i / 7) as u8))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formatting_files_threads_and_mentions_from_another_client() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a", &hs, &alice);
    let invite = ["--unencrypted", "--invite", bob.user_id.as_str()];
    let room = common::create_room(data, "a", "Plain", &invite);
    let other = RawClient::login(&hs, &bob).await;
    other.join(&room).await;

    let bold = other
        .send(
            &room,
            "m.room.message",
            json!({
                "msgtype": "m.text",
                "body": "**bold** for alice",
                "format": "org.matrix.custom.html",
                "formatted_body": format!(
                    "<strong>bold</strong> for <a href=\"https://matrix.to/#/{}\">alice</a><script>x()</script>",
                    alice.user_id
                ),
                "m.mentions": {"user_ids": [alice.user_id]},
            }),
        )
        .await;
    let bytes = file_bytes(3000);
    let uri = other.upload("cat.png", "image/png", bytes.clone()).await;
    let image = other
        .send(
            &room,
            "m.room.message",
            json!({
                "msgtype": "m.image",
                "body": "cat.png",
                "url": uri,
                "info": {"mimetype": "image/png", "size": bytes.len(), "w": 10, "h": 10},
            }),
        )
        .await;
    let root = other
        .send(
            &room,
            "m.room.message",
            json!({"msgtype": "m.text", "body": "thread root"}),
        )
        .await;
    for n in 1..=2 {
        other
            .thread_reply(&room, &root, &format!("in the thread {n}"))
            .await;
    }
    let emote = other
        .send(
            &room,
            "m.room.message",
            json!({"msgtype": "m.emote", "body": "waves"}),
        )
        .await;

    let items = json(data, "a", &["history", &room, "--json"]);
    let b = find(&items, &bold);
    assert_eq!(b["kind"], "text", "{b}");
    let html = b["formatted"].as_str().unwrap();
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(!html.contains("script"), "sanitized: {html}");
    assert_eq!(b["mentions_me"], true, "{b}");
    assert_eq!(b["attachment"], Value::Null);
    let i = find(&items, &image);
    assert_eq!(i["kind"], "image", "{i}");
    assert_eq!(
        i["attachment"],
        json!({"name": "cat.png", "mimetype": "image/png", "size": bytes.len()})
    );
    assert_eq!(i["mentions_me"], false);
    let r = find(&items, &root);
    assert_eq!(r["thread_replies"], 2, "{r}");
    assert_eq!(r["thread_root"], Value::Null);
    assert_eq!(find(&items, &emote)["kind"], "emote");
    // Thread replies are counted on their root, not mixed into the room.
    let bodies: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["body"].as_str())
        .collect();
    assert!(
        !bodies.iter().any(|b| b.starts_with("in the thread")),
        "{bodies:?}"
    );
    // The thread on its own: the root and its replies.
    let thread = json(data, "a", &["history", &room, "--thread", &root, "--json"]);
    let replies: Vec<&Value> = thread
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["thread_root"] == root.as_str())
        .collect();
    assert_eq!(replies.len(), 2, "{thread:#}");
    assert_eq!(replies[0]["body"], "in the thread 1");
    // Plain text says what is a file and what has replies.
    let text = ok(data, "a", &["history", &room]);
    assert!(text.contains("[image] cat.png"), "{text}");
    assert!(text.contains("(2 replies)"), "{text}");

    // The server's search, in a room it can read.
    let found = json(data, "a", &["search", &room, "thread root", "--json"]);
    let ids: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["event_id"].as_str())
        .collect();
    assert_eq!(ids, [root.as_str()], "{found:#}");
    assert_eq!(found[0]["sender"], bob.user_id.as_str());
    assert_eq!(found[0]["body"], "thread root");

    // The image, byte for byte: to a file, then twice into the download
    // dir (never overwriting), and never over an existing file.
    let out = dir.path().join("cat-copy.png");
    let saved = json(
        data,
        "a",
        &[
            "download",
            &room,
            &image,
            "-o",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(saved["size"], bytes.len(), "{saved}");
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let first = json(data, "a", &["download", &room, &image, "--json"]);
    let second = json(data, "a", &["download", &room, &image, "--json"]);
    let first = std::path::PathBuf::from(first["path"].as_str().unwrap());
    let downloads = first.parent().unwrap().to_owned();
    // With --data-dir, under it: a test never writes to ~/Downloads.
    assert!(downloads.starts_with(data), "{}", downloads.display());
    assert_eq!(first, downloads.join("cat.png"));
    assert_eq!(
        second["path"],
        downloads.join("cat (2).png").to_str().unwrap()
    );
    assert_eq!(std::fs::read(downloads.join("cat (2).png")).unwrap(), bytes);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::write(&out, b"mine").unwrap();
    let r = common::keepsake(
        data,
        Some("a"),
        &["download", &room, &image, "-o", out.to_str().unwrap()],
        "",
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("never overwrites"), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), b"mine");
    // A message without a file says so.
    let r = common::keepsake(data, Some("a"), &["download", &room, &root], "");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("carries no file"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_from_an_encrypted_room_downloads_decrypted() {
    use matrix_sdk::attachment::AttachmentConfig;
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a", &hs, &alice);
    common::login(data, "b", &hs, &bob);
    ok(data, "b", &["sync", "--once"]);
    let room = common::create_room(data, "a", "Vault", &["--invite", &bob.user_id]);
    json(data, "b", &["join", &room, "--json"]);
    let bytes = file_bytes(5000);
    // bob's matrix-sdk sends it: encrypted file, encrypted event.
    let sent = {
        let acc = common::open_account(data, "b").await;
        acc.client
            .sync_once(matrix_sdk::config::SyncSettings::default())
            .await
            .unwrap();
        let r = acc
            .client
            .get_room(&matrix_sdk::ruma::OwnedRoomId::try_from(room.as_str()).unwrap())
            .unwrap();
        let mime: mime::Mime = "application/octet-stream".parse().unwrap();
        r.send_attachment("secret.bin", &mime, bytes.clone(), AttachmentConfig::new())
            .await
            .unwrap()
            .event_id
            .to_string()
    };
    let items = json(data, "a", &["history", &room, "--json"]);
    let f = find(&items, &sent);
    assert_eq!(f["encrypted"], true, "{f}");
    assert_eq!(f["decrypted"], true, "{f}");
    assert_eq!(f["kind"], "file", "{f}");
    assert_eq!(f["attachment"]["name"], "secret.bin", "{f}");
    // The server cannot search what it cannot read, and says so.
    let r = common::keepsake(data, Some("a"), &["search", &room, "secret"], "");
    assert_eq!(
        r.code,
        common::exit(keepsake::error::ErrorKind::Invalid),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("encrypted"), "{}", r.stderr);
    let out = dir.path().join("secret.out");
    ok(
        data,
        "a",
        &["download", &room, &sent, "-o", out.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
}
