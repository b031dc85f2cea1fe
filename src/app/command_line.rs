//! The `:` command line: its keys and running a parsed command.

use super::*;

pub(super) fn cmdline_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(line) = &mut st.cmdline else { return };
    match k.code {
        KeyCode::Esc => st.cmdline = None,
        KeyCode::Backspace if line.is_empty() => st.cmdline = None,
        KeyCode::Enter => {
            let text = line.take();
            st.cmdline = None;
            match command::parse(&text) {
                Ok(a) => run_command(st, a, fx),
                Err(e) => notice(st, e.0, true),
            }
        }
        _ => {
            line.edit(&k);
        }
    }
}

pub(super) fn run_command(st: &mut AppState, a: CmdAction, fx: &mut Vec<Effect>) {
    let current = st.room.as_ref().map(|r| r.id.clone());
    match a {
        CmdAction::Quit => quit(st),
        CmdAction::Help => st.help = true,
        CmdAction::Rooms => go(st, Screen::Rooms, fx),
        CmdAction::Search(text) => search::ask_server(st, text, fx),
        CmdAction::Space(name) => spaces::command(st, name, fx),
        CmdAction::Sort(by) => {
            rooms::sort_rooms(st, by);
            go(st, Screen::Rooms, fx);
        }
        CmdAction::Join(room) => {
            notice(st, format!("joining {room}…"), false);
            fx.push(Effect::worker(p::rooms::Join { room }));
        }
        CmdAction::Leave(room) => {
            // The room on screen: the highlighted one on the room list, the
            // open one in a room.
            let shown = match st.screen {
                Screen::Rooms => st.selected_room().map(|r| r.room_id.clone()),
                Screen::Timeline => current,
                _ => None,
            };
            match room.or(shown) {
                Some(room) => {
                    let name = room_name(st, &room);
                    ask_confirm(
                        st,
                        format!(
                            "Leave {name}? You need a new invitation to come back to an invite-only room."
                        ),
                        ConfirmAct::Leave { room, name },
                    );
                }
                None => notice(
                    st,
                    "which room? :leave ROOM (or highlight or open it)",
                    true,
                ),
            }
        }
        CmdAction::Invite { user, room } => match room.or(current) {
            Some(room) => {
                notice(st, format!("inviting {user}…"), false);
                fx.push(Effect::worker(p::rooms::Invite { room, user }));
            }
            None => notice(st, "which room? open one or :invite USER ROOM", true),
        },
        CmdAction::Create { name, encrypted } => {
            notice(st, format!("creating {name}…"), false);
            fx.push(Effect::worker(p::rooms::Create {
                name,
                invites: vec![],
                alias: None,
                encrypted,
            }));
        }
        CmdAction::Verify { user, device } => {
            notice(st, "asking for verification…", false);
            fx.push(Effect::worker(p::verify::Request { user, device }));
        }
        CmdAction::Devices(user) => {
            st.devices.user = user;
            st.devices.sel = 0;
            go(st, Screen::Devices, fx);
        }
        CmdAction::Backup(b) => {
            go(st, Screen::Backup, fx);
            match b {
                BackupAction::Show | BackupAction::Status => {}
                BackupAction::Restore => restore_or_ask(st, fx),
                BackupAction::Create => ask(st, PromptFor::BackupCreate),
                BackupAction::Reset => {
                    let q = reset_question(st);
                    ask_confirm(st, q, ConfirmAct::BackupReset);
                }
                BackupAction::Upload => fx.push(Effect::worker(p::backup::Upload)),
                BackupAction::UseCurrent => {
                    st.backup.busy = Some("adopting the server's version");
                    fx.push(Effect::worker(p::backup::UseCurrent));
                }
            }
        }
        CmdAction::Recovery(r) => {
            go(st, Screen::Recovery, fx);
            match r {
                RecoveryAction::Show => {}
                RecoveryAction::Unlock => ask(st, PromptFor::RecoveryUnlock),
                RecoveryAction::Setup => recovery_setup(st, fx),
            }
        }
        CmdAction::Topic(topic) => match current {
            Some(room) => fx.push(Effect::worker(p::rooms::SetTopic { room, topic })),
            None => notice(st, "open the room whose topic to set", true),
        },
        CmdAction::Name(name) => match current {
            Some(room) => fx.push(Effect::worker(p::rooms::SetName { room, name })),
            None => notice(st, "open the room to rename", true),
        },
        CmdAction::Dm(user) => {
            notice(
                st,
                format!("opening the direct message with {user}…"),
                false,
            );
            fx.push(Effect::worker(p::rooms::Dm { user }));
        }
        CmdAction::Upload(path) => composer::upload(st, &path, fx),
        CmdAction::Members => members::open(st, fx),
        CmdAction::Moderate { what, user, reason } => match current {
            None => notice(st, format!("open the room to {} in", what.verb()), true),
            // Lifting a ban takes nothing from anyone: no question.
            Some(room) if what == crate::matrix::manage::Moderation::Unban => {
                fx.push(Effect::worker(p::rooms::Moderate {
                    room,
                    user,
                    what,
                    reason,
                }))
            }
            Some(room) => {
                let name = room_name(st, &room);
                let why = reason
                    .as_deref()
                    .map(|r| format!(" (reason: “{r}”)"))
                    .unwrap_or_default();
                ask_confirm(
                    st,
                    format!("{} {user} from {name}{why}?", capitalized(what.verb())),
                    ConfirmAct::Moderate {
                        room,
                        user,
                        what,
                        reason,
                    },
                );
            }
        },
        CmdAction::Thread(text) => thread_command(st, text, fx),
        CmdAction::React(key) => react(st, &key, fx),
        CmdAction::Redact(reason) => redact(st, reason),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
