//! The bench server contract with tower-socketio (see loadgen.rs): `ack` is acknowledged with
//! its arguments; `join` R joins room R and acknowledges; `fanout` M emits `tick` M times to
//! every socket of `/`; `rooms` [R...] emits `tick` i to the i-th room.
//!
//! `ADAPTER=redis` (with `REDIS_URL`, default `redis://127.0.0.1:6379`) makes it one node of a
//! cluster on the classic Redis adapter (`RedisConfig::default()`, Node's `socket.io` key): the
//! cluster scenarios. Without it, the in-memory adapter, as every other scenario runs.
//!
//! `PARSER=msgpack` selects the MessagePack parser (`Parser::MsgPack`); without it (or
//! `PARSER=default`), the default one.

use tower_socketio::adapter::redis::{RedisAdapter, RedisConfig};
use tower_socketio::extract::{AckSender, Args, Data};
use tower_socketio::{EngineConfig, Namespace, Parser, SocketIo, SocketRef};
use tower_socketio_bench::wire;

fn main() -> std::io::Result<()> {
    let port = tower_socketio_bench::port();
    let runtime = tower_socketio_bench::server_runtime()?;
    runtime.block_on(async {
        let ns = Namespace::new()
            .on("ack", |ack: AckSender, args: Args| async move {
                let _ = ack.send(&args);
            })
            .on(
                "join",
                |socket: SocketRef, ack: AckSender, Data(room): Data<String>| async move {
                    socket.join(room);
                    let _ = ack.send(&());
                },
            )
            .on(
                "fanout",
                |socket: SocketRef, Data(count): Data<u64>| async move {
                    let everyone = socket.nsp();
                    // As Node's `io.emit`: queued for this server's sockets and, with an
                    // adapter, published, without waiting for Redis to confirm each one
                    // (awaiting the returned future costs a Redis round trip per emit).
                    for i in 0..count {
                        drop(everyone.emit("tick", &i));
                    }
                },
            )
            .on(
                "rooms",
                |socket: SocketRef, Data(rooms): Data<Vec<String>>| async move {
                    for (i, room) in rooms.into_iter().enumerate() {
                        drop(socket.nsp().to(room).emit("tick", &i));
                    }
                },
            );
        let mut config = EngineConfig::default().max_buffered_bytes(64 << 20);
        // HTTP_COMPRESSION=off: long-polling responses never compressed.
        if std::env::var("HTTP_COMPRESSION").as_deref() == Ok("off") {
            config = config.http_compression(None);
        }
        let mut builder = SocketIo::builder()
            .config(config)
            .parser(match wire::Parser::from_env() {
                wire::Parser::Default => Parser::Default,
                wire::Parser::MsgPack => Parser::MsgPack,
            })
            .ns("/", ns);
        let redis = match std::env::var("ADAPTER").as_deref() {
            Ok("redis") => {
                let url =
                    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
                let redis = RedisAdapter::connect(&url, RedisConfig::default())
                    .await
                    .map_err(std::io::Error::other)?;
                builder = builder.adapter(redis.factory());
                Some(redis)
            }
            Ok("memory") | Err(_) => None,
            Ok(other) => {
                return Err(std::io::Error::other(format!(
                    "ADAPTER={other}: redis or memory"
                )));
            }
        };
        let io = builder.build();
        // Listens only once the adapter hears the other node.
        if let Some(redis) = &redis {
            redis.ready().await.map_err(std::io::Error::other)?;
        }
        io.listen(format!("127.0.0.1:{port}")).await
    })
}
