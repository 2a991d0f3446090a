//! The hot paths, reachable by the criterion benchmarks in `benches/` (which, as separate
//! crates, see only public items). Not part of the API: hidden from the documentation, and free
//! to change in any release.

use bytes::Bytes;
use serde::Serialize;

use crate::engine::packet::{self, Incoming, Packet};
use crate::engine::{Message, ProtocolVersion, Str};
use crate::parser;
use crate::value::Value;

/// Encodes `messages` as a v4 polling response body (Engine.IO payload).
pub fn eio_encode_payload(messages: &[Str]) -> Bytes {
    let packets: Vec<Packet> = messages
        .iter()
        .map(|m| Packet::message(Message::Text(m.clone())))
        .collect();
    packet::encode_payload(ProtocolVersion::V4, &packets, true).body
}

/// Decodes a v4 polling request body; returns the number of message packets.
pub fn eio_decode_payload(body: Bytes) -> usize {
    packet::decode_payload(ProtocolVersion::V4, body, false)
        .map(|packets| {
            packets
                .into_iter()
                .filter(|p| matches!(p, Incoming::Message(_)))
                .count()
        })
        .unwrap_or(0)
}

/// Decodes one Engine.IO text frame (as received over WebSocket); true for a message.
pub fn eio_decode_frame(frame: Str) -> bool {
    matches!(packet::decode_text(frame), Ok(Incoming::Message(_)))
}

/// Encodes a Socket.IO EVENT on namespace `/`: the Engine.IO text frame (`42[...]`) and the
/// binary attachments.
pub fn sio_encode_event<T: Serialize + ?Sized>(event: &str, data: &T) -> (Str, Vec<Bytes>) {
    let encoded = parser::encode_args("/", Some(event), None, data).expect("serializable");
    (encoded.text, encoded.attachments)
}

/// Decodes an Engine.IO text frame carrying a Socket.IO EVENT and its arguments, putting the
/// binary `attachments` in place of their placeholders: the event name and arguments.
pub fn sio_decode_event(frame: Str, attachments: &[Bytes]) -> Option<(String, Vec<Value>)> {
    let Ok(Incoming::Message(Message::Text(text))) = packet::decode_text(frame) else {
        return None;
    };
    let raw = parser::decode(text).ok()?;
    let (event, args) = parser::parse_args(raw.payload.as_str(), attachments, true).ok()?;
    Some((event?, args))
}

/// Encodes a Socket.IO EVENT on namespace `/` with the MessagePack parser: the packet
/// (`{type, data, nsp}`, one binary message).
#[cfg(feature = "msgpack")]
pub fn msgpack_encode_event<T: Serialize + ?Sized>(event: &str, data: &T) -> Bytes {
    let mut encoded =
        parser::msgpack::encode_args("/", Some(event), None, data).expect("serializable");
    encoded.attachments.pop().expect("one binary message")
}

/// Decodes a MessagePack packet carrying a Socket.IO EVENT, checked as the server checks what
/// it receives: the event name and arguments, binary in place.
#[cfg(feature = "msgpack")]
pub fn msgpack_decode_event(frame: &Bytes) -> Option<(String, Vec<Value>)> {
    let mut packet = parser::msgpack::decode(frame).ok()?;
    let (event, args) = parser::msgpack::args(&mut packet).ok()?;
    Some((event?, args))
}
