//! Secrets typed where they do not belong are never sent; commands typed in the composer run.

use super::*;

#[test]
fn a_recovery_key_typed_into_the_composer_is_never_sent() {
    let mut st = fixtures::in_room();
    // A device without the backup key: the key goes to the restore prompt.
    st.backup.status = Some(fixtures::no_backup());
    let key = crate::crypto::recovery_key::encode(&crate::crypto::SecretKey::from_bytes([9; 32]));
    // Pasted, as the demo's newcomer did, after a colon-less command.
    update(&mut st, Msg::Paste(format!("my key {}", key.as_str())));
    let fx = press(&mut st, KeyCode::Enter);
    assert!(worker_cmds(&fx).is_empty(), "{fx:?}");
    assert!(st.composer.is_empty());
    // It waits in the masked prompt, where it was meant to go.
    let p = st.prompt.as_ref().expect("the prompt");
    assert_eq!(p.purpose, PromptFor::BackupRestore);
    assert!(p.input.masked);
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("not sent"))
    );
}

#[test]
fn a_passphrase_typed_in_a_prompt_is_never_sent() {
    let mut st = fixtures::in_room();
    st.prompt = Some(Prompt {
        purpose: PromptFor::RecoveryUnlock,
        input: TextInput::masked(),
    });
    typed(&mut st, "correct horse battery staple");
    press(&mut st, KeyCode::Enter);
    assert!(st.prompt.is_none());
    st.focus = Focus::Composer;
    typed(&mut st, "it is correct horse battery staple, ok?");
    let fx = press(&mut st, KeyCode::Enter);
    assert!(worker_cmds(&fx).is_empty(), "{fx:?}");
    // The draft stays, to be edited.
    assert_eq!(
        st.composer.text(),
        "it is correct horse battery staple, ok?"
    );
    assert!(
        st.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("not sent"))
    );
}

#[test]
fn a_command_typed_into_the_composer_runs_and_is_not_sent() {
    let mut st = fixtures::in_room();
    typed(&mut st, ":backup restore");
    let fx = press(&mut st, KeyCode::Enter);
    assert!(
        !worker_cmds(&fx).iter().any(|c| matches!(
            c,
            Command::Rooms(p::rooms::Cmd::SendText(p::rooms::SendText { .. }))
        )),
        "{fx:?}"
    );
    assert!(st.composer.is_empty());
    assert!(st.prompt.is_some() || !worker_cmds(&fx).is_empty());
    // A smiley is text, and so is a line that starts with a space.
    for text in [":)", " :backup restore"] {
        st.prompt = None;
        st.screen = Screen::Timeline;
        st.focus = Focus::Composer;
        typed(&mut st, text);
        let fx = press(&mut st, KeyCode::Enter);
        assert!(
            worker_cmds(&fx)
                .iter()
                .any(|c| matches!(c, Command::Rooms(p::rooms::Cmd::SendText(p::rooms::SendText { text: t, .. })) if t == text)),
            "{text:?}: {fx:?}"
        );
    }
}
