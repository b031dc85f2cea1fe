//! An open room: sending, replies, edits, scrolling, redaction, new messages,
//! fetching keys (threads, files and search: `reading`).

use super::*;
use crate::matrix::history::HistoryItem;

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
pub(super) fn snapshot(items: Vec<HistoryItem>) -> Msg {
    Msg::Worker(Update::Timeline {
        room: "!general:example.org".into(),
        thread: None,
        items,
    })
}

/// Selects the message at `index` of the open room, from the composer.
pub(super) fn select(st: &mut AppState, index: usize) {
    press(st, KeyCode::Esc);
    let last = st.room.as_ref().map_or(0, |r| r.items.len() - 1);
    for _ in index..last {
        press(st, KeyCode::Char('k'));
    }
    assert_eq!(st.room.as_ref().and_then(|r| r.sel), Some(index));
}
