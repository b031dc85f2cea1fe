//! What a timeline event holds, as keepsake shows it: its kind, its text
//! (plain and formatted), and the file it carries.

use matrix_sdk::ruma::events::room::MediaSource;
use matrix_sdk::ruma::events::room::message::MessageType;
use matrix_sdk::ruma::events::sticker::StickerMediaSource;
use matrix_sdk_ui::timeline::{MsgLikeKind, TimelineItemContent};
use serde::Serialize;

use super::formatted::{self, RichLine};
use crate::terminal_text::clean;

/// The kind of an event, for `history --json` and the way it is drawn.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    #[default]
    Text,
    Notice,
    Emote,
    Image,
    File,
    Video,
    Audio,
    Location,
    Sticker,
    State,
    Other,
}

/// A file a message carries.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Attachment {
    /// The file's name (the sender's `filename`, else the body).
    pub name: String,
    pub mimetype: Option<String>,
    /// Bytes, as the sender declared it.
    pub size: Option<u64>,
}

/// An event's kind, text and file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    pub kind: Kind,
    pub body: Option<String>,
    /// The sanitized HTML, when the sender formatted the message.
    pub formatted: Option<String>,
    /// The formatted body as lines to draw (empty when not formatted).
    pub rich: Vec<RichLine>,
    pub attachment: Option<Attachment>,
}

/// Reads a timeline item's content.
pub fn describe(content: &TimelineItemContent) -> Content {
    let Some(msg) = content.as_msglike() else {
        return Content {
            kind: Kind::State,
            ..Content::default()
        };
    };
    match &msg.kind {
        MsgLikeKind::Message(m) => {
            let mut out = message(m.msgtype());
            out.body = Some(m.body().to_owned());
            out
        }
        MsgLikeKind::Sticker(s) => {
            let c = s.content();
            Content {
                kind: Kind::Sticker,
                body: Some(c.body.clone()),
                attachment: Some(Attachment {
                    name: c.body.clone(),
                    mimetype: c.info.mimetype.clone(),
                    size: c.info.size.map(u64::from),
                }),
                ..Content::default()
            }
        }
        _ => Content {
            kind: Kind::Other,
            ..Content::default()
        },
    }
}

fn message(t: &MessageType) -> Content {
    let (kind, formatted, attachment) = match t {
        MessageType::Text(c) => (Kind::Text, c.formatted.as_ref(), None),
        MessageType::Notice(c) => (Kind::Notice, c.formatted.as_ref(), None),
        MessageType::Emote(c) => (Kind::Emote, c.formatted.as_ref(), None),
        MessageType::Image(c) => (
            Kind::Image,
            None,
            Some(file(
                c.filename(),
                c.info.as_ref().and_then(|i| i.mimetype.clone()),
                c.info.as_ref().and_then(|i| i.size),
            )),
        ),
        MessageType::File(c) => (
            Kind::File,
            None,
            Some(file(
                c.filename(),
                c.info.as_ref().and_then(|i| i.mimetype.clone()),
                c.info.as_ref().and_then(|i| i.size),
            )),
        ),
        MessageType::Video(c) => (
            Kind::Video,
            None,
            Some(file(
                c.filename(),
                c.info.as_ref().and_then(|i| i.mimetype.clone()),
                c.info.as_ref().and_then(|i| i.size),
            )),
        ),
        MessageType::Audio(c) => (
            Kind::Audio,
            None,
            Some(file(
                c.filename(),
                c.info.as_ref().and_then(|i| i.mimetype.clone()),
                c.info.as_ref().and_then(|i| i.size),
            )),
        ),
        MessageType::Location(_) => (Kind::Location, None, None),
        _ => (Kind::Other, None, None),
    };
    let (formatted, rich) =
        match formatted.filter(|f| f.format.as_str() == "org.matrix.custom.html") {
            Some(f) => {
                let (html, lines) = formatted::parse(&f.body);
                (Some(html), lines)
            }
            None => (None, vec![]),
        };
    Content {
        kind,
        body: None,
        formatted,
        rich,
        attachment,
    }
}

fn file(name: &str, mimetype: Option<String>, size: Option<matrix_sdk::ruma::UInt>) -> Attachment {
    Attachment {
        name: clean(name).into_owned(),
        mimetype: mimetype.map(|m| clean(&m).into_owned()),
        size: size.map(u64::from),
    }
}

/// Where the file of a message or sticker is, for downloading.
pub fn media(content: &TimelineItemContent) -> Option<MediaSource> {
    let msg = content.as_msglike()?;
    match &msg.kind {
        MsgLikeKind::Message(m) => match m.msgtype() {
            MessageType::Image(c) => Some(c.source.clone()),
            MessageType::File(c) => Some(c.source.clone()),
            MessageType::Video(c) => Some(c.source.clone()),
            MessageType::Audio(c) => Some(c.source.clone()),
            _ => None,
        },
        MsgLikeKind::Sticker(s) => Some(match &s.content().source {
            StickerMediaSource::Plain(url) => MediaSource::Plain(url.clone()),
            StickerMediaSource::Encrypted(f) => MediaSource::Encrypted(f.clone()),
            _ => return None,
        }),
        _ => None,
    }
}

/// A size for people: "812 B", "14.2 KiB", "3.1 MiB".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(14_540), "14.2 KiB");
        assert_eq!(human_size(3 * 1024 * 1024 + 200_000), "3.2 MiB");
    }
}
