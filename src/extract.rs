//! Extractors: the types a handler can take as arguments.
//!
//! | extractor | what it gives | where |
//! |---|---|---|
//! | [`SocketRef`] | the socket | everywhere |
//! | [`Data<T>`] | the event arguments (or the CONNECT auth payload) as `T` | events, connect, middlewares |
//! | [`TryData<T>`] | the same, or the deserialization error | events, connect, middlewares |
//! | [`Args`] | every argument as a [`Value`] | events |
//! | [`Bin`] | the binary attachments, in order | events |
//! | [`AckSender`] | the answer to the client's acknowledgement request | events |
//! | [`Event`] | the event name | events |
//! | [`State<S>`] | the application state | everywhere |
//! | [`Extension<T>`] | a value stored on the socket | everywhere |
//! | [`Handshake`] | what the client sent when connecting | everywhere |
//! | [`Recovered`] | whether connection state recovery gave the socket back | everywhere |
//! | [`DisconnectReason`] | why the socket left | disconnect handlers |
//!
//! [`Data`], [`TryData`], [`Args`] and [`Bin`] take the packet's arguments: a handler has at most
//! one of them, as its last argument ([`FromMessage`]), which the compiler checks; the others
//! ([`FromSocket`]) go anywhere. Implement [`FromSocket`] for extractors of your own, or
//! [`FromMessage`] for one that takes the arguments.
//!
//! ```
//! use tower_socketio::extract::{AckSender, Data, Event};
//! use tower_socketio::testing::TestClient;
//! use tower_socketio::{Namespace, SocketIo, SocketRef};
//!
//! #[derive(serde::Deserialize)]
//! struct Move { x: i32, y: i32 }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let io = SocketIo::builder()
//!     .ns("/", Namespace::new().on(
//!         "move",
//!         // Any number of `FromSocket` extractors, then at most one that takes the arguments.
//!         |socket: SocketRef, Event(name): Event, ack: AckSender, Data(m): Data<Move>| async move {
//!             let _ = socket.emit("moved", &(name, m.x + m.y));
//!             let _ = ack.send("ok");
//!         },
//!     ))
//!     .build();
//!
//! let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
//! let ack: String = client.emit_with_ack("move", &serde_json::json!({"x": 1, "y": 2})).await.unwrap();
//! assert_eq!(ack, "ok");
//! let (event, args) = client.recv().await.unwrap();
//! assert_eq!((event.as_str(), args[0].as_str()), ("moved", Some("move")));
//! # }
//! ```

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde::ser::SerializeTuple;

use crate::error::EmitError;
pub use crate::error::ExtractError;
use crate::parser::args_into;
use crate::socket::{DisconnectReason, Handshake, SocketRef};
use crate::value::Value;

/// What a handler's arguments are extracted from: the socket, the application state, and the
/// packet (its event name, arguments, attachments and acknowledgement request). Extractors of
/// your own read it through [`socket`](Self::socket), [`state`](Self::state) and
/// [`take_args`](Self::take_args).
///
/// ```
/// use std::sync::Arc;
/// use tower_socketio::extract::{AckSender, ExtractError, FromSocket, HandlerContext};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo};
///
/// #[derive(Clone)]
/// struct AppState { motd: Arc<str> }
///
/// /// The message of the day, taken from the application state.
/// struct Motd(Arc<str>);
///
/// impl FromSocket<AppState> for Motd {
///     fn from_socket(ctx: &mut HandlerContext<AppState>) -> Result<Self, ExtractError> {
///         Ok(Motd(ctx.state().motd.clone()))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .with_state(AppState { motd: "be nice".into() })
///     .ns("/", Namespace::new().on("motd", |ack: AckSender, Motd(motd): Motd| async move {
///         let _ = ack.send(&*motd);
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let motd: String = client.emit_with_ack("motd", &()).await.unwrap();
/// assert_eq!(motd, "be nice");
/// # }
/// ```
pub struct HandlerContext<S> {
    pub(crate) socket: SocketRef,
    pub(crate) state: S,
    pub(crate) event: Option<String>,
    pub(crate) args: Option<Vec<Value>>,
    pub(crate) attachments: Vec<Bytes>,
    pub(crate) ack_id: Option<u64>,
    pub(crate) reason: Option<DisconnectReason>,
}

impl<S> HandlerContext<S> {
    pub(crate) fn new(socket: SocketRef, state: S) -> Self {
        HandlerContext {
            socket,
            state,
            event: None,
            args: None,
            attachments: Vec::new(),
            ack_id: None,
            reason: None,
        }
    }

    /// The socket the packet came from.
    ///
    /// ```
    /// use tower_socketio::extract::{ExtractError, FromSocket, HandlerContext};
    ///
    /// /// The `User-Agent` of the request that opened the client's connection.
    /// struct UserAgent(Option<String>);
    ///
    /// impl<S> FromSocket<S> for UserAgent {
    ///     fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
    ///         let headers = &ctx.socket().req_parts().headers;
    ///         let agent = headers.get("user-agent").and_then(|v| v.to_str().ok());
    ///         Ok(UserAgent(agent.map(str::to_owned)))
    ///     }
    /// }
    /// ```
    pub fn socket(&self) -> &SocketRef {
        &self.socket
    }

    /// The application state (the one given to
    /// [`SocketIoBuilder::with_state`](crate::SocketIoBuilder::with_state)).
    ///
    /// ```
    /// use tower_socketio::extract::{ExtractError, FromSocket, HandlerContext};
    ///
    /// #[derive(Clone)]
    /// struct Config { max_rooms: usize }
    ///
    /// /// Whether the socket may join one more room.
    /// struct MayJoin(bool);
    ///
    /// impl FromSocket<Config> for MayJoin {
    ///     fn from_socket(ctx: &mut HandlerContext<Config>) -> Result<Self, ExtractError> {
    ///         // `rooms()` holds the socket's own room too.
    ///         Ok(MayJoin(ctx.socket().rooms().len() <= ctx.state().max_rooms))
    ///     }
    /// }
    /// ```
    pub fn state(&self) -> &S {
        &self.state
    }

    /// Takes the arguments (the first extractor that takes them gets them): what a
    /// [`FromMessage`] extractor reads. `None` once taken, and in disconnect handlers.
    ///
    /// ```
    /// use tower_socketio::extract::{ExtractError, FromMessage, HandlerContext};
    ///
    /// /// How many arguments the event had.
    /// struct ArgCount(usize);
    ///
    /// impl<S> FromMessage<S> for ArgCount {
    ///     fn from_message(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
    ///         Ok(ArgCount(ctx.take_args().map_or(0, |args| args.len())))
    ///     }
    /// }
    /// ```
    pub fn take_args(&mut self) -> Option<Vec<Value>> {
        self.args.take()
    }
}

/// A handler argument that reads the socket or the context and leaves the packet's arguments
/// alone ([`SocketRef`], [`AckSender`], [`State`], [`Extension`], [`Event`], [`Handshake`],
/// [`DisconnectReason`]): any number of them, in any position. Implement it for extractors of
/// your own (axum's `FromRequestParts`).
///
/// ```
/// use tower_socketio::extract::{ExtractError, FromSocket, HandlerContext};
/// use tower_socketio::{Namespace, SocketRef};
///
/// /// The user name a middleware stored on the socket.
/// struct User(String);
///
/// impl<S> FromSocket<S> for User {
///     fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
///         ctx.socket()
///             .extension::<String>()
///             .map(User)
///             .ok_or_else(|| ExtractError::new("not signed in"))
///     }
/// }
///
/// let ns: Namespace = Namespace::new().on("whoami", |socket: SocketRef, User(name): User| async move {
///     let _ = socket.emit("you", &name);
/// });
/// # let _ = ns;
/// ```
///
/// A handler whose extractor fails is not called; see [`ExtractError`] for what the client hears.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler argument in this position",
    label = "not an extractor that leaves the packet's arguments alone",
    note = "handler arguments are extractors, taken by value: `SocketRef` (not `&SocketRef`), `AckSender`, `State<S>`, `Extension<T>`, `Event`, `Handshake`, `DisconnectReason`, or a type implementing `FromSocket`",
    note = "`Data<T>`, `TryData<T>`, `Args` and `Bin` take the packet's arguments: at most one of them per handler, as its last argument"
)]
pub trait FromSocket<S>: Sized {
    /// Extracts the value from the context; an `Err` keeps the handler from being called.
    ///
    /// ```
    /// use tower_socketio::extract::{AckSender, ExtractError, FromSocket, HandlerContext};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo, SocketRef};
    ///
    /// /// The socket's rooms, but its own.
    /// struct Rooms(Vec<String>);
    ///
    /// impl<S> FromSocket<S> for Rooms {
    ///     fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
    ///         let socket = ctx.socket();
    ///         let own = socket.id().to_string();
    ///         Ok(Rooms(socket.rooms().into_iter().filter(|room| *room != own).collect()))
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let ns = Namespace::new()
    ///     .on_connect(|socket: SocketRef| async move { socket.join("lobby") })
    ///     .on("rooms", |ack: AckSender, Rooms(rooms): Rooms| async move {
    ///         let _ = ack.send(&rooms);
    ///     });
    /// let io = SocketIo::builder().ns("/", ns).build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let rooms: Vec<String> = client.emit_with_ack("rooms", &()).await.unwrap();
    /// assert_eq!(rooms, ["lobby"]);
    /// # }
    /// ```
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError>;
}

/// A handler argument that takes the packet's arguments ([`Data`], [`TryData`], [`Args`],
/// [`Bin`]): at most one per handler, as its last argument, so that no second one silently
/// finds them taken (axum's `FromRequest`). Every [`FromSocket`] is one too, through the
/// marker `M`, which callers never name.
///
/// An extractor of your own takes the arguments with [`HandlerContext::take_args`]:
///
/// ```
/// use tower_socketio::extract::{AckSender, ExtractError, FromMessage, HandlerContext};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo, Value};
///
/// /// The first argument, which must be a string; the others are ignored.
/// struct FirstText(String);
///
/// impl<S> FromMessage<S> for FirstText {
///     fn from_message(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
///         let args = ctx.take_args().unwrap_or_default();
///         match args.first().and_then(Value::as_str) {
///             Some(text) => Ok(FirstText(text.to_owned())),
///             None => Err(ExtractError::new("the first argument must be a string")),
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("shout", |ack: AckSender, FirstText(text): FirstText| async move {
///         let _ = ack.send(&text.to_uppercase());
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let loud: String = client.emit_with_ack("shout", &("hello", 42)).await.unwrap();
/// assert_eq!(loud, "HELLO");
/// // The extractor failed: the handler was not called, the client's ack got the error.
/// let refused: serde_json::Value = client.emit_with_ack("shout", &42).await.unwrap();
/// assert_eq!(refused["error"], "the first argument must be a string");
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler argument",
    label = "not an extractor",
    note = "handler arguments are extractors, taken by value: `SocketRef` (not `&SocketRef`), `Data<T>` with `T: Deserialize`, `TryData<T>`, `Args`, `Bin`, `AckSender`, `State<S>`, `Extension<T>`, `Event`, `Handshake`, `DisconnectReason`, or a type implementing `FromSocket` or `FromMessage`"
)]
pub trait FromMessage<S, M = private::ViaMessage>: Sized {
    /// Extracts the value from the context, taking the arguments
    /// ([`HandlerContext::take_args`]) or the attachments.
    ///
    /// ```
    /// use tower_socketio::extract::{Data, ExtractError, FromMessage, HandlerContext};
    ///
    /// /// A chat message, at most 500 characters long.
    /// struct Text(String);
    ///
    /// impl<S> FromMessage<S> for Text {
    ///     fn from_message(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
    ///         // Reuse `Data`'s reading rules, then check.
    ///         let Data(text) = Data::<String>::from_message(ctx)?;
    ///         if text.chars().count() > 500 {
    ///             return Err(ExtractError::new("message too long"));
    ///         }
    ///         Ok(Text(text))
    ///     }
    /// }
    /// ```
    fn from_message(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError>;
}

impl<S, T: FromSocket<S>> FromMessage<S, private::ViaSocket> for T {
    fn from_message(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        T::from_socket(ctx)
    }
}

mod private {
    /// The marker of extractors that take the packet's arguments.
    #[derive(Debug, Clone, Copy)]
    pub enum ViaMessage {}
    /// The marker of [`FromSocket`](super::FromSocket) extractors used last.
    #[derive(Debug, Clone, Copy)]
    pub enum ViaSocket {}
}

impl<S> FromSocket<S> for SocketRef {
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        Ok(ctx.socket.clone())
    }
}

/// The event's arguments (or a connection's auth payload) deserialized into `T`.
///
/// With exactly one argument, `T` is read from it; otherwise from the array of all the
/// arguments, so a tuple takes several (`Data<(String, u32)>`) and `()` none. Binary arguments
/// read into [`Bytes`] (or `Vec<u8>`) fields. Arguments that do not fit `T` are an
/// [`ExtractError`]; take [`TryData`] to handle them yourself.
///
/// ```
/// use tower_socketio::extract::{AckSender, Data};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo};
///
/// #[derive(serde::Deserialize)]
/// struct Order { item: String, quantity: u32 }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new()
///         // One argument, read into a struct.
///         .on("order", |ack: AckSender, Data(order): Data<Order>| async move {
///             let _ = ack.send(&format!("{} x {}", order.quantity, order.item));
///         })
///         // Two arguments, read into a tuple.
///         .on("add", |ack: AckSender, Data((a, b)): Data<(i64, i64)>| async move {
///             let _ = ack.send(&(a + b));
///         }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let order = serde_json::json!({"item": "tea", "quantity": 2});
/// let answer: String = client.emit_with_ack("order", &order).await.unwrap();
/// assert_eq!(answer, "2 x tea");
/// let sum: i64 = client.emit_with_ack("add", &(2, 3)).await.unwrap();
/// assert_eq!(sum, 5);
/// # }
/// ```
///
/// In a connection middleware or connect handler it reads the CONNECT auth payload, and
/// `Data<Option<T>>` gives `None` when the client sent none or an empty one (`{}`):
///
/// ```
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{ConnectError, Namespace, SocketIo, SocketRef};
/// use tower_socketio::extract::Data;
///
/// #[derive(serde::Deserialize)]
/// struct Auth { token: String }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ns: Namespace = Namespace::new().middleware(
///     |_socket: SocketRef, Data(auth): Data<Option<Auth>>| async move {
///         match auth {
///             None => Err(ConnectError::new("credentials required")),
///             Some(auth) if auth.token == "secret" => Ok(()),
///             Some(_) => Err(ConnectError::new("wrong credentials")),
///         }
///     },
/// );
/// let io = SocketIo::builder().ns("/", ns).build();
/// let app = axum::Router::new().layer(io.layer());
///
/// // io({ auth: { token: "secret" } }) in the browser.
/// let auth = serde_json::json!({ "token": "secret" });
/// assert!(TestClient::builder(app.clone()).auth(auth).connect().await.is_ok());
/// let refused = TestClient::connect(app, "/").await.unwrap_err(); // no auth at all
/// assert!(refused.to_string().contains("credentials required"));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data<T>(pub T);

impl<S, T: DeserializeOwned> FromMessage<S> for Data<T> {
    fn from_message(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        read_args(ctx)
            .map(Data)
            .map_err(|e| ExtractError::new(format!("invalid arguments: {e}")))
    }
}

/// The arguments (or the auth payload) as `T`. A connection's auth payload that is absent or
/// empty (`{}`) reads as `None` into an `Option`, so that `Data<Option<Auth>>` tells a client
/// that sent no credentials from one that sent wrong ones.
fn read_args<S, T: DeserializeOwned>(ctx: &mut HandlerContext<S>) -> Result<T, serde_json::Error> {
    let args = ctx.take_args().unwrap_or_default();
    let connecting = ctx.event.is_none();
    if connecting && matches!(args.as_slice(), [Value::Object(entries)] if entries.is_empty()) {
        return T::deserialize(NoAuth);
    }
    args_into(args)
}

/// The auth payload of a client that sent none, as [`Data`] reads it: `None` for an `Option`,
/// the empty object (`{}`) for anything else.
struct NoAuth;

impl NoAuth {
    fn empty() -> Value {
        Value::Object(Vec::new())
    }
}

impl<'de> serde::Deserializer<'de> for NoAuth {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Self::empty().deserialize_any(visitor)
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_none()
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Self::empty().deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Self::empty().deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// Like [`Data`], with the deserialization error instead of a rejection: the handler runs
/// either way.
///
/// ```
/// use tower_socketio::extract::{AckSender, TryData};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("age", |ack: AckSender, TryData(age): TryData<u8>| async move {
///         let _ = match age {
///             Ok(age) => ack.send(&format!("{age} years")),
///             Err(_) => ack.send("an age is a number from 0 to 255"),
///         };
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let answer: String = client.emit_with_ack("age", &42).await.unwrap();
/// assert_eq!(answer, "42 years");
/// let answer: String = client.emit_with_ack("age", "old").await.unwrap();
/// assert_eq!(answer, "an age is a number from 0 to 255");
/// # }
/// ```
#[derive(Debug)]
pub struct TryData<T>(pub Result<T, serde_json::Error>);

impl<S, T: DeserializeOwned> FromMessage<S> for TryData<T> {
    fn from_message(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        Ok(TryData(read_args(ctx)))
    }
}

/// Every argument of the event, binary kept in place.
///
/// It serializes as a tuple, so emitting it sends the same arguments back: an echo of unknown
/// arguments is `socket.emit("echo", &args)`.
///
/// ```
/// use tower_socketio::extract::Args;
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo, SocketRef, Value};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("echo", |socket: SocketRef, Args(args): Args| async move {
///         let _ = socket.emit("count", &args.len());
///         let _ = socket.emit("echo", &Args(args)); // the same arguments back
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// client.emit("echo", &("a", 1, bytes::Bytes::from_static(b"\x00\x01"))).await.unwrap();
/// let (_, count) = client.recv().await.unwrap();
/// assert_eq!(count[0], Value::from(3i64));
/// let (_, echo) = client.recv().await.unwrap();
/// assert_eq!(echo[0].as_str(), Some("a"));
/// assert_eq!(echo[2].as_bytes().map(|b| &b[..]), Some(&[0u8, 1][..])); // binary in place
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Args(pub Vec<Value>);

impl<S> FromMessage<S> for Args {
    fn from_message(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        Ok(Args(ctx.take_args().unwrap_or_default()))
    }
}

impl Serialize for Args {
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for value in &self.0 {
            tuple.serialize_element(value)?;
        }
        tuple.end()
    }
}

/// The binary attachments of the event, in order (wherever they were in the arguments; read
/// them in place with [`Args`] or [`Data`] and a [`Bytes`] field instead).
///
/// ```
/// use tower_socketio::extract::{AckSender, Bin};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("upload", |ack: AckSender, Bin(files): Bin| async move {
///         let sizes: Vec<usize> = files.iter().map(|file| file.len()).collect();
///         let _ = ack.send(&sizes);
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let files = ("two files", bytes::Bytes::from_static(b"abc"), bytes::Bytes::from_static(b"de"));
/// let sizes: Vec<usize> = client.emit_with_ack("upload", &files).await.unwrap();
/// assert_eq!(sizes, [3, 2]);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bin(pub Vec<Bytes>);

impl<S> FromMessage<S> for Bin {
    fn from_message(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        Ok(Bin(std::mem::take(&mut ctx.attachments)))
    }
}

/// The event name: for a [`fallback`](crate::Namespace::fallback) handler, or one handler
/// routed several events. Not available in connect and disconnect handlers (an
/// [`ExtractError`]).
///
/// ```
/// use tower_socketio::extract::{AckSender, Event};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().fallback(|ack: AckSender, Event(name): Event| async move {
///         let _ = ack.send(&format!("no route for {name}"));
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let answer: String = client.emit_with_ack("dance", &()).await.unwrap();
/// assert_eq!(answer, "no route for dance");
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event(pub String);

impl<S> FromSocket<S> for Event {
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        ctx.event
            .clone()
            .map(Event)
            .ok_or_else(|| ExtractError::new("no event here"))
    }
}

/// The application state given to
/// [`SocketIoBuilder::with_state`](crate::SocketIoBuilder::with_state), cloned for each
/// handler call: keep it cheap to clone (`Arc`s, pools, channels). `examples/state.rs` has a
/// longer one.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use tower_socketio::extract::{AckSender, State};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo};
///
/// #[derive(Clone, Default)]
/// struct AppState { hits: Arc<AtomicU64> }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let state = AppState::default();
/// let io = SocketIo::builder()
///     .with_state(state.clone()) // before `ns`: its namespaces' handlers get this state
///     .ns("/", Namespace::new().on("hit", |ack: AckSender, State(state): State<AppState>| async move {
///         let _ = ack.send(&(state.hits.fetch_add(1, Ordering::Relaxed) + 1));
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let first: u64 = client.emit_with_ack("hit", &()).await.unwrap();
/// let second: u64 = client.emit_with_ack("hit", &()).await.unwrap();
/// assert_eq!((first, second), (1, 2));
/// assert_eq!(state.hits.load(Ordering::Relaxed), 2); // the same state, shared
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct State<S>(pub S);

impl<S: Clone> FromSocket<S> for State<S> {
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        Ok(State(ctx.state.clone()))
    }
}

/// A copy of the value of type `T` stored on the socket with
/// [`Socket::insert_extension`](crate::Socket::insert_extension) (by a middleware, say).
/// Missing is an [`ExtractError`]; take [`MaybeExtension`] when it may be absent.
///
/// ```
/// use tower_socketio::extract::{AckSender, Extension};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo, SocketRef};
///
/// #[derive(Clone)]
/// struct User { name: String }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ns = Namespace::new()
///     .on_connect(|socket: SocketRef| async move {
///         socket.insert_extension(User { name: "ada".into() });
///     })
///     .on("whoami", |ack: AckSender, Extension(user): Extension<User>| async move {
///         let _ = ack.send(&user.name);
///     });
/// let io = SocketIo::builder().ns("/", ns).build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let name: String = client.emit_with_ack("whoami", &()).await.unwrap();
/// assert_eq!(name, "ada");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Extension<T>(pub T);

impl<S, T: Clone + Send + Sync + 'static> FromSocket<S> for Extension<T> {
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        ctx.socket.extension::<T>().map(Extension).ok_or_else(|| {
            ExtractError::new("a socket extension is missing")
                .with_detail(format!("no {} on the socket", std::any::type_name::<T>()))
        })
    }
}

/// The value of type `T` stored on the socket, if there is one.
///
/// ```
/// use tower_socketio::extract::{AckSender, Data, MaybeExtension};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo, SocketRef};
///
/// #[derive(Clone)]
/// struct Nickname(String);
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ns = Namespace::new()
///     .on("nick", |socket: SocketRef, ack: AckSender, Data(nick): Data<String>| async move {
///         socket.insert_extension(Nickname(nick));
///         let _ = ack.send("ok");
///     })
///     .on("hello", |ack: AckSender, MaybeExtension(nick): MaybeExtension<Nickname>| async move {
///         let _ = match nick {
///             Some(Nickname(nick)) => ack.send(&format!("hello, {nick}")),
///             None => ack.send("hello, stranger"),
///         };
///     });
/// let io = SocketIo::builder().ns("/", ns).build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// let answer: String = client.emit_with_ack("hello", &()).await.unwrap();
/// assert_eq!(answer, "hello, stranger");
/// let _: String = client.emit_with_ack("nick", "ada").await.unwrap();
/// let answer: String = client.emit_with_ack("hello", &()).await.unwrap();
/// assert_eq!(answer, "hello, ada");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MaybeExtension<T>(pub Option<T>);

impl<S, T: Clone + Send + Sync + 'static> FromSocket<S> for MaybeExtension<T> {
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        Ok(MaybeExtension(ctx.socket.extension::<T>()))
    }
}

impl<S> FromSocket<S> for Handshake {
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        Ok(ctx.socket.handshake().clone())
    }
}

/// Whether the socket was recovered by connection state recovery
/// ([`Socket::recovered`](crate::Socket::recovered)): its client came back in time, with its
/// id, rooms, data and the events it missed.
///
/// ```
/// use tower_socketio::extract::Recovered;
/// use tower_socketio::{Namespace, SocketRef};
///
/// let ns: Namespace = Namespace::new().on_connect(|socket: SocketRef, Recovered(recovered): Recovered| async move {
///     if !recovered {
///         let _ = socket.emit("welcome", "first time here");
///     }
/// });
/// # let _ = ns;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovered(pub bool);

impl<S> FromSocket<S> for Recovered {
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        Ok(Recovered(ctx.socket.recovered()))
    }
}

impl<S> FromSocket<S> for DisconnectReason {
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        ctx.reason
            .ok_or_else(|| ExtractError::new("no disconnect reason here"))
    }
}

/// Answers the client's acknowledgement request (the callback the client passed as the last
/// argument of `emit`).
///
/// It answers once: [`send`](AckSender::send) consumes it. A second `AckSender` in the same
/// handler gets no request to answer, and sending when the client asked for none
/// ([`requested`](AckSender::requested) is false) does nothing.
///
/// ```
/// use tower_socketio::extract::{AckSender, Data};
/// use tower_socketio::testing::TestClient;
/// use tower_socketio::{Namespace, SocketIo};
///
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Receipt { id: u64, stored: bool }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let io = SocketIo::builder()
///     .ns("/", Namespace::new().on("save", |ack: AckSender, Data(text): Data<String>| async move {
///         // The answer is the callback's arguments: a struct is one (an object).
///         let _ = ack.send(&Receipt { id: 7, stored: !text.is_empty() });
///     }))
///     .build();
///
/// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
/// // In the browser: socket.emit("save", "hello", (receipt) => ...)
/// let receipt: Receipt = client.emit_with_ack("save", "hello").await.unwrap();
/// assert_eq!(receipt, Receipt { id: 7, stored: true });
/// # }
/// ```
#[derive(Debug)]
pub struct AckSender {
    socket: SocketRef,
    id: Option<u64>,
}

impl AckSender {
    /// Whether the client asked for an acknowledgement.
    ///
    /// ```
    /// use tower_socketio::extract::AckSender;
    /// use tower_socketio::{Namespace, SocketRef};
    ///
    /// let ns: Namespace = Namespace::new().on("ping", |socket: SocketRef, ack: AckSender| async move {
    ///     if ack.requested() {
    ///         let _ = ack.send("pong"); // socket.emit("ping", (answer) => ...)
    ///     } else {
    ///         let _ = socket.emit("pong", &()); // socket.emit("ping")
    ///     }
    /// });
    /// # let _ = ns;
    /// ```
    pub fn requested(&self) -> bool {
        self.id.is_some()
    }

    /// Sends the acknowledgement with `data` as its arguments (the same rules as
    /// [`Socket::emit`](crate::Socket::emit): a tuple is several arguments).
    ///
    /// ```
    /// use tower_socketio::extract::{AckSender, Data};
    /// use tower_socketio::testing::TestClient;
    /// use tower_socketio::{Namespace, SocketIo};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let io = SocketIo::builder()
    ///     .ns("/", Namespace::new().on("divide", |ack: AckSender, Data((a, b)): Data<(i64, i64)>| async move {
    ///         // Node's error-first convention: (err, result), two arguments.
    ///         let _ = match a.checked_div(b) {
    ///             Some(q) => ack.send(&((), q)),
    ///             None => ack.send(&("division by zero", ())),
    ///         };
    ///     }))
    ///     .build();
    ///
    /// let mut client = TestClient::connect(axum::Router::new().layer(io.layer()), "/").await.unwrap();
    /// let answer: (Option<String>, Option<i64>) = client.emit_with_ack("divide", &(7, 2)).await.unwrap();
    /// assert_eq!(answer, (None, Some(3)));
    /// let answer: (Option<String>, Option<i64>) = client.emit_with_ack("divide", &(7, 0)).await.unwrap();
    /// assert_eq!(answer, (Some("division by zero".into()), None));
    /// # }
    /// ```
    pub fn send<T: Serialize + ?Sized>(mut self, data: &T) -> Result<(), EmitError> {
        match self.id.take() {
            Some(id) => self.socket.send_ack(id, data),
            None => Ok(()),
        }
    }
}

impl<S> FromSocket<S> for AckSender {
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        Ok(AckSender {
            socket: ctx.socket.clone(),
            id: ctx.ack_id.take(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[test]
    fn only_the_message_is_for_the_client() {
        let error = ExtractError::new("a socket extension is missing").with_detail("no User");
        assert_eq!(error.message(), "a socket extension is missing");
        assert_eq!(error.detail(), Some("no User"));
        assert_eq!(error.to_string(), "a socket extension is missing (no User)");
        assert_eq!(ExtractError::new("plain").to_string(), "plain");
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Auth {
        token: String,
    }

    #[derive(Debug, PartialEq, Default, serde::Deserialize)]
    #[serde(default)]
    struct Loose {
        token: Option<String>,
    }

    #[test]
    fn no_auth_is_none_for_an_option_and_an_empty_object_otherwise() {
        assert_eq!(Option::<Auth>::deserialize(NoAuth).unwrap(), None);
        assert_eq!(
            Value::deserialize(NoAuth).unwrap(),
            Value::Object(Vec::new())
        );
        assert_eq!(Loose::deserialize(NoAuth).unwrap(), Loose::default());
        assert!(
            std::collections::HashMap::<String, String>::deserialize(NoAuth)
                .unwrap()
                .is_empty()
        );
        // A required field is still missing.
        assert!(Auth::deserialize(NoAuth).is_err());
    }
}
