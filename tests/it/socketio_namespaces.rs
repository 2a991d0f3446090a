//! Dynamic namespaces, disconnect handlers and their reasons, in-process over WebSocket.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::raw_client::RawClient;
use tower_socketio::extract::State;
use tower_socketio::{DisconnectReason, Namespace, SocketIo, SocketRef};

type Log = Arc<Mutex<Vec<String>>>;

async fn start() -> (SocketIo, std::net::SocketAddr, Log) {
    let log: Log = Arc::default();
    let team = Namespace::new()
        .on_connect(|socket: SocketRef| async move {
            socket.join("members");
            let _ = socket.emit("hello", socket.ns());
        })
        .on_disconnecting(
            |socket: SocketRef, reason: DisconnectReason, State(log): State<Log>| async move {
                let mut rooms = socket.rooms();
                rooms.retain(|r| *r != socket.id().to_string());
                log.lock()
                    .unwrap()
                    .push(format!("disconnecting {} {reason} {rooms:?}", socket.ns()));
            },
        )
        .on_disconnect(
            |socket: SocketRef, reason: DisconnectReason, State(log): State<Log>| async move {
                log.lock().unwrap().push(format!(
                    "disconnect {} {reason} {:?}",
                    socket.ns(),
                    socket.rooms()
                ));
            },
        );
    let io = SocketIo::builder()
        .with_state(log.clone())
        .dynamic_ns(|name: &str| name.starts_with("/team-"), team)
        .build();
    let addr = common::serve(io.clone()).await;
    (io, addr, log)
}

async fn wait_for(log: &Log, entries: usize) {
    tokio::time::timeout(Duration::from_secs(2), async {
        while log.lock().unwrap().len() < entries {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the handlers ran");
}

#[tokio::test]
async fn dynamic_namespaces_are_created_on_demand_and_kept_apart() {
    let (io, addr, log) = start().await;
    let mut red = RawClient::connect_to(addr, "/team-red").await;
    assert_eq!(red.recv().await, r#"2/team-red,["hello","/team-red"]"#);
    let mut blue = RawClient::connect_to(addr, "/team-blue").await;
    assert_eq!(blue.recv().await, r#"2/team-blue,["hello","/team-blue"]"#);
    // Each child has its own sockets and rooms.
    let _ = io
        .of("/team-red")
        .unwrap()
        .to("members")
        .emit("news", &"red only");
    assert_eq!(red.recv().await, r#"2/team-red,["news","red only"]"#);
    blue.expect_silence(Duration::from_millis(100)).await;
    assert_eq!(io.sockets("/team-red").len(), 1);

    // A name no static or dynamic namespace matches is refused.
    let mut other = RawClient::open(addr).await;
    other.send("40/other,").await;
    assert_eq!(
        other.recv().await,
        r#"4/other,{"message":"Invalid namespace"}"#
    );

    // Leaving: "disconnecting" still sees the rooms, "disconnect" no longer does.
    red.send("41/team-red,").await;
    wait_for(&log, 2).await;
    assert_eq!(
        *log.lock().unwrap(),
        [
            r#"disconnecting /team-red client namespace disconnect ["members"]"#,
            "disconnect /team-red client namespace disconnect []",
        ]
    );
    drop(blue);
    wait_for(&log, 4).await;
    assert!(log.lock().unwrap()[3].starts_with("disconnect /team-blue transport close"));
}

#[tokio::test]
async fn server_disconnect_and_close_reasons() {
    let (io, addr, log) = start().await;
    let mut a = RawClient::connect_to(addr, "/team-a").await;
    let _ = a.recv().await;
    let socket = io.sockets("/team-a").pop().unwrap();
    socket.disconnect();
    assert_eq!(a.recv().await, "1/team-a,");
    wait_for(&log, 2).await;
    assert!(log.lock().unwrap()[1].contains("server namespace disconnect"));

    let mut b = RawClient::connect_to(addr, "/team-b").await;
    let _ = b.recv().await;
    io.close();
    wait_for(&log, 4).await;
    assert!(log.lock().unwrap()[3].contains("server shutting down"));
    b.expect_closed().await;
}

#[tokio::test]
async fn packet_middlewares_can_refuse_and_rewrite_events() {
    use tower_socketio::extract::{AckSender, Args};
    let ns = Namespace::new()
        .packet_middleware(|_socket, event, args| {
            if event == "secret" {
                return Err("forbidden".into());
            }
            args.truncate(1);
            Ok(())
        })
        .on("echo", |ack: AckSender, args: Args| async move {
            let _ = ack.send(&args);
        })
        .on("secret", |ack: AckSender| async move {
            let _ = ack.send("leaked");
        })
        .on("whoami", |socket: SocketRef, ack: AckSender| async move {
            let _ = ack.send(&socket.remote_addr().map(|a| a.ip().to_string()));
        })
        .on(
            "needs_user",
            |_user: tower_socketio::extract::Extension<String>, ack: AckSender| async move {
                let _ = ack.send("called");
            },
        );
    let io = SocketIo::builder().ns("/", ns).build();
    let addr = common::serve(io).await;
    let mut client = RawClient::connect(addr).await;
    client.send(r#"421["echo",1,2,3]"#).await;
    assert_eq!(client.recv().await, "31[1]");
    client.send(r#"422["secret"]"#).await;
    assert_eq!(client.recv().await, r#"32[{"error":"forbidden"}]"#);
    client.send(r#"423["whoami"]"#).await;
    assert_eq!(client.recv().await, r#"33["127.0.0.1"]"#);
    // An extraction failure: the client hears what failed, not the server's type names.
    client.send(r#"424["needs_user"]"#).await;
    assert_eq!(
        client.recv().await,
        r#"34[{"error":"a socket extension is missing"}]"#
    );
}

#[tokio::test]
async fn connect_timeout_closes_only_clients_that_join_no_namespace() {
    let io = SocketIo::builder()
        .connect_timeout(Duration::from_millis(200))
        .build();
    let addr = common::serve(io.clone()).await;
    let mut silent = RawClient::open(addr).await;
    let mut joined = RawClient::connect(addr).await;
    let started = std::time::Instant::now();
    silent.expect_closed().await;
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    joined.expect_silence(Duration::from_millis(300)).await;
    assert_eq!(io.sockets("/").len(), 1);
    assert_eq!(io.engine().session_count(), 1);
}

#[tokio::test]
async fn connect_timeout_holds_across_an_upgrade() {
    let io = SocketIo::builder()
        .connect_timeout(Duration::from_millis(300))
        .build();
    let addr = common::serve(io.clone()).await;
    // The timer is armed while the session polls; it must still fire once it has moved to
    // the WebSocket.
    let started = std::time::Instant::now();
    let mut upgraded = RawClient::open_by_upgrade(addr).await;
    upgraded.expect_closed().await;
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(io.engine().session_count(), 0);
}

#[tokio::test]
async fn joining_a_namespace_withdraws_the_connect_timeout() {
    let io = SocketIo::builder()
        .connect_timeout(Duration::from_millis(200))
        .ns("/", Namespace::new())
        .build();
    let addr = common::serve(io.clone()).await;
    let mut client = RawClient::connect(addr).await;
    // As in Node, the first join clears the timer: leaving the namespace before it would
    // have fired does not get the session closed.
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.send("41").await;
    client.expect_silence(Duration::from_millis(400)).await;
    assert_eq!(io.engine().session_count(), 1);
}

#[tokio::test]
async fn the_adapter_factory_makes_every_namespace_adapter() {
    use tower_socketio::adapter::{Adapter, LocalNamespace, MemoryAdapter};
    let made = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = made.clone();
    let _io = SocketIo::builder()
        .adapter(move |ns: LocalNamespace| {
            record.lock().unwrap().push(ns.name().to_owned());
            Arc::new(MemoryAdapter::new(ns)) as Arc<dyn Adapter>
        })
        .ns("/chat", Namespace::new())
        .build();
    let mut made = made.lock().unwrap().clone();
    made.sort();
    // Static namespaces and `/` too, not only dynamic ones.
    assert_eq!(made, ["/", "/chat"]);
}

#[tokio::test]
async fn data_option_tells_no_auth_from_wrong_auth() {
    use tower_socketio::ConnectError;
    use tower_socketio::extract::Data;
    #[derive(serde::Deserialize)]
    struct Auth {
        token: String,
    }
    let ns = Namespace::new()
        .middleware(
            |_socket: SocketRef, Data(auth): Data<Option<Auth>>| async move {
                match auth {
                    None => Err(ConnectError::new("credentials required")),
                    Some(auth) if auth.token == "secret" => Ok(()),
                    Some(_) => Err(ConnectError::new("wrong credentials")),
                }
            },
        )
        // Anything else reads the empty payload as before: `{}`.
        .on_connect(
            |socket: SocketRef, Data(auth): Data<tower_socketio::Value>| async move {
                let _ = socket.emit("auth", &auth);
            },
        );
    let io = SocketIo::builder().ns("/", ns).build();
    let addr = common::serve(io).await;
    for (connect, expected) in [
        ("40", r#"4{"message":"credentials required"}"#),
        ("40{}", r#"4{"message":"credentials required"}"#),
        (
            r#"40{"token":"nope"}"#,
            r#"4{"message":"wrong credentials"}"#,
        ),
    ] {
        let mut client = RawClient::open(addr).await;
        client.send(connect).await;
        assert_eq!(client.recv().await, expected, "{connect}");
    }
    let mut client = RawClient::open(addr).await;
    client.send(r#"40{"token":"secret"}"#).await;
    assert!(client.recv().await.starts_with("0{\"sid\""));
    assert_eq!(client.recv().await, r#"2["auth",{"token":"secret"}]"#);
}
