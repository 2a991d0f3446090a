//! Rooms, broadcasts and the server-side utilities, in-process over real WebSocket connections.

use crate::common;

use std::time::Duration;

use common::raw_client::RawClient;
use tower_socketio::extract::{AckSender, Data};
use tower_socketio::{Namespace, SocketIo, SocketRef};

async fn start() -> (SocketIo, std::net::SocketAddr) {
    let ns = Namespace::new()
        .on(
            "join",
            |socket: SocketRef, Data(room): Data<String>| async move {
                socket.join(room);
            },
        )
        .on(
            "leave",
            |socket: SocketRef, Data(room): Data<String>| async move {
                socket.leave(room);
            },
        )
        .on(
            "say",
            |socket: SocketRef, Data((room, text)): Data<(String, String)>| async move {
                let _ = socket.to(room).emit("said", &text);
            },
        )
        .on(
            "shout",
            |socket: SocketRef, Data(text): Data<String>| async move {
                let _ = socket.broadcast().emit("shouted", &text);
            },
        )
        .on("rooms", |socket: SocketRef, ack: AckSender| async move {
            let mut rooms = socket.rooms();
            rooms.sort();
            let _ = ack.send(&rooms);
        });
    let io = SocketIo::builder().ns("/", ns).build();
    let addr = common::serve(io.clone()).await;
    (io, addr)
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn room_broadcast_reaches_the_room_but_not_the_sender() {
    let (io, addr) = start().await;
    let mut a = RawClient::connect(addr).await;
    let mut b = RawClient::connect(addr).await;
    let mut c = RawClient::connect(addr).await;
    a.send(r#"42["join","r1"]"#).await;
    b.send(r#"42["join","r1"]"#).await;
    settle().await;
    a.send(r#"42["say",["r1","hello"]]"#).await;
    assert_eq!(b.recv().await, r#"2["said","hello"]"#);
    a.expect_silence(Duration::from_millis(100)).await;
    c.expect_silence(Duration::from_millis(100)).await;

    // socket.broadcast(): everyone but the sender.
    c.send(r#"42["shout","hey"]"#).await;
    assert_eq!(a.recv().await, r#"2["shouted","hey"]"#);
    assert_eq!(b.recv().await, r#"2["shouted","hey"]"#);
    c.expect_silence(Duration::from_millis(100)).await;

    // Server-side: to + except.
    let _ = io.to("r1").except(a.sid.as_str()).emit("news", &1);
    assert_eq!(b.recv().await, r#"2["news",1]"#);
    a.expect_silence(Duration::from_millis(100)).await;

    // Several rooms: a socket in two of them gets the packet once.
    b.send(r#"42["join","r2"]"#).await;
    c.send(r#"42["join","r2"]"#).await;
    settle().await;
    let _ = io.to(["r1", "r2"]).emit("both", &2);
    assert_eq!(a.recv().await, r#"2["both",2]"#);
    assert_eq!(b.recv().await, r#"2["both",2]"#);
    assert_eq!(c.recv().await, r#"2["both",2]"#);
    // ... and minus a room's members: only a is left.
    let _ = io.to(["r1", "r2"]).except("r2").emit("both", &3);
    assert_eq!(a.recv().await, r#"2["both",3]"#);
    b.expect_silence(Duration::from_millis(100)).await;
    c.expect_silence(Duration::from_millis(100)).await;
    a.expect_silence(Duration::from_millis(50)).await;

    // rooms(): its own id and the joined room.
    a.send(r#"421["rooms"]"#).await;
    let mut want = vec![a.sid.clone(), "r1".to_owned()];
    want.sort();
    // One argument: the list.
    assert_eq!(
        a.recv().await,
        format!("31[{}]", serde_json::to_string(&want).unwrap())
    );
}

#[tokio::test]
async fn leaving_and_disconnecting_leave_rooms() {
    let (io, addr) = start().await;
    let mut a = RawClient::connect(addr).await;
    let mut b = RawClient::connect(addr).await;
    a.send(r#"42["join","r"]"#).await;
    b.send(r#"42["join","r"]"#).await;
    settle().await;
    let mut in_room: Vec<String> = io
        .to("r")
        .fetch_sockets()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id().to_string())
        .collect();
    in_room.sort();
    let mut want = vec![a.sid.clone(), b.sid.clone()];
    want.sort();
    assert_eq!(in_room, want);

    b.send(r#"42["leave","r"]"#).await;
    settle().await;
    let in_room = io.to("r").fetch_sockets().await.unwrap();
    assert_eq!(in_room.len(), 1);
    assert_eq!(in_room[0].id().to_string(), a.sid);

    drop(a);
    settle().await;
    assert!(io.to("r").fetch_sockets().await.unwrap().is_empty());
    assert_eq!(io.sockets("/").len(), 1);
    b.expect_silence(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn server_side_utilities() {
    let (io, addr) = start().await;
    let mut a = RawClient::connect(addr).await;
    let mut b = RawClient::connect(addr).await;
    settle().await;
    io.of("/").unwrap().sockets_join("all").await.unwrap();
    let _ = io.to("all").emit("joined", &());
    assert_eq!(a.recv().await, r#"2["joined"]"#);
    assert_eq!(b.recv().await, r#"2["joined"]"#);
    io.to(b.sid.as_str()).sockets_leave("all").await.unwrap();
    let _ = io.to("all").emit("still", &());
    assert_eq!(a.recv().await, r#"2["still"]"#);
    b.expect_silence(Duration::from_millis(100)).await;

    // Broadcast with acknowledgements: every answer is collected.
    let asking = io
        .of("/")
        .unwrap()
        .timeout(Duration::from_millis(500))
        .emit_with_ack::<_, String>("question", &"q");
    let handle = tokio::spawn(asking);
    let qa = a.recv().await;
    let qb = b.recv().await;
    // One packet for all: the same ack id.
    assert_eq!(qa, qb);
    let id: String = qa[1..].chars().take_while(char::is_ascii_digit).collect();
    a.send(&format!(r#"43{id}["from a"]"#)).await;
    // b never answers: two expected, one came, incomplete at the timeout.
    let answers = handle.await.unwrap().unwrap();
    assert_eq!(answers.expected, 2);
    assert!(!answers.complete);
    assert_eq!(answers.answers.len(), 1);
    assert_eq!(answers.answers[0].as_ref().unwrap(), "from a");
    // Both answering completes it before the timeout.
    let asking = io
        .of("/")
        .unwrap()
        .timeout(Duration::from_secs(5))
        .emit_with_ack::<_, String>("question", &"q2");
    let started = std::time::Instant::now();
    let handle = tokio::spawn(asking);
    for client in [&mut a, &mut b] {
        let question = client.recv().await;
        let id: String = question[1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        client.send(&format!(r#"43{id}["ok"]"#)).await;
    }
    let answers = handle.await.unwrap().unwrap();
    assert!(answers.complete);
    assert_eq!(answers.answers.len(), 2);
    assert!(started.elapsed() < Duration::from_secs(4));

    io.to(a.sid.as_str())
        .disconnect_sockets(false)
        .await
        .unwrap();
    assert_eq!(a.recv().await, "1");
    settle().await;
    assert_eq!(io.sockets("/").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_get_every_broadcast_exactly_once_in_order() {
    let (io, addr) = start().await;
    let mut clients = Vec::new();
    for _ in 0..50 {
        clients.push(RawClient::connect(addr).await);
    }
    for i in 0..20 {
        let _ = io.emit("tick", &i);
    }
    let readers: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                for i in 0..20 {
                    assert_eq!(client.recv().await, format!(r#"2["tick",{i}]"#));
                }
                client.expect_silence(Duration::from_millis(100)).await;
            })
        })
        .collect();
    for reader in readers {
        reader.await.unwrap();
    }
}

#[tokio::test]
async fn a_malformed_packet_closes_only_its_own_connection() {
    let (io, addr) = start().await;
    let mut good = RawClient::connect(addr).await;
    for bad in [
        "4abc",
        "42{}",
        r#"42abc["x"]"#,
        r#"451-["x",{"_placeholder":true,"num":0}]"#,
    ] {
        let mut evil = RawClient::connect(addr).await;
        evil.send(bad).await;
        if bad.starts_with("451-") {
            // A text packet where the announced attachment should have come.
            evil.send(r#"42["x"]"#).await;
        }
        evil.expect_closed().await;
    }
    // The well-behaved client and the server carry on.
    good.send(r#"42["join","r"]"#).await;
    settle().await;
    let _ = io.to("r").emit("still", &"alive");
    assert_eq!(good.recv().await, r#"2["still","alive"]"#);
    assert_eq!(io.sockets("/").len(), 1);
}
