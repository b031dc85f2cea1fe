//! The room list, membership and sending.

use super::Handles;
use crate::matrix::protocol::OpId;
use crate::matrix::protocol::rooms::{Cmd, Create, Invite, Join, Leave, List, Search, SendText};
use crate::matrix::rooms;

pub fn handle(h: &Handles, op: OpId, cmd: Cmd) {
    let c = h.client.clone();
    match cmd {
        Cmd::List(_) => h.job::<List, _>(op, async move { Ok(rooms::summaries(&c).await) }),
        Cmd::Create(Create {
            name,
            invites,
            alias,
            encrypted,
        }) => h.job::<Create, _>(op, async move {
            let id = rooms::create(&c, &name, &invites, alias.as_deref(), encrypted).await?;
            Ok(id.to_string())
        }),
        Cmd::Invite(Invite { room, user }) => {
            h.job::<Invite, _>(
                op,
                async move { Ok(rooms::invite(&c, &room, &user).await?) },
            )
        }
        Cmd::Join(Join { room }) => {
            h.job::<Join, _>(
                op,
                async move { Ok(rooms::join(&c, &room).await?.to_string()) },
            )
        }
        Cmd::Leave(Leave { room }) => {
            h.job::<Leave, _>(op, async move { Ok(rooms::leave(&c, &room).await?) })
        }
        Cmd::Search(Search { room, text, limit }) => h.job::<Search, _>(op, async move {
            Ok(crate::matrix::search::search(&c, &room, &text, limit).await?)
        }),
        Cmd::SendText(SendText { room, text, thread }) => h.job::<SendText, _>(op, async move {
            Ok(rooms::send_text(&c, &room, &text, thread.as_deref()).await?)
        }),
    }
}
