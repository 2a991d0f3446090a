//! The WebSocket transport: the HTTP/1.1 upgrade handshake, the connection over hyper's upgraded
//! IO (tokio-tungstenite, which carries payloads as shared `Bytes`), and the mapping between
//! Engine.IO packets and frames (one packet a frame).

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::error::RequestError;
use super::packet::{Packet, PacketType};
use super::{EngineResponse, ProtocolVersion, Socket};
use crate::config::EngineConfig;

/// A WebSocket connection over an upgraded HTTP connection.
pub(crate) type WsStream = WebSocketStream<TokioIo<Upgraded>>;

/// Whether the request asks to upgrade to a WebSocket (`Connection: upgrade`,
/// `Upgrade: websocket`).
pub(super) fn is_upgrade_request<B>(req: &Request<B>) -> bool {
    let headers = req.headers();
    req.method() == http::Method::GET
        && header_has_token(headers, header::CONNECTION, "upgrade")
        && header_has_token(headers, header::UPGRADE, "websocket")
}

fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|part| part.trim().eq_ignore_ascii_case(token))
        })
    })
}

/// The `101 Switching Protocols` answer to a valid WebSocket handshake.
pub(super) fn accept_response(headers: &HeaderMap) -> Result<EngineResponse, RequestError> {
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return Err(RequestError::BadRequest);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(RequestError::BadRequest)?;
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
        .map_err(|_| RequestError::BadRequest)?;
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = response.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    Ok(response)
}

/// Answers a WebSocket request for an existing polling session: hands the connection to the
/// session's driver, which runs the probe and upgrade.
///
/// As the Node server does, a second WebSocket for a session that already has one (or is
/// upgrading) is accepted and closed at once.
pub(super) fn upgrade_session<D, B>(
    socket: &Arc<Socket<D>>,
    req: &mut Request<B>,
) -> Result<EngineResponse, RequestError> {
    let response = accept_response(req.headers())?;
    let on_upgrade = hyper::upgrade::on(&mut *req);
    if let Err(on_upgrade) = socket.offer_upgrade(on_upgrade) {
        tracing::debug!(sid = %socket.id(), "session already has a WebSocket: closing the new one");
        tokio::spawn(async move {
            let close = async {
                if let Ok(upgraded) = on_upgrade.await {
                    let mut ws = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        None,
                    )
                    .await;
                    let _ = ws.close(None).await;
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), close).await;
        });
    }
    Ok(response)
}

/// The tungstenite options for one connection: messages bounded by `max_payload` and a small
/// read buffer, so that an idle connection costs little memory.
fn ws_config(config: &EngineConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(config.ws_read_buffer_size)
        .write_buffer_size(16 * 1024)
        .max_message_size(Some(config.max_payload))
        .max_frame_size(Some(config.max_payload))
}

/// Waits for the HTTP upgrade to complete and opens the WebSocket on it.
pub(super) async fn connect(
    on_upgrade: OnUpgrade,
    config: &EngineConfig,
) -> Result<WsStream, hyper::Error> {
    let upgraded = on_upgrade.await?;
    Ok(WebSocketStream::from_raw_socket(
        TokioIo::new(upgraded),
        Role::Server,
        Some(ws_config(config)),
    )
    .await)
}

/// The frame carrying `packet`. Text packets travel as they are; binary messages as they are in
/// v4, behind the message type byte (4) in v3. A pause is no frame.
pub(super) fn frame(protocol: ProtocolVersion, packet: Packet) -> Option<Frame> {
    Some(match packet {
        Packet::Pause => return None,
        Packet::Text(text) => Frame::Text(text.into()),
        Packet::Binary(data) => match protocol {
            ProtocolVersion::V4 => Frame::Binary(data),
            ProtocolVersion::V3 => {
                let mut framed = BytesMut::with_capacity(data.len() + 1);
                framed.put_u8(PacketType::Message as u8);
                framed.put_slice(&data);
                Frame::Binary(framed.freeze())
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_upgrade_requests() {
        let req = Request::get("/")
            .header(header::CONNECTION, "keep-alive, Upgrade")
            .header(header::UPGRADE, "WebSocket")
            .body(())
            .unwrap();
        assert!(is_upgrade_request(&req));
        let req = Request::get("/")
            .header(header::UPGRADE, "websocket")
            .body(())
            .unwrap();
        assert!(!is_upgrade_request(&req));
    }

    #[test]
    fn accept_key_follows_rfc6455() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        headers.insert(
            header::SEC_WEBSOCKET_KEY,
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        let response = accept_response(&headers).unwrap();
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(
            response.headers()[header::SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        headers.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("8"));
        assert_eq!(
            accept_response(&headers).unwrap_err(),
            RequestError::BadRequest
        );
    }

    #[test]
    fn v3_binary_frames_get_the_type_byte() {
        let packet = Packet::Binary(Bytes::from_static(&[1, 2]));
        assert_eq!(
            frame(ProtocolVersion::V3, packet.clone()),
            Some(Frame::Binary(Bytes::from_static(&[4, 1, 2])))
        );
        assert_eq!(
            frame(ProtocolVersion::V4, packet),
            Some(Frame::Binary(Bytes::from_static(&[1, 2])))
        );
        assert_eq!(frame(ProtocolVersion::V4, Packet::Pause), None);
    }
}
