//! The password prompt as a person meets it: keepsake runs in a real terminal
//! (tmux), asks for the password, does not echo it, and logs in.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux is missing: run scripts/deps");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits for `text` on the screen (never a fixed sleep).
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited 30 s for {text:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_asks_for_the_password_without_echo() {
    let hs = common::homeserver();
    let user = hs.register("carol").await;
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_keepsake");
    let cmd = format!(
        "env -u DBUS_SESSION_BUS_ADDRESS {bin} --data-dir {} login --homeserver {} --user {}; echo EXIT=$?; sleep 600",
        dir.path().display(),
        hs.url,
        user.localpart
    );
    let tmux = Tmux {
        socket: common::unique("ks-prompt"),
    };
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "120",
        "-y",
        "20",
        &cmd,
    ]);
    tmux.wait_for("Password:");
    tmux.run(&["send-keys", "-t", "t", "-l", &user.password]);
    tmux.run(&["send-keys", "-t", "t", "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(
        screen.contains(&format!("logged in as {}", user.user_id)),
        "{screen}"
    );
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        !screen.contains(&user.password),
        "the password was echoed:\n{screen}"
    );
}

#[test]
fn without_a_terminal_it_points_to_password_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let r = common::keepsake(
        dir.path(),
        None,
        &["login", "--homeserver", "http://127.0.0.1:1", "--user", "x"],
        "",
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "keepsake: no terminal to ask for the password on; pass it on standard input with --password-stdin\n"
    );
}
