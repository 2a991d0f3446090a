//! The WebSocket transport: the HTTP/1.1 upgrade handshake, the connection over hyper's upgraded
//! IO (framed by [`super::frame`]), and the mapping between Engine.IO packets and frames (one
//! packet a frame).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::config::EngineConfig;
use super::error::RequestError;
use super::frame::{self, FrameReader, ReadError, WsMessage};
use super::packet::{Packet, PacketType};
use super::stall::StallTimer;
use super::{EngineResponse, ProtocolVersion, Socket};

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

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key` (RFC 6455, 4.2.2): the
/// base64 of the SHA-1 of the key and the protocol's GUID.
fn derive_accept_key(key: &[u8]) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let mut sha1 = sha1::Sha1::new();
    sha1.update(key);
    sha1.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(sha1.finalize())
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
                    let mut ws = WsConn::new(upgraded, 1024, 1024, Duration::from_secs(5));
                    ws.close(frame::close_code::NORMAL, "").await;
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), close).await;
        });
    }
    Ok(response)
}

/// A WebSocket connection over an upgraded HTTP connection, server side.
///
/// Writes go through one buffer of encoded frames ([`WsConn::out`]) that
/// [`WsConn::poll_event`] writes out while it also reads: the driver never awaits a write
/// inside one branch of its `select!`, so a client that stops reading cannot keep the
/// heartbeat, a close or a shutdown from being seen. A write that makes no progress for
/// `write_timeout` is reported as [`WsEvent::Stalled`].
pub(crate) struct WsConn {
    io: TokioIo<Upgraded>,
    reader: FrameReader,
    /// Encoded frames to write; `written` of them are written.
    out: Vec<u8>,
    written: usize,
    /// Times a write that waits.
    stall: StallTimer,
}

/// What [`WsConn::poll_event`] saw.
pub(crate) enum WsEvent {
    /// A message, or why reading stopped.
    Read(Result<WsMessage, ReadError>),
    /// Everything in [`WsConn::out`] was written and flushed, or the write failed.
    Written(std::io::Result<()>),
    /// A write made no progress for the write timeout: the client does not read.
    Stalled,
}

impl WsConn {
    fn new(
        upgraded: Upgraded,
        read_size: usize,
        max_message: usize,
        write_timeout: Duration,
    ) -> Self {
        WsConn {
            io: TokioIo::new(upgraded),
            reader: FrameReader::new(read_size, max_message),
            out: Vec::new(),
            written: 0,
            stall: StallTimer::new(write_timeout),
        }
    }

    /// The buffer of frames to write: append encoded frames (whole frames only) and
    /// [`poll_event`](WsConn::poll_event) writes them, after what is already there.
    pub(crate) fn out(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Whether frames wait to be written.
    pub(crate) fn is_writing(&self) -> bool {
        !self.out.is_empty()
    }

    /// Writes what is buffered, then reads (only when `read`): the first thing that happens.
    /// Cancel-safe: all state lives in `self`.
    pub(crate) fn poll_event(&mut self, cx: &mut Context<'_>, read: bool) -> Poll<WsEvent> {
        if self.is_writing() {
            match self.poll_write_out(cx) {
                Poll::Ready(result) => {
                    self.stall.progress();
                    return Poll::Ready(WsEvent::Written(result));
                }
                Poll::Pending if self.stall.poll_stalled(cx) => {
                    return Poll::Ready(WsEvent::Stalled);
                }
                Poll::Pending => {}
            }
        }
        if read {
            let WsConn { io, reader, .. } = self;
            if let Poll::Ready(read) = reader.poll_next(cx, io) {
                return Poll::Ready(WsEvent::Read(read));
            }
        }
        Poll::Pending
    }

    /// Writes and flushes `out`; on success it is empty again.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while self.written < self.out.len() {
            match Pin::new(&mut self.io).poll_write(cx, &self.out[self.written..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    // Progress: the stall timer starts again from here.
                    self.stall.progress();
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        self.out.clear();
        self.written = 0;
        if self.out.capacity() > 4096 {
            // A burst is over: do not keep its buffer for the connection's life.
            self.out = Vec::new();
        }
        Poll::Ready(Ok(()))
    }

    /// Whether a waiting write has made no progress for the write timeout, read off the clock
    /// (for a loop too busy reading to let the runtime's timers fire).
    pub(crate) fn stall_overdue(&self, now: Instant) -> bool {
        self.is_writing() && self.stall.overdue(now)
    }

    /// Writes what is buffered; for the steps before and after the session loop.
    async fn write_all_out(&mut self) -> std::io::Result<()> {
        std::future::poll_fn(|cx| self.poll_write_out(cx)).await
    }

    /// The next message from the client (before the session loop: the upgrade probe).
    pub(crate) async fn next(&mut self) -> Result<WsMessage, ReadError> {
        let WsConn { io, reader, .. } = self;
        std::future::poll_fn(|cx| reader.poll_next(cx, io)).await
    }

    /// Writes and flushes one packet, after whatever is buffered.
    pub(crate) async fn send(
        &mut self,
        protocol: ProtocolVersion,
        packet: &Packet,
    ) -> std::io::Result<()> {
        encode_frame(protocol, packet, &mut self.out);
        self.write_all_out().await
    }

    /// Answers a ping, after whatever is buffered.
    pub(crate) async fn pong(&mut self, data: &[u8]) -> std::io::Result<()> {
        frame::encode_pong(data, &mut self.out);
        self.write_all_out().await
    }

    /// Sends a close frame, after whatever is buffered, and ends the connection (without
    /// waiting for the client's close frame: the session is over either way).
    pub(crate) async fn close(&mut self, code: u16, reason: &str) {
        frame::encode_close(code, reason, &mut self.out);
        if self.write_all_out().await.is_ok() {
            let _ = self.io.shutdown().await;
        }
    }
}

/// Waits for the HTTP upgrade to complete and opens the WebSocket on it: messages bounded by
/// `max_payload`, reads of `ws_read_buffer_size` bytes at most.
pub(super) async fn connect(
    on_upgrade: OnUpgrade,
    config: &EngineConfig,
) -> Result<WsConn, hyper::Error> {
    let upgraded = on_upgrade.await?;
    Ok(WsConn::new(
        upgraded,
        config.ws_read_buffer_size,
        config.max_payload,
        config.write_timeout,
    ))
}

/// Appends the WebSocket frame carrying `packet` to `out`. Text packets travel as they are;
/// binary messages as they are in v4, behind the message type byte (4) in v3. A pause appends
/// nothing.
pub(super) fn encode_frame(protocol: ProtocolVersion, packet: &Packet, out: &mut Vec<u8>) {
    match packet {
        Packet::Pause => {}
        Packet::Text(text) => frame::encode_text(text.as_bytes(), out),
        Packet::Binary(data) => match protocol {
            ProtocolVersion::V4 => frame::encode_binary(&[], data, out),
            ProtocolVersion::V3 => frame::encode_binary(&[PacketType::Message as u8], data, out),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_of_the_rfc_example() {
        // RFC 6455, section 1.3.
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn packets_map_to_frames() {
        let mut out = Vec::new();
        encode_frame(
            ProtocolVersion::V4,
            &Packet::Text(super::super::Str::from("4hi")),
            &mut out,
        );
        assert_eq!(out, [0x81, 3, b'4', b'h', b'i']);
        out.clear();
        encode_frame(
            ProtocolVersion::V4,
            &Packet::Binary(Bytes::from_static(&[9])),
            &mut out,
        );
        assert_eq!(out, [0x82, 1, 9]);
        out.clear();
        // v3: binary behind the message type byte.
        encode_frame(
            ProtocolVersion::V3,
            &Packet::Binary(Bytes::from_static(&[9])),
            &mut out,
        );
        assert_eq!(out, [0x82, 2, 4, 9]);
        out.clear();
        encode_frame(ProtocolVersion::V4, &Packet::Pause, &mut out);
        assert!(out.is_empty());
    }
}
