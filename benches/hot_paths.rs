//! Micro benchmarks of the hot paths: Engine.IO and Socket.IO packet encoding and decoding,
//! binary reassembly, and a broadcast to 1,000 sockets in-process.
//!
//! ```text
//! cargo bench --bench hot_paths
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use tower_layer::Layer;
use tower_socketio::bench_support as hot;
use tower_socketio::engine::Str;
use tower_socketio::serve::NotFound;
use tower_socketio::testing::TestClient;
use tower_socketio::{EngineConfig, Namespace, SocketIo};

fn engine_io(c: &mut Criterion) {
    let messages: Vec<Str> = (0..10)
        .map(|i| {
            Str::from(format!(
                "2[\"chat\",{{\"user\":\"ada\",\"text\":\"hello {i}\"}}]"
            ))
        })
        .collect();
    c.bench_function("eio/encode_payload_10", |b| {
        b.iter(|| hot::eio_encode_payload(black_box(&messages)))
    });
    let body = hot::eio_encode_payload(&messages);
    c.bench_function("eio/decode_payload_10", |b| {
        b.iter(|| assert_eq!(hot::eio_decode_payload(black_box(body.clone())), 10))
    });
    let frame = Str::from("42[\"chat\",{\"user\":\"ada\",\"text\":\"hello\"}]".to_owned());
    c.bench_function("eio/decode_frame", |b| {
        b.iter(|| assert!(hot::eio_decode_frame(black_box(frame.clone()))))
    });
}

fn socket_io(c: &mut Criterion) {
    let data = json!({"user": "ada", "text": "hello", "at": 1_700_000_000_000u64});
    c.bench_function("sio/encode_event", |b| {
        b.iter(|| hot::sio_encode_event("chat", black_box(&data)))
    });
    let (text, _) = hot::sio_encode_event("chat", &data);
    c.bench_function("sio/decode_event", |b| {
        b.iter(|| hot::sio_decode_event(black_box(text.clone()), &[]).expect("decodes"))
    });
    // Binary: two 1 KiB attachments, encoded with placeholders and put back in place.
    let picture = Bytes::from(vec![7u8; 1024]);
    let thumbnail = Bytes::from(vec![9u8; 1024]);
    c.bench_function("sio/encode_binary_event", |b| {
        b.iter(|| hot::sio_encode_event("upload", black_box(&(picture.clone(), thumbnail.clone()))))
    });
    let (text, attachments) =
        hot::sio_encode_event("upload", &(picture.clone(), thumbnail.clone()));
    assert_eq!(attachments.len(), 2);
    c.bench_function("sio/binary_reassembly", |b| {
        b.iter(|| {
            let (_, args) =
                hot::sio_decode_event(black_box(text.clone()), &attachments).expect("decodes");
            assert_eq!(args.len(), 2);
        })
    });
}

/// `io.emit` to 1,000 connected sockets (in-process polling clients). Only the emits are
/// timed; the clients drain their queues between batches.
fn broadcast(c: &mut Criterion) {
    const SOCKETS: usize = 1000;
    const BATCH: u64 = 50;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let io = SocketIo::builder()
        .config(EngineConfig::default())
        .ns("/", Namespace::new())
        .build();
    let service = io.layer().layer(NotFound);
    let mut clients = runtime.block_on(async {
        let mut clients = Vec::with_capacity(SOCKETS);
        for _ in 0..SOCKETS {
            clients.push(
                TestClient::connect(service.clone(), "/")
                    .await
                    .expect("connect"),
            );
        }
        clients
    });
    c.bench_function("broadcast/emit_to_1000_sockets", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let batch = BATCH.min(iters - done);
                let started = Instant::now();
                for i in 0..batch {
                    let _ = io.emit("tick", black_box(&i));
                }
                timed += started.elapsed();
                done += batch;
                runtime.block_on(async {
                    for client in &mut clients {
                        for _ in 0..batch {
                            client.recv().await.expect("tick");
                        }
                    }
                });
            }
            timed
        })
    });
}

criterion_group!(benches, engine_io, socket_io, broadcast);
criterion_main!(benches);
