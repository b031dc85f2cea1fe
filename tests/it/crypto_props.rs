//! Property-based round trips of the crypto layer.

use keepsake::crypto::aes_hmac::KeyCheck;
use keepsake::crypto::backup::BackupKey;
use keepsake::crypto::recovery_key;
use keepsake::crypto::ssss::SecretStorageKey;
use keepsake::crypto::{CryptoError, SecretKey, b64};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_map(SecretKey::from_bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn session_round_trip(k in key(), sid in "[A-Za-z0-9+/]{0,64}", plain in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let bk = BackupKey::new(k);
        let enc = bk.encrypt_session(&sid, &plain).unwrap();
        prop_assert!(!enc.ciphertext.ends_with('=') && !enc.iv.ends_with('=') && !enc.mac.ends_with('='));
        let iv = b64::decode(&enc.iv).unwrap();
        prop_assert_eq!(iv[8] & 0x80, 0);
        let dec = bk.decrypt_session(&sid, &enc).unwrap();
        prop_assert_eq!(dec.as_slice(), plain.as_slice());
    }

    #[test]
    fn any_single_bit_flip_in_ciphertext_or_mac_is_caught(k in key(), plain in proptest::collection::vec(any::<u8>(), 1..512), bit in any::<usize>(), in_mac in any::<bool>()) {
        let bk = BackupKey::new(k);
        let mut enc = bk.encrypt_session("sid", &plain).unwrap();
        let field = if in_mac { &mut enc.mac } else { &mut enc.ciphertext };
        let mut raw = b64::decode(field).unwrap();
        let bit = bit % (raw.len() * 8);
        raw[bit / 8] ^= 1 << (bit % 8);
        *field = b64::encode(raw);
        prop_assert_eq!(bk.decrypt_session("sid", &enc).unwrap_err(), CryptoError::MacMismatch);
    }

    #[test]
    fn other_key_or_name_fails(k1 in key(), k2 in key(), plain in proptest::collection::vec(any::<u8>(), 0..256)) {
        prop_assume!(k1 != k2);
        let a = BackupKey::new(k1);
        let b = BackupKey::new(k2);
        let enc = a.encrypt_session("sid", &plain).unwrap();
        prop_assert_eq!(b.decrypt_session("sid", &enc).unwrap_err(), CryptoError::MacMismatch);
        prop_assert_eq!(a.decrypt_session("sid2", &enc).unwrap_err(), CryptoError::MacMismatch);
        prop_assert_eq!(b.check(&a.auth_data().unwrap()).unwrap(), KeyCheck::Mismatch);
        prop_assert_eq!(a.check(&a.auth_data().unwrap()).unwrap(), KeyCheck::Matches);
    }

    #[test]
    fn ssss_secret_round_trip(k in key(), name in "m\\.[a-z_.]{1,30}", secret in "[ -~]{0,200}") {
        let sk = SecretStorageKey::new(k);
        let enc = sk.encrypt_secret(&name, secret.as_bytes()).unwrap();
        let dec = sk.decrypt_secret(&name, &enc).unwrap();
        prop_assert_eq!(dec.as_slice(), secret.as_bytes());
        let desc = sk.describe(None, None).unwrap();
        prop_assert_eq!(sk.check(&desc).unwrap(), KeyCheck::Matches);
    }

    #[test]
    fn recovery_key_round_trip(k in key()) {
        let text = recovery_key::encode(&k);
        prop_assert!(text.split(' ').all(|g| !g.is_empty() && g.len() <= 4));
        prop_assert_eq!(recovery_key::decode(&text).unwrap(), k.clone());
        let compact: String = text.split_whitespace().collect();
        prop_assert_eq!(recovery_key::decode(&compact).unwrap(), k);
    }

    #[test]
    fn recovery_key_single_char_typo_is_never_silently_accepted(k in key(), pos in any::<usize>(), repl in 0usize..58) {
        const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        let text: Vec<u8> = recovery_key::encode(&k).bytes().filter(|b| *b != b' ').collect();
        let pos = pos % text.len();
        prop_assume!(text[pos] != ALPHABET[repl]);
        let mut typo = text.clone();
        typo[pos] = ALPHABET[repl];
        let typo = String::from_utf8(typo).unwrap();
        // A typo is refused (parity, prefix or length) or, rarely, decodes to
        // another valid key, never to the same one.
        if let Ok(other) = recovery_key::decode(&typo) { prop_assert_ne!(other, k) }
    }
}
