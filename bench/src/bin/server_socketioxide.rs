//! The bench server contract (see loadgen.rs) with socketioxide + axum, the way its README sets
//! it up; only the per-socket packet buffer is raised, as for every server, so that a fanout
//! burst is never refused.
//!
//! `ADAPTER=redis` (with `REDIS_URL`, default `redis://127.0.0.1:6379`) makes it one node of a
//! cluster on socketioxide's own Redis adapter (`socketioxide-redis`, its `redis` driver over
//! RESP3, default configuration, as its README sets it up): the cluster scenarios. Without it,
//! the in-memory `LocalAdapter`, as every other scenario runs.
//!
//! `PARSER=msgpack` selects socketioxide's MessagePack parser (`ParserConfig::msgpack()`, its
//! `msgpack` feature); without it (or `PARSER=default`), its default one.

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::{ParserConfig, SocketIo, SocketIoBuilder};
use socketioxide_core::adapter::DefinedAdapter;
use socketioxide_redis::{RedisAdapter, RedisAdapterCtr};
use tower_socketio_bench::wire;

/// The builder with the parser of `PARSER` and the packet buffer raised.
fn builder() -> SocketIoBuilder {
    let builder = SocketIo::builder().max_buffer_size(100_000);
    match wire::Parser::from_env() {
        wire::Parser::Default => builder,
        wire::Parser::MsgPack => builder.with_parser(ParserConfig::msgpack()),
    }
}

/// Namespace `/` with the contract's handlers; the adapter's initialisation (a future to await
/// for the Redis adapter, nothing for the local one).
fn contract<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> A::InitRes {
    let everyone = io.clone();
    io.ns("/", async move |socket: SocketRef<A>| {
        socket.on(
            "ack",
            async |ack: AckSender<A>, Data(value): Data<Value>| {
                let _ = ack.send(&value);
            },
        );
        socket.on(
            "join",
            async |socket: SocketRef<A>, ack: AckSender<A>, Data(room): Data<String>| {
                socket.join(room);
                let _ = ack.send(&());
            },
        );
        let io = everyone.clone();
        socket.on("fanout", async move |Data(count): Data<u64>| {
            for i in 0..count {
                let _ = io.emit("tick", &i).await;
            }
        });
        let io = everyone.clone();
        socket.on("rooms", async move |Data(rooms): Data<Vec<String>>| {
            for (i, room) in rooms.into_iter().enumerate() {
                let _ = io.to(room).emit("tick", &i).await;
            }
        });
    })
}

fn main() -> std::io::Result<()> {
    let port = tower_socketio_bench::port();
    let runtime = tower_socketio_bench::server_runtime()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
        match std::env::var("ADAPTER").as_deref() {
            Ok("redis") => {
                let url =
                    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
                // The adapter's drivers need RESP3.
                let client = redis::Client::open(format!("{url}?protocol=resp3"))
                    .map_err(std::io::Error::other)?;
                let adapter = RedisAdapterCtr::new_with_redis(&client)
                    .await
                    .map_err(std::io::Error::other)?;
                let (layer, io) = builder()
                    .with_adapter::<RedisAdapter<_>>(adapter)
                    .build_layer();
                // Subscribed before the port accepts clients.
                contract(&io).await.map_err(std::io::Error::other)?;
                let app = axum::Router::new().layer(layer);
                axum::serve(listener, app).await
            }
            Ok("memory") | Err(_) => {
                let (layer, io) = builder().build_layer();
                contract(&io);
                let app = axum::Router::new().layer(layer);
                axum::serve(listener, app).await
            }
            Ok(other) => Err(std::io::Error::other(format!(
                "ADAPTER={other}: redis or memory"
            ))),
        }
    })
}
