//! A private D-Bus session bus with a notification service that records
//! what it is asked to show (in place of a desktop's daemon).

use std::io::BufRead;
use std::sync::{Arc, Mutex};

/// One `Notify` call: summary and body.
pub type Shown = Arc<Mutex<Vec<(String, String)>>>;

struct Recorder {
    shown: Shown,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap();
        shown.push((summary, body));
        shown.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }
}

/// The bus daemon (stopped on drop), its address, and what was shown.
pub struct Bus {
    daemon: std::process::Child,
    pub address: String,
    pub shown: Shown,
    _conn: zbus::Connection,
    _dir: tempfile::TempDir,
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

impl Bus {
    pub async fn start() -> Bus {
        let dir = tempfile::tempdir().unwrap();
        let mut daemon = std::process::Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!("--address=unix:path={}/bus", dir.path().display()))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("dbus-daemon (scripts/deps installs it)");
        let mut line = String::new();
        std::io::BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        let shown: Shown = Arc::default();
        let conn = zbus::connection::Builder::address(address.as_str())
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .serve_at(
                "/org/freedesktop/Notifications",
                Recorder {
                    shown: shown.clone(),
                },
            )
            .unwrap()
            .build()
            .await
            .unwrap();
        Bus {
            daemon,
            address,
            shown,
            _conn: conn,
            _dir: dir,
        }
    }

    /// Waits (up to 60 s) until a notification matching `ok` was shown.
    pub async fn wait_for(&self, what: &str, ok: impl Fn(&str, &str) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if self.shown.lock().unwrap().iter().any(|(s, b)| ok(s, b)) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no notification {what}; shown: {:?}",
                self.shown.lock().unwrap()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}
