//! Inline image previews: a thumbnail decoded (with limits: the bytes come
//! from the server) and prepared once for the terminal's graphics protocol
//! (kitty, sixel, iTerm2) or as half-blocks, at a fixed size in cells.

use std::sync::Arc;

use ratatui_image::Resize;
use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;

/// Cells a preview takes at most.
pub const MAX_COLS: u16 = 32;
pub const MAX_ROWS: u16 = 8;

/// A preview ready to draw.
#[derive(Clone)]
pub struct Preview {
    protocol: Arc<Protocol>,
    /// Cells it covers.
    pub cols: u16,
    pub rows: u16,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Preview({}x{})", self.cols, self.rows)
    }
}

impl PartialEq for Preview {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.protocol, &other.protocol)
    }
}

impl Preview {
    pub fn protocol(&self) -> &Protocol {
        &self.protocol
    }
}

/// Decodes `bytes` (at most 4096x4096, 64 MiB of pixels) and prepares it
/// for `picker`'s protocol. Blocking: run it off the async threads.
pub fn decode(picker: &Picker, bytes: &[u8]) -> Result<Preview, String> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("unreadable image: {e}"))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(4096);
    limits.max_image_height = Some(4096);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| format!("unreadable image: {e}"))?;
    let area = ratatui::layout::Rect::new(0, 0, MAX_COLS, MAX_ROWS);
    let protocol = picker
        .new_protocol(img, area, Resize::Fit(None))
        .map_err(|e| format!("cannot draw the image: {e}"))?;
    let drawn = protocol.area();
    Ok(Preview {
        protocol: Arc::new(protocol),
        cols: drawn.width.clamp(1, MAX_COLS),
        rows: drawn.height.clamp(1, MAX_ROWS),
    })
}

/// A small PNG for tests: red on top, blue below.
#[cfg(test)]
pub(crate) fn sample_png() -> Vec<u8> {
    tests::png()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small PNG: red on top, blue below.
    pub fn png() -> Vec<u8> {
        let img = image::RgbImage::from_fn(320, 160, |_, y| {
            if y < 80 {
                image::Rgb([255, 0, 0])
            } else {
                image::Rgb([0, 0, 255])
            }
        });
        let mut out = std::io::Cursor::new(vec![]);
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn a_png_becomes_half_blocks_within_the_size() {
        let p = decode(&Picker::halfblocks(), &png()).unwrap();
        assert!(
            p.cols <= MAX_COLS && p.rows <= MAX_ROWS && p.rows > 0,
            "{p:?}"
        );
        assert!(decode(&Picker::halfblocks(), b"not an image").is_err());
    }
}
