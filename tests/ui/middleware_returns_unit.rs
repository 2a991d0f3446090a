// A connection middleware answers whether the client may connect.
use tower_socketio::{Namespace, SocketRef};

fn main() {
    let _ns: Namespace = Namespace::new().middleware(|_socket: SocketRef| async move {});
}
