//! A Socket.IO socket: one client connected to one namespace. Emitting, acknowledgements both
//! ways, per-socket data, disconnection.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use crate::adapter::{EncodedPacket, Room};
use crate::broadcast::{BroadcastOperator, IntoRooms};
use crate::engine::config::Transport;
use crate::engine::{self, EncodedSendError, Sid};
use crate::ns::{NameMap, NsCore};
use crate::parser::{self, RawPacket};
use crate::value::Value;

/// Event names a server may not emit: the client reserves them for its own events.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Why a socket left its namespace. The names are the Node server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server disconnected the socket ([`Socket::disconnect`]) (Node: "server namespace
    /// disconnect").
    ServerNamespaceDisconnect,
    /// The client disconnected the socket (Node: "client namespace disconnect").
    ClientNamespaceDisconnect,
    /// The server is shutting down (Node: "server shutting down").
    ServerShuttingDown,
    /// The client did not answer the heartbeat (Node: "ping timeout").
    PingTimeout,
    /// The connection was closed by the client or lost (Node: "transport close").
    TransportClose,
    /// The connection failed (Node: "transport error").
    TransportError,
    /// The client sent a packet that could not be decoded (Node: "parse error").
    ParseError,
    /// The server closed the underlying connection (Node: "forced close").
    ForcedClose,
}

impl DisconnectReason {
    /// The reason as the Node server words it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
        }
    }
}

impl From<engine::DisconnectReason> for DisconnectReason {
    fn from(reason: engine::DisconnectReason) -> Self {
        match reason {
            engine::DisconnectReason::TransportClose => DisconnectReason::TransportClose,
            engine::DisconnectReason::TransportError => DisconnectReason::TransportError,
            engine::DisconnectReason::ParseError => DisconnectReason::ParseError,
            engine::DisconnectReason::PingTimeout => DisconnectReason::PingTimeout,
            engine::DisconnectReason::ForcedClose => DisconnectReason::ForcedClose,
            engine::DisconnectReason::ServerShuttingDown => DisconnectReason::ServerShuttingDown,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an emit failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum EmitError {
    /// The event name is reserved ([`RESERVED_EVENTS`]).
    ReservedEvent(String),
    /// The data could not be serialized.
    Serialize(serde_json::Error),
    /// The packet did not fit in the client's send buffer: it reads more slowly than the
    /// server sends (see
    /// [`EngineConfig::max_buffered_bytes`](crate::EngineConfig::max_buffered_bytes)). Nothing
    /// is dropped in silence: the client's connection is being closed with a "transport error"
    /// (from which connection state recovery can restore it).
    BufferFull,
    /// The socket is disconnected.
    Disconnected,
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::ReservedEvent(name) => write!(f, "\"{name}\" is a reserved event name"),
            EmitError::Serialize(e) => write!(f, "the data could not be serialized: {e}"),
            EmitError::BufferFull => {
                f.write_str("the client's send buffer is full: its connection is being closed")
            }
            EmitError::Disconnected => f.write_str("the socket is disconnected"),
        }
    }
}

impl std::error::Error for EmitError {}

impl From<EncodedSendError> for EmitError {
    fn from(e: EncodedSendError) -> Self {
        match e {
            EncodedSendError::Full => EmitError::BufferFull,
            EncodedSendError::Closed => EmitError::Disconnected,
        }
    }
}

/// Why an acknowledgement did not come.
#[derive(Debug)]
#[non_exhaustive]
pub enum AckError {
    /// The client did not answer in time.
    Timeout,
    /// The socket disconnected before the answer came.
    Disconnected,
    /// The answer could not be deserialized into the expected type.
    Deserialize(serde_json::Error),
    /// The emit itself failed.
    Emit(EmitError),
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AckError::Timeout => f.write_str("the acknowledgement timed out"),
            AckError::Disconnected => f.write_str("the socket disconnected before acknowledging"),
            AckError::Deserialize(e) => write!(f, "the acknowledgement did not deserialize: {e}"),
            AckError::Emit(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AckError {}

/// What the client sent in its namespace CONNECT packet (Node: `socket.handshake`, without the
/// request fields: the request that opened the connection is [`Socket::req_parts`], its
/// headers, URI and extensions, and [`Socket::remote_addr`]).
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The auth payload of the CONNECT packet (v5 clients' `auth` option); an empty object
    /// (`{}`) when the client sent none, and always with v4 (2.x) clients, which send a query
    /// string instead ([`ns_query`](Handshake::ns_query)).
    pub auth: Value,
    /// When the namespace connection was made.
    pub issued: SystemTime,
    /// The v4 namespace query string (`io("/admin?token=x")`), if any.
    pub ns_query: Option<String>,
}

/// One client connected to one namespace.
///
/// Handlers get it as a [`SocketRef`]. Cloning the `Arc` is cheap; the socket stays usable (emits
/// fail with [`EmitError::Disconnected`]) after it disconnected.
///
/// ```
/// use std::time::Duration;
/// use tower_socketio::{Namespace, SocketRef};
///
/// let ns: Namespace = Namespace::new().on_connect(|socket: SocketRef| async move {
///     socket.join("lobby");
///     // One argument, then two (a tuple is several arguments).
///     let _ = socket.emit("welcome", "hello");
///     let _ = socket.emit("position", &(3, 4));
///     // Everyone else in the lobby.
///     let _ = socket.to("lobby").emit("joined", &socket.id().to_string());
///     // Ask the client, and wait for its answer.
///     let answer = socket
///         .emit_with_ack::<_, String>("name?", &())
///         .timeout(Duration::from_secs(2))
///         .await;
///     if let Ok(name) = answer {
///         socket.insert_extension(name);
///     }
/// });
/// # let _ = ns;
/// ```
pub struct Socket {
    id: Sid,
    ns: Arc<NsCore>,
    pub(crate) engine: Arc<engine::Socket<ClientState>>,
    handshake: Handshake,
    connected: AtomicBool,
    acks: Mutex<HashMap<u64, oneshot::Sender<Vec<Value>>>>,
    extensions: Mutex<http::Extensions>,
}

/// The handle handlers get on a socket.
pub type SocketRef = Arc<Socket>;

impl Socket {
    pub(crate) fn new(
        id: Sid,
        ns: Arc<NsCore>,
        engine: Arc<engine::Socket<ClientState>>,
        handshake: Handshake,
    ) -> Self {
        Socket {
            id,
            ns,
            engine,
            handshake,
            connected: AtomicBool::new(false),
            acks: Mutex::new(HashMap::new()),
            extensions: Mutex::new(http::Extensions::new()),
        }
    }

    /// The socket id (Node: `socket.id`): a fresh id, distinct from the Engine.IO session id;
    /// except for a v4 client (Socket.IO 2.x) in namespace `/`, whose client computes its id as
    /// the Engine.IO session id, as the Node 2.x server does.
    pub fn id(&self) -> Sid {
        self.id
    }

    /// The namespace's name.
    pub fn ns(&self) -> &str {
        self.ns.name()
    }

    pub(crate) fn ns_core(&self) -> &Arc<NsCore> {
        &self.ns
    }

    /// What the client sent when it connected.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// The request that opened the client's connection (headers, URI with the query,
    /// extensions such as the remote address).
    pub fn req_parts(&self) -> &http::request::Parts {
        self.engine.req_parts()
    }

    /// The client's address, when the server knows it: set by [`SocketIo::listen`] and
    /// [`SocketIo::serve`], or by any server that puts a [`RemoteAddr`] in the request's
    /// extensions (Node: `socket.handshake.address`).
    ///
    /// [`SocketIo::listen`]: crate::SocketIo::listen
    /// [`SocketIo::serve`]: crate::SocketIo::serve
    /// [`RemoteAddr`]: engine::RemoteAddr
    pub fn remote_addr(&self) -> Option<std::net::SocketAddr> {
        self.req_parts()
            .extensions
            .get::<engine::RemoteAddr>()
            .map(|addr| addr.0)
    }

    /// The Engine.IO session id of the client's connection (Node: `socket.conn.id`).
    pub fn engine_id(&self) -> Sid {
        self.engine.id()
    }

    /// The transport the client's connection uses now.
    pub fn transport(&self) -> Transport {
        self.engine.transport()
    }

    /// Whether the socket is connected.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// Stores a value of type `T` on the socket (typed per-socket data, Node: `socket.data`),
    /// replacing any previous one; returns the previous one.
    pub fn insert_extension<T: Clone + Send + Sync + 'static>(&self, value: T) -> Option<T> {
        self.extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(value)
    }

    /// A copy of the value of type `T` stored on the socket.
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get::<T>()
            .cloned()
    }

    /// Removes the value of type `T` stored on the socket.
    pub fn remove_extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove::<T>()
    }

    /// Emits `event` to the client with `data` as its arguments: a tuple's elements are the
    /// arguments (`(a, b)` arrives as `socket.on("ev", (a, b) => ...)`), `()` sends none, any
    /// other value is the one argument. `bytes::Bytes` anywhere in `data` (a [`Value::Binary`]
    /// too) goes out as a binary attachment.
    ///
    /// Packets leave in the order they are emitted.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.send_packet(&encode_event(self.ns(), event, data, None)?)
    }

    /// Emits `event` and waits for the client's acknowledgement, at most the ack timeout (5 s
    /// unless set with [`AckFuture::timeout`]). The answer's arguments deserialize into `R` the
    /// way [`Data`](crate::extract::Data) reads event arguments.
    pub fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> AckFuture<R> {
        let id = self.ns.next_ack_id();
        match encode_event(self.ns(), event, data, Some(id)) {
            Ok(packet) => self.emit_packet_with_ack(&packet, id, self.ns.ack_timeout),
            Err(error) => AckFuture::new(oneshot::channel().1, self.ns.ack_timeout, Some(error)),
        }
    }

    /// Queues a packet encoded for a broadcast.
    pub(crate) fn send_packet(&self, packet: &EncodedPacket) -> Result<(), EmitError> {
        crate::broadcast::coalesce::Recipient::send_now(
            self,
            &packet.text,
            &packet.attachments,
            false,
        )
        .map_err(EmitError::from)
    }

    /// Queues a broadcast packet carrying acknowledgement request `id` and waits for the answer.
    pub(crate) fn emit_packet_with_ack<R: DeserializeOwned>(
        &self,
        packet: &EncodedPacket,
        id: u64,
        timeout: Duration,
    ) -> AckFuture<R> {
        let (tx, rx) = oneshot::channel();
        self.lock_acks().insert(id, tx);
        let error = self.send_packet(packet).err();
        if error.is_some() {
            self.lock_acks().remove(&id);
        }
        AckFuture::new(rx, timeout, error)
    }

    /// Joins `rooms` (Node: `socket.join`). Every socket is in the room named by its id.
    pub fn join(&self, rooms: impl IntoRooms) {
        self.ns.adapter.add_all(self.id, &rooms.into_rooms());
    }

    /// Leaves `rooms` (Node: `socket.leave`).
    pub fn leave(&self, rooms: impl IntoRooms) {
        for room in rooms.into_rooms() {
            self.ns.adapter.del(self.id, &room);
        }
    }

    /// The rooms the socket is in, its own id's included (Node: `socket.rooms`).
    pub fn rooms(&self) -> Vec<Room> {
        self.ns.adapter.socket_rooms(self.id)
    }

    /// Targets the sockets in `rooms`, this one excepted (Node: `socket.to(room)`).
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// The same as [`to`](Self::to) (Node: `socket.in(room)`).
    pub fn within(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.to(rooms)
    }

    /// Targets every socket of the namespace, this one included (Node: `socket.nsp`).
    pub fn namespace(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone())
    }

    /// Targets every socket of the namespace but this one (Node: `socket.broadcast`).
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone()).excluding(self.id)
    }

    /// Answers the client's acknowledgement request `id`.
    pub(crate) fn send_ack<T: Serialize + ?Sized>(
        &self,
        id: u64,
        data: &T,
    ) -> Result<(), EmitError> {
        let packet =
            parser::encode_args(self.ns(), None, Some(id), data).map_err(EmitError::Serialize)?;
        self.engine
            .send_encoded(packet.text, &packet.attachments, false, false)
            .map_err(EmitError::from)
    }

    /// Disconnects the socket from its namespace: the client gets a DISCONNECT packet and the
    /// disconnect handler runs with [`DisconnectReason::ServerNamespaceDisconnect`]. The
    /// client's connection stays open for its other namespaces.
    pub fn disconnect(self: &Arc<Self>) {
        if self.is_connected() {
            let _ =
                self.engine
                    .send_encoded(parser::encode_disconnect(self.ns()), &[], false, false);
            leave(self, DisconnectReason::ServerNamespaceDisconnect);
        }
    }

    /// Closes the client's whole connection, every namespace of it (Node:
    /// `socket.disconnect(true)`): what is queued is delivered first; the disconnect handlers run
    /// with [`DisconnectReason::ForcedClose`].
    pub fn close_connection(&self) {
        self.engine.close();
    }

    pub(crate) fn set_connected(&self, connected: bool) -> bool {
        self.connected.swap(connected, Ordering::AcqRel)
    }

    fn lock_acks(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Vec<Value>>>> {
        self.acks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The client answered acknowledgement `id`.
    pub(crate) fn receive_ack(&self, id: u64, args: Vec<Value>) {
        if let Some(tx) = self.lock_acks().remove(&id) {
            let _ = tx.send(args);
        }
    }

    /// Drops every pending acknowledgement: their futures resolve to
    /// [`AckError::Disconnected`].
    pub(crate) fn drop_acks(&self) {
        self.lock_acks().clear();
    }
}

/// Broadcasts reach a socket while it is connected to its namespace.
impl crate::broadcast::coalesce::Recipient for Socket {
    fn send_now(
        &self,
        text: &engine::Str,
        attachments: &[bytes::Bytes],
        volatile: bool,
    ) -> Result<(), EncodedSendError> {
        if !self.is_connected() {
            return Err(EncodedSendError::Closed);
        }
        self.engine
            .send_encoded(text.clone(), attachments, false, volatile)
    }

    fn send_run(&self, run: &Arc<engine::run::Run>) -> Result<(), EncodedSendError> {
        if !self.is_connected() {
            return Err(EncodedSendError::Closed);
        }
        self.engine.send_run(run)
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .field("ns", &self.ns())
            .field("connected", &self.is_connected())
            .finish()
    }
}

/// Encodes an EVENT for namespace `ns`, refusing reserved event names.
pub(crate) fn encode_event<T: Serialize + ?Sized>(
    ns: &str,
    event: &str,
    data: &T,
    id: Option<u64>,
) -> Result<EncodedPacket, EmitError> {
    if RESERVED_EVENTS.contains(&event) {
        return Err(EmitError::ReservedEvent(event.to_owned()));
    }
    let encoded = parser::encode_args(ns, Some(event), id, data).map_err(EmitError::Serialize)?;
    Ok(EncodedPacket {
        text: encoded.text,
        attachments: encoded.attachments,
    })
}

/// Reads event arguments into `T`: the argument itself when there is exactly one, the array of
/// all of them otherwise (so a tuple type takes several arguments, `()` none).
pub(crate) fn args_into<T: DeserializeOwned>(mut args: Vec<Value>) -> Result<T, serde_json::Error> {
    if args.len() == 1 {
        let one = args.pop().expect("one argument");
        T::deserialize(one)
    } else {
        T::deserialize(Value::Array(args))
    }
}

/// The answer to [`Socket::emit_with_ack`].
pub struct AckFuture<R> {
    rx: oneshot::Receiver<Vec<Value>>,
    timeout: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    error: Option<EmitError>,
    _answer: std::marker::PhantomData<fn() -> R>,
}

impl<R> AckFuture<R> {
    fn new(rx: oneshot::Receiver<Vec<Value>>, timeout: Duration, error: Option<EmitError>) -> Self {
        AckFuture {
            rx,
            timeout,
            sleep: None,
            error,
            _answer: std::marker::PhantomData,
        }
    }

    /// Waits at most `timeout` for the answer (Node: `socket.timeout(ms).emit(...)`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl<R: DeserializeOwned> Future for AckFuture<R> {
    type Output = Result<R, AckError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(error) = this.error.take() {
            return Poll::Ready(Err(AckError::Emit(error)));
        }
        match Pin::new(&mut this.rx).poll(cx) {
            Poll::Ready(Ok(args)) => {
                return Poll::Ready(args_into(args).map_err(AckError::Deserialize));
            }
            Poll::Ready(Err(_)) => return Poll::Ready(Err(AckError::Disconnected)),
            Poll::Pending => {}
        }
        let timeout = this.timeout;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(AckError::Timeout)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The Socket.IO state of one client connection: its sockets (one a namespace) and the binary
/// packet being reassembled. Opaque.
#[derive(Default)]
pub struct ClientState {
    sockets: Mutex<NameMap<SocketRef>>,
    pub(crate) partial: Mutex<Option<(RawPacket, Vec<Bytes>)>>,
}

impl ClientState {
    pub(crate) fn sockets(&self) -> std::sync::MutexGuard<'_, NameMap<SocketRef>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Takes a socket out of its namespace and runs its disconnect handler, once.
pub(crate) fn leave(socket: &SocketRef, reason: DisconnectReason) {
    if !socket.set_connected(false) {
        return;
    }
    let ns = socket.ns_core();
    // Rooms are still readable here (Node: "disconnecting").
    ns.routes.disconnecting(socket.clone(), reason);
    ns.remove(socket.id());
    {
        let mut sockets = socket.engine.data().sockets();
        if sockets
            .get(ns.name())
            .is_some_and(|s| Arc::ptr_eq(s, socket))
        {
            sockets.remove(ns.name());
        }
    }
    socket.drop_acks();
    ns.adapter.del_all(socket.id());
    tracing::debug!(ns = ns.name(), sid = %socket.id(), %reason, "socket disconnected");
    ns.routes.clone().disconnected(socket.clone(), reason);
}
