//! Spaces as a filter on the room list: `:space NAME` shows the rooms of
//! one space, `:space` opens a picker, `:space all` shows every room.

use super::*;

/// `:space` with or without a name.
pub(super) fn command(st: &mut AppState, name: Option<String>, fx: &mut Vec<Effect>) {
    match name.as_deref() {
        None => {
            if st.spaces().is_empty() {
                return notice(st, "you are in no space", false);
            }
            let at = st
                .space
                .as_ref()
                .and_then(|id| st.spaces().iter().position(|s| &s.room_id == id))
                .map_or(0, |i| i + 1);
            st.space_picker = Some(at);
        }
        Some("all" | "-" | "none") => choose(st, None, fx),
        Some(name) => match find(st, name) {
            Some(id) => choose(st, Some(id), fx),
            None => notice(
                st,
                format!("no space named “{name}”: :space lists yours"),
                true,
            ),
        },
    }
}

/// The space named `name` (its exact name, else a name holding it, else
/// its id), case aside.
fn find(st: &AppState, name: &str) -> Option<String> {
    let want = name.to_lowercase();
    let spaces = st.spaces();
    spaces
        .iter()
        .find(|s| s.name.to_lowercase() == want || s.room_id == name)
        .or_else(|| {
            spaces
                .iter()
                .find(|s| s.name.to_lowercase().contains(&want))
        })
        .map(|s| s.room_id.clone())
}

fn choose(st: &mut AppState, space: Option<String>, fx: &mut Vec<Effect>) {
    let name = space
        .as_ref()
        .and_then(|id| st.rooms.iter().find(|r| &r.room_id == id))
        .map(|r| r.name.clone());
    st.space = space;
    st.room_sel = 0;
    notice(
        st,
        match name {
            Some(n) => format!("rooms in {n} (:space all shows every room)"),
            None => "every room".to_owned(),
        },
        false,
    );
    go(st, Screen::Rooms, fx);
}

/// Keys of the picker: line 0 is "every room", then the spaces.
pub(super) fn picker_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(at) = st.space_picker else { return };
    let n = st.spaces().len() + 1;
    match k.code {
        KeyCode::Up | KeyCode::Char('k') => st.space_picker = Some(at.saturating_sub(1)),
        KeyCode::Down | KeyCode::Char('j') => st.space_picker = Some((at + 1).min(n - 1)),
        KeyCode::Enter => {
            st.space_picker = None;
            let id = at
                .checked_sub(1)
                .and_then(|i| st.spaces().get(i).map(|s| s.room_id.clone()));
            choose(st, id, fx);
        }
        _ => st.space_picker = None,
    }
}
