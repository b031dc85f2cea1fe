//! Snapshots of every screen and state at 80x24 (and a tiny terminal),
//! drawn from fixed test data. No real keys: the recovery key is fake.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::app::fixtures::{self, *};
use crate::app::input::TextInput;
use crate::app::keys::KeyMap;
use crate::app::{LoginForm, Notice, Prompt, PromptFor, VerifyDialog};
use crate::matrix::protocol::Secret;
use crate::matrix::verify::VerifyState;

fn draw(st: &AppState, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    term.draw(|f| render(st, &Theme::default(), f))
        .expect("draw");
    term.backend().to_string()
}

fn snap(name: &str, st: &AppState) {
    insta::assert_snapshot!(name, draw(st, 80, 24));
}

#[test]
fn login_empty_and_with_an_error() {
    let mut st = AppState::login(KeyMap::default(), Some("https://matrix.example.org"), None);
    snap("login", &st);
    st.login = LoginForm::new(Some("https://matrix.example.org"), Some("alice"));
    st.login.password.insert_str("hunter2");
    st.login.error = Some("login failed: wrong user name or password".into());
    let screen = draw(&st, 80, 24);
    assert!(!screen.contains("hunter2"));
    snap("login_error", &st);
    st.login.busy = true;
    st.login.error = None;
    snap("login_busy", &st);
}

#[test]
fn rooms_with_invite_and_filter() {
    let mut st = fixtures::logged_in();
    st.room_sel = 1;
    snap("rooms", &st);
    st.filtering = true;
    st.filter = TextInput::new("pa");
    st.room_sel = 0;
    snap("rooms_filter", &st);
    let mut st = fixtures::logged_in();
    st.rooms.clear();
    snap("rooms_empty", &st);
}

/// From 120 columns the room list stays beside the open room; the pane
/// with the keys has the bright title and the cursor.
#[test]
fn wide_terminals_show_the_rooms_beside_the_room() {
    let mut st = fixtures::in_room();
    st.composer.insert_str("hello");
    let screen = draw(&st, 130, 30);
    insta::assert_snapshot!("wide_timeline", screen);
    assert!(screen.contains("Rooms (4)") && screen.contains("12 members"));
    // The room list in focus, the room still in view.
    st.screen = crate::app::Screen::Rooms;
    insta::assert_snapshot!("wide_rooms", draw(&st, 130, 30));
    // No room open yet.
    let st = fixtures::logged_in();
    let screen = draw(&st, 130, 30);
    assert!(screen.contains("No room open"), "{screen}");
    // A member count the server did not give is left out, never "0".
    let mut st = fixtures::in_room();
    st.rooms[0].members = None;
    let screen = draw(&st, 130, 30);
    assert!(!screen.contains("members"), "{screen}");
    // Narrower, one pane fills the screen as before.
    let screen = draw(&fixtures::in_room(), 119, 30);
    assert!(!screen.contains("Rooms (4)"), "{screen}");
}

#[test]
fn timeline_with_every_trust_mark() {
    let mut st = fixtures::in_room();
    st.composer.insert_str("draft with **markdown**");
    snap("timeline_composer", &st);
    // Selecting the undecryptable message shows why, and the fetch key.
    st.focus = crate::app::Focus::Messages;
    st.room.as_mut().unwrap().sel = Some(5);
    snap("timeline_select_utd", &st);
}

/// Formatting is drawn, never shown as tags or markdown stars; files,
/// emotes, notices, spoilers and threads each have their look.
#[test]
fn rich_text_attachments_and_threads() {
    let mut st = fixtures::rich_room();
    let screen = draw(&st, 80, 24);
    insta::assert_snapshot!("rich_timeline", screen);
    for absent in ["<", "**", "~~", "`", "||", "surprise"] {
        assert!(!screen.contains(absent), "{absent:?} in\n{screen}");
    }
    for shown in [
        "bold and italic gone code()",
        "▎ quoted",
        "• one",
        "│ fn main() {",
        "│     println!(\"hi\");",
        "[image] cat.png (image/png, 14.2 KiB)",
        "⤷ 3 replies",
        "* bob waves",
        "build passed",
    ] {
        assert!(screen.contains(shown), "{shown:?} not in\n{screen}");
    }
    // The bold word is drawn bold, the gone one struck through.
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("a test terminal");
    term.draw(|f| render(&st, &Theme::default(), f))
        .expect("draw");
    let buf = term.backend().buffer().clone();
    let find = |word: &str| {
        let text = term.backend().to_string();
        let row = text.lines().position(|l| l.contains(word))?;
        let line = text.lines().nth(row)?;
        let col = line[..line.find(word)?].chars().count();
        Some(buf[(col as u16, row as u16)].modifier)
    };
    use ratatui::style::Modifier;
    assert!(find("bold").is_some_and(|m| m.contains(Modifier::BOLD)));
    assert!(find("gone").is_some_and(|m| m.contains(Modifier::CROSSED_OUT)));
    assert!(find("italic").is_some_and(|m| m.contains(Modifier::ITALIC)));
    // Selected, the spoiler shows, the link's target and the thread's key
    // are named.
    st.focus = crate::app::Focus::Messages;
    if let Some(r) = st.room.as_mut() {
        r.sel = Some(3);
    }
    let screen = draw(&st, 80, 24);
    assert!(screen.contains("surprise"), "{screen}");
    assert!(
        screen.contains("links: https://example.org/docs"),
        "{screen}"
    );
    if let Some(r) = st.room.as_mut() {
        r.sel = Some(4);
    }
    let screen = draw(&st, 80, 24);
    assert!(screen.contains("t opens the thread"), "{screen}");
    assert!(screen.contains("d saves, o opens"), "{screen}");
    insta::assert_snapshot!("rich_timeline_wide", draw(&fixtures::rich_room(), 130, 30));
}

/// Who read up to where (this account left out), where this account
/// stopped reading, and who is typing.
#[test]
fn receipts_typing_and_the_read_marker() {
    let mut st = fixtures::in_room();
    if let Some(r) = st.room.as_mut() {
        r.items[1].read_by = vec!["@carol:example.org".into(), "@alice:example.org".into()];
        r.items[6].read_by = vec![
            "@bob:example.org".into(),
            "@dave:example.org".into(),
            "@erin:example.org".into(),
            "@frank:example.org".into(),
        ];
        r.items[4].read_marker = true;
        r.typing = vec!["@bob:example.org".into(), "@carol:example.org".into()];
    }
    let screen = draw(&st, 80, 30);
    insta::assert_snapshot!("receipts_typing", screen);
    assert!(screen.contains("✓ read by carol\n") || screen.contains("✓ read by carol "));
    assert!(!screen.contains("read by carol, alice"), "{screen}");
    assert!(screen.contains("✓ read by bob, dave, erin +1"), "{screen}");
    assert!(screen.contains("new since you last read"), "{screen}");
    assert!(screen.contains("bob and carol are typing…"), "{screen}");
}

/// `/` in a room and `:search`'s results.
#[test]
fn finding_in_a_room() {
    let mut st = fixtures::in_room();
    st.focus = crate::app::Focus::Messages;
    st.search = Some(crate::app::search::Search {
        input: TextInput::new("verified"),
        at: 0,
    });
    if let Some(r) = st.room.as_mut() {
        r.sel = Some(2);
    }
    let screen = draw(&st, 80, 24);
    assert!(screen.contains("find: verified"), "{screen}");
    assert!(screen.contains("1/2 · ↑ older ↓ newer"), "{screen}");
    st.search = None;
    st.found = Some(crate::app::search::Results {
        room: "!general:example.org".into(),
        query: "plans".into(),
        items: vec![crate::matrix::search::Found {
            event_id: "$x".into(),
            sender: "@bob:example.org".into(),
            ts: fixtures::T0,
            body: "the plans for\nfriday".into(),
        }],
        sel: 0,
    });
    snap("search_results", &st);
}

/// The room list of one space, and the space picker.
#[test]
fn spaces_filter_the_room_list() {
    let mut st = fixtures::logged_in();
    st.rooms.push(crate::matrix::rooms::RoomSummary {
        is_space: true,
        ..fixtures::room("!work:example.org", "Work", "joined")
    });
    st.rooms[0].spaces = vec!["!work:example.org".into()];
    st.space = Some("!work:example.org".into());
    let screen = draw(&st, 80, 24);
    assert!(screen.contains("Rooms in Work (1)"), "{screen}");
    st.space_picker = Some(1);
    snap("space_picker", &st);
}

/// The room header says whether the backup can make unreadable
/// messages readable here.
#[test]
fn the_header_says_whether_the_backup_can_help() {
    let header = |st: &AppState| {
        draw(st, 200, 24)
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    };
    let mut st = fixtures::in_room();
    assert!(header(&st).contains("1 not readable here (f on one asks the backup)"));
    if let Some(b) = st.backup.status.as_mut() {
        b.key_present = false;
    }
    assert!(header(&st).contains("the backup may hold the keys: unlock it on 3 Recovery"));
    if let Some(b) = st.backup.status.as_mut() {
        b.server_version = None;
    }
    assert!(header(&st).contains("no key backup: only the sender's devices"));
}

/// An image's preview sits under its attachment line (half-blocks here).
#[test]
fn an_image_preview_under_its_line() {
    let mut st = fixtures::rich_room();
    let p = crate::ui::preview::decode(
        &ratatui_image::picker::Picker::halfblocks(),
        &crate::ui::preview::sample_png(),
    )
    .expect("a preview");
    let rows = p.rows as usize;
    st.previews
        .insert("$ev4".into(), crate::app::PreviewState::Ready(p));
    let screen = draw(&st, 80, 30);
    insta::assert_snapshot!("image_preview", screen);
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("[image] cat.png"))
        .expect("the attachment line");
    // Rows of one colour are blanks on a background; where red meets blue,
    // half-blocks.
    assert!(
        lines[at + 1..=at + rows].iter().any(|l| l.contains('▀')),
        "{screen}"
    );
    assert!(lines[at + rows + 1].contains("⤷ 3 replies"), "{screen}");
    // Off: only the line.
    st.previews.clear();
    assert!(!draw(&st, 80, 30).contains('▀'));
}

/// Each link on screen is noted where it is drawn, for OSC 8; a dialog
/// over the room leaves none.
#[test]
fn links_are_noted_where_they_are_drawn() {
    let mut st = fixtures::rich_room();
    let screen = draw(&st, 80, 24);
    let links = crate::ui::links::take();
    assert_eq!(links.len(), 1, "{links:?}");
    let l = &links[0];
    assert_eq!(l.url, "https://example.org/docs");
    let row: String = screen
        .lines()
        .nth(l.area.y as usize)
        .unwrap_or_default()
        .chars()
        .skip(1 + l.area.x as usize)
        .take(l.area.width as usize)
        .collect();
    assert_eq!(row, "the docs", "{links:?}\n{screen}");
    st.help = true;
    draw(&st, 80, 24);
    assert!(crate::ui::links::take().is_empty());
}

#[test]
fn composer_multi_line_reply() {
    let mut st = fixtures::in_room();
    st.compose_mode = crate::app::ComposeMode::Reply {
        event_id: "$ev1".into(),
        to: "@bob:example.org".into(),
    };
    st.composer.insert_str("first line\nsecond line");
    snap("composer_reply", &st);
}

/// A file on its way: the bar above the text; and the members view with
/// every verification state.
#[test]
fn upload_progress_and_the_members_view() {
    use crate::matrix::manage::Member;
    let mut st = fixtures::in_room();
    st.composing.upload = Some(crate::matrix::protocol::UploadProgress {
        room: "!general:example.org".into(),
        name: "holiday photos.zip".into(),
        sent: 3 * 1024 * 1024,
        total: 8 * 1024 * 1024,
    });
    st.composer.insert_str("the photos are coming");
    snap("upload_progress", &st);
    let screen = draw(&st, 80, 24);
    assert!(screen.contains("38% · 3.0 of 8.0 MiB"), "{screen}");

    st.composing.upload = None;
    let m = |id: &str, name: Option<&str>, power, verification| Member {
        user_id: id.into(),
        display_name: name.map(String::from),
        membership: "join",
        power_level: power,
        verification,
    };
    st.members = Some(crate::app::members::MembersView {
        room: "!general:example.org".into(),
        list: vec![
            m("@alice:example.org", Some("Alice"), 100, "verified"),
            m("@bob:example.org", Some("Bob"), 50, "changed"),
            m("@carol:example.org", Some("Carol"), 0, "unverified"),
            Member {
                membership: "invite",
                ..m("@dave:example.org", None, 0, "unknown")
            },
        ],
        sel: 1,
        loading: false,
    });
    snap("members_view", &st);
}

#[test]
fn backup_states() {
    let mut st = fixtures::logged_in();
    st.screen = Screen::Backup;
    st.backup.status = Some(fixtures::no_backup());
    snap("backup_none", &st);
    st.backup.status = Some(fixtures::healthy_backup());
    snap("backup_healthy", &st);
    st.backup.upload = Some(fixtures::uploading());
    snap("backup_uploading", &st);
    st.backup.upload = None;
    st.backup.restoring = true;
    st.backup.restore = Some(fixtures::restoring());
    snap("backup_restoring", &st);
    st.backup.restoring = false;
    st.backup.restore = None;
    st.backup.status = Some(fixtures::stale_backup());
    st.backup.message = Some(Err(
        "the backup key does not match this backup (version 9)".into()
    ));
    snap("backup_stale", &st);
    st.backup.message = None;
    st.backup.status = Some(fixtures::replaced_backup());
    snap("backup_replaced", &st);
    st.backup.inspecting = true;
    snap("backup_inspect_loading", &st);
    st.backup.inspection = Some(fixtures::inspection());
    snap("backup_inspect", &st);
}

/// The status bar and the backup screen render one verdict: in every
/// state, the screen's Health row names it and the bar says the same.
#[test]
fn the_status_bar_and_the_backup_screen_agree_on_health() {
    use crate::backup::health::Health;
    let mut st = logged_in();
    st.screen = Screen::Backup;
    let offline = crate::backup::status::BackupStatus {
        server_error: Some("cannot reach the homeserver".into()),
        server_offline: true,
        ..fixtures::healthy_backup()
    };
    let no_key = crate::backup::status::BackupStatus {
        key_present: false,
        key_matches: None,
        ..fixtures::healthy_backup()
    };
    let cases = [
        (fixtures::healthy_backup(), None, "healthy", "✓"),
        (
            fixtures::healthy_backup(),
            Some(fixtures::uploading()),
            "uploading",
            "uploading, 80 pending",
        ),
        (fixtures::no_backup(), None, "no backup", "no backup"),
        (no_key, None, "no key", "no key here"),
        (
            fixtures::stale_backup(),
            None,
            "key mismatch",
            "key mismatch",
        ),
        (
            fixtures::replaced_backup(),
            None,
            "replaced",
            "replaced (v8)",
        ),
        (offline, None, "offline", "offline"),
    ];
    for (status, upload, word, bar) in cases {
        let h = Health::of(&status, upload.as_ref());
        assert_eq!(h.word().replace('_', " "), word);
        st.backup.status = Some(status);
        st.backup.upload = upload;
        let screen = draw(&st, 100, 30);
        let health_row = screen
            .lines()
            .find(|l| l.contains("Health"))
            .unwrap_or_else(|| panic!("no Health row:\n{screen}"));
        assert!(health_row.contains(word), "{word}: {health_row}");
        // The status bar is the line above the key hints, at the bottom.
        let bar_line = screen.lines().rev().nth(1).unwrap_or_default();
        assert!(
            bar_line.contains(bar),
            "the bar does not say {bar:?}:\n{screen}"
        );
    }
}

#[test]
fn recovery_setup_and_unlock() {
    let mut st = fixtures::logged_in();
    st.screen = Screen::Recovery;
    st.recovery.status = Some(fixtures::recovery_status(false));
    snap("recovery_status", &st);
    st.recovery.new_key = Some(Secret::new(FAKE_RECOVERY_KEY));
    snap("recovery_setup_key", &st);
    st.recovery.new_key = None;
    let mut input = TextInput::masked();
    input.insert_str(FAKE_RECOVERY_KEY);
    st.prompt = Some(Prompt {
        purpose: PromptFor::RecoveryUnlock,
        input,
    });
    let screen = draw(&st, 80, 24);
    assert!(
        !screen.contains("AAAA"),
        "the key shows while typed:\n{screen}"
    );
    snap("recovery_unlock", &st);
}

#[test]
fn verification_dialogs() {
    let mut st = fixtures::in_room();
    let dialog = |state| VerifyDialog {
        flow: fixtures::flow(),
        self_verification: true,
        state,
        busy: false,
        shown_at: 0,
    };
    st.verification = Some(dialog(VerifyState::Incoming {
        from_device: Some("PHONE00002".into()),
    }));
    snap("verify_incoming", &st);
    st.verification = Some(dialog(VerifyState::Emoji {
        emoji: fixtures::emoji(),
    }));
    snap("verify_emoji_just_shown", &st);
    st.ticks = crate::app::EMOJI_MIN_TICKS;
    snap("verify_emoji", &st);
    st.verification = Some(dialog(VerifyState::Done {
        device: Some("PHONE00002".into()),
    }));
    snap("verify_done", &st);
}

#[test]
fn devices_and_help() {
    let mut st = fixtures::logged_in();
    st.screen = Screen::Devices;
    st.devices.list = fixtures::devices();
    st.devices.sel = 2;
    st.notice = Some(Notice {
        text: "asking OLDLAPTOP3 to verify…".into(),
        error: false,
    });
    snap("devices", &st);
    st.incoming_verification = Some(crate::app::IncomingVerification {
        flow: fixtures::flow(),
        self_verification: true,
        from_device: Some("PHONE00002".into()),
    });
    snap("devices_with_a_request", &st);
    st.incoming_verification = None;
    st.help = true;
    snap("help", &st);
}

#[test]
fn command_line_and_error_notice() {
    let mut st = fixtures::logged_in();
    st.notice = Some(Notice {
        text: "unknown command `frob`".into(),
        error: true,
    });
    st.cmdline = Some(TextInput::new("join #rust:example.org"));
    snap("command_line", &st);
}

#[test]
fn a_tiny_terminal_says_so() {
    let st = fixtures::in_room();
    insta::assert_snapshot!("tiny", draw(&st, 40, 10));
    for screen in [
        Screen::Login,
        Screen::Rooms,
        Screen::Backup,
        Screen::Recovery,
        Screen::Devices,
    ] {
        let mut st = fixtures::in_room();
        st.screen = screen;
        for (w, h) in [(MIN_WIDTH - 1, 30), (100, MIN_HEIGHT - 1), (20, 5)] {
            assert!(draw(&st, w, h).contains("too small"), "{screen:?} {w}x{h}");
        }
    }
}

#[test]
fn the_smallest_usable_size() {
    let mut st = fixtures::in_room();
    insta::assert_snapshot!("min_timeline", draw(&st, MIN_WIDTH, MIN_HEIGHT));
    st.screen = Screen::Backup;
    st.backup.upload = Some(fixtures::uploading());
    insta::assert_snapshot!("min_backup", draw(&st, MIN_WIDTH, MIN_HEIGHT));
}

#[test]
fn every_screen_fits_the_minimum_size() {
    for screen in [
        Screen::Rooms,
        Screen::Timeline,
        Screen::Backup,
        Screen::Recovery,
        Screen::Devices,
    ] {
        let mut st = fixtures::in_room();
        st.screen = screen;
        let out = draw(&st, MIN_WIDTH, MIN_HEIGHT);
        assert!(!out.contains("too small"), "{screen:?}:\n{out}");
    }
}

/// A notice quoting server text (a display name in a completion list, an
/// error) never puts a control character on the terminal.
#[test]
fn notices_are_cleaned_of_control_characters() {
    let mut st = fixtures::in_room();
    st.notice = Some(crate::app::Notice {
        text: "Tab: Eve\u{1b}[2J (@eve:example.org)".into(),
        error: false,
    });
    let screen = draw(&st, 80, 24);
    assert!(!screen.contains('\u{1b}'), "{screen}");
    assert!(screen.contains("Tab: Eve\u{fffd}[2J"), "{screen}");
}
