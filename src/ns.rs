//! Namespaces: the routes of a Socket.IO server. A [`Namespace`] declares, once for all its
//! sockets, the connection middlewares and the connect, event and disconnect handlers; a
//! connection costs memory only for its own state.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use bytes::Bytes;

use crate::adapter::{
    Adapter, Answers, EncodedPacket, LocalNamespace, LocalSockets, RecoveryConfig, Room,
    RoomObserverSlot, ServerReply, Session, SocketInfo,
};
use crate::broadcast::coalesce;
use crate::engine::key_hash::NameMap;
use crate::engine::{self, Sid, SidMap};
use crate::error::ConnectError;
use crate::extract::HandlerContext;
use crate::handler::{self, BoxFuture, BoxedHandler, Handler};
use crate::parser::Parser;
use crate::socket::{DisconnectReason, Nsp, SocketObserver, SocketObserverSlot, SocketRef};
use crate::value::Value;

#[cfg(test)]
mod tests;

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
    server_events: NameMap<ServerHandler<S>>,
}

/// A handler of server-side events.
type ServerHandler<S> = Arc<dyn Fn(ServerEvent<S>) -> BoxFuture<()> + Send + Sync>;

/// A server-side event another server of the cluster emitted to this namespace (Node:
/// `io.serverSideEmit(event, ...args)`, received with `io.on(event, ...)`), as its handler gets
/// it: see [`Namespace::on_server_event`].
///
/// ```
/// use tower_socketio::{Namespace, ServerEvent, Value};
///
/// // Another server ran `io.server_side_emit("kick", "user-42")`.
/// let ns: Namespace = Namespace::new().on_server_event("kick", |event: ServerEvent| async move {
///     if let Some(Value::String(user)) = event.args.first() {
///         tracing::info!(user, "kicked on another server's request");
///     }
/// });
/// # let _ = ns;
/// ```
pub struct ServerEvent<S = ()> {
    /// The event's arguments.
    pub args: Vec<Value>,
    /// The application state.
    pub state: S,
    reply: Option<ServerReply>,
}

impl<S> fmt::Debug for ServerEvent<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerEvent")
            .field("args", &self.args)
            .field("wants_answer", &self.wants_answer())
            .finish()
    }
}

impl<S> ServerEvent<S> {
    /// Whether the sending server waits for an answer (it passed a callback).
    ///
    /// ```
    /// use tower_socketio::{Namespace, ServerEvent};
    ///
    /// let ns: Namespace = Namespace::new().on_server_event("flush", |mut event: ServerEvent| async move {
    ///     // ... flush ...
    ///     if event.wants_answer() {
    ///         let _ = event.answer("flushed");
    ///     }
    /// });
    /// # let _ = ns;
    /// ```
    pub fn wants_answer(&self) -> bool {
        self.reply.is_some()
    }

    /// Answers the sending server (Node: calling the callback with `answer`); only the first
    /// answer goes. Does nothing when no answer is wanted.
    ///
    /// ```
    /// use std::time::Instant;
    /// use tower_socketio::{Namespace, ServerEvent};
    ///
    /// // Answers `io.server_side_emit_with_ack::<_, u64>("uptime", &())` from another server.
    /// let started = Instant::now();
    /// let ns: Namespace = Namespace::new().on_server_event("uptime", move |mut event: ServerEvent| async move {
    ///     let _ = event.answer(&started.elapsed().as_secs());
    /// });
    /// # let _ = ns;
    /// ```
    pub fn answer<T: serde::Serialize + ?Sized>(
        &mut self,
        answer: &T,
    ) -> Result<(), serde_json::Error> {
        let value = Value::from(serde_json::to_value(answer)?);
        if let Some(reply) = self.reply.take() {
            reply(value);
        }
        Ok(())
    }
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
            server_events: NameMap::default(),
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
    /// A namespace with no routes: every client may join it (add a
    /// [`middleware`](Self::middleware) to choose), its events go nowhere.
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// let io = SocketIo::builder().ns("/", Namespace::new()).ns("/admin", Namespace::new()).build();
    /// # let _ = io;
    /// ```
    ///
    /// With application state, its type is the builder's
    /// ([`with_state`](crate::SocketIoBuilder::with_state)), usually inferred:
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// #[derive(Clone)]
    /// struct AppState;
    ///
    /// let admin: Namespace<AppState> = Namespace::new();
    /// let io = SocketIo::builder().with_state(AppState).ns("/admin", admin).build();
    /// # let _ = io;
    /// ```
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
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
    ///         socket.join("lobby");
    ///         let _ = socket.emit("welcome", &socket.id());
    ///     }))
    ///     .build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let (event, args) = client.recv().await.unwrap();
    /// assert_eq!(event, "welcome");
    /// assert_eq!(args, [Value::from(client.socket_id())]);
    /// # }
    /// ```
    pub fn on_connect<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<S, T, ()>,
        T: 'static,
    {
        self.on_connect = Some(handler::boxed(handler));
        self
    }

    /// Routes the event `event` to `handler` (Node: `socket.on(event, handler)`, declared once
    /// for every socket of the namespace). The handler's arguments are
    /// [extractors](crate::extract); a second route for the same event replaces the first.
    ///
    /// ```
    /// use tower_socketio::extract::{AckSender, Data};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// async fn on_rename(socket: SocketRef, ack: AckSender, Data(name): Data<String>) {
    ///     socket.insert_extension(name.clone());
    ///     let _ = ack.send(&format!("you are {name}"));
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new()
    ///         .on("rename", on_rename) // an async fn...
    ///         .on("ping", |ack: AckSender| async move { let _ = ack.send("pong"); })) // ...or a closure
    ///     .build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let answer: String = client.emit_with_ack("rename", "ada").await.unwrap();
    /// assert_eq!(answer, "you are ada");
    /// let answer: String = client.emit_with_ack("ping", &()).await.unwrap();
    /// assert_eq!(answer, "pong");
    /// # }
    /// ```
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
    ///
    /// ```
    /// use tower_socketio::extract::{Args, Event};
    /// use tower_socketio::{Namespace, SocketRef};
    ///
    /// // Relay every unknown event to the rest of the room, as is.
    /// let ns: Namespace = Namespace::new()
    ///     .on_connect(|socket: SocketRef| async move { socket.join("room") })
    ///     .fallback(|socket: SocketRef, Event(name): Event, args: Args| async move {
    ///         let _ = socket.to("room").emit(&name, &args);
    ///     });
    /// # let _ = ns;
    /// ```
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
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketRef};
    ///
    /// let ns: Namespace = Namespace::new().on_disconnecting(|socket: SocketRef| async move {
    ///     // Tell every room the socket was in, but its own.
    ///     for room in socket.rooms() {
    ///         if room != socket.id().as_str() {
    ///             let _ = socket.to(room).emit("user-left", &socket.id());
    ///         }
    ///     }
    /// });
    /// # let _ = ns;
    /// ```
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
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{DisconnectReason, Namespace, SocketIo, SocketRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (tx, mut gone) = tokio::sync::mpsc::unbounded_channel();
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_disconnect(move |socket: SocketRef, reason: DisconnectReason| {
    ///         let tx = tx.clone();
    ///         async move { let _ = tx.send((socket.id().to_string(), reason)); }
    ///     }))
    ///     .build();
    ///
    /// let client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let id = client.socket_id().to_owned();
    /// client.disconnect().await.unwrap();
    /// assert_eq!(gone.recv().await, Some((id, DisconnectReason::ClientNamespaceDisconnect)));
    /// # }
    /// ```
    pub fn on_disconnect<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<S, T, ()>,
        T: 'static,
    {
        self.on_disconnect = Some(handler::boxed(handler));
        self
    }
}

impl<S: Clone + Send + Sync + 'static> Namespace<S> {
    /// Sets the handler of server-side event `event`, which another server of the cluster emits
    /// to this namespace (Node: `io.serverSideEmit(event, ...args, callback?)` there, and
    /// `io.on(event, (...args, callback) => ...)` here). It gets the arguments and may answer
    /// ([`ServerEvent::answer`]) when the sender waits for one. A server never receives its own
    /// server-side emits.
    ///
    /// ```
    /// use tower_socketio::{Namespace, ServerEvent};
    ///
    /// let ns: Namespace = Namespace::new().on_server_event("ping", |mut event: ServerEvent| async move {
    ///     let _ = event.answer("pong");
    /// });
    /// # let _ = ns;
    /// ```
    pub fn on_server_event<F, Fut>(mut self, event: impl Into<String>, handler: F) -> Self
    where
        F: Fn(ServerEvent<S>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let handler: ServerHandler<S> = Arc::new(move |event| Box::pin(handler(event)));
        self.server_events.insert(event.into(), handler);
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
    fn server_event(&self, event: &str, args: Vec<Value>, reply: Option<ServerReply>);
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

    fn server_event(&self, event: &str, args: Vec<Value>, reply: Option<ServerReply>) {
        let Some(handler) = self.ns.server_events.get(event) else {
            tracing::debug!(event, "no handler for server-side event");
            return;
        };
        handler::run(handler(ServerEvent {
            args,
            state: self.state.clone(),
            reply,
        }));
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

/// Makes the adapter of a namespace (Node: the `adapter` option).
pub(crate) type AdapterFactory = Arc<dyn Fn(LocalNamespace) -> Arc<dyn Adapter> + Send + Sync>;

/// What every namespace of a server shares: the acknowledgement timeout and connection state
/// recovery.
#[derive(Clone)]
pub(crate) struct NsOptions {
    pub(crate) ack_timeout: Duration,
    pub(crate) recovery: Option<Arc<RecoveryConfig>>,
    pub(crate) parser: Parser,
    /// The server's observers, shared by every namespace (dynamic ones included).
    pub(crate) socket_observer: SocketObserverSlot,
    pub(crate) room_observer: RoomObserverSlot,
}

/// A namespace at run time: its name, its routes, its connected sockets and its adapter. The
/// join and leave sequences of a socket are here.
pub(crate) struct NsCore {
    name: String,
    pub(crate) routes: Arc<dyn Dispatch>,
    sockets: RwLock<SidMap<SocketRef>>,
    /// Connection state recovery: the connected sockets' ids by private id, so that a client
    /// back before its old connection was seen to go finds its socket without a scan of every
    /// socket (a reconnection storm would otherwise cost the square of the sockets).
    pids: std::sync::Mutex<std::collections::HashMap<String, Sid>>,
    adapter: Arc<dyn Adapter>,
    /// Acknowledgement ids, shared by every socket of the namespace (as in Node), so that a
    /// broadcast with acknowledgements is one packet for all.
    ack_ids: AtomicU64,
    ack_timeout: Duration,
    recovery: Option<Arc<RecoveryConfig>>,
    parser: Parser,
    socket_observer: SocketObserverSlot,
}

impl NsCore {
    /// A namespace with no sockets; its adapter made by `adapter` with the namespace's
    /// [`LocalNamespace`].
    pub(crate) fn new(
        name: String,
        routes: Arc<dyn Dispatch>,
        adapter: &AdapterFactory,
        options: &NsOptions,
    ) -> Arc<Self> {
        Arc::new_cyclic(|weak: &Weak<NsCore>| {
            let local: Weak<dyn LocalSockets> = weak.clone();
            NsCore {
                adapter: adapter(LocalNamespace::new(
                    &name,
                    local,
                    options.recovery.clone(),
                    options.parser,
                    options.room_observer.clone(),
                )),
                name,
                routes,
                sockets: RwLock::new(SidMap::default()),
                pids: std::sync::Mutex::default(),
                ack_ids: AtomicU64::new(0),
                ack_timeout: options.ack_timeout,
                recovery: options.recovery.clone(),
                parser: options.parser,
                socket_observer: options.socket_observer.clone(),
            }
        })
    }

    /// The server's [`SocketObserver`], if one is installed.
    pub(crate) fn socket_observer(&self) -> Option<Arc<dyn SocketObserver>> {
        self.socket_observer.get().cloned()
    }

    /// Connection state recovery's options, when it is on.
    pub(crate) fn recovery(&self) -> Option<&RecoveryConfig> {
        self.recovery.as_deref()
    }

    /// The connected socket whose private id (connection state recovery) is `pid`.
    pub(crate) fn socket_by_pid(&self, pid: &str) -> Option<SocketRef> {
        let sid = *self.lock_pids().get(pid)?;
        self.socket(sid).filter(|socket| socket.pid() == Some(pid))
    }

    fn lock_pids(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Sid>> {
        self.pids.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connected socket `sid`.
    pub(crate) fn socket(&self, sid: Sid) -> Option<SocketRef> {
        self.read().get(&sid).cloned()
    }

    /// The namespace's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, SidMap<SocketRef>> {
        self.sockets.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, SidMap<SocketRef>> {
        self.sockets.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The connected sockets.
    pub(crate) fn sockets(&self) -> Vec<SocketRef> {
        self.read().values().cloned().collect()
    }

    /// The number of connected sockets.
    pub(crate) fn socket_count(&self) -> usize {
        self.read().len()
    }

    /// The join sequence, once the middlewares admitted `socket`: it joins the namespace and
    /// its own room, the client gets the CONNECT answer (`v5`: with the socket id), then the
    /// connect handler runs with `auth`. Returns whether it joined: not when the client has
    /// gone, or joined the namespace already (another CONNECT, while the middlewares ran),
    /// which it checks under the lock of the client's sockets.
    pub(crate) fn join(
        &self,
        socket: &SocketRef,
        auth: Value,
        v5: bool,
        restored: Option<(Vec<Room>, Vec<EncodedPacket>)>,
    ) -> bool {
        let esock = &socket.engine;
        let mut joined = esock.data().sockets();
        if !esock.is_connected() {
            return false;
        }
        if let Some(other) = joined.get(&self.name) {
            tracing::debug!(
                ns = self.name,
                "already connected to the namespace: ignored"
            );
            // What this socket's middlewares did to the rooms is undone (a 2.x client's sockets
            // in `/` share their id, and so their rooms: then there is nothing of its own).
            if other.id() != socket.id() {
                drop(joined);
                self.refused(socket);
            }
            return false;
        }
        socket.set_connected(true);
        self.write().insert(socket.id(), socket.clone());
        if let Some(pid) = socket.pid() {
            self.lock_pids().insert(pid.to_owned(), socket.id());
        }
        socket.join(socket.id());
        joined.insert(self.name.clone(), socket.clone());
        let missed = match restored {
            Some((rooms, missed)) => {
                socket.join(rooms);
                Some(missed)
            }
            None => None,
        };
        let first = joined.len() == 1;
        drop(joined);
        if first {
            // The connect timeout has done its job.
            esock.clear_deadline();
        }
        let sid = socket.id();
        let answer = self.parser.encode_connect(
            &self.name,
            v5.then_some(sid.as_str()),
            socket.pid().filter(|_| v5),
        );
        // Paced as in Node: the connect handler's first packets reach the client in a read of
        // their own (see `Packet::Pause`).
        match missed {
            // What the client missed, in order, before the CONNECT answer (as Node sends it), at
            // once, however much: the log that kept it is bounded.
            Some(missed) => {
                let backlog = missed
                    .iter()
                    .map(|packet| (packet.text.clone(), packet.attachments.as_slice()))
                    .chain(std::iter::once((
                        answer.text.clone(),
                        answer.attachments.as_slice(),
                    )));
                let _ = esock.send_backlog(backlog, true);
            }
            None => {
                let _ = esock.send_encoded(answer.text, &answer.attachments, true, false);
            }
        }
        tracing::debug!(ns = self.name, %sid, "socket connected");
        if let Some(observer) = socket.observer() {
            observer.connected(socket);
        }
        self.routes.connected(socket.clone(), auth);
        true
    }

    /// A socket the middlewares refused: what they did to the rooms is undone.
    pub(crate) fn refused(&self, socket: &SocketRef) {
        self.adapter.del_all(socket.id());
    }
}

impl Nsp for NsCore {
    fn name(&self) -> &str {
        &self.name
    }

    fn adapter(&self) -> &dyn Adapter {
        &*self.adapter
    }

    fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    fn ack_timeout(&self) -> Duration {
        self.ack_timeout
    }

    fn parser(&self) -> Parser {
        self.parser
    }

    fn event(
        &self,
        socket: SocketRef,
        event: String,
        args: Vec<Value>,
        attachments: Vec<Bytes>,
        ack: Option<u64>,
    ) {
        if let Some(observer) = socket.observer() {
            observer.event_received(&socket, &event, &args);
        }
        self.routes.event(socket, event, args, attachments, ack);
    }

    fn leave(self: Arc<Self>, socket: &SocketRef, reason: DisconnectReason) {
        if !socket.set_connected(false) {
            return;
        }
        // Rooms are still readable here (Node: "disconnecting").
        self.routes.disconnecting(socket.clone(), reason);
        let session = socket
            .pid()
            .filter(|_| reason.is_recoverable() && !socket.is_superseded())
            .map(|pid| Session {
                sid: socket.id(),
                pid: pid.to_owned(),
                rooms: socket.rooms(),
                data: socket.data_value(),
                connected_at: socket.connected_at_ms(),
            });
        {
            let mut sockets = self.write();
            // Only this socket: a recovered one with the same id may have replaced it.
            if sockets
                .get(&socket.id())
                .is_some_and(|s| Arc::ptr_eq(s, socket))
            {
                sockets.remove(&socket.id());
                if let Some(pid) = socket.pid() {
                    let mut pids = self.lock_pids();
                    pids.remove(pid);
                    engine::shrink_map(&mut pids);
                }
            }
            engine::shrink_map(&mut sockets);
        }
        {
            let mut joined = socket.engine.data().sockets();
            if joined
                .get(self.name())
                .is_some_and(|s| Arc::ptr_eq(s, socket))
            {
                joined.remove(self.name());
            }
        }
        socket.drop_acks();
        self.adapter.del_all(socket.id());
        if let Some(session) = session {
            let persisted = self.adapter.persist_session(session);
            handler::run(Box::pin(async move {
                if let Err(error) = persisted.await {
                    tracing::warn!(%error, "connection state recovery: a session was not kept");
                }
            }));
        }
        tracing::debug!(ns = self.name, sid = %socket.id(), %reason, "socket disconnected");
        if let Some(observer) = socket.observer() {
            observer.disconnected(socket, reason);
        }
        self.routes.disconnected(socket.clone(), reason);
    }
}

/// What the adapter does with this server's sockets: broadcasts take the coalescing path.
impl LocalSockets for NsCore {
    fn send_to(&self, sids: &mut dyn Iterator<Item = Sid>, packet: EncodedPacket, volatile: bool) {
        let sent = self.observed(&packet);
        let EncodedPacket { text, attachments } = packet;
        coalesce::broadcast(text, attachments, volatile, |visit| {
            let sockets = self.read();
            let sockets = sids.filter_map(|sid| sockets.get(&sid));
            match &sent {
                None => sockets.for_each(visit),
                Some(sent) => sockets.for_each(|socket| sent.notify(socket, visit)),
            }
        });
    }

    fn send_all(&self, skip: Option<&dyn Fn(Sid) -> bool>, packet: EncodedPacket, volatile: bool) {
        if let Some(sent) = self.observed(&packet) {
            let EncodedPacket { text, attachments } = packet;
            return coalesce::broadcast(text, attachments, volatile, |visit| {
                let sockets = self.read();
                sockets
                    .values()
                    .filter(|socket| !skip.is_some_and(|skip| skip(socket.id())))
                    .for_each(|socket| sent.notify(socket, visit));
            });
        }
        let EncodedPacket { text, attachments } = packet;
        coalesce::broadcast(text, attachments, volatile, |visit| {
            let sockets = self.read();
            match skip {
                None => sockets.values().for_each(visit),
                Some(skip) => sockets
                    .values()
                    .filter(|socket| !skip(socket.id()))
                    .for_each(visit),
            }
        });
    }

    fn send_with_ack(
        &self,
        sids: &mut dyn Iterator<Item = Sid>,
        packet: EncodedPacket,
        answers: &Answers,
    ) -> usize {
        let id = Nsp::next_ack_id(self);
        let packet = packet.with_ack_id(id);
        let targets: Vec<SocketRef> = {
            let sockets = self.read();
            sids.filter_map(|sid| sockets.get(&sid).cloned()).collect()
        };
        targets
            .iter()
            .filter(|socket| socket.send_with_shared_ack(&packet, id, answers))
            .count()
    }

    fn sids(&self) -> Vec<Sid> {
        self.read().keys().copied().collect()
    }

    fn socket_info(&self, sid: Sid) -> Option<SocketInfo> {
        let socket = self.read().get(&sid).cloned()?;
        Some(socket.info())
    }

    fn server_event(&self, event: &str, args: Vec<Value>, reply: Option<ServerReply>) {
        self.routes.server_event(event, args, reply);
    }

    fn scope(&self, f: &mut dyn FnMut()) {
        coalesce::scope(f);
    }

    fn disconnect(&self, sid: Sid, close: bool) {
        let Some(socket) = self.read().get(&sid).cloned() else {
            return;
        };
        if close {
            socket.disconnect_client();
        } else {
            socket.disconnect();
        }
    }
}

/// A broadcast's event, decoded once for the socket observer.
struct Observed {
    observer: Arc<dyn SocketObserver>,
    event: String,
    args: Vec<Value>,
}

impl Observed {
    /// Tells the observer, then hands the socket on to the broadcast.
    fn notify(&self, socket: &SocketRef, visit: &mut dyn FnMut(&SocketRef)) {
        self.observer.event_sent(socket, &self.event, &self.args);
        visit(socket);
    }
}

impl NsCore {
    /// The broadcast's event when an observer wants it.
    fn observed(&self, packet: &EncodedPacket) -> Option<Observed> {
        let observer = self.socket_observer.get()?.clone();
        let (event, args) = crate::parser::decode_event(packet)?;
        Some(Observed {
            observer,
            event,
            args,
        })
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
