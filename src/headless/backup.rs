//! `keepsake backup ...`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use super::{FINISH_WITHIN, Session, out, print_json, stdin_secret};
use crate::backup::health::{Health, Verdict};
use crate::backup::status::BackupStatus;
use crate::backup::upload::{Progress, UploadState};
use crate::cli::BackupAction;
use crate::config::Settings;
use crate::matrix::protocol::{self as p, Error, ErrorKind, Secret, Update};
use crate::prompt;
use crate::secrets::SecretStore;

/// The recovery key or passphrase, from standard input or the terminal.
pub fn key_or_passphrase(stdin: bool) -> Result<Secret, Error> {
    const WHAT: &str = "recovery key or passphrase";
    Ok(Secret(if stdin {
        stdin_secret(WHAT)?
    } else {
        prompt::secret("Recovery key or passphrase: ", WHAT, "--stdin")?
    }))
}

/// Asks the user to type `word` to go on; refuses without a terminal.
fn confirm(question: &str, word: &str) -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::new(
            ErrorKind::Invalid,
            "no terminal to confirm on; pass --yes",
        ));
    }
    eprint!(
        "{}",
        crate::terminal_text::clean(&format!("{question}\nType `{word}` to go on: "))
    );
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    if line.trim() != word {
        return Err(Error::new(
            ErrorKind::Cancelled,
            "not confirmed; nothing was changed",
        ));
    }
    Ok(())
}

/// The warning about the account's other devices that cannot read a
/// symmetric backup; `None` if there are none (or the list is unavailable:
/// the act still asks first).
async fn readers_warning(s: &mut Session) -> Option<String> {
    match s.call(p::devices::List { user: None }).await {
        Ok(list) => crate::backup::readers::warning(&list),
        _ => None,
    }
}

/// Asks before a consequential act (the question, then the warning), or
/// with `--yes` prints the warning as a note and goes on.
fn ask_or_note(yes: bool, question: &str, warning: Option<&str>, word: &str) -> Result<(), Error> {
    if yes {
        if let Some(w) = warning {
            eprintln!(
                "{}",
                crate::terminal_text::clean(&format!("keepsake: note: {w}"))
            );
        }
        return Ok(());
    }
    let q = match warning {
        Some(w) => format!("{question}\n{w}"),
        None => question.to_owned(),
    };
    confirm(&q, word)
}

fn time(ms: Option<u64>) -> String {
    match ms {
        Some(ms) => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
                .saturating_sub(ms / 1000);
            format!("{secs} s ago")
        }
        None => "never".into(),
    }
}

fn print_status(s: &BackupStatus, health: &Health) {
    crate::outln!("health:          {} ({})", health.word(), health.describe());
    crate::outln!(
        "advice:          {}",
        health.advice().phrase(super::step_name)
    );
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let matches = match s.key_matches {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "unchecked",
    };
    crate::outln!(
        "version:         {} ({})",
        opt(&s.version),
        opt(&s.algorithm)
    );
    crate::outln!(
        "on the server:   {} ({}), {} keys, etag {}",
        opt(&s.server_version),
        opt(&s.server_algorithm),
        s.server_count.map(|c| c.to_string()).unwrap_or("-".into()),
        opt(&s.etag)
    );
    crate::outln!(
        "key:             {}; matches the server's backup: {matches}",
        if s.key_present {
            "on this device"
        } else {
            "missing"
        }
    );
    crate::outln!(
        "sessions:        {} local, {} backed up, {} pending",
        s.local_sessions,
        s.backed_up,
        s.pending
    );
    crate::outln!("last upload:     {}", time(s.last_upload));
    if let Some(e) = &s.stale {
        crate::outln!("STOPPED:         {e}");
    }
    if let Some(e) = &s.last_error {
        crate::outln!("last error:      {e}");
    }
    if let Some(e) = &s.server_error {
        crate::outln!("server:          {e}");
    }
}

fn blocked(p: &Progress) -> Option<Error> {
    match p.state {
        UploadState::NoBackup => Some(Error::new(
            ErrorKind::NoBackup,
            "there is no backup to upload to; `keepsake backup create` makes one",
        )),
        UploadState::NoKey => Some(Error::new(
            ErrorKind::KeyNeeded,
            "this device does not hold the backup key; run `keepsake recovery unlock`",
        )),
        UploadState::LoggedOut => Some(Error::new(
            ErrorKind::LoggedOut,
            "uploads stopped: the server no longer accepts this device's session; log in again (`keepsake logout`, then `keepsake login`)",
        )),
        UploadState::Stale => Some(Error::new(
            ErrorKind::Conflict,
            format!(
                "uploads stopped: {}; `keepsake backup use-current` or `keepsake backup reset` decides",
                p.last_error.as_deref().unwrap_or("the backup changed")
            ),
        )),
        _ => None,
    }
}

pub async fn run(
    settings: &Settings,
    secrets: &SecretStore,
    action: BackupAction,
) -> Result<ExitCode, Error> {
    match action {
        BackupAction::Create { stdin, json } => {
            let input = key_or_passphrase(stdin)?;
            let mut s = Session::open(settings, secrets).await?;
            let c = s
                .call(p::backup::Create {
                    key_or_passphrase: input,
                    algorithm: settings.backup_algorithm.clone(),
                })
                .await?;
            let text = format!("created backup version {} ({})", c.version, c.algorithm);
            out(
                json,
                serde_json::to_value(&c).map_err(|e| e.to_string())?,
                text,
            );
            s.finish(FINISH_WITHIN).await;
        }
        BackupAction::Reset { stdin, yes, json } => {
            let mut s = Session::open(settings, secrets).await?;
            let question = "This replaces the backup. First every key of the current backup is restored onto this device (if that fails, nothing changes); its key stays in secret storage, so `keepsake backup restore --version N` can still read it until that version is deleted. Then a new backup with a new key is made, and every key on this device is uploaded to it.";
            let status = Some(s.call(p::backup::Status).await?);
            let switch = if let Some(cur) = status
                .as_ref()
                .and_then(|st| st.server_algorithm.as_deref())
                && cur != settings.backup_algorithm
            {
                Some(format!(
                    "The current version is {cur}; the new one is {} (`backup_algorithm` in the config chooses).",
                    settings.backup_algorithm
                ))
            } else {
                None
            };
            // Both are said with --yes too, as notes.
            let warning = [switch, readers_warning(&mut s).await]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
            let warning = (!warning.is_empty()).then_some(warning);
            ask_or_note(yes, question, warning.as_deref(), "reset")?;
            let input = key_or_passphrase(stdin)?;
            let r = s
                .call(p::backup::Reset {
                    key_or_passphrase: input,
                    algorithm: settings.backup_algorithm.clone(),
                })
                .await?;
            let mut text = String::new();
            if let Some(old) = &r.replaced {
                match &old.restored {
                    Some(rep) => text.push_str(&format!(
                        "restored version {} first: {} keys brought here, {} already here; its key is kept in secret storage\n",
                        old.version, rep.imported, rep.already_held
                    )),
                    None => text.push_str(&format!(
                        "version {} could not be read with any key at hand: its keys stay unreadable\n",
                        old.version
                    )),
                }
            }
            text.push_str(&format!(
                "new backup version {} ({})",
                r.created.version, r.created.algorithm
            ));
            out(
                json,
                serde_json::to_value(&r).map_err(|e| e.to_string())?,
                text,
            );
            s.finish(FINISH_WITHIN).await;
        }
        BackupAction::Migrate {
            stdin,
            yes,
            timeout,
            json,
        } => {
            let mut s = Session::open(settings, secrets).await?;
            let warning = readers_warning(&mut s).await;
            ask_or_note(
                yes,
                "This makes a new symmetric backup the account's current one: the curve25519 backup's keys are restored here first, then uploaded to the new version, marked unverified (anyone who knew that backup's public key could have added keys to it). The curve25519 version stays on the server.",
                warning.as_deref(),
                "migrate",
            )?;
            let input = key_or_passphrase(stdin)?;
            let p::backup::Migrated { restored, created } = s
                .call(p::backup::Migrate {
                    key_or_passphrase: input,
                    algorithm: settings.backup_algorithm.clone(),
                })
                .await?;
            let text = format!(
                "restored {} of {} keys from the curve25519 backup version {}; new symmetric backup version {} ({}); uploading every key to it",
                restored.imported,
                restored.total,
                restored.version,
                created.version,
                created.algorithm
            );
            out(
                json,
                serde_json::json!({ "restored": restored, "created": created }),
                text,
            );
            s.finish(Duration::from_secs(timeout)).await;
        }
        BackupAction::UseCurrent { json } => {
            let mut s = Session::open(settings, secrets).await?;
            let c = s.call(p::backup::UseCurrent).await?;
            let text = format!(
                "uploading to backup version {} ({})",
                c.version, c.algorithm
            );
            out(
                json,
                serde_json::to_value(&c).map_err(|e| e.to_string())?,
                text,
            );
            s.finish(FINISH_WITHIN).await;
        }
        BackupAction::Delete { version, yes } => {
            if !yes {
                confirm(
                    &format!(
                        "This deletes backup version {version} and every key in it from the server."
                    ),
                    &version,
                )?;
            }
            let mut s = Session::open(settings, secrets).await?;
            s.call(p::backup::Delete {
                version: version.clone(),
            })
            .await?;
            crate::outln!("deleted backup version {version}");
        }
        BackupAction::Restore {
            stdin,
            version,
            json,
        } => {
            let mut s = Session::open(settings, secrets).await?;
            let st = s.call(p::backup::Status).await?;
            // Asked only when this device's key may not open the version:
            // none, one that fails the current version, or an older one.
            let input = if st.key_present && st.key_matches != Some(false) && version.is_none() {
                None
            } else {
                Some(key_or_passphrase(stdin)?)
            };
            // Progress on stderr, at most a few lines a second; scripts
            // (and tests) read it to know how far a restore got.
            let mut shown = std::time::Instant::now();
            let watch = |u: &Update| {
                if let Update::Restore(p) = u
                    && (shown.elapsed() >= Duration::from_millis(250)
                        || p.rooms_done == p.rooms_total)
                {
                    shown = std::time::Instant::now();
                    crate::errln!(
                        "restoring: {}/{} rooms, {}/{} keys",
                        p.rooms_done,
                        p.rooms_total,
                        p.keys_done,
                        p.keys_total
                    );
                }
            };
            let r = s
                .call_watching(
                    p::backup::Restore {
                        key_or_passphrase: input,
                        version,
                    },
                    watch,
                )
                .await?;
            if json {
                print_json(&r)?;
            } else {
                crate::outln!(
                    "restored {} of {} keys from backup version {} ({} trusted, {} untrusted) in {:.1} s",
                    r.imported,
                    r.total,
                    r.version,
                    r.trusted,
                    r.untrusted,
                    r.ms as f64 / 1000.0
                );
                if r.rooms_already_done > 0 {
                    crate::outln!(
                        "resumed: {} rooms were done by an earlier restore",
                        r.rooms_already_done
                    );
                }
                for (reason, n) in &r.skipped {
                    crate::outln!(
                        "skipped {n}: {}",
                        serde_json::to_value(reason)
                            .unwrap_or_default()
                            .as_str()
                            .unwrap_or("?")
                    );
                }
                if r.already_held > 0 {
                    crate::outln!(
                        "{} keys were here already, as good or better (kept as they were)",
                        r.already_held
                    );
                }
                for room in &r.rooms_unreadable {
                    crate::outln!("unreadable in the backup, tried again next time: {room}");
                }
                if r.room_conflicts > 0 {
                    crate::outln!(
                        "skipped {} keys filed under a room their session does not belong to (a copy by the server?)",
                        r.room_conflicts
                    );
                }
            }
            s.finish(FINISH_WITHIN).await;
        }
        BackupAction::Inspect { json } => {
            let mut s = Session::open(settings, secrets).await?;
            let i = s.call(p::backup::Inspect).await?;
            if json {
                print_json(&i)?;
            } else {
                crate::outln!("{}", crate::backup::inspect::table(&i).trim_end());
            }
        }
        BackupAction::Status { json } => {
            let mut s = Session::open(settings, secrets).await?;
            let st = s.call(p::backup::Status).await?;
            let health = st.health(None);
            if json {
                let mut v = serde_json::to_value(&st).map_err(|e| e.to_string())?;
                let verdict = serde_json::to_value(Verdict::of(&health, super::step_name))
                    .map_err(|e| e.to_string())?;
                if let (Some(o), serde_json::Value::Object(extra)) = (v.as_object_mut(), verdict) {
                    o.extend(extra);
                }
                print_json(&v)?;
            } else {
                print_status(&st, &health);
            }
        }
        BackupAction::Upload {
            wait,
            timeout,
            json,
        } => {
            let mut s = Session::open(settings, secrets).await?;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
            let mut last: Option<String> = None;
            let p = loop {
                let p = s.call(p::backup::Flush).await?;
                if let Some(why) = blocked(&p) {
                    return Err(why);
                }
                if !wait || p.settled() {
                    break p;
                }
                if p.last_error != last {
                    if let Some(e) = &p.last_error {
                        crate::errln!("keepsake: upload failed, retrying: {e}");
                    }
                    last = p.last_error.clone();
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(Error::new(
                        ErrorKind::Network,
                        format!(
                            "gave up after {timeout} s with {} sessions pending",
                            p.pending
                        ),
                    ));
                }
                // The uploader retries on its own schedule; its progress
                // tells when to ask again.
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    while let Some(u) = s.next_update().await {
                        if matches!(u, Update::Backup(ref q) if q.settled()) {
                            break;
                        }
                    }
                })
                .await;
            };
            let text = format!(
                "{} of {} sessions backed up, {} pending (version {})",
                p.backed_up,
                p.local_sessions,
                p.pending,
                p.version.as_deref().unwrap_or("-")
            );
            out(
                json,
                serde_json::to_value(&p).map_err(|e| e.to_string())?,
                text,
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
