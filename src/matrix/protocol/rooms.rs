//! Rooms: the list, membership, sending.

use super::*;

domain!(Rooms {
    List => Vec<RoomSummary>,
    Create => String,
    Invite => (),
    Join => String,
    Leave => (),
    SendText => String,
    SendFile => String,
    Search => Vec<crate::matrix::search::Found>,
    Dm => crate::matrix::manage::DmRoom,
    SetTopic => (),
    SetName => (),
    Moderate => (),
    Members => Vec<crate::matrix::manage::Member>,
    Typing => (),
});

/// Every joined and invited room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List;

/// A new room; yields its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    pub name: String,
    pub invites: Vec<String>,
    pub alias: Option<String>,
    pub encrypted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub room: String,
    pub user: String,
}

/// Joins by id or alias; yields the room id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    pub room: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leave {
    pub room: String,
}

/// The server's full-text search of one unencrypted room, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub room: String,
    pub text: String,
    pub limit: usize,
}

/// A text message (markdown), in the room or as a reply in the thread
/// `thread` starts; yields its event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendText {
    pub room: String,
    pub text: String,
    pub thread: Option<String>,
    pub format: crate::matrix::outgoing::TextFormat,
    /// Members named in the text and mentioned for real.
    pub mentions: Vec<crate::matrix::outgoing::Mention>,
}

impl SendText {
    /// Markdown with no mentions: what `send` and most tests send.
    pub fn markdown(room: impl Into<String>, text: impl Into<String>) -> SendText {
        SendText {
            room: room.into(),
            text: text.into(),
            thread: None,
            format: Default::default(),
            mentions: vec![],
        }
    }
}

/// A file (image, video, audio or any file), in the room or in the
/// thread `thread` starts; encrypted in encrypted rooms. Progress
/// arrives as `Update::Upload`; yields the event id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFile {
    pub room: String,
    pub path: PathBuf,
    pub thread: Option<String>,
}

/// The direct-message room with `user`: the existing one, or a new
/// encrypted one marked direct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dm {
    pub user: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetTopic {
    pub room: String,
    pub topic: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetName {
    pub room: String,
    pub name: String,
}

/// Kick, ban or unban `user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moderate {
    pub room: String,
    pub user: String,
    pub what: crate::matrix::manage::Moderation,
    pub reason: Option<String>,
}

/// Joined and invited members with their power and verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members {
    pub room: String,
}

/// We are typing in `room` (or stopped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    pub room: String,
    pub typing: bool,
}
