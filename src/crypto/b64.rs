//! Base64 as Matrix uses it: unpadded standard alphabet on output, padded or
//! unpadded accepted on input (other clients write both).

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const ENCODER: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_encode_padding(false),
);

const DECODER: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    ENCODER.encode(bytes)
}

pub fn decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    DECODER.decode(s)
}

/// Decodes into exactly `N` bytes, naming `field` in the error.
pub fn decode_array<const N: usize>(
    s: &str,
    field: &'static str,
) -> Result<[u8; N], super::CryptoError> {
    // Decoded key bytes are wiped, also on the way out of an error.
    let v = zeroize::Zeroizing::new(decode(s).map_err(|_| super::CryptoError::Base64 { field })?);
    let actual = v.len();
    let mut out = [0u8; N];
    if actual != N {
        return Err(super::CryptoError::Length {
            field,
            expected: N,
            actual,
        });
    }
    out.copy_from_slice(&v);
    Ok(out)
}
