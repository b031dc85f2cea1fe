//! The secret store's file fallback and the kernel keyring, for real.

use std::os::unix::fs::PermissionsExt;

use keepsake::config::SecretsBackend;
use keepsake::secrets::{Backend, SecretName, SecretStore, join_session_keyring};

#[test]
fn file_backend_round_trip_is_private_and_atomic() {
    let _env = crate::env_lock();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profiles/default");
    let (store, warning) = SecretStore::open(&profile, SecretsBackend::File).unwrap();
    assert_eq!(store.backend(), Backend::File);
    assert_eq!(warning, None, "an explicit choice is not warned about");
    assert_eq!(store.get(SecretName::Session).unwrap(), None);

    store
        .set(SecretName::Session, "{\"token\":\"syt_secret\"}")
        .unwrap();
    store
        .set(SecretName::StorePassphrase, "pass phrase")
        .unwrap();
    assert_eq!(
        store
            .get(SecretName::Session)
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("{\"token\":\"syt_secret\"}")
    );
    let file = profile.join("secrets.json");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!profile.join("secrets.json.tmp").exists());

    // A later run finds the recorded backend, even if asked for another one.
    let (again, _) = SecretStore::open(&profile, SecretsBackend::Auto).unwrap();
    assert_eq!(again.backend(), Backend::File);
    assert_eq!(
        again
            .get(SecretName::StorePassphrase)
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("pass phrase")
    );

    again.delete(SecretName::Session).unwrap();
    again.delete(SecretName::Session).unwrap();
    assert_eq!(again.get(SecretName::Session).unwrap(), None);
    assert!(again.get(SecretName::StorePassphrase).unwrap().is_some());
    assert!(!format!("{again:?}").contains("pass phrase"));
}

#[test]
fn corrupt_secrets_file_is_a_clear_error() {
    let _env = crate::env_lock();
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SecretStore::open(dir.path(), SecretsBackend::File).unwrap();
    store.set(SecretName::Session, "x").unwrap();
    std::fs::write(dir.path().join("secrets.json"), "{not json").unwrap();
    let e = store.get(SecretName::Session).unwrap_err().to_string();
    assert!(e.ends_with("not a keepsake secrets file"), "{e}");
}

#[test]
fn kernel_keyring_round_trip_across_stores() {
    let _env = crate::env_lock();
    // Session keyrings are per thread credentials: join in this test thread,
    // and do every keyring call from it.
    join_session_keyring();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p");
    // No D-Bus in this test process, so auto picks the kernel keyring.
    // SAFETY: every test in this binary holds `env_lock` while it runs.
    unsafe { std::env::remove_var("DBUS_SESSION_BUS_ADDRESS") };
    let (store, warning) = SecretStore::open(&profile, SecretsBackend::Keyring).unwrap();
    assert_eq!(store.backend(), Backend::KernelKeyring);
    assert_eq!(warning, None);
    store
        .set(SecretName::StorePassphrase, "kernel secret")
        .unwrap();

    let (other, _) = SecretStore::open(&profile, SecretsBackend::Auto).unwrap();
    assert_eq!(other.backend(), Backend::KernelKeyring);
    assert_eq!(
        other
            .get(SecretName::StorePassphrase)
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("kernel secret")
    );
    // Another profile directory never sees it.
    let (stranger, _) = SecretStore::open(&dir.path().join("q"), SecretsBackend::Keyring).unwrap();
    assert_eq!(stranger.get(SecretName::StorePassphrase).unwrap(), None);

    other.delete(SecretName::StorePassphrase).unwrap();
    assert_eq!(store.get(SecretName::StorePassphrase).unwrap(), None);
    assert!(
        !profile.join("secrets.json").exists(),
        "nothing written to a file"
    );
}

/// `auto` never picks the kernel keyring (it forgets at reboot): without a
/// Secret Service it takes the announced 0600 file.
#[test]
fn auto_prefers_a_durable_place_to_the_kernel_keyring() {
    let _env = crate::env_lock();
    join_session_keyring();
    // SAFETY: every test in this binary holds `env_lock` while it runs.
    unsafe { std::env::remove_var("DBUS_SESSION_BUS_ADDRESS") };
    let dir = tempfile::tempdir().unwrap();
    let (store, warning) = SecretStore::open(&dir.path().join("p"), SecretsBackend::Auto).unwrap();
    assert_eq!(store.backend(), Backend::File);
    let w = warning.expect("the fallback is announced");
    assert!(w.contains("secrets.json") && w.contains("0600"), "{w}");
}
