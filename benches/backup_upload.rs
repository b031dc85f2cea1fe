//! Upload of N pending sessions to the local Synapse: keepsake's symmetric
//! uploader against matrix-sdk's own curve25519 backup, same N, same server,
//! each on its own fresh account.
//!
//! `cargo bench --bench backup_upload` with the test homeserver's variables
//! set (see the README) runs N = 10,000 (`KEEPSAKE_BENCH_SESSIONS` changes
//! it). Under `cargo test` it runs once with N = 200, so it cannot rot.
//!
//! Each side runs in a process of its own (this benchmark again), its peak
//! RSS measured from the start of the timed work.
//!
//! keepsake: from the worker's start (its uploader begins at once) until it
//! reports nothing pending. The limit, `server alone`: the same N sessions,
//! encrypted for the backup beforehand (not timed), PUT in the uploader's
//! batches and with as many requests on the wire at all times, to a fresh version. matrix-sdk: `recovery().enable()` until
//! `wait_for_steady_state()` with no delay between batches (its fastest
//! setting; the default sleeps 100 ms per batch of 100).

// Test and benchmark code may stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/it/common/mod.rs"]
mod common;

use common::{bench, bench_sessions as sessions, ok};

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use keepsake::backup::upload::UploadState;
use keepsake::matrix::protocol::Update;
use keepsake::matrix::worker::Worker;
use matrix_sdk::Client;
use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk::ruma::api::client::backup::get_latest_backup_info;

async fn keepsake_upload(hs: &common::Homeserver, n: usize) -> Duration {
    let user = hs.register("bench-ks").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "bench", hs, &user);
    common::setup_backup(data, "bench");
    let room: OwnedRoomId = "!bench:localhost".try_into().unwrap();
    {
        let acc = common::open_account(data, "bench").await;
        common::synthetic::import(&acc.client, data, &room, n).await;
    }
    bench::settle().await;
    bench::reset_peak();
    let acc = common::open_account(data, "bench").await;
    let profiler = bench::profile();
    bench::quiet().await;
    let start = Instant::now();
    let (worker, mut updates) = Worker::spawn(acc);
    let took = loop {
        match updates.recv().await.expect("worker running") {
            Update::Backup(p)
                if p.state == UploadState::Idle && p.pending == 0 && p.backed_up == n =>
            {
                break start.elapsed();
            }
            Update::Backup(p) if p.settled() && p.pending > 0 => panic!("upload stopped: {p:?}"),
            _ => {}
        }
    };
    drop(profiler);
    drop(worker);
    let st = ok(data, "bench", &["backup", "status", "--json"], "");
    let st: serde_json::Value = serde_json::from_str(st.trim()).unwrap();
    assert_eq!(st["server_count"], n as u64, "{st}");
    took
}

async fn server_alone(hs: &common::Homeserver, n: usize) -> Duration {
    use keepsake::backup::{encode, local_key, server, upload};
    use matrix_sdk::ruma::api::client::backup::RoomKeyBackup;
    use matrix_sdk_crypto::store::CryptoStore;
    use std::collections::BTreeMap;
    let user = hs.register("bench-srv").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "srv", hs, &user);
    common::setup_backup(data, "srv");
    let room: OwnedRoomId = "!bench:localhost".try_into().unwrap();
    let acc = common::open_account(data, "srv").await;
    common::synthetic::import(&acc.client, data, &room, n).await;
    let secret = local_key::load(&acc.crypto_store).await.unwrap().unwrap();
    let key = keepsake::crypto::BackupKey::new(secret);
    let version = server::current(&acc.client).await.unwrap().unwrap().version;
    let sessions = acc.crypto_store.get_inbound_group_sessions().await.unwrap();
    assert_eq!(sessions.len(), n);
    let mut bodies = vec![];
    for chunk in sessions.chunks(upload::BATCH) {
        let mut rooms: BTreeMap<OwnedRoomId, BTreeMap<String, _>> = BTreeMap::new();
        for s in chunk {
            let e = encode::entry(s, &key, None, None).await.unwrap();
            rooms
                .entry(e.room_id)
                .or_default()
                .insert(e.session_id, e.data);
        }
        let body: BTreeMap<OwnedRoomId, RoomKeyBackup> = rooms
            .into_iter()
            .map(|(r, s)| (r, RoomKeyBackup::new(s)))
            .collect();
        bodies.push(body);
    }
    // Always IN_FLIGHT requests on the wire, as the uploader keeps them.
    bench::quiet().await;
    let start = Instant::now();
    let results: Vec<_> = futures_util::stream::iter(bodies)
        .map(|b| {
            let (c, v) = (acc.client.clone(), version.clone());
            async move { server::add_keys(&c, &v, b).await }
        })
        .buffer_unordered(upload::IN_FLIGHT)
        .collect()
        .await;
    for r in results {
        r.unwrap();
    }
    let took = start.elapsed();
    let info = server::current(&acc.client).await.unwrap().unwrap();
    assert_eq!(info.count, n as u64, "the server took everything");
    took
}

async fn sdk_upload(hs: &common::Homeserver, n: usize) -> Duration {
    let user = hs.register("bench-sdk").await;
    let dir = tempfile::tempdir().unwrap();
    let client = Client::builder()
        .homeserver_url(&hs.url)
        .sqlite_store(dir.path().join("store"), Some("bench-passphrase"))
        .build()
        .await
        .unwrap();
    client
        .matrix_auth()
        .login_username(&user.user_id, &user.password)
        .await
        .unwrap();
    client.sync_once(Default::default()).await.unwrap();
    // Synapse lets a first cross-signing upload through without a password.
    client
        .encryption()
        .bootstrap_cross_signing(None)
        .await
        .unwrap();
    let room: OwnedRoomId = "!bench:localhost".try_into().unwrap();
    common::synthetic::import(&client, dir.path(), &room, n).await;
    bench::settle().await;
    bench::quiet().await;
    bench::reset_peak();
    let start = Instant::now();
    client.encryption().recovery().enable().await.unwrap();
    client
        .encryption()
        .backups()
        .wait_for_steady_state()
        .with_delay(Duration::ZERO)
        .await
        .unwrap();
    let took = start.elapsed();
    let info = client
        .send(get_latest_backup_info::v3::Request::new())
        .await
        .unwrap();
    assert_eq!(
        u64::from(info.count),
        n as u64,
        "matrix-sdk uploaded everything"
    );
    took
}

fn main() {
    let n = sessions();
    let hs = common::homeserver();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // Each side in a process of its own, so its peak RSS is its own.
    match bench::part().as_deref() {
        Some("keepsake") => {
            let took = rt.block_on(keepsake_upload(&hs, n));
            return bench::report(took, serde_json::json!({}));
        }
        Some("matrix-sdk") => {
            let took = rt.block_on(sdk_upload(&hs, n));
            return bench::report(took, serde_json::json!({}));
        }
        _ => {}
    }
    let (ks_m, _) = bench::run_part("keepsake", &serde_json::json!({}));
    // KEEPSAKE_BENCH_ONLY=keepsake: keepsake's side alone, for profiling.
    if std::env::var("KEEPSAKE_BENCH_ONLY").as_deref() == Ok("keepsake") {
        println!("keepsake upload of {n}: {:.3} s", ks_m.took.as_secs_f64());
        return;
    }
    let (sdk_m, _) = bench::run_part("matrix-sdk", &serde_json::json!({}));
    let (ks, sdk) = (ks_m.took, sdk_m.took);
    let server = rt.block_on(server_alone(&hs, n));
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!("backup upload of {n} pending sessions to the local Synapse");
    println!(
        "  keepsake (aes-hmac-sha2): {:>8.3} s  {:>8.0} sessions/s  peak RSS {:.0} MiB",
        ks.as_secs_f64(),
        rate(ks),
        ks_m.peak_rss_mib
    );
    println!(
        "  matrix-sdk (curve25519):  {:>8.3} s  {:>8.0} sessions/s  peak RSS {:.0} MiB",
        sdk.as_secs_f64(),
        rate(sdk),
        sdk_m.peak_rss_mib
    );
    println!(
        "  server alone: {:.3} s  {:>8.0} sessions/s",
        server.as_secs_f64(),
        rate(server)
    );
    println!(
        "  matrix-sdk / keepsake: {:.2}x   keepsake / server alone: {:.2}x",
        sdk.as_secs_f64() / ks.as_secs_f64(),
        ks.as_secs_f64() / server.as_secs_f64()
    );
    println!(
        "{}",
        bench::result_line("upload", n, ks_m, sdk_m, ("server alone", server))
    );
}
