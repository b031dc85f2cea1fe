//! Room and message commands: rooms, create-room, invite, join, leave,
//! send, history, sync.

use std::process::ExitCode;

use super::{Session, out, print_json};
use crate::cli::Command;
use crate::config::Settings;
use crate::matrix::protocol::{self as p, Error, SyncState, Update};
use crate::secrets::SecretStore;

/// Room commands: restore the session, start the worker, sync once so the
/// store is current, then send the one command and print its reply. One line
/// on stdout (or one JSON value) on success.
pub async fn run(
    settings: &Settings,
    secrets: &SecretStore,
    cmd: Command,
) -> Result<ExitCode, Error> {
    let mut s = Session::open(settings, secrets).await?;
    match cmd {
        Command::Rooms { json } => {
            let list = s.call(p::rooms::List).await?;
            if json {
                print_json(&list)?;
            } else {
                for r in list {
                    let flags = format!(
                        "{}{}{}",
                        if r.encrypted { "E" } else { "-" },
                        if r.is_dm { "D" } else { "-" },
                        if r.membership == "invited" { "I" } else { "-" },
                    );
                    let unread = match r.highlights {
                        0 => r.unread.to_string(),
                        _ => format!("@{}", r.unread),
                    };
                    let space = if r.is_space { "[space] " } else { "" };
                    crate::outln!("{flags} {unread:>4} {} {space}{}", r.room_id, r.name);
                }
            }
        }
        Command::CreateRoom {
            name,
            invites,
            alias,
            unencrypted,
            json,
        } => {
            let id = s
                .call(p::rooms::Create {
                    name,
                    invites,
                    alias,
                    encrypted: !unencrypted,
                })
                .await?;
            out(json, serde_json::json!({ "room_id": id }), id);
        }
        Command::Invite { room, user, json } => {
            s.call(p::rooms::Invite {
                room: room.clone(),
                user: user.clone(),
            })
            .await?;
            out(
                json,
                serde_json::json!({ "invited": user, "room": room }),
                format!("invited {user} to {room}"),
            );
        }
        Command::Join { room, json } => {
            let id = s.call(p::rooms::Join { room }).await?;
            out(
                json,
                serde_json::json!({ "room_id": id }),
                format!("joined {id}"),
            );
        }
        Command::Leave { room, json } => {
            s.call(p::rooms::Leave { room: room.clone() }).await?;
            out(
                json,
                serde_json::json!({ "left": room }),
                format!("left {room}"),
            );
        }
        Command::Send {
            room,
            text,
            file,
            thread,
            emote,
            plain,
            json,
        } => {
            let id = match file {
                Some(path) => {
                    // Progress on stderr for big files, a few lines a second.
                    let mut shown = std::time::Instant::now();
                    let watch = |u: &Update| {
                        if let Update::Upload(p) = u
                            && p.total > 1 << 20
                            && (shown.elapsed() >= std::time::Duration::from_millis(500)
                                || p.sent == p.total)
                        {
                            shown = std::time::Instant::now();
                            crate::errln!(
                                "uploading {}: {} of {} KiB",
                                crate::terminal_text::clean(&p.name),
                                p.sent / 1024,
                                p.total / 1024
                            );
                        }
                    };
                    s.call_watching(p::rooms::SendFile { room, path, thread }, watch)
                        .await?
                }
                None => {
                    use crate::matrix::outgoing::TextFormat;
                    let format = if emote {
                        TextFormat::Emote
                    } else if plain {
                        TextFormat::Plain
                    } else {
                        TextFormat::Markdown
                    };
                    s.call(p::rooms::SendText {
                        thread,
                        format,
                        ..p::rooms::SendText::markdown(room, text.unwrap_or_default())
                    })
                    .await?
                }
            };
            out(json, serde_json::json!({ "event_id": id }), id);
        }
        Command::Dm { user, json } => {
            let dm = s.call(p::rooms::Dm { user }).await?;
            if json {
                print_json(&dm)?;
            } else {
                crate::outln!(
                    "{} {} (with {})",
                    if dm.created { "created" } else { "found" },
                    dm.room_id,
                    dm.with
                );
            }
        }
        Command::Members { room, json } => {
            let list = s.call(p::rooms::Members { room }).await?;
            if json {
                print_json(&list)?;
            } else {
                for m in list {
                    crate::outln!(
                        "{:>4} {:<10} {} {}",
                        m.power_level,
                        m.verification,
                        m.user_id,
                        m.display_name.unwrap_or_default()
                    );
                }
            }
        }
        Command::Search {
            room,
            text,
            limit,
            json,
        } => {
            let found = s.call(p::rooms::Search { room, text, limit }).await?;
            if json {
                print_json(&found)?;
            } else if found.is_empty() {
                crate::outln!("no match");
            } else {
                for f in found {
                    crate::outln!("{} {} {}: {}", f.ts, f.event_id, f.sender, f.body);
                }
            }
        }
        Command::Download {
            room,
            event,
            output,
            json,
        } => {
            let target = match output {
                Some(f) => crate::matrix::media::Target::File(f),
                None => crate::matrix::media::Target::Dir(settings.download_dir.clone()),
            };
            let saved = s
                .call(p::timeline::Download {
                    room,
                    event_id: event,
                    target,
                    open: false,
                })
                .await?;
            if json {
                print_json(&saved)?;
            } else {
                crate::outln!(
                    "saved {} ({} bytes) to {}",
                    saved.name,
                    saved.size,
                    saved.path
                );
            }
        }
        Command::History {
            room,
            limit,
            thread,
            json,
        } => {
            let items = s
                .call(p::timeline::History {
                    room,
                    limit,
                    thread,
                })
                .await?;
            if json {
                print_json(&items)?;
            } else {
                for i in items {
                    let lock = match (i.encrypted, i.decrypted) {
                        (false, _) => " ",
                        (true, true) => "🔒",
                        (true, false) => "⚠",
                    };
                    let mut body = match (&i.body, i.utd_hint.as_ref().or(i.utd_reason.as_ref())) {
                        (Some(b), _) => b.clone(),
                        (None, Some(r)) => format!("(unable to decrypt: {r})"),
                        (None, None) => String::new(),
                    };
                    if let Some(a) = &i.attachment {
                        let kind = serde_json::to_value(i.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default();
                        body = format!("[{kind}] {}", a.name);
                    }
                    if i.thread_replies > 0 {
                        let s = if i.thread_replies == 1 { "y" } else { "ies" };
                        body.push_str(&format!(" ({} repl{s})", i.thread_replies));
                    }
                    crate::outln!("{lock} {} {}: {body}", i.ts, i.sender);
                }
            }
        }
        Command::Sync { once } => {
            if once {
                crate::outln!("synced");
            } else {
                crate::errln!("keepsake: syncing; press Ctrl-C to stop");
                s.worker.send(p::account::StartSync {
                    long_poll: std::time::Duration::from_secs(30),
                });
                let follow = async {
                    while let Some(u) = s.next_update().await {
                        if let Update::Sync(SyncState::Failing(e)) = u {
                            crate::errln!("keepsake: sync failed, retrying: {e}");
                        }
                    }
                };
                tokio::select! {
                    _ = follow => return Err("the worker stopped".into()),
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
        }
        _ => return Err("not a room command".into()),
    }
    s.finish(super::FINISH_WITHIN).await;
    Ok(ExitCode::SUCCESS)
}
