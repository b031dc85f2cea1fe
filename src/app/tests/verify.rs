//! Emoji verification: incoming, withdrawn, mismatched.

use super::*;

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
        vec![Effect::worker(p::verify::Accept(fixtures::flow()))]
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
        vec![Effect::worker(p::verify::Confirm(fixtures::flow()))]
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
        vec![Effect::worker(p::verify::Cancel(fixtures::flow()))]
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
        vec![Effect::worker(p::verify::Mismatch(fixtures::flow()))]
    );
}
