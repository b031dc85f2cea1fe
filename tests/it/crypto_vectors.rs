//! Known-answer tests from ../shared/spec.md A.3 (#1 to #7) and every failure
//! the crypto layer must report.

use keepsake::crypto::aes_hmac::{self, EncryptedData, KeyCheck, Prk};
use keepsake::crypto::backup::{BackupAuthData, BackupKey, SessionError};
use keepsake::crypto::passphrase::{self, PassphraseInfo};
use keepsake::crypto::recovery_key::{self, RecoveryKeyError};
use keepsake::crypto::session::{BackedUpSession, SessionDataError};
use keepsake::crypto::ssss::{KeyDescription, SecretStorageKey};
use keepsake::crypto::{CryptoError, SecretKey, b64};

const V1_RECOVERY_KEY: &str = "EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk qeeJ ZJV8 Q9fu gUMN UE4d";
const V1_HEX: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";

const V2_SESSION_ID: &str = "o+21hSjP+mgEmcfdslPsQdvzWnkdt0Wyo00Kp++R8Kc";
const V2_IV: &str = "b3Jqqvm5S9QdmXrzssspLQ";
const V2_MAC: &str = "uR988UYgGL99jrvLLPX3V1ows+UYbktTmMxPAo2kxnU";
const V2_CIPHERTEXT: &str = "GOOASO3E9ThogkG0zMjEduGLM3u9jHZTkS7AvNNbNj3q1znwk4OlaVKXce7ynofiiYIiS865VlOqrKEEXv96XzRyUpgn68e3WsicwYl96EtjIEh/iY003PG2QdEluT899Ax7PydpUHxEktbWckMppYomUR5q8x1KI1SsOQIiJaIGThmIMPANRCFiK0WQj+q+dnhzx4lt9AFqU5bKov8qKnw2qGYP7/+6RmJ0Kpvs8tG6lrcNDEHtFc2r0rKKubDypo0Vc8EWSwsAHdKa36ewRavpreOuE8Z9RLfY0QIR1ecXrMqW0CdGFr7H3PvcjF8sjwvQAavzxEKT1WMGizSMLeKWo2mgZ5cKnwV5HGUAw596JQvKs9laG2U89KYrT0sH30vi62HKzcBLcDkWkUSNYPz7UiZ1MM0L380UA+1ZOXSOmtBA9xxzzbc8XdfRimVgklGdxrxjzuNLYhL2BvVH4oPWonD9j0bvRwE6XkimdbGQA8HB7UmXXjE8WARgaDHkfzoA3g3aeQ";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn v1_key() -> SecretKey {
    recovery_key::decode(V1_RECOVERY_KEY).unwrap()
}

fn v2_data() -> EncryptedData {
    EncryptedData {
        iv: V2_IV.into(),
        ciphertext: V2_CIPHERTEXT.into(),
        mac: V2_MAC.into(),
    }
}

// ---- #1 recovery-key encoding ------------------------------------------------

#[test]
fn vector1_recovery_key_decodes_to_known_bytes() {
    assert_eq!(v1_key().as_bytes().to_vec(), hex(V1_HEX));
}

#[test]
fn vector1_recovery_key_encodes_to_known_string() {
    let key = SecretKey::from_slice(&hex(V1_HEX)).unwrap();
    assert_eq!(recovery_key::encode(&key).as_str(), V1_RECOVERY_KEY);
}

#[test]
fn vector1_unspaced_and_odd_whitespace_accepted() {
    let compact: String = V1_RECOVERY_KEY.split_whitespace().collect();
    assert_eq!(recovery_key::decode(&compact).unwrap(), v1_key());
    let messy = format!("  {}\n", V1_RECOVERY_KEY.replace(' ', "\t "));
    assert_eq!(recovery_key::decode(&messy).unwrap(), v1_key());
}

#[test]
fn vector1_changed_last_char_fails_parity() {
    let bad = V1_RECOVERY_KEY.replace("UE4d", "UE4e");
    assert_eq!(
        recovery_key::decode(&bad),
        Err(RecoveryKeyError::WrongParity)
    );
}

#[test]
fn recovery_key_wrong_prefix_length_and_alphabet_are_distinct() {
    // Same key bytes and a valid parity, but another prefix.
    let mut raw = vec![0x8Cu8, 0x01];
    raw.extend_from_slice(&hex(V1_HEX));
    let parity = raw.iter().fold(0u8, |a, b| a ^ b);
    raw.push(parity);
    let wrong_prefix = bs58_encode(&raw);
    assert_eq!(
        recovery_key::decode(&wrong_prefix),
        Err(RecoveryKeyError::WrongPrefix)
    );

    let compact: String = V1_RECOVERY_KEY.split_whitespace().collect();
    let short = &compact[..compact.len() - 4];
    assert!(matches!(
        recovery_key::decode(short),
        Err(RecoveryKeyError::WrongLength(_))
    ));
    assert!(matches!(
        recovery_key::decode(&format!("{compact}{compact}")),
        Err(RecoveryKeyError::WrongLength(_))
    ));
    assert_eq!(
        recovery_key::decode(""),
        Err(RecoveryKeyError::WrongLength(0))
    );
    // 0, O, I and l are not in the base58 alphabet.
    let bad_char = compact.replacen('E', "0", 1);
    assert_eq!(
        recovery_key::decode(&bad_char),
        Err(RecoveryKeyError::InvalidCharacter)
    );
}

fn bs58_encode(raw: &[u8]) -> String {
    // Independent of the crate under test: the textbook base58 algorithm.
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = vec![];
    for &byte in raw {
        let mut carry = byte as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = raw.iter().take_while(|b| **b == 0).count();
    std::iter::repeat_n('1', zeros)
        .chain(digits.iter().rev().map(|d| ALPHABET[*d as usize] as char))
        .collect()
}

// ---- #2 MSC3270 v1 session data (js-sdk) ------------------------------------

#[test]
fn vector2_js_sdk_session_decrypts_with_camel_case_chain() {
    let key = BackupKey::new(v1_key());
    let plain = key.decrypt_session(V2_SESSION_ID, &v2_data()).unwrap();
    let text = std::str::from_utf8(&plain).unwrap();
    assert!(text.starts_with(
        r#"{"algorithm":"m.megolm.v1.aes-sha2","sender_key":"SENDER_CURVE25519","sender_claimed_keys":{"ed25519":"SENDER_ED25519"},"forwardingCurve25519KeyChain":[],"session_key":"AQAAAAA+rPPVHcT/"#
    ));
    let session = key.decrypt_session_data(V2_SESSION_ID, &v2_data()).unwrap();
    assert_eq!(session.sender_key, "SENDER_CURVE25519");
    assert_eq!(session.sender_claimed_keys["ed25519"], "SENDER_ED25519");
    assert!(session.forwarding_curve25519_key_chain.is_empty());
    assert!(!session.untrusted, "absent `untrusted` means trusted");
    assert_eq!(session.session_id_of_key().unwrap(), V2_SESSION_ID);
    // Only the canonical id names the session: a padded alias would be
    // stored as a second copy of it.
    assert!(session.check_session_id(V2_SESSION_ID).is_ok());
    assert!(
        session
            .check_session_id(&format!("{V2_SESSION_ID}="))
            .is_err()
    );
}

#[test]
fn vector2_encrypting_the_plaintext_with_its_iv_reproduces_the_vector() {
    let key = BackupKey::new(v1_key());
    let plain = key.decrypt_session(V2_SESSION_ID, &v2_data()).unwrap();
    let iv: [u8; 16] = b64::decode(V2_IV).unwrap().try_into().unwrap();
    let again = key.encrypt_session_with_iv(V2_SESSION_ID, &plain, iv);
    assert_eq!(again, v2_data());
}

#[test]
fn vector2_wrong_key_fails_mac() {
    let other = BackupKey::new(SecretKey::from_bytes([7; 32]));
    assert_eq!(
        other
            .decrypt_session(V2_SESSION_ID, &v2_data())
            .unwrap_err(),
        CryptoError::MacMismatch
    );
}

#[test]
fn vector2_data_under_another_session_id_fails_mac() {
    let key = BackupKey::new(v1_key());
    let err = key
        .decrypt_session("another-session-id", &v2_data())
        .unwrap_err();
    assert_eq!(err, CryptoError::MacMismatch);
}

#[test]
fn vector2_flipped_ciphertext_byte_fails_mac() {
    let key = BackupKey::new(v1_key());
    for pos in [0, 17, 300] {
        let mut ct = b64::decode(V2_CIPHERTEXT).unwrap();
        ct[pos] ^= 0x01;
        let data = EncryptedData {
            ciphertext: b64::encode(ct),
            ..v2_data()
        };
        assert_eq!(
            key.decrypt_session(V2_SESSION_ID, &data).unwrap_err(),
            CryptoError::MacMismatch
        );
    }
}

#[test]
fn vector2_flipped_mac_byte_fails_mac() {
    let key = BackupKey::new(v1_key());
    for pos in [0, 31] {
        let mut mac = b64::decode(V2_MAC).unwrap();
        mac[pos] ^= 0x80;
        let data = EncryptedData {
            mac: b64::encode(mac),
            ..v2_data()
        };
        assert_eq!(
            key.decrypt_session(V2_SESSION_ID, &data).unwrap_err(),
            CryptoError::MacMismatch
        );
    }
}

#[test]
fn vector2_flipped_iv_byte_yields_no_session() {
    // The format MACs only the ciphertext, so a changed IV decrypts to garbage
    // rather than failing the MAC; the session parser must refuse the garbage.
    let key = BackupKey::new(v1_key());
    for pos in [0, 8, 15] {
        let mut iv = b64::decode(V2_IV).unwrap();
        iv[pos] ^= 0x01;
        let data = EncryptedData {
            iv: b64::encode(iv),
            ..v2_data()
        };
        let plain = key.decrypt_session(V2_SESSION_ID, &data).unwrap();
        let good = key.decrypt_session(V2_SESSION_ID, &v2_data()).unwrap();
        assert_ne!(plain.as_slice(), good.as_slice());
        assert!(matches!(
            key.decrypt_session_data(V2_SESSION_ID, &data),
            Err(SessionError::Data(SessionDataError::NotJson(_)))
        ));
    }
}

#[test]
fn vector2_truncated_or_wrongly_sized_fields_fail() {
    let key = BackupKey::new(v1_key());
    let ct = b64::decode(V2_CIPHERTEXT).unwrap();
    let truncated = EncryptedData {
        ciphertext: b64::encode(&ct[..ct.len() - 1]),
        ..v2_data()
    };
    assert_eq!(
        key.decrypt_session(V2_SESSION_ID, &truncated).unwrap_err(),
        CryptoError::MacMismatch
    );
    let empty = EncryptedData {
        ciphertext: String::new(),
        ..v2_data()
    };
    assert_eq!(
        key.decrypt_session(V2_SESSION_ID, &empty).unwrap_err(),
        CryptoError::MacMismatch
    );
    let short_mac = EncryptedData {
        mac: b64::encode(&b64::decode(V2_MAC).unwrap()[..16]),
        ..v2_data()
    };
    assert_eq!(
        key.decrypt_session(V2_SESSION_ID, &short_mac).unwrap_err(),
        CryptoError::Length {
            field: "mac",
            expected: 32,
            actual: 16
        }
    );
    let short_iv = EncryptedData {
        iv: b64::encode([0u8; 12]),
        ..v2_data()
    };
    assert_eq!(
        key.decrypt_session(V2_SESSION_ID, &short_iv).unwrap_err(),
        CryptoError::Length {
            field: "iv",
            expected: 16,
            actual: 12
        }
    );
}

#[test]
fn vector2_bad_base64_is_reported_per_field() {
    let key = BackupKey::new(v1_key());
    for (field, data) in [
        (
            "iv",
            EncryptedData {
                iv: "not base64!".into(),
                ..v2_data()
            },
        ),
        (
            "mac",
            EncryptedData {
                mac: "@@@@".into(),
                ..v2_data()
            },
        ),
        (
            "ciphertext",
            EncryptedData {
                ciphertext: "a".into(),
                ..v2_data()
            },
        ),
    ] {
        assert_eq!(
            key.decrypt_session(V2_SESSION_ID, &data).unwrap_err(),
            CryptoError::Base64 { field },
            "{field}"
        );
    }
}

#[test]
fn padded_base64_is_accepted() {
    let key = BackupKey::new(v1_key());
    let pad = |s: &str| format!("{s}{}", "=".repeat((4 - s.len() % 4) % 4));
    let data = EncryptedData {
        iv: pad(V2_IV),
        ciphertext: pad(V2_CIPHERTEXT),
        mac: pad(V2_MAC),
    };
    assert!(data.mac.ends_with('='));
    assert!(key.decrypt_session(V2_SESSION_ID, &data).is_ok());
}

#[test]
fn plaintext_that_is_not_a_session_is_refused_with_its_reason() {
    let key = BackupKey::new(v1_key());
    let sid = V2_SESSION_ID;
    let enc = |p: &[u8]| key.encrypt_session(sid, p).unwrap();
    let err = |p: &[u8]| key.decrypt_session_data(sid, &enc(p)).unwrap_err();
    assert!(matches!(
        err(b"{\"algorithm\":"),
        SessionError::Data(SessionDataError::NotJson(_))
    ));
    assert!(matches!(
        err(b"[1,2]"),
        SessionError::Data(SessionDataError::NotJson(_))
    ));
    assert!(matches!(
        err(br#"{"algorithm":"m.olm.v1","sender_key":"k","session_key":"AAAA"}"#),
        SessionError::Data(SessionDataError::Algorithm(_))
    ));
    assert!(matches!(
        err(br#"{"algorithm":"m.megolm.v1.aes-sha2","sender_key":"k","session_key":"AAAA"}"#),
        SessionError::Data(SessionDataError::BadSessionKey)
    ));
    // A valid session stored under another id (with the right key, so the
    // MAC passes): the session key names its own id.
    let good = key.decrypt_session(sid, &v2_data()).unwrap();
    let moved = key.encrypt_session("someOtherSessionId", &good).unwrap();
    assert_eq!(
        key.decrypt_session_data("someOtherSessionId", &moved)
            .unwrap_err(),
        SessionError::Data(SessionDataError::SessionIdMismatch)
    );
}

#[test]
fn parse_errors_never_quote_the_plaintext() {
    let secretish =
        br#"{"algorithm":"m.megolm.v1.aes-sha2","sender_key":"k","session_key":12345678}"#;
    let e = BackedUpSession::from_json(secretish)
        .unwrap_err()
        .to_string();
    assert!(!e.contains("12345678"), "{e}");
}

// ---- #3 and #4: SSSS key checks (matrix-rust-sdk) -----------------------------

fn desc(iv: &str, mac: &str, passphrase: Option<PassphraseInfo>) -> KeyDescription {
    KeyDescription {
        algorithm: "m.secret_storage.v1.aes-hmac-sha2".into(),
        name: None,
        passphrase,
        iv: Some(iv.into()),
        mac: Some(mac.into()),
    }
}

#[test]
fn vector3_ssss_key_check_base58_padded() {
    let key = SecretStorageKey::from_recovery_key(
        "EsTj 3yST y93F SLpB jJsz eAXc 2XzA ygD3 w69H fGaN TKBj jXEd",
    )
    .unwrap();
    let d = desc(
        "xv5b6/p3ExEw++wTyfSHEg==",
        "ujBBbXahnTAMkmPUX2/0+VTfUh63pGyVRuBcDMgmJC8=",
        None,
    );
    assert_eq!(key.check(&d).unwrap(), KeyCheck::Matches);
    let wrong = SecretStorageKey::from_recovery_key(V1_RECOVERY_KEY).unwrap();
    assert_eq!(wrong.check(&d).unwrap(), KeyCheck::Mismatch);
}

#[test]
fn vector4_ssss_key_check_passphrase() {
    let info = PassphraseInfo {
        algorithm: "m.pbkdf2".into(),
        salt: "IuLnH7S85YtZmkkBJKwNUKxWF42g9O1H".into(),
        iterations: 10,
        bits: None,
    };
    let d = desc(
        "gH2iNpiETFhApvW6/FFEJQ",
        "9Lw12m5SKDipNghdQXKjgpfdj1/K7HFI2brO+UWAGoM",
        Some(info.clone()),
    );
    let key = SecretStorageKey::from_passphrase("It's a secret to everybody", &info).unwrap();
    assert_eq!(key.check(&d).unwrap(), KeyCheck::Matches);
    let wrong = SecretStorageKey::from_passphrase("It's a secret to everybody!", &info).unwrap();
    assert_eq!(wrong.check(&d).unwrap(), KeyCheck::Mismatch);
}

// ---- #5 and #6: mautrix-go full chain -----------------------------------------

#[test]
fn vector5_mautrix_passphrase_chain_and_secret() {
    let info = PassphraseInfo {
        algorithm: "m.pbkdf2".into(),
        salt: "y863BOoqOadgDp8S3FtHXikDJEalsQ7d".into(),
        iterations: 500_000,
        bits: Some(256),
    };
    let key = SecretStorageKey::from_passphrase("correct horse battery staple", &info).unwrap();
    assert_eq!(
        key.to_recovery_key().as_str(),
        "EsTE s92N EtaX s2h6 VQYF 9Kao tHYL mkyL GKMh isZb KJ4E tvoC"
    );
    let d = desc(
        "xxkTK0L4UzxgAFkQ6XPwsw",
        "MEhooO0ZhFJNxUhvRMSxBnJfL20wkLgle3ocY0ee/eA",
        Some(info),
    );
    assert_eq!(key.check(&d).unwrap(), KeyCheck::Matches);

    let secret = EncryptedData {
        iv: "BpKP9nQJTE9jrsAssoxPqQ==".into(),
        ciphertext: "fNRiiiidezjerTgV+G6pUtmeF3izzj5re/mVvY0hO2kM6kYGrxLuIu2ej80=".into(),
        mac: "/gWGDGMyOLmbJp+aoSLh5JxCs0AdS6nAhjzpe+9G2Q0=".into(),
    };
    let plain = key
        .decrypt_secret("m.cross_signing.master", &secret)
        .unwrap();
    assert_eq!(
        plain.as_slice(),
        b"aPl/0ZIu7Pa4K7iQ0k0GUphOeh1wO56Ge3669/65W28="
    );
    let raw = b64::decode(std::str::from_utf8(&plain).unwrap()).unwrap();
    assert_eq!(&raw[..4], &hex("68f97fd1")[..]);
    assert_eq!(&raw[raw.len() - 4..], &hex("feb95b6f")[..]);
    assert_eq!(
        key.decrypt_secret("m.cross_signing.self_signing", &secret)
            .unwrap_err(),
        CryptoError::MacMismatch
    );
}

#[test]
fn vector6_mautrix_key2_check_and_wrong_key() {
    let key = SecretStorageKey::from_recovery_key(
        "EsUC xSxt XJgQ dz19 8WBZ rHdE GZo7 ybsn EFmG Y5HY MDAG GNWe",
    )
    .unwrap();
    let d = desc(
        "O0BOvTqiIAYjC+RMcyHfWw==",
        "7k6OruQlWg0UmQjxGZ0ad4Q6DdwkgnoI7G6X3IjBYtI=",
        None,
    );
    assert_eq!(key.check(&d).unwrap(), KeyCheck::Matches);
    let other = SecretStorageKey::from_recovery_key(
        "EsTE s92N EtaX s2h6 VQYF 9Kao tHYL mkyL GKMh isZb KJ4E tvoC",
    )
    .unwrap();
    assert_eq!(other.check(&d).unwrap(), KeyCheck::Mismatch);
}

// ---- #7: MSC3270 auth_data with a zero IV --------------------------------------

#[test]
fn vector7_auth_data_with_zero_iv() {
    let prk = Prk::new(&v1_key());
    let e = aes_hmac::encrypt_with_iv(&prk, "", &[0u8; 32], [0u8; 16]);
    assert_eq!(e.iv, "AAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(e.mac, "bFFV6FTV1EmKNNt787BOOV37PfUG4GQeo3N+OHvMHNA");
    let key = BackupKey::new(v1_key());
    let auth = BackupAuthData {
        iv: Some(e.iv),
        mac: Some(e.mac),
    };
    assert_eq!(key.check(&auth).unwrap(), KeyCheck::Matches);
}

// ---- key checks: fresh, wrong, missing ------------------------------------------

#[test]
fn fresh_auth_data_matches_its_key_only() {
    let key = BackupKey::generate().unwrap();
    let auth = key.auth_data().unwrap();
    assert_eq!(key.check(&auth).unwrap(), KeyCheck::Matches);
    assert_eq!(
        BackupKey::generate().unwrap().check(&auth).unwrap(),
        KeyCheck::Mismatch
    );
    let iv = b64::decode(auth.iv.as_deref().unwrap()).unwrap();
    assert_eq!(iv[8] & 0x80, 0, "bit 63 of the IV is cleared");
    assert!(
        !auth.mac.as_deref().unwrap().ends_with('='),
        "unpadded output"
    );
}

#[test]
fn missing_mac_is_unchecked_not_success() {
    let key = BackupKey::new(v1_key());
    let no_mac = BackupAuthData {
        iv: Some("AAAAAAAAAAAAAAAAAAAAAA".into()),
        mac: None,
    };
    assert_eq!(key.check(&no_mac).unwrap(), KeyCheck::Unchecked);
    assert_eq!(
        key.check(&BackupAuthData::default()).unwrap(),
        KeyCheck::Unchecked
    );
    let d = KeyDescription {
        algorithm: "m.secret_storage.v1.aes-hmac-sha2".into(),
        ..Default::default()
    };
    assert_eq!(
        SecretStorageKey::new(v1_key()).check(&d).unwrap(),
        KeyCheck::Unchecked
    );
}

#[test]
fn malformed_key_check_is_an_error_not_a_mismatch() {
    let key = BackupKey::new(v1_key());
    let bad = BackupAuthData {
        iv: Some("!!".into()),
        mac: Some("AAAA".into()),
    };
    assert_eq!(
        key.check(&bad).unwrap_err(),
        CryptoError::Base64 { field: "iv" }
    );
}

// ---- passphrase parameters --------------------------------------------------

#[test]
fn absurd_passphrase_parameters_are_refused() {
    let base = PassphraseInfo {
        algorithm: "m.pbkdf2".into(),
        salt: "s".into(),
        iterations: 1,
        bits: None,
    };
    for info in [
        PassphraseInfo {
            iterations: passphrase::MAX_ITERATIONS + 1,
            ..base.clone()
        },
        PassphraseInfo {
            iterations: u64::MAX,
            ..base.clone()
        },
        PassphraseInfo {
            iterations: 0,
            ..base.clone()
        },
        PassphraseInfo {
            bits: Some(128),
            ..base.clone()
        },
        PassphraseInfo {
            algorithm: "m.scrypt".into(),
            ..base.clone()
        },
    ] {
        assert!(
            matches!(
                passphrase::derive("pw", &info),
                Err(CryptoError::Passphrase(_))
            ),
            "{info:?}"
        );
    }
    assert!(passphrase::derive("pw", &base).is_ok());
}

#[test]
fn generated_passphrase_info_uses_defaults_and_a_fresh_salt() {
    let a = PassphraseInfo::generate().unwrap();
    let b = PassphraseInfo::generate().unwrap();
    assert_eq!(a.iterations, u64::from(passphrase::DEFAULT_ITERATIONS));
    assert_eq!(a.salt.len(), 32);
    assert_ne!(a.salt, b.salt);
}

// ---- secrets never shown ----------------------------------------------------------

#[test]
fn debug_output_never_shows_key_bytes() {
    let key = v1_key();
    let shown = format!(
        "{:?} {:?} {:?} {:?}",
        key,
        BackupKey::new(key.clone()),
        SecretStorageKey::new(key.clone()),
        Prk::new(&key)
    );
    let b64 = b64::encode(key.as_bytes());
    assert!(!shown.contains(&b64[..8]), "{shown}");
    assert!(
        !shown.contains("77, 7, 109") && !shown.contains("119, 7, 109"),
        "{shown}"
    );
    let session = BackupKey::new(key)
        .decrypt_session_data(V2_SESSION_ID, &v2_data())
        .unwrap();
    let dbg = format!("{session:?}");
    assert!(!dbg.contains("AQAAAAA"), "{dbg}");
}

#[test]
fn backup_key_base64_round_trip() {
    let key = BackupKey::new(v1_key());
    let text = key.to_base64();
    assert!(!text.ends_with('='));
    let back = BackupKey::from_base64(&text).unwrap();
    assert_eq!(back.secret(), key.secret());
    assert!(matches!(
        BackupKey::from_base64("AAAA"),
        Err(CryptoError::Length { .. })
    ));
}
