//! The layer on a plain hyper 1 server (no axum), over real TCP: a WebSocket session through
//! hyper's upgrade machinery, the protocol's answer to polling requests on it, and the session's
//! end when the client goes away.

use crate::common;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message as Frame;
use tower::{Layer, service_fn};
use tower_socketio::engine::{DisconnectReason, EngineIo};
use tower_socketio::{EngineConfig, SocketIoLayer};

/// Serves `engine` in front of a hello-world service on a plain hyper server.
async fn serve(engine: EngineIo<common::Echo>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hello = service_fn(|_req: Request<hyper::body::Incoming>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hello"))))
    });
    let service = SocketIoLayer::new(engine).layer(hello);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// One HTTP/1.1 request on a fresh connection; returns the status and body.
async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .unwrap();
    let response = sender.send_request(req).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn websocket_session_on_plain_hyper() {
    let engine = EngineIo::new(
        EngineConfig::default().ping_interval(Duration::from_millis(200)),
        common::Echo::default(),
    );
    let addr = serve(engine.clone()).await;

    // Other paths reach the inner service.
    assert_eq!(http(addr, "GET", "/", "").await, (200, "hello".into()));

    let stream = TcpStream::connect(addr).await.unwrap();
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, response) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    assert_eq!(response.status(), 101);
    let Some(Ok(Frame::Text(open))) = ws.next().await else {
        panic!("no open packet")
    };
    assert!(open.starts_with("0{\"sid\":"), "{open}");
    let open: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
    assert_eq!(open["upgrades"], serde_json::json!([]));
    let sid = open["sid"].as_str().unwrap().to_owned();

    // Messages echo, binary stays binary; the heartbeat comes and is answered.
    ws.send(Frame::text("4héllo")).await.unwrap();
    ws.send(Frame::binary(vec![1u8, 2, 3])).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        match ws.next().await.unwrap().unwrap() {
            Frame::Text(t) if t == "2" => {
                ws.send(Frame::text("3")).await.unwrap();
                got.push("ping".to_owned());
            }
            Frame::Text(t) => got.push(t.to_string()),
            Frame::Binary(b) => got.push(format!("{:?}", &b[..])),
            other => panic!("unexpected {other:?}"),
        }
    }
    got.retain(|m| m != "ping");
    assert_eq!(&got[..2], ["4héllo", "[1, 2, 3]"]);

    // Polling requests on a WebSocket session are bad requests; the session is unharmed.
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let bad = r#"{"code":3,"message":"Bad request"}"#.to_owned();
    assert_eq!(
        http(addr, "POST", &uri, "4sneaky").await,
        (400, bad.clone())
    );
    assert_eq!(http(addr, "GET", &uri, "").await, (400, bad));
    assert_eq!(engine.session_count(), 1);

    // The client goes away: the session ends with "transport close".
    drop(ws);
    tokio::time::timeout(Duration::from_secs(2), async {
        while engine.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("session removed after the client left");
    assert_eq!(
        *engine.handler().disconnects.lock().unwrap(),
        [DisconnectReason::TransportClose]
    );
}

#[tokio::test]
async fn a_client_hanging_up_right_after_the_upgrade_ends_its_session() {
    let engine = EngineIo::new(
        EngineConfig::default().upgrade_timeout(Duration::from_millis(200)),
        common::Echo::default(),
    );
    let addr = serve(engine.clone()).await;
    // A raw upgrade request; the client then never speaks WebSocket and hangs up.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n\
              Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .await
        .unwrap();
    let mut buf = [0u8; 12];
    stream.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HTTP/1.1 101");
    drop(stream);
    tokio::time::timeout(Duration::from_secs(2), async {
        while engine.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("session removed");
    // The upgrade completed, so the session opened, and it ended as the client left.
    assert_eq!(
        engine
            .handler()
            .connects
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(
        *engine.handler().disconnects.lock().unwrap(),
        [DisconnectReason::TransportClose]
    );
}

#[tokio::test]
async fn websocket_frames_beyond_single_messages() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame as RawFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

    let engine = EngineIo::new(EngineConfig::default(), common::Echo::default());
    let addr = serve(engine.clone()).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    let Some(Ok(Frame::Text(_open))) = ws.next().await else {
        panic!("no open packet")
    };

    // A WebSocket ping gets its pong.
    ws.send(Frame::Ping(Bytes::from_static(b"hb")))
        .await
        .unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Frame::Pong(Bytes::from_static(b"hb"))
    );

    // A message in three fragments arrives whole.
    let text = OpCode::Data(Data::Text);
    let more = OpCode::Data(Data::Continue);
    for (opcode, part, fin) in [
        (text, "4frag", false),
        (more, "men", false),
        (more, "ted", true),
    ] {
        let frame = RawFrame::message(Bytes::from_static(part.as_bytes()), opcode, fin);
        ws.send(Frame::Frame(frame)).await.unwrap();
    }
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Frame::text("4fragmented")
    );

    // Text that is not UTF-8: closed with 1007.
    let invalid = RawFrame::message(Bytes::from_static(&[b'4', 0xFF, 0xFE]), text, true);
    ws.send(Frame::Frame(invalid)).await.unwrap();
    match ws.next().await {
        Some(Ok(Frame::Close(Some(close)))) => assert_eq!(close.code, CloseCode::Invalid),
        other => panic!("expected a close frame with 1007, got {other:?}"),
    }
    tokio::time::timeout(Duration::from_secs(2), async {
        while engine.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the session ends");
}
