//! Colours by role. The defaults are the terminal's own named colours on
//! its own background (no fixed background anywhere), with selection shown
//! reversed, so they read on dark and light terminals alike.

use crate::error::Invalid;
use std::collections::BTreeMap;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

/// The roles `[colors]` may set.
pub const ROLES: &[&str] = &["accent", "good", "warn", "bad", "dim", "selection"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub accent: Color,
    pub good: Color,
    pub warn: Color,
    pub bad: Color,
    pub dim: Color,
    /// `None`: selection is shown reversed.
    pub selection: Option<Color>,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            accent: Color::Cyan,
            good: Color::Green,
            warn: Color::Yellow,
            bad: Color::Red,
            dim: Color::DarkGray,
            selection: None,
        }
    }
}

fn parse(value: &str) -> Result<Color, Invalid> {
    Color::from_str(value).map_err(|_| {
        Invalid::from(format!("`{value}` is not a colour (a name like \"cyan\" or \"lightred\", an index 0-255, or \"#rrggbb\")"))
    })
}

/// Checks one `[colors]` entry.
pub fn validate(role: &str, value: &str) -> Result<(), Invalid> {
    if !ROLES.contains(&role) {
        return Err(format!(
            "unknown colour role `{role}`; the roles are: {}",
            ROLES.join(", ")
        )
        .into());
    }
    parse(value).map(|_| ())
}

impl Theme {
    /// The defaults with the config's colours (already validated).
    pub fn with(colors: &BTreeMap<String, String>) -> Theme {
        let mut t = Theme::default();
        for (role, value) in colors {
            let Ok(c) = parse(value) else { continue };
            match role.as_str() {
                "accent" => t.accent = c,
                "good" => t.good = c,
                "warn" => t.warn = c,
                "bad" => t.bad = c,
                "dim" => t.dim = c,
                "selection" => t.selection = Some(c),
                _ => {}
            }
        }
        t
    }

    pub fn fg(&self, c: Color) -> Style {
        Style::default().fg(c)
    }

    pub fn title(&self) -> Style {
        Style::default()
            .fg(self.accent)
            .add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        Style::default().fg(self.dim)
    }

    pub fn selected(&self) -> Style {
        match self.selection {
            Some(c) => Style::default().bg(c),
            None => Style::default().add_modifier(Modifier::REVERSED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_by_name_index_or_hex() {
        assert!(validate("accent", "lightmagenta").is_ok());
        assert!(validate("bad", "#ff0000").is_ok());
        assert!(validate("dim", "244").is_ok());
        assert!(
            validate("accent", "blurple")
                .unwrap_err()
                .0
                .contains("not a colour")
        );
        assert!(
            validate("fancy", "red")
                .unwrap_err()
                .0
                .contains("unknown colour role")
        );
        let mut m = BTreeMap::new();
        m.insert("selection".to_owned(), "blue".to_owned());
        assert_eq!(Theme::with(&m).selection, Some(Color::Blue));
    }
}
