//! Broadcasts coalesced while a handler runs: shared runs of packets.
//!
//! A handler that emits many broadcasts to the same sockets before it awaits (a loop of
//! `io.emit`) would otherwise queue every packet in every recipient's outbox one at a time: a
//! lock, a wake-up and a queue slot per packet and recipient, each on another session's memory.
//! While a handler is polled (inside [`scope`]), the second broadcast in a row to the same
//! sockets, in the same order, starts a [`Run`] instead: one queue entry, shared by every
//! recipient, that the following broadcasts to the same sockets are appended to under one lock.
//! A run holds at most [`MAX_RUN_PACKETS`] packets; then the next broadcast starts another.
//!
//! Nothing is reordered, whichever thread queues what. A run is *open* while it is the last
//! entry of a recipient's outbox; anything else queued for that recipient (a direct emit, an
//! ack, a close, from this thread or another) and the recipient's writer taking its packets
//! *seal* the run first, for every recipient. A broadcast finding its run sealed starts a new
//! one, queued after what sealed it. So each packet lands where it would have had it been
//! queued for every recipient at once.
//!
//! Outside a scope (an application task emitting on its own), every broadcast is queued at once.
//!
//! A full outbox: a run entry may take as many bytes as the recipient's outbox had room for when
//! the entry was queued, in whole broadcasts (an event is never cut from its attachments). The
//! broadcasts beyond that do not fit, as they would not have one by one: for that recipient,
//! volatile ones are dropped and counted, any other closes its session (see
//! [`EngineConfig::max_buffered_bytes`](crate::EngineConfig::max_buffered_bytes)).

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::Str;
use super::packet::Packet;
use super::socket::EncodedSendError;

/// The most packets a run holds.
pub(crate) const MAX_RUN_PACKETS: usize = 512;

/// Where a broadcast's packets are queued: a Socket.IO socket over its session. A packet that
/// does not fit in the session's buffer closes the session, unless it is volatile (then it is
/// dropped and counted): the result only says what happened.
pub(crate) trait Recipient: Send + Sync {
    /// Queues one encoded packet (its text and binary attachments) now, all or none.
    fn send_now(
        &self,
        text: &Str,
        attachments: &[Bytes],
        volatile: bool,
    ) -> Result<(), EncodedSendError>;
    /// Queues `run` as the last entry of the recipient's outbox.
    fn send_run(&self, run: &Arc<Run>) -> Result<(), EncodedSendError>;
}

/// One broadcast packet of a run: its text and its binary attachments.
struct Unit {
    text: Str,
    attachments: Vec<Bytes>,
}

impl Unit {
    fn packets(&self) -> usize {
        1 + self.attachments.len()
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
    fn new(unit: Unit, volatile: bool) -> Arc<Run> {
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
    fn append(&self, unit: Unit) -> Result<(), Unit> {
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
            into.push(Packet::Text(unit.text.clone()));
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

/// The run this thread appends to, and its recipients.
struct Group {
    recipients: Vec<Arc<dyn Recipient>>,
    run: Arc<Run>,
}

#[derive(Default)]
struct Batch {
    group: Option<Group>,
    /// The addresses of the last broadcast's recipients, in order (the group's, if any). Only
    /// compared, never followed: a broadcast to the same sockets appends to the group's run, or
    /// starts one.
    last: Vec<*const ()>,
}

thread_local! {
    /// A handler is being polled on this thread.
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static BATCH: RefCell<Batch> = RefCell::new(Batch::default());
}

/// Runs `f` (a poll of a handler's future) with broadcasts coalesced. Nested scopes are part of
/// the outer one.
pub(crate) fn scope<R>(f: impl FnOnce() -> R) -> R {
    if ACTIVE.get() {
        return f();
    }
    struct End;
    impl Drop for End {
        fn drop(&mut self) {
            // What was appended is queued already: only this thread's references go.
            let batch = BATCH.take();
            ACTIVE.set(false);
            drop(batch);
        }
    }
    ACTIVE.set(true);
    let _end = End;
    f()
}

fn address<T: ?Sized>(recipient: &Arc<T>) -> *const () {
    Arc::as_ptr(recipient) as *const ()
}

/// Queues one broadcast packet for every recipient `walk` visits, in its order: at once, or,
/// inside a [`scope`], possibly in a shared run (see the module documentation).
pub(crate) fn broadcast<T: Recipient + 'static>(
    text: Str,
    attachments: Vec<Bytes>,
    volatile: bool,
    walk: impl FnOnce(&mut dyn FnMut(&Arc<T>)),
) {
    let unit = Unit { text, attachments };
    if !ACTIVE.get() {
        walk(&mut |recipient| send(&**recipient, &unit, volatile));
    } else {
        // Taken out while the recipients are visited: queuing does not come back here.
        let mut batch = BATCH.take();
        // A run holds broadcasts of one kind only.
        let (mut same, run) = match batch.group.take().filter(|g| g.run.volatile == volatile) {
            Some(group) => (group.recipients, Some(group.run)),
            None => (Vec::new(), None),
        };
        // Does this broadcast reach the last one's recipients, in the same order? `same` holds
        // them, owned: the group's already, or gathered on the way to start one.
        let mut matched = 0usize;
        let mut matching = true;
        walk(&mut |recipient| {
            if matching {
                if batch.last.get(matched) == Some(&address(recipient)) {
                    if run.is_none() {
                        same.push(recipient.clone());
                    }
                    matched += 1;
                    return;
                }
                matching = false;
                send_all(&same[..matched], &unit, volatile);
                batch.last.truncate(matched);
            }
            send(&**recipient, &unit, volatile);
            batch.last.push(address(recipient));
        });
        if matching && matched > 0 && matched == batch.last.len() {
            // The same recipients: the packet joins the group's run, or starts a new one
            // if there is none, or if it is sealed (something else was queued for a
            // recipient) or full.
            batch.group = Some(match run {
                Some(run) => match run.append(unit) {
                    Ok(()) => Group {
                        recipients: same,
                        run,
                    },
                    Err(unit) => start(same, unit, volatile),
                },
                None => start(same, unit, volatile),
            });
        } else if matching {
            // The first `matched` of the last broadcast's recipients.
            send_all(&same[..matched], &unit, volatile);
            batch.last.truncate(matched);
        }
        BATCH.set(batch);
    }
}

/// Queues `unit` for `recipient` now. A recipient it does not fit is closed by its session,
/// or, volatile, counts it as dropped (see [`Recipient`]).
fn send(recipient: &dyn Recipient, unit: &Unit, volatile: bool) {
    let _ = recipient.send_now(&unit.text, &unit.attachments, volatile);
}

fn send_all(recipients: &[Arc<dyn Recipient>], unit: &Unit, volatile: bool) {
    for recipient in recipients {
        send(&**recipient, unit, volatile);
    }
}

/// Starts a run with `unit` and queues it for each of `recipients`.
fn start(recipients: Vec<Arc<dyn Recipient>>, unit: Unit, volatile: bool) -> Group {
    let run = Run::new(unit, volatile);
    for recipient in &recipients {
        let _ = recipient.send_run(&run);
    }
    Group { recipients, run }
}
