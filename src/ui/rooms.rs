//! The room list: names, unread counts, encrypted marker, DMs, invites, a
//! filter.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::widgets::{lines, str_width, truncate};
use crate::app::AppState;

/// `focused`: the list has the keys (beside an open room it may not).
pub fn render(
    st: &AppState,
    theme: &Theme,
    f: &mut Frame,
    area: Rect,
    focused: bool,
) -> Option<Position> {
    let mut rows = vec![];
    let visible = st.visible_rooms();
    let all = st.chat_rooms().len();
    let space = st
        .space
        .as_ref()
        .map(|id| {
            let name = st
                .rooms
                .iter()
                .find(|r| &r.room_id == id)
                .map_or(id.as_str(), |r| r.name.as_str());
            format!(" in {name}")
        })
        .unwrap_or_default();
    let head = if st.filter.is_empty() {
        format!(" Rooms{space} ({all})")
    } else {
        format!(
            " Rooms{space} matching “{}” ({} of {all})",
            st.filter.text(),
            visible.len(),
        )
    };
    let head_style = if focused { theme.title() } else { theme.dim() };
    rows.push(Line::from(Span::styled(head, head_style)));
    if !st.rooms_loaded {
        rows.push(Line::from(Span::styled(
            format!(" {} loading rooms…", super::spinner(st)),
            theme.dim(),
        )));
    } else if visible.is_empty() {
        let text = if st.rooms.is_empty() {
            " No rooms yet. :join #room:server or :create NAME"
        } else {
            " No room matches the filter (Esc clears it)."
        };
        rows.push(Line::from(Span::styled(text, theme.dim())));
    }
    let height = area.height.saturating_sub(1) as usize;
    let first = st.room_sel.saturating_sub(height.saturating_sub(1));
    let w = area.width as usize;
    // Beside a room there is no column for "DM" or who invited: an
    // invitation shows in the warning colour instead.
    let compact = w < 60;
    for (i, r) in visible.iter().enumerate().skip(first).take(height) {
        let selected = i == st.room_sel;
        let invited = r.membership == "invited";
        let marker = if r.encrypted { "🔒" } else { "  " };
        let kind = if invited {
            format!("invite from {}", r.inviter.as_deref().unwrap_or("someone"))
        } else if r.is_dm {
            "DM".to_owned()
        } else {
            String::new()
        };
        // A mention shows as "@" before the count, in the warning colour.
        let unread = match (r.highlights, r.unread) {
            (0, 0) => "    ".to_owned(),
            (0, n) => format!("{n:>4}"),
            (_, n) => format!("{:>4}", format!("@{}", n.max(1))),
        };
        let kind_w = if compact { 0 } else { 34.min(w / 2) };
        let name_w = w.saturating_sub(2 + 4 + kind_w + 5 + 1);
        let name = truncate(&r.name, name_w);
        let pad = name_w.saturating_sub(str_width(&name));
        let kind = if compact {
            String::new()
        } else {
            truncate(&kind, kind_w)
        };
        let kind_pad = kind_w.saturating_sub(str_width(&kind));
        let base = if selected {
            theme.selected()
        } else {
            Style::default()
        };
        let name_style = if r.unread > 0 {
            base.add_modifier(Modifier::BOLD)
        } else {
            base
        };
        let name_style = if compact && invited {
            name_style.fg(theme.warn)
        } else {
            name_style
        };
        let kind_style = if invited {
            base.fg(theme.warn)
        } else {
            base.fg(theme.dim)
        };
        rows.push(Line::from(vec![
            Span::styled(if selected { "▶ " } else { "  " }, base),
            Span::styled(format!("{name}{}", " ".repeat(pad)), name_style),
            Span::styled(format!(" {marker} "), base),
            Span::styled(format!("{kind}{}", " ".repeat(kind_pad)), kind_style),
            Span::styled(
                format!(" {unread}"),
                if r.highlights > 0 {
                    base.fg(theme.warn).add_modifier(Modifier::BOLD)
                } else {
                    base.fg(theme.accent)
                },
            ),
        ]));
    }
    lines(f, area, rows);
    None
}
