//! A bare WebSocket server on hyper 1 + tokio-tungstenite that speaks only the frames of the
//! bench scenarios (see `bare.rs`): the practical limit of that stack.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tower_socketio_bench::bare::{self, BATCH, Hub, MAX_MESSAGE};

type Frames = Hub<Utf8Bytes>;

async fn connection(upgraded: hyper::upgrade::Upgraded, hub: Arc<Frames>) {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(16 * 1024)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let mut ws =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    let (id, tx, mut rx) = hub.add();
    if ws.send(Message::text(bare::open_packet(id))).await.is_ok() {
        loop {
            tokio::select! {
                read = ws.next() => match read {
                    Some(Ok(Message::Text(text))) => hub.handle(id, &tx, &text, Utf8Bytes::from),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
                Some(first) = rx.recv() => {
                    if ws.feed(Message::Text(first)).await.is_err() { break }
                    let mut written = 1;
                    while written < BATCH {
                        let Ok(next) = rx.try_recv() else { break };
                        if ws.feed(Message::Text(next)).await.is_err() { break }
                        written += 1;
                    }
                    if ws.flush().await.is_err() { break }
                }
            }
        }
    }
    hub.remove(id);
}

fn upgrade(req: &mut Request<Incoming>, hub: Arc<Frames>) -> Response<Empty<Bytes>> {
    let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
        return Response::builder().status(400).body(Empty::new()).unwrap();
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(req);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            connection(upgraded, hub).await
        }
    });
    Response::builder()
        .status(101)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", accept)
        .body(Empty::new())
        .unwrap()
}

fn main() {
    bare::serve(upgrade);
}
