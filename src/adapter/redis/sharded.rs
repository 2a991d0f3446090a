//! The sharded Redis adapter of one namespace (Node's `createShardedAdapter` of
//! `@socket.io/redis-adapter` 8.3, on socket.io-adapter's `ClusterAdapter`): rooms in memory,
//! every message over Redis 7 sharded pub/sub (`SPUBLISH`), one channel per room in the dynamic
//! subscription modes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use super::RedisConfig;
use super::link::{Link, Publish, Receiver, Subscribe};
use super::opts::{local_opts, ready, wire_opts};
use super::wire::{
    self, ClusterMessage, ClusterMessageKind, Packet, ShardedChannels, SocketDetails,
    SubscriptionMode,
};
use crate::adapter::{
    Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace,
    MemoryAdapter, Restored, Room, ServerReply, Session, SocketInfo,
};
use crate::engine::Sid;
use crate::value::Value;

/// A request of this server waiting for answers.
enum Pending {
    Fetch(mpsc::Sender<Vec<SocketInfo>>),
    Answers(Answers),
}

/// A room channel's subscription: `true` once active.
type RoomSubscription = watch::Receiver<bool>;

pub(crate) struct ShardedAdapter {
    local: MemoryAdapter,
    uid: String,
    channels: ShardedChannels,
    link: Arc<Link>,
    config: Arc<RedisConfig>,
    pending: Mutex<HashMap<String, Pending>>,
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
        let uid = wire::cluster_uid();
        let channels = ShardedChannels::new(&config.key, ns.name(), &uid, mode);
        let adapter = Arc::new_cyclic(|me: &Weak<ShardedAdapter>| ShardedAdapter {
            local: MemoryAdapter::new(ns),
            uid,
            channels,
            link,
            config,
            pending: Mutex::default(),
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

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn message(&self, kind: ClusterMessageKind) -> ClusterMessage {
        ClusterMessage {
            uid: self.uid.clone(),
            nsp: self.local.namespace().name().to_owned(),
            kind,
        }
    }

    fn publish(&self, message: &ClusterMessage) -> AdapterFuture<()> {
        let channel = self.channels.for_message(message).into_owned();
        Box::pin(
            self.link
                .publish(channel, message.encode(), Publish::Sharded),
        )
    }

    /// Answers server `requester` on its response channel.
    fn respond(&self, requester: &str, kind: ClusterMessageKind) {
        let message = self.message(kind);
        let sent = self.link.publish(
            self.channels.for_response(requester),
            message.encode(),
            Publish::Sharded,
        );
        tokio::spawn(async move {
            if let Err(error) = sent.await {
                tracing::warn!(%error, "redis adapter: an answer to another server was lost");
            }
        });
    }

    fn expire(&self, id: String, timeout: Duration) {
        let me = self.me.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if let Some(me) = me.upgrade() {
                me.pending().remove(&id);
            }
        });
    }

    fn count(&self) -> impl Future<Output = Result<usize, AdapterError>> + Send + 'static + use<> {
        let link = self.link.clone();
        let channel = self.channels.main.clone();
        async move { link.subscribers(true, &channel).await }
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
        if message.uid == self.uid || message.nsp != self.local.namespace().name() {
            return;
        }
        let requester = message.uid;
        let ns = self.local.namespace();
        match message.kind {
            ClusterMessageKind::Broadcast {
                packet,
                request_id,
                opts,
            } => {
                let Ok(encoded) = packet.to_encoded(ns.name()) else {
                    return;
                };
                let local = local_opts(opts.rooms, opts.except, Some(&opts.flags));
                match request_id {
                    None => {
                        drop(self.local.broadcast(encoded, &local)); // done at once (a ready future)
                    }
                    Some(request_id) => {
                        let me = self.me.clone();
                        let (asker, id) = (requester.clone(), request_id.clone());
                        let relay = Answers::relaying(move |answer| {
                            if let Some(me) = me.upgrade() {
                                me.respond(
                                    &asker,
                                    ClusterMessageKind::BroadcastAck {
                                        request_id: id.clone(),
                                        packet: answer,
                                    },
                                );
                            }
                        });
                        let targets = self.local.local_targets(&local);
                        let count = ns.send_with_ack(targets, encoded, &relay);
                        self.respond(
                            &requester,
                            ClusterMessageKind::BroadcastClientCount {
                                request_id,
                                client_count: count as u64,
                            },
                        );
                    }
                }
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
            ClusterMessageKind::FetchSockets { opts, request_id } => {
                let local = local_opts(opts.rooms, opts.except, None);
                let sockets = self
                    .local
                    .local_targets(&local)
                    .into_iter()
                    .filter_map(|sid| ns.socket_info(sid))
                    .map(|info| SocketDetails::from(&info))
                    .collect();
                self.respond(
                    &requester,
                    ClusterMessageKind::FetchSocketsResponse {
                        request_id,
                        sockets,
                    },
                );
            }
            ClusterMessageKind::ServerSideEmit { request_id, packet } => {
                let mut data = packet.into_iter();
                let Some(Value::String(event)) = data.next() else {
                    return;
                };
                let reply = request_id.map(|request_id| {
                    let me = self.me.clone();
                    Box::new(move |answer: Value| {
                        if let Some(me) = me.upgrade() {
                            me.respond(
                                &requester,
                                ClusterMessageKind::ServerSideEmitResponse {
                                    request_id,
                                    packet: answer,
                                },
                            );
                        }
                    }) as ServerReply
                });
                ns.server_event(&event, data.collect(), reply);
            }
            kind @ (ClusterMessageKind::FetchSocketsResponse { .. }
            | ClusterMessageKind::ServerSideEmitResponse { .. }
            | ClusterMessageKind::BroadcastClientCount { .. }
            | ClusterMessageKind::BroadcastAck { .. }) => self.on_response(kind),
            ClusterMessageKind::InitialHeartbeat
            | ClusterMessageKind::Heartbeat
            | ClusterMessageKind::AdapterClose => {}
        }
    }

    fn on_response(&self, kind: ClusterMessageKind) {
        let pending = self.pending();
        match kind {
            ClusterMessageKind::FetchSocketsResponse {
                request_id,
                sockets,
            } => {
                if let Some(Pending::Fetch(tx)) = pending.get(&request_id) {
                    let sockets = sockets
                        .into_iter()
                        .filter_map(|details| SocketInfo::try_from(details).ok())
                        .collect();
                    let _ = tx.try_send(sockets);
                }
            }
            ClusterMessageKind::ServerSideEmitResponse { request_id, packet }
            | ClusterMessageKind::BroadcastAck { request_id, packet } => {
                if let Some(Pending::Answers(answers)) = pending.get(&request_id) {
                    answers.answer(packet);
                }
            }
            ClusterMessageKind::BroadcastClientCount {
                request_id,
                client_count,
            } => {
                if let Some(Pending::Answers(answers)) = pending.get(&request_id) {
                    answers.report(client_count as usize);
                }
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
        let wire = Packet::from_encoded(&packet);
        drop(self.local.broadcast(packet, opts)); // done at once (a ready future)
        let mut wire = match wire {
            Ok(wire) => wire,
            Err(error) => return Box::pin(std::future::ready(Err(AdapterError(error.into())))),
        };
        // Sharded messages carry no `nsp` in their packet (the message says it).
        wire.nsp = None;
        let message = self.message(ClusterMessageKind::Broadcast {
            packet: wire,
            request_id: None,
            opts: wire_opts(opts),
        });
        self.publish(&message)
    }

    fn broadcast_with_ack(
        &self,
        packet: EncodedPacket,
        opts: &BroadcastOptions,
        answers: Answers,
    ) -> AdapterFuture<()> {
        let wire = Packet::from_encoded(&packet);
        answers.expect_reports(1);
        let count =
            self.local
                .namespace()
                .send_with_ack(self.local.local_targets(opts), packet, &answers);
        answers.report(count);
        if opts.local {
            return ready(());
        }
        let mut wire = match wire {
            Ok(wire) => wire,
            Err(error) => return Box::pin(std::future::ready(Err(AdapterError(error.into())))),
        };
        wire.nsp = None;
        let request_id = wire::cluster_request_id();
        self.pending()
            .insert(request_id.clone(), Pending::Answers(answers.clone()));
        self.expire(
            request_id.clone(),
            opts.timeout.unwrap_or(self.config.requests_timeout),
        );
        let message = self.message(ClusterMessageKind::Broadcast {
            packet: wire,
            request_id: Some(request_id),
            opts: wire_opts(opts),
        });
        let count = self.count();
        let sent = self.publish(&message);
        Box::pin(async move {
            let servers = count.await?;
            answers.expect_reports(servers.saturating_sub(1));
            sent.await
        })
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> AdapterFuture<Vec<SocketInfo>> {
        let local = self.local.fetch_sockets(opts);
        if opts.local {
            return local;
        }
        let Some(me) = self.me.upgrade() else {
            return local;
        };
        let wire = wire_opts(opts);
        let timeout = opts.timeout.unwrap_or(self.config.requests_timeout);
        Box::pin(async move {
            let mut found = local.await?;
            let servers = me.count().await?;
            if servers <= 1 {
                return Ok(found);
            }
            let request_id = wire::cluster_request_id();
            let (tx, mut rx) = mpsc::channel(servers);
            me.pending().insert(request_id.clone(), Pending::Fetch(tx));
            let sent = me.publish(&me.message(ClusterMessageKind::FetchSockets {
                opts: wire,
                request_id: request_id.clone(),
            }));
            let mut received = 0;
            let gathered = async {
                sent.await?;
                while received + 1 < servers {
                    match rx.recv().await {
                        Some(sockets) => {
                            found.extend(sockets);
                            received += 1;
                        }
                        None => break,
                    }
                }
                Ok::<_, AdapterError>(())
            };
            let result = tokio::time::timeout(timeout, gathered).await;
            me.pending().remove(&request_id);
            match result {
                Ok(Ok(())) => Ok(found),
                Ok(Err(error)) => Err(error),
                Err(_) => Err(AdapterError(
                    format!(
                        "timeout reached: only {received} responses received out of {}",
                        servers - 1
                    )
                    .into(),
                )),
            }
        })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        drop(self.add_sockets_here(opts, rooms)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        self.publish(&self.message(ClusterMessageKind::SocketsJoin {
            opts: wire_opts(opts),
            rooms: rooms.to_vec(),
        }))
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        drop(self.del_sockets_here(opts, rooms)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        self.publish(&self.message(ClusterMessageKind::SocketsLeave {
            opts: wire_opts(opts),
            rooms: rooms.to_vec(),
        }))
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> AdapterFuture<()> {
        drop(self.local.disconnect_sockets(opts, close)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        self.publish(&self.message(ClusterMessageKind::DisconnectSockets {
            opts: wire_opts(opts),
            close: Some(close),
        }))
    }

    fn server_side_emit(
        &self,
        event: &str,
        args: Vec<Value>,
        answers: Option<Answers>,
    ) -> AdapterFuture<()> {
        let packet = std::iter::once(Value::from(event)).chain(args).collect();
        let request_id = answers.as_ref().map(|_| wire::cluster_request_id());
        if let (Some(id), Some(answers)) = (&request_id, &answers) {
            self.pending()
                .insert(id.clone(), Pending::Answers(answers.clone()));
            self.expire(id.clone(), self.config.requests_timeout);
        }
        let count = answers.as_ref().map(|_| self.count());
        let sent =
            self.publish(&self.message(ClusterMessageKind::ServerSideEmit { request_id, packet }));
        Box::pin(async move {
            if let (Some(count), Some(answers)) = (count, answers) {
                let servers = count.await?;
                answers.expect(servers.saturating_sub(1));
            }
            sent.await
        })
    }

    fn server_count(&self) -> AdapterFuture<usize> {
        Box::pin(self.count())
    }
}
