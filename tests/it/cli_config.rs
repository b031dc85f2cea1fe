//! The real binary with each invalid config: exit status 1 and the exact
//! message on stderr; and the settings it resolves with a valid one.

use crate::common;
use std::path::Path;
use std::process::Command;

fn keepsake(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keepsake"))
        .args(args)
        .env_remove("KEEPSAKE_PROFILE")
        .env_remove("KEEPSAKE_DATA_DIR")
        .output()
        .expect("run keepsake");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn invalid_configs_are_refused_with_their_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let cases = [
        (
            "bad_url.toml",
            "3:14: `homeserver` \"ftp://example.org\" must use https:// (or http:// for a local server)",
        ),
        ("unknown_key.toml", "2:1: unknown field `homeservr`"),
        (
            "bad_type.toml",
            "1:8: invalid type: integer `42`, expected a string",
        ),
        (
            "bad_secrets.toml",
            "1:11: `secrets` must be \"auto\", \"keyring\" or \"file\", not \"plaintext\"",
        ),
    ];
    for (name, tail) in cases {
        let path = fixture(name);
        let (code, stdout, stderr) = keepsake(&["--data-dir", data, "--config", &path, "config"]);
        assert_eq!(
            code,
            common::exit(keepsake::error::ErrorKind::Invalid),
            "{name}: {stderr}"
        );
        assert!(stdout.is_empty(), "{name}: {stdout}");
        let expected_start = format!("keepsake: invalid config {path}:{tail}");
        assert!(
            stderr.starts_with(&expected_start),
            "{name}: got {stderr:?}, want {expected_start:?}"
        );
        assert_eq!(
            stderr.lines().count(),
            1,
            "{name}: one line only: {stderr:?}"
        );
    }
}

#[test]
fn missing_explicit_config_is_an_error_but_missing_default_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (code, _, stderr) = keepsake(&[
        "--data-dir",
        data,
        "--config",
        "/nonexistent/k.toml",
        "config",
    ]);
    assert_eq!(code, common::exit(keepsake::error::ErrorKind::Invalid));
    assert!(
        stderr.starts_with("keepsake: cannot read config /nonexistent/k.toml:"),
        "{stderr}"
    );

    let (code, stdout, stderr) = keepsake(&["--data-dir", data, "config", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["profile"], "default");
    assert_eq!(v["profile_dir"], format!("{data}/data/profiles/default"));
}

#[test]
fn data_dir_config_and_profile_flags_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    std::fs::copy(fixture("good.toml"), dir.path().join("config.toml")).unwrap();
    let (code, stdout, stderr) =
        keepsake(&["--data-dir", data, "--profile", "local", "config", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["profile"], "local");
    assert_eq!(v["homeserver"], "http://127.0.0.1:8008/");
    assert_eq!(v["user"], "bob");
    assert_eq!(v["secrets"], "file");
    // Logs went to the state dir under --data-dir, created private (umask 077).
    let logs = dir.path().join("state/logs");
    let entries: Vec<_> = std::fs::read_dir(&logs).unwrap().collect();
    assert!(!entries.is_empty(), "a log file exists");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&logs).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "log dir mode {mode:o}");
}

#[test]
fn help_describes_the_client() {
    let (code, stdout, _) = keepsake(&["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("never loses encrypted history"), "{stdout}");
    assert!(stdout.contains("--profile"), "{stdout}");
}
