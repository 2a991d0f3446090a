//! The admin UI's protocol (`@socket.io/admin-ui` 0.5), with the official socket.io-client from
//! Node acting as the UI: login refused and accepted, session reload, every event's shape, the
//! commands, readonly and production modes.

use crate::common;

use tower_socketio::admin::{self, AdminOptions, Mode};
use tower_socketio::extract::{AckSender, Data};
use tower_socketio::{Namespace, SocketIo, SocketRef};

/// The bcrypt hash of `changeit`.
pub const HASH: &str = "$2b$10$GvZ1xaf6J5D2v06cHlzZue8opr0QzqRbY3wvftK9zCmUXaDWffzfi";

/// A small app: `/` sets data on connect, answers `hello` with `hi`, joins rooms on `join`.
pub fn app() -> SocketIo {
    let ns = Namespace::new()
        .on_connect(|socket: SocketRef| async move {
            let _ = socket.set_data(&serde_json::json!({ "user": "ann" }));
        })
        .on(
            "hello",
            |socket: SocketRef, ack: AckSender, Data(n): Data<i64>| async move {
                let _ = socket.emit("hi", &(n + 1));
                let _ = ack.send("ok");
            },
        )
        .on(
            "join",
            |socket: SocketRef, Data(room): Data<String>| async move {
                socket.join(room);
            },
        )
        .on("shout", |socket: SocketRef| async move {
            let _ = socket.broadcast().emit("shouted", &"hey");
        });
    SocketIo::builder().ns("/", ns).build()
}

async fn server(options: AdminOptions) -> String {
    let io = app();
    admin::instrument(&io, options).unwrap();
    format!("http://{}", common::serve(io).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_protocol_with_the_official_client() {
    let main = server(AdminOptions::basic("admin", HASH).server_id("main")).await;
    let readonly = server(AdminOptions::basic("admin", HASH).readonly(true)).await;
    let production = server(AdminOptions::no_auth().mode(Mode::Production)).await;
    common::examples::run_node(
        "admin/protocol.mjs",
        &[&main, &readonly, &production],
        "protocol",
    )
    .await;
}

/// The same with the MessagePack parser (the UI's `parser` option): observers decode outgoing
/// MessagePack packets.
#[cfg(feature = "msgpack")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_with_the_msgpack_parser() {
    let ns = Namespace::new()
        .on(
            "hello",
            |socket: SocketRef, ack: AckSender, Data(n): Data<i64>| async move {
                let _ = socket.emit("hi", &(n + 1));
                let _ = ack.send("ok");
            },
        )
        .on("shout", |socket: SocketRef| async move {
            let _ = socket.broadcast().emit("shouted", &"hey");
        });
    let io = SocketIo::builder()
        .parser(tower_socketio::Parser::MsgPack)
        .ns("/", ns)
        .build();
    admin::instrument(&io, AdminOptions::no_auth()).unwrap();
    let url = format!("http://{}", common::serve(io).await);
    common::examples::run_node("admin/msgpack.mjs", &[&url], "msgpack").await;
}

#[tokio::test]
async fn instrument_refuses_a_bad_hash_and_a_second_install() {
    let io = app();
    let error = admin::instrument(&io, AdminOptions::basic("admin", "plain")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the password must be a valid bcrypt hash"
    );
    admin::instrument(&io, AdminOptions::basic("admin", HASH)).unwrap();
    assert!(admin::instrument(&io, AdminOptions::no_auth().namespace("/other")).is_err());
}
