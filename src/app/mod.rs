//! The TUI's pure core: [`AppState`], the messages that change it ([`Msg`])
//! and [`update`], which returns what should happen outside ([`Effect`]s:
//! worker commands, a login, a clipboard copy, quitting). No I/O here.

pub mod alerts;
mod backup;
pub mod command;
mod command_line;
mod complete;
pub mod composer;
mod confirm;
mod devices;
// Test data, also for the integration tests (the zeroize test drives the
// app from it).
#[doc(hidden)]
pub mod fixtures;
pub mod guard;
pub mod input;
pub mod keys;
mod login;
pub mod members;
mod prompt;
mod recovery;
mod rooms;
pub mod search;
pub mod slash;
mod spaces;
pub mod state;
pub mod time;
mod timeline;
mod updates;
mod verify;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use crate::backup::upload::UploadState;
use crate::matrix::protocol::{self as p, Command, ErrorKind, OpId, Outcome, Secret, Update};
use crate::matrix::verify::VerifyState;

use command::{BackupAction, CmdAction, RecoveryAction};
use input::TextInput;
use keys::Action;
pub use state::*;

// One module per screen (and per dialog), each with its keys and outcomes;
// this module routes messages to them.
use backup::*;
use command_line::*;
use composer::composer_key;
use confirm::*;
use login::*;
use prompt::*;
use recovery::*;
use rooms::*;
use timeline::*;
use updates::*;
use verify::*;

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
    /// Whether the terminal takes OSC 52 clipboard writes, found out after
    /// the first frame (asking it can take a round trip over ssh).
    Clipboard(bool),
    /// The saved account is open and its worker runs; `user` when it was
    /// opened by a login just now.
    AccountOpen {
        user: Option<String>,
    },
    /// No account could be opened: the login screen, with `error` unless
    /// the profile was simply never logged in.
    LoginNeeded {
        homeserver: Option<String>,
        user: Option<String>,
        error: Option<String>,
    },
    /// The runtime handed `cmd` to the worker as `op`.
    Sent {
        op: OpId,
        cmd: Command,
    },
    /// The frame is on the screen.
    Drawn,
    /// The user quit; new keys are being uploaded before the end.
    Quitting,
    /// The opener could not be started.
    OpenFailed(String),
    /// An image's preview, decoded (or why not).
    Preview {
        event_id: String,
        result: Result<crate::ui::preview::Preview, String>,
    },
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
    /// Open this file or link with the desktop's opener.
    OpenExternal(String),
    /// Ring the terminal's bell.
    Bell,
    /// Prepare an image's preview for the terminal (decoding is slow: the
    /// runtime does it off the event loop and answers `Msg::Preview`).
    DecodePreview {
        event_id: String,
        bytes: Vec<u8>,
    },
    /// A desktop notification (freedesktop, over D-Bus).
    Desktop {
        summary: String,
        body: String,
    },
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
        Msg::AccountOpen { user: Some(u) } => {
            st.online = true;
            return update(st, Msg::LoggedIn(Ok(u)));
        }
        Msg::Clipboard(works) => st.clipboard = works,
        Msg::AccountOpen { user: None } => {
            st.online = true;
            fx.extend(startup());
        }
        Msg::LoginNeeded {
            homeserver,
            user,
            error,
        } => {
            let keys = st.keys.clone();
            let (offset, size, clipboard) = (st.utc_offset, st.size, st.clipboard);
            let algorithm = std::mem::take(&mut st.backup_algorithm);
            let room_sort = st.room_sort;
            *st = AppState::login(keys, homeserver.as_deref(), user.as_deref())
                .with_offset(offset, size, clipboard);
            st.backup_algorithm = algorithm;
            st.room_sort = room_sort;
            st.login.error = error;
        }
        // Bookkeeping only: nothing to redraw.
        Msg::Sent { op, cmd } => {
            st.pending.insert(op, cmd);
            return fx;
        }
        Msg::Drawn => {
            st.dirty = false;
            return fx;
        }
        Msg::Quitting => notice(
            st,
            "uploading new keys to the backup before quitting…",
            false,
        ),
        Msg::OpenFailed(e) => notice(st, format!("cannot open it: {e}"), true),
        Msg::Preview { event_id, result } => {
            let state = match result {
                Ok(p) => PreviewState::Ready(p),
                Err(e) => PreviewState::Failed(e),
            };
            st.previews.insert(event_id, state);
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
    } else if let Some(s) = &mut st.search {
        s.input.insert_str(text.lines().next().unwrap_or(""));
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
    // A terminal sends Esc and a key typed right after it as one Alt+key
    // (crossterm cannot tell them apart; common over ssh and in tmux): unless
    // the user bound that Alt key, it is Esc, then the key. Never a letter
    // in the message.
    if k.modifiers == KeyModifiers::ALT
        && let KeyCode::Char(c) = k.code
        && !st.keys.bound(&k)
    {
        key(st, KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE), fx);
        return key(st, KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), fx);
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
    if st.found.is_some() {
        return search::results_key(st, k);
    }
    if st.space_picker.is_some() {
        return spaces::picker_key(st, k, fx);
    }
    if st.members.is_some() {
        return members::key(st, k, fx);
    }
    match st.screen {
        Screen::Login => login_key(st, k, fx),
        Screen::Timeline if st.focus == Focus::Composer => composer_key(st, k, fx),
        _ if st.filtering => filter_key(st, k),
        Screen::Timeline if st.search.is_some() => search::key(st, k),
        _ => normal_key(st, k, fx),
    }
}

/// Keys typed within this many ticks of a question (about a third of a
/// second) were typed ahead, not in answer: they cancel it.
pub const CONFIRM_ARM_TICKS: u64 = 3;

/// The emoji may be confirmed only once they have been on screen this many
/// ticks (about a second).
pub const EMOJI_MIN_TICKS: u64 = 9;

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
        Screen::Rooms => rooms::key(st, k, fx),
        Screen::Timeline => timeline::key(st, k, fx),
        Screen::Backup => backup::key(st, k, fx),
        Screen::Recovery => recovery::key(st, k, fx),
        Screen::Devices => devices::key(st, k, fx),
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

/// A failure no screen handles itself goes to the status bar.
fn error_notice(st: &mut AppState, e: Option<&crate::error::Error>) {
    if let Some(e) = e {
        notice(st, said(e), true);
    }
}

/// An error in the TUI's words: what happened, and what to do here.
pub fn said(e: &crate::error::Error) -> String {
    e.phrase(step_name)
}

/// How the TUI names a step the user can take next: its `:` command, or
/// the command line where the TUI has none.
pub fn step_name(s: crate::error::Step) -> String {
    use crate::error::Step;
    match s {
        Step::Login => "the login screen (restart keepsake)".into(),
        Step::Logout => "`keepsake logout`".into(),
        Step::RecoverySetup => "`:recovery setup`".into(),
        Step::RecoveryUnlock => "`:recovery unlock`".into(),
        Step::RecoveryReset => "`keepsake recovery reset`".into(),
        Step::Verify => "`:verify`".into(),
        Step::BackupCreate => "`:backup create`".into(),
        Step::BackupReset => "`:backup reset`".into(),
        Step::BackupUseCurrent => "`:backup use-current`".into(),
        Step::BackupMigrate => "`:backup migrate`".into(),
        Step::BackupRestore => "`:backup restore`".into(),
        Step::BackupUploadWait => "`:backup upload`".into(),
    }
}

#[cfg(test)]
mod tests;
