//! The members view: who is in the open room, their power and whether this
//! device has verified them (the SDK's verdicts, a changed identity always
//! shown); `v` asks the selected member to verify.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::widgets::{self, centered, dialog};
use crate::app::members::MembersView;
use crate::terminal_text::clean;

pub fn render(v: &MembersView, theme: &Theme, f: &mut Frame, body: Rect) {
    let area = centered(body, 78, body.height.saturating_sub(2));
    let title = format!(
        "Members ({}){} · v verify · Esc closes",
        v.list.len(),
        if v.loading { " · updating…" } else { "" }
    );
    let inner = dialog(f, area, &title, theme);
    let w = inner.width as usize;
    let mut out = vec![];
    for (i, m) in v.list.iter().enumerate() {
        let (mark, color) = match m.verification {
            "verified" => ("✓ verified  ", theme.good),
            "changed" => ("⚠ changed   ", theme.bad),
            "unverified" => ("· unverified", theme.warn),
            _ => ("? no keys   ", theme.warn),
        };
        let power = match m.power_level {
            i64::MAX => "creator".to_owned(),
            100.. => "admin".to_owned(),
            50..=99 => "mod".to_owned(),
            0 => String::new(),
            n => n.to_string(),
        };
        let invited = if m.membership == "invite" {
            " (invited)"
        } else {
            ""
        };
        let name = clean(m.display_name.as_deref().unwrap_or("")).into_owned();
        let who = if name.is_empty() {
            clean(&m.user_id).into_owned()
        } else {
            format!("{name} {}", clean(&m.user_id))
        };
        let rest = widgets::truncate(&format!(" {power:>7} {who}{invited}"), w.saturating_sub(12));
        let style = if i == v.sel {
            theme.selected()
        } else {
            Style::default()
        };
        out.push(Line::from(vec![
            Span::styled(mark, theme.fg(color).patch(style)),
            Span::styled(rest, style),
        ]));
    }
    if out.is_empty() {
        out.push(Line::from(Span::styled(
            if v.loading { " loading…" } else { " nobody" },
            theme.dim(),
        )));
    }
    let skip = v
        .sel
        .saturating_sub((inner.height as usize).saturating_sub(1));
    widgets::lines(f, inner, out.into_iter().skip(skip).collect());
}
