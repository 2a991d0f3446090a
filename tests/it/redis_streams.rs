//! The streams adapter (`RedisConfig::streams`) with connection state recovery, on a real
//! `redis-server` of the test's own: raw clients cut from one server recover on another, two
//! servers of this crate, then mixed with a Node server running
//! `@socket.io/redis-streams-adapter` 0.3.1 (`tests/js/redis/streams-node.mjs`). (The cluster
//! operations of the streams adapter: `redis_adapter.rs`.)

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tower_socketio::adapter::redis::{RedisAdapter, RedisConfig};
use tower_socketio::extract::{AckSender, Recovered};
use tower_socketio::{Namespace, RecoveryConfig, SocketIo, SocketRef};

use crate::common::raw_client::RawClient;
use crate::common::redis::{RedisServer, Reply};

fn namespace() -> Namespace {
    Namespace::new()
        .on_connect(
            |socket: SocketRef, Recovered(recovered): Recovered| async move {
                if !recovered {
                    socket.join("room1");
                    let _ = socket.set_data(&serde_json::json!({ "name": "kept" }));
                }
            },
        )
        .on("state", |socket: SocketRef, ack: AckSender| async move {
            let mut rooms = socket.rooms();
            rooms.sort();
            let data: serde_json::Value = socket.data().unwrap();
            let _ = ack.send(&serde_json::json!([rooms, data, socket.recovered()]));
        })
}

/// A server of this crate with the streams adapter and recovery on, serving on a free port.
async fn server(redis: &RedisServer) -> (SocketIo, SocketAddr) {
    let adapter = RedisAdapter::connect(&redis.url(), RedisConfig::default().streams())
        .await
        .unwrap();
    let io = SocketIo::builder()
        .adapter(adapter.factory())
        .connection_state_recovery(RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(30),
            ..RecoveryConfig::default()
        })
        .ns("/", namespace())
        .build();
    adapter.ready().await.unwrap();
    let addr = crate::common::serve(io.clone()).await;
    (io, addr)
}

/// `(sid, pid)` of a CONNECT answer.
fn ids(connect: &str) -> (String, String) {
    let json: serde_json::Value = serde_json::from_str(&connect[1..]).unwrap();
    (
        json["sid"].as_str().unwrap().to_owned(),
        json["pid"].as_str().unwrap_or_default().to_owned(),
    )
}

/// An event's arguments (`2[...]`, or `51-[...]` with binary placeholders).
fn args(event: &str) -> Vec<serde_json::Value> {
    let json = &event[event.find('[').unwrap()..];
    serde_json::from_str(json).unwrap()
}

/// The offset an event carries (its last argument), a stream entry id.
fn offset(event: &str) -> String {
    let offset = args(event).last().unwrap().as_str().unwrap().to_owned();
    assert!(
        offset.split_once('-').is_some_and(|(a, b)| {
            a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit())
        }),
        "an entry id: {event}"
    );
    offset
}

/// The event name and its arguments without the offset.
fn event(packet: &str) -> (String, Vec<serde_json::Value>) {
    let mut args = args(packet);
    args.pop();
    let name = args.remove(0).as_str().unwrap().to_owned();
    (name, args)
}

/// The next event named `name` (others skipped).
async fn next_event(client: &mut RawClient, name: &str) -> String {
    loop {
        let packet = client.recv().await;
        if packet.starts_with('2') || packet.starts_with("5") {
            if args(&packet)[0] == name {
                return packet;
            }
        }
    }
}

/// Waits until the session of `pid` is kept in Redis (the server saw the connection go).
async fn session_kept(redis: &RedisServer, pid: &str) {
    let key = format!("sio:session:{pid}");
    for _ in 0..100 {
        if redis.command(&[b"EXISTS", key.as_bytes()]) == Reply::Integer(1) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the session of {pid} was not kept");
}

/// Asks the socket for `[rooms, data, recovered]` (acknowledgement `id`).
async fn ask_state(client: &mut RawClient, id: u32) -> serde_json::Value {
    client.send(&format!(r#"42{id}["state"]"#)).await;
    let prefix = format!("3{id}");
    loop {
        let packet = client.recv().await;
        if let Some(answer) = packet.strip_prefix(&prefix) {
            let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
            return answer[0].clone();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cut_from_one_server_recovers_on_the_other() {
    let redis = RedisServer::start();
    let (a, addr_a) = server(&redis).await;
    let (b, addr_b) = server(&redis).await;
    let (mut client, _, answer) = RawClient::connect_with(addr_a, "").await;
    let (sid, pid) = ids(&answer);
    assert_eq!(pid.len(), 20, "{answer}");
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Events from both servers, with the same kind of offsets.
    b.to("room1").emit("e", &1).await.unwrap();
    let first = next_event(&mut client, "e").await;
    a.emit("e", &2).await.unwrap();
    let second = next_event(&mut client, "e").await;
    assert_eq!(event(&first), ("e".to_owned(), vec![1.into()]));
    assert_eq!(event(&second), ("e".to_owned(), vec![2.into()]));
    assert!(offset(&first) < offset(&second) || offset(&first).len() < offset(&second).len());
    let last = offset(&second);

    // Cut; meanwhile both servers emit: to the room, to all, to the socket's own room, and
    // to what the socket is not in.
    drop(client);
    session_kept(&redis, &pid).await;
    a.to("room1").emit("e", &3).await.unwrap();
    b.emit("e", &4).await.unwrap();
    a.to("room2").emit("e", &-1).await.unwrap();
    b.to("room1").except("room1").emit("e", &-2).await.unwrap();
    b.to(sid.as_str()).emit("e", &5).await.unwrap();
    a.to("room1")
        .emit("bin", &(6, bytes::Bytes::from_static(b"\x01\x02")))
        .await
        .unwrap();

    // Back, on the other server: the same socket, every missed event in order before the
    // CONNECT answer, each with its offset.
    let auth = serde_json::json!({ "pid": pid, "offset": last }).to_string();
    let (mut client, missed, answer) = RawClient::connect_with(addr_b, &auth).await;
    assert_eq!(ids(&answer), (sid.clone(), pid.clone()), "the same socket");
    let missed: Vec<_> = missed.iter().map(|p| event(p)).collect();
    assert_eq!(
        missed,
        [
            ("e".to_owned(), vec![3.into()]),
            ("e".to_owned(), vec![4.into()]),
            ("e".to_owned(), vec![5.into()]),
            (
                "bin".to_owned(),
                vec![
                    6.into(),
                    serde_json::json!({"_placeholder": true, "num": 0})
                ]
            ),
        ]
    );
    let state = ask_state(&mut client, 1).await;
    let mut rooms = vec!["room1".to_owned(), sid.clone()];
    rooms.sort();
    assert_eq!(
        state,
        serde_json::json!([rooms, { "name": "kept" }, true]),
        "rooms and data restored"
    );
    // Live again, from either server.
    a.to("room1").emit("e", &7).await.unwrap();
    assert_eq!(
        event(&next_event(&mut client, "e").await),
        ("e".to_owned(), vec![7.into()])
    );
    assert!(a.sockets("/").is_empty());
    assert_eq!(b.sockets("/").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_got_no_event_recovers_without_an_offset() {
    let redis = RedisServer::start();
    let (_a, addr_a) = server(&redis).await;
    let (b, addr_b) = server(&redis).await;
    // Entries A handed out before the socket connects are not for it.
    let (mut watcher, _, _) = RawClient::connect_with(addr_a, "").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    b.to("room1").emit("e", &0).await.unwrap();
    next_event(&mut watcher, "e").await;
    let (client, _, answer) = RawClient::connect_with(addr_a, "").await;
    let (sid, pid) = ids(&answer);
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(client);
    session_kept(&redis, &pid).await;
    b.to("room1").emit("e", &1).await.unwrap();
    let auth = serde_json::json!({ "pid": pid }).to_string();
    let (_client, missed, answer) = RawClient::connect_with(addr_b, &auth).await;
    assert_eq!(ids(&answer).0, sid, "recovered: {answer}");
    let missed: Vec<_> = missed.iter().map(|p| event(p)).collect();
    assert_eq!(missed, [("e".to_owned(), vec![1.into()])]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_session_or_offset_gets_a_new_socket() {
    let redis = RedisServer::start();
    let (a, addr_a) = server(&redis).await;
    let (_b, addr_b) = server(&redis).await;
    let (mut client, _, answer) = RawClient::connect_with(addr_a, "").await;
    let (sid, pid) = ids(&answer);
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.emit("e", &1).await.unwrap();
    next_event(&mut client, "e").await;
    drop(client);
    session_kept(&redis, &pid).await;
    // An offset not in the stream: a new socket, and the session is gone.
    let auth = serde_json::json!({ "pid": pid, "offset": "1-0" }).to_string();
    let (_client, missed, answer) = RawClient::connect_with(addr_b, &auth).await;
    assert!(missed.is_empty());
    assert_ne!(ids(&answer).0, sid);
    assert_ne!(ids(&answer).1, pid);
    // An unknown session.
    let auth = serde_json::json!({ "pid": "AAAAAAAAAAAAAAAAAAAA", "offset": "1-0" }).to_string();
    let (_client, _, answer) = RawClient::connect_with(addr_b, &auth).await;
    assert_eq!(ids(&answer).1.len(), 20);
}

/// Events keep flowing while the client is cut and recovers: it ends up with every one,
/// once, in order, whatever was read from the stream during its recovery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_repeated_while_events_flow_during_a_recovery() {
    let redis = RedisServer::start();
    let (a, addr_a) = server(&redis).await;
    let (b, addr_b) = server(&redis).await;
    let (mut client, _, answer) = RawClient::connect_with(addr_a, "").await;
    let (_, pid) = ids(&answer);
    tokio::time::sleep(Duration::from_millis(100)).await;
    const COUNT: i64 = 300;
    let burst = {
        let (a, b) = (a.clone(), b.clone());
        tokio::spawn(async move {
            for n in 0..COUNT {
                // From both servers, some to the room, some to all.
                let sent = if n % 2 == 0 {
                    a.to("room1").emit("n", &n)
                } else {
                    b.emit("n", &n)
                };
                sent.await.unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let mut got = Vec::new();
    let mut last = String::new();
    while got.len() < 40 {
        let packet = next_event(&mut client, "n").await;
        last = offset(&packet);
        got.push(event(&packet).1[0].as_i64().unwrap());
    }
    drop(client);
    session_kept(&redis, &pid).await;
    let auth = serde_json::json!({ "pid": pid, "offset": last }).to_string();
    let (mut client, missed, _) = RawClient::connect_with(addr_b, &auth).await;
    got.extend(missed.iter().map(|p| event(p).1[0].as_i64().unwrap()));
    burst.await.unwrap();
    while got.last() != Some(&(COUNT - 1)) {
        let packet = next_event(&mut client, "n").await;
        got.push(event(&packet).1[0].as_i64().unwrap());
    }
    assert_eq!(got, (0..COUNT).collect::<Vec<_>>());
}

/// Events' offsets increase.
fn assert_in_stream_order(events: &[String]) {
    let ids: Vec<(u64, u64)> = events
        .iter()
        .map(|e| {
            let offset = offset(e);
            let (ms, seq) = offset.split_once('-').unwrap();
            (ms.parse().unwrap(), seq.parse().unwrap())
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{events:?}");
}

/// The events without their offsets, sorted by their JSON text.
fn sorted_events(events: &[String]) -> Vec<(String, Vec<serde_json::Value>)> {
    let mut events: Vec<_> = events.iter().map(|e| event(e)).collect();
    events.sort_by_key(|e| serde_json::json!(e).to_string());
    events
}

/// `tests/js/redis/streams-node.mjs`: a Node server with the streams adapter.
struct NodeServer {
    child: Child,
    addr: SocketAddr,
}

impl NodeServer {
    fn start(url: &str) -> NodeServer {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/js/redis/streams-node.mjs"
        );
        let mut child = Command::new("node")
            .args([script, url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node (install the scripts' packages: npm ci --prefix tests/js)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the Node server did not start: {line:?}"));
        let port = ready["ready"]["port"].as_u64().unwrap() as u16;
        NodeServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw client's `to_room` request to the Node server (acknowledgement `id`), answered `true`.
async fn node_to_room(client: &mut RawClient, id: u32, request: serde_json::Value) {
    client
        .send(&format!(r#"42{id}["to_room",{request}]"#))
        .await;
    let answer = format!("3{id}[true]");
    while client.recv().await != answer {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_recover_between_a_node_server_and_ours() {
    let redis = RedisServer::start();
    let node = NodeServer::start(&redis.url());
    let (ours, addr) = server(&redis).await;
    // A client of the Node server, and one to make it emit.
    let (mut on_node, _, answer) = RawClient::connect_with(node.addr, "").await;
    let (node_sid, node_pid) = ids(&answer);
    let (mut driver, _, _) = RawClient::connect_with(node.addr, "").await;
    let hello = next_event(&mut on_node, "hello").await;
    assert_eq!(args(&hello)[1]["recovered"], false);
    // Node's reader polls from `$` once it is up: broadcast until it hears.
    let mut first = loop {
        ours.to("room1").emit("probe", &()).await.unwrap();
        match tokio::time::timeout(
            Duration::from_millis(300),
            next_event(&mut on_node, "probe"),
        )
        .await
        {
            Ok(packet) => break packet,
            Err(_) => continue,
        }
    };
    // Broadcasts cross both ways, binary too.
    node_to_room(
        &mut driver,
        1,
        serde_json::json!({"room": "room1", "event": "from-node", "args": [1], "binary": [7, 8]}),
    )
    .await;
    let (mut on_ours, _, answer) = RawClient::connect_with(addr, "").await;
    let (our_sid, our_pid) = ids(&answer);
    tokio::time::sleep(Duration::from_millis(100)).await;
    node_to_room(
        &mut driver,
        2,
        serde_json::json!({"room": "room1", "event": "from-node", "args": [2], "binary": [9]}),
    )
    .await;
    // (The first may reach it too: Node acknowledges before its `XADD` is done.)
    let from_node = loop {
        let packet = next_event(&mut on_ours, "from-node").await;
        if args(&packet)[1] == 2 {
            break packet;
        }
    };
    assert!(
        from_node.starts_with(r#"51-["from-node",2,{"_placeholder":true,"num":0},""#),
        "{from_node}"
    );
    ours.to("room1")
        .emit("from-ours", &(3, bytes::Bytes::from_static(b"\x05")))
        .await
        .unwrap();
    loop {
        let packet = next_event(&mut on_node, "from-node").await;
        if args(&packet)[1] == 2 {
            first = packet;
            break;
        }
    }
    let from_ours = next_event(&mut on_node, "from-ours").await;
    assert!(
        from_ours.starts_with(r#"51-["from-ours",3,{"_placeholder":true,"num":0},""#),
        "{from_ours}"
    );
    assert!(offset(&first) < offset(&from_ours) || offset(&first).len() < offset(&from_ours).len());
    let node_offset = offset(&from_ours);
    let our_offset = offset(&next_event(&mut on_ours, "from-ours").await);

    // Both clients cut; events meanwhile from both servers.
    drop(on_node);
    drop(on_ours);
    session_kept(&redis, &node_pid).await;
    session_kept(&redis, &our_pid).await;
    node_to_room(
        &mut driver,
        3,
        serde_json::json!({"room": "room1", "event": "missed", "args": ["node"], "binary": [1]}),
    )
    .await;
    ours.emit("missed", &"ours").await.unwrap();
    ours.to(node_sid.as_str())
        .emit("missed", &"direct")
        .await
        .unwrap();

    // Node's client recovers on our server: Node's session, Node's and our entries, in the
    // stream's order (Node acknowledges `to_room` before its `XADD` is done: the order of the
    // two servers' entries is not known).
    let auth = serde_json::json!({ "pid": node_pid, "offset": node_offset }).to_string();
    let (mut back, missed, answer) = RawClient::connect_with(addr, &auth).await;
    assert_eq!(ids(&answer), (node_sid.clone(), node_pid.clone()));
    assert_in_stream_order(&missed);
    let texts = sorted_events(&missed);
    assert_eq!(
        texts,
        [
            ("missed".to_owned(), vec!["direct".into()]),
            (
                "missed".to_owned(),
                vec![
                    "node".into(),
                    serde_json::json!({"_placeholder": true, "num": 0})
                ]
            ),
            ("missed".to_owned(), vec!["ours".into()]),
        ],
        "{missed:?}"
    );
    let state = ask_state(&mut back, 4).await;
    let mut rooms = vec!["room1".to_owned(), node_sid.clone()];
    rooms.sort();
    assert_eq!(state, serde_json::json!([rooms, { "node": true }, true]));

    // Our client recovers on the Node server: our session, read by Node.
    let auth = serde_json::json!({ "pid": our_pid, "offset": our_offset }).to_string();
    let (mut back, missed, answer) = RawClient::connect_with(node.addr, &auth).await;
    assert_eq!(ids(&answer), (our_sid.clone(), our_pid.clone()));
    assert_in_stream_order(&missed);
    let texts = sorted_events(&missed);
    assert_eq!(
        texts,
        [
            (
                "missed".to_owned(),
                vec![
                    "node".into(),
                    serde_json::json!({"_placeholder": true, "num": 0})
                ]
            ),
            ("missed".to_owned(), vec!["ours".into()]),
        ],
        "{missed:?}"
    );
    let hello = next_event(&mut back, "hello").await;
    assert_eq!(args(&hello)[1]["recovered"], true);
    let state = ask_state(&mut back, 5).await;
    let mut rooms = vec!["room1".to_owned(), our_sid.clone()];
    rooms.sort();
    assert_eq!(state, serde_json::json!([rooms, { "name": "kept" }, true]));
}
