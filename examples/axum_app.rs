//! Beside axum routes (what the 1.x README does with Express): REST routes and Socket.IO in one
//! app, one port.
//!
//! ```text
//! cargo run --example axum_app     # 127.0.0.1:3000, or $PORT
//! ```

use axum::Router;
use axum::routing::get;
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
    let counter = io.clone();
    let app = Router::new()
        .route("/", get(|| async { "axum here" }))
        .route(
            "/api/clients",
            get(move || async move { counter.sockets("/").len().to_string() }),
        )
        .layer(io.layer());
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    // On Ctrl-C or SIGTERM: stop accepting, tell every client the server is shutting down.
    let closing = io.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tower_socketio::serve::shutdown_signal().await;
            closing.close();
        })
        .await
}
