//! Text from the server (room names, bodies, user names, error messages)
//! made safe to print on a terminal: no escape sequences (colours, cursor
//! moves, OSC 52 clipboard writes, title changes), no other control
//! characters and no bidirectional overrides. The TUI goes through ratatui,
//! which draws cells; headless output goes through here.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw. Newlines and tabs stay.
fn unsafe_char(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        // C0, DEL and C1 controls (ESC and CSI among them).
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        // Bidirectional embeddings, overrides and isolates.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// `s` with every unsafe character replaced by U+FFFD, so that something
/// visibly stood there.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if unsafe_char(c) { '\u{fffd}' } else { c })
            .collect(),
    )
}

/// `println!` through [`clean`].
#[macro_export]
macro_rules! outln {
    () => {
        println!()
    };
    ($($arg:tt)*) => {
        println!("{}", $crate::terminal_text::clean(&format!($($arg)*)))
    };
}

/// `eprintln!` through [`clean`].
#[macro_export]
macro_rules! errln {
    () => {
        eprintln!()
    };
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::terminal_text::clean(&format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_never_pass() {
        for evil in [
            "\u{1b}]52;c;aGVsbG8=\u{7}", // OSC 52: write the clipboard
            "\u{1b}[2J\u{1b}[H",         // clear the screen
            "\u{1b}]0;title\u{1b}\\",    // set the title
            "\u{9b}31m",                 // C1 CSI
            "a\rb",                      // overwrite the line
            "\u{202e}gnp.exe",           // right-to-left override
        ] {
            let out = clean(evil);
            assert!(
                !out.chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{out:?}"
            );
            assert!(!out.contains('\u{202e}'));
            assert!(out.contains('\u{fffd}'));
        }
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for ok in ["hello", "line\nnext\tcol", "émoji 🐶 日本語", ""] {
            assert!(matches!(clean(ok), Cow::Borrowed(_)));
        }
    }
}
