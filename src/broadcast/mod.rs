//! Broadcast operators: choose sockets (rooms, exceptions, this server only), then emit to them
//! or act on them, on the server, a namespace or a socket (Node: `io.to(...)`,
//! `socket.broadcast`, `io.fetchSockets()`...).

pub(crate) mod coalesce;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::adapter::{AdapterFuture, BroadcastOptions, IntoRooms};
use crate::engine::{self, EncodedSendError, Sid};
use crate::error::{AckError, BroadcastError, EmitError};
use crate::parser::encode_event;
use crate::socket::{Nsp, Socket, SocketRef};

/// Every targeted socket's answer to a broadcast with acknowledgement, with its id.
pub type AckAnswers<R> = Vec<(Sid, Result<R, AckError>)>;

/// A selection of sockets of one namespace, and what to do with them.
///
/// ```no_run
/// # fn f(io: tower_socketio::SocketIo, socket: tower_socketio::SocketRef) {
/// // Everyone in "lobby" or "games" but those in "muted":
/// let _ = io.to(["lobby", "games"]).except("muted").emit("news", "hello");
/// // Everyone in the sender's room but the sender:
/// let _ = socket.to("lobby").emit("message", "hi all");
/// # }
/// ```
#[derive(Clone)]
#[must_use = "a broadcast operator sends nothing until `emit` (or another operation) is called"]
pub struct BroadcastOperator {
    ns: Arc<dyn Nsp>,
    opts: BroadcastOptions,
    volatile: bool,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("ns", &self.ns.name())
            .field("opts", &self.opts)
            .field("volatile", &self.volatile)
            .finish()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<dyn Nsp>) -> Self {
        BroadcastOperator {
            ns,
            opts: BroadcastOptions::default(),
            volatile: false,
            timeout: None,
        }
    }

    /// Excludes one socket (the sender, for `socket.to(...)` and `socket.broadcast()`).
    pub(crate) fn excluding(mut self, sid: Sid) -> Self {
        self.opts.except.insert(sid.to_string());
        self
    }

    /// Targets the sockets in these rooms (added to the rooms already chosen) (Node: `to`).
    pub fn to(mut self, rooms: impl IntoRooms) -> Self {
        self.opts.rooms.extend(rooms.into_rooms());
        self
    }

    /// The same as [`to`](Self::to) (Node: `in`).
    pub fn within(self, rooms: impl IntoRooms) -> Self {
        self.to(rooms)
    }

    /// Leaves out the sockets in these rooms (Node: `except`).
    pub fn except(mut self, rooms: impl IntoRooms) -> Self {
        self.opts.except.extend(rooms.into_rooms());
        self
    }

    /// This server's sockets only, when an adapter spans several servers (Node: `local`).
    pub fn local(mut self) -> Self {
        self.opts.local = true;
        self
    }

    /// The packet may be dropped for clients that cannot take it now (their send buffer is
    /// full), silently (Node: `volatile`).
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Accepted for Node parity (`compress`); has no effect, the WebSocket engine having no
    /// per-message compression.
    pub fn compress(self, _compress: bool) -> Self {
        self
    }

    /// How long [`emit_with_ack`](Self::emit_with_ack) waits for the answers (default: the
    /// server's ack timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Emits `event` with `data` (the same argument rules as
    /// [`Socket::emit`](crate::Socket::emit)) to every targeted socket. The packet is encoded
    /// once and queued for this server's sockets before this returns; the returned [`Emitted`]
    /// can be dropped, or awaited to learn whether the other servers (if any) were reached.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Emitted {
        let packet = match encode_event(self.ns.name(), event, data, None) {
            Ok(packet) => packet,
            Err(error) => return Emitted::failed(error),
        };
        Emitted::pending(
            self.ns
                .adapter()
                .broadcast(packet, &self.opts, self.volatile),
        )
    }

    /// Emits `event` to every targeted socket of this server with an acknowledgement request,
    /// and collects every answer (or its error: timeout, disconnection) with the socket id.
    pub fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned + Send + 'static>(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<AckAnswers<R>, BroadcastError>> + Send + 'static {
        let id = self.ns.next_ack_id();
        let encoded = encode_event(self.ns.name(), event, data, Some(id));
        let targets = self.ns.adapter().local_targets(&self.opts);
        let sockets: Vec<SocketRef> = targets
            .into_iter()
            .filter_map(|sid| self.ns.socket(sid))
            .collect();
        let timeout = self.timeout.unwrap_or_else(|| self.ns.ack_timeout());
        let waits = encoded.map(|packet| {
            sockets
                .iter()
                .map(|socket| {
                    (
                        socket.id(),
                        socket.emit_packet_with_ack::<R>(&packet, id, timeout),
                    )
                })
                .collect::<Vec<_>>()
        });
        async move {
            let waits = waits.map_err(BroadcastError::Emit)?;
            let mut answers = Vec::with_capacity(waits.len());
            for (sid, wait) in waits {
                answers.push((sid, wait.await));
            }
            Ok(answers)
        }
    }

    /// The targeted sockets (Node: `fetchSockets`).
    pub fn fetch_sockets(&self) -> AdapterFuture<Vec<SocketRef>> {
        let found = self
            .ns
            .adapter()
            .local_targets(&self.opts)
            .into_iter()
            .filter_map(|sid| self.ns.socket(sid))
            .collect();
        Box::pin(std::future::ready(Ok(found)))
    }

    /// Makes the targeted sockets join `rooms` (Node: `socketsJoin`).
    pub fn sockets_join(&self, rooms: impl IntoRooms) -> AdapterFuture<()> {
        self.ns
            .adapter()
            .add_sockets(&self.opts, &rooms.into_rooms())
    }

    /// Makes the targeted sockets leave `rooms` (Node: `socketsLeave`).
    pub fn sockets_leave(&self, rooms: impl IntoRooms) -> AdapterFuture<()> {
        self.ns
            .adapter()
            .del_sockets(&self.opts, &rooms.into_rooms())
    }

    /// Disconnects the targeted sockets; with `close`, their whole connections (Node:
    /// `disconnectSockets`).
    pub fn disconnect_sockets(&self, close: bool) -> AdapterFuture<()> {
        self.ns.adapter().disconnect_sockets(&self.opts, close)
    }
}

/// Broadcasting from a socket (these methods of [`Socket`] live here, with the operator they
/// make).
impl Socket {
    /// Targets the sockets in `rooms`, this one excepted (Node: `socket.to(room)`).
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// The same as [`to`](Self::to) (Node: `socket.in(room)`).
    pub fn within(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.to(rooms)
    }

    /// Targets every socket of the namespace, this one included (Node: `socket.nsp`, whose
    /// name is [`ns`](Self::ns)).
    pub fn nsp(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.nsp_ref().clone())
    }

    /// Targets every socket of the namespace but this one (Node: `socket.broadcast`).
    pub fn broadcast(&self) -> BroadcastOperator {
        self.nsp().excluding(self.id())
    }
}

/// Broadcasts reach a socket while it is connected to its namespace.
impl coalesce::Recipient for Socket {
    fn send_now(
        &self,
        text: &engine::Str,
        attachments: &[bytes::Bytes],
        volatile: bool,
    ) -> Result<(), EncodedSendError> {
        self.send_encoded(text, attachments, volatile)
    }

    fn send_run(&self, run: &Arc<engine::run::Run>) -> Result<(), EncodedSendError> {
        if !self.is_connected() {
            return Err(EncodedSendError::Closed);
        }
        self.engine.send_run(run)
    }
}

/// What [`BroadcastOperator::emit`] returns: this server's sockets already have the packet
/// queued; `.await` it to know whether the other servers (with a multi-server adapter) were
/// reached, or drop it.
pub struct Emitted {
    inner: Result<AdapterFuture<()>, EmitError>,
}

impl Emitted {
    fn failed(error: EmitError) -> Self {
        Emitted { inner: Err(error) }
    }

    fn pending(future: AdapterFuture<()>) -> Self {
        Emitted { inner: Ok(future) }
    }

    /// Whether encoding succeeded (the packet was queued for this server's sockets).
    pub fn is_ok(&self) -> bool {
        self.inner.is_ok()
    }
}

impl std::fmt::Debug for Emitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitted")
            .field("ok", &self.is_ok())
            .finish()
    }
}

impl std::future::IntoFuture for Emitted {
    type Output = Result<(), BroadcastError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        match self.inner {
            Ok(future) => Box::pin(async move { future.await.map_err(BroadcastError::Adapter) }),
            Err(error) => Box::pin(std::future::ready(Err(BroadcastError::Emit(error)))),
        }
    }
}
