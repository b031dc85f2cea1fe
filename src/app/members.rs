//! The members view: the open room's members with their power and
//! verification; verify one from there.

use super::*;
use crate::matrix::manage::Member;

/// The members view over the open room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembersView {
    pub room: String,
    pub list: Vec<Member>,
    pub sel: usize,
    pub loading: bool,
}

/// `/members`: shows the view and asks for a fresh list.
pub(super) fn open(st: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(r) = &st.room else {
        return notice(st, "open a room to see its members", true);
    };
    st.members = Some(MembersView {
        room: r.id.clone(),
        list: r.members.clone(),
        sel: 0,
        loading: true,
    });
    fx.push(Effect::worker(p::rooms::Members { room: r.id.clone() }));
}

/// A member list arrived: for completion, and for the view if shown.
pub(super) fn loaded(st: &mut AppState, list: Vec<Member>) {
    if let Some(v) = &mut st.members {
        v.list = list.clone();
        v.loading = false;
        v.sel = v.sel.min(v.list.len().saturating_sub(1));
    }
    if let Some(r) = &mut st.room {
        r.members = list;
    }
}

pub(super) fn key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    use Action as A;
    let keys = st.keys.clone();
    let Some(v) = &mut st.members else { return };
    let n = v.list.len();
    match keys.which(&k, &[A::Up, A::Down, A::PageUp, A::PageDown, A::Back]) {
        Some(A::Up) => v.sel = v.sel.saturating_sub(1),
        Some(A::Down) => v.sel = (v.sel + 1).min(n.saturating_sub(1)),
        Some(A::PageUp) => v.sel = v.sel.saturating_sub(10),
        Some(A::PageDown) => v.sel = (v.sel + 10).min(n.saturating_sub(1)),
        Some(A::Back) => st.members = None,
        _ => match k.code {
            KeyCode::Esc | KeyCode::Char('q') => st.members = None,
            // Verify the selected member: the verification dialog takes
            // over from here (emoji compared, never confirmed by a typed
            // letter).
            KeyCode::Char('v') if k.modifiers == KeyModifiers::NONE => {
                let Some(m) = v.list.get(v.sel).cloned() else {
                    return;
                };
                if st.me.as_deref() == Some(m.user_id.as_str()) {
                    return notice(st, "that is you: verify your devices on 4 Devices", true);
                }
                st.members = None;
                notice(st, format!("asking {} to verify…", m.user_id), false);
                fx.push(Effect::worker(p::verify::Request {
                    user: Some(m.user_id),
                    device: None,
                }));
            }
            _ => {}
        },
    }
}
