//! Standalone serving, for apps with no other routes: a hyper server whose only service is the
//! layer (anything outside the path gets 404): [`EngineIo::listen`], [`EngineIo::serve`] and
//! their `SocketIo` counterparts, with limits on slow request heads and stalled writes
//! ([`EngineConfig::header_read_timeout`](crate::EngineConfig::header_read_timeout),
//! [`EngineConfig::write_timeout`](crate::EngineConfig::write_timeout)).
//!
//! ```no_run
//! use tower_socketio::{Namespace, SocketIo, SocketRef};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let io = SocketIo::builder()
//!         .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
//!             let _ = socket.emit("hello", "world");
//!         }))
//!         .build();
//!     // Until Ctrl-C or SIGTERM; then every client is told, and the server waits for them.
//!     io.listen("0.0.0.0:3000").await
//! }
//! ```

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Empty;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tower_service::Service;

use crate::engine::stall::StallTimer;
use crate::engine::{EngineHandler, EngineIo, RemoteAddr};
use crate::layer::SocketIoService;

/// The service behind the layer when serving standalone: 404 for everything.
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use tower::{Layer, ServiceExt};
/// use tower_socketio::SocketIo;
/// use tower_socketio::serve::NotFound;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder().build();
/// let standalone = io.layer().layer(NotFound); // what `io.listen` serves
/// let request = http::Request::get("/index.html").body(Full::new(Bytes::new())).unwrap();
/// assert_eq!(standalone.oneshot(request).await.unwrap().status(), 404);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NotFound;

impl<B> Service<Request<B>> for NotFound {
    type Response = Response<Empty<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<B>) -> Self::Future {
        let mut response = Response::new(Empty::new());
        *response.status_mut() = StatusCode::NOT_FOUND;
        ready(Ok(response))
    }
}

impl<H: EngineHandler> EngineIo<H> {
    /// Listens on `addr` and serves this server alone (the 1.x README's standalone
    /// `listen(3000)`) until the process gets Ctrl-C or `SIGTERM` ([`shutdown_signal`]), then
    /// shuts down gracefully as [`serve`](Self::serve) does. HTTP/1.1 is served, as by Node's
    /// `http` server; requests outside the path get 404. (For HTTP/2 or TLS, mount
    /// [`SocketIoLayer`] in a server that speaks them, such as `axum::serve` behind a TLS
    /// acceptor.)
    ///
    /// [`SocketIoLayer`]: crate::SocketIoLayer
    ///
    /// ```no_run
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
    /// #[tokio::main]
    /// async fn main() -> std::io::Result<()> {
    ///     EngineIo::new(EngineConfig::default().path("/engine.io/"), Echo).listen("0.0.0.0:3000").await
    /// }
    /// ```
    pub async fn listen(self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        self.serve(listener, shutdown_signal()).await
    }

    /// Serves connections from `listener` until `shutdown` completes; then shuts down
    /// gracefully: new connections are refused, every session is closed with "server shutting
    /// down" (see [`EngineIo::close`]; a reason connection state recovery restores from, so
    /// clients may resume on another server), and this returns once every session has closed,
    /// or after [`EngineConfig::shutdown_timeout`](crate::EngineConfig::shutdown_timeout).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_socketio::engine::{EngineHandler, Message, Socket};
    /// # struct Echo;
    /// # impl EngineHandler for Echo {
    /// #     type Data = ();
    /// #     fn on_message(&self, socket: &Arc<Socket>, message: Message) { let _ = socket.send(message); }
    /// # }
    /// use std::time::Duration;
    /// use tower_socketio::EngineConfig;
    /// use tower_socketio::engine::EngineIo;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
    /// let engine = EngineIo::new(EngineConfig::default().shutdown_timeout(Duration::from_secs(1)), Echo);
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let server = tokio::spawn(engine.serve(listener, async move { let _ = stopped.await; }));
    /// // ... later, shut down.
    /// let _ = stop.send(());
    /// server.await.unwrap()
    /// # }
    /// ```
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let header_timeout = self.config().header_read_timeout;
        let write_timeout = self.config().write_timeout;
        let service = SocketIoService::new(NotFound, self.clone());
        // The accept loop runs as a task of the runtime rather than in the caller's future
        // (often `block_on` on the main thread): a connection task spawned from a worker
        // starts there, without a cross-thread wake-up per connection.
        let accepting = tokio::spawn(accept_loop(
            listener,
            service,
            header_timeout,
            write_timeout,
        ));
        tokio::pin!(accepting);
        let result = tokio::select! {
            () = shutdown => {
                accepting.abort();
                Ok(())
            }
            ended = &mut accepting => match ended {
                Ok(never) => match never {},
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(_) => Ok(()),
            },
        };
        self.close();
        let deadline = tokio::time::Instant::now() + self.config().shutdown_timeout;
        while self.session_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if self.session_count() > 0 {
            tracing::warn!(
                sessions = self.session_count(),
                "shutdown: sessions still open after the shutdown timeout"
            );
        }
        result
    }
}

/// Completes when the process gets Ctrl-C (`SIGINT`) or, on Unix, `SIGTERM`: the shutdown signal
/// of [`EngineIo::listen`] and [`SocketIo::listen`](crate::SocketIo::listen), to give to
/// [`serve`](EngineIo::serve) or `axum::serve(..).with_graceful_shutdown(..)` too.
///
/// ```no_run
/// use tower_socketio::SocketIo;
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     let io = SocketIo::builder().build();
///     let app = axum::Router::new().layer(io.layer());
///     let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
///     axum::serve(listener, app)
///         .with_graceful_shutdown(async move {
///             tower_socketio::serve::shutdown_signal().await;
///             io.close(); // tell every client: "server shutting down"
///         })
///         .await
/// }
/// ```
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal: shutting down");
}

/// Accepts connections and serves each with HTTP/1.1 (upgrades included) on a task of its own.
async fn accept_loop<H: EngineHandler>(
    listener: TcpListener,
    service: SocketIoService<NotFound, H>,
    header_timeout: Duration,
    write_timeout: Duration,
) -> std::convert::Infallible {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Running out of file descriptors and the like: report, pause, go on.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let mut service = service.clone();
        let service = tower_service_fn(move |mut req: Request<hyper::body::Incoming>| {
            // Only a handshake (no session id yet) becomes a session's `req_parts`: the other
            // requests are spared an extensions map.
            if !req.uri().query().is_some_and(|q| q.contains("sid=")) {
                req.extensions_mut().insert(RemoteAddr(peer));
            }
            service.call(req)
        });
        tokio::spawn(async move {
            let mut http = http1::Builder::new();
            http.writev(false);
            if !header_timeout.is_zero() {
                // A request head that does not arrive in time (slowloris) drops the connection.
                http.timer(TokioTimer::new())
                    .header_read_timeout(header_timeout);
            }
            let connection = http
                .serve_connection(
                    TokioIo::new(StallGuard::new(stream, write_timeout)),
                    TowerToHyperService::new(service),
                )
                .with_upgrades();
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}

/// A tiny `service_fn`, to avoid a dependency on `tower` for one adapter.
fn tower_service_fn<F>(f: F) -> ServiceFn<F> {
    ServiceFn(f)
}

#[derive(Clone)]
struct ServiceFn<F>(F);

impl<F, Req, Fut, Res, E> Service<Req> for ServiceFn<F>
where
    F: FnMut(Req) -> Fut,
    Fut: Future<Output = Result<Res, E>>,
{
    type Response = Res;
    type Error = E;
    type Future = Fut;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Fut {
        (self.0)(req)
    }
}

/// A connection whose writes fail with `TimedOut` once one makes no progress for the write
/// timeout: hyper would otherwise wait forever to write a long-polling response to a client
/// that stopped reading, holding its task and socket after the session is over. (A WebSocket
/// session's driver has the same bound of its own, for servers built elsewhere.)
struct StallGuard {
    stream: TcpStream,
    stall: StallTimer,
}

impl StallGuard {
    fn new(stream: TcpStream, timeout: Duration) -> Self {
        StallGuard {
            stream,
            stall: StallTimer::new(timeout),
        }
    }

    /// Passes a write's outcome on; one that has to wait fails with `TimedOut` once the stall
    /// lasted the timeout.
    fn guard<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Pending if self.stall.poll_stalled(cx) => {
                tracing::debug!(
                    "a write made no progress for the write timeout: dropping the connection"
                );
                Poll::Ready(Err(io::ErrorKind::TimedOut.into()))
            }
            Poll::Pending => Poll::Pending,
            ready => {
                self.stall.progress();
                ready
            }
        }
    }
}

impl AsyncRead for StallGuard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallGuard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.guard(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.guard(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_flush(cx);
        self.guard(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.guard(cx, polled)
    }
}
