//! A hook on every socket's life: Node's `connection`/`disconnect`, `onAny`, `onAnyOutgoing`,
//! the socket's `upgrade` and its `data` changes, for all namespaces at once.

use std::sync::{Arc, OnceLock};

use super::{DisconnectReason, Socket};
use crate::value::Value;

/// Told of what happens to every socket of a server, in every namespace: what the admin UI
/// needs (Node's `socket.onAny` and `socket.onAnyOutgoing` catch-alls, connections,
/// disconnections, transport upgrades, `socket.data` updates), open to any other tool (metrics,
/// audit logs). Installed once per server with
/// [`SocketIo::observe_sockets`](crate::SocketIo::observe_sockets); every method does nothing by
/// default.
///
/// With no observer installed, nothing is decoded, cloned or allocated for it: each hook is one
/// check of an `Option`. With one, an outgoing event is decoded back into its arguments for
/// [`SocketObserver::event_sent`] (once per broadcast, not per recipient). The methods are called
/// from the task that made the change, sometimes with the namespace's locks held: they should
/// record or forward (to a channel, a broadcast) and return.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use tower_socketio::{Namespace, Socket, SocketIo, SocketObserver, SocketRef, Value};
/// use tower_socketio::testing::TestClient;
///
/// #[derive(Default)]
/// struct Log(Mutex<Vec<String>>);
/// impl SocketObserver for Log {
///     fn connected(&self, socket: &Socket) {
///         self.0.lock().unwrap().push(format!("connected to {}", socket.ns()));
///     }
///     fn event_received(&self, _: &Socket, event: &str, args: &[Value]) {
///         self.0.lock().unwrap().push(format!("in {event} {}", args.len()));
///     }
///     fn event_sent(&self, _: &Socket, event: &str, _: &[Value]) {
///         self.0.lock().unwrap().push(format!("out {event}"));
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("ping", |socket: SocketRef| async move {
///         let _ = socket.emit("pong", &());
///     }))
///     .build();
/// let log = Arc::new(Log::default());
/// io.observe_sockets(log.clone()).unwrap();
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// client.emit("ping", &(1, 2)).await.unwrap();
/// let _ = client.recv().await.unwrap();
/// assert_eq!(*log.0.lock().unwrap(), ["connected to /", "in ping 2", "out pong"]);
/// # });
/// ```
#[allow(unused_variables)]
pub trait SocketObserver: Send + Sync + 'static {
    /// The socket is connected to its namespace, before the namespace's connect handler runs
    /// (Node's admin UI listens with `prependListener("connection")`).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{DisconnectReason, Namespace, Socket, SocketIo, SocketObserver, SocketRef, Value};
    ///
    /// #[derive(Default)]
    /// struct Seen(Mutex<Vec<String>>);
    /// impl SocketObserver for Seen {
    ///     fn connected(&self, socket: &Socket) {
    ///         self.0.lock().unwrap().push(format!("{} joined {}", socket.id(), socket.ns()));
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("save", |s: SocketRef| async move { let _ = s.set_data(&1); }))
    ///     .build();
    /// let seen = Arc::new(Seen::default());
    /// io.observe_sockets(seen.clone()).unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// assert_eq!(*seen.0.lock().unwrap(), [format!("{} joined /", io.sockets("/")[0].id())]);
    /// # let _ = (DisconnectReason::TransportClose, Value::Null, &mut client);
    /// # });
    /// ```
    fn connected(&self, socket: &Socket) {}

    /// The socket left its namespace, after its rooms were left and before the namespace's
    /// disconnect handler runs.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{DisconnectReason, Namespace, Socket, SocketIo, SocketObserver, SocketRef, Value};
    ///
    /// #[derive(Default)]
    /// struct Seen(Mutex<Vec<String>>);
    /// impl SocketObserver for Seen {
    ///     fn disconnected(&self, _: &Socket, reason: DisconnectReason) {
    ///         self.0.lock().unwrap().push(reason.to_string());
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("save", |s: SocketRef| async move { let _ = s.set_data(&1); }))
    ///     .build();
    /// let seen = Arc::new(Seen::default());
    /// io.observe_sockets(seen.clone()).unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// io.sockets("/")[0].disconnect();
    /// assert_eq!(*seen.0.lock().unwrap(), ["server namespace disconnect"]);
    /// # let _ = (DisconnectReason::TransportClose, Value::Null, &mut client);
    /// # });
    /// ```
    fn disconnected(&self, socket: &Socket, reason: DisconnectReason) {}

    /// An event from the client (Node's `socket.onAny`), before the packet middlewares and the
    /// handler; without the acknowledgement callback, binary attachments in place.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{DisconnectReason, Namespace, Socket, SocketIo, SocketObserver, SocketRef, Value};
    ///
    /// #[derive(Default)]
    /// struct Seen(Mutex<Vec<String>>);
    /// impl SocketObserver for Seen {
    ///     fn event_received(&self, _: &Socket, event: &str, args: &[Value]) {
    ///         self.0.lock().unwrap().push(format!("{event}/{}", args.len()));
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("save", |s: SocketRef| async move { let _ = s.set_data(&1); }))
    ///     .build();
    /// let seen = Arc::new(Seen::default());
    /// io.observe_sockets(seen.clone()).unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.emit("hello", &(1, "two")).await.unwrap();
    /// assert_eq!(*seen.0.lock().unwrap(), ["hello/2"]);
    /// # let _ = (DisconnectReason::TransportClose, Value::Null, &mut client);
    /// # });
    /// ```
    fn event_received(&self, socket: &Socket, event: &str, args: &[Value]) {}

    /// An event is sent to the client (Node's `socket.onAnyOutgoing`): `socket.emit`, its
    /// `emit_with_ack`, and each recipient of a broadcast on this server. Acknowledgement answers
    /// are not events.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{DisconnectReason, Namespace, Socket, SocketIo, SocketObserver, SocketRef, Value};
    ///
    /// #[derive(Default)]
    /// struct Seen(Mutex<Vec<String>>);
    /// impl SocketObserver for Seen {
    ///     fn event_sent(&self, _: &Socket, event: &str, _: &[Value]) {
    ///         self.0.lock().unwrap().push(event.to_owned());
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("save", |s: SocketRef| async move { let _ = s.set_data(&1); }))
    ///     .build();
    /// let seen = Arc::new(Seen::default());
    /// io.observe_sockets(seen.clone()).unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let _ = io.emit("news", &"a broadcast"); // each recipient is told
    /// let _ = client.recv().await.unwrap();
    /// assert_eq!(*seen.0.lock().unwrap(), ["news"]);
    /// # let _ = (DisconnectReason::TransportClose, Value::Null, &mut client);
    /// # });
    /// ```
    fn event_sent(&self, socket: &Socket, event: &str, args: &[Value]) {}

    /// The socket's connection moved from HTTP long-polling to WebSocket
    /// ([`Socket::transport`](crate::Socket::transport) says `websocket` from now on).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{DisconnectReason, Namespace, Socket, SocketIo, SocketObserver, SocketRef, Value};
    ///
    /// #[derive(Default)]
    /// struct Seen(Mutex<Vec<String>>);
    /// impl SocketObserver for Seen {
    ///     fn transport_upgraded(&self, socket: &Socket) {
    ///         self.0.lock().unwrap().push(socket.transport().to_string());
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("save", |s: SocketRef| async move { let _ = s.set_data(&1); }))
    ///     .build();
    /// let seen = Arc::new(Seen::default());
    /// io.observe_sockets(seen.clone()).unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// // The test client stays on long-polling: no upgrade to report.
    /// assert_eq!(*seen.0.lock().unwrap(), Vec::<String>::new());
    /// # let _ = (DisconnectReason::TransportClose, Value::Null, &mut client);
    /// # });
    /// ```
    fn transport_upgraded(&self, socket: &Socket) {}

    /// [`Socket::set_data`](crate::Socket::set_data) replaced the socket's data.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{DisconnectReason, Namespace, Socket, SocketIo, SocketObserver, SocketRef, Value};
    ///
    /// #[derive(Default)]
    /// struct Seen(Mutex<Vec<String>>);
    /// impl SocketObserver for Seen {
    ///     fn data_updated(&self, socket: &Socket) {
    ///         self.0.lock().unwrap().push(socket.data::<i64>().unwrap().to_string());
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("save", |s: SocketRef| async move { let _ = s.set_data(&1); }))
    ///     .build();
    /// let seen = Arc::new(Seen::default());
    /// io.observe_sockets(seen.clone()).unwrap();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// client.emit("save", &()).await.unwrap();
    /// assert_eq!(*seen.0.lock().unwrap(), ["1"]);
    /// # let _ = (DisconnectReason::TransportClose, Value::Null, &mut client);
    /// # });
    /// ```
    fn data_updated(&self, socket: &Socket) {}
}

/// Where a server's [`SocketObserver`] goes: shared by its namespaces, set at most once.
pub(crate) type SocketObserverSlot = Arc<OnceLock<Arc<dyn SocketObserver>>>;
