//! Managing a room and its people: direct messages, topic and name, kick,
//! ban and unban, the member list with each member's verification, typing
//! notices. A refusal for want of power is said in words.

use matrix_sdk::room::RoomMember;
use matrix_sdk::{Client, RoomMemberships};
use serde::Serialize;

use super::rooms::{RoomError, find, user};

/// A direct-message room with someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmRoom {
    pub room_id: String,
    pub with: String,
    /// Made now (else an existing DM was found).
    pub created: bool,
}

/// What to do to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    Kick,
    Ban,
    Unban,
}

impl Moderation {
    pub fn verb(self) -> &'static str {
        match self {
            Moderation::Kick => "kick",
            Moderation::Ban => "ban",
            Moderation::Unban => "unban",
        }
    }
}

/// A member as the members view lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub user_id: String,
    pub display_name: Option<String>,
    /// "join" or "invite".
    pub membership: &'static str,
    pub power_level: i64,
    /// From this device's store: "verified", "unverified", "changed" (was
    /// verified, its identity changed since: the SDK's verdict), or
    /// "unknown" (no keys known for them).
    pub verification: &'static str,
}

/// A server refusal in words: a missing power level is named as such, any
/// other refusal says what the server said (cleaned for the terminal).
pub fn refused(what: &str, e: impl std::fmt::Display) -> RoomError {
    let text = e.to_string();
    let insufficient = text.contains("INSUFFICIENT_POWER");
    let Some((_, after)) = text
        .split_once("M_FORBIDDEN")
        .or_else(|| text.split_once("INSUFFICIENT_POWER"))
    else {
        return RoomError::Server(format!("could not {what}: {text}"));
    };
    let said = crate::terminal_text::clean(after.trim_start_matches([':', ' ', ']', ')']).trim())
        .into_owned();
    // Synapse says "You don't have permission ... user_level (0) <
    // send_level (50)" or "You cannot kick user @x." when power is short.
    let about_power = insufficient || {
        let l = said.to_lowercase();
        [
            "power",
            "level",
            "permission",
            "cannot kick",
            "cannot ban",
            "cannot unban",
        ]
        .iter()
        .any(|w| l.contains(w))
    };
    RoomError::Server(if about_power {
        format!(
            "you may not {what} in this room: your power level is too low (the server said: {said})"
        )
    } else if said.is_empty() {
        format!("the server refused to {what}")
    } else {
        format!("the server refused to {what}: {said}")
    })
}

/// The DM with `who` we are in, or a new one (encrypted, marked direct,
/// `who` invited).
pub async fn dm(client: &Client, who: &str) -> Result<DmRoom, RoomError> {
    let target = user(who)?;
    if client.user_id() == Some(target.as_ref()) {
        return Err(RoomError::Invalid(
            "a direct message needs someone else".into(),
        ));
    }
    if let Some(room) = client.get_dm_room(&target) {
        return Ok(DmRoom {
            room_id: room.room_id().to_string(),
            with: target.to_string(),
            created: false,
        });
    }
    // The server knows whether the user exists: better said now than by an
    // invite that never arrives.
    client
        .account()
        .fetch_user_profile_of(&target)
        .await
        .map_err(|e| RoomError::NotFound(format!("{target}: no such user ({e})")))?;
    let room = client
        .create_dm(&target)
        .await
        .map_err(|e| refused("start a direct message", e))?;
    Ok(DmRoom {
        room_id: room.room_id().to_string(),
        with: target.to_string(),
        created: true,
    })
}

pub async fn set_topic(client: &Client, room: &str, topic: &str) -> Result<(), RoomError> {
    find(client, room)
        .await?
        .set_room_topic(topic)
        .await
        .map(drop)
        .map_err(|e| refused("set the topic", e))
}

pub async fn set_name(client: &Client, room: &str, name: &str) -> Result<(), RoomError> {
    find(client, room)
        .await?
        .set_name(name.to_owned())
        .await
        .map(drop)
        .map_err(|e| refused("rename the room", e))
}

pub async fn moderate(
    client: &Client,
    room: &str,
    who: &str,
    what: Moderation,
    reason: Option<&str>,
) -> Result<(), RoomError> {
    let target = user(who)?;
    let room = find(client, room).await?;
    let r = match what {
        Moderation::Kick => room.kick_user(&target, reason).await,
        Moderation::Ban => room.ban_user(&target, reason).await,
        Moderation::Unban => room.unban_user(&target, reason).await,
    };
    r.map_err(|e| refused(&format!("{} {target}", what.verb()), e))
}

/// Joined and invited members, by power then name.
pub async fn members(client: &Client, room: &str) -> Result<Vec<Member>, RoomError> {
    let room = find(client, room).await?;
    let list = room
        .members(RoomMemberships::JOIN | RoomMemberships::INVITE)
        .await
        .map_err(|e| RoomError::Server(format!("could not list the members: {e}")))?;
    let mut out = Vec::with_capacity(list.len());
    for m in list {
        out.push(member(client, &m).await);
    }
    out.sort_by(|a, b| {
        b.power_level.cmp(&a.power_level).then_with(|| {
            let key = |m: &Member| m.display_name.clone().unwrap_or_else(|| m.user_id.clone());
            key(a).to_lowercase().cmp(&key(b).to_lowercase())
        })
    });
    Ok(out)
}

async fn member(client: &Client, m: &RoomMember) -> Member {
    use matrix_sdk::ruma::events::room::member::MembershipState;
    use matrix_sdk::ruma::events::room::power_levels::UserPowerLevel;
    let identity = client
        .encryption()
        .get_user_identity(m.user_id())
        .await
        .ok()
        .flatten();
    let verification = match identity {
        None => "unknown",
        Some(i) if i.has_verification_violation() => "changed",
        Some(i) if i.is_verified() => "verified",
        Some(_) => "unverified",
    };
    Member {
        user_id: m.user_id().to_string(),
        display_name: m
            .display_name()
            .map(|n| crate::terminal_text::clean(n).into_owned()),
        membership: if *m.membership() == MembershipState::Invite {
            "invite"
        } else {
            "join"
        },
        // A room creator (room version 12) outranks every number.
        power_level: match m.power_level() {
            UserPowerLevel::Int(i) => i.into(),
            _ => i64::MAX,
        },
        verification,
    }
}

/// Tells the room we are typing (or stopped).
pub async fn typing(client: &Client, room: &str, typing: bool) -> Result<(), RoomError> {
    find(client, room)
        .await?
        .typing_notice(typing)
        .await
        .map_err(|e| RoomError::Server(format!("could not send the typing notice: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_in_words() {
        let e = refused(
            "set the topic",
            "the server returned an error: [403 / M_FORBIDDEN] You don't have permission to post that to the room. user_level (0) < send_level (50)",
        );
        assert_eq!(
            e.to_string(),
            "you may not set the topic in this room: your power level is too low (the server said: You don't have permission to post that to the room. user_level (0) < send_level (50))"
        );
        let e = refused(
            "kick @b:x",
            "[403 / M_FORBIDDEN] User @b:x is not in the room",
        );
        assert_eq!(
            e.to_string(),
            "the server refused to kick @b:x: User @b:x is not in the room"
        );
        let e = refused("send files", "[413 / M_TOO_LARGE] too big");
        assert_eq!(
            e.to_string(),
            "could not send files: [413 / M_TOO_LARGE] too big"
        );
    }
}
