//! Fixed test data for `update` tests and screen snapshots. No real keys:
//! the recovery key here is a fake string that opens nothing.

use crate::backup::restore::RestoreProgress;
use crate::backup::status::BackupStatus;
use crate::backup::upload::{Progress, UploadState};
use crate::matrix::devices::DeviceInfo;
use crate::matrix::history::{HistoryItem, Reaction, Trust};
use crate::matrix::recovery::RecoveryStatus;
use crate::matrix::rooms::RoomSummary;
use crate::matrix::verify::{EmojiItem, Flow};

use super::keys::KeyMap;
use super::state::*;

/// A recovery key's shape, not a real one.
pub const FAKE_RECOVERY_KEY: &str = "EsTX AAAA BBBB CCCC DDDD EEEE FFFF GGGG HHHH JJJJ KKKK LLLL";

/// 2026-11-27 19:15 UTC.
pub const T0: u64 = 1_795_806_900_000;

pub fn room(id: &str, name: &str, membership: &'static str) -> RoomSummary {
    RoomSummary {
        room_id: id.into(),
        name: name.into(),
        topic: None,
        members: Some(2),
        membership,
        encrypted: true,
        unread: 0,
        highlights: 0,
        is_dm: false,
        dm_with: None,
        favourite: false,
        low_priority: false,
        last_activity: None,
        inviter: None,
        is_space: false,
        spaces: vec![],
        alias: None,
    }
}

pub fn rooms() -> Vec<RoomSummary> {
    vec![
        RoomSummary {
            unread: 3,
            highlights: 1,
            topic: Some("Plans, news and the odd cat picture".into()),
            members: Some(12),
            ..room("!general:example.org", "General", "joined")
        },
        RoomSummary {
            is_dm: true,
            ..room("!bob:example.org", "Bob", "joined")
        },
        RoomSummary {
            encrypted: false,
            unread: 12,
            ..room("!lobby:example.org", "Public lobby", "joined")
        },
        RoomSummary {
            inviter: Some("@carol:example.org".into()),
            ..room("!party:example.org", "Party planning", "invited")
        },
    ]
}

pub fn item(n: u64, sender: &str, body: &str, trust: Trust) -> HistoryItem {
    HistoryItem {
        event_id: Some(format!("$ev{n}")),
        sender: sender.into(),
        ts: T0 + n * 60_000,
        kind: crate::matrix::content::Kind::Text,
        body: Some(body.into()),
        formatted: None,
        rich: vec![],
        attachment: None,
        thread_root: None,
        thread_replies: 0,
        mentions_me: false,
        session_id: (trust != Trust::Plain).then(|| "sess".into()),
        encrypted: trust != Trust::Plain,
        decrypted: trust != Trust::Utd,
        utd_reason: None,
        utd_hint: None,
        verification: None,
        trust,
        trust_reason: None,
        sender_device: None,
        in_reply_to: None,
        edited: false,
        reactions: vec![],
        redacted: false,
        own: sender == "@alice:example.org",
        read_by: vec![],
        read_marker: false,
    }
}

/// One message of every trust mark, a reply, an edit, reactions, a
/// redaction and a day change.
pub fn timeline() -> Vec<HistoryItem> {
    let mut v = vec![
        item(0, "@bob:example.org", "hello from yesterday", Trust::Plain),
        item(1, "@bob:example.org", "a verified message", Trust::Verified),
        HistoryItem {
            trust_reason: Some("the sender's device is not verified".into()),
            ..item(
                2,
                "@carol:example.org",
                "from an unverified device",
                Trust::Unverified,
            )
        },
        HistoryItem {
            sender_device: Some(crate::matrix::history::SenderDevice::Unverified),
            ..item(
                3,
                "@alice:example.org",
                "restored from the backup",
                Trust::BackupTrusted,
            )
        },
        HistoryItem {
            trust_reason: Some("forwarded by another device".into()),
            ..item(
                4,
                "@bob:example.org",
                "restored, but untrusted",
                Trust::BackupUntrusted,
            )
        },
        HistoryItem {
            body: None,
            utd_reason: Some("historical_device_unverified".into()),
            utd_hint: Some(
                "sent before this device existed: restore from the backup, or verify this device"
                    .into(),
            ),
            ..item(5, "@carol:example.org", "", Trust::Utd)
        },
        HistoryItem {
            in_reply_to: Some("$ev1".into()),
            edited: true,
            reactions: vec![
                Reaction {
                    key: "👍".into(),
                    count: 2,
                },
                Reaction {
                    key: "🎉".into(),
                    count: 1,
                },
            ],
            ..item(
                6,
                "@alice:example.org",
                "**markdown** reply,\non two lines",
                Trust::Verified,
            )
        },
        HistoryItem {
            body: None,
            redacted: true,
            encrypted: false,
            trust: Trust::Plain,
            ..item(7, "@bob:example.org", "", Trust::Plain)
        },
    ];
    // The first message the day before.
    v[0].ts = T0 - 86_400_000;
    v
}

pub fn logged_in() -> AppState {
    let mut st = AppState::new(KeyMap::default());
    st.me = Some("@alice:example.org".into());
    st.rooms = rooms();
    st.rooms_loaded = true;
    st.sync = Some(crate::matrix::protocol::SyncState::Synced);
    st.backup.status = Some(healthy_backup());
    // Typing notices have their own tests (composer); elsewhere they would
    // only add a command to every keystroke's effects.
    st.composing.send_typing = false;
    st
}

pub fn in_room() -> AppState {
    let mut st = logged_in();
    let mut r = OpenRoom::new("!general:example.org", "General", true);
    r.items = timeline();
    r.loading = false;
    r.reached_start = true;
    st.room = Some(r);
    st.screen = Screen::Timeline;
    st.focus = Focus::Composer;
    st
}

/// A message formatted by its sender: `html` as the server would send it.
pub fn formatted(n: u64, sender: &str, body: &str, html: &str) -> HistoryItem {
    let (clean, rich) = crate::matrix::formatted::parse(html);
    HistoryItem {
        formatted: Some(clean),
        rich,
        ..item(n, sender, body, Trust::Verified)
    }
}

/// Rich text of every kind, an image, an emote, a notice, a thread and a
/// mention of this account (alice).
pub fn rich_room() -> AppState {
    use crate::matrix::content::{Attachment, Kind};
    let mut st = in_room();
    let items = vec![
        formatted(
            0,
            "@bob:example.org",
            "**bold** and *italic* ~~gone~~ `code()`",
            "<strong>bold</strong> and <em>italic</em> <del>gone</del> <code>code()</code>",
        ),
        formatted(
            1,
            "@carol:example.org",
            "> quoted\n\n- one\n- two",
            "<blockquote>\n<p>quoted</p>\n</blockquote>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n",
        ),
        formatted(
            2,
            "@bob:example.org",
            "code",
            "<pre><code>fn main() {\n    println!(\"hi\");\n}\n</code></pre>",
        ),
        HistoryItem {
            mentions_me: true,
            ..formatted(
                3,
                "@bob:example.org",
                "alice: see the docs, it's a ||surprise||",
                "<a href=\"https://matrix.to/#/@alice:example.org\">alice</a>: see \
                 <a href=\"https://example.org/docs\">the docs</a>, it's a \
                 <span data-mx-spoiler=\"\">surprise</span>",
            )
        },
        HistoryItem {
            kind: Kind::Image,
            attachment: Some(Attachment {
                name: "cat.png".into(),
                mimetype: Some("image/png".into()),
                size: Some(14_540),
            }),
            thread_replies: 3,
            ..item(4, "@carol:example.org", "cat.png", Trust::Verified)
        },
        HistoryItem {
            kind: Kind::Emote,
            ..item(5, "@bob:example.org", "waves", Trust::Verified)
        },
        HistoryItem {
            kind: Kind::Notice,
            ..item(6, "@bot:example.org", "build passed", Trust::Plain)
        },
    ];
    if let Some(r) = st.room.as_mut() {
        r.items = items;
    }
    st
}

pub fn healthy_backup() -> BackupStatus {
    BackupStatus {
        version: Some("7".into()),
        algorithm: Some("org.matrix.msc3270.v1.aes-hmac-sha2".into()),
        server_version: Some("7".into()),
        server_algorithm: Some("org.matrix.msc3270.v1.aes-hmac-sha2".into()),
        key_present: true,
        key_matches: Some(true),
        local_sessions: 42,
        backed_up: 42,
        pending: 0,
        server_count: Some(42),
        etag: Some("42".into()),
        last_upload: Some(T0),
        last_error: None,
        stale: None,
        server_error: None,
        server_offline: false,
    }
}

pub fn no_backup() -> BackupStatus {
    BackupStatus {
        version: None,
        algorithm: None,
        server_version: None,
        server_algorithm: None,
        key_present: false,
        key_matches: None,
        local_sessions: 5,
        backed_up: 0,
        pending: 5,
        server_count: None,
        etag: None,
        last_upload: None,
        last_error: None,
        stale: None,
        server_error: None,
        server_offline: false,
    }
}

pub fn stale_backup() -> BackupStatus {
    BackupStatus {
        server_version: Some("9".into()),
        key_matches: Some(false),
        pending: 3,
        backed_up: 39,
        last_error: Some("M_WRONG_ROOM_KEYS_VERSION: version 7 is not the current one".into()),
        stale: Some("another device replaced the backup (version 9)".into()),
        ..healthy_backup()
    }
}

/// Element made a curve25519 backup the current one over ours.
pub fn replaced_backup() -> BackupStatus {
    BackupStatus {
        server_version: Some("8".into()),
        server_algorithm: Some("m.megolm_backup.v1.curve25519-aes-sha2".into()),
        server_count: Some(1250),
        key_matches: None,
        pending: 2,
        backed_up: 40,
        ..healthy_backup()
    }
}

/// The backup's second page: two versions and three rooms.
pub fn inspection() -> crate::backup::inspect::Inspection {
    use crate::backup::inspect::{Inspection, RoomView, VersionView};
    Inspection {
        versions: vec![
            VersionView {
                version: "7".into(),
                algorithm: "org.matrix.msc3270.v1.aes-hmac-sha2".into(),
                count: 42,
                current: true,
                opens: Some(true),
            },
            VersionView {
                version: "6".into(),
                algorithm: "m.megolm_backup.v1.curve25519-aes-sha2".into(),
                count: 1250,
                current: false,
                opens: None,
            },
        ],
        rooms: vec![
            RoomView {
                room_id: "!book:example.org".into(),
                name: "Book club".into(),
                held: 12,
                in_backup: 12,
                restored_trusted: 10,
                restored_untrusted: 2,
                fixable: 0,
            },
            RoomView {
                room_id: "!general:example.org".into(),
                name: "General".into(),
                held: 28,
                in_backup: 30,
                restored_trusted: 0,
                restored_untrusted: 0,
                fixable: 3,
            },
            RoomView {
                room_id: "!new:example.org".into(),
                name: "Just made".into(),
                held: 2,
                in_backup: 0,
                ..Default::default()
            },
        ],
    }
}

pub fn uploading() -> Progress {
    Progress {
        state: UploadState::Uploading,
        version: Some("7".into()),
        local_sessions: 200,
        backed_up: 120,
        pending: 80,
        last_error: None,
    }
}

pub fn restoring() -> RestoreProgress {
    RestoreProgress {
        rooms_done: 3,
        rooms_total: 8,
        keys_done: 150,
        keys_total: 400,
    }
}

pub fn recovery_status(unlocked: bool) -> RecoveryStatus {
    RecoveryStatus {
        cross_signing_on_account: true,
        cross_signing_complete: unlocked,
        device_verified: unlocked,
        secret_storage: true,
        backup_key_present: unlocked,
    }
}

pub fn devices() -> Vec<DeviceInfo> {
    let d = |id: &str, name: &str, verified: bool, this: bool| DeviceInfo {
        user_id: "@alice:example.org".into(),
        device_id: id.into(),
        name: Some(name.into()),
        verified,
        cross_signed: verified,
        this_device: this,
    };
    vec![
        d("KEEPSAKE01", "keepsake", true, true),
        d("PHONE00002", "Element on the phone", true, false),
        d("OLDLAPTOP3", "old laptop", false, false),
    ]
}

pub fn flow() -> Flow {
    Flow {
        user: "@alice:example.org".into(),
        flow_id: "flow-1".into(),
    }
}

pub fn emoji() -> Vec<EmojiItem> {
    [
        ("🐶", "Dog"),
        ("🔑", "Key"),
        ("🎸", "Guitar"),
        ("🌍", "Globe"),
        ("🚀", "Rocket"),
        ("🍄", "Mushroom"),
        ("⏰", "Clock"),
    ]
    .into_iter()
    .map(|(s, n)| EmojiItem {
        symbol: s.into(),
        name: n.into(),
    })
    .collect()
}
