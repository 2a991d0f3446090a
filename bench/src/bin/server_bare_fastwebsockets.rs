//! A bare WebSocket server on hyper 1 + fastwebsockets that speaks only the frames of the bench
//! scenarios (see `bare.rs`): the practical limit of that stack. Reads and writes run as two
//! halves of one task; writes go through a 16 KiB buffer flushed once per batch.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use fastwebsockets::{FragmentCollectorRead, Frame, OpCode, Payload};
use hyper::Request;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, BufWriter};
use tokio::sync::mpsc;
use tower_socketio_bench::bare::{self, BATCH, Hub, MAX_MESSAGE};

/// A frame to write: text, or a control frame answered by the reader (pong, close).
#[derive(Clone)]
enum Out {
    Text(Bytes),
    Control(OpCode, Bytes),
}

type Frames = Hub<Out>;

async fn write_half<W: AsyncWrite + Unpin>(
    mut ws: fastwebsockets::WebSocketWrite<W>,
    mut rx: mpsc::Receiver<Out>,
) {
    ws.set_writev(false);
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut written = 0;
        while let Some(out) = next.take() {
            let (opcode, payload) = match out {
                Out::Text(bytes) => (OpCode::Text, bytes),
                Out::Control(opcode, bytes) => (opcode, bytes),
            };
            if ws
                .write_frame(Frame::new(true, opcode, None, Payload::Borrowed(&payload)))
                .await
                .is_err()
            {
                return;
            }
            if opcode == OpCode::Close {
                let _ = ws.flush().await;
                return;
            }
            written += 1;
            if written < BATCH {
                next = rx.try_recv().ok();
            }
        }
        if ws.flush().await.is_err() {
            return;
        }
    }
}

async fn run<R, W>(read: R, write: W, hub: Arc<Frames>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (mut reader, writer) =
        fastwebsockets::after_handshake_split(read, write, fastwebsockets::Role::Server);
    reader.set_auto_close(true);
    reader.set_auto_pong(true);
    reader.set_max_message_size(MAX_MESSAGE);
    let mut reader = FragmentCollectorRead::new(reader);
    let (id, tx, rx) = hub.add();
    hub.send(&tx, Out::Text(Bytes::from(bare::open_packet(id))));
    let control = tx.clone();
    let read_loop = async move {
        let mut answer = |frame: Frame<'_>| {
            let out = Out::Control(frame.opcode, Bytes::copy_from_slice(&frame.payload));
            let control = control.clone();
            async move {
                control
                    .send(out)
                    .await
                    .map_err(|_| std::io::Error::other("closed"))
            }
        };
        loop {
            match reader.read_frame(&mut answer).await {
                Ok(frame) if frame.opcode == OpCode::Text => {
                    match std::str::from_utf8(&frame.payload) {
                        Ok(text) => hub.handle(id, &tx, text, |s| Out::Text(Bytes::from(s))),
                        Err(_) => break,
                    }
                }
                Ok(frame) if frame.opcode == OpCode::Close => break,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        hub.remove(id);
    };
    tokio::join!(read_loop, write_half(writer, rx));
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", bare::port()))
            .await
            .unwrap();
        let hub = Arc::new(Frames::default());
        bare::watch_drops(hub.clone());
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let hub = hub.clone();
            tokio::spawn(async move {
                let service = service_fn(move |mut req: Request<Incoming>| {
                    let hub = hub.clone();
                    let response =
                        fastwebsockets::upgrade::upgrade(&mut req).map(|(response, upgraded)| {
                            tokio::spawn(async move {
                                if let Ok(ws) = upgraded.await {
                                    let io: TokioIo<hyper::upgrade::Upgraded> = ws.into_inner();
                                    let (read, write) =
                                        tokio::io::split(TokioIo::new(io.into_inner()));
                                    run(read, BufWriter::with_capacity(16 * 1024, write), hub).await
                                }
                            });
                            response
                        });
                    async move {
                        Ok::<_, Infallible>(response.unwrap_or_else(|_| {
                            hyper::Response::builder()
                                .status(400)
                                .body(http_body_util::Empty::new())
                                .unwrap()
                        }))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
}
