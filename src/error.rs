//! Every error type of the crate, in one place. Each is also reachable where it is used
//! (the crate root, [`adapter`](crate::adapter), [`extract`](crate::extract)).
//!
//! | error | from |
//! |---|---|
//! | [`EmitError`] | [`Socket::emit`](crate::Socket::emit), [`AckSender::send`](crate::extract::AckSender::send) |
//! | [`AckError`] | [`Socket::emit_with_ack`](crate::Socket::emit_with_ack) |
//! | [`BroadcastError`] | awaiting a [`BroadcastOperator`](crate::BroadcastOperator)'s operations |
//! | [`AdapterError`] | an [`Adapter`](crate::adapter::Adapter)'s operations across servers |
//! | [`ConnectError`] | what a connection middleware returns to refuse a client |
//! | [`ExtractError`] | what an extractor returns when it cannot extract |
//!
//! ```
//! use tower_socketio::error::EmitError;
//! use tower_socketio::{Namespace, SocketRef};
//!
//! let ns: Namespace = Namespace::new().on("news", |socket: SocketRef| async move {
//!     match socket.emit("news", "hello") {
//!         Ok(()) => {}
//!         Err(EmitError::Disconnected) => {} // gone meanwhile: nothing to do
//!         Err(error) => tracing::warn!(%error, "emit failed"),
//!     }
//! });
//! # let _ = ns;
//! ```

use std::fmt;

use crate::engine::EncodedSendError;

/// Why an emit failed.
///
/// ```
/// use tower_socketio::error::EmitError;
/// use tower_socketio::extract::AckSender;
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo, SocketRef};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("try", |socket: SocketRef, ack: AckSender| async move {
///         // "connect", "disconnect"... are the protocol's own (`RESERVED_EVENTS`).
///         let refused = matches!(socket.emit("connect", &()), Err(EmitError::ReservedEvent(_)));
///         let _ = ack.send(&refused);
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let refused: bool = client.emit_with_ack("try", &()).await.unwrap();
/// assert!(refused);
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum EmitError {
    /// The event name is reserved ([`RESERVED_EVENTS`](crate::RESERVED_EVENTS)).
    ReservedEvent(String),
    /// The data could not be serialized.
    Serialize(serde_json::Error),
    /// The data serialized into something that is not a valid packet (a bug of this crate).
    Encoding(&'static str),
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
            EmitError::Encoding(e) => write!(f, "the data was encoded into an invalid packet: {e}"),
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
///
/// ```
/// use std::time::Duration;
/// use tower_socketio::error::AckError;
///
/// # async fn f(socket: tower_socketio::SocketRef) {
/// let answer = socket.emit_with_ack::<_, u32>("pick a number", &()).timeout(Duration::from_secs(3)).await;
/// let number = match answer {
///     Ok(number) => number,
///     Err(AckError::Timeout | AckError::Disconnected) => return, // no answer
///     Err(AckError::Deserialize(error)) => {
///         tracing::info!(%error, "not a number");
///         return;
///     }
///     Err(error) => {
///         tracing::warn!(%error);
///         return;
///     }
/// };
/// # let _ = number;
/// # }
/// ```
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

/// Why a broadcast failed.
///
/// ```
/// use tower_socketio::BroadcastError;
///
/// # async fn f(io: tower_socketio::SocketIo) {
/// match io.emit("news", "hello").await {
///     Ok(()) => {}
///     // Only with a multi-server adapter: this server's clients got it, other servers may not.
///     Err(BroadcastError::Adapter(error)) => tracing::warn!(%error),
///     Err(error) => tracing::error!(%error), // a bug: a reserved name, data that does not serialize
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BroadcastError {
    /// The emit itself failed (reserved name, serialization).
    Emit(EmitError),
    /// The adapter could not reach other servers. This server's sockets got the packet.
    Adapter(AdapterError),
}

impl std::fmt::Display for BroadcastError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BroadcastError::Emit(e) => write!(f, "{e}"),
            BroadcastError::Adapter(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BroadcastError {}

/// An operation across servers that failed: what an [`Adapter`](crate::adapter::Adapter)'s
/// operations return, wrapping its own error.
///
/// ```
/// use tower_socketio::adapter::{AdapterError, AdapterFuture};
///
/// fn unreachable_bus() -> AdapterFuture<()> {
///     let error = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "bus down");
///     Box::pin(std::future::ready(Err(AdapterError(Box::new(error)))))
/// }
/// # let _ = unreachable_bus();
/// ```
#[derive(Debug)]
pub struct AdapterError(pub Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "adapter error: {}", self.0)
    }
}

impl std::error::Error for AdapterError {}

/// Why a connection middleware refused a connection. The client gets a CONNECT_ERROR with
/// `message` and `data` (its `connect_error` event: `err.message`, `err.data`).
///
/// ```
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{ConnectError, Namespace, SocketIo, SocketRef};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/closed", Namespace::new().middleware(|_socket: SocketRef| async move {
///         Err::<(), _>(ConnectError::new("closed for maintenance").with_data(serde_json::json!({"retry_in": 60})))
///     }))
///     .build();
///
/// let refused = TestClient::connect(axum::Router::new().layer(io.layer()), "/closed").await;
/// assert!(refused.unwrap_err().to_string().contains("closed for maintenance"));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    message: String,
    data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with this message.
    ///
    /// ```
    /// use tower_socketio::{ConnectError, Namespace, SocketRef};
    ///
    /// let ns: Namespace = Namespace::new().middleware(|socket: SocketRef| async move {
    ///     if socket.req_parts().headers.contains_key("x-banned") {
    ///         return Err(ConnectError::new("banned"));
    ///     }
    ///     Ok(())
    /// });
    /// # let _ = ns;
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Attaches data for the client (`err.data`): anything that serializes.
    ///
    /// ```
    /// use tower_socketio::ConnectError;
    ///
    /// let error = ConnectError::new("not authorized").with_data(serde_json::json!({"login": "/login"}));
    /// assert_eq!(error.data().unwrap()["login"], "/login");
    /// ```
    pub fn with_data(mut self, data: impl serde::Serialize) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }

    /// The message.
    ///
    /// ```
    /// use tower_socketio::ConnectError;
    ///
    /// assert_eq!(ConnectError::new("not authorized").message(), "not authorized");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The data.
    ///
    /// ```
    /// use tower_socketio::ConnectError;
    ///
    /// assert_eq!(ConnectError::new("no").data(), None);
    /// assert_eq!(ConnectError::new("no").with_data(3).data(), Some(&serde_json::json!(3)));
    /// ```
    pub fn data(&self) -> Option<&serde_json::Value> {
        self.data.as_ref()
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

impl From<ExtractError> for ConnectError {
    fn from(e: ExtractError) -> Self {
        ConnectError::new(e.message())
    }
}

/// Why a handler's argument could not be extracted. The handler is not called, and the error
/// is logged (with its [detail](ExtractError::with_detail)). What the client hears depends on
/// the handler:
/// - an event handler: when the client asked for an acknowledgement, it gets one carrying
///   `{"error": "<message>"}`;
/// - a connection middleware: the connection is refused, the client's `connect_error` gets
///   the message;
/// - a connect or disconnect handler: nothing; the client is connected (or gone) already.
///
/// Only [`message`](ExtractError::message) reaches the client: keep server details (type
/// names, internal state) in the detail.
///
/// ```
/// use tower_socketio::extract::{AckSender, ExtractError, FromSocket, HandlerContext};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo};
///
/// /// Only for sockets that joined "admins".
/// struct Admin;
///
/// impl<S> FromSocket<S> for Admin {
///     fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
///         if ctx.socket().rooms().iter().any(|room| room == "admins") {
///             Ok(Admin)
///         } else {
///             Err(ExtractError::new("admins only").with_detail(format!("socket {}", ctx.socket().id())))
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("shutdown", |_admin: Admin, ack: AckSender| async move {
///         let _ = ack.send("shutting down");
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// // The handler is not called; the acknowledgement carries the message (not the detail).
/// let answer: serde_json::Value = client.emit_with_ack("shutdown", &()).await.unwrap();
/// assert_eq!(answer, serde_json::json!({"error": "admins only"}));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractError {
    message: String,
    detail: Option<String>,
}

impl ExtractError {
    /// An error with this message, which the client may be sent.
    ///
    /// ```
    /// use tower_socketio::extract::ExtractError;
    ///
    /// let error = ExtractError::new("not signed in");
    /// assert_eq!(error.to_string(), "not signed in");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        ExtractError {
            message: message.into(),
            detail: None,
        }
    }

    /// Adds what only the server's log shows.
    ///
    /// ```
    /// use tower_socketio::extract::ExtractError;
    ///
    /// let error = ExtractError::new("not signed in").with_detail("no session cookie");
    /// assert_eq!(error.message(), "not signed in"); // for the client
    /// assert_eq!(error.to_string(), "not signed in (no session cookie)"); // for the log
    /// ```
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The message, as the client may be sent it.
    ///
    /// ```
    /// use tower_socketio::extract::ExtractError;
    ///
    /// assert_eq!(ExtractError::new("bad input").with_detail("line 3").message(), "bad input");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What only the log shows, if anything.
    ///
    /// ```
    /// use tower_socketio::extract::ExtractError;
    ///
    /// assert_eq!(ExtractError::new("bad input").detail(), None);
    /// assert_eq!(ExtractError::new("bad input").with_detail("line 3").detail(), Some("line 3"));
    /// ```
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

/// The message, then the detail in parentheses: the log's wording.
impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExtractError {}

/// [`SocketIo::observe_sockets`](crate::SocketIo::observe_sockets) or
/// [`SocketIo::observe_rooms`](crate::SocketIo::observe_rooms) was called on a server that
/// already has that observer: there is at most one of each per server.
///
/// ```
/// use std::sync::Arc;
/// use tower_socketio::{SocketIo, SocketObserver};
///
/// struct Quiet;
/// impl SocketObserver for Quiet {}
///
/// let io = SocketIo::builder().build();
/// io.observe_sockets(Arc::new(Quiet)).unwrap();
/// let taken = io.observe_sockets(Arc::new(Quiet)).unwrap_err();
/// assert_eq!(taken.to_string(), "the server already has this kind of observer");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObserverTaken;

impl fmt::Display for ObserverTaken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the server already has this kind of observer")
    }
}

impl std::error::Error for ObserverTaken {}
