//! One Engine.IO session: the handle applications hold ([`Socket`]), its bounded outbox of
//! packets for the client, and the signals its driver task waits on.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use http::request::Parts;
use hyper::upgrade::OnUpgrade;

use bytes::Bytes;

use super::Str;
use super::config::Transport;
use super::message::Message;
use super::packet::{Packet, PacketType};
use super::run;
use super::signal::Signal;
use super::{ProtocolVersion, Sid};

/// Why a session ended. The names follow the Node server's close reasons.
///
/// ```
/// use std::sync::Arc;
/// use tower_socketio::engine::{DisconnectReason, EngineHandler, Message, Socket};
///
/// struct App;
///
/// impl EngineHandler for App {
///     type Data = ();
///     fn on_message(&self, _socket: &Arc<Socket>, _message: Message) {}
///     fn on_disconnect(&self, socket: Arc<Socket>, reason: DisconnectReason) {
///         if reason == DisconnectReason::PingTimeout {
///             tracing::info!(sid = %socket.id(), "the client stopped answering");
///         }
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client closed the connection or sent a `close` packet (Node: "transport close").
    TransportClose,
    /// The transport failed: an I/O error, an overlapping poll request, an oversize payload
    /// (Node: "transport error").
    TransportError,
    /// The client sent a packet that could not be decoded (Node: "parse error").
    ParseError,
    /// The client did not answer the heartbeat in time (Node: "ping timeout").
    PingTimeout,
    /// The application closed the session with [`Socket::close`] (Node: "forced close").
    ForcedClose,
    /// The server is shutting down (Node: "server shutting down").
    ServerShuttingDown,
}

impl DisconnectReason {
    /// The reason as the Node server words it (its `Display` too).
    ///
    /// ```
    /// use tower_socketio::engine::DisconnectReason;
    ///
    /// assert_eq!(DisconnectReason::ForcedClose.as_str(), "forced close");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ServerShuttingDown => "server shutting down",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`Socket::send`]; it gives the message back.
///
/// ```
/// use std::sync::Arc;
/// use tower_socketio::engine::{EngineHandler, Message, SendError, Socket};
///
/// struct Echo;
///
/// impl EngineHandler for Echo {
///     type Data = ();
///     fn on_message(&self, socket: &Arc<Socket>, message: Message) {
///         match socket.send(message) {
///             Ok(()) => {}
///             Err(SendError::Full(lost)) => tracing::warn!(bytes = lost.len(), "client too slow: closing"),
///             Err(SendError::Closed(_)) => {} // gone
///             Err(error) => tracing::warn!(%error),
///         }
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The message did not fit in the session's buffer
    /// ([`max_buffered_bytes`]): its client reads more slowly than the application sends.
    /// Nothing is dropped in silence: the session is being closed with
    /// [`DisconnectReason::TransportError`].
    ///
    /// [`max_buffered_bytes`]: crate::EngineConfig::max_buffered_bytes
    Full(Message),
    /// The session is closing or closed.
    Closed(Message),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Full(_) => {
                f.write_str("the session's send buffer is full: the session is being closed")
            }
            SendError::Closed(_) => f.write_str("the session is closed"),
        }
    }
}

impl std::error::Error for SendError {}

/// Why [`Socket::send_encoded`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EncodedSendError {
    /// Over the byte bound: the session is being closed.
    Full,
    Closed,
}

/// What the outbox holds: one packet, or a run of broadcast packets shared with other
/// sessions (see [`run`]), of which this session takes at most `limit` bytes.
enum Entry {
    One(Packet),
    Run { run: Arc<run::Run>, limit: usize },
}

/// The queue behind the outbox's lock.
#[derive(Default)]
struct Queue {
    entries: VecDeque<Entry>,
    /// Bytes queued. An open run counts as its limit until it is sealed.
    bytes: usize,
    /// The last entry is a run that may still grow.
    open: bool,
}

/// The outcome of queuing: whether the session's bound was passed by a packet that is not
/// volatile (then the session must close).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
enum Queued {
    Ok,
    Overflow,
}

impl Queued {
    /// `Overflow` if either is.
    fn or(self, other: Queued) -> Queued {
        if self == Queued::Overflow {
            self
        } else {
            other
        }
    }
}

impl Queue {
    /// Seals the open run, if any, before something else is queued after it; its count
    /// becomes what it holds. Broadcasts of the run past its limit are lost for this session:
    /// counted when volatile, an overflow otherwise.
    fn seal(&mut self, volatile_dropped: &AtomicU64) -> Queued {
        if !std::mem::take(&mut self.open) {
            return Queued::Ok;
        }
        let Some(Entry::Run { run, limit }) = self.entries.back_mut() else {
            return Queued::Ok;
        };
        let (kept, lost) = run.seal_within(*limit);
        self.bytes -= *limit - kept;
        *limit = kept;
        lost_units(run, lost, volatile_dropped)
    }

    fn push(&mut self, packet: Packet) {
        self.bytes += packet.len();
        self.entries.push_back(Entry::One(packet));
    }

    /// Pushes an encoded Socket.IO packet: its text message, then its binary ones. An empty
    /// text is no message: the packet is its binary messages alone (the MessagePack parser's).
    fn push_encoded(&mut self, text: Str, attachments: &[Bytes]) {
        if !text.is_empty() {
            self.push(Packet::Text(text));
        }
        for attachment in attachments {
            self.push(Packet::Binary(attachment.clone()));
        }
    }
}

/// Accounts for `lost` broadcasts of `run` that did not fit.
fn lost_units(run: &run::Run, lost: usize, volatile_dropped: &AtomicU64) -> Queued {
    if lost == 0 {
        Queued::Ok
    } else if run.is_volatile() {
        volatile_dropped.fetch_add(lost as u64, Ordering::Relaxed);
        Queued::Ok
    } else {
        Queued::Overflow
    }
}

/// The packets waiting for the client, bounded in bytes, with a wake-up for the one reader
/// (the pending GET poll, or the WebSocket writer).
pub(crate) struct Outbox {
    queue: Mutex<Queue>,
    /// Woken when packets arrive, and when a waiting poll must return early (upgrade).
    pub(crate) ready: Signal,
    capacity: usize,
    /// Volatile packets dropped because they did not fit.
    volatile_dropped: AtomicU64,
}

impl Outbox {
    fn new(capacity: usize) -> Self {
        Outbox {
            queue: Mutex::new(Queue::default()),
            ready: Signal::default(),
            capacity,
            volatile_dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // A panic cannot leave the queue half-updated: every critical section is one call.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Locks the queue, seals its open run, and lets `add` queue what it has: `Err(outcome)`
    /// when it queued nothing (then the reader is not woken). Returns the worse of the seal's
    /// outcome and `add`'s.
    fn queue_with(&self, add: impl FnOnce(&mut Queue) -> Result<(), Queued>) -> Queued {
        let sealed = {
            let mut queue = self.lock();
            let sealed = queue.seal(&self.volatile_dropped);
            if let Err(refused) = add(&mut queue) {
                return refused.or(sealed);
            }
            sealed
        };
        self.ready.notify();
        sealed
    }

    /// Whether `size` more bytes fit; when they do not, a volatile packet is dropped and
    /// counted (`Err(Ok)`), any other is an overflow.
    fn fits(&self, queue: &Queue, size: usize, volatile: bool) -> Result<(), Queued> {
        if queue.bytes + size <= self.capacity {
            Ok(())
        } else if volatile {
            self.volatile_dropped.fetch_add(1, Ordering::Relaxed);
            Err(Queued::Ok)
        } else {
            Err(Queued::Overflow)
        }
    }

    /// Queues an application packet, unless it does not fit.
    fn push(&self, packet: Packet) -> Queued {
        self.queue_with(|queue| {
            self.fits(queue, packet.len(), false)?;
            queue.push(packet);
            Ok(())
        })
    }

    /// Queues a text packet, its binary attachments and, with `pause`, a [`Packet::Pause`]
    /// together, so that nothing comes between them; all or none, as the capacity allows. A
    /// volatile packet that does not fit is dropped and counted.
    fn push_encoded(
        &self,
        text: Str,
        attachments: &[Bytes],
        pause: bool,
        volatile: bool,
    ) -> Queued {
        let size = text.len() + attachments.iter().map(Bytes::len).sum::<usize>();
        self.queue_with(|queue| {
            self.fits(queue, size, volatile)?;
            queue.push_encoded(text, attachments);
            if pause {
                queue.push(Packet::Pause);
            }
            Ok(())
        })
    }

    /// Queues a shared run of broadcast packets, open: it may grow until something else is
    /// queued or the queue is drained. It may take as many bytes as the queue has room for now;
    /// what is appended beyond that is lost for this session (see [`Queue::seal`]).
    fn push_run(&self, run: &Arc<run::Run>) -> Queued {
        self.queue_with(|queue| {
            let room = self.capacity.saturating_sub(queue.bytes);
            if !run.first_fits(room) {
                return Err(lost_units(run, 1, &self.volatile_dropped));
            }
            queue.entries.push_back(Entry::Run {
                run: run.clone(),
                limit: room,
            });
            queue.bytes += room;
            queue.open = true;
            Ok(())
        })
    }

    /// Queues a protocol packet (ping, pong, noop, close): always accepted, their number being
    /// bounded by the protocol itself.
    fn push_control(&self, packet: Packet) -> Queued {
        self.queue_with(|queue| {
            queue.push(packet);
            Ok(())
        })
    }

    /// Moves every queued packet into `into`, in order. A queue that grew for a burst gives
    /// its memory back, so that a burst does not leave every connection holding its peak.
    fn drain_into(&self, into: &mut Vec<Packet>) -> Queued {
        let mut outcome = Queued::Ok;
        let mut queue = self.lock();
        queue.open = false;
        for entry in queue.entries.drain(..) {
            match entry {
                Entry::One(packet) => into.push(packet),
                Entry::Run { run, limit } => {
                    let lost = run.drain_within(limit, into);
                    if lost_units(&run, lost, &self.volatile_dropped) == Queued::Overflow {
                        outcome = Queued::Overflow;
                    }
                }
            }
        }
        queue.bytes = 0;
        if queue.entries.capacity() > 128 {
            queue.entries.shrink_to(16);
        }
        outcome
    }

    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.lock().entries.is_empty()
    }

    /// Drops every queued packet and queues `last` alone.
    fn replace_all(&self, last: Packet) {
        {
            let mut queue = self.lock();
            // The session is over: what its open run would have lost does not matter.
            let _ = queue.seal(&self.volatile_dropped);
            queue.entries.clear();
            queue.bytes = 0;
            queue.push(last);
        }
        self.ready.notify();
    }
}

/// Which transport a session's packets travel on, and where an upgrade stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    Polling = 0,
    /// Polling, while a WebSocket answered the probe and the `upgrade` packet is awaited: a GET
    /// poll returns at once (with a `noop` when nothing is queued) so the client can switch.
    Upgrading = 1,
    WebSocket = 2,
}

/// How a close was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseKind {
    /// Deliver what is queued, then a `close` packet, then end.
    Graceful,
    /// End now; queued packets are dropped.
    Abort,
}

/// What the driver task is asked to do, set by request handlers and application calls.
#[derive(Default)]
pub(crate) struct Signals {
    pub(crate) close: Option<(DisconnectReason, CloseKind)>,
    pub(crate) upgrade: Option<OnUpgrade>,
    /// An upgrade was offered and has not failed: no other WebSocket is accepted.
    upgrade_busy: bool,
    /// A `pong` (v4) or any packet (v3) arrived over polling since the driver last looked.
    pub(crate) heartbeat: bool,
    /// The poll that carried the final `close` packet of a graceful close has been answered.
    pub(crate) close_delivered: bool,
    /// On polling: when the pong to the last ping is due, while it has not come.
    pong_due: Option<tokio::time::Instant>,
    /// A new time at which to call the handler's `on_deadline` (`Some(None)`: none any more).
    pub(crate) deadline: Option<Option<tokio::time::Instant>>,
}

/// A connected Engine.IO session, shared by the server and the application.
///
/// `D` is the data the [`EngineHandler`](super::EngineHandler) keeps per session.
///
/// A raw Engine.IO server that answers each text message in upper case, and a client made of
/// plain HTTP requests (Engine.IO v4 over long-polling) to show it:
///
/// ```
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use tower::ServiceExt;
/// use tower_socketio::EngineConfig;
/// use tower_socketio::engine::{EngineHandler, EngineIo, Message, Socket};
///
/// struct Upper;
///
/// impl EngineHandler for Upper {
///     type Data = ();
///     fn on_message(&self, socket: &Arc<Socket>, message: Message) {
///         if let Message::Text(text) = message {
///             let _ = socket.send(text.to_uppercase());
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let engine = EngineIo::new(EngineConfig::default().path("/engine.io/"), Upper);
/// let app = axum::Router::new().layer(engine.layer());
/// let call = |method: &str, uri: &str, body: &'static str| {
///     let request = http::Request::builder().method(method).uri(uri);
///     let app = app.clone();
///     let request = request.body(Full::new(Bytes::from_static(body.as_bytes()))).unwrap();
///     async move { app.oneshot(request).await.unwrap().into_body().collect().await.unwrap().to_bytes() }
/// };
///
/// // The handshake: `0{"sid":"...","pingInterval":...}`.
/// let open = call("GET", "/engine.io/?EIO=4&transport=polling", "").await;
/// let open: serde_json::Value = serde_json::from_slice(&open[1..]).unwrap();
/// let uri = format!("/engine.io/?EIO=4&transport=polling&sid={}", open["sid"].as_str().unwrap());
/// // A message (`4` is its packet type), and the answer.
/// call("POST", &uri, "4hello").await;
/// assert_eq!(call("GET", &uri, "").await, "4HELLO");
/// assert_eq!(engine.session_count(), 1);
/// # }
/// ```
pub struct Socket<D = ()> {
    id: Sid,
    protocol: ProtocolVersion,
    parts: Parts,
    phase: AtomicU8,
    /// Set once a close was asked for; no application packet is accepted after it.
    closing: AtomicBool,
    /// Set when the session was aborted: requests naming it are treated as for an unknown id.
    aborted: AtomicBool,
    pub(crate) outbox: Outbox,
    signals: Mutex<Signals>,
    /// Wakes the driver task when `signals` changed.
    pub(crate) wake: Signal,
    /// Held by the GET poll in progress, and for good by the driver once upgraded to WebSocket.
    /// It guards the poll's scratch list of packets, kept between polls (empty) so that a poll
    /// does not allocate one.
    pub(crate) poll_lock: tokio::sync::Mutex<Vec<Packet>>,
    /// Set while a POST is being handled.
    pub(crate) post_busy: AtomicBool,
    data: D,
}

impl<D> Socket<D> {
    pub(crate) fn new(
        id: Sid,
        protocol: ProtocolVersion,
        transport: Transport,
        parts: Parts,
        capacity: usize,
        data: D,
    ) -> Self {
        let phase = match transport {
            Transport::Polling => Phase::Polling,
            Transport::WebSocket => Phase::WebSocket,
        };
        Socket {
            id,
            protocol,
            parts,
            phase: AtomicU8::new(phase as u8),
            closing: AtomicBool::new(false),
            aborted: AtomicBool::new(false),
            outbox: Outbox::new(capacity),
            signals: Mutex::new(Signals::default()),
            wake: Signal::default(),
            poll_lock: tokio::sync::Mutex::new(Vec::new()),
            post_busy: AtomicBool::new(false),
            data,
        }
    }

    /// The session id.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// fn on_connect(&self, socket: Arc<Socket>) {
    ///     tracing::info!(sid = %socket.id(), "session open");
    /// }
    /// # fn on_message(&self, _: &Arc<Socket>, _: Message) {}
    /// # }
    /// ```
    pub fn id(&self) -> Sid {
        self.id
    }

    /// The Engine.IO protocol version the client speaks.
    ///
    /// ```
    /// # use tower_socketio::engine::ProtocolVersion;
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// fn on_connect(&self, socket: Arc<Socket>) {
    ///     if socket.protocol() == ProtocolVersion::V3 {
    ///         tracing::info!("an old client (Socket.IO 2.x)");
    ///     }
    /// }
    /// # fn on_message(&self, _: &Arc<Socket>, _: Message) {}
    /// # }
    /// ```
    pub fn protocol(&self) -> ProtocolVersion {
        self.protocol
    }

    /// The transport packets currently travel on (polling until an upgrade completes).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// fn on_message(&self, socket: &Arc<Socket>, _message: Message) {
    ///     tracing::debug!(transport = %socket.transport(), "message");
    /// }
    /// # }
    /// ```
    pub fn transport(&self) -> Transport {
        match self.phase() {
            Phase::WebSocket => Transport::WebSocket,
            Phase::Polling | Phase::Upgrading => Transport::Polling,
        }
    }

    /// The handshake request: method, URI (with the query), headers and extensions.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// fn on_connect(&self, socket: Arc<Socket>) {
    ///     let agent = socket.req_parts().headers.get("user-agent");
    ///     tracing::info!(?agent, uri = %socket.req_parts().uri, "session open");
    /// }
    /// # fn on_message(&self, _: &Arc<Socket>, _: Message) {}
    /// # }
    /// ```
    pub fn req_parts(&self) -> &Parts {
        &self.parts
    }

    /// The data the handler keeps for this session
    /// ([`EngineHandler::Data`](super::EngineHandler::Data), made with `Default`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use tower_socketio::engine::{EngineHandler, Message, Socket};
    ///
    /// struct Counter;
    ///
    /// impl EngineHandler for Counter {
    ///     type Data = AtomicU64; // messages received, per session
    ///     fn on_message(&self, socket: &Arc<Socket<AtomicU64>>, _message: Message) {
    ///         let n = socket.data().fetch_add(1, Ordering::Relaxed) + 1;
    ///         let _ = socket.send(n.to_string());
    ///     }
    /// }
    /// ```
    pub fn data(&self) -> &D {
        &self.data
    }

    /// Whether the session is open: no close has been asked for.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// fn on_connect(&self, socket: Arc<Socket>) {
    ///     tokio::spawn(async move {
    ///         while socket.is_connected() {
    ///             let _ = socket.send("tick");
    ///             tokio::time::sleep(Duration::from_secs(1)).await;
    ///         }
    ///     });
    /// }
    /// # fn on_message(&self, _: &Arc<Socket>, _: Message) {}
    /// # }
    /// ```
    pub fn is_connected(&self) -> bool {
        !self.closing.load(Ordering::Acquire)
    }

    /// Sends a message to the client.
    ///
    /// The message is queued and written by the session's transport in order with every other
    /// packet. Fails, giving the message back, when the session is closed, or when the message
    /// does not fit in its buffer (see
    /// [`EngineConfig::max_buffered_bytes`](crate::EngineConfig::max_buffered_bytes)): then the
    /// session is closed, as the client cannot keep up.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// fn on_connect(&self, socket: Arc<Socket>) {
    ///     let _ = socket.send("welcome"); // text
    ///     let _ = socket.send(vec![1u8, 2, 3]); // binary
    /// }
    /// # fn on_message(&self, _: &Arc<Socket>, _: Message) {}
    /// # }
    /// ```
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let message = message.into();
        if !self.is_connected() {
            return Err(SendError::Closed(message));
        }
        self.after(self.outbox.push(Packet::message(message.clone())))
            .map_err(|_| SendError::Full(message))
    }

    /// Queues already-encoded packets (a text frame, none when empty, and its binary
    /// attachments) together; with `pause`, followed by a [`Packet::Pause`]. A volatile packet
    /// that does not fit is dropped and counted; any other closes the session (see
    /// [`Socket::send`]).
    pub(crate) fn send_encoded(
        &self,
        text: super::Str,
        attachments: &[bytes::Bytes],
        pause: bool,
        volatile: bool,
    ) -> Result<(), EncodedSendError> {
        if !self.is_connected() {
            return Err(EncodedSendError::Closed);
        }
        self.after(self.outbox.push_encoded(text, attachments, pause, volatile))
    }

    /// Queues a backlog of already-encoded packets in order, whatever room is left: what a
    /// client missed, replayed at once when its session is recovered. It is bounded by whoever
    /// kept it (connection state recovery keeps a bounded log), and the packets queued after it
    /// find the buffer as full as it is.
    /// With `pause`, a [`Packet::Pause`] follows it.
    pub(crate) fn send_backlog<'a>(
        &self,
        packets: impl IntoIterator<Item = (super::Str, &'a [bytes::Bytes])>,
        pause: bool,
    ) -> Result<(), EncodedSendError> {
        if !self.is_connected() {
            return Err(EncodedSendError::Closed);
        }
        self.after(self.outbox.queue_with(|queue| {
            for (text, attachments) in packets {
                queue.push_encoded(text, attachments);
            }
            if pause {
                queue.push(Packet::Pause);
            }
            Ok(())
        }))
    }

    /// Queues a shared run of broadcast packets (see [`run`]).
    pub(crate) fn send_run(&self, run: &Arc<run::Run>) -> Result<(), EncodedSendError> {
        if !self.is_connected() {
            return Err(EncodedSendError::Closed);
        }
        self.after(self.outbox.push_run(run))
    }

    /// Queues a protocol packet (see [`Outbox::push_control`]).
    pub(crate) fn send_control(&self, packet: Packet) {
        let _ = self.after(self.outbox.push_control(packet));
    }

    /// Moves every queued packet into `into`, in order (for the transport that writes them).
    pub(crate) fn drain_outbox(&self, into: &mut Vec<Packet>) {
        let _ = self.after(self.outbox.drain_into(into));
    }

    /// Acts on the outcome of queuing: a session whose client cannot keep up is closed.
    fn after(&self, queued: Queued) -> Result<(), EncodedSendError> {
        match queued {
            Queued::Ok => Ok(()),
            Queued::Overflow => {
                if self.is_connected() {
                    tracing::warn!(
                        sid = %self.id,
                        max_buffered_bytes = self.outbox.capacity,
                        "client reads more slowly than the server sends: a packet does not fit in \
                         its send buffer, closing the session (transport error)"
                    );
                }
                self.request_close(DisconnectReason::TransportError, CloseKind::Abort);
                Err(EncodedSendError::Full)
            }
        }
    }

    /// How many volatile packets were dropped for this session because its buffer was full.
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo, socket: tower_socketio::SocketRef) {
    /// // A Socket.IO socket's connection, and how many volatile broadcasts it missed.
    /// if let Some(session) = io.engine().session(socket.engine_id()) {
    ///     tracing::info!(dropped = session.volatile_dropped(), "lagging client");
    /// }
    /// # }
    /// ```
    pub fn volatile_dropped(&self) -> u64 {
        self.outbox.volatile_dropped.load(Ordering::Relaxed)
    }

    /// Ends the session at once (a protocol violation seen above Engine.IO).
    pub(crate) fn abort(&self, reason: DisconnectReason) {
        self.request_close(reason, CloseKind::Abort);
    }

    /// Closes the session: what is queued is delivered, then the client gets a `close` packet.
    /// The handler's `on_disconnect` runs with [`DisconnectReason::ForcedClose`].
    ///
    /// Bounded whatever the client does: on WebSocket, what is queued gets at most a second to
    /// be written before the connection closes; on polling, the close packet waits for the
    /// client's next poll at most `ping_interval + ping_timeout`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// fn on_message(&self, socket: &Arc<Socket>, message: Message) {
    ///     if message == Message::from("bye") {
    ///         let _ = socket.send("see you");
    ///         socket.close(); // "see you" is delivered first
    ///     }
    /// }
    /// # }
    /// ```
    pub fn close(&self) {
        self.request_close(DisconnectReason::ForcedClose, CloseKind::Graceful);
    }

    pub(crate) fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Polling,
            1 => Phase::Upgrading,
            _ => Phase::WebSocket,
        }
    }

    pub(crate) fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }

    fn signals(&self) -> std::sync::MutexGuard<'_, Signals> {
        self.signals.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the driver to close the session. The first request wins.
    ///
    /// An abort drops what is queued and leaves one packet for a pending poll: a `noop` when the
    /// client itself closed (the Node server's answer), a `close` otherwise.
    pub(crate) fn request_close(&self, reason: DisconnectReason, kind: CloseKind) {
        if self.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        match kind {
            CloseKind::Graceful => {
                // Closing anyway: what a sealed run lost does not matter.
                let _ = self.outbox.push_control(Packet::bare(PacketType::Close));
            }
            CloseKind::Abort => {
                self.aborted.store(true, Ordering::Release);
                let last = if reason == DisconnectReason::TransportClose {
                    PacketType::Noop
                } else {
                    PacketType::Close
                };
                self.outbox.replace_all(Packet::bare(last));
            }
        }
        self.signals().close = Some((reason, kind));
        self.wake.notify();
    }

    /// Whether the client closed this session while on polling (a `close` packet, or the end
    /// of its connection): its last packet is a `noop` for a poll on its way.
    pub(crate) fn closed_by_client_poll(&self) -> bool {
        self.phase() != Phase::WebSocket
            && self.signals().close == Some((DisconnectReason::TransportClose, CloseKind::Abort))
    }

    /// Hands a WebSocket upgrade to the driver. Fails when one is already under way.
    pub(crate) fn offer_upgrade(&self, upgrade: OnUpgrade) -> Result<(), OnUpgrade> {
        let mut signals = self.signals();
        if signals.upgrade_busy || self.phase() != Phase::Polling || !self.is_connected() {
            return Err(upgrade);
        }
        signals.upgrade = Some(upgrade);
        signals.upgrade_busy = true;
        drop(signals);
        self.wake.notify();
        Ok(())
    }

    /// Records that an upgrade failed: the session stays on polling and may try again.
    pub(crate) fn upgrade_failed(&self) {
        self.set_phase(Phase::Polling);
        self.signals().upgrade_busy = false;
    }

    /// Tells the driver the client showed it is alive.
    pub(crate) fn heartbeat(&self) {
        let mut signals = self.signals();
        signals.heartbeat = true;
        signals.pong_due = None;
        drop(signals);
        self.wake.notify();
    }

    /// Records, on polling, when the pong to the ping just queued is due.
    pub(crate) fn set_pong_due(&self, due: tokio::time::Instant) {
        self.signals().pong_due = Some(due);
    }

    /// Whether the pong is overdue: a request that finds it so ends the session then, rather
    /// than whenever the driver's timer fires (a timer fires a little late, and a client that
    /// polls right at `ping_interval + ping_timeout` must find the session gone, as with Node).
    pub(crate) fn pong_overdue(&self) -> bool {
        // On WebSocket the driver reads the pongs itself.
        self.phase() != Phase::WebSocket
            && self
                .signals()
                .pong_due
                .is_some_and(|due| tokio::time::Instant::now() >= due)
    }

    /// Tells the driver the final `close` packet went out in a poll response.
    pub(crate) fn close_delivered(&self) {
        self.signals().close_delivered = true;
        self.wake.notify();
    }

    /// Takes the signals set since the driver last looked.
    pub(crate) fn take_signals(&self) -> Signals {
        let mut signals = self.signals();
        Signals {
            close: signals.close,
            upgrade: signals.upgrade.take(),
            upgrade_busy: signals.upgrade_busy,
            heartbeat: std::mem::take(&mut signals.heartbeat),
            close_delivered: signals.close_delivered,
            pong_due: signals.pong_due,
            deadline: signals.deadline.take(),
        }
    }

    /// Asks the session's driver to call [`EngineHandler::on_deadline`] for this session at
    /// `at`, replacing any earlier request. It costs no task: the session's own driver keeps
    /// the timer (the Socket.IO server times its connect timeout this way).
    ///
    /// [`EngineHandler::on_deadline`]: super::EngineHandler::on_deadline
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_socketio::engine::{EngineHandler, Message, Socket};
    ///
    /// /// Closes sessions that send nothing for a minute.
    /// struct IdleTimeout;
    ///
    /// impl EngineHandler for IdleTimeout {
    ///     type Data = ();
    ///     fn on_connect(&self, socket: Arc<Socket>) {
    ///         socket.set_deadline(tokio::time::Instant::now() + Duration::from_secs(60));
    ///     }
    ///     fn on_message(&self, socket: &Arc<Socket>, _message: Message) {
    ///         socket.set_deadline(tokio::time::Instant::now() + Duration::from_secs(60));
    ///     }
    ///     fn on_deadline(&self, socket: &Arc<Socket>) {
    ///         socket.close();
    ///     }
    /// }
    /// ```
    pub fn set_deadline(&self, at: tokio::time::Instant) {
        self.signals().deadline = Some(Some(at));
        self.wake.notify();
    }

    /// Withdraws the request of [`set_deadline`](Socket::set_deadline), if any: the timer is
    /// dropped and `on_deadline` is not called.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// fn on_connect(&self, socket: Arc<Socket>) {
    ///     // The client has 5 seconds to say hello...
    ///     socket.set_deadline(tokio::time::Instant::now() + Duration::from_secs(5));
    /// }
    /// fn on_message(&self, socket: &Arc<Socket>, message: Message) {
    ///     if message == Message::from("hello") {
    ///         socket.clear_deadline(); // ...and did.
    ///     }
    /// }
    /// fn on_deadline(&self, socket: &Arc<Socket>) {
    ///     socket.close();
    /// }
    /// # }
    /// ```
    pub fn clear_deadline(&self) {
        self.signals().deadline = Some(None);
        self.wake.notify();
    }
}

impl<D> fmt::Debug for Socket<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .field("protocol", &self.protocol)
            .field("transport", &self.transport())
            .field("connected", &self.is_connected())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(capacity: usize) -> Socket {
        let (parts, ()) = http::Request::new(()).into_parts();
        Socket::new(
            Sid::new(),
            ProtocolVersion::V4,
            Transport::Polling,
            parts,
            capacity,
            (),
        )
    }

    #[test]
    fn a_burst_does_not_leave_its_memory_behind() {
        let socket = socket(1 << 20);
        for _ in 0..1000 {
            socket
                .send_encoded(Str::from("42[\"tick\"]"), &[], false, false)
                .unwrap();
        }
        assert!(socket.outbox.lock().entries.capacity() >= 1000);
        assert_eq!(drain(&socket).len(), 1000);
        assert!(socket.outbox.lock().entries.capacity() <= 128);
    }

    fn drain(socket: &Socket) -> Vec<String> {
        let mut out = Vec::new();
        socket.drain_outbox(&mut out);
        out.into_iter()
            .map(|p| match p {
                Packet::Text(t) => t.to_string(),
                Packet::Binary(b) => format!("{b:?}"),
                Packet::Pause => "pause".into(),
            })
            .collect()
    }

    /// The close an overflow asks for.
    fn closed_by_overflow(s: &Socket) -> bool {
        !s.is_connected()
            && s.take_signals().close == Some((DisconnectReason::TransportError, CloseKind::Abort))
    }

    #[test]
    fn an_open_run_grows_until_something_else_is_queued() {
        let s = socket(100);
        let run = run::Run::for_test("4a", 0);
        s.send_run(&run).unwrap();
        assert!(run.append_for_test("4b", 0));
        assert!(run.append_for_test("4c", 0));
        // A direct send seals the run: it goes after, and the run takes no more.
        s.send("d").unwrap();
        assert!(!run.append_for_test("4x", 0));
        assert_eq!(drain(&s), ["4a", "4b", "4c", "4d"]);
        assert!(s.is_connected());
    }

    #[test]
    fn draining_seals_the_run() {
        let s = socket(100);
        let run = run::Run::for_test("4a", 0);
        s.send_run(&run).unwrap();
        assert_eq!(drain(&s), ["4a"]);
        assert!(!run.append_for_test("4b", 0));
        assert_eq!(drain(&s), Vec::<String>::new());
    }

    #[test]
    fn the_bound_counts_bytes() {
        // 10 bytes: "4aaaa" and "4bbbb" fit, one more byte does not.
        let s = socket(10);
        s.send("aaaa").unwrap();
        s.send("bbbb").unwrap();
        assert_eq!(s.send("c"), Err(SendError::Full(Message::from("c"))));
        assert!(closed_by_overflow(&s));
        // The abort left the close packet alone for a pending poll.
        assert_eq!(drain(&s), ["1"]);
    }

    #[test]
    fn control_packets_always_fit() {
        let s = socket(5);
        s.send("aaaa").unwrap();
        s.send_control(Packet::bare(PacketType::Ping));
        assert_eq!(drain(&s), ["4aaaa", "2"]);
        assert!(s.is_connected());
        s.send("d").unwrap();
    }

    #[test]
    fn a_run_past_the_bound_closes_the_session() {
        // Room for 4 bytes: the run takes "4a" and "4b"; "4c" does not fit.
        let s = socket(6);
        s.send("z").unwrap();
        let run = run::Run::for_test("4a", 0);
        s.send_run(&run).unwrap();
        assert!(run.append_for_test("4b", 0));
        assert!(run.append_for_test("4c", 0));
        assert!(s.is_connected());
        // The writer takes what fits and finds the rest lost: the session closes.
        let mut out = Vec::new();
        s.drain_outbox(&mut out);
        assert_eq!(out.len(), 3);
        assert!(closed_by_overflow(&s));
    }

    #[test]
    fn a_run_sealed_past_the_bound_closes_the_session() {
        let s = socket(6);
        let run = run::Run::for_test("4a", 0);
        s.send_run(&run).unwrap();
        for _ in 0..3 {
            assert!(run.append_for_test("4b", 0));
        }
        // Sealed by another packet: the lost broadcasts are found then.
        assert_eq!(s.send("x"), Err(SendError::Full(Message::from("x"))));
        assert!(closed_by_overflow(&s));
    }

    #[test]
    fn an_event_is_never_cut_from_its_attachments() {
        // An event with one attachment is 5 bytes ("451-" and one byte): with 4 bytes of room
        // it is refused whole.
        let s = socket(6);
        s.send("y").unwrap();
        let binary = run::Run::for_test("451-", 1);
        assert_eq!(s.send_run(&binary), Err(EncodedSendError::Full));
        assert!(closed_by_overflow(&s));
        // Closed: refused.
        assert_eq!(s.send_run(&binary), Err(EncodedSendError::Closed));
    }

    #[test]
    fn volatile_packets_that_do_not_fit_are_dropped_and_counted() {
        let s = socket(6);
        s.send("aaaa").unwrap();
        s.send_encoded(Str::from("4bb"), &[], false, true).unwrap();
        assert_eq!(s.volatile_dropped(), 1);
        let run = run::Run::volatile_for_test("4c");
        s.send_run(&run).unwrap();
        assert_eq!(s.volatile_dropped(), 2);
        let run = run::Run::volatile_for_test("4");
        s.send_run(&run).unwrap();
        assert!(run.append_for_test("4d", 0));
        assert_eq!(drain(&s), ["4aaaa", "4"]);
        assert_eq!(s.volatile_dropped(), 3);
        assert!(s.is_connected());
    }

    #[test]
    fn graceful_close_keeps_the_queue_and_refuses_new_sends() {
        let s = socket(8);
        s.send("a").unwrap();
        s.close();
        assert!(!s.is_connected());
        assert_eq!(s.send("b"), Err(SendError::Closed(Message::from("b"))));
        assert_eq!(drain(&s), ["4a", "1"]);
        assert!(!s.is_aborted());
    }

    #[test]
    fn abort_drops_the_queue() {
        let s = socket(8);
        s.send("a").unwrap();
        s.request_close(DisconnectReason::TransportClose, CloseKind::Abort);
        assert_eq!(drain(&s), ["6"]);
        assert!(s.is_aborted());
        // The first close wins.
        s.request_close(DisconnectReason::PingTimeout, CloseKind::Abort);
        assert_eq!(
            s.take_signals().close,
            Some((DisconnectReason::TransportClose, CloseKind::Abort))
        );
    }
}
