//! # tower-socketio
//!
//! A [Socket.IO](https://socket.io) server for Rust, shipped as a tower [`Layer`]: add
//! `.layer(io.layer())` to an axum, hyper or plain tower app and the official Socket.IO clients
//! (JavaScript, Swift, Kotlin, Python...) can talk to it, over WebSocket or HTTP long-polling.
//!
//! ```no_run
//! use tower_socketio::{Namespace, SocketIo, SocketRef};
//! use tower_socketio::extract::Data;
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = SocketIo::builder()
//!     .ns("/", Namespace::new().on("ping", |socket: SocketRef, Data(n): Data<u32>| async move {
//!         let _ = socket.emit("pong", &(n + 1));
//!     }))
//!     .build();
//! io.listen("0.0.0.0:3000").await
//! # }
//! ```
//!
//! ## Contents
//! - [Concepts](#concepts): the pieces and where they live
//! - [Handlers](#handlers): async functions routed to events
//! - [Extractors](#extractors): a handler's arguments
//! - [Acknowledgements](#acknowledgements): answers, both ways
//! - [Rooms and broadcasts](#rooms-and-broadcasts): emitting to many
//! - [State](#state): the application's, and each socket's
//! - [Middlewares](#middlewares): refusing connections and events
//! - [Adapters](#adapters): rooms across servers, Redis
//! - [Connection state recovery](#connection-state-recovery): clients that come back
//! - [Features](#features): the cargo features
//! - [Testing](#testing): an in-process client
//! - [One event's way through](#one-events-way-through): the modules, in order
//!
//! ## Concepts
//! - **Engine** ([`engine`]): the transport. One Engine.IO session a client connection, over
//!   HTTP long-polling or WebSocket (with the upgrade between them), with heartbeats and limits;
//!   protocol v4 (clients 3.x/4.x) and v3 (clients 2.x). Usable alone as a raw message API.
//! - **Namespaces** ([`Namespace`]): the routes. A client multiplexes several namespaces on one
//!   connection; each namespace declares its connection middlewares and its connect, event and
//!   disconnect handlers once, for all its sockets.
//! - **Sockets** ([`Socket`]): one client in one namespace: emit, acknowledgements, rooms,
//!   per-socket data.
//! - **Handlers and extractors** ([`extract`]): handlers are async functions whose arguments are
//!   extracted from the packet, like axum's.
//! - **Rooms and broadcasts** ([`BroadcastOperator`]): named groups of sockets, and emits to
//!   many sockets at once, encoded once.
//! - **Adapters** ([`adapter`]): where rooms live and broadcasts go; in memory by default, the
//!   boundary for multi-server setups.
//!
//! ## Handlers
//! A handler is an `async fn`, or a closure returning a future, whose arguments are
//! [extractors](#extractors) ([`Handler`]). A [`Namespace`] routes to them, once for all its
//! sockets: [`on`](Namespace::on) (an event), [`fallback`](Namespace::fallback) (events no route
//! matches), [`on_connect`](Namespace::on_connect),
//! [`on_disconnecting`](Namespace::on_disconnecting), [`on_disconnect`](Namespace::on_disconnect),
//! and [`middleware`](Namespace::middleware) (whose future yields `Result<(), ConnectError>`).
//!
//! A handler runs at once, in the task that read the packet, until its first `.await`; only a
//! handler still pending then gets a task of its own. So one client's events reach their handlers
//! in order, and what a handler emits before it awaits leaves in order. A panicking handler is
//! caught and logged.
//!
//! ```
//! use tower_socketio::extract::{AckSender, Data};
//! use tower_socketio::{Namespace, SocketRef};
//!
//! async fn on_join(socket: SocketRef, ack: AckSender, Data(room): Data<String>) {
//!     socket.join(room.clone());
//!     let _ = ack.send(&format!("joined {room}"));
//! }
//!
//! let ns: Namespace = Namespace::new()
//!     .on("join", on_join)
//!     .on("leave", |socket: SocketRef, Data(room): Data<String>| async move { socket.leave(room) });
//! # let _ = ns;
//! ```
//!
//! ## Extractors
//! What a handler takes, from the socket or the packet ([`extract`] has the table):
//! [`SocketRef`], [`Data<T>`](extract::Data) (the arguments, or the CONNECT auth payload,
//! deserialized), [`TryData<T>`](extract::TryData), [`Args`](extract::Args) (every argument as a
//! [`Value`]), [`Bin`](extract::Bin) (the binary attachments), [`AckSender`](extract::AckSender),
//! [`Event`](extract::Event), [`State<S>`](extract::State), [`Extension<T>`](extract::Extension),
//! [`MaybeExtension<T>`](extract::MaybeExtension), [`Handshake`],
//! [`Recovered`](extract::Recovered) and [`DisconnectReason`]. At most one of those that take the
//! packet's arguments (`Data`, `TryData`, `Args`, `Bin`: [`FromMessage`](extract::FromMessage)),
//! as the last argument; the others ([`FromSocket`](extract::FromSocket)) go anywhere. Your own
//! extractors implement one of the two traits on a
//! [`HandlerContext`](extract::HandlerContext). An extractor that fails
//! ([`ExtractError`](extract::ExtractError)) keeps the handler from being called; a client that
//! asked for an acknowledgement gets the error's message.
//!
//! ## Acknowledgements
//! Both ways, as in Node:
//! - the client asks (`socket.emit("ev", data, (answer) => ...)`): the handler answers with
//!   [`AckSender::send`](extract::AckSender::send);
//! - the server asks one client: [`Socket::emit_with_ack`] returns an [`AckFuture`], the answer
//!   read into any `Deserialize` type, or an [`AckError`] (timeout:
//!   [`AckFuture::timeout`], default [`SocketIoBuilder::ack_timeout`]);
//! - the server asks many: [`BroadcastOperator::emit_with_ack`] gathers every answer, on every
//!   server, into [`AckAnswers`].
//!
//! ```
//! use tower_socketio::extract::{AckSender, Data};
//! use tower_socketio::testing::TestClient;
//! use tower_socketio::{Namespace, SocketIo};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let io = SocketIo::builder()
//!     .ns("/", Namespace::new().on("square", |ack: AckSender, Data(n): Data<i64>| async move {
//!         let _ = ack.send(&(n * n));
//!     }))
//!     .build();
//!
//! let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
//! let answer: i64 = client.emit_with_ack("square", &7).await.unwrap();
//! assert_eq!(answer, 49);
//! # }
//! ```
//!
//! ## Rooms and broadcasts
//! A socket [joins](Socket::join) and [leaves](Socket::leave) rooms (any name, or several:
//! [`IntoRooms`]); every socket is in the room named by its id ([`Socket::rooms`]). A
//! [`BroadcastOperator`] selects sockets of one namespace and acts on them:
//! - from the server: [`SocketIo::to`], [`except`](SocketIo::except), [`emit`](SocketIo::emit)
//!   (namespace `/`), [`SocketIo::of`] (any namespace);
//! - from a socket: [`Socket::to`] and [`Socket::broadcast`] (the sender left out),
//!   [`Socket::nsp`] (the sender included);
//! - then [`to`](BroadcastOperator::to), [`except`](BroadcastOperator::except),
//!   [`local`](BroadcastOperator::local), [`volatile`](BroadcastOperator::volatile),
//!   [`timeout`](BroadcastOperator::timeout), and an operation:
//!   [`emit`](BroadcastOperator::emit), [`emit_with_ack`](BroadcastOperator::emit_with_ack),
//!   [`fetch_sockets`](BroadcastOperator::fetch_sockets) (as [`RemoteSocket`]s),
//!   [`sockets_join`](BroadcastOperator::sockets_join),
//!   [`sockets_leave`](BroadcastOperator::sockets_leave),
//!   [`disconnect_sockets`](BroadcastOperator::disconnect_sockets).
//!
//! A broadcast is encoded once, and the same bytes are queued for every recipient. While a
//! handler runs, broadcasts in a row to the same sockets are coalesced: the second one starts a
//! run of packets shared by every recipient (one queue entry a recipient, not one a packet),
//! which the next ones join; nothing is reordered. [`emit`](BroadcastOperator::emit) queues for
//! this server's sockets before it returns; its [`Emitted`] can be awaited to learn whether the
//! other servers were reached, or dropped.
//!
//! ```
//! use tower_socketio::extract::{AckSender, Data};
//! use tower_socketio::testing::TestClient;
//! use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let ns = Namespace::new()
//!     .on_connect(|socket: SocketRef| async move { socket.join("chat") })
//!     .on("say", |socket: SocketRef, ack: AckSender, Data(text): Data<String>| async move {
//!         let _ = socket.to("chat").emit("said", &text); // everyone in "chat" but the sender
//!         let _ = ack.send("sent");
//!     });
//! let io = SocketIo::builder().ns("/", ns).build();
//! let app = axum::Router::new().layer(io.layer());
//! let mut alice = TestClient::connect(app.clone(), "/").await.unwrap();
//! let mut bob = TestClient::connect(app, "/").await.unwrap();
//!
//! let _: String = alice.emit_with_ack("say", "hi").await.unwrap();
//! assert_eq!(bob.recv().await.unwrap(), ("said".into(), vec![Value::from("hi")]));
//! // From outside any handler, to the whole room.
//! let _ = io.to("chat").emit("news", "closing soon");
//! assert_eq!(alice.recv().await.unwrap().0, "news");
//! # }
//! ```
//!
//! ## State
//! The application's state (a database pool, a cache, channels) is given once to
//! [`SocketIoBuilder::with_state`], before the namespaces that use it, and handlers take it
//! with the [`State<S>`](extract::State) extractor; a handler asking for a state of another
//! type does not compile. It is cloned for each handler call: keep it cheap to clone (`Arc`s).
//! `examples/state.rs` shares one between handlers and axum routes.
//!
//! Each socket has data of its own, too: typed values that stay on this server
//! ([`Socket::insert_extension`], the [`Extension<T>`](extract::Extension) extractor), and
//! serializable data that other servers see and connection state recovery restores
//! ([`Socket::set_data`], [`Socket::data`], [`RemoteSocket::data`]).
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use tower_socketio::extract::State;
//! use tower_socketio::{Namespace, SocketIo, SocketRef};
//!
//! #[derive(Clone, Default)]
//! struct AppState { online: Arc<AtomicUsize> }
//!
//! let io = SocketIo::builder()
//!     .with_state(AppState::default())
//!     .ns("/", Namespace::new()
//!         .on_connect(|socket: SocketRef, State(state): State<AppState>| async move {
//!             let online = state.online.fetch_add(1, Ordering::Relaxed) + 1;
//!             let _ = socket.nsp().emit("online", &online);
//!         })
//!         .on_disconnect(|State(state): State<AppState>| async move {
//!             state.online.fetch_sub(1, Ordering::Relaxed);
//!         }))
//!     .build();
//! # let _ = io;
//! ```
//!
//! ## Middlewares
//! - [`Namespace::middleware`] (Node: `io.use`): runs before a client joins the namespace, with
//!   extractors ([`Data`](extract::Data) reads the CONNECT auth payload); an `Err`
//!   ([`ConnectError`]) refuses it, and the client's `connect_error` gets the message and data.
//! - [`Namespace::packet_middleware`] (Node: `socket.use`): sees every event before its handler,
//!   may change its arguments or refuse it.
//! - [`EngineConfig::allow_request`] (Node: `allowRequest`) sees each handshake request and may
//!   refuse it with an HTTP status ([`Refusal`]); [`EngineConfig::origins`] checks the `Origin`.
//! - The server is a tower [`Layer`]: tower and tower-http middlewares stack around it as around
//!   any service (they see the Socket.IO requests too, long-polling and WebSocket upgrades).
//!
//! ```
//! use tower_socketio::extract::{AckSender, Data, Extension};
//! use tower_socketio::testing::TestClient;
//! use tower_socketio::{ConnectError, Namespace, SocketIo, SocketRef};
//!
//! #[derive(serde::Deserialize)]
//! struct Auth { token: String }
//!
//! #[derive(Clone)]
//! struct User(String);
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let ns = Namespace::new()
//!     .middleware(|socket: SocketRef, Data(auth): Data<Auth>| async move {
//!         match auth.token.as_str() {
//!             "ada-token" => {
//!                 socket.insert_extension(User("ada".into()));
//!                 Ok(())
//!             }
//!             _ => Err(ConnectError::new("unknown token")),
//!         }
//!     })
//!     .on("whoami", |ack: AckSender, Extension(User(name)): Extension<User>| async move {
//!         let _ = ack.send(&name);
//!     });
//! let io = SocketIo::builder().ns("/", ns).build();
//! let app = axum::Router::new().layer(io.layer());
//!
//! let token = |token: &str| serde_json::json!({ "token": token });
//! let mut ada = TestClient::builder(app.clone()).auth(token("ada-token")).connect().await.unwrap();
//! let name: String = ada.emit_with_ack("whoami", &()).await.unwrap();
//! assert_eq!(name, "ada");
//! let refused = TestClient::builder(app).auth(token("forged")).connect().await.unwrap_err();
//! assert!(refused.to_string().contains("unknown token"));
//! # }
//! ```
//!
//! ## Adapters
//! Each namespace keeps its rooms and sends its broadcasts through an [`Adapter`](adapter::Adapter),
//! made for it by the factory given to [`SocketIoBuilder::adapter`]. The default,
//! [`MemoryAdapter`](adapter::MemoryAdapter), serves one server. An adapter for several servers
//! implements the same trait in any crate; the [`adapter`] module explains the boundary and walks
//! through one over a message bus.
//!
#![cfg_attr(
    feature = "redis",
    doc = "With the `redis` feature, [`adapter::redis`] has Redis adapters wire-compatible with Node's\n`@socket.io/redis-adapter` (classic and sharded Pub/Sub): tower-socketio and Node servers\nform one cluster, and `@socket.io/redis-emitter` processes can publish to it\n(`examples/cluster_node.rs`)."
)]
#![cfg_attr(
    not(feature = "redis"),
    doc = "With the `redis` feature, `adapter::redis` has Redis adapters wire-compatible with Node's\n`@socket.io/redis-adapter` (classic and sharded Pub/Sub): tower-socketio and Node servers\nform one cluster, and `@socket.io/redis-emitter` processes can publish to it\n(`examples/cluster_node.rs`)."
)]
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tower_socketio::SocketIo;
//! use tower_socketio::adapter::redis::{RedisAdapter, RedisConfig};
//!
//! let redis = RedisAdapter::connect("redis://127.0.0.1:6379", RedisConfig::default()).await?;
//! let io = SocketIo::builder().adapter(redis.factory()).build();
//! redis.ready().await?;
//! io.to("news").emit("headline", "to every server's clients").await?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Connection state recovery
//! Off by default; [`SocketIoBuilder::connection_state_recovery`] turns it on (Node:
//! `connectionStateRecovery`). A client that lost its connection for a recoverable reason
//! ([`DisconnectReason::is_recoverable`]) and comes back in time gets its socket back: the same
//! id, its rooms and [data](Socket::set_data), and every event it missed. Handlers tell with
//! [`Socket::recovered`] or the [`Recovered`](extract::Recovered) extractor; [`RecoveryConfig`]
//! bounds what is kept and for how long; the adapter keeps it
//! ([`Adapter::persist_session`](adapter::Adapter::persist_session),
//! [`restore_session`](adapter::Adapter::restore_session)).
//!
//! ```
//! use tower_socketio::extract::Recovered;
//! use tower_socketio::{Namespace, RecoveryConfig, SocketIo, SocketRef};
//!
//! let io = SocketIo::builder()
//!     .connection_state_recovery(RecoveryConfig::default())
//!     .ns("/", Namespace::new().on_connect(|socket: SocketRef, Recovered(recovered): Recovered| async move {
//!         if !recovered {
//!             socket.join("lobby"); // a recovered socket is in its rooms already
//!         }
//!     }))
//!     .build();
//! # let _ = io;
//! ```
//!
//! ## Features
//! | feature | default | what it does |
//! |---|---|---|
//! | `client-bundle` | on | serves the official browser client under the path (`/socket.io/socket.io.js`...), as Node's `serveClient` ([`EngineConfig::serve_client`]); the bundle is fetched with npm and checked at build time, and a build without npm succeeds without it (see the README) |
//! | `redis` | off | the Redis adapters, `adapter::redis` |
//! | `msgpack` | off | the MessagePack parser (`Parser::MsgPack`, byte-compatible with Node's `socket.io-msgpack-parser` 3.x), chosen with [`SocketIoBuilder::parser`]; the clients must use it too |
//! | `bench-support`, `fuzzing` | off | not for applications: what the benchmarks and fuzz targets of this repository reach |
//!
//! ## Testing
//! [`TestClient`](testing::TestClient) is a Socket.IO client that drives your app in-process,
//! through `Service::call` (an axum `Router` with the layer, or any tower service): no port, no
//! Node.js. [`connect`](testing::TestClient::connect) joins a namespace (or
//! [`builder`](testing::TestClient::builder), for an auth payload, headers, query parameters);
//! then [`emit`](testing::TestClient::emit), [`emit_with_ack`](testing::TestClient::emit_with_ack)
//! and [`recv`](testing::TestClient::recv). Most examples in these docs run with it.
//!
//! ```
//! use tower_socketio::testing::TestClient;
//! use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let io = SocketIo::builder()
//!     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
//!         let _ = socket.emit("welcome", "hello");
//!     }))
//!     .build();
//! let app = axum::Router::new().layer(io.layer());
//!
//! let mut client = TestClient::connect(app, "/").await.unwrap();
//! assert_eq!(client.recv().await.unwrap(), ("welcome".into(), vec![Value::from("hello")]));
//! # }
//! ```
//!
//! ## One event's way through
//! The module tree is the picture; an event from a client crosses it once, each step in one
//! module:
//! 1. `engine::frame` reads the WebSocket frame (or `engine::polling` the POST body) and
//!    `engine::packet` decodes the Engine.IO packet; the session's driver (`engine::driver`)
//!    hands the message to the Engine.IO handler.
//! 2. [`client`] ([`IoHandler`](client::IoHandler), Node's `Client`) decodes the Socket.IO packet
//!    (`parser`), reassembles binary attachments, and hands it to the namespace the client
//!    joined.
//! 3. `ns` (the namespace at run time, declared with [`Namespace`]) runs the packet middlewares
//!    and routes the event to its handler.
//! 4. `handler` extracts the arguments (`extract`) and polls the handler once, in place.
//! 5. What the handler emits is encoded once (`parser`): to its own client (`socket`), or to
//!    many through a [`BroadcastOperator`] (`broadcast`) and the namespace's [`adapter`], which
//!    picks the targets by id and hands the packet back to the namespace, which queues it in
//!    each recipient's outbox (`engine::socket`); each session's driver writes it out.
//!
//! The modules form layers, each importing only the ones below it (`scripts/check-layers.py`
//! checks it): `engine`, `value` → `error`, `parser` → `adapter` → `socket` → `broadcast`,
//! `extract` → `handler` → `ns` → `client` → `io`, `layer`, `serve`. A socket reaches its
//! namespace (and a broadcast operator its namespace) through a small trait the namespace
//! implements, so the namespace, which holds the sockets, stays above them.
//!
//! [`Layer`]: tower_layer::Layer
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

pub mod adapter;
#[cfg(feature = "admin")]
pub mod admin;
#[cfg(feature = "bench-support")]
#[doc(hidden)]
pub mod bench_support;
mod broadcast;
pub mod client;
mod client_bundle;
pub mod engine;
pub mod error;
pub mod extract;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz_support;
mod handler;
mod io;
pub mod layer;
mod ns;
mod parser;
pub mod serve;
mod socket;
#[cfg(test)]
mod test_helpers;
pub mod testing;
mod value;

pub use adapter::{IntoRooms, RecoveryConfig};
pub use broadcast::{AckAnswers, BroadcastOperator, Emitted, RemoteSocket};
pub use engine::RemoteAddr;
pub use engine::compression::HttpCompression;
pub use engine::config::{Cookie, EngineConfig, Refusal, SameSite, Transport};
pub use engine::origin::Origins;
pub use error::{AckError, BroadcastError, ConnectError, EmitError, ObserverTaken};
pub use handler::Handler;
pub use io::{SocketIo, SocketIoBuilder};
pub use layer::SocketIoLayer;
pub use ns::{Namespace, ServerEvent};
pub use parser::{Parser, RESERVED_EVENTS};
pub use socket::{AckFuture, DisconnectReason, Handshake, Socket, SocketObserver, SocketRef};
pub use value::Value;

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
