//! What socket.io-adapter's `ClusterAdapter` does whatever carries its messages, shared by the
//! sharded and the streams adapters: requests of this server waiting for answers, the answers
//! to other servers' requests, and the operations that wait for answers (broadcasts with
//! acknowledgements, `fetch_sockets`, server-side emits).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::mpsc;

use super::opts::{local_opts, ready, wire_opts};
use super::wire::{self, ClusterMessage, ClusterMessageKind, Packet, SocketDetails};
use crate::adapter::{
    Adapter, AdapterError, AdapterFuture, Answers, BroadcastOptions, EncodedPacket, MemoryAdapter,
    ServerReply, SocketInfo,
};
use crate::value::Value;

/// A request of this server waiting for answers.
enum Pending {
    Fetch(mpsc::Sender<Vec<SocketInfo>>),
    Answers(Answers),
}

/// One namespace's requests waiting for answers, by request id.
pub(super) struct Requests {
    /// This adapter's uid.
    pub(super) uid: String,
    pending: Mutex<HashMap<String, Pending>>,
}

impl Requests {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Requests {
            uid: wire::cluster_uid(),
            pending: Mutex::default(),
        })
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets request `id` after `timeout`.
    fn expire(self: &Arc<Self>, id: String, timeout: Duration) {
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if let Some(me) = me.upgrade() {
                me.pending().remove(&id);
            }
        });
    }

    /// Takes an answer to one of this server's requests.
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
}

/// How an adapter carries the cluster's messages.
pub(super) trait Bus: Send + Sync + 'static {
    /// This server's rooms and sockets.
    fn local(&self) -> &MemoryAdapter;
    /// This server's requests waiting for answers (and its uid).
    fn requests(&self) -> &Arc<Requests>;
    /// How long requests wait for their answers.
    fn requests_timeout(&self) -> Duration;
    /// Sends a request (a broadcast with acknowledgements, `fetchSockets`, a server-side emit)
    /// to every server.
    fn publish(&self, message: &ClusterMessage) -> AdapterFuture<()>;
    /// Sends an answer to server `requester`.
    fn publish_response(&self, requester: &str, message: &ClusterMessage) -> AdapterFuture<()>;
    /// How many servers share the namespace.
    fn server_count(&self) -> AdapterFuture<usize>;

    /// A message of this server's namespace.
    fn message(&self, kind: ClusterMessageKind) -> ClusterMessage {
        ClusterMessage {
            uid: self.requests().uid.clone(),
            nsp: self.local().namespace().name().to_owned(),
            kind,
        }
    }

    /// Answers server `requester`, without waiting (a lost answer is logged).
    fn respond(&self, requester: &str, kind: ClusterMessageKind) {
        let sent = self.publish_response(requester, &self.message(kind));
        tokio::spawn(async move {
            if let Err(error) = sent.await {
                tracing::warn!(%error, "redis adapter: an answer to another server was lost");
            }
        });
    }
}

/// Handles a message of another server: answers its requests (broadcasts with
/// acknowledgements, `fetchSockets`, server-side emits) and takes the answers to this server's.
/// Gives back what is the adapter's to apply (broadcasts without acknowledgements, joins,
/// leaves, disconnections, heartbeats). Messages from this server or of another namespace are
/// dropped.
pub(super) fn on_message<B: Bus>(
    bus: &B,
    me: &Weak<B>,
    message: ClusterMessage,
) -> Option<ClusterMessage> {
    if message.uid == bus.requests().uid || message.nsp != bus.local().namespace().name() {
        return None;
    }
    let requester = message.uid;
    let ns = bus.local().namespace();
    match message.kind {
        ClusterMessageKind::Broadcast {
            packet,
            request_id: Some(request_id),
            opts,
        } => {
            let Ok(encoded) = packet.to_encoded(ns.name(), ns.parser()) else {
                return None;
            };
            let local = local_opts(opts.rooms, opts.except, Some(&opts.flags));
            let me = me.clone();
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
            let targets = bus.local().local_targets(&local);
            let count = ns.send_with_ack(targets, encoded, &relay);
            bus.respond(
                &requester,
                ClusterMessageKind::BroadcastClientCount {
                    request_id,
                    client_count: count as u64,
                },
            );
        }
        ClusterMessageKind::FetchSockets { opts, request_id } => {
            let local = local_opts(opts.rooms, opts.except, None);
            let sockets = bus
                .local()
                .local_targets(&local)
                .into_iter()
                .filter_map(|sid| ns.socket_info(sid))
                .map(|info| SocketDetails::from(&info))
                .collect();
            bus.respond(
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
                return None;
            };
            let reply = request_id.map(|request_id| {
                let me = me.clone();
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
        | ClusterMessageKind::BroadcastAck { .. }) => bus.requests().on_response(kind),
        kind => {
            return Some(ClusterMessage {
                uid: requester,
                nsp: message.nsp,
                kind,
            });
        }
    }
    None
}

/// The packet of `packet` as cluster messages carry it: `{type, data}`, the namespace being the
/// message's.
pub(super) fn wire_packet(packet: &EncodedPacket) -> Result<Packet, AdapterError> {
    let mut wire = Packet::from_encoded(packet).map_err(|e| AdapterError(e.into()))?;
    wire.nsp = None;
    Ok(wire)
}

/// `broadcast_with_ack` of a cluster adapter: this server's sockets at once, then every other
/// server's, each reporting its count and relaying its clients' answers.
pub(super) fn broadcast_with_ack<B: Bus>(
    bus: &B,
    packet: EncodedPacket,
    opts: &BroadcastOptions,
    answers: Answers,
) -> AdapterFuture<()> {
    let wire = wire_packet(&packet);
    answers.expect_reports(1);
    let local = bus.local();
    let count = local
        .namespace()
        .send_with_ack(local.local_targets(opts), packet, &answers);
    answers.report(count);
    if opts.local {
        return ready(());
    }
    let wire = match wire {
        Ok(wire) => wire,
        Err(error) => return Box::pin(std::future::ready(Err(error))),
    };
    let request_id = wire::cluster_request_id();
    bus.requests()
        .pending()
        .insert(request_id.clone(), Pending::Answers(answers.clone()));
    bus.requests().expire(
        request_id.clone(),
        opts.timeout.unwrap_or(bus.requests_timeout()),
    );
    let message = bus.message(ClusterMessageKind::Broadcast {
        packet: wire,
        request_id: Some(request_id),
        opts: wire_opts(opts),
    });
    let count = bus.server_count();
    let sent = bus.publish(&message);
    Box::pin(async move {
        let servers = count.await?;
        answers.expect_reports(servers.saturating_sub(1));
        sent.await
    })
}

/// `fetch_sockets` of a cluster adapter: this server's sockets, and every other server's
/// answer, or Node's timeout error.
pub(super) fn fetch_sockets<B: Bus>(
    bus: &B,
    me: &Weak<B>,
    opts: &BroadcastOptions,
) -> AdapterFuture<Vec<SocketInfo>> {
    let local = bus.local().fetch_sockets(opts);
    if opts.local {
        return local;
    }
    let Some(me) = me.upgrade() else {
        return local;
    };
    let wire = wire_opts(opts);
    let timeout = opts.timeout.unwrap_or(bus.requests_timeout());
    Box::pin(async move {
        let mut found = local.await?;
        let servers = me.server_count().await?;
        if servers <= 1 {
            return Ok(found);
        }
        let request_id = wire::cluster_request_id();
        let (tx, mut rx) = mpsc::channel(servers);
        let requests = me.requests().clone();
        requests
            .pending()
            .insert(request_id.clone(), Pending::Fetch(tx));
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
        requests.pending().remove(&request_id);
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

/// `server_side_emit` of a cluster adapter: with `answers`, one expected from each other
/// server.
pub(super) fn server_side_emit<B: Bus>(
    bus: &B,
    event: &str,
    args: Vec<Value>,
    answers: Option<Answers>,
) -> AdapterFuture<()> {
    let packet = std::iter::once(Value::from(event)).chain(args).collect();
    let request_id = answers.as_ref().map(|_| wire::cluster_request_id());
    if let (Some(id), Some(answers)) = (&request_id, &answers) {
        bus.requests()
            .pending()
            .insert(id.clone(), Pending::Answers(answers.clone()));
        bus.requests().expire(id.clone(), bus.requests_timeout());
    }
    let count = answers.as_ref().map(|_| bus.server_count());
    let sent = bus.publish(&bus.message(ClusterMessageKind::ServerSideEmit { request_id, packet }));
    Box::pin(async move {
        if let (Some(count), Some(answers)) = (count, answers) {
            let servers = count.await?;
            answers.expect(servers.saturating_sub(1));
        }
        sent.await
    })
}
