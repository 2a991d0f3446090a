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
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime
        .block_on(EngineIo::new(EngineConfig::default(), Echo).listen(format!("127.0.0.1:{port}")))
}
