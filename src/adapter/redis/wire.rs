//! The messages of Node's Redis adapters on the wire: `@socket.io/redis-adapter` 8.3 (the classic
//! adapter and the sharded one) and `@socket.io/redis-emitter` 5.x. A pure codec: no I/O.
//!
//! # Classic adapter (`createAdapter`)
//! Per namespace ([`ClassicChannels`]): broadcasts go to `<key>#<nsp>#`, or `<key>#<nsp>#<room>#`
//! when they target exactly one room (every server `PSUBSCRIBE`s `<key>#<nsp>#*`), as the
//! MessagePack array `[uid, packet, opts]` ([`ClassicBroadcast`]). Requests go to
//! `<key>-request#<nsp>#` ([`ClassicRequest`]), answers to `<key>-response#<nsp>#` or, with
//! `publishOnSpecificResponseChannel`, to `<key>-response#<nsp>#<requester uid>#`
//! ([`ClassicResponse`]). Requests and answers are JSON, except those that carry a packet
//! (broadcast with acknowledgements, type 7, and its acknowledgements, type 9): MessagePack. A
//! receiver tells them apart by the first byte, `{` for JSON ([`is_json`]). The server count is
//! `PUBSUB NUMSUB <key>-request#<nsp>#`.
//!
//! # Sharded adapter (`createShardedAdapter`, Redis 7 `SPUBLISH`/`SSUBSCRIBE`)
//! Per namespace ([`ShardedChannels`]): every message to `<prefix>#<nsp>#`, answers to
//! `<prefix>#<nsp>#<requester uid>#`, and in the `dynamic` subscription modes the broadcasts to
//! exactly one room to `<prefix>#<nsp>#<room>#`. Messages are socket.io-adapter's
//! `ClusterMessage` `{type, data, uid, nsp}` ([`ClusterMessage`]): JSON, or MessagePack when
//! their data holds binary. The server count is `PUBSUB SHARDNUMSUB <prefix>#<nsp>#`.
//!
//! # Streams adapter (`@socket.io/redis-streams-adapter` 0.3)
//! The same [`ClusterMessage`]s, carried two ways. What other servers must not miss (type 3
//! without a request id, 4, 5, 6) is a stream entry of fields `uid`, `nsp`, `type` (the number
//! as text) and `data` ([`ClusterMessage::stream_data`]: `JSON.stringify` of the data, or, for a
//! type that may carry binary and does, the base64 of its MessagePack; read back with
//! [`ClusterMessage::from_stream_entry`]). The rest goes over pub/sub to `<prefix>#<nsp>#`,
//! answers to `<prefix>#<nsp>#<requester uid>#`, the whole message in MessagePack
//! ([`ClusterMessage::encode_msgpack_js`]), whether it holds binary or not. Offsets are entry ids
//! ([`StreamId`]); sessions are kept as [`StoredSession`]s. This adapter's MessagePack is
//! `@msgpack/msgpack` 2.8's, not notepack.io's ([`Dialect`]).
//!
//! # Emitter
//! `@socket.io/redis-emitter` publishes classic broadcasts with the uid [`EMITTER_UID`], and
//! classic requests (join, leave, disconnect without a `uid`; server-side emits with it): the
//! classic decoders read them.
//!
//! # MessagePack
//! Node's classic and sharded adapters and the emitter encode with notepack.io 3: integers in
//! their smallest form (unsigned forms for non-negative numbers), other numbers as float 64,
//! `Buffer`s and typed arrays as `bin`, `Date`s as timestamps (extension -1), `undefined` as nil
//! in arrays and left out of objects, keys in insertion order. [`encode_msgpack`] writes a
//! [`Value`] the same way, byte for byte; [`decode_msgpack`] reads what notepack.io reads,
//! turning a timestamp into the ISO string that a Node server would have sent its clients for
//! that `Date`.
//!
//! The streams adapter encodes with `@msgpack/msgpack` 2.8 ([`encode_msgpack_as`] with
//! [`Dialect::MsgpackJs`]): the same forms, but only safe integers (up to 2^53 - 1 in magnitude)
//! as integers, every other number as float 64. It also writes `undefined` in an object as nil
//! under its key, an `ArrayBuffer` as an empty map, and a typed array as its bytes (not cut to
//! one byte an element); [`decode_msgpack`] reads all of it, and decodes `bin` where Node gets a
//! `Uint8Array`.
//!
//! # What Node does that a peer must live with
//! Read from the sources and checked against captures (`tests/js/redis/capture.mjs`):
//! - notepack.io writes an integral number of 2^64 or more as the low 64 bits of its integer
//!   (`1e20` arrives as `7766279631452242000`, `1.5e300` as `0`); this codec writes such numbers
//!   as float 64, which Node reads right.
//! - A typed array other than `Uint8Array` is written as `Buffer.from(view)`: each element cut to
//!   a byte. A `Map` or a `Set` in arguments is written as an empty map.
//! - JSON messages (classic requests and answers, sharded messages without binary) carry binary as
//!   `JSON.stringify` writes it: a `Buffer` as `{"type":"Buffer","data":[...]}` (this codec writes
//!   [`Value::Binary`] so too), a `Uint8Array` as `{"0":...}`, an `ArrayBuffer` as `{}`.
//! - The server count counts subscribers: any other client subscribed to the request channel
//!   (classic, `SUBSCRIBE` only, patterns do not count) or to the main channel (sharded) makes
//!   Node wait for an answer that never comes, until its timeout.
//!
//! # Packets
//! The Socket.IO packet inside a broadcast is the object `{type, data, nsp, id?}` ([`Packet`]),
//! `data` being `[event, ...args]` with binary in place; [`Packet::from_encoded`] and
//! [`Packet::to_encoded`] convert it from and to the text packet this crate queues for clients.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use bytes::Bytes;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::adapter::{EncodedPacket, HandshakeInfo, SocketInfo};
use crate::engine::Sid;
use crate::parser::{self, Kind, Parser};
use crate::value::Value;

/// The default channel prefix (Node's option `key`, `channelPrefix` for the sharded adapter).
pub const DEFAULT_KEY: &str = "socket.io";

/// The uid of the messages of `@socket.io/redis-emitter`.
pub const EMITTER_UID: &str = "emitter";

/// The Socket.IO packet type of an event.
pub const EVENT: u8 = 2;
/// The Socket.IO packet type of an event with binary (Node's adapters send [`EVENT`] either way).
pub const BINARY_EVENT: u8 = 5;

/// A message that cannot be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(Cow<'static, str>);

impl WireError {
    fn new(what: impl Into<Cow<'static, str>>) -> Self {
        WireError(what.into())
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid adapter message: {}", self.0)
    }
}

impl std::error::Error for WireError {}

type Result<T> = std::result::Result<T, WireError>;

/// Whether a message (request, response or sharded message) is JSON: its first byte is `{`.
/// Anything else is MessagePack.
///
/// ```
/// use tower_socketio::adapter::redis::wire::*;
/// assert!(is_json(br#"{"type":0}"#));
/// assert!(!is_json(&[0x93, 0xa6]));
/// ```
pub fn is_json(message: &[u8]) -> bool {
    message.first() == Some(&b'{')
}

// ---------------------------------------------------------------------------------------------
// Uids

const UID_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A server uid of the classic adapter, as Node's `uid2(6)` makes it: 6 characters of
/// `A-Za-z0-9-_`. Its request ids are made the same way ([`classic_request_id`]).
pub fn classic_uid() -> String {
    let bytes: [u8; 6] = rand::random();
    bytes
        .iter()
        .map(|b| UID_CHARS[usize::from(b % 64)] as char)
        .collect()
}

/// A request id of the classic adapter (`uid2(6)`, like its uids).
pub fn classic_request_id() -> String {
    classic_uid()
}

/// A server uid of socket.io-adapter's `ClusterAdapter` (the sharded adapter): 8 random bytes in
/// lowercase hexadecimal. Its request ids are made the same way ([`cluster_request_id`]).
pub fn cluster_uid() -> String {
    let bytes: [u8; 8] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A request id of the `ClusterAdapter` (16 hexadecimal digits, like its uids).
pub fn cluster_request_id() -> String {
    cluster_uid()
}

// ---------------------------------------------------------------------------------------------
// Channels

/// The channels of one namespace of the classic adapter.
///
/// ```
/// use tower_socketio::adapter::redis::wire::*;
/// let channels = ClassicChannels::new(DEFAULT_KEY, "/chat", "AbC-_1");
/// assert_eq!(channels.broadcast, "socket.io#/chat#");
/// assert_eq!(channels.request, "socket.io-request#/chat#");
/// assert_eq!(channels.specific_response, "socket.io-response#/chat#AbC-_1#");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassicChannels {
    /// `<key>#<nsp>#`: broadcasts to no room or several.
    pub broadcast: String,
    /// `<key>-request#<nsp>#`.
    pub request: String,
    /// `<key>-response#<nsp>#`.
    pub response: String,
    /// `<key>-response#<nsp>#<uid>#`: this server's own answers, when its peers publish on
    /// specific channels.
    pub specific_response: String,
}

/// What a channel of the classic adapter carries, for one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassicChannel<'a> {
    /// A broadcast channel: `room` is empty for `<key>#<nsp>#`, the room of `<key>#<nsp>#<room>#`
    /// otherwise.
    Broadcast {
        /// The room the channel is for (Node: `channel.slice(prefix.length, -1)`).
        room: &'a [u8],
    },
    /// The request channel.
    Request,
    /// The response channel or a specific response channel (any uid).
    Response,
    /// Another namespace's, or no adapter's.
    Other,
}

impl ClassicChannels {
    /// The channels of namespace `nsp` for server `uid`, with prefix `key` (Node's option `key`,
    /// [`DEFAULT_KEY`] by default).
    ///
    /// ```
    /// use tower_socketio::adapter::redis::wire::*;
    /// let channels = ClassicChannels::new("app", "/", "uid123");
    /// assert_eq!(channels.response, "app-response#/#");
    /// ```
    pub fn new(key: &str, nsp: &str, uid: &str) -> Self {
        let response = format!("{key}-response#{nsp}#");
        ClassicChannels {
            broadcast: format!("{key}#{nsp}#"),
            request: format!("{key}-request#{nsp}#"),
            specific_response: format!("{response}{uid}#"),
            response,
        }
    }

    /// The pattern every server subscribes to for broadcasts (`PSUBSCRIBE`): `<key>#<nsp>#*`.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::wire::*;
    /// let channels = ClassicChannels::new(DEFAULT_KEY, "/", "uid123");
    /// assert_eq!(channels.broadcast_pattern(), "socket.io#/#*");
    /// ```
    pub fn broadcast_pattern(&self) -> String {
        format!("{}*", self.broadcast)
    }

    /// The channel of broadcasts to exactly one room: `<key>#<nsp>#<room>#`.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::wire::*;
    /// let channels = ClassicChannels::new(DEFAULT_KEY, "/", "uid123");
    /// assert_eq!(channels.room("news"), "socket.io#/#news#");
    /// ```
    pub fn room(&self, room: &str) -> String {
        format!("{}{room}#", self.broadcast)
    }

    /// Where a broadcast to `rooms` goes: the room's channel when there is exactly one room, the
    /// namespace's otherwise.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::wire::*;
    /// let channels = ClassicChannels::new(DEFAULT_KEY, "/", "uid123");
    /// assert_eq!(channels.for_broadcast(&["news".to_owned()]), "socket.io#/#news#");
    /// assert_eq!(channels.for_broadcast(&[]), "socket.io#/#");
    /// ```
    pub fn for_broadcast(&self, rooms: &[String]) -> Cow<'_, str> {
        match rooms {
            [room] => Cow::Owned(self.room(room)),
            _ => Cow::Borrowed(&self.broadcast),
        }
    }

    /// Where an answer to server `requester` goes: `<key>-response#<nsp>#<requester>#` with
    /// `specific` (Node's `publishOnSpecificResponseChannel`), the shared response channel
    /// otherwise. Answers to server-side emits always use the shared channel.
    ///
    /// ```
    /// use tower_socketio::adapter::redis::wire::*;
    /// let channels = ClassicChannels::new(DEFAULT_KEY, "/", "uid123");
    /// assert_eq!(channels.for_response("other", true), "socket.io-response#/#other#");
    /// assert_eq!(channels.for_response("other", false), "socket.io-response#/#");
    /// ```
    pub fn for_response(&self, requester: &str, specific: bool) -> Cow<'_, str> {
        if specific {
            Cow::Owned(format!("{}{requester}#", self.response))
        } else {
            Cow::Borrowed(&self.response)
        }
    }

    /// What `channel` carries, as Node's adapter reads it (a channel is a response channel when
    /// it starts with the response channel, and so on).
    ///
    /// ```
    /// use tower_socketio::adapter::redis::wire::*;
    /// let channels = ClassicChannels::new(DEFAULT_KEY, "/", "uid123");
    /// assert_eq!(channels.classify(b"socket.io#/#news#"), ClassicChannel::Broadcast { room: b"news" });
    /// assert_eq!(channels.classify(b"socket.io-request#/#"), ClassicChannel::Request);
    /// assert_eq!(channels.classify(b"other"), ClassicChannel::Other);
    /// ```
    pub fn classify<'a>(&self, channel: &'a [u8]) -> ClassicChannel<'a> {
        if let Some(rest) = channel.strip_prefix(self.broadcast.as_bytes()) {
            // Node drops the last character, whatever it is.
            let room = &rest[..rest.len().saturating_sub(1)];
            ClassicChannel::Broadcast { room }
        } else if channel.starts_with(self.response.as_bytes()) {
            ClassicChannel::Response
        } else if channel.starts_with(self.request.as_bytes()) {
            ClassicChannel::Request
        } else {
            ClassicChannel::Other
        }
    }

    /// The command that counts the servers of the namespace: `PUBSUB NUMSUB <request channel>`
    /// (each server subscribes once; summed over the masters of a Redis Cluster).
    ///
    /// ```
    /// use tower_socketio::adapter::redis::wire::*;
    /// let channels = ClassicChannels::new(DEFAULT_KEY, "/", "uid123");
    /// assert_eq!(channels.server_count_command(), ["PUBSUB", "NUMSUB", "socket.io-request#/#"]);
    /// ```
    pub fn server_count_command(&self) -> [&str; 3] {
        ["PUBSUB", "NUMSUB", &self.request]
    }
}

/// The subscription mode of the sharded adapter (Node's option `subscriptionMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubscriptionMode {
    /// Two channels per namespace.
    Static,
    /// Two channels per namespace and one per public room (a room that is not a socket id).
    #[default]
    Dynamic,
    /// Two channels per namespace and one per room, socket ids included.
    DynamicPrivate,
}

/// The channels of one namespace of the sharded adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardedChannels {
    /// `<prefix>#<nsp>#`: every message but the answers and the one-room broadcasts of the
    /// dynamic modes.
    pub main: String,
    /// `<prefix>#<nsp>#<uid>#`: this server's answers.
    pub response: String,
    /// The subscription mode.
    pub mode: SubscriptionMode,
}

/// Whether `room` looks like a socket id to the sharded adapter: 20 characters (JavaScript
/// characters, UTF-16 units).
pub fn looks_like_a_socket_id(room: &str) -> bool {
    room.encode_utf16().count() == 20
}

impl ShardedChannels {
    /// The channels of namespace `nsp` for server `uid`, with prefix `prefix` (Node's option
    /// `channelPrefix`, [`DEFAULT_KEY`] by default).
    pub fn new(prefix: &str, nsp: &str, uid: &str, mode: SubscriptionMode) -> Self {
        let main = format!("{prefix}#{nsp}#");
        ShardedChannels {
            response: format!("{main}{uid}#"),
            main,
            mode,
        }
    }

    /// The channel of `room`: `<prefix>#<nsp>#<room>#`.
    pub fn room(&self, room: &str) -> String {
        format!("{}{room}#", self.main)
    }

    /// Whether this server subscribes to the channel of `room` while it has sockets in it
    /// (`SSUBSCRIBE` when the room is created, `SUNSUBSCRIBE` when it is deleted); `is_socket_id`
    /// tells whether the room is one of this server's socket ids (Node: `sids.has(room)`).
    pub fn subscribes_to_room(&self, is_socket_id: bool) -> bool {
        match self.mode {
            SubscriptionMode::Static => false,
            SubscriptionMode::Dynamic => !is_socket_id,
            SubscriptionMode::DynamicPrivate => true,
        }
    }

    /// Where `message` goes: a room's channel for a broadcast without acknowledgements to
    /// exactly one room in the dynamic modes (in `dynamic`, unless the room looks like a socket
    /// id), the main channel otherwise.
    pub fn for_message(&self, message: &ClusterMessage) -> Cow<'_, str> {
        let room = match &message.kind {
            ClusterMessageKind::Broadcast {
                opts,
                request_id: None,
                ..
            } => match opts.rooms.as_slice() {
                [room] => Some(room),
                _ => None,
            },
            _ => None,
        };
        let dynamic = room.filter(|room| match self.mode {
            SubscriptionMode::Static => false,
            SubscriptionMode::Dynamic => !looks_like_a_socket_id(room),
            SubscriptionMode::DynamicPrivate => true,
        });
        match dynamic {
            Some(room) => Cow::Owned(self.room(room)),
            None => Cow::Borrowed(&self.main),
        }
    }

    /// Where an answer to server `requester` goes: `<prefix>#<nsp>#<requester>#`.
    pub fn for_response(&self, requester: &str) -> String {
        format!("{}{requester}#", self.main)
    }

    /// The command that counts the servers of the namespace: `PUBSUB SHARDNUMSUB <main channel>`
    /// (summed over the masters of a Redis Cluster).
    pub fn server_count_command(&self) -> [&str; 3] {
        ["PUBSUB", "SHARDNUMSUB", &self.main]
    }
}

// ---------------------------------------------------------------------------------------------
// Packets, targets, flags

/// A Socket.IO packet as the adapters carry it: `{type, data, nsp, id?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The packet type: [`EVENT`] (binary or not: the receiving server's encoder decides).
    pub kind: u8,
    /// `[event, ...args]` for an event, binary in place.
    pub data: Value,
    /// The namespace: set by the classic adapter, absent in sharded messages (their `nsp` says
    /// it); a missing one means `/`.
    pub nsp: Option<String>,
    /// The acknowledgement id: never on the wire in Node 8.3 (each server sets its own).
    pub id: Option<u64>,
}

impl Packet {
    /// An event packet: `{type: 2, data: [event, ...args], nsp}`.
    pub fn event(nsp: Option<&str>, event: &str, args: impl IntoIterator<Item = Value>) -> Self {
        let data = std::iter::once(Value::from(event)).chain(args).collect();
        Packet {
            kind: EVENT,
            data: Value::Array(data),
            nsp: nsp.map(str::to_owned),
            id: None,
        }
    }

    /// The event name, when this is an event with one.
    pub fn event_name(&self) -> Option<&str> {
        match &self.data {
            Value::Array(items) => items.first().and_then(Value::as_str),
            _ => None,
        }
    }

    /// Reads the packet of an [`EncodedPacket`] (the text `42/nsp,["event",...]` and its
    /// attachments, or a MessagePack parser's packet): an event, with its namespace, without an
    /// acknowledgement id.
    pub fn from_encoded(packet: &EncodedPacket) -> Result<Packet> {
        #[cfg(feature = "msgpack")]
        if packet.is_msgpack() {
            let (nsp, data) =
                parser::msgpack::read_event(packet).map_err(|e| WireError::new(e.0))?;
            return Ok(Packet {
                kind: EVENT,
                data: Value::Array(data),
                nsp: Some(nsp),
                id: None,
            });
        }
        let text = packet.text.clone();
        if text.as_bytes().first() != Some(&b'4') {
            return Err(WireError::new("not an Engine.IO message"));
        }
        let raw = parser::decode(text.skip(1)).map_err(|e| WireError::new(e.0))?;
        if !matches!(raw.kind, Kind::Event | Kind::BinaryEvent) {
            return Err(WireError::new("not an event"));
        }
        let (name, args) = parser::parse_args(&raw.payload, &packet.attachments, true)
            .map_err(|e| WireError::new(e.0))?;
        let data = name.map(Value::String).into_iter().chain(args).collect();
        Ok(Packet {
            kind: EVENT,
            data: Value::Array(data),
            nsp: Some(raw.ns.as_str().to_owned()),
            id: None,
        })
    }

    /// The [`EncodedPacket`] of this event in `parser`'s form (the default parser: binary as
    /// attachments), in namespace `self.nsp`, or `default_nsp` when the packet has none. Without
    /// an acknowledgement id, whatever `id` says: each server numbers the packets it sends its
    /// clients (as Node's do).
    pub fn to_encoded(&self, default_nsp: &str, parser: Parser) -> Result<EncodedPacket> {
        let nsp = self.nsp.as_deref().unwrap_or(default_nsp);
        if !matches!(self.kind, EVENT | BINARY_EVENT) {
            return Err(WireError::new("not an event"));
        }
        let Value::Array(items) = &self.data else {
            return Err(WireError::new("packet data is not an array"));
        };
        let Some((Value::String(name), args)) = items.split_first() else {
            return Err(WireError::new("event without a name"));
        };
        parser
            .encode_values(nsp, name, args)
            .map_err(|e| WireError::new(e.to_string()))
    }

    fn out(&self) -> Out<'_> {
        let mut fields = vec![
            ("type", Out::U64(self.kind.into())),
            ("data", Out::Value(&self.data)),
        ];
        if let Some(nsp) = &self.nsp {
            fields.push(("nsp", Out::Str(nsp)));
        }
        if let Some(id) = self.id {
            fields.push(("id", Out::U64(id)));
        }
        Out::Object(fields)
    }

    fn read(value: Value) -> Result<Packet> {
        let mut entries = object(value, "packet")?;
        let kind = take(&mut entries, "type")
            .as_ref()
            .and_then(as_u64)
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| WireError::new("packet without a type"))?;
        let data = take(&mut entries, "data").unwrap_or(Value::Null);
        let nsp = match take(&mut entries, "nsp") {
            None | Some(Value::Null) => None,
            Some(Value::String(nsp)) => Some(nsp),
            Some(_) => return Err(WireError::new("packet nsp is not a string")),
        };
        let id = take(&mut entries, "id").as_ref().and_then(as_u64);
        Ok(Packet {
            kind,
            data,
            nsp,
            id,
        })
    }
}

/// The broadcast flags, in their order on the wire (Node's `BroadcastFlags` object: `volatile`,
/// `compress`, `local`, `timeout`, `expectSingleResponse`, `broadcast`, `binary`, or anything a
/// newer peer sends).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Flags(pub Vec<(String, Value)>);

impl Flags {
    /// The value of flag `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Sets flag `name` (in place when it is there, last otherwise).
    pub fn set(&mut self, name: &str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    /// The flags with `name` set: for building them in Node's order.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.set(name, value.into());
        self
    }

    fn is_true(&self, name: &str) -> bool {
        self.get(name) == Some(&Value::Bool(true))
    }

    /// `volatile`: the packet may be dropped for a client that cannot take it now.
    pub fn volatile(&self) -> bool {
        self.is_true("volatile")
    }

    /// `compress`, when set.
    pub fn compress(&self) -> Option<bool> {
        match self.get("compress") {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// `local`: this server only (never published by Node).
    pub fn local(&self) -> bool {
        self.is_true("local")
    }

    /// `timeout` in milliseconds, when set (broadcasts with acknowledgements).
    pub fn timeout(&self) -> Option<u64> {
        self.get("timeout").and_then(as_u64)
    }

    /// `expectSingleResponse`: set by `RemoteSocket.emit` with an acknowledgement.
    pub fn expect_single_response(&self) -> bool {
        self.is_true("expectSingleResponse")
    }

    fn read(value: Option<Value>) -> Result<Flags> {
        match value {
            None | Some(Value::Null) => Ok(Flags::default()),
            Some(Value::Object(entries)) => Ok(Flags(entries)),
            Some(_) => Err(WireError::new("flags are not an object")),
        }
    }
}

/// The sockets an operation targets, as classic requests carry them: `{rooms, except}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Targets {
    /// The sockets in any of these rooms; all of them when empty.
    pub rooms: Vec<String>,
    /// Minus the sockets in any of these rooms.
    pub except: Vec<String>,
}

impl Targets {
    fn out(&self) -> Out<'_> {
        Out::Object(vec![
            ("rooms", Out::Strings(&self.rooms)),
            ("except", Out::Strings(&self.except)),
        ])
    }

    fn read(value: Option<Value>) -> Result<Targets> {
        let mut entries = match value {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => object(value, "opts")?,
        };
        Ok(Targets {
            rooms: strings(take(&mut entries, "rooms"), "opts.rooms")?,
            except: strings(take(&mut entries, "except"), "opts.except")?,
        })
    }
}

/// The options of a broadcast (and of every sharded operation): `{rooms, except, flags}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BroadcastOpts {
    /// The sockets in any of these rooms; all of them when empty.
    pub rooms: Vec<String>,
    /// Minus the sockets in any of these rooms (Node de-duplicates them).
    pub except: Vec<String>,
    /// The flags (`{}` when there are none).
    pub flags: Flags,
}

impl BroadcastOpts {
    fn out(&self) -> Out<'_> {
        Out::Object(vec![
            ("rooms", Out::Strings(&self.rooms)),
            ("except", Out::Strings(&self.except)),
            ("flags", Out::Pairs(&self.flags.0)),
        ])
    }

    fn read(value: Option<Value>) -> Result<BroadcastOpts> {
        let mut entries = match value {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => object(value, "opts")?,
        };
        Ok(BroadcastOpts {
            rooms: strings(take(&mut entries, "rooms"), "opts.rooms")?,
            except: strings(take(&mut entries, "except"), "opts.except")?,
            flags: Flags::read(take(&mut entries, "flags"))?,
        })
    }
}

/// A socket as `fetchSockets` answers carry it (Node's `SocketDetails`): `{id, handshake, rooms,
/// data}`. `data` crosses as JSON in the classic adapter (binary becomes
/// `{"type":"Buffer","data":[...]}`), as MessagePack in the sharded one when it holds binary.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketDetails {
    /// The socket id.
    pub id: String,
    /// The handshake.
    pub handshake: Handshake,
    /// The rooms the socket is in (its own id first).
    pub rooms: Vec<String>,
    /// `socket.data`.
    pub data: Value,
}

/// A socket's handshake as Node sends it: `{headers, time, address, xdomain, secure, issued,
/// url, query, auth}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Handshake {
    /// The request headers, names in lowercase (an object of strings, or of arrays of strings).
    pub headers: Value,
    /// When the handshake happened, as JavaScript's `Date.prototype.toString` writes it
    /// (`Wed Dec 02 2026 07:04:17 GMT+0000 (Coordinated Universal Time)`).
    pub time: String,
    /// The client's address.
    pub address: String,
    /// Whether the request had an `Origin` header.
    pub xdomain: bool,
    /// Whether the connection is TLS.
    pub secure: bool,
    /// When the handshake happened, in milliseconds since the Unix epoch.
    pub issued: u64,
    /// The request URL (path and query).
    pub url: String,
    /// The query parameters (an object of strings).
    pub query: Value,
    /// The `auth` payload of the CONNECT packet.
    pub auth: Value,
}

impl SocketDetails {
    fn out(&self) -> Out<'_> {
        let h = &self.handshake;
        Out::Object(vec![
            ("id", Out::Str(&self.id)),
            (
                "handshake",
                Out::Object(vec![
                    ("headers", Out::Value(&h.headers)),
                    ("time", Out::Str(&h.time)),
                    ("address", Out::Str(&h.address)),
                    ("xdomain", Out::Bool(h.xdomain)),
                    ("secure", Out::Bool(h.secure)),
                    ("issued", Out::U64(h.issued)),
                    ("url", Out::Str(&h.url)),
                    ("query", Out::Value(&h.query)),
                    ("auth", Out::Value(&h.auth)),
                ]),
            ),
            ("rooms", Out::Strings(&self.rooms)),
            ("data", Out::Value(&self.data)),
        ])
    }

    fn out_all(sockets: &[SocketDetails]) -> Out<'_> {
        Out::Array(sockets.iter().map(SocketDetails::out).collect())
    }

    /// The sockets of an answer (none when the field is missing: Node counts such an answer
    /// and adds nothing).
    fn read_all(value: Option<Value>) -> Result<Vec<SocketDetails>> {
        match value {
            Some(Value::Array(items)) => items.into_iter().map(SocketDetails::read).collect(),
            _ => Ok(Vec::new()),
        }
    }

    fn read(value: Value) -> Result<SocketDetails> {
        let mut entries = object(value, "socket")?;
        let id = string(take(&mut entries, "id"), "socket id")?;
        let mut h = match take(&mut entries, "handshake") {
            None | Some(Value::Null) => Vec::new(),
            Some(value) => object(value, "handshake")?,
        };
        let text = |v: Option<Value>| match v {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let handshake = Handshake {
            headers: take(&mut h, "headers").unwrap_or(Value::Object(Vec::new())),
            time: text(take(&mut h, "time")),
            address: text(take(&mut h, "address")),
            xdomain: take(&mut h, "xdomain") == Some(Value::Bool(true)),
            secure: take(&mut h, "secure") == Some(Value::Bool(true)),
            issued: take(&mut h, "issued")
                .as_ref()
                .and_then(as_u64)
                .unwrap_or(0),
            url: text(take(&mut h, "url")),
            query: take(&mut h, "query").unwrap_or(Value::Object(Vec::new())),
            auth: take(&mut h, "auth").unwrap_or(Value::Object(Vec::new())),
        };
        Ok(SocketDetails {
            id,
            handshake,
            rooms: strings(take(&mut entries, "rooms"), "socket rooms")?,
            data: take(&mut entries, "data").unwrap_or(Value::Null),
        })
    }
}

impl From<&SocketInfo> for SocketDetails {
    /// What this server sends about one of its sockets.
    fn from(info: &SocketInfo) -> Self {
        let h = &info.handshake;
        SocketDetails {
            id: info.id.to_string(),
            handshake: Handshake {
                headers: Value::from(serde_json::Value::Object(h.headers.clone())),
                time: h.time.clone(),
                address: h.address.clone(),
                xdomain: h.xdomain,
                secure: h.secure,
                issued: h.issued,
                url: h.url.clone(),
                query: Value::from(serde_json::Value::Object(h.query.clone())),
                auth: Value::from(h.auth.clone()),
            },
            rooms: info.rooms.clone(),
            data: info.data.clone(),
        }
    }
}

impl TryFrom<SocketDetails> for SocketInfo {
    type Error = WireError;

    /// A socket of another server; fails when its id is not a Socket.IO socket id (20
    /// characters of `A-Za-z0-9-_`). Headers and query parameters that are not objects are
    /// taken as empty.
    fn try_from(details: SocketDetails) -> Result<SocketInfo> {
        let id = details
            .id
            .parse::<Sid>()
            .map_err(|_| WireError::new("socket id is not a Socket.IO id"))?;
        let json = |v: Value| {
            v.deserialize_into::<serde_json::Value>()
                .unwrap_or_default()
        };
        let map = |v: Value| match json(v) {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        let h = details.handshake;
        Ok(SocketInfo {
            id,
            handshake: HandshakeInfo {
                headers: map(h.headers),
                time: h.time,
                address: h.address,
                xdomain: h.xdomain,
                secure: h.secure,
                issued: h.issued,
                url: h.url,
                query: map(h.query),
                auth: json(h.auth),
            },
            rooms: details.rooms,
            data: details.data,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Classic adapter

/// A broadcast of the classic adapter (and of the emitter): the MessagePack `[uid, packet, opts]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicBroadcast {
    /// The sending server's uid ([`EMITTER_UID`] for the emitter).
    pub uid: String,
    /// The packet, with its `nsp` (Node's receivers take a missing one for `/`).
    pub packet: Packet,
    /// The rooms, exceptions and flags.
    pub opts: BroadcastOpts,
}

impl ClassicBroadcast {
    /// The message, as Node's adapter encodes it.
    pub fn encode(&self) -> Vec<u8> {
        Self::encode_parts(&self.uid, &self.packet, &self.opts)
    }

    /// The message `[uid, packet, opts]`, as Node's adapter encodes it, from borrowed parts.
    pub fn encode_parts(uid: &str, packet: &Packet, opts: &BroadcastOpts) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        write_array_len(&mut out, 3);
        write_str(&mut out, uid);
        packet.out().msgpack(&mut out);
        opts.out().msgpack(&mut out);
        out
    }

    /// The message as `@socket.io/redis-emitter` 5.x encodes it: the same, but `opts` in the
    /// order `{rooms, flags, except}`.
    pub fn encode_as_emitter(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        write_array_len(&mut out, 3);
        write_str(&mut out, &self.uid);
        self.packet.out().msgpack(&mut out);
        Out::Object(vec![
            ("rooms", Out::Strings(&self.opts.rooms)),
            ("flags", Out::Pairs(&self.opts.flags.0)),
            ("except", Out::Strings(&self.opts.except)),
        ])
        .msgpack(&mut out);
        out
    }

    /// Reads a message (from Node's adapter or emitter, whatever the order of the keys).
    pub fn decode(message: &Bytes) -> Result<Self> {
        let Value::Array(items) = decode_msgpack(message)? else {
            return Err(WireError::new("broadcast is not an array"));
        };
        let [uid, packet, opts]: [Value; 3] = items
            .try_into()
            .map_err(|_| WireError::new("broadcast is not an array of 3"))?;
        Ok(ClassicBroadcast {
            uid: string(Some(uid), "broadcast uid")?,
            packet: Packet::read(packet)?,
            opts: BroadcastOpts::read(Some(opts))?,
        })
    }
}

/// The request types of the classic adapter (field `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RequestType {
    /// 0: the ids of the sockets in some rooms (answered by 8.x, no longer sent).
    Sockets = 0,
    /// 1: every room of every server.
    AllRooms = 1,
    /// 2: make sockets join rooms.
    RemoteJoin = 2,
    /// 3: make sockets leave rooms.
    RemoteLeave = 3,
    /// 4: disconnect sockets.
    RemoteDisconnect = 4,
    /// 5: `fetchSockets`.
    RemoteFetch = 5,
    /// 6: `serverSideEmit`, and its answers.
    ServerSideEmit = 6,
    /// 7: a broadcast with acknowledgements.
    Broadcast = 7,
    /// 8: an answer to 7: how many clients a server sent the packet to.
    BroadcastClientCount = 8,
    /// 9: an answer to 7: one client's acknowledgement.
    BroadcastAck = 9,
}

impl RequestType {
    /// The type of code `code`.
    pub fn from_code(code: u64) -> Option<Self> {
        use RequestType::*;
        Some(match code {
            0 => Sockets,
            1 => AllRooms,
            2 => RemoteJoin,
            3 => RemoteLeave,
            4 => RemoteDisconnect,
            5 => RemoteFetch,
            6 => ServerSideEmit,
            7 => Broadcast,
            8 => BroadcastClientCount,
            9 => BroadcastAck,
            _ => return None,
        })
    }
}

/// A request of the classic adapter, on `<key>-request#<nsp>#`.
///
/// `uid` is the requester's; the emitter sends none with join, leave and disconnect. A server
/// receives its own requests too: Node applies its own joins, leaves and disconnects when they
/// come back (it does not apply them before publishing), ignores its own server-side emits by
/// `uid`, and its own other requests by `request_id`.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassicRequest {
    /// 0 (JSON): the ids of the sockets in `rooms` (sent by adapters before 8.0).
    Sockets {
        /// The requester.
        uid: Option<String>,
        /// The request id.
        request_id: String,
        /// The rooms (all sockets when empty).
        rooms: Vec<String>,
    },
    /// 1 (JSON): every room.
    AllRooms {
        /// The requester.
        uid: Option<String>,
        /// The request id.
        request_id: String,
    },
    /// 2 (JSON): the targeted sockets join `rooms`. Not answered.
    RemoteJoin {
        /// The requester (none from the emitter).
        uid: Option<String>,
        /// The targeted sockets.
        opts: Targets,
        /// The rooms to join.
        rooms: Vec<String>,
    },
    /// 3 (JSON): the targeted sockets leave `rooms`. Not answered.
    RemoteLeave {
        /// The requester (none from the emitter).
        uid: Option<String>,
        /// The targeted sockets.
        opts: Targets,
        /// The rooms to leave.
        rooms: Vec<String>,
    },
    /// 4 (JSON): the targeted sockets disconnect (with `close`, their connections close).
    /// Not answered.
    RemoteDisconnect {
        /// The requester (none from the emitter).
        uid: Option<String>,
        /// The targeted sockets.
        opts: Targets,
        /// Whether the underlying connections close too.
        close: bool,
    },
    /// 2 in the form of adapters before 8.0 (JSON `{uid, requestId, type, sid, room}`): socket
    /// `sid` joins `room`; the server that has it answers [`ClassicResponse::Done`].
    RemoteJoinSocket {
        /// The requester.
        uid: Option<String>,
        /// The request id.
        request_id: String,
        /// The socket.
        sid: String,
        /// The room.
        room: String,
    },
    /// 3 in the form of adapters before 8.0: socket `sid` leaves `room`; answered
    /// [`ClassicResponse::Done`].
    RemoteLeaveSocket {
        /// The requester.
        uid: Option<String>,
        /// The request id.
        request_id: String,
        /// The socket.
        sid: String,
        /// The room.
        room: String,
    },
    /// 4 in the form of adapters before 8.0: socket `sid` disconnects; answered
    /// [`ClassicResponse::Done`].
    RemoteDisconnectSocket {
        /// The requester.
        uid: Option<String>,
        /// The request id.
        request_id: String,
        /// The socket.
        sid: String,
        /// Whether its connection closes too.
        close: bool,
    },
    /// 5 (JSON): `fetchSockets`.
    RemoteFetch {
        /// The requester.
        uid: Option<String>,
        /// The request id.
        request_id: String,
        /// The targeted sockets.
        opts: Targets,
    },
    /// 6 (JSON): `serverSideEmit`; with a `request_id`, each server answers with the first
    /// argument of its acknowledgement ([`ClassicResponse::ServerSideEmit`]).
    ServerSideEmit {
        /// The requester ([`EMITTER_UID`] from the emitter).
        uid: Option<String>,
        /// The request id, when acknowledgements are expected.
        request_id: Option<String>,
        /// `[event, ...args]`.
        data: Vec<Value>,
    },
    /// 7 (MessagePack): a broadcast with acknowledgements; each server answers
    /// [`ClassicResponse::BroadcastClientCount`], then [`ClassicResponse::BroadcastAck`] for
    /// each acknowledgement.
    Broadcast {
        /// The requester.
        uid: Option<String>,
        /// The request id.
        request_id: String,
        /// The packet (with `nsp`, without `id`: each server numbers its own).
        packet: Packet,
        /// The rooms, exceptions and flags (`timeout` among them).
        opts: BroadcastOpts,
    },
}

impl ClassicRequest {
    /// The request's type.
    pub fn request_type(&self) -> RequestType {
        match self {
            ClassicRequest::Sockets { .. } => RequestType::Sockets,
            ClassicRequest::AllRooms { .. } => RequestType::AllRooms,
            ClassicRequest::RemoteJoin { .. } | ClassicRequest::RemoteJoinSocket { .. } => {
                RequestType::RemoteJoin
            }
            ClassicRequest::RemoteLeave { .. } | ClassicRequest::RemoteLeaveSocket { .. } => {
                RequestType::RemoteLeave
            }
            ClassicRequest::RemoteDisconnect { .. }
            | ClassicRequest::RemoteDisconnectSocket { .. } => RequestType::RemoteDisconnect,
            ClassicRequest::RemoteFetch { .. } => RequestType::RemoteFetch,
            ClassicRequest::ServerSideEmit { .. } => RequestType::ServerSideEmit,
            ClassicRequest::Broadcast { .. } => RequestType::Broadcast,
        }
    }

    /// The requester's uid, when the request has one.
    pub fn uid(&self) -> Option<&str> {
        match self {
            ClassicRequest::Sockets { uid, .. }
            | ClassicRequest::AllRooms { uid, .. }
            | ClassicRequest::RemoteJoin { uid, .. }
            | ClassicRequest::RemoteLeave { uid, .. }
            | ClassicRequest::RemoteDisconnect { uid, .. }
            | ClassicRequest::RemoteJoinSocket { uid, .. }
            | ClassicRequest::RemoteLeaveSocket { uid, .. }
            | ClassicRequest::RemoteDisconnectSocket { uid, .. }
            | ClassicRequest::RemoteFetch { uid, .. }
            | ClassicRequest::ServerSideEmit { uid, .. }
            | ClassicRequest::Broadcast { uid, .. } => uid.as_deref(),
        }
    }

    /// The request id, when the request has one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ClassicRequest::Sockets { request_id, .. }
            | ClassicRequest::AllRooms { request_id, .. }
            | ClassicRequest::RemoteJoinSocket { request_id, .. }
            | ClassicRequest::RemoteLeaveSocket { request_id, .. }
            | ClassicRequest::RemoteDisconnectSocket { request_id, .. }
            | ClassicRequest::RemoteFetch { request_id, .. }
            | ClassicRequest::Broadcast { request_id, .. } => Some(request_id),
            ClassicRequest::ServerSideEmit { request_id, .. } => request_id.as_deref(),
            ClassicRequest::RemoteJoin { .. }
            | ClassicRequest::RemoteLeave { .. }
            | ClassicRequest::RemoteDisconnect { .. } => None,
        }
    }

    /// The message, as Node's adapter (or, without `uid`, the emitter) writes it: MessagePack
    /// for [`ClassicRequest::Broadcast`], JSON for the others.
    pub fn encode(&self) -> Vec<u8> {
        let code = Out::U64(self.request_type() as u64);
        let mut fields: Vec<(&'static str, Out<'_>)> = Vec::with_capacity(6);
        if let Some(uid) = self.uid() {
            fields.push(("uid", Out::Str(uid)));
        }
        match self {
            ClassicRequest::Sockets {
                request_id, rooms, ..
            } => fields.extend([
                ("requestId", Out::Str(request_id)),
                ("type", code),
                ("rooms", Out::Strings(rooms)),
            ]),
            ClassicRequest::AllRooms { request_id, .. } => {
                fields.extend([("requestId", Out::Str(request_id)), ("type", code)])
            }
            ClassicRequest::RemoteJoin { opts, rooms, .. }
            | ClassicRequest::RemoteLeave { opts, rooms, .. } => fields.extend([
                ("type", code),
                ("opts", opts.out()),
                ("rooms", Out::Strings(rooms)),
            ]),
            ClassicRequest::RemoteDisconnect { opts, close, .. } => fields.extend([
                ("type", code),
                ("opts", opts.out()),
                ("close", Out::Bool(*close)),
            ]),
            ClassicRequest::RemoteJoinSocket {
                request_id,
                sid,
                room,
                ..
            }
            | ClassicRequest::RemoteLeaveSocket {
                request_id,
                sid,
                room,
                ..
            } => fields.extend([
                ("requestId", Out::Str(request_id)),
                ("type", code),
                ("sid", Out::Str(sid)),
                ("room", Out::Str(room)),
            ]),
            ClassicRequest::RemoteDisconnectSocket {
                request_id,
                sid,
                close,
                ..
            } => fields.extend([
                ("requestId", Out::Str(request_id)),
                ("type", code),
                ("sid", Out::Str(sid)),
                ("close", Out::Bool(*close)),
            ]),
            ClassicRequest::RemoteFetch {
                request_id, opts, ..
            } => fields.extend([
                ("requestId", Out::Str(request_id)),
                ("type", code),
                ("opts", opts.out()),
            ]),
            ClassicRequest::ServerSideEmit {
                request_id, data, ..
            } => {
                if let Some(request_id) = request_id {
                    fields.push(("requestId", Out::Str(request_id)));
                }
                fields.extend([("type", code), ("data", Out::Values(data))]);
            }
            ClassicRequest::Broadcast {
                request_id,
                packet,
                opts,
                ..
            } => {
                fields.extend([
                    ("requestId", Out::Str(request_id)),
                    ("type", code),
                    ("packet", packet.out()),
                    ("opts", opts.out()),
                ]);
                let mut out = Vec::with_capacity(64);
                Out::Object(fields).msgpack(&mut out);
                return out;
            }
        }
        Out::Object(fields).json()
    }

    /// Reads a request, JSON or MessagePack. `Ok(None)` for a request of a type this codec does
    /// not know (Node ignores them).
    pub fn decode(message: &Bytes) -> Result<Option<Self>> {
        let mut e = object(decode_any(message)?, "request")?;
        let Some(kind) = take(&mut e, "type")
            .as_ref()
            .and_then(as_u64)
            .and_then(RequestType::from_code)
        else {
            return Ok(None);
        };
        let uid = optional_string(take(&mut e, "uid"), "uid")?;
        let request_id = optional_string(take(&mut e, "requestId"), "requestId")?;
        let required = |id: Option<String>| id.ok_or_else(|| WireError::new("no requestId"));
        let sid = optional_string(take(&mut e, "sid"), "sid")?;
        let has_opts = !matches!(
            e.iter().find(|(k, _)| k == "opts"),
            None | Some((_, Value::Null))
        );
        Ok(Some(match kind {
            RequestType::Sockets => ClassicRequest::Sockets {
                uid,
                request_id: required(request_id)?,
                rooms: strings(take(&mut e, "rooms"), "rooms")?,
            },
            RequestType::AllRooms => ClassicRequest::AllRooms {
                uid,
                request_id: required(request_id)?,
            },
            RequestType::RemoteJoin | RequestType::RemoteLeave if !has_opts => {
                let sid = sid.ok_or_else(|| WireError::new("no opts nor sid"))?;
                let room = room_name(take(&mut e, "room"))?;
                let request_id = required(request_id)?;
                if kind == RequestType::RemoteJoin {
                    ClassicRequest::RemoteJoinSocket {
                        uid,
                        request_id,
                        sid,
                        room,
                    }
                } else {
                    ClassicRequest::RemoteLeaveSocket {
                        uid,
                        request_id,
                        sid,
                        room,
                    }
                }
            }
            RequestType::RemoteJoin => ClassicRequest::RemoteJoin {
                uid,
                opts: Targets::read(take(&mut e, "opts"))?,
                rooms: strings(take(&mut e, "rooms"), "rooms")?,
            },
            RequestType::RemoteLeave => ClassicRequest::RemoteLeave {
                uid,
                opts: Targets::read(take(&mut e, "opts"))?,
                rooms: strings(take(&mut e, "rooms"), "rooms")?,
            },
            RequestType::RemoteDisconnect if !has_opts => ClassicRequest::RemoteDisconnectSocket {
                uid,
                request_id: required(request_id)?,
                sid: sid.ok_or_else(|| WireError::new("no opts nor sid"))?,
                close: truthy(take(&mut e, "close")),
            },
            RequestType::RemoteDisconnect => ClassicRequest::RemoteDisconnect {
                uid,
                opts: Targets::read(take(&mut e, "opts"))?,
                close: truthy(take(&mut e, "close")),
            },
            RequestType::RemoteFetch => ClassicRequest::RemoteFetch {
                uid,
                request_id: required(request_id)?,
                opts: Targets::read(take(&mut e, "opts"))?,
            },
            RequestType::ServerSideEmit => ClassicRequest::ServerSideEmit {
                uid,
                request_id,
                data: array(take(&mut e, "data"), "data")?,
            },
            RequestType::Broadcast => ClassicRequest::Broadcast {
                uid,
                request_id: required(request_id)?,
                packet: Packet::read(take(&mut e, "packet").unwrap_or(Value::Null))?,
                opts: BroadcastOpts::read(take(&mut e, "opts"))?,
            },
            RequestType::BroadcastClientCount | RequestType::BroadcastAck => return Ok(None),
        }))
    }
}

/// An answer of the classic adapter, on `<key>-response#<nsp>#` (or the requester's specific
/// channel).
///
/// Answers to types 0, 1, 5 and the old per-socket forms carry no type: only the requester knows
/// what they answer ([`ClassicResponse::decode`] asks it).
#[derive(Debug, Clone, PartialEq)]
pub enum ClassicResponse {
    /// To [`ClassicRequest::Sockets`] (JSON `{requestId, sockets}`).
    Sockets {
        /// The request id.
        request_id: String,
        /// The socket ids.
        sockets: Vec<String>,
    },
    /// To [`ClassicRequest::AllRooms`] (JSON `{requestId, rooms}`).
    AllRooms {
        /// The request id.
        request_id: String,
        /// The server's rooms (its sockets' ids among them).
        rooms: Vec<String>,
    },
    /// To a per-socket join, leave or disconnect of adapters before 8.0 (JSON `{requestId}`).
    Done {
        /// The request id.
        request_id: String,
    },
    /// To [`ClassicRequest::RemoteFetch`] (JSON `{requestId, sockets}`).
    RemoteFetch {
        /// The request id.
        request_id: String,
        /// The server's matching sockets.
        sockets: Vec<SocketDetails>,
    },
    /// To [`ClassicRequest::ServerSideEmit`] with a request id (JSON `{type: 6, requestId,
    /// data}`), always on the shared response channel.
    ServerSideEmit {
        /// The request id.
        request_id: String,
        /// The first argument of the server's acknowledgement.
        data: Value,
    },
    /// To [`ClassicRequest::Broadcast`] (JSON `{type: 8, requestId, clientCount}`).
    BroadcastClientCount {
        /// The request id.
        request_id: String,
        /// How many of its clients the server sent the packet to.
        client_count: u64,
    },
    /// To [`ClassicRequest::Broadcast`] (MessagePack `{type: 9, requestId, packet}`).
    BroadcastAck {
        /// The request id.
        request_id: String,
        /// The first argument of the client's acknowledgement.
        packet: Value,
    },
}

impl ClassicResponse {
    /// The request id.
    pub fn request_id(&self) -> &str {
        match self {
            ClassicResponse::Sockets { request_id, .. }
            | ClassicResponse::AllRooms { request_id, .. }
            | ClassicResponse::Done { request_id }
            | ClassicResponse::RemoteFetch { request_id, .. }
            | ClassicResponse::ServerSideEmit { request_id, .. }
            | ClassicResponse::BroadcastClientCount { request_id, .. }
            | ClassicResponse::BroadcastAck { request_id, .. } => request_id,
        }
    }

    /// The message, as Node's adapter writes it.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ClassicResponse::Sockets {
                request_id,
                sockets,
            } => Out::Object(vec![
                ("requestId", Out::Str(request_id)),
                ("sockets", Out::Strings(sockets)),
            ])
            .json(),
            ClassicResponse::AllRooms { request_id, rooms } => Out::Object(vec![
                ("requestId", Out::Str(request_id)),
                ("rooms", Out::Strings(rooms)),
            ])
            .json(),
            ClassicResponse::Done { request_id } => {
                Out::Object(vec![("requestId", Out::Str(request_id))]).json()
            }
            ClassicResponse::RemoteFetch {
                request_id,
                sockets,
            } => Out::Object(vec![
                ("requestId", Out::Str(request_id)),
                ("sockets", SocketDetails::out_all(sockets)),
            ])
            .json(),
            ClassicResponse::ServerSideEmit { request_id, data } => Out::Object(vec![
                ("type", Out::U64(RequestType::ServerSideEmit as u64)),
                ("requestId", Out::Str(request_id)),
                ("data", Out::Value(data)),
            ])
            .json(),
            ClassicResponse::BroadcastClientCount {
                request_id,
                client_count,
            } => Out::Object(vec![
                ("type", Out::U64(RequestType::BroadcastClientCount as u64)),
                ("requestId", Out::Str(request_id)),
                ("clientCount", Out::U64(*client_count)),
            ])
            .json(),
            ClassicResponse::BroadcastAck { request_id, packet } => {
                let mut out = Vec::with_capacity(32);
                Out::Object(vec![
                    ("type", Out::U64(RequestType::BroadcastAck as u64)),
                    ("requestId", Out::Str(request_id)),
                    ("packet", Out::Value(packet)),
                ])
                .msgpack(&mut out);
                out
            }
        }
    }

    /// Reads an answer. `pending` gives the type of this server's pending request of an id
    /// (answers to types 0, 1, 5 and the old per-socket forms do not say what they answer);
    /// `Ok(None)` for an answer to no pending request of this server, which Node ignores.
    pub fn decode(
        message: &Bytes,
        pending: impl FnOnce(&str) -> Option<RequestType>,
    ) -> Result<Option<Self>> {
        let mut e = object(decode_any(message)?, "response")?;
        let Some(Value::String(request_id)) = take(&mut e, "requestId") else {
            return Ok(None);
        };
        let code = take(&mut e, "type").as_ref().and_then(as_u64);
        let kind = match code.and_then(RequestType::from_code) {
            Some(
                kind @ (RequestType::ServerSideEmit
                | RequestType::BroadcastClientCount
                | RequestType::BroadcastAck),
            ) => kind,
            _ => match pending(&request_id) {
                Some(kind) => kind,
                None => return Ok(None),
            },
        };
        Ok(Some(match kind {
            // Node counts an answer without `sockets` (or `rooms`) and adds nothing.
            RequestType::Sockets => ClassicResponse::Sockets {
                request_id,
                sockets: strings(take(&mut e, "sockets"), "sockets").unwrap_or_default(),
            },
            RequestType::AllRooms => ClassicResponse::AllRooms {
                request_id,
                rooms: strings(take(&mut e, "rooms"), "rooms").unwrap_or_default(),
            },
            RequestType::RemoteJoin | RequestType::RemoteLeave | RequestType::RemoteDisconnect => {
                ClassicResponse::Done { request_id }
            }
            RequestType::RemoteFetch => ClassicResponse::RemoteFetch {
                request_id,
                sockets: SocketDetails::read_all(take(&mut e, "sockets"))?,
            },
            RequestType::ServerSideEmit => ClassicResponse::ServerSideEmit {
                request_id,
                data: take(&mut e, "data").unwrap_or(Value::Null),
            },
            RequestType::BroadcastClientCount => ClassicResponse::BroadcastClientCount {
                request_id,
                client_count: client_count(take(&mut e, "clientCount"))?,
            },
            RequestType::BroadcastAck => ClassicResponse::BroadcastAck {
                request_id,
                packet: take(&mut e, "packet").unwrap_or(Value::Null),
            },
            RequestType::Broadcast => return Ok(None),
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// Sharded adapter (socket.io-adapter's ClusterAdapter)

/// The message types of socket.io-adapter's `ClusterAdapter` (field `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ClusterMessageType {
    /// 1 (heartbeat adapters only).
    InitialHeartbeat = 1,
    /// 2 (heartbeat adapters only).
    Heartbeat = 2,
    /// 3.
    Broadcast = 3,
    /// 4.
    SocketsJoin = 4,
    /// 5.
    SocketsLeave = 5,
    /// 6.
    DisconnectSockets = 6,
    /// 7.
    FetchSockets = 7,
    /// 8.
    FetchSocketsResponse = 8,
    /// 9.
    ServerSideEmit = 9,
    /// 10.
    ServerSideEmitResponse = 10,
    /// 11.
    BroadcastClientCount = 11,
    /// 12.
    BroadcastAck = 12,
    /// 13 (heartbeat adapters only).
    AdapterClose = 13,
}

/// A message of the sharded adapter: `{type, data, uid, nsp}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterMessage {
    /// The sender's uid.
    pub uid: String,
    /// The namespace.
    pub nsp: String,
    /// The type and its data.
    pub kind: ClusterMessageKind,
}

/// The type of a [`ClusterMessage`] and its data.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterMessageKind {
    /// 1, no data.
    InitialHeartbeat,
    /// 2, no data.
    Heartbeat,
    /// 13, no data.
    AdapterClose,
    /// 3: `{packet, opts}`, or `{packet, requestId, opts}` with acknowledgements.
    Broadcast {
        /// The packet (`{type, data}`: no `nsp`).
        packet: Packet,
        /// The request id, when acknowledgements are expected.
        request_id: Option<String>,
        /// The rooms, exceptions and flags.
        opts: BroadcastOpts,
    },
    /// 4: `{opts, rooms}`.
    SocketsJoin {
        /// The targeted sockets.
        opts: BroadcastOpts,
        /// The rooms to join.
        rooms: Vec<String>,
    },
    /// 5: `{opts, rooms}`.
    SocketsLeave {
        /// The targeted sockets.
        opts: BroadcastOpts,
        /// The rooms to leave.
        rooms: Vec<String>,
    },
    /// 6: `{opts, close}`.
    DisconnectSockets {
        /// The targeted sockets.
        opts: BroadcastOpts,
        /// Whether the connections close too (absent means no).
        close: Option<bool>,
    },
    /// 7: `{opts, requestId}`.
    FetchSockets {
        /// The targeted sockets.
        opts: BroadcastOpts,
        /// The request id.
        request_id: String,
    },
    /// 8: `{requestId, sockets}`.
    FetchSocketsResponse {
        /// The request id.
        request_id: String,
        /// The server's matching sockets.
        sockets: Vec<SocketDetails>,
    },
    /// 9: `{packet}`, or `{requestId, packet}` with acknowledgements.
    ServerSideEmit {
        /// The request id, when acknowledgements are expected.
        request_id: Option<String>,
        /// `[event, ...args]`.
        packet: Vec<Value>,
    },
    /// 10: `{requestId, packet}`.
    ServerSideEmitResponse {
        /// The request id.
        request_id: String,
        /// The first argument of the server's acknowledgement.
        packet: Value,
    },
    /// 11: `{requestId, clientCount}`.
    BroadcastClientCount {
        /// The request id.
        request_id: String,
        /// How many of its clients the server sent the packet to.
        client_count: u64,
    },
    /// 12: `{requestId, packet}`.
    BroadcastAck {
        /// The request id.
        request_id: String,
        /// The first argument of the client's acknowledgement.
        packet: Value,
    },
}

impl ClusterMessage {
    /// The message type.
    pub fn message_type(&self) -> ClusterMessageType {
        use ClusterMessageKind as K;
        use ClusterMessageType as T;
        match &self.kind {
            K::InitialHeartbeat => T::InitialHeartbeat,
            K::Heartbeat => T::Heartbeat,
            K::AdapterClose => T::AdapterClose,
            K::Broadcast { .. } => T::Broadcast,
            K::SocketsJoin { .. } => T::SocketsJoin,
            K::SocketsLeave { .. } => T::SocketsLeave,
            K::DisconnectSockets { .. } => T::DisconnectSockets,
            K::FetchSockets { .. } => T::FetchSockets,
            K::FetchSocketsResponse { .. } => T::FetchSocketsResponse,
            K::ServerSideEmit { .. } => T::ServerSideEmit,
            K::ServerSideEmitResponse { .. } => T::ServerSideEmitResponse,
            K::BroadcastClientCount { .. } => T::BroadcastClientCount,
            K::BroadcastAck { .. } => T::BroadcastAck,
        }
    }

    /// Whether this is an answer (8, 10, 11, 12): it goes to the requester's channel.
    pub fn is_response(&self) -> bool {
        matches!(
            self.kind,
            ClusterMessageKind::FetchSocketsResponse { .. }
                | ClusterMessageKind::ServerSideEmitResponse { .. }
                | ClusterMessageKind::BroadcastClientCount { .. }
                | ClusterMessageKind::BroadcastAck { .. }
        )
    }

    fn data(&self) -> Option<Out<'_>> {
        use ClusterMessageKind as K;
        Some(match &self.kind {
            K::InitialHeartbeat | K::Heartbeat | K::AdapterClose => return None,
            K::Broadcast {
                packet,
                request_id,
                opts,
            } => {
                let mut fields = vec![("packet", packet.out())];
                if let Some(request_id) = request_id {
                    fields.push(("requestId", Out::Str(request_id)));
                }
                fields.push(("opts", opts.out()));
                Out::Object(fields)
            }
            K::SocketsJoin { opts, rooms } | K::SocketsLeave { opts, rooms } => {
                Out::Object(vec![("opts", opts.out()), ("rooms", Out::Strings(rooms))])
            }
            K::DisconnectSockets { opts, close } => {
                let mut fields = vec![("opts", opts.out())];
                if let Some(close) = close {
                    fields.push(("close", Out::Bool(*close)));
                }
                Out::Object(fields)
            }
            K::FetchSockets { opts, request_id } => Out::Object(vec![
                ("opts", opts.out()),
                ("requestId", Out::Str(request_id)),
            ]),
            K::FetchSocketsResponse {
                request_id,
                sockets,
            } => Out::Object(vec![
                ("requestId", Out::Str(request_id)),
                ("sockets", SocketDetails::out_all(sockets)),
            ]),
            K::ServerSideEmit { request_id, packet } => {
                let mut fields = Vec::with_capacity(2);
                if let Some(request_id) = request_id {
                    fields.push(("requestId", Out::Str(request_id)));
                }
                fields.push(("packet", Out::Values(packet)));
                Out::Object(fields)
            }
            K::ServerSideEmitResponse { request_id, packet }
            | K::BroadcastAck { request_id, packet } => Out::Object(vec![
                ("requestId", Out::Str(request_id)),
                ("packet", Out::Value(packet)),
            ]),
            K::BroadcastClientCount {
                request_id,
                client_count,
            } => Out::Object(vec![
                ("requestId", Out::Str(request_id)),
                ("clientCount", Out::U64(*client_count)),
            ]),
        })
    }

    /// Whether the data holds binary, for the types that may (then the message is MessagePack).
    fn has_binary(&self) -> bool {
        use ClusterMessageKind as K;
        match &self.kind {
            K::Broadcast { packet, .. } => has_binary(&packet.data),
            K::FetchSocketsResponse { sockets, .. } => sockets.iter().any(|s| {
                has_binary(&s.data)
                    || has_binary(&s.handshake.auth)
                    || has_binary(&s.handshake.headers)
                    || has_binary(&s.handshake.query)
            }),
            K::ServerSideEmit { packet, .. } => packet.iter().any(has_binary),
            K::ServerSideEmitResponse { packet, .. } | K::BroadcastAck { packet, .. } => {
                has_binary(packet)
            }
            _ => false,
        }
    }

    /// The message, as the sharded adapter writes it: JSON, or MessagePack when it is of a type
    /// that may carry binary (3, 8, 9, 10, 12) and does.
    pub fn encode(&self) -> Vec<u8> {
        let mut fields = vec![("type", Out::U64(self.message_type() as u64))];
        if let Some(data) = self.data() {
            fields.push(("data", data));
        }
        fields.extend([("uid", Out::Str(&self.uid)), ("nsp", Out::Str(&self.nsp))]);
        let message = Out::Object(fields);
        if self.has_binary() {
            let mut out = Vec::with_capacity(64);
            message.msgpack(&mut out);
            out
        } else {
            message.json()
        }
    }

    /// Reads a message, JSON or MessagePack. `Ok(None)` for a type this codec does not know.
    pub fn decode(message: &Bytes) -> Result<Option<Self>> {
        let mut e = object(decode_any(message)?, "message")?;
        let uid = string(take(&mut e, "uid"), "uid")?;
        let nsp = string(take(&mut e, "nsp"), "nsp")?;
        let code = take(&mut e, "type").as_ref().and_then(as_u64);
        Self::from_parts(uid, nsp, code, take(&mut e, "data"))
    }

    /// The whole message as `@msgpack/msgpack` writes it: the form of the streams adapter's
    /// messages over pub/sub (requests that need no stream, and every answer).
    pub fn encode_msgpack_js(&self) -> Vec<u8> {
        let mut fields = vec![("type", Out::U64(self.message_type() as u64))];
        if let Some(data) = self.data() {
            fields.push(("data", data));
        }
        fields.extend([("uid", Out::Str(&self.uid)), ("nsp", Out::Str(&self.nsp))]);
        let mut out = Vec::with_capacity(64);
        Out::Object(fields).msgpack_as(&mut out, Dialect::MsgpackJs);
        out
    }

    /// The `data` field of the message's stream entry, as the streams adapter writes it:
    /// `JSON.stringify(data)`, or, for a type that may carry binary (3, 8, 9, 10, 12) and does,
    /// the base64 of its `@msgpack/msgpack` form. `None` for a type without data.
    pub fn stream_data(&self) -> Option<String> {
        let data = self.data()?;
        Some(if self.has_binary() {
            let mut out = Vec::with_capacity(64);
            data.msgpack_as(&mut out, Dialect::MsgpackJs);
            base64::engine::general_purpose::STANDARD.encode(out)
        } else {
            String::from_utf8(data.json()).expect("JSON is UTF-8")
        })
    }

    /// Reads a stream entry of the streams adapter from its fields `uid`, `nsp`, `type` (a
    /// decimal number) and `data` ([`stream_data`](Self::stream_data): JSON when it starts with
    /// `{`, base64 MessagePack otherwise; absent or empty for none). `Ok(None)` for a type this
    /// codec does not know.
    pub fn from_stream_entry(
        uid: &str,
        nsp: &str,
        kind: &str,
        data: Option<&[u8]>,
    ) -> Result<Option<Self>> {
        // `parseInt(type, 10)`: the leading digits.
        let digits = kind.trim_start();
        let digits = &digits[..digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len())];
        let code = digits.parse::<u64>().ok();
        let data = match data {
            None | Some(b"") => None,
            Some(text) if text.first() == Some(&b'{') => Some(
                serde_json::from_slice(text).map_err(|e| WireError::new(format!("JSON: {e}")))?,
            ),
            Some(text) => {
                let bytes = base64_lenient()
                    .decode(text.trim_ascii())
                    .map_err(|e| WireError::new(format!("base64: {e}")))?;
                Some(decode_msgpack(&Bytes::from(bytes))?)
            }
        };
        Self::from_parts(uid.to_owned(), nsp.to_owned(), code, data)
    }

    /// A message from its parts: `code` its type, `data` its data.
    fn from_parts(
        uid: String,
        nsp: String,
        code: Option<u64>,
        data: Option<Value>,
    ) -> Result<Option<Self>> {
        use ClusterMessageKind as K;
        let mut d = match data {
            None | Some(Value::Null) => Vec::new(),
            Some(data) => object(data, "data")?,
        };
        let request_id = optional_string(take(&mut d, "requestId"), "requestId")?;
        let required = |id: Option<String>| id.ok_or_else(|| WireError::new("no requestId"));
        let kind = match code {
            Some(1) => K::InitialHeartbeat,
            Some(2) => K::Heartbeat,
            Some(13) => K::AdapterClose,
            Some(3) => K::Broadcast {
                packet: Packet::read(take(&mut d, "packet").unwrap_or(Value::Null))?,
                request_id,
                opts: BroadcastOpts::read(take(&mut d, "opts"))?,
            },
            Some(4) => K::SocketsJoin {
                opts: BroadcastOpts::read(take(&mut d, "opts"))?,
                rooms: strings(take(&mut d, "rooms"), "rooms")?,
            },
            Some(5) => K::SocketsLeave {
                opts: BroadcastOpts::read(take(&mut d, "opts"))?,
                rooms: strings(take(&mut d, "rooms"), "rooms")?,
            },
            Some(6) => K::DisconnectSockets {
                opts: BroadcastOpts::read(take(&mut d, "opts"))?,
                close: match take(&mut d, "close") {
                    None | Some(Value::Null) => None,
                    close => Some(truthy(close)),
                },
            },
            Some(7) => K::FetchSockets {
                opts: BroadcastOpts::read(take(&mut d, "opts"))?,
                request_id: required(request_id)?,
            },
            Some(8) => K::FetchSocketsResponse {
                request_id: required(request_id)?,
                sockets: SocketDetails::read_all(take(&mut d, "sockets"))?,
            },
            Some(9) => K::ServerSideEmit {
                request_id,
                packet: array(take(&mut d, "packet"), "packet")?,
            },
            Some(10) => K::ServerSideEmitResponse {
                request_id: required(request_id)?,
                packet: take(&mut d, "packet").unwrap_or(Value::Null),
            },
            Some(11) => K::BroadcastClientCount {
                request_id: required(request_id)?,
                client_count: client_count(take(&mut d, "clientCount"))?,
            },
            Some(12) => K::BroadcastAck {
                request_id: required(request_id)?,
                packet: take(&mut d, "packet").unwrap_or(Value::Null),
            },
            _ => return Ok(None),
        };
        Ok(Some(ClusterMessage { uid, nsp, kind }))
    }
}

/// Whether `value` holds binary anywhere.
///
/// ```
/// use tower_socketio::adapter::redis::wire::*;
/// use bytes::Bytes;
/// use tower_socketio::Value;
/// let nested = Value::Array(vec![Value::from("a"), Value::Binary(Bytes::from_static(&[1]))]);
/// assert!(has_binary(&nested));
/// assert!(!has_binary(&Value::from("a")));
/// ```
pub fn has_binary(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Array(items) => items.iter().any(has_binary),
        Value::Object(entries) => entries.iter().any(|(_, v)| has_binary(v)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Streams adapter (`@socket.io/redis-streams-adapter` 0.3)

/// The id of a stream entry, `<milliseconds>-<sequence>`: the offset of connection state
/// recovery with the streams adapter. Ordered as Redis orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// The milliseconds part (the Redis server's clock when the entry was added).
    pub ms: u64,
    /// The sequence number within that millisecond.
    pub seq: u64,
}

impl StreamId {
    /// Reads `<digits>-<digits>` (Node's check: `/^[0-9]+-[0-9]+$/`); `None` for anything
    /// else, numbers past 64 bits included.
    pub fn parse(text: &str) -> Option<StreamId> {
        let (ms, seq) = text.split_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(seq) {
            return None;
        }
        Some(StreamId {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }

    /// The smallest id after this one (Node's `nextOffset`, for an exclusive `XRANGE` start).
    pub fn next(self) -> StreamId {
        match self.seq.checked_add(1) {
            Some(seq) => StreamId { ms: self.ms, seq },
            None => StreamId {
                ms: self.ms.saturating_add(1),
                seq: 0,
            },
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A session of connection state recovery as the streams adapter keeps it in Redis (under
/// `<sessionKeyPrefix><pid>`): the base64 of the `@msgpack/msgpack` map `{sid, pid, rooms,
/// data}`. This crate adds `offset`, the stream position the socket was up to when it
/// connected, for a client that comes back without an offset (Node reads the map and ignores
/// the key).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    /// The socket id.
    pub sid: String,
    /// The private id.
    pub pid: String,
    /// The socket's rooms (its own id among them).
    pub rooms: Vec<String>,
    /// `socket.data`.
    pub data: Value,
    /// This crate's addition: the stream position at the socket's connection.
    pub offset: Option<String>,
}

impl StoredSession {
    /// The value of the session's key.
    pub fn encode(&self) -> String {
        let mut fields = vec![
            ("sid", Out::Str(&self.sid)),
            ("pid", Out::Str(&self.pid)),
            ("rooms", Out::Strings(&self.rooms)),
            ("data", Out::Value(&self.data)),
        ];
        if let Some(offset) = &self.offset {
            fields.push(("offset", Out::Str(offset)));
        }
        let mut out = Vec::with_capacity(64);
        Out::Object(fields).msgpack_as(&mut out, Dialect::MsgpackJs);
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    /// Reads the value of a session's key (Node's or this crate's).
    pub fn decode(text: &[u8]) -> Result<StoredSession> {
        let bytes = base64_lenient()
            .decode(text.trim_ascii())
            .map_err(|e| WireError::new(format!("base64: {e}")))?;
        let mut e = object(decode_msgpack(&Bytes::from(bytes))?, "session")?;
        Ok(StoredSession {
            sid: string(take(&mut e, "sid"), "session sid")?,
            pid: string(take(&mut e, "pid"), "session pid")?,
            rooms: strings(take(&mut e, "rooms"), "session rooms")?,
            data: take(&mut e, "data").unwrap_or(Value::Null),
            offset: optional_string(take(&mut e, "offset"), "session offset").unwrap_or(None),
        })
    }
}

/// Base64 as Node's `Buffer.from(text, "base64")` reads it: padding or not.
fn base64_lenient() -> base64::engine::GeneralPurpose {
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    )
}

// ---------------------------------------------------------------------------------------------
// Reading decoded values

fn decode_any(message: &Bytes) -> Result<Value> {
    if is_json(message) {
        serde_json::from_slice(message).map_err(|e| WireError::new(format!("JSON: {e}")))
    } else {
        decode_msgpack(message)
    }
}

fn object(value: Value, what: &'static str) -> Result<Vec<(String, Value)>> {
    match value {
        Value::Object(entries) => Ok(entries),
        _ => Err(WireError::new(format!("{what} is not an object"))),
    }
}

/// Moves the value of `key` out of `entries`.
fn take(entries: &mut Vec<(String, Value)>, key: &str) -> Option<Value> {
    let at = entries.iter().position(|(k, _)| k == key)?;
    Some(entries.swap_remove(at).1)
}

fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 18_446_744_073_709_551_616.0)
                .map(|f| f as u64)
        }),
        _ => None,
    }
}

/// JavaScript truthiness of a flag-like field.
fn truthy(value: Option<Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

fn string(value: Option<Value>, what: &'static str) -> Result<String> {
    match value {
        Some(Value::String(s)) => Ok(s),
        _ => Err(WireError::new(format!("{what} is not a string"))),
    }
}

fn optional_string(value: Option<Value>, what: &'static str) -> Result<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(WireError::new(format!("{what} is not a string"))),
    }
}

/// A room name: a string, or a number (Node's rooms may be numbers, which a server compares to
/// its rooms both ways).
fn room_name(value: Option<Value>) -> Result<String> {
    match value {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(WireError::new("room is not a string")),
    }
}

/// A list of room names (absent: empty).
fn strings(value: Option<Value>, what: &'static str) -> Result<Vec<String>> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.into_iter().map(|v| room_name(Some(v))).collect(),
        Some(_) => Err(WireError::new(format!("{what} is not an array"))),
    }
}

fn client_count(value: Option<Value>) -> Result<u64> {
    value
        .as_ref()
        .and_then(as_u64)
        .ok_or_else(|| WireError::new("no clientCount"))
}

fn array(value: Option<Value>, what: &'static str) -> Result<Vec<Value>> {
    match value {
        Some(Value::Array(items)) => Ok(items),
        _ => Err(WireError::new(format!("{what} is not an array"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing: one borrowed tree, written as JSON (JSON.stringify) or MessagePack (notepack.io)

/// What a message is made of, borrowed from it: written without copying its values.
enum Out<'a> {
    Bool(bool),
    U64(u64),
    Str(&'a str),
    Strings(&'a [String]),
    Value(&'a Value),
    Values(&'a [Value]),
    Pairs(&'a [(String, Value)]),
    Array(Vec<Out<'a>>),
    Object(Vec<(&'static str, Out<'a>)>),
}

impl Out<'_> {
    /// As notepack.io writes it.
    fn msgpack(&self, out: &mut Vec<u8>) {
        self.msgpack_as(out, Dialect::Notepack);
    }

    fn msgpack_as(&self, out: &mut Vec<u8>, dialect: Dialect) {
        match self {
            Out::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
            Out::U64(n) => write_unsigned(out, *n, dialect),
            Out::Str(s) => write_str(out, s),
            Out::Strings(items) => {
                write_array_len(out, items.len());
                for item in *items {
                    write_str(out, item);
                }
            }
            Out::Value(v) => encode_msgpack_as(out, v, dialect),
            Out::Values(items) => {
                write_array_len(out, items.len());
                for item in *items {
                    encode_msgpack_as(out, item, dialect);
                }
            }
            Out::Pairs(entries) => {
                write_map_len(out, entries.len());
                for (k, v) in *entries {
                    write_str(out, k);
                    encode_msgpack_as(out, v, dialect);
                }
            }
            Out::Array(items) => {
                write_array_len(out, items.len());
                for item in items {
                    item.msgpack_as(out, dialect);
                }
            }
            Out::Object(fields) => {
                write_map_len(out, fields.len());
                for (k, v) in fields {
                    write_str(out, k);
                    v.msgpack_as(out, dialect);
                }
            }
        }
    }

    fn json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("writing JSON into memory")
    }
}

impl Serialize for Out<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Out::Bool(b) => s.serialize_bool(*b),
            Out::U64(n) => s.serialize_u64(*n),
            Out::Str(v) => s.serialize_str(v),
            Out::Strings(items) => items.serialize(s),
            Out::Value(v) => Json(v).serialize(s),
            Out::Values(items) => s.collect_seq(items.iter().map(Json)),
            Out::Pairs(entries) => s.collect_map(entries.iter().map(|(k, v)| (k, Json(v)))),
            Out::Array(items) => s.collect_seq(items),
            Out::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// A value as `JSON.stringify` writes it in Node: a `Buffer` is `{"type":"Buffer","data":[...]}`.
struct Json<'a>(&'a Value);

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Value::Binary(bytes) => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("type", "Buffer")?;
                map.serialize_entry("data", &ByteList(bytes))?;
                map.end()
            }
            Value::Array(items) => s.collect_seq(items.iter().map(Json)),
            Value::Object(entries) => s.collect_map(entries.iter().map(|(k, v)| (k, Json(v)))),
            other => other.serialize(s),
        }
    }
}

struct ByteList<'a>(&'a [u8]);

impl Serialize for ByteList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for b in self.0 {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
}

// ---------------------------------------------------------------------------------------------
// MessagePack, notepack.io 3 dialect: the codec of `Value`s, shared with the MessagePack parser

pub use crate::value::msgpack::{Dialect, encode_msgpack, encode_msgpack_as};
use crate::value::msgpack::{write_array_len, write_map_len, write_str, write_unsigned};

/// Reads one MessagePack value, the whole of `input`, as notepack.io 3 reads it (see
/// [`encode_msgpack`] for the forms): binary as [`Value::Binary`] sharing `input`'s buffer,
/// timestamps and notepack.io 2's dates as ISO 8601 strings, `undefined` left out of objects.
///
/// ```
/// use bytes::Bytes;
/// use tower_socketio::Value;
/// use tower_socketio::adapter::redis::wire::decode_msgpack;
///
/// let value = decode_msgpack(&Bytes::from_static(&[0x92, 0xa2, b'h', b'i', 0xc3])).unwrap();
/// assert_eq!(value, Value::Array(vec![Value::from("hi"), Value::Bool(true)]));
/// assert!(decode_msgpack(&Bytes::from_static(&[0xc3, 0xc3])).is_err());
/// ```
pub fn decode_msgpack(input: &Bytes) -> Result<Value> {
    crate::value::msgpack::decode(input).map_err(|e| WireError::new(e.0))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::value::msgpack::{MAX_DEPTH, iso_date};

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    /// A capture of `tests/js/redis/capture.mjs`: its `meta` lines and its messages in order.
    struct Fixture {
        name: String,
        meta: HashMap<String, String>,
        messages: Vec<(String, Bytes)>,
    }

    impl Fixture {
        fn meta(&self, key: &str) -> &str {
            self.meta
                .get(key)
                .unwrap_or_else(|| panic!("{}: no meta {key}", self.name))
        }

        /// The only message on `channel`... the `n`th message.
        fn message(&self, n: usize) -> (&str, &Bytes) {
            let (channel, bytes) = self
                .messages
                .get(n)
                .unwrap_or_else(|| panic!("{}: no message {n}", self.name));
            (channel, bytes)
        }
    }

    fn dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redis")
    }

    fn fixture(name: &str) -> Fixture {
        let text = std::fs::read_to_string(dir().join(format!("{name}.txt")))
            .unwrap_or_else(|e| panic!("fixture {name}: {e}"));
        let mut fixture = Fixture {
            name: name.to_owned(),
            meta: HashMap::new(),
            messages: Vec::new(),
        };
        let mut channel = None;
        for line in text.lines() {
            let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
            match tag {
                "meta" => {
                    let (k, v) = rest.split_once(' ').unwrap_or((rest, ""));
                    fixture.meta.insert(k.to_owned(), v.to_owned());
                }
                "channel" => channel = Some(rest.to_owned()),
                "hex" => {
                    let bytes = (0..rest.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&rest[i..i + 2], 16).unwrap())
                        .collect::<Vec<u8>>();
                    let channel = channel.take().expect("channel before hex");
                    fixture.messages.push((channel, Bytes::from(bytes)));
                }
                _ => {}
            }
        }
        fixture
    }

    /// Every fixture of a flavour (`classic`, `sharded`...).
    fn all(flavour: &str) -> Vec<Fixture> {
        let mut names: Vec<String> = std::fs::read_dir(dir().join(flavour))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter_map(|n| n.strip_suffix(".txt").map(str::to_owned))
            .collect();
        names.sort();
        names
            .iter()
            .map(|n| fixture(&format!("{flavour}/{n}")))
            .collect()
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn strs(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn bin(bytes: &[u8]) -> Value {
        Value::Binary(Bytes::copy_from_slice(bytes))
    }

    // ---- classic

    /// Every classic message Node published, read and written again byte for byte (but the
    /// broadcast with Dates, NaN and -0, whose decoding is lossy by design): broadcasts on the
    /// broadcast channels, requests on the request channel, answers on the response channels.
    #[test]
    fn classic_captures_round_trip_byte_for_byte() {
        for flavour in ["classic", "classic-specific", "emitter"] {
            for f in all(flavour) {
                let channels = ClassicChannels::new(DEFAULT_KEY, "/", f.meta("uidA"));
                let admin = ClassicChannels::new(DEFAULT_KEY, "/admin", f.meta("uidA"));
                let mut pending = HashMap::new();
                for (channel, bytes) in &f.messages {
                    let kind = match channels.classify(channel.as_bytes()) {
                        ClassicChannel::Other => admin.classify(channel.as_bytes()),
                        kind => kind,
                    };
                    match kind {
                        ClassicChannel::Broadcast { room } => {
                            let decoded = ClassicBroadcast::decode(bytes)
                                .unwrap_or_else(|e| panic!("{}: {e}", f.name));
                            let nsp = decoded.packet.nsp.clone().unwrap();
                            let expected = ClassicChannels::new(DEFAULT_KEY, &nsp, "x");
                            assert_eq!(
                                expected.for_broadcast(&decoded.opts.rooms),
                                channel.as_str(),
                                "{}",
                                f.name
                            );
                            if decoded.opts.rooms.len() == 1 {
                                assert_eq!(room, decoded.opts.rooms[0].as_bytes());
                            }
                            if f.name.ends_with("broadcast-values") {
                                continue;
                            }
                            if flavour == "emitter" {
                                // the emitter writes {rooms, flags, except}; the adapter
                                // {rooms, except, flags}
                                assert_eq!(
                                    &decoded.encode_as_emitter()[..],
                                    &bytes[..],
                                    "{}",
                                    f.name
                                );
                                let again = ClassicBroadcast::decode(&decoded.encode().into());
                                assert_eq!(again.unwrap(), decoded, "{}", f.name);
                            } else {
                                assert_eq!(&decoded.encode()[..], &bytes[..], "{}", f.name);
                            }
                        }
                        ClassicChannel::Request => {
                            let decoded = ClassicRequest::decode(bytes)
                                .unwrap_or_else(|e| panic!("{}: {e}", f.name))
                                .unwrap_or_else(|| panic!("{}: unknown request", f.name));
                            assert_eq!(&decoded.encode()[..], &bytes[..], "{}", f.name);
                            if let Some(id) = decoded.request_id() {
                                pending.insert(id.to_owned(), decoded.request_type());
                            }
                        }
                        ClassicChannel::Response => {
                            let decoded =
                                ClassicResponse::decode(bytes, |id| pending.get(id).copied())
                                    .unwrap_or_else(|e| panic!("{}: {e}", f.name))
                                    .unwrap_or_else(|| panic!("{}: unknown answer", f.name));
                            assert_eq!(&decoded.encode()[..], &bytes[..], "{}", f.name);
                            let specific = flavour == "classic-specific"
                                && !matches!(decoded, ClassicResponse::ServerSideEmit { .. });
                            assert_eq!(
                                channels.for_response(f.meta("uidA"), specific),
                                channel.as_str(),
                                "{}: answers to server-side emits always go to the shared \
                                 channel, the others to the requester's with the option",
                                f.name
                            );
                        }
                        ClassicChannel::Other => panic!("{}: channel {channel}", f.name),
                    }
                }
            }
        }
    }

    #[test]
    fn classic_broadcasts_decode_to_what_node_sent() {
        let f = fixture("classic/broadcast-room");
        let (channel, bytes) = f.message(0);
        assert_eq!(channel, "socket.io#/#room1#");
        let b = ClassicBroadcast::decode(bytes).unwrap();
        assert_eq!(b.uid, f.meta("uidA"));
        assert_eq!(
            b.packet,
            Packet::event(
                Some("/"),
                "hello",
                [1.into(), "two".into(), json(r#"{"three":[3]}"#)]
            )
        );
        assert_eq!(
            b.opts,
            BroadcastOpts {
                rooms: strs(&["room1"]),
                except: vec![],
                flags: Flags::default()
            }
        );
        // the example of the fact sheet, built and encoded: byte for byte what Node sent
        let built = ClassicBroadcast {
            uid: f.meta("uidA").to_owned(),
            packet: b.packet.clone(),
            opts: b.opts.clone(),
        };
        assert_eq!(&built.encode()[..], &bytes[..]);

        let f = fixture("classic/broadcast-rooms-except");
        let b = ClassicBroadcast::decode(f.message(0).1).unwrap();
        assert_eq!(f.message(0).0, "socket.io#/#");
        assert_eq!(b.opts.rooms, strs(&["room1", "room2"]));
        assert_eq!(b.opts.except, strs(&["room3"]));

        let f = fixture("classic/broadcast-flags");
        let b = ClassicBroadcast::decode(f.message(0).1).unwrap();
        assert_eq!(
            b.opts.flags,
            Flags::default()
                .with("volatile", true)
                .with("compress", false)
        );
        assert!(b.opts.flags.volatile() && !b.opts.flags.local());
        assert_eq!(b.opts.flags.compress(), Some(false));

        assert!(fixture("classic/broadcast-local").messages.is_empty());

        let f = fixture("classic/broadcast-from-socket");
        for (n, channel) in [(0, "socket.io#/#"), (1, "socket.io#/#room1#")] {
            assert_eq!(f.message(n).0, channel);
            let b = ClassicBroadcast::decode(f.message(n).1).unwrap();
            assert_eq!(b.opts.except, vec![f.meta("sidA1").to_owned()]);
        }

        let f = fixture("classic/namespace");
        assert_eq!(f.message(0).0, "socket.io#/admin#");
        assert_eq!(f.message(1).0, "socket.io#/admin#r#");
        let b = ClassicBroadcast::decode(f.message(0).1).unwrap();
        assert_eq!(b.packet.nsp.as_deref(), Some("/admin"));
        let channels = ClassicChannels::new(DEFAULT_KEY, "/", "x");
        assert_eq!(
            channels.classify(b"socket.io#/admin#"),
            ClassicChannel::Other
        );
    }

    #[test]
    fn binary_stays_in_place_as_bin() {
        let f = fixture("classic/broadcast-binary");
        let b = ClassicBroadcast::decode(f.message(0).1).unwrap();
        let expected = Value::Array(vec![
            "bin".into(),
            bin(&[1, 2, 3]),
            Value::Object(vec![
                ("nested".into(), bin(&[4, 5])),
                ("list".into(), Value::Array(vec![bin(&[7; 300])])),
            ]),
            bin(&[0, 0]),
        ]);
        assert_eq!(b.packet.data, expected);
        assert_eq!(&b.encode()[..], &f.message(0).1[..]);
        // the crate's text packet for it: a BINARY_EVENT with 4 attachments
        let encoded = b.packet.to_encoded("/", Parser::Default).unwrap();
        assert_eq!(
            encoded.text(),
            r#"454-["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1},"list":[{"_placeholder":true,"num":2}]},{"_placeholder":true,"num":3}]"#
        );
        assert_eq!(encoded.attachments.len(), 4);
        assert_eq!(&encoded.attachments[2][..], &[7; 300][..]);
        assert_eq!(Packet::from_encoded(&encoded).unwrap(), b.packet);
    }

    #[test]
    fn notepack_values_decode_as_node_would_send_them_to_its_clients() {
        let f = fixture("classic/broadcast-values");
        let message = f.message(0).1;
        let b = ClassicBroadcast::decode(message).unwrap();
        let Value::Array(args) = &b.packet.data else {
            panic!("not an array")
        };
        assert_eq!(args[0], Value::from("values"));
        assert_eq!(
            args[1],
            json("[0,127,128,255,256,65535,65536,4294967295,4294967296,9007199254740992]")
        );
        assert_eq!(
            args[2],
            json("[-1,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649,-9007199254740992]")
        );
        // NaN is null in JSON; -0 is 0 in notepack; and notepack writes an integral number past
        // 2^64 as a uint 64 of its low bits (1.5e300 arrives as 0, at Node's servers too)
        assert_eq!(args[3], json("[0.5,-1.25,1e-7,0,null,0]"));
        let texts = [
            "",
            &"a".repeat(31),
            &"b".repeat(32),
            &"c".repeat(255),
            &"d".repeat(256),
            "é€😀",
        ];
        assert_eq!(
            args[4],
            Value::Array(texts.iter().map(|s| Value::from(*s)).collect())
        );
        // undefined: null in an array, left out of an object
        assert_eq!(args[5], json("[1,null,2,null]"));
        assert_eq!(args[6], json(r#"{"b":1,"c":null}"#));
        // Dates: what JSON.stringify writes (timestamp 32, then 64 for milliseconds)
        assert_eq!(
            args[7],
            json(
                r#"["1970-01-01T00:00:00.000Z","2023-11-14T22:13:20.123Z","2023-11-14T22:13:20.000Z"]"#
            )
        );
        assert_eq!(args[8], Value::Array((0..16).map(Value::from).collect()));
        assert_eq!(
            args[9],
            Value::Object((0..16).map(|i| (format!("k{i}"), Value::from(i))).collect())
        );
        assert_eq!(args[10..], [Value::Bool(true), Value::Bool(false)]);
        // our encoding of each part is notepack's, byte for byte
        let contains = |part: &Value| {
            let mut out = Vec::new();
            encode_msgpack(&mut out, part);
            message.windows(out.len()).any(|w| w == out.as_slice())
        };
        for n in [1, 2, 4, 5, 6, 8, 9] {
            assert!(contains(&args[n]), "argument {n}");
        }
        for float in [0.5, -1.25, 1e-7] {
            assert!(contains(&Value::Number(
                serde_json::Number::from_f64(float).unwrap()
            )));
        }
    }

    #[test]
    fn classic_requests_and_answers() {
        let f = fixture("classic/fetch-sockets-rooms");
        let request = ClassicRequest::decode(f.message(0).1).unwrap().unwrap();
        let ClassicRequest::RemoteFetch {
            uid,
            request_id,
            opts,
        } = &request
        else {
            panic!("{request:?}")
        };
        assert_eq!(uid.as_deref(), Some(f.meta("uidA")));
        assert_eq!(request_id.len(), 6);
        assert_eq!(
            opts,
            &Targets {
                rooms: strs(&["room1"]),
                except: strs(&["room3"])
            }
        );
        // an answer without a type: only the requester knows what it answers
        let bytes = f.message(1).1;
        assert_eq!(ClassicResponse::decode(bytes, |_| None).unwrap(), None);
        let answer = ClassicResponse::decode(bytes, |id| {
            (id == request_id).then_some(RequestType::RemoteFetch)
        })
        .unwrap()
        .unwrap();
        let ClassicResponse::RemoteFetch { sockets, .. } = &answer else {
            panic!("{answer:?}")
        };
        // b1 is in room1 and room3: only a1 (on A) matches, so B answers nothing
        assert!(sockets.is_empty());

        let f = fixture("classic/fetch-sockets");
        let answer = ClassicResponse::decode(f.message(1).1, |_| Some(RequestType::RemoteFetch))
            .unwrap()
            .unwrap();
        let ClassicResponse::RemoteFetch { sockets, .. } = answer else {
            panic!()
        };
        let mut ids: Vec<&str> = sockets.iter().map(|s| s.id.as_str()).collect();
        ids.sort();
        let mut expected = vec![f.meta("sidB1"), f.meta("sidB2")];
        expected.sort();
        assert_eq!(ids, expected);
        let b1 = sockets.iter().find(|s| s.id == f.meta("sidB1")).unwrap();
        assert_eq!(b1.rooms, strs(&[f.meta("sidB1"), "room1", "room3"]));
        assert_eq!(b1.data, json(r#"{"name":"b1","server":"B"}"#));
        let h = &b1.handshake;
        assert_eq!(h.address, "127.0.0.1");
        assert!(!h.xdomain && !h.secure);
        assert!(h.url.starts_with("/socket.io/?EIO=4&transport=websocket"));
        assert!(h.time.contains(" GMT"), "{}", h.time);
        assert!(h.issued > 1_600_000_000_000);
        assert_eq!(h.auth, json(r#"{"name":"b1","rooms":["room1","room3"]}"#));
        assert_eq!(h.query.get("EIO"), Some(&Value::from("4")));
        // the adapter's SocketInfo, and back
        let info = SocketInfo::try_from(b1.clone()).unwrap();
        assert_eq!(info.id.as_str(), f.meta("sidB1"));
        assert_eq!(info.handshake.headers["connection"], "Upgrade");
        assert_eq!(info.handshake.query["EIO"], "4");
        assert_eq!(info.handshake.auth["name"], "b1");
        assert_eq!(info.data, b1.data);
        let back = SocketDetails::from(&info);
        assert_eq!(
            (&back.id, &back.rooms, &back.data),
            (&b1.id, &b1.rooms, &b1.data)
        );
        assert_eq!(
            back.handshake.headers.get("host"),
            b1.handshake.headers.get("host")
        );
        let mut odd = b1.clone();
        odd.id = "not a sid".into();
        assert!(SocketInfo::try_from(odd).is_err());

        let f = fixture("classic/sockets-join");
        assert_eq!(
            ClassicRequest::decode(f.message(0).1).unwrap().unwrap(),
            ClassicRequest::RemoteJoin {
                uid: Some(f.meta("uidA").to_owned()),
                opts: Targets {
                    rooms: strs(&["room1"]),
                    except: vec![]
                },
                rooms: strs(&["room4", "room5"]),
            }
        );
        let f = fixture("classic/disconnect-sockets");
        assert_eq!(
            ClassicRequest::decode(f.message(0).1).unwrap().unwrap(),
            ClassicRequest::RemoteDisconnect {
                uid: Some(f.meta("uidA").to_owned()),
                opts: Targets {
                    rooms: strs(&["nobody"]),
                    except: strs(&["room1"])
                },
                close: true,
            }
        );

        let f = fixture("classic/server-side-emit-ack");
        let request = ClassicRequest::decode(f.message(0).1).unwrap().unwrap();
        assert_eq!(
            request,
            ClassicRequest::ServerSideEmit {
                uid: Some(f.meta("uidA").to_owned()),
                request_id: request.request_id().map(str::to_owned),
                data: vec!["question".into(), "q1".into()],
            }
        );
        assert!(request.request_id().is_some());
        let answer = ClassicResponse::decode(f.message(1).1, |_| None)
            .unwrap()
            .unwrap();
        assert_eq!(
            answer,
            ClassicResponse::ServerSideEmit {
                request_id: request.request_id().unwrap().to_owned(),
                data: "answer from B to q1".into()
            }
        );
        let f = fixture("classic/server-side-emit");
        let ClassicRequest::ServerSideEmit { request_id, .. } =
            ClassicRequest::decode(f.message(0).1).unwrap().unwrap()
        else {
            panic!()
        };
        assert_eq!(request_id, None);
    }

    #[test]
    fn classic_broadcast_with_acknowledgements() {
        let f = fixture("classic/broadcast-ack");
        let (channel, bytes) = f.message(0);
        assert_eq!(channel, "socket.io-request#/#");
        assert!(!is_json(bytes), "type 7 is MessagePack");
        let request = ClassicRequest::decode(bytes).unwrap().unwrap();
        let ClassicRequest::Broadcast {
            uid,
            request_id,
            packet,
            opts,
        } = &request
        else {
            panic!("{request:?}")
        };
        assert_eq!(uid.as_deref(), Some(f.meta("uidA")));
        assert_eq!(
            packet,
            &Packet::event(Some("/"), "ack-me", ["payload".into()])
        );
        assert_eq!(opts.flags.timeout(), Some(2000));
        let count = ClassicResponse::decode(f.message(1).1, |_| None)
            .unwrap()
            .unwrap();
        assert_eq!(
            count,
            ClassicResponse::BroadcastClientCount {
                request_id: request_id.clone(),
                client_count: 2
            }
        );
        for n in [2, 3] {
            assert!(!is_json(f.message(n).1), "type 9 is MessagePack");
            let ClassicResponse::BroadcastAck { packet, .. } =
                ClassicResponse::decode(f.message(n).1, |_| None)
                    .unwrap()
                    .unwrap()
            else {
                panic!()
            };
            assert_eq!(packet.get("got"), Some(&Value::from("payload")));
        }

        let f = fixture("classic/remote-socket-emit-ack");
        let ClassicRequest::Broadcast { opts, .. } =
            ClassicRequest::decode(f.message(0).1).unwrap().unwrap()
        else {
            panic!()
        };
        assert_eq!(opts.rooms, vec![f.meta("sidB1").to_owned()]);
        assert!(opts.flags.expect_single_response());
        assert_eq!(
            opts.flags,
            Flags::default()
                .with("expectSingleResponse", true)
                .with("timeout", 2000)
        );

        let f = fixture("classic/remote-socket-emit");
        assert_eq!(f.message(0).0, format!("socket.io#/#{}#", f.meta("sidB1")));
    }

    #[test]
    fn classic_all_rooms_and_server_count() {
        let f = fixture("classic/all-rooms");
        let request = ClassicRequest::decode(f.message(0).1).unwrap().unwrap();
        assert_eq!(request.request_type(), RequestType::AllRooms);
        let answer = ClassicResponse::decode(f.message(1).1, |_| Some(RequestType::AllRooms))
            .unwrap()
            .unwrap();
        let ClassicResponse::AllRooms { rooms, .. } = answer else {
            panic!()
        };
        assert!(rooms.contains(&"room1".to_owned()));
        assert!(rooms.contains(&f.meta("sidB1").to_owned()));

        let f = fixture("classic/server-count");
        assert!(f.messages.is_empty());
        let channels = ClassicChannels::new(DEFAULT_KEY, "/", "x");
        assert_eq!(
            channels.server_count_command(),
            ["PUBSUB", "NUMSUB", "socket.io-request#/#"]
        );
        assert_eq!(f.meta("numsub"), r#"["socket.io-request#/#",2]"#);
    }

    #[test]
    fn emitter_messages() {
        let f = fixture("emitter/emit-flags");
        let (channel, bytes) = f.message(0);
        assert_eq!(channel, "socket.io#/#");
        let b = ClassicBroadcast::decode(bytes).unwrap();
        assert_eq!(b.uid, EMITTER_UID);
        assert_eq!(b.packet, Packet::event(Some("/"), "flags", [1.into()]));
        assert_eq!(
            b.opts,
            BroadcastOpts {
                rooms: strs(&["room1", "room2"]),
                except: strs(&["room3"]),
                flags: Flags::default()
                    .with("volatile", true)
                    .with("compress", false),
            }
        );
        let f = fixture("emitter/emit-room-binary");
        assert_eq!(f.message(0).0, "socket.io#/#room1#");
        let b = ClassicBroadcast::decode(f.message(0).1).unwrap();
        assert_eq!(
            b.packet.data,
            Value::Array(vec!["bin".into(), bin(&[1, 2])])
        );
        let f = fixture("emitter/emit-namespace");
        assert_eq!(f.message(0).0, "socket.io#/admin#");

        let f = fixture("emitter/sockets-join");
        assert_eq!(
            ClassicRequest::decode(f.message(0).1).unwrap().unwrap(),
            ClassicRequest::RemoteJoin {
                uid: None,
                opts: Targets::default(),
                rooms: strs(&["room7"]),
            }
        );
        let f = fixture("emitter/disconnect-sockets-default");
        assert_eq!(
            ClassicRequest::decode(f.message(0).1).unwrap().unwrap(),
            ClassicRequest::RemoteDisconnect {
                uid: None,
                opts: Targets {
                    rooms: strs(&["nobody"]),
                    except: vec![]
                },
                close: false,
            }
        );
        let f = fixture("emitter/server-side-emit");
        assert_eq!(
            ClassicRequest::decode(f.message(0).1).unwrap().unwrap(),
            ClassicRequest::ServerSideEmit {
                uid: Some(EMITTER_UID.to_owned()),
                request_id: None,
                data: vec!["hello-servers".into(), 1.into(), "two".into()],
            }
        );
    }

    #[test]
    fn older_request_forms_and_loose_rooms() {
        let join = Bytes::from_static(
            br#"{"uid":"abcdef","requestId":"req123","type":2,"sid":"s1","room":"r1"}"#,
        );
        let request = ClassicRequest::decode(&join).unwrap().unwrap();
        assert_eq!(
            request,
            ClassicRequest::RemoteJoinSocket {
                uid: Some("abcdef".into()),
                request_id: "req123".into(),
                sid: "s1".into(),
                room: "r1".into()
            }
        );
        assert_eq!(request.encode(), join.to_vec());
        let disconnect = Bytes::from_static(
            br#"{"uid":"abcdef","requestId":"req123","type":4,"sid":"s1","close":true}"#,
        );
        let request = ClassicRequest::decode(&disconnect).unwrap().unwrap();
        assert_eq!(request.encode(), disconnect.to_vec());
        let done = ClassicResponse::Done {
            request_id: "req123".into(),
        };
        assert_eq!(done.encode(), br#"{"requestId":"req123"}"#);
        assert_eq!(
            ClassicResponse::decode(&done.encode().into(), |_| Some(RequestType::RemoteJoin))
                .unwrap(),
            Some(done)
        );
        let sockets =
            Bytes::from_static(br#"{"uid":"abcdef","requestId":"r","type":0,"rooms":["a"]}"#);
        let request = ClassicRequest::decode(&sockets).unwrap().unwrap();
        assert_eq!(request.encode(), sockets.to_vec());

        // numeric rooms (Node's rooms may be numbers)
        let numeric =
            Bytes::from_static(br#"{"type":3,"opts":{"rooms":[1],"except":[2.5]},"rooms":[3]}"#);
        assert_eq!(
            ClassicRequest::decode(&numeric).unwrap().unwrap(),
            ClassicRequest::RemoteLeave {
                uid: None,
                opts: Targets {
                    rooms: strs(&["1"]),
                    except: strs(&["2.5"])
                },
                rooms: strs(&["3"]),
            }
        );
        // unknown types are ignored, malformed messages are errors
        assert_eq!(
            ClassicRequest::decode(&Bytes::from_static(br#"{"type":42}"#)).unwrap(),
            None
        );
        assert!(ClassicRequest::decode(&Bytes::from_static(b"{not json")).is_err());
        assert!(ClassicRequest::decode(&Bytes::from_static(&[0x92, 0x01])).is_err());
    }

    #[test]
    fn binary_in_json_messages_is_a_node_buffer() {
        // JSON.stringify(Buffer.from([1, 2])) in Node
        let request = ClassicRequest::ServerSideEmit {
            uid: Some("abcdef".into()),
            request_id: None,
            data: vec!["ev".into(), bin(&[1, 2])],
        };
        assert_eq!(
            String::from_utf8(request.encode()).unwrap(),
            r#"{"uid":"abcdef","type":6,"data":["ev",{"type":"Buffer","data":[1,2]}]}"#
        );
    }

    // ---- sharded

    #[test]
    fn sharded_captures_round_trip_byte_for_byte() {
        for (flavour, mode) in [
            ("sharded", SubscriptionMode::Dynamic),
            ("sharded-private", SubscriptionMode::DynamicPrivate),
        ] {
            for f in all(flavour) {
                for (channel, bytes) in &f.messages {
                    let message = ClusterMessage::decode(bytes)
                        .unwrap_or_else(|e| panic!("{}: {e}", f.name))
                        .unwrap_or_else(|| panic!("{}: unknown type", f.name));
                    let channels =
                        ShardedChannels::new(DEFAULT_KEY, &message.nsp, &message.uid, mode);
                    if message.is_response() {
                        assert_eq!(
                            channels.for_response(f.meta("uidA")),
                            *channel,
                            "{}",
                            f.name
                        );
                    } else {
                        assert_eq!(
                            channels.for_message(&message),
                            channel.as_str(),
                            "{}",
                            f.name
                        );
                    }
                    if !f.name.ends_with("broadcast-values") {
                        assert_eq!(&message.encode()[..], &bytes[..], "{}", f.name);
                    }
                }
            }
        }
    }

    #[test]
    fn sharded_messages() {
        let f = fixture("sharded/broadcast-room");
        let (channel, bytes) = f.message(0);
        assert_eq!(channel, "socket.io#/#room1#");
        assert!(is_json(bytes));
        let message = ClusterMessage::decode(bytes).unwrap().unwrap();
        assert_eq!(message.uid, f.meta("uidA"));
        assert_eq!(message.uid.len(), 16);
        assert_eq!(message.nsp, "/");
        assert_eq!(message.message_type(), ClusterMessageType::Broadcast);
        assert_eq!(
            message.kind,
            ClusterMessageKind::Broadcast {
                // no nsp in the packet of a sharded message
                packet: Packet::event(
                    None,
                    "hello",
                    [1.into(), "two".into(), json(r#"{"three":[3]}"#)]
                ),
                request_id: None,
                opts: BroadcastOpts {
                    rooms: strs(&["room1"]),
                    except: vec![],
                    flags: Flags::default()
                },
            }
        );

        let f = fixture("sharded/broadcast-binary");
        assert!(!is_json(f.message(0).1), "binary: MessagePack");
        let message = ClusterMessage::decode(f.message(0).1).unwrap().unwrap();
        let ClusterMessageKind::Broadcast { packet, .. } = &message.kind else {
            panic!()
        };
        assert_eq!(
            packet
                .to_encoded(&message.nsp, Parser::Default)
                .unwrap()
                .attachments
                .len(),
            4
        );

        // a broadcast with acknowledgements to one room still goes to the main channel
        let f = fixture("sharded/broadcast-ack-binary");
        assert_eq!(f.message(0).0, "socket.io#/#");
        let kinds: Vec<ClusterMessageType> = f
            .messages
            .iter()
            .map(|(_, b)| ClusterMessage::decode(b).unwrap().unwrap().message_type())
            .collect();
        assert_eq!(
            kinds,
            [
                ClusterMessageType::Broadcast,
                ClusterMessageType::BroadcastClientCount,
                ClusterMessageType::BroadcastAck
            ]
        );

        // a remote socket's room looks like a socket id: main channel in "dynamic"...
        let f = fixture("sharded/remote-socket-emit");
        assert_eq!(f.message(0).0, "socket.io#/#");
        // ...its own channel in "dynamic-private"
        let f = fixture("sharded-private/remote-socket-emit");
        assert_eq!(f.message(0).0, format!("socket.io#/#{}#", f.meta("sidB1")));

        let f = fixture("sharded/server-side-emit-ack");
        let request = ClusterMessage::decode(f.message(0).1).unwrap().unwrap();
        let ClusterMessageKind::ServerSideEmit {
            request_id: Some(id),
            packet,
        } = &request.kind
        else {
            panic!("{request:?}")
        };
        assert_eq!(id.len(), 16);
        assert_eq!(packet, &vec![Value::from("question"), "q1".into()]);
        let answer = ClusterMessage::decode(f.message(1).1).unwrap().unwrap();
        assert_eq!(answer.uid, f.meta("uidB"));
        assert_eq!(
            answer.kind,
            ClusterMessageKind::ServerSideEmitResponse {
                request_id: id.clone(),
                packet: "answer from B to q1".into()
            }
        );

        let f = fixture("sharded/disconnect-sockets");
        let message = ClusterMessage::decode(f.message(0).1).unwrap().unwrap();
        assert_eq!(
            message.kind,
            ClusterMessageKind::DisconnectSockets {
                opts: BroadcastOpts {
                    rooms: strs(&["nobody"]),
                    except: strs(&["room1"]),
                    flags: Flags::default()
                },
                close: Some(true)
            }
        );

        let f = fixture("sharded/fetch-sockets");
        let answer = ClusterMessage::decode(f.message(1).1).unwrap().unwrap();
        let ClusterMessageKind::FetchSocketsResponse { sockets, .. } = answer.kind else {
            panic!()
        };
        assert_eq!(sockets.len(), 2);

        let f = fixture("sharded/server-count");
        let channels = ShardedChannels::new(DEFAULT_KEY, "/", "x", SubscriptionMode::Dynamic);
        assert_eq!(
            channels.server_count_command(),
            ["PUBSUB", "SHARDNUMSUB", "socket.io#/#"]
        );
        assert_eq!(f.meta("numsub"), r#"["socket.io#/#",3]"#);
    }

    #[test]
    fn sharded_heartbeats_and_binary_answers() {
        let heartbeat = ClusterMessage {
            uid: "0123456789abcdef".into(),
            nsp: "/".into(),
            kind: ClusterMessageKind::Heartbeat,
        };
        let bytes = heartbeat.encode();
        assert_eq!(bytes, br#"{"type":2,"uid":"0123456789abcdef","nsp":"/"}"#);
        assert_eq!(
            ClusterMessage::decode(&bytes.into()).unwrap().unwrap(),
            heartbeat
        );

        let answer = ClusterMessage {
            uid: "0123456789abcdef".into(),
            nsp: "/".into(),
            kind: ClusterMessageKind::ServerSideEmitResponse {
                request_id: "r".into(),
                packet: bin(&[1]),
            },
        };
        let bytes = answer.encode();
        assert!(!is_json(&bytes));
        assert_eq!(
            ClusterMessage::decode(&bytes.into()).unwrap().unwrap(),
            answer
        );
        // a type that may not carry binary stays JSON
        let join = ClusterMessage {
            uid: "u".into(),
            nsp: "/".into(),
            kind: ClusterMessageKind::SocketsJoin {
                opts: BroadcastOpts::default(),
                rooms: strs(&["a"]),
            },
        };
        assert_eq!(
            join.encode(),
            br#"{"type":4,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["a"]},"uid":"u","nsp":"/"}"#
        );
        assert_eq!(
            ClusterMessage::decode(&Bytes::from_static(br#"{"type":99,"uid":"u","nsp":"/"}"#))
                .unwrap(),
            None
        );
    }

    // ---- channels and uids

    #[test]
    fn channels() {
        let c = ClassicChannels::new("socket.io", "/", "Ab12Cd");
        assert_eq!(c.broadcast, "socket.io#/#");
        assert_eq!(c.broadcast_pattern(), "socket.io#/#*");
        assert_eq!(c.request, "socket.io-request#/#");
        assert_eq!(c.response, "socket.io-response#/#");
        assert_eq!(c.specific_response, "socket.io-response#/#Ab12Cd#");
        assert_eq!(c.for_broadcast(&strs(&["r"])), "socket.io#/#r#");
        assert_eq!(c.for_broadcast(&strs(&["r", "s"])), "socket.io#/#");
        assert_eq!(c.for_broadcast(&[]), "socket.io#/#");
        assert_eq!(c.for_response("Zz", false), "socket.io-response#/#");
        assert_eq!(c.for_response("Zz", true), "socket.io-response#/#Zz#");
        assert_eq!(
            c.classify(b"socket.io#/#"),
            ClassicChannel::Broadcast { room: b"" }
        );
        assert_eq!(
            c.classify(b"socket.io#/#room#1#"),
            ClassicChannel::Broadcast { room: b"room#1" }
        );
        assert_eq!(c.classify(b"socket.io-request#/#"), ClassicChannel::Request);
        assert_eq!(
            c.classify(b"socket.io-response#/#Zz#"),
            ClassicChannel::Response
        );
        assert_eq!(c.classify(b"other"), ClassicChannel::Other);

        let s = ShardedChannels::new("socket.io", "/chat", "0011", SubscriptionMode::Dynamic);
        assert_eq!(s.main, "socket.io#/chat#");
        assert_eq!(s.response, "socket.io#/chat#0011#");
        assert_eq!(s.room("r"), "socket.io#/chat#r#");
        assert_eq!(s.for_response("ff"), "socket.io#/chat#ff#");
        assert!(s.subscribes_to_room(false) && !s.subscribes_to_room(true));
        let private = ShardedChannels {
            mode: SubscriptionMode::DynamicPrivate,
            ..s.clone()
        };
        assert!(private.subscribes_to_room(true));
        let fixed = ShardedChannels {
            mode: SubscriptionMode::Static,
            ..s.clone()
        };
        assert!(!fixed.subscribes_to_room(false));
        let broadcast = |rooms: &[&str], request_id: Option<&str>| ClusterMessage {
            uid: "0011".into(),
            nsp: "/chat".into(),
            kind: ClusterMessageKind::Broadcast {
                packet: Packet::event(None, "e", []),
                request_id: request_id.map(str::to_owned),
                opts: BroadcastOpts {
                    rooms: strs(rooms),
                    ..BroadcastOpts::default()
                },
            },
        };
        assert_eq!(
            s.for_message(&broadcast(&["r"], None)),
            "socket.io#/chat#r#"
        );
        assert_eq!(
            s.for_message(&broadcast(&["r"], Some("x"))),
            "socket.io#/chat#"
        );
        assert_eq!(
            s.for_message(&broadcast(&["r", "t"], None)),
            "socket.io#/chat#"
        );
        let sid = "abcdefghij0123456789";
        assert!(looks_like_a_socket_id(sid));
        assert!(!looks_like_a_socket_id("é".repeat(19).as_str()));
        assert_eq!(s.for_message(&broadcast(&[sid], None)), "socket.io#/chat#");
        assert_eq!(
            private.for_message(&broadcast(&[sid], None)),
            format!("socket.io#/chat#{sid}#")
        );
        assert_eq!(
            fixed.for_message(&broadcast(&["r"], None)),
            "socket.io#/chat#"
        );
    }

    #[test]
    fn uids_look_like_nodes() {
        for _ in 0..100 {
            let uid = classic_uid();
            assert_eq!(uid.len(), 6);
            assert!(uid.bytes().all(|b| UID_CHARS.contains(&b)), "{uid}");
            let uid = cluster_uid();
            assert_eq!(uid.len(), 16);
            assert!(
                uid.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
        }
        assert_ne!(classic_request_id(), classic_request_id());
        assert_ne!(cluster_request_id(), cluster_request_id());
    }

    // ---- packets

    #[test]
    fn packets_to_and_from_text() {
        let packet = Packet::event(Some("/admin"), "chat", ["hi".into(), json(r#"{"a":[1]}"#)]);
        let encoded = packet.to_encoded("/", Parser::Default).unwrap();
        assert_eq!(encoded.text(), r#"42/admin,["chat","hi",{"a":[1]}]"#);
        assert!(encoded.attachments.is_empty());
        assert_eq!(Packet::from_encoded(&encoded).unwrap(), packet);

        // no nsp (sharded): the default; an id is not written
        let mut packet = Packet::event(None, "x", []);
        packet.id = Some(12);
        let encoded = packet.to_encoded("/", Parser::Default).unwrap();
        assert_eq!(encoded.text(), r#"42["x"]"#);
        let back = Packet::from_encoded(&encoded).unwrap();
        assert_eq!(back.nsp.as_deref(), Some("/"));
        assert_eq!(back.id, None);

        // only events
        let ack = Packet {
            kind: 3,
            data: Value::Array(vec![bin(&[1]), 2.into()]),
            nsp: Some("/".into()),
            id: Some(3),
        };
        assert!(ack.to_encoded("/", Parser::Default).is_err());

        // what the crate's own emit encodes, or another server's text, reads back
        let encoded = parser::encode_args("/", Some("ev"), None, &(1, "two")).unwrap();
        assert_eq!(
            Packet::from_encoded(&encoded).unwrap(),
            Packet::event(Some("/"), "ev", [1.into(), "two".into()])
        );
        let encoded = EncodedPacket::parse(r#"42["ev",1,"two"]"#, vec![]).unwrap();
        assert_eq!(
            Packet::from_encoded(&encoded).unwrap(),
            Packet::event(Some("/"), "ev", [1.into(), "two".into()])
        );

        let bad = Packet {
            kind: EVENT,
            data: Value::Array(vec![1.into()]),
            nsp: None,
            id: None,
        };
        assert!(bad.to_encoded("/", Parser::Default).is_err());
        let connect = EncodedPacket {
            text: crate::engine::Str::from("40".to_owned()),
            attachments: vec![],
        };
        assert!(Packet::from_encoded(&connect).is_err());
    }

    // ---- MessagePack

    fn decode_hex(hex: &str) -> Result<Value> {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        decode_msgpack(&Bytes::from(bytes))
    }

    fn encode_hex(value: &Value) -> String {
        let mut out = Vec::new();
        encode_msgpack(&mut out, value);
        out.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn msgpack_numbers_as_notepack_writes_them() {
        let f = |x: f64| Value::Number(serde_json::Number::from_f64(x).unwrap());
        // notepack.io: encode([3, -0, 0.5, 2 ** 64, -(2 ** 63), 1.5])
        // = 96 03 00 cb3fe0000000000000 cf0000000000000000 d38000000000000000 cb3ff8000000000000;
        // 2 ** 64 wraps to 0 in notepack: we write it as a float, which Node reads right.
        let value = Value::Array(vec![
            f(3.0),
            f(-0.0),
            f(0.5),
            f(18446744073709551616.0),
            f(-9223372036854775808.0),
            f(1.5),
        ]);
        assert_eq!(
            encode_hex(&value),
            "960300cb3fe0000000000000cb43f0000000000000d38000000000000000cb3ff8000000000000"
        );
        assert_eq!(encode_hex(&Value::from(-1)), "ff");
        assert_eq!(
            encode_hex(&Value::Number(u64::MAX.into())),
            "cfffffffffffffffff"
        );
        // float 32 reads as a number
        assert_eq!(decode_hex("ca3fc00000").unwrap(), f(1.5));
        // NaN and infinities are null, as in JSON
        assert_eq!(decode_hex("cb7ff8000000000000").unwrap(), Value::Null);
        assert_eq!(decode_hex("cb7ff0000000000000").unwrap(), Value::Null);
    }

    #[test]
    fn msgpack_extensions_and_legacy_forms() {
        // notepack.io: encode({a: undefined, b: [undefined]}) = 81 a162 91 c0
        assert_eq!(decode_hex("81a16291c0").unwrap(), json(r#"{"b":[null]}"#));
        // the old `undefined` (fixext 1, type 0): left out of objects, null in arrays
        assert_eq!(
            decode_hex("82a161d40000a16292d40000c0").unwrap(),
            json(r#"{"b":[null,null]}"#)
        );
        // the old ArrayBuffer (ext 8, type 0)
        assert_eq!(decode_hex("c7020001ff").unwrap(), bin(&[1, 0xff]));
        // timestamps: new Date(-1) (96), new Date(253402300800000) (96),
        // new Date(2 ** 34 * 1000 + 5) (96, seconds past 34 bits)
        assert_eq!(
            decode_hex("c70cff3b8b87c0ffffffffffffffff").unwrap(),
            Value::from("1969-12-31T23:59:59.999Z")
        );
        assert_eq!(
            decode_hex("c70cff000000000000003afff44180").unwrap(),
            Value::from("+010000-01-01T00:00:00.000Z")
        );
        assert_eq!(
            decode_hex("c70cff004c4b400000000400000000").unwrap(),
            Value::from("2514-05-30T01:53:04.005Z")
        );
        // the old date (fixext 8, type 0): milliseconds
        assert_eq!(
            decode_hex("d700000000000000000a").unwrap(),
            Value::from("1970-01-01T00:00:00.010Z")
        );
        // out of JavaScript's range: an invalid Date, null
        assert_eq!(
            decode_hex("c70cff00000000007fffffffffffff").unwrap(),
            Value::Null
        );
        // another extension: [type, data]
        assert_eq!(
            decode_hex("d5050102").unwrap(),
            Value::Array(vec![5.into(), bin(&[1, 2])])
        );
        // keys that are numbers
        assert_eq!(decode_hex("8101c3").unwrap(), json(r#"{"1":true}"#));
    }

    #[test]
    fn msgpack_malformed_input() {
        assert!(decode_hex("").is_err());
        assert!(decode_hex("c1").is_err());
        assert!(decode_hex("9201").is_err(), "truncated");
        assert!(decode_hex("0101").is_err(), "trailing bytes");
        assert!(decode_hex("dd7fffffff").is_err(), "a length past the input");
        assert!(decode_hex("c4ff00").is_err());
        assert!(decode_hex("81c400c0").is_err(), "binary key");
        let deep = "91".repeat(MAX_DEPTH + 2) + "c0";
        assert!(decode_hex(&deep).is_err());
        let ok = "91".repeat(MAX_DEPTH) + "c0";
        assert!(decode_hex(&ok).is_ok());
        // invalid UTF-8 is replaced, as Buffer.toString does
        assert_eq!(decode_hex("a2c328").unwrap(), Value::from("\u{fffd}("));
    }

    /// Any value: JSON with binary anywhere, floats integral or not.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(|n| Value::Number(n.into())),
            any::<f64>()
                .prop_filter_map("finite", serde_json::Number::from_f64)
                .prop_map(Value::Number),
            (-1000i32..1000)
                .prop_map(|n| Value::Number(serde_json::Number::from_f64(f64::from(n)).unwrap())),
            vec(any::<char>(), 0..40).prop_map(|c| Value::String(String::from_iter(c))),
            vec(any::<u8>(), 0..300).prop_map(|b| Value::Binary(Bytes::from(b))),
        ];
        leaf.prop_recursive(4, 48, 20, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..20).prop_map(Value::Array),
                vec(("[a-z]{0,5}", inner), 0..20).prop_map(Value::Object),
            ]
        })
    }

    /// Equal as JavaScript sees them: numbers by value (notepack writes 3.0 as the integer 3).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|((k, a), (l, b))| k == l && same(a, b))
            }
            _ => a == b,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn msgpack_round_trips(value in value()) {
            let mut out = Vec::new();
            encode_msgpack(&mut out, &value);
            let back = decode_msgpack(&Bytes::from(out)).unwrap();
            prop_assert!(same(&back, &value), "{:?} became {:?}", value, back);
        }

        #[test]
        fn broadcasts_round_trip_through_msgpack_and_text(
            uid in "[A-Za-z0-9_-]{6}",
            event in "[a-z]{1,8}",
            args in vec(value(), 0..4),
            rooms in vec("[a-z0-9]{1,8}", 0..3),
            except in vec("[a-z0-9]{1,8}", 0..3),
            volatile in any::<bool>(),
        ) {
            let flags = if volatile { Flags::default().with("volatile", true) } else { Flags::default() };
            let broadcast = ClassicBroadcast {
                uid,
                packet: Packet::event(Some("/"), &event, args),
                opts: BroadcastOpts { rooms, except, flags },
            };
            let back = ClassicBroadcast::decode(&broadcast.encode().into()).unwrap();
            prop_assert_eq!(&back.uid, &broadcast.uid);
            prop_assert_eq!(&back.opts, &broadcast.opts);
            prop_assert!(same(&back.packet.data, &broadcast.packet.data));
            let text = back.packet.to_encoded("/", Parser::Default).unwrap();
            let read = Packet::from_encoded(&text).unwrap();
            prop_assert!(same(&read.data, &broadcast.packet.data));
        }

        #[test]
        fn garbage_never_panics(bytes in vec(any::<u8>(), 0..64)) {
            let bytes = Bytes::from(bytes);
            let _ = decode_msgpack(&bytes);
            let _ = ClassicBroadcast::decode(&bytes);
            let _ = ClassicRequest::decode(&bytes);
            let _ = ClassicResponse::decode(&bytes, |_| Some(RequestType::RemoteFetch));
            let _ = ClusterMessage::decode(&bytes);
            let _ = ClusterMessage::from_stream_entry("u", "/", "3", Some(&bytes));
            let _ = StoredSession::decode(&bytes);
        }
    }

    #[test]
    fn iso_dates() {
        for (ms, iso) in [
            (0.0, "1970-01-01T00:00:00.000Z"),
            (1_700_000_000_123.0, "2023-11-14T22:13:20.123Z"),
            (-1.0, "1969-12-31T23:59:59.999Z"),
            (253_402_300_800_000.0, "+010000-01-01T00:00:00.000Z"),
            (-62_198_755_200_000.0, "-000001-01-01T00:00:00.000Z"),
            (-62_135_596_800_001.0, "0000-12-31T23:59:59.999Z"),
            (8.64e15, "+275760-09-13T00:00:00.000Z"),
            (-8.64e15, "-271821-04-20T00:00:00.000Z"),
        ] {
            assert_eq!(iso_date(ms), Value::from(iso), "{ms}");
        }
        assert_eq!(iso_date(8.64e15 + 1.0), Value::Null);
    }

    #[test]
    fn stream_ids_parse_order_and_follow() {
        let id = StreamId::parse("1700000000000-5").unwrap();
        assert_eq!(id.to_string(), "1700000000000-5");
        assert_eq!(id.next().to_string(), "1700000000000-6");
        assert!(id < StreamId::parse("1700000000001-0").unwrap());
        assert!(id > StreamId::parse("999-99").unwrap());
        let last = StreamId {
            ms: 7,
            seq: u64::MAX,
        };
        assert_eq!(last.next(), StreamId { ms: 8, seq: 0 });
        for bad in [
            "",
            "1",
            "-1",
            "1-",
            "a-1",
            "1-1-1",
            " 1-1",
            "1-1 ",
            "99999999999999999999-0",
        ] {
            assert_eq!(StreamId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn stream_entries_carry_json_data_or_base64_msgpack_with_binary() {
        let broadcast = |args: Vec<Value>| ClusterMessage {
            uid: "0123456789abcdef".into(),
            nsp: "/".into(),
            kind: ClusterMessageKind::Broadcast {
                packet: Packet {
                    nsp: None,
                    ..Packet::event(None, "e", args)
                },
                request_id: None,
                opts: BroadcastOpts {
                    rooms: vec!["room1".into()],
                    except: vec![],
                    flags: Flags::default(),
                },
            },
        };
        let plain = broadcast(vec![Value::from(1), Value::from("x")]);
        let data = plain.stream_data().unwrap();
        assert_eq!(
            data,
            r#"{"packet":{"type":2,"data":["e",1,"x"]},"opts":{"rooms":["room1"],"except":[],"flags":{}}}"#
        );
        let read =
            ClusterMessage::from_stream_entry("0123456789abcdef", "/", "3", Some(data.as_bytes()));
        assert_eq!(read.unwrap().unwrap(), plain);

        let binary = broadcast(vec![Value::Binary(Bytes::from_static(b"\x00\xff"))]);
        let data = binary.stream_data().unwrap();
        assert!(!data.starts_with('{'), "{data}");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&data)
            .unwrap();
        // `@msgpack/msgpack`'s map of the data: `{packet, opts}`.
        assert_eq!(bytes[0], 0x82, "{bytes:02x?}");
        let read =
            ClusterMessage::from_stream_entry("0123456789abcdef", "/", "3", Some(data.as_bytes()));
        assert_eq!(read.unwrap().unwrap(), binary);

        // Joins are JSON whatever they hold; `type` is read as `parseInt` reads it.
        let join = ClusterMessage {
            uid: "u".into(),
            nsp: "/chat".into(),
            kind: ClusterMessageKind::SocketsJoin {
                opts: BroadcastOpts::default(),
                rooms: vec!["r".into()],
            },
        };
        let data = join.stream_data().unwrap();
        assert_eq!(
            data,
            r#"{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["r"]}"#
        );
        let read = ClusterMessage::from_stream_entry("u", "/chat", "4 ", Some(data.as_bytes()));
        assert_eq!(read.unwrap().unwrap(), join);
        assert_eq!(
            ClusterMessage::from_stream_entry("u", "/", "99", Some(b"{}")),
            Ok(None)
        );
        assert!(ClusterMessage::from_stream_entry("u", "/", "3", Some(b"not base64!")).is_err());
    }

    #[test]
    fn pub_sub_messages_of_the_streams_adapter_are_msgpack_whole() {
        let message = ClusterMessage {
            uid: "u".into(),
            nsp: "/".into(),
            kind: ClusterMessageKind::FetchSockets {
                opts: BroadcastOpts::default(),
                request_id: "r".into(),
            },
        };
        let bytes = message.encode_msgpack_js();
        assert_eq!(bytes[0], 0x84, "type, data, uid, nsp");
        assert_eq!(&bytes[1..6], b"\xa4type");
        assert_eq!(
            ClusterMessage::decode(&Bytes::from(bytes))
                .unwrap()
                .unwrap(),
            message
        );
    }

    #[test]
    fn sessions_round_trip_with_or_without_this_crates_offset() {
        let session = StoredSession {
            sid: "AAAAAAAAAAAAAAAAAAAA".into(),
            pid: "BBBBBBBBBBBBBBBBBBBB".into(),
            rooms: vec!["AAAAAAAAAAAAAAAAAAAA".into(), "r".into()],
            data: Value::Object(vec![("n".into(), Value::from(1))]),
            offset: Some("1-2".into()),
        };
        let text = session.encode();
        assert_eq!(StoredSession::decode(text.as_bytes()).unwrap(), session);
        // Padding or not, as Node's Buffer.from(text, "base64") reads it.
        let unpadded = text.trim_end_matches('=');
        assert_eq!(StoredSession::decode(unpadded.as_bytes()).unwrap(), session);
        let node = StoredSession {
            offset: None,
            ..session
        };
        assert_eq!(
            StoredSession::decode(node.encode().as_bytes()).unwrap(),
            node
        );
        assert!(StoredSession::decode(b"!!").is_err());
    }
}
