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
pub use engine::config::{Cookie, EngineConfig, Refusal, SameSite, Transport};
pub use engine::origin::Origins;
pub use error::{AckError, BroadcastError, ConnectError, EmitError};
pub use handler::Handler;
pub use io::{SocketIo, SocketIoBuilder};
pub use layer::SocketIoLayer;
pub use ns::{Namespace, ServerEvent};
pub use parser::RESERVED_EVENTS;
pub use socket::{AckFuture, DisconnectReason, Handshake, Socket, SocketRef};
pub use value::Value;

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
