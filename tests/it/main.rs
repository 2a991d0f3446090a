//! The integration tests, in one binary (one link instead of one a file): each module is a
//! theme, `common` their shared pieces. Run one theme with a filter, e.g.
//! `cargo test --test it socketio_rooms`. The soak test (`tests/soak.rs`) is a binary of its
//! own: it runs itself again as the server process, and shares its modules with
//! `examples/soak`.

#[macro_use]
mod common;

mod adapter_outside;
#[cfg(feature = "admin")]
mod admin_ui;
mod broadcast_order;
#[cfg(feature = "admin")]
mod browser_admin;
mod browser_chat;
mod compile_fail;
mod engine_clients;
mod engine_requests;
mod examples;
mod hyper_server;
#[cfg(feature = "msgpack")]
mod msgpack;
mod polling_compression;
mod recovery;
#[cfg(feature = "redis")]
mod redis_adapter;
#[cfg(feature = "redis")]
mod redis_cluster;
#[cfg(feature = "redis")]
mod redis_streams;
#[cfg(feature = "redis")]
mod redis_wire;
mod reliability;
mod socketio_clients;
mod socketio_namespaces;
mod socketio_rooms;
mod testing_client;
mod tower_http;
