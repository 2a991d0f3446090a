//! Broadcasts coalesced while a handler runs: shared runs of packets.
//!
//! A handler that emits many broadcasts to the same sockets before it awaits (a loop of
//! `io.emit`) would otherwise queue every packet in every recipient's outbox one at a time: a
//! lock, a wake-up and a queue slot per packet and recipient, each on another session's memory.
//! While a handler is polled (inside [`scope`]), the second broadcast in a row to the same
//! sockets, in the same order, starts a [`Run`] instead: one queue entry, shared by every
//! recipient, that the following broadcasts to the same sockets are appended to under one lock.
//! A run holds at most `engine::run::MAX_RUN_PACKETS` packets; then the next broadcast starts another.
//!
//! Nothing is reordered, whichever thread queues what. A run is *open* while it is the last
//! entry of a recipient's outbox; anything else queued for that recipient (a direct emit, an
//! ack, a close, from this thread or another) and the recipient's writer taking its packets
//! *seal* the run first, for every recipient. A broadcast finding its run sealed starts a new
//! one, queued after what sealed it. So each packet lands where it would have had it been
//! queued for every recipient at once.
//!
//! Outside a scope (an application task emitting on its own), every broadcast is queued at once.
//! What happens when a recipient's outbox is full: see `crate::engine::run`.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use bytes::Bytes;

use crate::engine::run::{Run, Unit};
use crate::engine::{EncodedSendError, Str};

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
        let (mut same, run) = match batch
            .group
            .take()
            .filter(|g| g.run.is_volatile() == volatile)
        {
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
