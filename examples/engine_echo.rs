//! The Engine.IO echo server the official Engine.IO protocol test suite runs against: raw
//! Engine.IO (no Socket.IO) at `/engine.io/`, every message sent back to its sender.
//!
//! ```text
//! cargo run --release --example engine_echo      # listens on 127.0.0.1:3000, or $PORT
//! ```

use std::sync::Arc;
use std::time::Duration;

use tower_socketio::EngineConfig;
use tower_socketio::engine::{EngineHandler, EngineIo, Message, Socket};

/// Sends every message back to the session it came from.
struct Echo;

impl EngineHandler for Echo {
    type Data = ();

    fn on_message(&self, socket: &Arc<Socket>, message: Message) {
        if let Err(error) = socket.send(message) {
            tracing::warn!(sid = %socket.id(), %error, "echo dropped");
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let config = EngineConfig::default()
        .path("/engine.io/")
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(1_000_000);
    let engine = EngineIo::new(config, Echo);
    tracing::info!("engine.io echo server on 127.0.0.1:{port}");
    engine.listen(format!("127.0.0.1:{port}")).await
}
