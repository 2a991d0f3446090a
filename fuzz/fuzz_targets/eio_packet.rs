//! One Engine.IO packet as a WebSocket frame carries it: a text frame (both protocols), a
//! binary frame in v4 (the bytes as they are) or v3 (a type byte first).
//!
//! The first input byte picks the frame kind, the rest is the frame. A packet that decodes
//! must decode the same after the server encodes it into a v3 text payload (length-prefixed,
//! so any text fits) and into a v3 binary payload.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use tower_socketio::engine::{Message, ProtocolVersion, Str};
use tower_socketio::fuzz_support::{
    EioPacket, eio_decode_binary, eio_decode_payload, eio_decode_text, eio_encode_payload,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, frame)) = data.split_first() else {
        return;
    };
    let frame = Bytes::copy_from_slice(frame);
    let decoded = match mode % 3 {
        // A text frame: the WebSocket reader lets only UTF-8 through.
        0 => match Str::try_from(frame) {
            Ok(text) => eio_decode_text(text),
            Err(_) => return,
        },
        1 => eio_decode_binary(ProtocolVersion::V4, frame),
        _ => eio_decode_binary(ProtocolVersion::V3, frame),
    };
    let Ok(packet) = decoded else {
        return;
    };
    if mode % 3 != 0 {
        assert!(matches!(packet, EioPacket::Message(Message::Binary(_))));
    }
    let packets = [packet];
    for supports_binary in [false, true] {
        let (body, binary) = eio_encode_payload(ProtocolVersion::V3, &packets, supports_binary);
        let back = eio_decode_payload(ProtocolVersion::V3, body, binary);
        assert_eq!(
            back.as_deref(),
            Ok(&packets[..]),
            "binary payload: {binary}"
        );
    }
});
