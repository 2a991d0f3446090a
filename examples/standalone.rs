//! Standalone: a Socket.IO server with no other routes (the 1.x README's `io.listen(3000)`).
//!
//! ```text
//! cargo run --example standalone     # 127.0.0.1:3000, or $PORT
//! ```

use tower_socketio::extract::{AckSender, Data};
use tower_socketio::{Namespace, SocketIo};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = SocketIo::builder()
        .ns(
            "/",
            Namespace::new().on(
                "hello",
                |ack: AckSender, Data(name): Data<String>| async move {
                    let _ = ack.send(&format!("Hello, {name}!"));
                },
            ),
        )
        .build();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    io.listen(format!("127.0.0.1:{port}")).await
}
