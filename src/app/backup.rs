//! The backup screen: its keys, restore, reset, and what the backup's outcomes say.

use super::*;

/// What a backup reset does, said plainly for its question.
pub(super) fn reset_question(st: &AppState) -> String {
    let s = st.backup.status.as_ref();
    let version = s.and_then(|s| s.server_version.clone().or(s.version.clone()));
    let curve = s.and_then(|s| s.server_algorithm.as_deref())
        == Some(crate::backup::entry::CURVE25519_ALGORITHM);
    let q = match (version, curve) {
        (Some(v), true) => format!(
            "Migrate backup version {v} (curve25519) into a new symmetric backup? Its keys are restored here first, then uploaded to the new version (marked untrusted)."
        ),
        (Some(v), false) => format!(
            "Reset the backup? Every key of version {v} is first restored onto this device (if that fails, nothing changes) and its key is kept in secret storage; then a new key and version replace it, and every key here is uploaded to the new one."
        ),
        (None, _) => "Create a new backup version with a new key?".to_owned(),
    };
    // The device list is ours unless the devices screen shows someone else.
    let warning = if st.devices.user.is_none() && !st.devices.list.is_empty() {
        crate::backup::readers::warning(&st.devices.list)
    } else {
        None
    };
    match warning {
        Some(w) => format!("{q} {w}"),
        None => q,
    }
}

/// `s` cut to `n` characters with an ellipsis.
pub(super) fn widgets_free_truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

pub(super) fn has_backup_key(st: &AppState) -> bool {
    st.backup.status.as_ref().is_some_and(|s| s.key_present)
        || st
            .recovery
            .status
            .as_ref()
            .is_some_and(|s| s.backup_key_present)
}

/// Restore at once when this device holds the key, else ask for the
/// recovery key or passphrase first.
pub(super) fn restore_or_ask(st: &mut AppState, fx: &mut Vec<Effect>) {
    if has_backup_key(st) {
        start_restore(st, None, fx);
    } else {
        ask(st, PromptFor::BackupRestore);
    }
}

/// One line for a finished restore: what came back, and what was not
/// taken and why.
pub(super) fn restored_text(r: &crate::backup::restore::RestoreReport) -> String {
    let mut text = format!(
        "restored {} of {} keys from version {} ({} trusted, {} untrusted)",
        r.imported, r.total, r.version, r.trusted, r.untrusted
    );
    let skipped: usize = r.skipped.values().sum();
    for (n, what) in [
        (skipped, "damaged entries skipped"),
        (r.room_conflicts, "filed under the wrong room, skipped"),
        (
            r.rooms_unreadable.len(),
            "rooms unreadable, tried again next time",
        ),
    ] {
        if n > 0 {
            text.push_str(&format!("; {n} {what}"));
        }
    }
    text
}

/// What a change to the backup (create, adopt, reset, migrate, delete) did.
pub(super) fn backup_changed(done: p::backup::Done) -> Result<String, String> {
    use p::backup::Done;
    match done {
        Done::Create(Ok(c)) | Done::UseCurrent(Ok(c)) => Ok(format!(
            "using backup version {} ({})",
            c.version, c.algorithm
        )),
        Done::Reset(Ok(r)) => Ok(match r.replaced.and_then(|o| o.restored) {
            Some(rep) => format!(
                "restored {} keys of version {} first; uploading every key to the new version {}",
                rep.imported, rep.version, r.created.version
            ),
            None => format!(
                "uploading every key to the new version {}",
                r.created.version
            ),
        }),
        Done::Migrate(Ok(m)) => Ok(format!(
            "restored {} keys from the curve25519 backup; uploading them to the new version {}",
            m.restored.imported, m.created.version
        )),
        Done::Delete(Ok(())) => Ok("done".into()),
        other => Err(other.error().map_or_else(|| "done".to_owned(), said)),
    }
}

/// The backup screen's keys; `true` when one was used.
pub(super) fn key(st: &mut AppState, k: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    use Action as A;
    let keys = st.keys.clone();
    match keys.which(
        k,
        &[
            A::Restore,
            A::Create,
            A::Upload,
            A::UseCurrent,
            A::Reset,
            A::Inspect,
            A::Refresh,
            A::Back,
        ],
    ) {
        Some(A::Inspect) => {
            st.backup.inspecting = !st.backup.inspecting;
            if st.backup.inspecting {
                st.backup.inspect_error = None;
                fx.push(Effect::worker(p::backup::Inspect));
            }
        }
        Some(A::Restore) => restore_or_ask(st, fx),
        Some(A::Create) => ask(st, PromptFor::BackupCreate),
        Some(A::Reset) => {
            let q = reset_question(st);
            ask_confirm(st, q, ConfirmAct::BackupReset);
        }
        Some(A::Upload) => {
            st.backup.message = None;
            fx.push(Effect::worker(p::backup::Upload));
        }
        Some(A::UseCurrent) => {
            st.backup.busy = Some("adopting the server's version");
            st.backup.message = None;
            fx.push(Effect::worker(p::backup::UseCurrent));
        }
        Some(A::Refresh) => {
            go(st, Screen::Backup, fx);
            if st.backup.inspecting {
                fx.push(Effect::worker(p::backup::Inspect));
            }
        }
        Some(A::Back) => back(st),
        _ => return false,
    }
    true
}

/// The backup's outcomes.
pub(super) fn finished(st: &mut AppState, done: p::backup::Done, fx: &mut Vec<Effect>) {
    use p::backup::Done;
    match done {
        Done::Inspect(Ok(i)) => {
            st.backup.inspection = Some(i);
            st.backup.inspect_error = None;
        }
        Done::Inspect(Err(e)) => st.backup.inspect_error = Some(said(&e)),
        Done::Status(Ok(s)) => {
            st.backup.loading = false;
            st.backup.status = Some(s);
        }
        Done::Status(Err(e)) => {
            st.backup.loading = false;
            st.backup.message = Some(Err(said(&e)));
        }
        Done::Restore(res) => {
            st.backup.restoring = false;
            match res {
                Ok(r) => {
                    let text = restored_text(&r);
                    st.backup.message = Some(Ok(text.clone()));
                    st.backup.last_restore = Some(r);
                    notice(st, text, false);
                }
                Err(e) => {
                    st.backup.message = Some(Err(said(&e)));
                    notice(st, format!("restore failed: {}", said(&e)), true);
                }
            }
            fx.push(Effect::worker(p::backup::Status));
        }
        done @ (Done::Create(_)
        | Done::UseCurrent(_)
        | Done::Reset(_)
        | Done::Migrate(_)
        | Done::Delete(_)) => {
            st.backup.busy = None;
            st.backup.message = Some(backup_changed(done));
            fx.push(Effect::worker(p::backup::Status));
        }
        Done::Upload(Ok(())) | Done::Flush(Ok(_)) => {
            st.backup.message = Some(Ok("uploading what is pending".into()));
        }
        other => error_notice(st, other.error()),
    }
}
