//! The in-memory adapter: rooms of one server.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use super::memory_log::RecoveryLog;
use super::{
    Adapter, AdapterFuture, BroadcastOptions, EncodedPacket, LocalNamespace, Restored, Room,
    Session,
};
use crate::engine::{Sid, SidMap, SidSet, shrink_map, shrink_set};

/// Rooms kept in memory, for a single server (the default adapter).
///
/// ```
/// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
/// use tower_socketio::engine::Sid;
///
/// let adapter = MemoryAdapter::new(LocalNamespace::detached("/"));
/// let sid = Sid::new();
/// adapter.add_all(sid, &["lobby".into()]);
/// assert_eq!(adapter.socket_rooms(sid), ["lobby"]);
/// ```
pub struct MemoryAdapter {
    ns: LocalNamespace,
    state: RwLock<Rooms>,
    /// With connection state recovery on: the stored events and the sessions.
    log: Option<RecoveryLog>,
}

impl std::fmt::Debug for MemoryAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryAdapter")
            .field("ns", &self.ns)
            .field("recovery", &self.log.is_some())
            .finish()
    }
}

#[derive(Debug, Default)]
struct Rooms {
    /// room → its sockets
    members: HashMap<Room, SidSet>,
    /// socket → its rooms
    rooms_of: SidMap<HashSet<Room>>,
}

impl Rooms {
    /// Takes `sid` out of `room`'s members; an empty room goes. Tables that shrank far below
    /// their peak give their spare room back.
    fn leave(&mut self, sid: Sid, room: &str) {
        if let Some(members) = self.members.get_mut(room) {
            members.remove(&sid);
            if members.is_empty() {
                self.members.remove(room);
                shrink_map(&mut self.members);
            } else {
                shrink_set(members);
            }
        }
    }
}

impl MemoryAdapter {
    /// An adapter with no rooms, for namespace `ns`; it keeps the events and sessions of
    /// connection state recovery in memory when `ns` has it on.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_socketio::SocketIo;
    /// use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    ///
    /// // The default, spelled out.
    /// let io = SocketIo::builder()
    ///     .adapter(|ns: LocalNamespace| Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>)
    ///     .build();
    /// # let _ = io;
    /// ```
    pub fn new(ns: LocalNamespace) -> Self {
        MemoryAdapter {
            log: ns.recovery().cloned().map(RecoveryLog::new),
            ns,
            state: RwLock::default(),
        }
    }

    /// Queues `packet` for this server's sockets targeted by `opts`: walks the rooms' members
    /// under the room table's read lock, collecting nothing.
    fn send_local(&self, packet: EncodedPacket, opts: &BroadcastOptions) {
        let volatile = opts.volatile;
        let state = self.read();
        let excluded = state.ids_in(&opts.except);
        if !opts.rooms.is_empty() {
            self.ns
                .send(state.members_of(&opts.rooms, &excluded), packet, volatile);
        } else if excluded.is_empty() {
            drop(state);
            self.ns.send_all(None, packet, volatile);
        } else {
            drop(state);
            self.ns
                .send_all(Some(&|sid| excluded.contains(&sid)), packet, volatile);
        }
    }

    /// Whether `room` has a socket of this server.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn has_room(&self, room: &str) -> bool {
        self.read().members.contains_key(room)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Rooms> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Rooms> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Adapter for MemoryAdapter {
    fn namespace(&self) -> &LocalNamespace {
        &self.ns
    }

    fn add_all(&self, sid: Sid, rooms: &[Room]) {
        let observer = self.ns.room_observer();
        let mut state = self.write();
        for room in rooms {
            state.members.entry(room.clone()).or_default().insert(sid);
            let new = state.rooms_of.entry(sid).or_default().insert(room.clone());
            if let Some(observer) = observer.filter(|_| new) {
                observer.room_joined(self.ns.name(), room, sid);
            }
        }
    }

    fn del(&self, sid: Sid, room: &str) {
        let mut state = self.write();
        state.leave(sid, room);
        if let Some(rooms) = state.rooms_of.get_mut(&sid) {
            let was_in = rooms.remove(room);
            if rooms.is_empty() {
                state.rooms_of.remove(&sid);
                shrink_map(&mut state.rooms_of);
            }
            if let Some(observer) = self.ns.room_observer().filter(|_| was_in) {
                observer.room_left(self.ns.name(), room, sid);
            }
        }
    }

    fn del_all(&self, sid: Sid) {
        let mut state = self.write();
        let Some(rooms) = state.rooms_of.remove(&sid) else {
            return;
        };
        shrink_map(&mut state.rooms_of);
        let observer = self.ns.room_observer();
        for room in rooms {
            state.leave(sid, &room);
            if let Some(observer) = observer {
                observer.room_left(self.ns.name(), &room, sid);
            }
        }
    }

    fn socket_rooms(&self, sid: Sid) -> Vec<Room> {
        self.read()
            .rooms_of
            .get(&sid)
            .map(|rooms| rooms.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn rooms(&self) -> Vec<Room> {
        self.read().members.keys().cloned().collect()
    }

    /// Walks the rooms' members under the room table's read lock, collecting nothing: each
    /// target is queued as it is found.
    fn broadcast(&self, packet: EncodedPacket, opts: &BroadcastOptions) -> AdapterFuture<()> {
        match &self.log {
            Some(log) => log.stamped(packet, opts, |packet| self.send_local(packet, opts)),
            None => self.send_local(packet, opts),
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn persist_session(&self, session: Session) -> AdapterFuture<()> {
        if let Some(log) = &self.log {
            log.persist(session);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn restore_session(&self, pid: &str, offset: Option<&str>) -> AdapterFuture<Option<Restored>> {
        let restored = self.log.as_ref().and_then(|log| log.restore(pid, offset));
        Box::pin(std::future::ready(Ok(restored)))
    }

    fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let state = self.read();
        let excluded = state.ids_in(&opts.except);
        if opts.rooms.is_empty() {
            drop(state);
            let mut sids = self.ns.sids();
            sids.retain(|sid| !excluded.contains(sid));
            return sids;
        }
        state.members_of(&opts.rooms, &excluded).collect()
    }
}

impl Rooms {
    /// The ids of the members of any of `rooms`, gathered once (rather than looked up room by
    /// room for each target).
    fn ids_in(&self, rooms: &HashSet<Room>) -> SidSet {
        rooms
            .iter()
            .filter_map(|room| self.members.get(room))
            .flatten()
            .copied()
            .collect()
    }

    /// The members of `rooms` minus `excluded`, each once (deduplicated only when there are
    /// several rooms: one room's members are distinct already).
    fn members_of<'a>(
        &'a self,
        rooms: &'a HashSet<Room>,
        excluded: &'a SidSet,
    ) -> impl Iterator<Item = Sid> + 'a {
        let several = rooms.len() > 1;
        let mut seen = SidSet::default();
        rooms
            .iter()
            .filter_map(|room| self.members.get(room))
            .flatten()
            .copied()
            .filter(move |sid| !excluded.contains(sid) && (!several || seen.insert(*sid)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_and_targets() {
        let adapter = MemoryAdapter::new(LocalNamespace::detached("/"));
        let (a, b, c) = (Sid::new(), Sid::new(), Sid::new());
        adapter.add_all(a, &["r1".into(), "r2".into()]);
        adapter.add_all(b, &["r1".into()]);
        adapter.add_all(c, &["r2".into(), "vip".into()]);
        let opts = |rooms: &[&str], except: &[&str]| BroadcastOptions {
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
            except: except.iter().map(|r| r.to_string()).collect(),
            ..BroadcastOptions::default()
        };
        let mut t = adapter.local_targets(&opts(&["r1", "r2"], &["vip"]));
        t.sort();
        let mut want = vec![a, b];
        want.sort();
        assert_eq!(t, want);
        adapter.del(a, "r1");
        assert_eq!(adapter.socket_rooms(a), ["r2"]);
        adapter.del_all(c);
        assert!(!adapter.rooms().contains(&"vip".to_string()));
        assert_eq!(adapter.local_targets(&opts(&["r2"], &[])), [a]);
    }
}
