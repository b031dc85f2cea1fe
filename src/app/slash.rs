//! Slash commands typed in the composer: `/me`, `/shrug`, `/plain`,
//! `/html` change how the text is sent; the rest are the `:` commands
//! (`/join`, `/topic`, `/upload`...). `//text` sends a literal slash; an
//! unknown command is said and never sent. Pure.

use super::command::{self, CmdAction};
use crate::error::Invalid;
use crate::matrix::outgoing::TextFormat;

/// What the composer's text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Composed {
    /// A message to send.
    Text { text: String, format: TextFormat },
    /// A command to run.
    Command(CmdAction),
}

/// Every slash command with its arguments and what it does, for Tab
/// completion and the help.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("me", "TEXT", "send an action (* you waves)"),
    ("shrug", "[TEXT]", "send ¯\\_(ツ)_/¯"),
    ("plain", "TEXT", "send without markdown"),
    ("html", "HTML", "send HTML as written"),
    ("join", "ROOM", "join a room (#alias:server or !id:server)"),
    ("leave", "[ROOM]", "leave this room (asks first)"),
    ("invite", "@USER", "invite someone here"),
    ("dm", "@USER", "open or start a direct message"),
    ("topic", "TEXT", "set this room's topic"),
    ("name", "NAME", "rename this room"),
    ("upload", "PATH", "send a file or image"),
    ("react", "EMOJI", "react to the selected message"),
    (
        "thread",
        "[TEXT]",
        "open the selected message's thread, or reply in it",
    ),
    ("members", "", "this room's members and their verification"),
    ("kick", "@USER [REASON]", "remove someone from this room"),
    ("ban", "@USER [REASON]", "ban someone from this room"),
    ("unban", "@USER", "lift a ban"),
];

const SHRUG: &str = "¯\\_(ツ)_/¯";

/// What the composer's text means.
pub fn parse(text: &str) -> Result<Composed, Invalid> {
    let markdown = |t: &str| Composed::Text {
        text: t.to_owned(),
        format: TextFormat::Markdown,
    };
    let Some(line) = text.strip_prefix('/') else {
        return Ok(markdown(text));
    };
    if line.starts_with('/') {
        return Ok(markdown(line));
    }
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim_start()),
        None => (line, ""),
    };
    let text_as = |format: TextFormat| -> Result<Composed, Invalid> {
        if rest.trim().is_empty() {
            return Err(format!("/{word} needs a message after it").into());
        }
        Ok(Composed::Text {
            text: rest.to_owned(),
            format,
        })
    };
    match word {
        "me" => text_as(TextFormat::Emote),
        "plain" => text_as(TextFormat::Plain),
        "html" => text_as(TextFormat::Html),
        "shrug" => Ok(Composed::Text {
            // Plain: as markdown the backslash would vanish.
            text: if rest.trim().is_empty() {
                SHRUG.to_owned()
            } else {
                format!("{SHRUG} {rest}")
            },
            format: TextFormat::Plain,
        }),
        w if COMMANDS.iter().any(|(c, _, _)| *c == w) => {
            command::parse(line).map(Composed::Command)
        }
        // `/` alone, or a path-like start: most likely meant as text.
        "" => Err("a lone / is not sent: //text sends text that starts with a slash".into()),
        other => Err(format!(
            "unknown command /{other}: not sent (//{other} sends it as text; Tab lists commands)"
        )
        .into()),
    }
}

/// The commands whose names start with `prefix` (after the slash).
pub fn complete(prefix: &str) -> Vec<&'static str> {
    COMMANDS
        .iter()
        .map(|(c, _, _)| *c)
        .filter(|c| c.starts_with(prefix))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str, format: TextFormat) -> Result<Composed, Invalid> {
        Ok(Composed::Text {
            text: t.into(),
            format,
        })
    }

    #[test]
    fn formats() {
        assert_eq!(parse("hello"), text("hello", TextFormat::Markdown));
        assert_eq!(parse("/me waves"), text("waves", TextFormat::Emote));
        assert_eq!(
            parse("/plain **as is**"),
            text("**as is**", TextFormat::Plain)
        );
        assert_eq!(parse("/html <b>x</b>"), text("<b>x</b>", TextFormat::Html));
        assert_eq!(parse("/shrug"), text(SHRUG, TextFormat::Plain));
        assert_eq!(
            parse("/shrug oh well"),
            text(&format!("{SHRUG} oh well"), TextFormat::Plain)
        );
        assert_eq!(
            parse("//etc/passwd is a file"),
            text("/etc/passwd is a file", TextFormat::Markdown)
        );
        assert!(parse("/me").unwrap_err().0.contains("needs a message"));
        // A multi-line /me keeps its lines.
        assert_eq!(parse("/me a\nb"), text("a\nb", TextFormat::Emote));
    }

    #[test]
    fn commands_are_the_colon_commands() {
        assert_eq!(
            parse("/join #a:b"),
            Ok(Composed::Command(CmdAction::Join("#a:b".into())))
        );
        assert_eq!(
            parse("/topic Cats only"),
            Ok(Composed::Command(CmdAction::Topic("Cats only".into())))
        );
        assert_eq!(
            parse("/react 👍"),
            Ok(Composed::Command(CmdAction::React("👍".into())))
        );
        // A `:` command that is not a slash command stays text-safe.
        assert!(parse("/quit").is_err());
    }

    #[test]
    fn unknown_commands_are_said_and_not_sent() {
        let e = parse("/frobnicate now").unwrap_err();
        assert!(e.0.contains("unknown command /frobnicate"), "{}", e.0);
        assert!(e.0.contains("//frobnicate"), "{}", e.0);
        assert!(parse("/").is_err());
    }

    #[test]
    fn completion_of_names() {
        assert_eq!(complete("to"), vec!["topic"]);
        assert_eq!(complete("u"), vec!["upload", "unban"]);
        assert_eq!(complete("zz"), Vec::<&str>::new());
        assert_eq!(complete("").len(), COMMANDS.len());
    }
}
