//! `keepsake recovery setup|unlock|reset|status` and `keepsake devices`.

use std::process::ExitCode;

use zeroize::Zeroizing;

use super::{Session, out, print_json, stdin_secret};
use crate::cli::RecoveryAction;
use crate::config::Settings;
use crate::matrix::protocol::{self as p, Error, ErrorKind, Secret};
use crate::matrix::recovery::group_key;
use crate::prompt;
use crate::secrets::SecretStore;

/// Asks twice on the terminal, so a typo cannot lock the user out.
fn new_passphrase() -> Result<Zeroizing<String>, Error> {
    let p = prompt::secret("New passphrase: ", "passphrase", "--passphrase-stdin")?;
    let again = prompt::secret("Repeat it: ", "passphrase", "--passphrase-stdin")?;
    if *p != *again {
        return Err("the two passphrases differ; nothing was changed".into());
    }
    Ok(p)
}

fn passphrase(ask: bool, from_stdin: bool) -> Result<Option<Secret>, Error> {
    Ok(if from_stdin {
        Some(Secret(stdin_secret("passphrase")?))
    } else if ask {
        Some(Secret(new_passphrase()?))
    } else {
        None
    })
}

/// What became of the backup in `recovery setup`.
enum SetupBackup {
    /// Not asked for (`--no-backup`, or `recovery reset`).
    Skipped,
    Created(crate::backup::manage::Created),
    /// The account already had one; it was left alone.
    Exists {
        version: String,
        algorithm: String,
    },
}

fn show_key(key: &Secret, has_passphrase: bool, backup: &SetupBackup, json: bool) {
    let grouped = group_key(key.expose());
    if json {
        let mut v =
            serde_json::json!({ "recovery_key": grouped.as_str(), "passphrase": has_passphrase });
        match backup {
            SetupBackup::Skipped => {}
            SetupBackup::Created(c) => {
                v["backup"] = serde_json::json!({ "version": c.version, "algorithm": c.algorithm, "created": true });
            }
            SetupBackup::Exists { version, algorithm } => {
                v["backup"] = serde_json::json!({ "version": version, "algorithm": algorithm, "created": false });
            }
        }
        crate::outln!("{v}");
    } else {
        crate::outln!(
            "Your recovery key (shown once, stored nowhere; write it down or keep it in a password manager):"
        );
        crate::outln!();
        crate::outln!("    {}", grouped.as_str());
        crate::outln!();
        if has_passphrase {
            crate::outln!("Your passphrase opens secret storage too.");
        }
        match backup {
            SetupBackup::Skipped => {}
            SetupBackup::Created(c) => crate::outln!(
                "Key backup version {} ({}) created: every key of this device is uploaded to it.",
                c.version,
                c.algorithm
            ),
            SetupBackup::Exists { version, algorithm } => crate::outln!(
                "The account already has key backup version {version} ({algorithm}); keepsake left it alone (`keepsake backup status` says what to do)."
            ),
        }
    }
}

pub async fn run(
    settings: &Settings,
    secrets: &SecretStore,
    action: RecoveryAction,
) -> Result<ExitCode, Error> {
    // Secrets are read before anything touches the network, so a missing
    // one changes nothing.
    match action {
        RecoveryAction::Setup {
            password_stdin,
            passphrase: ask,
            passphrase_stdin,
            no_backup,
            json,
        } => {
            let password = if password_stdin {
                Some(Secret(stdin_secret("password")?))
            } else {
                None
            };
            let pass = passphrase(ask, passphrase_stdin)?;
            let has = pass.is_some();
            let mut s = Session::open(settings, secrets).await?;
            let setup = |password| p::recovery::Setup {
                password,
                passphrase: pass.clone(),
            };
            let key = match s.call(setup(password)).await {
                // Asked only when the server wants it (not for a first upload).
                Err(e) if e.kind == ErrorKind::PasswordNeeded => {
                    let pw = prompt::secret("Account password: ", "password", "--password-stdin")?;
                    s.call(setup(Some(Secret(pw)))).await?
                }
                r => r?,
            };
            // The backup in the same step (as Element's setup does), with
            // the key just made: nothing is asked twice.
            let backup = if no_backup {
                SetupBackup::Skipped
            } else {
                let st = s.call(p::backup::Status).await?;
                match (st.server_version, st.server_algorithm) {
                    (Some(version), Some(algorithm)) => SetupBackup::Exists { version, algorithm },
                    _ => match s
                        .call(p::backup::Create {
                            key_or_passphrase: Secret(key.0.clone()),
                            algorithm: settings.backup_algorithm.clone(),
                        })
                        .await
                    {
                        Ok(c) => SetupBackup::Created(c),
                        // The key must still be shown: secret storage
                        // holds the new key already.
                        Err(e) => {
                            show_key(&key, has, &SetupBackup::Skipped, json);
                            return Err(Error::new(
                                e.kind,
                                format!(
                                    "secret storage is set up (the key above), but the backup could not be created: {e}; `keepsake backup create` tries again"
                                ),
                            ));
                        }
                    },
                }
            };
            show_key(&key, has, &backup, json);
            s.finish(super::FINISH_WITHIN).await;
        }
        RecoveryAction::Reset {
            passphrase: ask,
            passphrase_stdin,
            json,
        } => {
            let pass = passphrase(ask, passphrase_stdin)?;
            let has = pass.is_some();
            let mut s = Session::open(settings, secrets).await?;
            let key = s.call(p::recovery::Reset { passphrase: pass }).await?;
            show_key(&key, has, &SetupBackup::Skipped, json);
            s.finish(super::FINISH_WITHIN).await;
        }
        RecoveryAction::Unlock { stdin, json } => {
            let input = super::backup::key_or_passphrase(stdin)?;
            let mut s = Session::open(settings, secrets).await?;
            let u = s
                .call(p::recovery::Unlock {
                    key_or_passphrase: input,
                })
                .await?;
            let text = format!(
                "unlocked: this device is {}; {}",
                if u.device_verified {
                    "verified"
                } else {
                    "NOT verified yet"
                },
                if u.backup_key {
                    "backup key kept"
                } else {
                    "secret storage holds no backup key"
                }
            );
            out(
                json,
                serde_json::to_value(&u).map_err(|e| e.to_string())?,
                text,
            );
            s.finish(super::FINISH_WITHIN).await;
        }
        RecoveryAction::Status { json } => {
            let mut s = Session::open(settings, secrets).await?;
            let st = s.call(p::recovery::Status).await?;
            if json {
                print_json(&st)?;
            } else {
                let yn = |b: bool| if b { "yes" } else { "no" };
                crate::outln!(
                    "cross-signing on the account:   {}",
                    yn(st.cross_signing_on_account)
                );
                crate::outln!(
                    "cross-signing keys here:        {}",
                    yn(st.cross_signing_complete)
                );
                crate::outln!("this device verified:           {}", yn(st.device_verified));
                crate::outln!("secret storage:                 {}", yn(st.secret_storage));
                crate::outln!(
                    "backup key on this device:      {}",
                    yn(st.backup_key_present)
                );
            }
            s.finish(super::FINISH_WITHIN).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn devices(
    settings: &Settings,
    secrets: &SecretStore,
    user: Option<String>,
    json: bool,
) -> Result<ExitCode, Error> {
    let mut s = Session::open(settings, secrets).await?;
    let list = s.call(p::devices::List { user }).await?;
    if json {
        print_json(&list)?;
    } else {
        for d in list {
            crate::outln!(
                "{} {:<12} {:<10} {}",
                if d.this_device { "*" } else { " " },
                d.device_id,
                if d.verified { "verified" } else { "unverified" },
                d.name.unwrap_or_default()
            );
        }
    }
    s.finish(super::FINISH_WITHIN).await;
    Ok(ExitCode::SUCCESS)
}
