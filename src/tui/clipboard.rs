//! Whether the terminal takes OSC 52 clipboard writes. Nothing tells for
//! sure; two signs do: the terminal lists "clipboard access" (52) in its
//! primary device attributes, or it is tmux with `set-clipboard on` (tmux
//! answers DA1 for itself and, by default, drops what panes send).

use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Asks the terminal (in raw mode, before the event reader starts).
pub fn works() -> bool {
    tmux_passes_it() || da1_lists_clipboard(&ask_da1(Duration::from_millis(300)))
}

fn tmux_passes_it() -> bool {
    if std::env::var_os("TMUX").is_none() {
        return false;
    }
    std::process::Command::new("tmux")
        .args(["show-options", "-gv", "set-clipboard"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "on")
}

/// The answer to `CSI c`, up to its final `c` (or what came in `limit`).
fn ask_da1(limit: Duration) -> Vec<u8> {
    let mut out = std::io::stdout();
    if out.write_all(b"\x1b[c").and_then(|()| out.flush()).is_err() {
        return vec![];
    }
    let deadline = Instant::now() + limit;
    let mut answer = Vec::new();
    let mut stdin = std::io::stdin();
    while !answer.ends_with(b"c") && answer.len() < 256 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !readable(left) {
            break;
        }
        let mut byte = [0u8; 1];
        match stdin.read(&mut byte) {
            Ok(1) => answer.push(byte[0]),
            _ => break,
        }
    }
    answer
}

fn readable(within: Duration) -> bool {
    let mut fd = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(within.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut fd, 1, ms) == 1 }
}

/// `ESC [ ? 6 5 ; 1 ; 5 2 c`: a parameter 52 means clipboard access.
/// Keys typed meanwhile may come first; only the answer is read.
pub fn da1_lists_clipboard(answer: &[u8]) -> bool {
    let Some(start) = answer.windows(3).rposition(|w| w == b"\x1b[?") else {
        return false;
    };
    let rest = &answer[start + 3..];
    let Some(end) = rest.iter().position(|&b| b == b'c') else {
        return false;
    };
    rest[..end].split(|&b| b == b';').any(|p| p == b"52")
}

#[cfg(test)]
mod tests {
    use super::da1_lists_clipboard;

    #[test]
    fn reads_clipboard_access_from_the_device_attributes() {
        assert!(da1_lists_clipboard(b"\x1b[?65;1;9;52c"));
        assert!(da1_lists_clipboard(b"ab\x1b[?62;52;22c"));
        // tmux 3.3a, xterm's VT100 answer, nothing at all, a cut answer.
        assert!(!da1_lists_clipboard(b"\x1b[?1;2c"));
        assert!(!da1_lists_clipboard(b"\x1b[?62;22;520c"));
        assert!(!da1_lists_clipboard(b""));
        assert!(!da1_lists_clipboard(b"\x1b[?65;52"));
    }
}
