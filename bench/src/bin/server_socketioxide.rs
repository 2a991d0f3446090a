//! The bench server contract (see loadgen.rs) with socketioxide + axum, the way its README sets
//! it up; only the per-socket packet buffer is raised, as for every server, so that a fanout
//! burst is never refused.

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};

fn main() -> std::io::Result<()> {
    let port = tower_socketio_bench::port();
    let runtime = tower_socketio_bench::server_runtime()?;
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
