//! `keepsake backup ...`.

use std::process::ExitCode;

use super::{Session, out, stdin_secret, unexpected};
use crate::cli::BackupAction;
use crate::config::Settings;
use crate::matrix::worker::{Command as W, Reply, Secret};
use crate::prompt;
use crate::secrets::SecretStore;

/// The recovery key or passphrase, from standard input or the terminal.
pub fn key_or_passphrase(stdin: bool) -> Result<Secret, String> {
    const WHAT: &str = "recovery key or passphrase";
    Ok(Secret(if stdin {
        stdin_secret(WHAT)?
    } else {
        prompt::secret("Recovery key or passphrase: ", WHAT, "--stdin")?
    }))
}

pub async fn run(
    settings: &Settings,
    secrets: &SecretStore,
    action: BackupAction,
) -> Result<ExitCode, String> {
    match action {
        BackupAction::Create { stdin, json } => {
            let input = key_or_passphrase(stdin)?;
            let mut s = Session::open(settings, secrets).await?;
            let Reply::BackupCreated(c) = s
                .call(W::BackupCreate {
                    key_or_passphrase: input,
                    algorithm: settings.backup_algorithm.clone(),
                })
                .await?
            else {
                return Err(unexpected());
            };
            let text = format!("created backup version {} ({})", c.version, c.algorithm);
            out(
                json,
                serde_json::to_value(&c).map_err(|e| e.to_string())?,
                text,
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
