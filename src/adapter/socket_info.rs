//! What crosses servers about a socket: its id, rooms, data and handshake (Node's
//! `RemoteSocket` fields, as `fetchSockets` answers carry them).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::Room;
use crate::engine::Sid;
use crate::value::Value;

/// A socket as another server sees it: what a `fetchSockets` answer carries (Node's
/// `RemoteSocket` without its methods). Serialized with Node's field names.
///
/// ```
/// use tower_socketio::adapter::SocketInfo;
///
/// // What a Node server answers to `fetchSockets` (fields it does not know are ignored).
/// let json = r#"{"id":"AAAAAAAAAAAAAAAAAAAA","handshake":{"address":"::1","auth":{}},"rooms":["lobby"],"data":{"name":"ada"}}"#;
/// let info: SocketInfo = serde_json::from_str(json).unwrap();
/// assert_eq!(info.rooms, ["lobby"]);
/// assert_eq!(info.handshake.address, "::1");
/// assert_eq!(info.data.get("name").and_then(|n| n.as_str()), Some("ada"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketInfo {
    /// The socket id.
    pub id: Sid,
    /// What the client sent when connecting, as Node describes it.
    pub handshake: HandshakeInfo,
    /// The rooms the socket is in, its own id's included.
    pub rooms: Vec<Room>,
    /// The socket's serializable data (Node: `socket.data`), `null` when never set (Node
    /// sends `{}` for a socket whose data is the default `{}`).
    #[serde(default)]
    pub data: Value,
}

/// A socket's handshake as Node serializes it (`socket.handshake`): the request that opened the
/// connection and the namespace CONNECT's auth payload. Fields a Node server sends and this
/// one does not know are ignored; missing ones are defaulted.
///
/// ```
/// # async fn f(io: tower_socketio::SocketIo) {
/// for socket in io.fetch_sockets().await.unwrap() {
///     let handshake = socket.handshake();
///     let token = handshake.query.get("token"); // io({ query: { token } })
///     tracing::info!(address = %handshake.address, url = %handshake.url, ?token, secure = handshake.secure);
/// }
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HandshakeInfo {
    /// The request's headers, names in lower case.
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// When the connection was made, as JavaScript's `Date.toString()` words it.
    pub time: String,
    /// The client's address.
    pub address: String,
    /// Whether the request came from another origin (it had an `Origin` header).
    pub xdomain: bool,
    /// Whether the connection was made over TLS.
    pub secure: bool,
    /// When the connection was made, in milliseconds since the Unix epoch.
    pub issued: u64,
    /// The request's URL (path and query).
    pub url: String,
    /// The query string's parameters.
    pub query: serde_json::Map<String, serde_json::Value>,
    /// The CONNECT packet's auth payload (`{}` when none).
    pub auth: serde_json::Value,
}

impl HandshakeInfo {
    /// The handshake of a connection opened by the request `parts`, from `address`, at
    /// `issued`, which sent `auth` in its namespace CONNECT.
    pub(crate) fn of_request(
        parts: &http::request::Parts,
        address: Option<std::net::SocketAddr>,
        issued: SystemTime,
        auth: serde_json::Value,
    ) -> Self {
        let mut headers = serde_json::Map::new();
        for (name, value) in &parts.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match headers.get_mut(name.as_str()) {
                // Node joins repeated headers with ", ".
                Some(serde_json::Value::String(seen)) => {
                    seen.push_str(", ");
                    seen.push_str(&value);
                }
                _ => {
                    headers.insert(name.as_str().to_owned(), value.into());
                }
            }
        }
        let millis = issued
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        HandshakeInfo {
            xdomain: parts.headers.contains_key(http::header::ORIGIN),
            headers,
            time: js_date(millis / 1000),
            address: address.map(|a| a.ip().to_string()).unwrap_or_default(),
            secure: parts.uri.scheme() == Some(&http::uri::Scheme::HTTPS),
            issued: millis,
            url: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            query: query_map(parts.uri.query().unwrap_or("")),
            auth,
        }
    }
}

/// `seconds` since the Unix epoch as JavaScript's `Date.toString()` writes it in UTC:
/// `Wed Dec 02 2026 06:58:24 GMT+0000 (Coordinated Universal Time)`.
fn js_date(seconds: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = seconds / 86_400;
    let time = seconds % 86_400;
    let (year, month, day) = crate::value::civil_date(days as i64);
    format!(
        "{} {} {:02} {} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        year,
        time / 3600,
        time % 3600 / 60,
        time % 60
    )
}

/// A query string's parameters, decoded (`+` is a space), as Node's `querystring` reads them: a
/// repeated name gives a list.
fn query_map(query: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode(name), serde_json::Value::String(decode(value)));
        match map.get_mut(&name) {
            Some(serde_json::Value::Array(values)) => values.push(value),
            Some(first) => *first = serde_json::Value::Array(vec![first.take(), value]),
            None => {
                map.insert(name, value);
            }
        }
    }
    map
}

/// Percent-decoding, `+` as a space; an invalid escape is kept as is.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_javascript_writes_them() {
        assert_eq!(
            js_date(0),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        // 2026-12-02T06:58:24Z
        assert_eq!(
            js_date(1_796_194_704),
            "Wed Dec 02 2026 06:58:24 GMT+0000 (Coordinated Universal Time)"
        );
        // 2024-02-29T12:00:00Z, a leap day
        assert_eq!(
            js_date(1_709_208_000),
            "Thu Feb 29 2024 12:00:00 GMT+0000 (Coordinated Universal Time)"
        );
    }

    #[test]
    fn query_strings_as_node_reads_them() {
        let map = query_map("EIO=4&transport=polling&name=a%20b+c&x=1&x=2&bad=%zz&flag");
        assert_eq!(map["EIO"], "4");
        assert_eq!(map["name"], "a b c");
        assert_eq!(map["x"], serde_json::json!(["1", "2"]));
        assert_eq!(map["bad"], "%zz");
        assert_eq!(map["flag"], "");
    }

    #[test]
    fn a_socket_info_round_trips_through_node_json() {
        let node = serde_json::json!({
            "id": "AAAAAAAAAAAAAAAAAAAA",
            "handshake": {"headers": {"host": "x"}, "time": "t", "address": "::1", "xdomain": false,
                          "secure": false, "issued": 5, "url": "/socket.io/?EIO=4", "query": {"EIO": "4"},
                          "auth": {}, "extra": 1},
            "rooms": ["AAAAAAAAAAAAAAAAAAAA", "r"],
            "data": {"name": "n"}
        });
        let info: SocketInfo = serde_json::from_value(node).unwrap();
        assert_eq!(info.rooms, ["AAAAAAAAAAAAAAAAAAAA", "r"]);
        assert_eq!(info.handshake.issued, 5);
        let back = serde_json::to_value(&info).unwrap();
        assert_eq!(back["data"]["name"], "n");
        assert_eq!(back["handshake"]["url"], "/socket.io/?EIO=4");
    }
}
