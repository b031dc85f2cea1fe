//! The `aes-hmac-sha2` primitive of Matrix secret storage, reused by MSC3270 v1:
//!
//! 1. HKDF-SHA-256 with a salt of 32 zero bytes, the 32-byte key as input
//!    keying material and `info` = a name (secret name or session id) gives
//!    64 bytes: the AES-256 key, then the HMAC-SHA-256 key.
//! 2. A random 16-byte IV with bit 63 cleared (so a 64-bit counter never wraps,
//!    which some implementations cannot handle).
//! 3. AES-256-CTR (128-bit big-endian counter) over the plaintext.
//! 4. HMAC-SHA-256 over the raw ciphertext, all 32 bytes.
//!
//! Decryption checks the MAC in constant time before it decrypts anything.

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use super::{CryptoError, SecretKey, b64};

type Aes256Ctr = ctr::Ctr128BE<Aes256>;
type HmacSha256 = Hmac<Sha256>;

pub const IV_LEN: usize = 16;
pub const MAC_LEN: usize = 32;

/// `{iv, ciphertext, mac}`, each base64. Written unpadded, read either way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedData {
    pub iv: String,
    pub ciphertext: String,
    pub mac: String,
}

/// The outcome of checking a key against a stored `{iv, mac}` key check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyCheck {
    /// The MAC matched: this is the right key.
    Matches,
    /// The MAC did not match: this is not the key the check was made with.
    Mismatch,
    /// No `mac` (or no `iv`) was stored, so nothing could be checked. Callers
    /// may go on but must say the key is unchecked.
    Unchecked,
}

/// The HKDF pseudo-random key for one 32-byte key. The extract step does not
/// depend on `info`, so it is done once per key and reused for every session.
#[derive(Clone, Zeroize)]
#[zeroize(drop)]
pub struct Prk([u8; 32]);

impl Prk {
    pub fn new(key: &SecretKey) -> Self {
        let (prk, _) = Hkdf::<Sha256>::extract(Some(&[0u8; 32]), key.as_bytes());
        Self(prk.into())
    }

    /// The AES key and the MAC key for one name.
    fn derive(&self, info: &[u8]) -> DerivedKeys {
        let mut okm = Zeroizing::new([0u8; 64]);
        // The PRK is exactly one SHA-256 output and 64 bytes is far below the
        // 255 * 32 limit, so neither call can fail.
        if let Ok(hk) = Hkdf::<Sha256>::from_prk(&self.0) {
            let _ = hk.expand(info, okm.as_mut_slice());
        }
        DerivedKeys(okm)
    }
}

impl std::fmt::Debug for Prk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prk(<redacted>)")
    }
}

struct DerivedKeys(Zeroizing<[u8; 64]>);

impl DerivedKeys {
    fn aes_key(&self) -> &[u8] {
        &self.0[..32]
    }

    fn mac(&self, ciphertext: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.0[32..])
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(ciphertext);
        mac
    }

    fn apply_keystream(&self, iv: &[u8; IV_LEN], data: &mut [u8]) {
        let mut cipher = Aes256Ctr::new(self.aes_key().into(), iv.into());
        cipher.apply_keystream(data);
    }
}

/// A fresh IV: 16 random bytes with bit 63 cleared.
pub fn random_iv() -> Result<[u8; IV_LEN], CryptoError> {
    let mut iv = [0u8; IV_LEN];
    getrandom::getrandom(&mut iv).map_err(|_| CryptoError::Rng)?;
    iv[8] &= 0x7f;
    Ok(iv)
}

/// Encrypts `plaintext` under `name` with a fresh random IV.
pub fn encrypt(prk: &Prk, name: &str, plaintext: &[u8]) -> Result<EncryptedData, CryptoError> {
    Ok(encrypt_with_iv(prk, name, plaintext, random_iv()?))
}

/// Encrypts with a given IV. Only for known-answer tests and the key check:
/// reusing an IV under one name leaks the XOR of the plaintexts.
pub fn encrypt_with_iv(prk: &Prk, name: &str, plaintext: &[u8], iv: [u8; IV_LEN]) -> EncryptedData {
    let keys = prk.derive(name.as_bytes());
    let mut buf = plaintext.to_vec();
    keys.apply_keystream(&iv, &mut buf);
    let mac = keys.mac(&buf).finalize().into_bytes();
    EncryptedData {
        iv: b64::encode(iv),
        ciphertext: b64::encode(&buf),
        mac: b64::encode(mac),
    }
}

/// Checks the MAC (constant time), then decrypts.
pub fn decrypt(
    prk: &Prk,
    name: &str,
    data: &EncryptedData,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let iv: [u8; IV_LEN] = b64::decode_array(&data.iv, "iv")?;
    let mac: [u8; MAC_LEN] = b64::decode_array(&data.mac, "mac")?;
    let mut buf =
        Zeroizing::new(
            b64::decode(&data.ciphertext).map_err(|_| CryptoError::Base64 {
                field: "ciphertext",
            })?,
        );
    let keys = prk.derive(name.as_bytes());
    keys.mac(&buf)
        .verify_slice(&mac)
        .map_err(|_| CryptoError::MacMismatch)?;
    keys.apply_keystream(&iv, &mut buf);
    Ok(buf)
}

/// The key check stored with SSSS keys and MSC3270 `auth_data`: 32 zero bytes
/// encrypted under the empty name; only `iv` and `mac` are kept.
pub fn key_check(prk: &Prk) -> Result<(String, String), CryptoError> {
    let e = encrypt(prk, "", &[0u8; 32])?;
    Ok((e.iv, e.mac))
}

/// Verifies a stored key check. `None` for either part means nothing was
/// stored to check against.
pub fn verify_key_check(
    prk: &Prk,
    iv: Option<&str>,
    mac: Option<&str>,
) -> Result<KeyCheck, CryptoError> {
    let (Some(iv), Some(mac)) = (iv, mac) else {
        return Ok(KeyCheck::Unchecked);
    };
    let iv: [u8; IV_LEN] = b64::decode_array(iv, "iv")?;
    let mac: [u8; MAC_LEN] = b64::decode_array(mac, "mac")?;
    let keys = prk.derive(b"");
    let mut zeros = [0u8; 32];
    keys.apply_keystream(&iv, &mut zeros);
    Ok(match keys.mac(&zeros).verify_slice(&mac) {
        Ok(()) => KeyCheck::Matches,
        Err(_) => KeyCheck::Mismatch,
    })
}
