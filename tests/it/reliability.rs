//! Reliability under clients that misbehave or overwhelm: a client that stops reading is timed
//! out whatever a write is doing, a burst the protocol allows is answered in full, a client
//! that cannot keep up is disconnected rather than losing packets in silence, and the limits
//! (connections, request heads) hold.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::raw_client::RawClient;
use common::{call, get, post};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tower_socketio::extract::{AckSender, Data};
use tower_socketio::{DisconnectReason, EngineConfig, Namespace, SocketIo, SocketRef};

/// The disconnect reasons the server saw, with when.
type Log = Arc<Mutex<Vec<(DisconnectReason, Instant)>>>;

/// `big`: answers with a 64 KiB event; `burst` n: broadcasts n events of 64 KiB to everyone,
/// a few at a time; `echo` with an ack: answers with its argument.
fn namespace(log: &Log) -> Namespace {
    let log = log.clone();
    Namespace::new()
        .on("big", |socket: SocketRef| async move {
            let _ = socket.emit("big", &"x".repeat(64 * 1024));
        })
        .on(
            "burst",
            |socket: SocketRef, Data(count): Data<u32>| async move {
                let everyone = socket.nsp();
                let payload = "y".repeat(64 * 1024);
                for i in 0..count {
                    let _ = everyone.emit("tick", &(i, &payload));
                    if i % 4 == 3 {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
                let _ = everyone.emit("tick", &"end");
            },
        )
        .on("echo", |ack: AckSender, Data(n): Data<u32>| async move {
            let _ = ack.send(&n);
        })
        .on_disconnect(move |reason: DisconnectReason| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push((reason, Instant::now()));
            }
        })
}

async fn server(config: EngineConfig) -> (SocketIo, std::net::SocketAddr, Log) {
    let log = Log::default();
    let io = SocketIo::builder()
        .config(config)
        .ns("/", namespace(&log))
        .build();
    let addr = common::serve(io.clone()).await;
    (io, addr, log)
}

/// A masked client text frame (RFC 6455: clients mask; a zero key leaves the bytes as they are).
fn client_frame(text: &str) -> Vec<u8> {
    let mut frame = vec![0x81];
    match text.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(text.as_bytes());
    frame
}

/// A WebSocket client that joins `/` and then never reads again: its receive buffer is as
/// small as the kernel allows. Returns the connection and the Engine.IO session id.
async fn non_reader(addr: std::net::SocketAddr) -> (TcpStream, String) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: test\r\n\
              Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .await
        .unwrap();
    // The 101 answer and the open packet, then nothing more is read.
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while !seen.windows(7).any(|w| w == b"\"sid\":\"") || !seen.ends_with(b"}") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("the open packet within 5 s")
            .unwrap();
        assert!(n > 0, "closed before the open packet");
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen);
    let sid = text
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    stream.write_all(&client_frame("40")).await.unwrap();
    (stream, sid)
}

/// Sends `count` events the server answers with 64 KiB each: far more than the kernel buffers
/// of a client that does not read, so the server's writes stop making progress.
async fn flood(stream: &mut TcpStream, count: usize) {
    let frame = client_frame(r#"42["big"]"#);
    for _ in 0..count {
        tokio::time::timeout(Duration::from_secs(5), stream.write_all(&frame))
            .await
            .expect("the server keeps reading")
            .unwrap();
    }
}

/// Waits until the server logged a disconnect; returns it.
async fn disconnected(log: &Log, within: Duration) -> (DisconnectReason, Instant) {
    let deadline = Instant::now() + within;
    loop {
        if let Some(first) = log.lock().unwrap().first().copied() {
            return first;
        }
        assert!(Instant::now() < deadline, "no disconnect within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Whether the server still knows the Engine.IO session (a poll naming it gets 400 once it
/// is gone).
async fn session_exists(addr: std::net::SocketAddr, sid: &str) -> bool {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    let _ =
        tokio::time::timeout(Duration::from_secs(2), stream.read_to_string(&mut response)).await;
    !response.starts_with("HTTP/1.1 400")
}

/// A server whose writes to a client are stuck: the client joined, sent 200 events answered
/// with 64 KiB each and reads nothing. No byte bound in the way.
struct Stuck {
    io: SocketIo,
    addr: std::net::SocketAddr,
    log: Log,
    sid: String,
    /// When the flood was sent.
    start: Instant,
    _stream: TcpStream,
}

async fn stuck(ping: (u64, u64), write_timeout: Duration) -> Stuck {
    let config = EngineConfig::default()
        .ping_interval(Duration::from_millis(ping.0))
        .ping_timeout(Duration::from_millis(ping.1))
        .max_buffered_bytes(256 << 20)
        .write_timeout(write_timeout);
    let (io, addr, log) = server(config).await;
    let (mut stream, sid) = non_reader(addr).await;
    let start = Instant::now();
    flood(&mut stream, 200).await;
    Stuck {
        io,
        addr,
        log,
        sid,
        start,
        _stream: stream,
    }
}

impl Stuck {
    /// Asserts the session ended for `reason` within `within` of the flood, and is gone.
    async fn assert_ended(&self, reason: DisconnectReason, within: Duration) {
        let (got, at) = disconnected(&self.log, Duration::from_secs(5)).await;
        assert_eq!(got, reason);
        let took = at - self.start;
        assert!(took < within, "{took:?}");
        assert!(!session_exists(self.addr, &self.sid).await);
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_times_out_on_the_heartbeat() {
    // Ping every 200 ms, pong within 300 ms; the write bound out of the way.
    let stuck = stuck((200, 300), Duration::from_secs(60)).await;
    // ping_interval + ping_timeout from the connection, with room for a loaded machine.
    stuck
        .assert_ended(
            DisconnectReason::PingTimeout,
            Duration::from_millis(500 + 1000),
        )
        .await;
}

#[tokio::test]
async fn a_write_that_makes_no_progress_ends_the_session() {
    // A heartbeat too slow to notice: the write bound does. "transport error" is one of the
    // reasons connection state recovery restores from.
    let stuck = stuck((30_000, 30_000), Duration::from_millis(300)).await;
    stuck
        .assert_ended(
            DisconnectReason::TransportError,
            Duration::from_millis(300 + 1500),
        )
        .await;
}

#[tokio::test]
async fn shutdown_and_close_fire_while_a_write_is_stuck() {
    let mut stuck = stuck((30_000, 30_000), Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stuck.start = Instant::now();
    stuck.io.close();
    // The graceful close's grace period (1 s), and no goodbye waited for.
    stuck
        .assert_ended(
            DisconnectReason::ServerShuttingDown,
            Duration::from_millis(1000 + 1000),
        )
        .await;
}

#[tokio::test]
async fn a_client_that_cannot_keep_up_is_disconnected_and_the_others_get_everything() {
    // 1 MiB a client; the broadcasts (200 of 64 KiB, 12.5 MiB) leave a few at a time, which
    // a reading client keeps up with and a client that does not read cannot.
    let config = EngineConfig::default().max_buffered_bytes(1 << 20);
    let (_io, addr, log) = server(config).await;
    let (_stream, _) = non_reader(addr).await;
    let mut reader = RawClient::connect(addr).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    reader.send(r#"42["burst",200]"#).await;
    for i in 0..200 {
        let packet = reader.recv().await;
        assert!(
            packet.starts_with(&format!(r#"2["tick",{i},"#)),
            "{i}: {}",
            &packet[..30]
        );
    }
    assert_eq!(reader.recv().await, r#"2["tick","end"]"#);
    let (reason, _) = disconnected(&log, Duration::from_secs(5)).await;
    assert_eq!(reason, DisconnectReason::TransportError);
    // The reader stays connected.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(log.lock().unwrap().len(), 1);
    reader.send(r#"421["echo",7]"#).await;
    assert_eq!(reader.recv().await, "31[7]");
}

#[tokio::test]
async fn ten_thousand_events_in_one_post_are_all_answered_in_order() {
    let log = Log::default();
    let io = SocketIo::builder().ns("/", namespace(&log)).build();
    let app = axum::Router::new().layer(io.layer());
    let open = call(app.clone(), get("/socket.io/?EIO=4&transport=polling")).await;
    let sid = open.text()[1..]
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    assert_eq!(call(app.clone(), post(&uri, "40")).await.text(), "ok");
    assert!(call(app.clone(), get(&uri)).await.text().starts_with("40{"));
    let body: Vec<String> = (0..10_000u32)
        .map(|i| format!(r#"42{i}["echo",{i}]"#))
        .collect();
    assert_eq!(
        call(app.clone(), post(&uri, body.join("\x1e")))
            .await
            .text(),
        "ok"
    );
    let mut answers = Vec::new();
    while answers.len() < 10_000 {
        let reply = call(app.clone(), get(&uri)).await;
        assert_eq!(reply.status, 200);
        answers.extend(reply.text().split('\x1e').map(str::to_owned));
    }
    let expected: Vec<String> = (0..10_000u32).map(|i| format!("43{i}[{i}]")).collect();
    assert_eq!(answers, expected);
    assert!(log.lock().unwrap().is_empty());
}

#[tokio::test]
async fn handshakes_beyond_max_connections_get_503() {
    let log = Log::default();
    let io = SocketIo::builder()
        .config(EngineConfig::default().max_connections(2))
        .ns("/", namespace(&log))
        .build();
    let app = axum::Router::new().layer(io.layer());
    for _ in 0..2 {
        let reply = call(app.clone(), get("/socket.io/?EIO=4&transport=polling")).await;
        assert_eq!(reply.status, 200);
    }
    let refused = call(app.clone(), get("/socket.io/?EIO=4&transport=polling")).await;
    refused.assert_error(503, 4, "Server busy");
    // Over WebSocket too.
    let refused = call(
        app.clone(),
        common::request(
            "GET",
            "/socket.io/?EIO=4&transport=websocket",
            &common::WS_UPGRADE,
        ),
    )
    .await;
    refused.assert_error(503, 4, "Server busy");
}

#[tokio::test]
async fn a_request_head_that_does_not_arrive_in_time_is_cut() {
    let log = Log::default();
    let io = SocketIo::builder()
        .config(EngineConfig::default().header_read_timeout(Duration::from_millis(300)))
        .ns("/", namespace(&log))
        .build();
    let addr = common::serve(io).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    // A byte every 100 ms: the head never completes in time.
    let mut cut = false;
    for byte in b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: test\r\n".iter() {
        if stream.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        let mut buf = [0u8; 64];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await
        {
            cut = true;
            break;
        }
    }
    assert!(cut, "the connection was never cut");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

/// One HTTP/1.1 request on its own connection, read whole.
async fn http(addr: std::net::SocketAddr, method: &str, uri: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {uri} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
        .await
        .expect("a response within 5 s")
        .unwrap();
    response
}

#[tokio::test]
async fn a_polling_response_the_client_does_not_read_is_cut_after_the_write_timeout() {
    let config = EngineConfig::default()
        .ping_interval(Duration::from_secs(30))
        .ping_timeout(Duration::from_secs(30))
        .max_buffered_bytes(256 << 20)
        .write_timeout(Duration::from_millis(300));
    let (_io, addr, _log) = server(config).await;
    let open = http(addr, "GET", "/socket.io/?EIO=4&transport=polling", "").await;
    let sid = open
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    assert!(http(addr, "POST", &uri, "40").await.ends_with("ok"));
    assert!(http(addr, "GET", &uri, "").await.contains("40{"));
    // 150 answers of 64 KiB: a 9.6 MB poll response.
    let events = vec![r#"42["big"]"#; 150].join("\x1e");
    assert!(http(addr, "POST", &uri, &events).await.ends_with("ok"));
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request = format!("GET {uri} HTTP/1.1\r\nHost: test\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    // Not read for a while: the server's write stalls, and the connection is dropped.
    tokio::time::sleep(Duration::from_millis(300 + 1200)).await;
    let mut received = Vec::new();
    let ended =
        tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut received)).await;
    assert!(ended.is_ok(), "the connection is still open");
    assert!(received.len() < 150 * 64 * 1024, "{} bytes", received.len());
}

#[tokio::test]
async fn a_client_that_sends_without_reading_is_no_longer_read() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let handled = Arc::new(AtomicUsize::new(0));
    let counter = handled.clone();
    let io = SocketIo::builder()
        .config(
            EngineConfig::default()
                .ping_interval(Duration::from_secs(30))
                .ping_timeout(Duration::from_secs(30)),
        )
        .ns(
            "/",
            Namespace::new().on("big", move |socket: SocketRef| {
                counter.fetch_add(1, Ordering::Relaxed);
                async move {
                    let _ = socket.emit("big", &"x".repeat(64 * 1024));
                }
            }),
        )
        .build();
    let addr = common::serve(io).await;
    let (mut stream, _) = non_reader(addr).await;
    // 2,000 events, 128 MiB of answers: the server stops taking them once its writes wait,
    // rather than queuing answers up to the client's byte bound.
    flood(&mut stream, 2000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let taken = handled.load(Ordering::Relaxed);
    assert!(taken > 0 && taken < 500, "{taken} events handled");
}
