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

    fn chars(&self) -> Vec<char> {
        self.text.chars().collect()
    }

    /// To the start of the word before the cursor (or of the one it is in).
    pub fn word_left(&mut self) {
        let cs = self.chars();
        let mut i = self.cursor;
        while i > 0 && cs[i - 1].is_whitespace() {
            i -= 1;
        }
        while i > 0 && !cs[i - 1].is_whitespace() {
            i -= 1;
        }
        self.cursor = i;
    }

    /// To the end of the word after the cursor.
    pub fn word_right(&mut self) {
        let cs = self.chars();
        let mut i = self.cursor;
        while i < cs.len() && cs[i].is_whitespace() {
            i += 1;
        }
        while i < cs.len() && !cs[i].is_whitespace() {
            i += 1;
        }
        self.cursor = i;
    }

    /// Deletes the chars from `from` (a char index before the cursor) to
    /// the cursor.
    fn delete_back_to(&mut self, from: usize) {
        let (a, b) = (self.byte(from), self.byte(self.cursor));
        self.text.replace_range(a..b, "");
        self.cursor = from;
    }

    /// Deletes the word before the cursor (Ctrl-W).
    pub fn delete_word(&mut self) {
        let end = self.cursor;
        self.word_left();
        let from = self.cursor;
        self.cursor = end;
        self.delete_back_to(from);
    }

    /// Deletes from the start of the line to the cursor (Ctrl-U).
    pub fn delete_to_line_start(&mut self) {
        let end = self.cursor;
        self.home();
        let from = if self.cursor == end {
            // At a line's start: join it to the line before, as readline.
            end.saturating_sub(1)
        } else {
            self.cursor
        };
        self.cursor = end;
        self.delete_back_to(from);
    }

    /// Replaces the `n` chars before the cursor with `with`.
    pub fn replace_before(&mut self, n: usize, with: &str) {
        let from = self.cursor.saturating_sub(n);
        self.delete_back_to(from);
        self.insert_str(with);
    }

    /// The text from the last whitespace before the cursor up to it.
    pub fn word_before_cursor(&self) -> String {
        let before: Vec<char> = self.text.chars().take(self.cursor).collect();
        let start = before
            .iter()
            .rposition(|c| c.is_whitespace())
            .map_or(0, |p| p + 1);
        before[start..].iter().collect()
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
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Char('u') if ctrl => self.delete_to_line_start(),
            KeyCode::Char('w') if ctrl => self.delete_word(),
            KeyCode::Char('h') if ctrl => self.backspace(),
            KeyCode::Char('a') if ctrl => self.home(),
            KeyCode::Char('e') if ctrl => self.end(),
            KeyCode::Char('b') if ctrl => self.left(),
            KeyCode::Char('f') if ctrl => self.right(),
            KeyCode::Char(c) if !ctrl => self.insert(c),
            KeyCode::Backspace if ctrl || alt => self.delete_word(),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete(),
            KeyCode::Left if ctrl || alt => self.word_left(),
            KeyCode::Right if ctrl || alt => self.word_right(),
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
    fn words_and_lines_are_edited_as_in_readline() {
        let mut t = TextInput::new("one two  three");
        t.word_left();
        assert_eq!(t.cursor(), 9);
        t.word_left();
        assert_eq!(t.cursor(), 4);
        t.word_right();
        assert_eq!(t.cursor(), 7);
        t.delete_word();
        assert_eq!(t.text(), "one   three");
        t.end();
        t.delete_word();
        assert_eq!(t.text(), "one   ");
        let mut t = TextInput::new("first\nsecond line");
        t.delete_to_line_start();
        assert_eq!(t.text(), "first\n");
        t.delete_to_line_start();
        assert_eq!(t.text(), "first");
        let mut t = TextInput::new("hi @al");
        assert_eq!(t.word_before_cursor(), "@al");
        t.replace_before(3, "Alice ");
        assert_eq!(t.text(), "hi Alice ");
        assert_eq!(t.cursor(), 9);
    }

    #[test]
    fn masked_input_never_shows_its_text() {
        let mut t = TextInput::masked();
        t.insert_str("hunter2");
        assert_eq!(t.shown(), "•••••••");
        assert!(!format!("{t:?}").contains("hunter2"));
    }
}
