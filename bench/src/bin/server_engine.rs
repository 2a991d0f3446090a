//! A raw Engine.IO echo server on this crate (no Socket.IO), to split the memory and CPU of a
//! connection between the engine and the Socket.IO layer. Same path as the bench contract.

use std::sync::Arc;

use tower_socketio::EngineConfig;
use tower_socketio::engine::{EngineHandler, EngineIo, Message, Socket};

struct Echo;

impl EngineHandler for Echo {
    type Data = ();
    fn on_message(&self, socket: &Arc<Socket>, message: Message) {
        let _ = socket.send(message);
    }
}

fn main() -> std::io::Result<()> {
    let port = tower_socketio_bench::port();
    let runtime = tower_socketio_bench::server_runtime()?;
    runtime
        .block_on(EngineIo::new(EngineConfig::default(), Echo).listen(format!("127.0.0.1:{port}")))
}
