//! Entry points for coverage-guided fuzzing (`scripts/fuzz`), one per parser
//! that reads what a server, a file or another device hands us. Each takes
//! raw bytes and must neither panic nor hang, whatever they hold; the
//! committed corpora under `fuzz/corpus/` are replayed by
//! `tests/it/fuzz_corpora.rs` on every test run.

use std::io::Cursor;

use matrix_sdk::ruma::RoomId;
use serde_json::value::RawValue;

use crate::backup::download;
use crate::backup::entry::{Opener, open_entry};
use crate::backup::server::VersionInfo;
use crate::crypto::session::BackedUpSession;
use crate::crypto::ssss::{KeyDescription, SecretStorageKey};
use crate::crypto::{BackupKey, SecretKey, b64, recovery_key};

/// A fuzz target: any bytes in, no panic and no hang out.
pub type Target = fn(&[u8]);

/// Every target by name, for the corpus replay and the fuzz binaries.
pub const TARGETS: &[(&str, Target)] = &[
    ("open_entry", open_entry_structured),
    ("open_entry_raw", open_entry_raw),
    ("download", download_body),
    ("session_json", session_json),
    ("base64", base64),
    ("auth_data", auth_data),
    ("recovery_key", recovery_key_text),
    ("key_description", key_description),
    ("key_file", key_file),
    ("gossip_secret", gossip_secret),
    ("state_file", state_file),
];

/// A fixed key: what the fuzzer varies is the data, not the key.
fn key() -> BackupKey {
    BackupKey::new(SecretKey::from_bytes([7; 32]))
}

const SESSION_ID: &str = "o+21hSjP+mgEmcfdslPsQdvzWnkdt0Wyo00Kp++R8Kc";

fn room() -> &'static RoomId {
    <&RoomId>::try_from("!fuzz:localhost").unwrap_or_else(|_| unreachable!("a valid room id"))
}

/// Structure-aware: the input is the *plaintext* of a backed-up session,
/// sealed under the fixed key, so the MAC passes and the session parser and
/// the session-id check are reached.
pub fn open_entry_structured(data: &[u8]) {
    let k = key();
    let Ok(sealed) = k.encrypt_session(SESSION_ID, data) else {
        return;
    };
    let entry = serde_json::json!({
        "first_message_index": 0,
        "forwarded_count": 0,
        "is_verified": false,
        "session_data": sealed,
    });
    let Ok(raw) = RawValue::from_string(entry.to_string()) else {
        return;
    };
    let _ = open_entry(&Opener::Symmetric(k), room(), SESSION_ID, &raw);
}

/// The input as a whole backup entry, as the server would send it.
pub fn open_entry_raw(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(raw) = serde_json::from_str::<Box<RawValue>>(text) else {
        return;
    };
    let _ = open_entry(&Opener::Symmetric(key()), room(), SESSION_ID, &raw);
}

/// The streaming parser of `GET /room_keys/keys`, reading the input.
pub fn download_body(data: &[u8]) {
    let opener = Opener::Symmetric(key());
    let _ = download::parse(Cursor::new(data), &opener, &|r| r.ends_with('x'), &|_| {
        Ok(())
    });
}

pub fn session_json(data: &[u8]) {
    if let Ok(s) = BackedUpSession::from_json(data) {
        let _ = s.session_id_of_key();
        let _ = s.check_session_id(SESSION_ID);
    }
}

pub fn base64(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = b64::decode(&text);
    let _ = b64::decode_array::<32>(&text, "fuzz");
}

/// A version's `auth_data` checked against our key.
pub fn auth_data(data: &[u8]) {
    let Ok(auth_data) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for algorithm in [
        crate::crypto::backup::ALGORITHM,
        crate::backup::entry::CURVE25519_ALGORITHM,
    ] {
        let v = VersionInfo {
            version: "1".into(),
            algorithm: algorithm.into(),
            auth_data: auth_data.clone(),
            count: 0,
            etag: String::new(),
        };
        let _ = crate::backup::version::key_check(&key(), &v);
        let _ = crate::backup::entry::curve25519_key(&[7; 32], &v);
    }
}

pub fn recovery_key_text(data: &[u8]) {
    let _ = recovery_key::decode(&String::from_utf8_lossy(data));
}

/// A secret-storage key description (with its passphrase info), checked
/// against a fixed key; a passphrase derived only for cheap counts.
pub fn key_description(data: &[u8]) {
    let Ok(desc) = serde_json::from_slice::<KeyDescription>(data) else {
        return;
    };
    let k = SecretStorageKey::new(SecretKey::from_bytes([9; 32]));
    let _ = k.check(&desc);
    if let Some(p) = &desc.passphrase
        && p.iterations <= 16
    {
        let _ = SecretStorageKey::from_passphrase("fuzz", p);
    }
}

/// An Element key file: the rounds read (and capped) first, then decrypted
/// when they are few.
pub fn key_file(data: &[u8]) {
    if let Ok(rounds) = crate::backup::key_file::rounds_of(data)
        && rounds <= 16
    {
        let _ = matrix_sdk_crypto::decrypt_room_key_export(Cursor::new(data), "fuzz");
    }
}

/// A gossiped `m.megolm_backup.v1` secret.
pub fn gossip_secret(data: &[u8]) {
    let _ = BackupKey::from_base64(&String::from_utf8_lossy(data));
}

/// The uploader's state as the store keeps it.
pub fn state_file(data: &[u8]) {
    let _ = serde_json::from_slice::<crate::backup::state::BackupState>(data);
}
