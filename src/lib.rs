//! # tower-socketio
//!
//! A [Socket.IO](https://socket.io) server for Rust, shipped as a tower [`Layer`]: add
//! `.layer(...)` to an axum, hyper or plain tower app and the official Socket.IO clients
//! (JavaScript, Swift, Kotlin, Python...) can talk to it, over WebSocket or HTTP long-polling.
//!
//! This release provides the transport underneath, the [Engine.IO](engine) server: sessions,
//! long-polling, WebSocket and upgrades, heartbeats, limits, origin checks, for protocol v4 (clients
//! 3.x/4.x) and v3 (clients 2.x). See [`engine`] for the raw message API.
//!
//! [`Layer`]: tower_layer::Layer
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

pub mod adapter;
mod broadcast;
mod client_bundle;
mod config;
pub mod engine;
pub mod extract;
mod handler;
mod io;
mod layer;
mod ns;
mod parser;
mod serve;
mod socket;
mod value;

pub use broadcast::{AckAnswers, BroadcastError, BroadcastOperator, Emitted, IntoRooms};
pub use config::{Cookie, EngineConfig, Refusal, SameSite, Transport};
pub use engine::origin::Origins;
pub use handler::Handler;
pub use io::{ClientState, IoHandler, SocketIo, SocketIoBuilder};
pub use layer::{ResponseBody, ResponseFuture, SocketIoLayer, SocketIoService};
pub use ns::{ConnectError, Namespace};
pub use serve::{NotFound, RemoteAddr};
pub use socket::{
    AckError, AckFuture, DisconnectReason, EmitError, Handshake, RESERVED_EVENTS, Socket, SocketRef,
};
pub use value::Value;

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
