//! Shared pieces of the integration tests: an echo handler and request helpers.
#![allow(dead_code)]

pub mod browser;
pub mod examples;
pub mod raw_client;
#[cfg(feature = "redis")]
pub mod redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_socketio::engine::{DisconnectReason, EngineHandler, Message, Socket};

/// One test a Node scenario: `scenarios! { rust_name => "script-name", ... }` makes a
/// multi-threaded `#[tokio::test]` per line that calls `run_script("script-name")`, a function
/// the test file defines (it starts the server the scripts expect, then runs the script).
macro_rules! scenarios {
    ($($test:ident => $script:literal,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                run_script($script).await;
            }
        )*
    };
}

/// Serves `io` on a free local port until the test ends; returns the address.
pub async fn serve(io: tower_socketio::SocketIo) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(io.serve(listener, std::future::pending()));
    addr
}

/// Sends every message back; counts connects and disconnects.
#[derive(Default)]
pub struct Echo {
    pub connects: AtomicUsize,
    pub disconnects: std::sync::Mutex<Vec<DisconnectReason>>,
}

impl EngineHandler for Echo {
    type Data = ();

    fn on_connect(&self, _socket: Arc<Socket>) {
        self.connects.fetch_add(1, Ordering::SeqCst);
    }

    fn on_message(&self, socket: &Arc<Socket>, message: Message) {
        let _ = socket.send(message);
    }

    fn on_disconnect(&self, _socket: Arc<Socket>, reason: DisconnectReason) {
        self.disconnects.lock().unwrap().push(reason);
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// Asserts an Engine.IO error response.
    pub fn assert_error(&self, status: u16, code: u64, message: &str) {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.headers["content-type"], "application/json");
        assert_eq!(
            self.json(),
            serde_json::json!({ "code": code, "message": message })
        );
    }
}

/// Calls a service once with `req` and reads the whole response.
pub async fn call<S, B>(service: S, req: Request<String>) -> Reply
where
    S: tower::Service<Request<String>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let response = service.oneshot(req).await.expect("service error");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body error").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A request with no body and these headers.
pub fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<String> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(String::new()).unwrap()
}

/// The headers of a WebSocket handshake (RFC 6455 sample key).
pub const WS_UPGRADE: [(&str, &str); 4] = [
    ("connection", "Upgrade"),
    ("upgrade", "websocket"),
    ("sec-websocket-version", "13"),
    ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
];

pub fn get(uri: &str) -> Request<String> {
    Request::get(uri).body(String::new()).unwrap()
}

pub fn post(uri: &str, body: impl Into<String>) -> Request<String> {
    Request::post(uri).body(body.into()).unwrap()
}
