//! The tower middleware: [`SocketIoLayer`] wraps any service; requests under the configured path
//! are answered by the Engine.IO server (or the client bundle), every other request reaches the
//! inner service untouched.
//!
//! As a tower-http middleware module: the [`Layer`], the [`Service`] it makes
//! ([`SocketIoService`]), its [`ResponseFuture`] and [`ResponseBody`]. Applications name only
//! [`SocketIoLayer`] (re-exported at the crate root), usually through `io.layer()`.
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use tower::ServiceExt;
//! use tower_socketio::SocketIo;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let io = SocketIo::builder().build();
//! let app = axum::Router::new()
//!     .route("/hello", axum::routing::get(|| async { "world" }))
//!     .layer(io.layer());
//! let get = |uri: &str| http::Request::get(uri).body(Full::new(Bytes::new())).unwrap();
//!
//! // Under the path: the Socket.IO server (here an Engine.IO handshake).
//! let handshake = app.clone().oneshot(get("/socket.io/?EIO=4&transport=polling")).await.unwrap();
//! let body = handshake.into_body().collect().await.unwrap().to_bytes();
//! assert!(body.starts_with(b"0{\"sid\":"));
//! // Anywhere else: the app.
//! let hello = app.oneshot(get("/hello")).await.unwrap();
//! assert_eq!(hello.into_body().collect().await.unwrap().to_bytes(), "world");
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::client::IoHandler;
use crate::engine::cors::{Cors, CorsHeaders};
use crate::engine::{BoxError, EngineHandler, EngineIo, EngineResponse, Routed};

/// A [`Layer`] that mounts an Engine.IO / Socket.IO server on a service.
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, routing::get};
/// use tower_socketio::{EngineConfig, SocketIoLayer};
/// use tower_socketio::engine::{EngineHandler, EngineIo, Message, Socket};
///
/// struct Echo;
/// impl EngineHandler for Echo {
///     type Data = ();
///     fn on_message(&self, socket: &Arc<Socket>, message: Message) {
///         let _ = socket.send(message);
///     }
/// }
///
/// let engine = EngineIo::new(EngineConfig::default(), Echo);
/// let app: Router = Router::new()
///     .route("/api/health", get(|| async { "ok" }))
///     .layer(SocketIoLayer::new(engine));
/// # let _ = app;
/// ```
///
/// # With tower-http
/// tower-http's middlewares work around the layer (the README's "With tower-http" says what
/// each does to Socket.IO's requests). Mind two of them:
/// - `TimeoutLayer`: a long-poll waits up to [`ping_interval`] for something to send. Around the
///   layer, a shorter timeout cuts it (the client takes the 408 for a transport error and
///   reconnects); put the timeout on the app's routes (before the layer, with axum) or make it
///   longer than `ping_interval`.
/// - `CorsLayer`: turn the layer's own CORS answers off with [`cors_headers(false)`] so that
///   one policy answers, and keep [`origins`] the same list (it refuses WebSocket handshakes
///   from other sites, which CORS does not cover).
///
/// `CompressionLayer`, `TraceLayer` and the request-id layers need nothing: large polling
/// responses come compressed from the engine already ([`http_compression`]) and are left alone,
/// the WebSocket handshake's `101` is not touched.
///
/// [`ping_interval`]: crate::EngineConfig::ping_interval
/// [`cors_headers(false)`]: crate::EngineConfig::cors_headers
/// [`origins`]: crate::EngineConfig::origins
/// [`http_compression`]: crate::EngineConfig::http_compression
///
/// ```
/// use std::time::Duration;
/// use axum::{Router, http::StatusCode, routing::get};
/// use tower_http::{compression::CompressionLayer, timeout::TimeoutLayer, trace::TraceLayer};
/// use tower_socketio::SocketIo;
///
/// let io = SocketIo::builder().build();
/// let app: Router = Router::new()
///     .route("/api/report", get(|| async { "slow work" }))
///     // The REST routes only: a long-poll may wait 25 s.
///     .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(10)))
///     .layer(io.layer())
///     // Every request, Socket.IO's included.
///     .layer(CompressionLayer::new())
///     .layer(TraceLayer::new_for_http());
/// # let _ = app;
/// ```
pub struct SocketIoLayer<H: EngineHandler = IoHandler> {
    engine: EngineIo<H>,
}

impl<H: EngineHandler> SocketIoLayer<H> {
    /// A layer serving `engine` under its configured path.
    ///
    /// ```
    /// use tower_socketio::{SocketIo, SocketIoLayer};
    ///
    /// let io = SocketIo::builder().build();
    /// let layer = SocketIoLayer::new(io.engine().clone()); // what `io.layer()` does
    /// let app: axum::Router = axum::Router::new().layer(layer);
    /// # let _ = app;
    /// ```
    pub fn new(engine: EngineIo<H>) -> Self {
        SocketIoLayer { engine }
    }
}

impl<H: EngineHandler> Clone for SocketIoLayer<H> {
    fn clone(&self) -> Self {
        SocketIoLayer {
            engine: self.engine.clone(),
        }
    }
}

impl<H: EngineHandler> std::fmt::Debug for SocketIoLayer<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoLayer")
            .field("engine", &self.engine)
            .finish()
    }
}

impl<S, H: EngineHandler> Layer<S> for SocketIoLayer<H> {
    type Service = SocketIoService<S, H>;

    fn layer(&self, inner: S) -> Self::Service {
        SocketIoService::new(inner, self.engine.clone())
    }
}

impl<H: EngineHandler> EngineIo<H> {
    /// The layer that mounts this server on a tower or axum app.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_socketio::EngineConfig;
    /// use tower_socketio::engine::{EngineHandler, EngineIo, Message, Socket};
    ///
    /// struct Echo;
    /// impl EngineHandler for Echo {
    ///     type Data = ();
    ///     fn on_message(&self, socket: &Arc<Socket>, message: Message) {
    ///         let _ = socket.send(message);
    ///     }
    /// }
    ///
    /// let engine = EngineIo::new(EngineConfig::default().path("/engine.io/"), Echo);
    /// let app: axum::Router = axum::Router::new().layer(engine.layer());
    /// # let _ = app;
    /// ```
    pub fn layer(&self) -> SocketIoLayer<H> {
        SocketIoLayer::new(self.clone())
    }
}

/// The [`Service`] made by [`SocketIoLayer`]: the Engine.IO server in front of `S`.
///
/// ```
/// use tower::Layer;
/// use tower_socketio::SocketIo;
/// use tower_socketio::serve::NotFound;
///
/// let io = SocketIo::builder().build();
/// // The layer wraps a service: here one answering 404 to everything outside the path.
/// let service = io.layer().layer(NotFound);
/// assert_eq!(service.engine().session_count(), 0);
/// ```
pub struct SocketIoService<S, H: EngineHandler = IoHandler> {
    inner: S,
    engine: EngineIo<H>,
    /// The CORS answers of the engine's origin policy.
    cors: Arc<Cors>,
}

impl<S: Clone, H: EngineHandler> Clone for SocketIoService<S, H> {
    fn clone(&self) -> Self {
        SocketIoService {
            inner: self.inner.clone(),
            engine: self.engine.clone(),
            cors: self.cors.clone(),
        }
    }
}

impl<S: std::fmt::Debug, H: EngineHandler> std::fmt::Debug for SocketIoService<S, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoService")
            .field("inner", &self.inner)
            .field("engine", &self.engine)
            .finish()
    }
}

impl<S, H: EngineHandler> SocketIoService<S, H> {
    /// The server `engine` in front of `inner`.
    ///
    /// ```
    /// use tower_socketio::SocketIo;
    /// use tower_socketio::layer::SocketIoService;
    /// use tower_socketio::serve::NotFound;
    ///
    /// let io = SocketIo::builder().build();
    /// let service = SocketIoService::new(NotFound, io.engine().clone());
    /// # let _ = service;
    /// ```
    pub fn new(inner: S, engine: EngineIo<H>) -> Self {
        let config = engine.config();
        let cors = Arc::new(Cors::new(config.origins.clone(), config.credentials));
        SocketIoService {
            inner,
            engine,
            cors,
        }
    }

    /// The Engine.IO server.
    ///
    /// ```
    /// use tower::Layer;
    /// use tower_socketio::SocketIo;
    /// use tower_socketio::serve::NotFound;
    ///
    /// let io = SocketIo::builder().build();
    /// let service = io.layer().layer(NotFound);
    /// assert_eq!(service.engine().config().allows_transport(tower_socketio::Transport::Polling), true);
    /// ```
    pub fn engine(&self) -> &EngineIo<H> {
        &self.engine
    }
}

impl<S, H, ReqBody, ResBody> Service<Request<ReqBody>> for SocketIoService<S, H>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    H: EngineHandler,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let config = self.engine.config();
        let Some(rest) = req.uri().path().strip_prefix(config.path.as_str()) else {
            return ResponseFuture {
                kind: Kind::Inner {
                    future: self.inner.call(req),
                },
            };
        };
        let fetch = req.method() == http::Method::GET || req.method() == http::Method::HEAD;
        if !rest.is_empty() && fetch && config.serve_client {
            if let Some(response) = crate::client_bundle::serve(rest, req.headers()) {
                return ResponseFuture {
                    kind: Kind::Ready {
                        response: Some(response.map(Full::new)),
                    },
                };
            }
        }
        if !rest.is_empty() && fetch {
            let files = self.engine.shared.static_files.get();
            if let Some(response) = files.and_then(|files| files(rest, req.headers())) {
                return ResponseFuture {
                    kind: Kind::Ready {
                        response: Some(response.map(Full::new)),
                    },
                };
            }
        }
        // WebSocket handshakes get no CORS headers: browsers apply none to them (the origin
        // policy is enforced by the engine itself, with a 403).
        let cors = if !config.cors_headers || req.headers().contains_key(http::header::UPGRADE) {
            CorsHeaders::default()
        } else {
            if let Some(response) = self.cors.preflight(&req) {
                return ResponseFuture {
                    kind: Kind::Ready {
                        response: Some(response),
                    },
                };
            }
            self.cors.headers_for(req.headers())
        };
        let kind = match self.engine.respond(req) {
            Routed::Done(mut response) => {
                cors.apply(response.headers_mut());
                Kind::Ready {
                    response: Some(response),
                }
            }
            Routed::Later(future) => Kind::Engine {
                future,
                cors: Some(cors),
            },
        };
        ResponseFuture { kind }
    }
}

pin_project! {
    /// The response future of [`SocketIoService`].
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use tower::{Layer, Service, ServiceExt};
    /// use tower_socketio::SocketIo;
    /// use tower_socketio::serve::NotFound;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().build();
    /// let mut service = io.layer().layer(NotFound);
    /// let request = http::Request::get("/elsewhere").body(Full::new(Bytes::new())).unwrap();
    /// let ready = ServiceExt::<http::Request<Full<Bytes>>>::ready(&mut service).await.unwrap();
    /// let future = ready.call(request); // a `ResponseFuture`
    /// assert_eq!(future.await.unwrap().status(), 404);
    /// # }
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Engine {
            future: Pin<Box<dyn Future<Output = EngineResponse> + Send>>,
            cors: Option<CorsHeaders>,
        },
        Ready { response: Option<Response<Full<Bytes>>> },
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => future
                .poll(cx)
                .map_ok(|response| response.map(|body| ResponseBody::inner(body))),
            KindProj::Engine { future, cors } => match future.as_mut().poll(cx) {
                Poll::Ready(mut response) => {
                    if let Some(cors) = cors.take() {
                        cors.apply(response.headers_mut());
                    }
                    Poll::Ready(Ok(response.map(ResponseBody::engine)))
                }
                Poll::Pending => Poll::Pending,
            },
            KindProj::Ready { response } => Poll::Ready(Ok(response
                .take()
                .expect("ResponseFuture polled after completion")
                .map(ResponseBody::engine))),
        }
    }
}

pin_project! {
    /// The response body of [`SocketIoService`]: the inner service's body, or one the server
    /// made.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::{BodyExt, Full};
    /// use tower::{Layer, ServiceExt};
    /// use tower_socketio::SocketIo;
    /// use tower_socketio::serve::NotFound;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder().build();
    /// let service = io.layer().layer(NotFound);
    /// let request = http::Request::get("/socket.io/?EIO=4&transport=polling").body(Full::new(Bytes::new())).unwrap();
    /// let response = service.oneshot(request).await.unwrap();
    /// let body = response.into_body().collect().await.unwrap().to_bytes(); // a `ResponseBody`
    /// assert_eq!(body[0], b'0'); // the Engine.IO open packet
    /// # }
    /// ```
    pub struct ResponseBody<B> {
        #[pin]
        kind: BodyKind<B>,
    }
}

pin_project! {
    #[project = BodyKindProj]
    enum BodyKind<B> {
        Inner { #[pin] body: B },
        Engine { #[pin] body: Full<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    fn inner(body: B) -> Self {
        ResponseBody {
            kind: BodyKind::Inner { body },
        }
    }

    fn engine(body: Full<Bytes>) -> Self {
        ResponseBody {
            kind: BodyKind::Engine { body },
        }
    }
}

/// An empty body, as middlewares that answer by themselves make one (tower-http's
/// `TimeoutLayer` needs it).
///
/// ```
/// use http_body::Body;
/// use tower_socketio::layer::ResponseBody;
///
/// let body = ResponseBody::<http_body_util::Empty<bytes::Bytes>>::default();
/// assert!(body.is_end_stream());
/// ```
impl<B> Default for ResponseBody<B> {
    fn default() -> Self {
        ResponseBody::engine(Full::default())
    }
}

impl<B: Body<Data = Bytes>> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            BodyKindProj::Inner { body } => body.poll_frame(cx),
            BodyKindProj::Engine { body } => body
                .poll_frame(cx)
                .map(|frame| frame.map(|result| result.map_err(|never| match never {}))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            BodyKind::Inner { body } => body.is_end_stream(),
            BodyKind::Engine { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            BodyKind::Inner { body } => body.size_hint(),
            BodyKind::Engine { body } => body.size_hint(),
        }
    }
}
