//! Recovery setup: the key shown once, the account password when asked.

use super::*;

#[test]
fn recovery_setup_shows_the_key_until_dismissed_and_copies_it() {
    let mut st = fixtures::logged_in();
    let fx = run(&mut st, "recovery setup");
    let ops = sent(&mut st, &fx);
    update(
        &mut st,
        done::<p::recovery::Setup>(ops[1], Ok(Secret::new(FAKE_RECOVERY_KEY))),
    );
    assert!(st.recovery.new_key.is_some());
    // A terminal that cannot take it: no copy is claimed, the key stays.
    let fx = press(&mut st, KeyCode::Char('y'));
    assert_eq!(fx, vec![]);
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("does not take clipboard writes"))
    );
    // Esc does not hide it either: only the deliberate "I have saved it".
    press(&mut st, KeyCode::Esc);
    assert!(st.recovery.new_key.is_some());
    st.clipboard = true;
    let fx = press(&mut st, KeyCode::Char('y'));
    assert_eq!(fx, vec![Effect::Copy(Secret::new(FAKE_RECOVERY_KEY))]);
    press(&mut st, KeyCode::Enter);
    assert!(st.recovery.new_key.is_none());
    assert!(!format!("{st:?}").contains("AAAA BBBB"));
}

/// Runs `:recovery setup`; the op its `Setup` command was sent as.
fn setup_sent(st: &mut AppState) -> OpId {
    let fx = run(st, "recovery setup");
    let ops = sent(st, &fx);
    let i = worker_cmds(&fx)
        .iter()
        .position(|c| matches!(c, Command::Recovery(p::recovery::Cmd::Setup(_))))
        .expect("recovery setup sends Setup");
    ops[i]
}

#[test]
fn recovery_setup_asks_for_the_account_password_when_the_server_wants_it() {
    let mut st = fixtures::in_room();
    let setup = setup_sent(&mut st);
    update(
        &mut st,
        done::<p::recovery::Setup>(
            setup,
            Err(Error::new(
                ErrorKind::PasswordNeeded,
                "the server wants the account password to upload the cross-signing keys",
            )),
        ),
    );
    assert_eq!(
        st.prompt.as_ref().map(|p| p.purpose),
        Some(PromptFor::AccountPassword)
    );
    typed(&mut st, "hunter2 is my password");
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        worker_cmds(&fx),
        vec![&Command::from(p::recovery::Setup {
            password: Some(Secret::new("hunter2 is my password")),
            passphrase: None,
        })]
    );
    assert!(st.prompt.is_none());
    assert_eq!(st.recovery.busy, Some("setting up recovery"));
    // Like any secret typed in a prompt, it is never sent as a message.
    st.screen = Screen::Timeline;
    st.focus = Focus::Composer;
    typed(&mut st, "hunter2 is my password");
    let fx = press(&mut st, KeyCode::Enter);
    assert!(worker_cmds(&fx).is_empty(), "{fx:?}");
}

#[test]
fn advice_names_the_tuis_own_commands() {
    let mut st = fixtures::logged_in();
    let setup = setup_sent(&mut st);
    let e = Error::from(crate::matrix::recovery::RecoveryError::AlreadySetUp);
    update(&mut st, done::<p::recovery::Setup>(setup, Err(e.clone())));
    let shown = st
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert_eq!(
        shown,
        "this account already has secret storage; run `:recovery unlock` on this device, or `keepsake recovery reset` to replace the key"
    );
    // The command line words the same error with its own commands.
    assert_eq!(
        e.phrase(crate::headless::step_name),
        "this account already has secret storage; run `keepsake recovery unlock` on this device, or `keepsake recovery reset` to replace the key"
    );
}
