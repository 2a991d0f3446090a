//! Broadcast operators: choose sockets (rooms, exceptions, this server only), then emit to them
//! or act on them, on the server, a namespace or a socket (Node: `io.to(...)`,
//! `socket.broadcast`, `io.fetchSockets()`...).

pub(crate) mod coalesce;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

mod remote;

use crate::adapter::{AdapterFuture, Answers, BroadcastOptions, Gathered, IntoRooms};
use crate::engine::{self, EncodedSendError, Sid};
use crate::error::{AckError, BroadcastError, EmitError};

use crate::socket::{Nsp, Socket};
use crate::value::Value;

pub use remote::RemoteSocket;

/// What a broadcast with acknowledgement (or a server-side emit with answers) got back, from
/// every server.
///
/// ```
/// # async fn f(io: tower_socketio::SocketIo) -> Result<(), tower_socketio::BroadcastError> {
/// use std::time::Duration;
///
/// let poll = io
///     .to("voters")
///     .timeout(Duration::from_secs(5))
///     .emit_with_ack::<_, String>("favourite colour?", &())
///     .await?;
/// let colours: Vec<String> = poll.answers.into_iter().filter_map(Result::ok).collect();
/// tracing::info!(
///     answered = colours.len(),
///     asked = poll.expected,
///     all_in = poll.complete,
///     "poll closed"
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct AckAnswers<R> {
    /// Each answer that arrived in time, in arrival order; one that does not deserialize into
    /// `R` is an error.
    pub answers: Vec<Result<R, AckError>>,
    /// How many answers were expected: the clients the packet reached on the servers that
    /// reported in time (for a server-side emit, the other servers).
    pub expected: usize,
    /// Whether everything expected arrived in time. When not, Node fails the operation ("operation
    /// has timed out") with the answers that came.
    pub complete: bool,
}

impl<R: DeserializeOwned> AckAnswers<R> {
    fn read(gathered: Gathered) -> Self {
        AckAnswers {
            answers: gathered
                .answers
                .into_iter()
                .map(|answer| answer.deserialize_into().map_err(AckError::Deserialize))
                .collect(),
            expected: gathered.expected,
            complete: gathered.complete,
        }
    }
}

/// The arguments `data` makes after the event name `event`, as `emit` lays them out.
fn encode_args_values<T: Serialize + ?Sized>(
    event: &str,
    data: &T,
) -> Result<Vec<Value>, EmitError> {
    crate::parser::event_args(event, data)
}

/// A selection of sockets of one namespace, and what to do with them.
///
/// Made by [`SocketIo::to`](crate::SocketIo::to) and its siblings (namespace `/`),
/// [`SocketIo::of`](crate::SocketIo::of) (any namespace), [`Socket::to`],
/// [`Socket::broadcast`] and [`Socket::nsp`]; each method narrows the selection or sets an
/// option and returns the operator, until an operation ([`emit`](Self::emit),
/// [`fetch_sockets`](Self::fetch_sockets), [`sockets_join`](Self::sockets_join)...) acts.
///
/// ```no_run
/// # fn f(io: tower_socketio::SocketIo, socket: tower_socketio::SocketRef) {
/// // Everyone in "lobby" or "games" but those in "muted":
/// let _ = io.to(["lobby", "games"]).except("muted").emit("news", "hello");
/// // Everyone in the sender's room but the sender:
/// let _ = socket.to("lobby").emit("message", "hi all");
/// # }
/// ```
///
/// A run, with two clients:
///
/// ```
/// use tower_socketio::extract::{Data, AckSender};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ns = Namespace::new()
///     .on("join", |socket: SocketRef, ack: AckSender, Data(room): Data<String>| async move {
///         socket.join(room);
///         let _ = ack.send("ok");
///     });
/// let io = SocketIo::builder().ns("/", ns).build();
/// let app = axum::Router::new().layer(io.layer());
///
/// let mut alice = TestClient::connect(app.clone(), "/").await.unwrap();
/// let mut bob = TestClient::connect(app, "/").await.unwrap();
/// let _: String = alice.emit_with_ack("join", "games").await.unwrap();
///
/// let _ = io.to("games").emit("news", "games only");
/// let _ = io.except("games").emit("news", "not for games");
/// assert_eq!(alice.recv().await.unwrap().1, [Value::from("games only")]);
/// assert_eq!(bob.recv().await.unwrap().1, [Value::from("not for games")]);
/// # }
/// ```
#[derive(Clone)]
#[must_use = "a broadcast operator sends nothing until `emit` (or another operation) is called"]
pub struct BroadcastOperator {
    ns: Arc<dyn Nsp>,
    opts: BroadcastOptions,
}

impl std::fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("ns", &self.ns.name())
            .field("opts", &self.opts)
            .finish()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<dyn Nsp>) -> Self {
        BroadcastOperator {
            ns,
            opts: BroadcastOptions::default(),
        }
    }

    /// Excludes one socket (the sender, for `socket.to(...)` and `socket.broadcast()`).
    pub(crate) fn excluding(mut self, sid: Sid) -> Self {
        self.opts.except.insert(sid.to_string());
        self
    }

    /// Targets the sockets in these rooms (added to the rooms already chosen) (Node: `to`): a
    /// socket in several of them gets the packet once.
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo) {
    /// // The sockets in "red" or "blue", each once.
    /// let _ = io.to("red").to("blue").emit("team-news", "half-time");
    /// let _ = io.to(["red", "blue"]).emit("team-news", "half-time"); // the same
    /// # }
    /// ```
    pub fn to(mut self, rooms: impl IntoRooms) -> Self {
        self.opts.rooms.extend(rooms.into_rooms());
        self
    }

    /// The same as [`to`](Self::to) (Node: `in`).
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// let in_game = io.of("/").unwrap().within("game-42").fetch_sockets().await.unwrap();
    /// # let _ = in_game;
    /// # }
    /// ```
    pub fn within(self, rooms: impl IntoRooms) -> Self {
        self.to(rooms)
    }

    /// Leaves out the sockets in these rooms (Node: `except`); the exception wins over
    /// [`to`](Self::to).
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo) {
    /// // Everyone in "lobby" who has not muted the announcements.
    /// let _ = io.to("lobby").except("muted").emit("announcement", "doors open at 8");
    /// # }
    /// ```
    pub fn except(mut self, rooms: impl IntoRooms) -> Self {
        self.opts.except.extend(rooms.into_rooms());
        self
    }

    /// This server's sockets only, when an adapter spans several servers (Node: `local`).
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo) {
    /// // Only the clients of this server: it is about to restart.
    /// let _ = io.of("/").unwrap().local().emit("maintenance", "reconnecting in 10 s");
    /// # }
    /// ```
    pub fn local(mut self) -> Self {
        self.opts.local = true;
        self
    }

    /// The packet may be dropped for clients that cannot take it now (their send buffer is
    /// full), silently (Node: `volatile`): for data that the next packet makes stale.
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo, x: f32, y: f32) {
    /// // Positions, 30 times a second: a client that lags behind skips some.
    /// let _ = io.to("game-42").volatile().emit("position", &(x, y));
    /// # }
    /// ```
    pub fn volatile(mut self) -> Self {
        self.opts.volatile = true;
        self
    }

    /// Accepted for Node parity (`compress`), and carried to other servers; has no effect
    /// here: the WebSocket engine has no per-message compression, and long-polling responses
    /// are compressed by size ([`EngineConfig::http_compression`]) whatever the packets' flag
    /// (Node leaves a poll uncompressed only when every packet in it has `compress(false)`).
    ///
    /// [`EngineConfig::http_compression`]: crate::EngineConfig::http_compression
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo) {
    /// let _ = io.to("lobby").compress(false).emit("tick", &()); // as `io.to("lobby").emit(...)`
    /// # }
    /// ```
    pub fn compress(mut self, compress: bool) -> Self {
        self.opts.compress = compress;
        self
    }

    /// How long [`emit_with_ack`](Self::emit_with_ack) and
    /// [`server_side_emit_with_ack`](Self::server_side_emit_with_ack) wait for the answers
    /// (default: the server's ack timeout, 5 s) (Node: `timeout`).
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// use std::time::Duration;
    ///
    /// let ready = io.to("players").timeout(Duration::from_secs(10)).emit_with_ack::<_, bool>("ready?", &()).await;
    /// # let _ = ready;
    /// # }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.timeout = Some(timeout);
        self
    }

    fn ack_timeout(&self) -> Duration {
        self.opts.timeout.unwrap_or_else(|| self.ns.ack_timeout())
    }

    /// Emits `event` with `data` (the same argument rules as
    /// [`Socket::emit`](crate::Socket::emit)) to every targeted socket. The packet is encoded
    /// once and queued for this server's sockets before this returns; the returned [`Emitted`]
    /// can be dropped, or awaited to learn whether the other servers (if any) were reached.
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move { socket.join("lobby") }))
    ///     .build();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    ///
    /// // Fire and forget...
    /// let _ = io.to("lobby").emit("news", "one");
    /// // ...or wait until every server of the cluster has it (here there is only this one).
    /// io.to("lobby").emit("news", &("two", 2)).await.unwrap();
    /// assert_eq!(client.recv().await.unwrap().1, [Value::from("one")]);
    /// assert_eq!(client.recv().await.unwrap().1, [Value::from("two"), Value::from(2i64)]);
    /// # }
    /// ```
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Emitted {
        let packet = match self
            .ns
            .parser()
            .encode_event(self.ns.name(), event, data, None)
        {
            Ok(packet) => packet,
            Err(error) => return Emitted::failed(error),
        };
        Emitted::pending(self.ns.adapter().broadcast(packet, &self.opts))
    }

    /// Emits `event` to every targeted socket, on every server, with an acknowledgement
    /// request, and gathers the answers (each client's first argument, as Node relays them)
    /// until every targeted client answered or the [timeout](Self::timeout) passed. The packet
    /// is queued for this server's sockets before this returns.
    ///
    /// ```no_run
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// use std::time::Duration;
    ///
    /// let answers = io
    ///     .to("voters")
    ///     .timeout(Duration::from_secs(3))
    ///     .emit_with_ack::<_, bool>("vote?", "lunch at noon")
    ///     .await
    ///     .unwrap();
    /// let yes = answers.answers.iter().filter(|a| matches!(a, Ok(true))).count();
    /// if !answers.complete {
    ///     // Node: "operation has timed out"; `yes` counts the answers that came.
    /// }
    /// # let _ = yes;
    /// # }
    /// ```
    pub fn emit_with_ack<T: Serialize + ?Sized, R: DeserializeOwned + Send + 'static>(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<AckAnswers<R>, BroadcastError>> + Send + 'static + use<T, R>
    {
        let answers = Answers::new();
        let sent = self
            .ns
            .parser()
            .encode_event(self.ns.name(), event, data, None)
            .map(|packet| {
                self.ns
                    .adapter()
                    .broadcast_with_ack(packet, &self.opts, answers.clone())
            });
        let timeout = self.ack_timeout();
        async move {
            sent.map_err(BroadcastError::Emit)?
                .await
                .map_err(BroadcastError::Adapter)?;
            Ok(AckAnswers::read(answers.gathered(timeout).await))
        }
    }

    /// Emits server-side event `event` with `data` (the same argument rules as
    /// [`Socket::emit`](crate::Socket::emit)) to this namespace on the other servers of the
    /// cluster, whose handler is [`Namespace::on_server_event`](crate::Namespace::on_server_event)
    /// (Node: `serverSideEmit`). This server's handler does not get it; alone, nobody does.
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// // Every other server drops its cache of user 42.
    /// let _ = io.of("/").unwrap().server_side_emit("invalidate", &("user", 42)).await;
    /// # }
    /// ```
    pub fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<(), BroadcastError>> + Send + 'static + use<T> {
        let sent = encode_args_values(event, data)
            .map(|args| self.ns.adapter().server_side_emit(event, args, None));
        async move {
            sent.map_err(BroadcastError::Emit)?
                .await
                .map_err(BroadcastError::Adapter)
        }
    }

    /// [`server_side_emit`](Self::server_side_emit), gathering each other server's answer until
    /// all answered or the [timeout](Self::timeout) passed (Node: `serverSideEmit` with a
    /// callback).
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// use std::time::Duration;
    ///
    /// // Each other server answers with its number of clients (its `on_server_event("clients")`).
    /// let answers = io
    ///     .of("/")
    ///     .unwrap()
    ///     .timeout(Duration::from_secs(2))
    ///     .server_side_emit_with_ack::<_, usize>("clients", &())
    ///     .await
    ///     .unwrap();
    /// let elsewhere: usize = answers.answers.into_iter().filter_map(Result::ok).sum();
    /// # let _ = elsewhere;
    /// # }
    /// ```
    pub fn server_side_emit_with_ack<
        T: Serialize + ?Sized,
        R: DeserializeOwned + Send + 'static,
    >(
        &self,
        event: &str,
        data: &T,
    ) -> impl Future<Output = Result<AckAnswers<R>, BroadcastError>> + Send + 'static + use<T, R>
    {
        let answers = Answers::new();
        let sent = encode_args_values(event, data).map(|args| {
            self.ns
                .adapter()
                .server_side_emit(event, args, Some(answers.clone()))
        });
        let timeout = self.ack_timeout();
        async move {
            sent.map_err(BroadcastError::Emit)?
                .await
                .map_err(BroadcastError::Adapter)?;
            Ok(AckAnswers::read(answers.gathered(timeout).await))
        }
    }

    /// How many servers share this namespace, this one included (Node: `serverCount`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = tower_socketio::SocketIo::builder().build();
    /// assert_eq!(io.of("/").unwrap().server_count().await.unwrap(), 1); // the memory adapter
    /// # }
    /// ```
    pub fn server_count(&self) -> AdapterFuture<usize> {
        self.ns.adapter().server_count()
    }

    /// The targeted sockets, on every server (Node: `fetchSockets`), as [`RemoteSocket`]s.
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move { socket.join("lobby") }))
    ///     .build();
    /// let client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    ///
    /// let in_lobby = io.to("lobby").fetch_sockets().await.unwrap();
    /// assert_eq!(in_lobby.len(), 1);
    /// assert_eq!(in_lobby[0].id().as_str(), client.socket_id());
    /// assert!(io.to("kitchen").fetch_sockets().await.unwrap().is_empty());
    /// # }
    /// ```
    pub fn fetch_sockets(
        &self,
    ) -> impl Future<Output = Result<Vec<RemoteSocket>, BroadcastError>> + Send + 'static + use<>
    {
        let found = self.ns.adapter().fetch_sockets(&self.opts);
        let ns = self.ns.clone();
        async move {
            let found = found.await.map_err(BroadcastError::Adapter)?;
            Ok(found
                .into_iter()
                .map(|info| RemoteSocket::new(info, ns.clone()))
                .collect())
        }
    }

    /// Makes the targeted sockets join `rooms` (Node: `socketsJoin`).
    ///
    /// ```
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, Value};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().ns("/", Namespace::new()).build();
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    ///
    /// // Every socket of `/` joins "everyone".
    /// io.of("/").unwrap().sockets_join("everyone").await.unwrap();
    /// let _ = io.to("everyone").emit("hi", "all");
    /// assert_eq!(client.recv().await.unwrap().1, [Value::from("all")]);
    /// # }
    /// ```
    pub fn sockets_join(&self, rooms: impl IntoRooms) -> AdapterFuture<()> {
        self.ns
            .adapter()
            .add_sockets(&self.opts, &rooms.into_rooms())
    }

    /// Makes the targeted sockets leave `rooms` (Node: `socketsLeave`).
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// // The game is over: its players leave its room, wherever they are connected.
    /// let _ = io.to("game-42").sockets_leave("game-42").await;
    /// # }
    /// ```
    pub fn sockets_leave(&self, rooms: impl IntoRooms) -> AdapterFuture<()> {
        self.ns
            .adapter()
            .del_sockets(&self.opts, &rooms.into_rooms())
    }

    /// Disconnects the targeted sockets (their clients get a DISCONNECT packet: "io server
    /// disconnect"); with `close`, every namespace of their connections too, and the connections
    /// close (Node: `disconnectSockets(close)`, [`Socket::disconnect_client`]).
    ///
    /// ```
    /// # async fn f(io: tower_socketio::SocketIo) {
    /// // Out of the admin namespace, but still connected elsewhere.
    /// if let Some(admin) = io.of("/admin") {
    ///     let _ = admin.disconnect_sockets(false).await;
    /// }
    /// // The banned clients lose their whole connection.
    /// let _ = io.to("banned").disconnect_sockets(true).await;
    /// # }
    /// ```
    pub fn disconnect_sockets(&self, close: bool) -> AdapterFuture<()> {
        self.ns.adapter().disconnect_sockets(&self.opts, close)
    }
}

/// Broadcasting from a socket (these methods of [`Socket`] live here, with the operator they
/// make).
impl Socket {
    /// Targets the sockets in `rooms`, this one excepted (Node: `socket.to(room)`).
    ///
    /// ```
    /// use tower_socketio::extract::{AckSender, Data};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let ns = Namespace::new()
    ///     .on_connect(|socket: SocketRef| async move { socket.join("chat") })
    ///     .on("say", |socket: SocketRef, ack: AckSender, Data(text): Data<String>| async move {
    ///         let _ = socket.to("chat").emit("said", &text); // not back to the sender
    ///         let _ = ack.send("ok");
    ///     });
    /// let io = SocketIo::builder().ns("/", ns).build();
    /// let app = axum::Router::new().layer(io.layer());
    /// let mut alice = TestClient::connect(app.clone(), "/").await.unwrap();
    /// let mut bob = TestClient::connect(app, "/").await.unwrap();
    ///
    /// let _: String = alice.emit_with_ack("say", "hi bob").await.unwrap();
    /// assert_eq!(bob.recv().await.unwrap(), ("said".into(), vec![Value::from("hi bob")]));
    /// // Alice's next event is the next one for everyone: she did not get her own.
    /// let _ = io.emit("end", &());
    /// assert_eq!(alice.recv().await.unwrap().0, "end");
    /// # }
    /// ```
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// The same as [`to`](Self::to) (Node: `socket.in(room)`).
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// let _ = socket.within("game-42").emit("player-moved", &(socket.id(), 3, 4));
    /// # }
    /// ```
    pub fn within(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.to(rooms)
    }

    /// Targets every socket of the namespace, this one included (Node: `socket.nsp`, whose
    /// name is [`ns`](Self::ns)).
    ///
    /// ```
    /// # fn f(socket: tower_socketio::SocketRef) {
    /// // Everyone in the socket's namespace, itself included.
    /// let _ = socket.nsp().emit("joined", &socket.id());
    /// // Everyone in "lobby", itself included if it is there.
    /// let _ = socket.nsp().to("lobby").emit("lobby-news", "hello");
    /// # }
    /// ```
    pub fn nsp(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.nsp_ref().clone())
    }

    /// Targets every socket of the namespace but this one (Node: `socket.broadcast`).
    ///
    /// ```
    /// use tower_socketio::{Namespace, SocketRef};
    ///
    /// let ns: Namespace = Namespace::new().on_connect(|socket: SocketRef| async move {
    ///     let _ = socket.broadcast().emit("user-joined", &socket.id());
    /// });
    /// # let _ = ns;
    /// ```
    pub fn broadcast(&self) -> BroadcastOperator {
        self.nsp().excluding(self.id())
    }
}

/// Broadcasts reach a socket while it is connected to its namespace.
impl coalesce::Recipient for Socket {
    fn send_now(
        &self,
        text: &engine::Str,
        attachments: &[bytes::Bytes],
        volatile: bool,
    ) -> Result<(), EncodedSendError> {
        self.send_encoded(text, attachments, volatile)
    }

    fn send_run(&self, run: &Arc<engine::run::Run>) -> Result<(), EncodedSendError> {
        if !self.is_connected() {
            return Err(EncodedSendError::Closed);
        }
        self.engine.send_run(run)
    }
}

/// What [`BroadcastOperator::emit`] returns: this server's sockets already have the packet
/// queued; `.await` it to know whether the other servers (with a multi-server adapter) were
/// reached, or drop it.
///
/// ```
/// # async fn f(io: tower_socketio::SocketIo) {
/// use tower_socketio::BroadcastError;
///
/// match io.to("lobby").emit("news", "hello").await {
///     Ok(()) => {}
///     Err(BroadcastError::Adapter(error)) => tracing::warn!(%error, "other servers missed it"),
///     Err(error) => tracing::error!(%error),
/// }
/// # }
/// ```
pub struct Emitted {
    inner: Result<AdapterFuture<()>, EmitError>,
}

impl Emitted {
    fn failed(error: EmitError) -> Self {
        Emitted { inner: Err(error) }
    }

    fn pending(future: AdapterFuture<()>) -> Self {
        Emitted { inner: Ok(future) }
    }

    /// Whether encoding succeeded (the packet was queued for this server's sockets).
    ///
    /// ```
    /// # fn f(io: tower_socketio::SocketIo) {
    /// assert!(io.emit("news", "hello").is_ok());
    /// assert!(!io.emit("connect", "hello").is_ok()); // a reserved event name
    /// # }
    /// ```
    pub fn is_ok(&self) -> bool {
        self.inner.is_ok()
    }
}

impl std::fmt::Debug for Emitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitted")
            .field("ok", &self.is_ok())
            .finish()
    }
}

impl std::future::IntoFuture for Emitted {
    type Output = Result<(), BroadcastError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        match self.inner {
            Ok(future) => Box::pin(async move { future.await.map_err(BroadcastError::Adapter) }),
            Err(error) => Box::pin(std::future::ready(Err(BroadcastError::Emit(error)))),
        }
    }
}
