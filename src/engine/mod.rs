//! The Engine.IO server: sessions over HTTP long-polling and WebSocket, upgrades between them,
//! heartbeats and limits, for protocol v4 (Socket.IO 3.x/4.x clients) and v3 (Socket.IO 2.x
//! clients), the version picked per request by the `EIO` query parameter.
//!
//! Socket.IO runs on top of it, but it is public on its own: an application that wants raw
//! message sessions (the Node server's `engine.io` package, which the 1.x README reaches through
//! `Server#bind(engine)`) implements [`EngineHandler`] and mounts an [`EngineIo`]:
//!
//! ```no_run
//! use std::sync::Arc;
//! use tower_socketio::EngineConfig;
//! use tower_socketio::engine::{EngineHandler, EngineIo, Message, Socket};
//!
//! struct Echo;
//!
//! impl EngineHandler for Echo {
//!     type Data = ();
//!     fn on_message(&self, socket: &Arc<Socket>, message: Message) {
//!         // Sends fail only when the client reads too slowly or is gone.
//!         let _ = socket.send(message);
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let engine = EngineIo::new(EngineConfig::default().path("/engine.io/"), Echo);
//! engine.listen("127.0.0.1:3000").await
//! # }
//! ```
//!
//! # How a session runs
//! Each session has exactly one task, its driver: it sends heartbeats, times the client out,
//! performs the upgrade to WebSocket, and on WebSocket reads frames and writes the outbox in
//! batches. Over polling, packets the client POSTs reach the handler in the request's own task,
//! in order (a second concurrent POST is refused), and a GET takes everything queued at once.
//! Every session's outbox is bounded in bytes ([`EngineConfig::max_buffered_bytes`]): a client that
//! cannot keep up is disconnected rather than having packets dropped in silence.

pub(crate) mod compression;
pub(crate) mod config;
pub(crate) mod cors;
mod driver;
mod error;
pub(crate) mod frame;
pub(crate) mod key_hash;
mod message;
pub(crate) mod origin;
pub(crate) mod packet;
mod polling;
pub(crate) mod run;
mod sid;
mod signal;
mod socket;
pub(crate) mod stall;
mod stats;
mod websocket;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use tracing::Instrument;

pub use self::message::{Message, Str};
pub use self::sid::{InvalidSid, Sid};
pub(crate) use self::sid::{SidMap, SidSet, shrink_map, shrink_set};
pub(crate) use self::socket::EncodedSendError;
pub use self::socket::{DisconnectReason, SendError, Socket};
pub use self::stats::EngineStats;

pub use self::compression::HttpCompression;
pub use self::config::{Cookie, EngineConfig, Refusal, SameSite, Transport};
use self::error::RequestError;
use self::packet::{Packet, PacketType};
use self::socket::CloseKind;

/// A boxed error, as bodies and services report them.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The responses the engine produces.
pub(crate) type EngineResponse = Response<Full<Bytes>>;

/// How the engine answers a request: at once, or with a future.
pub(crate) enum Routed {
    /// The response, complete.
    Done(EngineResponse),
    /// A response that waits for the session (a GET poll) or for the request body (a POST).
    Later(Pin<Box<dyn Future<Output = EngineResponse> + Send>>),
}

impl Routed {
    fn later(
        future: impl Future<Output = Result<EngineResponse, RequestError>> + Send + 'static,
    ) -> Self {
        Routed::Later(Box::pin(async move {
            future.await.unwrap_or_else(RequestError::into_response)
        }))
    }
}

/// The address of the peer of a connection accepted by [`EngineIo::serve`](EngineIo::serve), stored in the
/// extensions of each handshake request (and so in
/// [`Socket::req_parts`]).
///
/// A server of your own can set it the same way, for [`Socket::req_parts`] and
/// [`SocketRef::remote_addr`](crate::Socket::remote_addr) to find it:
///
/// ```
/// use std::net::SocketAddr;
/// use tower_socketio::RemoteAddr;
///
/// let peer: SocketAddr = "203.0.113.7:51000".parse().unwrap();
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(RemoteAddr(peer));
/// assert_eq!(request.extensions().get::<RemoteAddr>().map(|a| a.0), Some(peer));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub std::net::SocketAddr);

/// The Engine.IO protocol revision a client speaks ([`Socket::protocol`]).
///
/// ```
/// use tower_socketio::engine::ProtocolVersion;
///
/// assert_eq!(ProtocolVersion::V4.to_string(), "4"); // the `EIO` query parameter
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// Revision 3: Socket.IO 1.x and 2.x clients. Client-initiated heartbeat, length-prefixed
    /// polling payloads, binary polling payloads.
    V3,
    /// Revision 4: Socket.IO 3.x and 4.x clients. Server-initiated heartbeat, payloads split by
    /// the record separator `\x1e`, binary as base64 over polling.
    V4,
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProtocolVersion::V3 => "3",
            ProtocolVersion::V4 => "4",
        })
    }
}

/// What an application does with Engine.IO sessions. The Socket.IO server is one such handler.
///
/// The methods are called from the server's tasks and must not block: hand long work to a task
/// of your own. For one session, `on_connect` comes first, then every message in the order the
/// client sent it, then `on_disconnect` exactly once.
///
/// ```
/// use std::sync::Arc;
/// use tower_socketio::EngineConfig;
/// use tower_socketio::engine::{DisconnectReason, EngineHandler, EngineIo, Message, Socket};
///
/// /// Tells every message's length, and logs sessions.
/// struct Lengths;
///
/// impl EngineHandler for Lengths {
///     type Data = ();
///     fn on_connect(&self, socket: Arc<Socket>) {
///         tracing::info!(sid = %socket.id(), "open");
///     }
///     fn on_message(&self, socket: &Arc<Socket>, message: Message) {
///         let _ = socket.send(message.len().to_string());
///     }
///     fn on_disconnect(&self, socket: Arc<Socket>, reason: DisconnectReason) {
///         tracing::info!(sid = %socket.id(), %reason, "closed");
///     }
/// }
///
/// let engine = EngineIo::new(EngineConfig::default().path("/engine.io/"), Lengths);
/// let app: axum::Router = axum::Router::new().layer(engine.layer());
/// # let _ = app;
/// ```
pub trait EngineHandler: Send + Sync + 'static {
    /// Data kept in each session ([`Socket::data`]), created with `Default` at the handshake.
    /// `()` for none; interior mutability (a `Mutex`, atomics) for data that changes.
    type Data: Default + Send + Sync + 'static;

    /// A session opened. Messages sent from here go out right after the handshake (over
    /// polling, in the same response).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// fn on_connect(&self, socket: Arc<Socket>) {
    ///     let _ = socket.send(format!("hello, your session is {}", socket.id()));
    /// }
    /// # fn on_message(&self, _: &Arc<Socket>, _: Message) {}
    /// # }
    /// ```
    fn on_connect(&self, socket: Arc<Socket<Self::Data>>) {
        let _ = socket;
    }

    /// The client sent a message. Hand long work to a task of your own:
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # async fn lookup(_: &[u8]) -> String { String::new() }
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// fn on_message(&self, socket: &Arc<Socket>, message: Message) {
    ///     let socket = socket.clone();
    ///     tokio::spawn(async move {
    ///         let key = match &message {
    ///             Message::Text(text) => text.as_bytes(),
    ///             Message::Binary(bytes) => &bytes[..],
    ///         };
    ///         let _ = socket.send(lookup(key).await);
    ///     });
    /// }
    /// # }
    /// ```
    fn on_message(&self, socket: &Arc<Socket<Self::Data>>, message: Message);

    /// The time asked for with [`Socket::set_deadline`] has come (the session is still open).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct App;
    /// # impl EngineHandler for App {
    /// #     type Data = ();
    /// # fn on_message(&self, _: &Arc<Socket>, _: Message) {}
    /// fn on_connect(&self, socket: Arc<Socket>) {
    ///     socket.set_deadline(tokio::time::Instant::now() + Duration::from_secs(30));
    /// }
    /// fn on_deadline(&self, socket: &Arc<Socket>) {
    ///     let _ = socket.send("your 30 seconds are up");
    ///     socket.close();
    /// }
    /// # }
    /// ```
    fn on_deadline(&self, socket: &Arc<Socket<Self::Data>>) {
        let _ = socket;
    }

    /// The session moved from HTTP long-polling to WebSocket (Node's socket `upgrade` event).
    /// Called once, from the session's task, after which [`Socket::transport`] is
    /// [`Transport::WebSocket`]. Does nothing by default.
    fn on_upgrade(&self, socket: &Arc<Socket<Self::Data>>) {
        let _ = socket;
    }

    /// The session ended; it accepts no more messages.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use std::sync::Mutex;
    /// # use std::collections::HashSet;
    /// use tower_socketio::engine::{DisconnectReason, EngineHandler, Message, Sid, Socket};
    ///
    /// struct Presence { online: Mutex<HashSet<Sid>> }
    ///
    /// impl EngineHandler for Presence {
    ///     type Data = ();
    ///     fn on_connect(&self, socket: Arc<Socket>) {
    ///         self.online.lock().unwrap().insert(socket.id());
    ///     }
    ///     # fn on_message(&self, _: &Arc<Socket>, _: Message) {}
    ///     fn on_disconnect(&self, socket: Arc<Socket>, _reason: DisconnectReason) {
    ///         self.online.lock().unwrap().remove(&socket.id());
    ///     }
    /// }
    /// ```
    fn on_disconnect(&self, socket: Arc<Socket<Self::Data>>, reason: DisconnectReason) {
        let _ = (socket, reason);
    }
}

/// The state shared by the engine's handle, its requests and its session drivers.
pub(crate) struct EngineShared<H: EngineHandler> {
    pub(crate) config: EngineConfig,
    pub(crate) handler: H,
    sessions: RwLock<SidMap<Arc<Socket<H::Data>>>>,
    /// Set once by [`EngineIo::enable_stats`]; unset, counting costs one check per batch.
    pub(crate) stats: std::sync::OnceLock<Arc<EngineStats>>,
    /// Files served under the engine's path besides the client bundle (the admin UI's), set once.
    pub(crate) static_files: std::sync::OnceLock<StaticFiles>,
}

/// Answers a GET or HEAD for a path under the engine's path (the part after it), or `None`.
pub(crate) type StaticFiles =
    Arc<dyn Fn(&str, &http::HeaderMap) -> Option<http::Response<Bytes>> + Send + Sync>;

/// An Engine.IO server: its options, its handler and its open sessions.
///
/// Cloning is cheap and shares the server. Mount it with [`EngineIo::layer`] on a tower or axum
/// app, or run it alone with [`EngineIo::listen`].
///
/// ```
/// use std::sync::Arc;
/// use tower_socketio::EngineConfig;
/// use tower_socketio::engine::{EngineHandler, EngineIo, Message, Socket};
///
/// struct Echo;
/// impl EngineHandler for Echo {
///     type Data = ();
///     fn on_message(&self, socket: &Arc<Socket>, message: Message) {
///         let _ = socket.send(message);
///     }
/// }
///
/// let engine = EngineIo::new(EngineConfig::default().path("/engine.io/"), Echo);
/// let app: axum::Router = axum::Router::new().layer(engine.layer());
/// assert_eq!(engine.session_count(), 0); // a clone of the handle shares the server
/// # let _ = app;
/// ```
pub struct EngineIo<H: EngineHandler> {
    pub(crate) shared: Arc<EngineShared<H>>,
}

impl<H: EngineHandler> Clone for EngineIo<H> {
    fn clone(&self) -> Self {
        EngineIo {
            shared: self.shared.clone(),
        }
    }
}

impl<H: EngineHandler> fmt::Debug for EngineIo<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineIo")
            .field("config", &self.shared.config)
            .field("sessions", &self.session_count())
            .finish()
    }
}

impl<H: EngineHandler> EngineIo<H> {
    /// A server with these options and this handler.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_socketio::EngineConfig;
    /// use tower_socketio::engine::{EngineHandler, EngineIo, Message, Socket};
    ///
    /// struct Echo;
    /// impl EngineHandler for Echo {
    ///     type Data = ();
    ///     fn on_message(&self, socket: &Arc<Socket>, message: Message) {
    ///         let _ = socket.send(message);
    ///     }
    /// }
    ///
    /// // The Node `engine.io` package's default path.
    /// let engine = EngineIo::new(EngineConfig::default().path("/engine.io/"), Echo);
    /// # let _ = engine;
    /// ```
    pub fn new(config: EngineConfig, handler: H) -> Self {
        EngineIo {
            shared: Arc::new(EngineShared {
                config,
                handler,
                sessions: RwLock::new(SidMap::default()),
                stats: std::sync::OnceLock::new(),
                static_files: std::sync::OnceLock::new(),
            }),
        }
    }

    /// The server's options.
    ///
    /// ```
    /// use tower_socketio::{SocketIo, Transport};
    ///
    /// let io = SocketIo::builder().build();
    /// assert!(io.engine().config().allows_transport(Transport::WebSocket));
    /// ```
    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Serves `files` under the engine's path (once per server; `false` when already set).
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    pub(crate) fn set_static_files(&self, files: StaticFiles) -> bool {
        self.shared.static_files.set(files).is_ok()
    }

    /// The handle of a server known by its shared state.
    pub(crate) fn from_shared(shared: Arc<EngineShared<H>>) -> Self {
        EngineIo { shared }
    }

    /// The handler.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use tower_socketio::EngineConfig;
    /// use tower_socketio::engine::{EngineHandler, EngineIo, Message, Socket};
    ///
    /// #[derive(Default)]
    /// struct Stats { messages: AtomicU64 }
    ///
    /// impl EngineHandler for Stats {
    ///     type Data = ();
    ///     fn on_message(&self, _socket: &Arc<Socket>, _message: Message) {
    ///         self.messages.fetch_add(1, Ordering::Relaxed);
    ///     }
    /// }
    ///
    /// let engine = EngineIo::new(EngineConfig::default(), Stats::default());
    /// assert_eq!(engine.handler().messages.load(Ordering::Relaxed), 0);
    /// ```
    pub fn handler(&self) -> &H {
        &self.shared.handler
    }

    /// The number of open sessions (Node: `engine.clientsCount`).
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::SocketIo;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().build();
    /// assert_eq!(io.engine().session_count(), 0);
    /// let _client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// assert_eq!(io.engine().session_count(), 1);
    /// # }
    /// ```
    pub fn session_count(&self) -> usize {
        self.shared.read_sessions().len()
    }

    /// The sessions on HTTP long-polling (not yet, or never, upgraded to WebSocket): the admin
    /// UI's `pollingClientsCount`. Walks the sessions: meant for periodic reports.
    ///
    /// ```
    /// let io = tower_socketio::SocketIo::builder().build();
    /// assert_eq!(io.engine().polling_count(), 0);
    /// ```
    pub fn polling_count(&self) -> usize {
        self.shared
            .read_sessions()
            .values()
            .filter(|socket| socket.transport() == Transport::Polling)
            .count()
    }

    /// Starts counting this server's traffic (messages and bytes each way, sessions opened and
    /// closed) and returns the counters; later calls return the same ones. Until it is called
    /// nothing is counted: the transports check for the counters once per batch of packets.
    ///
    /// ```
    /// let io = tower_socketio::SocketIo::builder().build();
    /// let stats = io.engine().enable_stats();
    /// assert!(std::sync::Arc::ptr_eq(&stats, &io.engine().enable_stats()));
    /// assert_eq!(stats.bytes_out(), 0);
    /// ```
    pub fn enable_stats(&self) -> Arc<EngineStats> {
        self.shared.stats.get_or_init(Arc::default).clone()
    }

    /// The counters of [`EngineIo::enable_stats`], if it was called.
    ///
    /// ```
    /// let io = tower_socketio::SocketIo::builder().build();
    /// assert!(io.engine().stats().is_none());
    /// ```
    pub fn stats(&self) -> Option<Arc<EngineStats>> {
        self.shared.stats.get().cloned()
    }

    /// The open session with this id.
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo, socket: tower_socketio::SocketRef) {
    /// // The connection under a Socket.IO socket.
    /// if let Some(session) = io.engine().session(socket.engine_id()) {
    ///     tracing::info!(protocol = %session.protocol(), transport = %session.transport());
    /// }
    /// # }
    /// ```
    pub fn session(&self, sid: Sid) -> Option<Arc<Socket<H::Data>>> {
        self.shared.read_sessions().get(&sid).cloned()
    }

    /// Closes every session, as for a server shutdown: each client gets what was queued for it,
    /// then a `close` packet; handlers see [`DisconnectReason::ServerShuttingDown`]. A client that
    /// does not read does not hold it up: see [`Socket::close`] for the bounds.
    ///
    /// ```
    /// # async fn run(engine: tower_socketio::engine::EngineIo<tower_socketio::client::IoHandler>) {
    /// // Your own shutdown sequence, in a server you run yourself:
    /// tower_socketio::serve::shutdown_signal().await;
    /// engine.close();
    /// # }
    /// ```
    pub fn close(&self) {
        let sessions: Vec<_> = self.shared.read_sessions().values().cloned().collect();
        for socket in sessions {
            socket.request_close(DisconnectReason::ServerShuttingDown, CloseKind::Graceful);
        }
    }

    /// Answers one Engine.IO request (any request under the path but the client bundle files).
    ///
    /// Everything that can be decided from the request line and headers is decided here, at
    /// once: errors, handshakes, upgrades, and a GET poll that finds packets queued. Only a
    /// poll that has to wait and a POST whose body is still to come become a future (a small
    /// one, holding the session and the body).
    pub(crate) fn respond<B>(&self, req: Request<B>) -> Routed
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        match self.route(req) {
            Ok(routed) => routed,
            Err(error) => Routed::Done(error.into_response()),
        }
    }

    fn route<B>(&self, mut req: Request<B>) -> Result<Routed, RequestError>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let config = &self.shared.config;
        if !config.origins.allows_request(req.headers()) {
            tracing::debug!(origin = ?req.headers().get(header::ORIGIN), "origin refused");
            return Err(RequestError::forbidden());
        }
        let query = Query::parse(req.uri().query().unwrap_or(""));
        let transport = query
            .transport
            .and_then(Transport::from_name)
            .filter(|t| config.allows_transport(*t))
            .ok_or(RequestError::UnknownTransport)?;
        let protocol = match query.eio {
            Some("4") => ProtocolVersion::V4,
            Some("3") if config.allow_eio3 => ProtocolVersion::V3,
            _ => return Err(RequestError::UnsupportedProtocolVersion),
        };
        let supports_binary = !query.b64;
        let sid = query.sid.map(|sid| sid.parse::<Sid>().ok());
        let is_upgrade = websocket::is_upgrade_request(&req);
        if transport == Transport::WebSocket && !is_upgrade {
            return Err(RequestError::BadRequest);
        }

        let Some(sid) = sid else {
            if req.method() != Method::GET {
                return Err(RequestError::BadHandshakeMethod);
            }
            return self
                .handshake(req, protocol, transport, supports_binary)
                .map(Routed::Done);
        };

        let socket = sid
            .and_then(|sid| self.session(sid))
            .ok_or(RequestError::UnknownSid)?;
        if socket.is_aborted() {
            // A polling session the client closed lingers with its last packet (a `noop`) for a
            // poll sent together with the close packet: that poll gets the answer it would
            // have got had it arrived first. Then the session is unknown.
            if transport == Transport::Polling
                && req.method() == Method::GET
                && socket.closed_by_client_poll()
            {
                let compression = self.shared.compression_for(req.headers());
                let stats = self.shared.stats.get().map(|stats| &**stats);
                if let Some(response) =
                    polling::get_now(&socket, supports_binary, compression, stats)?
                {
                    return Ok(Routed::Done(response));
                }
            }
            return Err(RequestError::UnknownSid);
        }
        if socket.pong_overdue() {
            tracing::debug!(sid = %socket.id(), "request after the pong was due: ping timeout");
            socket.request_close(DisconnectReason::PingTimeout, socket::CloseKind::Abort);
            return Err(RequestError::UnknownSid);
        }
        match transport {
            Transport::WebSocket => {
                if !config.allow_upgrades {
                    return Err(RequestError::BadRequest);
                }
                websocket::upgrade_session(&socket, &mut req).map(Routed::Done)
            }
            Transport::Polling => {
                if socket.phase() == socket::Phase::WebSocket {
                    return Err(RequestError::BadRequest);
                }
                match *req.method() {
                    Method::GET => {
                        let compression = self.shared.compression_for(req.headers());
                        let stats = self.shared.stats.get().map(|stats| &**stats);
                        if let Some(response) =
                            polling::get_now(&socket, supports_binary, compression, stats)?
                        {
                            return Ok(Routed::Done(response));
                        }
                        let stats = self.shared.stats.get().cloned();
                        Ok(Routed::later(async move {
                            polling::get(&socket, supports_binary, compression, stats.as_deref())
                                .await
                        }))
                    }
                    Method::POST => {
                        let post = polling::post(self.shared.clone(), socket, req)?;
                        Ok(Routed::later(post))
                    }
                    _ => Err(RequestError::BadRequest),
                }
            }
        }
    }

    /// Opens a session.
    fn handshake<B>(
        &self,
        mut req: Request<B>,
        protocol: ProtocolVersion,
        transport: Transport,
        supports_binary: bool,
    ) -> Result<EngineResponse, RequestError> {
        let shared = &self.shared;
        let on_upgrade = match transport {
            Transport::WebSocket => Some(hyper::upgrade::on(&mut req)),
            Transport::Polling => None,
        };
        let compression = match transport {
            Transport::Polling => shared.compression_for(req.headers()),
            Transport::WebSocket => None,
        };
        let (parts, _body) = req.into_parts();
        if let Some(allow) = &shared.config.allow_request {
            allow(&parts).map_err(|refusal| RequestError::Forbidden {
                status: refusal.status,
                message: refusal.message,
            })?;
        }
        let sid = Sid::new();
        let upgrade_response = match transport {
            Transport::WebSocket => Some(websocket::accept_response(&parts.headers)?),
            Transport::Polling => None,
        };
        let socket = Arc::new(Socket::new(
            sid,
            protocol,
            transport,
            detach(parts),
            shared.config.max_buffered_bytes,
            H::Data::default(),
        ));
        {
            let mut sessions = shared.write_sessions();
            if sessions.len() >= shared.config.max_connections {
                drop(sessions);
                tracing::debug!(
                    max_connections = shared.config.max_connections,
                    "handshake refused: the server has max_connections sessions open"
                );
                return Err(RequestError::Forbidden {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: "Server busy".into(),
                });
            }
            sessions.insert(sid, socket.clone());
        }
        let span = tracing::debug_span!("engine_session", %sid);
        tracing::debug!(parent: &span, %transport, %protocol, "handshake");

        let mut response = match (on_upgrade, upgrade_response) {
            (Some(on_upgrade), Some(response)) => {
                let start = driver::Start::WebSocket(on_upgrade);
                tokio::spawn(driver::run(shared.clone(), socket, start).instrument(span));
                response
            }
            _ => {
                // The handshake response is the session's first poll: the open packet, then
                // whatever the handler sent on connect.
                let mut packets = vec![shared.open_packet(sid, transport)];
                if let Some(stats) = shared.stats.get() {
                    stats.connected();
                }
                shared.handler.on_connect(socket.clone());
                socket.drain_outbox(&mut packets);
                packets.retain(|p| !matches!(p, Packet::Pause));
                if let Some(stats) = shared.stats.get() {
                    stats.sent(&packets);
                }
                tokio::spawn(
                    driver::run(shared.clone(), socket.clone(), driver::Start::Polling)
                        .instrument(span),
                );
                polling::payload_response(protocol, &packets, supports_binary, compression)
            }
        };
        if let Some(cookie) = &shared.config.cookie {
            if let Ok(value) = HeaderValue::from_str(&cookie.header_value(sid.as_str())) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
        }
        Ok(response)
    }
}

impl<H: EngineHandler> EngineShared<H> {
    fn read_sessions(&self) -> std::sync::RwLockReadGuard<'_, SidMap<Arc<Socket<H::Data>>>> {
        self.sessions.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_sessions(&self) -> std::sync::RwLockWriteGuard<'_, SidMap<Arc<Socket<H::Data>>>> {
        self.sessions.write().unwrap_or_else(|e| e.into_inner())
    }

    /// How a GET poll with these headers may be compressed (`None` when compression is off or
    /// the client accepts neither gzip nor deflate).
    fn compression_for(
        &self,
        headers: &http::HeaderMap,
    ) -> Option<compression::ResponseCompression> {
        self.config
            .http_compression
            .as_ref()
            .and_then(|c| c.for_request(headers))
    }

    /// Forgets a session: requests naming it get "Session ID unknown" from now on.
    pub(crate) fn remove(&self, sid: Sid) {
        let mut sessions = self.write_sessions();
        sessions.remove(&sid);
        shrink_map(&mut sessions);
    }

    /// The `open` packet of a new session.
    pub(crate) fn open_packet(&self, sid: Sid, transport: Transport) -> Packet {
        let config = &self.config;
        let upgrades: &[&str] =
            if transport == Transport::Polling && config.websocket && config.allow_upgrades {
                &["websocket"]
            } else {
                &[]
            };
        /// The handshake data, fields in the Node server's order.
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Open<'a> {
            sid: &'a str,
            upgrades: &'a [&'a str],
            ping_interval: u64,
            ping_timeout: u64,
            max_payload: usize,
        }
        let open = Open {
            sid: sid.as_str(),
            upgrades,
            ping_interval: config.ping_interval.as_millis() as u64,
            ping_timeout: config.ping_timeout.as_millis() as u64,
            max_payload: config.max_payload,
        };
        let open = serde_json::to_string(&open).expect("the open packet serializes");
        Packet::text(PacketType::Open, &open)
    }
}

/// The Engine.IO query parameters of a request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Query<'a> {
    pub(crate) eio: Option<&'a str>,
    pub(crate) transport: Option<&'a str>,
    pub(crate) sid: Option<&'a str>,
    /// `b64=1`: a v3 client that cannot take binary payloads.
    pub(crate) b64: bool,
}

impl<'a> Query<'a> {
    pub(crate) fn parse(query: &'a str) -> Self {
        let mut parsed = Query::default();
        // '&' and '=' are ASCII, so every slice boundary is a char boundary. The '&' are found
        // with `memchr`, many bytes at a time; a pair's '=' is looked for only in its key.
        let bytes = query.as_bytes();
        let mut start = 0;
        loop {
            let end = memchr::memchr(b'&', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            let eq = bytes[start..end]
                .iter()
                .position(|b| *b == b'=')
                .map(|i| start + i);
            parsed.pair(query, start, eq, end);
            if end == bytes.len() {
                return parsed;
            }
            start = end + 1;
        }
    }

    /// Takes the pair `query[start..end]`, whose first '=' (if any) is at `eq`.
    fn pair(&mut self, query: &'a str, start: usize, eq: Option<usize>, end: usize) {
        let (key, value) = match eq {
            Some(eq) => (&query[start..eq], &query[eq + 1..end]),
            None => (&query[start..end], ""),
        };
        match key {
            "EIO" => self.eio = Some(value),
            "transport" => self.transport = Some(value),
            "sid" => self.sid = Some(value),
            "b64" => self.b64 = !value.is_empty() && value != "0" && value != "false",
            _ => {}
        }
    }
}

/// The handshake request's parts, copied out of the connection's read buffer.
///
/// hyper parses the URI and header values as slices of its read buffer (8 to 16 KiB); a
/// session keeps its handshake request for its whole life, and with it that whole buffer,
/// unless the parts are copied into allocations of their own.
fn detach(parts: http::request::Parts) -> http::request::Parts {
    let http::request::Parts {
        method,
        uri,
        version,
        headers,
        extensions,
        ..
    } = parts;
    let mut request = http::Request::new(());
    *request.method_mut() = method;
    *request.version_mut() = version;
    *request.extensions_mut() = extensions;
    *request.uri_mut() = http::Uri::try_from(uri.to_string()).unwrap_or(uri);
    // Every value copied into one allocation, each header a slice of it. (Names need no copy:
    // hyper gives custom names storage of their own, and standard names are static.)
    let total = headers.iter().map(|(_, value)| value.len()).sum();
    let mut store = bytes::BytesMut::with_capacity(total);
    for (_, value) in headers.iter() {
        store.extend_from_slice(value.as_bytes());
    }
    let store = store.freeze();
    let copied = request.headers_mut();
    copied.reserve(headers.len());
    let mut offset = 0;
    for (name, value) in headers.iter() {
        let end = offset + value.len();
        let mut copy = HeaderValue::from_maybe_shared(store.slice(offset..end))
            .unwrap_or_else(|_| value.clone());
        copy.set_sensitive(value.is_sensitive());
        copied.append(name.clone(), copy);
        offset = end;
    }
    request.into_parts().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_parts_are_equal_and_own_their_bytes() {
        // Header values sliced out of one buffer, as hyper parses them.
        let buffer = bytes::Bytes::from_static(b"token-1value-2/socket.io/?EIO=4&x=1");
        let slice = |range: std::ops::Range<usize>| {
            http::HeaderValue::from_maybe_shared(buffer.slice(range)).unwrap()
        };
        let mut request = Request::builder()
            .method("GET")
            .uri(http::Uri::from_maybe_shared(buffer.slice(14..)).unwrap())
            .body(())
            .unwrap();
        let mut secret = slice(0..7);
        secret.set_sensitive(true);
        request.headers_mut().append("authorization", secret);
        request.headers_mut().append("x-many", slice(7..14));
        request.headers_mut().append("x-many", slice(0..5));
        request.extensions_mut().insert(42u32);
        let (original, ()) = request.into_parts();
        let copy = detach(original.clone());
        assert_eq!(copy.uri, original.uri);
        assert_eq!(copy.uri.query(), Some("EIO=4&x=1"));
        assert_eq!(copy.headers, original.headers);
        let many: Vec<_> = copy.headers.get_all("x-many").iter().collect();
        assert_eq!(many, ["value-2", "token"]);
        assert!(copy.headers["authorization"].is_sensitive());
        assert_eq!(copy.extensions.get::<u32>(), Some(&42));
        let within = |p: *const u8| buffer.as_ptr_range().contains(&p);
        for value in copy.headers.values() {
            assert!(
                !within(value.as_bytes().as_ptr()),
                "a header still points into the buffer"
            );
        }
        assert!(
            !within(copy.uri.path().as_ptr()),
            "the URI still points into the buffer"
        );
    }

    #[test]
    fn parses_the_query() {
        assert_eq!(
            Query::parse("EIO=4&transport=polling&t=abc&sid=xyz&b64=1"),
            Query {
                eio: Some("4"),
                transport: Some("polling"),
                sid: Some("xyz"),
                b64: true,
            }
        );
        assert_eq!(Query::parse(""), Query::default());
        // Empty pairs, a key without a value, a value holding '=', non-ASCII around.
        assert_eq!(
            Query::parse("&&transport&sid=a=b&é=ü&EIO=3&"),
            Query {
                eio: Some("3"),
                transport: Some(""),
                sid: Some("a=b"),
                b64: false,
            }
        );
    }
}
