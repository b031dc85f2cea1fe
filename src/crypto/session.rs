//! The plaintext of one backed-up megolm session (the spec's
//! `BackedUpSessionData`, plus MSC3270's `untrusted`), parsed liberally and
//! checked for internal consistency.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::b64;

pub const MEGOLM_ALGORITHM: &str = "m.megolm.v1.aes-sha2";

/// Length of a megolm session export: version (1) ‖ index (4) ‖ ratchet (128)
/// ‖ ed25519 public key (32).
const EXPORT_LEN: usize = 1 + 4 + 128 + 32;
const EXPORT_VERSION: u8 = 0x01;

/// A megolm session key in export format (base64). Zeroized on drop, never
/// shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionKey(Zeroizing<String>);

impl SessionKey {
    pub fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

/// One session as stored (encrypted) in a backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackedUpSession {
    pub algorithm: String,
    pub sender_key: String,
    #[serde(default)]
    pub sender_claimed_keys: BTreeMap<String, String>,
    /// js-sdk's legacy exports wrote the camelCase name; some writers omit it.
    #[serde(default, alias = "forwardingCurve25519KeyChain")]
    pub forwarding_curve25519_key_chain: Vec<String>,
    pub session_key: SessionKey,
    /// MSC3270: the key did not come straight from its sender. Absent = trusted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub untrusted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_history: Option<bool>,
}

/// Why a decrypted plaintext is not a usable session.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SessionDataError {
    #[error("plaintext is not a JSON session object: {0}")]
    NotJson(String),
    #[error("unsupported session algorithm `{0}`")]
    Algorithm(String),
    #[error("session key is not a valid megolm session export")]
    BadSessionKey,
    #[error("session key belongs to another session than the one it is stored under")]
    SessionIdMismatch,
}

impl BackedUpSession {
    /// Parses a decrypted plaintext. Errors never quote the plaintext.
    pub fn from_json(plaintext: &[u8]) -> Result<Self, SessionDataError> {
        let s: Self = serde_json::from_slice(plaintext).map_err(|e| {
            // serde_json's messages name the position and the expected type,
            // never the input's content.
            SessionDataError::NotJson(e.classify_str().to_owned())
        })?;
        if s.algorithm != MEGOLM_ALGORITHM {
            return Err(SessionDataError::Algorithm(s.algorithm));
        }
        Ok(s)
    }

    /// The session id the session key itself carries.
    pub fn session_id_of_key(&self) -> Result<String, SessionDataError> {
        self.session_key.session_id()
    }

    /// Checks the session key belongs to `session_id`.
    pub fn check_session_id(&self, session_id: &str) -> Result<(), SessionDataError> {
        self.session_key.check_session_id(session_id)
    }
}

impl SessionKey {
    /// The session id this key carries (its ed25519 public key, unpadded
    /// base64), or an error if it is not a megolm export.
    pub fn session_id(&self) -> Result<String, SessionDataError> {
        let raw = Zeroizing::new(
            b64::decode(self.expose()).map_err(|_| SessionDataError::BadSessionKey)?,
        );
        if raw.len() != EXPORT_LEN || raw[0] != EXPORT_VERSION {
            return Err(SessionDataError::BadSessionKey);
        }
        Ok(b64::encode(&raw[EXPORT_LEN - 32..]))
    }

    /// Checks this key belongs to `session_id`: data moved under another id
    /// by someone holding the key would otherwise be accepted.
    pub fn check_session_id(&self, session_id: &str) -> Result<(), SessionDataError> {
        let own = self.session_id()?;
        // Exactly the canonical (unpadded) form: the store keys sessions by
        // the id as given, so a padded alias would be a second copy.
        if session_id == own {
            Ok(())
        } else {
            Err(SessionDataError::SessionIdMismatch)
        }
    }
}

trait ClassifyStr {
    fn classify_str(&self) -> &'static str;
}

impl ClassifyStr for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        use serde_json::error::Category;
        match self.classify() {
            Category::Io => "I/O error",
            Category::Syntax => "invalid JSON",
            Category::Data => "missing or mistyped field",
            Category::Eof => "truncated JSON",
        }
    }
}
