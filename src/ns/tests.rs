//! The namespace at run time, driven through a real server in process: packet and connection
//! middlewares, the fallback, the join and leave sequences, and what its adapter can do with
//! its sockets (`LocalSockets`).

use serde_json::json;

use super::*;
use crate::error::ConnectError;
use crate::extract::{AckSender, Args, Data, Event, State};
use crate::io::SocketIo;
use crate::parser::encode_event;
use crate::test_helpers::{Log, app, connect, entries, eventually, got, ns_core, socket_of};
use crate::testing::TestClient;

fn push(log: &Log, entry: impl Into<String>) {
    log.lock().unwrap().push(entry.into());
}

#[tokio::test]
async fn packet_middlewares_run_in_order_and_a_refusal_reaches_no_handler() {
    let log = Log::default();
    let (first, second, third) = (log.clone(), log.clone(), log.clone());
    let ns = Namespace::new()
        .packet_middleware(move |_, event, args| {
            push(&first, format!("first {event}"));
            args.push(Value::from("first"));
            Ok(())
        })
        .packet_middleware(move |_, event, args| {
            push(&second, format!("second {event}"));
            if event == "secret" {
                return Err("forbidden".into());
            }
            args.push(Value::from("second"));
            Ok(())
        })
        .packet_middleware(move |_, event, _| {
            push(&third, format!("third {event}"));
            Ok(())
        })
        .on("echo", |ack: AckSender, Args(args): Args| async move {
            let _ = ack.send(&args);
        })
        .on(
            "secret",
            |ack: AckSender, State(log): State<Log>| async move {
                push(&log, "secret handler");
                let _ = ack.send("leaked");
            },
        );
    let io = SocketIo::builder()
        .with_state(log.clone())
        .ns("/", ns)
        .build();
    let mut client = connect(&io, "/").await;

    // Each middleware sees what the one before it did; the handler sees what they all did.
    let echoed: serde_json::Value = client.emit_with_ack("echo", "x").await.unwrap();
    assert_eq!(echoed, json!(["x", "first", "second"]));
    assert_eq!(entries(&log), ["first echo", "second echo", "third echo"]);

    // A refusal stops the chain, reaches no handler and answers the ack request.
    log.lock().unwrap().clear();
    let refused: serde_json::Value = client.emit_with_ack("secret", &()).await.unwrap();
    assert_eq!(refused, json!({ "error": "forbidden" }));
    assert_eq!(entries(&log), ["first secret", "second secret"]);
}

#[tokio::test]
async fn the_fallback_gets_the_events_no_route_matches() {
    let ns = Namespace::new()
        .on("known", |ack: AckSender| async move {
            let _ = ack.send("route");
        })
        .fallback(
            |ack: AckSender, Event(name): Event, Args(args): Args| async move {
                let _ = ack.send(&("fallback", name, args));
            },
        );
    let io = SocketIo::builder().ns("/", ns).build();
    let mut client = connect(&io, "/").await;

    let answer: (String, String, Vec<Value>) = client
        .emit_with_ack("unheard-of", &(1, "two"))
        .await
        .unwrap();
    assert_eq!(
        answer,
        (
            "fallback".to_owned(),
            "unheard-of".to_owned(),
            vec![Value::from(1), Value::from("two")]
        )
    );
    let routed: String = client.emit_with_ack("known", &()).await.unwrap();
    assert_eq!(routed, "route");
}

#[tokio::test]
async fn connection_middlewares_run_in_order_and_the_first_refusal_undoes_their_rooms() {
    let log = Log::default();
    let ns = Namespace::new()
        .middleware(|socket: SocketRef, State(log): State<Log>| async move {
            push(&log, "first");
            socket.join("vip");
            Ok(())
        })
        .middleware(
            |State(log): State<Log>, Data(auth): Data<Value>| async move {
                push(&log, "second");
                match auth.get("key").and_then(Value::as_str) {
                    Some("open") => Ok(()),
                    _ => Err(ConnectError::new("not allowed").with_data(json!({ "code": 42 }))),
                }
            },
        )
        .middleware(|State(log): State<Log>| async move {
            push(&log, "third");
            Ok(())
        })
        .on_connect(|State(log): State<Log>| async move { push(&log, "connect") });
    let io = SocketIo::builder()
        .with_state(log.clone())
        .ns("/", ns)
        .build();

    let refused = TestClient::connect_with(app(&io), "/socket.io/", "/", Some(json!({"key": 1})))
        .await
        .unwrap_err();
    let refusal = refused.to_string();
    let payload = refusal
        .strip_prefix("connection refused: 4")
        .unwrap_or_else(|| panic!("a CONNECT_ERROR: {refusal}"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(payload).unwrap(),
        json!({ "message": "not allowed", "data": { "code": 42 } })
    );
    assert_eq!(entries(&log), ["first", "second"]);
    // The room the first middleware joined is gone with the refused socket.
    assert!(ns_core(&io, "/").adapter().rooms().is_empty());
    assert!(io.sockets("/").is_empty());

    log.lock().unwrap().clear();
    let client =
        TestClient::connect_with(app(&io), "/socket.io/", "/", Some(json!({"key": "open"})))
            .await
            .unwrap();
    assert_eq!(entries(&log), ["first", "second", "third", "connect"]);
    let socket = io.sockets("/").pop().unwrap();
    assert_eq!(socket.id().as_str(), client.socket_id());
    let mut rooms = socket.rooms();
    rooms.sort();
    let mut want = vec![socket.id().to_string(), "vip".to_owned()];
    want.sort();
    assert_eq!(rooms, want);
}

#[tokio::test]
async fn a_joining_socket_is_in_its_own_room_and_counted_before_the_connect_handler() {
    let log = Log::default();
    let ns = Namespace::new().on_connect(
        |socket: SocketRef, State(log): State<Log>, Data(auth): Data<Value>| async move {
            let own_room = socket.rooms().contains(&socket.id().to_string());
            let listed = socket.nsp().fetch_sockets().await.unwrap().len();
            push(
                &log,
                format!(
                    "auth {} own room {own_room} listed {listed}",
                    serde_json::to_string(&auth).unwrap()
                ),
            );
        },
    );
    let io = SocketIo::builder()
        .with_state(log.clone())
        .ns("/", ns)
        .build();

    let client =
        TestClient::connect_with(app(&io), "/socket.io/", "/", Some(json!({"token": "t"})))
            .await
            .unwrap();
    assert_eq!(
        entries(&log),
        [r#"auth {"token":"t"} own room true listed 1"#]
    );
    let socket = socket_of(&io, "/", &client);
    assert!(socket.is_connected());
    assert_eq!(
        socket.handshake().auth.get("token"),
        Some(&Value::from("t"))
    );
    assert_eq!(socket.rooms(), [socket.id().to_string()]);
    assert_eq!(ns_core(&io, "/").socket_count(), 1);

    // Without auth, the connect handler gets `{}`; both sockets are counted.
    let _other = connect(&io, "/").await;
    assert_eq!(entries(&log)[1], "auth {} own room true listed 2");
    assert_eq!(ns_core(&io, "/").socket_count(), 2);
}

#[tokio::test]
async fn the_leave_sequence_runs_once_disconnecting_with_the_rooms_then_disconnect() {
    let log = Log::default();
    /// The rooms of `socket`, its own id's as `self`, and whether its namespace lists it.
    async fn seen(socket: &SocketRef) -> String {
        let mut rooms: Vec<String> = socket
            .rooms()
            .into_iter()
            .map(|r| {
                if r == socket.id().as_str() {
                    "self".into()
                } else {
                    r
                }
            })
            .collect();
        rooms.sort();
        let listed = socket
            .nsp()
            .fetch_sockets()
            .await
            .unwrap()
            .iter()
            .any(|s| s.id() == socket.id());
        format!("{rooms:?} listed {listed}")
    }
    let ns = Namespace::new()
        .on_connect(|socket: SocketRef| async move { socket.join("lobby") })
        .on_disconnecting(
            |socket: SocketRef, reason: DisconnectReason, State(log): State<Log>| async move {
                push(
                    &log,
                    format!("disconnecting {reason} {}", seen(&socket).await),
                );
            },
        )
        .on_disconnect(
            |socket: SocketRef, reason: DisconnectReason, State(log): State<Log>| async move {
                push(&log, format!("disconnect {reason} {}", seen(&socket).await));
            },
        );
    let io = SocketIo::builder()
        .with_state(log.clone())
        .ns("/", ns)
        .build();
    let client = connect(&io, "/").await;
    let socket = socket_of(&io, "/", &client);

    client.disconnect().await.unwrap();
    assert_eq!(
        entries(&log),
        [
            r#"disconnecting client namespace disconnect ["lobby", "self"] listed true"#,
            "disconnect client namespace disconnect [] listed false",
        ]
    );
    assert!(!socket.is_connected());
    assert!(io.sockets("/").is_empty());
    assert!(ns_core(&io, "/").adapter().rooms().is_empty());

    // A second leave, whatever its reason, runs no handler.
    socket.left(DisconnectReason::TransportClose);
    socket.disconnect();
    assert_eq!(entries(&log).len(), 2);
}

#[tokio::test]
async fn the_adapter_sends_to_lists_and_disconnects_the_namespace_sockets() {
    let log = Log::default();
    let ns = Namespace::new().on_disconnect(
        |socket: SocketRef, reason: DisconnectReason, State(log): State<Log>| async move {
            push(&log, format!("{} {reason}", socket.id()));
        },
    );
    let io = SocketIo::builder()
        .with_state(log.clone())
        .ns("/", ns)
        .build();
    let (mut a, mut b) = (connect(&io, "/").await, connect(&io, "/").await);
    let (sa, sb) = (socket_of(&io, "/", &a), socket_of(&io, "/", &b));
    let ns = ns_core(&io, "/");
    let local = ns.adapter().namespace().clone();
    let news = || encode_event("/", "news", &1, None).unwrap();

    let mut sids = local.sids();
    sids.sort();
    let mut want = vec![sa.id(), sb.id()];
    want.sort();
    assert_eq!(sids, want);

    // To ids: the unknown ones are skipped.
    local.send([Sid::new(), sb.id(), Sid::new()], news(), false);
    assert!(got(&mut b, &sb, "news").await);
    assert!(!got(&mut a, &sa, "news").await);

    // To all, but those skipped.
    local.send_all(Some(&|sid| sid == sa.id()), news(), false);
    assert!(got(&mut b, &sb, "news").await);
    assert!(!got(&mut a, &sa, "news").await);
    local.send_all(None, news(), true);
    assert!(got(&mut a, &sa, "news").await);
    assert!(got(&mut b, &sb, "news").await);

    // Disconnect from the namespace: the client gets DISCONNECT, its connection stays open.
    local.disconnect(Sid::new(), false);
    local.disconnect(sb.id(), false);
    let error = b.recv().await.unwrap_err();
    assert_eq!(error.to_string(), "the server disconnected the socket");
    assert_eq!(
        entries(&log),
        [format!("{} server namespace disconnect", sb.id())]
    );
    assert_eq!(local.sids(), [sa.id()]);
    b.post("40").await.unwrap();
    assert!(b.next_packet().await.unwrap().starts_with(r#"0{"sid":"#));
    assert_eq!(local.sids().len(), 2);

    // With close (Node's `disconnect(true)`): the client is told (DISCONNECT), then the
    // connection closes; the socket leaves with "server namespace disconnect".
    local.disconnect(sa.id(), true);
    let error = a.recv().await.unwrap_err();
    assert_eq!(error.to_string(), "the server disconnected the socket");
    eventually("a's disconnect handler", || entries(&log).len() == 2).await;
    assert_eq!(
        entries(&log)[1],
        format!("{} server namespace disconnect", sa.id())
    );
    assert!(!sa.is_connected());
    assert_eq!(local.sids().len(), 1);
}
