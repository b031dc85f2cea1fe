//! Which room each session in the crypto store is filed under.
//!
//! matrix-sdk's SQLite store keys a session by its id alone: its upsert
//! replaces the session and keeps the row's room, and its lookups go by
//! (room, session), answering "none" when the rooms differ. A copy of a
//! held session offered under another room (MSC3270 binds only the session
//! id, so a server can file one anywhere) therefore looks new and would
//! replace the held one. Every key is checked here before it is saved.
//!
//! The index holds a keyed hash of each id (12 bytes a session). It is
//! built from the store once, then kept by whoever writes sessions through
//! keepsake (restore, key files, the uploader, which sees every new session
//! while it is pending); what arrives otherwise is caught up from the
//! pending sessions, and a full rebuild is the fallback.

use crate::backup::error::BackupError;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use matrix_sdk::SqliteCryptoStore;
use matrix_sdk::ruma::{OwnedRoomId, RoomId};
use matrix_sdk_crypto::olm::InboundGroupSession;
use matrix_sdk_crypto::store::CryptoStore;

/// Where the store holds a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Not held (a new session).
    New,
    /// Held under the room it is offered under.
    Here,
    /// Held under another room, perhaps: the hash matched; confirm with
    /// [`HeldSessions::confirm`] before acting on it.
    Elsewhere(OwnedRoomId),
}

/// A shared handle; cheap to clone.
#[derive(Clone, Default)]
pub struct HeldSessions(Arc<Mutex<Index>>);

#[derive(Default)]
struct Index {
    built: bool,
    /// Every session the SDK writes reaches the index as it is written
    /// (see [`HeldSessions::watch`]): a sync need not count the store.
    watched: bool,
    hasher: std::collections::hash_map::RandomState,
    by_session: HashMap<u64, u32>,
    rooms: Vec<OwnedRoomId>,
    room_ix: HashMap<OwnedRoomId, u32>,
}

impl Index {
    fn insert(&mut self, room_id: &RoomId, session_id: &str) {
        let ix = match self.room_ix.get(room_id) {
            Some(ix) => *ix,
            None => {
                let ix = self.rooms.len() as u32;
                self.rooms.push(room_id.to_owned());
                self.room_ix.insert(room_id.to_owned(), ix);
                ix
            }
        };
        let h = self.hasher.hash_one(session_id);
        // The first room a session is filed under is the store's row.
        self.by_session.entry(h).or_insert(ix);
    }

    fn place(&self, room_id: &RoomId, session_id: &str) -> Place {
        let h = self.hasher.hash_one(session_id);
        match self.by_session.get(&h) {
            None => Place::New,
            Some(ix) => match self.rooms.get(*ix as usize) {
                Some(r) if r == room_id => Place::Here,
                Some(r) => Place::Elsewhere(r.clone()),
                None => Place::New,
            },
        }
    }
}

/// The sessions matrix-sdk's import took (new, or better than the copy
/// held), as (room, session) pairs.
pub fn taken_by_import(r: &matrix_sdk_crypto::RoomKeyImportResult) -> Vec<(OwnedRoomId, String)> {
    r.keys
        .iter()
        .flat_map(|(room, by_sender)| {
            by_sender
                .values()
                .flatten()
                .map(move |sid| (room.clone(), sid.clone()))
        })
        .collect()
}

fn store_err(e: impl std::fmt::Display) -> BackupError {
    BackupError::store(e)
}

async fn total_of(crypto: &SqliteCryptoStore) -> Result<usize, BackupError> {
    Ok(crypto
        .inbound_group_session_counts(None)
        .await
        .map_err(store_err)?
        .total)
}

impl HeldSessions {
    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Brings the index up to date with the store: built on first use,
    /// then caught up from the sessions not yet backed up (where new ones
    /// land), rebuilt only if that does not account for them all.
    pub async fn sync(&self, crypto: &SqliteCryptoStore) -> Result<(), BackupError> {
        // Counting reads the whole table (no index has the `backed_up`
        // column the SDK counts too): on a restore of 100,000 keys, one
        // count per batch was most of the time the store took.
        {
            let i = self.index();
            if i.watched && i.built {
                return Ok(());
            }
        }
        let total = total_of(crypto).await?;
        let (built, known) = {
            let i = self.index();
            (i.built, i.by_session.len())
        };
        if built && known == total {
            return Ok(());
        }
        if built && known < total {
            // The pending sessions, however many (the limit is the store's
            // whole count, so none is left out).
            let pending = crypto
                .inbound_group_sessions_for_backup("", total)
                .await
                .map_err(store_err)?;
            self.note(&pending);
            if self.index().by_session.len() == total {
                return Ok(());
            }
        }
        let all = crypto
            .get_inbound_group_sessions()
            .await
            .map_err(store_err)?;
        // Added to, never cleared: a session the watcher noted meanwhile
        // stays (an entry for a session the store lacks is harmless: a
        // merge imports it, a confirm finds it absent).
        let mut i = self.index();
        for s in &all {
            i.insert(s.room_id(), s.session_id());
        }
        i.built = true;
        tracing::debug!(sessions = all.len(), "indexed the sessions held");
        Ok(())
    }

    /// Follows the sessions the SDK writes (received keys, our own new
    /// ones, forwarded and imported keys: its store announces each write)
    /// into the index, so [`sync`](Self::sync) need not count the store.
    /// If the announcements fall behind or end, syncs count again. Writes
    /// keepsake makes past the SDK's machine (restore, key files) note
    /// their sessions themselves.
    pub async fn watch(&self, base: &matrix_sdk_base::BaseClient) {
        use futures_util::StreamExt;
        let stream = match base.olm_machine().await.as_ref() {
            Some(m) => m.store().room_keys_received_stream(),
            None => return,
        };
        self.index().watched = true;
        let held = self.clone();
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(item) = stream.next().await {
                match item {
                    Ok(infos) => {
                        let mut i = held.index();
                        for k in infos {
                            i.insert(&k.room_id, &k.session_id);
                        }
                    }
                    // Missed some: count from now on.
                    Err(_) => break,
                }
            }
            held.index().watched = false;
        });
    }

    /// Sessions written to (or read from) the store.
    pub fn note(&self, sessions: &[InboundGroupSession]) {
        let mut i = self.index();
        for s in sessions {
            i.insert(s.room_id(), s.session_id());
        }
    }

    /// One session written to the store.
    pub fn note_one(&self, room_id: &RoomId, session_id: &str) {
        self.index().insert(room_id, session_id);
    }

    pub fn place(&self, room_id: &RoomId, session_id: &str) -> Place {
        self.index().place(room_id, session_id)
    }

    /// Whether the store really holds `session_id` under `room_id` (a
    /// [`Place::Elsewhere`] may be two ids with one hash).
    pub async fn confirm(
        crypto: &SqliteCryptoStore,
        room_id: &RoomId,
        session_id: &str,
    ) -> Result<bool, BackupError> {
        Ok(crypto
            .get_inbound_group_session(room_id, session_id)
            .await
            .map_err(store_err)?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::room_id;

    #[test]
    fn a_session_is_placed_under_the_room_it_was_first_filed_under() {
        let mut i = Index::default();
        let (a, b) = (room_id!("!a:x"), room_id!("!b:x"));
        assert_eq!(i.place(a, "s1"), Place::New);
        i.insert(a, "s1");
        i.insert(b, "s1");
        i.insert(b, "s2");
        assert_eq!(i.place(a, "s1"), Place::Here);
        assert_eq!(i.place(b, "s1"), Place::Elsewhere(a.to_owned()));
        assert_eq!(i.place(b, "s2"), Place::Here);
        assert_eq!(i.place(a, "s3"), Place::New);
        assert_eq!(i.rooms.len(), 2);
    }
}
