//! The open room: messages with sender, time, day separators, replies,
//! edits, reactions, redactions and a trust mark on every encrypted
//! message (with its legend); the composer below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};

use super::theme::Theme;
use super::widgets::{lines, str_width, truncate};
use crate::app::time;
use crate::app::{AppState, ComposeMode, Focus, OpenRoom};
use crate::matrix::history::{HistoryItem, SenderDevice, Trust};

/// The mark, its colour and its legend text.
pub fn mark(t: Trust, theme: &Theme) -> (&'static str, Color) {
    match t {
        Trust::Verified => ("✓ ", theme.good),
        Trust::Unverified => ("! ", theme.warn),
        Trust::BackupTrusted => ("B✓", theme.good),
        Trust::BackupUntrusted => ("B!", theme.warn),
        Trust::Warning => ("⚠ ", theme.bad),
        Trust::Utd => ("✗ ", theme.bad),
        Trust::Plain => ("  ", theme.dim),
    }
}

/// The second fact beside a key restored from a backup: whether the
/// sender's device is verified (the mark itself says where the key came
/// from).
pub(super) fn device_note(i: &HistoryItem) -> Option<&'static str> {
    match (i.trust, i.sender_device) {
        (Trust::BackupTrusted | Trust::BackupUntrusted, Some(SenderDevice::Unverified)) => {
            Some("sender's device not verified")
        }
        (Trust::BackupTrusted | Trust::BackupUntrusted, Some(SenderDevice::Verified)) => {
            Some("sender's device verified")
        }
        _ => None,
    }
}

fn legend(theme: &Theme, width: u16) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    let words = if width >= 80 {
        [
            "verified",
            "unverified",
            "backup",
            "backup untrusted",
            "warning",
            "no key",
        ]
    } else {
        [
            "verified",
            "unverified",
            "backup",
            "untrusted",
            "warn",
            "no key",
        ]
    };
    for (t, what) in [
        Trust::Verified,
        Trust::Unverified,
        Trust::BackupTrusted,
        Trust::BackupUntrusted,
        Trust::Warning,
        Trust::Utd,
    ]
    .into_iter()
    .zip(words)
    {
        let (m, c) = mark(t, theme);
        spans.push(Span::styled(m.trim_end().to_owned(), theme.fg(c)));
        spans.push(Span::styled(format!(" {what}  "), theme.dim()));
    }
    Line::from(spans)
}

/// "bob" for "@bob:example.org".
pub fn short(user: &str) -> &str {
    let s = user.strip_prefix('@').unwrap_or(user);
    s.split(':').next().unwrap_or(s)
}

/// Why the selected message has its mark, for the detail line.
pub fn explain(i: &HistoryItem) -> String {
    let why = i
        .trust_reason
        .as_deref()
        .or(i.utd_hint.as_deref())
        .or(i.utd_reason.as_deref())
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    let what = match i.trust {
        Trust::Verified => "verified sender device",
        Trust::Unverified => "unverified sender device",
        Trust::BackupTrusted => "key restored from the backup (trusted)",
        Trust::BackupUntrusted => "key restored from the backup (untrusted)",
        Trust::Warning => "warning",
        Trust::Utd => "not decryptable; f fetches keys from the backup",
        Trust::Plain => "not encrypted",
    };
    let device = device_note(i)
        .map(|d| format!(" · {d}"))
        .unwrap_or_default();
    format!("{} · {what}{why}{device}", i.sender)
}

fn day_line(ts: u64, offset: i32, width: usize, theme: &Theme) -> Line<'static> {
    let label = format!(" {} ", time::day(ts, offset));
    let side = width.saturating_sub(str_width(&label)) / 2;
    Line::from(Span::styled(
        format!("{}{label}{}", "─".repeat(side), "─".repeat(side)),
        theme.dim(),
    ))
}

pub fn render(st: &AppState, theme: &Theme, f: &mut Frame, area: Rect) -> Option<Position> {
    let Some(r) = &st.room else {
        lines(f, area, vec![Line::from(" No room open.")]);
        return None;
    };
    let composer_lines = st.composer.text().split('\n').count().clamp(1, 4) as u16;
    let uploading = st.composing.upload.as_ref().filter(|u| u.room == r.id);
    let mode_line = u16::from(st.compose_mode != ComposeMode::New) + u16::from(uploading.is_some());
    let [head, msgs, detail, composer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(u16::from(r.sel.is_some() && st.focus == Focus::Messages)),
        Constraint::Length(composer_lines + mode_line + 2),
    ])
    .areas(area);
    let title = header(st, r, theme, area.width as usize);
    let second = if r.encrypted {
        legend(theme, area.width)
    } else {
        Line::from(Span::styled(" not encrypted", theme.dim()))
    };
    lines(f, head, vec![title, second]);
    messages(st, r, theme, f, msgs);
    if detail.height > 0
        && let Some(i) = r.selected()
    {
        let mut text = explain(i);
        let links = super::message::links(i);
        if !links.is_empty() {
            text = format!("{text} · links: {}", links.join(" "));
        }
        let text = truncate(&text, detail.width.saturating_sub(1) as usize);
        lines(
            f,
            detail,
            vec![Line::from(Span::styled(format!(" {text}"), theme.dim()))],
        );
    }
    composer_box(st, theme, f, composer)
}

/// The room's name, members, what this device cannot read of it, and its
/// topic (server text: cleaned, first line, cut to fit).
fn header(st: &AppState, r: &OpenRoom, theme: &Theme, width: usize) -> Line<'static> {
    let enc = if r.encrypted { "🔒 " } else { "" };
    let name = match &r.thread {
        Some(_) => format!(" {enc}Thread in {} (Esc: back to the room)", r.name),
        None => format!(" {enc}{}", r.name),
    };
    let mut used = str_width(&name);
    let mut spans = vec![Span::styled(name, theme.title())];
    let mut push = |spans: &mut Vec<Span<'static>>, text: String, style| {
        let room = width.saturating_sub(used);
        if room < 4 {
            return;
        }
        let text = truncate(&text, room);
        used += str_width(&text);
        spans.push(Span::styled(text, style));
    };
    let summary = st.rooms.iter().find(|s| s.room_id == r.id);
    match summary {
        Some(s) => {
            if let Some(n) = s.members {
                let plural = if n == 1 { "" } else { "s" };
                push(&mut spans, format!("  {n} member{plural}"), theme.dim());
            }
        }
        None => push(&mut spans, format!("  {}", r.id), theme.dim()),
    }
    // Of the messages loaded: a trust summary at a glance.
    let unreadable = r.items.iter().filter(|i| i.utd_reason.is_some()).count();
    if unreadable > 0 {
        push(
            &mut spans,
            format!(
                " · {unreadable} not readable here ({})",
                backup_can_fix(st.backup.status.as_ref())
            ),
            theme.fg(theme.warn),
        );
    }
    if let Some(topic) = summary.and_then(|s| s.topic.as_deref()) {
        let first = topic.lines().next().unwrap_or_default();
        push(
            &mut spans,
            format!(" · {}", crate::terminal_text::clean(first)),
            theme.dim(),
        );
    }
    Line::from(spans)
}

/// Whether the key backup can make unreadable messages readable here.
fn backup_can_fix(status: Option<&crate::backup::status::BackupStatus>) -> &'static str {
    match status {
        None => "checking the backup…",
        Some(s) if s.server_version.is_none() => {
            "no key backup: only the sender's devices can share the keys"
        }
        Some(s) if !s.key_present => "the backup may hold the keys: unlock it on 3 Recovery",
        Some(s) if s.key_matches == Some(false) => {
            "this device's backup key does not open the server's backup"
        }
        Some(_) => "f on one asks the backup",
    }
}

fn messages(st: &AppState, r: &OpenRoom, theme: &Theme, f: &mut Frame, area: Rect) {
    let width = area.width as usize;
    let height = area.height as usize;
    let mut out: Vec<Line<'static>> = vec![];
    let Some(anchor) = r.anchor() else {
        let text = if r.loading || r.paginating {
            format!(" {} loading messages…", super::spinner(st))
        } else {
            " No messages yet. Say hello!".to_owned()
        };
        lines(f, area, vec![Line::from(Span::styled(text, theme.dim()))]);
        return;
    };
    // Build from the anchor back until the screen is full.
    let mut images: Vec<(usize, u16, crate::ui::preview::Preview)> = vec![];
    let mut links: Vec<super::message::LinkSpot> = vec![];
    let mut i = anchor as isize;
    while i >= 0 && out.len() < height {
        let it = &r.items[i as usize];
        let sel = r.sel == Some(i as usize) && st.focus == Focus::Messages;
        let view = super::message::View {
            me: st.me.as_deref(),
            offset: st.utc_offset,
            selected: sel,
            previews: &st.previews,
        };
        let drawn = super::message::lines(r, it, width, &view, theme);
        let mut block = drawn.lines;
        let mut above = 0;
        let prev = (i > 0).then(|| &r.items[i as usize - 1]);
        let new_day = prev.is_none_or(|p| !time::same_day(p.ts, it.ts, st.utc_offset));
        if r.unseen_from.is_some() && r.unseen_from == it.event_id {
            block.insert(0, marker_line(" new messages ", width, theme));
            above += 1;
        } else if it.read_marker {
            // Where this account stopped reading, on any device.
            block.insert(0, marker_line(" new since you last read ", width, theme));
            above += 1;
        }
        if new_day {
            block.insert(0, day_line(it.ts, st.utc_offset, width, theme));
            above += 1;
        }
        // Images and links keep their line in `out` as blocks are put in
        // front.
        for img in &mut images {
            img.0 += block.len();
        }
        for l in &mut links {
            l.line += block.len();
        }
        if let Some((line, col, p)) = drawn.image {
            images.push((line + above, col, p));
        }
        links.extend(drawn.links.into_iter().map(|mut l| {
            l.line += above;
            l
        }));
        block.append(&mut out);
        out = block;
        i -= 1;
    }
    if i < 0 && out.len() < height {
        let top = if r.paginating {
            format!(" {} loading older messages…", super::spinner(st))
        } else if r.reached_start && r.thread.is_some() {
            " — start of the thread —".to_owned()
        } else if r.reached_start {
            " — start of the room —".to_owned()
        } else {
            " ↑ older messages".to_owned()
        };
        out.insert(0, Line::from(Span::styled(top, theme.dim())));
        for img in &mut images {
            img.0 += 1;
        }
        for l in &mut links {
            l.line += 1;
        }
    }
    // Below the messages: how much is newer when reading history (so
    // nothing arrives unseen), and who is typing.
    let mut footer = vec![];
    let newer = r.newer();
    if newer > 0 {
        let s = if newer == 1 { "" } else { "s" };
        footer.push(Line::from(Span::styled(
            format!(" ↓ {newer} newer message{s} · End jumps to the newest"),
            theme.fg(theme.accent),
        )));
    }
    if let Some(t) = super::message::typing(&r.typing) {
        footer.push(Line::from(Span::styled(
            format!(" {}", truncate(&t, width.saturating_sub(2))),
            theme.dim().add_modifier(ratatui::style::Modifier::ITALIC),
        )));
    }
    // Never at the cost of every message line.
    footer.truncate(height.saturating_sub(1));
    let height = height - footer.len();
    let skip = out.len().saturating_sub(height);
    let mut shown: Vec<Line<'static>> = out.into_iter().skip(skip).collect();
    // Rows added above the messages (padding), for the images' places.
    let mut top_pad = 0;
    if !footer.is_empty() {
        let pad = height.saturating_sub(shown.len());
        top_pad += pad;
        shown.splice(0..0, std::iter::repeat_n(Line::from(""), pad));
        shown.extend(footer);
    }
    // Short rooms sit at the bottom, above the composer.
    let pad = height.saturating_sub(shown.len());
    top_pad += pad;
    let mut rows = vec![Line::from(""); pad];
    rows.extend(shown);
    f.render_widget(Paragraph::new(rows), area);
    // Links in view, for OSC 8 once the frame is on the terminal.
    for l in links {
        let Some(row) = (l.line + top_pad).checked_sub(skip) else {
            continue;
        };
        if l.line >= skip && row < height && l.col < area.width {
            let width = l.width.min(area.width - l.col);
            super::links::push(super::links::LinkArea {
                area: Rect::new(area.x + l.col, area.y + row as u16, width, 1),
                url: l.url,
            });
        }
    }
    // Previews over the blank lines kept for them, when wholly in view.
    for (line, col, p) in images {
        let Some(row) = (line + top_pad).checked_sub(skip) else {
            continue;
        };
        let fits = row + p.rows as usize <= height && (col + p.cols) <= area.width;
        if line >= skip && fits {
            let at = Rect::new(area.x + col, area.y + row as u16, p.cols, p.rows);
            f.render_widget(ratatui_image::Image::new(p.protocol()), at);
        }
    }
}

/// A full-width line with `text` in the middle, in the accent colour.
fn marker_line(text: &str, width: usize, theme: &Theme) -> Line<'static> {
    let side = width.saturating_sub(str_width(text)) / 2;
    let rest = width.saturating_sub(side + str_width(text));
    Line::from(Span::styled(
        format!("{}{text}{}", "─".repeat(side), "─".repeat(rest)),
        theme.fg(theme.accent),
    ))
}

fn composer_box(st: &AppState, theme: &Theme, f: &mut Frame, area: Rect) -> Option<Position> {
    let focused = st.focus == Focus::Composer;
    let in_thread = st.room.as_ref().is_some_and(|r| r.thread.is_some());
    let title = match (focused, in_thread) {
        (true, false) => " Message · Enter send · Alt-Enter new line · Tab completes · /commands ",
        (true, true) => " Reply in thread · Enter send · Alt-Enter new line ",
        (false, false) => " Message (i to write) ",
        (false, true) => " Reply in thread (i to write) ",
    };
    let border = if focused {
        theme.fg(theme.accent)
    } else {
        theme.dim()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(border)
        .title(Span::styled(title, border));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut rows = vec![];
    match &st.compose_mode {
        ComposeMode::New => {}
        ComposeMode::Reply { to, .. } => rows.push(Line::from(Span::styled(
            format!("↳ replying to {} (Esc cancels)", short(to)),
            theme.fg(theme.accent),
        ))),
        ComposeMode::Edit { .. } => rows.push(Line::from(Span::styled(
            "✎ editing your message (Esc cancels)",
            theme.fg(theme.accent),
        ))),
    }
    if let Some(u) = st
        .composing
        .upload
        .as_ref()
        .filter(|u| st.room.as_ref().is_some_and(|r| r.id == u.room))
    {
        rows.push(upload_line(u, theme, inner.width as usize));
    }
    let offset = rows.len() as u16;
    let text_lines: Vec<&str> = st.composer.text().split('\n').collect();
    let (cl, cc) = st.composer.cursor_line_col();
    let visible = inner.height.saturating_sub(offset) as usize;
    let first = cl.saturating_sub(visible.saturating_sub(1));
    let w = inner.width as usize;
    for l in text_lines.iter().skip(first).take(visible) {
        // Long lines scroll so the cursor stays in view.
        let chars: Vec<char> = l.chars().collect();
        let start = if chars.len() > w {
            cc.saturating_sub(w.saturating_sub(1))
        } else {
            0
        };
        rows.push(Line::from(
            chars.iter().skip(start).take(w).collect::<String>(),
        ));
    }
    f.render_widget(Paragraph::new(rows), inner);
    if focused {
        let line = text_lines.get(cl).copied().unwrap_or("");
        let chars: Vec<char> = line.chars().collect();
        let start = if chars.len() > w {
            cc.saturating_sub(w.saturating_sub(1))
        } else {
            0
        };
        let col = str_width(&chars[start..cc.min(chars.len())].iter().collect::<String>());
        Some(Position::new(
            inner.x + col as u16,
            inner.y + offset + (cl - first) as u16,
        ))
    } else {
        None
    }
}

/// "⇡ cat.png ██████░░░░ 62% · 1.2 of 2.0 MiB": a file being sent.
fn upload_line(
    u: &crate::matrix::protocol::UploadProgress,
    theme: &Theme,
    width: usize,
) -> Line<'static> {
    const BAR: usize = 20;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let (filled, tail) = if u.total == 0 {
        (0, "preparing…".to_owned())
    } else {
        let frac = (u.sent as f64 / u.total as f64).clamp(0.0, 1.0);
        (
            (frac * BAR as f64).round() as usize,
            format!(
                "{:>3}% · {:.1} of {:.1} MiB",
                (frac * 100.0).round() as u32,
                mib(u.sent),
                mib(u.total)
            ),
        )
    };
    let name = truncate(
        &crate::terminal_text::clean(&u.name),
        width.saturating_sub(BAR + 30).max(8),
    );
    Line::from(vec![
        Span::styled(format!("⇡ sending {name} "), theme.fg(theme.accent)),
        Span::styled("█".repeat(filled), theme.fg(theme.good)),
        Span::styled("░".repeat(BAR - filled), theme.dim()),
        Span::raw(format!(" {tail}")),
    ])
}
