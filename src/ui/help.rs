//! The help overlay: every key (as configured) and every command.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme::Theme;
use super::widgets::{centered, dialog};
use crate::app::AppState;
use crate::app::keys::ACTIONS;

const COMMANDS: &[(&str, &str)] = &[
    (":join ROOM", "join a room (#alias:server or !id)"),
    (":leave [ROOM]", "leave this or another room"),
    (":invite USER [ROOM]", "invite someone"),
    (":create NAME", "create an encrypted room"),
    (":verify [USER] [DEVICE]", "verify a device by emoji"),
    (":devices [USER]", "list devices"),
    (
        ":backup [ACTION]",
        "restore create upload reset use-current",
    ),
    (":recovery [ACTION]", "unlock setup"),
    (":react EMOJI / :redact", "on the selected message"),
    (":quit", "quit"),
];

pub fn render(st: &AppState, theme: &Theme, f: &mut Frame, body: Rect) {
    let area = centered(body, 76, body.height);
    let inner = dialog(f, area, "Help · j/k scroll · any other key closes", theme);
    let mut out = vec![];
    out.push(Line::from(Span::styled("Keys", theme.title())));
    for (action, _, _, what) in ACTIONS {
        out.push(Line::from(vec![
            Span::styled(
                format!("  {:<18}", st.keys.label(*action)),
                theme.fg(theme.accent),
            ),
            Span::raw(*what),
        ]));
    }
    out.push(Line::from(vec![
        Span::styled(
            format!("  {:<18}", "M-Enter/S-Enter"),
            theme.fg(theme.accent),
        ),
        Span::raw("new line in the composer"),
    ]));
    out.push(Line::from(""));
    out.push(Line::from(Span::styled("Commands", theme.title())));
    for (c, what) in COMMANDS {
        out.push(Line::from(vec![
            Span::styled(format!("  {c:<26}"), theme.fg(theme.accent)),
            Span::raw(*what),
        ]));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        "In the composer (Tab completes /commands, @members, #rooms, :emoji:)",
        theme.title(),
    )));
    for (c, args, what) in crate::app::slash::COMMANDS {
        out.push(Line::from(vec![
            Span::styled(
                format!("  {:<26}", format!("/{c} {args}")),
                theme.fg(theme.accent),
            ),
            Span::raw(*what),
        ]));
    }
    for (c, what) in [
        ("//text", "send text that starts with /"),
        ("Up (empty composer)", "edit your last message"),
        ("C-w / C-u", "delete a word / to the line's start"),
        ("C-←/C-→", "move by words"),
    ] {
        out.push(Line::from(vec![
            Span::styled(format!("  {c:<26}"), theme.fg(theme.accent)),
            Span::raw(what),
        ]));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled("Trust marks", theme.title())));
    for (t, what) in [
        (
            crate::matrix::history::Trust::Verified,
            "sender's device verified",
        ),
        (
            crate::matrix::history::Trust::Unverified,
            "sender's device not verified",
        ),
        (
            crate::matrix::history::Trust::BackupTrusted,
            "key restored from the backup, trusted (a note says if the sender's device is not verified)",
        ),
        (
            crate::matrix::history::Trust::BackupUntrusted,
            "key restored from the backup, untrusted (reason shown)",
        ),
        (
            crate::matrix::history::Trust::Warning,
            "warning: the sender does not own the key's device, or their identity changed",
        ),
        (
            crate::matrix::history::Trust::Utd,
            "not decryptable (reason shown; f fetches from the backup)",
        ),
    ] {
        let (m, c) = super::timeline::mark(t, theme);
        out.push(Line::from(vec![
            Span::styled(format!("  {m:<4}"), theme.fg(c)),
            Span::raw(what),
        ]));
    }
    let max = (out.len() as u16).saturating_sub(inner.height);
    f.render_widget(
        Paragraph::new(out).scroll((st.help_scroll.min(max), 0)),
        inner,
    );
}
