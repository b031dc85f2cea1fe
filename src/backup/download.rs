//! The whole backup (`GET /room_keys/keys`), streamed: the body is parsed
//! as it arrives on a thread of its own, each entry opened (MAC checked,
//! decrypted) right there, and the keys handed to the importer in small
//! chunks, at most `AHEAD` keys ahead of it. A backup of 100,000 keys is
//! never in memory at once, and opening keys overlaps with saving them.

use crate::backup::error::BackupError;
use std::fmt;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use matrix_sdk::Client;
use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk_crypto::olm::InboundGroupSession;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::entry::{ClaimedKeys, Opener, SkipReason, open_entry_with};

mod parse;
pub use parse::parse;
use parse::{ChannelReader, Room, Sink};

/// Keys per chunk handed to the importer.
const CHUNK: usize = 1000;

/// Keys opened ahead of the importer at most: enough that the parser keeps
/// opening while the store saves a batch (the two then use both cores),
/// few enough to bound memory (about 1.5 KiB per opened session).
const AHEAD: usize = 6_000;

/// One opened key: its session id, and the session made of it with whether
/// the backup vouches for it, or why it was skipped.
pub type Opened = (String, Result<(Restored, bool), SkipReason>);

/// The session made of a key from the backup, on the parser's thread:
/// making one (an Ed25519 key decompressed) is the costliest step after the
/// store's save, and the importer waits on the store. Only the session is
/// kept (it holds everything the key did, and a key held ahead of the
/// importer costs memory); the rare key that must be merged into a held
/// copy is exported from it again.
pub struct Restored {
    pub session: InboundGroupSession,
}

/// [`open_entry`], and the session made of the key it opened. A key the
/// SDK will not make a session of is not a session (our own checks refuse
/// those first; this is belt and braces).
pub fn open_restored(
    claimed: &mut ClaimedKeys,
    opener: &Opener,
    room_id: &matrix_sdk::ruma::RoomId,
    session_id: &str,
    raw: &RawValue,
) -> Result<(Restored, bool), SkipReason> {
    let (key, trusted) = open_entry_with(claimed, opener, room_id, session_id, raw)?;
    let session = InboundGroupSession::from_export(&key).map_err(|_| SkipReason::NotASession)?;
    Ok((Restored { session }, trusted))
}

pub enum Piece {
    /// Some keys of a room, in order.
    Keys {
        room: OwnedRoomId,
        keys: Vec<Opened>,
    },
    /// Every key of the room has been sent; `total` of them.
    RoomEnd { room: OwnedRoomId, total: usize },
    /// The room's entry is not an object of sessions: skipped, not marked
    /// done, so a later restore tries it again.
    BadRoom { room: OwnedRoomId },
}

/// How long a download may go without a byte before it counts as stalled.
pub const IDLE: Duration = Duration::from_secs(60);
/// How long the server may take to start its answer.
pub const FIRST_BYTE: Duration = Duration::from_secs(300);

/// How many opened keys are on their way to the importer: the parser waits
/// while `AHEAD` are, and stops when the importer is gone.
#[derive(Clone, Default)]
struct Ahead(Arc<(Mutex<AheadState>, Condvar)>);

#[derive(Default)]
struct AheadState {
    keys: usize,
    closed: bool,
}

impl Ahead {
    /// Waits until `n` more keys fit (always when none are on the way);
    /// false once the importer is gone.
    fn take(&self, n: usize) -> bool {
        let (lock, cond) = &*self.0;
        let Ok(mut st) = lock.lock() else {
            return false;
        };
        while !st.closed && st.keys > 0 && st.keys + n > AHEAD {
            st = match cond.wait(st) {
                Ok(st) => st,
                Err(_) => return false,
            };
        }
        st.keys += n;
        !st.closed
    }

    fn give(&self, n: usize) {
        let (lock, cond) = &*self.0;
        if let Ok(mut st) = lock.lock() {
            st.keys = st.keys.saturating_sub(n);
        }
        cond.notify_all();
    }

    fn close(&self) {
        let (lock, cond) = &*self.0;
        if let Ok(mut st) = lock.lock() {
            st.closed = true;
        }
        cond.notify_all();
    }
}

/// The pieces of a download, in order; each key taken frees room for the
/// parser to open another.
pub struct Pieces {
    rx: mpsc::Receiver<Result<Piece, BackupError>>,
    ahead: Ahead,
}

impl Pieces {
    pub async fn recv(&mut self) -> Option<Result<Piece, BackupError>> {
        let p = self.rx.recv().await;
        if let Some(Ok(Piece::Keys { keys, .. })) = &p {
            self.ahead.give(keys.len());
        }
        p
    }
}

impl Drop for Pieces {
    fn drop(&mut self) {
        self.ahead.close();
    }
}

/// Starts the download; pieces arrive in order, and end early with an
/// error if the download fails. `skip` says which rooms not to open
/// (already restored).
pub async fn stream_all(
    client: &Client,
    version: &str,
    opener: Opener,
    skip: impl Fn(&str) -> bool + Send + 'static,
) -> Result<Pieces, BackupError> {
    let resp = get(client, "", version).await?;
    // Body chunks go to the parser thread through a small bounded channel,
    // so a slow parser slows the download instead of buffering it.
    let (bytes_tx, bytes_rx) = mpsc::channel::<Result<bytes::Bytes, BackupError>>(16);
    let mut body = resp.bytes_stream();
    tokio::spawn(async move {
        loop {
            let chunk = match tokio::time::timeout(IDLE, body.next()).await {
                Ok(Some(c)) => c.map_err(|e| BackupError::Unreachable(e.to_string())),
                Ok(None) => break,
                Err(_) => Err(BackupError::Unreachable(format!(
                    "the download stalled: nothing for {} s",
                    IDLE.as_secs()
                ))),
            };
            let failed = chunk.is_err();
            if bytes_tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    // Bounded by keys (`Ahead`), not by pieces: a room's end is no key.
    let (tx, rx) = mpsc::channel(4096);
    let ahead = Ahead::default();
    let parser_ahead = ahead.clone();
    spawn_parser(move || {
        // serde_json reads a `Read` byte by byte: buffered, that is cheap.
        let reader = std::io::BufReader::with_capacity(
            64 * 1024,
            ChannelReader {
                rx: bytes_rx,
                current: bytes::Bytes::new(),
            },
        );
        let emit = |p: Piece| hand_over(&tx, &parser_ahead, p);
        if let Err(e) = parse(reader, &opener, &skip, &emit) {
            // The channel may already be closed (the importer gave up).
            let _ = tx.blocking_send(Err(e));
        }
    })?;
    Ok(Pieces { rx, ahead })
}

/// `GET /_matrix/client/v3/room_keys/keys{suffix}?version=…`, answered
/// with a success status (the error said in words otherwise).
async fn get(
    client: &Client,
    suffix: &str,
    version: &str,
) -> Result<reqwest::Response, BackupError> {
    let mut url = client.homeserver();
    // Under the homeserver's own path, which may have a prefix
    // (https://example.org/matrix/).
    let path = format!(
        "{}/_matrix/client/v3/room_keys/keys{suffix}",
        url.path().trim_end_matches('/')
    );
    url.set_path(&path);
    url.query_pairs_mut().append_pair("version", version);
    let token = zeroize::Zeroizing::new(client.access_token().ok_or("not logged in")?);
    // The SDK's client gives every request 30 s in all, body included; a
    // large backup takes longer. This request gets a day in all, and fails
    // instead when the server sends nothing for `IDLE`.
    let send = client
        .http_client()
        .get(url)
        .bearer_auth(token.as_str())
        .timeout(Duration::from_secs(24 * 3600))
        .send();
    // Synapse builds the whole answer before its first byte.
    let resp = tokio::time::timeout(FIRST_BYTE, send)
        .await
        .map_err(|_| {
            format!(
                "cannot download the backup: the server sent nothing for {} s",
                FIRST_BYTE.as_secs()
            )
        })?
        .map_err(|e| format!("cannot download the backup: {e}"))?;
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    // At most a little of an error body: it could be anything.
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while body.len() < 4096 {
        match tokio::time::timeout(IDLE, stream.next()).await {
            Ok(Some(Ok(b))) => body.extend_from_slice(&b[..b.len().min(4096)]),
            _ => break,
        }
    }
    let body = String::from_utf8_lossy(&body);
    let text = format!(
        "cannot download the backup: the server answered {status}: {}",
        crate::terminal_text::clean(&body.chars().take(300).collect::<String>())
    );
    Err(match status.as_u16() {
        401 => BackupError::LoggedOut(text),
        404 => BackupError::NotFound(text),
        _ => BackupError::Server(text),
    })
}

/// A room's whole answer, read with the same limits as a stream.
async fn room_body(
    client: &Client,
    version: &str,
    room: &OwnedRoomId,
) -> Result<bytes::Bytes, BackupError> {
    let suffix = format!("/{}", url_segment(room.as_str()));
    let resp = match get(client, &suffix, version).await {
        // No keys of this room (Synapse answers 404 for an unknown room).
        Err(BackupError::NotFound(_)) => {
            return Ok(bytes::Bytes::from_static(b"{\"sessions\":{}}"));
        }
        other => other?,
    };
    let mut body = resp.bytes_stream();
    let mut all = bytes::BytesMut::new();
    loop {
        match tokio::time::timeout(IDLE, body.next()).await {
            Ok(Some(Ok(b))) => all.extend_from_slice(&b),
            Ok(Some(Err(e))) => return Err(BackupError::Unreachable(e.to_string())),
            Ok(None) => return Ok(all.freeze()),
            Err(_) => {
                return Err(BackupError::Unreachable(format!(
                    "the download stalled: nothing for {} s",
                    IDLE.as_secs()
                )));
            }
        }
    }
}

/// A room id as one path segment (`!` stays; `:` and the rest escaped).
fn url_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Rooms asked for at once by [`stream_rooms`].
const PARALLEL: usize = 4;

/// The keys of `rooms`, one request per room (`GET
/// /room_keys/keys/{room}`), [`PARALLEL`] on the way at once, parsed and
/// opened on one thread in the rooms' order. Synapse builds a whole-backup
/// answer before its first byte (about 2 s for 100,000 keys) while a room
/// comes at once, so the importer starts at once and the server's work
/// overlaps with ours. `skip` as for [`stream_all`].
pub async fn stream_rooms(
    client: &Client,
    version: &str,
    opener: Opener,
    rooms: Vec<OwnedRoomId>,
    skip: impl Fn(&str) -> bool + Send + 'static,
) -> Result<Pieces, BackupError> {
    let rooms: Vec<OwnedRoomId> = rooms.into_iter().filter(|r| !skip(r.as_str())).collect();
    let (bodies_tx, mut bodies_rx) =
        mpsc::channel::<Result<(OwnedRoomId, bytes::Bytes), BackupError>>(PARALLEL * 2);
    let (client, version) = (client.clone(), version.to_owned());
    tokio::spawn(async move {
        let mut answers = futures_util::stream::iter(rooms)
            .map(|room| {
                let (client, version) = (client.clone(), version.clone());
                async move { room_body(&client, &version, &room).await.map(|b| (room, b)) }
            })
            .buffered(PARALLEL);
        while let Some(answer) = answers.next().await {
            let failed = answer.is_err();
            if bodies_tx.send(answer).await.is_err() || failed {
                break;
            }
        }
    });
    let (tx, rx) = mpsc::channel(4096);
    let ahead = Ahead::default();
    let parser_ahead = ahead.clone();
    spawn_parser(move || {
        let emit = |p: Piece| hand_over(&tx, &parser_ahead, p);
        let never = |_: &str| false;
        let mut sink = Sink {
            opener: &opener,
            claimed: ClaimedKeys::default(),
            skip: &never,
            emit: &emit,
        };
        while let Some(answer) = bodies_rx.blocking_recv() {
            let parsed = answer.and_then(|(room, body)| {
                let mut de = serde_json::Deserializer::from_slice(&body);
                Room {
                    sink: &mut sink,
                    room,
                }
                .deserialize(&mut de)
                .map_err(|e| BackupError::Corrupt(format!("cannot read the backup download: {e}")))
            });
            if let Err(e) = parsed {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    })?;
    Ok(Pieces { rx, ahead })
}

/// How much lower the parser's priority is than the process's (a nice
/// value).
const PARSER_NICE: i32 = 10;

/// Starts the parser on a thread of its own, at a lower priority: it only
/// has to keep ahead of the store, and when the cores are busy the store's
/// saves (the restore's slowest step), the interface and the server should
/// come first. At 100,000 keys on two cores this made the restore about
/// 0.2 s (4%) faster, the store waiting less for a core.
fn spawn_parser(f: impl FnOnce() + Send + 'static) -> Result<(), BackupError> {
    std::thread::Builder::new()
        .name("keepsake-restore-parser".to_owned())
        .spawn(move || {
            lower_priority();
            f()
        })
        .map(drop)
        .map_err(|e| BackupError::Other(format!("cannot start the restore's parser: {e}")))
}

/// Lowers the calling thread's priority by [`PARSER_NICE`] (at most to the
/// lowest). On Linux a nice value belongs to a thread, so the rest of the
/// process keeps its own; elsewhere it would be the whole process's, so
/// nothing is changed.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: nice(2) takes a plain integer and touches no memory of
        // ours; on failure the thread simply keeps its priority.
        unsafe { libc::nice(PARSER_NICE) };
    }
}

/// Hands a piece to the importer from the parser's thread, waiting while
/// `AHEAD` keys are on their way; an error once the importer is gone.
fn hand_over(
    tx: &mpsc::Sender<Result<Piece, BackupError>>,
    ahead: &Ahead,
    p: Piece,
) -> Result<(), BackupError> {
    let stopped = || BackupError::Other("the restore stopped".to_owned());
    if let Piece::Keys { keys, .. } = &p
        && !ahead.take(keys.len())
    {
        return Err(stopped());
    }
    tx.blocking_send(Ok(p)).map_err(|_| stopped())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The parser side never gets more than `AHEAD` keys ahead of the
    /// importer, always gets on when none are on the way, and stops when
    /// the importer is gone.
    #[test]
    fn the_parser_waits_for_the_importer_and_stops_without_it() {
        let ahead = Ahead::default();
        assert!(ahead.take(AHEAD - 1000));
        let taken = Arc::new(AtomicUsize::new(0));
        let (a, t) = (ahead.clone(), taken.clone());
        let parser = std::thread::spawn(move || {
            // 2,000 more do not fit until the importer takes some.
            let ok = a.take(2000);
            t.fetch_add(1, Ordering::SeqCst);
            // Nothing fits any more, and then the importer goes away.
            let after_close = a.take(AHEAD);
            (ok, after_close)
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(taken.load(Ordering::SeqCst), 0, "the parser ran ahead");
        ahead.give(1000);
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(taken.load(Ordering::SeqCst), 1, "the parser was not let on");
        ahead.close();
        let (ok, after_close) = parser.join().unwrap();
        assert!(ok);
        assert!(!after_close, "the parser went on without an importer");
        // A single piece larger than the limit still passes when nothing
        // else is on the way (a room of many keys is never stuck).
        let empty = Ahead::default();
        assert!(empty.take(AHEAD * 2));
    }

    /// The nice value of the calling thread (Linux: each thread has one).
    #[cfg(target_os = "linux")]
    fn own_nice() -> i32 {
        // SAFETY: plain integers in and out.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }

    /// The parser runs on its own named thread below the rest of the
    /// process, and lowering it leaves the thread that started it as it
    /// was.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_parser_runs_below_the_rest_of_the_process() {
        let before = own_nice();
        let (tx, rx) = std::sync::mpsc::channel();
        spawn_parser(move || {
            let name = std::thread::current().name().map(str::to_owned);
            let _ = tx.send((name, own_nice()));
        })
        .unwrap();
        let (name, parser) = rx.recv().unwrap();
        assert_eq!(name.as_deref(), Some("keepsake-restore-parser"));
        assert_eq!(parser, (before + PARSER_NICE).min(19));
        assert_eq!(own_nice(), before, "the caller's priority changed");
    }
}
