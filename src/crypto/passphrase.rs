//! Passphrase to key, as secret storage and key backups define it:
//! PBKDF2-HMAC-SHA-512 over the UTF-8 passphrase with the salt string's UTF-8
//! bytes and the stored iteration count.

use serde::{Deserialize, Serialize};
use sha2::Sha512;
use zeroize::Zeroizing;

use super::{CryptoError, SecretKey};

pub const ALGORITHM: &str = "m.pbkdf2";
/// What keepsake writes for new passphrases (the count Element and
/// matrix-rust-sdk use).
pub const DEFAULT_ITERATIONS: u32 = 500_000;
/// Anything above this is refused: a hostile or corrupt key description must
/// not make us spin for minutes. 20x the usual count is still accepted.
pub const MAX_ITERATIONS: u64 = 10_000_000;

/// The `passphrase` object of a key description.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassphraseInfo {
    pub algorithm: String,
    pub salt: String,
    pub iterations: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<u64>,
}

impl PassphraseInfo {
    /// New parameters with a random 32-character salt.
    pub fn generate() -> Result<Self, CryptoError> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut raw = [0u8; 32];
        getrandom::getrandom(&mut raw).map_err(|_| CryptoError::Rng)?;
        // 62 does not divide 256, so a plain modulo is biased; rejecting the
        // top values would be exact, but a salt need only be unique, not uniform.
        let salt = raw
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect();
        Ok(Self {
            algorithm: ALGORITHM.to_owned(),
            salt,
            iterations: u64::from(DEFAULT_ITERATIONS),
            bits: None,
        })
    }
}

/// Derives the 32-byte key, refusing unknown algorithms, key sizes other than
/// 256 bits, and iteration counts of 0 or above [`MAX_ITERATIONS`].
pub fn derive(passphrase: &str, info: &PassphraseInfo) -> Result<SecretKey, CryptoError> {
    if info.algorithm != ALGORITHM {
        return Err(CryptoError::Passphrase(format!(
            "unknown algorithm `{}`",
            info.algorithm
        )));
    }
    if let Some(bits) = info.bits
        && bits != 256
    {
        return Err(CryptoError::Passphrase(format!(
            "unsupported key size of {bits} bits"
        )));
    }
    if info.iterations == 0 || info.iterations > MAX_ITERATIONS {
        return Err(CryptoError::Passphrase(format!(
            "iteration count {} is outside 1..={MAX_ITERATIONS}",
            info.iterations
        )));
    }
    let rounds = u32::try_from(info.iterations)
        .map_err(|_| CryptoError::Passphrase("iteration count too large".into()))?;
    let mut out = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<Sha512>(
        passphrase.as_bytes(),
        info.salt.as_bytes(),
        rounds,
        out.as_mut_slice(),
    );
    Ok(SecretKey::from_bytes(*out))
}
