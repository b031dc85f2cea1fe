//! Text inputs: one line (filter, command line, login fields), masked (a
//! password or recovery key) and the multi-line composer. Buffers are
//! zeroized when dropped; a masked one never shows in `Debug`.

use zeroize::Zeroizing;

/// An editable text with a cursor (a char index).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    text: Zeroizing<String>,
    /// Cursor position in chars.
    cursor: usize,
    pub masked: bool,
}

impl std::fmt::Debug for TextInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.masked {
            write!(f, "TextInput(<masked, {} chars>)", self.len())
        } else {
            write!(f, "TextInput({:?}@{})", self.text.as_str(), self.cursor)
        }
    }
}

impl TextInput {
    pub fn new(text: &str) -> Self {
        let mut buf = Zeroizing::new(String::with_capacity(text.len().max(64)));
        buf.push_str(text);
        TextInput {
            text: buf,
            cursor: text.chars().count(),
            masked: false,
        }
    }

    pub fn masked() -> Self {
        TextInput {
            masked: true,
            ..Self::default()
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn len(&self) -> usize {
        self.text.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn byte(&self, char_idx: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_idx)
            .map_or(self.text.len(), |(b, _)| b)
    }

    pub fn insert(&mut self, c: char) {
        self.reserve(c.len_utf8());
        let b = self.byte(self.cursor);
        self.text.insert(b, c);
        self.cursor += 1;
    }

    /// Makes room for `more` bytes without letting `String` reallocate in
    /// place: a reallocation frees the old buffer unwiped, and a typed
    /// secret would stay in freed memory. The text moves into a bigger
    /// zeroizing buffer; the old one is wiped as it is dropped.
    fn reserve(&mut self, more: usize) {
        let need = self.text.len() + more;
        if need <= self.text.capacity() {
            return;
        }
        let mut bigger = Zeroizing::new(String::with_capacity(need.max(64).next_power_of_two()));
        bigger.push_str(&self.text);
        self.text = bigger;
    }

    pub fn insert_str(&mut self, s: &str) {
        self.reserve(s.len());
        for c in s.chars() {
            self.insert(c);
        }
    }

    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let b = self.byte(self.cursor);
            self.text.remove(b);
        }
    }

    pub fn delete(&mut self) {
        if self.cursor < self.len() {
            let b = self.byte(self.cursor);
            self.text.remove(b);
        }
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.len());
    }

    /// To the start of the current line.
    pub fn home(&mut self) {
        let before: Vec<char> = self.text.chars().take(self.cursor).collect();
        let line_start = before.iter().rposition(|c| *c == '\n').map_or(0, |p| p + 1);
        self.cursor = line_start;
    }

    /// To the end of the current line.
    pub fn end(&mut self) {
        let rest = self.text.chars().skip(self.cursor);
        let mut n = 0;
        for c in rest {
            if c == '\n' {
                break;
            }
            n += 1;
        }
        self.cursor += n;
    }

    /// Empties the input, returning what it held (zeroized when dropped).
    pub fn take(&mut self) -> Zeroizing<String> {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    pub fn set(&mut self, text: &str) {
        *self = TextInput {
            masked: self.masked,
            ..TextInput::new(text)
        };
    }

    /// Line and column (in chars) of the cursor, for placing it on screen.
    pub fn cursor_line_col(&self) -> (usize, usize) {
        let mut line = 0;
        let mut col = 0;
        for c in self.text.chars().take(self.cursor) {
            if c == '\n' {
                line += 1;
                col = 0;
            } else {
                col += 1;
            }
        }
        (line, col)
    }

    /// What the screen shows: the text, or one `•` per char when masked.
    pub fn shown(&self) -> String {
        if self.masked {
            "•".repeat(self.len())
        } else {
            self.text.to_string()
        }
    }

    /// Applies an editing key; `false` when the key is not an editing key.
    pub fn edit(&mut self, key: &crossterm::event::KeyEvent) -> bool {
        use crossterm::event::{KeyCode, KeyModifiers};
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                drop(self.take());
            }
            KeyCode::Char('a') if ctrl => self.home(),
            KeyCode::Char('e') if ctrl => self.end(),
            KeyCode::Char(c) if !ctrl => self.insert(c),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete(),
            KeyCode::Left => self.left(),
            KeyCode::Right => self.right(),
            KeyCode::Home => self.home(),
            KeyCode::End => self.end(),
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_in_the_middle_and_across_lines() {
        let mut t = TextInput::new("héllo");
        t.left();
        t.left();
        t.insert('X');
        assert_eq!(t.text(), "hélXlo");
        t.backspace();
        t.backspace();
        assert_eq!(t.text(), "héllo".replacen("l", "", 1));
        t.end();
        t.insert('\n');
        t.insert_str("ab");
        assert_eq!(t.cursor_line_col(), (1, 2));
        t.home();
        assert_eq!(t.cursor_line_col(), (1, 0));
    }

    #[test]
    fn masked_input_never_shows_its_text() {
        let mut t = TextInput::masked();
        t.insert_str("hunter2");
        assert_eq!(t.shown(), "•••••••");
        assert!(!format!("{t:?}").contains("hunter2"));
    }
}
