//! Unsent messages kept across restarts: `drafts.json` in the profile's
//! directory, 0600 (a draft is private text), written whole to a temporary
//! file and renamed over the old one so a crash leaves one or the other.
//! Drafts holding a secret never get here (see `composer::drafts_to_save`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn path(profile_dir: &Path) -> PathBuf {
    profile_dir.join("drafts.json")
}

/// The saved drafts. A file that cannot be read as drafts is moved aside
/// (kept, never deleted) and the run starts without drafts.
pub fn load(path: &Path) -> BTreeMap<String, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return BTreeMap::new(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the drafts file");
            return BTreeMap::new();
        }
    };
    match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            let aside = path.with_extension(format!(
                "json.unreadable-{}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            ));
            let moved = std::fs::rename(path, &aside);
            tracing::warn!(
                error = %e,
                moved_to = %aside.display(),
                moved = moved.is_ok(),
                "the drafts file is not valid; moved aside"
            );
            BTreeMap::new()
        }
    }
}

pub fn save(path: &Path, drafts: &BTreeMap<String, String>) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec(drafts).map_err(std::io::Error::other)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(&json)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_round_trip_privately_and_a_bad_file_is_moved_aside() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let p = path(dir.path());
        assert!(load(&p).is_empty());
        let mut d = BTreeMap::new();
        d.insert("!a:x".to_owned(), "half a thought".to_owned());
        save(&p, &d).expect("saved");
        let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load(&p), d);

        std::fs::write(&p, "not json").expect("write");
        assert!(load(&p).is_empty());
        let kept: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("unreadable"))
            .collect();
        assert_eq!(kept.len(), 1, "the bad file is kept aside");
        assert_eq!(
            std::fs::read_to_string(kept[0].path()).expect("read"),
            "not json"
        );
    }
}
