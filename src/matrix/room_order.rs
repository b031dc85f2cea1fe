//! The room list's order: invitations first, then favourites, the rest,
//! and low-priority rooms last (as Element and gomuks group them); within
//! each group by latest activity (the default), by name, or unread first.

use std::cmp::{Ordering, Reverse};

use super::rooms::RoomSummary;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RoomSort {
    /// Most recent activity first; rooms never seen active last, by name.
    #[default]
    Activity,
    Name,
    /// Mentions, then unread messages, then activity.
    Unread,
}

impl RoomSort {
    pub const NAMES: &'static [&'static str] = &["activity", "name", "unread"];

    pub fn parse(s: &str) -> Option<RoomSort> {
        match s {
            "activity" => Some(RoomSort::Activity),
            "name" => Some(RoomSort::Name),
            "unread" => Some(RoomSort::Unread),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RoomSort::Activity => "activity",
            RoomSort::Name => "name",
            RoomSort::Unread => "unread",
        }
    }
}

fn group(r: &RoomSummary) -> u8 {
    if r.membership == "invited" {
        0
    } else if r.favourite {
        1
    } else if r.low_priority {
        3
    } else {
        2
    }
}

fn by_name(a: &RoomSummary, b: &RoomSummary) -> Ordering {
    a.name
        .to_lowercase()
        .cmp(&b.name.to_lowercase())
        .then_with(|| a.room_id.cmp(&b.room_id))
}

fn by_activity(a: &RoomSummary, b: &RoomSummary) -> Ordering {
    Reverse(a.last_activity)
        .cmp(&Reverse(b.last_activity))
        .then_with(|| by_name(a, b))
}

pub fn sort(rooms: &mut [RoomSummary], by: RoomSort) {
    rooms.sort_by(|a, b| {
        group(a).cmp(&group(b)).then_with(|| match by {
            RoomSort::Activity => by_activity(a, b),
            RoomSort::Name => by_name(a, b),
            RoomSort::Unread => Reverse((a.highlights, a.unread))
                .cmp(&Reverse((b.highlights, b.unread)))
                .then_with(|| by_activity(a, b)),
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str, activity: Option<u64>) -> RoomSummary {
        RoomSummary {
            last_activity: activity,
            ..crate::app::fixtures::room(&format!("!{name}:x"), name, "joined")
        }
    }

    fn names(rooms: &[RoomSummary]) -> Vec<&str> {
        rooms.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn newest_activity_first_with_invites_on_top_and_low_priority_last() {
        let mut rooms = vec![
            room("old", Some(10)),
            RoomSummary {
                low_priority: true,
                ..room("muted", Some(99))
            },
            room("never", None),
            room("new", Some(20)),
            RoomSummary {
                membership: "invited",
                ..room("invite", None)
            },
            RoomSummary {
                favourite: true,
                ..room("fav", Some(1))
            },
        ];
        sort(&mut rooms, RoomSort::Activity);
        assert_eq!(
            names(&rooms),
            ["invite", "fav", "new", "old", "never", "muted"]
        );
        sort(&mut rooms, RoomSort::Name);
        assert_eq!(
            names(&rooms),
            ["invite", "fav", "never", "new", "old", "muted"]
        );
    }

    #[test]
    fn unread_order_puts_mentions_before_mere_unread() {
        let mut rooms = vec![
            RoomSummary {
                unread: 9,
                ..room("chatty", Some(5))
            },
            room("quiet", Some(50)),
            RoomSummary {
                unread: 1,
                highlights: 1,
                ..room("mention", Some(1))
            },
        ];
        sort(&mut rooms, RoomSort::Unread);
        assert_eq!(names(&rooms), ["mention", "chatty", "quiet"]);
    }

    #[test]
    fn every_name_parses_back() {
        for n in RoomSort::NAMES {
            assert_eq!(RoomSort::parse(n).map(RoomSort::name), Some(*n));
        }
        assert_eq!(RoomSort::parse("size"), None);
    }
}
