//! Config parsing and resolution: defaults, profiles, overrides, and one
//! precise message (file, line, column, what) for each kind of mistake.

use std::path::{Path, PathBuf};

use keepsake::config::{self, BaseDirs, Overrides, SecretsBackend};

fn fixture(name: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

fn base() -> BaseDirs {
    BaseDirs::under(Path::new("/run/ks"))
}

fn error_of(name: &str) -> String {
    let (path, text) = fixture(name);
    let err = config::resolve(&path, Some(&text), &Overrides::default(), &base()).unwrap_err();
    err.to_string()
        .replace(&format!("{}", path.display()), name)
}

#[test]
fn missing_file_means_defaults() {
    let s = config::resolve(
        Path::new("/nope.toml"),
        None,
        &Overrides::default(),
        &base(),
    )
    .unwrap();
    assert_eq!(s.profile, "default");
    assert_eq!(s.homeserver, None);
    assert_eq!(s.backup_algorithm, "org.matrix.msc3270.v1.aes-hmac-sha2");
    assert_eq!(s.secrets, SecretsBackend::Auto);
    assert_eq!(s.log_level, "info");
    assert_eq!(
        s.room_sort,
        keepsake::matrix::room_order::RoomSort::Activity
    );
    assert_eq!(s.profile_dir, Path::new("/run/ks/data/profiles/default"));
    assert_eq!(s.log_dir, Path::new("/run/ks/state/logs"));
}

#[test]
fn profiles_inherit_top_level_and_override_it() {
    let (path, text) = fixture("good.toml");
    let s = config::resolve(&path, Some(&text), &Overrides::default(), &base()).unwrap();
    assert_eq!(s.profile, "home");
    assert_eq!(
        s.homeserver.unwrap().as_str(),
        "https://matrix.example.org/"
    );
    assert_eq!(s.user.as_deref(), Some("@alice:example.org"));
    assert_eq!(s.device_name, "laptop");
    assert_eq!(s.secrets, SecretsBackend::File);
    assert_eq!(s.log_level, "debug");
    // The stable name, chosen in the file, over the unstable default.
    assert_eq!(s.backup_algorithm, "m.megolm_backup.v1.aes-hmac-sha2");

    let o = Overrides {
        profile: Some("local".into()),
        data_dir: None,
    };
    let s = config::resolve(&path, Some(&text), &o, &base()).unwrap();
    assert_eq!(s.homeserver.unwrap().as_str(), "http://127.0.0.1:8008/");
    assert_eq!(s.user.as_deref(), Some("bob"));
    assert_eq!(s.device_name, "keepsake");
    assert_eq!(s.profile_dir, Path::new("/run/ks/data/profiles/local"));

    // A profile the file does not name is a fresh account with the defaults.
    let o = Overrides {
        profile: Some("carol".into()),
        data_dir: None,
    };
    let s = config::resolve(&path, Some(&text), &o, &base()).unwrap();
    assert_eq!(s.user, None);
    assert_eq!(
        s.homeserver.unwrap().as_str(),
        "https://matrix.example.org/"
    );
}

#[test]
fn each_mistake_has_one_precise_message() {
    let cases = [
        (
            "unknown_key.toml",
            "invalid config unknown_key.toml:2:1: unknown field `homeservr`, expected one of `default_profile`, `log_level`, `secrets`, `homeserver`, `user`, `device_name`, `data_dir`, `backup_algorithm`, `profiles`, `keys`, `colors`, `rooms`, `files`, `notifications`, `images`, `privacy`",
        ),
        (
            "bad_url.toml",
            "invalid config bad_url.toml:3:14: `homeserver` \"ftp://example.org\" must use https:// (or http:// for a local server)",
        ),
        (
            "bad_algorithm.toml",
            "invalid config bad_algorithm.toml:1:20: `backup_algorithm` must be \"m.megolm_backup.v1.aes-hmac-sha2\" or \"org.matrix.msc3270.v1.aes-hmac-sha2\", not \"m.megolm_backup.v1.curve25519-aes-sha2\"",
        ),
        (
            "bad_syntax.toml",
            "invalid config bad_syntax.toml:2:18: invalid basic string, expected `\"`",
        ),
        (
            "bad_type.toml",
            "invalid config bad_type.toml:1:8: invalid type: integer `42`, expected a string",
        ),
        (
            "bad_secrets.toml",
            "invalid config bad_secrets.toml:1:11: `secrets` must be \"auto\", \"keyring\" or \"file\", not \"plaintext\"",
        ),
        (
            "bad_profile_name.toml",
            "invalid config bad_profile_name.toml:1:1: profile name `my work` may only use letters, digits, `-` and `_`",
        ),
        (
            "bad_sort.toml",
            "invalid config bad_sort.toml:2:8: [rooms] `sort` must be one of activity, name, unread, not \"size\"",
        ),
        (
            "relative_data_dir.toml",
            "invalid config relative_data_dir.toml:1:12: `data_dir` must be an absolute path",
        ),
    ];
    for (name, expected) in cases {
        assert_eq!(error_of(name), expected, "{name}");
    }
}

#[test]
fn bad_profile_override_is_refused() {
    let o = Overrides {
        profile: Some("../escape".into()),
        data_dir: None,
    };
    let e = config::resolve(Path::new("/c.toml"), None, &o, &base()).unwrap_err();
    assert!(e.message.contains("`../escape`"), "{e}");
}

#[test]
fn user_and_homeserver_forms() {
    assert!(config::parse_user("@alice:localhost").is_ok());
    assert!(config::parse_user("alice").is_ok());
    assert!(config::parse_user("Alice").is_err());
    assert!(config::parse_user("@alice").is_err());
    assert_eq!(
        config::parse_homeserver("matrix.org").unwrap().as_str(),
        "https://matrix.org/"
    );
    assert!(config::parse_homeserver("http://").is_err());
}
