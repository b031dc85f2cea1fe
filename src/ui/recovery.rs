//! Recovery: the state of cross-signing and secret storage, the new
//! recovery key shown once (groups of 4), unlock through a masked prompt.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::widgets::{lines, wrap};
use crate::app::AppState;
use crate::app::keys::Action;
use crate::matrix::recovery::group_key;

fn yes_no<'a>(label: &str, v: bool, theme: &Theme) -> Line<'a> {
    let (text, c) = if v {
        ("yes ✓", theme.good)
    } else {
        ("no", theme.warn)
    };
    Line::from(vec![
        Span::raw(format!("  {label:<36}")),
        Span::styled(text, theme.fg(c)),
    ])
}

pub fn render(st: &AppState, theme: &Theme, f: &mut Frame, area: Rect) {
    let r = &st.recovery;
    let mut out = vec![Line::from(Span::styled(
        " Recovery (cross-signing and secret storage)",
        theme.title(),
    ))];
    out.push(Line::from(""));
    if let Some(key) = &r.new_key {
        out.push(Line::from(Span::styled(
            "  Your new recovery key. Write it down now: it is shown only once.",
            theme.fg(theme.warn),
        )));
        out.push(Line::from(""));
        let grouped = group_key(key.expose());
        let groups: Vec<&str> = grouped.split(' ').collect();
        for chunk in groups.chunks(4) {
            out.push(Line::from(Span::styled(
                format!("      {}", chunk.join("  ")),
                theme.title(),
            )));
        }
        out.push(Line::from(""));
        out.push(Line::from(if st.clipboard {
            format!(
                "  {} copy it to the clipboard (OSC 52) · Enter I have saved it",
                st.keys.first(Action::Copy)
            )
        } else {
            "  Enter I have saved it (this terminal cannot take it on its clipboard)".to_owned()
        }));
        lines(f, area, out);
        return;
    }
    match &r.status {
        None => out.push(Line::from(Span::styled(
            format!("  {} reading the recovery state…", super::spinner(st)),
            theme.dim(),
        ))),
        Some(s) => {
            out.push(yes_no(
                "Cross-signing on the account",
                s.cross_signing_on_account,
                theme,
            ));
            out.push(yes_no(
                "This device holds the signing keys",
                s.cross_signing_complete,
                theme,
            ));
            out.push(yes_no("This device is verified", s.device_verified, theme));
            out.push(yes_no(
                "Secret storage on the account",
                s.secret_storage,
                theme,
            ));
            out.push(yes_no(
                "Backup key on this device",
                s.backup_key_present,
                theme,
            ));
            out.push(Line::from(""));
            let k = |a| st.keys.first(a);
            let advice = if !s.secret_storage {
                format!(
                    "  {} sets up cross-signing and secret storage and shows a recovery key.",
                    k(Action::Setup)
                )
            } else if !s.device_verified || !s.backup_key_present {
                format!(
                    "  {} unlocks with your recovery key or passphrase: this device gets verified and the backup key.",
                    k(Action::Unlock)
                )
            } else {
                "  All set: this device is verified and holds the backup key.".to_owned()
            };
            for l in wrap(&advice, area.width.saturating_sub(2) as usize) {
                out.push(Line::from(l));
            }
        }
    }
    if let Some(b) = r.busy {
        out.push(Line::from(Span::styled(
            format!("  {} {b}…", super::spinner(st)),
            theme.fg(theme.accent),
        )));
    }
    match &r.message {
        Some(Ok(m)) => out.push(Line::from(Span::styled(
            format!("  {m}"),
            theme.fg(theme.good),
        ))),
        Some(Err(e)) => {
            for l in wrap(e, area.width.saturating_sub(4) as usize) {
                out.push(Line::from(Span::styled(
                    format!("  {l}"),
                    theme.fg(theme.bad),
                )));
            }
        }
        None => {}
    }
    lines(f, area, out);
}
