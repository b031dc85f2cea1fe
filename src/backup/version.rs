//! Is the server's current backup version one we may upload to with our
//! key? Pure: the caller fetched the version and holds the key.

use super::server::VersionInfo;
use crate::crypto::backup::is_symmetric_algorithm;
use crate::crypto::{BackupAuthData, BackupKey, KeyCheck};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fit {
    /// Ours: same version, symmetric, and the key passes (or has no) check.
    Usable { checked: bool },
    /// Never upload here; the text says why, for status and the UI.
    Unusable(String),
}

/// Checks `key` against a version's `auth_data`; `None` when the version is
/// not a symmetric one (its check means something else).
pub fn key_check(key: &BackupKey, v: &VersionInfo) -> Option<KeyCheck> {
    if !is_symmetric_algorithm(&v.algorithm) {
        return None;
    }
    let auth: BackupAuthData = serde_json::from_value(v.auth_data.clone()).ok()?;
    // Malformed iv/mac base64 counts as a failed check, not "unchecked".
    Some(key.check(&auth).unwrap_or(KeyCheck::Mismatch))
}

pub fn fit(ours: &str, key: &BackupKey, current: Option<&VersionInfo>) -> Fit {
    let Some(v) = current else {
        return Fit::Unusable(format!("backup version {ours} was deleted on the server"));
    };
    if v.version != ours {
        return Fit::Unusable(format!(
            "backup version {ours} was replaced by version {} (made on another device)",
            v.version
        ));
    }
    match key_check(key, v) {
        None => Fit::Unusable(format!(
            "backup version {} uses {}, not a symmetric algorithm",
            v.version, v.algorithm
        )),
        Some(KeyCheck::Mismatch) => Fit::Unusable(format!(
            "the backup key on this device does not match backup version {}",
            v.version
        )),
        Some(KeyCheck::Matches) => Fit::Usable { checked: true },
        Some(KeyCheck::Unchecked) => Fit::Usable { checked: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::backup::ALGORITHM;

    fn version(v: &str, algorithm: &str, auth: serde_json::Value) -> VersionInfo {
        VersionInfo {
            version: v.into(),
            algorithm: algorithm.into(),
            auth_data: auth,
            count: 0,
            etag: "0".into(),
        }
    }

    #[test]
    fn ours_other_deleted_foreign_and_wrong_key() {
        let key = BackupKey::generate().unwrap();
        let auth = serde_json::to_value(key.auth_data().unwrap()).unwrap();
        let other = BackupKey::generate().unwrap();
        let v1 = version("1", ALGORITHM, auth.clone());
        assert_eq!(fit("1", &key, Some(&v1)), Fit::Usable { checked: true });
        assert!(
            matches!(fit("1", &other, Some(&v1)), Fit::Unusable(m) if m.contains("does not match"))
        );
        let v2 = version("2", ALGORITHM, auth);
        assert!(
            matches!(fit("1", &key, Some(&v2)), Fit::Unusable(m) if m.contains("replaced by version 2"))
        );
        assert!(matches!(fit("1", &key, None), Fit::Unusable(m) if m.contains("deleted")));
        let curve = version(
            "1",
            "m.megolm_backup.v1.curve25519-aes-sha2",
            serde_json::json!({"public_key": "x"}),
        );
        assert!(
            matches!(fit("1", &key, Some(&curve)), Fit::Unusable(m) if m.contains("not a symmetric"))
        );
        let bare = version("1", ALGORITHM, serde_json::json!({}));
        assert_eq!(fit("1", &key, Some(&bare)), Fit::Usable { checked: false });
        let junk = version("1", ALGORITHM, serde_json::json!({"iv": "!!", "mac": "??"}));
        assert!(matches!(fit("1", &key, Some(&junk)), Fit::Unusable(_)));
    }
}
