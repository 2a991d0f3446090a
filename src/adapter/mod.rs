//! The adapter boundary: where a namespace keeps its rooms and sends its broadcasts (Node's
//! `Adapter`).
//!
//! Every namespace has one [`Adapter`], made when the namespace is created by the factory given
//! to [`SocketIoBuilder::adapter`](crate::SocketIoBuilder::adapter), with the namespace's
//! [`LocalNamespace`]. The default, [`MemoryAdapter`], serves one server. An adapter for
//! several servers (over Redis, NATS, Postgres `LISTEN/NOTIFY`...) implements the same trait,
//! in any crate: it deals in socket ids ([`Sid`]), room names and [`EncodedPacket`]s, never in
//! sockets.
//!
//! - Room membership is local and synchronous: [`add_all`](Adapter::add_all),
//!   [`del`](Adapter::del), [`del_all`](Adapter::del_all), [`socket_rooms`](Adapter::socket_rooms),
//!   [`rooms`](Adapter::rooms), and [`local_targets`](Adapter::local_targets) (the ids of this
//!   server's sockets a [`BroadcastOptions`] selects).
//! - The operations that reach every server are asynchronous and fallible
//!   ([`AdapterFuture`]): [`broadcast`](Adapter::broadcast),
//!   [`broadcast_with_ack`](Adapter::broadcast_with_ack) (answers gathered in [`Answers`]),
//!   [`fetch_sockets`](Adapter::fetch_sockets) ([`SocketInfo`]s),
//!   [`add_sockets`](Adapter::add_sockets), [`del_sockets`](Adapter::del_sockets),
//!   [`disconnect_sockets`](Adapter::disconnect_sockets),
//!   [`server_side_emit`](Adapter::server_side_emit), [`server_count`](Adapter::server_count).
//!   Their defaults act on this server only, through the [`LocalNamespace`]: an adapter for
//!   several servers does the same, then tells the others, which do it on their side through
//!   their own [`LocalNamespace`].
//!
//! What an outside adapter can do with this server's sockets is what [`LocalNamespace`] offers:
//! send an encoded packet to some of them ([`send`](LocalNamespace::send),
//! [`send_all`](LocalNamespace::send_all), [`send_with_ack`](LocalNamespace::send_with_ack)),
//! list them ([`sids`](LocalNamespace::sids), [`socket_info`](LocalNamespace::socket_info)),
//! disconnect them ([`disconnect`](LocalNamespace::disconnect)), and hand it a server-side event
//! ([`server_event`](LocalNamespace::server_event)). A packet another server sent is rebuilt
//! with [`EncodedPacket::parse`].
//!
//! ```
//! use std::sync::Arc;
//! use tower_socketio::adapter::{
//!     Adapter, AdapterFuture, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Room,
//! };
//! use tower_socketio::engine::Sid;
//!
//! /// Rooms in memory, as the default adapter keeps them; every broadcast also logged (where a
//! /// real multi-server adapter would publish it to the other servers).
//! struct Logged(MemoryAdapter);
//!
//! impl Adapter for Logged {
//!     fn namespace(&self) -> &LocalNamespace { self.0.namespace() }
//!     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.0.add_all(sid, rooms) }
//!     fn del(&self, sid: Sid, room: &str) { self.0.del(sid, room) }
//!     fn del_all(&self, sid: Sid) { self.0.del_all(sid) }
//!     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.0.socket_rooms(sid) }
//!     fn rooms(&self) -> Vec<Room> { self.0.rooms() }
//!     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.0.local_targets(opts) }
//!     fn broadcast(&self, packet: EncodedPacket, opts: &BroadcastOptions) -> AdapterFuture<()> {
//!         tracing::info!(ns = self.namespace().name(), text = packet.text(), "broadcast");
//!         self.0.broadcast(packet, opts)
//!     }
//! }
//!
//! let io = tower_socketio::SocketIo::builder()
//!     .adapter(|ns: LocalNamespace| Arc::new(Logged(MemoryAdapter::new(ns))) as Arc<dyn Adapter>)
//!     .build();
//! # let _ = io;
//! ```
//!
//! # Writing an adapter for several servers
//!
//! A worked example: servers that share a message bus (here a `tokio::sync::broadcast` channel
//! in one process, standing for NATS, Postgres `LISTEN/NOTIFY` or any pub/sub). Each namespace's
//! adapter keeps its rooms in a [`MemoryAdapter`]; a broadcast is sent to this server's sockets,
//! then published as its text and attachments with the rooms; every other server rebuilds the
//! packet with [`EncodedPacket::parse`] and sends it to its own sockets. The other operations
//! follow the same pattern (publish what to do; each server does it through its
//! [`LocalNamespace`]); acknowledgements and `fetch_sockets` add a request id and answers
//! ([`Answers`], [`SocketInfo`]).
//!
//! ```
//! use std::sync::Arc;
//! use tokio::sync::broadcast;
//! use tower_socketio::adapter::{
//!     Adapter, AdapterFuture, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Room,
//! };
//! use tower_socketio::engine::Sid;
//! use tower_socketio::testing::TestClient;
//! use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
//!
//! /// What crosses the bus: who sent it, the namespace, the packet, the targets.
//! #[derive(Clone)]
//! struct Message { server: u32, ns: String, text: String, binary: Vec<bytes::Bytes>, rooms: Vec<Room>, except: Vec<Room> }
//!
//! struct BusAdapter { server: u32, rooms: MemoryAdapter, bus: broadcast::Sender<Message> }
//!
//! impl BusAdapter {
//!     fn new(server: u32, ns: LocalNamespace, bus: broadcast::Sender<Message>) -> Arc<Self> {
//!         let adapter = Arc::new(BusAdapter { server, rooms: MemoryAdapter::new(ns), bus });
//!         // Receive what the other servers publish, for this namespace.
//!         let mut incoming = adapter.bus.subscribe();
//!         let me = Arc::downgrade(&adapter);
//!         tokio::spawn(async move {
//!             while let Ok(message) = incoming.recv().await {
//!                 let Some(me) = me.upgrade() else { return };
//!                 if message.server == me.server || message.ns != me.namespace().name() {
//!                     continue;
//!                 }
//!                 let Ok(packet) = EncodedPacket::parse(message.text, message.binary) else {
//!                     continue; // a bad packet from the bus is never sent to clients
//!                 };
//!                 let opts = BroadcastOptions {
//!                     rooms: message.rooms.into_iter().collect(),
//!                     except: message.except.into_iter().collect(),
//!                     local: true,
//!                     ..Default::default()
//!                 };
//!                 let _ = me.rooms.broadcast(packet, &opts).await;
//!             }
//!         });
//!         adapter
//!     }
//! }
//!
//! impl Adapter for BusAdapter {
//!     fn namespace(&self) -> &LocalNamespace { self.rooms.namespace() }
//!     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.rooms.add_all(sid, rooms) }
//!     fn del(&self, sid: Sid, room: &str) { self.rooms.del(sid, room) }
//!     fn del_all(&self, sid: Sid) { self.rooms.del_all(sid) }
//!     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.rooms.socket_rooms(sid) }
//!     fn rooms(&self) -> Vec<Room> { self.rooms.rooms() }
//!     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.rooms.local_targets(opts) }
//!
//!     fn broadcast(&self, packet: EncodedPacket, opts: &BroadcastOptions) -> AdapterFuture<()> {
//!         let message = Message {
//!             server: self.server,
//!             ns: self.namespace().name().to_owned(),
//!             text: packet.text().to_owned(),
//!             binary: packet.attachments().to_vec(),
//!             rooms: opts.rooms.iter().cloned().collect(),
//!             except: opts.except.iter().cloned().collect(),
//!         };
//!         // This server's sockets first, then the others' through the bus.
//!         let local = self.rooms.broadcast(packet, opts);
//!         if !opts.local {
//!             let _ = self.bus.send(message);
//!         }
//!         local
//!     }
//!
//!     fn server_count(&self) -> AdapterFuture<usize> {
//!         let servers = self.bus.receiver_count();
//!         Box::pin(async move { Ok(servers) })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (bus, _) = broadcast::channel(1024);
//! let server = |id: u32| {
//!     let bus = bus.clone();
//!     SocketIo::builder()
//!         .adapter(move |ns: LocalNamespace| BusAdapter::new(id, ns, bus.clone()) as Arc<dyn Adapter>)
//!         .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move { socket.join("news") }))
//!         .build()
//! };
//! let (a, b) = (server(1), server(2));
//! // A client of server B...
//! let app_b = axum::Router::new().layer(b.layer());
//! let mut client = TestClient::connect(app_b, "/").await.unwrap();
//! // ...gets what server A broadcasts to the room.
//! a.to("news").emit("headline", "from server A").await.unwrap();
//! assert_eq!(client.recv().await.unwrap(), ("headline".into(), vec![Value::from("from server A")]));
//! assert_eq!(a.server_count().await.unwrap(), 2);
//! # }
//! ```

mod answers;
mod memory;
mod memory_log;
#[cfg(feature = "redis")]
pub mod redis;
mod room_observer;
mod session;
mod socket_info;

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

pub use answers::{Answers, Gathered};
pub use memory::MemoryAdapter;
pub use room_observer::RoomObserver;
pub(crate) use room_observer::RoomObserverSlot;
pub use session::{RecoveryConfig, Restored, Session};
#[cfg_attr(not(feature = "admin"), allow(unused_imports))]
pub use socket_info::{HandshakeInfo, SocketInfo};

use crate::engine::Sid;
pub use crate::error::AdapterError;
use crate::parser::Parser;
pub use crate::parser::{EncodedPacket, InvalidPacket};
use crate::value::Value;

/// A room name.
pub type Room = String;

/// Room names: a `&str`, a `String`, or a list of them.
///
/// ```
/// # fn f(io: tower_socketio::SocketIo, socket: tower_socketio::SocketRef, rooms: Vec<String>) {
/// socket.join("lobby"); // a name
/// socket.join(["red", "blue"]); // several
/// let _ = io.to(rooms).emit("news", "hello"); // a list built at run time
/// let _ = io.to(socket.id()).emit("just-you", &()); // a socket's own room
/// # }
/// ```
pub trait IntoRooms {
    /// The rooms.
    ///
    /// ```
    /// use tower_socketio::IntoRooms;
    ///
    /// assert_eq!(["a", "b"].into_rooms(), ["a", "b"]);
    /// assert_eq!(String::from("a").into_rooms(), ["a"]);
    /// ```
    fn into_rooms(self) -> Vec<Room>;
}

impl IntoRooms for &str {
    fn into_rooms(self) -> Vec<Room> {
        vec![self.to_owned()]
    }
}

impl IntoRooms for String {
    fn into_rooms(self) -> Vec<Room> {
        vec![self]
    }
}

impl IntoRooms for &String {
    fn into_rooms(self) -> Vec<Room> {
        vec![self.clone()]
    }
}

impl IntoRooms for Sid {
    fn into_rooms(self) -> Vec<Room> {
        vec![self.to_string()]
    }
}

impl<T: IntoRooms> IntoRooms for Vec<T> {
    fn into_rooms(self) -> Vec<Room> {
        self.into_iter().flat_map(IntoRooms::into_rooms).collect()
    }
}

impl<T: IntoRooms, const N: usize> IntoRooms for [T; N] {
    fn into_rooms(self) -> Vec<Room> {
        self.into_iter().flat_map(IntoRooms::into_rooms).collect()
    }
}

/// A boxed future, as the adapter's cluster operations return.
pub type AdapterFuture<T> = Pin<Box<dyn Future<Output = Result<T, AdapterError>> + Send>>;

/// Which sockets an operation targets, and how (Node: a broadcast's `rooms`, `except` and
/// `flags`).
///
/// ```
/// use std::time::Duration;
/// use tower_socketio::adapter::BroadcastOptions;
///
/// // What `io.to("lobby").except("muted").local().timeout(2 s)` hands the adapter.
/// let opts = BroadcastOptions {
///     rooms: ["lobby".to_string()].into(),
///     except: ["muted".to_string()].into(),
///     local: true,
///     timeout: Some(Duration::from_secs(2)),
///     ..Default::default()
/// };
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// The sockets in any of these rooms; every socket of the namespace when empty.
    pub rooms: HashSet<Room>,
    /// Minus the sockets in any of these rooms.
    pub except: HashSet<Room>,
    /// This server's sockets only (Node: the `local` flag).
    pub local: bool,
    /// The packet may be dropped for a client that cannot take it now (Node: `volatile`).
    pub volatile: bool,
    /// Node's `compress` flag, carried across servers; it has no effect here.
    pub compress: bool,
    /// How long acknowledgements are awaited (Node: the `timeout` flag).
    pub timeout: Option<Duration>,
}

/// Answers an incoming server-side emit: called at most once, with the answer.
pub type ServerReply = Box<dyn FnOnce(Value) + Send>;

/// This server's sockets of one namespace, as its adapter acts on them (implemented by the
/// namespace at run time). Every method is quick and does not block: sending only queues.
pub(crate) trait LocalSockets: Send + Sync {
    /// Queues `packet` for each connected socket among `sids`, in that order.
    fn send_to(&self, sids: &mut dyn Iterator<Item = Sid>, packet: EncodedPacket, volatile: bool);
    /// Queues `packet` for every connected socket, but those `skip` names.
    fn send_all(&self, skip: Option<&dyn Fn(Sid) -> bool>, packet: EncodedPacket, volatile: bool);
    /// Queues `packet` with a fresh acknowledgement id for each connected socket among `sids`;
    /// each one's answer goes to `answers`. Returns how many sockets got it.
    fn send_with_ack(
        &self,
        sids: &mut dyn Iterator<Item = Sid>,
        packet: EncodedPacket,
        answers: &Answers,
    ) -> usize;
    /// The ids of the connected sockets.
    fn sids(&self) -> Vec<Sid>;
    /// What other servers may know of socket `sid`.
    fn socket_info(&self, sid: Sid) -> Option<SocketInfo>;
    /// Disconnects socket `sid` (Node: `socket.disconnect(close)`).
    fn disconnect(&self, sid: Sid, close: bool);
    /// Runs the namespace's handler of server-side event `event`, if any.
    fn server_event(&self, event: &str, args: Vec<Value>, reply: Option<ServerReply>);
    /// Runs `f` with broadcasts coalesced (see [`LocalNamespace::batch`]).
    fn scope(&self, f: &mut dyn FnMut());
}

/// One namespace's sockets on this server, as an [`Adapter`] sees them: what it was made with,
/// and all it can do with them. Cheap to clone; once the namespace is gone (the server
/// dropped), every operation does nothing.
///
/// ```
/// use std::sync::Arc;
/// use tower_socketio::SocketIo;
/// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
///
/// let io = SocketIo::builder()
///     .adapter(|ns: LocalNamespace| {
///         tracing::info!(ns = ns.name(), "adapter made"); // once a namespace
///         Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
///     })
///     .build();
/// # let _ = io;
/// ```
#[derive(Clone)]
pub struct LocalNamespace {
    name: Arc<str>,
    sockets: Weak<dyn LocalSockets>,
    recovery: Option<Arc<RecoveryConfig>>,
    parser: Parser,
    rooms_observer: RoomObserverSlot,
}

impl fmt::Debug for LocalNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalNamespace")
            .field("name", &self.name)
            .finish()
    }
}

/// The sockets of a [`LocalNamespace::detached`] namespace: there are none (the type has no
/// value; its `Weak` never upgrades).
enum NoSockets {}

impl LocalSockets for NoSockets {
    fn send_to(&self, _: &mut dyn Iterator<Item = Sid>, _: EncodedPacket, _: bool) {
        match *self {}
    }
    fn send_all(&self, _: Option<&dyn Fn(Sid) -> bool>, _: EncodedPacket, _: bool) {
        match *self {}
    }
    fn send_with_ack(
        &self,
        _: &mut dyn Iterator<Item = Sid>,
        _: EncodedPacket,
        _: &Answers,
    ) -> usize {
        match *self {}
    }
    fn sids(&self) -> Vec<Sid> {
        match *self {}
    }
    fn socket_info(&self, _: Sid) -> Option<SocketInfo> {
        match *self {}
    }
    fn disconnect(&self, _: Sid, _: bool) {
        match *self {}
    }
    fn server_event(&self, _: &str, _: Vec<Value>, _: Option<ServerReply>) {
        match *self {}
    }
    fn scope(&self, _: &mut dyn FnMut()) {
        match *self {}
    }
}

impl LocalNamespace {
    pub(crate) fn new(
        name: &str,
        sockets: Weak<dyn LocalSockets>,
        recovery: Option<Arc<RecoveryConfig>>,
        parser: Parser,
        rooms_observer: RoomObserverSlot,
    ) -> Self {
        LocalNamespace {
            name: name.into(),
            sockets,
            recovery,
            parser,
            rooms_observer,
        }
    }

    /// The server's [`RoomObserver`], if one is installed: an adapter that keeps its own rooms
    /// (rather than a [`MemoryAdapter`]) tells it of each change of membership.
    ///
    /// ```
    /// use tower_socketio::adapter::LocalNamespace;
    ///
    /// assert!(LocalNamespace::detached("/").room_observer().is_none());
    /// ```
    pub fn room_observer(&self) -> Option<&dyn RoomObserver> {
        self.rooms_observer.get().map(|observer| &**observer)
    }

    /// A namespace `name` with no sockets and no server: for an adapter's unit tests.
    ///
    /// ```
    /// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    ///
    /// let adapter = MemoryAdapter::new(LocalNamespace::detached("/test"));
    /// assert_eq!(adapter.namespace().name(), "/test");
    /// assert!(adapter.namespace().sids().is_empty()); // no server, no sockets
    /// ```
    pub fn detached(name: &str) -> Self {
        let sockets: Weak<NoSockets> = Weak::new();
        LocalNamespace::new(
            name,
            sockets,
            None,
            Parser::Default,
            RoomObserverSlot::default(),
        )
    }

    /// The same, with connection state recovery on (`recovery`): for an adapter's unit tests.
    ///
    /// ```
    /// use tower_socketio::RecoveryConfig;
    /// use tower_socketio::adapter::LocalNamespace;
    ///
    /// let ns = LocalNamespace::detached_with_recovery("/", RecoveryConfig::default());
    /// assert!(ns.recovery().is_some());
    /// ```
    pub fn detached_with_recovery(name: &str, recovery: RecoveryConfig) -> Self {
        let sockets: Weak<NoSockets> = Weak::new();
        LocalNamespace::new(
            name,
            sockets,
            Some(Arc::new(recovery)),
            Parser::Default,
            RoomObserverSlot::default(),
        )
    }

    /// The connection state recovery options, when it is on: the adapter then appends an offset
    /// to every stored event and keeps what [`Adapter::restore_session`] needs.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::RecoveryConfig;
    /// use tower_socketio::adapter::LocalNamespace;
    ///
    /// let recovery = RecoveryConfig { max_disconnection_duration: Duration::from_secs(30), ..RecoveryConfig::default() };
    /// let ns = LocalNamespace::detached_with_recovery("/", recovery);
    /// // An adapter keeps the events of the last 30 seconds.
    /// assert_eq!(ns.recovery().map(|r| r.max_disconnection_duration), Some(Duration::from_secs(30)));
    /// assert_eq!(LocalNamespace::detached("/").recovery(), None);
    /// ```
    pub fn recovery(&self) -> Option<&RecoveryConfig> {
        self.recovery.as_deref()
    }

    /// The server's parser ([`SocketIoBuilder::parser`](crate::SocketIoBuilder::parser)): the
    /// form of the [`EncodedPacket`]s the server hands to the adapter, and the one an adapter
    /// rebuilds packets in (Node's Redis adapters carry the packet object, whatever the parser).
    ///
    /// ```
    /// use tower_socketio::Parser;
    /// use tower_socketio::adapter::LocalNamespace;
    ///
    /// assert_eq!(LocalNamespace::detached("/").parser(), Parser::Default);
    /// ```
    pub fn parser(&self) -> Parser {
        self.parser
    }

    /// The namespace's name (`/`, `/admin`...).
    ///
    /// ```
    /// use tower_socketio::adapter::LocalNamespace;
    ///
    /// assert_eq!(LocalNamespace::detached("/admin").name(), "/admin");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queues `packet` for each socket of `sids` connected here, in that order (ids of other
    /// servers' sockets, or of sockets gone, are skipped). A packet that does not fit in a
    /// client's send buffer closes that client's connection, unless it is `volatile` (then it
    /// is dropped for that client): a broadcast never waits on its slowest client.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // Keep the `LocalNamespace` of `/` that the server hands its adapter.
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let io = SocketIo::builder()
    ///     .adapter(move |ns: LocalNamespace| {
    ///         let _ = tx.send(ns.clone());
    ///         Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
    ///     })
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move { socket.join("lobby") }))
    ///     .build();
    /// let ns = rx.recv().unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// # use tower_socketio::adapter::EncodedPacket;
    /// // A packet from another server, sent to this server's sockets among `sids`.
    /// let packet = EncodedPacket::parse(r#"42["news","from the bus"]"#, vec![]).unwrap();
    /// ns.send(ns.sids(), packet, false);
    /// assert_eq!(client.recv().await.unwrap().1, [Value::from("from the bus")]);
    /// # }
    /// ```
    pub fn send(&self, sids: impl IntoIterator<Item = Sid>, packet: EncodedPacket, volatile: bool) {
        if let Some(sockets) = self.sockets.upgrade() {
            sockets.send_to(&mut sids.into_iter(), packet, volatile);
        }
    }

    /// Queues `packet` for every socket connected here, but those for which `skip` is true
    /// (`None`: none skipped); under the rules of [`send`](Self::send).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // Keep the `LocalNamespace` of `/` that the server hands its adapter.
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let io = SocketIo::builder()
    ///     .adapter(move |ns: LocalNamespace| {
    ///         let _ = tx.send(ns.clone());
    ///         Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
    ///     })
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move { socket.join("lobby") }))
    ///     .build();
    /// let ns = rx.recv().unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// # use tower_socketio::adapter::EncodedPacket;
    /// let packet = EncodedPacket::parse(r#"42["news","for everyone"]"#, vec![]).unwrap();
    /// ns.send_all(None, packet, false);
    /// assert_eq!(client.recv().await.unwrap().1, [Value::from("for everyone")]);
    /// # }
    /// ```
    pub fn send_all(
        &self,
        skip: Option<&dyn Fn(Sid) -> bool>,
        packet: EncodedPacket,
        volatile: bool,
    ) {
        if let Some(sockets) = self.sockets.upgrade() {
            sockets.send_all(skip, packet, volatile);
        }
    }

    /// Queues `packet` for each socket of `sids` connected here, each with an acknowledgement
    /// request (a fresh id of this namespace is written into the packet); each client's answer
    /// (its first argument) goes to `answers`. Returns how many sockets got the packet, the
    /// count to [`report`](Answers::report).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // Keep the `LocalNamespace` of `/` that the server hands its adapter.
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let io = SocketIo::builder()
    ///     .adapter(move |ns: LocalNamespace| {
    ///         let _ = tx.send(ns.clone());
    ///         Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
    ///     })
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move { socket.join("lobby") }))
    ///     .build();
    /// let ns = rx.recv().unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// # use std::time::Duration;
    /// # use tower_socketio::adapter::{Answers, EncodedPacket};
    /// let packet = EncodedPacket::parse(r#"42["vote?"]"#, vec![]).unwrap();
    /// let answers = Answers::new();
    /// answers.expect_reports(1);
    /// let reached = ns.send_with_ack(ns.sids(), packet, &answers);
    /// answers.report(reached);
    /// assert_eq!(reached, 1);
    /// assert_eq!(client.recv().await.unwrap().0, "vote?");
    /// // This test client does not answer: the gathering times out with what it got.
    /// let gathered = answers.gathered(Duration::from_millis(50)).await;
    /// assert_eq!((gathered.expected, gathered.answers.len(), gathered.complete), (1, 0, false));
    /// # }
    /// ```
    pub fn send_with_ack(
        &self,
        sids: impl IntoIterator<Item = Sid>,
        packet: EncodedPacket,
        answers: &Answers,
    ) -> usize {
        match self.sockets.upgrade() {
            Some(sockets) => sockets.send_with_ack(&mut sids.into_iter(), packet, answers),
            None => 0,
        }
    }

    /// The ids of the sockets connected here.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // Keep the `LocalNamespace` of `/` that the server hands its adapter.
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let io = SocketIo::builder()
    ///     .adapter(move |ns: LocalNamespace| {
    ///         let _ = tx.send(ns.clone());
    ///         Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
    ///     })
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move { socket.join("lobby") }))
    ///     .build();
    /// let ns = rx.recv().unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let sids = ns.sids();
    /// assert_eq!(sids.len(), 1);
    /// assert_eq!(sids[0].as_str(), client.socket_id());
    /// # }
    /// ```
    pub fn sids(&self) -> Vec<Sid> {
        self.sockets
            .upgrade()
            .map(|sockets| sockets.sids())
            .unwrap_or_default()
    }

    /// What other servers may know of socket `sid`, if it is connected here: its id, handshake,
    /// rooms and data (a `fetchSockets` answer).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // Keep the `LocalNamespace` of `/` that the server hands its adapter.
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let io = SocketIo::builder()
    ///     .adapter(move |ns: LocalNamespace| {
    ///         let _ = tx.send(ns.clone());
    ///         Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
    ///     })
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move { socket.join("lobby") }))
    ///     .build();
    /// let ns = rx.recv().unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let info = ns.socket_info(ns.sids()[0]).unwrap();
    /// assert!(info.rooms.contains(&"lobby".to_string()));
    /// assert_eq!(info.id.as_str(), client.socket_id());
    /// # }
    /// ```
    pub fn socket_info(&self, sid: Sid) -> Option<SocketInfo> {
        self.sockets.upgrade()?.socket_info(sid)
    }

    /// Disconnects socket `sid` if it is connected here: from the namespace (its client gets a
    /// DISCONNECT packet), or with `close`, its whole connection (Node:
    /// `socket.disconnect(close)`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // Keep the `LocalNamespace` of `/` that the server hands its adapter.
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let io = SocketIo::builder()
    ///     .adapter(move |ns: LocalNamespace| {
    ///         let _ = tx.send(ns.clone());
    ///         Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
    ///     })
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move { socket.join("lobby") }))
    ///     .build();
    /// let ns = rx.recv().unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// ns.disconnect(ns.sids()[0], false);
    /// assert!(client.recv().await.is_err()); // the DISCONNECT packet
    /// assert!(ns.sids().is_empty());
    /// # }
    /// ```
    pub fn disconnect(&self, sid: Sid, close: bool) {
        if let Some(sockets) = self.sockets.upgrade() {
            sockets.disconnect(sid, close);
        }
    }

    /// Runs `f` with this server's broadcasts coalesced, as they are while a handler runs:
    /// several broadcasts in a row to the same sockets share one queue entry per socket instead
    /// of one each (see the crate docs on broadcasts). An adapter that delivers a burst of
    /// broadcasts from other servers delivers them inside one batch. Order is kept whatever
    /// happens.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::adapter::{Adapter, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter};
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{SocketIo, Value};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # let (tx, rx) = std::sync::mpsc::channel();
    /// # let io = SocketIo::builder()
    /// #     .adapter(move |ns: LocalNamespace| {
    /// #         let _ = tx.send(ns.clone());
    /// #         Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
    /// #     })
    /// #     .build();
    /// # let ns = rx.recv().unwrap();
    /// # let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// // A burst of packets read from the bus, delivered to this server's sockets in one batch.
    /// let burst = [r#"42["tick",1]"#, r#"42["tick",2]"#, r#"42["tick",3]"#];
    /// ns.batch(|| {
    ///     for text in burst {
    ///         let packet = EncodedPacket::parse(text, vec![]).unwrap();
    ///         ns.send_all(None, packet, false);
    ///     }
    /// });
    /// for n in 1..=3i64 {
    ///     assert_eq!(client.recv().await.unwrap().1, [Value::from(n)]);
    /// }
    /// # }
    /// ```
    pub fn batch<R>(&self, f: impl FnOnce() -> R) -> R {
        let Some(sockets) = self.sockets.upgrade() else {
            return f();
        };
        let mut f = Some(f);
        let mut result = None;
        sockets.scope(&mut || {
            if let Some(f) = f.take() {
                result = Some(f());
            }
        });
        match result {
            Some(result) => result,
            None => (f.take().expect("the scope ran nothing"))(),
        }
    }

    /// Hands a server-side event another server emitted (Node: `serverSideEmit`) to the
    /// namespace's handler for `event`
    /// ([`Namespace::on_server_event`](crate::Namespace::on_server_event)); `reply`, when the
    /// sender wants an answer, is called with the handler's. Without a handler, it is dropped
    /// unanswered.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// use tower_socketio::{Namespace, ServerEvent, SocketIo, Value};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let io = SocketIo::builder()
    ///     .adapter(move |ns: LocalNamespace| {
    ///         let _ = tx.send(ns.clone());
    ///         Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
    ///     })
    ///     .ns("/", Namespace::new().on_server_event("double", |mut event: ServerEvent| async move {
    ///         let n = event.args.first().and_then(|n| n.clone().deserialize_into::<i64>().ok()).unwrap_or(0);
    ///         let _ = event.answer(&(2 * n));
    ///     }))
    ///     .build();
    /// let ns = rx.recv().unwrap();
    ///
    /// // Another server's `server_side_emit_with_ack("double", &21)`, as the adapter received it.
    /// let (answer_tx, answer_rx) = tokio::sync::oneshot::channel();
    /// ns.server_event("double", vec![Value::from(21i64)], Some(Box::new(move |answer| { let _ = answer_tx.send(answer); })));
    /// assert_eq!(answer_rx.await.unwrap(), Value::from(42i64));
    /// # let _ = io;
    /// # }
    /// ```
    pub fn server_event(&self, event: &str, args: Vec<Value>, reply: Option<ServerReply>) {
        if let Some(sockets) = self.sockets.upgrade() {
            sockets.server_event(event, args, reply);
        }
    }
}

/// Rooms and broadcasts of one namespace. See the [module documentation](self): its first
/// example wraps the [`MemoryAdapter`] to log every broadcast, and
/// [Writing an adapter for several servers](self#writing-an-adapter-for-several-servers) has a
/// worked multi-server adapter over a message bus. Each method below shows what an
/// implementation does (the room methods on a [`MemoryAdapter`], the others as an override in
/// an adapter for several servers). The Redis adapters (the `redis` feature) implement it for
/// Node's `@socket.io/redis-adapter` protocols.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use tower_socketio::adapter::{
///     Adapter, AdapterFuture, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Room,
/// };
/// use tower_socketio::engine::Sid;
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::SocketIo;
///
/// /// The memory adapter, counting broadcasts.
/// struct Counting { rooms: MemoryAdapter, broadcasts: Arc<AtomicUsize> }
///
/// impl Adapter for Counting {
///     fn namespace(&self) -> &LocalNamespace { self.rooms.namespace() }
///     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.rooms.add_all(sid, rooms) }
///     fn del(&self, sid: Sid, room: &str) { self.rooms.del(sid, room) }
///     fn del_all(&self, sid: Sid) { self.rooms.del_all(sid) }
///     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.rooms.socket_rooms(sid) }
///     fn rooms(&self) -> Vec<Room> { self.rooms.rooms() }
///     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.rooms.local_targets(opts) }
///     fn broadcast(&self, packet: EncodedPacket, opts: &BroadcastOptions) -> AdapterFuture<()> {
///         self.broadcasts.fetch_add(1, Ordering::Relaxed);
///         self.rooms.broadcast(packet, opts)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let broadcasts = Arc::new(AtomicUsize::new(0));
/// let counter = broadcasts.clone();
/// let io = SocketIo::builder()
///     .adapter(move |ns: LocalNamespace| {
///         Arc::new(Counting { rooms: MemoryAdapter::new(ns), broadcasts: counter.clone() }) as Arc<dyn Adapter>
///     })
///     .build();
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
///
/// let _ = io.emit("news", "one");
/// assert_eq!(client.recv().await.unwrap().0, "news");
/// assert_eq!(broadcasts.load(Ordering::Relaxed), 1);
/// # }
/// ```
pub trait Adapter: Send + Sync + 'static {
    /// The namespace this adapter serves, as it was made with.
    ///
    /// ```
    /// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    ///
    /// let adapter = MemoryAdapter::new(LocalNamespace::detached("/chat"));
    /// assert_eq!(adapter.namespace().name(), "/chat");
    /// ```
    fn namespace(&self) -> &LocalNamespace;
    /// Adds socket `sid` to `rooms`.
    ///
    /// ```
    /// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// use tower_socketio::engine::Sid;
    ///
    /// let adapter = MemoryAdapter::new(LocalNamespace::detached("/"));
    /// let sid = Sid::new();
    /// adapter.add_all(sid, &["red".into(), "blue".into()]);
    /// let mut rooms = adapter.socket_rooms(sid);
    /// rooms.sort();
    /// assert_eq!(rooms, ["blue", "red"]);
    /// ```
    fn add_all(&self, sid: Sid, rooms: &[Room]);
    /// Removes socket `sid` from `room`.
    ///
    /// ```
    /// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// use tower_socketio::engine::Sid;
    ///
    /// let adapter = MemoryAdapter::new(LocalNamespace::detached("/"));
    /// let sid = Sid::new();
    /// adapter.add_all(sid, &["red".into(), "blue".into()]);
    /// adapter.del(sid, "red");
    /// assert_eq!(adapter.socket_rooms(sid), ["blue"]);
    /// ```
    fn del(&self, sid: Sid, room: &str);
    /// Removes socket `sid` from every room.
    ///
    /// ```
    /// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// use tower_socketio::engine::Sid;
    ///
    /// let adapter = MemoryAdapter::new(LocalNamespace::detached("/"));
    /// let sid = Sid::new();
    /// adapter.add_all(sid, &["red".into(), "blue".into()]);
    /// adapter.del_all(sid); // the socket left the namespace
    /// assert!(adapter.socket_rooms(sid).is_empty());
    /// assert!(adapter.rooms().is_empty()); // empty rooms go
    /// ```
    fn del_all(&self, sid: Sid);
    /// The rooms socket `sid` is in.
    ///
    /// ```
    /// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// use tower_socketio::engine::Sid;
    ///
    /// let adapter = MemoryAdapter::new(LocalNamespace::detached("/"));
    /// let (a, b) = (Sid::new(), Sid::new());
    /// adapter.add_all(a, &["red".into()]);
    /// assert_eq!(adapter.socket_rooms(a), ["red"]);
    /// assert!(adapter.socket_rooms(b).is_empty());
    /// ```
    fn socket_rooms(&self, sid: Sid) -> Vec<Room>;
    /// Every room with at least one socket of this server.
    ///
    /// ```
    /// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    /// use tower_socketio::engine::Sid;
    ///
    /// let adapter = MemoryAdapter::new(LocalNamespace::detached("/"));
    /// adapter.add_all(Sid::new(), &["red".into()]);
    /// adapter.add_all(Sid::new(), &["red".into(), "blue".into()]);
    /// let mut rooms = adapter.rooms();
    /// rooms.sort();
    /// assert_eq!(rooms, ["blue", "red"]);
    /// ```
    fn rooms(&self) -> Vec<Room>;
    /// The ids of this server's sockets targeted by `opts`, each once.
    ///
    /// ```
    /// use tower_socketio::adapter::{Adapter, BroadcastOptions, LocalNamespace, MemoryAdapter};
    /// use tower_socketio::engine::Sid;
    ///
    /// let adapter = MemoryAdapter::new(LocalNamespace::detached("/"));
    /// let (a, b) = (Sid::new(), Sid::new());
    /// adapter.add_all(a, &["red".into()]);
    /// adapter.add_all(b, &["red".into(), "muted".into()]);
    /// // `io.to("red").except("muted")`
    /// let opts = BroadcastOptions {
    ///     rooms: ["red".to_string()].into(),
    ///     except: ["muted".to_string()].into(),
    ///     ..Default::default()
    /// };
    /// assert_eq!(adapter.local_targets(&opts), [a]);
    /// ```
    fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid>;

    /// Queues `packet` for every socket targeted by `opts`, on every server (this one's before
    /// this returns, as the default and the memory, classic and sharded Redis adapters do; the
    /// Redis streams adapter queues them as it reads its stream back, in the stream's order),
    /// under the rules of [`LocalNamespace::send`]. The future tells whether the other servers
    /// were reached. The default sends to this server's sockets.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     fn broadcast(&self, packet: EncodedPacket, opts: &BroadcastOptions) -> AdapterFuture<()> {
    ///         if !opts.local {
    ///             // The other servers rebuild it with `EncodedPacket::parse` and call their
    ///             // `MemoryAdapter::broadcast` with `local: true`.
    ///             self.bus.publish("broadcast", json!({
    ///                 "ns": self.namespace().name(),
    ///                 "text": packet.text(),
    ///                 "rooms": opts.rooms,
    ///                 "except": opts.except,
    ///             }));
    ///         }
    ///         self.local.broadcast(packet, opts) // this server's sockets
    ///     }
    /// }
    /// ```
    fn broadcast(&self, packet: EncodedPacket, opts: &BroadcastOptions) -> AdapterFuture<()> {
        let targets = self.local_targets(opts);
        self.namespace().send(targets, packet, opts.volatile);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Queues `packet` with an acknowledgement request for every socket targeted by `opts`, on
    /// every server: each server [reports](Answers::report) to `answers` how many of its
    /// clients got it (after [`expect_reports`](Answers::expect_reports) with the number of
    /// servers), then relays their answers. The default does this server's part.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     fn broadcast_with_ack(&self, packet: EncodedPacket, opts: &BroadcastOptions, answers: Answers) -> AdapterFuture<()> {
    ///         // Every server reports how many of its clients got the packet, this one included.
    ///         answers.expect_reports(self.bus.servers());
    ///         let count = self.namespace().send_with_ack(self.local_targets(opts), packet.clone(), &answers);
    ///         answers.report(count);
    ///         // The others do the same with `Answers::relaying`, and send back their report and each
    ///         // answer, which this server hands to `answers.report` and `answers.answer`.
    ///         self.bus.publish("broadcast_with_ack", json!({ "text": packet.text(), "rooms": opts.rooms }));
    ///         Box::pin(std::future::ready(Ok(())))
    ///     }
    /// }
    /// ```
    fn broadcast_with_ack(
        &self,
        packet: EncodedPacket,
        opts: &BroadcastOptions,
        answers: Answers,
    ) -> AdapterFuture<()> {
        answers.expect_reports(1);
        let count = self
            .namespace()
            .send_with_ack(self.local_targets(opts), packet, &answers);
        answers.report(count);
        Box::pin(std::future::ready(Ok(())))
    }

    /// The sockets targeted by `opts`, on every server (Node: `fetchSockets`). The default
    /// lists this server's.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
    ///         let mut found: Vec<SocketInfo> = self
    ///             .local_targets(opts)
    ///             .into_iter()
    ///             .filter_map(|sid| self.namespace().socket_info(sid))
    ///             .collect();
    ///         // Each other server answers with its own `SocketInfo`s (they serialize with Node's names).
    ///         let asking = self.bus.request("fetch_sockets", json!({ "rooms": opts.rooms, "except": opts.except }));
    ///         Box::pin(async move {
    ///             for answer in asking.await? {
    ///                 let theirs: Vec<SocketInfo> = serde_json::from_value(answer).map_err(|e| AdapterError(Box::new(e)))?;
    ///                 found.extend(theirs);
    ///             }
    ///             Ok(found)
    ///         })
    ///     }
    /// }
    /// ```
    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        let found = self
            .local_targets(opts)
            .into_iter()
            .filter_map(|sid| self.namespace().socket_info(sid))
            .collect();
        Box::pin(std::future::ready(Ok(found)))
    }

    /// Makes the sockets targeted by `opts` join `rooms` (Node: `socketsJoin`). The default
    /// does it on this server.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
    ///         if !opts.local {
    ///             self.bus.publish("add_sockets", json!({ "rooms": opts.rooms, "except": opts.except, "join": rooms }));
    ///         }
    ///         self.local.add_sockets(opts, rooms)
    ///     }
    /// }
    /// ```
    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        for sid in self.local_targets(opts) {
            self.add_all(sid, rooms);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    /// Makes the sockets targeted by `opts` leave `rooms` (Node: `socketsLeave`). The default
    /// does it on this server.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
    ///         if !opts.local {
    ///             self.bus.publish("del_sockets", json!({ "rooms": opts.rooms, "except": opts.except, "leave": rooms }));
    ///         }
    ///         self.local.del_sockets(opts, rooms)
    ///     }
    /// }
    /// ```
    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        for sid in self.local_targets(opts) {
            for room in rooms {
                self.del(sid, room);
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }

    /// Disconnects the sockets targeted by `opts` (Node: `disconnectSockets`); with `close`,
    /// their whole connections. The default does it on this server.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> AdapterFuture<()> {
    ///         if !opts.local {
    ///             // Each other server calls its `LocalNamespace::disconnect` for its targets.
    ///             self.bus.publish("disconnect_sockets", json!({ "rooms": opts.rooms, "except": opts.except, "close": close }));
    ///         }
    ///         self.local.disconnect_sockets(opts, close)
    ///     }
    /// }
    /// ```
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> AdapterFuture<()> {
        for sid in self.local_targets(opts) {
            self.namespace().disconnect(sid, close);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    /// Sends server-side event `event` with `args` to the other servers' namespace (Node:
    /// `serverSideEmit`; this server's handler does not get it). With `answers`, each other
    /// server answers once: the adapter [expects](Answers::expect) one answer a server and
    /// relays them. The default, alone, has no one to tell.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     fn server_side_emit(&self, event: &str, args: Vec<Value>, answers: Option<Answers>) -> AdapterFuture<()> {
    ///         // Each other server calls its `LocalNamespace::server_event(event, args, reply)`; with
    ///         // `answers`, its reply sends the answer back, which goes to `answers.answer`.
    ///         if let Some(answers) = &answers {
    ///             answers.expect(self.bus.servers() - 1);
    ///         }
    ///         self.bus.publish("server_side_emit", json!({ "event": event, "args": args, "ack": answers.is_some() }));
    ///         Box::pin(std::future::ready(Ok(())))
    ///     }
    /// }
    /// ```
    fn server_side_emit(
        &self,
        event: &str,
        args: Vec<Value>,
        answers: Option<Answers>,
    ) -> AdapterFuture<()> {
        let _ = (event, args, answers);
        Box::pin(std::future::ready(Ok(())))
    }

    /// How many servers share this namespace, this one included (Node: `serverCount`). The
    /// default: 1.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     fn server_count(&self) -> AdapterFuture<usize> {
    ///         let servers = self.bus.servers();
    ///         Box::pin(async move { Ok(servers) })
    ///     }
    /// }
    /// ```
    fn server_count(&self) -> AdapterFuture<usize> {
        Box::pin(std::future::ready(Ok(1)))
    }

    /// Keeps `session` (a socket that disconnected for a recoverable reason) for connection state
    /// recovery. The default keeps nothing.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     // Sessions kept in a shared store, so that a client may recover on any server.
    ///     fn persist_session(&self, session: Session) -> AdapterFuture<()> {
    ///         let key = format!("session:{}", session.pid);
    ///         let value = serde_json::to_value(&session).expect("a session serializes");
    ///         Box::pin(self.store.put(key, value))
    ///     }
    /// }
    /// ```
    fn persist_session(&self, session: Session) -> AdapterFuture<()> {
        let _ = session;
        Box::pin(std::future::ready(Ok(())))
    }

    /// Gives back the session of private id `pid` with the events its client missed after
    /// `offset` (since it connected, without one), each with its offset, in order; `None` when
    /// the session or any of those events is no longer kept (the client then gets a new
    /// socket). The default has nothing.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     fn restore_session(&self, pid: &str, offset: Option<&str>) -> AdapterFuture<Option<Restored>> {
    ///         let taking = self.store.take(format!("session:{pid}"));
    ///         let _ = offset; // a real adapter also reads the events stored after `offset`
    ///         Box::pin(async move {
    ///             let Some(value) = taking.await? else { return Ok(None) };
    ///             let session: Session = serde_json::from_value(value).map_err(|e| AdapterError(Box::new(e)))?;
    ///             Ok(Some(Restored { session, missed: Vec::new() }))
    ///         })
    ///     }
    /// }
    /// ```
    fn restore_session(&self, pid: &str, offset: Option<&str>) -> AdapterFuture<Option<Restored>> {
        let _ = (pid, offset);
        Box::pin(std::future::ready(Ok(None)))
    }

    /// Called once a socket that [`restore_session`](Self::restore_session) gave back is
    /// connected again (its missed events and CONNECT answer queued), or could not be (refused
    /// by a middleware, its client gone): an adapter that held events back for it while it was
    /// being restored sends them now. The default does nothing.
    ///
    /// ```
    /// # use std::collections::HashMap;
    /// # use std::sync::Mutex;
    /// # use tower_socketio::adapter::{Adapter, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Room};
    /// # use tower_socketio::engine::Sid;
    /// /// This server's rooms in memory; what comes for a socket being restored waits in `held`
    /// /// (the restoration put an entry there, the broadcasts add to it).
    /// struct Holding { local: MemoryAdapter, held: Mutex<HashMap<Sid, Vec<EncodedPacket>>> }
    ///
    /// impl Adapter for Holding {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     fn session_restored(&self, sid: Sid) {
    ///         let held = self.held.lock().unwrap().remove(&sid).unwrap_or_default();
    ///         // After its missed events and its CONNECT answer, in order.
    ///         for packet in held {
    ///             self.namespace().send([sid], packet, false);
    ///         }
    ///     }
    /// }
    /// ```
    fn session_restored(&self, sid: Sid) {
        let _ = sid;
    }

    /// Resolves once broadcasts to `room` from other servers reach this one, after a socket of
    /// this server joined it: an adapter that subscribes per room (the sharded Redis adapter)
    /// waits for that subscription. The default: at once.
    ///
    /// ```
    /// # use std::future::Future;
    /// # use tower_socketio::Value;
    /// # use tower_socketio::adapter::{Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace, MemoryAdapter, Restored, Room, Session, SocketInfo};
    /// # use tower_socketio::engine::Sid;
    /// # use serde_json::json;
    /// # /// Stands for a pub/sub client (Redis, NATS, Postgres `LISTEN/NOTIFY`...).
    /// # struct Bus;
    /// # impl Bus {
    /// #     fn publish(&self, _topic: &str, _message: serde_json::Value) {}
    /// #     fn request(&self, _topic: &str, _message: serde_json::Value) -> impl Future<Output = Result<Vec<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(Vec::new()) } }
    /// #     fn subscribe(&self, _channel: String) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn servers(&self) -> usize { 1 }
    /// # }
    /// # struct Store;
    /// # impl Store {
    /// #     fn put(&self, _key: String, _value: serde_json::Value) -> impl Future<Output = Result<(), AdapterError>> + Send + 'static { async { Ok(()) } }
    /// #     fn take(&self, _key: String) -> impl Future<Output = Result<Option<serde_json::Value>, AdapterError>> + Send + 'static { async { Ok(None) } }
    /// # }
    /// /// This server's rooms in memory; the other servers reached through a bus.
    /// struct ClusterAdapter { local: MemoryAdapter, bus: Bus, store: Store }
    ///
    /// impl Adapter for ClusterAdapter {
    /// #     fn namespace(&self) -> &LocalNamespace { self.local.namespace() }
    /// #     fn add_all(&self, sid: Sid, rooms: &[Room]) { self.local.add_all(sid, rooms) }
    /// #     fn del(&self, sid: Sid, room: &str) { self.local.del(sid, room) }
    /// #     fn del_all(&self, sid: Sid) { self.local.del_all(sid) }
    /// #     fn socket_rooms(&self, sid: Sid) -> Vec<Room> { self.local.socket_rooms(sid) }
    /// #     fn rooms(&self) -> Vec<Room> { self.local.rooms() }
    /// #     fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> { self.local.local_targets(opts) }
    ///     // An adapter that subscribes to one channel a room.
    ///     fn room_ready(&self, room: &str) -> AdapterFuture<()> {
    ///         Box::pin(self.bus.subscribe(format!("room:{}:{room}", self.namespace().name())))
    ///     }
    /// }
    /// ```
    fn room_ready(&self, room: &str) -> AdapterFuture<()> {
        let _ = room;
        Box::pin(std::future::ready(Ok(())))
    }
}
