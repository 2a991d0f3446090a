//! Connection state recovery (Node 4.6+ `connectionStateRecovery`): its options, and what an
//! adapter keeps of a disconnected socket ([`Session`]) and gives back ([`Restored`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{EncodedPacket, Room};
use crate::engine::Sid;
use crate::value::Value;

/// The options of connection state recovery (Node: `connectionStateRecovery`), given to
/// [`SocketIoBuilder::connection_state_recovery`](crate::SocketIoBuilder::connection_state_recovery).
///
/// A client whose connection dropped for a recoverable reason (transport closed or failed, ping
/// timeout, forced close, server shutting down) and reconnects within
/// `max_disconnection_duration` gets its socket back: the same id, its rooms and
/// [data](crate::Socket::set_data), and every event it missed, in order, before the CONNECT
/// answer. The client sends its private id and the offset of the last event it got; each stored
/// event carries its offset as an extra last argument (clients see it), as in Node.
///
/// Memory is bounded: at most `max_sessions` disconnected sockets are kept (past it the oldest is
/// forgotten), and each namespace keeps the events of the last `max_disconnection_duration`, at
/// most `max_log_bytes` of them (past it the oldest go). A client whose last event is no longer
/// kept, or whose session was forgotten, gets a new socket (`recovered` false), as in Node: it
/// knows it must catch up by itself. (With the Redis streams adapter, recovery works across
/// servers, and Redis keeps the events and sessions instead: the stream's `MAXLEN` and the
/// sessions' expiry bound them.)
///
/// ```
/// use std::time::Duration;
/// use tower_socketio::{RecoveryConfig, SocketIo};
///
/// let io = SocketIo::builder()
///     .connection_state_recovery(RecoveryConfig {
///         max_disconnection_duration: Duration::from_secs(30),
///         ..RecoveryConfig::default()
///     })
///     .build();
/// # let _ = io;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// How long a disconnected socket can be recovered (Node: `maxDisconnectionDuration`).
    /// Default 2 minutes.
    pub max_disconnection_duration: Duration,
    /// Whether a recovered socket skips the connection middlewares (Node: `skipMiddlewares`).
    /// Default true.
    pub skip_middlewares: bool,
    /// The most disconnected sockets kept for recovery, per namespace. Default 100,000.
    pub max_sessions: usize,
    /// The most bytes of stored events kept per namespace (their text and attachments). Default
    /// 64 MiB.
    pub max_log_bytes: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_sessions: 100_000,
            max_log_bytes: 64 << 20,
        }
    }
}

/// What a socket disconnected for a recoverable reason leaves (Node's `Session`): serializable,
/// for an adapter that keeps sessions outside the process.
///
/// ```
/// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter, Session};
/// use tower_socketio::engine::Sid;
/// use tower_socketio::{RecoveryConfig, Value};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let adapter = MemoryAdapter::new(LocalNamespace::detached_with_recovery("/", RecoveryConfig::default()));
/// let now = std::time::UNIX_EPOCH.elapsed().unwrap().as_millis() as u64;
/// let session = Session {
///     sid: Sid::new(),
///     pid: "private-id".into(),
///     rooms: vec!["lobby".into()],
///     data: Value::from("some data"),
///     connected_at: now,
/// };
/// // The socket lost its connection: the adapter keeps its session...
/// adapter.persist_session(session.clone()).await.unwrap();
/// // ...and gives it back when the client returns with its private id.
/// let restored = adapter.restore_session("private-id", None).await.unwrap().unwrap();
/// assert_eq!(restored.session, session);
/// assert!(restored.missed.is_empty()); // nothing was emitted meanwhile
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The socket id, given back on recovery.
    pub sid: Sid,
    /// The private id the client recovers with.
    pub pid: String,
    /// The socket's rooms, its own id's included.
    pub rooms: Vec<Room>,
    /// The socket's data.
    pub data: Value,
    /// When the socket connected (milliseconds since the Unix epoch): a client that got no
    /// stored event sends no offset, and gets every stored event since then.
    pub connected_at: u64,
}

/// A session an adapter gave back, with the events its client missed (each with its offset
/// appended), in order.
///
/// ```
/// use tower_socketio::adapter::{Restored, Session};
/// use tower_socketio::engine::Sid;
/// use tower_socketio::Value;
///
/// // What an adapter that kept `session` (but no event) gives back.
/// fn restored(session: Session) -> Restored {
///     Restored { session, missed: Vec::new() }
/// }
/// # let s = Session { sid: Sid::new(), pid: "p".into(), rooms: vec![], data: Value::Null, connected_at: 0 };
/// # assert!(restored(s).missed.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Restored {
    /// The session.
    pub session: Session,
    /// The events the client missed.
    pub missed: Vec<EncodedPacket>,
}
