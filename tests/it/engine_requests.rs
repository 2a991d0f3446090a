//! In-process tests of the Engine.IO request handling through `tower::ServiceExt::oneshot`:
//! every error response of the protocol, the handshake, polling, CORS and the layer's
//! pass-through.

use crate::common;

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::routing::get as axum_get;
use common::{Echo, WS_UPGRADE, call, get, post, request};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::service_fn;
use tower_socketio::engine::{DisconnectReason, EngineIo};
use tower_socketio::{Cookie, EngineConfig, Origins, Refusal, SocketIoLayer, Transport};

fn engine(config: EngineConfig) -> EngineIo<Echo> {
    EngineIo::new(config, Echo::default())
}

/// The app under test: the layer in front of a service that answers 418 with a marker header.
fn app(
    engine: &EngineIo<Echo>,
) -> tower_socketio::layer::SocketIoService<
    impl tower::Service<
        Request<String>,
        Response = Response<Full<bytes::Bytes>>,
        Error = Infallible,
        Future = impl Send,
    > + Clone,
    Echo,
> {
    let inner = service_fn(|req: Request<String>| async move {
        let body = format!("inner saw {} {}", req.method(), req.uri());
        Ok::<_, Infallible>(
            Response::builder()
                .status(StatusCode::IM_A_TEAPOT)
                .header("x-inner", "yes")
                .body(Full::from(body))
                .unwrap(),
        )
    });
    tower::Layer::layer(&SocketIoLayer::new(engine.clone()), inner)
}

async fn handshake(engine: &EngineIo<Echo>) -> String {
    let reply = call(app(engine), get("/socket.io/?EIO=4&transport=polling")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let open: serde_json::Value = serde_json::from_str(&reply.text()[1..]).unwrap();
    open["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn other_paths_reach_the_inner_service_untouched() {
    let engine = engine(EngineConfig::default());
    for uri in [
        "/",
        "/api/x?EIO=4&transport=polling",
        "/socket.iox/",
        "/socket.io",
    ] {
        let reply = call(app(&engine), post(uri, "body")).await;
        assert_eq!(reply.status, StatusCode::IM_A_TEAPOT, "{uri}");
        assert_eq!(reply.headers["x-inner"], "yes");
        assert_eq!(reply.text(), format!("inner saw POST {uri}"));
    }
}

#[tokio::test]
async fn polling_handshake_v4() {
    let engine = engine(EngineConfig::default().ping_interval(Duration::from_millis(1234)));
    let reply = call(app(&engine), get("/socket.io/?EIO=4&transport=polling&t=x")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "text/plain; charset=UTF-8");
    let text = reply.text();
    assert!(text.starts_with('0'), "{text}");
    let open: serde_json::Value = serde_json::from_str(&text[1..]).unwrap();
    assert_eq!(open["upgrades"], serde_json::json!(["websocket"]));
    assert_eq!(open["pingInterval"], 1234);
    assert_eq!(open["pingTimeout"], 20000);
    assert_eq!(open["maxPayload"], 1_000_000);
    assert_eq!(open["sid"].as_str().unwrap().len(), 20);
    assert_eq!(engine.session_count(), 1);
    assert_eq!(
        engine
            .handler()
            .connects
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn polling_handshake_v3_is_length_prefixed() {
    let engine = engine(EngineConfig::default());
    let reply = call(app(&engine), get("/socket.io/?EIO=3&transport=polling")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = reply.text();
    let (len, packet) = text.split_once(':').unwrap();
    assert_eq!(len.parse::<usize>().unwrap(), packet.len());
    assert!(packet.starts_with("0{"));
}

#[tokio::test]
async fn no_upgrades_offered_when_disabled() {
    let engine = engine(EngineConfig::default().allow_upgrades(false));
    let reply = call(app(&engine), get("/socket.io/?EIO=4&transport=polling")).await;
    let open: serde_json::Value = serde_json::from_str(&reply.text()[1..]).unwrap();
    assert_eq!(open["upgrades"], serde_json::json!([]));
}

#[tokio::test]
async fn unknown_transport() {
    let engine = engine(EngineConfig::default().transports([Transport::WebSocket]));
    for uri in [
        "/socket.io/?EIO=4",
        "/socket.io/?EIO=4&transport=abc",
        "/socket.io/?EIO=4&transport=polling",
    ] {
        call(app(&engine), get(uri))
            .await
            .assert_error(400, 0, "Transport unknown");
    }
}

#[tokio::test]
async fn unsupported_protocol_version() {
    let engine = engine(EngineConfig::default());
    for uri in [
        "/socket.io/?transport=polling",
        "/socket.io/?EIO=abc&transport=polling",
        "/socket.io/?EIO=5&transport=polling",
    ] {
        call(app(&engine), get(uri))
            .await
            .assert_error(400, 5, "Unsupported protocol version");
    }
    let no_v3 = engine_with_v3_off();
    call(app(&no_v3), get("/socket.io/?EIO=3&transport=polling"))
        .await
        .assert_error(400, 5, "Unsupported protocol version");
}

fn engine_with_v3_off() -> EngineIo<Echo> {
    engine(EngineConfig::default().allow_eio3(false))
}

#[tokio::test]
async fn bad_handshake_method() {
    let engine = engine(EngineConfig::default());
    call(
        app(&engine),
        post("/socket.io/?EIO=4&transport=polling", ""),
    )
    .await
    .assert_error(400, 2, "Bad handshake method");
    let put = Request::put("/socket.io/?EIO=4&transport=polling")
        .body(String::new())
        .unwrap();
    call(app(&engine), put)
        .await
        .assert_error(400, 2, "Bad handshake method");
}

#[tokio::test]
async fn unknown_sid() {
    let engine = engine(EngineConfig::default());
    for uri in [
        "/socket.io/?EIO=4&transport=polling&sid=doesnotexist",
        "/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA",
    ] {
        call(app(&engine), get(uri))
            .await
            .assert_error(400, 1, "Session ID unknown");
        call(app(&engine), post(uri, "4x"))
            .await
            .assert_error(400, 1, "Session ID unknown");
    }
}

#[tokio::test]
async fn websocket_transport_without_upgrade_is_a_bad_request() {
    let engine = engine(EngineConfig::default());
    call(app(&engine), get("/socket.io/?EIO=4&transport=websocket"))
        .await
        .assert_error(400, 3, "Bad request");
    // A WebSocket handshake with a wrong version.
    let req = request(
        "GET",
        "/socket.io/?EIO=4&transport=websocket",
        &[
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "8"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
    );
    call(app(&engine), req)
        .await
        .assert_error(400, 3, "Bad request");
}

#[tokio::test]
async fn forbidden_origin() {
    let engine = engine(EngineConfig::default().origins(Origins::list(["http://good.test"])));
    let req = request(
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[("origin", "http://evil.test")],
    );
    call(app(&engine), req)
        .await
        .assert_error(403, 4, "Forbidden");
    let req = request(
        "GET",
        "/socket.io/?EIO=4&transport=websocket",
        &[&[("origin", "http://evil.test")][..], &WS_UPGRADE[..]].concat(),
    );
    call(app(&engine), req)
        .await
        .assert_error(403, 4, "Forbidden");
    assert_eq!(engine.session_count(), 0);
    // Allowed origin: CORS headers on the response.
    let req = request(
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[("origin", "http://good.test")],
    );
    let reply = call(app(&engine), req).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["access-control-allow-origin"],
        "http://good.test"
    );
}

#[tokio::test]
async fn preflight_is_answered() {
    let engine = engine(EngineConfig::default().origins(Origins::list(["http://good.test"])));
    let req = request(
        "OPTIONS",
        "/socket.io/?EIO=4&transport=polling&sid=x",
        &[
            ("origin", "http://good.test"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
    );
    let reply = call(app(&engine), req).await;
    // 204, as Node's `cors` package answers.
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        reply.headers["access-control-allow-origin"],
        "http://good.test"
    );
    assert_eq!(
        reply.headers["access-control-allow-headers"],
        "content-type"
    );
    let methods = reply.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    // Default policy: any origin.
    let any = engine_any();
    let req = request(
        "OPTIONS",
        "/socket.io/?EIO=4&transport=polling",
        &[
            ("origin", "http://anywhere.test"),
            ("access-control-request-method", "POST"),
        ],
    );
    let reply = call(app(&any), req).await;
    assert_eq!(reply.headers["access-control-allow-origin"], "*");
}

fn engine_any() -> EngineIo<Echo> {
    engine(EngineConfig::default())
}

#[tokio::test]
async fn credentials_echo_the_origin() {
    let engine = engine(EngineConfig::default().cors_credentials(true));
    let req = request(
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[("origin", "http://app.test")],
    );
    let reply = call(app(&engine), req).await;
    assert_eq!(
        reply.headers["access-control-allow-origin"],
        "http://app.test"
    );
    assert_eq!(reply.headers["access-control-allow-credentials"], "true");
}

#[tokio::test]
async fn allow_request_hook_refuses() {
    let engine = engine(EngineConfig::default().allow_request(
        |req| match req.headers.get("x-token") {
            Some(token) if token == "ok" => Ok(()),
            Some(_) => Err(Refusal::new("bad token").with_status(StatusCode::UNAUTHORIZED)),
            None => Err(Refusal::new("no token")),
        },
    ));
    call(app(&engine), get("/socket.io/?EIO=4&transport=polling"))
        .await
        .assert_error(403, 4, "no token");
    let req = request(
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[("x-token", "nope")],
    );
    call(app(&engine), req)
        .await
        .assert_error(401, 4, "bad token");
    let req = request(
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[("x-token", "ok")],
    );
    assert_eq!(call(app(&engine), req).await.status, StatusCode::OK);
    assert_eq!(engine.session_count(), 1);
}

#[tokio::test]
async fn cookie_is_set_on_handshake() {
    let engine = engine(EngineConfig::default().cookie(Cookie::default()));
    let reply = call(app(&engine), get("/socket.io/?EIO=4&transport=polling")).await;
    let open: serde_json::Value = serde_json::from_str(&reply.text()[1..]).unwrap();
    let sid = open["sid"].as_str().unwrap();
    assert_eq!(
        reply.headers["set-cookie"],
        format!("io={sid}; Path=/; HttpOnly; SameSite=Lax").as_str()
    );
}

#[tokio::test]
async fn post_then_poll_echoes_in_order() {
    let engine = engine(EngineConfig::default());
    let sid = handshake(&engine).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let reply = call(app(&engine), post(&uri, "4a\x1e4b\x1ebAQID\x1e4ü")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "ok");
    let reply = call(app(&engine), get(&uri)).await;
    assert_eq!(reply.text(), "4a\x1e4b\x1ebAQID\x1e4ü");
}

#[tokio::test]
async fn oversize_post_is_413_and_closes() {
    let engine = engine(EngineConfig::default().max_payload(10));
    let sid = handshake(&engine).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    call(app(&engine), post(&uri, "4".repeat(11)))
        .await
        .assert_error(413, 3, "Payload too large");
    call(app(&engine), get(&uri))
        .await
        .assert_error(400, 1, "Session ID unknown");
    // Exactly max_payload is fine.
    let sid = handshake(&engine).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    assert_eq!(
        call(app(&engine), post(&uri, "4".repeat(10))).await.status,
        StatusCode::OK
    );
}

/// A request body that arrives in several frames, as a slow client's does.
fn in_pieces(
    pieces: &[&'static str],
) -> http_body_util::StreamBody<
    impl futures_util::Stream<Item = Result<http_body::Frame<bytes::Bytes>, Infallible>> + use<>,
> {
    let frames: Vec<_> = pieces
        .iter()
        .map(|piece| {
            Ok(http_body::Frame::data(bytes::Bytes::from_static(
                piece.as_bytes(),
            )))
        })
        .collect();
    http_body_util::StreamBody::new(futures_util::stream::iter(frames))
}

#[tokio::test]
async fn post_body_in_pieces_is_joined_and_limited() {
    use tower::ServiceExt;
    let engine = engine(EngineConfig::default().max_payload(12));
    let layer = SocketIoLayer::new(engine.clone());
    let service = || {
        tower::Layer::layer(
            &layer,
            service_fn(|_req: Request<_>| async {
                Ok::<_, Infallible>(Response::new(Full::<bytes::Bytes>::default()))
            }),
        )
    };
    let sid = handshake(&engine).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    // A packet split across frames, the separator in a frame of its own: 12 bytes in all.
    let req = Request::post(&uri)
        .body(in_pieces(&["4a\x1e4", "b", "\x1e", "4c\x1e4dd"]))
        .unwrap();
    let response = service().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let reply = call(app(&engine), get(&uri)).await;
    assert_eq!(reply.text(), "4a\x1e4b\x1e4c\x1e4dd");

    // 13 bytes in pieces, no length declared: refused once the limit is passed.
    let req = Request::post(&uri)
        .body(in_pieces(&["4abcdef", "\x1e4ghij"]))
        .unwrap();
    let response = service().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    call(app(&engine), get(&uri))
        .await
        .assert_error(400, 1, "Session ID unknown");
}

#[tokio::test]
async fn declared_oversize_post_is_refused_before_its_body() {
    let engine = engine(EngineConfig::default().max_payload(10));
    let sid = handshake(&engine).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    // The Content-Length alone decides: the body is never read.
    let req = Request::post(&uri)
        .header("content-length", "1000")
        .body(String::from("4short"))
        .unwrap();
    call(app(&engine), req)
        .await
        .assert_error(413, 3, "Payload too large");
    call(app(&engine), get(&uri))
        .await
        .assert_error(400, 1, "Session ID unknown");
}

#[tokio::test]
async fn undecodable_post_is_400_and_closes() {
    let engine = engine(EngineConfig::default());
    for body in ["abc", "4ok\x1e9", "b***", ""] {
        let sid = handshake(&engine).await;
        let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        call(app(&engine), post(&uri, body))
            .await
            .assert_error(400, 3, "Bad request");
        call(app(&engine), get(&uri))
            .await
            .assert_error(400, 1, "Session ID unknown");
    }
}

#[tokio::test]
async fn other_methods_on_a_session_are_bad_requests() {
    let engine = engine(EngineConfig::default());
    let sid = handshake(&engine).await;
    let req = Request::put(format!("/socket.io/?EIO=4&transport=polling&sid={sid}"))
        .body(String::new())
        .unwrap();
    call(app(&engine), req)
        .await
        .assert_error(400, 3, "Bad request");
}

#[tokio::test]
async fn server_close_delivers_queued_packets_then_close() {
    let engine = engine(EngineConfig::default());
    let sid = handshake(&engine).await;
    let socket = engine.session(sid.parse().unwrap()).unwrap();
    socket.send("bye").unwrap();
    socket.close();
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    // As the Node server does: what is queued first, then the close in the next poll (a client
    // handles a payload on a later tick, and would see the close before the packets).
    assert_eq!(call(app(&engine), get(&uri)).await.text(), "4bye");
    assert_eq!(call(app(&engine), get(&uri)).await.text(), "1");
    // The driver ends the session once the close went out.
    tokio::time::timeout(Duration::from_secs(2), async {
        while engine.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("session removed");
    let reasons = engine.handler().disconnects.lock().unwrap().clone();
    assert_eq!(
        reasons,
        [tower_socketio::engine::DisconnectReason::ForcedClose]
    );
}

#[tokio::test]
async fn axum_routes_and_the_layer_side_by_side() {
    let engine = engine(EngineConfig::default());
    let app: Router = Router::new()
        .route("/api/stats", axum_get(|| async { "{\"users\":0}" }))
        .layer(engine.layer());
    let reply = call(app.clone(), get("/api/stats")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "{\"users\":0}");
    let reply = call(app.clone(), get("/socket.io/?EIO=4&transport=polling")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().starts_with("0{\"sid\""), "{reply:?}");
    let reply = call(app, get("/nothing")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(engine.session_count(), 1);
}

#[tokio::test]
async fn a_send_over_the_byte_bound_closes_the_session() {
    // 9 bytes: three "4mN" packets.
    let engine = engine(EngineConfig::default().max_buffered_bytes(9));
    let sid = handshake(&engine).await;
    let socket = engine.session(sid.parse().unwrap()).unwrap();
    for i in 0..3 {
        socket.send(format!("m{i}")).unwrap();
    }
    assert!(matches!(
        socket.send("overflow"),
        Err(tower_socketio::engine::SendError::Full(_))
    ));
    // Nothing dropped in silence: the session is over, for a reason recovery accepts.
    assert!(!socket.is_connected());
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    call(app(&engine), get(&uri))
        .await
        .assert_error(400, 1, "Session ID unknown");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        *engine.handler().disconnects.lock().unwrap(),
        [DisconnectReason::TransportError]
    );
    assert_eq!(engine.session_count(), 0);
}

#[tokio::test]
async fn serves_the_client_bundle() {
    let engine = engine(EngineConfig::default());
    let reply = call(app(&engine), get("/socket.io/socket.io.min.js")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/javascript")
    );
    assert!(reply.text().contains("Socket.IO v4.8.1"));
    let etag = reply.headers["etag"].clone();
    let req = Request::get("/socket.io/socket.io.js")
        .header("if-none-match", etag)
        .body(String::new())
        .unwrap();
    let reply = call(app(&engine), req).await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    assert!(reply.body.is_empty());
    let reply = call(app(&engine), get("/socket.io/socket.io.js.map")).await;
    assert_eq!(reply.headers["content-type"], "application/json");
    // Not a bundle file: the engine answers; a POST to a bundle name too.
    call(app(&engine), get("/socket.io/other.js"))
        .await
        .assert_error(400, 0, "Transport unknown");
    call(app(&engine), post("/socket.io/socket.io.js", ""))
        .await
        .assert_error(400, 0, "Transport unknown");
    // Turned off.
    let off = EngineIo::new(EngineConfig::default().serve_client(false), Echo::default());
    call(app(&off), get("/socket.io/socket.io.js"))
        .await
        .assert_error(400, 0, "Transport unknown");
}
