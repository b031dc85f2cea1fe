//! An open room: sending, replies, edits, scrolling, redaction, new messages,
//! fetching keys, threads and files.

use super::*;
use crate::matrix::history::{HistoryItem, Trust};

#[test]
fn enter_in_the_composer_sends_and_alt_enter_breaks_the_line() {
    let mut st = fixtures::in_room();
    typed(&mut st, "hi");
    update(
        &mut st,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)),
    );
    typed(&mut st, "**there**");
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        fx,
        vec![Effect::worker(p::rooms::SendText::markdown(
            "!general:example.org",
            "hi\n**there**"
        ))]
    );
    assert!(st.composer.is_empty());
    // Nothing to send: nothing happens.
    assert!(press(&mut st, KeyCode::Enter).is_empty());
}

/// Esc and a key right after it reach the program as one Alt+key (tmux,
/// ssh): it is Esc, then the key, and no letter lands in the message (the
/// big-account benchmark's scrolling typed "kjkj" into the composer).
#[test]
fn esc_then_a_key_read_as_alt_key_leaves_the_composer_and_uses_the_key() {
    let mut st = fixtures::in_room();
    assert_eq!(st.focus, Focus::Composer);
    let before = st.room.as_ref().and_then(|r| r.sel);
    update(
        &mut st,
        Msg::Key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::ALT)),
    );
    assert!(st.composer.is_empty(), "{:?}", st.composer.text());
    assert_eq!(st.focus, Focus::Messages);
    // Esc selected the newest message; k moved one up from it.
    let newest = st.room.as_ref().map(|r| r.items.len() - 1);
    assert_ne!(before, st.room.as_ref().and_then(|r| r.sel));
    assert_eq!(st.room.as_ref().and_then(|r| r.sel), newest.map(|n| n - 1));
}

#[test]
fn reply_and_edit_from_the_selected_message() {
    let mut st = fixtures::in_room();
    press(&mut st, KeyCode::Esc);
    assert_eq!(st.focus, Focus::Messages);
    // The newest is a redaction; one up is our own reply.
    press(&mut st, KeyCode::Char('k'));
    press(&mut st, KeyCode::Char('e'));
    assert_eq!(st.focus, Focus::Composer);
    assert_eq!(st.composer.text(), "**markdown** reply,\non two lines");
    typed(&mut st, "!");
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::timeline::Edit {
            room: "!general:example.org".into(),
            event_id: "$ev6".into(),
            text: "**markdown** reply,\non two lines!".into()
        })]
    );
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Char('k'));
    press(&mut st, KeyCode::Char('k'));
    press(&mut st, KeyCode::Char('r'));
    typed(&mut st, "yes");
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::timeline::Reply {
            room: "!general:example.org".into(),
            in_reply_to: "$ev5".into(),
            text: "yes".into()
        })]
    );
}

#[test]
fn scrolling_up_to_the_top_loads_older_messages_once() {
    let mut st = fixtures::in_room();
    st.room.as_mut().unwrap().reached_start = false;
    let fx = press(&mut st, KeyCode::PageUp);
    assert_eq!(
        fx,
        vec![Effect::worker(p::timeline::PaginateBack {
            room: "!general:example.org".into(),
            count: PAGE_EVENTS
        })]
    );
    assert!(press(&mut st, KeyCode::PageUp).is_empty());
}

#[test]
fn the_mouse_wheel_scrolls_the_timeline_back() {
    use crossterm::event::{MouseEvent, MouseEventKind};
    let mut st = fixtures::in_room();
    st.room.as_mut().unwrap().reached_start = false;
    let wheel = |kind| {
        Msg::Mouse(MouseEvent {
            kind,
            column: 10,
            row: 10,
            modifiers: KeyModifiers::NONE,
        })
    };
    // Three messages back per notch; near the oldest, older ones are asked for.
    let fx = update(&mut st, wheel(MouseEventKind::ScrollUp));
    assert_eq!(st.room.as_ref().unwrap().sel, Some(4));
    assert!(matches!(
        fx.as_slice(),
        [Effect::Worker(Command::Timeline(
            p::timeline::Cmd::PaginateBack(p::timeline::PaginateBack { .. })
        ))]
    ));
    assert!(update(&mut st, wheel(MouseEventKind::ScrollUp)).is_empty());
    assert_eq!(st.room.as_ref().unwrap().sel, Some(1));
    update(&mut st, wheel(MouseEventKind::ScrollDown));
    update(&mut st, wheel(MouseEventKind::ScrollDown));
    assert_eq!(
        st.room.as_ref().unwrap().sel,
        None,
        "back to following the newest"
    );
}

#[test]
fn writing_again_follows_the_newest_messages() {
    let mut st = fixtures::in_room();
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Char('k'));
    press(&mut st, KeyCode::Char('k'));
    assert_eq!(st.room.as_ref().unwrap().sel, Some(5));
    press(&mut st, KeyCode::Char('i'));
    assert_eq!(st.focus, Focus::Composer);
    assert_eq!(st.room.as_ref().unwrap().sel, None);
}

#[test]
fn redacting_asks_first_naming_the_message_and_typed_ahead_keys_cancel() {
    let mut st = fixtures::in_room();
    press(&mut st, KeyCode::Esc);
    // Up to our own message (the newest is a redaction).
    press(&mut st, KeyCode::Up);
    let sel = st.room.as_ref().and_then(|r| r.selected()).cloned();
    assert!(sel.as_ref().is_some_and(|i| i.own), "{sel:?}");
    let fx = press(&mut st, KeyCode::Char('X'));
    assert!(worker_cmds(&fx).is_empty(), "{fx:?}");
    let q = st
        .confirm
        .as_ref()
        .map(|c| c.question.clone())
        .unwrap_or_default();
    assert!(q.contains("markdown") && q.contains("for everyone"), "{q}");
    // "Xy…": the y came before the question could be read.
    let fx = press(&mut st, KeyCode::Char('y'));
    assert!(worker_cmds(&fx).is_empty(), "{fx:?}");
    assert!(st.confirm.is_none());
    // Asked again and answered.
    press(&mut st, KeyCode::Char('X'));
    let fx = yes(&mut st);
    assert!(
        matches!(
            worker_cmds(&fx)[..],
            [Command::Timeline(p::timeline::Cmd::Redact(
                p::timeline::Redact { .. }
            ))]
        ),
        "{fx:?}"
    );
    // Any other key says no.
    press(&mut st, KeyCode::Char('X'));
    for _ in 0..CONFIRM_ARM_TICKS {
        update(&mut st, Msg::Tick);
    }
    let fx = press(&mut st, KeyCode::Enter);
    assert!(worker_cmds(&fx).is_empty(), "{fx:?}");
    assert!(st.confirm.is_none());
}

#[test]
fn new_messages_never_arrive_unseen() {
    let mut st = fixtures::in_room();
    // Reading history: a message selected well above the newest.
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Up);
    press(&mut st, KeyCode::Up);
    let before = st.room.as_ref().map(|r| r.newer()).unwrap_or(0);
    assert_eq!(before, 2);
    let mut items = st.room.as_ref().unwrap().items.clone();
    let mut arrived = fixtures::item(
        20,
        "@bob:example.org",
        "are you there?",
        crate::matrix::history::Trust::Verified,
    );
    arrived.event_id = Some("$new".into());
    items.push(arrived);
    update(
        &mut st,
        Msg::Worker(Update::Timeline {
            room: "!general:example.org".into(),
            thread: None,
            items,
        }),
    );
    let r = st.room.as_ref().unwrap();
    assert_eq!(r.newer(), 3, "the hint counts it");
    assert_eq!(
        r.unseen_from.as_deref(),
        Some("$new"),
        "the marker goes before it"
    );
    // Reopening the room shows the newest, not where the view was left.
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Esc);
    assert_eq!(st.screen, Screen::Rooms);
    st.room_sel = st
        .visible_rooms()
        .iter()
        .position(|r| r.room_id == "!general:example.org")
        .unwrap();
    press(&mut st, KeyCode::Enter);
    let r = st.room.as_ref().unwrap();
    assert_eq!(r.sel, None);
    assert_eq!(r.newer(), 0);
}

#[test]
fn fetch_on_an_undecryptable_message_asks_the_backup_for_its_key() {
    let mut st = fixtures::in_room();
    press(&mut st, KeyCode::Esc);
    // From the newest (a redaction) up to the undecryptable one.
    for _ in 0..2 {
        press(&mut st, KeyCode::Char('k'));
    }
    let fx = press(&mut st, KeyCode::Char('f'));
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::backup::Fetch {
            room: "!general:example.org".into(),
            session_ids: vec!["sess".into()],
        })]
    );
    // Without the key on this device it asks for the recovery key, unlocks
    // with it, then fetches just this message's key: no whole restore.
    st.backup.status = Some(fixtures::no_backup());
    let fx = press(&mut st, KeyCode::Char('f'));
    assert!(worker_cmds(&fx).is_empty());
    assert_eq!(
        st.prompt.as_ref().map(|p| p.purpose),
        Some(PromptFor::RecoveryUnlock)
    );
    typed(&mut st, FAKE_RECOVERY_KEY);
    let fx = press(&mut st, KeyCode::Enter);
    assert!(
        matches!(
            worker_cmds(&fx)[..],
            [Command::Recovery(p::recovery::Cmd::Unlock(
                p::recovery::Unlock { .. }
            ))]
        ),
        "{fx:?}"
    );
    let ops = sent(&mut st, &fx);
    let fx = update(
        &mut st,
        done::<p::recovery::Unlock>(
            ops[0],
            Ok(crate::matrix::recovery::Unlocked {
                device_verified: true,
                backup_key: true,
            }),
        ),
    );
    let cmds = worker_cmds(&fx);
    assert!(
        cmds.contains(&&Command::from(p::backup::Fetch {
            room: "!general:example.org".into(),
            session_ids: vec!["sess".into()],
        })),
        "{fx:?}"
    );
    assert!(
        !cmds.iter().any(|c| matches!(
            c,
            Command::Backup(p::backup::Cmd::Restore(p::backup::Restore { .. }))
        )),
        "{fx:?}"
    );
}

/// The worker's snapshot of the open room's timeline.
fn snapshot(items: Vec<HistoryItem>) -> Msg {
    Msg::Worker(Update::Timeline {
        room: "!general:example.org".into(),
        thread: None,
        items,
    })
}

/// Selects the message at `index` of the open room, from the composer.
fn select(st: &mut AppState, index: usize) {
    press(st, KeyCode::Esc);
    let last = st.room.as_ref().map_or(0, |r| r.items.len() - 1);
    for _ in index..last {
        press(st, KeyCode::Char('k'));
    }
    assert_eq!(st.room.as_ref().and_then(|r| r.sel), Some(index));
}

#[test]
fn t_opens_a_thread_where_replies_go_and_esc_comes_back() {
    let mut st = fixtures::rich_room();
    select(&mut st, 4);
    let fx = press(&mut st, KeyCode::Char('t'));
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::timeline::Open {
            room: "!general:example.org".into(),
            thread: Some("$ev4".into()),
        })]
    );
    let r = st.room.as_ref().unwrap();
    assert_eq!(r.thread.as_deref(), Some("$ev4"));
    assert!(r.items.is_empty() && r.loading);
    // A late snapshot of the main timeline is not the thread's.
    let main = fixtures::timeline();
    update(
        &mut st,
        Msg::Worker(Update::Timeline {
            room: "!general:example.org".into(),
            thread: None,
            items: main,
        }),
    );
    assert!(st.room.as_ref().unwrap().items.is_empty());
    let root = fixtures::rich_room().room.unwrap().items[4].clone();
    let reply = HistoryItem {
        thread_root: Some("$ev4".into()),
        ..fixtures::item(9, "@bob:example.org", "in the thread", Trust::Verified)
    };
    update(
        &mut st,
        Msg::Worker(Update::Timeline {
            room: "!general:example.org".into(),
            thread: Some("$ev4".into()),
            items: vec![root, reply],
        }),
    );
    assert_eq!(st.room.as_ref().unwrap().items.len(), 2);
    if let Some(r) = st.room.as_mut() {
        r.reached_start = true;
        r.paginating = false;
    }
    let screen = {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24))
            .expect("a test terminal");
        term.draw(|f| crate::ui::render(&st, &crate::ui::theme::Theme::default(), f))
            .expect("draw");
        term.backend().to_string()
    };
    assert!(screen.contains("Thread in General"), "{screen}");
    assert!(screen.contains("start of the thread"), "{screen}");
    // What is written here is a reply in the thread.
    press(&mut st, KeyCode::Char('i'));
    typed(&mut st, "me too");
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::SendText {
            room: "!general:example.org".into(),
            text: "me too".into(),
            thread: Some("$ev4".into()),
            format: Default::default(),
            mentions: vec![],
        })]
    );
    // Esc from the messages goes back to the room, not to the room list.
    press(&mut st, KeyCode::Esc);
    let fx = press(&mut st, KeyCode::Esc);
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::timeline::Open {
            room: "!general:example.org".into(),
            thread: None,
        })]
    );
    assert_eq!(st.screen, Screen::Timeline);
    assert_eq!(st.room.as_ref().unwrap().thread, None);
}

#[test]
fn d_saves_a_file_and_o_opens_it_once_saved_or_opens_a_link() {
    let mut st = fixtures::rich_room();
    st.download_dir = "/home/alice/Downloads".into();
    select(&mut st, 4);
    let fx = press(&mut st, KeyCode::Char('d'));
    let save = p::timeline::Download {
        room: "!general:example.org".into(),
        event_id: "$ev4".into(),
        target: crate::matrix::media::Target::Dir("/home/alice/Downloads".into()),
        open: false,
    };
    assert_eq!(worker_cmds(&fx), vec![&Command::from(save.clone())]);
    let ops = sent(&mut st, &fx);
    let saved = crate::matrix::media::Saved {
        path: "/home/alice/Downloads/cat.png".into(),
        name: "cat.png".into(),
        size: 14_540,
        mimetype: Some("image/png".into()),
    };
    let fx = update(
        &mut st,
        done::<p::timeline::Download>(ops[0], Ok(saved.clone())),
    );
    assert!(fx.is_empty(), "saving opens nothing: {fx:?}");
    assert!(
        st.notice.as_ref().is_some_and(|n| n
            .text
            .contains("saved cat.png to /home/alice/Downloads/cat.png")),
        "{:?}",
        st.notice
    );
    // o: saved, then opened.
    let fx = press(&mut st, KeyCode::Char('o'));
    let ops = sent(&mut st, &fx);
    let fx = update(&mut st, done::<p::timeline::Download>(ops[0], Ok(saved)));
    assert_eq!(
        fx,
        vec![Effect::OpenExternal("/home/alice/Downloads/cat.png".into())]
    );
    // A message without a file: d says so, o opens its link.
    press(&mut st, KeyCode::Char('k'));
    assert!(worker_cmds(&press(&mut st, KeyCode::Char('d'))).is_empty());
    assert!(st.notice.as_ref().is_some_and(|n| n.error));
    let fx = press(&mut st, KeyCode::Char('o'));
    assert_eq!(
        fx,
        vec![Effect::OpenExternal("https://example.org/docs".into())]
    );
    // A link of a scheme the sanitizer would not allow never reaches the
    // opener.
    if let Some(r) = &mut st.room {
        let at = r.sel.expect("selected");
        let (clean, rich) =
            crate::matrix::formatted::parse("see <a href=\"file:///etc/passwd\">this</a>");
        r.items[at].formatted = Some(clean);
        r.items[at].rich = rich;
    }
    let fx = press(&mut st, KeyCode::Char('o'));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(st.notice.as_ref().is_some_and(|n| n.error));
}

#[test]
fn the_newest_message_on_screen_is_marked_read_once() {
    let mut st = fixtures::in_room();
    let items = st.room.as_ref().unwrap().items.clone();
    let fx = update(&mut st, snapshot(items.clone()));
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::timeline::MarkRead {
            room: "!general:example.org".into(),
            event_id: "$ev7".into(),
            public: true,
        })]
    );
    // The same newest message again: nothing more to say.
    assert!(worker_cmds(&update(&mut st, snapshot(items.clone()))).is_empty());
    // Reading history: a new message is not read yet.
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Char('k'));
    press(&mut st, KeyCode::Char('k'));
    let mut more = items.clone();
    more.push(fixtures::item(8, "@bob:example.org", "new", Trust::Plain));
    assert!(worker_cmds(&update(&mut st, snapshot(more))).is_empty());
    // Scrolled down to it: now it is.
    let fx = press(&mut st, KeyCode::End);
    assert!(
        worker_cmds(&fx).contains(&&Command::from(p::timeline::MarkRead {
            room: "!general:example.org".into(),
            event_id: "$ev8".into(),
            public: true,
        })),
        "{fx:?}"
    );
}

#[test]
fn slash_finds_in_the_loaded_messages_newest_first() {
    let mut st = fixtures::in_room();
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Char('/'));
    assert!(st.search.is_some());
    typed(&mut st, "VERIFIED");
    // "a verified message" (1), "from an unverified device" (2): newest first.
    assert_eq!(st.room.as_ref().unwrap().sel, Some(2));
    assert!(crate::app::search::status(&st).starts_with("1/2"));
    press(&mut st, KeyCode::Up);
    assert_eq!(st.room.as_ref().unwrap().sel, Some(1));
    press(&mut st, KeyCode::Up);
    assert_eq!(
        st.room.as_ref().unwrap().sel,
        Some(1),
        "stays at the oldest"
    );
    press(&mut st, KeyCode::Down);
    assert_eq!(st.room.as_ref().unwrap().sel, Some(2));
    // Enter closes the line; the match stays selected.
    press(&mut st, KeyCode::Enter);
    assert!(st.search.is_none());
    assert_eq!(st.room.as_ref().unwrap().sel, Some(2));
    press(&mut st, KeyCode::Char('/'));
    typed(&mut st, "nowhere");
    assert!(crate::app::search::status(&st).contains("no match in the 8 loaded messages"));
}

#[test]
fn colon_search_asks_the_server_only_where_it_can_read() {
    // Encrypted: the loaded messages, and it says why.
    let mut st = fixtures::in_room();
    let fx = run(&mut st, "search yesterday");
    assert!(worker_cmds(&fx).is_empty());
    assert_eq!(st.room.as_ref().unwrap().sel, Some(0));
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("encrypted"))
    );
    // Unencrypted: the server.
    let mut st = fixtures::in_room();
    st.room.as_mut().unwrap().encrypted = false;
    let fx = run(&mut st, "search a verified");
    let ask = p::rooms::Search {
        room: "!general:example.org".into(),
        text: "a verified".into(),
        limit: 50,
    };
    assert_eq!(worker_cmds(&fx), vec![&Command::from(ask)]);
    let ops = sent(&mut st, &fx);
    let found = |id: &str| crate::matrix::search::Found {
        event_id: id.into(),
        sender: "@bob:example.org".into(),
        ts: 0,
        body: "a verified message".into(),
    };
    update(
        &mut st,
        done::<p::rooms::Search>(ops[0], Ok(vec![found("$old"), found("$ev1")])),
    );
    assert_eq!(st.found.as_ref().unwrap().items.len(), 2);
    // A result older than the loaded messages: said so.
    press(&mut st, KeyCode::Enter);
    assert!(st.found.is_none());
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("older than"))
    );
    // A loaded one is selected.
    let fx = run(&mut st, "search a verified");
    let ops = sent(&mut st, &fx);
    update(
        &mut st,
        done::<p::rooms::Search>(ops[0], Ok(vec![found("$old"), found("$ev1")])),
    );
    press(&mut st, KeyCode::Down);
    press(&mut st, KeyCode::Enter);
    assert_eq!(st.room.as_ref().unwrap().sel, Some(1));
}

#[test]
fn images_get_a_preview_asked_for_once() {
    let mut st = fixtures::rich_room();
    let items = st.room.as_ref().unwrap().items.clone();
    let fx = update(&mut st, snapshot(items.clone()));
    let ask = Command::from(p::timeline::Preview {
        room: "!general:example.org".into(),
        event_id: "$ev4".into(),
    });
    assert!(worker_cmds(&fx).contains(&&ask), "{fx:?}");
    let ops = sent(&mut st, &[Effect::Worker(ask.clone())]);
    // Asked once, not on every snapshot.
    assert!(!worker_cmds(&update(&mut st, snapshot(items))).contains(&&ask));
    let fx = update(
        &mut st,
        done::<p::timeline::Preview>(ops[0], Ok(vec![1, 2, 3])),
    );
    assert_eq!(
        fx,
        vec![Effect::DecodePreview {
            event_id: "$ev4".into(),
            bytes: vec![1, 2, 3]
        }]
    );
    update(
        &mut st,
        Msg::Preview {
            event_id: "$ev4".into(),
            result: Err("unreadable image".into()),
        },
    );
    assert!(matches!(
        st.previews.get("$ev4"),
        Some(PreviewState::Failed(_))
    ));
    // Off by config: nothing asked.
    let mut st = fixtures::rich_room();
    st.previews_on = false;
    let items = st.room.as_ref().unwrap().items.clone();
    let fx = update(&mut st, snapshot(items));
    assert!(
        !worker_cmds(&fx)
            .iter()
            .any(|c| matches!(c, Command::Timeline(p::timeline::Cmd::Preview(_)))),
        "{fx:?}"
    );
}
