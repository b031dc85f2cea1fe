//! Secret storage and cross-signing against the real Synapse: alice sets up
//! recovery on one device and unlocks two more, one with the recovery key and
//! one with the passphrase; wrong secrets are refused and change nothing.
use crate::common;

use crate::common::ok_json;

fn run(data: &std::path::Path, profile: &str, args: &[&str], stdin: &str) -> common::Run {
    common::keepsake(data, Some(profile), args, stdin)
}

fn verified_devices(data: &std::path::Path, profile: &str) -> Vec<(String, bool)> {
    let list = ok_json(data, profile, &["devices", "--json"], "");
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["device_id"].as_str().unwrap().to_owned(),
                d["verified"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn device_id(data: &std::path::Path, profile: &str) -> String {
    ok_json(data, profile, &["whoami", "--json"], "")["device_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_then_unlock_with_key_and_with_passphrase() {
    let hs = common::homeserver();
    let alice = hs.register("alice").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for p in ["a1", "a2", "a3"] {
        common::login(data, p, &hs, &alice);
    }

    // Before setup there is nothing to unlock.
    let r = run(data, "a2", &["recovery", "unlock", "--stdin"], "anything\n");
    assert_eq!(r.code, common::exit(keepsake::error::ErrorKind::NotFound));
    assert_eq!(
        r.stderr,
        "keepsake: this account has no secret storage; run `keepsake recovery setup` on a device first\n"
    );

    let stdin = format!("{}\nsesame street 42\n", alice.password);
    let setup = ok_json(
        data,
        "a1",
        &[
            "recovery",
            "setup",
            "--password-stdin",
            "--passphrase-stdin",
            "--json",
        ],
        &stdin,
    );
    let key = setup["recovery_key"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 59, "12 groups of 4 with spaces: {key}");
    assert!(key.starts_with("Es"), "{key}");
    assert_eq!(setup["passphrase"], true);
    // The key backup is made in the same step, under the readable name.
    assert_eq!(setup["backup"]["created"], true, "{setup}");
    assert_eq!(
        setup["backup"]["algorithm"], "org.matrix.msc3270.v1.aes-hmac-sha2",
        "{setup}"
    );
    assert_eq!(common::backup_status(data, "a1")["health"], "healthy");
    // Set up once only.
    let r = run(
        data,
        "a1",
        &["recovery", "setup", "--password-stdin"],
        &format!("{}\n", alice.password),
    );
    assert_eq!(r.code, common::exit(keepsake::error::ErrorKind::Conflict));
    assert!(
        r.stderr.contains("already has secret storage"),
        "{}",
        r.stderr
    );

    let st = ok_json(data, "a1", &["recovery", "status", "--json"], "");
    assert_eq!(st["cross_signing_complete"], true, "{st}");
    assert_eq!(st["device_verified"], true, "{st}");
    assert_eq!(st["secret_storage"], true, "{st}");

    // Wrong recovery key (well-formed, another key) and wrong passphrase.
    let other =
        keepsake::crypto::recovery_key::encode(&keepsake::crypto::SecretKey::generate().unwrap());
    for wrong in [other.as_str(), "sesame street 43"] {
        let r = run(
            data,
            "a2",
            &["recovery", "unlock", "--stdin"],
            &format!("{wrong}\n"),
        );
        assert_eq!(
            r.code,
            common::exit(keepsake::error::ErrorKind::WrongKey),
            "{wrong}"
        );
        assert_eq!(
            r.stderr,
            "keepsake: wrong recovery key or passphrase: it does not open this account's secret storage\n"
        );
    }
    // Scripts get the kind, which does not change with the wording.
    let r = run(
        data,
        "a2",
        &["recovery", "unlock", "--stdin", "--json"],
        &format!("{}\n", other.as_str()),
    );
    assert_eq!(r.code, common::exit(keepsake::error::ErrorKind::WrongKey));
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("a JSON error");
    assert_eq!(v["error"], "wrong_key", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("wrong recovery key"),
        "{v}"
    );
    // A typo in the real key is named as such.
    let mut typo: Vec<char> = key.chars().collect();
    typo[10] = if typo[10] == 'a' { 'b' } else { 'a' };
    let typo: String = typo.into_iter().collect();
    let r = run(
        data,
        "a2",
        &["recovery", "unlock", "--stdin"],
        &format!("{typo}\n"),
    );
    assert_eq!(r.code, common::exit(keepsake::error::ErrorKind::Invalid));
    assert!(
        r.stderr.starts_with("keepsake: the recovery key"),
        "{}",
        r.stderr
    );
    // ...and none of that touched the account or a2.
    let st = ok_json(data, "a2", &["recovery", "status", "--json"], "");
    assert_eq!(st["device_verified"], false, "{st}");
    assert_eq!(st["cross_signing_complete"], false, "{st}");
    assert_eq!(st["secret_storage"], true, "{st}");

    let (d2, d3) = (device_id(data, "a2"), device_id(data, "a3"));
    let before = verified_devices(data, "a1");
    assert!(before.contains(&(d2.clone(), false)), "{before:?}");

    let u = ok_json(
        data,
        "a2",
        &["recovery", "unlock", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(u["device_verified"], true, "{u}");
    let u = ok_json(
        data,
        "a3",
        &["recovery", "unlock", "--stdin", "--json"],
        "sesame street 42\n",
    );
    assert_eq!(u["device_verified"], true, "{u}");

    let after = verified_devices(data, "a1");
    assert!(after.contains(&(d2, true)), "{after:?}");
    assert!(after.contains(&(d3, true)), "{after:?}");
    let st = ok_json(data, "a3", &["recovery", "status", "--json"], "");
    assert_eq!(st["cross_signing_complete"], true, "{st}");

    // Reset: a new key opens secret storage, the old one no longer does.
    let reset = ok_json(data, "a2", &["recovery", "reset", "--json"], "");
    let new_key = reset["recovery_key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, key);
    common::login(data, "a4", &hs, &alice);
    let r = run(
        data,
        "a4",
        &["recovery", "unlock", "--stdin"],
        &format!("{key}\n"),
    );
    assert_eq!(
        r.code,
        common::exit(keepsake::error::ErrorKind::WrongKey),
        "the old key must not open the new storage"
    );
    let u = ok_json(
        data,
        "a4",
        &["recovery", "unlock", "--stdin", "--json"],
        &format!("{new_key}\n"),
    );
    assert_eq!(u["device_verified"], true, "{u}");
}
