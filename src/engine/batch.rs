//! Broadcasts coalesced while a handler runs.
//!
//! A handler that emits many broadcasts to the same sockets before it awaits (a loop of
//! `io.emit`) would otherwise queue every packet in every recipient's outbox one at a time: a
//! lock, a wake-up and a queue slot per packet and recipient, each on another session's memory.
//! While a handler is polled (inside [`scope`]), consecutive broadcasts that reach the same
//! sockets in the same order are held as one group instead. The group is then queued as one
//! run of packets shared by every recipient (`Arc<[Packet]>`): one lock, one wake-up and one
//! queue slot per recipient for the whole run.
//!
//! Nothing is reordered. The held group is queued:
//! - before anything else is queued on this thread: every outbox push and every close calls
//!   [`flush_pending`] first;
//! - before a broadcast to other sockets;
//! - once it holds [`MAX_GROUP_PACKETS`] packets, which bounds what a loop of broadcasts holds
//!   back;
//! - when the handler's poll returns, before the scope ends.
//!
//! Outside a scope (an application task emitting on its own), a broadcast is queued at once.
//! A recipient whose outbox has no room for the whole run gets, one at a time, the packets that
//! fit, as if they had been queued at once; what does not fit is dropped for it, as a full
//! outbox drops any broadcast, with a warning unless the broadcast was volatile.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use bytes::Bytes;

use super::Str;
use super::packet::Packet;
use super::socket::EncodedSendError;

/// The most packets a group holds before it is queued.
pub(crate) const MAX_GROUP_PACKETS: usize = 512;

/// Where a broadcast's packets are queued: a Socket.IO socket over its session.
pub(crate) trait Recipient: Send + Sync {
    /// Queues one encoded packet (its text and binary attachments) now, all or none.
    fn send_now(&self, text: &Str, attachments: &[Bytes]) -> Result<(), EncodedSendError>;
    /// Queues a run of whole encoded packets now, all or none.
    fn send_run(&self, packets: &Arc<[Packet]>) -> Result<(), EncodedSendError>;
}

/// One broadcast packet held in a group.
struct Unit {
    text: Str,
    attachments: Vec<Bytes>,
}

/// Consecutive broadcasts to the same recipients, not queued yet.
struct Group {
    recipients: Vec<Arc<dyn Recipient>>,
    units: Vec<Unit>,
    /// Packets in `units`, attachments included.
    packets: usize,
    volatile: bool,
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
    /// `BATCH` holds a group.
    static PENDING: Cell<bool> = const { Cell::new(false) };
    static BATCH: RefCell<Batch> = RefCell::new(Batch::default());
}

/// Runs `f` (a poll of a handler's future) with broadcasts coalesced; what it held back is
/// queued before this returns, even if `f` panics. Nested scopes are part of the outer one.
pub(crate) fn scope<R>(f: impl FnOnce() -> R) -> R {
    if ACTIVE.get() {
        return f();
    }
    struct End;
    impl Drop for End {
        fn drop(&mut self) {
            flush_pending();
            BATCH.with_borrow_mut(|batch| {
                batch.last.clear();
                if batch.last.capacity() > 4096 {
                    batch.last.shrink_to(64);
                }
            });
            ACTIVE.set(false);
        }
    }
    ACTIVE.set(true);
    let _end = End;
    f()
}

/// Queues the group this thread holds, if any. Cheap when there is none.
#[inline]
pub(crate) fn flush_pending() {
    if PENDING.get() {
        flush();
    }
}

#[cold]
fn flush() {
    PENDING.set(false);
    if let Some(group) = BATCH.with_borrow_mut(|batch| batch.group.take()) {
        deliver(&group);
    }
}

/// Queues `group` for each of its recipients.
fn deliver(group: &Group) {
    let mut run = Vec::with_capacity(group.packets);
    for unit in &group.units {
        run.push(Packet::Text(unit.text.clone()));
        run.extend(unit.attachments.iter().cloned().map(Packet::Binary));
    }
    let run: Arc<[Packet]> = run.into();
    let mut full = 0usize;
    for recipient in &group.recipients {
        match recipient.send_run(&run) {
            Ok(()) | Err(EncodedSendError::Closed) => {}
            Err(EncodedSendError::Full) => {
                // What fits, in order, as queuing each packet at once would have.
                full += 1;
                for unit in &group.units {
                    if recipient.send_now(&unit.text, &unit.attachments).is_err() {
                        break;
                    }
                }
            }
        }
    }
    warn_full(full, group.volatile);
}

fn warn_full(clients: usize, volatile: bool) {
    if clients > 0 && !volatile {
        tracing::warn!(
            clients,
            "broadcast not queued for clients whose buffer is full"
        );
    }
}

fn address<T: ?Sized>(recipient: &Arc<T>) -> *const () {
    Arc::as_ptr(recipient) as *const ()
}

/// Queues one broadcast packet for every recipient `walk` visits, in its order: at once, or,
/// inside a [`scope`], possibly as part of a group (see the module documentation).
pub(crate) fn broadcast<T: Recipient + 'static>(
    text: Str,
    attachments: Vec<Bytes>,
    volatile: bool,
    walk: impl FnOnce(&mut dyn FnMut(&Arc<T>)),
) {
    let mut full = 0usize;
    let mut send_now = |recipient: &dyn Recipient| {
        if let Err(EncodedSendError::Full) = recipient.send_now(&text, &attachments) {
            full += 1;
        }
    };
    if !ACTIVE.get() {
        walk(&mut |recipient| send_now(&**recipient));
        warn_full(full, volatile);
        return;
    }
    // Taken out while recipients are visited: nothing is pending meanwhile, as the group is
    // queued before any packet is queued at once.
    let mut batch = BATCH.take();
    PENDING.set(false);
    if let Some(group) = batch.group.take_if(|group| group.volatile != volatile) {
        deliver(&group);
        batch.last.clear();
        batch.last.extend(group.recipients.iter().map(address));
    }
    let mut matched = 0usize;
    let mut matching = true;
    if let Some(group) = batch.group.take() {
        // Does this broadcast reach the group's recipients?
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
                deliver(&held);
                batch.last.clear();
                for earlier in &held.recipients[..matched] {
                    send_now(&**earlier);
                    batch.last.push(address(earlier));
                }
            }
            send_now(&**recipient);
            batch.last.push(address(recipient));
        });
        if let Some(mut held) = group {
            if matched == held.recipients.len() {
                held.packets += 1 + attachments.len();
                held.units.push(Unit { text, attachments });
                if held.packets >= MAX_GROUP_PACKETS {
                    deliver(&held);
                    batch.last.clear();
                    batch.last.extend(held.recipients.iter().map(address));
                } else {
                    batch.group = Some(held);
                }
            } else {
                // Fewer recipients: the first `matched` of the group's.
                deliver(&held);
                batch.last.clear();
                for earlier in &held.recipients[..matched] {
                    send_now(&**earlier);
                    batch.last.push(address(earlier));
                }
            }
        }
    } else {
        // Does this broadcast reach the last one's recipients? If so, a group starts.
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
                batch.group = Some(Group {
                    recipients: same,
                    packets: 1 + attachments.len(),
                    units: vec![Unit { text, attachments }],
                    volatile,
                });
            } else {
                for earlier in same.drain(..) {
                    send_now(&*earlier);
                }
                batch.last.truncate(matched);
            }
        }
    }
    PENDING.set(batch.group.is_some());
    BATCH.set(batch);
    warn_full(full, volatile);
}
