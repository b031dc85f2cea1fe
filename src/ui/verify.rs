//! The verification dialog: an incoming request, the 7 emoji with their
//! names, and how it ended.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::widgets::{centered, dialog, emoji_grid, lines, wrap};
use crate::app::AppState;
use crate::app::keys::Action;
use crate::matrix::verify::VerifyState;

pub fn render(st: &AppState, theme: &Theme, f: &mut Frame, body: Rect) {
    let Some(d) = &st.verification else { return };
    let w = body.width.min(80).saturating_sub(2);
    let who = if d.self_verification {
        "your other device".to_owned()
    } else {
        d.flow.user.clone()
    };
    let k = |a| st.keys.first(a);
    let mut out = vec![];
    let mut text = |s: String, style| {
        for l in wrap(&s, w as usize) {
            out.push(Line::from(Span::styled(l, style)));
        }
    };
    let plain = ratatui::style::Style::default();
    match &d.state {
        VerifyState::Incoming { from_device } => {
            text(
                format!(
                    "{} ({}) asks to verify this device.",
                    d.flow.user,
                    from_device
                        .as_deref()
                        .map_or("a device".into(), |x| format!("device {x}"))
                ),
                plain,
            );
            text(String::new(), plain);
            let hint = if d.busy {
                format!("{} accepting…", super::spinner(st))
            } else {
                format!("{} accept · Esc decline", k(Action::Accept))
            };
            text(hint, theme.fg(theme.accent));
        }
        VerifyState::Requested => text(
            format!(
                "{} waiting for the other device to accept… (Esc cancels)",
                super::spinner(st)
            ),
            plain,
        ),
        VerifyState::Ready => text(
            format!("{} starting the emoji comparison…", super::spinner(st)),
            plain,
        ),
        VerifyState::Emoji { emoji } => {
            text(
                "Do these emoji appear on the other device, in this order?".into(),
                plain,
            );
            text(String::new(), plain);
            out.extend(emoji_grid(emoji, w));
            let hint = if d.busy {
                format!("{} sending your answer…", super::spinner(st))
            } else if st.ticks.saturating_sub(d.shown_at) < crate::app::EMOJI_MIN_TICKS {
                // Nothing to press yet: the user looks at the emoji first.
                "compare them with the other device…".to_owned()
            } else {
                format!(
                    "{} they match · {} they do not match · Esc cancel",
                    k(Action::Confirm),
                    k(Action::Mismatch)
                )
            };
            out.push(Line::from(Span::styled(hint, theme.fg(theme.accent))));
        }
        VerifyState::Confirmed => text(
            format!(
                "{} confirmed; waiting for the other device to confirm…",
                super::spinner(st)
            ),
            plain,
        ),
        VerifyState::Done { device } => {
            text(
                format!(
                    "✓ Verified{}.",
                    device
                        .as_deref()
                        .map_or(String::new(), |x| format!(" device {x}"))
                ),
                theme.fg(theme.good),
            );
            text("Any key closes.".into(), theme.dim());
        }
        VerifyState::Cancelled { reason } => {
            text(format!("✗ Cancelled: {reason}"), theme.fg(theme.bad));
            text("Any key closes.".into(), theme.dim());
        }
    }
    let area = centered(body, w + 2, out.len() as u16 + 2);
    let inner = dialog(f, area, &format!("Verification with {who}"), theme);
    lines(f, inner, out);
}
