//! Testing your app in-process: [`TestClient`], a small Socket.IO client that talks to your
//! service (an axum `Router` with the layer, or any tower service) through `Service::call`, over
//! HTTP long-polling. No port, no socket, no Node.js.
//!
//! ```
//! use axum::Router;
//! use tower_socketio::testing::TestClient;
//! use tower_socketio::extract::{AckSender, Data};
//! use tower_socketio::{Namespace, SocketIo, SocketRef};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let io = SocketIo::builder()
//!     .ns("/", Namespace::new()
//!         .on_connect(|socket: SocketRef| async move { let _ = socket.emit("hello", "you"); })
//!         .on("add", |ack: AckSender, Data((a, b)): Data<(i64, i64)>| async move {
//!             let _ = ack.send(&(a + b));
//!         }))
//!     .build();
//! let app = Router::new().layer(io.layer());
//!
//! let mut client = TestClient::connect(app, "/").await.unwrap();
//! let (event, args) = client.recv().await.unwrap();
//! assert_eq!((event.as_str(), args[0].as_str()), ("hello", Some("you")));
//! let sum: i64 = client.emit_with_ack("add", &(2, 3)).await.unwrap();
//! assert_eq!(sum, 5);
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_service::Service;

use crate::engine::{BoxError, Str};
use crate::parser::{self, Kind, args_into};
use crate::value::Value;

/// Why the test client failed.
///
/// ```
/// # use tower_socketio::testing::TestClient;
/// # use tower_socketio::{Namespace, SocketIo, SocketRef};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("ping", |socket: SocketRef| async move {
///         let _ = socket.emit("pong", &());
///     }))
///     .build();
/// let app = axum::Router::new().layer(io.layer());
/// // No namespace "/missing" on this server: the CONNECT_ERROR comes back as an error.
/// let error = TestClient::connect(app, "/missing").await.unwrap_err();
/// assert!(error.to_string().contains("Invalid namespace"), "{error}");
/// # }
/// ```
#[derive(Debug)]
pub struct TestError(String);

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TestError {}

fn error(message: impl Into<String>) -> TestError {
    TestError(message.into())
}

/// A Socket.IO v5 client over long-polling, driving a service in-process. See the
/// [module documentation](self).
///
/// ```
/// # use tower_socketio::testing::TestClient;
/// # use tower_socketio::{Namespace, SocketIo, SocketRef};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("ping", |socket: SocketRef| async move {
///         let _ = socket.emit("pong", &());
///     }))
///     .build();
/// let app = axum::Router::new().layer(io.layer());
/// let mut client = TestClient::connect(app, "/").await.unwrap();
/// client.emit("ping", &()).await.unwrap();
/// let (event, _) = client.recv().await.unwrap();
/// assert_eq!(event, "pong");
/// # }
/// ```
///
/// Requests carry an [`http_body_util::Full<Bytes>`] body; `RB` is the service's response body
/// type (inferred).
pub struct TestClient<S, RB> {
    service: S,
    _body: std::marker::PhantomData<fn() -> RB>,
    path: String,
    sid: String,
    ns: String,
    /// The socket id the server gave on CONNECT.
    socket_id: String,
    /// Packets received but not read yet.
    inbox: VecDeque<String>,
    /// Binary attachments received but not read yet.
    binaries: VecDeque<Bytes>,
    next_ack: u64,
    timeout: Duration,
    /// Sent with every request.
    headers: http::HeaderMap,
    /// Appended to every request's query string.
    query: String,
}

/// An event the server emitted to a [`TestClient`]: its name, its arguments and, when the server
/// awaits an answer (`emit_with_ack`), the id to answer with [`TestClient::ack`].
///
/// ```
/// # use tower_socketio::testing::TestClient;
/// # use tower_socketio::{Namespace, SocketIo, SocketRef};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("ping", |socket: SocketRef| async move {
///         let _ = socket.emit("pong", &());
///     }))
///     .build();
/// let app = axum::Router::new().layer(io.layer());
/// let mut client = TestClient::connect(app, "/").await.unwrap();
/// client.emit("ping", &()).await.unwrap();
/// let event = client.recv_event().await.unwrap();
/// assert_eq!((event.name.as_str(), event.ack_id), ("pong", None));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedEvent {
    /// The event's name.
    pub name: String,
    /// Its arguments, binary in place.
    pub args: Vec<Value>,
    /// The acknowledgement id when the server asked for an answer.
    pub ack_id: Option<u64>,
}

/// An EVENT or ACK packet read by the client: the event's name (none for an ACK), the arguments,
/// the acknowledgement id.
struct Decoded {
    name: Option<String>,
    args: Vec<Value>,
    id: Option<u64>,
}

/// Builds a [`TestClient`] with an auth payload, headers (cookies...), query parameters, another
/// path or namespace: [`TestClient::builder`].
///
/// ```
/// # use tower_socketio::testing::TestClient;
/// # use tower_socketio::{Namespace, SocketIo, SocketRef};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/chat", Namespace::new().on_connect(|socket: SocketRef| async move {
///         let _ = socket.emit("welcome", &());
///     }))
///     .build();
/// let app = axum::Router::new().layer(io.layer());
/// let mut client = TestClient::builder(app)
///     .ns("/chat")
///     .auth(serde_json::json!({ "name": "Ada" }))
///     .header("cookie", "session=abc")
///     .connect()
///     .await
///     .unwrap();
/// assert_eq!(client.recv().await.unwrap().0, "welcome");
/// # }
/// ```
#[must_use = "a builder does nothing until `connect` is called"]
pub struct TestClientBuilder<S> {
    service: S,
    path: String,
    ns: String,
    auth: Option<serde_json::Value>,
    headers: http::HeaderMap,
    query: String,
}

impl<S> fmt::Debug for TestClientBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestClientBuilder")
            .field("path", &self.path)
            .field("ns", &self.ns)
            .field("auth", &self.auth)
            .finish()
    }
}

impl<S> TestClientBuilder<S> {
    /// The Socket.IO path (default `/socket.io/`, as [`EngineConfig::path`]'s).
    ///
    /// [`EngineConfig::path`]: crate::EngineConfig::path
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use tower_socketio::EngineConfig;
    /// let io = SocketIo::builder()
    ///     .config(EngineConfig::default().path("/realtime/"))
    ///     .ns("/", Namespace::new())
    ///     .build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let client = TestClient::builder(app).path("/realtime/").connect().await;
    /// assert!(client.is_ok());
    /// # }
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The namespace to join (default `/`).
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().ns("/admin", Namespace::new()).build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let client = TestClient::builder(app).ns("/admin").connect().await;
    /// assert!(client.is_ok());
    /// # }
    /// ```
    pub fn ns(mut self, ns: impl Into<String>) -> Self {
        self.ns = ns.into();
        self
    }

    /// The CONNECT auth payload (the client's `auth` option), what
    /// [`Data`](crate::extract::Data) reads in middlewares and connect handlers.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use tower_socketio::extract::Data;
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{ConnectError, Namespace, SocketIo};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Auth { token: String }
    ///
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().middleware(|Data(auth): Data<Auth>| async move {
    ///         if auth.token == "secret" { Ok(()) } else { Err(ConnectError::new("go away")) }
    ///     }))
    ///     .build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let ok = TestClient::builder(app.clone())
    ///     .auth(serde_json::json!({ "token": "secret" }))
    ///     .connect()
    ///     .await;
    /// assert!(ok.is_ok());
    /// let refused = TestClient::builder(app).auth(serde_json::json!({ "token": "?" })).connect().await;
    /// assert!(refused.unwrap_err().to_string().contains("go away"));
    /// # }
    /// ```
    pub fn auth(mut self, auth: serde_json::Value) -> Self {
        self.auth = Some(auth);
        self
    }

    /// A header sent with every request of the session, the handshake's included (what
    /// [`Socket::req_parts`](crate::Socket::req_parts) shows): a cookie, an authorization...
    /// Invalid names or values are ignored.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
    ///         let headers = &socket.req_parts().headers;
    ///         let cookie = headers.get("cookie").and_then(|c| c.to_str().ok()).unwrap_or("");
    ///         let _ = socket.emit("cookie", cookie);
    ///     }))
    ///     .build();
    /// let mut client = TestClient::builder(axum::Router::new().layer(io.layer()))
    ///     .header("cookie", "session=abc")
    ///     .connect()
    ///     .await
    ///     .unwrap();
    /// let (_, args) = client.recv().await.unwrap();
    /// assert_eq!(args[0].as_str(), Some("session=abc"));
    /// # }
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::try_from(value),
        ) {
            self.headers.append(name, value);
        }
        self
    }

    /// A query parameter sent with every request (the client's `query` option), e.g. a token;
    /// `name` and `value` are sent as given (percent-encode them if needed).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
    ///         let query = socket.req_parts().uri.query().unwrap_or("").to_owned();
    ///         let _ = socket.emit("query", &query);
    ///     }))
    ///     .build();
    /// let mut client = TestClient::builder(axum::Router::new().layer(io.layer()))
    ///     .query("room", "blue")
    ///     .connect()
    ///     .await
    ///     .unwrap();
    /// let (_, args) = client.recv().await.unwrap();
    /// assert!(args[0].as_str().unwrap().contains("room=blue"));
    /// # }
    /// ```
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push('&');
        self.query.push_str(name);
        self.query.push('=');
        self.query.push_str(value);
        self
    }

    /// Opens the session and joins the namespace; a refusal (CONNECT_ERROR) is an error
    /// carrying its message.
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use tower_socketio::ConnectError;
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().middleware(|| async { Err::<(), _>(ConnectError::new("closed")) }))
    ///     .build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let refused = TestClient::builder(app).connect().await.unwrap_err();
    /// assert!(refused.to_string().contains("closed"));
    /// # }
    /// ```
    pub async fn connect<RB>(self) -> Result<TestClient<S, RB>, TestError>
    where
        S: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone,
        S::Error: fmt::Debug,
        RB: http_body::Body,
        RB::Error: Into<BoxError>,
    {
        TestClient::join(
            self.service,
            &self.path,
            &self.ns,
            self.auth,
            self.headers,
            self.query,
        )
        .await
    }
}

impl<S, RB> fmt::Debug for TestClient<S, RB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestClient")
            .field("sid", &self.sid)
            .field("ns", &self.ns)
            .finish()
    }
}

impl<S, RB> TestClient<S, RB>
where
    S: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone,
    S::Error: fmt::Debug,
    RB: http_body::Body,
    RB::Error: Into<BoxError>,
{
    /// Opens a session under `/socket.io/` and joins namespace `ns` (no auth payload). For an
    /// auth payload, headers or query parameters: [`builder`](Self::builder).
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |socket: SocketRef| async move {
    ///         let _ = socket.emit("pong", &());
    ///     }))
    ///     .build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let client = TestClient::connect(app, "/").await.unwrap();
    /// assert_eq!(client.socket_id().len(), 20);
    /// # }
    /// ```
    pub async fn connect(service: S, ns: &str) -> Result<Self, TestError> {
        Self::connect_with(service, "/socket.io/", ns, None).await
    }

    /// A client to build: auth payload, headers, query, path, namespace (defaults: none,
    /// `/socket.io/`, `/`).
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |socket: SocketRef| async move {
    ///         let _ = socket.emit("pong", &());
    ///     }))
    ///     .build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let client = TestClient::builder(app).query("token", "abc").connect().await;
    /// assert!(client.is_ok());
    /// # }
    /// ```
    pub fn builder(service: S) -> TestClientBuilder<S> {
        TestClientBuilder {
            service,
            path: "/socket.io/".to_owned(),
            ns: "/".to_owned(),
            auth: None,
            headers: http::HeaderMap::new(),
            query: String::new(),
        }
    }

    /// Opens a session under `path` and joins namespace `ns` with an optional auth payload. A
    /// refusal (CONNECT_ERROR) is an error carrying its message.
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |socket: SocketRef| async move {
    ///         let _ = socket.emit("pong", &());
    ///     }))
    ///     .build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let client = TestClient::connect_with(app, "/socket.io/", "/", Some(serde_json::json!({"token": "abc"}))).await;
    /// assert!(client.is_ok());
    /// # }
    /// ```
    pub async fn connect_with(
        service: S,
        path: &str,
        ns: &str,
        auth: Option<serde_json::Value>,
    ) -> Result<Self, TestError> {
        Self::join(
            service,
            path,
            ns,
            auth,
            http::HeaderMap::new(),
            String::new(),
        )
        .await
    }

    async fn join(
        service: S,
        path: &str,
        ns: &str,
        auth: Option<serde_json::Value>,
        headers: http::HeaderMap,
        query: String,
    ) -> Result<Self, TestError> {
        let mut client = Self::open_at(service, path, ns, headers, query).await?;
        let prefix = client.ns_prefix();
        let auth = auth.map(|a| a.to_string()).unwrap_or_default();
        client.post(&format!("40{prefix}{auth}")).await?;
        let answer = client.next_packet().await?;
        let expected = format!("0{prefix}");
        match answer.strip_prefix(&expected) {
            Some(rest) => {
                let connect: serde_json::Value = serde_json::from_str(rest)
                    .map_err(|e| error(format!("CONNECT answer: {e}")))?;
                client.socket_id = connect["sid"].as_str().unwrap_or_default().to_owned();
                Ok(client)
            }
            None => Err(error(format!("connection refused: {answer}"))),
        }
    }

    /// Opens a session under `/socket.io/` and joins no namespace; its emits go to `/` (the
    /// crate's own tests send the CONNECT packets themselves, with [`post`](Self::post)).
    #[cfg(test)]
    pub(crate) async fn open(service: S) -> Result<Self, TestError> {
        Self::open_at(
            service,
            "/socket.io/",
            "/",
            http::HeaderMap::new(),
            String::new(),
        )
        .await
    }

    /// Opens a session under `path` (the Engine.IO handshake), joining no namespace yet; `ns`
    /// is the namespace its emits go to.
    async fn open_at(
        service: S,
        path: &str,
        ns: &str,
        headers: http::HeaderMap,
        query: String,
    ) -> Result<Self, TestError> {
        let mut client = TestClient {
            service,
            _body: std::marker::PhantomData,
            path: path.to_owned(),
            sid: String::new(),
            ns: ns.to_owned(),
            socket_id: String::new(),
            inbox: VecDeque::new(),
            binaries: VecDeque::new(),
            next_ack: 0,
            timeout: Duration::from_secs(5),
            headers,
            query,
        };
        let (status, body) = client.request("GET", Bytes::new()).await?;
        if status != StatusCode::OK || !body.starts_with('0') {
            return Err(error(format!("handshake failed: {status} {body}")));
        }
        let open: serde_json::Value =
            serde_json::from_str(&body[1..]).map_err(|e| error(format!("open packet: {e}")))?;
        client.sid = open["sid"].as_str().unwrap_or_default().to_owned();
        Ok(client)
    }

    /// The socket id the server gave.
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
    ///         let _ = socket.emit("you", &socket.id().to_string());
    ///     }))
    ///     .build();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let (_, args) = client.recv().await.unwrap();
    /// assert_eq!(args[0].as_str(), Some(client.socket_id()));
    /// # }
    /// ```
    pub fn socket_id(&self) -> &str {
        &self.socket_id
    }

    /// How long [`recv`](Self::recv) and acknowledgements wait (default 5 s).
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |socket: SocketRef| async move {
    ///         let _ = socket.emit("pong", &());
    ///     }))
    ///     .build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let mut client = TestClient::connect(app, "/").await.unwrap();
    /// client.set_timeout(std::time::Duration::from_millis(100));
    /// // Nothing was emitted: `recv` gives up after 100 ms.
    /// assert!(client.recv().await.is_err());
    /// # }
    /// ```
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Emits `event` with `data` as arguments (a tuple is several).
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |socket: SocketRef| async move {
    ///         let _ = socket.emit("pong", &());
    ///     }))
    ///     .build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let mut client = TestClient::connect(app, "/").await.unwrap();
    /// client.emit("ping", &()).await.unwrap();
    /// assert_eq!(client.recv().await.unwrap().0, "pong");
    /// # }
    /// ```
    pub async fn emit<T: Serialize + ?Sized>(
        &mut self,
        event: &str,
        data: &T,
    ) -> Result<(), TestError> {
        let packet = parser::encode_args(&self.ns, Some(event), None, data)
            .map_err(|e| error(format!("serialize: {e}")))?;
        self.post_encoded(packet).await
    }

    /// Emits `event` and waits for the server's acknowledgement, read into `R` as
    /// [`Data`](crate::extract::Data) reads arguments.
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use tower_socketio::extract::{AckSender, Data};
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("sum", |ack: AckSender, Data(v): Data<Vec<i64>>| async move {
    ///         let _ = ack.send(&v.iter().sum::<i64>());
    ///     }))
    ///     .build();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let sum: i64 = client.emit_with_ack("sum", &vec![1, 2, 3]).await.unwrap();
    /// assert_eq!(sum, 6);
    /// # }
    /// ```
    pub async fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned>(
        &mut self,
        event: &str,
        data: &T,
    ) -> Result<R, TestError> {
        let id = self.next_ack;
        self.next_ack += 1;
        let packet = parser::encode_args(&self.ns, Some(event), Some(id), data)
            .map_err(|e| error(format!("serialize: {e}")))?;
        self.post_encoded(packet).await?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let index = self.inbox.iter().position(|p| self.is_ack(p, id));
            if let Some(index) = index {
                let packet = self.inbox.remove(index).expect("found above");
                let args = self.decode(&packet)?.args;
                return args_into(args).map_err(|e| error(format!("ack answer: {e}")));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(error("no acknowledgement in time"));
            }
            self.poll().await?;
        }
    }

    /// The next event the server emitted to this client: its name and arguments (binary in
    /// place). An acknowledgement the server asked for is not answered: to answer one, use
    /// [`recv_event`](Self::recv_event) and [`ack`](Self::ack).
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |socket: SocketRef| async move {
    ///         let _ = socket.emit("pong", &());
    ///     }))
    ///     .build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let mut client = TestClient::connect(app, "/").await.unwrap();
    /// client.emit("ping", &()).await.unwrap();
    /// let (event, args) = client.recv().await.unwrap();
    /// assert_eq!((event.as_str(), args.len()), ("pong", 0));
    /// # }
    /// ```
    pub async fn recv(&mut self) -> Result<(String, Vec<Value>), TestError> {
        let event = self.recv_event().await?;
        Ok((event.name, event.args))
    }

    /// The next event the server emitted to this client, with the acknowledgement id when the
    /// server awaits an answer.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let ns = Namespace::new().on_connect(|socket: SocketRef| async move {
    ///     let name = socket
    ///         .emit_with_ack::<_, String>("name?", &())
    ///         .timeout(Duration::from_secs(2))
    ///         .await;
    ///     // The answer comes back to the server.
    ///     let _ = socket.emit("hello", &name.unwrap_or_default());
    /// });
    /// let io = SocketIo::builder().ns("/", ns).build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let question = client.recv_event().await.unwrap();
    /// assert_eq!(question.name, "name?");
    /// client.ack(&question, "Ada").await.unwrap();
    /// let (event, args) = client.recv().await.unwrap();
    /// assert_eq!((event.as_str(), args[0].as_str()), ("hello", Some("Ada")));
    /// # }
    /// ```
    pub async fn recv_event(&mut self) -> Result<ReceivedEvent, TestError> {
        loop {
            let packet = self.next_packet().await?;
            let decoded = self.decode(&packet)?;
            if let Some(name) = decoded.name {
                return Ok(ReceivedEvent {
                    name,
                    args: decoded.args,
                    ack_id: decoded.id,
                });
            }
        }
    }

    /// Answers the server's acknowledgement request carried by `event` with `data` as
    /// arguments (a tuple is several). An error when the event asked for no answer. See
    /// [`recv_event`](Self::recv_event).
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
    ///         let ok = socket.emit_with_ack::<_, bool>("ready?", &()).timeout(Duration::from_secs(1)).await;
    ///         let _ = socket.emit("answer", &ok.unwrap_or(false));
    ///     }))
    ///     .build();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let question = client.recv_event().await.unwrap();
    /// client.ack(&question, &true).await.unwrap();
    /// let (_, args) = client.recv().await.unwrap();
    /// assert_eq!(args[0], tower_socketio::Value::Bool(true));
    /// # }
    /// ```
    pub async fn ack<T: Serialize + ?Sized>(
        &mut self,
        event: &ReceivedEvent,
        data: &T,
    ) -> Result<(), TestError> {
        let id = event.ack_id.ok_or_else(|| {
            error(format!(
                "event {:?} asked for no acknowledgement",
                event.name
            ))
        })?;
        let packet = parser::encode_args(&self.ns, None, Some(id), data)
            .map_err(|e| error(format!("serialize: {e}")))?;
        self.post_encoded(packet).await
    }

    /// Leaves the namespace and closes the session.
    ///
    /// ```
    /// # use tower_socketio::testing::TestClient;
    /// # use tower_socketio::{Namespace, SocketIo, SocketRef};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use tower_socketio::DisconnectReason;
    /// let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_disconnect(move |reason: DisconnectReason| {
    ///         let tx = tx.clone();
    ///         async move { let _ = tx.send(reason).await; }
    ///     }))
    ///     .build();
    /// let client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.disconnect().await.unwrap();
    /// assert_eq!(rx.recv().await, Some(DisconnectReason::ClientNamespaceDisconnect));
    /// # }
    /// ```
    pub async fn disconnect(mut self) -> Result<(), TestError> {
        let prefix = self.ns_prefix();
        self.post(&format!("41{prefix}")).await?;
        self.post("1").await
    }

    fn ns_prefix(&self) -> String {
        if self.ns == "/" {
            String::new()
        } else {
            format!("{},", self.ns)
        }
    }

    fn is_ack(&self, packet: &str, id: u64) -> bool {
        parser::decode(Str::from(packet.to_owned()))
            .is_ok_and(|p| matches!(p.kind, Kind::Ack | Kind::BinaryAck) && p.id == Some(id))
    }

    /// Decodes an EVENT or ACK packet, taking its attachments from the ones received: the
    /// event's name (none for an ACK), the arguments, the acknowledgement id.
    fn decode(&mut self, packet: &str) -> Result<Decoded, TestError> {
        let raw = parser::decode(Str::from(packet.to_owned()))
            .map_err(|e| error(format!("invalid packet {packet:?}: {e}")))?;
        match raw.kind {
            Kind::Event | Kind::BinaryEvent | Kind::Ack | Kind::BinaryAck => {
                let attachments: Vec<Bytes> = self
                    .binaries
                    .drain(..raw.attachments.min(self.binaries.len()))
                    .collect();
                let event = matches!(raw.kind, Kind::Event | Kind::BinaryEvent);
                let (name, args) = parser::parse_args(&raw.payload, &attachments, event)
                    .map_err(|e| error(format!("invalid packet {packet:?}: {e}")))?;
                Ok(Decoded {
                    name,
                    args,
                    id: raw.id,
                })
            }
            Kind::Disconnect => Err(error("the server disconnected the socket")),
            _ => Ok(Decoded {
                name: None,
                args: Vec::new(),
                id: None,
            }),
        }
    }

    /// The next Socket.IO packet received, as text (without the Engine.IO message type): the
    /// events, but also the CONNECT answers, DISCONNECT and ACK packets.
    pub(crate) async fn next_packet(&mut self) -> Result<String, TestError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            if let Some(packet) = self.inbox.pop_front() {
                return Ok(packet);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(error("nothing received in time"));
            }
            self.poll().await?;
        }
    }

    /// One GET poll: queues its Socket.IO packets, answers pings. An error once the session is
    /// closed (a `close` packet, or a 400 for a session that is gone).
    pub(crate) async fn poll(&mut self) -> Result<(), TestError> {
        let (status, body) = tokio::time::timeout(self.timeout, self.request("GET", Bytes::new()))
            .await
            .map_err(|_| error("nothing received in time"))??;
        if status != StatusCode::OK {
            return Err(error(format!("poll failed: {status} {body}")));
        }
        for packet in body.split('\u{1e}') {
            match packet.as_bytes().first() {
                Some(b'2') => self.post("3").await?,
                Some(b'4') => self.inbox.push_back(packet[1..].to_owned()),
                Some(b'b') => {
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(&packet[1..])
                        .map_err(|e| error(format!("base64: {e}")))?;
                    self.binaries.push_back(Bytes::from(data));
                }
                Some(b'1') => return Err(error("the server closed the session")),
                _ => {}
            }
        }
        Ok(())
    }

    async fn post_encoded(&mut self, packet: parser::EncodedPacket) -> Result<(), TestError> {
        let mut body = packet.text.to_string();
        for attachment in &packet.attachments {
            body.push('\u{1e}');
            body.push('b');
            body.push_str(&base64::engine::general_purpose::STANDARD.encode(attachment));
        }
        self.post(&body).await
    }

    /// POSTs `body`, an Engine.IO payload as is (packets separated by `\u{1e}`, `4...` a
    /// Socket.IO packet, `b<base64>` a binary one).
    pub(crate) async fn post(&mut self, body: &str) -> Result<(), TestError> {
        let (status, answer) = self
            .request("POST", Bytes::copy_from_slice(body.as_bytes()))
            .await?;
        if status == StatusCode::OK {
            Ok(())
        } else {
            Err(error(format!("POST failed: {status} {answer}")))
        }
    }

    async fn request(
        &mut self,
        method: &str,
        body: Bytes,
    ) -> Result<(StatusCode, String), TestError> {
        let sid = if self.sid.is_empty() {
            String::new()
        } else {
            format!("&sid={}", self.sid)
        };
        let uri = format!("{}?EIO=4&transport=polling{sid}{}", self.path, self.query);
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .body(Full::new(body))
            .map_err(|e| error(format!("request: {e}")))?;
        req.headers_mut()
            .extend(self.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut service = self.service.clone();
        poll_fn(|cx| service.poll_ready(cx))
            .await
            .map_err(|e| error(format!("service not ready: {e:?}")))?;
        let response = service
            .call(req)
            .await
            .map_err(|e| error(format!("service error: {e:?}")))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| error(format!("body: {}", e.into())))?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}
