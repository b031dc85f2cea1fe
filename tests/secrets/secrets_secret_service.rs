//! The Secret Service backend against a real gnome-keyring on a private D-Bus
//! session bus (Debian packages dbus-daemon, gnome-keyring, libsecret-tools;
//! `scripts/deps` installs them). It sets
//! DBUS_SESSION_BUS_ADDRESS for the process.

use std::io::Write;
use std::process::{Command, Stdio};

use keepsake::config::SecretsBackend;
use keepsake::secrets::{Backend, SecretName, SecretStore};

struct Daemons {
    bus_pid: u32,
    keyring_pid: Option<u32>,
    _home: tempfile::TempDir,
}

impl Drop for Daemons {
    fn drop(&mut self) {
        for pid in self.keyring_pid.into_iter().chain([self.bus_pid]) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

fn which(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn start_secret_service() -> Daemons {
    for cmd in ["dbus-daemon", "gnome-keyring-daemon", "secret-tool"] {
        assert!(
            which(cmd),
            "{cmd} is missing: run scripts/deps (installs dbus-daemon, gnome-keyring, libsecret-tools)"
        );
    }
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("dbus-daemon")
        .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
        .output()
        .expect("dbus-daemon");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = text.lines();
    let address = lines.next().expect("bus address").trim().to_owned();
    let bus_pid: u32 = lines.next().expect("bus pid").trim().parse().unwrap();
    // SAFETY: every test in this binary holds `env_lock` while it runs.
    unsafe {
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
        std::env::set_var("XDG_DATA_HOME", home.path());
        std::env::set_var("XDG_RUNTIME_DIR", home.path());
    }
    let mut child = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets", "--daemonize"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"test-keyring-password")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let env = String::from_utf8_lossy(&out.stdout).to_string();
    let keyring_pid = env
        .lines()
        .find_map(|l| l.strip_prefix("GNOME_KEYRING_PID="))
        .and_then(|p| p.trim().parse().ok());
    Daemons {
        bus_pid,
        keyring_pid,
        _home: home,
    }
}

#[test]
fn secret_service_is_preferred_and_really_holds_the_secret() {
    let _env = crate::env_lock();
    let _daemons = start_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profiles/alice");
    let (store, warning) = SecretStore::open(&profile, SecretsBackend::Auto).unwrap();
    assert_eq!(store.backend(), Backend::SecretService);
    assert_eq!(warning, None);
    store
        .set(SecretName::Session, "session-json-with-token")
        .unwrap();

    // Seen from outside, through libsecret: the item is in the keyring.
    let user = format!("session@{}", profile.display());
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "keepsake", "username", &user])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "session-json-with-token"
    );
    assert!(!profile.join("secrets.json").exists(), "nothing in a file");

    let (again, _) = SecretStore::open(&profile, SecretsBackend::Auto).unwrap();
    assert_eq!(
        again
            .get(SecretName::Session)
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("session-json-with-token")
    );
    again.delete(SecretName::Session).unwrap();
    assert_eq!(store.get(SecretName::Session).unwrap(), None);

    // The recorded backend going away is said plainly, not a silent re-login.
    unsafe { std::env::remove_var("DBUS_SESSION_BUS_ADDRESS") };
    let e = SecretStore::open(&profile, SecretsBackend::Auto)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("this profile's secrets are in the Secret Service (desktop keyring), which is not reachable now"), "{e}");
}
