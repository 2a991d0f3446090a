// Extractors are taken by value: `SocketRef`, not `&SocketRef`.
use tower_socketio::{Namespace, SocketRef};

fn main() {
    let _ns: Namespace = Namespace::new().on("x", |_socket: &SocketRef| async move {});
}
