//! The trust records one open room needs, read from the trust table off
//! the async threads (the table is SQLite behind a lock) and kept until
//! the table changes, so redrawing a timeline costs no query.

use std::collections::HashMap;

use crate::backup::trust::{Record, TrustTable};

/// Records of one room's sessions: `None` where the table has no row.
#[derive(Debug)]
pub struct TrustCache {
    room_id: String,
    generation: Option<u64>,
    records: HashMap<String, Option<Record>>,
}

impl TrustCache {
    pub fn new(room_id: &str) -> Self {
        TrustCache {
            room_id: room_id.to_owned(),
            generation: None,
            records: HashMap::new(),
        }
    }

    /// Reads the records of `sessions` not known yet, on a blocking
    /// thread. Returns `true` when the table changed since the last call:
    /// every record was dropped, and marks drawn from them are stale.
    pub async fn fill(
        &mut self,
        table: &TrustTable,
        sessions: impl IntoIterator<Item = String>,
    ) -> bool {
        let now = table.generation();
        let changed = self.generation.is_some_and(|g| g != now);
        if changed {
            self.records.clear();
        }
        self.generation = Some(now);
        let mut missing: Vec<String> = sessions
            .into_iter()
            .filter(|s| !self.records.contains_key(s))
            .collect();
        missing.sort();
        missing.dedup();
        if missing.is_empty() {
            return changed;
        }
        let (t, room) = (table.clone(), self.room_id.clone());
        let asked = missing.clone();
        let found = tokio::task::spawn_blocking(move || t.get_many(&room, &asked)).await;
        match found {
            Ok(Ok(mut found)) => {
                for s in missing {
                    let r = found.remove(&s);
                    self.records.insert(s, r);
                }
            }
            // Left unknown (no mark is raised without a record), and asked
            // again next time.
            Ok(Err(e)) => tracing::warn!("{e}"),
            Err(e) => tracing::warn!(error = %e, "the trust lookup stopped"),
        }
        changed
    }

    /// The record of `session_id`, if the table has one (and it was filled).
    pub fn get(&self, session_id: &str) -> Option<Record> {
        self.records.get(session_id).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::trust::Source;

    #[tokio::test]
    async fn reads_once_and_again_after_a_write() {
        let dir = tempfile::tempdir().unwrap();
        let t = TrustTable::open(&dir.path().join("trust.sqlite3"), "pass").unwrap();
        t.record(Source::SymmetricBackup, [("!r:x", "s1", true)])
            .unwrap();
        let mut c = TrustCache::new("!r:x");
        assert!(!c.fill(&t, ["s1".to_owned(), "s2".to_owned()]).await);
        assert_eq!(c.get("s1").map(|r| r.trusted), Some(true));
        assert_eq!(c.get("s2"), None);
        // A restore records s2: the cache notices and reads it.
        t.record(Source::SymmetricBackup, [("!r:x", "s2", false)])
            .unwrap();
        assert!(c.fill(&t, ["s2".to_owned()]).await);
        assert_eq!(c.get("s2").map(|r| r.trusted), Some(false));
        // Another room's sessions are not this room's.
        let mut other = TrustCache::new("!other:x");
        other.fill(&t, ["s1".to_owned()]).await;
        assert_eq!(other.get("s1"), None);
    }
}
