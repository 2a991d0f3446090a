//! The classic Redis adapter of one namespace (Node's `createAdapter` of
//! `@socket.io/redis-adapter` 8.3): rooms in memory, broadcasts and requests over Redis pub/sub.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::RedisConfig;
use super::link::{Link, Publish, Receiver, Subscribe};
use super::opts::{local_opts, ready, targets, wire_opts};
use super::wire::{
    self, ClassicBroadcast, ClassicChannel, ClassicChannels, ClassicRequest, ClassicResponse,
    Packet, RequestType, SocketDetails,
};
use crate::adapter::{
    Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, LocalNamespace,
    MemoryAdapter, Restored, Room, ServerReply, Session, SocketInfo,
};
use crate::engine::Sid;
use crate::value::Value;

/// A request of this server waiting for answers.
enum Pending {
    /// fetchSockets: each server's sockets.
    Fetch(mpsc::Sender<Vec<SocketInfo>>),
    /// A server-side emit or a broadcast with acknowledgements.
    Answers(Answers),
}

pub(crate) struct ClassicAdapter {
    local: MemoryAdapter,
    uid: String,
    channels: ClassicChannels,
    link: Arc<Link>,
    config: Arc<RedisConfig>,
    pending: Mutex<HashMap<String, Pending>>,
    me: Weak<ClassicAdapter>,
}

impl ClassicAdapter {
    pub(crate) fn new(ns: LocalNamespace, link: Arc<Link>, config: Arc<RedisConfig>) -> Arc<Self> {
        let uid = wire::classic_uid();
        let channels = ClassicChannels::new(&config.key, ns.name(), &uid);
        let adapter = Arc::new_cyclic(|me: &Weak<ClassicAdapter>| ClassicAdapter {
            local: MemoryAdapter::new(ns),
            uid,
            channels,
            link,
            config,
            pending: Mutex::default(),
            me: me.clone(),
        });
        let receiver: Weak<dyn Receiver> = adapter.me.clone();
        let link = &adapter.link;
        link.subscribe(
            &adapter.channels.broadcast_pattern(),
            Subscribe::Pattern,
            receiver.clone(),
        );
        link.subscribe(
            &adapter.channels.request,
            Subscribe::Channel,
            receiver.clone(),
        );
        link.subscribe(
            &adapter.channels.response,
            Subscribe::Channel,
            receiver.clone(),
        );
        link.subscribe(
            &adapter.channels.specific_response,
            Subscribe::Channel,
            receiver,
        );
        adapter
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, channel: String, payload: Vec<u8>) -> AdapterFuture<()> {
        Box::pin(self.link.publish(channel, payload, Publish::Plain))
    }

    fn request(&self, request: &ClassicRequest) -> AdapterFuture<()> {
        self.publish(self.channels.request.clone(), request.encode())
    }

    /// Answers server `requester` (on its specific channel when so configured).
    fn respond(&self, requester: Option<&str>, response: &ClassicResponse) {
        let channel = match response {
            // Always the shared channel (as Node does).
            ClassicResponse::ServerSideEmit { .. } => self.channels.response.clone(),
            _ => self
                .channels
                .for_response(
                    requester.unwrap_or(""),
                    self.config.publish_on_specific_response_channel && requester.is_some(),
                )
                .into_owned(),
        };
        let sent = self
            .link
            .publish(channel, response.encode(), Publish::Plain);
        tokio::spawn(async move {
            if let Err(error) = sent.await {
                tracing::warn!(%error, "redis adapter: an answer to another server was lost");
            }
        });
    }

    /// Forgets request `id` after `timeout`, whatever came.
    fn expire(&self, id: String, timeout: Duration) {
        let me = self.me.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if let Some(me) = me.upgrade() {
                me.pending().remove(&id);
            }
        });
    }

    fn on_broadcast(&self, room: &[u8], payload: Bytes) {
        if !room.is_empty() {
            // Node skips a room it has no socket in before decoding.
            let has = std::str::from_utf8(room).is_ok_and(|room| self.local.has_room(room));
            if !has {
                return;
            }
        }
        let broadcast = match ClassicBroadcast::decode(&payload) {
            Ok(broadcast) => broadcast,
            Err(error) => {
                tracing::debug!(%error, "redis adapter: undecodable broadcast ignored");
                return;
            }
        };
        if broadcast.uid == self.uid {
            return;
        }
        let ns = self.local.namespace().name();
        if broadcast.packet.nsp.as_deref().unwrap_or("/") != ns {
            return;
        }
        let packet = match broadcast
            .packet
            .to_encoded(ns, self.local.namespace().parser())
        {
            Ok(packet) => packet,
            Err(error) => {
                tracing::debug!(%error, "redis adapter: broadcast of no event ignored");
                return;
            }
        };
        let opts = broadcast.opts;
        let opts = local_opts(opts.rooms, opts.except, Some(&opts.flags));
        drop(self.local.broadcast(packet, &opts)); // done at once (a ready future)
    }

    fn on_request(&self, payload: Bytes) {
        let request = match ClassicRequest::decode(&payload) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(%error, "redis adapter: undecodable request ignored");
                return;
            }
        };
        let own = request.uid() == Some(self.uid.as_str())
            || request
                .request_id()
                .is_some_and(|id| self.pending().contains_key(id));
        if own {
            // Applied here already, or asked by this server.
            return;
        }
        let requester = request.uid().map(str::to_owned);
        let requester = requester.as_deref();
        match request {
            ClassicRequest::Sockets {
                request_id, rooms, ..
            } => {
                let opts = local_opts(rooms, Vec::new(), None);
                let sockets = self
                    .local
                    .local_targets(&opts)
                    .iter()
                    .map(Sid::to_string)
                    .collect();
                self.respond(
                    requester,
                    &ClassicResponse::Sockets {
                        request_id,
                        sockets,
                    },
                );
            }
            ClassicRequest::AllRooms { request_id, .. } => {
                let rooms = self.local.rooms();
                self.respond(requester, &ClassicResponse::AllRooms { request_id, rooms });
            }
            ClassicRequest::RemoteJoin { opts, rooms, .. } => {
                drop(
                    self.local
                        .add_sockets(&local_opts(opts.rooms, opts.except, None), &rooms),
                ); // done at once (a ready future)
            }
            ClassicRequest::RemoteLeave { opts, rooms, .. } => {
                drop(
                    self.local
                        .del_sockets(&local_opts(opts.rooms, opts.except, None), &rooms),
                ); // done at once (a ready future)
            }
            ClassicRequest::RemoteDisconnect { opts, close, .. } => {
                drop(
                    self.local
                        .disconnect_sockets(&local_opts(opts.rooms, opts.except, None), close),
                ); // done at once (a ready future)
            }
            ClassicRequest::RemoteJoinSocket {
                request_id,
                sid,
                room,
                ..
            } => {
                if let Some(sid) = self.local_sid(&sid) {
                    self.local.add_all(sid, &[room]);
                    self.respond(requester, &ClassicResponse::Done { request_id });
                }
            }
            ClassicRequest::RemoteLeaveSocket {
                request_id,
                sid,
                room,
                ..
            } => {
                if let Some(sid) = self.local_sid(&sid) {
                    self.local.del(sid, &room);
                    self.respond(requester, &ClassicResponse::Done { request_id });
                }
            }
            ClassicRequest::RemoteDisconnectSocket {
                request_id,
                sid,
                close,
                ..
            } => {
                if let Some(sid) = self.local_sid(&sid) {
                    self.local.namespace().disconnect(sid, close);
                    self.respond(requester, &ClassicResponse::Done { request_id });
                }
            }
            ClassicRequest::RemoteFetch {
                request_id, opts, ..
            } => {
                let opts = local_opts(opts.rooms, opts.except, None);
                let ns = self.local.namespace();
                let sockets = self
                    .local
                    .local_targets(&opts)
                    .into_iter()
                    .filter_map(|sid| ns.socket_info(sid))
                    .map(|info| SocketDetails::from(&info))
                    .collect();
                self.respond(
                    requester,
                    &ClassicResponse::RemoteFetch {
                        request_id,
                        sockets,
                    },
                );
            }
            ClassicRequest::ServerSideEmit {
                request_id, data, ..
            } => {
                let mut data = data.into_iter();
                let Some(Value::String(event)) = data.next() else {
                    return;
                };
                let reply = request_id.map(|request_id| {
                    let me = self.me.clone();
                    Box::new(move |answer: Value| {
                        if let Some(me) = me.upgrade() {
                            me.respond(
                                None,
                                &ClassicResponse::ServerSideEmit {
                                    request_id,
                                    data: answer,
                                },
                            );
                        }
                    }) as ServerReply
                });
                self.local
                    .namespace()
                    .server_event(&event, data.collect(), reply);
            }
            ClassicRequest::Broadcast {
                request_id,
                packet,
                opts,
                ..
            } => {
                let ns = self.local.namespace().name();
                if packet.nsp.as_deref().unwrap_or("/") != ns {
                    return;
                }
                let Ok(encoded) = packet.to_encoded(ns, self.local.namespace().parser()) else {
                    return;
                };
                let opts = local_opts(opts.rooms, opts.except, Some(&opts.flags));
                let me = self.me.clone();
                let asker = requester.map(str::to_owned);
                let id = request_id.clone();
                let relay = Answers::relaying(move |answer| {
                    if let Some(me) = me.upgrade() {
                        me.respond(
                            asker.as_deref(),
                            &ClassicResponse::BroadcastAck {
                                request_id: id.clone(),
                                packet: answer,
                            },
                        );
                    }
                });
                let targets = self.local.local_targets(&opts);
                let count = self
                    .local
                    .namespace()
                    .send_with_ack(targets, encoded, &relay);
                self.respond(
                    requester,
                    &ClassicResponse::BroadcastClientCount {
                        request_id,
                        client_count: count as u64,
                    },
                );
            }
        }
    }

    fn local_sid(&self, sid: &str) -> Option<Sid> {
        let sid = sid.parse().ok()?;
        self.local.namespace().socket_info(sid).map(|_| sid)
    }

    fn on_response(&self, payload: Bytes) {
        let response = {
            let pending = self.pending();
            ClassicResponse::decode(&payload, |id| match pending.get(id) {
                Some(Pending::Fetch(_)) => Some(RequestType::RemoteFetch),
                Some(Pending::Answers(_)) => Some(RequestType::Broadcast),
                None => None,
            })
        };
        let response = match response {
            Ok(Some(response)) => response,
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(%error, "redis adapter: undecodable answer ignored");
                return;
            }
        };
        let pending = self.pending();
        let Some(waiting) = pending.get(response.request_id()) else {
            return;
        };
        match (waiting, response) {
            (Pending::Fetch(tx), ClassicResponse::RemoteFetch { sockets, .. }) => {
                let sockets = sockets
                    .into_iter()
                    .filter_map(|details| SocketInfo::try_from(details).ok())
                    .collect();
                let _ = tx.try_send(sockets);
            }
            (Pending::Answers(answers), ClassicResponse::ServerSideEmit { data, .. }) => {
                answers.answer(data);
            }
            (
                Pending::Answers(answers),
                ClassicResponse::BroadcastClientCount { client_count, .. },
            ) => {
                answers.report(client_count as usize);
            }
            (Pending::Answers(answers), ClassicResponse::BroadcastAck { packet, .. }) => {
                answers.answer(packet);
            }
            _ => {}
        }
    }

    /// The number of servers, this one included.
    fn count(&self) -> impl Future<Output = Result<usize, AdapterError>> + Send + 'static + use<> {
        let link = self.link.clone();
        let channel = self.channels.request.clone();
        async move { link.subscribers(false, &channel).await }
    }
}

impl Receiver for ClassicAdapter {
    fn receive_all(&self, messages: &mut dyn Iterator<Item = (Vec<u8>, Bytes)>) {
        // A burst from other servers: delivered as a handler's broadcasts are, coalesced.
        self.local.namespace().batch(|| {
            for (channel, payload) in messages {
                self.receive(&channel, payload);
            }
        });
    }

    fn receive(&self, channel: &[u8], payload: Bytes) {
        match self.channels.classify(channel) {
            ClassicChannel::Broadcast { room } => self.on_broadcast(room, payload),
            ClassicChannel::Request => self.on_request(payload),
            ClassicChannel::Response => self.on_response(payload),
            ClassicChannel::Other => {}
        }
    }
}

impl Adapter for ClassicAdapter {
    fn namespace(&self) -> &LocalNamespace {
        self.local.namespace()
    }

    fn add_all(&self, sid: Sid, rooms: &[Room]) {
        self.local.add_all(sid, rooms);
    }

    fn del(&self, sid: Sid, room: &str) {
        self.local.del(sid, room);
    }

    fn del_all(&self, sid: Sid) {
        self.local.del_all(sid);
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

    fn broadcast(&self, packet: EncodedPacket, opts: &BroadcastOptions) -> AdapterFuture<()> {
        if opts.local {
            return self.local.broadcast(packet, opts);
        }
        // Encoded for Redis once, before the local part takes the packet.
        let wire = Packet::from_encoded(&packet);
        drop(self.local.broadcast(packet, opts)); // done at once (a ready future)
        let wire = match wire {
            Ok(wire) => wire,
            Err(error) => return Box::pin(std::future::ready(Err(AdapterError(error.into())))),
        };
        let wire_opts = wire_opts(opts);
        let channel = self.channels.for_broadcast(&wire_opts.rooms).into_owned();
        let message = ClassicBroadcast::encode_parts(&self.uid, &wire, &wire_opts);
        self.publish(channel, message)
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
        let wire = match wire {
            Ok(wire) => wire,
            Err(error) => return Box::pin(std::future::ready(Err(AdapterError(error.into())))),
        };
        let request_id = wire::classic_request_id();
        let request = ClassicRequest::Broadcast {
            uid: Some(self.uid.clone()),
            request_id: request_id.clone(),
            packet: wire,
            opts: wire_opts(opts),
        };
        self.pending()
            .insert(request_id.clone(), Pending::Answers(answers.clone()));
        let timeout = opts.timeout.unwrap_or(self.config.requests_timeout);
        self.expire(request_id, timeout);
        let count = self.count();
        let sent = self.request(&request);
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
        let opts = targets(opts);
        Box::pin(async move {
            let mut found = local.await?;
            let servers = me.count().await?;
            if servers <= 1 {
                return Ok(found);
            }
            let request_id = wire::classic_request_id();
            let (tx, mut rx) = mpsc::channel(servers);
            me.pending().insert(request_id.clone(), Pending::Fetch(tx));
            let sent = me.request(&ClassicRequest::RemoteFetch {
                uid: Some(me.uid.clone()),
                request_id: request_id.clone(),
                opts,
            });
            let gathered = async {
                sent.await?;
                for _ in 1..servers {
                    match rx.recv().await {
                        Some(sockets) => found.extend(sockets),
                        None => break,
                    }
                }
                Ok::<_, AdapterError>(())
            };
            let result = tokio::time::timeout(me.config.requests_timeout, gathered).await;
            me.pending().remove(&request_id);
            match result {
                Ok(Ok(())) => Ok(found),
                Ok(Err(error)) => Err(error),
                Err(_) => Err(AdapterError(
                    "timeout reached while waiting for fetchSockets response".into(),
                )),
            }
        })
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        drop(self.local.add_sockets(opts, rooms)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        self.request(&ClassicRequest::RemoteJoin {
            uid: Some(self.uid.clone()),
            opts: targets(opts),
            rooms: rooms.to_vec(),
        })
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) -> AdapterFuture<()> {
        drop(self.local.del_sockets(opts, rooms)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        self.request(&ClassicRequest::RemoteLeave {
            uid: Some(self.uid.clone()),
            opts: targets(opts),
            rooms: rooms.to_vec(),
        })
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) -> AdapterFuture<()> {
        drop(self.local.disconnect_sockets(opts, close)); // done at once (a ready future)
        if opts.local {
            return ready(());
        }
        self.request(&ClassicRequest::RemoteDisconnect {
            uid: Some(self.uid.clone()),
            opts: targets(opts),
            close,
        })
    }

    fn server_side_emit(
        &self,
        event: &str,
        args: Vec<Value>,
        answers: Option<Answers>,
    ) -> AdapterFuture<()> {
        let data = std::iter::once(Value::from(event)).chain(args).collect();
        let request_id = answers.as_ref().map(|_| wire::classic_request_id());
        let request = ClassicRequest::ServerSideEmit {
            uid: Some(self.uid.clone()),
            request_id: request_id.clone(),
            data,
        };
        let count = answers.as_ref().map(|_| self.count());
        if let (Some(id), Some(answers)) = (&request_id, &answers) {
            self.pending()
                .insert(id.clone(), Pending::Answers(answers.clone()));
            self.expire(id.clone(), self.config.requests_timeout);
        }
        let sent = self.request(&request);
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
