//! The masked prompt for a recovery key, passphrase or password, and what each answer starts.

use super::*;

pub(super) fn prompt_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(p) = &mut st.prompt else { return };
    match k.code {
        KeyCode::Esc => st.prompt = None,
        KeyCode::Enter => {
            if p.input.is_empty() {
                return;
            }
            let secret = Secret(p.input.take());
            let purpose = p.purpose;
            st.prompt = None;
            st.typed_secrets.remember(secret.expose());
            let algorithm = st.backup_algorithm.clone();
            let cmd: Command = match purpose {
                PromptFor::RecoveryUnlock => {
                    st.recovery.busy = Some("unlocking");
                    st.recovery.message = None;
                    p::recovery::Unlock {
                        key_or_passphrase: secret,
                    }
                    .into()
                }
                PromptFor::BackupCreate => {
                    st.backup.busy = Some("creating a backup");
                    st.backup.message = None;
                    p::backup::Create {
                        key_or_passphrase: secret,
                        algorithm,
                    }
                    .into()
                }
                PromptFor::BackupReset => {
                    st.backup.message = None;
                    let curve = st.backup.status.as_ref().is_some_and(|s| {
                        s.server_algorithm.as_deref()
                            == Some(crate::backup::entry::CURVE25519_ALGORITHM)
                    });
                    if curve {
                        // An Element-style backup: move it into a symmetric
                        // one rather than leave its keys behind.
                        st.backup.busy = Some("migrating the curve25519 backup");
                        p::backup::Migrate {
                            key_or_passphrase: secret,
                            algorithm,
                        }
                        .into()
                    } else {
                        st.backup.busy = Some("resetting the backup");
                        p::backup::Reset {
                            key_or_passphrase: secret,
                            algorithm,
                        }
                        .into()
                    }
                }
                PromptFor::BackupRestore => {
                    return start_restore(st, Some(secret), fx);
                }
                PromptFor::AccountPassword => {
                    st.recovery.busy = Some("setting up recovery");
                    st.recovery.message = None;
                    p::recovery::Setup {
                        password: Some(secret),
                        passphrase: None,
                    }
                    .into()
                }
            };
            fx.push(Effect::Worker(cmd));
        }
        _ => {
            p.input.edit(&k);
        }
    }
}

pub(super) fn start_restore(st: &mut AppState, secret: Option<Secret>, fx: &mut Vec<Effect>) {
    if st.backup.restoring {
        return notice(st, "a restore is already running", false);
    }
    st.backup.restoring = true;
    st.backup.restore = None;
    st.backup.message = None;
    fx.push(Effect::worker(p::backup::Restore {
        key_or_passphrase: secret,
        version: None,
    }));
}

pub(super) fn ask(st: &mut AppState, purpose: PromptFor) {
    st.prompt = Some(Prompt {
        purpose,
        input: TextInput::masked(),
    });
}
