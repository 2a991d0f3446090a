//! Broadcast operators on a real server in process: who they target, for emits and for the
//! operations on sockets, and emits with acknowledgements.

use std::collections::HashSet;

use super::*;
use crate::error::AckError;
use crate::io::SocketIo;
use crate::parser;
use crate::socket::SocketRef;
use crate::test_helpers::{Client, connect, got, socket_of};

/// A server with namespace `/` and `n` clients in it, with their sockets.
async fn clients(n: usize) -> (SocketIo, Vec<(Client, SocketRef)>) {
    let io = SocketIo::builder().build();
    let mut all = Vec::new();
    for _ in 0..n {
        let client = connect(&io, "/").await;
        let socket = socket_of(&io, "/", &client);
        all.push((client, socket));
    }
    (io, all)
}

/// Which of `all` get event `news` (by index), each checked against a marker.
async fn reached(all: &mut [(Client, SocketRef)]) -> Vec<usize> {
    let mut reached = Vec::new();
    for (i, (client, socket)) in all.iter_mut().enumerate() {
        if got(client, socket, "news").await {
            reached.push(i);
        }
    }
    reached
}

fn ids(sockets: &[SocketRef]) -> HashSet<Sid> {
    sockets.iter().map(|s| s.id()).collect()
}

fn fetched_ids(sockets: &[RemoteSocket]) -> HashSet<Sid> {
    sockets.iter().map(|s| s.id()).collect()
}

#[tokio::test]
async fn rooms_accumulate_across_to_and_within_and_except_removes() {
    let (io, mut all) = clients(4).await;
    all[0].1.join("r1");
    all[1].1.join("r2");
    all[2].1.join("r3");
    all[3].1.join(["r1", "muted"]);

    let op = io.to("r1").within("r2").except("muted");
    assert!(op.emit("news", &1).is_ok());
    assert_eq!(reached(&mut all).await, [0, 1]);
    let fetched = op.fetch_sockets().await.unwrap();
    assert_eq!(
        fetched_ids(&fetched),
        ids(&[all[0].1.clone(), all[1].1.clone()])
    );

    // No room: every socket, but the excepted ones.
    let _ = io.except(["muted", "r3"]).emit("news", &2);
    assert_eq!(reached(&mut all).await, [0, 1]);
    let _ = io.to(vec!["r2", "r3"]).emit("news", &3);
    assert_eq!(reached(&mut all).await, [1, 2]);
}

#[tokio::test]
async fn a_socket_broadcast_leaves_out_the_sender_and_nsp_does_not() {
    let (_io, mut all) = clients(3).await;
    for (_, socket) in &all {
        socket.join("lobby");
    }
    all[2].1.join("away");
    let sender = all[0].1.clone();

    let _ = sender.to("lobby").emit("news", &1);
    assert_eq!(reached(&mut all).await, [1, 2]);
    let _ = sender.within("lobby").except("away").emit("news", &2);
    assert_eq!(reached(&mut all).await, [1]);
    let _ = sender.broadcast().emit("news", &3);
    assert_eq!(reached(&mut all).await, [1, 2]);
    let _ = sender.nsp().emit("news", &4);
    assert_eq!(reached(&mut all).await, [0, 1, 2]);
    assert_eq!(sender.broadcast().fetch_sockets().await.unwrap().len(), 2);
    assert_eq!(sender.nsp().fetch_sockets().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_reserved_event_name_is_not_emitted() {
    let (io, mut all) = clients(1).await;
    for name in crate::parser::RESERVED_EVENTS {
        let emitted = io.emit(name, &1);
        assert!(!emitted.is_ok(), "{name}");
        match emitted.await {
            Err(BroadcastError::Emit(EmitError::ReservedEvent(event))) => assert_eq!(event, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(reached(&mut all).await.is_empty());
    let emitted = io.emit("news", &1);
    assert!(emitted.is_ok());
    assert!(emitted.await.is_ok());
    assert_eq!(reached(&mut all).await, [0]);
}

#[tokio::test]
async fn emit_with_ack_gathers_the_answers_until_the_timeout() {
    let (io, mut all) = clients(3).await;
    all[0].1.join("asked");
    all[1].1.join("asked");
    let answers = io
        .to("asked")
        .timeout(Duration::from_millis(100))
        .emit_with_ack::<_, String>("question", &1);
    // The first one answers; the second one does not; the third one is not asked.
    let packet = all[0].0.next_packet().await.unwrap();
    let raw = parser::decode(engine::Str::from(packet.clone())).unwrap();
    let id = raw.id.unwrap_or_else(|| panic!("an ack request: {packet}"));
    assert_eq!(&*raw.payload, r#"["question",1]"#);
    all[0].0.post(&format!(r#"43{id}["yes"]"#)).await.unwrap();

    let started = tokio::time::Instant::now();
    let answers = answers.await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));
    // Two asked, one answered: incomplete at the timeout, with the answer that came.
    assert_eq!(answers.expected, 2);
    assert!(!answers.complete, "{answers:?}");
    assert_eq!(answers.answers.len(), 1);
    assert_eq!(answers.answers[0].as_ref().unwrap(), "yes");
    // The answer must deserialize into the type asked for.
    assert!(matches!(
        AckAnswers::<u32>::read(crate::adapter::Gathered {
            answers: vec![crate::Value::from("no")],
            expected: 1,
            complete: true,
        })
        .answers[0],
        Err(AckError::Deserialize(_))
    ));
    let (client, socket) = &mut all[2];
    assert!(!got(client, socket, "question").await);

    // A reserved name: no packet, the error when awaited.
    let refused = io
        .of("/")
        .unwrap()
        .emit_with_ack::<_, String>("connect", &())
        .await;
    assert!(matches!(
        refused,
        Err(BroadcastError::Emit(EmitError::ReservedEvent(_)))
    ));
}

#[tokio::test]
async fn socket_operations_act_on_exactly_the_targeted_sockets() {
    let (io, all) = clients(3).await;
    let [a, b, c] = [0, 1, 2].map(|i| all[i].1.clone());
    a.join("r1");
    b.join("r1");
    let has = |socket: &SocketRef, room: &str| socket.rooms().iter().any(|r| r == room);

    io.to("r1").sockets_join(["team", "blue"]).await.unwrap();
    assert!(has(&a, "team") && has(&a, "blue") && has(&b, "team") && has(&b, "blue"));
    assert!(!has(&c, "team") && !has(&c, "blue"));

    io.to("team")
        .except(b.id())
        .sockets_leave("r1")
        .await
        .unwrap();
    assert!(!has(&a, "r1") && has(&b, "r1"));
    assert!(has(&a, "team"));

    let fetched = io.to("team").fetch_sockets().await.unwrap();
    assert_eq!(fetched_ids(&fetched), ids(&[a.clone(), b.clone()]));
    let fetched = io.fetch_sockets().await.unwrap();
    assert_eq!(fetched.len(), 3);

    io.to("team")
        .except(a.id())
        .disconnect_sockets(false)
        .await
        .unwrap();
    assert!(a.is_connected() && !b.is_connected() && c.is_connected());
    assert_eq!(
        ids(&io.sockets("/")),
        ids(&[a.clone(), c.clone()]),
        "b left the namespace"
    );
}

#[tokio::test]
async fn volatile_and_local_reach_the_same_sockets() {
    let (io, mut all) = clients(3).await;
    all[0].1.join("r1");
    all[1].1.join("r1");

    let _ = io.to("r1").volatile().emit("news", &1);
    assert_eq!(reached(&mut all).await, [0, 1]);
    let _ = io.to("r1").local().emit("news", &2);
    assert_eq!(reached(&mut all).await, [0, 1]);
    let _ = io
        .to("r1")
        .local()
        .volatile()
        .compress(false)
        .emit("news", &3);
    assert_eq!(reached(&mut all).await, [0, 1]);
    let everyone = io.of("/").unwrap().local().volatile();
    let _ = everyone.emit("news", &4);
    assert_eq!(reached(&mut all).await, [0, 1, 2]);
    assert_eq!(everyone.fetch_sockets().await.unwrap().len(), 3);
}
