//! The room list, membership and sending.

use super::Handles;
use crate::matrix::manage;
use crate::matrix::protocol::OpId;
use crate::matrix::protocol::rooms::{
    Cmd, Create, Dm, Invite, Join, Leave, List, Members, Moderate, Search, SendFile, SendText,
    SetName, SetTopic, Typing,
};
use crate::matrix::protocol::{Update, UploadProgress};
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
        Cmd::SendText(SendText {
            room,
            text,
            thread,
            format,
            mentions,
        }) => h.job::<SendText, _>(op, async move {
            Ok(rooms::send_text(&c, &room, &text, thread.as_deref(), format, &mentions).await?)
        }),
        Cmd::SendFile(SendFile { room, path, thread }) => {
            let updates = h.updates.clone();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let for_room = room.clone();
            let progress = move |sent, total| {
                let _ = updates.send(Update::Upload(UploadProgress {
                    room: for_room.clone(),
                    name: name.clone(),
                    sent,
                    total,
                }));
            };
            h.job::<SendFile, _>(op, async move {
                Ok(rooms::send_file(&c, &room, &path, thread.as_deref(), progress).await?)
            })
        }
        Cmd::Dm(Dm { user }) => h.job::<Dm, _>(op, async move { Ok(manage::dm(&c, &user).await?) }),
        Cmd::SetTopic(SetTopic { room, topic }) => h.job::<SetTopic, _>(op, async move {
            Ok(manage::set_topic(&c, &room, &topic).await?)
        }),
        Cmd::SetName(SetName { room, name }) => {
            h.job::<SetName, _>(
                op,
                async move { Ok(manage::set_name(&c, &room, &name).await?) },
            )
        }
        Cmd::Moderate(Moderate {
            room,
            user,
            what,
            reason,
        }) => h.job::<Moderate, _>(op, async move {
            Ok(manage::moderate(&c, &room, &user, what, reason.as_deref()).await?)
        }),
        Cmd::Members(Members { room }) => {
            h.job::<Members, _>(op, async move { Ok(manage::members(&c, &room).await?) })
        }
        Cmd::Typing(Typing { room, typing }) => {
            h.job::<Typing, _>(
                op,
                async move { Ok(manage::typing(&c, &room, typing).await?) },
            )
        }
    }
}
