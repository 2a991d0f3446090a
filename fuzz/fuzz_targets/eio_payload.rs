//! The body of an Engine.IO polling POST: v4 (packets split by `\x1e`, binary as `b<base64>`),
//! v3 text (`<length>:<packet>`, lengths in UTF-16 units, binary as `b4<base64>`) and v3 binary
//! (`application/octet-stream`: `<0|1><length digits><0xff><packet>`).
//!
//! The first input byte picks the kind, the rest is the body. A payload that decodes must
//! decode to the same packets after the server encodes them for the same protocol.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use tower_socketio::engine::ProtocolVersion;
use tower_socketio::fuzz_support::{eio_decode_payload, eio_encode_payload};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let (protocol, binary) = match mode % 3 {
        0 => (ProtocolVersion::V4, false),
        1 => (ProtocolVersion::V3, false),
        _ => (ProtocolVersion::V3, true),
    };
    let Ok(packets) = eio_decode_payload(protocol, Bytes::copy_from_slice(body), binary) else {
        return;
    };
    assert!(!packets.is_empty(), "a payload holds at least one packet");
    // A v3 server sends binary payloads to clients that take them, base64 to the others.
    for supports_binary in [false, true] {
        let (body, binary) = eio_encode_payload(protocol, &packets, supports_binary);
        let back = eio_decode_payload(protocol, body, binary);
        assert_eq!(
            back.as_ref(),
            Ok(&packets),
            "{protocol:?}, binary payload: {binary}"
        );
    }
});
