//! Shared application state: handlers get it with the `State` extractor, REST routes with
//! axum's; both see the same counter.
//!
//! ```text
//! cargo run --example state     # 127.0.0.1:3000, or $PORT
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::routing::get;
use tower_socketio::extract::{AckSender, State};
use tower_socketio::{Namespace, SocketIo};

/// The application's state: cheap to clone, shared by every handler.
#[derive(Clone, Default)]
struct AppState {
    visits: Arc<AtomicU64>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let state = AppState::default();
    let io = SocketIo::builder()
        .with_state(state.clone())
        .ns(
            "/",
            Namespace::new().on(
                "visit",
                |State(state): State<AppState>, ack: AckSender| async move {
                    let visits = state.visits.fetch_add(1, Ordering::Relaxed) + 1;
                    let _ = ack.send(&visits);
                },
            ),
        )
        .build();
    let app = Router::new()
        .route(
            "/api/visits",
            get(
                |axum::extract::State(state): axum::extract::State<AppState>| async move {
                    state.visits.load(Ordering::Relaxed).to_string()
                },
            ),
        )
        .with_state(state)
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
