//! HTTP long-polling: GET requests take what the outbox holds (waiting until something comes),
//! POST requests bring packets from the client.
//!
//! Both follow the Node server where the protocol leaves room: a second GET while one is
//! pending, or a second POST while one is being read, closes the session (the pending GET gets
//! a `close` packet, the intruder a 400); a POST body over `max_payload` gets a 413 and closes
//! the session; a body that does not decode gets a 400 and closes the session.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderValue, Request, Response, header};
use http_body_util::Full;

use super::compression::ResponseCompression;
use super::error::RequestError;
use super::packet::{self, Incoming, Packet, PacketType};
use super::socket::{CloseKind, Phase};
use super::{BoxError, DisconnectReason, EngineHandler, EngineResponse, EngineShared, EngineStats};
use super::{ProtocolVersion, Socket};

/// Answers a GET poll at once when it can: with everything queued, or, during an upgrade, with
/// a `noop` when nothing is queued (so the client can finish switching to the WebSocket).
/// `None` when the poll has to wait: then [`get`] answers it.
pub(super) fn get_now<D>(
    socket: &Socket<D>,
    supports_binary: bool,
    compression: Option<ResponseCompression>,
    stats: Option<&EngineStats>,
) -> Result<Option<EngineResponse>, RequestError> {
    if socket.phase() == Phase::Upgrading && socket.outbox.is_empty() {
        // See `get`: it waits for the upgrade's outcome first.
        return Ok(None);
    }
    let mut packets = lock_poll(socket)?;
    Ok(take_ready(socket, &mut packets)?
        .then(|| respond(socket, &mut packets, supports_binary, compression, stats)))
}

/// How long a poll that arrives during an upgrade waits for the upgrade's outcome.
const UPGRADE_SETTLE: Duration = Duration::from_millis(100);

/// A poll that arrives while an upgrade is under way (the probe answered, the `upgrade` packet
/// awaited) waits a little for its outcome, as a poll does on the Node server (whose check
/// timer answers it with a `noop` within 100 ms): the client may have sent the `upgrade`
/// packet before this poll, on the WebSocket, and the server may not have read it yet. Once
/// the session is on WebSocket the poll gets `400`, as it would had it come after.
async fn settle_upgrade<D>(socket: &Socket<D>) -> Result<(), RequestError> {
    let until = tokio::time::Instant::now() + UPGRADE_SETTLE;
    while socket.phase() == Phase::Upgrading
        && socket.outbox.is_empty()
        && tokio::time::Instant::now() < until
    {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    if socket.phase() == Phase::WebSocket {
        return Err(RequestError::BadRequest);
    }
    Ok(())
}

/// Answers a GET poll: everything queued, or, when nothing is, waits until something is.
pub(super) async fn get<D>(
    socket: &Socket<D>,
    supports_binary: bool,
    compression: Option<ResponseCompression>,
    stats: Option<&EngineStats>,
) -> Result<EngineResponse, RequestError> {
    if socket.phase() == Phase::Upgrading {
        settle_upgrade(socket).await?;
    }
    let mut packets = lock_poll(socket)?;
    while !take_ready(socket, &mut packets)? {
        socket.outbox.ready.wait().await;
    }
    Ok(respond(
        socket,
        &mut packets,
        supports_binary,
        compression,
        stats,
    ))
}

/// The poll lock of the session, with its (empty) scratch list of packets; a GET while another
/// one is pending closes the session.
fn lock_poll<D>(
    socket: &Socket<D>,
) -> Result<tokio::sync::MutexGuard<'_, Vec<Packet>>, RequestError> {
    socket.poll_lock.try_lock().map_err(|_| {
        tracing::debug!(sid = %socket.id(), "overlapping GET polls: closing");
        socket.request_close(DisconnectReason::TransportError, CloseKind::Abort);
        RequestError::BadRequest
    })
}

/// Moves what a poll can answer with into `packets`; `false` when that is nothing yet. A poll
/// still pending when the session moved to WebSocket takes nothing (the WebSocket writes what
/// is queued) and gets `400`, as a poll that comes after the upgrade does.
fn take_ready<D>(socket: &Socket<D>, packets: &mut Vec<Packet>) -> Result<bool, RequestError> {
    if socket.phase() == Phase::WebSocket {
        return Err(RequestError::BadRequest);
    }
    socket.drain_outbox(packets);
    packets.retain(|p| !matches!(p, Packet::Pause));
    // A close behind other packets waits for the next poll, as on the Node server (which
    // closes once the payload before it is flushed): a client handles a payload's packets on a
    // later tick, and would otherwise see its transport close before the packets that explain
    // it (a DISCONNECT's "io server disconnect" becoming "transport close").
    if let Some(at) = packets.iter().position(Packet::is_close) {
        if at > 0 {
            packets.truncate(at);
            socket.send_control(Packet::bare(PacketType::Close));
        }
    }
    if !packets.is_empty() {
        return Ok(true);
    }
    if socket.phase() != Phase::Polling {
        packets.push(Packet::bare(PacketType::Noop));
        return Ok(true);
    }
    Ok(false)
}

/// The poll's response with `packets`, noting a delivered `close`. Leaves `packets` empty, its
/// memory kept for the next poll unless a burst made it large.
fn respond<D>(
    socket: &Socket<D>,
    packets: &mut Vec<Packet>,
    supports_binary: bool,
    compression: Option<ResponseCompression>,
    stats: Option<&EngineStats>,
) -> EngineResponse {
    if let Some(stats) = stats {
        stats.sent(packets);
    }
    if packets.iter().any(Packet::is_close) {
        socket.close_delivered();
    }
    let response = payload_response(socket.protocol(), packets, supports_binary, compression);
    packets.clear();
    if packets.capacity() > 64 {
        *packets = Vec::new();
    }
    response
}

/// Starts a POST: an overlapping or declared-oversized one is refused at once; the returned
/// future reads the body, decodes its packets and acts on each, in order.
pub(super) fn post<H, B>(
    shared: Arc<EngineShared<H>>,
    socket: Arc<Socket<H::Data>>,
    req: Request<B>,
) -> Result<impl Future<Output = Result<EngineResponse, RequestError>> + Send + 'static, RequestError>
where
    H: EngineHandler,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    if socket.post_busy.swap(true, Ordering::AcqRel) {
        tracing::debug!(sid = %socket.id(), "overlapping POST requests: closing");
        socket.request_close(DisconnectReason::TransportError, CloseKind::Abort);
        return Err(RequestError::BadRequest);
    }
    // From here on the guard clears the flag, even if the future is dropped unpolled.
    let socket = PostGuard(socket);
    let binary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
    let max = shared.config.max_payload;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| packet::parse_decimal(v.as_bytes(), 19));
    if declared.is_some_and(|len| len > max as u64) {
        socket.request_close(DisconnectReason::TransportError, CloseKind::Abort);
        return Err(RequestError::PayloadTooLarge);
    }
    let body = req.into_body();
    Ok(async move {
        let body = read_body(body, max).await.inspect_err(|_| {
            socket.request_close(DisconnectReason::TransportError, CloseKind::Abort);
        })?;
        deliver(&shared, &socket.0, body, binary)?;
        let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        Ok(response)
    })
}

/// Decodes the packets of a POST body and acts on each, in order.
fn deliver<H: EngineHandler>(
    shared: &EngineShared<H>,
    socket: &Arc<Socket<H::Data>>,
    body: Bytes,
    binary: bool,
) -> Result<(), RequestError> {
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
            Incoming::Message(message) => {
                if let Some(stats) = shared.stats.get() {
                    stats.received(&message);
                }
                shared.handler.on_message(socket, message)
            }
            Incoming::Ping(data) if v3 => {
                socket.send_control(Packet::text(PacketType::Pong, &data));
            }
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
    Ok(())
}

/// The session of a POST in progress: clears the POST-in-progress flag when the POST is done,
/// however it ends.
struct PostGuard<D>(Arc<Socket<D>>);

impl<D> std::ops::Deref for PostGuard<D> {
    type Target = Socket<D>;

    fn deref(&self) -> &Socket<D> {
        &self.0
    }
}

impl<D> Drop for PostGuard<D> {
    fn drop(&mut self) {
        self.0.post_busy.store(false, Ordering::Release);
    }
}

/// Reads a POST body of at most `max` bytes. A body that arrives in one piece (the usual case)
/// is kept as it came, without a copy.
async fn read_body<B>(body: B, max: usize) -> Result<Bytes, RequestError>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    let mut body = std::pin::pin!(body);
    let mut first = Bytes::new();
    let mut joined: Option<BytesMut> = None;
    let mut total = 0;
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|error| {
            let error: BoxError = error.into();
            tracing::debug!(%error, "reading a POST body failed");
            RequestError::BadRequest
        })?;
        // Trailers carry nothing for us.
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        total += data.remaining();
        if total > max {
            return Err(RequestError::PayloadTooLarge);
        }
        let chunk = data.copy_to_bytes(data.remaining());
        match &mut joined {
            Some(joined) => joined.extend_from_slice(&chunk),
            None if first.is_empty() => first = chunk,
            None => {
                let mut both = BytesMut::with_capacity(total);
                both.extend_from_slice(&first);
                both.extend_from_slice(&chunk);
                joined = Some(both);
            }
        }
    }
    Ok(joined.map_or(first, BytesMut::freeze))
}

/// A polling response carrying `packets`, compressed when `compression` says so and the payload
/// is large enough (then with `Content-Encoding` and the compressed `Content-Length`, as the
/// Node server answers).
pub(super) fn payload_response(
    protocol: ProtocolVersion,
    packets: &[Packet],
    supports_binary: bool,
    compression: Option<ResponseCompression>,
) -> EngineResponse {
    let payload = packet::encode_payload(protocol, packets, supports_binary);
    let content_type = if payload.binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=UTF-8"
    };
    let compressed = compression.and_then(|c| c.apply(&payload.body));
    let Some((body, encoding)) = compressed else {
        let mut response = Response::new(Full::new(payload.body));
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        return response;
    };
    let length = HeaderValue::from(body.len());
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_ENCODING, encoding);
    headers.insert(header::CONTENT_LENGTH, length);
    response
}
