//! What the tests beside the modules share: a server in process, driven by
//! [`TestClient`](crate::testing::TestClient) through tower's `Service::call`, no socket.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;

use crate::io::SocketIo;
use crate::ns::NsCore;
use crate::socket::SocketRef;
use crate::testing::TestClient;

/// The in-process client of [`app`].
pub(crate) type Client = TestClient<Router, Body>;

/// What handlers saw, in order.
pub(crate) type Log = Arc<Mutex<Vec<String>>>;

/// How long a client waits for what it expects: short, the server being in process.
const WAIT: Duration = Duration::from_secs(1);

/// `io` mounted on an empty axum app.
pub(crate) fn app(io: &SocketIo) -> Router {
    Router::new().layer(io.layer())
}

/// A client of `io` connected to namespace `ns`.
pub(crate) async fn connect(io: &SocketIo, ns: &str) -> Client {
    let mut client = TestClient::connect(app(io), ns)
        .await
        .unwrap_or_else(|e| panic!("connect to {ns}: {e}"));
    client.set_timeout(WAIT);
    client
}

/// A client of `io` with a session and no namespace joined.
pub(crate) async fn open(io: &SocketIo) -> Client {
    let mut client = TestClient::open(app(io)).await.expect("handshake");
    client.set_timeout(WAIT);
    client
}

/// The server's socket of `client` in namespace `ns`.
pub(crate) fn socket_of(io: &SocketIo, ns: &str, client: &Client) -> SocketRef {
    io.sockets(ns)
        .into_iter()
        .find(|s| s.id().as_str() == client.socket_id())
        .unwrap_or_else(|| panic!("{} is not in {ns}", client.socket_id()))
}

/// Namespace `name` at run time.
pub(crate) fn ns_core(io: &SocketIo, name: &str) -> Arc<NsCore> {
    io.engine()
        .handler()
        .existing_namespace(name)
        .unwrap_or_else(|| panic!("no namespace {name}"))
}

/// The entries of `log`.
pub(crate) fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// Waits until `done` holds (what a session's task does after a request returned), at most a
/// second.
pub(crate) async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not in time"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Whether `client` got event `event` before a marker emitted now to its `socket` (packets to
/// one socket keep their order, so this needs no wait for what does not come).
pub(crate) async fn got(client: &mut Client, socket: &SocketRef, event: &str) -> bool {
    socket.emit("marker", &()).expect("emit the marker");
    let (first, _) = client.recv().await.expect("an event");
    if first == "marker" {
        return false;
    }
    assert_eq!(first, event, "an unexpected event");
    let (next, _) = client.recv().await.expect("the marker");
    assert_eq!(next, "marker", "one {event} only");
    true
}
