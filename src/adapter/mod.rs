//! The adapter boundary: where a namespace keeps its rooms and sends its broadcasts.
//!
//! Every namespace has one [`Adapter`]. The default, [`MemoryAdapter`], serves one server. An
//! adapter for several servers (over Redis, say, wire-compatible with Node's
//! `@socket.io/redis-adapter`) implements the same trait: room membership stays local and
//! synchronous, while the operations that reach every server ([`Adapter::broadcast`],
//! [`Adapter::fetch_sockets`], [`Adapter::add_sockets`], [`Adapter::del_sockets`],
//! [`Adapter::disconnect_sockets`]) are asynchronous and fallible, their local part done
//! through the [`LocalSockets`] the namespace hands them.

mod memory;

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub use memory::MemoryAdapter;

use crate::broadcast::coalesce;
use crate::engine::{Sid, Str};
use crate::socket::SocketRef;

/// A room name.
pub type Room = String;

/// A boxed future, as the adapter's cluster operations return.
pub type AdapterFuture<T> = Pin<Box<dyn Future<Output = Result<T, AdapterError>> + Send>>;

/// Which sockets an operation targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// The sockets in any of these rooms; every socket of the namespace when empty.
    pub rooms: HashSet<Room>,
    /// Minus the sockets in any of these rooms.
    pub except: HashSet<Room>,
    /// This server's sockets only (Node: the `local` flag).
    pub local: bool,
}

/// An operation across servers that failed.
#[derive(Debug)]
pub struct AdapterError(pub Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "adapter error: {}", self.0)
    }
}

impl std::error::Error for AdapterError {}

/// An encoded packet, ready to be queued for any number of clients without being encoded again.
#[derive(Debug, Clone)]
pub struct EncodedPacket {
    pub(crate) text: Str,
    pub(crate) attachments: Vec<bytes::Bytes>,
}

/// This server's sockets of one namespace, for an adapter to act on.
pub trait LocalSockets: Send + Sync {
    /// The socket with this id.
    fn get(&self, sid: Sid) -> Option<SocketRef>;
    /// Every socket.
    fn all(&self) -> Vec<SocketRef>;
    /// Calls `f` with every socket, without collecting them first. `f` runs while the
    /// namespace's socket table is locked for reading: it may send, not connect or disconnect.
    fn for_each(&self, f: &mut dyn FnMut(&SocketRef)) {
        for socket in self.all() {
            f(&socket);
        }
    }
    /// Calls `f` with the socket of each id in `sids` that is connected, under the same rule as
    /// [`for_each`](LocalSockets::for_each).
    fn for_each_of(&self, sids: &mut dyn Iterator<Item = Sid>, f: &mut dyn FnMut(&SocketRef)) {
        for sid in sids {
            if let Some(socket) = self.get(sid) {
                f(&socket);
            }
        }
    }
}

/// Rooms and broadcasts of one namespace. See the [module documentation](self).
pub trait Adapter: Send + Sync + 'static {
    /// Adds socket `sid` to `rooms`.
    fn add_all(&self, sid: Sid, rooms: &[Room]);
    /// Removes socket `sid` from `room`.
    fn del(&self, sid: Sid, room: &str);
    /// Removes socket `sid` from every room.
    fn del_all(&self, sid: Sid);
    /// The rooms socket `sid` is in.
    fn socket_rooms(&self, sid: Sid) -> Vec<Room>;
    /// Every room with at least one socket of this server.
    fn rooms(&self) -> Vec<Room>;
    /// The ids of this server's sockets targeted by `opts`.
    fn local_targets(&self, sockets: &dyn LocalSockets, opts: &BroadcastOptions) -> Vec<Sid>;

    /// Calls `f` once with each of this server's sockets targeted by `opts`: the broadcast
    /// path. The default goes through [`local_targets`](Adapter::local_targets);
    /// [`MemoryAdapter`] walks its rooms without collecting anything.
    fn for_each_local(
        &self,
        sockets: &dyn LocalSockets,
        opts: &BroadcastOptions,
        f: &mut dyn FnMut(&SocketRef),
    ) {
        sockets.for_each_of(&mut self.local_targets(sockets, opts).into_iter(), f);
    }

    /// Queues `packet` for every socket targeted by `opts`, on every server. `volatile` packets
    /// are dropped for clients whose buffer is full; other packets too, but they are counted
    /// in the log (a broadcast never waits on its slowest client).
    fn broadcast(
        &self,
        sockets: &dyn LocalSockets,
        packet: EncodedPacket,
        opts: &BroadcastOptions,
        volatile: bool,
    ) -> AdapterFuture<()> {
        let EncodedPacket { text, attachments } = packet;
        coalesce::broadcast(text, attachments, volatile, |visit| {
            self.for_each_local(sockets, opts, visit)
        });
        Box::pin(std::future::ready(Ok(())))
    }

    /// The sockets targeted by `opts` (Node: `fetchSockets`). The default is this server's.
    fn fetch_sockets(
        &self,
        sockets: &dyn LocalSockets,
        opts: &BroadcastOptions,
    ) -> AdapterFuture<Vec<SocketRef>> {
        let found = self
            .local_targets(sockets, opts)
            .into_iter()
            .filter_map(|sid| sockets.get(sid))
            .collect();
        Box::pin(std::future::ready(Ok(found)))
    }

    /// Makes the sockets targeted by `opts` join `rooms` (Node: `socketsJoin`).
    fn add_sockets(
        &self,
        sockets: &dyn LocalSockets,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> AdapterFuture<()> {
        for sid in self.local_targets(sockets, opts) {
            self.add_all(sid, rooms);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    /// Makes the sockets targeted by `opts` leave `rooms` (Node: `socketsLeave`).
    fn del_sockets(
        &self,
        sockets: &dyn LocalSockets,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> AdapterFuture<()> {
        for sid in self.local_targets(sockets, opts) {
            for room in rooms {
                self.del(sid, room);
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }

    /// Disconnects the sockets targeted by `opts` (Node: `disconnectSockets`); with `close`,
    /// their whole connections.
    fn disconnect_sockets(
        &self,
        sockets: &dyn LocalSockets,
        opts: &BroadcastOptions,
        close: bool,
    ) -> AdapterFuture<()> {
        for sid in self.local_targets(sockets, opts) {
            if let Some(socket) = sockets.get(sid) {
                if close {
                    socket.close_connection();
                } else {
                    socket.disconnect();
                }
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }
}
