//! Tab completion in the composer: `/` command names, `@` members (a real
//! mention), `#` rooms, `:shortcode` emoji. Pure: what the word before the
//! cursor can become.

use crate::matrix::manage::Member;
use crate::matrix::outgoing::Mention;
use crate::matrix::rooms::RoomSummary;

/// One way to complete the word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// What replaces the word.
    pub insert: String,
    /// How it is listed.
    pub shown: String,
    /// A member named by `insert`, mentioned when the message is sent.
    pub mention: Option<Mention>,
}

/// Tab pressed again cycles through the candidates of the first press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub candidates: Vec<Candidate>,
    pub index: usize,
    /// Chars the current candidate put before the cursor.
    pub inserted: usize,
    /// The composer's text right after it was put there (any edit since
    /// starts a new completion).
    pub after: String,
}

/// Candidates for `word` (the text from the last blank to the cursor);
/// `first` when it is the composer's first word.
pub fn candidates(
    word: &str,
    first: bool,
    members: &[Member],
    rooms: &[RoomSummary],
) -> Vec<Candidate> {
    if let Some(p) = word.strip_prefix('/')
        && first
    {
        return super::slash::complete(p)
            .into_iter()
            .map(|c| Candidate {
                insert: format!("/{c} "),
                shown: format!("/{c}"),
                mention: None,
            })
            .collect();
    }
    if let Some(p) = word.strip_prefix('@') {
        return members_matching(p, first, members);
    }
    if let Some(p) = word.strip_prefix('#') {
        return rooms_matching(p, rooms);
    }
    if let Some(p) = word.strip_prefix(':')
        && p.chars().count() >= 2
        && !p.contains(':')
    {
        return emoji_matching(p);
    }
    vec![]
}

fn members_matching(p: &str, first: bool, members: &[Member]) -> Vec<Candidate> {
    let p = p.to_lowercase();
    let mut out: Vec<Candidate> = members
        .iter()
        .filter(|m| {
            let id = m.user_id.trim_start_matches('@').to_lowercase();
            let name = m.display_name.as_deref().unwrap_or("").to_lowercase();
            id.starts_with(&p)
                || name.starts_with(&p)
                || name.split_whitespace().any(|w| w.starts_with(&p))
        })
        .map(|m| {
            // Two members with one name: the user id tells them apart.
            let shared = m.display_name.as_ref().is_some_and(|n| {
                members
                    .iter()
                    .filter(|o| o.display_name.as_ref() == Some(n))
                    .count()
                    > 1
            });
            let label = match &m.display_name {
                Some(n) if !shared && !n.trim().is_empty() => n.clone(),
                _ => m.user_id.clone(),
            };
            Candidate {
                insert: format!("{label}{}", if first { ": " } else { " " }),
                shown: match &m.display_name {
                    Some(n) => format!("{n} ({})", m.user_id),
                    None => m.user_id.clone(),
                },
                mention: Some(Mention {
                    label,
                    user_id: m.user_id.clone(),
                }),
            }
        })
        .collect();
    out.sort_by_key(|c| c.shown.to_lowercase());
    out
}

fn rooms_matching(p: &str, rooms: &[RoomSummary]) -> Vec<Candidate> {
    let p = p.to_lowercase();
    rooms
        .iter()
        .filter(|r| !r.is_space)
        .filter(|r| {
            r.name.to_lowercase().starts_with(&p)
                || r.alias
                    .as_deref()
                    .is_some_and(|a| a.trim_start_matches('#').to_lowercase().starts_with(&p))
        })
        .map(|r| {
            let target = r.alias.clone().unwrap_or_else(|| r.room_id.clone());
            Candidate {
                insert: format!("{target} "),
                shown: format!("{} ({target})", r.name),
                mention: None,
            }
        })
        .collect()
}

/// At most this many emoji are offered for a short prefix.
const EMOJI_MAX: usize = 20;

fn emoji_matching(p: &str) -> Vec<Candidate> {
    let p = p.to_lowercase();
    let mut out: Vec<(bool, &str, &emojis::Emoji)> = vec![];
    for e in emojis::iter() {
        for code in e.shortcodes() {
            if code.starts_with(&p) {
                out.push((code != p, code, e));
                break;
            }
        }
    }
    // An exact name first, then the shorter names.
    out.sort_by_key(|(inexact, code, _)| (*inexact, code.len(), *code));
    out.into_iter()
        .take(EMOJI_MAX)
        .map(|(_, code, e)| Candidate {
            insert: e.as_str().to_owned(),
            shown: format!("{} :{code}:", e.as_str()),
            mention: None,
        })
        .collect()
}

/// `text` with every `:shortcode:` that names an emoji replaced by it.
pub fn shortcodes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(':') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || "_+-".contains(c)));
        match end {
            Some(e) if e > 0 && after[e..].starts_with(':') => {
                if let Some(emoji) = emojis::get_by_shortcode(&after[..e]) {
                    out.push_str(emoji.as_str());
                    rest = &after[e + 1..];
                    continue;
                }
                out.push(':');
                rest = after;
            }
            _ => {
                out.push(':');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, name: Option<&str>) -> Member {
        Member {
            user_id: id.into(),
            display_name: name.map(String::from),
            membership: "join",
            power_level: 0,
            verification: "unknown",
        }
    }

    #[test]
    fn members_by_name_or_id_become_mentions() {
        let ms = [
            member("@alice:x", Some("Alice Liddell")),
            member("@bob:x", Some("Bob")),
            member("@al2:x", None),
        ];
        let c = candidates("@lid", true, &ms, &[]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].insert, "Alice Liddell: ");
        assert_eq!(
            c[0].mention,
            Some(Mention {
                label: "Alice Liddell".into(),
                user_id: "@alice:x".into()
            })
        );
        let c = candidates("@al", false, &ms, &[]);
        assert_eq!(
            c.iter().map(|c| c.insert.as_str()).collect::<Vec<_>>(),
            vec!["@al2:x ", "Alice Liddell "]
        );
        assert!(candidates("@zed", true, &ms, &[]).is_empty());
    }

    #[test]
    fn members_sharing_a_name_are_told_apart_by_id() {
        let ms = [member("@a:x", Some("Sam")), member("@b:y", Some("Sam"))];
        let c = candidates("@sa", false, &ms, &[]);
        assert_eq!(c[0].insert, "@a:x ");
        assert_eq!(c[1].insert, "@b:y ");
    }

    #[test]
    fn commands_only_as_the_first_word() {
        assert_eq!(candidates("/top", true, &[], &[])[0].insert, "/topic ");
        assert!(candidates("/top", false, &[], &[]).is_empty());
    }

    #[test]
    fn emoji_by_shortcode() {
        let c = candidates(":thumbsu", false, &[], &[]);
        assert_eq!(c[0].insert, "👍");
        assert!(candidates(":t", false, &[], &[]).is_empty(), "too short");
        assert_eq!(shortcodes("nice :+1: at 12:30:"), "nice 👍 at 12:30:");
        assert_eq!(shortcodes(":tada::nope:"), "🎉:nope:");
    }
}
