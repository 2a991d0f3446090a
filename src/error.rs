//! Every error type of the crate, in one place. Each is also reachable where it is used
//! (the crate root, [`adapter`](crate::adapter), [`extract`](crate::extract)).

use std::fmt;

use crate::engine::EncodedSendError;

/// Why an emit failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum EmitError {
    /// The event name is reserved ([`RESERVED_EVENTS`](crate::RESERVED_EVENTS)).
    ReservedEvent(String),
    /// The data could not be serialized.
    Serialize(serde_json::Error),
    /// The data serialized into something that is not a valid packet (a bug of this crate).
    Encoding(&'static str),
    /// The packet did not fit in the client's send buffer: it reads more slowly than the
    /// server sends (see
    /// [`EngineConfig::max_buffered_bytes`](crate::EngineConfig::max_buffered_bytes)). Nothing
    /// is dropped in silence: the client's connection is being closed with a "transport error"
    /// (from which connection state recovery can restore it).
    BufferFull,
    /// The socket is disconnected.
    Disconnected,
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::ReservedEvent(name) => write!(f, "\"{name}\" is a reserved event name"),
            EmitError::Serialize(e) => write!(f, "the data could not be serialized: {e}"),
            EmitError::Encoding(e) => write!(f, "the data was encoded into an invalid packet: {e}"),
            EmitError::BufferFull => {
                f.write_str("the client's send buffer is full: its connection is being closed")
            }
            EmitError::Disconnected => f.write_str("the socket is disconnected"),
        }
    }
}

impl std::error::Error for EmitError {}

impl From<EncodedSendError> for EmitError {
    fn from(e: EncodedSendError) -> Self {
        match e {
            EncodedSendError::Full => EmitError::BufferFull,
            EncodedSendError::Closed => EmitError::Disconnected,
        }
    }
}

/// Why an acknowledgement did not come.
#[derive(Debug)]
#[non_exhaustive]
pub enum AckError {
    /// The client did not answer in time.
    Timeout,
    /// The socket disconnected before the answer came.
    Disconnected,
    /// The answer could not be deserialized into the expected type.
    Deserialize(serde_json::Error),
    /// The emit itself failed.
    Emit(EmitError),
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AckError::Timeout => f.write_str("the acknowledgement timed out"),
            AckError::Disconnected => f.write_str("the socket disconnected before acknowledging"),
            AckError::Deserialize(e) => write!(f, "the acknowledgement did not deserialize: {e}"),
            AckError::Emit(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AckError {}

/// Why a broadcast failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum BroadcastError {
    /// The emit itself failed (reserved name, serialization).
    Emit(EmitError),
    /// The adapter could not reach other servers. This server's sockets got the packet.
    Adapter(AdapterError),
}

impl std::fmt::Display for BroadcastError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BroadcastError::Emit(e) => write!(f, "{e}"),
            BroadcastError::Adapter(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BroadcastError {}

/// An operation across servers that failed.
#[derive(Debug)]
pub struct AdapterError(pub Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "adapter error: {}", self.0)
    }
}

impl std::error::Error for AdapterError {}

/// Why a connection middleware refused a connection. The client gets a CONNECT_ERROR with
/// `message` and `data` (its `connect_error` event: `err.message`, `err.data`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    message: String,
    data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with this message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Attaches data for the client (`err.data`).
    pub fn with_data(mut self, data: impl serde::Serialize) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The data.
    pub fn data(&self) -> Option<&serde_json::Value> {
        self.data.as_ref()
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

impl From<ExtractError> for ConnectError {
    fn from(e: ExtractError) -> Self {
        ConnectError::new(e.message())
    }
}

/// Why a handler's argument could not be extracted. The handler is not called, and the error
/// is logged (with its [detail](ExtractError::with_detail)). What the client hears depends on
/// the handler:
/// - an event handler: when the client asked for an acknowledgement, it gets one carrying
///   `{"error": "<message>"}`;
/// - a connection middleware: the connection is refused, the client's `connect_error` gets
///   the message;
/// - a connect or disconnect handler: nothing; the client is connected (or gone) already.
///
/// Only [`message`](ExtractError::message) reaches the client: keep server details (type
/// names, internal state) in the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractError {
    message: String,
    detail: Option<String>,
}

impl ExtractError {
    /// An error with this message, which the client may be sent.
    pub fn new(message: impl Into<String>) -> Self {
        ExtractError {
            message: message.into(),
            detail: None,
        }
    }

    /// Adds what only the server's log shows.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The message, as the client may be sent it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What only the log shows, if anything.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

/// The message, then the detail in parentheses: the log's wording.
impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExtractError {}
