//! Writing, against the real Synapse, driven as a user would: files sent
//! headless (encrypted where the room is: the homeserver never holds the
//! plaintext), replies in threads, direct messages both sides see as such,
//! and in a real terminal `/me` and an `@` mention completed with Tab.
use crate::common::{self, tmux::Tmux};
use serde_json::Value;

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

/// Every regular file under `dir`.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_sent_to_an_encrypted_room_never_reaches_the_server_in_plaintext() {
    let hs = common::homeserver();
    let media_store = std::path::PathBuf::from(
        std::env::var("KEEPSAKE_TEST_MEDIA_STORE")
            .expect("KEEPSAKE_TEST_MEDIA_STORE: start Synapse with scripts/synapse"),
    );
    let (alice, bob) = (hs.register("fa").await, hs.register("fb").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a", &hs, &alice);
    common::login(data, "b", &hs, &bob);
    common::ok(data, "b", &["sync", "--once"], "");
    let room = common::create_room(data, "a", "Files", &["--invite", &bob.user_id]);
    json(data, "b", &["join", &room, "--json"]);

    // Bytes no run shares, so a match in the media store is no accident.
    let seed = common::unique("plain");
    let bytes: Vec<u8> = (0..70_000)
        .map(|i| seed.as_bytes()[i % seed.len()] ^ (i / 13) as u8)
        .collect();
    let path = data.join("report.bin");
    std::fs::write(&path, &bytes).unwrap();
    let sent = json(
        data,
        "a",
        &["send", &room, "--file", path.to_str().unwrap(), "--json"],
    );
    let event = sent["event_id"].as_str().expect("an event id").to_owned();

    let items = json(data, "b", &["history", &room, "--json"]);
    let f = find(&items, &event);
    assert_eq!(f["kind"], "file", "{f}");
    assert_eq!(f["encrypted"], true, "{f}");
    assert_eq!(f["attachment"]["name"], "report.bin", "{f}");
    assert_eq!(f["attachment"]["size"], bytes.len(), "{f}");
    let out = data.join("got.bin");
    common::ok(
        data,
        "b",
        &["download", &room, &event, "-o", out.to_str().unwrap()],
        "",
    );
    assert_eq!(std::fs::read(&out).unwrap(), bytes, "byte for byte");

    // The server holds the file, encrypted: one of its size (AES-CTR keeps
    // the length), none equal to the plaintext.
    let stored = files_under(&media_store);
    let same_size: Vec<_> = stored
        .iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() == bytes.len() as u64))
        .collect();
    assert!(
        !same_size.is_empty(),
        "the upload is not in {}: the check below would prove nothing",
        media_store.display()
    );
    for p in &stored {
        assert_ne!(
            std::fs::read(p).unwrap_or_default(),
            bytes,
            "{} holds the plaintext",
            p.display()
        );
    }

    // A missing file is said clearly and nothing is sent.
    let r = common::keepsake(
        data,
        Some("a"),
        &["send", &room, "--file", "/nonexistent/keepsake.bin"],
        "",
    );
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("cannot send /nonexistent/keepsake.bin: no such file"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_thread_lands_in_the_thread_and_an_image_gets_its_size() {
    let hs = common::homeserver();
    let alice = hs.register("ta").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a", &hs, &alice);
    let room = common::create_room(data, "a", "Threads", &[]);
    let root = json(data, "a", &["send", &room, "a root", "--json"])["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = json(
        data,
        "a",
        &["send", &room, "in the thread", "--thread", &root, "--json"],
    )["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let png = {
        let img = image::RgbImage::from_pixel(1200, 300, image::Rgb([1, 2, 3]));
        let mut out = std::io::Cursor::new(vec![]);
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    };
    // Named .dat: the bytes say it is a PNG.
    let path = data.join("wide.dat");
    std::fs::write(&path, &png).unwrap();
    let image = json(
        data,
        "a",
        &[
            "send",
            &room,
            "--file",
            path.to_str().unwrap(),
            "--thread",
            &root,
            "--json",
        ],
    )["event_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let main = json(data, "a", &["history", &room, "--json"]);
    let r = find(&main, &root);
    assert_eq!(r["thread_replies"], 2, "{r}");
    assert!(
        main.as_array()
            .unwrap()
            .iter()
            .all(|i| i["event_id"] != reply && i["event_id"] != image),
        "replies stay in their thread: {main:#}"
    );
    let thread = json(data, "a", &["history", &room, "--thread", &root, "--json"]);
    assert_eq!(find(&thread, &reply)["thread_root"], root.as_str());
    let i = find(&thread, &image);
    assert_eq!(i["kind"], "image", "{i}");
    assert_eq!(i["attachment"]["mimetype"], "image/png", "{i}");
    assert_eq!(i["attachment"]["size"], png.len(), "{i}");

    // Sent as an emote with --emote.
    let e = json(data, "a", &["send", &room, "waves", "--emote", "--json"])["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let main = json(data, "a", &["history", &room, "--json"]);
    assert_eq!(find(&main, &e)["kind"], "emote");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dm_opens_one_room_both_sides_mark_direct() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("da").await, hs.register("db").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a", &hs, &alice);
    common::login(data, "b", &hs, &bob);
    let first = json(data, "a", &["dm", &bob.user_id, "--json"]);
    assert_eq!(first["created"], true, "{first}");
    let room = first["room_id"].as_str().unwrap().to_owned();
    // Asked again: the same room, not a second one.
    let again = json(data, "a", &["dm", &bob.user_id, "--json"]);
    assert_eq!(again["room_id"], room.as_str(), "{again}");
    assert_eq!(again["created"], false, "{again}");

    let listed = |profile: &str| -> Value {
        let rooms = json(data, profile, &["rooms", "--json"]);
        rooms
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["room_id"] == room.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{room} not listed for {profile}: {rooms:#}"))
    };
    let a = listed("a");
    assert_eq!(a["is_dm"], true, "{a}");
    assert_eq!(a["encrypted"], true, "{a}");
    assert_eq!(a["dm_with"], bob.user_id.as_str(), "{a}");
    // bob's side: the invitation, then the room once joined, is direct.
    let b = listed("b");
    assert_eq!(b["is_dm"], true, "{b}");
    json(data, "b", &["join", &room, "--json"]);
    let b = listed("b");
    assert_eq!(b["is_dm"], true, "{b}");
    assert_eq!(b["dm_with"], alice.user_id.as_str(), "{b}");
    // And bob's `dm` finds it.
    let found = json(data, "b", &["dm", &alice.user_id, "--json"]);
    assert_eq!(found["room_id"], room.as_str(), "{found}");
    assert_eq!(found["created"], false);

    // Nobody by that name: said, and no room made.
    let r = common::keepsake(data, Some("a"), &["dm", "@nobody-here:localhost"], "");
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("no such user"), "{}", r.stderr);
}

/// In a real terminal: `/me waves` sends an emote, and `@` + the start of a
/// name + Tab completes a real mention that the other user's history marks
/// `mentions_me`; an unknown command is said and not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_me_and_a_completed_mention_in_the_tui() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("ma").await, hs.register("mb").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    common::use_file_secrets(&data);
    common::login(&data, "a", &hs, &alice);
    common::login(&data, "b", &hs, &bob);
    common::ok(&data, "b", &["sync", "--once"], "");
    let room = common::create_room(&data, "a", "Chat", &["--invite", &bob.user_id]);
    json(&data, "b", &["join", &room, "--json"]);
    // bob's display name, to complete from its start.
    let other = common::RawClient::login(&hs, &bob).await;
    other.set_display_name(&bob.user_id, "Robert Tables").await;

    let bin = env!("CARGO_BIN_EXE_keepsake");
    let t = Tmux::start(
        100,
        30,
        &format!(
            "env -u KEEPSAKE_PROFILE -u KEEPSAKE_DATA_DIR -u DBUS_SESSION_BUS_ADDRESS {bin} --data-dir {} --profile a; echo EXIT=$?; sleep 600",
            data.display()
        ),
    );
    t.wait_for("Rooms (1)");
    t.keys(&["Enter"]);
    t.wait_for("Tab completes");
    t.type_text("/me waves");
    t.keys(&["Enter"]);
    // Drawn as an action ("* name waves"), and the composer emptied.
    t.wait_until("the emote", |s| {
        s.lines().any(|l| l.contains("* ") && l.contains(" waves")) && !s.contains("/me waves")
    });

    t.type_text("/frobnicate");
    t.keys(&["Enter"]);
    t.wait_for("unknown command /frobnicate");

    // Clear the line (Ctrl-U), then the mention.
    t.keys(&["C-u"]);
    t.wait_until("the composer emptied", |s| !s.contains("/frobnicate"));
    t.type_text("hi @rob");
    // The member list arrives after the room opens: Tab until it completes.
    t.wait_until("the mention completed", |s| {
        if s.contains("hi Robert Tables") {
            return true;
        }
        t.keys(&["Tab"]);
        false
    });
    t.type_text("look");
    t.keys(&["Enter"]);
    t.wait_for("hi Robert Tables look");

    let items = json(&data, "b", &["history", &room, "--json"]);
    let arr = items.as_array().unwrap();
    let emote = arr
        .iter()
        .find(|i| i["body"] == "waves")
        .unwrap_or_else(|| panic!("no emote: {items:#}"));
    assert_eq!(emote["kind"], "emote", "{emote}");
    let mention = arr
        .iter()
        .find(|i| i["body"] == "hi Robert Tables look")
        .unwrap_or_else(|| panic!("no mention: {items:#}"));
    assert_eq!(mention["mentions_me"], true, "{mention}");
    assert!(
        mention["formatted"]
            .as_str()
            .is_some_and(|f| f.contains(&format!("https://matrix.to/#/{}", bob.user_id))),
        "{mention}"
    );
    assert!(
        !arr.iter()
            .any(|i| i["body"].as_str().is_some_and(|b| b.contains("frobnicate"))),
        "an unknown command is never sent: {items:#}"
    );
    t.keys(&["Escape"]);
    t.wait_for("Message (i to write)");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

/// Room management through the worker, as the TUI's commands send it: the
/// room's admin sets the topic and name and bans; a member without the
/// power is told so in words; the members list says who is verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_name_ban_and_a_refusal_for_want_of_power() {
    use keepsake::matrix::manage::Moderation;
    use keepsake::matrix::protocol::{self as p, Request, Update};
    use keepsake::matrix::worker::Worker;

    async fn call<R: Request>(
        worker: &Worker,
        updates: &mut tokio::sync::mpsc::UnboundedReceiver<Update>,
        req: R,
    ) -> Result<R::Output, p::Error> {
        let op = worker.send(req);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let u = tokio::time::timeout_at(deadline, updates.recv())
                .await
                .expect("an answer within a minute")
                .expect("the worker runs");
            if let Update::Done { op: o, outcome } = u
                && o == op
            {
                return R::output(outcome);
            }
        }
    }

    let hs = common::homeserver();
    let (alice, bob, eve) = (
        hs.register("ra").await,
        hs.register("rb").await,
        hs.register("re").await,
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    common::use_file_secrets(&data);
    common::login(&data, "a", &hs, &alice);
    common::login(&data, "b", &hs, &bob);
    common::ok(&data, "b", &["sync", "--once"], "");
    let room = common::create_room(
        &data,
        "a",
        "Managed",
        &["--invite", &bob.user_id, "--invite", &eve.user_id],
    );
    json(&data, "b", &["join", &room, "--json"]);

    let (admin, mut a_updates) = Worker::spawn(common::open_account(&data, "a").await);
    call(&admin, &mut a_updates, p::account::SyncOnce)
        .await
        .unwrap();
    call(
        &admin,
        &mut a_updates,
        p::rooms::SetTopic {
            room: room.clone(),
            topic: "Only cats".into(),
        },
    )
    .await
    .expect("the admin sets the topic");
    call(
        &admin,
        &mut a_updates,
        p::rooms::SetName {
            room: room.clone(),
            name: "Cat room".into(),
        },
    )
    .await
    .expect("the admin renames");
    call(
        &admin,
        &mut a_updates,
        p::rooms::Moderate {
            room: room.clone(),
            user: eve.user_id.clone(),
            what: Moderation::Ban,
            reason: Some("spam".into()),
        },
    )
    .await
    .expect("the admin bans");
    let members = call(
        &admin,
        &mut a_updates,
        p::rooms::Members { room: room.clone() },
    )
    .await
    .expect("the members");
    assert_eq!(
        members[0].user_id, alice.user_id,
        "the admin first: {members:?}"
    );
    // The creator: 100, or above every number in room version 12.
    assert!(members[0].power_level >= 100, "{members:?}");
    assert!(
        members.iter().any(|m| m.user_id == bob.user_id),
        "{members:?}"
    );
    assert!(
        !members.iter().any(|m| m.user_id == eve.user_id),
        "banned: {members:?}"
    );
    // alice has not verified bob: never "verified".
    let b = members.iter().find(|m| m.user_id == bob.user_id).unwrap();
    assert_ne!(b.verification, "verified", "{b:?}");

    let rooms = json(&data, "b", &["rooms", "--json"]);
    let listed = rooms
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["room_id"] == room.as_str())
        .cloned()
        .unwrap();
    assert_eq!(listed["name"], "Cat room", "{listed}");
    assert_eq!(listed["topic"], "Only cats", "{listed}");

    // bob may not: said in words.
    let (member, mut b_updates) = Worker::spawn(common::open_account(&data, "b").await);
    call(&member, &mut b_updates, p::account::SyncOnce)
        .await
        .unwrap();
    let e = call(
        &member,
        &mut b_updates,
        p::rooms::SetTopic {
            room: room.clone(),
            topic: "Dogs".into(),
        },
    )
    .await
    .expect_err("bob lacks the power");
    assert!(
        e.to_string()
            .contains("you may not set the topic in this room: your power level is too low"),
        "{e}"
    );
    let e = call(
        &member,
        &mut b_updates,
        p::rooms::Moderate {
            room: room.clone(),
            user: alice.user_id.clone(),
            what: Moderation::Kick,
            reason: None,
        },
    )
    .await
    .expect_err("bob cannot kick the admin");
    assert!(e.to_string().contains("power level is too low"), "{e}");
}
