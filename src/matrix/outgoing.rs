//! What a composed text becomes on the wire: its format (markdown, plain,
//! HTML, emote) and its mentions, made real (`m.mentions` and a link in
//! `formatted_body`). Pure.

use matrix_sdk::ruma::OwnedUserId;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::room::message::{
    EmoteMessageEventContent, FormattedBody, MessageType, RoomMessageEventContent,
    TextMessageEventContent,
};

/// How a composed text is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TextFormat {
    /// Markdown becomes HTML (the composer's default).
    #[default]
    Markdown,
    /// Sent as typed: no markdown (`/plain`).
    Plain,
    /// The text is HTML already (`/html`).
    Html,
    /// An action, "* alice waves" (`/me`); markdown.
    Emote,
}

/// A member named in the text by `label` (what completion inserted), who
/// is mentioned for real.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub label: String,
    pub user_id: String,
}

/// The message content for `text` in `format`, mentioning those of
/// `mentions` whose label is still in the text.
pub fn content(text: &str, format: TextFormat, mentions: &[Mention]) -> RoomMessageEventContent {
    let kept: Vec<(&Mention, OwnedUserId)> = mentions
        .iter()
        .filter(|m| !m.label.is_empty() && text.contains(m.label.as_str()))
        .filter_map(|m| m.user_id.parse().ok().map(|id| (m, id)))
        .collect();
    let mut msg = match format {
        TextFormat::Plain => RoomMessageEventContent::text_plain(text),
        TextFormat::Html => {
            let (_, lines) = super::formatted::parse(text);
            RoomMessageEventContent::text_html(super::formatted::plain(&lines), text)
        }
        TextFormat::Markdown | TextFormat::Emote => {
            let linked = link_mentions(text, &kept);
            let html = FormattedBody::markdown(&linked);
            let msgtype = if format == TextFormat::Emote {
                MessageType::Emote(match html {
                    Some(h) => EmoteMessageEventContent::html(text, h.body),
                    None => EmoteMessageEventContent::plain(text),
                })
            } else {
                MessageType::Text(match html {
                    Some(h) => TextMessageEventContent::html(text, h.body),
                    None => TextMessageEventContent::plain(text),
                })
            };
            RoomMessageEventContent::new(msgtype)
        }
    };
    if !kept.is_empty() {
        let mut ids: Vec<OwnedUserId> = kept.into_iter().map(|(_, id)| id).collect();
        ids.sort();
        ids.dedup();
        msg = msg.add_mentions(Mentions::with_user_ids(ids));
    }
    msg
}

/// The markdown with each mention's first occurrence made a link to its
/// user (escaped, so a name holding `*` or `]` stays a name).
fn link_mentions(text: &str, kept: &[(&Mention, OwnedUserId)]) -> String {
    let mut out = text.to_owned();
    // Longest labels first, so "Al" never cuts into "Alice".
    let mut order: Vec<&(&Mention, OwnedUserId)> = kept.iter().collect();
    order.sort_by_key(|(m, _)| std::cmp::Reverse(m.label.len()));
    let mut placed: Vec<(usize, usize)> = vec![];
    let mut edits: Vec<(usize, usize, String)> = vec![];
    for (m, id) in order {
        let Some(at) = find_free(&out, &m.label, &placed) else {
            continue;
        };
        placed.push((at, at + m.label.len()));
        edits.push((
            at,
            at + m.label.len(),
            format!("[{}](https://matrix.to/#/{id})", escape(&m.label)),
        ));
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (from, to, link) in edits {
        out.replace_range(from..to, &link);
    }
    out
}

/// The first occurrence of `label` that overlaps none of `taken`.
fn find_free(text: &str, label: &str, taken: &[(usize, usize)]) -> Option<usize> {
    text.match_indices(label).map(|(i, _)| i).find(|&i| {
        let end = i + label.len();
        taken.iter().all(|&(a, b)| end <= a || i >= b)
    })
}

fn escape(label: &str) -> String {
    let mut s = String::with_capacity(label.len());
    for c in label.chars() {
        if matches!(
            c,
            '\\' | '[' | ']' | '*' | '_' | '`' | '<' | '>' | '#' | '~' | '|' | '!'
        ) {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::serde::Raw;

    fn json(c: &RoomMessageEventContent) -> serde_json::Value {
        serde_json::to_value(Raw::new(c).expect("serializes")).expect("json")
    }

    #[test]
    fn a_mention_is_a_link_and_in_m_mentions_and_the_body_keeps_the_name() {
        let c = content(
            "Alice: see **this**",
            TextFormat::Markdown,
            &[Mention {
                label: "Alice".into(),
                user_id: "@alice:example.org".into(),
            }],
        );
        let v = json(&c);
        assert_eq!(v["body"], "Alice: see **this**");
        assert_eq!(v["msgtype"], "m.text");
        assert_eq!(
            v["formatted_body"],
            "<a href=\"https://matrix.to/#/@alice:example.org\">Alice</a>: see <strong>this</strong>"
        );
        assert_eq!(v["m.mentions"]["user_ids"][0], "@alice:example.org");
    }

    #[test]
    fn a_mention_whose_name_was_deleted_is_no_mention() {
        let c = content(
            "never mind",
            TextFormat::Markdown,
            &[Mention {
                label: "Alice".into(),
                user_id: "@alice:example.org".into(),
            }],
        );
        let v = json(&c);
        assert!(v.get("m.mentions").is_none(), "{v}");
        assert!(v.get("formatted_body").is_none(), "{v}");
    }

    #[test]
    fn names_with_markdown_characters_stay_names() {
        let c = content(
            "hi *Bo]b*",
            TextFormat::Markdown,
            &[Mention {
                label: "*Bo]b*".into(),
                user_id: "@bob:example.org".into(),
            }],
        );
        let v = json(&c);
        assert_eq!(
            v["formatted_body"],
            "hi <a href=\"https://matrix.to/#/@bob:example.org\">*Bo]b*</a>"
        );
    }

    #[test]
    fn plain_html_and_emote() {
        let v = json(&content("**not bold**", TextFormat::Plain, &[]));
        assert_eq!(v["body"], "**not bold**");
        assert!(v.get("formatted_body").is_none());
        let v = json(&content("<b>bold</b> move", TextFormat::Html, &[]));
        assert_eq!(v["formatted_body"], "<b>bold</b> move");
        assert_eq!(v["body"], "bold move");
        let v = json(&content("waves *slowly*", TextFormat::Emote, &[]));
        assert_eq!(v["msgtype"], "m.emote");
        assert_eq!(v["body"], "waves *slowly*");
        assert_eq!(v["formatted_body"], "waves <em>slowly</em>");
    }
}
