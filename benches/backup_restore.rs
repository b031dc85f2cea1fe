//! Restore of N sessions on a fresh device from the local Synapse: keepsake
//! (`keepsake backup restore` as its own process on a new device that has
//! synced once, as any new device has before it restores, and so knows the
//! account's rooms, one per 100 sessions: wall time and peak RSS)
//! against matrix-sdk's own curve25519 restore of the same N on another
//! account (`recovery().recover()` with `BackupDownloadStrategy::OneShot`,
//! timed until all N are in the new device's store).
//!
//! matrix-sdk's new device runs in a process of its own (this benchmark
//! again), so its peak RSS is its own, as keepsake's is. Both backups are
//! seeded before either restore is timed, so both read the server's tables
//! in the same state.
//!
//! It also times the limit: the crypto store alone saving the same N
//! sessions, marked backed up, in the batches keepsake's restore uses
//! (`store alone`), with nothing downloaded, decrypted or checked.
//!
//! `cargo bench --bench backup_restore` with the test homeserver's variables
//! set runs N = 10,000 (`KEEPSAKE_BENCH_SESSIONS` changes it, e.g. 100000).
//! Under `cargo test` it runs once with N = 200.

// Test and benchmark code may stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/it/common/mod.rs"]
mod common;

use common::bench;
use common::bench_sessions as sessions;

use std::io::Write;
use std::time::{Duration, Instant};

use keepsake::backup::upload::UploadState;
use keepsake::matrix::protocol::Update;
use keepsake::matrix::worker::Worker;
use matrix_sdk::encryption::{BackupDownloadStrategy, EncryptionSettings};
use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk::store::StoreConfig;
use matrix_sdk::{
    Client, SqliteCryptoStore, SqliteEventCacheStore, SqliteMediaStore, SqliteStateStore,
    SqliteStoreConfig,
};
use matrix_sdk_base::cross_process_lock::CrossProcessLockConfig;
use matrix_sdk_crypto::store::CryptoStore;

/// Spread over rooms the way a real account is: 100 sessions per room.
fn room(i: usize) -> OwnedRoomId {
    format!("!bench{}:localhost", i / 100).try_into().unwrap()
}

async fn import(client: &Client, dir: &std::path::Path, n: usize) {
    import_into(client, dir, n, &|i| room(i)).await;
}

/// `n` sessions, the `i`th in the room `room_of(i)`.
async fn import_into(
    client: &Client,
    dir: &std::path::Path,
    n: usize,
    room_of: &dyn Fn(usize) -> OwnedRoomId,
) {
    let mut i = 0;
    while i < n {
        let take = 100.min(n - i);
        common::synthetic::import(client, dir, &room_of(i), take).await;
        i += take;
    }
}

/// Rooms the account is really in, one per 100 sessions, so its new device
/// knows them as a real one would (made 8 at a time; not timed).
async fn real_rooms(
    hs: &common::Homeserver,
    user: &common::TestUser,
    n: usize,
) -> Vec<OwnedRoomId> {
    use futures_util::StreamExt;
    let raw = common::RawClient::login(hs, user).await;
    let raw = &raw;
    let started = Instant::now();
    let rooms: Vec<OwnedRoomId> = futures_util::stream::iter(0..n.div_ceil(100))
        .map(|k| async move {
            raw.create_room(serde_json::json!({"name": format!("bench {k}")}))
                .await
                .try_into()
                .unwrap()
        })
        .buffered(8)
        .collect()
        .await;
    eprintln!(
        "bench: {} rooms made in {:?}",
        rooms.len(),
        started.elapsed()
    );
    rooms
}

/// keepsake's side; `meanwhile` runs once its backup is seeded and its new
/// device has synced, just before the timed part (matrix-sdk's seeding: both
/// restores then read the server's tables in the same state).
async fn keepsake_restore<T>(
    hs: &common::Homeserver,
    n: usize,
    meanwhile: impl std::future::Future<Output = T>,
) -> (Timed, i64, common::TestUser, T) {
    let user = hs.register("bench-ks").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let data = data.as_path();
    common::use_file_secrets(data);
    common::login(data, "old", hs, &user);
    let (key, _) = common::setup_backup(data, "old");
    let rooms = real_rooms(hs, &user, n).await;
    {
        let acc = common::open_account(data, "old").await;
        import_into(&acc.client, data, n, &|i| rooms[i / 100].clone()).await;
    }
    let acc = common::open_account(data, "old").await;
    let (worker, mut updates) = Worker::spawn(acc);
    loop {
        match updates.recv().await.expect("worker running") {
            Update::Backup(p) if p.state == UploadState::Idle && p.pending == 0 => break,
            _ => {}
        }
    }
    drop(worker);
    common::login(data, "new", hs, &user);
    // A new device has synced before anyone asks it to restore (so has
    // matrix-sdk's below): it knows the account's rooms.
    common::ok(data, "new", &["sync", "--once"], "");
    let other = meanwhile.await;
    // KEEPSAKE_BENCH_SNAPSHOT=DIR copies the data dir as it is before the
    // restore (and the recovery key, 0600) there, so the restore alone can be
    // run again and again: `cp -a DIR/data X && keepsake --data-dir X
    // --profile new backup restore --stdin < DIR/key`.
    if let Some(to) = std::env::var_os("KEEPSAKE_BENCH_SNAPSHOT") {
        let to = std::path::PathBuf::from(to);
        std::fs::create_dir_all(&to).unwrap();
        let ok = std::process::Command::new("cp")
            .arg("-a")
            .arg(data)
            .arg(to.join("data"))
            .status()
            .unwrap();
        assert!(ok.success());
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(to.join("key"))
            .unwrap()
            .write_all(format!("{key}\n").as_bytes())
            .unwrap();
        eprintln!(
            "bench: the data dir before the restore is in {}",
            to.display()
        );
    }
    bench::quiet().await;
    let start = Instant::now();
    let mut cmd = common::command(
        data,
        Some("new"),
        &["backup", "restore", "--stdin", "--json"],
    );
    // KEEPSAKE_BENCH_WRAP="perf record -g -o FILE --" runs the restore under
    // a profiler (its time then includes the profiler's).
    if let Ok(wrap) = std::env::var("KEEPSAKE_BENCH_WRAP") {
        let words: Vec<&str> = wrap.split_whitespace().collect();
        let mut wrapped = std::process::Command::new(words[0]);
        wrapped
            .args(&words[1..])
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        cmd = wrapped;
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{key}\n").as_bytes())
        .unwrap();
    let (out, rss) = bench::wait_with_peak_rss(child);
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["imported"], n as u64, "{r}");
    let restore = Duration::from_millis(r["ms"].as_u64().expect("the report says how long"));
    // KEEPSAKE_BENCH_KEEP=1 keeps the data dir (and its logs) for a look.
    if std::env::var_os("KEEPSAKE_BENCH_KEEP").is_some() {
        eprintln!("bench data kept in {}", dir.keep().display());
    }
    (
        Timed {
            process: took,
            restore,
        },
        rss,
        user,
        other,
    )
}

/// keepsake's restore timed twice: the whole process (start-up and the four
/// stores' opening, a PBKDF2 each, included), and the restore as it reports
/// it, which is what matrix-sdk's `recover()` is timed against.
struct Timed {
    process: Duration,
    restore: Duration,
}

async fn sdk_client(
    hs: &common::Homeserver,
    dir: &std::path::Path,
    strategy: BackupDownloadStrategy,
) -> (Client, SqliteCryptoStore) {
    let cfg = SqliteStoreConfig::new(dir).passphrase(Some("bench-passphrase"));
    let crypto = SqliteCryptoStore::open_with_config(&cfg).await.unwrap();
    let store_config = StoreConfig::new(CrossProcessLockConfig::SingleProcess)
        .state_store(SqliteStateStore::open_with_config(&cfg).await.unwrap())
        .event_cache_store(SqliteEventCacheStore::open_with_config(&cfg).await.unwrap())
        .media_store(SqliteMediaStore::open_with_config(&cfg).await.unwrap())
        .crypto_store(crypto.clone());
    let client = Client::builder()
        .homeserver_url(&hs.url)
        .store_config(store_config)
        .with_encryption_settings(EncryptionSettings {
            auto_enable_cross_signing: false,
            backup_download_strategy: strategy,
            auto_enable_backups: false,
        })
        .build()
        .await
        .unwrap();
    (client, crypto)
}

/// matrix-sdk's side, seeded (not timed): a device makes `n` sessions and
/// backs them up with matrix-sdk's own backup. Returns what a new device
/// needs to recover them in a process of its own ([`sdk_recover`]), for
/// its time and peak memory.
async fn sdk_seed(hs: &common::Homeserver, n: usize) -> serde_json::Value {
    let user = hs.register("bench-sdk").await;
    let dir = tempfile::tempdir().unwrap();
    let (old, _) = sdk_client(hs, &dir.path().join("old"), BackupDownloadStrategy::Manual).await;
    old.matrix_auth()
        .login_username(&user.user_id, &user.password)
        .await
        .unwrap();
    old.sync_once(Default::default()).await.unwrap();
    old.encryption()
        .bootstrap_cross_signing(None)
        .await
        .unwrap();
    import(&old, dir.path(), n).await;
    let key = old.encryption().recovery().enable().await.unwrap();
    old.encryption()
        .backups()
        .wait_for_steady_state()
        .with_delay(Duration::ZERO)
        .await
        .unwrap();
    drop(old);
    serde_json::json!({
        "user_id": user.user_id, "password": user.password, "key": key, "n": n,
    })
}

/// The new device of [`sdk_seed`]'s account, in its own process.
async fn sdk_recover(hs: &common::Homeserver) {
    let input = bench::input();
    let n = input["n"].as_u64().unwrap() as usize;
    let dir = tempfile::tempdir().unwrap();
    let (new, crypto) = sdk_client(hs, dir.path(), BackupDownloadStrategy::OneShot).await;
    new.matrix_auth()
        .login_username(
            input["user_id"].as_str().unwrap(),
            input["password"].as_str().unwrap(),
        )
        .await
        .unwrap();
    new.sync_once(Default::default()).await.unwrap();
    bench::quiet().await;
    bench::reset_peak();
    let start = Instant::now();
    new.encryption()
        .recovery()
        .recover(input["key"].as_str().unwrap())
        .await
        .unwrap();
    loop {
        let c = crypto.inbound_group_session_counts(None).await.unwrap();
        if c.total >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bench::report(start.elapsed(), serde_json::json!({}));
}

/// Synapse's own share of a restore: the whole backup downloaded (by a
/// new login of the account keepsake restored) and thrown away: the time to
/// its first byte and to its last.
async fn server_download(hs: &common::Homeserver, user: &common::TestUser) -> (Duration, Duration) {
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{}/_matrix/client/v3/login", hs.url))
        .json(&serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user.localpart},
            "password": user.password,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap();
    let version: serde_json::Value = http
        .get(format!("{}/_matrix/client/v3/room_keys/version", hs.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let version = version["version"].as_str().unwrap();
    bench::quiet().await;
    let start = Instant::now();
    let mut resp = http
        .get(format!(
            "{}/_matrix/client/v3/room_keys/keys?version={version}",
            hs.url
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let mut first = None;
    let mut bytes = 0;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        first.get_or_insert_with(|| start.elapsed());
        bytes += chunk.len();
    }
    assert!(bytes > 0);
    (first.unwrap_or_default(), start.elapsed())
}

/// The batch keepsake's restore saves at once (`IMPORT_BATCH` in
/// `backup/restore.rs`).
const STORE_BATCH: usize = 5000;

/// The crypto store alone saving `n` sessions (made and encrypted for the
/// store beforehand, not timed), marked backed up, `STORE_BATCH` at a time,
/// into a fresh store opened with a passphrase as keepsake's are.
async fn store_alone(n: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteStoreConfig::new(dir.path()).passphrase(Some("bench-passphrase"));
    let store = SqliteCryptoStore::open_with_config(&cfg).await.unwrap();
    let mut batches = vec![];
    let mut i = 0;
    while i < n {
        let mut batch = vec![];
        while batch.len() < STORE_BATCH && i < n {
            let take = 100.min(n - i);
            for key in common::synthetic::sessions(&room(i), take).await {
                let s = matrix_sdk_crypto::olm::InboundGroupSession::from_export(&key).unwrap();
                s.mark_as_backed_up();
                batch.push(s);
            }
            i += take;
        }
        batches.push(batch);
    }
    bench::quiet().await;
    let start = Instant::now();
    for batch in batches {
        store
            .save_inbound_group_sessions(batch, Some("1"))
            .await
            .unwrap();
    }
    let took = start.elapsed();
    let c = store.inbound_group_session_counts(Some("1")).await.unwrap();
    assert_eq!(c.total, n);
    took
}

fn main() {
    let hs = common::homeserver();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if bench::part().as_deref() == Some("sdk-recover") {
        rt.block_on(sdk_recover(&hs));
        return;
    }
    let n = sessions();
    // KEEPSAKE_BENCH_ONLY=keepsake: keepsake's side alone, for profiling.
    let only_keepsake = std::env::var("KEEPSAKE_BENCH_ONLY").as_deref() == Ok("keepsake");
    // Both backups are seeded before either restore is timed: a restore
    // timed right after its own seeding read a table PostgreSQL had not
    // yet vacuumed or analysed (6.0-6.3 s, against 5.0-5.5 s minutes later).
    let sdk_seeded = async {
        match only_keepsake {
            true => None,
            false => Some(sdk_seed(&hs, n).await),
        }
    };
    let (timed, rss, user, sdk_input) = rt.block_on(keepsake_restore(&hs, n, sdk_seeded));
    let ks = timed.restore;
    let (first_byte, body) = rt.block_on(server_download(&hs, &user));
    if only_keepsake {
        println!(
            "keepsake restore of {n}: {:.3} s ({:.3} s the whole process), peak RSS {} MiB; the server's first byte after {:.3} s, last after {:.3} s",
            ks.as_secs_f64(),
            timed.process.as_secs_f64(),
            rss / 1024,
            first_byte.as_secs_f64(),
            body.as_secs_f64()
        );
        return;
    }
    let sdk = bench::run_part(
        "sdk-recover",
        &sdk_input.expect("seeded unless keepsake only"),
    )
    .0;
    let store = rt.block_on(store_alone(n));
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!("restore of {n} sessions on a fresh device from the local Synapse");
    println!(
        "  keepsake (aes-hmac-sha2, restore only):  {:>8.3} s  {:>8.0} keys/s  peak RSS {} MiB",
        ks.as_secs_f64(),
        rate(ks),
        rss / 1024
    );
    println!(
        "  keepsake (the whole process):            {:>8.3} s  (start-up, four stores opened: {:.3} s)",
        timed.process.as_secs_f64(),
        timed.process.saturating_sub(ks).as_secs_f64()
    );
    println!(
        "  matrix-sdk (curve25519, recover only):   {:>8.3} s  {:>8.0} keys/s  peak RSS {:.0} MiB",
        sdk.took.as_secs_f64(),
        rate(sdk.took),
        sdk.peak_rss_mib
    );
    println!(
        "  store alone: {:.3} s  {:>8.0} keys/s",
        store.as_secs_f64(),
        rate(store)
    );
    println!(
        "  server alone (the whole backup downloaded, nothing done with it): first byte {:.3} s, last byte {:.3} s",
        first_byte.as_secs_f64(),
        body.as_secs_f64()
    );
    println!(
        "  matrix-sdk / keepsake: {:.2}x   keepsake / store alone: {:.2}x   (whole process: {:.2}x, {:.2}x)",
        sdk.took.as_secs_f64() / ks.as_secs_f64(),
        ks.as_secs_f64() / store.as_secs_f64(),
        sdk.took.as_secs_f64() / timed.process.as_secs_f64(),
        timed.process.as_secs_f64() / store.as_secs_f64()
    );
    let ks = bench::Measured {
        took: ks,
        peak_rss_mib: rss as f64 / 1024.0,
    };
    println!(
        "{}",
        bench::result_line("restore", n, ks, sdk, ("store alone", store))
    );
}
