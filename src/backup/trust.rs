//! The trust table: for each megolm session this device holds, where its key
//! came from and whether that source vouches for it. The timeline's trust
//! mark comes from here for restored and imported keys, and from the SDK's
//! verification state for keys received straight from their sender.
//!
//! It is a small SQLite file next to the stores (one row per session; the
//! crypto store's custom values cost a whole write per key). Rows are keyed
//! by an HMAC of (room id, session id) under a key derived from the store
//! passphrase, so the file holds no room or session ids; it is 0600 and is
//! removed with the store on logout.
//!
//! The same file remembers which rooms a restore has finished, so an
//! interrupted restore resumes where it stopped.

use std::path::Path;
use std::sync::{Arc, Mutex};

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Where a session's key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Received on this device (from its sender, or forwarded to it).
    Device,
    /// Our symmetric backup (MSC3270): authenticated by our own key.
    SymmetricBackup,
    /// A curve25519 backup: anyone who knows the public key could write it.
    AsymmetricBackup,
    /// A key export file.
    KeyFile,
}

impl Source {
    fn code(self) -> i64 {
        match self {
            Source::Device => 0,
            Source::SymmetricBackup => 1,
            Source::AsymmetricBackup => 2,
            Source::KeyFile => 3,
        }
    }

    fn from_code(c: i64) -> Option<Self> {
        Some(match c {
            0 => Source::Device,
            1 => Source::SymmetricBackup,
            2 => Source::AsymmetricBackup,
            3 => Source::KeyFile,
            _ => return None,
        })
    }
}

/// One session's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub source: Source,
    /// The source vouches for the key: it came from our authenticated
    /// backup without the `untrusted` flag (or the user said so).
    pub trusted: bool,
}

impl Record {
    /// Why a key is not trusted, in the user's words; `None` if it is.
    pub fn reason(&self) -> Option<&'static str> {
        if self.trusted {
            return None;
        }
        Some(match self.source {
            Source::Device => "the key was forwarded to this device",
            Source::SymmetricBackup => "the key was forwarded or imported before it was backed up",
            Source::AsymmetricBackup => "asymmetric backup",
            Source::KeyFile => "imported from a key file",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("trust table: {0}")]
pub struct TrustError(String);

impl From<rusqlite::Error> for TrustError {
    fn from(e: rusqlite::Error) -> Self {
        TrustError(e.to_string())
    }
}

/// The open table; cheap to clone (one shared connection).
#[derive(Clone)]
pub struct TrustTable {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    key: Zeroizing<[u8; 32]>,
    /// Bumped by every write of records, so readers that cache records
    /// know when to read again.
    generation: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for TrustTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrustTable")
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS trust (
    id BLOB PRIMARY KEY NOT NULL,
    source INTEGER NOT NULL,
    trusted INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS restored_rooms (
    version TEXT NOT NULL,
    id BLOB NOT NULL,
    keys INTEGER NOT NULL,
    PRIMARY KEY (version, id)
) WITHOUT ROWID;
";

impl TrustTable {
    /// Opens (or creates, 0600) the table at `path`; row ids are keyed with
    /// a key derived from `store_passphrase`.
    pub fn open(path: &Path, store_passphrase: &str) -> Result<Self, TrustError> {
        let conn = Connection::open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| TrustError(e.to_string()))?;
        }
        // A restore writes every row's random id in batches of thousands:
        // with SQLite's default 2 MB cache the table's pages were read back
        // again and again once it outgrew it (about 45,000 rows). Pages are
        // only taken as used; 16 MiB holds about 350,000 rows.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;",
        )?;
        conn.execute_batch(SCHEMA)?;
        let mut key = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, store_passphrase.as_bytes())
            .expand(b"keepsake trust table v1", key.as_mut())
            .map_err(|e| TrustError(e.to_string()))?;
        Ok(TrustTable {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                key,
                generation: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }

    fn id(&self, room_id: &str, session_id: &str) -> [u8; 32] {
        // A key of any length is accepted by HMAC, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.inner.key.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(room_id.as_bytes());
        mac.update(&[0]);
        mac.update(session_id.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves a usable connection (every
        // write is one transaction), so a poisoned lock is taken over.
        self.inner.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The row of one session, if any.
    pub fn get(&self, room_id: &str, session_id: &str) -> Result<Option<Record>, TrustError> {
        let id = self.id(room_id, session_id);
        let row = self
            .conn()
            .prepare_cached("SELECT source, trusted FROM trust WHERE id = ?1")?
            .query_row(params![&id[..]], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?))
            })
            .optional()?;
        Ok(row
            .and_then(|(s, trusted)| Source::from_code(s).map(|source| Record { source, trusted })))
    }

    /// Changes whenever records are written.
    pub fn generation(&self) -> u64 {
        self.inner
            .generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The rows of several (room, session) pairs, in one lock; pairs
    /// without a row are left out. Blocking: call it off the async threads.
    pub fn get_pairs(
        &self,
        pairs: &[(String, String)],
    ) -> Result<std::collections::HashMap<(String, String), Record>, TrustError> {
        self.rows(
            pairs
                .iter()
                .map(|(r, s)| ((r.clone(), s.clone()), self.id(r, s))),
        )
    }

    /// The rows of several sessions of one room, in one lock; sessions
    /// without a row are left out. Blocking: call it off the async threads.
    pub fn get_many(
        &self,
        room_id: &str,
        session_ids: &[String],
    ) -> Result<std::collections::HashMap<String, Record>, TrustError> {
        self.rows(session_ids.iter().map(|s| (s.clone(), self.id(room_id, s))))
    }

    /// The rows of `ids`, each under its key, in one lock.
    fn rows<K: std::hash::Hash + Eq>(
        &self,
        ids: impl IntoIterator<Item = (K, [u8; 32])>,
    ) -> Result<std::collections::HashMap<K, Record>, TrustError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT source, trusted FROM trust WHERE id = ?1")?;
        let mut out = std::collections::HashMap::new();
        for (k, id) in ids {
            let row = st
                .query_row(params![&id[..]], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?))
                })
                .optional()?;
            if let Some((s, trusted)) = row
                && let Some(source) = Source::from_code(s)
            {
                out.insert(k, Record { source, trusted });
            }
        }
        Ok(out)
    }

    /// Records where the keys of `sessions` (room id, session id, trusted)
    /// came from, in one transaction. A key received on this device is
    /// never relabelled by a later restore or import: the SDK keeps the
    /// better copy, which is the one it already had.
    pub fn record<'a>(
        &self,
        source: Source,
        sessions: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
    ) -> Result<(), TrustError> {
        let mut ids: Vec<([u8; 32], bool)> = sessions
            .into_iter()
            .map(|(r, s, t)| (self.id(r, s), t))
            .collect();
        // In key order each page of the table is visited once per batch
        // (stable: a session given twice keeps its last word).
        ids.sort_by_key(|a| a.0);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO trust (id, source, trusted) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET source = excluded.source, trusted = excluded.trusted
                 WHERE trust.source != 0 OR excluded.source = 0",
            )?;
            for (id, trusted) in &ids {
                st.execute(params![&id[..], source.code(), trusted])?;
            }
        }
        tx.commit()?;
        self.inner
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Ok(())
    }

    /// Marks one room of backup `version` as fully restored, with the
    /// number of keys the backup held for it.
    pub fn room_restored(
        &self,
        version: &str,
        room_id: &str,
        keys: usize,
    ) -> Result<(), TrustError> {
        let id = self.id(room_id, "");
        self.conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO restored_rooms (version, id, keys) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![version, &id[..], keys as i64])?;
        Ok(())
    }

    /// How many keys of `room_id` a restore of `version` already finished,
    /// or `None` if it did not finish that room.
    pub fn room_restored_keys(
        &self,
        version: &str,
        room_id: &str,
    ) -> Result<Option<usize>, TrustError> {
        let id = self.id(room_id, "");
        Ok(self
            .conn()
            .prepare_cached("SELECT keys FROM restored_rooms WHERE version = ?1 AND id = ?2")?
            .query_row(params![version, &id[..]], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|n| usize::try_from(n).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> (tempfile::TempDir, TrustTable) {
        let dir = tempfile::tempdir().unwrap();
        let t = TrustTable::open(&dir.path().join("trust.sqlite3"), "pass").unwrap();
        (dir, t)
    }

    #[test]
    fn many_rows_are_read_in_one_go() {
        let (_d, t) = table();
        let before = t.generation();
        t.record(
            Source::SymmetricBackup,
            [("!a:x", "s1", true), ("!b:x", "s2", false)],
        )
        .unwrap();
        assert_ne!(t.generation(), before, "a write is seen by caches");
        let pairs = [
            ("!a:x".to_owned(), "s1".to_owned()),
            ("!b:x".to_owned(), "s2".to_owned()),
            ("!b:x".to_owned(), "s1".to_owned()),
        ];
        let got = t.get_pairs(&pairs).unwrap();
        assert_eq!(got.len(), 2);
        assert!(got[&pairs[0]].trusted);
        assert!(!got[&pairs[1]].trusted);
        assert!(!got.contains_key(&pairs[2]), "s1 of room b has no row");
        let one_room = t.get_many("!b:x", &["s1".into(), "s2".into()]).unwrap();
        assert_eq!(one_room.keys().collect::<Vec<_>>(), vec!["s2"]);
    }

    #[test]
    fn records_and_reads_back() {
        let (_d, t) = table();
        t.record(
            Source::SymmetricBackup,
            [("!r:x", "s1", true), ("!r:x", "s2", false)],
        )
        .unwrap();
        let s1 = t.get("!r:x", "s1").unwrap().unwrap();
        assert_eq!(
            (s1.source, s1.trusted, s1.reason()),
            (Source::SymmetricBackup, true, None)
        );
        let s2 = t.get("!r:x", "s2").unwrap().unwrap();
        assert!(!s2.trusted);
        assert!(s2.reason().unwrap().contains("forwarded"));
        assert_eq!(t.get("!other:x", "s1").unwrap(), None);
    }

    /// Rows are written in key order, not the order given: a session given
    /// twice in one call still ends with its last word, and many rows (more
    /// than a few table pages) all come back.
    #[test]
    fn the_last_word_on_a_session_wins_whatever_the_write_order() {
        let (_d, t) = table();
        let ids: Vec<String> = (0..2000).map(|i| format!("s{i}")).collect();
        let mut rows: Vec<(&str, &str, bool)> =
            vec![("!r:x", "twice-a", false), ("!r:x", "twice-b", true)];
        rows.extend(ids.iter().map(|s| ("!r:x", s.as_str(), s.len() % 2 == 0)));
        rows.extend([("!r:x", "twice-a", true), ("!r:x", "twice-b", false)]);
        t.record(Source::SymmetricBackup, rows.iter().copied())
            .unwrap();
        assert!(t.get("!r:x", "twice-a").unwrap().unwrap().trusted);
        assert!(!t.get("!r:x", "twice-b").unwrap().unwrap().trusted);
        let got = t.get_many("!r:x", &ids).unwrap();
        assert_eq!(got.len(), ids.len());
        assert!(ids.iter().all(|s| got[s].trusted == (s.len() % 2 == 0)));
    }

    #[test]
    fn a_key_received_here_is_never_relabelled() {
        let (_d, t) = table();
        t.record(Source::Device, [("!r:x", "s", true)]).unwrap();
        t.record(Source::AsymmetricBackup, [("!r:x", "s", false)])
            .unwrap();
        assert_eq!(t.get("!r:x", "s").unwrap().unwrap().source, Source::Device);
        // ...but a restored key seen later on this device is.
        t.record(Source::KeyFile, [("!r:x", "k", false)]).unwrap();
        t.record(Source::Device, [("!r:x", "k", true)]).unwrap();
        assert_eq!(t.get("!r:x", "k").unwrap().unwrap().source, Source::Device);
    }

    #[test]
    fn the_file_holds_no_ids_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trust.sqlite3");
        let t = TrustTable::open(&path, "pass").unwrap();
        t.record(
            Source::SymmetricBackup,
            [("!secretroom:x", "SessionIdXYZ", true)],
        )
        .unwrap();
        t.room_restored("1", "!secretroom:x", 1).unwrap();
        drop(t);
        let mut bytes = std::fs::read(&path).unwrap();
        for ext in ["-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(ext);
            bytes.extend(std::fs::read(p).unwrap_or_default());
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("secretroom") && !text.contains("SessionIdXYZ"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn remembers_restored_rooms_per_version() {
        let (_d, t) = table();
        t.room_restored("3", "!a:x", 7).unwrap();
        assert_eq!(t.room_restored_keys("3", "!a:x").unwrap(), Some(7));
        assert_eq!(t.room_restored_keys("4", "!a:x").unwrap(), None);
        assert_eq!(t.room_restored_keys("3", "!b:x").unwrap(), None);
    }
}
