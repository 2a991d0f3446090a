//! The bench server contract with tower-socketio (see loadgen.rs): `ack` is acknowledged with
//! its arguments; `join` R joins room R and acknowledges; `fanout` M emits `tick` M times to
//! every socket of `/`; `rooms` [R...] emits `tick` i to the i-th room.

use tower_socketio::extract::{AckSender, Args, Data};
use tower_socketio::{EngineConfig, Namespace, SocketIo, SocketRef};

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
                    for i in 0..count {
                        let _ = everyone.emit("tick", &i).await;
                    }
                },
            )
            .on(
                "rooms",
                |socket: SocketRef, Data(rooms): Data<Vec<String>>| async move {
                    for (i, room) in rooms.into_iter().enumerate() {
                        let _ = socket.nsp().to(room).emit("tick", &i).await;
                    }
                },
            );
        let io = SocketIo::builder()
            .config(EngineConfig::default().max_buffered_bytes(64 << 20))
            .ns("/", ns)
            .build();
        io.listen(format!("127.0.0.1:{port}")).await
    })
}
