//! Pure rendering: [`render`] draws an [`AppState`] into a frame and does
//! nothing else. One module per screen; dialogs draw over any screen.

pub mod backup;
pub mod devices;
pub mod help;
pub mod links;
pub mod login;
pub mod members;
pub mod message;
pub mod preview;
pub mod recovery;
pub mod rooms;
pub mod theme;
pub mod timeline;
pub mod verify;
pub mod widgets;

#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::keys::Action;
use crate::app::{AppState, Focus, Screen};
use crate::backup::health::Health;
use crate::matrix::protocol::SyncState;
pub use theme::Theme;
use widgets::{centered, dialog, input_line, truncate};

/// Below this the screens cannot be laid out; a message says so.
pub const MIN_WIDTH: u16 = 50;
pub const MIN_HEIGHT: u16 = 14;

const SPINNER: [&str; 4] = ["◐", "◓", "◑", "◒"];

pub fn spinner(st: &AppState) -> &'static str {
    SPINNER[(st.ticks / 2 % 4) as usize]
}

/// Draws the whole screen.
pub fn render(st: &AppState, theme: &Theme, f: &mut Frame) {
    links::clear();
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = vec![
            Line::from(Span::styled("terminal too small", theme.title())),
            Line::from(format!("{}x{}", area.width, area.height)),
            Line::from(format!("keepsake needs {MIN_WIDTH}x{MIN_HEIGHT}")),
        ];
        let box_area = centered(area, area.width, 3);
        f.render_widget(
            Paragraph::new(msg).alignment(ratatui::layout::Alignment::Center),
            box_area,
        );
        return;
    }
    if st.screen == Screen::Login {
        login::render(st, theme, f, area);
        return;
    }
    let [top, body, status, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    tabs(st, theme, f, top);
    let cursor = match st.screen {
        Screen::Login => None,
        Screen::Rooms | Screen::Timeline if body.width >= WIDE => side_by_side(st, theme, f, body),
        Screen::Rooms => rooms::render(st, theme, f, body, true),
        Screen::Timeline => timeline::render(st, theme, f, body),
        Screen::Backup => {
            backup::render(st, theme, f, body);
            None
        }
        Screen::Recovery => {
            recovery::render(st, theme, f, body);
            None
        }
        Screen::Devices => {
            devices::render(st, theme, f, body);
            None
        }
    };
    status_bar(st, theme, f, status);
    let cursor = bottom_line(st, theme, f, bottom).or(cursor);
    // Dialogs take the cursor (or hide it).
    let cursor = if let Some(p) = &st.prompt {
        Some(prompt(p, theme, f, body))
    } else if let Some(c) = &st.confirm {
        confirm(c, st.ticks, theme, f, body);
        None
    } else if st.verification.is_some() {
        verify::render(st, theme, f, body);
        None
    } else if st.help {
        help::render(st, theme, f, body);
        None
    } else if let Some(found) = &st.found {
        found_list(st, found, theme, f, body);
        None
    } else if let Some(at) = st.space_picker {
        space_picker(st, at, theme, f, body);
        None
    } else if let Some(v) = &st.members {
        members::render(v, theme, f, body);
        None
    } else {
        cursor
    };
    if let Some(c) = cursor {
        f.set_cursor_position(c);
    }
    // A dialog may cover the links: none are printed again then.
    let overlay = st.prompt.is_some()
        || st.confirm.is_some()
        || st.verification.is_some()
        || st.help
        || st.found.is_some()
        || st.space_picker.is_some()
        || st.members.is_some();
    if overlay {
        links::clear();
    }
}

/// From this width the room list stays in view beside the open room
/// (gomuks, iamb); narrower, one of them fills the screen.
pub const WIDE: u16 = 120;
/// The room list's width beside a room.
const SIDE: u16 = 34;

/// The room list and the open room side by side; the one in focus (the
/// screen's) takes the cursor and the bright title.
fn side_by_side(st: &AppState, theme: &Theme, f: &mut Frame, body: Rect) -> Option<Position> {
    let [left, rule, right] = Layout::horizontal([
        Constraint::Length(SIDE),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(body);
    let on_rooms = st.screen == Screen::Rooms;
    let list = rooms::render(st, theme, f, left, on_rooms);
    let rule_lines = (0..rule.height)
        .map(|_| Line::from(Span::styled("│", theme.dim())))
        .collect();
    widgets::lines(f, rule, rule_lines);
    let room = if st.room.is_some() {
        timeline::render(st, theme, f, right)
    } else {
        widgets::lines(
            f,
            right,
            vec![Line::from(Span::styled(
                " No room open: Enter opens the highlighted one.",
                theme.dim(),
            ))],
        );
        None
    };
    if on_rooms { list } else { room }
}

/// A destructive act's question, naming its target.
fn confirm(c: &crate::app::Confirm, ticks: u64, theme: &Theme, f: &mut Frame, body: Rect) {
    let w = body.width.min(70).saturating_sub(2);
    let mut out: Vec<Line> = widgets::wrap(&c.question, w as usize)
        .into_iter()
        .map(Line::from)
        .collect();
    out.push(Line::from(""));
    // Until the question could be read, a key only cancels; say so.
    let armed = ticks.saturating_sub(c.asked_at) >= crate::app::CONFIRM_ARM_TICKS;
    out.push(if armed {
        Line::from(Span::styled(
            "y yes · any other key: no",
            theme.fg(theme.accent),
        ))
    } else {
        Line::from(Span::styled("read this first · any key: no", theme.dim()))
    });
    let area = widgets::centered(body, w + 2, out.len() as u16 + 2);
    let inner = widgets::dialog(f, area, "Are you sure?", theme);
    widgets::lines(f, inner, out);
}

fn tabs(st: &AppState, theme: &Theme, f: &mut Frame, area: Rect) {
    // Narrow terminals keep the tabs and drop the name and the user.
    let wide = area.width >= 72;
    let mut spans = vec![if wide {
        Span::styled(" keepsake ", theme.title())
    } else {
        Span::raw("")
    }];
    let current = match st.screen {
        Screen::Timeline => Screen::Rooms,
        s => s,
    };
    for (action, screen, name) in [
        (Action::Rooms, Screen::Rooms, "Rooms"),
        (Action::Backup, Screen::Backup, "Backup"),
        (Action::Recovery, Screen::Recovery, "Recovery"),
        (Action::Devices, Screen::Devices, "Devices"),
    ] {
        let label = format!(" {} {name} ", st.keys.first(action));
        let style = if screen == current {
            theme.selected().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(label, style));
    }
    let left: usize = spans.iter().map(|s| s.width()).sum();
    let me = if wide {
        st.me.as_deref().unwrap_or("")
    } else {
        ""
    };
    let room = (area.width as usize).saturating_sub(left + 1);
    let me = truncate(me, room);
    let pad = room.saturating_sub(widgets::str_width(&me));
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(me, theme.dim()));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Sync state, a one-glance backup summary, and the latest notice.
fn status_bar(st: &AppState, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = vec![];
    let (sym, text, color) = match &st.sync {
        Some(SyncState::Synced) => ("●", "synced".to_owned(), theme.good),
        Some(SyncState::Running) | None => ("○", "connecting".to_owned(), theme.warn),
        Some(SyncState::Failing(_)) => ("✗", "sync failing".to_owned(), theme.bad),
        Some(SyncState::Stopped) => ("○", "offline".to_owned(), theme.dim),
    };
    spans.push(Span::styled(format!("{sym} {text}"), theme.fg(color)));
    spans.push(Span::styled(" │ ", theme.dim()));
    let (text, color) = backup_summary(st, theme);
    spans.push(Span::styled(text, theme.fg(color)));
    if st.incoming_verification.is_some() {
        spans.push(Span::styled(" │ ", theme.dim()));
        spans.push(Span::styled(
            "verification request (4)",
            theme.fg(theme.accent),
        ));
    }
    if let Some(n) = &st.notice {
        spans.push(Span::styled(" │ ", theme.dim()));
        let used: usize = spans.iter().map(|s| s.width()).sum();
        let room = (area.width as usize).saturating_sub(used);
        let style = if n.error {
            theme.fg(theme.bad)
        } else {
            Style::default()
        };
        // Notices quote server text (names, errors): cleaned here, once.
        let text = crate::terminal_text::clean(&n.text);
        spans.push(Span::styled(truncate(&text, room), style));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn backup_summary(st: &AppState, theme: &Theme) -> (String, ratatui::style::Color) {
    if st.backup.restoring {
        let p = st.backup.restore.as_ref();
        return (
            format!(
                "restoring {}/{} keys",
                p.map_or(0, |p| p.keys_done),
                p.map_or(0, |p| p.keys_total)
            ),
            theme.accent,
        );
    }
    let Some(s) = &st.backup.status else {
        return ("backup …".into(), theme.dim);
    };
    let upload = st.backup.upload.as_ref();
    match s.health(upload) {
        Health::Healthy => {
            let (local, done) = upload.map_or((s.local_sessions, s.backed_up), |p| {
                (p.local_sessions, p.backed_up)
            });
            let v = s.version.as_deref().or(s.server_version.as_deref());
            (
                format!("backup v{} ✓ {done}/{local}", v.unwrap_or("?")),
                theme.good,
            )
        }
        Health::Uploading { pending } => (
            format!("backup: uploading, {pending} pending"),
            theme.accent,
        ),
        Health::NoBackup => ("no backup".into(), theme.warn),
        Health::NoKey => ("backup: no key here".into(), theme.warn),
        Health::KeyMismatch { .. } => ("backup: key mismatch, see 2".into(), theme.bad),
        Health::Replaced { version, .. } => {
            (format!("backup replaced (v{version}): see 2"), theme.bad)
        }
        Health::UnsupportedAlgorithm { .. } => ("backup unreadable: see 2".into(), theme.bad),
        Health::Offline { .. } => ("backup: offline, keys wait".into(), theme.warn),
        Health::Error { .. } => ("backup failing: see 2".into(), theme.bad),
    }
}

/// `:space`: every room, then each space with its number of rooms.
fn space_picker(st: &AppState, at: usize, theme: &Theme, f: &mut Frame, body: Rect) {
    let spaces = st.spaces();
    let h = (spaces.len() as u16 + 3).min(body.height);
    let area = centered(body, 60, h);
    let inner = dialog(
        f,
        area,
        "Spaces · Enter shows its rooms · Esc closes",
        theme,
    );
    let mut out = vec![];
    let every = st.rooms.iter().filter(|r| !r.is_space).count();
    let mut entries = vec![(format!("every room ({every})"), st.space.is_none())];
    for s in &spaces {
        let n = st
            .rooms
            .iter()
            .filter(|r| !r.is_space && r.spaces.contains(&s.room_id))
            .count();
        let current = st.space.as_deref() == Some(s.room_id.as_str());
        entries.push((format!("{} ({n})", s.name), current));
    }
    for (i, (label, current)) in entries.into_iter().enumerate() {
        let style = if i == at {
            theme.selected()
        } else {
            Style::default()
        };
        let mark = if current { "● " } else { "  " };
        out.push(Line::from(Span::styled(
            widgets::truncate(&format!("{mark}{label}"), inner.width as usize),
            style,
        )));
    }
    let skip = at.saturating_sub((inner.height as usize).saturating_sub(1));
    widgets::lines(f, inner, out.into_iter().skip(skip).collect());
}

/// What the server found for `:search`, over the room.
fn found_list(
    st: &AppState,
    found: &crate::app::search::Results,
    theme: &Theme,
    f: &mut Frame,
    body: Rect,
) {
    let area = centered(body, 76, body.height.saturating_sub(2));
    let title = format!(
        "Server search: {} · Enter shows it · Esc closes",
        widgets::truncate(&found.query, 30)
    );
    let inner = dialog(f, area, &title, theme);
    let w = inner.width as usize;
    let mut out = vec![];
    if found.items.is_empty() {
        out.push(Line::from(Span::styled(
            format!(" {} asking the server…", spinner(st)),
            theme.dim(),
        )));
    }
    for (n, i) in found.items.iter().enumerate() {
        let style = if n == found.sel {
            theme.selected()
        } else {
            Style::default()
        };
        let head = format!(
            "{} {}: ",
            crate::app::time::hm(i.ts, st.utc_offset),
            timeline::short(&i.sender)
        );
        let body = widgets::truncate(
            &i.body.replace('\n', " "),
            w.saturating_sub(widgets::str_width(&head)),
        );
        out.push(Line::from(vec![
            Span::styled(head, style.fg(theme.dim)),
            Span::styled(body, style),
        ]));
    }
    // Keep the selected result in view.
    let skip = found
        .sel
        .saturating_sub((inner.height as usize).saturating_sub(1));
    widgets::lines(f, inner, out.into_iter().skip(skip).collect());
}

/// The command line, the filter, or the keys of the current screen.
fn bottom_line(st: &AppState, theme: &Theme, f: &mut Frame, area: Rect) -> Option<Position> {
    if let Some(line) = &st.cmdline {
        let (l, col) = input_line(":", line, true, area.width, theme);
        f.render_widget(Paragraph::new(l), area);
        return Some(Position::new(area.x + col, area.y));
    }
    if st.filtering {
        let (l, col) = input_line("/", &st.filter, true, area.width, theme);
        f.render_widget(Paragraph::new(l), area);
        return Some(Position::new(area.x + col, area.y));
    }
    if let Some(s) = &st.search
        && st.screen == Screen::Timeline
    {
        let status = crate::app::search::status(st);
        let room = area
            .width
            .saturating_sub(widgets::str_width(&status) as u16 + 3);
        let (mut l, col) = input_line("find: ", &s.input, true, room.max(10), theme);
        l.spans
            .push(Span::styled(format!("  {status}"), theme.dim()));
        f.render_widget(Paragraph::new(l), area);
        return Some(Position::new(area.x + col, area.y));
    }
    let k = |a| st.keys.first(a);
    use Action as A;
    let hints: Vec<(String, &str)> = match st.screen {
        Screen::Login => vec![],
        Screen::Rooms => vec![
            (k(A::Open), "open"),
            (k(A::Filter), "filter"),
            (k(A::AcceptInvite), "accept"),
            (k(A::DeclineInvite), "decline"),
        ],
        Screen::Timeline if st.focus == Focus::Composer => vec![
            ("Enter".into(), "send"),
            ("M-Enter".into(), "newline"),
            ("PgUp".into(), "scroll"),
            ("Esc".into(), "messages"),
        ],
        Screen::Timeline => {
            let room = st.room.as_ref();
            let sel = room.and_then(|r| r.selected());
            let mut v = vec![
                (k(A::Compose), "write"),
                (k(A::Reply), "reply"),
                (k(A::Edit), "edit"),
                (k(A::React), "react"),
                (k(A::Redact), "redact"),
            ];
            // What the selected message offers beyond the usual.
            if sel.is_some_and(|i| i.attachment.is_some()) {
                v.push((k(A::SaveFile), "save"));
                v.push((k(A::OpenFile), "open"));
            }
            if sel.is_some_and(|i| i.thread_replies > 0) && room.is_some_and(|r| r.thread.is_none())
            {
                v.push((k(A::Thread), "thread"));
            }
            v.push((k(A::FetchFromBackup), "fetch keys"));
            let back = if room.is_some_and(|r| r.thread.is_some()) {
                "room"
            } else {
                "rooms"
            };
            v.push((k(A::Back), back));
            v
        }
        Screen::Backup => vec![
            (k(A::Restore), "restore"),
            (k(A::Create), "create"),
            (k(A::Upload), "upload"),
            (k(A::UseCurrent), "adopt"),
            (k(A::Reset), "reset"),
            (
                k(A::Inspect),
                if st.backup.inspecting {
                    "status"
                } else {
                    "rooms"
                },
            ),
            (k(A::Refresh), "refresh"),
        ],
        Screen::Recovery if st.recovery.new_key.is_some() => {
            let mut v = vec![("Enter".into(), "I saved it")];
            if st.clipboard {
                v.insert(0, (k(A::Copy), "copy key"));
            }
            v
        }
        Screen::Recovery => vec![
            (k(A::Unlock), "unlock"),
            (k(A::Setup), "set up"),
            (k(A::Refresh), "refresh"),
        ],
        Screen::Devices => vec![(k(A::Verify), "verify"), (k(A::Refresh), "refresh")],
    };
    let mut spans = vec![];
    for (key, what) in hints
        .into_iter()
        .chain([(k(A::Help), "help"), (k(A::CommandLine), "command")])
    {
        spans.push(Span::styled(key, theme.fg(theme.accent)));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
    None
}

/// A masked prompt for a recovery key, passphrase or password.
fn prompt(p: &crate::app::Prompt, theme: &Theme, f: &mut Frame, body: Rect) -> Position {
    let area = centered(body, 64, 7);
    let inner = dialog(f, area, p.purpose.title(), theme);
    let (line, col) = input_line("> ", &p.input, true, inner.width, theme);
    let rows = vec![
        Line::from(p.purpose.label()),
        line,
        Line::from(""),
        Line::from(Span::styled("Enter confirm · Esc cancel", theme.dim())),
    ];
    widgets::lines(f, inner, rows);
    Position::new(inner.x + col, inner.y + 1)
}
