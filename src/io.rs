//! The Socket.IO server: [`SocketIo`] and its builder. What runs each connection is
//! [`IoHandler`](crate::client::IoHandler), in `client`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::adapter::RecoveryConfig;
use crate::adapter::RoomObserver;
use crate::adapter::{Adapter, IntoRooms, LocalNamespace, MemoryAdapter};
use crate::broadcast::{BroadcastOperator, Emitted, RemoteSocket};
use crate::client::{IoHandler, NsMatcher};
use crate::engine::EngineIo;
use crate::engine::config::EngineConfig;
use crate::error::{BroadcastError, ObserverTaken};
use crate::layer::SocketIoLayer;
use crate::ns::{AdapterFactory, Dispatch, Namespace, NsCore, NsOptions, Routes};
use crate::parser::Parser;
use crate::socket::{SocketObserver, SocketRef};

/// A Socket.IO server. Cloning is cheap and shares the server.
///
/// ```no_run
/// use axum::Router;
/// use tower_socketio::{Namespace, SocketIo, SocketRef};
/// use tower_socketio::extract::Args;
///
/// # async fn run() -> std::io::Result<()> {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("echo", |socket: SocketRef, args: Args| async move {
///         let _ = socket.emit("echo", &args);
///     }))
///     .build();
/// let app = Router::new().layer(io.layer());
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
#[derive(Clone)]
pub struct SocketIo {
    engine: EngineIo<IoHandler>,
}

impl fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketIo")
            .field("engine", &self.engine)
            .finish()
    }
}

impl SocketIo {
    /// A builder, with the default options and no namespace but `/`.
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// let io = SocketIo::builder().ns("/", Namespace::new()).build();
    /// # let _ = io;
    /// ```
    pub fn builder() -> SocketIoBuilder<()> {
        SocketIoBuilder {
            config: EngineConfig::default(),
            connect_timeout: Duration::from_millis(45_000),
            ack_timeout: Duration::from_millis(5_000),
            recovery: None,
            parser: Parser::Default,
            state: (),
            namespaces: HashMap::new(),
            dynamic: Vec::new(),
            adapter: Arc::new(|ns: LocalNamespace| {
                Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
            }),
        }
    }

    /// The layer that mounts the server on a tower or axum app: requests under the path
    /// ([`EngineConfig::path`], `/socket.io/` by default) go to the server, the others to the
    /// app.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use tower_socketio::SocketIo;
    ///
    /// let io = SocketIo::builder().build();
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "the page" }))
    ///     .layer(io.layer());
    /// # let _ = app;
    /// ```
    pub fn layer(&self) -> SocketIoLayer {
        self.engine.layer()
    }

    /// Serves the server alone on `addr` (the 1.x README's standalone `listen(3000)`) until the
    /// process gets Ctrl-C or `SIGTERM`, then shuts down gracefully (see [`serve`](Self::serve)).
    ///
    /// ```no_run
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// #[tokio::main]
    /// async fn main() -> std::io::Result<()> {
    ///     let io = SocketIo::builder()
    ///         .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
    ///             let _ = socket.emit("hello", "world");
    ///         }))
    ///         .build();
    ///     io.listen("0.0.0.0:3000").await
    /// }
    /// ```
    pub async fn listen(self, addr: impl tokio::net::ToSocketAddrs) -> std::io::Result<()> {
        self.engine.listen(addr).await
    }

    /// Serves connections from `listener` until `shutdown` completes (e.g.
    /// [`serve::shutdown_signal`](crate::serve::shutdown_signal)), then shuts down gracefully:
    /// new connections are refused, every client is disconnected with
    /// [`DisconnectReason::ServerShuttingDown`](crate::DisconnectReason::ServerShuttingDown) (a
    /// reason connection state recovery restores from), and this returns once every session has
    /// closed or [`EngineConfig::shutdown_timeout`](crate::EngineConfig::shutdown_timeout)
    /// passed.
    ///
    /// ```no_run
    /// use tower_socketio::SocketIo;
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let io = SocketIo::builder().build();
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// println!("listening on {}", listener.local_addr()?);
    /// // Shut down on Ctrl-C, or on a signal of your own (a oneshot channel...).
    /// io.serve(listener, tower_socketio::serve::shutdown_signal()).await
    /// # }
    /// ```
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        self.engine.serve(listener, shutdown).await
    }

    /// The underlying Engine.IO server (Node: `io.engine`).
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo) {
    /// // Node: io.engine.clientsCount
    /// let connections = io.engine().session_count();
    /// # let _ = connections;
    /// # }
    /// ```
    pub fn engine(&self) -> &EngineIo<IoHandler> {
        &self.engine
    }

    /// The sockets connected to namespace `ns` (Node: `io.of(ns).sockets`); empty for a
    /// namespace that does not exist.
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().ns("/chat", Namespace::new()).build();
    /// let client = TestClient::connect(axum::Router::new().layer(io.layer()), "/chat").await.unwrap();
    ///
    /// let sockets = io.sockets("/chat");
    /// assert_eq!(sockets.len(), 1);
    /// assert_eq!(sockets[0].id().as_str(), client.socket_id());
    /// assert!(io.sockets("/").is_empty());
    /// assert!(io.sockets("/nowhere").is_empty());
    /// # }
    /// ```
    pub fn sockets(&self, ns: &str) -> Vec<SocketRef> {
        self.engine
            .handler()
            .existing_namespace(ns)
            .map(|ns| ns.sockets())
            .unwrap_or_default()
    }

    /// The operators of namespace `ns` (Node: `io.of(ns)`): broadcasts and server-side utilities
    /// on its sockets. `None` for a namespace that does not exist.
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().ns("/admin", Namespace::new()).build();
    /// let admin = io.of("/admin").unwrap();
    /// let _ = admin.clone().to("alerts").emit("alert", "disk almost full");
    /// assert!(admin.fetch_sockets().await.unwrap().is_empty()); // no one connected yet
    /// assert!(io.of("/nowhere").is_none());
    /// # }
    /// ```
    pub fn of(&self, ns: &str) -> Option<BroadcastOperator> {
        self.engine
            .handler()
            .existing_namespace(ns)
            .map(|ns| BroadcastOperator::new(ns))
    }

    /// The operators of the main namespace `/`.
    fn main(&self) -> BroadcastOperator {
        self.of("/").expect("the main namespace always exists")
    }

    /// Targets the sockets of `/` in `rooms` (Node: `io.to(room)`); other namespaces through
    /// [`of`](Self::of).
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move { socket.join("lobby") }))
    ///     .build();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    ///
    /// let _ = io.to("lobby").emit("news", "from outside any handler");
    /// assert_eq!(client.recv().await.unwrap().1, [Value::from("from outside any handler")]);
    /// # }
    /// ```
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.main().to(rooms)
    }

    /// The same as [`to`](Self::to) (Node: `io.in(room)`).
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// let _ = io.within("lobby").sockets_join("everyone-in-lobby").await;
    /// # }
    /// ```
    pub fn within(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.main().to(rooms)
    }

    /// Targets the sockets of `/` but those in `rooms` (Node: `io.except(room)`).
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo) {
    /// let _ = io.except("muted").emit("announcement", "hello");
    /// # }
    /// ```
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.main().except(rooms)
    }

    /// Emits to every socket of `/` (Node: `io.emit`); see [`BroadcastOperator::emit`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::SocketIo;
    ///
    /// # async fn run() {
    /// let io = SocketIo::builder().build();
    /// // A clock for every client, from a task of its own.
    /// let clock = io.clone();
    /// tokio::spawn(async move {
    ///     let mut every_second = tokio::time::interval(Duration::from_secs(1));
    ///     for tick in 0u64.. {
    ///         every_second.tick().await;
    ///         let _ = clock.emit("tick", &tick);
    ///     }
    /// });
    /// # }
    /// ```
    pub fn emit<T: serde::Serialize + ?Sized>(&self, event: &str, data: &T) -> Emitted {
        self.main().emit(event, data)
    }

    /// The sockets of `/` on every server (Node: `io.fetchSockets()`).
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::SocketIo;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let _a = TestClient::connect(app.clone(), "/").await.unwrap();
    /// let _b = TestClient::connect(app, "/").await.unwrap();
    /// assert_eq!(io.fetch_sockets().await.unwrap().len(), 2);
    /// # }
    /// ```
    pub fn fetch_sockets(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<RemoteSocket>, BroadcastError>>
    + Send
    + 'static
    + use<> {
        self.main().fetch_sockets()
    }

    /// Emits server-side event `event` to `/` on the other servers (Node:
    /// `io.serverSideEmit`); see [`BroadcastOperator::server_side_emit`].
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// // The other servers' `Namespace::on_server_event("reload-config", ...)` get it.
    /// let _ = io.server_side_emit("reload-config", &()).await;
    /// # }
    /// ```
    pub fn server_side_emit<T: serde::Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> impl std::future::Future<Output = Result<(), BroadcastError>> + Send + 'static + use<T>
    {
        self.main().server_side_emit(event, data)
    }

    /// How many servers share `/`, this one included (Node: `io.serverCount()`... of the
    /// adapter).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = tower_socketio::SocketIo::builder().build();
    /// assert_eq!(io.server_count().await.unwrap(), 1);
    /// # }
    /// ```
    pub fn server_count(&self) -> crate::adapter::AdapterFuture<usize> {
        self.main().server_count()
    }

    /// Closes every client connection, as for a server shutdown (Node: `io.close()`): each
    /// socket's disconnect handler runs with [`DisconnectReason::ServerShuttingDown`](crate::DisconnectReason::ServerShuttingDown).
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{DisconnectReason, Namespace, SocketIo, SocketRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (tx, mut reasons) = tokio::sync::mpsc::unbounded_channel();
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_disconnect(move |reason: DisconnectReason| {
    ///         let tx = tx.clone();
    ///         async move { let _ = tx.send(reason); }
    ///     }))
    ///     .build();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    ///
    /// io.close();
    /// assert!(client.recv().await.is_err()); // the client gets the `close` packet
    /// assert_eq!(reasons.recv().await, Some(DisconnectReason::ServerShuttingDown));
    /// # }
    /// ```
    pub fn close(&self) {
        self.engine.close();
    }

    /// Installs the server's [`SocketObserver`]: from now on it is told of every socket's
    /// connection, events both ways, upgrade, data updates and disconnection, in every namespace
    /// (sockets already connected are not observed). There is at most one per server: `Err`
    /// when one is already installed. See [`SocketObserver`] for an example; the admin UI
    /// (feature `admin`) installs one.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use tower_socketio::{Socket, SocketIo, SocketObserver};
    /// use tower_socketio::testing::TestClient;
    ///
    /// #[derive(Default)]
    /// struct Connections(AtomicUsize);
    /// impl SocketObserver for Connections {
    ///     fn connected(&self, _: &Socket) { self.0.fetch_add(1, Ordering::Relaxed); }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder().build();
    /// let connections = Arc::new(Connections::default());
    /// io.observe_sockets(connections.clone()).unwrap();
    /// assert!(io.observe_sockets(connections.clone()).is_err()); // one per server
    /// let app = axum::Router::new().layer(io.layer());
    /// let _a = TestClient::connect(app.clone(), "/").await.unwrap();
    /// let _b = TestClient::connect(app, "/").await.unwrap();
    /// assert_eq!(connections.0.load(Ordering::Relaxed), 2);
    /// # });
    /// ```
    pub fn observe_sockets(&self, observer: Arc<dyn SocketObserver>) -> Result<(), ObserverTaken> {
        let slot = &self.engine.handler().options().socket_observer;
        slot.set(observer).map_err(|_| ObserverTaken)
    }

    /// Installs the server's [`RoomObserver`]: from now on it is told of every local socket
    /// joining or leaving a room, in every namespace. There is at most one per server: `Err`
    /// when one is already installed. See [`RoomObserver`] for more.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use tower_socketio::adapter::RoomObserver;
    /// use tower_socketio::engine::Sid;
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::SocketIo;
    ///
    /// #[derive(Default)]
    /// struct Joins(AtomicUsize);
    /// impl RoomObserver for Joins {
    ///     fn room_joined(&self, _: &str, _: &str, _: Sid) { self.0.fetch_add(1, Ordering::Relaxed); }
    ///     fn room_left(&self, _: &str, _: &str, _: Sid) {}
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder().build();
    /// let joins = Arc::new(Joins::default());
    /// io.observe_rooms(joins.clone()).unwrap();
    /// let _client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// assert_eq!(joins.0.load(Ordering::Relaxed), 1); // a socket joins its own room
    /// # });
    /// ```
    pub fn observe_rooms(&self, observer: Arc<dyn RoomObserver>) -> Result<(), ObserverTaken> {
        let slot = &self.engine.handler().options().room_observer;
        slot.set(observer).map_err(|_| ObserverTaken)
    }

    /// Whether neither observer is installed yet.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    pub(crate) fn observers_free(&self) -> bool {
        let options = self.engine.handler().options();
        options.socket_observer.get().is_none() && options.room_observer.get().is_none()
    }

    /// Adds a namespace to a built server (the admin namespace); replaces none.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    pub(crate) fn add_ns(&self, name: &str, namespace: Namespace<()>) -> bool {
        let routes = Routes {
            ns: namespace,
            state: (),
        };
        self.engine.handler().add_namespace(name, Arc::new(routes))
    }

    /// Every namespace with its local socket count.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    pub(crate) fn namespaces(&self) -> Vec<(String, usize)> {
        self.engine.handler().namespace_sizes()
    }

    /// A handle that does not keep the server alive.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    pub(crate) fn downgrade(&self) -> WeakSocketIo {
        WeakSocketIo(Arc::downgrade(&self.engine.shared))
    }
}

/// A [`SocketIo`] that does not keep the server alive (for the server's own tasks and handlers).
#[derive(Clone)]
#[cfg_attr(not(feature = "admin"), allow(dead_code))]
pub(crate) struct WeakSocketIo(std::sync::Weak<crate::engine::EngineShared<IoHandler>>);

#[cfg_attr(not(feature = "admin"), allow(dead_code))]
impl WeakSocketIo {
    /// The server, while something else keeps it.
    pub(crate) fn upgrade(&self) -> Option<SocketIo> {
        Some(SocketIo {
            engine: EngineIo::from_shared(self.0.upgrade()?),
        })
    }
}

/// Builds a [`SocketIo`]: options, application state, namespaces.
///
/// ```
/// use std::time::Duration;
/// use tower_socketio::extract::State;
/// use tower_socketio::{EngineConfig, Namespace, SocketIo, SocketRef};
///
/// #[derive(Clone)]
/// struct Db;
///
/// let io = SocketIo::builder()
///     .config(EngineConfig::default().ping_interval(Duration::from_secs(10)))
///     .connect_timeout(Duration::from_secs(10))
///     .with_state(Db)
///     .ns("/", Namespace::new().on_connect(|_socket: SocketRef, State(_db): State<Db>| async {}))
///     .ns("/admin", Namespace::new())
///     .build();
/// # let _ = io;
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct SocketIoBuilder<S> {
    config: EngineConfig,
    connect_timeout: Duration,
    ack_timeout: Duration,
    recovery: Option<RecoveryConfig>,
    parser: Parser,
    state: S,
    namespaces: HashMap<String, Arc<dyn Dispatch>>,
    dynamic: Vec<(NsMatcher, Arc<dyn Dispatch>)>,
    adapter: AdapterFactory,
}

impl<S> fmt::Debug for SocketIoBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketIoBuilder")
            .field("config", &self.config)
            .field("connect_timeout", &self.connect_timeout)
            .field("parser", &self.parser)
            .field("namespaces", &self.namespaces.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<S: Clone + Send + Sync + 'static> SocketIoBuilder<S> {
    /// The Engine.IO options: path, heartbeat, limits, transports, origins... (default
    /// [`EngineConfig::default`], whose path is `/socket.io/`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::{EngineConfig, SocketIo};
    ///
    /// let io = SocketIo::builder()
    ///     .config(EngineConfig::default().path("/realtime/").ping_interval(Duration::from_secs(10)))
    ///     .build();
    /// # let _ = io;
    /// ```
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// How long a client may stay connected without joining any namespace (Node:
    /// `connectTimeout`). Default 45 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::SocketIo;
    ///
    /// let io = SocketIo::builder().connect_timeout(Duration::from_secs(10)).build();
    /// # let _ = io;
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long [`Socket::emit_with_ack`](crate::Socket::emit_with_ack) waits for the client's answer by default. Default 5 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::SocketIo;
    ///
    /// let io = SocketIo::builder().ack_timeout(Duration::from_secs(30)).build();
    /// # let _ = io;
    /// ```
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// The Socket.IO parser (Node: the `parser` option): [`Parser::Default`] unless set. The
    /// clients must use the same one: there is no negotiation, and a client with the other
    /// parser is disconnected at its first packet (the server logs a warning saying so).
    ///
    /// With the `msgpack` feature, `Parser::MsgPack` speaks Node's `socket.io-msgpack-parser`
    /// 3.x: in Node, `io(url, { parser: require("socket.io-msgpack-parser") })`; in the browser,
    /// the bundle this server serves at `<path>/socket.io.msgpack.min.js` (feature
    /// `client-bundle`, on by default). Everything else (extractors, acknowledgements,
    /// broadcasts, binary anywhere, connection state recovery, the Redis adapters) works the
    /// same with either parser.
    ///
    /// ```
    /// # #[cfg(feature = "msgpack")] {
    /// use tower_socketio::extract::{AckSender, Data};
    /// use tower_socketio::{Namespace, Parser, SocketIo};
    ///
    /// let io = SocketIo::builder()
    ///     .parser(Parser::MsgPack)
    ///     .ns("/", Namespace::new().on("upload", |ack: AckSender, Data(file): Data<bytes::Bytes>| async move {
    ///         // The browser's `socket.emit("upload", new Uint8Array([1, 2]), (n) => ...)`:
    ///         // binary arrives inline in the packet, and the answer goes back as MessagePack.
    ///         let _ = ack.send(&file.len());
    ///     }))
    ///     .build();
    /// # let _ = io;
    /// # }
    /// ```
    pub fn parser(mut self, parser: Parser) -> Self {
        self.parser = parser;
        self
    }

    /// Turns connection state recovery on (Node: `connectionStateRecovery`; off by default): a
    /// client that lost its connection and comes back in time gets its socket back (id, rooms,
    /// data) and every event it missed. See [`RecoveryConfig`] for what is kept and for how long;
    /// the adapter keeps it ([`MemoryAdapter`] in memory). Only clients of protocol v5
    /// (socket.io-client 3.x and 4.x) recover.
    ///
    /// ```
    /// use tower_socketio::{Namespace, RecoveryConfig, SocketIo, SocketRef};
    ///
    /// let io = SocketIo::builder()
    ///     .connection_state_recovery(RecoveryConfig::default())
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
    ///         if !socket.recovered() {
    ///             socket.join("lobby"); // a recovered socket is in its rooms already
    ///         }
    ///     }))
    ///     .build();
    /// # let _ = io;
    /// ```
    pub fn connection_state_recovery(mut self, config: RecoveryConfig) -> Self {
        self.recovery = Some(config);
        self
    }

    /// The application state handlers get with the [`State`](crate::extract::State)
    /// extractor, for the namespaces added after this call.
    ///
    /// Call it before [`ns`](SocketIoBuilder::ns): a namespace is checked against the state type
    /// when it is added (its handlers' `State<S>` must be the builder's `S`), as axum's
    /// `Router::with_state` fixes the state of the routes it holds, so that a handler asking for
    /// a state the server does not have fails to compile rather than at run time.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_socketio::extract::{AckSender, State};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// #[derive(Clone)]
    /// struct AppState { greeting: Arc<str> }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .with_state(AppState { greeting: "welcome".into() })
    ///     .ns("/", Namespace::new().on("greet", |ack: AckSender, State(state): State<AppState>| async move {
    ///         let _ = ack.send(&*state.greeting);
    ///     }))
    ///     .build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let greeting: String = client.emit_with_ack("greet", &()).await.unwrap();
    /// assert_eq!(greeting, "welcome");
    /// # }
    /// ```
    ///
    /// A handler asking for another state does not compile:
    ///
    /// ```compile_fail
    /// use tower_socketio::extract::State;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// let io = SocketIo::builder()
    ///     .with_state(42u32)
    ///     .ns("/", Namespace::new().on_connect(|_s: SocketRef, State(name): State<String>| async {}))
    ///     .build();
    /// ```
    ///
    /// `examples/state.rs` shares one state between the handlers and axum routes.
    pub fn with_state<S2: Clone + Send + Sync + 'static>(self, state: S2) -> SocketIoBuilder<S2> {
        SocketIoBuilder {
            config: self.config,
            connect_timeout: self.connect_timeout,
            ack_timeout: self.ack_timeout,
            recovery: self.recovery,
            parser: self.parser,
            state,
            namespaces: self.namespaces,
            dynamic: self.dynamic,
            adapter: self.adapter,
        }
    }

    /// Adds (or replaces) the namespace `name` (Node: `io.of(name)`), e.g. `"/"` or `"/admin"`.
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new())
    ///     .ns("/admin", Namespace::new().on_connect(|socket: SocketRef| async move {
    ///         let _ = socket.emit("hello", "admin");
    ///     }))
    ///     .build();
    ///
    /// // io("/admin") in the browser.
    /// let mut admin = TestClient::connect(axum::Router::new().layer(io.layer()), "/admin").await.unwrap();
    /// assert_eq!(admin.recv().await.unwrap().0, "hello");
    /// # }
    /// ```
    pub fn ns(mut self, name: impl Into<String>, namespace: Namespace<S>) -> Self {
        let mut name = name.into();
        if !name.starts_with('/') {
            name.insert(0, '/');
        }
        let routes = Routes {
            ns: namespace,
            state: self.state.clone(),
        };
        self.namespaces.insert(name, Arc::new(routes));
        self
    }

    /// How each namespace's rooms and broadcasts are kept (Node: `adapter`): `make` is called
    /// once per namespace (`/` and the other static ones at [`build`](Self::build), a dynamic
    /// one when it is created) with the namespace's [`LocalNamespace`], and returns its
    /// adapter. Default: a [`MemoryAdapter`] each. See [`adapter`](crate::adapter) for writing
    /// one.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_socketio::SocketIo;
    /// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    ///
    /// let io = SocketIo::builder()
    ///     .adapter(|ns: LocalNamespace| Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>)
    ///     .build();
    /// # let _ = io;
    /// ```
    pub fn adapter<F>(mut self, make: F) -> Self
    where
        F: Fn(LocalNamespace) -> Arc<dyn Adapter> + Send + Sync + 'static,
    {
        self.adapter = Arc::new(make);
        self
    }

    /// Adds a dynamic namespace (Node: `io.of(regex | fn)`): a client may join any namespace
    /// whose name `matches` accepts; each such name becomes a namespace of its own (its own
    /// sockets and rooms) when its first client joins, with `namespace`'s routes. Static
    /// namespaces are matched first, then dynamic ones in the order added.
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// let io = SocketIo::builder()
    ///     .dynamic_ns(
    ///         |name: &str| name.starts_with("/team-"),
    ///         Namespace::new().on_connect(|socket: SocketRef| async move {
    ///             let _ = socket.emit("joined", socket.ns());
    ///         }),
    ///     )
    ///     .build();
    /// # let _ = io;
    /// ```
    pub fn dynamic_ns<F>(mut self, matches: F, namespace: Namespace<S>) -> Self
    where
        F: Fn(&str) -> bool + Send + Sync + 'static,
    {
        let routes = Routes {
            ns: namespace,
            state: self.state.clone(),
        };
        self.dynamic.push((Arc::new(matches), Arc::new(routes)));
        self
    }

    /// Builds the server.
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// let io = SocketIo::builder().ns("/", Namespace::new()).build();
    /// let layer = io.layer(); // to mount on an app
    /// # let _ = layer;
    /// ```
    pub fn build(self) -> SocketIo {
        let options = NsOptions {
            ack_timeout: self.ack_timeout,
            recovery: self.recovery.map(Arc::new),
            socket_observer: Default::default(),
            room_observer: Default::default(),
            parser: self.parser,
        };
        // Every namespace gets its adapter from the factory, static ones and `/` included.
        let adapter = &self.adapter;
        let core =
            |name: String, routes: Arc<dyn Dispatch>| NsCore::new(name, routes, adapter, &options);
        let mut namespaces: HashMap<String, Arc<NsCore>> = self
            .namespaces
            .into_iter()
            .map(|(name, routes)| (name.clone(), core(name, routes)))
            .collect();
        // The main namespace always exists, as in Node.
        namespaces.entry("/".to_owned()).or_insert_with(|| {
            let routes: Routes<()> = Routes {
                ns: Namespace::new(),
                state: (),
            };
            core("/".to_owned(), Arc::new(routes))
        });
        let handler = IoHandler::new(
            namespaces,
            self.dynamic,
            self.adapter,
            self.connect_timeout,
            options,
        );
        SocketIo {
            engine: EngineIo::new(self.config, handler),
        }
    }
}
