//! An open room: scrolling and pagination, the composer, replies, edits, reactions, redactions, the timeline's snapshots, and its outcomes.

use super::*;

/// Moves a list selection or scrolls the timeline; `up` towards older.
pub(super) fn scroll(st: &mut AppState, up: bool, by: usize, fx: &mut Vec<Effect>) {
    match st.screen {
        Screen::Rooms => {
            let n = st.visible_rooms().len();
            st.room_sel = step(st.room_sel, n, up, by);
        }
        Screen::Devices => {
            st.devices.sel = step(st.devices.sel, st.devices.list.len(), up, by);
        }
        Screen::Timeline => {
            let Some(r) = &mut st.room else { return };
            if r.items.is_empty() {
                return maybe_paginate(r, fx);
            }
            let last = r.items.len() - 1;
            let cur = r.sel.unwrap_or(last);
            let next = step(cur, r.items.len(), up, by);
            r.sel = if !up && next == last && st.focus == Focus::Composer {
                None
            } else {
                Some(next)
            };
            if up && next < 5 {
                maybe_paginate(r, fx);
            }
            mark_read(st, fx);
        }
        _ => {}
    }
}

pub(super) fn step(cur: usize, n: usize, up: bool, by: usize) -> usize {
    if n == 0 {
        return 0;
    }
    if up {
        cur.saturating_sub(by)
    } else {
        (cur + by).min(n - 1)
    }
}

pub(super) fn maybe_paginate(r: &mut OpenRoom, fx: &mut Vec<Effect>) {
    if !r.paginating && !r.reached_start {
        r.paginating = true;
        fx.push(Effect::worker(p::timeline::PaginateBack {
            room: r.id.clone(),
            count: PAGE_EVENTS,
        }));
    }
}

pub(super) fn key(st: &mut AppState, k: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    use Action as A;
    let keys = st.keys.clone();
    let Some(r) = &st.room else { return false };
    let sel = r.selected().cloned();
    let room = r.id.clone();
    match keys.which(
        k,
        &[
            A::Compose,
            A::Reply,
            A::Edit,
            A::React,
            A::Redact,
            A::FetchFromBackup,
            A::Thread,
            A::SaveFile,
            A::OpenFile,
            A::Filter,
            A::Open,
            A::Back,
        ],
    ) {
        Some(A::Filter) => super::search::start(st),
        Some(A::Compose | A::Open) => {
            st.focus = Focus::Composer;
            // Writing follows the newest messages again.
            if let Some(r) = &mut st.room {
                r.sel = None;
            }
        }
        Some(A::Back) if r.thread.is_some() => show_thread(st, None, fx),
        Some(A::Back) => {
            st.screen = Screen::Rooms;
        }
        Some(A::Thread) => match sel
            .as_ref()
            .and_then(|i| i.thread_root.clone().or_else(|| i.event_id.clone()))
        {
            Some(root) if r.thread.as_deref() != Some(root.as_str()) => {
                show_thread(st, Some(root), fx)
            }
            Some(_) => notice(st, "this is the thread shown (Esc goes back)", false),
            None => notice(st, "select a message first (Esc, then ↑/↓)", true),
        },
        Some(A::SaveFile) => download(st, sel.as_ref(), false, fx),
        Some(A::OpenFile) => match &sel {
            Some(i) if i.attachment.is_some() => download(st, sel.as_ref(), true, fx),
            // Only a scheme the sanitizer allows goes to the opener (never
            // `file:` or a command line of the server's choosing).
            Some(i) => match crate::ui::message::links(i)
                .into_iter()
                .find(|l| crate::ui::links::safe(l))
            {
                Some(link) => {
                    notice(st, format!("opening {link}"), false);
                    fx.push(Effect::OpenExternal(link));
                }
                None => notice(st, "this message has no file or link to open", true),
            },
            None => notice(st, "select a message first (Esc, then ↑/↓)", true),
        },
        Some(A::Reply) => {
            if let Some(ev) = sel
                .as_ref()
                .and_then(|i| i.event_id.clone().map(|e| (e, i)))
            {
                st.compose_mode = ComposeMode::Reply {
                    event_id: ev.0,
                    to: ev.1.sender.clone(),
                };
                st.focus = Focus::Composer;
            }
        }
        Some(A::Edit) => match &sel {
            Some(i) if i.own && i.body.is_some() => {
                if let Some(e) = &i.event_id {
                    st.compose_mode = ComposeMode::Edit {
                        event_id: e.clone(),
                    };
                    st.composer.set(i.body.as_deref().unwrap_or(""));
                    st.focus = Focus::Composer;
                }
            }
            _ => notice(st, "only your own messages can be edited", true),
        },
        Some(A::React) => react(st, "👍", fx),
        Some(A::Redact) => redact(st, None),
        Some(A::FetchFromBackup) => {
            let utd = sel
                .as_ref()
                .filter(|i| i.body.is_none() && i.utd_reason.is_some());
            let has_key = st.backup.status.as_ref().is_some_and(|s| s.key_present);
            if let (Some(item), true) = (utd, has_key) {
                // The key is here: fetch just this message's session.
                fx.push(Effect::worker(p::backup::Fetch {
                    room: room.to_owned(),
                    session_ids: item.session_id.iter().cloned().collect(),
                }));
                notice(st, "fetching this message's key from the backup…", false);
            } else if let Some(item) = utd {
                // No key here yet: unlock first, then fetch just this
                // message's key (not a whole restore).
                st.fetch_after_unlock =
                    Some((room.to_owned(), item.session_id.iter().cloned().collect()));
                ask(st, PromptFor::RecoveryUnlock);
                notice(
                    st,
                    "this device needs the backup key: the recovery key or passphrase unlocks it, then this message's key is fetched",
                    false,
                );
            } else {
                notice(st, "this message is not waiting for a key", false);
            }
        }
        _ => {
            let _ = room;
            return false;
        }
    }
    true
}

/// `/thread`: opens the selected message's thread; `/thread TEXT` sends
/// TEXT in it (the newest message's, when none is selected).
pub(super) fn thread_command(st: &mut AppState, text: Option<String>, fx: &mut Vec<Effect>) {
    let Some(r) = &st.room else {
        return notice(st, "open a room first", true);
    };
    let item = r
        .selected()
        .or_else(|| r.items.iter().rev().find(|i| i.event_id.is_some()));
    let Some(root) = item.and_then(|i| i.thread_root.clone().or_else(|| i.event_id.clone())) else {
        return notice(st, "no message to start a thread from", true);
    };
    match text {
        None if r.thread.as_deref() == Some(root.as_str()) => {
            notice(st, "this is the thread shown (Esc goes back)", false)
        }
        None => show_thread(st, Some(root), fx),
        Some(text) => {
            let room = r.id.clone();
            let format = Default::default();
            let (text, mentions) = super::composer::prepared(st, text, format);
            fx.push(Effect::worker(p::rooms::SendText {
                room,
                text,
                thread: Some(root),
                format,
                mentions,
            }));
            notice(st, "sent in the thread (t opens it)", false);
        }
    }
}

/// Shows a thread of the open room (`Some(root)`) or its main timeline
/// again; the worker follows one of them at a time.
fn show_thread(st: &mut AppState, thread: Option<String>, fx: &mut Vec<Effect>) {
    let Some(r) = &mut st.room else { return };
    r.thread = thread.clone();
    r.items.clear();
    r.sel = None;
    r.unseen_from = None;
    r.loading = true;
    r.reached_start = false;
    r.paginating = false;
    st.compose_mode = ComposeMode::New;
    fx.push(Effect::worker(p::timeline::Open {
        room: r.id.clone(),
        thread,
    }));
}

/// Saves the selected message's file (and opens it when `open`).
fn download(
    st: &mut AppState,
    sel: Option<&crate::matrix::history::HistoryItem>,
    open: bool,
    fx: &mut Vec<Effect>,
) {
    let Some(room) = st.room.as_ref().map(|r| r.id.clone()) else {
        return;
    };
    match sel.and_then(|i| Some((i.attachment.as_ref()?, i.event_id.clone()?))) {
        Some((a, event_id)) => {
            notice(st, format!("downloading {}…", a.name), false);
            fx.push(Effect::worker(p::timeline::Download {
                room,
                event_id,
                target: crate::matrix::media::Target::Dir(st.download_dir.clone()),
                open,
            }));
        }
        None if sel.is_some() => notice(st, "this message carries no file", true),
        None => notice(st, "select a message first (Esc, then ↑/↓)", true),
    }
}

/// Reacts to the selected message; from the composer (nothing selected),
/// to the newest one.
pub(super) fn react(st: &mut AppState, key: &str, fx: &mut Vec<Effect>) {
    let from_composer = st.focus == Focus::Composer;
    match st.room.as_ref().and_then(|r| {
        r.selected()
            .or_else(|| {
                from_composer
                    .then(|| r.items.iter().rev().find(|i| i.event_id.is_some()))
                    .flatten()
            })
            .and_then(|i| i.event_id.clone())
            .map(|e| (r.id.clone(), e))
    }) {
        Some((room, event_id)) => fx.push(Effect::worker(p::timeline::React {
            room,
            event_id,
            key: key.to_owned(),
        })),
        None => notice(st, "select a message first (Esc, then ↑/↓)", true),
    }
}

pub(super) fn redact(st: &mut AppState, reason: Option<String>) {
    match st
        .room
        .as_ref()
        .and_then(|r| r.selected().map(|i| (r.id.clone(), i.clone())))
    {
        Some((room, i)) if i.own => {
            if let Some(event_id) = i.event_id {
                let text = i
                    .body
                    .as_deref()
                    .map(|b| widgets_free_truncate(&b.replace('\n', " "), 40))
                    .unwrap_or_else(|| "(no text)".into());
                let name = room_name(st, &room);
                ask_confirm(
                    st,
                    format!("Delete your message “{text}” in {name} for everyone?"),
                    ConfirmAct::Redact {
                        room,
                        event_id,
                        reason,
                    },
                );
            }
        }
        Some(_) => notice(st, "only your own messages can be redacted here", true),
        None => notice(st, "select a message first (Esc, then ↑/↓)", true),
    }
}

pub(super) fn timeline(
    st: &mut AppState,
    room: String,
    thread: Option<String>,
    items: Vec<crate::matrix::history::HistoryItem>,
    fx: &mut Vec<Effect>,
) {
    // A snapshot of the timeline shown before a switch is not this one's.
    if let Some(r) = &mut st.room
        && r.id == room
        && r.thread == thread
    {
        let kept = r.selected().and_then(|i| i.event_id.clone());
        let old_last = r.items.last().and_then(|i| i.event_id.clone());
        // Reading history: mark where messages that arrive now begin.
        if r.sel.is_some()
            && r.unseen_from.is_none()
            && let Some(last) = &old_last
            && let Some(at) = items
                .iter()
                .position(|i| i.event_id.as_deref() == Some(last.as_str()))
        {
            r.unseen_from = items.get(at + 1).and_then(|i| i.event_id.clone());
        }
        if r.sel.is_none() {
            r.unseen_from = None;
        }
        r.items = items;
        r.loading = false;
        if let Some(id) = kept {
            r.sel = r
                .items
                .iter()
                .position(|i| i.event_id.as_deref() == Some(id.as_str()))
                .or(r.sel);
        }
        if let Some(s) = r.sel {
            r.sel = Some(s.min(r.items.len().saturating_sub(1)));
        }
        // A short room: fetch more so the screen fills.
        if r.items.len() < 10 {
            maybe_paginate(r, fx);
        }
    }
    mark_read(st, fx);
    ask_previews(st, fx);
}

/// How many of the newest images of a room get a preview.
const PREVIEWED: usize = 20;

/// Asks for the previews of the newest images not asked for yet.
fn ask_previews(st: &mut AppState, fx: &mut Vec<Effect>) {
    if !st.previews_on {
        return;
    }
    let Some(r) = &st.room else { return };
    let wanted: Vec<String> = r
        .items
        .iter()
        .rev()
        .filter(|i| i.kind == crate::matrix::content::Kind::Image && !i.redacted)
        .filter_map(|i| i.event_id.clone())
        .take(PREVIEWED)
        .filter(|id| !st.previews.contains_key(id))
        .collect();
    let room = r.id.clone();
    for event_id in wanted {
        st.previews.insert(event_id.clone(), PreviewState::Asked);
        fx.push(Effect::worker(p::timeline::Preview {
            room: room.clone(),
            event_id,
        }));
    }
}

/// The newest message is on screen in the room's own timeline: this
/// account has read it (once per message).
pub(super) fn mark_read(st: &mut AppState, fx: &mut Vec<Effect>) {
    if st.screen != Screen::Timeline {
        return;
    }
    let Some(r) = &mut st.room else { return };
    // Reading history above the newest message, or a thread: not yet.
    if r.sel.is_some_and(|s| s + 1 < r.items.len()) || r.thread.is_some() {
        return;
    }
    let Some(newest) = r.items.iter().rev().find_map(|i| i.event_id.clone()) else {
        return;
    };
    if r.marked_read.as_deref() == Some(newest.as_str()) {
        return;
    }
    r.marked_read = Some(newest.clone());
    fx.push(Effect::worker(p::timeline::MarkRead {
        room: r.id.clone(),
        event_id: newest,
        public: st.composing.public_receipts,
    }));
}

/// An open room's outcomes; `room` is the room the command was for.
pub(super) fn finished(
    st: &mut AppState,
    room: Option<String>,
    done: p::timeline::Done,
    open: bool,
    fx: &mut Vec<Effect>,
) {
    use p::timeline::Done;
    match done {
        Done::Download(Ok(saved)) => {
            notice(st, format!("saved {} to {}", saved.name, saved.path), false);
            if open {
                fx.push(Effect::OpenExternal(saved.path));
            }
        }
        Done::Open(Err(e)) => {
            if let Some(r) = &mut st.room
                && Some(&r.id) == room.as_ref()
            {
                r.loading = false;
            }
            notice(st, format!("cannot open the room: {e}"), true);
        }
        Done::PaginateBack(res) => {
            if let Some(r) = &mut st.room
                && Some(&r.id) == room.as_ref()
            {
                r.paginating = false;
                match res {
                    Ok(done) => r.reached_start = done,
                    Err(e) => {
                        r.reached_start = true;
                        notice(st, format!("cannot load older messages: {e}"), true);
                    }
                }
            }
        }
        other => error_notice(st, other.error()),
    }
}
