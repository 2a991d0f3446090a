//! One node of a Socket.IO cluster, the server independent multi-node suites start several times,
//! beside Node `socket.io` nodes, on one Redis (the contract: `docs/cluster-node.md` of the
//! suites; every event below is from it).
//!
//! ```text
//! PORT=3001 ADAPTER=memory cargo run --example cluster_node
//! PORT=3001 ADAPTER=redis REDIS_URL=redis://127.0.0.1:6379 cargo run --example cluster_node --features redis
//! PORT=3002 ADAPTER=streams REDIS_URL=redis://127.0.0.1:6379 cargo run --example cluster_node --features redis
//! ```
//!
//! Environment: `PORT` (3000), `REDIS_URL` (`redis://127.0.0.1:6379`), `ADAPTER` = `redis`
//! (classic pub/sub, the default) | `sharded` | `streams` | `memory`, `NODE_ID` (the port).
//! With the `admin` feature and `ADMIN=1`, the admin UI is installed (user `admin`, password
//! `changeit`, server id `NODE_ID`): one UI on any node shows every node and all their sockets.
//! Prints `listening <port>` once it accepts connections and its adapter is ready (its
//! subscriptions active and, for `streams`, its stream read from where it ends).
//!
//! Connection state recovery is on (30 s, middlewares skipped on a recovered connection): events
//! sent without an acknowledgement carry their offset as one extra last argument. With
//! `streams`, a client cut from one node recovers on any other (Node's included); with the other
//! adapters, only on the node it was on, as with Node's.
//!
//! Namespaces `/` and `/chat` behave the same. On connection a socket gets `hello` `{node, id,
//! recovered}`; an auth payload with `"deny": true` is refused (`denied`). Events, each answered
//! through its acknowledgement: `join`, `leave`, `set_data`, `to_room`, `broadcast`, `emit_all`,
//! `emit_local`, `fetch`, `sockets_join`, `sockets_leave`, `disconnect_sockets`,
//! `server_side_emit`, `ask_room`, `server_count`. A server-side `sse` from another node is
//! answered with `{node, args}`.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value as Json, json};
use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
use tower_socketio::extract::{AckSender, Data, State};
use tower_socketio::{
    AckAnswers, BroadcastOperator, ConnectError, EngineConfig, Namespace, RecoveryConfig,
    ServerEvent, SocketIo, SocketRef, Value,
};

/// What every handler knows: this node's id.
#[derive(Clone)]
struct Node {
    id: String,
}

/// `{event, args}` (and `room` for `to_room`).
#[derive(Deserialize)]
struct EmitRequest {
    #[serde(default)]
    room: Option<String>,
    event: String,
    #[serde(default)]
    args: Vec<Value>,
}

#[derive(Deserialize)]
struct Target {
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    room: Option<String>,
}

#[derive(Deserialize)]
struct AskRoom {
    room: String,
    question: Value,
    timeout: u64,
}

/// The namespace's sockets, or those in `room` when given.
fn within(socket: &SocketRef, room: Option<String>) -> BroadcastOperator {
    match room {
        Some(room) => socket.nsp().to(room),
        None => socket.nsp(),
    }
}

/// `{error, answers}`: the answers sorted by their JSON text.
fn answers_reply(answers: AckAnswers<Json>, timeout_error: String) -> Json {
    let mut texts: Vec<(String, Json)> = answers
        .answers
        .into_iter()
        .filter_map(Result::ok)
        .map(|answer| (answer.to_string(), answer))
        .collect();
    texts.sort_by(|a, b| a.0.cmp(&b.0));
    let error = if answers.complete {
        Json::Null
    } else {
        Json::String(timeout_error)
    };
    json!({ "error": error, "answers": texts.into_iter().map(|(_, a)| a).collect::<Vec<_>>() })
}

fn namespace() -> Namespace<Node> {
    Namespace::new()
        .middleware(|Data(auth): Data<Value>| async move {
            if auth.get("deny") == Some(&Value::Bool(true)) {
                Err(ConnectError::new("denied"))
            } else {
                Ok(())
            }
        })
        .on_connect(|socket: SocketRef, State(node): State<Node>| async move {
            let hello = json!({
                "node": node.id,
                "id": socket.id().to_string(),
                "recovered": socket.recovered(),
            });
            let _ = socket.emit("hello", &hello);
        })
        .on(
            "join",
            |socket: SocketRef, ack: AckSender, Data(room): Data<String>| async move {
                socket.join(room);
                let _ = ack.send(&true);
            },
        )
        .on(
            "leave",
            |socket: SocketRef, ack: AckSender, Data(room): Data<String>| async move {
                socket.leave(room);
                let _ = ack.send(&true);
            },
        )
        .on(
            "set_data",
            |socket: SocketRef, ack: AckSender, Data(data): Data<Json>| async move {
                let _ = ack.send(&socket.set_data(&data).is_ok());
            },
        )
        .on(
            "to_room",
            |socket: SocketRef, ack: AckSender, Data(r): Data<EmitRequest>| async move {
                let sent =
                    within(&socket, r.room).emit(&r.event, &tower_socketio::extract::Args(r.args));
                let _ = ack.send(&sent.await.is_ok());
            },
        )
        .on(
            "broadcast",
            |socket: SocketRef, ack: AckSender, Data(r): Data<EmitRequest>| async move {
                let sent = socket
                    .broadcast()
                    .emit(&r.event, &tower_socketio::extract::Args(r.args));
                let _ = ack.send(&sent.await.is_ok());
            },
        )
        .on(
            "emit_all",
            |socket: SocketRef, ack: AckSender, Data(r): Data<EmitRequest>| async move {
                let sent = socket
                    .nsp()
                    .emit(&r.event, &tower_socketio::extract::Args(r.args));
                let _ = ack.send(&sent.await.is_ok());
            },
        )
        .on(
            "emit_local",
            |socket: SocketRef, ack: AckSender, Data(r): Data<EmitRequest>| async move {
                let sent = socket
                    .nsp()
                    .local()
                    .emit(&r.event, &tower_socketio::extract::Args(r.args));
                let _ = ack.send(&sent.await.is_ok());
            },
        )
        .on(
            "fetch",
            |socket: SocketRef, ack: AckSender, Data(t): Data<Target>| async move {
                let reply = match within(&socket, t.room).fetch_sockets().await {
                    Ok(sockets) => {
                        let mut listed: Vec<Json> = sockets
                            .iter()
                            .map(|s| {
                                let mut rooms = s.rooms().to_vec();
                                rooms.sort();
                                let data: Json = s.data().unwrap_or(Json::Null);
                                json!({ "id": s.id().to_string(), "rooms": rooms, "data": data })
                            })
                            .collect();
                        listed.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
                        Json::Array(listed)
                    }
                    Err(error) => json!({ "error": error.to_string() }),
                };
                let _ = ack.send(&reply);
            },
        )
        .on(
            "sockets_join",
            |socket: SocketRef, ack: AckSender, Data(t): Data<Target>| async move {
                let joined = within(&socket, t.target).sockets_join(t.room.unwrap_or_default());
                let _ = ack.send(&joined.await.is_ok());
            },
        )
        .on(
            "sockets_leave",
            |socket: SocketRef, ack: AckSender, Data(t): Data<Target>| async move {
                let left = within(&socket, t.target).sockets_leave(t.room.unwrap_or_default());
                let _ = ack.send(&left.await.is_ok());
            },
        )
        .on(
            "disconnect_sockets",
            |socket: SocketRef, ack: AckSender, Data(t): Data<Target>| async move {
                // Answered first: the asking socket may be among the disconnected.
                let _ = ack.send(&true);
                let _ = within(&socket, t.target).disconnect_sockets(true).await;
            },
        )
        .on(
            "server_side_emit",
            |socket: SocketRef, ack: AckSender, Data(r): Data<Json>| async move {
                let args: Vec<Value> = r
                    .get("args")
                    .and_then(Json::as_array)
                    .map(|args| args.iter().cloned().map(Value::from).collect())
                    .unwrap_or_default();
                let reply = match socket
                    .nsp()
                    .timeout(Duration::from_millis(5_000))
                    .server_side_emit_with_ack::<_, Json>(
                        "sse",
                        &tower_socketio::extract::Args(args),
                    )
                    .await
                {
                    Ok(answers) => {
                        let message = format!(
                            "timeout reached: only {} responses received out of {}",
                            answers.answers.len(),
                            answers.expected
                        );
                        answers_reply(answers, message)
                    }
                    Err(error) => json!({ "error": error.to_string(), "answers": [] }),
                };
                let _ = ack.send(&reply);
            },
        )
        .on(
            "ask_room",
            |socket: SocketRef, ack: AckSender, Data(r): Data<AskRoom>| async move {
                let reply = match socket
                    .nsp()
                    .to(r.room)
                    .timeout(Duration::from_millis(r.timeout))
                    .emit_with_ack::<_, Json>("question", &r.question)
                    .await
                {
                    Ok(answers) => answers_reply(answers, "operation has timed out".into()),
                    Err(error) => json!({ "error": error.to_string(), "answers": [] }),
                };
                let _ = ack.send(&reply);
            },
        )
        .on(
            "server_count",
            |socket: SocketRef, ack: AckSender| async move {
                let count = socket.nsp().server_count().await.unwrap_or(1);
                let _ = ack.send(&count);
            },
        )
        .on_server_event("sse", |mut event: ServerEvent<Node>| async move {
            let answer = json!({ "node": event.state.id, "args": event.args });
            let _ = event.answer(&answer);
        })
}

type Factory = Arc<dyn Fn(LocalNamespace) -> Arc<dyn Adapter> + Send + Sync>;

/// The adapter `ADAPTER` names, and, for Redis, the handle to wait on for its subscriptions.
#[cfg(feature = "redis")]
async fn adapter(
    kind: &str,
) -> (
    Factory,
    Option<tower_socketio::adapter::redis::RedisAdapter>,
) {
    use tower_socketio::adapter::redis::{RedisAdapter, RedisConfig, SubscriptionMode};
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let config = RedisConfig::default().requests_timeout(Duration::from_millis(5_000));
    let config = match kind {
        "sharded" => config.sharded(SubscriptionMode::Dynamic),
        "streams" => config.streams(),
        _ => config,
    };
    match kind {
        "memory" => (memory(), None),
        "redis" | "sharded" | "streams" => match RedisAdapter::connect(&url, config).await {
            Ok(redis) => (Arc::new(redis.factory()), Some(redis)),
            Err(error) => {
                eprintln!("cannot reach Redis at {url}: {error}");
                std::process::exit(1);
            }
        },
        other => {
            eprintln!("ADAPTER={other} is not supported (redis, sharded, streams, memory)");
            std::process::exit(2);
        }
    }
}

/// Without the `redis` feature: memory only.
#[cfg(not(feature = "redis"))]
async fn adapter(kind: &str) -> (Factory, Option<()>) {
    if kind != "memory" {
        eprintln!(
            "ADAPTER={kind} needs the `redis` feature: cargo run --example cluster_node --features redis"
        );
        std::process::exit(2);
    }
    (memory(), None)
}

fn memory() -> Factory {
    Arc::new(|ns| Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let node = Node {
        id: std::env::var("NODE_ID").unwrap_or_else(|_| port.clone()),
    };
    let kind = std::env::var("ADAPTER").unwrap_or_else(|_| "redis".into());
    let (factory, redis) = adapter(&kind).await;
    let parser = match std::env::var("PARSER").as_deref() {
        Err(_) | Ok("" | "default") => tower_socketio::Parser::Default,
        #[cfg(feature = "msgpack")]
        Ok("msgpack") => tower_socketio::Parser::MsgPack,
        Ok(other) => {
            eprintln!(
                "PARSER={other} is not supported (default; msgpack with the `msgpack` feature)"
            );
            std::process::exit(2);
        }
    };
    let io = SocketIo::builder()
        .config(EngineConfig::default())
        .parser(parser)
        .adapter(move |ns| factory(ns))
        .connection_state_recovery(RecoveryConfig {
            max_disconnection_duration: Duration::from_millis(30_000),
            skip_middlewares: true,
            ..RecoveryConfig::default()
        })
        .with_state(node)
        .ns("/", namespace())
        .ns("/chat", namespace())
        .build();
    #[cfg(feature = "admin")]
    if std::env::var("ADMIN").is_ok_and(|v| v == "1") {
        // The bcrypt hash of "changeit".
        const HASH: &str = "$2b$10$GvZ1xaf6J5D2v06cHlzZue8opr0QzqRbY3wvftK9zCmUXaDWffzfi";
        let options = tower_socketio::admin::AdminOptions::basic("admin", HASH);
        let id = std::env::var("NODE_ID").unwrap_or_else(|_| port.clone());
        if let Err(error) = tower_socketio::admin::instrument(&io, options.server_id(id)) {
            eprintln!("admin UI: {error}");
            std::process::exit(1);
        }
    }
    #[cfg(feature = "redis")]
    if let Some(redis) = redis {
        if let Err(error) = redis.ready().await {
            eprintln!("Redis is not ready: {error}");
            std::process::exit(1);
        }
    }
    #[cfg(not(feature = "redis"))]
    let _ = redis;
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening {port}");
    io.serve(listener, std::future::pending()).await
}
