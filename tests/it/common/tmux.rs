//! A program in a real terminal (a private tmux server), driven as a person
//! would: keys in, the screen read back; every wait polls with a deadline.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `cmd` in a new `width` x `height` terminal.
    pub fn start(width: u16, height: u16, cmd: &str) -> Tmux {
        let t = Tmux {
            socket: super::unique("ks-tmux"),
        };
        let (w, h) = (width.to_string(), height.to_string());
        t.run(&["new-session", "-d", "-s", "t", "-x", &w, "-y", &h, cmd]);
        t
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux is missing: run scripts/deps");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// The screen with its colours and styles (SGR sequences).
    pub fn screen_ansi(&self) -> String {
        self.run(&["capture-pane", "-e", "-p", "-t", "t"])
    }

    /// Waits until `ok` holds for the screen; fails with the screen.
    pub fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_until_within(what, Duration::from_secs(60), ok)
    }

    /// Like `wait_until`, for a behaviour whose point is that it is quick.
    pub fn wait_until_within(
        &self,
        what: &str,
        limit: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited {limit:?} for {what}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits up to `limit` for `text` on the screen.
    pub fn wait_for_within(&self, text: &str, limit: Duration) -> String {
        self.wait_until_within(&format!("{text:?}"), limit, |s| s.contains(text))
    }

    /// Waits for `text` on the screen.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |s| s.contains(text))
    }

    /// Named keys (`Enter`, `Escape`, `C-c`...), one after another.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "t", k]);
        }
    }

    /// Text typed literally.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "-l", text]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}
