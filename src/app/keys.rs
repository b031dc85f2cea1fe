//! Key bindings: every action the keyboard can trigger, its default keys,
//! and the `[keys]` section of the config that replaces them.

use crate::error::Invalid;
use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for. Which actions apply depends on the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Quit,
    Help,
    CommandLine,
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Rooms,
    Backup,
    Recovery,
    Devices,
    Filter,
    Refresh,
    AcceptInvite,
    DeclineInvite,
    Compose,
    Reply,
    Edit,
    React,
    Redact,
    FetchFromBackup,
    Thread,
    SaveFile,
    OpenFile,
    Restore,
    Create,
    Upload,
    UseCurrent,
    Reset,
    Inspect,
    Setup,
    Unlock,
    Copy,
    Accept,
    Confirm,
    Mismatch,
    Verify,
}

/// Name in the config, default keys, and what the help overlay says.
pub const ACTIONS: &[(Action, &str, &[&str], &str)] = &[
    (Action::Quit, "quit", &["q", "ctrl-c"], "quit keepsake"),
    (Action::Help, "help", &["?", "f1"], "this help"),
    (Action::CommandLine, "command_line", &[":"], "command line"),
    (Action::Back, "back", &["esc"], "back / close / cancel"),
    (Action::Up, "up", &["up", "k"], "move up / scroll back"),
    (Action::Down, "down", &["down", "j"], "move down"),
    (Action::PageUp, "page_up", &["pageup", "ctrl-b"], "page up"),
    (
        Action::PageDown,
        "page_down",
        &["pagedown", "ctrl-f"],
        "page down",
    ),
    (Action::Top, "top", &["home", "g"], "first item"),
    (Action::Bottom, "bottom", &["end", "G"], "last item"),
    (
        Action::Open,
        "open",
        &["enter", "right", "l"],
        "open / choose",
    ),
    (Action::Rooms, "rooms", &["1"], "rooms screen"),
    (Action::Backup, "backup", &["2"], "backup screen"),
    (Action::Recovery, "recovery", &["3"], "recovery screen"),
    (Action::Devices, "devices", &["4"], "devices screen"),
    (
        Action::Filter,
        "filter",
        &["/"],
        "filter rooms / find in the open room",
    ),
    (
        Action::Refresh,
        "refresh",
        &["s"],
        "refresh the screen's data",
    ),
    (
        Action::AcceptInvite,
        "accept_invite",
        &["a"],
        "accept an invitation",
    ),
    (
        Action::DeclineInvite,
        "decline_invite",
        &["x"],
        "decline an invitation",
    ),
    (Action::Compose, "compose", &["i"], "write a message"),
    (Action::Reply, "reply", &["r"], "reply to the message"),
    (Action::Edit, "edit", &["e"], "edit your message"),
    (Action::React, "react", &["+"], "react with 👍 (toggle)"),
    (Action::Redact, "redact", &["X"], "redact the message"),
    (
        Action::FetchFromBackup,
        "fetch_from_backup",
        &["f"],
        "fetch keys from the backup",
    ),
    (
        Action::Thread,
        "thread",
        &["t"],
        "open the message's thread (Esc goes back)",
    ),
    (
        Action::SaveFile,
        "save_file",
        &["d"],
        "save the message's file to the download dir",
    ),
    (
        Action::OpenFile,
        "open_file",
        &["o"],
        "open the message's file or link",
    ),
    (Action::Restore, "restore", &["r"], "backup: restore"),
    (Action::Create, "create", &["c"], "backup: create"),
    (Action::Upload, "upload", &["u"], "backup: upload now"),
    (
        Action::UseCurrent,
        "use_current",
        &["v"],
        "backup: use the server's version",
    ),
    (
        Action::Reset,
        "reset",
        &["R"],
        "backup: reset / migrate to a new version",
    ),
    (
        Action::Inspect,
        "inspect",
        &["p"],
        "backup: per-room overview and versions (page 2)",
    ),
    (
        Action::Setup,
        "setup",
        &["S"],
        "recovery: set up (shows a new key)",
    ),
    (
        Action::Unlock,
        "unlock",
        &["u"],
        "recovery: unlock with key or passphrase",
    ),
    (
        Action::Copy,
        "copy",
        &["y"],
        "copy the recovery key (OSC 52)",
    ),
    (
        Action::Accept,
        "accept",
        &["a"],
        "verification: accept a request (on the devices screen)",
    ),
    (
        Action::Confirm,
        "confirm",
        &["y"],
        "verification: the emoji match",
    ),
    (
        Action::Mismatch,
        "mismatch",
        &["n"],
        "verification: they do not match",
    ),
    (
        Action::Verify,
        "verify",
        &["v"],
        "devices: verify this device",
    ),
];

/// One key with its modifiers, as written in the config ("ctrl-c", "G").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn of(ev: &KeyEvent) -> Key {
        // Shift is part of the character for printable keys ("G", "?").
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        if !matches!(ev.code, KeyCode::Char(_)) {
            mods |= ev.modifiers & KeyModifiers::SHIFT;
        }
        let code = match ev.code {
            KeyCode::BackTab => KeyCode::Tab,
            c => c,
        };
        if ev.code == KeyCode::BackTab {
            mods |= KeyModifiers::SHIFT;
        }
        Key { code, mods }
    }

    pub fn parse(spec: &str) -> Result<Key, Invalid> {
        let bad = || {
            format!(
                "`{spec}` is not a key (e.g. \"q\", \"ctrl-c\", \"alt-enter\", \"pageup\", \"f1\")"
            )
        };
        let mut mods = KeyModifiers::NONE;
        let mut rest = spec;
        loop {
            if rest.len() > 1 {
                if let Some(r) = rest.strip_prefix("ctrl-") {
                    mods |= KeyModifiers::CONTROL;
                    rest = r;
                    continue;
                }
                if let Some(r) = rest.strip_prefix("alt-") {
                    mods |= KeyModifiers::ALT;
                    rest = r;
                    continue;
                }
                if let Some(r) = rest.strip_prefix("shift-") {
                    mods |= KeyModifiers::SHIFT;
                    rest = r;
                    continue;
                }
            }
            break;
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('f') => {
                let n: u8 = f[1..].parse().map_err(|_| bad())?;
                if !(1..=12).contains(&n) {
                    return Err(bad().into());
                }
                KeyCode::F(n)
            }
            s => {
                let mut cs = s.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(bad().into()),
                }
            }
        };
        if matches!(code, KeyCode::Char(_)) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Ok(Key { code, mods })
    }

    /// How the help overlay and hints write it.
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            s.push_str("C-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            s.push_str("M-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            s.push_str("S-");
        }
        match self.code {
            KeyCode::Char(' ') => s.push_str("Space"),
            KeyCode::Char(c) => s.push(c),
            KeyCode::Enter => s.push_str("Enter"),
            KeyCode::Esc => s.push_str("Esc"),
            KeyCode::Tab => s.push_str("Tab"),
            KeyCode::Backspace => s.push_str("Bksp"),
            KeyCode::Delete => s.push_str("Del"),
            KeyCode::Up => s.push('↑'),
            KeyCode::Down => s.push('↓'),
            KeyCode::Left => s.push('←'),
            KeyCode::Right => s.push('→'),
            KeyCode::Home => s.push_str("Home"),
            KeyCode::End => s.push_str("End"),
            KeyCode::PageUp => s.push_str("PgUp"),
            KeyCode::PageDown => s.push_str("PgDn"),
            KeyCode::F(n) => s.push_str(&format!("F{n}")),
            _ => s.push('?'),
        }
        s
    }
}

/// The action for a config name ("page_up").
pub fn action_named(name: &str) -> Option<Action> {
    ACTIONS.iter().find(|a| a.1 == name).map(|a| a.0)
}

/// Checks one `[keys]` entry; the message names what is wrong.
pub fn validate(action: &str, keys: &[String]) -> Result<(), Invalid> {
    if action_named(action).is_none() {
        let names: Vec<&str> = ACTIONS.iter().map(|a| a.1).collect();
        return Err(format!(
            "unknown key action `{action}`; the actions are: {}",
            names.join(", ")
        )
        .into());
    }
    for k in keys {
        Key::parse(k)?;
    }
    Ok(())
}

/// Every action's keys: the defaults with the config's entries replacing them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    keys: BTreeMap<Action, Vec<Key>>,
}

impl Default for KeyMap {
    fn default() -> Self {
        let mut keys = BTreeMap::new();
        for (action, _, defaults, _) in ACTIONS {
            let ks = defaults.iter().filter_map(|d| Key::parse(d).ok()).collect();
            keys.insert(*action, ks);
        }
        KeyMap { keys }
    }
}

impl KeyMap {
    /// The defaults with `overrides` (action name → keys, as validated by
    /// the config) in place of them.
    pub fn with(overrides: &BTreeMap<String, Vec<String>>) -> KeyMap {
        let mut map = KeyMap::default();
        for (name, specs) in overrides {
            if let Some(a) = action_named(name) {
                let ks = specs.iter().filter_map(|s| Key::parse(s).ok()).collect();
                map.keys.insert(a, ks);
            }
        }
        map
    }

    pub fn is(&self, action: Action, ev: &KeyEvent) -> bool {
        let k = Key::of(ev);
        self.keys.get(&action).is_some_and(|ks| ks.contains(&k))
    }

    /// Whether any action is bound to `ev`.
    pub fn bound(&self, ev: &KeyEvent) -> bool {
        let k = Key::of(ev);
        self.keys.values().any(|ks| ks.contains(&k))
    }

    /// The first of `candidates` that `ev` is bound to.
    pub fn which(&self, ev: &KeyEvent, candidates: &[Action]) -> Option<Action> {
        candidates.iter().copied().find(|a| self.is(*a, ev))
    }

    /// "q/C-c": the keys of an action for hints and help.
    pub fn label(&self, action: Action) -> String {
        self.keys
            .get(&action)
            .map(|ks| ks.iter().map(Key::label).collect::<Vec<_>>().join("/"))
            .unwrap_or_default()
    }

    /// The first key of an action, for the one-line hints.
    pub fn first(&self, action: Action) -> String {
        self.keys
            .get(&action)
            .and_then(|ks| ks.first())
            .map(Key::label)
            .unwrap_or_else(|| "-".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn parses_keys_as_the_config_writes_them() {
        assert_eq!(
            Key::parse("ctrl-c").unwrap(),
            Key {
                code: KeyCode::Char('c'),
                mods: KeyModifiers::CONTROL
            }
        );
        assert_eq!(Key::parse("alt-enter").unwrap().mods, KeyModifiers::ALT);
        assert_eq!(Key::parse("f1").unwrap().code, KeyCode::F(1));
        assert_eq!(Key::parse("-").unwrap().code, KeyCode::Char('-'));
        assert!(Key::parse("ctrl-").is_err());
        assert!(Key::parse("nope").is_err());
        assert!(Key::parse("f13").is_err());
    }

    #[test]
    fn shifted_letters_match_their_char() {
        let m = KeyMap::default();
        assert!(m.is(Action::Bottom, &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(m.is(Action::Quit, &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(!m.is(Action::Quit, &ev(KeyCode::Char('c'), KeyModifiers::NONE)));
    }

    #[test]
    fn the_config_replaces_an_actions_keys() {
        let mut o = BTreeMap::new();
        o.insert("quit".to_owned(), vec!["ctrl-q".to_owned()]);
        let m = KeyMap::with(&o);
        assert!(!m.is(Action::Quit, &ev(KeyCode::Char('q'), KeyModifiers::NONE)));
        assert!(m.is(Action::Quit, &ev(KeyCode::Char('q'), KeyModifiers::CONTROL)));
        assert_eq!(m.label(Action::Quit), "C-q");
        assert!(validate("quit", &["ctrl-q".into()]).is_ok());
        assert!(
            validate("qiut", &[])
                .unwrap_err()
                .0
                .contains("unknown key action `qiut`")
        );
    }
}
