//! The TUI end to end, as a person uses it: in a real terminal (tmux)
//! against the real Synapse. Open a room, send a message and see it, see
//! the backup counts; then on a fresh device unlock with the recovery key,
//! restore, and read the history with its trust marks. Every wait polls the
//! screen with a deadline; there are no fixed sleeps.
use crate::common;

use crate::common::tmux::Tmux;
use std::path::Path;

/// Esc out of the composer, and wait until it is out: a key sent right
/// after Esc would arrive as Alt+key.
fn leave_composer(t: &Tmux) {
    t.keys(&["Escape"]);
    t.wait_for("Message (i to write)");
}

fn tui(data: &Path, profile: &str) -> Tmux {
    tui_on_bus(data, profile, None)
}

/// The TUI with `bus` as its D-Bus session bus (none without one).
fn tui_on_bus(data: &Path, profile: &str, bus: Option<&str>) -> Tmux {
    let bin = env!("CARGO_BIN_EXE_keepsake");
    let bus = match bus {
        Some(addr) => format!("DBUS_SESSION_BUS_ADDRESS='{addr}'"),
        None => "-u DBUS_SESSION_BUS_ADDRESS".to_owned(),
    };
    Tmux::start(
        80,
        24,
        &format!(
            "env -u KEEPSAKE_PROFILE -u KEEPSAKE_DATA_DIR {bus} {bin} --data-dir {} --profile {profile}; echo EXIT=$?; sleep 600",
            data.display()
        ),
    )
}

/// "local 3 · backed up 3 · pending 0 · server 3" with every count equal
/// and at least `min`.
fn all_backed_up(screen: &str, min: u64) -> bool {
    screen.lines().any(|l| {
        let nums: Vec<u64> = l
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        l.contains("local ")
            && l.contains("pending 0")
            && nums.len() == 4
            && nums[0] >= min
            && nums[0] == nums[1]
            && nums[0] == nums[3]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_backup_and_restore_on_a_fresh_device() {
    let hs = common::homeserver();
    let user = hs.register("tui").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    // First device, all in the TUI: log in on its login screen, set up
    // recovery (the key is read off the screen), create the backup and a room.
    let t = tui(data, "first");
    t.wait_for("log in to Matrix");
    t.type_text(&hs.url);
    t.keys(&["Tab"]);
    t.type_text(&user.user_id);
    t.keys(&["Tab"]);
    t.type_text(&user.password);
    t.keys(&["Enter"]);
    t.wait_for("Rooms (0)");
    t.keys(&["3"]);
    t.wait_for("Secret storage on the account");
    t.keys(&["S"]);
    let shown = t.wait_for("shown only once");
    let recovery_key = shown
        .lines()
        .filter(|l| l.starts_with("      ") && l.split_whitespace().count() == 4)
        .flat_map(|l| l.split_whitespace())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(recovery_key.split(' ').count(), 12, "{shown}");
    // tmux (set-clipboard external, as it comes) drops OSC 52 from a pane:
    // no copy is claimed, and the key stays on screen.
    assert!(shown.contains("cannot take it on its clipboard"), "{shown}");
    t.keys(&["y"]);
    let s = t.wait_for("does not take clipboard writes");
    assert!(s.contains("shown only once"), "{s}");
    t.keys(&["Enter"]);
    t.wait_until("the key hidden", |s| !s.contains("shown only once"));
    // The backup was made in the same step: the key is never asked again.
    t.keys(&["2"]);
    // The screen asks for a fresh status when shown: healthy once it comes.
    let b = t.wait_until("the new backup, healthy", |s| {
        s.contains("using backup version") && s.contains("Health        healthy")
    });
    assert!(!b.contains("Recovery key or passphrase"), "{b}");
    t.keys(&[":"]);
    t.type_text("create Garden club");
    t.keys(&["Enter", "1"]);
    // The room shows at once; its encryption with the sync that brings
    // its state.
    t.wait_until("the encrypted room", |s| {
        s.contains("Rooms (1)") && s.contains("🔒")
    });

    // Open the room, send, see the message; see the counts.
    t.keys(&["Enter"]);
    t.wait_for("No messages yet");
    t.type_text("hello from the tui");
    t.wait_for("│hello from the tui");
    t.keys(&["Enter"]);
    let sent = format!("{}: hello from the tui", user.localpart);
    t.wait_for(&sent);
    leave_composer(&t);
    t.keys(&["2"]);
    let backup = t.wait_until("every key backed up", |s| {
        s.contains("matches the backup") && all_backed_up(s, 1)
    });
    assert!(
        backup.contains("org.matrix.msc3270.v1.aes-hmac-sha2"),
        "{backup}"
    );
    // The second page: the room, its key here and in the backup.
    t.keys(&["p"]);
    let page = t.wait_until("the per-room page", |s| {
        s.contains("per room and per version") && s.contains("Garden club")
    });
    assert!(page.contains("(current)"), "{page}");
    let row = page
        .lines()
        .find(|l| l.contains("Garden club"))
        .unwrap_or_default();
    let counts: Vec<&str> = row.split_whitespace().skip(2).collect();
    assert_eq!(counts, ["1", "1", "0", "0", "0"], "{row}");
    t.keys(&["p"]);
    t.wait_for("Health");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
    drop(t);

    // A fresh device of the same account: restore with the recovery key.
    common::login(data, "second", &hs, &user);
    let t = tui(data, "second");
    t.wait_for("Garden club");
    // The room is open before the restore: its message has no key here.
    t.keys(&["Enter"]);
    t.wait_for("1 not readable here");
    leave_composer(&t);
    t.keys(&[":"]);
    t.type_text("backup restore");
    t.keys(&["Enter"]);
    t.wait_for("Recovery key or passphrase");
    t.type_text(&recovery_key);
    let prompt = t.screen();
    assert!(
        !prompt.contains(&recovery_key[..9]),
        "the recovery key is visible:\n{prompt}"
    );
    t.keys(&["Enter"]);
    t.wait_for("restored");
    t.keys(&["1"]);
    t.wait_for("Garden club");
    t.keys(&["Enter"]);
    // The message decrypts with the restored key (the event cache retries
    // the events that waited for it) and carries a mark.
    let screen = t.wait_for(&sent);
    assert!(!screen.contains("not readable here"), "{screen}");
    let line = screen
        .lines()
        .find(|l| l.contains(&sent))
        .unwrap_or_default()
        .to_owned();
    assert!(
        line.contains("B✓") || line.contains("B!") || line.contains("! "),
        "no trust mark on a restored message: {line:?}\n{screen}"
    );
    assert!(screen.contains("Garden club"), "{screen}");
    leave_composer(&t);
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_verification_never_takes_typed_keys_and_is_answered_on_purpose() {
    let hs = common::homeserver();
    let user = hs.register("tuiv").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    common::use_file_secrets(&data);
    common::login(&data, "old", &hs, &user);
    common::setup_backup(&data, "old");
    common::login(&data, "new", &hs, &user);
    let new_device = common::ok_json(&data, "new", &["whoami", "--json"], "")["device_id"]
        .as_str()
        .expect("a device id")
        .to_owned();

    // The new, not yet verified device writes in a room of the account.
    let room =
        common::ok_json(&data, "old", &["create-room", "Typing room", "--json"], "")["room_id"]
            .as_str()
            .expect("a room id")
            .to_owned();
    let from_new = "written on the new device";
    common::ok(&data, "new", &["send", &room, from_new], "");
    // Caught up, so that the TUI's first sync has nothing new to wait for.
    common::ok(&data, "old", &["sync", "--once"], "");

    let t = tui(&data, "old");
    // The first sync does not long-poll: "synced" shows well before the
    // 30 s a long poll on an idle account would take.
    t.wait_for_within("● synced", std::time::Duration::from_secs(15));
    t.wait_until("the room", |s| s.contains("Rooms (1)") && s.contains("🔒"));
    t.keys(&["Enter"]);
    let mark_of = |screen: &str| {
        screen
            .lines()
            .find(|l| l.contains(from_new))
            .map(|l| l.chars().skip(6).take(2).collect::<String>())
    };
    let screen = t.wait_until("the new device's message", |s| mark_of(s).is_some());
    assert_eq!(
        mark_of(&screen).as_deref(),
        Some("! "),
        "not marked as from an unverified device:\n{screen}"
    );
    t.type_text("I was saying");
    t.wait_for("│I was saying");
    // The new device asks while the user types.
    let asker = {
        let data = data.clone();
        std::thread::spawn(move || {
            common::keepsake(
                &data,
                Some("new"),
                &["verify", "--yes", "--json", "--timeout", "120"],
                "",
            )
        })
    };
    t.wait_for("verification request (4)");
    // Text with "y", "a" and Enter goes on into the message, and is sent.
    t.type_text(" yes, a y ok");
    t.wait_for("│I was saying yes, a y ok");
    t.keys(&["Enter"]);
    let screen = t.wait_until("the message sent", |s| {
        s.lines()
            .any(|l| l.contains("I was saying yes, a y ok") && !l.contains('│'))
    });
    assert!(!screen.contains("Do these emoji"), "{screen}");
    assert!(!asker.is_finished(), "the request was answered:\n{screen}");
    // Answered on purpose: the devices screen, the accept key, the emoji
    // looked at, then the confirm key.
    leave_composer(&t);
    t.keys(&["4"]);
    t.wait_for("asks to verify this device");
    t.keys(&["Enter"]);
    assert!(!asker.is_finished(), "Enter accepted the request");
    t.keys(&["a"]);
    t.wait_for("Do these emoji appear");
    // The confirm key is offered once the emoji have been on screen a while.
    t.wait_for("they match");
    t.keys(&["y"]);
    t.wait_for("✓ Verified");
    let r = asker.join().expect("the verify run");
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.stdout);
    assert!(r.stdout.contains("\"done\""), "{}", r.stdout);
    // The dialog closes with any key; the devices screen shows the result
    // on its own.
    t.keys(&["Enter"]);
    t.wait_until("the dialog closed", |s| !s.contains("Verified"));
    t.wait_until("the new device verified", |s| {
        s.lines()
            .any(|l| l.contains(&new_device) && l.contains("✓ verified"))
    });
    // The open room's marks follow the verification, without a restart.
    t.keys(&["1"]);
    t.wait_for("Typing room");
    t.keys(&["Enter"]);
    t.wait_until("the message marked verified", |s| {
        mark_of(s).as_deref() == Some("✓ ")
    });
    leave_composer(&t);
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

#[test]
fn without_a_terminal_the_client_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let r = common::keepsake(dir.path(), None, &[], "");
    assert_eq!(r.code, common::exit(keepsake::error::ErrorKind::Invalid));
    assert_eq!(
        r.stderr,
        "keepsake: the TUI needs a terminal; for scripts use a command (see `keepsake --help`)\n"
    );
    assert_eq!(r.stdout, "");
}

/// Moves the highlight on the room list to the line naming `name`.
fn highlight(t: &Tmux, name: &str) {
    for _ in 0..10 {
        let s = t.screen();
        if s.lines().any(|l| l.contains("▶ ") && l.contains(name)) {
            return;
        }
        let before = s;
        t.keys(&["Down"]);
        t.wait_until("the highlight moved", |s| s != before || !s.contains("▶ "));
    }
    panic!("cannot highlight {name}:\n{}", t.screen());
}

/// `:leave` asks, naming the room highlighted on screen (not the one opened
/// last), and keys typed before the question could be read only cancel;
/// a room reopened while you were reading its history shows that newer
/// messages came, and End brings them into view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_asks_about_the_room_shown_and_new_messages_are_never_missed() {
    let hs = common::homeserver();
    let user = hs.register("tuil").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    common::use_file_secrets(&data);
    common::login(&data, "a1", &hs, &user);
    common::login(&data, "a2", &hs, &user);
    let room = |name: &str| {
        common::ok_json(&data, "a1", &["create-room", name, "--json"], "")["room_id"]
            .as_str()
            .expect("a room id")
            .to_owned()
    };
    let (alpha, _beta) = (room("Alpha"), room("Beta"));
    // More than a screenful, so there is history to read.
    for i in 0..20 {
        common::ok(
            &data,
            "a2",
            &["send", &alpha, &format!("old message {i}")],
            "",
        );
    }

    let t = tui(&data, "a1");
    t.wait_for("Rooms (2)");
    highlight(&t, "Alpha");
    t.keys(&["Enter"]);
    t.wait_for("old message 19");
    // Reading history, then back to the list.
    leave_composer(&t);
    t.keys(&["PageUp", "PageUp"]);
    t.wait_until("history", |s| !s.contains("old message 19"));
    t.keys(&["Escape"]);
    t.wait_for("Rooms (2)");
    common::ok(&data, "a2", &["send", &alpha, "news while away"], "");
    // Reopened: the newest messages, not where the view was left.
    t.keys(&["Enter"]);
    t.wait_for("news while away");
    leave_composer(&t);
    t.keys(&["Escape"]);
    t.wait_for("Rooms (2)");

    // Alpha was opened last; Beta is highlighted: :leave names Beta.
    highlight(&t, "Beta");
    t.keys(&[":"]);
    t.type_text("leave");
    t.keys(&["Enter", "y"]);
    // The "y" came before the question could be read: nothing happens.
    t.wait_for("cancelled: nothing was changed");
    t.keys(&[":"]);
    t.type_text("leave");
    t.keys(&["Enter"]);
    let q = t.wait_for("y yes");
    assert!(q.contains("Leave Beta?"), "{q}");
    t.keys(&["n"]);
    t.wait_for("cancelled: nothing was changed");
    t.keys(&[":"]);
    t.type_text("leave");
    t.keys(&["Enter"]);
    t.wait_for("y yes");
    t.keys(&["y"]);
    t.wait_until("Beta left", |s| {
        s.contains("Rooms (1)") && !s.contains("Beta")
    });
    assert!(t.screen().contains("Alpha"));
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

/// What another client posts over the plain client-server API, read in the
/// TUI: a bold message drawn without its markdown or tags, an image as an
/// attachment line, a thread counted on its root; `t` opens the thread,
/// what is written there is a reply in it, and Esc comes back to the room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formatting_files_and_threads_read_as_the_sender_meant() {
    use serde_json::json;
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("tuia").await, hs.register("tuib").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    common::use_file_secrets(&data);
    common::login(&data, "a", &hs, &alice);
    let invite = ["--unencrypted", "--invite", bob.user_id.as_str()];
    let room = common::create_room(&data, "a", "Rich", &invite);
    let other = common::RawClient::login(&hs, &bob).await;
    other.join(&room).await;
    let text = |body: &str| json!({"msgtype": "m.text", "body": body});
    other
        .send(
            &room,
            "m.room.message",
            json!({
                "msgtype": "m.text",
                "body": "**bold** news",
                "format": "org.matrix.custom.html",
                "formatted_body": "<strong>bold</strong> news",
            }),
        )
        .await;
    let png = {
        let img = image::RgbImage::from_fn(320, 160, |_, y| {
            image::Rgb(if y < 80 { [255, 0, 0] } else { [0, 0, 255] })
        });
        let mut out = std::io::Cursor::new(vec![]);
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    };
    let size = png.len();
    let uri = other.upload("cat.png", "image/png", png).await;
    other
        .send(
            &room,
            "m.room.message",
            json!({"msgtype": "m.image", "body": "cat.png", "url": uri,
                   "info": {"mimetype": "image/png", "size": size, "w": 320, "h": 160}}),
        )
        .await;
    // Previews as half-blocks, which tmux shows as text.
    std::fs::write(
        data.join("config.toml"),
        "secrets = \"file\"\n[images]\nprotocol = \"halfblocks\"\n",
    )
    .unwrap();
    let root = other
        .send(&room, "m.room.message", text("what do you think?"))
        .await;
    for n in 1..=2 {
        other
            .thread_reply(&room, &root, &format!("thread reply {n}"))
            .await;
    }
    let last = other.send(&room, "m.room.message", text("last word")).await;

    let t = tui(&data, "a");
    t.wait_for("Rooms (1)");
    t.keys(&["Enter"]);
    let s = t.wait_for("last word");
    assert!(s.contains("bold news"), "{s}");
    assert!(!s.contains("**") && !s.contains("<strong>"), "{s}");
    assert!(s.contains("[image] cat.png (image/png, "), "{s}");
    // Its preview under it, once fetched and decoded.
    let s = t.wait_until("the image's preview", |s| {
        let lines: Vec<&str> = s.lines().collect();
        // Rows of one colour are blanks with a background; where red meets
        // blue, half-blocks.
        lines
            .iter()
            .position(|l| l.contains("[image] cat.png"))
            .is_some_and(|at| lines.iter().skip(at + 1).take(8).any(|l| l.contains('▀')))
    });
    assert!(s.contains("⤷ 2 replies"), "{s}");
    assert!(
        !s.contains("thread reply"),
        "replies stay in their thread: {s}"
    );
    // Seen on screen, so read: the receipt reaches the other client.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while other.read_up_to(&room, &alice.user_id).await.as_deref() != Some(last.as_str()) {
        assert!(std::time::Instant::now() < deadline, "no read receipt");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // The other client reads and types: both show.
    other.read_receipt(&room, &last).await;
    other.typing(&room, &bob.user_id).await;
    let s = t.wait_for("is typing…");
    assert!(s.contains(&format!("{} is typing…", bob.localpart)), "{s}");
    t.wait_for(&format!("✓ read by {}", bob.localpart));
    // Select the root: its detail names the key.
    leave_composer(&t);
    for _ in 0..4 {
        if t.screen().contains("t opens the thread") {
            break;
        }
        let before = t.screen();
        t.keys(&["k"]);
        t.wait_until("the selection moved", |s| s != before);
    }
    t.wait_for("t opens the thread");
    t.keys(&["t"]);
    // The replies may come before the root's page: wait for both.
    let s = t.wait_until("the thread", |s| {
        s.contains("thread reply 2") && s.contains("what do you think?")
    });
    assert!(s.contains("Thread in Rich"), "{s}");
    assert!(
        s.contains("what do you think?") && s.contains("thread reply 1"),
        "{s}"
    );
    assert!(!s.contains("last word"), "{s}");
    t.keys(&["i"]);
    t.wait_for("Reply in thread · Enter send");
    t.type_text("agreed from the thread");
    t.keys(&["Enter"]);
    t.wait_for("agreed from the thread");
    // Back in the room: the reply is counted, not shown.
    t.keys(&["Escape"]);
    t.wait_for("Reply in thread (i to write)");
    t.keys(&["Escape"]);
    let s = t.wait_for("last word");
    assert!(!s.contains("Thread in Rich"), "{s}");
    t.wait_for("⤷ 3 replies");
    assert!(!t.screen().contains("agreed from the thread"));
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

/// A mention in a room not in view pops a desktop notification (recorded
/// by a notification service on a private session bus) following the
/// account's push rules; chatter without a mention, and the room in view,
/// do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_elsewhere_notifies_and_the_room_in_view_does_not() {
    use serde_json::json;
    let bus = common::notifications::Bus::start().await;
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("tuin").await, hs.register("tuim").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    common::use_file_secrets(&data);
    common::login(&data, "a", &hs, &alice);
    let invite = ["--unencrypted", "--invite", bob.user_id.as_str()];
    let room = |name: &str| common::create_room(&data, "a", name, &invite);
    let (quiet, lobby) = (room("Quiet"), room("Lobby"));
    let other = common::RawClient::login(&hs, &bob).await;
    other.join(&quiet).await;
    other.join(&lobby).await;
    let mention = |text: &str| {
        json!({"msgtype": "m.text", "body": format!("{} {text}", alice.user_id),
               "m.mentions": {"user_ids": [alice.user_id]}})
    };
    let plain = |text: &str| json!({"msgtype": "m.text", "body": text});

    let t = tui_on_bus(&data, "a", Some(&bus.address));
    t.wait_for("Rooms (2)");
    highlight(&t, "Quiet");
    t.keys(&["Enter"]);
    t.wait_for("Message · Enter send");
    other.send(&lobby, "m.room.message", plain("chatter")).await;
    other
        .send(&quiet, "m.room.message", mention("in view"))
        .await;
    other
        .send(&lobby, "m.room.message", mention("look here"))
        .await;
    bus.wait_for("for the mention in Lobby", |s, b| {
        s.contains("in Lobby") && b.contains("look here")
    })
    .await;
    // One more, a sync later: had the others notified, they would be here
    // by now.
    other.send(&lobby, "m.room.message", mention("again")).await;
    bus.wait_for("for the second mention", |_, b| b.contains("again"))
        .await;
    let shown = bus.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown[0].0.starts_with(&bob.localpart), "{shown:?}");
    assert!(
        !shown
            .iter()
            .any(|(_, b)| b.contains("chatter") || b.contains("in view")),
        "{shown:?}"
    );
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}
