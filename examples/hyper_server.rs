//! Attached to a plain hyper 1 server (the 1.x README's `require('socket.io')(server)`): the
//! layer wraps the server's own service; requests outside `/socket.io/` reach it untouched.
//!
//! ```text
//! cargo run --example hyper_server     # 127.0.0.1:3000, or $PORT
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tower::{Layer, service_fn};
use tower_socketio::extract::{AckSender, Data};
use tower_socketio::{Namespace, SocketIo};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = SocketIo::builder()
        .ns(
            "/",
            Namespace::new().on(
                "hello",
                |ack: AckSender, Data(name): Data<String>| async move {
                    let _ = ack.send(&format!("Hello, {name}!"));
                },
            ),
        )
        .build();
    // The application's own HTTP service.
    let app = service_fn(|_req: Request<hyper::body::Incoming>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
            b"plain hyper here",
        ))))
    });
    let service = io.layer().layer(app);

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            // Upgrades must be enabled for WebSocket.
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
    }
}
