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

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde::ser::SerializeTuple;

use crate::error::EmitError;
pub use crate::error::ExtractError;
use crate::parser::args_into;
use crate::socket::{DisconnectReason, Handshake, SocketRef};
use crate::value::Value;

/// What a handler's arguments are extracted from.
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
    pub fn socket(&self) -> &SocketRef {
        &self.socket
    }

    /// The application state.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// Takes the arguments (the first extractor that takes them gets them).
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
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler argument in this position",
    label = "not an extractor that leaves the packet's arguments alone",
    note = "handler arguments are extractors, taken by value: `SocketRef` (not `&SocketRef`), `AckSender`, `State<S>`, `Extension<T>`, `Event`, `Handshake`, `DisconnectReason`, or a type implementing `FromSocket`",
    note = "`Data<T>`, `TryData<T>`, `Args` and `Bin` take the packet's arguments: at most one of them per handler, as its last argument"
)]
pub trait FromSocket<S>: Sized {
    /// Extracts the value from the context.
    fn from_socket(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError>;
}

/// A handler argument that takes the packet's arguments ([`Data`], [`TryData`], [`Args`],
/// [`Bin`]): at most one per handler, as its last argument, so that no second one silently
/// finds them taken (axum's `FromRequest`). Every [`FromSocket`] is one too, through the
/// marker `M`, which callers never name.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler argument",
    label = "not an extractor",
    note = "handler arguments are extractors, taken by value: `SocketRef` (not `&SocketRef`), `Data<T>` with `T: Deserialize`, `TryData<T>`, `Args`, `Bin`, `AckSender`, `State<S>`, `Extension<T>`, `Event`, `Handshake`, `DisconnectReason`, or a type implementing `FromSocket` or `FromMessage`"
)]
pub trait FromMessage<S, M = private::ViaMessage>: Sized {
    /// Extracts the value from the context, taking the arguments
    /// ([`HandlerContext::take_args`]) or the attachments.
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
/// In a connection middleware or connect handler it reads the CONNECT auth payload, and
/// `Data<Option<T>>` gives `None` when the client sent none or an empty one (`{}`):
///
/// ```
/// use tower_socketio::{ConnectError, Namespace, SocketRef};
/// use tower_socketio::extract::Data;
///
/// #[derive(serde::Deserialize)]
/// struct Auth { token: String }
///
/// let ns: Namespace = Namespace::new().middleware(
///     |_socket: SocketRef, Data(auth): Data<Option<Auth>>| async move {
///         match auth {
///             None => Err(ConnectError::new("credentials required")),
///             Some(auth) if auth.token == "secret" => Ok(()),
///             Some(_) => Err(ConnectError::new("wrong credentials")),
///         }
///     },
/// );
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

/// Like [`Data`], with the deserialization error instead of a rejection.
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

/// The binary attachments of the event, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bin(pub Vec<Bytes>);

impl<S> FromMessage<S> for Bin {
    fn from_message(ctx: &mut HandlerContext<S>) -> Result<Self, ExtractError> {
        Ok(Bin(std::mem::take(&mut ctx.attachments)))
    }
}

/// The event name.
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
/// [`SocketIoBuilder::with_state`](crate::SocketIoBuilder::with_state).
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
#[derive(Debug)]
pub struct AckSender {
    socket: SocketRef,
    id: Option<u64>,
}

impl AckSender {
    /// Whether the client asked for an acknowledgement.
    pub fn requested(&self) -> bool {
        self.id.is_some()
    }

    /// Sends the acknowledgement with `data` as its arguments (the same rules as
    /// [`Socket::emit`](crate::Socket::emit): a tuple is several arguments).
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
