//! The Socket.IO server: [`SocketIo`] and its builder. What runs each connection is
//! [`IoHandler`](crate::client::IoHandler), in `client`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::adapter::RecoveryConfig;
use crate::adapter::{Adapter, IntoRooms, LocalNamespace, MemoryAdapter};
use crate::broadcast::{BroadcastOperator, Emitted, RemoteSocket};
use crate::client::{IoHandler, NsMatcher};
use crate::engine::EngineIo;
use crate::engine::config::EngineConfig;
use crate::error::BroadcastError;
use crate::layer::SocketIoLayer;
use crate::ns::{AdapterFactory, Dispatch, Namespace, NsCore, NsOptions, Routes};
use crate::socket::SocketRef;

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
    pub fn builder() -> SocketIoBuilder<()> {
        SocketIoBuilder {
            config: EngineConfig::default(),
            connect_timeout: Duration::from_millis(45_000),
            ack_timeout: Duration::from_millis(5_000),
            recovery: None,
            state: (),
            namespaces: HashMap::new(),
            dynamic: Vec::new(),
            adapter: Arc::new(|ns: LocalNamespace| {
                Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
            }),
        }
    }

    /// The layer that mounts the server on a tower or axum app.
    pub fn layer(&self) -> SocketIoLayer {
        self.engine.layer()
    }

    /// Serves the server alone on `addr` (the 1.x README's standalone `listen(3000)`) until the
    /// process gets Ctrl-C or `SIGTERM`, then shuts down gracefully (see [`serve`](Self::serve)).
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
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        self.engine.serve(listener, shutdown).await
    }

    /// The underlying Engine.IO server (Node: `io.engine`).
    pub fn engine(&self) -> &EngineIo<IoHandler> {
        &self.engine
    }

    /// The sockets connected to namespace `ns` (Node: `io.of(ns).sockets`); empty for a
    /// namespace that does not exist.
    pub fn sockets(&self, ns: &str) -> Vec<SocketRef> {
        self.engine
            .handler()
            .existing_namespace(ns)
            .map(|ns| ns.sockets())
            .unwrap_or_default()
    }

    /// The operators of namespace `ns` (Node: `io.of(ns)`): broadcasts and server-side utilities
    /// on its sockets. `None` for a namespace that does not exist.
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

    /// Targets the sockets of `/` in `rooms` (Node: `io.to(room)`).
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.main().to(rooms)
    }

    /// The same as [`to`](Self::to) (Node: `io.in(room)`).
    pub fn within(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.main().to(rooms)
    }

    /// Targets the sockets of `/` but those in `rooms` (Node: `io.except(room)`).
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.main().except(rooms)
    }

    /// Emits to every socket of `/` (Node: `io.emit`); see [`BroadcastOperator::emit`].
    pub fn emit<T: serde::Serialize + ?Sized>(&self, event: &str, data: &T) -> Emitted {
        self.main().emit(event, data)
    }

    /// The sockets of `/` on every server (Node: `io.fetchSockets()`).
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
    pub fn server_count(&self) -> crate::adapter::AdapterFuture<usize> {
        self.main().server_count()
    }

    /// Closes every client connection, as for a server shutdown (Node: `io.close()`): each
    /// socket's disconnect handler runs with [`DisconnectReason::ServerShuttingDown`](crate::DisconnectReason::ServerShuttingDown).
    pub fn close(&self) {
        self.engine.close();
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
            .field("namespaces", &self.namespaces.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<S: Clone + Send + Sync + 'static> SocketIoBuilder<S> {
    /// The Engine.IO options: path, heartbeat, limits, transports, origins... (default
    /// [`EngineConfig::default`], whose path is `/socket.io/`).
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// How long a client may stay connected without joining any namespace (Node:
    /// `connectTimeout`). Default 45 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long [`Socket::emit_with_ack`](crate::Socket::emit_with_ack) waits for the client's answer by default. Default 5 s.
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
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
    pub fn with_state<S2: Clone + Send + Sync + 'static>(self, state: S2) -> SocketIoBuilder<S2> {
        SocketIoBuilder {
            config: self.config,
            connect_timeout: self.connect_timeout,
            ack_timeout: self.ack_timeout,
            recovery: self.recovery,
            state,
            namespaces: self.namespaces,
            dynamic: self.dynamic,
            adapter: self.adapter,
        }
    }

    /// Adds (or replaces) the namespace `name` (Node: `io.of(name)`), e.g. `"/"` or `"/admin"`.
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
    pub fn build(self) -> SocketIo {
        let options = NsOptions {
            ack_timeout: self.ack_timeout,
            recovery: self.recovery.map(Arc::new),
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
