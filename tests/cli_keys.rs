//! Key files against the real Synapse: alice exports her keys in Element's
//! format; a fresh device imports them (a wrong passphrase changes nothing)
//! and reads the history, marked untrusted unless the user vouches for the
//! file.

mod common;

use common::{backup_status, ok, ok_json};

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
