//! The login screen: its form and keys.

use super::*;

pub(super) fn login_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    if st.login.busy {
        return;
    }
    let f = &mut st.login;
    match k.code {
        KeyCode::Esc => st.quit = true,
        KeyCode::Tab | KeyCode::Down => f.focus = (f.focus + 1) % 3,
        KeyCode::BackTab | KeyCode::Up => f.focus = (f.focus + 2) % 3,
        KeyCode::Enter => {
            if f.homeserver.is_empty() {
                f.focus = 0;
                f.error = Some("the homeserver is missing".into());
            } else if f.user.is_empty() {
                f.focus = 1;
                f.error = Some("the user is missing".into());
            } else if f.password.is_empty() {
                f.focus = 2;
                if f.field() != LoginField::Password {
                    f.error = None;
                } else {
                    f.error = Some("the password is missing".into());
                }
            } else {
                f.busy = true;
                f.error = None;
                st.typed_secrets.remember(f.password.text());
                fx.push(Effect::Login {
                    homeserver: f.homeserver.text().trim().to_owned(),
                    user: f.user.text().trim().to_owned(),
                    password: Secret(f.password.take()),
                });
            }
        }
        _ => {
            f.input_mut().edit(&k);
        }
    }
}
