//! The Matrix key representation ("recovery key"): `0x8B 0x01` ‖ 32-byte key
//! ‖ parity byte (XOR of all previous bytes), base58 (Bitcoin alphabet), and a
//! space after every 4 characters. Decoding ignores whitespace.

use thiserror::Error;
use zeroize::Zeroizing;

use super::SecretKey;

const PREFIX: [u8; 2] = [0x8B, 0x01];
const DECODED_LEN: usize = PREFIX.len() + SecretKey::LEN + 1;

/// Why a recovery key was refused. Distinct so the user hears what is wrong.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryKeyError {
    #[error("the recovery key has a character that is not base58")]
    InvalidCharacter,
    #[error("the recovery key has the wrong length ({0} bytes, expected 35)")]
    WrongLength(usize),
    #[error("the recovery key has the wrong prefix: it is not a Matrix recovery key")]
    WrongPrefix,
    #[error("the recovery key has a typo: its parity check failed")]
    WrongParity,
}

/// Encodes a key for display: groups of 4 characters separated by spaces.
pub fn encode(key: &SecretKey) -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; DECODED_LEN]);
    bytes[..2].copy_from_slice(&PREFIX);
    bytes[2..34].copy_from_slice(key.as_bytes());
    bytes[34] = bytes[..34].iter().fold(0, |acc, b| acc ^ b);
    let plain = Zeroizing::new(bs58::encode(bytes.as_slice()).into_string());
    let mut out = String::with_capacity(plain.len() + plain.len() / 4);
    for (i, c) in plain.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    Zeroizing::new(out)
}

/// `input` without its whitespace, in a buffer allocated once: collecting
/// into a `String` grows it by reallocation, which frees each smaller copy
/// of the secret unwiped.
pub fn without_whitespace(input: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(input.len()));
    out.extend(input.chars().filter(|c| !c.is_whitespace()));
    out
}

/// Decodes a recovery key typed or pasted by a user.
pub fn decode(input: &str) -> Result<SecretKey, RecoveryKeyError> {
    let compact = without_whitespace(input);
    let bytes = Zeroizing::new(
        bs58::decode(compact.as_bytes())
            .into_vec()
            .map_err(|_| RecoveryKeyError::InvalidCharacter)?,
    );
    if bytes.len() != DECODED_LEN {
        return Err(RecoveryKeyError::WrongLength(bytes.len()));
    }
    if bytes[..2] != PREFIX {
        return Err(RecoveryKeyError::WrongPrefix);
    }
    if bytes.iter().fold(0u8, |acc, b| acc ^ b) != 0 {
        return Err(RecoveryKeyError::WrongParity);
    }
    SecretKey::from_slice(&bytes[2..34]).ok_or(RecoveryKeyError::WrongLength(bytes.len()))
}
