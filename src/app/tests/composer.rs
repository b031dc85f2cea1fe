//! The composer: slash commands, completion, drafts, typing notices, files,
//! the members view and editing keys.

use super::*;
use crate::matrix::manage::{Member, Moderation};
use crate::matrix::outgoing::{Mention, TextFormat};

const ROOM: &str = "!general:example.org";

fn send(st: &mut AppState, text: &str) -> Vec<Effect> {
    typed(st, text);
    press(st, KeyCode::Enter)
}

fn sent_text(fx: &[Effect]) -> Option<p::rooms::SendText> {
    worker_cmds(fx).into_iter().find_map(|c| match c {
        Command::Rooms(p::rooms::Cmd::SendText(s)) => Some(s.clone()),
        _ => None,
    })
}

fn member(id: &str, name: &str) -> Member {
    Member {
        user_id: id.into(),
        display_name: Some(name.into()),
        membership: "join",
        power_level: 0,
        verification: "unverified",
    }
}

#[test]
fn me_shrug_plain_html_and_a_literal_slash_are_sent_in_their_format() {
    let mut st = fixtures::in_room();
    let s = sent_text(&send(&mut st, "/me waves")).expect("sent");
    assert_eq!((s.text.as_str(), s.format), ("waves", TextFormat::Emote));
    assert!(st.composer.is_empty());
    let s = sent_text(&send(&mut st, "/plain **as typed**")).expect("sent");
    assert_eq!(
        (s.text.as_str(), s.format),
        ("**as typed**", TextFormat::Plain)
    );
    let s = sent_text(&send(&mut st, "/html <i>hi</i>")).expect("sent");
    assert_eq!(s.format, TextFormat::Html);
    let s = sent_text(&send(&mut st, "/shrug fine")).expect("sent");
    assert_eq!(s.text, "¯\\_(ツ)_/¯ fine");
    let s = sent_text(&send(&mut st, "//slash at the start")).expect("sent");
    assert_eq!(
        (s.text.as_str(), s.format),
        ("/slash at the start", TextFormat::Markdown)
    );
    // :shortcodes: become emoji in a markdown message.
    let s = sent_text(&send(&mut st, "ship it :rocket:")).expect("sent");
    assert_eq!(s.text, "ship it 🚀");
}

#[test]
fn an_unknown_command_is_said_and_not_sent_and_stays_to_be_fixed() {
    let mut st = fixtures::in_room();
    let fx = send(&mut st, "/mee waves");
    assert!(sent_text(&fx).is_none(), "{fx:?}");
    assert_eq!(st.composer.text(), "/mee waves");
    let n = st.notice.as_ref().expect("a notice");
    assert!(
        n.error && n.text.contains("unknown command /mee"),
        "{}",
        n.text
    );
}

#[test]
fn room_commands_from_the_composer() {
    let mut st = fixtures::in_room();
    let fx = send(&mut st, "/topic Cats, mostly");
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::SetTopic {
            room: ROOM.into(),
            topic: "Cats, mostly".into()
        })]
    );
    let fx = send(&mut st, "/name Cat room");
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::SetName {
            room: ROOM.into(),
            name: "Cat room".into()
        })]
    );
    let fx = send(&mut st, "/invite @dave:example.org");
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::Invite {
            room: ROOM.into(),
            user: "@dave:example.org".into()
        })]
    );
    let fx = send(&mut st, "/join #cats:example.org");
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::Join {
            room: "#cats:example.org".into()
        })]
    );
    let fx = send(&mut st, "/dm @bob:example.org");
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::Dm {
            user: "@bob:example.org".into()
        })]
    );
    // Unbanning takes nothing from anyone: sent at once.
    let fx = send(&mut st, "/unban @spam:example.org");
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::Moderate {
            room: ROOM.into(),
            user: "@spam:example.org".into(),
            what: Moderation::Unban,
            reason: None,
        })]
    );
}

#[test]
fn kick_ban_and_leave_name_their_target_and_ask() {
    let mut st = fixtures::in_room();
    let fx = send(&mut st, "/ban @spam:example.org links again");
    assert!(worker_cmds(&fx).is_empty());
    let q = st.confirm.as_ref().expect("asks").question.clone();
    assert!(
        q.contains("Ban @spam:example.org from General") && q.contains("links again"),
        "{q}"
    );
    let fx = yes(&mut st);
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::Moderate {
            room: ROOM.into(),
            user: "@spam:example.org".into(),
            what: Moderation::Ban,
            reason: Some("links again".into()),
        })]
    );
    // A letter typed ahead answers no.
    send(&mut st, "/kick @bob:example.org");
    assert!(st.confirm.is_some());
    let fx = press(&mut st, KeyCode::Char('n'));
    assert!(worker_cmds(&fx).is_empty());
    send(&mut st, "/leave");
    let q = st.confirm.as_ref().expect("asks").question.clone();
    assert!(q.contains("Leave General?"), "{q}");
}

#[test]
fn upload_sends_the_file_and_shows_its_progress_until_done() {
    let mut st = fixtures::in_room();
    let fx = send(&mut st, "/upload /tmp/a cat.png");
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::SendFile {
            room: ROOM.into(),
            path: "/tmp/a cat.png".into(),
            thread: None,
        })]
    );
    update(
        &mut st,
        Msg::Worker(Update::Upload(p::UploadProgress {
            room: ROOM.into(),
            name: "a cat.png".into(),
            sent: 512,
            total: 1024,
        })),
    );
    assert_eq!(st.composing.upload.as_ref().map(|u| u.sent), Some(512));
    // One file at a time.
    send(&mut st, "/upload /tmp/b.png");
    assert!(st.notice.as_ref().is_some_and(|n| n.error));
    let op = 7;
    st.pending.insert(
        op,
        Command::from(p::rooms::SendFile {
            room: ROOM.into(),
            path: "/tmp/a cat.png".into(),
            thread: None,
        }),
    );
    update(
        &mut st,
        Msg::Worker(Update::Done {
            op,
            outcome: <p::rooms::SendFile as p::Request>::done(Ok("$file".into())),
        }),
    );
    assert!(st.composing.upload.is_none());
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text == "sent a cat.png")
    );
}

#[test]
fn in_a_thread_text_and_files_go_to_the_thread() {
    let mut st = fixtures::in_room();
    if let Some(r) = &mut st.room {
        r.thread = Some("$ev1".into());
    }
    let s = sent_text(&send(&mut st, "in the thread")).expect("sent");
    assert_eq!(s.thread.as_deref(), Some("$ev1"));
    let fx = send(&mut st, "/upload /tmp/x.txt");
    assert!(
        worker_cmds(&fx).contains(&&Command::from(p::rooms::SendFile {
            room: ROOM.into(),
            path: "/tmp/x.txt".into(),
            thread: Some("$ev1".into()),
        }))
    );
}

#[test]
fn thread_text_replies_in_the_newest_messages_thread() {
    let mut st = fixtures::in_room();
    let s = sent_text(&send(&mut st, "/thread me too")).expect("sent");
    assert_eq!(s.text, "me too");
    // The newest message with an id is the redaction, $ev7.
    assert_eq!(s.thread.as_deref(), Some("$ev7"));
}

#[test]
fn tab_completes_commands_members_with_real_mentions_and_cycles() {
    let mut st = fixtures::in_room();
    typed(&mut st, "/to");
    press(&mut st, KeyCode::Tab);
    assert_eq!(st.composer.text(), "/topic ");
    drop(st.composer.take());

    if let Some(r) = &mut st.room {
        r.members = vec![
            member("@bob:example.org", "Bob"),
            member("@bobby:example.org", "Bobby Tables"),
            member("@carol:example.org", "Carol"),
        ];
    }
    typed(&mut st, "@bo");
    press(&mut st, KeyCode::Tab);
    assert_eq!(st.composer.text(), "Bob: ");
    // Tab again: the next one in place of it.
    press(&mut st, KeyCode::Tab);
    assert_eq!(st.composer.text(), "Bobby Tables: ");
    typed(&mut st, "hi");
    let s = sent_text(&press(&mut st, KeyCode::Enter)).expect("sent");
    assert_eq!(s.text, "Bobby Tables: hi");
    assert!(
        s.mentions.contains(&Mention {
            label: "Bobby Tables".into(),
            user_id: "@bobby:example.org".into()
        }),
        "{:?}",
        s.mentions
    );
    // Later in a line: no colon.
    typed(&mut st, "ask @car");
    press(&mut st, KeyCode::Tab);
    assert_eq!(st.composer.text(), "ask Carol ");
}

#[test]
fn drafts_stay_with_their_room_across_switches() {
    let mut st = fixtures::in_room();
    typed(&mut st, "for general");
    st.screen = Screen::Rooms;
    // Bob's DM is the third room by activity order in the fixture: find it.
    let bob = st
        .visible_rooms()
        .iter()
        .position(|r| r.room_id == "!bob:example.org")
        .expect("bob's room");
    st.room_sel = bob;
    press(&mut st, KeyCode::Enter);
    assert_eq!(
        st.room.as_ref().map(|r| r.id.as_str()),
        Some("!bob:example.org")
    );
    assert!(st.composer.is_empty());
    typed(&mut st, "for bob");
    let saved = crate::app::composer::drafts_to_save(&st);
    assert_eq!(saved.get(ROOM).map(String::as_str), Some("for general"));
    assert_eq!(
        saved.get("!bob:example.org").map(String::as_str),
        Some("for bob")
    );
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Esc);
    let general = st
        .visible_rooms()
        .iter()
        .position(|r| r.room_id == ROOM)
        .expect("general");
    st.room_sel = general;
    press(&mut st, KeyCode::Enter);
    assert_eq!(st.composer.text(), "for general");
}

#[test]
fn a_draft_holding_a_recovery_key_is_never_kept() {
    let mut st = fixtures::in_room();
    let key = crate::crypto::recovery_key::encode(&crate::crypto::SecretKey::from_bytes([9; 32]));
    update(&mut st, Msg::Paste(format!("my key {}", key.as_str())));
    assert!(crate::app::composer::drafts_to_save(&st).is_empty());
}

#[test]
fn typing_is_said_while_typing_at_most_every_few_seconds_and_stopped_on_send() {
    let mut st = fixtures::in_room();
    st.composing.send_typing = true;
    let typing = |fx: &[Effect]| -> Vec<bool> {
        worker_cmds(fx)
            .into_iter()
            .filter_map(|c| match c {
                Command::Rooms(p::rooms::Cmd::Typing(t)) => Some(t.typing),
                _ => None,
            })
            .collect()
    };
    assert_eq!(typing(&press(&mut st, KeyCode::Char('h'))), vec![true]);
    assert!(typing(&press(&mut st, KeyCode::Char('i'))).is_empty());
    for _ in 0..crate::app::composer::TYPING_EVERY {
        update(&mut st, Msg::Tick);
    }
    assert_eq!(typing(&press(&mut st, KeyCode::Char('!'))), vec![true]);
    assert_eq!(typing(&press(&mut st, KeyCode::Enter)), vec![false]);

    // Turned off in the config: never.
    st.composing.send_typing = false;
    assert!(typing(&press(&mut st, KeyCode::Char('h'))).is_empty());
}

#[test]
fn read_receipts_are_private_when_the_config_says_so() {
    let mut st = fixtures::in_room();
    st.composing.public_receipts = false;
    if let Some(r) = &mut st.room {
        r.marked_read = None;
    }
    let fx = update(
        &mut st,
        Msg::Worker(Update::Timeline {
            room: ROOM.into(),
            thread: None,
            items: fixtures::timeline(),
        }),
    );
    let marked = worker_cmds(&fx).into_iter().find_map(|c| match c {
        Command::Timeline(p::timeline::Cmd::MarkRead(m)) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(marked.map(|m| m.public), Some(false));
}

#[test]
fn up_in_an_empty_composer_edits_the_last_own_message() {
    let mut st = fixtures::in_room();
    press(&mut st, KeyCode::Up);
    assert_eq!(
        st.compose_mode,
        ComposeMode::Edit {
            event_id: "$ev6".into()
        }
    );
    assert_eq!(st.composer.text(), "**markdown** reply,\non two lines");
    assert_eq!(st.focus, Focus::Composer);
}

#[test]
fn word_editing_keys() {
    let mut st = fixtures::in_room();
    typed(&mut st, "one two three");
    update(
        &mut st,
        Msg::Key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL)),
    );
    assert_eq!(st.composer.text(), "one two ");
    update(
        &mut st,
        Msg::Key(KeyEvent::new(KeyCode::Left, KeyModifiers::CONTROL)),
    );
    typed(&mut st, "2 ");
    assert_eq!(st.composer.text(), "one 2 two ");
    update(
        &mut st,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    assert_eq!(st.composer.text(), "two ");
}

#[test]
fn pasted_lines_are_one_message() {
    let mut st = fixtures::in_room();
    update(&mut st, Msg::Paste("line one\nline two".into()));
    let s = sent_text(&press(&mut st, KeyCode::Enter)).expect("sent");
    assert_eq!(s.text, "line one\nline two");
}

#[test]
fn the_members_view_lists_and_verifies_from_there() {
    let mut st = fixtures::in_room();
    let fx = send(&mut st, "/members");
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::rooms::Members { room: ROOM.into() })]
    );
    assert!(st.members.as_ref().is_some_and(|v| v.loading));
    let op = 9;
    st.pending
        .insert(op, Command::from(p::rooms::Members { room: ROOM.into() }));
    update(
        &mut st,
        Msg::Worker(Update::Done {
            op,
            outcome: <p::rooms::Members as p::Request>::done(Ok(vec![
                member("@alice:example.org", "Alice"),
                member("@bob:example.org", "Bob"),
            ])),
        }),
    );
    assert_eq!(st.room.as_ref().map(|r| r.members.len()), Some(2));
    press(&mut st, KeyCode::Char('j'));
    let fx = press(&mut st, KeyCode::Char('v'));
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::verify::Request {
            user: Some("@bob:example.org".into()),
            device: None
        })]
    );
    assert!(st.members.is_none());
}
