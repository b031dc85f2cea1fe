//! The devices screen: its keys and outcomes.

use super::*;

/// The devices screen's keys; `true` when one was used.
pub(super) fn key(st: &mut AppState, k: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    use Action as A;
    let keys = st.keys.clone();
    match keys.which(
        k,
        &[
            A::Accept,
            A::DeclineInvite,
            A::Verify,
            A::Open,
            A::Refresh,
            A::Back,
        ],
    ) {
        Some(A::Accept) if st.incoming_verification.is_some() => {
            answer_incoming(st, true, fx);
            true
        }
        Some(A::DeclineInvite) if st.incoming_verification.is_some() => {
            answer_incoming(st, false, fx);
            true
        }
        Some(A::Verify | A::Open) => {
            if let Some(d) = st.devices.list.get(st.devices.sel).cloned() {
                if d.this_device {
                    notice(st, "this is the device you are using", false);
                } else {
                    let own = st.me.as_deref() == Some(d.user_id.as_str());
                    fx.push(Effect::worker(p::verify::Request {
                        user: (!own).then_some(d.user_id.clone()),
                        device: Some(d.device_id.clone()),
                    }));
                    notice(st, format!("asking {} to verify…", d.device_id), false);
                }
            }
            true
        }
        Some(A::Refresh) => {
            go(st, Screen::Devices, fx);
            true
        }
        Some(A::Back) => {
            back(st);
            true
        }
        _ => false,
    }
}

/// The device list's outcome.
pub(super) fn finished(st: &mut AppState, done: p::devices::Done) {
    match done {
        p::devices::Done::List(Ok(list)) => {
            st.devices.loading = false;
            st.devices.sel = st.devices.sel.min(list.len().saturating_sub(1));
            st.devices.list = list;
        }
        p::devices::Done::List(Err(e)) => {
            st.devices.loading = false;
            st.devices.error = Some(said(&e));
        }
    }
}
