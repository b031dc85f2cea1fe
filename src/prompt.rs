//! Asking for a secret on the terminal without echoing it.

use std::io::{IsTerminal, Write};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, read};
use crossterm::terminal::{disable_raw_mode, enable_raw_mode};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind};

/// Restores the terminal even when reading fails or panics.
struct RawMode;

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = disable_raw_mode();
    }
}

/// Shows `prompt` on stderr and reads a line with echo off. Ctrl-C or Esc
/// cancels. Refuses when there is no terminal, pointing to `stdin_flag`, the
/// option that reads `what` from standard input instead.
pub fn secret(prompt: &str, what: &str, stdin_flag: &str) -> Result<Zeroizing<String>, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::new(
            ErrorKind::Invalid,
            format!(
                "no terminal to ask for the {what} on; pass it on standard input with {stdin_flag}"
            ),
        ));
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    enable_raw_mode().map_err(|e| format!("cannot read from the terminal: {e}"))?;
    let guard = RawMode;
    let mut line = Zeroizing::new(String::new());
    let result = loop {
        match read() {
            Ok(Event::Key(KeyEvent {
                code,
                modifiers,
                kind: KeyEventKind::Press,
                ..
            })) => match code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Esc => break Err(Error::new(ErrorKind::Cancelled, "cancelled")),
                KeyCode::Char('c') | KeyCode::Char('d')
                    if modifiers.contains(KeyModifiers::CONTROL) =>
                {
                    break Err(Error::new(ErrorKind::Cancelled, "cancelled"));
                }
                KeyCode::Backspace => {
                    line.pop();
                }
                KeyCode::Char(c) => line.push(c),
                _ => {}
            },
            Ok(Event::Paste(text)) => line.push_str(&text),
            Ok(_) => {}
            Err(e) => break Err(format!("cannot read from the terminal: {e}").into()),
        }
    };
    drop(guard);
    let _ = writeln!(err);
    result?;
    if line.is_empty() {
        return Err(Error::new(ErrorKind::Invalid, format!("no {what} given")));
    }
    Ok(line)
}
