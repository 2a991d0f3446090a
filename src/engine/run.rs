//! Shared runs of broadcast packets: one outbox entry that every recipient of consecutive
//! broadcasts to the same sockets points to (see `crate::broadcast::coalesce`, which decides
//! when broadcasts form a run). A run holds at most [`MAX_RUN_PACKETS`] packets.
//!
//! A full outbox: a run entry may take as many bytes as the recipient's outbox had room for when
//! the entry was queued, in whole broadcasts (an event is never cut from its attachments). The
//! broadcasts beyond that do not fit, as they would not have one by one: for that recipient,
//! volatile ones are dropped and counted, any other closes its session (see
//! [`EngineConfig::max_buffered_bytes`](super::EngineConfig::max_buffered_bytes)).

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::Str;
use super::packet::Packet;

/// The most packets a run holds.
pub(crate) const MAX_RUN_PACKETS: usize = 512;

/// One broadcast packet of a run: its text and its binary attachments. An empty text is no text
/// message (a binary-only packet, as the MessagePack parser's).
pub(crate) struct Unit {
    pub(crate) text: Str,
    pub(crate) attachments: Vec<Bytes>,
}

impl Unit {
    fn packets(&self) -> usize {
        usize::from(!self.text.is_empty()) + self.attachments.len()
    }

    /// The bytes it takes in an outbox: its text and attachments.
    fn bytes(&self) -> usize {
        self.text.len() + self.attachments.iter().map(Bytes::len).sum::<usize>()
    }
}

/// Consecutive broadcasts to the same recipients, queued as one outbox entry each of them
/// shares.
pub(crate) struct Run {
    state: Mutex<RunState>,
    volatile: bool,
}

struct RunState {
    units: Vec<Unit>,
    packets: usize,
    bytes: usize,
    /// Nothing more is appended.
    sealed: bool,
}

impl Run {
    pub(crate) fn new(unit: Unit, volatile: bool) -> Arc<Run> {
        Arc::new(Run {
            state: Mutex::new(RunState {
                packets: unit.packets(),
                bytes: unit.bytes(),
                units: vec![unit],
                sealed: false,
            }),
            volatile,
        })
    }

    fn lock(&self) -> MutexGuard<'_, RunState> {
        // Every critical section is one call that cannot leave the state half-updated.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends `unit`, unless the run is sealed or full: then gives it back.
    pub(crate) fn append(&self, unit: Unit) -> Result<(), Unit> {
        let mut state = self.lock();
        if state.sealed || state.packets + unit.packets() > MAX_RUN_PACKETS {
            state.sealed = true;
            return Err(unit);
        }
        state.packets += unit.packets();
        state.bytes += unit.bytes();
        state.units.push(unit);
        Ok(())
    }

    /// Whether the packets are volatile (dropped rather than queued when they do not fit).
    pub(crate) fn is_volatile(&self) -> bool {
        self.volatile
    }

    /// Whether its first broadcast fits in `room` bytes.
    pub(crate) fn first_fits(&self, room: usize) -> bool {
        self.lock()
            .units
            .first()
            .is_some_and(|unit| unit.bytes() <= room)
    }

    /// Seals the run; returns how many of its bytes, in whole broadcasts, fit in `limit`, and
    /// how many broadcasts do not.
    pub(crate) fn seal_within(&self, limit: usize) -> (usize, usize) {
        let mut state = self.lock();
        state.sealed = true;
        let (kept, bytes) = state.fit(limit);
        (bytes, state.units.len() - kept)
    }

    /// Seals the run and copies its packets, in whole broadcasts up to `limit` bytes, into
    /// `into`; returns how many broadcasts do not fit.
    pub(crate) fn drain_within(&self, limit: usize, into: &mut Vec<Packet>) -> usize {
        let mut state = self.lock();
        state.sealed = true;
        let (kept, _) = state.fit(limit);
        for unit in &state.units[..kept] {
            if !unit.text.is_empty() {
                into.push(Packet::Text(unit.text.clone()));
            }
            into.extend(unit.attachments.iter().cloned().map(Packet::Binary));
        }
        state.units.len() - kept
    }
}

impl RunState {
    /// How many of the first units, and how many bytes they make, fit in `limit` bytes.
    fn fit(&self, limit: usize) -> (usize, usize) {
        if self.bytes <= limit {
            return (self.units.len(), self.bytes);
        }
        let mut bytes = 0;
        for (kept, unit) in self.units.iter().enumerate() {
            if bytes + unit.bytes() > limit {
                return (kept, bytes);
            }
            bytes += unit.bytes();
        }
        (self.units.len(), bytes)
    }
}

#[cfg(test)]
impl Run {
    /// A run of one unit: `text` and `attachments` one-byte attachments.
    pub(crate) fn for_test(text: &'static str, attachments: usize) -> Arc<Run> {
        Run::new(Self::unit(text, attachments), false)
    }

    /// A volatile run of one unit.
    pub(crate) fn volatile_for_test(text: &'static str) -> Arc<Run> {
        Run::new(Self::unit(text, 0), true)
    }

    pub(crate) fn append_for_test(&self, text: &'static str, attachments: usize) -> bool {
        self.append(Self::unit(text, attachments)).is_ok()
    }

    fn unit(text: &'static str, attachments: usize) -> Unit {
        Unit {
            text: Str::from(text),
            attachments: vec![Bytes::from_static(&[7]); attachments],
        }
    }
}
