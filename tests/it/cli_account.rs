//! login / whoami / logout through the real binary against the real Synapse,
//! with the secrets in the real kernel keyring (no D-Bus here).
use crate::common;

use serde_json::{Value, json};

fn keepsake(data: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let r = common::keepsake(data, None, args, stdin);
    (r.code, r.stdout, r.stderr)
}

/// Asks for the OS keyring explicitly: with no D-Bus here that is the
/// kernel keyring (`auto` would choose the durable file instead).
fn use_kernel_keyring(data: &std::path::Path) {
    std::fs::write(data.join("config.toml"), "secrets = \"keyring\"\n").unwrap();
}

fn login(
    data: &std::path::Path,
    homeserver: &str,
    user: &str,
    stdin: &str,
    extra: &[&str],
) -> (i32, String, String) {
    let mut args = vec![
        "login",
        "--homeserver",
        homeserver,
        "--user",
        user,
        "--password-stdin",
    ];
    args.extend_from_slice(extra);
    keepsake(data, &args, stdin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_restore_whoami_logout() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    use_kernel_keyring(data);

    let (code, out, err) = login(
        data,
        &hs.url,
        &alice.localpart,
        &format!("{}\n", alice.password),
        &["--json"],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["user_id"], alice.user_id);
    let device = v["device_id"].as_str().unwrap().to_owned();

    // A second run restores the session: no password, same device.
    let (code, out, err) = keepsake(data, &["whoami", "--json"], "");
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["user_id"], alice.user_id);
    assert_eq!(v["device_id"], device);

    // Nothing secret in plaintext under the data dir: no secrets file, and
    // the access token appears in no file.
    let token_probe = std::fs::read_dir(data.join("data/profiles/default"))
        .unwrap()
        .count();
    assert!(token_probe > 0);
    assert!(!data.join("data/profiles/default/secrets.json").exists());
    let marker =
        std::fs::read_to_string(data.join("data/profiles/default/secrets-backend")).unwrap();
    assert_eq!(marker, "kernel-keyring");

    // Logging in again over a live session is refused, naming the account.
    let (code, _, err) = login(data, &hs.url, &alice.localpart, &alice.password, &[]);
    assert_eq!(code, common::exit(keepsake::error::ErrorKind::Conflict));
    assert_eq!(
        err.trim_end(),
        format!(
            "keepsake: profile `default` is already logged in as {}; run `keepsake logout` first",
            alice.user_id
        )
    );

    let (code, out, err) = keepsake(data, &["logout"], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim_end(), "logged out of profile default");
    assert!(!data.join("data/profiles/default/store").exists());
    let (code, _, err) = keepsake(data, &["whoami"], "");
    assert_eq!(code, common::exit(keepsake::error::ErrorKind::LoggedOut));
    assert_eq!(
        err.trim_end(),
        "keepsake: profile `default` is not logged in; run `keepsake login`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_unreachable_server_and_expired_token() {
    let hs = common::homeserver();
    let bob = hs.register("bob").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    use_kernel_keyring(data);

    let (code, out, err) = login(data, &hs.url, &bob.localpart, "not-the-password\n", &[]);
    assert_eq!(
        (code, out.as_str()),
        (common::exit(keepsake::error::ErrorKind::Forbidden), "")
    );
    assert_eq!(err, "keepsake: login failed: wrong user name or password\n");

    // Port 1 on loopback: nothing listens there.
    let (code, _, err) = login(
        data,
        "http://127.0.0.1:1",
        &bob.localpart,
        &bob.password,
        &[],
    );
    assert_eq!(code, common::exit(keepsake::error::ErrorKind::Network));
    assert_eq!(
        err,
        "keepsake: cannot reach the homeserver at http://127.0.0.1:1\n"
    );

    let (code, _, err) = login(data, &hs.url, &bob.localpart, &bob.password, &[]);
    assert_eq!(code, 0, "{err}");

    // Another client logs out every device of bob: our token dies.
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/_matrix/client/v3/login", hs.url))
        .json(&json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": bob.localpart}, "password": bob.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap();
    let r = http
        .post(format!("{}/_matrix/client/v3/logout/all", hs.url))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let (code, _, err) = keepsake(data, &["whoami"], "");
    assert_eq!(code, common::exit(keepsake::error::ErrorKind::LoggedOut));
    assert_eq!(
        err,
        "keepsake: the saved session is no longer valid (expired or logged out elsewhere); log in again with `keepsake login`\n"
    );
    // Logging out a dead session still cleans up locally.
    let (code, _, err) = keepsake(data, &["logout"], "");
    assert_eq!(code, 0, "{err}");
}

/// The kernel keyring forgets (a reboot, days unused): keepsake says so,
/// and `login` keeps the old store instead of deleting it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyring_that_forgets_never_costs_the_store() {
    let hs = common::homeserver();
    let carol = hs.register("carol").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    use_kernel_keyring(data);
    let (code, _, err) = login(data, &hs.url, &carol.localpart, &carol.password, &[]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = keepsake(data, &["config", "--json"], "");
    assert_eq!(code, 0, "{err}");
    let cfg: Value = serde_json::from_str(&out).unwrap();
    assert!(
        cfg["secrets_location"]
            .as_str()
            .unwrap()
            .contains("kernel keyring"),
        "{cfg}"
    );
    let profile_dir = std::path::PathBuf::from(cfg["profile_dir"].as_str().unwrap());
    let store = profile_dir.join("store");
    let held: Vec<_> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(!held.is_empty());

    // The keyring forgets both secrets, as the kernel does at reboot. A
    // thread of its own joins a session keyring to reach them.
    let p = profile_dir.clone();
    std::thread::spawn(move || {
        keepsake::secrets::join_session_keyring();
        let (secrets, _) =
            keepsake::secrets::SecretStore::open(&p, keepsake::config::SecretsBackend::Keyring)
                .unwrap();
        for name in [
            keepsake::secrets::SecretName::Session,
            keepsake::secrets::SecretName::StorePassphrase,
        ] {
            secrets.delete(name).unwrap();
        }
    })
    .join()
    .unwrap();

    let (code, _, err) = keepsake(data, &["whoami"], "");
    assert_eq!(code, common::exit(keepsake::error::ErrorKind::LoggedOut));
    assert!(err.contains("lost its secrets"), "{err}");
    assert!(err.contains(&store.display().to_string()), "{err}");
    assert!(err.contains("never deletes it"), "{err}");
    assert!(store.exists(), "whoami touched the store");

    // Logging in again keeps the old store, moved aside, and says where.
    let (code, out, err) = login(
        data,
        &hs.url,
        &carol.localpart,
        &carol.password,
        &["--json"],
    );
    assert_eq!(code, 0, "{err}");
    let who: Value = serde_json::from_str(&out).unwrap();
    let kept = std::path::PathBuf::from(who["store_moved_to"].as_str().expect("where it went"));
    assert!(err.contains("kept, not deleted"), "{err}");
    let kept_files: Vec<_> = std::fs::read_dir(&kept)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(kept_files.len(), held.len(), "{kept_files:?} vs {held:?}");
    for f in &held {
        assert!(kept_files.contains(f), "{f:?} lost");
    }
    // And the new device works.
    let (code, _, err) = keepsake(data, &["whoami"], "");
    assert_eq!(code, 0, "{err}");
}

/// One crypto machine per store: a second keepsake on a profile in use is
/// told which process holds it; once that one dies, the profile opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_in_use_is_not_opened_twice() {
    use std::io::BufRead;
    let hs = common::homeserver();
    let dave = hs.register("dave").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "d", &hs, &dave);
    let mut holder = common::command(data, Some("d"), &["sync"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(holder.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("syncing"), "{line}");
    let r = common::keepsake(data, Some("d"), &["whoami"], "");
    assert_eq!(
        r.code,
        common::exit(keepsake::error::ErrorKind::Conflict),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(&format!(
            "is open in another keepsake (process {})",
            holder.id()
        )),
        "{}",
        r.stderr
    );
    // Killed, it holds nothing.
    holder.kill().unwrap();
    holder.wait().unwrap();
    let r = common::keepsake(data, Some("d"), &["whoami"], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
}
