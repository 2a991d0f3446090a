//! A small chat on the Engine.IO layer, mounted on an axum app beside a REST route.
//!
//! ```text
//! cargo run --example chat     # then open http://localhost:3000 in two tabs
//! ```
//!
//! The page speaks Engine.IO v4 over a plain browser `WebSocket` (open packet, heartbeat,
//! messages); the server relays every message to every session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use tower_socketio::EngineConfig;
use tower_socketio::engine::{DisconnectReason, EngineHandler, EngineIo, Message, Sid, Socket};

/// Relays every message to every open session.
#[derive(Default)]
struct Relay {
    sessions: Mutex<HashMap<Sid, Arc<Socket>>>,
}

impl EngineHandler for Relay {
    type Data = ();

    fn on_connect(&self, socket: Arc<Socket>) {
        tracing::info!(sid = %socket.id(), "joined");
        self.sessions.lock().unwrap().insert(socket.id(), socket);
    }

    fn on_message(&self, _from: &Arc<Socket>, message: Message) {
        for socket in self.sessions.lock().unwrap().values() {
            if let Err(error) = socket.send(message.clone()) {
                tracing::warn!(sid = %socket.id(), %error, "message not relayed");
            }
        }
    }

    fn on_disconnect(&self, socket: Arc<Socket>, reason: DisconnectReason) {
        tracing::info!(sid = %socket.id(), %reason, "left");
        self.sessions.lock().unwrap().remove(&socket.id());
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_socketio=debug".into()),
        )
        .init();
    let engine = EngineIo::new(EngineConfig::default(), Relay::default());
    let stats = engine.clone();
    let app = Router::new()
        .route("/", get(|| async { Html(include_str!("index.html")) }))
        .route(
            "/api/stats",
            get(move || async move { format!("{{\"sessions\":{}}}", stats.session_count()) }),
        )
        .layer(engine.layer());
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{port}")).await?;
    tracing::info!("chat on http://localhost:{port}");
    axum::serve(listener, app).await
}
