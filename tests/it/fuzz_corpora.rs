//! The fuzzing corpora (`fuzz/corpus/<target>/`, grown by `scripts/fuzz`)
//! replayed through every target: none panics on any input the fuzzer kept.
//! Every target has a corpus: a missing one fails here, it is not skipped.
use crate::common;

use std::path::Path;

#[test]
fn every_corpus_input_goes_through_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut replayed = 0;
    for (name, target) in keepsake::fuzzing::TARGETS {
        let dir = root.join(name);
        let entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("no corpus for {name} in {}: {e}", dir.display()))
            .map(|e| e.expect("a corpus entry").path())
            .filter(|p| p.is_file())
            .collect();
        assert!(!entries.is_empty(), "the corpus of {name} is empty");
        for path in entries {
            let data = std::fs::read(&path).expect("read a corpus input");
            target(&data);
            replayed += 1;
        }
    }
    println!("{replayed} corpus inputs replayed");
}

/// Valid inputs reach the deep paths too (the fuzzer's seeds are small).
#[tokio::test]
async fn valid_inputs_go_through_their_targets() {
    let room = matrix_sdk::ruma::RoomId::parse("!fuzz:localhost").unwrap();
    let keys = common::synthetic::sessions(&room, 2).await;
    let armored = matrix_sdk_crypto::encrypt_room_key_export(&keys, "fuzz", 1).unwrap();
    keepsake::fuzzing::key_file(armored.as_bytes());
    let plain = serde_json::to_vec(&serde_json::json!({
        "algorithm": "m.megolm.v1.aes-sha2",
        "sender_key": keys[0].sender_key.to_base64(),
        "sender_claimed_keys": {},
        "forwarding_curve25519_key_chain": [],
        "session_key": keys[0].session_key.to_base64(),
    }))
    .unwrap();
    keepsake::fuzzing::open_entry_structured(&plain);
    keepsake::fuzzing::session_json(&plain);
}
