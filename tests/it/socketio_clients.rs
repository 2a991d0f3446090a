//! The official Socket.IO clients from the npm registry (socket.io-client 4.x for protocol v5,
//! 2.x for v4) against an in-process server, one Node script a scenario
//! (`tests/js/socketio/*.mjs`; `scripts/test.sh` installs their packages).
//!
//! The server's contract, which the scripts rely on:
//! - `/`: a middleware refuses a client whose auth payload (v5) or query (v2) has
//!   `token=reject`, with message "rejected" and data `{"reason":"bad token"}`. On connection it
//!   emits `welcome` with `{"id": <socket id>, "auth": <auth payload>}`.
//!   Events: `echo` (emits `echo` back with the same arguments), `ack` (acknowledges with the same
//!   arguments), `ask` (emits `question` with the same arguments and an ack request, 1 s timeout;
//!   then emits `answer` with the client's answer, or `answer-error` with "timeout"), `binary`
//!   (emits `binary` with bytes [1,2,3] and `{"nested": bytes [4,5]}`), `disconnect-me` (the
//!   server disconnects the socket), `close-transport` (the server closes the whole connection),
//!   `broadcast-ticks` (emits `tick` with 0, 1, ... count-1 to every socket of `/`),
//!   `panic` (the handler panics), `emit-reserved` (acknowledges with the error of emitting
//!   `connect`), `reasons` (acknowledges with the list of disconnect reasons seen so far).
//! - `/admin`: on connection emits `admin-welcome` with the socket id.
//! - any other namespace is refused ("Invalid namespace").

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tower_socketio::extract::{AckSender, Args, Data, State};
use tower_socketio::{
    ConnectError, DisconnectReason, EngineConfig, Namespace, SocketIo, SocketRef, Value,
};

#[derive(Clone, Default)]
struct Seen {
    reasons: Arc<Mutex<Vec<String>>>,
}

fn server() -> SocketIo {
    let root = Namespace::new()
        .middleware(|socket: SocketRef, Data(auth): Data<Value>| async move {
            let query = socket.req_parts().uri.query().unwrap_or("").to_owned();
            let v2_reject = query.split('&').any(|p| p == "token=reject");
            let v5_reject = auth.get("token").and_then(Value::as_str) == Some("reject");
            if v2_reject || v5_reject {
                Err(ConnectError::new("rejected")
                    .with_data(serde_json::json!({"reason": "bad token"})))
            } else {
                Ok(())
            }
        })
        .on_connect(|socket: SocketRef, Data(auth): Data<Value>| async move {
            let welcome = serde_json::json!({ "id": socket.id().to_string() });
            let mut welcome = Value::from(welcome);
            if let Value::Object(entries) = &mut welcome {
                entries.push(("auth".into(), auth));
            }
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
                .timeout(Duration::from_secs(1))
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
            "broadcast-ticks",
            |socket: SocketRef, Data(count): Data<u32>| async move {
                for i in 0..count {
                    let _ = socket.nsp().emit("tick", &i);
                }
            },
        )
        .on("disconnect-me", |socket: SocketRef| async move {
            socket.disconnect();
        })
        .on("close-transport", |socket: SocketRef| async move {
            socket.close_connection();
        })
        .on("panic", |_socket: SocketRef| async move {
            panic!("a handler panicked on purpose");
        })
        .on(
            "emit-reserved",
            |socket: SocketRef, ack: AckSender| async move {
                let error = socket.emit("connect", &()).unwrap_err().to_string();
                let _ = ack.send(&error);
            },
        )
        .on(
            "reasons",
            |State(seen): State<Seen>, ack: AckSender| async move {
                let reasons = seen.reasons.lock().unwrap().clone();
                let _ = ack.send(&reasons);
            },
        )
        .on_disconnect(
            |State(seen): State<Seen>, reason: DisconnectReason| async move {
                seen.reasons.lock().unwrap().push(reason.to_string());
            },
        );
    let admin = Namespace::new().on_connect(|socket: SocketRef| async move {
        let _ = socket.emit("admin-welcome", &socket.id().to_string());
    });
    SocketIo::builder()
        .config(
            EngineConfig::default()
                .ping_interval(Duration::from_millis(500))
                .ping_timeout(Duration::from_millis(400)),
        )
        .with_state(Seen::default())
        .ns("/", root)
        .ns("/admin", admin)
        .build()
}

async fn start_server(port: u16) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server().serve(listener, async {
        let _ = stopped.await;
    }));
    (url, stop)
}

async fn run_script(name: &str) {
    let (url, _stop) = start_server(0).await;
    common::examples::run_node(&format!("socketio/{name}.mjs"), &[&url], name).await;
}

/// Serves the test server on $PORT (default 4567) until killed, for writing scripts:
/// `PORT=4567 cargo test --test it -- --ignored --nocapture serve_forever`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn serve_forever() {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4567);
    let (url, _stop) = start_server(port).await;
    println!("socket.io test server on {url}");
    std::future::pending::<()>().await;
}

// One line a script of tests/js/socketio/.
scenarios! {
    v5_basics => "v5-basics",
    v4_basics => "v4-basics",
    v5_resilience => "v5-resilience",
    v5_fanout => "v5-fanout",
    v5_connect => "v5-connect",
    v5_echo => "v5-echo",
    v5_binary => "v5-binary",
    v5_acks => "v5-acks",
    v5_middleware => "v5-middleware",
    v5_namespaces => "v5-namespaces",
    v5_disconnect => "v5-disconnect",
    v5_reconnect => "v5-reconnect",
    v5_panic => "v5-panic",
    v5_concurrent => "v5-concurrent",
    v4_connect => "v4-connect",
    v4_binary => "v4-binary",
    v4_errors => "v4-errors",
}
