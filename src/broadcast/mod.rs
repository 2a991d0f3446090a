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

mod remote;

use crate::adapter::{AdapterFuture, Answers, BroadcastOptions, Gathered, IntoRooms};
use crate::engine::{self, EncodedSendError, Sid};
use crate::error::{AckError, BroadcastError, EmitError};
use crate::parser::encode_event;
use crate::socket::{Nsp, Socket};
use crate::value::Value;

pub use remote::RemoteSocket;

/// What a broadcast with acknowledgement (or a server-side emit with answers) got back, from
/// every server.
#[derive(Debug)]
#[non_exhaustive]
pub struct AckAnswers<R> {
    /// Each answer that arrived in time, in arrival order; one that does not deserialize into
    /// `R` is an error.
    pub answers: Vec<Result<R, AckError>>,
    /// How many answers were expected: the clients the packet reached on the servers that
    /// reported in time (for a server-side emit, the other servers).
    pub expected: usize,
    /// Whether everything expected arrived in time. When not, Node fails the operation ("operation
    /// has timed out") with the answers that came.
    pub complete: bool,
}

impl<R: DeserializeOwned> AckAnswers<R> {
    fn read(gathered: Gathered) -> Self {
        AckAnswers {
            answers: gathered
                .answers
                .into_iter()
                .map(|answer| answer.deserialize_into().map_err(AckError::Deserialize))
                .collect(),
            expected: gathered.expected,
            complete: gathered.complete,
        }
    }
}

/// The arguments `data` makes after the event name `event`, as `emit` lays them out.
fn encode_args_values<T: Serialize + ?Sized>(
    event: &str,
    data: &T,
) -> Result<Vec<Value>, EmitError> {
    crate::parser::event_args(event, data)
}

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
}

impl std::fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("ns", &self.ns.name())
            .field("opts", &self.opts)
            .finish()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<dyn Nsp>) -> Self {
        BroadcastOperator {
            ns,
            opts: BroadcastOptions::default(),
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
        self.opts.volatile = true;
        self
    }

    /// Accepted for Node parity (`compress`), and carried to other servers; has no effect
    /// here, the WebSocket engine having no per-message compression.
    pub fn compress(mut self, compress: bool) -> Self {
        self.opts.compress = compress;
        self
    }

    /// How long [`emit_with_ack`](Self::emit_with_ack) and
    /// [`server_side_emit_with_ack`](Self::server_side_emit_with_ack) wait for the answers
    /// (default: the server's ack timeout, 5 s) (Node: `timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.timeout = Some(timeout);
        self
    }

    fn ack_timeout(&self) -> Duration {
        self.opts.timeout.unwrap_or_else(|| self.ns.ack_timeout())
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
        Emitted::pending(self.ns.adapter().broadcast(packet, &self.opts))
    }

    /// Emits `event` to every targeted socket, on every server, with an acknowledgement
    /// request, and gathers the answers (each client's first argument, as Node relays them)
    /// until every targeted client answered or the [timeout](Self::timeout) passed. The packet
    /// is queued for this server's sockets before this returns.
    ///
    /// ```no_run
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// use std::time::Duration;
    ///
    /// let answers = io
    ///     .to("voters")
    ///     .timeout(Duration::from_secs(3))
    ///     .emit_with_ack::<_, bool>("vote?", "lunch at noon")
    ///     .await
    ///     .unwrap();
    /// let yes = answers.answers.iter().filter(|a| matches!(a, Ok(true))).count();
    /// if !answers.complete {
    ///     // Node: "operation has timed out"; `yes` counts the answers that came.
    /// }
    /// # let _ = yes;
    /// # }
    /// ```
    pub fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned + Send + 'static>(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<AckAnswers<R>, BroadcastError>> + Send + 'static + use<T, R>
    {
        let answers = Answers::new();
        let sent = encode_event(self.ns.name(), event, data, None).map(|packet| {
            self.ns
                .adapter()
                .broadcast_with_ack(packet, &self.opts, answers.clone())
        });
        let timeout = self.ack_timeout();
        async move {
            sent.map_err(BroadcastError::Emit)?
                .await
                .map_err(BroadcastError::Adapter)?;
            Ok(AckAnswers::read(answers.gathered(timeout).await))
        }
    }

    /// Emits server-side event `event` with `data` (the same argument rules as
    /// [`Socket::emit`](crate::Socket::emit)) to this namespace on the other servers of the
    /// cluster, whose handler is [`Namespace::on_server_event`](crate::Namespace::on_server_event)
    /// (Node: `serverSideEmit`). This server's handler does not get it; alone, nobody does.
    pub fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<(), BroadcastError>> + Send + 'static + use<T> {
        let sent = encode_args_values(event, data)
            .map(|args| self.ns.adapter().server_side_emit(event, args, None));
        async move {
            sent.map_err(BroadcastError::Emit)?
                .await
                .map_err(BroadcastError::Adapter)
        }
    }

    /// [`server_side_emit`](Self::server_side_emit), gathering each other server's answer until
    /// all answered or the [timeout](Self::timeout) passed (Node: `serverSideEmit` with a
    /// callback).
    pub fn server_side_emit_with_ack<
        T: Serialize + ?Sized,
        R: DeserializeOwned + Send + 'static,
    >(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<AckAnswers<R>, BroadcastError>> + Send + 'static + use<T, R>
    {
        let answers = Answers::new();
        let sent = encode_args_values(event, data).map(|args| {
            self.ns
                .adapter()
                .server_side_emit(event, args, Some(answers.clone()))
        });
        let timeout = self.ack_timeout();
        async move {
            sent.map_err(BroadcastError::Emit)?
                .await
                .map_err(BroadcastError::Adapter)?;
            Ok(AckAnswers::read(answers.gathered(timeout).await))
        }
    }

    /// How many servers share this namespace, this one included (Node: `serverCount`).
    pub fn server_count(&self) -> AdapterFuture<usize> {
        self.ns.adapter().server_count()
    }

    /// The targeted sockets, on every server (Node: `fetchSockets`).
    pub fn fetch_sockets(
        &self,
    ) -> impl Future<Output = Result<Vec<RemoteSocket>, BroadcastError>> + Send + 'static + use<>
    {
        let found = self.ns.adapter().fetch_sockets(&self.opts);
        let ns = self.ns.clone();
        async move {
            let found = found.await.map_err(BroadcastError::Adapter)?;
            Ok(found
                .into_iter()
                .map(|info| RemoteSocket::new(info, ns.clone()))
                .collect())
        }
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

    /// Disconnects the targeted sockets (their clients get a DISCONNECT packet: "io server
    /// disconnect"); with `close`, every namespace of their connections too, and the connections
    /// close (Node: `disconnectSockets(close)`, [`Socket::disconnect_client`]).
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
