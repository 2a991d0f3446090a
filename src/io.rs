//! The Socket.IO server: [`SocketIo`] and its builder, and the Engine.IO handler that runs the
//! Socket.IO protocol on each connection (namespace multiplexing, binary reassembly, dispatch).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::adapter::{Adapter, MemoryAdapter};
use crate::broadcast::{BroadcastOperator, Emitted, IntoRooms};
use crate::engine::config::EngineConfig;
use crate::engine::{self, EngineHandler, EngineIo, Message, ProtocolVersion, Sid};
use crate::handler;
use crate::layer::SocketIoLayer;
use crate::ns::{Dispatch, NameMap, Namespace, NsCore, Routes};
use crate::parser::{self, Kind, RawPacket};
use crate::socket::{DisconnectReason, Handshake, Socket, SocketRef};
use crate::value::Value;

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
            state: (),
            namespaces: HashMap::new(),
            dynamic: Vec::new(),
            adapter: Arc::new(|_: &str| Arc::new(MemoryAdapter::new()) as Arc<dyn Adapter>),
        }
    }

    /// The layer that mounts the server on a tower or axum app.
    pub fn layer(&self) -> SocketIoLayer<IoHandler> {
        self.engine.layer()
    }

    /// Serves the server alone on `addr` (the 1.x README's standalone `listen(3000)`).
    pub async fn listen(self, addr: impl tokio::net::ToSocketAddrs) -> std::io::Result<()> {
        self.engine.listen(addr).await
    }

    /// Serves connections from `listener` until `shutdown` completes, then closes every client.
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
            .map(BroadcastOperator::new)
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
    pub fn fetch_sockets(&self) -> crate::adapter::AdapterFuture<Vec<SocketRef>> {
        self.main().fetch_sockets()
    }

    /// Closes every client connection, as for a server shutdown (Node: `io.close()`): each
    /// socket's disconnect handler runs with [`DisconnectReason::ServerShuttingDown`].
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
    state: S,
    namespaces: HashMap<String, Arc<dyn Dispatch>>,
    dynamic: Vec<(NsMatcher, Arc<dyn Dispatch>)>,
    adapter: AdapterFactory,
}

/// Makes the adapter of a namespace, given its name.
type AdapterFactory = Arc<dyn Fn(&str) -> Arc<dyn Adapter> + Send + Sync>;

/// Decides whether a namespace name belongs to a dynamic namespace.
type NsMatcher = Arc<dyn Fn(&str) -> bool + Send + Sync>;

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

    /// How long [`Socket::emit_with_ack`] waits for the client's answer by default. Default 5 s.
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
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
    /// with the namespace's name and returns its adapter. Default: a [`MemoryAdapter`] each.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_socketio::SocketIo;
    /// use tower_socketio::adapter::{Adapter, MemoryAdapter};
    ///
    /// let io = SocketIo::builder()
    ///     .adapter(|_ns: &str| Arc::new(MemoryAdapter::new()) as Arc<dyn Adapter>)
    ///     .build();
    /// # let _ = io;
    /// ```
    pub fn adapter<F>(mut self, make: F) -> Self
    where
        F: Fn(&str) -> Arc<dyn Adapter> + Send + Sync + 'static,
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
        let ack_timeout = self.ack_timeout;
        // Every namespace gets its adapter from the factory, static ones and `/` included.
        let adapter = &self.adapter;
        let core = |name: String, routes: Arc<dyn Dispatch>| {
            let made = adapter(&name);
            Arc::new(NsCore::new(name, routes, made, ack_timeout))
        };
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
        let handler = IoHandler {
            namespaces: RwLock::new(namespaces),
            dynamic: self.dynamic,
            adapter: self.adapter,
            connect_timeout: self.connect_timeout,
            ack_timeout,
        };
        SocketIo {
            engine: EngineIo::new(self.config, handler),
        }
    }
}

/// The Engine.IO handler that runs Socket.IO on each connection. Its type shows in
/// [`SocketIoLayer<IoHandler>`]; there is nothing to do with it directly.
pub struct IoHandler {
    /// Static namespaces, and the dynamic ones created so far.
    namespaces: RwLock<HashMap<String, Arc<NsCore>>>,
    dynamic: Vec<(NsMatcher, Arc<dyn Dispatch>)>,
    adapter: AdapterFactory,
    connect_timeout: Duration,
    ack_timeout: Duration,
}

impl IoHandler {
    /// The namespace `name`: a static one, or a dynamic one (created on first use).
    fn namespace(&self, name: &str) -> Option<Arc<NsCore>> {
        if let Some(ns) = self.existing_namespace(name) {
            return Some(ns);
        }
        let (_, routes) = self.dynamic.iter().find(|(matches, _)| matches(name))?;
        let mut namespaces = self.namespaces.write().unwrap_or_else(|e| e.into_inner());
        let ns = namespaces.entry(name.to_owned()).or_insert_with(|| {
            tracing::debug!(ns = name, "dynamic namespace created");
            Arc::new(NsCore::new(
                name.to_owned(),
                routes.clone(),
                (self.adapter)(name),
                self.ack_timeout,
            ))
        });
        Some(ns.clone())
    }

    /// The namespace `name` if it exists already.
    fn existing_namespace(&self, name: &str) -> Option<Arc<NsCore>> {
        self.namespaces
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }
}

/// The Socket.IO state of one client connection: its sockets (one a namespace) and the binary
/// packet being reassembled. Opaque.
#[derive(Default)]
pub struct ClientState {
    sockets: Mutex<NameMap<SocketRef>>,
    partial: Mutex<Option<(RawPacket, Vec<Bytes>)>>,
}

impl ClientState {
    fn sockets(&self) -> std::sync::MutexGuard<'_, NameMap<SocketRef>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type EngineSocket = Arc<engine::Socket<ClientState>>;

impl EngineHandler for IoHandler {
    type Data = ClientState;

    fn on_connect(&self, esock: EngineSocket) {
        if esock.protocol() == ProtocolVersion::V3 {
            // Socket.IO v4 (clients 2.x): the main namespace is joined implicitly.
            let query = esock.req_parts().uri.query().map(str::to_owned);
            self.connect(&esock, "/", Value::Object(Vec::new()), query);
            return;
        }
        if !self.connect_timeout.is_zero() {
            esock.set_deadline(tokio::time::Instant::now() + self.connect_timeout);
        }
    }

    /// The connect timeout: a client that joined no namespace in time is closed.
    fn on_deadline(&self, esock: &EngineSocket) {
        if esock.data().sockets().is_empty() {
            tracing::debug!(sid = %esock.id(), "no namespace joined in time: closing");
            esock.close();
        }
    }

    fn on_message(&self, esock: &EngineSocket, message: Message) {
        let client = esock.data();
        let mut partial = client.partial.lock().unwrap_or_else(|e| e.into_inner());
        match message {
            Message::Text(text) => {
                if partial.is_some() {
                    drop(partial);
                    return protocol_error(esock, "text packet while binary attachments were due");
                }
                match parser::decode(text) {
                    Ok(packet) if packet.attachments > 0 => {
                        *partial = Some((packet, Vec::with_capacity(2)));
                    }
                    Ok(packet) => {
                        drop(partial);
                        self.dispatch(esock, packet, Vec::new());
                    }
                    Err(error) => {
                        drop(partial);
                        protocol_error(esock, error.0);
                    }
                }
            }
            Message::Binary(data) => {
                let Some((packet, attachments)) = partial.as_mut() else {
                    drop(partial);
                    return protocol_error(esock, "unexpected binary message");
                };
                attachments.push(data);
                if attachments.len() == packet.attachments {
                    let (packet, attachments) = partial.take().expect("checked above");
                    drop(partial);
                    self.dispatch(esock, packet, attachments);
                }
            }
        }
    }

    fn on_disconnect(&self, esock: EngineSocket, reason: engine::DisconnectReason) {
        let sockets: Vec<SocketRef> = esock.data().sockets().drain().map(|(_, s)| s).collect();
        for socket in sockets {
            leave(&socket, reason.into());
        }
    }
}

/// Closes a connection whose client broke the protocol (Node: "parse error").
fn protocol_error(esock: &EngineSocket, what: &str) {
    tracing::debug!(sid = %esock.id(), what, "invalid Socket.IO packet: closing");
    esock.abort(engine::DisconnectReason::ParseError);
}

impl IoHandler {
    fn dispatch(&self, esock: &EngineSocket, packet: RawPacket, attachments: Vec<Bytes>) {
        let v5 = esock.protocol() == ProtocolVersion::V4;
        match packet.kind {
            Kind::Connect => {
                let auth = if v5 && !packet.payload.is_empty() {
                    match serde_json::from_str::<Value>(&packet.payload) {
                        Ok(auth) => auth,
                        Err(_) => return protocol_error(esock, "invalid CONNECT payload"),
                    }
                } else {
                    Value::Object(Vec::new())
                };
                self.connect(esock, packet.ns.as_str(), auth, packet.query);
            }
            Kind::Disconnect => {
                let socket = esock.data().sockets().remove(packet.ns.as_str());
                if let Some(socket) = socket {
                    leave(&socket, DisconnectReason::ClientNamespaceDisconnect);
                }
            }
            Kind::Event | Kind::BinaryEvent | Kind::Ack | Kind::BinaryAck => {
                let event = matches!(packet.kind, Kind::Event | Kind::BinaryEvent);
                let (name, args) = match parser::parse_args(&packet.payload, &attachments, event) {
                    Ok(parsed) => parsed,
                    Err(error) => return protocol_error(esock, error.0),
                };
                let Some(socket) = esock.data().sockets().get(packet.ns.as_str()).cloned() else {
                    tracing::debug!(
                        ns = packet.ns.as_str(),
                        "packet for a namespace not joined: ignored"
                    );
                    return;
                };
                match (name, packet.id) {
                    (Some(name), id) => {
                        let routes = socket_routes(&socket);
                        routes.event(socket, name, args, attachments, id);
                    }
                    (None, Some(id)) => socket.receive_ack(id, args),
                    (None, None) => {}
                }
            }
            Kind::ConnectError => protocol_error(esock, "a client may not send CONNECT_ERROR"),
        }
    }

    /// Joins `esock` to namespace `name`: the middlewares run, then the client gets the
    /// CONNECT answer and the connect handler runs; or the client gets a CONNECT_ERROR.
    fn connect(&self, esock: &EngineSocket, name: &str, auth: Value, query: Option<String>) {
        let v5 = esock.protocol() == ProtocolVersion::V4;
        let Some(ns) = self.namespace(name) else {
            let refusal = parser::encode_connect_error(name, "Invalid namespace", None, v5);
            let _ = esock.send_encoded(refusal, &[], false, false);
            return;
        };
        if esock.data().sockets().contains_key(name) {
            tracing::debug!(ns = name, "already connected to the namespace: ignored");
            return;
        }
        let handshake = Handshake {
            auth: auth.clone(),
            issued: SystemTime::now(),
            ns_query: query,
        };
        // A 2.x client takes its engine id as its socket id in `/`, as the Node 2.x server does.
        let id = if !v5 && ns.name() == "/" {
            esock.id()
        } else {
            Sid::new()
        };
        let socket = Arc::new(Socket::new(id, ns.clone(), esock.clone(), handshake));
        let admit = ns.routes.admit(socket.clone(), auth.clone());
        let esock = esock.clone();
        handler::run(Box::pin(async move {
            match admit.await {
                Ok(()) => {
                    if !esock.is_connected() {
                        return;
                    }
                    socket.set_connected(true);
                    ns.insert(socket.clone());
                    socket.join(socket.id());
                    let first = {
                        let mut joined = esock.data().sockets();
                        joined.insert(ns.name().to_owned(), socket.clone());
                        joined.len() == 1
                    };
                    if first {
                        // The connect timeout has done its job.
                        esock.clear_deadline();
                    }
                    let sid = socket.id();
                    let answer = parser::encode_connect(ns.name(), v5.then_some(sid.as_str()));
                    // Paced as in Node: the connect handler's first packets reach the client in a read of
                    // their own (see `Packet::Pause`).
                    let _ = esock.send_encoded(answer, &[], true, false);
                    tracing::debug!(ns = ns.name(), %sid, "socket connected");
                    ns.routes.connected(socket, auth);
                }
                Err(refusal) => {
                    tracing::debug!(ns = ns.name(), %refusal, "connection refused");
                    // A middleware may have joined rooms before another refused.
                    ns.adapter.del_all(socket.id());
                    let packet = parser::encode_connect_error(
                        ns.name(),
                        refusal.message(),
                        refusal.data(),
                        v5,
                    );
                    let _ = esock.send_encoded(packet, &[], false, false);
                }
            }
        }));
    }
}

fn socket_routes(socket: &Socket) -> Arc<dyn Dispatch> {
    socket.ns_core().routes.clone()
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
