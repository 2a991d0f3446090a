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

/// Appends the WebSocket frame carrying `packet` to `out`, as [`frame`] maps it (a pause
/// appends nothing).
///
/// Server frames are unmasked, so a packet's frame is its header and its bytes as they are: the
/// driver writes data frames this way, one copy into one buffer per batch, rather than through
/// tungstenite's sink (which costs several hundred instructions per frame). Control frames
/// (close, and pongs tungstenite answers by itself) still go through tungstenite, which the
/// driver flushes first, so that frames never interleave.
pub(super) fn encode_frame(protocol: ProtocolVersion, packet: &Packet, out: &mut Vec<u8>) {
    const FIN_TEXT: u8 = 0x81;
    const FIN_BINARY: u8 = 0x82;
    let (opcode, prefix, payload): (u8, Option<u8>, &[u8]) = match packet {
        Packet::Pause => return,
        Packet::Text(text) => (FIN_TEXT, None, text.as_bytes()),
        Packet::Binary(data) => match protocol {
            ProtocolVersion::V4 => (FIN_BINARY, None, data),
            ProtocolVersion::V3 => (FIN_BINARY, Some(PacketType::Message as u8), data),
        },
    };
    let len = payload.len() + usize::from(prefix.is_some());
    out.reserve(len + 10);
    out.push(opcode);
    match len {
        0..=125 => out.push(len as u8),
        126..=0xffff => {
            out.push(126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend(prefix);
    out.extend_from_slice(payload);
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

    /// What tungstenite itself writes for a frame: the reference for `encode_frame`.
    fn tungstenite_bytes(frame: Frame) -> Vec<u8> {
        let mut out = Vec::new();
        let frame = match frame {
            Frame::Text(text) => tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
                text,
                tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
                    tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Text,
                ),
                true,
            ),
            Frame::Binary(data) => tokio_tungstenite::tungstenite::protocol::frame::Frame::message(
                data,
                tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode::Data(
                    tokio_tungstenite::tungstenite::protocol::frame::coding::Data::Binary,
                ),
                true,
            ),
            other => panic!("not a data frame: {other:?}"),
        };
        frame.format(&mut out).unwrap();
        out
    }

    #[test]
    fn encoded_frames_are_the_ones_tungstenite_writes() {
        let sizes = [0usize, 1, 125, 126, 127, 65_535, 65_536, 70_000];
        for protocol in [ProtocolVersion::V4, ProtocolVersion::V3] {
            for size in sizes {
                let text = Packet::Text(super::super::Str::from("4".repeat(size.max(1))));
                let binary = Packet::Binary(Bytes::from(vec![7u8; size]));
                for packet in [text, binary] {
                    let mut ours = Vec::new();
                    encode_frame(protocol, &packet, &mut ours);
                    let reference = tungstenite_bytes(frame(protocol, packet).unwrap());
                    assert_eq!(ours, reference, "{protocol:?}, {size} bytes");
                }
            }
        }
        let mut nothing = Vec::new();
        encode_frame(ProtocolVersion::V4, &Packet::Pause, &mut nothing);
        assert!(nothing.is_empty());
    }

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
