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
//! A full outbox: a run entry may take as many packets as the recipient's outbox had room for
//! when the entry was queued; the whole packets beyond that are dropped for that recipient (with
//! a warning unless the broadcast was volatile), as they would have been one by one.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::Str;
use super::packet::Packet;
use super::socket::EncodedSendError;

/// The most packets a run holds.
pub(crate) const MAX_RUN_PACKETS: usize = 512;

/// Where a broadcast's packets are queued: a Socket.IO socket over its session.
pub(crate) trait Recipient: Send + Sync {
    /// Queues one encoded packet (its text and binary attachments) now, all or none.
    fn send_now(&self, text: &Str, attachments: &[Bytes]) -> Result<(), EncodedSendError>;
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
    /// Nothing more is appended.
    sealed: bool,
}

impl Run {
    fn new(unit: Unit, volatile: bool) -> Arc<Run> {
        Arc::new(Run {
            state: Mutex::new(RunState {
                packets: unit.packets(),
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
        state.units.push(unit);
        Ok(())
    }

    /// Seals the run; returns how many of its packets, in whole units, fit in `limit`.
    pub(crate) fn seal_within(&self, limit: usize) -> usize {
        let mut state = self.lock();
        state.sealed = true;
        if state.packets <= limit {
            return state.packets;
        }
        let mut kept = 0;
        for unit in &state.units {
            if kept + unit.packets() > limit {
                break;
            }
            kept += unit.packets();
        }
        kept
    }

    /// Seals the run and copies its packets, in whole units up to `limit`, into `into`.
    pub(crate) fn drain_within(&self, limit: usize, into: &mut Vec<Packet>) {
        let mut state = self.lock();
        state.sealed = true;
        let mut kept = 0;
        let mut dropped = 0;
        for unit in &state.units {
            if dropped > 0 || kept + unit.packets() > limit {
                dropped += 1;
                continue;
            }
            kept += unit.packets();
            into.push(Packet::Text(unit.text.clone()));
            into.extend(unit.attachments.iter().cloned().map(Packet::Binary));
        }
        drop(state);
        if dropped > 0 && !self.volatile {
            tracing::warn!(
                packets = dropped,
                "broadcast not queued for a client whose buffer is full"
            );
        }
    }
}

#[cfg(test)]
impl Run {
    /// A run of one unit: `text` and `attachments` one-byte attachments.
    pub(crate) fn for_test(text: &'static str, attachments: usize) -> Arc<Run> {
        Run::new(Self::unit(text, attachments), false)
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
    /// The addresses of the recipients of the last broadcast queued at once, in order. Only
    /// compared, never followed: a broadcast to the same sockets starts a group.
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
    let mut full = 0usize;
    let unit = Unit { text, attachments };
    let mut send_now = |recipient: &dyn Recipient| {
        if let Err(EncodedSendError::Full) = recipient.send_now(&unit.text, &unit.attachments) {
            full += 1;
        }
    };
    if !ACTIVE.get() {
        walk(&mut |recipient| send_now(&**recipient));
    } else {
        // Taken out while the recipients are visited: queuing does not come back here.
        let mut batch = BATCH.take();
        let mut matched = 0usize;
        let mut matching = true;
        if let Some(group) = batch.group.take().filter(|g| g.run.volatile == volatile) {
            // Does this broadcast reach the group's recipients, in the same order?
            let mut group = Some(group);
            walk(&mut |recipient| {
                if matching {
                    let held = group.as_ref().expect("held while matching");
                    if held
                        .recipients
                        .get(matched)
                        .is_some_and(|r| address(r) == address(recipient))
                    {
                        matched += 1;
                        return;
                    }
                    matching = false;
                    let held = group.take().expect("held while matching");
                    for earlier in &held.recipients[..matched] {
                        send_now(&**earlier);
                        batch.last.push(address(earlier));
                    }
                }
                send_now(&**recipient);
                batch.last.push(address(recipient));
            });
            if let Some(held) = group {
                if matched == held.recipients.len() {
                    batch.group = Some(match held.run.append(unit) {
                        Ok(()) => held,
                        // Sealed (something else was queued for a recipient) or full.
                        Err(unit) => start(held.recipients, unit, volatile, &mut full),
                    });
                } else {
                    // The first `matched` of the group's recipients.
                    for earlier in &held.recipients[..matched] {
                        send_now(&**earlier);
                        batch.last.push(address(earlier));
                    }
                }
            }
        } else {
            // Does this broadcast reach the last one's recipients? If so, a run starts.
            let mut same: Vec<Arc<dyn Recipient>> = Vec::new();
            walk(&mut |recipient| {
                if matching {
                    if batch.last.get(matched) == Some(&address(recipient)) {
                        same.push(recipient.clone());
                        matched += 1;
                        return;
                    }
                    matching = false;
                    for earlier in same.drain(..) {
                        send_now(&*earlier);
                    }
                    batch.last.truncate(matched);
                }
                send_now(&**recipient);
                batch.last.push(address(recipient));
            });
            if matching {
                if matched > 0 && matched == batch.last.len() {
                    batch.last.clear();
                    batch.group = Some(start(same, unit, volatile, &mut full));
                } else {
                    for earlier in same.drain(..) {
                        send_now(&*earlier);
                    }
                    batch.last.truncate(matched);
                }
            }
        }
        BATCH.set(batch);
    }
    if full > 0 && !volatile {
        tracing::warn!(
            clients = full,
            "broadcast not queued for clients whose buffer is full"
        );
    }
}

/// Starts a run with `unit` and queues it for each of `recipients`.
fn start(
    recipients: Vec<Arc<dyn Recipient>>,
    unit: Unit,
    volatile: bool,
    full: &mut usize,
) -> Group {
    let run = Run::new(unit, volatile);
    for recipient in &recipients {
        if let Err(EncodedSendError::Full) = recipient.send_run(&run) {
            *full += 1;
        }
    }
    Group { recipients, run }
}
