//! A big account in the real TUI: 1,000 rooms and one room of 20,000
//! messages on the local Synapse (seeded once over the client-server API and
//! reused while that Synapse lives), the program in a real terminal (tmux),
//! and its own frame log (`KEEPSAKE_FRAME_LOG`) read back for:
//!
//! - the first frame, and the first frame listing the rooms, with a warm
//!   store (the device synced once before);
//! - key press to frame, p50 and p99, while sync (another device posts into
//!   the rooms), an upload of new keys and a restore of the backup run, and
//!   then in the 20,000-message room;
//! - idle CPU, once all of that has settled.
//!
//! `cargo bench --bench big_account` with the test homeserver's variables
//! set. `KEEPSAKE_BENCH_SESSIONS` sets the size of the restore (default
//! 50,000; the upload is half of it). Under `cargo test` it runs with 20
//! rooms, 200 messages and 200 keys, and checks the measurement itself.

// Test and benchmark code may stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::bench::cpu_ticks;
use common::tmux::Tmux;
use futures_util::StreamExt;
use matrix_sdk::ruma::OwnedRoomId;
use serde_json::{Value, json};

struct Size {
    rooms: usize,
    messages: usize,
    restore_keys: usize,
    upload_keys: usize,
    /// Key presses measured while the background work runs, at least.
    presses: usize,
    bench: bool,
}

fn size() -> Size {
    let bench = std::env::args().any(|a| a == "--bench");
    if !bench {
        return Size {
            rooms: 20,
            messages: 200,
            restore_keys: 200,
            upload_keys: 200,
            presses: 20,
            bench,
        };
    }
    let restore_keys = std::env::var("KEEPSAKE_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    Size {
        rooms: 1000,
        messages: 20_000,
        restore_keys,
        upload_keys: restore_keys / 2,
        presses: 300,
        bench,
    }
}

/// The client-server API as a plain HTTP client (the seeding device).
struct Api {
    http: reqwest::Client,
    url: String,
    token: String,
    user_id: String,
}

impl Api {
    /// Logs in with a fixed device id, so repeated runs reuse one device.
    async fn login(url: &str, localpart: &str) -> Option<Api> {
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{url}/_matrix/client/v3/login"))
            .json(&json!({
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": localpart},
                "password": format!("pw-{localpart}"),
                "device_id": "BENCHSEED",
            }))
            .send()
            .await
            .unwrap();
        if !r.status().is_success() {
            return None;
        }
        let v: Value = r.json().await.unwrap();
        Some(Api {
            http,
            url: url.to_owned(),
            token: v["access_token"].as_str().unwrap().to_owned(),
            user_id: v["user_id"].as_str().unwrap().to_owned(),
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        for attempt in 0..5 {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.url))
                .bearer_auth(&self.token);
            if let Some(b) = &body {
                req = req.json(b);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            if status == 429 && attempt < 4 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            return (status, v);
        }
        unreachable!()
    }

    async fn create_room(&self, name: &str) -> OwnedRoomId {
        let (s, v) = self
            .call(
                reqwest::Method::POST,
                "/_matrix/client/v3/createRoom",
                Some(json!({"name": name, "preset": "private_chat"})),
            )
            .await;
        assert_eq!(s, 200, "createRoom: {v}");
        v["room_id"].as_str().unwrap().try_into().unwrap()
    }

    async fn send(&self, room: &str, txn: &str, body: &str) {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/send/m.room.message/{txn}",
            urlencode(room)
        );
        let (s, v) = self
            .call(
                reqwest::Method::PUT,
                &path,
                Some(json!({"msgtype": "m.text", "body": body})),
            )
            .await;
        assert_eq!(s, 200, "send: {v}");
    }

    fn marker_path(&self) -> String {
        format!(
            "/_matrix/client/v3/user/{}/account_data/dev.keepsake.bench.seeded",
            urlencode(&self.user_id)
        )
    }

    async fn joined_rooms(&self) -> Vec<String> {
        let (_, v) = self
            .call(
                reqwest::Method::GET,
                "/_matrix/client/v3/joined_rooms",
                None,
            )
            .await;
        v["joined_rooms"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn backup_version(&self) -> Option<String> {
        self.backup().await.map(|(v, _)| v)
    }

    /// The current backup version and how many keys it holds.
    async fn backup(&self) -> Option<(String, u64)> {
        let (s, v) = self
            .call(
                reqwest::Method::GET,
                "/_matrix/client/v3/room_keys/version",
                None,
            )
            .await;
        (s == 200).then(|| {
            (
                v["version"].as_str().unwrap_or_default().to_owned(),
                v["count"].as_u64().unwrap_or(0),
            )
        })
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What a seeded account keeps for later runs, beside the homeserver's own
/// data: the recovery key of its backup (a throwaway account on loopback).
#[derive(serde::Serialize, serde::Deserialize)]
struct Seeded {
    user_id: String,
    localpart: String,
    version: String,
    recovery_key: String,
    restore_keys: usize,
}

fn cache_file(hs: &common::Homeserver, localpart: &str) -> PathBuf {
    let port = url::Url::parse(&hs.url)
        .ok()
        .and_then(|u| u.port())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("keepsake-bench-{port}-{localpart}.json"))
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
}

/// The seeded account, made now or found from an earlier run.
async fn seeded(hs: &common::Homeserver, size: &Size) -> (Seeded, Api) {
    for generation in 0.. {
        let localpart = format!(
            "bench-big-{}-{}-{}-g{generation}",
            size.rooms, size.messages, size.restore_keys
        );
        let cache = cache_file(hs, &localpart);
        let Some(api) = Api::login(&hs.url, &localpart).await else {
            hs.register_as(&localpart).await;
            let api = Api::login(&hs.url, &localpart).await.unwrap();
            let s = seed(hs, size, &api, &localpart).await;
            write_private(&cache, &serde_json::to_string(&s).unwrap());
            return (s, api);
        };
        // An account from an earlier run: usable when its seeding finished
        // and its recovery key is still here (else try the next one).
        let (marked, _) = api
            .call(reqwest::Method::GET, &api.marker_path(), None)
            .await;
        let kept: Option<Seeded> = std::fs::read_to_string(&cache)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        if let Some(s) = kept
            && marked == 200
            && api.backup_version().await.as_deref() == Some(s.version.as_str())
        {
            eprintln!("big account: reusing {} (seeded earlier)", s.user_id);
            return (s, api);
        }
    }
    unreachable!()
}

async fn seed(hs: &common::Homeserver, size: &Size, api: &Api, localpart: &str) -> Seeded {
    let t = Instant::now();
    eprintln!(
        "big account: seeding {} rooms and {} messages (once per homeserver)…",
        size.rooms, size.messages
    );
    let api = Arc::new(api);
    futures_util::stream::iter(0..size.rooms)
        .map(|i| {
            let api = api.clone();
            async move {
                let room = api.create_room(&format!("Bench room {i:04}")).await;
                api.send(room.as_str(), "first", &format!("hello from room {i}"))
                    .await;
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    eprintln!("big account: {} rooms in {:?}", size.rooms, t.elapsed());
    let history = api.create_room("Bench history").await;
    futures_util::stream::iter(0..size.messages)
        .map(|i| {
            let (api, history) = (api.clone(), history.clone());
            async move {
                api.send(
                    history.as_str(),
                    &format!("m{i}"),
                    &format!("message {i} of the long history"),
                )
                .await;
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    eprintln!(
        "big account: {} messages in {:?}",
        size.messages,
        t.elapsed()
    );

    // The backup: a device that made `restore_keys` sessions and uploaded
    // them all.
    let user = common::TestUser {
        localpart: localpart.to_owned(),
        user_id: api.user_id.clone(),
        password: format!("pw-{localpart}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "old", hs, &user);
    let (recovery_key, version) = common::setup_backup(data, "old");
    {
        let acc = common::open_account(data, "old").await;
        let mut i = 0;
        while i < size.restore_keys {
            let take = 100.min(size.restore_keys - i);
            let room: OwnedRoomId = format!("!seeded{}:localhost", i / 100).try_into().unwrap();
            common::synthetic::import(&acc.client, data, &room, take).await;
            i += take;
        }
    }
    let out = common::ok_json(data, "old", &["backup", "upload", "--json"], "");
    eprintln!("big account: backup seeded ({out}) in {:?}", t.elapsed());
    let (s, v) = api
        .call(
            reqwest::Method::PUT,
            &api.marker_path(),
            Some(json!({"rooms": size.rooms, "messages": size.messages})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    Seeded {
        user_id: api.user_id.clone(),
        localpart: localpart.to_owned(),
        version,
        recovery_key,
        restore_keys: size.restore_keys,
    }
}

/// Another device of the account posting into random rooms while the
/// measurement runs, so sync always has something to bring.
async fn chatter(api: Arc<Api>, rooms: Vec<String>, stop: Arc<AtomicBool>) -> usize {
    let mut n = 0usize;
    let run = std::process::id();
    while !stop.load(Ordering::Relaxed) && !rooms.is_empty() {
        let room = &rooms[(n * 7919) % rooms.len()];
        api.send(room, &format!("chatter-{run}-{n}"), &format!("chatter {n}"))
            .await;
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    n
}

/// The frame log, parsed.
#[derive(Default)]
struct Frames {
    pid: Option<u32>,
    first_us: Option<u64>,
    first_with_rooms_us: Option<u64>,
    frames: usize,
    draw_us: Vec<u64>,
    key_us: Vec<u64>,
    /// Moments on the way to the first frames, in ms.
    notes: Vec<(String, f64)>,
}

fn read_frames(path: &Path) -> Frames {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut f = Frames::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("pid") => f.pid = words.next().and_then(|p| p.parse().ok()),
            Some("note") => {
                let what = words.next().unwrap_or_default().to_owned();
                let t = words
                    .next()
                    .and_then(|w| w.strip_prefix("t_us="))
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0);
                f.notes.push((what, t / 1000.0));
            }
            Some("frame") => {
                f.frames += 1;
                let mut t = None;
                for w in words {
                    let Some((k, v)) = w.split_once('=') else {
                        continue;
                    };
                    let v: u64 = v.parse().unwrap_or(0);
                    match k {
                        "t_us" => {
                            t = Some(v);
                            f.first_us.get_or_insert(v);
                        }
                        "draw_us" => f.draw_us.push(v),
                        "first_with_rooms" => f.first_with_rooms_us = t,
                        "key_us" => f.key_us.push(v),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    f
}

fn percentile(v: &[u64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    let i = ((p / 100.0) * (s.len() - 1) as f64).round() as usize;
    s[i.min(s.len() - 1)] as f64 / 1000.0
}

/// Clock ticks in a second (the unit of [`cpu_ticks`]).
fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf reads a constant.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) as f64 }
}

/// Presses j and k in turn (each moves the selection, so each draws a
/// frame) every `gap`, until at least `at_least` went and `done` holds for
/// the screen (looked at every tenth press).
fn press_while(t: &Tmux, at_least: usize, gap: Duration, done: impl Fn(&str) -> bool) -> usize {
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut n = 0;
    loop {
        t.keys(&[if n % 2 == 0 { "j" } else { "k" }]);
        n += 1;
        std::thread::sleep(gap);
        if n >= at_least && n % 10 == 0 && done(&t.screen()) {
            return n;
        }
        assert!(Instant::now() < deadline, "gave up waiting: {}", t.screen());
    }
}

fn main() {
    let size = size();
    let hs = common::homeserver();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (seed, api) = rt.block_on(seeded(&hs, &size));
    let api = Arc::new(api);
    let rooms = rt.block_on(api.joined_rooms());
    // Each run's new device adds its keys to the backup: what a restore
    // now brings back.
    let (_, restore_keys) = rt.block_on(api.backup()).expect("the seeded backup");
    assert!(rooms.len() > size.rooms, "{} rooms", rooms.len());

    // A new device of the account: synced once (a warm store), holding the
    // backup key, and with new sessions waiting for the backup.
    let user = common::TestUser {
        localpart: seed.localpart.clone(),
        user_id: seed.user_id.clone(),
        password: format!("pw-{}", seed.localpart),
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "big", &hs, &user);
    let t = Instant::now();
    common::ok(data, "big", &["sync", "--once"], "");
    let first_sync = t.elapsed();
    common::ok(
        data,
        "big",
        &["recovery", "unlock", "--stdin"],
        &seed.recovery_key,
    );
    rt.block_on(async {
        let acc = common::open_account(data, "big").await;
        let mut i = 0;
        while i < size.upload_keys {
            let take = 100.min(size.upload_keys - i);
            let room: OwnedRoomId = format!("!fresh{}:localhost", i / 100).try_into().unwrap();
            common::synthetic::import(&acc.client, data, &room, take).await;
            i += take;
        }
    });

    let log = data.join("frames.log");
    let bin = env!("CARGO_BIN_EXE_keepsake");
    let t = Tmux::start(
        160,
        48,
        &format!(
            "env -u DBUS_SESSION_BUS_ADDRESS -u KEEPSAKE_PROFILE -u KEEPSAKE_DATA_DIR KEEPSAKE_FRAME_LOG={} {bin} --data-dir {} --profile big; echo EXIT=$?; sleep 600",
            log.display(),
            data.display()
        ),
    );
    t.wait_for_within("Bench room", Duration::from_secs(120));
    // The frame is on the screen a moment before its line is in the log
    // (written once the terminal has it): a busy machine can hold the
    // program between the two, so the line is waited for.
    let mut start = read_frames(&log);
    let until = Instant::now() + Duration::from_secs(10);
    while start.first_with_rooms_us.is_none() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        start = read_frames(&log);
    }
    let pid = start.pid.expect("the frame log names the process");

    // Sync, upload and restore at once.
    let stop = Arc::new(AtomicBool::new(false));
    let chat = rt.spawn(chatter(api.clone(), rooms.clone(), stop.clone()));
    // The restore starts from the backup screen once it shows the key is
    // here (else it would ask for it).
    t.keys(&["2"]);
    t.wait_for_within("present, matches the backup", Duration::from_secs(60));
    t.keys(&["r", "1"]);
    t.wait_for("Bench room");
    let busy_from = read_frames(&log).key_us.len();
    let busy_presses = press_while(&t, size.presses, Duration::from_millis(25), |s| {
        s.contains("restored ") || s.contains("restore failed")
    });
    let busy = read_frames(&log);
    let busy_keys = busy.key_us[busy_from..].to_vec();

    // The long room: open it and scroll back through it.
    t.keys(&["/"]);
    t.type_text("Bench history");
    t.keys(&["Enter", "Enter"]);
    t.wait_for_within("of the long history", Duration::from_secs(60));
    t.keys(&["Escape"]);
    // Else Esc and the first key may arrive as one Alt+key.
    std::thread::sleep(Duration::from_millis(200));
    let room_from = read_frames(&log).key_us.len();
    for i in 0..size.presses {
        t.keys(&[if i % 2 == 0 { "k" } else { "j" }]);
        std::thread::sleep(Duration::from_millis(25));
    }
    stop.store(true, Ordering::Relaxed);
    let chatted = rt.block_on(chat).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let room = read_frames(&log);
    let room_keys = room.key_us[room_from..].to_vec();

    // Idle: nothing arrives, nothing is pressed.
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(200));
    t.keys(&["1"]);
    std::thread::sleep(Duration::from_secs(3));
    let idle_for = if size.bench { 10 } else { 2 };
    let c0 = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(idle_for));
    let idle_cpu =
        (cpu_ticks(pid) - c0) as f64 / clock_ticks_per_second() / idle_for as f64 * 100.0;
    let screen = t.screen();
    t.keys(&["q"]);
    t.wait_for_within("EXIT=0", Duration::from_secs(30));
    let all = read_frames(&log);

    println!(
        "big account: {} rooms, a room of {} messages, restore of {} keys, upload of {} keys ({} build, local Synapse)",
        size.rooms,
        size.messages,
        restore_keys,
        size.upload_keys,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "  first sync of the new device (headless): {:.2} s",
        first_sync.as_secs_f64()
    );
    println!(
        "  first frame: {:.1} ms after start; first frame listing the rooms: {:.1} ms",
        start.first_us.unwrap_or(0) as f64 / 1000.0,
        start.first_with_rooms_us.unwrap_or(0) as f64 / 1000.0
    );
    let notes: Vec<String> = start
        .notes
        .iter()
        .map(|(w, ms)| format!("{w} {ms:.1} ms"))
        .collect();
    println!("  on the way: {}", notes.join(", "));
    println!(
        "  key press to frame while sync, upload and restore run: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} presses, {} frames measured)",
        percentile(&busy_keys, 50.0),
        percentile(&busy_keys, 99.0),
        percentile(&busy_keys, 100.0),
        busy_presses,
        busy_keys.len()
    );
    println!(
        "  key press to frame in the {}-message room (sync running): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} measured)",
        size.messages,
        percentile(&room_keys, 50.0),
        percentile(&room_keys, 99.0),
        percentile(&room_keys, 100.0),
        room_keys.len()
    );
    println!(
        "  frame draw time: p50 {:.2} ms, p99 {:.2} ms over {} frames; {} messages posted by another device meanwhile",
        percentile(&all.draw_us, 50.0),
        percentile(&all.draw_us, 99.0),
        all.frames,
        chatted
    );
    println!("  idle CPU: {idle_cpu:.2}% of a core over {idle_for} s");

    // The measurement measured something (also under `cargo test`).
    assert!(start.first_with_rooms_us.is_some(), "no frame listed rooms");
    assert!(
        busy_keys.len() * 10 >= busy_presses * 9,
        "only {} of {busy_presses} presses reached a frame",
        busy_keys.len()
    );
    assert!(
        room_keys.len() * 10 >= size.presses * 9,
        "only {} of {} presses in the room reached a frame",
        room_keys.len(),
        size.presses
    );
    assert!(
        screen.contains("Bench room") || screen.contains("Rooms"),
        "{screen}"
    );
}
