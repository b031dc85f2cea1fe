//! The backup screen: status, restore, the overview, reset and migration.

use super::*;

#[test]
fn the_backup_screen_asks_for_a_fresh_status() {
    let mut st = fixtures::logged_in();
    let fx = press(&mut st, KeyCode::Char('2'));
    assert_eq!(st.screen, Screen::Backup);
    assert!(st.backup.loading);
    // Our devices too, for the warning before a reset or migration.
    assert_eq!(
        fx,
        vec![
            Effect::worker(p::backup::Status),
            Effect::worker(p::devices::List { user: None })
        ]
    );
    let ops = sent(&mut st, &fx);
    let mut s = fixtures::healthy_backup();
    s.backed_up = 40;
    update(&mut st, done::<p::backup::Status>(ops[0], Ok(s.clone())));
    assert!(!st.backup.loading);
    assert_eq!(st.backup.status, Some(s));
    // The command line reaches it too.
    let mut st = fixtures::logged_in();
    press(&mut st, KeyCode::Char(':'));
    typed(&mut st, "backup");
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(st.screen, Screen::Backup);
    assert_eq!(fx[0], Effect::worker(p::backup::Status));
}

#[test]
fn restore_asks_for_the_key_when_the_device_lacks_it_and_shows_progress() {
    let mut st = fixtures::logged_in();
    st.backup.status = Some(fixtures::no_backup());
    press(&mut st, KeyCode::Char('2'));
    let fx = press(&mut st, KeyCode::Char('r'));
    assert!(fx.is_empty());
    assert_eq!(
        st.prompt.as_ref().map(|p| p.purpose),
        Some(PromptFor::BackupRestore)
    );
    typed(&mut st, FAKE_RECOVERY_KEY);
    let fx = press(&mut st, KeyCode::Enter);
    assert_eq!(
        fx,
        vec![Effect::worker(p::backup::Restore {
            key_or_passphrase: Some(Secret::new(FAKE_RECOVERY_KEY)),
            version: None,
        })]
    );
    assert!(st.prompt.is_none());
    assert!(st.backup.restoring);
    let ops = sent(&mut st, &fx);
    update(&mut st, Msg::Worker(Update::Restore(fixtures::restoring())));
    assert_eq!(st.backup.restore, Some(fixtures::restoring()));
    // Built on the default so fields the report grows keep this compiling.
    #[allow(clippy::needless_update)]
    let report = crate::backup::restore::RestoreReport {
        version: "7".into(),
        total: 400,
        imported: 400,
        skipped: Default::default(),
        trusted: 390,
        untrusted: 10,
        ..Default::default()
    };
    let fx = update(&mut st, done::<p::backup::Restore>(ops[0], Ok(report)));
    assert!(!st.backup.restoring);
    assert_eq!(fx, vec![Effect::worker(p::backup::Status)]);
    assert!(matches!(&st.backup.message, Some(Ok(m)) if m.contains("restored 400 of 400")));
}

#[test]
fn p_on_the_backup_screen_shows_the_overview_and_back() {
    let mut st = fixtures::logged_in();
    press(&mut st, KeyCode::Char('2'));
    let fx = press(&mut st, KeyCode::Char('p'));
    assert!(st.backup.inspecting);
    assert_eq!(worker_cmds(&fx), vec![&Command::from(p::backup::Inspect)]);
    let ops = sent(&mut st, &fx);
    update(
        &mut st,
        done::<p::backup::Inspect>(ops[0], Ok(fixtures::inspection())),
    );
    assert_eq!(st.backup.inspection, Some(fixtures::inspection()));
    let fx = press(&mut st, KeyCode::Char('p'));
    assert!(!st.backup.inspecting);
    assert!(fx.is_empty());
}

#[test]
fn restore_goes_straight_on_when_the_device_holds_the_key() {
    let mut st = fixtures::logged_in();
    let fx = run(&mut st, "backup restore");
    assert_eq!(
        worker_cmds(&fx),
        vec![
            &Command::from(p::backup::Status),
            &Command::from(p::devices::List { user: None }),
            &Command::from(p::backup::Restore {
                key_or_passphrase: None,
                version: None,
            })
        ]
    );
}

#[test]
fn reset_on_a_curve25519_backup_migrates_it() {
    let mut st = fixtures::logged_in();
    let mut status = fixtures::healthy_backup();
    status.server_algorithm = Some("m.megolm_backup.v1.curve25519-aes-sha2".into());
    st.backup.status = Some(status);
    press(&mut st, KeyCode::Char('2'));
    press(&mut st, KeyCode::Char('R'));
    assert!(
        st.confirm
            .as_ref()
            .is_some_and(|c| c.question.contains("Migrate backup version")),
        "{:?}",
        st.confirm
    );
    yes(&mut st);
    assert_eq!(
        st.prompt.as_ref().map(|p| p.purpose),
        Some(PromptFor::BackupReset)
    );
    typed(&mut st, FAKE_RECOVERY_KEY);
    let fx = press(&mut st, KeyCode::Enter);
    assert!(
        matches!(
            worker_cmds(&fx)[..],
            [Command::Backup(p::backup::Cmd::Migrate(p::backup::Migrate {
                key_or_passphrase,
                ..
            }))]
                if key_or_passphrase.expose() == FAKE_RECOVERY_KEY
        ),
        "{fx:?}"
    );
    // A symmetric backup is reset, not migrated.
    st.backup.status = Some(fixtures::healthy_backup());
    press(&mut st, KeyCode::Char('R'));
    assert!(
        st.confirm
            .as_ref()
            .is_some_and(|c| c.question.contains("first restored onto this device")),
        "{:?}",
        st.confirm
    );
    yes(&mut st);
    typed(&mut st, FAKE_RECOVERY_KEY);
    let fx = press(&mut st, KeyCode::Enter);
    assert!(
        matches!(
            worker_cmds(&fx)[..],
            [Command::Backup(p::backup::Cmd::Reset(
                p::backup::Reset { .. }
            ))]
        ),
        "{fx:?}"
    );
}
