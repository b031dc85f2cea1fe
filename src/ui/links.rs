//! Links as OSC 8 hyperlinks. ratatui's cells have no room for a link, so
//! the renderer notes where each visible link is drawn, and after the frame
//! is on the terminal those cells are printed again, the same text in the
//! same style, wrapped in OSC 8 (terminals without it ignore the wrapper).

use std::cell::RefCell;
use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};

/// Where a link is drawn, and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkArea {
    pub area: Rect,
    pub url: String,
}

thread_local! {
    /// The links of the frame being drawn (rendering is on one thread).
    static LINKS: RefCell<Vec<LinkArea>> = const { RefCell::new(Vec::new()) };
}

pub fn clear() {
    LINKS.with(|l| l.borrow_mut().clear());
}

pub fn push(link: LinkArea) {
    LINKS.with(|l| l.borrow_mut().push(link));
}

/// The links of the frame just drawn.
pub fn take() -> Vec<LinkArea> {
    LINKS.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// Whether `url` may go into an OSC 8 sequence: a scheme the sanitizer
/// allows, and no control characters (which would end the sequence). The
/// opener (`o`) gets only links that pass this too.
pub fn safe(url: &str) -> bool {
    let scheme_ok = [
        "https://", "http://", "ftp://", "mailto:", "magnet:", "matrix:",
    ]
    .iter()
    .any(|s| url.starts_with(s));
    scheme_ok && !url.chars().any(|c| c.is_control()) && url.len() < 2048
}

fn sgr(out: &mut String, fg: Color, bg: Color, m: Modifier) {
    out.push_str("\x1b[0");
    let attrs = [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::REVERSED, "7"),
        (Modifier::CROSSED_OUT, "9"),
    ];
    for (flag, code) in attrs {
        if m.contains(flag) {
            out.push(';');
            out.push_str(code);
        }
    }
    for (c, base) in [(fg, 30u8), (bg, 40u8)] {
        let code = match c {
            Color::Reset => None,
            Color::Black => Some(format!("{base}")),
            Color::Red => Some(format!("{}", base + 1)),
            Color::Green => Some(format!("{}", base + 2)),
            Color::Yellow => Some(format!("{}", base + 3)),
            Color::Blue => Some(format!("{}", base + 4)),
            Color::Magenta => Some(format!("{}", base + 5)),
            Color::Cyan => Some(format!("{}", base + 6)),
            Color::Gray => Some(format!("{}", base + 7)),
            Color::DarkGray => Some(format!("{}", base + 60)),
            Color::LightRed => Some(format!("{}", base + 61)),
            Color::LightGreen => Some(format!("{}", base + 62)),
            Color::LightYellow => Some(format!("{}", base + 63)),
            Color::LightBlue => Some(format!("{}", base + 64)),
            Color::LightMagenta => Some(format!("{}", base + 65)),
            Color::LightCyan => Some(format!("{}", base + 66)),
            Color::White => Some(format!("{}", base + 67)),
            Color::Indexed(i) => Some(format!("{};5;{i}", base + 8)),
            Color::Rgb(r, g, b) => Some(format!("{};2;{r};{g};{b}", base + 8)),
        };
        if let Some(code) = code {
            out.push(';');
            out.push_str(&code);
        }
    }
    out.push('m');
}

/// The bytes that print `links` again from `buf` wrapped in OSC 8, the
/// cursor saved before and put back after. Empty when there is nothing.
pub fn osc8(buf: &Buffer, links: &[LinkArea]) -> String {
    let mut out = String::new();
    for l in links.iter().filter(|l| safe(&l.url)) {
        let a = l.area.intersection(buf.area);
        if a.is_empty() {
            continue;
        }
        let _ = write!(out, "\x1b[{};{}H\x1b]8;;{}\x1b\\", a.y + 1, a.x + 1, l.url);
        let mut x = a.x;
        while x < a.right() {
            let cell = &buf[(x, a.y)];
            sgr(&mut out, cell.fg, cell.bg, cell.modifier);
            out.push_str(cell.symbol());
            // A wide character covers the next cell too.
            x += super::widgets::str_width(cell.symbol()).max(1) as u16;
        }
        out.push_str("\x1b]8;;\x1b\\\x1b[0m");
    }
    if out.is_empty() {
        return out;
    }
    // Save and restore the cursor: ratatui left it where the user types.
    format!("\x1b7{out}\x1b8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Style;

    #[test]
    fn links_are_printed_again_inside_osc_8_and_unsafe_ones_never() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 2));
        buf.set_string(
            2,
            1,
            "docs",
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::UNDERLINED),
        );
        let link = |url: &str| LinkArea {
            area: Rect::new(2, 1, 4, 1),
            url: url.into(),
        };
        let out = osc8(&buf, &[link("https://example.org/d")]);
        assert_eq!(
            out,
            "\x1b7\x1b[2;3H\x1b]8;;https://example.org/d\x1b\\\
             \x1b[0;4;36md\x1b[0;4;36mo\x1b[0;4;36mc\x1b[0;4;36ms\
             \x1b]8;;\x1b\\\x1b[0m\x1b8"
        );
        // A scheme the sanitizer does not allow, or a control character
        // that would end the sequence early: not linked at all.
        assert_eq!(osc8(&buf, &[link("javascript:alert(1)")]), "");
        assert_eq!(osc8(&buf, &[link("https://x/\x07\x1b]0;pwned")]), "");
        assert_eq!(osc8(&buf, &[]), "");
    }
}
