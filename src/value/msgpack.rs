//! The MessagePack form of a [`Value`], as the Node library notepack.io writes and reads it:
//! what Node's Redis adapters put on the wire, and what the MessagePack parser
//! (`socket.io-msgpack-parser`, notepack.io 2) sends. [`encode_msgpack`] writes a value,
//! [`decode`] reads one, [`Reader`] reads values one by one (a packet's map).
//!
//! notepack.io 2 and 3 write the same forms but for a few JavaScript types: 2 writes
//! `undefined` as the extension `d4 00 00` (3: nil), a typed array or `ArrayBuffer` from Node as
//! an extension of type 0 (3: `bin`), and a `Date` as the extension `d7 00` of its milliseconds
//! (3: a timestamp, extension -1). The reader takes all of them.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

use super::Value;

/// Why MessagePack could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MsgpackError(pub(crate) Cow<'static, str>);

impl MsgpackError {
    pub(crate) fn new(what: impl Into<Cow<'static, str>>) -> Self {
        MsgpackError(what.into())
    }
}

impl fmt::Display for MsgpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, MsgpackError>;

/// Which Node MessagePack library a peer writes with: they differ in the numbers they write as
/// integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// notepack.io 3 (the classic and sharded adapters, the emitter): any integral number below
    /// 2^64 in an integer form.
    Notepack,
    /// `@msgpack/msgpack` 2.8 (the streams adapter): only safe integers (at most 2^53 - 1 in
    /// magnitude) in an integer form, every other number as float 64.
    MsgpackJs,
}

/// The largest integer JavaScript holds exactly (`Number.MAX_SAFE_INTEGER`).
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Appends the MessagePack of `value` as notepack.io 3 writes the same JavaScript value:
/// integral numbers in their smallest integer form (unsigned forms for non-negative numbers, so
/// `-0` is `0`), other numbers as float 64, strings as fixstr/str 8/16/32, binary as bin
/// 8/16/32, arrays and objects in their smallest form, keys in order.
///
/// ```
/// # #[cfg(feature = "redis")] {
/// use tower_socketio::Value;
/// use tower_socketio::adapter::redis::wire::encode_msgpack;
///
/// let mut out = Vec::new();
/// encode_msgpack(&mut out, &Value::Array(vec![Value::from("hi"), Value::from(1)]));
/// assert_eq!(out, [0x92, 0xa2, b'h', b'i', 0x01]);
/// # }
/// ```
pub fn encode_msgpack(out: &mut Vec<u8>, value: &Value) {
    encode_msgpack_as(out, value, Dialect::Notepack);
}

/// Appends the MessagePack of `value` as the Node library `dialect` writes the same JavaScript
/// value. The two write everything alike but numbers: `@msgpack/msgpack` writes an integer form
/// only for safe integers (`Number.isSafeInteger`), float 64 for the others, where notepack.io
/// writes integers up to 2^64.
pub fn encode_msgpack_as(out: &mut Vec<u8>, value: &Value, dialect: Dialect) {
    match value {
        Value::Null => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                write_unsigned(out, u, dialect);
            } else if let Some(i) = n.as_i64() {
                if dialect == Dialect::MsgpackJs && i.unsigned_abs() > MAX_SAFE_INTEGER {
                    rmp::encode::write_f64(out, i as f64).expect("writing into memory");
                } else {
                    rmp::encode::write_sint(out, i).expect("writing into memory");
                }
            } else {
                write_f64(out, n.as_f64().unwrap_or(f64::NAN), dialect);
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Binary(b) => write_bin(out, b),
        Value::Array(items) => {
            write_array_len(out, items.len());
            for item in items {
                encode_msgpack_as(out, item, dialect);
            }
        }
        Value::Object(entries) => {
            write_map_len(out, entries.len());
            for (k, v) in entries {
                write_str(out, k);
                encode_msgpack_as(out, v, dialect);
            }
        }
    }
}

/// A JavaScript number: an integer form when it is integral and within the dialect's integers,
/// float 64 otherwise.
pub(crate) fn write_f64(out: &mut Vec<u8>, f: f64, dialect: Dialect) {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 {
        let (low, high) = match dialect {
            Dialect::Notepack => (-TWO_63, 2.0 * TWO_63),
            Dialect::MsgpackJs => (-(MAX_SAFE_INTEGER as f64), MAX_SAFE_INTEGER as f64 + 1.0),
        };
        // `-0.0` is in the first range: written as 0, as both libraries do.
        if (0.0..high).contains(&f) {
            return write_u64(out, f as u64);
        }
        if (low..0.0).contains(&f) {
            rmp::encode::write_sint(out, f as i64).expect("writing into memory");
            return;
        }
    }
    rmp::encode::write_f64(out, f).expect("writing into memory");
}

/// A non-negative integer, in the dialect's form.
pub(crate) fn write_unsigned(out: &mut Vec<u8>, n: u64, dialect: Dialect) {
    if dialect == Dialect::MsgpackJs && n > MAX_SAFE_INTEGER {
        rmp::encode::write_f64(out, n as f64).expect("writing into memory");
    } else {
        write_u64(out, n);
    }
}

pub(crate) fn write_u64(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        rmp::encode::write_uint(out, n).expect("writing into memory");
    }
}

pub(crate) fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    // rmp's forms (bin 8, 16, 32), with room reserved for the packet's end (`nsp`, `id`): a
    // binary is most often the last argument, and growing the buffer past it would copy it
    // once more.
    let len = b.len();
    out.reserve(len + 5 + 32);
    if let Ok(len) = u8::try_from(len) {
        out.extend_from_slice(&[0xc4, len]);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0xc5);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        let len = u32::try_from(len).expect("at most 2^32 - 1 bytes");
        out.push(0xc6);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(b);
}

pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    // rmp's forms (fixstr, str 8, 16, 32), written in place: through rmp's `Write` plumbing
    // a string cost about as much as the rest of a small event's encoding.
    let len = s.len();
    out.reserve(len + 5);
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if let Ok(len) = u8::try_from(len) {
        out.extend_from_slice(&[0xd9, len]);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0xda);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        let len = u32::try_from(len).expect("at most 2^32 - 1 bytes");
        out.push(0xdb);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

pub(crate) fn write_array_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).expect("at most 2^32 - 1 elements");
    rmp::encode::write_array_len(out, len).expect("writing into memory");
}

pub(crate) fn write_map_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).expect("at most 2^32 - 1 entries");
    rmp::encode::write_map_len(out, len).expect("writing into memory");
}

/// How deep a decoded value may nest.
pub(crate) const MAX_DEPTH: usize = 512;

/// Reads one MessagePack value, the whole of `input`, as notepack.io 3 reads it, into the value
/// a Node server would put in a Socket.IO packet: binary (`bin`, and the old `ArrayBuffer`
/// extension 0) as [`Value::Binary`] sharing `input`'s buffer; a timestamp (extension -1, and the
/// old date extension 0 of 8 bytes) as the ISO 8601 string `JSON.stringify` writes for that
/// `Date` (`null` outside JavaScript's range); the old `undefined` (`fixext 1` of type 0) as
/// `null` in an array and left out of an object; any other extension as `[type, data]`;
/// non-finite floats as `null`; map keys that are numbers as their decimal strings.
pub(crate) fn decode(input: &Bytes) -> Result<Value> {
    let mut reader = Reader::new(input);
    let value = reader.value(0)?.unwrap_or(Value::Null);
    if reader.pos != input.len() {
        return Err(MsgpackError::new(format!(
            "{} trailing bytes",
            input.len() - reader.pos
        )));
    }
    Ok(value)
}

/// A reader of MessagePack values from the start of `input`.
pub(crate) struct Reader<'a> {
    input: &'a Bytes,
    pos: usize,
    /// Every binary read (`bin` and the old `ArrayBuffer` extension), in order, when collected.
    binaries: Option<Vec<Bytes>>,
}

#[cfg_attr(not(feature = "msgpack"), allow(dead_code))]
impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a Bytes) -> Self {
        Reader {
            input,
            pos: 0,
            binaries: None,
        }
    }

    /// A reader that also collects the binaries it reads (see [`Reader::binaries`]).
    pub(crate) fn collecting(input: &'a Bytes) -> Self {
        Reader {
            input,
            pos: 0,
            binaries: Some(Vec::new()),
        }
    }

    /// The binaries read so far, in order (none unless the reader collects them).
    pub(crate) fn binaries(&mut self) -> Vec<Bytes> {
        self.binaries.take().unwrap_or_default()
    }

    /// Whether the whole input was read.
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.input.len()
    }

    /// Binary data: a slice of the input, collected when the reader collects.
    fn binary(&mut self, n: usize) -> Result<Value> {
        let data = self.slice(n)?;
        if let Some(binaries) = &mut self.binaries {
            binaries.push(data.clone());
        }
        Ok(Value::Binary(data))
    }

    /// Where the reader is.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Moves the reader to `pos` (a position found by an earlier read).
    pub(crate) fn skip_to(&mut self, pos: usize) {
        self.pos = pos.min(self.input.len());
    }

    /// The length of the array that starts here, or `None` (nothing read) when it is not one.
    pub(crate) fn array_len(&mut self) -> Result<Option<usize>> {
        let marker = *self
            .input
            .get(self.pos)
            .ok_or_else(|| MsgpackError::new("truncated MessagePack"))?;
        let len = match marker {
            0x90..=0x9f => {
                self.pos += 1;
                usize::from(marker & 0x0f)
            }
            0xdc | 0xdd => {
                self.pos += 1;
                self.len(2 << (marker - 0xdc))?
            }
            _ => return Ok(None),
        };
        Ok(Some(len))
    }

    /// The length of the map that starts here, or `None` (nothing read) when it is not a map.
    pub(crate) fn map_len(&mut self) -> Result<Option<usize>> {
        let marker = *self
            .input
            .get(self.pos)
            .ok_or_else(|| MsgpackError::new("truncated MessagePack"))?;
        let len = match marker {
            0x80..=0x8f => {
                self.pos += 1;
                usize::from(marker & 0x0f)
            }
            0xde | 0xdf => {
                self.pos += 1;
                self.len(2 << (marker - 0xde))?
            }
            _ => return Ok(None),
        };
        Ok(Some(len))
    }

    fn bytes(&mut self, n: usize) -> Result<&[u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.input.len())
            .ok_or_else(|| MsgpackError::new("truncated MessagePack"))?;
        let bytes = &self.input[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn slice(&mut self, n: usize) -> Result<Bytes> {
        let start = self.pos;
        self.bytes(n)?;
        Ok(self.input.slice(start..self.pos))
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.bytes(N)?.try_into().expect("N bytes"))
    }

    fn len(&mut self, size: usize) -> Result<usize> {
        Ok(match size {
            1 => usize::from(self.u8()?),
            2 => usize::from(u16::from_be_bytes(self.be()?)),
            _ => u32::from_be_bytes(self.be()?) as usize,
        })
    }

    /// One value; `None` for `undefined`.
    pub(crate) fn value(&mut self, depth: usize) -> Result<Option<Value>> {
        if depth > MAX_DEPTH {
            return Err(MsgpackError::new("MessagePack nested too deep"));
        }
        let marker = self.u8()?;
        let value = match marker {
            0x00..=0x7f => Value::from(i64::from(marker)),
            0x80..=0x8f => self.map(usize::from(marker & 0x0f), depth)?,
            0x90..=0x9f => self.array(usize::from(marker & 0x0f), depth)?,
            0xa0..=0xbf => self.str(usize::from(marker & 0x1f))?,
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4..=0xc6 => {
                let n = self.len(1 << (marker - 0xc4))?;
                self.binary(n)?
            }
            0xc7..=0xc9 => {
                let n = self.len(1 << (marker - 0xc7))?;
                let kind = self.u8()? as i8;
                return self.ext(kind, n, false);
            }
            0xca => number(f64::from(f32::from_be_bytes(self.be()?))),
            0xcb => number(f64::from_be_bytes(self.be()?)),
            0xcc => Value::from(i64::from(self.u8()?)),
            0xcd => Value::from(i64::from(u16::from_be_bytes(self.be()?))),
            0xce => Value::from(i64::from(u32::from_be_bytes(self.be()?))),
            0xcf => Value::Number(u64::from_be_bytes(self.be()?).into()),
            0xd0 => Value::from(i64::from(self.u8()? as i8)),
            0xd1 => Value::from(i64::from(i16::from_be_bytes(self.be()?))),
            0xd2 => Value::from(i64::from(i32::from_be_bytes(self.be()?))),
            0xd3 => Value::from(i64::from_be_bytes(self.be()?)),
            0xd4..=0xd8 => {
                let kind = self.u8()? as i8;
                return self.ext(kind, 1 << (marker - 0xd4), true);
            }
            0xd9..=0xdb => {
                let n = self.len(1 << (marker - 0xd9))?;
                self.str(n)?
            }
            0xdc | 0xdd => {
                let n = self.len(2 << (marker - 0xdc))?;
                self.array(n, depth)?
            }
            0xde | 0xdf => {
                let n = self.len(2 << (marker - 0xde))?;
                self.map(n, depth)?
            }
            0xe0..=0xff => Value::from(i64::from(marker as i8)),
            0xc1 => return Err(MsgpackError::new("invalid MessagePack marker 0xc1")),
        };
        Ok(Some(value))
    }

    fn str(&mut self, n: usize) -> Result<Value> {
        let bytes = self.bytes(n)?;
        // Valid UTF-8 checked the fast way (`from_utf8_lossy` walks its chunks: a fifth of a
        // small event's decoding); invalid sequences replaced as before.
        let s = match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        };
        Ok(Value::String(s))
    }

    /// A map key: the bytes of a string, borrowed (no `String` for the packet's own keys), or
    /// `None` after reading a key of another type (which is another key).
    pub(crate) fn key(&mut self, depth: usize) -> Result<Option<&'a [u8]>> {
        let marker = *self
            .input
            .get(self.pos)
            .ok_or_else(|| MsgpackError::new("truncated MessagePack"))?;
        let n = match marker {
            0xa0..=0xbf => {
                self.pos += 1;
                usize::from(marker & 0x1f)
            }
            0xd9..=0xdb => {
                self.pos += 1;
                self.len(1 << (marker - 0xd9))?
            }
            _ => {
                self.value(depth)?;
                return Ok(None);
            }
        };
        let input: &'a Bytes = self.input;
        let start = self.pos;
        self.bytes(n)?;
        Ok(Some(&input[start..self.pos]))
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Value> {
        // Every element takes at least a byte: a length past the input is a lie.
        let mut items = Vec::with_capacity(n.min(self.input.len() - self.pos));
        for _ in 0..n {
            items.push(self.value(depth + 1)?.unwrap_or(Value::Null));
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value> {
        let mut entries = Vec::with_capacity(n.min((self.input.len() - self.pos) / 2));
        for _ in 0..n {
            let key = match self.value(depth + 1)? {
                Some(Value::String(key)) => key,
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Null) => "null".to_owned(),
                None => "undefined".to_owned(),
                Some(_) => return Err(MsgpackError::new("map key is not a string")),
            };
            if let Some(value) = self.value(depth + 1)? {
                entries.push((key, value));
            }
        }
        Ok(Value::Object(entries))
    }

    /// An extension of type `kind` and `n` bytes (`fixed`: a fixext).
    fn ext(&mut self, kind: i8, n: usize, fixed: bool) -> Result<Option<Value>> {
        let value = match (kind, n, fixed) {
            // notepack.io's old `undefined`
            (0, 1, true) => {
                self.bytes(1)?;
                return Ok(None);
            }
            // notepack.io's old `ArrayBuffer`
            (0, _, false) => self.binary(n)?,
            // notepack.io's old Date: milliseconds, a signed 64-bit integer in two halves
            (0, 8, true) => {
                let ms = i64::from_be_bytes(self.be()?);
                iso_date(ms as f64)
            }
            (-1, 4, true) => iso_date(f64::from(u32::from_be_bytes(self.be()?)) * 1e3),
            (-1, 8, true) => {
                let hi = u32::from_be_bytes(self.be()?);
                let lo = u32::from_be_bytes(self.be()?);
                let seconds = f64::from(hi & 0x3) * 4_294_967_296.0 + f64::from(lo);
                iso_date(seconds * 1e3 + f64::from(hi >> 2) / 1e6)
            }
            (-1, 12, false) => {
                let nanos = u32::from_be_bytes(self.be()?);
                let seconds = i64::from_be_bytes(self.be()?);
                iso_date(seconds as f64 * 1e3 + f64::from(nanos) / 1e6)
            }
            _ => Value::Array(vec![
                Value::from(i64::from(kind)),
                Value::Binary(self.slice(n)?),
            ]),
        };
        Ok(Some(value))
    }
}

/// A float as JSON has it: non-finite ones are `null`.
pub(crate) fn number(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// What `JSON.stringify(new Date(ms))` writes: `"1970-01-01T00:00:00.000Z"`, with a signed
/// six-digit year outside 0..=9999; `null` for an invalid date (JavaScript's range is ±8.64e15
/// ms).
pub(crate) fn iso_date(ms: f64) -> Value {
    if !ms.is_finite() || ms.abs() > 8.64e15 {
        return Value::Null;
    }
    Value::String(super::iso_date(ms.trunc() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string form at its boundaries: the bytes rmp writes, and read back.
    #[test]
    fn string_forms_at_every_boundary() {
        for len in [0, 1, 31, 32, 255, 256, 65_535, 65_536] {
            let s = "é".repeat(len / 2) + &"x".repeat(len % 2);
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            let mut rmp = Vec::new();
            rmp::encode::write_str(&mut rmp, &s).unwrap();
            assert_eq!(ours, rmp, "length {len}");
            let input = Bytes::from(ours);
            assert_eq!(decode(&input).unwrap(), Value::String(s.clone()));
            assert_eq!(Reader::new(&input).key(0).unwrap(), Some(s.as_bytes()));
        }
    }

    /// Every binary form at its boundaries: the bytes rmp writes, and read back.
    #[test]
    fn binary_forms_at_every_boundary() {
        for len in [0, 1, 255, 256, 65_535, 65_536] {
            let b: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut ours = Vec::new();
            write_bin(&mut ours, &b);
            let mut rmp = Vec::new();
            rmp::encode::write_bin(&mut rmp, &b).unwrap();
            assert_eq!(ours, rmp, "length {len}");
            let input = Bytes::from(ours);
            assert_eq!(decode(&input).unwrap(), Value::Binary(Bytes::from(b)));
        }
    }

    /// Invalid UTF-8 reads with replacement characters; a key of another type is read whole.
    #[test]
    fn strings_and_keys_that_are_not_plain() {
        let input = Bytes::from_static(b"\xa3a\xffb");
        assert_eq!(decode(&input).unwrap(), Value::from("a\u{fffd}b"));
        assert_eq!(Reader::new(&input).key(0).unwrap(), Some(&b"a\xffb"[..]));
        // An array key is another key: read whole, the reader after it.
        let input = Bytes::from_static(b"\x92\x01\xa1x\xc0");
        let mut reader = Reader::new(&input);
        assert_eq!(reader.key(0).unwrap(), None);
        assert_eq!(reader.pos(), 4);
        // Truncated keys are errors.
        for cut in [b"\xa4typ".as_slice(), b"\xd9", b"\xd9\x04ty", b""] {
            let input = Bytes::copy_from_slice(cut);
            assert!(Reader::new(&input).key(0).is_err(), "{cut:x?}");
        }
    }
}
