//! The bench server contract (see loadgen.rs) with socketioxide + axum, the way its README sets
//! it up; only the per-socket packet buffer is raised, as for every server, so that a fanout
//! burst is never refused.

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};

fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let workers: usize = std::env::var("WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (layer, io) = SocketIo::builder().max_buffer_size(100_000).build_layer();
        let everyone = io.clone();
        io.ns("/", async move |socket: SocketRef| {
            socket.on("ack", async |ack: AckSender, Data(value): Data<Value>| {
                let _ = ack.send(&value);
            });
            socket.on(
                "join",
                async |socket: SocketRef, ack: AckSender, Data(room): Data<String>| {
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
        });
        let app = axum::Router::new().layer(layer);
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
        axum::serve(listener, app).await
    })
}
