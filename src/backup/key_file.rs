//! Key files in the standard encrypted export format (the one Element reads
//! and writes: "-----BEGIN MEGOLM SESSION DATA-----", AES-CTR + HMAC under a
//! PBKDF2 passphrase key).
//!
//! Imported keys are recorded in the trust table as coming from a key file:
//! untrusted (a file cannot vouch for who sent a key) unless the user says
//! otherwise. They are backed up like any key, with `untrusted: true` unless
//! trusted.

use crate::backup::error::BackupError;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::held::{HeldSessions, Place};
use super::restore::Target;
use super::trust::Source;

/// PBKDF2 rounds for a new export: what Element and matrix-sdk use.
const EXPORT_ROUNDS: u32 = 500_000;

/// The most PBKDF2 rounds a key file may ask for (ten times what Element
/// and matrix-sdk write; a few seconds here).
pub const MAX_IMPORT_ROUNDS: u32 = 5_000_000;

const HEADER: &str = "-----BEGIN MEGOLM SESSION DATA-----";
const FOOTER: &str = "-----END MEGOLM SESSION DATA-----";

/// The PBKDF2 round count a key file asks for: the armoured base64 holds
/// version 1, a 16-byte salt, a 16-byte IV, then the rounds (big endian).
pub fn rounds_of(file: &[u8]) -> Result<u32, BackupError> {
    let text = std::str::from_utf8(file).map_err(|_| "is not a key file (not text)".to_owned())?;
    let body = text
        .trim()
        .strip_prefix(HEADER)
        .and_then(|b| b.trim_end().strip_suffix(FOOTER))
        .ok_or_else(|| "is not a key file (no MEGOLM SESSION DATA armour)".to_owned())?;
    // Only the head is needed: 37 bytes are 52 base64 characters.
    let head: String = body
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(52)
        .collect();
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &head)
        .map_err(|_| "is not a key file (bad base64)".to_owned())?;
    if bytes.len() < 37 {
        return Err("is not a key file (too short)".into());
    }
    if bytes[0] != 1 {
        return Err(format!("is a key file of unknown version {}", bytes[0]).into());
    }
    Ok(u32::from_be_bytes([
        bytes[33], bytes[34], bytes[35], bytes[36],
    ]))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Keys in the file.
    pub total: usize,
    /// Keys that were new or better than the copy already held.
    pub imported: usize,
    /// Keys of sessions held here under another room, skipped.
    pub room_conflicts: usize,
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
) -> Result<usize, BackupError> {
    let machine = base.olm_machine().await;
    let machine = machine.as_ref().ok_or_else(machine_error)?;
    let keys = machine
        .store()
        .export_room_keys(|_| true)
        .await
        .map_err(|e| format!("cannot read the keys: {e}"))?;
    let n = keys.len();
    let pass = zeroize::Zeroizing::new(passphrase.to_owned());
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
    to: &Target<'_>,
    path: &Path,
    passphrase: &str,
    trusted: bool,
) -> Result<ImportReport, BackupError> {
    let text = std::fs::read(path).map_err(|e| {
        let text = format!("cannot open {}: {e}", path.display());
        if e.kind() == std::io::ErrorKind::NotFound {
            BackupError::NotFound(text)
        } else {
            BackupError::Other(text)
        }
    })?;
    // A hostile file could ask for billions of PBKDF2 rounds and pin a
    // core for hours: read the count before deriving anything.
    let rounds =
        rounds_of(&text).map_err(|e| BackupError::Corrupt(format!("{} {e}", path.display())))?;
    if rounds > MAX_IMPORT_ROUNDS {
        return Err(BackupError::Invalid(format!(
            "{} asks for {rounds} PBKDF2 rounds; keepsake reads files of up to {MAX_IMPORT_ROUNDS} (Element writes {EXPORT_ROUNDS})",
            path.display()
        )));
    }
    let pass = zeroize::Zeroizing::new(passphrase.to_owned());
    let keys = tokio::task::spawn_blocking(move || {
        matrix_sdk_crypto::decrypt_room_key_export(std::io::Cursor::new(text), &pass)
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
    // The uploader waits meanwhile so it reads the rows when it backs these
    // keys up.
    let _guard = to.upload_lock.lock().await;
    // A session held under another room is never replaced (see `held`).
    to.held.sync(to.crypto).await?;
    let mut room_conflicts = 0;
    let mut keep = Vec::with_capacity(keys.len());
    for k in keys {
        if let Place::Elsewhere(other) = to.held.place(&k.room_id, &k.session_id)
            && HeldSessions::confirm(to.crypto, &other, &k.session_id).await?
        {
            room_conflicts += 1;
            continue;
        }
        keep.push(k);
    }
    let machine = to.base.olm_machine().await;
    let machine = machine.as_ref().ok_or_else(machine_error)?;
    let r = machine
        .store()
        .import_exported_room_keys(keep, |_, _| {})
        .await
        .map_err(|e| format!("cannot import the keys: {e}"))?;
    // Rows only for what the store took: a copy it already held keeps its
    // own row (a held untrusted copy is never relabelled by `--trust`). A
    // crash before this leaves imported keys without a row, which are
    // shown and backed up as untrusted.
    let taken = super::held::taken_by_import(&r);
    to.trust
        .record(
            Source::KeyFile,
            taken.iter().map(|(r, s)| (r.as_str(), s.as_str(), trusted)),
        )
        .map_err(|e| e.to_string())?;
    for (room, sid) in &taken {
        to.held.note_one(room, sid);
    }
    Ok(ImportReport {
        total,
        imported: r.imported_count,
        room_conflicts,
        trusted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rounds: u32) -> Vec<u8> {
        let mut raw = vec![1u8];
        raw.extend([7u8; 32]);
        raw.extend(rounds.to_be_bytes());
        raw.extend([9u8; 80]);
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &raw);
        format!("{HEADER}\n{b64}\n{FOOTER}\n").into_bytes()
    }

    #[test]
    fn reads_the_round_count_before_deriving() {
        assert_eq!(rounds_of(&file(500_000)), Ok(500_000));
        assert_eq!(rounds_of(&file(u32::MAX)), Ok(u32::MAX));
        assert!(rounds_of(b"hello").is_err());
        assert!(rounds_of(format!("{HEADER}\nAQ==\n{FOOTER}").as_bytes()).is_err());
    }
}
