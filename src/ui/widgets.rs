//! Small drawing pieces shared by the screens: a masked secret field, a
//! progress bar, the emoji grid, centred boxes, and text wrapping.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::theme::Theme;
use crate::app::input::TextInput;
use crate::matrix::verify::EmojiItem;

/// A centred area of at most `w` x `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [c] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    c
}

/// Clears `area` and draws a titled box; returns the inside.
pub fn dialog(f: &mut Frame, area: Rect, title: &str, theme: &Theme) -> Rect {
    f.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .title(Span::styled(format!(" {title} "), theme.title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    inner
}

/// One input line: `label` then the text (masked ones as dots), and where
/// the cursor goes when it has focus.
pub fn input_line<'a>(
    label: &'a str,
    input: &TextInput,
    focused: bool,
    width: u16,
    theme: &Theme,
) -> (Line<'a>, u16) {
    let shown = input.shown();
    let label_w = label.chars().count() as u16;
    let room = width.saturating_sub(label_w + 1) as usize;
    // Keep the cursor visible: show the tail when the text is long.
    let chars: Vec<char> = shown.chars().collect();
    let cursor = input.cursor();
    let start = cursor.saturating_sub(room.saturating_sub(1));
    let visible: String = chars.iter().skip(start).take(room).collect();
    let style = if focused {
        Style::default().add_modifier(Modifier::UNDERLINED)
    } else {
        Style::default()
    };
    let pad = room.saturating_sub(visible.chars().count());
    let line = Line::from(vec![
        Span::styled(
            label,
            if focused {
                theme.title()
            } else {
                Style::default()
            },
        ),
        Span::styled(format!("{visible}{}", " ".repeat(pad)), style),
    ]);
    let col = label_w + text_width(&chars[start..cursor.min(chars.len())]);
    (line, col)
}

fn text_width(chars: &[char]) -> u16 {
    chars.iter().map(|c| c.width().unwrap_or(0) as u16).sum()
}

/// `label [█████░░░░░] 120 / 200 unit`.
pub fn progress<'a>(
    label: &str,
    done: usize,
    total: usize,
    unit: &str,
    width: u16,
    theme: &Theme,
) -> Line<'a> {
    let counts = format!(" {done} / {total} {unit}");
    let label = format!("{label:<10}");
    let bar_w = (width as usize)
        .saturating_sub(label.chars().count() + counts.chars().count() + 2)
        .clamp(4, 40);
    let filled = (done.min(total) * bar_w)
        .checked_div(total)
        .unwrap_or(bar_w);
    Line::from(vec![
        Span::raw(label),
        Span::raw("["),
        Span::styled("█".repeat(filled), theme.fg(theme.accent)),
        Span::styled("░".repeat(bar_w - filled), theme.dim()),
        Span::raw("]"),
        Span::raw(counts),
    ])
}

/// The 7 emoji with their names, one column each (two rows of columns on
/// a narrow screen).
pub fn emoji_grid<'a>(emoji: &[EmojiItem], width: u16) -> Vec<Line<'a>> {
    let per_row = if width >= 70 { 7 } else { 4 };
    let col = (width as usize / per_row).clamp(8, 12);
    let mut out = vec![];
    for chunk in emoji.chunks(per_row) {
        let mut symbols = String::new();
        let mut names = String::new();
        for e in chunk {
            symbols.push_str(&center(&e.symbol, col));
            names.push_str(&center(&e.name, col));
        }
        out.push(Line::from(symbols));
        out.push(Line::from(names));
        out.push(Line::from(""));
    }
    out
}

fn center(s: &str, w: usize) -> String {
    let sw = str_width(s);
    if sw >= w {
        return truncate(s, w);
    }
    let left = (w - sw) / 2;
    format!("{}{s}{}", " ".repeat(left), " ".repeat(w - sw - left))
}

pub fn str_width(s: &str) -> usize {
    // Per grapheme, as ratatui's buffer measures what it draws: a flag or a
    // skin-toned emoji is several chars but one cell pair.
    s.graphemes(true).map(UnicodeWidthStr::width).sum()
}

/// At most `w` columns, with `…` when cut.
pub fn truncate(s: &str, w: usize) -> String {
    if str_width(s) <= w {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let gw = g.width();
        if used + gw + 1 > w {
            break;
        }
        out.push_str(g);
        used += gw;
    }
    out.push('…');
    out
}

/// Splits `text` into lines of at most `width` columns, at spaces where it
/// can and anywhere where it must; keeps the text's own line breaks.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = vec![];
    for para in text.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in para.split_inclusive(' ') {
            let ww = str_width(word);
            // A trailing space may hang over the edge.
            if used + str_width(word.trim_end()) > width && used > 0 {
                out.push(line.trim_end().to_owned());
                line.clear();
                used = 0;
            }
            if ww > width {
                for g in word.graphemes(true) {
                    let gw = g.width();
                    if used + gw > width {
                        out.push(std::mem::take(&mut line));
                        used = 0;
                    }
                    line.push_str(g);
                    used += gw;
                }
            } else {
                line.push_str(word);
                used += ww;
            }
        }
        out.push(line.trim_end().to_owned());
    }
    out
}

/// Splits styled text into lines of at most `width` columns, breaking
/// after spaces where it can (never inside a word that changes style
/// midway) and anywhere where it must. Pieces keep their styles.
pub fn wrap_styled(pieces: &[(String, Style)], width: usize) -> Vec<Vec<(String, Style)>> {
    let tagged: Vec<(String, Style, ())> =
        pieces.iter().map(|(t, s)| (t.clone(), *s, ())).collect();
    wrap_tagged(&tagged, width)
        .into_iter()
        .map(|l| l.into_iter().map(|(t, s, ())| (t, s)).collect())
        .collect()
}

/// [`wrap_styled`] for pieces that also carry a tag (a link's target).
pub fn wrap_tagged<T: Clone + PartialEq>(
    pieces: &[(String, Style, T)],
    width: usize,
) -> Vec<Vec<(String, Style, T)>> {
    let width = width.max(1);
    // Words: runs of pieces up to and including one that ends in a space.
    let mut words: Vec<Vec<(String, Style, T)>> = vec![];
    let mut word: Vec<(String, Style, T)> = vec![];
    for (text, style, tag) in pieces {
        for part in text.split_inclusive(' ') {
            word.push((part.to_owned(), *style, tag.clone()));
            if part.ends_with(' ') {
                words.push(std::mem::take(&mut word));
            }
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut out: Vec<Vec<(String, Style, T)>> = vec![];
    let mut line: Vec<(String, Style, T)> = vec![];
    let mut used = 0;
    let finish = |line: &mut Vec<(String, Style, T)>, out: &mut Vec<Vec<(String, Style, T)>>| {
        if let Some(last) = line.last_mut() {
            let kept = last.0.trim_end().len();
            last.0.truncate(kept);
        }
        out.push(std::mem::take(line));
    };
    for w in words {
        let ww: usize = w.iter().map(|(t, _, _)| str_width(t)).sum();
        let trimmed = ww
            - w.last()
                .map_or(0, |(t, _, _)| str_width(t) - str_width(t.trim_end()));
        if used > 0 && used + trimmed > width {
            finish(&mut line, &mut out);
            used = 0;
        }
        if trimmed > width {
            // Longer than a line: cut by graphemes.
            for (text, style, tag) in w {
                for g in text.graphemes(true) {
                    let gw = g.width();
                    if used + gw > width && used > 0 {
                        finish(&mut line, &mut out);
                        used = 0;
                    }
                    push_tagged(&mut line, g, style, &tag);
                    used += gw;
                }
            }
        } else {
            for (text, style, tag) in w {
                push_tagged(&mut line, &text, style, &tag);
            }
            used += ww;
        }
    }
    finish(&mut line, &mut out);
    out
}

fn push_tagged<T: Clone + PartialEq>(
    line: &mut Vec<(String, Style, T)>,
    text: &str,
    style: Style,
    tag: &T,
) {
    match line.last_mut() {
        Some((t, s, g)) if *s == style && g == tag => t.push_str(text),
        _ => line.push((text.to_owned(), style, tag.clone())),
    }
}

/// A paragraph of lines, no wrapping.
pub fn lines(f: &mut Frame, area: Rect, lines: Vec<Line<'_>>) {
    f.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("hello big world", 9), vec!["hello big", "world"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
        assert_eq!(truncate("@averylongname:server", 8), "@averyl…");
    }

    #[test]
    fn styled_text_wraps_between_words_and_keeps_styles() {
        let b = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let n = Style::default();
        let pieces = vec![
            ("hello ".to_owned(), n),
            ("bo".to_owned(), b),
            ("ld world".to_owned(), n),
        ];
        let lines = wrap_styled(&pieces, 9);
        let text: Vec<String> = lines
            .iter()
            .map(|l| l.iter().map(|(t, _)| t.as_str()).collect())
            .collect();
        // "bold" changes style inside the word and is never cut there.
        assert_eq!(text, vec!["hello", "bold", "world"]);
        assert_eq!(lines[1], vec![("bo".to_owned(), b), ("ld".to_owned(), n)]);
        let long = wrap_styled(&[("abcdefghij".to_owned(), n)], 4);
        assert_eq!(long.len(), 3);
        assert_eq!(wrap_styled(&[], 4), vec![Vec::<(String, Style)>::new()]);
    }

    #[test]
    fn wide_graphemes_are_measured_as_drawn() {
        // A flag is two regional indicators, a toned thumb two chars: each
        // one grapheme two cells wide (a per-char sum says 4).
        assert_eq!(str_width("🇩🇪"), 2);
        assert_eq!(str_width("👍🏽"), 2);
        assert_eq!(str_width("a🇩🇪b"), 4);
        // Never cut inside one.
        assert_eq!(truncate("🇩🇪🇫🇷🇮🇹", 5), "🇩🇪🇫🇷…");
        assert_eq!(wrap("🇩🇪🇫🇷🇮🇹", 4), vec!["🇩🇪🇫🇷", "🇮🇹"]);
        // ratatui draws it in exactly that many cells.
        let line = Line::from("x🇩🇪👍🏽y");
        assert_eq!(line.width(), str_width("x🇩🇪👍🏽y"));
    }
}
