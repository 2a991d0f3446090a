//! Long-polling compression (`EngineConfig::http_compression`, Node's `httpCompression`), with
//! in-process requests to an echo server: the encoding chosen by `Accept-Encoding`, the
//! threshold, the level, turned off, protocol v3 text and binary payloads. Every compressed
//! body is decoded and compared with the payload.

use crate::common;

use std::io::Read;

use base64::Engine as _;
use common::{Echo, Reply, call, get, request};
use http::{Request, StatusCode, header};
use tower_socketio::engine::EngineIo;
use tower_socketio::{EngineConfig, HttpCompression};

fn app(config: EngineConfig) -> axum::Router {
    axum::Router::new().layer(EngineIo::new(config, Echo::default()).layer())
}

/// Opens a session with protocol `eio`; returns its polling URL.
async fn open(app: &axum::Router, eio: u8) -> String {
    let reply = call(
        app.clone(),
        get(&format!("/socket.io/?EIO={eio}&transport=polling")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = reply.text();
    let start = text.find("{\"sid\":\"").expect("an open packet") + 8;
    let sid = &text[start..start + text[start..].find('"').unwrap()];
    format!("/socket.io/?EIO={eio}&transport=polling&sid={sid}")
}

async fn post(app: &axum::Router, url: &str, body: String) {
    let reply = call(app.clone(), Request::post(url).body(body).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(!reply.headers.contains_key(header::CONTENT_ENCODING));
}

/// A GET poll with this `Accept-Encoding` (none for `None`).
async fn poll(app: &axum::Router, url: &str, accept: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = accept.map(|a| ("accept-encoding", a)).into_iter().collect();
    let reply = call(app.clone(), request("GET", url, &headers)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply
}

/// The response's encoding and its body decoded; checks `Content-Length` when encoded.
fn decode(reply: &Reply) -> (Option<&str>, Vec<u8>) {
    let encoding = reply
        .headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap());
    let mut out = Vec::new();
    match encoding {
        None => out.extend_from_slice(&reply.body),
        Some(encoding) => {
            assert_eq!(
                reply.headers[header::CONTENT_LENGTH],
                reply.body.len().to_string()
            );
            match encoding {
                "gzip" => flate2::read::GzDecoder::new(&reply.body[..])
                    .read_to_end(&mut out)
                    .map(drop),
                "deflate" => flate2::read::ZlibDecoder::new(&reply.body[..])
                    .read_to_end(&mut out)
                    .map(drop),
                other => panic!("unexpected encoding {other}"),
            }
            .expect("a valid compressed body");
        }
    }
    (encoding, out)
}

/// A message of `len` bytes (ASCII), varied enough to be realistic, regular enough to shrink.
fn message(len: usize) -> String {
    (0..len)
        .map(|i| b"{\"user\":\"ada\",\"n\":12345}"[i % 24] as char)
        .collect()
}

#[tokio::test]
async fn the_encoding_follows_accept_encoding() {
    let app = app(EngineConfig::default());
    let text = message(3000);
    for (accept, expected) in [
        (Some("gzip"), Some("gzip")),
        (Some("deflate"), Some("deflate")),
        (Some("gzip, deflate, br, zstd"), Some("gzip")), // Chromium
        (Some("deflate, gzip"), Some("deflate")),        // Node takes the first listed
        (Some("gzip;q=0.5, deflate"), Some("deflate")),
        (Some("*"), Some("gzip")),
        (Some("identity"), None),
        (Some("br"), None),
        (Some("gzip;q=0"), None),
        (None, None),
    ] {
        let url = open(&app, 4).await;
        post(&app, &url, format!("4{text}")).await;
        let reply = poll(&app, &url, accept).await;
        let (encoding, body) = decode(&reply);
        assert_eq!(encoding, expected, "{accept:?}");
        assert_eq!(body, format!("4{text}").as_bytes(), "{accept:?}");
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "text/plain; charset=UTF-8"
        );
        if expected.is_some() {
            assert!(
                reply.body.len() < 300,
                "{accept:?}: {} bytes",
                reply.body.len()
            );
        }
    }
}

#[tokio::test]
async fn payloads_under_the_threshold_go_as_they_are() {
    let app = app(EngineConfig::default());
    // A payload of 1023 bytes ("4" and the message), then of 1024: compressed from 1024 on.
    for (len, compressed) in [(1022, false), (1023, true)] {
        let url = open(&app, 4).await;
        post(&app, &url, format!("4{}", message(len))).await;
        let reply = poll(&app, &url, Some("gzip")).await;
        let (encoding, body) = decode(&reply);
        assert_eq!(encoding.is_some(), compressed, "{len}");
        assert_eq!(body.len(), len + 1);
    }
    // The handshake (about 100 bytes) is under it too.
    let reply = call(
        app.clone(),
        request(
            "GET",
            "/socket.io/?EIO=4&transport=polling",
            &[("accept-encoding", "gzip")],
        ),
    )
    .await;
    assert!(!reply.headers.contains_key(header::CONTENT_ENCODING));
}

#[tokio::test]
async fn threshold_and_level_are_configurable() {
    let config = EngineConfig::default().http_compression(Some(HttpCompression {
        threshold: 0,
        level: 0,
    }));
    let app = app(config);
    // The handshake compressed; level 0 stores (the body grows by the gzip framing).
    let reply = call(
        app.clone(),
        request(
            "GET",
            "/socket.io/?EIO=4&transport=polling",
            &[("accept-encoding", "gzip")],
        ),
    )
    .await;
    let (encoding, body) = decode(&reply);
    assert_eq!(encoding, Some("gzip"));
    assert!(body.starts_with(b"0{\"sid\":"));
    assert!(reply.body.len() > body.len());
    // POST answers are never compressed, whatever the threshold (`post` checks it).
    let url = open(&app, 4).await;
    post(&app, &url, "4hello".into()).await;
    let reply = poll(&app, &url, Some("deflate")).await;
    let (encoding, body) = decode(&reply);
    assert_eq!((encoding, &body[..]), (Some("deflate"), &b"4hello"[..]));

    // Level 9 against level 1 on the same payload: smaller or equal.
    let text = message(20_000);
    let mut sizes = Vec::new();
    for level in [1, 9] {
        let app = self::app(
            EngineConfig::default().http_compression(Some(HttpCompression {
                level,
                ..HttpCompression::default()
            })),
        );
        let url = open(&app, 4).await;
        post(&app, &url, format!("4{text}")).await;
        let reply = poll(&app, &url, Some("gzip")).await;
        assert_eq!(decode(&reply).1, format!("4{text}").as_bytes());
        sizes.push(reply.body.len());
    }
    assert!(sizes[1] <= sizes[0], "{sizes:?}");
}

#[tokio::test]
async fn compression_can_be_turned_off() {
    let app = app(EngineConfig::default().http_compression(None));
    let url = open(&app, 4).await;
    let text = message(5000);
    post(&app, &url, format!("4{text}")).await;
    let reply = poll(&app, &url, Some("gzip, deflate")).await;
    assert!(!reply.headers.contains_key(header::CONTENT_ENCODING));
    assert_eq!(reply.body, format!("4{text}"));
}

#[tokio::test]
async fn protocol_v3_payloads_are_compressed_too() {
    let app = app(EngineConfig::default());
    // Text: a v3 payload `<length>:<packet>`.
    let text = message(2000);
    let url = open(&app, 3).await;
    post(&app, &url, format!("2001:4{text}")).await;
    let reply = poll(&app, &url, Some("gzip")).await;
    let (encoding, body) = decode(&reply);
    assert_eq!(encoding, Some("gzip"));
    assert_eq!(body, format!("2001:4{text}").as_bytes());

    // Binary: posted as base64 (`b4...`), echoed back in a binary payload
    // (`\x01`, the length's digits, `\xff`, the packet type 4, the bytes).
    let bytes: Vec<u8> = (0..3000u32).map(|i| (i % 7) as u8).collect();
    let encoded = format!(
        "b4{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    let url = open(&app, 3).await;
    post(&app, &url, format!("{}:{encoded}", encoded.len())).await;
    let reply = poll(&app, &url, Some("deflate")).await;
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/octet-stream"
    );
    let (encoding, body) = decode(&reply);
    assert_eq!(encoding, Some("deflate"));
    let mut expected = vec![1];
    expected.extend("3001".bytes().map(|d| d - b'0'));
    expected.push(0xff);
    expected.push(4);
    expected.extend_from_slice(&bytes);
    assert_eq!(body, expected);
}
