//! Synthetic megolm sessions imported into a real account's store, for
//! tests and benchmarks that need thousands of keys. Shared by `tests/` and
//! `benches/` (included with `#[path]`).

use matrix_sdk::Client;
use matrix_sdk::ruma::RoomId;
use matrix_sdk_crypto::olm::{ExportedRoomKey, InboundGroupSession, SenderData};
use matrix_sdk_crypto::types::EventEncryptionAlgorithm;
use matrix_sdk_crypto::vodozemac;

/// `n` fresh sessions in `room`, as an export would hold them.
pub async fn sessions(room: &RoomId, n: usize) -> Vec<ExportedRoomKey> {
    let curve = vodozemac::Curve25519PublicKey::from(&vodozemac::Curve25519SecretKey::new());
    let ed = vodozemac::Ed25519SecretKey::new().public_key();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let og =
            vodozemac::megolm::GroupSession::new(vodozemac::megolm::SessionConfig::version_1());
        let s = InboundGroupSession::new(
            curve,
            ed,
            room,
            &og.session_key(),
            SenderData::unknown(),
            None,
            EventEncryptionAlgorithm::MegolmV1AesSha2,
            None,
            false,
        )
        .expect("a valid session");
        out.push(s.export().await);
    }
    out
}

/// Imports `n` synthetic sessions into `client`'s store through the public
/// key-file import (one PBKDF2 round: the file lives in `dir` for a moment).
pub async fn import(client: &Client, dir: &std::path::Path, room: &RoomId, n: usize) {
    let keys = sessions(room, n).await;
    let armored =
        matrix_sdk_crypto::encrypt_room_key_export(&keys, "synthetic", 1).expect("export");
    let path = dir.join(format!("synthetic-{}.txt", std::process::id()));
    std::fs::write(&path, armored).expect("write the export");
    let r = client
        .encryption()
        .import_room_keys(path.clone(), "synthetic")
        .await
        .expect("import");
    std::fs::remove_file(&path).ok();
    assert_eq!(r.imported_count, n, "all synthetic sessions imported");
}

/// Writes `keys` to `dir/name` as a key file (passphrase `pass`, one round)
/// for `keepsake keys import FILE --passphrase-stdin`.
#[allow(dead_code)]
pub fn key_file(dir: &std::path::Path, name: &str, keys: &[ExportedRoomKey]) -> std::path::PathBuf {
    let armored = matrix_sdk_crypto::encrypt_room_key_export(keys, "pass", 1).expect("export");
    let path = dir.join(name);
    std::fs::write(&path, armored).expect("write the key file");
    path
}
