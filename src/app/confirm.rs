//! Questions that guard a consequential act (leave, decline, redact, reset, quit): asked with the target named, answered only after a pause so no typed key can answer them.

use super::*;

/// Asks before a destructive act.
pub(super) fn ask_confirm(st: &mut AppState, question: String, act: ConfirmAct) {
    st.confirm = Some(Confirm {
        question,
        act,
        asked_at: st.ticks,
    });
}

pub(super) fn confirm_key(st: &mut AppState, k: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(c) = st.confirm.take() else { return };
    let early = st.ticks.saturating_sub(c.asked_at) < CONFIRM_ARM_TICKS;
    let yes = matches!(k.code, KeyCode::Char('y' | 'Y'))
        && k.modifiers - KeyModifiers::SHIFT == KeyModifiers::NONE;
    if !yes || early {
        let why = if yes {
            " (answered before it was shown)"
        } else {
            ""
        };
        return notice(st, format!("cancelled: nothing was changed{why}"), false);
    }
    match c.act {
        ConfirmAct::Redact {
            room,
            event_id,
            reason,
        } => {
            notice(st, "redacting the message…", false);
            fx.push(Effect::worker(p::timeline::Redact {
                room,
                event_id,
                reason,
            }));
        }
        ConfirmAct::Decline { room, name } => {
            notice(st, format!("declining {name}…"), false);
            fx.push(Effect::worker(p::rooms::Leave { room }));
        }
        ConfirmAct::Leave { room, name } => {
            if st.room.as_ref().is_some_and(|r| r.id == room) {
                st.room = None;
                st.screen = Screen::Rooms;
                fx.push(Effect::worker(p::timeline::Close { room: room.clone() }));
            }
            notice(st, format!("leaving {name}…"), false);
            fx.push(Effect::worker(p::rooms::Leave { room }));
        }
        ConfirmAct::Moderate {
            room,
            user,
            what,
            reason,
        } => {
            notice(st, format!("{}ing {user}…", what.verb()), false);
            fx.push(Effect::worker(p::rooms::Moderate {
                room,
                user,
                what,
                reason,
            }));
        }
        ConfirmAct::Quit => st.quit = true,
        ConfirmAct::BackupReset => ask(st, PromptFor::BackupReset),
    }
}

/// A room's name for a question ("Garden club"), or its id.
pub(super) fn room_name(st: &AppState, room: &str) -> String {
    st.rooms
        .iter()
        .find(|r| r.room_id == room)
        .map(|r| r.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| room.to_owned())
}

/// Quits. An unsent message is kept as the room's draft, unless it holds a
/// secret (never written to a file): then it would be lost, so it asks.
pub(super) fn quit(st: &mut AppState) {
    let text = st.composer.text();
    let kept = text.trim().is_empty()
        || (!guard::holds_recovery_key(text) && !st.typed_secrets.found_in(text));
    if kept {
        st.quit = true;
    } else {
        let room = st.room.as_ref().map(|r| room_name(st, &r.id));
        ask_confirm(
            st,
            format!(
                "Quit? Your unsent message{} holds a secret, so it is not kept as a draft: it will be lost.",
                room.map(|r| format!(" in {r}")).unwrap_or_default()
            ),
            ConfirmAct::Quit,
        );
    }
}
