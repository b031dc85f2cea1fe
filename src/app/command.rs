//! The `:` command line: each line parses to one small action, without I/O.

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdAction {
    Quit,
    Help,
    Rooms,
    Join(String),
    /// Leave the given room, or the open one.
    Leave(Option<String>),
    /// Invite a user to the given room, or the open one.
    Invite {
        user: String,
        room: Option<String>,
    },
    /// Create an encrypted (unless told otherwise) room.
    Create {
        name: String,
        encrypted: bool,
    },
    Verify {
        user: Option<String>,
        device: Option<String>,
    },
    Devices(Option<String>),
    Backup(BackupAction),
    Recovery(RecoveryAction),
    /// React to the selected message.
    React(String),
    /// Redact the selected message, with an optional reason.
    Redact(Option<String>),
    /// Order the room list (for this run; the config sets the default).
    Sort(crate::matrix::room_order::RoomSort),
    /// Find text in the open room (the server's search, or the loaded
    /// messages of an encrypted room).
    Search(String),
    /// Show the rooms of one space (`all`: every room); without a name,
    /// pick one.
    Space(Option<String>),
    /// Set the open room's topic.
    Topic(String),
    /// Rename the open room.
    Name(String),
    /// Open (or start) the direct-message room with a user.
    Dm(String),
    /// Send a file to the open room (or thread).
    Upload(String),
    /// Kick, ban or unban a member of the open room.
    Moderate {
        what: crate::matrix::manage::Moderation,
        user: String,
        reason: Option<String>,
    },
    /// The open room's members.
    Members,
    /// Open the selected message's thread; with text, reply in it.
    Thread(Option<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupAction {
    Show,
    Restore,
    Create,
    Upload,
    Reset,
    UseCurrent,
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryAction {
    Show,
    Unlock,
    Setup,
}

use crate::error::Invalid;

const HELP: &str = "commands: join, leave, invite, dm, create, topic, name, members, kick, ban, unban, upload, thread, verify, devices, backup, recovery, react, redact, rooms, sort, search, space, help, quit";

/// Parses one command line (without its `:`).
pub fn parse(line: &str) -> Result<CmdAction, Invalid> {
    let mut words = line.split_whitespace();
    let Some(cmd) = words.next() else {
        return Err(HELP.into());
    };
    let args: Vec<&str> = words.collect();
    // The rest of the line as typed (a topic, a path with spaces).
    let rest = line
        .trim_start()
        .split_once(char::is_whitespace)
        .map(|(_, r)| r.trim())
        .unwrap_or("");
    let no_more = |n: usize, usage: &str| -> Result<(), Invalid> {
        if args.len() > n {
            Err(format!("too many arguments; usage: {usage}").into())
        } else {
            Ok(())
        }
    };
    let action = match cmd {
        "q" | "quit" | "exit" => {
            no_more(0, ":quit")?;
            CmdAction::Quit
        }
        "h" | "help" | "?" => CmdAction::Help,
        "rooms" => CmdAction::Rooms,
        "join" | "j" => {
            no_more(1, ":join ROOM")?;
            CmdAction::Join(
                args.first()
                    .ok_or("usage: :join ROOM (#alias:server or !id:server)")?
                    .to_string(),
            )
        }
        "leave" | "part" => {
            no_more(1, ":leave [ROOM]")?;
            CmdAction::Leave(args.first().map(|s| s.to_string()))
        }
        "invite" => {
            no_more(2, ":invite @user:server [ROOM]")?;
            CmdAction::Invite {
                user: args
                    .first()
                    .ok_or("usage: :invite @user:server [ROOM]")?
                    .to_string(),
                room: args.get(1).map(|s| s.to_string()),
            }
        }
        "create" => {
            let encrypted = !args.contains(&"--unencrypted");
            let name: Vec<&str> = args
                .iter()
                .copied()
                .filter(|a| *a != "--unencrypted")
                .collect();
            if name.is_empty() {
                return Err("usage: :create NAME [--unencrypted]".into());
            }
            CmdAction::Create {
                name: name.join(" "),
                encrypted,
            }
        }
        "verify" => {
            no_more(2, ":verify [@user:server] [DEVICE]")?;
            // A lone argument that is not a user id is one of our devices.
            match (args.first(), args.get(1)) {
                (None, _) => CmdAction::Verify {
                    user: None,
                    device: None,
                },
                (Some(u), d) if u.starts_with('@') => CmdAction::Verify {
                    user: Some(u.to_string()),
                    device: d.map(|s| s.to_string()),
                },
                (Some(d), None) => CmdAction::Verify {
                    user: None,
                    device: Some(d.to_string()),
                },
                (Some(_), Some(_)) => {
                    return Err("usage: :verify [@user:server] [DEVICE]".into());
                }
            }
        }
        "sort" => {
            use crate::matrix::room_order::RoomSort;
            let usage = || format!("usage: :sort {}", RoomSort::NAMES.join("|"));
            no_more(1, &usage())?;
            let by = args.first().ok_or_else(usage)?;
            CmdAction::Sort(RoomSort::parse(by).ok_or_else(|| {
                format!(
                    "cannot sort rooms by “{by}”: by {}",
                    RoomSort::NAMES.join(", ")
                )
            })?)
        }
        "space" | "spaces" => CmdAction::Space((!args.is_empty()).then(|| args.join(" "))),
        "search" | "s" => {
            if args.is_empty() {
                return Err("usage: :search TEXT (/ finds in the loaded messages)".into());
            }
            CmdAction::Search(args.join(" "))
        }
        "devices" => {
            no_more(1, ":devices [@user:server]")?;
            CmdAction::Devices(args.first().map(|s| s.to_string()))
        }
        "backup" => {
            no_more(
                1,
                ":backup [restore|create|upload|reset|use-current|status]",
            )?;
            CmdAction::Backup(match args.first().copied() {
                None => BackupAction::Show,
                Some("restore") => BackupAction::Restore,
                Some("create") => BackupAction::Create,
                Some("upload") => BackupAction::Upload,
                Some("reset" | "migrate") => BackupAction::Reset,
                Some("use-current" | "use_current") => BackupAction::UseCurrent,
                Some("status") => BackupAction::Status,
                Some(other) => {
                    return Err(format!(
                        "unknown backup action `{other}`: restore, create, upload, reset, use-current, status"
                    ).into());
                }
            })
        }
        "recovery" => {
            no_more(1, ":recovery [unlock|setup]")?;
            CmdAction::Recovery(match args.first().copied() {
                None => RecoveryAction::Show,
                Some("unlock") => RecoveryAction::Unlock,
                Some("setup") => RecoveryAction::Setup,
                Some(other) => {
                    return Err(format!("unknown recovery action `{other}`: unlock, setup").into());
                }
            })
        }
        "react" => {
            no_more(1, ":react EMOJI")?;
            CmdAction::React(args.first().ok_or("usage: :react EMOJI")?.to_string())
        }
        "topic" => {
            if rest.is_empty() {
                return Err("usage: topic TEXT".into());
            }
            CmdAction::Topic(rest.to_owned())
        }
        "name" | "rename" => {
            if rest.is_empty() {
                return Err("usage: name NEW NAME".into());
            }
            CmdAction::Name(rest.to_owned())
        }
        "dm" | "msg" | "query" => {
            no_more(1, "dm @user:server")?;
            CmdAction::Dm(args.first().ok_or("usage: dm @user:server")?.to_string())
        }
        "upload" | "file" => {
            if rest.is_empty() {
                return Err("usage: upload PATH".into());
            }
            CmdAction::Upload(rest.to_owned())
        }
        "kick" | "ban" | "unban" => {
            use crate::matrix::manage::Moderation;
            let what = match cmd {
                "kick" => Moderation::Kick,
                "ban" => Moderation::Ban,
                _ => Moderation::Unban,
            };
            let user = args
                .first()
                .ok_or_else(|| format!("usage: {cmd} @user:server [REASON]"))?
                .to_string();
            let reason = args[1..].join(" ");
            CmdAction::Moderate {
                what,
                user,
                reason: (!reason.is_empty()).then_some(reason),
            }
        }
        "members" | "who" => {
            no_more(0, "members")?;
            CmdAction::Members
        }
        "thread" => CmdAction::Thread((!rest.is_empty()).then(|| rest.to_owned())),
        "redact" | "delete" => {
            let reason = args.join(" ");
            CmdAction::Redact((!reason.is_empty()).then_some(reason))
        }
        other => return Err(format!("unknown command `{other}`; {HELP}").into()),
    };
    Ok(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_commands() {
        assert_eq!(parse("join #a:b"), Ok(CmdAction::Join("#a:b".into())));
        assert!(parse("join").unwrap_err().0.contains("usage: :join"));
        assert_eq!(parse("leave"), Ok(CmdAction::Leave(None)));
        assert_eq!(
            parse("invite @bob:x !r:x"),
            Ok(CmdAction::Invite {
                user: "@bob:x".into(),
                room: Some("!r:x".into())
            })
        );
        assert_eq!(
            parse("create My room --unencrypted"),
            Ok(CmdAction::Create {
                name: "My room".into(),
                encrypted: false
            })
        );
        assert_eq!(parse("  quit "), Ok(CmdAction::Quit));
        assert!(parse("quit now").is_err());
    }

    #[test]
    fn room_management_and_files() {
        use crate::matrix::manage::Moderation;
        assert_eq!(
            parse("topic  All about   cats "),
            Ok(CmdAction::Topic("All about   cats".into()))
        );
        assert!(parse("topic").unwrap_err().0.contains("usage: topic"));
        assert_eq!(parse("name Cats"), Ok(CmdAction::Name("Cats".into())));
        assert_eq!(parse("dm @bob:x"), Ok(CmdAction::Dm("@bob:x".into())));
        assert_eq!(
            parse("upload ~/My Pictures/cat.png"),
            Ok(CmdAction::Upload("~/My Pictures/cat.png".into()))
        );
        assert_eq!(
            parse("ban @spam:x spamming links"),
            Ok(CmdAction::Moderate {
                what: Moderation::Ban,
                user: "@spam:x".into(),
                reason: Some("spamming links".into())
            })
        );
        assert_eq!(
            parse("unban @spam:x"),
            Ok(CmdAction::Moderate {
                what: Moderation::Unban,
                user: "@spam:x".into(),
                reason: None
            })
        );
        assert!(parse("kick").unwrap_err().0.contains("usage: kick"));
        assert_eq!(parse("members"), Ok(CmdAction::Members));
        assert_eq!(parse("thread"), Ok(CmdAction::Thread(None)));
        assert_eq!(
            parse("thread me too"),
            Ok(CmdAction::Thread(Some("me too".into())))
        );
    }

    #[test]
    fn verify_takes_a_user_a_device_or_both() {
        let v = |u: Option<&str>, d: Option<&str>| {
            Ok(CmdAction::Verify {
                user: u.map(Into::into),
                device: d.map(Into::into),
            })
        };
        assert_eq!(parse("verify"), v(None, None));
        assert_eq!(parse("verify ABCDEF"), v(None, Some("ABCDEF")));
        assert_eq!(parse("verify @bob:x"), v(Some("@bob:x"), None));
        assert_eq!(parse("verify @bob:x DEV"), v(Some("@bob:x"), Some("DEV")));
        assert!(parse("verify A B").is_err());
    }

    #[test]
    fn backup_and_recovery_actions() {
        assert_eq!(parse("backup"), Ok(CmdAction::Backup(BackupAction::Show)));
        assert_eq!(
            parse("backup restore"),
            Ok(CmdAction::Backup(BackupAction::Restore))
        );
        assert_eq!(
            parse("backup use-current"),
            Ok(CmdAction::Backup(BackupAction::UseCurrent))
        );
        assert_eq!(
            parse("backup migrate"),
            Ok(CmdAction::Backup(BackupAction::Reset))
        );
        assert!(
            parse("backup frobnicate")
                .unwrap_err()
                .0
                .contains("unknown backup action")
        );
        assert_eq!(
            parse("recovery unlock"),
            Ok(CmdAction::Recovery(RecoveryAction::Unlock))
        );
        assert_eq!(
            parse("recovery setup"),
            Ok(CmdAction::Recovery(RecoveryAction::Setup))
        );
        assert_eq!(parse("devices"), Ok(CmdAction::Devices(None)));
    }

    #[test]
    fn unknown_and_empty_lines_say_what_exists() {
        assert!(parse("").unwrap_err().0.starts_with("commands:"));
        assert!(
            parse("frob")
                .unwrap_err()
                .0
                .contains("unknown command `frob`")
        );
        assert_eq!(parse("react 👍"), Ok(CmdAction::React("👍".into())));
        assert_eq!(
            parse("redact spam"),
            Ok(CmdAction::Redact(Some("spam".into())))
        );
    }
}
