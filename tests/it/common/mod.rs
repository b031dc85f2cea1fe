//! Test harness: the real Synapse on loopback that `scripts/test` starts.
//!
//! Tests that need it call [`homeserver()`], which fails loudly (never skips)
//! when the homeserver is not there, saying how to start it.

#![allow(dead_code)]

pub mod bench;
pub mod notifications;
pub mod proxy;
pub mod svg;
pub mod synthetic;
pub mod tmux;

use std::sync::atomic::{AtomicU32, Ordering};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha1::Sha1;

pub struct Homeserver {
    pub url: String,
    secret: String,
}

/// The test homeserver named by `KEEPSAKE_TEST_HOMESERVER` and
/// `KEEPSAKE_TEST_REGISTRATION_SECRET`. Panics with instructions when absent
/// or not answering.
pub fn homeserver() -> Homeserver {
    const HOW: &str = "Run the tests with `scripts/test` (it installs and starts Synapse on 127.0.0.1), \
        or start one yourself: `scripts/synapse start /tmp/keepsake-hs` and export the two \
        variables in /tmp/keepsake-hs/env.";
    let url = std::env::var("KEEPSAKE_TEST_HOMESERVER").unwrap_or_else(|_| {
        panic!("KEEPSAKE_TEST_HOMESERVER is not set: this test needs the local Synapse homeserver. {HOW}")
    });
    let secret = std::env::var("KEEPSAKE_TEST_REGISTRATION_SECRET").unwrap_or_else(|_| {
        panic!("KEEPSAKE_TEST_REGISTRATION_SECRET is not set: this test needs the local Synapse homeserver. {HOW}")
    });
    let parsed = url::Url::parse(&url)
        .unwrap_or_else(|e| panic!("KEEPSAKE_TEST_HOMESERVER={url} is not a URL: {e}"));
    let host = parsed.host_str().unwrap_or_default();
    assert!(
        host == "127.0.0.1" || host == "localhost" || host == "[::1]",
        "the test homeserver must be on loopback, not {host}"
    );
    Homeserver { url, secret }
}

/// A registered account.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub localpart: String,
    pub user_id: String,
    pub password: String,
}

/// Unique per test process and call, so tests never collide on one server.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{nanos:x}", std::process::id())
}

impl Homeserver {
    /// Registers a fresh user through Synapse's shared-secret admin API.
    pub async fn register(&self, prefix: &str) -> TestUser {
        self.register_as(&unique(prefix).to_lowercase()).await
    }

    /// Registers a user with exactly this localpart.
    pub async fn register_as(&self, localpart: &str) -> TestUser {
        let localpart = localpart.to_owned();
        let password = format!("pw-{localpart}");
        let http = reqwest::Client::new();
        let endpoint = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce_resp: Value = http
            .get(&endpoint)
            .send()
            .await
            .unwrap_or_else(|e| panic!("the test homeserver at {} does not answer: {e}", self.url))
            .json()
            .await
            .expect("nonce JSON");
        let nonce = nonce_resp["nonce"].as_str().expect("nonce").to_owned();
        let mut mac = Hmac::<Sha1>::new_from_slice(self.secret.as_bytes()).unwrap();
        mac.update(nonce.as_bytes());
        mac.update(b"\0");
        mac.update(localpart.as_bytes());
        mac.update(b"\0");
        mac.update(password.as_bytes());
        mac.update(b"\0");
        mac.update(b"notadmin");
        let digest = hex::encode(mac.finalize().into_bytes());
        let resp = http
            .post(&endpoint)
            .json(&json!({
                "nonce": nonce, "username": localpart, "password": password,
                "admin": false, "mac": digest,
            }))
            .send()
            .await
            .expect("register request");
        let status = resp.status();
        let body: Value = resp.json().await.expect("register JSON");
        assert!(status.is_success(), "registration failed: {status} {body}");
        TestUser {
            user_id: body["user_id"].as_str().expect("user_id").to_owned(),
            localpart,
            password,
        }
    }
}

/// Another client speaking the plain client-server API (no SDK): logs in
/// with a password and sends what it is told.
pub struct RawClient {
    pub url: String,
    pub token: String,
    http: reqwest::Client,
    txn: AtomicU32,
}

impl RawClient {
    pub async fn login(hs: &Homeserver, user: &TestUser) -> RawClient {
        let http = reqwest::Client::new();
        let body: Value = http
            .post(format!("{}/_matrix/client/v3/login", hs.url))
            .json(&json!({
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": user.localpart},
                "password": user.password,
            }))
            .send()
            .await
            .expect("login request")
            .json()
            .await
            .expect("login JSON");
        RawClient {
            url: hs.url.clone(),
            token: body["access_token"].as_str().expect("a token").to_owned(),
            http,
            txn: AtomicU32::new(0),
        }
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Value {
        let resp = req.bearer_auth(&self.token).send().await.expect("request");
        let status = resp.status();
        let body: Value = resp.json().await.expect("JSON");
        assert!(status.is_success(), "{status}: {body}");
        body
    }

    pub async fn join(&self, room: &str) {
        self.call(
            self.http
                .post(format!("{}/_matrix/client/v3/join/{room}", self.url))
                .json(&json!({})),
        )
        .await;
    }

    /// Sends `content` as `event_type`; yields the event id.
    pub async fn send(&self, room: &str, event_type: &str, content: Value) -> String {
        let txn = format!(
            "{}-{}",
            unique("t"),
            self.txn.fetch_add(1, Ordering::Relaxed)
        );
        let body = self
            .call(
                self.http
                    .put(format!(
                        "{}/_matrix/client/v3/rooms/{room}/send/{event_type}/{txn}",
                        self.url
                    ))
                    .json(&content),
            )
            .await;
        body["event_id"].as_str().expect("an event id").to_owned()
    }

    /// Creates a room (`body` as the createRoom API takes it); yields its id.
    pub async fn create_room(&self, body: Value) -> String {
        let r = self
            .call(
                self.http
                    .post(format!("{}/_matrix/client/v3/createRoom", self.url))
                    .json(&body),
            )
            .await;
        r["room_id"].as_str().expect("a room id").to_owned()
    }

    /// Sets a state event.
    pub async fn state(&self, room: &str, event_type: &str, key: &str, content: Value) {
        self.call(
            self.http
                .put(format!(
                    "{}/_matrix/client/v3/rooms/{room}/state/{event_type}/{key}",
                    self.url
                ))
                .json(&content),
        )
        .await;
    }

    /// Sets this account's display name (in its rooms too).
    pub async fn set_display_name(&self, user_id: &str, name: &str) {
        self.call(
            self.http
                .put(format!(
                    "{}/_matrix/client/v3/profile/{user_id}/displayname",
                    self.url
                ))
                .json(&json!({"displayname": name})),
        )
        .await;
    }

    /// Says this account is typing in `room` (for 30 s).
    pub async fn typing(&self, room: &str, user_id: &str) {
        self.call(
            self.http
                .put(format!(
                    "{}/_matrix/client/v3/rooms/{room}/typing/{user_id}",
                    self.url
                ))
                .json(&json!({"typing": true, "timeout": 30000})),
        )
        .await;
    }

    /// This account has read `room` up to `event_id`.
    pub async fn read_receipt(&self, room: &str, event_id: &str) {
        self.call(
            self.http
                .post(format!(
                    "{}/_matrix/client/v3/rooms/{room}/receipt/m.read/{event_id}",
                    self.url
                ))
                .json(&json!({})),
        )
        .await;
    }

    /// The server's own count of notifications in `room` for this account
    /// (a sync's `unread_notifications`).
    pub async fn notification_count(&self, room: &str) -> u64 {
        let sync = self
            .call(
                self.http
                    .get(format!("{}/_matrix/client/v3/sync", self.url)),
            )
            .await;
        sync["rooms"]["join"][room]["unread_notifications"]["notification_count"]
            .as_u64()
            .unwrap_or_else(|| panic!("{room} has no count: {sync}"))
    }

    /// Where `user` has read `room` up to, as this account's sync sees it.
    pub async fn read_up_to(&self, room: &str, user: &str) -> Option<String> {
        let sync = self
            .call(
                self.http
                    .get(format!("{}/_matrix/client/v3/sync", self.url)),
            )
            .await;
        let events = sync["rooms"]["join"][room]["ephemeral"]["events"].as_array()?;
        events
            .iter()
            .filter(|e| e["type"] == "m.receipt")
            .flat_map(|e| e["content"].as_object().into_iter().flatten())
            .find(|(_, r)| r["m.read"].get(user).is_some())
            .map(|(id, _)| id.clone())
    }

    /// A text reply in the thread `root` starts (with the reply fallback
    /// clients without threads read); yields its event id.
    pub async fn thread_reply(&self, room: &str, root: &str, body: &str) -> String {
        let content = json!({
            "msgtype": "m.text",
            "body": body,
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": true,
                "m.in_reply_to": {"event_id": root},
            },
        });
        self.send(room, "m.room.message", content).await
    }

    /// Uploads `bytes` to the media repository; yields its mxc:// URI.
    pub async fn upload(&self, name: &str, mimetype: &str, bytes: Vec<u8>) -> String {
        let body = self
            .call(
                self.http
                    .post(format!(
                        "{}/_matrix/media/v3/upload?filename={name}",
                        self.url
                    ))
                    .header("content-type", mimetype)
                    .body(bytes),
            )
            .await;
        body["content_uri"]
            .as_str()
            .expect("a content uri")
            .to_owned()
    }
}

/// Exit code, stdout and stderr of one run of the real binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `keepsake --data-dir DATA [--profile P] ARGS`, without D-Bus (so secrets
/// go to the kernel keyring) and without the profile and data-dir variables
/// a developer may have set.
pub fn command(
    data: &std::path::Path,
    profile: Option<&str>,
    args: &[&str],
) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_keepsake"));
    cmd.arg("--data-dir").arg(data);
    if let Some(p) = profile {
        cmd.args(["--profile", p]);
    }
    cmd.args(args)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("KEEPSAKE_PROFILE")
        .env_remove("KEEPSAKE_DATA_DIR");
    cmd
}

/// Runs [`command`] with `stdin` to the end.
pub fn keepsake(data: &std::path::Path, profile: Option<&str>, args: &[&str], stdin: &str) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command(data, profile, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run keepsake");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait for keepsake");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes `DATA/config.toml` choosing the 0600-file secret store, so a test
/// can open a profile in-process (a test process cannot join a kernel
/// session keyring of its own: its threads already exist).
pub fn use_file_secrets(data: &std::path::Path) {
    std::fs::write(data.join("config.toml"), "secrets = \"file\"\n").expect("write config");
}

/// Logs `user` into `profile` through the real binary.
pub fn login(data: &std::path::Path, profile: &str, hs: &Homeserver, user: &TestUser) {
    login_via(data, profile, &hs.url, user);
}

/// Logs in through `url` (a fault-injecting proxy, say).
pub fn login_via(data: &std::path::Path, profile: &str, url: &str, user: &TestUser) {
    let r = keepsake(
        data,
        Some(profile),
        &[
            "login",
            "--homeserver",
            url,
            "--user",
            &user.user_id,
            "--password-stdin",
        ],
        &user.password,
    );
    assert_eq!(r.code, 0, "login {profile}: {}", r.stderr);
}

/// Opens a logged-in profile in this process, as the binary would.
pub async fn open_account(
    data: &std::path::Path,
    profile: &str,
) -> keepsake::matrix::account::Account {
    use keepsake::config::{self, BaseDirs, Overrides};
    let base = BaseDirs::under(data);
    let text = std::fs::read_to_string(&base.config_file).ok();
    let overrides = Overrides {
        profile: Some(profile.to_owned()),
        data_dir: Some(data.to_owned()),
    };
    let settings =
        config::resolve(&base.config_file, text.as_deref(), &overrides, &base).expect("settings");
    let (secrets, _) =
        keepsake::secrets::SecretStore::open(&settings.profile_dir, settings.secrets)
            .expect("secrets");
    keepsake::matrix::account::restore(&settings, &secrets)
        .await
        .expect("restore the session")
}

/// `n` encrypted rooms that profile `from` creates and profile `to` joins
/// (both logged in), then one message in each that names `to`'s user id,
/// sent while `to` is not running: its next sync brings them all at once.
pub async fn mentions_waiting(
    data: &std::path::Path,
    from: &str,
    to: &str,
    to_user: &TestUser,
    n: usize,
) -> Vec<String> {
    use keepsake::matrix::{outgoing::TextFormat, rooms};
    let a = open_account(data, from).await;
    let mut ids = vec![];
    for i in 0..n {
        let invite = [to_user.user_id.clone()];
        let id = rooms::create(&a.client, &format!("Room {i}"), &invite, None, true)
            .await
            .expect("create a room");
        ids.push(id.to_string());
    }
    {
        let b = open_account(data, to).await;
        for id in &ids {
            rooms::join(&b.client, id).await.expect("join");
        }
    }
    // So that `from` knows `to` joined, and shares the room keys.
    rooms::sync_once(&a.client).await.expect("sync");
    let text = format!("{} look at this", to_user.user_id);
    for id in &ids {
        rooms::send_text(&a.client, id, &text, None, TextFormat::Plain, &[])
            .await
            .expect("send");
    }
    ids
}

/// Runs keepsake and fails the test unless it exits 0; returns stdout.
pub fn ok(data: &std::path::Path, profile: &str, args: &[&str], stdin: &str) -> String {
    let r = keepsake(data, Some(profile), args, stdin);
    assert_eq!(r.code, 0, "{profile} {args:?}: {}", r.stderr);
    r.stdout
}

/// [`ok`], its stdout parsed as one JSON value.
pub fn ok_json(data: &std::path::Path, profile: &str, args: &[&str], stdin: &str) -> Value {
    let out = ok(data, profile, args, stdin);
    serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("{profile} {args:?}: not JSON ({e}): {out}"))
}

/// `keepsake create-room NAME [OPTIONS] --json`; yields the room id.
pub fn create_room(data: &std::path::Path, profile: &str, name: &str, options: &[&str]) -> String {
    let mut args = vec!["create-room", name];
    args.extend_from_slice(options);
    args.push("--json");
    ok_json(data, profile, &args, "")["room_id"]
        .as_str()
        .expect("a room id")
        .to_owned()
}

/// `keepsake backup status --json`.
pub fn backup_status(data: &std::path::Path, profile: &str) -> Value {
    ok_json(data, profile, &["backup", "status", "--json"], "")
}

/// `recovery setup` then `backup create` on `profile`: returns the
/// recovery key and the backup version.
pub fn setup_backup(data: &std::path::Path, profile: &str) -> (String, String) {
    // One step: secret storage, cross-signing and the backup.
    let setup = ok_json(data, profile, &["recovery", "setup", "--json"], "");
    let key = setup["recovery_key"]
        .as_str()
        .expect("a recovery key")
        .to_owned();
    assert_eq!(setup["backup"]["created"], true, "{setup}");
    let version = setup["backup"]["version"]
        .as_str()
        .expect("a version")
        .to_owned();
    (key, version)
}

/// Benchmark size: 200 under `cargo test` (so benchmarks cannot rot),
/// otherwise `KEEPSAKE_BENCH_SESSIONS` or 10,000.
pub fn bench_sessions() -> usize {
    if !std::env::args().any(|a| a == "--bench") {
        return 200;
    }
    std::env::var("KEEPSAKE_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// The exit code of a command that failed with `kind` (see the README).
pub fn exit(kind: keepsake::error::ErrorKind) -> i32 {
    i32::from(kind.exit_code())
}
