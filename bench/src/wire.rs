//! The Socket.IO parser the load generator speaks, chosen with `PARSER` (`default` or
//! `msgpack`), and the MessagePack packets of its client.
//!
//! With `msgpack` the client writes what `socket.io-client` 4.8 with `socket.io-msgpack-parser`
//! 3.0.2 writes (notepack.io 2's forms): one MessagePack map per packet in one binary WebSocket
//! message, the keys in the order the client sets them. A CONNECT without auth is
//! `{type: 0, data: undefined, nsp}` (`undefined` as `d4 00 00`), an emit
//! `{type: 2, data: [event, ...args], options: {compress: true}, id?, nsp}`. The server's
//! packets are read in any key order, in place.

use std::sync::OnceLock;

/// The parser of every client of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    /// `socket.io-parser`: text packets.
    Default,
    /// `socket.io-msgpack-parser`: one binary MessagePack map per packet.
    MsgPack,
}

impl Parser {
    /// `PARSER` from the environment: `msgpack`, or `default` (also when unset).
    pub fn from_env() -> Parser {
        static PARSER: OnceLock<Parser> = OnceLock::new();
        *PARSER.get_or_init(|| match std::env::var("PARSER").as_deref() {
            Ok("msgpack") => Parser::MsgPack,
            Ok("default") | Ok("") | Err(_) => Parser::Default,
            Ok(other) => panic!("PARSER={other}: default or msgpack"),
        })
    }

    /// The name in result lines.
    pub fn name(self) -> &'static str {
        match self {
            Parser::Default => "default",
            Parser::MsgPack => "msgpack",
        }
    }
}

/// One argument of an emitted event.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// An integer.
    U64(u64),
    /// A string.
    Str(&'a str),
    /// An array of strings.
    Strs(&'a [String]),
}

impl Arg<'_> {
    /// Appends the argument as JSON text.
    pub fn write_json(&self, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            Arg::U64(n) => write!(out, "{n}").expect("memory"),
            Arg::Str(s) => out.push_str(&serde_json::to_string(s).expect("json")),
            Arg::Strs(list) => out.push_str(&serde_json::to_string(list).expect("json")),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Arg::U64(n) => write_uint(out, *n),
            Arg::Str(s) => write_str(out, s),
            Arg::Strs(list) => {
                rmp::encode::write_array_len(out, list.len() as u32).expect("memory");
                for s in *list {
                    write_str(out, s);
                }
            }
        }
    }
}

/// notepack.io's integer forms: a positive fixint, then the smallest unsigned form.
fn write_uint(out: &mut Vec<u8>, n: u64) {
    rmp::encode::write_uint(out, n).expect("memory");
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    rmp::encode::write_str(out, s).expect("memory");
}

/// The client's CONNECT to `/` without auth: `{type: 0, data: undefined, nsp: "/"}`.
pub fn connect() -> Vec<u8> {
    b"\x83\xa4type\x00\xa4data\xd4\x00\x00\xa3nsp\xa1/".to_vec()
}

/// The client's EVENT `event` with one argument on `/`, with acknowledgement `id` if given:
/// `{type: 2, data: [event, arg], options: {compress: true}, id?, nsp: "/"}`.
pub fn event(event: &str, arg: Arg<'_>, id: Option<u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(if id.is_some() { 0x85 } else { 0x84 });
    out.extend_from_slice(b"\xa4type\x02\xa4data\x92");
    write_str(&mut out, event);
    arg.write(&mut out);
    out.extend_from_slice(b"\xa7options\x81\xa8compress\xc3");
    if let Some(id) = id {
        out.extend_from_slice(b"\xa2id");
        write_uint(&mut out, id);
    }
    out.extend_from_slice(b"\xa3nsp\xa1/");
    out
}

/// The same EVENT with the default parser: `42[id]["event",arg]`.
pub fn event_text(event: &str, arg: Arg<'_>, id: Option<u64>) -> String {
    let mut text = match id {
        Some(id) => format!("42{id}[\"{event}\","),
        None => format!("42[\"{event}\","),
    };
    arg.write_json(&mut text);
    text.push(']');
    text
}

/// The fields of a server packet that the load generator checks.
#[derive(Debug)]
pub struct Packet<'a> {
    /// `type`.
    pub kind: u64,
    /// Whether `nsp` is `/`.
    pub root: bool,
    /// `id`.
    pub id: Option<u64>,
    /// `data`, its MessagePack bytes.
    pub data: Option<&'a [u8]>,
}

/// Reads a server packet: a map with an integer `type` and a string `nsp`, in any key order.
///
/// Read in place, without allocating: in the fanout scenario the load generator reads a
/// million packets, and must cost far less per packet than the server it measures.
pub fn decode(frame: &[u8]) -> Result<Packet<'_>, String> {
    let bad = || format!("not a Socket.IO packet: {frame:02x?}");
    let mut cursor = Cursor { buf: frame, pos: 0 };
    let entries = cursor.map_len().ok_or_else(bad)?;
    let (mut kind, mut root, mut id, mut data) = (None, None, None, None);
    for _ in 0..entries {
        let key = cursor.str();
        let start = cursor.pos;
        match key {
            Some("type") => kind = Some(cursor.uint().ok_or_else(bad)?),
            Some("nsp") => root = Some(cursor.str().ok_or_else(bad)? == "/"),
            Some("id") => id = Some(cursor.uint().ok_or_else(bad)?),
            Some(_) => cursor.skip().ok_or_else(bad)?,
            None => {
                cursor.skip().ok_or_else(bad)?;
                cursor.skip().ok_or_else(bad)?;
            }
        }
        if key == Some("data") {
            data = Some(&frame[start..cursor.pos]);
        }
    }
    if cursor.pos != frame.len() {
        return Err(bad());
    }
    Ok(Packet {
        kind: kind.ok_or_else(bad)?,
        root: root.ok_or_else(bad)?,
        id,
        data,
    })
}

/// True for an EVENT on `/` whose data starts with the string `name`.
pub fn is_event(packet: &Packet<'_>, name: &str) -> bool {
    let Some(data) = packet.data else {
        return false;
    };
    let mut data = Cursor { buf: data, pos: 0 };
    packet.kind == 2
        && packet.root
        && data.array_len().is_some_and(|len| len >= 1)
        && data.str() == Some(name)
}

/// True for the ACK `id` on `/`, with data `[echo]` when `echo` is given.
pub fn is_ack(packet: &Packet<'_>, id: u64, echo: Option<u64>) -> bool {
    let Some(data) = packet.data else {
        return false;
    };
    let mut data = Cursor { buf: data, pos: 0 };
    let Some(len) = data.array_len() else {
        return false;
    };
    packet.kind == 3
        && packet.root
        && packet.id == Some(id)
        && echo.is_none_or(|echo| len == 1 && data.uint() == Some(echo))
}

/// A reader of MessagePack in place.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(bytes)
    }

    /// A big-endian unsigned integer of `n` bytes.
    fn be(&mut self, n: usize) -> Option<u64> {
        Some(
            self.take(n)?
                .iter()
                .fold(0, |acc, b| acc << 8 | u64::from(*b)),
        )
    }

    /// Consumes the marker if `pick` gives the length it announces (the fixed part, or the
    /// number of bytes holding it, negated).
    fn header(&mut self, pick: impl Fn(u8) -> Option<Len>) -> Option<usize> {
        let len = pick(self.peek()?)?;
        self.pos += 1;
        match len {
            Len::Fixed(n) => Some(n),
            Len::In(bytes) => Some(self.be(bytes)? as usize),
        }
    }

    fn map_len(&mut self) -> Option<usize> {
        self.header(|m| match m {
            0x80..=0x8f => Some(Len::Fixed(usize::from(m & 0x0f))),
            0xde => Some(Len::In(2)),
            0xdf => Some(Len::In(4)),
            _ => None,
        })
    }

    fn array_len(&mut self) -> Option<usize> {
        self.header(|m| match m {
            0x90..=0x9f => Some(Len::Fixed(usize::from(m & 0x0f))),
            0xdc => Some(Len::In(2)),
            0xdd => Some(Len::In(4)),
            _ => None,
        })
    }

    /// A string, consumed only if the next value is one.
    fn str(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let len = self.header(|m| match m {
            0xa0..=0xbf => Some(Len::Fixed(usize::from(m & 0x1f))),
            0xd9 => Some(Len::In(1)),
            0xda => Some(Len::In(2)),
            0xdb => Some(Len::In(4)),
            _ => None,
        })?;
        match self.take(len).map(std::str::from_utf8) {
            Some(Ok(s)) => Some(s),
            _ => {
                self.pos = start;
                None
            }
        }
    }

    /// A non-negative integer.
    fn uint(&mut self) -> Option<u64> {
        let marker = self.peek()?;
        let n = match marker {
            0x00..=0x7f => {
                self.pos += 1;
                return Some(u64::from(marker));
            }
            0xcc..=0xcf => 1 << (marker - 0xcc),
            _ => return None,
        };
        self.pos += 1;
        self.be(n)
    }

    /// Skips one value of any type.
    fn skip(&mut self) -> Option<()> {
        let marker = self.peek()?;
        self.pos += 1;
        let (skip, items) = match marker {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, 2 * usize::from(marker & 0x0f)),
            0x90..=0x9f => (0, usize::from(marker & 0x0f)),
            0xa0..=0xbf => (usize::from(marker & 0x1f), 0),
            0xc4 | 0xd9 => (self.be(1)? as usize, 0),
            0xc5 | 0xda => (self.be(2)? as usize, 0),
            0xc6 | 0xdb => (self.be(4)? as usize, 0),
            0xc7 => (self.be(1)? as usize + 1, 0),
            0xc8 => (self.be(2)? as usize + 1, 0),
            0xc9 => (self.be(4)? as usize + 1, 0),
            0xca => (4, 0),
            0xcb => (8, 0),
            0xcc..=0xcf => (1 << (marker - 0xcc), 0),
            0xd0..=0xd3 => (1 << (marker - 0xd0), 0),
            0xd4..=0xd8 => (1 + (1 << (marker - 0xd4)), 0),
            0xdc => (0, self.be(2)? as usize),
            0xdd => (0, self.be(4)? as usize),
            0xde => (0, 2 * self.be(2)? as usize),
            0xdf => (0, 2 * self.be(4)? as usize),
            0xc1 => return None,
        };
        self.take(skip)?;
        for _ in 0..items {
            self.skip()?;
        }
        Some(())
    }
}

/// The length a marker announces.
enum Len {
    /// In the marker.
    Fixed(usize),
    /// In the next N bytes.
    In(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The bytes `socket.io-client` 4.8.4 with `socket.io-msgpack-parser` 3.0.2 sent for the same
    /// packets (captured with a `ws` server: `io(url, { parser })`, then `socket.emit("ack", 7,
    /// cb)`, `socket.emit("ack", 300, cb)`, `socket.emit("fanout", 1000)`,
    /// `socket.emit("join", "r1", cb)`, `socket.emit("rooms", ["r1", "r2"])`).
    #[test]
    fn writes_what_the_official_client_writes() {
        assert_eq!(
            hex(&connect()),
            "83a47479706500a464617461d40000a36e7370a12f"
        );
        let options = "a76f7074696f6e7381a8636f6d7072657373c3";
        assert_eq!(
            hex(&event("ack", Arg::U64(7), Some(0))),
            format!("85a47479706502a46461746192a361636b07{options}a2696400a36e7370a12f")
        );
        assert_eq!(
            hex(&event("ack", Arg::U64(300), Some(1))),
            format!("85a47479706502a46461746192a361636bcd012c{options}a2696401a36e7370a12f")
        );
        assert_eq!(
            hex(&event("fanout", Arg::U64(1000), None)),
            format!("84a47479706502a46461746192a666616e6f7574cd03e8{options}a36e7370a12f")
        );
        assert_eq!(
            hex(&event("join", Arg::Str("r1"), Some(2))),
            format!("85a47479706502a46461746192a46a6f696ea27231{options}a2696402a36e7370a12f")
        );
        let rooms = ["r1".to_owned(), "r2".to_owned()];
        assert_eq!(
            hex(&event("rooms", Arg::Strs(&rooms), None)),
            format!("84a47479706502a46461746192a5726f6f6d7392a27231a27232{options}a36e7370a12f")
        );
    }

    /// The default parser's text, as the load generator wrote it before it had a parser choice.
    #[test]
    fn writes_the_default_parsers_text() {
        assert_eq!(
            event_text("ack", Arg::U64(12), Some(12)),
            "4212[\"ack\",12]"
        );
        assert_eq!(
            event_text("fanout", Arg::U64(1000), None),
            "42[\"fanout\",1000]"
        );
        assert_eq!(
            event_text("join", Arg::Str("r1"), Some(0)),
            "420[\"join\",\"r1\"]"
        );
        let rooms = ["r1".to_owned(), "r2".to_owned()];
        assert_eq!(
            event_text("rooms", Arg::Strs(&rooms), None),
            "42[\"rooms\",[\"r1\",\"r2\"]]"
        );
    }

    #[test]
    fn reads_server_packets_in_any_key_order() {
        // {id: 5, type: 3, data: [5], nsp: "/"}, as a Node server acknowledges.
        let ack = b"\x84\xa2id\x05\xa4type\x03\xa4data\x91\x05\xa3nsp\xa1/";
        let packet = decode(ack).unwrap();
        assert!(is_ack(&packet, 5, Some(5)));
        assert!(is_ack(&packet, 5, None));
        assert!(!is_ack(&packet, 6, Some(5)));
        assert!(!is_ack(&packet, 5, Some(6)));
        assert!(!is_event(&packet, "tick"));
        // {type: 2, nsp: "/", data: ["tick", 3]}.
        let tick = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa4tick\x03";
        let packet = decode(tick).unwrap();
        assert!(is_event(&packet, "tick"));
        assert!(!is_event(&packet, "tock"));
        // On another namespace, or not a map, or with trailing bytes.
        let other = b"\x83\xa4type\x02\xa3nsp\xa2/a\xa4data\x92\xa4tick\x03";
        assert!(!is_event(&decode(other).unwrap(), "tick"));
        assert!(decode(b"\x92\x01\x02").is_err());
        assert!(decode(b"\x80\xc0").is_err());
        // Truncated.
        assert!(decode(&tick[..tick.len() - 1]).is_err());
        // Other keys and values of every kind are skipped: {x: [nil, true, -1, 1.5, bin, ext,
        // {k: "v"}], type: 2, nsp: "/", data: ["tick"]}.
        let mut mixed = b"\x84\xa1x\x97\xc0\xc3\xff\xcb".to_vec();
        mixed.extend_from_slice(&1.5f64.to_be_bytes());
        mixed.extend_from_slice(b"\xc4\x02ab\xd4\x00\x00\x81\xa1k\xa1v");
        mixed.extend_from_slice(b"\xa4type\x02\xa3nsp\xa1/\xa4data\x91\xa4tick");
        assert!(is_event(&decode(&mixed).unwrap(), "tick"));
    }
}
