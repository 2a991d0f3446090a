//! Server options: one [`EngineConfig`] value, built with chained setters, each documented with its
//! default and the name the Node server gives it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use http::request::Parts;

use super::compression::HttpCompression;
use super::origin::Origins;

/// The transports a client may use.
///
/// ```
/// use tower_socketio::{EngineConfig, Transport};
///
/// // WebSocket only, as with the client's `transports: ["websocket"]`.
/// let config = EngineConfig::default().transports([Transport::WebSocket]);
/// assert!(!config.allows_transport(Transport::Polling));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// HTTP long-polling: GET requests receive, POST requests send.
    Polling,
    /// One WebSocket connection.
    WebSocket,
}

impl Transport {
    /// The transport's name in the `transport=` query parameter.
    ///
    /// ```
    /// use tower_socketio::Transport;
    ///
    /// assert_eq!(Transport::WebSocket.name(), "websocket");
    /// assert_eq!(Transport::Polling.to_string(), "polling");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Transport::Polling => "polling",
            Transport::WebSocket => "websocket",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "polling" => Some(Transport::Polling),
            "websocket" => Some(Transport::WebSocket),
            _ => None,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `SameSite` attribute of the session cookie.
///
/// ```
/// use tower_socketio::{Cookie, SameSite};
///
/// // A page on another site connects with credentials: browsers want `None` and `Secure`.
/// let cookie = Cookie { same_site: SameSite::None, secure: true, ..Cookie::default() };
/// # let _ = cookie;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`
    Strict,
    /// `SameSite=Lax` (the default)
    Lax,
    /// `SameSite=None` (browsers then require `Secure`)
    None,
}

/// The session cookie set on the handshake response (Node: `cookie`), for load balancers that
/// route on a cookie ("sticky sessions"). Its value is the session id.
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use tower::ServiceExt;
/// use tower_socketio::{Cookie, EngineConfig, SocketIo};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let config = EngineConfig::default().cookie(Cookie { name: "lb".into(), ..Cookie::default() });
/// let io = SocketIo::builder().config(config).build();
/// let app = axum::Router::new().layer(io.layer());
///
/// let handshake = http::Request::get("/socket.io/?EIO=4&transport=polling").body(Full::new(Bytes::new())).unwrap();
/// let response = app.oneshot(handshake).await.unwrap();
/// let cookie = response.headers()["set-cookie"].to_str().unwrap();
/// assert!(cookie.starts_with("lb=") && cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax"));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// The cookie name. Default `"io"`.
    pub name: String,
    /// The `Path` attribute. Default `"/"`.
    pub path: String,
    /// The `HttpOnly` attribute. Default `true`.
    pub http_only: bool,
    /// The `SameSite` attribute. Default [`SameSite::Lax`].
    pub same_site: SameSite,
    /// The `Secure` attribute. Default `false`.
    pub secure: bool,
}

impl Default for Cookie {
    fn default() -> Self {
        Cookie {
            name: "io".into(),
            path: "/".into(),
            http_only: true,
            same_site: SameSite::Lax,
            secure: false,
        }
    }
}

impl Cookie {
    /// The `Set-Cookie` header value for session `sid`.
    pub(crate) fn header_value(&self, sid: &str) -> String {
        let mut value = format!("{}={}; Path={}", self.name, sid, self.path);
        if self.http_only {
            value.push_str("; HttpOnly");
        }
        value.push_str(match self.same_site {
            SameSite::Strict => "; SameSite=Strict",
            SameSite::Lax => "; SameSite=Lax",
            SameSite::None => "; SameSite=None",
        });
        if self.secure {
            value.push_str("; Secure");
        }
        value
    }
}

/// A handshake refused by the [`EngineConfig::allow_request`] hook.
///
/// The client gets the status (403 Forbidden unless set) and the JSON body
/// `{"code":4,"message":<message>}`, as from the Node server.
///
/// ```
/// use tower_socketio::{EngineConfig, Refusal};
///
/// // Only browsers of the company's intranet (a header set by its proxy).
/// let config = EngineConfig::default().allow_request(|req| {
///     if req.headers.get("x-intranet").is_some() { Ok(()) } else { Err(Refusal::new("intranet only")) }
/// });
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Refusal {
    /// A refusal with status 403 and `message`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full};
    /// use tower::ServiceExt;
    /// use tower_socketio::{EngineConfig, Refusal, SocketIo};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let config = EngineConfig::default().allow_request(|_req| Err(Refusal::new("closed today")));
    /// let io = SocketIo::builder().config(config).build();
    /// let app = axum::Router::new().layer(io.layer());
    ///
    /// let handshake = http::Request::get("/socket.io/?EIO=4&transport=polling").body(Full::new(Bytes::new())).unwrap();
    /// let response = app.oneshot(handshake).await.unwrap();
    /// assert_eq!(response.status(), 403);
    /// let body = response.into_body().collect().await.unwrap().to_bytes();
    /// assert_eq!(body, r#"{"code":4,"message":"closed today"}"#);
    /// # }
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        Refusal {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    /// The HTTP status of the refusal (default 403).
    ///
    /// ```
    /// use http::StatusCode;
    /// use tower_socketio::{EngineConfig, Refusal};
    ///
    /// let config = EngineConfig::default().allow_request(|req| {
    ///     if req.headers.contains_key("authorization") {
    ///         Ok(())
    ///     } else {
    ///         Err(Refusal::new("sign in first").with_status(StatusCode::UNAUTHORIZED))
    ///     }
    /// });
    /// # let _ = config;
    /// ```
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

/// The hook that decides whether a handshake request is accepted.
pub(crate) type AllowRequest = Arc<dyn Fn(&Parts) -> Result<(), Refusal> + Send + Sync>;

/// The options of the Engine.IO server under Socket.IO: path, heartbeat, limits, transports,
/// origins, cookie.
///
/// Every setter consumes and returns the config, so options chain:
///
/// ```
/// use std::time::Duration;
/// use tower_socketio::EngineConfig;
///
/// let config = EngineConfig::default()
///     .ping_interval(Duration::from_secs(10))
///     .max_payload(64 * 1024);
/// let io = tower_socketio::SocketIo::builder().config(config).build();
/// # let _ = io;
/// ```
#[derive(Clone)]
#[must_use = "a configuration does nothing until it is given to a server"]
pub struct EngineConfig {
    pub(crate) path: String,
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) upgrade_timeout: Duration,
    pub(crate) max_payload: usize,
    pub(crate) max_buffered_bytes: usize,
    pub(crate) write_timeout: Duration,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) polling: bool,
    pub(crate) websocket: bool,
    pub(crate) allow_upgrades: bool,
    pub(crate) allow_eio3: bool,
    pub(crate) cookie: Option<Cookie>,
    pub(crate) allow_request: Option<AllowRequest>,
    pub(crate) origins: Origins,
    pub(crate) credentials: bool,
    pub(crate) serve_client: bool,
    pub(crate) ws_read_buffer_size: usize,
    pub(crate) http_compression: Option<HttpCompression>,
    pub(crate) cors_headers: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            path: "/socket.io/".into(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            max_buffered_bytes: 8 * 1024 * 1024,
            write_timeout: Duration::from_millis(20_000),
            shutdown_timeout: Duration::from_millis(10_000),
            max_connections: usize::MAX,
            header_read_timeout: Duration::from_millis(30_000),
            polling: true,
            websocket: true,
            allow_upgrades: true,
            allow_eio3: true,
            cookie: None,
            allow_request: None,
            origins: Origins::Any,
            credentials: false,
            serve_client: true,
            ws_read_buffer_size: 4096,
            http_compression: Some(HttpCompression::default()),
            cors_headers: true,
        }
    }
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("path", &self.path)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("upgrade_timeout", &self.upgrade_timeout)
            .field("max_payload", &self.max_payload)
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("write_timeout", &self.write_timeout)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("max_connections", &self.max_connections)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("polling", &self.polling)
            .field("websocket", &self.websocket)
            .field("allow_upgrades", &self.allow_upgrades)
            .field("allow_eio3", &self.allow_eio3)
            .field("cookie", &self.cookie)
            .field("allow_request", &self.allow_request.is_some())
            .field("origins", &self.origins)
            .field("credentials", &self.credentials)
            .field("serve_client", &self.serve_client)
            .field("http_compression", &self.http_compression)
            .field("cors_headers", &self.cors_headers)
            .finish()
    }
}

impl EngineConfig {
    /// The path the server answers under (Node: `path`). Default `"/socket.io/"`; the raw
    /// Engine.IO server of the Node `engine.io` package uses `"/engine.io/"`. A trailing slash is
    /// added when missing; requests match when their path starts with it.
    ///
    /// ```
    /// use tower_socketio::{EngineConfig, SocketIo};
    ///
    /// // The browser client connects with `io({ path: "/realtime/" })`.
    /// let io = SocketIo::builder().config(EngineConfig::default().path("/realtime")).build();
    /// # let _ = io;
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !path.ends_with('/') {
            path.push('/');
        }
        self.path = path;
        self
    }

    /// How often the server pings the client (Node: `pingInterval`). Default 25 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::EngineConfig;
    ///
    /// // A dead client is noticed within 10 + 5 seconds.
    /// let config = EngineConfig::default()
    ///     .ping_interval(Duration::from_secs(10))
    ///     .ping_timeout(Duration::from_secs(5));
    /// # let _ = config;
    /// ```
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How long the server waits for the pong before it closes the session (Node: `pingTimeout`).
    /// Default 20 s. With protocol v3, where the client pings, a session is closed when nothing
    /// arrives for `ping_interval + ping_timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::EngineConfig;
    ///
    /// // Clients on slow mobile networks get longer to answer.
    /// let config = EngineConfig::default().ping_timeout(Duration::from_secs(60));
    /// # let _ = config;
    /// ```
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = timeout;
        self
    }

    /// How long an upgrade from polling to WebSocket may take before the WebSocket is dropped and
    /// the session stays on polling (Node: `upgradeTimeout`). Default 10 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::EngineConfig;
    ///
    /// let config = EngineConfig::default().upgrade_timeout(Duration::from_secs(5));
    /// # let _ = config;
    /// ```
    pub fn upgrade_timeout(mut self, timeout: Duration) -> Self {
        self.upgrade_timeout = timeout;
        self
    }

    /// The largest message a client may send, in bytes (Node: `maxHttpBufferSize`, announced to
    /// clients as `maxPayload`). Default 1,000,000.
    ///
    /// Over long-polling it bounds the body of one POST: a larger one is answered with
    /// `413 Payload Too Large` and the session is closed (the Node server answers 413 too but
    /// leaves the session to time out; its client gives up on it either way). Over WebSocket it
    /// bounds one message: a larger one closes the connection with close code 1009.
    ///
    /// ```
    /// use tower_socketio::EngineConfig;
    ///
    /// // Clients may upload files of up to 10 MB in one message.
    /// let config = EngineConfig::default().max_payload(10 * 1024 * 1024);
    /// # let _ = config;
    /// ```
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }

    /// The most bytes a session buffers for its client (no Node equivalent: the Node server
    /// buffers without bound). Default 8 MiB: room for any protocol-valid burst, such as the
    /// answers to 10,000 events sent in one long-polling request.
    ///
    /// Packets count their encoded size (text, and binary attachments); heartbeat and protocol
    /// control packets are always accepted. When a packet does not fit, the client reads more
    /// slowly than the application sends, and nothing is dropped in silence: the session is
    /// closed at once with [`DisconnectReason::TransportError`] (a reason from which Socket.IO's
    /// connection state recovery can restore the client), a warning naming the session and the
    /// bound is logged, and [`Socket::send`] returns [`SendError::Full`]. This holds for direct
    /// sends and broadcasts alike. Only volatile packets are dropped instead, and counted
    /// ([`Socket::volatile_dropped`]).
    ///
    /// [`DisconnectReason::TransportError`]: crate::engine::DisconnectReason::TransportError
    /// [`Socket::send`]: crate::engine::Socket::send
    /// [`SendError::Full`]: crate::engine::SendError::Full
    /// [`Socket::volatile_dropped`]: crate::engine::Socket::volatile_dropped
    ///
    /// ```
    /// use tower_socketio::EngineConfig;
    ///
    /// // Many clients, small messages: 256 KiB a client at most.
    /// let config = EngineConfig::default().max_buffered_bytes(256 * 1024);
    /// # let _ = config;
    /// ```
    pub fn max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = bytes.max(1);
        self
    }

    /// How long a WebSocket write may make no progress before the session is closed with
    /// [`DisconnectReason::TransportError`] (no Node equivalent). Default 20 s.
    ///
    /// A client that stops reading (a frozen tab, a dead network path that still holds the
    /// connection) fills the kernel's buffers, and the server's writes wait. Whatever a write
    /// is doing, the heartbeat still runs (such a client does not answer the ping and times out
    /// after `ping_interval + ping_timeout`, as with Node), and so do [`Socket::close`] and
    /// shutdown; this bound ends such a session sooner when it is shorter than the heartbeat.
    ///
    /// [`DisconnectReason::TransportError`]: crate::engine::DisconnectReason::TransportError
    /// [`Socket::close`]: crate::engine::Socket::close
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::EngineConfig;
    ///
    /// let config = EngineConfig::default().write_timeout(Duration::from_secs(5));
    /// # let _ = config;
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// How long [`EngineIo::serve`](crate::engine::EngineIo::serve) and
    /// [`listen`](crate::engine::EngineIo::listen) wait, once shutting down, for the sessions to
    /// close (each client is told the server is shutting down, what is queued for it is
    /// delivered first) before they return anyway. Default 10 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::EngineConfig;
    ///
    /// // Kubernetes' default grace period is 30 s: leave some of it.
    /// let config = EngineConfig::default().shutdown_timeout(Duration::from_secs(20));
    /// # let _ = config;
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The most sessions open at once. Default: no limit. Beyond it, a handshake is refused
    /// with `503 Service Unavailable` and an Engine.IO error body
    /// (`{"code":4,"message":"Server busy"}`: the refusal Node gives through `allowRequest`, with
    /// its status), which the official clients report as a connection error and retry with
    /// their reconnection backoff.
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{EngineConfig, SocketIo};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().config(EngineConfig::default().max_connections(1)).build();
    /// let app = axum::Router::new().layer(io.layer());
    ///
    /// let _first = TestClient::connect(app.clone(), "/").await.unwrap();
    /// let second = TestClient::connect(app, "/").await.unwrap_err();
    /// assert!(second.to_string().contains("503"));
    /// # }
    /// ```
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// How long [`SocketIo::listen`] and [`SocketIo::serve`] wait for the head of a request
    /// before they drop the connection (hyper's `header_read_timeout`). Default 30 s. It cuts
    /// connections that send their headers a byte at a time (slowloris). `Duration::ZERO`
    /// turns it off. Servers built elsewhere (`axum::serve`, your own hyper loop) set their own.
    ///
    /// It costs a timer per request head (hyper arms one for each): about 1,300 instructions
    /// of a long-polling round trip's 34,000, measured with callgrind.
    ///
    /// [`SocketIo::listen`]: crate::SocketIo::listen
    /// [`SocketIo::serve`]: crate::SocketIo::serve
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::{EngineConfig, SocketIo};
    ///
    /// let io = SocketIo::builder()
    ///     .config(EngineConfig::default().header_read_timeout(Duration::from_secs(5)))
    ///     .build();
    /// // io.listen("0.0.0.0:3000").await
    /// # let _ = io;
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// The transports clients may use (Node: `transports`). Default both, polling and WebSocket.
    /// A request for a transport not in the list gets the "Transport unknown" error.
    ///
    /// # Panics
    /// When `transports` is empty.
    ///
    /// ```
    /// use tower_socketio::{EngineConfig, Transport};
    ///
    /// // No long-polling: clients must connect with `transports: ["websocket"]`.
    /// let config = EngineConfig::default().transports([Transport::WebSocket]);
    /// # let _ = config;
    /// ```
    pub fn transports(mut self, transports: impl IntoIterator<Item = Transport>) -> Self {
        let transports: Vec<Transport> = transports.into_iter().collect();
        assert!(
            !transports.is_empty(),
            "at least one transport must be allowed"
        );
        self.polling = transports.contains(&Transport::Polling);
        self.websocket = transports.contains(&Transport::WebSocket);
        self
    }

    /// Whether sessions opened with polling may upgrade to WebSocket (Node: `allowUpgrades`).
    /// Default `true`.
    ///
    /// ```
    /// use tower_socketio::EngineConfig;
    ///
    /// // Sessions stay on the transport they opened with.
    /// let config = EngineConfig::default().allow_upgrades(false);
    /// # let _ = config;
    /// ```
    pub fn allow_upgrades(mut self, allow: bool) -> Self {
        self.allow_upgrades = allow;
        self
    }

    /// Whether clients of Engine.IO protocol v3 (`EIO=3`: Socket.IO 2.x clients) are served
    /// (Node: `allowEIO3`). Default `true` here (the Node server defaults to `false`). When off,
    /// their requests get the "Unsupported protocol version" error.
    ///
    /// ```
    /// use tower_socketio::EngineConfig;
    ///
    /// // Socket.IO 3.x and 4.x clients only, as the Node server by default.
    /// let config = EngineConfig::default().allow_eio3(false);
    /// # let _ = config;
    /// ```
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.allow_eio3 = allow;
        self
    }

    /// Sets a session cookie on the handshake response (Node: `cookie`). Default none.
    ///
    /// ```
    /// use tower_socketio::{Cookie, EngineConfig};
    ///
    /// // Sticky sessions behind a load balancer that routes on the `io` cookie.
    /// let config = EngineConfig::default().cookie(Cookie::default());
    /// # let _ = config;
    /// ```
    pub fn cookie(mut self, cookie: Cookie) -> Self {
        self.cookie = Some(cookie);
        self
    }

    /// A hook that sees each handshake request (method, URI, headers, extensions) and may refuse
    /// it (Node: `allowRequest`). Default none: every handshake is accepted.
    ///
    /// ```
    /// use tower_socketio::{EngineConfig, Refusal};
    ///
    /// let config = EngineConfig::default().allow_request(|req| {
    ///     match req.headers.get("x-api-key") {
    ///         Some(key) if key == "secret" => Ok(()),
    ///         _ => Err(Refusal::new("missing API key")),
    ///     }
    /// });
    /// # let _ = config;
    /// ```
    pub fn allow_request<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Parts) -> Result<(), Refusal> + Send + Sync + 'static,
    {
        self.allow_request = Some(Arc::new(hook));
        self
    }

    /// Which page origins may connect (the 1.x `origins(...)`, Node 4.x: `cors.origin`). Default
    /// [`Origins::Any`].
    ///
    /// A request whose `Origin` header is not allowed is refused with
    /// `403 {"code":4,"message":"Forbidden"}`, WebSocket upgrades included: browsers apply no
    /// CORS to WebSockets, so this check is what stops other sites from opening sessions with
    /// your users' cookies. Requests without an `Origin` header (non-browser clients) pass.
    /// Allowed polling requests get CORS headers and preflight answers.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use tower::ServiceExt;
    /// use tower_socketio::{EngineConfig, Origins, SocketIo};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let config = EngineConfig::default().origins(Origins::list(["https://app.example.com"]));
    /// let io = SocketIo::builder().config(config).build();
    /// let app = axum::Router::new().layer(io.layer());
    ///
    /// let from = |origin: &'static str| {
    ///     http::Request::get("/socket.io/?EIO=4&transport=polling")
    ///         .header("origin", origin)
    ///         .body(Full::new(Bytes::new()))
    ///         .unwrap()
    /// };
    /// let allowed = app.clone().oneshot(from("https://app.example.com")).await.unwrap();
    /// assert_eq!(allowed.status(), 200);
    /// let refused = app.oneshot(from("https://evil.example")).await.unwrap();
    /// assert_eq!(refused.status(), 403);
    /// # }
    /// ```
    pub fn origins(mut self, origins: Origins) -> Self {
        self.origins = origins;
        self
    }

    /// Whether CORS responses allow credentials (cookies) (Node: `cors.credentials`). Default
    /// `false`. With [`Origins::Any`] and credentials, the request's origin is echoed back, since
    /// browsers refuse `*` with credentials.
    ///
    /// ```
    /// use tower_socketio::{EngineConfig, Origins};
    ///
    /// // The page at app.example.com connects with `withCredentials: true` (cookies sent).
    /// let config = EngineConfig::default()
    ///     .origins(Origins::list(["https://app.example.com"]))
    ///     .cors_credentials(true);
    /// # let _ = config;
    /// ```
    pub fn cors_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// Whether the official browser client is served under the path, as `socket.io.js`,
    /// `socket.io.min.js`, ... (Node: `serveClient`). Default `true`. Needs the `client-bundle`
    /// feature (on by default).
    ///
    /// ```
    /// use tower_socketio::EngineConfig;
    ///
    /// // The page loads the client from a CDN or its own bundle instead.
    /// let config = EngineConfig::default().serve_client(false);
    /// # let _ = config;
    /// ```
    pub fn serve_client(mut self, serve: bool) -> Self {
        self.serve_client = serve;
        self
    }

    /// How long-polling responses are compressed (Node: `httpCompression`); `None` turns it
    /// off. Default `Some(HttpCompression::default())`: gzip or deflate, by the request's
    /// `Accept-Encoding`, for payloads of 1024 bytes and more, at level 6, as on the Node server.
    /// See [`HttpCompression`].
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use tower::ServiceExt;
    /// use tower_socketio::{EngineConfig, HttpCompression, SocketIo};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// // Even the handshake (about 120 bytes) is compressed with a threshold of 0.
    /// let config = EngineConfig::default()
    ///     .http_compression(Some(HttpCompression { threshold: 0, ..HttpCompression::default() }));
    /// let io = SocketIo::builder().config(config).build();
    /// let app = axum::Router::new().layer(io.layer());
    ///
    /// let handshake = http::Request::get("/socket.io/?EIO=4&transport=polling")
    ///     .header("accept-encoding", "gzip, deflate, br")
    ///     .body(Full::new(Bytes::new()))
    ///     .unwrap();
    /// let response = app.oneshot(handshake).await.unwrap();
    /// assert_eq!(response.headers()["content-encoding"], "gzip");
    /// # }
    /// ```
    pub fn http_compression(mut self, compression: Option<HttpCompression>) -> Self {
        self.http_compression = compression;
        self
    }

    /// Whether the layer answers CORS itself for long-polling requests: preflights, and
    /// `Access-Control-Allow-Origin` (with [`cors_credentials`](Self::cors_credentials)) on the
    /// responses, from [`origins`](Self::origins). Default `true`.
    ///
    /// Turn it off when tower-http's `CorsLayer` wraps the app, so that one policy answers
    /// browsers (the layer's headers would otherwise stand where `CorsLayer` sets none, e.g.
    /// `Access-Control-Allow-Origin: *` for an origin `CorsLayer` does not allow). [`origins`]
    /// still refuses requests (WebSocket upgrades included, which CORS does not cover) with a
    /// 403: give it the same origins as `CorsLayer`.
    ///
    /// [`origins`]: Self::origins
    ///
    /// ```
    /// use tower_http::cors::{AllowOrigin, CorsLayer};
    /// use tower_socketio::{EngineConfig, Origins, SocketIo};
    ///
    /// let site = "https://app.example.com";
    /// let io = SocketIo::builder()
    ///     .config(EngineConfig::default().origins(Origins::list([site])).cors_headers(false))
    ///     .build();
    /// let app: axum::Router = axum::Router::new()
    ///     .layer(io.layer())
    ///     .layer(CorsLayer::new().allow_origin(AllowOrigin::list([site.parse().unwrap()])));
    /// # let _ = app;
    /// ```
    pub fn cors_headers(mut self, answer: bool) -> Self {
        self.cors_headers = answer;
        self
    }

    /// Whether `transport` is enabled.
    ///
    /// ```
    /// use tower_socketio::{EngineConfig, Transport};
    ///
    /// let config = EngineConfig::default().transports([Transport::Polling]);
    /// assert!(config.allows_transport(Transport::Polling));
    /// assert!(!config.allows_transport(Transport::WebSocket));
    /// ```
    pub fn allows_transport(&self, transport: Transport) -> bool {
        match transport {
            Transport::Polling => self.polling,
            Transport::WebSocket => self.websocket,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_normalised() {
        assert_eq!(
            EngineConfig::default().path("engine.io").path,
            "/engine.io/"
        );
        assert_eq!(EngineConfig::default().path("/x/").path, "/x/");
    }

    #[test]
    fn cookie_header() {
        assert_eq!(
            Cookie::default().header_value("abc"),
            "io=abc; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    #[should_panic(expected = "at least one transport")]
    fn transports_cannot_be_empty() {
        let _ = EngineConfig::default().transports([]);
    }
}
