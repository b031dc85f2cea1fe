//! A user's devices with their verification state.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::widgets::{lines, str_width, truncate};
use crate::app::AppState;

pub fn render(st: &AppState, theme: &Theme, f: &mut Frame, area: Rect) {
    let d = &st.devices;
    let whose = d
        .user
        .as_deref()
        .or(st.me.as_deref())
        .unwrap_or("your account");
    let mut out = vec![Line::from(Span::styled(
        format!(" Devices of {whose}"),
        theme.title(),
    ))];
    if let Some(i) = &st.incoming_verification {
        let who = if i.self_verification {
            format!(
                "Your device {}",
                i.from_device.as_deref().unwrap_or("(unknown)")
            )
        } else {
            i.flow.user.clone()
        };
        out.push(Line::from(Span::styled(
            truncate(
                &format!(
                    " ? {who} asks to verify this device · {} accept · {} decline",
                    st.keys.first(crate::app::keys::Action::Accept),
                    st.keys.first(crate::app::keys::Action::DeclineInvite)
                ),
                area.width as usize,
            ),
            theme.fg(theme.accent),
        )));
    }
    out.push(Line::from(Span::styled(
        format!("   {:<12} {:<30} {}", "Device", "Name", "State"),
        theme.dim(),
    )));
    if d.loading && d.list.is_empty() {
        out.push(Line::from(Span::styled(
            format!("   {} asking the server…", super::spinner(st)),
            theme.dim(),
        )));
    }
    if let Some(e) = &d.error {
        out.push(Line::from(Span::styled(
            format!("   {e}"),
            theme.fg(theme.bad),
        )));
    }
    for (i, dev) in d.list.iter().enumerate() {
        let base = if i == d.sel {
            theme.selected()
        } else {
            Style::default()
        };
        let name = truncate(dev.name.as_deref().unwrap_or(""), 30);
        let pad = 30usize.saturating_sub(str_width(&name));
        let (state, c) = if dev.verified {
            ("✓ verified", theme.good)
        } else {
            ("! not verified", theme.warn)
        };
        let mut spans = vec![
            Span::styled(if i == d.sel { " ▶ " } else { "   " }, base),
            Span::styled(format!("{:<12} ", truncate(&dev.device_id, 12)), base),
            Span::styled(format!("{name}{} ", " ".repeat(pad)), base),
            Span::styled(state, base.fg(c)),
        ];
        if dev.this_device {
            spans.push(Span::styled("  (this device)", base.fg(theme.dim)));
        }
        out.push(Line::from(spans));
    }
    lines(f, area, out);
}
