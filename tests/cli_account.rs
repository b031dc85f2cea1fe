//! login / whoami / logout through the real binary against the real Synapse,
//! with the secrets in the real kernel keyring (no D-Bus here).

mod common;

use serde_json::{Value, json};

fn keepsake(data: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let r = common::keepsake(data, None, args, stdin);
    (r.code, r.stdout, r.stderr)
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
    assert_eq!(code, 1);
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
    assert_eq!(code, 1);
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

    let (code, out, err) = login(data, &hs.url, &bob.localpart, "not-the-password\n", &[]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(err, "keepsake: login failed: wrong user name or password\n");

    // Port 1 on loopback: nothing listens there.
    let (code, _, err) = login(
        data,
        "http://127.0.0.1:1",
        &bob.localpart,
        &bob.password,
        &[],
    );
    assert_eq!(code, 1);
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
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "keepsake: the saved session is no longer valid (expired or logged out elsewhere); log in again with `keepsake login`\n"
    );
    // Logging out a dead session still cleans up locally.
    let (code, _, err) = keepsake(data, &["logout"], "");
    assert_eq!(code, 0, "{err}");
}
