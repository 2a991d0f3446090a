//! Traffic counters of an Engine.IO server, off until asked for ([`EngineIo::enable_stats`]).
//!
//! [`EngineIo::enable_stats`]: super::EngineIo::enable_stats

use std::sync::atomic::{AtomicU64, Ordering};

use super::Message;
use super::packet::Packet;
use super::socket::DisconnectReason;

/// Every [`DisconnectReason`], in the order of [`EngineStats::disconnections`].
const REASONS: [DisconnectReason; 6] = [
    DisconnectReason::TransportClose,
    DisconnectReason::TransportError,
    DisconnectReason::ParseError,
    DisconnectReason::PingTimeout,
    DisconnectReason::ForcedClose,
    DisconnectReason::ServerShuttingDown,
];

/// Running totals of an Engine.IO server's traffic since [`EngineIo::enable_stats`]: what the
/// Node server's `connection`, `packet`, `packetCreate` and `close` events let a tool such as the
/// admin UI count.
///
/// A packet is a `message` packet (heartbeats, upgrades and `noop`s are not counted, as the Node
/// admin UI counts only packets with data); its bytes are those of its data (a text message's
/// UTF-8 bytes, a binary message's bytes). Outgoing packets are counted when the transport takes
/// them from the session's queue to write them. The counters are relaxed atomics: each is exact,
/// two read together may be a packet apart.
///
/// ```
/// use tower_socketio::SocketIo;
///
/// let io = SocketIo::builder().build();
/// assert!(io.engine().stats().is_none()); // nothing is counted until asked for
/// let stats = io.engine().enable_stats();
/// assert_eq!(stats.packets_in(), 0);
/// assert_eq!(stats.connections(), 0);
/// assert!(stats.disconnections().iter().all(|(_, n)| *n == 0));
/// ```
///
/// [`EngineIo::enable_stats`]: super::EngineIo::enable_stats
#[derive(Debug, Default)]
pub struct EngineStats {
    packets_in: AtomicU64,
    packets_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    connections: AtomicU64,
    disconnections: [AtomicU64; REASONS.len()],
}

impl EngineStats {
    /// Messages received from clients.
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |s: SocketRef| async move { let _ = s.emit("pong", &()); }))
    ///     .build();
    /// let stats = io.engine().enable_stats();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.emit("ping", &()).await.unwrap();
    /// let _ = client.recv().await.unwrap();
    /// assert_eq!(stats.packets_in(), 2); // the namespace CONNECT and `ping`
    /// # });
    /// ```
    pub fn packets_in(&self) -> u64 {
        self.packets_in.load(Ordering::Relaxed)
    }

    /// Messages written to clients.
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |s: SocketRef| async move { let _ = s.emit("pong", &()); }))
    ///     .build();
    /// let stats = io.engine().enable_stats();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.emit("ping", &()).await.unwrap();
    /// let _ = client.recv().await.unwrap();
    /// assert_eq!(stats.packets_out(), 2); // the CONNECT answer and `pong`
    /// # });
    /// ```
    pub fn packets_out(&self) -> u64 {
        self.packets_out.load(Ordering::Relaxed)
    }

    /// Bytes of the messages received.
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |s: SocketRef| async move { let _ = s.emit("pong", &()); }))
    ///     .build();
    /// let stats = io.engine().enable_stats();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.emit("ping", &()).await.unwrap();
    /// let _ = client.recv().await.unwrap();
    /// assert_eq!(stats.bytes_in(), (r#"0"#.len() + r#"2["ping"]"#.len()) as u64);
    /// # });
    /// ```
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in.load(Ordering::Relaxed)
    }

    /// Bytes of the messages written.
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |s: SocketRef| async move { let _ = s.emit("pong", &()); }))
    ///     .build();
    /// let stats = io.engine().enable_stats();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.emit("ping", &()).await.unwrap();
    /// let _ = client.recv().await.unwrap();
    /// assert!(stats.bytes_out() > r#"2["pong"]"#.len() as u64);
    /// # });
    /// ```
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    /// Sessions opened (Node's engine `connection` event).
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |s: SocketRef| async move { let _ = s.emit("pong", &()); }))
    ///     .build();
    /// let stats = io.engine().enable_stats();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.emit("ping", &()).await.unwrap();
    /// let _ = client.recv().await.unwrap();
    /// assert_eq!(stats.connections(), 1);
    /// # });
    /// ```
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Sessions closed, per reason (Node's socket `close` event and its reason).
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("ping", |s: SocketRef| async move { let _ = s.emit("pong", &()); }))
    ///     .build();
    /// let stats = io.engine().enable_stats();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.emit("ping", &()).await.unwrap();
    /// let _ = client.recv().await.unwrap();
    /// drop(client); // the session is still open until it times out
    /// assert!(stats.disconnections().iter().all(|(_, n)| *n == 0));
    /// # });
    /// ```
    pub fn disconnections(&self) -> [(DisconnectReason, u64); 6] {
        std::array::from_fn(|i| (REASONS[i], self.disconnections[i].load(Ordering::Relaxed)))
    }

    pub(crate) fn received(&self, message: &Message) {
        let len = match message {
            Message::Text(text) => text.len(),
            Message::Binary(data) => data.len(),
        };
        self.packets_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(len as u64, Ordering::Relaxed);
    }

    /// Counts the messages among `packets`, about to be written.
    pub(crate) fn sent(&self, packets: &[Packet]) {
        let (mut count, mut bytes) = (0u64, 0u64);
        for packet in packets {
            match packet {
                Packet::Text(text) if text.as_bytes().first() == Some(&b'4') => {
                    count += 1;
                    bytes += (text.len() - 1) as u64;
                }
                Packet::Binary(data) => {
                    count += 1;
                    bytes += data.len() as u64;
                }
                _ => {}
            }
        }
        if count > 0 {
            self.packets_out.fetch_add(count, Ordering::Relaxed);
            self.bytes_out.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    pub(crate) fn connected(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn disconnected(&self, reason: DisconnectReason) {
        if let Some(i) = REASONS.iter().position(|r| *r == reason) {
            self.disconnections[i].fetch_add(1, Ordering::Relaxed);
        }
    }
}
