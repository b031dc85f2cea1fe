//! `update` for the key flows: state and the commands it asks for.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::fixtures::{self, *};
use super::*;
use crate::matrix::protocol::{Error, ErrorKind, OpId, Request};
use crate::matrix::verify::{VerifyState, VerifyUpdate};

fn press(st: &mut AppState, code: KeyCode) -> Vec<Effect> {
    update(st, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(st: &mut AppState, text: &str) {
    for c in text.chars() {
        press(st, KeyCode::Char(c));
    }
}

/// Plays the runtime: records each worker command under a fresh op id.
fn sent(st: &mut AppState, fx: &[Effect]) -> Vec<OpId> {
    let mut ops = vec![];
    for (n, e) in fx.iter().enumerate() {
        if let Effect::Worker(c) = e {
            let op = 1000 + n as OpId + st.pending.len() as OpId * 100;
            st.sent(op, c.clone());
            ops.push(op);
        }
    }
    ops
}

/// The worker's answer to `op`, sent as the command `R`.
fn done<R: Request>(op: OpId, r: Result<R::Output, Error>) -> Msg {
    Msg::Worker(Update::Done {
        op,
        outcome: R::done(r),
    })
}

/// Answers the question on screen with "y", after reading it.
fn yes(st: &mut AppState) -> Vec<Effect> {
    assert!(st.confirm.is_some(), "no question is asked");
    for _ in 0..CONFIRM_ARM_TICKS {
        update(st, Msg::Tick);
    }
    press(st, KeyCode::Char('y'))
}

fn worker_cmds(fx: &[Effect]) -> Vec<&Command> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Worker(c) => Some(c),
            _ => None,
        })
        .collect()
}

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
        vec![Effect::Worker(Command::Rooms(p::rooms::Cmd::SendText(
            p::rooms::SendText {
                room: "!general:example.org".into(),
                text: "hi\n**there**".into()
            }
        )))]
    );
    assert!(st.composer.is_empty());
    // Nothing to send: nothing happens.
    assert!(press(&mut st, KeyCode::Enter).is_empty());
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
fn the_backup_screen_asks_for_a_fresh_status() {
    let mut st = fixtures::logged_in();
    let fx = press(&mut st, KeyCode::Char('2'));
    assert_eq!(st.screen, Screen::Backup);
    assert!(st.backup.loading);
    // Our devices too, for the warning before a reset or migration.
    assert_eq!(
        fx,
        vec![
            Effect::worker(p::backup::Status),
            Effect::Worker(Command::Devices(p::devices::Cmd::List(p::devices::List {
                user: None
            })))
        ]
    );
    let ops = sent(&mut st, &fx);
    let mut s = fixtures::healthy_backup();
    s.backed_up = 40;
    update(&mut st, done::<p::backup::Status>(ops[0], Ok(s.clone())));
    assert!(!st.backup.loading);
    assert_eq!(st.backup.status, Some(s));
    // The command line reaches it too.
    let mut st = fixtures::logged_in();
    press(&mut st, KeyCode::Char(':'));
    typed(&mut st, "backup");
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(st.screen, Screen::Backup);
    assert_eq!(fx[0], Effect::worker(p::backup::Status));
}

#[test]
fn restore_asks_for_the_key_when_the_device_lacks_it_and_shows_progress() {
    let mut st = fixtures::logged_in();
    st.backup.status = Some(fixtures::no_backup());
    press(&mut st, KeyCode::Char('2'));
    let fx = press(&mut st, KeyCode::Char('r'));
    assert!(fx.is_empty());
    assert_eq!(
        st.prompt.as_ref().map(|p| p.purpose),
        Some(PromptFor::BackupRestore)
    );
    typed(&mut st, FAKE_RECOVERY_KEY);
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        fx,
        vec![Effect::Worker(Command::Backup(p::backup::Cmd::Restore(
            p::backup::Restore {
                key_or_passphrase: Some(Secret::new(FAKE_RECOVERY_KEY)),
                version: None,
            }
        )))]
    );
    assert!(st.prompt.is_none());
    assert!(st.backup.restoring);
    let ops = sent(&mut st, &fx);
    update(&mut st, Msg::Worker(Update::Restore(fixtures::restoring())));
    assert_eq!(st.backup.restore, Some(fixtures::restoring()));
    // Built on the default so fields the report grows keep this compiling.
    #[allow(clippy::needless_update)]
    let report = crate::backup::restore::RestoreReport {
        version: "7".into(),
        total: 400,
        imported: 400,
        skipped: Default::default(),
        trusted: 390,
        untrusted: 10,
        ..Default::default()
    };
    let fx = update(&mut st, done::<p::backup::Restore>(ops[0], Ok(report)));
    assert!(!st.backup.restoring);
    assert_eq!(fx, vec![Effect::worker(p::backup::Status)]);
    assert!(matches!(&st.backup.message, Some(Ok(m)) if m.contains("restored 400 of 400")));
}

#[test]
fn p_on_the_backup_screen_shows_the_overview_and_back() {
    let mut st = fixtures::logged_in();
    press(&mut st, KeyCode::Char('2'));
    let fx = press(&mut st, KeyCode::Char('p'));
    assert!(st.backup.inspecting);
    assert_eq!(worker_cmds(&fx), vec![&Command::from(p::backup::Inspect)]);
    let ops = sent(&mut st, &fx);
    update(
        &mut st,
        done::<p::backup::Inspect>(ops[0], Ok(fixtures::inspection())),
    );
    assert_eq!(st.backup.inspection, Some(fixtures::inspection()));
    let fx = press(&mut st, KeyCode::Char('p'));
    assert!(!st.backup.inspecting);
    assert!(fx.is_empty());
}

#[test]
fn restore_goes_straight_on_when_the_device_holds_the_key() {
    let mut st = fixtures::logged_in();
    let fx = run(&mut st, "backup restore");
    assert_eq!(
        worker_cmds(&fx),
        vec![
            &Command::from(p::backup::Status),
            &Command::from(p::devices::List { user: None }),
            &Command::from(p::backup::Restore {
                key_or_passphrase: None,
                version: None,
            })
        ]
    );
}

fn run(st: &mut AppState, line: &str) -> Vec<Effect> {
    press(st, KeyCode::Char(':'));
    typed(st, line);
    press(st, KeyCode::Enter)
}

#[test]
fn an_incoming_verification_is_accepted_and_the_emoji_confirmed() {
    let mut st = fixtures::in_room();
    let v = |state| {
        Msg::Worker(Update::Verification(VerifyUpdate {
            flow: fixtures::flow(),
            self_verification: true,
            state,
        }))
    };
    update(
        &mut st,
        v(VerifyState::Incoming {
            from_device: Some("PHONE00002".into()),
        }),
    );
    // A request never takes the keys being typed: "yes ok" and Enter go to
    // the composer (and send), nothing answers the request.
    assert!(st.verification.is_none());
    assert!(st.incoming_verification.is_some());
    let mut sent = vec![];
    for c in "yes ok, a y".chars() {
        sent.extend(press(&mut st, KeyCode::Char(c)));
    }
    assert_eq!(st.composer.text(), "yes ok, a y");
    sent.extend(press(&mut st, KeyCode::Enter));
    assert!(
        sent.iter().all(|e| matches!(
            e,
            Effect::Worker(Command::Rooms(p::rooms::Cmd::SendText(
                p::rooms::SendText { .. }
            )))
        )),
        "{sent:?}"
    );
    assert!(st.verification.is_none());
    assert!(st.incoming_verification.is_some());
    // On the devices screen, Enter does not accept; the accept key does.
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Char('4'));
    assert_eq!(st.screen, Screen::Devices);
    let fx = press(&mut st, KeyCode::Enter);
    assert!(
        !fx.iter().any(|e| matches!(
            e,
            Effect::Worker(Command::Verify(p::verify::Cmd::Accept(p::verify::Accept(
                _
            ))))
        )),
        "{fx:?}"
    );
    let fx = press(&mut st, KeyCode::Char('a'));
    assert_eq!(
        fx,
        vec![Effect::Worker(Command::Verify(p::verify::Cmd::Accept(
            p::verify::Accept(fixtures::flow())
        )))]
    );
    update(
        &mut st,
        v(VerifyState::Emoji {
            emoji: fixtures::emoji(),
        }),
    );
    // The emoji must be on screen a while before they can be confirmed.
    let fx = press(&mut st, KeyCode::Char('y'));
    assert!(fx.is_empty(), "{fx:?}");
    for _ in 0..crate::app::EMOJI_MIN_TICKS {
        update(&mut st, Msg::Tick);
    }
    let fx = press(&mut st, KeyCode::Char('y'));
    assert_eq!(
        fx,
        vec![Effect::Worker(Command::Verify(p::verify::Cmd::Confirm(
            p::verify::Confirm(fixtures::flow())
        )))]
    );
    assert!(st.verification.as_ref().is_some_and(|d| d.busy));
    update(&mut st, v(VerifyState::Done { device: None }));
    press(&mut st, KeyCode::Enter);
    assert!(st.verification.is_none());
}

#[test]
fn a_withdrawn_request_goes_away_and_decline_cancels() {
    let mut st = fixtures::logged_in();
    let v = |state| {
        Msg::Worker(Update::Verification(VerifyUpdate {
            flow: fixtures::flow(),
            self_verification: false,
            state,
        }))
    };
    update(&mut st, v(VerifyState::Incoming { from_device: None }));
    update(
        &mut st,
        v(VerifyState::Cancelled {
            reason: "cancelled".into(),
        }),
    );
    assert!(st.incoming_verification.is_none());
    assert!(st.verification.is_none());
    update(&mut st, v(VerifyState::Incoming { from_device: None }));
    st.screen = Screen::Devices;
    let fx = press(&mut st, KeyCode::Char('x'));
    assert_eq!(
        fx,
        vec![Effect::Worker(Command::Verify(p::verify::Cmd::Cancel(
            p::verify::Cancel(fixtures::flow())
        )))]
    );
    assert!(st.incoming_verification.is_none());
}

#[test]
fn a_mismatch_is_reported() {
    let mut st = fixtures::logged_in();
    st.verification = Some(VerifyDialog {
        flow: fixtures::flow(),
        self_verification: true,
        state: VerifyState::Emoji {
            emoji: fixtures::emoji(),
        },
        busy: false,
        shown_at: 0,
    });
    let fx = press(&mut st, KeyCode::Char('n'));
    assert_eq!(
        fx,
        vec![Effect::Worker(Command::Verify(p::verify::Cmd::Mismatch(
            p::verify::Mismatch(fixtures::flow())
        )))]
    );
}

#[test]
fn scrolling_up_to_the_top_loads_older_messages_once() {
    let mut st = fixtures::in_room();
    st.room.as_mut().unwrap().reached_start = false;
    let fx = press(&mut st, KeyCode::PageUp);
    assert_eq!(
        fx,
        vec![Effect::Worker(Command::Timeline(
            p::timeline::Cmd::PaginateBack(p::timeline::PaginateBack {
                room: "!general:example.org".into(),
                count: PAGE_EVENTS
            })
        ))]
    );
    assert!(press(&mut st, KeyCode::PageUp).is_empty());
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
        vec![Effect::Worker(Command::Rooms(p::rooms::Cmd::Leave(
            p::rooms::Leave {
                room: "!party:example.org".into()
            }
        )))]
    );
    press(&mut st, KeyCode::Esc);
    assert_eq!(st.visible_rooms().len(), 4);
    // Enter opens a joined room and follows its timeline.
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        fx,
        vec![Effect::Worker(Command::Timeline(p::timeline::Cmd::Open(
            p::timeline::Open {
                room: "!general:example.org".into()
            }
        )))]
    );
    assert_eq!(st.screen, Screen::Timeline);
}

#[test]
fn recovery_setup_shows_the_key_until_dismissed_and_copies_it() {
    let mut st = fixtures::logged_in();
    let fx = run(&mut st, "recovery setup");
    let ops = sent(&mut st, &fx);
    update(
        &mut st,
        done::<p::recovery::Setup>(ops[1], Ok(Secret::new(FAKE_RECOVERY_KEY))),
    );
    assert!(st.recovery.new_key.is_some());
    // A terminal that cannot take it: no copy is claimed, the key stays.
    let fx = press(&mut st, KeyCode::Char('y'));
    assert_eq!(fx, vec![]);
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("does not take clipboard writes"))
    );
    // Esc does not hide it either: only the deliberate "I have saved it".
    press(&mut st, KeyCode::Esc);
    assert!(st.recovery.new_key.is_some());
    st.clipboard = true;
    let fx = press(&mut st, KeyCode::Char('y'));
    assert_eq!(fx, vec![Effect::Copy(Secret::new(FAKE_RECOVERY_KEY))]);
    press(&mut st, KeyCode::Enter);
    assert!(st.recovery.new_key.is_none());
    assert!(!format!("{st:?}").contains("AAAA BBBB"));
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
fn a_late_rooms_reply_does_not_undo_what_sync_sent() {
    let mut st = AppState::new(keys::KeyMap::default());
    sent(&mut st, &[Effect::worker(p::rooms::List)]);
    let op = *st.pending.keys().next().unwrap();
    let fresh = fixtures::rooms();
    update(&mut st, Msg::Worker(Update::Rooms(fresh.clone())));
    let mut stale = fixtures::rooms();
    stale[0].encrypted = false;
    update(&mut st, done::<p::rooms::List>(op, Ok(stale)));
    assert_eq!(st.rooms, fresh);
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

#[test]
fn reset_on_a_curve25519_backup_migrates_it() {
    let mut st = fixtures::logged_in();
    let mut status = fixtures::healthy_backup();
    status.server_algorithm = Some("m.megolm_backup.v1.curve25519-aes-sha2".into());
    st.backup.status = Some(status);
    press(&mut st, KeyCode::Char('2'));
    press(&mut st, KeyCode::Char('R'));
    assert!(
        st.confirm
            .as_ref()
            .is_some_and(|c| c.question.contains("Migrate backup version")),
        "{:?}",
        st.confirm
    );
    yes(&mut st);
    assert_eq!(
        st.prompt.as_ref().map(|p| p.purpose),
        Some(PromptFor::BackupReset)
    );
    typed(&mut st, FAKE_RECOVERY_KEY);
    let fx = press(&mut st, KeyCode::Enter);
    assert!(
        matches!(
            worker_cmds(&fx)[..],
            [Command::Backup(p::backup::Cmd::Migrate(p::backup::Migrate {
                key_or_passphrase,
                ..
            }))]
                if key_or_passphrase.expose() == FAKE_RECOVERY_KEY
        ),
        "{fx:?}"
    );
    // A symmetric backup is reset, not migrated.
    st.backup.status = Some(fixtures::healthy_backup());
    press(&mut st, KeyCode::Char('R'));
    assert!(
        st.confirm
            .as_ref()
            .is_some_and(|c| c.question.contains("first restored onto this device")),
        "{:?}",
        st.confirm
    );
    yes(&mut st);
    typed(&mut st, FAKE_RECOVERY_KEY);
    let fx = press(&mut st, KeyCode::Enter);
    assert!(
        matches!(
            worker_cmds(&fx)[..],
            [Command::Backup(p::backup::Cmd::Reset(
                p::backup::Reset { .. }
            ))]
        ),
        "{fx:?}"
    );
}

#[test]
fn a_recovery_key_typed_into_the_composer_is_never_sent() {
    let mut st = fixtures::in_room();
    // A device without the backup key: the key goes to the restore prompt.
    st.backup.status = Some(fixtures::no_backup());
    let key = crate::crypto::recovery_key::encode(&crate::crypto::SecretKey::from_bytes([9; 32]));
    // Pasted, as the demo's newcomer did, after a colon-less command.
    update(&mut st, Msg::Paste(format!("my key {}", key.as_str())));
    let fx = press(&mut st, KeyCode::Enter);
    assert!(worker_cmds(&fx).is_empty(), "{fx:?}");
    assert!(st.composer.is_empty());
    // It waits in the masked prompt, where it was meant to go.
    let p = st.prompt.as_ref().expect("the prompt");
    assert_eq!(p.purpose, PromptFor::BackupRestore);
    assert!(p.input.masked);
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("not sent"))
    );
}

#[test]
fn a_passphrase_typed_in_a_prompt_is_never_sent() {
    let mut st = fixtures::in_room();
    st.prompt = Some(Prompt {
        purpose: PromptFor::RecoveryUnlock,
        input: TextInput::masked(),
    });
    typed(&mut st, "correct horse battery staple");
    press(&mut st, KeyCode::Enter);
    assert!(st.prompt.is_none());
    st.focus = Focus::Composer;
    typed(&mut st, "it is correct horse battery staple, ok?");
    let fx = press(&mut st, KeyCode::Enter);
    assert!(worker_cmds(&fx).is_empty(), "{fx:?}");
    // The draft stays, to be edited.
    assert_eq!(
        st.composer.text(),
        "it is correct horse battery staple, ok?"
    );
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("not sent"))
    );
}

#[test]
fn recovery_setup_asks_for_the_account_password_when_the_server_wants_it() {
    let mut st = fixtures::in_room();
    let fx = run(&mut st, "recovery setup");
    let ops = sent(&mut st, &fx);
    let setup = worker_cmds(&fx)
        .iter()
        .position(|c| matches!(c, Command::Recovery(p::recovery::Cmd::Setup(_))))
        .expect("recovery setup sends Setup");
    update(
        &mut st,
        done::<p::recovery::Setup>(
            ops[setup],
            Err(Error::new(
                ErrorKind::PasswordNeeded,
                "the server wants the account password to upload the cross-signing keys",
            )),
        ),
    );
    assert_eq!(
        st.prompt.as_ref().map(|p| p.purpose),
        Some(PromptFor::AccountPassword)
    );
    typed(&mut st, "hunter2 is my password");
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::recovery::Setup {
            password: Some(Secret::new("hunter2 is my password")),
            passphrase: None,
        })]
    );
    assert!(st.prompt.is_none());
    assert_eq!(st.recovery.busy, Some("setting up recovery"));
    // Like any secret typed in a prompt, it is never sent as a message.
    st.screen = Screen::Timeline;
    st.focus = Focus::Composer;
    typed(&mut st, "hunter2 is my password");
    let fx = press(&mut st, KeyCode::Enter);
    assert!(worker_cmds(&fx).is_empty(), "{fx:?}");
}

#[test]
fn a_command_typed_into_the_composer_runs_and_is_not_sent() {
    let mut st = fixtures::in_room();
    typed(&mut st, ":backup restore");
    let fx = press(&mut st, KeyCode::Enter);
    assert!(
        !worker_cmds(&fx).iter().any(|c| matches!(
            c,
            Command::Rooms(p::rooms::Cmd::SendText(p::rooms::SendText { .. }))
        )),
        "{fx:?}"
    );
    assert!(st.composer.is_empty());
    assert!(st.prompt.is_some() || !worker_cmds(&fx).is_empty());
    // A smiley is text, and so is a line that starts with a space.
    for text in [":)", " :backup restore"] {
        st.prompt = None;
        st.screen = Screen::Timeline;
        st.focus = Focus::Composer;
        typed(&mut st, text);
        let fx = press(&mut st, KeyCode::Enter);
        assert!(
            worker_cmds(&fx)
                .iter()
                .any(|c| matches!(c, Command::Rooms(p::rooms::Cmd::SendText(p::rooms::SendText { text: t, .. })) if t == text)),
            "{text:?}: {fx:?}"
        );
    }
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
fn quitting_with_an_unsent_message_asks() {
    let mut st = fixtures::in_room();
    typed(&mut st, "half a thought");
    press(&mut st, KeyCode::Esc);
    press(&mut st, KeyCode::Char('q'));
    assert!(!st.quit);
    assert!(
        st.confirm
            .as_ref()
            .is_some_and(|c| c.question.contains("unsent message")),
        "{:?}",
        st.confirm
    );
    press(&mut st, KeyCode::Char('n'));
    assert!(!st.quit);
    assert_eq!(st.composer.text(), "half a thought");
    press(&mut st, KeyCode::Char('q'));
    yes(&mut st);
    assert!(st.quit);
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
