//! `keepsake verify`: an emoji verification in the terminal, either side.
//! After a self-verification it stays a little longer so the backup key can
//! travel: the device without it waits to receive it, the one with it waits
//! to serve it.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use tokio::time::Instant;

use super::Session;
use crate::config::Settings;
use crate::matrix::gossip::GossipEvent;
use crate::matrix::protocol::{self as p, Error, OpId, Update};
use crate::matrix::verify::{Flow, VerifyState, VerifyUpdate};
use crate::secrets::SecretStore;

pub struct VerifyArgs {
    pub user: Option<String>,
    pub device: Option<String>,
    pub accept: bool,
    pub yes: bool,
    pub timeout: u64,
    pub json: bool,
}

/// How long the two devices keep syncing after a self-verification for the
/// backup key to be requested and answered.
const GOSSIP_WAIT: Duration = Duration::from_secs(30);
const SERVE_WAIT: Duration = Duration::from_secs(15);

fn say(json: bool, v: serde_json::Value, text: String) {
    if json {
        crate::outln!("{v}");
    } else {
        crate::outln!("{text}");
    }
}

fn step(json: bool, u: &VerifyUpdate, text: String) {
    let v = serde_json::to_value(u).unwrap_or_default();
    say(json, v, text);
}

/// Asks "do they match?" on the terminal (blocking read off the runtime).
async fn ask_match() -> Result<bool, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(
            "no terminal to confirm the emoji on; pass --yes to confirm them unasked".into(),
        );
    }
    tokio::task::spawn_blocking(|| {
        eprint!("Do the emoji match the other screen? [y/n] ");
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the answer: {e}"))?;
        Ok(matches!(line.trim(), "y" | "Y" | "yes"))
    })
    .await
    .map_err(|e| e.to_string())?
}

pub async fn run(
    settings: &Settings,
    secrets: &SecretStore,
    a: VerifyArgs,
) -> Result<ExitCode, Error> {
    let mut s = Session::open(settings, secrets).await?;
    s.worker.send(p::account::StartSync {
        long_poll: Duration::from_secs(1),
    });
    let deadline = Instant::now() + Duration::from_secs(a.timeout);
    let mut flow: Option<Flow> = None;
    if a.accept {
        if !a.json {
            crate::outln!("waiting for a verification request…");
        }
    } else {
        let f = s
            .call(p::verify::Request {
                user: a.user.clone(),
                device: a.device.clone(),
            })
            .await?;
        flow = Some(f);
    }
    // Results of the commands we send along the way; a failure ends the run.
    let mut pending: Vec<OpId> = vec![];
    // Rooms we were invited to by the user we wait for: an in-room request
    // lives in a direct room, so accepting one from a named user joins it.
    let mut joined: Vec<String> = vec![];
    let (self_verification, done_device) = loop {
        let u = tokio::time::timeout_at(deadline, s.next_update())
            .await
            .map_err(|_| "timed out waiting for the other side".to_owned())?
            .ok_or("the worker stopped")?;
        let v = match u {
            Update::Verification(v) => v,
            Update::Rooms(list) if a.accept && flow.is_none() => {
                let Some(want) = a.user.as_deref() else {
                    continue;
                };
                for r in list {
                    if r.membership == "invited"
                        && r.is_dm
                        && r.inviter.as_deref() == Some(want)
                        && !joined.contains(&r.room_id)
                    {
                        joined.push(r.room_id.clone());
                        pending.push(s.worker.send(p::rooms::Join { room: r.room_id }));
                    }
                }
                continue;
            }
            Update::Done { op, outcome } if pending.contains(&op) => match outcome.error() {
                Some(e) => return Err(e.clone()),
                None => continue,
            },
            _ => continue,
        };
        if flow.is_none() {
            let from_wanted = a.user.as_deref().is_none_or(|w| w == v.flow.user);
            if matches!(v.state, VerifyState::Incoming { .. }) && from_wanted {
                flow = Some(v.flow.clone());
                pending.push(s.worker.send(p::verify::Accept(v.flow.clone())));
            } else {
                continue;
            }
        }
        if flow.as_ref() != Some(&v.flow) {
            continue;
        }
        match &v.state {
            VerifyState::Incoming { from_device } => step(
                a.json,
                &v,
                format!(
                    "request from {} (device {}); accepting",
                    v.flow.user,
                    from_device.as_deref().unwrap_or("?")
                ),
            ),
            VerifyState::Requested => step(
                a.json,
                &v,
                format!(
                    "request sent to {}; waiting for them to accept",
                    v.flow.user
                ),
            ),
            VerifyState::Ready => step(a.json, &v, "accepted; exchanging keys".into()),
            VerifyState::Emoji { emoji } => {
                let line = emoji
                    .iter()
                    .map(|e| format!("{} {}", e.symbol, e.name))
                    .collect::<Vec<_>>()
                    .join("  ");
                step(a.json, &v, format!("emoji: {line}"));
                let f = v.flow.clone();
                if a.yes || ask_match().await? {
                    pending.push(s.worker.send(p::verify::Confirm(f)));
                } else {
                    let _ = s.call(p::verify::Mismatch(f)).await;
                    return Err("the emoji do not match: verification cancelled".into());
                }
            }
            VerifyState::Confirmed => {
                step(a.json, &v, "confirmed; waiting for the other side".into())
            }
            VerifyState::Done { device } => {
                step(
                    a.json,
                    &v,
                    format!(
                        "verified {}{}",
                        v.flow.user,
                        device
                            .as_deref()
                            .map(|d| format!(" (device {d})"))
                            .unwrap_or_default()
                    ),
                );
                break (v.self_verification, device.clone());
            }
            VerifyState::Cancelled { reason } => {
                return Err(format!("verification cancelled: {reason}").into());
            }
        }
    };
    if self_verification {
        share_backup_key(&mut s, a.json, done_device).await?;
    }
    // What the verification queued (signatures, secrets for the other
    // device) goes out with one last sync before we exit.
    s.call(p::account::StopSync).await?;
    s.call(p::account::SyncOnce).await?;
    s.finish(super::FINISH_WITHIN).await;
    Ok(ExitCode::SUCCESS)
}

/// After verifying another device of ours: a device that lacks the backup
/// key or the cross-signing keys waits for them to arrive by gossip; a device
/// that holds the backup key waits to send it.
async fn share_backup_key(s: &mut Session, json: bool, other: Option<String>) -> Result<(), Error> {
    let st = s.call(p::recovery::Status).await?;
    // A key that does not open the server's current version (another
    // device reset the backup) is as good as none: wait for the current one.
    let stale = s.call(p::backup::Status).await?.key_matches == Some(false);
    let have_key = st.backup_key_present && !stale;
    let serving = have_key && st.cross_signing_complete;
    // The gossip handler stores the key before it reports it, so a status
    // check can see the key a moment before the report arrives: a device
    // that lacked the key waits for the report itself, not for the status.
    let mut key_settled = have_key;
    let until = Instant::now() + if serving { SERVE_WAIT } else { GOSSIP_WAIT };
    if !serving && !json {
        crate::outln!("waiting for the keys from your other device…");
    }
    let mut received = false;
    loop {
        let u = match tokio::time::timeout_at(until, s.next_update()).await {
            Ok(Some(u)) => u,
            Ok(None) => return Err("the worker stopped".into()),
            Err(_) => break,
        };
        match u {
            Update::Gossip(g) => {
                let v = serde_json::to_value(&g).unwrap_or_default();
                match &g {
                    GossipEvent::Received { device } => {
                        received = true;
                        key_settled = true;
                        say(
                            json,
                            v,
                            format!("received the backup key from device {device}"),
                        );
                    }
                    GossipEvent::Served { device } => {
                        say(json, v, format!("sent the backup key to device {device}"));
                        if serving && other.as_deref().is_none_or(|o| o == device) {
                            return Ok(());
                        }
                    }
                    GossipEvent::Refused { device, reason, .. } => {
                        crate::errln!("keepsake: did not send the backup key to {device}: {reason}")
                    }
                    GossipEvent::Ignored { reason } => {
                        key_settled = true;
                        crate::errln!("keepsake: ignored a backup key: {reason}")
                    }
                }
            }
            Update::Sync(_) => {}
            _ => continue,
        }
        if !serving && key_settled {
            let st = s.call(p::recovery::Status).await?;
            if st.cross_signing_complete {
                return Ok(());
            }
        }
    }
    if !serving {
        let st = s.call(p::recovery::Status).await?;
        if !st.cross_signing_complete {
            crate::errln!(
                "keepsake: the cross-signing keys did not arrive; keep your other device online, or use `keepsake recovery unlock`"
            );
        }
        if !st.backup_key_present && !received {
            crate::errln!(
                "keepsake: no backup key arrived; keep your other device online and run `keepsake sync` there, or use `keepsake recovery unlock`"
            );
        }
    }
    Ok(())
}
