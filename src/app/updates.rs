//! What the worker sends: its unasked updates (sync, rooms, timelines,
//! verifications, progress) and each command's outcome, routed to the
//! screen it belongs to.

use super::*;

pub(super) fn worker_update(st: &mut AppState, u: Update, fx: &mut Vec<Effect>) {
    match u {
        Update::Done { op, outcome } => {
            let sent = st.pending.remove(&op);
            finished(st, sent, outcome, fx);
        }
        Update::Sync(s) => st.sync = Some(s),
        Update::Rooms(rooms) => {
            st.rooms_synced = true;
            set_rooms(st, rooms);
        }
        Update::Timeline {
            room,
            thread,
            items,
        } => {
            timeline(st, room, thread, items, fx);
        }
        Update::Alert(a) => alerts::alert(st, a, fx),
        Update::Upload(progress) => {
            composer::upload_progress(st, progress);
            st.dirty = true;
        }
        Update::Typing { room, users } => {
            let me = st.me.clone();
            if let Some(r) = &mut st.room
                && r.id == room
            {
                r.typing = users
                    .into_iter()
                    .filter(|u| Some(u) != me.as_ref())
                    .collect();
            }
        }
        Update::Verification(v) => {
            let done = matches!(v.state, VerifyState::Done { .. });
            verification_update(st, v);
            // The devices screen shows the new state without a refresh.
            if done {
                st.devices.loading = true;
                fx.push(Effect::worker(p::devices::List {
                    user: st.devices.user.clone(),
                }));
            }
        }
        Update::Gossip(g) => {
            use crate::matrix::gossip::GossipEvent as G;
            let (text, error) = match g {
                G::Served { device } => (format!("sent the backup key to {device}"), false),
                G::Refused { device, reason, .. } => (
                    format!("refused the backup key to {device}: {reason}"),
                    true,
                ),
                G::Received { device } => {
                    fx.push(Effect::worker(p::backup::Status));
                    (format!("received the backup key from {device}"), false)
                }
                G::Ignored { reason } => (format!("ignored a backup key: {reason}"), true),
            };
            notice(st, text, error);
        }
        Update::Backup(p) => {
            let settled = p.state == UploadState::Idle && p.pending == 0;
            let was_busy = st
                .backup
                .upload
                .as_ref()
                .is_some_and(|o| o.state == UploadState::Uploading);
            st.backup.upload = Some(p);
            if settled && was_busy {
                fx.push(Effect::worker(p::backup::Status));
            }
        }
        Update::Restore(p) => st.backup.restore = Some(p),
    }
}

/// The room a timeline command was for (its outcome does not say).
fn room_of(sent: Option<&Command>) -> Option<&str> {
    use p::timeline::Cmd;
    match sent {
        Some(Command::Timeline(Cmd::Open(o))) => Some(&o.room),
        Some(Command::Timeline(Cmd::PaginateBack(b))) => Some(&b.room),
        _ => None,
    }
}

/// A command's outcome, handed to the screen it belongs to; `sent` is
/// the command as it was sent.
fn finished(st: &mut AppState, sent: Option<Command>, outcome: Outcome, fx: &mut Vec<Effect>) {
    match outcome {
        Outcome::Account(p::account::Done::WhoAmI(Ok(w))) => st.me = Some(w.user_id),
        Outcome::Account(done) => error_notice(st, done.error()),
        Outcome::Rooms(done) => rooms::finished(st, done, fx),
        Outcome::Timeline(p::timeline::Done::Preview(result)) => {
            let Some(Command::Timeline(p::timeline::Cmd::Preview(asked))) = sent else {
                return;
            };
            match result {
                Ok(bytes) => fx.push(Effect::DecodePreview {
                    event_id: asked.event_id,
                    bytes,
                }),
                Err(e) => {
                    st.previews
                        .insert(asked.event_id, PreviewState::Failed(e.to_string()));
                }
            }
        }
        Outcome::Timeline(done) => {
            let room = room_of(sent.as_ref()).map(str::to_owned);
            // A file saved for `o` is opened once it is there.
            let open = matches!(
                &sent,
                Some(Command::Timeline(p::timeline::Cmd::Download(d))) if d.open
            );
            timeline::finished(st, room, done, open, fx);
        }
        Outcome::Recovery(done) => recovery::finished(st, done, fx),
        Outcome::Devices(done) => devices::finished(st, done),
        Outcome::Verify(done) => verify::finished(st, done),
        Outcome::Backup(done) => backup::finished(st, done, fx),
    }
}
