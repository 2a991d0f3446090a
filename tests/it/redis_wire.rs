//! The Redis test harness (`common/redis.rs`) against a real `redis-server`.

use crate::common::redis::{RedisServer, Reply};

#[test]
fn harness_starts_restarts_on_the_same_port_and_kills_on_drop() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    assert!(url.starts_with("redis://127.0.0.1:"), "{url}");
    assert_eq!(redis.command(&[b"PING"]), Reply::Status("PONG".into()));
    assert_eq!(
        redis.command(&[b"SET", b"key", b"value"]),
        Reply::Status("OK".into())
    );
    assert_eq!(
        redis.command(&[b"CONFIG", b"GET", b"save"]),
        Reply::Array(Some(vec![
            Reply::Bulk(Some(b"save".to_vec())),
            Reply::Bulk(Some(Vec::new())),
        ]))
    );

    redis.stop();
    assert!(!redis.is_running());
    assert!(std::net::TcpStream::connect(redis.addr()).is_err());

    redis.start_again();
    assert_eq!(redis.url(), url, "same port after a restart");
    // Nothing persisted: the key is gone.
    assert_eq!(redis.command(&[b"GET", b"key"]), Reply::Bulk(None));
    assert!(redis.major_version() >= 6);

    let addr = redis.addr();
    drop(redis);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "killed on drop"
    );
}

#[test]
fn two_servers_side_by_side() {
    let a = RedisServer::start();
    let b = RedisServer::start();
    assert_ne!(a.port(), b.port());
    a.command(&[b"SET", b"k", b"a"]);
    assert_eq!(b.command(&[b"GET", b"k"]), Reply::Bulk(None));
    assert_eq!(
        a.command(&[b"PUBSUB", b"NUMSUB", b"socket.io-request#/#"]),
        Reply::Array(Some(vec![
            Reply::Bulk(Some(b"socket.io-request#/#".to_vec())),
            Reply::Integer(0),
        ]))
    );
}

// ---- The wire codec against Node's adapters on a real Redis: what we write, a Node server
// reads; what it answers and publishes, we read.

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use tower_socketio::Value;
use tower_socketio::adapter::redis::wire::*;

/// `tests/js/redis/peer.mjs`: a Node server with the adapter and one client in "room1".
struct NodePeer {
    child: Child,
    lines: std::sync::mpsc::Receiver<serde_json::Value>,
    uid: String,
    sid: String,
}

impl NodePeer {
    fn start(url: &str, flavour: &str) -> NodePeer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/redis/peer.mjs");
        let mut child = Command::new("node")
            .args([script, url, flavour])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node (npm ci --prefix tests/js first)");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let value =
                    serde_json::from_str(&line).unwrap_or_else(|_| json!({ "other": line }));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        let mut peer = NodePeer {
            child,
            lines,
            uid: String::new(),
            sid: String::new(),
        };
        let ready = peer.next("ready");
        peer.uid = ready["uid"].as_str().unwrap().to_owned();
        peer.sid = ready["sid"].as_str().unwrap().to_owned();
        peer
    }

    /// The next line that has `key`, at most 10 s away (lines without it are skipped).
    fn next(&self, key: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(mut line) => {
                    if let Some(value) = line.get_mut(key) {
                        return value.take();
                    }
                }
                Err(e) => panic!("node peer: no {key:?} line: {e}"),
            }
        }
    }
}

impl Drop for NodePeer {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One RESP3 connection to the test's Redis: commands, and the messages of its subscriptions.
struct Redis {
    con: redis::aio::MultiplexedConnection,
    pushes: tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>,
}

impl Redis {
    async fn connect(url: &str) -> Redis {
        let client = redis::Client::open(format!("{url}?protocol=resp3")).unwrap();
        let (tx, pushes) = tokio::sync::mpsc::unbounded_channel();
        let config = redis::AsyncConnectionConfig::new().set_push_sender(tx);
        let con = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .unwrap();
        Redis { con, pushes }
    }

    /// SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE `channel`.
    async fn subscribe(&mut self, command: &str, channel: &str) {
        redis::cmd(command)
            .arg(channel)
            .exec_async(&mut self.con)
            .await
            .unwrap();
    }

    /// PUBLISH or SPUBLISH; how many subscribers got it.
    async fn publish(&mut self, command: &str, channel: &str, message: &[u8]) -> i64 {
        redis::cmd(command)
            .arg(channel)
            .arg(message)
            .query_async(&mut self.con)
            .await
            .unwrap()
    }

    /// `PUBSUB NUMSUB|SHARDNUMSUB channel`.
    async fn numsub(&mut self, command: [&str; 3]) -> i64 {
        let reply: Vec<(String, i64)> = redis::cmd(command[0])
            .arg(command[1])
            .arg(command[2])
            .query_async(&mut self.con)
            .await
            .unwrap();
        reply[0].1
    }

    /// The next message of a subscription: its channel and bytes.
    async fn next_message(&mut self) -> (String, Bytes) {
        loop {
            let push = tokio::time::timeout(Duration::from_secs(10), self.pushes.recv())
                .await
                .expect("a message within 10 s")
                .expect("connection open");
            let (channel, payload) = match (push.kind, push.data.as_slice()) {
                (redis::PushKind::Message | redis::PushKind::SMessage, [channel, payload])
                | (redis::PushKind::PMessage, [_, channel, payload]) => (channel, payload),
                _ => continue,
            };
            let (redis::Value::BulkString(c), redis::Value::BulkString(p)) = (channel, payload)
            else {
                continue;
            };
            return (
                String::from_utf8(c.clone()).unwrap(),
                Bytes::copy_from_slice(p),
            );
        }
    }
}

fn value(v: serde_json::Value) -> Value {
    Value::from(v)
}

fn rooms(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The arguments every broadcast test sends: text, binary (a Node `Buffer` at the client), an
/// object, numbers of every width, a float.
fn sample_args() -> Vec<Value> {
    vec![
        "world".into(),
        Value::Binary(Bytes::from_static(&[1, 2, 3])),
        value(json!({ "n": [1, -200, 70000, 5_000_000_000u64, 0.5], "s": "é" })),
    ]
}

/// What the Node client prints for `sample_args`.
fn sample_printed(event: &str) -> serde_json::Value {
    json!([event, "world", { "$bin": "AQID" }, { "n": [1, -200, 70000, 5_000_000_000u64, 0.5], "s": "é" }])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_classic_adapter_reads_what_we_write_and_we_read_its_answers() {
    let server = RedisServer::start();
    let node = NodePeer::start(&server.url(), "classic");
    let mut redis = Redis::connect(&server.url()).await;
    let uid = classic_uid();
    let channels = ClassicChannels::new(DEFAULT_KEY, "/", &uid);
    redis.subscribe("SUBSCRIBE", &channels.response).await;
    assert_eq!(redis.numsub(channels.server_count_command()).await, 1);

    // a broadcast to room1, binary included
    let broadcast = ClassicBroadcast {
        uid: uid.clone(),
        packet: Packet::event(Some("/"), "hello", sample_args()),
        opts: BroadcastOpts {
            rooms: rooms(&["room1"]),
            ..BroadcastOpts::default()
        },
    };
    let channel = channels.for_broadcast(&broadcast.opts.rooms);
    assert_eq!(channel, "socket.io#/#room1#");
    redis
        .publish("PUBLISH", &channel, &broadcast.encode())
        .await;
    assert_eq!(node.next("client"), sample_printed("hello"));

    // except room1: nobody; then flags
    let mut skipped = broadcast.clone();
    skipped.packet = Packet::event(Some("/"), "skipped", []);
    skipped.opts = BroadcastOpts {
        except: rooms(&["room1"]),
        ..BroadcastOpts::default()
    };
    redis
        .publish("PUBLISH", &channels.broadcast, &skipped.encode())
        .await;
    let mut volatile = skipped.clone();
    volatile.packet = Packet::event(Some("/"), "volatile", []);
    volatile.opts = BroadcastOpts {
        flags: Flags::default().with("volatile", true),
        ..BroadcastOpts::default()
    };
    redis
        .publish("PUBLISH", &channels.broadcast, &volatile.encode())
        .await;
    assert_eq!(node.next("client"), json!(["volatile"]));

    // fetchSockets
    let request_id = classic_request_id();
    let fetch = ClassicRequest::RemoteFetch {
        uid: Some(uid.clone()),
        request_id: request_id.clone(),
        opts: Targets::default(),
    };
    redis
        .publish("PUBLISH", &channels.request, &fetch.encode())
        .await;
    let (channel, message) = redis.next_message().await;
    assert_eq!(channel, channels.response);
    let answer = ClassicResponse::decode(&message, |id| {
        (id == request_id).then_some(RequestType::RemoteFetch)
    })
    .unwrap()
    .unwrap();
    let ClassicResponse::RemoteFetch { sockets, .. } = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(sockets.len(), 1);
    assert_eq!(sockets[0].id, node.sid);
    assert_eq!(sockets[0].rooms, rooms(&[&node.sid, "room1"]));
    assert_eq!(sockets[0].data, value(json!({ "peer": "node" })));

    // serverSideEmit, with and without an acknowledgement
    let request_id = classic_request_id();
    let emit = ClassicRequest::ServerSideEmit {
        uid: Some(uid.clone()),
        request_id: Some(request_id.clone()),
        data: vec!["question".into(), "q".into()],
    };
    redis
        .publish("PUBLISH", &channels.request, &emit.encode())
        .await;
    let (_, message) = redis.next_message().await;
    assert_eq!(
        ClassicResponse::decode(&message, |_| None).unwrap(),
        Some(ClassicResponse::ServerSideEmit {
            request_id,
            data: "answer to q".into()
        })
    );
    let emit = ClassicRequest::ServerSideEmit {
        uid: Some(uid.clone()),
        request_id: None,
        data: vec![
            "hello-servers".into(),
            Value::Binary(Bytes::from_static(&[7])),
        ],
    };
    redis
        .publish("PUBLISH", &channels.request, &emit.encode())
        .await;
    // binary in a JSON request is a JSON.stringify'd Buffer
    assert_eq!(
        node.next("serverSideEmit"),
        json!(["hello-servers", { "type": "Buffer", "data": [7] }])
    );

    // a broadcast with acknowledgements: a client count, then the acknowledgement
    let request_id = classic_request_id();
    let with_ack = ClassicRequest::Broadcast {
        uid: Some(uid.clone()),
        request_id: request_id.clone(),
        packet: Packet::event(Some("/"), "ack-me", ["p".into()]),
        opts: BroadcastOpts {
            flags: Flags::default().with("timeout", 2000),
            ..BroadcastOpts::default()
        },
    };
    redis
        .publish("PUBLISH", &channels.request, &with_ack.encode())
        .await;
    assert_eq!(node.next("client"), json!(["ack-me", "p"]));
    let (_, count) = redis.next_message().await;
    assert_eq!(
        ClassicResponse::decode(&count, |_| None).unwrap(),
        Some(ClassicResponse::BroadcastClientCount {
            request_id: request_id.clone(),
            client_count: 1
        })
    );
    let (_, ack) = redis.next_message().await;
    assert_eq!(
        ClassicResponse::decode(&ack, |_| None).unwrap(),
        Some(ClassicResponse::BroadcastAck {
            request_id,
            packet: value(json!({ "got": "p" }))
        })
    );

    // socketsJoin, then a broadcast to the joined room
    let join = ClassicRequest::RemoteJoin {
        uid: Some(uid.clone()),
        opts: Targets {
            rooms: rooms(&[&node.sid]),
            except: vec![],
        },
        rooms: rooms(&["joined"]),
    };
    redis
        .publish("PUBLISH", &channels.request, &join.encode())
        .await;
    let request_id = classic_request_id();
    let all_rooms = ClassicRequest::AllRooms {
        uid: Some(uid.clone()),
        request_id: request_id.clone(),
    };
    redis
        .publish("PUBLISH", &channels.request, &all_rooms.encode())
        .await;
    let (_, message) = redis.next_message().await;
    let Some(ClassicResponse::AllRooms { rooms: mut all, .. }) =
        ClassicResponse::decode(&message, |_| Some(RequestType::AllRooms)).unwrap()
    else {
        panic!()
    };
    all.sort();
    let mut expected = rooms(&[&node.sid, "joined", "room1"]);
    expected.sort();
    assert_eq!(all, expected);
    let mut joined = broadcast.clone();
    joined.packet = Packet::event(Some("/"), "joined", []);
    joined.opts.rooms = rooms(&["joined"]);
    redis
        .publish(
            "PUBLISH",
            &channels.for_broadcast(&joined.opts.rooms),
            &joined.encode(),
        )
        .await;
    assert_eq!(node.next("client"), json!(["joined"]));

    // what Node publishes for our values: the same values (subscribed only now: our own
    // broadcasts came before)
    redis
        .subscribe("PSUBSCRIBE", &channels.broadcast_pattern())
        .await;
    let back = ClassicRequest::ServerSideEmit {
        uid: Some(uid.clone()),
        request_id: None,
        data: vec![
            "broadcast-back".into(),
            value(json!([1, 0.5, "é", null, { "a": true }])),
        ],
    };
    redis
        .publish("PUBLISH", &channels.request, &back.encode())
        .await;
    let (channel, message) = redis.next_message().await;
    assert_eq!(channel, "socket.io#/#room9#");
    let decoded = ClassicBroadcast::decode(&message).unwrap();
    assert_eq!(decoded.uid, node.uid);
    assert_eq!(
        decoded.packet,
        Packet::event(
            Some("/"),
            "back",
            [value(json!([1, 0.5, "é", null, { "a": true }]))]
        )
    );
    assert_eq!(decoded.opts.rooms, rooms(&["room9"]));
    // and our encoding of it is Node's, byte for byte
    assert_eq!(&decoded.encode()[..], &message[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sharded_adapter_reads_what_we_write_and_we_read_its_answers() {
    let server = RedisServer::start();
    if server.major_version() < 7 {
        eprintln!("skipped: sharded pub/sub needs Redis 7");
        return;
    }
    let node = NodePeer::start(&server.url(), "sharded");
    let mut redis = Redis::connect(&server.url()).await;
    let uid = cluster_uid();
    let channels = ShardedChannels::new(DEFAULT_KEY, "/", &uid, SubscriptionMode::Dynamic);
    redis.subscribe("SSUBSCRIBE", &channels.response).await;
    redis.subscribe("SSUBSCRIBE", &channels.room("room9")).await;
    assert_eq!(redis.numsub(channels.server_count_command()).await, 1);
    let message = |kind| ClusterMessage {
        uid: uid.clone(),
        nsp: "/".into(),
        kind,
    };

    // a broadcast to room1, binary included: MessagePack, on room1's channel
    let broadcast = message(ClusterMessageKind::Broadcast {
        packet: Packet::event(None, "hello", sample_args()),
        request_id: None,
        opts: BroadcastOpts {
            rooms: rooms(&["room1"]),
            ..BroadcastOpts::default()
        },
    });
    let bytes = broadcast.encode();
    assert!(!is_json(&bytes));
    let channel = channels.for_message(&broadcast);
    assert_eq!(channel, "socket.io#/#room1#");
    assert_eq!(redis.publish("SPUBLISH", &channel, &bytes).await, 1);
    assert_eq!(node.next("client"), sample_printed("hello"));

    // fetchSockets
    let request_id = cluster_request_id();
    let fetch = message(ClusterMessageKind::FetchSockets {
        opts: BroadcastOpts::default(),
        request_id: request_id.clone(),
    });
    redis
        .publish("SPUBLISH", &channels.for_message(&fetch), &fetch.encode())
        .await;
    let (channel, bytes) = redis.next_message().await;
    assert_eq!(channel, channels.response);
    let answer = ClusterMessage::decode(&bytes).unwrap().unwrap();
    assert_eq!(answer.uid, node.uid);
    let ClusterMessageKind::FetchSocketsResponse {
        request_id: answered,
        sockets,
    } = answer.kind
    else {
        panic!("{answer:?}")
    };
    assert_eq!(answered, request_id);
    assert_eq!(sockets[0].id, node.sid);
    assert_eq!(sockets[0].data, value(json!({ "peer": "node" })));

    // serverSideEmit with an acknowledgement
    let request_id = cluster_request_id();
    let emit = message(ClusterMessageKind::ServerSideEmit {
        request_id: Some(request_id.clone()),
        packet: vec!["question".into(), "q".into()],
    });
    redis
        .publish("SPUBLISH", &channels.main, &emit.encode())
        .await;
    let (_, bytes) = redis.next_message().await;
    assert_eq!(
        ClusterMessage::decode(&bytes).unwrap().unwrap().kind,
        ClusterMessageKind::ServerSideEmitResponse {
            request_id,
            packet: "answer to q".into()
        }
    );

    // a broadcast with acknowledgements (main channel, although to one room)
    let request_id = cluster_request_id();
    let with_ack = message(ClusterMessageKind::Broadcast {
        packet: Packet::event(None, "ack-me", [Value::Binary(Bytes::from_static(&[9]))]),
        request_id: Some(request_id.clone()),
        opts: BroadcastOpts {
            rooms: rooms(&["room1"]),
            flags: Flags::default().with("timeout", 2000),
            ..BroadcastOpts::default()
        },
    });
    assert_eq!(channels.for_message(&with_ack), channels.main);
    redis
        .publish("SPUBLISH", &channels.main, &with_ack.encode())
        .await;
    assert_eq!(node.next("client"), json!(["ack-me", { "$bin": "CQ==" }]));
    let (_, count) = redis.next_message().await;
    assert_eq!(
        ClusterMessage::decode(&count).unwrap().unwrap().kind,
        ClusterMessageKind::BroadcastClientCount {
            request_id: request_id.clone(),
            client_count: 1
        }
    );
    let (_, ack) = redis.next_message().await;
    assert!(
        !is_json(&ack),
        "the acknowledgement holds binary: MessagePack"
    );
    assert_eq!(
        ClusterMessage::decode(&ack).unwrap().unwrap().kind,
        ClusterMessageKind::BroadcastAck {
            request_id,
            packet: Value::Object(vec![(
                "got".into(),
                Value::Binary(Bytes::from_static(&[9]))
            )])
        }
    );

    // socketsJoin: Node subscribes to the new room's channel, then a broadcast there arrives
    let join = message(ClusterMessageKind::SocketsJoin {
        opts: BroadcastOpts::default(),
        rooms: rooms(&["joined"]),
    });
    redis
        .publish("SPUBLISH", &channels.main, &join.encode())
        .await;
    let joined = message(ClusterMessageKind::Broadcast {
        packet: Packet::event(None, "joined", []),
        request_id: None,
        opts: BroadcastOpts {
            rooms: rooms(&["joined"]),
            ..BroadcastOpts::default()
        },
    });
    let channel = channels.for_message(&joined);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while redis.numsub(["PUBSUB", "SHARDNUMSUB", &channel]).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "Node never subscribed to {channel}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    redis.publish("SPUBLISH", &channel, &joined.encode()).await;
    assert_eq!(node.next("client"), json!(["joined"]));

    // what Node publishes for our values
    let back = message(ClusterMessageKind::ServerSideEmit {
        request_id: None,
        packet: vec![
            "broadcast-back".into(),
            Value::Binary(Bytes::from_static(&[4, 2])),
            value(json!({ "a": [1, 0.5] })),
        ],
    });
    redis
        .publish("SPUBLISH", &channels.main, &back.encode())
        .await;
    let (channel, bytes) = redis.next_message().await;
    assert_eq!(channel, "socket.io#/#room9#");
    let decoded = ClusterMessage::decode(&bytes).unwrap().unwrap();
    assert_eq!(decoded.uid, node.uid);
    assert_eq!(
        decoded.kind,
        ClusterMessageKind::Broadcast {
            packet: Packet::event(
                None,
                "back",
                [
                    Value::Binary(Bytes::from_static(&[4, 2])),
                    value(json!({ "a": [1, 0.5] }))
                ]
            ),
            request_id: None,
            opts: BroadcastOpts {
                rooms: rooms(&["room9"]),
                ..BroadcastOpts::default()
            },
        }
    );
    assert_eq!(&decoded.encode()[..], &bytes[..]);
}
