//! The Socket.IO packet parser with binary reassembly: a sequence of Engine.IO messages, text
//! packets and the binary attachments that follow a BINARY_EVENT or BINARY_ACK, taken as the
//! server takes them (`IoHandler::on_message` and `dispatch` in `src/io.rs`): a packet that
//! announces attachments waits for that many binary messages, then its arguments are parsed
//! with them in place; a text packet while attachments are due, a binary message that nobody
//! awaits, or a packet that does not parse ends the connection.
//!
//! Input: one byte of flags (bit 0: protocol v5, whose CONNECT carries a JSON payload), then the
//! messages separated by `0xff` (never in UTF-8); a message that starts with `0xfe` is binary
//! (the bytes after it), any other is text (skipped unless UTF-8, as the transports refuse it).
//!
//! An event or ack that parses must come back the same (name, namespace, ack id, arguments,
//! binary in place) after the server encodes it and the same path reads it again.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use tower_socketio::Value;
use tower_socketio::engine::Str;
use tower_socketio::extract::Args;
use tower_socketio::fuzz_support::{
    SIO_MAX_ATTACHMENTS, SioPacket, sio_decode, sio_encode, sio_parse_args,
};

/// A client message, as the Engine.IO layer hands it over.
enum Msg {
    Text(Str),
    Binary(Bytes),
}

/// An event or ack that the server would dispatch.
#[derive(Debug)]
struct Dispatched {
    ns: String,
    id: Option<u64>,
    name: Option<String>,
    args: Vec<Value>,
}

/// What the server makes of `messages`: what it dispatches until the connection ends.
fn take(messages: impl IntoIterator<Item = Msg>, v5: bool) -> Vec<Dispatched> {
    let mut dispatched = Vec::new();
    let mut partial: Option<(SioPacket, Vec<Bytes>)> = None;
    for message in messages {
        let (packet, attachments) = match message {
            Msg::Text(text) => {
                if partial.is_some() {
                    break; // text packet while binary attachments were due
                }
                let Ok(packet) = sio_decode(text) else {
                    break;
                };
                assert!(packet.attachments() <= SIO_MAX_ATTACHMENTS);
                assert!(packet.ns().starts_with('/'));
                if packet.attachments() > 0 {
                    partial = Some((packet, Vec::new()));
                    continue;
                }
                (packet, Vec::new())
            }
            Msg::Binary(data) => {
                let Some((packet, attachments)) = partial.as_mut() else {
                    break; // unexpected binary message
                };
                attachments.push(data);
                if attachments.len() < packet.attachments() {
                    continue;
                }
                partial.take().expect("checked above")
            }
        };
        match packet.kind() {
            0 => {
                if v5
                    && !packet.payload().is_empty()
                    && serde_json::from_str::<Value>(packet.payload()).is_err()
                {
                    break;
                }
            }
            1 => {}
            2 | 3 | 5 | 6 => {
                let event = matches!(packet.kind(), 2 | 5);
                let Ok((name, args)) = sio_parse_args(packet.payload(), &attachments, event) else {
                    break;
                };
                assert_eq!(name.is_some(), event);
                for arg in &args {
                    assert_binary_from(arg, &attachments);
                }
                dispatched.push(Dispatched {
                    ns: packet.ns().to_owned(),
                    id: packet.id(),
                    name,
                    args,
                });
            }
            _ => break, // a client may not send CONNECT_ERROR
        }
    }
    dispatched
}

/// Every binary value is one of the attachments.
fn assert_binary_from(value: &Value, attachments: &[Bytes]) {
    match value {
        Value::Binary(data) => assert!(attachments.contains(data)),
        Value::Array(items) => items
            .iter()
            .for_each(|v| assert_binary_from(v, attachments)),
        Value::Object(entries) => entries
            .iter()
            .for_each(|(_, v)| assert_binary_from(v, attachments)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let messages = rest.split(|&b| b == 0xff).filter_map(|part| match part {
        [0xfe, binary @ ..] => Some(Msg::Binary(Bytes::copy_from_slice(binary))),
        text => Str::try_from(Bytes::copy_from_slice(text))
            .ok()
            .map(Msg::Text),
    });
    for packet in take(messages, flags & 1 == 1) {
        let (text, attachments) = sio_encode(
            &packet.ns,
            packet.name.as_deref(),
            packet.id,
            &Args(packet.args.clone()),
        )
        .expect("a Value always serializes");
        // The frame starts with the Engine.IO message type.
        let text = Str::try_from(text.into_bytes().slice(1..)).expect("UTF-8");
        let again =
            std::iter::once(Msg::Text(text)).chain(attachments.into_iter().map(Msg::Binary));
        let back = take(again, true);
        let [back] = &back[..] else {
            panic!("{packet:?} encoded and read again: {back:?}");
        };
        assert_eq!(
            (&back.ns, back.id, &back.name),
            (&packet.ns, packet.id, &packet.name)
        );
        // Numbers too: JSON numbers are read exactly (serde_json's `float_roundtrip`).
        assert_eq!(back.args, packet.args);
    }
});
