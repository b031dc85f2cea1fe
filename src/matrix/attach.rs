//! A file to send: read, its type sniffed (the bytes first, the name
//! second), its size and, for images, dimensions and a thumbnail. Sending
//! goes through the SDK, which encrypts the file and its thumbnail in
//! encrypted rooms (the spec's encrypted attachments), so the homeserver
//! never holds the plaintext.

use std::io::Cursor;
use std::path::Path;

use matrix_sdk::attachment::{
    AttachmentConfig, AttachmentInfo, BaseAudioInfo, BaseFileInfo, BaseImageInfo, BaseVideoInfo,
    Thumbnail,
};
use matrix_sdk::ruma::UInt;

use super::rooms::RoomError;

/// Thumbnails fit in this box (what Element sends).
const THUMB_MAX: u32 = 800;
/// Images larger than this are not decoded for a thumbnail (memory).
const DECODE_MAX_PIXELS: u64 = 50_000_000;

/// A file ready to send.
pub struct Prepared {
    pub name: String,
    pub mime: mime::Mime,
    pub data: Vec<u8>,
    pub config: AttachmentConfig,
}

impl std::fmt::Debug for Prepared {
    // The bytes may be anything the user sends: never in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("name", &self.name)
            .field("mime", &self.mime)
            .field("size", &self.data.len())
            .finish()
    }
}

/// Reads `path` and prepares it: a clear error for a missing, unreadable
/// or not regular file.
pub fn read(path: &Path) -> Result<Prepared, RoomError> {
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| RoomError::Invalid(format!("cannot send {shown}: {}", io_words(&e))))?;
    if !meta.is_file() {
        return Err(RoomError::Invalid(format!(
            "cannot send {shown}: not a regular file"
        )));
    }
    let data = std::fs::read(path)
        .map_err(|e| RoomError::Invalid(format!("cannot send {shown}: {}", io_words(&e))))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    Ok(prepare(name, data))
}

fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The type, info and thumbnail of `data` named `name`. Pure.
pub fn prepare(name: String, data: Vec<u8>) -> Prepared {
    let mimetype = sniff(&name, &data);
    let size = UInt::new(data.len() as u64);
    let mut config = AttachmentConfig::new();
    let kind = mimetype.type_();
    let info = if kind == mime::IMAGE {
        let dims = dimensions(&data);
        if let Some(t) = dims.and_then(|_| thumbnail(&data)) {
            config = config.thumbnail(Some(t));
        }
        AttachmentInfo::Image(BaseImageInfo {
            width: dims.and_then(|d| UInt::new(d.0.into())),
            height: dims.and_then(|d| UInt::new(d.1.into())),
            size,
            ..Default::default()
        })
    } else if kind == mime::VIDEO {
        AttachmentInfo::Video(BaseVideoInfo {
            size,
            ..Default::default()
        })
    } else if kind == mime::AUDIO {
        AttachmentInfo::Audio(BaseAudioInfo {
            size,
            ..Default::default()
        })
    } else {
        AttachmentInfo::File(BaseFileInfo { size })
    };
    Prepared {
        name,
        mime: mimetype,
        data,
        config: config.info(info),
    }
}

/// The bytes decide for the formats they name; the extension for the rest.
pub fn sniff(name: &str, data: &[u8]) -> mime::Mime {
    if let Ok(f) = image::guess_format(data) {
        let m = f.to_mime_type();
        if let Ok(m) = m.parse::<mime::Mime>() {
            return m;
        }
    }
    if data.starts_with(b"%PDF-") {
        return mime::APPLICATION_PDF;
    }
    mime_guess::from_path(name).first_or_octet_stream()
}

fn reader(data: &[u8]) -> Option<image::ImageReader<Cursor<&[u8]>>> {
    image::ImageReader::new(Cursor::new(data))
        .with_guessed_format()
        .ok()
}

fn dimensions(data: &[u8]) -> Option<(u32, u32)> {
    reader(data)?.into_dimensions().ok()
}

/// A JPEG (PNG if the image has transparency) no larger than
/// [`THUMB_MAX`] on a side; none for an image already that small, too big
/// to decode, or not decodable.
fn thumbnail(data: &[u8]) -> Option<Thumbnail> {
    let (w, h) = dimensions(data)?;
    if w.max(h) <= THUMB_MAX || u64::from(w) * u64::from(h) > DECODE_MAX_PIXELS {
        return None;
    }
    let mut r = reader(data)?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(DECODE_MAX_PIXELS * 4);
    r.limits(limits);
    let img = r.decode().ok()?;
    let small = img.thumbnail(THUMB_MAX, THUMB_MAX);
    let (format, content_type) = if small.color().has_alpha() {
        (image::ImageFormat::Png, mime::IMAGE_PNG)
    } else {
        (image::ImageFormat::Jpeg, mime::IMAGE_JPEG)
    };
    let small = if format == image::ImageFormat::Jpeg {
        image::DynamicImage::ImageRgb8(small.to_rgb8())
    } else {
        small
    };
    let mut out = Cursor::new(Vec::new());
    small.write_to(&mut out, format).ok()?;
    let bytes = out.into_inner();
    Some(Thumbnail {
        width: UInt::new(small.width().into())?,
        height: UInt::new(small.height().into())?,
        size: UInt::new(bytes.len() as u64)?,
        data: bytes,
        content_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 10, 10]));
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("encodes");
        out.into_inner()
    }

    #[test]
    fn the_bytes_beat_the_name_and_the_name_names_the_rest() {
        assert_eq!(sniff("photo.txt", &png(2, 2)), mime::IMAGE_PNG);
        assert_eq!(sniff("notes.txt", b"hello"), mime::TEXT_PLAIN);
        assert_eq!(sniff("report", b"%PDF-1.7 ..."), mime::APPLICATION_PDF);
        assert_eq!(sniff("blob", b"\x00\x01"), mime::APPLICATION_OCTET_STREAM);
    }

    #[test]
    fn a_big_image_gets_its_size_and_a_thumbnail_a_small_one_only_its_size() {
        let p = prepare("big.png".into(), png(1600, 400));
        let AttachmentInfo::Image(info) = p.config.info.as_ref().expect("info") else {
            panic!("not an image: {:?}", p.config.info);
        };
        assert_eq!(info.width, UInt::new(1600));
        assert_eq!(info.height, UInt::new(400));
        assert_eq!(info.size, UInt::new(p.data.len() as u64));
        let t = p.config.thumbnail.as_ref().expect("a thumbnail");
        assert_eq!(
            (t.width, t.height),
            (UInt::from(800u32), UInt::from(200u32))
        );
        assert_eq!(t.content_type, mime::IMAGE_JPEG);

        let p = prepare("small.png".into(), png(20, 10));
        assert!(p.config.thumbnail.is_none());
    }

    #[test]
    fn a_missing_or_unreadable_path_says_so() {
        let e = read(Path::new("/nonexistent/keepsake/file.bin")).expect_err("missing");
        assert_eq!(
            e.to_string(),
            "cannot send /nonexistent/keepsake/file.bin: no such file"
        );
        let dir = tempfile::tempdir().expect("tmp");
        let e = read(dir.path()).expect_err("a directory");
        assert!(e.to_string().ends_with("not a regular file"), "{e}");
    }
}
