//! [`Parser`]: which Socket.IO packet codec a server speaks, and the encoders that follow the
//! choice.

use serde::Serialize;

use super::EncodedPacket;
use crate::error::EmitError;

/// The Socket.IO parser a server uses (Node's `parser` server option), chosen with
/// [`SocketIoBuilder::parser`](crate::SocketIoBuilder::parser). There is no negotiation: the
/// clients must use the same one.
///
/// - [`Parser::Default`]: the protocol's text packets (Node's `socket.io-parser`), binary as
///   attachments. What every client uses unless told otherwise.
/// - `Parser::MsgPack` (feature `msgpack`): MessagePack, byte-compatible with Node's
///   `socket.io-msgpack-parser` 3.x: each packet one binary message, binary inline. A client
///   opts in with `io(url, { parser: require("socket.io-msgpack-parser") })`, or in the
///   browser with the `socket.io.msgpack.min.js` bundle the server serves.
///
/// A client with the other parser is disconnected at its first packet (a parse error, as Node
/// does), and the server logs a warning that says so.
///
/// ```
/// use tower_socketio::{Parser, SocketIo};
///
/// assert_eq!(Parser::default(), Parser::Default);
/// let io = SocketIo::builder().parser(Parser::Default).build();
/// # let _ = io;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Parser {
    /// The default parser (`socket.io-parser`): text packets, binary as attachments.
    #[default]
    Default,
    /// The MessagePack parser (`socket.io-msgpack-parser` 3.x): one binary message per packet.
    #[cfg(feature = "msgpack")]
    MsgPack,
}

impl Parser {
    /// Encodes an EVENT for namespace `ns`, refusing reserved event names.
    pub(crate) fn encode_event<T: Serialize + ?Sized>(
        self,
        ns: &str,
        event: &str,
        data: &T,
        id: Option<u64>,
    ) -> Result<EncodedPacket, EmitError> {
        match self {
            Parser::Default => super::encode_event(ns, event, data, id),
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => {
                if super::RESERVED_EVENTS.contains(&event) {
                    return Err(EmitError::ReservedEvent(event.to_owned()));
                }
                super::msgpack::encode_args(ns, Some(event), id, data).map_err(EmitError::Serialize)
            }
        }
    }

    /// Encodes the ACK `id` carrying `data` as arguments.
    pub(crate) fn encode_ack<T: Serialize + ?Sized>(
        self,
        ns: &str,
        id: u64,
        data: &T,
    ) -> Result<EncodedPacket, serde_json::Error> {
        match self {
            Parser::Default => super::encode_args(ns, None, Some(id), data),
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => super::msgpack::encode_args(ns, None, Some(id), data),
        }
    }

    /// An EVENT of name and arguments `data` (`[event, ...args]`, binary in place), rebuilt from
    /// what another server sent.
    #[cfg(feature = "redis")]
    pub(crate) fn encode_values(
        self,
        ns: &str,
        event: &str,
        args: &[crate::value::Value],
    ) -> Result<EncodedPacket, serde_json::Error> {
        let args = super::Spreading(args);
        match self {
            Parser::Default => super::encode_args(ns, Some(event), None, &args),
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => super::msgpack::encode_args(ns, Some(event), None, &args),
        }
    }

    /// The CONNECT answer: v5 with the socket id (and the private id, with connection state
    /// recovery), v4 without.
    pub(crate) fn encode_connect(
        self,
        ns: &str,
        sid: Option<&str>,
        pid: Option<&str>,
    ) -> EncodedPacket {
        match self {
            Parser::Default => text(super::encode_connect(ns, sid, pid)),
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => super::msgpack::encode_connect(ns, sid, pid),
        }
    }

    /// A middleware's refusal (CONNECT_ERROR; v4: ERROR).
    pub(crate) fn encode_connect_error(
        self,
        ns: &str,
        message: &str,
        data: Option<&serde_json::Value>,
        v5: bool,
    ) -> EncodedPacket {
        match self {
            Parser::Default => text(super::encode_connect_error(ns, message, data, v5)),
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => super::msgpack::encode_connect_error(ns, message, data),
        }
    }

    /// The refusal of a namespace that does not exist.
    pub(crate) fn encode_invalid_namespace(self, ns: &str, v5: bool) -> EncodedPacket {
        match self {
            Parser::Default => text(super::encode_connect_error(
                ns,
                "Invalid namespace",
                None,
                v5,
            )),
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => super::msgpack::encode_invalid_namespace(ns),
        }
    }

    /// A DISCONNECT.
    pub(crate) fn encode_disconnect(self, ns: &str) -> EncodedPacket {
        match self {
            Parser::Default => text(super::encode_disconnect(ns)),
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => super::msgpack::encode_disconnect(ns),
        }
    }
}

fn text(text: crate::engine::Str) -> EncodedPacket {
    EncodedPacket {
        text,
        attachments: Vec::new(),
    }
}
