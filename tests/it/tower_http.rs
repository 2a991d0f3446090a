//! tower-http's middlewares around an axum app that mounts the layer, in the order the README
//! ("With tower-http") gives: each test serves the app on a real port and runs the official
//! `socket.io-client` over every transport and the upgrade (`tests/js/towerhttp/transports.mjs`),
//! then checks what the middleware must or must not do to the engine's requests, with
//! in-process requests (`oneshot`) and, for the WebSocket handshake's `101`, a raw WebSocket
//! client.
//!
//! The server's contract (the script's): `/` emits `welcome` with `{"id", "requestId"}` (the
//! handshake's `x-request-id`, or null) on connection; `big` with N is acknowledged with
//! `big_string(N)` and emits `big` with it. `/api/hello` answers `hello`, `/api/slow` after 2 s.

use crate::common::{self, Reply, call, request};

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use http::{HeaderValue, Method, StatusCode, header};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_socketio::extract::{AckSender, Data};
use tower_socketio::{EngineConfig, Namespace, Origins, SocketIo, SocketRef};

/// `n` characters of "é€ socket.io " repeated (16 bytes a 13 characters).
fn big_string(n: usize) -> String {
    "é€ socket.io ".chars().cycle().take(n).collect()
}

fn io(config: EngineConfig) -> SocketIo {
    let root = Namespace::new()
        .on_connect(|socket: SocketRef| async move {
            let request_id = socket
                .req_parts()
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let welcome =
                serde_json::json!({ "id": socket.id().to_string(), "requestId": request_id });
            let _ = socket.emit("welcome", &welcome);
        })
        .on(
            "big",
            |socket: SocketRef, ack: AckSender, Data(n): Data<usize>| async move {
                let text = big_string(n);
                let _ = ack.send(&text);
                let _ = socket.emit("big", &text);
            },
        );
    SocketIo::builder().config(config).ns("/", root).build()
}

/// A heartbeat short enough for the timeout tests.
fn fast_heartbeat() -> EngineConfig {
    EngineConfig::default()
        .ping_interval(Duration::from_millis(1000))
        .ping_timeout(Duration::from_millis(1000))
}

/// The REST routes of the app.
fn routes() -> Router {
    Router::new()
        .route("/api/hello", get(|| async { "hello" }))
        .route(
            "/api/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "slow"
            }),
        )
}

/// Serves `app` on a free port until the test ends; returns its base URL.
async fn serve(app: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// The official client over every transport and the upgrade, against `app`.
async fn run_clients(app: Router, compressed: bool) {
    let url = serve(app).await;
    let mut args = vec![url.as_str()];
    if compressed {
        args.push("compressed");
    }
    common::examples::run_node("towerhttp/transports.mjs", &args, "transports").await;
}

const POLL: &str = "/socket.io/?EIO=4&transport=polling";

/// A polling session joined to `/` (its `welcome` read): the session's URL and the handshake's
/// response.
async fn join(app: &Router, headers: &[(&str, &str)]) -> (String, Reply) {
    let open = call(app.clone(), request("GET", POLL, headers)).await;
    assert_eq!(open.status, StatusCode::OK, "{open:?}");
    let url = format!("{POLL}&sid={}", sid_of(&open));
    let posted = call(app.clone(), poll_post(&url, "40", headers)).await;
    assert_eq!(posted.status, StatusCode::OK, "{posted:?}");
    let welcome = call(app.clone(), request("GET", &url, headers)).await;
    let welcome = String::from_utf8(decoded(&welcome)).unwrap();
    assert!(welcome.contains("[\"welcome\","), "{welcome}");
    (url, open)
}

/// The session id in a handshake's open packet.
fn sid_of(open: &Reply) -> String {
    let body = decoded(open);
    body.strip_prefix(b"0{\"sid\":\"")
        .and_then(|rest| rest.split(|b| *b == b'"').next())
        .map(|sid| String::from_utf8(sid.to_vec()).unwrap())
        .unwrap_or_else(|| panic!("an open packet: {open:?}"))
}

fn poll_post(url: &str, body: &str, headers: &[(&str, &str)]) -> http::Request<String> {
    let mut req = request("POST", url, headers);
    *req.body_mut() = body.to_owned();
    req
}

/// The body of a response, decoded once from its `Content-Encoding` (at most one allowed).
fn decoded(reply: &Reply) -> Vec<u8> {
    let encodings: Vec<_> = reply
        .headers
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .collect();
    assert!(encodings.len() <= 1, "encoded twice: {encodings:?}");
    let mut out = Vec::new();
    match encodings.first().map(|v| v.as_bytes()) {
        None => out.extend_from_slice(&reply.body),
        Some(b"gzip") => {
            flate2::read::GzDecoder::new(&reply.body[..])
                .read_to_end(&mut out)
                .expect("a gzip body");
        }
        Some(b"deflate") => {
            flate2::read::ZlibDecoder::new(&reply.body[..])
                .read_to_end(&mut out)
                .expect("a zlib body");
        }
        Some(other) => panic!("unexpected encoding {other:?}"),
    }
    out
}

/// Opens a WebSocket session over TCP with these extra headers; returns the `101` response.
async fn websocket_handshake(
    base: &str,
    headers: &[(&'static str, &'static str)],
) -> http::Response<Option<Vec<u8>>> {
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        base.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    for (name, value) in headers {
        req.headers_mut()
            .insert(*name, HeaderValue::from_static(value));
    }
    let (mut ws, response) = tokio_tungstenite::connect_async(req)
        .await
        .expect("the WebSocket handshake");
    use futures_util::StreamExt;
    let open = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("the open packet in time")
        .expect("a frame")
        .expect("a frame");
    assert!(open.to_text().unwrap().starts_with("0{\"sid\""), "{open:?}");
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_layer_around_the_app() {
    let statuses = Arc::new(Mutex::new(Vec::<u16>::new()));
    let seen = statuses.clone();
    let trace = TraceLayer::new_for_http().on_response(
        move |response: &http::Response<axum::body::Body>,
              _latency: Duration,
              _span: &tracing::Span| {
            seen.lock().unwrap().push(response.status().as_u16());
        },
    );
    let app = routes()
        .layer(io(EngineConfig::default()).layer())
        .layer(trace);
    run_clients(app.clone(), false).await;
    let statuses = statuses.lock().unwrap().clone();
    // Polls and posts (200), the WebSocket handshakes and the upgrade (101).
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.iter().filter(|s| **s == 101).count() >= 2,
        "{statuses:?}"
    );
    let hello = call(app, request("GET", "/api/hello", &[])).await;
    assert_eq!(hello.body, "hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_layer_around_the_app() {
    const SITE: &str = "http://app.test";
    let cors = || {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list([HeaderValue::from_static(SITE)]))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE])
    };
    // The documented way: one origin list, the layer's own CORS answers off.
    let config = EngineConfig::default()
        .origins(Origins::list([SITE]))
        .cors_headers(false);
    let app = routes().layer(io(config).layer()).layer(cors());
    run_clients(app.clone(), false).await;

    // A preflight is CorsLayer's.
    let preflight = call(
        app.clone(),
        request(
            "OPTIONS",
            POLL,
            &[
                ("origin", SITE),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
        ),
    )
    .await;
    assert_eq!(preflight.status, StatusCode::OK, "{preflight:?}");
    assert_eq!(preflight.headers["access-control-allow-origin"], SITE);
    assert!(
        preflight.headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    // Polling from the site: one Access-Control-Allow-Origin, the site.
    let (url, open) = join(&app, &[("origin", SITE)]).await;
    let allow: Vec<_> = open
        .headers
        .get_all("access-control-allow-origin")
        .iter()
        .collect();
    assert_eq!(allow, [SITE], "{open:?}");
    let posted = call(app.clone(), poll_post(&url, "3", &[("origin", SITE)])).await;
    assert_eq!(posted.headers["access-control-allow-origin"], SITE);
    // Another site: refused by `origins` (403), and nothing allows it.
    let other = call(
        app.clone(),
        request("GET", POLL, &[("origin", "http://evil.test")]),
    )
    .await;
    other.assert_error(403, 4, "Forbidden");
    assert!(
        !other.headers.contains_key("access-control-allow-origin"),
        "{other:?}"
    );

    // Why `cors_headers(false)`: with the layer's defaults (any origin), its `*` stands where
    // CorsLayer allows nothing, and the other site's page could read the responses.
    let loose = routes()
        .layer(io(EngineConfig::default()).layer())
        .layer(cors());
    let other = call(
        loose,
        request("GET", POLL, &[("origin", "http://evil.test")]),
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.headers["access-control-allow-origin"], "*");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_layer_around_the_app() {
    let app = routes()
        .layer(io(EngineConfig::default()).layer())
        .layer(CompressionLayer::new());
    run_clients(app.clone(), true).await;

    let gzip = [("accept-encoding", "gzip")];
    let (url, _) = join(&app, &gzip).await;
    // A large poll response: compressed once, by the engine (CompressionLayer leaves an encoded body).
    let posted = call(app.clone(), poll_post(&url, "420[\"big\",5000]", &gzip)).await;
    assert_eq!(posted.status, StatusCode::OK);
    let answer = call(app.clone(), request("GET", &url, &gzip)).await;
    assert_eq!(
        answer.headers[header::CONTENT_ENCODING],
        "gzip",
        "{answer:?}"
    );
    assert_eq!(
        answer.headers[header::CONTENT_LENGTH],
        answer.body.len().to_string()
    );
    let text = String::from_utf8(decoded(&answer)).expect("a text payload, decoded once");
    let expected = format!("430[\"{}\"]", big_string(5000));
    assert!(text.starts_with(&expected), "{}", &text[..80]);
    // A small one (under the engine's 1024 bytes): CompressionLayer's, once.
    let posted = call(app.clone(), poll_post(&url, "421[\"big\",40]", &gzip)).await;
    assert_eq!(posted.status, StatusCode::OK);
    let answer = call(app.clone(), request("GET", &url, &gzip)).await;
    let text = String::from_utf8(decoded(&answer)).unwrap();
    assert!(
        text.starts_with(&format!("431[\"{}\"]", big_string(40))),
        "{text}"
    );

    // The WebSocket handshake's 101 is left alone (no body, no encoding), and the session runs.
    let base = serve(app.clone()).await;
    let response = websocket_handshake(&base, &[("accept-encoding", "gzip, deflate")]).await;
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert!(!response.headers().contains_key(header::CONTENT_ENCODING));

    // With the engine's compression off, CompressionLayer's alone: the client still decodes.
    let app = routes()
        .layer(io(EngineConfig::default().http_compression(None)).layer())
        .layer(CompressionLayer::new());
    run_clients(app, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_layer_inside_the_app_or_longer_than_the_ping_interval() {
    let timeout =
        |ms| TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_millis(ms));
    // Inside: the REST routes are cut at 300 ms, long-polls wait up to the 1 s ping interval.
    let app = routes()
        .layer(timeout(300))
        .layer(io(fast_heartbeat()).layer());
    run_clients(app.clone(), false).await;
    let slow = call(app.clone(), request("GET", "/api/slow", &[])).await;
    assert_eq!(slow.status, StatusCode::REQUEST_TIMEOUT);
    let (url, _) = join(&app, &[]).await;
    let started = Instant::now();
    let poll = call(app.clone(), request("GET", &url, &[])).await;
    assert_eq!(
        (poll.status, poll.text()),
        (StatusCode::OK, "2"),
        "the ping"
    );
    assert!(started.elapsed() > Duration::from_millis(300));

    // Outside and longer than the ping interval (plus the time to answer): polls end in time.
    let app = routes()
        .layer(io(fast_heartbeat()).layer())
        .layer(timeout(3000));
    run_clients(app.clone(), false).await;
    let (url, _) = join(&app, &[]).await;
    let poll = call(app.clone(), request("GET", &url, &[])).await;
    assert_eq!(
        (poll.status, poll.text()),
        (StatusCode::OK, "2"),
        "the ping"
    );

    // Why: outside and shorter, a waiting long-poll is cut with the timeout's status, which
    // clients take for a transport error.
    let app = routes()
        .layer(io(fast_heartbeat()).layer())
        .layer(timeout(300));
    let (url, _) = join(&app, &[]).await;
    let poll = call(app.clone(), request("GET", &url, &[])).await;
    assert_eq!(poll.status, StatusCode::REQUEST_TIMEOUT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_id_layers_around_the_app() {
    let app = routes()
        .layer(io(EngineConfig::default()).layer())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    run_clients(app.clone(), false).await;

    // Polling: each response carries its request's id; the handshake's reaches the handlers.
    let open = call(app.clone(), request("GET", POLL, &[])).await;
    let id = open.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let url = format!("{POLL}&sid={}", sid_of(&open));
    let posted = call(
        app.clone(),
        poll_post(&url, "40", &[("x-request-id", "mine")]),
    )
    .await;
    assert_eq!(posted.headers["x-request-id"], "mine");
    let welcome = call(app.clone(), request("GET", &url, &[])).await;
    assert!(
        welcome.text().contains(&format!("\"requestId\":\"{id}\"")),
        "{}",
        welcome.text()
    );
    // WebSocket: the 101 carries the id.
    let base = serve(app).await;
    let response = websocket_handshake(&base, &[("x-request-id", "ws-42")]).await;
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(response.headers()["x-request-id"], "ws-42");
}
