//! alice and bob, each a keepsake profile in one data dir, against the real
//! Synapse: an encrypted room, invitation, join, messages both ways, leave.
use crate::common;

use serde_json::Value;

fn keepsake(
    data: &std::path::Path,
    profile: &str,
    args: &[&str],
    stdin: &str,
) -> (i32, String, String) {
    let r = common::keepsake(data, Some(profile), args, stdin);
    (r.code, r.stdout, r.stderr)
}

fn ok(data: &std::path::Path, profile: &str, args: &[&str]) -> String {
    let (code, out, err) = keepsake(data, profile, args, "");
    assert_eq!(code, 0, "{profile} {args:?}: {err}");
    out
}

fn json(data: &std::path::Path, profile: &str, args: &[&str]) -> Value {
    serde_json::from_str(&ok(data, profile, args)).unwrap()
}

/// Room `id` as `rooms --json` listed it; the test fails if it is missing.
fn listed(list: &Value, id: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|r| r["room_id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not listed: {list}"))
}

/// Alice and bob logged in as profiles of one data dir, bob synced once.
async fn alice_and_bob() -> (
    common::Homeserver,
    common::TestUser,
    common::TestUser,
    tempfile::TempDir,
) {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    common::login(dir.path(), "alice", &hs, &alice);
    common::login(dir.path(), "bob", &hs, &bob);
    ok(dir.path(), "bob", &["sync", "--once"]);
    (hs, alice, bob, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_profiles_share_an_encrypted_room() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for (profile, u) in [("alice", &alice), ("bob", &bob)] {
        let (code, _, err) = keepsake(
            data,
            profile,
            &[
                "login",
                "--homeserver",
                &hs.url,
                "--user",
                &u.user_id,
                "--password-stdin",
            ],
            &u.password,
        );
        assert_eq!(code, 0, "{profile}: {err}");
    }
    // bob's device keys must be on the server before alice shares a room key.
    ok(data, "bob", &["sync", "--once"]);

    let room = json(
        data,
        "alice",
        &["create-room", "Plans", "--invite", &bob.user_id, "--json"],
    );
    let room_id = room["room_id"].as_str().unwrap().to_owned();

    let invited = json(data, "bob", &["rooms", "--json"]);
    let entry = invited
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room_id"] == room_id.as_str())
        .expect("invite listed");
    assert_eq!(entry["membership"], "invited");

    let joined = json(data, "bob", &["join", &room_id, "--json"]);
    assert_eq!(joined["room_id"], room_id.as_str());

    let sent = json(
        data,
        "alice",
        &["send", &room_id, "hello **bob**", "--json"],
    );
    assert!(sent["event_id"].as_str().unwrap().starts_with('$'));
    let sent = json(data, "bob", &["send", &room_id, "hi alice", "--json"]);
    assert!(sent["event_id"].as_str().unwrap().starts_with('$'));

    for profile in ["alice", "bob"] {
        let list = json(data, profile, &["rooms", "--json"]);
        let r = list
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["room_id"] == room_id.as_str())
            .expect("room listed");
        assert_eq!(r["membership"], "joined", "{profile}");
        assert_eq!(r["encrypted"], true, "{profile}");
        assert_eq!(r["name"], "Plans", "{profile}");
    }

    // Both histories: both messages, decrypted, with their megolm sessions.
    for profile in ["alice", "bob"] {
        let h = json(data, profile, &["history", &room_id, "--json"]);
        let items = h.as_array().unwrap();
        let bodies: Vec<_> = items
            .iter()
            .map(|i| i["body"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(bodies, ["hello **bob**", "hi alice"], "{profile}: {h}");
        for i in items {
            assert_eq!(i["decrypted"], true, "{profile}: {i}");
            assert_eq!(i["utd_reason"], Value::Null);
            assert!(
                i["session_id"].as_str().is_some_and(|s| !s.is_empty()),
                "{i}"
            );
            assert!(i["event_id"].as_str().unwrap().starts_with('$'));
            assert!(i["ts"].as_u64().unwrap() > 1_700_000_000_000);
        }
        assert_eq!(items[0]["sender"], alice.user_id.as_str());
        assert_eq!(items[1]["sender"], bob.user_id.as_str());
        assert_ne!(
            items[0]["session_id"], items[1]["session_id"],
            "each sender has its own session"
        );
    }
    let h = json(
        data,
        "bob",
        &["history", &room_id, "--limit", "1", "--json"],
    );
    assert_eq!(h.as_array().unwrap().len(), 1);
    assert_eq!(h[0]["body"], "hi alice");

    // Errors a user meets: unknown room, malformed room.
    let (code, _, err) = keepsake(data, "alice", &["send", "!nope:localhost", "x"], "");
    assert_eq!(
        (code, err.as_str()),
        (
            common::exit(keepsake::error::ErrorKind::NotFound),
            "keepsake: unknown room !nope:localhost: not a room you are in or invited to\n"
        )
    );
    let (code, _, err) = keepsake(data, "alice", &["send", "general", "x"], "");
    assert_eq!(
        (code, err.as_str()),
        (
            common::exit(keepsake::error::ErrorKind::Invalid),
            "keepsake: `general` is not a room id (!id:server) or alias (#alias:server)\n"
        )
    );

    // Rooms by alias: created with one, then sent to and read through it.
    let alias_local = format!("lobby-{}", common::unique("a").to_lowercase());
    let alias = format!("#{alias_local}:localhost");
    json(
        data,
        "alice",
        &["create-room", "Lobby", "--alias", &alias_local, "--json"],
    );
    json(data, "alice", &["send", &alias, "by alias", "--json"]);
    let h = json(data, "alice", &["history", &alias, "--json"]);
    assert_eq!(h[h.as_array().unwrap().len() - 1]["body"], "by alias");
    let inv = json(data, "alice", &["invite", &alias, &bob.user_id, "--json"]);
    assert_eq!(inv["invited"], bob.user_id.as_str());
    let joined = json(data, "bob", &["join", &alias, "--json"]);
    assert!(joined["room_id"].as_str().unwrap().starts_with('!'));

    let left = json(data, "bob", &["leave", &room_id, "--json"]);
    assert_eq!(left["left"], room_id.as_str());
    let list = json(data, "bob", &["rooms", "--json"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|r| r["room_id"] != room_id.as_str())
    );
}

/// A room name and a message from the server carrying escape sequences
/// (an OSC 52 clipboard write, a screen clear) print as harmless text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_never_reaches_the_terminal_raw() {
    let hs = common::homeserver();
    let alice = hs.register("esc").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a", &hs, &alice);
    let evil_name = "Evil\u{1b}]52;c;aGVsbG8=\u{7}\u{1b}[2J room";
    let room = json(data, "a", &["create-room", evil_name, "--json"]);
    let room_id = room["room_id"].as_str().unwrap().to_owned();
    ok(
        data,
        "a",
        &["send", &room_id, "hi \u{1b}[31mred\u{9b}0m \u{202e}txt"],
    );
    ok(data, "a", &["sync", "--once"]);
    for args in [
        vec!["rooms"],
        vec!["history", room_id.as_str(), "--limit", "5"],
    ] {
        let out = ok(data, "a", &args);
        assert!(
            !out.chars()
                .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{202e}'),
            "{args:?}: {out:?}"
        );
        assert!(out.contains('\u{fffd}'), "{args:?}: {out:?}");
    }
    // JSON keeps the text exactly, escaped as JSON does.
    let rooms = json(data, "a", &["rooms", "--json"]);
    assert!(rooms.to_string().contains("\\u001b]52"), "{rooms}");
}

/// matrix-sdk counts a room's unread messages and mentions in its event
/// cache, on a task of its own, after a sync has returned. `rooms` must
/// print what its sync brought for every room, not what that task had
/// reached when the list was read: a mention was missing from the list now
/// and then (CI, stop 27), and with a dozen rooms in one sync it always was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mention_one_sync_brings_is_in_the_list() {
    let (_hs, _alice, bob, dir) = alice_and_bob().await;
    let data = dir.path();
    let ids = common::mentions_waiting(data, "alice", "bob", &bob, 12).await;

    let list = json(data, "bob", &["rooms", "--json"]);
    for id in &ids {
        let r = listed(&list, id);
        assert_eq!(r["unread"], 1, "{r}");
        assert_eq!(r["highlights"], 1, "{r}");
    }
}

/// The room list as `rooms --json` gives it: the room with the newest
/// message first, with its unread and mention counts and when it was
/// active, a DM named as one with its other member, and the order
/// following new messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_most_recently_active_room_comes_first_with_its_counts() {
    let (hs, alice, bob, dir) = alice_and_bob().await;
    let data = dir.path();
    let mut ids = vec![];
    for name in ["Alpha", "Beta"] {
        let r = json(
            data,
            "alice",
            &["create-room", name, "--invite", &bob.user_id, "--json"],
        );
        let id = r["room_id"].as_str().unwrap().to_owned();
        json(data, "bob", &["join", &id, "--json"]);
        ids.push(id);
    }
    let (alpha, beta) = (ids[0].clone(), ids[1].clone());
    // A DM bob opens with alice, through matrix-sdk (keepsake's own `dm`
    // command is another issue's).
    let dm = {
        let acc = common::open_account(data, "bob").await;
        let alice_id: matrix_sdk::ruma::OwnedUserId = alice.user_id.parse().unwrap();
        let room = acc.client.create_dm(&alice_id).await.unwrap();
        room.room_id().to_string()
    };
    json(data, "alice", &["send", &beta, "in beta", "--json"]);
    json(data, "alice", &["send", &alpha, "in alpha", "--json"]);
    json(
        data,
        "alice",
        &[
            "send",
            &alpha,
            &format!("{} look at this", bob.user_id),
            "--json",
        ],
    );

    let order = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|r| r["room_id"].as_str().unwrap().to_owned())
            .filter(|id| ids.contains(id))
            .collect()
    };
    let list = json(data, "bob", &["rooms", "--json"]);
    assert_eq!(order(&list), [alpha.clone(), beta.clone()], "{list}");
    let (a, b) = (listed(&list, &alpha), listed(&list, &beta));
    // Twice in CI a room read one unread too many (Beta 2, then Alpha 3):
    // `unread` is the larger of matrix-sdk's count and the server's, so say
    // which one was off.
    if a["unread"] != 2 || b["unread"] != 1 {
        let server = common::RawClient::login(&hs, &bob).await;
        panic!(
            "alpha {a}\nbeta {b}\nthe server counts alpha {}, beta {}",
            server.notification_count(&alpha).await,
            server.notification_count(&beta).await
        );
    }
    assert_eq!(a["unread"], 2, "{a}");
    assert_eq!(a["highlights"], 1, "{a}");
    assert_eq!(b["unread"], 1, "{b}");
    assert_eq!(b["highlights"], 0, "{b}");
    assert!(
        a["last_activity"].as_u64().unwrap() > b["last_activity"].as_u64().unwrap(),
        "{a} {b}"
    );
    assert_eq!(a["is_dm"], false);
    let d = listed(&list, &dm);
    assert_eq!(d["is_dm"], true, "{d}");
    assert_eq!(d["dm_with"], alice.user_id.as_str(), "{d}");

    // A new message in Beta puts it first.
    json(data, "alice", &["send", &beta, "beta again", "--json"]);
    let list = json(data, "bob", &["rooms", "--json"]);
    assert_eq!(order(&list), [beta.clone(), alpha.clone()], "{list}");
    assert_eq!(listed(&list, &beta)["unread"], 2);
}

/// A space made by another client: listed as a space, and the rooms it
/// holds name it in `spaces`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_name_the_spaces_they_are_in() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::login(data, "alice", &hs, &alice);
    let other = common::RawClient::login(&hs, &bob).await;
    let invite = serde_json::json!([alice.user_id]);
    let space = other
        .create_room(serde_json::json!({
            "name": "Work", "preset": "private_chat", "invite": invite,
            "creation_content": {"type": "m.space"},
        }))
        .await;
    let inside = other
        .create_room(
            serde_json::json!({"name": "Standup", "preset": "private_chat", "invite": invite}),
        )
        .await;
    let outside = other
        .create_room(
            serde_json::json!({"name": "Lunch", "preset": "private_chat", "invite": invite}),
        )
        .await;
    let server = alice.user_id.split(':').nth(1).unwrap().to_owned();
    other
        .state(
            &space,
            "m.space.child",
            &inside,
            serde_json::json!({"via": [server]}),
        )
        .await;
    for id in [&space, &inside, &outside] {
        json(data, "alice", &["join", id, "--json"]);
    }
    let list = json(data, "alice", &["rooms", "--json"]);
    let find = |id: &str| listed(&list, id);
    assert_eq!(find(&space)["is_space"], true);
    assert_eq!(find(&inside)["is_space"], false);
    assert_eq!(find(&inside)["spaces"], serde_json::json!([space]));
    assert_eq!(find(&outside)["spaces"], serde_json::json!([]));
    let text = ok(data, "alice", &["rooms"]);
    assert!(text.contains("[space] Work"), "{text}");
}
