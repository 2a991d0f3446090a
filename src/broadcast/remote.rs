//! A socket of any server of the cluster, as `fetch_sockets` returns it (Node's `RemoteSocket`).

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{BroadcastOperator, Emitted};
use crate::adapter::{AdapterFuture, HandshakeInfo, IntoRooms, Room, SocketInfo};
use crate::engine::Sid;
use crate::socket::Nsp;

/// A socket of this server or another one of the cluster, as
/// [`fetch_sockets`](crate::BroadcastOperator::fetch_sockets) found it (Node: `RemoteSocket`):
/// what it was when fetched (id, handshake, rooms, data), and operations that travel through the
/// adapter to whichever server holds it.
///
/// ```no_run
/// # async fn f(io: tower_socketio::SocketIo) {
/// for socket in io.fetch_sockets().await.unwrap() {
///     if socket.rooms().iter().any(|room| room == "banned") {
///         let _ = socket.disconnect(true).await;
///     } else {
///         let _ = socket.emit("hello", "from somewhere in the cluster");
///     }
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct RemoteSocket {
    info: SocketInfo,
    ns: Arc<dyn Nsp>,
}

impl std::fmt::Debug for RemoteSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSocket")
            .field("ns", &self.ns.name())
            .field("info", &self.info)
            .finish()
    }
}

impl RemoteSocket {
    pub(crate) fn new(info: SocketInfo, ns: Arc<dyn Nsp>) -> Self {
        RemoteSocket { info, ns }
    }

    /// The socket id.
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// let ids: Vec<String> = io.fetch_sockets().await.unwrap().iter().map(|s| s.id().to_string()).collect();
    /// # let _ = ids;
    /// # }
    /// ```
    pub fn id(&self) -> Sid {
        self.info.id
    }

    /// What its client sent when connecting.
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// for socket in io.fetch_sockets().await.unwrap() {
    ///     let agent = socket.handshake().headers.get("user-agent");
    ///     tracing::info!(id = %socket.id(), address = %socket.handshake().address, ?agent);
    /// }
    /// # }
    /// ```
    pub fn handshake(&self) -> &HandshakeInfo {
        &self.info.handshake
    }

    /// The rooms it was in, its own id's included.
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// let sockets = io.fetch_sockets().await.unwrap();
    /// let playing = sockets.iter().filter(|s| s.rooms().iter().any(|r| r.starts_with("game-"))).count();
    /// # let _ = playing;
    /// # }
    /// ```
    pub fn rooms(&self) -> &[Room] {
        &self.info.rooms
    }

    /// Its serializable data ([`Socket::set_data`](crate::Socket::set_data)), read into `T`.
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// #[derive(serde::Deserialize)]
    /// struct Profile { name: String }
    ///
    /// let names: Vec<String> = io
    ///     .fetch_sockets()
    ///     .await
    ///     .unwrap()
    ///     .iter()
    ///     .filter_map(|s| s.data::<Profile>().ok())
    ///     .map(|p| p.name)
    ///     .collect();
    /// # let _ = names;
    /// # }
    /// ```
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.info.data.clone().deserialize_into()
    }

    /// Everything fetched, as it crossed servers.
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// // A snapshot of every socket, as JSON (Node's field names).
    /// let sockets = io.fetch_sockets().await.unwrap();
    /// let snapshot = serde_json::to_string(&sockets.iter().map(|s| s.info()).collect::<Vec<_>>());
    /// # let _ = snapshot;
    /// # }
    /// ```
    pub fn info(&self) -> &SocketInfo {
        &self.info
    }

    /// The operator that targets this socket alone (its own id's room).
    fn only(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone()).to(self.info.id)
    }

    /// Emits `event` to it (Node: `remoteSocket.emit`).
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, Value};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().ns("/", Namespace::new()).build();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    ///
    /// for socket in io.fetch_sockets().await.unwrap() {
    ///     socket.emit("hello", "from wherever you are").await.unwrap();
    /// }
    /// assert_eq!(client.recv().await.unwrap().1, [Value::from("from wherever you are")]);
    /// # }
    /// ```
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Emitted {
        self.only().emit(event, data)
    }

    /// Makes it join `rooms` (Node: `remoteSocket.join`).
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().ns("/", Namespace::new()).build();
    /// let _client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    ///
    /// let socket = io.fetch_sockets().await.unwrap().remove(0);
    /// socket.join("vip").await.unwrap();
    /// assert_eq!(io.to("vip").fetch_sockets().await.unwrap().len(), 1);
    /// # }
    /// ```
    pub fn join(&self, rooms: impl IntoRooms) -> AdapterFuture<()> {
        self.only().sockets_join(rooms)
    }

    /// Makes it leave `rooms` (Node: `remoteSocket.leave`).
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// for socket in io.to("vip").fetch_sockets().await.unwrap() {
    ///     let _ = socket.leave("vip").await;
    /// }
    /// # }
    /// ```
    pub fn leave(&self, rooms: impl IntoRooms) -> AdapterFuture<()> {
        self.only().sockets_leave(rooms)
    }

    /// Disconnects it; with `close`, its whole connection (Node: `remoteSocket.disconnect`).
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().ns("/", Namespace::new()).build();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    ///
    /// for socket in io.fetch_sockets().await.unwrap() {
    ///     socket.disconnect(false).await.unwrap();
    /// }
    /// assert!(client.recv().await.is_err()); // the DISCONNECT packet
    /// assert!(io.sockets("/").is_empty());
    /// # }
    /// ```
    pub fn disconnect(&self, close: bool) -> AdapterFuture<()> {
        self.only().disconnect_sockets(close)
    }
}
