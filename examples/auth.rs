//! Authentication in a connection middleware: the client proves who it is with a token, in the
//! CONNECT auth payload (`io({ auth: { token } })`) or in a `session` cookie of the handshake
//! request. Refused clients get `connect_error` with the reason.
//!
//! ```text
//! cargo run --example auth     # 127.0.0.1:3000, or $PORT
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use tower_socketio::extract::{AckSender, Data, Extension, State};
use tower_socketio::{ConnectError, Namespace, SocketIo, SocketRef, Value};

/// The valid tokens and whom they belong to (a database, in a real app).
type Sessions = Arc<HashMap<String, String>>;

/// Who the socket belongs to, stored by the middleware for the handlers.
#[derive(Clone)]
struct User(String);

/// The token from the auth payload, else from the `session` cookie.
fn token(socket: &SocketRef, auth: &Value) -> Option<String> {
    if let Some(token) = auth.get("token").and_then(Value::as_str) {
        return Some(token.to_owned());
    }
    let cookies = socket
        .req_parts()
        .headers
        .get(http::header::COOKIE)?
        .to_str()
        .ok()?;
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "session")
        .map(|(_, value)| value.to_owned())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let sessions: Sessions = Arc::new(HashMap::from([("letmein".to_owned(), "ada".to_owned())]));
    let ns = Namespace::new()
        .middleware(
            |socket: SocketRef, State(sessions): State<Sessions>, Data(auth): Data<Value>| async move {
                let token = token(&socket, &auth).ok_or_else(|| ConnectError::new("not authenticated"))?;
                let user = sessions
                    .get(&token)
                    .ok_or_else(|| ConnectError::new("invalid token").with_data(serde_json::json!({ "retry": false })))?;
                socket.insert_extension(User(user.clone()));
                Ok(())
            },
        )
        .on("hello", |Extension(User(user)): Extension<User>, ack: AckSender| async move {
            let _ = ack.send(&format!("Hello, {user}!"));
        });
    let io = SocketIo::builder().with_state(sessions).ns("/", ns).build();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    io.listen(format!("127.0.0.1:{port}")).await
}
