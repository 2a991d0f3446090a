//! A hook on room membership: Node's adapter `join-room` and `leave-room` events.

use std::sync::{Arc, OnceLock};

use crate::engine::Sid;

/// Told when a local socket joins or leaves a room, whatever made it (`socket.join`, a
/// broadcast's `sockets_join`/`sockets_leave` from this or another server, a disconnection, which
/// leaves every room): Node's adapter `join-room` and `leave-room` events. Installed once per
/// server with [`SocketIo::observe_rooms`](crate::SocketIo::observe_rooms); the admin UI's
/// `room_joined` and `room_left` come from it.
///
/// The calls are made with the adapter's locks held: an observer records or forwards, and never
/// calls back into the adapter. A join of a room the socket is already in is not reported.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use tower_socketio::adapter::RoomObserver;
/// use tower_socketio::engine::Sid;
/// use tower_socketio::{Namespace, SocketIo, SocketRef};
/// use tower_socketio::testing::TestClient;
///
/// #[derive(Default)]
/// struct Log(Mutex<Vec<String>>);
/// impl RoomObserver for Log {
///     fn room_joined(&self, ns: &str, room: &str, _: Sid) {
///         self.0.lock().unwrap().push(format!("{ns} +{room}"));
///     }
///     fn room_left(&self, ns: &str, room: &str, _: Sid) {
///         self.0.lock().unwrap().push(format!("{ns} -{room}"));
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on_connect(|socket: SocketRef| async move {
///         socket.join("lobby");
///         socket.leave("lobby");
///     }))
///     .build();
/// let log = Arc::new(Log::default());
/// io.observe_rooms(log.clone()).unwrap();
/// let app = axum::Router::new().layer(io.layer());
/// let client = TestClient::connect(app, "/").await.unwrap();
/// let rooms = log.0.lock().unwrap().clone();
/// assert_eq!(rooms[1..], ["/ +lobby".to_owned(), "/ -lobby".to_owned()]); // after its own room
/// # drop(client);
/// # });
/// ```
pub trait RoomObserver: Send + Sync + 'static {
    /// Socket `sid` of namespace `ns` joined `room` (it was not in it).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tower_socketio::adapter::RoomObserver;
    /// use tower_socketio::engine::Sid;
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// #[derive(Default)]
    /// struct Rooms(Mutex<Vec<String>>);
    /// impl RoomObserver for Rooms {
    ///     fn room_joined(&self, _: &str, room: &str, sid: Sid) {
    ///         if room != sid.as_str() { self.0.lock().unwrap().push(room.to_owned()); } // not its own room
    ///     }
    ///     fn room_left(&self, _: &str, _: &str, _: Sid) {}
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder().ns("/", Namespace::new()).build();
    /// let rooms = Arc::new(Rooms::default());
    /// io.observe_rooms(rooms.clone()).unwrap();
    /// let client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// // Every socket of `/` joins `vip`, through the adapter (the admin UI's "join" command).
    /// io.of("/").unwrap().sockets_join("vip").await.unwrap();
    /// io.of("/").unwrap().sockets_join("vip").await.unwrap(); // already in: not reported
    /// assert_eq!(*rooms.0.lock().unwrap(), ["vip"]);
    /// # drop(client);
    /// # });
    /// ```
    fn room_joined(&self, ns: &str, room: &str, sid: Sid);
    /// Socket `sid` of namespace `ns` left `room` (it was in it).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tower_socketio::adapter::RoomObserver;
    /// use tower_socketio::engine::Sid;
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// #[derive(Default)]
    /// struct Rooms(Mutex<Vec<String>>);
    /// impl RoomObserver for Rooms {
    ///     fn room_joined(&self, _: &str, _: &str, _: Sid) {}
    ///     fn room_left(&self, ns: &str, room: &str, _: Sid) {
    ///         self.0.lock().unwrap().push(format!("{ns} {room}"));
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let io = SocketIo::builder().ns("/", Namespace::new()).build();
    /// let rooms = Arc::new(Rooms::default());
    /// io.observe_rooms(rooms.clone()).unwrap();
    /// let client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let socket = io.sockets("/")[0].clone();
    /// socket.join("a");
    /// socket.leave("a");
    /// socket.leave("a"); // not in it: not reported
    /// assert_eq!(*rooms.0.lock().unwrap(), ["/ a"]);
    /// # drop(client);
    /// # });
    /// ```
    fn room_left(&self, ns: &str, room: &str, sid: Sid);
}

/// Where a server's [`RoomObserver`] goes: shared by its namespaces, set at most once.
pub(crate) type RoomObserverSlot = Arc<OnceLock<Arc<dyn RoomObserver>>>;
