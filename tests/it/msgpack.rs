//! The MessagePack parser (feature `msgpack`) against the official clients: socket.io-client 4.8
//! with socket.io-msgpack-parser 3.0.2 (`tests/js/msgpack/clients.mjs`), and clients with the
//! wrong parser on either side.
//!
//! The server's contract, which the script relies on:
//! - `/`: a middleware refuses a client whose auth has `token: "reject"`, with message
//!   "rejected" and data `{"reason":"bad token"}`. On connection it emits `welcome` with
//!   `{"id": <socket id>, "auth": <auth payload>}`. Events: `echo` (emits `echo` back with the
//!   same arguments), `ack` (acknowledges with the same arguments), `ask` (emits `question` with
//!   the same arguments and an ack request; then emits `answer` with the client's answer, or
//!   `answer-error`), `binary` (emits `binary` with bytes [1,2,3] and `{"nested": bytes [4,5]}`),
//!   `count-binaries` (acknowledges with the lengths of the event's binaries, in order: `Bin`),
//!   `broadcast-ticks` (emits `tick` with `i` and bytes `[i]`, i = 0..count, to every socket of
//!   `/`), `disconnect-me` (the server disconnects the socket).
//! - `/admin`: on connection emits `admin-welcome` with the socket id.
//! - any other namespace is refused ("Invalid namespace").

use std::time::Duration;

use bytes::Bytes;
use tower_socketio::extract::{AckSender, Args, Bin, Data};
use tower_socketio::{ConnectError, EngineConfig, Namespace, Parser, SocketIo, SocketRef, Value};

use crate::common;

fn server(parser: Parser) -> SocketIo {
    let root = Namespace::new()
        .middleware(|Data(auth): Data<Value>| async move {
            if auth.get("token").and_then(Value::as_str) == Some("reject") {
                Err(ConnectError::new("rejected")
                    .with_data(serde_json::json!({"reason": "bad token"})))
            } else {
                Ok(())
            }
        })
        .on_connect(|socket: SocketRef, Data(auth): Data<Value>| async move {
            let welcome = Value::Object(vec![
                ("id".into(), Value::from(socket.id().to_string().as_str())),
                ("auth".into(), auth),
            ]);
            let _ = socket.emit("welcome", &welcome);
        })
        .on("echo", |socket: SocketRef, args: Args| async move {
            let _ = socket.emit("echo", &args);
        })
        .on("ack", |ack: AckSender, args: Args| async move {
            let _ = ack.send(&args);
        })
        .on("ask", |socket: SocketRef, args: Args| async move {
            let answer = socket
                .emit_with_ack::<_, Value>("question", &args)
                .timeout(Duration::from_secs(2))
                .await;
            let _ = match answer {
                Ok(answer) => socket.emit("answer", &answer),
                Err(error) => socket.emit("answer-error", &error.to_string()),
            };
        })
        .on("binary", |socket: SocketRef| async move {
            let nested = Value::Object(vec![(
                "nested".into(),
                Value::Binary(Bytes::from_static(&[4, 5])),
            )]);
            let _ = socket.emit("binary", &(Bytes::from_static(&[1, 2, 3]), nested));
        })
        .on(
            "count-binaries",
            |ack: AckSender, Bin(binaries): Bin| async move {
                let lengths: Vec<usize> = binaries.iter().map(Bytes::len).collect();
                let _ = ack.send(&lengths);
            },
        )
        .on(
            "broadcast-ticks",
            |socket: SocketRef, Data(count): Data<u8>| async move {
                for i in 0..count {
                    let _ = socket.nsp().emit("tick", &(i, Bytes::from(vec![i])));
                }
            },
        )
        .on("disconnect-me", |socket: SocketRef| async move {
            socket.disconnect();
        });
    let admin = Namespace::new().on_connect(|socket: SocketRef| async move {
        let _ = socket.emit("admin-welcome", &socket.id().to_string());
    });
    SocketIo::builder()
        .config(
            EngineConfig::default()
                .ping_interval(Duration::from_millis(500))
                .ping_timeout(Duration::from_millis(400)),
        )
        .parser(parser)
        .ns("/", root)
        .ns("/admin", admin)
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_clients_with_the_msgpack_parser() {
    let msgpack = common::serve(server(Parser::MsgPack)).await;
    let default = common::serve(server(Parser::Default)).await;
    common::examples::run_node(
        "msgpack/clients.mjs",
        &[&format!("http://{msgpack}"), &format!("http://{default}")],
        "clients",
    )
    .await;
}

/// A page in Chromium with the MessagePack bundle this server serves
/// (`tests/js/browser/msgpack.mjs`): `sum` acknowledges with the sum of the bytes of every
/// binary it got and their count; `send-bytes` emits `bytes` with `[9, 8]` and
/// `{"inner": [7]}` as binary.
async fn browser(transports: &str) {
    use axum::response::Html;
    use axum::routing::get;

    let ns = Namespace::new()
        .on_connect(|socket: SocketRef, Data(auth): Data<Value>| async move {
            let _ = socket.emit("welcome", &auth.get("name"));
        })
        .on("sum", |ack: AckSender, Bin(binaries): Bin| async move {
            let sum: u32 = binaries
                .iter()
                .flat_map(|b| b.iter())
                .map(|&b| u32::from(b))
                .sum();
            let _ = ack.send(&serde_json::json!({"sum": sum, "count": binaries.len()}));
        })
        .on("send-bytes", |socket: SocketRef| async move {
            let inner = Value::Object(vec![(
                "inner".into(),
                Value::Binary(Bytes::from_static(&[7])),
            )]);
            let _ = socket.emit("bytes", &(Bytes::from_static(&[9, 8]), inner));
        });
    let io = SocketIo::builder()
        .parser(Parser::MsgPack)
        .ns("/", ns)
        .build();
    let page = r#"<!doctype html><script src="/socket.io/socket.io.msgpack.min.js"></script>"#;
    let app = axum::Router::new()
        .route("/", get(move || async move { Html(page) }))
        .layer(io.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}");
    let marker = format!("msgpack-browser-{transports}");
    common::browser::run("msgpack.mjs", &[&url, transports], &marker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_msgpack_bundle_in_the_browser() {
    browser("default").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_msgpack_bundle_in_the_browser_polling_only() {
    browser("polling").await;
}

/// What the server logs, kept for one test: a `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A client of the default parser at a MessagePack server, and the other way round: the session
/// is closed and the server's log says which parser the client probably uses. In-process, on
/// one thread, so that the test's log subscriber sees the server's tasks.
#[tokio::test(flavor = "current_thread")]
async fn a_client_with_the_other_parser_is_named_in_the_log() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    for (parser, body, expected) in [
        // The default parser's CONNECT, as text, at a MessagePack server.
        (Parser::MsgPack, "40".to_owned(), "the default parser"),
        // A MessagePack CONNECT (`{type: 0, nsp: "/"}`, base64 in a polling payload) at a
        // default server.
        (
            Parser::Default,
            "bgqR0eXBlAKNuc3ChLw==".to_owned(),
            "the MessagePack parser",
        ),
    ] {
        let before = logs.text().len();
        let io = SocketIo::builder()
            .parser(parser)
            .ns("/", Namespace::new())
            .build();
        let app = axum::Router::new().layer(io.layer());
        let open = common::call(
            app.clone(),
            common::get("/socket.io/?EIO=4&transport=polling"),
        )
        .await;
        let handshake: serde_json::Value = serde_json::from_str(&open.text()[1..]).unwrap();
        let sid = handshake["sid"].as_str().unwrap().to_owned();
        let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        common::call(app.clone(), common::post(&uri, body)).await;
        // The session is gone: the next poll is refused or closes.
        let poll = common::call(app.clone(), common::get(&uri)).await;
        assert!(
            poll.status != http::StatusCode::OK || poll.text().starts_with('1'),
            "{parser:?}: the session should be closed, got {} {}",
            poll.status,
            poll.text()
        );
        let log = logs.text()[before..].to_owned();
        assert!(
            log.contains("WARN") && log.contains(&format!("probably uses {expected}")),
            "{parser:?}: {log}"
        );
    }
}
