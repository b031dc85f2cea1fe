//! Files that messages carry: fetched from the media repository (decrypted
//! and checked against their hash in encrypted rooms) and saved 0600
//! without ever overwriting anything.

use std::io::Write;
use std::path::{Path, PathBuf};

use matrix_sdk::Client;
use matrix_sdk::media::{MediaFormat, MediaRequestParameters};
use matrix_sdk::ruma::OwnedEventId;
use matrix_sdk::ruma::events::room::MediaSource;
use matrix_sdk::ruma::events::room::message::MessageType;
use matrix_sdk::ruma::events::sticker::StickerMediaSource;
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
};
use serde::Serialize;

use super::rooms::{self, RoomError};

/// Where a download went.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Saved {
    pub path: String,
    /// The file's name as the sender gave it (cleaned).
    pub name: String,
    pub size: u64,
    pub mimetype: Option<String>,
}

/// Where to save: exactly this file, or into this directory under the
/// sender's name for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    File(PathBuf),
    Dir(PathBuf),
}

/// The file of one message, as its sender described it.
struct Carried {
    source: MediaSource,
    name: String,
    mimetype: Option<String>,
}

/// Event `event_id` of `room` (from the event cache, else the server),
/// decrypted where this device can.
async fn event(
    client: &Client,
    room: &str,
    event_id: &str,
) -> Result<AnySyncTimelineEvent, RoomError> {
    let room = rooms::find(client, room).await?;
    let id =
        OwnedEventId::try_from(event_id).map_err(|_| RoomError::BadEvent(event_id.to_owned()))?;
    let ev = room
        .load_or_fetch_event(&id, None)
        .await
        .map_err(|e| RoomError::NotFound(format!("cannot get {event_id}: {e}")))?;
    ev.raw()
        .deserialize()
        .map_err(|e| RoomError::Server(format!("{event_id} is malformed: {e}")))
}

/// Downloads the file that event `event_id` in `room` carries and saves it.
pub async fn download(
    client: &Client,
    room: &str,
    event_id: &str,
    target: &Target,
) -> Result<Saved, RoomError> {
    let parsed = event(client, room, event_id).await?;
    let carried = carried(&parsed).ok_or_else(|| {
        RoomError::NotFound(format!(
            "{event_id} carries no file (or this device cannot decrypt it)"
        ))
    })?;
    let bytes = client
        .media()
        .get_media_content(
            &MediaRequestParameters {
                source: carried.source,
                format: MediaFormat::File,
            },
            false,
        )
        .await
        .map_err(|e| RoomError::Server(format!("cannot download the file: {e}")))?;
    let path = save(target, &carried.name, &bytes)
        .map_err(|e| RoomError::Server(format!("cannot save the file: {e}")))?;
    Ok(Saved {
        path: path.display().to_string(),
        name: carried.name,
        size: bytes.len() as u64,
        mimetype: carried.mimetype,
    })
}

/// Images larger than this are not fetched whole for a preview.
const PREVIEW_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// The bytes to preview an image message with: its thumbnail (the
/// sender's, or one the server makes), else the image itself when small.
pub async fn preview_bytes(
    client: &Client,
    room: &str,
    event_id: &str,
) -> Result<Vec<u8>, RoomError> {
    use matrix_sdk::media::MediaThumbnailSettings;
    let parsed = event(client, room, event_id).await?;
    let AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
        SyncMessageLikeEvent::Original(m),
    )) = parsed
    else {
        return Err(RoomError::NotFound(format!("{event_id} is not an image")));
    };
    let MessageType::Image(img) = m.content.msgtype else {
        return Err(RoomError::NotFound(format!("{event_id} is not an image")));
    };
    let info = img.info.as_deref();
    let format = match (info.and_then(|i| i.thumbnail_source.clone()), &img.source) {
        (Some(thumb), _) => (thumb, MediaFormat::File),
        (None, MediaSource::Plain(_)) => (
            img.source.clone(),
            MediaFormat::Thumbnail(MediaThumbnailSettings::new(320u32.into(), 240u32.into())),
        ),
        (None, MediaSource::Encrypted(_)) => {
            let size = info.and_then(|i| i.size).map(u64::from);
            if size.is_none_or(|s| s > PREVIEW_MAX_BYTES) {
                return Err(RoomError::Invalid(
                    "no thumbnail, and the image is too large (or of unknown size) to fetch for a preview".into(),
                ));
            }
            (img.source.clone(), MediaFormat::File)
        }
    };
    client
        .media()
        .get_media_content(
            &MediaRequestParameters {
                source: format.0,
                format: format.1,
            },
            true,
        )
        .await
        .map_err(|e| RoomError::Server(format!("cannot download the preview: {e}")))
}

fn carried(ev: &AnySyncTimelineEvent) -> Option<Carried> {
    let AnySyncTimelineEvent::MessageLike(m) = ev else {
        return None;
    };
    match m {
        AnySyncMessageLikeEvent::RoomMessage(SyncMessageLikeEvent::Original(m)) => {
            let (source, name, mimetype) = match &m.content.msgtype {
                MessageType::Image(c) => (
                    c.source.clone(),
                    c.filename(),
                    c.info.as_ref().and_then(|i| i.mimetype.clone()),
                ),
                MessageType::File(c) => (
                    c.source.clone(),
                    c.filename(),
                    c.info.as_ref().and_then(|i| i.mimetype.clone()),
                ),
                MessageType::Video(c) => (
                    c.source.clone(),
                    c.filename(),
                    c.info.as_ref().and_then(|i| i.mimetype.clone()),
                ),
                MessageType::Audio(c) => (
                    c.source.clone(),
                    c.filename(),
                    c.info.as_ref().and_then(|i| i.mimetype.clone()),
                ),
                _ => return None,
            };
            Some(Carried {
                source,
                name: name.to_owned(),
                mimetype,
            })
        }
        AnySyncMessageLikeEvent::Sticker(SyncMessageLikeEvent::Original(s)) => {
            let source = match &s.content.source {
                StickerMediaSource::Plain(url) => MediaSource::Plain(url.clone()),
                StickerMediaSource::Encrypted(f) => MediaSource::Encrypted(f.clone()),
                _ => return None,
            };
            Some(Carried {
                source,
                name: s.content.body.clone(),
                mimetype: s.content.info.mimetype.clone(),
            })
        }
        _ => None,
    }
}

/// A name the sender chose, made safe to create in a directory: no path
/// separators or parent references, no control characters, no leading
/// dot (a hidden file, or `..`), not empty, not over-long.
pub fn safe_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | '\0' => '_',
            c if c.is_control() => '_',
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '_',
            c => c,
        })
        .collect();
    let trimmed = out.trim().trim_start_matches('.').to_owned();
    out = trimmed;
    if out.is_empty() {
        out = "download".to_owned();
    }
    // Most file systems take 255 bytes; cut on a character boundary.
    while out.len() > 200 {
        out.pop();
    }
    out
}

/// `name`, then "stem (2).ext", "stem (3).ext", ... for the n-th try.
fn numbered(name: &str, n: u32) -> String {
    if n < 2 {
        return name.to_owned();
    }
    match name.rfind('.').filter(|&i| i > 0) {
        Some(i) => format!("{} ({n}){}", &name[..i], &name[i..]),
        None => format!("{name} ({n})"),
    }
}

/// Writes `bytes` to a new file (0600): `target` itself, which must not
/// exist, or the first free name in a directory.
pub fn save(target: &Target, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    match target {
        Target::File(path) => {
            write_new(path, bytes)?;
            Ok(path.clone())
        }
        Target::Dir(dir) => {
            std::fs::create_dir_all(dir)?;
            let name = safe_name(name);
            for n in 1..10_000 {
                let path = dir.join(numbered(&name, n));
                match write_new(&path, bytes) {
                    Ok(()) => return Ok(path),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} and 9,999 numbered copies exist", name),
            ))
        }
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            std::io::Error::new(
                e.kind(),
                format!(
                    "{} exists; keepsake never overwrites a file",
                    path.display()
                ),
            )
        } else {
            e
        }
    })?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_server_stay_in_the_directory() {
        assert_eq!(safe_name("../../.bashrc"), "_.._.bashrc");
        assert_eq!(safe_name(".."), "download");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name("a\u{1b}[2Jb.png"), "a_[2Jb.png");
        assert_eq!(safe_name("  "), "download");
        assert_eq!(safe_name("cat.png"), "cat.png");
        assert!(safe_name(&"é".repeat(300)).len() <= 200);
    }

    #[test]
    fn never_overwrites_and_saves_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Dir(dir.path().to_owned());
        let a = save(&target, "cat.png", b"one").unwrap();
        let b = save(&target, "cat.png", b"two").unwrap();
        let c = save(&target, "README", b"three").unwrap();
        let d = save(&target, "README", b"four").unwrap();
        assert_eq!(a.file_name().unwrap(), "cat.png");
        assert_eq!(b.file_name().unwrap(), "cat (2).png");
        assert_eq!(d.file_name().unwrap(), "README (2)");
        assert_eq!(std::fs::read(&a).unwrap(), b"one");
        assert_eq!(std::fs::read(&c).unwrap(), b"three");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&b).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // An explicit file that exists is refused, and left as it was.
        let err = save(&Target::File(a.clone()), "x", b"new").unwrap_err();
        assert!(err.to_string().contains("never overwrites"), "{err}");
        assert_eq!(std::fs::read(&a).unwrap(), b"one");
    }
}
