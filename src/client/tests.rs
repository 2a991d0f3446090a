//! The dispatch of one client connection (Node's `Client`), driven through a real server in
//! process with raw packets: binary reassembly, protocol errors, namespace CONNECT and
//! DISCONNECT, acknowledgements, the connect timeout.

use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::adapter::BroadcastOptions;
use crate::extract::{AckSender, Args, State};
use crate::io::SocketIo;
use crate::ns::Namespace;
use crate::socket::Nsp;
use crate::test_helpers::{Client, Log, connect, entries, eventually, ns_core, open, socket_of};

fn push(log: &Log, entry: impl Into<String>) {
    log.lock().unwrap().push(entry.into());
}

/// Namespace routes that log each socket's disconnection (`<ns> <reason>`) and each `ping`
/// event (`ping <ns>`), answering it.
fn logged() -> Namespace<Log> {
    Namespace::new()
        .on(
            "ping",
            |socket: SocketRef, ack: AckSender, State(log): State<Log>| async move {
                push(&log, format!("ping {}", socket.ns()));
                let _ = ack.send("pong");
            },
        )
        .on_disconnect(
            |socket: SocketRef, reason: DisconnectReason, State(log): State<Log>| async move {
                push(&log, format!("{} {reason}", socket.ns()));
            },
        )
}

/// A server with namespaces `/` and `/admin`, both [`logged`].
fn server(log: &Log) -> SocketIo {
    SocketIo::builder()
        .with_state(log.clone())
        .ns("/", logged())
        .ns("/admin", logged())
        .build()
}

/// Whether the client's session is closed (its next poll says so).
async fn closed(client: &mut Client) -> bool {
    client.poll().await.is_err()
}

/// The next packet `client` receives is `marker`, emitted now to `socket`: nothing came before.
async fn nothing_before_marker(client: &mut Client, socket: &SocketRef) {
    socket.emit("marker", &()).unwrap();
    let prefix = match socket.ns() {
        "/" => String::new(),
        ns => format!("{ns},"),
    };
    assert_eq!(
        client.next_packet().await.unwrap(),
        format!(r#"2{prefix}["marker"]"#)
    );
}

#[tokio::test]
async fn a_binary_event_is_reassembled_from_its_text_packet_and_attachments() {
    type Seen = Arc<Mutex<Vec<Vec<Value>>>>;
    let seen = Seen::default();
    let io = SocketIo::builder()
        .with_state(seen.clone())
        .ns(
            "/",
            Namespace::new().on(
                "bin",
                |State(seen): State<Seen>, Args(args): Args| async move {
                    seen.lock().unwrap().push(args);
                },
            ),
        )
        .build();
    let mut client = connect(&io, "/").await;

    // The attachments in their own messages (here POSTs), placed by their number.
    client
        .post(r#"452-["bin","meta",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#)
        .await
        .unwrap();
    client.post("bAQID").await.unwrap();
    assert!(
        seen.lock().unwrap().is_empty(),
        "an attachment is still due"
    );
    client.post("bBAU=").await.unwrap();
    let one = Value::Binary(Bytes::from_static(&[1, 2, 3]));
    let two = Value::Binary(Bytes::from_static(&[4, 5]));
    assert_eq!(
        *seen.lock().unwrap(),
        [vec![Value::from("meta"), two.clone(), one.clone()]]
    );

    // The next packets are read afresh: a text event, then a binary one in one payload.
    client.emit("bin", "text").await.unwrap();
    client
        .emit("bin", &Bytes::from_static(&[1, 2, 3]))
        .await
        .unwrap();
    assert_eq!(
        seen.lock().unwrap()[1..],
        [vec![Value::from("text")], vec![one]]
    );
}

#[tokio::test]
async fn a_text_packet_while_attachments_are_due_closes_the_connection() {
    let log = Log::default();
    let io = server(&log);
    let mut client = connect(&io, "/").await;

    client
        .post(r#"451-["ping",{"_placeholder":true,"num":0}]"#)
        .await
        .unwrap();
    client.post(r#"42["ping"]"#).await.unwrap();
    eventually("the socket left", || !entries(&log).is_empty()).await;
    assert_eq!(entries(&log), ["/ parse error"]);
    assert!(closed(&mut client).await);
    assert!(io.sockets("/").is_empty());
}

#[tokio::test]
async fn a_binary_message_with_no_attachment_due_closes_the_connection() {
    let log = Log::default();
    let io = server(&log);
    let mut client = connect(&io, "/").await;

    client.post("bAQID").await.unwrap();
    eventually("the socket left", || !entries(&log).is_empty()).await;
    assert_eq!(entries(&log), ["/ parse error"]);
    assert!(closed(&mut client).await);
}

#[tokio::test]
async fn connect_to_an_unknown_namespace_is_refused_and_the_connection_stays() {
    let log = Log::default();
    let io = server(&log);
    let mut client = open(&io).await;

    client.post("40/nowhere,").await.unwrap();
    let refusal = client.next_packet().await.unwrap();
    let payload = refusal.strip_prefix("4/nowhere,").unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(payload).unwrap(),
        json!({ "message": "Invalid namespace" })
    );
    assert!(io.of("/nowhere").is_none());

    client.post("40/admin,").await.unwrap();
    assert!(
        client
            .next_packet()
            .await
            .unwrap()
            .starts_with(r#"0/admin,{"sid":"#)
    );
    assert_eq!(io.sockets("/admin").len(), 1);
}

#[tokio::test]
async fn a_second_connect_to_a_joined_namespace_is_ignored() {
    let log = Log::default();
    let io = SocketIo::builder()
        .with_state(log.clone())
        .ns(
            "/",
            logged().on_connect(|State(log): State<Log>| async move { push(&log, "connect") }),
        )
        .build();
    let mut client = connect(&io, "/").await;
    let socket = socket_of(&io, "/", &client);

    client.post(r#"40{"again":true}"#).await.unwrap();
    nothing_before_marker(&mut client, &socket).await;
    assert_eq!(entries(&log), ["connect"]);
    assert_eq!(io.sockets("/").len(), 1);
    assert!(socket.is_connected());
}

#[tokio::test]
async fn two_connects_to_a_namespace_while_its_middleware_waits_make_one_socket() {
    let log = Log::default();
    let slow = logged().middleware(|socket: SocketRef, State(log): State<Log>| async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        socket.join("admitted");
        push(&log, "admitted");
        Ok(())
    });
    let io = SocketIo::builder()
        .with_state(log.clone())
        .ns("/slow", slow)
        .build();
    let mut client = open(&io).await;

    // Both CONNECTs pass the middleware; the second one to finish is ignored.
    client.post("40/slow,\u{1e}40/slow,").await.unwrap();
    let answer = client.next_packet().await.unwrap();
    assert!(answer.starts_with(r#"0/slow,{"sid":"#), "{answer}");
    eventually("both admitted", || entries(&log).len() == 2).await;
    let sockets = io.sockets("/slow");
    assert_eq!(sockets.len(), 1, "one socket in the namespace");
    let socket = &sockets[0];
    assert_eq!(answer, format!(r#"0/slow,{{"sid":"{}"}}"#, socket.id()));
    nothing_before_marker(&mut client, socket).await;
    // The room the ignored one's middleware joined is left.
    let admitted = BroadcastOptions {
        rooms: ["admitted".to_owned()].into(),
        ..BroadcastOptions::default()
    };
    let ns = ns_core(&io, "/slow");
    assert_eq!(ns.adapter().local_targets(&admitted), [socket.id()]);

    // Closing the connection takes every socket it made out of the namespace.
    client.post("1").await.unwrap();
    eventually("the socket left", || io.sockets("/slow").is_empty()).await;
    assert_eq!(entries(&log)[2..], ["/slow transport close"]);
    assert!(ns.adapter().rooms().is_empty());
}

#[tokio::test]
async fn a_client_disconnect_leaves_only_that_namespace() {
    let log = Log::default();
    let io = server(&log);
    let mut client = connect(&io, "/").await;
    client.post("40/admin,").await.unwrap();
    assert!(client.next_packet().await.unwrap().starts_with("0/admin,"));
    assert_eq!(io.sockets("/admin").len(), 1);

    // A DISCONNECT for a namespace not joined does nothing.
    client.post("41/other,").await.unwrap();
    client.post("41/admin,").await.unwrap();
    assert_eq!(entries(&log), ["/admin client namespace disconnect"]);
    assert!(io.sockets("/admin").is_empty());
    assert_eq!(io.sockets("/").len(), 1);
    let answer: String = client.emit_with_ack("ping", &()).await.unwrap();
    assert_eq!(answer, "pong");
    assert_eq!(entries(&log)[1], "ping /");
}

#[tokio::test]
async fn a_client_sending_connect_error_is_closed() {
    let log = Log::default();
    let io = server(&log);
    let mut client = connect(&io, "/").await;

    client.post(r#"44{"message":"no"}"#).await.unwrap();
    eventually("the socket left", || !entries(&log).is_empty()).await;
    assert_eq!(entries(&log), ["/ parse error"]);
    assert!(closed(&mut client).await);
}

#[tokio::test]
async fn an_event_for_a_namespace_not_joined_is_ignored() {
    let log = Log::default();
    let io = server(&log);
    let mut client = connect(&io, "/").await;
    let socket = socket_of(&io, "/", &client);

    client.post(r#"42/admin,["ping"]"#).await.unwrap();
    client.post(r#"42/admin,7["ping"]"#).await.unwrap();
    nothing_before_marker(&mut client, &socket).await;
    assert!(entries(&log).is_empty());
    // The connection goes on.
    let answer: String = client.emit_with_ack("ping", &()).await.unwrap();
    assert_eq!(answer, "pong");
    assert_eq!(entries(&log), ["ping /"]);
}

#[tokio::test]
async fn an_ack_packet_resolves_the_server_emit_with_ack() {
    let log = Log::default();
    let io = server(&log);
    let mut client = connect(&io, "/").await;
    let socket = socket_of(&io, "/", &client);

    /// The ack id of the next packet, an event `event` with argument 1.
    async fn ack_id(client: &mut Client, event: &str) -> u64 {
        let packet = client.next_packet().await.unwrap();
        let raw = parser::decode(engine::Str::from(packet.clone())).unwrap();
        assert_eq!(&*raw.payload, format!(r#"["{event}",1]"#), "{packet}");
        raw.id.unwrap_or_else(|| panic!("no ack id in {packet}"))
    }

    let answer = socket.emit_with_ack::<_, (String, i64)>("question", &1);
    let id = ack_id(&mut client, "question").await;
    // An answer to another id changes nothing.
    client
        .post(&format!(r#"43{}["wrong",0]"#, id + 100))
        .await
        .unwrap();
    client.post(&format!(r#"43{id}["right",2]"#)).await.unwrap();
    assert_eq!(answer.await.unwrap(), ("right".to_owned(), 2));

    // A binary answer, its attachment in the same payload.
    let answer = socket.emit_with_ack::<_, Bytes>("binary", &1);
    let id = ack_id(&mut client, "binary").await;
    client
        .post(&format!(
            "461-{id}[{{\"_placeholder\":true,\"num\":0}}]\u{1e}bAQID"
        ))
        .await
        .unwrap();
    assert_eq!(answer.await.unwrap(), Bytes::from_static(&[1, 2, 3]));
}

#[tokio::test]
async fn the_connect_timeout_closes_a_client_that_joined_nothing() {
    let log = Log::default();
    let io = SocketIo::builder()
        .connect_timeout(Duration::from_millis(50))
        .with_state(log.clone())
        .ns("/", logged())
        .build();
    let mut idle = open(&io).await;
    let mut joined = connect(&io, "/").await;

    let started = tokio::time::Instant::now();
    let error = idle.poll().await.unwrap_err();
    assert_eq!(error.to_string(), "the server closed the session");
    assert!(started.elapsed() < Duration::from_millis(500));

    // The client that joined a namespace in time stays.
    tokio::time::sleep(Duration::from_millis(60)).await;
    let answer: String = joined.emit_with_ack("ping", &()).await.unwrap();
    assert_eq!(answer, "pong");
    assert!(entries(&log).iter().all(|e| !e.contains("forced close")));
}
