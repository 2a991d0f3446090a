//! In front of a bare tower service (what the 1.x README does with Koa's `app.callback()`): any
//! `tower::Service` that answers HTTP requests can take the layer.
//!
//! ```text
//! cargo run --example tower_service     # 127.0.0.1:3000, or $PORT
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tower::{ServiceBuilder, service_fn};
use tower_socketio::extract::{AckSender, Data};
use tower_socketio::{Namespace, SocketIo};

/// The application: a tower service written by hand.
async fn app(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match req.uri().path() {
        "/" => (StatusCode::OK, "a tower service"),
        _ => (StatusCode::NOT_FOUND, "not found"),
    };
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    Ok(response)
}

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
    // Composed like any other middleware.
    let service = ServiceBuilder::new()
        .layer(io.layer())
        .service(service_fn(app));

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
    }
}
