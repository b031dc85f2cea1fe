//! Login, the room list, leaving, quitting, notices.

use super::*;

#[test]
fn login_sends_the_form_and_then_starts_the_session() {
    let mut st = AppState::login(keys::KeyMap::default(), Some("http://127.0.0.1:8008"), None);
    assert_eq!(st.login.field(), LoginField::User);
    typed(&mut st, "alice");
    // Enter on a field with the password missing moves to it, no error.
    assert!(press(&mut st, KeyCode::Enter).is_empty());
    assert_eq!(st.login.field(), LoginField::Password);
    typed(&mut st, "s3cret");
    assert_eq!(st.login.password.shown(), "••••••");
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        fx,
        vec![Effect::Login {
            homeserver: "http://127.0.0.1:8008".into(),
            user: "alice".into(),
            password: Secret::new("s3cret"),
        }]
    );
    assert!(st.login.busy);
    assert!(st.login.password.is_empty(), "the password left the form");
    assert!(!format!("{fx:?}").contains("s3cret"));

    // A failure shows in place and lets the user try again.
    update(
        &mut st,
        Msg::LoggedIn(Err("login failed: wrong user name or password".into())),
    );
    assert!(!st.login.busy);
    assert_eq!(
        st.login.error.as_deref(),
        Some("login failed: wrong user name or password")
    );
    typed(&mut st, "right");
    press(&mut st, KeyCode::Enter);
    let fx = update(&mut st, Msg::LoggedIn(Ok("@alice:127.0.0.1".into())));
    assert_eq!(st.screen, Screen::Rooms);
    assert_eq!(fx, startup());
}

#[test]
fn rooms_filter_and_invites() {
    let mut st = fixtures::logged_in();
    press(&mut st, KeyCode::Char('/'));
    typed(&mut st, "party");
    press(&mut st, KeyCode::Enter);
    assert_eq!(st.visible_rooms().len(), 1);
    let fx = press(&mut st, KeyCode::Char('x'));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(
        st.confirm
            .as_ref()
            .is_some_and(|c| c.question.contains("Party planning")),
        "{:?}",
        st.confirm
    );
    let fx = yes(&mut st);
    assert_eq!(
        fx,
        vec![Effect::worker(p::rooms::Leave {
            room: "!party:example.org".into()
        })]
    );
    press(&mut st, KeyCode::Esc);
    assert_eq!(st.visible_rooms().len(), 4);
    // Enter opens a joined room, follows its timeline and loads its
    // members (for completion).
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        fx,
        vec![
            Effect::worker(p::timeline::Open {
                room: "!general:example.org".into(),
                thread: None,
            }),
            Effect::worker(p::rooms::Members {
                room: "!general:example.org".into()
            })
        ]
    );
    assert_eq!(st.screen, Screen::Timeline);
}

#[test]
fn a_late_rooms_reply_does_not_undo_what_sync_sent() {
    let mut st = AppState::new(keys::KeyMap::default());
    sent(&mut st, &[Effect::worker(p::rooms::List)]);
    let op = *st.pending.keys().next().unwrap();
    let fresh = fixtures::rooms();
    update(&mut st, Msg::Worker(Update::Rooms(fresh.clone())));
    let mut stale = fixtures::rooms();
    stale[0].encrypted = false;
    update(&mut st, done::<p::rooms::List>(op, Ok(stale)));
    let mut sorted = fresh;
    crate::matrix::room_order::sort(&mut sorted, st.room_sort);
    assert_eq!(st.rooms, sorted);
}

#[test]
fn the_room_list_follows_activity_and_sort_reorders_it_keeping_the_highlight() {
    let mut st = AppState::new(keys::KeyMap::default());
    let mut rooms = fixtures::rooms();
    // General was active last, the lobby long ago, Bob never.
    rooms[0].last_activity = Some(fixtures::T0 + 5);
    rooms[2].last_activity = Some(fixtures::T0);
    update(&mut st, Msg::Worker(Update::Rooms(rooms)));
    let names = |st: &AppState| -> Vec<String> {
        st.visible_rooms().iter().map(|r| r.name.clone()).collect()
    };
    assert_eq!(
        names(&st),
        ["Party planning", "General", "Public lobby", "Bob"]
    );
    press(&mut st, KeyCode::Down);
    press(&mut st, KeyCode::Down);
    assert_eq!(
        st.selected_room().map(|r| r.name.as_str()),
        Some("Public lobby")
    );
    run(&mut st, "sort name");
    assert_eq!(
        names(&st),
        ["Party planning", "Bob", "General", "Public lobby"]
    );
    assert_eq!(
        st.selected_room().map(|r| r.name.as_str()),
        Some("Public lobby")
    );
    // A new list from sync keeps the chosen order.
    update(&mut st, Msg::Worker(Update::Rooms(fixtures::rooms())));
    assert_eq!(
        names(&st),
        ["Party planning", "Bob", "General", "Public lobby"]
    );
    run(&mut st, "sort size");
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("activity, name, unread")),
        "{:?}",
        st.notice
    );
    assert_eq!(st.room_sort, crate::matrix::room_order::RoomSort::Name);
}

#[test]
fn leave_acts_on_the_room_shown_and_asks() {
    let mut st = fixtures::in_room();
    // Back on the room list, another room highlighted than the one opened.
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Esc);
    assert_eq!(st.screen, Screen::Rooms);
    let opened = st.room.as_ref().map(|r| r.id.clone());
    press(&mut st, KeyCode::Down);
    let highlighted = st
        .selected_room()
        .map(|r| (r.room_id.clone(), r.name.clone()));
    let (hid, hname) = highlighted.expect("a highlighted room");
    assert_ne!(Some(hid.clone()), opened);
    let fx = run(&mut st, "leave");
    assert!(worker_cmds(&fx).is_empty(), "{fx:?}");
    assert!(
        st.confirm
            .as_ref()
            .is_some_and(|c| c.question.contains(&hname)),
        "{:?}",
        st.confirm
    );
    let fx = yes(&mut st);
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::Leave { room: hid })]
    );
}

#[test]
fn quit_and_ticks() {
    let mut st = fixtures::logged_in();
    st.dirty = false;
    assert!(update(&mut st, Msg::Tick).is_empty());
    assert!(!st.dirty, "an idle tick redraws nothing");
    assert_eq!(press(&mut st, KeyCode::Char('q')), vec![Effect::Quit]);
}

#[test]
fn notices_fade_after_a_while() {
    let mut st = fixtures::logged_in();
    run(&mut st, "frob");
    assert!(st.notice.as_ref().is_some_and(|n| n.error));
    for _ in 0..=NOTICE_TICKS * 2 {
        update(&mut st, Msg::Tick);
    }
    assert!(st.notice.is_none());
}

#[test]
fn quitting_keeps_an_unsent_message_as_a_draft_unless_it_holds_a_secret() {
    let mut st = fixtures::in_room();
    typed(&mut st, "half a thought");
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Char('q'));
    assert!(st.quit, "{:?}", st.confirm);
    assert_eq!(
        crate::app::composer::drafts_to_save(&st).get("!general:example.org"),
        Some(&"half a thought".to_owned())
    );

    // A password typed in keepsake is never written to a file: quitting
    // would lose it, so it asks.
    let mut st = fixtures::in_room();
    st.typed_secrets.remember("correct horse battery");
    typed(&mut st, "my pw is correct horse battery");
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Char('q'));
    assert!(!st.quit);
    assert!(
        st.confirm
            .as_ref()
            .is_some_and(|c| c.question.contains("not kept as a draft")),
        "{:?}",
        st.confirm
    );
    assert!(crate::app::composer::drafts_to_save(&st).is_empty());
    press(&mut st, KeyCode::Char('n'));
    assert!(!st.quit);
    press(&mut st, KeyCode::Char('q'));
    yes(&mut st);
    assert!(st.quit);
}

#[test]
fn the_runtime_changes_state_only_through_messages() {
    // A saved account opens: online, and the session starts.
    let mut st = AppState::new(fixtures::logged_in().keys.clone());
    let fx = update(&mut st, Msg::AccountOpen { user: None });
    assert!(st.online);
    assert_eq!(fx, startup());
    // Commands handed to the worker are remembered until answered.
    update(
        &mut st,
        Msg::Sent {
            op: 7,
            cmd: p::backup::Status.into(),
        },
    );
    assert_eq!(st.pending.get(&7), Some(&Command::from(p::backup::Status)));
    // No account: the login screen, keeping the terminal's facts.
    st.size = (120, 40);
    update(
        &mut st,
        Msg::LoginNeeded {
            homeserver: Some("https://example.org".into()),
            user: Some("alice".into()),
            error: Some("cannot reach the homeserver".into()),
        },
    );
    assert_eq!(st.screen, Screen::Login);
    assert_eq!(st.size, (120, 40));
    assert_eq!(
        st.login.error.as_deref(),
        Some("cannot reach the homeserver")
    );
    assert_eq!(st.login.user.text(), "alice");
    // A frame drawn leaves nothing to redraw; quitting says what it waits for.
    update(&mut st, Msg::Drawn);
    assert!(!st.dirty);
    update(&mut st, Msg::Quitting);
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("before quitting"))
    );
}

#[test]
fn a_space_shows_its_rooms_and_the_picker_chooses_one() {
    let mut st = fixtures::logged_in();
    st.rooms.push(crate::matrix::rooms::RoomSummary {
        is_space: true,
        ..fixtures::room("!work:example.org", "Work", "joined")
    });
    st.rooms[0].spaces = vec!["!work:example.org".into()];
    let names = |st: &AppState| -> Vec<String> {
        st.visible_rooms().iter().map(|r| r.name.clone()).collect()
    };
    // Spaces are not rooms to chat in.
    assert!(!names(&st).contains(&"Work".to_owned()));
    assert_eq!(names(&st).len(), 4);
    run(&mut st, "space work");
    assert_eq!(names(&st), ["General"]);
    assert_eq!(st.screen, Screen::Rooms);
    run(&mut st, "space all");
    assert_eq!(names(&st).len(), 4);
    run(&mut st, "space nowhere");
    assert!(st.notice.as_ref().is_some_and(|n| n.error));
    // The picker: every room first, then the spaces.
    run(&mut st, "space");
    assert_eq!(st.space_picker, Some(0));
    press(&mut st, KeyCode::Down);
    press(&mut st, KeyCode::Enter);
    assert_eq!(st.space_picker, None);
    assert_eq!(st.space.as_deref(), Some("!work:example.org"));
    assert_eq!(names(&st), ["General"]);
}

#[test]
fn mentions_and_direct_messages_elsewhere_ring_and_notify() {
    use crate::matrix::alerts::Alert;
    let alert = |room: &str, highlight: bool, is_dm: bool| Alert {
        room_id: room.into(),
        room_name: "Lobby".into(),
        sender: "@bob:example.org".into(),
        sender_name: "Bob".into(),
        body: "hi alice".into(),
        highlight,
        is_dm,
    };
    let mut st = fixtures::in_room();
    let ring = |summary: &str| {
        vec![
            Effect::Bell,
            Effect::Desktop {
                summary: summary.into(),
                body: "hi alice".into(),
            },
        ]
    };
    let got = |st: &mut AppState, a| update(st, Msg::Worker(Update::Alert(a)));
    // A mention in another room.
    assert_eq!(
        got(&mut st, alert("!lobby:example.org", true, false)),
        ring("Bob in Lobby")
    );
    // A plain message there: only with "all".
    assert!(got(&mut st, alert("!lobby:example.org", false, false)).is_empty());
    // A direct message.
    assert_eq!(
        got(&mut st, alert("!dm:example.org", false, true)),
        ring("Bob")
    );
    // The room in view: nothing.
    assert!(got(&mut st, alert("!general:example.org", true, false)).is_empty());
    // Per room and globally, as configured.
    st.notify.rooms.insert("Lobby".into(), alerts::Level::All);
    assert_eq!(
        got(&mut st, alert("!lobby:example.org", false, false)),
        ring("Bob in Lobby")
    );
    st.notify
        .rooms
        .insert("!lobby:example.org".into(), alerts::Level::Off);
    assert!(got(&mut st, alert("!lobby:example.org", true, false)).is_empty());
    st.notify.desktop = false;
    assert_eq!(
        got(&mut st, alert("!dm:example.org", false, true)),
        vec![Effect::Bell]
    );
    st.notify.bell = false;
    assert!(got(&mut st, alert("!dm:example.org", false, true)).is_empty());
}
