//! The Socket.IO server the official Socket.IO protocol test suite runs against.
//!
//! ```text
//! cargo run --release --example conformance      # listens on 127.0.0.1:3000, or $PORT
//! PARSER=msgpack cargo run --release --features msgpack --example conformance
//! ```
//!
//! With `PARSER=msgpack` the server uses the MessagePack parser (byte-compatible with
//! `socket.io-msgpack-parser` 3.x; the build needs the `msgpack` feature), everything else
//! unchanged.
//!
//! `/` and `/custom` emit `auth` with the client's CONNECT payload on connection; on `/`,
//! `message` is echoed back as `message-back` and `message-with-ack` is acknowledged with its
//! own arguments. Any other namespace is refused.

use std::time::Duration;

use tower_socketio::extract::{AckSender, Args, Data};
use tower_socketio::{EngineConfig, Namespace, Parser, SocketIo, SocketRef, Value};

/// The parser `PARSER` names: `msgpack`, or the default one when unset (or `default`).
fn parser() -> Parser {
    match std::env::var("PARSER").as_deref() {
        Err(_) | Ok("" | "default") => Parser::Default,
        #[cfg(feature = "msgpack")]
        Ok("msgpack") => Parser::MsgPack,
        Ok(other) => {
            eprintln!(
                "PARSER={other}: unknown parser (msgpack needs the build's `msgpack` feature)"
            );
            std::process::exit(2);
        }
    }
}

async fn emit_auth(socket: SocketRef, Data(auth): Data<Value>) {
    let _ = socket.emit("auth", &auth);
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let config = EngineConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(1_000_000);
    let parser = parser();
    let io = SocketIo::builder()
        .config(config)
        .parser(parser)
        .connect_timeout(Duration::from_millis(1_000))
        .ns(
            "/",
            Namespace::new()
                .on_connect(emit_auth)
                .on("message", |socket: SocketRef, args: Args| async move {
                    let _ = socket.emit("message-back", &args);
                })
                .on(
                    "message-with-ack",
                    |ack: AckSender, args: Args| async move {
                        let _ = ack.send(&args);
                    },
                ),
        )
        .ns("/custom", Namespace::new().on_connect(emit_auth))
        .build();
    tracing::info!(?parser, "socket.io conformance server on 127.0.0.1:{port}");
    io.listen(format!("127.0.0.1:{port}")).await
}
