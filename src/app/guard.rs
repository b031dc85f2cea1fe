//! What the composer must never send: a recovery key (pasted where the
//! unlock prompt was meant) or a password or passphrase typed into one of
//! keepsake's masked prompts in this session. Pure; the secrets themselves
//! are never kept, only salted fingerprints of them.

use sha2::{Digest, Sha256};

/// How many base58 characters a compact recovery key has (35 bytes).
const KEY_CHARS: std::ops::RangeInclusive<usize> = 46..=49;

/// Secrets shorter than this are not remembered: a short password would
/// match ordinary words, and a short secret leaks little in a message.
const MIN_SECRET: usize = 6;

/// Whether `text` holds a Matrix recovery key anywhere, spaced or compact,
/// alone or among other words.
pub fn holds_recovery_key(text: &str) -> bool {
    // Spaces inside a key are how it is shown; anything else that is not
    // base58 ends a run.
    let compact = crate::crypto::recovery_key::without_whitespace(text);
    let is_b58 = |c: char| c.is_ascii_alphanumeric() && !matches!(c, '0' | 'O' | 'I' | 'l');
    compact
        .split(|c: char| !is_b58(c))
        .filter(|run| run.len() >= *KEY_CHARS.start())
        .any(|run| {
            // ASCII only, so byte offsets are char offsets.
            KEY_CHARS.clone().any(|n| {
                (0..=run.len().saturating_sub(n))
                    .filter(|i| i + n <= run.len())
                    .any(|i| crate::crypto::recovery_key::decode(&run[i..i + n]).is_ok())
            })
        })
}

/// Salted fingerprints of the secrets typed in this session.
#[derive(Clone)]
pub struct TypedSecrets {
    salt: [u8; 16],
    prints: Vec<(usize, [u8; 32])>,
}

impl std::fmt::Debug for TypedSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedSecrets({} remembered)", self.prints.len())
    }
}

impl Default for TypedSecrets {
    fn default() -> Self {
        let mut salt = [0u8; 16];
        // Without randomness the salt is fixed; the fingerprints then only
        // lose their protection against precomputed tables.
        let _ = getrandom::getrandom(&mut salt);
        TypedSecrets {
            salt,
            prints: vec![],
        }
    }
}

impl TypedSecrets {
    fn print(&self, s: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(s);
        h.finalize().into()
    }

    /// Remembers a secret the user typed into a masked prompt.
    pub fn remember(&mut self, secret: &str) {
        let s = secret.trim();
        if s.chars().count() < MIN_SECRET {
            return;
        }
        let p = (s.len(), self.print(s.as_bytes()));
        if !self.prints.contains(&p) {
            self.prints.push(p);
        }
    }

    /// Whether `text` contains one of the remembered secrets.
    pub fn found_in(&self, text: &str) -> bool {
        let bytes = text.as_bytes();
        self.prints.iter().any(|(len, print)| {
            (0..=bytes.len().saturating_sub(*len))
                .filter(|&i| {
                    i + len <= bytes.len()
                        && text.is_char_boundary(i)
                        && text.is_char_boundary(i + len)
                })
                .any(|i| self.print(&bytes[i..i + len]) == *print)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    fn key() -> String {
        crate::crypto::recovery_key::encode(&SecretKey::from_bytes([7; 32])).to_string()
    }

    #[test]
    fn finds_a_recovery_key_however_it_is_pasted() {
        let k = key();
        let compact: String = k.chars().filter(|c| !c.is_whitespace()).collect();
        for text in [
            k.clone(),
            compact.clone(),
            format!("my key is {k}, keep it"),
            format!("key={compact}."),
            k.replace(' ', "\n"),
            format!("  {k}  "),
        ] {
            assert!(holds_recovery_key(&text), "{text:?}");
        }
    }

    #[test]
    fn ordinary_text_is_no_key() {
        let k = key();
        // One character changed: the parity check fails.
        let typo: String = k
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i == 10 {
                    if c == 'a' { 'b' } else { 'a' }
                } else {
                    c
                }
            })
            .collect();
        for text in [
            "hello world".to_owned(),
            ":backup restore".to_owned(),
            "a".repeat(200),
            typo,
            "The quick brown fox jumps over the lazy dog; EsTx etc.".to_owned(),
        ] {
            assert!(!holds_recovery_key(&text), "{text:?}");
        }
    }

    #[test]
    fn remembers_typed_secrets_by_fingerprint_only() {
        let mut t = TypedSecrets::default();
        t.remember("correct horse battery");
        t.remember("short");
        assert!(t.found_in("correct horse battery"));
        assert!(t.found_in("my passphrase: correct horse battery!"));
        assert!(t.found_in("é correct horse battery é"));
        assert!(!t.found_in("correct horse"));
        assert!(!t.found_in("short"), "too short to remember");
        assert!(!format!("{t:?}").contains("horse"));
    }
}
