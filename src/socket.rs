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

use crate::adapter::{Adapter, Answers, EncodedPacket, HandshakeInfo, IntoRooms, Room, SocketInfo};
use crate::engine::config::Transport;
use crate::engine::key_hash::NameMap;
use crate::engine::{self, EncodedSendError, Sid};
use crate::error::{AckError, EmitError};
use crate::parser::{Parser, RawPacket, args_into};
use crate::value::Value;

mod observer;
pub use observer::SocketObserver;
pub(crate) use observer::SocketObserverSlot;

/// Why a socket left its namespace. The names are the Node server's. Handlers of
/// [`on_disconnect`](crate::Namespace::on_disconnect) and
/// [`on_disconnecting`](crate::Namespace::on_disconnecting) take it as an extractor.
///
/// ```
/// use tower_socketio::{DisconnectReason, Namespace, SocketRef};
///
/// let ns: Namespace = Namespace::new().on_disconnect(|socket: SocketRef, reason: DisconnectReason| async move {
///     match reason {
///         DisconnectReason::ClientNamespaceDisconnect => tracing::info!(id = %socket.id(), "left"),
///         reason => tracing::info!(id = %socket.id(), %reason, "lost"),
///     }
/// });
/// # let _ = ns;
/// ```
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
    /// Whether connection state recovery keeps the socket's session after a disconnection for
    /// this reason (Node's `RECOVERABLE_DISCONNECT_REASONS`): the connection was lost, not
    /// ended on purpose.
    ///
    /// ```
    /// use tower_socketio::DisconnectReason;
    ///
    /// assert!(DisconnectReason::PingTimeout.is_recoverable());
    /// assert!(!DisconnectReason::ClientNamespaceDisconnect.is_recoverable());
    /// ```
    pub fn is_recoverable(self) -> bool {
        matches!(
            self,
            DisconnectReason::TransportClose
                | DisconnectReason::TransportError
                | DisconnectReason::PingTimeout
                | DisconnectReason::ForcedClose
                | DisconnectReason::ServerShuttingDown
        )
    }

    /// The reason as the Node server words it (its `Display` too).
    ///
    /// ```
    /// use tower_socketio::DisconnectReason;
    ///
    /// assert_eq!(DisconnectReason::TransportClose.as_str(), "transport close");
    /// assert_eq!(DisconnectReason::PingTimeout.to_string(), "ping timeout");
    /// ```
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

/// What the client sent in its namespace CONNECT packet (Node: `socket.handshake`, without the
/// request fields: the request that opened the connection is [`Socket::req_parts`], its
/// headers, URI and extensions, and [`Socket::remote_addr`]). Handlers take it as an
/// extractor, or read it with [`Socket::handshake`].
///
/// ```
/// use tower_socketio::{Handshake, Namespace, SocketRef};
///
/// let ns: Namespace = Namespace::new().on_connect(|socket: SocketRef, handshake: Handshake| async move {
///     // `io({ auth: { room: "games" } })` in the browser.
///     if let Some(room) = handshake.auth.get("room").and_then(|room| room.as_str()) {
///         socket.join(room.to_owned());
///     }
/// });
/// # let _ = ns;
/// ```
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
    ns: Arc<dyn Nsp>,
    pub(crate) engine: Arc<engine::Socket<ClientState>>,
    handshake: Handshake,
    connected: AtomicBool,
    acks: Mutex<HashMap<u64, AckSlot>>,
    extensions: Mutex<http::Extensions>,
    data: Mutex<Value>,
    /// The private id of connection state recovery, when it is on.
    pid: Option<String>,
    recovered: bool,
    /// A recovered socket with this id took over: this one keeps no session when it leaves.
    superseded: AtomicBool,
    /// The server's observer when the socket was created, if any.
    observer: Option<Arc<dyn SocketObserver>>,
}

/// Where the answer to one of the server's acknowledgement requests goes.
enum AckSlot {
    /// An [`AckFuture`] (a direct `emit_with_ack`).
    One(oneshot::Sender<Vec<Value>>),
    /// The answers of a broadcast with acknowledgements: the first argument, as Node relays it.
    Many(Answers),
}

/// The handle handlers get on a socket.
pub type SocketRef = Arc<Socket>;

impl Socket {
    pub(crate) fn new(
        id: Sid,
        ns: Arc<dyn Nsp>,
        engine: Arc<engine::Socket<ClientState>>,
        handshake: Handshake,
        pid: Option<String>,
        recovered: bool,
        observer: Option<Arc<dyn SocketObserver>>,
    ) -> Self {
        Socket {
            id,
            ns,
            engine,
            handshake,
            connected: AtomicBool::new(false),
            acks: Mutex::new(HashMap::new()),
            extensions: Mutex::new(http::Extensions::new()),
            data: Mutex::new(Value::Object(Vec::new())),
            pid,
            recovered,
            superseded: AtomicBool::new(false),
            observer,
        }
    }

    /// The socket id (Node: `socket.id`): a fresh id, distinct from the Engine.IO session id;
    /// except for a v4 client (Socket.IO 2.x) in namespace `/`, whose client computes its id as
    /// the Engine.IO session id, as the Node 2.x server does.
    ///
    /// ```
    /// use tower_socketio::extract::AckSender;
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("id", |socket: SocketRef, ack: AckSender| async move {
    ///         let _ = ack.send(&socket.id()); // a `Sid` serializes as its text
    ///     }))
    ///     .build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let id: String = client.emit_with_ack("id", &()).await.unwrap();
    /// assert_eq!(id, client.socket_id());
    /// # }
    /// ```
    pub fn id(&self) -> Sid {
        self.id
    }

    /// The namespace's name (`/`, `/admin`..., the name the client asked for in a dynamic
    /// namespace).
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// if socket.ns() == "/admin" {
    ///     socket.join("staff");
    /// }
    /// # }
    /// ```
    pub fn ns(&self) -> &str {
        self.ns.name()
    }

    /// The namespace at run time.
    pub(crate) fn nsp_ref(&self) -> &Arc<dyn Nsp> {
        &self.ns
    }

    /// What the client sent when it connected.
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// let token = socket.handshake().auth.get("token").and_then(|t| t.as_str());
    /// let connected_for = socket.handshake().issued.elapsed().unwrap_or_default();
    /// # let _ = (token, connected_for);
    /// # }
    /// ```
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// The request that opened the client's connection (headers, URI with the query,
    /// extensions such as the remote address).
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// let cookies = socket.req_parts().headers.get(http::header::COOKIE);
    /// let query = socket.req_parts().uri.query(); // "EIO=4&transport=polling&..."
    /// # let _ = (cookies, query);
    /// # }
    /// ```
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
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// match socket.remote_addr() {
    ///     Some(addr) => tracing::info!(%addr, "connected"),
    ///     None => tracing::info!("connected from an unknown address"),
    /// }
    /// # }
    /// ```
    pub fn remote_addr(&self) -> Option<std::net::SocketAddr> {
        self.req_parts()
            .extensions
            .get::<engine::RemoteAddr>()
            .map(|addr| addr.0)
    }

    /// The Engine.IO session id of the client's connection (Node: `socket.conn.id`): the same
    /// for the client's sockets in every namespace.
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo, socket: tower_socketio::SocketRef) {
    /// // The client's connection, as the Engine.IO server holds it.
    /// let session = io.engine().session(socket.engine_id());
    /// # let _ = session;
    /// # }
    /// ```
    pub fn engine_id(&self) -> Sid {
        self.engine.id()
    }

    /// The transport the client's connection uses now (polling until it upgrades to
    /// WebSocket).
    ///
    /// ```
    /// use tower_socketio::Transport;
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// if socket.transport() == Transport::Polling {
    ///     // Large payloads cost more over long-polling (base64 for binary).
    /// }
    /// # }
    /// ```
    pub fn transport(&self) -> Transport {
        self.engine.transport()
    }

    /// Whether the socket is connected: false once it left its namespace (emits then fail
    /// with [`EmitError::Disconnected`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::{Namespace, SocketRef};
    ///
    /// let ns: Namespace = Namespace::new().on_connect(|socket: SocketRef| async move {
    ///     let mut clock = tokio::time::interval(Duration::from_secs(1));
    ///     while socket.is_connected() {
    ///         clock.tick().await;
    ///         let _ = socket.emit("tick", &());
    ///     }
    /// });
    /// # let _ = ns;
    /// ```
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// Stores a value of type `T` on the socket (typed per-socket data, Node: `socket.data`),
    /// replacing any previous one; returns the previous one. Handlers read it with the
    /// [`Extension`](crate::extract::Extension) extractor.
    ///
    /// ```
    /// use tower_socketio::extract::Data;
    /// use tower_socketio::{ConnectError, Namespace, SocketRef};
    ///
    /// #[derive(Clone)]
    /// struct UserId(u64);
    ///
    /// let ns: Namespace = Namespace::new().middleware(|socket: SocketRef, Data(token): Data<String>| async move {
    ///     let id: u64 = token.parse().map_err(|_| ConnectError::new("bad token"))?;
    ///     socket.insert_extension(UserId(id));
    ///     Ok(())
    /// });
    /// # let _ = ns;
    /// ```
    pub fn insert_extension<T: Clone + Send + Sync + 'static>(&self, value: T) -> Option<T> {
        self.extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(value)
    }

    /// A copy of the value of type `T` stored on the socket.
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// socket.insert_extension(String::from("ada"));
    /// assert_eq!(socket.extension::<String>().as_deref(), Some("ada"));
    /// assert_eq!(socket.extension::<u64>(), None);
    /// # }
    /// ```
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get::<T>()
            .cloned()
    }

    /// Removes the value of type `T` stored on the socket, and returns it.
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// #[derive(Clone)]
    /// struct Session(String);
    ///
    /// // Signing out.
    /// if let Some(Session(user)) = socket.remove_extension::<Session>() {
    ///     let _ = socket.emit("signed-out", &user);
    /// }
    /// # }
    /// ```
    pub fn remove_extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove::<T>()
    }

    /// Stores `data` as the socket's serializable data (Node: `socket.data`), which other
    /// servers see in [`fetch_sockets`](crate::BroadcastOperator::fetch_sockets) (with a
    /// multi-server adapter) and connection state recovery restores. Typed data that stays on
    /// this server goes in the [extensions](Self::insert_extension). It is kept as JSON (bytes
    /// become an array of numbers).
    ///
    /// ```
    /// use tower_socketio::extract::AckSender;
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Profile { name: String, level: u32 }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let ns = Namespace::new()
    ///     .on_connect(|socket: SocketRef| async move {
    ///         let _ = socket.set_data(&Profile { name: "ada".into(), level: 3 });
    ///     })
    ///     .on("level", |socket: SocketRef, ack: AckSender| async move {
    ///         let profile: Profile = socket.data().unwrap();
    ///         let _ = ack.send(&profile.level);
    ///     });
    /// let io = SocketIo::builder().ns("/", ns).build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let level: u32 = client.emit_with_ack("level", &()).await.unwrap();
    /// assert_eq!(level, 3);
    /// // Other servers (and this one) see it through `fetch_sockets`.
    /// let sockets = io.fetch_sockets().await.unwrap();
    /// assert_eq!(sockets[0].data::<Profile>().unwrap().name, "ada");
    /// # }
    /// ```
    pub fn set_data<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), serde_json::Error> {
        let value = Value::from(serde_json::to_value(data)?);
        *self.data.lock().unwrap_or_else(|e| e.into_inner()) = value;
        if let Some(observer) = &self.observer {
            observer.data_updated(self);
        }
        Ok(())
    }

    /// The socket's serializable data, read into `T` (`{}` until [`set_data`](Self::set_data)).
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// #[derive(serde::Deserialize, Default)]
    /// #[serde(default)]
    /// struct Profile { name: String }
    ///
    /// let profile: Profile = socket.data().unwrap_or_default();
    /// # let _ = profile.name;
    /// # }
    /// ```
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.data_value().deserialize_into()
    }

    /// Whether this socket was recovered (connection state recovery): the client reconnected in
    /// time after losing its connection, and got back its id, rooms, data and the events it
    /// missed (Node: `socket.recovered`). The [`Recovered`](crate::extract::Recovered)
    /// extractor gives it too.
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketRef};
    ///
    /// let ns: Namespace = Namespace::new().on_connect(|socket: SocketRef| async move {
    ///     if !socket.recovered() {
    ///         // A new socket: set it up (a recovered one has its rooms and data back).
    ///         socket.join("lobby");
    ///     }
    /// });
    /// # let _ = ns;
    /// ```
    pub fn recovered(&self) -> bool {
        self.recovered
    }

    /// The private id of connection state recovery (when it is on).
    pub(crate) fn pid(&self) -> Option<&str> {
        self.pid.as_deref()
    }

    pub(crate) fn supersede(&self) {
        self.superseded.store(true, Ordering::Release);
    }

    pub(crate) fn is_superseded(&self) -> bool {
        self.superseded.load(Ordering::Acquire)
    }

    /// When the namespace connection was made, in milliseconds since the Unix epoch.
    pub(crate) fn connected_at_ms(&self) -> u64 {
        self.handshake
            .issued
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    pub(crate) fn set_data_value(&self, value: Value) {
        *self.data.lock().unwrap_or_else(|e| e.into_inner()) = value;
    }

    /// The socket's serializable data as a [`Value`].
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// let _ = socket.set_data(&serde_json::json!({"name": "ada"}));
    /// assert_eq!(socket.data_value().get("name").and_then(|n| n.as_str()), Some("ada"));
    /// # }
    /// ```
    pub fn data_value(&self) -> Value {
        self.data.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// What other servers may know of this socket (a `fetchSockets` answer).
    pub(crate) fn info(&self) -> SocketInfo {
        SocketInfo {
            id: self.id,
            handshake: HandshakeInfo::of_request(
                self.req_parts(),
                self.remote_addr(),
                self.handshake.issued,
                serde_json::to_value(&self.handshake.auth).unwrap_or_default(),
            ),
            rooms: self.rooms(),
            data: self.data_value(),
        }
    }

    /// Emits `event` to the client with `data` as its arguments: a tuple's elements are the
    /// arguments (`(a, b)` arrives as `socket.on("ev", (a, b) => ...)`), `()` sends none, any
    /// other value is the one argument. `bytes::Bytes` anywhere in `data` (a [`Value::Binary`]
    /// too) goes out as a binary attachment.
    ///
    /// Packets leave in the order they are emitted.
    ///
    /// ```
    /// use tower_socketio::extract::Data;
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("hello", |socket: SocketRef, Data(name): Data<String>| async move {
    ///         let _ = socket.emit("greeting", &format!("hello, {name}")); // one argument
    ///         let _ = socket.emit("position", &(3, 4)); // two
    ///         let _ = socket.emit("ready", &()); // none
    ///     }))
    ///     .build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.emit("hello", "ada").await.unwrap();
    /// assert_eq!(client.recv().await.unwrap(), ("greeting".into(), vec![Value::from("hello, ada")]));
    /// assert_eq!(client.recv().await.unwrap().1, [Value::from(3i64), Value::from(4i64)]);
    /// assert_eq!(client.recv().await.unwrap(), ("ready".into(), vec![]));
    /// # }
    /// ```
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        let packet = self
            .ns
            .parser()
            .encode_event(self.ns(), event, data, None)?;
        if self.pid.is_some() {
            // Connection state recovery: through the adapter, which stores it with its offset
            // (as Node does), to this socket's own room on this server.
            if !self.is_connected() {
                return Err(EmitError::Disconnected);
            }
            let opts = crate::adapter::BroadcastOptions {
                rooms: std::iter::once(self.id.to_string()).collect(),
                local: true,
                ..Default::default()
            };
            drop(self.ns.adapter().broadcast(packet, &opts));
            return Ok(());
        }
        self.send_packet(&packet)
    }

    /// Emits `event` and waits for the client's acknowledgement, at most the ack timeout (5 s
    /// unless set with [`AckFuture::timeout`]). The answer's arguments deserialize into `R` the
    /// way [`Data`](crate::extract::Data) reads event arguments.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::error::AckError;
    /// use tower_socketio::{Namespace, SocketRef};
    ///
    /// let ns: Namespace = Namespace::new().on_connect(|socket: SocketRef| async move {
    ///     // In the browser: socket.on("confirm", (question, callback) => callback(true))
    ///     match socket
    ///         .emit_with_ack::<_, bool>("confirm", "delete everything?")
    ///         .timeout(Duration::from_secs(10))
    ///         .await
    ///     {
    ///         Ok(true) => { /* ... */ }
    ///         Ok(false) => {}
    ///         Err(AckError::Timeout) => tracing::info!("no answer"),
    ///         Err(error) => tracing::warn!(%error),
    ///     }
    /// });
    /// # let _ = ns;
    /// ```
    pub fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        event: &str,
        data: &T,
    ) -> AckFuture<R> {
        let id = self.ns.next_ack_id();
        let timeout = self.ns.ack_timeout();
        match self
            .ns
            .parser()
            .encode_event(self.ns(), event, data, Some(id))
        {
            Ok(packet) => self.emit_packet_with_ack(&packet, id, timeout),
            Err(error) => AckFuture::new(oneshot::channel().1, timeout, Some(error)),
        }
    }

    /// Queues a packet encoded for a broadcast.
    pub(crate) fn send_packet(&self, packet: &EncodedPacket) -> Result<(), EmitError> {
        self.send_encoded(&packet.text, &packet.attachments, false)
            .map_err(EmitError::from)?;
        if let Some(observer) = &self.observer {
            if let Some((event, args)) = crate::parser::decode_event(packet) {
                observer.event_sent(self, &event, &args);
            }
        }
        Ok(())
    }

    /// The server's [`SocketObserver`] when this socket connected.
    pub(crate) fn observer(&self) -> Option<&dyn SocketObserver> {
        self.observer.as_deref()
    }

    /// Queues an encoded packet (text and attachments, all or none) while the socket is
    /// connected: a packet that does not fit closes the client's session, unless it is
    /// `volatile` (then it is dropped and counted).
    pub(crate) fn send_encoded(
        &self,
        text: &engine::Str,
        attachments: &[Bytes],
        volatile: bool,
    ) -> Result<(), EncodedSendError> {
        if !self.is_connected() {
            return Err(EncodedSendError::Closed);
        }
        self.engine
            .send_encoded(text.clone(), attachments, false, volatile)
    }

    /// Queues a broadcast packet carrying acknowledgement request `id` and waits for the answer.
    pub(crate) fn emit_packet_with_ack<R: DeserializeOwned>(
        &self,
        packet: &EncodedPacket,
        id: u64,
        timeout: Duration,
    ) -> AckFuture<R> {
        let (tx, rx) = oneshot::channel();
        self.lock_acks().insert(id, AckSlot::One(tx));
        let error = self.send_packet(packet).err();
        if error.is_some() {
            self.lock_acks().remove(&id);
        }
        AckFuture::new(rx, timeout, error)
    }

    /// Joins `rooms` (Node: `socket.join`): a name, or several (`["a", "b"]`, a `Vec`). Every
    /// socket is in the room named by its id.
    ///
    /// ```
    /// use tower_socketio::extract::{AckSender, Data};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("join", |socket: SocketRef, ack: AckSender, Data(room): Data<String>| async move {
    ///         socket.join(room);
    ///         let _ = ack.send("ok");
    ///     }))
    ///     .build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let _: String = client.emit_with_ack("join", "games").await.unwrap();
    /// let _ = io.to("games").emit("news", "a new game");
    /// assert_eq!(client.recv().await.unwrap(), ("news".into(), vec![Value::from("a new game")]));
    /// # }
    /// ```
    pub fn join(&self, rooms: impl IntoRooms) {
        self.ns.adapter().add_all(self.id, &rooms.into_rooms());
    }

    /// Resolves once broadcasts to `room` from other servers of the cluster reach this socket,
    /// after it [joined](Self::join) the room: at once, except with an adapter that subscribes
    /// to each room (the sharded Redis adapter), which waits for its subscription (Node answers
    /// earlier, and a room emit from another server right after the join can be lost).
    ///
    /// ```no_run
    /// # async fn f(socket: tower_socketio::SocketRef) {
    /// socket.join("game-42");
    /// let _ = socket.room_ready("game-42").await;
    /// let _ = socket.emit("joined", "game-42");
    /// # }
    /// ```
    pub fn room_ready(&self, room: &str) -> crate::adapter::AdapterFuture<()> {
        self.ns.adapter().room_ready(room)
    }

    /// Leaves `rooms` (Node: `socket.leave`).
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// socket.join(["lobby", "games"]);
    /// socket.leave("lobby");
    /// assert!(!socket.rooms().contains(&"lobby".to_string()));
    /// # }
    /// ```
    pub fn leave(&self, rooms: impl IntoRooms) {
        for room in rooms.into_rooms() {
            self.ns.adapter().del(self.id, &room);
        }
    }

    /// The rooms the socket is in, its own id's included (Node: `socket.rooms`).
    ///
    /// ```
    /// use tower_socketio::extract::AckSender;
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let ns = Namespace::new()
    ///     .on_connect(|socket: SocketRef| async move { socket.join(["lobby", "games"]) })
    ///     .on("rooms", |socket: SocketRef, ack: AckSender| async move {
    ///         let mut rooms = socket.rooms();
    ///         rooms.sort();
    ///         let _ = ack.send(&rooms);
    ///     });
    /// let io = SocketIo::builder().ns("/", ns).build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let rooms: Vec<String> = client.emit_with_ack("rooms", &()).await.unwrap();
    /// let mut expected = vec!["games".to_string(), "lobby".to_string(), client.socket_id().to_string()];
    /// expected.sort();
    /// assert_eq!(rooms, expected);
    /// # }
    /// ```
    pub fn rooms(&self) -> Vec<Room> {
        self.ns.adapter().socket_rooms(self.id)
    }

    /// Answers the client's acknowledgement request `id`.
    pub(crate) fn send_ack<T: Serialize + ?Sized>(
        &self,
        id: u64,
        data: &T,
    ) -> Result<(), EmitError> {
        let packet = self
            .ns
            .parser()
            .encode_ack(self.ns(), id, data)
            .map_err(EmitError::Serialize)?;
        self.engine
            .send_encoded(packet.text, &packet.attachments, false, false)
            .map_err(EmitError::from)
    }

    /// Disconnects the socket from its namespace: the client gets a DISCONNECT packet and the
    /// disconnect handler runs with [`DisconnectReason::ServerNamespaceDisconnect`]. The
    /// client's connection stays open for its other namespaces.
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("kick-me", |socket: SocketRef| async move {
    ///         socket.disconnect();
    ///     }))
    ///     .build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.emit("kick-me", &()).await.unwrap();
    /// let error = client.recv().await.unwrap_err(); // the DISCONNECT packet
    /// assert_eq!(error.to_string(), "the server disconnected the socket");
    /// assert!(io.sockets("/").is_empty());
    /// # }
    /// ```
    pub fn disconnect(self: &Arc<Self>) {
        if self.is_connected() {
            let packet = self.ns.parser().encode_disconnect(self.ns());
            let _ = self
                .engine
                .send_encoded(packet.text, &packet.attachments, false, false);
            self.left(DisconnectReason::ServerNamespaceDisconnect);
        }
    }

    /// Disconnects the client from every namespace of its connection, then closes the
    /// connection (Node: `socket.disconnect(true)`): each of its sockets gets a DISCONNECT packet
    /// (the client hears "io server disconnect" and does not reconnect by itself) and leaves with
    /// [`DisconnectReason::ServerNamespaceDisconnect`]; what is queued is delivered first.
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketRef};
    ///
    /// let ns: Namespace = Namespace::new().on("ban", |socket: SocketRef| async move {
    ///     let _ = socket.emit("banned", "bye");
    ///     socket.disconnect_client(); // "banned" is delivered first
    /// });
    /// # let _ = ns;
    /// ```
    pub fn disconnect_client(&self) {
        let sockets: Vec<SocketRef> = self.engine.data().sockets().values().cloned().collect();
        for socket in sockets {
            socket.disconnect();
        }
        self.engine.close();
    }

    /// Closes the client's underlying connection, every namespace of it (Node:
    /// `socket.conn.close()`): what is queued is delivered first; the client hears "transport
    /// close" and reconnects by itself; the disconnect handlers run with
    /// [`DisconnectReason::ForcedClose`].
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketRef};
    ///
    /// // Make the client reconnect (say, to pick up new credentials); it does so by itself.
    /// let ns: Namespace = Namespace::new().on("reconnect-please", |socket: SocketRef| async move {
    ///     socket.close_connection();
    /// });
    /// # let _ = ns;
    /// ```
    pub fn close_connection(&self) {
        self.engine.close();
    }

    /// Takes the socket out of its namespace and runs its disconnect handlers, once (the
    /// leave sequence, `crate::ns`).
    pub(crate) fn left(self: &Arc<Self>, reason: DisconnectReason) {
        self.ns.clone().leave(self, reason);
    }

    pub(crate) fn set_connected(&self, connected: bool) -> bool {
        self.connected.swap(connected, Ordering::AcqRel)
    }

    /// Queues a broadcast packet carrying acknowledgement request `id`, the answer going to
    /// `answers`. Whether it was queued.
    pub(crate) fn send_with_shared_ack(
        &self,
        packet: &EncodedPacket,
        id: u64,
        answers: &Answers,
    ) -> bool {
        self.lock_acks().insert(id, AckSlot::Many(answers.clone()));
        let sent = self.send_packet(packet).is_ok();
        if !sent {
            self.lock_acks().remove(&id);
        }
        sent
    }

    fn lock_acks(&self) -> std::sync::MutexGuard<'_, HashMap<u64, AckSlot>> {
        self.acks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The client answered acknowledgement `id`.
    pub(crate) fn receive_ack(&self, id: u64, args: Vec<Value>) {
        let slot = self.lock_acks().remove(&id);
        match slot {
            Some(AckSlot::One(tx)) => {
                let _ = tx.send(args);
            }
            Some(AckSlot::Many(answers)) => {
                answers.answer(args.into_iter().next().unwrap_or(Value::Null));
            }
            None => {}
        }
    }

    /// Drops every pending acknowledgement: their futures resolve to
    /// [`AckError::Disconnected`].
    pub(crate) fn drop_acks(&self) {
        self.lock_acks().clear();
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

/// The answer to [`Socket::emit_with_ack`]: a future of the client's answer, read into `R`, or
/// an [`AckError`].
///
/// ```
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::error::AckError;
/// use tower_socketio::{Namespace, SocketIo, SocketRef};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
///         let answer = socket.emit_with_ack::<_, String>("name?", &()).timeout(Duration::from_millis(50)).await;
///         let timed_out = matches!(answer, Err(AckError::Timeout));
///         let _ = socket.emit("timed-out", &timed_out);
///     }))
///     .build();
///
/// // This test client does not answer acknowledgement requests.
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// assert_eq!(client.recv().await.unwrap().0, "name?");
/// let (event, args) = client.recv().await.unwrap();
/// assert_eq!((event.as_str(), args[0].clone()), ("timed-out", true.into()));
/// # }
/// ```
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

    /// Waits at most `timeout` for the answer (Node: `socket.timeout(ms).emit(...)`), rather
    /// than the server's ack timeout
    /// ([`SocketIoBuilder::ack_timeout`](crate::SocketIoBuilder::ack_timeout)).
    ///
    /// ```
    /// # async fn f(socket: tower_socketio::SocketRef) {
    /// use std::time::Duration;
    ///
    /// let name: Option<String> = socket
    ///     .emit_with_ack("name?", &())
    ///     .timeout(Duration::from_secs(1))
    ///     .await
    ///     .ok();
    /// # let _ = name;
    /// # }
    /// ```
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
///
/// ```
/// # fn f(io: tower_socketio::SocketIo, socket: tower_socketio::SocketRef) {
/// use std::sync::Arc;
/// use tower_socketio::client::ClientState;
/// use tower_socketio::engine::Socket;
///
/// // The data of the Engine.IO sessions under Socket.IO: the type shows in their handle.
/// let session: Option<Arc<Socket<ClientState>>> = io.engine().session(socket.engine_id());
/// # let _ = session;
/// # }
/// ```
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

/// The namespace a socket is connected to, as the socket (and a broadcast operator) sees it.
/// The namespace at run time (`crate::ns`) implements it: it holds the sockets, so the socket
/// knows it through this trait rather than by its type.
pub(crate) trait Nsp: Send + Sync + 'static {
    /// The namespace's name.
    fn name(&self) -> &str;
    /// Its adapter: rooms and broadcasts.
    fn adapter(&self) -> &dyn Adapter;
    /// A fresh acknowledgement id, unique in the namespace (as in Node, so that a broadcast
    /// with acknowledgements is one packet for all).
    fn next_ack_id(&self) -> u64;
    /// How long an acknowledgement is awaited by default.
    fn ack_timeout(&self) -> Duration;
    /// The server's parser: how its packets are encoded.
    fn parser(&self) -> Parser;
    /// Routes an event `socket` received to its handler (packet middlewares first).
    fn event(
        &self,
        socket: SocketRef,
        event: String,
        args: Vec<Value>,
        attachments: Vec<Bytes>,
        ack: Option<u64>,
    );
    /// The leave sequence: takes `socket` out of the namespace and runs its disconnect
    /// handlers, once.
    fn leave(self: Arc<Self>, socket: &SocketRef, reason: DisconnectReason);
}
