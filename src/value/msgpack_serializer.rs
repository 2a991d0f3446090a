//! A serde serializer writing MessagePack as notepack.io writes the same JavaScript value (the
//! forms of [`encode_msgpack`](super::msgpack::encode_msgpack), byte for byte), with serde
//! types laid out as `serde_json` lays them out: what the MessagePack parser sends, straight from
//! the application's types, without a [`Value`](super::Value) in between.
//!
//! Layout, as in JSON: `()`, `None` and unit structs are nil; a unit variant is its name; a
//! newtype variant `{name: value}`; tuples and sequences are arrays; structs and maps are maps
//! (keys in order; integer keys as their decimal strings, as `serde_json` writes them); bytes
//! (`bytes::Bytes`, `serde_bytes`) are `bin`. Numbers: integers in their smallest form (unsigned
//! forms for non-negative ones), floats as float 64 unless integral (then an integer form, as
//! JavaScript has one number type and notepack.io writes `2.0` as `2`).
//!
//! Errors are `serde_json::Error`s (what [`EmitError::Serialize`](crate::error::EmitError) holds
//! for either parser).

use serde::ser::{self, Error as _, Impossible, Serialize};

use super::msgpack::{
    Dialect, write_array_len, write_bin, write_f64, write_map_len, write_str, write_u64,
};

type Error = serde_json::Error;

/// Writes MessagePack into `out`.
pub(crate) struct Serializer<'a> {
    out: &'a mut Vec<u8>,
    /// The next tuple writes its elements only, no array header: the caller wrote the header of
    /// an array that the tuple's elements continue (event arguments after the event name).
    spread_next_tuple: bool,
}

impl<'a> Serializer<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        Serializer {
            out,
            spread_next_tuple: false,
        }
    }

    /// The next value, a tuple, is written without its array header.
    pub(crate) fn spread_tuple(mut self) -> Self {
        self.spread_next_tuple = true;
        self
    }

    fn signed(&mut self, n: i64) {
        if n >= 0 {
            write_u64(self.out, n as u64);
        } else {
            rmp::encode::write_sint(self.out, n).expect("writing into memory");
        }
    }

    /// Starts an array or a map of `len` items (`None`: unknown, the header is written at the
    /// end).
    fn compound(&mut self, kind: Kind, len: Option<usize>) -> Compound<'_, 'a> {
        let start = self.out.len();
        match (kind, len) {
            (Kind::Array, Some(len)) => write_array_len(self.out, len),
            (Kind::Map, Some(len)) => write_map_len(self.out, len),
            (Kind::Spread, _) | (_, None) => {}
        }
        Compound {
            ser: self,
            kind,
            start,
            announced: len,
            count: 0,
        }
    }

    /// `{variant: ...}`: a map of one entry whose value follows.
    fn variant_key(&mut self, variant: &str) {
        self.out.push(0x81);
        write_str(self.out, variant);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Array,
    Map,
    /// A spread tuple: elements only.
    Spread,
}

/// An array or a map being written.
pub(crate) struct Compound<'b, 'a> {
    ser: &'b mut Serializer<'a>,
    kind: Kind,
    /// Where its header is (or goes).
    start: usize,
    /// The length written in the header, if any.
    announced: Option<usize>,
    /// Items written (map entries count once).
    count: usize,
}

impl Compound<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.count += 1;
        value.serialize(&mut *self.ser)
    }

    /// Fixes the header when the announced length was missing or wrong (a `Serialize` impl
    /// that did not know or lied): the header for the real count replaces it.
    fn finish(self) -> Result<(), Error> {
        if self.kind == Kind::Spread || self.announced == Some(self.count) {
            return Ok(());
        }
        let old = match self.announced {
            None => 0,
            Some(n) if n < 16 => 1,
            Some(n) if n < 0x10000 => 3,
            Some(_) => 5,
        };
        let mut header = Vec::with_capacity(5);
        match self.kind {
            Kind::Array => write_array_len(&mut header, self.count),
            _ => write_map_len(&mut header, self.count),
        }
        self.ser
            .out
            .splice(self.start..self.start + old, header.iter().copied());
        Ok(())
    }
}

impl<'b, 'a> ser::Serializer for &'b mut Serializer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'b, 'a>;
    type SerializeTuple = Compound<'b, 'a>;
    type SerializeTupleStruct = Compound<'b, 'a>;
    type SerializeTupleVariant = Compound<'b, 'a>;
    type SerializeMap = Compound<'b, 'a>;
    type SerializeStruct = Compound<'b, 'a>;
    type SerializeStructVariant = Compound<'b, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.push(if v { 0xc3 } else { 0xc2 });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.signed(i64::from(v));
        Ok(())
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.signed(i64::from(v));
        Ok(())
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.signed(i64::from(v));
        Ok(())
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.signed(v);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        if let Ok(v) = u64::try_from(v) {
            write_u64(self.out, v);
        } else if let Ok(v) = i64::try_from(v) {
            self.signed(v);
        } else {
            return Err(Error::custom("number out of range"));
        }
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        write_u64(self.out, u64::from(v));
        Ok(())
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        write_u64(self.out, u64::from(v));
        Ok(())
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        write_u64(self.out, u64::from(v));
        Ok(())
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        write_u64(self.out, v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        let v = u64::try_from(v).map_err(|_| Error::custom("number out of range"))?;
        write_u64(self.out, v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        write_f64(self.out, f64::from(v), Dialect::Notepack);
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        write_f64(self.out, v, Dialect::Notepack);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        write_bin(self.out, v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.out.push(0xc0);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.push(0xc0);
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.out.push(0xc0);
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        write_str(self.out, variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant_key(variant);
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Ok(self.compound(Kind::Array, len))
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, Error> {
        if std::mem::take(&mut self.spread_next_tuple) {
            let start = self.out.len();
            return Ok(Compound {
                ser: self,
                kind: Kind::Spread,
                start,
                announced: Some(len),
                count: 0,
            });
        }
        Ok(self.compound(Kind::Array, Some(len)))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Ok(self.compound(Kind::Array, Some(len)))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        self.variant_key(variant);
        Ok(self.compound(Kind::Array, Some(len)))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Ok(self.compound(Kind::Map, len))
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Self::SerializeStruct, Error> {
        Ok(self.compound(Kind::Map, Some(len)))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        self.variant_key(variant);
        Ok(self.compound(Kind::Map, Some(len)))
    }
}

/// The sequence-like compounds: each element written in turn, the length fixed at the end.
macro_rules! sequence_compound {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }

            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

sequence_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.count += 1;
        key.serialize(KeySerializer(&mut *self.ser.out))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.ser)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// The struct-like compounds: maps keyed by the field names.
macro_rules! struct_compound {
    ($($trait:ident),* $(,)?) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.count += 1;
                write_str(self.ser.out, key);
                value.serialize(&mut *self.ser)
            }

            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

struct_compound!(SerializeStruct, SerializeStructVariant);

/// Map keys: strings, as JavaScript has them (integers and chars written as strings, as
/// `serde_json` writes them); anything else is an error.
struct KeySerializer<'a>(&'a mut Vec<u8>);

impl KeySerializer<'_> {
    fn number(self, n: impl std::fmt::Display) -> Result<(), Error> {
        write_str(self.0, &n.to_string());
        Ok(())
    }
}

fn key_error() -> Error {
    Error::custom("a map key must be a string")
}

/// Integer keys, written as their decimal text (as JavaScript object keys are).
macro_rules! number_keys {
    ($($name:ident($ty:ty)),* $(,)?) => {
        $(fn $name(self, v: $ty) -> Result<(), Error> { self.number(v) })*
    };
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.0, v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.0, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        write_str(self.0, variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    number_keys!(
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
    );

    super::refuse! { key_error();
        serialize_bool(bool) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
        Err(key_error())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(key_error())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde::Serialize;

    use super::super::Value;
    use super::super::msgpack::{decode, encode_msgpack};
    use super::*;

    fn bytes<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        value.serialize(&mut Serializer::new(&mut out)).unwrap();
        out
    }

    /// Whatever goes through serde comes out as the `Value` of the same data would.
    #[test]
    fn same_bytes_as_the_value_encoder() {
        let value = Value::from(serde_json::json!({
            "n": [0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295u64, 4294967296u64, u64::MAX,
                  -1, -32, -33, -128, -129, -32768, -32769, -2147483648i64, -2147483649i64, i64::MIN,
                  1.5, 2.0, -0.0, 1e300],
            "s": ["", "a", "x".repeat(31), "x".repeat(32), "x".repeat(256), "x".repeat(65536)],
            "nested": {"a": [true, false, null], "b": {}},
            "long": (0..20).collect::<Vec<_>>(),
        }));
        let mut expected = Vec::new();
        encode_msgpack(&mut expected, &value);
        assert_eq!(bytes(&value), expected);
        let json = serde_json::to_value(&value).unwrap();
        assert_eq!(bytes(&json), expected);
    }

    #[test]
    fn serde_layout_is_json_layout() {
        #[derive(Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, u8),
            Struct { a: u8 },
        }
        #[derive(Serialize)]
        struct S {
            name: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
            none: Option<u8>,
            unit: (),
            file: Bytes,
        }
        let s = S {
            name: "a",
            skipped: None,
            none: None,
            unit: (),
            file: Bytes::from_static(b"\x01"),
        };
        let expected = Value::Object(vec![
            ("name".into(), Value::from("a")),
            ("none".into(), Value::Null),
            ("unit".into(), Value::Null),
            ("file".into(), Value::Binary(Bytes::from_static(b"\x01"))),
        ]);
        assert_eq!(decode(&bytes(&s).into()).unwrap(), expected);
        let variants = (E::Unit, E::New(1), E::Tuple(1, 2), E::Struct { a: 3 });
        let json = serde_json::to_value(&variants).unwrap();
        assert_eq!(decode(&bytes(&variants).into()).unwrap(), Value::from(json));
        // Integer keys as strings; a map of unknown length gets its header at the end.
        let map: std::collections::BTreeMap<u32, Vec<u8>> = [(1, vec![]), (20, vec![7])].into();
        assert_eq!(bytes(&map), b"\x82\xa11\x90\xa220\x91\x07");
        struct Unknown;
        impl Serialize for Unknown {
            fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq((0..34).filter(|n| n % 2 == 0).map(|n| n / 2))
            }
        }
        let mut expected = vec![0xdc, 0, 17];
        expected.extend(0..17u8);
        assert_eq!(bytes(&Unknown), expected);
        let mut out = Vec::new();
        let bad: std::collections::HashMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        assert!(bad.serialize(&mut Serializer::new(&mut out)).is_err());
    }

    #[test]
    fn a_spread_tuple_has_no_header() {
        let mut out = vec![0x93];
        (1, "a")
            .serialize(&mut Serializer::new(&mut out).spread_tuple())
            .unwrap();
        assert_eq!(out, b"\x93\x01\xa1a");
    }
}
