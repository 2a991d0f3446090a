//! HTTP long-polling: GET requests take what the outbox holds (waiting until something comes),
//! POST requests bring packets from the client.
//!
//! Both follow the Node server where the protocol leaves room: a second GET while one is
//! pending, or a second POST while one is being read, closes the session (the pending GET gets
//! a `close` packet, the intruder a 400); a POST body over `max_payload` gets a 413 and closes
//! the session; a body that does not decode gets a 400 and closes the session.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};

use super::error::RequestError;
use super::packet::{self, Incoming, Packet, PacketType};
use super::socket::{CloseKind, Phase};
use super::{BoxError, DisconnectReason, EngineHandler, EngineResponse, EngineShared};
use super::{ProtocolVersion, Socket};

/// Answers a GET poll: everything queued, or, when nothing is, waits until something is.
///
/// During an upgrade the poll returns at once, with a `noop` when nothing is queued, so the
/// client can finish switching to the WebSocket.
pub(super) async fn get<D>(
    socket: &Arc<Socket<D>>,
    supports_binary: bool,
) -> Result<EngineResponse, RequestError> {
    let Ok(_poll) = socket.poll_lock.try_lock() else {
        tracing::debug!(sid = %socket.id(), "overlapping GET polls: closing");
        socket.request_close(DisconnectReason::TransportError, CloseKind::Abort);
        return Err(RequestError::BadRequest);
    };
    let mut packets = Vec::new();
    loop {
        socket.outbox.drain_into(&mut packets);
        packets.retain(|p| !matches!(p, Packet::Pause));
        if !packets.is_empty() {
            break;
        }
        if socket.phase() != Phase::Polling {
            packets.push(Packet::bare(PacketType::Noop));
            break;
        }
        socket.outbox.ready.notified().await;
    }
    if packets.iter().any(Packet::is_close) {
        socket.close_delivered();
    }
    Ok(payload_response(
        socket.protocol(),
        &packets,
        supports_binary,
    ))
}

/// Answers a POST: decodes the packets of its body and acts on each, in order.
pub(super) async fn post<H, B>(
    shared: &EngineShared<H>,
    socket: &Arc<Socket<H::Data>>,
    req: Request<B>,
) -> Result<EngineResponse, RequestError>
where
    H: EngineHandler,
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    if socket.post_busy.swap(true, Ordering::AcqRel) {
        tracing::debug!(sid = %socket.id(), "overlapping POST requests: closing");
        socket.request_close(DisconnectReason::TransportError, CloseKind::Abort);
        return Err(RequestError::BadRequest);
    }
    let _busy = PostGuard(socket);
    let binary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
    let body = read_body(req, shared.config.max_payload)
        .await
        .inspect_err(|_| {
            socket.request_close(DisconnectReason::TransportError, CloseKind::Abort);
        })?;
    let packets = packet::decode_payload(socket.protocol(), body, binary).map_err(|error| {
        tracing::debug!(sid = %socket.id(), %error, "undecodable payload: closing");
        socket.request_close(DisconnectReason::ParseError, CloseKind::Abort);
        RequestError::BadRequest
    })?;
    let v3 = socket.protocol() == ProtocolVersion::V3;
    if v3 {
        // In v3 any packet shows the client is alive.
        socket.heartbeat();
    }
    for packet in packets {
        if !socket.is_connected() {
            break;
        }
        match packet {
            Incoming::Message(message) => shared.handler.on_message(socket, message),
            Incoming::Ping(data) if v3 => socket
                .outbox
                .push_control(Packet::text(PacketType::Pong, &data)),
            Incoming::Pong(_) if !v3 => socket.heartbeat(),
            Incoming::Ping(_) | Incoming::Pong(_) => {
                tracing::debug!(sid = %socket.id(), "heartbeat in the wrong direction: closing");
                socket.request_close(DisconnectReason::TransportError, CloseKind::Abort);
            }
            Incoming::Close => {
                socket.request_close(DisconnectReason::TransportClose, CloseKind::Abort);
            }
            Incoming::Upgrade | Incoming::Noop => {}
        }
    }
    let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    Ok(response)
}

/// Clears the POST-in-progress flag when the POST is done, however it ends.
struct PostGuard<'a, D>(&'a Socket<D>);

impl<D> Drop for PostGuard<'_, D> {
    fn drop(&mut self) {
        self.0.post_busy.store(false, Ordering::Release);
    }
}

/// Reads a POST body of at most `max` bytes.
async fn read_body<B>(req: Request<B>, max: usize) -> Result<Bytes, RequestError>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(RequestError::PayloadTooLarge);
    }
    match Limited::new(req.into_body(), max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(RequestError::PayloadTooLarge),
        Err(error) => {
            tracing::debug!(%error, "reading a POST body failed");
            Err(RequestError::BadRequest)
        }
    }
}

/// A polling response carrying `packets`.
pub(super) fn payload_response(
    protocol: ProtocolVersion,
    packets: &[Packet],
    supports_binary: bool,
) -> EngineResponse {
    let payload = packet::encode_payload(protocol, packets, supports_binary);
    let content_type = if payload.binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=UTF-8"
    };
    let mut response = Response::new(Full::new(payload.body));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
