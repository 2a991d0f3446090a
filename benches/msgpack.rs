//! The MessagePack parser's crate choice, measured: our encoder (the `msgpack_serializer` serde
//! serializer over `rmp`'s markers) against `rmp-serde`'s `to_vec_named` writing the same packet,
//! and our reader (`parser::msgpack::decode`, values straight into [`Value`], binary sliced out
//! of the frame) against `rmpv::decode::read_value` followed by the conversion into the same
//! `(event, Vec<Value>)`. Two events: a typical chat message
//! `["message", {"user": "ada", "text": "...", "n": 42}]`, and one carrying a 1 KiB binary.
//!
//! Both encoders must write the same bytes (checked before measuring), so the figures compare
//! the same work.
//!
//! ```text
//! cargo bench --features bench-support,msgpack --bench msgpack
//! ```

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use serde::Serialize;
use tower_socketio::Value;
use tower_socketio::bench_support as hot;

/// The typical event's argument, as an application declares it.
#[derive(Serialize)]
struct Message<'a> {
    user: &'a str,
    text: &'a str,
    n: u32,
}

const TEXT: &str = "hello, how is the analytical engine coming along?";

/// The packet `{type, data, nsp}` as `rmp-serde` writes it with `to_vec_named` (a struct is a
/// map of its field names, in declaration order, the order our encoder writes an EVENT in).
#[derive(Serialize)]
struct Packet<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: u8,
    data: (&'a str, &'a T),
    nsp: &'a str,
}

fn rmp_serde_event<T: Serialize>(event: &str, arg: &T) -> Vec<u8> {
    rmp_serde::to_vec_named(&Packet {
        kind: 2,
        data: (event, arg),
        nsp: "/",
    })
    .expect("serializable")
}

/// `rmpv`'s value of a decoded packet, converted into what our decoder gives the server: the
/// event name and its arguments as [`Value`]s, with the checks the server makes (a map with an
/// EVENT `type`, a string `nsp`, `data` an array starting with a string).
fn rmpv_decode_event(frame: &[u8]) -> Option<(String, Vec<Value>)> {
    let mut input = frame;
    let value = rmpv::decode::read_value(&mut input).ok()?;
    if !input.is_empty() {
        return None;
    }
    let rmpv::Value::Map(entries) = value else {
        return None;
    };
    let (mut kind, mut nsp, mut data) = (None, None, None);
    for (key, value) in entries {
        match key.as_str() {
            Some("type") => kind = value.as_u64(),
            Some("nsp") => nsp = value.as_str().map(str::to_owned),
            Some("data") => data = Some(value),
            _ => {}
        }
    }
    nsp?;
    if kind != Some(2) {
        return None;
    }
    let Some(rmpv::Value::Array(items)) = data else {
        return None;
    };
    let mut items = items.into_iter();
    let Some(rmpv::Value::String(name)) = items.next() else {
        return None;
    };
    Some((name.into_str()?, items.map(convert).collect()))
}

fn convert(value: rmpv::Value) -> Value {
    match value {
        rmpv::Value::Nil => Value::Null,
        rmpv::Value::Boolean(b) => Value::Bool(b),
        rmpv::Value::Integer(n) => match n.as_u64() {
            Some(u) => Value::Number(u.into()),
            None => Value::Number(n.as_i64().unwrap_or_default().into()),
        },
        rmpv::Value::F32(f) => number(f64::from(f)),
        rmpv::Value::F64(f) => number(f),
        rmpv::Value::String(s) => Value::String(s.into_str().unwrap_or_default()),
        rmpv::Value::Binary(b) => Value::Binary(Bytes::from(b)),
        rmpv::Value::Array(items) => Value::Array(items.into_iter().map(convert).collect()),
        rmpv::Value::Map(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), convert(v)))
                .collect(),
        ),
        rmpv::Value::Ext(..) => Value::Null,
    }
}

fn number(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// One event both ways: ours and the other crate's, on the same packet.
fn event<T: Serialize>(c: &mut Criterion, name: &str, event: &str, arg: &T) {
    let ours = hot::msgpack_encode_event(event, arg);
    let theirs = rmp_serde_event(event, arg);
    assert_eq!(
        ours.as_ref(),
        theirs.as_slice(),
        "{name}: both encoders write the same packet"
    );
    let mut group = c.benchmark_group(format!("msgpack/{name}"));
    group.bench_function("encode/ours", |b| {
        b.iter(|| hot::msgpack_encode_event(black_box(event), black_box(arg)))
    });
    group.bench_function("encode/rmp_serde_to_vec_named", |b| {
        b.iter(|| rmp_serde_event(black_box(event), black_box(arg)))
    });
    let decoded = hot::msgpack_decode_event(&ours).expect("our decoder reads it");
    assert_eq!(
        Some(&decoded),
        rmpv_decode_event(&ours).as_ref(),
        "{name}: both decoders read the same event"
    );
    group.bench_function("decode/ours", |b| {
        b.iter(|| hot::msgpack_decode_event(black_box(&ours)).expect("decodes"))
    });
    group.bench_function("decode/rmpv_read_value_and_convert", |b| {
        b.iter(|| rmpv_decode_event(black_box(&ours)).expect("decodes"))
    });
    group.finish();
}

fn message(c: &mut Criterion) {
    let arg = Message {
        user: "ada",
        text: TEXT,
        n: 42,
    };
    event(c, "message", "message", &arg);
}

fn binary(c: &mut Criterion) {
    let arg = Bytes::from(vec![7u8; 1024]);
    event(c, "binary_1k", "upload", &arg);
}

criterion_group!(benches, message, binary);
criterion_main!(benches);
