//! Per-key backup crypto: keepsake's MSC3270 symmetric path against
//! matrix-sdk-crypto's curve25519 path, on the same real session.
//!
//! Run: `cargo bench --bench backup_crypto`
//!
//! Both "full" encrypt benchmarks start from an `InboundGroupSession` and
//! include `to_backup()` and the JSON serialisation (that is what
//! `MegolmV1BackupKey::encrypt` does internally); the "crypto only" one
//! encrypts the already serialised JSON. Both decrypt benchmarks verify the
//! MAC, decrypt and parse the session JSON.

// Test and benchmark code may stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use keepsake::backup::download::open_restored;
use keepsake::backup::entry::{ClaimedKeys, Opener};
use keepsake::crypto::backup::BackupKey;
use keepsake::crypto::session::BackedUpSession;
use matrix_sdk::ruma::DeviceKeyAlgorithm;
use matrix_sdk::ruma::room_id;
use matrix_sdk_crypto::olm::{BackedUpRoomKey, ExportedRoomKey, InboundGroupSession, SenderData};
use matrix_sdk_crypto::store::types::BackupDecryptionKey;
use matrix_sdk_crypto::types::EventEncryptionAlgorithm;
use matrix_sdk_crypto::vodozemac;
use matrix_sdk_crypto::vodozemac::megolm::{GroupSession, SessionConfig};

fn session() -> InboundGroupSession {
    let outbound = GroupSession::new(SessionConfig::version_1());
    let curve = vodozemac::Curve25519PublicKey::from(&vodozemac::Curve25519SecretKey::new());
    let ed = vodozemac::Ed25519SecretKey::new().public_key();
    InboundGroupSession::new(
        curve,
        ed,
        room_id!("!bench:localhost"),
        &outbound.session_key(),
        SenderData::unknown(),
        None,
        EventEncryptionAlgorithm::MegolmV1AesSha2,
        None,
        false,
    )
    .expect("session")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let session = session();
    let session_id = session.session_id().to_owned();
    let plaintext = rt
        .block_on(async { serde_json::to_vec(&session.to_backup().await) })
        .expect("json");
    eprintln!("session JSON (to_backup): {} bytes", plaintext.len());

    let sym = BackupKey::generate().expect("key");
    let curve_dk = BackupDecryptionKey::new();
    let curve_pk = curve_dk.megolm_v1_public_key();

    let mut enc = c.benchmark_group("encrypt_per_key");
    enc.throughput(Throughput::Elements(1));
    enc.bench_function("symmetric_crypto_only", |b| {
        b.iter(|| {
            sym.encrypt_session(black_box(&session_id), black_box(&plaintext))
                .expect("enc")
        })
    });
    enc.bench_function("symmetric_full", |b| {
        b.iter(|| {
            rt.block_on(async {
                let s = black_box(&session);
                let json = serde_json::to_vec(&s.to_backup().await).expect("json");
                sym.encrypt_session(s.session_id(), &json).expect("enc")
            })
        })
    });
    enc.bench_function("curve25519_full", |b| {
        b.iter(|| {
            rt.block_on(curve_pk.encrypt(black_box(session.clone())))
                .expect("enc")
        })
    });
    enc.finish();

    let sym_data = sym.encrypt_session(&session_id, &plaintext).expect("enc");
    let curve_data = rt
        .block_on(curve_pk.encrypt(session.clone()))
        .expect("enc")
        .session_data;

    let mut dec = c.benchmark_group("decrypt_per_key");
    dec.throughput(Throughput::Elements(1));
    dec.bench_function("symmetric", |b| {
        b.iter(|| {
            sym.decrypt_session_data(black_box(&session_id), black_box(&sym_data))
                .expect("dec")
        })
    });
    dec.bench_function("curve25519", |b| {
        b.iter_batched(
            || curve_data.clone(),
            |d| curve_dk.decrypt_session_data(d).expect("dec"),
            BatchSize::SmallInput,
        )
    });
    dec.finish();

    // What the restore does with each entry it reads, and its parts.
    let entry = serde_json::value::RawValue::from_string(
        serde_json::json!({
            "first_message_index": 0,
            "forwarded_count": 0,
            "is_verified": false,
            "session_data": sym_data,
        })
        .to_string(),
    )
    .expect("raw");
    let opener = Opener::Symmetric(sym.clone());
    let room = room_id!("!bench:localhost");
    let mut open = c.benchmark_group("restore_per_key");
    open.throughput(Throughput::Elements(1));
    // A restore's keys come from few senders: their keys parsed once.
    let mut claimed = ClaimedKeys::default();
    open.bench_function("open_restored", |b| {
        b.iter(|| {
            open_restored(&mut claimed, &opener, room, &session_id, black_box(&entry))
                .expect("open")
        })
    });
    open.bench_function("open_restored_new_sender", |b| {
        b.iter(|| {
            let mut claimed = ClaimedKeys::default();
            open_restored(&mut claimed, &opener, room, &session_id, black_box(&entry))
                .expect("open")
        })
    });
    let plain = sym.decrypt_session(&session_id, &sym_data).expect("dec");
    open.bench_function("parse_backed_up_session", |b| {
        b.iter(|| BackedUpSession::from_json(black_box(&plain)).expect("parse"))
    });
    open.bench_function("parse_sdk_backed_up_room_key", |b| {
        b.iter(|| serde_json::from_slice::<BackedUpRoomKey>(black_box(&plain)).expect("parse"))
    });
    let ed = session
        .signing_keys()
        .get(&DeviceKeyAlgorithm::Ed25519)
        .cloned();
    let ed = ed.and_then(|k| k.ed25519()).expect("ed25519").to_base64();
    open.bench_function("ed25519_from_base64", |b| {
        b.iter(|| vodozemac::Ed25519PublicKey::from_base64(black_box(&ed)).expect("key"))
    });
    let key: BackedUpRoomKey = serde_json::from_slice(&plain).expect("parse");
    let exported =
        ExportedRoomKey::from_backed_up_room_key(room.to_owned(), session_id.clone(), key);
    open.bench_function("from_export", |b| {
        b.iter(|| InboundGroupSession::from_export(black_box(&exported)).expect("import"))
    });
    open.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
