//! Reading in an open room: threads, files and image previews, read
//! marks, and finding text.

use super::timeline::{select, snapshot};
use super::*;
use crate::matrix::history::{HistoryItem, Trust};

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
