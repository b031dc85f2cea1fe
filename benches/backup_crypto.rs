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
use keepsake::crypto::backup::BackupKey;
use matrix_sdk::ruma::room_id;
use matrix_sdk_crypto::olm::{InboundGroupSession, SenderData};
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
