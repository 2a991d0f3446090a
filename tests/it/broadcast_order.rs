//! Broadcasts a handler emits in a row are queued together (one shared run per recipient); these
//! tests check that nothing is reordered or lost on the way: against direct emits, acks, other
//! recipients, a disconnect, the group size bound, binary attachments and a full buffer.

use crate::common;

use std::time::Duration;

use bytes::Bytes;
use common::raw_client::RawClient;
use tower_socketio::extract::{AckSender, Data};
use tower_socketio::testing::TestClient;
use tower_socketio::{EngineConfig, Namespace, SocketIo, SocketRef, Value};

fn namespace() -> Namespace {
    Namespace::new()
        .on(
            "join",
            |socket: SocketRef, ack: AckSender, Data(room): Data<String>| async move {
                socket.join(room);
                let _ = ack.send(&());
            },
        )
        .on("mixed", |socket: SocketRef, ack: AckSender| async move {
            let everyone = socket.nsp();
            for i in 0..3 {
                let _ = everyone.emit("all", &i);
            }
            let _ = socket.emit("direct", &());
            for i in 3..5 {
                let _ = everyone.emit("all", &i);
            }
            let _ = ack.send(&"done");
        })
        .on("alternate", |socket: SocketRef| async move {
            // r1, r1, everyone, everyone, r1, r2, r2: groups start and end on the way.
            let ns = || socket.nsp();
            let _ = ns().to("r1").emit("t", &0);
            let _ = ns().to("r1").emit("t", &1);
            let _ = ns().emit("t", &2);
            let _ = ns().emit("t", &3);
            let _ = ns().to("r1").emit("t", &4);
            let _ = ns().to("r2").emit("t", &5);
            let _ = ns().to("r2").emit("t", &6);
            let _ = ns().emit("t", &"end");
        })
        .on(
            "many",
            |socket: SocketRef, Data(count): Data<u64>| async move {
                let everyone = socket.nsp();
                for i in 0..count {
                    let _ = everyone.emit("tick", &i);
                }
                let _ = everyone.emit("tick", &"end");
            },
        )
        .on("across_threads", |socket: SocketRef| async move {
            let everyone = socket.nsp();
            let _ = everyone.emit("x", &0);
            let _ = everyone.emit("x", &1);
            // Queued from another thread, after the two broadcasts and before the third.
            let other = socket.clone();
            std::thread::spawn(move || {
                let _ = other.emit("direct", &());
            })
            .join()
            .unwrap();
            let _ = everyone.emit("x", &2);
        })
        .on("then_disconnect", |socket: SocketRef| async move {
            let everyone = socket.nsp();
            let _ = everyone.emit("bye", &1);
            let _ = everyone.emit("bye", &2);
            socket.disconnect();
        })
        .on("binary", |socket: SocketRef| async move {
            let everyone = socket.nsp();
            let _ = everyone.emit("b", &(0, Bytes::from_static(&[0, 0])));
            let _ = everyone.emit("b", &(1, Bytes::from_static(&[1])));
            let _ = everyone.emit("b", &(2, "text only"));
        })
        .on(
            "overflow",
            |socket: SocketRef, Data(count): Data<u64>| async move {
                let everyone = socket.nsp();
                for i in 0..count {
                    let _ = everyone.emit("tick", &i);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = everyone.emit("tick", &"after");
            },
        )
}

async fn start(config: EngineConfig) -> std::net::SocketAddr {
    let io = SocketIo::builder()
        .config(config)
        .ns("/", namespace())
        .build();
    common::serve(io).await
}

/// Asserts that the next packets are `event` with each of `numbers`, in order.
async fn expect_events(client: &mut RawClient, event: &str, numbers: std::ops::Range<u32>) {
    for i in numbers {
        assert_eq!(client.recv().await, format!(r#"2["{event}",{i}]"#));
    }
}

async fn join(client: &mut RawClient, room: &str) {
    client.send(&format!(r#"420["join","{room}"]"#)).await;
    assert_eq!(client.recv().await, "30[]");
}

#[tokio::test]
async fn broadcasts_direct_emits_and_acks_keep_their_order() {
    let addr = start(EngineConfig::default()).await;
    let mut a = RawClient::connect(addr).await;
    let mut b = RawClient::connect(addr).await;
    a.send(r#"421["mixed"]"#).await;
    expect_events(&mut a, "all", 0..3).await;
    assert_eq!(a.recv().await, r#"2["direct"]"#);
    expect_events(&mut a, "all", 3..5).await;
    assert_eq!(a.recv().await, r#"31["done"]"#);
    expect_events(&mut b, "all", 0..5).await;
}

#[tokio::test]
async fn changing_recipients_keeps_each_clients_order() {
    let addr = start(EngineConfig::default()).await;
    let mut one = RawClient::connect(addr).await;
    let mut two = RawClient::connect(addr).await;
    let mut both = RawClient::connect(addr).await;
    let mut none = RawClient::connect(addr).await;
    join(&mut one, "r1").await;
    join(&mut two, "r2").await;
    join(&mut both, "r1").await;
    join(&mut both, "r2").await;
    none.send(r#"42["alternate"]"#).await;
    let expect = |ticks: &[&str]| -> Vec<String> {
        ticks.iter().map(|t| format!(r#"2["t",{t}]"#)).collect()
    };
    for (client, ticks) in [
        (&mut one, expect(&["0", "1", "2", "3", "4", "\"end\""])),
        (&mut two, expect(&["2", "3", "5", "6", "\"end\""])),
        (
            &mut both,
            expect(&["0", "1", "2", "3", "4", "5", "6", "\"end\""]),
        ),
        (&mut none, expect(&["2", "3", "\"end\""])),
    ] {
        for tick in ticks {
            assert_eq!(client.recv().await, tick);
        }
    }
}

#[tokio::test]
async fn more_broadcasts_than_one_group_holds_all_arrive_in_order() {
    let addr = start(EngineConfig::default()).await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(RawClient::connect(addr).await);
    }
    clients[0].send(r#"42["many",1500]"#).await;
    for client in &mut clients {
        expect_events(client, "tick", 0..1500).await;
        assert_eq!(client.recv().await, r#"2["tick","end"]"#);
    }
}

#[tokio::test]
async fn a_packet_queued_from_another_thread_keeps_its_place() {
    let addr = start(EngineConfig::default()).await;
    let mut sender = RawClient::connect(addr).await;
    let mut other = RawClient::connect(addr).await;
    sender.send(r#"42["across_threads"]"#).await;
    for expected in [
        r#"2["x",0]"#,
        r#"2["x",1]"#,
        r#"2["direct"]"#,
        r#"2["x",2]"#,
    ] {
        assert_eq!(sender.recv().await, expected);
    }
    expect_events(&mut other, "x", 0..3).await;
}

#[tokio::test]
async fn broadcasts_before_a_disconnect_arrive_before_it() {
    let addr = start(EngineConfig::default()).await;
    let mut leaving = RawClient::connect(addr).await;
    let mut staying = RawClient::connect(addr).await;
    leaving.send(r#"42["then_disconnect"]"#).await;
    assert_eq!(leaving.recv().await, r#"2["bye",1]"#);
    assert_eq!(leaving.recv().await, r#"2["bye",2]"#);
    assert_eq!(leaving.recv().await, "1");
    assert_eq!(staying.recv().await, r#"2["bye",1]"#);
    assert_eq!(staying.recv().await, r#"2["bye",2]"#);
}

#[tokio::test]
async fn a_client_past_its_byte_bound_is_disconnected_and_the_others_get_everything() {
    // Room for about ten ticks: 30 broadcasts in one poll of the handler (nothing is written
    // meanwhile) do not fit. The client is disconnected rather than missing broadcasts in
    // silence.
    let addr = start(EngineConfig::default().max_buffered_bytes(140)).await;
    let mut slow = RawClient::connect(addr).await;
    slow.send(r#"42["overflow",30]"#).await;
    slow.expect_closed().await;
    // With a bound that fits: every broadcast, in order.
    let addr = start(EngineConfig::default().max_buffered_bytes(1000)).await;
    let mut sender = RawClient::connect(addr).await;
    let mut other = RawClient::connect(addr).await;
    sender.send(r#"42["overflow",30]"#).await;
    for client in [&mut sender, &mut other] {
        expect_events(client, "tick", 0..30).await;
        assert_eq!(client.recv().await, r#"2["tick","after"]"#);
    }
}

#[tokio::test]
async fn grouped_binary_broadcasts_arrive_whole_over_polling() {
    let io = SocketIo::builder().ns("/", namespace()).build();
    let service = axum::Router::new().layer(io.layer());
    let mut client = TestClient::connect(service, "/").await.unwrap();
    client.emit("binary", &()).await.unwrap();
    let expected = [
        vec![Value::from(0), Value::Binary(Bytes::from_static(&[0, 0]))],
        vec![Value::from(1), Value::Binary(Bytes::from_static(&[1]))],
        vec![Value::from(2), Value::from("text only")],
    ];
    for args in expected {
        let (event, got) = client.recv().await.unwrap();
        assert_eq!(event, "b");
        assert_eq!(got, args);
    }
}
