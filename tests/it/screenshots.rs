//! The README's screenshots, made from the real TUI in tmux against the
//! real Synapse: a room beside the room list with its trust marks (keys
//! restored from the backup on a new device), the backup screen, and the
//! emoji of a verification. Every run draws them and checks what they
//! show; `scripts/screenshots` (this test with KEEPSAKE_SCREENSHOTS_DIR)
//! writes them to assets/screenshots, so they never go stale.
use crate::common::{self, svg, tmux::Tmux};

const W: u16 = 132;
const H: u16 = 30;

fn save(name: &str, t: &Tmux, dir: &std::path::Path) -> String {
    let screen = t.screen_ansi();
    let file = dir.join(format!("{name}.svg"));
    std::fs::write(&file, svg::render(&screen, W as usize)).unwrap();
    let text = t.screen();
    // The text as well, for notes and reviews (`--nocapture`).
    println!("== {name}\n{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_the_main_screens() {
    let hs = common::homeserver();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    // For the README (a fresh Synapse from scripts/screenshots), the
    // people are called alice and bob; elsewhere, names nobody has yet.
    let (out, alice, bob) = match std::env::var_os("KEEPSAKE_SCREENSHOTS_DIR") {
        Some(d) => (
            std::path::PathBuf::from(d),
            hs.register_as("alice").await,
            hs.register_as("bob").await,
        ),
        None => (
            dir.path().join("shots"),
            hs.register("alice").await,
            hs.register("bob").await,
        ),
    };
    std::fs::create_dir_all(&out).unwrap();
    common::use_file_secrets(&data);
    let ok = |p: &str, args: &[&str]| common::ok(&data, p, args, "");
    let json = |p: &str, args: &[&str]| common::ok_json(&data, p, args, "");

    // The first device: recovery, backup, a room with bob.
    common::login(&data, "laptop", &hs, &alice);
    let (recovery_key, _) = common::setup_backup(&data, "laptop");
    common::login(&data, "bob", &hs, &bob);
    ok("bob", &["sync", "--once"]);
    let invite = ["--invite", bob.user_id.as_str()];
    let garden = common::create_room(&data, "laptop", "Garden club", &invite);
    common::create_room(&data, "laptop", "Book circle", &invite);
    json("bob", &["join", &garden, "--json"]);
    let mut sent = vec![];
    for (who, text) in [
        (
            "laptop",
            "Seeds are in! **Tomatoes**, beans and *three* kinds of basil.",
        ),
        ("bob", "Great. Who brings the shovels on Saturday?"),
        ("laptop", "I will. Meeting at `10:00` by the shed."),
        ("bob", "> I will\n\nThanks! I bring coffee ☕"),
    ] {
        sent.push(json(who, &["send", &garden, text, "--json"])["event_id"].to_string());
    }
    let shovels = sent[1].trim_matches('"').to_owned();
    ok("laptop", &["backup", "upload", "--wait"]);

    // A new device: everything from the backup, then a message after.
    common::login(&data, "desktop", &hs, &alice);
    common::ok(
        &data,
        "desktop",
        &["recovery", "unlock", "--stdin"],
        &format!("{recovery_key}\n"),
    );
    ok("desktop", &["backup", "restore"]);
    // A file and a reply in a thread, sent with keepsake's own commands.
    let list = data.join("seed-list.txt");
    std::fs::write(&list, "tomatoes\nbeans\nbasil (3 kinds)\n").unwrap();
    ok("bob", &["send", &garden, "--file", list.to_str().unwrap()]);
    // From bob: a message of the laptop's now would share its session with
    // the new device directly, and the restored keys would no longer show
    // as restored.
    ok(
        "bob",
        &[
            "send",
            &garden,
            "I have a small one too.",
            "--thread",
            &shovels,
        ],
    );
    ok("bob", &["send", &garden, "See you there 🌱"]);

    let t = {
        let bin = env!("CARGO_BIN_EXE_keepsake");
        Tmux::start(
            W,
            H,
            &format!(
                "env -u DBUS_SESSION_BUS_ADDRESS -u KEEPSAKE_PROFILE -u KEEPSAKE_DATA_DIR {bin} --data-dir {} --profile desktop; echo EXIT=$?; sleep 600",
                data.display()
            ),
        )
    };
    t.wait_for("Rooms (2)");
    for _ in 0..3 {
        if t.screen().contains("▶ Garden club") {
            break;
        }
        t.keys(&["Down"]);
    }
    t.keys(&["Enter"]);
    let s = t.wait_until("the room with its marks", |s| {
        s.contains("See you there")
            && s.lines()
                .any(|l| l.contains("B✓") && l.contains("Seeds are in"))
            && s.contains("start of the room")
            && s.contains("[file] seed-list.txt (text/plain, ")
            && s.contains("⤷ 1 repl")
    });
    assert!(!s.contains("**"), "{s}");
    assert!(
        !s.contains("a small one too"),
        "replies stay in their thread: {s}"
    );
    t.wait_for("backup v");
    let s = save("room", &t, &out);
    assert!(s.contains("Rooms (2)") && s.contains("Garden club"), "{s}");

    // The thread: select its root and open it.
    t.keys(&["Escape"]);
    t.wait_for("Message (i to write)");
    for _ in 0..8 {
        if t.screen().contains("t opens the thread") {
            break;
        }
        let before = t.screen();
        t.keys(&["k"]);
        t.wait_until("the selection moved", |s| s != before);
    }
    t.keys(&["t"]);
    t.wait_until("the thread", |s| {
        s.contains("Thread in Garden club") && s.contains("a small one too")
    });
    save("thread", &t, &out);
    t.keys(&["Escape"]);
    t.wait_until("back in the room", |s| !s.contains("Thread in Garden club"));
    t.keys(&["2"]);
    let s = t.wait_until("the backup screen", |s| {
        s.contains("backed up") && s.contains("pending") && !s.contains("refreshing")
    });
    let s2 = save("backup", &t, &out);
    assert!(s.contains("Backup") && s2.contains("backed up"), "{s2}");

    // The laptop asks to verify the desktop: the emoji on screen.
    let asker = {
        let data = data.clone();
        std::thread::spawn(move || {
            common::keepsake(
                &data,
                Some("laptop"),
                &["verify", "--yes", "--json", "--timeout", "120"],
                "",
            )
        })
    };
    t.keys(&["4"]);
    t.wait_for("asks to verify this device");
    t.keys(&["a"]);
    t.wait_for("they match");
    let s = save("verification", &t, &out);
    assert!(s.contains("Do these emoji appear"), "{s}");
    t.keys(&["y"]);
    t.wait_for("✓ Verified");
    let r = asker.join().unwrap();
    assert_eq!(r.code, 0, "{}", r.stderr);
    t.keys(&["Enter"]);
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
    for name in ["room", "backup", "verification"] {
        let svg = std::fs::read_to_string(out.join(format!("{name}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<text"), "{name}");
    }
}
