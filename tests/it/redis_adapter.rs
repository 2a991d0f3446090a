//! The Redis adapters (`adapter::redis`), classic, sharded and streams, between two servers in this
//! process on a real `redis-server` of the test's own, with in-process clients: every cluster
//! operation crosses from one server to the other. (The official clients and mixed clusters with
//! Node servers: `redis_cluster.rs`.)

use std::time::Duration;

use tower_socketio::adapter::redis::{RedisAdapter, RedisConfig, SubscriptionMode};
use tower_socketio::extract::{AckSender, Data};
use tower_socketio::testing::TestClient;
use tower_socketio::{Namespace, ServerEvent, SocketIo, SocketRef, Value};

use crate::common::redis::RedisServer;

type Client = TestClient<axum::Router, axum::body::Body>;

fn namespace(node: &'static str) -> Namespace {
    Namespace::new()
        .on(
            "join",
            |socket: SocketRef, ack: AckSender, Data(room): Data<String>| async move {
                socket.join(room.clone());
                let _ = socket.room_ready(&room).await;
                let _ = ack.send(&true);
            },
        )
        .on(
            "data",
            |socket: SocketRef, ack: AckSender, Data(data): Data<Value>| async move {
                let _ = ack.send(&socket.set_data(&data).is_ok());
            },
        )
        .on_server_event("ping", move |mut event: ServerEvent| async move {
            let answer = serde_json::json!({ "node": node, "args": event.args });
            let _ = event.answer(&answer);
        })
}

/// Two servers on one Redis, `/` and `/other` each.
async fn cluster(redis: &RedisServer, config: RedisConfig) -> (SocketIo, SocketIo) {
    let mut servers = Vec::new();
    for node in ["a", "b"] {
        let adapter = RedisAdapter::connect(&redis.url(), config.clone())
            .await
            .unwrap();
        let io = SocketIo::builder()
            .adapter(adapter.factory())
            .ns("/", namespace(node))
            .ns("/other", Namespace::new())
            .build();
        adapter.ready().await.unwrap();
        servers.push(io);
    }
    let b = servers.pop().unwrap();
    (servers.pop().unwrap(), b)
}

async fn client(io: &SocketIo, ns: &str) -> Client {
    let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), ns)
        .await
        .unwrap();
    client.set_timeout(Duration::from_secs(3));
    client
}

/// Nothing arrives for a moment.
async fn silent(client: &mut Client) {
    client.set_timeout(Duration::from_millis(300));
    assert!(client.recv().await.is_err(), "an unexpected event");
    client.set_timeout(Duration::from_secs(3));
}

async fn every_operation_crosses(config: RedisConfig) {
    let redis = RedisServer::start();
    let (a, b) = cluster(&redis, config).await;
    let mut on_a = client(&a, "/").await;
    let mut on_b = client(&b, "/").await;
    let mut other_b = client(&b, "/other").await;
    assert_eq!(a.server_count().await.unwrap(), 2);

    // A room broadcast with binary, from A to B's client; not to other namespaces.
    let joined: bool = on_b.emit_with_ack("join", "red").await.unwrap();
    assert!(joined);
    a.to("red")
        .emit("news", &(1, bytes::Bytes::from_static(b"\x00\xff")))
        .await
        .unwrap();
    let (event, args) = on_b.recv().await.unwrap();
    assert_eq!(event, "news");
    assert_eq!(
        args,
        [
            Value::from(1),
            Value::Binary(bytes::Bytes::from_static(b"\x00\xff"))
        ]
    );
    silent(&mut on_a).await;
    silent(&mut other_b).await;

    // Everyone, both ways; `local` stays home.
    b.emit("all", &"from b").await.unwrap();
    assert_eq!(on_a.recv().await.unwrap().0, "all");
    assert_eq!(on_b.recv().await.unwrap().0, "all");
    a.of("/").unwrap().local().emit("home", &()).await.unwrap();
    assert_eq!(on_a.recv().await.unwrap().0, "home");
    silent(&mut on_b).await;

    // fetch_sockets sees the other server's socket with its data and rooms.
    let stored: bool = on_b
        .emit_with_ack("data", &serde_json::json!({"n": 7}))
        .await
        .unwrap();
    assert!(stored);
    let sockets = a.fetch_sockets().await.unwrap();
    assert_eq!(sockets.len(), 2);
    let remote = sockets
        .iter()
        .find(|s| s.id().to_string() == on_b.socket_id())
        .expect("B's socket fetched from A");
    assert_eq!(remote.data::<serde_json::Value>().unwrap()["n"], 7);
    assert!(remote.rooms().iter().any(|r| r == "red"));
    let in_red = a.to("red").fetch_sockets().await.unwrap();
    assert_eq!(in_red.len(), 1);

    // A remote socket's operations travel to its server.
    remote.emit("direct", &"to you").await.unwrap();
    assert_eq!(on_b.recv().await.unwrap().0, "direct");
    remote.join("blue").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.to("blue").emit("blue", &()).await.unwrap();
    assert_eq!(on_b.recv().await.unwrap().0, "blue");

    // sockets_join / sockets_leave / disconnect_sockets from A act on B's socket.
    a.of("/").unwrap().sockets_join("green").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.to("green").emit("green", &()).await.unwrap();
    assert_eq!(on_a.recv().await.unwrap().0, "green");
    assert_eq!(on_b.recv().await.unwrap().0, "green");
    a.to(on_b.socket_id()).sockets_leave("green").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.to("green").emit("green-again", &()).await.unwrap();
    assert_eq!(on_a.recv().await.unwrap().0, "green-again");
    silent(&mut on_b).await;

    // Server-side emits: B's handler answers A; A's own handler does not hear it.
    let answers = a
        .of("/")
        .unwrap()
        .server_side_emit_with_ack::<_, serde_json::Value>("ping", &(1, "x"))
        .await
        .unwrap();
    assert!(answers.complete, "{answers:?}");
    assert_eq!(answers.expected, 1);
    assert_eq!(
        answers.answers[0].as_ref().unwrap(),
        &serde_json::json!({ "node": "b", "args": [1, "x"] })
    );

    // A broadcast with acknowledgements to no client anywhere completes with nothing.
    let none = a
        .to("nobody")
        .timeout(Duration::from_secs(2))
        .emit_with_ack::<_, Value>("q", &())
        .await
        .unwrap();
    assert!(none.complete && none.answers.is_empty(), "{none:?}");

    a.to(on_b.socket_id())
        .disconnect_sockets(false)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(b.sockets("/").is_empty(), "B's socket disconnected from A");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_every_operation_crosses() {
    every_operation_crosses(RedisConfig::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_with_specific_response_channels() {
    every_operation_crosses(RedisConfig::default().publish_on_specific_response_channel(true))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_every_operation_crosses() {
    every_operation_crosses(RedisConfig::default().sharded(SubscriptionMode::Dynamic)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_static_every_operation_crosses() {
    every_operation_crosses(RedisConfig::default().sharded(SubscriptionMode::Static)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_every_operation_crosses() {
    every_operation_crosses(RedisConfig::default().streams()).await;
}

/// Redis restarted under a cluster: clients stay connected, and once the adapters have
/// reconnected and subscribed again (room channels of the sharded adapter included),
/// broadcasts cross again.
async fn survives_a_redis_restart(config: RedisConfig) {
    let mut redis = RedisServer::start();
    let (a, b) = cluster(&redis, config).await;
    let mut on_b = client(&b, "/").await;
    let _: bool = on_b.emit_with_ack("join", "red").await.unwrap();
    a.to("red").emit("before", &()).await.unwrap();
    assert_eq!(on_b.recv().await.unwrap().0, "before");

    redis.stop();
    // Meanwhile: local work goes on, cluster operations fail with an error, no client leaves.
    b.to("red").local().emit("local", &()).await.unwrap();
    assert_eq!(on_b.recv().await.unwrap().0, "local");
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.start_again();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    on_b.set_timeout(Duration::from_millis(300));
    loop {
        let _ = a.to("red").emit("after", &()).await;
        if let Ok((event, _)) = on_b.recv().await {
            assert_eq!(event, "after");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "broadcasts did not cross again after the restart"
        );
    }
    assert_eq!(b.sockets("/").len(), 1, "the client stayed connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_survives_a_redis_restart() {
    survives_a_redis_restart(RedisConfig::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_survives_a_redis_restart_with_its_room_channels() {
    survives_a_redis_restart(RedisConfig::default().sharded(SubscriptionMode::Dynamic)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_survive_a_redis_restart() {
    survives_a_redis_restart(RedisConfig::default().streams()).await;
}
