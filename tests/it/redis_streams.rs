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
use tower_socketio::{Namespace, RecoveryConfig, ServerEvent, SocketIo, SocketRef, Value};

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
        .on_server_event("ping", |mut event: ServerEvent| async move {
            let answer = serde_json::json!({ "node": "ours", "args": event.args });
            let _ = event.answer(&answer);
        })
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

/// Two servers of this crate on `redis`, and a client of the first in `room1` (its socket id
/// and private id).
struct Pair {
    a: SocketIo,
    b: SocketIo,
    addr_b: SocketAddr,
    client: RawClient,
    sid: String,
    pid: String,
}

async fn pair(redis: &RedisServer) -> Pair {
    let (a, addr_a) = server(redis).await;
    let (b, addr_b) = server(redis).await;
    let (client, _, answer) = RawClient::connect_with(addr_a, "").await;
    let (sid, pid) = ids(&answer);
    assert_eq!(pid.len(), 20, "{answer}");
    // The connect handler joins the room.
    tokio::time::sleep(Duration::from_millis(100)).await;
    Pair {
        a,
        b,
        addr_b,
        client,
        sid,
        pid,
    }
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
        if (packet.starts_with('2') || packet.starts_with('5')) && args(&packet)[0] == name {
            return packet;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cut_from_one_server_recovers_on_the_other() {
    let redis = RedisServer::start();
    let Pair {
        a,
        b,
        addr_b,
        mut client,
        sid,
        pid,
    } = pair(&redis).await;

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
    let state = ask(&mut client, 1, "state").await;
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
    let Pair {
        a,
        addr_b,
        mut client,
        sid,
        pid,
        ..
    } = pair(&redis).await;
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
    let Pair {
        a,
        b,
        addr_b,
        mut client,
        pid,
        ..
    } = pair(&redis).await;
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

/// The id of the connection of the last server started that reads the stream (the
/// `XREAD BLOCK` with the highest client id).
fn last_reader(redis: &RedisServer) -> String {
    let Reply::Bulk(Some(list)) = redis.command(&[b"CLIENT", b"LIST"]) else {
        panic!("CLIENT LIST");
    };
    String::from_utf8(list)
        .unwrap()
        .lines()
        .filter(|line| line.contains("cmd=xread"))
        .filter_map(|line| {
            line.strip_prefix("id=")?
                .split(' ')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .max()
        .expect("a reader")
        .to_string()
}

/// The server a client comes back to reads the stream behind the client (its reader's
/// connection was cut): the client gets what it has not, once, in order, and not what it has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_ahead_of_the_servers_reader_gets_nothing_twice() {
    let redis = RedisServer::start();
    let Pair {
        a,
        addr_b,
        mut client,
        pid,
        ..
    } = pair(&redis).await;
    a.emit("e", &1).await.unwrap();
    next_event(&mut client, "e").await;
    // B's reader stops for a while (it reconnects half a second later)...
    let reader = last_reader(&redis);
    redis.command(&[b"CLIENT", b"KILL", b"ID", reader.as_bytes()]);
    // ... while the client gets more from A, then drops.
    a.emit("e", &2).await.unwrap();
    a.emit("e", &3).await.unwrap();
    next_event(&mut client, "e").await;
    let last = offset(&next_event(&mut client, "e").await);
    drop(client);
    session_kept(&redis, &pid).await;
    a.emit("e", &4).await.unwrap();
    let auth = serde_json::json!({ "pid": pid, "offset": last }).to_string();
    let (mut client, missed, _) = RawClient::connect_with(addr_b, &auth).await;
    a.emit("e", &5).await.unwrap();
    let mut got: Vec<i64> = missed
        .iter()
        .map(|p| event(p).1[0].as_i64().unwrap())
        .collect();
    while got.last() != Some(&5) {
        let packet = next_event(&mut client, "e").await;
        got.push(event(&packet).1[0].as_i64().unwrap());
    }
    assert_eq!(got, [4, 5]);
    client.expect_silence(Duration::from_millis(300)).await;
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

/// Node's reader polls from `$` once it is up: broadcasts until `client` of the Node server
/// hears one; returns it.
async fn node_reads(ours: &SocketIo, client: &mut RawClient) -> String {
    loop {
        ours.to("room1").emit("probe", &()).await.unwrap();
        let heard =
            tokio::time::timeout(Duration::from_millis(300), next_event(client, "probe")).await;
        if let Ok(packet) = heard {
            return packet;
        }
    }
}

/// A raw client's request `event` (acknowledgement `id`, no arguments); its answer's first
/// argument.
async fn ask(client: &mut RawClient, id: u32, event: &str) -> serde_json::Value {
    client.send(&format!(r#"42{id}["{event}"]"#)).await;
    let prefix = format!("3{id}");
    loop {
        let packet = client.recv().await;
        if let Some(answer) = packet.strip_prefix(&prefix) {
            let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
            return answer[0].clone();
        }
    }
}

/// Answers the next event `question` (with an acknowledgement id) with `answer`.
async fn answer_question(client: &mut RawClient, answer: &str) {
    loop {
        let packet = client.recv().await;
        let Some(rest) = packet.strip_prefix('2') else {
            continue;
        };
        let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if id.is_empty() || args(&packet)[0] != "question" {
            continue;
        }
        client.send(&format!(r#"43{id}["{answer}"]"#)).await;
        return;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_cross_between_a_node_server_and_ours() {
    let redis = RedisServer::start();
    let node = NodeServer::start(&redis.url());
    let (ours, addr) = server(&redis).await;
    let (mut on_node, _, _) = RawClient::connect_with(node.addr, "").await;
    let (mut on_ours, _, _) = RawClient::connect_with(addr, "").await;
    node_reads(&ours, &mut on_node).await;
    assert_eq!(ours.server_count().await.unwrap(), 2);

    // From ours: fetch_sockets, a server-side emit and a broadcast with acknowledgements,
    // answered by Node and its client.
    let mut found: Vec<String> = ours
        .fetch_sockets()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id().to_string())
        .collect();
    found.sort();
    let mut both = vec![on_node.sid.clone(), on_ours.sid.clone()];
    both.sort();
    assert_eq!(found, both);
    let answers = ours
        .of("/")
        .unwrap()
        .server_side_emit_with_ack::<_, Value>("question", &1)
        .await
        .unwrap();
    assert!(answers.complete, "{answers:?}");
    assert_eq!(
        answers.answers[0].as_ref().unwrap(),
        &Value::from("answer to 1")
    );
    let asked = {
        let ours = ours.clone();
        tokio::spawn(async move {
            ours.of("/")
                .unwrap()
                .timeout(Duration::from_secs(3))
                .emit_with_ack::<_, String>("question", &"from ours")
                .await
                .unwrap()
        })
    };
    answer_question(&mut on_node, "node's client").await;
    answer_question(&mut on_ours, "our client").await;
    let asked = asked.await.unwrap();
    assert!(asked.complete, "{asked:?}");
    let mut answers: Vec<String> = asked.answers.into_iter().map(Result::unwrap).collect();
    answers.sort();
    assert_eq!(answers, ["node's client", "our client"]);

    // From Node: the same, answered by ours and its client.
    assert_eq!(ask(&mut on_node, 1, "fetch").await, serde_json::json!(both));
    assert_eq!(
        ask(&mut on_node, 2, "sse").await,
        serde_json::json!({"error": null, "answers": [{"node": "ours", "args": ["from node"]}]})
    );
    on_node.send(r#"423["ask"]"#).await;
    answer_question(&mut on_ours, "our client").await;
    answer_question(&mut on_node, "node's client").await;
    loop {
        let packet = on_node.recv().await;
        if let Some(answer) = packet.strip_prefix("33") {
            let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
            let mut answers: Vec<String> = answer[0]["answers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect();
            answers.sort();
            assert_eq!(answer[0]["error"], serde_json::Value::Null);
            assert_eq!(answers, ["node's client", "our client"]);
            break;
        }
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
    node_reads(&ours, &mut on_node).await;
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
    let first = loop {
        let packet = next_event(&mut on_node, "from-node").await;
        if args(&packet)[1] == 2 {
            break packet;
        }
    };
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
    let state = ask(&mut back, 4, "state").await;
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
    let state = ask(&mut back, 5, "state").await;
    let mut rooms = vec!["room1".to_owned(), our_sid.clone()];
    rooms.sort();
    assert_eq!(state, serde_json::json!([rooms, { "name": "kept" }, true]));
}

/// `Value` of a test value: `{"$bin": [..]}` is binary, `{"$num": ".."}` a number read from text.
fn revive(value: serde_json::Value) -> Value {
    match value {
        serde_json::Value::Object(map) if map.contains_key("$bin") => Value::Binary(
            map["$bin"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap() as u8)
                .collect::<Vec<u8>>()
                .into(),
        ),
        serde_json::Value::Object(map) if map.contains_key("$num") => {
            Value::Number(map["$num"].as_str().unwrap().parse().unwrap())
        }
        serde_json::Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, revive(v))).collect())
        }
        serde_json::Value::Array(items) => Value::Array(items.into_iter().map(revive).collect()),
        other => Value::from(other),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The codec's `@msgpack/msgpack` dialect writes what `@msgpack/msgpack` 2.8 writes, byte for
/// byte: number forms (safe integers only as integers), strings, binary, arrays, maps; and a
/// session as Node's streams adapter keeps it.
#[test]
fn the_msgpack_js_dialect_writes_what_msgpack_msgpack_writes() {
    use base64::Engine as _;
    use tower_socketio::adapter::redis::wire::{Dialect, StoredSession, encode_msgpack_as};
    let long = |n: usize| "a".repeat(n);
    let list = |n: usize| serde_json::Value::Array((0..n).map(|i| i.into()).collect());
    let map =
        |n: usize| serde_json::Value::Object((0..n).map(|i| (format!("k{i}"), i.into())).collect());
    let bin = |n: usize| serde_json::json!({ "$bin": vec![7u8; n] });
    let num = |text: &str| serde_json::json!({ "$num": text });
    let values = vec![
        0.into(),
        127.into(),
        128.into(),
        255.into(),
        256.into(),
        65535.into(),
        65536.into(),
        4294967295u64.into(),
        4294967296u64.into(),
        9007199254740991u64.into(),
        num("9007199254740992"),
        num("18446744073709551615"),
        (-1).into(),
        (-32).into(),
        (-33).into(),
        (-128).into(),
        (-129).into(),
        (-32768).into(),
        (-32769).into(),
        (-2147483648i64).into(),
        (-2147483649i64).into(),
        (-9007199254740991i64).into(),
        num("-9007199254740992"),
        1.5.into(),
        (-0.5).into(),
        1e300.into(),
        4.0.into(),
        "".into(),
        long(31).into(),
        long(32).into(),
        long(255).into(),
        long(256).into(),
        long(65536).into(),
        "é😀".into(),
        serde_json::Value::Null,
        true.into(),
        false.into(),
        list(15),
        list(16),
        map(15),
        map(16),
        bin(0),
        bin(255),
        bin(256),
        serde_json::json!({"nested": [1, {"a": null, "b": [true, {"$bin": [1, 2]}]}]}),
    ];
    // Node's key order: the session's JSON text as written (`serde_json` sorts keys).
    let session = r#"{"sid":"AAAAAAAAAAAAAAAAAAAA","pid":"BBBBBBBBBBBBBBBBBBBB","rooms":["AAAAAAAAAAAAAAAAAAAA","room1"],"data":{"name":"kept","n":3,"bin":{"$bin":[1]}}}"#;
    let all = format!(
        "[{},{session}]",
        values
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/redis/msgpack-js.mjs");
    let output = Command::new("node")
        .args([script, &all])
        .output()
        .expect("node (install the scripts' packages: npm ci --prefix tests/js)");
    assert!(output.status.success(), "{output:?}");
    let node: Vec<String> = serde_json::from_slice(&output.stdout).unwrap();
    for (value, node) in values.into_iter().zip(&node) {
        let mut ours = Vec::new();
        encode_msgpack_as(&mut ours, &revive(value.clone()), Dialect::MsgpackJs);
        assert_eq!(&hex(&ours), node, "{value}");
    }
    let stored = StoredSession {
        sid: "AAAAAAAAAAAAAAAAAAAA".into(),
        pid: "BBBBBBBBBBBBBBBBBBBB".into(),
        rooms: vec!["AAAAAAAAAAAAAAAAAAAA".into(), "room1".into()],
        data: Value::Object(vec![
            ("name".into(), "kept".into()),
            ("n".into(), 3.into()),
            ("bin".into(), Value::Binary(vec![1u8].into())),
        ]),
        offset: None,
    };
    let ours = base64::engine::general_purpose::STANDARD
        .decode(stored.encode())
        .unwrap();
    assert_eq!(&hex(&ours), node.last().unwrap(), "the session");
    assert_eq!(
        StoredSession::decode(stored.encode().as_bytes()).unwrap(),
        stored
    );
}

/// The commands a `redis-server` runs, as `MONITOR` shows them (each a list of its arguments).
struct Monitor {
    lines: std::sync::mpsc::Receiver<Vec<Vec<u8>>>,
}

impl Monitor {
    fn start(redis: &RedisServer) -> Monitor {
        use std::io::Write as _;
        let mut stream = std::net::TcpStream::connect(redis.addr()).unwrap();
        stream.write_all(b"MONITOR\r\n").unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).split(b'\n') {
                let Ok(line) = line else { return };
                if tx.send(monitor_args(&line)).is_err() {
                    return;
                }
            }
        });
        // `+OK` first.
        let _ = lines.recv_timeout(Duration::from_secs(5));
        Monitor { lines }
    }

    /// The next command named `name`.
    fn next(&self, name: &str) -> Vec<Vec<u8>> {
        loop {
            let args = self
                .lines
                .recv_timeout(Duration::from_secs(5))
                .unwrap_or_else(|_| panic!("no {name} command"));
            if args
                .first()
                .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            {
                return args;
            }
        }
    }
}

/// The arguments of a `MONITOR` line: `<time> [<db> <client>] "ARG" "ARG" ...`, each quoted
/// with `\"`, `\\`, `\n`, `\r`, `\t`, `\a`, `\b` and `\xHH` escapes.
fn monitor_args(line: &[u8]) -> Vec<Vec<u8>> {
    let Some(start) = line.iter().position(|b| *b == b']') else {
        return Vec::new();
    };
    let mut args = Vec::new();
    let mut bytes = line[start + 1..].iter().copied();
    while let Some(b) = bytes.next() {
        if b != b'"' {
            continue;
        }
        let mut arg = Vec::new();
        while let Some(b) = bytes.next() {
            match b {
                b'"' => break,
                b'\\' => match bytes.next() {
                    Some(b'n') => arg.push(b'\n'),
                    Some(b'r') => arg.push(b'\r'),
                    Some(b't') => arg.push(b'\t'),
                    Some(b'a') => arg.push(7),
                    Some(b'b') => arg.push(8),
                    Some(b'x') => {
                        let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                        arg.push(
                            u8::from_str_radix(std::str::from_utf8(&hex).unwrap(), 16).unwrap(),
                        );
                    }
                    Some(other) => arg.push(other),
                    None => break,
                },
                other => arg.push(other),
            }
        }
        args.push(arg);
    }
    args
}

/// An `XADD`'s arguments with its uid blanked, and the event its entry carries.
fn xadd_of_event(monitor: &Monitor, event: &str) -> Vec<Vec<u8>> {
    use tower_socketio::adapter::redis::wire::{ClusterMessage, ClusterMessageKind};
    loop {
        let mut args = monitor.next("XADD");
        let field = |name: &[u8]| {
            args.iter()
                .position(|a| a == name)
                .map(|at| args[at + 1].clone())
        };
        let (Some(uid), Some(nsp), Some(kind)) = (field(b"uid"), field(b"nsp"), field(b"type"))
        else {
            continue;
        };
        let data = field(b"data");
        let message = ClusterMessage::from_stream_entry(
            std::str::from_utf8(&uid).unwrap(),
            std::str::from_utf8(&nsp).unwrap(),
            std::str::from_utf8(&kind).unwrap(),
            data.as_deref(),
        );
        let Ok(Some(ClusterMessage {
            kind: ClusterMessageKind::Broadcast { packet, .. },
            ..
        })) = message
        else {
            continue;
        };
        if packet.event_name() != Some(event) {
            continue;
        }
        let at = args.iter().position(|a| a == b"uid").unwrap();
        args[at + 1] = b"<uid>".to_vec();
        return args;
    }
}

/// What this crate's server sends to Redis is what Node's sends, argument for argument: the
/// `XADD` of a broadcast (JSON data, and base64 MessagePack with binary), the `SET` of a session,
/// and the commands of a restoration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_commands_are_nodes() {
    let redis = RedisServer::start();
    let node = NodeServer::start(&redis.url());
    let (ours, addr) = server(&redis).await;
    let (mut on_node, _, answer) = RawClient::connect_with(node.addr, "").await;
    let (_, node_pid) = ids(&answer);
    let (mut driver, _, _) = RawClient::connect_with(node.addr, "").await;
    node_reads(&ours, &mut on_node).await;
    let monitor = Monitor::start(&redis);
    for (n, binary) in [(1, None), (2, Some(vec![1u8, 2, 255]))] {
        let mut request = serde_json::json!({"room": "room1", "event": "same", "args": [1, "x"]});
        let mut args = vec![Value::from(1), Value::from("x")];
        if let Some(bytes) = &binary {
            request["binary"] = serde_json::json!(bytes);
            args.push(Value::Binary(bytes.clone().into()));
        }
        node_to_room(&mut driver, n, request).await;
        let from_node = xadd_of_event(&monitor, "same");
        ours.to("room1")
            .emit("same", &tower_socketio::extract::Args(args))
            .await
            .unwrap();
        let from_ours = xadd_of_event(&monitor, "same");
        let text = |args: &[Vec<u8>]| {
            args.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(text(&from_ours), text(&from_node));
        assert_eq!(
            text(&from_ours)[..6],
            ["XADD", "socket.io", "MAXLEN", "~", "10000", "*"]
        );
    }

    // A session kept: `SET sio:session:<pid> <base64> PX 30000`, from either.
    drop(on_node);
    let set_by_node = monitor.next("SET");
    let (on_ours, _, answer) = RawClient::connect_with(addr, "").await;
    let (_, our_pid) = ids(&answer);
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(on_ours);
    let set_by_ours = monitor.next("SET");
    for (set, pid) in [(&set_by_node, &node_pid), (&set_by_ours, &our_pid)] {
        assert_eq!(set.len(), 5, "{set:?}");
        assert_eq!(set[1], format!("sio:session:{pid}").as_bytes());
        assert_eq!(&set[3..], [b"PX".to_vec(), b"30000".to_vec()]);
    }

    // A restoration: `MULTI GET DEL EXEC` and `XRANGE <offset> <offset>`, then the replay.
    session_kept(&redis, &our_pid).await;
    let offset = {
        let Reply::Array(Some(last)) =
            redis.command(&[b"XREVRANGE", b"socket.io", b"+", b"-", b"COUNT", b"1"])
        else {
            panic!("no entry");
        };
        let Reply::Array(Some(entry)) = &last[0] else {
            panic!("no entry");
        };
        let Reply::Bulk(Some(id)) = &entry[0] else {
            panic!("no id");
        };
        String::from_utf8(id.clone()).unwrap()
    };
    let auth = serde_json::json!({ "pid": our_pid, "offset": offset }).to_string();
    let (_back, _, _) = RawClient::connect_with(addr, &auth).await;
    let key = format!("sio:session:{our_pid}");
    assert_eq!(monitor.next("MULTI"), [b"MULTI".to_vec()]);
    assert_eq!(
        monitor.next("GET"),
        [b"GET".to_vec(), key.clone().into_bytes()]
    );
    assert_eq!(monitor.next("DEL"), [b"DEL".to_vec(), key.into_bytes()]);
    assert_eq!(monitor.next("EXEC"), [b"EXEC".to_vec()]);
    let xrange = monitor.next("XRANGE");
    assert_eq!(
        xrange,
        [
            b"XRANGE".to_vec(),
            b"socket.io".to_vec(),
            offset.clone().into_bytes(),
            offset.into_bytes()
        ]
    );
}
