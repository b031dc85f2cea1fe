//! The recovery screen: setup, unlock, the new key shown once, and its outcomes.

use super::*;

pub(super) fn recovery_setup(st: &mut AppState, fx: &mut Vec<Effect>) {
    st.recovery.busy = Some("setting up recovery");
    st.recovery.message = None;
    fx.push(Effect::worker(p::recovery::Setup {
        password: None,
        passphrase: None,
    }));
}

/// The recovery screen's keys; `true` when one was used.
pub(super) fn key(st: &mut AppState, k: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    use Action as A;
    let keys = st.keys.clone();
    if st.recovery.new_key.is_some() {
        // The key is on screen: copy it, or confirm it is saved.
        if keys.is(A::Copy, k) {
            if !st.clipboard {
                notice(
                    st,
                    "this terminal does not take clipboard writes (OSC 52): write the key down from the screen",
                    true,
                );
            } else if let Some(key) = &st.recovery.new_key {
                fx.push(Effect::Copy(key.clone()));
                notice(st, "recovery key copied to the clipboard (OSC 52)", false);
            }
        } else if keys.is(A::Open, k) {
            // Only a deliberate "I have saved it" hides the key:
            // Esc, a slip, would lose it for good.
            st.recovery.new_key = None;
            st.recovery.message = Some(Ok("the recovery key is no longer shown".into()));
        }
        return true;
    }
    match keys.which(k, &[A::Setup, A::Unlock, A::Refresh, A::Back]) {
        Some(A::Setup) => recovery_setup(st, fx),
        Some(A::Unlock) => ask(st, PromptFor::RecoveryUnlock),
        Some(A::Refresh) => go(st, Screen::Recovery, fx),
        Some(A::Back) => back(st),
        _ => return false,
    }
    true
}

/// Recovery's outcomes.
pub(super) fn finished(st: &mut AppState, done: p::recovery::Done, fx: &mut Vec<Effect>) {
    use p::recovery::Done;
    match done {
        Done::Status(Ok(s)) => {
            st.recovery.loading = false;
            st.recovery.status = Some(s);
        }
        Done::Setup(Ok(k)) | Done::Reset(Ok(k)) => {
            st.recovery.busy = None;
            // The backup in the same step, with the key just made (as the
            // CLI's `recovery setup` does), unless the account has one.
            let has_backup = st
                .backup
                .status
                .as_ref()
                .is_some_and(|s| s.server_version.is_some());
            if !has_backup {
                st.backup.busy = Some("creating a backup");
                st.backup.message = None;
                fx.push(Effect::worker(p::backup::Create {
                    key_or_passphrase: k.clone(),
                    algorithm: st.backup_algorithm.clone(),
                }));
            }
            st.recovery.new_key = Some(k);
            st.screen = Screen::Recovery;
            fx.push(Effect::worker(p::recovery::Status));
        }
        Done::Unlock(Ok(u)) => {
            st.recovery.busy = None;
            let mut text = String::from("unlocked");
            if u.device_verified {
                text.push_str("; this device is verified");
            }
            if u.backup_key {
                text.push_str("; the backup key is on this device");
            }
            st.recovery.message = Some(Ok(text.clone()));
            notice(st, text, false);
            fx.push(Effect::worker(p::recovery::Status));
            fx.push(Effect::worker(p::backup::Status));
            if let Some((room, session_ids)) = st.fetch_after_unlock.take() {
                notice(st, "fetching this message's key from the backup…", false);
                fx.push(Effect::worker(p::backup::Fetch { room, session_ids }));
            }
        }
        // The server wants the account password: ask for it, then set up
        // again with it (Element asks the same way).
        Done::Setup(Err(e)) if e.kind == ErrorKind::PasswordNeeded => {
            st.recovery.busy = None;
            st.screen = Screen::Recovery;
            ask(st, PromptFor::AccountPassword);
            notice(
                st,
                "the server wants your account password to set up cross-signing",
                false,
            );
        }
        Done::Setup(Err(e)) | Done::Reset(Err(e)) | Done::Unlock(Err(e)) => {
            st.fetch_after_unlock = None;
            st.recovery.busy = None;
            st.recovery.message = Some(Err(said(&e)));
            notice(st, said(&e), true);
        }
        Done::Status(Err(e)) => notice(st, said(&e), true),
    }
}
