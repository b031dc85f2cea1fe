use thiserror::Error;

/// Errors of the crypto layer. None of them carries secret bytes: only field
/// names, lengths and counts.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// A field was not valid base64 (padded or unpadded).
    #[error("field `{field}` is not valid base64")]
    Base64 { field: &'static str },
    /// A field decoded to the wrong number of bytes.
    #[error("field `{field}` has {actual} bytes, expected {expected}")]
    Length {
        field: &'static str,
        expected: usize,
        actual: usize,
    },
    /// The MAC did not match: wrong key, wrong name / session id, or tampered data.
    #[error("MAC check failed: wrong key or tampered data")]
    MacMismatch,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
    /// A passphrase's key-derivation parameters are not acceptable.
    #[error("passphrase key derivation: {0}")]
    Passphrase(String),
}
