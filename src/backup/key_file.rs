//! Key files in the standard encrypted export format (the one Element reads
//! and writes: "-----BEGIN MEGOLM SESSION DATA-----", AES-CTR + HMAC under a
//! PBKDF2 passphrase key).
//!
//! Imported keys are recorded in the trust table as coming from a key file:
//! untrusted (a file cannot vouch for who sent a key) unless the user says
//! otherwise. They are backed up like any key, with `untrusted: true` unless
//! trusted.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::trust::{Source, TrustTable};

/// PBKDF2 rounds for a new export: what Element and matrix-sdk use.
const EXPORT_ROUNDS: u32 = 500_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Keys in the file.
    pub total: usize,
    /// Keys that were new or better than the copy already held.
    pub imported: usize,
    pub trusted: bool,
}

fn machine_error() -> String {
    "the encryption machine is not running (not logged in?)".into()
}

/// Writes every session this device holds to `path` (which must not exist),
/// encrypted with `passphrase`; returns how many.
pub async fn export(
    base: &matrix_sdk_base::BaseClient,
    path: &Path,
    passphrase: &str,
) -> Result<usize, String> {
    let machine = base.olm_machine().await;
    let machine = machine.as_ref().ok_or_else(machine_error)?;
    let keys = machine
        .store()
        .export_room_keys(|_| true)
        .await
        .map_err(|e| format!("cannot read the keys: {e}"))?;
    let n = keys.len();
    let pass = passphrase.to_owned();
    // PBKDF2 with 500,000 rounds takes a while: off the async threads.
    let armored = tokio::task::spawn_blocking(move || {
        matrix_sdk_crypto::encrypt_room_key_export(&keys, &pass, EXPORT_ROUNDS)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("cannot encrypt the export: {e}"))?;
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!("{} already exists; not overwriting it", path.display())
        }
        _ => format!("cannot create {}: {e}", path.display()),
    })?;
    file.write_all(armored.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(n)
}

/// Reads the key file at `path` with `passphrase` and imports its keys,
/// recording them as `trusted` or not.
pub async fn import(
    base: &matrix_sdk_base::BaseClient,
    trust: &TrustTable,
    upload_lock: &tokio::sync::Mutex<()>,
    path: &Path,
    passphrase: &str,
    trusted: bool,
) -> Result<ImportReport, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let pass = passphrase.to_owned();
    let keys = tokio::task::spawn_blocking(move || {
        matrix_sdk_crypto::decrypt_room_key_export(file, &pass)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| match e {
        matrix_sdk_crypto::KeyExportError::InvalidMac => {
            format!(
                "wrong passphrase for {} (or the file was altered)",
                path.display()
            )
        }
        other => format!("{} is not a readable key file: {other}", path.display()),
    })?;
    let total = keys.len();
    // Trust rows first (see restore), and the uploader waits meanwhile so it
    // reads the rows when it backs these keys up.
    let _guard = upload_lock.lock().await;
    trust
        .record(
            Source::KeyFile,
            keys.iter()
                .map(|k| (k.room_id.as_str(), k.session_id.as_str(), trusted)),
        )
        .map_err(|e| e.to_string())?;
    let machine = base.olm_machine().await;
    let machine = machine.as_ref().ok_or_else(machine_error)?;
    let r = machine
        .store()
        .import_exported_room_keys(keys, |_, _| {})
        .await
        .map_err(|e| format!("cannot import the keys: {e}"))?;
    Ok(ImportReport {
        total,
        imported: r.imported_count,
        trusted,
    })
}
