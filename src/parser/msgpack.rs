//! The MessagePack parser, byte-compatible with Node's `socket.io-msgpack-parser` 3.x (which
//! writes with notepack.io 2): each packet is one MessagePack map `{type, nsp, data?, id?}` in
//! one binary Engine.IO message, binary inline (`bin`) wherever it is in `data`, no attachments
//! and no BINARY_EVENT/BINARY_ACK.
//!
//! Keys are written in the order Node's server writes them (a socket's emit `{type, data, id?,
//! nsp}`, a broadcast `{type, data, nsp}` then `id` for one with acknowledgements, an ack `{id,
//! type, data, nsp}`, ...), so that the bytes are the ones a Node server sends; they are read in
//! any order. Values are written as [`Serializer`] writes them (notepack.io's forms), and read
//! with [`Reader`], which takes notepack.io 2's extensions: `d4 00 00` is `undefined` (a client's
//! CONNECT without auth carries `data` so), an extension of type 0 is binary (a typed array sent
//! from Node), `d7 00` a `Date` (read as the ISO string JSON would carry).
//!
//! Incoming packets are checked as the Node decoder's `checkPacket` does: `type` an integer 0 to
//! 4, `nsp` a string, CONNECT `data` absent or an object, DISCONNECT none, CONNECT_ERROR a string
//! or an object, EVENT and ACK an array, `id` absent or an integer.
//!
//! An [`EncodedPacket`] of this parser has no text: its one attachment is the packet.

use bytes::Bytes;
use serde::Serialize;

use super::{EncodedPacket, InvalidPacket, Kind, ParseError, Spread, spread};
use crate::engine::Str;
use crate::value::Value;
use crate::value::msgpack::{
    MAX_SAFE_INTEGER, Reader, encode_msgpack, write_array_len, write_map_len, write_str, write_u64,
};
use crate::value::msgpack_serializer::Serializer;

const TYPE: &[u8] = b"\xa4type";
const DATA: &[u8] = b"\xa4data";
const NSP: &[u8] = b"\xa3nsp";
const ID: &[u8] = b"\xa2id";
/// notepack.io 2's `undefined`.
const UNDEFINED: &[u8] = b"\xd4\x00\x00";

/// A decoded packet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Packet {
    pub(crate) kind: Kind,
    pub(crate) ns: String,
    pub(crate) id: Option<u64>,
    /// `None` when absent or `undefined`.
    pub(crate) data: Option<Value>,
    /// The binaries in `data`, in order (what [`Bin`](crate::extract::Bin) gives).
    pub(crate) binaries: Vec<Bytes>,
}

/// Decodes one packet, checked as `checkPacket` checks it.
pub(crate) fn decode(frame: &Bytes) -> Result<Packet, ParseError> {
    let mut reader = Reader::collecting(frame);
    let Some(entries) = reader
        .map_len()
        .map_err(|_| ParseError("invalid MessagePack"))?
    else {
        // Not a map: MessagePack of another value (no `type`), or not MessagePack at all.
        let mut whole = Reader::new(frame);
        return match whole.value(0) {
            Ok(_) if whole.at_end() => Err(ParseError("invalid packet type")),
            _ => Err(ParseError("invalid MessagePack")),
        };
    };
    let (mut kind, mut ns, mut id, mut data) = (None, None, None, None);
    for _ in 0..entries {
        // Compared as bytes: a key that is not valid UTF-8 is none of these either way.
        let key = reader
            .key(1)
            .map_err(|_| ParseError("invalid MessagePack"))?;
        let value = reader
            .value(1)
            .map_err(|_| ParseError("invalid MessagePack"))?;
        // Keys of other types are other keys (JavaScript turns them into strings).
        match key {
            Some(b"type") => kind = value,
            Some(b"nsp") => ns = value,
            Some(b"id") => id = value,
            Some(b"data") => data = value,
            _ => {}
        }
    }
    if !reader.at_end() {
        return Err(ParseError("invalid MessagePack"));
    }
    let kind = match kind.as_ref().and_then(integer) {
        Some(0) => Kind::Connect,
        Some(1) => Kind::Disconnect,
        Some(2) => Kind::Event,
        Some(3) => Kind::Ack,
        Some(4) => Kind::ConnectError,
        _ => return Err(ParseError("invalid packet type")),
    };
    let Some(Value::String(ns)) = ns else {
        return Err(ParseError("invalid namespace"));
    };
    let valid = matches!(
        (kind, &data),
        (Kind::Connect, None | Some(Value::Object(_)))
            | (Kind::Disconnect, None)
            | (
                Kind::ConnectError,
                Some(Value::String(_) | Value::Object(_))
            )
            | (Kind::Event | Kind::Ack, Some(Value::Array(_)))
    );
    if !valid {
        return Err(ParseError("invalid payload"));
    }
    let id = match id {
        None => None,
        // An integer, as `checkPacket` wants; this server's ids are never negative nor past
        // 2^53 (those would never match an acknowledgement it waits for).
        Some(id) => Some(
            integer(&id)
                .and_then(|id| u64::try_from(id).ok())
                .filter(|id| *id <= MAX_SAFE_INTEGER)
                .ok_or(ParseError("invalid packet id"))?,
        ),
    };
    Ok(Packet {
        kind,
        ns,
        id,
        data,
        binaries: reader.binaries(),
    })
}

/// An integral number (`Number.isInteger`): an integer form, or an integral float.
fn integer(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else { return None };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// An EVENT's or an ACK's arguments: the event name taken out of an event's data (which must
/// start with one).
pub(crate) fn args(packet: &mut Packet) -> Result<(Option<String>, Vec<Value>), ParseError> {
    let Some(Value::Array(args)) = packet.data.take() else {
        return Err(ParseError("invalid payload"));
    };
    if packet.kind == Kind::Ack {
        return Ok((None, args));
    }
    let mut args = args.into_iter();
    match args.next() {
        Some(Value::String(name)) => Ok((Some(name), args.collect())),
        _ => Err(ParseError("event without a name")),
    }
}

fn packet(out: Vec<u8>) -> EncodedPacket {
    EncodedPacket {
        text: Str::from_static(""),
        attachments: vec![Bytes::from(out)],
    }
}

/// The array `[event?, ...arguments]`: a tuple's elements are the arguments, `()` none, any other
/// value the one argument (as the default parser lays them out).
fn write_data<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    event: Option<&str>,
    data: &T,
) -> Result<(), serde_json::Error> {
    let named = usize::from(event.is_some());
    let (len, how) = match spread(data) {
        Spread::None => (named, Spread::None),
        Spread::Tuple(n) => (named + n, Spread::Tuple(n)),
        Spread::One => (named + 1, Spread::One),
    };
    out.extend_from_slice(DATA);
    write_array_len(out, len);
    if let Some(name) = event {
        write_str(out, name);
    }
    match how {
        Spread::None => Ok(()),
        Spread::Tuple(_) => data.serialize(&mut Serializer::new(out).spread_tuple()),
        Spread::One => data.serialize(&mut Serializer::new(out)),
    }
}

fn write_type(out: &mut Vec<u8>, kind: Kind) {
    out.extend_from_slice(TYPE);
    out.push(kind as u8);
}

fn write_nsp(out: &mut Vec<u8>, ns: &str) {
    out.extend_from_slice(NSP);
    write_str(out, ns);
}

fn write_id(out: &mut Vec<u8>, id: u64) {
    out.extend_from_slice(ID);
    write_u64(out, id);
}

/// An EVENT (`event` given: `{type, data, id?, nsp}`, as a Node socket's emit) or an ACK
/// (`{id, type, data, nsp}`, as Node's ack callback) carrying `data` as arguments.
pub(crate) fn encode_args<T: Serialize + ?Sized>(
    ns: &str,
    event: Option<&str>,
    id: Option<u64>,
    data: &T,
) -> Result<EncodedPacket, serde_json::Error> {
    let mut out = Vec::with_capacity(128 + ns.len());
    match (event, id) {
        (Some(_), _) => {
            out.push(if id.is_some() { 0x84 } else { 0x83 });
            write_type(&mut out, Kind::Event);
            write_data(&mut out, event, data)?;
            if let Some(id) = id {
                write_id(&mut out, id);
            }
        }
        (None, id) => {
            out.push(0x84);
            write_id(&mut out, id.unwrap_or(0));
            write_type(&mut out, Kind::Ack);
            write_data(&mut out, None, data)?;
        }
    }
    write_nsp(&mut out, ns);
    Ok(packet(out))
}

/// The CONNECT answer `{type, data: {sid, pid}, nsp}` (`pid` `undefined` without connection
/// state recovery, as Node writes it); `{type, nsp}` for a client of protocol v4.
pub(crate) fn encode_connect(ns: &str, sid: Option<&str>, pid: Option<&str>) -> EncodedPacket {
    let mut out = Vec::with_capacity(48 + ns.len());
    match sid {
        Some(sid) => {
            out.push(0x83);
            write_type(&mut out, Kind::Connect);
            out.extend_from_slice(DATA);
            out.push(0x82);
            write_str(&mut out, "sid");
            write_str(&mut out, sid);
            write_str(&mut out, "pid");
            match pid {
                Some(pid) => write_str(&mut out, pid),
                None => out.extend_from_slice(UNDEFINED),
            }
        }
        None => {
            out.push(0x82);
            write_type(&mut out, Kind::Connect);
        }
    }
    write_nsp(&mut out, ns);
    packet(out)
}

/// A middleware's refusal: `{type, data: {message, data}, nsp}` (`data` `undefined` when there
/// is none, as Node writes it).
pub(crate) fn encode_connect_error(
    ns: &str,
    message: &str,
    data: Option<&serde_json::Value>,
) -> EncodedPacket {
    let mut out = Vec::with_capacity(64 + ns.len() + message.len());
    out.push(0x83);
    write_type(&mut out, Kind::ConnectError);
    out.extend_from_slice(DATA);
    out.push(0x82);
    write_str(&mut out, "message");
    write_str(&mut out, message);
    write_str(&mut out, "data");
    match data {
        Some(data) => encode_msgpack(&mut out, &Value::from(data.clone())),
        None => out.extend_from_slice(UNDEFINED),
    }
    write_nsp(&mut out, ns);
    packet(out)
}

/// The refusal of a namespace that does not exist: `{type, nsp, data: {message}}`.
pub(crate) fn encode_invalid_namespace(ns: &str) -> EncodedPacket {
    let mut out = Vec::with_capacity(48 + ns.len());
    out.push(0x83);
    write_type(&mut out, Kind::ConnectError);
    write_nsp(&mut out, ns);
    out.extend_from_slice(DATA);
    out.push(0x81);
    write_str(&mut out, "message");
    write_str(&mut out, "Invalid namespace");
    packet(out)
}

/// A DISCONNECT: `{type, nsp}`.
pub(crate) fn encode_disconnect(ns: &str) -> EncodedPacket {
    let mut out = Vec::with_capacity(16 + ns.len());
    out.push(0x82);
    write_type(&mut out, Kind::Disconnect);
    write_nsp(&mut out, ns);
    packet(out)
}

/// The packet of a MessagePack [`EncodedPacket`].
fn frame(packet: &EncodedPacket) -> Option<&Bytes> {
    match packet.attachments.as_slice() {
        [frame] if packet.text.is_empty() => Some(frame),
        _ => None,
    }
}

/// Checks a packet from elsewhere (an adapter's bus): one EVENT with a name, no id.
pub(crate) fn parse(frame: Bytes) -> Result<EncodedPacket, InvalidPacket> {
    let mut packet = decode(&frame).map_err(|e| InvalidPacket(e.0))?;
    if packet.kind != Kind::Event {
        return Err(InvalidPacket("not an EVENT packet"));
    }
    if packet.id.is_some() {
        return Err(InvalidPacket(
            "an acknowledgement id (it is given per server)",
        ));
    }
    args(&mut packet).map_err(|e| InvalidPacket(e.0))?;
    Ok(EncodedPacket {
        text: Str::from_static(""),
        attachments: vec![frame],
    })
}

/// Reads the event of a MessagePack [`EncodedPacket`]: its namespace and its data
/// `[event, ...args]`, binary in place.
pub(crate) fn read_event(packet: &EncodedPacket) -> Result<(String, Vec<Value>), ParseError> {
    let frame = frame(packet).ok_or(ParseError("not a MessagePack packet"))?;
    let mut packet = decode(frame)?;
    if packet.kind != Kind::Event {
        return Err(ParseError("not an event"));
    }
    let (name, args) = args(&mut packet)?;
    let data = name.map(Value::String).into_iter().chain(args).collect();
    Ok((packet.ns, data))
}

/// Where the top map's header ends, how many entries it has, and where the value of `key`
/// starts and ends, if it is there.
struct Located {
    header: usize,
    entries: usize,
    value: Option<(usize, usize)>,
}

fn locate(frame: &Bytes, key: &str) -> Option<Located> {
    let mut reader = Reader::new(frame);
    let entries = reader.map_len().ok()??;
    let header = reader.pos();
    let mut found = None;
    for _ in 0..entries {
        let k = reader.key(1).ok()?;
        let start = reader.pos();
        reader.value(1).ok()?;
        if k == Some(key.as_bytes()) {
            found = Some((start, reader.pos()));
        }
    }
    Some(Located {
        header,
        entries,
        value: found,
    })
}

/// The same packet with acknowledgement id `id` added, last (as Node's adapter adds it to a
/// broadcast with acknowledgements).
pub(crate) fn with_ack_id(packet: &EncodedPacket, id: u64) -> EncodedPacket {
    let Some(frame) = frame(packet) else {
        return packet.clone();
    };
    let Some(Located {
        header, entries, ..
    }) = locate(frame, "id")
    else {
        return packet.clone();
    };
    let mut out = Vec::with_capacity(frame.len() + 12);
    write_map_len(&mut out, entries + 1);
    out.extend_from_slice(&frame[header..]);
    write_id(&mut out, id);
    self::packet(out)
}

/// The same event with `offset` appended to its data (connection state recovery, as Node's
/// adapter pushes it).
pub(crate) fn with_offset(packet: &EncodedPacket, offset: &str) -> EncodedPacket {
    let Some(frame) = frame(packet) else {
        return packet.clone();
    };
    let Some(Located {
        value: Some((start, end)),
        ..
    }) = locate(frame, "data")
    else {
        return packet.clone();
    };
    let mut reader = Reader::new(frame);
    reader.skip_to(start);
    let Ok(Some(len)) = reader.array_len() else {
        return packet.clone();
    };
    let elements = reader.pos();
    let mut out = Vec::with_capacity(frame.len() + offset.len() + 8);
    out.extend_from_slice(&frame[..start]);
    write_array_len(&mut out, len + 1);
    out.extend_from_slice(&frame[elements..end]);
    write_str(&mut out, offset);
    out.extend_from_slice(&frame[end..]);
    self::packet(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(hex: &str) -> Bytes {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>()
            .into()
    }

    fn frame_hex(packet: &EncodedPacket) -> String {
        assert!(packet.text.is_empty());
        assert_eq!(packet.attachments.len(), 1);
        hex(&packet.attachments[0])
    }

    // Captures: `new (require("socket.io-msgpack-parser").Encoder)().encode(packet)` in Node,
    // socket.io-msgpack-parser 3.0.2 (notepack.io 2.2.0), for the packet objects Node's server
    // builds (keys in its order).
    const EMIT: &str = "83a47479706502a46461746192a568656c6c6fa3796f75a36e7370a12f";
    const EMIT_ACK: &str = "84a47479706502a46461746197a2657601ffcb3ff8000000000000c3c081a16194cd012cce00011170d1ff38cf0000010000000000a2696407a36e7370a52f63686174";
    const ACK: &str = "84a2696403a47479706503a46461746192a26f6b02a36e7370a12f";
    const ACK_EMPTY: &str = "84a2696400a47479706503a46461746190a36e7370a22f78";
    const BROADCAST_ACK: &str = "84a47479706502a46461746191a171a36e7370a12fa269640c";
    const CONNECT: &str = "83a47479706500a46461746182a3736964a3616263a3706964d40000a36e7370a12f";
    const CONNECT_PID: &str =
        "83a47479706500a46461746182a3736964a3616263a3706964a27031a36e7370a12f";
    const INVALID_NS: &str = "83a47479706504a36e7370a72f72616e646f6da46461746181a76d657373616765b1496e76616c6964206e616d657370616365";
    const REFUSED: &str =
        "83a47479706504a46461746182a76d657373616765a26e6fa464617461d40000a36e7370a12f";
    const REFUSED_DATA: &str =
        "83a47479706504a46461746182a76d657373616765a26e6fa46461746181a4636f64652aa36e7370a12f";
    const DISCONNECT: &str = "82a47479706501a36e7370a22f61";
    const LONG_STR: &str = "83a47479706502a46461746193a173d92878787878787878787878787878787878787878787878787878787878787878787878787878787878a2c3a9a36e7370a12f";
    // What clients send: a CONNECT without auth (`data` undefined), with auth, and an event
    // with a `Uint8Array` (extension 0) and a `Date` (`d7 00`).
    const CLIENT_CONNECT: &str = "83a47479706500a464617461d40000a36e7370a12f";
    const CLIENT_CONNECT_AUTH: &str =
        "83a47479706500a46461746181a5746f6b656ea174a36e7370a62f61646d696e";
    const CLIENT_TYPED: &str =
        "83a47479706502a46461746193a174c702000506d7000000000005265c00a36e7370a12f";

    #[test]
    fn encodes_byte_for_byte_as_node() {
        let e = |p: Result<EncodedPacket, serde_json::Error>| frame_hex(&p.unwrap());
        assert_eq!(e(encode_args("/", Some("hello"), None, &"you")), EMIT);
        let object = serde_json::json!({"a": [300, 70000, -200, 1u64 << 40]});
        let args = (1, -1, 1.5, true, (), object);
        assert_eq!(
            e(encode_args("/chat", Some("ev"), Some(7), &args)),
            EMIT_ACK
        );
        assert_eq!(e(encode_args("/", None, Some(3), &("ok", 2))), ACK);
        assert_eq!(e(encode_args("/x", None, Some(0), &())), ACK_EMPTY);
        let long = ("x".repeat(40), "é");
        assert_eq!(e(encode_args("/", Some("s"), None, &long)), LONG_STR);
        assert_eq!(frame_hex(&encode_connect("/", Some("abc"), None)), CONNECT);
        assert_eq!(
            frame_hex(&encode_connect("/", Some("abc"), Some("p1"))),
            CONNECT_PID
        );
        assert_eq!(frame_hex(&encode_invalid_namespace("/random")), INVALID_NS);
        assert_eq!(frame_hex(&encode_connect_error("/", "no", None)), REFUSED);
        let data = serde_json::json!({"code": 42});
        assert_eq!(
            frame_hex(&encode_connect_error("/", "no", Some(&data))),
            REFUSED_DATA
        );
        assert_eq!(frame_hex(&encode_disconnect("/a")), DISCONNECT);
    }

    #[test]
    fn binary_is_inline_anywhere() {
        #[derive(Serialize)]
        struct File {
            name: &'static str,
            content: Bytes,
        }
        let file = File {
            name: "a",
            content: Bytes::from_static(&[1, 2, 3]),
        };
        let big = vec![Bytes::from(vec![9u8; 300])];
        let packet = encode_args("/", Some("file"), None, &(file, big)).unwrap();
        let expected = format!(
            "83a47479706502a46461746193a466696c6582a46e616d65a161a7636f6e74656e74c40301020391c5012c{}a36e7370a12f",
            "09".repeat(300)
        );
        assert_eq!(frame_hex(&packet), expected);
        // And back: the binaries in place, and in order for `Bin`.
        let mut decoded = decode(&packet.attachments[0]).unwrap();
        assert_eq!(
            decoded.binaries,
            [Bytes::from_static(&[1, 2, 3]), Bytes::from(vec![9u8; 300])]
        );
        let (name, args) = args(&mut decoded).unwrap();
        assert_eq!(name.as_deref(), Some("file"));
        assert_eq!(
            args[0].get("content"),
            Some(&Value::Binary(Bytes::from_static(&[1, 2, 3])))
        );
    }

    #[test]
    fn decodes_what_clients_send() {
        let p = decode(&unhex(CLIENT_CONNECT)).unwrap();
        assert_eq!(
            (p.kind, p.ns.as_str(), &p.data),
            (Kind::Connect, "/", &None)
        );
        let p = decode(&unhex(CLIENT_CONNECT_AUTH)).unwrap();
        assert_eq!(p.ns, "/admin");
        assert_eq!(
            p.data,
            Some(Value::Object(vec![("token".into(), Value::from("t"))]))
        );
        let mut p = decode(&unhex(CLIENT_TYPED)).unwrap();
        let (name, args) = args(&mut p).unwrap();
        assert_eq!(name.as_deref(), Some("t"));
        assert_eq!(
            args,
            [
                Value::Binary(Bytes::from_static(&[5, 6])),
                Value::from("1970-01-02T00:00:00.000Z")
            ]
        );
        assert_eq!(p.binaries, [Bytes::from_static(&[5, 6])]);
        // Keys in any order (Node's own emits put `nsp` last, `id` anywhere).
        for capture in [
            EMIT_ACK,
            ACK,
            BROADCAST_ACK,
            REFUSED,
            INVALID_NS,
            DISCONNECT,
        ] {
            decode(&unhex(capture)).unwrap();
        }
        let p = decode(&unhex(ACK)).unwrap();
        assert_eq!((p.kind, p.id), (Kind::Ack, Some(3)));
    }

    /// The packet's keys in any string form (str 8 here), invalid UTF-8 in a key or keys of
    /// other types ignored as other keys.
    #[test]
    fn keys_in_any_form() {
        let frame = Bytes::from_static(
            b"\x85\xd9\x04type\x02\x01\x02\xa3ty\xff\x04\xda\x00\x03nsp\xa1/\xa4data\x91\xa1e",
        );
        let mut p = decode(&frame).unwrap();
        assert_eq!((p.kind, p.ns.as_str()), (Kind::Event, "/"));
        assert_eq!(args(&mut p).unwrap(), (Some("e".to_owned()), vec![]));
    }

    /// Every rejection of `checkPacket`, and MessagePack that does not read.
    #[test]
    fn check_packet_rejections() {
        let map = |entries: &[(&str, &str)]| {
            let mut out = Vec::new();
            write_map_len(&mut out, entries.len());
            for (k, v) in entries {
                write_str(&mut out, k);
                out.extend_from_slice(&unhex(v));
            }
            Bytes::from(out)
        };
        let nsp = ("nsp", "a12f");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[nsp], "invalid packet type"),
            (&[("type", "05"), nsp], "invalid packet type"),
            (&[("type", "ff"), nsp], "invalid packet type"),
            (
                &[("type", "cb3ff8000000000000"), nsp],
                "invalid packet type",
            ),
            (&[("type", "a132"), nsp], "invalid packet type"),
            (&[("type", "02"), ("data", "91a161")], "invalid namespace"),
            (
                &[("type", "02"), ("nsp", "01"), ("data", "91a161")],
                "invalid namespace",
            ),
            (&[("type", "00"), nsp, ("data", "c0")], "invalid payload"),
            (&[("type", "00"), nsp, ("data", "90")], "invalid payload"),
            (&[("type", "01"), nsp, ("data", "c0")], "invalid payload"),
            (&[("type", "04"), nsp, ("data", "90")], "invalid payload"),
            (&[("type", "04"), nsp], "invalid payload"),
            (&[("type", "02"), nsp], "invalid payload"),
            (&[("type", "02"), nsp, ("data", "80")], "invalid payload"),
            (&[("type", "03"), nsp, ("data", "a161")], "invalid payload"),
            (
                &[("type", "02"), nsp, ("data", "91a161"), ("id", "c0")],
                "invalid packet id",
            ),
            (
                &[("type", "02"), nsp, ("data", "91a161"), ("id", "a131")],
                "invalid packet id",
            ),
            (
                &[
                    ("type", "02"),
                    nsp,
                    ("data", "91a161"),
                    ("id", "cb3ff8000000000000"),
                ],
                "invalid packet id",
            ),
        ];
        for (entries, error) in cases {
            assert_eq!(decode(&map(entries)), Err(ParseError(error)), "{entries:?}");
        }
        // `checkPacket` takes these.
        for entries in [
            &[("type", "00"), nsp][..],
            &[("type", "01"), nsp, ("data", "d40000")],
            &[("type", "04"), nsp, ("data", "a26e6f")],
            &[
                ("type", "cb4000000000000000"),
                nsp,
                ("data", "91a161"),
                ("other", "c0"),
            ],
            &[("type", "02"), nsp, ("data", "91a161"), ("id", "d40000")],
        ] {
            assert!(decode(&map(entries)).is_ok(), "{entries:?}");
        }
        for bad in [
            "",
            "c1",
            "92a161",
            "a3616263",
            "83a474797065",
            "81a47479706502ff",
        ] {
            assert!(decode(&unhex(bad)).is_err(), "{bad}");
        }
        // An event needs a name.
        let mut p = decode(&map(&[("type", "02"), nsp, ("data", "9101")])).unwrap();
        assert_eq!(args(&mut p), Err(ParseError("event without a name")));
    }

    #[test]
    fn an_ack_id_is_added_last() {
        let packet = encode_args("/", Some("q"), None, &()).unwrap();
        assert_eq!(frame_hex(&with_ack_id(&packet, 12)), BROADCAST_ACK);
    }

    #[test]
    fn an_offset_is_the_last_argument() {
        let packet = encode_args("/", Some("hello"), None, &"you").unwrap();
        let stamped = with_offset(&packet, "o-1");
        let (ns, data) = read_event(&stamped).unwrap();
        assert_eq!(ns, "/");
        assert_eq!(
            data,
            [Value::from("hello"), Value::from("you"), Value::from("o-1")]
        );
        // Past 15 elements the array header grows.
        let args: Vec<Value> = (0..14u8).map(|n| Value::from(i64::from(n))).collect();
        let packet = encode_args("/", Some("n"), None, &crate::parser::Spreading(&args)).unwrap();
        let stamped = with_offset(&with_offset(&packet, "a"), "b");
        let (_, data) = read_event(&stamped).unwrap();
        assert_eq!(data.len(), 17);
        assert_eq!(data[16], Value::from("b"));
    }

    #[test]
    fn packets_from_elsewhere_are_checked() {
        let ok = EncodedPacket::parse("", vec![unhex(EMIT)]).unwrap();
        assert!(ok.is_msgpack());
        for (bad, why) in [
            (ACK, "not an EVENT packet"),
            (
                BROADCAST_ACK,
                "an acknowledgement id (it is given per server)",
            ),
            (
                "83a47479706502a46461746191c0a36e7370a12f",
                "event without a name",
            ),
            ("c1", "invalid MessagePack"),
        ] {
            assert_eq!(
                EncodedPacket::parse("", vec![unhex(bad)]).unwrap_err(),
                InvalidPacket(why)
            );
        }
    }
}

/// Malformed input of any kind is refused, never a panic.
#[cfg(test)]
mod proptests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..64)) {
            let frame = Bytes::from(bytes);
            let _ = decode(&frame);
            let packet = EncodedPacket { text: Str::from_static(""), attachments: vec![frame.clone()] };
            let _ = with_offset(&packet, "x");
            let _ = with_ack_id(&packet, 1);
            let _ = read_event(&packet);
            let _ = EncodedPacket::parse("", vec![frame]);
        }

        #[test]
        fn cut_or_flipped_packets_never_panic(cut in 0usize..80, flip in 0usize..80, bit in 0u8..8) {
            let packet = encode_args("/chat", Some("ev"), Some(3), &(1, "two", Bytes::from_static(b"3"))).unwrap();
            let mut bytes = packet.attachments[0].to_vec();
            if flip < bytes.len() {
                bytes[flip] ^= 1 << bit;
            }
            bytes.truncate(cut);
            let _ = decode(&Bytes::from(bytes));
        }
    }
}
