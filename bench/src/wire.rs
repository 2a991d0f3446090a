//! The Socket.IO parser the load generator speaks, chosen with `PARSER` (`default` or
//! `msgpack`), and the MessagePack packets of its client.
//!
//! With `msgpack` the client writes what `socket.io-client` 4.8 with `socket.io-msgpack-parser`
//! 3.0.2 writes (notepack.io 2's forms): one MessagePack map per packet in one binary WebSocket
//! message, the keys in the order the client sets them. A CONNECT without auth is
//! `{type: 0, data: undefined, nsp}` (`undefined` as `d4 00 00`), an emit
//! `{type: 2, data: [event, ...args], options: {compress: true}, id?, nsp}`. The server's
//! packets are read in any key order.

use std::sync::OnceLock;

use rmpv::ValueRef;

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
    /// The argument as JSON text.
    pub fn json(&self) -> String {
        match self {
            Arg::U64(n) => n.to_string(),
            Arg::Str(s) => serde_json::to_string(s).expect("json"),
            Arg::Strs(list) => serde_json::to_string(list).expect("json"),
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

/// The fields of a server packet that the load generator checks.
#[derive(Debug)]
pub struct Packet<'a> {
    /// `type`.
    pub kind: u64,
    /// Whether `nsp` is `/`.
    pub root: bool,
    /// `id`.
    pub id: Option<u64>,
    /// `data`.
    pub data: Option<ValueRef<'a>>,
}

/// Reads a server packet: a map with an integer `type` and a string `nsp`, in any key order.
pub fn decode(frame: &[u8]) -> Result<Packet<'_>, String> {
    let mut input = frame;
    let value = rmpv::decode::read_value_ref(&mut input).map_err(|e| e.to_string())?;
    if !input.is_empty() {
        return Err(format!("{} trailing bytes", input.len()));
    }
    let ValueRef::Map(entries) = value else {
        return Err(format!("not a map: {value:?}"));
    };
    let (mut kind, mut nsp, mut id, mut data) = (None, None, None, None);
    for (key, value) in entries {
        match str_of(&key) {
            Some("type") => kind = value.as_u64(),
            Some("nsp") => nsp = Some(str_of(&value) == Some("/")),
            Some("id") => id = value.as_u64(),
            Some("data") => data = Some(value),
            _ => {}
        }
    }
    let kind = kind.ok_or("no integer type")?;
    let root = nsp.ok_or("no nsp")?;
    Ok(Packet {
        kind,
        root,
        id,
        data,
    })
}

/// The string a value is, if it is one.
fn str_of<'a>(value: &'a ValueRef<'_>) -> Option<&'a str> {
    match value {
        ValueRef::String(s) => s.as_str(),
        _ => None,
    }
}

/// True for an EVENT on `/` whose data starts with the string `name`.
pub fn is_event(packet: &Packet<'_>, name: &str) -> bool {
    packet.kind == 2
        && packet.root
        && matches!(&packet.data, Some(ValueRef::Array(items))
            if items.first().and_then(str_of) == Some(name))
}

/// True for the ACK `id` on `/`, with data `[echo]` when `echo` is given.
pub fn is_ack(packet: &Packet<'_>, id: u64, echo: Option<u64>) -> bool {
    packet.kind == 3
        && packet.root
        && packet.id == Some(id)
        && match (&packet.data, echo) {
            (Some(ValueRef::Array(items)), Some(echo)) => {
                items.len() == 1 && items[0].as_u64() == Some(echo)
            }
            (Some(ValueRef::Array(_)), None) => true,
            _ => false,
        }
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
    }
}
