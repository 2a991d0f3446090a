//! Redis adapters wire-compatible with Node's `@socket.io/redis-adapter` 8.3 (classic and
//! sharded) and `@socket.io/redis-emitter` 5.x, so that tower-socketio and Node servers form one
//! cluster on one Redis.
//!
//! Work in progress: for now, the codec of their messages ([`wire`]).

pub mod wire;
