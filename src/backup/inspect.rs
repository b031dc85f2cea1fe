//! A backup overview a person can inspect (`backup inspect`, the backup
//! screen's second page): per room, the sessions held here, those in the
//! backup, how the restored ones are trusted, and the undecryptable
//! messages the backup could fix; and the server's versions, with whether
//! this device's key opens them.

use crate::backup::error::BackupError;
use std::collections::HashSet;

use matrix_sdk::{Client, SqliteCryptoStore};
use matrix_sdk_crypto::store::CryptoStore;
use serde::Serialize;

use super::trust::{Source, TrustTable};
use super::{local_key, server, version};
use crate::crypto::{BackupKey, KeyCheck};

/// How many versions below the current one are looked for (Synapse numbers
/// them; the API has no list).
const OLDER_VERSIONS: u64 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionView {
    pub version: String,
    pub algorithm: String,
    pub count: u64,
    pub current: bool,
    /// This device's key opens it: `null` when it cannot tell (no key
    /// here, or an algorithm whose key is checked otherwise).
    pub opens: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoomView {
    pub room_id: String,
    pub name: String,
    /// Sessions the store holds for the room.
    pub held: usize,
    /// Sessions the current backup holds for the room.
    pub in_backup: usize,
    /// Held sessions that came from a backup, by whether they are trusted.
    pub restored_trusted: usize,
    pub restored_untrusted: usize,
    /// Undecryptable messages seen here whose session the backup holds.
    pub fixable: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inspection {
    pub versions: Vec<VersionView>,
    pub rooms: Vec<RoomView>,
}

fn opens(key: Option<&BackupKey>, v: &server::VersionInfo) -> Option<bool> {
    match version::key_check(key?, v)? {
        KeyCheck::Matches => Some(true),
        KeyCheck::Mismatch => Some(false),
        KeyCheck::Unchecked => None,
    }
}

pub async fn inspect(
    client: &Client,
    crypto: &SqliteCryptoStore,
    trust: &TrustTable,
) -> Result<Inspection, BackupError> {
    let key = local_key::load(crypto)
        .await
        .map_err(|e| e.to_string())?
        .map(BackupKey::new);
    let current = server::current(client).await?;
    let mut versions = vec![];
    if let Some(c) = &current {
        versions.push(VersionView {
            version: c.version.clone(),
            algorithm: c.algorithm.clone(),
            count: c.count,
            current: true,
            opens: opens(key.as_ref(), c),
        });
        if let Ok(n) = c.version.parse::<u64>() {
            for v in (n.saturating_sub(OLDER_VERSIONS).max(1)..n).rev() {
                if let Some(old) = server::version(client, &v.to_string()).await? {
                    versions.push(VersionView {
                        version: old.version.clone(),
                        algorithm: old.algorithm.clone(),
                        count: old.count,
                        current: false,
                        opens: opens(key.as_ref(), &old),
                    });
                }
            }
        }
    }
    let mut rooms = vec![];
    for room in client.joined_rooms() {
        let room_id = room.room_id().to_owned();
        let name = room
            .display_name()
            .await
            .map(|n| n.to_string())
            .unwrap_or_else(|_| room_id.to_string());
        let held = crypto
            .get_inbound_group_sessions_by_room_id(&room_id)
            .await
            .map_err(|e| format!("cannot read the local store: {e}"))?;
        let mut view = RoomView {
            room_id: room_id.to_string(),
            name: crate::terminal_text::clean(&name).into_owned(),
            held: held.len(),
            ..RoomView::default()
        };
        for s in &held {
            if let Some(r) = trust
                .get(room_id.as_str(), s.session_id())
                .map_err(|e| e.to_string())?
                && matches!(r.source, Source::SymmetricBackup | Source::AsymmetricBackup)
            {
                if r.trusted {
                    view.restored_trusted += 1;
                } else {
                    view.restored_untrusted += 1;
                }
            }
        }
        let in_backup: HashSet<String> = match &current {
            Some(c) => server::room_keys(client, &c.version, &room_id)
                .await?
                .into_keys()
                .collect(),
            None => HashSet::new(),
        };
        view.in_backup = in_backup.len();
        if let Ok((cache, _handles)) = room.event_cache().await
            && let Ok(events) = cache.events().await
        {
            view.fixable = events
                .iter()
                .filter(|ev| {
                    matches!(
                        ev.kind,
                        matrix_sdk::deserialized_responses::TimelineEventKind::UnableToDecrypt { .. }
                    ) && ev.kind.session_id().is_some_and(|s| in_backup.contains(s))
                })
                .count();
        }
        rooms.push(view);
    }
    rooms.sort_by(|a, b| a.name.cmp(&b.name).then(a.room_id.cmp(&b.room_id)));
    Ok(Inspection { versions, rooms })
}

/// The rooms as a text table, for `backup inspect` without `--json`.
pub fn table(i: &Inspection) -> String {
    let mut out = String::new();
    out.push_str("versions on the server:\n");
    if i.versions.is_empty() {
        out.push_str("  none\n");
    }
    for v in &i.versions {
        let opens = match v.opens {
            Some(true) => "this device's key opens it",
            Some(false) => "this device's key does not open it",
            None => "not checked",
        };
        out.push_str(&format!(
            "  {}{} {} ({} keys; {opens})\n",
            v.version,
            if v.current { " (current)" } else { "" },
            v.algorithm,
            v.count
        ));
    }
    out.push_str("rooms: held here · in the backup · restored trusted/untrusted · unreadable the backup can fix\n");
    for r in &i.rooms {
        out.push_str(&format!(
            "  {} ({}): {} · {} · {}/{} · {}\n",
            r.name,
            r.room_id,
            r.held,
            r.in_backup,
            r.restored_trusted,
            r.restored_untrusted,
            r.fixable
        ));
    }
    out
}
