//! The development mode's live events: what the server's observers see, queued for the admin
//! namespace (`socket_connected`, `socket_updated`, `socket_disconnected`, `room_joined`,
//! `room_left`, `event_received`, `event_sent`).

use std::time::SystemTime;

use serde::ser::{Serialize, SerializeTuple, Serializer};
use serde_json::json;
use tokio::sync::mpsc;

use super::{date, serialize};
use crate::adapter::RoomObserver;
use crate::engine::Sid;
use crate::socket::{DisconnectReason, Socket, SocketObserver};
use crate::value::Value;

/// How many live events may wait for the admin task; past that, new ones are dropped (with a
/// debug log line): a server under a burst keeps serving its clients rather than its dashboard.
pub(super) const QUEUE: usize = 4096;

/// One event for the admin namespace: its name and arguments.
pub(super) type Notice = (&'static str, Vec<Value>);

/// The arguments of an event, spread (a tuple on the wire, not one array argument).
pub(super) struct Spread<'a>(pub(super) &'a [Value]);

impl Serialize for Spread<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for value in self.0 {
            tuple.serialize_element(value)?;
        }
        tuple.end()
    }
}

/// The server's socket and room observer while the admin UI is installed in development mode.
pub(super) struct Events {
    /// The admin namespace: its own traffic is not reported (it would report itself forever).
    pub(super) admin_ns: String,
    pub(super) queue: mpsc::Sender<Notice>,
}

fn now() -> Value {
    Value::String(date::iso(SystemTime::now()))
}

impl Events {
    fn send(&self, notice: Notice) {
        if self.queue.try_send(notice).is_err() {
            tracing::debug!("admin UI: live event dropped (queue full or admin task gone)");
        }
    }
}

impl SocketObserver for Events {
    fn connected(&self, socket: &Socket) {
        serialize::mark(socket);
        let serialized = serialize::socket(&socket.info(), socket.ns(), Some(socket));
        self.send(("socket_connected", vec![Value::from(serialized), now()]));
    }

    fn disconnected(&self, socket: &Socket, reason: DisconnectReason) {
        let args = vec![
            Value::String(socket.ns().to_owned()),
            Value::String(socket.id().to_string()),
            Value::String(reason.as_str().to_owned()),
            now(),
        ];
        self.send(("socket_disconnected", args));
    }

    fn event_received(&self, socket: &Socket, event: &str, args: &[Value]) {
        self.event("event_received", socket, event, args);
    }

    fn event_sent(&self, socket: &Socket, event: &str, args: &[Value]) {
        self.event("event_sent", socket, event, args);
    }

    fn transport_upgraded(&self, socket: &Socket) {
        serialize::mark_transport(socket);
        let update = json!({
            "id": socket.id().as_str(),
            "nsp": socket.ns(),
            "transport": socket.transport().name(),
        });
        self.send(("socket_updated", vec![Value::from(update)]));
    }

    fn data_updated(&self, socket: &Socket) {
        let data = socket.data_value();
        let update = json!({
            "id": socket.id().as_str(),
            "nsp": socket.ns(),
            "data": serialize::data(&data),
        });
        self.send(("socket_updated", vec![Value::from(update)]));
    }
}

impl Events {
    /// `event_received` / `event_sent`: `(nsp, id, [event, ...args], date)`.
    fn event(&self, name: &'static str, socket: &Socket, event: &str, args: &[Value]) {
        if socket.ns() == self.admin_ns {
            return;
        }
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(Value::String(event.to_owned()));
        all.extend_from_slice(args);
        let notice = vec![
            Value::String(socket.ns().to_owned()),
            Value::String(socket.id().to_string()),
            Value::Array(all),
            now(),
        ];
        self.send((name, notice));
    }

    fn room(&self, name: &'static str, ns: &str, room: &str, sid: Sid) {
        let args = vec![
            Value::String(ns.to_owned()),
            Value::String(room.to_owned()),
            Value::String(sid.to_string()),
            now(),
        ];
        self.send((name, args));
    }
}

impl RoomObserver for Events {
    fn room_joined(&self, ns: &str, room: &str, sid: Sid) {
        self.room("room_joined", ns, room, sid);
    }

    fn room_left(&self, ns: &str, room: &str, sid: Sid) {
        self.room("room_left", ns, room, sid);
    }
}
