//! Emoji verification: the dialog's keys, the worker's verification news, incoming requests.

use super::*;

pub(super) fn verify_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    let ticks = st.ticks;
    let Some(d) = &mut st.verification else {
        return;
    };
    let flow = d.flow.clone();
    let keys = &st.keys;
    match &d.state {
        VerifyState::Done { .. } | VerifyState::Cancelled { .. } => {
            st.verification = None;
        }
        VerifyState::Incoming { .. } => {
            // Only opened from the devices screen, on purpose; still only
            // the accept key accepts (never Enter, never the confirm key).
            if keys.is(Action::Accept, &k) {
                d.busy = true;
                fx.push(Effect::worker(p::verify::Accept(flow)));
            } else if keys.is(Action::Back, &k) {
                st.verification = None;
                fx.push(Effect::worker(p::verify::Cancel(flow)));
            }
        }
        VerifyState::Emoji { .. } => {
            if keys.is(Action::Confirm, &k) {
                if d.busy {
                    return;
                }
                // A key typed before the emoji could be compared is not a
                // confirmation.
                if ticks.saturating_sub(d.shown_at) < EMOJI_MIN_TICKS {
                    return notice(st, "compare the emoji with the other device first", true);
                }
                d.busy = true;
                fx.push(Effect::worker(p::verify::Confirm(flow)));
            } else if keys.is(Action::Mismatch, &k) {
                d.busy = true;
                fx.push(Effect::worker(p::verify::Mismatch(flow)));
            } else if keys.is(Action::Back, &k) {
                st.verification = None;
                fx.push(Effect::worker(p::verify::Cancel(flow)));
            }
        }
        VerifyState::Requested | VerifyState::Ready | VerifyState::Confirmed => {
            if keys.is(Action::Back, &k) {
                st.verification = None;
                fx.push(Effect::worker(p::verify::Cancel(flow)));
            }
        }
    }
}

/// Answers the request that is waiting, from the devices screen.
/// A verification update: it moves the dialog the user opened, or it is a
/// request that only raises a notice (a dialog that took the keys being
/// typed would let whatever the user types answer it).
pub(super) fn verification_update(st: &mut AppState, v: crate::matrix::verify::VerifyUpdate) {
    if let Some(d) = st.verification.as_mut().filter(|d| d.flow == v.flow) {
        if matches!(v.state, VerifyState::Emoji { .. })
            && !matches!(d.state, VerifyState::Emoji { .. })
        {
            d.shown_at = st.ticks;
        }
        d.state = v.state;
        d.busy = false;
        return;
    }
    match v.state {
        VerifyState::Incoming { from_device } => {
            let who = if v.self_verification {
                format!(
                    "your device {}",
                    from_device.as_deref().unwrap_or("(unknown)")
                )
            } else {
                v.flow.user.clone()
            };
            st.incoming_verification = Some(IncomingVerification {
                flow: v.flow,
                self_verification: v.self_verification,
                from_device,
            });
            notice(
                st,
                format!("{who} asks to verify: answer it on the devices screen (4)"),
                false,
            );
        }
        VerifyState::Cancelled { .. } | VerifyState::Done { .. }
            if st
                .incoming_verification
                .as_ref()
                .is_some_and(|i| i.flow == v.flow) =>
        {
            st.incoming_verification = None;
            notice(st, "the verification request was withdrawn", false);
        }
        // Flows nobody opened here (and late news of closed ones).
        _ => {}
    }
}

pub(super) fn answer_incoming(st: &mut AppState, accept: bool, fx: &mut Vec<Effect>) {
    let Some(i) = st.incoming_verification.take() else {
        return;
    };
    if accept {
        st.verification = Some(VerifyDialog {
            flow: i.flow.clone(),
            self_verification: i.self_verification,
            state: VerifyState::Incoming {
                from_device: i.from_device,
            },
            busy: true,
            shown_at: st.ticks,
        });
        fx.push(Effect::worker(p::verify::Accept(i.flow)));
    } else {
        notice(st, "declined the verification request", false);
        fx.push(Effect::worker(p::verify::Cancel(i.flow)));
    }
}

/// A verification step's outcome.
pub(super) fn finished(st: &mut AppState, done: p::verify::Done) {
    match done {
        p::verify::Done::Request(Ok(flow)) => {
            st.verification = Some(VerifyDialog {
                flow,
                self_verification: false,
                state: VerifyState::Requested,
                busy: false,
                shown_at: st.ticks,
            });
        }
        other => {
            if let Some(d) = &mut st.verification {
                d.busy = false;
            }
            error_notice(st, other.error());
        }
    }
}
