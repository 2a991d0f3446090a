//! The sharded Redis adapter of one namespace (Node's `createShardedAdapter` of
//! `@socket.io/redis-adapter` 8.3, on socket.io-adapter's `ClusterAdapter`): rooms in memory,
//! every message over Redis 7 sharded pub/sub (`SPUBLISH`), one channel per room in the dynamic
//! subscription modes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use super::RedisConfig;
use super::cluster::{self, Bus, Requests};
use super::link::{Link, Publish, Receiver, Subscribe};
use super::opts::{local_opts, ready, wire_opts};
use super::wire::{ClusterMessage, ClusterMessageKind, ShardedChannels, SubscriptionMode};
use crate::adapter::{
    Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace,
    MemoryAdapter, Restored, Room, Session, SocketInfo,
};
use crate::engine::Sid;
use crate::value::Value;

/// A room channel's subscription: `true` once active.
type RoomSubscription = watch::Receiver<bool>;

pub(crate) struct ShardedAdapter {
    local: MemoryAdapter,
    requests: Arc<Requests>,
    channels: ShardedChannels,
    link: Arc<Link>,
    config: Arc<RedisConfig>,
    rooms: Mutex<HashMap<Room, RoomSubscription>>,
    me: Weak<ShardedAdapter>,
}

impl ShardedAdapter {
    pub(crate) fn new(
        ns: LocalNamespace,
        link: Arc<Link>,
        config: Arc<RedisConfig>,
        mode: SubscriptionMode,
    ) -> Arc<Self> {
        let requests = Requests::new();
        let channels = ShardedChannels::new(&config.key, ns.name(), &requests.uid, mode);
        let adapter = Arc::new_cyclic(|me: &Weak<ShardedAdapter>| ShardedAdapter {
            local: MemoryAdapter::new(ns),
            requests,
            channels,
            link,
            config,
            rooms: Mutex::default(),
            me: me.clone(),
        });
        let receiver: Weak<dyn Receiver> = adapter.me.clone();
        adapter
            .link
            .subscribe(&adapter.channels.main, Subscribe::Sharded, receiver.clone());
        adapter
            .link
            .subscribe(&adapter.channels.response, Subscribe::Sharded, receiver);
        adapter
    }

    /// Subscribes to the channel of each of `rooms` that just got its first socket here (in the
    /// dynamic modes), and unsubscribes from those that lost their last one.
    fn follow_rooms(&self, rooms: &[Room]) {
        if self.channels.mode == SubscriptionMode::Static {
            return;
        }
        let mut subscribed = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        for room in rooms {
            let present = self.local.has_room(room);
            let is_sid = room
                .parse::<Sid>()
                .is_ok_and(|sid| self.local.namespace().socket_info(sid).is_some());
            if present && !subscribed.contains_key(room) && self.channels.subscribes_to_room(is_sid)
            {
                let (tx, rx) = watch::channel(false);
                subscribed.insert(room.clone(), rx);
                let receiver: Weak<dyn Receiver> = self.me.clone();
                let subscribe = self.link.subscribe_now(
                    &self.channels.room(room),
                    Subscribe::Sharded,
                    receiver,
                );
                tokio::spawn(async move {
                    match subscribe.await {
                        Ok(()) => {
                            let _ = tx.send(true);
                        }
                        Err(error) => {
                            tracing::warn!(%error, "redis adapter: room subscription failed")
                        }
                    }
                });
            } else if !present && subscribed.remove(room).is_some() {
                self.link.unsubscribe_sharded(&self.channels.room(room));
            }
        }
    }

    fn on_message(&self, message: ClusterMessage) {
        let Some(message) = cluster::on_message(self, &self.me, message) else {
            return;
        };
        let ns = self.local.namespace();
        match message.kind {
            ClusterMessageKind::Broadcast { packet, opts, .. } => {
                let Ok(encoded) = packet.to_encoded(ns.name(), ns.parser()) else {
                    return;
                };
                let local = local_opts(opts.rooms, opts.except, Some(&opts.flags));
                drop(self.local.broadcast(encoded, &local)); // done at once (a ready future)
            }
            ClusterMessageKind::SocketsJoin { opts, rooms } => {
                let local = local_opts(opts.rooms, opts.except, None);
                drop(self.add_sockets_here(&local, &rooms)); // done at once (a ready future)
            }
            ClusterMessageKind::SocketsLeave { opts, rooms } => {
                let local = local_opts(opts.rooms, opts.except, None);
                drop(self.del_sockets_here(&local, &rooms)); // done at once (a ready future)
            }
            ClusterMessageKind::DisconnectSockets { opts, close } => {
                let local = local_opts(opts.rooms, opts.except, None);
                drop(
                    self.local
                        .disconnect_sockets(&local, close.unwrap_or(false)),
                ); // done at once (a ready future)
            }
            _ => {}
        }
    }

    fn add_sockets_here(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        let done = self.local.add_sockets(opts, rooms);
        self.follow_rooms(rooms);
        done
    }

    fn del_sockets_here(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        let done = self.local.del_sockets(opts, rooms);
        self.follow_rooms(rooms);
        done
    }
}

impl Receiver for ShardedAdapter {
    fn receive_all(&self, messages: &mut dyn Iterator<Item = (Vec<u8>, Bytes)>) {
        // A burst from other servers: delivered as a handler's broadcasts are, coalesced.
        self.local.namespace().batch(|| {
            for (channel, payload) in messages {
                self.receive(&channel, payload);
            }
        });
    }

    fn receive(&self, _channel: &[u8], payload: Bytes) {
        match ClusterMessage::decode(&payload) {
            Ok(Some(message)) => self.on_message(message),
            Ok(None) => {}
            Err(error) => tracing::debug!(%error, "redis adapter: undecodable message ignored"),
        }
    }
}

impl Bus for ShardedAdapter {
    fn local(&self) -> &MemoryAdapter {
        &self.local
    }

    fn requests(&self) -> &Arc<Requests> {
        &self.requests
    }

    fn requests_timeout(&self) -> Duration {
        self.config.requests_timeout
    }

    fn publish(&self, message: &ClusterMessage) -> AdapterFuture<()> {
        let channel = self.channels.for_message(message).into_owned();
        Box::pin(
            self.link
                .publish(channel, message.encode(), Publish::Sharded),
        )
    }

    fn publish_response(&self, requester: &str, message: &ClusterMessage) -> AdapterFuture<()> {
        Box::pin(self.link.publish(
            self.channels.for_response(requester),
            message.encode(),
            Publish::Sharded,
        ))
    }

    fn server_count(&self) -> AdapterFuture<usize> {
        let link = self.link.clone();
        let channel = self.channels.main.clone();
        Box::pin(async move { link.subscribers(true, &channel).await })
    }
}

impl Adapter for ShardedAdapter {
    fn namespace(&self) -> &LocalNamespace {
        self.local.namespace()
    }

    fn add_all(&self, sid: Sid, rooms: &[Room]) {
        self.local.add_all(sid, rooms);
        self.follow_rooms(rooms);
    }

    fn del(&self, sid: Sid, room: &str) {
        self.local.del(sid, room);
        self.follow_rooms(&[room.to_owned()]);
    }

    fn del_all(&self, sid: Sid) {
        let rooms = self.local.socket_rooms(sid);
        self.local.del_all(sid);
        self.follow_rooms(&rooms);
    }

    fn socket_rooms(&self, sid: Sid) -> Vec<Room> {
        self.local.socket_rooms(sid)
    }

    fn rooms(&self) -> Vec<Room> {
        self.local.rooms()
    }

    fn local_targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.local.local_targets(opts)
    }

    /// Sessions are kept on this server (recovery on another server needs the streams
    /// adapter, as with Node's classic and sharded adapters).
    fn persist_session(&self, session: Session) -> AdapterFuture<()> {
        self.local.persist_session(session)
    }

    fn restore_session(&self, pid: &str, offset: Option<&str>) -> AdapterFuture<Option<Restored>> {
        self.local.restore_session(pid, offset)
    }

    /// Waits until the channel of `room` is subscribed to (the dynamic modes subscribe when a
    /// room gets its first socket here), at most the requests timeout.
    fn room_ready(&self, room: &str) -> AdapterFuture<()> {
        let subscription = self
            .rooms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(room)
            .cloned();
        let timeout = self.config.requests_timeout;
        let room = room.to_owned();
        Box::pin(async move {
            let Some(mut subscription) = subscription else {
                return Ok(());
            };
            match tokio::time::timeout(timeout, subscription.wait_for(|active| *active)).await {
                Ok(Ok(_)) => Ok(()),
                _ => Err(AdapterError(
                    format!("redis: the subscription to room {room:?} is not active").into(),
                )),
            }
        })
    }

    fn broadcast(&self, packet: EncodedPacket, opts: &BroadcastOptions) -> AdapterFuture<()> {
        if opts.local {
            return self.local.broadcast(packet, opts);
        }
        let wire = cluster::wire_packet(&packet);
        drop(self.local.broadcast(packet, opts)); // done at once (a ready future)
        let wire = match wire {
            Ok(wire) => wire,
            Err(error) => return Box::pin(std::future::ready(Err(error))),
        };
        let message = self.message(ClusterMessageKind::Broadcast {
            packet: wire,
            request_id: None,
            opts: wire_opts(opts),
        });
        Bus::publish(self, &message)
    }

    fn broadcast_with_ack(
        &self,
        packet: EncodedPacket,
        opts: &BroadcastOptions,
        answers: Answers,
    ) -> AdapterFuture<()> {
        cluster::broadcast_with_ack(self, packet, opts, answers)
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        cluster::fetch_sockets(self, &self.me, opts)
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        drop(self.add_sockets_here(opts, rooms)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        Bus::publish(
            self,
            &self.message(ClusterMessageKind::SocketsJoin {
                opts: wire_opts(opts),
                rooms: rooms.to_vec(),
            }),
        )
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        drop(self.del_sockets_here(opts, rooms)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        Bus::publish(
            self,
            &self.message(ClusterMessageKind::SocketsLeave {
                opts: wire_opts(opts),
                rooms: rooms.to_vec(),
            }),
        )
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> AdapterFuture<()> {
        drop(self.local.disconnect_sockets(opts, close)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        Bus::publish(
            self,
            &self.message(ClusterMessageKind::DisconnectSockets {
                opts: wire_opts(opts),
                close: Some(close),
            }),
        )
    }

    fn server_side_emit(
        &self,
        event: &str,
        args: Vec<Value>,
        answers: Option<Answers>,
    ) -> AdapterFuture<()> {
        cluster::server_side_emit(self, event, args, answers)
    }

    fn server_count(&self) -> AdapterFuture<usize> {
        Bus::server_count(self)
    }
}
