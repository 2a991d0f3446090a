//! A bare WebSocket server on hyper 1 + fastwebsockets that speaks only the frames of the bench
//! scenarios (see `bare.rs`): the practical limit of that stack. Reads and writes run as two
//! halves of one task; writes go through a 16 KiB buffer flushed once per batch.

use std::sync::Arc;

use bytes::Bytes;
use fastwebsockets::{FragmentCollectorRead, Frame, OpCode, Payload};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::{Request, Response};
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

fn upgrade(req: &mut Request<Incoming>, hub: Arc<Frames>) -> Response<Empty<Bytes>> {
    let Ok((response, upgraded)) = fastwebsockets::upgrade::upgrade(req) else {
        return Response::builder().status(400).body(Empty::new()).unwrap();
    };
    tokio::spawn(async move {
        if let Ok(ws) = upgraded.await {
            let io: TokioIo<hyper::upgrade::Upgraded> = ws.into_inner();
            let (read, write) = tokio::io::split(TokioIo::new(io.into_inner()));
            run(read, BufWriter::with_capacity(16 * 1024, write), hub).await
        }
    });
    response
}

fn main() {
    bare::serve(upgrade);
}
