//! `keepsake keys export|import`: key files in Element's encrypted format.

use std::process::ExitCode;

use super::{FINISH_WITHIN, Session, out, stdin_secret};
use crate::cli::KeysAction;
use crate::config::Settings;
use crate::matrix::protocol::{self as p, Error, ErrorKind, Secret};
use crate::prompt;
use crate::secrets::SecretStore;

const WHAT: &str = "key file passphrase";

/// The passphrase: from stdin, or asked (twice for a new file, so a typo
/// does not lock the user out of their own export).
fn passphrase(stdin: bool, new_file: bool) -> Result<Secret, Error> {
    if stdin {
        return Ok(Secret(stdin_secret(WHAT)?));
    }
    let first = prompt::secret("Key file passphrase: ", WHAT, "--passphrase-stdin")?;
    if first.is_empty() {
        return Err("an empty passphrase is not allowed".into());
    }
    if new_file {
        let again = prompt::secret("The same again: ", WHAT, "--passphrase-stdin")?;
        if again != first {
            return Err("the passphrases differ; nothing was written".into());
        }
    }
    Ok(Secret(first))
}

pub async fn run(
    settings: &Settings,
    secrets: &SecretStore,
    action: KeysAction,
) -> Result<ExitCode, Error> {
    match action {
        KeysAction::Export {
            file,
            passphrase_stdin,
            json,
        } => {
            if file.exists() {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("{} already exists; not overwriting it", file.display()),
                ));
            }
            let pass = passphrase(passphrase_stdin, true)?;
            let mut s = Session::open(settings, secrets).await?;
            let n = s
                .call(p::backup::KeysExport {
                    path: file.clone(),
                    passphrase: pass,
                })
                .await?;
            out(
                json,
                serde_json::json!({ "exported": n, "file": file }),
                format!("exported {n} keys to {}", file.display()),
            );
            s.finish(FINISH_WITHIN).await;
        }
        KeysAction::Import {
            file,
            passphrase_stdin,
            trust,
            json,
        } => {
            let pass = passphrase(passphrase_stdin, false)?;
            let mut s = Session::open(settings, secrets).await?;
            let r = s
                .call(p::backup::KeysImport {
                    path: file,
                    passphrase: pass,
                    trusted: trust,
                })
                .await?;
            let how = if r.trusted { "trusted" } else { "untrusted" };
            let mut text = format!("imported {} of {} keys ({how})", r.imported, r.total);
            if r.room_conflicts > 0 {
                text.push_str(&format!(
                    "; {} skipped: this device holds them under another room",
                    r.room_conflicts
                ));
            }
            out(json, serde_json::to_value(&r).unwrap_or_default(), text);
            // The new keys go to the backup before we exit.
            s.finish(FINISH_WITHIN).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
