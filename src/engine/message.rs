//! The data an Engine.IO session carries: text or binary messages, held in shared buffers.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

/// An immutable, cheaply cloneable UTF-8 string backed by [`Bytes`].
///
/// Cloning or slicing a `Str` never copies the text: an incoming message is a view into the
/// buffer it was read into, and one outgoing message can be shared by any number of sessions.
///
/// ```
/// use tower_socketio::engine::Str;
///
/// let text = Str::from(String::from("hello"));
/// let shared = text.clone(); // the same buffer, no copy
/// assert_eq!(shared, "hello");
/// assert_eq!(text.len(), 5); // a `str` through `Deref`
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Str(Bytes);

impl Str {
    /// A `Str` from a static string, without allocating.
    ///
    /// ```
    /// use tower_socketio::engine::{Message, Str};
    ///
    /// const HELLO: Str = Str::from_static("hello");
    /// let message = Message::Text(HELLO);
    /// # let _ = message;
    /// ```
    pub const fn from_static(s: &'static str) -> Self {
        Str(Bytes::from_static(s.as_bytes()))
    }

    /// The text as a `&str`.
    ///
    /// ```
    /// use tower_socketio::engine::Str;
    ///
    /// let text = Str::from("hello");
    /// assert_eq!(text.as_str().to_uppercase(), "HELLO");
    /// ```
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checks or guarantees that the bytes are UTF-8, and slicing
        // (`slice`, `skip`) only happens at char boundaries.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The UTF-8 bytes of the text.
    ///
    /// ```
    /// use tower_socketio::engine::Str;
    ///
    /// assert_eq!(Str::from("hi").as_bytes(), b"hi");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying shared buffer.
    ///
    /// ```
    /// use tower_socketio::engine::Str;
    ///
    /// let bytes: bytes::Bytes = Str::from("hi").into_bytes();
    /// assert_eq!(&bytes[..], b"hi");
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The text from byte `start` to byte `end`, sharing the buffer.
    ///
    /// # Panics
    /// When `start..end` is out of bounds or not on char boundaries.
    pub(crate) fn slice(&self, start: usize, end: usize) -> Str {
        assert!(self.as_str().is_char_boundary(start) && self.as_str().is_char_boundary(end));
        Str(self.0.slice(start..end))
    }

    /// The text without its first `n` bytes, in the same buffer. Unlike a slice, it takes no
    /// new reference: a buffer owned by this string alone stays so (sharing it would cost an
    /// allocation).
    ///
    /// # Panics
    /// When `n` is past the end or not on a char boundary.
    pub(crate) fn skip(self, n: usize) -> Str {
        assert!(self.as_str().is_char_boundary(n));
        let mut bytes = self.0;
        bytes::Buf::advance(&mut bytes, n);
        Str(bytes)
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(Bytes::from(s))
    }
}

impl From<&'static str> for Str {
    fn from(s: &'static str) -> Self {
        Str::from_static(s)
    }
}

impl From<Str> for Bytes {
    fn from(s: Str) -> Self {
        s.0
    }
}

impl TryFrom<Bytes> for Str {
    type Error = std::str::Utf8Error;
    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Str(bytes))
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message of an Engine.IO session (the payload of a `message` packet): text or binary.
///
/// ```
/// use std::sync::Arc;
/// use tower_socketio::engine::{EngineHandler, Message, Socket};
///
/// struct Echo;
///
/// impl EngineHandler for Echo {
///     type Data = ();
///     fn on_message(&self, socket: &Arc<Socket>, message: Message) {
///         let _ = match message {
///             Message::Text(text) => socket.send(format!("you said: {text}")),
///             Message::Binary(bytes) => socket.send(format!("{} bytes", bytes.len())),
///         };
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A UTF-8 text message.
    Text(Str),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The message's length in bytes.
    ///
    /// ```
    /// use tower_socketio::engine::Message;
    ///
    /// assert_eq!(Message::from("héllo").len(), 6); // bytes, not characters
    /// assert_eq!(Message::from(vec![1u8, 2, 3]).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Message::Text(s) => s.len(),
            Message::Binary(b) => b.len(),
        }
    }

    /// Whether the message is empty.
    ///
    /// ```
    /// use tower_socketio::engine::Message;
    ///
    /// assert!(Message::from("").is_empty());
    /// assert!(!Message::from("x").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Text(s.into())
    }
}

impl From<&'static str> for Message {
    fn from(s: &'static str) -> Self {
        Message::Text(Str::from_static(s))
    }
}

impl From<Str> for Message {
    fn from(s: Str) -> Self {
        Message::Text(s)
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message::Binary(b)
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Message::Binary(b.into())
    }
}
