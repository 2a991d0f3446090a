//! The admin UI's `SerializedSocket`: a socket as the UI lists it.

use serde_json::{Map, Value as Json, json};

use crate::adapter::SocketInfo;
use crate::socket::Socket;
use crate::value::Value;

/// The key of `socket.data` where the admin keeps what a remote server needs to show a socket
/// (its engine id's first 12 characters, its transport), as Node's admin does.
pub(super) const ADMIN_KEY: &str = "_admin";

/// Puts `_admin: {clientId, transport}` into the socket's data (kept across servers by
/// `fetch_sockets`), the rest of the data as it was.
pub(super) fn mark(socket: &Socket) {
    let mut data = socket.data_value();
    let admin = Value::from(json!({
        "clientId": client_id(socket),
        "transport": socket.transport().name(),
    }));
    match &mut data {
        Value::Object(fields) => {
            fields.retain(|(key, _)| key != ADMIN_KEY);
            fields.insert(0, (ADMIN_KEY.to_owned(), admin));
        }
        _ => data = Value::Object(vec![(ADMIN_KEY.to_owned(), admin)]),
    }
    socket.set_data_value(data);
}

/// Updates the transport recorded by [`mark`].
pub(super) fn mark_transport(socket: &Socket) {
    mark(socket);
}

fn client_id(socket: &Socket) -> String {
    socket.engine_id().as_str().chars().take(12).collect()
}

/// The socket's data without the `_admin` key.
pub(super) fn data(data: &Value) -> Json {
    match serde_json::to_value(data).unwrap_or(Json::Null) {
        Json::Object(mut fields) => {
            fields.remove(ADMIN_KEY);
            Json::Object(fields)
        }
        // Node spreads the data into an object: anything else shows as `{}`.
        _ => Json::Object(Map::new()),
    }
}

/// A socket of namespace `nsp`, local or from another server.
pub(super) fn socket(info: &SocketInfo, nsp: &str, local: Option<&Socket>) -> Json {
    let admin = match &info.data {
        Value::Object(fields) => fields
            .iter()
            .find(|(key, _)| key == ADMIN_KEY)
            .and_then(|(_, v)| serde_json::to_value(v).ok()),
        _ => None,
    };
    let field = |name: &str| admin.as_ref().and_then(|a| a.get(name)).cloned();
    // The application may have replaced the data since: a local socket is asked directly.
    let client_id = field("clientId")
        .or_else(|| local.map(|s| Json::from(client_id(s))))
        .unwrap_or(Json::Null);
    let transport = local
        .map(|s| Json::from(s.transport().name()))
        .or_else(|| field("transport"))
        .unwrap_or(Json::Null);
    let hs = &info.handshake;
    let header = |name: &str| {
        hs.headers
            .get(name)
            .and_then(Json::as_str)
            .filter(|v| !v.is_empty())
    };
    let address = header("cf-connecting-ip")
        .or_else(|| header("x-forwarded-for"))
        .unwrap_or(&hs.address);
    json!({
        "id": info.id.as_str(),
        "clientId": client_id,
        "transport": transport,
        "nsp": nsp,
        "data": data(&info.data),
        "handshake": {
            "address": address,
            "headers": hs.headers,
            "query": hs.query,
            "issued": hs.issued,
            "secure": hs.secure,
            "time": hs.time,
            "url": hs.url,
            "xdomain": hs.xdomain,
        },
        "rooms": info.rooms,
    })
}
