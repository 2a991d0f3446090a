//! The Socket.IO packet codec (protocol v5 for clients 3.x/4.x, v4 for clients 2.x): one text
//! packet `<type>[<attachments>-][/<namespace>,][<ack id>][<JSON>]`, followed by its binary
//! attachments, each in an Engine.IO message of its own.
//!
//! Outgoing packets are encoded straight into Engine.IO frames (`"42[...]"`, the leading `4`
//! being the Engine.IO message type), so one encoding can be queued as is, to one client or many.

use std::io::{self, Write};

use bytes::Bytes;
use serde::Serialize;
use serde::ser::{self, Impossible};

use serde::de::DeserializeOwned;

use crate::engine::Str;
use crate::error::EmitError;
use crate::value::Value;

mod choice;
#[cfg(feature = "msgpack")]
pub(crate) mod msgpack;

pub use choice::Parser;

/// The most binary attachments one packet may announce; a packet over it is a parse error.
pub(crate) const MAX_ATTACHMENTS: usize = 256;

/// The type of a Socket.IO packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

/// A decoded packet header, its JSON payload still text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawPacket {
    pub(crate) kind: Kind,
    /// The namespace, `/` when absent; without a v4 query string. A view into the packet.
    pub(crate) ns: Str,
    /// The query string a v4 client appends to the namespace of a CONNECT (`/admin?token=x`).
    pub(crate) query: Option<String>,
    pub(crate) id: Option<u64>,
    pub(crate) attachments: usize,
    /// The JSON payload, empty when absent.
    pub(crate) payload: Str,
}

/// Why a packet is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParseError(pub(crate) &'static str);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Decodes the header of a text packet (the Engine.IO message, without its `4`).
pub(crate) fn decode(text: Str) -> Result<RawPacket, ParseError> {
    let bytes = text.as_bytes();
    let kind = match bytes.first() {
        Some(b'0') => Kind::Connect,
        Some(b'1') => Kind::Disconnect,
        Some(b'2') => Kind::Event,
        Some(b'3') => Kind::Ack,
        Some(b'5') => Kind::BinaryEvent,
        Some(b'6') => Kind::BinaryAck,
        _ => return Err(ParseError("unknown packet type")),
    };
    let mut pos = 1;
    let mut attachments = 0;
    if matches!(kind, Kind::BinaryEvent | Kind::BinaryAck) {
        let dash = bytes[pos..]
            .iter()
            .position(|&b| b == b'-')
            .ok_or(ParseError("missing attachment count"))?;
        attachments = parse_number(&bytes[pos..pos + dash])
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| (1..=MAX_ATTACHMENTS).contains(n))
            .ok_or(ParseError("invalid attachment count"))?;
        pos += dash + 1;
    }
    let mut ns = Str::from_static("/");
    let mut query = None;
    if bytes.get(pos) == Some(&b'/') {
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b',')
            .map_or(bytes.len(), |i| pos + i);
        match bytes[pos..end].iter().position(|&b| b == b'?') {
            Some(mark) => {
                ns = text.slice(pos, pos + mark);
                query = Some(text[pos + mark + 1..end].to_owned());
            }
            None => ns = text.slice(pos, end),
        }
        pos = (end + 1).min(bytes.len());
    }
    let digits = bytes[pos..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let id = if digits > 0 {
        let id = parse_number(&bytes[pos..pos + digits]).ok_or(ParseError("invalid ack id"))?;
        pos += digits;
        Some(id)
    } else {
        None
    };
    let payload = text.skip(pos);
    match kind {
        Kind::Ack | Kind::BinaryAck if id.is_none() => return Err(ParseError("ack without id")),
        Kind::Disconnect if !payload.is_empty() => {
            return Err(ParseError("disconnect with a payload"));
        }
        Kind::Event | Kind::BinaryEvent | Kind::Ack | Kind::BinaryAck
            if !payload.starts_with('[') =>
        {
            return Err(ParseError("payload is not an array"));
        }
        Kind::Connect if !payload.is_empty() && !payload.starts_with('{') => {
            return Err(ParseError("connect payload is not an object"));
        }
        _ => {}
    }
    Ok(RawPacket {
        kind,
        ns,
        query,
        id,
        attachments,
        payload,
    })
}

/// The event name and arguments of an encoded EVENT packet (what a socket observer is told of
/// an outgoing event); `None` for any other packet.
pub(crate) fn decode_event(packet: &EncodedPacket) -> Option<(String, Vec<Value>)> {
    #[cfg(feature = "msgpack")]
    if packet.is_msgpack() {
        let (_, mut data) = msgpack::read_event(packet).ok()?;
        return match (!data.is_empty()).then(|| data.remove(0)) {
            Some(Value::String(name)) => Some((name, data)),
            _ => None,
        };
    }
    // The text is the Engine.IO frame: `4` (message) before the Socket.IO packet.
    let text = &packet.text;
    if !text.starts_with('4') {
        return None;
    }
    let raw = decode(text.clone().skip(1)).ok()?;
    if !matches!(raw.kind, Kind::Event | Kind::BinaryEvent) {
        return None;
    }
    match parse_args(&raw.payload, &packet.attachments, true).ok()? {
        (Some(name), args) => Some((name, args)),
        (None, _) => None,
    }
}

/// An ack id or attachment count: at most 15 digits, the integers a JavaScript number holds
/// exactly.
fn parse_number(digits: &[u8]) -> Option<u64> {
    crate::engine::packet::parse_decimal(digits, 15)
}

/// Parses the arguments of an EVENT or ACK payload, putting `attachments` in place.
/// For an event, the first element must be the event name, returned apart.
pub(crate) fn parse_args(
    payload: &str,
    attachments: &[Bytes],
    event: bool,
) -> Result<(Option<String>, Vec<Value>), ParseError> {
    let value: Value = serde_json::from_str(payload).map_err(|_| ParseError("invalid JSON"))?;
    let Value::Array(mut args) = value else {
        return Err(ParseError("payload is not an array"));
    };
    if !attachments.is_empty() {
        for arg in &mut args {
            arg.fill_placeholders(attachments)
                .map_err(|()| ParseError("placeholder without attachment"))?;
        }
    }
    if !event {
        return Ok((None, args));
    }
    match args.first() {
        Some(Value::String(_)) => {
            let Value::String(name) = args.remove(0) else {
                unreachable!("checked just above")
            };
            Ok((Some(name), args))
        }
        _ => Err(ParseError("event without a name")),
    }
}

/// An encoded Socket.IO packet: its text frame and its binary attachments, in sending order.
/// It is encoded once and queued for any number of clients as is: what a broadcast hands to
/// its [`Adapter`](crate::adapter::Adapter).
///
/// An adapter that carries broadcasts to other servers can send [`text`](Self::text) and
/// [`attachments`](Self::attachments) as they are, and rebuild the packet on the other side
/// with [`EncodedPacket::parse`], which checks it.
///
/// With the MessagePack parser ([`Parser`](crate::Parser), feature `msgpack`) a packet is one
/// binary message: its text is empty and its one attachment is the packet. The same two fields
/// carry it, and [`parse`](Self::parse) reads it back, so an adapter works with either parser.
///
/// ```
/// use bytes::Bytes;
/// use tower_socketio::adapter::EncodedPacket;
///
/// // An EVENT "news" with one binary argument, for namespace "/": what `emit` would encode.
/// let packet = EncodedPacket::parse(
///     r#"451-["news",{"_placeholder":true,"num":0}]"#,
///     vec![Bytes::from_static(b"\x01\x02")],
/// )
/// .unwrap();
/// assert!(packet.text().starts_with("451-"));
/// assert_eq!(packet.attachments().len(), 1);
/// // The attachment count must match the text.
/// assert!(EncodedPacket::parse(r#"451-["news",{"_placeholder":true,"num":0}]"#, vec![]).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct EncodedPacket {
    pub(crate) text: Str,
    pub(crate) attachments: Vec<Bytes>,
}

impl EncodedPacket {
    /// The packet's text frame, as clients receive it (its first character is the Engine.IO
    /// message type `4`).
    ///
    /// ```
    /// use tower_socketio::adapter::EncodedPacket;
    ///
    /// let packet = EncodedPacket::parse(r#"42/chat,["hello","world"]"#, vec![]).unwrap();
    /// assert_eq!(packet.text(), r#"42/chat,["hello","world"]"#); // what a bus carries
    /// ```
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The binary attachments, in sending order.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use tower_socketio::adapter::EncodedPacket;
    ///
    /// let packet = EncodedPacket::parse(
    ///     r#"451-["file",{"_placeholder":true,"num":0}]"#,
    ///     vec![Bytes::from_static(b"%PDF")],
    /// )
    /// .unwrap();
    /// assert_eq!(packet.attachments(), [Bytes::from_static(b"%PDF")]);
    /// ```
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Rebuilds a packet from its text frame and attachments (as another server sent them),
    /// checking that the text is one EVENT or binary EVENT packet of the Socket.IO protocol v5,
    /// without an acknowledgement id, whose attachment count matches `attachments`. With the
    /// `msgpack` feature, an empty text and one attachment is a packet of the MessagePack
    /// parser, checked the same way.
    ///
    /// ```
    /// use tower_socketio::adapter::EncodedPacket;
    ///
    /// assert!(EncodedPacket::parse(r#"42["news","hello"]"#, vec![]).is_ok());
    /// // An acknowledgement id is per server: a packet from the bus carries none.
    /// assert!(EncodedPacket::parse(r#"4212["news","hello"]"#, vec![]).is_err());
    /// // Not an EVENT (here a CONNECT).
    /// assert!(EncodedPacket::parse("40", vec![]).is_err());
    /// ```
    pub fn parse(
        text: impl Into<String>,
        attachments: Vec<Bytes>,
    ) -> Result<EncodedPacket, InvalidPacket> {
        let text = Str::from(text.into());
        #[cfg(feature = "msgpack")]
        if text.is_empty() && attachments.len() == 1 {
            let frame = attachments.into_iter().next().expect("one attachment");
            return msgpack::parse(frame);
        }
        if !text.starts_with('4') {
            return Err(InvalidPacket("not an Engine.IO message"));
        }
        let packet = decode(text.clone().skip(1)).map_err(|e| InvalidPacket(e.0))?;
        if !matches!(packet.kind, Kind::Event | Kind::BinaryEvent) {
            return Err(InvalidPacket("not an EVENT packet"));
        }
        if packet.id.is_some() {
            return Err(InvalidPacket(
                "an acknowledgement id (it is given per server)",
            ));
        }
        if packet.attachments != attachments.len() {
            return Err(InvalidPacket("the attachment count does not match"));
        }
        parse_args(&packet.payload, &attachments, true).map_err(|e| InvalidPacket(e.0))?;
        Ok(EncodedPacket { text, attachments })
    }
}

impl EncodedPacket {
    #[cfg(feature = "msgpack")]
    /// Whether this is a packet of the MessagePack parser (no text, the packet its one
    /// attachment).
    pub(crate) fn is_msgpack(&self) -> bool {
        self.text.is_empty()
    }

    /// The same packet with acknowledgement id `id`, written right before the payload: the
    /// packet a broadcast with acknowledgements queues for every local recipient. Packets
    /// carry no id until then (an [`EncodedPacket`] is an event without one: `emit` encodes
    /// none, [`parse`](Self::parse) refuses one).
    pub(crate) fn with_ack_id(&self, id: u64) -> EncodedPacket {
        #[cfg(feature = "msgpack")]
        if self.is_msgpack() {
            return msgpack::with_ack_id(self, id);
        }
        let Ok(packet) = decode(self.text.clone().skip(1)) else {
            return self.clone();
        };
        debug_assert!(packet.id.is_none(), "a packet with an id already");
        let payload_at = self.text.len() - packet.payload.len();
        let mut head = self.text[..payload_at].as_bytes().to_vec();
        push_decimal(&mut head, id);
        head.extend_from_slice(self.text[payload_at..].as_bytes());
        EncodedPacket {
            text: Str::from(String::from_utf8(head).expect("ASCII digits into UTF-8 text")),
            attachments: self.attachments.clone(),
        }
    }
}

impl EncodedPacket {
    /// The same event with `offset` appended as its last argument (connection state
    /// recovery: the client keeps the last string argument of each event as its offset).
    /// `offset` is made of URL-safe characters (no escaping needed).
    pub(crate) fn with_offset(&self, offset: &str) -> EncodedPacket {
        #[cfg(feature = "msgpack")]
        if self.is_msgpack() {
            return msgpack::with_offset(self, offset);
        }
        let text: &str = &self.text;
        let Some(body) = text.strip_suffix(']') else {
            return self.clone();
        };
        let mut out = String::with_capacity(text.len() + offset.len() + 3);
        out.push_str(body);
        out.push_str(",\"");
        out.push_str(offset);
        out.push_str("\"]");
        EncodedPacket {
            text: Str::from(out),
            attachments: self.attachments.clone(),
        }
    }
}

/// Why [`EncodedPacket::parse`] refused a text.
///
/// ```
/// use tower_socketio::adapter::EncodedPacket;
///
/// let error = EncodedPacket::parse("not a packet", vec![]).unwrap_err();
/// assert_eq!(error.to_string(), "invalid Socket.IO packet: not an Engine.IO message");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPacket(pub(crate) &'static str);

impl std::fmt::Display for InvalidPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid Socket.IO packet: {}", self.0)
    }
}

impl std::error::Error for InvalidPacket {}

/// The serde_json formatter that turns binary (anything serialized with `serialize_bytes`, such
/// as `bytes::Bytes`) into placeholders and collects the bytes as attachments.
struct Placeholders<'a> {
    attachments: &'a mut Vec<Bytes>,
}

impl serde_json::ser::Formatter for Placeholders<'_> {
    fn write_byte_array<W: ?Sized + Write>(&mut self, w: &mut W, value: &[u8]) -> io::Result<()> {
        let num = self.attachments.len();
        self.attachments.push(Bytes::copy_from_slice(value));
        write!(w, "{{\"_placeholder\":true,\"num\":{num}}}")
    }
}

/// How a value is laid out as packet arguments.
#[cfg_attr(not(feature = "msgpack"), allow(dead_code))]
enum Spread {
    /// `()`: no argument.
    None,
    /// A tuple of that many elements: each element is an argument.
    Tuple(usize),
    /// Anything else: one argument.
    One,
}

fn spread<T: Serialize + ?Sized>(data: &T) -> Spread {
    match data.serialize(ShapeProbe) {
        Err(Shape::Unit) => Spread::None,
        Err(Shape::Tuple(0)) => Spread::None,
        Err(Shape::Tuple(n)) => Spread::Tuple(n),
        _ => Spread::One,
    }
}

/// Writes the header of a packet: `4` (Engine.IO message), type, attachment count, namespace,
/// ack id.
fn header(out: &mut Vec<u8>, kind: Kind, attachments: usize, ns: &str, id: Option<u64>) {
    out.push(b'4');
    out.push(b'0' + kind as u8);
    if attachments > 0 {
        push_decimal(out, attachments as u64);
        out.push(b'-');
    }
    if ns != "/" {
        out.extend_from_slice(ns.as_bytes());
        out.push(b',');
    }
    if let Some(id) = id {
        push_decimal(out, id);
    }
}

/// Appends `n` in decimal (`write!` goes through the formatting machinery: five times the
/// instructions, on every acknowledgement).
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Encodes an EVENT (`event` given) or an ACK (`event` none) carrying `data` as arguments: a
/// tuple's elements are the arguments, `()` none, any other value the one argument.
pub(crate) fn encode_args<T: Serialize + ?Sized>(
    ns: &str,
    event: Option<&str>,
    id: Option<u64>,
    data: &T,
) -> Result<EncodedPacket, serde_json::Error> {
    let (kind, binary_kind) = match event {
        Some(_) => (Kind::Event, Kind::BinaryEvent),
        None => (Kind::Ack, Kind::BinaryAck),
    };
    // Written after the header of a packet without attachments (the common case), so that the
    // text is built in one buffer; binary data found on the way means another header.
    let mut out = Vec::with_capacity(64 + ns.len());
    header(&mut out, kind, 0, ns, id);
    let start = out.len();
    let mut attachments = Vec::new();
    out.push(b'[');
    if let Some(name) = event {
        write_json(&mut out, &mut attachments, name)?;
    }
    match spread(data) {
        Spread::None => {}
        Spread::One => {
            if event.is_some() {
                out.push(b',');
            }
            write_json(&mut out, &mut attachments, data)?;
        }
        Spread::Tuple(_) => {
            let tuple = out.len();
            write_json(&mut out, &mut attachments, data)?;
            // The tuple was written as `[a,b]`: drop its `]`, and turn its `[` into the comma
            // after the event name, or drop it too (the first argument of an ack).
            out.pop();
            if event.is_some() {
                out[tuple] = b',';
            } else {
                out.remove(tuple);
            }
        }
    }
    out.push(b']');
    if !attachments.is_empty() {
        let mut binary = Vec::with_capacity(out.len() + 8);
        header(&mut binary, binary_kind, attachments.len(), ns, id);
        binary.extend_from_slice(&out[start..]);
        out = binary;
    }
    let text = String::from_utf8(out).expect("serde_json writes UTF-8");
    Ok(EncodedPacket {
        text: Str::from(text),
        attachments,
    })
}

/// Arguments serialized as a tuple, so that the encoders spread them: each one an argument.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) struct Spreading<'a>(pub(crate) &'a [Value]);

impl Serialize for Spreading<'_> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for arg in self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

/// Appends the JSON of `value` to `out`, binary as placeholders collected into `attachments`.
fn write_json<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    attachments: &mut Vec<Bytes>,
    value: &T,
) -> Result<(), serde_json::Error> {
    let mut ser = serde_json::Serializer::with_formatter(out, Placeholders { attachments });
    value.serialize(&mut ser)
}

/// Event names a server may not emit: the client reserves them for its own events.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Encodes an EVENT for namespace `ns`, refusing reserved event names.
pub(crate) fn encode_event<T: Serialize + ?Sized>(
    ns: &str,
    event: &str,
    data: &T,
    id: Option<u64>,
) -> Result<EncodedPacket, EmitError> {
    if RESERVED_EVENTS.contains(&event) {
        return Err(EmitError::ReservedEvent(event.to_owned()));
    }
    encode_args(ns, Some(event), id, data).map_err(EmitError::Serialize)
}

/// The arguments `data` makes after event name `event`, as [`encode_event`] lays them out
/// (binary as [`Value::Binary`]): what a server-side emit carries.
pub(crate) fn event_args<T: Serialize + ?Sized>(
    event: &str,
    data: &T,
) -> Result<Vec<Value>, EmitError> {
    let packet = encode_event("/", event, data, None)?;
    let raw = decode(packet.text.clone().skip(1)).map_err(|e| EmitError::Encoding(e.0))?;
    let (_, args) = parse_args(&raw.payload, &packet.attachments, true)
        .map_err(|e| EmitError::Encoding(e.0))?;
    Ok(args)
}

/// Reads event arguments into `T`: the argument itself when there is exactly one, the array of
/// all of them otherwise (so a tuple type takes several arguments, `()` none).
pub(crate) fn args_into<T: DeserializeOwned>(mut args: Vec<Value>) -> Result<T, serde_json::Error> {
    if args.is_empty() {
        // No argument: an empty list (`Vec<T>`, a 0-tuple), or nothing (`()`, `Option<T>`).
        return T::deserialize(Value::Array(Vec::new()))
            .or_else(|error| T::deserialize(Value::Null).map_err(|_| error));
    }
    if args.len() == 1 {
        let one = args.pop().expect("one argument");
        T::deserialize(one)
    } else {
        T::deserialize(Value::Array(args))
    }
}

/// The CONNECT answer: v5 `{"sid":...}`, v4 nothing.
pub(crate) fn encode_connect(ns: &str, sid: Option<&str>, pid: Option<&str>) -> Str {
    let mut out = Vec::with_capacity(48);
    header(&mut out, Kind::Connect, 0, ns, None);
    match (sid, pid) {
        (Some(sid), Some(pid)) => {
            let _ = write!(out, "{{\"sid\":\"{sid}\",\"pid\":\"{pid}\"}}");
        }
        (Some(sid), None) => {
            let _ = write!(out, "{{\"sid\":\"{sid}\"}}");
        }
        _ => {}
    }
    Str::from(String::from_utf8(out).expect("ASCII"))
}

/// A connection refusal: v5 CONNECT_ERROR `{"message","data"}`, v4 ERROR with the message (or
/// the data, when there is some) as its payload.
pub(crate) fn encode_connect_error(
    ns: &str,
    message: &str,
    data: Option<&serde_json::Value>,
    v5: bool,
) -> Str {
    let mut out = Vec::with_capacity(64);
    header(&mut out, Kind::ConnectError, 0, ns, None);
    let payload = if v5 {
        match data {
            Some(data) => serde_json::json!({ "message": message, "data": data }),
            None => serde_json::json!({ "message": message }),
        }
    } else {
        data.cloned().unwrap_or_else(|| message.into())
    };
    let _ = serde_json::to_writer(&mut out, &payload);
    Str::from(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// A DISCONNECT packet.
pub(crate) fn encode_disconnect(ns: &str) -> Str {
    let mut out = Vec::with_capacity(16);
    header(&mut out, Kind::Disconnect, 0, ns, None);
    Str::from(String::from_utf8(out).expect("ASCII"))
}

/// The top-level shape of a value, found by serializing it into a serializer that stops at once.
#[derive(Debug)]
enum Shape {
    Unit,
    Tuple(usize),
    Other,
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Shape {}

impl ser::Error for Shape {
    fn custom<T: std::fmt::Display>(_msg: T) -> Self {
        Shape::Other
    }
}

struct ShapeProbe;

impl ser::Serializer for ShapeProbe {
    type Ok = ();
    type Error = Shape;
    type SerializeSeq = Impossible<(), Shape>;
    type SerializeTuple = Impossible<(), Shape>;
    type SerializeTupleStruct = Impossible<(), Shape>;
    type SerializeTupleVariant = Impossible<(), Shape>;
    type SerializeMap = Impossible<(), Shape>;
    type SerializeStruct = Impossible<(), Shape>;
    type SerializeStructVariant = Impossible<(), Shape>;

    fn serialize_unit(self) -> Result<(), Shape> {
        Err(Shape::Unit)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, Shape> {
        Err(Shape::Tuple(len))
    }

    crate::value::refuse! { Shape::Other;
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Shape> {
        Err(Shape::Other)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Shape> {
        Err(Shape::Other)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Shape> {
        Err(Shape::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ack_id_goes_right_before_the_payload() {
        let plain = encode_args("/", Some("q"), None, &1).unwrap();
        assert_eq!(&*plain.with_ack_id(17).text, r#"4217["q",1]"#);
        let binary =
            encode_args("/chat", Some("q"), None, &bytes::Bytes::from_static(b"x")).unwrap();
        assert_eq!(
            &*binary.with_ack_id(0).text,
            r#"451-/chat,0["q",{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(binary.with_ack_id(0).attachments.len(), 1);
    }

    #[test]
    fn no_argument_reads_as_unit_an_empty_list_or_none() {
        args_into::<()>(Vec::new()).unwrap();
        assert_eq!(
            args_into::<Vec<i64>>(Vec::new()).unwrap(),
            Vec::<i64>::new()
        );
        assert_eq!(args_into::<Option<i64>>(Vec::new()).unwrap(), None);
        assert!(args_into::<i64>(Vec::new()).is_err());
    }

    #[test]
    fn an_offset_is_the_last_argument() {
        let packet = encode_args("/", Some("ev"), None, &(1, "a")).unwrap();
        assert_eq!(
            &*packet.with_offset("abc-1").text,
            r#"42["ev",1,"a","abc-1"]"#
        );
        let none = encode_args("/x", Some("ev"), None, &()).unwrap();
        assert_eq!(&*none.with_offset("o").text, r#"42/x,["ev","o"]"#);
    }

    #[test]
    fn a_packet_from_elsewhere_is_checked() {
        assert!(EncodedPacket::parse(r#"42["a"]"#, vec![]).is_ok());
        assert!(
            EncodedPacket::parse(r#"2["a"]"#, vec![]).is_err(),
            "no Engine.IO type"
        );
        assert!(
            EncodedPacket::parse(r#"43["a"]"#, vec![]).is_err(),
            "an ACK"
        );
        assert!(
            EncodedPacket::parse(r#"421["a"]"#, vec![]).is_err(),
            "an ack id"
        );
        assert!(
            EncodedPacket::parse(r#"42[1]"#, vec![]).is_err(),
            "no event name"
        );
        assert!(
            EncodedPacket::parse(r#"42["a""#, vec![]).is_err(),
            "not JSON"
        );
    }

    #[test]
    fn decimals_written_and_read_back() {
        for n in [
            0u64,
            7,
            10,
            99,
            100,
            123_456_789,
            999_999_999_999_999,
            u64::MAX,
        ] {
            let mut out = b"x".to_vec();
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
            if n <= 999_999_999_999_999 {
                assert_eq!(parse_number(&out[1..]), Some(n));
            }
        }
        assert_eq!(parse_number(b""), None);
        assert_eq!(parse_number(b"12a"), None);
        assert_eq!(parse_number(b"1234567890123456"), None);
    }

    fn text(s: &str) -> Str {
        Str::from(s.to_owned())
    }

    #[test]
    fn decodes_headers() {
        let p = decode(text(r#"2/chat,12["hi",1]"#)).unwrap();
        assert_eq!(
            (p.kind, p.ns.as_str(), p.id, &*p.payload),
            (Kind::Event, "/chat", Some(12), r#"["hi",1]"#)
        );
        let p = decode(text("0/random")).unwrap();
        assert_eq!((p.kind, p.ns.as_str()), (Kind::Connect, "/random"));
        let p = decode(text(r#"0{"token":"1"}"#)).unwrap();
        assert_eq!((p.ns.as_str(), &*p.payload), ("/", r#"{"token":"1"}"#));
        let p = decode(text(r#"52-/a,7[{"_placeholder":true,"num":0}]"#)).unwrap();
        assert_eq!(
            (p.kind, p.attachments, p.id),
            (Kind::BinaryEvent, 2, Some(7))
        );
        let p = decode(text("0/admin?token=abc,")).unwrap();
        assert_eq!(
            (p.ns.as_str(), p.query.as_deref()),
            ("/admin", Some("token=abc"))
        );
    }

    #[test]
    fn rejects_malformed_packets() {
        for bad in [
            "",
            "4abc",
            "9",
            "abc",
            "2{}",
            r#"2abc["x"]"#,
            "3[1]",
            "5-[]",
            "5x-[]",
            "50-[]",
            "51000-[]",
            "1x",
            "0[]",
        ] {
            assert!(decode(text(bad)).is_err(), "{bad:?}");
        }
        assert!(parse_args("[]", &[], true).is_err());
        assert!(parse_args("[1]", &[], true).is_err());
        assert!(parse_args("[\"a\",", &[], true).is_err());
        let one = [Bytes::from_static(b"x")];
        assert!(parse_args(r#"["a",{"_placeholder":true,"num":1}]"#, &one, true).is_err());
    }

    #[test]
    fn encodes_arguments() {
        let e = encode_args("/", Some("ev"), None, &("a", 1)).unwrap();
        assert_eq!(&*e.text, r#"42["ev","a",1]"#);
        let e = encode_args("/", Some("ev"), None, &()).unwrap();
        assert_eq!(&*e.text, r#"42["ev"]"#);
        let e = encode_args("/", Some("ev"), None, &vec![1, 2]).unwrap();
        assert_eq!(&*e.text, r#"42["ev",[1,2]]"#);
        let e = encode_args("/chat", None, Some(5), &("x",)).unwrap();
        assert_eq!(&*e.text, r#"43/chat,5["x"]"#);
        let e = encode_args("/", None, Some(5), &()).unwrap();
        assert_eq!(&*e.text, "435[]");
        let e = encode_args("/", Some("ev"), Some(9), &"s").unwrap();
        assert_eq!(&*e.text, r#"429["ev","s"]"#);
    }

    #[test]
    fn binary_goes_out_as_attachments() {
        let data = (
            Bytes::from_static(&[1, 2]),
            Value::Object(vec![("b".into(), Value::Binary(Bytes::from_static(&[3])))]),
        );
        let e = encode_args("/", Some("ev"), None, &data).unwrap();
        assert_eq!(
            &*e.text,
            r#"452-["ev",{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}]"#
        );
        assert_eq!(
            e.attachments,
            [Bytes::from_static(&[1, 2]), Bytes::from_static(&[3])]
        );
        let e = encode_args("/x", None, Some(3), &(Bytes::from_static(&[9]),)).unwrap();
        assert_eq!(&*e.text, r#"461-/x,3[{"_placeholder":true,"num":0}]"#);
        // And back.
        let p = decode(e.text.clone().skip(1)).unwrap();
        let (_, args) = parse_args(&p.payload, &e.attachments, false).unwrap();
        assert_eq!(args, [Value::Binary(Bytes::from_static(&[9]))]);
    }

    #[test]
    fn connect_answers() {
        assert_eq!(
            &*encode_connect("/", Some("abc"), None),
            r#"40{"sid":"abc"}"#
        );
        assert_eq!(
            &*encode_connect("/", Some("abc"), Some("p")),
            r#"40{"sid":"abc","pid":"p"}"#
        );
        assert_eq!(&*encode_connect("/a", None, None), "40/a,");
        assert_eq!(
            &*encode_connect_error("/random", "Invalid namespace", None, true),
            r#"44/random,{"message":"Invalid namespace"}"#
        );
        assert_eq!(&*encode_connect_error("/", "no", None, false), r#"44"no""#);
        assert_eq!(&*encode_disconnect("/a"), "41/a,");
    }
}

/// Property tests: events and acks the server encodes, with binary anywhere in their arguments,
/// come back the same through the decoder and the reassembly of their attachments.
#[cfg(test)]
mod proptests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    /// Arguments serialized as a tuple: each one an argument of the packet.
    struct Args(Vec<Value>);

    impl serde::Serialize for Args {
        fn serialize<Ser: serde::Serializer>(
            &self,
            serializer: Ser,
        ) -> Result<Ser::Ok, Ser::Error> {
            use serde::ser::SerializeTuple;
            let mut tuple = serializer.serialize_tuple(self.0.len())?;
            for arg in &self.0 {
                tuple.serialize_element(arg)?;
            }
            tuple.end()
        }
    }

    /// Text of any characters, control and astral ones included.
    fn text(max: usize) -> impl Strategy<Value = String> {
        vec(any::<char>(), 0..max).prop_map(String::from_iter)
    }

    /// Any argument: JSON with binary anywhere, a few levels deep.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(|n| Value::Number(n.into())),
            any::<f64>()
                .prop_filter_map("finite", serde_json::Number::from_f64)
                .prop_map(Value::Number),
            text(12).prop_map(Value::String),
            vec(any::<u8>(), 0..24).prop_map(|b| Value::Binary(Bytes::from(b))),
        ];
        leaf.prop_recursive(3, 32, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(Value::Array),
                vec((text(6), inner), 0..4).prop_map(Value::Object),
            ]
        })
    }

    fn namespace() -> impl Strategy<Value = String> {
        prop_oneof![Just("/".to_owned()), "/[a-zA-Z0-9_.~-]{1,10}"]
    }

    /// What the server does with an incoming text packet and the binary messages after it.
    fn read_back(encoded: &EncodedPacket, event: bool) -> (RawPacket, Option<String>, Vec<Value>) {
        // The Engine.IO message type `4` comes first.
        let packet = decode(encoded.text.clone().skip(1)).expect("decodes");
        assert_eq!(packet.attachments, encoded.attachments.len());
        let (name, args) =
            parse_args(&packet.payload, &encoded.attachments, event).expect("parses");
        (packet, name, args)
    }

    /// Numbers proptest found read one ulp off before serde_json's `float_roundtrip`.
    #[test]
    fn numbers_are_read_exactly() {
        for n in [
            4.572_144_516_925_528_5e-184,
            6.060_820_378_515_642e-187,
            0.1 + 0.2,
        ] {
            let json = format!("[{}]", serde_json::to_string(&n).unwrap());
            let (_, args) = parse_args(&json, &[], false).unwrap();
            assert_eq!(
                args[0],
                Value::Number(serde_json::Number::from_f64(n).unwrap()),
                "{json}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn events_round_trip(
            ns in namespace(),
            name in text(12),
            id in proptest::option::of(0..=999_999_999_999_999u64),
            args in vec(value(), 0..4),
        ) {
            let encoded = encode_args(&ns, Some(&name), id, &Args(args.clone())).unwrap();
            let (packet, back_name, back_args) = read_back(&encoded, true);
            let binary = !encoded.attachments.is_empty();
            let kind = if binary { Kind::BinaryEvent } else { Kind::Event };
            prop_assert_eq!(packet.kind, kind);
            prop_assert_eq!(packet.ns.as_str(), ns.as_str());
            prop_assert_eq!(packet.id, id);
            prop_assert_eq!(back_name, Some(name));
            prop_assert_eq!(back_args, args);
        }

        #[test]
        fn acks_round_trip(
            ns in namespace(),
            id in 0..=999_999_999_999_999u64,
            args in vec(value(), 0..4),
        ) {
            let encoded = encode_args(&ns, None, Some(id), &Args(args.clone())).unwrap();
            let (packet, name, back_args) = read_back(&encoded, false);
            let binary = !encoded.attachments.is_empty();
            prop_assert_eq!(packet.kind, if binary { Kind::BinaryAck } else { Kind::Ack });
            prop_assert_eq!(packet.ns.as_str(), ns.as_str());
            prop_assert_eq!(packet.id, Some(id));
            prop_assert_eq!(name, None);
            prop_assert_eq!(back_args, args);
        }
    }
}
