//! Which alerts ring the bell and pop a desktop notification: mentions and
//! direct messages in rooms not in view (the account's push rules chose
//! them), as `[notifications]` says globally and per room.

use std::collections::BTreeMap;

use super::*;
use crate::matrix::alerts::Alert;

/// How much of a room notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// Nothing.
    Off,
    /// Mentions of this account, and every message of a direct chat.
    #[default]
    Mentions,
    /// Every event the push rules notify about.
    All,
}

impl Level {
    pub const NAMES: [&'static str; 3] = ["off", "mentions", "all"];

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "off" => Some(Level::Off),
            "mentions" => Some(Level::Mentions),
            "all" => Some(Level::All),
            _ => None,
        }
    }
}

/// `[notifications]` of the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub desktop: bool,
    pub bell: bool,
    /// By room id or room name.
    pub rooms: BTreeMap<String, Level>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            desktop: true,
            bell: true,
            rooms: BTreeMap::new(),
        }
    }
}

/// The effects of one alert.
pub(super) fn alert(st: &mut AppState, a: Alert, fx: &mut Vec<Effect>) {
    let in_view = st.screen == Screen::Timeline
        && st
            .room
            .as_ref()
            .is_some_and(|r| r.id == a.room_id && r.thread.is_none());
    if in_view {
        return;
    }
    let level = st
        .notify
        .rooms
        .get(&a.room_id)
        .or_else(|| st.notify.rooms.get(&a.room_name))
        .copied()
        .unwrap_or_default();
    let wanted = match level {
        Level::Off => false,
        Level::Mentions => a.highlight || a.is_dm,
        Level::All => true,
    };
    if !wanted {
        return;
    }
    if st.notify.bell {
        fx.push(Effect::Bell);
    }
    if st.notify.desktop {
        let summary = if a.is_dm {
            a.sender_name.clone()
        } else {
            format!("{} in {}", a.sender_name, a.room_name)
        };
        fx.push(Effect::Desktop {
            summary,
            body: a.body,
        });
    }
}
