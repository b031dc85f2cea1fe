//! `/` in a room: finds text among the loaded messages, newest first,
//! selecting each match in turn (the server cannot search encrypted rooms,
//! so this is how they are searched).

use super::*;
use crate::matrix::history::HistoryItem;

/// The search line: what is looked for, and the match shown.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub input: TextInput,
    /// Index of the match shown among the matches (0 = the newest).
    pub at: usize,
}

/// Whether `item` holds `needle` (lower case) in its text as drawn, its
/// file's name or its sender.
fn matches(item: &HistoryItem, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let text = crate::ui::message::text(item).to_lowercase();
    text.contains(needle)
        || item
            .attachment
            .as_ref()
            .is_some_and(|a| a.name.to_lowercase().contains(needle))
        || item.sender.to_lowercase().contains(needle)
}

/// Indices of the loaded messages that match, newest first.
pub fn found(items: &[HistoryItem], query: &str) -> Vec<usize> {
    let needle = query.to_lowercase();
    (0..items.len())
        .rev()
        .filter(|&i| matches(&items[i], &needle))
        .collect()
}

/// Opens the search line on the open room.
pub(super) fn start(st: &mut AppState) {
    if st.room.is_some() {
        st.search = Some(Search::default());
        st.focus = Focus::Messages;
    }
}

pub(super) fn key(st: &mut AppState, k: KeyEvent) {
    let Some(mut s) = st.search.take() else {
        return;
    };
    match k.code {
        // Esc and Enter both close the line; the match stays selected.
        KeyCode::Esc | KeyCode::Enter => return,
        KeyCode::Up => s.at = s.at.saturating_add(1),
        KeyCode::Down => s.at = s.at.saturating_sub(1),
        _ => {
            s.input.edit(&k);
            s.at = 0;
        }
    }
    show(st, &mut s);
    st.search = Some(s);
}

/// Selects the match `s.at` (kept within the matches), or says none.
fn show(st: &mut AppState, s: &mut Search) {
    let Some(r) = &mut st.room else { return };
    let hits = found(&r.items, s.input.text());
    if let Some(last) = hits.len().checked_sub(1) {
        s.at = s.at.min(last);
        r.sel = Some(hits[s.at]);
    }
}

/// What the search line says after the query: "2/5", "no match".
pub fn status(st: &AppState) -> String {
    let (Some(s), Some(r)) = (&st.search, &st.room) else {
        return String::new();
    };
    if s.input.is_empty() {
        return "type to find in the loaded messages".into();
    }
    let hits = found(&r.items, s.input.text());
    if hits.is_empty() {
        let n = r.items.len();
        return if r.encrypted {
            format!("no match in the {n} loaded messages (PgUp loads older)")
        } else {
            format!("no match in the {n} loaded messages; :search asks the server")
        };
    }
    format!(
        "{}/{} · ↑ older ↓ newer · Enter keeps it",
        s.at.min(hits.len() - 1) + 1,
        hits.len()
    )
}

/// What the server found for `:search`, shown over the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Results {
    pub room: String,
    pub query: String,
    pub items: Vec<crate::matrix::search::Found>,
    pub sel: usize,
}

/// `:search TEXT`: the server for an unencrypted room; the loaded messages
/// for an encrypted one (the server cannot read it).
pub(super) fn ask_server(st: &mut AppState, text: String, fx: &mut Vec<Effect>) {
    let Some(r) = &st.room else {
        return notice(
            st,
            "open a room first: :search looks in the open room",
            true,
        );
    };
    if r.encrypted {
        let mut s = Search {
            input: TextInput::new(&text),
            at: 0,
        };
        show(st, &mut s);
        st.search = Some(s);
        st.focus = Focus::Messages;
        return notice(
            st,
            "this room is encrypted, so the server cannot search it: searching the loaded messages",
            false,
        );
    }
    fx.push(Effect::worker(p::rooms::Search {
        room: r.id.clone(),
        text: text.clone(),
        limit: 50,
    }));
    st.found = Some(Results {
        room: r.id.clone(),
        query: text,
        items: vec![],
        sel: 0,
    });
    notice(st, "asking the server…", false);
}

/// The server's answer.
pub(super) fn answered(st: &mut AppState, items: Vec<crate::matrix::search::Found>) {
    let Some(f) = &mut st.found else { return };
    f.items = items;
    f.sel = 0;
    let n = f.items.len();
    notice(
        st,
        match n {
            0 => "the server found nothing".to_owned(),
            1 => "the server found 1 message".to_owned(),
            n => format!("the server found {n} messages"),
        },
        false,
    );
}

/// Keys over the results: move, Enter shows the message if loaded, Esc
/// closes.
pub(super) fn results_key(st: &mut AppState, k: KeyEvent) {
    let Some(f) = &mut st.found else { return };
    match k.code {
        KeyCode::Up | KeyCode::Char('k') => f.sel = f.sel.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => {
            f.sel = (f.sel + 1).min(f.items.len().saturating_sub(1));
        }
        KeyCode::Enter => {
            let want = f.items.get(f.sel).map(|i| i.event_id.clone());
            let room = f.room.clone();
            st.found = None;
            let at = st.room.as_ref().filter(|r| r.id == room).and_then(|r| {
                r.items
                    .iter()
                    .position(|i| i.event_id.is_some() && i.event_id == want)
            });
            match (at, &mut st.room) {
                (Some(i), Some(r)) => {
                    r.sel = Some(i);
                    st.focus = Focus::Messages;
                }
                _ => notice(
                    st,
                    "that message is older than the ones loaded: PgUp loads older messages",
                    false,
                ),
            }
        }
        _ => st.found = None,
    }
}
