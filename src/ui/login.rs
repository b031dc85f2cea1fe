//! The login screen: homeserver, user, masked password; errors in place.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::widgets::{centered, dialog, input_line, lines, wrap};
use crate::app::{AppState, LoginField};

pub fn render(st: &AppState, theme: &Theme, f: &mut Frame, area: Rect) {
    let form = &st.login;
    let area = centered(area, 66, 14);
    let inner = dialog(f, area, "keepsake · log in to Matrix", theme);
    let w = inner.width;
    let field = form.field();
    let (hs, hs_col) = input_line(
        "Homeserver  ",
        &form.homeserver,
        field == LoginField::Homeserver,
        w,
        theme,
    );
    let (user, user_col) = input_line(
        "User        ",
        &form.user,
        field == LoginField::User,
        w,
        theme,
    );
    let (pw, pw_col) = input_line(
        "Password    ",
        &form.password,
        field == LoginField::Password,
        w,
        theme,
    );
    let mut rows = vec![
        Line::from(""),
        hs,
        Line::from(""),
        user,
        Line::from(""),
        pw,
        Line::from(""),
    ];
    if form.busy {
        rows.push(Line::from(Span::styled(
            format!("{} logging in…", super::spinner(st)),
            theme.fg(theme.accent),
        )));
    } else if let Some(e) = &form.error {
        for l in wrap(e, w as usize) {
            rows.push(Line::from(Span::styled(l, theme.fg(theme.bad))));
        }
    } else {
        rows.push(Line::from(""));
    }
    while rows.len() < 10 {
        rows.push(Line::from(""));
    }
    rows.push(Line::from(Span::styled(
        "Enter log in · Tab next field · Esc quit",
        theme.dim(),
    )));
    lines(f, inner, rows);
    if !form.busy {
        let (row, col) = match field {
            LoginField::Homeserver => (1, hs_col),
            LoginField::User => (3, user_col),
            LoginField::Password => (5, pw_col),
        };
        f.set_cursor_position(Position::new(inner.x + col, inner.y + row));
    }
}
