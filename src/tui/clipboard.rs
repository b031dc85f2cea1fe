//! Whether the terminal takes OSC 52 clipboard writes. Nothing tells for
//! sure; two signs do: the terminal lists "clipboard access" (52) in its
//! primary device attributes, or it is tmux with `set-clipboard on` (tmux
//! answers DA1 for itself and, by default, drops what panes send).

use std::io::Write;
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
    read_answer(0, limit)
}

/// Reads `fd` a byte at a time, straight from the descriptor: a buffered
/// reader (`std::io::stdin()`) would take the whole answer into its buffer
/// at the first byte, and `poll` would then wait out `limit` for bytes
/// already read (which it did: every start waited 300 ms and never saw the
/// answer's 52). One byte at a time also leaves keys typed after the
/// answer to the event reader.
fn read_answer(fd: libc::c_int, limit: Duration) -> Vec<u8> {
    let deadline = Instant::now() + limit;
    let mut answer = Vec::new();
    while !answer.ends_with(b"c") && answer.len() < 256 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !readable(fd, left) {
            break;
        }
        let mut byte = 0u8;
        // SAFETY: reads at most one byte into a byte we own.
        let n = unsafe { libc::read(fd, (&raw mut byte).cast(), 1) };
        if n != 1 {
            break;
        }
        answer.push(byte);
    }
    answer
}

fn readable(fd: libc::c_int, within: Duration) -> bool {
    let mut fd = libc::pollfd {
        fd,
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
    use super::{da1_lists_clipboard, read_answer};
    use std::time::{Duration, Instant};

    /// The whole answer is read at once, not its first byte and then a
    /// wait for the rest (which a buffered reader had already taken).
    #[test]
    fn the_answer_is_read_whole_and_without_waiting() {
        let mut fds = [0; 2];
        // SAFETY: pipe writes two descriptors into the array we pass.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let answer = b"\x1b[?65;1;9;52cj";
        // SAFETY: writes our buffer to the pipe we own.
        let n = unsafe { libc::write(fds[1], answer.as_ptr().cast(), answer.len()) };
        assert_eq!(n, answer.len() as isize);
        let started = Instant::now();
        let got = read_answer(fds[0], Duration::from_secs(2));
        assert!(started.elapsed() < Duration::from_secs(1), "it waited");
        assert_eq!(got, b"\x1b[?65;1;9;52c");
        assert!(da1_lists_clipboard(&got));
        // The key typed after the answer is still there for the event reader.
        let mut rest = 0u8;
        // SAFETY: reads one byte into a byte we own.
        assert_eq!(unsafe { libc::read(fds[0], (&raw mut rest).cast(), 1) }, 1);
        assert_eq!(rest, b'j');
        // SAFETY: closes the descriptors we opened.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }

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
