//! The in-process test client (`tower_socketio::testing::TestClient`) against an axum app:
//! events, acknowledgements, binary, namespaces and a refused connection, with no socket.

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use tower_socketio::extract::{AckSender, Args, Data};
use tower_socketio::testing::TestClient;
use tower_socketio::{ConnectError, Namespace, SocketIo, SocketRef, Value};

fn app() -> Router {
    let io = SocketIo::builder()
        .ns(
            "/",
            Namespace::new()
                .on("echo", |socket: SocketRef, args: Args| async move {
                    let _ = socket.emit("echo", &args);
                })
                .on(
                    "len",
                    |ack: AckSender, Data(data): Data<Bytes>| async move {
                        let _ = ack.send(&data.len());
                    },
                ),
        )
        .ns(
            "/private",
            Namespace::new()
                .middleware(|Data(auth): Data<Value>| async move {
                    match auth.get("key").and_then(Value::as_str) {
                        Some("open sesame") => Ok(()),
                        _ => Err(ConnectError::new("wrong key")),
                    }
                })
                .on_connect(|socket: SocketRef| async move {
                    let _ = socket.emit("inside", &());
                }),
        )
        .build();
    Router::new()
        .route("/api", get(|| async { "rest" }))
        .layer(io.layer())
}

#[tokio::test]
async fn events_acks_and_binary_in_process() {
    let mut client = TestClient::connect(app(), "/").await.unwrap();
    assert_eq!(client.socket_id().len(), 20);
    client
        .emit("echo", &(1, "two", Bytes::from_static(&[3, 3, 3])))
        .await
        .unwrap();
    let (event, args) = client.recv().await.unwrap();
    assert_eq!(event, "echo");
    assert_eq!(
        args,
        [
            Value::from(1),
            Value::from("two"),
            Value::Binary(Bytes::from_static(&[3, 3, 3]))
        ]
    );
    let len: usize = client
        .emit_with_ack("len", &Bytes::from_static(&[0; 10]))
        .await
        .unwrap();
    assert_eq!(len, 10);
    client.disconnect().await.unwrap();
}

#[tokio::test]
async fn namespaces_and_refusals_in_process() {
    let refused = TestClient::connect_with(
        app(),
        "/socket.io/",
        "/private",
        Some(serde_json::json!({ "key": "guess" })),
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("wrong key"), "{refused}");
    let mut client = TestClient::connect_with(
        app(),
        "/socket.io/",
        "/private",
        Some(serde_json::json!({ "key": "open sesame" })),
    )
    .await
    .unwrap();
    let (event, args) = client.recv().await.unwrap();
    assert_eq!((event.as_str(), args.len()), ("inside", 0));
}

#[tokio::test]
async fn the_client_answers_the_servers_acknowledgement_requests() {
    let io = SocketIo::builder()
        .ns(
            "/",
            Namespace::new().on_connect(|socket: SocketRef| async move {
                let _ = socket.emit("plain", &());
                let answer = socket
                    .emit_with_ack::<_, (String, Bytes)>("question", &"name?")
                    .timeout(std::time::Duration::from_secs(2))
                    .await;
                let _ = match answer {
                    Ok((name, bytes)) => socket.emit("answered", &(name, bytes.len())),
                    Err(e) => socket.emit("failed", &e.to_string()),
                };
            }),
        )
        .build();
    let mut client = TestClient::connect(Router::new().layer(io.layer()), "/")
        .await
        .unwrap();
    let plain = client.recv_event().await.unwrap();
    assert_eq!((plain.name.as_str(), plain.ack_id), ("plain", None));
    let refused = client.ack(&plain, &()).await.unwrap_err();
    assert!(
        refused.to_string().contains("no acknowledgement"),
        "{refused}"
    );
    let question = client.recv_event().await.unwrap();
    assert_eq!(question.name, "question");
    assert_eq!(question.args, [Value::from("name?")]);
    assert!(question.ack_id.is_some());
    client
        .ack(&question, &("Ada", Bytes::from_static(&[1, 2, 3])))
        .await
        .unwrap();
    let (event, args) = client.recv().await.unwrap();
    assert_eq!(event, "answered");
    assert_eq!(args, [Value::from("Ada"), Value::from(3)]);
}
