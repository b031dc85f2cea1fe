//! The room list: filtering, opening a room, keeping the selection across updates, and its outcomes.

use super::*;

pub(super) fn filter_key(st: &mut AppState, k: KeyEvent) {
    match k.code {
        KeyCode::Esc => {
            st.filtering = false;
            drop(st.filter.take());
        }
        KeyCode::Enter => st.filtering = false,
        KeyCode::Up | KeyCode::Down => {
            let n = st.visible_rooms().len();
            st.room_sel = if k.code == KeyCode::Up {
                st.room_sel.saturating_sub(1)
            } else {
                (st.room_sel + 1).min(n.saturating_sub(1))
            };
        }
        _ => {
            st.filter.edit(&k);
            st.room_sel = 0;
        }
    }
}

/// Orders the room list anew, keeping the highlighted room highlighted.
pub(super) fn sort_rooms(st: &mut AppState, by: crate::matrix::room_order::RoomSort) {
    st.room_sort = by;
    // A copy: the highlighted room is looked up in the list as it was.
    let rooms = st.rooms.clone();
    set_rooms(st, rooms);
    notice(st, format!("rooms by {}", by.name()), false);
}

pub(super) fn open_room(st: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(r) = st.selected_room().cloned() else {
        return;
    };
    if r.membership == "invited" {
        fx.push(Effect::worker(p::rooms::Join { room: r.room_id }));
        return notice(st, format!("joining {}…", r.name), false);
    }
    show_room(st, &r.room_id, &r.name, r.encrypted, fx);
}

/// Shows a room: follows its timeline and loads its members when it is
/// not the one open already (the unsent text stays with the room left),
/// else shows its newest messages again.
pub(super) fn show_room(
    st: &mut AppState,
    id: &str,
    name: &str,
    encrypted: bool,
    fx: &mut Vec<Effect>,
) {
    if st.room.as_ref().is_none_or(|o| o.id != id) {
        super::composer::switch_draft(st, Some(id), fx);
        if let Some(old) = st.room.take() {
            fx.push(Effect::worker(p::timeline::Close { room: old.id }));
        }
        st.room = Some(OpenRoom::new(id, name, encrypted));
        st.compose_mode = ComposeMode::New;
        fx.push(Effect::worker(p::timeline::Open {
            room: id.to_owned(),
            thread: None,
        }));
        // For completion and the members view.
        fx.push(Effect::worker(p::rooms::Members {
            room: id.to_owned(),
        }));
    } else if let Some(open) = &mut st.room {
        // Opening a room shows its newest messages, never where the view
        // was left.
        open.sel = None;
        open.unseen_from = None;
    }
    go(st, Screen::Timeline, fx);
}

pub(super) fn set_rooms(st: &mut AppState, mut rooms: Vec<crate::matrix::rooms::RoomSummary>) {
    let keep = st.selected_room().map(|r| r.room_id.clone());
    crate::matrix::room_order::sort(&mut rooms, st.room_sort);
    st.rooms = rooms;
    st.rooms_loaded = true;
    if let Some(id) = keep
        && let Some(i) = st.visible_rooms().iter().position(|r| r.room_id == id)
    {
        st.room_sel = i;
    }
    let n = st.visible_rooms().len();
    st.room_sel = st.room_sel.min(n.saturating_sub(1));
}

/// The room list's keys; `true` when one was used.
pub(super) fn key(st: &mut AppState, k: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    use Action as A;
    let keys = st.keys.clone();
    match keys.which(
        k,
        &[
            A::Open,
            A::Filter,
            A::AcceptInvite,
            A::DeclineInvite,
            A::Back,
        ],
    ) {
        Some(A::Open) => {
            open_room(st, fx);
            true
        }
        Some(A::Filter) => {
            st.filtering = true;
            true
        }
        Some(A::Back) => {
            drop(st.filter.take());
            true
        }
        Some(a @ (A::AcceptInvite | A::DeclineInvite)) => {
            if let Some(r) = st.selected_room().filter(|r| r.membership == "invited") {
                let room = r.room_id.clone();
                let name = r.name.clone();
                if a == A::AcceptInvite {
                    fx.push(Effect::worker(p::rooms::Join { room }));
                    notice(st, format!("joining {name}…"), false);
                } else {
                    ask_confirm(
                        st,
                        format!("Decline the invitation to {name}?"),
                        ConfirmAct::Decline { room, name },
                    );
                }
                true
            } else {
                false
            }
        }
        _ => false,
    }
}

/// The room list's outcomes.
pub(super) fn finished(st: &mut AppState, done: p::rooms::Done, fx: &mut Vec<Effect>) {
    use p::rooms::Done;
    match done {
        d @ (Done::SendFile(_)
        | Done::Dm(_)
        | Done::SetTopic(_)
        | Done::SetName(_)
        | Done::Moderate(_)
        | Done::Members(_)
        | Done::Typing(_)) => super::composer::finished(st, d, fx),
        Done::List(Ok(rooms)) => {
            if !st.rooms_synced {
                set_rooms(st, rooms);
            }
        }
        // The sync loop sends the new room list.
        Done::Join(Ok(id)) => notice(st, format!("joined {id}"), false),
        Done::Leave(Ok(())) => notice(st, "left the room", false),
        Done::Invite(Ok(())) => notice(st, "invited", false),
        Done::Create(Ok(id)) => notice(st, format!("created {id}"), false),
        Done::Search(Ok(found)) => super::search::answered(st, found),
        Done::Search(Err(e)) => {
            st.found = None;
            notice(st, said(&e), true);
        }
        other => error_notice(st, other.error()),
    }
}
