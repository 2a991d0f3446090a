//! One client connection's Socket.IO (Node's `Client`): the Engine.IO handler that reassembles
//! binary packets, dispatches each packet to its namespace, and connects a client to a
//! namespace (middlewares, CONNECT answer or CONNECT_ERROR, connect handler).
//!
//! Plumbing: [`IoHandler`] is the default handler type of [`SocketIoLayer`](crate::SocketIoLayer)
//! and the one of [`SocketIo::engine`](crate::SocketIo::engine); applications do not use it
//! directly.
//!
//! ```
//! use tower_socketio::client::IoHandler;
//! use tower_socketio::engine::EngineIo;
//! use tower_socketio::{SocketIo, SocketIoLayer};
//!
//! let io = SocketIo::builder().build();
//! // The types name it; nothing else does.
//! let engine: &EngineIo<IoHandler> = io.engine();
//! let layer: SocketIoLayer<IoHandler> = io.layer();
//! # let _ = (engine, layer);
//! ```

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::engine::{self, EngineHandler, Message, ProtocolVersion, Sid};
use crate::handler;
use crate::ns::{AdapterFactory, Dispatch, NsCore, NsOptions};
#[cfg(feature = "msgpack")]
use crate::parser::Parser;
use crate::parser::{self, Kind, RawPacket};
pub use crate::socket::ClientState;
use crate::socket::{DisconnectReason, Handshake, Nsp, Socket, SocketRef};
use crate::value::Value;

#[cfg(test)]
mod tests;

/// Decides whether a namespace name belongs to a dynamic namespace.
pub(crate) type NsMatcher = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The Engine.IO handler that runs Socket.IO on each connection. Its type shows in
/// [`SocketIoLayer`](crate::SocketIoLayer) (its default); there is nothing to do with it directly.
///
/// ```
/// use tower_socketio::client::IoHandler;
/// use tower_socketio::layer::SocketIoService;
///
/// // A service type that names it (its default could be left out).
/// type App = SocketIoService<axum::Router, IoHandler>;
/// # let _: Option<App> = None;
/// ```
pub struct IoHandler {
    /// Static namespaces, and the dynamic ones created so far.
    namespaces: RwLock<HashMap<String, Arc<NsCore>>>,
    dynamic: Vec<(NsMatcher, Arc<dyn Dispatch>)>,
    adapter: AdapterFactory,
    connect_timeout: Duration,
    options: NsOptions,
}

impl IoHandler {
    pub(crate) fn new(
        namespaces: HashMap<String, Arc<NsCore>>,
        dynamic: Vec<(NsMatcher, Arc<dyn Dispatch>)>,
        adapter: AdapterFactory,
        connect_timeout: Duration,
        options: NsOptions,
    ) -> Self {
        IoHandler {
            namespaces: RwLock::new(namespaces),
            dynamic,
            adapter,
            connect_timeout,
            options,
        }
    }

    /// The namespace `name`: a static one, or a dynamic one (created on first use).
    fn namespace(&self, name: &str) -> Option<Arc<NsCore>> {
        if let Some(ns) = self.existing_namespace(name) {
            return Some(ns);
        }
        let (_, routes) = self.dynamic.iter().find(|(matches, _)| matches(name))?;
        let mut namespaces = self.namespaces.write().unwrap_or_else(|e| e.into_inner());
        let ns = namespaces.entry(name.to_owned()).or_insert_with(|| {
            tracing::debug!(ns = name, "dynamic namespace created");
            NsCore::new(
                name.to_owned(),
                routes.clone(),
                &self.adapter,
                &self.options,
            )
        });
        Some(ns.clone())
    }

    /// The namespace `name` if it exists already.
    pub(crate) fn options(&self) -> &NsOptions {
        &self.options
    }

    /// Adds a static namespace to a running server; `false` when the name is taken.
    pub(crate) fn add_namespace(&self, name: &str, routes: Arc<dyn Dispatch>) -> bool {
        let mut namespaces = self.namespaces.write().unwrap_or_else(|e| e.into_inner());
        if namespaces.contains_key(name) {
            return false;
        }
        let ns = NsCore::new(name.to_owned(), routes, &self.adapter, &self.options);
        namespaces.insert(name.to_owned(), ns);
        true
    }

    /// Every namespace's name and local socket count, sorted by name.
    pub(crate) fn namespace_sizes(&self) -> Vec<(String, usize)> {
        let mut sizes: Vec<(String, usize)> = self
            .namespaces
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(name, ns)| (name.clone(), ns.socket_count()))
            .collect();
        sizes.sort();
        sizes
    }

    pub(crate) fn existing_namespace(&self, name: &str) -> Option<Arc<NsCore>> {
        self.namespaces
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }
}

type EngineSocket = Arc<engine::Socket<ClientState>>;

impl EngineHandler for IoHandler {
    type Data = ClientState;

    fn on_connect(&self, esock: EngineSocket) {
        if esock.protocol() == ProtocolVersion::V3 {
            // Socket.IO v4 (clients 2.x): the main namespace is joined implicitly.
            let query = esock.req_parts().uri.query().map(str::to_owned);
            self.connect(&esock, "/", Value::Object(Vec::new()), query);
            return;
        }
        if !self.connect_timeout.is_zero() {
            esock.set_deadline(tokio::time::Instant::now() + self.connect_timeout);
        }
    }

    /// The connect timeout: a client that joined no namespace in time is closed.
    fn on_deadline(&self, esock: &EngineSocket) {
        if esock.data().sockets().is_empty() {
            tracing::debug!(sid = %esock.id(), "no namespace joined in time: closing");
            esock.close();
        }
    }

    fn on_message(&self, esock: &EngineSocket, message: Message) {
        #[cfg(feature = "msgpack")]
        if self.options.parser == Parser::MsgPack {
            return self.on_msgpack_message(esock, message);
        }
        let client = esock.data();
        let mut partial = client.partial.lock().unwrap_or_else(|e| e.into_inner());
        match message {
            Message::Text(text) => {
                if partial.is_some() {
                    drop(partial);
                    return protocol_error(esock, "text packet while binary attachments were due");
                }
                match parser::decode(text) {
                    Ok(packet) if packet.attachments > 0 => {
                        *partial = Some((packet, Vec::with_capacity(2)));
                    }
                    Ok(packet) => {
                        drop(partial);
                        self.dispatch(esock, packet, Vec::new());
                    }
                    Err(error) => {
                        drop(partial);
                        protocol_error(esock, error.0);
                    }
                }
            }
            Message::Binary(data) => {
                let Some((packet, attachments)) = partial.as_mut() else {
                    drop(partial);
                    return parser_mismatch(
                        esock,
                        "a binary message where a text packet was due",
                        "the MessagePack parser",
                    );
                };
                attachments.push(data);
                if attachments.len() == packet.attachments {
                    let (packet, attachments) = partial.take().expect("checked above");
                    drop(partial);
                    self.dispatch(esock, packet, attachments);
                }
            }
        }
    }

    fn on_upgrade(&self, esock: &EngineSocket) {
        let sockets: Vec<SocketRef> = esock.data().sockets().values().cloned().collect();
        for socket in sockets {
            if let Some(observer) = socket.observer() {
                observer.transport_upgraded(&socket);
            }
        }
    }

    fn on_disconnect(&self, esock: EngineSocket, reason: engine::DisconnectReason) {
        let sockets: Vec<SocketRef> = esock.data().sockets().drain().map(|(_, s)| s).collect();
        for socket in sockets {
            socket.left(reason.into());
        }
    }
}

/// Closes a connection whose client broke the protocol (Node: "parse error").
fn protocol_error(esock: &EngineSocket, what: &str) {
    tracing::debug!(sid = %esock.id(), what, "invalid Socket.IO packet: closing");
    esock.abort(engine::DisconnectReason::ParseError);
}

/// Closes a connection whose client sent what the other parser sends (Node: "parse error"),
/// with a warning: the two sides must be given the same parser, and nothing else tells.
fn parser_mismatch(esock: &EngineSocket, what: &str, other: &str) {
    tracing::warn!(
        sid = %esock.id(),
        what,
        "invalid Socket.IO packet: the client probably uses {other} (the server's parser is \
         set with SocketIoBuilder::parser); closing"
    );
    esock.abort(engine::DisconnectReason::ParseError);
}

#[cfg(feature = "msgpack")]
impl IoHandler {
    /// A message of a client of the MessagePack parser: each packet is one binary message.
    fn on_msgpack_message(&self, esock: &EngineSocket, message: Message) {
        let frame = match message {
            Message::Binary(frame) => frame,
            Message::Text(_) => {
                return parser_mismatch(
                    esock,
                    "a text message where a MessagePack packet was due",
                    "the default parser",
                );
            }
        };
        let mut packet = match parser::msgpack::decode(&frame) {
            Ok(packet) => packet,
            // Not even a map: not a packet of this parser.
            Err(error)
                if !frame
                    .first()
                    .is_some_and(|b| matches!(b, 0x80..=0x8f | 0xde | 0xdf)) =>
            {
                return parser_mismatch(esock, error.0, "another parser");
            }
            Err(error) => return protocol_error(esock, error.0),
        };
        match packet.kind {
            Kind::Connect => {
                let auth = packet.data.take().unwrap_or(Value::Object(Vec::new()));
                self.connect(esock, &packet.ns, auth, None);
            }
            Kind::Disconnect => self.namespace_disconnect(esock, &packet.ns),
            Kind::Event | Kind::Ack => {
                let (name, args) = match parser::msgpack::args(&mut packet) {
                    Ok(parsed) => parsed,
                    Err(error) => return protocol_error(esock, error.0),
                };
                self.deliver(esock, &packet.ns, name, args, packet.binaries, packet.id);
            }
            Kind::ConnectError | Kind::BinaryEvent | Kind::BinaryAck => {
                protocol_error(esock, "a client may not send CONNECT_ERROR");
            }
        }
    }
}

impl IoHandler {
    fn dispatch(&self, esock: &EngineSocket, packet: RawPacket, attachments: Vec<Bytes>) {
        let v5 = esock.protocol() == ProtocolVersion::V4;
        match packet.kind {
            Kind::Connect => {
                let auth = if v5 && !packet.payload.is_empty() {
                    match serde_json::from_str::<Value>(&packet.payload) {
                        Ok(auth) => auth,
                        Err(_) => return protocol_error(esock, "invalid CONNECT payload"),
                    }
                } else {
                    Value::Object(Vec::new())
                };
                self.connect(esock, packet.ns.as_str(), auth, packet.query);
            }
            Kind::Disconnect => self.namespace_disconnect(esock, packet.ns.as_str()),
            Kind::Event | Kind::BinaryEvent | Kind::Ack | Kind::BinaryAck => {
                let event = matches!(packet.kind, Kind::Event | Kind::BinaryEvent);
                let (name, args) = match parser::parse_args(&packet.payload, &attachments, event) {
                    Ok(parsed) => parsed,
                    Err(error) => return protocol_error(esock, error.0),
                };
                self.deliver(
                    esock,
                    packet.ns.as_str(),
                    name,
                    args,
                    attachments,
                    packet.id,
                );
            }
            Kind::ConnectError => protocol_error(esock, "a client may not send CONNECT_ERROR"),
        }
    }

    /// The client left namespace `ns`.
    fn namespace_disconnect(&self, esock: &EngineSocket, ns: &str) {
        let socket = esock.data().sockets().remove(ns);
        if let Some(socket) = socket {
            socket.left(DisconnectReason::ClientNamespaceDisconnect);
        }
    }

    /// An event (`name` given) or an acknowledgement for the client's socket in namespace `ns`.
    fn deliver(
        &self,
        esock: &EngineSocket,
        ns: &str,
        name: Option<String>,
        args: Vec<Value>,
        attachments: Vec<Bytes>,
        id: Option<u64>,
    ) {
        let Some(socket) = esock.data().sockets().get(ns).cloned() else {
            tracing::debug!(ns, "packet for a namespace not joined: ignored");
            return;
        };
        match (name, id) {
            (Some(name), id) => {
                let ns = socket.nsp_ref().clone();
                ns.event(socket, name, args, attachments, id);
            }
            (None, Some(id)) => socket.receive_ack(id, args),
            (None, None) => {}
        }
    }

    /// Joins `esock` to namespace `name`: the middlewares run, then the client gets the
    /// CONNECT answer and the connect handler runs; or the client gets a CONNECT_ERROR.
    fn connect(&self, esock: &EngineSocket, name: &str, auth: Value, query: Option<String>) {
        let v5 = esock.protocol() == ProtocolVersion::V4;
        let Some(ns) = self.namespace(name) else {
            let refusal = self.options.parser.encode_invalid_namespace(name, v5);
            let _ = esock.send_encoded(refusal.text, &refusal.attachments, false, false);
            return;
        };
        if esock.data().sockets().contains_key(name) {
            tracing::debug!(ns = name, "already connected to the namespace: ignored");
            return;
        }
        let handshake = Handshake {
            auth: auth.clone(),
            issued: SystemTime::now(),
            ns_query: query,
        };
        // Connection state recovery: a v5 client coming back sends its private id (and the offset
        // of the last event it got).
        let recovery = ns.recovery().filter(|_| v5).cloned();
        let recovering = recovery.as_ref().and_then(|_| match auth.get("pid") {
            Some(Value::String(pid)) => {
                let offset = match auth.get("offset") {
                    Some(Value::String(offset)) => Some(offset.clone()),
                    _ => None,
                };
                Some((pid.clone(), offset))
            }
            _ => None,
        });
        let restoring = recovering.map(|(pid, offset)| {
            // The client is back before this server saw its old connection go (Node loses the
            // session then, or the recovery after): that socket leaves now, keeping its session.
            if let Some(old) = ns.socket_by_pid(&pid) {
                tracing::debug!(ns = ns.name(), sid = %old.id(), "recovering a socket still connected");
                old.left(DisconnectReason::TransportClose);
            }
            ns.adapter().restore_session(&pid, offset.as_deref())
        });
        let esock = esock.clone();
        let parser = self.options.parser;
        handler::run(Box::pin(async move {
            let restored = match restoring {
                Some(restoring) => match restoring.await {
                    Ok(restored) => restored,
                    Err(error) => {
                        tracing::warn!(%error, "connection state recovery failed");
                        None
                    }
                },
                None => None,
            };
            // A 2.x client takes its engine id as its socket id in `/`, as the Node 2.x server
            // does; a recovered socket keeps its id.
            let id = match &restored {
                Some(restored) => restored.session.sid,
                None if !v5 && ns.name() == "/" => esock.id(),
                None => Sid::new(),
            };
            let pid = match (&restored, &recovery) {
                (Some(restored), _) => Some(restored.session.pid.clone()),
                (None, Some(_)) => Some(Sid::new().to_string()),
                (None, None) => None,
            };
            let recovered = restored.is_some();
            let socket = Arc::new(Socket::new(
                id,
                ns.clone(),
                esock.clone(),
                handshake,
                pid,
                recovered,
                ns.socket_observer(),
            ));
            let mut rejoin = None;
            if let Some(restored) = restored {
                tracing::debug!(ns = ns.name(), sid = %id, missed = restored.missed.len(), "socket recovered");
                // The old connection's socket, if the server has not seen it go yet, leaves now,
                // and does not keep a session of its own.
                if let Some(old) = ns.socket(id) {
                    old.supersede();
                    old.left(DisconnectReason::TransportClose);
                }
                socket.set_data_value(restored.session.data);
                rejoin = Some((restored.session.rooms, restored.missed));
            }
            let skip = recovered && recovery.as_ref().is_some_and(|r| r.skip_middlewares);
            let admitted = if skip {
                Ok(())
            } else {
                ns.routes.admit(socket.clone(), auth.clone()).await
            };
            match admitted {
                Ok(()) => {
                    ns.join(&socket, auth, v5, rejoin);
                    if recovered {
                        ns.adapter().session_restored(id);
                    }
                }
                Err(refusal) => {
                    tracing::debug!(ns = ns.name(), %refusal, "connection refused");
                    // A middleware may have joined rooms before another refused.
                    ns.refused(&socket);
                    if recovered {
                        ns.adapter().session_restored(id);
                    }
                    let packet = parser.encode_connect_error(
                        ns.name(),
                        refusal.message(),
                        refusal.data(),
                        v5,
                    );
                    let _ = esock.send_encoded(packet.text, &packet.attachments, false, false);
                }
            }
        }));
    }
}
