//! A room's messages: history, live timelines, replies, edits, reactions.

use super::*;

domain!(Timeline {
    History => Vec<HistoryItem>,
    Open => (),
    PaginateBack => bool,
    Close => (),
    Reply => (),
    Edit => (),
    React => (),
    Redact => (),
    Download => crate::matrix::media::Saved,
    MarkRead => (),
    Preview => Vec<u8>,
});

/// The last `limit` messages of a room (without thread replies), or of
/// one thread, fetched afresh from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub room: String,
    pub limit: usize,
    pub thread: Option<String>,
}

/// Follow a room's live timeline (thread replies left out), or one of
/// its threads: `Update::Timeline` on every change. One timeline per
/// room is followed; opening another focus replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub room: String,
    pub thread: Option<String>,
}

/// Load `count` more events before the oldest one shown; yields whether
/// the start of the room was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaginateBack {
    pub room: String,
    pub count: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub room: String,
}

/// Reply to `in_reply_to` (markdown), in a room whose timeline is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub room: String,
    pub in_reply_to: String,
    pub text: String,
}

/// Replace the text of one of our messages (markdown); timeline open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub room: String,
    pub event_id: String,
    pub text: String,
}

/// Add our reaction `key`, or take it back if we gave it; timeline open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct React {
    pub room: String,
    pub event_id: String,
    pub key: String,
}

/// Save the file a message carries (decrypted in encrypted rooms, 0600,
/// never overwriting): to `to`, or into `dir` under the sender's name
/// for it. `open` is for the front end: it opens the file once saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub room: String,
    pub event_id: String,
    pub target: crate::matrix::media::Target,
    pub open: bool,
}

/// The bytes of an image message's preview (a thumbnail, decrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub room: String,
    pub event_id: String,
}

/// This account has read up to `event_id` (seen on screen): its read
/// receipt and read marker move there; timeline open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRead {
    pub room: String,
    pub event_id: String,
    /// Others see the receipt (`[privacy] read_receipts`); else it is
    /// private (only this account's other devices see it).
    pub public: bool,
}

/// Redact a message; timeline open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redact {
    pub room: String,
    pub event_id: String,
    pub reason: Option<String>,
}
