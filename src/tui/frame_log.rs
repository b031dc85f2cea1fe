//! Timings of the TUI for the big-account benchmark: when `KEEPSAKE_FRAME_LOG`
//! names a file, every frame and every key's wait for its frame is written
//! there, one line each, so a harness driving the real program in a real
//! terminal can tell how quickly it answers. Timings only: no text of the
//! screen, no key, nothing of the account.

use std::io::Write;
use std::time::Instant;

/// The variable naming the log file.
pub const VAR: &str = "KEEPSAKE_FRAME_LOG";

pub struct FrameLog {
    out: std::io::BufWriter<std::fs::File>,
    started: Instant,
    /// When each key since the last frame reached the program.
    keys: Vec<Instant>,
    rooms_shown: bool,
}

impl FrameLog {
    /// The log named by `KEEPSAKE_FRAME_LOG`, if any; a file that cannot be
    /// made is said in the log and otherwise ignored (it is a measurement).
    pub fn from_env(started: Instant) -> Option<FrameLog> {
        let path = std::env::var_os(VAR)?;
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&path) {
            Ok(f) => {
                let mut log = FrameLog {
                    out: std::io::BufWriter::new(f),
                    started,
                    keys: Vec::new(),
                    rooms_shown: false,
                };
                log.line(&format!("pid {}", std::process::id()));
                Some(log)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the frame log");
                None
            }
        }
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    /// A moment worth knowing on the way to the first frames (the account
    /// open, the terminal's answer).
    pub fn note(&mut self, what: &str) {
        let t = self.started.elapsed().as_micros();
        self.line(&format!("note {what} t_us={t}"));
    }

    /// A key press reached the program at `at`.
    pub fn key(&mut self, at: Instant) {
        self.keys.push(at);
    }

    /// A frame went to the terminal: drawing began at `begun` and the
    /// terminal has it now. `rooms` is how many rooms the frame could list.
    pub fn frame(&mut self, begun: Instant, rooms: usize) {
        let now = Instant::now();
        let us = |d: std::time::Duration| d.as_micros();
        let mut text = format!(
            "frame t_us={} draw_us={}",
            us(now.duration_since(self.started)),
            us(now.duration_since(begun))
        );
        if !self.rooms_shown && rooms > 0 {
            self.rooms_shown = true;
            text.push_str(&format!(" first_with_rooms={rooms}"));
        }
        for k in self.keys.drain(..) {
            text.push_str(&format!(" key_us={}", us(now.duration_since(k))));
        }
        self.line(&text);
    }
}
