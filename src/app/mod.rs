//! The TUI's pure core: [`AppState`], the messages that change it ([`Msg`])
//! and [`update`], which returns what should happen outside ([`Effect`]s:
//! worker commands, a login, a clipboard copy, quitting). No I/O here.

pub mod command;
// Test data, also for the integration tests (the zeroize test drives the
// app from it).
#[doc(hidden)]
pub mod fixtures;
pub mod guard;
pub mod input;
pub mod keys;
pub mod state;
pub mod time;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use crate::backup::upload::UploadState;
use crate::matrix::protocol::{self as p, Command, ErrorKind, Outcome, Secret, Update};
use crate::matrix::verify::VerifyState;

use command::{BackupAction, CmdAction, RecoveryAction};
use input::TextInput;
use keys::Action;
pub use state::*;

/// How many events one back-pagination asks for.
pub const PAGE_EVENTS: u16 = 30;
/// How many ticks a notice stays (errors twice as long).
pub const NOTICE_TICKS: u64 = 50;
/// How long the server may hold a sync open.
pub const LONG_POLL: Duration = Duration::from_secs(30);

/// Everything that can change the state.
// Worker updates dominate and each message is moved once; boxing them would
// only add an allocation per update.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    Tick,
    Worker(Update),
    /// The worker stopped (its update channel closed).
    WorkerGone,
    /// The outcome of a login the runtime performed: our user id, or why not.
    LoggedIn(Result<String, String>),
}

/// What `update` asks the outside world to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Worker(Command),
    Login {
        homeserver: String,
        user: String,
        password: Secret,
    },
    /// Put this on the terminal's clipboard (OSC 52).
    Copy(Secret),
    Quit,
}

impl Effect {
    /// A command for the worker.
    pub fn worker(cmd: impl Into<Command>) -> Effect {
        Effect::Worker(cmd.into())
    }
}

/// The commands to send once logged in: who we are, rooms, sync, and what
/// the status bar shows about backup and recovery.
pub fn startup() -> Vec<Effect> {
    vec![
        Effect::worker(p::account::WhoAmI),
        Effect::worker(p::rooms::List),
        Effect::worker(p::account::StartSync {
            long_poll: LONG_POLL,
        }),
        Effect::worker(p::backup::Status),
        Effect::worker(p::recovery::Status),
    ]
}

/// Applies one message.
pub fn update(st: &mut AppState, msg: Msg) -> Vec<Effect> {
    let mut fx = vec![];
    match msg {
        Msg::Tick => {
            st.ticks = st.ticks.wrapping_add(1);
            // Only spinners and fading notices move with time.
            if st.busy() {
                st.dirty = true;
            }
            if let Some(d) = &st.verification
                && matches!(d.state, VerifyState::Emoji { .. })
                && st.ticks.saturating_sub(d.shown_at) == EMOJI_MIN_TICKS
            {
                st.dirty = true;
            }
            if let Some(c) = &st.confirm
                && st.ticks.saturating_sub(c.asked_at) == CONFIRM_ARM_TICKS
            {
                st.dirty = true;
            }
            if let Some(n) = &st.notice {
                let keep = if n.error {
                    NOTICE_TICKS * 2
                } else {
                    NOTICE_TICKS
                };
                if st.ticks.saturating_sub(st.notice_at) > keep {
                    st.notice = None;
                    st.dirty = true;
                }
            }
            return fx;
        }
        Msg::Resize(w, h) => st.size = (w, h),
        Msg::Key(k) => {
            if k.kind == KeyEventKind::Release {
                return fx;
            }
            key(st, k, &mut fx);
        }
        Msg::Mouse(m) => {
            let up = match m.kind {
                MouseEventKind::ScrollUp => true,
                MouseEventKind::ScrollDown => false,
                _ => return fx,
            };
            scroll(st, up, 3, &mut fx);
        }
        Msg::Paste(text) => {
            // Pasted text may be a secret: the copy is wiped once used.
            let text = zeroize::Zeroizing::new(text);
            paste(st, &text);
        }
        Msg::Worker(u) => worker_update(st, u, &mut fx),
        Msg::WorkerGone => {
            st.online = false;
            notice(
                st,
                "the connection to the account stopped; restart keepsake",
                true,
            );
        }
        Msg::LoggedIn(Ok(user)) => {
            st.login.busy = false;
            drop(st.login.password.take());
            st.me = Some(user);
            st.online = true;
            st.screen = Screen::Rooms;
            fx.extend(startup());
        }
        Msg::LoggedIn(Err(e)) => {
            st.login.busy = false;
            st.login.error = Some(e);
            st.login.focus = 2;
        }
    }
    st.dirty = true;
    if st.quit {
        fx.push(Effect::Quit);
    }
    fx
}

fn notice(st: &mut AppState, text: impl Into<String>, error: bool) {
    st.notice_at = st.ticks;
    st.notice = Some(Notice {
        text: text.into(),
        error,
    });
}

fn paste(st: &mut AppState, text: &str) {
    if let Some(p) = &mut st.prompt {
        p.input.insert_str(text.trim_end_matches(['\n', '\r']));
    } else if let Some(c) = &mut st.cmdline {
        c.insert_str(text.lines().next().unwrap_or(""));
    } else if st.screen == Screen::Login {
        st.login
            .input_mut()
            .insert_str(text.trim_end_matches(['\n', '\r']));
    } else if st.screen == Screen::Timeline && st.focus == Focus::Composer {
        st.composer.insert_str(text);
    } else if st.filtering {
        st.filter.insert_str(text.lines().next().unwrap_or(""));
    }
}

fn ctrl_c(k: &KeyEvent) -> bool {
    k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL)
}

fn key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    // Ctrl-C quits from anywhere, whatever the bindings say.
    if ctrl_c(&k) {
        st.quit = true;
        return;
    }
    if st.help {
        if st.keys.is(Action::Down, &k) {
            st.help_scroll = st.help_scroll.saturating_add(1);
        } else if st.keys.is(Action::Up, &k) {
            st.help_scroll = st.help_scroll.saturating_sub(1);
        } else {
            st.help = false;
            st.help_scroll = 0;
        }
        return;
    }
    if st.prompt.is_some() {
        return prompt_key(st, k, fx);
    }
    if st.confirm.is_some() {
        return confirm_key(st, k, fx);
    }
    if st.verification.is_some() {
        return verify_key(st, k, fx);
    }
    if st.cmdline.is_some() {
        return cmdline_key(st, k, fx);
    }
    match st.screen {
        Screen::Login => login_key(st, k, fx),
        Screen::Timeline if st.focus == Focus::Composer => composer_key(st, k, fx),
        _ if st.filtering => filter_key(st, k),
        _ => normal_key(st, k, fx),
    }
}

fn login_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    if st.login.busy {
        return;
    }
    let f = &mut st.login;
    match k.code {
        KeyCode::Esc => st.quit = true,
        KeyCode::Tab | KeyCode::Down => f.focus = (f.focus + 1) % 3,
        KeyCode::BackTab | KeyCode::Up => f.focus = (f.focus + 2) % 3,
        KeyCode::Enter => {
            if f.homeserver.is_empty() {
                f.focus = 0;
                f.error = Some("the homeserver is missing".into());
            } else if f.user.is_empty() {
                f.focus = 1;
                f.error = Some("the user is missing".into());
            } else if f.password.is_empty() {
                f.focus = 2;
                if f.field() != LoginField::Password {
                    f.error = None;
                } else {
                    f.error = Some("the password is missing".into());
                }
            } else {
                f.busy = true;
                f.error = None;
                st.typed_secrets.remember(f.password.text());
                fx.push(Effect::Login {
                    homeserver: f.homeserver.text().trim().to_owned(),
                    user: f.user.text().trim().to_owned(),
                    password: Secret(f.password.take()),
                });
            }
        }
        _ => {
            f.input_mut().edit(&k);
        }
    }
}

fn prompt_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(p) = &mut st.prompt else { return };
    match k.code {
        KeyCode::Esc => st.prompt = None,
        KeyCode::Enter => {
            if p.input.is_empty() {
                return;
            }
            let secret = Secret(p.input.take());
            let purpose = p.purpose;
            st.prompt = None;
            st.typed_secrets.remember(secret.expose());
            let algorithm = st.backup_algorithm.clone();
            let cmd: Command = match purpose {
                PromptFor::RecoveryUnlock => {
                    st.recovery.busy = Some("unlocking");
                    st.recovery.message = None;
                    p::recovery::Unlock {
                        key_or_passphrase: secret,
                    }
                    .into()
                }
                PromptFor::BackupCreate => {
                    st.backup.busy = Some("creating a backup");
                    st.backup.message = None;
                    p::backup::Create {
                        key_or_passphrase: secret,
                        algorithm,
                    }
                    .into()
                }
                PromptFor::BackupReset => {
                    st.backup.message = None;
                    let curve = st.backup.status.as_ref().is_some_and(|s| {
                        s.server_algorithm.as_deref()
                            == Some(crate::backup::entry::CURVE25519_ALGORITHM)
                    });
                    if curve {
                        // An Element-style backup: move it into a symmetric
                        // one rather than leave its keys behind.
                        st.backup.busy = Some("migrating the curve25519 backup");
                        p::backup::Migrate {
                            key_or_passphrase: secret,
                            algorithm,
                        }
                        .into()
                    } else {
                        st.backup.busy = Some("resetting the backup");
                        p::backup::Reset {
                            key_or_passphrase: secret,
                            algorithm,
                        }
                        .into()
                    }
                }
                PromptFor::BackupRestore => {
                    return start_restore(st, Some(secret), fx);
                }
                PromptFor::AccountPassword => {
                    st.recovery.busy = Some("setting up recovery");
                    st.recovery.message = None;
                    p::recovery::Setup {
                        password: Some(secret),
                        passphrase: None,
                    }
                    .into()
                }
            };
            fx.push(Effect::Worker(cmd));
        }
        _ => {
            p.input.edit(&k);
        }
    }
}

fn start_restore(st: &mut AppState, secret: Option<Secret>, fx: &mut Vec<Effect>) {
    if st.backup.restoring {
        return notice(st, "a restore is already running", false);
    }
    st.backup.restoring = true;
    st.backup.restore = None;
    st.backup.message = None;
    fx.push(Effect::worker(p::backup::Restore {
        key_or_passphrase: secret,
        version: None,
    }));
}

/// What a backup reset does, said plainly for its question.
fn reset_question(st: &AppState) -> String {
    let s = st.backup.status.as_ref();
    let version = s.and_then(|s| s.server_version.clone().or(s.version.clone()));
    let curve = s.and_then(|s| s.server_algorithm.as_deref())
        == Some(crate::backup::entry::CURVE25519_ALGORITHM);
    let q = match (version, curve) {
        (Some(v), true) => format!(
            "Migrate backup version {v} (curve25519) into a new symmetric backup? Its keys are restored here first, then uploaded to the new version (marked untrusted)."
        ),
        (Some(v), false) => format!(
            "Reset the backup? Every key of version {v} is first restored onto this device (if that fails, nothing changes) and its key is kept in secret storage; then a new key and version replace it, and every key here is uploaded to the new one."
        ),
        (None, _) => "Create a new backup version with a new key?".to_owned(),
    };
    // The device list is ours unless the devices screen shows someone else.
    let warning = if st.devices.user.is_none() && !st.devices.list.is_empty() {
        crate::backup::readers::warning(&st.devices.list)
    } else {
        None
    };
    match warning {
        Some(w) => format!("{q} {w}"),
        None => q,
    }
}

/// `s` cut to `n` characters with an ellipsis.
fn widgets_free_truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn has_backup_key(st: &AppState) -> bool {
    st.backup.status.as_ref().is_some_and(|s| s.key_present)
        || st
            .recovery
            .status
            .as_ref()
            .is_some_and(|s| s.backup_key_present)
}

/// Restore at once when this device holds the key, else ask for the
/// recovery key or passphrase first.
fn restore_or_ask(st: &mut AppState, fx: &mut Vec<Effect>) {
    if has_backup_key(st) {
        start_restore(st, None, fx);
    } else {
        ask(st, PromptFor::BackupRestore);
    }
}

fn ask(st: &mut AppState, purpose: PromptFor) {
    st.prompt = Some(Prompt {
        purpose,
        input: TextInput::masked(),
    });
}

fn verify_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
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

/// Keys typed within this many ticks of a question (about a third of a
/// second) were typed ahead, not in answer: they cancel it.
pub const CONFIRM_ARM_TICKS: u64 = 3;

/// Asks before a destructive act.
fn ask_confirm(st: &mut AppState, question: String, act: ConfirmAct) {
    st.confirm = Some(Confirm {
        question,
        act,
        asked_at: st.ticks,
    });
}

fn confirm_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(c) = st.confirm.take() else { return };
    let early = st.ticks.saturating_sub(c.asked_at) < CONFIRM_ARM_TICKS;
    let yes = matches!(k.code, KeyCode::Char('y' | 'Y'))
        && k.modifiers - KeyModifiers::SHIFT == KeyModifiers::NONE;
    if !yes || early {
        let why = if yes {
            " (answered before it was shown)"
        } else {
            ""
        };
        return notice(st, format!("cancelled: nothing was changed{why}"), false);
    }
    match c.act {
        ConfirmAct::Redact {
            room,
            event_id,
            reason,
        } => {
            notice(st, "redacting the message…", false);
            fx.push(Effect::worker(p::timeline::Redact {
                room,
                event_id,
                reason,
            }));
        }
        ConfirmAct::Decline { room, name } => {
            notice(st, format!("declining {name}…"), false);
            fx.push(Effect::worker(p::rooms::Leave { room }));
        }
        ConfirmAct::Leave { room, name } => {
            if st.room.as_ref().is_some_and(|r| r.id == room) {
                st.room = None;
                st.screen = Screen::Rooms;
                fx.push(Effect::worker(p::timeline::Close { room: room.clone() }));
            }
            notice(st, format!("leaving {name}…"), false);
            fx.push(Effect::worker(p::rooms::Leave { room }));
        }
        ConfirmAct::Quit => st.quit = true,
        ConfirmAct::BackupReset => ask(st, PromptFor::BackupReset),
    }
}

/// A room's name for a question ("Garden club"), or its id.
fn room_name(st: &AppState, room: &str) -> String {
    st.rooms
        .iter()
        .find(|r| r.room_id == room)
        .map(|r| r.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| room.to_owned())
}

/// Quits, asking first when an unsent message would be lost.
fn quit(st: &mut AppState) {
    if st.composer.text().trim().is_empty() {
        st.quit = true;
    } else {
        let room = st.room.as_ref().map(|r| room_name(st, &r.id));
        ask_confirm(
            st,
            format!(
                "Quit? Your unsent message{} will be lost.",
                room.map(|r| format!(" in {r}")).unwrap_or_default()
            ),
            ConfirmAct::Quit,
        );
    }
}

/// The emoji may be confirmed only once they have been on screen this many
/// ticks (about a second).
pub const EMOJI_MIN_TICKS: u64 = 9;

/// Answers the request that is waiting, from the devices screen.
/// A verification update: it moves the dialog the user opened, or it is a
/// request that only raises a notice (a dialog that took the keys being
/// typed would let whatever the user types answer it).
fn verification_update(st: &mut AppState, v: crate::matrix::verify::VerifyUpdate) {
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

fn answer_incoming(st: &mut AppState, accept: bool, fx: &mut Vec<Effect>) {
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

fn cmdline_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(line) = &mut st.cmdline else { return };
    match k.code {
        KeyCode::Esc => st.cmdline = None,
        KeyCode::Backspace if line.is_empty() => st.cmdline = None,
        KeyCode::Enter => {
            let text = line.take();
            st.cmdline = None;
            match command::parse(&text) {
                Ok(a) => run_command(st, a, fx),
                Err(e) => notice(st, e.0, true),
            }
        }
        _ => {
            line.edit(&k);
        }
    }
}

fn filter_key(st: &mut AppState, k: KeyEvent) {
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

fn composer_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    let newline = k
        .modifiers
        .intersects(KeyModifiers::ALT | KeyModifiers::SHIFT);
    match k.code {
        KeyCode::Enter if newline => st.composer.insert('\n'),
        KeyCode::Enter => send(st, fx),
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
        KeyCode::Up if st.composer.is_empty() => {
            st.focus = Focus::Messages;
            if let Some(r) = &mut st.room {
                r.sel = r.items.len().checked_sub(1);
            }
        }
        _ => {
            st.composer.edit(&k);
        }
    }
}

fn send(st: &mut AppState, fx: &mut Vec<Effect>) {
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
        run_command(st, action, fx);
        return;
    }
    let Some(room) = &st.room else { return };
    let text = st.composer.take().to_string();
    let room = room.id.clone();
    let cmd: Command = match std::mem::replace(&mut st.compose_mode, ComposeMode::New) {
        ComposeMode::New => p::rooms::SendText { room, text }.into(),
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

/// Moves a list selection or scrolls the timeline; `up` towards older.
fn scroll(st: &mut AppState, up: bool, by: usize, fx: &mut Vec<Effect>) {
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
        }
        _ => {}
    }
}

fn step(cur: usize, n: usize, up: bool, by: usize) -> usize {
    if n == 0 {
        return 0;
    }
    if up {
        cur.saturating_sub(by)
    } else {
        (cur + by).min(n - 1)
    }
}

fn maybe_paginate(r: &mut OpenRoom, fx: &mut Vec<Effect>) {
    if !r.paginating && !r.reached_start {
        r.paginating = true;
        fx.push(Effect::worker(p::timeline::PaginateBack {
            room: r.id.clone(),
            count: PAGE_EVENTS,
        }));
    }
}

fn go(st: &mut AppState, screen: Screen, fx: &mut Vec<Effect>) {
    st.screen = screen;
    match screen {
        Screen::Backup => {
            st.backup.loading = true;
            fx.push(Effect::worker(p::backup::Status));
            // Our own devices, for the warning before a reset or migration
            // (which of them cannot read a symmetric backup).
            if st.devices.user.is_none() {
                fx.push(Effect::worker(p::devices::List { user: None }));
            }
        }
        Screen::Recovery => {
            st.recovery.loading = true;
            fx.push(Effect::worker(p::recovery::Status));
        }
        Screen::Devices => {
            st.devices.loading = true;
            st.devices.error = None;
            fx.push(Effect::worker(p::devices::List {
                user: st.devices.user.clone(),
            }));
        }
        Screen::Timeline => st.focus = Focus::Composer,
        Screen::Rooms | Screen::Login => {}
    }
}

fn open_room(st: &mut AppState, fx: &mut Vec<Effect>) {
    let Some(r) = st.selected_room().cloned() else {
        return;
    };
    if r.membership == "invited" {
        fx.push(Effect::worker(p::rooms::Join { room: r.room_id }));
        return notice(st, format!("joining {}…", r.name), false);
    }
    if st.room.as_ref().is_none_or(|o| o.id != r.room_id) {
        if let Some(old) = st.room.take() {
            fx.push(Effect::worker(p::timeline::Close { room: old.id }));
        }
        st.room = Some(OpenRoom::new(&r.room_id, &r.name, r.encrypted));
        st.compose_mode = ComposeMode::New;
        drop(st.composer.take());
        fx.push(Effect::worker(p::timeline::Open {
            room: r.room_id.clone(),
        }));
    } else if let Some(open) = &mut st.room {
        // Opening a room shows its newest messages, never where the view
        // was left.
        open.sel = None;
        open.unseen_from = None;
    }
    go(st, Screen::Timeline, fx);
}

fn normal_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    use Action as A;
    let global = [
        A::Quit,
        A::Help,
        A::CommandLine,
        A::Rooms,
        A::Backup,
        A::Recovery,
        A::Devices,
    ];
    // Screen keys first: they may reuse a global key.
    if screen_key(st, &k, fx) {
        return;
    }
    match st.keys.which(&k, &global) {
        Some(A::Quit) => quit(st),
        Some(A::Help) => st.help = true,
        Some(A::CommandLine) => st.cmdline = Some(TextInput::default()),
        Some(A::Rooms) => go(st, Screen::Rooms, fx),
        Some(A::Backup) => go(st, Screen::Backup, fx),
        Some(A::Recovery) => go(st, Screen::Recovery, fx),
        Some(A::Devices) => go(st, Screen::Devices, fx),
        _ => {}
    }
}

/// A key the current screen knows; `true` when it was used.
fn screen_key(st: &mut AppState, k: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    use Action as A;
    let nav = [A::Up, A::Down, A::PageUp, A::PageDown, A::Top, A::Bottom];
    let keys = st.keys.clone();
    if let Some(a) = keys.which(k, &nav) {
        let (up, by) = match a {
            A::Up => (true, 1),
            A::Down => (false, 1),
            A::PageUp => (true, 10),
            A::PageDown => (false, 10),
            A::Top => (true, usize::MAX / 2),
            _ => (false, usize::MAX / 2),
        };
        scroll(st, up, by, fx);
        return true;
    }
    match st.screen {
        Screen::Login => false,
        Screen::Rooms => match keys.which(
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
        },
        Screen::Timeline => timeline_key(st, k, fx),
        Screen::Backup => {
            match keys.which(
                k,
                &[
                    A::Restore,
                    A::Create,
                    A::Upload,
                    A::UseCurrent,
                    A::Reset,
                    A::Inspect,
                    A::Refresh,
                    A::Back,
                ],
            ) {
                Some(A::Inspect) => {
                    st.backup.inspecting = !st.backup.inspecting;
                    if st.backup.inspecting {
                        st.backup.inspect_error = None;
                        fx.push(Effect::worker(p::backup::Inspect));
                    }
                }
                Some(A::Restore) => restore_or_ask(st, fx),
                Some(A::Create) => ask(st, PromptFor::BackupCreate),
                Some(A::Reset) => {
                    let q = reset_question(st);
                    ask_confirm(st, q, ConfirmAct::BackupReset);
                }
                Some(A::Upload) => {
                    st.backup.message = None;
                    fx.push(Effect::worker(p::backup::Upload));
                }
                Some(A::UseCurrent) => {
                    st.backup.busy = Some("adopting the server's version");
                    st.backup.message = None;
                    fx.push(Effect::worker(p::backup::UseCurrent));
                }
                Some(A::Refresh) => {
                    go(st, Screen::Backup, fx);
                    if st.backup.inspecting {
                        fx.push(Effect::worker(p::backup::Inspect));
                    }
                }
                Some(A::Back) => back(st),
                _ => return false,
            }
            true
        }
        Screen::Recovery => {
            if st.recovery.new_key.is_some() {
                // The key is on screen: copy it, or confirm it is saved.
                if keys.is(A::Copy, k) {
                    if !st.clipboard {
                        notice(
                            st,
                            "this terminal does not take clipboard writes (OSC 52): write the key down from the screen",
                            true,
                        );
                    } else if let Some(key) = &st.recovery.new_key {
                        fx.push(Effect::Copy(key.clone()));
                        notice(st, "recovery key copied to the clipboard (OSC 52)", false);
                    }
                } else if keys.is(A::Open, k) {
                    // Only a deliberate "I have saved it" hides the key:
                    // Esc, a slip, would lose it for good.
                    st.recovery.new_key = None;
                    st.recovery.message = Some(Ok("the recovery key is no longer shown".into()));
                }
                return true;
            }
            match keys.which(k, &[A::Setup, A::Unlock, A::Refresh, A::Back]) {
                Some(A::Setup) => recovery_setup(st, fx),
                Some(A::Unlock) => ask(st, PromptFor::RecoveryUnlock),
                Some(A::Refresh) => go(st, Screen::Recovery, fx),
                Some(A::Back) => back(st),
                _ => return false,
            }
            true
        }
        Screen::Devices => match keys.which(
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
        },
    }
}

fn back(st: &mut AppState) {
    st.screen = if st.room.is_some() && st.screen != Screen::Timeline {
        Screen::Timeline
    } else {
        Screen::Rooms
    };
    if st.screen == Screen::Timeline {
        st.focus = Focus::Messages;
    }
}

fn recovery_setup(st: &mut AppState, fx: &mut Vec<Effect>) {
    st.recovery.busy = Some("setting up recovery");
    st.recovery.message = None;
    fx.push(Effect::worker(p::recovery::Setup {
        password: None,
        passphrase: None,
    }));
}

fn timeline_key(st: &mut AppState, k: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
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
            A::Open,
            A::Back,
        ],
    ) {
        Some(A::Compose | A::Open) => {
            st.focus = Focus::Composer;
            // Writing follows the newest messages again.
            if let Some(r) = &mut st.room {
                r.sel = None;
            }
        }
        Some(A::Back) => {
            st.screen = Screen::Rooms;
        }
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

fn react(st: &mut AppState, key: &str, fx: &mut Vec<Effect>) {
    match st.room.as_ref().and_then(|r| {
        r.selected()
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

fn redact(st: &mut AppState, reason: Option<String>) {
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

fn run_command(st: &mut AppState, a: CmdAction, fx: &mut Vec<Effect>) {
    let current = st.room.as_ref().map(|r| r.id.clone());
    match a {
        CmdAction::Quit => quit(st),
        CmdAction::Help => st.help = true,
        CmdAction::Rooms => go(st, Screen::Rooms, fx),
        CmdAction::Join(room) => {
            notice(st, format!("joining {room}…"), false);
            fx.push(Effect::worker(p::rooms::Join { room }));
        }
        CmdAction::Leave(room) => {
            // The room on screen: the highlighted one on the room list, the
            // open one in a room.
            let shown = match st.screen {
                Screen::Rooms => st.selected_room().map(|r| r.room_id.clone()),
                Screen::Timeline => current,
                _ => None,
            };
            match room.or(shown) {
                Some(room) => {
                    let name = room_name(st, &room);
                    ask_confirm(
                        st,
                        format!(
                            "Leave {name}? You need a new invitation to come back to an invite-only room."
                        ),
                        ConfirmAct::Leave { room, name },
                    );
                }
                None => notice(
                    st,
                    "which room? :leave ROOM (or highlight or open it)",
                    true,
                ),
            }
        }
        CmdAction::Invite { user, room } => match room.or(current) {
            Some(room) => {
                notice(st, format!("inviting {user}…"), false);
                fx.push(Effect::worker(p::rooms::Invite { room, user }));
            }
            None => notice(st, "which room? open one or :invite USER ROOM", true),
        },
        CmdAction::Create { name, encrypted } => {
            notice(st, format!("creating {name}…"), false);
            fx.push(Effect::worker(p::rooms::Create {
                name,
                invites: vec![],
                alias: None,
                encrypted,
            }));
        }
        CmdAction::Verify { user, device } => {
            notice(st, "asking for verification…", false);
            fx.push(Effect::worker(p::verify::Request { user, device }));
        }
        CmdAction::Devices(user) => {
            st.devices.user = user;
            st.devices.sel = 0;
            go(st, Screen::Devices, fx);
        }
        CmdAction::Backup(b) => {
            go(st, Screen::Backup, fx);
            match b {
                BackupAction::Show | BackupAction::Status => {}
                BackupAction::Restore => restore_or_ask(st, fx),
                BackupAction::Create => ask(st, PromptFor::BackupCreate),
                BackupAction::Reset => {
                    let q = reset_question(st);
                    ask_confirm(st, q, ConfirmAct::BackupReset);
                }
                BackupAction::Upload => fx.push(Effect::worker(p::backup::Upload)),
                BackupAction::UseCurrent => {
                    st.backup.busy = Some("adopting the server's version");
                    fx.push(Effect::worker(p::backup::UseCurrent));
                }
            }
        }
        CmdAction::Recovery(r) => {
            go(st, Screen::Recovery, fx);
            match r {
                RecoveryAction::Show => {}
                RecoveryAction::Unlock => ask(st, PromptFor::RecoveryUnlock),
                RecoveryAction::Setup => recovery_setup(st, fx),
            }
        }
        CmdAction::React(key) => react(st, &key, fx),
        CmdAction::Redact(reason) => redact(st, reason),
    }
}

fn worker_update(st: &mut AppState, u: Update, fx: &mut Vec<Effect>) {
    match u {
        Update::Done { op, outcome } => {
            let sent = st.pending.remove(&op);
            finished(st, sent, outcome, fx);
        }
        Update::Sync(s) => st.sync = Some(s),
        Update::Rooms(rooms) => {
            st.rooms_synced = true;
            set_rooms(st, rooms);
        }
        Update::Timeline { room, items } => {
            timeline(st, room, items, fx);
        }
        Update::Verification(v) => {
            let done = matches!(v.state, VerifyState::Done { .. });
            verification_update(st, v);
            // The devices screen shows the new state without a refresh.
            if done {
                st.devices.loading = true;
                fx.push(Effect::worker(p::devices::List {
                    user: st.devices.user.clone(),
                }));
            }
        }
        Update::Gossip(g) => {
            use crate::matrix::gossip::GossipEvent as G;
            let (text, error) = match g {
                G::Served { device } => (format!("sent the backup key to {device}"), false),
                G::Refused { device, reason, .. } => (
                    format!("refused the backup key to {device}: {reason}"),
                    true,
                ),
                G::Received { device } => {
                    fx.push(Effect::worker(p::backup::Status));
                    (format!("received the backup key from {device}"), false)
                }
                G::Ignored { reason } => (format!("ignored a backup key: {reason}"), true),
            };
            notice(st, text, error);
        }
        Update::Backup(p) => {
            let settled = p.state == UploadState::Idle && p.pending == 0;
            let was_busy = st
                .backup
                .upload
                .as_ref()
                .is_some_and(|o| o.state == UploadState::Uploading);
            st.backup.upload = Some(p);
            if settled && was_busy {
                fx.push(Effect::worker(p::backup::Status));
            }
        }
        Update::Restore(p) => st.backup.restore = Some(p),
    }
}

/// The room a timeline command was for (its outcome does not say).
fn room_of(sent: Option<&Command>) -> Option<&str> {
    use p::timeline::Cmd;
    match sent {
        Some(Command::Timeline(Cmd::Open(o))) => Some(&o.room),
        Some(Command::Timeline(Cmd::PaginateBack(b))) => Some(&b.room),
        _ => None,
    }
}

/// A command's outcome; `sent` is the command as it was sent.
fn finished(st: &mut AppState, sent: Option<Command>, outcome: Outcome, fx: &mut Vec<Effect>) {
    use p::verify as v;
    use p::{account as a, backup as b, devices as d, recovery as rc, rooms as r, timeline as t};
    let room = room_of(sent.as_ref()).map(str::to_owned);
    match outcome {
        Outcome::Rooms(r::Done::List(Ok(rooms))) => {
            if !st.rooms_synced {
                set_rooms(st, rooms);
            }
        }
        Outcome::Account(a::Done::WhoAmI(Ok(w))) => st.me = Some(w.user_id),
        Outcome::Rooms(r::Done::Join(Ok(id))) => {
            // The sync loop sends the new room list.
            notice(st, format!("joined {id}"), false);
        }
        Outcome::Rooms(r::Done::Leave(Ok(()))) => notice(st, "left the room", false),
        Outcome::Rooms(r::Done::Invite(Ok(()))) => notice(st, "invited", false),
        Outcome::Rooms(r::Done::Create(Ok(id))) => notice(st, format!("created {id}"), false),
        Outcome::Timeline(t::Done::Open(Err(e))) => {
            if let Some(r) = &mut st.room
                && Some(&r.id) == room.as_ref()
            {
                r.loading = false;
            }
            notice(st, format!("cannot open the room: {e}"), true);
        }
        Outcome::Timeline(t::Done::PaginateBack(res)) => {
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
        Outcome::Recovery(rc::Done::Status(Ok(s))) => {
            st.recovery.loading = false;
            st.recovery.status = Some(s);
        }
        Outcome::Recovery(rc::Done::Setup(Ok(k)) | rc::Done::Reset(Ok(k))) => {
            st.recovery.busy = None;
            // The backup in the same step, with the key just made (as the
            // CLI's `recovery setup` does), unless the account has one.
            let has_backup = st
                .backup
                .status
                .as_ref()
                .is_some_and(|s| s.server_version.is_some());
            if !has_backup {
                st.backup.busy = Some("creating a backup");
                st.backup.message = None;
                fx.push(Effect::worker(p::backup::Create {
                    key_or_passphrase: k.clone(),
                    algorithm: st.backup_algorithm.clone(),
                }));
            }
            st.recovery.new_key = Some(k);
            st.screen = Screen::Recovery;
            fx.push(Effect::worker(p::recovery::Status));
        }
        Outcome::Recovery(rc::Done::Unlock(Ok(u))) => {
            st.recovery.busy = None;
            let mut text = String::from("unlocked");
            if u.device_verified {
                text.push_str("; this device is verified");
            }
            if u.backup_key {
                text.push_str("; the backup key is on this device");
            }
            st.recovery.message = Some(Ok(text.clone()));
            notice(st, text, false);
            fx.push(Effect::worker(p::recovery::Status));
            fx.push(Effect::worker(p::backup::Status));
            if let Some((room, session_ids)) = st.fetch_after_unlock.take() {
                notice(st, "fetching this message's key from the backup…", false);
                fx.push(Effect::worker(p::backup::Fetch { room, session_ids }));
            }
        }
        // The server wants the account password: ask for it, then set up
        // again with it (Element asks the same way).
        Outcome::Recovery(rc::Done::Setup(Err(e))) if e.kind == ErrorKind::PasswordNeeded => {
            st.recovery.busy = None;
            st.screen = Screen::Recovery;
            ask(st, PromptFor::AccountPassword);
            notice(
                st,
                "the server wants your account password to set up cross-signing",
                false,
            );
        }
        Outcome::Recovery(
            rc::Done::Setup(Err(e)) | rc::Done::Reset(Err(e)) | rc::Done::Unlock(Err(e)),
        ) => {
            st.fetch_after_unlock = None;
            st.recovery.busy = None;
            st.recovery.message = Some(Err(e.to_string()));
            notice(st, e.to_string(), true);
        }
        Outcome::Backup(b::Done::Inspect(Ok(i))) => {
            st.backup.inspection = Some(i);
            st.backup.inspect_error = None;
        }
        Outcome::Backup(b::Done::Inspect(Err(e))) => st.backup.inspect_error = Some(e.to_string()),
        Outcome::Devices(d::Done::List(Ok(list))) => {
            st.devices.loading = false;
            st.devices.sel = st.devices.sel.min(list.len().saturating_sub(1));
            st.devices.list = list;
        }
        Outcome::Devices(d::Done::List(Err(e))) => {
            st.devices.loading = false;
            st.devices.error = Some(e.to_string());
        }
        Outcome::Verify(v::Done::Request(Ok(flow))) => {
            st.verification = Some(VerifyDialog {
                flow,
                self_verification: false,
                state: VerifyState::Requested,
                busy: false,
                shown_at: st.ticks,
            });
        }
        Outcome::Verify(done) => {
            if let Some(d) = &mut st.verification {
                d.busy = false;
            }
            if let Some(e) = done.error() {
                notice(st, e.to_string(), true);
            }
        }
        Outcome::Backup(b::Done::Status(Ok(s))) => {
            st.backup.loading = false;
            st.backup.status = Some(s);
        }
        Outcome::Backup(b::Done::Status(Err(e))) => {
            st.backup.loading = false;
            st.backup.message = Some(Err(e.to_string()));
        }
        Outcome::Backup(b::Done::Restore(res)) => {
            st.backup.restoring = false;
            match res {
                Ok(r) => {
                    let text = restored_text(&r);
                    st.backup.message = Some(Ok(text.clone()));
                    st.backup.last_restore = Some(r);
                    notice(st, text, false);
                }
                Err(e) => {
                    st.backup.message = Some(Err(e.to_string()));
                    notice(st, format!("restore failed: {e}"), true);
                }
            }
            fx.push(Effect::worker(p::backup::Status));
        }
        Outcome::Backup(
            done @ (b::Done::Create(_)
            | b::Done::UseCurrent(_)
            | b::Done::Reset(_)
            | b::Done::Migrate(_)
            | b::Done::Delete(_)),
        ) => {
            st.backup.busy = None;
            st.backup.message = Some(backup_changed(done));
            fx.push(Effect::worker(p::backup::Status));
        }
        Outcome::Backup(b::Done::Upload(Ok(())) | b::Done::Flush(Ok(_))) => {
            st.backup.message = Some(Ok("uploading what is pending".into()));
        }
        other => {
            if let Some(e) = other.error() {
                notice(st, e.to_string(), true);
            }
        }
    }
}

/// One line for a finished restore: what came back, and what was not
/// taken and why.
fn restored_text(r: &crate::backup::restore::RestoreReport) -> String {
    let mut text = format!(
        "restored {} of {} keys from version {} ({} trusted, {} untrusted)",
        r.imported, r.total, r.version, r.trusted, r.untrusted
    );
    let skipped: usize = r.skipped.values().sum();
    for (n, what) in [
        (skipped, "damaged entries skipped"),
        (r.room_conflicts, "filed under the wrong room, skipped"),
        (
            r.rooms_unreadable.len(),
            "rooms unreadable, tried again next time",
        ),
    ] {
        if n > 0 {
            text.push_str(&format!("; {n} {what}"));
        }
    }
    text
}

/// What a change to the backup (create, adopt, reset, migrate, delete) did.
fn backup_changed(done: p::backup::Done) -> Result<String, String> {
    use p::backup::Done;
    match done {
        Done::Create(Ok(c)) | Done::UseCurrent(Ok(c)) => Ok(format!(
            "using backup version {} ({})",
            c.version, c.algorithm
        )),
        Done::Reset(Ok(r)) => Ok(match r.replaced.and_then(|o| o.restored) {
            Some(rep) => format!(
                "restored {} keys of version {} first; uploading every key to the new version {}",
                rep.imported, rep.version, r.created.version
            ),
            None => format!(
                "uploading every key to the new version {}",
                r.created.version
            ),
        }),
        Done::Migrate(Ok(m)) => Ok(format!(
            "restored {} keys from the curve25519 backup; uploading them to the new version {}",
            m.restored.imported, m.created.version
        )),
        Done::Delete(Ok(())) => Ok("done".into()),
        other => Err(other
            .error()
            .map_or_else(|| "done".to_owned(), ToString::to_string)),
    }
}

fn set_rooms(st: &mut AppState, rooms: Vec<crate::matrix::rooms::RoomSummary>) {
    let keep = st.selected_room().map(|r| r.room_id.clone());
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

fn timeline(
    st: &mut AppState,
    room: String,
    items: Vec<crate::matrix::history::HistoryItem>,
    fx: &mut Vec<Effect>,
) {
    if let Some(r) = &mut st.room
        && r.id == room
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
}

#[cfg(test)]
mod tests;
