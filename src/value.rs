//! [`Value`]: the dynamic type of event arguments, JSON plus binary, binary kept in place.
//!
//! Socket.IO sends binary (a `Buffer` or `ArrayBuffer` anywhere in the arguments) as separate
//! attachments, with `{"_placeholder":true,"num":N}` in the JSON where each one was. A `Value`
//! has the attachments back in their places, as [`Value::Binary`]; serializing a `Value` (or any
//! type holding [`bytes::Bytes`]) puts them out as attachments again.

use std::fmt;

use bytes::Bytes;
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Serializer methods that all fail with one error, for serializers that accept only some
/// shapes: `refuse! { error_expr; serialize_bool(bool) -> (); ... }` inside the `impl`.
macro_rules! refuse {
    ($error:expr; $($name:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<$ret, Self::Error> { Err($error) })*
    };
}
pub(crate) use refuse;

/// The (year, month 1-12, day 1-31) of `days` since 1970-01-01, negative before it (Howard
/// Hinnant's `civil_from_days`), as JavaScript's `Date` counts in UTC.
pub(crate) fn civil_date(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `ms` since the epoch as `Date.prototype.toJSON` writes it: `1970-01-01T00:00:00.000Z`, with
/// a signed six-digit year outside 0..=9999.
#[cfg(any(feature = "admin", feature = "msgpack", feature = "redis"))]
pub(crate) fn iso_date(ms: i64) -> String {
    let (year, month, day) = civil_date(ms.div_euclid(86_400_000));
    let in_day = ms.rem_euclid(86_400_000);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:06}", -year)
    } else {
        format!("+{year:06}")
    };
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

// `pub` items for the Redis wire codec's re-exports; without it, the parser uses a part.
#[cfg(any(feature = "redis", feature = "msgpack"))]
#[cfg_attr(not(feature = "redis"), allow(unreachable_pub, dead_code))]
pub(crate) mod msgpack;
#[cfg(feature = "msgpack")]
pub(crate) mod msgpack_serializer;

/// A dynamic event argument: any JSON value, or binary data.
///
/// Objects keep their keys in the order they came in. Handlers get every argument as a `Value`
/// with [`Args`](crate::extract::Args); [`TestClient::recv`](crate::testing::TestClient::recv)
/// gives them too.
///
/// ```
/// use tower_socketio::extract::{AckSender, Args};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo, Value};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("describe", |ack: AckSender, Args(args): Args| async move {
///         let kinds: Vec<&str> = args
///             .iter()
///             .map(|arg| match arg {
///                 Value::Null => "null",
///                 Value::Bool(_) => "bool",
///                 Value::Number(_) => "number",
///                 Value::String(_) => "string",
///                 Value::Binary(_) => "binary",
///                 Value::Array(_) => "array",
///                 Value::Object(_) => "object",
///             })
///             .collect();
///         let _ = ack.send(&kinds);
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let args = (1, "two", bytes::Bytes::from_static(b"3"), serde_json::json!({"four": [4]}));
/// let kinds: Vec<String> = client.emit_with_ack("describe", &args).await.unwrap();
/// assert_eq!(kinds, ["number", "string", "binary", "object"]);
/// # }
/// ```
///
/// It converts from `serde_json::Value` and plain values, and reads into any `Deserialize`
/// type:
///
/// ```
/// use tower_socketio::Value;
///
/// let value = Value::from(serde_json::json!({"name": "ada", "age": 36}));
/// assert_eq!(value.get("name"), Some(&Value::from("ada")));
///
/// #[derive(serde::Deserialize)]
/// struct Person { name: String, age: u8 }
/// let person: Person = value.deserialize_into().unwrap();
/// assert_eq!((person.name.as_str(), person.age), ("ada", 36));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`
    #[default]
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// Binary data (a `Buffer`, `ArrayBuffer` or typed array on the JavaScript side).
    Binary(Bytes),
    /// An array.
    Array(Vec<Value>),
    /// An object, keys in order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The value of `key` when this is an object that has it.
    ///
    /// ```
    /// use tower_socketio::Value;
    ///
    /// let auth = Value::from(serde_json::json!({"token": "abc"}));
    /// assert_eq!(auth.get("token").and_then(Value::as_str), Some("abc"));
    /// assert_eq!(auth.get("user"), None);
    /// assert_eq!(Value::from("not an object").get("token"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, when this is one.
    ///
    /// ```
    /// use tower_socketio::Value;
    ///
    /// assert_eq!(Value::from("hello").as_str(), Some("hello"));
    /// assert_eq!(Value::from(true).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, when this is binary.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use tower_socketio::Value;
    ///
    /// let file = Value::from(Bytes::from_static(b"\x89PNG"));
    /// assert_eq!(file.as_bytes().map(|b| b.len()), Some(4));
    /// assert_eq!(Value::from("text").as_bytes(), None);
    /// ```
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Value::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// Deserializes a `T` from this value (binary goes to `Bytes`, `Vec<u8>` and the like).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use tower_socketio::Value;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Upload { name: String, content: Bytes }
    ///
    /// let value = Value::Object(vec![
    ///     ("name".into(), Value::from("a.txt")),
    ///     ("content".into(), Value::from(Bytes::from_static(b"hello"))),
    /// ]);
    /// let upload: Upload = value.deserialize_into().unwrap();
    /// assert_eq!((upload.name.as_str(), &upload.content[..]), ("a.txt", &b"hello"[..]));
    /// ```
    pub fn deserialize_into<T: de::DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        T::deserialize(self)
    }

    /// Puts attachments in place of their placeholders, taking each from `attachments`.
    ///
    /// Fails when a placeholder names an attachment that does not exist.
    pub(crate) fn fill_placeholders(&mut self, attachments: &[Bytes]) -> Result<(), ()> {
        match self {
            Value::Array(items) => items
                .iter_mut()
                .try_for_each(|v| v.fill_placeholders(attachments)),
            Value::Object(entries) => {
                if let Some(num) = placeholder_num(entries) {
                    let data = attachments.get(num).ok_or(())?;
                    *self = Value::Binary(data.clone());
                    return Ok(());
                }
                entries
                    .iter_mut()
                    .try_for_each(|(_, v)| v.fill_placeholders(attachments))
            }
            _ => Ok(()),
        }
    }
}

/// `Some(N)` for the object `{"_placeholder":true,"num":N}`.
fn placeholder_num(entries: &[(String, Value)]) -> Option<usize> {
    if entries.len() != 2 {
        return None;
    }
    let mut marked = false;
    let mut num = None;
    for (key, value) in entries {
        match (key.as_str(), value) {
            ("_placeholder", Value::Bool(true)) => marked = true,
            ("num", Value::Number(n)) => num = n.as_u64().and_then(|n| usize::try_from(n).ok()),
            _ => return None,
        }
    }
    if marked { num } else { None }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Bytes> for Value {
    fn from(b: Bytes) -> Self {
        Value::Binary(b)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                Value::Object(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Binary(b) => serializer.serialize_bytes(b),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value or binary data")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_bytes<E>(self, b: &[u8]) -> Result<Value, E> {
        Ok(Value::Binary(Bytes::copy_from_slice(b)))
    }
    fn visit_byte_buf<E>(self, b: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Binary(Bytes::from(b)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Value::Object(entries))
    }
}

impl<'de> IntoDeserializer<'de, serde_json::Error> for Value {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// Any `T: Deserialize` can be read out of a `Value`: binary is offered as bytes.
impl<'de> Deserializer<'de> for Value {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => n.deserialize_any(visitor),
            Value::String(s) => visitor.visit_string(s),
            Value::Binary(b) => visitor.visit_byte_buf(b.into()),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Object(entries) => {
                let mut map = MapDeserializer::new(entries.into_iter());
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            Value::Object(entries) if entries.len() == 1 => visitor.visit_enum(
                de::value::MapAccessDeserializer::new(MapDeserializer::new(entries.into_iter())),
            ),
            other => Err(de::Error::invalid_type(other.unexpected(), &"an enum")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl Value {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match self {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Number(_) => de::Unexpected::Other("number"),
            Value::String(s) => de::Unexpected::Str(s),
            Value::Binary(b) => de::Unexpected::Bytes(b),
            Value::Array(_) => de::Unexpected::Seq,
            Value::Object(_) => de::Unexpected::Map,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_in_place() {
        let mut v: Value = serde_json::from_str(
            r#"[{"a":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":0},{"num":0}]"#,
        )
        .unwrap();
        let att = [Bytes::from_static(b"x"), Bytes::from_static(b"y")];
        v.fill_placeholders(&att).unwrap();
        assert_eq!(
            v,
            Value::Array(vec![
                Value::Object(vec![("a".into(), Value::Binary(att[1].clone()))]),
                Value::Binary(att[0].clone()),
                Value::Object(vec![("num".into(), Value::from(0))]),
            ])
        );
        let mut bad: Value = serde_json::from_str(r#"{"_placeholder":true,"num":2}"#).unwrap();
        assert!(bad.fill_placeholders(&att).is_err());
    }

    #[test]
    fn deserializes_typed_values_with_binary() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct File {
            name: String,
            data: Bytes,
            size: Option<u32>,
        }
        let v = Value::Object(vec![
            ("name".into(), "a.txt".into()),
            ("data".into(), Value::Binary(Bytes::from_static(b"hi"))),
        ]);
        let file: File = v.deserialize_into().unwrap();
        assert_eq!(
            file,
            File {
                name: "a.txt".into(),
                data: Bytes::from_static(b"hi"),
                size: None
            }
        );
        let (a, b): (u8, String) = Value::Array(vec![1.into(), "x".into()])
            .deserialize_into()
            .unwrap();
        assert_eq!((a, b.as_str()), (1, "x"));
        #[derive(Deserialize, Debug, PartialEq)]
        enum E {
            A,
            B(u8),
        }
        assert_eq!(Value::from("A").deserialize_into::<E>().unwrap(), E::A);
        let b = Value::Object(vec![("B".into(), 3.into())]);
        assert_eq!(b.deserialize_into::<E>().unwrap(), E::B(3));
        assert!(Value::from("x").deserialize_into::<u8>().is_err());
    }

    #[test]
    fn keeps_key_order() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":2}"#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"b":1,"a":2}"#);
    }
}
