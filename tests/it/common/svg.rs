//! A terminal screen as tmux gives it (`capture-pane -e`: text with SGR
//! colour sequences) drawn as an SVG, cell by cell, for the README.

use unicode_width::UnicodeWidthChar;

#[derive(Clone, Copy, Default, PartialEq)]
struct Pen {
    fg: Option<&'static str>,
    bg: Option<&'static str>,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    reverse: bool,
    strike: bool,
}

/// A dark terminal's palette (the 16 named colours).
const PALETTE: [&str; 16] = [
    "#1e1e2e", "#f38ba8", "#a6e3a1", "#f9e2af", "#89b4fa", "#f5c2e7", "#94e2d5", "#bac2de",
    "#6c7086", "#f38ba8", "#a6e3a1", "#f9e2af", "#89b4fa", "#f5c2e7", "#94e2d5", "#ffffff",
];
const FG: &str = "#cdd6f4";
const BG: &str = "#11111b";

fn apply(pen: &mut Pen, params: &str) {
    let nums: Vec<u32> = params.split(';').map(|p| p.parse().unwrap_or(0)).collect();
    let mut i = 0;
    while i < nums.len() {
        match nums[i] {
            0 => *pen = Pen::default(),
            1 => pen.bold = true,
            2 => pen.dim = true,
            3 => pen.italic = true,
            4 => pen.underline = true,
            7 => pen.reverse = true,
            9 => pen.strike = true,
            22 => {
                pen.bold = false;
                pen.dim = false;
            }
            23 => pen.italic = false,
            24 => pen.underline = false,
            27 => pen.reverse = false,
            29 => pen.strike = false,
            n @ 30..=37 => pen.fg = Some(PALETTE[(n - 30) as usize]),
            39 => pen.fg = None,
            n @ 40..=47 => pen.bg = Some(PALETTE[(n - 40) as usize]),
            49 => pen.bg = None,
            n @ 90..=97 => pen.fg = Some(PALETTE[(n - 90 + 8) as usize]),
            n @ 100..=107 => pen.bg = Some(PALETTE[(n - 100 + 8) as usize]),
            38 | 48 if nums.get(i + 1) == Some(&5) => {
                let c = nums.get(i + 2).copied().unwrap_or(7) as usize;
                let colour = PALETTE.get(c).copied().unwrap_or(FG);
                if nums[i] == 38 {
                    pen.fg = Some(colour);
                } else {
                    pen.bg = Some(colour);
                }
                i += 2;
            }
            _ => {}
        }
        i += 1;
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The SVG of `screen` (`width` columns).
pub fn render(screen: &str, width: usize) -> String {
    const CW: f32 = 8.4;
    const LH: f32 = 18.0;
    let rows: Vec<&str> = screen.lines().collect();
    let (w, h) = (width as f32 * CW + 16.0, rows.len() as f32 * LH + 16.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace, Noto Color Emoji\" \
         font-size=\"14\" shape-rendering=\"crispEdges\">\n\
         <rect width=\"100%\" height=\"100%\" rx=\"6\" fill=\"{BG}\"/>\n"
    );
    for (y, row) in rows.iter().enumerate() {
        let mut pen = Pen::default();
        let mut col = 0usize;
        let mut chars = row.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    let mut params = String::new();
                    for d in chars.by_ref() {
                        if d.is_ascii_alphabetic() {
                            if d == 'm' {
                                apply(&mut pen, &params);
                            }
                            break;
                        }
                        params.push(d);
                    }
                }
                continue;
            }
            let cw = c.width().unwrap_or(0);
            if cw == 0 {
                continue;
            }
            let (mut fg, mut bg) = (pen.fg.unwrap_or(FG), pen.bg);
            if pen.reverse {
                bg = Some(fg);
                fg = pen.bg.unwrap_or(BG);
            }
            let x = 8.0 + col as f32 * CW;
            let top = 8.0 + y as f32 * LH;
            if let Some(bg) = bg {
                out.push_str(&format!(
                    "<rect x=\"{x}\" y=\"{top}\" width=\"{}\" height=\"{LH}\" fill=\"{bg}\"/>\n",
                    cw as f32 * CW
                ));
            }
            if c != ' ' {
                let mut style = String::new();
                if pen.bold {
                    style.push_str(" font-weight=\"bold\"");
                }
                if pen.italic {
                    style.push_str(" font-style=\"italic\"");
                }
                if pen.dim {
                    style.push_str(" opacity=\"0.6\"");
                }
                let deco = match (pen.underline, pen.strike) {
                    (true, true) => " text-decoration=\"underline line-through\"",
                    (true, false) => " text-decoration=\"underline\"",
                    (false, true) => " text-decoration=\"line-through\"",
                    _ => "",
                };
                out.push_str(&format!(
                    "<text x=\"{x}\" y=\"{}\" fill=\"{fg}\"{style}{deco}>{}</text>\n",
                    top + 13.5,
                    escape(&c.to_string())
                ));
            }
            col += cw;
        }
    }
    out.push_str("</svg>\n");
    out
}

#[test]
fn colours_styles_and_wide_characters_land_in_their_cells() {
    let svg = render("a\u{1b}[1;31mB\u{1b}[0m🔒c", 4);
    assert!(
        svg.contains("fill=\"#f38ba8\" font-weight=\"bold\">B</text>"),
        "{svg}"
    );
    // The lock is two cells wide: "c" starts at column 4.
    assert!(svg.contains(&format!("x=\"{}\"", 8.0 + 4.0 * 8.4)), "{svg}");
}
