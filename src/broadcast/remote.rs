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
    pub fn id(&self) -> Sid {
        self.info.id
    }

    /// What its client sent when connecting.
    pub fn handshake(&self) -> &HandshakeInfo {
        &self.info.handshake
    }

    /// The rooms it was in, its own id's included.
    pub fn rooms(&self) -> &[Room] {
        &self.info.rooms
    }

    /// Its serializable data ([`Socket::set_data`](crate::Socket::set_data)), read into `T`.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.info.data.clone().deserialize_into()
    }

    /// Everything fetched, as it crossed servers.
    pub fn info(&self) -> &SocketInfo {
        &self.info
    }

    /// The operator that targets this socket alone (its own id's room).
    fn only(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone()).to(self.info.id)
    }

    /// Emits `event` to it (Node: `remoteSocket.emit`).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Emitted {
        self.only().emit(event, data)
    }

    /// Makes it join `rooms` (Node: `remoteSocket.join`).
    pub fn join(&self, rooms: impl IntoRooms) -> AdapterFuture<()> {
        self.only().sockets_join(rooms)
    }

    /// Makes it leave `rooms` (Node: `remoteSocket.leave`).
    pub fn leave(&self, rooms: impl IntoRooms) -> AdapterFuture<()> {
        self.only().sockets_leave(rooms)
    }

    /// Disconnects it; with `close`, its whole connection (Node: `remoteSocket.disconnect`).
    pub fn disconnect(&self, close: bool) -> AdapterFuture<()> {
        self.only().disconnect_sockets(close)
    }
}
