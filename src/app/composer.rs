//! The composer: its keys, what Enter does with the text (a message in its
//! format, a slash command, a file), Tab completion, a draft per room and
//! the typing notices it sends.

use std::collections::BTreeMap;

use super::complete::{self, Cycle};
use super::slash::{self, Composed};
use super::*;
use crate::matrix::outgoing::{Mention, TextFormat};
use crate::matrix::protocol::UploadProgress;

/// While typing, "typing" is said again this often (in ticks, about 4 s;
/// the server forgets it after a few seconds without).
pub const TYPING_EVERY: u64 = 33;

/// What the composer keeps beside its text.
#[derive(Debug, Clone, Default)]
pub struct Composing {
    /// Unsent text of the rooms not open, by room id (kept across
    /// restarts, see `drafts`).
    pub drafts: BTreeMap<String, String>,
    /// The drafts changed since they were last saved.
    pub drafts_changed: bool,
    /// Members completion put into the text, mentioned when it is sent.
    pub mentions: Vec<Mention>,
    /// Tab again cycles through these.
    pub cycle: Option<Cycle>,
    /// The tick "typing" was last sent at, and where.
    pub typing: Option<(u64, String)>,
    /// A file being sent.
    pub upload: Option<UploadProgress>,
    /// `[privacy] typing`: others are told when we type.
    pub send_typing: bool,
    /// `[privacy] read_receipts`: read receipts are public.
    pub public_receipts: bool,
}

impl Composing {
    pub fn new() -> Self {
        Composing {
            send_typing: true,
            public_receipts: true,
            ..Default::default()
        }
    }
}

pub(super) fn composer_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    let newline = k
        .modifiers
        .intersects(KeyModifiers::ALT | KeyModifiers::SHIFT);
    if k.code != KeyCode::Tab {
        st.composing.cycle = None;
    }
    match k.code {
        KeyCode::Enter if newline => st.composer.insert('\n'),
        KeyCode::Enter => send(st, fx),
        KeyCode::Tab => complete(st),
        KeyCode::Esc => {
            if st.compose_mode != ComposeMode::New {
                if matches!(st.compose_mode, ComposeMode::Edit { .. }) {
                    drop(st.composer.take());
                }
                st.compose_mode = ComposeMode::New;
            } else {
                st.focus = Focus::Messages;
                if let Some(r) = &mut st.room {
                    r.sel = r.items.len().checked_sub(1);
                }
            }
        }
        KeyCode::PageUp => scroll(st, true, 10, fx),
        KeyCode::PageDown => scroll(st, false, 10, fx),
        // Up in an empty composer edits the last message we sent (as in
        // Element); with none, it goes up into the messages.
        KeyCode::Up if st.composer.is_empty() => {
            if !edit_last_own(st) {
                st.focus = Focus::Messages;
                if let Some(r) = &mut st.room {
                    r.sel = r.items.len().checked_sub(1);
                }
            }
        }
        _ => {
            st.composer.edit(&k);
            typing(st, fx);
        }
    }
}

/// Puts our newest text message into the composer to be edited.
fn edit_last_own(st: &mut AppState) -> bool {
    let Some(r) = &mut st.room else { return false };
    let Some((i, item)) = r
        .items
        .iter()
        .enumerate()
        .rev()
        .find(|(_, i)| i.own && !i.redacted && i.body.is_some() && i.attachment.is_none())
    else {
        return false;
    };
    let Some(event_id) = item.event_id.clone() else {
        return false;
    };
    let body = item.body.clone().unwrap_or_default();
    r.sel = Some(i);
    st.compose_mode = ComposeMode::Edit { event_id };
    st.composer.set(&body);
    true
}

/// Tells the room we are typing (at most every [`TYPING_EVERY`] ticks), or
/// that we stopped once the composer is empty.
fn typing(st: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(room) = st.room.as_ref().map(|r| r.id.clone()) else {
        return;
    };
    if st.composer.is_empty() || !st.composing.send_typing {
        return stop_typing(st, fx);
    }
    let due = match &st.composing.typing {
        Some((at, r)) => *r != room || st.ticks.saturating_sub(*at) >= TYPING_EVERY,
        None => true,
    };
    if due {
        st.composing.typing = Some((st.ticks, room.clone()));
        fx.push(Effect::worker(p::rooms::Typing { room, typing: true }));
    }
}

/// Says we stopped typing where we said we were.
pub(super) fn stop_typing(st: &mut AppState, fx: &mut Vec<Effect>) {
    if let Some((_, room)) = st.composing.typing.take() {
        fx.push(Effect::worker(p::rooms::Typing {
            room,
            typing: false,
        }));
    }
}

/// Tab: completes the word before the cursor, or puts the next candidate
/// in place of the last one.
fn complete(st: &mut AppState) {
    if let Some(c) = &mut st.composing.cycle
        && c.after == st.composer.text()
    {
        c.index = (c.index + 1) % c.candidates.len();
        let next = c.candidates[c.index].clone();
        st.composer.replace_before(c.inserted, &next.insert);
        c.inserted = next.insert.chars().count();
        c.after = st.composer.text().to_owned();
        if let Some(m) = next.mention {
            st.composing.mentions.push(m);
        }
        return;
    }
    let word = st.composer.word_before_cursor();
    let first = st
        .composer
        .text()
        .chars()
        .take(st.composer.cursor())
        .count()
        == word.chars().count();
    let members = st
        .room
        .as_ref()
        .map(|r| r.members.as_slice())
        .unwrap_or(&[]);
    let found = complete::candidates(&word, first, members, &st.rooms);
    let Some(pick) = found.first().cloned() else {
        let why = if word.starts_with('@') && members.is_empty() {
            "no members known yet"
        } else {
            "nothing to complete"
        };
        return notice(st, why, false);
    };
    st.composer
        .replace_before(word.chars().count(), &pick.insert);
    if let Some(m) = pick.mention {
        st.composing.mentions.push(m);
    }
    if found.len() > 1 {
        let listed: Vec<&str> = found.iter().take(8).map(|c| c.shown.as_str()).collect();
        let more = if found.len() > 8 { " …" } else { "" };
        notice(st, format!("Tab: {}{more}", listed.join(" · ")), false);
        st.composing.cycle = Some(Cycle {
            inserted: pick.insert.chars().count(),
            candidates: found,
            index: 0,
            after: st.composer.text().to_owned(),
        });
    }
}

pub(super) fn send(st: &mut AppState, fx: &mut Vec<Effect>) {
    if st.room.is_none() {
        return;
    }
    if st.composer.text().trim().is_empty() {
        return;
    }
    // A recovery key is never sent: it goes to the unlock prompt instead,
    // where it was almost certainly meant to go.
    if guard::holds_recovery_key(st.composer.text()) {
        let key = st.composer.take();
        st.compose_mode = ComposeMode::New;
        // Without the backup key the user most likely wants their history
        // back (as the demo says); with it, an unlock.
        ask(
            st,
            if has_backup_key(st) {
                PromptFor::RecoveryUnlock
            } else {
                PromptFor::BackupRestore
            },
        );
        if let Some(p) = &mut st.prompt {
            p.input.insert_str(key.trim());
        }
        return notice(
            st,
            "not sent: that is a recovery key. It is in the prompt now: Enter uses it, Esc forgets it",
            true,
        );
    }
    if st.typed_secrets.found_in(st.composer.text()) {
        return notice(
            st,
            "not sent: the message holds a password or passphrase you typed in keepsake",
            true,
        );
    }
    // A keepsake command typed into the composer is run, not sent (a line
    // that starts with a space is sent as it is).
    if let Some(line) = st.composer.text().strip_prefix(':')
        && let Ok(action) = command::parse(line)
    {
        drop(st.composer.take());
        notice(
            st,
            "ran it as a command (start with a space to send it as text)",
            false,
        );
        stop_typing(st, fx);
        run_command(st, action, fx);
        return;
    }
    let (text, format) = match slash::parse(st.composer.text()) {
        Ok(Composed::Text { text, format }) => (text, format),
        Ok(Composed::Command(action)) => {
            drop(st.composer.take());
            st.composing.mentions.clear();
            stop_typing(st, fx);
            return run_command(st, action, fx);
        }
        // Kept in the composer to be fixed.
        Err(e) => return notice(st, e.0, true),
    };
    drop(st.composer.take());
    stop_typing(st, fx);
    send_text(st, text, format, fx);
}

/// Sends `text` to the open room (or thread), as a reply or an edit when
/// the composer is in that mode.
pub(super) fn send_text(st: &mut AppState, text: String, format: TextFormat, fx: &mut Vec<Effect>) {
    let Some(open) = &st.room else { return };
    let room = open.id.clone();
    let thread = open.thread.clone();
    let (text, mentions) = prepared(st, text, format);
    let cmd: Command = match std::mem::replace(&mut st.compose_mode, ComposeMode::New) {
        ComposeMode::New => p::rooms::SendText {
            room,
            text,
            thread,
            format,
            mentions,
        }
        .into(),
        ComposeMode::Reply { event_id, .. } => p::timeline::Reply {
            room,
            in_reply_to: event_id,
            text,
        }
        .into(),
        ComposeMode::Edit { event_id } => p::timeline::Edit {
            room,
            event_id,
            text,
        }
        .into(),
    };
    if let Some(r) = &mut st.room {
        r.sel = None;
    }
    fx.push(Effect::Worker(cmd));
}

/// The text as sent (`:shortcodes:` made emoji where markdown is read),
/// and the mentions completion put into it.
pub(super) fn prepared(
    st: &mut AppState,
    text: String,
    format: TextFormat,
) -> (String, Vec<Mention>) {
    let text = match format {
        TextFormat::Markdown | TextFormat::Emote => complete::shortcodes(&text),
        _ => text,
    };
    (text, std::mem::take(&mut st.composing.mentions))
}

/// `/upload PATH`: a file to the open room (or thread). `~` is the home
/// directory; a relative path is from where keepsake started.
pub(super) fn upload(st: &mut AppState, path: &str, fx: &mut Vec<Effect>) {
    let Some(open) = &st.room else {
        return notice(st, "open a room to send a file to", true);
    };
    if st.composing.upload.is_some() {
        return notice(st, "a file is being sent already: wait for it", true);
    }
    let path = expand_home(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    st.composing.upload = Some(UploadProgress {
        room: open.id.clone(),
        name: name.clone(),
        sent: 0,
        total: 0,
    });
    fx.push(Effect::worker(p::rooms::SendFile {
        room: open.id.clone(),
        path,
        thread: open.thread.clone(),
    }));
    notice(st, format!("sending {name}…"), false);
}

fn expand_home(path: &str) -> std::path::PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => match std::env::var_os("HOME") {
            Some(home) => std::path::PathBuf::from(home).join(rest),
            None => path.into(),
        },
        None => path.into(),
    }
}

/// Keeps the composer's text as the draft of the room being left, and
/// puts the draft of `to` (if any) in the composer.
pub(super) fn switch_draft(st: &mut AppState, to: Option<&str>, fx: &mut Vec<Effect>) {
    stop_typing(st, fx);
    if let Some(from) = st.room.as_ref().map(|r| r.id.clone()) {
        let text = st.composer.take();
        // An edit's text is the old message, not a draft.
        let text = if matches!(st.compose_mode, ComposeMode::Edit { .. }) {
            Default::default()
        } else {
            text
        };
        let changed = if text.trim().is_empty() {
            st.composing.drafts.remove(&from).is_some()
        } else {
            st.composing
                .drafts
                .insert(from, text.to_string())
                .as_deref()
                != Some(text.as_str())
        };
        st.composing.drafts_changed |= changed;
    }
    st.composing.mentions.clear();
    st.composing.cycle = None;
    if let Some(to) = to
        && let Some(d) = st.composing.drafts.remove(to)
    {
        st.composer.set(&d);
        st.composing.drafts_changed = true;
    }
}

/// The drafts to keep on disk: every room's unsent text, the open room's
/// included, leaving out any that holds a secret (a recovery key, or a
/// password typed in keepsake): those never reach a file.
pub fn drafts_to_save(st: &AppState) -> BTreeMap<String, String> {
    let mut all = st.composing.drafts.clone();
    if let Some(r) = &st.room
        && !st.composer.text().trim().is_empty()
    {
        all.insert(r.id.clone(), st.composer.text().to_owned());
    }
    all.retain(|_, text| !guard::holds_recovery_key(text) && !st.typed_secrets.found_in(text));
    all
}

/// A sent file's progress and end.
pub(super) fn upload_progress(st: &mut AppState, p: UploadProgress) {
    if st
        .composing
        .upload
        .as_ref()
        .is_some_and(|u| u.room == p.room)
    {
        st.composing.upload = Some(p);
    }
}

/// The outcomes of what the composer asked for.
pub(super) fn finished(st: &mut AppState, done: p::rooms::Done, fx: &mut Vec<Effect>) {
    use p::rooms::Done;
    match done {
        Done::SendFile(r) => {
            let name = st
                .composing
                .upload
                .take()
                .map(|u| u.name)
                .unwrap_or_default();
            match r {
                Ok(_) => notice(st, format!("sent {name}"), false),
                Err(e) => notice(st, said(&e), true),
            }
        }
        Done::Dm(Ok(dm)) => {
            notice(
                st,
                format!(
                    "{} the direct message with {}",
                    if dm.created { "started" } else { "opened" },
                    dm.with
                ),
                false,
            );
            open_by_id(st, &dm.room_id, &dm.with, fx);
        }
        Done::SetTopic(Ok(())) => notice(st, "topic set", false),
        Done::SetName(Ok(())) => notice(st, "room renamed", false),
        Done::Moderate(Ok(())) => notice(st, "done", false),
        Done::Members(Ok(list)) => super::members::loaded(st, list),
        Done::Typing(_) => {}
        other => error_notice(st, other.error()),
    }
}

/// Opens a room by id (a new DM may not be in the room list yet: then it
/// is encrypted, as `create_dm` makes it).
fn open_by_id(st: &mut AppState, id: &str, name: &str, fx: &mut Vec<Effect>) {
    if let Some(i) = st.visible_rooms().iter().position(|r| r.room_id == id) {
        st.room_sel = i;
        return open_room(st, fx);
    }
    show_room(st, id, name, true, fx);
}
