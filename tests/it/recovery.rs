//! Connection state recovery (Node 4.6+), on the wire with raw clients: the private id in the
//! CONNECT answer, offsets on stored events, missed events replayed before the CONNECT answer,
//! the same id, rooms and data, middlewares skipped; and the cases Node gets wrong (no offset
//! before the first event, volatile events, a second recovery while the old connection lingers).
//! Then the official client (`tests/js/socketio/v5-recovery.mjs`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tower_socketio::extract::{Data, Recovered};
use tower_socketio::{ConnectError, Namespace, RecoveryConfig, SocketIo, SocketRef, Value};

use crate::common::raw_client::RawClient;

#[derive(Default, Clone)]
struct Seen {
    middleware_runs: Arc<Mutex<usize>>,
    reasons: Arc<Mutex<Vec<String>>>,
}

fn server(config: Option<RecoveryConfig>, seen: Seen) -> SocketIo {
    server_with(config, seen, tower_socketio::EngineConfig::default())
}

fn server_with(
    config: Option<RecoveryConfig>,
    seen: Seen,
    engine: tower_socketio::EngineConfig,
) -> SocketIo {
    let runs = seen.middleware_runs.clone();
    let reasons = seen.reasons.clone();
    let ns = Namespace::new()
        .middleware(move |Data(auth): Data<Value>| {
            let runs = runs.clone();
            async move {
                *runs.lock().unwrap() += 1;
                if auth.get("deny") == Some(&Value::Bool(true)) {
                    return Err(ConnectError::new("denied"));
                }
                Ok(())
            }
        })
        .on_connect(
            |socket: SocketRef, Recovered(recovered): Recovered| async move {
                if !recovered {
                    socket.join("room1");
                    let _ = socket.set_data(&serde_json::json!({ "name": "kept" }));
                }
            },
        )
        .on("state", |socket: SocketRef| async move {
            let mut rooms = socket.rooms();
            rooms.sort();
            let data: serde_json::Value = socket.data().unwrap();
            let _ = socket.emit("state", &(rooms, data, socket.recovered()));
        })
        .on_disconnect(move |reason: tower_socketio::DisconnectReason| {
            let reasons = reasons.clone();
            async move { reasons.lock().unwrap().push(reason.to_string()) }
        });
    let mut builder = SocketIo::builder().config(engine);
    if let Some(config) = config {
        builder = builder.connection_state_recovery(config);
    }
    builder.ns("/", ns).build()
}

/// `(sid, pid)` of a CONNECT answer (the last line of what `connect` read).
fn ids(connect: &str) -> (String, String) {
    let connect = connect.lines().last().unwrap();
    let json: serde_json::Value = serde_json::from_str(&connect[1..]).unwrap();
    (
        json["sid"].as_str().unwrap().to_owned(),
        json["pid"].as_str().map(str::to_owned).unwrap_or_default(),
    )
}

/// The offset an event carries (its last argument).
fn offset(event: &str) -> String {
    let json: Vec<serde_json::Value> = serde_json::from_str(&event[1..]).unwrap();
    json.last().unwrap().as_str().unwrap().to_owned()
}

async fn connect(addr: std::net::SocketAddr, auth: &str) -> (RawClient, String) {
    // Missed events come first: the caller reads them again from `missed`.
    let (client, mut before, answer) = RawClient::connect_with(addr, auth).await;
    before.push(answer);
    (client, before.join("\n"))
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn missed_events_rooms_and_data_come_back_before_the_connect_answer() {
    let seen = Seen::default();
    let io = server(Some(RecoveryConfig::default()), seen.clone());
    let addr = crate::common::serve(io.clone()).await;
    let (mut client, answer) = connect(addr, "").await;
    let (sid, pid) = ids(&answer);
    assert_eq!(pid.len(), 20, "a private id: {answer}");
    settle().await;
    io.emit("e", &1).await.unwrap();
    let first = client.recv().await;
    assert!(
        first.starts_with(r#"2["e",1,""#),
        "an offset appended: {first}"
    );
    let last = offset(&first);
    assert_eq!(*seen.middleware_runs.lock().unwrap(), 1);

    // The connection drops; events are emitted meanwhile.
    drop(client);
    settle().await;
    assert_eq!(*seen.reasons.lock().unwrap(), ["transport close"]);
    io.emit("e", &2).await.unwrap();
    io.to("room1").emit("e", &3).await.unwrap();
    io.to("elsewhere").emit("e", &4).await.unwrap();
    io.to(sid.as_str()).emit("e", &5).await.unwrap();
    io.emit("e", &6).await.unwrap();

    let (mut client, answer) =
        connect(addr, &format!(r#"{{"pid":"{pid}","offset":"{last}"}}"#)).await;
    let lines: Vec<&str> = answer.lines().collect();
    let numbers: Vec<&str> = lines[..lines.len() - 1]
        .iter()
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(numbers, ["2", "3", "5", "6"], "{answer}");
    // The same ids, CONNECT last, middlewares skipped.
    assert_eq!(ids(lines.last().unwrap()), (sid.clone(), pid.clone()));
    assert_eq!(*seen.middleware_runs.lock().unwrap(), 1);
    client.send(r#"42["state"]"#).await;
    let state = client.recv().await;
    let mut rooms = vec![sid.clone(), "room1".to_owned()];
    rooms.sort();
    let rooms = serde_json::to_string(&rooms).unwrap();
    assert!(state.contains(&rooms), "rooms kept: {state}");
    assert!(
        state.contains(r#"{"name":"kept"},true,"#),
        "data kept, recovered: {state}"
    );
}

#[tokio::test]
async fn off_by_default_and_only_for_recoverable_reasons() {
    // Off: no private id.
    let io = server(None, Seen::default());
    let addr = crate::common::serve(io).await;
    let (_client, answer) = connect(addr, "").await;
    assert_eq!(ids(&answer).1, "", "{answer}");

    // A client that left the namespace on purpose is not recovered.
    let io = server(Some(RecoveryConfig::default()), Seen::default());
    let addr = crate::common::serve(io.clone()).await;
    let (mut client, answer) = connect(addr, "").await;
    let (sid, pid) = ids(&answer);
    io.emit("e", &1).await.unwrap();
    let last = offset(&client.recv().await);
    client.send("41").await;
    settle().await;
    let (_client, answer) = connect(addr, &format!(r#"{{"pid":"{pid}","offset":"{last}"}}"#)).await;
    let (new_sid, new_pid) = ids(&answer);
    assert_ne!(new_sid, sid);
    assert_ne!(new_pid, pid);

    // An unknown private id, or an unknown offset: a new socket.
    let (_c, answer) = connect(addr, r#"{"pid":"nobody","offset":"x-1"}"#).await;
    assert_ne!(ids(&answer).1, "nobody");
}

#[tokio::test]
async fn middlewares_run_when_asked_and_can_refuse() {
    let seen = Seen::default();
    let config = RecoveryConfig {
        skip_middlewares: false,
        ..RecoveryConfig::default()
    };
    let io = server(Some(config), seen.clone());
    let addr = crate::common::serve(io.clone()).await;
    let (mut client, answer) = connect(addr, "").await;
    let (sid, pid) = ids(&answer);
    io.emit("e", &1).await.unwrap();
    let last = offset(&client.recv().await);
    drop(client);
    settle().await;
    let (_client, answer) = connect(addr, &format!(r#"{{"pid":"{pid}","offset":"{last}"}}"#)).await;
    assert_eq!(ids(&answer).0, sid);
    assert_eq!(*seen.middleware_runs.lock().unwrap(), 2);
}

#[tokio::test]
async fn without_an_offset_everything_since_the_connection_comes_back() {
    // Node skips recovery when the client got no event yet (it sends no offset).
    let io = server(Some(RecoveryConfig::default()), Seen::default());
    let addr = crate::common::serve(io.clone()).await;
    let (client, answer) = connect(addr, "").await;
    let (sid, pid) = ids(&answer);
    drop(client);
    settle().await;
    io.emit("e", &7).await.unwrap();
    let (_client, answer) = connect(addr, &format!(r#"{{"pid":"{pid}"}}"#)).await;
    assert!(answer.starts_with(r#"2["e",7,"#), "{answer}");
    assert_eq!(ids(answer.lines().last().unwrap()).0, sid);
}

#[tokio::test]
async fn a_volatile_event_carries_the_latest_offset() {
    // Node's client takes the last string argument of any event as its offset: a volatile
    // event ending with a string would make it recover from nowhere.
    let io = server(Some(RecoveryConfig::default()), Seen::default());
    let addr = crate::common::serve(io.clone()).await;
    let (mut client, answer) = connect(addr, "").await;
    let (sid, pid) = ids(&answer);
    io.emit("e", &1).await.unwrap();
    let stored = offset(&client.recv().await);
    io.of("/")
        .unwrap()
        .volatile()
        .emit("v", "a string")
        .await
        .unwrap();
    let volatile = client.recv().await;
    assert_eq!(offset(&volatile), stored, "{volatile}");
    drop(client);
    settle().await;
    io.emit("e", &2).await.unwrap();
    let (_client, answer) =
        connect(addr, &format!(r#"{{"pid":"{pid}","offset":"{stored}"}}"#)).await;
    assert!(answer.starts_with(r#"2["e",2,"#), "{answer}");
    assert_eq!(ids(answer.lines().last().unwrap()).0, sid);
}

#[tokio::test]
async fn a_client_back_before_its_old_connection_is_noticed_recovers_again_and_again() {
    // Node #4880: the old connection's late ping timeout undoes the recovery.
    let seen = Seen::default();
    let io = server(Some(RecoveryConfig::default()), seen.clone());
    let addr = crate::common::serve(io.clone()).await;
    let (mut old, answer) = connect(addr, "").await;
    let (sid, pid) = ids(&answer);
    io.emit("e", &1).await.unwrap();
    let last = offset(&old.recv().await);
    // The client comes back on a new connection while the old one is still open.
    let (mut client, answer) =
        connect(addr, &format!(r#"{{"pid":"{pid}","offset":"{last}"}}"#)).await;
    assert_eq!(ids(&answer), (sid.clone(), pid.clone()));
    // The old connection's end does not take the new socket's rooms.
    drop(old);
    settle().await;
    io.to("room1").emit("e", &2).await.unwrap();
    let event = client.recv().await;
    assert!(event.starts_with(r#"2["e",2,"#), "{event}");
    let last = offset(&event);
    assert_eq!(io.sockets("/").len(), 1);
    // And a second recovery works.
    drop(client);
    settle().await;
    io.to("room1").emit("e", &3).await.unwrap();
    let (_client, answer) = connect(addr, &format!(r#"{{"pid":"{pid}","offset":"{last}"}}"#)).await;
    assert!(answer.starts_with(r#"2["e",3,"#), "{answer}");
    assert_eq!(ids(answer.lines().last().unwrap()), (sid, pid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_recovers() {
    let io = server(Some(RecoveryConfig::default()), Seen::default());
    let ticker = io.clone();
    let addr = crate::common::serve(io).await;
    tokio::spawn(async move {
        let mut i = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = ticker.emit("tick", &i).await;
            i += 1;
        }
    });
    crate::common::examples::run_node(
        "socketio/v5-recovery.mjs",
        &[&format!("http://{addr}")],
        "v5-recovery",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_refuses_new_clients_and_returns_once_every_session_closed() {
    let seen = Seen::default();
    let io = server(Some(RecoveryConfig::default()), seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(io.clone().serve(listener, async {
        let _ = stopped.await;
    }));
    let (mut client, _) = connect(addr, "").await;
    io.emit("e", &1).await.unwrap();
    assert!(client.recv().await.starts_with(r#"2["e",1,"#));
    let started = std::time::Instant::now();
    stop.send(()).unwrap();
    // The client is told, then the connection closes.
    client.expect_closed().await;
    tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("serve returned once the session closed")
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(io.engine().session_count(), 0);
    assert_eq!(*seen.reasons.lock().unwrap(), ["server shutting down"]);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "new connections refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_slow_for_its_buffer_loses_nothing() {
    // Its send buffer overflows: it is disconnected ("transport error"), comes back, and gets
    // every event it missed, in order, broadcasts and direct emits alike.
    let engine = tower_socketio::EngineConfig::default().max_buffered_bytes(64 << 10);
    let seen = Seen::default();
    let io = server_with(Some(RecoveryConfig::default()), seen.clone(), engine);
    let addr = crate::common::serve(io.clone()).await;
    let (mut client, answer) = connect(addr, "").await;
    let (sid, pid) = ids(&answer);
    io.emit("n", &(0, "")).await.unwrap();
    let mut last = offset(&client.recv().await);
    // 1,500 events of 16 KiB (24 MB) while the client reads nothing: far past its 64 KiB buffer
    // and what the kernel's socket buffers absorb on loopback (a few MB; 3 MB was not always
    // enough).
    const EVENTS: u32 = 1_500;
    let filler = "x".repeat(16 << 10);
    for i in 1..=EVENTS {
        if i % 2 == 0 {
            let _ = io.emit("n", &(i, &filler)).await;
        } else {
            let _ = io.to(sid.as_str()).emit("n", &(i, &filler)).await;
        }
    }
    // The session ends once its driver sees the overflow: wait for it, not a fixed time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen
        .reasons
        .lock()
        .unwrap()
        .contains(&"transport error".to_owned())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            seen.reasons.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // What reached the client before the cut.
    let mut got = vec![0];
    while let Ok(Some(packet)) =
        tokio::time::timeout(Duration::from_millis(500), client.try_recv()).await
    {
        if packet.starts_with("2[\"n\"") {
            got.push(
                packet[6..]
                    .split(',')
                    .next()
                    .unwrap()
                    .parse::<u32>()
                    .unwrap(),
            );
            last = offset(&packet);
        }
    }
    drop(client);
    let (_client, answer) = connect(addr, &format!(r#"{{"pid":"{pid}","offset":"{last}"}}"#)).await;
    for line in answer.lines().filter(|l| l.starts_with('2')) {
        got.push(line[6..].split(',').next().unwrap().parse::<u32>().unwrap());
    }
    assert_eq!(ids(&answer).0, sid, "recovered");
    assert_eq!(
        got,
        (0..=EVENTS).collect::<Vec<u32>>(),
        "every event once, in order"
    );
}
