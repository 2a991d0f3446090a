//! The official Socket.IO admin UI (`@socket.io/admin-ui` 0.5): [`instrument`], the Rust
//! counterpart of Node's `instrument(io, {...})` (feature `admin`).
//!
//! It adds the admin namespace (`/admin` by default) that the unmodified UI talks to: a login
//! against a bcrypt hash (or none), the server's statistics every 2 seconds, and, in
//! [`Mode::Development`], every socket, room and event of every namespace as they happen, with
//! the UI's commands (emit, join, leave, disconnect) acting cluster-wide through the adapter.
//!
//! ```no_run
//! use tower_socketio::admin::{self, AdminOptions};
//! use tower_socketio::SocketIo;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let io = SocketIo::builder().build();
//! // The bcrypt hash of "changeit" (`htpasswd -nbBC 10 "" changeit | cut -d: -f2`).
//! let hash = "$2b$10$GvZ1xaf6J5D2v06cHlzZue8opr0QzqRbY3wvftK9zCmUXaDWffzfi";
//! admin::instrument(&io, AdminOptions::basic("admin", hash))?;
//! io.listen("0.0.0.0:3000").await?;
//! # Ok(()) }
//! ```
//!
//! Then open the UI served by the layer (`http://localhost:3000/socket.io/admin/`, see
//! [`AdminOptions::ui_path`]) or the hosted one, `https://admin.socket.io`, which needs CORS with
//! credentials for its origin:
//! `EngineConfig::default().origins(Origins::list(["https://admin.socket.io"])).cors_credentials(true)`
//! (add your own pages' origins to the list).
//!
//! Bounds: the live events wait for the admin task in a queue of 4096 (when it is full, new ones
//! are dropped, with a debug log line: the clients come before the dashboard); at most 128
//! aggregated counts wait for the next `server_stats`; login sessions are at most
//! [`AdminOptions::max_sessions`], each for [`AdminOptions::session_ttl`]. The statistics task
//! ends with the server. `uptime` counts from `instrument`. Sockets connected before
//! `instrument` are listed by `all_sockets` but their own events are not followed.
//!
//! What the admin needs from the core is public API, usable by other tools:
//! [`SocketObserver`](crate::SocketObserver), [`RoomObserver`](crate::adapter::RoomObserver),
//! [`EngineStats`](crate::engine::EngineStats) and
//! [`EngineIo::polling_count`](crate::engine::EngineIo::polling_count). With no admin installed,
//! they cost a check of an empty slot.

mod date;
mod events;
mod serialize;
mod sessions;
mod stats;
mod ui;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;
use tokio::sync::mpsc;

use self::events::{Events, Notice, Spread};
use self::sessions::Sessions;
use self::stats::{Aggregator, STATS_EVERY, ServerInfo};
use crate::error::ConnectError;
use crate::extract::{Args, Data};
use crate::io::{SocketIo, WeakSocketIo};
use crate::ns::Namespace;
use crate::socket::SocketRef;
use crate::value::Value;

pub use self::ui::{UI_VERSION, ui_available};

/// How the admin UI logs in.
#[derive(Clone)]
pub enum Auth {
    /// No login: anyone who reaches the admin namespace is in (Node's `auth: false`).
    None,
    /// A username and a bcrypt hash of the password (`$2a$`, `$2b$` or `$2y$`), Node's
    /// `{type: "basic", username, password}`.
    Basic {
        /// The expected username.
        username: String,
        /// The bcrypt hash of the password.
        password_hash: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

/// What the UI is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Everything: the statistics, and every socket, room and event as they happen (the UI's
    /// `ALL_EVENTS` feature). The default (Node's, without `NODE_ENV`).
    #[default]
    Development,
    /// Only `config` and `server_stats`, for busy servers: the observers are not even installed.
    Production,
}

/// The options of [`instrument`] (Node's `InstrumentOptions`).
///
/// ```
/// use std::time::Duration;
/// use tower_socketio::admin::{AdminOptions, Mode};
///
/// let options = AdminOptions::no_auth()
///     .namespace("/dashboard")
///     .readonly(true)
///     .server_id("eu-1")
///     .mode(Mode::Production)
///     .session_ttl(Duration::from_secs(3600))
///     .ui_path(None);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct AdminOptions {
    namespace: String,
    auth: Auth,
    readonly: bool,
    server_id: Option<String>,
    mode: Mode,
    session_ttl: Duration,
    max_sessions: usize,
    ui_path: Option<String>,
}

impl AdminOptions {
    fn new(auth: Auth) -> Self {
        AdminOptions {
            namespace: "/admin".to_owned(),
            auth,
            readonly: false,
            server_id: None,
            mode: Mode::Development,
            session_ttl: Duration::from_secs(86_400),
            max_sessions: 1024,
            ui_path: Some("admin/".to_owned()),
        }
    }

    /// A login with `username` and the password whose bcrypt hash is `password_hash`.
    pub fn basic(username: impl Into<String>, password_hash: impl Into<String>) -> Self {
        AdminOptions::new(Auth::Basic {
            username: username.into(),
            password_hash: password_hash.into(),
        })
    }

    /// No login at all: for a server only trusted people can reach.
    pub fn no_auth() -> Self {
        AdminOptions::new(Auth::None)
    }

    /// The admin namespace (default `/admin`).
    pub fn namespace(mut self, name: impl Into<String>) -> Self {
        let mut name = name.into();
        if !name.starts_with('/') {
            name.insert(0, '/');
        }
        self.namespace = name;
        self
    }

    /// No commands from the UI (emit, join, leave, disconnect): it only watches.
    pub fn readonly(mut self, readonly: bool) -> Self {
        self.readonly = readonly;
        self
    }

    /// The server's id in the UI (default: the host name). Each server of a cluster needs its
    /// own.
    pub fn server_id(mut self, id: impl Into<String>) -> Self {
        self.server_id = Some(id.into());
        self
    }

    /// What the UI is sent (default [`Mode::Development`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// How long a login session lasts, for page reloads (default one day).
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// How many login sessions are kept at most (default 1024; the oldest goes first).
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max;
        self
    }

    /// Where the layer serves the UI's files, relative to the Socket.IO path (default
    /// `admin/`: `/socket.io/admin/`); `None` serves nothing.
    pub fn ui_path(mut self, path: Option<&str>) -> Self {
        self.ui_path = path.map(str::to_owned);
        self
    }
}

/// Why [`instrument`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError(String);

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdminError {}

/// Installs the admin UI on a server, as Node's `instrument(io, options)`: the admin namespace,
/// the statistics task (ends with the server), and in development mode the server's
/// [`SocketObserver`](crate::SocketObserver) and [`RoomObserver`](crate::adapter::RoomObserver).
/// Call it inside a Tokio runtime, before clients connect (sockets already connected are not
/// followed).
///
/// Refused when the password is not a bcrypt hash, the namespace exists, another observer is
/// installed, or there is no runtime.
///
/// ```
/// use tower_socketio::admin::{self, AdminOptions};
/// use tower_socketio::SocketIo;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let io = SocketIo::builder().build();
/// let refused = admin::instrument(&io, AdminOptions::basic("admin", "changeit"));
/// assert_eq!(refused.unwrap_err().to_string(), "the password must be a valid bcrypt hash");
/// admin::instrument(&io, AdminOptions::no_auth()).unwrap();
/// assert!(admin::instrument(&io, AdminOptions::no_auth()).is_err()); // once
/// # });
/// ```
pub fn instrument(io: &SocketIo, options: AdminOptions) -> Result<(), AdminError> {
    if let Auth::Basic { password_hash, .. } = &options.auth {
        if password_hash.parse::<bcrypt::HashParts>().is_err() {
            return Err(AdminError(
                "the password must be a valid bcrypt hash".to_owned(),
            ));
        }
    }
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| AdminError("instrument must be called within a Tokio runtime".to_owned()))?;
    let development = options.mode == Mode::Development;
    // Refused before anything is installed.
    if development && !io.observers_free() {
        return Err(AdminError(
            "another socket or room observer is installed".to_owned(),
        ));
    }
    let (queue, notices) = mpsc::channel::<Notice>(events::QUEUE);
    let admin = Arc::new(Admin {
        io: io.downgrade(),
        namespace: options.namespace.clone(),
        auth: options.auth.clone(),
        sessions: Sessions::new(options.session_ttl, options.max_sessions),
        features: features(options.readonly, development),
        development,
    });
    if !io.add_ns(&options.namespace, admin.clone().routes(options.readonly)) {
        return Err(AdminError(format!(
            "the namespace {} already exists",
            options.namespace
        )));
    }
    if development {
        let events = Arc::new(Events {
            admin_ns: options.namespace.clone(),
            queue,
        });
        if io.observe_sockets(events.clone()).is_err() || io.observe_rooms(events).is_err() {
            return Err(AdminError(
                "another socket or room observer is installed".to_owned(),
            ));
        }
    }
    if let Some(prefix) = &options.ui_path {
        let engine_path = &io.engine().config().path;
        let route = ui::route(prefix, engine_path, &options.namespace);
        if !io.engine().set_static_files(route) {
            tracing::warn!("admin UI: another route serves files under the Socket.IO path");
        }
    }
    let stats = io.engine().enable_stats();
    let info = ServerInfo {
        server_id: options.server_id.clone().unwrap_or_else(stats::hostname),
        hostname: stats::hostname(),
        pid: std::process::id(),
        started: std::time::Instant::now(),
    };
    runtime.spawn(run(admin, stats, info, notices));
    tracing::info!(ns = options.namespace, mode = ?options.mode, "admin UI installed");
    Ok(())
}

/// The features the UI offers (Node's `Feature` enum values).
fn features(readonly: bool, development: bool) -> Vec<&'static str> {
    let mut features = if readonly {
        Vec::new()
    } else {
        vec![
            "EMIT",
            "JOIN",
            "LEAVE",
            "DISCONNECT",
            "MJOIN",
            "MLEAVE",
            "MDISCONNECT",
        ]
    };
    features.push("AGGREGATED_EVENTS");
    if development {
        features.push("ALL_EVENTS");
    }
    features
}

/// The admin namespace's state.
struct Admin {
    io: WeakSocketIo,
    namespace: String,
    auth: Auth,
    sessions: Sessions,
    features: Vec<&'static str>,
    development: bool,
}

/// A session id to send once connected.
#[derive(Clone)]
struct NewSession(String);

impl Admin {
    /// The admin namespace's routes.
    fn routes(self: Arc<Self>, readonly: bool) -> Namespace<()> {
        let auth = self.clone();
        let connect = self.clone();
        let mut ns = Namespace::new()
            .middleware(move |socket: SocketRef, Data(given): Data<Value>| {
                let admin = auth.clone();
                async move { admin.login(&socket, given).await }
            })
            .on_connect(move |socket: SocketRef| {
                let admin = connect.clone();
                async move { admin.connected(socket).await }
            });
        if !readonly {
            let admin = self.clone();
            ns = ns.on("emit", move |Args(args): Args| {
                let admin = admin.clone();
                async move { admin.emit(args) }
            });
            for (event, join) in [("join", true), ("leave", false)] {
                let admin = self.clone();
                ns = ns.on(event, move |Args(args): Args| {
                    let admin = admin.clone();
                    async move { admin.rooms(args, join).await }
                });
            }
            let admin = self.clone();
            ns = ns.on("_disconnect", move |Args(args): Args| {
                let admin = admin.clone();
                async move { admin.disconnect(args).await }
            });
        }
        ns
    }

    /// The namespace middleware: a live session id, or the username and password.
    async fn login(&self, socket: &SocketRef, given: Value) -> Result<(), ConnectError> {
        let Auth::Basic {
            username,
            password_hash,
        } = &self.auth
        else {
            return Ok(());
        };
        if let Some(Value::String(id)) = given.get("sessionId") {
            if self.sessions.exists(id) {
                return Ok(());
            }
        }
        let user = given.get("username").and_then(Value::as_str);
        let password = given.get("password").and_then(Value::as_str);
        if let (Some(user), Some(password)) = (user, password) {
            if user == username {
                // bcrypt is slow by design: off the runtime's threads.
                let (password, hash) = (password.to_owned(), password_hash.clone());
                let matches = tokio::task::spawn_blocking(move || {
                    bcrypt::verify(password, &hash).unwrap_or(false)
                })
                .await
                .unwrap_or(false);
                if matches {
                    socket.insert_extension(NewSession(self.sessions.create()));
                    return Ok(());
                }
            }
        }
        tracing::debug!(ns = self.namespace, "admin UI: invalid credentials");
        Err(ConnectError::new("invalid credentials"))
    }

    /// A UI connected: its session, the config, and in development every socket.
    async fn connected(&self, socket: SocketRef) {
        if let Some(NewSession(id)) = socket.remove_extension::<NewSession>() {
            let _ = socket.emit("session", &id);
        }
        let _ = socket.emit("config", &json!({ "supportedFeatures": self.features }));
        if !self.development {
            return;
        }
        let Some(io) = self.io.upgrade() else { return };
        let mut all = Vec::new();
        for (name, _) in io.namespaces() {
            let Some(ns) = io.of(&name) else { continue };
            let local = io.sockets(&name);
            match ns.fetch_sockets().await {
                Ok(found) => all.extend(found.iter().map(|remote| {
                    let here = local.iter().find(|s| s.id() == remote.id());
                    serialize::socket(remote.info(), &name, here.map(|s| &**s))
                })),
                Err(error) => tracing::warn!(ns = name, %error, "admin UI: fetch_sockets failed"),
            }
        }
        let _ = socket.emit("all_sockets", &(all,));
    }

    /// `emit(nsp, filter?, event, ...args)`.
    fn emit(&self, args: Vec<Value>) {
        let mut args = args.into_iter();
        let (Some(Value::String(nsp)), filter, Some(Value::String(event))) =
            (args.next(), args.next(), args.next())
        else {
            return tracing::debug!("admin UI: malformed emit command");
        };
        let rest: Vec<Value> = args.collect();
        let Some(op) = self.io.upgrade().and_then(|io| io.of(&nsp)) else {
            return;
        };
        let op = match filter {
            Some(Value::String(room)) if !room.is_empty() => op.to(room),
            _ => op,
        };
        let _ = op.emit(&event, &Spread(&rest));
    }

    /// `join(nsp, room, filter?)` / `leave(nsp, room, filter?)`.
    async fn rooms(&self, args: Vec<Value>, join: bool) {
        let mut args = args.into_iter();
        let (Some(Value::String(nsp)), Some(Value::String(room)), filter) =
            (args.next(), args.next(), args.next())
        else {
            return tracing::debug!("admin UI: malformed join/leave command");
        };
        let Some(op) = self.io.upgrade().and_then(|io| io.of(&nsp)) else {
            return;
        };
        let op = match filter {
            Some(Value::String(filter)) if !filter.is_empty() => op.to(filter),
            _ => op,
        };
        let done = if join {
            op.sockets_join(room)
        } else {
            op.sockets_leave(room)
        };
        if let Err(error) = done.await {
            tracing::warn!(%error, "admin UI: join/leave did not reach every server");
        }
    }

    /// `_disconnect(nsp, close, filter?)`.
    async fn disconnect(&self, args: Vec<Value>) {
        let mut args = args.into_iter();
        let (Some(Value::String(nsp)), close, filter) = (args.next(), args.next(), args.next())
        else {
            return tracing::debug!("admin UI: malformed disconnect command");
        };
        let close = matches!(close, Some(Value::Bool(true)));
        let Some(op) = self.io.upgrade().and_then(|io| io.of(&nsp)) else {
            return;
        };
        let op = match filter {
            Some(Value::String(filter)) if !filter.is_empty() => op.to(filter),
            _ => op,
        };
        if let Err(error) = op.disconnect_sockets(close).await {
            tracing::warn!(%error, "admin UI: disconnect did not reach every server");
        }
    }
}

/// The admin task: live events as they come, `server_stats` every 2 seconds (once at start),
/// the engine's counters read every second. Ends when the server is gone.
async fn run(
    admin: Arc<Admin>,
    stats: Arc<crate::engine::EngineStats>,
    info: ServerInfo,
    mut notices: mpsc::Receiver<Notice>,
) {
    let mut aggregator = Aggregator::new(&stats);
    // Ticks just after each second boundary, so that a sample covers one whole second.
    let offset = 1000 - date::millis(SystemTime::now()) % 1000 + 5;
    let start = tokio::time::Instant::now() + Duration::from_millis(offset);
    let mut ticks = tokio::time::interval_at(start, Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let per_report = STATS_EVERY.as_secs().max(1);
    let mut tick = 0u64;
    let emit_stats = |aggregator: &mut Aggregator| -> bool {
        let Some(io) = admin.io.upgrade() else {
            return false;
        };
        let report = aggregator.report(&io, &info);
        if let Some(ns) = io.of(&admin.namespace) {
            let _ = ns.emit("server_stats", &report);
        }
        true
    };
    if !emit_stats(&mut aggregator) {
        return;
    }
    loop {
        tokio::select! {
            notice = notices.recv(), if admin.development => {
                let Some((event, args)) = notice else { return };
                let Some(io) = admin.io.upgrade() else { return };
                if let Some(ns) = io.of(&admin.namespace) {
                    let _ = ns.emit(event, &Spread(&args));
                }
            }
            _ = ticks.tick() => {
                aggregator.sample(&stats, SystemTime::now());
                tick += 1;
                if tick % per_report == 0 && !emit_stats(&mut aggregator) {
                    return;
                }
            }
        }
    }
}
