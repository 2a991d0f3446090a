//! Namespaces: the routes of a Socket.IO server. A [`Namespace`] declares, once for all its
//! sockets, the connection middlewares and the connect, event and disconnect handlers; a
//! connection costs memory only for its own state.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;

use crate::adapter::{Adapter, LocalSockets};
use crate::engine::key_hash::KeyHasher;
use crate::engine::{Sid, SidMap};
use crate::extract::{ExtractError, HandlerContext};
use crate::handler::{self, BoxFuture, BoxedHandler, Handler};
use crate::socket::{DisconnectReason, SocketRef};
use crate::value::Value;

/// Why a connection middleware refused a connection. The client gets a CONNECT_ERROR with
/// `message` and `data` (its `connect_error` event: `err.message`, `err.data`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    message: String,
    data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with this message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Attaches data for the client (`err.data`).
    pub fn with_data(mut self, data: impl serde::Serialize) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The data.
    pub fn data(&self) -> Option<&serde_json::Value> {
        self.data.as_ref()
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

impl From<ExtractError> for ConnectError {
    fn from(e: ExtractError) -> Self {
        ConnectError::new(e.message())
    }
}

/// A per-packet middleware: sees the socket, the event name and its arguments.
type PacketMiddleware =
    Arc<dyn Fn(&SocketRef, &str, &mut Vec<Value>) -> Result<(), String> + Send + Sync>;

/// The routes of one namespace.
///
/// ```
/// use tower_socketio::{Namespace, SocketRef};
/// use tower_socketio::extract::{AckSender, Data};
///
/// let chat: Namespace = Namespace::new()
///     .on_connect(|socket: SocketRef| async move {
///         let _ = socket.emit("welcome", "hello");
///     })
///     .on("message", |socket: SocketRef, ack: AckSender, Data(text): Data<String>| async move {
///         let _ = socket.emit("echo", &text);
///         let _ = ack.send("received");
///     });
/// # let _ = chat;
/// ```
#[must_use = "a namespace does nothing until it is given to `SocketIoBuilder::ns`"]
pub struct Namespace<S = ()> {
    middlewares: Vec<BoxedHandler<S, Result<(), ConnectError>>>,
    packet_middlewares: Vec<PacketMiddleware>,
    on_connect: Option<BoxedHandler<S, ()>>,
    events: NameMap<BoxedHandler<S, ()>>,
    fallback: Option<BoxedHandler<S, ()>>,
    on_disconnecting: Option<BoxedHandler<S, ()>>,
    on_disconnect: Option<BoxedHandler<S, ()>>,
}

impl<S> Default for Namespace<S> {
    fn default() -> Self {
        Namespace {
            middlewares: Vec::new(),
            packet_middlewares: Vec::new(),
            on_connect: None,
            events: NameMap::default(),
            fallback: None,
            on_disconnecting: None,
            on_disconnect: None,
        }
    }
}

impl<S> fmt::Debug for Namespace<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut events: Vec<_> = self.events.keys().collect();
        events.sort();
        f.debug_struct("Namespace")
            .field("middlewares", &self.middlewares.len())
            .field("packet_middlewares", &self.packet_middlewares.len())
            .field("events", &events)
            .finish()
    }
}

impl<S: Clone + Send + Sync + 'static> Namespace<S> {
    /// A namespace with no routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a connection middleware (Node: `namespace.use`). Middlewares run in the order added,
    /// before the connect handler; the first `Err` refuses the connection with a CONNECT_ERROR.
    ///
    /// ```
    /// use tower_socketio::{ConnectError, Namespace, SocketRef};
    /// use tower_socketio::extract::Data;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Auth { token: String }
    ///
    /// let ns: Namespace = Namespace::new().middleware(
    ///     |socket: SocketRef, Data(auth): Data<Auth>| async move {
    ///         if auth.token == "secret" {
    ///             socket.insert_extension(auth.token);
    ///             Ok(())
    ///         } else {
    ///             Err(ConnectError::new("not authorized").with_data("bad token"))
    ///         }
    ///     },
    /// );
    /// # let _ = ns;
    /// ```
    pub fn middleware<H, T>(mut self, middleware: H) -> Self
    where
        H: Handler<S, T, Result<(), ConnectError>>,
        T: 'static,
    {
        self.middlewares.push(handler::boxed(middleware));
        self
    }

    /// Adds a per-packet middleware (Node: `socket.use`): it sees every event a socket of the
    /// namespace receives, before its handler, and may change the arguments or refuse the event
    /// with a message. A refused event reaches no handler; when the client asked for an
    /// acknowledgement it gets `{"error": <message>}`. Middlewares run in the order added, in
    /// the task that read the packet: keep them quick.
    ///
    /// ```
    /// use tower_socketio::Namespace;
    ///
    /// let ns: Namespace = Namespace::new().packet_middleware(|_socket, event, args| {
    ///     if event.starts_with("admin:") {
    ///         return Err("forbidden".into());
    ///     }
    ///     args.truncate(8); // at most 8 arguments reach the handlers
    ///     Ok(())
    /// });
    /// # let _ = ns;
    /// ```
    pub fn packet_middleware<F>(mut self, middleware: F) -> Self
    where
        F: Fn(&SocketRef, &str, &mut Vec<Value>) -> Result<(), String> + Send + Sync + 'static,
    {
        self.packet_middlewares.push(Arc::new(middleware));
        self
    }

    /// Sets the handler run when a socket has connected (Node: `namespace.on("connection")`).
    /// [`Data`](crate::extract::Data) gives the CONNECT auth payload.
    pub fn on_connect<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<S, T, ()>,
        T: 'static,
    {
        self.on_connect = Some(handler::boxed(handler));
        self
    }

    /// Routes the event `event` to `handler` (Node: `socket.on(event, handler)`, declared once
    /// for every socket of the namespace).
    pub fn on<H, T>(mut self, event: impl Into<String>, handler: H) -> Self
    where
        H: Handler<S, T, ()>,
        T: 'static,
    {
        self.events.insert(event.into(), handler::boxed(handler));
        self
    }

    /// Sets the handler of events no route matches (the catch-all; use the
    /// [`Event`](crate::extract::Event) extractor for the name).
    pub fn fallback<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<S, T, ()>,
        T: 'static,
    {
        self.fallback = Some(handler::boxed(handler));
        self
    }

    /// Sets the handler run when a socket is about to leave the namespace, while its rooms are
    /// still readable (Node: `socket.on("disconnecting")`), with the [`DisconnectReason`]
    /// extractor for why. Only what it does before its first `.await` sees the rooms.
    pub fn on_disconnecting<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<S, T, ()>,
        T: 'static,
    {
        self.on_disconnecting = Some(handler::boxed(handler));
        self
    }

    /// Sets the handler run when a socket has left the namespace, with the
    /// [`DisconnectReason`] extractor for why.
    pub fn on_disconnect<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<S, T, ()>,
        T: 'static,
    {
        self.on_disconnect = Some(handler::boxed(handler));
        self
    }
}

/// A namespace's routes bound to the application state, behind a trait object so that sockets
/// and the server need no state type.
pub(crate) trait Dispatch: Send + Sync + 'static {
    /// Runs the middlewares; resolves to the refusal, if any.
    fn admit(&self, socket: SocketRef, auth: Value) -> BoxFuture<Result<(), ConnectError>>;
    fn connected(&self, socket: SocketRef, auth: Value);
    fn event(
        &self,
        socket: SocketRef,
        event: String,
        args: Vec<Value>,
        attachments: Vec<Bytes>,
        ack: Option<u64>,
    );
    fn disconnecting(&self, socket: SocketRef, reason: DisconnectReason);
    fn disconnected(&self, socket: SocketRef, reason: DisconnectReason);
}

pub(crate) struct Routes<S> {
    pub(crate) ns: Namespace<S>,
    pub(crate) state: S,
}

impl<S: Clone + Send + Sync + 'static> Dispatch for Routes<S> {
    fn admit(&self, socket: SocketRef, auth: Value) -> BoxFuture<Result<(), ConnectError>> {
        let middlewares = self.ns.middlewares.clone();
        let state = self.state.clone();
        Box::pin(async move {
            for middleware in middlewares {
                let mut ctx = HandlerContext::new(socket.clone(), state.clone());
                ctx.args = Some(vec![auth.clone()]);
                middleware.call(ctx)?.await?;
            }
            Ok(())
        })
    }

    fn connected(&self, socket: SocketRef, auth: Value) {
        let Some(handler) = &self.ns.on_connect else {
            return;
        };
        let mut ctx = HandlerContext::new(socket.clone(), self.state.clone());
        ctx.args = Some(vec![auth]);
        match handler.call(ctx) {
            Ok(future) => handler::run(future),
            Err(error) => tracing::warn!(ns = socket.ns(), %error, "connect handler not called"),
        }
    }

    fn event(
        &self,
        socket: SocketRef,
        event: String,
        args: Vec<Value>,
        attachments: Vec<Bytes>,
        ack: Option<u64>,
    ) {
        let mut args = args;
        for middleware in &self.ns.packet_middlewares {
            if let Err(message) = middleware(&socket, &event, &mut args) {
                tracing::debug!(
                    ns = socket.ns(),
                    event,
                    message,
                    "event refused by a middleware"
                );
                if let Some(id) = ack {
                    let _ = socket.send_ack(id, &serde_json::json!({ "error": message }));
                }
                return;
            }
        }
        let Some(handler) = self.ns.events.get(&event).or(self.ns.fallback.as_ref()) else {
            tracing::debug!(ns = socket.ns(), event, "no handler for event");
            return;
        };
        let mut ctx = HandlerContext::new(socket.clone(), self.state.clone());
        ctx.event = Some(event);
        ctx.args = Some(args);
        ctx.attachments = attachments;
        ctx.ack_id = ack;
        match handler.call(ctx) {
            Ok(future) => handler::run(future),
            Err(error) => {
                tracing::warn!(ns = socket.ns(), %error, "event handler not called");
                if let Some(id) = ack {
                    let reply = serde_json::json!({ "error": error.message() });
                    let _ = socket.send_ack(id, &reply);
                }
            }
        }
    }

    fn disconnecting(&self, socket: SocketRef, reason: DisconnectReason) {
        self.run_with_reason(self.ns.on_disconnecting.as_ref(), socket, reason);
    }

    fn disconnected(&self, socket: SocketRef, reason: DisconnectReason) {
        self.run_with_reason(self.ns.on_disconnect.as_ref(), socket, reason);
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    fn run_with_reason(
        &self,
        handler: Option<&BoxedHandler<S, ()>>,
        socket: SocketRef,
        reason: DisconnectReason,
    ) {
        let Some(handler) = handler else {
            return;
        };
        let mut ctx = HandlerContext::new(socket.clone(), self.state.clone());
        ctx.reason = Some(reason);
        match handler.call(ctx) {
            Ok(future) => handler::run(future),
            Err(error) => tracing::warn!(ns = socket.ns(), %error, "disconnect handler not called"),
        }
    }
}

/// A namespace at run time: its name, its routes, its connected sockets and its adapter.
pub(crate) struct NsCore {
    name: String,
    pub(crate) routes: Arc<dyn Dispatch>,
    sockets: RwLock<SidMap<SocketRef>>,
    pub(crate) adapter: Arc<dyn Adapter>,
    /// Acknowledgement ids, shared by every socket of the namespace (as in Node), so that a
    /// broadcast with acknowledgements is one packet for all.
    ack_ids: AtomicU64,
    pub(crate) ack_timeout: Duration,
}

impl NsCore {
    pub(crate) fn new(
        name: String,
        routes: Arc<dyn Dispatch>,
        adapter: Arc<dyn Adapter>,
        ack_timeout: Duration,
    ) -> Self {
        NsCore {
            name,
            routes,
            sockets: RwLock::new(SidMap::default()),
            adapter,
            ack_ids: AtomicU64::new(0),
            ack_timeout,
        }
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn socket(&self, sid: Sid) -> Option<SocketRef> {
        self.sockets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&sid)
            .cloned()
    }

    /// The namespace's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The connected sockets.
    pub(crate) fn sockets(&self) -> Vec<SocketRef> {
        self.sockets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// The number of connected sockets.
    pub(crate) fn socket_count(&self) -> usize {
        self.sockets.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub(crate) fn insert(&self, socket: SocketRef) {
        self.sockets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(socket.id(), socket);
    }

    pub(crate) fn remove(&self, sid: Sid) {
        let mut sockets = self.sockets.write().unwrap_or_else(|e| e.into_inner());
        sockets.remove(&sid);
        crate::engine::shrink_map(&mut sockets);
    }
}

impl LocalSockets for NsCore {
    fn get(&self, sid: Sid) -> Option<SocketRef> {
        self.socket(sid)
    }

    fn all(&self) -> Vec<SocketRef> {
        self.sockets()
    }

    fn for_each(&self, f: &mut dyn FnMut(&SocketRef)) {
        let sockets = self.sockets.read().unwrap_or_else(|e| e.into_inner());
        sockets.values().for_each(f);
    }

    fn for_each_of(&self, sids: &mut dyn Iterator<Item = Sid>, f: &mut dyn FnMut(&SocketRef)) {
        let sockets = self.sockets.read().unwrap_or_else(|e| e.into_inner());
        sids.filter_map(|sid| sockets.get(&sid)).for_each(f);
    }
}

impl fmt::Debug for NsCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NsCore")
            .field("name", &self.name)
            .field("sockets", &self.socket_count())
            .finish()
    }
}

/// A map keyed by names the server chose: a namespace's event routes, a client's joined
/// namespaces (see [`KeyHasher`] for why its hash is a cheap one).
pub(crate) type NameMap<V> = HashMap<String, V, BuildHasherDefault<KeyHasher>>;
