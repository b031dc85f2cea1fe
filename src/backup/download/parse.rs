//! Reading a download as it comes: the whole backup (`{"rooms": {ROOM:
//! {"sessions": {ID: entry}}}}`) or one room (`{"sessions": {...}}`),
//! each entry opened as it is read and handed on in pieces; a room that is
//! not what it should be is reported and the rest still read.

use super::*;

/// Parses a backup download (`{"rooms": {ROOM: {"sessions": {ID: entry}}}}`)
/// as it is read: each entry opened with `opener`, rooms for which `skip`
/// holds passed over, and what comes handed to `emit` piece by piece.
pub fn parse(
    reader: impl Read,
    opener: &Opener,
    skip: &impl Fn(&str) -> bool,
    emit: &dyn Fn(Piece) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut sink = Sink {
        opener,
        claimed: ClaimedKeys::default(),
        skip,
        emit,
    };
    Top { sink: &mut sink }.deserialize(&mut de).map_err(|e| {
        let text = format!("cannot read the backup download: {e}");
        // A stalled or cut connection reaches the parser as an I/O error.
        if e.is_io() {
            BackupError::Unreachable(text)
        } else {
            BackupError::Corrupt(text)
        }
    })
}

/// The body as `Read`, from the chunks the download task forwards.
pub(super) struct ChannelReader {
    pub(super) rx: mpsc::Receiver<Result<bytes::Bytes, BackupError>>,
    pub(super) current: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                // The sender is gone: the body ended.
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        bytes::Buf::advance(&mut self.current, n);
        Ok(n)
    }
}

pub(super) struct Sink<'a, F> {
    pub(super) opener: &'a Opener,
    pub(super) claimed: ClaimedKeys,
    pub(super) skip: &'a F,
    pub(super) emit: &'a dyn Fn(Piece) -> Result<(), BackupError>,
}

impl<F> Sink<'_, F> {
    fn send(&self, p: Piece) -> Result<(), BackupError> {
        (self.emit)(p)
    }
}

// {"rooms": {ROOM: {"sessions": {SESSION: KeyBackupData}}}}
struct Top<'s, 'a, F> {
    sink: &'s mut Sink<'a, F>,
}
struct Rooms<'s, 'a, F> {
    sink: &'s mut Sink<'a, F>,
}
pub(super) struct Room<'s, 'a, F> {
    pub(super) sink: &'s mut Sink<'a, F>,
    pub(super) room: OwnedRoomId,
}
struct Sessions<'s, 'a, F> {
    sink: &'s mut Sink<'a, F>,
    room: OwnedRoomId,
}

impl<'de, F: Fn(&str) -> bool> DeserializeSeed<'de> for Top<'_, '_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: Fn(&str) -> bool> Visitor<'de> for Top<'_, '_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key backup")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            if k == "rooms" {
                map.next_value_seed(Rooms {
                    sink: &mut *self.sink,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de, F: Fn(&str) -> bool> DeserializeSeed<'de> for Rooms<'_, '_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: Fn(&str) -> bool> Visitor<'de> for Rooms<'_, '_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("rooms")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            let room = match OwnedRoomId::try_from(k.as_str()) {
                Ok(r) if !(self.sink.skip)(r.as_str()) => r,
                // A room id the server should never have taken, or a room
                // restored already: not opened.
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            map.next_value_seed(Room {
                sink: &mut *self.sink,
                room,
            })?;
        }
        Ok(())
    }
}

impl<'de, F: Fn(&str) -> bool> DeserializeSeed<'de> for Room<'_, '_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // Any value: a room that is not an object is reported, and the rest
        // of the backup is still read.
        let Room { sink, room } = self;
        let whole = d.deserialize_any(Tolerant(Room {
            sink: &mut *sink,
            room: room.clone(),
        }))?;
        if whole {
            return Ok(());
        }
        sink.send(Piece::BadRoom { room })
            .map_err(serde::de::Error::custom)
    }
}

/// A visitor that takes an object through `V` and anything else as `false`.
struct Tolerant<V>(V);

impl<'de, V: Visitor<'de, Value = ()>> Visitor<'de> for Tolerant<V> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        self.0.visit_map(map).map(|()| true)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_none<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

impl<'de, F: Fn(&str) -> bool> Visitor<'de> for Room<'_, '_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a room's keys")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut sessions = false;
        while let Some(k) = map.next_key::<String>()? {
            if k == "sessions" && !sessions {
                sessions = true;
                map.next_value_seed(Sessions {
                    sink: &mut *self.sink,
                    room: self.room.clone(),
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !sessions {
            self.sink
                .send(Piece::BadRoom { room: self.room })
                .map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

impl<'de, F: Fn(&str) -> bool> DeserializeSeed<'de> for Sessions<'_, '_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let Sessions { sink, room } = self;
        let whole = d.deserialize_any(Tolerant(Sessions {
            sink: &mut *sink,
            room: room.clone(),
        }))?;
        if whole {
            return Ok(());
        }
        sink.send(Piece::BadRoom { room })
            .map_err(serde::de::Error::custom)
    }
}

impl<'de, F: Fn(&str) -> bool> Visitor<'de> for Sessions<'_, '_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("sessions")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let mut keys = Vec::with_capacity(CHUNK);
        let mut total = 0;
        while let Some(sid) = map.next_key::<String>()? {
            let raw: Box<RawValue> = map.next_value()?;
            let opened = open_restored(
                &mut self.sink.claimed,
                self.sink.opener,
                &self.room,
                &sid,
                &raw,
            );
            keys.push((sid, opened));
            total += 1;
            if keys.len() >= CHUNK {
                let chunk = std::mem::replace(&mut keys, Vec::with_capacity(CHUNK));
                self.sink
                    .send(Piece::Keys {
                        room: self.room.clone(),
                        keys: chunk,
                    })
                    .map_err(A::Error::custom)?;
            }
        }
        if !keys.is_empty() {
            self.sink
                .send(Piece::Keys {
                    room: self.room.clone(),
                    keys,
                })
                .map_err(A::Error::custom)?;
        }
        self.sink
            .send(Piece::RoomEnd {
                room: self.room,
                total,
            })
            .map_err(A::Error::custom)
    }
}
