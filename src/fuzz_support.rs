//! The decoders that read bytes from the network, reachable by the fuzz targets in `fuzz/`
//! (which, as a separate crate, see only public items). Not part of the API: compiled only with
//! the `fuzzing` feature, hidden from the documentation, and free to change in any release.
//!
//! Each function calls the crate's own decoder or encoder; the types here only mirror
//! crate-private ones so that a target can look at what was decoded.

use std::io;
use std::task::{Context, Poll};

use bytes::Bytes;
use serde::Serialize;
use tokio::io::AsyncRead;

use crate::engine::frame::{FrameReader, ReadError, WsMessage};
use crate::engine::packet::{self, Incoming, Packet, PacketType};
use crate::engine::{Message, ProtocolVersion, Query, Str};
use crate::parser::{self, RawPacket};
use crate::value::Value;

/// The most binary attachments a Socket.IO packet may announce.
pub const SIO_MAX_ATTACHMENTS: usize = parser::MAX_ATTACHMENTS;

/// A decoded Engine.IO packet from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EioPacket {
    /// `1`
    Close,
    /// `2` and its data.
    Ping(Str),
    /// `3` and its data.
    Pong(Str),
    /// `4` (text), or binary.
    Message(Message),
    /// `5`
    Upgrade,
    /// `6`
    Noop,
}

impl From<Incoming> for EioPacket {
    fn from(packet: Incoming) -> Self {
        match packet {
            Incoming::Close => EioPacket::Close,
            Incoming::Ping(data) => EioPacket::Ping(data),
            Incoming::Pong(data) => EioPacket::Pong(data),
            Incoming::Message(message) => EioPacket::Message(message),
            Incoming::Upgrade => EioPacket::Upgrade,
            Incoming::Noop => EioPacket::Noop,
        }
    }
}

impl EioPacket {
    /// The packet as the server would encode it.
    fn encode(&self) -> Packet {
        match self {
            EioPacket::Close => Packet::bare(PacketType::Close),
            EioPacket::Ping(data) => Packet::text(PacketType::Ping, data),
            EioPacket::Pong(data) => Packet::text(PacketType::Pong, data),
            EioPacket::Message(message) => Packet::message(message.clone()),
            EioPacket::Upgrade => Packet::bare(PacketType::Upgrade),
            EioPacket::Noop => Packet::bare(PacketType::Noop),
        }
    }
}

/// Decodes the packet of a WebSocket text frame.
pub fn eio_decode_text(frame: Str) -> Result<EioPacket, &'static str> {
    packet::decode_text(frame)
        .map(EioPacket::from)
        .map_err(|e| e.0)
}

/// Decodes the packet of a WebSocket binary frame.
pub fn eio_decode_binary(
    protocol: ProtocolVersion,
    data: Bytes,
) -> Result<EioPacket, &'static str> {
    packet::decode_binary(protocol, data)
        .map(EioPacket::from)
        .map_err(|e| e.0)
}

/// Decodes the body of a polling POST (`binary`: sent as `application/octet-stream`).
pub fn eio_decode_payload(
    protocol: ProtocolVersion,
    body: Bytes,
    binary: bool,
) -> Result<Vec<EioPacket>, &'static str> {
    packet::decode_payload(protocol, body, binary)
        .map(|packets| packets.into_iter().map(EioPacket::from).collect())
        .map_err(|e| e.0)
}

/// Encodes `packets` as a polling response body; true with it for a v3 binary payload.
pub fn eio_encode_payload(
    protocol: ProtocolVersion,
    packets: &[EioPacket],
    supports_binary: bool,
) -> (Bytes, bool) {
    let packets: Vec<Packet> = packets.iter().map(EioPacket::encode).collect();
    let payload = packet::encode_payload(protocol, &packets, supports_binary);
    (payload.body, payload.binary)
}

/// The Engine.IO parameters of a request's query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EioQuery<'a> {
    /// `EIO=`
    pub eio: Option<&'a str>,
    /// `transport=`
    pub transport: Option<&'a str>,
    /// `sid=`
    pub sid: Option<&'a str>,
    /// `b64=` set to anything but empty, `0` or `false`.
    pub b64: bool,
}

/// Parses a request's query string as the engine does.
pub fn eio_query(query: &str) -> EioQuery<'_> {
    let Query {
        eio,
        transport,
        sid,
        b64,
    } = Query::parse(query);
    EioQuery {
        eio,
        transport,
        sid,
        b64,
    }
}

/// A WebSocket message or control frame read from a client.
#[derive(Debug, PartialEq, Eq)]
pub enum WsFrame {
    /// A whole text message.
    Text(Str),
    /// A whole binary message.
    Binary(Bytes),
    /// A ping and its data.
    Ping(Bytes),
    /// A pong.
    Pong,
    /// A close frame and its code.
    Close(Option<u16>),
}

/// Why the frame reader stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum WsError {
    /// The stream ended or failed.
    Io(io::ErrorKind),
    /// A protocol violation: the close code and why.
    Violation {
        /// The close code.
        code: u16,
        /// What was wrong.
        reason: &'static str,
    },
    /// A message over the limit.
    TooBig {
        /// Its announced size.
        size: u64,
        /// The limit.
        max: usize,
    },
}

/// The server's WebSocket frame reader.
#[derive(Debug)]
pub struct WsReader(FrameReader);

impl WsReader {
    /// A reader asking for at most `read_size` bytes a read and accepting messages of at most
    /// `max_message` bytes.
    pub fn new(read_size: usize, max_message: usize) -> Self {
        WsReader(FrameReader::new(read_size, max_message))
    }

    /// The next message read from `io`.
    pub fn poll_next<R: AsyncRead + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        io: &mut R,
    ) -> Poll<Result<WsFrame, WsError>> {
        self.0.poll_next(cx, io).map(|read| match read {
            Ok(WsMessage::Text(text)) => Ok(WsFrame::Text(text)),
            Ok(WsMessage::Binary(data)) => Ok(WsFrame::Binary(data)),
            Ok(WsMessage::Ping(data)) => Ok(WsFrame::Ping(data)),
            Ok(WsMessage::Pong) => Ok(WsFrame::Pong),
            Ok(WsMessage::Close(code)) => Ok(WsFrame::Close(code)),
            Err(ReadError::Io(error)) => Err(WsError::Io(error.kind())),
            Err(ReadError::Violation { code, reason }) => Err(WsError::Violation { code, reason }),
            Err(ReadError::TooBig { size, max }) => Err(WsError::TooBig { size, max }),
        })
    }
}

/// The header of a Socket.IO packet, decoded; its payload still JSON text.
#[derive(Debug, Clone)]
pub struct SioPacket(RawPacket);

impl SioPacket {
    /// The packet type, `0` (CONNECT) to `6` (BINARY_ACK).
    pub fn kind(&self) -> u8 {
        self.0.kind as u8
    }

    /// The namespace.
    pub fn ns(&self) -> &str {
        self.0.ns.as_str()
    }

    /// The query string after the namespace of a v4 CONNECT.
    pub fn query(&self) -> Option<&str> {
        self.0.query.as_deref()
    }

    /// The ack id.
    pub fn id(&self) -> Option<u64> {
        self.0.id
    }

    /// The number of binary attachments that follow.
    pub fn attachments(&self) -> usize {
        self.0.attachments
    }

    /// The JSON payload, empty when absent.
    pub fn payload(&self) -> &str {
        self.0.payload.as_str()
    }
}

/// Decodes the header of a Socket.IO text packet (the Engine.IO message, without its `4`).
pub fn sio_decode(text: Str) -> Result<SioPacket, &'static str> {
    parser::decode(text).map(SioPacket).map_err(|e| e.0)
}

/// Parses the arguments of an EVENT (`event`: the name comes first, returned apart) or ACK
/// payload, putting `attachments` in place of their placeholders.
pub fn sio_parse_args(
    payload: &str,
    attachments: &[Bytes],
    event: bool,
) -> Result<(Option<String>, Vec<Value>), &'static str> {
    parser::parse_args(payload, attachments, event).map_err(|e| e.0)
}

/// Encodes an EVENT (`event` given) or ACK as the server sends it: the Engine.IO text frame
/// (`42...`) and the binary attachments.
pub fn sio_encode<T: Serialize + ?Sized>(
    ns: &str,
    event: Option<&str>,
    id: Option<u64>,
    data: &T,
) -> Result<(Str, Vec<Bytes>), serde_json::Error> {
    parser::encode_args(ns, event, id, data).map(|e| (e.text, e.attachments))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_reach_the_decoders() {
        assert_eq!(
            eio_decode_payload(ProtocolVersion::V4, Bytes::from_static(b"2\x1e6"), false),
            Ok(vec![EioPacket::Ping(Str::from_static("")), EioPacket::Noop])
        );
        let (body, binary) = eio_encode_payload(ProtocolVersion::V3, &[EioPacket::Close], true);
        assert_eq!((&body[..], binary), (&b"1:1"[..], false));
        assert_eq!(eio_query("EIO=4&b64=1").eio, Some("4"));
        let packet = sio_decode(Str::from_static("51-/a,3[\"x\",1]")).unwrap();
        assert_eq!(
            (
                packet.kind(),
                packet.ns(),
                packet.id(),
                packet.attachments()
            ),
            (5, "/a", Some(3), 1)
        );
        let (text, attachments) = sio_encode("/", None, Some(2), &(1,)).unwrap();
        assert_eq!((&*text, attachments.len()), ("432[1]", 0));
    }
}
