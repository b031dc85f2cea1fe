//! Key files against the real Synapse: alice exports her keys in Element's
//! format; a fresh device imports them (a wrong passphrase changes nothing)
//! and reads the history, marked untrusted unless the user vouches for the
//! file.
use crate::common;

use crate::common::{backup_status, ok, ok_json};

const PASS: &str = "file passphrase";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_keys_decrypt_history_on_a_fresh_device() {
    let hs = common::homeserver();
    let (alice, bob) = (hs.register("alice").await, hs.register("bob").await);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    for (p, u) in [("a1", &alice), ("bob", &bob)] {
        common::login(data, p, &hs, u);
    }
    let room = ok_json(
        data,
        "a1",
        &["create-room", "Files", "--invite", &bob.user_id, "--json"],
        "",
    )["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "bob", &["join", &room], "");
    ok(data, "a1", &["send", &room, "from alice"], "");
    ok(data, "bob", &["send", &room, "from bob"], "");
    ok(data, "a1", &["sync", "--once"], "");

    let file = data.join("keys.txt");
    let f = file.to_str().unwrap();
    let r = ok_json(
        data,
        "a1",
        &["keys", "export", f, "--passphrase-stdin", "--json"],
        &format!("{PASS}\n"),
    );
    assert_eq!(r["exported"], 2, "alice's and bob's session: {r}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("-----BEGIN MEGOLM SESSION DATA-----"),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = common::keepsake(
        data,
        Some("a1"),
        &["keys", "export", f, "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "file untouched"
    );

    common::login(data, "a2", &hs, &alice);
    let wrong = common::keepsake(
        data,
        Some("a2"),
        &["keys", "import", f, "--passphrase-stdin"],
        "not the passphrase\n",
    );
    assert_ne!(wrong.code, 0);
    assert!(
        wrong.stderr.contains("wrong passphrase"),
        "{}",
        wrong.stderr
    );
    assert_eq!(backup_status(data, "a2")["local_sessions"], 0);

    let r = ok_json(
        data,
        "a2",
        &["keys", "import", f, "--passphrase-stdin", "--json"],
        &format!("{PASS}\n"),
    );
    assert_eq!(
        (r["total"].as_u64(), r["imported"].as_u64()),
        (Some(2), Some(2)),
        "{r}"
    );
    let h = ok_json(data, "a2", &["history", &room, "--json"], "");
    let items = h.as_array().unwrap();
    assert_eq!(items.len(), 2, "{h}");
    for item in items {
        assert_eq!(item["decrypted"], true, "{item}");
        assert_eq!(item["trust"], "backup_untrusted", "{item}");
        assert_eq!(item["trust_reason"], "imported from a key file", "{item}");
    }

    common::login(data, "a3", &hs, &alice);
    ok(
        data,
        "a3",
        &["keys", "import", f, "--passphrase-stdin", "--trust"],
        &format!("{PASS}\n"),
    );
    let h = ok_json(data, "a3", &["history", &room, "--json"], "");
    for item in h.as_array().unwrap() {
        assert_eq!(item["trust"], "backup_trusted", "{item}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_asking_for_billions_of_rounds_is_refused_at_once() {
    let hs = common::homeserver();
    let alice = hs.register("rounds").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a", &hs, &alice);
    // Version 1, salt, IV, then u32::MAX rounds: deriving would take hours.
    let mut raw = vec![1u8];
    raw.extend([7u8; 32]);
    raw.extend(u32::MAX.to_be_bytes());
    raw.extend([9u8; 64]);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
    let file = data.join("hostile.txt");
    std::fs::write(
        &file,
        format!("-----BEGIN MEGOLM SESSION DATA-----\n{b64}\n-----END MEGOLM SESSION DATA-----\n"),
    )
    .unwrap();
    let r = common::keepsake(
        data,
        Some("a"),
        &[
            "keys",
            "import",
            file.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        &format!("{PASS}\n"),
    );
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("asks for 4294967295 PBKDF2 rounds"),
        "{}",
        r.stderr
    );
}

/// A key this device already holds from a key file (untrusted) stays
/// untrusted when a restore offers the same key from the backup: the
/// store keeps its copy, so the trust of that copy is kept too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_untrusted_copy_stays_untrusted_after_a_restore() {
    let hs = common::homeserver();
    let alice = hs.register("held").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::use_file_secrets(data);
    common::login(data, "a1", &hs, &alice);
    let (key, _) = common::setup_backup(data, "a1");
    let room = ok_json(data, "a1", &["create-room", "Held", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "a1", &["send", &room, "kept"], "");
    ok(data, "a1", &["backup", "upload", "--wait"], "");
    let file = data.join("held.txt");
    let f = file.to_str().unwrap();
    ok(
        data,
        "a1",
        &["keys", "export", f, "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    common::login(data, "a2", &hs, &alice);
    ok(
        data,
        "a2",
        &["keys", "import", f, "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    let r = ok_json(
        data,
        "a2",
        &["backup", "restore", "--stdin", "--json"],
        &format!("{key}\n"),
    );
    assert_eq!(r["imported"], 0, "the store kept its own copy: {r}");
    assert_eq!(r["already_held"], 1, "{r}");
    assert_eq!(r["trusted"], 0, "{r}");
    let h = ok_json(data, "a2", &["history", &room, "--json"], "");
    let item = &h.as_array().unwrap()[0];
    assert_eq!(item["trust"], "backup_untrusted", "{item}");
    assert_eq!(item["trust_reason"], "imported from a key file", "{item}");
}

/// Every string under an `access_token` key, also inside strings that are
/// JSON themselves (the secrets file keeps the session as a JSON string).
fn tokens_in(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("access_token", serde_json::Value::String(t)) => out.push(t.clone()),
                    _ => tokens_in(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| tokens_in(v, out)),
        serde_json::Value::String(s) => {
            if let Ok(inner) = serde_json::from_str::<serde_json::Value>(s) {
                tokens_in(&inner, out);
            }
        }
        _ => {}
    }
}

fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// A whole scripted life at debug log level (log in on two devices, set
/// up recovery and the backup, chat, restore on the second device, export
/// the keys), then every file under the data dir (stores with their WAL,
/// logs, config, the export) searched for each secret: the password, the
/// recovery key (grouped and compact), the access tokens, the backup key
/// and the key file's passphrase. Only the announced 0600 secrets files may
/// hold the tokens and the store passphrases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_left_anywhere_but_the_secrets_file() {
    let hs = common::homeserver();
    let alice = hs.register("sweep").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    std::fs::write(
        data.join("config.toml"),
        "secrets = \"file\"\nlog_level = \"debug\"\n",
    )
    .unwrap();
    common::login(data, "a1", &hs, &alice);
    let (key, _) = common::setup_backup(data, "a1");
    let room = ok_json(data, "a1", &["create-room", "Sweep", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(data, "a1", &["send", &room, "a message to keep"], "");
    common::login(data, "a2", &hs, &alice);
    ok(
        data,
        "a2",
        &["backup", "restore", "--stdin"],
        &format!("{key}\n"),
    );
    // Read before the last runs, so no handle of this process is open on
    // the stores when they are searched.
    let backup_key = {
        let acc = common::open_account(data, "a2").await;
        let k = keepsake::backup::local_key::load(&acc.crypto_store)
            .await
            .unwrap()
            .expect("a2 holds the backup key");
        keepsake::crypto::BackupKey::new(k).to_base64().to_string()
    };
    ok(data, "a2", &["history", &room], "");
    let export = data.join("export.txt");
    ok(
        data,
        "a2",
        &[
            "keys",
            "export",
            export.to_str().unwrap(),
            "--passphrase-stdin",
        ],
        &format!("{PASS}\n"),
    );

    let mut files = vec![];
    files_under(data, &mut files);
    let secrets_files: Vec<_> = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "secrets.json"))
        .cloned()
        .collect();
    assert_eq!(secrets_files.len(), 2, "{files:?}");
    let (mut tokens, mut passphrases) = (vec![], vec![]);
    for f in &secrets_files {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        tokens_in(&v, &mut tokens);
        passphrases.push(
            v["store-passphrase"]
                .as_str()
                .expect("the store passphrase")
                .to_owned(),
        );
    }
    assert_eq!(tokens.len(), 2, "one access token per device");
    assert!(
        files.iter().any(|p| p.to_string_lossy().contains("log")),
        "no log file was written: {files:?}"
    );
    assert!(
        files
            .iter()
            .any(|p| p.to_string_lossy().ends_with("-wal")
                || p.to_string_lossy().ends_with(".sqlite3")),
        "no store was found: {files:?}"
    );

    let compact: String = key.split_whitespace().collect();
    let mut secrets: Vec<(&str, String)> = vec![
        ("the password", alice.password.clone()),
        ("the recovery key", key.clone()),
        ("the compact recovery key", compact),
        ("the backup key", backup_key),
        ("the key file passphrase", PASS.to_owned()),
    ];
    secrets.extend(tokens.iter().map(|t| ("an access token", t.clone())));
    secrets.extend(
        passphrases
            .iter()
            .map(|p| ("a store passphrase", p.clone())),
    );
    let mut hits = vec![];
    for f in &files {
        let bytes = match std::fs::read(f) {
            Ok(b) => b,
            // A store's WAL or journal goes when its last connection closes.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("{}: {e}", f.display()),
        };
        for (what, s) in &secrets {
            let allowed = matches!(*what, "an access token" | "a store passphrase")
                && secrets_files.contains(f);
            if !allowed && bytes.windows(s.len()).any(|w| w == s.as_bytes()) {
                hits.push(format!("{what} in {}", f.display()));
            }
        }
    }
    assert!(hits.is_empty(), "secrets found: {hits:#?}");
}
