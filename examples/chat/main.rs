//! The demo: a chat on axum, with a REST route beside the Socket.IO layer.
//!
//! ```text
//! cargo run --example chat     # then open http://localhost:3000 in two tabs
//! ```
//!
//! - a connection middleware checks the nickname (non-empty, at most 24 characters, not taken;
//!   a reloaded tab takes its own nickname back); the page shows its refusal from
//!   `connect_error`;
//! - rooms to join and leave, messages broadcast to the room;
//! - "is typing" sent as volatile packets;
//! - joined / left notices;
//! - every message acknowledged to its sender with the server's timestamp;
//! - `GET /api/stats`: connected users and rooms, as JSON.
//!
//! With the `admin` feature (`cargo run --example chat --features admin`), the official admin UI
//! watches it at <http://localhost:3000/socket.io/admin/> (user `admin`, password `changeit`,
//! or the bcrypt hash in `$ADMIN_PASSWORD_HASH`); `ADMIN_MODE=production` sends it only the
//! statistics, `ADMIN_SERVER_ID` names the server.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::middleware;
use axum::response::Html;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tower_socketio::engine::Sid;
use tower_socketio::extract::{AckSender, Data, Extension, State};
use tower_socketio::{ConnectError, Namespace, RemoteAddr, SocketIo, SocketRef};

/// The rooms a user can pick.
const ROOMS: [&str; 3] = ["general", "random", "rust"];

/// The nicknames in use: each with the token of the browser tab holding it and the socket.
#[derive(Clone, Default)]
struct Users(Arc<Mutex<HashMap<String, (String, Sid)>>>);

/// A connected user's nickname, stored on the socket by the middleware.
#[derive(Clone)]
struct Nick(String);

#[derive(Deserialize)]
struct Auth {
    #[serde(default)]
    nick: String,
    /// A random token the page keeps for its tab: after a reload, the same tab may take its
    /// nickname back at once, even before the server has seen the old connection end.
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
struct Said {
    room: String,
    text: String,
}

#[derive(Serialize)]
struct Message<'a> {
    nick: &'a str,
    room: &'a str,
    text: &'a str,
    ts: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The room the socket is in (besides its own id room).
fn current_room(socket: &SocketRef) -> Option<String> {
    let own = socket.id().to_string();
    socket.rooms().into_iter().find(|room| *room != own)
}

fn notice(socket: &SocketRef, room: &str, text: String) {
    let _ = socket
        .to(room)
        .emit("notice", &serde_json::json!({ "room": room, "text": text }));
}

fn chat_namespace() -> Namespace<Users> {
    Namespace::new()
        .middleware(
            |socket: SocketRef, State(users): State<Users>, Data(auth): Data<Auth>| async move {
                let nick = auth.nick.trim().to_owned();
                if nick.is_empty() {
                    return Err(ConnectError::new("Pick a nickname first."));
                }
                if nick.chars().count() > 24 {
                    return Err(ConnectError::new("Nicknames have at most 24 characters."));
                }
                let previous = {
                    let mut users = users.0.lock().unwrap();
                    match users.get(&nick) {
                        Some((token, _)) if auth.token.is_empty() || *token != auth.token => {
                            return Err(ConnectError::new(format!(
                                "\"{nick}\" is taken: pick another."
                            ))
                            .with_data(serde_json::json!({ "taken": nick })));
                        }
                        _ => users
                            .insert(nick.clone(), (auth.token, socket.id()))
                            .map(|(_, sid)| sid),
                    }
                };
                // The same tab came back (a reload): its old connection is stale.
                if let Some(stale) = previous {
                    let _ = socket.nsp().to(stale).disconnect_sockets(false).await;
                }
                socket.insert_extension(Nick(nick));
                Ok(())
            },
        )
        .on_connect(
            |socket: SocketRef, Extension(Nick(nick)): Extension<Nick>| async move {
                socket.join("general");
                let _ = socket.emit(
                    "welcome",
                    &serde_json::json!({ "nick": nick, "rooms": ROOMS, "room": "general" }),
                );
                notice(&socket, "general", format!("{nick} joined #general"));
            },
        )
        .on(
            "join",
            |socket: SocketRef,
             Extension(Nick(nick)): Extension<Nick>,
             ack: AckSender,
             Data(room): Data<String>| async move {
                if !ROOMS.contains(&room.as_str()) {
                    let _ = ack.send(&serde_json::json!({ "error": "no such room" }));
                    return;
                }
                if let Some(previous) = current_room(&socket) {
                    socket.leave(previous.as_str());
                    notice(&socket, &previous, format!("{nick} left #{previous}"));
                }
                socket.join(room.as_str());
                notice(&socket, &room, format!("{nick} joined #{room}"));
                let _ = ack.send(&serde_json::json!({ "room": room }));
            },
        )
        .on(
            "message",
            |socket: SocketRef,
             Extension(Nick(nick)): Extension<Nick>,
             ack: AckSender,
             Data(said): Data<Said>| async move {
                let text = said.text.trim();
                if text.is_empty() || current_room(&socket).as_deref() != Some(said.room.as_str()) {
                    let _ = ack.send(&serde_json::json!({ "error": "not delivered" }));
                    return;
                }
                let ts = now_ms();
                let message = Message {
                    nick: &nick,
                    room: &said.room,
                    text,
                    ts,
                };
                let _ = socket.to(said.room.as_str()).emit("message", &message);
                let _ = ack.send(&serde_json::json!({ "ts": ts }));
            },
        )
        .on(
            "typing",
            |socket: SocketRef, Extension(Nick(nick)): Extension<Nick>| async move {
                if let Some(room) = current_room(&socket) {
                    // Volatile: dropped rather than queued for a client that cannot take it now.
                    let _ = socket.to(room.as_str()).volatile().emit("typing", &nick);
                }
            },
        )
        .on_disconnecting(
            |socket: SocketRef, Extension(Nick(nick)): Extension<Nick>| async move {
                if let Some(room) = current_room(&socket) {
                    notice(&socket, &room, format!("{nick} left #{room}"));
                }
            },
        )
        .on_disconnect(
            |socket: SocketRef,
             Extension(Nick(nick)): Extension<Nick>,
             State(users): State<Users>| async move {
                // Unless a reloaded tab took the nickname back meanwhile.
                let mut users = users.0.lock().unwrap();
                if users.get(&nick).is_some_and(|(_, sid)| *sid == socket.id()) {
                    users.remove(&nick);
                }
            },
        )
}

/// `GET /api/stats`: the connected users and the rooms with their member counts.
async fn stats(io: SocketIo) -> Json<serde_json::Value> {
    let sockets = io.sockets("/");
    let mut users: Vec<String> = sockets
        .iter()
        .filter_map(|s| s.extension::<Nick>().map(|n| n.0))
        .collect();
    users.sort();
    let mut rooms: BTreeMap<String, usize> = ROOMS.iter().map(|r| (r.to_string(), 0)).collect();
    for socket in &sockets {
        if let Some(room) = current_room(socket) {
            *rooms.entry(room).or_default() += 1;
        }
    }
    Json(serde_json::json!({ "connected": users.len(), "users": users, "rooms": rooms }))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_socketio=debug".into()),
        )
        .init();
    let io = SocketIo::builder()
        .with_state(Users::default())
        .ns("/", chat_namespace())
        .build();
    #[cfg(feature = "admin")]
    admin(&io);
    let for_stats = io.clone();
    let app = Router::new()
        .route("/", get(|| async { Html(include_str!("index.html")) }))
        .route("/api/stats", get(move || stats(for_stats.clone())))
        .layer(io.layer())
        // The client's address, for `socket.remote_addr()` and the admin UI's IP column.
        .layer(middleware::map_request(with_remote_addr));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{port}")).await?;
    tracing::info!("chat on http://localhost:{port}");
    // On Ctrl-C or SIGTERM: stop accepting, tell every client the server is shutting down.
    let closing = io.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        tower_socketio::serve::shutdown_signal().await;
        closing.close();
    })
    .await
}

/// Hands the peer address axum knows (`ConnectInfo`) to the Socket.IO layer (`RemoteAddr`).
async fn with_remote_addr(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
) -> Request {
    request.extensions_mut().insert(RemoteAddr(peer));
    request
}

/// The admin UI (feature `admin`), configured from the environment.
#[cfg(feature = "admin")]
fn admin(io: &SocketIo) {
    use tower_socketio::admin::{self, AdminOptions, Mode};
    // The bcrypt hash of "changeit": a demo password, to be replaced.
    const DEMO_HASH: &str = "$2b$10$GvZ1xaf6J5D2v06cHlzZue8opr0QzqRbY3wvftK9zCmUXaDWffzfi";
    let hash = std::env::var("ADMIN_PASSWORD_HASH").unwrap_or_else(|_| DEMO_HASH.to_owned());
    let mut options = AdminOptions::basic("admin", hash);
    if std::env::var("ADMIN_MODE").is_ok_and(|mode| mode == "production") {
        options = options.mode(Mode::Production);
    }
    if let Ok(id) = std::env::var("ADMIN_SERVER_ID") {
        options = options.server_id(id);
    }
    match admin::instrument(io, options) {
        Ok(()) => tracing::info!("admin UI on /socket.io/admin/"),
        Err(error) => tracing::error!(%error, "admin UI not installed"),
    }
}
