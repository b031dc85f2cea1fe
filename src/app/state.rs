//! Everything the TUI shows, in one value that `update` changes and
//! `render` reads.

use std::collections::HashMap;

use crate::backup::restore::{RestoreProgress, RestoreReport};
use crate::backup::status::BackupStatus;
use crate::backup::upload::Progress;
use crate::matrix::devices::DeviceInfo;
use crate::matrix::history::HistoryItem;
use crate::matrix::protocol::{Command, OpId, Secret, SyncState};
use crate::matrix::recovery::RecoveryStatus;
use crate::matrix::rooms::RoomSummary;
use crate::matrix::verify::{Flow, VerifyState};

use super::input::TextInput;
use super::keys::KeyMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Login,
    Rooms,
    Timeline,
    Backup,
    Recovery,
    Devices,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginField {
    Homeserver,
    User,
    Password,
}

#[derive(Debug, Clone, Default)]
pub struct LoginForm {
    pub homeserver: TextInput,
    pub user: TextInput,
    pub password: TextInput,
    pub focus: usize,
    pub busy: bool,
    pub error: Option<String>,
}

impl LoginForm {
    pub const FIELDS: [LoginField; 3] = [
        LoginField::Homeserver,
        LoginField::User,
        LoginField::Password,
    ];

    pub fn new(homeserver: Option<&str>, user: Option<&str>) -> Self {
        let mut f = LoginForm {
            homeserver: TextInput::new(homeserver.unwrap_or("")),
            user: TextInput::new(user.unwrap_or("")),
            password: TextInput::masked(),
            ..Default::default()
        };
        f.focus = if f.homeserver.is_empty() {
            0
        } else if f.user.is_empty() {
            1
        } else {
            2
        };
        f
    }

    pub fn field(&self) -> LoginField {
        Self::FIELDS[self.focus.min(2)]
    }

    pub fn input_mut(&mut self) -> &mut TextInput {
        match self.field() {
            LoginField::Homeserver => &mut self.homeserver,
            LoginField::User => &mut self.user,
            LoginField::Password => &mut self.password,
        }
    }
}

/// Where keys go in the timeline screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Composer,
    Messages,
}

/// What the composer's text becomes when sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeMode {
    New,
    Reply { event_id: String, to: String },
    Edit { event_id: String },
}

/// The open room.
#[derive(Debug, Clone)]
pub struct OpenRoom {
    pub id: String,
    pub name: String,
    pub encrypted: bool,
    pub items: Vec<HistoryItem>,
    /// The selected message; `None` follows the newest.
    pub sel: Option<usize>,
    /// The first message that arrived while the user read history above
    /// it: a "new messages" line goes before it.
    pub unseen_from: Option<String>,
    pub paginating: bool,
    pub reached_start: bool,
    pub loading: bool,
    /// The thread shown instead of the room's main timeline: its root.
    pub thread: Option<String>,
    /// Who is typing here now (this account left out).
    pub typing: Vec<String>,
    /// The newest message this account was last marked as having read.
    pub marked_read: Option<String>,
    /// Its members (for completion and the members view), once loaded.
    pub members: Vec<crate::matrix::manage::Member>,
}

impl OpenRoom {
    pub fn new(id: &str, name: &str, encrypted: bool) -> Self {
        OpenRoom {
            id: id.to_owned(),
            name: name.to_owned(),
            encrypted,
            items: vec![],
            sel: None,
            unseen_from: None,
            paginating: false,
            reached_start: false,
            loading: true,
            thread: None,
            typing: vec![],
            marked_read: None,
            members: vec![],
        }
    }

    /// The index the view is anchored at (the selected or the newest).
    pub fn anchor(&self) -> Option<usize> {
        match self.sel {
            Some(i) => Some(i.min(self.items.len().saturating_sub(1))),
            None => self.items.len().checked_sub(1),
        }
    }

    pub fn selected(&self) -> Option<&HistoryItem> {
        self.sel.and_then(|i| self.items.get(i))
    }

    /// How many messages are below the view (newer than the anchor).
    pub fn newer(&self) -> usize {
        match self.anchor() {
            Some(a) => self.items.len().saturating_sub(a + 1),
            None => 0,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct BackupView {
    pub status: Option<BackupStatus>,
    pub loading: bool,
    /// The uploader's latest news (live counts).
    pub upload: Option<Progress>,
    pub restore: Option<RestoreProgress>,
    pub restoring: bool,
    pub last_restore: Option<RestoreReport>,
    /// The outcome of the last action taken here.
    pub message: Option<Result<String, String>>,
    /// An action is running (create, reset, use-current).
    pub busy: Option<&'static str>,
    /// The second page (per-room overview and versions) is shown.
    pub inspecting: bool,
    pub inspection: Option<crate::backup::inspect::Inspection>,
    pub inspect_error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RecoveryView {
    pub status: Option<RecoveryStatus>,
    pub loading: bool,
    /// A freshly set-up recovery key, shown once until dismissed.
    pub new_key: Option<Secret>,
    pub busy: Option<&'static str>,
    pub message: Option<Result<String, String>>,
}

#[derive(Debug, Clone, Default)]
pub struct DevicesView {
    pub user: Option<String>,
    pub list: Vec<DeviceInfo>,
    pub sel: usize,
    pub loading: bool,
    pub error: Option<String>,
}

/// A verification in progress, shown as a dialog over any screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyDialog {
    pub flow: Flow,
    pub self_verification: bool,
    pub state: VerifyState,
    /// Waiting for the worker to carry out our answer.
    pub busy: bool,
    /// The tick the emoji appeared at: they can be confirmed only after
    /// they have been on screen a while.
    pub shown_at: u64,
}

/// A destructive act waiting for the user's yes. It names its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// The question, naming what will happen to what.
    pub question: String,
    pub act: ConfirmAct,
    /// The tick it was asked at: keys typed before the user could read it
    /// cancel it instead of answering.
    pub asked_at: u64,
}

/// What a confirmed [`Confirm`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmAct {
    Redact {
        room: String,
        event_id: String,
        reason: Option<String>,
    },
    Decline {
        room: String,
        name: String,
    },
    Leave {
        room: String,
        name: String,
    },
    /// Kick or ban a member.
    Moderate {
        room: String,
        user: String,
        what: crate::matrix::manage::Moderation,
        reason: Option<String>,
    },
    Quit,
    /// Goes on to ask for the recovery key for the reset.
    BackupReset,
}

/// A verification someone asked for that the user has not answered: it
/// only raises a notice and a mark in the status bar, and is answered on
/// the devices screen with a key of its own (never Enter, never text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingVerification {
    pub flow: Flow,
    pub self_verification: bool,
    pub from_device: Option<String>,
}

/// What a masked prompt's input is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptFor {
    RecoveryUnlock,
    BackupCreate,
    BackupReset,
    BackupRestore,
    /// The server wants the account password to set up cross-signing.
    AccountPassword,
}

impl PromptFor {
    pub fn title(self) -> &'static str {
        match self {
            PromptFor::RecoveryUnlock => "Unlock secret storage",
            PromptFor::BackupCreate => "Create a backup",
            PromptFor::BackupReset => "Reset the backup (new key and version)",
            PromptFor::BackupRestore => "Restore from the backup",
            PromptFor::AccountPassword => "Set up recovery",
        }
    }

    /// What to type.
    pub fn label(self) -> &'static str {
        match self {
            PromptFor::AccountPassword => "Your account password (not shown):",
            _ => "Recovery key or passphrase (not shown):",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub purpose: PromptFor,
    pub input: TextInput,
}

/// A line in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// The whole TUI state.
#[derive(Debug, Clone)]
pub struct AppState {
    pub screen: Screen,
    pub login: LoginForm,
    /// Our user id once known.
    pub me: Option<String>,
    pub rooms: Vec<RoomSummary>,
    /// How the room list is ordered (`[rooms] sort`, `:sort`).
    pub room_sort: crate::matrix::room_order::RoomSort,
    pub rooms_loaded: bool,
    /// The sync loop has sent the room list: it is fresher than any reply
    /// to a `Rooms` command still on its way.
    pub rooms_synced: bool,
    pub room_sel: usize,
    pub filter: TextInput,
    pub filtering: bool,
    /// `/` in a room: the search line.
    pub search: Option<super::search::Search>,
    /// `:search`: what the server found.
    pub found: Option<super::search::Results>,
    /// The space whose rooms the room list shows (`:space`).
    pub space: Option<String>,
    /// `:space` without a name: the picker, at this line (0 = all rooms).
    pub space_picker: Option<usize>,
    pub room: Option<OpenRoom>,
    pub composer: TextInput,
    pub compose_mode: ComposeMode,
    /// Drafts, mentions, completion, typing, a file being sent.
    pub composing: super::composer::Composing,
    /// The members view, when shown.
    pub members: Option<super::members::MembersView>,
    pub focus: Focus,
    pub backup: BackupView,
    pub recovery: RecoveryView,
    pub devices: DevicesView,
    pub verification: Option<VerifyDialog>,
    pub incoming_verification: Option<IncomingVerification>,
    pub confirm: Option<Confirm>,
    /// Keys to fetch from the backup once the unlock under way succeeds
    /// (`f` on a message, on a device without the backup key).
    pub fetch_after_unlock: Option<(String, Vec<String>)>,
    /// Fingerprints of the secrets typed into prompts, which the composer
    /// refuses to send.
    pub typed_secrets: super::guard::TypedSecrets,
    pub prompt: Option<Prompt>,
    pub cmdline: Option<TextInput>,
    pub help: bool,
    pub help_scroll: u16,
    pub sync: Option<SyncState>,
    pub notice: Option<Notice>,
    /// The tick the notice appeared at (notices fade after a while).
    pub notice_at: u64,
    /// Commands sent and not answered yet, as sent.
    pub pending: HashMap<OpId, Command>,
    pub keys: KeyMap,
    /// Local time's offset from UTC, for timestamps.
    pub utc_offset: i32,
    pub size: (u16, u16),
    pub ticks: u64,
    /// Something visible changed since the last frame.
    pub dirty: bool,
    pub quit: bool,
    /// The worker runs (logged in).
    pub online: bool,
    /// The terminal takes OSC 52 clipboard writes (it says so when asked,
    /// or it is tmux with `set-clipboard on`); a copy is claimed only then.
    pub clipboard: bool,
    /// The algorithm a new backup version is made with (the config's).
    pub backup_algorithm: String,
    /// Where `d` saves files (the config's).
    pub download_dir: std::path::PathBuf,
    /// What notifies (the config's `[notifications]`).
    pub notify: super::alerts::Settings,
    /// Image previews are shown (`[images] preview`).
    pub previews_on: bool,
    /// Image previews by event id: asked for, drawn, or why not.
    pub previews: std::collections::HashMap<String, PreviewState>,
}

/// Where an image's preview stands.
#[derive(Debug, Clone)]
pub enum PreviewState {
    Asked,
    Ready(crate::ui::preview::Preview),
    Failed(String),
}

impl AppState {
    /// A logged-in state on the rooms screen.
    pub fn new(keys: KeyMap) -> Self {
        AppState {
            screen: Screen::Rooms,
            login: LoginForm::default(),
            me: None,
            rooms: vec![],
            room_sort: Default::default(),
            rooms_loaded: false,
            rooms_synced: false,
            room_sel: 0,
            filter: TextInput::default(),
            search: None,
            found: None,
            space: None,
            space_picker: None,
            filtering: false,
            room: None,
            composer: TextInput::default(),
            compose_mode: ComposeMode::New,
            composing: super::composer::Composing::new(),
            members: None,
            focus: Focus::Composer,
            backup: BackupView::default(),
            recovery: RecoveryView::default(),
            devices: DevicesView::default(),
            verification: None,
            incoming_verification: None,
            confirm: None,
            fetch_after_unlock: None,
            typed_secrets: Default::default(),
            prompt: None,
            cmdline: None,
            help: false,
            help_scroll: 0,
            sync: None,
            notice: None,
            notice_at: 0,
            pending: HashMap::new(),
            keys,
            utc_offset: 0,
            size: (80, 24),
            ticks: 0,
            dirty: true,
            quit: false,
            online: true,
            clipboard: false,
            backup_algorithm: crate::crypto::backup::DEFAULT_ALGORITHM.to_owned(),
            download_dir: std::path::PathBuf::from("downloads"),
            notify: Default::default(),
            previews_on: true,
            previews: Default::default(),
        }
    }

    /// The login screen, prefilled from the config.
    pub fn login(keys: KeyMap, homeserver: Option<&str>, user: Option<&str>) -> Self {
        AppState {
            screen: Screen::Login,
            login: LoginForm::new(homeserver, user),
            online: false,
            ..AppState::new(keys)
        }
    }

    /// Keeps the runtime facts (time zone, terminal size, clipboard) of
    /// another state.
    pub fn with_offset(mut self, utc_offset: i32, size: (u16, u16), clipboard: bool) -> Self {
        self.utc_offset = utc_offset;
        self.size = size;
        self.clipboard = clipboard;
        self
    }

    /// The rooms the filter lets through, in list order.
    /// The rooms to chat in (spaces are not), in the space chosen, that
    /// match the filter.
    pub fn visible_rooms(&self) -> Vec<&RoomSummary> {
        let f = self.filter.text().to_lowercase();
        self.chat_rooms()
            .into_iter()
            .filter(|r| {
                f.is_empty()
                    || r.name.to_lowercase().contains(&f)
                    || r.room_id.to_lowercase().contains(&f)
            })
            .collect()
    }

    /// The rooms to chat in, in the space chosen (all without one).
    pub fn chat_rooms(&self) -> Vec<&RoomSummary> {
        self.rooms
            .iter()
            .filter(|r| !r.is_space)
            .filter(|r| self.space.as_ref().is_none_or(|s| r.spaces.contains(s)))
            .collect()
    }

    /// The spaces this account is in.
    pub fn spaces(&self) -> Vec<&RoomSummary> {
        self.rooms.iter().filter(|r| r.is_space).collect()
    }

    pub fn selected_room(&self) -> Option<&RoomSummary> {
        self.visible_rooms().get(self.room_sel).copied()
    }

    /// Records a command the runtime handed to the worker under `op`.
    pub fn sent(&mut self, op: OpId, cmd: Command) {
        self.pending.insert(op, cmd);
    }

    pub fn busy(&self) -> bool {
        self.login.busy
            || self.backup.restoring
            || self.backup.busy.is_some()
            || self.recovery.busy.is_some()
            || self
                .room
                .as_ref()
                .is_some_and(|r| r.paginating || r.loading)
    }
}
